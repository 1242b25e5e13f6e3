//! Arbitrary bytes through the EIGRP view, every TLV and route, and the auth check; must never panic.
#![no_main]

dmvpn_fuzz::target!(
    dmvpn_eigrp::fuzzing::parse_bytes,
    per_byte = 4,
    constant = 16 << 10
);
