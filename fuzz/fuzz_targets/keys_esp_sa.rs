//! Arbitrary bytes as a Wireshark esp_sa file: errors carry a location, parsed lines print back redacted.
#![no_main]

dmvpn_fuzz::target!(
    dmvpn::keys::fuzzing::parse_esp_sa,
    per_byte = 64,
    constant = 64 << 10
);
