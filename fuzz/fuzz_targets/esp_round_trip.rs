//! A payload encrypted with a fixed test SA decrypts back to itself, for every transform.
#![no_main]

dmvpn_fuzz::target!(
    dmvpn_esp::fuzzing::round_trip,
    per_byte = 4,
    constant = 16 << 10
);
