//! An EIGRP repr built from arbitrary bytes survives emit then parse, byte-exact.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| dmvpn_eigrp::fuzzing::repr_round_trip(data));
