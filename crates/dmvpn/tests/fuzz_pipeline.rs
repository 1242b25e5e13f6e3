//! The fuzz targets of `fuzz/` that live in this crate, as bolero properties: `cargo test` runs
//! them briefly on random and corpus inputs, `cargo bolero test` for longer. Plus the inputs the
//! fuzzers found, as regression tests.

use std::io::{self, Read};

use dmvpn::capture::{CaptureReader, fuzzing as capture};
use dmvpn::fuzzing::{LINK_TYPES, decode_frames};
use dmvpn::keys::fuzzing::parse_esp_sa;

#[test]
fn decode_frames_never_panics() {
    bolero::check!().with_max_len(2048).for_each(|data: &[u8]| {
        decode_frames(data);
    });
}

#[test]
fn decode_frames_over_every_link_type() {
    // The same frames behind each link selector, so every link decoder sees them.
    bolero::check!().with_max_len(512).for_each(|data: &[u8]| {
        for selector in 0..LINK_TYPES.len() as u8 {
            decode_frames(&[&[selector][..], data].concat());
        }
    });
}

#[test]
fn capture_read_never_panics() {
    bolero::check!().for_each(|data: &[u8]| {
        capture::read_capture(data);
    });
}

#[test]
fn keys_esp_sa_never_panics() {
    bolero::check!().for_each(parse_esp_sa);
}

/// Reports the largest buffer the reader ever offers to `read`: the size of its record buffer.
struct Watch<'a> {
    data: &'a [u8],
    largest: usize,
}

impl Read for Watch<'_> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        self.largest = self.largest.max(buf.len());
        self.data.read(buf)
    }
}

/// Found by `capture_read` under its allocation bound in its first seconds: a 216-byte pcap whose
/// second record claims a captured length of 0x1f6553f1 (clamped to the 16 MiB record limit)
/// made the reader grow its buffer to the claimed length before reading, 12 MB for 216 bytes. The
/// buffer now grows with the data that arrives.
#[test]
fn regression_record_length_does_not_size_the_buffer() {
    #[rustfmt::skip]
    let file: [u8; 56] = [
        // pcap header, little-endian, Ethernet
        0xd4, 0xc3, 0xb2, 0xa1, 0x02, 0x00, 0x04, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
        0xff, 0xff, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00,
        // record: timestamp, captured length 0x00f00000 (15 MiB), original length, then 8 bytes
        0x00, 0xf1, 0x53, 0x65, 0x1f, 0x00, 0x00, 0x00, 0x00, 0x00, 0xf0, 0x00, 0x00, 0x00, 0xf0, 0x00,
        0x45, 0x00, 0x00, 0x38, 0x00, 0x09, 0x00, 0x00,
        0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
    ];
    let mut watch = Watch {
        data: &file,
        largest: 0,
    };
    let mut reader = CaptureReader::new(&mut watch).unwrap();
    assert!(reader.next_frame().is_err(), "the record is cut short");
    drop(reader);
    assert!(
        watch.largest <= 256 << 10,
        "buffer of {} bytes",
        watch.largest
    );
    assert_eq!(capture::read_capture(&file), 0);
}

/// The `decode_frames` seeds come from `testdata/dmvpn/phase1.pcap`: with the fuzz key set (its
/// SPIs turned into wildcards) it decrypts exactly as with its own key file, so the fuzzer starts
/// past the ICVs.
#[test]
fn the_fuzz_keys_decrypt_the_seed_capture() {
    use dmvpn::decode::{Decoder, Layer, Sink};
    use dmvpn::keys::EspKeys;

    struct Nothing;
    impl Sink for Nothing {
        fn layer(&mut self, _: &Layer<'_>) {}
    }
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/../../testdata/dmvpn");
    let decrypted = |keys: EspKeys| {
        let mut decoder = Decoder::new(keys);
        let mut reader = CaptureReader::open(format!("{dir}/phase1.pcap")).unwrap();
        while let Some(frame) = reader.next_frame().unwrap() {
            decoder.decode(&frame, &mut Nothing);
        }
        decoder.stats().esp_decrypted
    };
    let own = decrypted(EspKeys::from_file(format!("{dir}/phase1.esp_sa")).unwrap());
    let fuzz = decrypted(EspKeys::parse(&dmvpn::fuzzing::test_keys_text()).unwrap());
    assert!(own > 0);
    assert_eq!(fuzz, own);
}
