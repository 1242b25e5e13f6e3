//! DMVPN Phase 2 on the simulated NBMA network: spokes learn each other's LANs with the other
//! spoke's tunnel address as next hop (hub `no ip next-hop-self eigrp 100` and `no ip
//! split-horizon eigrp 100`), resolve that next hop through the hub and send directly. Each
//! test states what an IOS cloud with the same configuration shows.

#[path = "util/cloud.rs"]
mod cloud_util;
#[path = "util/shortcut.rs"]
mod shortcut_util;

use cloud_util::{HUB_NBMA, host, lan, ping, spoke_nbma, spoke_tunnel};
use dmvpn_nhrp::CieCode;
use dmvpn_proto::nhrp::shortcut::Purpose;
use dmvpn_proto::nhrp::{ServerEvent, Shortcut, ShortcutEvent, ShortcutKind};
use dmvpn_proto::node::sim::{Cloud, ipv4_packet};
use dmvpn_proto::node::{Event, Prefix, RouteSource, StaticRoute};
use dmvpn_proto::{Duration, Instant};
use shortcut_util::{Phase, cloud, entries, hub, run_for, run_until, shortcut_events, spoke};

/// R2's one resolved entry, which must be R3's tunnel address /32 at R3's NBMA address.
fn r2_entry_for_r3(cloud: &Cloud) -> Shortcut {
    assert_eq!(
        entries(cloud, 1),
        [(
            Prefix::new(spoke_tunnel(2), 32).to_string(),
            spoke_tunnel(2),
            spoke_nbma(2)
        )]
    );
    let Some(entry) = cloud.members[1].node.shortcuts().next() else {
        panic!("asserted just above");
    };
    *entry
}

/// IOS: `show ip route` on R2 has 10.0.2.0/24 `via 172.16.1.3` (EIGRP, next hop the other
/// spoke); the first packet to it goes through the hub while R2 resolves 172.16.1.3 (`show ip
/// nhrp` then lists 172.16.1.3/32 via 100.1.1.3 with the holding time R3 gave), and the next
/// packets go straight to R3.
#[test]
fn next_hop_resolved_through_the_hub_then_direct() {
    let mut cloud = cloud(Phase::Two, 2, 3);
    run_until(&mut cloud, Instant::from_secs(40), true);
    let route = cloud.members[1]
        .node
        .route(lan(2).addr())
        .expect("EIGRP brings the other spoke's LAN");
    assert_eq!(
        (route.source, route.next_hop),
        (RouteSource::Eigrp, Some(spoke_tunnel(2)))
    );
    assert_eq!(ping(&mut cloud, 1, 2, 1), Some(63), "through the hub first");
    assert!(
        shortcut_events(&cloud, 1).contains(&ShortcutEvent::ResolutionSent {
            target: spoke_tunnel(2),
            purpose: Purpose::NextHop,
        })
    );
    run_for(&mut cloud, Duration::from_secs(1), true);
    let entry = r2_entry_for_r3(&cloud);
    assert!(entry.holding_time > 0 && entry.holding_time <= 300);
    assert_eq!(ping(&mut cloud, 1, 2, 2), Some(64), "directly");
    // A next-hop mapping is not a route of its own.
    assert!(cloud.members[1].node.shortcut_routes().is_empty());
}

/// IOS: a Phase 2 spoke that has no spoke-to-spoke SA (IKE fails) keeps sending through the
/// hub, which forwards it. R3, which the hub passed R2's Resolution Request to, wants the SA
/// with R2 before it replies (its crypto socket to R2 stays down), so R2 never gets a mapping.
#[test]
fn without_the_sa_the_hub_carries_it() {
    let mut cloud = cloud(Phase::Two, 2, 4);
    run_until(&mut cloud, Instant::from_secs(40), true);
    ping(&mut cloud, 1, 2, 1);
    run_for(&mut cloud, Duration::from_secs(1), false);
    for tag in 2..5 {
        assert_eq!(ping(&mut cloud, 1, 2, tag), Some(63));
    }
    assert!(
        shortcut_events(&cloud, 2).contains(&ShortcutEvent::PeerWanted {
            nbma: spoke_nbma(1)
        })
    );
    assert!(entries(&cloud, 1).is_empty());
}

/// IOS (packetlife.net's `mGRE_ICMP.cap` frames 5-7, tcpdump's `nhrp-trace.pcap` frames 3-4):
/// the hub does not answer R2's request for 172.16.1.3 from its registration of R3; it passes
/// it on to R3 (hop count one less). R3 answers R2 itself, as the responder, with its own
/// holding time (300 s), straight to R2's NBMA address once their SA is up; it keeps R2's
/// mapping (`show ip nhrp` on R3: 172.16.1.2/32, flags `router implicit`), and R2 installs
/// 172.16.1.3/32 via 100.1.1.3 from that reply.
#[test]
fn hub_forwards_the_request_and_the_target_spoke_answers_directly() {
    let mut cloud = cloud(Phase::Two, 2, 5);
    run_until(&mut cloud, Instant::from_secs(40), true);
    let since = cloud.log.len();
    assert_eq!(ping(&mut cloud, 1, 2, 1), Some(63), "through the hub first");
    assert!(
        shortcut_events(&cloud, 0).contains(&ShortcutEvent::ResolutionForwarded {
            target: spoke_tunnel(2),
            to: spoke_nbma(2),
        })
    );
    let hub_answered = (cloud.members[0].events.iter())
        .any(|(_, e)| matches!(e, Event::NhrpServer(ServerEvent::Resolved { .. })));
    assert!(!hub_answered, "the hub answers nothing from its cache");
    assert!(
        shortcut_events(&cloud, 2).contains(&ShortcutEvent::ResolutionAnswered {
            requester: spoke_tunnel(1),
            nbma: spoke_nbma(1),
            prefix: Prefix::new(spoke_tunnel(2), 32),
        })
    );
    let reverse = (cloud.members[2].node.shortcuts())
        .find(|s| s.kind == ShortcutKind::Reverse)
        .map(|s| (s.next_hop, s.nbma));
    assert_eq!(reverse, Some((spoke_tunnel(1), spoke_nbma(1))));
    run_for(&mut cloud, Duration::from_secs(1), true);
    let entry = r2_entry_for_r3(&cloud);
    assert_eq!(
        entry.holding_time, 300,
        "R3's own holding time, not what the hub has left"
    );
    // The reply came from R3 straight to R2: the first packet between the two spokes' NBMA
    // addresses went R3 -> R2, before R2 installed the entry, and the hub sent R2 nothing
    // meanwhile but the hair-pinned ping.
    let installed = (cloud.members[1].events.iter())
        .find(|(_, e)| matches!(e, Event::Shortcut(ShortcutEvent::Installed(_))))
        .map(|(at, _)| *at)
        .unwrap();
    let direct = cloud.log[since..]
        .iter()
        .find(|w| {
            [w.from, w.to] == [spoke_nbma(2), spoke_nbma(1)]
                || [w.from, w.to] == [spoke_nbma(1), spoke_nbma(2)]
        })
        .unwrap();
    assert_eq!((direct.from, direct.to), (spoke_nbma(2), spoke_nbma(1)));
    assert!(direct.at < installed);
    let from_hub = cloud.log[since..]
        .iter()
        .filter(|w| w.from == HUB_NBMA && w.to == spoke_nbma(1) && w.at < installed)
        .count();
    assert_eq!(from_hub, 0, "no reply through the hub");
    assert_eq!(ping(&mut cloud, 1, 2, 2), Some(64), "directly");
}

/// A route's next hop that no spoke registered (a static route via 172.16.1.9): the hub has
/// nobody to pass the request to and answers it itself with CIE code 12, No Binding Exists
/// (RFC 2332 §5.2.2); R2 gets no mapping (IOS keeps a `negative` entry) and its traffic for
/// that route keeps going to the hub.
#[test]
fn unregistered_next_hop_gets_no_binding_from_the_hub() {
    let nobody = spoke_tunnel(8);
    let mut cloud = Cloud::new(Instant::ZERO, 6);
    cloud.add(hub(Phase::Two, 2));
    let mut r2 = spoke(Phase::Two, 1);
    r2.static_routes.push(StaticRoute {
        prefix: lan(8),
        next_hop: nobody,
    });
    cloud.add(r2);
    cloud.add(spoke(Phase::Two, 2));
    run_until(&mut cloud, Instant::from_secs(40), true);
    cloud.inject(1, &ipv4_packet(host(1, 10), host(8, 20), 17, &[1]));
    run_for(&mut cloud, Duration::from_secs(1), true);
    assert!(
        !shortcut_events(&cloud, 0)
            .iter()
            .any(|e| matches!(e, ShortcutEvent::ResolutionForwarded { .. }))
    );
    assert!((cloud.members[0].events.iter()).any(|(_, e)| *e
        == Event::NhrpServer(ServerEvent::Resolved {
            target: nobody,
            code: CieCode::NO_BINDING_EXISTS,
        })));
    assert!(
        shortcut_events(&cloud, 1).contains(&ShortcutEvent::ResolutionFailed { target: nobody })
    );
    assert!(entries(&cloud, 1).is_empty());
}
