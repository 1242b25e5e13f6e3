//! From the parsed [`Config`] to the node machine's [`NodeConfig`] (`dmvpn_proto::node`): what
//! the router runs. The configuration has already been checked; what is left here is what the
//! node cannot do (yet), each refused with the reason.

use std::net::Ipv4Addr;

use dmvpn_esp::{Encryption, Integrity};
use dmvpn_isakmp::keys::Secret;
use dmvpn_proto::ike::{self, Entropy};
use dmvpn_proto::ikev2;
use dmvpn_proto::ipsec::Lifetime;
use dmvpn_proto::limits::IkeLimits;
use dmvpn_proto::nhrp::{Nhs, Password};
use dmvpn_proto::node::{
    self, EigrpConfig, IpsecConfig, Node, NodeConfig, Redirect, StaticRoute, TransformSet,
};
use dmvpn_proto::router::Router;
use dmvpn_proto::{Duration, Instant};

use crate::config::{
    Config, EspEncryption, EspIntegrity, EspMode, Ikev2Proposal, MulticastMap, Role,
};

/// Why a checked configuration cannot run on the node.
#[derive(Clone, Debug, Eq, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum NodeError {
    /// The configuration has no usable tunnel (no tunnel interface, address or NBMA address);
    /// [`Config::parse`] reports why.
    #[error("the configuration has no complete tunnel interface")]
    NoTunnel,
    /// An EIGRP `network` wildcard with holes.
    #[error("eigrp network {address} {wildcard}: only contiguous wildcards are supported")]
    Wildcard {
        /// The address.
        address: Ipv4Addr,
        /// The wildcard.
        wildcard: Ipv4Addr,
    },
    /// A transform the ESP data path does not have.
    #[error("transform-set {name}: {what} is not supported by the esp data path")]
    Transform {
        /// The transform set.
        name: String,
        /// What is missing.
        what: &'static str,
    },
    /// The NHRP password does not fit the extension.
    #[error("ip nhrp authentication: {0}")]
    Password(dmvpn_proto::nhrp::Error),
    /// The IKEv2 configuration is not complete (a checked configuration is).
    #[error("ikev2: {0}")]
    Ikev2(String),
}

/// The key exchange a protected tunnel runs: IKEv1 (`crypto isakmp`) or, when the tunnel's
/// IPsec profile says `set ikev2-profile`, IKEv2 (`crypto ikev2`). One of them boots the
/// router's machine ([`Ike::router`]).
// Built once per router and moved whole: the sizes need no box.
#[allow(clippy::large_enum_variant)]
#[derive(Clone, Debug)]
pub enum Ike {
    /// IKEv1 Main Mode and Quick Mode.
    V1(ike::Config),
    /// IKEv2.
    V2(ikev2::Config),
}

impl Ike {
    /// Our NBMA address (the IKE SAs' local address).
    #[must_use]
    pub const fn local(&self) -> Ipv4Addr {
        match self {
            Self::V1(c) => c.local,
            Self::V2(c) => c.local,
        }
    }

    /// The bounds on IKE SAs (`crypto call admission limit ike …`).
    #[must_use]
    pub const fn limits(&self) -> IkeLimits {
        match self {
            Self::V1(c) => c.limits,
            Self::V2(c) => c.limits,
        }
    }

    /// The machine of a router: `node` keyed by this exchange, its endpoint drawing from
    /// `entropy`, booted at `now`.
    pub fn router<R: Entropy>(
        this: Option<Self>,
        node: Node,
        entropy: R,
        now: Instant,
    ) -> Router<R> {
        match this {
            None => Router::new(node, None, now),
            Some(Self::V1(config)) => {
                Router::new(node, Some(ike::Endpoint::new(config, entropy)), now)
            }
            Some(Self::V2(config)) => {
                Router::with_ikev2(node, ikev2::Endpoint::new(config, entropy), now)
            }
        }
    }
}

/// What the router runs from a checked [`Config`], in one place: the node's configuration (the
/// data plane, NHRP, EIGRP) and, with `tunnel protection`, the key exchange's (IKEv1's
/// policies and keys, or IKEv2's proposals, keyring and profile; the transform sets). Each line
/// of the configuration lands in one of the two.
///
/// # Errors
///
/// [`NodeError`], from [`node_config`], [`ike_config`] or [`ikev2_config`].
pub fn configs(config: &Config) -> Result<(NodeConfig, Option<Ike>), NodeError> {
    let node = node_config(config)?;
    let ike = match ikev2_config(config)? {
        Some(v2) => Some(Ike::V2(v2)),
        None => ike_config(config)?.map(Ike::V1),
    };
    Ok((node, ike))
}

/// The node configuration of a checked [`Config`].
///
/// # Errors
///
/// [`NodeError`] for what the node does not support (see its variants).
pub fn node_config(config: &Config) -> Result<NodeConfig, NodeError> {
    let (Some(interface), Some(tunnel), Some(nbma)) = (
        config.tunnel_interface(),
        config.tunnel(),
        config.nbma_address(),
    ) else {
        return Err(NodeError::NoTunnel);
    };
    let address = interface.address.ok_or(NodeError::NoTunnel)?;
    let prefix_len = address.prefix_len();
    let nhs: Vec<Nhs> = (tunnel.nhrp.nhs.iter())
        .filter_map(|n| {
            Some(Nhs {
                tunnel: n.address,
                nbma: tunnel.nhs_nbma(n)?,
            })
        })
        .collect();
    let mut node = match tunnel.role() {
        Role::Hub => NodeConfig::hub(address.address, prefix_len, nbma),
        Role::Spoke => {
            let first = *nhs.first().ok_or(NodeError::NoTunnel)?;
            NodeConfig::spoke(address.address, prefix_len, nbma, first)
        }
    };
    node.tunnel.key = tunnel.key;
    if let Some(mtu) = interface.mtu {
        node.tunnel.ip_mtu = mtu;
    }
    node.tunnel.tcp_adjust_mss = interface.adjust_mss;
    node.tunnel.multipoint = tunnel.is_multipoint();

    let nhrp = &mut node.nhrp;
    nhrp.network_id = tunnel.nhrp.network_id.unwrap_or(1);
    nhrp.nhs = nhs;
    nhrp.maps = tunnel
        .nhrp
        .maps
        .iter()
        .map(|m| (m.tunnel, m.nbma))
        .collect();
    nhrp.multicast_dynamic = tunnel.nhrp.multicast.contains(&MulticastMap::Dynamic);
    nhrp.multicast_static = (tunnel.nhrp.multicast.iter())
        .filter_map(|m| match m {
            MulticastMap::Nbma(a) => Some(*a),
            MulticastMap::Dynamic => None,
        })
        .collect();
    // A point-to-point spoke sends multicast to its one destination, as a GRE tunnel does.
    if let (Some(destination), false) = (tunnel.destination, tunnel.is_multipoint())
        && !nhrp.multicast_static.contains(&destination)
    {
        nhrp.multicast_static.push(destination);
    }
    if let Some(holdtime) = tunnel.nhrp.holdtime {
        nhrp.holding_time = holdtime;
    }
    if let Some(seconds) = tunnel.nhrp.registration_timeout {
        nhrp.registration_timeout = Some(Duration::from_secs(i64::from(seconds)));
    }
    if tunnel.nhrp.no_unique {
        nhrp.unique = false;
    }
    nhrp.redirect = tunnel.nhrp.redirect.map(|timeout| Redirect {
        timeout: timeout.map_or(Redirect::IOS_DEFAULT.timeout, |s| {
            Duration::from_secs(i64::from(s))
        }),
    });
    nhrp.shortcut = tunnel.nhrp.shortcut;
    if let Some(secret) = &tunnel.nhrp.authentication {
        nhrp.password =
            Some(Password::new(secret.expose().as_bytes()).map_err(NodeError::Password)?);
    }

    let eigrp = config.eigrp.iter().find(|e| e.covers(address.address));
    if let Some(eigrp) = eigrp {
        let mut out = EigrpConfig::new(eigrp.asn);
        for network in &eigrp.networks {
            let wildcard = network.effective_wildcard();
            let prefix = node::Prefix::from_wildcard(network.address, wildcard).ok_or(
                NodeError::Wildcard {
                    address: network.address,
                    wildcard,
                },
            )?;
            out.networks.push(prefix);
        }
        out.connected = (config.interfaces.iter())
            .filter(|i| i.tunnel.is_none() && i.shutdown != Some(true))
            .filter_map(|i| i.address)
            .filter(|a| eigrp.covers(a.address))
            .filter_map(|a| node::Prefix::from_netmask(a.address, a.mask))
            .collect();
        out.split_horizon = !tunnel.no_split_horizon.contains(&eigrp.asn);
        out.next_hop_self = !tunnel.no_next_hop_self.contains(&eigrp.asn);
        node.eigrp = Some(out);
        if let Some(limit) = eigrp.maximum_prefix {
            let total = &mut node.limits.eigrp.total;
            total.max = usize::try_from(limit.max).unwrap_or(usize::MAX);
            total.threshold_percent = limit.threshold.unwrap_or(total.threshold_percent);
            total.warning_only = limit.warning_only;
            // (one neighbour never gets more than the whole process)
            let per_neighbor = &mut node.limits.eigrp.per_neighbor;
            *per_neighbor = (*per_neighbor).min(total.max);
        }
    }

    if let Some(profile) = config.protection() {
        node.ipsec = Some(ipsec(config, profile)?);
    }
    // Routes through the tunnel are the node's; the underlay's (the default route to the ISP)
    // are the host's.
    for (route, next_hop) in config.tunnel_routes() {
        node.static_routes.push(StaticRoute {
            prefix: route.prefix,
            next_hop,
        });
    }
    Ok(node)
}

/// The data plane's part of `tunnel protection`: the first transform set and the SA lifetime.
/// The policies and keys are IKE's ([`ike_config`]).
fn ipsec(config: &Config, profile: &crate::config::IpsecProfile) -> Result<IpsecConfig, NodeError> {
    // The first transform set of the profile is the one proposed and accepted.
    let sets = config.profile_transform_sets(profile);
    let set = sets.first().ok_or(NodeError::NoTunnel)?;
    let unsupported = |what| NodeError::Transform {
        name: set.name.clone(),
        what,
    };
    if set.mode != Some(EspMode::Transport) {
        return Err(unsupported("tunnel mode (add ` mode transport`)"));
    }
    let (encryption, key_bits) = match set.encryption {
        EspEncryption::Des => return Err(unsupported("esp-des")),
        EspEncryption::TripleDes => (Encryption::TripleDesCbc, 192),
        EspEncryption::Aes(bits) => (Encryption::AesCbc, bits),
        EspEncryption::Gcm(bits) => (Encryption::AesGcm16, bits),
        EspEncryption::Null => (Encryption::Null, 0),
    };
    let integrity = match set.integrity {
        None => Integrity::None,
        Some(EspIntegrity::Md5) => Integrity::HmacMd5_96,
        Some(EspIntegrity::Sha) => Integrity::HmacSha1_96,
        Some(EspIntegrity::Sha256) => Integrity::HmacSha256_128,
        Some(EspIntegrity::Sha384) => Integrity::HmacSha384_192,
        Some(EspIntegrity::Sha512) => Integrity::HmacSha512_256,
    };
    let mut lifetime = Lifetime::ios_default();
    if let Some(seconds) = profile.lifetime {
        let seconds = i64::from(seconds);
        lifetime.hard_time = Some(Duration::from_secs(seconds));
        lifetime.soft_time = Some(Duration::from_secs(seconds / 10 * 9));
    }
    Ok(IpsecConfig {
        transform_set: TransformSet {
            encryption,
            key_bits,
            integrity,
        },
        lifetime,
    })
}

/// The IKEv1 configuration (`dmvpn_proto::ike`) of a protected tunnel: the ISAKMP policies in
/// priority order, the pre-shared keys, and the profile's transform sets. `None` without
/// `tunnel protection`, or when the profile keys with IKEv2 (`set ikev2-profile`:
/// [`ikev2_config`]).
///
/// # Errors
///
/// [`NodeError::Transform`] for a policy or transform set the IKE machine does not offer
/// (DES, GCM, NULL, SHA-384/512), [`NodeError::NoTunnel`] without an NBMA address.
pub fn ike_config(config: &Config) -> Result<Option<ike::Config>, NodeError> {
    let Some(profile) = config.protection() else {
        return Ok(None);
    };
    if profile.ikev2_profile.is_some() {
        return Ok(None);
    }
    let local = config.nbma_address().ok_or(NodeError::NoTunnel)?;
    let mut out = ike::Config::new(local);
    if let Some(n) = config.ike_in_negotiation_sa {
        out.limits.half_open = usize::try_from(n).unwrap_or(usize::MAX);
    }
    if let Some(n) = config.ike_sa_limit {
        out.limits.sas = usize::try_from(n).unwrap_or(usize::MAX);
    }
    // Only pre-shared-key policies are offered (a certificate policy is another VPN's).
    let mut policies: Vec<_> = (config.isakmp_policies.iter())
        .filter(|p| p.pre_share)
        .collect();
    policies.sort_by_key(|p| p.priority);
    for policy in policies {
        out.policies.push(policy.to_ike());
    }
    out.keys = (config.isakmp_keys.iter())
        .map(|k| ike::PresharedKey {
            address: k.address,
            mask: k.effective_mask(),
            key: Secret::from_slice(k.key.expose().as_bytes()),
        })
        .collect();
    out.transform_sets = esp_transform_sets(config, profile)?;
    out.pfs = profile.pfs;
    if let Some(seconds) = profile.lifetime {
        out.ipsec_lifetime = Duration::from_secs(i64::from(seconds));
    }
    if let Some(kb) = profile.lifetime_kilobytes {
        out.ipsec_lifetime_kb = Some(kb);
    }
    Ok(Some(out))
}

/// The transform sets a profile offers, as IKE (either version) negotiates them: transport
/// mode, 3DES or AES-CBC with HMAC-MD5, SHA-1 or SHA-256 (IOS's `default` for an IKEv2
/// profile without `set transform-set`).
fn esp_transform_sets(
    config: &Config,
    profile: &crate::config::IpsecProfile,
) -> Result<Vec<ike::TransformSet>, NodeError> {
    let mut out = Vec::new();
    for set in &config.profile_transform_sets(profile) {
        let unsupported = |what| NodeError::Transform {
            name: set.name.clone(),
            what,
        };
        if set.mode != Some(EspMode::Transport) {
            return Err(unsupported("tunnel mode (add ` mode transport`)"));
        }
        let encryption = match set.encryption {
            EspEncryption::TripleDes => ike::EspCipher::TripleDes,
            EspEncryption::Aes(128) => ike::EspCipher::Aes128,
            EspEncryption::Aes(192) => ike::EspCipher::Aes192,
            EspEncryption::Aes(256) => ike::EspCipher::Aes256,
            EspEncryption::Des => return Err(unsupported("esp-des")),
            EspEncryption::Gcm(_) => return Err(unsupported("esp-gcm in ike")),
            EspEncryption::Null | EspEncryption::Aes(_) => {
                return Err(unsupported("this esp cipher in ike"));
            }
        };
        let integrity = match set.integrity {
            Some(EspIntegrity::Md5) => ike::EspAuth::Md5,
            Some(EspIntegrity::Sha) => ike::EspAuth::Sha1,
            Some(EspIntegrity::Sha256) => ike::EspAuth::Sha256,
            _ => return Err(unsupported("this esp integrity in ike")),
        };
        out.push(ike::TransformSet {
            encryption,
            integrity,
        });
    }
    Ok(out)
}

/// The IKEv2 configuration (`dmvpn_proto::ikev2`) of a tunnel whose IPsec profile says `set
/// ikev2-profile`: the proposals of the `crypto ikev2 policy`s matching the NBMA address (IOS's
/// policy and proposal `default` without any), the profile's keyring (one key per peer, local
/// and remote being the same), identity, lifetime and DPD, `crypto ikev2 cookie-challenge`, and
/// the IPsec profile's transform sets, PFS and SA lifetimes. `None` when the tunnel is not
/// keyed with IKEv2.
///
/// `match identity remote` picks the profile in IOS; with one profile here its lines are what
/// the machine accepts of a peer's identity ([`ikev2::Config::remote_identities`]): a
/// responder refuses an IDi none matches with AUTHENTICATION_FAILED, an initiator an IDr. DPD's retry interval is the machine's retransmission back-off's, not `RETRY`;
/// `periodic` and `on-demand` both send a liveness check after `INTERVAL` of silence.
///
/// # Errors
///
/// [`NodeError::Ikev2`] when the profile, its keyring or a proposal is missing (a checked
/// configuration has them), [`NodeError::Transform`] for a transform set IKE does not offer,
/// [`NodeError::NoTunnel`] without an NBMA address.
pub fn ikev2_config(config: &Config) -> Result<Option<ikev2::Config>, NodeError> {
    let Some(profile) = config.protection() else {
        return Ok(None);
    };
    let Some(name) = &profile.ikev2_profile else {
        return Ok(None);
    };
    let local = config.nbma_address().ok_or(NodeError::NoTunnel)?;
    let v2 = (config.ikev2_profile())
        .ok_or_else(|| NodeError::Ikev2(format!("ikev2 profile {name} is not defined")))?;
    let keyring = (v2.keyring.as_ref())
        .and_then(|k| config.keyring(k))
        .ok_or_else(|| NodeError::Ikev2(format!("ikev2 profile {name} has no keyring")))?;
    let proposals = config.ikev2_proposals_for(local);
    if proposals.is_empty() {
        return Err(NodeError::Ikev2(format!(
            "no ikev2 proposal for local address {local}"
        )));
    }
    let mut keys = Vec::new();
    for peer in &keyring.peers {
        let Some(address) = peer.address else {
            continue;
        };
        let Some(key) = peer.symmetric_key() else {
            return Err(NodeError::Ikev2(format!(
                "keyring {} peer {}: one pre-shared-key for both directions is needed",
                keyring.name, peer.name
            )));
        };
        keys.push(ike::PresharedKey {
            address: address.address,
            mask: address.effective_mask(),
            key: Secret::from_slice(key.expose().as_bytes()),
        });
    }
    let mut child_lifetime = Lifetime::ios_default();
    if let Some(seconds) = profile.lifetime {
        let seconds = i64::from(seconds);
        child_lifetime.hard_time = Some(Duration::from_secs(seconds));
        child_lifetime.soft_time = Some(Duration::from_secs(seconds / 10 * 9));
    }
    if let Some(kb) = profile.lifetime_kilobytes {
        let bytes = kb.saturating_mul(1024);
        child_lifetime.hard_bytes = Some(bytes);
        child_lifetime.soft_bytes = Some(bytes / 10 * 9);
    }
    let transform_sets = esp_transform_sets(config, profile)?;
    let (Some(first), Some(&set)) = (proposals.first(), transform_sets.first()) else {
        return Err(NodeError::Ikev2(format!(
            "ipsec profile {} has no transform set",
            profile.name
        )));
    };
    let mut out = ikev2::Config::dmvpn(local, first.to_proto(), b"", set);
    out.proposals = proposals.iter().map(Ikev2Proposal::to_proto).collect();
    out.transform_sets = transform_sets;
    out.keys = keys;
    out.identity = v2.identity(local);
    out.remote_identities = (v2.match_remote.iter())
        .map(crate::config::RemoteIdentity::to_proto)
        .collect();
    out.pfs = profile.pfs;
    out.ike_lifetime = Duration::from_secs(i64::from(v2.lifetime()));
    out.child_lifetime = child_lifetime;
    out.dpd = v2.dpd.map(|d| Duration::from_secs(i64::from(d.interval)));
    if let Some(n) = config.ikev2_cookie_challenge {
        out.cookie_threshold = usize::try_from(n).unwrap_or(usize::MAX);
    }
    if let Some(n) = config.ike_in_negotiation_sa {
        out.limits.half_open = usize::try_from(n).unwrap_or(usize::MAX);
    }
    if let Some(n) = config.ike_sa_limit {
        out.limits.sas = usize::try_from(n).unwrap_or(usize::MAX);
    }
    Ok(Some(out))
}

#[cfg(test)]
mod tests {
    use dmvpn_isakmp::consts::Group;
    use dmvpn_isakmp::crypto::Cipher;

    use super::*;
    use crate::config::Options;
    use dmvpn_proto::node::Role as NodeRole;

    const HUB: &str = include_str!("../../../testdata/router/hub.cfg");
    const SPOKE1: &str = include_str!("../../../testdata/router/spoke1.cfg");
    const SPOKE2: &str = include_str!("../../../testdata/router/spoke2.cfg");
    const V2_HUB: &str = include_str!("../../../testdata/router/ikev2/hub.cfg");
    const V2_SPOKE1: &str = include_str!("../../../testdata/router/ikev2/spoke1.cfg");
    const V2_SPOKE2: &str = include_str!("../../../testdata/router/ikev2/spoke2.cfg");

    fn load(text: &str) -> Config {
        Config::parse(text, Options::default()).unwrap().config
    }

    /// The node's configuration of a text that loads and runs.
    fn node_of(text: &str) -> NodeConfig {
        node_config(&load(text)).unwrap()
    }

    /// IKEv1's configuration of a protected text that loads and runs.
    fn ike_of(text: &str) -> ike::Config {
        ike_config(&load(text)).unwrap().unwrap()
    }

    fn ip(text: &str) -> Ipv4Addr {
        text.parse().unwrap()
    }

    /// The hub's `crypto isakmp policy 10`: 3DES, MD5, group 2.
    fn hub_policy() -> ike::Policy {
        ike::Policy::new(Cipher::TripleDes, ike::Hash::Md5, Group::MODP_1024)
    }

    /// `text` with its ipsec profile's SA lifetimes set to 600 s and 20 000 KB.
    fn with_sa_lifetimes(text: &str) -> String {
        text.replace(
            " set transform-set",
            " set security-association lifetime seconds 600\n \
             set security-association lifetime kilobytes 20000\n set transform-set",
        )
    }

    #[test]
    fn hub() {
        let node = node_of(HUB);
        assert_eq!(node.role, NodeRole::Hub);
        assert_eq!(
            (
                node.tunnel.address,
                node.tunnel.prefix_len,
                node.tunnel.nbma
            ),
            (ip("10.99.200.1"), 24, ip("192.0.2.1"))
        );
        assert_eq!(
            (
                node.tunnel.ip_mtu,
                node.tunnel.tcp_adjust_mss,
                node.tunnel.key
            ),
            (1400, Some(1360), None)
        );
        assert_eq!((node.nhrp.network_id, node.nhrp.holding_time), (123, 300));
        assert!(node.nhrp.multicast_dynamic && node.nhrp.nhs.is_empty());
        assert_eq!(
            node.nhrp.password.as_ref().map(Password::as_bytes),
            Some(&b"dmvpn"[..])
        );
        let eigrp = node.eigrp.unwrap();
        assert_eq!(eigrp.autonomous_system, 123);
        assert!(!eigrp.split_horizon && eigrp.next_hop_self);
        let networks: Vec<String> = eigrp.networks.iter().map(ToString::to_string).collect();
        assert_eq!(networks, ["10.99.10.0/24", "10.99.200.0/24"]);
        let connected: Vec<String> = eigrp.connected.iter().map(ToString::to_string).collect();
        assert_eq!(connected, ["10.99.10.0/24"], "the LAN, not the NBMA side");
        let ipsec = node.ipsec.unwrap();
        assert_eq!(
            ipsec.transform_set,
            TransformSet {
                encryption: Encryption::AesCbc,
                key_bits: 128,
                integrity: Integrity::HmacSha1_96
            }
        );
        let ike = ike_of(HUB);
        assert_eq!(
            ike.key_for(ip("192.0.2.77")).map(Secret::as_bytes),
            Some(&b"lab-psk-secret"[..])
        );
        assert_eq!(ike.policies[0], hub_policy());
    }

    #[test]
    fn spokes() {
        let (spoke1, spoke2) = (node_of(SPOKE1), node_of(SPOKE2));
        assert_eq!([spoke1.role, spoke2.role], [NodeRole::Spoke; 2]);
        assert_eq!(
            spoke1.nhrp.nhs,
            [Nhs {
                tunnel: ip("10.99.200.1"),
                nbma: ip("192.0.2.1")
            }]
        );
        assert_eq!(
            spoke1.nhrp.multicast_static,
            [ip("192.0.2.1")],
            "point-to-point: multicast to the destination"
        );
        assert!(ike_of(SPOKE1).key_for(ip("192.0.2.2")).is_none());
        assert_eq!(spoke2.nhrp.multicast_static, [ip("192.0.2.1")]);
        assert_eq!(spoke2.nhrp.maps, [(ip("10.99.200.1"), ip("192.0.2.1"))]);
        assert!(spoke2.nhrp.unique && spoke2.nhrp.registration_timeout.is_none());
        let text = SPOKE2.replace(
            " ip nhrp holdtime 300\n",
            " ip nhrp holdtime 300\n ip nhrp registration timeout 60\n ip nhrp registration no-unique\n",
        );
        let node = node_of(&text);
        assert_eq!(
            node.nhrp.registration_timeout,
            Some(Duration::from_secs(60))
        );
        assert!(!node.nhrp.unique);
    }

    #[test]
    fn refusals() {
        let cases = [
            (
                " mode transport\n",
                "",
                "transform-set DMVPN-TS: tunnel mode (add ` mode transport`) is not supported by the esp data path",
            ),
            (
                "esp-aes 128 esp-sha-hmac",
                "esp-des esp-sha-hmac",
                "transform-set DMVPN-TS: esp-des is not supported by the esp data path",
            ),
            (
                " network 10.99.10.0 0.0.0.255",
                " network 10.99.10.0 0.0.255.0",
                "eigrp network 10.99.10.0 0.0.255.0: only contiguous wildcards are supported",
            ),
        ];
        for (from, to, message) in cases {
            let config = load(&HUB.replacen(from, to, 1));
            assert_eq!(node_config(&config).unwrap_err().to_string(), message);
        }
        assert_eq!(
            node_config(&Config::default()).unwrap_err(),
            NodeError::NoTunnel
        );
    }

    #[test]
    fn ike() {
        let ike = ike_of(HUB);
        assert_eq!(ike.local, ip("192.0.2.1"));
        assert_eq!(ike.policies, [hub_policy()]);
        assert_eq!(
            ike.transform_sets,
            [ike::TransformSet {
                encryption: ike::EspCipher::Aes128,
                integrity: ike::EspAuth::Sha1
            }]
        );
        assert!(ike.key_for(ip("203.0.113.5")).is_some());
        // IOS's defaults unless the profile sets them.
        assert_eq!(
            (ike.ipsec_lifetime, ike.ipsec_lifetime_kb),
            (Duration::from_secs(3600), Some(4_608_000))
        );
        let ike = ike_of(&with_sa_lifetimes(HUB));
        assert_eq!(
            (ike.ipsec_lifetime, ike.ipsec_lifetime_kb),
            (Duration::from_secs(600), Some(20_000))
        );
        let plain = HUB.replace(" tunnel protection ipsec profile DMVPN\n", "");
        assert!(ike_config(&load(&plain)).unwrap().is_none());
    }

    /// `check` took a key for a subnet and `run` refused it: both take it now, and IKE finds it
    /// for every peer of the subnet, and only for them.
    #[test]
    fn subnet_keys_run() {
        let hub = HUB.replacen(
            "address 0.0.0.0 0.0.0.0",
            "address 192.0.2.0 255.255.255.0",
            1,
        );
        let config = load(&hub);
        assert!(node_config(&config).unwrap().ipsec.is_some());
        let ike = ike_config(&config).unwrap().unwrap();
        assert!(ike.key_for(ip("192.0.2.11")).is_some());
        assert!(ike.key_for(ip("192.0.3.11")).is_none());
        // With a host key beside it, each peer gets the most specific one.
        let both = hub.replacen(
            "crypto isakmp key",
            "crypto isakmp key other address 192.0.2.12\ncrypto isakmp key",
            1,
        );
        let ike = ike_of(&both);
        assert_eq!(
            ike.key_for(ip("192.0.2.12")).map(|k| k.as_bytes().to_vec()),
            Some(b"other".to_vec())
        );
        assert_eq!(
            ike.key_for(ip("192.0.2.11")).map(|k| k.as_bytes().to_vec()),
            Some(b"lab-psk-secret".to_vec())
        );
        // `address 0.0.0.0` without a mask: IOS's wildcard.
        let wildcard = HUB.replacen("address 0.0.0.0 0.0.0.0", "address 0.0.0.0", 1);
        assert!(ike_of(&wildcard).key_for(ip("203.0.113.9")).is_some());
    }

    /// A certificate policy beside the pre-share one (another VPN of the router) is not offered.
    #[test]
    fn only_pre_share_policies_are_offered() {
        let hub = HUB.replacen(
            "crypto isakmp policy 10\n",
            "crypto isakmp policy 5\n encryption aes 256\n authentication rsa-sig\ncrypto isakmp policy 10\n",
            1,
        );
        let parsed = Config::parse(&hub, Options::default()).unwrap();
        assert_eq!(
            parsed.warnings.len(),
            2,
            "the line skipped, the policy not offered"
        );
        let ike = ike_config(&parsed.config).unwrap().unwrap();
        assert_eq!(ike.policies, [hub_policy()]);
    }

    /// Both halves come from one call: the node's and IKE's, or no IKE without protection.
    #[test]
    fn configs_are_the_node_and_ike() {
        let (node, ike) = configs(&load(HUB)).unwrap();
        assert_eq!(node.role, NodeRole::Hub);
        assert!(node.ipsec.is_some());
        assert_eq!(ike.map(|c| c.local()), Some(ip("192.0.2.1")));
        let plain = HUB.replace(" tunnel protection ipsec profile DMVPN\n", "");
        let (node, ike) = configs(&load(&plain)).unwrap();
        assert!(node.ipsec.is_none() && ike.is_none());
        assert_eq!(
            configs(&Config::default()).unwrap_err(),
            NodeError::NoTunnel
        );
    }

    /// IKEv2's configuration from the profile: proposals of the matching policies (IOS's
    /// default without one), keyring keys by address and mask, identity, lifetimes, DPD,
    /// cookie threshold; and `configs` gives it as `Ike::V2`.
    #[test]
    fn ikev2() {
        use dmvpn_isakmp::v2::crypto::{Encryption, Integrity};
        let config = load(&V2_HUB.replace(
            "crypto ipsec transform-set",
            "crypto ikev2 cookie-challenge 5\n!\ncrypto ipsec transform-set",
        ));
        assert!(ike_config(&config).unwrap().is_none());
        let v2 = ikev2_config(&config).unwrap().unwrap();
        assert_eq!(v2.local, ip("192.0.2.1"));
        assert_eq!(v2.identity, ikev2::Identity::Address(ip("192.0.2.1")));
        assert_eq!(v2.proposals.len(), 1);
        assert_eq!(
            v2.proposals[0].encryption,
            [Encryption::AesCbc(256), Encryption::AesCbc(128)]
        );
        assert_eq!(
            v2.proposals[0].integrity,
            [Integrity::HmacSha256_128, Integrity::HmacSha1_96]
        );
        assert_eq!(
            v2.proposals[0].groups,
            [Group::MODP_2048, Group::MODP_1536, Group::MODP_1024]
        );
        assert_eq!(
            v2.psk(ip("203.0.113.7")).map(Secret::as_bytes),
            Some(&b"lab-psk-secret"[..])
        );
        assert_eq!(
            v2.transform_sets,
            [ike::TransformSet {
                encryption: ike::EspCipher::Aes128,
                integrity: ike::EspAuth::Sha1
            }]
        );
        assert_eq!(v2.ike_lifetime, Duration::from_secs(86_400));
        assert_eq!(v2.dpd, Some(Duration::from_secs(30)));
        assert_eq!(v2.cookie_threshold, 5);
        assert_eq!(v2.child_lifetime, Lifetime::ios_default());
        // `match identity remote address 0.0.0.0` (every address) and spoke2's fqdn.
        assert!(v2.accepts(&ikev2::Identity::Address(ip("203.0.113.7"))));
        assert!(v2.accepts(&ikev2::Identity::Fqdn("SPOKE2.lab.example".to_owned())));
        assert!(!v2.accepts(&ikev2::Identity::Fqdn("spoke3.lab.example".to_owned())));

        let spoke1 = load(V2_SPOKE1);
        let v2 = ikev2_config(&spoke1).unwrap().unwrap();
        assert_eq!(v2.identity, ikev2::Identity::Address(ip("192.0.2.11")));
        assert_eq!(v2.ike_lifetime, Duration::from_secs(3600));
        // `address 192.0.2.1 255.255.255.255`: the hub alone.
        assert!(v2.accepts(&ikev2::Identity::Address(ip("192.0.2.1"))));
        assert!(!v2.accepts(&ikev2::Identity::Address(ip("192.0.2.2"))));
        assert!(!v2.accepts(&ikev2::Identity::Fqdn("hub".to_owned())));
        assert!(v2.psk(ip("192.0.2.1")).is_some());
        assert!(v2.psk(ip("192.0.2.12")).is_none(), "a host entry");

        let spoke2 = load(V2_SPOKE2);
        let (_, ike) = configs(&spoke2).unwrap();
        let Some(Ike::V2(v2)) = ike else {
            panic!("not ikev2")
        };
        assert_eq!(
            v2.identity,
            ikev2::Identity::Fqdn("spoke2.lab.example".to_owned())
        );
        assert_eq!(v2.proposals, [Ikev2Proposal::ios_default().to_proto()]);
        assert_eq!(v2.remote_identities, [ikev2::RemoteIdentity::Any]);
        assert!(v2.psk(ip("192.0.2.1")).is_some());
        assert!(v2.psk(ip("198.51.100.1")).is_none(), "192.0.2.0/24 only");
        assert_eq!(v2.dpd, None);
        // The SA lifetimes of the ipsec profile reach the Child SAs.
        let v2 = ikev2_config(&load(&with_sa_lifetimes(V2_SPOKE2)))
            .unwrap()
            .unwrap();
        assert_eq!(v2.child_lifetime.hard_time, Some(Duration::from_secs(600)));
        assert_eq!(v2.child_lifetime.soft_time, Some(Duration::from_secs(540)));
        assert_eq!(v2.child_lifetime.hard_bytes, Some(20_000 * 1024));
    }

    #[test]
    fn static_routes() {
        let route = "ip route 10.99.12.0 255.255.255.0 10.99.200.12\nend\n";
        let node = node_of(&HUB.replace("end\n", route));
        assert_eq!(node.static_routes.len(), 1);
        assert_eq!(node.static_routes[0].prefix.to_string(), "10.99.12.0/24");
        assert_eq!(node.static_routes[0].next_hop, ip("10.99.200.12"));
    }
}
