//! ISAKMP / IKEv1 (RFC 2408, RFC 2409) codec, decryption and key schedule
#![forbid(unsafe_code)]
