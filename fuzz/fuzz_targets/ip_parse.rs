//! Arbitrary bytes as IPv4, IPv6, UDP or a link-layer frame (the first byte picks which): nothing
//! panics, and whatever parses emits back to the same header.
#![no_main]

dmvpn_fuzz::target!(dmvpn_ip::fuzzing::parse, per_byte = 4, constant = 16 << 10);
