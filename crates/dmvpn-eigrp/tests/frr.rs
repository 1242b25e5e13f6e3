//! Real FRR 8.4.4 eigrpd captures recorded by `tools/lab/eigrp_lab.sh` (testdata/eigrp/frr-*.pcap):
//! adjacency and routes, and the MD5 digests checked with the lab key.
// Test code: a failure should panic with the value in the message.
#![allow(clippy::unwrap_used)]

use std::path::PathBuf;

use dmvpn_eigrp::auth::{self, AuthError, Md5Span, Verified};
use dmvpn_eigrp::tlv::{Authentication, Tlv};
use dmvpn_eigrp::{AuthType, Flags, OpCode, Packet, Repr};

mod common;
use common::{Frame, eigrp_frames};

fn testdata(name: &str) -> PathBuf {
    dmvpn_testkit::testdata("eigrp").join(name)
}

/// The EIGRP frames of the testdata capture `name`, which must hold some.
fn frames_of(name: &str) -> Vec<Frame> {
    let frames = eigrp_frames(&testdata(name));
    assert!(!frames.is_empty(), "{name}");
    frames
}

#[test]
fn plain_adjacency_and_routes() {
    let frames = eigrp_frames(&testdata("frr-plain.pcap"));
    let reprs: Vec<_> = frames
        .iter()
        .map(|f| Repr::parse(&Packet::new_checked(&f.eigrp[..]).unwrap()).unwrap())
        .collect();
    assert!(reprs.iter().all(|r| r.autonomous_system == 123));
    // Each router sends an empty INIT Update, then an EOT Update with its stub and loopback.
    let init = reprs
        .iter()
        .filter(|r| r.opcode == OpCode::UPDATE && r.flags == Flags::INIT)
        .count();
    assert!(init >= 2, "{init} INIT updates");
    let mut routes: Vec<String> = reprs
        .iter()
        .filter(|r| r.opcode == OpCode::UPDATE && r.flags.contains(Flags::EOT))
        .flat_map(|r| {
            r.routes()
                .map(|route| route.destination.to_string())
                .collect::<Vec<_>>()
        })
        .collect();
    routes.sort();
    routes.dedup();
    assert_eq!(
        routes,
        [
            "10.99.11.0/24",
            "10.99.12.0/24",
            "10.99.255.1/32",
            "10.99.255.2/32"
        ]
    );
    // Hellos carry default K values and FRR's software version.
    let hello = reprs.iter().find(|r| r.opcode == OpCode::HELLO).unwrap();
    let Some(Tlv::Parameters(params)) = hello.tlvs.iter().next() else {
        panic!("{hello}")
    };
    assert_eq!((params.k, params.hold_time), ([1, 0, 1, 0, 0, 0], 15));
}

/// The Authentication TLV that must come first in the EIGRP packet `eigrp`.
fn first_authentication(eigrp: &[u8]) -> Authentication<'_> {
    let repr = Repr::parse(&Packet::new_checked(eigrp).unwrap()).unwrap();
    let Some(Tlv::Authentication(a)) = repr.tlvs.iter().next() else {
        panic!("{repr}")
    };
    a
}

#[test]
fn md5_digests_verify_with_the_frr_span() {
    let frames = frames_of("frr-md5.pcap");
    for frame in &frames {
        let a = first_authentication(&frame.eigrp);
        assert_eq!(
            (a.auth_type, a.key_id, a.digest.len()),
            (AuthType::MD5, 1, 16)
        );
        // FRR 8.4 covers only the header and the auth TLV (its Hellos carry Parameters and Software
        // Version after it, so the whole-packet span differs and must not match).
        assert_eq!(
            auth::verify(&frame.eigrp, b"lab-md5-key"),
            Ok(Verified::Md5(Md5Span::Header)),
            "frame {}",
            frame.number
        );
        let header = auth::md5_digest(&frame.eigrp, b"lab-md5-key", Md5Span::Header).unwrap();
        assert_eq!(header, a.digest);
        assert_ne!(
            auth::md5_digest(&frame.eigrp, b"lab-md5-key", Md5Span::Packet).unwrap(),
            a.digest
        );
        assert_eq!(
            auth::verify(&frame.eigrp, b"lab-md5-kez"),
            Err(AuthError::Mismatch)
        );
        // Re-signing with the FRR span reproduces FRR's bytes exactly, checksum included.
        let mut copy = frame.eigrp.clone();
        copy[44..60].fill(0);
        auth::sign(&mut copy, b"lab-md5-key", Md5Span::Header).unwrap();
        assert_eq!(copy, frame.eigrp);
    }
}

#[test]
fn sha256_hellos_decode() {
    let frames = frames_of("frr-sha256.pcap");
    for frame in &frames {
        let a = first_authentication(&frame.eigrp);
        assert_eq!((a.auth_type, a.digest.len()), (AuthType::SHA256, 32));
        // FRR 8.4's SHA-256 digest is not a function of the key and packet (see auth.rs): no key checks.
        assert_eq!(
            auth::verify(&frame.eigrp, b"lab-md5-key"),
            Err(AuthError::Mismatch)
        );
    }
}
