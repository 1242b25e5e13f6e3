//! A packet sealed with a test SA, then edited: never opens when the SA has an ICV, never panics when it has none.
#![no_main]

dmvpn_fuzz::target!(dmvpn_fuzz::esp::mutated, per_byte = 8, constant = 16 << 10);
