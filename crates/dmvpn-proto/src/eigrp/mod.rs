//! EIGRP (RFC 7868) machines. So far: neighbour discovery ([`Neighbors`]), the Hello protocol
//! with hold timers, K-value and autonomous-system checks, MD5 authentication and goodbyes. The reliable transport,
//! the INIT exchange and DUAL are not here yet.

pub mod neighbor;

pub use neighbor::{
    DownReason, EigrpError, Event, HelloConfig, Md5Key, Neighbor, Neighbors, Transmit,
};
