//! IKEv1 (RFC 2409) Main Mode and Quick Mode with pre-shared keys, as an IOS DMVPN hub or spoke
//! runs them: `crypto isakmp policy` + `crypto isakmp key` + `crypto ipsec transform-set … mode
//! transport` + `crypto ipsec profile`.
//!
//! One [`Endpoint`] is one router's IKE: it holds every IKE SA (phase 1) and every IPsec SA pair
//! (phase 2) with every peer, initiates on [`Endpoint::connect`] (the SPD found GRE to a peer
//! without an SA) and responds to whatever arrives on UDP/500 ([`Endpoint::handle_message`]).
//! Like every machine of this crate it does no I/O and reads no clock, and every random value
//! (cookies, nonces, Diffie-Hellman private values, SPIs, message IDs) comes from the caller's
//! [`Entropy`].
//!
//! - **Main Mode** (RFC 2409 §5): six messages; policies are matched the way IOS does it — each
//!   local policy in priority order against every transform the initiator offers; the initiator's
//!   lifetime is accepted when it is not longer than the policy's, and then used. The pre-shared
//!   key is chosen by peer address (`crypto isakmp key … address A [mask]`, `0.0.0.0` wildcard).
//!   HASH_I / HASH_R authenticate; the ID is `IPV4_ADDR` of the NBMA address.
//! - **Quick Mode** (RFC 2409 §5.5): three messages, ESP in transport mode for GRE (IDs
//!   `IPV4_ADDR`/protocol 47 of both NBMA addresses), optional PFS; the responder takes the
//!   first offered proposal that one of its transform sets matches, the shorter lifetime, and
//!   says so with RESPONDER-LIFETIME (RFC 2407 §4.6.3.1) when its own is shorter. The commit bit
//!   (RFC 2408 §3.1) is honoured with a CONNECTED notification.
//! - **The SAs** come out as [`Event::ChildEstablished`] with both directions' ESP keys
//!   ([`EspKeys`], ready for [`crate::ipsec::Sad`]: [`EspKeys::to_sa`]) and leave as
//!   [`Event::ChildDeleted`]; the keys needed by Wireshark (`ikev1_decryption_table`,
//!   `esp_sa`) are in the events and print only through explicit methods ([`EspKeys::esp_sa_line`]).
//! - **Reliability**: the last message is retransmitted every 10 s, 5 times, then the exchange
//!   is abandoned ([`Failure::Retransmissions`]); a duplicate of the peer's last message makes us
//!   resend our answer. Lifetimes: phase 1 and phase 2 rekey at 90 % ([`Config::rekey_per_mille`])
//!   and expire at 100 % with a Delete. DPD (RFC 3706): R-U-THERE / R-U-THERE-ACK, periodic or on
//!   demand. INITIAL-CONTACT (RFC 2407 §4.6.3.3) is sent on first contact and, received, clears
//!   the peer's old SAs. NO-PROPOSAL-CHOSEN, AUTHENTICATION-FAILED, PAYLOAD-MALFORMED and
//!   INVALID-ID-INFORMATION are sent and understood.
//!
//! Not here: NAT traversal (DMVPN Phase 1 between public addresses needs none; NAT-D payloads
//! from a peer are ignored), Aggressive Mode, certificates, XAUTH / mode-config, IKE
//! fragmentation.
//!
//! ```
//! use core::net::Ipv4Addr;
//! use dmvpn_isakmp::consts::Group;
//! use dmvpn_isakmp::crypto::Cipher;
//! use dmvpn_proto::ike::{Config, Endpoint, EspAuth, EspCipher, Event, Hash, Policy, TransformSet, TestEntropy};
//! use dmvpn_proto::Instant;
//!
//! let (hub, spoke) = (Ipv4Addr::new(192, 0, 2, 1), Ipv4Addr::new(192, 0, 2, 2));
//! let policy = Policy::new(Cipher::Aes128, Hash::Sha1, Group::MODP_768);
//! let set = TransformSet { encryption: EspCipher::Aes128, integrity: EspAuth::Sha1 };
//! let mut h = Endpoint::new(Config::dmvpn(hub, policy, b"cisco123", set), TestEntropy::new(1));
//! let mut s = Endpoint::new(Config::dmvpn(spoke, policy, b"cisco123", set), TestEntropy::new(2));
//!
//! let now = Instant::ZERO;
//! s.connect(now, hub)?;                       // GRE to the hub needs an SA
//! let mut sent = 0;
//! loop {                                      // carry datagrams both ways until quiet
//!     let mut moved = false;
//!     while let Some(t) = s.poll_transmit() { h.handle_message(now, spoke, &t.bytes)?; moved = true; sent += 1; }
//!     while let Some(t) = h.poll_transmit() { s.handle_message(now, hub, &t.bytes)?; moved = true; sent += 1; }
//!     if !moved { break; }
//! }
//! assert_eq!(sent, 6 + 3);                   // Main Mode + Quick Mode
//! let child = |e: &mut Endpoint<TestEntropy>| loop {
//!     match e.poll_event() { Some(Event::ChildEstablished(sa)) => break sa, Some(_) => {}, None => panic!() }
//! };
//! let (at_spoke, at_hub) = (child(&mut s), child(&mut h));
//! assert_eq!(at_spoke.outbound.spi, at_hub.inbound.spi);
//! assert_eq!(at_spoke.outbound, at_hub.inbound); // same keys both sides
//! # Ok::<(), dmvpn_proto::ike::Error>(())
//! ```

mod config;
mod dh;
mod endpoint;
#[cfg(any(test, feature = "fuzzing"))]
#[doc(hidden)]
pub mod fuzzing;
mod wire;

use alloc::format;
use alloc::string::String;
use core::fmt;
use core::net::Ipv4Addr;

use dmvpn_esp::{Encryption, Integrity, KeyError, Sa};
use dmvpn_isakmp::consts::{ExchangeType, Group, NotifyType, PayloadType};
use dmvpn_isakmp::crypto::DecryptError;
use dmvpn_isakmp::keys::{Ikev1Key, Secret};

pub use config::{
    Config, Dpd, EspAuth, EspCipher, Hash, IdentityPort, Policy, PresharedKey, Retransmit,
    TransformSet, cipher_attributes,
};
pub use dh::{KeyExchange, PRIVATE_LEN};
pub use endpoint::Endpoint;

use crate::ipsec::Lifetime;
use crate::time::Duration;

/// What a random value is for, so that a test can inject recorded ones.
#[derive(Clone, Copy, Debug, Eq, Hash, PartialEq)]
pub enum Purpose {
    /// An 8-byte ISAKMP cookie.
    Cookie,
    /// A Main Mode or Quick Mode nonce.
    Nonce,
    /// A Diffie-Hellman private exponent.
    DhPrivate,
    /// A 4-byte SPI of an inbound ESP SA (values below 256 are reserved and redrawn).
    Spi,
    /// A 4-byte message ID of a Quick Mode or Informational exchange (0 is redrawn).
    MessageId,
    /// The first sequence number of DPD (RFC 3706 §7).
    DpdSequence,
}

/// The caller's source of randomness (a CSPRNG in a router; fixed or recorded values in tests).
pub trait Entropy {
    /// Fills `buf` with random bytes for `purpose`.
    fn fill(&mut self, purpose: Purpose, buf: &mut [u8]);

    /// A fresh Diffie-Hellman key pair in `group`. The default draws a [`PRIVATE_LEN`]-byte
    /// exponent with [`Purpose::DhPrivate`]; a replay test returns [`KeyExchange::recorded`].
    ///
    /// # Errors
    /// As [`KeyExchange::new`].
    fn key_exchange(&mut self, group: Group) -> Result<KeyExchange, Error> {
        let mut bytes = [0u8; PRIVATE_LEN];
        self.fill(Purpose::DhPrivate, &mut bytes);
        let pair = KeyExchange::new(group, &bytes);
        zeroize::Zeroize::zeroize(&mut bytes);
        pair
    }
}

/// A deterministic [`Entropy`] (xorshift64*) for tests, examples and fuzzing. Never use it on a
/// network: its output is predictable.
#[derive(Clone, Debug)]
pub struct TestEntropy(u64);

impl TestEntropy {
    /// A generator seeded with `seed`.
    #[must_use]
    pub const fn new(seed: u64) -> Self {
        Self(seed.wrapping_mul(0x9e37_79b9_7f4a_7c15) | 1)
    }
}

impl Entropy for TestEntropy {
    fn fill(&mut self, _purpose: Purpose, buf: &mut [u8]) {
        for byte in buf {
            self.0 ^= self.0 >> 12;
            self.0 ^= self.0 << 25;
            self.0 ^= self.0 >> 27;
            *byte = (self.0.wrapping_mul(0x2545_f491_4f6c_dd1d) >> 56) as u8;
        }
    }
}

/// A datagram to send from UDP port 500 to the peer's UDP port 500: the peer's NBMA address
/// and the ISAKMP message.
pub type Transmit = crate::Transmit<crate::Ike>;

/// Which side of an exchange we are.
#[derive(Clone, Copy, Debug, Eq, Hash, PartialEq)]
pub enum Role {
    /// We sent the first message.
    Initiator,
    /// The peer did.
    Responder,
}

/// The algorithms one phase-1 SA uses.
#[derive(Clone, Copy, Debug, Eq, PartialEq)]
pub struct Suite {
    /// Encryption.
    pub encryption: dmvpn_isakmp::crypto::Cipher,
    /// Hash and PRF.
    pub hash: Hash,
    /// Diffie-Hellman group.
    pub group: Group,
    /// Negotiated lifetime.
    pub lifetime: Duration,
}

/// One direction of an IPsec SA: the SPI the receiver chose and the keys from KEYMAT
/// (RFC 2409 §5.5: encryption key first, then the integrity key). `Debug` redacts the keys.
#[derive(Clone, Eq, PartialEq)]
pub struct EspKeys {
    /// The SPI.
    pub spi: u32,
    /// ESP encryption.
    pub encryption: EspCipher,
    /// The encryption key.
    pub encryption_key: Secret,
    /// ESP integrity.
    pub integrity: EspAuth,
    /// The integrity key.
    pub integrity_key: Secret,
}

impl fmt::Debug for EspKeys {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("EspKeys")
            .field("spi", &format_args!("{:#010x}", self.spi))
            .field("encryption", &self.encryption)
            .field("encryption_key", &self.encryption_key)
            .field("integrity", &self.integrity)
            .field("integrity_key", &self.integrity_key)
            .finish()
    }
}

impl EspKeys {
    /// The ESP crate's SA for these keys.
    ///
    /// # Errors
    /// [`KeyError`] never for keys this machine derived (their lengths come from the transform).
    pub fn to_sa(&self) -> Result<Sa, KeyError> {
        Sa::new(
            self.spi,
            self.encryption.esp(),
            self.encryption_key.as_bytes(),
            self.integrity.esp(),
            self.integrity_key.as_bytes(),
        )
    }

    /// The ESP crate's transforms.
    #[must_use]
    pub const fn transforms(&self) -> (Encryption, Integrity) {
        (self.encryption.esp(), self.integrity.esp())
    }

    /// One line of Wireshark's `esp_sa` UAT for packets from `src` to `dst` (contains the keys:
    /// write it only to a key file the user asked for).
    #[must_use]
    pub fn esp_sa_line(&self, src: Ipv4Addr, dst: Ipv4Addr) -> String {
        let (encryption, integrity) = self.transforms();
        format!(
            "\"IPv4\",\"{src}\",\"{dst}\",\"{:#010x}\",\"{}\",\"0x{}\",\"{}\",\"0x{}\"",
            self.spi,
            encryption.wireshark_name(),
            self.encryption_key.to_hex(),
            integrity.wireshark_name(),
            self.integrity_key.to_hex()
        )
    }
}

/// A pair of IPsec SAs negotiated by one Quick Mode.
#[derive(Clone, Debug, Eq, PartialEq)]
pub struct ChildSa {
    /// The peer's NBMA address.
    pub peer: Ipv4Addr,
    /// Our NBMA address.
    pub local: Ipv4Addr,
    /// Packets from the peer to us: install with `Sad::install_inbound(now, local, …)`.
    pub inbound: EspKeys,
    /// Packets from us to the peer: install with `Sad::install_outbound(now, local, peer, …)`.
    pub outbound: EspKeys,
    /// The negotiated lifetime, as the SAD takes it: hard limits only (this machine rekeys by
    /// time itself; a byte soft limit the SAD reports should call [`Endpoint::rekey`]).
    pub lifetime: Lifetime,
    /// Whether we initiated the Quick Mode.
    pub role: Role,
    /// The Quick Mode's message ID.
    pub message_id: u32,
    /// The transform set it matched.
    pub transform_set: TransformSet,
    /// Whether PFS was used (the group).
    pub pfs: Option<Group>,
}

/// Why an exchange failed.
#[derive(Clone, Copy, Debug, Eq, PartialEq)]
pub enum Failure {
    /// No proposal matched (ours or the peer's verdict).
    NoProposalChosen,
    /// The peer's hash did not verify, or its encrypted message did not decrypt (mismatched
    /// pre-shared keys), or the peer said AUTHENTICATION-FAILED.
    AuthenticationFailed,
    /// No pre-shared key is configured for the peer.
    NoPresharedKey,
    /// The peer did not answer the retransmissions.
    Retransmissions,
    /// The peer refused with this notification.
    Notified(NotifyType),
    /// The Quick Mode IDs were not GRE between the two NBMA addresses.
    InvalidId,
}

/// Why SAs went away.
#[derive(Clone, Copy, Debug, Eq, PartialEq)]
pub enum DeleteReason {
    /// The lifetime ran out.
    Expired,
    /// The peer sent a Delete.
    PeerDeleted,
    /// The peer sent INITIAL-CONTACT: it rebooted.
    InitialContact,
    /// DPD declared the peer dead.
    DeadPeer,
    /// [`Endpoint::delete_peer`].
    Local,
}

/// What an [`Endpoint`] reports.
#[derive(Clone, Debug, Eq, PartialEq)]
pub enum Event {
    /// Main Mode completed. `key` is the `ikev1_decryption_table` line's content (redacted in
    /// `Debug`; [`Ikev1Key::to_table_line`] prints it).
    Phase1Established {
        /// The peer.
        peer: Ipv4Addr,
        /// Our role.
        role: Role,
        /// The responder cookie (the initiator cookie is in `key`).
        responder_cookie: [u8; 8],
        /// The algorithms.
        suite: Suite,
        /// Initiator cookie and encryption key.
        key: Ikev1Key,
    },
    /// Main Mode failed.
    Phase1Failed {
        /// The peer.
        peer: Ipv4Addr,
        /// Why.
        reason: Failure,
    },
    /// An established IKE SA is gone.
    Phase1Deleted {
        /// The peer.
        peer: Ipv4Addr,
        /// Its initiator cookie.
        initiator_cookie: [u8; 8],
        /// Why.
        reason: DeleteReason,
    },
    /// As Quick Mode responder we sent the second message: these are the keys the pair has if
    /// the initiator confirms it with the third (then [`Event::ChildEstablished`] follows with the
    /// same pair). Install nothing yet; a key log can write them now, so that the ESP of an
    /// initiator that never sends the third message still decrypts.
    ChildOffered(ChildSa),
    /// A Quick Mode completed: install both SAs.
    ChildEstablished(ChildSa),
    /// A Quick Mode failed.
    ChildFailed {
        /// The peer.
        peer: Ipv4Addr,
        /// Why.
        reason: Failure,
    },
    /// Remove this SA pair.
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
    /// DPD got no answer: every SA with the peer was deleted.
    PeerDown {
        /// The peer.
        peer: Ipv4Addr,
    },
}

/// Why a message or a request was refused. The machine has already sent what the protocol
/// answers (a notification) and raised the matching [`Event`] when this is returned.
#[derive(Clone, Debug, Eq, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The message does not parse.
    #[error(transparent)]
    Malformed(#[from] dmvpn_wire::Error),
    /// An encrypted message could not be decrypted.
    #[error(transparent)]
    Decrypt(#[from] DecryptError),
    /// No IKE SA has these cookies with this peer.
    #[error("ike: no sa with {peer} for initiator cookie {initiator_cookie:016x}")]
    UnknownSa {
        /// The peer.
        peer: Ipv4Addr,
        /// The cookie.
        initiator_cookie: u64,
    },
    /// A message that the SA's state does not expect (e.g. Main Mode 5 before 3).
    #[error("ike: unexpected {exchange} message from {peer} in state {state}")]
    Unexpected {
        /// The peer.
        peer: Ipv4Addr,
        /// Its exchange type.
        exchange: ExchangeType,
        /// The SA's state.
        state: &'static str,
    },
    /// A required payload is missing.
    #[error("ike: {exchange} message from {peer} lacks a {payload} payload")]
    MissingPayload {
        /// The peer.
        peer: Ipv4Addr,
        /// The exchange.
        exchange: ExchangeType,
        /// The payload.
        payload: PayloadType,
    },
    /// No offered proposal matched; NO-PROPOSAL-CHOSEN was sent.
    #[error("ike: no proposal from {peer} matches (phase {phase})")]
    NoProposalChosen {
        /// The peer.
        peer: Ipv4Addr,
        /// 1 for Main Mode, 2 for Quick Mode.
        phase: u8,
    },
    /// The responder's choice is not one we offered.
    #[error("ike: {peer} chose a proposal we did not offer")]
    BadProposalChoice {
        /// The peer.
        peer: Ipv4Addr,
    },
    /// No pre-shared key for the peer.
    #[error("ike: no pre-shared key for {peer}")]
    NoPresharedKey {
        /// The peer.
        peer: Ipv4Addr,
    },
    /// HASH_I / HASH_R did not verify or Main Mode 5/6 did not decrypt: the pre-shared keys
    /// differ.
    #[error("ike: authentication of {peer} failed (pre-shared key mismatch?)")]
    AuthenticationFailed {
        /// The peer.
        peer: Ipv4Addr,
    },
    /// A Quick Mode or Informational HASH did not verify.
    #[error("ike: bad hash in {exchange} message {message_id:#010x} from {peer}")]
    HashMismatch {
        /// The peer.
        peer: Ipv4Addr,
        /// The exchange.
        exchange: ExchangeType,
        /// The message ID.
        message_id: u32,
    },
    /// A Diffie-Hellman group other than 1, 2, 5, 14.
    #[error("ike: diffie-hellman group {group} is not supported")]
    UnsupportedGroup {
        /// The group.
        group: Group,
    },
    /// A KE payload of the wrong length or a degenerate public value.
    #[error("ike: invalid {group} public value of {len} bytes")]
    InvalidPublicValue {
        /// The group.
        group: Group,
        /// Its length.
        len: usize,
    },
    /// A private exponent that is empty, zero or longer than the modulus.
    #[error("ike: invalid diffie-hellman private value of {len} bytes")]
    InvalidPrivateValue {
        /// Its length.
        len: usize,
    },
    /// Quick Mode IDs other than GRE between the NBMA addresses.
    #[error("ike: quick mode ids from {peer} are not gre between the nbma addresses")]
    InvalidId {
        /// The peer.
        peer: Ipv4Addr,
    },
    /// A request for a peer with no established IKE SA.
    #[error("ike: no established sa with {peer}")]
    NotEstablished {
        /// The peer.
        peer: Ipv4Addr,
    },
    /// The configuration has no policy or no transform set.
    #[error("ike: nothing to propose: {what} is empty")]
    EmptyConfig {
        /// Which list.
        what: &'static str,
    },
}

#[cfg(test)]
mod tests {
    use alloc::string::ToString;

    use super::*;

    #[test]
    fn error_messages() {
        let peer = Ipv4Addr::new(192, 0, 2, 9);
        let cases = [
            (
                Error::UnknownSa {
                    peer,
                    initiator_cookie: 0x1122,
                },
                "ike: no sa with 192.0.2.9 for initiator cookie 0000000000001122",
            ),
            (
                Error::Unexpected {
                    peer,
                    exchange: ExchangeType::MAIN,
                    state: "mm2-sent",
                },
                "ike: unexpected Main Mode (2) message from 192.0.2.9 in state mm2-sent",
            ),
            (
                Error::MissingPayload {
                    peer,
                    exchange: ExchangeType::QUICK,
                    payload: PayloadType::NONCE,
                },
                "ike: Quick Mode (32) message from 192.0.2.9 lacks a NONCE (10) payload",
            ),
            (
                Error::NoProposalChosen { peer, phase: 2 },
                "ike: no proposal from 192.0.2.9 matches (phase 2)",
            ),
            (
                Error::BadProposalChoice { peer },
                "ike: 192.0.2.9 chose a proposal we did not offer",
            ),
            (
                Error::NoPresharedKey { peer },
                "ike: no pre-shared key for 192.0.2.9",
            ),
            (
                Error::AuthenticationFailed { peer },
                "ike: authentication of 192.0.2.9 failed (pre-shared key mismatch?)",
            ),
            (
                Error::HashMismatch {
                    peer,
                    exchange: ExchangeType::INFORMATIONAL,
                    message_id: 7,
                },
                "ike: bad hash in Informational (5) message 0x00000007 from 192.0.2.9",
            ),
            (
                Error::UnsupportedGroup {
                    group: Group::ECP_256,
                },
                "ike: diffie-hellman group 256-bit ECP (19) is not supported",
            ),
            (
                Error::InvalidPublicValue {
                    group: Group::MODP_1024,
                    len: 3,
                },
                "ike: invalid 1024-bit MODP (2) public value of 3 bytes",
            ),
            (
                Error::InvalidPrivateValue { len: 0 },
                "ike: invalid diffie-hellman private value of 0 bytes",
            ),
            (
                Error::InvalidId { peer },
                "ike: quick mode ids from 192.0.2.9 are not gre between the nbma addresses",
            ),
            (
                Error::NotEstablished { peer },
                "ike: no established sa with 192.0.2.9",
            ),
            (
                Error::EmptyConfig { what: "policies" },
                "ike: nothing to propose: policies is empty",
            ),
        ];
        for (error, text) in cases {
            assert_eq!(error.to_string(), text);
        }
    }

    #[test]
    fn keys_are_redacted_and_print_for_wireshark() {
        let keys = EspKeys {
            spi: 0xc027_317c,
            encryption: EspCipher::Aes128,
            encryption_key: Secret::from_slice(&[0x13; 16]),
            integrity: EspAuth::Sha1,
            integrity_key: Secret::from_slice(&[0x3b; 20]),
        };
        let debug = alloc::format!("{keys:?}");
        assert!(
            !debug.contains("13, 19") && !debug.contains("1313"),
            "{debug}"
        );
        assert!(debug.contains("0xc027317c"));
        let line = keys.esp_sa_line(Ipv4Addr::new(192, 0, 2, 1), Ipv4Addr::new(192, 0, 2, 2));
        assert_eq!(
            line,
            alloc::format!(
                "\"IPv4\",\"192.0.2.1\",\"192.0.2.2\",\"0xc027317c\",\"AES-CBC [RFC3602]\",\"0x{}\",\"HMAC-SHA-1-96 [RFC2404]\",\"0x{}\"",
                "13".repeat(16),
                "3b".repeat(20)
            )
        );
        assert!(keys.to_sa().is_ok());
    }
}
