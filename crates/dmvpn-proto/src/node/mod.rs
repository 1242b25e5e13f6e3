//! A whole DMVPN hub or spoke (Phase 1, 2 or 3) as one sans-IO machine: the NHRP client or
//! server, spoke-to-spoke resolution and shortcuts ([`Node::shortcuts`], see `shortcut.rs`),
//! EIGRP, the IPsec databases and the GRE/ESP data path, composed behind one interface.
//!
//! [`Node`] is the router's brain without I/O. The caller (the `dmvpn-router` shell, or the
//! [`sim`] network) owns the raw sockets, the TUN device and the clock:
//!
//! ```text
//!              raw sockets (GRE 47, ESP 50, UDP 500)                TUN tunnel0
//!  handle_nbma(now, src, protocol, payload) ──▶ ┌──────┐ ◀── handle_tunnel_packet(now, ipv4)
//!                                               │ Node │
//!  poll_transmit() → Transmit { to, protocol, bytes } ◀──┘ └──▶ poll_deliver() → inner IPv4
//!  poll_timeout() / handle_timeout(now)             poll_event() → Event (routes, peers, SAs)
//! ```
//!
//! - **Inbound** ([`Node::handle_nbma`]): ESP is decrypted with the SA of its SPI, which must
//!   belong to the sender (RFC 4301 §5.2), and must carry GRE; with `tunnel protection` GRE in
//!   the clear is dropped (IOS: `%CRYPTO-4-RECVD_PKT_NOT_IPSEC`). GRE must carry the configured
//!   `tunnel key`. NHRP goes to the client or server, EIGRP (to 224.0.0.10 or to the tunnel
//!   address) to the EIGRP process; other IPv4 packets are handed to the host
//!   ([`Node::poll_deliver`]), unless they leave through the tunnel again: the hub forwards
//!   spoke-to-spoke traffic itself (Phase 1 hairpin, TTL decremented).
//! - **Outbound** ([`Node::handle_tunnel_packet`]): multicast and broadcast go to every NBMA
//!   address of the multicast map (the registered spokes on a hub with `map multicast dynamic`,
//!   `ip nhrp map multicast` on a spoke). Unicast takes the longest-prefix route through the
//!   tunnel (connected subnet, static, EIGRP), maps the next hop to an NBMA address (the NHS,
//!   a static map, or the hub's registration cache) and is sent in GRE, protected by ESP in
//!   transport mode when IPsec is on. A spoke sends what it cannot map to its first NHS, as a
//!   Phase 1 spoke does. Packets longer than `ip mtu` are fragmented, or, with Don't Fragment
//!   set, dropped ([`DropReason::TooBig`]) with an ICMP "fragmentation needed" back to their
//!   source; TCP SYNs get their MSS clamped to `ip tcp adjust-mss`.
//! - **Control.** NHRP, EIGRP and the SAD run inside; their packets are sent the same way and
//!   their events come out of [`Node::poll_event`] with the route changes the caller programs
//!   into the host ([`Event::RouteAdded`], [`Event::RouteRemoved`]).
//! - **Robustness.** Nothing here panics on input. Every packet dropped is counted by reason
//!   ([`Node::counters`]); the output queues are bounded ([`QUEUE_LIMIT`]) and count what
//!   they refuse.
//!
//! IPsec SAs are installed with [`Node::install_sas`] (static keys, as the simulation and a lab
//! without IKE use), one pair per peer NBMA address.
//!
//! ```
//! use std::net::Ipv4Addr;
//! use dmvpn_proto::Instant;
//! use dmvpn_proto::nhrp::Nhs;
//! use dmvpn_proto::node::{Event, Node, NodeConfig, sim::XorShift};
//!
//! let hub_nbma = Ipv4Addr::new(100, 1, 1, 1);
//! let nhs = Nhs { tunnel: Ipv4Addr::new(172, 16, 1, 1), nbma: hub_nbma };
//! let config = NodeConfig::spoke(Ipv4Addr::new(172, 16, 1, 2), 24, Ipv4Addr::new(100, 1, 1, 2), nhs);
//! let mut spoke = Node::new(config, Instant::ZERO, Box::new(XorShift::new(1)));
//!
//! // At boot the spoke registers with its NHS: NHRP in GRE (IP protocol 47) to the hub.
//! let request = spoke.poll_transmit().unwrap();
//! assert_eq!((request.to, request.protocol), (hub_nbma, 47));
//! assert_eq!(&request.bytes[..4], &[0x00, 0x00, 0x20, 0x01]);
//! assert!(spoke.poll_timeout().is_some());
//! assert!(spoke.poll_event().is_none());
//! ```

use alloc::boxed::Box;
use alloc::collections::{BTreeMap, BTreeSet, VecDeque};
use alloc::vec::Vec;
use core::fmt;
use core::net::Ipv4Addr;

use dmvpn_esp::{DecryptError, NextHeader, Sa};
use dmvpn_ip::ipv4::{self, ChecksumMode};
use dmvpn_ip::{IpProtocol, icmp, udp};

use crate::eigrp::{self, Eigrp, EigrpEvent, HelloConfig, Link};
use crate::ipsec::{self, Action, Lifetime, SaEvent, SaId, Sad, SadError, Spd};
use crate::nhrp::{
    self, Client, ClientConfig, ClientEvent, Server, ServerConfig, ServerEvent, ShortcutEvent,
    ShortcutLimits, Shortcuts,
};
use crate::time::{Duration, Instant};

pub mod config;
mod counters;
mod forward;
pub mod rib;
mod shortcut;
pub mod sim;

pub use config::{
    EigrpConfig, IpsecConfig, NhrpConfig, NodeConfig, Prefix, Redirect, Role, StaticRoute,
    TransformSet, TunnelConfig,
};
pub use counters::{Counters, DropReason};
pub use rib::{Route, RouteSource};
pub use shortcut::{EARLY_ESP_MAX, EARLY_ESP_WINDOW, HELD_PEERS, HELD_PER_PEER, ShortcutRoute};

use rib::Rib;

/// How many packets or events each output queue holds before it refuses more (counted as
/// [`DropReason::QueueFull`], or in [`Counters::events_lost`]).
pub const QUEUE_LIMIT: usize = 16_384;

pub use crate::ipsec::REKEY_OVERLAP;

/// How long [`Node::retire_sas`] keeps the inbound SAs of a peer that deleted its pair: what it
/// sealed just before its Delete (which comes on another socket) may still be on its way.
pub const DELETE_GRACE: Duration = Duration::from_secs(2);

/// The IKE port (RFC 2409 §2.1).
pub use dmvpn_ip::udp::IKE_PORT;

/// The source of the node's random bytes: ESP IVs, NHRP request IDs. The router fills them from
/// the operating system; tests from a seeded generator ([`sim::XorShift`]).
pub trait Entropy {
    /// Fills `dest` with random bytes.
    fn fill(&mut self, dest: &mut [u8]);
}

impl<F: FnMut(&mut [u8])> Entropy for F {
    fn fill(&mut self, dest: &mut [u8]) {
        self(dest);
    }
}

/// A packet for the NBMA network: the outer IPv4 destination, the IP protocol ([`ipsec::GRE`],
/// [`PROTOCOL_ESP`], or [`ipsec::UDP`] for IKE) and the outer IP payload (for UDP, the whole
/// datagram with its header and checksum, from the NBMA address to port 500).
pub type Transmit = crate::Transmit<u8>;

/// The IP protocol number of ESP.
pub const PROTOCOL_ESP: u8 = IpProtocol::ESP.0;

/// An IPv4 packet's bytes up to its total length, and its header: `None` unless the header is
/// whole and valid (RFC 791) with a right checksum and the packet holds its total length.
fn checked_ipv4(packet: &[u8]) -> Option<(&[u8], ipv4::Repr<'_>)> {
    let view = ipv4::Packet::new_checked(packet).ok()?;
    let header = ipv4::Repr::parse(&view, ChecksumMode::Verify).ok()?;
    Some((packet.get(..header.buffer_len())?, header))
}

/// What happened inside the node, for the caller to act on or log.
#[derive(Clone, Copy, Debug, Eq, PartialEq)]
#[non_exhaustive]
pub enum Event {
    /// The spoke's NHRP client: registered, refreshed, refused, expired, purged.
    Nhrp(ClientEvent),
    /// The hub's NHRP server: a spoke registered, expired, was refused or purged.
    NhrpServer(ServerEvent),
    /// EIGRP neighbours: up, down (with the reason), K-value mismatch.
    Eigrp(EigrpEvent),
    /// A route through the tunnel became the best for its prefix: program it into the host
    /// (`ip route replace <prefix> via <next hop> dev tunnel0`).
    RouteAdded(Route),
    /// A route through the tunnel is no longer the best: remove it from the host (a
    /// [`Event::RouteAdded`] for the same prefix follows if another source has one).
    RouteRemoved(Route),
    /// IPsec SAs with a peer were installed.
    SaInstalled {
        /// The peer's NBMA address.
        peer: Ipv4Addr,
        /// The SPI of the inbound SA.
        inbound_spi: u32,
        /// The SPI of the outbound SA.
        outbound_spi: u32,
    },
    /// An SA reached a soft or hard lifetime limit.
    Sa(SaEvent),
    /// Phase 2/3: resolution sent, answered, forwarded or failed; redirect sent or received;
    /// a shortcut installed or removed; a direct peer wanted (see [`ShortcutEvent`]).
    Shortcut(ShortcutEvent),
}

/// The NHRP side of the node.
#[derive(Debug)]
enum NhrpRole {
    Client(Client),
    Server(Server),
}

/// The SAs installed for one peer.
#[derive(Clone, Copy, Debug, Eq, PartialEq)]
struct PeerSas {
    inbound_spi: u32,
    outbound_spi: u32,
}

/// A DMVPN hub or spoke; see the [module documentation](self).
pub struct Node {
    config: NodeConfig,
    nhrp: NhrpRole,
    eigrp: Option<Eigrp>,
    rib: Rib,
    spd: Option<Spd>,
    sad: Sad,
    /// Inbound SPI → the peer it belongs to.
    spi_peer: BTreeMap<u32, Ipv4Addr>,
    /// Peer → its SAs.
    peers: BTreeMap<Ipv4Addr, PeerSas>,
    entropy: Box<dyn Entropy + Send>,
    ip_id: u16,
    transmits: VecDeque<Transmit>,
    delivers: VecDeque<Vec<u8>>,
    events: VecDeque<Event>,
    counters: Counters,
    /// Phase 2/3: the resolution cache, pending requests, redirect pairs.
    shortcuts: Shortcuts,
    /// The last NHRP request ID of a resolution or purge.
    request_id: u32,
    /// NHRP packets waiting for the SA pair with their peer.
    held: BTreeMap<Ipv4Addr, Vec<Vec<u8>>>,
    /// Peers asked for ([`ShortcutEvent::PeerWanted`]) and not keyed yet.
    wanted: BTreeSet<Ipv4Addr>,
    /// ESP with no inbound SA yet from peers whose IKE exchange is under way.
    early_esp: shortcut::EarlyEsp,
    /// The time of the call being handled.
    now: Instant,
}

impl fmt::Debug for Node {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Node")
            .field("role", &self.config.role)
            .field("tunnel", &self.config.tunnel.address)
            .field("nbma", &self.config.tunnel.nbma)
            .field("counters", &self.counters)
            .finish_non_exhaustive()
    }
}

impl Node {
    /// Boots a node at `now`: a spoke sends its first Registration Requests, EIGRP its first
    /// Hello (if `router eigrp` covers the tunnel subnet), and the static and connected routes
    /// are installed (their [`Event::RouteAdded`]s are queued).
    #[must_use]
    pub fn new(config: NodeConfig, now: Instant, mut entropy: Box<dyn Entropy + Send>) -> Self {
        let mut seed = [0; 4];
        entropy.fill(&mut seed);
        let first_request_id = u32::from_be_bytes(seed) & 0x7fff_ffff;
        let nhrp = match config.role {
            Role::Hub => NhrpRole::Server(Server::new(
                ServerConfig {
                    password: config.nhrp.password.clone(),
                    multicast_static: config.nhrp.multicast_static.clone(),
                    multicast_dynamic: config.nhrp.multicast_dynamic,
                    holding_time: config.nhrp.holding_time,
                    limits: config.limits.nhrp,
                    ..ServerConfig::new(config.tunnel.address, config.tunnel.nbma)
                },
                first_request_id,
            )),
            Role::Spoke => {
                let mut client = ClientConfig::new(
                    config.tunnel.address,
                    config.tunnel.nbma,
                    config.nhrp.nhs.clone(),
                );
                client.holding_time = config.nhrp.holding_time;
                client.registration_timeout = config.nhrp.registration_timeout;
                client.unique = config.nhrp.unique;
                client.password = config.nhrp.password.clone();
                NhrpRole::Client(Client::new(client, now, first_request_id))
            }
        };
        let eigrp = config
            .eigrp
            .as_ref()
            .filter(|e| e.networks.iter().any(|n| n.contains(config.tunnel.address)))
            .map(|e| {
                let mut hello = HelloConfig::new(config.tunnel.address, e.autonomous_system);
                hello.k = e.k;
                hello.hello_interval = e.hello_interval;
                hello.hold_time = e.hold_time;
                hello.md5.clone_from(&e.md5);
                let tunnel = Link {
                    mtu: u32::from(config.tunnel.ip_mtu),
                    ..Link::TUNNEL
                };
                let mut process = Eigrp::new(
                    eigrp::EigrpConfig {
                        hello,
                        tunnel,
                        split_horizon: e.split_horizon,
                        next_hop_self: e.next_hop_self,
                        limits: config.limits.eigrp,
                        ..eigrp::EigrpConfig::new(config.tunnel.address, e.autonomous_system)
                    },
                    now,
                );
                // `network` statements that cover a LAN: its subnet is originated (the tunnel
                // subnet is not, as IOS's split horizon would keep it off the tunnel anyway).
                let subnet = config.tunnel.subnet();
                let originated = e
                    .connected
                    .iter()
                    .filter(|lan| **lan != subnet && e.networks.iter().any(|n| n.covers(**lan)));
                for lan in originated {
                    process.add_connected(now, *lan, Link::GIGABIT_ETHERNET);
                }
                process
            });
        let spd = config
            .ipsec
            .as_ref()
            .map(|_| Spd::dmvpn(config.tunnel.nbma));
        let mut node = Self {
            nhrp,
            eigrp,
            rib: Rib::default(),
            spd,
            sad: Sad::new(),
            spi_peer: BTreeMap::new(),
            peers: BTreeMap::new(),
            entropy,
            ip_id: u16::from_be_bytes([seed[0], seed[3]]),
            transmits: VecDeque::new(),
            delivers: VecDeque::new(),
            events: VecDeque::new(),
            counters: Counters::default(),
            shortcuts: Shortcuts::new(ShortcutLimits::DEFAULT),
            request_id: first_request_id.wrapping_add(0x4000_0000) & 0x7fff_ffff,
            held: BTreeMap::new(),
            wanted: BTreeSet::new(),
            early_esp: shortcut::EarlyEsp::default(),
            now,
            config,
        };
        let connected = Route {
            prefix: node.config.tunnel.subnet(),
            next_hop: None,
            source: RouteSource::Connected,
            metric: 0,
        };
        node.rib.insert(connected);
        for route in node.config.static_routes.clone() {
            node.set_route(Route {
                prefix: route.prefix,
                next_hop: Some(route.next_hop),
                source: RouteSource::Static,
                metric: 0,
            });
        }
        node.pump(now);
        node
    }

    /// The configuration.
    #[must_use]
    pub fn config(&self) -> &NodeConfig {
        &self.config
    }

    /// The NHRP client, on a spoke (`show ip nhrp nhs`).
    #[must_use]
    pub fn nhrp_client(&self) -> Option<&Client> {
        match &self.nhrp {
            NhrpRole::Client(client) => Some(client),
            NhrpRole::Server(_) => None,
        }
    }

    /// The NHRP server, on a hub (`show ip nhrp`).
    #[must_use]
    pub fn nhrp_server(&self) -> Option<&Server> {
        match &self.nhrp {
            NhrpRole::Server(server) => Some(server),
            NhrpRole::Client(_) => None,
        }
    }

    /// The EIGRP process (`show ip eigrp neighbors`, `show ip eigrp topology`), if EIGRP runs
    /// on the tunnel.
    #[must_use]
    pub fn eigrp(&self) -> Option<&Eigrp> {
        self.eigrp.as_ref()
    }

    /// The SA database (`show crypto ipsec sa`).
    #[must_use]
    pub fn sad(&self) -> &Sad {
        &self.sad
    }

    /// The SPIs of the current SA pair with the peer at NBMA address `peer`: (inbound,
    /// outbound). An inbound SA a rekey retired is in [`Node::sad`] only.
    #[must_use]
    pub fn peer_sas(&self, peer: Ipv4Addr) -> Option<(u32, u32)> {
        self.peers
            .get(&peer)
            .map(|p| (p.inbound_spi, p.outbound_spi))
    }

    /// The best route of every prefix through the tunnel (`show ip route`), by prefix length
    /// then address.
    pub fn routes(&self) -> impl Iterator<Item = &Route> + '_ {
        self.rib.iter()
    }

    /// The route a packet to `dst` takes, if any.
    #[must_use]
    pub fn route(&self, dst: Ipv4Addr) -> Option<Route> {
        self.rib.lookup(dst)
    }

    /// The counters.
    #[must_use]
    pub fn counters(&self) -> &Counters {
        &self.counters
    }

    /// The NBMA addresses that receive a copy of each multicast packet.
    #[must_use]
    pub fn multicast_nbma(&self) -> Vec<Ipv4Addr> {
        let mut all = self.config.nhrp.multicast_static.clone();
        if let NhrpRole::Server(server) = &self.nhrp {
            all = server.multicast_nbma().collect();
        }
        all.sort_unstable();
        all.dedup();
        all
    }

    /// The NBMA address the tunnel address `next_hop` is reached at: an NHS, a static map, the
    /// hub's registration cache.
    #[must_use]
    pub fn resolve(&self, next_hop: Ipv4Addr) -> Option<Ipv4Addr> {
        let nhs = self.config.nhrp.nhs.iter().find(|n| n.tunnel == next_hop);
        if let Some(nhs) = nhs {
            return Some(nhs.nbma);
        }
        let map = self.config.nhrp.maps.iter().find(|(t, _)| *t == next_hop);
        if let Some((_, nbma)) = map {
            return Some(*nbma);
        }
        match &self.nhrp {
            NhrpRole::Server(server) => server.get(next_hop).map(|r| r.nbma),
            NhrpRole::Client(_) => None,
        }
    }

    /// Installs the IPsec SAs with the peer at NBMA address `peer` (static keys, or what a key
    /// exchange produced), replacing any it had: `inbound` decrypts what the peer sends (its SPI
    /// is ours), `outbound` encrypts what we send. The inbound SA it replaces still decrypts for
    /// [`REKEY_OVERLAP`].
    pub fn install_sas(
        &mut self,
        now: Instant,
        peer: Ipv4Addr,
        inbound: Sa,
        outbound: Sa,
        lifetime: Lifetime,
    ) {
        // A rekey: the old inbound SA stays for what the peer sealed before it switched.
        self.retire_until(peer, now + REKEY_OVERLAP);
        let local = self.config.tunnel.nbma;
        let sas = PeerSas {
            inbound_spi: inbound.spi(),
            outbound_spi: outbound.spi(),
        };
        self.sad.install_inbound(now, local, inbound, lifetime);
        self.sad
            .install_outbound(now, local, peer, outbound, lifetime);
        self.spi_peer.insert(sas.inbound_spi, peer);
        self.peers.insert(peer, sas);
        self.event(Event::SaInstalled {
            peer,
            inbound_spi: sas.inbound_spi,
            outbound_spi: sas.outbound_spi,
        });
        self.now = now;
        self.release_held(peer);
        for packet in self.early_esp.take(peer) {
            self.handle_esp(now, peer, &packet);
        }
    }

    /// Makes the outbound SA to `peer` go on from sequence number `next_seq` (a pair installed
    /// again from its keys; see [`Sad::resume_outbound`]).
    pub fn resume_outbound(&mut self, peer: Ipv4Addr, next_seq: u64) -> bool {
        self.sad
            .resume_outbound(self.config.tunnel.nbma, peer, next_seq)
    }

    /// Adds `ip route <prefix> <next hop>` through the tunnel (replacing a static route to the
    /// same prefix); a [`Event::RouteAdded`] follows if it becomes the best route.
    pub fn add_static_route(&mut self, now: Instant, route: StaticRoute) {
        self.config
            .static_routes
            .retain(|r| r.prefix != route.prefix);
        self.config.static_routes.push(route);
        self.set_route(Route {
            prefix: route.prefix,
            next_hop: Some(route.next_hop),
            source: RouteSource::Static,
            metric: 0,
        });
        self.pump(now);
    }

    /// Removes the static route to `prefix`; returns whether there was one.
    pub fn remove_static_route(&mut self, now: Instant, prefix: Prefix) -> bool {
        let before = self.config.static_routes.len();
        self.config.static_routes.retain(|r| r.prefix != prefix);
        let change = self.rib.remove(prefix, RouteSource::Static);
        self.route_change(change);
        self.pump(now);
        before != self.config.static_routes.len()
    }

    /// Removes the SAs with `peer`; returns whether there were any.
    pub fn remove_sas(&mut self, peer: Ipv4Addr) -> bool {
        let Some(sas) = self.peers.remove(&peer) else {
            return false;
        };
        let local = self.config.tunnel.nbma;
        self.sad.remove_outbound(local, peer);
        // The current inbound SA and any a rekey retired.
        let sad = &mut self.sad;
        self.spi_peer.retain(|spi, p| {
            if *p == peer {
                sad.remove_inbound(*spi, local);
            }
            *p != peer
        });
        debug_assert!(!self.spi_peer.contains_key(&sas.inbound_spi));
        true
    }

    /// Starts over with the peer at NBMA address `nbma` after it lost its state (an NHS that
    /// restarted and has been keyed again): a spoke registers with its NHSes again at once,
    /// rather than at its next refresh (a third of the holding time), as IOS does when the
    /// crypto socket to an NHS comes up again. The NHRP client is started afresh (every NHS
    /// gets a new Registration Request, which the live ones take as a refresh); routes, EIGRP
    /// and the SAs stay. Returns whether `nbma` is an NHS of this spoke.
    pub fn reset_peer(&mut self, now: Instant, nbma: Ipv4Addr) -> bool {
        if !self.config.nhrp.nhs.iter().any(|n| n.nbma == nbma) {
            return false;
        }
        let NhrpRole::Client(client) = &mut self.nhrp else {
            return false;
        };
        let mut seed = [0; 4];
        self.entropy.fill(&mut seed);
        let first_request_id = u32::from_be_bytes(seed) & 0x7fff_ffff;
        *client = Client::new(client.config().clone(), now, first_request_id);
        self.pump(now);
        true
    }

    /// The peer at NBMA address `peer` deleted its SA pair (an IKE Delete): nothing more is sent
    /// under it, and its inbound SAs decrypt for [`DELETE_GRACE`] more, then go. Returns whether
    /// there was a pair.
    pub fn retire_sas(&mut self, now: Instant, peer: Ipv4Addr) -> bool {
        self.retire_until(peer, now + DELETE_GRACE)
    }

    /// Forgets the pair with `peer` as the current one: its outbound SA goes, its inbound SAs
    /// (and any retired earlier) decrypt until `until` at the latest.
    fn retire_until(&mut self, peer: Ipv4Addr, until: Instant) -> bool {
        if self.peers.remove(&peer).is_none() {
            return false;
        }
        let local = self.config.tunnel.nbma;
        self.sad.remove_outbound(local, peer);
        for (spi, _) in self.spi_peer.iter().filter(|(_, p)| **p == peer) {
            self.sad.retire_inbound(*spi, local, until);
        }
        true
    }

    /// Handles a packet from the NBMA network: the payload of an outer IPv4 packet from `src`
    /// with IP protocol `protocol` (47 GRE, 50 ESP, 17 UDP with its header).
    pub fn handle_nbma(&mut self, now: Instant, src: Ipv4Addr, protocol: u8, payload: &[u8]) {
        self.now = now;
        self.counters.nbma_in += 1;
        match protocol {
            PROTOCOL_ESP => self.handle_esp(now, src, payload),
            ipsec::GRE => {
                let protected = self.spd.as_ref().is_some_and(|spd| {
                    spd.lookup(self.config.tunnel.nbma, src, ipsec::GRE) == Action::Protect
                });
                if protected {
                    self.counters.drop(DropReason::CleartextGre);
                } else {
                    self.handle_gre(now, src, payload);
                }
            }
            ipsec::UDP => match udp::Packet::new_checked(payload) {
                Ok(datagram) if datagram.dst_port() != IKE_PORT => {
                    self.counters.drop(DropReason::UnknownProtocol);
                }
                _ => self.counters.drop(DropReason::Ike),
            },
            _ => self.counters.drop(DropReason::UnknownProtocol),
        }
        self.pump(now);
    }

    /// Handles an IPv4 packet the host sent into the tunnel interface.
    pub fn handle_tunnel_packet(&mut self, now: Instant, packet: &[u8]) {
        self.now = now;
        self.counters.tunnel_in += 1;
        let Some((packet, ip)) = checked_ipv4(packet) else {
            self.counters.drop(DropReason::MalformedIpv4);
            return;
        };
        if ip.dst == self.config.tunnel.address {
            self.deliver(packet.to_vec());
        } else {
            self.route_out(packet.to_vec());
        }
        self.pump(now);
    }

    /// Runs the timers due at `now`: NHRP registrations, EIGRP Hellos and hold timers, SA
    /// lifetimes.
    pub fn handle_timeout(&mut self, now: Instant) {
        self.now = now;
        self.shortcut_timeout(now);
        let late = self.early_esp.expire(now);
        for _ in 0..late {
            self.counters.drop(DropReason::NoInboundSa);
        }
        match &mut self.nhrp {
            NhrpRole::Client(client) => client.handle_timeout(now),
            NhrpRole::Server(server) => server.handle_timeout(now),
        }
        if let Some(eigrp) = &mut self.eigrp {
            eigrp.handle_timeout(now);
        }
        self.sad.handle_timeout(now);
        self.pump(now);
    }

    /// Shuts the node down: EIGRP sends its goodbye. Take the transmits before dropping it.
    pub fn shutdown(&mut self, now: Instant) {
        if let Some(eigrp) = &mut self.eigrp {
            eigrp.shutdown(now);
        }
        self.pump(now);
    }

    /// When [`Node::handle_timeout`] must run next.
    #[must_use]
    pub fn poll_timeout(&self) -> Option<Instant> {
        let nhrp = match &self.nhrp {
            NhrpRole::Client(client) => client.poll_timeout(),
            NhrpRole::Server(server) => server.poll_timeout(),
        };
        let eigrp = self.eigrp.as_ref().and_then(Eigrp::poll_timeout);
        crate::timer::earliest([
            nhrp,
            eigrp,
            self.sad.poll_timeout(),
            self.shortcuts.poll_timeout(),
        ])
    }

    /// The next packet for the NBMA network.
    #[must_use]
    pub fn poll_transmit(&mut self) -> Option<Transmit> {
        self.transmits.pop_front()
    }

    /// The next IPv4 packet for the host (to write into the TUN device).
    #[must_use]
    pub fn poll_deliver(&mut self) -> Option<Vec<u8>> {
        self.delivers.pop_front()
    }

    /// The next event.
    #[must_use]
    pub fn poll_event(&mut self) -> Option<Event> {
        self.events.pop_front()
    }

    // ---- inbound ----

    fn handle_esp(&mut self, now: Instant, src: Ipv4Addr, payload: &[u8]) {
        if self.spd.is_none() {
            self.counters.drop(DropReason::EspNotConfigured);
            return;
        }
        let mut buffer = payload.to_vec();
        let local = self.config.tunnel.nbma;
        let decrypted = match self.sad.unprotect(local, &mut buffer) {
            Ok(decrypted) => decrypted,
            Err(SadError::NoInboundSa { .. }) if self.early_esp.keep(now, src, payload) => return,
            Err(error) => {
                self.counters.drop(match error {
                    SadError::NoInboundSa { .. } | SadError::Truncated { .. } => {
                        DropReason::NoInboundSa
                    }
                    SadError::Decrypt(
                        DecryptError::Replayed { .. } | DecryptError::TooOld { .. },
                    ) => DropReason::EspReplay,
                    _ => DropReason::EspIntegrity,
                });
                return;
            }
        };
        if self.spi_peer.get(&decrypted.spi) != Some(&src) {
            self.counters.drop(DropReason::EspWrongPeer);
            return;
        }
        if decrypted.next_header != NextHeader::GRE {
            self.counters.drop(DropReason::EspNotGre);
            return;
        }
        self.counters.esp_in += 1;
        let gre = decrypted.payload;
        self.handle_gre(now, src, gre);
    }

    fn handle_gre(&mut self, now: Instant, src: Ipv4Addr, packet: &[u8]) {
        let Ok((gre, payload)) = dmvpn_gre::parse(packet) else {
            self.counters.drop(DropReason::MalformedGre);
            return;
        };
        if gre.key != self.config.tunnel.key {
            self.counters.drop(DropReason::GreKeyMismatch);
            return;
        }
        match gre.protocol {
            dmvpn_gre::Protocol::NHRP => self.handle_nhrp(now, src, payload),
            dmvpn_gre::Protocol::IPV4 => self.handle_inner(now, src, payload),
            _ => self.counters.drop(DropReason::GreProtocol),
        }
    }

    fn handle_nhrp(&mut self, now: Instant, src: Ipv4Addr, bytes: &[u8]) {
        let valid = dmvpn_nhrp::Packet::new_checked(bytes).is_ok_and(|p| p.verify_checksum());
        let repr = dmvpn_nhrp::parse(bytes).ok().filter(|_| valid);
        let Some(repr) = repr else {
            self.counters.drop(DropReason::MalformedNhrp);
            return;
        };
        if self.handle_shortcut_nhrp(src, &repr) {
            return;
        }
        let result = match &mut self.nhrp {
            NhrpRole::Client(client) => client.handle_message(now, src, &repr),
            NhrpRole::Server(server) => server.handle_message(now, src, &repr),
        };
        if let Err(error) = result {
            self.counters.drop(DropReason::NhrpRefused);
            self.counters.last_nhrp_error = Some(error);
        }
    }

    /// An IPv4 packet that came out of the tunnel.
    fn handle_inner(&mut self, now: Instant, src: Ipv4Addr, packet: &[u8]) {
        let Some((packet, ip)) = checked_ipv4(packet) else {
            self.counters.drop(DropReason::MalformedIpv4);
            return;
        };
        let own = self.config.tunnel.address;
        let to_eigrp = ip.protocol == IpProtocol::EIGRP
            && (ip.dst == eigrp::neighbor::ALL_EIGRP_ROUTERS || ip.dst == own);
        if to_eigrp && self.eigrp.is_some() {
            let body = packet.get(ip.header_len()..).unwrap_or_default();
            self.handle_eigrp(now, ip.src, body);
            return;
        }
        if ip.dst == own || ip.dst.is_multicast() || ip.dst.is_broadcast() || !self.config.hairpin {
            self.deliver(packet.to_vec());
            return;
        }
        let local = self.is_local(ip.dst);
        match self.rib.lookup(ip.dst) {
            Some(route) if !local && route.next_hop != Some(own) => {
                let mut packet = packet.to_vec();
                if !ipv4::Packet::new_unchecked(&mut packet[..]).decrement_ttl() {
                    self.counters.drop(DropReason::TtlExpired);
                    return;
                }
                self.counters.forwarded += 1;
                self.maybe_redirect(src, &packet, &ip);
                self.route_out(packet);
            }
            _ => self.deliver(packet.to_vec()),
        }
    }

    fn is_local(&self, dst: Ipv4Addr) -> bool {
        self.config
            .eigrp
            .as_ref()
            .is_some_and(|e| e.connected.iter().any(|p| p.contains(dst)))
    }

    fn handle_eigrp(&mut self, now: Instant, src: Ipv4Addr, bytes: &[u8]) {
        let packet = dmvpn_eigrp::Packet::new_checked(bytes)
            .ok()
            .filter(dmvpn_eigrp::Packet::verify_checksum);
        let repr = packet.and_then(|p| dmvpn_eigrp::Repr::parse(&p).ok());
        let (Some(repr), Some(eigrp)) = (repr, self.eigrp.as_mut()) else {
            self.counters.drop(DropReason::MalformedEigrp);
            return;
        };
        if let Err(error) = eigrp.handle_packet(now, src, &repr) {
            self.counters.drop(DropReason::EigrpRefused);
            self.counters.last_eigrp_error = Some(error);
        }
    }

    fn transmit(&mut self, transmit: Transmit) {
        if self.transmits.len() >= QUEUE_LIMIT {
            self.counters.drop(DropReason::QueueFull);
            return;
        }
        self.counters.nbma_out += 1;
        self.transmits.push_back(transmit);
    }

    fn deliver(&mut self, packet: Vec<u8>) {
        if self.delivers.len() >= QUEUE_LIMIT {
            self.counters.drop(DropReason::QueueFull);
            return;
        }
        self.counters.delivered += 1;
        self.delivers.push_back(packet);
    }

    fn event(&mut self, event: Event) {
        if self.events.len() >= QUEUE_LIMIT {
            self.counters.events_lost += 1;
            return;
        }
        self.events.push_back(event);
    }

    /// Installs a route (or replaces the one of its source) and reports the change.
    fn set_route(&mut self, route: Route) {
        let change = self.rib.insert(route);
        self.route_change(change);
    }

    fn route_change(&mut self, (removed, added): (Option<Route>, Option<Route>)) {
        if let Some(route) = removed.filter(|r| r.source != RouteSource::Connected) {
            self.event(Event::RouteRemoved(route));
        }
        if let Some(route) = added.filter(|r| r.source != RouteSource::Connected) {
            self.event(Event::RouteAdded(route));
        }
    }

    // ---- the machines inside ----

    /// Moves what the machines produced onto the node's queues: their packets through the
    /// tunnel, their events out.
    fn pump(&mut self, _now: Instant) {
        loop {
            let mut progress = false;
            while let Some(t) = self.next_nhrp_transmit() {
                progress = true;
                self.send_gre(t.to, dmvpn_gre::Protocol::NHRP, &t.bytes);
            }
            while let Some(t) = self.eigrp.as_mut().and_then(Eigrp::poll_transmit) {
                progress = true;
                self.send_eigrp(t);
            }
            while let Some(event) = self.next_nhrp_event() {
                progress = true;
                self.event(event);
            }
            while let Some(event) = self.eigrp.as_mut().and_then(Eigrp::poll_event) {
                progress = true;
                self.handle_eigrp_event(event);
            }
            while let Some(event) = self.sad.poll_event() {
                progress = true;
                self.handle_sa_event(event);
            }
            if !progress {
                break;
            }
        }
    }

    fn next_nhrp_transmit(&mut self) -> Option<nhrp::Transmit> {
        match &mut self.nhrp {
            NhrpRole::Client(client) => client.poll_transmit(),
            NhrpRole::Server(server) => server.poll_transmit(),
        }
    }

    fn next_nhrp_event(&mut self) -> Option<Event> {
        match &mut self.nhrp {
            NhrpRole::Client(client) => client.poll_event().map(Event::Nhrp),
            NhrpRole::Server(server) => server.poll_event().map(Event::NhrpServer),
        }
    }

    /// Route events of the EIGRP process go into the RIB (and out as [`Event::RouteAdded`] and
    /// [`Event::RouteRemoved`]); the others out as [`Event::Eigrp`].
    fn handle_eigrp_event(&mut self, event: EigrpEvent) {
        let Some((prefix, installed)) = event.route_change() else {
            self.event(Event::Eigrp(event));
            return;
        };
        let external = self
            .eigrp
            .as_ref()
            .and_then(|e| e.route(prefix))
            .is_some_and(|r| r.external.is_some());
        let (source, other) = if external {
            (RouteSource::EigrpExternal, RouteSource::Eigrp)
        } else {
            (RouteSource::Eigrp, RouteSource::EigrpExternal)
        };
        let change = self.rib.remove(prefix, other);
        self.route_change(change);
        match installed {
            Some((next_hop, metric)) => self.set_route(Route {
                prefix,
                next_hop: Some(next_hop),
                source,
                metric,
            }),
            None => {
                let change = self.rib.remove(prefix, source);
                self.route_change(change);
            }
        }
    }

    fn handle_sa_event(&mut self, event: SaEvent) {
        if let SaEvent::HardExpired {
            id: SaId::Inbound { spi, .. },
            ..
        } = event
            && let Some(peer) = self.spi_peer.remove(&spi)
            && self.peers.get(&peer).is_some_and(|p| p.inbound_spi == spi)
        {
            // (an inbound SA a rekey retired leaves the new pair alone)
            self.peers.remove(&peer);
        }
        self.event(Event::Sa(event));
    }

    /// Wraps an EIGRP packet in IPv4 from the tunnel address (TTL 2 for multicast, as IOS) and
    /// sends it through the tunnel.
    fn send_eigrp(&mut self, t: eigrp::Transmit) {
        let ttl = if t.to.is_multicast() { 2 } else { 255 };
        self.ip_id = self.ip_id.wrapping_add(1);
        let header = ipv4::Repr {
            dscp: icmp::PRECEDENCE_INTERNETWORK,
            ttl,
            ident: self.ip_id,
            ..ipv4::Repr::new(self.config.tunnel.address, t.to, IpProtocol::EIGRP, 0)
        };
        self.route_out(header.emit_vec(&t.bytes));
    }
}
