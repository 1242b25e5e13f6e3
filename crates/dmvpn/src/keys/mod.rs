//! Key files: Wireshark `esp_sa` (and later `ikev1_decryption_table`).
