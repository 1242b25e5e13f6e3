//! Read, check and decrypt DMVPN captures.
//!
//! The library behind the `dmvpn` command: [`capture`] reads pcap and pcapng files down to IPv4/UDP
//! (with fragment reassembly), [`keys`] reads the key files users already have (Wireshark's `esp_sa`),
//! and the decoder turns each frame into its protocol layers.
#![forbid(unsafe_code)]

pub mod capture;
pub mod decode;
pub mod decrypt;
#[cfg(feature = "parquet")]
pub mod export;
pub mod filter;
#[cfg(any(test, feature = "fuzzing"))]
#[doc(hidden)]
pub mod fuzzing;
pub mod json;
pub mod keys;
pub mod output;
pub mod parallel;
pub mod replay;
pub mod report;
pub mod session;
pub mod transport;
