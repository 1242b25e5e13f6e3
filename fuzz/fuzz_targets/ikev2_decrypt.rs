//! Arbitrary bytes as an IKEv2 SK or SKF payload under fixed test keys of every algorithm:
//! decrypt, check the ICV, walk the inner payloads, reassemble.
#![no_main]

dmvpn_fuzz::target!(
    dmvpn_isakmp::v2::fuzzing::decrypt_bytes,
    per_byte = 8,
    constant = 16 << 10
);
