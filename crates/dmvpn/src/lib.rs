//! DMVPN capture decoder, decryptor and replayer: library and the dmvpn command
#![forbid(unsafe_code)]
