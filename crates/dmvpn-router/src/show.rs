//! `show` commands, answered from the node's state in the shape of IOS's output (the columns
//! and words a DMVPN operator greps for). Values the node does not keep (EIGRP SRTT, RTO and
//! sequence numbers; inbound ESP packet counts) are shown as `-` rather than invented.

use core::fmt::Write;
use std::collections::BTreeMap;
use std::net::Ipv4Addr;

use dmvpn_isakmp::keys::Prf;
use dmvpn_isakmp::v2::crypto::{Encryption, Integrity};
use dmvpn_proto::nhrp::{NhsState, ShortcutKind};
use dmvpn_proto::node::{Node, RouteSource};
use dmvpn_proto::router::Router;
use dmvpn_proto::{Duration, Instant};
use dmvpn_proto::{ike, ikev2};

/// An IKE SA the shell saw established (`show crypto isakmp sa`).
#[derive(Clone, Debug)]
pub(crate) struct IkeSa {
    /// Whether we initiated.
    pub(crate) initiator: bool,
    /// `conn-id`.
    pub(crate) conn_id: u32,
    /// The algorithms, as IOS's `show crypto isakmp sa detail` abbreviates them.
    pub(crate) suite: String,
    pub(crate) established_at: Instant,
}

/// An IPsec SA pair the shell installed (`show crypto ipsec sa`).
#[derive(Clone, Debug)]
pub(crate) struct ChildSa {
    pub(crate) inbound_spi: u32,
    pub(crate) outbound_spi: u32,
    pub(crate) transform: String,
    pub(crate) installed_at: Instant,
    pub(crate) lifetime: Option<Duration>,
}

/// ISAKMP messages the IKE endpoint refused (garbage, unknown cookies, bad hashes, wrong
/// state), for `show counters`.
#[derive(Clone, Debug, Default)]
pub(crate) struct IkeCounters {
    pub(crate) refused: u64,
    pub(crate) last_error: Option<String>,
}

/// What `show` reads besides the node.
pub(crate) struct View<'a> {
    pub(crate) node: &'a Node,
    pub(crate) now: Instant,
    pub(crate) started: Instant,
    /// The IOS interface name (`Tunnel0`).
    pub(crate) interface: &'a str,
    pub(crate) ike: &'a BTreeMap<Ipv4Addr, IkeSa>,
    /// The IKEv2 endpoint's SAs (`show crypto ikev2 sa`); empty with IKEv1.
    pub(crate) ikev2: &'a [ikev2::SaInfo],
    pub(crate) children: &'a BTreeMap<Ipv4Addr, ChildSa>,
    pub(crate) ike_counters: &'a IkeCounters,
    /// What the control socket refused.
    pub(crate) control: &'a crate::io::ControlCounters,
    /// What the NHRP, EIGRP and IKE limits refused ([`dmvpn_proto::limits`]).
    pub(crate) limits: dmvpn_proto::limits::Tally,
}

/// What the shell keeps of a router's IKE for `show`: its IKE SAs, SA pairs and refusals.
pub(crate) struct Sas {
    pub(crate) ike: BTreeMap<Ipv4Addr, IkeSa>,
    pub(crate) ikev2: Vec<ikev2::SaInfo>,
    pub(crate) children: BTreeMap<Ipv4Addr, ChildSa>,
    pub(crate) counters: IkeCounters,
}

impl Sas {
    /// The IKE SAs, SA pairs and refusals of `router` now.
    pub(crate) fn of<R: ike::Entropy>(router: &Router<R>) -> Self {
        let ike = (router.ike_sas().iter())
            .map(|(peer, sa)| {
                let suite = format!(
                    "{:?} {:?} group {} lifetime {} s",
                    sa.suite.encryption,
                    sa.suite.hash,
                    sa.suite.group.0,
                    sa.suite.lifetime.total_micros() / 1_000_000
                );
                let sa = IkeSa {
                    initiator: sa.role == ike::Role::Initiator,
                    conn_id: sa.conn_id,
                    suite,
                    established_at: sa.established_at,
                };
                (*peer, sa)
            })
            .collect();
        let children = (router.pairs().iter())
            .map(|(peer, pair)| {
                let child = ChildSa {
                    inbound_spi: pair.child.inbound.spi,
                    outbound_spi: pair.child.outbound.spi,
                    transform: pair.child.transform_set.to_string(),
                    installed_at: pair.installed_at,
                    lifetime: pair.child.lifetime.hard_time,
                };
                (*peer, child)
            })
            .collect();
        let counters = router.ike_counters();
        let counters = IkeCounters {
            refused: counters.refused,
            last_error: (counters.last_error.as_ref()).map(|(src, e)| format!("from {src}: {e}")),
        };
        Self {
            ike,
            ikev2: router.ikev2().map(ikev2::Endpoint::sas).unwrap_or_default(),
            children,
            counters,
        }
    }
}

/// Answers `line` for `router` at `now` (booted at `started`, tunnel interface `interface`),
/// as the live router's control socket does: the simulator's `show`.
pub(crate) fn answer<R: ike::Entropy>(
    router: &Router<R>,
    now: Instant,
    started: Instant,
    interface: &str,
    line: &str,
) -> String {
    let sas = Sas::of(router);
    let view = View {
        node: router.node(),
        now,
        started,
        interface,
        ike: &sas.ike,
        ikev2: &sas.ikev2,
        children: &sas.children,
        ike_counters: &sas.counters,
        control: &crate::io::ControlCounters::default(),
        limits: router.limits(),
    };
    command(&view, line)
}

/// `hh:mm:ss` (IOS's uptime format below a day; `NdNNh` above).
fn clock(duration: Duration) -> String {
    let secs = duration.total_micros().max(0) / 1_000_000;
    if secs >= 86_400 {
        format!("{}d{:02}h", secs / 86_400, secs % 86_400 / 3600)
    } else {
        format!(
            "{:02}:{:02}:{:02}",
            secs / 3600,
            secs % 3600 / 60,
            secs % 60
        )
    }
}

fn seconds(duration: Duration) -> i64 {
    duration.total_micros().max(0) / 1_000_000
}

/// The IOS short name of an interface (`Tunnel0` → `Tu0`).
fn short(interface: &str) -> String {
    interface
        .strip_prefix("Tunnel")
        .map_or_else(|| interface.to_owned(), |n| format!("Tu{n}"))
}

/// Runs one command line; unknown commands get IOS's marker.
pub(crate) fn command(view: &View<'_>, line: &str) -> String {
    let words: Vec<String> = line
        .split_whitespace()
        .map(str::to_ascii_lowercase)
        .collect();
    let words: Vec<&str> = words.iter().map(String::as_str).collect();
    // `show` is optional, and so is `ip` where IOS has it.
    let words = words.strip_prefix(&["show"]).unwrap_or(&words);
    match words {
        ["dmvpn"] => dmvpn(view),
        ["ip", "nhrp"] | ["nhrp"] => nhrp(view),
        ["ip", "nhrp", "nhs"] | ["nhrp", "nhs"] => nhs(view),
        ["ip", "eigrp", "neighbors"] | ["eigrp", "neighbors"] => eigrp(view),
        ["ip", "route"] | ["route"] => routes(view),
        ["crypto", "isakmp", "sa"] => isakmp(view),
        ["crypto", "ipsec", "sa"] => ipsec(view),
        ["crypto", "ikev2", "sa"] => ikev2_sas(view, false),
        ["crypto", "ikev2", "sa", "detailed" | "detail"] => ikev2_sas(view, true),
        ["counters"] | ["interfaces", _] => counters(view),
        _ => format!(
            "% Invalid input: `{line}`\n% commands: show dmvpn | ip nhrp | ip nhrp nhs | ip eigrp neighbors | ip route | crypto isakmp sa | crypto ikev2 sa [detailed] | crypto ipsec sa | counters\n"
        ),
    }
}

/// How an NHRP cache entry was made (`Type:` of `show ip nhrp`).
#[derive(Clone, Copy, Debug, Eq, PartialEq)]
pub(crate) enum Kind {
    /// `ip nhrp map`, `ip nhrp nhs … nbma`.
    Static,
    /// Learnt: a registration, a resolution, a request's source.
    Dynamic,
    /// A resolution under way or refused (no NBMA address yet).
    Incomplete,
}

/// One NHRP cache entry as `show ip nhrp` prints it and `show dmvpn` counts it.
#[derive(Clone, Debug)]
pub(crate) struct Mapping {
    /// The destination (a tunnel address /32, or a LAN prefix a resolution answered).
    pub(crate) prefix: dmvpn_ip::Prefix,
    /// The tunnel address of the next hop that owns it.
    pub(crate) via: Ipv4Addr,
    /// Its NBMA address (`None` while incomplete).
    pub(crate) nbma: Option<Ipv4Addr>,
    /// The NBMA address it claimed, when a NAT changed it.
    pub(crate) claimed_nbma: Option<Ipv4Addr>,
    pub(crate) kind: Kind,
    /// IOS's flag words, in IOS's order (`router`, `implicit`, `unique`, `registered`,
    /// `local`, `used`, `nhs`, `nhop`, `rib`, `nho`, `negative`).
    pub(crate) flags: Vec<&'static str>,
    pub(crate) created: Instant,
    /// `None`: never expires.
    pub(crate) expires: Option<Instant>,
    /// `(no-socket)`: the entry does not make IPsec key the peer (IOS's local entries, and
    /// the requester's own prefix on the answering spoke).
    pub(crate) no_socket: bool,
}

impl Mapping {
    fn has(&self, flag: &str) -> bool {
        self.flags.contains(&flag)
    }

    /// The `Attrb` column of `show dmvpn`: `S`/`D`/`I`, then `N` (NAT), `L` (local), `X` (no
    /// socket), `T1` (a route installed for it), `T2` (a next hop overridden by it).
    fn attributes(&self) -> String {
        let mut out = String::from(match self.kind {
            Kind::Static => "S",
            Kind::Dynamic => "D",
            Kind::Incomplete => "I",
        });
        for (present, letter) in [
            (self.claimed_nbma.is_some(), "N"),
            (self.has("local"), "L"),
            (self.no_socket, "X"),
            (self.has("rib") && !self.has("nho"), "T1"),
            (self.has("nho"), "T2"),
        ] {
            if present {
                out.push_str(letter);
            }
        }
        out
    }
}

/// Every entry of the node's NHRP cache: the hub's registrations, the configured mappings and
/// what resolutions and redirects taught it.
pub(crate) fn mappings(view: &View<'_>) -> Vec<Mapping> {
    let node = view.node;
    let mut out = Vec::new();
    let host = |a: Ipv4Addr| dmvpn_ip::Prefix::new(a, 32);
    if let Some(server) = node.nhrp_server() {
        for r in server.registrations() {
            let mut flags = Vec::new();
            if r.unique {
                flags.push("unique");
            }
            flags.extend(["registered", "used", "nhop"]);
            out.push(Mapping {
                prefix: host(r.tunnel),
                via: r.tunnel,
                nbma: Some(r.nbma),
                claimed_nbma: r.natted().then_some(r.claimed_nbma),
                kind: Kind::Dynamic,
                flags,
                created: r.updated_at,
                expires: Some(r.expires_at),
                no_socket: false,
            });
        }
    }
    let config = node.config();
    let nhs: Vec<_> = config.nhrp.nhs.iter().map(|n| (n.tunnel, n.nbma)).collect();
    let statics = nhs.iter().copied().chain(config.nhrp.maps.iter().copied());
    for (tunnel, nbma) in statics {
        if out
            .iter()
            .any(|m: &Mapping| m.kind == Kind::Static && m.via == tunnel)
        {
            continue;
        }
        let is_nhs = nhs.iter().any(|(t, _)| *t == tunnel);
        out.push(Mapping {
            prefix: host(tunnel),
            via: tunnel,
            nbma: Some(nbma),
            claimed_nbma: None,
            kind: Kind::Static,
            flags: if is_nhs {
                vec!["used", "nhs"]
            } else {
                vec!["used"]
            },
            created: view.started,
            expires: None,
            no_socket: false,
        });
    }
    out.extend(learnt(view));
    out.sort_by_key(|m| (m.prefix.addr(), m.prefix.prefix_len(), m.via));
    out
}

/// What resolutions and redirects taught the node (Phase 2 and 3), with IOS's flags: a
/// shortcut is `router rib` (an `H` route, `show dmvpn` `T1`) or `router rib nho` (it overrides
/// a routing protocol's next hop, `%`, `T2`); the other spoke's tunnel address, and a requester
/// we answered, `router implicit … nhop`; `used` once traffic took it; a resolution under way
/// is `incomplete`, `negative`.
fn learnt(view: &View<'_>) -> Vec<Mapping> {
    let node = view.node;
    let routes = node.shortcut_routes();
    let mut out = Vec::new();
    for s in node.shortcuts() {
        let own = s.prefix == dmvpn_ip::Prefix::new(s.next_hop, 32);
        let mut flags = vec!["router"];
        if own || s.kind == ShortcutKind::Reverse {
            flags.push("implicit");
        }
        if s.used {
            flags.push("used");
        }
        if own || s.kind == ShortcutKind::Reverse {
            flags.push("nhop");
        }
        match routes.iter().find(|r| r.shortcut.prefix == s.prefix) {
            Some(r) if r.overrides => flags.extend(["rib", "nho"]),
            Some(_) => flags.push("rib"),
            None => {}
        }
        out.push(Mapping {
            prefix: s.prefix,
            via: s.next_hop,
            nbma: Some(s.nbma),
            claimed_nbma: None,
            kind: Kind::Dynamic,
            flags,
            created: s.created_at,
            expires: Some(s.expires_at),
            no_socket: false,
        });
    }
    for (target, pending) in node.pending_resolutions() {
        out.push(Mapping {
            prefix: dmvpn_ip::Prefix::new(target, 32),
            via: target,
            nbma: None,
            claimed_nbma: None,
            kind: Kind::Incomplete,
            flags: vec!["negative"],
            created: pending.deadline - dmvpn_proto::nhrp::shortcut::RESOLUTION_TIMEOUT,
            expires: Some(pending.deadline),
            no_socket: false,
        });
    }
    out
}

/// `show dmvpn`: one group of rows per NBMA peer, one row per NHRP entry with that peer, as IOS
/// 15 prints it (a hub's registered spokes; a spoke's NHSes with the state of its tunnel to
/// each: `IKE` while IPsec is not up, `NHRP` while not registered, then `UP`; the other spokes a
/// spoke resolved, `NHRP` while the resolution is under way).
fn dmvpn(view: &View<'_>) -> String {
    let node = view.node;
    let protected = node.config().ipsec.is_some();
    let keyed = |nbma: &Ipv4Addr| !protected || view.children.contains_key(nbma);
    let up_since = |nbma: &Ipv4Addr, fallback: Instant| {
        view.children
            .get(nbma)
            .map_or(view.now - fallback, |c| view.now - c.installed_at)
    };
    // (NBMA, tunnel, state, since, attributes)
    let mut rows: Vec<(Ipv4Addr, Ipv4Addr, &str, Duration, String)> = Vec::new();
    for m in mappings(view) {
        let Some(nbma) = m
            .nbma
            .or((m.kind == Kind::Incomplete).then_some(Ipv4Addr::UNSPECIFIED))
        else {
            continue;
        };
        if m.kind == Kind::Static {
            continue; // (the NHS rows below carry the registration state)
        }
        let registration = m.has("registered");
        let (state, since) = match m.kind {
            Kind::Incomplete => ("NHRP", view.now - m.created),
            _ if registration => ("UP", view.now - m.created),
            _ if m.has("local") || keyed(&nbma) => ("UP", up_since(&nbma, m.created)),
            _ => ("IKE", view.now - m.created),
        };
        rows.push((nbma, m.via, state, since, m.attributes()));
    }
    if let Some(client) = node.nhrp_client() {
        for (nhs, state) in client.states() {
            let (state, since) = match state {
                _ if !keyed(&nhs.nbma) => ("IKE", view.now - view.started),
                NhsState::Registering { .. } => ("NHRP", view.now - view.started),
                _ => ("UP", up_since(&nhs.nbma, view.started)),
            };
            rows.push((nhs.nbma, nhs.tunnel, state, since, "S".to_owned()));
        }
    }
    rows.sort_by_key(|r| r.0);
    let peers = rows.chunk_by(|a, b| a.0 == b.0).count();
    let role = if node.nhrp_server().is_some() {
        "Hub"
    } else {
        "Spoke"
    };
    let mut out = String::from(
        "Legend: Attrb --> S - Static, D - Dynamic, I - Incomplete\n        \
         N - NATed, L - Local, X - No Socket\n        \
         T1 - Route Installed, T2 - Nexthop-override\n        \
         # Ent --> Number of NHRP entries with same NBMA peer\n        \
         NHS Status: E --> Expecting Replies, R --> Responding, W --> Waiting\n        \
         UpDn Time --> Up or Down Time for a Tunnel\n\
         ==========================================================================\n\n",
    );
    let _ = writeln!(
        out,
        "Interface: {}, IPv4 NHRP Details \nType:{role}, NHRP Peers:{peers},\n",
        view.interface,
    );
    out.push_str(" # Ent  Peer NBMA Addr Peer Tunnel Add State  UpDn Tm Attrb\n");
    out.push_str(" ----- --------------- --------------- ----- -------- -----\n");
    for group in rows.chunk_by(|a, b| a.0 == b.0) {
        for (n, (nbma, tunnel, state, since, attrb)) in group.iter().enumerate() {
            let (count, nbma) = if n == 0 {
                let nbma = if nbma.is_unspecified() {
                    "UNKNOWN".to_owned()
                } else {
                    nbma.to_string()
                };
                (group.len().to_string(), nbma)
            } else {
                (String::new(), String::new())
            };
            let _ = writeln!(
                out,
                "{count:>6} {nbma:<15} {:>15} {state:>5} {:>8} {attrb:>5}",
                tunnel.to_string(),
                clock(*since),
            );
        }
    }
    out
}

/// `show ip nhrp`: the cache, by destination.
fn nhrp(view: &View<'_>) -> String {
    cache(&mappings(view), view.now, view.interface)
}

/// The entries of `show ip nhrp` at `now`.
fn cache(mappings: &[Mapping], now: Instant, interface: &str) -> String {
    let mut out = String::new();
    for m in mappings {
        let _ = writeln!(out, "{} via {}", m.prefix, m.via);
        let expiry = m.expires.map_or_else(
            || "never expire".to_owned(),
            |at| format!("expire {}", clock(at - now)),
        );
        let _ = writeln!(
            out,
            "   {interface} created {}, {expiry}",
            clock(now - m.created)
        );
        let kind = match m.kind {
            Kind::Static => "static",
            Kind::Dynamic => "dynamic",
            Kind::Incomplete => "incomplete",
        };
        let _ = writeln!(out, "   Type: {kind}, Flags: {}", m.flags.join(" "));
        if let Some(nbma) = m.nbma {
            let _ = writeln!(out, "   NBMA address: {nbma}");
        }
        if let Some(claimed) = m.claimed_nbma {
            let _ = writeln!(out, "    (Claimed NBMA address: {claimed})");
        }
        if m.no_socket {
            let _ = writeln!(out, "    (no-socket)");
        }
    }
    out
}

fn nhs(view: &View<'_>) -> String {
    let mut out = String::from("Legend: E=Expecting replies, R=Responding, W=Waiting\n");
    let _ = writeln!(out, "{}:", view.interface);
    if let Some(client) = view.node.nhrp_client() {
        for (nhs, state) in client.states() {
            let flags = match state {
                NhsState::Registering { .. } => "E",
                NhsState::Registered { .. } => "RE",
                NhsState::Refreshing { .. } => "RE W",
                #[allow(unreachable_patterns)] // NhsState may grow
                _ => "",
            };
            let _ = writeln!(
                out,
                "{}  {flags} NBMA Address: {} priority = 0 cluster = 0",
                nhs.tunnel, nhs.nbma
            );
        }
    }
    out
}

fn eigrp(view: &View<'_>) -> String {
    let mut out = String::new();
    let Some(eigrp) = view.node.eigrp() else {
        return "% EIGRP is not running on the tunnel\n".to_owned();
    };
    let _ = writeln!(
        out,
        "EIGRP-IPv4 Neighbors for AS({})",
        eigrp.config().hello.autonomous_system
    );
    let _ = writeln!(
        out,
        "H   Address                 Interface              Hold Uptime   SRTT   RTO  Q  Seq"
    );
    let _ = writeln!(
        out,
        "                                                   (sec)         (ms)       Cnt Num"
    );
    for (h, neighbor) in eigrp.neighbors(view.now).enumerate() {
        let _ = writeln!(
            out,
            "{h:<3} {:<23} {:<22} {:>4} {:<8} {:>4} {:>5} {:>2} {:>4}",
            neighbor.address,
            short(view.interface),
            seconds(neighbor.hold),
            clock(neighbor.uptime),
            neighbor.srtt.total_micros() / 1000,
            neighbor.rto.total_micros() / 1000,
            neighbor.queue,
            neighbor.sequence,
        );
    }
    out
}

/// The administrative distance IOS gives NHRP routes.
const NHRP_DISTANCE: u8 = 250;

/// `show ip route`: the routes through the tunnel; a shortcut is an NHRP route (`H`) of its
/// own, or, for the same prefix as a routing protocol's route, overrides that route's next hop
/// (`%`, the route shown with its own next hop as IOS does).
fn routes(view: &View<'_>) -> String {
    let interface = view.interface;
    let shortcuts = view.node.shortcut_routes();
    // (prefix, code, line after the prefix)
    let mut lines: Vec<(dmvpn_ip::Prefix, String, String)> = Vec::new();
    for route in view.node.routes() {
        let code = match route.source {
            RouteSource::Connected => "C",
            RouteSource::Static => "S",
            RouteSource::Eigrp => "D",
            RouteSource::EigrpExternal => "D EX",
            #[allow(unreachable_patterns)] // RouteSource may grow
            _ => "?",
        };
        let overridden = shortcuts
            .iter()
            .any(|r| r.overrides && r.shortcut.prefix == route.prefix);
        let code = if overridden {
            format!("{code:<4}%")
        } else {
            code.to_owned()
        };
        let rest = match route.next_hop {
            None => format!("is directly connected, {interface}"),
            Some(hop) => format!(
                "[{}/{}] via {hop}, {interface}",
                route.source.distance(),
                route.metric
            ),
        };
        lines.push((route.prefix, code, rest));
    }
    for r in shortcuts.iter().filter(|r| !r.overrides) {
        let rest = format!(
            "[{NHRP_DISTANCE}/255] via {}, {}, {interface}",
            r.shortcut.next_hop,
            clock(view.now - r.shortcut.created_at)
        );
        lines.push((r.shortcut.prefix, "H".to_owned(), rest));
    }
    lines.sort_by_key(|(p, _, _)| (p.addr(), p.prefix_len()));
    let mut out =
        String::from("Codes: C - connected, S - static, D - EIGRP, EX - EIGRP external\n");
    if !shortcuts.is_empty() {
        out.push_str("       H - NHRP, % - next hop override\n");
    }
    out.push_str("\nGateway of last resort is not set\n\n");
    for (prefix, code, rest) in lines {
        let _ = writeln!(out, "{code:<8} {prefix} {rest}");
    }
    out
}

fn isakmp(view: &View<'_>) -> String {
    let mut out = String::from(
        "IPv4 Crypto ISAKMP SA\ndst             src             state          conn-id status\n",
    );
    let local = view.node.config().tunnel.nbma;
    for (peer, sa) in view.ike {
        let (dst, src) = if sa.initiator {
            (*peer, local)
        } else {
            (local, *peer)
        };
        let _ = writeln!(
            out,
            "{:<15} {:<15} {:<14} {:>7} ACTIVE",
            dst.to_string(),
            src.to_string(),
            "QM_IDLE",
            sa.conn_id
        );
        let _ = writeln!(
            out,
            "  ! {}, up {}",
            sa.suite,
            clock(view.now - sa.established_at)
        );
    }
    out
}

/// `show crypto ikev2 sa [detailed]` as IOS prints it: a header and three lines per IKE SA,
/// the algorithms by IOS's names (`Encr: AES-CBC, keysize: 256, PRF: SHA256, Hash: SHA256,
/// DH Grp:14`), the lifetime and the seconds it has been up; `detailed` adds the SPIs, our
/// role, NAT detection and the Child SAs.
fn ikev2_sas(view: &View<'_>, detailed: bool) -> String {
    let mut out = String::from(" IPv4 Crypto IKEv2  SA \n\n");
    for sa in view.ikev2 {
        let _ = writeln!(
            out,
            "Tunnel-id Local                 Remote                fvrf/ivrf            Status "
        );
        let _ = writeln!(
            out,
            "{:<10}{:<22}{:<22}{:<21}{:<7}",
            sa.tunnel_id,
            format!("{}/500", sa.local),
            format!("{}/500", sa.peer),
            "none/none",
            sa.status.ios()
        );
        let algorithms = sa.algorithms.map_or_else(
            || "Encr: Unknown - 0, PRF: Unknown - 0, Hash: None, DH Grp:0".to_owned(),
            |a| {
                format!(
                    "Encr: {}, PRF: {}, Hash: {}, DH Grp:{}",
                    encr(a.encryption),
                    prf(a.prf),
                    hash(a.integrity),
                    a.group.0
                )
            },
        );
        let _ = writeln!(out, "      {algorithms}, Auth sign: PSK, Auth verify: PSK");
        let _ = writeln!(
            out,
            "      Life/Active Time: {}/{} sec",
            seconds(sa.lifetime),
            seconds(sa.active(view.now))
        );
        if detailed {
            let initiator = sa.role == ike::Role::Initiator;
            let (ours, theirs) = if initiator {
                (sa.initiator_spi, sa.responder_spi)
            } else {
                (sa.responder_spi, sa.initiator_spi)
            };
            let hex = |spi: [u8; 8]| format!("{:016X}", u64::from_be_bytes(spi));
            let _ = writeln!(
                out,
                "      Local spi: {}       Remote spi: {}",
                hex(ours),
                hex(theirs)
            );
            let _ = writeln!(out, "      Local id: {}", sa.local);
            let _ = writeln!(out, "      Remote id: {}", sa.peer);
            let _ = writeln!(
                out,
                "      NAT-T is {}detected",
                if sa.nat_detected { "" } else { "not " }
            );
            let _ = writeln!(
                out,
                "      Initiator of SA : {}",
                if initiator { "Yes" } else { "No" }
            );
            for child in &sa.children {
                let _ = writeln!(
                    out,
                    "      Child sa: local selector  {}/0 - {}/65535",
                    sa.local, sa.local
                );
                let _ = writeln!(
                    out,
                    "                remote selector {}/0 - {}/65535",
                    sa.peer, sa.peer
                );
                let _ = writeln!(
                    out,
                    "                ESP spi in/out: 0x{:X}/0x{:X}",
                    child.inbound_spi, child.outbound_spi
                );
            }
        }
        out.push('\n');
    }
    out.push_str(" IPv6 Crypto IKEv2  SA \n");
    out
}

/// IOS's `Encr:` of an IKEv2 SA (with `keysize:` for AES).
fn encr(encryption: Encryption) -> String {
    match encryption {
        Encryption::Null => "NULL".to_owned(),
        Encryption::TripleDes => "3DES".to_owned(),
        Encryption::AesCbc(bits) => format!("AES-CBC, keysize: {bits}"),
        Encryption::AesCtr(bits) => format!("AES-CTR, keysize: {bits}"),
        Encryption::AesCcm(bits, _) => format!("AES-CCM, keysize: {bits}"),
        Encryption::AesGcm(bits, _) => format!("AES-GCM, keysize: {bits}"),
    }
}

/// IOS's `PRF:` (`SHA1`, `SHA256`, …).
const fn prf(prf: Prf) -> &'static str {
    match prf {
        Prf::HmacMd5 => "MD5",
        Prf::HmacSha1 => "SHA1",
        Prf::HmacSha256 => "SHA256",
        Prf::HmacSha384 => "SHA384",
        Prf::HmacSha512 => "SHA512",
    }
}

/// IOS's `Hash:` (the integrity transform: `SHA96` for HMAC-SHA1-96, `None` with AES-GCM).
fn hash(integrity: Integrity) -> String {
    match integrity {
        Integrity::None => "None".to_owned(),
        Integrity::HmacMd5_96 => "MD596".to_owned(),
        Integrity::HmacSha1_96 => "SHA96".to_owned(),
        Integrity::HmacSha256_128 => "SHA256".to_owned(),
        Integrity::HmacSha384_192 => "SHA384".to_owned(),
        Integrity::HmacSha512_256 => "SHA512".to_owned(),
        other => format!("{other:?}"),
    }
}

fn ipsec(view: &View<'_>) -> String {
    let node = view.node;
    let local = node.config().tunnel.nbma;
    let mut out = format!(
        "\ninterface: {}\n    Crypto map tag: {}-head-0, local addr {local}\n",
        view.interface, view.interface
    );
    for (peer, child) in view.children {
        let sad = node.sad();
        let outbound = sad.outbound(local, *peer);
        let inbound = sad.inbound(child.inbound_spi, local);
        let packets_out = outbound.map_or(0, |o| o.next_seq().saturating_sub(1));
        let _ = writeln!(out, "\n   protected vrf: (none)");
        let _ = writeln!(
            out,
            "   local  ident (addr/mask/prot/port): ({local}/255.255.255.255/47/0)"
        );
        let _ = writeln!(
            out,
            "   remote ident (addr/mask/prot/port): ({peer}/255.255.255.255/47/0)"
        );
        let _ = writeln!(out, "   current_peer {peer} port 500");
        let _ = writeln!(
            out,
            "     #pkts encaps: {packets_out}, #pkts encrypt: {packets_out}, #pkts digest: {packets_out}"
        );
        let _ = writeln!(
            out,
            "     #bytes encaps: {}, #bytes decaps: {}",
            outbound.map_or(0, |o| o.usage().bytes()),
            inbound.map_or(0, |i| i.usage().bytes())
        );
        let _ = writeln!(
            out,
            "     local crypto endpt.: {local}, remote crypto endpt.: {peer}"
        );
        let _ = writeln!(
            out,
            "     current outbound spi: 0x{:X}({})",
            child.outbound_spi, child.outbound_spi
        );
        let remaining = child.lifetime.map_or_else(
            || "-".to_owned(),
            |l| seconds(child.installed_at + l - view.now).to_string(),
        );
        for (direction, spi) in [
            ("inbound", child.inbound_spi),
            ("outbound", child.outbound_spi),
        ] {
            let _ = writeln!(out, "\n     {direction} esp sas:");
            let _ = writeln!(out, "      spi: 0x{spi:X}({spi})");
            let _ = writeln!(out, "        transform: {} ,", child.transform);
            let _ = writeln!(out, "        in use settings ={{Transport, }}");
            let _ = writeln!(
                out,
                "        sa timing: remaining key lifetime (sec): ({remaining})"
            );
            let _ = writeln!(out, "        Status: ACTIVE(ACTIVE)");
        }
    }
    out
}

fn counters(view: &View<'_>) -> String {
    let c = view.node.counters();
    let mut out = format!(
        "{}: nbma in {}, nbma out {}, from host {}, to host {}, hairpinned {}, esp in {}, esp out {}\n",
        view.interface,
        c.nbma_in,
        c.nbma_out,
        c.tunnel_in,
        c.delivered,
        c.forwarded,
        c.esp_in,
        c.esp_out
    );
    for (reason, n) in c.nonzero_drops() {
        let _ = writeln!(out, "  dropped {reason:?}: {n}");
    }
    if let Some(error) = &c.last_eigrp_error {
        let _ = writeln!(out, "  last EIGRP packet refused: {error}");
    }
    let ike = view.ike_counters;
    if ike.refused > 0 {
        let _ = writeln!(out, "  ISAKMP messages refused: {}", ike.refused);
    }
    if let Some(error) = &ike.last_error {
        let _ = writeln!(out, "  last ISAKMP message refused: {error}");
    }
    let control = view.control;
    let (busy, slow) = (
        control
            .refused_busy
            .load(std::sync::atomic::Ordering::Relaxed),
        control.timed_out.load(std::sync::atomic::Ordering::Relaxed),
    );
    if busy + slow > 0 {
        let _ = writeln!(
            out,
            "  control clients refused (too many at once): {busy}, closed (too slow): {slow}"
        );
    }
    for (limit, n) in view.limits.nonzero() {
        let episodes = view.limits.episodes(limit);
        let _ = writeln!(out, "  limit {limit}: {n} refused ({episodes} episodes)");
    }
    if let Some(notice) = view.limits.last() {
        let _ = writeln!(out, "  last limit episode: {notice}");
    }
    out
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use dmvpn_isakmp::consts::Group;
    use dmvpn_proto::ike::{EspAuth, EspCipher, TestEntropy, TransformSet};
    use dmvpn_proto::ikev2::IkeProposal;
    use dmvpn_proto::ipsec::Lifetime;
    use dmvpn_proto::nhrp::Nhs;
    use dmvpn_proto::node::sim::{Cloud, XorShift};
    use dmvpn_proto::node::{IpsecConfig, NodeConfig};

    pub(crate) type R = Router<TestEntropy>;
    pub(crate) const HUB: Ipv4Addr = Ipv4Addr::new(192, 0, 2, 1);
    pub(crate) const SPOKE: Ipv4Addr = Ipv4Addr::new(192, 0, 2, 11);

    /// A hub (member 0) and one spoke (member 1) keying with IKEv2 (aes-cbc-256, sha256,
    /// group 14; ESP aes-256 sha256-hmac), with the wire tapped, run for 30 s.
    pub(crate) fn ikev2_cloud() -> Cloud<R> {
        let mut cloud = Cloud::of(Instant::ZERO, 7);
        cloud.tap = Some(Vec::new());
        let hub_tunnel = Ipv4Addr::new(10, 99, 200, 1);
        let nhs = Nhs {
            tunnel: hub_tunnel,
            nbma: HUB,
        };
        let configs = [
            NodeConfig::hub(hub_tunnel, 24, HUB),
            NodeConfig::spoke(Ipv4Addr::new(10, 99, 200, 11), 24, SPOKE, nhs),
        ];
        for mut config in configs {
            config.ipsec = Some(IpsecConfig {
                transform_set: dmvpn_proto::node::TransformSet {
                    encryption: dmvpn_esp::Encryption::AesCbc,
                    key_bits: 256,
                    integrity: dmvpn_esp::Integrity::HmacSha256_128,
                },
                lifetime: Lifetime::ios_default(),
            });
            let seed = cloud.next_seed();
            let local = config.tunnel.nbma;
            let node = Node::new(config, cloud.now, Box::new(XorShift::new(seed)));
            let proposal = IkeProposal::new(
                Encryption::AesCbc(256),
                Integrity::HmacSha256_128,
                Group::MODP_2048,
            );
            let set = TransformSet {
                encryption: EspCipher::Aes256,
                integrity: EspAuth::Sha256,
            };
            let ike = ikev2::Config::dmvpn(local, proposal, b"cisco123", set);
            let endpoint = ikev2::Endpoint::new(ike, TestEntropy::new(seed));
            cloud.add_machine(Router::with_ikev2(node, endpoint, cloud.now));
        }
        cloud.run_until(Instant::ZERO + Duration::from_secs(30));
        cloud
    }

    /// `show crypto ikev2 sa` of both ends, as IOS prints it; `show crypto ipsec sa` and `show
    /// dmvpn` over IKEv2.
    #[test]
    fn ikev2_sa_as_ios_prints_it() {
        let cloud = ikev2_cloud();
        let now = cloud.now;
        let show = |i: usize, line: &str| {
            answer(&cloud.members[i].node, now, Instant::ZERO, "Tunnel0", line)
        };
        let spoke = show(1, "show crypto ikev2 sa");
        let lines: Vec<&str> = spoke.lines().collect();
        assert_eq!(lines[0], " IPv4 Crypto IKEv2  SA ", "{spoke}");
        assert_eq!(
            lines[2],
            "Tunnel-id Local                 Remote                fvrf/ivrf            Status "
        );
        assert_eq!(
            lines[3],
            "1         192.0.2.11/500        192.0.2.1/500         none/none            READY  "
        );
        assert_eq!(
            lines[4],
            "      Encr: AES-CBC, keysize: 256, PRF: SHA256, Hash: SHA256, DH Grp:14, Auth sign: PSK, Auth verify: PSK"
        );
        let active: i64 = (lines[5].strip_prefix("      Life/Active Time: 86400/"))
            .and_then(|rest| rest.strip_suffix(" sec"))
            .and_then(|n| n.parse().ok())
            .unwrap_or_else(|| panic!("{}", lines[5]));
        assert!((28..=30).contains(&active), "{active}");
        assert_eq!(lines.last(), Some(&" IPv6 Crypto IKEv2  SA "));
        let hub = show(0, "crypto ikev2 sa detailed");
        assert!(
            hub.contains("192.0.2.1/500         192.0.2.11/500"),
            "{hub}"
        );
        assert!(hub.contains("      Initiator of SA : No\n"), "{hub}");
        assert!(hub.contains("      NAT-T is not detected\n"), "{hub}");
        let sa = &cloud.members[0].node.ikev2().unwrap().sas()[0];
        let spi = format!(
            "      Local spi: {:016X}       Remote spi: {:016X}\n",
            u64::from_be_bytes(sa.responder_spi),
            u64::from_be_bytes(sa.initiator_spi)
        );
        assert!(hub.contains(&spi), "{hub}");
        let child = sa.children[0];
        let esp = format!(
            "ESP spi in/out: 0x{:X}/0x{:X}\n",
            child.inbound_spi, child.outbound_spi
        );
        assert!(hub.contains(&esp), "{hub}");
        // The IPsec SAs and the DMVPN table over IKEv2.
        let ipsec = show(0, "show crypto ipsec sa");
        assert!(
            ipsec.contains("current_peer 192.0.2.11 port 500"),
            "{ipsec}"
        );
        assert!(ipsec.contains(&format!("current outbound spi: 0x{:X}", child.outbound_spi)));
        let dmvpn = show(1, "show dmvpn");
        assert!(
            dmvpn.contains("192.0.2.1") && dmvpn.contains(" UP "),
            "{dmvpn}"
        );
        // IKEv1's table is empty, and an IKEv1 router lists no IKEv2 SA.
        assert!(!show(0, "show crypto isakmp sa").contains("QM_IDLE"));
        let router = &cloud.members[0].node;
        let sas = Sas::of(router);
        let control = crate::io::ControlCounters::default();
        let empty = View {
            node: router.node(),
            now,
            started: Instant::ZERO,
            interface: "Tunnel0",
            ike: &sas.ike,
            ikev2: &[],
            children: &sas.children,
            ike_counters: &sas.counters,
            control: &control,
            limits: router.limits(),
        };
        assert_eq!(
            command(&empty, "show crypto ikev2 sa"),
            " IPv4 Crypto IKEv2  SA \n\n IPv6 Crypto IKEv2  SA \n"
        );
    }

    /// IOS's names of the IKEv2 algorithms.
    #[test]
    fn ikev2_algorithm_names() {
        assert_eq!(encr(Encryption::TripleDes), "3DES");
        assert_eq!(encr(Encryption::AesGcm(256, 16)), "AES-GCM, keysize: 256");
        assert_eq!(encr(Encryption::AesCbc(128)), "AES-CBC, keysize: 128");
        assert_eq!(prf(Prf::HmacSha1), "SHA1");
        assert_eq!(prf(Prf::HmacSha512), "SHA512");
        assert_eq!(hash(Integrity::HmacSha1_96), "SHA96");
        assert_eq!(hash(Integrity::HmacMd5_96), "MD596");
        assert_eq!(hash(Integrity::None), "None");
        assert_eq!(hash(Integrity::HmacSha384_192), "SHA384");
    }

    #[test]
    fn clocks() {
        assert_eq!(clock(Duration::from_secs(3723)), "01:02:03");
        assert_eq!(clock(Duration::from_secs(90_000)), "1d01h");
        assert_eq!(clock(Duration::from_secs(-5)), "00:00:00");
        assert_eq!(short("Tunnel0"), "Tu0");
        assert_eq!(short("eth0"), "eth0");
    }

    /// A Phase 3 spoke's entries as IOS prints them: the shortcut overriding EIGRP's next hop
    /// (`router rib nho`, `DT2`), the other spoke's tunnel address (`router implicit used
    /// nhop`, `D`), a resolution under way (`incomplete`, `I`).
    #[test]
    fn shortcut_entries() {
        let at = |s| Instant::ZERO + Duration::from_secs(s);
        let entry = |prefix: &str, via: [u8; 4], kind, flags: Vec<&'static str>| Mapping {
            prefix: prefix.parse().unwrap(),
            via: via.into(),
            nbma: (kind != Kind::Incomplete).then_some(Ipv4Addr::new(100, 1, 3, 3)),
            claimed_nbma: None,
            kind,
            flags,
            created: at(30),
            expires: Some(at(330)),
            no_socket: false,
        };
        let nho = entry(
            "3.3.3.3/32",
            [172, 16, 1, 3],
            Kind::Dynamic,
            vec!["router", "used", "rib", "nho"],
        );
        let own = entry(
            "172.16.1.3/32",
            [172, 16, 1, 3],
            Kind::Dynamic,
            vec!["router", "implicit", "used", "nhop"],
        );
        let pending = entry(
            "4.4.4.4/32",
            [4, 4, 4, 4],
            Kind::Incomplete,
            vec!["negative"],
        );
        assert_eq!(nho.attributes(), "DT2");
        assert_eq!(own.attributes(), "D");
        assert_eq!(pending.attributes(), "I");
        let rib = Mapping {
            flags: vec!["router", "rib"],
            ..nho
        };
        assert_eq!(rib.attributes(), "DT1");
        let text = cache(&[nho, own, pending], at(60), "Tunnel0");
        assert_eq!(
            text,
            "3.3.3.3/32 via 172.16.1.3\n   Tunnel0 created 00:00:30, expire 00:04:30\n   \
             Type: dynamic, Flags: router used rib nho\n   NBMA address: 100.1.3.3\n\
             172.16.1.3/32 via 172.16.1.3\n   Tunnel0 created 00:00:30, expire 00:04:30\n   \
             Type: dynamic, Flags: router implicit used nhop\n   NBMA address: 100.1.3.3\n\
             4.4.4.4/32 via 4.4.4.4\n   Tunnel0 created 00:00:30, expire 00:04:30\n   \
             Type: incomplete, Flags: negative\n"
        );
    }
}
