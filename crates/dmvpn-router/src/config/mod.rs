//! The IOS-style configuration of a DMVPN hub or spoke: parsing ([`Config::parse`]), checking
//! and writing back ([`Config`]'s `Display` prints it as `show running-config` would).
//!
//! # What is understood
//!
//! Global commands: `hostname`, `interface NAME` (a `TunnelN`, another IOS interface in any
//! spelling, or a Linux name such as `lan0`), `router eigrp AS`, `crypto ikev2 …` (below),
//! `crypto isakmp policy N`,
//! `crypto isakmp key [0] KEY address A [MASK] [no-xauth]`, `crypto ipsec transform-set NAME
//! TRANSFORM…`, `crypto ipsec profile NAME`, `ip route A M {NEXT-HOP | IF [NEXT-HOP]} [DISTANCE]
//! [name N] [permanent] [tag T] [track N]`, `banner`, `version`, `!` comments and `end`.
//! Sub-mode commands follow the global command that opens the mode: indented, as in `show
//! running-config` (an unindented line leaves the sub-mode), or typed without indentation (a
//! line stays while it is one of the block's commands, as IOS tries the sub-mode first; `exit`
//! leaves).
//!
//! - interface: `description …`, `ip address A M | dhcp`, `no ip address`, `shutdown` / `no
//!   shutdown`, `ip mtu N`, `ip tcp adjust-mss N`; on tunnels also `tunnel source IF|A`, `tunnel
//!   destination A`, `tunnel mode gre multipoint|ip`, `tunnel key N`, `tunnel protection ipsec
//!   profile P [shared]`, `ip nhrp network-id N`, `ip nhrp nhs A [nbma B [multicast]] [priority
//!   N] [cluster N]`, `ip nhrp map A B`, `ip nhrp map multicast dynamic|A`, `ip nhrp
//!   authentication S`, `ip nhrp holdtime N`, `ip nhrp registration timeout N | no-unique`, `ip
//!   nhrp redirect [timeout S]`, `ip nhrp shortcut`, `no ip split-horizon eigrp AS`, `no ip
//!   next-hop-self eigrp AS`;
//! - router eigrp: `network A [WILDCARD]`, `[no] auto-summary`, `eigrp router-id A`;
//! - crypto isakmp policy: `encryption des|3des|aes [128|192|256]`, `hash md5|sha|sha256`,
//!   `group 1|2|5|14`, `authentication pre-share`, `lifetime S`;
//! - crypto ipsec transform-set: `mode transport|tunnel [require]`;
//! - crypto ipsec profile: `set transform-set NAME…`, `set pfs [group1|2|5|14]`,
//!   `set security-association lifetime seconds S|kilobytes K`, `set ikev2-profile NAME` (the
//!   tunnel is then keyed with IKEv2; without `set transform-set` it then offers IOS's transform
//!   set `default`, [`TransformSet::ios_default`]);
//! - crypto ikev2 proposal NAME: `encryption 3des|aes-cbc-128|aes-cbc-192|aes-cbc-256…`,
//!   `integrity md5|sha1|sha256|sha384|sha512…`, `prf …` (the same names), `group 1|2|5|14…`;
//! - crypto ikev2 policy NAME: `proposal NAME`, `match address local A`;
//! - crypto ikev2 keyring NAME: `peer NAME`, and in it `address A [MASK]`, `pre-shared-key
//!   [local|remote] [0] KEY` (the rest of the line; local and remote must be the same key);
//! - crypto ikev2 profile NAME: `match identity remote address A [MASK] | any | fqdn NAME` (what
//!   the peer's IKEv2 identity must match, else IKE_AUTH fails with AUTHENTICATION_FAILED),
//!   `identity local address A | fqdn NAME`, `authentication local|remote pre-share`, `keyring
//!   local NAME`, `lifetime S`, `dpd INTERVAL RETRY periodic|on-demand`; and the global `crypto
//!   ikev2 cookie-challenge N`. Without a `crypto ikev2 policy`, IOS's policy and proposal
//!   `default` apply ([`Ikev2Proposal::ios_default`]).
//!
//! Text is read as IOS reads it: `show running-config` output verbatim (`Building
//! configuration...`, `Current configuration : N bytes`, `version`, banners, `end`, a pasted
//! `R1#` prompt) or typed commands without indentation; keywords in any case and abbreviated as
//! IOS takes them (a prefix no other keyword valid there shares: `encr 3des`, `int tu0`,
//! `no ip split-h eigrp 1`); interfaces in any IOS spelling (`f0/0` is `FastEthernet0/0`).
//! Commands IOS takes that the router does not use (`line vty`, `snmp-server`, other routing
//! protocols…) are skipped, each with an [`ErrorKind::Skipped`] warning; words IOS refuses are
//! errors ([`ErrorKind::Invalid`], with the keyword a typo away when there is one, and
//! [`ErrorKind::Ambiguous`]); commands IOS takes that the router cannot run as IOS would
//! ([`ErrorKind::Unsupported`]) are errors, or with [`Options::lenient`] warnings. Nothing is
//! skipped silently.
//!
//! ```
//! use dmvpn_router::config::{Config, Options, Role};
//!
//! let text = "\
//! interface eth0
//!  ip address 192.0.2.11 255.255.255.0
//! interface Tunnel0
//!  ip address 10.99.200.11 255.255.255.0
//!  ip nhrp network-id 1
//!  ip nhrp nhs 10.99.200.1 nbma 192.0.2.1
//!  tunnel source eth0
//!  tunnel mode gre multipoint
//! ";
//! let parsed = Config::parse(text, Options::default())?;
//! let tunnel = parsed.config.tunnel().unwrap();
//! assert_eq!(tunnel.role(), Role::Spoke);
//! assert_eq!(parsed.config.nbma_address(), Some("192.0.2.11".parse()?));
//! // Written back as `show running-config` would, and read again to the same thing.
//! let again = Config::parse(&parsed.config.to_string(), Options::default())?;
//! assert_eq!(again.config, parsed.config);
//!
//! // Errors carry the line, the column and the text; all of them are reported.
//! let bad = text.replace(" ip nhrp network-id 1", " ip nhrp network-id 1\n ip nhrp holdtime 0");
//! let errors = Config::parse(&bad, Options::default()).unwrap_err();
//! assert_eq!(errors.0.len(), 1);
//! assert_eq!((errors.0[0].line, errors.0[0].column), (6, 19));
//! assert_eq!(errors.0[0].text, " ip nhrp holdtime 0");
//! assert_eq!(errors.0[0].kind.to_string(), "nhrp holdtime 0 is out of range 1..=65535");
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

mod check;
pub mod cloud;
mod error;
mod grammar;
mod ikev2;
mod parse;
mod summary;
mod write;

use core::fmt;
use std::net::Ipv4Addr;

use dmvpn_isakmp::consts::Group;
use dmvpn_isakmp::crypto::Cipher;
use dmvpn_proto::ike::{self, Hash};
use zeroize::Zeroizing;

/// The IPv4 prefix of routes and subnets (`dmvpn_ip`'s, shared by the workspace).
pub use dmvpn_ip::Prefix;

pub use error::{Diagnostic, ErrorKind, Errors};
pub use grammar::canonical_interface;
pub use ikev2::{
    Ikev2Dpd, Ikev2Policy, Ikev2Profile, Ikev2Proposal, Keyring, KeyringPeer, LocalIdentity,
    RemoteIdentity,
};
pub use summary::Summary;

/// How strict [`Config::parse`] is.
#[derive(Clone, Copy, Debug, Default, Eq, PartialEq)]
pub struct Options {
    /// Commands IOS takes that the router cannot run ([`ErrorKind::Unsupported`]) are warnings
    /// (the line, and a sub-mode it opens, are skipped) instead of errors. What IOS itself
    /// refuses, malformed commands and semantic errors stay errors.
    pub lenient: bool,
}

/// A parsed configuration and the warnings it produced.
#[derive(Clone, Debug, Eq, PartialEq)]
pub struct Parsed {
    /// The configuration.
    pub config: Config,
    /// What was skipped (with [`Options::lenient`]) or looks wrong but runs.
    pub warnings: Vec<Diagnostic>,
}

/// A whole configuration, in the order `show running-config` prints it.
#[derive(Clone, Debug, Default, Eq, PartialEq)]
pub struct Config {
    /// `hostname NAME`.
    pub hostname: Option<String>,
    /// `crypto ikev2 proposal NAME` blocks.
    pub ikev2_proposals: Vec<Ikev2Proposal>,
    /// `crypto ikev2 policy NAME` blocks (none: IOS's policy `default`).
    pub ikev2_policies: Vec<Ikev2Policy>,
    /// `crypto ikev2 keyring NAME` blocks.
    pub keyrings: Vec<Keyring>,
    /// `crypto ikev2 profile NAME` blocks.
    pub ikev2_profiles: Vec<Ikev2Profile>,
    /// `crypto ikev2 cookie-challenge N`: half-open IKEv2 SAs from which a COOKIE is demanded.
    pub ikev2_cookie_challenge: Option<u32>,
    /// `crypto isakmp policy N` blocks, in the order written.
    pub isakmp_policies: Vec<IsakmpPolicy>,
    /// `crypto isakmp key` lines.
    pub isakmp_keys: Vec<IsakmpKey>,
    /// `crypto ipsec transform-set` blocks.
    pub transform_sets: Vec<TransformSet>,
    /// `crypto ipsec profile` blocks.
    pub ipsec_profiles: Vec<IpsecProfile>,
    /// `interface` blocks, tunnels and others, in the order written.
    pub interfaces: Vec<Interface>,
    /// `router eigrp AS` blocks.
    pub eigrp: Vec<Eigrp>,
    /// `ip route A M NEXT-HOP` lines.
    pub routes: Vec<IpRoute>,
    /// `crypto call admission limit ike in-negotiation-sa N`: the most IKE SAs negotiating at
    /// once (further Main Mode 1s are dropped).
    pub ike_in_negotiation_sa: Option<u32>,
    /// `crypto call admission limit ike sa N`: the most IKE SAs.
    pub ike_sa_limit: Option<u32>,
}

impl Config {
    /// Parses and checks a configuration. On failure every error is returned, in line order.
    ///
    /// # Errors
    ///
    /// [`Errors`] with one [`Diagnostic`] per bad line, and per semantic problem (at the line
    /// of the command it is about).
    pub fn parse(text: &str, options: Options) -> Result<Parsed, Errors> {
        Self::parse_placed(text, options).map(|(parsed, _)| parsed)
    }

    /// [`Config::parse`], with where each command was.
    pub(crate) fn parse_placed(
        text: &str,
        options: Options,
    ) -> Result<(Parsed, parse::Origins), Errors> {
        let (config, origins, mut errors, mut warnings) = parse::parse(text, options);
        let (semantic_errors, semantic_warnings) = check::check(&config, &origins, text);
        errors.extend(semantic_errors);
        warnings.extend(semantic_warnings);
        if errors.is_empty() {
            warnings.sort_by_key(|d| (d.line == 0, d.line));
            Ok((Parsed { config, warnings }, origins))
        } else {
            errors.sort_by_key(|d| (d.line == 0, d.line));
            Err(Errors(errors))
        }
    }

    /// Checks a configuration built in code: the semantic errors and warnings of
    /// [`Config::parse`], without positions.
    #[must_use]
    pub fn check(&self) -> (Vec<Diagnostic>, Vec<Diagnostic>) {
        check::check(self, &parse::Origins::default(), "")
    }

    /// The tunnel interface (the first, if there are several; [`Config::parse`] refuses that).
    #[must_use]
    pub fn tunnel(&self) -> Option<&Tunnel> {
        self.interfaces.iter().find_map(|i| i.tunnel.as_ref())
    }

    /// The tunnel's interface block.
    #[must_use]
    pub fn tunnel_interface(&self) -> Option<&Interface> {
        self.interfaces.iter().find(|i| i.tunnel.is_some())
    }

    /// The interface with this name (compared without case, as IOS does).
    #[must_use]
    pub fn interface(&self, name: &str) -> Option<&Interface> {
        self.interfaces
            .iter()
            .find(|i| i.name.eq_ignore_ascii_case(name))
    }

    /// The NBMA (underlay) address the tunnel is sourced from: `tunnel source A`, or the
    /// address of `tunnel source IF` (`None` when that is leased by DHCP).
    #[must_use]
    pub fn nbma_address(&self) -> Option<Ipv4Addr> {
        match self.tunnel()?.source.as_ref()? {
            TunnelSource::Address(address) => Some(*address),
            TunnelSource::Interface(name) => Some(self.interface(name)?.address?.address),
        }
    }

    /// The static routes through the tunnel, with their next hop: those whose interface is the
    /// tunnel or whose next hop is in the tunnel subnet. The others are the underlay's.
    pub fn tunnel_routes(&self) -> impl Iterator<Item = (&IpRoute, Ipv4Addr)> {
        let interface = self.tunnel_interface();
        let subnet = interface.and_then(|i| i.address);
        self.routes.iter().filter_map(move |route| {
            let hop = route.next_hop?;
            let by_name = (route.interface.as_ref())
                .is_some_and(|n| interface.is_some_and(|i| i.name.eq_ignore_ascii_case(n)));
            let by_hop = route.interface.is_none() && subnet.is_some_and(|s| s.contains(hop));
            (by_name || by_hop).then_some((route, hop))
        })
    }

    /// The IPsec profile of `tunnel protection`, if the tunnel is protected.
    #[must_use]
    pub fn protection(&self) -> Option<&IpsecProfile> {
        let name = self.tunnel()?.protection.as_ref()?;
        self.ipsec_profiles.iter().find(|p| &p.name == name)
    }

    /// The IKEv2 profile of the tunnel's IPsec profile (`set ikev2-profile`), when the tunnel is
    /// keyed with IKEv2.
    #[must_use]
    pub fn ikev2_profile(&self) -> Option<&Ikev2Profile> {
        let name = self.protection()?.ikev2_profile.as_ref()?;
        self.ikev2_profiles.iter().find(|p| &p.name == name)
    }

    /// Whether the tunnel's IPsec profile names an IKEv2 profile (`set ikev2-profile`), so
    /// that the tunnel is keyed with IKEv2, not IKEv1.
    #[must_use]
    pub fn uses_ikev2(&self) -> bool {
        self.protection().is_some_and(|p| p.ikev2_profile.is_some())
    }

    /// A keyring by name.
    #[must_use]
    pub fn keyring(&self, name: &str) -> Option<&Keyring> {
        self.keyrings.iter().find(|k| k.name == name)
    }

    /// An IKEv2 proposal by name; `default` is IOS's own unless one of that name is configured.
    #[must_use]
    pub fn ikev2_proposal(&self, name: &str) -> Option<Ikev2Proposal> {
        match self.ikev2_proposals.iter().find(|p| p.name == name) {
            Some(proposal) => Some(proposal.clone()),
            None if name == "default" => Some(Ikev2Proposal::ios_default()),
            None => None,
        }
    }

    /// The IKEv2 proposals for the local address `local`, in the order offered: those of every
    /// `crypto ikev2 policy` that matches it, in the order written; with no policy at all, IOS's
    /// policy `default` (proposal `default`). Proposals not defined or incomplete are left out.
    #[must_use]
    pub fn ikev2_proposals_for(&self, local: Ipv4Addr) -> Vec<Ikev2Proposal> {
        if self.ikev2_policies.is_empty() {
            return self.ikev2_proposal("default").into_iter().collect();
        }
        let mut out: Vec<Ikev2Proposal> = Vec::new();
        for policy in self.ikev2_policies.iter().filter(|p| p.matches(local)) {
            for name in &policy.proposals {
                if let Some(proposal) = self.ikev2_proposal(name)
                    && proposal.is_complete()
                    && !out.iter().any(|p| p.name == proposal.name)
                {
                    out.push(proposal);
                }
            }
        }
        out
    }

    /// A transform set by name (case-sensitive, as IOS's).
    #[must_use]
    pub fn transform_set(&self, name: &str) -> Option<&TransformSet> {
        self.transform_sets.iter().find(|t| t.name == name)
    }

    /// The transform sets `profile` offers, in order: those its `set transform-set` names
    /// (an undefined name is left out; `check` reports it), or, for an IKEv2 profile without
    /// the line, IOS's default set ([`TransformSet::ios_default`],
    /// [`IpsecProfile::uses_default_transform_set`]).
    #[must_use]
    pub fn profile_transform_sets(&self, profile: &IpsecProfile) -> Vec<TransformSet> {
        if profile.uses_default_transform_set() {
            return vec![TransformSet::ios_default()];
        }
        (profile.transform_sets.iter())
            .filter_map(|name| self.transform_set(name).cloned())
            .collect()
    }

    /// The pre-shared key for a peer: the most specific `crypto isakmp key` whose address and
    /// mask cover it (a key without a mask covers its one address).
    #[must_use]
    pub fn isakmp_key_for(&self, peer: Ipv4Addr) -> Option<&IsakmpKey> {
        self.isakmp_keys
            .iter()
            .filter(|k| k.covers(peer))
            .max_by_key(|k| k.effective_mask().to_bits().count_ones())
    }
}

/// An `ip address A M`: the interface's own address (host bits kept) and its subnet's mask.
/// Prefixes (routes, subnets) are [`Prefix`].
#[derive(Clone, Copy, Debug, Eq, PartialEq)]
pub struct InterfaceAddress {
    /// The address.
    pub address: Ipv4Addr,
    /// The mask (contiguous ones).
    pub mask: Ipv4Addr,
}

impl InterfaceAddress {
    /// The prefix length.
    #[must_use]
    pub const fn prefix_len(&self) -> u8 {
        // At most 32: the count of ones of a u32.
        self.mask.to_bits().count_ones() as u8
    }

    /// The network address.
    #[must_use]
    pub const fn network(&self) -> Ipv4Addr {
        Ipv4Addr::from_bits(self.address.to_bits() & self.mask.to_bits())
    }

    /// Whether `address` is in this subnet.
    #[must_use]
    pub const fn contains(&self, address: Ipv4Addr) -> bool {
        address.to_bits() & self.mask.to_bits() == self.network().to_bits()
    }

    /// The subnet: the address's network and the mask's length.
    #[must_use]
    pub const fn subnet(&self) -> Prefix {
        Prefix::new(self.address, self.prefix_len())
    }
}

impl fmt::Display for InterfaceAddress {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.address, self.prefix_len())
    }
}

/// `ip route ADDRESS MASK {NEXT-HOP | INTERFACE [NEXT-HOP]} [DISTANCE]`: a static route. One
/// through the tunnel (its next hop in the tunnel subnet, or the tunnel as its interface) is the
/// router's; another (the default route to the ISP) is the underlay's.
#[derive(Clone, Debug, Eq, PartialEq)]
pub struct IpRoute {
    /// The destination (host bits clear).
    pub prefix: Prefix,
    /// The next hop.
    pub next_hop: Option<Ipv4Addr>,
    /// The outgoing interface, as IOS names it.
    pub interface: Option<String>,
    /// The administrative distance (1 when not given).
    pub distance: Option<u8>,
}

/// A secret string (an NHRP password or a pre-shared key): wiped on drop, redacted in `Debug`.
/// The configuration's `Display` writes it out (it must, to be read back); summaries do not.
#[derive(Clone, Eq, PartialEq)]
pub struct Secret(Zeroizing<String>);

impl Secret {
    /// Wraps a secret.
    #[must_use]
    pub fn new(secret: &str) -> Self {
        Self(Zeroizing::new(secret.to_owned()))
    }

    /// The secret itself.
    #[must_use]
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Secret(<{} characters>)", self.0.chars().count())
    }
}

/// An `interface NAME` block.
#[derive(Clone, Debug, Default, Eq, PartialEq)]
pub struct Interface {
    /// The name; tunnels are written `TunnelN` whatever the case or spacing in the text.
    pub name: String,
    /// `description …`.
    pub description: Option<String>,
    /// `ip address A M`.
    pub address: Option<InterfaceAddress>,
    /// `ip address dhcp`: the address is leased (known when the router runs, from the device).
    pub dhcp: bool,
    /// `ip mtu N`: the largest IP packet sent on the interface.
    pub mtu: Option<u16>,
    /// `ip tcp adjust-mss N`: TCP SYNs through the interface have their MSS lowered to this.
    pub adjust_mss: Option<u16>,
    /// `shutdown` (`Some(true)`) or `no shutdown` (`Some(false)`).
    pub shutdown: Option<bool>,
    /// The tunnel commands, present exactly when the name is `TunnelN`.
    pub tunnel: Option<Tunnel>,
}

/// The tunnel commands of an `interface TunnelN` block.
#[derive(Clone, Debug, Default, Eq, PartialEq)]
pub struct Tunnel {
    /// `tunnel source IF|A`.
    pub source: Option<TunnelSource>,
    /// `tunnel destination A` (point-to-point GRE to the hub, on a spoke).
    pub destination: Option<Ipv4Addr>,
    /// `tunnel mode …`; `None` is IOS's default, point-to-point GRE.
    pub mode: Option<TunnelMode>,
    /// `tunnel key N`: the GRE key (RFC 2890) on every packet.
    pub key: Option<u32>,
    /// `tunnel protection ipsec profile P`.
    pub protection: Option<String>,
    /// The `ip nhrp …` commands.
    pub nhrp: Nhrp,
    /// `no ip split-horizon eigrp AS`: the AS numbers.
    pub no_split_horizon: Vec<u16>,
    /// `no ip next-hop-self eigrp AS`: the AS numbers.
    pub no_next_hop_self: Vec<u16>,
}

impl Tunnel {
    /// Whether this is a hub (an NHRP server: no `ip nhrp nhs`) or a spoke.
    #[must_use]
    pub fn role(&self) -> Role {
        if self.nhrp.nhs.is_empty() {
            Role::Hub
        } else {
            Role::Spoke
        }
    }

    /// Whether the tunnel is multipoint GRE.
    #[must_use]
    pub fn is_multipoint(&self) -> bool {
        self.mode == Some(TunnelMode::GreMultipoint)
    }

    /// The NBMA address of an NHS: its `nbma`, or the `ip nhrp map` of its tunnel address, or on
    /// a point-to-point tunnel the tunnel destination (where everything it sends goes).
    #[must_use]
    pub fn nhs_nbma(&self, nhs: &Nhs) -> Option<Ipv4Addr> {
        nhs.nbma
            .or_else(|| {
                self.nhrp
                    .maps
                    .iter()
                    .find(|m| m.tunnel == nhs.address)
                    .map(|m| m.nbma)
            })
            .or(if self.is_multipoint() {
                None
            } else {
                self.destination
            })
    }
}

/// What the router is, from its tunnel's NHRP commands.
#[derive(Clone, Copy, Debug, Eq, PartialEq)]
pub enum Role {
    /// The NHRP server: spokes register with it; it relays spoke-to-spoke traffic (Phase 1).
    Hub,
    /// An NHRP client of one or more NHSs.
    Spoke,
}

impl fmt::Display for Role {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Hub => "hub",
            Self::Spoke => "spoke",
        })
    }
}

/// `tunnel source …`.
#[derive(Clone, Debug, Eq, PartialEq)]
pub enum TunnelSource {
    /// An interface, whose `ip address` is the NBMA address.
    Interface(String),
    /// An address.
    Address(Ipv4Addr),
}

/// `tunnel mode …`.
#[derive(Clone, Copy, Debug, Eq, PartialEq)]
pub enum TunnelMode {
    /// `tunnel mode gre ip`: point-to-point GRE (IOS's default).
    GreIp,
    /// `tunnel mode gre multipoint`: mGRE.
    GreMultipoint,
}

/// The `ip nhrp …` commands of a tunnel (RFC 2332 and Cisco's).
#[derive(Clone, Debug, Default, Eq, PartialEq)]
pub struct Nhrp {
    /// `ip nhrp network-id N`: NHRP runs on the interface only with it.
    pub network_id: Option<u32>,
    /// `ip nhrp authentication S`: the Cisco authentication extension (at most 8 characters).
    pub authentication: Option<Secret>,
    /// `ip nhrp holdtime N` in seconds (IOS's default is 7200).
    pub holdtime: Option<u16>,
    /// `ip nhrp registration timeout N`: seconds between a spoke's registrations (IOS's
    /// default is a third of the hold time).
    pub registration_timeout: Option<u16>,
    /// `ip nhrp registration no-unique`: registrations without the unique flag.
    pub no_unique: bool,
    /// `ip nhrp map A B`: static tunnel → NBMA mappings.
    pub maps: Vec<NhrpMap>,
    /// `ip nhrp map multicast …`: where multicast (EIGRP hellos) is replicated to.
    pub multicast: Vec<MulticastMap>,
    /// `ip nhrp nhs …`: the servers a spoke registers with.
    pub nhs: Vec<Nhs>,
    /// `ip nhrp redirect [timeout S]` (a Phase 3 hub): `Some(None)` without a timeout (IOS's
    /// 2 s), `Some(Some(S))` with one.
    pub redirect: Option<Option<u16>>,
    /// `ip nhrp shortcut` (a Phase 3 spoke).
    pub shortcut: bool,
}

/// `ip nhrp map TUNNEL NBMA`.
#[derive(Clone, Copy, Debug, Eq, PartialEq)]
pub struct NhrpMap {
    /// The tunnel address.
    pub tunnel: Ipv4Addr,
    /// Its NBMA address.
    pub nbma: Ipv4Addr,
}

/// `ip nhrp map multicast …`.
#[derive(Clone, Copy, Debug, Eq, PartialEq)]
pub enum MulticastMap {
    /// `dynamic`: every peer that registered (the hub).
    Dynamic,
    /// A fixed NBMA address (a spoke's hub).
    Nbma(Ipv4Addr),
}

/// `ip nhrp nhs ADDRESS [nbma NBMA]`.
#[derive(Clone, Copy, Debug, Eq, PartialEq)]
pub struct Nhs {
    /// The server's tunnel address.
    pub address: Ipv4Addr,
    /// Its NBMA address, when given on the line.
    pub nbma: Option<Ipv4Addr>,
}

/// A `router eigrp AS` block.
#[derive(Clone, Debug, Default, Eq, PartialEq)]
pub struct Eigrp {
    /// The autonomous system number.
    pub asn: u16,
    /// `network A [W]`: interfaces whose address matches run EIGRP, and their subnets are
    /// advertised.
    pub networks: Vec<Network>,
    /// `auto-summary` (`Some(true)`) or `no auto-summary` (`Some(false)`).
    pub auto_summary: Option<bool>,
    /// `eigrp router-id A`.
    pub router_id: Option<Ipv4Addr>,
    /// `maximum-prefix N [THRESHOLD] [warning-only]`: the most routes the process learns.
    pub maximum_prefix: Option<MaximumPrefix>,
}

/// `maximum-prefix MAXIMUM [THRESHOLD] [warning-only]` in `router eigrp` (IOS's EIGRP Prefix
/// Limit): past MAXIMUM routes, further ones are refused (logged); at THRESHOLD percent (IOS
/// default 75) a warning is logged; with `warning-only` nothing is refused.
#[derive(Clone, Copy, Debug, Eq, PartialEq)]
pub struct MaximumPrefix {
    /// The most routes.
    pub max: u32,
    /// The warning threshold in percent, when given.
    pub threshold: Option<u8>,
    /// `warning-only`.
    pub warning_only: bool,
}

impl Eigrp {
    /// Whether a `network` statement covers this interface address.
    #[must_use]
    pub fn covers(&self, address: Ipv4Addr) -> bool {
        self.networks.iter().any(|n| n.covers(address))
    }
}

/// `network ADDRESS [WILDCARD]`.
#[derive(Clone, Copy, Debug, Eq, PartialEq)]
pub struct Network {
    /// The address.
    pub address: Ipv4Addr,
    /// The wildcard (ones are "don't care"); without one, IOS takes the classful network.
    pub wildcard: Option<Ipv4Addr>,
}

impl Network {
    /// The wildcard in force: the one written, or the classful one of the address.
    #[must_use]
    pub fn effective_wildcard(&self) -> Ipv4Addr {
        self.wildcard.unwrap_or_else(|| {
            let first = self.address.octets()[0];
            Ipv4Addr::from_bits(match first {
                0..=127 => 0x00ff_ffff,
                128..=191 => 0x0000_ffff,
                _ => 0x0000_00ff,
            })
        })
    }

    /// Whether an interface address matches.
    #[must_use]
    pub fn covers(&self, address: Ipv4Addr) -> bool {
        let care = !self.effective_wildcard().to_bits();
        address.to_bits() & care == self.address.to_bits() & care
    }
}

/// A `crypto isakmp policy N` block (RFC 2409 §5 Phase 1 proposal), in IKE's vocabulary
/// ([`dmvpn_proto::ike`]). `None` fields are IOS's defaults, given by the accessors.
#[derive(Clone, Copy, Debug, Default, Eq, PartialEq)]
pub struct IsakmpPolicy {
    /// The priority (1 is tried first).
    pub priority: u16,
    /// `encryption …` (default DES).
    pub encryption: Option<Cipher>,
    /// `hash …` (default SHA-1).
    pub hash: Option<Hash>,
    /// `group …` (default 1).
    pub group: Option<Group>,
    /// `authentication pre-share` (the IOS default, RSA signatures, is not supported).
    pub pre_share: bool,
    /// `lifetime S` in seconds (default 86400).
    pub lifetime: Option<u32>,
}

impl IsakmpPolicy {
    /// The encryption in force.
    #[must_use]
    pub fn encryption(&self) -> Cipher {
        self.encryption.unwrap_or(Cipher::Des)
    }

    /// The hash in force.
    #[must_use]
    pub fn hash(&self) -> Hash {
        self.hash.unwrap_or(Hash::Sha1)
    }

    /// The Diffie-Hellman group in force.
    #[must_use]
    pub fn group(&self) -> Group {
        self.group.unwrap_or(Group::MODP_768)
    }

    /// The lifetime in force, in seconds.
    #[must_use]
    pub fn lifetime(&self) -> u32 {
        self.lifetime.unwrap_or(86_400)
    }

    /// The policy IKE offers and accepts for this block, IOS's defaults filled in.
    #[must_use]
    pub fn to_ike(&self) -> ike::Policy {
        ike::Policy {
            lifetime: dmvpn_proto::Duration::from_secs(i64::from(self.lifetime())),
            ..ike::Policy::new(self.encryption(), self.hash(), self.group())
        }
    }
}

/// The Diffie-Hellman group of IOS's `group N` and `set pfs groupN`, in IKE's registry
/// ([`Group`]: IOS numbers its groups as IKE does, RFC 2409 §6 and RFC 3526), if the router
/// has it: the MODP groups 1, 2, 5 and 14.
#[must_use]
pub fn dh_group(number: u64) -> Option<Group> {
    let group = Group(u16::try_from(number).ok()?);
    [
        Group::MODP_768,
        Group::MODP_1024,
        Group::MODP_1536,
        Group::MODP_2048,
    ]
    .contains(&group)
    .then_some(group)
}

/// `crypto isakmp key KEY address A [MASK]`.
#[derive(Clone, Debug, Eq, PartialEq)]
pub struct IsakmpKey {
    /// The pre-shared key.
    pub key: Secret,
    /// The peer address (`0.0.0.0` with mask `0.0.0.0`: any peer).
    pub address: Ipv4Addr,
    /// The mask; without one the key is for `address` alone, except `0.0.0.0`, which IOS
    /// takes as `0.0.0.0 0.0.0.0`, every peer ([`Config::parse`] writes that mask in).
    pub mask: Option<Ipv4Addr>,
}

impl IsakmpKey {
    /// The address and mask the key is for.
    #[must_use]
    pub fn peer(&self) -> PeerAddress {
        PeerAddress {
            address: self.address,
            mask: self.mask,
        }
    }

    /// The mask in force ([`PeerAddress::effective_mask`]).
    #[must_use]
    pub fn effective_mask(&self) -> Ipv4Addr {
        self.peer().effective_mask()
    }

    /// Whether this key is for `peer`.
    #[must_use]
    pub fn covers(&self, peer: Ipv4Addr) -> bool {
        self.peer().covers(peer)
    }
}

/// A peer `address A [MASK]` (a keyring peer's `address`; `crypto isakmp key` and `match
/// identity remote address` take it too): without a mask, the address alone, except
/// `0.0.0.0`, which IOS takes as every peer.
#[derive(Clone, Copy, Debug, Eq, PartialEq)]
pub struct PeerAddress {
    /// The address.
    pub address: Ipv4Addr,
    /// The mask, when written.
    pub mask: Option<Ipv4Addr>,
}

impl PeerAddress {
    /// The mask in force: the one written, else a host mask, except for `0.0.0.0` (every
    /// peer).
    #[must_use]
    pub fn effective_mask(&self) -> Ipv4Addr {
        match self.mask {
            Some(mask) => mask,
            None if self.address.is_unspecified() => Ipv4Addr::UNSPECIFIED,
            None => Ipv4Addr::BROADCAST,
        }
    }

    /// Whether `peer` is this address, or in its network.
    #[must_use]
    pub fn covers(&self, peer: Ipv4Addr) -> bool {
        let mask = self.effective_mask().to_bits();
        peer.to_bits() & mask == self.address.to_bits() & mask
    }
}

/// A `crypto ipsec transform-set NAME …` block.
#[derive(Clone, Debug, Eq, PartialEq)]
pub struct TransformSet {
    /// The name.
    pub name: String,
    /// The ESP cipher.
    pub encryption: EspEncryption,
    /// The ESP integrity algorithm (`None` for combined-mode ciphers, or none configured).
    pub integrity: Option<EspIntegrity>,
    /// ` mode …` (IOS's default is tunnel).
    pub mode: Option<EspMode>,
}

impl TransformSet {
    /// IOS's transform set `default`, one of IKEv2's smart defaults (IOS 15.4 and later): an
    /// IPsec profile with `set ikev2-profile` but no `set transform-set` offers it. IOS-XE
    /// prints it (`show crypto ipsec transform-set`, in published FlexVPN and SD-WAN lab
    /// transcripts) as `Transform set default: { esp-aes esp-sha-hmac }` with `will negotiate =
    /// { Transport, }`, and its `IPSEC profile default` as `Transform sets={ default: {
    /// esp-aes esp-sha-hmac } , }`: AES-128-CBC with HMAC-SHA1-96, transport mode. (Releases
    /// before it listed a second set with esp-3des esp-sha-hmac; no transcript of one was
    /// found, so it is not offered.)
    #[must_use]
    pub fn ios_default() -> Self {
        Self {
            name: "default".to_owned(),
            encryption: EspEncryption::Aes(128),
            integrity: Some(EspIntegrity::Sha),
            mode: Some(EspMode::Transport),
        }
    }
}

/// The ESP cipher of a transform set.
#[derive(Clone, Copy, Debug, Eq, PartialEq)]
pub enum EspEncryption {
    /// `esp-des`.
    Des,
    /// `esp-3des`.
    TripleDes,
    /// `esp-aes [128|192|256]` (AES-CBC, RFC 3602).
    Aes(u16),
    /// `esp-gcm [128|256]` (AES-GCM with a 16-byte ICV, RFC 4106).
    Gcm(u16),
    /// `esp-null`.
    Null,
}

/// The ESP integrity algorithm of a transform set.
#[derive(Clone, Copy, Debug, Eq, PartialEq)]
pub enum EspIntegrity {
    /// `esp-md5-hmac` (HMAC-MD5-96, RFC 2403).
    Md5,
    /// `esp-sha-hmac` (HMAC-SHA1-96, RFC 2404).
    Sha,
    /// `esp-sha256-hmac` (RFC 4868).
    Sha256,
    /// `esp-sha384-hmac` (RFC 4868).
    Sha384,
    /// `esp-sha512-hmac` (RFC 4868).
    Sha512,
}

/// A transform set's ` mode …`.
#[derive(Clone, Copy, Debug, Eq, PartialEq)]
pub enum EspMode {
    /// Transport mode: ESP protects the GRE packet between the NBMA addresses (DMVPN's usual).
    Transport,
    /// Tunnel mode.
    Tunnel,
}

/// A `crypto ipsec profile NAME` block.
#[derive(Clone, Debug, Default, Eq, PartialEq)]
pub struct IpsecProfile {
    /// The name.
    pub name: String,
    /// ` set transform-set NAME…`: the sets offered, in order.
    pub transform_sets: Vec<String>,
    /// ` set pfs groupN`.
    pub pfs: Option<Group>,
    /// ` set security-association lifetime seconds S`.
    pub lifetime: Option<u32>,
    /// ` set security-association lifetime kilobytes K`: the volume after which the pair is
    /// rekeyed (at 90 %) and expires.
    pub lifetime_kilobytes: Option<u64>,
    /// ` set ikev2-profile NAME`: the tunnel is keyed with IKEv2 and this profile.
    pub ikev2_profile: Option<String>,
}

impl IpsecProfile {
    /// Whether the profile offers IOS's default transform set
    /// ([`TransformSet::ios_default`]): it is keyed with IKEv2 (`set ikev2-profile`) and has
    /// no `set transform-set`. (An IKEv1 profile without one is refused by `check`.)
    #[must_use]
    pub fn uses_default_transform_set(&self) -> bool {
        self.transform_sets.is_empty() && self.ikev2_profile.is_some()
    }
}

#[cfg(test)]
mod ikev2_tests;
#[cfg(test)]
mod limit_tests;
#[cfg(test)]
mod phase_tests;
#[cfg(test)]
mod tests;
