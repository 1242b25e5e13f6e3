//! Arbitrary bytes through the EIGRP view, every TLV and route, and the auth check; must never panic.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| dmvpn_eigrp::fuzzing::parse_bytes(data));
