//! `dmvpn-router simulate` over IKEv2: the hub and two spokes of `testdata/router/ikev2/`
//! (`crypto ikev2 proposal/policy/keyring/profile`, `set ikev2-profile`) key their tunnels with
//! IKEv2, register, and bring up their EIGRP adjacencies in virtual time.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use dmvpn_proto::Duration;
use dmvpn_router::config::Options;
use dmvpn_router::config::cloud::Member;
use dmvpn_router::simulate::{self, Scenario};

const DIR: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../../testdata/router/ikev2");

fn members() -> Vec<Member> {
    ["hub", "spoke1", "spoke2"]
        .iter()
        .map(|name| {
            let path = format!("{DIR}/{name}.cfg");
            let text = std::fs::read_to_string(&path).unwrap();
            Member::parse(&path, &text, Options::default()).unwrap()
        })
        .collect()
}

#[test]
fn hub_and_spokes_over_ikev2_reach_full_adjacency() {
    let mut scenario = Scenario::new(members());
    scenario.duration = Duration::from_secs(120);
    let report = simulate::run(&scenario).unwrap().report;
    assert_eq!(report.peers.len(), 2, "{report}");
    for peer in &report.peers {
        assert!(peer.registered, "{} not registered:\n{report}", peer.spoke);
        assert!(peer.adjacent, "{} not adjacent:\n{report}", peer.spoke);
        assert!(peer.spis.len() >= 2, "{}: {:?}", peer.spoke, peer.spis);
        assert!(peer.ike_sas >= 1, "{}: no IKE SA counted", peer.spoke);
    }
    assert!(report.matrix.iter().all(|p| p.pass), "{report}");
    let converged = report.converged_at.unwrap();
    assert!(converged < Duration::from_secs(30), "{converged:?}");
    let errors: Vec<_> = (report.findings.iter())
        .filter(|f| f.severity == "error")
        .collect();
    assert!(errors.is_empty(), "{errors:?}");
    // Every router's report has `show crypto ikev2 sa`, right after `show crypto isakmp sa`,
    // with its IKE SAs READY: the hub two, each spoke one.
    for router in &report.routers {
        let commands: Vec<&str> = router.shows.iter().map(|(c, _)| *c).collect();
        assert_eq!(commands, simulate::show_commands(true), "{}", router.name);
        let (_, text) = (router.shows.iter())
            .find(|(c, _)| *c == simulate::IKEV2_SHOW_COMMAND)
            .unwrap();
        let ready = text.lines().filter(|l| l.contains("READY")).count();
        assert_eq!(ready, if router.role == "hub" { 2 } else { 1 }, "{text}");
    }
}

/// A spoke whose keyring key differs from the hub's: IKE_AUTH fails, no SA, no registration;
/// the config check and the run both say why, the key itself nowhere.
#[test]
fn wrong_key_no_sa() {
    let mut routers = members();
    let path = format!("{DIR}/spoke1.cfg");
    let text = std::fs::read_to_string(&path).unwrap().replace(
        "pre-shared-key lab-psk-secret",
        "pre-shared-key not-the-hubs",
    );
    routers[1] = Member::parse("spoke1.cfg", &text, Options::default()).unwrap();
    let mut scenario = Scenario::new(routers);
    scenario.duration = Duration::from_secs(60);
    let report = simulate::run(&scenario).unwrap().report;
    let spoke1 = report.peers.iter().find(|p| p.spoke == "spoke1").unwrap();
    assert!(!spoke1.registered && spoke1.spis.is_empty(), "{report}");
    let spoke2 = report.peers.iter().find(|p| p.spoke == "spoke2").unwrap();
    assert!(spoke2.registered && spoke2.adjacent, "{report}");
    let ids: Vec<_> = report.findings.iter().map(|f| (f.id, f.source)).collect();
    assert!(
        ids.contains(&("ike-psk-mismatch", simulate::Source::Runtime)),
        "{ids:?}"
    );
    assert!(
        ids.contains(&("ike-psk-mismatch", simulate::Source::Config)),
        "{ids:?}"
    );
    let shown = report.to_string();
    assert!(!shown.contains("not-the-hubs") && !shown.contains("lab-psk-secret"));
}

/// The hub's profile without the `match identity remote fqdn` of spoke2 (which sends
/// `identity local fqdn`): the hub refuses spoke2 in IKE_AUTH, spoke1 (an address identity
/// under `address 0.0.0.0`) comes up; the config check foresees it, the run shows it.
#[test]
fn unmatched_identity_no_sa() {
    let mut routers = members();
    let path = format!("{DIR}/hub.cfg");
    let text = std::fs::read_to_string(&path)
        .unwrap()
        .replace(" match identity remote fqdn spoke2.lab.example\n", "");
    routers[0] = Member::parse("hub.cfg", &text, Options::default()).unwrap();
    let mut scenario = Scenario::new(routers);
    scenario.duration = Duration::from_secs(60);
    let report = simulate::run(&scenario).unwrap().report;
    let spoke2 = report.peers.iter().find(|p| p.spoke == "spoke2").unwrap();
    assert!(!spoke2.registered && spoke2.spis.is_empty(), "{report}");
    let spoke1 = report.peers.iter().find(|p| p.spoke == "spoke1").unwrap();
    assert!(spoke1.registered && spoke1.adjacent, "{report}");
    let ids: Vec<_> = report.findings.iter().map(|f| (f.id, f.source)).collect();
    assert!(
        ids.contains(&("ike-identity-mismatch", simulate::Source::Runtime)),
        "{ids:?}"
    );
    assert!(
        ids.contains(&("ike-identity-mismatch", simulate::Source::Config)),
        "{ids:?}"
    );
}
