//! [`RegistrationRequest`] against Cisco IOS: every Registration Request in the real captures of
//! `../shared/captures` (packetlife's `NHRP_registration.cap`; tcpdump's `NHRP_registration.pcap`,
//! with a password, 802.1Q and a GRE key) is rebuilt from its fields with the convenience
//! constructor, and must come out byte for byte as IOS sent it. Skipped when the captures are
//! not there.

// A test: a failed unwrap is a failed test.
#![allow(clippy::unwrap_used)]

use std::net::Ipv4Addr;

use dmvpn_nhrp::{ExtensionType, Flags, Message, RegistrationRequest, extension::Value};

/// The GRE payload of a frame carrying NHRP (protocol type 0x2001), if it is one.
fn nhrp_in_gre(link: u32, frame: &[u8]) -> Option<Vec<u8>> {
    let ip = dmvpn_testkit::ip_payload(link, frame)?;
    let gre = ip.payload;
    if ip.protocol != 47 || gre.get(2..4)? != [0x20, 0x01] {
        return None;
    }
    // Checksum, key and sequence number each add a word (RFC 2890).
    let flags = *gre.first()?;
    let len = 4 + 4 * [0x80, 0x20, 0x10]
        .iter()
        .filter(|bit| flags & *bit != 0)
        .count();
    gre.get(len..).map(<[u8]>::to_vec)
}

/// The constructor fed with what `bytes` (a Registration Request) says.
fn rebuilt(bytes: &[u8]) -> Vec<u8> {
    let repr = dmvpn_nhrp::parse(bytes).unwrap();
    let Message::RegistrationRequest(control) = repr.message else {
        panic!("not a Registration Request: {repr}");
    };
    let ipv4 = |bytes: &[u8]| Ipv4Addr::from(<[u8; 4]>::try_from(bytes).unwrap());
    let cie = control.cies.iter().next().unwrap();
    let mut request = RegistrationRequest::ipv4(
        ipv4(repr.src_nbma.bytes),
        ipv4(repr.src_proto),
        ipv4(repr.dst_proto),
    )
    .request_id(control.request_id)
    .hop_count(repr.hop_count)
    .holding_time(cie.holding_time)
    .mtu(cie.mtu)
    .unique(control.flags.contains(Flags::REGISTRATION_UNIQUE))
    .prefix_len(cie.prefix_len);
    for extension in repr.extension_iter() {
        match extension.value {
            Value::Authentication(auth) => request = request.password(auth.password().unwrap()),
            Value::CiscoNatAddress(cies) => {
                let nhs = cies.iter().next().unwrap();
                request = request.nhs_nbma(ipv4(nhs.nbma.bytes));
            }
            _ => {}
        }
    }
    request.to_bytes()
}

#[test]
fn ios_registration_requests_rebuild_byte_for_byte() {
    let dir = dmvpn_testkit::captures_or_skip!();
    let mut checked = Vec::new();
    for name in [
        "packetlife/NHRP_registration.cap",
        "tcpdump/NHRP_registration.pcap",
    ] {
        let path = dir.join(name);
        if !path.is_file() {
            continue;
        }
        for frame in dmvpn_testkit::frames(&path) {
            let Some(bytes) = nhrp_in_gre(frame.link, &frame.data) else {
                continue;
            };
            let repr = dmvpn_nhrp::parse(&bytes).unwrap();
            if !matches!(repr.message, Message::RegistrationRequest(_)) {
                continue;
            }
            assert_eq!(rebuilt(&bytes), bytes, "{name} frame {}", frame.number);
            let password = repr
                .extension_types()
                .any(|t| t == ExtensionType::AUTHENTICATION);
            checked.push((name, frame.number, password));
        }
    }
    // Two requests per capture; the tcpdump one carries a password.
    if checked
        .iter()
        .any(|(name, ..)| name.starts_with("packetlife"))
    {
        assert_eq!(
            checked
                .iter()
                .filter(|c| c.0.starts_with("packetlife"))
                .count(),
            2
        );
    }
    if checked.iter().any(|(name, ..)| name.starts_with("tcpdump")) {
        assert!(checked.iter().any(|c| c.0.starts_with("tcpdump") && c.2));
    }
    assert!(
        !checked.is_empty(),
        "no Registration Request found in {}",
        dir.display()
    );
}
