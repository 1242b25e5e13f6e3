//! A small DMVPN Phase 1 reference router: a hub or a spoke from an IOS-style configuration.
//!
//! [`config`] reads the configuration (the commands of a Cisco IOS DMVPN hub or spoke: the
//! tunnel interface with its NHRP and EIGRP commands, `router eigrp`, `crypto isakmp`,
//! `crypto ipsec`), checks it, and reports every problem with its line.
//!
//! ```
//! use dmvpn_router::config::{Config, Options, Role};
//!
//! let hub = include_str!("../../../testdata/router/hub.cfg");
//! let parsed = Config::parse(hub, Options::default())?;
//! assert_eq!(parsed.config.tunnel().map(|t| t.role()), Some(Role::Hub));
//! assert!(parsed.warnings.is_empty());
//! # Ok::<(), dmvpn_router::config::Errors>(())
//! ```
#![forbid(unsafe_code)]

/// The README's examples, compiled and run as doc tests.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
struct ReadmeDoctests;

pub mod config;
#[cfg(any(test, feature = "fuzzing"))]
#[doc(hidden)]
pub mod fuzzing;
pub mod io;
pub mod node;
mod show;
pub mod simulate;
