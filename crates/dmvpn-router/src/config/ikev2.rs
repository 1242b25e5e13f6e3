//! IOS's IKEv2 configuration (`crypto ikev2 proposal`, `policy`, `keyring`, `profile`,
//! `cookie-challenge`), as [`super::Config`] holds it. An `crypto ipsec profile` with `set
//! ikev2-profile NAME` keys the tunnel with IKEv2 ([`dmvpn_proto::ikev2`]) instead of IKEv1.
//!
//! IOS's smart defaults fill what is not configured: with no `crypto ikev2 policy`, the policy
//! `default` (any local address, proposal `default`); the proposal `default` is
//! [`Ikev2Proposal::ios_default`]; a profile's lifetime is 86 400 s and it has no DPD.

use std::net::Ipv4Addr;

use dmvpn_isakmp::consts::Group;
use dmvpn_isakmp::keys::Prf;
use dmvpn_isakmp::v2::crypto::{Encryption, Integrity};
use dmvpn_proto::ikev2;

use super::{PeerAddress, Secret};

/// A `crypto ikev2 proposal NAME` block: its name and the algorithms of the IKE SA in the IKEv2
/// machine's vocabulary, each list in the order written (IOS appends a second `encryption …`
/// line to the first). `prf` is as written (empty without a ` prf` line); [`Self::prfs`] is
/// what is in force.
#[derive(Clone, Debug, Eq, PartialEq)]
pub struct Ikev2Proposal {
    /// The name.
    pub name: String,
    /// ` encryption aes-cbc-128 …`, ` integrity sha1 …`, ` prf …` and ` group 1 2 5 14`.
    pub algorithms: ikev2::IkeProposal,
}

impl Default for Ikev2Proposal {
    /// A proposal with no name and no algorithm, as a new block starts.
    fn default() -> Self {
        Self {
            name: String::new(),
            algorithms: ikev2::IkeProposal {
                encryption: Vec::new(),
                integrity: Vec::new(),
                prf: Vec::new(),
                groups: Vec::new(),
            },
        }
    }
}

impl Ikev2Proposal {
    /// IOS's proposal `default` (one of IKEv2's "smart defaults"), used by the policy `default`
    /// when no `crypto ikev2 policy` is configured. IOS 15 prints it (`show crypto ikev2
    /// proposal`, in a published IOS 15 FlexVPN lab transcript) as `Encryption : AES-CBC-256
    /// AES-CBC-192 AES-CBC-128`, `Integrity : SHA512 SHA384 SHA256 SHA96 MD596`, `PRF : SHA512
    /// SHA384 SHA256 SHA1 MD5`, `DH Group : DH_GROUP_1536_MODP/Group 5
    /// DH_GROUP_1024_MODP/Group 2`, and the policy `default` as `Match address local : any`,
    /// `Proposal : default`.
    #[must_use]
    pub fn ios_default() -> Self {
        Self {
            name: "default".to_owned(),
            algorithms: ikev2::IkeProposal {
                encryption: vec![
                    Encryption::AesCbc(256),
                    Encryption::AesCbc(192),
                    Encryption::AesCbc(128),
                ],
                integrity: vec![
                    Integrity::HmacSha512_256,
                    Integrity::HmacSha384_192,
                    Integrity::HmacSha256_128,
                    Integrity::HmacSha1_96,
                    Integrity::HmacMd5_96,
                ],
                prf: vec![
                    Prf::HmacSha512,
                    Prf::HmacSha384,
                    Prf::HmacSha256,
                    Prf::HmacSha1,
                    Prf::HmacMd5,
                ],
                groups: vec![Group::MODP_1536, Group::MODP_1024],
            },
        }
    }

    /// The PRFs in force: those written, else the integrity algorithms' HMACs in their order.
    #[must_use]
    pub fn prfs(&self) -> Vec<Prf> {
        let algorithms = &self.algorithms;
        if !algorithms.prf.is_empty() {
            return algorithms.prf.clone();
        }
        let mut out: Vec<Prf> = Vec::new();
        for prf in algorithms.integrity.iter().filter_map(|i| i.prf()) {
            if !out.contains(&prf) {
                out.push(prf);
            }
        }
        out
    }

    /// Whether the proposal names an algorithm of each kind IKEv2 needs (IOS calls one without
    /// them incomplete and does not use it).
    #[must_use]
    pub fn is_complete(&self) -> bool {
        let algorithms = &self.algorithms;
        !algorithms.encryption.is_empty()
            && !algorithms.integrity.is_empty()
            && !algorithms.groups.is_empty()
    }

    /// The IKEv2 machine's proposal: the algorithms, with the PRFs in force.
    #[must_use]
    pub fn to_proto(&self) -> ikev2::IkeProposal {
        ikev2::IkeProposal {
            prf: self.prfs(),
            ..self.algorithms.clone()
        }
    }
}

/// IOS's keyword of an HMAC in a proposal's `integrity` and `prf` lines.
pub(crate) const fn hmac_keyword(prf: Prf) -> &'static str {
    match prf {
        Prf::HmacMd5 => "md5",
        Prf::HmacSha1 => "sha1",
        Prf::HmacSha256 => "sha256",
        Prf::HmacSha384 => "sha384",
        Prf::HmacSha512 => "sha512",
    }
}

/// A `crypto ikev2 policy NAME` block: which proposals are offered and accepted, for which
/// local addresses.
#[derive(Clone, Debug, Default, Eq, PartialEq)]
pub struct Ikev2Policy {
    /// The name.
    pub name: String,
    /// ` proposal NAME` lines, in order.
    pub proposals: Vec<String>,
    /// ` match address local A` lines (none: every local address).
    pub match_local: Vec<Ipv4Addr>,
}

impl Ikev2Policy {
    /// Whether the policy applies to the local address `local`.
    #[must_use]
    pub fn matches(&self, local: Ipv4Addr) -> bool {
        self.match_local.is_empty() || self.match_local.contains(&local)
    }
}

/// A `crypto ikev2 keyring NAME` block.
#[derive(Clone, Debug, Default, Eq, PartialEq)]
pub struct Keyring {
    /// The name.
    pub name: String,
    /// ` peer NAME` blocks.
    pub peers: Vec<KeyringPeer>,
}

impl Keyring {
    /// The entry for `peer`: the most specific one whose address and mask cover it.
    #[must_use]
    pub fn peer_for(&self, peer: Ipv4Addr) -> Option<&KeyringPeer> {
        self.peers
            .iter()
            .filter(|p| p.covers(peer))
            .max_by_key(|p| p.effective_mask().map_or(0, |m| m.to_bits().count_ones()))
    }
}

/// A ` peer NAME` block of a keyring.
#[derive(Clone, Debug, Default, Eq, PartialEq)]
pub struct KeyringPeer {
    /// The name.
    pub name: String,
    /// `  address A [MASK]`.
    pub address: Option<PeerAddress>,
    /// `  pre-shared-key [local] KEY`: the key we authenticate with.
    pub local_key: Option<Secret>,
    /// `  pre-shared-key [remote] KEY`: the key the peer authenticates with.
    pub remote_key: Option<Secret>,
}

impl KeyringPeer {
    /// The mask in force ([`PeerAddress::effective_mask`]); `None` without an address.
    #[must_use]
    pub fn effective_mask(&self) -> Option<Ipv4Addr> {
        self.address.as_ref().map(PeerAddress::effective_mask)
    }

    /// Whether the entry is for `peer`.
    #[must_use]
    pub fn covers(&self, peer: Ipv4Addr) -> bool {
        self.address.is_some_and(|a| a.covers(peer))
    }

    /// The one key both directions use, when local and remote are the same (the IKEv2 machine
    /// authenticates both ways with one key).
    #[must_use]
    pub fn symmetric_key(&self) -> Option<&Secret> {
        match (&self.local_key, &self.remote_key) {
            (Some(local), Some(remote)) if local == remote => Some(local),
            _ => None,
        }
    }
}

/// A `match identity remote …` of an IKEv2 profile.
#[derive(Clone, Debug, Eq, PartialEq)]
pub enum RemoteIdentity {
    /// `match identity remote any`.
    Any,
    /// `match identity remote address A [MASK]`.
    Address(PeerAddress),
    /// `match identity remote fqdn NAME`.
    Fqdn(String),
}

impl RemoteIdentity {
    /// What the IKEv2 machine accepts for this line. An address without a mask is that
    /// address alone, except `0.0.0.0`, every IPv4 address (as a keyring's `address 0.0.0.0`,
    /// and as Cisco's DMVPN guides use it on the hub).
    #[must_use]
    pub fn to_proto(&self) -> ikev2::RemoteIdentity {
        match self {
            Self::Any => ikev2::RemoteIdentity::Any,
            Self::Address(peer) => ikev2::RemoteIdentity::Address {
                address: peer.address,
                mask: peer.effective_mask(),
            },
            Self::Fqdn(name) => ikev2::RemoteIdentity::Fqdn(name.clone()),
        }
    }
}

/// ` identity local …` of an IKEv2 profile: what we send as IDi/IDr.
#[derive(Clone, Debug, Eq, PartialEq)]
pub enum LocalIdentity {
    /// `identity local address A`.
    Address(Ipv4Addr),
    /// `identity local fqdn NAME`.
    Fqdn(String),
}

impl LocalIdentity {
    /// The identity the IKEv2 machine sends.
    #[must_use]
    pub fn to_proto(&self) -> ikev2::Identity {
        match self {
            Self::Address(address) => ikev2::Identity::Address(*address),
            Self::Fqdn(fqdn) => ikev2::Identity::Fqdn(fqdn.clone()),
        }
    }
}

/// ` dpd INTERVAL RETRY periodic|on-demand` of an IKEv2 profile.
#[derive(Clone, Copy, Debug, Eq, PartialEq)]
pub struct Ikev2Dpd {
    /// Seconds (10..=3600).
    pub interval: u16,
    /// Seconds between retries (2..=60).
    pub retry: u16,
    /// `on-demand` (`false`: `periodic`).
    pub on_demand: bool,
}

/// A `crypto ikev2 profile NAME` block.
#[derive(Clone, Debug, Default, Eq, PartialEq)]
pub struct Ikev2Profile {
    /// The name.
    pub name: String,
    /// ` match identity remote …` lines.
    pub match_remote: Vec<RemoteIdentity>,
    /// ` identity local …` (IOS's default: the local address).
    pub identity_local: Option<LocalIdentity>,
    /// ` authentication remote pre-share`.
    pub authentication_remote: bool,
    /// ` authentication local pre-share`.
    pub authentication_local: bool,
    /// ` keyring local NAME`.
    pub keyring: Option<String>,
    /// ` lifetime SECONDS` of the IKE SA (IOS's default 86 400).
    pub lifetime: Option<u32>,
    /// ` dpd …` (IOS's default: none).
    pub dpd: Option<Ikev2Dpd>,
}

impl Ikev2Profile {
    /// The identity a router with this profile sends: `identity local`, else (IOS's default)
    /// its NBMA address `local`.
    #[must_use]
    pub fn identity(&self, local: Ipv4Addr) -> ikev2::Identity {
        self.identity_local
            .as_ref()
            .map_or(ikev2::Identity::Address(local), LocalIdentity::to_proto)
    }

    /// Whether a peer identifying as `identity` matches one of the ` match identity remote`
    /// lines.
    #[must_use]
    pub fn matches_remote(&self, identity: &ikev2::Identity) -> bool {
        (self.match_remote.iter()).any(|r| r.to_proto().matches(identity))
    }

    /// The IKE SA lifetime in force, in seconds.
    #[must_use]
    pub fn lifetime(&self) -> u32 {
        self.lifetime.unwrap_or(86_400)
    }
}
