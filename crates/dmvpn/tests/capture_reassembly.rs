//! End-to-end reassembly: a large UDP-encapsulated ESP datagram and a large GRE datagram are
//! fragmented, written into a pcap in various orders (in order, reversed, overlapping,
//! duplicated, interleaved), read back through the reader, the link layer and IPv4, and must
//! come out byte for byte. A flood of fragments never makes the reassembler exceed its caps.

// A panic with a message is how an integration test reports a failure.
#![allow(clippy::expect_used, clippy::unwrap_used)]

use std::net::Ipv4Addr;

use dmvpn::capture::link::{self, EtherType};
use dmvpn::capture::{
    CaptureReader, DropReason, Reassembler, ReassemblerConfig, Reassembly, Timestamp, ipv4, udp,
};
use dmvpn_testkit::pcap::{LINKTYPE_ETHERNET, PcapWriter};

const SRC: Ipv4Addr = Ipv4Addr::new(203, 0, 113, 11);
const DST: Ipv4Addr = Ipv4Addr::new(198, 51, 100, 1);

fn header(
    ident: u16,
    protocol: ipv4::Protocol,
    frag_offset: u16,
    more_frags: bool,
    payload_len: usize,
) -> ipv4::Repr<'static> {
    ipv4::Repr {
        dscp: 0,
        ecn: 0,
        ident,
        dont_frag: false,
        more_frags,
        frag_offset,
        ttl: 255,
        protocol,
        checksum: 0,
        src: SRC,
        dst: DST,
        options: &[],
        payload_len,
    }
}

/// The IP payload of a UDP/4500 datagram carrying `esp_len` bytes of ESP.
fn udp_esp(esp_len: usize) -> Vec<u8> {
    let mut esp = vec![0x12, 0x34, 0x56, 0x78, 0, 0, 0, 9];
    esp.extend((0..esp_len - 8).map(|i| (i % 251) as u8));
    let repr = udp::Repr {
        src_port: 4500,
        dst_port: 4500,
        checksum: 0,
        payload: &esp,
    };
    let mut bytes = vec![0; repr.buffer_len()];
    repr.emit(&mut udp::Packet::new_unchecked(&mut bytes[..]), SRC, DST);
    bytes
}

/// A GRE header (no key) followed by an inner packet of `len` bytes.
fn gre(len: usize) -> Vec<u8> {
    let mut bytes = vec![0x00, 0x00, 0x08, 0x00];
    bytes.extend((0..len).map(|i| (i * 31 % 256) as u8));
    bytes
}

/// One Ethernet frame holding an IPv4 fragment of `payload` at `offset`..`end`.
fn frame(
    ident: u16,
    protocol: ipv4::Protocol,
    payload: &[u8],
    offset: usize,
    end: usize,
    last: bool,
) -> Vec<u8> {
    let part = &payload[offset..end];
    let repr = header(ident, protocol, offset as u16, !last, part.len());
    let mut frame = vec![
        0x00, 0x0c, 0x29, 0, 0, 1, 0x00, 0x0c, 0x29, 0, 0, 2, 0x08, 0x00,
    ];
    let start = frame.len();
    frame.resize(start + repr.buffer_len(), 0);
    let mut packet = ipv4::Packet::new_unchecked(&mut frame[start..]);
    repr.emit(&mut packet);
    packet.payload_mut().copy_from_slice(part);
    frame
}

/// Fragments of `payload` of at most `size` bytes (a multiple of 8): (offset, end, last).
fn cut(payload: &[u8], size: usize) -> Vec<(usize, usize, bool)> {
    (0..payload.len())
        .step_by(size)
        .map(|offset| {
            (
                offset,
                (offset + size).min(payload.len()),
                offset + size >= payload.len(),
            )
        })
        .collect()
}

fn pcap(frames: &[Vec<u8>]) -> Vec<u8> {
    let mut pcap = PcapWriter::new(LINKTYPE_ETHERNET);
    for (i, frame) in frames.iter().enumerate() {
        pcap.record(1_700_000_000, i as u32 * 1000, frame);
    }
    pcap.into_bytes()
}

/// Reads a capture and returns every reassembled (or unfragmented) IP payload with its overlap flags.
fn reassemble(file: &[u8], reassembler: &mut Reassembler) -> Vec<(Vec<u8>, bool, bool)> {
    let mut reader = CaptureReader::new(file).expect("pcap");
    let mut out = Vec::new();
    while let Some(frame) = reader.next_frame().expect("frame") {
        let decoded = link::decode(frame.link_type, frame.data).expect("ethernet");
        assert_eq!(decoded.ethertype, EtherType::IPV4);
        let packet = ipv4::Packet::new_checked(decoded.payload).expect("ipv4");
        let repr = ipv4::Repr::parse(&packet, ipv4::ChecksumMode::Verify).expect("header");
        match reassembler.push(frame.timestamp, frame.number, &repr, packet.payload()) {
            Reassembly::Unfragmented(payload) => out.push((payload.to_vec(), false, false)),
            Reassembly::Complete {
                payload,
                overlap,
                conflict,
                fragments,
            } => {
                assert!(!fragments.is_empty());
                out.push((payload.to_vec(), overlap, conflict));
            }
            Reassembly::Buffered { .. } => {}
            Reassembly::Dropped(reason) => panic!("frame {}: dropped: {reason:?}", frame.number),
        }
    }
    out
}

#[test]
fn orders_overlaps_and_duplicates() {
    let esp = udp_esp(9000);
    let tunnel = gre(20_000);
    let pieces = cut(&esp, 1480);
    let in_order: Vec<_> = pieces
        .iter()
        .map(|&(o, e, l)| frame(1, ipv4::Protocol::UDP, &esp, o, e, l))
        .collect();
    let reversed: Vec<_> = in_order.iter().rev().cloned().collect();
    // Overlapping: 1480-byte fragments every 1000 bytes, so each overlaps the next by 480.
    let overlapping: Vec<_> = (0..esp.len())
        .step_by(1000)
        .map(|o| {
            let end = (o + 1480).min(esp.len());
            frame(3, ipv4::Protocol::UDP, &esp, o, end, o + 1000 >= esp.len())
        })
        .collect();
    let mut duplicated = Vec::new();
    for f in &in_order {
        duplicated.push(f.clone());
        duplicated.push(f.clone());
    }
    let duplicated: Vec<_> = duplicated[..duplicated.len() - 1].to_vec(); // the last arrives once
    for (name, frames, overlap) in [
        ("in order", in_order, false),
        ("reversed", reversed, false),
        ("overlapping", overlapping, true),
        ("duplicated", duplicated, true),
    ] {
        let mut reassembler = Reassembler::default();
        let out = reassemble(&pcap(&frames), &mut reassembler);
        assert_eq!(out.len(), 1, "{name}");
        assert_eq!(out[0], (esp.clone(), overlap, false), "{name}");
        let datagram = udp::Packet::new_checked(&out[0].0[..]).expect("udp");
        assert!(datagram.verify_checksum(SRC, DST), "{name}");
        assert!(
            matches!(udp::classify(4500, 4500, datagram.payload()), udp::Payload::Esp(p) if p.len() == 9000)
        );
        assert_eq!(
            (reassembler.in_flight(), reassembler.buffered_bytes()),
            (0, 0),
            "{name}"
        );
    }

    // Two datagrams interleaved, with an unfragmented packet in between.
    let gre_pieces = cut(&tunnel, 1400);
    let mut frames = Vec::new();
    for i in 0..gre_pieces.len().max(pieces.len()) {
        if let Some(&(o, e, l)) = gre_pieces.get(i) {
            frames.push(frame(7, ipv4::Protocol::GRE, &tunnel, o, e, l));
        }
        if let Some(&(o, e, l)) = pieces.get(pieces.len().saturating_sub(1 + i)) {
            frames.push(frame(8, ipv4::Protocol::UDP, &esp, o, e, l));
        }
        if i == 2 {
            frames.push(frame(9, ipv4::Protocol::GRE, &tunnel, 0, 100, true));
        }
    }
    let out = reassemble(&pcap(&frames), &mut Reassembler::default());
    let payloads: Vec<&Vec<u8>> = out.iter().map(|(p, _, _)| p).collect();
    assert_eq!(payloads, [&tunnel[..100].to_vec(), &esp, &tunnel]);
}

#[test]
fn the_largest_datagram_and_one_byte_more() {
    let max = 65_535 - 20;
    let payload = gre(max - 4);
    let frames: Vec<_> = cut(&payload, 8 * 1000)
        .into_iter()
        .map(|(o, e, l)| frame(5, ipv4::Protocol::GRE, &payload, o, e, l))
        .collect();
    let out = reassemble(&pcap(&frames), &mut Reassembler::default());
    assert_eq!(out[0].0, payload);

    let mut reassembler = Reassembler::default();
    let last = header(6, ipv4::Protocol::GRE, 65_512, false, 4);
    assert_eq!(
        reassembler.push(Timestamp::default(), 1, &last, &[0; 4]),
        Reassembly::Dropped(DropReason::TooLong {
            len: 65_536,
            max: 65_535
        })
    );
}

#[test]
fn fragment_floods_stay_within_the_caps() {
    let config = ReassemblerConfig::default();
    let mut reassembler = Reassembler::new(config);
    let chunk = [0xa5u8; 1480];
    let mut peak = (0, 0);
    // 20 000 first fragments with distinct identifications (and sources): none ever completes.
    for i in 0..20_000u32 {
        let mut repr = header(i as u16, ipv4::Protocol::UDP, 0, true, chunk.len());
        repr.src = Ipv4Addr::from(0x0a00_0000 | (i >> 16));
        let now = Timestamp::new(1_700_000_000 + i64::from(i / 200), 0);
        let outcome = reassembler.push(now, u64::from(i), &repr, &chunk);
        assert!(matches!(
            outcome,
            Reassembly::Buffered { .. } | Reassembly::Dropped(DropReason::BufferFull)
        ));
        peak = (
            peak.0.max(reassembler.in_flight()),
            peak.1.max(reassembler.buffered_bytes()),
        );
    }
    assert!(peak.0 <= config.max_datagrams, "{peak:?}");
    assert!(peak.1 <= config.max_buffered_bytes, "{peak:?}");
    let stats = reassembler.stats();
    assert!(stats.evicted + stats.timed_out > 19_000, "{stats:?}");

    // Fragments far apart in one datagram: the buffer grows to the largest end, within the caps.
    let mut reassembler = Reassembler::new(config);
    for i in 0..=config.max_fragments {
        let offset = (i * 8 * 31) % 65_000 / 8 * 8;
        let repr = header(1, ipv4::Protocol::UDP, offset as u16, true, 8);
        let outcome = reassembler.push(Timestamp::default(), i as u64, &repr, &[1; 8]);
        if i == config.max_fragments {
            assert_eq!(outcome, Reassembly::Dropped(DropReason::TooManyFragments));
        }
        assert!(reassembler.buffered_bytes() <= 65_535);
    }
    assert_eq!(
        (reassembler.in_flight(), reassembler.buffered_bytes()),
        (0, 0)
    );
}
