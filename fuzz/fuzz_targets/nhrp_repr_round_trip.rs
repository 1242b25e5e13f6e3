//! An NHRP repr drawn from the input (every message type, CIEs, every extension kind) emits and parses back to itself;
//! every shorter prefix is refused.
#![no_main]

dmvpn_fuzz::target!(
    dmvpn_fuzz::nhrp::repr_round_trip,
    per_byte = 16,
    constant = 16 << 10
);
