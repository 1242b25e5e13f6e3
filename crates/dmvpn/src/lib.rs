//! Read, check and decrypt DMVPN captures.
//!
//! The library behind the `dmvpn` command: [`capture`] reads pcap and pcapng files down to IPv4/UDP
//! (with fragment reassembly), [`keys`] reads the key files users already have (Wireshark's `esp_sa`),
//! and the [`decode::Decoder`] turns each frame into its protocol layers, decrypting ESP on the way,
//! and hands them to a [`decode::Sink`]: the text and JSON writers of [`output`], the
//! [`session::SessionBuilder`] behind `dmvpn sessions`, or one of your own.
//!
//! A custom sink that tells the NHRP packets that came out of ESP from those in clear GRE:
//!
//! ```
//! use dmvpn::capture::{CaptureReader, Frame};
//! use dmvpn::decode::{Decoder, Layer, Sink};
//! use dmvpn::keys::EspKeys;
//!
//! #[derive(Default)]
//! struct NhrpOrigin {
//!     in_esp: bool,
//!     protected: Vec<u64>,
//!     clear: Vec<u64>,
//!     frame: u64,
//! }
//!
//! impl Sink for NhrpOrigin {
//!     fn frame_start(&mut self, frame: &Frame<'_>) {
//!         (self.frame, self.in_esp) = (frame.number, false);
//!     }
//!     fn layer(&mut self, layer: &Layer<'_>) {
//!         match layer {
//!             Layer::Esp(esp) => self.in_esp |= esp.decrypted(),
//!             Layer::Nhrp(_) if self.in_esp => self.protected.push(self.frame),
//!             Layer::Nhrp(_) => self.clear.push(self.frame),
//!             _ => {}
//!         }
//!     }
//! }
//!
//! let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/../../testdata/dmvpn");
//! let mut decoder = Decoder::new(EspKeys::from_file(format!("{dir}/phase1.esp_sa"))?);
//! let mut reader = CaptureReader::open(format!("{dir}/phase1.pcap"))?;
//! let mut sink = NhrpOrigin::default();
//! while let Some(frame) = reader.next_frame()? {
//!     decoder.decode(&frame, &mut sink);
//! }
//! assert_eq!(sink.protected, [12, 13, 14, 15, 16, 17, 18, 19, 20, 21]); // five registrations
//! assert_eq!(sink.clear, [42]);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! # Features
//!
//! `cli` (default) builds the `dmvpn` command and turns on `replay-into` (`replay::into`, the
//! capture replayed into `dmvpn-proto`'s machines) and `replay-socket` (`replay::PacketSocket`).
//! With `default-features = false` the library builds without clap, pnet and `dmvpn-proto`.
//! `parquet` adds `export`.
#![forbid(unsafe_code)]

/// The README's examples, compiled and run as doc tests.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
struct ReadmeDoctests;

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
