//! Whatever parses as NHRP emits, re-parses to the same repr and re-emits to the same bytes.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| dmvpn_nhrp::fuzzing::round_trip(data));
