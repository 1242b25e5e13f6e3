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

/// Runs the cloud for 60 s with router `index`'s config (`name`.cfg) passed through `edit`.
fn run_edited(index: usize, name: &str, edit: impl Fn(String) -> String) -> simulate::Report {
    let mut routers = members();
    let text = std::fs::read_to_string(format!("{DIR}/{name}.cfg")).unwrap();
    routers[index] =
        Member::parse(&format!("{name}.cfg"), &edit(text), Options::default()).unwrap();
    let mut scenario = Scenario::new(routers);
    scenario.duration = Duration::from_secs(60);
    simulate::run(&scenario).unwrap().report
}

/// `refused` got no SA and did not register, `kept` came up, and finding `id` was raised both
/// by the config check and by the run.
fn refused_one(report: &simulate::Report, refused: &str, kept: &str, id: &str) {
    let peer = |name| report.peers.iter().find(|p| p.spoke == name).unwrap();
    assert!(
        !peer(refused).registered && peer(refused).spis.is_empty(),
        "{report}"
    );
    assert!(peer(kept).registered && peer(kept).adjacent, "{report}");
    let ids: Vec<_> = report.findings.iter().map(|f| (f.id, f.source)).collect();
    for source in [simulate::Source::Runtime, simulate::Source::Config] {
        assert!(ids.contains(&(id, source)), "{ids:?}");
    }
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
    let report = run_edited(1, "spoke1", |text| {
        text.replace(
            "pre-shared-key lab-psk-secret",
            "pre-shared-key not-the-hubs",
        )
    });
    refused_one(&report, "spoke1", "spoke2", "ike-psk-mismatch");
    let shown = report.to_string();
    assert!(!shown.contains("not-the-hubs") && !shown.contains("lab-psk-secret"));
}

/// The hub's profile without the `match identity remote fqdn` of spoke2 (which sends
/// `identity local fqdn`): the hub refuses spoke2 in IKE_AUTH, spoke1 (an address identity
/// under `address 0.0.0.0`) comes up; the config check foresees it, the run shows it.
#[test]
fn unmatched_identity_no_sa() {
    let report = run_edited(0, "hub", |text| {
        text.replace(" match identity remote fqdn spoke2.lab.example\n", "")
    });
    refused_one(&report, "spoke2", "spoke1", "ike-identity-mismatch");
}
