//! `dmvpn-router simulate` on the tutorial's configurations and their broken variants: the
//! reachability each really has, the findings, the faults as a real cloud shows them, and the
//! what-ifs. Each run is a few minutes of virtual time (milliseconds of wall time).
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::Path;

use dmvpn_proto::Duration;
use dmvpn_router::config::Options;
use dmvpn_router::config::cloud::Member;
use dmvpn_router::simulate::{self, Kind, Report, Scenario, Source, WhatIf};

const TUTORIAL: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../../testdata/router/tutorial"
);

fn member(path: &Path) -> Member {
    let text = std::fs::read_to_string(path).unwrap();
    Member::parse(&path.display().to_string(), &text, Options::default()).unwrap()
}

/// R1, R2 and R3, with `variant` (a file of `broken/`) in place of the router its name ends
/// with.
fn tutorial(variant: Option<&str>) -> Vec<Member> {
    let dir = Path::new(TUTORIAL);
    ["R1", "R2", "R3"]
        .iter()
        .map(|r| match variant {
            Some(v) if v.ends_with(&format!(".{r}.cfg")) => member(&dir.join("broken").join(v)),
            _ => member(&dir.join(format!("{r}.cfg"))),
        })
        .collect()
}

fn run(routers: Vec<Member>, seconds: i64, tune: impl FnOnce(&mut Scenario)) -> Report {
    let mut scenario = Scenario::new(routers);
    scenario.duration = Duration::from_secs(seconds);
    tune(&mut scenario);
    simulate::run(&scenario).unwrap().report
}

/// `from→to` for each probe that passes, e.g. `R2→R3`.
fn passing(report: &Report) -> Vec<String> {
    (report.matrix.iter())
        .filter(|p| p.pass)
        .map(|p| format!("{}→{}", p.from, p.to))
        .collect()
}

fn show<'a>(report: &'a Report, router: &str, command: &str) -> &'a str {
    let router = report.routers.iter().find(|r| r.name == router).unwrap();
    let (_, text) = router.shows.iter().find(|(c, _)| *c == command).unwrap();
    text
}

/// `command`'s output on `router` has `present` in it and not `absent`.
fn shows_only(report: &Report, router: &str, command: &str, present: &str, absent: &str) {
    let out = show(report, router, command);
    assert!(out.contains(present) && !out.contains(absent), "{out}");
}

fn runtime_ids(report: &Report) -> Vec<&'static str> {
    let mut ids: Vec<_> = (report.findings.iter())
        .filter(|f| f.source == Source::Runtime && f.severity != "info")
        .map(|f| f.id)
        .collect();
    ids.dedup();
    ids
}

/// The tutorial's configurations converge within seconds to full reachability, spoke to spoke
/// through the hub, with no finding but the hairpin Phase 1 is.
#[test]
fn tutorial_converges_to_full_reachability() {
    let report = run(tutorial(None), 120, |_| {});
    assert_eq!(report.matrix.len(), 6);
    // IKEv1 routers: the eight show commands, no `show crypto ikev2 sa`.
    for router in &report.routers {
        let commands: Vec<&str> = router.shows.iter().map(|(c, _)| *c).collect();
        assert_eq!(commands, simulate::SHOW_COMMANDS, "{}", router.name);
    }
    assert!(report.matrix.iter().all(|p| p.pass), "{report}");
    let r2_r3 = (report.matrix.iter())
        .find(|p| p.from == "R2" && p.to == "R3")
        .unwrap();
    assert_eq!(r2_r3.path, ["R2", "R1", "R3"]);
    assert_eq!(r2_r3.to_prefix.to_string(), "3.3.3.3/32");
    let converged = report.converged_at.unwrap();
    assert!(converged < Duration::from_secs(15), "{converged:?}");
    assert!(converged > Duration::ZERO);
    let ids: Vec<_> = report.findings.iter().map(|f| f.id).collect();
    assert_eq!(ids, ["spoke-to-spoke-hairpin"]);
    // The timeline has each kind of thing that matters, in time order.
    let texts: Vec<&str> = report.timeline.iter().map(|e| e.text.as_str()).collect();
    for needle in [
        "IKE SA up with R1",
        "IPsec SA pair with R2",
        "registration of R3 (172.16.1.3) accepted",
        "registered with NHS R1",
        "EIGRP adjacency with R1 (172.16.1.1) up",
        "learnt route 3.3.3.3/32 via 172.16.1.1",
    ] {
        assert!(
            texts.iter().any(|t| t.contains(needle)),
            "{needle}: {texts:?}"
        );
    }
    assert!(report.timeline.windows(2).all(|w| w[0].at <= w[1].at));
    // Each router's show output, as the live router's control socket gives it.
    assert!(show(&report, "R1", "show dmvpn").contains("Type:Hub, NHRP Peers:2,"));
    assert!(show(&report, "R2", "show dmvpn").contains("100.1.1.1            172.16.1.1    UP"));
    assert!(
        show(&report, "R2", "show ip route")
            .contains("D        3.3.3.3/32 [90/28160256] via 172.16.1.1, Tunnel0")
    );
    assert_eq!(
        show(&report, "R1", "show crypto isakmp sa")
            .matches("QM_IDLE")
            .count(),
        2
    );
    assert_eq!(report.peers.len(), 2);
    assert!(
        report
            .peers
            .iter()
            .all(|p| p.registered && p.adjacent && p.ike_sas == 1 && p.spis.len() == 2)
    );
    // Text and JSON carry it all.
    let text = report.to_string();
    assert!(text.contains("== Reachability at 2m00.000s: 6/6 pass =="));
    let json = report.to_json();
    assert!(json.starts_with("{\"seed\":1,") && json.ends_with("}\n"));
    assert!(json.contains("\"path\":[\"R2\",\"R1\",\"R3\"]"));
}

/// The same seed gives the same run; another seed other SPIs.
#[test]
fn deterministic() {
    let a = run(tutorial(None), 30, |_| {}).to_json();
    let b = run(tutorial(None), 30, |_| {}).to_json();
    assert_eq!(a, b);
    let c = run(tutorial(None), 30, |s| s.seed = 2).to_json();
    assert_ne!(a, c);
}

/// Each one-fault variant of the tutorial gives the finding `dmvpn-router check` gives
/// (`broken/expected.txt`), the finding the run shows under the same rule, and the
/// reachability the fault really leaves.
#[test]
fn broken_variants() {
    let cases: [(&str, &[&str], &[&str]); 10] = [
        (
            "wrong-psk.R2.cfg",
            &["ike-psk-mismatch"],
            &["R1→R3", "R3→R1"],
        ),
        (
            "missing-wildcard.R1.cfg",
            &["ike-no-proposal-chosen"],
            &["R1→R2", "R2→R1"],
        ),
        (
            "transform-set-mismatch.R3.cfg",
            &["ike-transform-set-mismatch"],
            &["R1→R2", "R2→R1"],
        ),
        (
            "nhrp-auth-mismatch.R3.cfg",
            &["nhrp-auth-mismatch"],
            &["R1→R2", "R2→R1"],
        ),
        (
            "split-horizon-on.R1.cfg",
            &["eigrp-split-horizon"],
            &["R1→R2", "R1→R3", "R2→R1", "R3→R1"],
        ),
        (
            "eigrp-as-mismatch.R2.cfg",
            &["eigrp-as-mismatch"],
            &["R1→R3", "R3→R1"],
        ),
        (
            "wrong-nhs.R2.cfg",
            &["nhrp-no-registration"],
            &["R1→R3", "R3→R1"],
        ),
        ("missing-multicast-map.R1.cfg", &["nhrp-no-multicast"], &[]),
        (
            "mss-missing.R3.cfg",
            &[],
            &["R1→R2", "R1→R3", "R2→R1", "R2→R3", "R3→R1", "R3→R2"],
        ),
        (
            "mtu-missing.R2.cfg",
            &[],
            &["R1→R2", "R1→R3", "R2→R1", "R2→R3", "R3→R1", "R3→R2"],
        ),
    ];
    let expected =
        std::fs::read_to_string(Path::new(TUTORIAL).join("broken/expected.txt")).unwrap();
    let expected: Vec<(&str, &str)> = (expected.lines())
        .filter(|l| !l.starts_with('#') && !l.trim().is_empty())
        .map(|l| {
            let mut words = l.split_whitespace();
            (words.next().unwrap(), words.next().unwrap())
        })
        .collect();
    assert_eq!(expected.len(), cases.len(), "every variant has its case");
    for (variant, check_id) in expected {
        let (_, runtime, reach) = cases.iter().find(|(v, _, _)| *v == variant).unwrap();
        let report = run(tutorial(Some(variant)), 180, |_| {});
        let config: Vec<_> = (report.findings.iter())
            .filter(|f| f.source == Source::Config)
            .map(|f| f.id)
            .collect();
        assert_eq!(config, [check_id], "{variant}");
        assert_eq!(runtime_ids(&report), *runtime, "{variant}: {report}");
        assert_eq!(passing(&report), *reach, "{variant}: {report}");
    }
}

/// Wrong PSK: no IKE SA with the spoke (its Main Mode fails at the hash), and the spoke keeps
/// trying, every 15 s (IOS's retries come from the crypto socket's NHRP requests).
#[test]
fn wrong_psk_no_ike_sa_and_retries() {
    let report = run(tutorial(Some("wrong-psk.R2.cfg")), 120, |_| {});
    shows_only(
        &report,
        "R1",
        "show crypto isakmp sa",
        "100.1.3.3",
        "100.1.2.2",
    );
    assert!(!show(&report, "R2", "show crypto ipsec sa").contains("current_peer"));
    let attempts: Vec<Duration> = (report.timeline.iter())
        .filter(|e| e.router == "R2" && e.text.starts_with("IKE: initiating Main Mode"))
        .map(|e| e.at)
        .collect();
    assert!(attempts.len() >= 7, "{attempts:?}");
    assert!(
        attempts
            .windows(2)
            .all(|w| w[1] - w[0] >= Duration::from_secs(15))
    );
    assert!(show(&report, "R2", "show dmvpn").contains("   IKE "));
}

/// NHRP authentication mismatch: the hub answers with an Error Indication, and the spoke is in
/// no cache; the other spoke is unaffected.
#[test]
fn nhrp_auth_error_indication_no_registration() {
    let report = run(tutorial(Some("nhrp-auth-mismatch.R3.cfg")), 120, |_| {});
    assert!(report.timeline.iter().any(|e| e.router == "R3"
        && e.kind == Kind::Fault
        && e.text.contains("Error Indication: AuthenticationFailure")));
    shows_only(&report, "R1", "show ip nhrp", "172.16.1.2/32", "172.16.1.3");
    assert!(show(&report, "R3", "show ip nhrp nhs").contains("172.16.1.1  E "));
    assert!(show(&report, "R1", "show counters").contains("dropped NhrpRefused"));
}

/// Split horizon on at the hub: each spoke has the hub's loopback, not the other spoke's.
#[test]
fn split_horizon_spokes_miss_each_other() {
    let report = run(tutorial(Some("split-horizon-on.R1.cfg")), 60, |_| {});
    shows_only(&report, "R2", "show ip route", "1.1.1.1/32", "3.3.3.3/32");
    let r1 = show(&report, "R1", "show ip route");
    assert!(r1.contains("2.2.2.2/32") && r1.contains("3.3.3.3/32"));
}

/// AS mismatch: IPsec and NHRP are up, EIGRP is not.
#[test]
fn as_mismatch_no_adjacency() {
    let report = run(tutorial(Some("eigrp-as-mismatch.R2.cfg")), 60, |_| {});
    shows_only(
        &report,
        "R1",
        "show ip eigrp neighbors",
        "172.16.1.3",
        "172.16.1.2",
    );
    assert!(show(&report, "R1", "show ip nhrp").contains("172.16.1.2/32"));
    let peer = report.peers.iter().find(|p| p.spoke == "R2").unwrap();
    assert!(peer.registered && !peer.adjacent && peer.ike_sas == 1);
}

/// The hub fails and comes back: everything with it breaks, for as long as it is off plus
/// the time to key, register and form adjacencies again, and the report says so.
#[test]
fn hub_fails_and_restarts() {
    let report = run(tutorial(None), 240, |s| {
        s.what_ifs = vec![
            WhatIf::Fail {
                router: "R1".into(),
                at: Duration::from_secs(60),
            },
            WhatIf::Restart {
                router: "R1".into(),
                at: Duration::from_secs(90),
            },
        ];
    });
    assert_eq!(report.disruptions.len(), 2);
    let fail = &report.disruptions[0];
    assert_eq!(fail.what, "R1 fails");
    let adjacency = (fail.broke.iter())
        .find(|o| o.what == "R2: EIGRP adjacency with R1 (172.16.1.1)")
        .unwrap();
    // The spoke notices at the hold time (15 s).
    assert!(
        adjacency.down_at > Duration::from_secs(70) && adjacency.down_at <= Duration::from_secs(76)
    );
    let back = adjacency.up_at.unwrap();
    assert!(
        back > Duration::from_secs(90) && back < Duration::from_secs(130),
        "{back:?}"
    );
    let recovered = fail.recovered_at.unwrap();
    assert!(recovered > Duration::from_secs(90), "{report}");
    assert!(
        (fail.recovery.iter()).any(|e| e.text.contains("registration of R2 (172.16.1.2) accepted"))
    );
    // (everything was already down when it restarted)
    assert!(report.disruptions[1].broke.is_empty());
    assert!(report.matrix.iter().all(|p| p.pass), "{report}");
    assert!(report.converged_at.unwrap() < Duration::from_secs(60));
}

/// A partition between the hub and one spoke: that spoke loses its adjacency and routes and
/// gets them back after the network heals; the other spoke keeps the hub's.
#[test]
fn partition_and_heal() {
    let report = run(tutorial(None), 200, |s| {
        s.what_ifs = vec![WhatIf::Partition {
            a: "R1".into(),
            b: "R2".into(),
            from: Duration::from_secs(60),
            until: Duration::from_secs(120),
        }];
    });
    let d = &report.disruptions[0];
    assert!(d.what.contains("between R1 and R2 is cut for 1m00.000s"));
    let names: Vec<&str> = d.broke.iter().map(|o| o.what.as_str()).collect();
    assert!(
        names.contains(&"R2: EIGRP adjacency with R1 (172.16.1.1)"),
        "{names:?}"
    );
    assert!(names.contains(&"R3: route to 2.2.2.2/32"), "{names:?}");
    assert!(
        !names.iter().any(|n| n.starts_with("R3: EIGRP")),
        "{names:?}"
    );
    assert!(
        d.broke
            .iter()
            .all(|o| o.up_at.is_some_and(|t| t >= Duration::from_secs(120)))
    );
    assert!(report.matrix.iter().all(|p| p.pass));
}

/// A configuration change: R2 gets the wrong PSK at 60 s and reloads with it, and never
/// comes back; the report names it by the new file's finding.
#[test]
fn change_to_a_broken_config() {
    let dir = Path::new(TUTORIAL);
    let report = run(tutorial(None), 180, |s| {
        s.what_ifs = vec![WhatIf::Change {
            router: "R2".into(),
            config: Box::new(member(&dir.join("broken/wrong-psk.R2.cfg"))),
            at: Duration::from_secs(60),
        }];
    });
    let d = &report.disruptions[0];
    assert!(d.what.starts_with("R2 reloads with"));
    assert!(d.recovered_at.is_none());
    assert!(runtime_ids(&report).contains(&"ike-psk-mismatch"));
    assert_eq!(passing(&report), ["R1→R3", "R3→R1"]);
}

/// With 5 % loss on every hop the cloud still converges (retransmissions), later.
#[test]
fn loss_still_converges() {
    let report = run(tutorial(None), 180, |s| s.loss = 5);
    assert!(report.lost == 0 || report.packets > 0);
    assert!(report.matrix.iter().all(|p| p.pass), "{report}");
}

/// A spoke behind NAT registers with its outside address (the hub's cache shows both), on
/// unprotected tunnels. With IPsec the IKE machine, which has no NAT traversal (UDP 4500),
/// refuses the spoke's Quick Mode identities (GRE between the inside address and the hub's):
/// the run shows that failure, where IOS would use NAT-T.
#[test]
fn spoke_behind_nat() {
    let plain: Vec<Member> = (tutorial(None).into_iter())
        .map(|m| {
            let text = std::fs::read_to_string(&m.name).unwrap();
            let text = text.replace(" tunnel protection ipsec profile protect-gre\n", "");
            let text = text.replace("tunnel protection ipsec profile protect-gre\n", "");
            Member::parse(&m.name, &text, Options::default()).unwrap()
        })
        .collect();
    let nat = |s: &mut Scenario| s.nat = vec![("R3".into(), "203.0.113.3".parse().unwrap())];
    let report = run(plain, 60, nat);
    let cache = show(&report, "R1", "show ip nhrp");
    assert!(cache.contains("NBMA address: 203.0.113.3"), "{report}");
    assert!(cache.contains("(Claimed NBMA address: 100.1.3.3)"));
    assert!(show(&report, "R1", "show dmvpn").contains("203.0.113.3          172.16.1.3    UP"));
    assert!(report.matrix.iter().all(|p| p.pass), "{report}");
    let report = run(tutorial(None), 60, nat);
    assert!(report.timeline.iter().any(|e| {
        e.text
            .contains("Quick Mode with R3 (203.0.113.3) failed: InvalidId")
    }));
}

/// What the scenario refuses, by name.
#[test]
fn refusals() {
    let mut scenario = Scenario::new(tutorial(None));
    scenario.what_ifs = vec![WhatIf::Fail {
        router: "R9".into(),
        at: Duration::from_secs(1),
    }];
    assert_eq!(
        simulate::run(&scenario).unwrap_err().to_string(),
        "no router is called `R9` (use a hostname or a file name)"
    );
    let mut scenario = Scenario::new(tutorial(None));
    scenario.at = Some(Duration::from_secs(700));
    assert!(simulate::run(&scenario).is_err());
    assert!(simulate::run(&Scenario::new(Vec::new())).is_err());
    let mut twice = tutorial(None);
    twice.push(twice[1].clone());
    assert!(
        simulate::run(&Scenario::new(twice))
            .unwrap_err()
            .to_string()
            .contains("same NBMA address")
    );
}

/// An edit of R2 (from, to), check's finding, the run's, the probes that pass.
type Edit<'a> = (&'a str, &'a str, &'a str, &'a [&'a str], Vec<String>);

/// The edits of the configuration checker's own tests (`config/cloud/tests.rs`, on the
/// tutorial's R2): each gives check's finding, and the run shows what IOS would do with it.
#[test]
fn checker_edits() {
    let p = |list: &[&str]| list.iter().map(ToString::to_string).collect::<Vec<_>>();
    let hub_r3 = p(&["R1→R3", "R3→R1"]);
    let all = p(&["R1→R2", "R1→R3", "R2→R1", "R2→R3", "R3→R1", "R3→R2"]);
    let cases: [Edit<'_>; 7] = [
        // A GRE key on one side: the hub drops the spoke's GRE, nothing registers.
        (
            " tunnel protection",
            " tunnel key 7\n tunnel protection",
            "gre-key-mismatch",
            &["nhrp-no-registration"],
            hub_r3.clone(),
        ),
        // A /16 against the hub's /24: both still see each other on a common subnet.
        (
            " ip address 172.16.1.2 255.255.255.0",
            " ip address 172.16.1.2 255.255.0.0",
            "tunnel-subnet-mismatch",
            &[],
            all,
        ),
        // R2 takes R3's tunnel address: the hub refuses the second (unique) registration.
        (
            " ip address 172.16.1.2 255.255.255.0",
            " ip address 172.16.1.3 255.255.255.0",
            "duplicate-tunnel-address",
            &["nhrp-registration-refused"],
            p(&["R1→R2", "R2→R1"]),
        ),
        // Clear GRE to a hub that wants ESP: dropped, no registration.
        (
            " tunnel protection ipsec profile protect-gre\n",
            "",
            "ipsec-protection-mismatch",
            &["nhrp-no-registration"],
            hub_r3.clone(),
        ),
        // No ISAKMP policy in common.
        (
            " encr 3des",
            " encr aes 256",
            "ike-no-proposal-chosen",
            &["ike-no-proposal-chosen"],
            hub_r3.clone(),
        ),
        // EIGRP not on the tunnel: keyed and registered, no routes.
        (
            " network 172.16.1.0 0.0.0.255\n",
            "",
            "eigrp-not-on-tunnel",
            &[],
            hub_r3.clone(),
        ),
        // A multipoint spoke without a multicast map: its Hellos go nowhere.
        (
            " tunnel destination 100.1.1.1\n",
            " tunnel mode gre multipoint\n",
            "nhrp-no-multicast",
            &[],
            hub_r3,
        ),
    ];
    let r2 = Path::new(TUTORIAL).join("R2.cfg");
    let text = std::fs::read_to_string(&r2).unwrap();
    for (from, to, check_id, runtime, reach) in cases {
        assert!(text.contains(from), "{from}");
        let edited = text.replacen(from, to, 1);
        let mut routers = tutorial(None);
        routers[1] = Member::parse("R2.cfg", &edited, Options::default()).unwrap();
        let report = run(routers, 180, |_| {});
        let config: Vec<_> = (report.findings.iter())
            .filter(|f| f.source == Source::Config)
            .map(|f| f.id)
            .collect();
        assert_eq!(config, [check_id], "{to}");
        assert_eq!(runtime_ids(&report), runtime, "{check_id}: {report}");
        assert_eq!(passing(&report), reach, "{check_id}: {report}");
    }
    // What the router cannot run is refused with the reason, as `run` refuses it.
    let mut routers = tutorial(None);
    let tunnel_mode = text.replacen(" mode transport\n", "", 1);
    routers[1] = Member::parse("R2.cfg", &tunnel_mode, Options::default()).unwrap();
    let error = simulate::run(&Scenario::new(routers))
        .unwrap_err()
        .to_string();
    assert!(
        error.contains("tunnel mode (add ` mode transport`)"),
        "{error}"
    );
}
