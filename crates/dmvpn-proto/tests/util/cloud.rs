//! The cloud of the scenarios (`tests/cloud*.rs`): the configuration of the seed lab, in the
//! words of its IOS lines, and helpers to look at a [`Cloud`].
//!
//! ```text
//! hub      Tunnel0 172.16.1.1/16  NBMA 100.1.1.1    LAN 10.0.0.0/24
//! spoke n  Tunnel0 172.16.1.1+n   NBMA 100.1.1.1+n  LAN 10.n/256.n%256.0/24 (n up to 65000)
//! tunnel key 100, ip nhrp authentication cisco, ip nhrp holdtime 300, router eigrp 100,
//! tunnel protection: esp-aes esp-sha-hmac (static keys per hub–spoke pair, as IKE would give)
//! ```
// Each test binary uses a different part of the harness, and a test helper that panics is a
// failed test.
#![allow(dead_code, unreachable_pub, clippy::expect_used, clippy::unwrap_used)]

use std::net::Ipv4Addr;

use dmvpn_esp::{Encryption, Integrity};
use dmvpn_proto::eigrp::DownReason;
use dmvpn_proto::ipsec::Lifetime;
use dmvpn_proto::nhrp::{Nhs, Password};
use dmvpn_proto::node::sim::{Cloud, ipv4_packet, parse_ipv4};
use dmvpn_proto::node::{
    EigrpConfig, Event, IpsecConfig, NodeConfig, Prefix, StaticRoute, TransformSet,
};
use dmvpn_proto::{Instant, eigrp};

pub const HUB_NBMA: Ipv4Addr = Ipv4Addr::new(100, 1, 1, 1);
pub const HUB_TUNNEL: Ipv4Addr = Ipv4Addr::new(172, 16, 1, 1);
pub const AS: u16 = 100;

/// The NBMA address of spoke `n` (1-based).
pub fn spoke_nbma(n: u16) -> Ipv4Addr {
    Ipv4Addr::from_bits(HUB_NBMA.to_bits() + u32::from(n))
}

/// The tunnel address of spoke `n`.
pub fn spoke_tunnel(n: u16) -> Ipv4Addr {
    Ipv4Addr::from_bits(HUB_TUNNEL.to_bits() + u32::from(n))
}

/// The LAN of spoke `n` (the hub's is 10.0.0.0/24).
pub fn lan(n: u16) -> Prefix {
    let [high, low] = n.to_be_bytes();
    Prefix::new(Ipv4Addr::new(10, high, low, 0), 24)
}

/// Host `h` on the LAN of spoke `n`.
pub fn host(n: u16, h: u8) -> Ipv4Addr {
    let a = lan(n).addr().octets();
    Ipv4Addr::new(a[0], a[1], a[2], h)
}

/// Transform set esp-aes esp-sha-hmac (the cloud keys each pair itself, as IKE would).
pub fn ipsec() -> IpsecConfig {
    IpsecConfig {
        transform_set: TransformSet {
            encryption: Encryption::AesCbc,
            key_bits: 128,
            integrity: Integrity::HmacSha1_96,
        },
        lifetime: Lifetime::ios_default(),
    }
}

/// `router eigrp 100 / network 172.16.1.0 0.0.0.255 / network <lan> 0.0.0.255`.
pub fn eigrp(lan: Prefix) -> EigrpConfig {
    EigrpConfig {
        networks: vec![Prefix::new(HUB_TUNNEL, 16), lan],
        connected: vec![lan],
        ..EigrpConfig::new(AS)
    }
}

fn common(config: &mut NodeConfig) {
    config.tunnel.key = Some(100);
    config.tunnel.ip_mtu = 1400;
    config.tunnel.tcp_adjust_mss = Some(1360);
    config.nhrp.password = Some(Password::new(b"cisco").unwrap());
    config.nhrp.holding_time = 300;
    config.ipsec = Some(ipsec());
}

/// The hub, with `no ip split-horizon eigrp 100` and static routes to every spoke LAN up to
/// `spokes` (until EIGRP carries routes).
pub fn hub_config(spokes: u16) -> NodeConfig {
    let mut config = NodeConfig::hub(HUB_TUNNEL, 16, HUB_NBMA);
    common(&mut config);
    let mut eigrp = eigrp(lan(0));
    eigrp.split_horizon = false;
    config.eigrp = Some(eigrp);
    config.static_routes = (1..=spokes)
        .map(|n| StaticRoute {
            prefix: lan(n),
            next_hop: spoke_tunnel(n),
        })
        .collect();
    config
}

/// Spoke `n`, with `ip nhrp nhs 172.16.1.1`, `ip nhrp map 172.16.1.1 100.1.1.1`, `ip nhrp map
/// multicast 100.1.1.1` and a static route to the other LANs through the hub.
pub fn spoke_config(n: u16) -> NodeConfig {
    let nhs = Nhs {
        tunnel: HUB_TUNNEL,
        nbma: HUB_NBMA,
    };
    let mut config = NodeConfig::spoke(spoke_tunnel(n), 16, spoke_nbma(n), nhs);
    common(&mut config);
    config.eigrp = Some(eigrp(lan(n)));
    config.static_routes = vec![StaticRoute {
        prefix: Prefix::new(Ipv4Addr::new(10, 0, 0, 0), 8),
        next_hop: HUB_TUNNEL,
    }];
    config
}

/// A cloud of the hub (index 0) and spokes 1..=`spokes` (index n), all booted at 0.
pub fn cloud(spokes: u16, seed: u64) -> Cloud {
    let mut cloud = Cloud::new(Instant::ZERO, seed);
    cloud.add(hub_config(spokes));
    for n in 1..=spokes {
        cloud.add(spoke_config(n));
    }
    cloud
}

/// [`cloud`] of `spokes` spokes run for its first 30 s, by which it has [`converged`] (asserted).
pub fn converged_cloud(spokes: u16, seed: u64) -> Cloud {
    let mut cloud = cloud(spokes, seed);
    cloud.run_until(Instant::from_secs(30));
    assert!(converged(&cloud, spokes));
    cloud
}

/// Sends one UDP datagram from host 10 of spoke `a`'s LAN to host 20 of spoke `b`'s, runs the
/// cloud for a second, and returns the TTL it arrived with at `b`'s host, if it did.
pub fn ping(cloud: &mut Cloud, a: u16, b: u16, tag: u8) -> Option<u8> {
    let (src, dst) = (host(a, 10), host(b, 20));
    let payload = [0x30, 0x39, 0x30, 0x39, 0x00, 0x09, 0x00, 0x00, tag];
    let packet = ipv4_packet(src, dst, 17, &payload);
    let b_index = usize::from(b);
    let before = cloud.members[b_index].delivered.len();
    cloud.inject(usize::from(a), &packet);
    cloud.run_for(dmvpn_proto::Duration::from_secs(1));
    cloud.members[b_index].delivered[before..]
        .iter()
        .filter_map(|(_, p)| parse_ipv4(p))
        .find(|&(s, d, _, payload)| s == src && d == dst && payload.last() == Some(&tag))
        .map(|(_, _, ttl, _)| ttl)
}

/// The EIGRP neighbours of node `index`.
pub fn neighbors(cloud: &Cloud, index: usize) -> Vec<Ipv4Addr> {
    cloud.members[index]
        .node
        .eigrp()
        .map(|e| e.hello().iter().map(|n| n.address).collect())
        .unwrap_or_default()
}

/// Whether node `index` reported a neighbour going down for `reason`.
pub fn went_down(cloud: &Cloud, index: usize, reason: DownReason) -> bool {
    cloud.members[index].events.iter().any(|(_, e)| {
        matches!(e, Event::Eigrp(eigrp::EigrpEvent::Neighbor(eigrp::Event::NeighborDown { reason: r, .. })) if *r == reason)
    })
}

/// Whether the cloud of `spokes` spokes is whole: every spoke registered at the hub and
/// adjacent to it over EIGRP, the hub adjacent to every spoke.
pub fn converged(cloud: &Cloud, spokes: u16) -> bool {
    let hub = &cloud.members[0].node;
    let registered = hub.nhrp_server().map_or(0, |s| s.len());
    let hub_neighbors = neighbors(cloud, 0).len();
    registered == usize::from(spokes)
        && hub_neighbors == usize::from(spokes)
        && (1..=spokes).all(|n| {
            let member = &cloud.members[usize::from(n)];
            member.node.nhrp_client().is_some_and(|c| c.is_registered())
                && neighbors(cloud, usize::from(n)) == [HUB_TUNNEL]
        })
}

/// The events of node `index` from `since` on.
pub fn events_since(cloud: &Cloud, index: usize, since: Instant) -> Vec<Event> {
    cloud.members[index]
        .events
        .iter()
        .filter(|(at, _)| *at >= since)
        .map(|(_, e)| *e)
        .collect()
}
