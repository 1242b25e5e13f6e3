//! GRE (RFC 2784, RFC 2890) zero-copy codec: view, repr, emit, checksum
#![forbid(unsafe_code)]
