//! Every ISAKMP message of the shared real captures parses, and the keyed ones decrypt.
//!
//! The captures live outside the repository (`../shared/captures`); without them these tests
//! print why and pass.
#![allow(clippy::unwrap_used, clippy::expect_used)] // tests

mod common;

use common::{CAPTURES, decode_capture, decryption_table};
use dmvpn_isakmp::consts::HashAlgorithm;
use dmvpn_isakmp::keys::nat_d_hash;
use dmvpn_isakmp::payload::{Body, Payloads};
use dmvpn_isakmp::{Error, Message, PayloadType};

#[test]
fn every_message_parses_and_decodes() {
    let dir = dmvpn_testkit::captures_or_skip!();
    let keys = decryption_table(&dir);
    let mut total = 0;
    for name in CAPTURES {
        let decoded = decode_capture(&dir.join(name), &keys);
        assert!(!decoded.is_empty(), "{name}: no ISAKMP");
        for message in &decoded {
            let types = message
                .types
                .as_ref()
                .unwrap_or_else(|e| panic!("{name} frame {}: {e}", message.frame));
            if !message.header.flags.encryption() || message.plaintext.is_some() {
                assert!(!types.is_empty(), "{name} frame {}", message.frame);
            }
            assert!(
                !message.summary.contains('<'),
                "{name} frame {}: {}",
                message.frame,
                message.summary
            );
            total += 1;
        }
    }
    assert_eq!(total, 10 + 16 + 10 + 9 + 9 + 6 + 11 + 15);
}

/// Decrypted payload types per frame, as tshark 4.0.17 prints `isakmp.typepayload` with Wireshark's
/// `ikev1_decryption_table.tmpl` (`testdata/isakmp/tshark_ikev1_types.txt`), except where noted.
#[test]
fn keyed_captures_decrypt_like_tshark() {
    let dir = dmvpn_testkit::captures_or_skip!();
    let keys = decryption_table(&dir);
    let tshark =
        std::fs::read_to_string(dmvpn_testkit::testdata("isakmp/tshark_ikev1_types.txt")).unwrap();
    type Frames = Vec<(usize, Vec<u8>)>;
    let mut cases: Vec<(&str, Frames)> = Vec::new();
    for line in tshark.lines() {
        let [name, frame, types] = line.split_whitespace().collect::<Vec<_>>()[..] else {
            panic!("tshark_ikev1_types.txt: {line:?}")
        };
        let frame: usize = frame.parse().unwrap();
        let mut types: Vec<u8> = types.split(',').map(|t| t.parse().unwrap()).collect();
        if name == "wireshark-testsuite/ikev1-certs.pcap" && frame == 8 {
            // A retransmission of frame 7: tshark chains the IV from frame 7 and reports it
            // malformed; the IV it was first sent with decrypts it.
            assert_eq!(types, [8]);
            types = vec![8, 1, 2, 3, 10, 4, 5, 5];
        }
        match cases.last_mut() {
            Some((last, frames)) if *last == name => frames.push((frame, types)),
            _ => cases.push((name, vec![(frame, types)])),
        }
    }
    assert_eq!(cases.len(), 3);
    for (name, expected) in cases {
        let decoded = decode_capture(&dir.join(name), &keys);
        let encrypted: Vec<_> = decoded
            .iter()
            .filter(|d| d.header.flags.encryption())
            .collect();
        assert_eq!(encrypted.len(), expected.len(), "{name}");
        for (message, (frame, types)) in encrypted.iter().zip(&expected) {
            assert_eq!(message.frame, *frame, "{name}");
            assert!(
                message.plaintext.is_some(),
                "{name} frame {frame} not decrypted"
            );
            assert_eq!(
                message.types.as_deref(),
                Ok(&types[..]),
                "{name} frame {frame}: {}",
                message.summary
            );
        }
    }
}

#[test]
fn ikev1_bug_12610_quick_mode_negotiates_the_esp_sas_of_esp_bug_12671() {
    let dir = dmvpn_testkit::captures_or_skip!();
    let keys = decryption_table(&dir);
    let decoded = decode_capture(
        &dir.join("wireshark-testsuite/ikev1-bug-12610.pcapng.gz"),
        &keys,
    );
    let mut spis = Vec::new();
    for message in decoded.iter().filter(|d| d.frame == 14 || d.frame == 15) {
        let plain = message.plaintext.as_ref().unwrap();
        for payload in Payloads::decrypted(message.header.next_payload, plain, 28) {
            if let Body::Sa(sa) = payload.unwrap().decode(message.context).unwrap() {
                let chosen = sa.proposals().next().unwrap().unwrap();
                spis.push(chosen.spi_u32().unwrap());
            }
        }
    }
    assert_eq!(spis, [0x070883c2, 0xc254fe64]);
    assert!(
        decoded[13].summary.contains("ESP (3) spi=0x070883c2"),
        "{}",
        decoded[13].summary
    );
    assert!(
        decoded[6].summary.contains("XAUTH-USER-NAME"),
        "{}",
        decoded[6].summary
    );
}

#[test]
fn packetlife_draft_nat_d_typed_15() {
    let dir = dmvpn_testkit::captures_or_skip!();
    let decoded = decode_capture(&dir.join("packetlife/ISAKMP_sa_setup.cap"), &[]);
    for message in &decoded[2..4] {
        // tshark 4.0 decodes these as GDOI SA KEK and calls the frame malformed.
        assert_eq!(
            message.types.as_deref(),
            Ok(&[4, 10, 13, 13, 13, 13, 15, 15][..])
        );
        assert_eq!(
            message.context.nat_d,
            Some(PayloadType::SAK),
            "draft-07 agreed in frames 1-2"
        );
        assert_eq!(
            message.summary.matches("NAT-D(0x").count(),
            2,
            "{}",
            message.summary
        );
    }
}

#[test]
fn summaries() {
    let dir = dmvpn_testkit::captures_or_skip!();
    let keys = decryption_table(&dir);
    let decoded = decode_capture(&dir.join("wireshark-testsuite/ikev1-certs.pcap"), &keys);
    // tshark agrees: isakmp.hash of frame 10 is 0b4f60a7a6e2878b515d1e30554be720.
    assert_eq!(
        decoded[9].summary,
        "ISAKMP Quick Mode i=fafaeb49382a763c r=36e65ad2f66f4403 mid=0xf2cfe203 flags=0x01 [E] decrypted: \
         HASH(0x0b4f60a7a6e2878b515d1e30554be720)"
    );
    let decoded = decode_capture(&dir.join("tcpdump/isakmp4500.pcap"), &[]);
    assert!(
        decoded
            .last()
            .unwrap()
            .summary
            .ends_with("encrypted 48 bytes"),
        "{}",
        decoded.last().unwrap().summary
    );
}

#[test]
fn truncated_real_messages() {
    let dir = dmvpn_testkit::captures_or_skip!();
    for name in CAPTURES {
        for datagram in common::isakmp(&dir.join(name)).iter().take(4) {
            let bytes = &datagram.payload;
            let length = bytes.len();
            for len in 0..length {
                let err = Message::parse(&bytes[..len]).unwrap_err();
                if len >= 28 {
                    assert_eq!(
                        err,
                        Error::bad_length(dmvpn_wire::Layer::Isakmp, "length", 24, length, len)
                    );
                }
            }
            // Cutting the chain instead (length field adjusted) is an exact error too, never a panic.
            let message = Message::parse(bytes).unwrap();
            if let Some(payloads) = message.payloads() {
                let full: Vec<_> = payloads.collect();
                assert!(full.iter().all(Result::is_ok));
                for cut in 0..message.body.len() {
                    let chain =
                        Payloads::new(message.header.next_payload, &message.body[..cut], 28);
                    assert!(
                        chain.check().is_err(),
                        "{name} frame {} cut at {cut}",
                        datagram.frame
                    );
                }
            }
        }
    }
}

/// RFC 3947 §3.2: the first NAT-D payload hashes the destination, the second the source; with no NAT
/// in between (these captures) both match the addresses on the wire.
#[test]
fn nat_d_hashes_match_the_addresses() {
    let dir = dmvpn_testkit::captures_or_skip!();
    let mut checked = 0;
    for name in [
        "zeek-spicy-ipsec/ipsec-ikev1-isakmp-main-mode.pcap",
        "wireshark-testsuite/ikev1-bug-12610.pcapng.gz",
    ] {
        for datagram in common::isakmp(&dir.join(name)) {
            let message = Message::parse(&datagram.payload).unwrap();
            let Some(payloads) = message.payloads() else {
                continue;
            };
            let h = message.header;
            let hashes: Vec<&[u8]> = payloads
                .map(Result::unwrap)
                .filter(|p| p.ty == PayloadType::NAT_D)
                .map(|p| p.body)
                .collect();
            if hashes.is_empty() {
                continue;
            }
            let alg = if hashes[0].len() == 20 {
                HashAlgorithm::SHA1
            } else {
                HashAlgorithm::SHA2_256
            };
            let dst = nat_d_hash(
                alg,
                h.initiator_cookie,
                h.responder_cookie,
                &datagram.dst_ip,
                datagram.dst_port,
            );
            let src = nat_d_hash(
                alg,
                h.initiator_cookie,
                h.responder_cookie,
                &datagram.src_ip,
                datagram.src_port,
            );
            assert_eq!(
                hashes,
                [dst.unwrap(), src.unwrap()],
                "{name} frame {}",
                datagram.frame
            );
            checked += 1;
        }
    }
    assert_eq!(checked, 4);
}
