//! Arbitrary bytes as an ESP header and as a decrypted trailer; the header re-emits unchanged.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| dmvpn_esp::fuzzing::parse_bytes(data));
