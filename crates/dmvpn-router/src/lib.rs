//! A small DMVPN Phase 1 reference router: a hub or a spoke from an IOS-style configuration.
#![forbid(unsafe_code)]
