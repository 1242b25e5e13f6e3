//! Whole-cloud scenarios: a hub and spokes, each a [`Node`](dmvpn_proto::node::Node), on the
//! simulated NBMA network of `dmvpn_proto::node::sim`. Each test states what an IOS cloud with the
//! same configuration shows.

#[path = "util/cloud.rs"]
mod cloud_util;

use cloud_util::{HUB_NBMA, HUB_TUNNEL, cloud, neighbors, ping, spoke_nbma, spoke_tunnel};
use dmvpn_proto::Instant;
use dmvpn_proto::nhrp::ClientEvent;
use dmvpn_proto::node::{DropReason, Event, PROTOCOL_ESP};

/// IOS: three spokes boot with the hub; within seconds `show ip nhrp` on the hub lists the three
/// spokes, `show ip eigrp neighbors` the three spokes (each spoke has the hub), and a host
/// behind any spoke reaches a host behind any other through the hub (Phase 1: `traceroute`
/// shows the hub's tunnel address), every packet on the NBMA network ESP.
#[test]
fn three_spokes_come_up_and_reach_each_other_through_the_hub() {
    let mut cloud = cloud(3, 1);
    cloud.run_until(Instant::from_secs(30));
    let hub = &cloud.members[0];
    let server = hub.node.nhrp_server().unwrap();
    assert_eq!(server.len(), 3);
    for n in 1..=3 {
        let entry = server.get(spoke_tunnel(n)).unwrap();
        assert_eq!(entry.nbma, spoke_nbma(n));
        let spoke = &cloud.members[usize::from(n)];
        assert!(spoke.node.nhrp_client().unwrap().is_registered());
        assert!(matches!(
            spoke.events.iter().find_map(|(_, e)| match e {
                Event::Nhrp(e) => Some(e),
                _ => None,
            }),
            Some(ClientEvent::Registered {
                nhs: HUB_TUNNEL,
                ..
            })
        ));
        assert_eq!(neighbors(&cloud, usize::from(n)), [HUB_TUNNEL]);
    }
    assert_eq!(
        neighbors(&cloud, 0),
        [spoke_tunnel(1), spoke_tunnel(2), spoke_tunnel(3)]
    );
    for a in 1..=3 {
        for b in 1..=3 {
            if a != b {
                let tag = (a * 10 + b) as u8;
                assert_eq!(ping(&mut cloud, a, b, tag), Some(63), "{a} → {b}");
            }
        }
    }
    // The hub forwarded all six; nothing went in the clear; nothing was dropped but the
    // packets a spoke sent at boot before its SAs with the hub were up (IOS drops them too
    // while IKE runs: the first Registration Request is retried a second later).
    assert_eq!(cloud.members[0].node.counters().forwarded, 6);
    assert!(
        cloud.log.iter().all(|w| w.protocol == PROTOCOL_ESP),
        "all ESP"
    );
    assert!(
        cloud
            .log
            .iter()
            .all(|w| w.from == HUB_NBMA || w.to == HUB_NBMA),
        "hub and spoke only"
    );
    for member in &cloud.members {
        let drops: Vec<_> = member.node.counters().nonzero_drops().collect();
        let at_boot =
            |&(reason, n): &(DropReason, u64)| reason == DropReason::NoOutboundSa && n <= 2;
        assert!(drops.iter().all(at_boot), "{:?}: {drops:?}", member.node);
    }
}
