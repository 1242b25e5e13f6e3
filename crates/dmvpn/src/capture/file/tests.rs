//! The reader's tests: pcap and pcapng files built here, byte by byte.

use super::pcapng::{
    BLOCK_DECRYPTION_SECRETS, BLOCK_ENHANCED_PACKET, BLOCK_INTERFACE, BLOCK_PACKET, BLOCK_SECTION,
    BLOCK_SIMPLE_PACKET, OPT_IF_NAME, OPT_IF_TSOFFSET, OPT_IF_TSRESOL, convert_ts, ts_units,
};
use super::*;

/// A little-endian pcap file header for `link_type`.
pub(crate) fn pcap_header(link_type: u32, nanosecond: bool) -> Vec<u8> {
    let magic: u32 = if nanosecond { 0xa1b2_3c4d } else { 0xa1b2_c3d4 };
    let mut out = magic.to_le_bytes().to_vec();
    out.extend_from_slice(&2u16.to_le_bytes());
    out.extend_from_slice(&4u16.to_le_bytes());
    out.extend_from_slice(&[0; 8]);
    out.extend_from_slice(&65535u32.to_le_bytes());
    out.extend_from_slice(&link_type.to_le_bytes());
    out
}

fn pcap_record(out: &mut Vec<u8>, secs: u32, frac: u32, data: &[u8], original: u32) {
    for word in [secs, frac, data.len() as u32, original] {
        out.extend_from_slice(&word.to_le_bytes());
    }
    out.extend_from_slice(data);
}

fn u32_bytes(big_endian: bool, v: u32) -> [u8; 4] {
    if big_endian {
        v.to_be_bytes()
    } else {
        v.to_le_bytes()
    }
}

fn u16_bytes(big_endian: bool, v: u16) -> [u8; 2] {
    if big_endian {
        v.to_be_bytes()
    } else {
        v.to_le_bytes()
    }
}

fn block(out: &mut Vec<u8>, big_endian: bool, ty: u32, body: &[u8]) {
    let padded = body.len().next_multiple_of(4);
    let total = (padded + 12) as u32;
    let word = |v: u32| u32_bytes(big_endian, v);
    out.extend_from_slice(&word(ty));
    out.extend_from_slice(&word(total));
    out.extend_from_slice(body);
    out.resize(out.len() + padded - body.len(), 0);
    out.extend_from_slice(&word(total));
}

fn section(big_endian: bool) -> Vec<u8> {
    let mut body = Vec::new();
    body.extend_from_slice(&u32_bytes(big_endian, 0x1a2b_3c4d));
    body.extend_from_slice(&u16_bytes(big_endian, 1));
    body.extend_from_slice(&u16_bytes(big_endian, 0));
    // Section length -1 (unknown): all ones in either byte order.
    body.extend_from_slice(&(-1i64).to_be_bytes());
    let mut out = Vec::new();
    block(&mut out, big_endian, BLOCK_SECTION, &body);
    out
}

fn interface(big_endian: bool, link_type: u16, options: &[(u16, &[u8])]) -> Vec<u8> {
    let mut body = Vec::new();
    let w16 = |v: u16| u16_bytes(big_endian, v);
    body.extend_from_slice(&w16(link_type));
    body.extend_from_slice(&w16(0));
    body.extend_from_slice(&u32_bytes(big_endian, 0));
    for (code, value) in options {
        body.extend_from_slice(&w16(*code));
        body.extend_from_slice(&w16(value.len() as u16));
        body.extend_from_slice(value);
        body.resize(body.len().next_multiple_of(4), 0);
    }
    if !options.is_empty() {
        body.extend_from_slice(&[0; 4]);
    }
    let mut out = Vec::new();
    block(&mut out, big_endian, BLOCK_INTERFACE, &body);
    out
}

fn enhanced(big_endian: bool, interface: u32, ts: u64, data: &[u8]) -> Vec<u8> {
    let word = |v: u32| u32_bytes(big_endian, v);
    let mut body = Vec::new();
    for v in [
        interface,
        (ts >> 32) as u32,
        ts as u32,
        data.len() as u32,
        data.len() as u32 + 4,
    ] {
        body.extend_from_slice(&word(v));
    }
    body.extend_from_slice(data);
    let mut out = Vec::new();
    block(&mut out, big_endian, BLOCK_ENHANCED_PACKET, &body);
    out
}

type Row = (u64, Timestamp, LinkType, u32, Vec<u8>, u32);

fn read_all(bytes: &[u8]) -> Result<Vec<Row>> {
    let mut reader = CaptureReader::new(bytes)?;
    let mut frames = Vec::new();
    while let Some(f) = reader.next_frame()? {
        frames.push((
            f.number,
            f.timestamp,
            f.link_type,
            f.interface,
            f.data.to_vec(),
            f.original_len,
        ));
    }
    Ok(frames)
}

#[test]
fn pcap_both_byte_orders_and_resolutions() {
    for nanosecond in [false, true] {
        let mut file = pcap_header(1, nanosecond);
        pcap_record(&mut file, 10, 999, b"abc", 60);
        pcap_record(&mut file, 11, 0, b"", 0);
        let frames = read_all(&file).unwrap();
        let nanos = if nanosecond { 999 } else { 999_000 };
        assert_eq!(
            frames,
            vec![
                (
                    1,
                    Timestamp::new(10, nanos),
                    LinkType::ETHERNET,
                    0,
                    b"abc".to_vec(),
                    60
                ),
                (2, Timestamp::new(11, 0), LinkType::ETHERNET, 0, vec![], 0),
            ]
        );
        // The same file big-endian.
        let mut be = Vec::new();
        let magic: u32 = if nanosecond { 0xa1b2_3c4d } else { 0xa1b2_c3d4 };
        be.extend_from_slice(&magic.to_be_bytes());
        be.extend_from_slice(&[
            0, 2, 0, 4, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 0, 0, 0, 1,
        ]);
        for word in [10u32, 999, 3, 60] {
            be.extend_from_slice(&word.to_be_bytes());
        }
        be.extend_from_slice(b"abc");
        let mut reader = CaptureReader::new(&be[..]).unwrap();
        assert_eq!(
            reader.format(),
            Format::Pcap {
                big_endian: true,
                nanosecond
            }
        );
        let frame = reader.next_frame().unwrap().unwrap();
        assert_eq!(
            (frame.timestamp, frame.data, frame.offset),
            (Timestamp::new(10, nanos), &b"abc"[..], 24)
        );
        assert!(reader.next_frame().unwrap().is_none());
    }
}

#[test]
fn pcap_link_type_ignores_fcs_bits() {
    let mut file = pcap_header(0x1400_0001, false);
    pcap_record(&mut file, 0, 0, b"x", 1);
    assert_eq!(read_all(&file).unwrap()[0].2, LinkType::ETHERNET);
}

#[test]
fn pcapng_interfaces_resolutions_and_byte_orders() {
    for big_endian in [false, true] {
        let mut file = section(big_endian);
        file.extend(interface(big_endian, 1, &[(OPT_IF_NAME, b"eth0")]));
        file.extend(interface(
            big_endian,
            101,
            &[
                (OPT_IF_TSRESOL, &[9]),
                (OPT_IF_TSOFFSET, &{
                    if big_endian {
                        100i64.to_be_bytes()
                    } else {
                        100i64.to_le_bytes()
                    }
                }),
            ],
        ));
        file.extend(interface(
            big_endian,
            113,
            &[(OPT_IF_TSRESOL, &[0x80 | 10])],
        ));
        file.extend(enhanced(big_endian, 0, 1_500_000, b"e0"));
        file.extend(enhanced(big_endian, 1, 2_000_000_001, b"raw"));
        file.extend(enhanced(big_endian, 2, 3 * 1024 + 512, b"sll!"));
        let mut reader = CaptureReader::new(&file[..]).unwrap();
        assert_eq!(reader.format(), Format::PcapNg);
        let mut seen = Vec::new();
        while let Some(f) = reader.next_frame().unwrap() {
            seen.push((
                f.number,
                f.timestamp,
                f.link_type,
                f.interface,
                f.data.to_vec(),
            ));
        }
        assert_eq!(
            seen,
            vec![
                (
                    1,
                    Timestamp::new(1, 500_000_000),
                    LinkType::ETHERNET,
                    0,
                    b"e0".to_vec()
                ),
                (2, Timestamp::new(102, 1), LinkType::RAW, 1, b"raw".to_vec()),
                (
                    3,
                    Timestamp::new(3, 500_000_000),
                    LinkType::LINUX_SLL,
                    2,
                    b"sll!".to_vec()
                ),
            ]
        );
        assert_eq!(reader.interfaces()[0].name.as_deref(), Some("eth0"));
    }
}

#[test]
fn pcapng_new_section_switches_byte_order_and_resets_interfaces() {
    let mut file = section(false);
    file.extend(interface(false, 1, &[]));
    file.extend(enhanced(false, 0, 0, b"a"));
    file.extend(section(true));
    file.extend(interface(true, 228, &[]));
    file.extend(enhanced(true, 0, 0, b"b"));
    file.extend(enhanced(true, 1, 0, b"c"));
    let mut reader = CaptureReader::new(&file[..]).unwrap();
    assert_eq!(
        reader.next_frame().unwrap().unwrap().link_type,
        LinkType::ETHERNET
    );
    assert_eq!(
        reader.next_frame().unwrap().unwrap().link_type,
        LinkType::IPV4
    );
    let err = reader.next_frame().unwrap_err();
    assert_eq!(
        err.to_string(),
        format!(
            "capture: frame 3 (byte offset {}): interface 1 is not declared (1 interfaces in this section)",
            file.len() - 36 + 8
        )
    );
    // Fused after an error.
    assert!(reader.next_frame().unwrap().is_none());
}

#[test]
fn simple_and_obsolete_packet_blocks() {
    let mut file = section(false);
    file.extend(interface(false, 1, &[]));
    let mut spb = 6u32.to_le_bytes().to_vec();
    spb.extend_from_slice(b"abcdef");
    block(&mut file, false, BLOCK_SIMPLE_PACKET, &spb);
    let mut pb = Vec::new();
    pb.extend_from_slice(&0u16.to_le_bytes());
    pb.extend_from_slice(&0u16.to_le_bytes());
    for v in [0u32, 7_000_001, 2, 2] {
        pb.extend_from_slice(&v.to_le_bytes());
    }
    pb.extend_from_slice(b"pb");
    block(&mut file, false, BLOCK_PACKET, &pb);
    block(&mut file, false, 5, &[0; 8]); // interface statistics: skipped
    let frames = read_all(&file).unwrap();
    assert_eq!(frames[0].4, b"abcdef");
    assert_eq!(frames[0].1, Timestamp::default());
    assert_eq!(frames[1].4, b"pb");
    assert_eq!(frames[1].1, Timestamp::new(7, 1000));
    assert_eq!(frames.len(), 2);
}

#[test]
fn decryption_secrets_blocks() {
    let mut file = section(false);
    file.extend(interface(false, 1, &[]));
    let line = br#""IPv4","*","*","*","NULL","","NULL","""#;
    let mut dsb = 0x4553_5053u32.to_le_bytes().to_vec();
    dsb.extend_from_slice(&(line.len() as u32).to_le_bytes());
    dsb.extend_from_slice(line);
    block(&mut file, false, BLOCK_DECRYPTION_SECRETS, &dsb);
    file.extend(enhanced(false, 0, 0, b"esp"));
    let mut reader = CaptureReader::new(&file[..]).unwrap();
    assert!(reader.take_secrets().is_empty());
    assert!(reader.next_frame().unwrap().is_some());
    let secrets = reader.take_secrets();
    assert_eq!(secrets.len(), 1);
    assert_eq!(
        (
            secrets[0].secrets_type,
            &secrets[0].data[..],
            secrets[0].before_frame
        ),
        (SecretsType::ESP_SA, &line[..], 1)
    );
    assert!(!format!("{secrets:?}").contains("IPv4"));
    assert!(reader.take_secrets().is_empty());
    // A secrets length past the block is an error.
    let mut bad = section(false);
    let mut dsb = 0x4553_5053u32.to_le_bytes().to_vec();
    dsb.extend_from_slice(&100u32.to_le_bytes());
    block(&mut bad, false, BLOCK_DECRYPTION_SECRETS, &dsb);
    assert!(matches!(
        read_all(&bad),
        Err(CaptureError::TooLarge {
            field: "secrets length",
            ..
        })
    ));
}

#[test]
fn header_errors() {
    let cases: [(&[u8], &str); 5] = [
        (b"", "capture: the file is empty"),
        (
            b"\x1f\x8b\x08\x00",
            "capture: file header (byte offset 0): the gzip-compressed stream ends before its end",
        ),
        (
            b"GIF89a",
            "capture: not a pcap or pcapng file: magic number [47, 49, 46, 38] at byte offset 0",
        ),
        (
            b"ab",
            "capture: file header (byte offset 0): the file ends inside the magic number: need 4 bytes, have 2",
        ),
        (
            b"\xd4\xc3\xb2\xa1\x02\x00",
            "capture: file header (byte offset 0): the file ends inside the pcap file header: need 24 bytes, have 6",
        ),
    ];
    for (bytes, text) in cases {
        assert_eq!(CaptureReader::new(bytes).unwrap_err().to_string(), text);
    }
}

#[test]
fn truncation_loop_pcap() {
    let mut file = pcap_header(1, false);
    pcap_record(&mut file, 1, 2, &[0xaa; 20], 20);
    for len in 0..file.len() {
        let result = read_all(&file[..len]);
        let text = match len {
            0 => "capture: the file is empty".to_owned(),
            1..4 => format!(
                "capture: file header (byte offset 0): the file ends inside the magic number: need 4 bytes, have {len}"
            ),
            4..24 => format!(
                "capture: file header (byte offset 0): the file ends inside the pcap file header: need 24 bytes, have {len}"
            ),
            24 => {
                assert_eq!(result.unwrap(), vec![]);
                continue;
            }
            25..40 => format!(
                "capture: frame 1 (byte offset 24): the file ends inside the packet record header: need 16 bytes, have {}",
                len - 24
            ),
            _ => format!(
                "capture: frame 1 (byte offset 24): the file ends inside the packet data: need 36 bytes, have {}",
                len - 24
            ),
        };
        assert_eq!(result.unwrap_err().to_string(), text, "prefix {len}");
    }
    assert_eq!(read_all(&file).unwrap().len(), 1);
}

#[test]
fn truncation_loop_pcapng() {
    let mut file = section(false);
    file.extend(interface(false, 1, &[]));
    let packet_at = file.len();
    file.extend(enhanced(false, 0, 5, b"0123456789"));
    for len in 0..file.len() {
        let Err(err) = read_all(&file[..len]) else {
            assert!(
                len == 28 || len == packet_at,
                "prefix {len} read without error"
            );
            continue;
        };
        match err {
            CaptureError::Empty => assert_eq!(len, 0),
            CaptureError::Truncated { at, .. } => {
                let start = if len < 28 {
                    0
                } else if len < packet_at {
                    28
                } else {
                    packet_at
                };
                assert_eq!(at.offset, start as u64, "prefix {len}");
            }
            other => panic!("prefix {len}: {other}"),
        }
    }
}

#[test]
fn invalid_fields() {
    let mut file = section(false);
    file.extend(interface(false, 1, &[]));
    // An Enhanced Packet Block whose total length is not a multiple of 4, or too large.
    for (total_len, error) in [
        (
            13u32,
            "capture: frame 1 (byte offset 52): field `block total length` has invalid value 0xd",
        ),
        (
            0xffff_fff0,
            "capture: frame 1 (byte offset 52): length field `block total length` says 4294967280 bytes, but at most 16777216 fit",
        ),
    ] {
        let mut bad = file.clone();
        bad.extend_from_slice(&6u32.to_le_bytes());
        bad.extend_from_slice(&total_len.to_le_bytes());
        bad.extend_from_slice(&[0; 8]);
        assert_eq!(read_all(&bad).unwrap_err().to_string(), error);
    }
    let mut trailer = file.clone();
    trailer.extend(enhanced(false, 0, 0, b"abcd"));
    let n = trailer.len();
    trailer[n - 1] = 1;
    assert!(matches!(
        read_all(&trailer).unwrap_err(),
        CaptureError::InvalidField {
            field: "trailing block total length",
            ..
        }
    ));
    let mut caplen = file.clone();
    let mut epb = enhanced(false, 0, 0, b"abcd");
    epb[20..24].copy_from_slice(&9u32.to_le_bytes());
    caplen.extend(epb);
    assert_eq!(
        read_all(&caplen).unwrap_err().to_string(),
        "capture: frame 1 (byte offset 68): length field `captured packet length` says 9 bytes, but at most 4 fit"
    );
    let bad_resol = [
        section(false),
        interface(false, 1, &[(OPT_IF_TSRESOL, &[20])]),
    ]
    .concat();
    assert!(matches!(
        read_all(&bad_resol).unwrap_err(),
        CaptureError::InvalidField {
            field: "if_tsresol",
            ..
        }
    ));
    let bad_option = [section(false), interface(false, 1, &[(OPT_IF_NAME, b"x")])].concat();
    let mut bad_option = bad_option;
    bad_option[28 + 16 + 2] = 200; // option length overruns the block
    assert!(matches!(
        read_all(&bad_option).unwrap_err(),
        CaptureError::InvalidField {
            field: "option length",
            ..
        }
    ));
    let mut pcap = pcap_header(1, false);
    pcap[4] = 3;
    assert_eq!(
        CaptureReader::new(&pcap[..]).unwrap_err().to_string(),
        "capture: file header (byte offset 4): field `version major` has invalid value 0x3"
    );
}

#[test]
fn reads_through_small_reads() {
    /// A reader that returns one byte at a time, and an interruption now and then.
    #[derive(Debug)]
    struct Trickle<'a>(&'a [u8], u8);
    impl Read for Trickle<'_> {
        fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
            self.1 = self.1.wrapping_add(1);
            if self.1.is_multiple_of(3) {
                return Err(io::ErrorKind::Interrupted.into());
            }
            let Some((first, rest)) = self.0.split_first() else {
                return Ok(0);
            };
            buf[0] = *first;
            self.0 = rest;
            Ok(1)
        }
    }
    let mut file = pcap_header(1, false);
    for i in 0..50u8 {
        pcap_record(
            &mut file,
            u32::from(i),
            0,
            &vec![i; usize::from(i)],
            u32::from(i),
        );
    }
    let mut reader = CaptureReader::new(Trickle(&file, 0)).unwrap();
    for i in 0..50u8 {
        let frame = reader.next_frame().unwrap().unwrap();
        assert_eq!(frame.data, &vec![i; usize::from(i)][..]);
    }
    assert!(reader.next_frame().unwrap().is_none());
}

#[test]
fn io_errors_name_the_offset() {
    #[derive(Debug)]
    struct Failing;
    impl Read for Failing {
        fn read(&mut self, _: &mut [u8]) -> io::Result<usize> {
            Err(io::Error::other("disk on fire"))
        }
    }
    let err = CaptureReader::new(Failing).unwrap_err();
    assert_eq!(
        err.to_string(),
        "capture: read error at file header (byte offset 0): disk on fire"
    );
    assert_eq!(
        err.position(),
        Some(Position {
            frame: None,
            offset: 0
        })
    );
    let err = CaptureReader::open("/nonexistent/x.pcap").unwrap_err();
    assert!(
        err.to_string()
            .starts_with("capture: cannot open /nonexistent/x.pcap: ")
    );
}

#[test]
fn buffer_stays_bounded_over_many_frames() {
    // 2 000 frames of 1 000 bytes: the buffer never grows past one read chunk plus a record.
    let mut file = pcap_header(1, false);
    for i in 0..2000u32 {
        pcap_record(&mut file, i, 0, &[0x55; 1000], 1000);
    }
    let mut reader = CaptureReader::new(&file[..]).unwrap();
    let mut count = 0;
    while reader.next_frame().unwrap().is_some() {
        count += 1;
    }
    assert_eq!(count, 2000);
    assert!(
        reader.buf.capacity() <= 2 * READ_CHUNK,
        "buffer grew to {}",
        reader.buf.capacity()
    );
}

fn gzip(bytes: &[u8]) -> Vec<u8> {
    let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    io::Write::write_all(&mut encoder, bytes).unwrap();
    encoder.finish().unwrap()
}

/// A pcap and a pcapng with a few frames of different sizes.
fn sample_captures() -> [Vec<u8>; 2] {
    let mut pcap = pcap_header(1, false);
    let mut pcapng = section(false);
    pcapng.extend(interface(false, 1, &[]));
    for i in 0..40u8 {
        let data = vec![i; 20 + usize::from(i) * 7];
        pcap_record(&mut pcap, u32::from(i), 0, &data, data.len() as u32);
        pcapng.extend(enhanced(false, 0, u64::from(i), &data));
    }
    [pcap, pcapng]
}

#[test]
fn gzip_streams_are_read_like_the_capture_inside() {
    for plain in sample_captures() {
        let expected = read_all(&plain).unwrap();
        let compressed = gzip(&plain);
        assert_eq!(read_all(&compressed).unwrap(), expected);
        assert!(CaptureReader::new(&compressed[..]).unwrap().is_compressed());
        assert!(!CaptureReader::new(&plain[..]).unwrap().is_compressed());
        // Concatenated members (`cat a.gz b.gz`) are one stream, as gzip -d reads them.
        let half = plain.len() / 2;
        let two = [gzip(&plain[..half]), gzip(&plain[half..])].concat();
        assert_eq!(read_all(&two).unwrap(), expected);
    }
}

#[test]
fn gzip_cut_anywhere_is_cut_short_after_whole_frames() {
    for plain in sample_captures() {
        let all = read_all(&plain).unwrap();
        let compressed = gzip(&plain);
        for len in 1..compressed.len() {
            let mut rows = Vec::new();
            let error = match CaptureReader::new(&compressed[..len]) {
                Err(error) => error,
                Ok(mut reader) => loop {
                    match reader.next_frame() {
                        Ok(Some(f)) => rows.push(f.data.to_vec()),
                        Ok(None) => {
                            panic!("prefix {len} of {} read to an end", compressed.len())
                        }
                        Err(error) => break error,
                    }
                },
            };
            // Every frame read is whole and in order; the rest is reported cut.
            assert!(rows.len() <= all.len(), "prefix {len}");
            for (row, full) in rows.iter().zip(&all) {
                assert_eq!(row, &full.4, "prefix {len}");
            }
            let cut = error.is_cut_short()
                || matches!(
                    error,
                    CaptureError::CompressedTruncated {
                        at: Position { frame: None, .. }
                    } | CaptureError::Truncated {
                        at: Position { frame: None, .. },
                        ..
                    } | CaptureError::Io { .. }
                );
            assert!(cut, "prefix {len}: {error}");
            // Past the file header, it is always "cut short".
            if error.position().is_some_and(|at| at.frame.is_some()) {
                assert!(error.is_cut_short(), "prefix {len}: {error}");
            }
        }
    }
}

#[test]
fn damaged_gzip_is_a_read_error() {
    let [plain, _] = sample_captures();
    let mut compressed = gzip(&plain);
    let n = compressed.len();
    compressed[n - 6] ^= 0xff; // the CRC-32 in the trailer
    let error = read_all(&compressed).unwrap_err();
    assert!(matches!(error, CaptureError::Io { .. }), "{error}");
    assert!(!error.is_cut_short());
}

#[test]
fn peek_then_next_give_the_same_frame() {
    for plain in sample_captures() {
        let mut reader = CaptureReader::new(&plain[..]).unwrap();
        let peeked = reader.peek_frame().unwrap().unwrap();
        let (number, data) = (peeked.number, peeked.data.to_vec());
        assert_eq!(number, 1);
        assert_eq!(reader.frames_read(), 0);
        assert!(reader.has_buffered_frame());
        // A second peek gives it again.
        assert_eq!(reader.peek_frame().unwrap().unwrap().data, &data[..]);
        let frame = reader.next_frame().unwrap().unwrap();
        assert_eq!((frame.number, frame.data), (1, &data[..]));
        assert_eq!(reader.next_frame().unwrap().unwrap().number, 2);
        assert_eq!(reader.frames_read(), 2);
    }
}

#[test]
fn end_at_errors_keeps_the_error_for_later() {
    let [pcap, pcapng] = sample_captures();
    for plain in [pcap, pcapng] {
        let cut = &plain[..plain.len() - 30];
        let mut reader = CaptureReader::new(cut).unwrap();
        reader.end_at_errors();
        let mut count = 0;
        while let Some(_frame) = reader.next_frame().unwrap() {
            count += 1;
        }
        assert_eq!(count, 39);
        let error = reader.take_error().unwrap();
        assert!(error.is_cut_short(), "{error}");
        assert_eq!(error.position().and_then(|at| at.frame), Some(40));
        assert!(reader.take_error().is_none());
        assert!(reader.next_frame().unwrap().is_none());
    }
}

#[test]
fn buffered_frame_says_whether_a_read_would_wait() {
    /// Hands out the capture in the pieces given, as a pipe does.
    struct Pieces(Vec<Vec<u8>>);
    impl Read for Pieces {
        fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
            if self.0.is_empty() {
                return Ok(0);
            }
            let piece = self.0.remove(0);
            buf[..piece.len()].copy_from_slice(&piece);
            Ok(piece.len())
        }
    }
    let mut file = pcap_header(1, false);
    pcap_record(&mut file, 1, 0, b"first", 5);
    pcap_record(&mut file, 2, 0, b"second", 6);
    // The header and the first record and a half arrive first.
    let split = 24 + 21 + 10;
    let mut reader =
        CaptureReader::new(Pieces(vec![file[..split].to_vec(), file[split..].to_vec()])).unwrap();
    assert!(reader.has_buffered_frame());
    assert_eq!(reader.next_frame().unwrap().unwrap().data, b"first");
    assert!(!reader.has_buffered_frame());
    assert_eq!(reader.next_frame().unwrap().unwrap().data, b"second");
    assert!(reader.next_frame().unwrap().is_none());
    assert!(reader.has_buffered_frame());
}

#[test]
fn cut_short_is_only_said_of_records() {
    let header_cut = CaptureReader::new(&pcap_header(1, false)[..10]).unwrap_err();
    assert!(!header_cut.is_cut_short());
    let text = CaptureError::CompressedTruncated {
        at: Position {
            frame: Some(3),
            offset: 99,
        },
    };
    assert!(text.is_cut_short());
    assert_eq!(
        text.to_string(),
        "capture: frame 3 (byte offset 99): the gzip-compressed stream ends before its end"
    );
}

#[test]
fn ts_conversion() {
    let iface = |ts_resolution, ts_offset| Interface {
        link_type: LinkType::ETHERNET,
        snaplen: 0,
        name: None,
        ts_resolution,
        ts_offset,
    };
    assert_eq!(convert_ts(1_000_001, &iface(6, 0)), Timestamp::new(1, 1000));
    assert_eq!(
        convert_ts(u64::MAX, &iface(19, 0)),
        Timestamp::new(1, 844_674_407)
    );
    assert_eq!(
        convert_ts(3, &iface(0x81, -5)),
        Timestamp::new(-4, 500_000_000)
    );
    assert_eq!(convert_ts(u64::MAX, &iface(0, i64::MAX)).secs, i64::MAX);
    assert_eq!(ts_units(20), None);
    assert_eq!(ts_units(0x80 | 64), None);
}
