//! Arbitrary bytes as an encrypted IKEv1 body under a fixed test key and IV: decrypt, walk the payloads, re-encrypt.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| dmvpn_isakmp::fuzzing::decrypt_bytes(data));
