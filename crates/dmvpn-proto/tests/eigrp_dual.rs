//! The EIGRP process ([`Eigrp`]) on a DMVPN Phase 1 cloud in memory: router 0 is the hub
//! (172.16.1.1), the others spokes (172.16.1.2, …) on one multipoint tunnel. The hub hears every
//! spoke and every spoke hears only the hub, as NHRP's multicast map makes it (`ip nhrp map
//! multicast dynamic` on the hub, `ip nhrp map multicast <hub>` on the spokes). Virtual clock,
//! 10 ms one way. Every test states what an IOS cloud shows.

#![allow(clippy::unwrap_used)]

#[path = "util/eigrp.rs"]
mod eigrp_util;

use std::collections::BTreeMap;
use std::net::Ipv4Addr;
use std::ops::{Deref, DerefMut};

use dmvpn_eigrp::{self as eigrp, Flags, OpCode};
use dmvpn_proto::eigrp::{
    DownReason, Eigrp, EigrpConfig, EigrpEvent, Link, Prefix, RouteState, Sha256Key, Via, neighbor,
};
use dmvpn_proto::{Duration, Instant};
use eigrp_util::Tunnel;

const AS: u16 = 123;

fn addr(n: u8) -> Ipv4Addr {
    Ipv4Addr::new(172, 16, 1, n)
}

/// The LAN behind router `n`: 10.0.n.0/24.
fn lan(n: u8) -> Prefix {
    Prefix::new(Ipv4Addr::new(10, 0, n, 0), 24)
}

fn secs(t: i64) -> Instant {
    Instant::from_secs(t)
}

/// One packet seen on the tunnel.
#[derive(Clone, Debug)]
struct Seen {
    at: Instant,
    from: usize,
    to: Ipv4Addr,
    opcode: OpCode,
    flags: Flags,
    sequence: u32,
    ack: u32,
    routes: usize,
    dropped: bool,
}

struct Node {
    eigrp: Eigrp,
    address: Ipv4Addr,
    alive: bool,
    events: Vec<(Instant, EigrpEvent)>,
    errors: Vec<(Instant, dmvpn_proto::eigrp::Error)>,
    rib: BTreeMap<Prefix, (Ipv4Addr, u32)>,
}

/// A router that is down neither runs its timers nor hears anything.
impl eigrp_util::Router for Node {
    fn address(&self) -> Ipv4Addr {
        self.address
    }

    fn poll_timeout(&self) -> Option<Instant> {
        self.eigrp.poll_timeout().filter(|_| self.alive)
    }

    fn handle_timeout(&mut self, now: Instant) {
        self.eigrp.handle_timeout(now);
    }

    fn receive(&mut self, now: Instant, source: Ipv4Addr, repr: &eigrp::Repr<'_>) {
        if !self.alive {
            return;
        }
        if let Err(e) = self.eigrp.handle_packet(now, source, repr) {
            self.errors.push((now, e));
        }
    }
}

type DropRule = Box<dyn FnMut(usize, Ipv4Addr, &eigrp::Repr<'_>) -> bool>;

/// The tunnel, with a log of every packet and a rule that loses some.
struct Net {
    tunnel: Tunnel<Node>,
    log: Vec<Seen>,
    /// `drop(from, to, packet)`: whether the tunnel loses it.
    drop: DropRule,
}

impl Deref for Net {
    type Target = Tunnel<Node>;

    fn deref(&self) -> &Tunnel<Node> {
        &self.tunnel
    }
}

impl DerefMut for Net {
    fn deref_mut(&mut self) -> &mut Tunnel<Node> {
        &mut self.tunnel
    }
}

impl Net {
    fn new(configs: Vec<EigrpConfig>) -> Self {
        let nodes = configs
            .into_iter()
            .enumerate()
            .map(|(i, config)| {
                let address = config.hello.address;
                let mut eigrp = Eigrp::new(config, Instant::ZERO);
                eigrp.add_connected(Instant::ZERO, lan(i as u8), Link::GIGABIT_ETHERNET);
                Node {
                    eigrp,
                    address,
                    alive: true,
                    events: Vec::new(),
                    errors: Vec::new(),
                    rib: BTreeMap::new(),
                }
            })
            .collect();
        Self {
            tunnel: Tunnel::with(nodes),
            log: Vec::new(),
            drop: Box::new(|_, _, _| false),
        }
    }

    /// A hub and `spokes` spokes with IOS defaults, `hub` adjusting the hub's configuration.
    fn cloud(spokes: u8, hub: impl FnOnce(&mut EigrpConfig)) -> Self {
        let mut configs: Vec<EigrpConfig> = (1..=spokes + 1)
            .map(|n| EigrpConfig::new(addr(n), AS))
            .collect();
        hub(&mut configs[0]);
        Self::new(configs)
    }

    fn run_until(&mut self, limit: Instant) {
        let Self { tunnel, log, drop } = self;
        tunnel.run(limit, |tunnel| collect(tunnel, log, drop));
    }

    fn rib(&self, i: usize) -> &BTreeMap<Prefix, (Ipv4Addr, u32)> {
        &self.routers[i].rib
    }

    fn downs(&self, i: usize) -> Vec<(Ipv4Addr, DownReason)> {
        self.routers[i]
            .events
            .iter()
            .filter_map(|(_, e)| match e {
                EigrpEvent::Neighbor(neighbor::Event::NeighborDown { address, reason }) => {
                    Some((*address, *reason))
                }
                _ => None,
            })
            .collect()
    }

    fn sent(&self, from: usize, opcode: OpCode) -> Vec<&Seen> {
        self.log
            .iter()
            .filter(|s| {
                s.from == from && s.opcode == opcode && !(opcode == OpCode::HELLO && s.ack == 0)
            })
            .collect()
    }
}

/// Takes what the routers sent (logged, then lost or put on the tunnel) and raised (the
/// route events kept as each router's RIB, which must agree with the process's own).
fn collect(tunnel: &mut Tunnel<Node>, log: &mut Vec<Seen>, drop: &mut DropRule) {
    for i in 0..tunnel.routers.len() {
        while let Some(t) = tunnel.routers[i].eigrp.poll_transmit() {
            let repr = t.parse().unwrap();
            if !tunnel.routers[i].alive {
                continue;
            }
            let dropped = drop(i, t.to, &repr);
            log.push(Seen {
                at: tunnel.now,
                from: i,
                to: t.to,
                opcode: repr.opcode,
                flags: repr.flags,
                sequence: repr.sequence,
                ack: repr.ack,
                routes: repr.routes().count(),
                dropped,
            });
            if !dropped {
                tunnel.send(i, tunnel.hearers(i, t.to), &t.bytes);
            }
        }
        let now = tunnel.now;
        let node = &mut tunnel.routers[i];
        while let Some(e) = node.eigrp.poll_event() {
            // An installed route is new; a changed or withdrawn one was there.
            assert!(e.apply(&mut node.rib), "router {i}: {e}");
            node.events.push((now, e));
        }
        // The events and the process's own view of the RIB agree.
        let own: BTreeMap<_, _> = node.eigrp.routes().map(|(p, nh, m)| (p, (nh, m))).collect();
        assert_eq!(own, node.rib, "router {i}");
    }
}

/// IOS: `%DUAL-5-NBRCHANGE: … 172.16.1.2 (Tunnel0) is up: new adjacency` on both; each side sends
/// an empty unicast INIT Update, acknowledges the other's, then its table ending with EOT; the
/// spoke shows `D 10.0.0.0/24 [90/26880256] via 172.16.1.1, Tunnel0` and the hub `D 10.0.1.0/24
/// [90/26880256] via 172.16.1.2`.
#[test]
fn two_routers_init_eot_and_converge() {
    let mut net = Net::cloud(1, |_| {});
    net.run_until(secs(2));
    for (i, peer) in [(0, addr(2)), (1, addr(1))] {
        let init: Vec<_> = net.sent(i, OpCode::UPDATE);
        assert!(init[0].flags.contains(Flags::INIT), "{init:?}");
        assert_eq!((init[0].to, init[0].routes), (peer, 0));
        assert!(init[1].flags.contains(Flags::EOT));
        assert_eq!(init[1].routes, 1);
        // Nothing is sent unacknowledged for long: exactly one INIT and one EOT Update each.
        assert_eq!(init.len(), 2);
        assert!(
            net.routers[i].events.iter().any(
                |(_, e)| matches!(e, EigrpEvent::Neighbor(neighbor::Event::NeighborUp { address, .. }) if *address == peer)
            )
        );
        let shown: Vec<_> = net.routers[i].eigrp.neighbors(net.now).collect();
        assert_eq!(shown.len(), 1);
        assert!(shown[0].established);
        assert_eq!(shown[0].queue, 0);
        assert_eq!(shown[0].rto, Duration::from_millis(200));
    }
    assert_eq!(net.rib(1)[&lan(0)], (addr(1), 26_880_256));
    assert_eq!(net.rib(0)[&lan(1)], (addr(2), 26_880_256));
    let logged: Vec<String> = net.routers[1]
        .events
        .iter()
        .map(|(_, e)| e.to_string())
        .collect();
    assert_eq!(
        logged,
        [
            "Neighbor 172.16.1.1 (Tunnel0) is up: new adjacency",
            "D 10.0.0.0/24 [90/26880256] via 172.16.1.1, Tunnel0"
        ]
    );
    let route = net.routers[1].eigrp.route(lan(0)).unwrap();
    assert_eq!(route.state, RouteState::Passive);
    assert_eq!(route.feasible_distance, 26_880_256);
    assert_eq!(route.successors[0].via, Via::Neighbor(addr(1)));
    assert_eq!(route.successors[0].reported_distance, 2816);
    assert_eq!(
        route.to_string(),
        "P 10.0.0.0/24, 1 successors, FD is 26880256\n        via 172.16.1.1 (26880256/2816), Tunnel0"
    );
    assert!(net.routers.iter().all(|n| n.errors.is_empty()));
}

/// IOS with `ip split-horizon eigrp` on the hub's tunnel (the default): the spokes learn the
/// hub's LAN only, never each other's (`show ip route` on spoke 1 has no 10.0.2.0/24); the hub
/// learns both.
#[test]
fn split_horizon_keeps_spokes_apart() {
    let mut net = Net::cloud(2, |_| {});
    net.run_until(secs(3));
    assert_eq!(
        net.rib(0).keys().copied().collect::<Vec<_>>(),
        [lan(1), lan(2)]
    );
    for spoke in [1, 2] {
        assert_eq!(net.rib(spoke).keys().copied().collect::<Vec<_>>(), [lan(0)]);
    }
}

/// IOS with `no ip split-horizon eigrp 123` on the hub: each spoke learns the other's LAN through
/// the hub, `D 10.0.2.0/24 [90/28160256] via 172.16.1.1` (two tunnel hops); with `no ip
/// next-hop-self eigrp 123` as well, the next hop is the other spoke, `via 172.16.1.3`.
#[test]
fn no_split_horizon_spokes_learn_each_other_through_the_hub() {
    let mut net = Net::cloud(2, |hub| hub.split_horizon = false);
    net.run_until(secs(3));
    assert_eq!(net.rib(1)[&lan(2)], (addr(1), 28_160_256));
    assert_eq!(net.rib(2)[&lan(1)], (addr(1), 28_160_256));
    // The hub's own LAN is one hop.
    assert_eq!(net.rib(1)[&lan(0)], (addr(1), 26_880_256));

    let mut net = Net::cloud(2, |hub| {
        hub.split_horizon = false;
        hub.next_hop_self = false;
    });
    net.run_until(secs(3));
    assert_eq!(net.rib(1)[&lan(2)], (addr(3), 28_160_256));
    assert_eq!(net.rib(2)[&lan(1)], (addr(2), 28_160_256));
    assert_eq!(net.rib(1)[&lan(0)], (addr(1), 26_880_256));
}

/// IOS, hub with `no ip split-horizon eigrp`: spoke 2 dies silently; 15 s later the hub logs `is
/// down: holding time expired`, has no feasible successor for 10.0.2.0/24, goes active and
/// queries spoke 1, which answers unreachable; the hub withdraws the route and spoke 1 drops it.
/// With split horizon on, the hub withdraws at once without a Query (nobody to ask).
#[test]
fn dead_spoke_goes_active_queries_and_withdraws() {
    for split_horizon in [false, true] {
        let mut net = Net::cloud(2, |hub| hub.split_horizon = split_horizon);
        net.run_until(secs(3));
        assert!(net.rib(0).contains_key(&lan(2)));
        net.routers[2].alive = false;
        net.run_until(secs(30));
        assert_eq!(net.downs(0), [(addr(3), DownReason::HoldTimerExpired)]);
        let down = net.routers[0].events.iter().find(|(_, e)| {
            matches!(
                e,
                EigrpEvent::Neighbor(neighbor::Event::NeighborDown { .. })
            )
        });
        assert_eq!(
            down.unwrap().1.to_string(),
            "Neighbor 172.16.1.3 (Tunnel0) is down: holding time expired"
        );
        assert!(!net.rib(0).contains_key(&lan(2)));
        assert!(!net.rib(1).contains_key(&lan(2)));
        let queries = net.sent(0, OpCode::QUERY);
        let replies = net.sent(1, OpCode::REPLY);
        if split_horizon {
            assert!(queries.is_empty() && replies.is_empty());
        } else {
            assert_eq!(queries.len(), 1);
            assert_eq!(queries[0].to, addr(2));
            assert_eq!(replies.len(), 1);
            assert!(queries[0].at >= secs(15) && queries[0].at < secs(20));
        }
        // The rest of the cloud is untouched.
        assert!(net.rib(0).contains_key(&lan(1)));
        assert!(net.rib(1).contains_key(&lan(0)));
        assert_eq!(
            net.routers[0].eigrp.route(lan(1)).unwrap().state,
            RouteState::Passive
        );
    }
}

/// IOS: the first three Updates from the hub to the spoke are lost; the hub retransmits each
/// after its RTO and the adjacency completes anyway (`show ip eigrp neighbors` Q count back to 0).
#[test]
fn lost_packets_are_retransmitted() {
    let mut net = Net::cloud(1, |_| {});
    let mut lost = 0;
    net.drop = Box::new(move |from, _, repr| {
        if from == 0 && repr.sequence != 0 && lost < 3 {
            lost += 1;
            return true;
        }
        false
    });
    net.run_until(secs(30));
    let hub_updates = net.sent(0, OpCode::UPDATE);
    assert_eq!(hub_updates.iter().filter(|s| s.dropped).count(), 3);
    // The same INIT went four times, 2 s apart (RTO 2 s before the first measurement).
    let init: Vec<_> = hub_updates
        .iter()
        .filter(|s| s.flags.contains(Flags::INIT))
        .collect();
    assert_eq!(init.len(), 4);
    assert!(init.iter().all(|s| s.sequence == init[0].sequence));
    assert_eq!(init[1].at - init[0].at, Duration::from_secs(2));
    assert_eq!(net.rib(1)[&lan(0)], (addr(1), 26_880_256));
    assert_eq!(net.rib(0)[&lan(1)], (addr(2), 26_880_256));
    let shown: Vec<_> = net.routers[0].eigrp.neighbors(net.now).collect();
    assert_eq!(shown[0].queue, 0);
    assert!(net.downs(0).is_empty());
}

/// IOS: Hellos get through but the hub's unicasts to the spoke never do (an MTU or NAT problem);
/// after 16 retransmissions and at least the hold time the hub logs `is down: retry limit
/// exceeded`, and the next Hello brings the neighbour back (`is up: new adjacency`).
#[test]
fn retry_limit_resets_the_neighbour() {
    let mut net = Net::cloud(1, |_| {});
    net.drop = Box::new(|from, to, _| from == 0 && !to.is_multicast());
    net.run_until(secs(60));
    let downs = net.downs(0);
    assert!(!downs.is_empty());
    assert!(
        downs
            .iter()
            .all(|d| *d == (addr(2), DownReason::RetryLimitExceeded))
    );
    assert_eq!(
        DownReason::RetryLimitExceeded.to_string(),
        "retry limit exceeded"
    );
    let first_down = net.routers[0]
        .events
        .iter()
        .find(|(_, e)| {
            matches!(
                e,
                EigrpEvent::Neighbor(neighbor::Event::NeighborDown { .. })
            )
        })
        .unwrap()
        .0;
    // The INIT and 16 retransmissions 2 s apart (no RTT measured yet); the reset comes when the
    // last one's RTO runs out, 34 s after the first (past the 15 s hold time).
    let inits: Vec<_> = net.sent(0, OpCode::UPDATE);
    let first = inits[0];
    assert!(first.flags.contains(Flags::INIT));
    assert_eq!(
        inits
            .iter()
            .filter(|s| s.at < first_down && s.sequence == first.sequence)
            .count(),
        17
    );
    assert_eq!(first_down, first.at + Duration::from_secs(34));
    let ups = net.routers[0]
        .events
        .iter()
        .filter(|(_, e)| matches!(e, EigrpEvent::Neighbor(neighbor::Event::NeighborUp { .. })))
        .count();
    assert_eq!(ups, 2);
    assert!(!net.rib(1).contains_key(&lan(0)));
}

/// IOS: a spoke reloads and comes back before the hub's hold timer runs out; its INIT Update
/// makes the hub log `is down: peer restarted` and then `is up: new adjacency`; routes return.
#[test]
fn restarted_peer_is_reset_and_relearned() {
    let mut net = Net::cloud(1, |_| {});
    net.run_until(secs(3));
    let mut eigrp = Eigrp::new(EigrpConfig::new(addr(2), AS), net.now);
    eigrp.add_connected(net.now, lan(1), Link::GIGABIT_ETHERNET);
    net.routers[1].eigrp = eigrp;
    net.routers[1].rib.clear();
    net.run_until(secs(30));
    assert_eq!(net.downs(0), [(addr(2), DownReason::PeerRestarted)]);
    assert_eq!(net.rib(0)[&lan(1)], (addr(2), 26_880_256));
    assert_eq!(net.rib(1)[&lan(0)], (addr(1), 26_880_256));
}

/// IOS: `shutdown` on a spoke's tunnel sends the goodbye; the hub logs `is down: Interface
/// Goodbye received` at once and withdraws the spoke's LAN.
#[test]
fn goodbye_withdraws_at_once() {
    let mut net = Net::cloud(1, |_| {});
    net.run_until(secs(3));
    let now = net.now;
    net.routers[1].eigrp.shutdown(now);
    net.run_until(secs(4));
    assert_eq!(net.downs(0), [(addr(2), DownReason::Goodbye)]);
    assert_eq!(
        DownReason::Goodbye.to_string(),
        "Interface Goodbye received"
    );
    assert!(net.rib(0).is_empty());
    assert!(net.rib(1).is_empty());
}

/// IOS with `authentication mode hmac-sha-256` and the same password on both: the adjacency
/// forms and routes flow; with different passwords no neighbour ever appears (`debug eigrp
/// packets` shows `authentication failure`).
#[test]
fn sha256_authentication() {
    fn keyed(n: u8, password: &[u8]) -> EigrpConfig {
        let mut c = EigrpConfig::new(addr(n), AS);
        c.hello.sha256 = Some(Sha256Key::new(1, password));
        c
    }
    let same = |n| keyed(n, b"dmvpn-secret");
    let mut net = Net::new(vec![same(1), same(2)]);
    net.run_until(secs(3));
    assert_eq!(net.rib(1)[&lan(0)], (addr(1), 26_880_256));
    assert!(net.routers.iter().all(|n| n.errors.is_empty()));
    // Every packet carries the Authentication TLV first: type 3, key 1, a 32-byte digest.
    let mut lone = Eigrp::new(same(1), Instant::ZERO);
    let hello = lone.poll_transmit().unwrap();
    let auth = hello.parse().unwrap().authentication().unwrap();
    assert_eq!(
        (auth.auth_type, auth.key_id, auth.digest.len()),
        (eigrp::AuthType::SHA256, 1, 32)
    );

    let other = |n| keyed(n, b"other-secret");
    let mut net = Net::new(vec![same(1), other(2)]);
    net.run_until(secs(20));
    assert!(net.rib(0).is_empty() && net.rib(1).is_empty());
    assert_eq!(net.routers[0].eigrp.neighbors(net.now).count(), 0);
    assert!(matches!(
        net.routers[0].errors[0].1,
        dmvpn_proto::eigrp::Error::AuthenticationFailed { address } if address == addr(2)
    ));
}

/// IOS: the hub's LAN interface goes down (`shutdown` on Gi0/1). The hub has no other path, goes
/// active and queries both spokes (split horizon does not stop a Query for a connected prefix);
/// each spoke loses its only path, answers unreachable and removes `10.0.0.0/24`; with both
/// Replies in the hub is passive again with the route gone.
#[test]
fn lost_connected_prefix_is_queried_and_withdrawn() {
    let mut net = Net::cloud(2, |_| {});
    net.run_until(secs(3));
    assert!(net.rib(1).contains_key(&lan(0)) && net.rib(2).contains_key(&lan(0)));
    let now = net.now;
    net.routers[0].eigrp.remove_connected(now, lan(0));
    net.run_until(secs(5));
    let queries: Vec<Ipv4Addr> = net.sent(0, OpCode::QUERY).iter().map(|s| s.to).collect();
    assert_eq!(queries, [addr(2), addr(3)]);
    assert_eq!(net.sent(1, OpCode::REPLY).len(), 1);
    assert_eq!(net.sent(2, OpCode::REPLY).len(), 1);
    assert!(!net.rib(1).contains_key(&lan(0)) && !net.rib(2).contains_key(&lan(0)));
    assert!(net.routers[0].eigrp.route(lan(0)).is_none());
    // Adding it back advertises it again.
    let now = net.now;
    net.routers[0]
        .eigrp
        .add_connected(now, lan(0), Link::GIGABIT_ETHERNET);
    net.run_until(secs(7));
    assert_eq!(net.rib(1)[&lan(0)], (addr(1), 26_880_256));
}

/// IOS with `ip authentication mode eigrp 123 md5` and the same key chain on hub and spoke: the
/// adjacency forms and routes flow; every packet, Updates and acknowledgements included, carries
/// the MD5 Authentication TLV.
#[test]
fn md5_authentication_end_to_end() {
    let keyed = |n: u8| {
        let mut c = EigrpConfig::new(addr(n), AS);
        c.hello.md5 = Some(dmvpn_proto::eigrp::Md5Key::new(1, b"cisco"));
        c
    };
    let mut net = Net::new(vec![keyed(1), keyed(2)]);
    net.run_until(secs(3));
    assert_eq!(net.rib(1)[&lan(0)], (addr(1), 26_880_256));
    assert!(net.routers.iter().all(|n| n.errors.is_empty()));
    assert!(net.sent(0, OpCode::UPDATE).len() >= 2);
}

/// A hub and three spokes with `no ip split-horizon eigrp` on a tunnel losing every fifth
/// reliable packet and acknowledgement: IOS converges anyway, every spoke ends with the three
/// other LANs, and nobody is reset (losses stay far below the retry limit).
#[test]
fn converges_under_loss() {
    let mut net = Net::cloud(3, |hub| hub.split_horizon = false);
    let mut n = 0u32;
    net.drop = Box::new(move |_, to, _| {
        if to.is_multicast() {
            return false;
        }
        n += 1;
        n.is_multiple_of(5)
    });
    net.run_until(secs(60));
    assert!(net.log.iter().any(|s| s.dropped));
    for spoke in 1..=3u8 {
        let learned: Vec<Prefix> = net.rib(usize::from(spoke)).keys().copied().collect();
        let expected: Vec<Prefix> = (0..=3).filter(|&l| l != spoke).map(lan).collect();
        assert_eq!(learned, expected, "spoke {spoke}");
    }
    assert!((0..4).all(|i| net.downs(i).is_empty()));
    assert!(
        net.routers[0]
            .eigrp
            .neighbors(net.now)
            .all(|n| n.queue == 0 && n.established)
    );
}

/// A hub with 100 spokes and `no ip split-horizon eigrp`: every spoke learns the 100 other
/// LANs through the hub (IOS shows `D 10.0.n.0/24 [90/28160256] via 172.16.1.1` on each). Route
/// changes queued behind a packet in flight are packed together, so the hub sends each spoke a
/// handful of Updates, not one per spoke LAN.
#[test]
fn hundred_spokes_converge_with_batched_updates() {
    let mut net = Net::cloud(100, |hub| hub.split_horizon = false);
    net.run_until(secs(20));
    for spoke in [1usize, 50, 100] {
        assert_eq!(net.rib(spoke).len(), 100, "spoke {spoke}");
        let other = if spoke == 1 { 2 } else { 1 };
        assert_eq!(net.rib(spoke)[&lan(other)], (addr(1), 28_160_256));
    }
    let to_spoke_1 = net
        .log
        .iter()
        .filter(|s| s.from == 0 && s.to == addr(2) && s.opcode == OpCode::UPDATE)
        .count();
    // INIT, the EOT table, then a few batches as the other spokes come up (about 100 unbatched).
    assert!(to_spoke_1 <= 8, "{to_spoke_1} Updates");
    assert!((0..=100).all(|i| net.downs(i).is_empty()));
}

/// IOS: the hub has `redistribute static` with a default route (`ip route 0.0.0.0 0.0.0.0
/// Null0`, `default-metric`); each spoke shows `D*EX 0.0.0.0/0 [170/…] via 172.16.1.1`: an
/// IPv4 External TLV (0x0103) whose originating router is the hub and protocol Static. With `no
/// ip split-horizon eigrp` on the hub, a spoke's own redistributed prefix comes back to it from
/// the hub and is dropped by the router-ID check (it keeps only its local origin), while the
/// other spoke learns it as external.
#[test]
fn external_routes() {
    use dmvpn_eigrp::consts::ExternalProtocol;
    let mut net = Net::cloud(2, |hub| hub.split_horizon = false);
    let default = Prefix::new(Ipv4Addr::UNSPECIFIED, 0);
    let statics = Prefix::new(Ipv4Addr::new(192, 168, 100, 0), 24);
    net.routers[0].eigrp.add_external(
        Instant::ZERO,
        default,
        Link::GIGABIT_ETHERNET,
        ExternalProtocol::STATIC,
        7,
    );
    net.routers[1].eigrp.add_external(
        Instant::ZERO,
        statics,
        Link::GIGABIT_ETHERNET,
        ExternalProtocol::STATIC,
        0,
    );
    net.run_until(secs(3));
    for spoke in [1, 2] {
        assert_eq!(net.rib(spoke)[&default], (addr(1), 26_880_256));
        let route = net.routers[spoke].eigrp.route(default).unwrap();
        let external = route.external.unwrap();
        assert_eq!(external.origin_router, u32::from(addr(1)));
        assert_eq!(
            (external.protocol, external.tag),
            (ExternalProtocol::STATIC, 7)
        );
    }
    assert_eq!(net.rib(2)[&statics], (addr(1), 28_160_256));
    assert!(
        net.routers[2]
            .eigrp
            .route(statics)
            .unwrap()
            .external
            .is_some()
    );
    // Spoke 1 originates it and holds no path from the hub for it.
    let own = net.routers[1].eigrp.route(statics).unwrap();
    assert_eq!(own.successors[0].via, Via::Connected);
    assert!(own.feasible_successors.is_empty() && own.others.is_empty());
    assert!(!net.rib(1).contains_key(&statics));
    // Withdrawing the static withdraws it everywhere.
    let now = net.now;
    net.routers[1].eigrp.remove_connected(now, statics);
    net.run_until(secs(6));
    assert!(!net.rib(0).contains_key(&statics) && !net.rib(2).contains_key(&statics));
}
