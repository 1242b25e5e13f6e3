//! Arbitrary bytes as a `-Y` display filter: errors name a column inside the text, whatever
//! parses prints back as given and evaluates on frames of every field without panicking.
#![no_main]

dmvpn_fuzz::target!(
    dmvpn::filter::fuzzing::parse_bytes,
    per_byte = 512,
    constant = 64 << 10
);
