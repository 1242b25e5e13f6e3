//! Every IKEv2 message of the shared real captures parses, and with the keys of Wireshark's
//! `ikev2_decryption_table` every SK payload decrypts and its ICV is what tshark says.
//!
//! The captures live outside the repository (`../shared/captures`); without them these tests
//! print why and pass.
#![allow(clippy::unwrap_used, clippy::expect_used)] // tests

use std::path::Path;

use dmvpn_isakmp::AnyMessage;
use dmvpn_isakmp::keys::Secret;
use dmvpn_isakmp::v2::crypto::{Encryption, Icv, Integrity, SaKeys};
use dmvpn_isakmp::v2::{Body, ExchangeType, Message, PayloadType};

/// The IKEv2 captures, and the keys of the one whose table is not Wireshark's template.
const WIRESHARK: [&str; 8] = [
    "ikev2-decrypt-3des-sha1_160.pcap",
    "ikev2-decrypt-aes128ccm12-2.pcap",
    "ikev2-decrypt-aes128ccm12.pcap",
    "ikev2-decrypt-aes192ctr.pcap",
    "ikev2-decrypt-aes256cbc.pcapng",
    "ikev2-decrypt-aes256ccm16.pcapng",
    "ikev2-decrypt-aes256gcm16.pcap",
    "ikev2-decrypt-aes256gcm8.pcap",
];

/// tcpdump's `ikev2pI2-secrets.txt` as a table line (MANIFEST.md): its IKE_AUTH carries an ICV that
/// does not verify (tshark: "IKEv2 Integrity Checksum Data is incorrect").
const TCPDUMP_LINE: &str = "0001020304050607,c02e7a3031a03188,3f44bf47cafd8150591deb088199fcbf,\
bedb67ec7dc3d00cccac42e70cd63bde,\"AES-CBC-128 [RFC3602]\",4ea8e662b07cdd430f6944c6723e4b82d5722418,\
515b0bd22e6d76b34fdb760aa7bfad80b109b75d,\"HMAC_SHA1_96 [RFC2404]\"";

fn spi(hex_text: &str) -> [u8; 8] {
    hex::decode(hex_text).unwrap().try_into().unwrap()
}

/// One table line (the test's own minimal reader; the `dmvpn` crate has the real one).
fn keys_of(line: &str) -> SaKeys {
    let fields: Vec<&str> = line.split(',').map(|f| f.trim_matches('"')).collect();
    let secret = |i: usize| Secret::new(hex::decode(fields[i]).unwrap());
    SaKeys {
        initiator_spi: spi(fields[0]),
        responder_spi: spi(fields[1]),
        sk_ei: secret(2),
        sk_er: secret(3),
        encryption: Encryption::from_wireshark(fields[4]).unwrap(),
        sk_ai: secret(5),
        sk_ar: secret(6),
        integrity: Integrity::from_wireshark(fields[7]).unwrap(),
    }
}

/// The UDP payloads (after a non-ESP marker on 4500) of Ethernet and BSD-loopback frames.
fn ike_datagrams(path: &Path) -> Vec<(usize, Vec<u8>)> {
    let mut out = Vec::new();
    for frame in dmvpn_testkit::frames(path) {
        let payload = match frame.link {
            1 => dmvpn_testkit::ip_payload(1, &frame.data).map(|ip| (ip.protocol, ip.payload)),
            // BSD loopback: a 4-byte family, then IPv4.
            0 => frame.data.get(4..).and_then(|ip| {
                let ihl = usize::from(ip.first()? & 0x0f) * 4;
                Some((*ip.get(9)?, ip.get(ihl..)?))
            }),
            _ => None,
        };
        let Some((17, udp)) = payload else { continue };
        let port = |at: usize| u16::from_be_bytes([udp[at], udp[at + 1]]);
        let mut body = &udp[8..];
        if port(0) == 4500 || port(2) == 4500 {
            let Some(rest) = body.strip_prefix(&[0, 0, 0, 0]) else {
                continue;
            };
            body = rest;
        }
        out.push((frame.number, body.to_vec()));
    }
    out
}

/// The keys of Wireshark's `ikev2_decryption_table.tmpl` in `dir`.
fn wireshark_table(dir: &Path) -> Vec<SaKeys> {
    std::fs::read_to_string(dir.join("ikev2_decryption_table.tmpl"))
        .unwrap()
        .lines()
        .filter(|l| !l.starts_with('#') && !l.trim().is_empty())
        .map(keys_of)
        .collect()
}

struct Seen {
    exchange: ExchangeType,
    icv: Icv,
    inner: Vec<PayloadType>,
}

fn decrypt_all(path: &Path, table: &[SaKeys]) -> Vec<Seen> {
    let mut seen = Vec::new();
    for (number, bytes) in ike_datagrams(path) {
        let AnyMessage::V2(message) = AnyMessage::parse(&bytes)
            .unwrap_or_else(|e| panic!("{} frame {number}: {e}", path.display()))
        else {
            panic!("{} frame {number}: not IKEv2", path.display());
        };
        message
            .check()
            .unwrap_or_else(|e| panic!("{} frame {number}: {e}", path.display()));
        let Some(keys) = table.iter().find(|k| {
            k.initiator_spi == message.header.initiator_spi
                && k.responder_spi == message.header.responder_spi
        }) else {
            continue;
        };
        let Some(inner) = message.decrypt(keys) else {
            continue;
        };
        let inner = inner.unwrap_or_else(|e| panic!("{} frame {number}: {e}", path.display()));
        let types = inner
            .payloads()
            .map(|p| {
                let p = p.unwrap_or_else(|e| panic!("{} frame {number}: {e}", path.display()));
                p.decode()
                    .unwrap_or_else(|e| panic!("{} frame {number}: {e}", path.display()));
                p.ty
            })
            .collect();
        seen.push(Seen {
            exchange: message.header.exchange_type,
            icv: inner.decrypted.icv,
            inner: types,
        });
    }
    seen
}

#[test]
fn wireshark_captures_decrypt_and_verify() {
    let dir = dmvpn_testkit::captures_or_skip!();
    let dir = dir.join("wireshark-testsuite/ikev2");
    let table = wireshark_table(&dir);
    assert_eq!(table.len(), 9);
    let mut decrypted = 0;
    for name in WIRESHARK {
        let seen = decrypt_all(&dir.join(name), &table);
        assert!(seen.len() >= 2, "{name}: {} decrypted", seen.len());
        for s in &seen {
            // "ANY 96-bits of Authentication [No Checking]" skips the ICV; every other one verifies.
            let expected = if name.contains("ccm12-2") {
                Icv::Unchecked
            } else {
                Icv::Good
            };
            assert_eq!(s.icv, expected, "{name}");
            if s.exchange == ExchangeType::IKE_AUTH {
                assert!(
                    s.inner.contains(&PayloadType::AUTH) && s.inner.contains(&PayloadType::TSI),
                    "{name}: {:?}",
                    s.inner
                );
            }
        }
        decrypted += seen.len();
    }
    assert_eq!(decrypted, 28);
}

#[test]
fn tcpdump_capture_decrypts_with_a_bad_icv() {
    let dir = dmvpn_testkit::captures_or_skip!();
    let seen = decrypt_all(&dir.join("tcpdump/ikev2pI2.pcap"), &[keys_of(TCPDUMP_LINE)]);
    assert_eq!(seen.len(), 1);
    assert_eq!(seen[0].icv, Icv::Bad);
    assert_eq!(seen[0].inner, [PayloadType::IDI, PayloadType::AUTH]);
}

#[test]
fn a_flipped_bit_fails_the_icv_or_the_tag_but_decrypts() {
    let dir = dmvpn_testkit::captures_or_skip!();
    let dir = dir.join("wireshark-testsuite/ikev2");
    let table = wireshark_table(&dir);
    for name in [
        "ikev2-decrypt-aes256cbc.pcapng",
        "ikev2-decrypt-aes256gcm16.pcap",
    ] {
        let (_, mut bytes) = ike_datagrams(&dir.join(name))
            .into_iter()
            .find(|(_, b)| b[18] == 35)
            .unwrap();
        let last = bytes.len() - 20;
        bytes[last] ^= 1;
        let message = Message::parse(&bytes).unwrap();
        let keys = table
            .iter()
            .find(|k| k.initiator_spi == message.header.initiator_spi)
            .unwrap();
        // CBC: the ICV fails; GCM: the tag fails, and the keystream still gives the plaintext.
        let inner = message.decrypt(keys).unwrap().unwrap();
        assert_eq!(inner.decrypted.icv, Icv::Bad, "{name}");
        assert!(inner.payloads().next().is_some(), "{name}");
        let Body::Sk(_) = message.encrypted_payload().unwrap().decode().unwrap() else {
            panic!("SK")
        };
    }
}
