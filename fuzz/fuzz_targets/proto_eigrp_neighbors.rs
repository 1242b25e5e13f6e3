//! An EIGRP interface fed Hellos, ACKs and other packets at chosen times: no neighbour outlives its hold
//! time, every Hello it sends parses.
#![no_main]

dmvpn_fuzz::target!(
    dmvpn_proto::fuzzing::eigrp_neighbors,
    per_byte = 64,
    constant = 256 << 10
);
