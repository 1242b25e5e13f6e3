//! NHRP (RFC 2332 and Cisco DMVPN extensions) zero-copy codec
#![forbid(unsafe_code)]
