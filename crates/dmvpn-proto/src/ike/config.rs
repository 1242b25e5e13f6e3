//! What IOS configures with `crypto isakmp policy`, `crypto isakmp key`, `crypto ipsec
//! transform-set`, `crypto ipsec profile` and `crypto isakmp keepalive`.

use alloc::vec;
use alloc::vec::Vec;
use core::fmt;
use core::net::Ipv4Addr;

use dmvpn_esp::{Encryption, Integrity};
use dmvpn_isakmp::consts::{
    AuthAlgorithm, EncryptionAlgorithm, EspTransformId, Group, HashAlgorithm,
};
use dmvpn_isakmp::crypto::Cipher;
use dmvpn_isakmp::keys::{Prf, Secret};

use crate::time::Duration;

/// One `crypto isakmp policy N` (pre-shared keys): encryption, hash, DH group and lifetime.
#[derive(Clone, Copy, Debug, Eq, PartialEq)]
pub struct Policy {
    /// `encryption 3des | aes [128|192|256]` (IOS's default is DES, which is not offered here).
    pub encryption: Cipher,
    /// `hash md5 | sha | sha256`.
    pub hash: Hash,
    /// `group 1 | 2 | 5 | 14`.
    pub group: Group,
    /// `lifetime` (IOS default 86400 s).
    pub lifetime: Duration,
}

impl Policy {
    /// A policy with IOS's default lifetime of one day.
    #[must_use]
    pub const fn new(encryption: Cipher, hash: Hash, group: Group) -> Self {
        Self {
            encryption,
            hash,
            group,
            lifetime: Duration::from_secs(86_400),
        }
    }
}

/// A phase-1 hash (and its HMAC as the PRF).
#[derive(Clone, Copy, Debug, Eq, Hash, PartialEq)]
pub enum Hash {
    /// MD5.
    Md5,
    /// SHA-1 (IOS `sha`).
    Sha1,
    /// SHA-256 (IOS `sha256`).
    Sha256,
}

impl Hash {
    /// The ISAKMP attribute value.
    #[must_use]
    pub const fn algorithm(self) -> HashAlgorithm {
        match self {
            Self::Md5 => HashAlgorithm::MD5,
            Self::Sha1 => HashAlgorithm::SHA1,
            Self::Sha256 => HashAlgorithm::SHA2_256,
        }
    }

    /// The hash an attribute value names, if supported.
    #[must_use]
    pub const fn from_algorithm(algorithm: HashAlgorithm) -> Option<Self> {
        Some(match algorithm {
            HashAlgorithm::MD5 => Self::Md5,
            HashAlgorithm::SHA1 => Self::Sha1,
            HashAlgorithm::SHA2_256 => Self::Sha256,
            _ => return None,
        })
    }

    /// Its HMAC.
    #[must_use]
    pub const fn prf(self) -> Prf {
        match self {
            Self::Md5 => Prf::HmacMd5,
            Self::Sha1 => Prf::HmacSha1,
            Self::Sha256 => Prf::HmacSha256,
        }
    }
}

/// The ISAKMP encryption attribute and key length of a phase-1 cipher.
#[must_use]
pub const fn cipher_attributes(cipher: Cipher) -> (EncryptionAlgorithm, Option<u16>) {
    match cipher {
        Cipher::Des => (EncryptionAlgorithm::DES_CBC, None),
        Cipher::TripleDes => (EncryptionAlgorithm::TRIPLE_DES_CBC, None),
        Cipher::Aes128 => (EncryptionAlgorithm::AES_CBC, Some(128)),
        Cipher::Aes192 => (EncryptionAlgorithm::AES_CBC, Some(192)),
        Cipher::Aes256 => (EncryptionAlgorithm::AES_CBC, Some(256)),
    }
}

/// ESP encryption of a transform set.
#[derive(Clone, Copy, Debug, Eq, Hash, PartialEq)]
pub enum EspCipher {
    /// `esp-3des`.
    TripleDes,
    /// `esp-aes` (128) / `esp-aes 128`.
    Aes128,
    /// `esp-aes 192`.
    Aes192,
    /// `esp-aes 256`.
    Aes256,
}

impl EspCipher {
    /// Transform ID and key-length attribute (RFC 2407 §4.4.4, RFC 3602 §5).
    #[must_use]
    pub const fn transform(self) -> (EspTransformId, Option<u16>) {
        match self {
            Self::TripleDes => (EspTransformId::TRIPLE_DES, None),
            Self::Aes128 => (EspTransformId::AES_CBC, Some(128)),
            Self::Aes192 => (EspTransformId::AES_CBC, Some(192)),
            Self::Aes256 => (EspTransformId::AES_CBC, Some(256)),
        }
    }

    /// The cipher of a transform ID and key length (AES without one is AES-128).
    #[must_use]
    pub const fn from_transform(id: EspTransformId, key_bits: Option<u16>) -> Option<Self> {
        Some(match (id, key_bits) {
            (EspTransformId::TRIPLE_DES, None) => Self::TripleDes,
            (EspTransformId::AES_CBC, None | Some(128)) => Self::Aes128,
            (EspTransformId::AES_CBC, Some(192)) => Self::Aes192,
            (EspTransformId::AES_CBC, Some(256)) => Self::Aes256,
            _ => return None,
        })
    }

    /// Key length in bytes.
    #[must_use]
    pub const fn key_len(self) -> usize {
        match self {
            Self::TripleDes | Self::Aes192 => 24,
            Self::Aes128 => 16,
            Self::Aes256 => 32,
        }
    }

    /// The ESP crate's transform.
    #[must_use]
    pub const fn esp(self) -> Encryption {
        match self {
            Self::TripleDes => Encryption::TripleDesCbc,
            Self::Aes128 | Self::Aes192 | Self::Aes256 => Encryption::AesCbc,
        }
    }
}

/// ESP integrity of a transform set.
#[derive(Clone, Copy, Debug, Eq, Hash, PartialEq)]
pub enum EspAuth {
    /// `esp-md5-hmac`.
    Md5,
    /// `esp-sha-hmac`.
    Sha1,
    /// `esp-sha256-hmac`.
    Sha256,
}

impl EspAuth {
    /// The authentication-algorithm attribute.
    #[must_use]
    pub const fn algorithm(self) -> AuthAlgorithm {
        match self {
            Self::Md5 => AuthAlgorithm::HMAC_MD5,
            Self::Sha1 => AuthAlgorithm::HMAC_SHA1,
            Self::Sha256 => AuthAlgorithm::HMAC_SHA2_256,
        }
    }

    /// The integrity an attribute value names, if supported.
    #[must_use]
    pub const fn from_algorithm(algorithm: AuthAlgorithm) -> Option<Self> {
        Some(match algorithm {
            AuthAlgorithm::HMAC_MD5 => Self::Md5,
            AuthAlgorithm::HMAC_SHA1 => Self::Sha1,
            AuthAlgorithm::HMAC_SHA2_256 => Self::Sha256,
            _ => return None,
        })
    }

    /// Key length in bytes.
    #[must_use]
    pub const fn key_len(self) -> usize {
        match self {
            Self::Md5 => 16,
            Self::Sha1 => 20,
            Self::Sha256 => 32,
        }
    }

    /// The ESP crate's transform.
    #[must_use]
    pub const fn esp(self) -> Integrity {
        match self {
            Self::Md5 => Integrity::HmacMd5_96,
            Self::Sha1 => Integrity::HmacSha1_96,
            Self::Sha256 => Integrity::HmacSha256_128,
        }
    }
}

/// `crypto ipsec transform-set NAME <esp cipher> <esp hmac>` with `mode transport`, the mode
/// DMVPN uses (GRE between the NBMA addresses is already a tunnel).
#[derive(Clone, Copy, Debug, Eq, Hash, PartialEq)]
pub struct TransformSet {
    /// ESP encryption.
    pub encryption: EspCipher,
    /// ESP integrity.
    pub integrity: EspAuth,
}

impl TransformSet {
    /// The set of `encryption` and `integrity`, in the order of IOS's `crypto ipsec
    /// transform-set` line.
    ///
    /// ```
    /// use dmvpn_proto::ike::{EspAuth, EspCipher, TransformSet};
    ///
    /// let set = TransformSet::new(EspCipher::Aes256, EspAuth::Sha256);
    /// assert_eq!(set.to_string(), "esp-aes 256 esp-sha256-hmac");
    /// ```
    #[must_use]
    pub const fn new(encryption: EspCipher, integrity: EspAuth) -> Self {
        Self {
            encryption,
            integrity,
        }
    }
}

impl fmt::Display for TransformSet {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let cipher = match self.encryption {
            EspCipher::TripleDes => "esp-3des",
            EspCipher::Aes128 => "esp-aes",
            EspCipher::Aes192 => "esp-aes 192",
            EspCipher::Aes256 => "esp-aes 256",
        };
        let auth = match self.integrity {
            EspAuth::Md5 => "esp-md5-hmac",
            EspAuth::Sha1 => "esp-sha-hmac",
            EspAuth::Sha256 => "esp-sha256-hmac",
        };
        write!(f, "{cipher} {auth}")
    }
}

/// `crypto isakmp key KEY address ADDRESS [MASK]`; `0.0.0.0 0.0.0.0` is the wildcard key.
#[derive(Clone, Debug)]
pub struct PresharedKey {
    /// The peer address (or network).
    pub address: Ipv4Addr,
    /// The mask; `0.0.0.0` with address `0.0.0.0` matches every peer.
    pub mask: Ipv4Addr,
    /// The key.
    pub key: Secret,
}

impl PresharedKey {
    /// A key for one peer address.
    #[must_use]
    pub fn host(address: Ipv4Addr, key: &[u8]) -> Self {
        Self {
            address,
            mask: Ipv4Addr::BROADCAST,
            key: Secret::from_slice(key),
        }
    }

    /// The wildcard key (`address 0.0.0.0`).
    #[must_use]
    pub fn wildcard(key: &[u8]) -> Self {
        Self {
            address: Ipv4Addr::UNSPECIFIED,
            mask: Ipv4Addr::UNSPECIFIED,
            key: Secret::from_slice(key),
        }
    }

    fn matches(&self, peer: Ipv4Addr) -> bool {
        let mask = u32::from(self.mask);
        u32::from(peer) & mask == u32::from(self.address) & mask
    }

    /// The key for `peer` among `keys`: the entry with the longest mask that covers it (IKEv1's
    /// `crypto isakmp key` entries and an IKEv2 keyring alike).
    pub(crate) fn lookup(keys: &[Self], peer: Ipv4Addr) -> Option<&Secret> {
        keys.iter()
            .filter(|k| k.matches(peer))
            .max_by_key(|k| u32::from(k.mask).count_ones())
            .map(|k| &k.key)
    }
}

/// `crypto isakmp keepalive SECONDS [RETRY] [periodic | on-demand]` (RFC 3706 DPD).
#[derive(Clone, Copy, Debug, Eq, PartialEq)]
pub struct Dpd {
    /// Idle time before an R-U-THERE.
    pub interval: Duration,
    /// Time between unanswered R-U-THEREs (IOS default 2 s).
    pub retry: Duration,
    /// Unanswered R-U-THEREs after which the peer is dead (IOS: 5).
    pub max_retries: u32,
    /// `periodic`: probe every `interval` whatever the traffic; otherwise `on-demand`: probe
    /// only when we have traffic to send and have heard nothing for `interval`
    /// ([`super::Endpoint::traffic_sent`]).
    pub periodic: bool,
}

impl Dpd {
    /// `crypto isakmp keepalive interval` with IOS's 2-second retry and 5 retries.
    #[must_use]
    pub const fn new(interval: Duration, periodic: bool) -> Self {
        Self {
            interval,
            retry: Duration::from_secs(2),
            max_retries: 5,
            periodic,
        }
    }
}

/// Retransmission of the last message while waiting for the peer (IOS: "retransmitting phase 1
/// …, attempt N of 5", then "Death by retransmission").
#[derive(Clone, Copy, Debug, Eq, PartialEq)]
pub struct Retransmit {
    /// Wait before the first retransmission.
    pub interval: Duration,
    /// Retransmissions before giving up.
    pub max_attempts: u32,
}

impl Default for Retransmit {
    fn default() -> Self {
        Self {
            interval: Duration::from_secs(10),
            max_attempts: 5,
        }
    }
}

/// The phase-1 identity payload: an `IPV4_ADDR` ID of the local address with this protocol and
/// port. IOS sends UDP/500 (17, 500); strongSwan sends 0/0. Both are accepted from peers.
#[derive(Clone, Copy, Debug, Eq, PartialEq)]
pub struct IdentityPort {
    /// IP protocol.
    pub protocol: u8,
    /// Port.
    pub port: u16,
}

/// An IKE endpoint's configuration: one router's crypto configuration for DMVPN.
#[derive(Clone, Debug)]
pub struct Config {
    /// The local NBMA address (the tunnel source).
    pub local: Ipv4Addr,
    /// `crypto isakmp policy` entries in priority order (lowest number first).
    pub policies: Vec<Policy>,
    /// `crypto isakmp key` entries; the most specific mask wins.
    pub keys: Vec<PresharedKey>,
    /// The profile's transform sets, in preference order.
    pub transform_sets: Vec<TransformSet>,
    /// `set pfs groupN`.
    pub pfs: Option<Group>,
    /// `set security-association lifetime seconds` (IOS default 3600).
    pub ipsec_lifetime: Duration,
    /// `set security-association lifetime kilobytes` (IOS default 4 608 000); `None` omits it.
    pub ipsec_lifetime_kb: Option<u64>,
    /// Rekey when this fraction (per mille) of a lifetime has passed (IOS rekeys shortly before
    /// expiry; 900 = 90 %).
    pub rekey_per_mille: i64,
    /// DPD, if configured.
    pub dpd: Option<Dpd>,
    /// Retransmission schedule.
    pub retransmit: Retransmit,
    /// Our phase-1 ID's protocol and port.
    pub identity: IdentityPort,
    /// Nonce length in bytes (8 to 256, RFC 2409 §5; IOS sends 20).
    pub nonce_len: usize,
    /// Half-open and total IKE SAs (`crypto call admission limit ike`; see [`crate::limits`]).
    pub limits: crate::limits::IkeLimits,
}

impl Config {
    /// A configuration with IOS defaults: no policy, key or transform set yet.
    #[must_use]
    pub fn new(local: Ipv4Addr) -> Self {
        Self {
            local,
            policies: Vec::new(),
            keys: Vec::new(),
            transform_sets: Vec::new(),
            pfs: None,
            ipsec_lifetime: Duration::from_secs(3600),
            ipsec_lifetime_kb: Some(4_608_000),
            rekey_per_mille: 900,
            dpd: None,
            retransmit: Retransmit::default(),
            identity: IdentityPort {
                protocol: crate::ipsec::UDP,
                port: dmvpn_ip::udp::IKE_PORT,
            },
            nonce_len: 20,
            limits: crate::limits::IkeLimits::DEFAULT,
        }
    }

    /// The DMVPN configuration of the IOS examples in one call: one policy, one wildcard key
    /// and one transform set.
    #[must_use]
    pub fn dmvpn(local: Ipv4Addr, policy: Policy, psk: &[u8], set: TransformSet) -> Self {
        let mut config = Self::new(local);
        config.policies = vec![policy];
        config.keys = vec![PresharedKey::wildcard(psk)];
        config.transform_sets = vec![set];
        config
    }

    /// The pre-shared key for `peer`: the configured entry with the longest mask that covers it.
    #[must_use]
    pub fn key_for(&self, peer: Ipv4Addr) -> Option<&Secret> {
        PresharedKey::lookup(&self.keys, peer)
    }
}

#[cfg(test)]
mod tests {
    use alloc::string::ToString;

    use super::*;

    #[test]
    fn key_lookup_prefers_the_longest_mask() {
        let mut config = Config::new(Ipv4Addr::new(10, 0, 0, 1));
        config.keys = vec![
            PresharedKey::wildcard(b"any"),
            PresharedKey {
                address: Ipv4Addr::new(10, 1, 0, 0),
                mask: Ipv4Addr::new(255, 255, 0, 0),
                key: Secret::from_slice(b"net"),
            },
            PresharedKey::host(Ipv4Addr::new(10, 1, 2, 3), b"host"),
        ];
        let key = |a: [u8; 4]| {
            config
                .key_for(Ipv4Addr::from(a))
                .unwrap()
                .as_bytes()
                .to_vec()
        };
        assert_eq!(key([10, 1, 2, 3]), b"host");
        assert_eq!(key([10, 1, 9, 9]), b"net");
        assert_eq!(key([192, 0, 2, 1]), b"any");
        config.keys.remove(0);
        assert!(config.key_for(Ipv4Addr::new(192, 0, 2, 1)).is_none());
    }

    #[test]
    fn transform_set_names() {
        let set = TransformSet::new(EspCipher::Aes256, EspAuth::Sha256);
        assert_eq!(set.to_string(), "esp-aes 256 esp-sha256-hmac");
        for cipher in [
            EspCipher::TripleDes,
            EspCipher::Aes128,
            EspCipher::Aes192,
            EspCipher::Aes256,
        ] {
            let (id, bits) = cipher.transform();
            assert_eq!(EspCipher::from_transform(id, bits), Some(cipher));
        }
    }
}
