//! Pre-shared key verification of IKEv2 (RFC 7296 §2.15): a side's AUTH payload of method 2
//! (shared key message integrity code) is
//!
//! ```text
//! AUTH = prf(prf(PSK, "Key Pad for IKEv2"), <its IKE_SA_INIT message> | <the peer's nonce> | prf(SK_p, <its ID body>))
//! ```
//!
//! with SK_pi for the initiator and SK_pr for the responder. The IKE_SA_INIT messages and nonces
//! are in the clear; the ID and AUTH payloads need the SA's `ikev2_decryption_table` line, and
//! SK_pi / SK_pr its optional tenth and eleventh columns. No Diffie-Hellman secret is needed.

use std::fmt;

use dmvpn_isakmp::keys::{Prf, Secret};
use dmvpn_isakmp::v2::consts::{AuthMethod, PrfId};
use subtle::ConstantTimeEq;

use super::super::{PskPeer, PskTable};

/// IKE_SA_INIT messages larger than this are not kept for verification.
const MAX_MESSAGE: usize = 16 * 1024;
/// Nonces, ID and AUTH bodies larger than this are not kept.
const MAX_BODY: usize = 4096;

/// The outcome of checking one side's IKEv2 AUTH payload against the pre-shared keys given.
#[derive(Clone, Debug, Eq, PartialEq)]
#[non_exhaustive]
pub enum Ikev2PskCheck {
    /// The AUTH payload in `frame` is the one the key for `peer` gives: that side uses it.
    Verified {
        /// Which key (its peer address; the secret is never shown).
        peer: PskPeer,
        /// The frame carrying the AUTH payload.
        frame: u64,
    },
    /// The AUTH payload in `frame` is the one none of the `tried` keys gives: that side uses
    /// another key.
    Mismatch {
        /// The frame carrying the AUTH payload.
        frame: u64,
        /// How many keys applied and were tried.
        tried: usize,
    },
    /// The side could not be checked; the reason says what was missing.
    Unchecked(&'static str),
}

impl fmt::Display for Ikev2PskCheck {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Verified { peer, frame } => {
                write!(
                    f,
                    "PSK verified: AUTH (frame {frame}) matches the key for {peer}"
                )
            }
            Self::Mismatch { frame, tried } => write!(
                f,
                "PSK mismatch: AUTH (frame {frame}) matches none of the {tried} key(s) given"
            ),
            Self::Unchecked(why) => write!(f, "PSK not checked: {why}"),
        }
    }
}

/// What the IKE SA's exchanges carry for the check, kept while decoding (only with `--psk`).
#[derive(Clone, Debug, Default)]
pub(crate) struct AuthMaterial {
    /// The IKE_SA_INIT request and response bodies (whole IKE messages) and their frames: the
    /// latest request, and the latest response with a nonce.
    pub(crate) init: [Option<(u64, Vec<u8>)>; 2],
    /// The nonces of those messages, `[Ni, Nr]`.
    pub(crate) nonce: [Option<Vec<u8>>; 2],
    /// The PRF the responder chose.
    pub(crate) prf: Option<Prf>,
    /// The IDi and IDr payload bodies.
    pub(crate) id: [Option<Vec<u8>>; 2],
    /// The AUTH payloads: frame, method, data.
    pub(crate) auth: [Option<(u64, AuthMethod, Vec<u8>)>; 2],
    /// SK_pi and SK_pr from the SA's key line.
    pub(crate) sk_p: Option<(Secret, Secret)>,
}

/// The HMAC PRF of an IKEv2 PRF transform (`None`: one dmvpn does not compute, as AES-XCBC).
pub(crate) fn prf_of(id: u16) -> Option<Prf> {
    match PrfId(id) {
        PrfId::HMAC_MD5 => Some(Prf::HmacMd5),
        PrfId::HMAC_SHA1 => Some(Prf::HmacSha1),
        PrfId::HMAC_SHA2_256 => Some(Prf::HmacSha256),
        PrfId::HMAC_SHA2_384 => Some(Prf::HmacSha384),
        PrfId::HMAC_SHA2_512 => Some(Prf::HmacSha512),
        _ => None,
    }
}

fn keep(slot: &mut Option<Vec<u8>>, body: &[u8], max: usize) {
    if body.len() <= max {
        *slot = Some(body.to_vec());
    }
}

impl AuthMaterial {
    /// An IKE_SA_INIT message (`side` 0: request, 1: response) with its nonce. A later request
    /// (a retry after INVALID_KE_PAYLOAD or COOKIE) replaces the earlier one: the AUTH signs the
    /// request that was answered.
    pub(crate) fn init(&mut self, side: usize, frame: u64, message: &[u8], nonce: &[u8]) {
        if let (Some(init), Some(slot)) = (self.init.get_mut(side), self.nonce.get_mut(side))
            && message.len() <= MAX_MESSAGE
            && nonce.len() <= MAX_BODY
        {
            *init = Some((frame, message.to_vec()));
            *slot = Some(nonce.to_vec());
        }
    }

    /// An IDi (`side` 0) or IDr (1) payload body; the first one seen is kept.
    pub(crate) fn id(&mut self, side: usize, body: &[u8]) {
        if let Some(slot) = self.id.get_mut(side)
            && slot.is_none()
        {
            keep(slot, body, MAX_BODY);
        }
    }

    /// The initiator's (`side` 0) or responder's (1) AUTH payload; the first one seen is kept.
    pub(crate) fn auth(&mut self, side: usize, frame: u64, method: AuthMethod, data: &[u8]) {
        if let Some(slot) = self.auth.get_mut(side)
            && slot.is_none()
            && data.len() <= MAX_BODY
        {
            *slot = Some((frame, method, data.to_vec()));
        }
    }

    /// Checks the AUTH payload of `side` (0: initiator, 1: responder) with the keys of `table`
    /// that apply between `a` and `b`.
    pub(crate) fn check(
        &self,
        table: &PskTable,
        a: std::net::IpAddr,
        b: std::net::IpAddr,
        side: usize,
    ) -> Ikev2PskCheck {
        let Some(Some((frame, method, auth))) = self.auth.get(side) else {
            return Ikev2PskCheck::Unchecked(
                "no AUTH payload read (none sent, as in a refusal, or IKE_AUTH missing or not \
                 decrypted: give the SA's ikev2_decryption_table line)",
            );
        };
        if *method != AuthMethod::SHARED_KEY {
            return Ikev2PskCheck::Unchecked(
                "the side does not authenticate with a pre-shared key",
            );
        }
        let Some((sk_pi, sk_pr)) = &self.sk_p else {
            return Ikev2PskCheck::Unchecked(
                "the SA's key line has no SK_pi / SK_pr (the optional tenth and eleventh \
                 columns of the ikev2_decryption_table)",
            );
        };
        let Some(prf) = self.prf else {
            return Ikev2PskCheck::Unchecked(
                "no PRF known (the IKE_SA_INIT response was not seen, or its PRF is not an HMAC)",
            );
        };
        let peer = 1 - side.min(1);
        let (Some(Some((_, message))), Some(Some(peer_nonce)), Some(Some(id))) =
            (self.init.get(side), self.nonce.get(peer), self.id.get(side))
        else {
            return Ikev2PskCheck::Unchecked(
                "the IKE_SA_INIT messages or the side's ID payload were not all seen",
            );
        };
        let sk_p = if side == 0 { sk_pi } else { sk_pr };
        if sk_p.len() != prf.output_len() {
            return Ikev2PskCheck::Unchecked("SK_pi / SK_pr do not have the PRF's length");
        }
        let mut tried = 0;
        for (peer, secret) in table.secrets(a, b) {
            tried += 1;
            let expected =
                dmvpn_isakmp::v2::keys::psk_auth(prf, sk_p, secret, message, peer_nonce, id);
            if bool::from(expected.as_bytes().ct_eq(auth)) {
                return Ikev2PskCheck::Verified {
                    peer,
                    frame: *frame,
                };
            }
        }
        if tried == 0 {
            return Ikev2PskCheck::Unchecked("no pre-shared key given for either peer");
        }
        Ikev2PskCheck::Mismatch {
            frame: *frame,
            tried,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Each missing piece gives its reason; with all of them, the key that made the AUTH payload
    /// verifies and another does not. (The computation itself is checked against an independent
    /// HMAC in `dmvpn_isakmp::v2::keys`, and end to end in tests/sessions_ikev2_psk.rs.)
    #[test]
    fn verdicts_and_reasons() {
        let (a, b) = ("192.0.2.1".parse().unwrap(), "192.0.2.11".parse().unwrap());
        let mut right = PskTable::new();
        right.add(None, b"k");
        let mut wrong = PskTable::new();
        wrong.add(Some(b), b"x");
        let mut m = AuthMaterial::default();
        let reason = |m: &AuthMaterial| match m.check(&right, a, b, 0) {
            Ikev2PskCheck::Unchecked(why) => why,
            other => panic!("{other:?}"),
        };
        assert!(reason(&m).starts_with("no AUTH payload read"));
        m.auth(0, 5, AuthMethod::RSA_SIG, b"sig");
        assert_eq!(
            reason(&m),
            "the side does not authenticate with a pre-shared key"
        );
        let mut m = AuthMaterial::default();
        let sk_pi = Secret::new(vec![1; 32]);
        let auth =
            dmvpn_isakmp::v2::keys::psk_auth(Prf::HmacSha256, &sk_pi, b"k", b"init", b"nr", b"idi");
        m.auth(0, 5, AuthMethod::SHARED_KEY, auth.as_bytes());
        assert!(reason(&m).contains("SK_pi / SK_pr"));
        m.sk_p = Some((sk_pi, Secret::new(vec![2; 32])));
        assert!(reason(&m).starts_with("no PRF known"));
        m.prf = prf_of(PrfId::HMAC_SHA2_256.0);
        assert!(reason(&m).starts_with("the IKE_SA_INIT messages"));
        m.init(0, 1, b"init", b"ni");
        m.init(1, 2, b"resp", b"nr");
        m.id(0, b"idi");
        assert_eq!(
            m.check(&right, a, b, 0),
            Ikev2PskCheck::Verified {
                peer: PskPeer(None),
                frame: 5
            }
        );
        assert_eq!(
            m.check(&wrong, a, b, 0),
            Ikev2PskCheck::Mismatch { frame: 5, tried: 1 }
        );
        let mut elsewhere = PskTable::new();
        elsewhere.add(Some("10.0.0.1".parse().unwrap()), b"k");
        assert_eq!(
            m.check(&elsewhere, a, b, 0),
            Ikev2PskCheck::Unchecked("no pre-shared key given for either peer")
        );
        // A PRF dmvpn does not compute (AES-XCBC) is no verdict.
        assert_eq!(prf_of(PrfId::AES128_XCBC.0), None);
    }
}
