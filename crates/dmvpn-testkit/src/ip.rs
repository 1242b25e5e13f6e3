//! The IP packet inside an Ethernet frame, for tests that pick one protocol out of a capture.

use std::net::IpAddr;

use dmvpn_ip::link::{self, EtherType, LinkType};
use dmvpn_ip::{ipv4, ipv6};

/// What an IPv4 or IPv6 header says about its payload.
#[derive(Clone, Copy, Debug, Eq, PartialEq)]
pub struct IpPayload<'a> {
    /// The IP protocol (IPv4) or next header (IPv6, without walking extension headers).
    pub protocol: u8,
    /// The source address.
    pub src: IpAddr,
    /// The destination address.
    pub dst: IpAddr,
    /// The IPv4 fragment offset, in 8-byte units (0 for IPv6).
    pub fragment_offset: u16,
    /// The IPv4 More Fragments flag (false for IPv6).
    pub more_fragments: bool,
    /// The payload, bounded by the IP length and by what was captured.
    pub payload: &'a [u8],
}

impl IpPayload<'_> {
    /// Whether this is an IPv4 fragment (an offset, or More Fragments set).
    #[must_use]
    pub const fn is_fragment(&self) -> bool {
        self.fragment_offset != 0 || self.more_fragments
    }
}

/// The IP payload of an Ethernet frame (link type 1; 802.1Q, 802.1ad and 0x9100 tags skipped), or `None`
/// for other link types, other EtherTypes and headers cut short. The link layer and the IP
/// headers are read by `dmvpn-ip`.
#[must_use]
pub fn ip_payload(link: u32, frame: &[u8]) -> Option<IpPayload<'_>> {
    if link != 1 {
        return None;
    }
    let frame = link::decode(LinkType(link), frame).ok()?;
    match frame.ethertype {
        EtherType::IPV4 => {
            let ip = ipv4::Packet::new_truncated(frame.payload).ok()?;
            Some(IpPayload {
                protocol: ip.protocol().0,
                src: ip.src_addr().into(),
                dst: ip.dst_addr().into(),
                fragment_offset: ip.frag_offset() / 8,
                more_fragments: ip.more_frags(),
                payload: ip.payload(),
            })
        }
        EtherType::IPV6 => {
            let ip = ipv6::Repr::parse_truncated(frame.payload).ok()?;
            let end = (ipv6::HEADER_LEN + usize::from(ip.payload_len)).min(frame.payload.len());
            Some(IpPayload {
                protocol: ip.next_header.0,
                src: ip.src.into(),
                dst: ip.dst.into(),
                fragment_offset: 0,
                more_fragments: false,
                payload: frame.payload.get(ipv6::HEADER_LEN..end)?,
            })
        }
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[rustfmt::skip]
    const FRAME: [u8; 38] = [
        // Ethernet, one 802.1Q tag
        0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 0x81, 0x00, 0x00, 0x05, 0x08, 0x00,
        // IPv4: 20 bytes, total 20 + 2 (one byte of padding captured after), protocol 88
        0x45, 0, 0, 22, 0, 0, 0x20, 0, 64, 88, 0, 0, 10, 0, 0, 1, 10, 0, 0, 2,
    ];

    #[test]
    fn finds_the_ip_payload_through_a_tag() {
        let mut frame = FRAME.to_vec();
        frame.extend_from_slice(&[0xaa, 0xbb, 0xcc]);
        let ip = ip_payload(1, &frame).unwrap();
        assert_eq!(ip.protocol, 88);
        assert_eq!(ip.src, IpAddr::from([10, 0, 0, 1]));
        assert_eq!(ip.dst, IpAddr::from([10, 0, 0, 2]));
        assert_eq!((ip.fragment_offset, ip.more_fragments), (0, true));
        assert_eq!(ip.payload, [0xaa, 0xbb]);
        assert_eq!(ip_payload(113, &frame), None);
        for cut in 0..FRAME.len() {
            assert_eq!(ip_payload(1, &FRAME[..cut]), None, "cut {cut}");
        }
    }
}
