//! Arbitrary bytes decrypted with a fixed test SA (chosen by the first two bytes), directly and through the replay window: the ICV, padding and anti-replay checks are reached, never skipped.
#![no_main]

dmvpn_fuzz::target!(
    dmvpn_esp::fuzzing::decrypt,
    per_byte = 4,
    constant = 16 << 10
);
