//! An IPv4 datagram built from the input survives emit then parse; its fragments reassemble to it,
//! and TTL decrement, MSS clamping and ICMP "fragmentation needed" keep their checksums right.
#![no_main]

dmvpn_fuzz::target!(
    dmvpn_ip::fuzzing::round_trip,
    per_byte = 24,
    constant = 1 << 20
);
