//! `dmvpn sessions` on the bundled Phase 1 capture (tools/gen/gen_testdata.py): every peer with the
//! state the generator put on the wire.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::BTreeSet;
use std::path::PathBuf;
use std::process::Command;

use dmvpn::capture::CaptureReader;
use dmvpn::decode::{Decoder, IkeKeys};
use dmvpn::keys::EspKeys;
use dmvpn::session::{NhrpKind, PeerPair, Report, Rule, SessionBuilder};

fn data() -> PathBuf {
    dmvpn_testkit::testdata("dmvpn")
}

fn report() -> Report {
    let keys = EspKeys::from_file(data().join("phase1.esp_sa")).unwrap();
    let table = std::fs::read_to_string(data().join("phase1.ikev1_decryption_table")).unwrap();
    let mut ike = IkeKeys::default();
    ike.extend(dmvpn::keys::parse_ikev1_decryption_table(&table).unwrap());
    let mut decoder = Decoder::with_ike_keys(keys, ike);
    let mut reader = CaptureReader::open(data().join("phase1.pcap")).unwrap();
    SessionBuilder::run(&mut reader, &mut decoder).unwrap()
}

/// The NBMA address the pair's tunnel map gives for `tunnel`.
fn nbma_of(pair: &PeerPair, tunnel: &str) -> Option<String> {
    let tunnel = tunnel.parse().unwrap();
    pair.tunnel.get(&tunnel).map(ToString::to_string)
}

#[test]
fn every_spoke_is_a_pair_with_the_hub() {
    let report = report();
    assert_eq!(report.frames, 42);
    let spokes: BTreeSet<String> = report.peers.iter().map(|p| p.b.to_string()).collect();
    let expected = [
        "192.0.2.11",
        "192.0.2.12",
        "192.0.2.14",
        "192.0.2.15",
        "198.51.100.7",
    ];
    assert_eq!(spokes, expected.iter().map(|s| (*s).to_owned()).collect());
    for pair in &report.peers {
        assert_eq!(pair.a.to_string(), "192.0.2.1");
        assert!(pair.a_is_hub);
        // One registration each, accepted for 7200 s with the unique flag.
        assert_eq!((pair.nhrp.requests, pair.nhrp.successes), (1, 1));
        assert_eq!(pair.nhrp.last_hold_time, Some(7200));
        let request = pair.nhrp.registrations().next().unwrap();
        assert!(matches!(
            request.kind,
            NhrpKind::RegistrationRequest {
                unique: true,
                refresh: false,
                hold_time: 7200,
                ..
            }
        ));
    }
}

#[test]
fn spoke_one_has_ike_esp_eigrp_and_inner_traffic() {
    let report = report();
    let pair = report.peer("192.0.2.1", "192.0.2.11").unwrap();
    assert_eq!(nbma_of(pair, "172.16.1.11").as_deref(), Some("192.0.2.11"));
    let sa = &pair.ike[0];
    assert_eq!(sa.icookie, [0xa1, 0xb2, 0xc3, 0xd4, 0xe5, 0xf6, 0x07, 0x18]);
    assert_eq!(sa.exchange, Some("Main Mode"));
    assert_eq!(sa.initiator, Some("192.0.2.11".parse().unwrap()));
    assert_eq!(sa.proposal.as_deref(), Some("3des md5 group 2 pre-share"));
    assert!(sa.proposal_accepted);
    assert_eq!(sa.lifetime, Some(86400));
    assert!(sa.dpd);
    assert_eq!((sa.first.frame, sa.last.frame, sa.messages), (1, 7, 7));
    assert_eq!(sa.phase2.len(), 1);
    assert_eq!(sa.phase2[0].message_id, 0x0102_0304);
    let inbound = pair.esp.iter().find(|f| f.spi == 0x1000_a001).unwrap();
    assert_eq!(
        (
            inbound.packets.packets,
            inbound.decrypted,
            inbound.icv_failed
        ),
        (7, 6, 1)
    );
    assert_eq!((inbound.min_seq, inbound.max_seq), (1, 7));
    assert_eq!(inbound.sequence_gaps(), 0);
    let [hub, spoke] = &pair.eigrp;
    assert_eq!(hub.autonomous_system, Some(123));
    assert_eq!(spoke.k, Some([1, 0, 1, 0, 0, 0]));
    assert_eq!(spoke.hold_time, Some(15));
    assert_eq!(spoke.router, Some("172.16.1.11".parse().unwrap()));
    assert!(hub.routes.contains(&("192.168.1.0".parse().unwrap(), 24)));
    assert!(
        spoke
            .routes
            .contains(&("192.168.11.0".parse().unwrap(), 24))
    );
    assert_eq!(pair.inner["eigrp"].packets, 4);
    assert_eq!(pair.inner["nhrp"].packets, 2);
    assert_eq!(pair.inner["tcp"].packets, 1);
}

#[test]
fn nat_spoke_claims_its_private_nbma() {
    let report = report();
    let pair = report.peer("192.0.2.1", "198.51.100.7").unwrap();
    assert_eq!(nbma_of(pair, "172.16.1.13").as_deref(), Some("10.0.0.13"));
    // Its Quick Mode is encrypted with a key not in the table.
    assert_eq!(pair.ike[0].undecrypted, 1);
}

#[test]
fn findings_are_the_ones_built_into_the_capture() {
    let report = report();
    let rules: Vec<Rule> = report.rules().into_iter().collect();
    assert_eq!(
        rules,
        [
            Rule::EspIcvFailure,
            Rule::EigrpSplitHorizon,
            Rule::TcpMssTooLarge,
            Rule::FragmentedAfterEncapsulation,
            Rule::SpokeToSpokeHairpin
        ]
    );
    let frames = |rule: Rule| {
        report
            .findings
            .iter()
            .filter(|f| f.rule == rule)
            .flat_map(|f| f.frames.clone())
            .collect::<Vec<_>>()
    };
    assert_eq!(frames(Rule::EspIcvFailure), [41]);
    // The hub advertises only its own LAN to spokes 1 and 2 (frames 29 and 31).
    assert_eq!(frames(Rule::EigrpSplitHorizon), [29, 31]);
    assert_eq!(frames(Rule::TcpMssTooLarge), [36]);
    assert_eq!(frames(Rule::FragmentedAfterEncapsulation), [37, 38]);
    assert_eq!(frames(Rule::SpokeToSpokeHairpin), [32, 33, 34, 35]);
    let hairpin = report
        .findings
        .iter()
        .find(|f| f.rule == Rule::SpokeToSpokeHairpin)
        .unwrap();
    assert!(hairpin.message.contains("expected in DMVPN Phase 1"));
}

#[test]
fn cli_prints_text_and_json() {
    let run = |format: &str| {
        dmvpn_testkit::stdout_of(
            Command::new(env!("CARGO_BIN_EXE_dmvpn"))
                .arg("sessions")
                .arg(data().join("phase1.pcap"))
                .arg("--keys")
                .arg(data().join("phase1.esp_sa"))
                .args(["--format", format]),
        )
    };
    let text = run("text");
    assert!(text.contains("== hub 192.0.2.1 <-> spoke 192.0.2.11"));
    assert!(text.contains("policy accepted: 3des md5 group 2 pre-share, lifetime 86400 s"));
    assert!(text.contains("[error] esp-icv-failure"));
    let json: serde_json::Value = serde_json::from_str(&run("json")).unwrap();
    assert_eq!(json["peers"].as_array().unwrap().len(), 5);
    assert_eq!(
        json["peers"][0]["ike"][0]["proposal"],
        "3des md5 group 2 pre-share"
    );
    let rules: Vec<&str> = json["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["rule"].as_str().unwrap())
        .collect();
    assert!(rules.contains(&"tcp-mss-too-large"));
}

/// Real captures from ../shared (skipped when absent): facts read off them with tshark.
#[test]
fn public_captures() {
    let shared = dmvpn_testkit::captures_or_skip!();
    let run = |name: &str| {
        let mut reader = CaptureReader::open(shared.join(name)).unwrap();
        SessionBuilder::run(&mut reader, &mut Decoder::new(EspKeys::default())).unwrap()
    };
    // Two registrations (IDs 6 and 7) from spoke 172.16.25.2, both accepted by the NHS.
    let report = run("packetlife/NHRP_registration.cap");
    let pair = report.peer("172.16.15.2", "172.16.25.2").unwrap();
    assert!(pair.a_is_hub);
    assert_eq!(pair.a.to_string(), "172.16.15.2");
    assert_eq!((pair.nhrp.requests, pair.nhrp.successes), (2, 2));
    assert_eq!(
        pair.tunnel.get(&"192.168.0.2".parse().unwrap()),
        Some(&"172.16.25.2".parse().unwrap())
    );
    assert!(report.findings.is_empty());
    // Cisco IOS Main Mode: AES-128, SHA, group 1, pre-shared key, a day; DPD announced.
    let report = run("packetlife/ISAKMP_sa_setup.cap");
    let sa = &report.peers[0].ike[0];
    assert_eq!(sa.proposal.as_deref(), Some("aes sha group 1 pre-share"));
    assert_eq!(sa.lifetime, Some(86400));
    assert!(sa.dpd && sa.proposal_accepted);
    assert_eq!(sa.phase2.len(), 1);
    // A single request at the very end of a capture is not a missing reply.
    assert!(run("tcpdump/ios_nhrp.pcap").findings.is_empty());
    // Spoke-to-spoke resolution (Phase 2): requests and replies between the spokes.
    let report = run("packetlife/mGRE_ICMP.cap");
    let pair = report.peer("172.16.25.2", "172.16.15.2").unwrap();
    let resolutions = pair
        .nhrp
        .events
        .iter()
        .filter(|e| matches!(e.kind, NhrpKind::ResolutionReply { code: 0, .. }))
        .count();
    assert_eq!(resolutions, 2);
    // strongSwan: a first Main Mode answered by NO-PROPOSAL-CHOSEN (frame 3), then a retry that
    // agrees, a Quick Mode and ESP both ways (no keys: counted, not decrypted).
    let report = run("zeek-spicy-ipsec/ipsec.cap");
    let rules: Vec<Rule> = report.rules().into_iter().collect();
    assert_eq!(rules, [Rule::IkeNoProposalChosen]);
    assert_eq!(report.findings[0].frames, [3]);
    let pair = &report.peers[0];
    assert_eq!(
        pair.ike[0].proposal.as_deref(),
        Some("3des sha group 2 pre-share")
    );
    let spis: BTreeSet<u32> = pair.esp.iter().map(|f| f.spi).collect();
    assert_eq!(spis, BTreeSet::from([0x0879_355b, 0x1c0d_7b38]));
    assert_eq!(pair.esp.iter().map(|f| f.packets.packets).sum::<u64>(), 16);
}

/// The decrypted capture (`dmvpn::decrypt`) read back without keys tells the same story inside
/// the tunnels: NHRP, EIGRP and inner traffic, with no ESP left.
#[test]
fn decrypted_capture_gives_the_same_sessions() {
    let with_keys = report();
    let keys = EspKeys::from_file(data().join("phase1.esp_sa")).unwrap();
    let mut reader = CaptureReader::open(data().join("phase1.pcap")).unwrap();
    let mut pcapng = Vec::new();
    dmvpn::decrypt::decrypt(&mut reader, &mut Decoder::new(keys), &mut pcapng).unwrap();
    let mut reader = CaptureReader::new(&pcapng[..]).unwrap();
    let plain = SessionBuilder::run(&mut reader, &mut Decoder::new(EspKeys::default())).unwrap();
    assert_eq!(plain.frames, with_keys.frames);
    assert_eq!(plain.peers.len(), with_keys.peers.len());
    for (a, b) in plain.peers.iter().zip(&with_keys.peers) {
        assert_eq!((a.a, a.b, a.a_is_hub), (b.a, b.b, b.a_is_hub));
        assert_eq!(a.tunnel, b.tunnel);
        assert_eq!(a.nhrp.events, b.nhrp.events);
        assert_eq!(a.eigrp, b.eigrp);
        // The ICV-failed packet stays ESP; everything else is plaintext now.
        let left: u64 = a.esp.iter().map(|f| f.packets.packets).sum();
        assert_eq!(left, b.esp.iter().map(|f| f.icv_failed).sum::<u64>());
        let inner = |p: &PeerPair| {
            p.inner
                .iter()
                .map(|(k, c)| (*k, c.packets))
                .collect::<Vec<_>>()
        };
        assert_eq!(inner(a), inner(b));
    }
    let rules = |r: &Report| r.rules();
    // No ESP means no ICV failure to see; the rest is found in the plaintext alike.
    let mut expected = rules(&with_keys);
    expected.remove(&Rule::EspIcvFailure);
    assert_eq!(rules(&plain), expected);
}

/// The lab recordings of real FRR peers (testdata/nhrp, testdata/eigrp READMEs): what the lab
/// run did is what the report says.
#[test]
fn lab_captures() {
    let run = |path: &str| {
        let file = dmvpn_testkit::testdata(path);
        let mut reader = CaptureReader::open(file).unwrap();
        SessionBuilder::run(&mut reader, &mut Decoder::new(EspKeys::default())).unwrap()
    };
    // FRR nhrpd registering with an NHS that never answers: the request and its retries after
    // 1, 2 and 4 s, all with request ID 1 and hold time 600 s.
    let report = run("nhrp/nhrpd-registration.pcap");
    let pair = report.peer("192.0.2.1", "192.0.2.11").unwrap();
    assert!(pair.a_is_hub);
    assert_eq!((pair.nhrp.requests, pair.nhrp.successes), (4, 0));
    for event in pair.nhrp.registrations() {
        assert!(matches!(
            event.kind,
            NhrpKind::RegistrationRequest {
                request_id: 1,
                hold_time: 600,
                unique: true,
                ..
            }
        ));
    }
    assert_eq!(
        pair.tunnel.get(&"10.99.200.11".parse().unwrap()),
        Some(&"192.0.2.11".parse().unwrap())
    );
    let rules: Vec<Rule> = report.rules().into_iter().collect();
    assert_eq!(rules, [Rule::NhrpNoRegistration]);
    assert_eq!(report.findings[0].frames, [1, 2, 3, 4]);
    // Two FRR EIGRP routers in AS 123 converging: each advertises its LAN and loopback.
    let report = run("eigrp/frr-plain.pcap");
    assert!(report.findings.is_empty());
    let pair = report.peer("10.99.0.1", "10.99.0.2").unwrap();
    let routes = |addr: &str| {
        let side = &pair.eigrp[usize::from(pair.a.to_string() != addr)];
        assert_eq!(side.autonomous_system, Some(123));
        assert_eq!(side.k, Some([1, 0, 1, 0, 0, 0]));
        side.routes
            .iter()
            .map(|(p, l)| format!("{p}/{l}"))
            .collect::<Vec<_>>()
    };
    assert_eq!(routes("10.99.0.1"), ["10.99.11.0/24", "10.99.255.1/32"]);
    assert_eq!(routes("10.99.0.2"), ["10.99.12.0/24", "10.99.255.2/32"]);
}
