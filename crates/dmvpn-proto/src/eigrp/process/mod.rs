//! One EIGRP process on one multipoint tunnel interface ([`Eigrp`]): neighbour discovery (the
//! [`Neighbors`] Hello protocol), the reliable transport, the topology table and DUAL (RFC 7868
//! §5).
//!
//! # Reliable transport (RFC 7868 §5.3)
//!
//! Updates, Queries, Replies, SIA-Queries and SIA-Replies carry a sequence number (one counter
//! for the process, starting at 1) and must be acknowledged; Hellos and acknowledgements (a
//! Hello with only the ack field set) do not.
//!
//! - **Per neighbour**, one packet is in flight at a time (EIGRP's window of one); the rest
//!   wait in the neighbour's queue (`Q Cnt` of `show ip eigrp neighbors`). An acknowledgement
//!   of the head's sequence number releases it and sends the next. Route changes for a
//!   neighbour with a packet in flight are held back and merged per prefix (the latest state
//!   wins), then packed together (up to 30 route TLVs a packet) when its queue drains: a burst
//!   of changes costs one packet per round trip, not one per change.
//! - **Acknowledgements** are piggybacked on the next reliable packet to that neighbour when one
//!   leaves in the same step (the ack field of its header), otherwise sent at once as a unicast
//!   Hello with only the ack field set, as IOS does. Duplicates are acknowledged again and not
//!   processed; out-of-order packets are dropped unacknowledged (the sender retransmits).
//! - **Retransmission**: after the RTO, IOS's `6 × SRTT` kept within 200 ms … 5 s (2 s before
//!   the first measurement, as IOS retransmits its INIT), the head goes again. SRTT is smoothed (0.8 old, 0.2 new) over
//!   acknowledgements of packets sent once (Karn's rule). After 16 retransmissions, and no earlier than the neighbour's
//!   hold time after the first transmission, the neighbour is reset: "retry limit exceeded".
//! - **INIT**: a new neighbour (first Hello) gets an empty Update with the INIT flag. Its own
//!   INIT Update sets where its sequence numbers start; packets before it are ignored. Once
//!   *our* INIT is acknowledged the neighbour gets the whole table as Updates, the last with the
//!   EOT flag (an empty EOT Update when there is nothing to advertise). An INIT from an
//!   established neighbour means it restarted: it is reset ("peer restarted") and comes back
//!   with its next Hello.
//! - **Unicast, not multicast.** IOS multicasts Updates and Queries on the tunnel (NHRP
//!   replicates them to every spoke) and falls back to unicast for slow neighbours using the
//!   Conditional Receive mode (a Hello with a Sequence TLV naming the laggards and a Next
//!   Multicast Sequence TLV, then the CR-flagged multicast). On a DMVPN hub NHRP's replication
//!   turns every multicast into one unicast GRE packet per spoke anyway, so this machine sends
//!   every reliable packet unicast to each neighbour: the same packets on the wire, no CR
//!   bookkeeping, and a lost packet costs one retransmission to one spoke. **Receiving** the
//!   multicast form is supported: a CR-flagged packet is taken only after a Hello whose
//!   Sequence TLV does not list this router and whose Next Multicast Sequence TLV names it.
//!
//! # DUAL (RFC 7868 §5.1, §5.2)
//!
//! Each prefix keeps every neighbour's reported metric vector. The distance through a neighbour
//! is the composite metric ([`dmvpn_eigrp::metric::classic`], the configured K values) of the
//! reported vector with the tunnel added ([`Link::add_to`]); the reported distance (RD) is the
//! composite of the vector as received. The feasible distance (FD) is the least distance since
//! the route last went passive. A path is a feasible successor when its RD is below the FD;
//! the successor is the feasible path of least distance (ties: lower neighbour address). A
//! prefix of this router ([`Eigrp::add_connected`], or [`Eigrp::add_external`] for a
//! redistributed one) is always its own successor.
//!
//! Internal routes travel in IPv4 Internal TLVs (0x0102), redistributed ones in IPv4 External
//! TLVs (0x0103) carrying the originating router ID, protocol and tag unchanged across the
//! cloud; an external route whose originating router is this router's ID is dropped on receipt.
//!
//! When the successor is lost or gets worse and no feasible successor remains, the route goes
//! **active**: a Query with the current distance (usually unreachable) goes to every neighbour
//! split horizon allows (none for a route learned over the tunnel while `ip split-horizon eigrp`
//! is on: the tunnel is the only interface) and to no stub, and the route waits for every Reply.
//! With no one to ask it goes passive at once. When the last Reply is in, the best path of all
//! becomes the successor with a fresh FD, or the route is withdrawn, and a Reply goes to the
//! neighbour whose Query started it. Queries while passive are answered at once with this
//! router's distance (after recomputing). A neighbour going down counts as an unreachable Reply.
//!
//! **Stuck in active**: half the active time (IOS `timers active-time` 3 min, so 90 s) after
//! going active, each neighbour still owing a Reply gets an SIA-Query; an SIA-Reply (the
//! neighbour is itself still waiting) restarts its clock; one that does not answer the
//! SIA-Query by the next round is reset ("stuck in active"), counting as an unreachable Reply.
//! After three SIA rounds the remaining neighbours are reset.
//!
//! # Split horizon and next hop (IOS interface knobs)
//!
//! - `ip split-horizon eigrp` (the default, [`EigrpConfig::split_horizon`]): nothing learned
//!   over the tunnel is advertised or queried back out of it, and Replies for such routes are
//!   poisoned. On a DMVPN hub the spokes then learn only the hub's own prefixes, not each other's.
//!   `no ip split-horizon eigrp` re-advertises spoke routes to all spokes.
//! - `ip next-hop-self eigrp` (the default, [`EigrpConfig::next_hop_self`]): routes go out with
//!   next hop 0.0.0.0 (= this router). With `no ip next-hop-self eigrp` a route learned from a
//!   neighbour goes out with that neighbour's address (or the next hop it advertised) in the
//!   route TLV's next-hop field, and a router receiving such a route installs it with that
//!   next hop (DMVPN Phase 2: spoke-to-spoke traffic goes direct).
//! - A stub router (`eigrp stub connected`, [`HelloConfig::stub`]) advertises only its connected
//!   prefixes, and is never queried.
//!
//! # Not here
//!
//! Wide metrics (named mode) and the 0x06xx multi-protocol TLVs are not sent, and received ones
//! are ignored (the Software Version TLV says TLV version 1.2, so an IOS named-mode neighbour
//! sends classic TLVs); so are IPv6 routes. Paths are chosen by composite metric alone (IOS
//! also prefers internal over external paths to one prefix). One RIB next hop per prefix
//! (equal-cost successors are listed in the topology but only the first is installed). No
//! summarisation, no distribute lists, no poison reverse beyond withdrawing what a neighbour was
//! told, no graceful restart (the RS flag). The connected prefix of the tunnel itself is not
//! special: IOS's split horizon keeps it off the tunnel, so callers should not add it.

mod dual;
mod limit;
mod packing;
mod reliable;

use alloc::collections::{BTreeMap, BTreeSet, VecDeque};
use alloc::vec::Vec;
use core::net::Ipv4Addr;

use dmvpn_eigrp::consts::{ExternalProtocol, ROUTE_FLAG_CANDIDATE_DEFAULT};
use dmvpn_eigrp::metric;
use dmvpn_eigrp::tlv::{ClassicMetric, ExternalData};
use dmvpn_eigrp::{self as eigrp, Flags, OpCode};

use super::neighbor::{self, DownReason, Error, HelloConfig, Neighbors, Transmit};
use super::small_map::SmallMap;
use super::topology::{Link, NeighborInfo, PathInfo, Prefix, RouteState, TopologyRoute, Via};
use crate::limits::{EigrpLimits, Tally};
use crate::time::{Duration, Instant};
use crate::timer::TimerTable;

/// The configuration of an EIGRP process on the tunnel.
#[derive(Clone, Debug, Eq, PartialEq)]
pub struct EigrpConfig {
    /// The Hello protocol: address, AS, K values, timers, stub, authentication.
    pub hello: HelloConfig,
    /// The tunnel interface's bandwidth, delay and MTU, added to every route learned over it.
    pub tunnel: Link,
    /// `ip split-horizon eigrp` (default on).
    pub split_horizon: bool,
    /// `ip next-hop-self eigrp` (default on).
    pub next_hop_self: bool,
    /// `timers active-time` (default 3 min).
    pub active_time: Duration,
    /// `metric maximum-hops` (default 100): routes with more hops are unreachable.
    pub max_hops: u8,
    /// `eigrp router-id`: the originating router of external routes this router redistributes,
    /// and the ID whose external routes it refuses as its own. Default: the tunnel address.
    pub router_id: Ipv4Addr,
    /// Neighbours and routes taken (`maximum-prefix`; see [`crate::limits`]).
    pub limits: EigrpLimits,
}

impl EigrpConfig {
    /// IOS's defaults for a tunnel address in `autonomous_system`.
    #[must_use]
    pub const fn new(address: Ipv4Addr, autonomous_system: u16) -> Self {
        Self {
            hello: HelloConfig::new(address, autonomous_system),
            tunnel: Link::TUNNEL,
            split_horizon: true,
            next_hop_self: true,
            active_time: Duration::from_secs(180),
            max_hops: 100,
            router_id: address,
            limits: EigrpLimits::DEFAULT,
        }
    }
}

/// What the caller acts on.
#[derive(Clone, Copy, Debug, Eq, PartialEq)]
#[non_exhaustive]
pub enum EigrpEvent {
    /// A neighbour came up or went down, or its Hello was refused (the Hello protocol's
    /// [`Event`](neighbor::Event)); a neighbour that went down has had its routes withdrawn (or
    /// queried for).
    Neighbor(neighbor::Event),
    /// Install this route in the RIB (it was not there).
    RouteInstalled {
        /// The destination.
        prefix: Prefix,
        /// The next hop on the tunnel.
        next_hop: Ipv4Addr,
        /// The composite metric.
        metric: u32,
    },
    /// The route's next hop or metric changed.
    RouteChanged {
        /// The destination.
        prefix: Prefix,
        /// The new next hop.
        next_hop: Ipv4Addr,
        /// The new composite metric.
        metric: u32,
    },
    /// Remove the route from the RIB.
    RouteWithdrawn {
        /// The destination.
        prefix: Prefix,
    },
    /// `%DUAL-3-SIA: Route … stuck-in-active state`: `neighbor` did not answer the SIA-Query
    /// for `prefix` and is reset next ([`DownReason::StuckInActive`]).
    StuckInActive {
        /// The active route.
        prefix: Prefix,
        /// The neighbour that never replied.
        neighbor: Ipv4Addr,
    },
}

impl EigrpEvent {
    /// The RIB change a route event asks for: the prefix with its new next hop and composite
    /// metric, or with `None` to remove it; `None` for the other events.
    ///
    /// ```
    /// use std::net::Ipv4Addr;
    /// use dmvpn_proto::eigrp::{EigrpEvent, Prefix};
    ///
    /// let prefix: Prefix = "10.0.1.0/24".parse().unwrap();
    /// let next_hop = Ipv4Addr::new(172, 16, 1, 1);
    /// let event = EigrpEvent::RouteChanged { prefix, next_hop, metric: 26_880_256 };
    /// assert_eq!(event.route_change(), Some((prefix, Some((next_hop, 26_880_256)))));
    /// assert_eq!(event.to_string(), "D 10.0.1.0/24 [90/26880256] via 172.16.1.1, Tunnel0");
    /// let withdrawn = EigrpEvent::RouteWithdrawn { prefix };
    /// assert_eq!(withdrawn.route_change(), Some((prefix, None)));
    /// assert_eq!(withdrawn.to_string(), "D 10.0.1.0/24 withdrawn");
    /// ```
    #[must_use]
    pub const fn route_change(&self) -> Option<(Prefix, Option<(Ipv4Addr, u32)>)> {
        match *self {
            Self::RouteInstalled {
                prefix,
                next_hop,
                metric,
            }
            | Self::RouteChanged {
                prefix,
                next_hop,
                metric,
            } => Some((prefix, Some((next_hop, metric)))),
            Self::RouteWithdrawn { prefix } => Some((prefix, None)),
            _ => None,
        }
    }

    /// Applies a route event to `rib`, a copy of the routing table (prefix to next hop and
    /// composite metric) kept from these events, and says whether `rib` agreed with it: an
    /// installed route was not there, a changed or withdrawn one was. Other events leave `rib`
    /// alone and agree.
    ///
    /// ```
    /// use std::collections::BTreeMap;
    /// use std::net::Ipv4Addr;
    /// use dmvpn_proto::eigrp::{EigrpEvent, Prefix};
    ///
    /// let (prefix, next_hop) = ("10.0.1.0/24".parse().unwrap(), Ipv4Addr::new(172, 16, 1, 1));
    /// let mut rib = BTreeMap::new();
    /// assert!(EigrpEvent::RouteInstalled { prefix, next_hop, metric: 2 }.apply(&mut rib));
    /// assert_eq!(rib[&prefix], (next_hop, 2));
    /// assert!(!EigrpEvent::RouteInstalled { prefix, next_hop, metric: 3 }.apply(&mut rib));
    /// assert!(EigrpEvent::RouteWithdrawn { prefix }.apply(&mut rib));
    /// assert!(rib.is_empty());
    /// ```
    pub fn apply(&self, rib: &mut BTreeMap<Prefix, (Ipv4Addr, u32)>) -> bool {
        let Some((prefix, route)) = self.route_change() else {
            return true;
        };
        let old = match route {
            Some(route) => rib.insert(prefix, route),
            None => rib.remove(&prefix),
        };
        old.is_none() == matches!(self, Self::RouteInstalled { .. })
    }
}

/// IOS's log lines (without the `%DUAL-n-…` tag and process number), e.g. `Neighbor
/// 172.16.1.2 (Tunnel0) is down: holding time expired`.
impl core::fmt::Display for EigrpEvent {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        if let Some((prefix, route)) = self.route_change() {
            return match route {
                Some((next_hop, metric)) => {
                    write!(f, "D {prefix} [90/{metric}] via {next_hop}, Tunnel0")
                }
                None => write!(f, "D {prefix} withdrawn"),
            };
        }
        match self {
            Self::Neighbor(event) => event.fmt(f),
            Self::StuckInActive { prefix, neighbor } => write!(
                f,
                "Route {prefix} stuck-in-active state: no reply from {neighbor}. Cleaning up"
            ),
            // Written above, from their route change.
            Self::RouteInstalled { .. }
            | Self::RouteChanged { .. }
            | Self::RouteWithdrawn { .. } => Ok(()),
        }
    }
}

const INFINITY: u32 = u32::MAX;
/// IOS's retransmission limit.
const RETRY_LIMIT: u32 = 16;
const RTO_MIN: Duration = Duration::from_millis(200);
const RTO_MAX: Duration = Duration::from_secs(5);
/// The RTO before the first round-trip measurement: IOS 12.4 retransmits its INIT Update 2 s
/// after the first (packetlife `EIGRP_adjacency.cap` frames 12–13), as FRR does.
const RTO_INITIAL: Duration = Duration::from_secs(2);
/// Route TLVs per packet: 30 × 29 bytes keeps a packet under the DMVPN tunnel MTU of 1400.
const ROUTES_PER_PACKET: usize = 30;
/// SIA-Query rounds before the remaining neighbours are reset.
const SIA_ROUNDS: u8 = 3;

const UNREACHABLE: ClassicMetric = ClassicMetric {
    delay: ClassicMetric::UNREACHABLE,
    bandwidth: 0,
    mtu: 0,
    hop_count: 0,
    reliability: 0,
    load: 0,
    tag: 0,
    flags: 0,
};

#[derive(Clone, Copy, Debug, Eq, Ord, PartialEq, PartialOrd)]
enum Timer {
    Retransmit(Ipv4Addr),
    Active(Prefix),
}

/// What a route TLV says: the metric vector and the next-hop field.
#[derive(Clone, Copy, Debug, Eq, PartialEq)]
struct Advert {
    metric: ClassicMetric,
    next_hop: Ipv4Addr,
    /// The external data of a redistributed route (an IPv4 External TLV, 0x0103).
    external: Option<ExternalData>,
}

impl Advert {
    const UNREACHABLE: Self = Self {
        metric: UNREACHABLE,
        next_hop: Ipv4Addr::UNSPECIFIED,
        external: None,
    };
}

/// The kinds of reliable packet, in the order they leave in one step.
#[derive(Clone, Copy, Debug, Eq, Ord, PartialEq, PartialOrd)]
enum Kind {
    Update,
    Query,
    Reply,
    SiaQuery,
    SiaReply,
}

impl Kind {
    const fn opcode(self) -> OpCode {
        match self {
            Self::Update => OpCode::UPDATE,
            Self::Query => OpCode::QUERY,
            Self::Reply => OpCode::REPLY,
            Self::SiaQuery => OpCode::SIA_QUERY,
            Self::SiaReply => OpCode::SIA_REPLY,
        }
    }
}

/// A reliable packet waiting for (or being) sent: everything but the ack field.
#[derive(Clone, Debug)]
struct Reliable {
    sequence: u32,
    opcode: OpCode,
    flags: Flags,
    tlvs: Vec<u8>,
}

#[derive(Clone, Debug)]
struct Peer {
    /// Its INIT Update arrived: its sequence numbers are known.
    init_received: bool,
    /// Our INIT Update was acknowledged: it takes our routes.
    init_acked: bool,
    /// The last sequence number taken from it (0: none).
    received: u32,
    /// An acknowledgement of `received` is owed.
    ack_owed: bool,
    /// The CR-flagged multicast sequence number it announced for us.
    cr_sequence: Option<u32>,
    queue: VecDeque<Reliable>,
    /// The head of `queue` is on the wire.
    in_flight: bool,
    retries: u32,
    first_sent: Instant,
    last_sent: Instant,
    srtt: Duration,
    rto: Duration,
    /// Route TLVs to send, by kind; merged per prefix until the step ends.
    outgoing: BTreeMap<(Kind, Prefix), Advert>,
    /// The startup table has been queued; the last of it gets EOT.
    eot_pending: bool,
}

impl Peer {
    fn new(now: Instant) -> Self {
        Self {
            init_received: false,
            init_acked: false,
            received: 0,
            ack_owed: false,
            cr_sequence: None,
            queue: VecDeque::new(),
            in_flight: false,
            retries: 0,
            first_sent: now,
            last_sent: now,
            srtt: Duration::ZERO,
            rto: RTO_INITIAL,
            outgoing: BTreeMap::new(),
            eot_pending: false,
        }
    }
}

#[derive(Clone, Copy, Debug)]
struct Path {
    total: ClassicMetric,
    next_hop: Ipv4Addr,
    distance: u32,
    rd: u32,
    external: Option<ExternalData>,
}

/// A prefix this router originates.
#[derive(Clone, Copy, Debug)]
struct Local {
    metric: ClassicMetric,
    distance: u32,
    external: Option<ExternalData>,
}

/// A path chosen as successor.
#[derive(Clone, Copy, Debug, PartialEq)]
struct Choice {
    via: Via,
    distance: u32,
    metric: ClassicMetric,
    next_hop: Ipv4Addr,
    external: Option<ExternalData>,
}

#[derive(Clone, Debug)]
struct Active {
    /// The neighbour whose Query made the route active (owed a Reply), if any.
    origin: Option<Ipv4Addr>,
    replies: BTreeSet<Ipv4Addr>,
    sia_sent: BTreeSet<Ipv4Addr>,
    sia_rounds: u8,
}

#[derive(Clone, Debug)]
struct Entry {
    /// This router's own prefix (connected or redistributed).
    connected: Option<Local>,
    paths: SmallMap<Ipv4Addr, Path>,
    fd: u32,
    successor: Option<Via>,
    /// Our distance and vector (through the successor; unreachable without one).
    distance: u32,
    metric: ClassicMetric,
    next_hop: Ipv4Addr,
    external: Option<ExternalData>,
    active: Option<Active>,
    /// What each neighbour was last told (reachable adverts only).
    told: SmallMap<Ipv4Addr, Advert>,
    /// What the RIB has: next hop and metric.
    installed: Option<(Ipv4Addr, u32)>,
}

impl Entry {
    fn new() -> Self {
        Self {
            connected: None,
            paths: SmallMap::new(),
            fd: INFINITY,
            successor: None,
            distance: INFINITY,
            metric: UNREACHABLE,
            next_hop: Ipv4Addr::UNSPECIFIED,
            external: None,
            active: None,
            told: SmallMap::new(),
            installed: None,
        }
    }

    fn is_empty(&self) -> bool {
        self.connected.is_none()
            && self.paths.is_empty()
            && self.active.is_none()
            && self.told.is_empty()
            && self.installed.is_none()
    }

    /// The best path: connected first, then the least distance (lowest address on ties),
    /// among those with an RD below `fd` when `feasible` is asked for.
    fn best(&self, fd: Option<u32>) -> Option<Choice> {
        if let Some(local) = self.connected {
            return Some(Choice {
                via: Via::Connected,
                distance: local.distance,
                metric: local.metric,
                next_hop: Ipv4Addr::UNSPECIFIED,
                external: local.external,
            });
        }
        self.paths
            .iter()
            .filter(|(_, p)| p.distance != INFINITY && fd.is_none_or(|fd| p.rd < fd))
            .min_by_key(|(addr, p)| (p.distance, **addr))
            .map(|(addr, p)| Self::choice(*addr, p))
    }

    fn choice(address: Ipv4Addr, p: &Path) -> Choice {
        Choice {
            via: Via::Neighbor(address),
            distance: p.distance,
            metric: p.total,
            next_hop: p.next_hop,
            external: p.external,
        }
    }
}

/// One EIGRP process on the tunnel interface. See the [module docs](self) for the protocol.
#[derive(Debug)]
pub struct Eigrp {
    config: EigrpConfig,
    hello: Neighbors,
    peers: BTreeMap<Ipv4Addr, Peer>,
    topology: BTreeMap<Prefix, Entry>,
    timers: TimerTable<Timer>,
    next_sequence: u32,
    dirty: BTreeSet<Prefix>,
    transmits: VecDeque<Transmit>,
    events: VecDeque<EigrpEvent>,
    shut_down: bool,
    /// Paths held per neighbour, and in all (see `limit.rs`).
    prefixes: BTreeMap<Ipv4Addr, usize>,
    paths_total: usize,
    /// `maximum-prefix`'s warning threshold was passed (logged once until back under it).
    over_threshold: bool,
    tally: Tally,
}

impl Eigrp {
    /// Starts the process: the first Hello goes out now.
    #[must_use]
    pub fn new(config: EigrpConfig, now: Instant) -> Self {
        let hello = Neighbors::new(config.hello.clone(), now);
        let mut eigrp = Self {
            config,
            hello,
            peers: BTreeMap::new(),
            topology: BTreeMap::new(),
            timers: TimerTable::new(),
            next_sequence: 1,
            dirty: BTreeSet::new(),
            transmits: VecDeque::new(),
            events: VecDeque::new(),
            shut_down: false,
            prefixes: BTreeMap::new(),
            paths_total: 0,
            over_threshold: false,
            tally: Tally::default(),
        };
        eigrp.sync_hello(now);
        eigrp
    }

    /// Starts the sequence numbers at `first` instead of 1 (0 is taken as 1): a restarted
    /// router can begin where a neighbour will not take it for a duplicate, and a replay can
    /// match a recording. Call it before the first packet comes in.
    #[must_use]
    pub const fn with_first_sequence(mut self, first: u32) -> Self {
        self.next_sequence = if first == 0 { 1 } else { first };
        self
    }

    /// The configuration.
    #[must_use]
    pub fn config(&self) -> &EigrpConfig {
        &self.config
    }

    /// The Hello protocol's neighbour table (`show ip eigrp neighbors` without the transport
    /// columns; see [`Eigrp::neighbors`] for those).
    #[must_use]
    pub fn hello(&self) -> &Neighbors {
        &self.hello
    }

    /// Originates `prefix` as an internal route (a `network` statement covering an interface of
    /// this router) with the metric of `link`.
    pub fn add_connected(&mut self, now: Instant, prefix: Prefix, link: Link) {
        self.originate(now, prefix, link, None);
    }

    /// Originates `prefix` as an external route (`redistribute static` or another protocol,
    /// `default-metric` given by `link`): sent in IPv4 External TLVs (0x0103) with this
    /// router's ID ([`EigrpConfig::router_id`]) as the originating router, the protocol, and
    /// `tag`. A router receiving an external route with its own router ID drops it (RFC 7868
    /// §6.8.4; IOS's loop check).
    pub fn add_external(
        &mut self,
        now: Instant,
        prefix: Prefix,
        link: Link,
        protocol: ExternalProtocol,
        tag: u32,
    ) {
        let data = ExternalData {
            origin_router: self.config.router_id.to_bits(),
            origin_as: 0,
            tag,
            external_metric: 0,
            reserved: 0,
            protocol,
            flags: if prefix.is_default() {
                ROUTE_FLAG_CANDIDATE_DEFAULT
            } else {
                0
            },
        };
        self.originate(now, prefix, link, Some(data));
    }

    fn originate(
        &mut self,
        now: Instant,
        prefix: Prefix,
        link: Link,
        external: Option<ExternalData>,
    ) {
        let metric = link.connected_metric();
        let distance = metric::classic_of(&self.config.hello.k, &metric);
        let entry = self.topology.entry(prefix).or_insert_with(Entry::new);
        entry.connected = Some(Local {
            metric,
            distance,
            external,
        });
        self.evaluate(now, prefix, None);
        self.flush(now);
    }

    /// Stops originating `prefix` (from [`Eigrp::add_connected`] or [`Eigrp::add_external`]; the
    /// interface went down): DUAL looks for another path.
    pub fn remove_connected(&mut self, now: Instant, prefix: Prefix) {
        if let Some(entry) = self.topology.get_mut(&prefix) {
            entry.connected = None;
            self.evaluate(now, prefix, None);
            self.flush(now);
        }
    }

    /// Handles an EIGRP packet from `from` (its IPv4 source, a tunnel address).
    ///
    /// # Errors
    /// The packet was ignored: see [`Error`].
    pub fn handle_packet(
        &mut self,
        now: Instant,
        from: Ipv4Addr,
        msg: &eigrp::Repr<'_>,
    ) -> Result<(), Error> {
        if self.shut_down {
            return Ok(());
        }
        if msg.opcode == OpCode::HELLO && !self.admit_neighbor(now, from) {
            return Ok(());
        }
        let result = self.hello.handle_message(now, from, msg);
        self.sync_hello(now);
        result?;
        if self.peers.contains_key(&from) {
            if msg.ack != 0 {
                self.acknowledged(now, from, msg.ack);
            }
            if msg.opcode == OpCode::HELLO {
                self.conditional_receive(from, msg);
            } else if msg.sequence != 0 && self.accept(now, from, msg) {
                self.dispatch(now, from, msg);
            }
        }
        self.flush(now);
        Ok(())
    }

    /// Runs the timers due at `now`: Hellos, hold timers, retransmissions, the active timer.
    pub fn handle_timeout(&mut self, now: Instant) {
        if self.shut_down {
            return;
        }
        self.hello.handle_timeout(now);
        self.sync_hello(now);
        while let Some((timer, _)) = self.timers.pop_expired(now) {
            match timer {
                Timer::Retransmit(address) => self.retransmit(now, address),
                Timer::Active(prefix) => self.active_timer(now, prefix),
            }
        }
        self.flush(now);
    }

    /// Sends the goodbye (a Hello with K1–K5 = 255), drops every neighbour (withdrawing their
    /// routes) and stops.
    pub fn shutdown(&mut self, now: Instant) {
        self.hello.shutdown();
        self.sync_hello(now);
        self.shut_down = true;
        self.timers = TimerTable::new();
    }

    /// When [`Eigrp::handle_timeout`] must run next.
    #[must_use]
    pub fn poll_timeout(&self) -> Option<Instant> {
        match (self.hello.poll_timeout(), self.timers.next()) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        }
    }

    /// The next packet to send: Hellos to 224.0.0.10 (replicate them to every NBMA address of
    /// the NHRP multicast map), everything else unicast to a neighbour.
    #[must_use]
    pub fn poll_transmit(&mut self) -> Option<Transmit> {
        self.transmits.pop_front()
    }

    /// The next event.
    #[must_use]
    pub fn poll_event(&mut self) -> Option<EigrpEvent> {
        self.events.pop_front()
    }

    /// `show ip eigrp neighbors`, by address.
    pub fn neighbors(&self, now: Instant) -> impl Iterator<Item = NeighborInfo> + '_ {
        self.hello.iter().map(move |n| {
            let peer = self.peers.get(&n.address);
            NeighborInfo {
                address: n.address,
                hold: now.until(n.expires_at),
                uptime: now - n.up_since,
                srtt: peer.map_or(Duration::ZERO, |p| p.srtt),
                rto: peer.map_or(RTO_INITIAL, |p| p.rto),
                queue: peer.map_or(0, |p| p.queue.len()),
                sequence: peer.map_or(0, |p| p.received),
                established: peer.is_some_and(|p| p.init_acked && p.init_received),
            }
        })
    }

    /// `show ip eigrp topology all-links`, by prefix.
    pub fn topology(&self) -> impl Iterator<Item = TopologyRoute> + '_ {
        self.topology
            .iter()
            .filter(|(_, e)| e.connected.is_some() || !e.paths.is_empty() || e.active.is_some())
            .map(|(prefix, e)| self.view(*prefix, e))
    }

    /// The topology entry of `prefix`.
    #[must_use]
    pub fn route(&self, prefix: Prefix) -> Option<TopologyRoute> {
        self.topology.get(&prefix).map(|e| self.view(prefix, e))
    }

    /// What the RIB should hold: prefix, next hop and metric of every route learned from a
    /// neighbour and installed (`show ip route eigrp`).
    pub fn routes(&self) -> impl Iterator<Item = (Prefix, Ipv4Addr, u32)> + '_ {
        self.topology
            .iter()
            .filter_map(|(p, e)| e.installed.map(|(nh, m)| (*p, nh, m)))
    }

    fn view(&self, prefix: Prefix, e: &Entry) -> TopologyRoute {
        let mut route = TopologyRoute {
            prefix,
            state: match e.active {
                Some(_) => RouteState::Active,
                None => RouteState::Passive,
            },
            feasible_distance: e.fd,
            external: e.external,
            successors: Vec::new(),
            feasible_successors: Vec::new(),
            others: Vec::new(),
            replies_outstanding: e
                .active
                .as_ref()
                .map(|a| a.replies.iter().copied().collect())
                .unwrap_or_default(),
        };
        if e.connected.is_some() {
            route.successors.push(PathInfo {
                via: Via::Connected,
                next_hop: Ipv4Addr::UNSPECIFIED,
                distance: e.distance,
                reported_distance: 0,
            });
        }
        for (addr, p) in &e.paths {
            let info = PathInfo {
                via: Via::Neighbor(*addr),
                next_hop: p.next_hop,
                distance: p.distance,
                reported_distance: p.rd,
            };
            let is_successor = e.active.is_none()
                && e.connected.is_none()
                && matches!(e.successor, Some(Via::Neighbor(_)))
                && p.distance == e.distance
                && (p.rd < e.fd || e.successor == Some(Via::Neighbor(*addr)));
            if is_successor && Some(Via::Neighbor(*addr)) == e.successor {
                route.successors.insert(0, info);
            } else if is_successor {
                route.successors.push(info);
            } else if p.rd < e.fd && p.distance != INFINITY {
                route.feasible_successors.push(info);
            } else {
                route.others.push(info);
            }
        }
        route
    }

    // ---- neighbours -------------------------------------------------------------------------

    /// Takes the Hello protocol's events: new neighbours get an INIT Update, lost ones lose
    /// their routes.
    fn sync_hello(&mut self, now: Instant) {
        while let Some(event) = self.hello.poll_event() {
            match event {
                neighbor::Event::NeighborUp { address, .. } => {
                    let mut peer = Peer::new(now);
                    let sequence = self.take_sequence();
                    peer.queue.push_back(Reliable {
                        sequence,
                        opcode: OpCode::UPDATE,
                        flags: Flags::INIT,
                        tlvs: Vec::new(),
                    });
                    self.peers.insert(address, peer);
                }
                neighbor::Event::NeighborDown { address, .. } => self.peer_down(now, address),
                neighbor::Event::KValueMismatch { .. } => {}
            }
            self.events.push_back(EigrpEvent::Neighbor(event));
        }
        while let Some(t) = self.hello.poll_transmit() {
            self.transmits.push_back(t);
        }
    }

    fn reset(&mut self, now: Instant, address: Ipv4Addr, reason: DownReason) {
        self.hello.reset(address, reason);
        self.sync_hello(now);
    }

    fn peer_down(&mut self, now: Instant, address: Ipv4Addr) {
        if self.peers.remove(&address).is_none() {
            return;
        }
        self.forget_paths(address);
        self.timers.stop(Timer::Retransmit(address));
        let prefixes: Vec<Prefix> = self.topology.keys().copied().collect();
        for prefix in prefixes {
            let Some(entry) = self.topology.get_mut(&prefix) else {
                continue;
            };
            entry.told.remove(&address);
            let had_path = entry.paths.remove(&address).is_some();
            match &mut entry.active {
                Some(active) => {
                    if active.origin == Some(address) {
                        active.origin = None;
                    }
                    active.sia_sent.remove(&address);
                    if active.replies.remove(&address) && active.replies.is_empty() {
                        self.go_passive(now, prefix);
                    }
                }
                None if had_path => self.evaluate(now, prefix, None),
                None => {}
            }
        }
    }

    fn take_sequence(&mut self) -> u32 {
        let sequence = self.next_sequence;
        self.next_sequence = match sequence.wrapping_add(1) {
            0 => 1,
            n => n,
        };
        sequence
    }
}
