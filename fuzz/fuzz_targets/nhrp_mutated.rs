//! An NHRP repr drawn from the input is emitted, then edited (XOR, truncate, insert, remove, 16-bit overwrite):
//! the bytes go through every NHRP byte-level check.
#![no_main]

dmvpn_fuzz::target!(
    dmvpn_fuzz::nhrp::mutated,
    per_byte = 16,
    constant = 16 << 10
);
