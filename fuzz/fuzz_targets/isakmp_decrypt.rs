//! Arbitrary bytes as an encrypted IKEv1 body under a fixed test key and IV: decrypt, walk the payloads, re-encrypt.
#![no_main]

dmvpn_fuzz::target!(
    dmvpn_isakmp::fuzzing::decrypt_bytes,
    per_byte = 8,
    constant = 16 << 10
);
