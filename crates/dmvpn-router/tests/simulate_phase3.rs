//! DMVPN Phase 2 and Phase 3 clouds in the simulator (`testdata/router/phase2`, `phase3`): the
//! spoke-to-spoke flows go through the hub first and then direct, the direct tunnels come and
//! go as IOS's do, and a Phase 1 cloud never builds one. Each test names the IOS outcome it
//! reproduces.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::net::Ipv4Addr;
use std::path::Path;

use dmvpn_proto::Duration;
use dmvpn_router::config::Options;
use dmvpn_router::config::cloud::Member;
use dmvpn_router::simulate::{self, DirectTunnel, Flow, Hop, Outcome, Report, Scenario, WhatIf};

const ROUTER: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../../testdata/router");

fn member(dir: &str, name: &str, edit: impl Fn(String) -> String) -> Member {
    let file = format!("{dir}/{name}.cfg");
    let text = std::fs::read_to_string(Path::new(ROUTER).join(&file)).unwrap();
    Member::parse(&file, &edit(text), Options::default()).unwrap()
}

/// The cloud of `dir` (`phase2`, `phase3`, `tutorial`), R3's configuration edited by `edit`.
fn cloud(dir: &str, edit: impl Fn(String) -> String) -> Vec<Member> {
    let names: &[&str] = if dir == "phase3" {
        &["R1", "R2", "R3", "R4"]
    } else {
        &["R1", "R2", "R3"]
    };
    (names.iter())
        .map(|n| member(dir, n, |t| if *n == "R3" { edit(t) } else { t }))
        .collect()
}

fn run(routers: Vec<Member>, seconds: i64, tune: impl FnOnce(&mut Scenario)) -> Outcome {
    let mut scenario = Scenario::new(routers);
    scenario.duration = Duration::from_secs(seconds);
    tune(&mut scenario);
    simulate::run(&scenario).unwrap()
}

fn flow<'a>(report: &'a Report, from: &str, to: &str) -> &'a Flow {
    (report.flows.iter())
        .find(|f| f.from == from && f.to == to)
        .unwrap_or_else(|| panic!("no flow {from} → {to}\n{report}"))
}

fn tunnels<'a>(report: &'a Report, a: &str, b: &str) -> Vec<&'a DirectTunnel> {
    (report.direct.iter())
        .filter(|t| (t.a == a && t.b == b) || (t.a == b && t.b == a))
        .collect()
}

fn show<'a>(report: &'a Report, router: &str, command: &str) -> &'a str {
    let r = report.routers.iter().find(|r| r.name == router).unwrap();
    &r.shows.iter().find(|(c, _)| *c == command).unwrap().1
}

fn secs(s: i64) -> Duration {
    Duration::from_secs(s)
}

/// The ways a flow's packets went, in order (`via R1`, `direct`, `lost`).
fn ways(flow: &Flow) -> Vec<String> {
    flow.segments.iter().map(|s| s.hop.word()).collect()
}

/// IOS Phase 3 (`ip nhrp redirect` on the hub, `ip nhrp shortcut` on the spokes): the first
/// packet from R2 to R3's LAN goes through the hub, which answers with a Traffic Indication;
/// R2 resolves 3.3.3.3 through the hub, R3 answers it directly, the two spokes key an IPsec SA
/// (IKE between 100.1.2.2 and 100.1.3.3) and the rest of the flow goes straight from spoke to
/// spoke; `show ip route` on R2 marks the shortcut (`H`, or `%` for the overridden EIGRP next
/// hop) and `show dmvpn` lists R3 as a dynamic peer with a shortcut (`DT1`/`DT2`).
#[test]
fn phase3_redirect_builds_a_direct_tunnel() {
    let outcome = run(cloud("phase3", |t| t), 120, |s| {
        s.at = Some(secs(60));
    });
    let report = &outcome.report;
    let f = flow(report, "R2", "R3");
    let ways = ways(f);
    assert_eq!(ways.first().map(String::as_str), Some("via R1"), "{report}");
    assert_eq!(ways.last().map(String::as_str), Some("direct"), "{report}");
    assert_eq!(f.delivered, f.sent, "{report}");
    let direct_from = f.first_direct().unwrap();
    assert!(direct_from < secs(35), "{report}");
    let t = tunnels(report, "R2", "R3");
    assert_eq!(t.len(), 1, "{report}");
    assert!(
        t[0].up_at >= secs(30) && t[0].up_at <= direct_from,
        "{report}"
    );
    assert!(t[0].ike_sas >= 1 && t[0].spis.len() >= 2, "{report}");
    // Every pair of spokes has its flow and its tunnel.
    assert_eq!(report.flows.len(), 3);
    assert!(
        report.flows.iter().all(|f| f.first_direct().is_some()),
        "{report}"
    );
    assert_eq!(report.direct.len(), 3, "{report}");
    // The timeline tells the redirect, the resolution and the spokes' IKE.
    let said = |router: &str, words: &str| {
        (report.timeline.iter()).any(|e| e.router == router && e.text.contains(words))
    };
    assert!(said("R1", "Traffic Indication"), "{report}");
    assert!(said("R2", "Resolution Request"), "{report}");
    assert!(said("R2", "IKE SA up with R3"), "{report}");
    // What IOS shows on R2 while the flow runs.
    let dmvpn = show(report, "R2", "show dmvpn");
    assert!(dmvpn.contains("100.1.3.3"), "{dmvpn}");
    assert!(dmvpn.contains("DT1") || dmvpn.contains("DT2"), "{dmvpn}");
    let nhrp = show(report, "R2", "show ip nhrp");
    assert!(nhrp.contains("3.3.3.3/32 via 172.16.1.3"), "{nhrp}");
    assert!(nhrp.contains("Type: dynamic, Flags: router"), "{nhrp}");
    let route = show(report, "R2", "show ip route");
    assert!(
        route
            .lines()
            .any(|l| (l.starts_with('H') || l.contains('%')) && l.contains("3.3.3.3")),
        "{route}"
    );
    assert!(show(report, "R2", "show crypto isakmp sa").contains("100.1.3.3"));
    let json = report.to_json();
    assert!(
        json.contains("\"direct_tunnels\":[{\"a\":\"R2\",\"b\":\"R3\""),
        "{json}"
    );
    assert!(json.contains("\"way\":\"direct\""));
}

/// IOS Phase 2 (`no ip next-hop-self eigrp` on the hub, multipoint spokes): R2's route to
/// 3.3.3.3 points at R3's tunnel address; with no mapping for it R2 sends through its NHS while
/// it resolves 172.16.1.3, then straight to R3 (no redirect: the hub sends no Traffic
/// Indication).
#[test]
fn phase2_resolution_builds_a_direct_tunnel() {
    let outcome = run(cloud("phase2", |t| t), 120, |_| {});
    let report = &outcome.report;
    let f = flow(report, "R2", "R3");
    assert_eq!(
        ways(f).last().map(String::as_str),
        Some("direct"),
        "{report}"
    );
    assert!(f.first_direct().unwrap() < secs(35), "{report}");
    assert_eq!(tunnels(report, "R2", "R3").len(), 1, "{report}");
    let route = show(report, "R2", "show ip route");
    assert!(route.contains("3.3.3.3/32 [90/"), "{route}");
    assert!(route.contains("via 172.16.1.3"), "{route}");
    assert!(
        !(report.timeline.iter()).any(|e| e.text.contains("Traffic Indication")),
        "{report}"
    );
}

/// IOS refreshes a shortcut in use before it expires and lets an idle one go with its NHRP
/// holding time (`ip nhrp holdtime 300`): once the flow stops at 90 s, R2's entry for R3 is
/// refreshed at most once more (it was used since the last refresh) and then expires, and the
/// direct tunnel with it; the next packet (the matrix's probe at the end) goes through the hub
/// again and is redirected.
#[test]
fn idle_shortcut_expires() {
    let outcome = run(cloud("phase3", |t| t), 600, |_| {});
    let report = &outcome.report;
    let t = tunnels(report, "R2", "R3");
    assert!(!t.is_empty(), "{report}");
    let down = t[0].down_at.expect("the idle tunnel goes");
    assert!(
        down > secs(90 + 300) && down <= secs(90 + 2 * 300),
        "{report}"
    );
    assert!(
        (report.timeline.iter()).any(|e| e.router == "R2" && e.text.contains("expired (idle)")),
        "{report}"
    );
    let nhrp = show(report, "R2", "show ip nhrp");
    assert!(!nhrp.contains("3.3.3.3/32"), "{nhrp}");
    let route = show(report, "R2", "show ip route");
    assert!(!route.lines().any(|l| l.starts_with('H')), "{route}");
    // The matrix's probe at the end went through the hub again: the first packet of a new
    // flow, not a Phase 1 hairpin.
    let probe = (report.matrix.iter())
        .find(|p| p.from == "R2" && p.to == "R3")
        .unwrap();
    assert_eq!(probe.path, ["R2", "R1", "R3"], "{report}");
    assert!(
        !(report.findings.iter()).any(|f| f.id == "spoke-to-spoke-hairpin"),
        "{report}"
    );
}

/// A spoke that fails takes its shortcuts with it: IOS's peer loses the direct tunnel (its
/// entry is purged or expires, its IPsec SA dies with DPD or the holding time) and R3's LAN is
/// unreachable; R2 ↔ R4 keeps its own.
#[test]
fn failed_spoke_loses_its_direct_tunnels() {
    let outcome = run(cloud("phase3", |t| t), 600, |s| {
        s.what_ifs.push(WhatIf::Fail {
            router: "R3".to_owned(),
            at: secs(60),
        });
    });
    let report = &outcome.report;
    let t = tunnels(report, "R2", "R3");
    assert_eq!(t.len(), 1, "{report}");
    assert!(t[0].down_at.is_some_and(|d| d >= secs(60)), "{report}");
    let f = flow(report, "R2", "R3");
    assert_eq!(ways(f).last().map(String::as_str), Some("lost"), "{report}");
    let f = flow(report, "R2", "R4");
    assert!(f.delivered == f.sent, "{report}");
}

/// IOS keeps the traffic on the hub when the spokes cannot key each other: R3's pre-shared key
/// for any address but the hub's differs from R2's, Main Mode between them fails (IOS logs
/// `%CRYPTO-4-IKMP_BAD_MESSAGE`), no direct tunnel comes up and every packet of the flow still
/// goes through R1; the finding names the pair.
#[test]
fn spoke_psk_mismatch_stays_on_the_hub() {
    let edit = |t: String| {
        t.replace(
            "crypto isakmp key cisco123 address 0.0.0.0        \n",
            "crypto isakmp key cisco123 address 100.1.1.1\ncrypto isakmp key wrong456 address 0.0.0.0\n",
        )
    };
    let routers = cloud("phase3", edit);
    assert!(routers[2].config.to_string().contains("wrong456"));
    let outcome = run(routers, 120, |_| {});
    let report = &outcome.report;
    let f = flow(report, "R2", "R3");
    assert_eq!(ways(f), ["via R1"], "{report}");
    assert_eq!(f.delivered, f.sent, "{report}");
    assert!(tunnels(report, "R2", "R3").is_empty(), "{report}");
    assert!(
        (report.findings.iter()).any(|f| f.id == "ike-psk-mismatch" && f.message.contains("R3")),
        "{report}"
    );
    // R2 ↔ R4 are unaffected.
    assert_eq!(tunnels(report, "R2", "R4").len(), 1, "{report}");
}

/// `--pcap`: the spokes' own IKE (UDP 500) and ESP between 100.1.2.2 and 100.1.3.3 are on the
/// NBMA capture, and their keys in the key log, as a capture of IOS spokes with their keys
/// would have them.
#[test]
fn capture_has_the_spokes_ike_and_esp() {
    let outcome = run(cloud("phase3", |t| t), 60, |s| s.capture = true);
    let capture = outcome.capture.unwrap();
    let (r2, r3) = (Ipv4Addr::new(100, 1, 2, 2), Ipv4Addr::new(100, 1, 3, 3));
    let between = |p: &&dmvpn_proto::node::sim::Tapped| {
        (p.from == r2 && p.to == r3) || (p.from == r3 && p.to == r2)
    };
    let direct: Vec<_> = capture.packets.iter().filter(between).collect();
    assert!(direct.iter().any(|p| p.protocol == 17), "no IKE");
    assert!(direct.iter().any(|p| p.protocol == 50), "no ESP");
    let esp = capture.keys.esp_sa_lines();
    assert!(
        esp.iter()
            .any(|l| l.contains("100.1.2.2") && l.contains("100.1.3.3")),
        "{esp:?}"
    );
}

/// IOS Phase 1 (point-to-point spokes, the hub as next hop): spoke-to-spoke traffic always goes
/// through the hub and no direct tunnel is ever built.
#[test]
fn phase1_stays_on_the_hub() {
    let outcome = run(cloud("tutorial", |t| t), 120, |_| {});
    let report = &outcome.report;
    assert!(report.direct.is_empty(), "{report}");
    let f = flow(report, "R2", "R3");
    assert_eq!(ways(f), ["via R1"], "{report}");
    assert_eq!(f.sent, 60);
    assert!(matches!(&f.segments[0].hop, Hop::Path(p) if p == &["R2", "R1", "R3"]));
    assert!(
        report
            .to_string()
            .contains("none: spoke-to-spoke traffic went through the hub")
    );
}
