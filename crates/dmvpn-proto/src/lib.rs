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
//! levels, and so do the machines; other families are refused with a [`ProtocolError`].
//!
//! Every machine hands out the one [`Transmit`] type (its `protocol` says what the bytes are) and
//! refuses input with its own typed error under one name: [`nhrp::Error`] (also known as
//! [`ProtocolError`]), [`eigrp::Error`] and [`ike::Error`].
//!
//! # Checked against real routers
//!
//! The spoke's Registration Request and the hub's Registration Reply are byte for byte those of
//! Cisco IOS in packetlife's `NHRP_registration.cap`, the Authentication extension sits where
//! IOS puts it (tcpdump's `NHRP_registration.pcap`), and the EIGRP Hello and goodbye are those
//! of IOS 12.4 in packetlife's `EIGRP_goodbye.cap` (`tests/nhrp_ios.rs`, `tests/eigrp.rs`). The
//! scenario tests (`tests/nhrp.rs`, `tests/nhrp_sim.rs`) run hubs and spokes on an in-memory
//! network with a virtual clock, loss, duplication and reordering, and state in each test the
//! outcome an IOS cloud shows. [`fuzzing`] drives every machine with arbitrary scripts.
//!
//! # Not here yet
//!
//! EIGRP's reliable transport, INIT exchange, topology table and DUAL, and HMAC-SHA-256
//! authentication (MD5 is here); IKEv1; sending Resolution Requests (Phase 2 shortcuts) from the
//! client.
#![cfg_attr(not(test), no_std)]
#![forbid(unsafe_code)]

extern crate alloc;
#[cfg(test)]
extern crate std;

pub mod eigrp;
pub mod fuzzing;
pub mod ike;
pub mod ipsec;
pub mod nhrp;
pub mod node;
pub mod router;
pub mod time;
pub mod timer;
mod transmit;

pub use time::{Duration, Instant};
pub use timer::TimerTable;
pub use transmit::{Carried, Eigrp, Ike, Nhrp, Transmit};

use core::net::Ipv4Addr;

use dmvpn_nhrp as codec;

/// Why a machine refused a packet or a request. Refusals that the protocol answers (an Error
/// Indication) have already queued the answer when this is returned.
#[derive(Clone, Copy, Debug, Eq, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum ProtocolError {
    /// The packet is not IPv4 over IPv4.
    #[error("nhrp: address family {afn:?} with protocol {protocol:?} is not supported")]
    UnsupportedFamily {
        /// `ar$afn`.
        afn: codec::AddressFamily,
        /// `ar$pro.type`.
        protocol: codec::ProtocolType,
    },
    /// An address field is not 4 bytes long.
    #[error("nhrp: {field} of {len} bytes is not an ipv4 address")]
    UnsupportedAddress {
        /// The field.
        field: &'static str,
        /// Its length.
        len: usize,
    },
    /// A packet type this machine does not take (e.g. a Registration Request at a client).
    #[error("nhrp: unexpected {op:?}")]
    UnexpectedMessage {
        /// The packet type.
        op: codec::OpType,
    },
    /// A reply or Error Indication that matches no outstanding request.
    #[error("nhrp: no outstanding request with id {request_id}")]
    UnknownRequest {
        /// The request ID it carried.
        request_id: u32,
    },
    /// A packet from an NBMA address that is no configured peer.
    #[error("nhrp: packet from unknown peer {nbma}")]
    UnknownPeer {
        /// Where it came from.
        nbma: Ipv4Addr,
    },
    /// A request addressed to another server.
    #[error("nhrp: request addressed to another server")]
    NotForUs,
    /// The packet lacks the configured password (RFC 2332 §5.3.4); a server answered with an
    /// Error Indication 11.
    #[error("nhrp: authentication failure")]
    AuthenticationFailure,
    /// The hop count reached 0; an Error Indication 15 was sent.
    #[error("nhrp: hop count exceeded")]
    HopCountExceeded,
    /// A compulsory extension is not understood (RFC 2332 §5.3); an Error Indication 1 was sent.
    #[error("nhrp: unrecognized compulsory extension {ty:?}")]
    UnrecognizedExtension {
        /// Its type.
        ty: codec::ExtensionType,
    },
    /// A password longer than the 8 bytes of the Cisco extension, or empty.
    #[error("nhrp: password of {len} bytes (1 to 8 allowed)")]
    PasswordLength {
        /// Its length.
        len: usize,
    },
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn error_messages() {
        let cases = [
            (
                ProtocolError::UnsupportedFamily {
                    afn: codec::AddressFamily::IPV6,
                    protocol: codec::ProtocolType::IPV4,
                },
                "nhrp: address family IPv6 (2) with protocol IPv4 (2048) is not supported",
            ),
            (
                ProtocolError::UnsupportedAddress {
                    field: "source nbma address",
                    len: 16,
                },
                "nhrp: source nbma address of 16 bytes is not an ipv4 address",
            ),
            (
                ProtocolError::UnexpectedMessage {
                    op: codec::OpType::REGISTRATION_REQUEST,
                },
                "nhrp: unexpected RegistrationRequest (3)",
            ),
            (
                ProtocolError::UnknownRequest { request_id: 9 },
                "nhrp: no outstanding request with id 9",
            ),
            (
                ProtocolError::UnknownPeer {
                    nbma: Ipv4Addr::new(192, 0, 2, 9),
                },
                "nhrp: packet from unknown peer 192.0.2.9",
            ),
            (
                ProtocolError::NotForUs,
                "nhrp: request addressed to another server",
            ),
            (
                ProtocolError::AuthenticationFailure,
                "nhrp: authentication failure",
            ),
            (ProtocolError::HopCountExceeded, "nhrp: hop count exceeded"),
            (
                ProtocolError::UnrecognizedExtension {
                    ty: codec::ExtensionType(0x1234),
                },
                "nhrp: unrecognized compulsory extension 0x1234",
            ),
            (
                ProtocolError::PasswordLength { len: 9 },
                "nhrp: password of 9 bytes (1 to 8 allowed)",
            ),
        ];
        for (error, text) in cases {
            assert_eq!(error.to_string(), text);
        }
    }
}
