//! EIGRP (RFC 7868) zero-copy codec: header, every TLV, authentication digests and metrics.
//!
//! - [`Packet`]: a view of the 20-byte header (RFC 7868 §6.5) with getters, setters and the checksum.
//! - [`Repr`]: the whole packet, parsed without allocating; [`Tlvs`] iterates its [`tlv::Tlv`]s.
//!   It prints a one-line summary with `Display`.
//! - [`tlv`]: every TLV of RFC 7868 §6.7–§6.9 — Parameters (and the goodbye form), Authentication,
//!   Sequence, Software Version, Next Multicast Sequence, Stub, Peer Termination, Peer TID list,
//!   classic IPv4/IPv6 internal and external routes and multi-protocol wide-metric routes, with
//!   EIGRP's compressed destinations. Anything else is kept as bytes and round-trips: the request
//!   (0x0101/0x0401/0x0601) and community (0x0104/0x0404/0x0604) TLVs, multi-protocol routes of other
//!   AFIs (IPX, SAF), AppleTalk, IPX and the deprecated MTR TLVs. The community TLVs stay opaque
//!   because no public source gives their body layout (RFC 7868 only names the types).
//! - [`tlv::community`]: the communities of a wide metric's Community attribute (RFC 7868 §6.4),
//!   decoded by type and printed in the attribute's `Debug`.
//! - [`auth`]: MD5 and HMAC-SHA-256 digests; [`metric`]: classic and wide composite metrics.
//!
//! ```
//! use dmvpn_eigrp::{OpCode, Packet, Repr, tlv::Tlv};
//!
//! // packetlife EIGRP_goodbye.cap frame 9: a Hello with all K values 255 ("goodbye").
//! let bytes = [
//!     0x02, 0x05, 0xf1, 0x67, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x00, 0x64,
//!     0x00, 0x01, 0x00, 0x0c, 0xff, 0xff, 0xff, 0xff, 0xff, 0x00, 0x00, 0x0f,
//!     0x00, 0x04, 0x00, 0x08, 0x0c, 0x04, 0x01, 0x02,
//! ];
//! let repr = Repr::parse(&Packet::new_checked(&bytes[..])?)?;
//! assert_eq!(repr.opcode, OpCode::HELLO);
//! assert_eq!(repr.autonomous_system, 100);
//! let Some(Tlv::Parameters(params)) = repr.tlvs.iter().next() else { panic!() };
//! assert!(params.is_goodbye());
//! assert_eq!(repr.to_string(), "Hello AS 100 seq 0 ack 0 [Parameters goodbye, SoftwareVersion 12.4 tlv 1.2]");
//!
//! // Emitting the repr gives the same bytes back.
//! let mut out = vec![0; repr.buffer_len()];
//! repr.emit(&mut Packet::new_unchecked(&mut out[..]));
//! assert_eq!(out, bytes);
//! # Ok::<(), dmvpn_eigrp::Error>(())
//! ```
#![forbid(unsafe_code)]

dmvpn_wire::codec_crate!(readme = include_str!("../README.md"));

pub mod auth;
pub mod consts;
pub mod header;
pub mod metric;
mod packet;
pub mod tlv;

pub use consts::{Afi, AuthType, OpCode, TlvType};
pub use dmvpn_wire::Error;
pub use header::{Flags, HEADER_LEN, Packet};
pub use packet::{Repr, RouteInfo, RouteMetric, Tlvs};
