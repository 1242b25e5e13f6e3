//! The text output: one line per frame that names the tunnel an inner packet came through, spells
//! every NHRP code the same way, and marks a frame the snapshot length cut as tshark does.

// A test: a failed unwrap is a failed test with its reason, not a crash on input.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use dmvpn::capture::{CaptureReader, Frame};
use dmvpn::decode::Decoder;
use dmvpn::keys::EspKeys;
use dmvpn::output::TextLines;
use dmvpn_testkit::{assert_contains, assert_ends_with};

const TESTDATA: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../../testdata");

/// The text lines of a capture, each frame cut to `snaplen` bytes if given.
fn lines(capture: &str, keys: Option<&str>, snaplen: Option<usize>) -> Vec<String> {
    let keys = keys.map_or_else(EspKeys::default, |keys| {
        EspKeys::from_file(format!("{TESTDATA}/{keys}")).unwrap()
    });
    let mut decoder = Decoder::new(keys);
    let mut text = TextLines::new(Vec::new());
    let mut reader = CaptureReader::open(format!("{TESTDATA}/{capture}")).unwrap();
    while let Some(frame) = reader.next_frame().unwrap() {
        let len = snaplen.map_or(frame.data.len(), |cut| cut.min(frame.data.len()));
        let cut = Frame {
            data: &frame.data[..len],
            ..frame
        };
        decoder.decode(&cut, &mut text);
    }
    String::from_utf8(text.finish().unwrap())
        .unwrap()
        .lines()
        .map(str::to_owned)
        .collect()
}

#[test]
fn inner_lines_name_their_tunnel() {
    let text = lines("dmvpn/phase1.pcap", Some("dmvpn/phase1.esp_sa"), None);
    // Frame 32: a spoke's ping inside GRE (tunnel key 123) inside ESP, spoke to hub.
    let line = &text[31];
    assert!(
        line.contains("192.168.11.10 → 192.168.12.10")
            && line.contains("ICMP")
            && line
                .contains("[192.0.2.11→192.0.2.1 ESP 0x1000a001 GRE key=123] Echo (ping) request"),
        "{line}"
    );
    // Frame 33: the hub relays it to the other spoke, another SA, no key on that tunnel.
    assert_contains(
        &text[32],
        "[192.0.2.1→192.0.2.12 ESP 0x2000b002 GRE] Echo (ping) request",
    );
    // Without keys the ESP packet is the innermost layer: no tunnel path.
    let plain = lines("dmvpn/phase1.pcap", None, None);
    assert!(!plain[31].contains('['), "{}", plain[31]);
    assert_contains(&plain[31], "ESP (SPI=0x1000a001) seq=4 no key");
}

#[test]
fn nhrp_codes_read_the_same_in_every_message_type() {
    let text = lines("nhrp/emitted.pcap", None, None);
    let expect = [
        "NHRP Registration Reply, ID=1, code=Success (0)",
        "NHRP Resolution Reply, ID=2, code=Success (0)",
        "NHRP Purge Reply, ID=3, code=Success (0)",
        "NHRP Error Indication, code=Authentication Failure (11), ID=1",
    ];
    for expected in expect {
        assert!(
            text.iter().any(|line| line.ends_with(expected)),
            "no line ends with {expected:?}:\n{}",
            text.join("\n")
        );
    }
    assert!(!text.iter().any(|line| line.contains("Code=")));
}

#[test]
fn cut_frames_are_marked_and_keep_their_headers() {
    let text = lines("dmvpn/phase1.pcap", Some("dmvpn/phase1.esp_sa"), Some(96));
    const MARK: &str = " [Packet size limited during capture]";
    // Frame 12 (166 bytes): ESP, cut after 96: SPI and sequence number, no decryption.
    assert_contains(&text[11], "ESP (SPI=0x1000a001) seq=1 truncated");
    assert_ends_with(&text[11], MARK);
    // Its length column is the length on the wire.
    assert!(text[11].contains(" 166 "), "{}", text[11]);
    // Frame 1: ISAKMP Main Mode, header and no payload whole, no error shown.
    assert_contains(&text[0], "ISAKMP Main Mode i=a1b2c3d4e5f60718");
    assert_ends_with(&text[0], MARK);
    assert!(!text[0].contains('<'), "{}", text[0]);
    // Frame 8 (43 bytes, a NAT-T keepalive) is whole: no mark.
    assert!(text[7].contains("NAT-keepalive") && !text[7].contains(MARK));
    // Frame 42: NHRP in clear GRE, cut inside its CIEs.
    assert_contains(&text[41], "NHRP Resolution Request, ID=99");
    assert_ends_with(&text[41], MARK);
}
