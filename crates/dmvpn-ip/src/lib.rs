//! The layers below GRE and ESP: link layers (Ethernet with 802.1Q/802.1ad tags, Linux cooked
//! captures SLL and SLL2, BSD null/loopback, raw IP), IPv4 (RFC 791) with fragment reassembly
//! (RFC 815), a minimal IPv6 (RFC 8200), and UDP (RFC 768) with the NAT-T split of port 4500
//! (RFC 3948).
//!
//! Each codec is a zero-copy view over the bytes (`Packet<T>`), a borrowing `Repr` and `emit`,
//! as in the other `dmvpn-*` codec crates. Each step borrows from the one before, so a frame that
//! needs no reassembly is decoded without a copy or a heap allocation:
//!
//! ```
//! use dmvpn_ip::link::{self, EtherType, LinkType};
//! use dmvpn_ip::{ipv4, udp, Reassembler, Reassembly, Timestamp};
//! use core::net::Ipv4Addr;
//!
//! // An Ethernet frame carrying IPv4 / UDP 4500 -> 4500 / ESP (SPI 0x1234, sequence 1).
//! let esp = [0, 0, 0x12, 0x34, 0, 0, 0, 1, 0xaa, 0xbb];
//! let datagram = udp::Repr { src_port: 4500, dst_port: 4500, checksum: 0, payload: &esp };
//! let header = ipv4::Repr {
//!     dscp: 0,
//!     ecn: 0,
//!     ident: 7,
//!     dont_frag: false,
//!     more_frags: false,
//!     frag_offset: 0,
//!     ttl: 64,
//!     protocol: ipv4::Protocol::UDP,
//!     checksum: 0,
//!     src: Ipv4Addr::new(100, 1, 1, 2),
//!     dst: Ipv4Addr::new(100, 1, 1, 1),
//!     options: &[],
//!     payload_len: datagram.buffer_len(),
//! };
//! let mut frame = vec![0u8; 14 + header.buffer_len()];
//! frame[12..14].copy_from_slice(&EtherType::IPV4.0.to_be_bytes());
//! let mut ip = ipv4::Packet::new_unchecked(&mut frame[14..]);
//! header.emit(&mut ip);
//! datagram.emit(&mut udp::Packet::new_unchecked(ip.payload_mut()), header.src, header.dst);
//!
//! // Decoding it again, step by step.
//! let mut reassembler = Reassembler::default();
//! let link = link::decode(LinkType::ETHERNET, &frame)?;
//! assert_eq!(link.ethertype, EtherType::IPV4);
//! let ip = ipv4::Packet::new_checked(link.payload)?;
//! let header = ipv4::Repr::parse(&ip, ipv4::ChecksumMode::Verify)?;
//! let (Reassembly::Unfragmented(payload) | Reassembly::Complete { payload, .. }) =
//!     reassembler.push(Timestamp::new(1, 0), 1, &header, ip.payload())
//! else {
//!     return Ok(()); // a fragment kept for later, or dropped
//! };
//! assert_eq!(header.protocol, ipv4::Protocol::UDP);
//! let datagram = udp::Packet::new_checked(payload)?;
//! assert!(datagram.verify_checksum(header.src, header.dst));
//! let kind = udp::classify(datagram.src_port(), datagram.dst_port(), datagram.payload());
//! assert!(matches!(kind, udp::Payload::Esp(_)));
//! # Ok::<(), dmvpn_wire::Error>(())
//! ```
#![cfg_attr(not(test), no_std)]
#![forbid(unsafe_code)]

dmvpn_wire::codec_crate!(readme = include_str!("../README.md"));

extern crate alloc;

pub mod icmp;
pub mod ipv4;
pub mod ipv6;
pub mod link;
pub mod prefix;
mod reassembly;
pub mod tcp;
mod time;
pub mod udp;

pub use dmvpn_wire::IpProtocol;
pub use prefix::Prefix;
pub use reassembly::{
    DropReason, FragmentInfo, Reassembler, ReassemblerConfig, ReassemblerStats, Reassembly,
};
pub use time::Timestamp;
