//! The pre-shared key check of `dmvpn sessions` (RFC 2409 §5 HASH_I / HASH_R): on the strongSwan
//! lab recordings (PSK `lab-psk-secret`, tools/lab/ike_lab.sh) and the trigger captures of
//! `testdata/sessions` (tools/gen/gen_sessions_triggers.py: the hub's key is `lab-psk-secret`, spoke B
//! uses `lab-psk-secret-old` in `ike-psk-mismatch.pcap`), the right key verifies and a wrong one
//! is flagged, and the rule fires on its trigger only.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::BTreeSet;
use std::path::Path;

use dmvpn::capture::CaptureReader;
use dmvpn::decode::{Decoder, IkeKeys};
use dmvpn::keys::EspKeys;
use dmvpn::session::{PskCheck, PskPeer, PskTable, Report, Rule, SessionBuilder};
use dmvpn_testkit::{assert_contains, workspace};

const LAB_PSK: &[u8] = b"lab-psk-secret";

fn report(capture: &Path, ike: IkeKeys, psks: PskTable) -> Report {
    let keys = capture.with_extension("esp_sa");
    let keys = if keys.exists() {
        EspKeys::from_file(&keys).unwrap()
    } else {
        EspKeys::default()
    };
    let mut reader = CaptureReader::open(capture).unwrap();
    SessionBuilder::with_psks(psks)
        .read(&mut reader, &mut Decoder::with_ike_keys(keys, ike))
        .unwrap()
}

/// An `ikev1_decryption_table` made from a lab recording's `keys.json` (charon's Ka per cookie).
fn strongswan_ike_keys(name: &str) -> IkeKeys {
    let path = workspace().join(format!("testdata/isakmp/strongswan-{name}.keys.json"));
    let json: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    let table: String = json["ike_sas"]
        .as_array()
        .unwrap()
        .iter()
        .map(|sa| {
            format!(
                "{},{}\n",
                sa["cookie_i"].as_str().unwrap(),
                sa["enc_key_Ka"].as_str().unwrap()
            )
        })
        .collect();
    let mut ike = IkeKeys::default();
    ike.extend(dmvpn::keys::parse_ikev1_decryption_table(&table).unwrap());
    ike
}

fn sessions_ike_keys(capture: &Path) -> IkeKeys {
    let mut ike = IkeKeys::default();
    if let Ok(table) = std::fs::read_to_string(capture.with_extension("ikev1_decryption_table")) {
        ike.extend(dmvpn::keys::parse_ikev1_decryption_table(&table).unwrap());
    }
    ike
}

fn one_key(peer: Option<&str>, secret: &[u8]) -> PskTable {
    let mut table = PskTable::new();
    table.add(peer.map(|p| p.parse().unwrap()), secret);
    table
}

fn checks(report: &Report) -> Vec<PskCheck> {
    report
        .peers
        .iter()
        .flat_map(|p| &p.ike)
        .filter_map(|sa| sa.psk.clone())
        .collect()
}

#[test]
fn strongswan_lab_key_verifies_and_a_wrong_one_does_not() {
    for name in ["xfrm-3des", "xfrm-aes", "libipsec-aes"] {
        let capture = workspace().join(format!("testdata/isakmp/strongswan-{name}.pcap"));
        // The lab's key, as a file line for the responder's address (charon at 192.0.2.2
        // initiates towards 192.0.2.1 or the other way; either end matches).
        let table =
            PskTable::parse("crypto isakmp key lab-psk-secret address 192.0.2.1\n").unwrap();
        let right = report(&capture, strongswan_ike_keys(name), table);
        let verified = checks(&right);
        assert!(!verified.is_empty(), "{name}");
        for check in &verified {
            let PskCheck::Verified { peer, hash_r, .. } = check else {
                panic!("{name}: {check:?}");
            };
            assert_eq!(*peer, PskPeer(Some("192.0.2.1".parse().unwrap())));
            assert!(matches!(hash_r, Some((_, true))), "{name}: {check:?}");
        }
        assert!(!right.rules().contains(&Rule::IkePskMismatch), "{name}");

        let wrong = report(
            &capture,
            strongswan_ike_keys(name),
            one_key(None, b"lab-psk-secreT"),
        );
        assert!(
            checks(&wrong)
                .iter()
                .all(|c| matches!(c, PskCheck::Mismatch { tried: 1, .. })),
            "{name}: {:?}",
            checks(&wrong)
        );
        let finding = wrong
            .findings
            .iter()
            .find(|f| f.rule == Rule::IkePskMismatch)
            .unwrap_or_else(|| panic!("{name}: no finding"));
        assert!(finding.message.contains("HASH_I"), "{}", finding.message);
        assert!(!finding.frames.is_empty());

        // Without the IKE keys Main Mode 5 stays encrypted: nothing can be said.
        let blind = report(&capture, IkeKeys::default(), one_key(None, LAB_PSK));
        assert!(
            checks(&blind)
                .iter()
                .all(|c| matches!(c, PskCheck::Unchecked(_))),
            "{name}"
        );
        assert!(!blind.rules().contains(&Rule::IkePskMismatch), "{name}");
    }
}

#[test]
fn keys_for_other_peers_are_not_tried() {
    let capture = workspace().join("testdata/isakmp/strongswan-xfrm-aes.pcap");
    let report = report(
        &capture,
        strongswan_ike_keys("xfrm-aes"),
        one_key(Some("198.51.100.7"), b"nope"),
    );
    assert_eq!(
        checks(&report),
        [PskCheck::Unchecked(
            "no pre-shared key given for either peer"
        )]
    );
}

/// With the hub's key, the rule fires on `ike-psk-mismatch.pcap` and on no other capture of the
/// set (the heuristic alone would also fire there; the verified check replaces it).
#[test]
fn psk_rule_fires_on_its_trigger_only() {
    let dir = workspace().join("testdata/sessions");
    let mut fired = BTreeSet::new();
    let mut verified = BTreeSet::new();
    for entry in std::fs::read_dir(&dir).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().is_none_or(|e| e != "pcap") {
            continue;
        }
        let name = path.file_name().unwrap().to_string_lossy().into_owned();
        let report = report(&path, sessions_ike_keys(&path), one_key(None, LAB_PSK));
        if report.rules().contains(&Rule::IkePskMismatch) {
            fired.insert(name.clone());
        }
        if checks(&report).iter().any(|c| {
            matches!(
                c,
                PskCheck::Verified {
                    hash_r: Some((_, true)),
                    ..
                }
            )
        }) {
            verified.insert(name);
        }
    }
    assert_eq!(fired, BTreeSet::from(["ike-psk-mismatch.pcap".to_owned()]));
    assert_eq!(
        verified,
        BTreeSet::from([
            "healthy.pcap".to_owned(),
            "ike-transform-set-mismatch.pcap".to_owned()
        ])
    );
}

#[test]
fn psk_mismatch_trigger_names_hash_i_and_the_retransmissions() {
    let path = workspace().join("testdata/sessions/ike-psk-mismatch.pcap");
    let report = report(&path, sessions_ike_keys(&path), one_key(None, LAB_PSK));
    let finding = report
        .findings
        .iter()
        .find(|f| f.rule == Rule::IkePskMismatch)
        .unwrap();
    assert_eq!(finding.frames, [11, 12, 13]);
    assert_contains(&finding.message, "HASH_I of 192.0.2.12 (frame 11)");

    // Spoke B's own (stale) key verifies its HASH_I: that is the key it uses, and the stall is no
    // longer reported as a mismatch of that key.
    let report = report_with_spoke_key(&path);
    assert!(matches!(
        checks(&report).as_slice(),
        [PskCheck::Verified {
            hash_i_frame: 11,
            hash_r: None,
            ..
        }]
    ));
    assert!(!report.rules().contains(&Rule::IkePskMismatch));
}

fn report_with_spoke_key(path: &Path) -> Report {
    report(
        path,
        sessions_ike_keys(path),
        one_key(Some("192.0.2.12"), b"lab-psk-secret-old"),
    )
}

#[test]
fn cli_reads_psk_files_and_flags() {
    let exe = env!("CARGO_BIN_EXE_dmvpn");
    let dir = workspace().join("testdata/sessions");
    let psk_file = std::env::temp_dir().join(format!("dmvpn-psk-{}.txt", std::process::id()));
    std::fs::write(
        &psk_file,
        "! hub\ncrypto isakmp key lab-psk-secret address 192.0.2.12\n",
    )
    .unwrap();
    let out = std::process::Command::new(exe)
        .arg("sessions")
        .arg(dir.join("ike-psk-mismatch.pcap"))
        .arg("--keys")
        .arg(dir.join("ike-psk-mismatch.ikev1_decryption_table"))
        .arg("--keys")
        .arg(&psk_file)
        .args(["--format", "json"])
        .output()
        .unwrap();
    std::fs::remove_file(&psk_file).unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let text = json.to_string();
    assert!(text.contains(r#""result":"mismatch""#), "{text}");
    assert!(
        !text.contains("lab-psk-secret"),
        "the secret is never printed"
    );

    let out = std::process::Command::new(exe)
        .arg("sessions")
        .arg(dir.join("healthy.pcap"))
        .arg("--keys")
        .arg(dir.join("healthy.ikev1_decryption_table"))
        .args(["--psk", "lab-psk-secret"])
        .output()
        .unwrap();
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(text.contains("PSK verified: HASH_I (frame 5)"), "{text}");
    assert!(!text.contains("lab-psk-secret"));
}
