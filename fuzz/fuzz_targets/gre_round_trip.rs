//! A GRE header built from arbitrary bytes survives emit then parse.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| dmvpn_gre::fuzzing::round_trip(data));
