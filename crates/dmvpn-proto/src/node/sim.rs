//! A deterministic DMVPN cloud in memory: [`Node`]s joined by an NBMA network on a virtual
//! clock, with knobs for latency, jitter (which reorders), loss and duplication, all drawn from
//! one seeded [`XorShift`]. The same seed gives the same run, packet for packet.
//!
//! - [`Cloud::step`] jumps the clock to the earliest node deadline or packet arrival, delivers
//!   what is due and runs the timers that are due; [`Cloud::run_until`] repeats it.
//! - LAN hosts behind a node are inner IPv4 packets: [`Cloud::inject`] writes one into a node's
//!   tunnel interface (as the host's stack does), and what a node hands to its host is kept in
//!   [`Member::delivered`].
//! - Nodes can be powered off, booted again with the same configuration ([`Cloud::reboot`]),
//!   and keyed with static IPsec SAs per hub–spoke pair ([`Cloud::key`]) when the configuration
//!   has `tunnel protection` (a reboot re-keys its pairs, as IKE would).
//! - The network can be cut between two NBMA addresses ([`Cloud::partition`], [`Cloud::heal`]),
//!   can put a node behind a one-to-one NAT ([`Cloud::nat`]: its packets leave with the outside
//!   address as source, and packets to the outside address reach it), and can keep every packet
//!   whole ([`Cloud::tap`]) for a capture.
//! - The cloud runs any [`Machine`]: [`Node`]s (the default), or whole
//!   [`Router`](crate::router::Router)s with their IKE ([`Cloud::of`], [`Cloud::add_machine`],
//!   [`Cloud::replace`]), whose IKE datagrams cross the network as UDP like everything else.
//!
//! ```
//! use std::net::Ipv4Addr;
//! use dmvpn_proto::{Duration, Instant};
//! use dmvpn_proto::nhrp::Nhs;
//! use dmvpn_proto::node::NodeConfig;
//! use dmvpn_proto::node::sim::Cloud;
//!
//! let (hub_tunnel, hub_nbma) = (Ipv4Addr::new(172, 16, 1, 1), Ipv4Addr::new(100, 1, 1, 1));
//! let mut cloud = Cloud::new(Instant::ZERO, 7);
//! let hub = cloud.add(NodeConfig::hub(hub_tunnel, 24, hub_nbma));
//! let nhs = Nhs { tunnel: hub_tunnel, nbma: hub_nbma };
//! for n in 2..=4 {
//!     let address = Ipv4Addr::new(172, 16, 1, n);
//!     cloud.add(NodeConfig::spoke(address, 24, Ipv4Addr::new(100, 1, 1, n), nhs));
//! }
//! cloud.run_for(Duration::from_secs(1));
//! assert_eq!(cloud.members[hub].node.nhrp_server().unwrap().len(), 3);
//! ```

use alloc::boxed::Box;
use alloc::collections::{BTreeMap, BTreeSet, BinaryHeap};
use alloc::vec::Vec;
use core::cmp::{Ordering, Reverse};
use core::net::Ipv4Addr;

use dmvpn_esp::{Encryption, Integrity, Sa};
use dmvpn_ip::ipv4;

use super::{Entropy, Event, Node, NodeConfig, Role, Transmit};
use crate::ipsec::Lifetime;
use crate::time::{Duration, Instant};

/// xorshift64* (Vigna): a tiny reproducible generator for the simulation's randomness and for
/// the nodes' IVs in tests. Not for production keys or IVs: it is predictable by design.
#[derive(Clone, Debug)]
pub struct XorShift(u64);

impl XorShift {
    /// A generator from `seed` (0 is replaced by a fixed non-zero value).
    #[must_use]
    pub const fn new(seed: u64) -> Self {
        Self(if seed == 0 {
            0x9e37_79b9_7f4a_7c15
        } else {
            seed
        })
    }

    /// The next 64 random bits.
    pub const fn next_u64(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }

    /// Whether an event of probability `percent` % happens.
    pub const fn chance(&mut self, percent: u32) -> bool {
        percent > 0 && self.next_u64() % 100 < percent as u64
    }
}

impl Entropy for XorShift {
    fn fill(&mut self, dest: &mut [u8]) {
        for chunk in dest.chunks_mut(8) {
            let bytes = self.next_u64().to_le_bytes();
            chunk.copy_from_slice(bytes.get(..chunk.len()).unwrap_or_default());
        }
    }
}

/// One packet on the NBMA network, as the log keeps it.
#[derive(Clone, Debug, Eq, PartialEq)]
pub struct Wire {
    /// When it was sent.
    pub at: Instant,
    /// The sender's NBMA address.
    pub from: Ipv4Addr,
    /// The destination NBMA address.
    pub to: Ipv4Addr,
    /// The IP protocol (47 GRE, 50 ESP, 17 UDP).
    pub protocol: u8,
    /// The IP payload's length.
    pub len: usize,
    /// Whether the network lost it.
    pub dropped: bool,
}

/// One packet on the NBMA network, whole, as [`Cloud::tap`] keeps it.
#[derive(Clone, Debug, Eq, PartialEq)]
pub struct Tapped {
    /// When it was sent.
    pub at: Instant,
    /// The index of the machine that sent it.
    pub sender: usize,
    /// Its source address on the network (the outside address of a node behind NAT).
    pub from: Ipv4Addr,
    /// Its destination address.
    pub to: Ipv4Addr,
    /// The IP protocol (47 GRE, 50 ESP, 17 UDP).
    pub protocol: u8,
    /// The IP payload.
    pub bytes: Vec<u8>,
    /// Whether the network lost it (random loss, the drop filter, a partition).
    pub dropped: bool,
}

/// What the cloud runs: a sans-IO machine with an NBMA address, a tunnel interface and timers.
pub trait Machine {
    /// What it reports.
    type Event: core::fmt::Debug;
    /// Its NBMA address.
    fn nbma(&self) -> Ipv4Addr;
    /// A packet from the NBMA network (see [`Node::handle_nbma`]).
    fn handle_nbma(&mut self, now: Instant, src: Ipv4Addr, protocol: u8, payload: &[u8]);
    /// A packet the host wrote into the tunnel interface.
    fn handle_tunnel_packet(&mut self, now: Instant, packet: &[u8]);
    /// Runs the timers due at `now`.
    fn handle_timeout(&mut self, now: Instant);
    /// When [`Machine::handle_timeout`] must run next.
    fn poll_timeout(&self) -> Option<Instant>;
    /// The next packet for the NBMA network.
    fn poll_transmit(&mut self) -> Option<Transmit>;
    /// The next event.
    fn poll_event(&mut self) -> Option<Self::Event>;
    /// The next packet for the host.
    fn poll_deliver(&mut self) -> Option<Vec<u8>>;
}

/// Implements [`Machine`] for a type whose inherent methods of the same names do the work:
/// `machine_by_methods!(impl[generics] Type, Event, |self| nbma expression)`.
macro_rules! machine_by_methods {
    (impl[$($g:tt)*] $ty:ty, $event:ty, |$this:ident| $nbma:expr) => {
        impl<$($g)*> $crate::node::sim::Machine for $ty {
            type Event = $event;

            fn nbma(&self) -> core::net::Ipv4Addr {
                let $this = self;
                $nbma
            }

            fn handle_nbma(&mut self, now: Instant, src: core::net::Ipv4Addr, protocol: u8, payload: &[u8]) {
                Self::handle_nbma(self, now, src, protocol, payload);
            }

            fn handle_tunnel_packet(&mut self, now: Instant, packet: &[u8]) {
                Self::handle_tunnel_packet(self, now, packet);
            }

            fn handle_timeout(&mut self, now: Instant) {
                Self::handle_timeout(self, now);
            }

            fn poll_timeout(&self) -> Option<Instant> {
                Self::poll_timeout(self)
            }

            fn poll_transmit(&mut self) -> Option<$crate::Transmit> {
                Self::poll_transmit(self)
            }

            fn poll_event(&mut self) -> Option<$event> {
                Self::poll_event(self)
            }

            fn poll_deliver(&mut self) -> Option<alloc::vec::Vec<u8>> {
                Self::poll_deliver(self)
            }
        }
    };
}
pub(crate) use machine_by_methods;

machine_by_methods!(impl[] Node, Event, |node| node.config().tunnel.nbma);

/// A machine of the cloud with what it handed to its host.
#[derive(Debug)]
pub struct Member<M: Machine = Node> {
    /// The node (or router).
    pub node: M,
    /// Whether it is powered on; packets to a node that is off are lost.
    pub up: bool,
    /// Every event, with its time.
    pub events: Vec<(Instant, M::Event)>,
    /// Every packet it handed to its host, with its time.
    pub delivered: Vec<(Instant, Vec<u8>)>,
    /// How many times it booted.
    pub boots: u32,
}

impl<M: Machine> Member<M> {
    /// The node's NBMA address.
    #[must_use]
    pub fn nbma(&self) -> Ipv4Addr {
        self.node.nbma()
    }
}

#[derive(Debug, Eq, PartialEq)]
struct Flight {
    at: Instant,
    seq: u64,
    from: Ipv4Addr,
    to: Ipv4Addr,
    protocol: u8,
    bytes: Vec<u8>,
}

impl Ord for Flight {
    fn cmp(&self, other: &Self) -> Ordering {
        (self.at, self.seq).cmp(&(other.at, other.seq))
    }
}

impl PartialOrd for Flight {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

/// Decides whether the network drops a packet, on top of random loss.
pub type DropFilter = Box<dyn FnMut(&Wire) -> bool + Send>;

/// Adds a delay of its choosing to a packet, on top of the latency and jitter: what a path
/// through a busier queue, or two sockets read in the wrong order, does.
pub type DelayFilter = Box<dyn FnMut(&Wire) -> Duration + Send>;

/// The cloud: nodes, the NBMA network between them, and the clock.
pub struct Cloud<M: Machine = Node> {
    /// The virtual time.
    pub now: Instant,
    /// The nodes, in the order they were added.
    pub members: Vec<Member<M>>,
    /// One-way delay of every packet: 10 ms.
    pub latency: Duration,
    /// Up to this much extra random delay per packet, which reorders packets: none.
    pub jitter: Duration,
    /// Percentage of packets lost at random: 0.
    pub loss_percent: u32,
    /// Percentage of packets delivered twice (each copy with its own jitter): 0.
    pub duplicate_percent: u32,
    /// Drops the packets it returns `true` for.
    pub drop: Option<DropFilter>,
    /// Delays the packets it returns a delay for.
    pub delay: Option<DelayFilter>,
    /// Keep a [`Wire`] record of every packet (on; turn off for big clouds).
    pub logging: bool,
    /// The record of every packet sent, when `logging`.
    pub log: Vec<Wire>,
    /// Packets sent, in total.
    pub sent: u64,
    /// Every packet whole, when `Some` (off by default; see [`Tapped`]).
    pub tap: Option<Vec<Tapped>>,
    rng: XorShift,
    /// Cut links, as (lower, higher) NBMA address.
    partitions: BTreeSet<(Ipv4Addr, Ipv4Addr)>,
    /// One-to-one NAT: inside address → outside address.
    nat: BTreeMap<Ipv4Addr, Ipv4Addr>,
    by_nbma: BTreeMap<Ipv4Addr, usize>,
    in_flight: BinaryHeap<Reverse<Flight>>,
    seq: u64,
    keys: u32,
}

impl<M: Machine> core::fmt::Debug for Cloud<M> {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("Cloud")
            .field("now", &self.now)
            .field("members", &self.members.len())
            .field("in_flight", &self.in_flight.len())
            .finish_non_exhaustive()
    }
}

impl Cloud {
    /// An empty cloud of [`Node`]s at `now` whose randomness comes from `seed`.
    #[must_use]
    pub fn new(now: Instant, seed: u64) -> Self {
        Self::of(now, seed)
    }
}

impl<M: Machine> Cloud<M> {
    /// An empty cloud of any [`Machine`] at `now` whose randomness comes from `seed`.
    #[must_use]
    pub fn of(now: Instant, seed: u64) -> Self {
        Self {
            now,
            members: Vec::new(),
            latency: Duration::from_millis(10),
            jitter: Duration::ZERO,
            loss_percent: 0,
            duplicate_percent: 0,
            drop: None,
            delay: None,
            logging: true,
            log: Vec::new(),
            sent: 0,
            tap: None,
            rng: XorShift::new(seed),
            partitions: BTreeSet::new(),
            nat: BTreeMap::new(),
            by_nbma: BTreeMap::new(),
            in_flight: BinaryHeap::new(),
            seq: 0,
            keys: 0,
        }
    }

    /// 64 bits from the cloud's generator, to seed a machine's own randomness (the same seed
    /// gives the same run).
    pub fn next_seed(&mut self) -> u64 {
        self.rng.next_u64()
    }

    /// Adds `machine` (booted now) to the cloud; returns its index.
    pub fn add_machine(&mut self, machine: M) -> usize {
        let index = self.members.len();
        self.by_nbma.insert(machine.nbma(), index);
        self.members.push(Member {
            node: machine,
            up: true,
            events: Vec::new(),
            delivered: Vec::new(),
            boots: 1,
        });
        self.collect(index);
        index
    }

    /// Puts `machine` (booted now, at the same NBMA address) in place of machine `index`, as a
    /// reboot with nothing kept; it is powered on.
    pub fn replace(&mut self, index: usize, machine: M) {
        if let Some(member) = self.members.get_mut(index) {
            member.node = machine;
            member.up = true;
            member.boots += 1;
        }
        self.collect(index);
    }

    /// The index of the node at NBMA address `nbma`.
    #[must_use]
    pub fn index(&self, nbma: Ipv4Addr) -> Option<usize> {
        self.by_nbma.get(&nbma).copied().or_else(|| {
            let (inside, _) = self.nat.iter().find(|(_, outside)| **outside == nbma)?;
            self.by_nbma.get(inside).copied()
        })
    }

    /// Cuts the network between NBMA addresses `a` and `b` (both ways): what either sends to
    /// the other from now on is lost, until [`Cloud::heal`]. Packets already on their way
    /// arrive.
    pub fn partition(&mut self, a: Ipv4Addr, b: Ipv4Addr) {
        self.partitions.insert((a.min(b), a.max(b)));
    }

    /// Joins `a` and `b` again after [`Cloud::partition`].
    pub fn heal(&mut self, a: Ipv4Addr, b: Ipv4Addr) {
        self.partitions.remove(&(a.min(b), a.max(b)));
    }

    /// Whether the network between `a` and `b` is cut.
    #[must_use]
    pub fn partitioned(&self, a: Ipv4Addr, b: Ipv4Addr) -> bool {
        self.partitions.contains(&(a.min(b), a.max(b)))
    }

    /// Puts the node at NBMA address `inside` behind a one-to-one NAT with address `outside`:
    /// its packets leave with source `outside`, and packets to `outside` reach it. The node
    /// itself still knows only `inside` (as behind a real NAT). Set it before the node boots
    /// for its first packets to go through it.
    pub fn nat(&mut self, inside: Ipv4Addr, outside: Ipv4Addr) {
        self.nat.insert(inside, outside);
    }

    /// The address the network shows for the node at `nbma` (its NAT's outside address).
    #[must_use]
    pub fn outside(&self, nbma: Ipv4Addr) -> Ipv4Addr {
        self.nat.get(&nbma).copied().unwrap_or(nbma)
    }

    /// Powers node `index` off: it stops, and packets to it are lost.
    pub fn power_off(&mut self, index: usize) {
        if let Some(member) = self.members.get_mut(index) {
            member.up = false;
        }
    }

    /// Writes the IPv4 packet `packet` into node `index`'s tunnel interface now.
    pub fn inject(&mut self, index: usize, packet: &[u8]) {
        let now = self.now;
        if let Some(member) = self.members.get_mut(index).filter(|m| m.up) {
            member.node.handle_tunnel_packet(now, packet);
        }
        self.collect(index);
    }

    /// Runs `f` on node `index` now (an operator's command: `clear ip nhrp shortcut` …), then
    /// moves what it produced onto the wire and into the record.
    pub fn command(&mut self, index: usize, f: impl FnOnce(&mut M, Instant)) {
        let now = self.now;
        if let Some(member) = self.members.get_mut(index).filter(|m| m.up) {
            f(&mut member.node, now);
        }
        self.collect(index);
    }

    /// Moves node `index`'s transmits onto the wire and its events and deliveries into its
    /// record.
    fn collect(&mut self, index: usize) {
        let now = self.now;
        let Some(member) = self.members.get_mut(index) else {
            return;
        };
        let own = member.nbma();
        let from = self.nat.get(&own).copied().unwrap_or(own);
        let mut out = Vec::new();
        while let Some(t) = member.node.poll_transmit() {
            out.push(t);
        }
        while let Some(e) = member.node.poll_event() {
            member.events.push((now, e));
        }
        while let Some(p) = member.node.poll_deliver() {
            member.delivered.push((now, p));
        }
        if !member.up {
            return;
        }
        for t in out {
            self.sent += 1;
            let mut wire = Wire {
                at: now,
                from,
                to: t.to,
                protocol: t.protocol,
                len: t.bytes.len(),
                dropped: false,
            };
            let lost = self.rng.chance(self.loss_percent);
            let filtered = self.drop.as_mut().is_some_and(|drop| drop(&wire));
            let cut = self.partitions.contains(&(from.min(t.to), from.max(t.to)))
                || self.partitions.contains(&(own.min(t.to), own.max(t.to)));
            wire.dropped = lost || filtered || cut;
            let delay = self
                .delay
                .as_mut()
                .map_or(Duration::ZERO, |delay| delay(&wire));
            if let Some(tap) = &mut self.tap {
                tap.push(Tapped {
                    at: now,
                    sender: index,
                    from,
                    to: t.to,
                    protocol: t.protocol,
                    bytes: t.bytes.clone(),
                    dropped: wire.dropped,
                });
            }
            if !wire.dropped {
                let copies = if self.rng.chance(self.duplicate_percent) {
                    2
                } else {
                    1
                };
                for _ in 0..copies {
                    let at = now + self.latency + delay + self.jitter();
                    self.seq += 1;
                    self.in_flight.push(Reverse(Flight {
                        at,
                        seq: self.seq,
                        from,
                        to: t.to,
                        protocol: t.protocol,
                        bytes: t.bytes.clone(),
                    }));
                }
            }
            if self.logging {
                self.log.push(wire);
            }
        }
    }

    fn jitter(&mut self) -> Duration {
        match self.jitter.total_micros() {
            0 => Duration::ZERO,
            max => {
                let micros = self.rng.next_u64() % max.unsigned_abs();
                Duration::from_micros(i64::try_from(micros).unwrap_or(0))
            }
        }
    }

    /// The next instant anything happens: a node's deadline or a packet's arrival.
    #[must_use]
    pub fn next_event(&self) -> Option<Instant> {
        let timers = self
            .members
            .iter()
            .filter(|m| m.up)
            .filter_map(|m| m.node.poll_timeout());
        let flight = self.in_flight.peek().map(|f| f.0.at);
        timers.chain(flight).min()
    }

    /// Advances to the next event if it is no later than `limit`; returns whether it did.
    pub fn step(&mut self, limit: Instant) -> bool {
        let Some(next) = self.next_event().filter(|&t| t <= limit) else {
            return false;
        };
        self.now = self.now.max(next);
        let now = self.now;
        while self.in_flight.peek().is_some_and(|f| f.0.at <= now) {
            let Some(Reverse(flight)) = self.in_flight.pop() else {
                break;
            };
            let Some(index) = self.index(flight.to) else {
                continue;
            };
            if let Some(member) = self.members.get_mut(index).filter(|m| m.up) {
                member
                    .node
                    .handle_nbma(now, flight.from, flight.protocol, &flight.bytes);
                self.collect(index);
            }
        }
        for index in 0..self.members.len() {
            let due = self
                .members
                .get(index)
                .is_some_and(|m| m.up && m.node.poll_timeout().is_some_and(|t| t <= now));
            if due {
                if let Some(member) = self.members.get_mut(index) {
                    member.node.handle_timeout(now);
                }
                self.collect(index);
            }
        }
        true
    }

    /// Runs until `t` (inclusive) and leaves the clock there.
    pub fn run_until(&mut self, t: Instant) {
        while self.step(t) {}
        self.now = self.now.max(t);
    }

    /// Runs for `d` from now.
    pub fn run_for(&mut self, d: Duration) {
        let t = self.now + d;
        self.run_until(t);
    }
}

impl Cloud {
    /// Boots a node with `config` now; returns its index. A spoke with `tunnel protection` is
    /// keyed with each of its NHSes already in the cloud ([`Cloud::key`]).
    pub fn add(&mut self, config: NodeConfig) -> usize {
        let index = self.members.len();
        self.by_nbma.insert(config.tunnel.nbma, index);
        let node = self.boot_node(config);
        self.members.push(Member {
            node,
            up: true,
            events: Vec::new(),
            delivered: Vec::new(),
            boots: 1,
        });
        self.key_peers(index);
        self.collect(index);
        index
    }

    fn boot_node(&mut self, config: NodeConfig) -> Node {
        let entropy = XorShift::new(self.rng.next_u64());
        Node::new(config, self.now, Box::new(entropy))
    }

    /// Boots node `index` again with its configuration and nothing else (caches, neighbours and
    /// SAs lost), re-keying its pairs when IPsec is configured.
    pub fn reboot(&mut self, index: usize) {
        let Some(config) = self.members.get(index).map(|m| m.node.config().clone()) else {
            return;
        };
        let node = self.boot_node(config);
        if let Some(member) = self.members.get_mut(index) {
            member.node = node;
            member.up = true;
            member.boots += 1;
        }
        self.key_peers(index);
        self.collect(index);
    }

    /// Installs fresh static SAs between nodes `a` and `b` (both directions, new SPIs and keys
    /// from the cloud's generator, the transform set of `a`'s configuration), as a completed IKE
    /// exchange would. Does nothing unless `a` has `tunnel protection`.
    pub fn key(&mut self, a: usize, b: usize) {
        let Some(ipsec) = self
            .members
            .get(a)
            .and_then(|m| m.node.config().ipsec.clone())
        else {
            return;
        };
        let (Some(a_nbma), Some(b_nbma)) = (
            self.members.get(a).map(Member::nbma),
            self.members.get(b).map(Member::nbma),
        ) else {
            return;
        };
        let ts = ipsec.transform_set;
        let enc_len = match ts.encryption {
            Encryption::Null => 0,
            Encryption::TripleDesCbc => 24,
            Encryption::AesCbc => usize::from(ts.key_bits / 8),
            _ => usize::from(ts.key_bits / 8) + 4,
        };
        let auth_len = match ts.integrity {
            Integrity::None => 0,
            Integrity::HmacMd5_96 => 16,
            Integrity::HmacSha1_96 => 20,
            Integrity::HmacSha256_128 => 32,
            Integrity::HmacSha384_192 => 48,
            Integrity::HmacSha512_256 => 64,
        };
        let mut direction = || {
            self.keys += 1;
            let spi = 0x1000_0000 | self.keys;
            let mut key = alloc::vec![0; enc_len + auth_len];
            self.rng.fill(&mut key);
            let (enc, auth) = key.split_at(enc_len);
            let make = || Sa::new(spi, ts.encryption, enc, ts.integrity, auth).ok();
            (make(), make())
        };
        let (ab_out, ab_in) = direction();
        let (ba_out, ba_in) = direction();
        let (Some(ab_out), Some(ab_in), Some(ba_out), Some(ba_in)) = (ab_out, ab_in, ba_out, ba_in)
        else {
            return;
        };
        let now = self.now;
        let lifetime = Lifetime::default();
        if let Some(m) = self.members.get_mut(a) {
            m.node.install_sas(now, b_nbma, ba_in, ab_out, lifetime);
        }
        if let Some(m) = self.members.get_mut(b) {
            m.node.install_sas(now, a_nbma, ab_in, ba_out, lifetime);
        }
        self.collect(a);
        self.collect(b);
    }

    /// Keys node `index` with every peer it talks to in Phase 1: a spoke with its NHSes, a hub
    /// with every spoke whose NHS it is.
    fn key_peers(&mut self, index: usize) {
        let Some(member) = self.members.get(index) else {
            return;
        };
        if member.node.config().ipsec.is_none() {
            return;
        }
        let peers: Vec<usize> = match member.node.config().role {
            Role::Spoke => member
                .node
                .config()
                .nhrp
                .nhs
                .iter()
                .filter_map(|nhs| self.index(nhs.nbma))
                .collect(),
            Role::Hub => {
                let own = member.nbma();
                (0..self.members.len())
                    .filter(|&i| {
                        self.members
                            .get(i)
                            .is_some_and(|m| m.node.config().nhrp.nhs.iter().any(|n| n.nbma == own))
                    })
                    .collect()
            }
        };
        for peer in peers {
            self.key(index, peer);
        }
    }
}

/// An IPv4 packet from `src` to `dst` with IP protocol `protocol`, TTL 64 and `payload`, as a
/// LAN host sends it.
#[must_use]
pub fn ipv4_packet(src: Ipv4Addr, dst: Ipv4Addr, protocol: u8, payload: &[u8]) -> Vec<u8> {
    let header = ipv4::Repr {
        dscp: dmvpn_ip::icmp::PRECEDENCE_INTERNETWORK,
        ident: 1,
        ..ipv4::Repr::new(src, dst, dmvpn_ip::IpProtocol(protocol), payload.len())
    };
    header.emit_vec(payload)
}

/// The source, destination, TTL and payload of an IPv4 packet, if it parses.
#[must_use]
pub fn parse_ipv4(packet: &[u8]) -> Option<(Ipv4Addr, Ipv4Addr, u8, &[u8])> {
    let packet = ipv4::Packet::new_checked(packet).ok()?;
    let ip = ipv4::Repr::parse(&packet, ipv4::ChecksumMode::Verify).ok()?;
    Some((ip.src, ip.dst, ip.ttl, packet.payload()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::nhrp::Nhs;

    /// A hub and two spokes with the tap on, `set` applied before they boot.
    fn cloud(set: impl Fn(&mut Cloud)) -> Cloud {
        let (tunnel, nbma) = (Ipv4Addr::new(172, 16, 1, 1), Ipv4Addr::new(100, 1, 1, 1));
        let mut cloud = Cloud::new(Instant::ZERO, 3);
        cloud.tap = Some(Vec::new());
        set(&mut cloud);
        cloud.add(NodeConfig::hub(tunnel, 24, nbma));
        let nhs = Nhs { tunnel, nbma };
        for n in 2..=3 {
            let (address, own) = (Ipv4Addr::new(172, 16, 1, n), Ipv4Addr::new(10, 0, 0, n));
            cloud.add(NodeConfig::spoke(address, 24, own, nhs));
        }
        cloud
    }

    /// A spoke behind NAT registers with its outside address, and the hub sees it natted; the
    /// tap keeps every packet whole with the address the network carried.
    #[test]
    fn nat_and_tap() {
        let (inside, outside) = (Ipv4Addr::new(10, 0, 0, 2), Ipv4Addr::new(203, 0, 113, 2));
        let mut cloud = cloud(|c| c.nat(inside, outside));
        assert_eq!(cloud.outside(inside), outside);
        assert_eq!(cloud.index(outside), Some(1));
        cloud.run_for(Duration::from_secs(2));
        let hub = cloud.members[0].node.nhrp_server().unwrap();
        let natted: Vec<_> = hub.registrations().filter(|r| r.natted()).collect();
        assert_eq!(natted.len(), 1);
        assert_eq!((natted[0].nbma, natted[0].claimed_nbma), (outside, inside));
        let tap = cloud.tap.as_ref().unwrap();
        assert!(tap.iter().any(|t| t.sender == 1 && t.from == outside));
        assert!(tap.iter().all(|t| t.from != inside && !t.dropped));
        assert!(tap.iter().any(|t| t.sender == 0 && t.to == outside));
        assert_eq!(tap.len(), usize::try_from(cloud.sent).unwrap());
    }

    /// A partition loses what either side sends to the other (and only that) until healed.
    #[test]
    fn partition_and_heal() {
        let (hub, spoke) = (Ipv4Addr::new(100, 1, 1, 1), Ipv4Addr::new(10, 0, 0, 3));
        let mut cloud = cloud(|c| c.partition(spoke, hub));
        assert!(cloud.partitioned(hub, spoke));
        cloud.run_for(Duration::from_secs(20));
        let server = cloud.members[0].node.nhrp_server().unwrap();
        assert_eq!(server.len(), 1, "only the spoke that is not cut off");
        let tap = cloud.tap.take().unwrap();
        assert!(tap.iter().any(|t| t.from == spoke && t.dropped));
        assert!(tap.iter().filter(|t| t.from != spoke).all(|t| !t.dropped));
        cloud.heal(hub, spoke);
        assert!(!cloud.partitioned(hub, spoke));
        cloud.run_for(Duration::from_secs(30));
        assert_eq!(cloud.members[0].node.nhrp_server().unwrap().len(), 2);
    }
}
