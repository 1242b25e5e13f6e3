//! Arbitrary bytes as a pcap or pcapng file: every frame is read and decoded down to UDP, with IPv4 reassembly
//! under small limits that must hold.
#![no_main]

dmvpn_fuzz::target!(
    dmvpn::capture::fuzzing::read_capture,
    per_byte = 4,
    constant = 1 << 20
);
