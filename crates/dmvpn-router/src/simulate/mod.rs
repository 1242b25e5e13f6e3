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
//!   its router's tunnel interface, delivered or not, with the path it took); the
//!   spoke-to-spoke flows ([`Flow`]: a packet a second between spokes, each followed to where
//!   it went, so that a Phase 2 or 3 cloud shows its first packets through the hub and the rest
//!   direct) and the direct spoke-to-spoke tunnels they built ([`DirectTunnel`]: when, with
//!   which SAs, until when); the
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
mod direct;
mod events;
mod findings;
pub mod flows;
pub mod options;
mod probe;
mod report;
mod run;
mod sim;
mod sites;
mod whatif;

use std::collections::{BTreeMap, BTreeSet};
use std::net::Ipv4Addr;

use dmvpn_ip::Prefix;
use dmvpn_proto::ike::TestEntropy;
use dmvpn_proto::node;
use dmvpn_proto::node::sim::{Cloud, Tapped};
use dmvpn_proto::router::Router;
use dmvpn_proto::{Duration, Instant};

use crate::config::cloud::Member;
use crate::config::{Config, Role};
use crate::node::NodeError;

pub use capture::KeyLog;
pub use flows::{Flow, FlowPlan, Hop, Segment};
pub use report::{TEXT_TIMELINE, span};
pub use run::run;
pub use whatif::WhatIf;

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

/// The `show` command an IKEv2 router's report has besides [`SHOW_COMMANDS`], after `show
/// crypto isakmp sa` ([`show_commands`]).
pub const IKEV2_SHOW_COMMAND: &str = "show crypto ikev2 sa";

/// The `show` commands of a router's report: [`SHOW_COMMANDS`], with [`IKEV2_SHOW_COMMAND`]
/// after `show crypto isakmp sa` when the router keys its tunnel with IKEv2.
///
/// ```
/// use dmvpn_router::simulate::show_commands;
///
/// assert!(!show_commands(false).contains(&"show crypto ikev2 sa"));
/// assert_eq!(show_commands(true)[4], "show crypto ikev2 sa");
/// ```
#[must_use]
pub fn show_commands(ikev2: bool) -> Vec<&'static str> {
    let mut out = Vec::with_capacity(SHOW_COMMANDS.len() + 1);
    for command in SHOW_COMMANDS {
        out.push(command);
        if ikev2 && command == "show crypto isakmp sa" {
            out.push(IKEV2_SHOW_COMMAND);
        }
    }
    out
}

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
    /// The spoke-to-spoke flows.
    pub flows: FlowPlan,
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
            flows: FlowPlan::new(),
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
    /// The routers it went through, source first (when it was not delivered: those its routes
    /// take it through).
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

/// A direct tunnel between two spokes (Phase 2 or 3): from the first IPsec SA pair or NHRP
/// shortcut between them to the last one's end.
#[derive(Clone, Debug, Eq, PartialEq)]
pub struct DirectTunnel {
    /// One spoke (the first in the order given).
    pub a: String,
    /// The other.
    pub b: String,
    /// `a`'s NBMA address as the network carried it.
    pub a_nbma: Ipv4Addr,
    /// `b`'s.
    pub b_nbma: Ipv4Addr,
    /// When it was built.
    pub up_at: Duration,
    /// When it was torn down (`None`: still up at the end).
    pub down_at: Option<Duration>,
    /// IKE SAs established between the two while it was up.
    pub ike_sas: usize,
    /// The SPIs of the IPsec SAs between the two while it was up.
    pub spis: BTreeSet<u32>,
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
    /// Each of its [`show_commands`] with its output.
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
    /// The spoke-to-spoke flows and the way their packets went.
    pub flows: Vec<Flow>,
    /// The direct spoke-to-spoke tunnels, in the order they were built.
    pub direct: Vec<DirectTunnel>,
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
    /// An NHRP shortcut (or Phase 2 resolution, or the reverse entry of one answered): a
    /// prefix through another spoke's tunnel address.
    Shortcut(usize, Prefix, Ipv4Addr),
}

impl Fact {
    const fn router(self) -> usize {
        match self {
            Self::Ike(r, _)
            | Self::Ipsec(r, _)
            | Self::Registration(r, _)
            | Self::Adjacency(r, _)
            | Self::Route(r, _)
            | Self::Shortcut(r, _, _) => r,
        }
    }
}

/// An IKE SA established (no SPIs) or an IPsec SA pair installed (inbound and outbound SPI):
/// when, by which router, with which peer.
type SaLogged = (Duration, usize, Ipv4Addr, Option<(u32, u32)>);

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

/// The simulation while it runs.
struct Sim {
    cloud: Cloud<Machine>,
    sites: Vec<Site>,
    configs: Vec<(node::NodeConfig, Option<crate::node::Ike>)>,
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
    /// The matrix's probes delivered: tag → router.
    probe_arrivals: BTreeMap<u32, (usize, u8)>,
    /// The spoke-to-spoke flows.
    flows: flows::Flows,
    /// Every IKE SA established (no SPIs) and IPsec SA pair installed (its SPIs): when, by
    /// which router, with which peer.
    sa_log: Vec<SaLogged>,
}

fn since(at: Instant) -> Duration {
    at - Instant::ZERO
}

/// Whether `config` is a hub (for callers ordering the cloud).
#[must_use]
pub fn is_hub(config: &Config) -> bool {
    config.tunnel().is_some_and(|t| t.role() == Role::Hub)
}
