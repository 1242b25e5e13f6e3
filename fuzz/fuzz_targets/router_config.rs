//! The router's IOS-style configuration parser on arbitrary text (lossy UTF-8), strict and
//! lenient: no panic, every diagnostic points into the input, what loads is written back and
//! read again to the same configuration, and checked as a cloud (every finding at a real line).
#![no_main]

dmvpn_fuzz::target!(
    dmvpn_router::fuzzing::parse,
    per_byte = 256,
    constant = 64 << 10
);
