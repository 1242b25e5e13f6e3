//! GRE (RFC 2784, RFC 2890) zero-copy codec: view, repr, emit, checksum.
//!
//! DMVPN carries everything in GRE (IP protocol 47): NHRP with protocol type 0x2001, and the tunnelled
//! IPv4 or IPv6 packets, usually with a key that names the mGRE tunnel. [`Packet`] is a view over the
//! bytes with a getter and a setter per field; [`Repr`] is the validated header, which parses from and
//! emits into a `Packet`. Version 1 (enhanced GRE, the PPTP data channel of RFC 2637) has its own
//! [`enhanced::Repr`], and RFC 1701 source routes are readable through [`Packet::sres`].
//!
//! ```
//! use dmvpn_gre::{Packet, Protocol, Repr};
//!
//! // tcpdump various_gre.pcap frame 12: the reflected half of a Cisco GRE keepalive, with key 0x28.
//! let bytes = [0x20, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x28];
//! let packet = Packet::new_checked(&bytes[..])?;
//! let repr = Repr::parse(&packet)?;
//! assert_eq!(repr, Repr { protocol: Protocol::KEEPALIVE, checksum: false, key: Some(0x28), sequence: None });
//! assert!(packet.payload().is_empty());
//!
//! // Build NHRP-in-GRE with a checksum, a key and a sequence number.
//! let repr = Repr { protocol: Protocol::NHRP, checksum: true, key: Some(1000), sequence: Some(7) };
//! let nhrp = [0x00, 0x01, 0x08, 0x00];
//! let mut buffer = vec![0; repr.buffer_len() + nhrp.len()];
//! repr.emit(&mut Packet::new_unchecked(&mut buffer[..]), |payload| payload.copy_from_slice(&nhrp));
//! let packet = Packet::new_checked(&buffer[..])?;
//! assert!(packet.verify_checksum());
//! assert_eq!(Repr::parse(&packet)?, repr);
//! assert_eq!(packet.payload(), nhrp);
//!
//! // Malformed input is a typed error naming the field and its offset.
//! let err = Packet::new_checked(&buffer[..10]).unwrap_err();
//! assert_eq!(err.to_string(), "gre: truncated reading `key` at offset 8: need 4 bytes, have 2");
//! # Ok::<(), dmvpn_gre::Error>(())
//! ```
//!
//! `cfg(fuzzing)` (set by cargo-fuzz) makes [`Packet::verify_checksum`] always succeed and changes nothing else.
#![cfg_attr(not(test), no_std)]
#![forbid(unsafe_code)]

dmvpn_wire::codec_crate!(readme = include_str!("../README.md"));

extern crate alloc;

pub mod enhanced;
pub mod packet;
mod repr;
#[cfg(test)]
mod vectors;

pub use dmvpn_wire::Error;
pub use packet::{Packet, Sre, Sres};
pub use repr::{Repr, sequence_after};

/// Parses a version 0 GRE packet (all DMVPN sends): the header, and the payload after it.
///
/// Shorthand for [`Packet::new_checked`], [`Repr::parse`] and [`Packet::payload`]. For version 1, use
/// [`enhanced::Repr`]; [`Packet::version`] tells which.
///
/// ```
/// // tcpdump various_gre.pcap frame 12: a keepalive reply, key 0x28, no payload.
/// let (repr, payload) = dmvpn_gre::parse(&[0x20, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x28])?;
/// assert_eq!((repr.protocol, repr.key, payload.len()), (dmvpn_gre::Protocol::KEEPALIVE, Some(0x28), 0));
/// # Ok::<(), dmvpn_gre::Error>(())
/// ```
pub fn parse(bytes: &[u8]) -> Result<(Repr, &[u8]), Error> {
    let packet = Packet::new_checked(bytes)?;
    Ok((Repr::parse(&packet)?, packet.payload()))
}

/// The IP protocol number of GRE.
pub const IP_PROTOCOL: u8 = dmvpn_wire::IpProtocol::GRE.0;

/// The UDP port of GRE-in-UDP (RFC 8086 §3).
pub const UDP_PORT: u16 = 4754;

dmvpn_wire::registry! {
    /// The protocol type of the GRE payload (RFC 2784 §2.4): an EtherType, plus the values RFC 1701
    /// listed before there was one.
    pub struct Protocol(u16) {
        /// Not an EtherType: Cisco's GRE keepalive reply is a GRE header with protocol type 0 that the
        /// sender tunnels to itself through the peer (tcpdump various_gre.pcap frames 11 and 12).
        KEEPALIVE = 0x0000 => "Keepalive",
        /// SNA (RFC 1701).
        SNA = 0x0004 => "SNA",
        /// OSI network layer (RFC 1701); Cisco sends CLNS and IS-IS over GRE with it.
        OSI = 0x00fe => "OSI",
        /// PUP (RFC 1701).
        PUP = 0x0200 => "PUP",
        /// XNS (RFC 1701).
        XNS = 0x0600 => "XNS",
        /// IPv4 (RFC 2784 §2.4); also the outer half of a Cisco keepalive.
        IPV4 = 0x0800 => "IPv4",
        /// Chaos (RFC 1701).
        CHAOS = 0x0804 => "Chaos",
        /// ARP (RFC 826).
        ARP = 0x0806 => "ARP",
        /// Frame Relay ARP (RFC 1701).
        FRAME_RELAY_ARP = 0x0808 => "FrameRelayARP",
        /// Banyan VINES (RFC 1701).
        VINES = 0x0bad => "VINES",
        /// Cisco Discovery Protocol, sent over point-to-point GRE tunnels (tcpdump various_gre.pcap frame 49).
        CDP = 0x2000 => "CDP",
        /// NHRP (RFC 2332 over GRE, as DMVPN and FRR nhrpd send it).
        NHRP = 0x2001 => "NHRP",
        /// ERSPAN type III.
        ERSPAN_III = 0x22eb => "ERSPANTypeIII",
        /// DECnet Phase IV (RFC 1701).
        DECNET = 0x6003 => "DECnet",
        /// Transparent Ethernet Bridging: an Ethernet frame (RFC 1701; NVGRE, RFC 7637).
        TRANSPARENT_ETHERNET_BRIDGING = 0x6558 => "TransparentEthernetBridging",
        /// Raw Frame Relay (RFC 1701).
        RAW_FRAME_RELAY = 0x6559 => "RawFrameRelay",
        /// Apollo Domain (RFC 1701).
        APOLLO_DOMAIN = 0x8019 => "ApolloDomain",
        /// AppleTalk (RFC 1701 "Ethertalk").
        APPLETALK = 0x809b => "AppleTalk",
        /// IEEE 802.1Q VLAN-tagged frame.
        VLAN = 0x8100 => "VLAN",
        /// Novell IPX (RFC 1701).
        IPX = 0x8137 => "IPX",
        /// IPv6 (RFC 7676).
        IPV6 = 0x86dd => "IPv6",
        /// RFC 1144 TCP/IP compression (RFC 1701).
        TCP_IP_COMPRESSION = 0x876b => "TCPIPCompression",
        /// PPP: the payload of enhanced GRE (RFC 2637 §4.1).
        PPP = 0x880b => "PPP",
        /// WCCP redirect (Cisco; draft-wilson-wrec-wccp-v2 §4.12).
        WCCP = 0x883e => "WCCP",
        /// MPLS unicast (RFC 4023 §4).
        MPLS = 0x8847 => "MPLS",
        /// MPLS multicast (RFC 4023 §4).
        MPLS_MULTICAST = 0x8848 => "MPLSMulticast",
        /// IEEE 802.1ad provider bridging (Q-in-Q).
        QINQ = 0x88a8 => "QinQ",
        /// ERSPAN types I and II.
        ERSPAN = 0x88be => "ERSPAN",
        /// 3GPP2 (CDMA2000 A10/A11).
        THREE_GPP2 = 0x88d2 => "3GPP2",
        /// Cisco MetaData (SGT tag) in front of the payload (tcpdump various_gre.pcap frame 25).
        CISCO_METADATA = 0x8909 => "CiscoMetaData",
        /// Network Service Header (RFC 8300).
        NSH = 0x894f => "NSH",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parse_splits_header_and_payload() {
        let (repr, payload) = parse(vectors::SCAPY_CHECKSUM_KEY_SEQUENCE).unwrap();
        assert_eq!(
            (repr.protocol, repr.key, repr.sequence),
            (Protocol::NHRP, Some(1000), Some(7))
        );
        assert_eq!(payload, &vectors::SCAPY_CHECKSUM_KEY_SEQUENCE[16..]);
        assert_eq!(
            parse(&vectors::PPTP_FRAME_1).unwrap_err().field(),
            Some("version")
        );
        assert_eq!(
            parse(&[0x20]).unwrap_err().field(),
            Some("flags and version")
        );
    }

    #[test]
    fn protocol_registry() {
        assert_eq!(format!("{:?}", Protocol::NHRP), "NHRP (8193)");
        assert_eq!(format!("{}", Protocol(0x1234)), "0x1234");
        assert_eq!(
            Protocol::from(0x6558),
            Protocol::TRANSPARENT_ETHERNET_BRIDGING
        );
        assert_eq!(Protocol::ERSPAN_III.name(), Some("ERSPANTypeIII"));
        // Registry order is wire order, and every value is distinct.
        assert!(Protocol::KNOWN.windows(2).all(|pair| pair[0] < pair[1]));
    }
}
