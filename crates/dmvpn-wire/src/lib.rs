//! Shared pieces of the dmvpn codecs.
//!
//! Every codec crate (`dmvpn-gre`, `dmvpn-nhrp`, `dmvpn-eigrp`, `dmvpn-isakmp`, `dmvpn-esp`) reports malformed
//! input with the same [`Error`], reads variable-length structures with the same bounds-checked [`Reader`],
//! computes the RFC 1071 Internet checksum with [`checksum`], and declares its protocol registries (op types,
//! TLV types, payload types) as open newtypes with the [`registry!`] macro, so that error text and `Debug`
//! output look the same everywhere.
//!
//! ```
//! use dmvpn_wire::{Error, Layer, Reader};
//!
//! // A two-byte type, a two-byte length, then that many bytes of value.
//! let bytes = [0x00, 0x03, 0x00, 0x02, 0xab, 0xcd];
//! let mut reader = Reader::new(Layer::Nhrp, &bytes);
//! assert_eq!(reader.u16("type")?, 3);
//! let len = reader.u16("length")?;
//! assert_eq!(reader.take(usize::from(len), "value")?, &[0xab, 0xcd]);
//! reader.finish()?;
//!
//! // Reading past the end names the layer, the field and the offset.
//! let err = Reader::new(Layer::Gre, &bytes[..3]).u32("key").unwrap_err();
//! assert_eq!(
//!     err.to_string(),
//!     "gre: truncated reading `key` at offset 0: need 4 bytes, have 3"
//! );
//! # Ok::<(), Error>(())
//! ```
#![cfg_attr(not(test), no_std)]
#![forbid(unsafe_code)]

/// The README's examples, compiled and run as doc tests.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
struct ReadmeDoctests;

pub mod checksum;
mod error;
pub mod field;
mod flags;
pub mod fmt;
mod harness;
pub mod hex;
mod ip_protocol;
pub mod list;
mod newtype;
mod reader;
mod view;

pub use error::{Error, Layer};
pub use ip_protocol::IpProtocol;
pub use reader::Reader;

/// The result type of every codec in the workspace.
pub type Result<T, E = Error> = core::result::Result<T, E>;
