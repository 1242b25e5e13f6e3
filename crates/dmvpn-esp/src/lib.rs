//! ESP (RFC 4303): header view, security associations, decrypt and encrypt, anti-replay
#![forbid(unsafe_code)]
