//! Entry points for the fuzz targets in `fuzz/fuzz_targets/ip_*.rs` and for this crate's property
//! tests.
//!
//! Compiled with the `fuzzing` feature (hidden from the docs, not API), which the fuzz workspace
//! and the tests turn on. Each function panics only when it finds a bug: a panic in a parser, a
//! header that does not survive emit then parse, fragments that do not reassemble to their
//! datagram, or a reassembler over its limits.

// A failed expectation here is a bug the fuzzer should report, like a failed assertion.
#![allow(clippy::expect_used, clippy::unwrap_used)]

use alloc::string::ToString;
use alloc::vec;
use core::net::Ipv4Addr;
use core::time::Duration;

use dmvpn_wire::checksum;

use crate::ipv4::{self, ChecksumMode};
use crate::link::{self, LinkType};
use crate::{
    IpProtocol, Reassembler, ReassemblerConfig, Reassembly, Timestamp, icmp, ipv6, tcp, udp,
};

/// Limits small enough that fuzzers hit them.
pub const FUZZ_LIMITS: ReassemblerConfig = ReassemblerConfig {
    timeout: Duration::from_secs(30),
    max_datagram_len: 65_535,
    max_buffered_bytes: 256 << 10,
    max_datagrams: 16,
    max_fragments: 64,
};

/// The link types the first byte of a [`parse`] input picks from, after IPv4, IPv6 and UDP.
/// Every link type [`link::decode`] reads, and one it does not (147, a user DLT).
const LINK_TYPES: [u32; 19] = [
    0, 1, 101, 108, 113, 228, 229, 276, 9, 12, 14, 50, 51, 104, 107, 109, 117, 239, 147,
];

/// Parses `data` (after a selector byte) as IPv4, IPv6, UDP or a link-layer frame; whatever
/// parses must emit back to the same header.
pub fn parse(data: &[u8]) {
    let Some((selector, data)) = data.split_first() else {
        return;
    };
    match usize::from(*selector) % (3 + LINK_TYPES.len()) {
        0 => parse_ipv4(data),
        1 => parse_ipv6(data),
        2 => parse_udp(data),
        n => {
            let link_type = LinkType(LINK_TYPES[n - 3]);
            match link::decode(link_type, data) {
                Ok(frame) => {
                    // The payload starts at `header_len`; an 802.3 length or an NFLOG TLV may
                    // end it before the frame does.
                    let at = data
                        .get(frame.header_len..)
                        .expect("header within the frame");
                    assert!(at.starts_with(frame.payload));
                    assert!(
                        frame.payload.is_empty()
                            || core::ptr::eq(at.as_ptr(), frame.payload.as_ptr())
                    );
                    let _ = alloc::format!("{:?}", frame.header);
                }
                Err(err) => {
                    let _ = err.to_string();
                }
            }
        }
    }
}

fn parse_ipv4(data: &[u8]) {
    if let Ok(packet) = ipv4::Packet::new_truncated(data) {
        let _ = (packet.payload(), packet.options(), packet.is_truncated());
    }
    let packet = match ipv4::Packet::new_checked(data) {
        Ok(packet) => packet,
        Err(err) => {
            let _ = err.to_string();
            return;
        }
    };
    let _ = (packet.verify_checksum(), packet.trailer());
    let repr = ipv4::Repr::parse(&packet, ChecksumMode::Ignore).expect("a checked packet parses");
    assert_eq!(repr.header_len(), packet.header_len());
    let mut out = vec![0; repr.buffer_len()];
    let mut emitted = ipv4::Packet::new_unchecked(&mut out[..]);
    repr.emit(&mut emitted);
    emitted.payload_mut().copy_from_slice(packet.payload());
    let again = ipv4::Packet::new_checked(&out[..]).expect("emitted");
    assert!(again.verify_checksum() || cfg!(fuzzing));
    let reparsed = ipv4::Repr::parse(&again, ChecksumMode::Ignore).expect("emitted");
    assert_eq!(
        reparsed,
        ipv4::Repr {
            checksum: reparsed.checksum,
            ..repr
        }
    );
    assert_eq!(again.payload(), packet.payload());
    operations(&out);
}

fn parse_ipv6(data: &[u8]) {
    if let Ok(repr) = ipv6::Repr::parse_truncated(data) {
        let _ = repr.is_truncated();
    }
    let repr = match ipv6::Repr::parse(data) {
        Ok(repr) => repr,
        Err(err) => {
            let _ = err.to_string();
            return;
        }
    };
    let mut out = vec![0; repr.buffer_len()];
    repr.emit(&mut out);
    assert_eq!(ipv6::Repr::parse(&out), Ok(repr));
}

fn parse_udp(data: &[u8]) {
    let (src, dst) = (Ipv4Addr::new(192, 0, 2, 1), Ipv4Addr::new(192, 0, 2, 2));
    if let Ok(packet) = udp::Packet::new_truncated(data) {
        let _ = (packet.payload(), packet.is_truncated());
    }
    let packet = match udp::Packet::new_checked(data) {
        Ok(packet) => packet,
        Err(err) => {
            let _ = err.to_string();
            return;
        }
    };
    let _ = packet.verify_checksum(src, dst);
    let _ = packet.verify_checksum_v6(src.to_ipv6_mapped(), dst.to_ipv6_mapped());
    let repr = udp::Repr::parse(&packet).expect("a checked datagram parses");
    let _ = repr.classify();
    let mut out = vec![0; repr.buffer_len()];
    repr.emit(&mut udp::Packet::new_unchecked(&mut out[..]), src, dst);
    let again = udp::Packet::new_checked(&out[..]).expect("emitted");
    assert!(again.verify_checksum(src, dst));
    let reparsed = udp::Repr::parse(&again).expect("emitted");
    assert_eq!(
        reparsed,
        udp::Repr {
            checksum: reparsed.checksum,
            ..repr
        }
    );
}

/// Builds an IPv4 datagram from `data` (header fields, then options and payload), checks that it
/// parses back to its `Repr`, then runs the router operations on it: fragments reassemble to the
/// payload, a decremented TTL keeps the checksum right, MSS clamping keeps a TCP checksum right,
/// and an ICMP "fragmentation needed" is a valid packet quoting it.
pub fn round_trip(data: &[u8]) {
    let [a, b, c, d, e, f, g, h, i, j, rest @ ..] = data else {
        return;
    };
    let options_len = usize::from(*a % 11) * 4;
    let (options, payload) = rest.split_at(options_len.min(rest.len()));
    if options.len() != options_len {
        return;
    }
    let repr = ipv4::Repr {
        dscp: b >> 2,
        ecn: b & 3,
        ident: u16::from_be_bytes([*c, *d]),
        dont_frag: e & 1 != 0,
        more_frags: e & 2 != 0,
        frag_offset: (u16::from(*f) << 3) & 0x1ff8,
        ttl: *g,
        protocol: IpProtocol([1, 6, 17, 47, 50, 88, *h][usize::from(*h % 7)]),
        checksum: 0,
        src: Ipv4Addr::new(10, 0, *i, 1),
        dst: Ipv4Addr::new(10, *j, 0, 2),
        options,
        payload_len: payload.len(),
    };
    let bytes = repr.emit_vec(payload);
    let packet = ipv4::Packet::new_checked(&bytes[..]).expect("emitted");
    if bytes.len() <= usize::from(u16::MAX) {
        let parsed = ipv4::Repr::parse(&packet, ChecksumMode::Verify).expect("emitted");
        assert_eq!(
            parsed,
            ipv4::Repr {
                checksum: parsed.checksum,
                ..repr
            }
        );
        assert_eq!(packet.payload(), payload);
    }
    operations(&bytes);
}

/// The router operations of [`round_trip`] on a checked packet.
fn operations(bytes: &[u8]) {
    let packet = ipv4::Packet::new_checked(bytes).expect("checked");
    let sum_ok = packet.verify_checksum();
    let mtu = 28 + usize::from(packet.ident()) % 1500;
    if let Some(fragments) = ipv4::fragment(&packet, mtu) {
        // Room for every fragment: an MTU of 28 cuts 64 KiB into 8 192 of them.
        let mut reassembler = Reassembler::new(ReassemblerConfig {
            max_fragments: 1 << 13,
            ..FUZZ_LIMITS
        });
        let mut whole = None;
        for (n, fragment) in fragments.iter().enumerate() {
            assert!(fragment.len() <= mtu);
            let view = ipv4::Packet::new_checked(&fragment[..]).expect("a fragment");
            assert!(view.verify_checksum());
            assert_eq!(view.dont_frag(), packet.dont_frag());
            let header = ipv4::Repr::parse(&view, ChecksumMode::Verify).expect("a fragment");
            // Reassembly of the datagram itself: only if it was not a fragment already.
            if packet.frag_offset() == 0 && !packet.more_frags() {
                let step =
                    reassembler.push(Timestamp::default(), n as u64, &header, view.payload());
                match step {
                    Reassembly::Complete { payload, .. } | Reassembly::Unfragmented(payload) => {
                        whole = Some(payload.to_vec());
                    }
                    Reassembly::Buffered { .. } => {}
                    Reassembly::Dropped(reason) => panic!("fragment {n} dropped: {reason:?}"),
                }
            }
        }
        if let Some(whole) = whole {
            assert_eq!(whole, packet.payload());
        }
    }
    let mut copy = bytes.to_vec();
    if ipv4::Packet::new_unchecked(&mut copy[..]).decrement_ttl() {
        let after = ipv4::Packet::new_checked(&copy[..]).expect("checked");
        assert_eq!(after.ttl(), packet.ttl() - 1);
        assert_eq!(after.verify_checksum(), sum_ok);
    }
    let tcp_sum = |bytes: &[u8]| {
        let view = ipv4::Packet::new_checked(bytes).expect("checked");
        let mut sum = checksum::Checksum::new();
        sum.add(&view.src_addr().octets());
        sum.add(&view.dst_addr().octets());
        sum.add_u16(u16::from(IpProtocol::TCP.0));
        sum.add_u16(view.payload().len() as u16);
        sum.add(view.payload());
        sum.finish() == 0
    };
    let mut copy = bytes.to_vec();
    let before = tcp_sum(&copy);
    let mss = packet.ident();
    if tcp::clamp_mss(&mut ipv4::Packet::new_unchecked(&mut copy[..]), mss) {
        assert_eq!(
            tcp_sum(&copy),
            before,
            "clamping changed the TCP checksum's validity"
        );
    } else {
        assert_eq!(copy, bytes, "left alone");
    }
    let own = Ipv4Addr::new(172, 16, 1, 1);
    if let Some(reply) = icmp::frag_needed(own, &packet, 1400, 7) {
        let view = ipv4::Packet::new_checked(&reply[..]).expect("a packet");
        assert!(view.verify_checksum());
        assert!(checksum::verify(view.payload()));
        assert_eq!(
            (view.dst_addr(), view.protocol()),
            (packet.src_addr(), IpProtocol::ICMP)
        );
    }
}

/// Feeds a reassembler a sequence of fragments described by `data`, 7 bytes of header each
/// (identification selector, offset ×8 (2 bytes), flags, length (2 bytes), time step) followed by
/// `length` bytes, and checks that it stays within its limits.
pub fn reassemble(data: &[u8]) {
    let mut reassembler = Reassembler::new(FUZZ_LIMITS);
    let mut rest = data;
    let mut now = Timestamp::default();
    let mut frame = 0;
    while let [
        ident,
        off_hi,
        off_lo,
        flags,
        len_hi,
        len_lo,
        step,
        tail @ ..,
    ] = rest
    {
        let len = usize::from(u16::from_be_bytes([*len_hi, *len_lo])).min(tail.len());
        let (payload, next) = tail.split_at(len);
        rest = next;
        frame += 1;
        now = now.saturating_add(Duration::from_millis(u64::from(*step) * 250));
        let header = ipv4::Repr {
            ident: u16::from(ident % 8),
            more_frags: flags & 1 != 0,
            frag_offset: u16::from_be_bytes([*off_hi, *off_lo]) << 3,
            src: Ipv4Addr::new(10, 0, 0, flags >> 4),
            ..ipv4::Repr::new(
                Ipv4Addr::UNSPECIFIED,
                Ipv4Addr::new(10, 0, 0, 2),
                IpProtocol::GRE,
                payload.len(),
            )
        };
        match reassembler.push(now, frame, &header, payload) {
            Reassembly::Complete {
                payload, fragments, ..
            } => {
                assert!(payload.len() <= FUZZ_LIMITS.max_datagram_len - ipv4::HEADER_LEN);
                assert!(!fragments.is_empty() && fragments.len() <= FUZZ_LIMITS.max_fragments);
            }
            Reassembly::Unfragmented(out) => assert_eq!(out, payload),
            Reassembly::Buffered { .. } | Reassembly::Dropped(_) => {}
        }
        check_caps(&reassembler);
    }
}

/// Asserts that a reassembler is within [`FUZZ_LIMITS`].
pub fn check_caps(reassembler: &Reassembler) {
    assert!(reassembler.in_flight() <= FUZZ_LIMITS.max_datagrams);
    assert!(reassembler.buffered_bytes() <= FUZZ_LIMITS.max_buffered_bytes);
}

#[cfg(test)]
mod tests {
    use super::*;

    dmvpn_wire::fuzz_tests! {
        fn arbitrary_bytes_never_panic => parse;
        fn built_datagrams_round_trip => round_trip;
        fn arbitrary_fragment_sequences_respect_the_caps => reassemble;
    }
}
