//! EIGRP (RFC 7868) zero-copy codec: header, every TLV, authentication, metrics
#![forbid(unsafe_code)]
