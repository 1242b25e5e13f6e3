//! `dmvpn sessions --psk` over IKEv2 (RFC 7296 §2.15): with SK_pi / SK_pr in the key table, each
//! side's AUTH payload is recomputed from the key given. The recording is our own machines'
//! (`testdata/ikev2/psk/`: `dmvpn-router simulate` of the hub and spokes of
//! `testdata/router/ikev2/`, spoke1 with another keyring key): the hub's key verifies spoke2's
//! AUTH payloads and the hub's, and is a certain mismatch for spoke1's; spoke1's key is the
//! reverse. Without the extra columns the finding keeps its "probably". The verdicts agree with an
//! independent check (`tools/lab/ikev2_auth_check.py`: tshark decrypts, Python's hmac computes).
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::net::IpAddr;
use std::path::PathBuf;

use dmvpn::capture::CaptureReader;
use dmvpn::decode::{Decoder, IkeKeys};
use dmvpn::keys::EspKeys;
use dmvpn::session::{Ikev2PskCheck, PskPeer, PskTable, Report, Rule, SessionBuilder, Severity};
use dmvpn_testkit::{stdout_of, testdata, tshark_available, workspace};

/// The hub's (and spoke2's) key, and spoke1's.
const HUB_PSK: &[u8] = b"lab-psk-secret";
const SPOKE1_PSK: &[u8] = b"not-the-hubs-key";
const SPOKE1: &str = "192.0.2.11";
const SPOKE2: &str = "192.0.2.12";

fn dir() -> PathBuf {
    testdata("ikev2/psk")
}

/// The report of the recording with `table` (in `keys/`) and `psk` for every peer.
fn report(table: &str, psk: &[u8]) -> Report {
    let text = std::fs::read_to_string(dir().join("keys").join(table)).unwrap();
    let (keys, warnings) = dmvpn::keys::parse_ikev2_decryption_table(&text, None).unwrap();
    assert!(warnings.is_empty(), "{warnings:?}");
    let mut ike = IkeKeys::default();
    ike.extend_v2(keys);
    let mut psks = PskTable::new();
    psks.add(None, psk);
    let mut reader = CaptureReader::open(dir().join("wrong-psk.pcapng")).unwrap();
    SessionBuilder::with_psks(psks)
        .read(
            &mut reader,
            &mut Decoder::with_ike_keys(EspKeys::default(), ike),
        )
        .unwrap()
}

/// The `[initiator, responder]` checks of every IKEv2 SA the spoke initiated.
fn checks(report: &Report, spoke: &str) -> Vec<[Option<Ikev2PskCheck>; 2]> {
    let spoke: IpAddr = spoke.parse().unwrap();
    let sas: Vec<_> = (report.peers.iter())
        .flat_map(|p| &p.ikev2)
        .filter(|sa| sa.initiator == Some(spoke))
        .map(|sa| sa.psk.clone())
        .collect();
    assert!(!sas.is_empty(), "{report}");
    sas
}

fn psk_findings(report: &Report) -> Vec<String> {
    (report.findings.iter())
        .filter(|f| f.rule == Rule::IkePskMismatch)
        .map(|f| {
            assert_eq!(f.severity, Severity::Error);
            f.message.clone()
        })
        .collect()
}

/// Both of spoke1's refusals are `ikev2-auth-failed` findings whose message says `text`.
fn auth_failed_says(report: &Report, text: &str) {
    let auth_failed: Vec<_> = (report.findings.iter())
        .filter(|f| f.rule == Rule::Ikev2AuthFailed)
        .collect();
    assert_eq!(auth_failed.len(), 2, "{report}");
    assert!(
        auth_failed.iter().all(|f| f.message.contains(text)),
        "{auth_failed:?}"
    );
}

#[test]
fn the_hubs_key_verifies_spoke2_and_is_a_certain_mismatch_for_spoke1() {
    let report = report("dmvpn_ikev2_decryption_table", HUB_PSK);
    for [initiator, responder] in checks(&report, SPOKE2) {
        assert!(
            matches!(
                initiator,
                Some(Ikev2PskCheck::Verified {
                    peer: PskPeer(None),
                    ..
                })
            ),
            "{initiator:?}"
        );
        assert!(
            matches!(responder, Some(Ikev2PskCheck::Verified { .. })),
            "{responder:?}"
        );
    }
    // spoke1 tried twice in 20 s; each IKE_AUTH request's AUTH is a certain mismatch, and the hub
    // refused with AUTHENTICATION_FAILED, which carries no AUTH of its own.
    let spoke1 = checks(&report, SPOKE1);
    assert_eq!(spoke1.len(), 2, "{report}");
    for [initiator, responder] in &spoke1 {
        assert!(
            matches!(initiator, Some(Ikev2PskCheck::Mismatch { tried: 1, .. })),
            "{initiator:?}"
        );
        assert!(
            matches!(responder, Some(Ikev2PskCheck::Unchecked(_))),
            "{responder:?}"
        );
    }
    // One certain finding per refused SA, naming spoke1, with the IKE_SA_INIT pair and the
    // IKE_AUTH request as evidence; none for spoke2.
    let findings: Vec<_> = (report.findings.iter())
        .filter(|f| f.rule == Rule::IkePskMismatch)
        .collect();
    assert_eq!(findings.len(), 2, "{findings:?}");
    let auth_frames: Vec<u64> = (spoke1.iter())
        .filter_map(|[initiator, _]| match initiator {
            Some(Ikev2PskCheck::Mismatch { frame, .. }) => Some(*frame),
            _ => None,
        })
        .collect();
    for finding in &findings {
        assert!(
            finding
                .message
                .contains("a certain pre-shared key mismatch")
        );
        assert!(finding.message.contains(&format!("the initiator {SPOKE1}")));
        assert_eq!(finding.frames.len(), 3, "{finding:?}");
        assert!(
            auth_frames.contains(finding.frames.last().unwrap()),
            "{finding:?}"
        );
    }
    auth_failed_says(&report, "certain pre-shared key mismatch");
}

#[test]
fn spoke1s_key_verifies_spoke1_and_is_a_certain_mismatch_for_spoke2_and_the_hub() {
    let report = report("dmvpn_ikev2_decryption_table", SPOKE1_PSK);
    for [initiator, _] in checks(&report, SPOKE1) {
        assert!(
            matches!(initiator, Some(Ikev2PskCheck::Verified { .. })),
            "{initiator:?}"
        );
    }
    for [initiator, responder] in checks(&report, SPOKE2) {
        assert!(matches!(initiator, Some(Ikev2PskCheck::Mismatch { .. })));
        assert!(matches!(responder, Some(Ikev2PskCheck::Mismatch { .. })));
    }
    let findings = psk_findings(&report);
    assert_eq!(findings.len(), 2, "{findings:?}");
    assert!(findings[0].contains(&format!("the initiator {SPOKE2}")));
    assert!(findings[1].contains("the responder 192.0.2.1"));
    // The hub refused a key the PSK given verifies: then its own keyring differs.
    auth_failed_says(&report, "its pre-shared key is right");
}

/// Wireshark's eight columns: no SK_pi / SK_pr, no certainty.
#[test]
fn without_sk_p_the_finding_stays_probable() {
    let report = report("ikev2_decryption_table", HUB_PSK);
    assert!(psk_findings(&report).is_empty());
    for [initiator, _] in checks(&report, SPOKE1) {
        assert!(matches!(initiator, Some(Ikev2PskCheck::Unchecked(why)) if why.contains("SK_pi")));
    }
    auth_failed_says(&report, "probably differ");
}

/// The command line: the verdicts are there, the key and the key table's secrets nowhere.
#[test]
fn the_cli_never_prints_the_key() {
    let table = dir().join("keys/dmvpn_ikev2_decryption_table");
    let secrets: Vec<String> = std::fs::read_to_string(&table)
        .unwrap()
        .lines()
        .flat_map(|line| {
            line.split(',')
                .skip(2)
                .map(str::to_owned)
                .collect::<Vec<_>>()
        })
        .filter(|field| field.len() >= 32 && !field.starts_with('"'))
        .collect();
    assert!(!secrets.is_empty());
    for format in ["text", "json"] {
        let out = std::process::Command::new(env!("CARGO_BIN_EXE_dmvpn"))
            .arg("sessions")
            .arg(dir().join("wrong-psk.pcapng"))
            .arg("--keys")
            .arg(&table)
            .args(["--psk", "lab-psk-secret", "--format", format])
            .output()
            .unwrap();
        let stdout = String::from_utf8(out.stdout).unwrap();
        let stderr = String::from_utf8(out.stderr).unwrap();
        assert!(stdout.contains("ike-psk-mismatch"), "{stdout}{stderr}");
        for text in [&stdout, &stderr] {
            assert!(!text.contains("lab-psk-secret"));
            for secret in &secrets {
                assert!(!text.contains(secret.as_str()));
            }
        }
    }
}

/// dmvpn's verdicts, frame by frame, are those of tools/lab/ikev2_auth_check.py (tshark's
/// decryption and Python's hmac, none of dmvpn's code), for the right key and for spoke1's.
#[test]
fn verdicts_agree_with_tshark_and_python() {
    if !tshark_available() {
        return;
    }
    let table = dir().join("keys/dmvpn_ikev2_decryption_table");
    for psk in ["lab-psk-secret", "not-the-hubs-key"] {
        let theirs: Vec<String> = stdout_of(
            std::process::Command::new("python3")
                .arg(workspace().join("tools/lab/ikev2_auth_check.py"))
                .arg(dir().join("wrong-psk.pcapng"))
                .arg(&table)
                .arg(psk),
        )
        .lines()
        .map(str::to_owned)
        .collect();
        let report = report("dmvpn_ikev2_decryption_table", psk.as_bytes());
        let mut ours: Vec<(u64, String)> = (report.peers.iter())
            .flat_map(|p| &p.ikev2)
            .flat_map(|sa| ["initiator", "responder"].into_iter().zip(&sa.psk))
            .filter_map(|(side, check)| match check {
                Some(Ikev2PskCheck::Verified { frame, .. }) => Some((*frame, side, "verified")),
                Some(Ikev2PskCheck::Mismatch { frame, .. }) => Some((*frame, side, "mismatch")),
                _ => None,
            })
            .map(|(frame, side, verdict)| (frame, format!("{frame} {side} {verdict}")))
            .collect();
        ours.sort();
        let ours: Vec<String> = ours.into_iter().map(|(_, line)| line).collect();
        assert_eq!(ours, theirs, "--psk {psk}");
        assert_eq!(ours.len(), 4);
    }
}
