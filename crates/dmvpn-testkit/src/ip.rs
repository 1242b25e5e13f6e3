//! The IP packet inside an Ethernet frame, for tests that pick one protocol out of a capture.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

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
/// for other link types, other EtherTypes and headers cut short.
#[must_use]
pub fn ip_payload(link: u32, frame: &[u8]) -> Option<IpPayload<'_>> {
    if link != 1 {
        return None;
    }
    let be16 = |b: &[u8], at: usize| -> Option<usize> {
        Some(usize::from(u16::from_be_bytes(
            b.get(at..at + 2)?.try_into().ok()?,
        )))
    };
    let mut at = 12;
    let mut ethertype = be16(frame, at)?;
    while matches!(ethertype, 0x8100 | 0x88a8 | 0x9100) {
        at += 4;
        ethertype = be16(frame, at)?;
    }
    let ip = frame.get(at + 2..)?;
    match ethertype {
        0x0800 => {
            let ihl = usize::from(ip.first()? & 0x0f) * 4;
            let total = be16(ip, 2)?.min(ip.len());
            let addr = |at: usize| -> Option<IpAddr> {
                let octets: [u8; 4] = ip.get(at..at + 4)?.try_into().ok()?;
                Some(Ipv4Addr::from(octets).into())
            };
            Some(IpPayload {
                protocol: *ip.get(9)?,
                src: addr(12)?,
                dst: addr(16)?,
                fragment_offset: u16::try_from(be16(ip, 6)? & 0x1fff).ok()?,
                more_fragments: be16(ip, 6)? & 0x2000 != 0,
                payload: ip.get(ihl..total)?,
            })
        }
        0x86dd => {
            let len = be16(ip, 4)?;
            let addr = |at: usize| -> Option<IpAddr> {
                let octets: [u8; 16] = ip.get(at..at + 16)?.try_into().ok()?;
                Some(Ipv6Addr::from(octets).into())
            };
            Some(IpPayload {
                protocol: *ip.get(6)?,
                src: addr(8)?,
                dst: addr(24)?,
                fragment_offset: 0,
                more_fragments: false,
                payload: ip.get(40..(40 + len).min(ip.len()))?,
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
