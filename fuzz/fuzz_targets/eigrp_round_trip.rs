//! Whatever parses as EIGRP emits back to the same bytes, packet and each TLV.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| dmvpn_eigrp::fuzzing::round_trip(data));
