//! Entry points for the whole-pipeline fuzz target (`fuzz/fuzz_targets/decode_frames.rs`) and its
//! bolero twin in `tests/fuzz_decode.rs`. Compiled with the `fuzzing` feature (hidden from the
//! docs, not API), so the fuzz workspace stays a thin shell. [`decode_frames`] panics only if an
//! invariant breaks.
//!
//! The input is a little format of its own, so a fuzzer can build several frames that interact
//! (fragments that reassemble, ESP sequence numbers that replay):
//!
//! ```text
//! link selector (1 byte, LINK_TYPES[selector % 9])
//! then up to MAX_FRAMES times: length (2 bytes, big-endian) · time step (1 byte, ×250 ms) · frame
//! ```
//!
//! A length past the end of the input takes what is left. `fuzz/seeds.py decode` writes the frames
//! of the pcaps under `testdata/` in this format.

use core::fmt::Write as _;
use core::time::Duration;
use std::sync::OnceLock;

use crate::capture::{Frame, LinkType, Timestamp};
use crate::decode::{Decoder, Layer, Sink};
use crate::keys::EspKeys;
use crate::output::{JsonLines, TextLines};

/// The link types the first byte of the input picks from: BSD loopback, Ethernet, raw IP, OpenBSD
/// loopback, Linux cooked v1, raw IPv4, raw IPv6, Linux cooked v2, PPP.
pub const LINK_TYPES: [u32; 9] = [0, 1, 101, 108, 113, 228, 229, 276, 9];

/// At most this many frames are decoded per input.
pub const MAX_FRAMES: usize = 32;

/// The SA table [`decode_frames`] decrypts with, in Wireshark's `esp_sa` format. First the SAs
/// of `testdata/dmvpn/phase1.pcap` (so its frames, the seeds, decrypt and authenticate), then
/// one line per transform the decoder supports, for any addresses, on SPI `0x?00000NN` (32-bit
/// sequence numbers) and `0x?00001NN` (ESN): `NN` 01–06 NULL, 07–0c 3DES-CBC, 0d–12 AES-CBC
/// (128/192/256-bit keys in turn), 13–15 AES-GCM with an 8, 12 and 16 byte ICV, each encryption
/// with no integrity, then HMAC-MD5-96, -SHA1-96, -SHA256-128, -SHA384-192 and -SHA512-256.
/// Every other SPI below `0x00010000` is NULL encryption without integrity, so the fuzzer reaches
/// the tunnelled protocols without forging an ICV; other SPIs have no key.
///
/// Every SPI has a wildcard first digit (`?` above; the phase1 SPIs too, which still match
/// themselves first): a wildcard line's keys are only prepared when a packet uses it, and
/// preparing all of them for every input would cost more than the decoding.
#[must_use]
pub fn test_keys_text() -> String {
    const ENCRYPTION: [(&str, usize); 6] = [
        ("NULL", 0),
        ("TripleDES-CBC [RFC2451]", 24),
        ("AES-CBC [RFC3602]", 16),
        ("AES-GCM with 8 octet ICV [RFC4106]", 20),
        ("AES-GCM with 12 octet ICV [RFC4106]", 28),
        ("AES-GCM with 16 octet ICV [RFC4106]", 36),
    ];
    const INTEGRITY: [(&str, usize); 6] = [
        ("NULL", 0),
        ("HMAC-MD5-96 [RFC2403]", 16),
        ("HMAC-SHA-1-96 [RFC2404]", 20),
        ("HMAC-SHA-256-128 [RFC4868]", 32),
        ("HMAC-SHA-384-192 [RFC4868]", 48),
        ("HMAC-SHA-512-256 [RFC4868]", 64),
    ];
    let key = |len: usize, salt: usize| -> String {
        let mut text = String::from(if len == 0 { "" } else { "0x" });
        for i in 0..len {
            let _ = write!(text, "{:02x}", (i * 37 + salt * 11) & 0xff);
        }
        text
    };
    let mut text = String::new();
    for line in include_str!("../../../testdata/dmvpn/phase1.esp_sa").lines() {
        // "IPv4","src","dst","0x1000a001",… → …,"0x*000a001",…
        let fields: Vec<String> = line
            .split(r#"",""#)
            .enumerate()
            .map(
                |(i, field)| match field.strip_prefix("0x").and_then(|d| d.get(1..)) {
                    Some(rest) if i == 3 && rest.len() == 7 => format!("0x*{rest}"),
                    _ => field.to_owned(),
                },
            )
            .collect();
        text.push_str(&fields.join(r#"",""#));
        text.push('\n');
    }
    let mut number = 0;
    for (e, (encryption, mut enc_len)) in ENCRYPTION.into_iter().enumerate() {
        // GCM has no separate integrity; the CBC and NULL ciphers take every HMAC.
        let integrities = if e >= 3 {
            &INTEGRITY[..1]
        } else {
            &INTEGRITY[..]
        };
        for (integrity, int_len) in integrities {
            number += 1;
            if e == 2 {
                enc_len = [16, 24, 32][number % 3];
            }
            for (esn, length) in [(0, "32-bit"), (1, "64-bit")] {
                let _ = writeln!(
                    text,
                    r#""Any","*","*","0x*{esn:05x}{number:02x}","{encryption}","{}","{integrity}","{}","{length}","0x0""#,
                    key(enc_len, number),
                    key(*int_len, number + 100),
                );
            }
        }
    }
    text.push_str(r#""Any","*","*","0x0000****","NULL","","NULL","""#);
    text.push('\n');
    text
}

/// Decodes the frames described by `data` (see the [module documentation](self)) with a fresh
/// [`Decoder`] over [`test_keys_text`], writing every frame as text and as JSON Lines. Panics if a
/// frame's layers do not come between its start and end, if the output is not one line per frame,
/// if a JSON line is not well-formed JSON or nests deeper than the layers can, or if the
/// statistics disagree with what the sink saw. Returns the number of frames decoded.
pub fn decode_frames(data: &[u8]) -> usize {
    let Some((selector, mut rest)) = data.split_first() else {
        return 0;
    };
    let link_type = LinkType(LINK_TYPES[usize::from(*selector) % LINK_TYPES.len()]);
    static KEYS: OnceLock<String> = OnceLock::new();
    let keys = match EspKeys::parse(KEYS.get_or_init(test_keys_text)) {
        Ok(keys) => keys,
        Err(error) => panic!("the test keys do not parse: {error}"),
    };
    let mut decoder = Decoder::new(keys);
    let mut sink = Checked {
        text: TextLines::new(Vec::new()),
        json: JsonLines::new(Vec::new()),
        in_frame: false,
        frames: 0,
        errors: 0,
        esp: 0,
    };
    let mut timestamp = Timestamp::default();
    while let [len_hi, len_lo, step, tail @ ..] = rest {
        if sink.frames == MAX_FRAMES {
            break;
        }
        let len = usize::from(u16::from_be_bytes([*len_hi, *len_lo])).min(tail.len());
        let (bytes, next) = tail.split_at(len);
        rest = next;
        timestamp = timestamp.saturating_add(Duration::from_millis(u64::from(*step) * 250));
        let frame = Frame {
            number: sink.frames as u64 + 1,
            timestamp,
            link_type,
            interface: 0,
            data: bytes,
            original_len: u32::try_from(bytes.len()).unwrap_or(u32::MAX),
            offset: 0,
        };
        decoder.decode(&frame, &mut sink);
        assert!(!sink.in_frame, "frame_end missing");
        assert_eq!(sink.frames as u64, decoder.stats().frames);
    }
    let stats = decoder.stats();
    assert_eq!(stats.errors, sink.errors);
    // Every ESP packet the decoder counts shows as an ESP layer, an ESP error or too deep a nesting.
    assert_eq!(stats.esp, sink.esp);
    assert!(stats.esp_decrypted + stats.esp_no_key + stats.esp_icv_failed <= stats.esp);
    let frames = sink.frames;
    let text = match sink.text.finish() {
        Ok(text) => text,
        Err(error) => panic!("writing to a Vec failed: {error}"),
    };
    let json = match sink.json.finish() {
        Ok(json) => json,
        Err(error) => panic!("writing to a Vec failed: {error}"),
    };
    let text = match String::from_utf8(text) {
        Ok(text) => text,
        Err(error) => panic!("the text output is not UTF-8: {error}"),
    };
    assert_eq!(text.lines().count(), frames, "{text}");
    let mut lines = 0;
    for line in json.split(|&b| b == b'\n').filter(|line| !line.is_empty()) {
        lines += 1;
        if let Err(at) = check_json(line) {
            panic!(
                "JSON line {lines} is malformed at byte {at}: {}",
                String::from_utf8_lossy(line)
            );
        }
    }
    assert_eq!(lines, frames);
    frames
}

/// A sink that writes both formats and checks the frame protocol.
struct Checked {
    text: TextLines<Vec<u8>>,
    json: JsonLines<Vec<u8>>,
    in_frame: bool,
    frames: usize,
    errors: u64,
    /// ESP packets: ESP layers, ESP errors and ESP nested too deep.
    esp: u64,
}

impl Sink for Checked {
    fn frame_start(&mut self, frame: &Frame<'_>) {
        assert!(!self.in_frame, "frame_start inside a frame");
        self.in_frame = true;
        self.frames += 1;
        self.text.frame_start(frame);
        self.json.frame_start(frame);
    }

    fn layer(&mut self, layer: &Layer<'_>) {
        assert!(self.in_frame, "a layer outside a frame");
        match layer {
            Layer::Error { proto, .. } => {
                self.errors += 1;
                self.esp += u64::from(*proto == "esp");
            }
            Layer::Esp(_)
            | Layer::Data {
                what: "esp nested too deep",
                ..
            } => self.esp += 1,
            _ => {}
        }
        let mut info = String::new();
        let _ = layer.info(&mut info);
        assert!(
            !info.contains('\n'),
            "a newline in the info column: {info:?}"
        );
        self.text.layer(layer);
        self.json.layer(layer);
    }

    fn truncated(&mut self) {
        assert!(self.in_frame, "truncated outside a frame");
        self.text.truncated();
        self.json.truncated();
    }

    fn frame_end(&mut self) {
        assert!(self.in_frame, "frame_end outside a frame");
        self.in_frame = false;
        self.text.frame_end();
        self.json.frame_end();
    }
}

/// How deep JSON may nest: frame, layers, a layer, its lists and their objects, with room to spare.
const MAX_JSON_DEPTH: usize = 16;

/// Checks that `line` is exactly one JSON value (RFC 8259) with no raw control characters, nesting at
/// most [`MAX_JSON_DEPTH`] deep; on failure, the byte offset where it went wrong.
fn check_json(line: &[u8]) -> Result<(), usize> {
    let mut json = Json { bytes: line, at: 0 };
    json.value(0)?;
    if json.at == line.len() {
        Ok(())
    } else {
        Err(json.at)
    }
}

/// A recursive-descent JSON checker (no values are built).
struct Json<'a> {
    bytes: &'a [u8],
    at: usize,
}

impl Json<'_> {
    fn peek(&self) -> Option<u8> {
        self.bytes.get(self.at).copied()
    }

    fn eat(&mut self, byte: u8) -> Result<(), usize> {
        if self.peek() == Some(byte) {
            self.at += 1;
            Ok(())
        } else {
            Err(self.at)
        }
    }

    fn skip_space(&mut self) {
        while matches!(self.peek(), Some(b' ' | b'\t' | b'\r')) {
            self.at += 1;
        }
    }

    /// An object's or an array's members, from its opening bracket through `close`: each a
    /// value, after `"key":` in an object.
    fn members(&mut self, close: u8, depth: usize, keyed: bool) -> Result<(), usize> {
        self.at += 1;
        self.skip_space();
        if self.peek() == Some(close) {
            self.at += 1;
            return Ok(());
        }
        loop {
            if keyed {
                self.skip_space();
                self.string()?;
                self.skip_space();
                self.eat(b':')?;
            }
            self.value(depth + 1)?;
            self.skip_space();
            match self.peek() {
                Some(b',') => self.at += 1,
                Some(c) if c == close => break,
                _ => return Err(self.at),
            }
        }
        self.at += 1;
        Ok(())
    }

    fn value(&mut self, depth: usize) -> Result<(), usize> {
        if depth > MAX_JSON_DEPTH {
            return Err(self.at);
        }
        self.skip_space();
        match self.peek() {
            Some(b'{') => self.members(b'}', depth, true)?,
            Some(b'[') => self.members(b']', depth, false)?,
            Some(b'"') => self.string()?,
            Some(b'-' | b'0'..=b'9') => self.number()?,
            Some(b't') => self.literal(b"true")?,
            Some(b'f') => self.literal(b"false")?,
            Some(b'n') => self.literal(b"null")?,
            _ => return Err(self.at),
        }
        self.skip_space();
        Ok(())
    }

    fn literal(&mut self, word: &[u8]) -> Result<(), usize> {
        if self.bytes.get(self.at..self.at + word.len()) == Some(word) {
            self.at += word.len();
            Ok(())
        } else {
            Err(self.at)
        }
    }

    fn string(&mut self) -> Result<(), usize> {
        self.eat(b'"')?;
        let start = self.at;
        loop {
            match self.peek() {
                Some(b'"') => break,
                Some(b'\\') => {
                    self.at += 1;
                    match self.peek() {
                        Some(b'"' | b'\\' | b'/' | b'b' | b'f' | b'n' | b'r' | b't') => {
                            self.at += 1;
                        }
                        Some(b'u') => {
                            self.at += 1;
                            for _ in 0..4 {
                                if !self.peek().is_some_and(|b| b.is_ascii_hexdigit()) {
                                    return Err(self.at);
                                }
                                self.at += 1;
                            }
                        }
                        _ => return Err(self.at),
                    }
                }
                Some(0..0x20) | None => return Err(self.at),
                Some(_) => self.at += 1,
            }
        }
        // Strings hold text: UTF-8, whatever bytes the packet had.
        if core::str::from_utf8(&self.bytes[start..self.at]).is_err() {
            return Err(start);
        }
        self.at += 1;
        Ok(())
    }

    fn number(&mut self) -> Result<(), usize> {
        if self.peek() == Some(b'-') {
            self.at += 1;
        }
        match self.peek() {
            Some(b'0') => self.at += 1,
            Some(b'1'..=b'9') => self.digits(),
            _ => return Err(self.at),
        }
        if self.peek() == Some(b'.') {
            self.at += 1;
            if !self.peek().is_some_and(|b| b.is_ascii_digit()) {
                return Err(self.at);
            }
            self.digits();
        }
        if matches!(self.peek(), Some(b'e' | b'E')) {
            self.at += 1;
            if matches!(self.peek(), Some(b'+' | b'-')) {
                self.at += 1;
            }
            if !self.peek().is_some_and(|b| b.is_ascii_digit()) {
                return Err(self.at);
            }
            self.digits();
        }
        Ok(())
    }

    fn digits(&mut self) {
        while self.peek().is_some_and(|b| b.is_ascii_digit()) {
            self.at += 1;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn test_keys_cover_every_transform() {
        let text = test_keys_text();
        assert!(text.contains(r#""0x*000a001""#), "{text}");
        assert!(text.contains(r#""0x*0000115""#), "{text}");
        let keys = EspKeys::parse(&text).unwrap();
        let phase1 = include_str!("../../../testdata/dmvpn/phase1.esp_sa")
            .lines()
            .filter(|line| line.starts_with('"'))
            .count();
        // The phase1 SAs, 2 × (6 + 6 + 6 + 3) transforms, the NULL catch-all.
        assert_eq!(keys.len(), phase1 + 42 + 1);
    }

    #[test]
    fn the_json_checker_accepts_json_and_refuses_the_rest() {
        for good in [
            &br#"{"a":[1,-2.5e3,true,false,null,"x\u00e9\n"],"b":{}}"#[..],
            b"[]",
            br#""""#,
            b"0",
        ] {
            assert_eq!(
                check_json(good),
                Ok(()),
                "{}",
                String::from_utf8_lossy(good)
            );
        }
        for (bad, at) in [
            (&br#"{"a":1"#[..], 6),
            (br#"{"a":1,}"#, 7),
            (b"[1,]", 3),
            (br#"{"a" 1}"#, 5),
            (b"01", 1),
            (b"\"\x01\"", 1),
            (b"\"\\x\"", 2),
            (b"{}}", 2),
            (b"tru", 0),
            (b"\"\xff\"", 1),
            (b"[[[[[[[[[[[[[[[[[[]]]]]]]]]]]]]]]]]]", 17),
        ] {
            assert_eq!(check_json(bad), Err(at), "{}", String::from_utf8_lossy(bad));
        }
    }

    /// Found by `decode_frames` in its first seconds: an ESP packet too short for its header is
    /// counted in `Stats::esp` but shows as an error layer, not an ESP layer; the harness counted
    /// only ESP layers and failed.
    #[test]
    fn regression_a_truncated_esp_packet_is_an_esp_packet() {
        #[rustfmt::skip]
        let input = [
            5, // raw IPv4
            0, 24, 0,
            0x45, 0, 0, 24, 0, 0, 0, 0, 64, 50, 0, 0, 10, 0, 0, 1, 10, 0, 0, 2,
            0, 0, 0, 1, // half an ESP header
        ];
        assert_eq!(decode_frames(&input), 1);
    }

    #[test]
    fn empty_and_short_inputs() {
        assert_eq!(decode_frames(&[]), 0);
        assert_eq!(decode_frames(&[1, 0]), 0);
        assert_eq!(decode_frames(&[1, 0, 0, 0]), 1);
        assert_eq!(decode_frames(&[1, 0xff, 0xff, 0, 1, 2, 3]), 1);
        assert_eq!(
            decode_frames(&[[1].as_slice(), &[0; 3 * 40]].concat()),
            MAX_FRAMES
        );
    }
}
