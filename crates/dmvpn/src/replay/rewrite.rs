//! Frames as they go on the wire: Ethernet framing for captures of other link types, IPv4 address
//! rewriting, and the checksums that depend on the addresses.
//!
//! A rewrite changes the IPv4 source and destination of the outermost IPv4 header (after any
//! 802.1Q/802.1ad tags), then:
//! - recomputes the IPv4 header checksum (RFC 791 §3.1);
//! - fixes the UDP and TCP checksums, whose pseudo-header holds the addresses (RFC 768, RFC 9293
//!   §3.1): recomputed over the whole segment when the packet is unfragmented and captured in full,
//!   adjusted incrementally (RFC 1624 §3) in a first fragment or a truncated capture, where only the
//!   address change is known; a UDP checksum of zero ("none", RFC 768) stays zero;
//! - in ICMP errors (destination unreachable, time exceeded, parameter problem, redirect, source
//!   quench) rewrites the quoted IPv4 header's addresses too, with its header checksum, and
//!   recomputes the ICMP checksum (RFC 792); other ICMP messages do not cover the addresses.
//!
//! Not rewritten: anything inside GRE (tunnel addresses and the NBMA addresses NHRP carries),
//! encrypted ESP payloads (which cannot change without the keys; the outer header is not covered by
//! the ESP ICV, RFC 4303 §3.3.4, so rewritten ESP still verifies), and IKE payloads — NAT-D hashes
//! the addresses (RFC 3947 §3.2), so a peer sees rewritten IKE as coming through NAT.

use std::fmt;
use std::net::Ipv4Addr;
use std::str::FromStr;

use dmvpn_wire::checksum::{self, Checksum};

use crate::capture::LinkType;
use crate::capture::ipv4;
use crate::capture::link::{self, EtherType};

/// IPv4 address replacements (`OLD=NEW`), applied to source and destination.
#[derive(Clone, Debug, Default, Eq, PartialEq)]
pub struct AddressMap {
    pairs: Vec<(Ipv4Addr, Ipv4Addr)>,
}

/// An `OLD=NEW` rewrite that does not parse.
#[derive(Clone, Debug, Eq, PartialEq, thiserror::Error)]
#[error("invalid rewrite `{0}`: expected OLD=NEW with two IPv4 addresses")]
pub struct RewriteParseError(pub String);

impl FromStr for AddressMap {
    type Err = RewriteParseError;

    /// One `OLD=NEW` pair.
    fn from_str(text: &str) -> Result<Self, Self::Err> {
        let mut map = Self::default();
        map.add_str(text)?;
        Ok(map)
    }
}

impl AddressMap {
    /// An empty map.
    #[must_use]
    pub fn new() -> Self {
        Self::default()
    }

    /// Maps `old` to `new` (a later mapping of the same `old` replaces the earlier one).
    pub fn add(&mut self, old: Ipv4Addr, new: Ipv4Addr) {
        self.pairs.retain(|(o, _)| *o != old);
        self.pairs.push((old, new));
    }

    /// Adds an `OLD=NEW` pair.
    ///
    /// # Errors
    ///
    /// Text that is not two IPv4 addresses around `=`.
    pub fn add_str(&mut self, text: &str) -> Result<(), RewriteParseError> {
        let error = || RewriteParseError(text.to_owned());
        let (old, new) = text.split_once('=').ok_or_else(error)?;
        let old = old.trim().parse().map_err(|_| error())?;
        let new = new.trim().parse().map_err(|_| error())?;
        self.add(old, new);
        Ok(())
    }

    /// Whether the map is empty.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.pairs.is_empty()
    }

    /// What `addr` becomes.
    #[must_use]
    pub fn get(&self, addr: Ipv4Addr) -> Option<Ipv4Addr> {
        self.pairs
            .iter()
            .find(|(old, _)| *old == addr)
            .map(|(_, new)| *new)
    }
}

/// A MAC address for the Ethernet header of replayed frames.
#[derive(Clone, Copy, Debug, Eq, PartialEq)]
pub struct Mac(pub [u8; 6]);

impl Mac {
    /// ff:ff:ff:ff:ff:ff.
    pub const BROADCAST: Self = Self([0xff; 6]);
    /// 02:00:00:00:00:01, a locally administered address.
    pub const LOCAL: Self = Self([0x02, 0, 0, 0, 0, 0x01]);
}

impl fmt::Display for Mac {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let [a, b, c, d, e, g] = self.0;
        write!(f, "{a:02x}:{b:02x}:{c:02x}:{d:02x}:{e:02x}:{g:02x}")
    }
}

impl FromStr for Mac {
    type Err = RewriteParseError;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        let mut mac = [0; 6];
        let mut parts = text.split([':', '-']);
        for byte in &mut mac {
            *byte = parts
                .next()
                .filter(|p| p.len() == 2)
                .and_then(|p| u8::from_str_radix(p, 16).ok())
                .ok_or_else(|| RewriteParseError(text.to_owned()))?;
        }
        if parts.next().is_some() {
            return Err(RewriteParseError(text.to_owned()));
        }
        Ok(Self(mac))
    }
}

/// How replayed frames get their Ethernet addresses.
#[derive(Clone, Copy, Debug, Default, Eq, PartialEq)]
pub struct EthernetAddrs {
    /// Source MAC: replaces the captured one when set; frames of other link types get
    /// [`Mac::LOCAL`] otherwise.
    pub src: Option<Mac>,
    /// Destination MAC: replaces the captured one when set; frames of other link types get
    /// [`Mac::BROADCAST`] otherwise.
    pub dst: Option<Mac>,
}

/// The Ethernet frame to send for a captured frame: Ethernet frames as captured; raw IP, Linux
/// cooked and loopback frames with their link header replaced by an Ethernet one (the ethertype
/// the header named). `None` for a frame whose link header does not decode, or whose payload is
/// not IPv4, IPv6 or ARP when a new header must be made.
#[must_use]
pub fn to_ethernet(link_type: LinkType, data: &[u8], addrs: EthernetAddrs) -> Option<Vec<u8>> {
    if link_type == LinkType::ETHERNET {
        if data.len() < 14 {
            return None;
        }
        let mut frame = data.to_vec();
        if let Some(dst) = addrs.dst {
            frame[..6].copy_from_slice(&dst.0);
        }
        if let Some(src) = addrs.src {
            frame[6..12].copy_from_slice(&src.0);
        }
        return Some(frame);
    }
    let decoded = link::decode(link_type, data).ok()?;
    if !matches!(
        decoded.ethertype,
        EtherType::IPV4 | EtherType::IPV6 | EtherType::ARP
    ) {
        return None;
    }
    let mut frame = Vec::with_capacity(14 + decoded.payload.len());
    frame.extend_from_slice(&addrs.dst.unwrap_or(Mac::BROADCAST).0);
    frame.extend_from_slice(&addrs.src.unwrap_or(Mac::LOCAL).0);
    frame.extend_from_slice(&decoded.ethertype.0.to_be_bytes());
    frame.extend_from_slice(decoded.payload);
    Some(frame)
}

/// What a rewrite did to one frame.
#[derive(Clone, Copy, Debug, Default, Eq, PartialEq)]
pub struct Rewritten {
    /// Whether an address changed.
    pub changed: bool,
    /// Whether a transport checksum was recomputed over the whole segment.
    pub l4_recomputed: bool,
    /// Whether a transport checksum was adjusted incrementally (first fragment or truncated).
    pub l4_adjusted: bool,
}

const IPPROTO_ICMP: u8 = dmvpn_ip::IpProtocol::ICMP.0;
const IPPROTO_TCP: u8 = dmvpn_ip::IpProtocol::TCP.0;
const IPPROTO_UDP: u8 = dmvpn_ip::IpProtocol::UDP.0;

/// Rewrites the outermost IPv4 header of an Ethernet frame (see the module documentation).
/// Frames without IPv4, or whose addresses are not in `map`, are left alone.
pub fn rewrite_frame(frame: &mut [u8], map: &AddressMap) -> Rewritten {
    if map.is_empty() {
        return Rewritten::default();
    }
    let Ok(decoded) = link::decode(LinkType::ETHERNET, frame) else {
        return Rewritten::default();
    };
    if decoded.ethertype != EtherType::IPV4 {
        return Rewritten::default();
    }
    let offset = frame.len() - decoded.payload.len();
    frame
        .get_mut(offset..)
        .map_or_else(Rewritten::default, |packet| rewrite_ipv4(packet, map))
}

/// Rewrites an IPv4 packet in place (see the module documentation).
pub fn rewrite_ipv4(packet: &mut [u8], map: &AddressMap) -> Rewritten {
    let mut done = Rewritten::default();
    let Some((old_src, old_dst, new_src, new_dst)) = rewrite_ipv4_header(packet, map) else {
        return done;
    };
    done.changed = true;
    let ip = ipv4::Packet::new_unchecked(&*packet);
    let (header_len, total_len) = (ip.header_len(), usize::from(ip.total_len()));
    let more_fragments = ip.more_frags();
    if ip.frag_offset() != 0 {
        // Later fragments carry no transport header.
        return done;
    }
    let protocol = ip.protocol().0;
    let whole = !more_fragments && total_len <= packet.len() && total_len >= header_len;
    let end = if whole { total_len } else { packet.len() };
    let Some(segment) = packet.get_mut(header_len..end) else {
        return done;
    };
    let pseudo = |segment_len: usize| {
        let mut sum = Checksum::new();
        sum.add(&new_src.octets());
        sum.add(&new_dst.octets());
        sum.add_u16(u16::from(protocol));
        sum.add_u16(segment_len as u16);
        sum
    };
    let field = match protocol {
        IPPROTO_UDP => 6,
        IPPROTO_TCP => 16,
        IPPROTO_ICMP => {
            if whole && rewrite_icmp_quote(segment, map) {
                segment[2..4].fill(0);
                let sum = checksum::compute(segment);
                segment[2..4].copy_from_slice(&sum.to_be_bytes());
                done.l4_recomputed = true;
            }
            return done;
        }
        _ => return done,
    };
    let Some(current) = segment.get(field..field + 2) else {
        return done;
    };
    let current = u16::from_be_bytes([current[0], current[1]]);
    if protocol == IPPROTO_UDP && current == 0 {
        return done;
    }
    let new = if whole {
        segment[field..field + 2].fill(0);
        let mut sum = pseudo(segment.len());
        sum.add(segment);
        done.l4_recomputed = true;
        sum.finish()
    } else {
        done.l4_adjusted = true;
        adjust(
            current,
            &[old_src.octets(), old_dst.octets()].concat(),
            &[new_src.octets(), new_dst.octets()].concat(),
        )
    };
    // RFC 768: a computed UDP checksum of zero is sent as all ones.
    let new = if protocol == IPPROTO_UDP && new == 0 {
        0xffff
    } else {
        new
    };
    segment[field..field + 2].copy_from_slice(&new.to_be_bytes());
    done
}

/// Maps the addresses of the IPv4 header at the start of `packet` (whose payload may be cut
/// short) and recomputes its checksum: the old and new source and destination, or `None` if
/// there is no valid header or neither address is mapped.
fn rewrite_ipv4_header(
    packet: &mut [u8],
    map: &AddressMap,
) -> Option<(Ipv4Addr, Ipv4Addr, Ipv4Addr, Ipv4Addr)> {
    let mut ip = ipv4::Packet::new_truncated(packet).ok()?;
    let (old_src, old_dst) = (ip.src_addr(), ip.dst_addr());
    let new_src = map.get(old_src).unwrap_or(old_src);
    let new_dst = map.get(old_dst).unwrap_or(old_dst);
    if (new_src, new_dst) == (old_src, old_dst) {
        return None;
    }
    ip.set_src_addr(new_src);
    ip.set_dst_addr(new_dst);
    ip.fill_checksum();
    Some((old_src, old_dst, new_src, new_dst))
}

/// RFC 1624 eqn. 3: HC' = ~(~HC + ~m + m') over the changed 16-bit words.
fn adjust(checksum: u16, old: &[u8], new: &[u8]) -> u16 {
    let mut sum = Checksum::new();
    sum.add_u16(!checksum);
    for (old, new) in old.chunks(2).zip(new.chunks(2)) {
        let word = |w: &[u8]| u16::from_be_bytes([w[0], w.get(1).copied().unwrap_or(0)]);
        sum.add_u16(!word(old));
        sum.add_u16(word(new));
    }
    sum.finish()
}

/// In an ICMP error (RFC 792: types 3, 4, 5, 11, 12) rewrites the quoted IPv4 header's addresses
/// and fixes its checksum. Whether anything changed.
fn rewrite_icmp_quote(icmp: &mut [u8], map: &AddressMap) -> bool {
    if !matches!(icmp.first(), Some(3 | 4 | 5 | 11 | 12)) {
        return false;
    }
    icmp.get_mut(8..)
        .and_then(|quote| rewrite_ipv4_header(quote, map))
        .is_some()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Recomputes the checksum of an IPv4 header (exactly the header's bytes).
    fn fix_ipv4_header(header: &mut [u8]) {
        ipv4::Packet::new_unchecked(header).fill_checksum();
    }

    fn map(pairs: &[&str]) -> AddressMap {
        let mut map = AddressMap::new();
        for pair in pairs {
            map.add_str(pair).unwrap();
        }
        map
    }

    /// IPv4 + UDP (IKE, port 500) with correct checksums, 192.0.2.11 -> 192.0.2.1.
    #[rustfmt::skip]
    fn udp_packet() -> Vec<u8> {
        let mut p = vec![
            0x45, 0x00, 0x00, 0x20, 0x12, 0x34, 0x00, 0x00, 0x40, 0x11, 0x00, 0x00,
            192, 0, 2, 11, 192, 0, 2, 1,
            0x01, 0xf4, 0x01, 0xf4, 0x00, 0x0c, 0x00, 0x00, 0xde, 0xad, 0xbe, 0xef,
        ];
        fix_ipv4_header(&mut p[..20]);
        let sum = udp_checksum(&p);
        p[26..28].copy_from_slice(&sum.to_be_bytes());
        p
    }

    fn udp_checksum(p: &[u8]) -> u16 {
        let mut sum = Checksum::new();
        sum.add(&p[12..20]);
        sum.add_u16(17);
        sum.add_u16((p.len() - 20) as u16);
        let mut segment = p[20..].to_vec();
        segment[6..8].fill(0);
        sum.add(&segment);
        sum.finish()
    }

    fn valid(p: &[u8]) -> bool {
        checksum::verify(&p[..20]) && {
            let mut sum = Checksum::new();
            sum.add(&p[12..20]);
            sum.add_u16(u16::from(p[9]));
            sum.add_u16((p.len() - 20) as u16);
            sum.add(&p[20..]);
            sum.finish() == 0
        }
    }

    #[test]
    fn parses_rewrites_and_macs() {
        let m = map(&["192.0.2.1=198.18.0.1", " 192.0.2.11 = 198.18.0.11 "]);
        assert_eq!(
            m.get("192.0.2.1".parse().unwrap()),
            Some("198.18.0.1".parse().unwrap())
        );
        assert_eq!(m.get("192.0.2.2".parse().unwrap()), None);
        for bad in ["192.0.2.1", "192.0.2.1=", "a=b", "192.0.2.1=2001:db8::1"] {
            assert_eq!(
                bad.parse::<AddressMap>().unwrap_err().to_string(),
                format!("invalid rewrite `{bad}`: expected OLD=NEW with two IPv4 addresses")
            );
        }
        let mac: Mac = "02:00:5e:10:00:0a".parse().unwrap();
        assert_eq!(mac.to_string(), "02:00:5e:10:00:0a");
        assert_eq!("02-00-5e-10-00-0a".parse::<Mac>().unwrap(), mac);
        for bad in [
            "02:00:5e:10:00",
            "02:00:5e:10:00:0a:01",
            "2:0:5e:10:0:a",
            "zz:00:5e:10:00:0a",
        ] {
            assert!(bad.parse::<Mac>().is_err(), "{bad}");
        }
    }

    #[test]
    fn udp_addresses_and_checksums() {
        let original = udp_packet();
        assert!(valid(&original));
        let mut p = original.clone();
        let done = rewrite_ipv4(
            &mut p,
            &map(&["192.0.2.1=198.18.0.1", "192.0.2.11=10.1.2.3"]),
        );
        assert_eq!(
            done,
            Rewritten {
                changed: true,
                l4_recomputed: true,
                l4_adjusted: false
            }
        );
        assert_eq!(&p[12..20], &[10, 1, 2, 3, 198, 18, 0, 1]);
        assert!(valid(&p));
        // Everything else is unchanged.
        assert_eq!(p[..10], original[..10]);
        assert_eq!(p[20..26], original[20..26]);
        assert_eq!(p[28..], original[28..]);
        // Back again gives the original bytes.
        rewrite_ipv4(
            &mut p,
            &map(&["198.18.0.1=192.0.2.1", "10.1.2.3=192.0.2.11"]),
        );
        assert_eq!(p, original);
    }

    #[test]
    fn unmapped_packets_are_untouched() {
        let mut p = udp_packet();
        assert_eq!(
            rewrite_ipv4(&mut p, &map(&["203.0.113.1=198.18.0.1"])),
            Rewritten::default()
        );
        assert_eq!(p, udp_packet());
        assert_eq!(
            rewrite_ipv4(&mut p, &AddressMap::new()),
            Rewritten::default()
        );
        // Not IPv4, too short, bad IHL: nothing happens and nothing panics.
        for mut junk in [vec![0x60; 40], vec![0x45; 10], vec![0x41; 40], vec![]] {
            let copy = junk.clone();
            assert!(!rewrite_ipv4(&mut junk, &map(&["96.96.96.96=1.1.1.1"])).changed);
            assert_eq!(junk, copy);
        }
    }

    #[test]
    fn udp_without_checksum_stays_without() {
        let mut p = udp_packet();
        p[26..28].fill(0);
        rewrite_ipv4(&mut p, &map(&["192.0.2.1=198.18.0.1"]));
        assert_eq!(&p[26..28], &[0, 0]);
        assert!(checksum::verify(&p[..20]));
    }

    /// A first fragment (MF set) cannot be summed whole: the checksum is adjusted by the address
    /// change alone, which gives the same value a full recomputation over the datagram would.
    #[test]
    fn first_fragment_is_adjusted_incrementally() {
        let whole = udp_packet();
        let mut expected = whole.clone();
        let m = map(&["192.0.2.11=198.51.100.7"]);
        rewrite_ipv4(&mut expected, &m);
        let mut fragment = whole.clone();
        fragment[6] = 0x20; // MF
        fix_ipv4_header(&mut fragment[..20]);
        let done = rewrite_ipv4(&mut fragment, &m);
        assert_eq!(
            done,
            Rewritten {
                changed: true,
                l4_recomputed: false,
                l4_adjusted: true
            }
        );
        assert_eq!(fragment[26..28], expected[26..28]);
        assert!(checksum::verify(&fragment[..20]));
        // A later fragment: header only.
        let mut later = whole;
        later[7] = 0x02; // offset 16 bytes
        fix_ipv4_header(&mut later[..20]);
        let payload = later[20..].to_vec();
        assert!(rewrite_ipv4(&mut later, &m).changed);
        assert_eq!(later[20..], payload[..]);
        assert!(checksum::verify(&later[..20]));
    }

    #[test]
    fn tcp_checksum_is_recomputed() {
        #[rustfmt::skip]
        let mut p = vec![
            0x45, 0, 0, 40, 0, 1, 0x40, 0, 64, 6, 0, 0, 192, 168, 11, 10, 192, 168, 1, 20,
            0x9c, 0x40, 0x01, 0xbb, 0, 0, 0, 1, 0, 0, 0, 0, 0x50, 0x02, 0xff, 0xff, 0, 0, 0, 0,
        ];
        fix_ipv4_header(&mut p[..20]);
        let done = rewrite_ipv4(&mut p, &map(&["192.168.1.20=10.0.0.20"]));
        assert!(done.changed && done.l4_recomputed);
        assert!(valid(&p));
    }

    #[test]
    fn icmp_error_quote_is_rewritten() {
        // Port unreachable from 192.0.2.1 quoting the UDP packet 192.0.2.11 -> 192.0.2.1.
        let quoted = udp_packet();
        let mut p = vec![
            0x45, 0, 0, 0, 0, 2, 0, 0, 64, 1, 0, 0, 192, 0, 2, 1, 192, 0, 2, 11,
        ];
        p.extend_from_slice(&[3, 3, 0, 0, 0, 0, 0, 0]);
        p.extend_from_slice(&quoted[..28]);
        let len = p.len() as u16;
        p[2..4].copy_from_slice(&len.to_be_bytes());
        fix_ipv4_header(&mut p[..20]);
        let sum = checksum::compute(&p[20..]);
        p[22..24].copy_from_slice(&sum.to_be_bytes());
        let done = rewrite_ipv4(&mut p, &map(&["192.0.2.11=198.51.100.11"]));
        assert!(done.changed && done.l4_recomputed);
        assert_eq!(&p[16..20], &[198, 51, 100, 11]);
        assert_eq!(&p[28 + 12..28 + 16], &[198, 51, 100, 11], "quoted source");
        assert!(checksum::verify(&p[..20]));
        assert!(checksum::verify(&p[28..48]), "quoted header checksum");
        assert!(checksum::verify(&p[20..]), "ICMP checksum");
        // An echo request's checksum does not cover the addresses: left as it was.
        let mut echo = vec![
            0x45, 0, 0, 28, 0, 3, 0, 0, 64, 1, 0, 0, 192, 0, 2, 11, 192, 0, 2, 1, 8, 0, 0xf7, 0xff,
            0, 0, 0, 0,
        ];
        fix_ipv4_header(&mut echo[..20]);
        let icmp = echo[20..].to_vec();
        rewrite_ipv4(&mut echo, &map(&["192.0.2.11=198.51.100.11"]));
        assert_eq!(echo[20..], icmp[..]);
    }

    #[test]
    fn rfc1624_adjustment_matches_recomputation() {
        bolero::check!()
            .with_type::<([u8; 8], [u8; 4], [u8; 4])>()
            .for_each(|(payload, a, b)| {
                let mut sum = Checksum::new();
                sum.add(a);
                sum.add(payload);
                let before = sum.finish();
                let mut sum = Checksum::new();
                sum.add(b);
                sum.add(payload);
                let after = sum.finish();
                let adjusted = adjust(before, a, b);
                // Ones' complement has two zeros: 0x0000 and 0xffff name the same sum.
                assert!(
                    adjusted == after
                        || (adjusted ^ after) == 0xffff && (after == 0 || after == 0xffff)
                );
            });
    }

    #[test]
    fn ethernet_framing() {
        let packet = udp_packet();
        let raw = to_ethernet(LinkType::RAW, &packet, EthernetAddrs::default()).unwrap();
        assert_eq!(&raw[..6], &Mac::BROADCAST.0);
        assert_eq!(&raw[6..12], &Mac::LOCAL.0);
        assert_eq!(&raw[12..14], &[0x08, 0x00]);
        assert_eq!(&raw[14..], &packet[..]);
        // Linux cooked v1: 16-byte header, protocol at 14.
        let mut sll = vec![0, 0, 0, 1, 0, 6, 1, 2, 3, 4, 5, 6, 0, 0, 0x08, 0x00];
        sll.extend_from_slice(&packet);
        let addrs = EthernetAddrs {
            src: Some(Mac([2, 0, 0, 0, 0, 9])),
            dst: Some(Mac([2, 0, 0, 0, 0, 8])),
        };
        let eth = to_ethernet(LinkType::LINUX_SLL, &sll, addrs).unwrap();
        assert_eq!(&eth[..12], &[2, 0, 0, 0, 0, 8, 2, 0, 0, 0, 0, 9]);
        assert_eq!(&eth[14..], &packet[..]);
        // Ethernet keeps its header unless told otherwise.
        let again = to_ethernet(LinkType::ETHERNET, &raw, EthernetAddrs::default()).unwrap();
        assert_eq!(again, raw);
        let moved = to_ethernet(LinkType::ETHERNET, &raw, addrs).unwrap();
        assert_eq!(&moved[..12], &eth[..12]);
        assert_eq!(to_ethernet(LinkType::ETHERNET, &raw[..10], addrs), None);
        assert_eq!(to_ethernet(LinkType(147), &packet, addrs), None);
        // rewrite_frame finds the IPv4 header behind a VLAN tag.
        let mut tagged = raw[..12].to_vec();
        tagged.extend_from_slice(&[0x81, 0x00, 0x00, 0x64, 0x08, 0x00]);
        tagged.extend_from_slice(&packet);
        assert!(rewrite_frame(&mut tagged, &map(&["192.0.2.1=198.18.0.1"])).changed);
        assert!(valid(&tagged[18..]));
    }
}
