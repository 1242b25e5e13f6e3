//! A whole DMVPN router as one sans-IO machine: the IKEv1 [`Endpoint`] and the [`Node`] (NHRP,
//! EIGRP, the IPsec databases and the GRE/ESP data path), with every decision that joins them.
//! [`Router::with_ikev2`] keys with an IKEv2 [`ikev2::Endpoint`] instead, with the same
//! decisions: its Child SAs are installed as Quick Mode's pairs, it rekeys them itself
//! (CREATE_CHILD_SA) or on the SAD's volume limit, and its liveness check
//! ([`ikev2::Event::PeerDead`]) is DPD.
//!
//! The caller owns the sockets, the tunnel interface and the clock, and moves bytes only:
//!
//! ```text
//!   NBMA: GRE 47, ESP 50, UDP 500        ┌────────┐        tunnel interface (TUN)
//!   handle_nbma(now, src, protocol, ..) ─▶│        │◀─ handle_tunnel_packet(now, ipv4)
//!   handle_ike(now, src, isakmp)       ──▶│ Router │
//!   poll_transmit() → node::Transmit   ◀──│ Endpoint──▶ poll_deliver() → inner IPv4
//!     (IKE as protocol 17, UDP 500→500)   │ + Node │   poll_event() → Event (routes, SAs, logs)
//!   poll_timeout() / handle_timeout(now)  └────────┘
//! ```
//!
//! What the router decides, as an IOS DMVPN router does:
//!
//! - **SAs from IKE go into the node.** A finished Quick Mode ([`ike::Event::ChildEstablished`])
//!   installs its pair with [`Node::install_sas`]; the pair it replaces keeps decrypting for
//!   [`node::REKEY_OVERLAP`] (10 s), so nothing the peer sealed before it switched is lost.
//! - **Rekeys.** IKE rekeys by time itself at 90 % of the seconds; the SAD's soft limit at 90 %
//!   of the kilobytes ([`SaEvent::SoftExpired`]) starts a new Quick Mode here. A pair that ran
//!   out before a new one came ([`SaEvent::HardExpired`]) is dropped and replaced at once.
//! - **Deletes.** A peer's Delete ([`ike::Event::ChildDeleted`]) retires its pair: nothing more
//!   is sent under it, and its inbound SA decrypts for [`node::DELETE_GRACE`] (2 s) more, since
//!   ESP it sealed just before the Delete may still be on its way.
//! - **A spoke keys its NHSes.** At start, and whenever it has no SA pair with one (none came
//!   within [`RECONNECT`] of the last attempt, a pair ran out or was deleted), it starts Main
//!   Mode with it. IOS does the same from the crypto socket, which the NHRP registration
//!   retries keep asking for.
//! - **Dead hubs.** A hub that restarted has forgotten every SA and says nothing. The spoke
//!   notices it when its EIGRP neighbour there is lost (hold time 15 s, Hellos every 5 s) and
//!   the NHS sealed nothing to it within [`STILL_SEALING`] (a live hub whose Hellos were lost
//!   still sends under the SAs: they stay, as on IOS), or when DPD declares the peer dead.
//!   Then the spoke drops the pair and keys the NHS again at once.
//! - **Starting over with one peer.** When the pair with a lost NHS is back, the hub has
//!   forgotten the spoke's registration too, and the NHRP client would only register again at
//!   its next refresh (a third of the holding time): the router resets that peer in the node
//!   ([`Node::reset_peer`]), which registers again at once, as IOS does when the crypto socket
//!   to the NHS comes up again. Nothing else in the node is rebuilt.
//!
//! Per NHS of a spoke the router is in one [`NhsState`]:
//!
//! ```text
//!                  ChildEstablished (install; if lost: reset_peer, register again)
//!   Keying ───────────────────────────────────────────────────────▶ Keyed
//!    ▲  │ retry_at = attempt + RECONNECT (15 s):                     │ │ ChildEstablished:
//!    │  │ delete what is left, Main Mode again                       │ │ rekeyed (overlap 10 s)
//!    │  └──────────                                                  │ ◀┘
//!    │    pair ran out (hard limit) / peer's Delete (grace 2 s)      │
//!    ├───────────────────────────────────────────────────────────────┤
//!    │    EIGRP neighbour lost and nothing sealed within 5 s, or DPD │
//!    └──────────── (pair dropped, lost: Main Mode at once) ──────────┘
//! ```
//!
//! A hub keys nobody by itself: spokes come to it.
//!
//! - **Spoke-to-spoke pairs on demand** (Phase 2/3). When the node needs a direct peer
//!   ([`ShortcutEvent::PeerWanted`]: a shortcut or a resolution reply to another spoke, under
//!   IPsec) the router starts Main Mode with it ([`Event::IkeStarted`]). The pair's Quick Mode
//!   installs it ([`Event::ShortcutPeerUp`]) and the node sends what waited. With no pair within
//!   [`RECONNECT`] (PSK mismatch, NAT, no answer) the attempt is given up
//!   ([`Event::ShortcutPeerFailed`], [`Node::peer_failed`]): traffic keeps going through the
//!   hub, and the next packet that wants the shortcut asks again.
//!
//! ```text
//!   PeerWanted ──▶ Keying { deadline = now + RECONNECT } ── ChildEstablished ──▶ (a pair like any)
//!                        └── deadline ──▶ ShortcutPeerFailed (IKE deleted, node told)
//! ```

#[cfg(any(test, feature = "fuzzing"))]
#[doc(hidden)]
pub mod fuzzing;
mod keying;

pub use keying::IkeError;
use keying::Keying;

use alloc::collections::{BTreeMap, VecDeque};
use alloc::vec::Vec;
use core::net::Ipv4Addr;

use dmvpn_ip::udp;

use crate::eigrp::{EigrpEvent, neighbor};
use crate::ike::{self, Endpoint};
use crate::ikev2;
use crate::ipsec::{self, Limit, SaEvent, SaId};
use crate::nhrp::ShortcutEvent;
use crate::node::{self, Node, PROTOCOL_ESP, Transmit};
use crate::time::{Duration, Instant};

/// How long a spoke waits for IKE to key an NHS before it starts over.
pub const RECONNECT: Duration = Duration::from_secs(15);

/// How recent ESP from an NHS whose EIGRP neighbour was lost must be to show the NHS alive and
/// keyed. The hold time (15 s) runs from the last Hello heard, at most a Hello interval (5 s)
/// before a dead hub's last packet: so at expiry a dead hub has been silent for more than 10 s,
/// and anything heard within 5 s is a live one.
pub const STILL_SEALING: Duration = Duration::from_secs(5);

/// The IKE port (RFC 2409 §2.1).
pub use dmvpn_ip::udp::IKE_PORT;

/// Where a spoke stands with one NHS; see the [module documentation](self).
#[derive(Clone, Copy, Debug, Eq, PartialEq)]
pub enum NhsState {
    /// No SA pair with the NHS.
    Keying {
        /// When IKE was last started with it (`None`: not yet, or the NHS was lost).
        attempt: Option<Instant>,
        /// When to start over if no pair came: `attempt` + [`RECONNECT`] (`None`: at once).
        retry_at: Option<Instant>,
        /// The NHS was lost (EIGRP, DPD): when the pair is back the spoke registers again.
        lost: bool,
    },
    /// A pair is installed.
    Keyed {
        /// When IKE was last started with it.
        attempt: Option<Instant>,
        /// When ESP from the NHS last decrypted (see [`STILL_SEALING`]).
        sealed_at: Option<Instant>,
    },
}

impl NhsState {
    const fn attempt(self) -> Option<Instant> {
        match self {
            Self::Keying { attempt, .. } | Self::Keyed { attempt, .. } => attempt,
        }
    }

    /// When the router acts on this NHS by itself next.
    #[must_use]
    pub const fn deadline(self) -> Option<Instant> {
        match self {
            Self::Keying { retry_at, .. } => retry_at,
            Self::Keyed { .. } => None,
        }
    }

    fn due(self, now: Instant) -> bool {
        match self {
            Self::Keying { retry_at, .. } => retry_at.is_none_or(|t| t <= now),
            Self::Keyed { .. } => false,
        }
    }
}

/// An IKE SA that is up (`show crypto isakmp sa`).
#[derive(Clone, Copy, Debug, Eq, PartialEq)]
pub struct IkeSaInfo {
    /// Our role in its Main Mode.
    pub role: ike::Role,
    /// IOS's `conn-id`: counts up from 1001.
    pub conn_id: u32,
    /// The algorithms.
    pub suite: ike::Suite,
    /// When it was established.
    pub established_at: Instant,
}

/// The SA pair installed with a peer (`show crypto ipsec sa`).
#[derive(Clone, Debug, Eq, PartialEq)]
pub struct Pair {
    /// What Quick Mode negotiated (the keys print only through explicit methods).
    pub child: ike::ChildSa,
    /// When it was installed.
    pub installed_at: Instant,
    /// The pair it replaced and the sequence number its outbound SA had reached: what carries
    /// the traffic again if the peer deletes this one at once (the loser of simultaneous
    /// rekeys, RFC 7296 §2.8.1).
    replaced: Option<(ike::ChildSa, u64)>,
}

/// ISAKMP messages the endpoint refused (garbage, unknown cookies, bad hashes, wrong state).
#[derive(Clone, Debug, Default, Eq, PartialEq)]
pub struct IkeCounters {
    /// How many.
    pub refused: u64,
    /// The latest, with its sender.
    pub last_error: Option<(Ipv4Addr, IkeError)>,
}

/// What the router reports: the node's and IKE's events, and its own decisions, for logs, the
/// key log, `show` and the host's routes.
#[derive(Clone, Debug, Eq, PartialEq)]
#[non_exhaustive]
pub enum Event {
    /// From the node: routes to program into the host ([`node::Event::RouteAdded`],
    /// [`node::Event::RouteRemoved`]), NHRP, EIGRP, SA lifetimes.
    Node(node::Event),
    /// From IKE (every event but [`ike::Event::ChildEstablished`], which comes as
    /// [`Event::SaInstalled`] or [`Event::UnusableKeys`]). [`ike::Event::Phase1Established`]
    /// and [`ike::Event::ChildOffered`] carry the keys a key log writes.
    Ike(ike::Event),
    /// From IKEv2 (every event but [`ikev2::Event::ChildEstablished`], which comes as
    /// [`Event::SaInstalled`] or [`Event::UnusableKeys`]).
    Ikev2(ikev2::Event),
    /// A Quick Mode's pair is installed in the node.
    SaInstalled(ike::ChildSa),
    /// The peer deleted the pair just installed (it lost simultaneous rekeys, RFC 7296
    /// §2.8.1): the pair it had replaced carries the traffic again.
    SaRestored(ike::ChildSa),
    /// A Quick Mode's keys do not make SAs; nothing was installed.
    UnusableKeys {
        /// The peer.
        peer: Ipv4Addr,
    },
    /// An ISAKMP message was refused (see [`Router::ike_counters`]).
    IkeRefused {
        /// Its sender.
        peer: Ipv4Addr,
        /// Why.
        error: IkeError,
    },
    /// A spoke starts Main Mode with an NHS it has no pair with.
    IkeStarted {
        /// The NHS's NBMA address.
        peer: Ipv4Addr,
    },
    /// IKE cannot start with the NHS (no pre-shared key, no policy).
    IkeStartFailed {
        /// The NHS's NBMA address.
        peer: Ipv4Addr,
        /// Why.
        error: IkeError,
    },
    /// The spoke-to-spoke pair the node asked for is installed: the shortcut carries traffic.
    ShortcutPeerUp {
        /// The other spoke's NBMA address.
        peer: Ipv4Addr,
    },
    /// The last resolution entry through another spoke went, and with it the spoke-to-spoke
    /// IKE and IPsec SAs (deleted, the other spoke told).
    ShortcutPeerDown {
        /// The other spoke's NBMA address.
        peer: Ipv4Addr,
    },
    /// No spoke-to-spoke pair came within [`RECONNECT`] (PSK mismatch, NAT, no answer): the
    /// traffic stays on the hub.
    ShortcutPeerFailed {
        /// The other spoke's NBMA address.
        peer: Ipv4Addr,
    },
    /// The SAD reported a soft limit: a new pair is negotiated.
    RekeyStarted {
        /// The peer.
        peer: Ipv4Addr,
        /// Which limit.
        limit: Limit,
    },
    /// A rekey could not start.
    RekeyFailed {
        /// The peer.
        peer: Ipv4Addr,
        /// Why.
        error: IkeError,
    },
    /// The EIGRP neighbour at an NHS was lost, but the NHS still sends under our SAs: they stay.
    NhsKept {
        /// The NHS's NBMA address.
        peer: Ipv4Addr,
    },
    /// An NHS was lost (EIGRP hold time with nothing sealed, or DPD): its pair is dropped and
    /// IKE starts over.
    NhsDown {
        /// The NHS's NBMA address.
        peer: Ipv4Addr,
    },
    /// A lost NHS is keyed again: the node starts over with it (registers again).
    RegistrationRestarted {
        /// The NHS's NBMA address.
        peer: Ipv4Addr,
    },
}

/// Router-level counters.
#[derive(Clone, Copy, Debug, Default, Eq, PartialEq)]
pub struct Counters {
    /// Transmits refused by a full queue.
    pub transmits_lost: u64,
    /// Events refused by a full queue.
    pub events_lost: u64,
    /// UDP datagrams that were not IKE (another port, or IKE without IKE configured).
    pub udp_dropped: u64,
}

/// A DMVPN hub or spoke with its IKE; see the [module documentation](self).
#[derive(Debug)]
pub struct Router<R> {
    node: Node,
    ike: Option<Keying<R>>,
    local: Ipv4Addr,
    /// A spoke's NHSes (by NBMA address), when IKE runs.
    nhs: BTreeMap<Ipv4Addr, NhsState>,
    /// Spoke-to-spoke peers being keyed on demand, with when the attempt is given up.
    direct: BTreeMap<Ipv4Addr, Instant>,
    pairs: BTreeMap<Ipv4Addr, Pair>,
    ike_sas: BTreeMap<Ipv4Addr, IkeSaInfo>,
    ike_counters: IkeCounters,
    next_conn_id: u32,
    transmits: VecDeque<Transmit>,
    events: VecDeque<Event>,
    counters: Counters,
}

impl<R: ike::Entropy> Router<R> {
    /// A router of `node` (booted at `now`) and `ike` (`None` without `tunnel protection`, or
    /// with static keys installed into the node directly). A spoke with IKE starts Main Mode
    /// with each NHS now.
    #[must_use]
    pub fn new(node: Node, ike: Option<Endpoint<R>>, now: Instant) -> Self {
        Self::build(node, ike.map(Keying::V1), now)
    }

    /// A router of `node` and its key exchange, if any (see [`Router::new`]).
    fn build(node: Node, ike: Option<Keying<R>>, now: Instant) -> Self {
        let local = node.config().tunnel.nbma;
        let nhs = match ike {
            Some(_) => (node.config().nhrp.nhs.iter())
                .map(|n| {
                    let state = NhsState::Keying {
                        attempt: None,
                        retry_at: None,
                        lost: false,
                    };
                    (n.nbma, state)
                })
                .collect(),
            None => BTreeMap::new(),
        };
        let mut router = Self {
            node,
            ike,
            local,
            nhs,
            direct: BTreeMap::new(),
            pairs: BTreeMap::new(),
            ike_sas: BTreeMap::new(),
            ike_counters: IkeCounters::default(),
            next_conn_id: 1001,
            transmits: VecDeque::new(),
            events: VecDeque::new(),
            counters: Counters::default(),
        };
        router.maintain(now);
        router.pump(now);
        router
    }

    /// The node (`show ip nhrp`, `show ip route`, the SAD …).
    #[must_use]
    pub const fn node(&self) -> &Node {
        &self.node
    }

    /// The node, to change its configuration at run time (static routes).
    pub const fn node_mut(&mut self) -> &mut Node {
        &mut self.node
    }

    /// The IKE endpoint, if IKE runs.
    #[must_use]
    pub fn ike(&self) -> Option<&Endpoint<R>> {
        self.ike.as_ref().and_then(Keying::v1)
    }

    /// The IKE endpoint's randomness (e.g. to load recorded values into it between messages, as
    /// a replay does), if IKE runs.
    pub fn ike_entropy_mut(&mut self) -> Option<&mut R> {
        self.ike.as_mut().and_then(Keying::entropy_mut)
    }

    /// The state of each NHS a spoke keys (empty on a hub or without IKE).
    pub fn nhs_states(&self) -> impl Iterator<Item = (Ipv4Addr, NhsState)> + '_ {
        self.nhs.iter().map(|(a, s)| (*a, *s))
    }

    /// The IKE SAs that are up, by peer.
    #[must_use]
    pub const fn ike_sas(&self) -> &BTreeMap<Ipv4Addr, IkeSaInfo> {
        &self.ike_sas
    }

    /// The SA pair installed with each peer.
    #[must_use]
    pub const fn pairs(&self) -> &BTreeMap<Ipv4Addr, Pair> {
        &self.pairs
    }

    /// What IKE refused.
    #[must_use]
    pub const fn ike_counters(&self) -> &IkeCounters {
        &self.ike_counters
    }

    /// What the limits refused (see [`crate::limits`]): the NHRP server's, EIGRP's and IKE's
    /// tallies summed, the latest episode's first refusal in [`crate::limits::Tally::last`].
    #[must_use]
    pub fn limits(&self) -> crate::limits::Tally {
        let nhrp = self.node.nhrp_server().map(crate::nhrp::Server::limits);
        let eigrp = self.node.eigrp().map(crate::eigrp::Eigrp::limits);
        let ike = self.ike.as_ref().and_then(Keying::limits);
        crate::limits::Tally::combined([nhrp, eigrp, ike].into_iter().flatten())
    }

    /// The router's own counters (the node's are in [`Node::counters`]).
    #[must_use]
    pub const fn counters(&self) -> &Counters {
        &self.counters
    }

    // ---- input ----

    /// Handles a packet from the NBMA network: the payload of an outer IPv4 packet from `src`
    /// with IP protocol `protocol` (47 GRE, 50 ESP, or 17 UDP with its header: IKE on port 500).
    pub fn handle_nbma(&mut self, now: Instant, src: Ipv4Addr, protocol: u8, payload: &[u8]) {
        if protocol == ipsec::UDP {
            match udp::Packet::new_checked(payload) {
                Ok(datagram) if datagram.dst_port() == IKE_PORT && self.ike.is_some() => {
                    self.handle_ike(now, src, datagram.payload());
                }
                _ => self.counters.udp_dropped += 1,
            }
            return;
        }
        let decrypted = self.node.counters().esp_in;
        self.node.handle_nbma(now, src, protocol, payload);
        if let Some(ike) = &mut self.ike {
            ike.traffic_received(now, src);
        }
        if protocol == PROTOCOL_ESP
            && self.node.counters().esp_in != decrypted
            && let Some(NhsState::Keyed { sealed_at, .. }) = self.nhs.get_mut(&src)
        {
            *sealed_at = Some(now);
        }
        self.pump(now);
    }

    /// Handles an ISAKMP message (the payload of a UDP datagram to port 500) from `src`.
    pub fn handle_ike(&mut self, now: Instant, src: Ipv4Addr, message: &[u8]) {
        let Some(ike) = &mut self.ike else {
            self.counters.udp_dropped += 1;
            return;
        };
        match ike.handle_message(now, src, message) {
            Ok(()) => self.node.expect_sas(now, src),
            Err(error) => {
                self.ike_counters.refused += 1;
                self.ike_counters.last_error = Some((src, error.clone()));
                self.event(Event::IkeRefused { peer: src, error });
            }
        }
        self.pump(now);
    }

    /// Handles an IPv4 packet the host sent into the tunnel interface.
    pub fn handle_tunnel_packet(&mut self, now: Instant, packet: &[u8]) {
        self.node.handle_tunnel_packet(now, packet);
        self.pump(now);
    }

    /// Runs what is due at `now`: the node's and IKE's timers, and IKE with NHSes that have no
    /// pair.
    pub fn handle_timeout(&mut self, now: Instant) {
        if self.node.poll_timeout().is_some_and(|t| t <= now) {
            self.node.handle_timeout(now);
        }
        if let Some(ike) = &mut self.ike
            && ike.poll_timeout().is_some_and(|t| t <= now)
        {
            ike.handle_timeout(now);
        }
        self.pump(now);
        self.maintain(now);
        self.give_up_direct(now);
        self.pump(now);
    }

    /// Shuts down, first step: EIGRP sends its goodbye (under the SAs it is sealed with). Take
    /// the transmits, give them a head start, then [`Router::delete_all`].
    pub fn shutdown(&mut self, now: Instant) {
        self.node.shutdown(now);
        self.pump(now);
    }

    /// Deletes every SA with every peer and tells them (IKE Deletes).
    pub fn delete_all(&mut self, now: Instant) {
        if let Some(ike) = &mut self.ike {
            for peer in ike.established_peers(&self.ike_sas) {
                ike.delete_peer(now, peer);
            }
        }
        self.pump(now);
    }

    // ---- output ----

    /// When [`Router::handle_timeout`] must run next.
    #[must_use]
    pub fn poll_timeout(&self) -> Option<Instant> {
        let ike = self.ike.as_ref().and_then(Keying::poll_timeout);
        let nhs = self.nhs.values().filter_map(|s| s.deadline()).min();
        let direct = self.direct.values().min().copied();
        crate::timer::earliest([self.node.poll_timeout(), ike, nhs, direct])
    }

    /// The next packet for the NBMA network: GRE, ESP, or IKE as a whole UDP datagram from port
    /// 500 to port 500 (protocol 17; a caller with a UDP socket sends `bytes[8..]`).
    #[must_use]
    pub fn poll_transmit(&mut self) -> Option<Transmit> {
        self.transmits.pop_front()
    }

    /// The next IPv4 packet for the host.
    #[must_use]
    pub fn poll_deliver(&mut self) -> Option<Vec<u8>> {
        self.node.poll_deliver()
    }

    /// The next event.
    #[must_use]
    pub fn poll_event(&mut self) -> Option<Event> {
        self.events.pop_front()
    }

    // ---- the decisions ----

    /// Moves what the machines produced onto the router's queues, acting on their events,
    /// until they are quiet.
    fn pump(&mut self, now: Instant) {
        loop {
            let mut moved = false;
            while let Some(transmit) = self.node.poll_transmit() {
                moved = true;
                if let Some(ike) = &mut self.ike {
                    ike.traffic_sent(now, transmit.to);
                }
                self.transmit(transmit);
            }
            while let Some(event) = self.node.poll_event() {
                moved = true;
                self.node_event(now, event);
            }
            let mut ike_events = Vec::new();
            if let Some(ike) = &mut self.ike {
                let mut datagrams = Vec::new();
                while let Some(t) = ike.poll_transmit() {
                    datagrams.push(t);
                }
                while let Some(event) = ike.poll_event() {
                    ike_events.push(event);
                }
                for t in datagrams {
                    moved = true;
                    let Some(bytes) = udp(self.local, t.to, &t.bytes) else {
                        continue;
                    };
                    self.transmit(Transmit {
                        to: t.to,
                        protocol: ipsec::UDP,
                        bytes,
                    });
                }
            }
            for event in ike_events {
                moved = true;
                self.key_event(now, event);
            }
            if !moved {
                return;
            }
        }
    }

    fn transmit(&mut self, transmit: Transmit) {
        if self.transmits.len() >= node::QUEUE_LIMIT {
            self.counters.transmits_lost += 1;
            return;
        }
        self.transmits.push_back(transmit);
    }

    fn event(&mut self, event: Event) {
        if self.events.len() >= node::QUEUE_LIMIT {
            self.counters.events_lost += 1;
            return;
        }
        self.events.push_back(event);
    }

    fn node_event(&mut self, now: Instant, event: node::Event) {
        self.event(Event::Node(event));
        match event {
            node::Event::Eigrp(EigrpEvent::Neighbor(neighbor::Event::NeighborDown {
                address,
                ..
            })) => {
                // A spoke that lost its hub keys again: the hub may have restarted without SAs.
                let nbma = (self.node.config().nhrp.nhs.iter())
                    .find(|n| n.tunnel == address)
                    .map(|n| n.nbma)
                    .filter(|nbma| self.nhs.contains_key(nbma));
                match nbma {
                    // Hellos lost, not the hub: EIGRP forms the adjacency again by itself.
                    Some(peer) if self.still_sealing(now, peer) => {
                        self.event(Event::NhsKept { peer });
                    }
                    Some(peer) => self.lose(now, peer),
                    None => {}
                }
            }
            node::Event::Shortcut(ShortcutEvent::PeerWanted { nbma }) => {
                self.connect_direct(now, nbma);
            }
            node::Event::Shortcut(ShortcutEvent::Removed(entry)) => {
                self.release_direct(now, entry.nbma);
            }
            // The volume limit (the SAD counts it): a new pair at the soft limit, as IOS at 90 %.
            node::Event::Sa(SaEvent::SoftExpired {
                id: SaId::Outbound { remote, .. },
                limit,
            }) if self.ike.is_some() => {
                self.event(Event::RekeyStarted {
                    peer: remote,
                    limit,
                });
                self.rekey(now, remote);
            }
            // The pair ran out before a new one came: the peer gets a new pair at once (a spoke
            // would otherwise wait for the EIGRP hold time to notice).
            node::Event::Sa(SaEvent::HardExpired {
                id: SaId::Outbound { remote, spi, .. },
                ..
            }) => {
                if (self.pairs.get(&remote)).is_some_and(|p| p.child.outbound.spi == spi) {
                    self.forget_pair(now, remote, false);
                }
                self.rekey(now, remote);
            }
            _ => {}
        }
    }

    fn rekey(&mut self, now: Instant, peer: Ipv4Addr) {
        let inbound = self.pairs.get(&peer).map(|p| p.child.inbound.spi);
        if let Some(ike) = &mut self.ike
            && let Err(error) = ike.rekey(now, peer, inbound)
        {
            self.event(Event::RekeyFailed { peer, error });
        }
    }

    fn ike_event(&mut self, now: Instant, event: ike::Event) {
        match &event {
            ike::Event::Phase1Established {
                peer, role, suite, ..
            } => {
                let conn_id = self.next_conn_id;
                self.next_conn_id = self.next_conn_id.wrapping_add(1);
                let info = IkeSaInfo {
                    role: *role,
                    conn_id,
                    suite: *suite,
                    established_at: now,
                };
                self.ike_sas.insert(*peer, info);
            }
            ike::Event::Phase1Deleted { peer, .. } => {
                self.ike_sas.remove(peer);
            }
            ike::Event::ChildEstablished(child) => {
                self.install(now, child.clone());
                return;
            }
            ike::Event::ChildDeleted {
                peer, inbound_spi, ..
            } => self.child_deleted(now, *peer, *inbound_spi),
            ike::Event::PeerDown { peer } => {
                let peer = *peer;
                self.event(Event::Ike(event));
                self.lose(now, peer);
                return;
            }
            _ => {}
        }
        self.event(Event::Ike(event));
    }

    /// A Quick Mode finished: its pair goes into the node (a lost NHS is started over with).
    fn install(&mut self, now: Instant, child: ike::ChildSa) {
        let peer = child.peer;
        let local = self.node.config().tunnel.nbma;
        let replaced = (self.pairs.get(&peer)).and_then(|old| {
            let sent = self.node.sad().outbound(local, peer)?.next_seq();
            Some((old.child.clone(), sent))
        });
        if !self.put_pair(now, &child, replaced) {
            self.event(Event::UnusableKeys { peer });
            return;
        }
        self.event(Event::SaInstalled(child));
        if self.direct.remove(&peer).is_some() {
            self.event(Event::ShortcutPeerUp { peer });
        }
        let Some(state) = self.nhs.get_mut(&peer) else {
            return;
        };
        let lost = matches!(state, NhsState::Keying { lost: true, .. });
        let attempt = state.attempt();
        let sealed_at = match *state {
            NhsState::Keyed { sealed_at, .. } => sealed_at,
            NhsState::Keying { .. } => None,
        };
        *state = NhsState::Keyed { attempt, sealed_at };
        if lost {
            self.event(Event::RegistrationRestarted { peer });
            self.node.reset_peer(now, peer);
        }
    }

    /// Installs `child` in the node as the current pair with its peer; `false` if its keys do
    /// not make SAs.
    fn put_pair(
        &mut self,
        now: Instant,
        child: &ike::ChildSa,
        replaced: Option<(ike::ChildSa, u64)>,
    ) -> bool {
        let (Ok(inbound), Ok(outbound)) = (child.inbound.to_sa(), child.outbound.to_sa()) else {
            return false;
        };
        self.node
            .install_sas(now, child.peer, inbound, outbound, child.lifetime);
        let pair = Pair {
            child: child.clone(),
            installed_at: now,
            replaced,
        };
        self.pairs.insert(child.peer, pair);
        true
    }

    /// Whether the NHS at `nbma` sealed traffic to us within the last [`STILL_SEALING`]: then
    /// its EIGRP neighbour was lost to loss of Hellos, not to a restart (a restarted hub has no
    /// SAs to seal with), and the SAs stay, as on IOS.
    fn still_sealing(&self, now: Instant, nbma: Ipv4Addr) -> bool {
        matches!(
            self.nhs.get(&nbma),
            Some(NhsState::Keyed { sealed_at: Some(at), .. }) if now - *at < STILL_SEALING
        )
    }

    /// The current pair with `peer` is gone (it ran out, the peer deleted it, or the NHS was
    /// lost): the node sends nothing more under it, and its inbound SAs decrypt for a moment
    /// more with `grace` ([`Node::retire_sas`]) or go at once.
    fn forget_pair(&mut self, now: Instant, peer: Ipv4Addr, grace: bool) {
        self.pairs.remove(&peer);
        if grace {
            self.node.retire_sas(now, peer);
        } else {
            self.node.remove_sas(peer);
        }
        if let Some(state) = self.nhs.get_mut(&peer)
            && let NhsState::Keyed { attempt, .. } = *state
        {
            *state = NhsState::Keying {
                attempt,
                retry_at: attempt.map(|t| t + RECONNECT),
                lost: false,
            };
        }
    }

    /// A spoke lost an NHS (EIGRP hold time, DPD): its SAs go, and IKE starts over at once.
    fn lose(&mut self, now: Instant, peer: Ipv4Addr) {
        if !self.nhs.contains_key(&peer) {
            return;
        }
        self.forget_pair(now, peer, false);
        if let Some(state) = self.nhs.get_mut(&peer) {
            *state = NhsState::Keying {
                attempt: None,
                retry_at: None,
                lost: true,
            };
        }
        self.event(Event::NhsDown { peer });
        self.maintain(now);
    }

    /// Starts Main Mode with another spoke the node wants a pair with (unless one is up or on
    /// its way, or it is an NHS, which [`Router::maintain`] keys).
    fn connect_direct(&mut self, now: Instant, peer: Ipv4Addr) {
        let Some(ike) = &mut self.ike else { return };
        if self.pairs.contains_key(&peer)
            || self.nhs.contains_key(&peer)
            || self.direct.contains_key(&peer)
        {
            return;
        }
        if self.direct.len() >= node::HELD_PEERS {
            self.node.peer_failed(peer);
            return;
        }
        match ike.connect(now, peer) {
            Ok(()) => {
                self.direct.insert(peer, now + RECONNECT);
                self.event(Event::IkeStarted { peer });
            }
            Err(error) => {
                self.node.peer_failed(peer);
                self.event(Event::IkeStartFailed { peer, error });
                self.event(Event::ShortcutPeerFailed { peer });
            }
        }
    }

    /// The last resolution entry through another spoke went (idle expiry, Purge, `clear ip nhrp
    /// shortcut`): as IOS removes the crypto socket with the NHRP entry, the spoke-to-spoke IKE
    /// and IPsec SAs are deleted, with Delete notifications to the other spoke. An NHS keeps
    /// its pair; an entry that comes back keys the peer again on demand.
    fn release_direct(&mut self, now: Instant, peer: Ipv4Addr) {
        let still_used = self.node.shortcuts().any(|s| s.nbma == peer);
        if still_used || self.nhs.contains_key(&peer) {
            return;
        }
        let keyed = self.pairs.contains_key(&peer) || self.direct.remove(&peer).is_some();
        if !keyed {
            return;
        }
        if let Some(ike) = &mut self.ike {
            ike.delete_peer(now, peer);
        }
        self.forget_pair(now, peer, false);
        self.node.peer_failed(peer);
        self.event(Event::ShortcutPeerDown { peer });
    }

    /// Gives up the spoke-to-spoke attempts with no pair by their deadline.
    fn give_up_direct(&mut self, now: Instant) {
        let late: Vec<Ipv4Addr> = (self.direct.iter())
            .filter(|(_, at)| **at <= now)
            .map(|(p, _)| *p)
            .collect();
        for peer in late {
            self.direct.remove(&peer);
            if let Some(ike) = &mut self.ike {
                ike.delete_peer(now, peer);
            }
            self.node.peer_failed(peer);
            self.event(Event::ShortcutPeerFailed { peer });
        }
    }

    /// A spoke (re)starts IKE with each NHS it has no pair with, once [`RECONNECT`] has passed
    /// since the last attempt.
    fn maintain(&mut self, now: Instant) {
        let Some(ike) = &mut self.ike else { return };
        let mut events = Vec::new();
        for (peer, state) in &mut self.nhs {
            if !state.due(now) {
                continue;
            }
            ike.delete_peer(now, *peer);
            match ike.connect(now, *peer) {
                Ok(()) => events.push(Event::IkeStarted { peer: *peer }),
                Err(error) => events.push(Event::IkeStartFailed { peer: *peer, error }),
            }
            if let NhsState::Keying { lost, .. } = *state {
                *state = NhsState::Keying {
                    attempt: Some(now),
                    retry_at: Some(now + RECONNECT),
                    lost,
                };
            }
        }
        for event in events {
            self.event(event);
        }
    }
}

node::sim::machine_by_methods!(impl[R: ike::Entropy] Router<R>, Event, |router| router.local);

/// An IKE datagram from `src:500` to `dst:500` with its checksum over the IPv4 pseudo-header
/// (RFC 768), or `None` if the message does not fit in one.
fn udp(src: Ipv4Addr, dst: Ipv4Addr, payload: &[u8]) -> Option<Vec<u8>> {
    let repr = udp::Repr {
        src_port: IKE_PORT,
        dst_port: IKE_PORT,
        checksum: 0,
        payload,
    };
    if repr.buffer_len() > usize::from(u16::MAX) {
        return None;
    }
    let mut out = alloc::vec![0; repr.buffer_len()];
    repr.emit(&mut udp::Packet::new_unchecked(&mut out[..]), src, dst);
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn udp_round_trip_and_checksum() {
        let (a, b) = (Ipv4Addr::new(192, 0, 2, 1), Ipv4Addr::new(192, 0, 2, 2));
        let datagram = udp(a, b, b"isakmp").unwrap();
        let parse_udp = |datagram: &[u8]| {
            let view = udp::Packet::new_checked(datagram).ok()?;
            Some((view.src_port(), view.dst_port(), view.payload().to_vec()))
        };
        assert_eq!(parse_udp(&datagram), Some((500, 500, b"isakmp".to_vec())));
        let mut sum = dmvpn_wire::checksum::Checksum::new();
        sum.add(&a.octets());
        sum.add(&b.octets());
        sum.add_u16(17);
        sum.add_u16(14);
        sum.add(&datagram);
        assert_eq!(sum.finish(), 0);
        assert_eq!(parse_udp(&datagram[..7]), None);
        let mut short = datagram.clone();
        short[5] = 40; // length beyond the datagram
        assert_eq!(parse_udp(&short), None);
        assert_eq!(udp(a, b, &alloc::vec![0; 65_528]), None);
    }
}
