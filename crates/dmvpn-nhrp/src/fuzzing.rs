//! Entry points for the fuzz targets in `fuzz/` (with the `fuzzing` feature, hidden from the docs;
//! they let the targets stay one line long). Under `cfg(fuzzing)` the checksum is not verified, so
//! the fuzzer reaches the parsers behind it.


use crate::{Packet, Repr};

/// Parses arbitrary bytes the way a decoder would: the view, the repr, every CIE and extension,
/// a nested Error Indication packet and the one-line summary. Must never panic.
pub fn parse_bytes(data: &[u8]) {
    let Ok(packet) = Packet::new_checked(data) else {
        return;
    };
    let _ = (packet.verify_checksum(), packet.body(), packet.extensions());
    let Ok(repr) = Repr::parse(&packet) else {
        return;
    };
    let _ = core::fmt::write(&mut Sink, format_args!("{repr} {repr:?}"));
    if let crate::Message::ErrorIndication(error) = repr.message {
        let _ = error.parse_packet();
    }
}

/// Parses arbitrary bytes and, if they parse, emits the repr and parses the result again:
/// panics unless the second parse gives the same repr and emitting it again the same bytes.
pub fn round_trip(data: &[u8]) {
    let Ok(repr) = crate::parse(data) else { return };
    let first = repr.to_bytes();
    let again = match crate::parse(&first) {
        Ok(again) => again,
        Err(err) => panic!("emitted packet does not parse: {err}\n{repr:?}"),
    };
    assert_eq!(again, repr);
    assert_eq!(again.to_bytes(), first);
}

struct Sink;

impl core::fmt::Write for Sink {
    fn write_str(&mut self, _: &str) -> core::fmt::Result {
        Ok(())
    }
}
