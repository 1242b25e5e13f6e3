//! One [`Transmit`] type for every machine.

use alloc::vec::Vec;
use core::fmt;
use core::net::Ipv4Addr;

use crate::ipsec;

/// A packet a machine hands back to send: where to, what it is, and its bytes.
///
/// `protocol` says what the bytes are, and so how the caller sends them. A single-protocol
/// machine names its protocol as a type (which gives `parse` back its Repr); a [`crate::node`]
/// names the outer IP protocol of each packet as a number:
///
/// | machine | `Transmit<…>` | `to` | `bytes` |
/// |---|---|---|---|
/// | [`crate::nhrp`] client and server | [`Nhrp`] | the NBMA address | an NHRP packet: the payload of GRE with protocol type 0x2001 |
/// | [`crate::eigrp`] | [`Eigrp`] | a neighbour's tunnel address or 224.0.0.10 | an EIGRP packet: the IP payload (protocol 88) inside the tunnel |
/// | [`crate::ike::Endpoint`] | [`Ike`] | the NBMA address | an ISAKMP message: the UDP payload from port 500 to port 500 |
/// | [`crate::node::Node`] | `u8` (the default) | the NBMA address | the outer IP payload: GRE (47), ESP (50), or a whole UDP datagram (17) |
///
/// Its `Debug` shows the length, not the bytes (ESP payloads and IKE messages are opaque, and
/// long).
#[derive(Clone, Eq, Hash, PartialEq)]
pub struct Transmit<P = u8> {
    /// The IPv4 destination.
    pub to: Ipv4Addr,
    /// What `bytes` are: a protocol marker, or a node's outer IP protocol number.
    pub protocol: P,
    /// The packet.
    pub bytes: Vec<u8>,
}

impl<P> Transmit<P> {
    /// A packet of `protocol` for `to`.
    #[must_use]
    pub const fn new(to: Ipv4Addr, protocol: P, bytes: Vec<u8>) -> Self {
        Self {
            to,
            protocol,
            bytes,
        }
    }
}

impl<P: Carried> Transmit<P> {
    /// The IP protocol number that carries the bytes one layer down: GRE for NHRP, 88 for
    /// EIGRP, UDP for IKE, and a node's own number.
    #[must_use]
    pub fn ip_protocol(&self) -> u8 {
        self.protocol.ip_protocol()
    }
}

impl<P: fmt::Debug> fmt::Debug for Transmit<P> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "Transmit {{ to: {}, protocol: {:?}, len: {} }}",
            self.to,
            self.protocol,
            self.bytes.len()
        )
    }
}

/// What a [`Transmit`] carries, as the IP protocol number of the layer below it.
pub trait Carried {
    /// The IP protocol number.
    fn ip_protocol(&self) -> u8;
}

impl Carried for u8 {
    fn ip_protocol(&self) -> u8 {
        *self
    }
}

/// An NHRP packet (RFC 2332), sent in GRE.
#[derive(Clone, Copy, Debug, Default, Eq, Hash, PartialEq)]
pub struct Nhrp;

/// An EIGRP packet (RFC 7868), IP protocol 88.
#[derive(Clone, Copy, Debug, Default, Eq, Hash, PartialEq)]
pub struct Eigrp;

/// An ISAKMP message (RFC 2408), sent in UDP.
#[derive(Clone, Copy, Debug, Default, Eq, Hash, PartialEq)]
pub struct Ike;

impl Carried for Nhrp {
    fn ip_protocol(&self) -> u8 {
        ipsec::GRE
    }
}

impl Carried for Eigrp {
    fn ip_protocol(&self) -> u8 {
        dmvpn_ip::IpProtocol::EIGRP.0
    }
}

impl Carried for Ike {
    fn ip_protocol(&self) -> u8 {
        ipsec::UDP
    }
}

#[cfg(test)]
mod tests {
    use alloc::format;
    use alloc::vec;

    use super::*;

    #[test]
    fn debug_shows_the_length_and_the_protocol() {
        let to = Ipv4Addr::new(192, 0, 2, 1);
        let node = Transmit::new(to, 50u8, vec![0; 100]);
        assert_eq!(
            format!("{node:?}"),
            "Transmit { to: 192.0.2.1, protocol: 50, len: 100 }"
        );
        let ike = Transmit::new(to, Ike, vec![1; 28]);
        assert_eq!(
            format!("{ike:?}"),
            "Transmit { to: 192.0.2.1, protocol: Ike, len: 28 }"
        );
    }

    #[test]
    fn ip_protocols() {
        let to = Ipv4Addr::UNSPECIFIED;
        assert_eq!(Transmit::new(to, Nhrp, vec![]).ip_protocol(), 47);
        assert_eq!(Transmit::new(to, Eigrp, vec![]).ip_protocol(), 88);
        assert_eq!(Transmit::new(to, Ike, vec![]).ip_protocol(), 17);
        assert_eq!(Transmit::new(to, 50u8, vec![]).ip_protocol(), 50);
    }
}
