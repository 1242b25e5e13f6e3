//! The key files that come with the shared captures are read line by line, and the SAs they give
//! decrypt every ESP packet of the captures they belong to (ICV checked), including ESP in UDP.
//! A synthetic DMVPN corpus from `../shared/bench/gen_corpus.py --keys-out` is decrypted the same
//! way. Skips with a printed reason when a file or tool is missing.

// A panic with a message is how an integration test reports a failure.
#![allow(clippy::expect_used, clippy::unwrap_used)]

use std::io::Read;
use std::net::IpAddr;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use dmvpn::capture::link::{self, EtherType};
use dmvpn::capture::{CaptureReader, Reassembler, Reassembly, ipv4, udp};
use dmvpn::keys::{AddrPattern, EspKeys, KeyDisplay, SpiPattern};
use dmvpn_esp::{Encryption, Integrity};

fn shared() -> Option<PathBuf> {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../../shared");
    if dir.join("captures").is_dir() {
        Some(dir)
    } else {
        println!("skipped: {} is not there", dir.display());
        None
    }
}

fn open(path: &Path) -> Box<dyn Read> {
    if path.extension().is_some_and(|ext| ext == "gz") {
        let output = Command::new("gzip")
            .arg("-dc")
            .arg(path)
            .output()
            .expect("gzip");
        return Box::new(std::io::Cursor::new(output.stdout));
    }
    Box::new(std::fs::File::open(path).expect("capture"))
}

/// Counts (ESP packets, decrypted with a good ICV, of which next header is `inner`).
fn decrypt_all(capture: &Path, keys: &mut EspKeys, inner: u8) -> (usize, usize, usize) {
    let mut reader = CaptureReader::new(open(capture)).expect("capture header");
    let (mut esp, mut good, mut matching) = (0, 0, 0);
    let mut scratch = Vec::new();
    let mut reassembler = Reassembler::default();
    while let Some(frame) = reader.next_frame().expect("frame") {
        let Ok(decoded) = link::decode(frame.link_type, frame.data) else {
            continue;
        };
        if decoded.ethertype != EtherType::IPV4 {
            continue;
        }
        let packet = ipv4::Packet::new_checked(decoded.payload).expect("ipv4");
        let header = ipv4::Repr::parse(&packet, ipv4::ChecksumMode::Ignore).expect("ipv4 header");
        let (Reassembly::Unfragmented(payload) | Reassembly::Complete { payload, .. }) =
            reassembler.push(frame.timestamp, frame.number, &header, packet.payload())
        else {
            continue;
        };
        let bytes = match header.protocol {
            ipv4::Protocol::ESP => payload,
            ipv4::Protocol::UDP => {
                let datagram = udp::Packet::new_checked(payload).expect("udp");
                match udp::classify(datagram.src_port(), datagram.dst_port(), datagram.payload()) {
                    udp::Payload::Esp(bytes) => bytes,
                    _ => continue,
                }
            }
            _ => continue,
        };
        esp += 1;
        let spi = u32::from_be_bytes(bytes[..4].try_into().expect("spi"));
        let Some(sa) = keys.sa(IpAddr::V4(header.src), IpAddr::V4(header.dst), spi) else {
            continue;
        };
        if let Ok(plain) = sa.decrypt(bytes, &mut scratch) {
            good += 1;
            matching += usize::from(plain.next_header.0 == inner);
        }
    }
    (esp, good, matching)
}

#[test]
fn wireshark_template() {
    let Some(shared) = shared() else { return };
    let path = shared.join("captures/wireshark-testsuite/esp_sa.tmpl");
    let mut keys = EspKeys::from_file(&path).expect("esp_sa.tmpl");
    assert_eq!(keys.len(), 2);
    let first = &keys.entries()[0];
    assert_eq!(
        first.src,
        AddrPattern::V4 {
            addr: [192, 168, 0, 1].into(),
            mask: [255; 4].into()
        }
    );
    assert_eq!(
        first.spi,
        SpiPattern {
            value: 0x0708_83c2,
            mask: u32::MAX
        }
    );
    assert_eq!(
        (first.encryption, first.integrity),
        (Encryption::AesCbc, Integrity::HmacSha1_96)
    );
    // Written back with keys shown, each line is the file's line.
    let text = std::fs::read_to_string(&path).expect("read");
    for (sa, line) in keys.entries().iter().zip(text.lines()) {
        assert_eq!(sa.to_line(KeyDisplay::Shown), line);
        assert!(!format!("{sa:?}").contains("5de1a4c2"));
    }
    let capture = shared.join("captures/wireshark-testsuite/esp-bug-12671.pcapng.gz");
    // Tunnel mode: the inner packet is IPv4 (next header 4).
    assert_eq!(decrypt_all(&capture, &mut keys, 4), (6, 6, 6));
}

#[test]
fn libreswan_verified_keys_every_line() {
    let Some(shared) = shared() else { return };
    let dir = shared.join("captures/libreswan-klips");
    let text = std::fs::read_to_string(dir.join("esp_sa.verified")).expect("esp_sa.verified");
    let mut keys = EspKeys::parse(&text).expect("active lines");
    assert_eq!(keys.len(), 3);
    // The commented-out SAs (same SPIs, other keys) parse too, each on its own.
    let commented: Vec<&str> = text
        .lines()
        .filter_map(|line| line.strip_prefix("#\""))
        .collect();
    assert_eq!(commented.len(), 3);
    let mut alternatives = Vec::new();
    for line in commented {
        alternatives.push(EspKeys::parse(&format!("\"{line}")).expect("commented SA"));
    }
    for (capture, inner) in [
        ("libreswan-klips/08-sunrise-sunset-aes128.pcap", 4),
        ("libreswan-klips/08-sunrise-sunset-esp-sha1.pcap", 4),
        ("libreswan-klips/08-sunrise-sunset-udpesp-ping.pcap", 4),
        ("tcpdump/02-sunrise-sunset-esp.pcap", 4),
        ("tcpdump/espudp1.pcap", 4),
    ] {
        let (esp, good, matching) =
            decrypt_all(&shared.join("captures").join(capture), &mut keys, inner);
        assert_eq!((esp, good, matching), (8, 8, 8), "{capture}");
    }
    // AES-256 (the first commented SA) decrypts 08-sunrise-sunset-aes.pcap.
    let capture = shared.join("captures/tcpdump/08-sunrise-sunset-aes.pcap");
    assert_eq!(decrypt_all(&capture, &mut alternatives[0], 4), (8, 8, 8));
    // ESP in ESP with the second commented SA: the outer tunnel's plaintext is the IPv4 packet
    // that carries the inner ESP.
    let capture = shared.join("captures/tcpdump/08-sunrise-sunset-esp2.pcap");
    assert_eq!(decrypt_all(&capture, &mut alternatives[1], 4), (8, 8, 8));
}

#[test]
fn project_and_generated_key_files() {
    let dmvpn = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../testdata/dmvpn");
    if dmvpn.join("phase1.esp_sa").is_file() {
        let mut keys = EspKeys::from_file(dmvpn.join("phase1.esp_sa")).expect("phase1.esp_sa");
        assert!(!keys.is_empty());
        let (esp, good, gre) = decrypt_all(&dmvpn.join("phase1.pcap"), &mut keys, 47);
        // tools/gen_testdata.py corrupts the ICV of exactly one packet.
        assert!(
            esp > 0 && good == esp - 1 && gre == good,
            "phase1: {esp} ESP, {good} decrypted, {gre} GRE"
        );
    } else {
        println!("skipped: testdata/dmvpn/phase1.esp_sa is not there");
    }
    let Some(shared) = shared() else { return };
    let generator = shared.join("bench/gen_corpus.py");
    let dir = std::env::temp_dir().join(format!("dmvpn-keys-test-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    let (pcap, esp_sa) = (dir.join("corpus.pcap"), dir.join("corpus.esp_sa"));
    let status = Command::new("python3")
        .arg(&generator)
        .args(["--packets", "1500", "--spokes", "6", "--out"])
        .arg(&pcap)
        .arg("--keys-out")
        .arg(&esp_sa)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status();
    if !status.is_ok_and(|s| s.success()) {
        println!(
            "skipped: {} did not run (python3 with scapy and cryptography needed)",
            generator.display()
        );
        return;
    }
    let mut keys = EspKeys::from_file(&esp_sa).expect("generated esp_sa");
    assert_eq!(keys.len(), 12, "two SAs per spoke");
    assert!(
        keys.entries()
            .iter()
            .any(|sa| sa.encryption == Encryption::TripleDesCbc)
    );
    let (esp, good, gre) = decrypt_all(&pcap, &mut keys, 47);
    assert!(esp > 1000, "{esp} ESP packets");
    assert_eq!((good, gre), (esp, esp), "every ESP packet decrypts to GRE");
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn damaged_key_files_never_panic() {
    let Some(shared) = shared() else { return };
    let mut seed = 0x2545_f491_4f6c_dd1du64;
    let mut next = move || {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        seed
    };
    for name in [
        "captures/libreswan-klips/esp_sa.verified",
        "captures/wireshark-testsuite/esp_sa.tmpl",
    ] {
        let original = std::fs::read(shared.join(name)).expect("key file");
        for _ in 0..500 {
            let mut bytes = original.clone();
            for _ in 0..=next() % 4 {
                let at = (next() % bytes.len() as u64) as usize;
                match next() % 4 {
                    0 => bytes[at] = b"\",*/0x\r\n#\\"[(next() % 10) as usize],
                    1 => bytes[at] ^= 1 << (next() % 8),
                    2 => bytes.truncate(at),
                    _ => {
                        bytes.remove(at);
                    }
                }
                if bytes.is_empty() {
                    break;
                }
            }
            dmvpn::keys::fuzzing::parse_esp_sa(&bytes);
        }
    }
}
