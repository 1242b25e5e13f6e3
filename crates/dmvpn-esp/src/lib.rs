//! ESP (RFC 4303): header view, security associations, decrypt and encrypt, anti-replay.
//!
//! DMVPN protects its GRE traffic with ESP in transport mode: the ESP payload is the GRE packet
//! and the next header is 47. [`Packet`] is a view of the cleartext header (SPI and sequence
//! number); everything after it needs keys. An [`Sa`] holds the prepared cipher and HMAC state
//! of one security association and decrypts in place, with no allocation per packet; the
//! [`trailer`] module reads padding, pad length and next header out of the plaintext. An
//! [`Inbound`] adds the anti-replay [`ReplayWindow`], and an [`SaTable`] finds the SA of a packet
//! by SPI and destination.
//!
//! Transforms: NULL, 3DES-CBC (RFC 2451), AES-CBC (RFC 3602), AES-GCM with 8, 12 or 16-byte
//! ICVs (RFC 4106); HMAC-MD5-96 (RFC 2403), HMAC-SHA-1-96 (RFC 2404), HMAC-SHA-256-128,
//! -384-192 and -512-256 (RFC 4868); extended sequence numbers (RFC 4303 §2.2.1).
//!
//! ```
//! use dmvpn_esp::{DecryptError, Encryption, Integrity, NextHeader, Packet, Sa};
//!
//! // RFC 3602 §4 case 6: AES-128-CBC, SPI 0x4321, sequence number 8, an ICMP echo inside.
//! let key = [
//!     0x90, 0xd3, 0x82, 0xb4, 0x10, 0xee, 0xba, 0x7a, 0xd9, 0x38, 0xc4, 0x6c, 0xec, 0x1a, 0x82, 0xbf,
//! ];
//! let sa = Sa::new(0x4321, Encryption::AesCbc, &key, Integrity::None, &[])?;
//! let mut packet = [
//!     0x00, 0x00, 0x43, 0x21, 0x00, 0x00, 0x00, 0x08, // SPI, sequence number
//!     0x69, 0xd0, 0x8d, 0xf7, 0xd2, 0x03, 0x32, 0x9d, 0xb0, 0x93, 0xfc, 0x49, 0x24, 0xe5, 0xbd, 0x80, // IV
//!     0xf5, 0x19, 0x95, 0x88, 0x1e, 0xc4, 0xe0, 0xc4, 0x48, 0x89, 0x87, 0xce, 0x74, 0x2e, 0x81, 0x09,
//!     0x68, 0x9b, 0xb3, 0x79, 0xd2, 0xd7, 0x50, 0xc0, 0xd9, 0x15, 0xdc, 0xa3, 0x46, 0xa8, 0x9f, 0x75,
//! ];
//! let header = Packet::new_checked(&packet[..])?;
//! assert_eq!((header.spi(), header.sequence_number()), (0x4321, 8));
//!
//! let original = packet;
//! let decrypted = sa.decrypt_in_place(&mut packet)?;
//! assert_eq!(decrypted.next_header, NextHeader::ICMP);
//! assert_eq!(decrypted.payload.len(), 28);
//! assert_eq!(decrypted.padding, [1, 2]);
//!
//! // Encrypting the payload again with the same IV gives the same bytes.
//! let payload = decrypted.payload.to_vec();
//! let mut rebuilt = Vec::new();
//! sa.encrypt(8, &original[8..24], NextHeader::ICMP, &payload, &mut rebuilt)?;
//! assert_eq!(rebuilt, original);
//!
//! // With HMAC-SHA-1-96 a flipped bit is caught before anything is decrypted.
//! let sa = Sa::new(0x4321, Encryption::AesCbc, &key, Integrity::HmacSha1_96, &[0x0b; 20])?;
//! sa.encrypt(9, &original[8..24], NextHeader::GRE, &payload, &mut rebuilt)?;
//! rebuilt[30] ^= 1;
//! let err = sa.decrypt_in_place(&mut rebuilt).unwrap_err();
//! assert_eq!(err, DecryptError::IntegrityCheckFailed { spi: 0x4321, seq: 9 });
//! assert_eq!(err.to_string(), "esp: integrity check failed for spi 0x00004321 sequence number 9");
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! The crate is `no_std` with `alloc`; the default `std` feature adds [`SaTable`]. The `fuzzing`
//! feature adds the (hidden, unstable) entry points of the workspace's fuzz targets.
#![no_std]
#![forbid(unsafe_code)]

dmvpn_wire::codec_crate!(readme = include_str!("../README.md"));

extern crate alloc;
#[cfg(any(test, feature = "std"))]
extern crate std;

mod cipher;
mod des;
mod error;
pub mod packet;
mod replay;
mod sa;
#[cfg(feature = "std")]
mod table;
pub mod trailer;

pub use dmvpn_wire::Error;
pub use error::{DecryptError, EncryptError};
pub use packet::{Packet, Repr};
pub use replay::{Inbound, ReplayWindow};
pub use sa::{Decrypted, Encryption, Integrity, KeyError, Sa};
#[cfg(feature = "std")]
pub use table::{Destination, SaTable};
pub use trailer::{PaddingCheck, Trailer};

/// The IP protocol number of ESP.
pub const IP_PROTOCOL: u8 = IpProtocol::ESP.0;

/// The next header of an ESP trailer (RFC 4303 §2.6): an IP protocol number, from the one
/// registry of the workspace (GRE for DMVPN in transport mode, IPv4 or IPv6 in tunnel mode,
/// `NO_NEXT_HEADER` for a dummy packet).
pub use dmvpn_wire::IpProtocol as NextHeader;
use dmvpn_wire::IpProtocol;
