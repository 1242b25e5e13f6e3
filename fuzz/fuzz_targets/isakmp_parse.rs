//! Arbitrary bytes as an ISAKMP message and payload chain; whatever parses emits back byte for byte.
#![no_main]

dmvpn_fuzz::target!(
    dmvpn_isakmp::fuzzing::parse_bytes,
    per_byte = 4,
    constant = 16 << 10
);
