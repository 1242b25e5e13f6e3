//! ESP header and trailer reprs drawn from the input round-trip; a packet sealed with a test SA opens to what was sealed.
#![no_main]

dmvpn_fuzz::target!(
    dmvpn_fuzz::esp::repr_round_trip,
    per_byte = 8,
    constant = 16 << 10
);
