//! EIGRP (RFC 7868) machines.
//!
//! - [`Eigrp`]: one EIGRP process on a DMVPN tunnel interface — neighbours, the reliable
//!   transport with the INIT exchange, the topology table and DUAL, split horizon and
//!   next-hop-self as IOS has them, MD5 or HMAC-SHA-256 authentication, route events for the
//!   RIB. See [`process`] for the protocol and what IOS does.
//! - [`Neighbors`]: the Hello protocol alone (discovery, hold timers, K-value and AS checks,
//!   goodbyes), which [`Eigrp`] runs inside.
//! - [`fuzz_script`]: three processes driven by arbitrary bytes, for the fuzz targets.
//!
//! A hub and a spoke on the tunnel, wired by hand: the spoke learns the hub's LAN.
//!
//! ```
//! use std::net::Ipv4Addr;
//! use dmvpn_proto::eigrp::{Eigrp, EigrpConfig, EigrpEvent, Event, Link, Prefix};
//! use dmvpn_proto::{Duration, Instant};
//!
//! let (hub_addr, spoke_addr) = (Ipv4Addr::new(172, 16, 1, 1), Ipv4Addr::new(172, 16, 1, 2));
//! let lan = Prefix::new(Ipv4Addr::new(10, 0, 0, 0), 24);
//! let mut now = Instant::ZERO;
//! let mut hub = Eigrp::new(EigrpConfig::new(hub_addr, 123), now);
//! let mut spoke = Eigrp::new(EigrpConfig::new(spoke_addr, 123), now);
//! hub.add_connected(now, lan, Link::GIGABIT_ETHERNET);
//!
//! // Deliver everything each side sends (Hellos go to 224.0.0.10: on a hub, replicate them to
//! // every spoke of the NHRP multicast map) until both are quiet.
//! for _ in 0..10 {
//!     now += Duration::from_millis(10);
//!     while let Some(t) = hub.poll_transmit() {
//!         spoke.handle_packet(now, hub_addr, &t.parse()?)?;
//!     }
//!     while let Some(t) = spoke.poll_transmit() {
//!         hub.handle_packet(now, spoke_addr, &t.parse()?)?;
//!     }
//! }
//! let events: Vec<EigrpEvent> = std::iter::from_fn(|| spoke.poll_event()).collect();
//! assert!(matches!(events[0], EigrpEvent::Neighbor(Event::NeighborUp { address, .. }) if address == hub_addr));
//! assert_eq!(
//!     events[1],
//!     EigrpEvent::RouteInstalled { prefix: lan, next_hop: hub_addr, metric: 26_880_256 }
//! );
//! let route = spoke.route(lan).unwrap();
//! assert_eq!(
//!     route.to_string(),
//!     "P 10.0.0.0/24, 1 successors, FD is 26880256\n        via 172.16.1.1 (26880256/2816), Tunnel0"
//! );
//! // Timers (Hellos, hold, retransmission, active) are due at `poll_timeout()`.
//! assert!(spoke.poll_timeout().is_some());
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

mod fuzz;
pub mod neighbor;
pub mod process;
mod small_map;
pub mod topology;

pub use fuzz::fuzz_script;
pub use neighbor::{
    DownReason, Event, HelloConfig, Md5Key, Neighbor, Neighbors, Sha256Key, Transmit,
};
pub use process::{Eigrp, EigrpConfig, EigrpEvent};

/// Why a packet was ignored.
pub use neighbor::Error;
pub use topology::{Link, NeighborInfo, PathInfo, Prefix, RouteState, TopologyRoute, Via};
