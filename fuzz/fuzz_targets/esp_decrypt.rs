//! Arbitrary bytes decrypted with a fixed test SA (chosen by the first two bytes), directly and through the replay window: the ICV, padding and anti-replay checks are reached, never skipped.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| dmvpn_esp::fuzzing::decrypt(data));
