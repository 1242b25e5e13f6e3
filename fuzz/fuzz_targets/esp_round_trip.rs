//! A payload encrypted with a fixed test SA decrypts back to itself, for every transform.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| dmvpn_esp::fuzzing::round_trip(data));
