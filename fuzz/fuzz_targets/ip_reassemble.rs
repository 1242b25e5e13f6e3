//! A sequence of IPv4 fragments described by the input through the reassembler: its caps hold and what completes
//! is within the datagram limit.
#![no_main]

dmvpn_fuzz::target!(
    dmvpn_ip::fuzzing::reassemble,
    per_byte = 16,
    constant = 1 << 20
);
