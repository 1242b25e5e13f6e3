//! What `report_html.rs` and `sessions_rules.rs` share: a capture's session report.

use std::path::Path;

use dmvpn::capture::CaptureReader;
use dmvpn::decode::{Decoder, IkeKeys};
use dmvpn::keys::EspKeys;
use dmvpn::session::{Report, SessionBuilder};

/// The report for a capture, with the `esp_sa`, `ikev1_decryption_table` and
/// `ikev2_decryption_table` files beside it.
pub(crate) fn report(capture: &Path) -> Report {
    let keys = capture.with_extension("esp_sa");
    let keys = if keys.exists() {
        EspKeys::from_file(&keys).unwrap()
    } else {
        EspKeys::default()
    };
    let mut ike = IkeKeys::default();
    if let Ok(table) = std::fs::read_to_string(capture.with_extension("ikev1_decryption_table")) {
        ike.extend(dmvpn::keys::parse_ikev1_decryption_table(&table).unwrap());
    }
    if let Ok(table) = std::fs::read_to_string(capture.with_extension("ikev2_decryption_table")) {
        ike.extend_v2(
            dmvpn::keys::parse_ikev2_decryption_table(&table, None)
                .unwrap()
                .0,
        );
    }
    let mut reader = CaptureReader::open(capture).unwrap();
    SessionBuilder::run(&mut reader, &mut Decoder::with_ike_keys(keys, ike)).unwrap()
}
