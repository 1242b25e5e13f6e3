//! What the session tests share: a capture's session report and its HTML page.

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

/// The HTML report page for `report`, titled `title`.
#[allow(
    dead_code,
    reason = "not every test that shares this module renders the page"
)]
pub(crate) fn html(report: &Report, title: &str) -> String {
    let mut out = Vec::new();
    dmvpn::report::html(report, title, &mut out).unwrap();
    String::from_utf8(out).unwrap()
}
