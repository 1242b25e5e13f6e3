//! IKEv2 (RFC 7296): header, every payload, SK/SKF decryption and RFC 7383 fragment reassembly.
//!
//! IKEv2 lives in this crate, beside IKEv1, because the two share their framing: the header is the
//! same 28 bytes in the same places (RFC 7296 §3.1 renames the cookies SPIs and gives the flags new
//! bits, the version byte says 0x20), and every payload starts with the same 4-byte generic header
//! (RFC 7296 §3.2 turns IKEv1's reserved byte into the critical bit). So the bounds-checked
//! [`crate::Packet`] view and the [`crate::Payloads`] walker serve both versions, a capture's UDP 500
//! and 4500 traffic is read by one [`AnyMessage::parse`] that dispatches on the major version, and
//! only the registries and payload bodies, which differ, are IKEv2's own.
//!
//! - [`header`]: the [`Header`] repr and its [`Flags`] (I, V, R).
//! - [`payload`]: the chain ([`Payloads`], which ends at SK/SKF) and every [`Body`]; [`sa`]:
//!   proposals, transforms and attributes.
//! - [`crypto`]: decryption and ICV checks of SK and SKF with the keys of Wireshark's
//!   `ikev2_decryption_table` ([`crypto::SaKeys`]).
//! - [`keys`]: the key schedule (prf+, SKEYSEED, KEYMAT, PSK AUTH) and SK encryption, for a
//!   machine that speaks IKEv2.
//! - [`fragment`]: bounded reassembly of decrypted SKF fragments.
//! - [`consts`]: the IANA registries (payload, exchange, transform, notify, … types).
//! - `fuzzing` (feature `fuzzing`; hidden, unstable): entry points for the IKEv2 fuzz targets.
//!
//! ```
//! use dmvpn_isakmp::AnyMessage;
//! use dmvpn_isakmp::v2::{Body, ExchangeType, PayloadType};
//!
//! // An IKE_SA_INIT request header followed by one Nonce payload.
//! let mut bytes = vec![0x11; 8];
//! bytes.extend_from_slice(&[0; 8]);
//! bytes.extend_from_slice(&[40, 0x20, 34, 0x08, 0, 0, 0, 0, 0, 0, 0, 40]);
//! bytes.extend_from_slice(&[0, 0, 0, 12, 1, 2, 3, 4, 5, 6, 7, 8]);
//! let AnyMessage::V2(message) = AnyMessage::parse(&bytes)? else { panic!("IKEv2") };
//! assert_eq!(message.header.exchange_type, ExchangeType::IKE_SA_INIT);
//! assert!(message.header.flags.initiator());
//! let payload = message.payloads().next().unwrap()?;
//! assert_eq!(payload.ty, PayloadType::NONCE);
//! assert_eq!(payload.decode()?.to_string(), "Nonce(8 bytes)");
//! # Ok::<(), dmvpn_isakmp::Error>(())
//! ```

pub mod child;
pub mod consts;
pub mod crypto;
pub mod fragment;
#[cfg(any(test, feature = "fuzzing"))]
#[doc(hidden)]
pub mod fuzzing;
pub mod header;
pub mod keys;
pub mod payload;
pub mod sa;

use core::ops::Range;

use dmvpn_wire::{Error, Layer, Result};

pub use consts::{ExchangeType, NotifyType, PayloadType};
pub use header::{Flags, Header, VERSION_2_0};
pub use payload::{Body, Payload, Payloads};

use crate::header::{HEADER_LEN, Packet};
use crate::payload::GENERIC_HEADER_LEN;
use crypto::{DecryptError, Decrypted, SaKeys};

/// A parsed IKEv2 message; its payload chain stays borrowed.
#[derive(Clone, Copy, Debug, Eq, Hash, PartialEq)]
pub struct Message<'a> {
    /// The header.
    pub header: Header,
    /// Everything after the header up to `length`.
    pub body: &'a [u8],
    /// The whole message, header included, up to `length` (what the ICV covers).
    pub bytes: &'a [u8],
}

impl<'a> Message<'a> {
    /// Parses one message at the start of `bytes`, returning it and whatever follows its `length`.
    pub fn parse_trailing(bytes: &'a [u8]) -> Result<(Self, &'a [u8])> {
        let packet = Packet::new_checked(bytes)?;
        let header = Header::parse(&packet)?;
        let (bytes, trailer) = bytes.split_at(header.length as usize);
        Ok((
            Self {
                header,
                body: packet.payload(),
                bytes,
            },
            trailer,
        ))
    }

    /// Parses one message that fills `bytes` exactly; bytes after `length` are
    /// [`Error::TrailingBytes`]. The payload chain is walked by [`Message::check`].
    pub fn parse(bytes: &'a [u8]) -> Result<Self> {
        let (message, trailer) = Self::parse_trailing(bytes)?;
        if !trailer.is_empty() {
            return Err(Error::TrailingBytes {
                layer: Layer::Isakmp,
                offset: message.bytes.len(),
                len: trailer.len(),
            });
        }
        Ok(message)
    }

    /// The payload chain, up to and including an SK or SKF payload.
    #[must_use]
    pub const fn payloads(&self) -> Payloads<'a> {
        Payloads::new(self.header.next_payload, self.body, HEADER_LEN)
    }

    /// Walks and decodes every payload in the clear.
    pub fn check(&self) -> Result<()> {
        self.payloads().check()
    }

    /// The SK or SKF payload that ends the chain, if there is one (and the chain before it is
    /// well formed).
    #[must_use]
    pub fn encrypted_payload(&self) -> Option<Payload<'a>> {
        self.payloads()
            .map_while(Result::ok)
            .find(|p| matches!(p.ty, PayloadType::SK | PayloadType::SKF))
    }

    /// Whether the message came from the original initiator of the IKE SA (the I flag), so that
    /// SK_ei / SK_ai protect it.
    #[must_use]
    pub const fn from_initiator(&self) -> bool {
        self.header.flags.initiator()
    }

    /// Decrypts the SK or SKF payload with `keys`; `None` if the message has none.
    pub fn decrypt(&self, keys: &SaKeys) -> Option<core::result::Result<Inner, DecryptError>> {
        let payload = self.encrypted_payload()?;
        let (range, fragment) = match payload.decode() {
            Ok(Body::Skf(skf)) => (
                payload.offset + GENERIC_HEADER_LEN + 4..payload.end(),
                Some((skf.number, skf.total)),
            ),
            Ok(_) => (payload.offset + GENERIC_HEADER_LEN..payload.end(), None),
            Err(_) => return None,
        };
        Some(
            keys.decrypt(self.bytes, range.clone(), self.from_initiator())
                .map(|decrypted| Inner {
                    first: payload.next,
                    decrypted,
                    fragment,
                    encrypted: range,
                }),
        )
    }
}

/// The decrypted content of an SK or SKF payload.
#[derive(Clone, Debug, Eq, PartialEq)]
pub struct Inner {
    /// The type of the first inner payload (for an SKF: meaningful in fragment 1 only).
    pub first: PayloadType,
    /// The plaintext and the ICV result.
    pub decrypted: Decrypted,
    /// For an SKF payload, its fragment number and the total.
    pub fragment: Option<(u16, u16)>,
    /// Where the IV, ciphertext and ICV lie in the message.
    pub encrypted: Range<usize>,
}

impl Inner {
    /// The inner payload chain; its offsets count from the start of the plaintext.
    #[must_use]
    pub fn payloads(&self) -> Payloads<'_> {
        Payloads::new(self.first, &self.decrypted.plaintext, 0)
    }
}

/// An ISAKMP message of either version, as UDP 500 / 4500 carries them.
#[derive(Clone, Copy, Debug, Eq, Hash, PartialEq)]
pub enum AnyMessage<'a> {
    /// ISAKMP / IKEv1 (major version 1).
    V1(crate::Message<'a>),
    /// IKEv2 (major version 2).
    V2(Message<'a>),
}

impl<'a> AnyMessage<'a> {
    /// Parses one message that fills `bytes`, by its major version; others are
    /// [`Error::Unsupported`].
    pub fn parse(bytes: &'a [u8]) -> Result<Self> {
        let packet = Packet::new_checked(bytes)?;
        Ok(match packet.major_version() {
            2 => Self::V2(Message::parse(bytes)?),
            _ => Self::V1(crate::Message::parse(bytes)?),
        })
    }

    /// Parses one message at the start of `bytes`, by its major version, returning what follows
    /// its `length` too.
    pub fn parse_trailing(bytes: &'a [u8]) -> Result<(Self, &'a [u8])> {
        let packet = Packet::new_checked(bytes)?;
        Ok(match packet.major_version() {
            2 => {
                let (message, rest) = Message::parse_trailing(bytes)?;
                (Self::V2(message), rest)
            }
            _ => {
                let (message, rest) = crate::Message::parse_trailing(bytes)?;
                (Self::V1(message), rest)
            }
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dispatches_on_version() {
        let mut v2 = vec![0x22; 16];
        v2.extend_from_slice(&[0, 0x20, 37, 0x20, 0, 0, 0, 5, 0, 0, 0, 28]);
        let Ok(AnyMessage::V2(message)) = AnyMessage::parse(&v2) else {
            panic!("v2")
        };
        assert_eq!(message.header.message_id, 5);
        assert_eq!(message.payloads().count(), 0);
        let mut v1 = v2.clone();
        v1[17] = 0x10;
        assert!(matches!(AnyMessage::parse(&v1), Ok(AnyMessage::V1(_))));
        let mut v3 = v2.clone();
        v3[17] = 0x30;
        assert_eq!(
            AnyMessage::parse(&v3).unwrap_err().to_string(),
            "isakmp: field `major version` at offset 17 has unsupported value 0x3"
        );
        v2.push(7);
        assert_eq!(
            AnyMessage::parse(&v2).unwrap_err().to_string(),
            "isakmp: 1 trailing bytes at offset 28"
        );
        let (AnyMessage::V2(_), rest) = AnyMessage::parse_trailing(&v2).unwrap() else {
            panic!("v2")
        };
        assert_eq!(rest, &[7]);
    }
}
