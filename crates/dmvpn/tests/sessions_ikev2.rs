//! IKEv2 in `dmvpn sessions`: the exchanges, proposals and Child SAs rebuilt from Wireshark's
//! IKEv2 test captures (`../shared/captures/wireshark-testsuite/ikev2`, with their
//! `ikev2_decryption_table`) agree with what tshark shows of them, and the generated captures
//! (`tools/gen/gen_ikev2_sessions.py`: `testdata/ikev2/sessions/` and the `ikev2-*` triggers in
//! `testdata/sessions/`) give the exchanges, rekeys, collisions, DPD, Deletes and findings they
//! were made with, and strongSwan's sessions recorded in the lab (`testdata/ikev2/lab`) give their
//! rekeys, DPD and Deletes and agree with tshark too. Without `../shared` the public-capture tests
//! print why and pass, except under CI (`CI` set), where the folder must be there.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use dmvpn::capture::CaptureReader;
use dmvpn::decode::{Decoder, IkeKeys};
use dmvpn::keys::EspKeys;
use dmvpn::session::{Ikev2Sa, Report, Rule, SessionBuilder, Severity};
use dmvpn_testkit::{captures, testdata, tshark_available, tshark_fields};

#[path = "util/sessions.rs"]
mod sessions;

/// The report of `capture` with the IKEv2 keys of `table` (none: without keys).
fn report_with(capture: &Path, table: Option<&Path>) -> Report {
    report_with_esp(capture, table, EspKeys::default())
}

/// The same with ESP keys.
fn report_with_esp(capture: &Path, table: Option<&Path>, esp: EspKeys) -> Report {
    let mut ike = IkeKeys::default();
    if let Some(table) = table {
        let text = std::fs::read_to_string(table).unwrap();
        ike.extend_v2(
            dmvpn::keys::parse_ikev2_decryption_table(&text, None)
                .unwrap()
                .0,
        );
    }
    let mut reader = CaptureReader::open(capture).unwrap();
    let mut decoder = Decoder::with_ike_keys(esp, ike);
    SessionBuilder::run(&mut reader, &mut decoder).unwrap()
}

/// The only IKEv2 SA of the report.
fn only_sa(report: &Report) -> &Ikev2Sa {
    let sas: Vec<&Ikev2Sa> = report.peers.iter().flat_map(|p| &p.ikev2).collect();
    assert_eq!(sas.len(), 1, "{report}");
    sas[0]
}

/// Wireshark's IKEv2 test captures and their key table, or `None` (printed) when absent.
fn wireshark_set() -> Option<(Vec<PathBuf>, PathBuf)> {
    let Some(dir) = captures() else {
        assert!(
            std::env::var_os("CI").is_none(),
            "CI must have ../shared/captures"
        );
        eprintln!("skipping: ../shared/captures is not present");
        return None;
    };
    let dir = dir.join("wireshark-testsuite/ikev2");
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.to_string_lossy().contains(".pcap"))
        .collect();
    files.sort();
    assert_eq!(files.len(), 8, "{}", dir.display());
    Some((files, dir.join("ikev2_decryption_table.tmpl")))
}

/// tshark's `-o uat:ikev2_decryption_table:…` options for every line of `table`.
fn tshark_keys(table: &Path) -> Vec<String> {
    std::fs::read_to_string(table)
        .unwrap()
        .lines()
        .filter(|l| !l.trim().is_empty() && !l.starts_with('#'))
        .map(|l| format!("uat:ikev2_decryption_table:{l}"))
        .collect()
}

/// What tshark shows of a capture's IKEv2 frames: (frame, exchange type, message ID, flags,
/// 4-byte SPIs of the decrypted SA and Notify payloads).
type TsharkRow = (u64, u8, u32, u8, Vec<u32>);

fn tshark_rows(capture: &Path, table: &Path) -> Vec<TsharkRow> {
    let keys = tshark_keys(table);
    let mut args: Vec<&str> = Vec::new();
    for key in &keys {
        args.extend(["-o", key]);
    }
    args.extend(["-Y", "isakmp"]);
    let rows = tshark_fields(
        capture,
        &args,
        &[
            "frame.number",
            "isakmp.exchangetype",
            "isakmp.messageid",
            "isakmp.flags",
            "isakmp.spisize",
            "isakmp.spi",
        ],
    );
    let number = |s: &str| {
        let s = s.trim();
        s.strip_prefix("0x").map_or_else(
            || s.parse::<u64>().unwrap(),
            |h| u64::from_str_radix(h, 16).unwrap(),
        )
    };
    rows.iter()
        .map(|row| {
            let spis = row[5]
                .split(',')
                .filter(|s| s.len() == 8)
                .map(|s| u32::from_str_radix(s, 16).unwrap())
                .collect();
            (
                number(&row[0]),
                u8::try_from(number(&row[1])).unwrap(),
                u32::try_from(number(&row[2])).unwrap(),
                u8::try_from(number(&row[3])).unwrap(),
                spis,
            )
        })
        .collect()
}

/// The IOS name each of Wireshark's captures must show (its cipher is in its file name; the
/// rest is what its IKE_SA_INIT response chose, as tshark prints it).
fn expected_proposal(name: &str) -> &'static str {
    [
        ("3des-sha1_160", "3des sha1-160 prf sha256 group 14"),
        ("aes128ccm12", "aes-ccm12-128 prf sha256 group 19"),
        ("aes192ctr", "aes-ctr-192 sha512 prf sha256 group 19"),
        ("aes256cbc", "aes-cbc-256 sha256 group 19"),
        ("aes256ccm16", "aes-ccm-256 prf sha256 group 19"),
        ("aes256gcm16", "aes-gcm-256 prf sha256 group 19"),
        ("aes256gcm8", "aes-gcm8-256 prf sha256 group 19"),
    ]
    .iter()
    .find(|(part, _)| name.contains(part))
    .map(|(_, ios)| *ios)
    .unwrap()
}

/// Every IKEv2 frame tshark shows is the request or the response of one exchange of the report
/// (by exchange type, message ID and the R flag) and every frame of the report's exchanges is one
/// tshark shows; the 4-byte SPIs tshark reads in the IKE_AUTH and CREATE_CHILD_SA messages (SA
/// proposals, REKEY_SA) are those of the report's Child SAs.
fn assert_agrees_with_tshark(capture: &Path, table: &Path, report: &Report) {
    let rows = tshark_rows(capture, table);
    assert!(!rows.is_empty(), "{}", capture.display());
    let sas: Vec<&Ikev2Sa> = report.peers.iter().flat_map(|p| &p.ikev2).collect();
    let mut ours = BTreeSet::new();
    for e in sas.iter().flat_map(|sa| &sa.exchanges) {
        for frame in &e.request_frames {
            ours.insert((*frame, e.exchange.clone(), e.message_id, false));
        }
        if let Some(response) = e.response {
            ours.insert((response.frame, e.exchange.clone(), e.message_id, true));
        }
    }
    let theirs: BTreeSet<(u64, String, u32, bool)> = rows
        .iter()
        .map(|(frame, exchange, mid, flags, _)| {
            let name = dmvpn_isakmp::v2::ExchangeType(*exchange).name().unwrap();
            (*frame, name.to_owned(), *mid, flags & 0x20 != 0)
        })
        .collect();
    assert_eq!(ours, theirs, "{}", capture.display());
    let theirs: BTreeSet<u32> = rows
        .iter()
        .filter(|row| row.1 == 35 || row.1 == 36)
        .flat_map(|row| row.4.iter().copied())
        .collect();
    let ours: BTreeSet<u32> = sas
        .iter()
        .flat_map(|sa| &sa.children)
        .flat_map(|c| c.spis.iter().copied().chain(c.rekey_of))
        .collect();
    assert_eq!(ours, theirs, "{}", capture.display());
}

/// Every exchange rebuilt from Wireshark's captures is one tshark shows (its request and response
/// frames by exchange type, message ID and the I/R flags), every IKEv2 frame is in one, the
/// proposal reads as IOS names it, the SA came up with IKE_AUTH, and the Child SA SPIs are the
/// ESP SPIs tshark reads in the decrypted IKE_AUTH.
#[test]
fn wireshark_captures_agree_with_tshark() {
    let Some((files, table)) = wireshark_set() else {
        return;
    };
    let tshark = tshark_available();
    for capture in &files {
        let name = capture.file_name().unwrap().to_string_lossy().into_owned();
        let report = report_with(capture, Some(&table));
        let sa = only_sa(&report);
        assert_eq!(
            sa.proposal.as_deref(),
            Some(expected_proposal(&name)),
            "{name}"
        );
        assert!(sa.proposal_accepted, "{name}");
        assert_eq!(sa.auth_method.as_deref(), Some("pre-share"), "{name}");
        assert_eq!(sa.undecrypted, 0, "{name}");
        let auth = sa
            .exchanges
            .iter()
            .find(|e| e.exchange == "IKE_AUTH")
            .unwrap();
        assert_eq!(
            sa.established.map(|s| s.frame),
            auth.response.map(|s| s.frame)
        );
        assert_eq!(sa.children.len(), 1, "{name}");
        let child = &sa.children[0];
        assert_eq!(child.spis.len(), 2, "{name}: {child:?}");
        assert!(child.completed.is_some(), "{name}");
        assert!(report.findings.is_empty(), "{name}: {report}");
        if tshark {
            assert_agrees_with_tshark(capture, &table, &report);
        }
    }
}

/// Without keys, what IKE_SA_INIT shows is still there; what the SK payload holds is not
/// guessed.
#[test]
fn wireshark_captures_without_keys() {
    let Some((files, _)) = wireshark_set() else {
        return;
    };
    for capture in &files {
        let name = capture.file_name().unwrap().to_string_lossy().into_owned();
        let report = report_with(capture, None);
        let sa = only_sa(&report);
        assert_eq!(
            sa.proposal.as_deref(),
            Some(expected_proposal(&name)),
            "{name}"
        );
        assert!(sa.children.is_empty(), "{name}");
        assert!(sa.auth_method.is_none(), "{name}");
        assert_eq!(sa.undecrypted, sa.messages - 2, "{name}");
        assert!(sa.established.is_some(), "{name}");
        assert!(report.findings.is_empty(), "{name}: {report}");
    }
}

/// A Child SA as the healthy test checks it: SPIs, REKEY_SA SPI, completed and deleted frames.
type ChildRow = (Vec<u32>, Option<u32>, Option<u64>, Option<u64>);

fn healthy() -> PathBuf {
    testdata("ikev2/sessions/healthy.pcap")
}

/// The generated healthy session: IKE_SA_INIT, IKE_AUTH with a transport-mode Child SA, ESP, DPD,
/// a simultaneous Child SA rekey, Deletes and an IKE SA rekey, as the generator made them.
#[test]
fn healthy_session_is_rebuilt() {
    let report = sessions::report(&healthy());
    assert!(report.findings.is_empty(), "{report}");
    let pair = report.peer("192.0.2.1", "192.0.2.11").unwrap();
    let sa = only_sa(&report);
    assert_eq!(sa.proposal.as_deref(), Some("aes-cbc-128 sha256 group 14"));
    assert_eq!(sa.initiator, Some("192.0.2.11".parse().unwrap()));
    assert_eq!(sa.established.map(|s| s.frame), Some(4));
    assert_eq!(sa.nat, [Some(false), Some(false)]);
    let kinds: Vec<(&str, u32, bool, Option<&str>)> = sa
        .exchanges
        .iter()
        .map(|e| (e.exchange.as_str(), e.message_id, e.from_initiator, e.kind))
        .collect();
    assert_eq!(
        kinds,
        [
            ("IKE_SA_INIT", 0, true, Some("init")),
            ("IKE_AUTH", 1, true, Some("auth")),
            ("INFORMATIONAL", 2, true, Some("dpd")),
            ("CREATE_CHILD_SA", 3, true, Some("child-rekey")),
            ("CREATE_CHILD_SA", 0, false, Some("child-rekey")),
            ("INFORMATIONAL", 1, false, Some("delete")),
            ("INFORMATIONAL", 4, true, Some("delete")),
            ("CREATE_CHILD_SA", 5, true, Some("ike-rekey")),
            ("INFORMATIONAL", 6, true, Some("delete")),
        ]
    );
    assert!(
        sa.exchanges
            .iter()
            .all(|e| e.response.is_some() && e.requests == 1)
    );
    assert_eq!(
        (
            sa.count("dpd"),
            sa.count("child-rekey"),
            sa.count("ike-rekey")
        ),
        (1, 2, 1)
    );
    assert_eq!(sa.collisions(), [(13, 14)]);
    let children: Vec<ChildRow> = sa
        .children
        .iter()
        .map(|c| {
            (
                c.spis.clone(),
                c.rekey_of,
                c.completed.map(|s| s.frame),
                c.deleted.map(|s| s.frame),
            )
        })
        .collect();
    assert_eq!(
        children,
        [
            (vec![0xc100_0001, 0xc200_0001], None, Some(4), Some(19)),
            (
                vec![0xc100_0002, 0xc200_0002],
                Some(0xc100_0001),
                Some(15),
                None
            ),
            (
                vec![0xc200_0003, 0xc100_0003],
                Some(0xc200_0001),
                Some(16),
                Some(17)
            ),
        ]
    );
    assert!(sa.children.iter().all(|c| c.mode == Some("transport")));
    assert_eq!(
        sa.children[0].transform.as_deref(),
        Some("esp-aes 256 esp-sha256-hmac")
    );
    let (new_i, new_r) = sa.rekeyed_to.unwrap();
    assert_ne!(new_i, [0; 8]);
    assert_ne!(new_r, [0; 8]);
    assert_eq!(sa.deletes.len(), 5);
    // The ESP flows are those of the negotiated SPIs.
    assert_eq!(pair.esp.len(), 4);
    assert!(pair.esp.iter().all(|f| f.negotiated), "{report}");
    let text = report.to_string();
    for needle in [
        "IKEv2 SA i=",
        "proposal accepted: aes-cbc-128 sha256 group 14, authentication pre-share",
        "INFORMATIONAL MID 2 from initiator (dpd): request frame 11, response frame 12",
        "simultaneous rekey: requests in frames 13 and 14",
        "Child SA (IKE_AUTH MID 1, frame 3, up in frame 4): SPIs 0xc1000001 0xc2000001, \
         esp-aes 256 esp-sha256-hmac, mode transport, deleted in frame 19; ESP 0xc1000001 3 \
         packet(s), 0xc2000001 3 packet(s)",
        "1 DPD exchange(s), 1 IKE SA rekey(s), 2 Child SA rekey(s)",
    ] {
        assert!(text.contains(needle), "{needle:?} not in\n{text}");
    }
}

/// The generated healthy session against tshark: the same exchanges frame by frame, the same
/// Child SA SPIs.
#[test]
fn healthy_session_agrees_with_tshark() {
    if !tshark_available() {
        return;
    }
    let capture = healthy();
    let table = capture.with_extension("ikev2_decryption_table");
    let report = report_with(&capture, Some(&table));
    assert_agrees_with_tshark(&capture, &table, &report);
}

/// Without its key the healthy session still shows its IKE_SA_INIT, exchanges and message IDs,
/// and counts what it could not read.
#[test]
fn healthy_session_without_keys() {
    let report = report_with(&healthy(), None);
    assert!(report.findings.is_empty(), "{report}");
    let sa = only_sa(&report);
    assert_eq!(sa.proposal.as_deref(), Some("aes-cbc-128 sha256 group 14"));
    assert_eq!(sa.exchanges.len(), 9);
    assert!(sa.children.is_empty());
    assert_eq!(sa.undecrypted, sa.messages - 2);
    assert!(
        sa.exchanges
            .iter()
            .skip(1)
            .all(|e| e.undecrypted && e.kind != Some("dpd"))
    );
    assert!(
        report
            .to_string()
            .contains("16 encrypted message(s) not read")
    );
}

/// Each trigger capture of an IKEv2 rule: the finding, its severity and its evidence frames.
#[test]
fn trigger_captures_give_their_findings() {
    let cases: [(&str, Rule, Severity, &[u64], &str); 5] = [
        (
            "sessions/ikev2-auth-failed.pcap",
            Rule::Ikev2AuthFailed,
            Severity::Error,
            &[3, 4],
            "AUTHENTICATION_FAILED from 192.0.2.1: the initiator authenticates with a pre-shared key",
        ),
        (
            "sessions/ikev2-ts-unacceptable.pcap",
            Rule::Ikev2TsUnacceptable,
            Severity::Error,
            &[4],
            "TS_UNACCEPTABLE from 192.0.2.1",
        ),
        (
            "sessions/ikev2-invalid-ke.pcap",
            Rule::Ikev2InvalidKe,
            Severity::Warning,
            &[2, 3],
            "KE for group 19, the responder asked for group 14; the initiator retried with it in \
             frame 3",
        ),
        (
            "sessions/ikev2-nat-detected.pcap",
            Rule::Ikev2NatDetected,
            Severity::Info,
            &[1],
            "the address of the initiator (198.51.100.7) is translated",
        ),
        (
            "sessions/ikev2-no-reply.pcap",
            Rule::Ikev2NoReply,
            Severity::Error,
            &[1, 2, 3],
            "IKE_SA_INIT request (message ID 0) from 192.0.2.11 sent 3 times with no reply",
        ),
    ];
    for (name, rule, severity, frames, message) in cases {
        let report = sessions::report(&testdata(name));
        assert_eq!(report.findings.len(), 1, "{name}: {report}");
        let finding = &report.findings[0];
        assert_eq!(
            (finding.rule, finding.severity, finding.frames.as_slice()),
            (rule, severity, frames),
            "{name}: {finding:?}"
        );
        assert!(
            finding.message.contains(message),
            "{name}: {}",
            finding.message
        );
    }
}

/// The rules IKEv2 shares with IKEv1: NO_PROPOSAL_CHOSEN for IKE_SA_INIT (the proposals) and for a
/// Child SA (the transform sets).
#[test]
fn no_proposal_chosen_in_both_places() {
    let report = sessions::report(&testdata("ikev2/sessions/no-proposal.pcap"));
    assert_eq!(report.rules(), [Rule::IkeNoProposalChosen].into());
    let finding = &report.findings[0];
    assert_eq!(finding.frames, [2]);
    assert!(
        finding
            .message
            .contains("(offered: aes-cbc-128 sha256 group 14)"),
        "{}",
        finding.message
    );
    let report = sessions::report(&testdata("ikev2/sessions/child-no-proposal.pcap"));
    assert_eq!(report.rules(), [Rule::IkeTransformSetMismatch].into());
    let finding = &report.findings[0];
    assert_eq!(finding.frames, [6]);
    let sa = only_sa(&report);
    let child = sa.children.last().unwrap();
    assert_eq!(child.refused.as_deref(), Some("NO_PROPOSAL_CHOSEN"));
    assert_eq!(child.pfs, Some(19));
}

/// The JSON of an IKEv2 session carries the SA, its exchanges and Child SAs.
#[test]
fn json_has_the_ikev2_records() {
    let report = sessions::report(&healthy());
    let mut out = Vec::new();
    report.write_json(&mut out);
    let json: serde_json::Value = serde_json::from_slice(&out).unwrap();
    let sa = &json["peers"][0]["ikev2"][0];
    assert_eq!(sa["proposal"], "aes-cbc-128 sha256 group 14");
    assert_eq!(sa["dpd"], 1);
    assert_eq!(sa["child_rekeys"], 2);
    assert_eq!(sa["collisions"][0]["first_frame"], 13);
    assert_eq!(sa["children"][0]["spis"][0], "0xc1000001");
    assert_eq!(sa["exchanges"].as_array().unwrap().len(), 9);
}

/// strongSwan's own sessions recorded in the lab (`testdata/ikev2/lab`, tools/lab/ikev2_lab.sh):
/// each scenario's first IKE SA, its Child SA and that Child SA's rekey, the IKE SA's rekey into a
/// second SA that is up from the rekey's answer, DPD from the responder, the Deletes; ESP (with the
/// `esp_sa` charon logged) on the negotiated SPIs only; and the same exchanges and SPIs as tshark.
#[test]
fn lab_recordings() {
    let tshark = tshark_available();
    for (scenario, proposal, transform) in [
        (
            "aes256-sha256-modp2048",
            "aes-cbc-256 sha256 group 14",
            "esp-aes 256 esp-sha256-hmac",
        ),
        (
            "aes128-sha1-modp1024",
            "aes-cbc-128 sha1 group 2",
            "esp-aes 128 esp-sha-hmac",
        ),
        (
            "aes128gcm16-ecp256",
            "aes-gcm-128 prf sha256 group 19",
            "esp-gcm 128",
        ),
        (
            "3des-sha1-modp1024",
            "3des sha1 group 2",
            "esp-3des esp-sha-hmac",
        ),
        (
            "pfs",
            "aes-cbc-128 sha256 group 14",
            "esp-aes 128 esp-sha256-hmac",
        ),
        (
            "transport",
            "aes-cbc-128 sha256 group 14",
            "esp-aes 128 esp-sha256-hmac",
        ),
    ] {
        let capture = testdata(&format!("ikev2/lab/{scenario}.pcap"));
        let table = capture.with_extension("ikev2_decryption_table");
        let esp = EspKeys::from_file(capture.with_extension("esp_sa")).unwrap();
        let report = report_with_esp(&capture, Some(&table), esp);
        let pair = report.peer("192.0.2.1", "192.0.2.2").unwrap();
        let [first, second] = pair.ikev2.as_slice() else {
            panic!("{scenario}: {report}")
        };
        assert_eq!(first.proposal.as_deref(), Some(proposal), "{scenario}");
        assert_eq!(first.initiator, Some("192.0.2.1".parse().unwrap()));
        assert_eq!(first.established.map(|s| s.frame), Some(4), "{scenario}");
        assert_eq!(first.rekeyed_to, Some((second.spi_i, second.spi_r)));
        assert_eq!(second.rekeyed_from, Some(first.spi_i));
        let rekey = first
            .exchanges
            .iter()
            .find(|e| e.kind == Some("ike-rekey"))
            .unwrap();
        assert_eq!(second.established, rekey.response, "{scenario}");
        assert_eq!(first.undecrypted + second.undecrypted, 0, "{scenario}");
        let dpd = first.count("dpd") + second.count("dpd");
        assert!(dpd >= 1, "{scenario}: {report}");
        assert_eq!(first.children[0].transform.as_deref(), Some(transform));
        if scenario == "transport" {
            // b could not install a transport-mode SA: its IKE_AUTH answer refuses the Child SA.
            let child = &first.children[0];
            assert_eq!(child.mode, Some("transport"));
            assert_eq!(child.refused.as_deref(), Some("NO_PROPOSAL_CHOSEN"));
            assert!(pair.esp.is_empty());
            assert_eq!(report.rules(), [Rule::IkeTransformSetMismatch].into());
        } else {
            let [child, rekeyed] = first.children.as_slice() else {
                panic!("{scenario}: {report}")
            };
            assert_eq!(child.mode, Some("tunnel"));
            assert_eq!(rekeyed.rekey_of, child.spis.first().copied(), "{scenario}");
            assert_eq!(rekeyed.pfs, (scenario == "pfs").then_some(14), "{scenario}");
            assert!(child.deleted.is_some(), "{scenario}");
            assert_eq!(pair.esp.len(), 4, "{scenario}");
            assert!(
                pair.esp
                    .iter()
                    .all(|f| f.negotiated && f.decrypted == f.packets.packets),
                "{scenario}: {report}"
            );
            // encap = yes: charon fakes its NAT_DETECTION_SOURCE_IP to force UDP encapsulation.
            assert_eq!(
                report.rules(),
                [Rule::Ikev2NatDetected].into(),
                "{scenario}"
            );
        }
        if tshark {
            assert_agrees_with_tshark(&capture, &table, &report);
        }
    }
}

/// The HTML report shows the IKEv2 SAs: the status column says up, the timeline has an IKEv2 row
/// with the proposal and the Child SAs.
#[test]
fn html_report_has_the_ikev2_row() {
    let report = sessions::report(&healthy());
    let page = sessions::html(&report, "ikev2");
    for needle in [
        "IKEv2",
        "IKEv2 i=",
        "aes-cbc-128 sha256 group 14 up at frame 4",
        "Child SA (IKE_AUTH MID 1) 0xc1000001 0xc2000001",
    ] {
        assert!(page.contains(needle), "{needle:?} not in the page");
    }
}

/// Every 37th byte of every frame of the healthy session and of a lab run flipped in turn (a
/// frame at a time), decoded with the keys: the builder, the rules and the three outputs hold up
/// (no panic).
#[test]
fn mutated_sessions_never_panic() {
    use dmvpn_testkit::pcap::PcapWriter;
    let lab = testdata("ikev2/lab/pfs.pcap");
    for capture in [healthy(), lab] {
        let table = capture.with_extension("ikev2_decryption_table");
        let text = std::fs::read_to_string(&table).unwrap();
        let keys = dmvpn::keys::parse_ikev2_decryption_table(&text, None)
            .unwrap()
            .0;
        let frames = dmvpn_testkit::frames(&capture);
        let mutations = frames
            .iter()
            .enumerate()
            .flat_map(|(n, f)| (0..f.data.len()).step_by(37).map(move |o| (n, o)));
        for (target, offset) in mutations {
            // The capture again, with one byte of one frame flipped, read back from memory.
            let mut pcap = PcapWriter::new(frames[0].link);
            for (n, frame) in frames.iter().enumerate() {
                let mut data = frame.data.clone();
                if n == target {
                    data[offset] ^= 0x5a;
                }
                pcap.record(1_700_000_000 + n as u32, 0, &data);
            }
            let mut ike = IkeKeys::default();
            ike.extend_v2(keys.clone());
            let mut decoder = Decoder::with_ike_keys(EspKeys::default(), ike);
            let mut reader = CaptureReader::new(std::io::Cursor::new(pcap.into_bytes())).unwrap();
            let report = SessionBuilder::new()
                .read(&mut reader, &mut decoder)
                .unwrap();
            let mut out = report.to_string().into_bytes();
            report.write_json(&mut out);
            dmvpn::report::html(&report, "mutated", &mut out).unwrap();
        }
    }
}
