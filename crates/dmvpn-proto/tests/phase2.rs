//! DMVPN Phase 2 on the simulated NBMA network: spokes learn each other's LANs with the other
//! spoke's tunnel address as next hop (hub `no ip next-hop-self eigrp 100` and `no ip
//! split-horizon eigrp 100`), resolve that next hop through the hub and send directly. Each
//! test states what an IOS cloud with the same configuration shows.

#[path = "util/cloud.rs"]
mod cloud_util;
#[path = "util/shortcut.rs"]
mod shortcut_util;

use cloud_util::{lan, ping, spoke_nbma, spoke_tunnel};
use dmvpn_proto::nhrp::ShortcutEvent;
use dmvpn_proto::nhrp::shortcut::Purpose;
use dmvpn_proto::node::{Prefix, RouteSource};
use dmvpn_proto::{Duration, Instant};
use shortcut_util::{Phase, cloud, entries, run_for, run_until, shortcut_events};

/// IOS: `show ip route` on R2 has 10.0.2.0/24 `via 172.16.1.3` (EIGRP, next hop the other
/// spoke); the first packet to it goes through the hub while R2 resolves 172.16.1.3 (`show ip
/// nhrp` then lists 172.16.1.3/32 via 100.1.1.3 with the holding time the hub gave), and the
/// next packets go straight to R3.
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
    assert_eq!(
        entries(&cloud, 1),
        [(
            Prefix::new(spoke_tunnel(2), 32).to_string(),
            spoke_tunnel(2),
            spoke_nbma(2)
        )]
    );
    let entry = *cloud.members[1].node.shortcuts().next().unwrap();
    assert!(entry.holding_time > 0 && entry.holding_time <= 300);
    assert_eq!(ping(&mut cloud, 1, 2, 2), Some(64), "directly");
    // A next-hop mapping is not a route of its own.
    assert!(cloud.members[1].node.shortcut_routes().is_empty());
}

/// IOS: a Phase 2 spoke that has no spoke-to-spoke SA (IKE fails) keeps sending through the
/// hub, which forwards it.
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
        shortcut_events(&cloud, 1).contains(&ShortcutEvent::PeerWanted {
            nbma: spoke_nbma(2)
        })
    );
}
