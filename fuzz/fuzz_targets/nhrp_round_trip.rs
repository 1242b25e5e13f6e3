//! Whatever parses as NHRP emits, re-parses to the same repr and re-emits to the same bytes.
#![no_main]

dmvpn_fuzz::target!(
    dmvpn_nhrp::fuzzing::round_trip,
    per_byte = 4,
    constant = 16 << 10
);
