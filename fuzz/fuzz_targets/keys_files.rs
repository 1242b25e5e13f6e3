//! Arbitrary bytes as a key file of any kind (esp_sa, tcpdump -E, ikev1_decryption_table,
//! crypto isakmp key), detected by content: errors name the keys, warnings a line, SAs print
//! back redacted and prepare.
#![no_main]

dmvpn_fuzz::target!(
    dmvpn::keys::fuzzing::load_key_file,
    per_byte = 64,
    constant = 64 << 10
);
