//! Arbitrary bytes through every GRE reader; whatever parses must emit back unchanged.
#![no_main]

dmvpn_fuzz::target!(
    dmvpn_gre::fuzzing::parse_bytes,
    per_byte = 4,
    constant = 16 << 10
);
