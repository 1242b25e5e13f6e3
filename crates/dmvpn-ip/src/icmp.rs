//! ICMP for IPv4 (RFC 792): the message types, and the Destination Unreachable a router sends
//! for a packet too big for its next hop (RFC 1191).
//!
//! ```
//! use core::net::Ipv4Addr;
//! use dmvpn_ip::ipv4::{self, Packet, Protocol, Repr};
//! use dmvpn_ip::icmp;
//!
//! let (host, router) = (Ipv4Addr::new(10, 0, 1, 10), Ipv4Addr::new(172, 16, 1, 2));
//! let big = Repr { dont_frag: true, ..Repr::new(host, Ipv4Addr::new(10, 0, 2, 20), Protocol::UDP, 0) };
//! let big = big.emit_vec(&[0; 1480]);
//! let reply = icmp::frag_needed(router, &Packet::new_checked(&big[..])?, 1400, 1).unwrap();
//! let reply = Packet::new_checked(&reply[..])?;
//! assert_eq!((reply.src_addr(), reply.dst_addr(), reply.protocol()), (router, host, Protocol::ICMP));
//! assert_eq!(icmp::Type(reply.payload()[0]), icmp::Type::DEST_UNREACHABLE);
//! # Ok::<(), dmvpn_wire::Error>(())
//! ```

use alloc::vec::Vec;
use core::net::Ipv4Addr;

use dmvpn_wire::checksum;

use crate::ipv4::{self, Packet, Protocol};

dmvpn_wire::registry! {
    /// ICMP message types (RFC 792, IANA "ICMP Type Numbers").
    pub struct Type(u8) {
        /// Echo Reply.
        ECHO_REPLY = 0 => "EchoReply",
        /// Destination Unreachable.
        DEST_UNREACHABLE = 3 => "DestinationUnreachable",
        /// Source Quench (deprecated by RFC 6633).
        SOURCE_QUENCH = 4 => "SourceQuench",
        /// Redirect.
        REDIRECT = 5 => "Redirect",
        /// Echo Request.
        ECHO_REQUEST = 8 => "EchoRequest",
        /// Time Exceeded.
        TIME_EXCEEDED = 11 => "TimeExceeded",
        /// Parameter Problem.
        PARAMETER_PROBLEM = 12 => "ParameterProblem",
    }
}

impl Type {
    /// Whether this is an error message, about which no ICMP error is sent (RFC 1122 §3.2.2).
    #[must_use]
    pub const fn is_error(self) -> bool {
        matches!(
            self,
            Self::DEST_UNREACHABLE
                | Self::SOURCE_QUENCH
                | Self::REDIRECT
                | Self::TIME_EXCEEDED
                | Self::PARAMETER_PROBLEM
        )
    }
}

/// The Destination Unreachable code "fragmentation needed and DF set" (RFC 792).
pub const CODE_FRAG_NEEDED: u8 = 4;

/// The TTL of the ICMP errors built here (IOS sends 255).
const ERROR_TTL: u8 = 255;

/// The ICMP Destination Unreachable, Fragmentation Needed and DF Set (type 3, code 4) with the
/// next-hop MTU `mtu` (RFC 1191 §4) that a router at `src` sends back to the source of `packet`,
/// in an IPv4 packet with identification `ident`, TTL 255 and precedence 6 (DSCP 48) as IOS does.
/// It quotes the packet's header and first 8 payload bytes (RFC 792).
///
/// `None` where RFC 1122 §3.2.2 forbids an ICMP error: about an ICMP error, a fragment other
/// than the first, or a packet from or to a multicast, broadcast or unspecified address; and if
/// the packet fails [`Packet::check_len`].
#[must_use]
pub fn frag_needed<T: AsRef<[u8]> + ?Sized>(
    src: Ipv4Addr,
    packet: &Packet<&T>,
    mtu: u16,
    ident: u16,
) -> Option<Vec<u8>> {
    packet.check_len().ok()?;
    let icmp_error = packet.protocol() == Protocol::ICMP
        && packet
            .payload()
            .first()
            .is_some_and(|t| Type(*t).is_error());
    let unicast = |a: Ipv4Addr| !a.is_multicast() && !a.is_broadcast() && !a.is_unspecified();
    let (from, to) = (packet.src_addr(), packet.dst_addr());
    if packet.frag_offset() != 0 || icmp_error || !unicast(to) || !unicast(from) {
        return None;
    }
    let bytes = packet.into_inner().as_ref();
    let total = usize::from(packet.total_len());
    let quoted = bytes.get(..(packet.header_len() + 8).min(total))?;
    let mut icmp = Vec::with_capacity(8 + quoted.len());
    icmp.extend_from_slice(&[Type::DEST_UNREACHABLE.0, CODE_FRAG_NEEDED, 0, 0, 0, 0]);
    icmp.extend_from_slice(&mtu.to_be_bytes());
    icmp.extend_from_slice(quoted);
    let sum = checksum::compute(&icmp);
    icmp[2..4].copy_from_slice(&sum.to_be_bytes());
    let header = ipv4::Repr {
        dscp: PRECEDENCE_INTERNETWORK,
        ttl: ERROR_TTL,
        ident,
        ..ipv4::Repr::new(src, from, Protocol::ICMP, icmp.len())
    };
    Some(header.emit_vec(&icmp))
}

/// DSCP CS6, IP precedence 6 "internetwork control" (RFC 791, RFC 2474 §4.2.2.1): what routers
/// mark their own control traffic with (routing protocols, ICMP errors).
pub const PRECEDENCE_INTERNETWORK: u8 = 48;

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ipv4::Repr;

    fn big(len: usize, df: bool) -> Vec<u8> {
        let repr = Repr {
            ident: 9,
            dont_frag: df,
            ..Repr::new(
                Ipv4Addr::new(10, 0, 1, 10),
                Ipv4Addr::new(10, 0, 2, 20),
                Protocol::UDP,
                0,
            )
        };
        repr.emit_vec(&alloc::vec![0x5a; len])
    }

    fn checked(bytes: &[u8]) -> Packet<&[u8]> {
        Packet::new_checked(bytes).unwrap()
    }

    #[test]
    fn frag_needed_quotes_the_packet_and_names_the_mtu() {
        let packet = big(1480, true);
        let own = Ipv4Addr::new(172, 16, 1, 2);
        let icmp = frag_needed(own, &checked(&packet), 1400, 5).unwrap();
        let reply = checked(&icmp);
        assert!(reply.verify_checksum());
        assert_eq!(
            (reply.src_addr(), reply.dst_addr(), reply.protocol()),
            (own, Ipv4Addr::new(10, 0, 1, 10), Protocol::ICMP)
        );
        assert_eq!((reply.ttl(), reply.ident(), reply.dscp()), (255, 5, 48));
        let body = reply.payload();
        assert_eq!(&body[..2], &[3, 4]);
        assert!(checksum::verify(body));
        assert_eq!(&body[4..6], &[0, 0], "unused");
        assert_eq!(&body[6..8], &1400u16.to_be_bytes());
        assert_eq!(&body[8..], &packet[..28]);
        // A packet shorter than 8 payload bytes is quoted whole.
        let short = big(3, true);
        let icmp = frag_needed(own, &checked(&short), 1400, 5).unwrap();
        assert_eq!(&checked(&icmp).payload()[8..], &short[..]);
    }

    #[test]
    fn frag_needed_never_about_errors_later_fragments_or_multicast() {
        let own = Ipv4Addr::new(172, 16, 1, 2);
        let with = |edit: &dyn Fn(&mut Repr<'static>), payload: &[u8]| {
            let mut repr = Repr::new(
                Ipv4Addr::new(10, 0, 1, 10),
                Ipv4Addr::new(10, 0, 2, 20),
                Protocol::UDP,
                0,
            );
            edit(&mut repr);
            frag_needed(own, &checked(&repr.emit_vec(payload)), 1400, 5)
        };
        assert!(with(&|_| {}, &[0; 8]).is_some());
        for ty in [3u8, 4, 5, 11, 12] {
            assert_eq!(with(&|r| r.protocol = Protocol::ICMP, &[ty, 0, 0, 0]), None);
        }
        // An echo request is no error: it gets its answer.
        assert!(with(&|r| r.protocol = Protocol::ICMP, &[8, 0, 0, 0]).is_some());
        assert_eq!(with(&|r| r.frag_offset = 80, &[0; 8]), None);
        assert!(with(&|r| r.more_frags = true, &[0; 8]).is_some());
        assert_eq!(
            with(&|r| r.dst = Ipv4Addr::new(224, 0, 0, 10), &[0; 8]),
            None
        );
        assert_eq!(with(&|r| r.dst = Ipv4Addr::BROADCAST, &[0; 8]), None);
        assert_eq!(with(&|r| r.src = Ipv4Addr::UNSPECIFIED, &[0; 8]), None);
        // A packet whose length field claims more than there is.
        let mut cut = big(100, true);
        cut.truncate(60);
        assert_eq!(
            frag_needed(own, &Packet::new_unchecked(&cut[..]), 1400, 5),
            None
        );
    }

    #[test]
    fn error_types() {
        let errors: Vec<Type> = Type::KNOWN
            .iter()
            .copied()
            .filter(|t| t.is_error())
            .collect();
        assert_eq!(errors, [3, 4, 5, 11, 12].map(Type));
        assert_eq!(
            format!("{:?}", Type::DEST_UNREACHABLE),
            "DestinationUnreachable (3)"
        );
    }
}
