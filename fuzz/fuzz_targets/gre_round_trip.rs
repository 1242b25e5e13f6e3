//! A GRE header built from arbitrary bytes survives emit then parse.
#![no_main]

dmvpn_fuzz::target!(
    dmvpn_gre::fuzzing::round_trip,
    per_byte = 4,
    constant = 16 << 10
);
