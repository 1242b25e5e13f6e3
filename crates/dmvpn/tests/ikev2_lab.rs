//! The real strongSwan IKEv2 recordings of `testdata/ikev2/lab/` (made by
//! `tools/lab/ikev2_lab.sh`: two charon 5.9.8 instances, IKEv2 PSK, a Child SA for GRE, Child SA
//! and IKE SA rekeys, DPD, Delete; five proposals, one with PFS, and a transport-mode attempt).
//!
//! 1. Against tshark with the same keys (Wireshark's 8-column `ikev2_decryption_table` and the
//!    `esp_sa` charon logged), frame by frame: every IKEv2 frame's exchange type, message ID,
//!    flags and payload types (decrypted chain included) agree, every encrypted message decrypts
//!    with its ICV verified in both, and every ESP packet tshark decrypts to GRE dmvpn decrypts
//!    to GRE with a good ICV.
//! 2. The ESP keys dmvpn derives from SK_d (the table's 9th column) equal the keys charon logged,
//!    for every Child SA made without PFS; with PFS the new Diffie-Hellman secret is not in the
//!    capture and nothing is derived.
//! 3. With only the 9-column table (no `esp_sa`), dmvpn decrypts every ESP packet of the Child
//!    SAs made without PFS, and reports the others as having no key.
//!
//! Without tshark the first part prints why it skips (`DMVPN_REQUIRE_TSHARK=1` fails instead).

// A test: a failed unwrap is a failed test with its reason.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::BTreeMap;
use std::ffi::OsStr;
use std::path::{Path, PathBuf};
use std::process::Command;

use dmvpn::keys::parse_ikev2_decryption_table;
use dmvpn_isakmp::v2::child::ChildTracker;
use dmvpn_isakmp::v2::{self, ExchangeType};
use dmvpn_testkit::{frames, ip_payload, stdout_of, testdata, tshark_available, tshark_fields};
use serde_json::Value;

/// The scenarios recorded: (name, ESP packets, ESP packets of Child SAs made with PFS).
const SCENARIOS: [(&str, usize, usize); 6] = [
    ("aes256-sha256-modp2048", 12, 0),
    ("aes128-sha1-modp1024", 12, 0),
    ("aes128gcm16-ecp256", 12, 0),
    ("3des-sha1-modp1024", 12, 0),
    ("pfs", 12, 8),
    ("transport", 0, 0),
];

fn file(scenario: &str, ext: &str) -> PathBuf {
    testdata("ikev2/lab").join(format!("{scenario}.{ext}"))
}

/// The key lines of a UAT file.
fn lines(path: &Path) -> Vec<String> {
    std::fs::read_to_string(path)
        .unwrap()
        .lines()
        .filter(|l| !l.trim().is_empty() && !l.starts_with('#'))
        .map(str::to_owned)
        .collect()
}

/// `dmvpn decode --format json` with the key files given: each frame's layers by frame number.
fn decode(capture: &Path, keys: &[PathBuf]) -> BTreeMap<u64, Vec<Value>> {
    let keys = keys
        .iter()
        .flat_map(|key| [OsStr::new("--keys"), key.as_os_str()]);
    let args = [
        OsStr::new("decode"),
        capture.as_os_str(),
        OsStr::new("--format"),
    ];
    let json = stdout_of(
        Command::new(env!("CARGO_BIN_EXE_dmvpn"))
            .args(args)
            .arg("json")
            .args(keys),
    );
    json.lines()
        .map(|line| {
            let frame: Value = serde_json::from_str(line).unwrap();
            let layers = frame["layers"].as_array().unwrap().clone();
            (frame["frame"].as_u64().unwrap(), layers)
        })
        .collect()
}

fn layer<'a>(layers: &'a [Value], proto: &str) -> Option<&'a Value> {
    layers.iter().find(|l| l["proto"] == proto)
}

/// A hex (`0x..`) or decimal number as a number.
fn number(text: &str) -> u64 {
    text.strip_prefix("0x").map_or_else(
        || text.parse().unwrap(),
        |hex| u64::from_str_radix(hex, 16).unwrap(),
    )
}

/// One scenario against tshark; returns (IKEv2 frames, decrypted, ESP packets to GRE).
fn against_tshark(scenario: &str) -> (usize, usize, usize) {
    let (table, esp_sa) = (
        file(scenario, "ikev2_decryption_table"),
        file(scenario, "esp_sa"),
    );
    let capture = file(scenario, "pcap");
    let mut args = Vec::new();
    for line in lines(&table) {
        args.extend([
            "-o".to_owned(),
            format!("uat:ikev2_decryption_table:{line}"),
        ]);
    }
    for line in lines(&esp_sa) {
        args.extend(["-o".to_owned(), format!("uat:esp_sa:{line}")]);
    }
    args.extend(
        [
            "-o",
            "esp.enable_encryption_decode:TRUE",
            "-n",
            "-Y",
            "isakmp || esp",
        ]
        .map(String::from),
    );
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let fields = [
        "frame.number",
        "isakmp.exchangetype",
        "isakmp.messageid",
        "isakmp.flags",
        "isakmp.typepayload",
        "isakmp.enc.decrypted",
        "_ws.expert.message",
        "gre.proto",
    ];
    let ours = decode(&capture, &[table, esp_sa]);
    let (mut ike, mut decrypted, mut gre) = (0, 0, 0);
    for row in tshark_fields(&capture, &args, &fields) {
        let at = format!("{scenario} frame {}", row[0]);
        let layers = &ours[&number(&row[0])];
        if let Some(esp) = layer(layers, "esp") {
            assert!(!row[7].is_empty(), "{at}: tshark did not decrypt the ESP");
            assert_eq!(esp["decrypted"], true, "{at}: {esp}");
            assert_eq!(esp["icv"], "good", "{at}: {esp}");
            assert!(layer(layers, "gre").is_some(), "{at}: no GRE inside");
            gre += 1;
            continue;
        }
        let ours = layer(layers, "isakmp").unwrap_or_else(|| panic!("{at}: no IKE layer"));
        assert_eq!(ours["version"], 2, "{at}");
        let theirs_payloads: Vec<u64> = row[4]
            .split(',')
            .filter(|s| !s.is_empty())
            .map(number)
            .collect();
        let our_payloads: Vec<u64> = ours["payloads"]
            .as_array()
            .unwrap()
            .iter()
            .map(|t| t.as_u64().unwrap())
            .collect();
        assert_eq!(
            (
                ours["exchange"].as_u64().unwrap(),
                number(ours["message_id"].as_str().unwrap()),
                number(ours["flags"].as_str().unwrap()),
                &our_payloads,
            ),
            (
                number(&row[1]),
                number(&row[2]),
                number(&row[3]),
                &theirs_payloads
            ),
            "{at}: {ours}"
        );
        assert!(ours.get("payload_error").is_none(), "{at}: {ours}");
        assert!(
            !row[6].contains("Integrity Checksum Data is incorrect"),
            "{at}: tshark ICV"
        );
        if ours["encrypted"] == true {
            assert!(!row[5].is_empty(), "{at}: tshark did not decrypt");
            assert_eq!(
                (&ours["decrypted"], &ours["icv"]),
                (&Value::Bool(true), &Value::from("good")),
                "{at}: {ours}"
            );
            decrypted += 1;
        }
        ike += 1;
    }
    (ike, decrypted, gre)
}

#[test]
fn lab_recordings_match_tshark() {
    if !tshark_available() {
        return;
    }
    let (mut ike, mut decrypted, mut esp) = (0, 0, 0);
    for (scenario, esp_packets, _) in SCENARIOS {
        let (i, d, e) = against_tshark(scenario);
        assert_eq!(e, esp_packets, "{scenario}: ESP packets decrypted to GRE");
        assert!(
            i >= 14 && d + 2 == i,
            "{scenario}: {i} IKEv2 frames, {d} decrypted"
        );
        (ike, decrypted, esp) = (ike + i, decrypted + d, esp + e);
    }
    eprintln!(
        "{ike} IKEv2 frames ({decrypted} decrypted, ICV good) and {esp} ESP packets: as tshark"
    );
}

/// The ESP SAs of an `esp_sa` file charon's log gave: SPI -> (encryption key, integrity key).
fn logged(scenario: &str) -> BTreeMap<u32, (String, String)> {
    lines(&file(scenario, "esp_sa"))
        .iter()
        .map(|line| {
            let f: Vec<&str> = line.split(',').map(|f| f.trim_matches('"')).collect();
            let hex = |s: &str| s.trim_start_matches("0x").to_owned();
            (number(f[3]) as u32, (hex(f[5]), hex(f[7])))
        })
        .collect()
}

/// Follows the IKEv2 exchanges of a recording with its 9-column table and derives every Child
/// SA's keys: SPI -> (encryption key, integrity key), and how many Child SAs had PFS.
fn derived(scenario: &str) -> (BTreeMap<u32, (String, String)>, usize) {
    let text = std::fs::read_to_string(file(scenario, "sk_d.ikev2_decryption_table")).unwrap();
    let (table, warnings) = parse_ikev2_decryption_table(&text, None).unwrap();
    assert!(warnings.is_empty(), "{warnings:?}");
    let mut tracker = ChildTracker::default();
    let (mut out, mut pfs) = (BTreeMap::new(), 0);
    for frame in frames(&file(scenario, "pcap")) {
        let Some(ip) = ip_payload(frame.link, &frame.data) else {
            continue;
        };
        if ip.protocol != 17 || ip.payload.len() < 8 {
            continue;
        }
        let port = u16::from_be_bytes([ip.payload[2], ip.payload[3]]);
        let udp = &ip.payload[8..];
        let bytes = match port {
            500 => udp,
            4500 if udp.starts_with(&[0; 4]) => &udp[4..],
            _ => continue,
        };
        let message = v2::Message::parse(bytes).unwrap();
        let header = &message.header;
        let key = table.iter().find(|k| {
            (k.keys.initiator_spi, k.keys.responder_spi)
                == (header.initiator_spi, header.responder_spi)
        });
        let negotiated = if header.exchange_type == ExchangeType::IKE_SA_INIT {
            tracker.observe(header, message.payloads())
        } else {
            let Some(key) = key else { continue };
            let inner = message.decrypt(&key.keys).unwrap().unwrap();
            tracker.observe(header, inner.payloads())
        };
        let Some(child) = negotiated else { continue };
        let Some(keys) = child.keys(key.unwrap().sk_d.as_ref().unwrap()) else {
            assert!(child.pfs, "{scenario}: no keys without PFS");
            pfs += 1;
            continue;
        };
        let hex = |s: &dmvpn_isakmp::keys::Secret| s.to_hex();
        let [initiator_spi, responder_spi] = child.spis;
        let to_responder = (hex(&keys.encryption_i), hex(&keys.integrity_i));
        out.insert(responder_spi, to_responder);
        out.insert(
            initiator_spi,
            (hex(&keys.encryption_r), hex(&keys.integrity_r)),
        );
    }
    (out, pfs)
}

#[test]
fn keys_derived_from_sk_d_equal_charons() {
    let mut compared = 0;
    for (scenario, esp_packets, pfs_packets) in SCENARIOS {
        let logged = logged(scenario);
        let (derived, pfs) = derived(scenario);
        for (spi, keys) in &derived {
            assert_eq!(Some(keys), logged.get(spi), "{scenario}: SPI {spi:08x}");
            compared += 1;
        }
        // every Child SA: the first and the rekeyed one, unless the first was refused (transport)
        let children = if esp_packets == 0 { 0 } else { 2 };
        assert_eq!(derived.len() / 2 + pfs, children, "{scenario}: Child SAs");
        assert_eq!(
            pfs,
            usize::from(pfs_packets > 0),
            "{scenario}: Child SAs with PFS"
        );
    }
    assert_eq!(compared, 18, "ESP SAs compared");
}

#[test]
fn esp_decrypts_with_sk_d_alone() {
    for (scenario, esp_packets, pfs_packets) in SCENARIOS {
        let ours = decode(
            &file(scenario, "pcap"),
            &[file(scenario, "sk_d.ikev2_decryption_table")],
        );
        let (mut decrypted, mut no_key) = (0, 0);
        for (frame, layers) in &ours {
            let Some(esp) = layer(layers, "esp") else {
                continue;
            };
            if esp["decrypted"] == true {
                assert_eq!(esp["icv"], "good", "{scenario} frame {frame}: {esp}");
                assert!(layer(layers, "gre").is_some(), "{scenario} frame {frame}");
                decrypted += 1;
            } else {
                no_key += 1;
            }
        }
        assert_eq!(
            (decrypted, no_key),
            (esp_packets - pfs_packets, pfs_packets),
            "{scenario}: ESP decrypted from SK_d, and without a key (PFS)"
        );
    }
}
