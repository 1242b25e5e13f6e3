//! `dmvpn replay --into hub|spoke` (`dmvpn::replay::into`): the capture's control plane fed into
//! dmvpn-proto's node machine, checked against what is known of how the captures were made
//! (tools/gen/gen_testdata.py for testdata/dmvpn/phase1.pcap, tools/gen/gen_sessions_triggers.py for
//! testdata/sessions).

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::net::Ipv4Addr;
use std::path::{Path, PathBuf};
use std::time::Duration;

use dmvpn::capture::CaptureReader;
use dmvpn::decode::{Decoder, IkeKeys};
use dmvpn::keys::EspKeys;
use dmvpn::replay::into::{self, EntryKind, IntoError, IntoOptions, Role, Timeline};
use dmvpn::session::{NhrpKind, SessionBuilder};

fn workspace() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn play(capture: &Path, options: &IntoOptions) -> Result<Timeline, IntoError> {
    let keys_file = capture.with_extension("esp_sa");
    let mut keys = || {
        let esp = if keys_file.exists() {
            EspKeys::from_file(&keys_file).unwrap()
        } else {
            EspKeys::default()
        };
        (esp, IkeKeys::default())
    };
    into::run(capture, &mut keys, options)
}

fn ip(s: &str) -> Ipv4Addr {
    s.parse().unwrap()
}

/// The options playing the router of `role` with NBMA address `nbma`.
fn at(role: Role, nbma: &str) -> IntoOptions {
    let mut options = IntoOptions::new(role);
    options.nbma = Some(ip(nbma));
    options
}

fn events(timeline: &Timeline) -> Vec<(Option<u64>, &str)> {
    timeline
        .entries
        .iter()
        .filter_map(|e| match &e.kind {
            EntryKind::Event(text) => Some((e.frame, text.as_str())),
            _ => None,
        })
        .collect()
}

#[test]
fn phase1_hub_accepts_the_spokes_the_real_hub_answered() {
    let capture = workspace().join("testdata/dmvpn/phase1.pcap");
    let timeline = play(&capture, &IntoOptions::new(Role::Hub)).unwrap();
    assert_eq!(timeline.node.nbma, ip("192.0.2.1"));
    assert_eq!(timeline.node.tunnel, ip("172.16.1.1"));
    assert_eq!(timeline.node.eigrp_as, Some(123));
    // Spoke A (192.0.2.11) was made with GRE key 123, the others and most of the hub's packets
    // without: the machine, keyed as the hub mostly is, drops spoke A's packets.
    assert_eq!(timeline.node.gre_key, None);
    let cache: Vec<(Ipv4Addr, Ipv4Addr)> = timeline
        .registrations
        .iter()
        .map(|r| (r.tunnel, r.nbma))
        .collect();
    assert_eq!(
        cache,
        [
            (ip("172.16.1.12"), ip("192.0.2.12")),
            (ip("172.16.1.13"), ip("198.51.100.7")),
            (ip("172.16.1.14"), ip("192.0.2.14")),
            (ip("172.16.1.15"), ip("192.0.2.15")),
        ]
    );
    assert!(
        timeline.registrations.iter().all(|r| r.expires_in > 7000),
        "hold time 7200 s"
    );
    assert!(events(&timeline).contains(&(
        Some(16),
        "NHRP registration accepted: 172.16.1.13 at 198.51.100.7 (behind NAT)"
    )));
    assert!(timeline.drops.contains(&("GreKeyMismatch".to_owned(), 6)));
    assert_eq!(timeline.neighbors, [ip("172.16.1.12"), ip("172.16.1.13")]);

    // Each reply the machine sends answers the request ID the real hub answered, to the same spoke.
    let keys = EspKeys::from_file(capture.with_extension("esp_sa")).unwrap();
    let mut reader = CaptureReader::open(&capture).unwrap();
    let report = SessionBuilder::run(&mut reader, &mut Decoder::new(keys)).unwrap();
    let mut real: Vec<(String, u32)> = report
        .peers
        .iter()
        .flat_map(|p| p.nhrp.events.iter().map(move |e| (p, e)))
        .filter_map(|(p, e)| match e.kind {
            NhrpKind::RegistrationReply {
                request_id,
                code: 0,
                ..
            } if e.from == p.a => Some((p.b.to_string(), request_id)),
            _ => None,
        })
        .collect();
    let mut machine: Vec<(String, u32)> = timeline
        .entries
        .iter()
        .filter_map(|e| match &e.kind {
            EntryKind::Sent { to, what } if what.starts_with("NHRP Registration Reply") => {
                let id = what.split("ID=").nth(1)?.split(',').next()?.parse().ok()?;
                Some((to.to_string(), id))
            }
            _ => None,
        })
        .collect();
    real.sort();
    machine.sort();
    // The real hub also answered spoke A (whose key the machine refuses).
    real.retain(|(spoke, _)| spoke != "192.0.2.11");
    assert_eq!(machine, real);
}

#[test]
fn phase1_spoke_registers_with_the_captured_reply() {
    let capture = workspace().join("testdata/dmvpn/phase1.pcap");
    let timeline = play(&capture, &at(Role::Spoke, "192.0.2.11")).unwrap();
    assert_eq!(timeline.node.tunnel, ip("172.16.1.11"));
    assert_eq!(timeline.node.nhs, Some((ip("172.16.1.1"), ip("192.0.2.1"))));
    assert_eq!(timeline.node.gre_key, Some(123));
    assert_eq!(timeline.node.first_request_id, Some(1));
    // The machine registers at boot (t = 0) with ID 1; the hub's reply in frame 13 answers it.
    let first = &timeline.entries[0];
    assert_eq!(first.time, Duration::ZERO);
    assert!(
        matches!(&first.kind, EntryKind::Sent { to, what } if *to == ip("192.0.2.1") && what == "NHRP Registration Request, ID=1")
    );
    assert!(events(&timeline).contains(&(
        Some(13),
        "NHRP registered with 172.16.1.1, holding time 7200 s"
    )));
    assert!(events(&timeline).contains(&(Some(23), "EIGRP neighbour 172.16.1.1 up, hold 15 s")));
    assert_eq!(timeline.registered, Some(true));
    assert_eq!(timeline.neighbors, [ip("172.16.1.1")]);
}

/// nhrp-hold-expired.pcap: spoke A registers with hold time 10 s and only re-registers 25 s
/// later: the hub machine expires the entry 10 s after accepting it, on a timer, and accepts the
/// late request again.
#[test]
fn hold_time_expiry_on_the_capture_clock() {
    let capture = workspace().join("testdata/sessions/nhrp-hold-expired.pcap");
    let timeline = play(&capture, &IntoOptions::new(Role::Hub)).unwrap();
    let accepted: Vec<_> = timeline
        .entries
        .iter()
        .filter(|e| matches!(&e.kind, EntryKind::Event(t) if t.starts_with("NHRP registration accepted: 172.16.1.11")))
        .map(|e| (e.frame, e.time))
        .collect();
    assert_eq!(accepted.len(), 2);
    assert_eq!(accepted[1].0, Some(13));
    let expiry = timeline
        .entries
        .iter()
        .find(|e| matches!(&e.kind, EntryKind::Event(t) if t == "NHRP cache entry expired: 172.16.1.11 at 192.0.2.11"))
        .unwrap();
    assert_eq!(expiry.frame, None, "a timer, not a frame");
    assert_eq!(expiry.time, accepted[0].1 + Duration::from_secs(10));
    assert!(expiry.time < accepted[1].1);
}

/// eigrp-k-mismatch.pcap: spoke B's hellos carry K 1/1/1/0/0 and the hub's 1/0/1/0/0.
#[test]
fn k_value_mismatch_refuses_the_neighbour() {
    let capture = workspace().join("testdata/sessions/eigrp-k-mismatch.pcap");
    let timeline = play(&capture, &IntoOptions::new(Role::Hub)).unwrap();
    let events = events(&timeline);
    assert!(events.contains(&(Some(5), "EIGRP neighbour 172.16.1.11 up, hold 15 s")));
    assert!(events.iter().any(|(_, t)| {
        t.starts_with("EIGRP neighbour 172.16.1.12: K-value mismatch (theirs [1, 1, 1, 0, 0, 0])")
    }));
    assert_eq!(timeline.neighbors, [ip("172.16.1.11")]);
}

#[test]
fn unknown_router_is_an_error() {
    let capture = workspace().join("testdata/sessions/healthy.pcap");
    let error = play(&capture, &at(Role::Hub, "203.0.113.9")).unwrap_err();
    assert_eq!(
        error.to_string(),
        "203.0.113.9 does not appear in the capture"
    );
}

#[test]
fn cli_prints_the_timeline() {
    let text = dmvpn_testkit::stdout_of(
        std::process::Command::new(env!("CARGO_BIN_EXE_dmvpn"))
            .arg("replay")
            .arg(workspace().join("testdata/sessions/eigrp-k-mismatch.pcap"))
            .args(["--into", "hub"]),
    );
    assert!(
        text.starts_with("hub 192.0.2.1 (tunnel 172.16.1.1), EIGRP AS 100"),
        "{text}"
    );
    assert!(text.contains("K-value mismatch"));
    assert!(text.contains("At the end of the capture:"));
    // --iface and --into exclude each other; one is needed.
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_dmvpn"))
        .arg("replay")
        .arg(workspace().join("testdata/sessions/healthy.pcap"))
        .output()
        .unwrap();
    assert!(!out.status.success());
}

fn play_with_ike_keys(capture: &Path, options: &IntoOptions) -> Timeline {
    let esp_file = capture.with_extension("esp_sa");
    let table_file = capture.with_extension("ikev1_decryption_table");
    let mut keys = || {
        let esp = EspKeys::from_file(&esp_file).unwrap();
        let table = std::fs::read_to_string(&table_file).unwrap();
        let mut ike = IkeKeys::default();
        ike.extend(dmvpn::keys::parse_ikev1_decryption_table(&table).unwrap());
        (esp, ike)
    };
    into::run(capture, &mut keys, options).unwrap()
}

/// phase1.pcap has spoke A's Main Mode (3des md5 group 2, cookies a1b2c3d4e5f60718 /
/// 1122334455667788, made by tools/gen/gen_testdata.py) and a Quick Mode 1. The hub machine takes
/// Main Mode 1 and 3 as the real hub did, answering with the real hub's responder cookie; Main
/// Mode 5 is encrypted under the real exchange's Diffie-Hellman, which the machine's own cannot
/// open, so the machine refuses it and no IKE SA is up; the capture's own view (with the
/// decryption table) says phase 1 was established.
#[test]
fn phase1_hub_answers_main_mode_with_the_captured_cookies() {
    let capture = workspace().join("testdata/dmvpn/phase1.pcap");
    let timeline = play_with_ike_keys(&capture, &IntoOptions::new(Role::Hub));
    let spoke_a = ip("192.0.2.11");
    let received: Vec<(u64, &str)> = timeline
        .entries
        .iter()
        .filter_map(|e| match &e.kind {
            EntryKind::Received { from, what }
                if *from == spoke_a && what.starts_with("ISAKMP") =>
            {
                Some((e.frame.unwrap(), what.as_str()))
            }
            _ => None,
        })
        .collect();
    assert_eq!(received.len(), 4, "{received:?}"); // MM1, MM3, MM5, QM1
    assert!(
        received[0]
            .1
            .contains("i-cookie a1b2c3d4e5f60718 r-cookie 0000000000000000")
    );
    assert!(received[2].1.ends_with("(encrypted)"));
    assert!(received[3].1.contains("msgid 0x01020304"));
    let sent: Vec<&str> = timeline
        .entries
        .iter()
        .filter_map(|e| match &e.kind {
            EntryKind::Sent { to, what } if *to == spoke_a && what.starts_with("ISAKMP") => {
                Some(what.as_str())
            }
            _ => None,
        })
        .collect();
    // Main Mode 2 and 4, with the real hub's responder cookie; then at most a notification
    // about Main Mode 5 (in the clear: the machine has no key the peer shares).
    let main_mode: Vec<&&str> = sent.iter().filter(|w| w.contains("Main Mode")).collect();
    assert_eq!(main_mode.len(), 2, "{sent:?}");
    for what in &sent {
        assert!(
            what.contains("i-cookie a1b2c3d4e5f60718 r-cookie 1122334455667788"),
            "{what}"
        );
        assert!(
            what.contains("Main Mode") || what.contains("Informational"),
            "{what}"
        );
    }
    assert!(!main_mode.iter().any(|w| w.ends_with("(encrypted)")));
    let refused: Vec<&str> = timeline
        .entries
        .iter()
        .filter_map(|e| match &e.kind {
            EntryKind::Dropped(text) if text.starts_with("ISAKMP from 192.0.2.11 refused") => {
                Some(text.as_str())
            }
            _ => None,
        })
        .collect();
    assert!(!refused.is_empty(), "Main Mode 5 cannot open");
    assert!(timeline.ike_refused >= 2, "{}", timeline.ike_refused);
    assert!(timeline.ike_sas.is_empty(), "{:?}", timeline.ike_sas);
    assert!(timeline.ipsec_sas.is_empty());
    assert!(
        timeline
            .capture_ike
            .iter()
            .any(|sa| sa.contains("initiated by 192.0.2.11")
                && sa.contains("a1b2c3d4e5f60718/1122334455667788")
                && sa.contains("3des md5 group 2 pre-share: established")),
        "{:?}",
        timeline.capture_ike
    );
    let text = timeline.to_string();
    assert!(text.contains("IKE in the capture: phase 1 with 192.0.2.11 initiated by 192.0.2.11"));
    // Spoke B's Main Mode 1 (fragmented, never answered in the capture) gets a cookie of the
    // machine's own, not one the real hub gave another peer.
    let b_answer = timeline.entries.iter().find_map(|e| match &e.kind {
        EntryKind::Sent { to, what } if *to == ip("192.0.2.12") && what.starts_with("ISAKMP") => {
            Some(what.as_str())
        }
        _ => None,
    });
    let b_answer = b_answer.expect("the machine answers spoke B's Main Mode 1");
    assert!(b_answer.contains("i-cookie b0b1b2b3b4b5b6b7"), "{b_answer}");
    assert!(!b_answer.contains("d0d1d2d3d4d5d6d7") && !b_answer.contains("1122334455667788"));
    assert!(text.contains("ISAKMP messages refused:"));
    // The NHRP and EIGRP side is as before.
    assert_eq!(timeline.registrations.len(), 4);
}

/// Without IKE in the capture the machine runs no IKE: nothing about ISAKMP in the timeline.
#[test]
fn sessions_without_ike_show_no_ike() {
    let dir = workspace().join("testdata/sessions");
    let capture = std::fs::read_dir(&dir)
        .unwrap()
        .filter_map(Result::ok)
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|x| x == "pcap"))
        .find(|p| {
            let mut decoder = Decoder::new(EspKeys::default());
            let mut reader = CaptureReader::open(p).unwrap();
            let report = SessionBuilder::run(&mut reader, &mut decoder).unwrap();
            report.peers.iter().all(|pair| pair.ike.is_empty())
                && report.peers.iter().any(|pair| pair.a_is_hub)
        })
        .expect("a capture of testdata/sessions without IKE");
    let timeline = play(&capture, &IntoOptions::new(Role::Hub)).unwrap();
    assert!(timeline.ike_sas.is_empty() && timeline.capture_ike.is_empty());
    assert_eq!(timeline.ike_refused, 0);
    assert!(timeline.entries.iter().all(|e| match &e.kind {
        EntryKind::Received { what, .. } | EntryKind::Sent { what, .. } =>
            !what.starts_with("ISAKMP"),
        _ => true,
    }));
}

/// Played as spoke A, the machine starts Main Mode itself with the cookie the real spoke used,
/// takes the hub's captured Main Mode 2 and 4 as answers to its own 1 and 3, sends its
/// encrypted Main Mode 5, and cannot open the hub's Main Mode 6 (sealed under the real
/// exchange's keys).
#[test]
fn phase1_spoke_runs_main_mode_with_the_captured_cookie() {
    let capture = workspace().join("testdata/dmvpn/phase1.pcap");
    let timeline = play_with_ike_keys(&capture, &IntoOptions::new(Role::Spoke));
    assert_eq!(timeline.node.nbma, ip("192.0.2.11"));
    let hub = ip("192.0.2.1");
    let isakmp: Vec<(bool, &str)> = timeline
        .entries
        .iter()
        .filter_map(|e| match &e.kind {
            EntryKind::Sent { to, what } if *to == hub && what.starts_with("ISAKMP") => {
                Some((true, what.as_str()))
            }
            EntryKind::Received { from, what } if *from == hub && what.starts_with("ISAKMP") => {
                Some((false, what.as_str()))
            }
            _ => None,
        })
        .collect();
    let sent = |i: usize| isakmp[i].0;
    assert!(isakmp.len() >= 6, "{isakmp:?}");
    assert!(
        sent(0)
            && isakmp[0]
                .1
                .contains("i-cookie a1b2c3d4e5f60718 r-cookie 0000000000000000")
    );
    assert!(!sent(1) && isakmp[1].1.contains("r-cookie 1122334455667788"));
    assert!(sent(2) && !isakmp[2].1.ends_with("(encrypted)"));
    assert!(!sent(3));
    assert!(
        sent(4) && isakmp[4].1.ends_with("(encrypted)"),
        "{isakmp:?}"
    );
    assert!(!sent(5) && isakmp[5].1.ends_with("(encrypted)"));
    assert!(
        events(&timeline)
            .iter()
            .any(|(_, text)| *text == "IKE phase 1 with 192.0.2.1 failed: AuthenticationFailed")
    );
    assert!(timeline.ike_sas.is_empty());
    assert!(
        timeline
            .to_string()
            .contains("the machine's Diffie-Hellman value is its own")
    );
}
