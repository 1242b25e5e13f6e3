//! Builds the Registration Request a DMVPN spoke sends its hub with
//! [`RegistrationRequest`], prints it as hex (ready for `text2pcap` or a test vector) and
//! decodes it again field by field.
//!
//! ```sh
//! cargo run -p dmvpn-nhrp --example registration_request -- \
//!     [SPOKE_NBMA SPOKE_TUNNEL HUB_TUNNEL [HUB_NBMA]]   # 172.16.25.2 192.168.0.2 192.168.0.1
//! ```
//!
//! The bytes are the GRE payload (protocol type 0x2001), laid out as Cisco IOS lays them out
//! (`tests/registration_ios.rs` rebuilds IOS's own requests byte for byte).

use std::error::Error;
use std::net::Ipv4Addr;

use dmvpn_nhrp::{Message, RegistrationRequest};

fn main() -> Result<(), Box<dyn Error>> {
    let args: Vec<Ipv4Addr> = std::env::args()
        .skip(1)
        .map(|a| a.parse())
        .collect::<Result<_, _>>()?;
    let address = |i: usize, default: [u8; 4]| args.get(i).copied().unwrap_or(default.into());
    let mut request = RegistrationRequest::ipv4(
        address(0, [172, 16, 25, 2]),
        address(1, [192, 168, 0, 2]),
        address(2, [192, 168, 0, 1]),
    )
    .request_id(1)
    .holding_time(600)
    .password(b"cisco");
    if let Some(hub_nbma) = args.get(3) {
        request = request.nhs_nbma(*hub_nbma);
    }

    let bytes = request.to_bytes();
    for line in bytes.chunks(16) {
        let hex: Vec<String> = line.iter().map(|b| format!("{b:02x}")).collect();
        println!("{}", hex.join(" "));
    }

    let repr = dmvpn_nhrp::parse(&bytes)?;
    println!("{repr}");
    println!(
        "  from {} (NBMA {}) to {}, hop count {}",
        dmvpn_nhrp::Address(repr.src_proto),
        repr.src_nbma.display(),
        dmvpn_nhrp::Address(repr.dst_proto),
        repr.hop_count
    );
    if let Message::RegistrationRequest(control) = repr.message {
        println!("  flags {}", control.flags.display(repr.op_type()));
        for cie in control.cies.iter() {
            println!(
                "  CIE: prefix length {}, MTU {}, holding time {} s",
                cie.prefix_len, cie.mtu, cie.holding_time
            );
        }
    }
    let extensions: Vec<String> = repr.extension_types().map(|t| format!("{t:?}")).collect();
    println!("  extensions: {}", extensions.join(", "));
    Ok(())
}
