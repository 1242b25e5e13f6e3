//! `dmvpn-router simulate`: a DMVPN cloud from its configurations, with no routers. Each
//! configuration becomes the router `dmvpn-router run` would run (the same mapping,
//! [`crate::node::configs`]: the node and IKE of [`dmvpn_proto::router::Router`]), and all of
//! them run on the simulated NBMA network of [`dmvpn_proto::node::sim`] in virtual time.
//!
//! - **The NBMA network** is the configurations': a router reaches an NBMA address in one of
//!   its own (non-tunnel) subnets or through one of its underlay routes (a spoke's
//!   `ip route 0.0.0.0 0.0.0.0 <ISP>`); beyond that an ideal internet carries everything, with
//!   10 ms of latency per hop. `--nat R=ADDR` puts a router behind a one-to-one NAT.
//! - **What is reported** ([`Report`]): each router's `show` output (the live router's
//!   renderers) at the end or `--at`; a timeline of what matters (IKE and IPsec SAs, NHRP
//!   registrations, EIGRP adjacencies, routes learnt, refusals) and when the cloud converged;
//!   a reachability matrix (a probe from each LAN or loopback prefix to each other, injected at
//!   its router's tunnel interface, delivered or not, with the path its routes take); the
//!   findings of [`config::cloud::check`](crate::config::cloud::check) and those the run shows,
//!   with the IDs `dmvpn sessions` gives the same faults.
//! - **What if** ([`WhatIf`]): a router fails or restarts, the network between two routers is
//!   cut for a while, a router gets a new configuration (it reloads with it); each is reported
//!   with what broke, for how long, and what brought it back ([`Disruption`]).
//! - **The capture** ([`Capture`]): every NBMA packet and every key, for `--pcap` and
//!   `--key-log` ([`capture`]).
//!
//! The same seed gives the same run.

pub mod capture;
mod findings;
pub mod options;
mod probe;
mod report;

use std::collections::{BTreeMap, BTreeSet};
use std::net::Ipv4Addr;

use dmvpn_ip::Prefix;
use dmvpn_proto::eigrp::EigrpEvent;
use dmvpn_proto::ike::{self, TestEntropy};
use dmvpn_proto::nhrp::{ClientEvent, ServerEvent};
use dmvpn_proto::node::sim::{Cloud, Tapped, XorShift};
use dmvpn_proto::node::{self, Node};
use dmvpn_proto::router::{Event, Router};
use dmvpn_proto::{Duration, Instant};

use crate::config::cloud::Member;
use crate::config::{Config, Role};
use crate::node::NodeError;

pub use capture::KeyLog;
pub use report::{TEXT_TIMELINE, span};

type Machine = Router<TestEntropy>;

/// The `show` commands each router's report has, in IOS's words.
pub const SHOW_COMMANDS: [&str; 8] = [
    "show dmvpn",
    "show ip nhrp",
    "show ip nhrp nhs",
    "show crypto isakmp sa",
    "show crypto ipsec sa",
    "show ip eigrp neighbors",
    "show ip route",
    "show counters",
];

/// How long probes have to arrive.
const PROBE_TIME: Duration = Duration::from_secs(2);

/// Above this many prefixes the matrix is sampled (each prefix to its hub's and to the next
/// router's) rather than all pairs.
pub const FULL_MATRIX_PREFIXES: usize = 64;

/// The cloud runs in slices of at most this much virtual time, and what the routers reported
/// is taken after each (so memory does not grow with the run's length).
const SLICE: Duration = Duration::from_secs(5);

/// The RFC 2332 §5.2.7 Error Indication code of an authentication failure.
const NHRP_AUTHENTICATION_FAILURE: u16 = 11;

/// A change to the cloud during the run.
#[derive(Clone, Debug)]
pub enum WhatIf {
    /// The router stops (powered off): nothing it had survives, and packets to it are lost.
    Fail {
        /// Its name.
        router: String,
        /// When.
        at: Duration,
    },
    /// The router reboots (at once, with its configuration and nothing else).
    Restart {
        /// Its name.
        router: String,
        /// When.
        at: Duration,
    },
    /// The network between two routers loses everything from `from` to `until`.
    Partition {
        /// One router.
        a: String,
        /// The other.
        b: String,
        /// When the cut starts.
        from: Duration,
        /// When it heals.
        until: Duration,
    },
    /// The router reloads with another configuration (same NBMA address).
    Change {
        /// Its name.
        router: String,
        /// The new configuration.
        config: Box<Member>,
        /// When.
        at: Duration,
    },
}

impl WhatIf {
    /// When it starts.
    #[must_use]
    pub const fn at(&self) -> Duration {
        match self {
            Self::Fail { at, .. } | Self::Restart { at, .. } | Self::Change { at, .. } => *at,
            Self::Partition { from, .. } => *from,
        }
    }

    fn describe(&self) -> String {
        match self {
            Self::Fail { router, .. } => format!("{router} fails"),
            Self::Restart { router, .. } => format!("{router} restarts"),
            Self::Partition { a, b, from, until } => format!(
                "the network between {a} and {b} is cut for {}",
                span(*until - *from)
            ),
            Self::Change { router, config, .. } => {
                format!("{router} reloads with {}", config.name)
            }
        }
    }
}

/// What to simulate.
#[derive(Clone, Debug)]
pub struct Scenario {
    /// The routers (hub and spokes, in any order).
    pub routers: Vec<Member>,
    /// How long to run.
    pub duration: Duration,
    /// The seed of every random choice (SPIs, cookies, loss).
    pub seed: u64,
    /// When to take the `show` output and the reachability matrix (default: the end).
    pub at: Option<Duration>,
    /// Percentage of packets each NBMA hop loses.
    pub loss: u32,
    /// Routers behind a one-to-one NAT, with its outside address.
    pub nat: Vec<(String, Ipv4Addr)>,
    /// The changes during the run.
    pub what_ifs: Vec<WhatIf>,
    /// Keep every packet and key for a capture ([`Outcome::capture`]).
    pub capture: bool,
}

impl Scenario {
    /// A scenario of `routers`, 10 minutes, seed 1, nothing else.
    #[must_use]
    pub fn new(routers: Vec<Member>) -> Self {
        Self {
            routers,
            duration: Duration::from_secs(600),
            seed: 1,
            at: None,
            loss: 0,
            nat: Vec::new(),
            what_ifs: Vec::new(),
            capture: false,
        }
    }
}

/// Why a scenario cannot run.
#[derive(Clone, Debug, Eq, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum SimError {
    /// No configuration given.
    #[error("no router to simulate")]
    NoRouters,
    /// A what-if or NAT option names a router that is not in the cloud.
    #[error("no router is called `{0}` (use a hostname or a file name)")]
    UnknownRouter(String),
    /// A configuration the router cannot run.
    #[error("{router}: {error}")]
    Node {
        /// The router.
        router: String,
        /// Why.
        error: NodeError,
    },
    /// Two routers share an NBMA address.
    #[error("{0} and {1} have the same NBMA address {2}: the network cannot tell them apart")]
    SameNbma(String, String, Ipv4Addr),
    /// A new configuration moves the router to another NBMA address.
    #[error("{0}: the new configuration has NBMA address {1}, not {2}")]
    NbmaChanged(String, Ipv4Addr, Ipv4Addr),
    /// `--at` after the end.
    #[error("--at {0} is after the end of the run ({1})")]
    AtAfterEnd(String, String),
}

/// One event of the timeline.
#[derive(Clone, Debug, Eq, PartialEq)]
pub struct Entry {
    /// Virtual time.
    pub at: Duration,
    /// The router it happened on (or `network`).
    pub router: String,
    /// What kind of thing.
    pub kind: Kind,
    /// What happened.
    pub text: String,
}

/// The kinds of [`Entry`].
#[derive(Clone, Copy, Debug, Eq, Ord, PartialEq, PartialOrd)]
pub enum Kind {
    /// Something came up (an SA, a registration, an adjacency, a route).
    Up,
    /// Something went down.
    Down,
    /// A try (IKE started, a retry).
    Attempt,
    /// A refusal or failure.
    Fault,
    /// A what-if event.
    WhatIf,
}

impl Kind {
    /// The word in the report.
    #[must_use]
    pub const fn word(self) -> &'static str {
        match self {
            Self::Up => "up",
            Self::Down => "down",
            Self::Attempt => "attempt",
            Self::Fault => "fault",
            Self::WhatIf => "what-if",
        }
    }
}

/// One probe of the reachability matrix.
#[derive(Clone, Debug, Eq, PartialEq)]
pub struct Probe {
    /// The source router.
    pub from: String,
    /// The source prefix (and its address, the probe's source).
    pub from_prefix: Prefix,
    /// The destination router.
    pub to: String,
    /// The destination prefix.
    pub to_prefix: Prefix,
    /// Whether it was delivered to the destination router's host.
    pub pass: bool,
    /// The routers its routes take it through, source first.
    pub path: Vec<String>,
    /// Why it failed, when it did.
    pub reason: Option<String>,
}

/// Where a finding comes from.
#[derive(Clone, Copy, Debug, Eq, Ord, PartialEq, PartialOrd)]
pub enum Source {
    /// The configurations ([`cloud::check`](crate::config::cloud::check)).
    Config,
    /// What the run showed.
    Runtime,
}

/// A finding, from the configurations or the run.
#[derive(Clone, Debug, Eq, PartialEq)]
pub struct Finding {
    /// The rule (`dmvpn-router check`'s and `dmvpn sessions`' IDs).
    pub id: &'static str,
    /// `error`, `warning` or `info`.
    pub severity: &'static str,
    /// Configurations or run.
    pub source: Source,
    /// What happens.
    pub message: String,
}

/// Something that broke after a what-if event.
#[derive(Clone, Debug, Eq, PartialEq)]
pub struct Outage {
    /// What (`R2: EIGRP adjacency with 172.16.1.1`).
    pub what: String,
    /// When it went down.
    pub down_at: Duration,
    /// When it came back, if it did.
    pub up_at: Option<Duration>,
}

/// A what-if event and its consequences.
#[derive(Clone, Debug, Eq, PartialEq)]
pub struct Disruption {
    /// The event.
    pub what: String,
    /// When.
    pub at: Duration,
    /// What went down until the next event (or the end).
    pub broke: Vec<Outage>,
    /// When everything that broke was back (`None`: something was not).
    pub recovered_at: Option<Duration>,
    /// The events that brought things back, in order.
    pub recovery: Vec<Entry>,
}

/// A hub–spoke pair as the run made it: what `dmvpn sessions` reconstructs from the capture.
#[derive(Clone, Debug, Eq, PartialEq)]
pub struct Peer {
    /// The hub's name.
    pub hub: String,
    /// The spoke's name.
    pub spoke: String,
    /// The hub's NBMA address.
    pub hub_nbma: Ipv4Addr,
    /// The spoke's NBMA address as the hub sees it (its NAT's outside address).
    pub spoke_nbma: Ipv4Addr,
    /// IKE SAs established between them.
    pub ike_sas: usize,
    /// Whether the hub accepted the spoke's registration.
    pub registered: bool,
    /// The SPIs of every IPsec SA installed between them.
    pub spis: BTreeSet<u32>,
    /// Whether the EIGRP adjacency came up at both ends.
    pub adjacent: bool,
}

/// One router's part of the report.
#[derive(Clone, Debug, Eq, PartialEq)]
pub struct RouterReport {
    /// Its name (hostname, else file name).
    pub name: String,
    /// `hub` or `spoke`.
    pub role: &'static str,
    /// Its NBMA address.
    pub nbma: Ipv4Addr,
    /// Its tunnel address.
    pub tunnel: Ipv4Addr,
    /// Each of [`SHOW_COMMANDS`] with its output.
    pub shows: Vec<(&'static str, String)>,
}

/// What `simulate` reports.
#[derive(Clone, Debug)]
pub struct Report {
    /// The seed.
    pub seed: u64,
    /// How long it ran.
    pub duration: Duration,
    /// When the `show` output and the matrix were taken.
    pub shown_at: Duration,
    /// The routers, in the order given.
    pub routers: Vec<RouterReport>,
    /// The timeline.
    pub timeline: Vec<Entry>,
    /// When the last thing came up or went down before the first what-if event (or the end).
    pub converged_at: Option<Duration>,
    /// The hub–spoke pairs.
    pub peers: Vec<Peer>,
    /// The reachability matrix.
    pub matrix: Vec<Probe>,
    /// Whether the matrix is a sample (more than [`FULL_MATRIX_PREFIXES`] prefixes).
    pub matrix_sampled: bool,
    /// Findings of the configurations, then of the run.
    pub findings: Vec<Finding>,
    /// The what-if events.
    pub disruptions: Vec<Disruption>,
    /// NBMA packets sent.
    pub packets: u64,
    /// NBMA packets lost (loss, partitions, routers off, no underlay route).
    pub lost: u64,
}

/// The capture of a run: every NBMA packet, whole, and every key.
#[derive(Clone, Debug, Default)]
pub struct Capture {
    /// The routers' names: the capture's interfaces.
    pub interfaces: Vec<String>,
    /// The packets, in the order sent.
    pub packets: Vec<Tapped>,
    /// The keys.
    pub keys: KeyLog,
}

/// A run's report and, when asked for, its capture.
#[derive(Clone, Debug)]
pub struct Outcome {
    /// The report.
    pub report: Report,
    /// The capture ([`Scenario::capture`]).
    pub capture: Option<Capture>,
}

/// What changed state: the facts whose ups and downs the timeline and the disruptions follow.
#[derive(Clone, Copy, Debug, Eq, Ord, PartialEq, PartialOrd)]
enum Fact {
    Ike(usize, Ipv4Addr),
    Ipsec(usize, Ipv4Addr),
    Registration(usize, Ipv4Addr),
    Adjacency(usize, Ipv4Addr),
    Route(usize, Prefix),
}

impl Fact {
    const fn router(self) -> usize {
        match self {
            Self::Ike(r, _)
            | Self::Ipsec(r, _)
            | Self::Registration(r, _)
            | Self::Adjacency(r, _)
            | Self::Route(r, _) => r,
        }
    }
}

/// A router's static description, from its configuration.
#[derive(Clone, Debug)]
struct Site {
    name: String,
    role: Role,
    nbma: Ipv4Addr,
    tunnel: Ipv4Addr,
    interface: String,
    /// LAN and loopback prefixes, with the router's address in each.
    prefixes: Vec<(Prefix, Ipv4Addr)>,
    /// Where its underlay reaches: its own subnets and its underlay routes.
    underlay: Vec<Prefix>,
    booted_at: Instant,
    up: bool,
}

fn site(member: &Member) -> Result<(Site, node::NodeConfig, Option<ike::Config>), SimError> {
    let config = &member.config;
    let name = config
        .hostname
        .clone()
        .unwrap_or_else(|| member.name.clone());
    let (node, ike) = crate::node::configs(config).map_err(|error| SimError::Node {
        router: name.clone(),
        error,
    })?;
    let interface = config
        .tunnel_interface()
        .map_or_else(|| "Tunnel0".to_owned(), |i| i.name.clone());
    let tunnel_subnet = node.tunnel.subnet();
    let mut prefixes = Vec::new();
    let mut underlay = Vec::new();
    for i in &config.interfaces {
        let Some(address) = i.address else { continue };
        if i.tunnel.is_some() || i.shutdown == Some(true) {
            continue;
        }
        let prefix = Prefix::new(address.address, address.prefix_len());
        if address.address == node.tunnel.nbma {
            underlay.push(prefix);
        } else {
            prefixes.push((prefix, address.address));
        }
    }
    for route in &config.routes {
        let through_tunnel = route.next_hop.is_some_and(|h| tunnel_subnet.contains(h))
            || (route.interface.as_deref()).is_some_and(|i| i.eq_ignore_ascii_case(&interface));
        if !through_tunnel {
            underlay.push(route.prefix);
        }
    }
    let role = config.tunnel().map_or(Role::Hub, |t| t.role());
    let site = Site {
        name,
        role,
        nbma: node.tunnel.nbma,
        tunnel: node.tunnel.address,
        interface,
        prefixes,
        underlay,
        booted_at: Instant::ZERO,
        up: true,
    };
    Ok((site, node, ike))
}

fn boot(cloud: &mut Cloud<Machine>, node: node::NodeConfig, ike: Option<ike::Config>) -> Machine {
    let seed = cloud.next_seed();
    let node = Node::new(node, cloud.now, Box::new(XorShift::new(seed)));
    let endpoint = ike.map(|c| ike::Endpoint::new(c, TestEntropy::new(seed.rotate_left(17))));
    Router::new(node, endpoint, cloud.now)
}

/// The network's drop filter: a sender reaches only what its underlay routes cover.
fn underlay_filter(sites: &[Site], nat: &BTreeMap<Ipv4Addr, Ipv4Addr>) -> node::sim::DropFilter {
    let mut reach: BTreeMap<Ipv4Addr, Vec<Prefix>> = BTreeMap::new();
    for site in sites {
        let outside = nat.get(&site.nbma).copied().unwrap_or(site.nbma);
        reach.insert(outside, site.underlay.clone());
    }
    Box::new(move |wire| {
        reach
            .get(&wire.from)
            .is_some_and(|prefixes| !prefixes.iter().any(|p| p.contains(wire.to)))
    })
}

/// The simulation while it runs.
struct Sim {
    cloud: Cloud<Machine>,
    sites: Vec<Site>,
    configs: Vec<(node::NodeConfig, Option<ike::Config>)>,
    nat: BTreeMap<Ipv4Addr, Ipv4Addr>,
    timeline: Vec<Entry>,
    facts: BTreeMap<Fact, bool>,
    /// Every change of a fact: when, which, up or down.
    changes: Vec<(Duration, Fact, bool)>,
    /// Runtime findings by (id, routers), with severity and message.
    evidence: BTreeMap<(&'static str, String), (&'static str, String)>,
    keys: KeyLog,
    capture: bool,
    ever_registered: BTreeSet<usize>,
    ever_adjacent: BTreeSet<(usize, Ipv4Addr)>,
    /// IKE SAs established, by router and peer.
    established: BTreeMap<(usize, Ipv4Addr), usize>,
    /// SPIs installed, by router and peer.
    spis: BTreeMap<(usize, Ipv4Addr), BTreeSet<u32>>,
    /// The routes in the timeline's last entry, when it is one of routes: how many, and the
    /// first few.
    batch: (usize, String),
}

fn since(at: Instant) -> Duration {
    at - Instant::ZERO
}

impl Sim {
    fn name(&self, index: usize) -> String {
        self.sites
            .get(index)
            .map(|s| s.name.clone())
            .unwrap_or_default()
    }

    /// The router whose NBMA address (or NAT outside address) is `nbma`.
    fn by_nbma(&self, nbma: Ipv4Addr) -> Option<usize> {
        self.cloud.index(nbma)
    }

    fn peer_name(&self, nbma: Ipv4Addr) -> String {
        self.by_nbma(nbma).map_or_else(
            || nbma.to_string(),
            |i| format!("{} ({nbma})", self.name(i)),
        )
    }

    fn tunnel_name(&self, tunnel: Ipv4Addr) -> String {
        (self.sites.iter())
            .find(|s| s.tunnel == tunnel)
            .map_or_else(|| tunnel.to_string(), |s| format!("{} ({tunnel})", s.name))
    }

    fn entry(&mut self, at: Instant, router: usize, kind: Kind, text: String) {
        self.batch.0 = 0;
        let router = self.name(router);
        self.timeline.push(Entry {
            at: since(at),
            router,
            kind,
            text,
        });
    }

    fn fact(&mut self, at: Instant, fact: Fact, up: bool) -> bool {
        let was = self.facts.insert(fact, up).unwrap_or(false);
        if was != up {
            self.changes.push((since(at), fact, up));
        }
        was != up
    }

    /// Records a change of `fact` and, when it is one, its timeline entry.
    fn toggle(
        &mut self,
        at: Instant,
        fact: Fact,
        up: bool,
        text: impl FnOnce(&Self) -> String,
    ) -> bool {
        let changed = self.fact(at, fact, up);
        if changed {
            let text = text(self);
            let kind = if up { Kind::Up } else { Kind::Down };
            self.entry(at, fact.router(), kind, text);
        }
        changed
    }

    fn evidence(&mut self, id: &'static str, severity: &'static str, key: String, message: String) {
        self.evidence
            .entry((id, key))
            .or_insert((severity, message));
    }

    /// Takes what the routers reported since the last time.
    fn drain(&mut self) {
        for index in 0..self.cloud.members.len() {
            let events = std::mem::take(&mut self.cloud.members[index].events);
            for (at, event) in events {
                self.event(index, at, event);
            }
        }
    }

    #[allow(clippy::too_many_lines)] // one arm per event the report cares about
    fn event(&mut self, i: usize, at: Instant, event: Event) {
        match event {
            Event::Ike(ike::Event::Phase1Established {
                peer, role, key, ..
            }) => {
                if self.capture {
                    self.keys.ikev1(key.to_table_line());
                }
                *self.established.entry((i, peer)).or_default() += 1;
                if self.fact(at, Fact::Ike(i, peer), true) {
                    let text = format!(
                        "IKE SA up with {} ({})",
                        self.peer_name(peer),
                        if role == ike::Role::Initiator {
                            "initiator"
                        } else {
                            "responder"
                        }
                    );
                    self.entry(at, i, Kind::Up, text);
                }
            }
            Event::Ike(ike::Event::Phase1Failed { peer, reason }) => {
                let text = format!(
                    "IKE Main Mode with {} failed: {reason:?}",
                    self.peer_name(peer)
                );
                self.entry(at, i, Kind::Fault, text);
                self.ike_failure(i, peer, reason, false);
            }
            Event::Ike(ike::Event::Phase1Deleted { peer, reason, .. }) => {
                self.toggle(at, Fact::Ike(i, peer), false, |s| {
                    format!("IKE SA with {} deleted ({reason:?})", s.peer_name(peer))
                });
            }
            Event::Ike(ike::Event::ChildOffered(child)) if self.capture => {
                let (peer, local) = (child.peer, child.local);
                self.keys.esp_sa(child.inbound.esp_sa_line(peer, local));
                self.keys.esp_sa(child.outbound.esp_sa_line(local, peer));
            }
            Event::Ike(ike::Event::ChildFailed { peer, reason }) => {
                let text = format!(
                    "IKE Quick Mode with {} failed: {reason:?}",
                    self.peer_name(peer)
                );
                self.entry(at, i, Kind::Fault, text);
                self.ike_failure(i, peer, reason, true);
            }
            Event::Ike(ike::Event::PeerDown { peer }) => {
                let text = format!("DPD: {} is dead", self.peer_name(peer));
                self.entry(at, i, Kind::Fault, text);
            }
            Event::SaInstalled(child) => {
                let peer = child.peer;
                if self.capture && child.role == ike::Role::Initiator {
                    self.keys
                        .esp_sa(child.inbound.esp_sa_line(peer, child.local));
                    self.keys
                        .esp_sa(child.outbound.esp_sa_line(child.local, peer));
                }
                let spis = self.spis.entry((i, peer)).or_default();
                spis.extend([child.inbound.spi, child.outbound.spi]);
                let fresh = self.fact(at, Fact::Ipsec(i, peer), true);
                let text = format!(
                    "IPsec SA pair with {}{}: spi in 0x{:08x}, out 0x{:08x}, {}",
                    self.peer_name(peer),
                    if fresh { "" } else { " (rekeyed)" },
                    child.inbound.spi,
                    child.outbound.spi,
                    child.transform_set
                );
                self.entry(at, i, if fresh { Kind::Up } else { Kind::Attempt }, text);
            }
            Event::IkeStarted { peer } => {
                let text = format!("IKE: initiating Main Mode with {}", self.peer_name(peer));
                self.entry(at, i, Kind::Attempt, text);
            }
            Event::IkeStartFailed { peer, error } => {
                let text = format!("IKE cannot start with {}: {error}", self.peer_name(peer));
                self.entry(at, i, Kind::Fault, text.clone());
                let key = format!("{} ↔ {}", self.name(i), self.peer_name(peer));
                self.evidence("ike-no-psk", "error", key, text);
            }
            Event::IkeRefused { peer, error } => {
                let text = format!(
                    "ISAKMP message from {} refused: {error}",
                    self.peer_name(peer)
                );
                self.entry(at, i, Kind::Fault, text);
            }
            Event::NhsDown { peer } => {
                self.fact(at, Fact::Ipsec(i, peer), false);
                let text = format!("{} lost: keying it again", self.peer_name(peer));
                self.entry(at, i, Kind::Down, text);
            }
            Event::RegistrationRestarted { peer } => {
                let text = format!("{} is back: registering again", self.peer_name(peer));
                self.entry(at, i, Kind::Attempt, text);
            }
            Event::Ike(ike::Event::ChildDeleted { peer, .. }) => {
                let current =
                    (self.cloud.members.get(i)).is_some_and(|m| m.node.pairs().contains_key(&peer));
                if !current && self.fact(at, Fact::Ipsec(i, peer), false) {
                    let text = format!("IPsec SA pair with {} deleted", self.peer_name(peer));
                    self.entry(at, i, Kind::Down, text);
                }
            }
            Event::Node(event) => self.node_event(i, at, event),
            _ => {}
        }
    }

    fn ike_failure(&mut self, i: usize, peer: Ipv4Addr, reason: ike::Failure, quick: bool) {
        let key = self.pair_key(i, peer);
        let (id, what) = match reason {
            ike::Failure::AuthenticationFailed => (
                "ike-psk-mismatch",
                "Main Mode's hash does not verify: the pre-shared keys differ",
            ),
            ike::Failure::NoPresharedKey => {
                // What the wire shows: the side without a key answers NO-PROPOSAL-CHOSEN.
                let message = format!(
                    "{key}: {} has no pre-shared key for its peer and answers NO-PROPOSAL-CHOSEN",
                    self.name(i)
                );
                self.evidence
                    .insert(("ike-no-proposal-chosen", key), ("error", message));
                return;
            }
            ike::Failure::NoProposalChosen if quick => (
                "ike-transform-set-mismatch",
                "Quick Mode: the transform sets share nothing",
            ),
            ike::Failure::NoProposalChosen => (
                "ike-no-proposal-chosen",
                "Main Mode: the ISAKMP policies share nothing",
            ),
            _ => return,
        };
        self.evidence(id, "error", key.clone(), format!("{key}: {what}"));
    }

    /// `spoke ↔ hub` for a pair, whichever end saw it.
    fn pair_key(&self, i: usize, peer: Ipv4Addr) -> String {
        let other = self.by_nbma(peer);
        let (spoke, hub) = match (self.sites.get(i).map(|s| s.role), other) {
            (Some(Role::Hub), Some(o)) => (o, i),
            (_, Some(o)) => (i, o),
            (_, None) => return format!("{} ↔ {peer}", self.name(i)),
        };
        format!("{} ↔ {}", self.name(spoke), self.name(hub))
    }

    fn tunnel_pair_key(&self, i: usize, tunnel: Ipv4Addr) -> String {
        match self.sites.iter().position(|s| s.tunnel == tunnel) {
            Some(o) => self.pair_key(i, self.sites[o].nbma),
            None => format!("{} ↔ {tunnel}", self.name(i)),
        }
    }

    fn node_event(&mut self, i: usize, at: Instant, event: node::Event) {
        match event {
            node::Event::Nhrp(ClientEvent::Registered {
                nhs, nat_address, ..
            }) => {
                self.ever_registered.insert(i);
                if self.fact(at, Fact::Registration(i, nhs), true) {
                    let nat = nat_address
                        .map_or_else(String::new, |a| format!(", seen behind NAT as {a}"));
                    let text = format!("registered with NHS {}{nat}", self.tunnel_name(nhs));
                    self.entry(at, i, Kind::Up, text);
                }
            }
            node::Event::Nhrp(ClientEvent::Expired { nhs }) => {
                self.toggle(at, Fact::Registration(i, nhs), false, |s| {
                    format!("registration with NHS {} expired", s.tunnel_name(nhs))
                });
            }
            node::Event::Nhrp(ClientEvent::RegistrationFailed { nhs, code }) => {
                let text = format!(
                    "NHS {} refused the registration: {code:?}",
                    self.tunnel_name(nhs)
                );
                self.entry(at, i, Kind::Fault, text.clone());
                let key = self.tunnel_pair_key(i, nhs);
                self.evidence("nhrp-registration-refused", "error", key, text);
            }
            node::Event::Nhrp(ClientEvent::ErrorIndicationReceived { nhs, code }) => {
                let text = format!(
                    "NHS {} answered with an Error Indication: {code:?}",
                    self.tunnel_name(nhs)
                );
                self.entry(at, i, Kind::Fault, text);
                if code.0 == NHRP_AUTHENTICATION_FAILURE {
                    let key = self.tunnel_pair_key(i, nhs);
                    let message = format!(
                        "{key}: the hub answers the registration with an Error Indication (authentication failure): the NHRP authentication strings differ"
                    );
                    self.evidence("nhrp-auth-mismatch", "error", key, message);
                }
            }
            node::Event::NhrpServer(ServerEvent::Registered {
                tunnel,
                nbma,
                natted,
            }) => {
                let nat = if natted { ", behind NAT" } else { "" };
                self.toggle(at, Fact::Registration(i, tunnel), true, |s| {
                    let name = s.tunnel_name(tunnel);
                    format!("registration of {name} accepted, NBMA {nbma}{nat}")
                });
            }
            node::Event::NhrpServer(ServerEvent::Expired { tunnel, .. }) => {
                let text = format!("registration of {} expired", self.tunnel_name(tunnel));
                let expired =
                    self.toggle(at, Fact::Registration(i, tunnel), false, |_| text.clone());
                if expired {
                    let key = self.tunnel_pair_key(i, tunnel);
                    self.evidence("nhrp-hold-expired", "warning", key, text);
                }
            }
            node::Event::NhrpServer(ServerEvent::Purged { tunnel }) => {
                self.toggle(at, Fact::Registration(i, tunnel), false, |s| {
                    format!("registration of {} purged", s.tunnel_name(tunnel))
                });
            }
            node::Event::NhrpServer(ServerEvent::Rejected { tunnel, from, code }) => {
                let text = format!(
                    "registration of {tunnel} from {} refused: {code:?}",
                    self.peer_name(from)
                );
                self.entry(at, i, Kind::Fault, text);
            }
            node::Event::NhrpServer(ServerEvent::ErrorIndicationSent { to, code }) => {
                let text = format!("Error Indication sent to {}: {code:?}", self.peer_name(to));
                self.entry(at, i, Kind::Fault, text);
            }
            node::Event::Eigrp(EigrpEvent::NeighborUp { address, .. }) => {
                self.ever_adjacent.insert((i, address));
                if self.fact(at, Fact::Adjacency(i, address), true) {
                    let text = format!("EIGRP adjacency with {} up", self.tunnel_name(address));
                    self.entry(at, i, Kind::Up, text);
                }
            }
            node::Event::Eigrp(EigrpEvent::NeighborDown { address, reason }) => {
                self.toggle(at, Fact::Adjacency(i, address), false, |s| {
                    let name = s.tunnel_name(address);
                    format!("EIGRP adjacency with {name} down: {reason}")
                });
            }
            node::Event::Eigrp(EigrpEvent::KValueMismatch { address, .. }) => {
                let text = format!(
                    "EIGRP Hello from {} refused: K-value mismatch",
                    self.tunnel_name(address)
                );
                self.entry(at, i, Kind::Fault, text.clone());
                let key = self.tunnel_pair_key(i, address);
                self.evidence("eigrp-k-mismatch", "error", key, text);
            }
            node::Event::RouteAdded(route) => {
                let fresh = self.fact(at, Fact::Route(i, route.prefix), true);
                if fresh {
                    let via = route
                        .next_hop
                        .map_or_else(String::new, |h| format!(" via {h}"));
                    self.route_entry(at, i, Kind::Up, format!("{}{via}", route.prefix));
                }
            }
            node::Event::RouteRemoved(route) => {
                // (a RouteAdded for the same prefix may follow at once: another source)
                let prefix = route.prefix;
                let still = (self.cloud.members.get(i))
                    .is_some_and(|m| m.node.node().routes().any(|r| r.prefix == prefix));
                if !still && self.fact(at, Fact::Route(i, prefix), false) {
                    self.route_entry(at, i, Kind::Down, prefix.to_string());
                }
            }
            _ => {}
        }
    }

    /// Routes learnt (or lost) by one router at one instant make one entry.
    fn route_entry(&mut self, at: Instant, i: usize, kind: Kind, route: String) {
        /// Routes named in one entry; more are counted.
        const NAMED: usize = 6;
        let verb = if kind == Kind::Up { "learnt" } else { "lost" };
        let name = self.name(i);
        if let Some(last) = self.timeline.last_mut()
            && self.batch.0 > 0
            && last.at == since(at)
            && last.router == name
            && last.kind == kind
        {
            let (count, named) = &mut self.batch;
            *count += 1;
            if *count <= NAMED {
                named.push_str(", ");
                named.push_str(&route);
                last.text = format!("{verb} routes {named}");
            } else {
                last.text = format!("{verb} {count} routes: {named}, …");
            }
            return;
        }
        self.entry(at, i, kind, format!("{verb} route {route}"));
        self.batch = (1, route);
    }

    /// Every fact of router `i` goes down (it failed or rebooted).
    fn router_down(&mut self, i: usize) {
        let now = self.cloud.now;
        let facts: Vec<Fact> = (self.facts.iter())
            .filter(|(f, up)| **up && f.router() == i)
            .map(|(f, _)| *f)
            .collect();
        for fact in facts {
            self.fact(now, fact, false);
        }
    }

    fn apply(&mut self, what: &WhatIf, healing: bool) -> Result<(), SimError> {
        let now = self.cloud.now;
        let index = |name: &str| -> Result<usize, SimError> {
            find(&self.sites, name).ok_or_else(|| SimError::UnknownRouter(name.to_owned()))
        };
        match what {
            WhatIf::Fail { router, .. } => {
                let i = index(router)?;
                self.cloud.power_off(i);
                self.sites[i].up = false;
                self.router_down(i);
                self.entry(now, i, Kind::WhatIf, "powered off".to_owned());
            }
            WhatIf::Restart { router, .. } => {
                let i = index(router)?;
                self.restart(i, None)?;
                self.entry(now, i, Kind::WhatIf, "restarted".to_owned());
            }
            WhatIf::Change { router, config, .. } => {
                let i = index(router)?;
                self.restart(i, Some(config))?;
                let text = format!("reloaded with {}", config.name);
                self.entry(now, i, Kind::WhatIf, text);
            }
            WhatIf::Partition { a, b, .. } => {
                let (x, y) = (index(a)?, index(b)?);
                let (nx, ny) = (self.sites[x].nbma, self.sites[y].nbma);
                let (ox, oy) = (self.cloud.outside(nx), self.cloud.outside(ny));
                let text = if healing {
                    self.cloud.heal(ox, oy);
                    self.cloud.heal(nx, ny);
                    format!("the network to {} works again", self.sites[y].name)
                } else {
                    self.cloud.partition(ox, oy);
                    self.cloud.partition(nx, ny);
                    format!("the network to {} is cut", self.sites[y].name)
                };
                self.entry(now, x, Kind::WhatIf, text);
            }
        }
        Ok(())
    }

    fn restart(&mut self, i: usize, change: Option<&Member>) -> Result<(), SimError> {
        if let Some(member) = change {
            let (mut new, node, ike) = site(member)?;
            let old = &self.sites[i];
            if new.nbma != old.nbma {
                return Err(SimError::NbmaChanged(old.name.clone(), new.nbma, old.nbma));
            }
            new.name.clone_from(&old.name);
            self.sites[i] = new;
            self.configs[i] = (node, ike);
            self.cloud.drop = Some(underlay_filter(&self.sites, &self.nat));
        }
        self.router_down(i);
        let (node, ike) = self.configs[i].clone();
        let router = boot(&mut self.cloud, node, ike);
        self.cloud.replace(i, router);
        self.sites[i].up = true;
        self.sites[i].booted_at = self.cloud.now;
        Ok(())
    }

    /// Runs until `t`, taking what the routers report slice by slice.
    fn run_until(&mut self, t: Instant) {
        while self.cloud.now < t {
            let next = (self.cloud.now + SLICE).min(t);
            self.cloud.run_until(next);
            self.drain();
        }
        self.drain();
    }
}

fn find(sites: &[Site], name: &str) -> Option<usize> {
    sites.iter().position(|s| s.name == name)
}

/// Runs `scenario`.
///
/// # Errors
///
/// [`SimError`]: a configuration the router cannot run, an option naming an unknown router.
pub fn run(scenario: &Scenario) -> Result<Outcome, SimError> {
    if scenario.routers.is_empty() {
        return Err(SimError::NoRouters);
    }
    let mut sites = Vec::new();
    let mut configs = Vec::new();
    for member in &scenario.routers {
        let (site, node, ike) = site(member)?;
        if let Some(other) = sites.iter().find(|s: &&Site| s.nbma == site.nbma) {
            return Err(SimError::SameNbma(other.name.clone(), site.name, site.nbma));
        }
        sites.push(site);
        configs.push((node, ike));
    }
    let resolve = |name: &str| {
        (sites.iter().position(|s| s.name == name))
            .or_else(|| scenario.routers.iter().position(|m| m.name == name))
            .ok_or_else(|| SimError::UnknownRouter(name.to_owned()))
    };
    let mut nat = BTreeMap::new();
    for (name, outside) in &scenario.nat {
        nat.insert(sites[resolve(name)?].nbma, *outside);
    }
    // What-ifs by router name (file names resolved to the router's name).
    let mut what_ifs = Vec::new();
    for what in &scenario.what_ifs {
        let name = |n: &String| resolve(n).map(|i| sites[i].name.clone());
        what_ifs.push(match what {
            WhatIf::Fail { router, at } => WhatIf::Fail {
                router: name(router)?,
                at: *at,
            },
            WhatIf::Restart { router, at } => WhatIf::Restart {
                router: name(router)?,
                at: *at,
            },
            WhatIf::Partition { a, b, from, until } => WhatIf::Partition {
                a: name(a)?,
                b: name(b)?,
                from: *from,
                until: *until,
            },
            WhatIf::Change { router, config, at } => {
                let router = name(router)?;
                site(config)?;
                WhatIf::Change {
                    router,
                    config: config.clone(),
                    at: *at,
                }
            }
        });
    }
    what_ifs.sort_by_key(WhatIf::at);
    let end = Instant::ZERO + scenario.duration;
    let shown = Instant::ZERO + scenario.at.unwrap_or(scenario.duration);
    if shown > end {
        return Err(SimError::AtAfterEnd(
            span(since(shown)),
            span(scenario.duration),
        ));
    }

    let mut cloud: Cloud<Machine> = Cloud::of(Instant::ZERO, scenario.seed);
    cloud.logging = false;
    cloud.loss_percent = scenario.loss;
    for (inside, outside) in &nat {
        cloud.nat(*inside, *outside);
    }
    cloud.drop = Some(underlay_filter(&sites, &nat));
    if scenario.capture {
        cloud.tap = Some(Vec::new());
    }
    for (node, ike) in &configs {
        let router = boot(&mut cloud, node.clone(), ike.clone());
        cloud.add_machine(router);
    }
    let mut sim = Sim {
        cloud,
        sites,
        configs,
        nat,
        timeline: Vec::new(),
        facts: BTreeMap::new(),
        changes: Vec::new(),
        evidence: BTreeMap::new(),
        keys: KeyLog::default(),
        capture: scenario.capture,
        ever_registered: BTreeSet::new(),
        ever_adjacent: BTreeSet::new(),
        established: BTreeMap::new(),
        spis: BTreeMap::new(),
        batch: (0, String::new()),
    };
    sim.drain();

    // The schedule: what-ifs (and partitions' ends), the snapshot, the probes' collection.
    #[derive(Clone, Copy)]
    enum Step {
        Start(usize),
        Heal(usize),
        Snapshot,
        Collect,
    }
    let mut schedule: Vec<(Instant, u8, Step)> = Vec::new();
    for (n, what) in what_ifs.iter().enumerate() {
        schedule.push((Instant::ZERO + what.at(), 1, Step::Start(n)));
        if let WhatIf::Partition { until, .. } = what {
            schedule.push((Instant::ZERO + *until, 0, Step::Heal(n)));
        }
    }
    schedule.push((shown, 2, Step::Snapshot));
    schedule.push((shown + PROBE_TIME, 3, Step::Collect));
    schedule.sort_by_key(|(at, order, _)| (*at, *order));

    let mut shows = Vec::new();
    let mut probes = Vec::new();
    let mut matrix = Vec::new();
    let mut sampled = false;
    for (at, _, step) in schedule {
        sim.run_until(at);
        match step {
            Step::Start(n) => sim.apply(&what_ifs[n], false)?,
            Step::Heal(n) => sim.apply(&what_ifs[n], true)?,
            Step::Snapshot => {
                shows = snapshot(&sim);
                let (sent, sample) = probe::send_probes(&mut sim);
                probes = sent;
                sampled = sample;
            }
            Step::Collect => matrix = probe::collect_probes(&mut sim, &probes),
        }
    }
    sim.run_until(end.max(sim.cloud.now));

    // (each router's events come in order; the routers' are merged here)
    sim.timeline.sort_by_key(|e| e.at);
    let first_what_if = what_ifs.first().map(WhatIf::at);
    let converged_at = (sim.changes.iter())
        .filter(|(at, _, _)| first_what_if.is_none_or(|w| *at < w))
        .map(|(at, _, _)| *at)
        .max();
    let disruptions = disruptions(&sim, &what_ifs, since(end));
    let findings = findings::findings(&mut sim, &scenario.routers, &matrix);
    let peers = peers(&sim);
    let lost = sim
        .cloud
        .tap
        .as_ref()
        .map_or(0, |t| t.iter().filter(|p| p.dropped).count());
    let routers = (sim.sites.iter().zip(shows))
        .map(|(site, shows)| RouterReport {
            name: site.name.clone(),
            role: match site.role {
                Role::Hub => "hub",
                Role::Spoke => "spoke",
            },
            nbma: site.nbma,
            tunnel: site.tunnel,
            shows,
        })
        .collect();
    let report = Report {
        seed: scenario.seed,
        duration: scenario.duration,
        shown_at: since(shown),
        routers,
        timeline: std::mem::take(&mut sim.timeline),
        converged_at,
        peers,
        matrix,
        matrix_sampled: sampled,
        findings,
        disruptions,
        packets: sim.cloud.sent,
        lost: lost as u64,
    };
    let capture = scenario.capture.then(|| Capture {
        interfaces: sim.sites.iter().map(|s| s.name.clone()).collect(),
        packets: sim.cloud.tap.take().unwrap_or_default(),
        keys: std::mem::take(&mut sim.keys),
    });
    Ok(Outcome { report, capture })
}

/// Each spoke with each of its NHSes that is a router of the cloud.
fn peers(sim: &Sim) -> Vec<Peer> {
    let mut out = Vec::new();
    for (s, site) in sim.sites.iter().enumerate() {
        for nhs in &sim.configs[s].0.nhrp.nhs {
            let Some(h) = sim.by_nbma(nhs.nbma) else {
                continue;
            };
            let spoke_nbma = sim.cloud.outside(site.nbma);
            let mut spis = BTreeSet::new();
            for key in [(h, spoke_nbma), (s, nhs.nbma)] {
                spis.extend(sim.spis.get(&key).into_iter().flatten());
            }
            out.push(Peer {
                hub: sim.name(h),
                spoke: site.name.clone(),
                hub_nbma: nhs.nbma,
                spoke_nbma,
                ike_sas: sim.established.get(&(h, spoke_nbma)).copied().unwrap_or(0),
                registered: sim.facts.contains_key(&Fact::Registration(h, site.tunnel)),
                spis,
                adjacent: sim.ever_adjacent.contains(&(h, site.tunnel))
                    && sim.ever_adjacent.contains(&(s, nhs.tunnel)),
            });
        }
    }
    out
}

fn snapshot(sim: &Sim) -> Vec<Vec<(&'static str, String)>> {
    let now = sim.cloud.now;
    (sim.sites.iter().zip(&sim.cloud.members))
        .map(|(site, member)| {
            SHOW_COMMANDS
                .iter()
                .map(|command| {
                    let text = if site.up {
                        crate::show::answer(
                            &member.node,
                            now,
                            site.booted_at,
                            &site.interface,
                            command,
                        )
                    } else {
                        format!("% {} is powered off\n", site.name)
                    };
                    (*command, text)
                })
                .collect()
        })
        .collect()
}

fn fact_text(sim: &Sim, fact: Fact) -> String {
    let router = sim.name(fact.router());
    match fact {
        Fact::Ike(_, peer) => format!("{router}: IKE SA with {}", sim.peer_name(peer)),
        Fact::Ipsec(_, peer) => format!("{router}: IPsec SA pair with {}", sim.peer_name(peer)),
        Fact::Registration(_, t) => format!("{router}: NHRP registration {}", sim.tunnel_name(t)),
        Fact::Adjacency(_, t) => format!("{router}: EIGRP adjacency with {}", sim.tunnel_name(t)),
        Fact::Route(_, p) => format!("{router}: route to {p}"),
    }
}

fn disruptions(sim: &Sim, what_ifs: &[WhatIf], end: Duration) -> Vec<Disruption> {
    let mut out = Vec::new();
    for (n, what) in what_ifs.iter().enumerate() {
        let start = what.at();
        let window_end = what_ifs.get(n + 1).map_or(end, WhatIf::at);
        let mut broke = Vec::new();
        let mut seen = BTreeSet::new();
        for (at, fact, up) in &sim.changes {
            if *up || *at < start || *at >= window_end || !seen.insert(*fact) {
                continue;
            }
            let up_at = (sim.changes.iter())
                .find(|(t, f, u)| *u && f == fact && t >= at)
                .map(|(t, _, _)| *t);
            if up_at == Some(*at) {
                continue;
            }
            broke.push((
                *fact,
                Outage {
                    what: fact_text(sim, *fact),
                    down_at: *at,
                    up_at,
                },
            ));
        }
        let recovered_at = if broke.iter().all(|(_, o)| o.up_at.is_some()) {
            Some(
                broke
                    .iter()
                    .filter_map(|(_, o)| o.up_at)
                    .max()
                    .unwrap_or(start),
            )
        } else {
            None
        };
        let last = recovered_at.unwrap_or(end);
        let recovery = (sim.timeline.iter())
            .filter(|e| e.at >= start && e.at <= last && e.kind == Kind::Up)
            .take(12)
            .cloned()
            .collect();
        out.push(Disruption {
            what: what.describe(),
            at: start,
            broke: broke.into_iter().map(|(_, o)| o).collect(),
            recovered_at,
            recovery,
        });
    }
    out
}

/// Whether `config` is a hub (for callers ordering the cloud).
#[must_use]
pub fn is_hub(config: &Config) -> bool {
    config.tunnel().is_some_and(|t| t.role() == Role::Hub)
}
