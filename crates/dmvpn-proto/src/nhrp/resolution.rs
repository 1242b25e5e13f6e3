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

    /// `msg`, a request this NHS passes on toward the station that owns its target (RFC 2332
    /// §5.2.1), as IOS and FRR forward it: the hop count one less and, when the request carries
    /// a Forward Transit NHS Record (§5.3.2), this NHS's CIE (its NBMA and tunnel addresses,
    /// `mtu` and holding time) appended to it; everything else as it came. IOS's Phase 2 hub
    /// in packetlife.net's `mGRE_ICMP.cap` (frame 5) and FRR's `nhrp_peer_forward` do both.
    ///
    /// # Errors
    /// The code of the Error Indication owed to the request's source instead
    /// ([`Local::error_indication`]): [`nhrp::ErrorCode::HOP_COUNT_EXCEEDED`] when the hop count
    /// runs out, [`nhrp::ErrorCode::LOOP_DETECTED`] when the record names this NHS already (the
    /// request came round).
    ///
    /// ```
    /// use std::net::Ipv4Addr;
    /// use dmvpn_nhrp as nhrp;
    /// use dmvpn_proto::nhrp::resolution::Local;
    ///
    /// let spoke = Local {
    ///     tunnel: Ipv4Addr::new(172, 16, 1, 2),
    ///     nbma: Ipv4Addr::new(100, 1, 1, 2),
    ///     holding_time: 300,
    ///     password: None,
    /// };
    /// let hub = Local { tunnel: Ipv4Addr::new(172, 16, 1, 1), nbma: Ipv4Addr::new(100, 1, 1, 1), ..spoke };
    /// let request = spoke.resolution_request(Ipv4Addr::new(172, 16, 1, 3), 7);
    /// let passed_on = hub.forward(&nhrp::parse(&request).unwrap(), 1514).unwrap();
    /// let passed_on = nhrp::parse(&passed_on).unwrap();
    /// assert_eq!(passed_on.hop_count, 254);
    /// assert_eq!(passed_on.src_proto, [172, 16, 1, 2]);
    /// ```
    pub fn forward(&self, msg: &nhrp::Repr<'_>, mtu: u16) -> Result<Vec<u8>, nhrp::ErrorCode> {
        let hop_count = (msg.hop_count.checked_sub(1))
            .filter(|h| *h > 0)
            .ok_or(nhrp::ErrorCode::HOP_COUNT_EXCEEDED)?;
        let (nbma, tunnel) = (self.nbma.octets(), self.tunnel.octets());
        let mut transit: Vec<nhrp::cie::Repr<'_>> = (msg.extensions)
            .and_then(|e| e.find(nhrp::ExtensionType::FORWARD_TRANSIT_NHS_RECORD))
            .and_then(|ext| ext.value.cies())
            .map(|cies| cies.iter().collect())
            .unwrap_or_default();
        if transit.iter().any(|cie| cie.nbma.bytes == nbma) {
            return Err(nhrp::ErrorCode::LOOP_DETECTED);
        }
        transit.push(nhrp::cie::Repr {
            mtu,
            holding_time: self.holding_time,
            nbma: nhrp::NbmaAddress::nsap(&nbma),
            proto: &tunnel,
            ..nhrp::cie::Repr::default()
        });
        let exts: Vec<extension::Repr<'_>> = (msg.extension_iter())
            .map(|ext| match ext.value {
                extension::Value::ForwardTransitNhsRecord(_) => extension::Repr {
                    value: extension::Value::ForwardTransitNhsRecord(nhrp::CieList::new(&transit)),
                    ..ext
                },
                _ => ext,
            })
            .collect();
        Ok(emit(&nhrp::Repr {
            hop_count,
            extensions: msg.extensions.map(|_| nhrp::ExtensionList::new(&exts)),
            ..*msg
        }))
    }

    /// The Error Indication with `code` from this node to the source of `msg` (RFC 2332 §5.2.7),
    /// quoting it.
    #[must_use]
    pub fn error_indication(&self, msg: &nhrp::Repr<'_>, code: nhrp::ErrorCode) -> Vec<u8> {
        super::error_indication(HOP_COUNT, self.nbma, self.tunnel, msg, code)
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

#[cfg(test)]
mod tests {
    use super::*;

    const SPOKE: Local<'static> = Local {
        tunnel: Ipv4Addr::new(172, 16, 1, 2),
        nbma: Ipv4Addr::new(100, 1, 1, 2),
        holding_time: 300,
        password: None,
    };
    const HUB: Local<'static> = Local {
        tunnel: Ipv4Addr::new(172, 16, 1, 1),
        nbma: Ipv4Addr::new(100, 1, 1, 1),
        holding_time: 7200,
        password: None,
    };

    /// A request laid out as IOS sends it: empty Responder Address, Forward and Reverse Transit
    /// NHS Records, and `record` in the forward one.
    fn ios_request(record: &[nhrp::cie::Repr<'_>], hop_count: u8) -> Vec<u8> {
        let cies = [nhrp::cie::Repr {
            prefix_len: 32,
            holding_time: 300,
            ..nhrp::cie::Repr::default()
        }];
        let none: [nhrp::cie::Repr<'_>; 0] = [];
        let exts = [
            extension::Repr {
                compulsory: true,
                value: extension::Value::ResponderAddress(nhrp::CieList::new(&none)),
            },
            extension::Repr {
                compulsory: true,
                value: extension::Value::ForwardTransitNhsRecord(nhrp::CieList::new(record)),
            },
            extension::Repr {
                compulsory: true,
                value: extension::Value::ReverseTransitNhsRecord(nhrp::CieList::new(&none)),
            },
            extension::Repr::END,
        ];
        emit(&ipv4_repr(
            hop_count,
            &[100, 1, 1, 2],
            &[172, 16, 1, 2],
            &[172, 16, 1, 3],
            Message::ResolutionRequest(nhrp::Control {
                flags: Flags::RESOLUTION_ROUTER,
                request_id: 9,
                cies: nhrp::CieList::new(&cies),
            }),
            Some(nhrp::ExtensionList::new(&exts)),
        ))
    }

    /// The hub appends its CIE to the Forward Transit NHS Record, as IOS's hub does in
    /// `mGRE_ICMP.cap` frame 5 (prefix length 0, MTU 1514, the hub's holding time), and leaves
    /// the rest of the request as it came.
    #[test]
    fn forward_appends_the_hub_to_the_forward_record() {
        let bytes = ios_request(&[], 255);
        let request = nhrp::parse(&bytes).unwrap();
        let passed_on = HUB.forward(&request, 1514).unwrap();
        let passed_on = nhrp::parse(&passed_on).unwrap();
        assert_eq!(passed_on.hop_count, 254);
        assert_eq!(passed_on.message, request.message);
        let types: Vec<_> = passed_on.extension_iter().map(|e| e.value.ty()).collect();
        let before: Vec<_> = request.extension_iter().map(|e| e.value.ty()).collect();
        assert_eq!(types, before);
        let record = (passed_on.extensions)
            .and_then(|e| e.find(nhrp::ExtensionType::FORWARD_TRANSIT_NHS_RECORD))
            .and_then(|e| e.value.cies())
            .unwrap();
        let cies: Vec<_> = record.iter().collect();
        assert_eq!(cies.len(), 1);
        assert_eq!(
            (cies[0].prefix_len, cies[0].mtu, cies[0].holding_time),
            (0, 1514, 7200)
        );
        assert_eq!(
            (cies[0].nbma.bytes, cies[0].proto),
            (&[100, 1, 1, 1][..], &[172, 16, 1, 1][..])
        );
    }

    /// Our own spokes' requests carry no record: only the hop count changes.
    #[test]
    fn forward_without_a_record_changes_the_hop_count_only() {
        let bytes = SPOKE.resolution_request(Ipv4Addr::new(172, 16, 1, 3), 7);
        let request = nhrp::parse(&bytes).unwrap();
        let passed_on = HUB.forward(&request, 1514).unwrap();
        let expected = emit(&nhrp::Repr {
            hop_count: 254,
            ..request
        });
        assert_eq!(passed_on, expected);
    }

    /// A request whose record names the hub already came round: Loop Detected; one that has
    /// no hop left: Hop Count Exceeded. The Error Indication quotes it, to its source.
    #[test]
    fn forward_refuses_loops_and_spent_hop_counts() {
        let (nbma, tunnel) = ([100, 1, 1, 1], [172, 16, 1, 1]);
        let hub_cie = nhrp::cie::Repr {
            nbma: nhrp::NbmaAddress::nsap(&nbma),
            proto: &tunnel,
            ..nhrp::cie::Repr::default()
        };
        let looped = ios_request(&[hub_cie], 200);
        let looped = nhrp::parse(&looped).unwrap();
        assert_eq!(
            HUB.forward(&looped, 1514),
            Err(nhrp::ErrorCode::LOOP_DETECTED)
        );
        let spent = ios_request(&[], 1);
        let spent = nhrp::parse(&spent).unwrap();
        assert_eq!(
            HUB.forward(&spent, 1514),
            Err(nhrp::ErrorCode::HOP_COUNT_EXCEEDED)
        );
        let indication = HUB.error_indication(&looped, nhrp::ErrorCode::LOOP_DETECTED);
        let indication = nhrp::parse(&indication).unwrap();
        assert_eq!(indication.dst_proto, [172, 16, 1, 2]);
        let Message::ErrorIndication(e) = indication.message else {
            panic!("{indication:?}");
        };
        assert_eq!(e.code, nhrp::ErrorCode::LOOP_DETECTED);
        assert_eq!(e.parse_packet().unwrap(), looped);
    }
}
