//! The whole DMVPN cloud checked at once: a hub's and its spokes' configurations (told apart by
//! content: a tunnel with `ip nhrp nhs` is a spoke), each parsed and checked on its own, then
//! against each other, as IOS would meet them on the wire.
//!
//! Each [`Finding`] says what IOS would do (`the hub refuses spoke R3's registration: NHRP
//! authentication mismatch`), names both files and lines, and gives the fix. Its [`Finding::id`]
//! is the rule of `dmvpn sessions` that diagnoses the same fault from a capture
//! (`nhrp-auth-mismatch`, `ike-psk-mismatch`, `eigrp-split-horizon`…), or one of this module's
//! own for faults a capture does not name (`ike-no-psk`, `nhrp-no-multicast`…).
//!
//! ```
//! use dmvpn_router::config::Options;
//! use dmvpn_router::config::cloud::{self, Member};
//!
//! let hub = Member::parse("R1", include_str!("../../../../testdata/router/tutorial/R1.cfg"), Options::default())?;
//! let spoke = include_str!("../../../../testdata/router/tutorial/R2.cfg");
//! let good = Member::parse("R2", spoke, Options::default())?;
//! assert!(cloud::check(&[hub.clone(), good]).is_empty());
//!
//! let wrong = spoke.replace("authentication pass", "authentication word");
//! let bad = Member::parse("R2", &wrong, Options::default())?;
//! let findings = cloud::check(&[hub, bad]);
//! assert_eq!(findings.len(), 1);
//! assert_eq!(findings[0].id, "nhrp-auth-mismatch");
//! # Ok::<(), dmvpn_router::config::Errors>(())
//! ```

use core::fmt;
use std::net::Ipv4Addr;

use super::parse::{Origin, Origins};
use super::{
    Config, Errors, EspMode, Interface, IsakmpPolicy, MulticastMap, Options, Parsed, Role, Tunnel,
    TunnelSource,
};

/// Most `ip mtu` on a protected GRE tunnel that never makes ESP fragment on a 1500-byte path:
/// 1500 less outer IPv4 (20), ESP header, IV, padding and ICV (up to 58 with AES-CBC and
/// SHA-1), and GRE (4, 8 with a key): Cisco's 1400 leaves room for all of it.
pub const MAX_PROTECTED_MTU: u16 = 1400;

/// IOS's `ip mtu` of a GRE tunnel over a 1500-byte interface, when none is set.
const GRE_DEFAULT_MTU: u16 = 1476;

/// One router of the cloud: its configuration, where each command was, and its text.
#[derive(Clone, Debug)]
pub struct Member {
    /// What findings call it: the file name, or the hostname.
    pub name: String,
    /// The configuration.
    pub config: Config,
    origins: Origins,
    lines: Vec<String>,
}

impl Member {
    /// Parses one router's configuration.
    ///
    /// # Errors
    ///
    /// As [`Config::parse`].
    pub fn parse(name: &str, text: &str, options: Options) -> Result<Self, Errors> {
        Self::parse_with_warnings(name, text, options).map(|(member, _)| member)
    }

    /// Parses one router's configuration and gives its warnings too.
    ///
    /// # Errors
    ///
    /// As [`Config::parse`].
    pub fn parse_with_warnings(
        name: &str,
        text: &str,
        options: Options,
    ) -> Result<(Self, Vec<super::Diagnostic>), Errors> {
        let (Parsed { config, warnings }, origins) = Config::parse_placed(text, options)?;
        Ok((
            Self {
                name: name.to_owned(),
                config,
                origins,
                lines: text.lines().map(str::to_owned).collect(),
            },
            warnings,
        ))
    }

    /// A router built in code (findings about it have no lines).
    #[must_use]
    pub fn from_config(name: &str, config: Config) -> Self {
        Self {
            name: name.to_owned(),
            config,
            origins: Origins::default(),
            lines: Vec::new(),
        }
    }

    /// The router's name in messages: its hostname, else the file's name.
    fn label(&self) -> &str {
        self.config.hostname.as_deref().unwrap_or(&self.name)
    }

    fn place(&self, origin: Origin) -> Place {
        let line = self.origins.get(origin).map_or(0, |p| p.line);
        Place {
            file: self.name.clone(),
            line,
            text: line
                .checked_sub(1)
                .and_then(|n| self.lines.get(n))
                .map(|t| super::error::redact(t))
                .unwrap_or_default(),
        }
    }

    fn tunnel_index(&self) -> Option<usize> {
        self.config
            .interfaces
            .iter()
            .position(|i| i.tunnel.is_some())
    }

    /// The place of the tunnel's interface line, or of one of its commands.
    fn at(&self, origin: impl Fn(usize) -> Origin) -> Place {
        match self.tunnel_index() {
            Some(index) if self.origins.get(origin(index)).is_some() => self.place(origin(index)),
            Some(index) => self.place(Origin::Interface(index)),
            None => self.place(Origin::Hostname),
        }
    }

    fn interface(&self) -> Option<&Interface> {
        self.config.tunnel_interface()
    }

    fn tunnel(&self) -> Option<&Tunnel> {
        self.config.tunnel()
    }

    fn tunnel_address(&self) -> Option<Ipv4Addr> {
        self.interface()?.address.map(|a| a.address)
    }

    /// The EIGRP AS that runs on the tunnel.
    fn eigrp_on_tunnel(&self) -> Option<usize> {
        let address = self.tunnel_address()?;
        self.config.eigrp.iter().position(|e| e.covers(address))
    }

    fn protected(&self) -> bool {
        self.config.protection().is_some()
    }
}

/// A line of one file that a finding is about.
#[derive(Clone, Debug, Eq, PartialEq)]
pub struct Place {
    /// The file (the member's name).
    pub file: String,
    /// The line, from 1; 0 when the command is missing (then the finding says where it goes).
    pub line: usize,
    /// The line's text, secrets masked.
    pub text: String,
}

/// How bad a finding is.
#[derive(Clone, Copy, Debug, Eq, Ord, PartialEq, PartialOrd)]
pub enum Severity {
    /// It runs, but not as well as it could.
    Warning,
    /// Something does not come up.
    Error,
}

/// One fault of the cloud.
#[derive(Clone, Debug, Eq, PartialEq)]
pub struct Finding {
    /// The rule, as `dmvpn sessions` names the same fault.
    pub id: &'static str,
    /// How bad.
    pub severity: Severity,
    /// What IOS would do, in words.
    pub message: String,
    /// The lines concerned, in both files.
    pub places: Vec<Place>,
    /// What to change.
    pub fix: String,
}

impl fmt::Display for Finding {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let level = match self.severity {
            Severity::Error => "error",
            Severity::Warning => "warning",
        };
        write!(f, "{level}[{}]: {}", self.id, self.message)?;
        for place in &self.places {
            if place.line == 0 {
                write!(f, "\n  --> {}: (not configured)", place.file)?;
            } else {
                write!(
                    f,
                    "\n  --> {}:{}: {}",
                    place.file,
                    place.line,
                    place.text.trim()
                )?;
            }
        }
        write!(f, "\n  fix: {}", self.fix)
    }
}

struct Findings(Vec<Finding>);

impl Findings {
    fn add(
        &mut self,
        id: &'static str,
        severity: Severity,
        message: String,
        places: Vec<Place>,
        fix: String,
    ) {
        self.0.push(Finding {
            id,
            severity,
            message,
            places,
            fix,
        });
    }
}

/// Checks the routers against each other. Each is assumed to have passed [`Config::parse`].
/// The findings come in the order of the members, hub checks first.
#[must_use]
pub fn check(members: &[Member]) -> Vec<Finding> {
    let mut out = Findings(Vec::new());
    let hubs: Vec<&Member> = members
        .iter()
        .filter(|m| m.tunnel().is_some_and(|t| t.role() == Role::Hub))
        .collect();
    let spokes: Vec<&Member> = members
        .iter()
        .filter(|m| m.tunnel().is_some_and(|t| t.role() == Role::Spoke))
        .collect();
    duplicates(members, &mut out);
    for member in members {
        every_router(member, &mut out);
    }
    for hub in &hubs {
        hub_alone(hub, &spokes, &mut out);
        phase3(hub, &spokes, &mut out);
    }
    for spoke in &spokes {
        let Some(tunnel) = spoke.tunnel() else {
            continue;
        };
        for (n, nhs) in tunnel.nhrp.nhs.iter().enumerate() {
            let hub = hubs
                .iter()
                .find(|h| h.tunnel_address() == Some(nhs.address))
                .copied();
            match (hub, hubs.as_slice()) {
                (Some(hub), _) => pair(hub, spoke, n, &mut out),
                (None, [only]) => {
                    wrong_nhs(only, spoke, n, &mut out);
                    pair(only, spoke, n, &mut out);
                }
                (None, _) => {}
            }
        }
    }
    mtu(members, &mut out);
    out.0
}

fn duplicates(members: &[Member], out: &mut Findings) {
    for (i, a) in members.iter().enumerate() {
        for b in &members[i + 1..] {
            if let (Some(x), Some(y)) = (a.tunnel_address(), b.tunnel_address())
                && x == y
            {
                out.add(
                    "duplicate-tunnel-address",
                    Severity::Error,
                    format!(
                        "{} and {} both have tunnel address {x}: NHRP maps it to one NBMA address at a time, and the hub's cache flaps between them",
                        a.label(),
                        b.label()
                    ),
                    vec![a.at(Origin::Address), b.at(Origin::Address)],
                    format!("give {} its own address in the tunnel subnet", b.label()),
                );
            }
            if let (Some(x), Some(y)) = (a.config.nbma_address(), b.config.nbma_address())
                && x == y
            {
                out.add(
                    "duplicate-nbma-address",
                    Severity::Error,
                    format!(
                        "{} and {} both source the tunnel from NBMA address {x}: IKE and GRE from one reach the other",
                        a.label(),
                        b.label()
                    ),
                    vec![a.at(Origin::TunnelSource), b.at(Origin::TunnelSource)],
                    "each router needs its own public address".to_owned(),
                );
            }
        }
    }
}

/// What one router needs whatever its peers: its tunnel and tunnel source up, EIGRP on the
/// tunnel.
fn every_router(member: &Member, out: &mut Findings) {
    let Some(address) = member.tunnel_address() else {
        return;
    };
    let source = match member.tunnel().and_then(|t| t.source.as_ref()) {
        Some(TunnelSource::Interface(name)) => member.config.interface(name),
        _ => None,
    };
    let down = member
        .interface()
        .into_iter()
        .chain(source)
        .find(|i| i.shutdown == Some(true));
    if let Some(interface) = down {
        let index = (member.config.interfaces.iter())
            .position(|i| i.name == interface.name)
            .unwrap_or(0);
        out.add(
            "interface-shutdown",
            Severity::Error,
            format!(
                "{}: {} is `shutdown`, so the tunnel is down: no IKE, no NHRP, no EIGRP",
                member.label(),
                interface.name
            ),
            vec![member.place(Origin::Shutdown(index))],
            format!("`no shutdown` under `interface {}`", interface.name),
        );
    }
    if member.eigrp_on_tunnel().is_none() {
        // A `router eigrp` that leaves the tunnel out is a mistake; no routing protocol at all is
        // a configuration IOS runs (static routes over the tunnel), so only a warning.
        let (places, severity) = match member.config.eigrp.first() {
            Some(_) => (vec![member.place(Origin::Eigrp(0))], Severity::Error),
            None => (vec![member.at(Origin::Address)], Severity::Warning),
        };
        out.add(
            "eigrp-not-on-tunnel",
            severity,
            format!(
                "{}: no `router eigrp` network covers tunnel address {address}: EIGRP sends no hello on the tunnel and learns no route over it",
                member.label()
            ),
            places,
            format!(
                "add `network {} {}` under `router eigrp`",
                member
                    .interface()
                    .and_then(|i| i.address)
                    .map_or(address, |a| a.network()),
                member.interface().and_then(|i| i.address).map_or_else(
                    || "0.0.0.0".to_owned(),
                    |a| Ipv4Addr::from_bits(!a.mask.to_bits()).to_string()
                )
            ),
        );
    }
}

/// What a hub needs for its spokes.
fn hub_alone(hub: &Member, spokes: &[&Member], out: &mut Findings) {
    let Some(tunnel) = hub.tunnel() else {
        return;
    };
    // Hellos reach a spoke through `ip nhrp map multicast dynamic`, or a static multicast map
    // of its NBMA address.
    let statics = |nbma: Ipv4Addr| tunnel.nhrp.multicast.contains(&MulticastMap::Nbma(nbma));
    let unreached = spokes
        .iter()
        .any(|s| s.config.nbma_address().is_none_or(|nbma| !statics(nbma)));
    let reaches_all = if spokes.is_empty() {
        !tunnel.nhrp.multicast.is_empty()
    } else {
        !unreached
    };
    if !tunnel.nhrp.multicast.contains(&MulticastMap::Dynamic) && !reaches_all {
        out.add(
            "nhrp-no-multicast",
            Severity::Error,
            format!(
                "hub {} has no `ip nhrp map multicast dynamic`: its EIGRP hellos reach no spoke, so no adjacency comes up and no spoke learns a route",
                hub.label()
            ),
            vec![hub.at(Origin::Interface)],
            "add `ip nhrp map multicast dynamic` under the hub's tunnel interface".to_owned(),
        );
    }
    let Some(eigrp) = hub.eigrp_on_tunnel().and_then(|n| hub.config.eigrp.get(n)) else {
        return;
    };
    if !tunnel.no_split_horizon.contains(&eigrp.asn) {
        out.add(
            "eigrp-split-horizon",
            // Checked alone, the hub's spokes are not known yet: what they will miss is said.
            if spokes.is_empty() {
                Severity::Warning
            } else {
                Severity::Error
            },
            format!(
                "hub {} keeps EIGRP split horizon on its tunnel: routes learnt from one spoke are not advertised back out of the tunnel, so no spoke learns another spoke's networks",
                hub.label()
            ),
            vec![hub.at(Origin::Interface)],
            format!(
                "add `no ip split-horizon eigrp {}` under the hub's tunnel interface",
                eigrp.asn
            ),
        );
    }
    let point_to_point = spokes
        .iter()
        .any(|s| s.tunnel().is_some_and(|t| !t.is_multipoint()));
    // With every spoke on mGRE, `no ip next-hop-self` is Phase 2: each spoke resolves the other
    // spoke's tunnel address through the hub and sends to it directly.
    let phase2 = !spokes.is_empty() && !point_to_point;
    if let Some(n) =
        (tunnel.no_next_hop_self.iter().position(|a| *a == eigrp.asn)).filter(|_| !phase2)
    {
        let index = hub.tunnel_index().unwrap_or(0);
        out.add(
            "eigrp-next-hop-self-phase1",
            if point_to_point {
                Severity::Error
            } else {
                Severity::Warning
            },
            format!(
                "hub {} has `no ip next-hop-self eigrp {}`: spokes learn each other's routes with the other spoke as next hop, which a Phase 1 (point-to-point GRE) spoke cannot reach; Phase 1 needs the hub as next hop",
                hub.label(),
                eigrp.asn
            ),
            vec![hub.place(Origin::NextHopSelf(index, n))],
            format!("remove `no ip next-hop-self eigrp {}` (Phase 1)", eigrp.asn),
        );
    }
}

/// Phase 3 needs both halves: `ip nhrp redirect` on the hub and `ip nhrp shortcut` on the
/// spokes; either alone leaves spoke-to-spoke traffic on the hub, as IOS does.
fn phase3(hub: &Member, spokes: &[&Member], out: &mut Findings) {
    let Some(tunnel) = hub.tunnel() else {
        return;
    };
    let index = hub.tunnel_index().unwrap_or(0);
    let shortcut: Vec<&&Member> = (spokes.iter())
        .filter(|s| s.tunnel().is_some_and(|t| t.nhrp.shortcut))
        .collect();
    match (tunnel.nhrp.redirect.is_some(), shortcut.first()) {
        (false, Some(spoke)) => out.add(
            "nhrp-shortcut-no-redirect",
            Severity::Warning,
            format!(
                "spoke {} has `ip nhrp shortcut` but hub {} has no `ip nhrp redirect`: the hub sends no Traffic Indication, so spoke-to-spoke traffic keeps going through the hub",
                spoke.label(),
                hub.label()
            ),
            vec![spoke.place(Origin::Shortcut(spoke.tunnel_index().unwrap_or(0))), hub.at(Origin::Interface)],
            "add `ip nhrp redirect` under the hub's tunnel interface".to_owned(),
        ),
        (true, None) if !spokes.is_empty() => out.add(
            "nhrp-redirect-no-shortcut",
            Severity::Warning,
            format!(
                "hub {} has `ip nhrp redirect` but no spoke has `ip nhrp shortcut`: the spokes ignore its Traffic Indications, so spoke-to-spoke traffic keeps going through the hub",
                hub.label()
            ),
            vec![hub.place(Origin::Redirect(index))],
            "add `ip nhrp shortcut` under each spoke's tunnel interface".to_owned(),
        ),
        _ => {}
    }
}

/// A spoke whose NHS is no hub's tunnel address.
fn wrong_nhs(hub: &Member, spoke: &Member, n: usize, out: &mut Findings) {
    let (Some(tunnel), Some(hub_address)) = (spoke.tunnel(), hub.tunnel_address()) else {
        return;
    };
    let Some(nhs) = tunnel.nhrp.nhs.get(n) else {
        return;
    };
    let index = spoke.tunnel_index().unwrap_or(0);
    let mut places = vec![spoke.place(Origin::Nhs(index, n))];
    if let Some(m) = tunnel
        .nhrp
        .maps
        .iter()
        .position(|m| m.tunnel == nhs.address)
    {
        places.push(spoke.place(Origin::Map(index, m)));
    }
    places.push(hub.at(Origin::Address));
    out.add(
        "nhrp-no-registration",
        Severity::Error,
        format!(
            "spoke {} registers with NHS {}, but hub {}'s tunnel address is {hub_address}: no registration reply comes back, the hub never learns the spoke, and the spoke's NHS stays down",
            spoke.label(),
            nhs.address,
            hub.label()
        ),
        places,
        format!(
            "`ip nhrp nhs {hub_address}` and `ip nhrp map {hub_address} {}` on {}",
            address_or(hub.config.nbma_address(), "HUB-NBMA"),
            spoke.label()
        ),
    );
}

/// One spoke against its hub.
fn pair(hub: &Member, spoke: &Member, nhs_index: usize, out: &mut Findings) {
    let (Some(h), Some(s)) = (hub.tunnel(), spoke.tunnel()) else {
        return;
    };
    let (hi, si) = (
        hub.tunnel_index().unwrap_or(0),
        spoke.tunnel_index().unwrap_or(0),
    );
    let (hn, sn) = (hub.label(), spoke.label());
    // The NHS's NBMA address (its `nbma`, its map, or the point-to-point destination).
    if let (Some(nhs), Some(hub_nbma)) = (s.nhrp.nhs.get(nhs_index), hub.config.nbma_address())
        && let Some(nbma) = s.nhs_nbma(nhs)
        && nbma != hub_nbma
    {
        let mut places = vec![spoke.place(Origin::Nhs(si, nhs_index))];
        if let Some(m) = s.nhrp.maps.iter().position(|m| m.tunnel == nhs.address) {
            places.push(spoke.place(Origin::Map(si, m)));
        }
        if s.destination.is_some() {
            places.push(spoke.place(Origin::TunnelDestination(si)));
        }
        places.push(hub.at(Origin::TunnelSource));
        out.add(
            "nhrp-no-registration",
            Severity::Error,
            format!(
                "spoke {sn} sends IKE, GRE and its NHRP registration for NHS {} to NBMA {nbma}, but hub {hn} is at {hub_nbma}: nothing reaches the hub",
                nhs.address
            ),
            places,
            format!(
                "`ip nhrp map {} {hub_nbma}` (and `tunnel destination {hub_nbma}` on a point-to-point tunnel) on {sn}",
                nhs.address
            ),
        );
    }
    // The tunnel subnet.
    if let (Some(ha), Some(sa)) = (
        hub.interface().and_then(|i| i.address),
        spoke.interface().and_then(|i| i.address),
    ) && (ha.network() != sa.network() || ha.mask != sa.mask)
    {
        out.add(
            "tunnel-subnet-mismatch",
            Severity::Error,
            format!(
                "spoke {sn}'s tunnel is {sa}, hub {hn}'s {ha}: they are not on one subnet, so the spoke's NHS is not on-link and EIGRP refuses the neighbour (not on a common subnet)"
            ),
            vec![spoke.at(Origin::Address), hub.at(Origin::Address)],
            format!(
                "put {sn}'s tunnel in {}/{}",
                ha.network(),
                ha.prefix_len()
            ),
        );
    }
    // The GRE key.
    if h.key != s.key {
        let show = |k: Option<u32>| k.map_or_else(|| "none".to_owned(), |k| k.to_string());
        out.add(
            "gre-key-mismatch",
            Severity::Error,
            format!(
                "tunnel key {} on spoke {sn}, {} on hub {hn}: each side drops the other's GRE packets (key mismatch), so nothing comes up",
                show(s.key),
                show(h.key)
            ),
            vec![
                spoke.at(Origin::TunnelKey),
                hub.at(Origin::TunnelKey),
            ],
            "the same `tunnel key` on every router of the cloud, or none".to_owned(),
        );
    }
    // NHRP authentication.
    let (ha, sa) = (
        h.nhrp.authentication.as_ref().map(super::Secret::expose),
        s.nhrp.authentication.as_ref().map(super::Secret::expose),
    );
    if ha != sa {
        out.add(
            "nhrp-auth-mismatch",
            Severity::Error,
            match (ha.is_some(), sa.is_some()) {
                (true, true) => format!(
                    "the hub refuses spoke {sn}'s registration: NHRP authentication mismatch ({hn} and {sn} have different `ip nhrp authentication` strings)"
                ),
                (true, false) => format!(
                    "the hub refuses spoke {sn}'s registration: NHRP authentication mismatch ({hn} requires `ip nhrp authentication`, {sn} sends none)"
                ),
                _ => format!(
                    "spoke {sn} refuses the hub's registration reply: NHRP authentication mismatch ({sn} requires `ip nhrp authentication`, hub {hn} sends none)"
                ),
            },
            vec![
                spoke.at(Origin::Authentication),
                hub.at(Origin::Authentication),
            ],
            "the same `ip nhrp authentication` string on the hub and every spoke".to_owned(),
        );
    }
    crypto(hub, spoke, nhs_index, out);
    // EIGRP.
    let he = hub
        .eigrp_on_tunnel()
        .and_then(|n| hub.config.eigrp.get(n).map(|e| (n, e)));
    let se = spoke
        .eigrp_on_tunnel()
        .and_then(|n| spoke.config.eigrp.get(n).map(|e| (n, e)));
    if let (Some((hn_index, he)), Some((sn_index, se))) = (he, se)
        && he.asn != se.asn
    {
        out.add(
            "eigrp-as-mismatch",
            Severity::Error,
            format!(
                "spoke {sn} runs EIGRP AS {} on the tunnel, hub {hn} AS {}: each ignores the other's hellos, no adjacency, no routes",
                se.asn, he.asn
            ),
            vec![
                spoke.place(Origin::Eigrp(sn_index)),
                hub.place(Origin::Eigrp(hn_index)),
            ],
            format!("`router eigrp {}` on {sn}", he.asn),
        );
    }
    // A multipoint spoke sends its hellos only where a multicast map says.
    if s.is_multipoint()
        && let Some(hub_nbma) = hub.config.nbma_address()
        && !s.nhrp.multicast.contains(&MulticastMap::Nbma(hub_nbma))
    {
        out.add(
            "nhrp-no-multicast",
            Severity::Error,
            format!(
                "multipoint spoke {sn} has no `ip nhrp map multicast {hub_nbma}`: its EIGRP hellos do not reach hub {hn}, so no adjacency comes up"
            ),
            vec![spoke.at(Origin::Interface)],
            format!(
                "add `ip nhrp map multicast {hub_nbma}` (or `nbma {hub_nbma} multicast` on the `ip nhrp nhs` line) on {sn}"
            ),
        );
    }
    let _ = hi;
}

/// The transform sets of the member's protection profile, each with the place of its block
/// (IOS's `default` of an IKEv2 profile without `set transform-set`: the tunnel's protection).
/// An address a finding names, or `none` in its place when it is not known.
fn address_or(address: Option<Ipv4Addr>, none: &str) -> String {
    address.map_or_else(|| none.to_owned(), |a| a.to_string())
}

fn sets(member: &Member) -> Vec<(Place, super::TransformSet)> {
    let Some(profile) = member.config.protection() else {
        return Vec::new();
    };
    (member.config.profile_transform_sets(profile).into_iter())
        .map(|set| {
            let n = (member.config.transform_sets.iter()).position(|t| t.name == set.name);
            let place = match n {
                Some(n) if !profile.uses_default_transform_set() => {
                    member.place(Origin::TransformSet(n))
                }
                _ => member.at(Origin::Protection),
            };
            (place, set)
        })
        .collect()
}

fn same_policy(a: &IsakmpPolicy, b: &IsakmpPolicy) -> bool {
    a.encryption() == b.encryption()
        && a.hash() == b.hash()
        && a.group() == b.group()
        && a.pre_share
        && b.pre_share
}

fn crypto(hub: &Member, spoke: &Member, nhs_index: usize, out: &mut Findings) {
    let (hn, sn) = (hub.label(), spoke.label());
    match (hub.protected(), spoke.protected()) {
        (false, false) => return,
        (true, true) => {}
        (hub_side, _) => {
            let (with, without) = if hub_side { (hub, spoke) } else { (spoke, hub) };
            out.add(
                "ipsec-protection-mismatch",
                Severity::Error,
                format!(
                    "{} protects the tunnel with IPsec and {} does not: one sends ESP, the other plain GRE, and each drops what the other sends",
                    with.label(),
                    without.label()
                ),
                vec![with.at(Origin::Protection), without.at(Origin::Interface)],
                format!(
                    "`tunnel protection ipsec profile …` on {} too (or on neither)",
                    without.label()
                ),
            );
            return;
        }
    }
    let spoke_nbma = spoke.config.nbma_address();
    let hub_nbma = spoke
        .tunnel()
        .and_then(|t| t.nhrp.nhs.get(nhs_index).and_then(|n| t.nhs_nbma(n)))
        .or_else(|| hub.config.nbma_address());
    // The key exchange: one IKE version on both, then its keys and proposals.
    match (hub.config.uses_ikev2(), spoke.config.uses_ikev2()) {
        (false, false) => isakmp(hub, spoke, (hub_nbma, spoke_nbma), out),
        (true, true) => ikev2(hub, spoke, (hub_nbma, spoke_nbma), out),
        (hub_v2, _) => {
            let (v2, v1) = if hub_v2 { (hub, spoke) } else { (spoke, hub) };
            out.add(
                "ike-version-mismatch",
                Severity::Error,
                format!(
                    "{} keys the tunnel with IKEv2 (`set ikev2-profile`) and {} with IKEv1: each drops the other's IKE messages, so no SA, no registration, nothing",
                    v2.label(),
                    v1.label()
                ),
                vec![v2.at(Origin::Protection), v1.at(Origin::Protection)],
                format!(
                    "the same key exchange on both: `set ikev2-profile` and `crypto ikev2 …` on {} too, or IKEv1 on both",
                    v1.label()
                ),
            );
        }
    }
    // A transform set in common, transport mode on both.
    let (hs, ss) = (sets(hub), sets(spoke));
    let same = |a: &super::TransformSet, b: &super::TransformSet| {
        a.encryption == b.encryption && a.integrity == b.integrity
    };
    let matched = ss.iter().find_map(|(sp, s)| {
        hs.iter()
            .find(|(_, h)| same(s, h))
            .map(|(hp, h)| (sp, s, hp, h))
    });
    // PFS: the hub answers the spoke's Quick Mode; a group it sets, the spoke must offer.
    let (hp, sp) = (
        hub.config.protection().and_then(|p| p.pfs),
        spoke.config.protection().and_then(|p| p.pfs),
    );
    let pfs_fails = match (hp, sp) {
        (Some(h), Some(s)) => h != s,
        (Some(_), None) => true,
        (None, _) => false,
    };
    if matched.is_some() && pfs_fails {
        let group = |g: Option<dmvpn_isakmp::consts::Group>| {
            g.map_or_else(|| "none".to_owned(), |g| format!("group {}", g.0))
        };
        out.add(
            "ike-transform-set-mismatch",
            Severity::Error,
            format!(
                "hub {hn} sets PFS {} and spoke {sn} offers {}: the hub answers the spoke's Quick Mode with NO-PROPOSAL-CHOSEN, IKE is up but no IPsec SA",
                group(hp),
                group(sp)
            ),
            vec![
                spoke.at(Origin::Protection),
                hub.at(Origin::Protection),
            ],
            format!("`set pfs {}` in both profiles (or in neither)", group(hp).replace(' ', "")),
        );
    }
    match matched {
        None if !hs.is_empty() && !ss.is_empty() => out.add(
            "ike-transform-set-mismatch",
            Severity::Error,
            format!(
                "no transform set of spoke {sn} matches one of hub {hn}: Quick Mode ends in NO-PROPOSAL-CHOSEN, IKE is up but no IPsec SA, so no GRE passes"
            ),
            vec![
                ss[0].0.clone(),
                hs[0].0.clone(),
            ],
            "the same ESP cipher and integrity in a transform set of both profiles".to_owned(),
        ),
        Some((sp, s, hp, h))
            if s.mode != Some(EspMode::Transport) || h.mode != Some(EspMode::Transport) =>
        {
            let places = [(sp, s), (hp, h)]
                .into_iter()
                .filter(|(_, t)| t.mode != Some(EspMode::Transport))
                .map(|(p, _)| p.clone())
                .collect();
            out.add(
                "ipsec-tunnel-mode",
                Severity::Warning,
                format!(
                    "transform set without `mode transport` between spoke {sn} and hub {hn}: ESP in tunnel mode adds a second IP header (20 more bytes per packet) and this router does not run it"
                ),
                places,
                "`mode transport` under the transform set on both".to_owned(),
            );
        }
        _ => {}
    }
}

/// IKEv1 between a hub and a spoke: keys covering each other and equal, a policy in common.
fn isakmp(
    hub: &Member,
    spoke: &Member,
    (hub_nbma, spoke_nbma): (Option<Ipv4Addr>, Option<Ipv4Addr>),
    out: &mut Findings,
) {
    let (hn, sn) = (hub.label(), spoke.label());
    // Pre-shared keys: each side needs one covering the other, and they must be equal.
    let hub_key = match spoke_nbma {
        Some(nbma) => hub
            .config
            .isakmp_key_for(nbma)
            .map(|k| (k, nbma.to_string())),
        // A spoke on DHCP: only the wildcard covers it.
        None => (hub.config.isakmp_keys.iter())
            .find(|k| k.effective_mask().is_unspecified())
            .map(|k| (k, "its leased address".to_owned())),
    };
    let spoke_key = hub_nbma.and_then(|nbma| spoke.config.isakmp_key_for(nbma));
    let key_place = |member: &Member, key: Option<&super::IsakmpKey>| {
        let n = key.and_then(|k| member.config.isakmp_keys.iter().position(|x| x == k));
        match n {
            Some(n) => member.place(Origin::Key(n)),
            None if member.config.isakmp_keys.is_empty() => member.at(Origin::Protection),
            None => member.place(Origin::Key(0)),
        }
    };
    match (&hub_key, spoke_key) {
        (None, _) => out.add(
            "ike-no-psk",
            Severity::Error,
            format!(
                "hub {hn} has no `crypto isakmp key` covering spoke {sn} ({}): it cannot finish IKE Main Mode with the spoke, so no SA, no registration, nothing",
                address_or(spoke_nbma, "a DHCP address")
            ),
            vec![key_place(hub, None)],
            format!(
                "`crypto isakmp key KEY address 0.0.0.0` (every spoke) or `address {}` on {hn}",
                address_or(spoke_nbma, "0.0.0.0 0.0.0.0")
            ),
        ),
        (Some(_), None) => out.add(
            "ike-no-psk",
            Severity::Error,
            format!(
                "spoke {sn} has no `crypto isakmp key` covering hub {hn} ({}): it cannot start IKE with the hub",
                address_or(hub_nbma, "unknown")
            ),
            vec![key_place(spoke, None)],
            format!(
                "`crypto isakmp key KEY address {}` on {sn}",
                address_or(hub_nbma, "HUB-NBMA")
            ),
        ),
        (Some((hk, _)), Some(sk)) if hk.key != sk.key => out.add(
            "ike-psk-mismatch",
            Severity::Error,
            format!(
                "spoke {sn} and hub {hn} have different pre-shared keys for each other: IKE Main Mode fails at message 5 (the hash does not verify; IOS logs %CRYPTO-4-IKMP_BAD_MESSAGE) and no SA comes up"
            ),
            vec![key_place(spoke, Some(sk)), key_place(hub, Some(hk))],
            "the same `crypto isakmp key` secret on both sides".to_owned(),
        ),
        _ => {}
    }
    // An ISAKMP policy in common.
    let common = (spoke.config.isakmp_policies.iter())
        .any(|p| hub.config.isakmp_policies.iter().any(|q| same_policy(p, q)));
    if !common {
        out.add(
            "ike-no-proposal-chosen",
            Severity::Error,
            format!(
                "no `crypto isakmp policy` of spoke {sn} matches one of hub {hn} (encryption, hash, group, pre-share): the hub answers Main Mode with NO-PROPOSAL-CHOSEN"
            ),
            vec![
                spoke.place(Origin::Policy(0)),
                hub.place(Origin::Policy(0)),
            ],
            "one policy with the same encryption, hash, group and `authentication pre-share` on both".to_owned(),
        );
    }
}

/// IKEv2 between a hub and a spoke: keyring keys covering each other and equal, identities
/// each side's `match identity remote` covers, a proposal in common (one algorithm of each
/// kind in a proposal of each).
fn ikev2(
    hub: &Member,
    spoke: &Member,
    (hub_nbma, spoke_nbma): (Option<Ipv4Addr>, Option<Ipv4Addr>),
    out: &mut Findings,
) {
    let (hn, sn) = (hub.label(), spoke.label());
    fn keyring(member: &Member) -> Option<(usize, &super::Keyring)> {
        let name = member.config.ikev2_profile()?.keyring.as_ref()?;
        let k = member
            .config
            .keyrings
            .iter()
            .position(|k| &k.name == name)?;
        Some((k, member.config.keyrings.get(k)?))
    }
    // The entry covering `peer` (a DHCP spoke: the wildcard), with its place.
    fn entry(member: &Member, peer: Option<Ipv4Addr>) -> Option<(&super::KeyringPeer, Place)> {
        let (k, ring) = keyring(member)?;
        let found = match peer {
            Some(peer) => ring.peer_for(peer),
            None => ring
                .peers
                .iter()
                .find(|p| p.effective_mask().is_some_and(|m| m.is_unspecified())),
        }?;
        let j = ring.peers.iter().position(|p| p == found)?;
        Some((found, member.place(Origin::KeyringPeerKey(k, j))))
    }
    let (hub_entry, spoke_entry) = (entry(hub, spoke_nbma), entry(spoke, hub_nbma));
    let address = |a: Option<Ipv4Addr>| address_or(a, "a DHCP address");
    match (&hub_entry, &spoke_entry) {
        (None, _) => out.add(
            "ike-no-psk",
            Severity::Error,
            format!(
                "hub {hn} has no ikev2 keyring peer covering spoke {sn} ({}): it cannot authenticate the spoke in IKE_AUTH, so no SA, no registration, nothing",
                address(spoke_nbma)
            ),
            vec![hub.at(Origin::Protection)],
            format!(
                "a `peer` with `address {}` (or `address 0.0.0.0 0.0.0.0`) and a `pre-shared-key` in the keyring of {hn}'s ikev2 profile",
                address(spoke_nbma)
            ),
        ),
        (Some(_), None) => out.add(
            "ike-no-psk",
            Severity::Error,
            format!(
                "spoke {sn} has no ikev2 keyring peer covering hub {hn} ({}): it cannot start IKEv2 with the hub",
                address(hub_nbma)
            ),
            vec![spoke.at(Origin::Protection)],
            format!(
                "a `peer` with `address {}` and a `pre-shared-key` in the keyring of {sn}'s ikev2 profile",
                address(hub_nbma)
            ),
        ),
        (Some((h, hp)), Some((s, sp))) if h.local_key != s.remote_key || h.remote_key != s.local_key => out.add(
            "ike-psk-mismatch",
            Severity::Error,
            format!(
                "spoke {sn} and hub {hn} have different pre-shared keys for each other: IKE_AUTH fails (the AUTH payload does not verify; IOS logs %IKEV2-5-AUTH_FAILED or similar) and no SA comes up"
            ),
            vec![sp.clone(), hp.clone()],
            "the same `pre-shared-key` in both keyrings".to_owned(),
        ),
        _ => {}
    }
    // Each side's `match identity remote` covers the other's identity: the hub checks the
    // spoke's IDi, the spoke the hub's IDr. (An empty list is `check`'s to report; a DHCP
    // spoke without `identity local` has no known identity.)
    for (checker, other, other_nbma, id) in [
        (hub, spoke, spoke_nbma, "IDi"),
        (spoke, hub, hub_nbma, "IDr"),
    ] {
        let (Some(profile), Some(other_profile)) =
            (checker.config.ikev2_profile(), other.config.ikev2_profile())
        else {
            continue;
        };
        let identity = match (&other_profile.identity_local, other_nbma) {
            (Some(local), _) => local.to_proto(),
            (None, Some(nbma)) => dmvpn_proto::ikev2::Identity::Address(nbma),
            (None, None) => continue,
        };
        if profile.match_remote.is_empty() || profile.matches_remote(&identity) {
            continue;
        }
        let index = |m: &Member, p: &super::Ikev2Profile| {
            (m.config.ikev2_profiles.iter()).position(|q| q.name == p.name)
        };
        let mut places = Vec::new();
        if let Some(n) = index(checker, profile) {
            places.push(checker.place(Origin::Ikev2ProfileMatch(n)));
        }
        match index(other, other_profile) {
            Some(n) if other_profile.identity_local.is_some() => {
                places.push(other.place(Origin::Ikev2ProfileIdentity(n)));
            }
            _ => places.push(other.at(Origin::Protection)),
        }
        let (cn, on) = (checker.label(), other.label());
        out.add(
            "ike-identity-mismatch",
            Severity::Error,
            format!(
                "{cn}'s ikev2 profile {} has no `match identity remote` for {on}'s identity ({identity}, its {id}): {cn} refuses it in IKE_AUTH with AUTHENTICATION_FAILED and no SA comes up",
                profile.name
            ),
            places,
            format!("a `match identity remote` line in {cn}'s profile {} covering {identity}", profile.name),
        );
    }
    let proposals = |member: &Member, local: Option<Ipv4Addr>| {
        local.map_or_else(Vec::new, |l| member.config.ikev2_proposals_for(l))
    };
    let (hp, sp) = (
        proposals(hub, hub.config.nbma_address()),
        proposals(spoke, spoke_nbma),
    );
    let meets = |a: &super::Ikev2Proposal, b: &super::Ikev2Proposal| {
        let (x, y) = (&a.algorithms, &b.algorithms);
        x.encryption.iter().any(|e| y.encryption.contains(e))
            && x.integrity.iter().any(|i| y.integrity.contains(i))
            && a.prfs().iter().any(|p| b.prfs().contains(p))
            && x.groups.iter().any(|g| y.groups.contains(g))
    };
    if !hp.is_empty() && !sp.is_empty() && !sp.iter().any(|s| hp.iter().any(|h| meets(s, h))) {
        out.add(
            "ike-no-proposal-chosen",
            Severity::Error,
            format!(
                "no ikev2 proposal of spoke {sn} shares an encryption, integrity, prf and group with one of hub {hn}: the hub answers IKE_SA_INIT with NO_PROPOSAL_CHOSEN"
            ),
            vec![spoke.at(Origin::Protection), hub.at(Origin::Protection)],
            "one algorithm of each kind in common between the two sides' `crypto ikev2 proposal`s (or IOS's default on both)".to_owned(),
        );
    }
}

/// `ip mtu` and `ip tcp adjust-mss`: present on every protected tunnel, and consistent.
fn mtu(members: &[Member], out: &mut Findings) {
    for member in members {
        let (Some(interface), true) = (member.interface(), member.protected()) else {
            continue;
        };
        let name = member.label();
        let mtu = interface.mtu.unwrap_or(GRE_DEFAULT_MTU);
        if mtu > MAX_PROTECTED_MTU {
            out.add(
                "fragmented-after-encapsulation",
                Severity::Warning,
                format!(
                    "{name}'s tunnel has ip mtu {mtu}{}: a full-size packet is bigger than 1500 bytes once GRE and ESP are added, so it is fragmented after encryption (the receiver reassembles before decrypting)",
                    if interface.mtu.is_none() { " (IOS's default)" } else { "" }
                ),
                vec![member.at(Origin::Mtu)],
                format!("`ip mtu {MAX_PROTECTED_MTU}` under {name}'s tunnel interface"),
            );
        }
        let limit = mtu.min(MAX_PROTECTED_MTU).saturating_sub(40);
        match interface.adjust_mss {
            None => out.add(
                "tcp-mss-too-large",
                Severity::Warning,
                format!(
                    "{name}'s tunnel has no `ip tcp adjust-mss`: TCP hosts behind it announce an MSS of 1460, so full-size segments exceed the tunnel's MTU and are fragmented or dropped (PMTUD black holes)"
                ),
                vec![member.at(Origin::AdjustMss)],
                format!("`ip tcp adjust-mss {limit}` under {name}'s tunnel interface"),
            ),
            Some(mss) if mss > limit => out.add(
                "tcp-mss-too-large",
                Severity::Warning,
                format!(
                    "{name}'s `ip tcp adjust-mss {mss}` is more than its tunnel MTU allows ({limit}: ip mtu less 40 bytes of IP and TCP headers)"
                ),
                vec![member.at(Origin::AdjustMss)],
                format!("`ip tcp adjust-mss {limit}`"),
            ),
            Some(_) => {}
        }
    }
    // Explicit MTUs that differ: the larger side's packets are dropped or fragmented.
    let explicit: Vec<(&Member, u16)> = members
        .iter()
        .filter_map(|m| Some((m, m.interface()?.mtu?)))
        .collect();
    if let Some((first, mtu)) = explicit.first()
        && let Some((other, other_mtu)) = explicit.iter().find(|(_, x)| x != mtu)
    {
        out.add(
            "tunnel-mtu-mismatch",
            Severity::Warning,
            format!(
                "ip mtu {mtu} on {} but {other_mtu} on {}: the tunnel's routers should agree on one MTU",
                first.label(),
                other.label()
            ),
            vec![first.at(Origin::Mtu), other.at(Origin::Mtu)],
            "the same `ip mtu` on every tunnel of the cloud".to_owned(),
        );
    }
}

/// The role of a member, for `dmvpn-router check` to print.
#[must_use]
pub fn role(member: &Member) -> Option<Role> {
    member.tunnel().map(Tunnel::role)
}

/// Whether the tunnel source is an interface leased by DHCP.
#[must_use]
pub fn dhcp_source(config: &Config) -> bool {
    match config.tunnel().and_then(|t| t.source.as_ref()) {
        Some(TunnelSource::Interface(name)) => config.interface(name).is_some_and(|i| i.dhcp),
        _ => false,
    }
}

#[cfg(test)]
mod tests;
