//! A spoke that has the keys and misbehaves, against the hub of the simulated cloud (hub, two
//! honest spokes, ESP between each spoke and the hub; `tests/util/cloud.rs`).
//!
//! The hostile spoke holds a real ESP SA pair with the hub (as IKE would have given it: it has
//! the pre-shared key) and the NHRP password, and speaks through them: NHRP Registration
//! Requests made by real NHRP clients, EIGRP from a real EIGRP process, each sealed in GRE and
//! ESP as a spoke seals them. It registers thousands of tunnel and NBMA addresses, claims an
//! honest spoke's tunnel address, floods EIGRP with routes and flaps them, and replays its own
//! NHRP and ESP packets; and, in the cloud of whole routers with IKE, it starts Main Mode again
//! every second and replays old ISAKMP messages. Throughout, the honest spokes keep their registrations, their EIGRP
//! adjacencies and their spoke-to-spoke pings; the hub's state stays within the limits of
//! `dmvpn_proto::limits`; and every case shows in a counter (`limits()`, `Counters`).
//!
//! `DMVPN_HOSTILE_ROUTES=100000 cargo test -p dmvpn-proto --test hostile_spoke -- --nocapture`
//! floods 100 000 routes against the default limits (10 000 routes per neighbour); by default
//! 5 000 routes against a per-neighbour bound of 2 000, so that the test stays short.
#![allow(clippy::unwrap_used, clippy::expect_used)]

#[path = "util/cloud.rs"]
mod cloud_util;
#[path = "util/router.rs"]
mod router_util;

use std::net::Ipv4Addr;

use cloud_util::{HUB_NBMA, HUB_TUNNEL, converged, ping, spoke_nbma, spoke_tunnel};
use dmvpn_esp::{Encryption, Integrity, NextHeader, Sa};
use dmvpn_isakmp::consts::Group;
use dmvpn_nhrp::CieCode;
use dmvpn_proto::eigrp::{Eigrp, EigrpConfig, Link};
use dmvpn_proto::ike::{self, TestEntropy};
use dmvpn_proto::ipsec::Lifetime;
use dmvpn_proto::limits::{IkeLimits, Limit, Limits};
use dmvpn_proto::nhrp::{Client, ClientConfig, Nhs, Password, ServerEvent};
use dmvpn_proto::node::sim::{Cloud, ipv4_packet, parse_ipv4};
use dmvpn_proto::node::{DropReason, Event, Prefix};
use dmvpn_proto::{Duration, Instant};

/// The hostile spoke: spoke 3 of the cloud's addressing, outside the cloud's members (the test
/// drives it).
const HOSTILE: u16 = 3;
const GRE_KEY: u32 = 100;
const NHRP_PROTO: u16 = 0x2001;
const IPV4_PROTO: u16 = 0x0800;

struct Hostile {
    nbma: Ipv4Addr,
    tunnel: Ipv4Addr,
    /// Seals what it sends to the hub (the hub's inbound SA has the same keys).
    out: Sa,
    /// Opens what the hub sends it.
    inbound: Sa,
    seq: u64,
    /// Tapped packets already read.
    read: usize,
    /// Every ESP packet it sent, for replays.
    sent: Vec<Vec<u8>>,
}

impl Hostile {
    /// Keys the hub and the hostile spoke with a fresh SA pair, as a finished IKE exchange with
    /// the right pre-shared key would.
    fn new(cloud: &mut Cloud) -> Self {
        let sa = |spi: u32, seed: u8| {
            let enc: Vec<u8> = (0..16).map(|i| seed ^ i).collect();
            let auth: Vec<u8> = (0..20).map(|i| seed.wrapping_mul(3) ^ i).collect();
            Sa::new(spi, Encryption::AesCbc, &enc, Integrity::HmacSha1_96, &auth).unwrap()
        };
        let nbma = spoke_nbma(HOSTILE);
        let now = cloud.now;
        let hub = &mut cloud.members[0].node;
        hub.install_sas(
            now,
            nbma,
            sa(0x2000_0001, 0x11),
            sa(0x2000_0002, 0x22),
            Lifetime::default(),
        );
        Self {
            nbma,
            tunnel: spoke_tunnel(HOSTILE),
            out: sa(0x2000_0001, 0x11),
            inbound: sa(0x2000_0002, 0x22),
            seq: 0,
            read: 0,
            sent: Vec::new(),
        }
    }

    /// GRE (with the cloud's key) and ESP around `payload` of GRE protocol `proto`.
    fn seal(&mut self, proto: u16, payload: &[u8]) -> Vec<u8> {
        let mut gre = vec![0x20, 0x00];
        gre.extend_from_slice(&proto.to_be_bytes());
        gre.extend_from_slice(&GRE_KEY.to_be_bytes());
        gre.extend_from_slice(payload);
        self.seq += 1;
        let iv: Vec<u8> = self.seq.to_be_bytes().repeat(2);
        let mut esp = Vec::new();
        self.out
            .encrypt(self.seq, &iv, NextHeader::GRE, &gre, &mut esp)
            .unwrap();
        esp
    }

    /// Hands an ESP packet to the hub now, and lets the cloud take what the hub answers.
    fn send_esp(&mut self, cloud: &mut Cloud, esp: &[u8]) {
        let now = cloud.now;
        cloud.members[0].node.handle_nbma(now, self.nbma, 50, esp);
        // (the cloud collects a member's output when it runs it: an empty tunnel write does)
        cloud.inject(0, &[]);
    }

    fn send(&mut self, cloud: &mut Cloud, proto: u16, payload: &[u8]) {
        let esp = self.seal(proto, payload);
        self.send_esp(cloud, &esp);
        self.sent.push(esp);
    }

    /// What the hub sent the hostile spoke since the last call: GRE protocol and payload.
    fn received(&mut self, cloud: &Cloud) -> Vec<(u16, Vec<u8>)> {
        let tap = cloud.tap.as_deref().unwrap_or_default();
        let mut out = Vec::new();
        let mut scratch = Vec::new();
        for t in &tap[self.read.min(tap.len())..] {
            if t.to != self.nbma || t.protocol != 50 {
                continue;
            }
            let Ok(plain) = self.inbound.decrypt(&t.bytes, &mut scratch) else {
                continue;
            };
            let gre = plain.payload;
            if gre.len() >= 8 {
                out.push((u16::from_be_bytes([gre[2], gre[3]]), gre[8..].to_vec()));
            }
        }
        self.read = tap.len();
        out
    }
}

/// A Registration Request for `tunnel` claiming NBMA address `claimed`, with the cloud's
/// password and the unique flag, as a real NHRP client makes it.
fn registration(tunnel: Ipv4Addr, claimed: Ipv4Addr, id: u32, now: Instant) -> Vec<u8> {
    let nhs = Nhs {
        tunnel: HUB_TUNNEL,
        nbma: HUB_NBMA,
    };
    let mut config = ClientConfig::new(tunnel, claimed, vec![nhs]);
    config.password = Some(Password::new(b"cisco").unwrap());
    config.holding_time = 300;
    let mut client = Client::new(config, now, id);
    client.poll_transmit().unwrap().bytes
}

fn hub_rejections(cloud: &Cloud, code: CieCode) -> usize {
    cloud.members[0]
        .events
        .iter()
        .filter(|(_, e)| {
            matches!(e, Event::NhrpServer(ServerEvent::Rejected { code: c, .. }) if *c == code)
        })
        .count()
}

/// The honest spokes still work: registered, adjacent, and 1 → 2 pings through the hub.
fn honest_spokes_work(cloud: &mut Cloud, tag: u8) {
    let hub = cloud.members[0].node.nhrp_server().unwrap();
    for n in 1..=2 {
        let entry = hub.get(spoke_tunnel(n)).expect("honest spoke registered");
        assert_eq!(entry.nbma, spoke_nbma(n), "spoke {n}'s mapping kept");
    }
    let neighbors: Vec<Ipv4Addr> = (cloud.members[0].node.eigrp().unwrap().hello().iter())
        .map(|n| n.address)
        .collect();
    assert!(neighbors.contains(&spoke_tunnel(1)) && neighbors.contains(&spoke_tunnel(2)));
    assert!(ping(cloud, 1, 2, tag).is_some(), "spoke 1 pings spoke 2");
    assert!(
        ping(cloud, 2, 1, tag + 1).is_some(),
        "spoke 2 pings spoke 1"
    );
}

/// The cloud of hub and two spokes with the hub's `limits`, converged.
fn booted(limits: Limits) -> Cloud {
    let mut cloud = Cloud::new(Instant::ZERO, 7);
    let mut hub = cloud_util::hub_config(2);
    hub.limits = limits;
    cloud.add(hub);
    for n in 1..=2 {
        cloud.add(cloud_util::spoke_config(n));
    }
    cloud.tap = Some(Vec::new());
    cloud.logging = false;
    cloud.run_for(Duration::from_secs(20));
    assert!(converged(&cloud, 2));
    cloud
}

#[test]
fn thousands_of_registrations_a_stolen_address_and_replays() {
    let mut cloud = booted(Limits::DEFAULT);
    let limits = Limits::DEFAULT.nhrp;
    let mut hostile = Hostile::new(&mut cloud);
    // Its own address first: accepted.
    let own = registration(hostile.tunnel, hostile.nbma, 1, cloud.now);
    hostile.send(&mut cloud, NHRP_PROTO, &own);
    let server = cloud.members[0].node.nhrp_server().unwrap();
    assert_eq!(
        server.get(hostile.tunnel).map(|e| e.nbma),
        Some(hostile.nbma)
    );

    // 3000 tunnel addresses, each claiming another NBMA address, 100 a second for 30 s.
    for i in 0..3000u32 {
        let tunnel = Ipv4Addr::from_bits(Ipv4Addr::new(172, 16, 100, 0).to_bits() + i);
        let claimed = Ipv4Addr::from_bits(Ipv4Addr::new(198, 18, 0, 0).to_bits() + i);
        let request = registration(tunnel, claimed, 100 + i, cloud.now);
        hostile.send(&mut cloud, NHRP_PROTO, &request);
        cloud.run_for(Duration::from_millis(10));
    }
    let server = cloud.members[0].node.nhrp_server().unwrap();
    let tally = server.limits();
    assert_eq!(server.registered_from(hostile.nbma), limits.per_nbma);
    assert_eq!(
        server.len(),
        2 + limits.per_nbma,
        "two honest spokes and the bound"
    );
    // 10 a second are taken: about 300 of 3000; the first 15 fill the bound, the rest get 5.
    let rated = tally.refused(Limit::NhrpRate);
    assert!(
        (2600..=2720).contains(&rated),
        "{rated} dropped by the rate"
    );
    let over = tally.refused(Limit::NhrpPerNbma);
    assert_eq!(over, 3000 - rated - (limits.per_nbma as u64 - 1));
    assert_eq!(
        hub_rejections(&cloud, CieCode::INSUFFICIENT_RESOURCES),
        usize::try_from(over).unwrap()
    );
    assert!(tally.episodes(Limit::NhrpRate) >= 1 && tally.episodes(Limit::NhrpRate) <= 3);
    eprintln!(
        "3000 registrations from one spoke in 30 s: {} cache entries from it, {} in all; {rated} dropped by the rate, {over} refused with code 5",
        server.registered_from(hostile.nbma),
        server.len()
    );
    // The replies it got say code 5 (Insufficient Resources) for those.
    let replies = hostile.received(&cloud);
    let fives = replies
        .iter()
        .filter(|(proto, _)| *proto == NHRP_PROTO)
        .filter_map(|(_, bytes)| {
            let packet = dmvpn_nhrp::Packet::new_checked(bytes.as_slice()).ok()?;
            let repr = dmvpn_nhrp::Repr::parse(&packet).ok()?;
            let control = repr.message.control()?;
            let codes: Vec<CieCode> = control.cies.iter().map(|c| c.code).collect();
            Some(codes)
        })
        .filter(|codes| codes == &[CieCode::INSUFFICIENT_RESOURCES])
        .count();
    assert_eq!(fives, usize::try_from(over).unwrap());
    honest_spokes_work(&mut cloud, 10);

    // Spoke 1's tunnel address, with the unique flag: code 14, as IOS (its mapping stays).
    cloud.run_for(Duration::from_secs(2));
    let before = hub_rejections(&cloud, CieCode::ALREADY_REGISTERED);
    let stolen = registration(spoke_tunnel(1), hostile.nbma, 9000, cloud.now);
    hostile.send(&mut cloud, NHRP_PROTO, &stolen);
    assert_eq!(
        hub_rejections(&cloud, CieCode::ALREADY_REGISTERED),
        before + 1
    );

    // Replays: its first ESP packet again (the anti-replay window drops it) and its first
    // Registration Request again in a new ESP packet (a refresh of what it has: no new state).
    let replay_drops = cloud.members[0]
        .node
        .counters()
        .drops(DropReason::EspReplay);
    let first = hostile.sent[0].clone();
    hostile.send_esp(&mut cloud, &first);
    assert_eq!(
        cloud.members[0]
            .node
            .counters()
            .drops(DropReason::EspReplay),
        replay_drops + 1
    );
    hostile.send(&mut cloud, NHRP_PROTO, &own);
    let server = cloud.members[0].node.nhrp_server().unwrap();
    assert_eq!(server.len(), 2 + limits.per_nbma);
    honest_spokes_work(&mut cloud, 20);
}

/// The hostile spoke's EIGRP process, and the loop that carries its packets to the hub and the
/// hub's back, until `until`.
fn run_eigrp(cloud: &mut Cloud, hostile: &mut Hostile, eigrp: &mut Eigrp, until: Instant) {
    while cloud.now < until {
        let now = cloud.now;
        if eigrp.poll_timeout().is_some_and(|t| t <= now) {
            eigrp.handle_timeout(now);
        }
        while let Some(t) = eigrp.poll_transmit() {
            let packet = ipv4_packet(hostile.tunnel, t.to, 88, &t.bytes);
            hostile.send(cloud, IPV4_PROTO, &packet);
        }
        for (proto, inner) in hostile.received(cloud) {
            let Some((src, _, _, body)) = parse_ipv4(&inner).filter(|_| proto == IPV4_PROTO) else {
                continue;
            };
            if let Ok(packet) = dmvpn_eigrp::Packet::new_checked(body)
                && let Ok(repr) = dmvpn_eigrp::Repr::parse(&packet)
            {
                let _ = eigrp.handle_packet(now, src, &repr);
            }
        }
        cloud.run_for(Duration::from_millis(5));
    }
}

#[test]
fn route_flood_and_flaps_stay_within_maximum_prefix() {
    // By default a smaller bound, so that the test stays short; the full flood runs against
    // the default limits.
    let full: Option<u32> = std::env::var("DMVPN_HOSTILE_ROUTES")
        .ok()
        .and_then(|v| v.parse().ok());
    let mut hub_limits = Limits::DEFAULT;
    if full.is_none() {
        hub_limits.eigrp.per_neighbor = 2_000;
    }
    let routes = full.unwrap_or(5_000);
    let mut cloud = booted(hub_limits);
    cloud.latency = Duration::from_millis(1);
    let limits = hub_limits.eigrp;
    let mut hostile = Hostile::new(&mut cloud);
    let own = registration(hostile.tunnel, hostile.nbma, 1, cloud.now);
    hostile.send(&mut cloud, NHRP_PROTO, &own);
    let mut config = EigrpConfig::new(hostile.tunnel, cloud_util::AS);
    config.limits.per_neighbor = usize::MAX; // the hostile side keeps no bound of its own
    config.limits.total.max = usize::MAX;
    let mut eigrp = Eigrp::new(config, cloud.now);
    let prefix = |i: u32| Prefix::new(Ipv4Addr::from_bits((20 << 24) + (i << 8)), 24);
    for i in 0..routes {
        eigrp.add_connected(cloud.now, prefix(i), Link::GIGABIT_ETHERNET);
    }
    let until = cloud.now + Duration::from_secs(120);
    let mut done = false;
    while cloud.now < until && !done {
        let step = cloud.now + Duration::from_secs(1);
        run_eigrp(&mut cloud, &mut hostile, &mut eigrp, step);
        let hub = cloud.members[0].node.eigrp().unwrap();
        done = hub.limits().refused(Limit::EigrpPerNeighbor)
            >= u64::from(routes) - limits.per_neighbor as u64;
    }
    let hub = cloud.members[0].node.eigrp().unwrap();
    assert!(done, "the flood arrived: {:?}", hub.limits());
    eprintln!(
        "{routes} routes from one neighbour: {} learnt from it, {} topology entries, {} refused, in {:?} of virtual time",
        hub.prefixes_from(hostile.tunnel),
        hub.topology().count(),
        hub.limits().refused(Limit::EigrpPerNeighbor),
        cloud.now - Instant::ZERO
    );
    assert_eq!(hub.prefixes_from(hostile.tunnel), limits.per_neighbor);
    assert!(hub.topology().count() <= limits.per_neighbor + 3 * 2 + 1);
    assert_eq!(hub.limits().episodes(Limit::EigrpPerNeighbor), 1);
    honest_spokes_work(&mut cloud, 30);

    // Flaps: a thousand routes withdrawn and announced again, five times.
    for round in 0..5u8 {
        for i in 0..1000 {
            eigrp.remove_connected(cloud.now, prefix(i));
        }
        let step = cloud.now + Duration::from_secs(3);
        run_eigrp(&mut cloud, &mut hostile, &mut eigrp, step);
        for i in 0..1000 {
            eigrp.add_connected(cloud.now, prefix(i), Link::GIGABIT_ETHERNET);
        }
        let step = cloud.now + Duration::from_secs(3);
        run_eigrp(&mut cloud, &mut hostile, &mut eigrp, step);
        let hub = cloud.members[0].node.eigrp().unwrap();
        assert!(hub.prefixes_from(hostile.tunnel) <= limits.per_neighbor);
        honest_spokes_work(&mut cloud, 40 + 2 * round);
    }
    let hub = cloud.members[0].node.eigrp().unwrap();
    assert!(hub.prefixes_learnt() <= limits.per_neighbor + 4);
    // The hub's counters name it.
    let sum = cloud.members[0].node.eigrp().unwrap().limits().clone();
    assert!(sum.last().is_some_and(|n| n.peer == hostile.tunnel));
}

/// In the cloud of whole routers (IKE with the pre-shared key `cisco123`): a spoke with the key
/// starts Main Mode again every second for a minute (a fresh initiator each time, as after a
/// restart), replays its first Main Mode 1 every second, and replays the honest spokes' ISAKMP
/// messages it saw on the wire. The hub keeps at most `half_open_per_peer` half-open SAs for it,
/// counts the replacements and the refusals, and the honest spokes keep their SAs and pings.
#[test]
fn ike_started_every_second_and_replayed() {
    let mut cloud = router_util::router_cloud(2, 11, Group::MODP_1024, |_| {});
    cloud.tap = Some(Vec::new());
    cloud.logging = false;
    router_util::run_until_converged(&mut cloud, 2, Duration::from_secs(30)).expect("converged");
    let limits = IkeLimits::DEFAULT;
    let nbma = spoke_nbma(HOSTILE);
    let config = router_util::ike_config(nbma, Group::MODP_1024);
    let honest: Vec<Vec<u8>> = (cloud.tap.as_deref().unwrap_or_default().iter())
        .filter(|t| t.to == HUB_NBMA && t.protocol == 17 && t.bytes.len() > 8)
        .map(|t| t.bytes[8..].to_vec())
        .collect();
    assert!(
        honest.len() >= 6,
        "the honest spokes' Main and Quick Modes were seen"
    );
    let refused_before = cloud.members[0].node.ike_counters().refused;
    let mut first_mm1: Option<Vec<u8>> = None;
    for second in 0..60u64 {
        let now = cloud.now;
        let mut initiator = ike::Endpoint::new(config.clone(), TestEntropy::new(1000 + second));
        initiator.connect(now, HUB_NBMA).unwrap();
        let mut messages = Vec::new();
        while let Some(t) = initiator.poll_transmit() {
            messages.push(t.bytes);
        }
        first_mm1.get_or_insert_with(|| messages[0].clone());
        messages.extend(first_mm1.clone());
        messages.push(honest[usize::try_from(second).unwrap() % honest.len()].clone());
        let hub = &mut cloud.members[0].node;
        for message in &messages {
            hub.handle_ike(now, nbma, message);
        }
        cloud.inject(0, &[]);
        cloud.run_for(Duration::from_secs(1));
        let hub = cloud.members[0].node.ike().unwrap();
        assert!(
            hub.half_open() <= limits.half_open_per_peer,
            "{}",
            hub.half_open()
        );
    }
    let router = &cloud.members[0].node;
    let hub = router.ike().unwrap();
    let replaced = hub.limits().refused(Limit::IkeHalfOpenPerPeer);
    let refused = router.ike_counters().refused - refused_before;
    eprintln!(
        "60 Main Modes in 60 s from one peer: {} half-open at the end, {replaced} replaced, {refused} messages refused (replays)",
        hub.half_open()
    );
    // 60 fresh Main Mode 1s and 60 replays of the first (a new SA each time its own was
    // replaced): past the first 4, each new half-open SA replaced the oldest.
    let most = 120 - limits.half_open_per_peer as u64;
    assert!(
        (60 - limits.half_open_per_peer as u64..=most).contains(&replaced),
        "{replaced}"
    );
    assert_eq!(hub.limits().episodes(Limit::IkeHalfOpenPerPeer), 1);
    assert!(
        refused >= 60,
        "the replayed honest messages are refused: {refused}"
    );
    assert_eq!(
        router.pairs().len(),
        2,
        "the honest spokes keep their SA pairs"
    );
    assert!(router_util::converged(&cloud, 2));
    assert!(router_util::ping(&mut cloud, 1, 2, 90));
    assert!(router_util::ping(&mut cloud, 2, 1, 91));
    assert_eq!(
        cloud.members[0]
            .node
            .limits()
            .refused(Limit::IkeHalfOpenPerPeer),
        replaced,
        "the router's sum shows it"
    );
}
