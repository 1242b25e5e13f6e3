//! An IPsec SA database fed its own packets (replayed, reordered, corrupted) and arbitrary bytes: no
//! sequence number is accepted twice.
#![no_main]

dmvpn_fuzz::target!(
    dmvpn_proto::fuzzing::ipsec_sad,
    per_byte = 64,
    constant = 256 << 10
);
