//! Entry points for the fuzz targets (`fuzz/fuzz_targets/dmvpn_capture_*.rs`) and the in-crate
//! bolero properties. Compiled with the `fuzzing` feature (hidden from the docs, not API),
//! so the fuzz workspace stays a thin shell. Each function panics only if an invariant breaks.

use core::net::Ipv4Addr;

use dmvpn_ip::fuzzing::{FUZZ_LIMITS, check_caps};

use super::ipv4::{self, ChecksumMode};
use super::link::{self, EtherType};
use super::{CaptureReader, LinkType, Reassembler, Reassembly, Timestamp, ipv6, udp};

/// Reads `data` as a capture file and decodes every frame down to UDP, reassembling fragments
/// and loading the ESP SAs of Decryption Secrets Blocks. Returns the number of frames read.
pub fn read_capture(data: &[u8]) -> u64 {
    let Ok(mut reader) = CaptureReader::new(data) else {
        return 0;
    };
    let mut reassembler = Reassembler::new(FUZZ_LIMITS);
    let mut count = 0;
    while let Ok(Some(frame)) = reader.next_frame() {
        count += 1;
        assert_eq!(frame.number, count);
        decode_frame(
            &mut reassembler,
            frame.timestamp,
            frame.number,
            frame.link_type,
            frame.data,
        );
        check_caps(&reassembler);
        let mut keys = crate::keys::EspKeys::new();
        for secrets in reader.take_secrets() {
            assert!(secrets.before_frame <= count + 1);
            let _ = keys.load_secrets(&secrets);
        }
    }
    count
}

/// Decodes one frame: the first byte picks the link type, the rest is the frame.
pub fn decode_link(data: &[u8]) {
    let Some((selector, frame)) = data.split_first() else {
        return;
    };
    const TYPES: [u32; 18] = [
        0, 1, 101, 108, 113, 228, 229, 276, 9, 12, 14, 50, 51, 104, 107, 109, 117, 239,
    ];
    let link_type = LinkType(TYPES[usize::from(*selector) % TYPES.len()]);
    let mut reassembler = Reassembler::new(FUZZ_LIMITS);
    decode_frame(&mut reassembler, Timestamp::default(), 1, link_type, frame);
}

fn decode_frame(
    reassembler: &mut Reassembler,
    now: Timestamp,
    number: u64,
    link_type: LinkType,
    data: &[u8],
) {
    let Ok(frame) = link::decode(link_type, data) else {
        return;
    };
    // The payload starts at `header_len`; an 802.3 length or an NFLOG TLV may end it early.
    assert!(
        data.get(frame.header_len..)
            .is_some_and(|at| at.starts_with(frame.payload))
    );
    let udp_payload = match frame.ethertype {
        EtherType::IPV4 => {
            let Ok(packet) = ipv4::Packet::new_checked(frame.payload) else {
                return;
            };
            let Ok(header) = ipv4::Repr::parse(&packet, ChecksumMode::Ignore) else {
                return;
            };
            let payload = match reassembler.push(now, number, &header, packet.payload()) {
                Reassembly::Unfragmented(payload) | Reassembly::Complete { payload, .. } => payload,
                Reassembly::Buffered { .. } | Reassembly::Dropped(_) => return,
            };
            if header.protocol != ipv4::Protocol::UDP {
                return;
            }
            payload
        }
        EtherType::IPV6 => {
            let Ok(repr) = ipv6::Repr::parse(frame.payload) else {
                return;
            };
            if repr.protocol != ipv4::Protocol::UDP {
                return;
            }
            repr.payload
        }
        _ => return,
    };
    if let Ok(datagram) = udp::Packet::new_checked(udp_payload) {
        let _ = udp::classify(datagram.src_port(), datagram.dst_port(), datagram.payload());
    }
}

/// A one-frame pcap (Ethernet, IPv4, UDP 4500 → 4500, ESP SPI 0x12345678 seq 1), for examples
/// and as a fuzz seed.
#[must_use]
pub fn example_pcap() -> Vec<u8> {
    let esp = [0x12, 0x34, 0x56, 0x78, 0, 0, 0, 1, 0xde, 0xad, 0xbe, 0xef];
    let (src, dst) = (Ipv4Addr::new(192, 1, 2, 23), Ipv4Addr::new(192, 1, 2, 45));
    let udp = udp::Repr {
        src_port: 4500,
        dst_port: 4500,
        checksum: 0,
        payload: &esp,
    };
    let ip = ipv4::Repr {
        dscp: 0,
        ecn: 0,
        ident: 1,
        dont_frag: true,
        more_frags: false,
        frag_offset: 0,
        ttl: 64,
        protocol: ipv4::Protocol::UDP,
        checksum: 0,
        src,
        dst,
        options: &[],
        payload_len: udp.buffer_len(),
    };
    let mut frame = vec![0x02, 0, 0, 0, 0, 2, 0x02, 0, 0, 0, 0, 1, 0x08, 0x00];
    let ip_start = frame.len();
    frame.resize(ip_start + ip.buffer_len(), 0);
    let mut packet = ipv4::Packet::new_unchecked(&mut frame[ip_start..]);
    ip.emit(&mut packet);
    udp.emit(
        &mut udp::Packet::new_unchecked(packet.payload_mut()),
        src,
        dst,
    );
    frame.resize(frame.len().max(60), 0); // Ethernet minimum frame size
    let mut file = Vec::new();
    file.extend_from_slice(&0xa1b2_c3d4u32.to_le_bytes());
    file.extend_from_slice(&2u16.to_le_bytes());
    file.extend_from_slice(&4u16.to_le_bytes());
    for word in [
        0u32,
        0,
        65_535,
        1,
        1_700_000_000,
        250_000,
        frame.len() as u32,
        frame.len() as u32,
    ] {
        file.extend_from_slice(&word.to_le_bytes());
    }
    file.extend_from_slice(&frame);
    file
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn example_reads_back() {
        assert_eq!(read_capture(&example_pcap()), 1);
    }

    #[test]
    fn arbitrary_capture_files_never_panic() {
        bolero::check!().for_each(|data: &[u8]| {
            read_capture(data);
            // The same bytes behind each magic number, so the fuzzer gets past the header.
            for magic in [&[0xd4, 0xc3, 0xb2, 0xa1][..], &[0x0a, 0x0d, 0x0d, 0x0a]] {
                read_capture(&[magic, data].concat());
            }
        });
    }

    #[test]
    fn arbitrary_link_frames_never_panic() {
        bolero::check!().for_each(decode_link);
    }
}
