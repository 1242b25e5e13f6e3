//! [`NodeConfig`]: plain data mirroring the IOS configuration of a DMVPN Phase 1 hub or spoke, so
//! that a configuration parser can fill it line by line.
//!
//! ```text
//! interface Tunnel0
//!  ip address 172.16.1.2 255.255.255.0          TunnelConfig::address, prefix_len
//!  ip mtu 1400                                  TunnelConfig::ip_mtu
//!  ip tcp adjust-mss 1360                       TunnelConfig::tcp_adjust_mss
//!  ip nhrp authentication cisco                 NhrpConfig::password
//!  ip nhrp map 172.16.1.1 100.1.1.1             NhrpConfig::maps
//!  ip nhrp map multicast 100.1.1.1              NhrpConfig::multicast_static
//!  ip nhrp map multicast dynamic                NhrpConfig::multicast_dynamic (hub)
//!  ip nhrp network-id 1                         NhrpConfig::network_id
//!  ip nhrp holdtime 300                         NhrpConfig::holding_time
//!  ip nhrp nhs 172.16.1.1                       NhrpConfig::nhs (spoke)
//!  ip nhrp redirect [timeout 2]                 NhrpConfig::redirect (Phase 3 hub)
//!  ip nhrp shortcut                             NhrpConfig::shortcut (Phase 3 spoke)
//!  no ip split-horizon eigrp 100                EigrpConfig::split_horizon
//!  no ip next-hop-self eigrp 100                EigrpConfig::next_hop_self
//!  tunnel source 100.1.1.2                      TunnelConfig::nbma
//!  tunnel mode gre multipoint                   TunnelConfig::multipoint
//!  tunnel key 100                               TunnelConfig::key
//!  tunnel protection ipsec profile DMVPN        NodeConfig::ipsec
//! router eigrp 100                              EigrpConfig::autonomous_system
//!  network 172.16.1.0 0.0.0.255                 EigrpConfig::networks
//!  network 192.168.2.0 0.0.0.255
//! ip route 10.9.0.0 255.255.0.0 172.16.1.1      NodeConfig::static_routes
//! crypto isakmp policy 10 / crypto isakmp key     ike::Config (not the node's)
//! crypto ipsec transform-set TS esp-aes esp-sha-hmac / mode transport
//!                                               IpsecConfig::transform_set
//! ```

use alloc::vec::Vec;
use core::net::Ipv4Addr;

use dmvpn_esp::{Encryption, Integrity};

use crate::eigrp::Md5Key;
use crate::ipsec::Lifetime;
use crate::limits::Limits;
use crate::nhrp::{Nhs, Password};
use crate::time::Duration;

/// The IPv4 prefix of addresses, routes and `network` lines (`dmvpn_ip`'s, shared by the
/// workspace).
pub use dmvpn_ip::Prefix;

/// Whether the node is the hub (the NHRP server, `map multicast dynamic`) or a spoke (an NHRP
/// client of its NHSes).
#[derive(Clone, Copy, Debug, Eq, PartialEq)]
pub enum Role {
    /// The hub: NHRP server, replicates multicast to every registered spoke and forwards
    /// spoke-to-spoke traffic (Phase 1 hairpin).
    Hub,
    /// A spoke: registers with every NHS and sends everything it cannot map to the first one.
    Spoke,
}

/// `interface Tunnel0`: addresses, key, MTU.
#[derive(Clone, Debug, Eq, PartialEq)]
pub struct TunnelConfig {
    /// `ip address`: the tunnel address.
    pub address: Ipv4Addr,
    /// `ip address`: the mask's length (24 for 255.255.255.0).
    pub prefix_len: u8,
    /// `tunnel source`: the NBMA address.
    pub nbma: Ipv4Addr,
    /// `tunnel key`: the GRE key (RFC 2890); packets with another key (or none) are dropped.
    pub key: Option<u32>,
    /// `ip mtu`: inner packets longer than this are not sent (counted as
    /// [`DropReason::TooBig`](super::DropReason::TooBig)); IOS's default on a tunnel is 1476.
    pub ip_mtu: u16,
    /// `ip tcp adjust-mss`: the MSS option of TCP SYNs crossing the tunnel is lowered to this.
    pub tcp_adjust_mss: Option<u16>,
    /// `tunnel mode gre multipoint`: the tunnel reaches any NBMA address, so a spoke resolves
    /// a next hop it has no mapping for (Phase 2) and takes shortcuts (Phase 3). A
    /// point-to-point spoke (`tunnel destination`) sends everything to its hub. On for
    /// [`NodeConfig::hub`], off for [`NodeConfig::spoke`].
    pub multipoint: bool,
}

impl TunnelConfig {
    /// The tunnel subnet.
    #[must_use]
    pub const fn subnet(&self) -> Prefix {
        Prefix::new(self.address, self.prefix_len)
    }
}

/// The NHRP lines of the tunnel interface.
#[derive(Clone, Debug)]
pub struct NhrpConfig {
    /// `ip nhrp network-id` (local only; never on the wire).
    pub network_id: u32,
    /// `ip nhrp nhs` with the NBMA address of its `ip nhrp map` (spokes).
    pub nhs: Vec<Nhs>,
    /// `ip nhrp map <tunnel> <nbma>`: static mappings (the NHS's is implied by `nhs`).
    pub maps: Vec<(Ipv4Addr, Ipv4Addr)>,
    /// `ip nhrp map multicast <nbma>`: where multicast (EIGRP Hellos) is replicated.
    pub multicast_static: Vec<Ipv4Addr>,
    /// `ip nhrp map multicast dynamic`: every registered spoke receives multicast (hubs).
    pub multicast_dynamic: bool,
    /// `ip nhrp holdtime`: IOS's default 7200 s.
    pub holding_time: u16,
    /// `ip nhrp registration timeout`: the refresh interval; `None` for a third of the holding
    /// time.
    pub registration_timeout: Option<Duration>,
    /// `ip nhrp registration no-unique` clears it.
    pub unique: bool,
    /// `ip nhrp authentication`.
    pub password: Option<Password>,
    /// `ip nhrp redirect [timeout S]` (a Phase 3 hub): a data packet forwarded back out the
    /// tunnel it came in on makes the node send a Traffic Indication to the packet's source, at
    /// most one per (source, destination) pair every [`Redirect::timeout`].
    pub redirect: Option<Redirect>,
    /// `ip nhrp shortcut` (a Phase 3 spoke): a Traffic Indication makes the node resolve the
    /// original destination and install the answer as a shortcut (`H`) route.
    pub shortcut: bool,
}

/// `ip nhrp redirect [timeout S]`.
#[derive(Clone, Copy, Debug, Eq, PartialEq)]
pub struct Redirect {
    /// `timeout S`: how long after a Traffic Indication for a (source, destination) pair the
    /// next one for that pair waits; IOS's range 2..=30 s, default 2 s.
    pub timeout: Duration,
}

impl Redirect {
    /// IOS's default: `ip nhrp redirect` with a 2 s timeout.
    pub const IOS_DEFAULT: Self = Self {
        timeout: Duration::from_secs(2),
    };
}

impl Default for Redirect {
    fn default() -> Self {
        Self::IOS_DEFAULT
    }
}

impl NhrpConfig {
    /// IOS's defaults: network-id 1, no NHS, holding time 7200 s, unique, no password, no
    /// redirect, no shortcut.
    #[must_use]
    pub const fn new() -> Self {
        Self {
            network_id: 1,
            nhs: Vec::new(),
            maps: Vec::new(),
            multicast_static: Vec::new(),
            multicast_dynamic: false,
            holding_time: 7200,
            registration_timeout: None,
            unique: true,
            password: None,
            redirect: None,
            shortcut: false,
        }
    }
}

impl Default for NhrpConfig {
    fn default() -> Self {
        Self::new()
    }
}

/// `router eigrp <as>` and the EIGRP lines of the tunnel interface.
#[derive(Clone, Debug, Eq, PartialEq)]
pub struct EigrpConfig {
    /// The autonomous system.
    pub autonomous_system: u16,
    /// `network A W`: interfaces in these prefixes run EIGRP, and their subnets are advertised.
    /// The tunnel subnet must be covered for EIGRP to run on the tunnel.
    pub networks: Vec<Prefix>,
    /// The subnets of this router's other (LAN) interfaces, which `networks` may cover: what it
    /// advertises besides the tunnel subnet (`show ip interface brief` of the router).
    pub connected: Vec<Prefix>,
    /// `metric weights 0 k1 k2 k3 k4 k5`; IOS's default 1 0 1 0 0 (K6 0).
    pub k: [u8; 6],
    /// `ip hello-interval eigrp`: 5 s.
    pub hello_interval: Duration,
    /// `ip hold-time eigrp`: 15 s.
    pub hold_time: u16,
    /// `ip split-horizon eigrp` (IOS's default on; a Phase 1 hub needs `no` for spokes to learn
    /// each other's LANs).
    pub split_horizon: bool,
    /// `ip next-hop-self eigrp` (IOS's default on, which makes every spoke route point at the hub:
    /// Phase 1).
    pub next_hop_self: bool,
    /// `ip authentication mode eigrp <as> md5` with its key chain.
    pub md5: Option<Md5Key>,
}

impl EigrpConfig {
    /// IOS's defaults for autonomous system `autonomous_system`.
    #[must_use]
    pub const fn new(autonomous_system: u16) -> Self {
        Self {
            autonomous_system,
            networks: Vec::new(),
            connected: Vec::new(),
            k: [1, 0, 1, 0, 0, 0],
            hello_interval: Duration::from_secs(5),
            hold_time: 15,
            split_horizon: true,
            next_hop_self: true,
            md5: None,
        }
    }
}

/// `crypto ipsec transform-set <name> <esp-enc> <esp-auth>` with `mode transport`.
#[derive(Clone, Copy, Debug, Eq, PartialEq)]
pub struct TransformSet {
    /// `esp-des`/`esp-3des`/`esp-aes [bits]`/`esp-gcm`.
    pub encryption: Encryption,
    /// The AES key length in bits (128, 192, 256); ignored for 3DES and NULL.
    pub key_bits: u16,
    /// `esp-md5-hmac`/`esp-sha-hmac`/`esp-sha256-hmac`.
    pub integrity: Integrity,
}

/// `tunnel protection ipsec profile`: what the data plane needs of it. The ISAKMP policies and
/// pre-shared keys are IKE's ([`crate::ike::Config`]), which keys the peers.
#[derive(Clone, Debug)]
pub struct IpsecConfig {
    /// The transform set of the profile.
    pub transform_set: TransformSet,
    /// `crypto ipsec security-association lifetime` of the SAs.
    pub lifetime: Lifetime,
}

/// `ip route <prefix> <mask> <next hop>` through the tunnel.
#[derive(Clone, Copy, Debug, Eq, PartialEq)]
pub struct StaticRoute {
    /// The destination.
    pub prefix: Prefix,
    /// The next hop, a tunnel address.
    pub next_hop: Ipv4Addr,
}

/// The whole configuration of a node.
#[derive(Clone, Debug)]
pub struct NodeConfig {
    /// Hub or spoke.
    pub role: Role,
    /// The tunnel interface.
    pub tunnel: TunnelConfig,
    /// NHRP.
    pub nhrp: NhrpConfig,
    /// EIGRP, if `router eigrp` covers the tunnel.
    pub eigrp: Option<EigrpConfig>,
    /// `tunnel protection ipsec profile`, if set.
    pub ipsec: Option<IpsecConfig>,
    /// Static routes through the tunnel.
    pub static_routes: Vec<StaticRoute>,
    /// Forward packets that arrive from the tunnel and leave through it again inside the node
    /// (the Phase 1 hub's spoke-to-spoke hairpin) instead of handing them to the host. On by
    /// default; the host's stack would forward them the same way, slower.
    pub hairpin: bool,
    /// What authenticated peers may make the node keep (NHRP, EIGRP; IKE's are in
    /// `ike::Config`): see [`crate::limits`].
    pub limits: Limits,
}

impl NodeConfig {
    /// A hub at tunnel address `address`/`prefix_len` and NBMA address `nbma`, with `map
    /// multicast dynamic`, no EIGRP and no IPsec.
    #[must_use]
    pub const fn hub(address: Ipv4Addr, prefix_len: u8, nbma: Ipv4Addr) -> Self {
        let mut nhrp = NhrpConfig::new();
        nhrp.multicast_dynamic = true;
        Self::new(Role::Hub, address, prefix_len, nbma, nhrp)
    }

    /// A spoke registering with `nhs` (and sending multicast to it), with no EIGRP and no IPsec.
    #[must_use]
    pub fn spoke(address: Ipv4Addr, prefix_len: u8, nbma: Ipv4Addr, nhs: Nhs) -> Self {
        let mut nhrp = NhrpConfig::new();
        nhrp.nhs.push(nhs);
        nhrp.multicast_static.push(nhs.nbma);
        Self::new(Role::Spoke, address, prefix_len, nbma, nhrp)
    }

    const fn new(
        role: Role,
        address: Ipv4Addr,
        prefix_len: u8,
        nbma: Ipv4Addr,
        nhrp: NhrpConfig,
    ) -> Self {
        Self {
            role,
            tunnel: TunnelConfig {
                address,
                prefix_len,
                nbma,
                key: None,
                ip_mtu: 1476,
                tcp_adjust_mss: None,
                multipoint: matches!(role, Role::Hub),
            },
            nhrp,
            eigrp: None,
            ipsec: None,
            static_routes: Vec::new(),
            hairpin: true,
            limits: Limits::DEFAULT,
        }
    }
}
