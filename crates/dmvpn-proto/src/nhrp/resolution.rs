//! The packets of spoke-to-spoke resolution (RFC 2332 §5.2.1–§5.2.2, §5.2.5) and of the Phase
//! 3 redirect (the Cisco Traffic Indication, NHRP type 8, draft-detienne-dmvpn-01 §4.1), built
//! for the node, and the parts of a Resolution Reply it reads.
//!
//! As IOS puts them on the wire: a Resolution Request from a spoke's tunnel and NBMA addresses
//! for the target with flags `router` and `source-stable` and one CIE carrying the holding time;
//! a Resolution Reply sent straight to the requester's NBMA address, authoritative, whose CIE
//! names the responder (client NBMA and tunnel address) and the prefix length of the route it
//! owns for the target; a Traffic Indication from the hub to the packet's source quoting the
//! packet's IP header and first 8 bytes of payload (as ICMP quotes); a Purge Request naming a
//! prefix. With `ip nhrp authentication` every packet carries the password.

use alloc::vec::Vec;
use core::net::Ipv4Addr;

use dmvpn_nhrp::{self as nhrp, CieCode, Flags, Message, extension};

use super::{Error, Password, emit, ipv4, ipv4_repr};
use crate::node::Prefix;

/// The hop count IOS gives the NHRP packets it originates.
pub const HOP_COUNT: u8 = 255;

/// How many bytes of the original packet's payload a Traffic Indication quotes after its IP
/// header.
pub const QUOTED_PAYLOAD: usize = 8;

/// What the node puts in its own resolution packets.
#[derive(Clone, Copy, Debug)]
pub struct Local<'a> {
    /// The tunnel address.
    pub tunnel: Ipv4Addr,
    /// The NBMA address.
    pub nbma: Ipv4Addr,
    /// `ip nhrp holdtime`.
    pub holding_time: u16,
    /// `ip nhrp authentication`.
    pub password: Option<&'a Password>,
}

impl Local<'_> {
    fn extensions(&self) -> Vec<extension::Repr<'_>> {
        let mut exts = Vec::with_capacity(2);
        if let Some(password) = self.password {
            exts.push(password.extension());
        }
        exts.push(extension::Repr::END);
        exts
    }

    /// A packet from this node to `dst_proto` carrying `message` (and the password).
    fn packet(&self, dst_proto: Ipv4Addr, message: Message<'_>) -> Vec<u8> {
        let (nbma, tunnel, dst) = (self.nbma.octets(), self.tunnel.octets(), dst_proto.octets());
        let exts = self.extensions();
        let extensions = Some(nhrp::ExtensionList::new(&exts));
        emit(&ipv4_repr(
            HOP_COUNT, &nbma, &tunnel, &dst, message, extensions,
        ))
    }

    fn control_packet(
        &self,
        dst_proto: Ipv4Addr,
        purge: bool,
        flags: Flags,
        request_id: u32,
        cie: nhrp::cie::Repr<'_>,
    ) -> Vec<u8> {
        let cies = [cie];
        let control = nhrp::Control {
            flags,
            request_id,
            cies: nhrp::CieList::new(&cies),
        };
        let message = if purge {
            Message::PurgeRequest(control)
        } else {
            Message::ResolutionRequest(control)
        };
        self.packet(dst_proto, message)
    }

    /// A Resolution Request for `target`.
    #[must_use]
    pub fn resolution_request(&self, target: Ipv4Addr, request_id: u32) -> Vec<u8> {
        let cie = nhrp::cie::Repr {
            prefix_len: 32,
            holding_time: self.holding_time,
            ..nhrp::cie::Repr::default()
        };
        self.control_packet(
            target,
            false,
            Flags::RESOLUTION_ROUTER.union(Flags::RESOLUTION_SOURCE_STABLE),
            request_id,
            cie,
        )
    }

    /// A Purge Request to the peer at tunnel address `peer` for `prefix` (we no longer answer
    /// for it).
    #[must_use]
    pub fn purge_request(&self, peer: Ipv4Addr, prefix: Prefix, request_id: u32) -> Vec<u8> {
        let addr = prefix.addr().octets();
        let cie = nhrp::cie::Repr {
            prefix_len: prefix.prefix_len(),
            proto: &addr,
            ..nhrp::cie::Repr::default()
        };
        self.control_packet(peer, true, Flags::EMPTY, request_id, cie)
    }

    /// The Resolution Reply to `request`, for `prefix` (which covers its target), sent straight
    /// to the requester.
    #[must_use]
    pub fn resolution_reply(
        &self,
        request: &nhrp::Repr<'_>,
        control: &nhrp::Control<'_>,
        prefix: Prefix,
    ) -> Vec<u8> {
        let (nbma, tunnel) = (self.nbma.octets(), self.tunnel.octets());
        let cies = [nhrp::cie::Repr {
            code: CieCode::SUCCESS,
            prefix_len: prefix.prefix_len(),
            holding_time: self.holding_time,
            nbma: nhrp::NbmaAddress::nsap(&nbma),
            proto: &tunnel,
            ..nhrp::cie::Repr::default()
        }];
        let exts = self.extensions();
        emit(&nhrp::Repr {
            hop_count: HOP_COUNT,
            message: Message::ResolutionReply(nhrp::Control {
                flags: control
                    .flags
                    .union(Flags::RESOLUTION_AUTHORITATIVE)
                    .union(Flags::RESOLUTION_DESTINATION_STABLE),
                request_id: control.request_id,
                cies: nhrp::CieList::new(&cies),
            }),
            extensions: Some(nhrp::ExtensionList::new(&exts)),
            ..*request
        })
    }

    /// The hub's Traffic Indication to the source of `packet` (an IPv4 packet it forwards back
    /// out the tunnel), quoting its header and [`QUOTED_PAYLOAD`] bytes.
    #[must_use]
    pub fn traffic_indication(
        &self,
        packet_src: Ipv4Addr,
        packet: &[u8],
        header_len: usize,
    ) -> Vec<u8> {
        let quoted = packet.get(..header_len + QUOTED_PAYLOAD).unwrap_or(packet);
        let message = Message::TrafficIndication(nhrp::TrafficIndication {
            code: nhrp::TrafficCode::REDIRECT,
            packet: quoted,
        });
        self.packet(packet_src, message)
    }
}

/// `msg` again with its hop count one less (a hub forwarding a request), or `None` when it has
/// run out.
#[must_use]
pub fn forwarded(msg: &nhrp::Repr<'_>) -> Option<Vec<u8>> {
    let hop_count = msg.hop_count.checked_sub(1).filter(|h| *h > 0)?;
    Some(emit(&nhrp::Repr { hop_count, ..*msg }))
}

/// What a positive Resolution Reply says: the prefix, the responder's tunnel and NBMA
/// addresses, and the holding time.
#[derive(Clone, Copy, Debug, Eq, PartialEq)]
pub struct Answer {
    /// The target's prefix (the CIE's prefix length on the request's destination; 0xff is a
    /// unique /32).
    pub prefix: Prefix,
    /// The responder's tunnel address: the next hop.
    pub next_hop: Ipv4Addr,
    /// Its NBMA address.
    pub nbma: Ipv4Addr,
    /// Seconds.
    pub holding_time: u16,
}

/// Reads a Resolution Reply's first CIE.
///
/// # Errors
/// [`Error::UnsupportedAddress`] for a non-IPv4 address; a negative reply (a CIE code other
/// than success, or no CIE) is `Ok(None)`.
pub fn answer(msg: &nhrp::Repr<'_>, control: &nhrp::Control<'_>) -> Result<Option<Answer>, Error> {
    let Some(cie) = control.cies.iter().next() else {
        return Ok(None);
    };
    if cie.code != CieCode::SUCCESS || cie.holding_time == 0 {
        return Ok(None);
    }
    let target = ipv4(msg.dst_proto, "destination protocol address")?;
    let next_hop = ipv4(cie.proto, "cie client protocol address")?;
    let nbma = ipv4(cie.nbma.bytes, "cie client nbma address")?;
    let len = if cie.prefix_len > 32 {
        32
    } else {
        cie.prefix_len
    };
    Ok(Some(Answer {
        prefix: Prefix::new(target, len),
        next_hop,
        nbma,
        holding_time: cie.holding_time,
    }))
}
