//! The cloud with EIGRP carrying every route: no `ip route` anywhere, each router's `network`
//! statements cover its LAN and the tunnel. Each test states what an IOS cloud with the same
//! configuration shows in `show ip route`.

#[path = "util/cloud.rs"]
mod cloud_util;

use cloud_util::{HUB_TUNNEL, converged, host, hub_config, lan, ping, spoke_config, spoke_tunnel};
use dmvpn_proto::Instant;
use dmvpn_proto::node::sim::Cloud;
use dmvpn_proto::node::{Event, Route, RouteSource};

/// The seed lab's cloud without its static routes; the hub with `ip split-horizon eigrp` on or
/// off.
fn cloud(spokes: u16, split_horizon: bool) -> Cloud {
    let mut cloud = Cloud::new(Instant::ZERO, 7);
    let mut hub = hub_config(spokes);
    hub.static_routes.clear();
    if let Some(eigrp) = &mut hub.eigrp {
        eigrp.split_horizon = split_horizon;
    }
    cloud.add(hub);
    for n in 1..=spokes {
        let mut spoke = spoke_config(n);
        spoke.static_routes.clear();
        cloud.add(spoke);
    }
    cloud
}

/// The route node `index` takes to host 20 of spoke `n`'s LAN (n = 0: the hub's LAN).
fn route_to(cloud: &Cloud, index: usize, n: u16) -> Option<Route> {
    cloud.members[index].node.route(host(n, 20))
}

/// Composite metrics with IOS's default K values (1 0 1 0 0): the tunnel's 100 kbit/s sets the
/// bandwidth term, 256 × 10^7 / 100; each tunnel adds 50 000 µs of delay and the LAN
/// (GigabitEthernet) 10 µs, 256 per ten microseconds.
const BANDWIDTH: u32 = 256 * 100_000;
const ONE_TUNNEL: u32 = BANDWIDTH + 256 * (5000 + 1);
const TWO_TUNNELS: u32 = BANDWIDTH + 256 * (5000 + 5000 + 1);

/// IOS, `no ip split-horizon eigrp 100` on the hub (Phase 1): every spoke has `D` routes to the
/// hub's LAN ([90/26880256]) and to every other spoke's LAN ([90/28160256]), all via the hub's
/// tunnel address (next-hop-self); the hub has each spoke LAN via that spoke. Traffic between
/// spoke LANs flows through the hub (TTL 64 − 1).
#[test]
fn eigrp_carries_every_lan_through_the_hub() {
    let mut cloud = cloud(3, false);
    cloud.run_until(Instant::from_secs(30));
    assert!(converged(&cloud, 3));
    for n in 1..=3u16 {
        let hub_route = route_to(&cloud, 0, n).expect("hub has the spoke's LAN");
        assert_eq!(hub_route.prefix, lan(n));
        assert_eq!(hub_route.source, RouteSource::Eigrp);
        assert_eq!(hub_route.next_hop, Some(spoke_tunnel(n)));
        assert_eq!(hub_route.metric, ONE_TUNNEL);

        let spoke = usize::from(n);
        let to_hub = route_to(&cloud, spoke, 0).expect("spoke has the hub's LAN");
        assert_eq!(
            (to_hub.source, to_hub.next_hop, to_hub.metric),
            (RouteSource::Eigrp, Some(HUB_TUNNEL), ONE_TUNNEL)
        );
        for other in (1..=3u16).filter(|&o| o != n) {
            let route = route_to(&cloud, spoke, other).expect("spoke has the other LAN");
            assert_eq!(route.prefix, lan(other));
            assert_eq!(
                (route.source, route.next_hop, route.metric),
                (RouteSource::Eigrp, Some(HUB_TUNNEL), TWO_TUNNELS),
                "spoke {n} to spoke {other}'s LAN"
            );
        }
    }
    for (a, b) in [(1, 2), (2, 3), (3, 1)] {
        assert_eq!(ping(&mut cloud, a, b, a as u8), Some(63), "{a} -> {b}");
    }
}

/// IOS, split horizon left on at the hub (the classic DMVPN mistake): the spokes learn the
/// hub's LAN but not each other's.
#[test]
fn split_horizon_at_the_hub_hides_the_spokes_from_each_other() {
    let mut cloud = cloud(2, true);
    cloud.run_until(Instant::from_secs(30));
    assert!(converged(&cloud, 2));
    assert!(route_to(&cloud, 0, 1).is_some() && route_to(&cloud, 0, 2).is_some());
    for (spoke, other) in [(1, 2), (2, 1)] {
        let to_hub = route_to(&cloud, spoke, 0).expect("the hub's LAN");
        assert_eq!(to_hub.source, RouteSource::Eigrp);
        let learned: Vec<_> = cloud.members[spoke]
            .node
            .routes()
            .filter(|r| r.prefix == lan(other))
            .collect();
        assert!(learned.is_empty(), "spoke {spoke} learned {learned:?}");
    }
}

/// IOS: spoke 2 loses power; 15 s later the hub's hold timer expires, the hub withdraws
/// spoke 2's LAN and tells spoke 1, whose route to it goes (`RouteRemoved`), while the route
/// to spoke 3's LAN stays.
#[test]
fn a_dead_spoke_is_withdrawn_everywhere() {
    let mut cloud = cloud(3, false);
    cloud.run_until(Instant::from_secs(30));
    assert!(route_to(&cloud, 1, 2).is_some());
    cloud.power_off(2);
    cloud.run_until(Instant::from_secs(60));
    assert_eq!(route_to(&cloud, 0, 2), None, "hub");
    assert_eq!(route_to(&cloud, 1, 2), None, "spoke 1");
    assert!(route_to(&cloud, 1, 3).is_some(), "spoke 3 stays");
    assert!(cloud.members[1].events.iter().any(|(t, e)| {
        *t > Instant::from_secs(30) && matches!(e, Event::RouteRemoved(r) if r.prefix == lan(2))
    }));
    assert_eq!(ping(&mut cloud, 1, 3, 9), Some(63));
}
