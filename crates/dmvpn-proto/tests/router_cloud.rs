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
use router_util::{
    events_since, inbound_spis, ping, reboot, router_cloud, run_until_converged, stream,
};

/// Spokes key the hub over IKE (Main Mode, Quick Mode), register, form EIGRP adjacencies, and
/// carry spoke-to-spoke traffic through the hub, all within seconds of boot.
#[test]
fn boot_keys_registers_and_routes() {
    let mut cloud = router_cloud(2, 1, Group::MODP_1024, |_| {});
    let at = run_until_converged(&mut cloud, 2, Duration::from_secs(30)).expect("converged");
    assert!(at < Instant::ZERO + Duration::from_secs(10), "{at:?}");
    for n in 1..=2 {
        let events = &cloud.members[n].events;
        assert!(
            events
                .iter()
                .any(|(_, e)| matches!(e, Event::IkeStarted { .. }))
        );
        assert!(
            events
                .iter()
                .any(|(_, e)| matches!(e, Event::SaInstalled(_)))
        );
    }
    router_util::keyed_and_routing(&mut cloud);
}

/// Runs until `done` holds or `limit` passes, in half-second steps; returns when it held.
fn run_until(
    cloud: &mut dmvpn_proto::node::sim::Cloud<router_util::R>,
    limit: Duration,
    done: impl Fn(&dmvpn_proto::node::sim::Cloud<router_util::R>) -> bool,
) -> Option<Instant> {
    let end = cloud.now + limit;
    while cloud.now < end {
        let next = cloud.now + Duration::from_millis(500);
        cloud.run_until(next);
        if done(cloud) {
            return Some(cloud.now);
        }
    }
    None
}

/// Whether `e` says an outbound SA ran out (retired inbound SAs expire by design).
fn outbound_ran_out(e: &Event) -> bool {
    matches!(
        e,
        Event::Node(dmvpn_proto::node::Event::Sa(
            dmvpn_proto::ipsec::SaEvent::HardExpired {
                id: dmvpn_proto::ipsec::SaId::Outbound { .. },
                ..
            }
        ))
    )
}

fn count(events: &[Event], what: impl Fn(&Event) -> bool) -> usize {
    events.iter().filter(|e| what(e)).count()
}

/// IOS: a hub that reloads has forgotten every SA and registration and says nothing. Each spoke
/// loses its EIGRP neighbour at the hold time (15 s), sees that the hub sealed nothing to it
/// lately, keys it again at once and registers again at once (not at its next refresh, 100 s
/// away): routes and spoke-to-spoke traffic are back within seconds of the hold time. The spoke
/// starts over with that one peer only: its node is the same (counters keep counting).
#[test]
fn hub_restart_spokes_key_again_and_register_again() {
    let mut cloud = router_cloud(2, 2, Group::MODP_1024, |_| {});
    run_until_converged(&mut cloud, 2, Duration::from_secs(30)).expect("converged");
    router_util::hub_restart_recovers(&mut cloud);
}

/// DPD (`crypto isakmp keepalive 10 periodic`): a hub that stays down is declared dead after the
/// retries (2 s apart, 5 of them); the spoke drops its pair and tries Main Mode again every
/// RECONNECT (15 s), not in a tight loop. The hub, with DPD too, drops the pair of a spoke
/// that died. When the hub comes back, the spoke keys and registers again.
#[test]
fn dead_peer_is_dropped_and_keyed_again_when_back() {
    let dpd = |c: &mut dmvpn_proto::ike::Config| {
        c.dpd = Some(dmvpn_proto::ike::Dpd::new(Duration::from_secs(10), true));
    };
    let mut cloud = router_cloud(2, 3, Group::MODP_1024, dpd);
    run_until_converged(&mut cloud, 2, Duration::from_secs(30)).expect("converged");

    // Spoke 2 dies: the hub's DPD drops its pair.
    let spoke2 = cloud_util::spoke_nbma(2);
    cloud.power_off(2);
    let dropped = run_until(&mut cloud, Duration::from_secs(60), |c| {
        !c.members[0].node.pairs().contains_key(&spoke2)
    });
    assert!(dropped.is_some(), "the hub keeps the dead spoke's pair");
    assert_eq!(cloud.members[0].node.node().peer_sas(spoke2), None);
    let dead = cloud.members[0].events.iter().any(|(_, e)| {
        matches!(e, Event::Ike(dmvpn_proto::ike::Event::PeerDown { peer }) if *peer == spoke2)
    });
    assert!(dead);
    // Spoke 1 is untouched.
    assert_eq!(cloud.members[1].node.pairs().len(), 1);
    assert!(
        cloud.members[0]
            .node
            .pairs()
            .contains_key(&cloud_util::spoke_nbma(1))
    );

    // The hub dies: spoke 1 drops its pair and retries every RECONNECT.
    let hub = cloud_util::HUB_NBMA;
    let down = cloud.now;
    cloud.power_off(0);
    cloud.run_for(Duration::from_secs(120));
    let spoke = &cloud.members[1].node;
    assert!(spoke.pairs().is_empty());
    let events = events_since(&cloud, 1, down);
    assert!(events.contains(&Event::NhsDown { peer: hub }), "{events:?}");
    let attempts: Vec<Instant> = (cloud.members[1].events.iter())
        .filter(|(at, e)| *at >= down && matches!(e, Event::IkeStarted { .. }))
        .map(|(at, _)| *at)
        .collect();
    assert!(attempts.len() >= 3, "{attempts:?}");
    assert!(attempts.len() <= 8, "{attempts:?}");
    for pair in attempts.windows(2) {
        assert!(
            pair[1] - pair[0] >= dmvpn_proto::router::RECONNECT,
            "{attempts:?}"
        );
    }

    // The hub comes back (spoke 2 too): both key it, register and route again.
    reboot(&mut cloud, 0);
    reboot(&mut cloud, 2);
    run_until_converged(&mut cloud, 2, Duration::from_secs(60)).expect("recovered");
    assert!(ping(&mut cloud, 1, 2, 6));
}

/// `crypto ipsec security-association lifetime seconds 60`: IKE rekeys at 90 % (54 s), the new
/// pair takes over, and the old inbound SA still decrypts for the overlap (10 s): a steady
/// stream through the hub loses nothing over several rekeys, and the old SA is gone after.
#[test]
fn time_rekeys_lose_nothing() {
    let short = |c: &mut dmvpn_proto::ike::Config| c.ipsec_lifetime = Duration::from_secs(60);
    let mut cloud = router_cloud(2, 4, Group::MODP_1024, short);
    run_until_converged(&mut cloud, 2, Duration::from_secs(30)).expect("converged");
    router_util::time_rekeys_lose_nothing(&mut cloud);
    // No pair ran out before its successor came.
    let expired = cloud.members[1]
        .events
        .iter()
        .any(|(_, e)| outbound_ran_out(e));
    assert!(!expired);
}

/// `crypto ipsec security-association lifetime kilobytes 100`: the SAD's soft limit (90 %) starts
/// a Quick Mode (IOS's `%CRYPTO-6-IPSEC_REKEY` … kilobytes), the pair is replaced before the
/// hard limit, the old inbound SA decrypts what was sealed before the switch: nothing lost.
#[test]
fn volume_rekeys_lose_nothing() {
    let small = |c: &mut dmvpn_proto::ike::Config| c.ipsec_lifetime_kb = Some(100);
    let mut cloud = router_cloud(2, 5, Group::MODP_1024, small);
    run_until_converged(&mut cloud, 2, Duration::from_secs(30)).expect("converged");
    // 1 MB in 1000-byte datagrams, 10 ms apart: ten times the volume lifetime.
    let lost = stream(&mut cloud, 1000, 1000, Duration::from_millis(10));
    assert!(lost.is_empty(), "lost {} datagrams: {lost:?}", lost.len());
    // Spoke 1 seals the stream to the hub, the hub seals it on to spoke 2: those two outbound
    // SAs fill up, and their owners rekey.
    for n in [1, 0] {
        let events = &cloud.members[n].events;
        let rekeys = events
            .iter()
            .filter(|(_, e)| {
                matches!(
                    e,
                    Event::RekeyStarted {
                        limit: dmvpn_proto::ipsec::Limit::Bytes,
                        ..
                    }
                )
            })
            .count();
        assert!(rekeys >= 5, "router {n}: {rekeys} rekeys");
        let expired = events.iter().any(|(_, e)| outbound_ran_out(e));
        assert!(!expired, "router {n}: a pair ran out");
    }
    assert!(inbound_spis(&cloud, 1).len() >= 6);
    assert!(inbound_spis(&cloud, 2).len() >= 6);
}

/// A Delete that overtakes ESP the peer sealed just before it (the two come on different
/// sockets): the ESP still decrypts within the grace (2 s), and is refused after it. The hub
/// keys nobody by itself; the spoke keys it again.
#[test]
fn esp_in_flight_after_a_delete_decrypts_within_the_grace() {
    let mut cloud = router_cloud(2, 6, Group::MODP_1024, |_| {});
    run_until_converged(&mut cloud, 2, Duration::from_secs(30)).expect("converged");
    let spoke1 = cloud_util::spoke_nbma(1);
    let now = cloud.now;
    // Spoke 1 seals two datagrams to spoke 2's LAN (through the hub), then deletes its SAs;
    // the test carries the packets by hand, the Delete first.
    let mut esp = Vec::new();
    {
        let spoke = &mut cloud.members[1].node;
        spoke.handle_tunnel_packet(now, &router_util::datagram(1, 2, b"early"));
        spoke.handle_tunnel_packet(now, &router_util::datagram(1, 2, b"late"));
        while let Some(t) = spoke.poll_transmit() {
            if t.protocol == 50 {
                esp.push(t);
            }
        }
        spoke.delete_all(now);
    }
    assert_eq!(esp.len(), 2);
    let mut deletes = Vec::new();
    while let Some(t) = cloud.members[1].node.poll_transmit() {
        deletes.push(t);
    }
    assert!(deletes.iter().all(|t| t.protocol == 17) && !deletes.is_empty());
    let hub = &mut cloud.members[0].node;
    for t in &deletes {
        hub.handle_nbma(now, spoke1, t.protocol, &t.bytes);
    }
    assert_eq!(
        hub.node().peer_sas(spoke1),
        None,
        "the Delete retired the pair"
    );
    let decrypted = hub.node().counters().esp_in;
    let forwarded = hub.node().counters().forwarded;
    hub.handle_nbma(now + Duration::from_millis(500), spoke1, 50, &esp[0].bytes);
    assert_eq!(
        hub.node().counters().esp_in,
        decrypted + 1,
        "within the grace"
    );
    assert_eq!(hub.node().counters().forwarded, forwarded + 1);
    hub.handle_timeout(now + Duration::from_secs(3));
    let refused = hub
        .node()
        .counters()
        .drops(dmvpn_proto::node::DropReason::NoInboundSa);
    hub.handle_nbma(now + Duration::from_secs(3), spoke1, 50, &esp[1].bytes);
    assert_eq!(
        hub.node().counters().esp_in,
        decrypted + 1,
        "after the grace"
    );
    assert_eq!(
        hub.node()
            .counters()
            .drops(dmvpn_proto::node::DropReason::NoInboundSa),
        refused + 1
    );
    // The spoke keys the hub again and the cloud is whole.
    run_until_converged(&mut cloud, 2, Duration::from_secs(60)).expect("keyed again");
    assert!(ping(&mut cloud, 1, 2, 9));
}

/// IOS: Hellos lost on the way (the hub is fine, and still sends traffic under the SAs) make
/// the spoke's EIGRP neighbour go down at the hold time, but the SAs stay: the hub sealed
/// something within the last 5 s, so it has not restarted. No new IKE, same SPIs; the
/// adjacency comes back when Hellos get through again.
#[test]
fn hellos_lost_while_the_hub_still_seals_keep_the_sas() {
    let mut cloud = router_cloud(2, 7, Group::MODP_1024, |_| {});
    run_until_converged(&mut cloud, 2, Duration::from_secs(30)).expect("converged");
    let (hub, spoke1) = (cloud_util::HUB_NBMA, cloud_util::spoke_nbma(1));
    let spis = cloud.members[1].node.node().peer_sas(hub).unwrap();
    let start = cloud.now;
    let end = start + Duration::from_secs(25);
    // Small ESP from the hub to spoke 1 (Hellos, EIGRP's acks and updates) is lost for 25 s;
    // big ESP (the LAN traffic below) gets through.
    cloud.drop = Some(Box::new(move |w| {
        w.from == hub && w.to == spoke1 && w.protocol == 50 && w.len < 400 && w.at < end
    }));
    for i in 0..25u32 {
        let mut tag = i.to_be_bytes().to_vec();
        tag.resize(800, 0);
        cloud.inject(2, &router_util::datagram(2, 1, &tag));
        cloud.run_for(Duration::from_secs(1));
    }
    let events = events_since(&cloud, 1, start);
    assert!(events.contains(&Event::NhsKept { peer: hub }), "{events:?}");
    assert!(!events.contains(&Event::NhsDown { peer: hub }));
    assert_eq!(count(&events, |e| matches!(e, Event::IkeStarted { .. })), 0);
    assert_eq!(cloud.members[1].node.node().peer_sas(hub), Some(spis));
    cloud.drop = None;
    run_until_converged(&mut cloud, 2, Duration::from_secs(30)).expect("adjacent again");
    assert_eq!(cloud.members[1].node.node().peer_sas(hub), Some(spis));
}
