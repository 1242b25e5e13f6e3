//! NHRP, the Next Hop Resolution Protocol (RFC 2332), as DMVPN routers speak it: a zero-copy
//! codec for every packet type (Resolution, Registration and Purge Requests and Replies, Error
//! Indication, Cisco's Traffic Indication), Client Information Entries and extensions (Responder
//! Address, Transit NHS Records, Authentication, Vendor-Private, Cisco NAT Address, End).
//!
//! In DMVPN, NHRP rides directly in GRE with protocol type 0x2001. The layers are, smoltcp-style:
//!
//! - [`Packet`]: a view over the bytes with getters and setters for every field of the fixed
//!   header (`header.rs`) and the mandatory part (`mandatory.rs`), and [`Packet::check_len`],
//!   which validates `ar$pktsz`, `ar$extoff` and the address lengths against the real length;
//! - [`Repr`]: the parsed packet, borrowing its addresses, CIE list and extensions (no
//!   allocation), with [`Repr::parse`], [`Repr::buffer_len`] and [`Repr::emit`];
//! - [`cie`] and [`extension`]: the views, reprs and list walkers for CIEs and extensions.
//! - [`RegistrationRequest`]: a spoke's Registration Request from its addresses, laid out as
//!   Cisco IOS lays it out (the example below spells out the same kind of packet field by field).
//!
//! ```
//! use dmvpn_nhrp::{self as nhrp, cie, extension, Control, Flags, Message, NbmaAddress, Packet, Repr};
//!
//! // A spoke registers tunnel address 10.0.0.2 at NBMA 172.16.25.2 with the hub 10.0.0.1.
//! let cies = [cie::Repr {
//!     prefix_len: 0xff,
//!     mtu: 1514,
//!     holding_time: 7200,
//!     ..cie::Repr::default()
//! }];
//! let extensions = [
//!     extension::Repr { compulsory: true, value: extension::Value::ResponderAddress(nhrp::CieList::EMPTY) },
//!     extension::Repr {
//!         compulsory: true,
//!         value: extension::Value::Authentication(extension::Authentication::cleartext(b"secret")),
//!     },
//!     extension::Repr::END,
//! ];
//! let repr = Repr {
//!     afn: nhrp::AddressFamily::IPV4,
//!     protocol_type: nhrp::ProtocolType::IPV4,
//!     protocol_snap: [0; 5],
//!     hop_count: 255,
//!     src_nbma: NbmaAddress::nsap(&[172, 16, 25, 2]),
//!     src_nbma_sub: NbmaAddress::NONE,
//!     src_proto: &[10, 0, 0, 2],
//!     dst_proto: &[10, 0, 0, 1],
//!     message: Message::RegistrationRequest(Control {
//!         flags: Flags::REGISTRATION_UNIQUE | Flags::CISCO_NAT,
//!         request_id: 7,
//!         cies: nhrp::CieList::new(&cies),
//!     }),
//!     extensions: Some(nhrp::ExtensionList::new(&extensions)),
//! };
//!
//! let mut bytes = vec![0; repr.buffer_len()];
//! repr.emit(&mut Packet::new_unchecked(&mut bytes[..]));
//!
//! let packet = Packet::new_checked(&bytes[..])?;
//! assert!(packet.verify_checksum());
//! let parsed = Repr::parse(&packet)?;
//! assert_eq!(parsed, repr);
//! assert_eq!(parsed.to_string(), "NHRP Registration Request, ID=7");
//! assert_eq!(parsed.extensions.unwrap().authentication().unwrap().password(), Some(&b"secret"[..]));
//! # Ok::<(), nhrp::Error>(())
//! ```
//!
//! # Printing a packet
//!
//! A decoder shows one line with `Repr`'s `Display` (the words of Wireshark's Info column) and
//! details from [`Repr::op_type`], [`Repr::src_nbma`] (with [`NbmaAddress::display`]),
//! [`Repr::src_proto`]/[`Repr::dst_proto`] (with [`Address`]), [`Repr::request_id`],
//! [`Repr::flags`] (with [`Flags::display`]), [`Repr::cies`] (each [`cie::Repr`] has `code`,
//! `holding_time`, `mtu`, `nbma`, `proto`) and [`Repr::extension_iter`] /
//! [`Repr::extension_types`].
//!
//! When [`Repr::parse`] fails, the [`Packet`] view still shows whatever [`Packet::check_len`]
//! accepted (a decoder can print the fixed header of a packet whose extensions are broken), and
//! [`Packet::cie_iter`] / [`Packet::extension_iter`] walk the lists up to the first error.
//!
//! # Where this differs from Wireshark 4.0
//!
//! Checked field by field against tshark on every NHRP capture we have (`tests/tshark.rs`):
//!
//! - Authentication: Wireshark's default (`nhrp.auth_ext_has_addr`) reads the RFC layout and
//!   shows the first 4 bytes of a Cisco password as an address; see [`extension::Authentication`].
//! - A CIE list that ends in fewer than 12 bytes is an error here; Wireshark ignores the tail.
//! - Wireshark does not skip a CIE's client NBMA subaddress before reading the protocol address,
//!   and does not advance past the SNAP PID of a long-form protocol type; both are read right here.
//!
//! # Robustness
//!
//! No input makes the parser panic or allocate. Lengths (`ar$pktsz`, `ar$extoff`, address lengths,
//! CIE and extension lengths) are checked against the bytes that are really there, and every error
//! names the field and its offset from the start of the NHRP packet. The checksum is verified by
//! [`Repr::parse`] except in builds with `cfg(fuzzing)`.
#![cfg_attr(not(test), no_std)]
#![forbid(unsafe_code)]

dmvpn_wire::codec_crate!(readme = include_str!("../README.md"));

extern crate alloc;

pub mod cie;
pub mod consts;
pub mod extension;
pub mod header;
pub mod lax;
pub mod mandatory;
pub mod message;
mod registration;

pub use cie::CieList;
pub use consts::{
    AddressFamily, AddressFormat, AuthType, CieCode, ErrorCode, ExtensionType, Flags, OpType,
    ProtocolType, TrafficCode,
};
pub use dmvpn_wire::Error;
pub use extension::ExtensionList;
pub use header::Packet;
pub use mandatory::{Address, NbmaAddress};
pub use message::{Control, ErrorIndication, Message, Repr, TrafficIndication};
pub use registration::RegistrationRequest;

/// The GRE protocol type that carries NHRP in DMVPN (`ETH_P_NHRP`).
pub const GRE_PROTOCOL: u16 = 0x2001;

/// The IP protocol number of NHRP run directly over IP (RFC 2332 §4, IANA 54).
pub const IP_PROTOCOL: u8 = dmvpn_wire::IpProtocol::NHRP.0;

/// Parses `bytes` (an NHRP packet, e.g. a GRE payload with protocol type 0x2001) in one step.
pub fn parse(bytes: &[u8]) -> Result<Repr<'_>, Error> {
    Repr::parse(&Packet::new_checked(bytes)?)
}
