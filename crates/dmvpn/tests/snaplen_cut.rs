//! Frames cut by a capture's snapshot length decode as far as they go, and a length lie in a whole
//! frame stays an error: each frame of the bundled capture is cut at every length, in memory.

// A test: a failed unwrap is a failed test with its reason, not a crash on input.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use dmvpn::capture::{CaptureReader, Frame};
use dmvpn::decode::Decoder;
use dmvpn::keys::EspKeys;
use dmvpn::output::JsonLines;

const DIR: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../../testdata/dmvpn");

/// The bundled capture's frames: (captured bytes, length on the wire).
fn frames() -> Vec<Frame<'static>> {
    let bytes: &'static [u8] = Box::leak(
        std::fs::read(format!("{DIR}/phase1.pcap"))
            .unwrap()
            .into_boxed_slice(),
    );
    let mut reader = CaptureReader::new(bytes).unwrap();
    let mut frames = Vec::new();
    while let Some(frame) = reader.next_frame().unwrap() {
        let data: &'static [u8] = Box::leak(frame.data.to_vec().into_boxed_slice());
        frames.push(Frame { data, ..frame });
    }
    frames
}

/// Decodes one frame alone and returns its JSON object.
fn decode(frame: &Frame<'_>) -> serde_json::Value {
    let keys = EspKeys::from_file(format!("{DIR}/phase1.esp_sa")).unwrap();
    let mut decoder = Decoder::new(keys);
    let mut json = JsonLines::new(Vec::new());
    decoder.decode(frame, &mut json);
    serde_json::from_slice(&json.finish().unwrap()).unwrap()
}

fn layers(value: &serde_json::Value) -> &Vec<serde_json::Value> {
    value["layers"].as_array().unwrap()
}

#[test]
fn every_cut_keeps_the_headers_it_holds() {
    for frame in frames() {
        let whole = decode(&frame);
        // From where the link layer (VLAN tag included) and an IPv4 header fit.
        for len in 38..frame.data.len() {
            let cut = Frame {
                data: &frame.data[..len],
                ..frame
            };
            let value = decode(&cut);
            let got = layers(&value);
            // A cut is never an error at IP, and never a decryption.
            for layer in got {
                assert!(
                    layer.get("error").is_none() || layer["proto"] == "nhrp",
                    "frame {} cut at {len}: {layer}",
                    frame.number
                );
                assert_ne!(
                    layer["decrypted"], true,
                    "frame {} cut at {len}",
                    frame.number
                );
            }
            // Every layer the cut holds is marked, the link layer is not.
            assert!(got[0].get("truncated").is_none());
            if let Some(ip) = got.get(1).filter(|ip| ip["proto"] == "ipv4") {
                let header_len = 14 + usize::from(frame.data[14] & 0x0f) * 4;
                let vlan = frame.data[12..14] == [0x81, 0x00];
                if !vlan && len >= header_len {
                    assert_eq!(ip["truncated"], true, "frame {} cut at {len}", frame.number);
                    assert_eq!(ip["src"], layers(&whole)[1]["src"]);
                }
            }
            // The ESP SPI survives any cut that keeps its 4 bytes; the sequence number its 8.
            if let Some(esp) = layers(&whole).iter().find(|l| l["proto"] == "esp")
                && let Some(cut_esp) = got.iter().find(|l| l["proto"] == "esp")
                && cut_esp.get("spi").is_some()
            {
                assert_eq!(cut_esp["spi"], esp["spi"]);
                assert_eq!(cut_esp["status"], "truncated");
                assert_eq!(cut_esp["truncated"], true);
                assert!(cut_esp.get("seq").is_none() || cut_esp["seq"] == esp["seq"]);
            }
        }
    }
}

#[test]
fn esp_cut_after_its_spi_shows_the_spi_alone() {
    let frame = frames().into_iter().find(|f| f.number == 12).unwrap();
    // Ethernet 14 + IPv4 20 + SPI 4 + 2 bytes of the sequence number.
    let cut = Frame {
        data: &frame.data[..40],
        ..frame
    };
    let value = decode(&cut);
    let esp = layers(&value).iter().find(|l| l["proto"] == "esp").unwrap();
    assert_eq!(esp["spi"], "0x1000a001");
    assert!(esp.get("seq").is_none(), "{esp}");
    assert_eq!(esp["status"], "truncated");
    assert_eq!(esp["truncated"], true);
}

#[test]
fn a_length_lie_in_a_whole_frame_is_an_error() {
    let frame = frames().into_iter().find(|f| f.number == 12).unwrap();
    // The same 60 bytes, but now said to be all there was on the wire: the IPv4 total length
    // claims more than the frame held, which no snapshot length explains.
    let lie = Frame {
        data: &frame.data[..60],
        original_len: 60,
        ..frame
    };
    let value = decode(&lie);
    let ip = &layers(&value)[1];
    assert_eq!(ip["proto"], "ipv4");
    let error = ip["error"].as_str().unwrap();
    assert!(
        error.contains("total length") && error.contains("offset 2"),
        "{error}"
    );
    assert!(ip.get("truncated").is_none());
}
