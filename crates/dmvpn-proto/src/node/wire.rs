//! The few header operations the node does itself: the inner IPv4 header (RFC 791), GRE
//! (RFC 2784, key from RFC 2890) and UDP for IKE (RFC 768).
//!
//! `dmvpn-gre` is not a dependency of this crate (and an IPv4 codec is in no crate of the
//! workspace), so these are written here, reading only what the node needs and never panicking.

use alloc::vec::Vec;
use core::net::Ipv4Addr;

use dmvpn_wire::checksum;

/// IP protocol number of EIGRP.
pub(crate) const EIGRP: u8 = 88;
/// IP protocol number of TCP.
const TCP: u8 = 6;
/// GRE protocol type of IPv4.
pub(crate) const ETHERTYPE_IPV4: u16 = 0x0800;

/// What the node reads of an IPv4 header.
#[derive(Clone, Copy, Debug, Eq, PartialEq)]
pub(crate) struct Ipv4 {
    pub(crate) src: Ipv4Addr,
    pub(crate) dst: Ipv4Addr,
    pub(crate) protocol: u8,
    pub(crate) ttl: u8,
    pub(crate) header_len: usize,
    pub(crate) total_len: usize,
}

impl Ipv4 {
    /// Parses the header at the start of `packet`: version 4, a header length of 20 to 60 bytes,
    /// a total length that fits in `packet`, and a valid header checksum.
    pub(crate) fn parse(packet: &[u8]) -> Option<Self> {
        let first = *packet.first()?;
        let header_len = usize::from(first & 0x0f) * 4;
        if first >> 4 != 4 || header_len < 20 {
            return None;
        }
        let header = packet.get(..header_len)?;
        let total_len = usize::from(u16::from_be_bytes([*header.get(2)?, *header.get(3)?]));
        if total_len < header_len || total_len > packet.len() || !checksum::verify(header) {
            return None;
        }
        Some(Self {
            src: addr(header.get(12..16)?),
            dst: addr(header.get(16..20)?),
            protocol: *header.get(9)?,
            ttl: *header.get(8)?,
            header_len,
            total_len,
        })
    }

    /// Whether the packet is a fragment (MF set or a fragment offset).
    pub(crate) fn is_fragment(packet: &[u8]) -> bool {
        packet
            .get(6..8)
            .is_some_and(|f| u16::from_be_bytes([f[0], f[1]]) & 0x3fff != 0)
    }
}

fn addr(bytes: &[u8]) -> Ipv4Addr {
    <[u8; 4]>::try_from(bytes).map_or(Ipv4Addr::UNSPECIFIED, Ipv4Addr::from)
}

/// Appends a 20-byte IPv4 header (no options, DF clear, ID `id`) for `payload_len` bytes.
pub(crate) fn emit_ipv4(
    out: &mut Vec<u8>,
    src: Ipv4Addr,
    dst: Ipv4Addr,
    protocol: u8,
    ttl: u8,
    id: u16,
    payload_len: usize,
) {
    let total = u16::try_from(payload_len + 20).unwrap_or(u16::MAX);
    let start = out.len();
    out.extend_from_slice(&[0x45, 0xc0]);
    out.extend_from_slice(&total.to_be_bytes());
    out.extend_from_slice(&id.to_be_bytes());
    out.extend_from_slice(&[0, 0, ttl, protocol, 0, 0]);
    out.extend_from_slice(&src.octets());
    out.extend_from_slice(&dst.octets());
    let sum = out.get(start..).map_or(0, checksum::compute);
    if let Some(slot) = out.get_mut(start + 10..start + 12) {
        slot.copy_from_slice(&sum.to_be_bytes());
    }
}

/// Whether the packet has the Don't Fragment flag.
pub(crate) fn dont_fragment(packet: &[u8]) -> bool {
    packet.get(6).is_some_and(|flags| flags & 0x40 != 0)
}

/// Splits an IPv4 packet (parsed as `ip`) into fragments of at most `mtu` bytes (RFC 791 §3.2):
/// each carries a multiple of 8 payload bytes but the last, the More Fragments flag on all but
/// the last (and on the last too if the packet was itself a non-final fragment), offsets counted
/// from the packet's own, and a fresh header checksum. The first fragment keeps every option;
/// the others only those with the copy flag. `None` if `mtu` leaves no room for 8 payload bytes.
pub(crate) fn fragment(packet: &[u8], ip: &Ipv4, mtu: usize) -> Option<Vec<Vec<u8>>> {
    let header = packet.get(..ip.header_len)?;
    let payload = packet.get(ip.header_len..ip.total_len)?;
    let copied = copied_options(header.get(20..)?);
    let flags = u16::from_be_bytes([*packet.get(6)?, *packet.get(7)?]);
    let (more_after, base) = (flags & 0x2000 != 0, flags & 0x1fff);
    let mut fragments = Vec::new();
    let mut at = 0;
    while at < payload.len() {
        let options = if at == 0 {
            header.get(20..)?
        } else {
            &copied[..]
        };
        let room = mtu.checked_sub(20 + options.len())? & !7;
        if room == 0 {
            return None;
        }
        let chunk = payload.get(at..payload.len().min(at + room))?;
        let last = at + chunk.len() == payload.len();
        let offset = base + u16::try_from(at / 8).ok()?;
        let mut out = Vec::with_capacity(20 + options.len() + chunk.len());
        out.extend_from_slice(header.get(..20)?);
        out.extend_from_slice(options);
        out.extend_from_slice(chunk);
        let total = u16::try_from(out.len()).ok()?;
        out[0] = 0x40 | ((20 + options.len()) / 4) as u8;
        out[2..4].copy_from_slice(&total.to_be_bytes());
        let more = if last { more_after } else { true };
        let flags = (flags & 0x4000) | if more { 0x2000 } else { 0 } | offset;
        out[6..8].copy_from_slice(&flags.to_be_bytes());
        out[10..12].copy_from_slice(&[0, 0]);
        let sum = out.get(..20 + options.len()).map_or(0, checksum::compute);
        out[10..12].copy_from_slice(&sum.to_be_bytes());
        fragments.push(out);
        at += chunk.len();
    }
    Some(fragments)
}

/// The options of a header that go into every fragment (copy flag set), padded to 32 bits.
fn copied_options(mut options: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    while let Some(&kind) = options.first() {
        let len = match kind {
            0 => break,
            1 => 1,
            _ => usize::from(options.get(1).copied().unwrap_or(0)).max(2),
        };
        let Some(option) = options.get(..len) else {
            break;
        };
        if kind & 0x80 != 0 {
            out.extend_from_slice(option);
        }
        options = options.get(len..).unwrap_or_default();
    }
    while out.len() % 4 != 0 {
        out.push(0);
    }
    out
}

/// The ICMP Destination Unreachable, Fragmentation Needed and DF Set (type 3, code 4, RFC 1191
/// next-hop MTU) for `packet` (parsed as `ip`), from `src`: `None` where RFC 1122 §3.2.2 forbids
/// an ICMP error (about an ICMP error, a non-first fragment, a multicast or broadcast packet).
pub(crate) fn frag_needed(
    src: Ipv4Addr,
    packet: &[u8],
    ip: &Ipv4,
    mtu: u16,
    id: u16,
) -> Option<Vec<u8>> {
    let offset = u16::from_be_bytes([*packet.get(6)?, *packet.get(7)?]) & 0x1fff;
    let icmp_error = ip.protocol == 1
        && packet
            .get(ip.header_len)
            .is_some_and(|t| matches!(t, 3 | 4 | 5 | 11 | 12));
    let unicast = |a: Ipv4Addr| !a.is_multicast() && !a.is_broadcast() && !a.is_unspecified();
    if offset != 0 || icmp_error || !unicast(ip.dst) || !unicast(ip.src) {
        return None;
    }
    let quoted = packet.get(..(ip.header_len + 8).min(ip.total_len))?;
    let mut icmp = Vec::with_capacity(8 + quoted.len());
    icmp.extend_from_slice(&[3, 4, 0, 0, 0, 0]);
    icmp.extend_from_slice(&mtu.to_be_bytes());
    icmp.extend_from_slice(quoted);
    let sum = checksum::compute(&icmp);
    icmp[2..4].copy_from_slice(&sum.to_be_bytes());
    let mut out = Vec::with_capacity(20 + icmp.len());
    emit_ipv4(&mut out, src, ip.src, 1, 255, id, icmp.len());
    out.extend_from_slice(&icmp);
    Some(out)
}

/// Decrements the TTL of the packet in place and fixes the header checksum incrementally
/// (RFC 1624). Returns `false`, leaving the packet alone, if the TTL is 0 or 1.
pub(crate) fn decrement_ttl(packet: &mut [u8]) -> bool {
    let Some(&ttl) = packet.get(8) else {
        return false;
    };
    if ttl <= 1 {
        return false;
    }
    let Some(sum) = packet.get(10..12).map(|s| u16::from_be_bytes([s[0], s[1]])) else {
        return false;
    };
    // The TTL is the high byte of its word: the word drops by 0x0100, so HC' = HC + 0x0100
    // in one's complement (RFC 1624 eqn. 3).
    let sum = u32::from(sum) + 0x0100;
    let sum = ((sum & 0xffff) + (sum >> 16)) as u16;
    packet[8] = ttl - 1;
    packet[10..12].copy_from_slice(&sum.to_be_bytes());
    true
}

/// Lowers the MSS option of a TCP SYN in `packet` (an IPv4 packet parsed as `ip`) to `mss`,
/// fixing the TCP checksum incrementally. Returns whether it changed anything.
pub(crate) fn clamp_mss(packet: &mut [u8], ip: &Ipv4, mss: u16) -> bool {
    if ip.protocol != TCP || Ipv4::is_fragment(packet) {
        return false;
    }
    let Some(tcp) = packet.get_mut(ip.header_len..ip.total_len) else {
        return false;
    };
    let (Some(&offset), Some(&flags)) = (tcp.get(12), tcp.get(13)) else {
        return false;
    };
    let data_offset = usize::from(offset >> 4) * 4;
    if flags & 0x02 == 0 || data_offset <= 20 || data_offset > tcp.len() {
        return false;
    }
    let mut at = 20;
    while at < data_offset {
        match tcp.get(at).copied() {
            None | Some(0) => return false,
            Some(1) => at += 1,
            Some(kind) => {
                let len = usize::from(tcp.get(at + 1).copied().unwrap_or(0));
                if len < 2 || at + len > data_offset {
                    return false;
                }
                if kind == 2 && len == 4 {
                    let old = u16::from_be_bytes([tcp[at + 2], tcp[at + 3]]);
                    if old <= mss {
                        return false;
                    }
                    tcp[at + 2..at + 4].copy_from_slice(&mss.to_be_bytes());
                    let sum = u16::from_be_bytes([tcp[16], tcp[17]]);
                    // HC' = ~(~HC + ~m + m') (RFC 1624 eqn. 3).
                    let mut acc = u32::from(!sum) + u32::from(!old) + u32::from(mss);
                    while acc > 0xffff {
                        acc = (acc & 0xffff) + (acc >> 16);
                    }
                    tcp[16..18].copy_from_slice(&(!(acc as u16)).to_be_bytes());
                    return true;
                }
                at += len;
            }
        }
    }
    false
}

/// A GRE header as DMVPN uses it: version 0, optional checksum, key and sequence number.
#[derive(Clone, Copy, Debug, Eq, PartialEq)]
pub(crate) struct Gre {
    pub(crate) protocol: u16,
    pub(crate) key: Option<u32>,
    pub(crate) header_len: usize,
}

impl Gre {
    const C: u16 = 0x8000;
    const R: u16 = 0x4000;
    const K: u16 = 0x2000;
    const S: u16 = 0x1000;
    const VERSION: u16 = 0x0007;

    /// Parses the header: version 0 and no routing (RFC 2784 §2.3 obsoletes it); checks the
    /// checksum when present.
    pub(crate) fn parse(packet: &[u8]) -> Option<Self> {
        let flags = u16::from_be_bytes([*packet.first()?, *packet.get(1)?]);
        let protocol = u16::from_be_bytes([*packet.get(2)?, *packet.get(3)?]);
        if flags & (Self::VERSION | Self::R) != 0 {
            return None;
        }
        let mut at = 4;
        if flags & Self::C != 0 {
            if !checksum::verify(packet) {
                return None;
            }
            at += 4;
        }
        let key = if flags & Self::K != 0 {
            let k = packet.get(at..at + 4)?;
            at += 4;
            Some(u32::from_be_bytes([k[0], k[1], k[2], k[3]]))
        } else {
            None
        };
        if flags & Self::S != 0 {
            at += 4;
        }
        (at <= packet.len()).then_some(Self {
            protocol,
            key,
            header_len: at,
        })
    }

    /// The header length with `key`.
    pub(crate) const fn len(key: Option<u32>) -> usize {
        if key.is_some() { 8 } else { 4 }
    }

    /// Appends the header: the K bit and key if `key` is set, nothing else.
    pub(crate) fn emit(out: &mut Vec<u8>, protocol: u16, key: Option<u32>) {
        let flags = if key.is_some() { Self::K } else { 0 };
        out.extend_from_slice(&flags.to_be_bytes());
        out.extend_from_slice(&protocol.to_be_bytes());
        if let Some(key) = key {
            out.extend_from_slice(&key.to_be_bytes());
        }
    }
}

/// A UDP datagram's ports and payload (RFC 768), length checked.
pub(crate) fn parse_udp(datagram: &[u8]) -> Option<(u16, u16, &[u8])> {
    let src = u16::from_be_bytes([*datagram.first()?, *datagram.get(1)?]);
    let dst = u16::from_be_bytes([*datagram.get(2)?, *datagram.get(3)?]);
    let len = usize::from(u16::from_be_bytes([*datagram.get(4)?, *datagram.get(5)?]));
    let payload = datagram.get(8..len)?;
    Some((src, dst, payload))
}

// Used by the IKE integration (datagrams to port 500); tested below already.
#[allow(dead_code)]
/// A UDP datagram from `src:sport` to `dst:dport` carrying `payload`, with its checksum over the
/// IPv4 pseudo-header.
pub(crate) fn udp(src: Ipv4Addr, dst: Ipv4Addr, sport: u16, dport: u16, payload: &[u8]) -> Vec<u8> {
    let len = u16::try_from(payload.len() + 8).unwrap_or(u16::MAX);
    let mut out = Vec::with_capacity(usize::from(len));
    out.extend_from_slice(&sport.to_be_bytes());
    out.extend_from_slice(&dport.to_be_bytes());
    out.extend_from_slice(&len.to_be_bytes());
    out.extend_from_slice(&[0, 0]);
    out.extend_from_slice(payload);
    let mut sum = checksum::Checksum::new();
    sum.add(&src.octets());
    sum.add(&dst.octets());
    sum.add_u16(17);
    sum.add_u16(len);
    sum.add(&out);
    let sum = match sum.finish() {
        0 => 0xffff,
        s => s,
    };
    if let Some(slot) = out.get_mut(6..8) {
        slot.copy_from_slice(&sum.to_be_bytes());
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    const SRC: Ipv4Addr = Ipv4Addr::new(172, 16, 1, 2);
    const DST: Ipv4Addr = Ipv4Addr::new(224, 0, 0, 10);

    /// A packet of `len` payload bytes (a counting pattern), DF as asked, from 10.0.1.10 to
    /// 10.0.2.20 over UDP.
    fn big(len: usize, df: bool) -> Vec<u8> {
        let mut packet = Vec::new();
        let src = Ipv4Addr::new(10, 0, 1, 10);
        emit_ipv4(
            &mut packet,
            src,
            Ipv4Addr::new(10, 0, 2, 20),
            17,
            64,
            9,
            len,
        );
        if df {
            packet[6] = 0x40;
            packet[10..12].copy_from_slice(&[0, 0]);
            let sum = checksum::compute(&packet[..20]);
            packet[10..12].copy_from_slice(&sum.to_be_bytes());
        }
        packet.extend((0..len).map(|i| i as u8));
        packet
    }

    /// Reassembles fragments (in order) into the payload, checking each header.
    fn reassemble(fragments: &[Vec<u8>], mtu: usize) -> Vec<u8> {
        let mut payload = Vec::new();
        for (n, fragment) in fragments.iter().enumerate() {
            let ip = Ipv4::parse(fragment).expect("a valid header");
            assert!(fragment.len() <= mtu && ip.total_len == fragment.len());
            let flags = u16::from_be_bytes([fragment[6], fragment[7]]);
            assert_eq!(usize::from(flags & 0x1fff) * 8, payload.len(), "offset");
            assert_eq!(flags & 0x2000 != 0, n + 1 < fragments.len(), "MF");
            payload.extend_from_slice(&fragment[ip.header_len..]);
        }
        payload
    }

    #[test]
    fn fragments_reassemble_to_the_packet() {
        bolero::check!()
            .with_type::<(u16, u16)>()
            .for_each(|&(len, mtu)| {
                let (len, mtu) = (usize::from(len % 3000), 28 + usize::from(mtu % 1500));
                let packet = big(len, false);
                let ip = Ipv4::parse(&packet).unwrap();
                let fragments = fragment(&packet, &ip, mtu).unwrap();
                assert_eq!(reassemble(&fragments, mtu), &packet[20..]);
            });
        // The seed's numbers: 1500 bytes through `ip mtu 1400` make 1396 + 124 bytes.
        let packet = big(1480, false);
        let fragments = fragment(&packet, &Ipv4::parse(&packet).unwrap(), 1400).unwrap();
        let lens: Vec<usize> = fragments.iter().map(Vec::len).collect();
        assert_eq!(lens, [1396, 124]);
        // Too small an MTU for 8 payload bytes.
        assert_eq!(fragment(&packet, &Ipv4::parse(&packet).unwrap(), 27), None);
    }

    #[test]
    fn fragmenting_a_fragment_keeps_its_offset_and_more_flag() {
        let mut packet = big(1000, false);
        packet[6..8].copy_from_slice(&(0x2000u16 | 100).to_be_bytes());
        packet[10..12].copy_from_slice(&[0, 0]);
        let sum = checksum::compute(&packet[..20]);
        packet[10..12].copy_from_slice(&sum.to_be_bytes());
        let fragments = fragment(&packet, &Ipv4::parse(&packet).unwrap(), 520).unwrap();
        let flags: Vec<u16> = fragments
            .iter()
            .map(|f| u16::from_be_bytes([f[6], f[7]]))
            .collect();
        // 496 + 496 + 8 bytes; the last keeps MF, the packet itself was not the last.
        assert_eq!(flags, [0x2000 | 100, 0x2000 | 162, 0x2000 | 224]);
    }

    #[test]
    fn only_copied_options_follow_the_first_fragment() {
        // Record Route (7, not copied) and a copied option (0x94 Router Alert, RFC 2113).
        let options = [7, 7, 4, 0, 0, 0, 0, 0x94, 4, 0, 0, 0];
        let mut packet = big(100, false);
        packet.splice(20..20, options);
        packet[0] = 0x45 + 3;
        let total = (packet.len() as u16).to_be_bytes();
        packet[2..4].copy_from_slice(&total);
        packet[10..12].copy_from_slice(&[0, 0]);
        let sum = checksum::compute(&packet[..32]);
        packet[10..12].copy_from_slice(&sum.to_be_bytes());
        let ip = Ipv4::parse(&packet).unwrap();
        let fragments = fragment(&packet, &ip, 32 + 56).unwrap();
        assert_eq!(&fragments[0][20..32], &options);
        assert_eq!(fragments[1][0], 0x46);
        assert_eq!(&fragments[1][20..24], &[0x94, 4, 0, 0]);
        let mut payload = Vec::new();
        for f in &fragments {
            let ip = Ipv4::parse(f).unwrap();
            payload.extend_from_slice(&f[ip.header_len..]);
        }
        assert_eq!(payload, &packet[32..]);
    }

    #[test]
    fn frag_needed_quotes_the_packet_and_names_the_mtu() {
        let packet = big(1480, true);
        assert!(dont_fragment(&packet));
        let ip = Ipv4::parse(&packet).unwrap();
        let own = Ipv4Addr::new(172, 16, 1, 2);
        let icmp = frag_needed(own, &packet, &ip, 1400, 5).unwrap();
        let reply = Ipv4::parse(&icmp).unwrap();
        assert_eq!((reply.src, reply.dst, reply.protocol), (own, ip.src, 1));
        let body = &icmp[20..];
        assert_eq!(&body[..2], &[3, 4]);
        assert!(checksum::verify(body));
        assert_eq!(&body[6..8], &1400u16.to_be_bytes());
        assert_eq!(&body[8..], &packet[..28]);
        // Never about an ICMP error, a later fragment, or a multicast packet (RFC 1122).
        let mut error = big(1480, true);
        error[9] = 1;
        error[20] = 3;
        error[10..12].copy_from_slice(&[0, 0]);
        let sum = checksum::compute(&error[..20]);
        error[10..12].copy_from_slice(&sum.to_be_bytes());
        assert_eq!(
            frag_needed(own, &error, &Ipv4::parse(&error).unwrap(), 1400, 5),
            None
        );
        let mut later = big(1480, true);
        later[7] = 10;
        later[10..12].copy_from_slice(&[0, 0]);
        let sum = checksum::compute(&later[..20]);
        later[10..12].copy_from_slice(&sum.to_be_bytes());
        assert_eq!(
            frag_needed(own, &later, &Ipv4::parse(&later).unwrap(), 1400, 5),
            None
        );
    }

    #[test]
    fn ipv4_emit_parse_and_ttl() {
        let mut packet = Vec::new();
        emit_ipv4(&mut packet, SRC, DST, EIGRP, 2, 7, 4);
        packet.extend_from_slice(&[1, 2, 3, 4]);
        let ip = Ipv4::parse(&packet).unwrap();
        assert_eq!(
            ip,
            Ipv4 {
                src: SRC,
                dst: DST,
                protocol: EIGRP,
                ttl: 2,
                header_len: 20,
                total_len: 24
            }
        );
        assert!(decrement_ttl(&mut packet));
        assert_eq!(Ipv4::parse(&packet).map(|ip| ip.ttl), Some(1));
        assert!(!decrement_ttl(&mut packet));
        // Every prefix too short, a bad checksum, a bad version.
        for len in 0..24 {
            assert_eq!(Ipv4::parse(&packet[..len]), None, "{len}");
        }
        packet[10] ^= 1;
        assert_eq!(Ipv4::parse(&packet), None);
        packet[10] ^= 1;
        packet[0] = 0x65;
        assert_eq!(Ipv4::parse(&packet), None);
    }

    #[test]
    fn ttl_decrement_checksum_matches_a_full_recompute() {
        for ttl in [2u8, 64, 128, 255] {
            for id in [0u16, 0xffff, 0x1234] {
                let mut packet = Vec::new();
                emit_ipv4(&mut packet, SRC, Ipv4Addr::new(10, 0, 0, 1), 1, ttl, id, 0);
                assert!(decrement_ttl(&mut packet));
                assert!(checksum::verify(&packet), "ttl {ttl} id {id}");
            }
        }
    }

    #[test]
    fn gre_round_trip_and_checks() {
        for key in [None, Some(100)] {
            let mut packet = Vec::new();
            Gre::emit(&mut packet, 0x2001, key);
            assert_eq!(packet.len(), Gre::len(key));
            let gre = Gre::parse(&packet).unwrap();
            assert_eq!(
                (gre.protocol, gre.key, gre.header_len),
                (0x2001, key, packet.len())
            );
            for len in 0..packet.len() {
                assert_eq!(Gre::parse(&packet[..len]), None);
            }
        }
        // Version 1 (PPTP) and the routing bit are refused; checksum and sequence skipped.
        assert_eq!(Gre::parse(&[0x00, 0x01, 0x08, 0x00]), None);
        assert_eq!(Gre::parse(&[0x40, 0x00, 0x08, 0x00]), None);
        let seq = [0x10, 0x00, 0x08, 0x00, 0, 0, 0, 9];
        assert_eq!(Gre::parse(&seq).map(|g| g.header_len), Some(8));
        let mut with_sum = alloc::vec![0x80, 0x00, 0x08, 0x00, 0, 0, 0, 0, 0x45];
        let sum = checksum::compute(&with_sum);
        with_sum[4..6].copy_from_slice(&sum.to_be_bytes());
        assert_eq!(Gre::parse(&with_sum).map(|g| g.header_len), Some(8));
        with_sum[8] = 0x46;
        assert_eq!(Gre::parse(&with_sum), None);
    }

    #[test]
    fn udp_round_trip_with_checksum() {
        let (a, b) = (Ipv4Addr::new(100, 1, 1, 2), Ipv4Addr::new(100, 1, 1, 1));
        let datagram = udp(a, b, 500, 500, b"isakmp");
        assert_eq!(parse_udp(&datagram), Some((500, 500, &b"isakmp"[..])));
        let mut sum = checksum::Checksum::new();
        sum.add(&a.octets());
        sum.add(&b.octets());
        sum.add_u16(17);
        sum.add_u16(datagram.len() as u16);
        sum.add(&datagram);
        assert_eq!(sum.finish(), 0);
        assert_eq!(parse_udp(&datagram[..13]), None);
    }

    #[test]
    fn mss_clamp() {
        // A SYN with MSS 1460 and a NOP, from 10.0.0.1 to 10.0.0.2.
        let tcp: [u8; 28] = [
            0x30, 0x39, 0x00, 0x50, 0, 0, 0, 1, 0, 0, 0, 0, 0x70, 0x02, 0xff, 0xff, 0, 0, 0, 0,
            0x02, 0x04, 0x05, 0xb4, 0x01, 0x01, 0x01, 0x00,
        ];
        let (a, b) = (Ipv4Addr::new(10, 0, 0, 1), Ipv4Addr::new(10, 0, 0, 2));
        let tcp_sum = |segment: &[u8]| {
            let mut sum = checksum::Checksum::new();
            sum.add(&a.octets());
            sum.add(&b.octets());
            sum.add_u16(6);
            sum.add_u16(segment.len() as u16);
            sum.add(segment);
            sum.finish()
        };
        let mut segment = tcp;
        let sum = tcp_sum(&segment);
        segment[16..18].copy_from_slice(&sum.to_be_bytes());
        let mut packet = Vec::new();
        emit_ipv4(&mut packet, a, b, TCP, 64, 1, segment.len());
        packet.extend_from_slice(&segment);
        let ip = Ipv4::parse(&packet).unwrap();
        assert!(clamp_mss(&mut packet, &ip, 1360));
        assert_eq!(&packet[20 + 22..20 + 24], &1360u16.to_be_bytes());
        assert_eq!(tcp_sum(&packet[20..]), 0, "checksum still verifies");
        assert!(!clamp_mss(&mut packet, &ip, 1400), "never raised");
        // Not a SYN: left alone.
        packet[20 + 13] = 0x10;
        assert!(!clamp_mss(&mut packet, &ip, 1000));
    }
}
