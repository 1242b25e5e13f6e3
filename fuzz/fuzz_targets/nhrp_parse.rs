//! Arbitrary bytes through the NHRP view, repr, CIEs, extensions and summary; must never panic.
#![no_main]

dmvpn_fuzz::target!(
    dmvpn_nhrp::fuzzing::parse_bytes,
    per_byte = 4,
    constant = 16 << 10
);
