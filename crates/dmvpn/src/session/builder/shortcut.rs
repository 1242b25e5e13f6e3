//! What DMVPN Phase 2/3 adds to the builder: the spokes, the redirects, the resolutions and
//! purges by request, and the outer hops of each inner flow
//! ([`SpokeToSpoke`](super::super::SpokeToSpoke) ties them together at the end).
//!
//! Each message or packet costs one hash lookup, so the pass stays linear; every list is capped.

use std::collections::{BTreeSet, HashMap};
use std::net::IpAddr;

use super::super::nhrp;
use super::super::spoke_to_spoke::{
    self, Answer, Collected, FlowKey, Hops, Leg, MAX_FLOWS, MAX_LEGS, MAX_NHRP_RECORDS, Purge,
    RawFlow, RawResolution, Redirect, Resolution, SpokeToSpoke,
};
use super::super::{MAX_PAIRS, PeerPair};
use super::{SessionBuilder, ip_from};
use crate::capture::Timestamp;

/// The builder's Phase 2/3 records.
#[derive(Default)]
pub(super) struct Shortcuts {
    spokes: BTreeSet<IpAddr>,
    redirects: Vec<Redirect>,
    resolutions: Vec<RawResolution>,
    /// Resolutions by (requester's tunnel address, request ID).
    by_request: HashMap<(IpAddr, u32), usize>,
    purges: Vec<Purge>,
    /// Packets by (inner source, inner destination, outer source, outer destination), with the
    /// order of first sight: one lookup a packet.
    legs: HashMap<(IpAddr, IpAddr, IpAddr, IpAddr), (usize, Leg)>,
    dropped: u64,
}

impl Shortcuts {
    /// The finished records, given the hubs and the pairs (hub first).
    pub(super) fn finish(
        self,
        hubs: &BTreeSet<IpAddr>,
        pairs: &[PeerPair],
        end: Option<Timestamp>,
    ) -> SpokeToSpoke {
        let mut dropped = self.dropped;
        let collected = Collected {
            spokes: self.spokes,
            hubs,
            redirects: self.redirects,
            resolutions: self.resolutions,
            purges: self.purges,
            flows: group_legs(self.legs, &mut dropped),
            dropped,
            end,
        };
        spoke_to_spoke::build(collected, pairs)
    }
}

/// The source, destination and protocol of the IP header at the start of `packet` (what a
/// Traffic Indication quotes).
fn quoted_flow(packet: &[u8]) -> Option<FlowKey> {
    match packet.first()? >> 4 {
        4 if packet.len() >= 20 => Some(FlowKey {
            protocol: packet[9],
            src: ip_from(&packet[12..16]).ok()?,
            dst: ip_from(&packet[16..20]).ok()?,
        }),
        6 if packet.len() >= 40 => Some(FlowKey {
            protocol: packet[6],
            src: ip_from(&packet[8..24]).ok()?,
            dst: ip_from(&packet[24..40]).ok()?,
        }),
        _ => None,
    }
}

impl SessionBuilder {
    /// Records the Phase 2/3 side of an NHRP message.
    pub(super) fn shortcut_nhrp(&mut self, repr: &nhrp::Repr<'_>) {
        let seen = self.frame.seen;
        let Some((src, dst)) = self.frame.outer else {
            return;
        };
        let records = &mut self.shortcuts;
        let room = |len: usize, dropped: &mut u64| {
            let ok = len < MAX_NHRP_RECORDS;
            *dropped += u64::from(!ok);
            ok
        };
        let cie = repr.cies().first();
        match &repr.message {
            nhrp::Message::RegistrationRequest(_) => {
                if records.spokes.len() < MAX_PAIRS {
                    records.spokes.insert(src);
                }
            }
            nhrp::Message::RegistrationReply(_) => {
                if cie.is_some_and(|c| c.code.0 == 0) && records.spokes.len() < MAX_PAIRS {
                    records.spokes.insert(dst);
                }
            }
            nhrp::Message::TrafficIndication(indication) => {
                if room(records.redirects.len(), &mut records.dropped) {
                    records.redirects.push(Redirect {
                        seen,
                        hub: src,
                        spoke: dst,
                        code: indication.code.0,
                        flow: quoted_flow(indication.packet),
                        resolution: None,
                    });
                }
            }
            nhrp::Message::ResolutionRequest(control) => {
                let (Ok(requester), Ok(target)) =
                    (ip_from(repr.src_proto), ip_from(repr.dst_proto))
                else {
                    return;
                };
                let key = (requester, control.request_id);
                let index = match records.by_request.get(&key) {
                    Some(&index) => index,
                    None if room(records.resolutions.len(), &mut records.dropped) => {
                        records.resolutions.push(RawResolution {
                            resolution: Resolution {
                                requester,
                                requester_nbma: ip_from(repr.src_nbma.bytes).ok(),
                                origin: src,
                                target,
                                request_id: control.request_id,
                                request: seen,
                                request_frames: Vec::new(),
                                forwarded_to: None,
                                answer: None,
                                error: None,
                            },
                            hops: Hops::default(),
                            answer: None,
                        });
                        records
                            .by_request
                            .insert(key, records.resolutions.len() - 1);
                        records.resolutions.len() - 1
                    }
                    None => return,
                };
                if let Some(raw) = records.resolutions.get_mut(index) {
                    raw.hops.push(seen, src, dst);
                    let frames = &mut raw.resolution.request_frames;
                    if frames.len() < spoke_to_spoke::MAX_HOPS {
                        frames.push(seen.frame);
                    }
                }
            }
            nhrp::Message::ResolutionReply(control) => {
                let Ok(requester) = ip_from(repr.src_proto) else {
                    return;
                };
                let Some(raw) = records
                    .by_request
                    .get(&(requester, control.request_id))
                    .and_then(|&i| records.resolutions.get_mut(i))
                else {
                    return;
                };
                let answer = raw.answer.get_or_insert_with(|| {
                    let code = cie.map_or(nhrp::CieCode(0), |c| c.code);
                    let target = raw.resolution.target;
                    let answer = Answer {
                        seen,
                        from: src,
                        direct: false,
                        code: code.0,
                        code_name: code.name().unwrap_or("unknown"),
                        prefix: cie.map(|c| (masked(target, c.prefix_len), c.prefix_len)),
                        holding_time: cie.map_or(0, |c| c.holding_time),
                        nbma: cie.and_then(|c| ip_from(c.nbma.bytes).ok()),
                        tunnel: cie.and_then(|c| ip_from(c.proto).ok()),
                    };
                    (Hops::default(), answer)
                });
                answer.0.push(seen, src, dst);
            }
            nhrp::Message::PurgeRequest(control) | nhrp::Message::PurgeReply(control) => {
                if !room(records.purges.len(), &mut records.dropped) {
                    return;
                }
                let mut prefixes: Vec<(IpAddr, u8)> = repr
                    .cies()
                    .iter()
                    .filter_map(|c| Some((ip_from(c.proto).ok()?, c.prefix_len)))
                    .take(spoke_to_spoke::MAX_HOPS)
                    .collect();
                if prefixes.is_empty()
                    && let Ok(dst_proto) = ip_from(repr.dst_proto)
                {
                    prefixes.push(spoke_to_spoke::host(dst_proto));
                }
                records.purges.push(Purge {
                    seen,
                    from: src,
                    to: dst,
                    reply: matches!(repr.message, nhrp::Message::PurgeReply(_)),
                    request_id: control.request_id,
                    prefixes,
                });
            }
            nhrp::Message::ErrorIndication(error) => {
                // An error about a Resolution Request: the request it quotes.
                let Ok(quoted) = error.parse_packet() else {
                    return;
                };
                let nhrp::Message::ResolutionRequest(control) = quoted.message else {
                    return;
                };
                let Ok(requester) = ip_from(quoted.src_proto) else {
                    return;
                };
                if let Some(raw) = records
                    .by_request
                    .get(&(requester, control.request_id))
                    .and_then(|&i| records.resolutions.get_mut(i))
                {
                    let code = error.code.canonical();
                    raw.resolution.error.get_or_insert((
                        seen,
                        error.code.0,
                        code.name().unwrap_or("unknown"),
                    ));
                }
            }
        }
    }

    /// Records an inner data packet from `src` to `dst` that travelled from `outer_src` to
    /// `outer_dst`.
    pub(super) fn shortcut_leg(
        &mut self,
        src: IpAddr,
        dst: IpAddr,
        outer_src: IpAddr,
        outer_dst: IpAddr,
    ) {
        let seen = self.frame.seen;
        let records = &mut self.shortcuts;
        let order = records.legs.len();
        match records.legs.get_mut(&(src, dst, outer_src, outer_dst)) {
            Some((_, leg)) => leg.add(1, seen, seen),
            None if order < MAX_FLOWS => {
                let mut leg = Leg::default();
                leg.add(1, seen, seen);
                records
                    .legs
                    .insert((src, dst, outer_src, outer_dst), (order, leg));
            }
            None => records.dropped += 1,
        }
    }
}

/// The flows, in order of first sight, each with its outer hops (at most [`MAX_LEGS`]; packets
/// of further hops are counted in `dropped`).
fn group_legs(
    legs: HashMap<(IpAddr, IpAddr, IpAddr, IpAddr), (usize, Leg)>,
    dropped: &mut u64,
) -> Vec<RawFlow> {
    let mut legs: Vec<_> = legs.into_iter().collect();
    legs.sort_unstable_by_key(|(_, (order, _))| *order);
    let mut flows: Vec<RawFlow> = Vec::new();
    let mut index: HashMap<(IpAddr, IpAddr), usize> = HashMap::new();
    for ((src, dst, outer_src, outer_dst), (_, leg)) in legs {
        let at = *index.entry((src, dst)).or_insert_with(|| {
            flows.push(RawFlow {
                src,
                dst,
                legs: Vec::new(),
            });
            flows.len() - 1
        });
        match flows.get_mut(at) {
            Some(flow) if flow.legs.len() < MAX_LEGS => flow.legs.push((outer_src, outer_dst, leg)),
            _ => *dropped += leg.packets,
        }
    }
    flows
}

/// `addr` with only its first `len` bits kept (a network address).
fn masked(addr: IpAddr, len: u8) -> IpAddr {
    match addr {
        IpAddr::V4(v4) => {
            let mask = u32::MAX
                .checked_shl(32 - u32::from(len.min(32)))
                .unwrap_or(0);
            IpAddr::V4((v4.to_bits() & mask).into())
        }
        IpAddr::V6(v6) => {
            let mask = u128::MAX
                .checked_shl(128 - u32::from(len.min(128)))
                .unwrap_or(0);
            IpAddr::V6((v6.to_bits() & mask).into())
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quoted_headers() {
        // Version 4, header 20 bytes, ICMP, 192.168.11.10 -> 192.168.12.10.
        let v4 = [
            &[0x45, 0, 0, 28, 0, 0, 0, 0, 64, 1, 0, 0][..],
            &[192, 168, 11, 10],
            &[192, 168, 12, 10],
        ]
        .concat();
        let flow = quoted_flow(&v4).unwrap();
        assert_eq!(flow.src.to_string(), "192.168.11.10");
        assert_eq!(flow.dst.to_string(), "192.168.12.10");
        assert_eq!(flow.protocol, 1);
        assert_eq!(quoted_flow(&v4[..19]), None);
        assert_eq!(quoted_flow(&[]), None);
        let mut v6 = [0u8; 40];
        v6[0] = 0x60;
        v6[6] = 58;
        v6[23] = 1;
        v6[39] = 2;
        let flow = quoted_flow(&v6).unwrap();
        assert_eq!(
            (flow.src.to_string(), flow.dst.to_string()),
            ("::1".into(), "::2".into())
        );
    }

    #[test]
    fn networks() {
        let addr: IpAddr = "192.168.12.10".parse().unwrap();
        assert_eq!(masked(addr, 24).to_string(), "192.168.12.0");
        assert_eq!(masked(addr, 32), addr);
        assert_eq!(masked(addr, 0).to_string(), "0.0.0.0");
        assert_eq!(masked(addr, 255), addr);
        let v6: IpAddr = "2001:db8:1:2::5".parse().unwrap();
        assert_eq!(masked(v6, 48).to_string(), "2001:db8:1::");
    }
}
