//! Arbitrary bytes as an ISAKMP message and payload chain; whatever parses emits back byte for byte.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| dmvpn_isakmp::fuzzing::parse_bytes(data));
