//! ISAKMP / IKEv1 (RFC 2408, RFC 2409) zero-copy codec, decryption and key schedule.
//!
//! - [`header`]: the 28-byte header view ([`Packet`]) and its [`Header`] repr, plus the UDP/4500
//!   non-ESP-marker split.
//! - [`payload`]: the payload chain ([`Payloads`]) and every body ([`Body`]): SA → proposal → transform
//!   → attributes ([`sa`], [`attribute`]), KE, ID, CERT, CR, HASH, SIG, NONCE, Notification, Delete,
//!   Vendor ID ([`vendor`] names them), mode-config attributes, NAT-D, NAT-OA (RFC and draft types) and
//!   Cisco fragments; unknown payloads stay bytes.
//! - [`builder`]: payload chains from [`Body`] reprs, SA proposal chains and attribute lists, and
//!   the header around them, in clear or encrypted.
//! - [`message`]: a whole [`Message`] with a one-line [`message::Summary`].
//! - [`crypto`]: DES/3DES/AES-CBC and [`crypto::IkeSaState`], which decrypts the messages of one IKE SA
//!   fed in capture order (RFC 2409 Appendix B IVs).
//!   Given the PSK and g^xy it derives every key itself, and given SKEYID_d it derives the ESP/AH keys
//!   of every Quick Mode ([`child`]).
//! - [`keys`]: SKEYID, SKEYID_d/a/e, Ka, HASH_I/R, Quick Mode hashes and KEYMAT, NAT-D hashes, and
//!   Wireshark's `ikev1_decryption_table`; [`group`]: MODP groups 1, 2, 5, 14.
//! - [`fragment`]: reassembly of Cisco/strongSwan IKE fragments (payload 132).
//! - `fuzzing` (with the feature of that name; hidden, unstable): entry points for the fuzz
//!   targets.
//!
//! ```
//! use dmvpn_isakmp::{Body, Message, PayloadType};
//!
//! // packetlife ISAKMP_sa_setup.cap frame 2 (Cisco IOS, Main Mode, responder's SA + NAT-T VID).
//! let bytes = hex::decode(concat!(
//!     "cf02326f14a95b9318a109f89219e8df01100200000000000000006c0d00003c0000000100000001",
//!     "0000003001010001000000280101000080010007800e0080800200028004000180030001800b0001",
//!     "000c00040001518000000014439b59f8ba676c4c7737ae22eab8f582",
//! ))?;
//! let message = Message::parse(&bytes)?;
//! assert_eq!(message.header.exchange_type.name(), Some("Main Mode"));
//! let context = message.context(None);
//! let mut payloads = message.payloads().expect("not encrypted");
//! let Body::Sa(sa) = payloads.next().unwrap()?.decode(context)? else { panic!() };
//! let policy = sa.ike_policy()?.expect("one ISAKMP transform");
//! assert_eq!((policy.encryption.name(), policy.key_length), (Some("AES-CBC"), Some(128)));
//! let vid = payloads.next().unwrap()?;
//! assert_eq!(vid.ty, PayloadType::VENDOR_ID);
//! assert_eq!(vid.decode(context)?.to_string(), "VID(draft-ietf-ipsec-nat-t-ike-07)");
//! assert!(payloads.next().is_none());
//!
//! // Every malformed input is a typed error naming the field and offset.
//! let err = Message::parse(&bytes[..40]).unwrap_err();
//! assert_eq!(err.to_string(), "isakmp: length field `length` at offset 24 says 108 bytes, but 40 are there");
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
#![cfg_attr(not(test), no_std)]
#![forbid(unsafe_code)]

dmvpn_wire::codec_crate!(readme = include_str!("../README.md"));

extern crate alloc;

pub mod attribute;
pub mod builder;
pub mod child;
pub mod consts;
pub mod crypto;
pub mod fragment;
pub mod group;
pub mod header;
pub mod keys;
pub mod message;
pub mod payload;
pub mod sa;
pub mod v2;
pub mod vendor;

pub use consts::{ExchangeType, PayloadType};
pub use dmvpn_wire::Error;
pub use header::{Flags, Header, Packet};
pub use message::Message;
pub use payload::{Body, Payload, Payloads};
pub use v2::AnyMessage;
