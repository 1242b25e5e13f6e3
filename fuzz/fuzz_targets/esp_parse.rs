//! Arbitrary bytes as an ESP header and as a decrypted trailer; the header re-emits unchanged.
#![no_main]

dmvpn_fuzz::target!(
    dmvpn_esp::fuzzing::parse_bytes,
    per_byte = 4,
    constant = 16 << 10
);
