//! The `dmvpn` command, one module per part: the command line ([`args`]), each command, what
//! they share (the input, the progress line) and the exit statuses ([`exit`]).

pub(crate) mod args;
pub(crate) mod decode;
pub(crate) mod decrypt;
pub(crate) mod exit;
#[cfg(feature = "parquet")]
pub(crate) mod export;
pub(crate) mod input;
pub(crate) mod man;
pub(crate) mod progress;
pub(crate) mod replay;
pub(crate) mod sessions;
