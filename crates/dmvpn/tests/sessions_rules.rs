//! The diagnosis rule matrix: each rule fires on its trigger capture(s) in `testdata/sessions`
//! (tools/gen/gen_sessions_triggers.py) and on no other capture of the set; the healthy baseline fires
//! nothing. Every rule has a trigger.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::BTreeSet;
use std::path::PathBuf;
use std::process::Command;

use dmvpn::capture::CaptureReader;
use dmvpn::decode::Decoder;
use dmvpn::keys::EspKeys;
use dmvpn::session::{Report, Rule, SessionBuilder};
use dmvpn_testkit::workspace;

#[path = "util/sessions.rs"]
mod sessions;
use sessions::report;

/// Each capture of the set and the rules it must (and only it may) fire.
fn matrix() -> Vec<(PathBuf, Vec<Rule>)> {
    let sessions = workspace().join("testdata/sessions");
    let mut cases: Vec<(PathBuf, Vec<Rule>)> = vec![(sessions.join("healthy.pcap"), vec![])];
    for rule in Rule::ALL {
        cases.push((sessions.join(format!("{}.pcap", rule.id())), vec![rule]));
    }
    cases.push((
        sessions.join("nhrp-no-registration-silent.pcap"),
        vec![Rule::NhrpNoRegistration],
    ));
    // The bundled Phase 1 capture has its faults built in.
    cases.push((
        workspace().join("testdata/dmvpn/phase1.pcap"),
        vec![
            Rule::EspIcvFailure,
            Rule::EigrpSplitHorizon,
            Rule::TcpMssTooLarge,
            Rule::FragmentedAfterEncapsulation,
            Rule::SpokeToSpokeHairpin,
        ],
    ));
    cases
}

fn phase1_report() -> Report {
    let data = workspace().join("testdata/dmvpn");
    let keys = EspKeys::from_file(data.join("phase1.esp_sa")).unwrap();
    let mut reader = CaptureReader::open(data.join("phase1.pcap")).unwrap();
    SessionBuilder::run(&mut reader, &mut Decoder::new(keys)).unwrap()
}

#[test]
fn each_rule_fires_on_its_trigger_and_nowhere_else() {
    let mut failures = Vec::new();
    for (capture, expected) in matrix() {
        let report = if capture.ends_with("phase1.pcap") {
            phase1_report()
        } else {
            report(&capture)
        };
        let fired = report.rules();
        let expected: BTreeSet<Rule> = expected.into_iter().collect();
        if fired != expected {
            failures.push(format!(
                "{}: expected {expected:?}, fired {fired:?}\n{report}",
                capture.display()
            ));
        }
        for finding in &report.findings {
            assert!(!finding.frames.is_empty(), "{finding:?} has no evidence");
            assert!(!finding.message.is_empty());
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn every_rule_has_a_trigger_capture() {
    let triggered: BTreeSet<Rule> = matrix()
        .into_iter()
        .filter(|(capture, _)| capture.parent().unwrap().ends_with("sessions"))
        .flat_map(|(_, rules)| rules)
        .collect();
    assert_eq!(triggered, Rule::ALL.into_iter().collect());
}

fn finding(capture: &str, rule: Rule) -> dmvpn::session::Finding {
    let report = report(&workspace().join("testdata/sessions").join(capture));
    report
        .findings
        .into_iter()
        .find(|f| f.rule == rule)
        .unwrap()
}

#[test]
fn evidence_frames_are_the_faulty_ones() {
    let cases: [(&str, Rule, &[u64]); 16] = [
        (
            "nhrp-no-registration.pcap",
            Rule::NhrpNoRegistration,
            &[7, 8, 9],
        ),
        (
            "nhrp-registration-refused.pcap",
            Rule::NhrpRegistrationRefused,
            &[8],
        ),
        ("nhrp-auth-mismatch.pcap", Rule::NhrpAuthMismatch, &[7, 8]),
        ("nhrp-hold-expired.pcap", Rule::NhrpHoldExpired, &[2, 13]),
        (
            "ike-no-proposal-chosen.pcap",
            Rule::IkeNoProposalChosen,
            &[8],
        ),
        (
            "ike-transform-set-mismatch.pcap",
            Rule::IkeTransformSetMismatch,
            &[14],
        ),
        ("ike-psk-mismatch.pcap", Rule::IkePskMismatch, &[11, 12, 13]),
        ("esp-icv-failure.pcap", Rule::EspIcvFailure, &[9]),
        ("esp-replay.pcap", Rule::EspReplay, &[10]),
        ("eigrp-k-mismatch.pcap", Rule::EigrpKMismatch, &[9, 10]),
        ("eigrp-as-mismatch.pcap", Rule::EigrpAsMismatch, &[9, 10]),
        (
            "eigrp-adjacency-flap.pcap",
            Rule::EigrpAdjacencyFlap,
            &[5, 17, 19],
        ),
        ("eigrp-split-horizon.pcap", Rule::EigrpSplitHorizon, &[11]),
        ("tcp-mss-too-large.pcap", Rule::TcpMssTooLarge, &[13]),
        (
            "fragmented-after-encapsulation.pcap",
            Rule::FragmentedAfterEncapsulation,
            &[13, 14],
        ),
        (
            "spoke-to-spoke-hairpin.pcap",
            Rule::SpokeToSpokeHairpin,
            &[13, 14, 15, 16],
        ),
    ];
    for (capture, rule, frames) in cases {
        assert_eq!(finding(capture, rule).frames, frames, "{capture}");
    }
}

#[test]
fn messages_name_the_cause() {
    let cases: [(&str, Rule, &[&str]); 10] = [
        (
            "nhrp-registration-refused.pcap",
            Rule::NhrpRegistrationRefused,
            &["AdministrativelyProhibited (4)"],
        ),
        (
            "ike-no-proposal-chosen.pcap",
            Rule::IkeNoProposalChosen,
            &["des sha group 1 pre-share"],
        ),
        (
            "ike-transform-set-mismatch.pcap",
            Rule::IkeTransformSetMismatch,
            &["offered: esp-3des esp-md5-hmac"],
        ),
        (
            "ike-psk-mismatch.pcap",
            Rule::IkePskMismatch,
            &["sent message 5 3 times"],
        ),
        ("eigrp-k-mismatch.pcap", Rule::EigrpKMismatch, &["K2=1"]),
        (
            "eigrp-as-mismatch.pcap",
            Rule::EigrpAsMismatch,
            &["AS 100", "AS 200"],
        ),
        (
            "eigrp-split-horizon.pcap",
            Rule::EigrpSplitHorizon,
            &["192.168.12.0/24 from spoke 192.0.2.12"],
        ),
        (
            "eigrp-adjacency-flap.pcap",
            Rule::EigrpAdjacencyFlap,
            &["went down 2 time(s)"],
        ),
        (
            "spoke-to-spoke-hairpin.pcap",
            Rule::SpokeToSpokeHairpin,
            &["expected in DMVPN Phase 1"],
        ),
        (
            "nhrp-no-registration-silent.pcap",
            Rule::NhrpNoRegistration,
            &["never registered"],
        ),
    ];
    for (capture, rule, parts) in cases {
        let message = finding(capture, rule).message;
        for part in parts {
            assert!(message.contains(part), "{capture}: {message}");
        }
    }
}

#[test]
fn nhrp_passwords_are_never_printed() {
    let capture = workspace().join("testdata/sessions/nhrp-auth-mismatch.pcap");
    for format in ["text", "json"] {
        let out = Command::new(env!("CARGO_BIN_EXE_dmvpn"))
            .arg("sessions")
            .arg(&capture)
            .args(["--format", format])
            .output()
            .unwrap();
        assert!(out.status.success());
        let text = String::from_utf8_lossy(&out.stdout);
        assert!(text.contains("nhrp-auth-mismatch"), "{text}");
        for password in ["spokepw1", "hubpw123"] {
            assert!(!text.contains(password), "{format} output shows a password");
            let hex: String = password.bytes().map(|b| format!("{b:02x}")).collect();
            assert!(
                !text.contains(&hex),
                "{format} output shows a password in hex"
            );
        }
    }
}

#[test]
fn healthy_baseline_is_reported_in_full() {
    let report = report(&workspace().join("testdata/sessions/healthy.pcap"));
    assert_eq!(report.peers.len(), 2);
    let pair = report.peer("192.0.2.1", "192.0.2.11").unwrap();
    assert!(pair.a_is_hub);
    let sa = &pair.ike[0];
    assert_eq!(sa.proposal.as_deref(), Some("3des sha group 2 pre-share"));
    assert!(sa.proposal_accepted && sa.dpd);
    assert_eq!((sa.messages, sa.undecrypted), (8, 0));
    assert_eq!(sa.established.map(|up| up.frame), Some(6)); // Main Mode 6
    // Quick Mode, decrypted: each side's SPI from its SA payload, the transform set in IOS terms.
    let child = &sa.phase2[0];
    assert_eq!(child.message_id, 0x5152_5354);
    assert_eq!(child.spis, [0x2000_a001, 0x1000_a001]);
    assert_eq!(child.transform.as_deref(), Some("esp-aes esp-sha-hmac"));
    assert_eq!(
        (child.mode, child.lifetime),
        (Some("transport"), Some(3600))
    );
    assert!(pair.esp.iter().all(|f| f.negotiated));
    assert!(pair.esp.iter().all(|f| f.decrypted == f.packets.packets));
    assert_eq!(pair.inner["tcp"].packets, 1);
    assert_eq!(pair.inner["icmp"].packets, 2);
    assert_eq!(pair.eigrp[0].k, pair.eigrp[1].k);
}

/// Every public capture in ../shared (skipped when absent), read without keys: only the two
/// faults really on the wire are reported.
#[test]
fn public_captures_fire_only_their_real_faults() {
    let shared = dmvpn_testkit::captures_or_skip!();
    let mut files = dmvpn_testkit::files_under(&shared);
    files.retain(|path| {
        path.extension()
            .is_some_and(|e| e == "pcap" || e == "cap" || e == "pcapng")
    });
    assert!(files.len() >= 20);
    let mut failures = Vec::new();
    let mut read = 0;
    for file in files {
        let name = file
            .strip_prefix(&shared)
            .unwrap()
            .to_string_lossy()
            .into_owned();
        let expected: BTreeSet<Rule> = match name.as_str() {
            // Router 10.0.0.2 says goodbye (frame 9).
            "packetlife/EIGRP_goodbye.cap" => [Rule::EigrpAdjacencyFlap].into(),
            // strongSwan's first Main Mode is refused (frame 3) before a retry agrees.
            "zeek-spicy-ipsec/ipsec.cap" => [Rule::IkeNoProposalChosen].into(),
            _ => BTreeSet::new(),
        };
        let Ok(mut reader) = CaptureReader::open(&file) else {
            continue;
        };
        let report = SessionBuilder::run(&mut reader, &mut Decoder::new(EspKeys::default()));
        let Ok(report) = report else {
            continue; // a capture the reader refuses is the capture tests' business
        };
        read += 1;
        if report.rules() != expected {
            failures.push(format!("{name}: expected {expected:?}\n{report}"));
        }
    }
    assert!(read >= 30, "only {read} captures read");
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}
