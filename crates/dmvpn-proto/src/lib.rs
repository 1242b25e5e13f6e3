//! Sans-IO state machines of a DMVPN Phase 1 hub and spoke: the NHRP client and server
//! ([`nhrp`]), the IPsec SA database ([`ipsec`]) and EIGRP neighbour discovery ([`eigrp`]).
//! [`node`] joins them into one hub or spoke, and [`router`] joins the node and IKEv1 ([`ike`])
//! into a whole router: every decision between them (keys, rekeys, Deletes, dead hubs) is made
//! there, so that a shell around it only moves bytes.
//!
//! Nothing here does I/O or reads a clock. Time ([`Instant`]), received packets (as the codecs'
//! parsed `Repr`s) and randomness go in; packets to send, timers and events come out, in the
//! shape of quinn-proto:
//!
//! - `handle_message(now, from, &repr)` / `handle_timeout(now)` feed the machine;
//! - `poll_transmit()` yields the packets to send, built with the codecs' `emit`;
//! - `poll_timeout()` says when `handle_timeout` must run next;
//! - `poll_event()` yields what the caller acts on (registered, expired, SA soft lifetime …).
//!
//! A spoke registering with a hub, the two machines wired together by hand:
//!
//! ```
//! use std::net::Ipv4Addr;
//! use dmvpn_proto::nhrp::{Client, ClientConfig, ClientEvent, Nhs, Server, ServerConfig};
//! use dmvpn_proto::{Duration, Instant};
//!
//! let (hub_nbma, hub_tunnel) = (Ipv4Addr::new(100, 1, 1, 1), Ipv4Addr::new(172, 16, 1, 1));
//! let spoke_nbma = Ipv4Addr::new(100, 1, 1, 2);
//! let mut config = ClientConfig::new(
//!     Ipv4Addr::new(172, 16, 1, 2),
//!     spoke_nbma,
//!     vec![Nhs { tunnel: hub_tunnel, nbma: hub_nbma }],
//! );
//! config.holding_time = 300;
//! let mut hub = Server::new(ServerConfig::new(hub_tunnel, hub_nbma), 1);
//!
//! // t = 0: the spoke sends its Registration Request at once.
//! let now = Instant::ZERO;
//! let mut spoke = Client::new(config, now, 0x1000);
//! let request = spoke.poll_transmit().unwrap();
//! assert_eq!(request.to, hub_nbma);
//! assert_eq!(request.parse()?.to_string(), "NHRP Registration Request, ID=4096");
//!
//! // The hub takes it and answers; the spoke is registered.
//! hub.handle_message(now, spoke_nbma, &request.parse()?)?;
//! let reply = hub.poll_transmit().unwrap();
//! assert_eq!(reply.to, spoke_nbma);
//! spoke.handle_message(now, hub_nbma, &reply.parse()?)?;
//! assert!(matches!(spoke.poll_event(), Some(ClientEvent::Registered { nat_address: None, .. })));
//! assert_eq!(hub.multicast_nbma().collect::<Vec<_>>(), [spoke_nbma]);
//!
//! // The refresh is due a third of the holding time later; the hub expires the entry after it.
//! assert_eq!(spoke.poll_timeout(), Some(now + Duration::from_secs(100)));
//! assert_eq!(hub.poll_timeout(), Some(now + Duration::from_secs(300)));
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! # Packets and addresses
//!
//! The machines take the outer (NBMA) source address with each packet, because NAT between a
//! spoke and the hub makes it differ from the address inside the packet, and they return
//! [`nhrp::Transmit`]s with an NBMA destination and the packet's bytes. DMVPN runs IPv4 on both
//! levels, and so do the machines; other families are refused with an [`nhrp::Error`].
//!
//! Every machine hands out the one [`Transmit`] type (its `protocol` says what the bytes are) and
//! refuses input with its own typed error under one name: [`nhrp::Error`], [`eigrp::Error`] and
//! [`ike::Error`].
//!
//! # Checked against real routers
//!
//! The spoke's Registration Request and the hub's Registration Reply are byte for byte those of
//! Cisco IOS in packetlife's `NHRP_registration.cap`, the Authentication extension sits where
//! IOS puts it (tcpdump's `NHRP_registration.pcap`), and the EIGRP Hello and goodbye are those
//! of IOS 12.4 in packetlife's `EIGRP_goodbye.cap` (`tests/nhrp_ios.rs`, `tests/eigrp.rs`). The
//! scenario tests (`tests/nhrp.rs`, `tests/nhrp_sim.rs`) run hubs and spokes on an in-memory
//! network with a virtual clock, loss, duplication and reordering, and state in each test the
//! outcome an IOS cloud shows. The fuzz targets (with the `fuzzing` feature) drive every machine
//! with arbitrary scripts.
//!
//! # Not here yet
//!
//! IOS's `crypto ikev2 …` configuration in `dmvpn-router`: the [`router::Router`] runs over
//! IKEv2 ([`router::Router::with_ikev2`], tests `tests/router_ikev2.rs`), but the reference
//! router cannot be configured for it yet. (Phase 2 and 3 resolution, redirects and shortcuts
//! are the node's: [`node::Node::shortcuts`], [`nhrp::shortcut`]; tests `tests/phase2.rs`,
//! `tests/phase3.rs`.)
#![cfg_attr(not(test), no_std)]
#![forbid(unsafe_code)]

/// The README's examples, compiled and run as doc tests.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
struct ReadmeDoctests;

extern crate alloc;
#[cfg(test)]
extern crate std;

pub mod eigrp;
#[cfg(any(test, feature = "fuzzing"))]
#[doc(hidden)]
pub mod fuzzing;
pub mod ike;
pub mod ikev2;
pub mod ipsec;
pub mod limits;
pub mod nhrp;
pub mod node;
pub mod router;
pub mod time;
pub mod timer;
mod transmit;

pub use time::{Duration, Instant};
pub use timer::TimerTable;
pub use transmit::{Carried, Eigrp, Ike, Nhrp, Transmit};
