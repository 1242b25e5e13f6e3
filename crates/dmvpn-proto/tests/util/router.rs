//! Clouds of whole [`Router`]s (IKE included, pre-shared key `cisco123`) for `tests/router_*.rs`:
//! the configuration of `util/cloud.rs` (the seed lab) with IKE in place of static keys.
#![allow(dead_code, unreachable_pub, clippy::expect_used, clippy::unwrap_used)]

use std::net::Ipv4Addr;

use dmvpn_isakmp::consts::Group;
use dmvpn_isakmp::crypto::Cipher;
use dmvpn_proto::ike::{self, EspAuth, EspCipher, Hash, Policy, TestEntropy, TransformSet};
use dmvpn_proto::node::sim::{Cloud, XorShift, ipv4_packet, parse_ipv4};
use dmvpn_proto::node::{Node, NodeConfig};
use dmvpn_proto::router::{Event, Router};
use dmvpn_proto::{Duration, Instant};

use super::cloud_util::{HUB_TUNNEL, host, hub_config, spoke_config};

/// A router of the tests.
pub type R = Router<TestEntropy>;

/// `crypto isakmp policy 10 / encr aes / hash sha / group <group>`, `crypto isakmp key cisco123
/// address 0.0.0.0`, `crypto ipsec transform-set ts esp-aes esp-sha-hmac / mode transport`.
pub fn ike_config(local: Ipv4Addr, group: Group) -> ike::Config {
    let policy = Policy::new(Cipher::Aes128, Hash::Sha1, group);
    let set = TransformSet::new(EspCipher::Aes128, EspAuth::Sha1);
    ike::Config::dmvpn(local, policy, b"cisco123", set)
}

/// A router of `config` and `ike` booted now, its randomness drawn from the cloud's.
pub fn boot(cloud: &mut Cloud<R>, config: NodeConfig, ike: ike::Config) -> R {
    let seed = cloud.next_seed();
    let node = Node::new(config, cloud.now, Box::new(XorShift::new(seed)));
    let endpoint = ike::Endpoint::new(ike, TestEntropy::new(seed.rotate_left(17)));
    Router::new(node, Some(endpoint), cloud.now)
}

/// The hub (index 0) and spokes 1..=`spokes` (index n), all booted at 0; `tune` adjusts every
/// IKE configuration (lifetimes, DPD).
pub fn router_cloud(
    spokes: u16,
    seed: u64,
    group: Group,
    tune: impl Fn(&mut ike::Config),
) -> Cloud<R> {
    let mut cloud = Cloud::of(Instant::ZERO, seed);
    let hub = hub_config(spokes);
    let mut ike = ike_config(hub.tunnel.nbma, group);
    tune(&mut ike);
    let hub = boot(&mut cloud, hub, ike);
    cloud.add_machine(hub);
    for n in 1..=spokes {
        let config = spoke_config(n);
        let mut ike = ike_config(config.tunnel.nbma, group);
        tune(&mut ike);
        let spoke = boot(&mut cloud, config, ike);
        cloud.add_machine(spoke);
    }
    cloud
}

/// Boots machine `index` again with its configuration: nothing kept (SAs, registrations,
/// neighbours).
pub fn reboot(cloud: &mut Cloud<R>, index: usize) {
    let member = &cloud.members[index].node;
    let config = member.node().config().clone();
    let router = if let Some(ikev2) = member.ikev2() {
        let ike = ikev2.config().clone();
        let seed = cloud.next_seed();
        let node = Node::new(config, cloud.now, Box::new(XorShift::new(seed)));
        let endpoint =
            dmvpn_proto::ikev2::Endpoint::new(ike, TestEntropy::new(seed.rotate_left(17)));
        Router::with_ikev2(node, endpoint, cloud.now)
    } else {
        let ike = member.ike().unwrap().config().clone();
        boot(cloud, config, ike)
    };
    cloud.replace(index, router);
}

/// Reboots the hub of a converged cloud of two spokes and checks that it recovers as an IOS
/// cloud does: each spoke loses its EIGRP neighbour at the hold time (15 s), keys the hub again
/// and registers again at once (its node is the same: counters keep counting), and traffic flows
/// between the spokes within seconds of the hold time. Returns when the hub was rebooted.
pub fn hub_restart_recovers(cloud: &mut Cloud<R>) -> Instant {
    assert!(ping(cloud, 1, 2, 1));
    let nbma_in: Vec<u64> = (1..=2)
        .map(|n| cloud.members[n].node.node().counters().nbma_in)
        .collect();
    let restart = cloud.now;
    reboot(cloud, 0);
    assert!(!ping(cloud, 1, 2, 2), "the fresh hub has no SAs yet");
    let back = run_until_converged(cloud, 2, Duration::from_secs(60)).expect("recovered");
    let took = back - restart;
    assert!(
        took > Duration::from_secs(10),
        "before the hold time: {took:?}"
    );
    assert!(took < Duration::from_secs(30), "{took:?}");
    let hub = super::cloud_util::HUB_NBMA;
    for n in 1..=2 {
        let events = events_since(cloud, n, restart);
        assert!(events.contains(&Event::NhsDown { peer: hub }), "{events:?}");
        assert!(events.contains(&Event::RegistrationRestarted { peer: hub }));
        assert!(events.iter().any(|e| matches!(e, Event::SaInstalled(_))));
        assert!(cloud.members[n].node.node().counters().nbma_in > nbma_in[n - 1]);
        assert_eq!(cloud.members[n].boots, 1);
    }
    assert!(ping(cloud, 1, 2, 3));
    assert!(ping(cloud, 2, 1, 4));
    restart
}

/// The EIGRP neighbours of router `index`.
pub fn neighbors(cloud: &Cloud<R>, index: usize) -> Vec<Ipv4Addr> {
    (cloud.members[index].node.node().eigrp())
        .map(|e| e.hello().iter().map(|n| n.address).collect())
        .unwrap_or_default()
}

/// Whether the cloud of `spokes` spokes is whole: every spoke keyed with the hub, registered and
/// adjacent over EIGRP, the hub adjacent to every spoke.
pub fn converged(cloud: &Cloud<R>, spokes: u16) -> bool {
    let hub = &cloud.members[0].node;
    let registered = hub.node().nhrp_server().map_or(0, |s| s.len());
    registered == usize::from(spokes)
        && hub.pairs().len() == usize::from(spokes)
        && neighbors(cloud, 0).len() == usize::from(spokes)
        && (1..=spokes).all(|n| {
            let router = &cloud.members[usize::from(n)].node;
            router.pairs().len() == 1
                && router
                    .node()
                    .nhrp_client()
                    .is_some_and(|c| c.is_registered())
                && neighbors(cloud, usize::from(n)) == [HUB_TUNNEL]
        })
}

/// Runs until the cloud has converged or `limit` passed; returns when it converged.
pub fn run_until_converged(cloud: &mut Cloud<R>, spokes: u16, limit: Duration) -> Option<Instant> {
    let end = cloud.now + limit;
    while cloud.now < end {
        let next = cloud.now + Duration::from_millis(500);
        cloud.run_until(next);
        if converged(cloud, spokes) {
            return Some(cloud.now);
        }
    }
    None
}

/// A UDP datagram from host 10 of spoke `a`'s LAN to host 20 of spoke `b`'s, tagged.
pub fn datagram(a: u16, b: u16, tag: &[u8]) -> Vec<u8> {
    let mut payload = vec![0x30, 0x39, 0x30, 0x39, 0x00, 0x00, 0x00, 0x00];
    payload.extend_from_slice(tag);
    let len = u16::try_from(payload.len()).unwrap();
    payload[4..6].copy_from_slice(&len.to_be_bytes());
    ipv4_packet(host(a, 10), host(b, 20), 17, &payload)
}

/// The tags of the datagrams from spoke `a`'s host 10 that spoke `b` handed to its host since
/// delivery `from`.
pub fn received(cloud: &Cloud<R>, a: u16, b: u16, from: usize) -> Vec<Vec<u8>> {
    cloud.members[usize::from(b)].delivered[from..]
        .iter()
        .filter_map(|(_, p)| parse_ipv4(p))
        .filter(|&(s, d, _, _)| s == host(a, 10) && d == host(b, 20))
        .map(|(_, _, _, payload)| payload[8..].to_vec())
        .collect()
}

/// Sends one datagram from spoke `a`'s LAN to spoke `b`'s, runs a second, and says whether it
/// arrived.
pub fn ping(cloud: &mut Cloud<R>, a: u16, b: u16, tag: u8) -> bool {
    let before = cloud.members[usize::from(b)].delivered.len();
    cloud.inject(usize::from(a), &datagram(a, b, &[tag]));
    cloud.run_for(Duration::from_secs(1));
    received(cloud, a, b, before).contains(&vec![tag])
}

/// The router events of member `index` from `since` on.
pub fn events_since(cloud: &Cloud<R>, index: usize, since: Instant) -> Vec<Event> {
    (cloud.members[index].events.iter())
        .filter(|(at, _)| *at >= since)
        .map(|(_, e)| e.clone())
        .collect()
}

/// Sends `count` datagrams of `size` bytes from spoke 1's LAN to spoke 2's, one every `gap`,
/// and returns the tags that did not arrive.
pub fn stream(cloud: &mut Cloud<R>, count: u32, size: usize, gap: Duration) -> Vec<u32> {
    let before = cloud.members[2].delivered.len();
    for i in 0..count {
        let mut tag = i.to_be_bytes().to_vec();
        tag.resize(size, 0x5a);
        cloud.inject(1, &datagram(1, 2, &tag));
        cloud.run_for(gap);
    }
    cloud.run_for(Duration::from_secs(1));
    let got: std::collections::BTreeSet<u32> = received(cloud, 1, 2, before)
        .iter()
        .map(|t| u32::from_be_bytes(t[..4].try_into().unwrap()))
        .collect();
    (0..count).filter(|i| !got.contains(i)).collect()
}

/// The inbound SPIs spoke `n` installed, in order.
pub fn inbound_spis(cloud: &Cloud<R>, n: usize) -> Vec<u32> {
    (cloud.members[n].events.iter())
        .filter_map(|(_, e)| match e {
            Event::SaInstalled(child) => Some(child.inbound.spi),
            _ => None,
        })
        .collect()
}

/// Checks a freshly converged cloud of two spokes: each spoke's inbound SPI with the hub is the
/// hub's outbound one and the other way round, and each spoke's LAN reaches the other's.
pub fn keyed_and_routing(cloud: &mut Cloud<R>) {
    for n in 1..=2u16 {
        let spoke = &cloud.members[usize::from(n)].node;
        let (inbound, outbound) = spoke.node().peer_sas(super::cloud_util::HUB_NBMA).unwrap();
        let hub_pair = &cloud.members[0].node.pairs()[&super::cloud_util::spoke_nbma(n)];
        assert_eq!(
            (hub_pair.child.outbound.spi, hub_pair.child.inbound.spi),
            (inbound, outbound)
        );
    }
    assert!(ping(cloud, 1, 2, 7));
    assert!(ping(cloud, 2, 1, 8));
    assert!(converged(cloud, 2));
}

/// Streams 1800 datagrams of 200 bytes from spoke 1's LAN to spoke 2's, 100 ms apart, through
/// the time rekeys of a 60 s lifetime, and checks the IOS outcome: nothing lost, at least three
/// pairs at spoke 1 with no SPI twice, the first inbound SA gone after its overlap. Returns the
/// inbound SPIs spoke 1 installed.
pub fn time_rekeys_lose_nothing(cloud: &mut Cloud<R>) -> Vec<u32> {
    let first = inbound_spis(cloud, 1);
    assert_eq!(first.len(), 1);
    let lost = stream(cloud, 1800, 200, Duration::from_millis(100));
    assert!(lost.is_empty(), "lost {} datagrams: {lost:?}", lost.len());
    let spis = inbound_spis(cloud, 1);
    assert!(spis.len() >= 3, "{spis:?}");
    let unique: std::collections::BTreeSet<u32> = spis.iter().copied().collect();
    assert_eq!(unique.len(), spis.len(), "a rekey reused an SPI");
    let local = super::cloud_util::spoke_nbma(1);
    let sad = cloud.members[1].node.node().sad();
    assert!(
        sad.inbound(first[0], local).is_none(),
        "the first SA outlived its overlap"
    );
    spis
}
