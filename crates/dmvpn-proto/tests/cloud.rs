//! Whole-cloud scenarios: a hub and spokes, each a [`Node`](dmvpn_proto::node::Node), on the
//! simulated NBMA network of `dmvpn_proto::node::sim`. Each test states what an IOS cloud with the
//! same configuration shows.

#[path = "util/cloud.rs"]
mod cloud_util;

use cloud_util::{
    HUB_NBMA, HUB_TUNNEL, cloud, converged, converged_cloud, events_since, hub_config, neighbors,
    ping, spoke_config, spoke_nbma, spoke_tunnel, went_down,
};
use dmvpn_proto::eigrp::{self, DownReason};
use dmvpn_proto::nhrp::{ClientEvent, ServerEvent};
use dmvpn_proto::node::sim::Cloud;
use dmvpn_proto::node::{DropReason, Event, PROTOCOL_ESP};
use dmvpn_proto::{Duration, Instant};

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

/// IOS: a spoke that reloads disappears from the hub's EIGRP neighbours when its hold time
/// (15 s) runs out (`%DUAL-5-NBRCHANGE ... holding time expired`); the hub keeps its NHRP entry
/// (holding time 300 s). When it comes back it registers again from the same NBMA address (the
/// hub refreshes the unique entry), the adjacency comes up and its LAN is reachable again.
#[test]
fn a_spoke_reboots() {
    let mut cloud = converged_cloud(3, 2);
    cloud.power_off(2);
    cloud.run_until(Instant::from_secs(60));
    assert!(went_down(&cloud, 0, DownReason::HoldTimerExpired));
    assert_eq!(neighbors(&cloud, 0), [spoke_tunnel(1), spoke_tunnel(3)]);
    assert!(
        cloud.members[0]
            .node
            .nhrp_server()
            .unwrap()
            .get(spoke_tunnel(2))
            .is_some()
    );
    assert_eq!(
        ping(&mut cloud, 1, 2, 1),
        None,
        "the hub sends into the void"
    );
    cloud.reboot(2);
    let boot = cloud.now;
    cloud.run_for(Duration::from_secs(10));
    assert!(converged(&cloud, 3));
    let hub_events = events_since(&cloud, 0, boot);
    assert!(hub_events.iter().any(|e| matches!(
        e,
        Event::NhrpServer(ServerEvent::Refreshed { tunnel, .. }) if *tunnel == spoke_tunnel(2)
    )));
    assert!(hub_events.iter().any(|e| matches!(
        e,
        Event::Eigrp(eigrp::EigrpEvent::Neighbor(eigrp::Event::NeighborUp { address, .. })) if *address == spoke_tunnel(2)
    )));
    assert_eq!(ping(&mut cloud, 1, 2, 2), Some(63));
    assert_eq!(ping(&mut cloud, 2, 3, 3), Some(63));
}

/// IOS: a reloaded hub comes back with an empty NHRP cache, so its Hellos reach no spoke (the
/// multicast map is the cache) and every spoke loses the hub as a neighbour after 15 s. The
/// spokes notice nothing else until their next registration, a third of the holding time
/// (100 s) after the last one; then the cache, the multicast map, the adjacencies and the
/// spoke-to-spoke traffic are back.
#[test]
fn the_hub_restarts() {
    let mut cloud = converged_cloud(3, 3);
    cloud.power_off(0);
    cloud.run_until(Instant::from_secs(40));
    cloud.reboot(0);
    cloud.run_until(Instant::from_secs(60));
    for n in 1..=3 {
        assert!(
            went_down(&cloud, n, DownReason::HoldTimerExpired),
            "spoke {n}"
        );
        assert!(neighbors(&cloud, n).is_empty());
    }
    assert_eq!(cloud.members[0].node.nhrp_server().unwrap().len(), 0);
    // The hub cannot map a spoke's tunnel address: the ping is dropped there (as are its own
    // EIGRP Updates to the spokes whose Hellos it hears, until they register again).
    let no_mapping = |cloud: &Cloud| {
        cloud.members[0]
            .node
            .counters()
            .drops(DropReason::NoMapping)
    };
    let before = no_mapping(&cloud);
    assert_eq!(ping(&mut cloud, 1, 2, 1), None);
    assert!(no_mapping(&cloud) > before);
    // The spokes registered at about 1 s (their first request is dropped while the SAs come
    // up); the refresh goes out at about 101 s.
    cloud.run_until(Instant::from_secs(100));
    assert!(!converged(&cloud, 3));
    cloud.run_until(Instant::from_secs(120));
    assert!(converged(&cloud, 3));
    for (a, b) in [(1, 2), (2, 3), (3, 1)] {
        assert_eq!(ping(&mut cloud, a, b, a as u8), Some(63));
    }
}

/// IOS: with 20 % loss, duplicated and reordered packets the cloud still converges: NHRP
/// retries registrations (1, 2, 4 … s), EIGRP's hold time rides out lost Hellos (an adjacency
/// may flap when three in a row are lost, and comes back), ESP's replay window drops the
/// duplicates. Traffic gets through once retried.
#[test]
fn twenty_percent_loss_converges() {
    let mut cloud = cloud(3, 4);
    cloud.loss_percent = 20;
    cloud.duplicate_percent = 10;
    cloud.jitter = Duration::from_millis(50);
    cloud.run_until(Instant::from_secs(600));
    let mut t = 600;
    while !converged(&cloud, 3) {
        t += 5;
        assert!(t < 700, "converges");
        cloud.run_until(Instant::from_secs(t));
    }
    for (a, b) in [(1, 2), (2, 3), (3, 1)] {
        let delivered = (0..20).any(|tag| ping(&mut cloud, a, b, tag).is_some());
        assert!(delivered, "{a} → {b}");
    }
    assert!(cloud.log.iter().any(|w| w.dropped));
    let replays: u64 = (0..4)
        .map(|i| {
            cloud.members[i]
                .node
                .counters()
                .drops(DropReason::EspReplay)
        })
        .sum();
    assert!(replays > 0, "duplicates were caught by the replay window");
}

/// IOS: a spoke configured with `metric weights 0 1 1 1 0 0` never becomes the hub's neighbour;
/// both log `%DUAL-5-NBRCHANGE ... K-value mismatch` at every Hello, while NHRP registration
/// and the other spokes are unaffected.
#[test]
fn k_value_mismatch() {
    let mut cloud = Cloud::new(Instant::ZERO, 5);
    cloud.add(hub_config(3));
    for n in 1..=3 {
        let mut config = spoke_config(n);
        if n == 3 {
            config.eigrp.as_mut().unwrap().k = [1, 1, 1, 0, 0, 0];
        }
        cloud.add(config);
    }
    cloud.run_until(Instant::from_secs(60));
    assert_eq!(neighbors(&cloud, 0), [spoke_tunnel(1), spoke_tunnel(2)]);
    assert!(neighbors(&cloud, 3).is_empty());
    assert_eq!(cloud.members[0].node.nhrp_server().unwrap().len(), 3);
    let mismatch = |index: usize, from: std::net::Ipv4Addr| {
        cloud.members[index].events.iter().any(|(_, e)| {
            matches!(e, Event::Eigrp(eigrp::EigrpEvent::Neighbor(eigrp::Event::KValueMismatch { address, .. })) if *address == from)
        })
    };
    assert!(mismatch(0, spoke_tunnel(3)));
    assert!(mismatch(3, HUB_TUNNEL));
    assert_eq!(
        cloud.members[0].node.counters().last_eigrp_error,
        Some(eigrp::Error::KValueMismatch {
            address: spoke_tunnel(3)
        })
    );
    assert!(
        cloud.members[0]
            .node
            .counters()
            .drops(DropReason::EigrpRefused)
            >= 10
    );
    assert_eq!(ping(&mut cloud, 1, 2, 1), Some(63));
}

/// IOS: after a Quick Mode rekey the old inbound SA keeps decrypting for a while, because the
/// peer switches to the new pair only when it has it (a responder after the third message). Here
/// spoke 1 installs a new pair first: the hub, still on the old pair, reaches it through the
/// retired inbound SA; once the hub has the new pair both directions use it; after
/// [`REKEY_OVERLAP`](dmvpn_proto::node::REKEY_OVERLAP) the old inbound SA is gone, and the new
/// pair is untouched by its expiry.
#[test]
fn a_rekey_keeps_the_old_inbound_sa_for_the_overlap() {
    use dmvpn_esp::{Encryption, Integrity, Sa};
    use dmvpn_proto::ipsec::Lifetime;
    use dmvpn_proto::node::REKEY_OVERLAP;

    let mut cloud = converged_cloud(2, 7);
    let (hub, spoke1) = (0, 1);
    let old_spi = cloud.members[spoke1]
        .node
        .peer_sas(HUB_NBMA)
        .expect("spoke 1 has SAs with the hub")
        .0;
    let sa = |spi: u32, key: u8| {
        Sa::new(
            spi,
            Encryption::AesCbc,
            &[key; 16],
            Integrity::HmacSha1_96,
            &[key; 20],
        )
        .unwrap()
    };
    // hub → spoke 1 under SPI 0x5001, spoke 1 → hub under 0x5002.
    let now = cloud.now;
    cloud.members[spoke1].node.install_sas(
        now,
        HUB_NBMA,
        sa(0x5001, 1),
        sa(0x5002, 2),
        Lifetime::default(),
    );
    let no_sa_before = drops(&cloud, hub, DropReason::NoInboundSa);
    // Spoke 2 → spoke 1: the hub seals under the old pair; spoke 1 still opens it.
    assert_eq!(ping(&mut cloud, 2, 1, 1), Some(63));
    assert_eq!(drops(&cloud, spoke1, DropReason::NoInboundSa), 0);
    // Spoke 1 → spoke 2: sealed under the new pair, which the hub does not have yet.
    assert_eq!(ping(&mut cloud, 1, 2, 2), None);
    assert!(drops(&cloud, hub, DropReason::NoInboundSa) > no_sa_before);

    let now = cloud.now;
    cloud.members[hub].node.install_sas(
        now,
        spoke_nbma(1),
        sa(0x5002, 2),
        sa(0x5001, 1),
        Lifetime::default(),
    );
    assert_eq!(ping(&mut cloud, 1, 2, 3), Some(63));
    assert_eq!(ping(&mut cloud, 2, 1, 4), Some(63));
    let local = spoke_nbma(1);
    assert!(
        cloud.members[spoke1]
            .node
            .sad()
            .inbound(old_spi, local)
            .is_some()
    );

    cloud.run_for(REKEY_OVERLAP);
    let node = &cloud.members[spoke1].node;
    assert!(
        node.sad().inbound(old_spi, local).is_none(),
        "retired SA expired"
    );
    assert_eq!(node.peer_sas(HUB_NBMA), Some((0x5001, 0x5002)));
    assert_eq!(ping(&mut cloud, 2, 1, 5), Some(63));
    assert_eq!(ping(&mut cloud, 1, 2, 6), Some(63));
    assert_eq!(neighbors(&cloud, spoke1), [HUB_TUNNEL]);
}

/// The hub's IKE Delete reaches spoke 1 on the IKE socket while ESP the hub sealed just before it
/// is still on its way: `retire_sas` stops spoke 1 sending under the pair at once but lets its
/// inbound SA decrypt for [`DELETE_GRACE`](dmvpn_proto::node::DELETE_GRACE) more.
#[test]
fn a_deleted_pair_still_decrypts_for_the_grace() {
    use dmvpn_proto::node::DELETE_GRACE;

    let mut cloud = converged_cloud(2, 11);
    let spoke1 = 1;
    let now = cloud.now;
    assert!(cloud.members[spoke1].node.retire_sas(now, HUB_NBMA));
    assert!(
        !cloud.members[spoke1].node.retire_sas(now, HUB_NBMA),
        "once"
    );
    assert_eq!(cloud.members[spoke1].node.peer_sas(HUB_NBMA), None);
    // In flight from the hub: still opened.
    assert_eq!(ping(&mut cloud, 2, 1, 1), Some(63));
    assert_eq!(drops(&cloud, spoke1, DropReason::NoInboundSa), 0);
    // Nothing goes out under the deleted pair.
    let no_sa = drops(&cloud, spoke1, DropReason::NoOutboundSa);
    assert_eq!(ping(&mut cloud, 1, 2, 2), None);
    assert!(drops(&cloud, spoke1, DropReason::NoOutboundSa) > no_sa);
    // After the grace the inbound SA is gone too.
    cloud.run_for(DELETE_GRACE);
    assert_eq!(ping(&mut cloud, 2, 1, 3), None);
    assert!(drops(&cloud, spoke1, DropReason::NoInboundSa) > 0);
}

/// Node `index`'s drops for `reason`.
fn drops(cloud: &Cloud, index: usize, reason: DropReason) -> u64 {
    cloud.members[index].node.counters().drops(reason)
}
