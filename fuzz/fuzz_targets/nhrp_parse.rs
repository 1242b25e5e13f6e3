//! Arbitrary bytes through the NHRP view, repr, CIEs, extensions and summary; must never panic.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| dmvpn_nhrp::fuzzing::parse_bytes(data));
