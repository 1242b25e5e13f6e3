//! An EIGRP repr built from arbitrary bytes survives emit then parse, byte-exact.
#![no_main]

dmvpn_fuzz::target!(
    dmvpn_eigrp::fuzzing::repr_round_trip,
    per_byte = 8,
    constant = 16 << 10
);
