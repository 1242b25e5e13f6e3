//! The configuration of an IKEv2 [`super::Endpoint`]: IOS's `crypto ikev2 proposal` /
//! `keyring` / `profile` and `crypto ipsec transform-set`, with strongSwan's retransmission
//! defaults.

use alloc::string::String;
use alloc::vec;
use alloc::vec::Vec;
use core::net::Ipv4Addr;

use dmvpn_isakmp::consts::Group;
use dmvpn_isakmp::keys::{Prf, Secret};
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

/// The identity we send (`identity local address` / `identity local fqdn`).
#[derive(Clone, Debug, Eq, PartialEq)]
pub enum Identity {
    /// `ID_IPV4_ADDR`.
    Address(Ipv4Addr),
    /// `ID_FQDN`.
    Fqdn(String),
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
    /// a wildcard key, our address as identity.
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

    /// The pre-shared key for `peer`: the most specific matching keyring entry.
    #[must_use]
    pub fn psk(&self, peer: Ipv4Addr) -> Option<&Secret> {
        self.keys
            .iter()
            .filter(|k| {
                u32::from(peer) & u32::from(k.mask) == u32::from(k.address) & u32::from(k.mask)
            })
            .max_by_key(|k| u32::from(k.mask).count_ones())
            .map(|k| &k.key)
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
    fn most_specific_key_wins() {
        let mut config = Config::dmvpn(
            Ipv4Addr::new(192, 0, 2, 1),
            IkeProposal::new(
                Encryption::AesCbc(128),
                Integrity::HmacSha1_96,
                Group::MODP_1024,
            ),
            b"any",
            TransformSet {
                encryption: crate::ike::EspCipher::Aes128,
                integrity: crate::ike::EspAuth::Sha1,
            },
        );
        config
            .keys
            .push(PresharedKey::host(Ipv4Addr::new(192, 0, 2, 9), b"nine"));
        let key = |a| config.psk(a).map(|k| k.as_bytes().to_vec());
        assert_eq!(key(Ipv4Addr::new(192, 0, 2, 9)), Some(b"nine".to_vec()));
        assert_eq!(key(Ipv4Addr::new(192, 0, 2, 8)), Some(b"any".to_vec()));
    }
}
