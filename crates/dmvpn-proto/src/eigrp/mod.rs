//! EIGRP (RFC 7868) machines.
//!
//! - [`Eigrp`]: one EIGRP process on a DMVPN tunnel interface — neighbours, the reliable
//!   transport with the INIT exchange, the topology table and DUAL, split horizon and
//!   next-hop-self as IOS has them, MD5 or HMAC-SHA-256 authentication. See [`process`].
//! - [`Neighbors`]: the Hello protocol alone (discovery, hold timers, K-value and AS checks,
//!   goodbyes), which [`Eigrp`] runs inside.

pub mod neighbor;
pub mod process;
pub mod topology;

pub use neighbor::{
    DownReason, EigrpError, Event, HelloConfig, Md5Key, Neighbor, Neighbors, Sha256Key, Transmit,
};
pub use process::{Eigrp, EigrpConfig, EigrpEvent};
pub use topology::{Link, NeighborInfo, PathInfo, Prefix, RouteState, TopologyRoute, Via};
