//! Capture files down to the transport layer: pcap and pcapng frames, then the link layers, IPv4
//! with fragment reassembly, the minimal IPv6 and UDP with the NAT-T split of port 4500 of
//! `dmvpn-ip`, re-exported here.
//!
//! Each step borrows from the one before, so a frame that needs no reassembly is decoded without a
//! copy or a heap allocation:
//!
//! ```
//! use dmvpn::capture::{self, ipv4, udp, CaptureReader, Reassembler};
//!
//! # fn main() -> Result<(), Box<dyn std::error::Error>> {
//! # let file = capture::fuzzing::example_pcap();
//! let mut reader = CaptureReader::new(&file[..])?;
//! let mut reassembler = Reassembler::default();
//! while let Some(frame) = reader.next_frame()? {
//!     let link = capture::link::decode(frame.link_type, frame.data)?;
//!     if link.ethertype != capture::link::EtherType::IPV4 {
//!         continue;
//!     }
//!     let ip = ipv4::Packet::new_checked(link.payload)?;
//!     let header = ipv4::Repr::parse(&ip, ipv4::ChecksumMode::Verify)?;
//!     let capture::Reassembly::Complete { payload, .. } =
//!         reassembler.push(frame.timestamp, frame.number, &header, ip.payload())
//!     else {
//!         continue; // a fragment kept for later, or dropped
//!     };
//!     if header.protocol == ipv4::Protocol::UDP {
//!         let datagram = udp::Packet::new_checked(payload)?;
//!         let kind = udp::classify(datagram.src_port(), datagram.dst_port(), datagram.payload());
//!         assert!(matches!(kind, udp::Payload::Esp(_)));
//!     }
//! }
//! # Ok(())
//! # }
//! ```

mod file;
#[cfg(any(test, feature = "fuzzing"))]
#[doc(hidden)]
pub mod fuzzing;
pub mod set;

pub use dmvpn_ip::{ipv4, ipv6, link, udp};

pub use dmvpn_ip::{
    DropReason, FragmentInfo, Reassembler, ReassemblerConfig, ReassemblerStats, Reassembly,
    Timestamp,
};
pub use file::{
    CaptureError, CaptureReader, Format, Frame, Interface, LinkType, MAX_RECORD_LEN, Position,
    Secrets, SecretsType,
};
