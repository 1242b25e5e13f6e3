//! Arbitrary bytes through every GRE reader; whatever parses must emit back unchanged.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| dmvpn_gre::fuzzing::parse_bytes(data));
