//! The configuration of an IKEv2 [`super::Endpoint`]: IOS's `crypto ikev2 proposal` /
//! `keyring` / `profile` and `crypto ipsec transform-set`, with strongSwan's retransmission
//! defaults.

use alloc::string::String;
use alloc::vec;
use alloc::vec::Vec;
use core::net::Ipv4Addr;

use dmvpn_isakmp::consts::Group;
use dmvpn_isakmp::keys::{Prf, Secret};
use dmvpn_isakmp::v2::consts::IdType;
use dmvpn_isakmp::v2::crypto::{Encryption, Integrity};

pub use crate::ike::{PresharedKey, TransformSet};
use crate::ipsec::Lifetime;
use crate::limits::IkeLimits;
use crate::time::Duration;

/// `crypto ikev2 proposal`: every algorithm it lists, in preference order. Encryption is
/// [`Encryption::AesCbc`] (128, 192, 256) or [`Encryption::TripleDes`]; integrity an HMAC
/// (`Integrity::HmacSha1_96`, `HmacSha256_128`, …); groups 1, 2, 5 or 14.
#[derive(Clone, Debug, Eq, PartialEq)]
pub struct IkeProposal {
    /// `encryption`.
    pub encryption: Vec<Encryption>,
    /// `integrity`.
    pub integrity: Vec<Integrity>,
    /// `prf` (IOS: the integrity algorithms' PRFs when not given).
    pub prf: Vec<Prf>,
    /// `group`.
    pub groups: Vec<Group>,
}

impl IkeProposal {
    /// One algorithm of each kind; the PRF is the integrity algorithm's HMAC.
    #[must_use]
    pub fn new(encryption: Encryption, integrity: Integrity, group: Group) -> Self {
        Self {
            encryption: vec![encryption],
            integrity: vec![integrity],
            prf: integrity.prf().into_iter().collect(),
            groups: vec![group],
        }
    }
}

/// An IKEv2 identity (RFC 7296 §3.5): the one we send (`identity local address` / `identity
/// local fqdn`), or the one a peer sent in IDi / IDr.
///
/// ```
/// use core::net::Ipv4Addr;
/// use dmvpn_proto::ikev2::Identity;
///
/// let id = Identity::parse(&[1, 0, 0, 0, 192, 0, 2, 9]);
/// assert_eq!(id, Some(Identity::Address(Ipv4Addr::new(192, 0, 2, 9))));
/// assert_eq!(id.unwrap().to_string(), "address 192.0.2.9");
/// ```
#[derive(Clone, Debug, Eq, PartialEq)]
pub enum Identity {
    /// `ID_IPV4_ADDR`.
    Address(Ipv4Addr),
    /// `ID_FQDN`.
    Fqdn(String),
    /// Any other type (`ID_RFC822_ADDR`, `ID_KEY_ID`, …), or an `ID_IPV4_ADDR` / `ID_FQDN`
    /// whose data is not an address / a name: the type and the data as received.
    Other {
        /// The ID type.
        ty: IdType,
        /// The identification data.
        data: Vec<u8>,
    },
}

impl Identity {
    /// The identity of an IDi / IDr payload body (ID type, 3 reserved bytes, data); `None`
    /// when the body is shorter than its 4-byte header.
    #[must_use]
    pub fn parse(body: &[u8]) -> Option<Self> {
        let (&ty, rest) = body.split_first()?;
        let data = rest.get(3..)?;
        let ty = IdType(ty);
        Some(match ty {
            IdType::IPV4_ADDR if data.len() == 4 => {
                Self::Address(Ipv4Addr::new(data[0], data[1], data[2], data[3]))
            }
            IdType::FQDN if !data.is_empty() => match core::str::from_utf8(data) {
                Ok(name) if name.is_ascii() => Self::Fqdn(name.into()),
                _ => Self::Other {
                    ty,
                    data: data.to_vec(),
                },
            },
            _ => Self::Other {
                ty,
                data: data.to_vec(),
            },
        })
    }
}

impl core::fmt::Display for Identity {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match self {
            Self::Address(a) => write!(f, "address {a}"),
            Self::Fqdn(name) => write!(f, "fqdn {name}"),
            Self::Other { ty, data } => {
                write!(f, "{ty:?} ")?;
                for b in data.iter().take(32) {
                    write!(f, "{b:02x}")?;
                }
                if data.len() > 32 {
                    write!(f, "…")?;
                }
                Ok(())
            }
        }
    }
}

/// What a peer may identify as: one `match identity remote` line of IOS's IKEv2 profile. IOS
/// picks the profile whose lines match the peer's identity (IDi at the responder; IDr, checked
/// against the profile the IPsec profile names, at the initiator) and refuses a peer none
/// matches with AUTHENTICATION_FAILED.
///
/// ```
/// use core::net::Ipv4Addr;
/// use dmvpn_proto::ikev2::{Identity, RemoteIdentity};
///
/// let lan = RemoteIdentity::Address { address: Ipv4Addr::new(192, 0, 2, 0), mask: Ipv4Addr::new(255, 255, 255, 0) };
/// assert!(lan.matches(&Identity::Address(Ipv4Addr::new(192, 0, 2, 77))));
/// assert!(!lan.matches(&Identity::Fqdn("hub.example".into())));
/// assert!(RemoteIdentity::Any.matches(&Identity::Fqdn("hub.example".into())));
/// ```
#[derive(Clone, Debug, Eq, PartialEq)]
pub enum RemoteIdentity {
    /// `match identity remote any`: every identity.
    Any,
    /// `match identity remote address A MASK`: an `ID_IPV4_ADDR` inside the network.
    Address {
        /// The address.
        address: Ipv4Addr,
        /// The mask (`255.255.255.255`: the address alone; `0.0.0.0`: every address).
        mask: Ipv4Addr,
    },
    /// `match identity remote fqdn NAME`: an `ID_FQDN` equal to the name (DNS names compare
    /// without regard to case).
    Fqdn(String),
}

impl RemoteIdentity {
    /// Whether `identity` matches.
    #[must_use]
    pub fn matches(&self, identity: &Identity) -> bool {
        match (self, identity) {
            (Self::Any, _) => true,
            (Self::Address { address, mask }, Identity::Address(id)) => {
                id.to_bits() & mask.to_bits() == address.to_bits() & mask.to_bits()
            }
            (Self::Fqdn(name), Identity::Fqdn(id)) => name.eq_ignore_ascii_case(id),
            _ => false,
        }
    }
}

/// Retransmission of requests (RFC 7296 §2.1) with exponential back-off: strongSwan's
/// `retransmit_timeout` 4 s, `retransmit_base` 1.8, `retransmit_tries` 5. The request is sent at
/// 0, then again after 4, 7.2, 13, 23.3 and 42 s; 75.6 s after the fifth retransmission the
/// exchange fails (165 s in all).
#[derive(Clone, Copy, Debug, Eq, PartialEq)]
pub struct Retransmit {
    /// Wait after the first transmission.
    pub timeout: Duration,
    /// Multiplier of the wait per attempt, in thousandths (1800 = ×1.8).
    pub base_per_mille: i64,
    /// Retransmissions before giving up.
    pub tries: u32,
}

impl Default for Retransmit {
    fn default() -> Self {
        Self {
            timeout: Duration::from_secs(4),
            base_per_mille: 1800,
            tries: 5,
        }
    }
}

impl Retransmit {
    /// The wait after transmission number `attempt` (0 for the first).
    #[must_use]
    pub fn wait(&self, attempt: u32) -> Duration {
        let mut micros = self.timeout.total_micros();
        for _ in 0..attempt.min(32) {
            micros = micros.saturating_mul(self.base_per_mille) / 1000;
        }
        Duration::from_micros(micros)
    }
}

/// One router's IKEv2 configuration.
#[derive(Clone, Debug)]
pub struct Config {
    /// Our NBMA address (the IKE SA's and the Child SAs' local address).
    pub local: Ipv4Addr,
    /// The identity we send.
    pub identity: Identity,
    /// The identities a peer may have (`match identity remote`): its IDi when it initiates,
    /// its IDr when we do. None matching, the IKE SA fails with AUTHENTICATION_FAILED
    /// ([`super::Error::IdentityMismatch`]); an empty list accepts no peer (IOS calls a profile
    /// without a match incomplete and uses it for none).
    pub remote_identities: Vec<RemoteIdentity>,
    /// IKE proposals, offered in this order and accepted in this order.
    pub proposals: Vec<IkeProposal>,
    /// ESP transform sets for the Child SAs (transport mode, GRE between the NBMA addresses).
    pub transform_sets: Vec<TransformSet>,
    /// `set pfs group`: a fresh Diffie-Hellman exchange in every Child SA rekey.
    pub pfs: Option<Group>,
    /// The keyring: a pre-shared key per peer address (`0.0.0.0 0.0.0.0` for every peer).
    pub keys: Vec<PresharedKey>,
    /// `lifetime` of the IKE SA (IOS: 86 400 s); it is rekeyed at 90 %.
    pub ike_lifetime: Duration,
    /// The Child SAs' lifetime (`set security-association lifetime`); rekeyed at its soft time.
    pub child_lifetime: Lifetime,
    /// Retransmission of requests.
    pub retransmit: Retransmit,
    /// `dpd INTERVAL RETRY periodic`: an empty INFORMATIONAL after this long without a message
    /// from the peer (retransmitted as any request; no answer declares the peer dead).
    pub dpd: Option<Duration>,
    /// Half-open SAs at or above which an IKE_SA_INIT must carry a valid COOKIE (RFC 7296 §2.6;
    /// 0: always; IOS `crypto ikev2 cookie-challenge N`).
    pub cookie_threshold: usize,
    /// How long a responder keeps an SA that has not completed IKE_AUTH.
    pub half_open_timeout: Duration,
    /// Bounds on half-open and established SAs.
    pub limits: IkeLimits,
    /// Our nonce length (16 to 256 bytes; strongSwan and IOS send 32).
    pub nonce_len: usize,
}

impl Config {
    /// The DMVPN configuration of Cisco's guide in one call: one proposal, one transform set,
    /// a wildcard key, our address as identity, any peer identity accepted.
    #[must_use]
    pub fn dmvpn(
        local: Ipv4Addr,
        proposal: IkeProposal,
        psk: &[u8],
        transform_set: TransformSet,
    ) -> Self {
        Self {
            local,
            identity: Identity::Address(local),
            remote_identities: vec![RemoteIdentity::Any],
            proposals: vec![proposal],
            transform_sets: vec![transform_set],
            pfs: None,
            keys: vec![PresharedKey::wildcard(psk)],
            ike_lifetime: Duration::from_secs(86_400),
            child_lifetime: Lifetime::ios_default(),
            retransmit: Retransmit::default(),
            dpd: None,
            cookie_threshold: 64,
            half_open_timeout: Duration::from_secs(30),
            limits: IkeLimits::DEFAULT,
            nonce_len: 32,
        }
    }

    /// Whether a peer identifying as `identity` is accepted: one of
    /// [`Config::remote_identities`] matches it.
    #[must_use]
    pub fn accepts(&self, identity: &Identity) -> bool {
        self.remote_identities.iter().any(|r| r.matches(identity))
    }

    /// The pre-shared key for `peer`: the most specific matching keyring entry.
    #[must_use]
    pub fn psk(&self, peer: Ipv4Addr) -> Option<&Secret> {
        PresharedKey::lookup(&self.keys, peer)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn charon_back_off() {
        let r = Retransmit::default();
        let waits: Vec<i64> = (0..=5).map(|n| r.wait(n).total_millis()).collect();
        assert_eq!(waits, [4000, 7200, 12960, 23328, 41990, 75582]);
    }

    #[test]
    fn identities_parse_and_print() {
        let parse = |b: &[u8]| Identity::parse(b);
        assert_eq!(parse(&[1, 0, 0]), None);
        assert_eq!(
            parse(b"\x02\0\0\0hub.example"),
            Some(Identity::Fqdn("hub.example".into()))
        );
        let short = parse(&[1, 0, 0, 0, 192, 0]).unwrap();
        assert_eq!(
            short,
            Identity::Other {
                ty: IdType::IPV4_ADDR,
                data: vec![192, 0]
            }
        );
        assert_eq!(short.to_string(), "ID_IPV4_ADDR (1) c000");
        let key_id = parse(&[11, 0, 0, 0, 0xab]).unwrap();
        assert_eq!(key_id.to_string(), "ID_KEY_ID (11) ab");
        assert!(!RemoteIdentity::Fqdn("hub".into()).matches(&key_id));
        assert!(RemoteIdentity::Any.matches(&key_id));
        // Round trip through what we send.
        for id in [
            Identity::Address(Ipv4Addr::new(192, 0, 2, 1)),
            Identity::Fqdn("spoke.example".into()),
            key_id,
        ] {
            assert_eq!(parse(&super::super::wire::id_body(&id)), Some(id));
        }
    }

    #[test]
    fn most_specific_key_wins() {
        let mut config = Config::dmvpn(
            Ipv4Addr::new(192, 0, 2, 1),
            IkeProposal::new(
                Encryption::AesCbc(128),
                Integrity::HmacSha1_96,
                Group::MODP_1024,
            ),
            b"any",
            TransformSet::new(crate::ike::EspCipher::Aes128, crate::ike::EspAuth::Sha1),
        );
        config
            .keys
            .push(PresharedKey::host(Ipv4Addr::new(192, 0, 2, 9), b"nine"));
        let key = |a| config.psk(a).map(|k| k.as_bytes().to_vec());
        assert_eq!(key(Ipv4Addr::new(192, 0, 2, 9)), Some(b"nine".to_vec()));
        assert_eq!(key(Ipv4Addr::new(192, 0, 2, 8)), Some(b"any".to_vec()));
    }
}
