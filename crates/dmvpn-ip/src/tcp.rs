//! The one TCP operation a tunnel router does: lowering the MSS option of a SYN to what fits
//! the tunnel (IOS `ip tcp adjust-mss`), with the checksum fixed incrementally (RFC 1624).
//!
//! ```
//! use core::net::Ipv4Addr;
//! use dmvpn_ip::ipv4::{Packet, Protocol, Repr};
//! use dmvpn_ip::tcp;
//!
//! // A SYN from port 12345 to 80 with the options MSS 1460 and three NOPs; checksum left 0.
//! #[rustfmt::skip]
//! let syn = [
//!     0x30, 0x39, 0x00, 0x50, 0, 0, 0, 1, 0, 0, 0, 0, 0x70, 0x02, 0xff, 0xff, 0, 0, 0, 0,
//!     0x02, 0x04, 0x05, 0xb4, 0x01, 0x01, 0x01, 0x00,
//! ];
//! let (a, b) = (Ipv4Addr::new(10, 0, 0, 1), Ipv4Addr::new(10, 0, 0, 2));
//! let mut bytes = Repr::new(a, b, Protocol::TCP, 0).emit_vec(&syn);
//! assert!(tcp::clamp_mss(&mut Packet::new_unchecked(&mut bytes[..]), 1360));
//! assert_eq!(&bytes[20 + 22..20 + 24], &1360u16.to_be_bytes());
//! assert!(!tcp::clamp_mss(&mut Packet::new_unchecked(&mut bytes[..]), 1400), "never raised");
//! ```

use crate::ipv4::{Packet, Protocol};

/// The fixed TCP header length (RFC 9293 §3.1).
pub const HEADER_LEN: usize = 20;

/// Byte positions of the fields `clamp_mss` reads.
mod field {
    /// Data offset (4 bits, in 32-bit words) and reserved bits.
    pub(super) const DATA_OFFSET: usize = 12;
    /// Control bits (CWR ECE URG ACK PSH RST SYN FIN).
    pub(super) const FLAGS: usize = 13;
    /// Checksum.
    pub(super) const CHECKSUM: core::ops::Range<usize> = 16..18;
}

/// The SYN control bit.
const FLAG_SYN: u8 = 0x02;
/// Option kinds (RFC 9293 §3.1): End of Option List, No-Operation, Maximum Segment Size.
const OPTION_END: u8 = 0;
const OPTION_NOP: u8 = 1;
const OPTION_MSS: u8 = 2;
/// The length of the MSS option.
const MSS_LEN: usize = 4;

/// Lowers the MSS option of a TCP SYN in the IPv4 `packet` to `mss`, updating the TCP checksum
/// incrementally (RFC 1624 eqn. 3), so a checksum that was right stays right and one that was
/// wrong stays wrong. Returns whether it changed anything: not for anything but an unfragmented
/// TCP SYN whose options hold an MSS above `mss`, nor for a packet that fails
/// [`Packet::check_len`] or whose TCP options are malformed.
pub fn clamp_mss<T: AsRef<[u8]> + AsMut<[u8]>>(packet: &mut Packet<T>, mss: u16) -> bool {
    if packet.check_len().is_err()
        || packet.protocol() != Protocol::TCP
        || packet.more_frags()
        || packet.frag_offset() != 0
    {
        return false;
    }
    let segment = packet.payload_mut();
    let (Some(&offset), Some(&flags)) =
        (segment.get(field::DATA_OFFSET), segment.get(field::FLAGS))
    else {
        return false;
    };
    let data_offset = usize::from(offset >> 4) * 4;
    if flags & FLAG_SYN == 0 || data_offset <= HEADER_LEN || data_offset > segment.len() {
        return false;
    }
    let mut at = HEADER_LEN;
    while at < data_offset {
        match segment[at] {
            OPTION_END => return false,
            OPTION_NOP => at += 1,
            kind => {
                let len = usize::from(segment.get(at + 1).copied().unwrap_or(0));
                if len < 2 || at + len > data_offset {
                    return false;
                }
                if kind == OPTION_MSS && len == MSS_LEN {
                    let old = u16::from_be_bytes([segment[at + 2], segment[at + 3]]);
                    if old <= mss {
                        return false;
                    }
                    segment[at + 2..at + 4].copy_from_slice(&mss.to_be_bytes());
                    // The checksum sums 16-bit words from the segment's start: a value at an odd
                    // offset (after a single NOP, say) straddles two words, and its bytes count
                    // swapped. One's complement sums commute with byte swapping (RFC 1071 §2(B)).
                    let (old, new) = if at.is_multiple_of(2) {
                        (old, mss)
                    } else {
                        (old.swap_bytes(), mss.swap_bytes())
                    };
                    let sum = &mut segment[field::CHECKSUM];
                    let old_sum = u16::from_be_bytes([sum[0], sum[1]]);
                    // HC' = ~(~HC + ~m + m') (RFC 1624 eqn. 3).
                    let mut acc = u32::from(!old_sum) + u32::from(!old) + u32::from(new);
                    while acc > 0xffff {
                        acc = (acc & 0xffff) + (acc >> 16);
                    }
                    sum.copy_from_slice(&(!(acc as u16)).to_be_bytes());
                    return true;
                }
                at += len;
            }
        }
    }
    false
}

#[cfg(test)]
mod tests {
    use alloc::vec::Vec;
    use core::net::Ipv4Addr;

    use dmvpn_wire::checksum::Checksum;

    use super::*;
    use crate::ipv4::Repr;

    const A: Ipv4Addr = Ipv4Addr::new(10, 0, 0, 1);
    const B: Ipv4Addr = Ipv4Addr::new(10, 0, 0, 2);

    /// A SYN with MSS 1460 and three NOPs, from port 12345 to 80.
    #[rustfmt::skip]
    const SYN: [u8; 28] = [
        0x30, 0x39, 0x00, 0x50, 0, 0, 0, 1, 0, 0, 0, 0, 0x70, 0x02, 0xff, 0xff, 0, 0, 0, 0,
        0x02, 0x04, 0x05, 0xb4, 0x01, 0x01, 0x01, 0x00,
    ];

    /// The TCP checksum over the IPv4 pseudo-header: 0 for a segment whose checksum is right.
    fn tcp_sum(segment: &[u8]) -> u16 {
        let mut sum = Checksum::new();
        sum.add(&A.octets());
        sum.add(&B.octets());
        sum.add_u16(6);
        sum.add_u16(segment.len() as u16);
        sum.add(segment);
        sum.finish()
    }

    fn packet(segment: &[u8]) -> Vec<u8> {
        let mut segment = segment.to_vec();
        segment[16..18].fill(0);
        let sum = tcp_sum(&segment);
        segment[16..18].copy_from_slice(&sum.to_be_bytes());
        Repr::new(A, B, Protocol::TCP, 0).emit_vec(&segment)
    }

    fn clamp(bytes: &mut [u8], mss: u16) -> bool {
        clamp_mss(&mut Packet::new_unchecked(bytes), mss)
    }

    #[test]
    fn mss_clamp() {
        let mut bytes = packet(&SYN);
        assert!(clamp(&mut bytes, 1360));
        assert_eq!(&bytes[20 + 22..20 + 24], &1360u16.to_be_bytes());
        assert_eq!(tcp_sum(&bytes[20..]), 0, "checksum still verifies");
        assert!(!clamp(&mut bytes, 1400), "never raised");
        assert!(!clamp(&mut bytes, 1360), "already there");
        // Not a SYN: left alone.
        let mut ack = SYN;
        ack[13] = 0x10;
        let mut bytes = packet(&ack);
        assert!(!clamp(&mut bytes, 1000));
    }

    /// Clamping keeps the checksum right wherever the MSS option sits: first, as in [`SYN`], or
    /// after a single NOP, where its value sits at an odd offset, across two of the checksum's
    /// 16-bit words (found by the `ip_round_trip` fuzz target).
    #[test]
    fn mss_clamp_checksum_matches_a_full_recompute() {
        // The options (MSS then three NOPs; NOP, MSS, NOP, NOP) and where the MSS value starts.
        let layouts = [
            ([2, 4, 5, 0xb4, 1, 1, 1, 0], 22),
            ([1, 2, 4, 0, 0, 1, 1, 0], 23),
        ];
        for (options, at) in layouts {
            bolero::check!()
                .with_type::<(u16, u16, u32)>()
                .for_each(|&(old, new, seq)| {
                    let mut syn = SYN;
                    syn[20..28].copy_from_slice(&options);
                    syn[at..at + 2].copy_from_slice(&old.to_be_bytes());
                    syn[4..8].copy_from_slice(&seq.to_be_bytes());
                    let mut bytes = packet(&syn);
                    assert_eq!(clamp(&mut bytes, new), old > new);
                    assert_eq!(tcp_sum(&bytes[20..]), 0);
                    assert_eq!(&bytes[20 + at..22 + at], &old.min(new).to_be_bytes());
                });
        }
    }

    #[test]
    fn mss_clamp_leaves_other_packets_alone() {
        let mut cases: Vec<Vec<u8>> = Vec::new();
        // A fragment; UDP; options ending before the MSS; a bad option length; a data offset
        // past the segment; no options at all; a cut packet.
        let mut fragment = packet(&SYN);
        Packet::new_unchecked(&mut fragment[..]).set_flags_and_offset(false, true, 0);
        cases.push(fragment);
        let mut udp = packet(&SYN);
        Packet::new_unchecked(&mut udp[..]).set_protocol(Protocol::UDP);
        cases.push(udp);
        // An End option first, a bad option length, a data offset past the end, no options.
        for (at, value) in [(20, 0), (21, 1), (12, 0x80), (12, 0x50)] {
            let mut changed = SYN;
            changed[at] = value;
            cases.push(packet(&changed));
        }
        let mut cut = packet(&SYN);
        cut.truncate(40);
        cases.push(cut);
        for (n, mut bytes) in cases.into_iter().enumerate() {
            let before = bytes.clone();
            assert!(!clamp(&mut bytes, 536), "case {n}");
            assert_eq!(bytes, before, "case {n}");
        }
    }
}
