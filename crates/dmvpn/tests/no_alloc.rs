//! The decoder's hot path allocates nothing: once its buffers have grown, decoding ESP/GRE frames and
//! writing them as JSON Lines and text costs no heap allocation. Measured with a counting global allocator.

#![allow(clippy::unwrap_used, clippy::expect_used)] // a test: a failed unwrap is a failed test

use std::alloc::System;

use dmvpn::capture::{CaptureReader, Frame};
use dmvpn::decode::{Decoder, Layer, Sink};
use dmvpn::keys::EspKeys;
use dmvpn::output::{JsonLines, TextLines};
use stats_alloc::{INSTRUMENTED_SYSTEM, Region, StatsAlloc};

#[global_allocator]
static GLOBAL: &StatsAlloc<System> = &INSTRUMENTED_SYSTEM;

/// A JSON Lines writer into a sink that also notes which layers a frame had.
struct Probe {
    json: JsonLines<std::io::Sink>,
    text: TextLines<std::io::Sink>,
    esp_or_gre: bool,
    control: bool,
}

impl Sink for Probe {
    fn frame_start(&mut self, frame: &Frame<'_>) {
        self.esp_or_gre = false;
        self.control = false;
        self.json.frame_start(frame);
        self.text.frame_start(frame);
    }
    fn layer(&mut self, layer: &Layer<'_>) {
        match layer {
            Layer::Esp(_) | Layer::Gre(_) => self.esp_or_gre = true,
            // IKE decryption returns an owned plaintext and fragments are buffered: not hot paths.
            Layer::Isakmp(_)
            | Layer::Fragment(_)
            | Layer::Ipv4 {
                fragments: Some(_), ..
            } => {
                self.control = true;
            }
            _ => {}
        }
        self.json.layer(layer);
        self.text.layer(layer);
    }
    fn frame_end(&mut self) {
        self.json.frame_end();
        self.text.frame_end();
    }
}

type OwnedFrame = (
    u64,
    dmvpn::capture::Timestamp,
    dmvpn::capture::LinkType,
    Vec<u8>,
    u32,
);

fn frame(owned: &OwnedFrame) -> Frame<'_> {
    let (number, timestamp, link_type, data, original_len) = owned;
    Frame {
        number: *number,
        timestamp: *timestamp,
        link_type: *link_type,
        interface: 0,
        data,
        original_len: *original_len,
        offset: 0,
    }
}

#[test]
fn esp_and_gre_frames_decode_without_allocating() {
    let data = dmvpn_testkit::testdata("dmvpn");
    let keys = EspKeys::from_file(data.join("phase1.esp_sa")).unwrap();
    let mut decoder = Decoder::new(keys);
    let mut sink = Probe {
        json: JsonLines::new(std::io::sink()),
        text: TextLines::new(std::io::sink()),
        esp_or_gre: false,
        control: false,
    };

    // Owned copies of the frames, so that reading the file is not counted.
    let mut frames: Vec<OwnedFrame> = Vec::new();
    let mut reader = CaptureReader::open(data.join("phase1.pcap")).unwrap();
    while let Some(frame) = reader.next_frame().unwrap() {
        frames.push((
            frame.number,
            frame.timestamp,
            frame.link_type,
            frame.data.to_vec(),
            frame.original_len,
        ));
    }

    // Warm-up: buffers grow, SAs are prepared, flows are cached. Twice, so that what only replayed
    // packets print (the second pass replays every ESP packet) has grown its buffer too.
    for _ in 0..2 {
        for owned in &frames {
            decoder.decode(&frame(owned), &mut sink);
        }
    }
    // Then every ESP or GRE frame must decode and print with zero allocations.
    let mut checked = 0;
    for owned in &frames {
        let region = Region::new(GLOBAL);
        decoder.decode(&frame(owned), &mut sink);
        let allocations = region.change().allocations + region.change().reallocations;
        if sink.esp_or_gre && !sink.control {
            assert_eq!(
                allocations, 0,
                "frame {} allocated {allocations} times",
                owned.0
            );
            checked += 1;
        }
    }
    assert!(checked >= 28, "only {checked} ESP/GRE frames checked");
}
