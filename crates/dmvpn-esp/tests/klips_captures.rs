//! Real ESP traffic from FreeS/WAN/Openswan KLIPS (libreswan and tcpdump test suites), decrypted
//! with the keys listed in `../shared/captures/MANIFEST.md`. Every capture is tunnel mode:
//! each packet must pass its ICV, decrypt to an IPv4 ICMP packet between the test networks, and
//! pass the anti-replay window. The captures are read in place, never copied into the repository;
//! without them the tests print why and pass.

// Helpers outside `#[test]` functions walk the captures: a panic there is a failed test.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use dmvpn_esp::{Destination, Encryption, Inbound, Integrity, NextHeader, Sa, SaTable};

/// The destination address and the ESP packet of an Ethernet/IPv4 frame, directly over IP or
/// UDP-encapsulated on port 4500 (RFC 3948).
fn esp_of(frame: &[u8]) -> Option<([u8; 4], &[u8])> {
    let ip = frame
        .strip_prefix(&[0x08, 0x00][..])
        .or_else(|| (frame[12..14] == [0x08, 0x00]).then(|| &frame[14..]))?;
    let header_len = usize::from(ip[0] & 0x0f) * 4;
    let total_len = usize::from(u16::from_be_bytes([ip[2], ip[3]]));
    let destination: [u8; 4] = ip[16..20].try_into().unwrap();
    let payload = &ip[header_len..total_len];
    match ip[9] {
        50 => Some((destination, payload)),
        17 if payload[2..4] == 4500u16.to_be_bytes() && payload[8..12] != [0; 4] => {
            Some((destination, &payload[8..]))
        }
        _ => None,
    }
}

fn sa(
    spi: u32,
    encryption: Encryption,
    key: &str,
    integrity: Integrity,
    auth_key: &str,
) -> Inbound {
    let sa = Sa::new(
        spi,
        encryption,
        &hex::decode(key).unwrap(),
        integrity,
        &hex::decode(auth_key).unwrap(),
    )
    .unwrap();
    Inbound::new(sa)
}

const KLIPS_3DES: &str = "4043434545464649494a4a4c4c4f4f515152525454575758";
const KLIPS_SHA1: &str = "8765876587658765876587658765876587658765";
const KLIPS_MD5: &str = "87658765876587658765876587658765";
const EAST: [u8; 4] = [192, 1, 2, 45];

/// Decrypts every ESP packet of `capture` with `table` and returns the inner IPv4 packets.
fn decrypt_capture(capture: &str, table: &mut SaTable<Inbound>) -> Option<Vec<Vec<u8>>> {
    let Some(dir) = dmvpn_testkit::captures() else {
        println!("skipped: no shared captures at ../shared/captures");
        return None;
    };
    let mut inner = Vec::new();
    let mut scratch = Vec::new();
    for (index, frame) in dmvpn_testkit::frames(&dir.join(capture)).iter().enumerate() {
        assert_eq!(frame.link, 1, "link type Ethernet");
        let Some((destination, esp)) = esp_of(&frame.data) else {
            continue;
        };
        let spi = u32::from_be_bytes(esp[..4].try_into().unwrap());
        let inbound = table.lookup(spi, Destination::from(destination)).unwrap();
        let decrypted = inbound
            .decrypt(esp, &mut scratch)
            .unwrap_or_else(|err| panic!("{capture} frame {}: {err}", index + 1));
        assert_eq!(
            decrypted.next_header,
            NextHeader::IPV4,
            "{capture} frame {}: tunnel mode",
            index + 1
        );
        assert_eq!(
            decrypted.seq,
            inner.len() as u64 + 1,
            "{capture} frame {}",
            index + 1
        );
        inner.push(decrypted.payload.to_vec());
    }
    Some(inner)
}

/// The inner packets are the ICMP echoes of the KLIPS "sunrise-sunset" tests.
fn assert_icmp_between_test_networks(capture: &str, inner: &[Vec<u8>]) {
    assert_eq!(inner.len(), 8, "{capture}");
    for packet in inner {
        assert_eq!(packet[0] >> 4, 4, "{capture}");
        assert_eq!(packet[9], 1, "{capture}: ICMP");
        assert_eq!(packet[12..16], [192, 0, 2, 1], "{capture}");
        assert_eq!(packet[16..20], [192, 0, 1, 1], "{capture}");
        assert_eq!(
            usize::from(u16::from_be_bytes([packet[2], packet[3]])),
            packet.len(),
            "{capture}"
        );
    }
}

/// Decrypts `capture` with the one SA `sa` bound to `destination` and checks the ICMP inside.
fn assert_one_sa_opens_to_icmp(capture: &str, destination: Destination, sa: Inbound) {
    let mut table = SaTable::new();
    table.insert(sa.sa().spi(), destination, sa);
    if let Some(inner) = decrypt_capture(capture, &mut table) {
        assert_icmp_between_test_networks(capture, &inner);
    }
}

/// Captures that one SA opens to ICMP between the test networks: the capture, whether the SA is
/// bound to EAST (or to any destination), the SPI, the cipher and its key, the integrity transform
/// and its key. The last two carry ESP in UDP (RFC 3948).
#[rustfmt::skip]
const ONE_SA: [(&str, bool, u32, Encryption, &str, Integrity, &str); 6] = [
    ("libreswan-klips/08-sunrise-sunset-esp-sha1.pcap", true, 0xd123_4567, Encryption::TripleDesCbc, KLIPS_3DES, Integrity::HmacSha1_96, KLIPS_SHA1),
    ("tcpdump/02-sunrise-sunset-esp.pcap", true, 0x1234_5678, Encryption::TripleDesCbc, KLIPS_3DES, Integrity::HmacMd5_96, KLIPS_MD5),
    ("libreswan-klips/08-sunrise-sunset-aes128.pcap", false, 0xed12_3456, Encryption::AesCbc, "aaaabbbbccccdddd4043434545464649", Integrity::HmacSha1_96, KLIPS_SHA1),
    ("tcpdump/08-sunrise-sunset-aes.pcap", true, 0xd123_4567, Encryption::AesCbc, "aaaabbbbccccdddd4043434545464649494a4a4c4c4f4f515152525454575758", Integrity::HmacSha1_96, KLIPS_SHA1),
    ("tcpdump/espudp1.pcap", true, 0x1234_5678, Encryption::TripleDesCbc, KLIPS_3DES, Integrity::HmacMd5_96, KLIPS_MD5),
    ("libreswan-klips/08-sunrise-sunset-udpesp-ping.pcap", true, 0x1234_5678, Encryption::TripleDesCbc, KLIPS_3DES, Integrity::HmacMd5_96, KLIPS_MD5),
];

#[test]
fn klips_one_sa_captures() {
    for (capture, east, spi, encryption, key, integrity, integrity_key) in ONE_SA {
        let destination = if east { EAST.into() } else { Destination::Any };
        let sa = sa(spi, encryption, key, integrity, integrity_key);
        assert_one_sa_opens_to_icmp(capture, destination, sa);
    }
}

/// ESP in ESP: the outer tunnel carries IPv4 packets that are themselves ESP to 192.0.1.1.
#[test]
fn klips_nested_esp() {
    let capture = "tcpdump/08-sunrise-sunset-esp2.pcap";
    let mut outer = SaTable::new();
    outer.insert(
        0x1234_5678,
        EAST.into(),
        sa(
            0x1234_5678,
            Encryption::TripleDesCbc,
            "43434545464649494a4a4c4c4f4f51515252545457575840",
            Integrity::HmacMd5_96,
            "65876587658765876587658765876587",
        ),
    );
    let Some(tunnelled) = decrypt_capture(capture, &mut outer) else {
        return;
    };
    let mut inner_sa = sa(
        0xabcd_abcd,
        Encryption::TripleDesCbc,
        "434545464649494a4a4c4c4f4f5151525254545757584043",
        Integrity::HmacMd5_96,
        KLIPS_MD5,
    );
    let mut scratch = Vec::new();
    let mut inner = Vec::new();
    for packet in &tunnelled {
        let (destination, esp) = esp_of(&[&[0x08, 0x00][..], packet].concat())
            .map(|(d, e)| (d, e.to_vec()))
            .unwrap();
        assert_eq!(destination, [192, 0, 1, 1]);
        let decrypted = inner_sa.decrypt(&esp, &mut scratch).unwrap();
        assert_eq!(decrypted.next_header, NextHeader::IPV4);
        inner.push(decrypted.payload.to_vec());
    }
    assert_icmp_between_test_networks(capture, &inner);
}

/// A wrong key is caught by the ICV, and the right one then still works (the window did not move).
#[test]
fn wrong_key_fails_the_icv_and_leaves_the_window() {
    let capture = "tcpdump/08-sunrise-sunset-aes.pcap";
    let mut table = SaTable::new();
    let wrong = "0000bbbbccccdddd4043434545464649494a4a4c4c4f4f515152525454575758";
    table.insert(
        0xd123_4567,
        EAST.into(),
        sa(
            0xd123_4567,
            Encryption::AesCbc,
            wrong,
            Integrity::HmacSha1_96,
            &KLIPS_SHA1.replace("87", "78"),
        ),
    );
    let dir = dmvpn_testkit::captures_or_skip!();
    let frames = dmvpn_testkit::frames(&dir.join(capture));
    let (destination, esp) = esp_of(&frames[0].data).unwrap();
    let inbound = table.lookup(0xd123_4567, destination.into()).unwrap();
    let err = inbound.decrypt(esp, &mut Vec::new()).unwrap_err();
    assert_eq!(
        err.to_string(),
        "esp: integrity check failed for spi 0xd1234567 sequence number 1"
    );
    assert_eq!(inbound.window().top(), 0);
}
