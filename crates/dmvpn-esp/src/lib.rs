//! ESP (RFC 4303): header view, security associations, decrypt and encrypt, anti-replay.
#![cfg_attr(not(test), no_std)]
#![forbid(unsafe_code)]

extern crate alloc;

mod sa;

pub use dmvpn_wire::Error;
pub use sa::{Encryption, Integrity, KeyError, Sa};
