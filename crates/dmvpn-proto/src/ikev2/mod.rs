//! IKEv2 (RFC 7296) with pre-shared keys, as an IOS DMVPN hub or spoke runs it: `crypto ikev2
//! proposal` + `keyring` + `profile`, and `crypto ipsec profile … set ikev2-profile` with a
//! transport-mode transform set.
//!
//! One [`Endpoint`] is one router's IKEv2: every IKE SA with every peer and their Child SAs. It
//! initiates on [`Endpoint::connect`], answers whatever arrives on UDP/500
//! ([`Endpoint::handle_message`]), and, like every machine of this crate, does no I/O, reads no
//! clock and draws every random value (SPIs, nonces, Diffie-Hellman values, IVs) from the
//! caller's [`Entropy`] (shared with IKEv1, as are [`KeyExchange`], [`Transmit`], [`ChildSa`]).
//!
//! Per IKE SA:
//!
//! ```text
//!  connect ─▶ InitSent ── response (SA, KE, Nr) ──▶ AuthSent ── IDr, AUTH, SA, TS ──▶ Established
//!              │  ▲ N(COOKIE): resend with it              │ retransmit 4 s ×1.8, 5 times     │ │ │
//!              │  └ N(INVALID_KE_PAYLOAD): new KE in the asked group                        │ │ │
//!              └ no answer after 165 s / error notify: Failed                               │ │ │
//!  IKE_SA_INIT ─▶ HalfOpen{expires} ── IKE_AUTH request, AUTH verifies ──▶ Established ◀────┘ │ │
//!    (a COOKIE is demanded first when half-open SAs ≥ threshold)                              │ │
//!  Established{rekey_at, dpd_at}: CREATE_CHILD_SA rekeys the Child SAs (soft lifetime) and the │ │
//!    IKE SA (90 % of its lifetime: a new SA, keys from SK_d, Child SAs move to it) ───────────┘ │
//!  INFORMATIONAL: Delete (Child or IKE), and liveness: an empty request after `dpd` of silence;  │
//!    no answer after the retransmissions: PeerDead ─────────────────────────────────────────────┘
//! ```
//!
//! - **IKE_SA_INIT** (§1.2): SA, KE, Ni, NAT_DETECTION_SOURCE_IP / _DESTINATION_IP; the
//!   responder chooses the first offered proposal its own list accepts and answers INVALID_KE_PAYLOAD
//!   (§1.3) when the initiator guessed the group wrong, or COOKIE (§2.6) when it is loaded.
//! - **Keys** (§2.14): [`dmvpn_isakmp::v2::keys`]; **AUTH** with the PSK of the keyring entry of
//!   the peer's address (§2.15), IDs `ID_IPV4_ADDR` or `ID_FQDN` ([`Identity`]). The peer's
//!   identity is checked against policy (§2.15; RFC 4301 §4.4.3, the PAD) as IOS's profile
//!   does with `match identity remote` ([`RemoteIdentity`]): the responder checks IDi and
//!   answers AUTHENTICATION_FAILED when nothing matches, the initiator checks IDr.
//! - **The first Child SA** in IKE_AUTH: ESP, transport mode (USE_TRANSPORT_MODE), TSi/TSr GRE
//!   between the two NBMA addresses, KEYMAT (§2.17) from the IKE_SA_INIT nonces.
//! - **CREATE_CHILD_SA** (§1.3): Child SA rekeys with or without PFS (REKEY_SA names the old SA,
//!   which the rekey's initiator deletes afterwards), IKE SA rekeys (§1.3.2). Simultaneous rekeys
//!   of one SA (§2.8.1): both complete; the side whose exchange carried the lowest of the four
//!   nonces deletes the SA it created, the other deletes the old one.
//! - **INFORMATIONAL** (§1.4): Delete of Child SAs (answered with the paired SPIs) and of the IKE
//!   SA; liveness checks.
//! - **Reliability** (§2.1–§2.3): window of one request each way; requests are retransmitted
//!   with [`Retransmit`]'s back-off; a retransmitted request gets the cached response.
//! - **Bounds**: half-open SAs per peer and in all ([`crate::limits::IkeLimits`]), established
//!   SAs in all.
//!
//! Not here: NAT traversal to UDP/4500 (the NAT_DETECTION result is reported), certificates and
//! EAP, AEAD ciphers for the IKE SA, IKE fragmentation, windows above one.
//!
//! ```
//! use core::net::Ipv4Addr;
//! use dmvpn_isakmp::consts::Group;
//! use dmvpn_isakmp::v2::crypto::{Encryption, Integrity};
//! use dmvpn_proto::ike::{EspAuth, EspCipher, TestEntropy, TransformSet};
//! use dmvpn_proto::ikev2::{Config, Endpoint, Event, IkeProposal};
//! use dmvpn_proto::Instant;
//!
//! let (hub, spoke) = (Ipv4Addr::new(192, 0, 2, 1), Ipv4Addr::new(192, 0, 2, 2));
//! let proposal = IkeProposal::new(Encryption::AesCbc(128), Integrity::HmacSha1_96, Group::MODP_1024);
//! let set = TransformSet { encryption: EspCipher::Aes128, integrity: EspAuth::Sha1 };
//! let mut h = Endpoint::new(Config::dmvpn(hub, proposal.clone(), b"cisco123", set), TestEntropy::new(1));
//! let mut s = Endpoint::new(Config::dmvpn(spoke, proposal, b"cisco123", set), TestEntropy::new(2));
//!
//! let now = Instant::ZERO;
//! s.connect(now, hub)?;
//! let mut sent = 0;
//! loop {
//!     let mut moved = false;
//!     while let Some(t) = s.poll_transmit() { h.handle_message(now, spoke, &t.bytes)?; moved = true; sent += 1; }
//!     while let Some(t) = h.poll_transmit() { s.handle_message(now, hub, &t.bytes)?; moved = true; sent += 1; }
//!     if !moved { break; }
//! }
//! assert_eq!(sent, 4); // IKE_SA_INIT and IKE_AUTH
//! let child = |e: &mut Endpoint<TestEntropy>| loop {
//!     match e.poll_event() { Some(Event::ChildEstablished(sa)) => break sa, Some(_) => {}, None => panic!() }
//! };
//! let (at_spoke, at_hub) = (child(&mut s), child(&mut h));
//! assert_eq!(at_spoke.outbound, at_hub.inbound);
//! assert_eq!(at_spoke.inbound, at_hub.outbound);
//! # Ok::<(), dmvpn_proto::ikev2::Error>(())
//! ```

mod auth;
mod child;
mod config;
mod endpoint;
#[cfg(any(test, feature = "fuzzing"))]
#[doc(hidden)]
pub mod fuzzing;
mod informational;
mod listing;
mod sa_init;
mod timers;
mod wire;

use core::net::Ipv4Addr;

use dmvpn_isakmp::keys::Secret;
use dmvpn_isakmp::v2::consts::NotifyType;
use dmvpn_isakmp::v2::crypto::{DecryptError, SaKeys};
use dmvpn_isakmp::v2::keys::EncryptError;
use dmvpn_isakmp::v2::{ExchangeType, PayloadType};

pub use crate::ike::{ChildSa, DeleteReason, Entropy, KeyExchange, Role, TestEntropy, Transmit};
pub use config::{
    Config, Identity, IkeProposal, PresharedKey, RemoteIdentity, Retransmit, TransformSet,
};
pub use endpoint::Endpoint;
pub use listing::{Algorithms, ChildInfo, SaInfo, SaStatus};

/// Why an IKE SA could not be set up.
#[derive(Clone, Copy, Debug, Eq, PartialEq)]
pub enum Failure {
    /// The peer did not answer the retransmissions.
    Retransmissions,
    /// No proposal matched (our verdict or the peer's NO_PROPOSAL_CHOSEN).
    NoProposalChosen,
    /// The traffic selectors are not GRE between the NBMA addresses (TS_UNACCEPTABLE).
    TsUnacceptable,
    /// The peer's AUTH did not verify, or it said AUTHENTICATION_FAILED: the PSKs differ.
    AuthenticationFailed,
    /// The peer refused with this error notification.
    Notified(NotifyType),
    /// The keyring has no key for the peer.
    NoPresharedKey,
    /// The peer's identity (IDi, or IDr when we initiated) matches none of
    /// [`Config::remote_identities`]; the responder answered AUTHENTICATION_FAILED.
    IdentityMismatch,
}

/// The keys of an IKE SA beyond an `ikev2_decryption_table` line's, as dmvpn's key table's ninth
/// to eleventh columns hold them: SK_d (Child SA keys), SK_pi and SK_pr (the AUTH payloads' MAC
/// of the IDs, RFC 7296 §2.15). Key material: only a key log the user turned on writes it.
#[derive(Clone, Debug, Default, Eq, PartialEq)]
pub struct PrfKeys {
    /// SK_d.
    pub sk_d: Secret,
    /// SK_pi.
    pub sk_pi: Secret,
    /// SK_pr.
    pub sk_pr: Secret,
}

impl PrfKeys {
    /// The three keys of `keys`.
    #[must_use]
    pub fn of(keys: &dmvpn_isakmp::v2::keys::IkeKeys) -> Self {
        Self {
            sk_d: keys.sk_d.clone(),
            sk_pi: keys.sk_pi.clone(),
            sk_pr: keys.sk_pr.clone(),
        }
    }
}

/// What an [`Endpoint`] reports.
#[derive(Clone, Debug, Eq, PartialEq)]
pub enum Event {
    /// A new IKE SA's keys are derived (IKE_SA_INIT completed), before IKE_AUTH: what a key log
    /// writes, so that an IKE_AUTH that fails (a wrong pre-shared key) still decrypts and its
    /// AUTH payloads can be checked. Key material (redacted in `Debug`).
    Keyed {
        /// The peer.
        peer: Ipv4Addr,
        /// SPIs, algorithms and SK_e / SK_a.
        keys: SaKeys,
        /// SK_d, SK_pi and SK_pr.
        prf_keys: PrfKeys,
    },
    /// An IKE SA is up (IKE_AUTH completed). `keys` is the `ikev2_decryption_table` line's
    /// content (redacted in `Debug`).
    Established {
        /// The peer.
        peer: Ipv4Addr,
        /// Whether we initiated it.
        role: Role,
        /// SPIs, algorithms and SK_e / SK_a.
        keys: SaKeys,
        /// SK_d, SK_pi and SK_pr: the extra columns of dmvpn's key table, for a key log that
        /// derives Child SA keys and checks pre-shared keys (redacted in `Debug`).
        prf_keys: PrfKeys,
        /// The NAT_DETECTION hashes did not match our addresses.
        nat_detected: bool,
    },
    /// An IKE SA was replaced by a rekey: `keys` are the new SA's; the Child SAs moved to it.
    Rekeyed {
        /// The peer.
        peer: Ipv4Addr,
        /// The old SA's initiator SPI.
        old_initiator_spi: [u8; 8],
        /// The new SA's keys.
        keys: SaKeys,
        /// The new SA's SK_d, SK_pi and SK_pr (redacted in `Debug`).
        prf_keys: PrfKeys,
    },
    /// A Child SA pair is up: install both directions.
    ChildEstablished(ChildSa),
    /// Remove this Child SA pair.
    ChildDeleted {
        /// The peer.
        peer: Ipv4Addr,
        /// The inbound SPI (ours).
        inbound_spi: u32,
        /// The outbound SPI (the peer's).
        outbound_spi: u32,
        /// Why.
        reason: DeleteReason,
    },
    /// Setting up an IKE SA or a Child SA failed.
    Failed {
        /// The peer.
        peer: Ipv4Addr,
        /// Why.
        reason: Failure,
    },
    /// An IKE SA is gone (its Child SAs were reported deleted first).
    Deleted {
        /// The peer.
        peer: Ipv4Addr,
        /// Its initiator SPI.
        initiator_spi: [u8; 8],
        /// Why.
        reason: DeleteReason,
    },
    /// The liveness check got no answer: every SA with the peer was deleted.
    PeerDead {
        /// The peer.
        peer: Ipv4Addr,
    },
}

/// Why a message or a request was refused. Whatever the protocol answers (a notification) has
/// been queued, and the matching [`Event`] raised, when this is returned.
#[derive(Clone, Debug, Eq, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The message is not IKEv2.
    #[error("ikev2: field `major version` of the message from {peer} is {version}, not 2")]
    Version {
        /// The peer.
        peer: Ipv4Addr,
        /// The major version.
        version: u8,
    },
    /// An SK payload could not be decrypted.
    #[error(transparent)]
    Decrypt(#[from] DecryptError),
    /// The message does not parse.
    #[error(transparent)]
    Malformed(#[from] dmvpn_wire::Error),
    /// A Diffie-Hellman failure (unsupported group, invalid public value).
    #[error(transparent)]
    KeyExchange(#[from] crate::ike::Error),
    /// A message could not be encrypted.
    #[error(transparent)]
    Encrypt(#[from] EncryptError),
    /// A message ID outside the window; the message was dropped.
    #[error("ikev2: field `message id` from {peer} is {message_id}, expected {expected}")]
    MessageId {
        /// The peer.
        peer: Ipv4Addr,
        /// The message ID received.
        message_id: u32,
        /// The one expected.
        expected: u32,
    },
    /// The ICV of an encrypted message did not verify; the message was dropped.
    #[error("ikev2: icv of message {message_id} from {peer} does not verify")]
    BadIcv {
        /// The peer.
        peer: Ipv4Addr,
        /// The message ID.
        message_id: u32,
    },
    /// No IKE SA has these SPIs with this peer.
    #[error("ikev2: no sa with {peer} for initiator spi {initiator_spi:016x}")]
    UnknownSa {
        /// The peer.
        peer: Ipv4Addr,
        /// The initiator SPI.
        initiator_spi: u64,
    },
    /// A required payload is missing.
    #[error("ikev2: {exchange} message from {peer} lacks a {payload} payload")]
    MissingPayload {
        /// The peer.
        peer: Ipv4Addr,
        /// The exchange.
        exchange: ExchangeType,
        /// The payload.
        payload: PayloadType,
    },
    /// A message the SA's state does not expect.
    #[error("ikev2: unexpected {exchange} message from {peer} in state {state}")]
    Unexpected {
        /// The peer.
        peer: Ipv4Addr,
        /// Its exchange type.
        exchange: ExchangeType,
        /// The SA's state.
        state: &'static str,
    },
    /// No offered proposal matched; NO_PROPOSAL_CHOSEN was sent.
    #[error("ikev2: no proposal from {peer} matches")]
    NoProposalChosen {
        /// The peer.
        peer: Ipv4Addr,
    },
    /// The peer's answer names a proposal we did not offer.
    #[error("ikev2: {peer} chose a proposal we did not offer")]
    BadProposalChoice {
        /// The peer.
        peer: Ipv4Addr,
    },
    /// The AUTH payload did not verify (pre-shared key mismatch).
    #[error("ikev2: authentication of {peer} failed (pre-shared key mismatch?)")]
    AuthenticationFailed {
        /// The peer.
        peer: Ipv4Addr,
    },
    /// The peer's identity matches no `match identity remote` ([`Config::remote_identities`]):
    /// a responder answered AUTHENTICATION_FAILED, an initiator dropped the SA.
    #[error("ikev2: identity {identity} of {peer} matches no `match identity remote`")]
    IdentityMismatch {
        /// The peer.
        peer: Ipv4Addr,
        /// The identity it sent (IDi or IDr).
        identity: Identity,
    },
    /// No pre-shared key for the peer.
    #[error("ikev2: no pre-shared key for {peer}")]
    NoPresharedKey {
        /// The peer.
        peer: Ipv4Addr,
    },
    /// The traffic selectors are not GRE between the NBMA addresses.
    #[error("ikev2: traffic selectors from {peer} are not gre between the nbma addresses")]
    TsUnacceptable {
        /// The peer.
        peer: Ipv4Addr,
    },
    /// A request for a peer with no established IKE SA.
    #[error("ikev2: no established sa with {peer}")]
    NotEstablished {
        /// The peer.
        peer: Ipv4Addr,
    },
    /// No Child SA has this SPI.
    #[error("ikev2: no child sa with {peer} has spi {spi:#010x}")]
    UnknownChild {
        /// The peer.
        peer: Ipv4Addr,
        /// The SPI.
        spi: u32,
    },
    /// A limit on half-open or established SAs refused a new one.
    #[error("ikev2: sa limit reached, {peer} refused")]
    Limit {
        /// The peer.
        peer: Ipv4Addr,
    },
    /// The configuration has no IKE proposal or no transform set.
    #[error("ikev2: nothing to propose: {what} is empty")]
    EmptyConfig {
        /// Which list.
        what: &'static str,
    },
}

#[cfg(test)]
mod tests {
    use super::*;

    const PEER: Ipv4Addr = Ipv4Addr::new(192, 0, 2, 9);

    #[test]
    fn error_messages_name_the_field() {
        for (error, text) in [
            (
                Error::MessageId {
                    peer: PEER,
                    message_id: 7,
                    expected: 2,
                },
                "ikev2: field `message id` from 192.0.2.9 is 7, expected 2",
            ),
            (
                Error::UnknownSa {
                    peer: PEER,
                    initiator_spi: 0x11,
                },
                "ikev2: no sa with 192.0.2.9 for initiator spi 0000000000000011",
            ),
            (
                Error::MissingPayload {
                    peer: PEER,
                    exchange: ExchangeType::IKE_AUTH,
                    payload: PayloadType::AUTH,
                },
                "ikev2: IKE_AUTH (35) message from 192.0.2.9 lacks a AUTH (39) payload",
            ),
            (
                Error::Version {
                    peer: PEER,
                    version: 1,
                },
                "ikev2: field `major version` of the message from 192.0.2.9 is 1, not 2",
            ),
        ] {
            assert_eq!(alloc::format!("{error}"), text);
        }
    }
}
