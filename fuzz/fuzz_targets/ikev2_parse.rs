//! Arbitrary bytes as an IKEv2 message and payload chain; whatever parses emits back byte for byte.
#![no_main]

dmvpn_fuzz::target!(
    dmvpn_isakmp::v2::fuzzing::parse_bytes,
    per_byte = 8,
    constant = 16 << 10
);
