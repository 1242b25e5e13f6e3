//! Whatever parses as EIGRP emits back to the same bytes, packet and each TLV.
#![no_main]

dmvpn_fuzz::target!(
    dmvpn_eigrp::fuzzing::round_trip,
    per_byte = 4,
    constant = 16 << 10
);
