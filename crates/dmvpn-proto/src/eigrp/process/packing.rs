//! Packets out: the route TLVs queued for each neighbour packed into reliable packets, and
//! the end of each step.

use alloc::vec::Vec;
use core::net::{IpAddr, Ipv4Addr};

use dmvpn_eigrp::tlv::{ClassicRoute, Destination, Destinations, Family, Tlv};
use dmvpn_eigrp::{Flags, OpCode};

use super::{Advert, Eigrp, Kind, ROUTES_PER_PACKET, Reliable};
use crate::eigrp::neighbor::{self, Header, Transmit};
use crate::eigrp::topology::Prefix;
use crate::time::Instant;

impl Eigrp {
    /// Ends a step: Updates for changed routes, queued route TLVs packed into reliable packets,
    /// heads put on the wire, acknowledgements owed sent.
    pub(super) fn flush(&mut self, now: Instant) {
        let dirty: Vec<Prefix> = core::mem::take(&mut self.dirty).into_iter().collect();
        let ready: Vec<Ipv4Addr> = self
            .peers
            .iter()
            .filter(|(_, p)| p.init_acked)
            .map(|(a, _)| *a)
            .collect();
        for prefix in dirty {
            for to in &ready {
                let Some(entry) = self.topology.get(&prefix) else {
                    break;
                };
                let desired = self.advert_for(entry, *to);
                let told = entry.told.get(to).copied();
                if desired == told || entry.active.is_some() {
                    continue;
                }
                // A withdrawal keeps the TLV type (internal or external) the route had.
                let send = desired.unwrap_or(Advert {
                    external: told.and_then(|t| t.external),
                    ..Advert::UNREACHABLE
                });
                if let Some(entry) = self.topology.get_mut(&prefix) {
                    match desired {
                        Some(d) => entry.told.insert(*to, d),
                        None => entry.told.remove(to),
                    };
                }
                if desired.is_some() || told.is_some() {
                    self.queue_route(*to, Kind::Update, prefix, send);
                }
            }
        }
        self.topology.retain(|_, e| !e.is_empty());
        let addresses: Vec<Ipv4Addr> = self.peers.keys().copied().collect();
        for to in addresses {
            // Route TLVs wait in `outgoing` while a packet is in flight, merging per prefix, and
            // go out together when the queue drains: one packet per round trip per neighbour.
            if self.peers.get(&to).is_some_and(|p| p.queue.is_empty()) {
                self.pack(to);
            }
            let Some(peer) = self.peers.get(&to) else {
                continue;
            };
            if !peer.in_flight && !peer.queue.is_empty() {
                self.send_head(now, to);
            }
            if let Some(peer) = self.peers.get_mut(&to)
                && peer.ack_owed
            {
                peer.ack_owed = false;
                let header = Header {
                    opcode: OpCode::HELLO,
                    flags: Flags::default(),
                    sequence: 0,
                    ack: peer.received,
                };
                let bytes = neighbor::seal(&self.config.hello, header, &[]);
                self.transmits
                    .push_back(Transmit::new(to, crate::Eigrp, bytes));
            }
        }
    }

    /// Packs a neighbour's outgoing route TLVs into reliable packets.
    pub(super) fn pack(&mut self, to: Ipv4Addr) {
        let Some(peer) = self.peers.get_mut(&to) else {
            return;
        };
        if !peer.init_acked {
            return;
        }
        let outgoing = core::mem::take(&mut peer.outgoing);
        let eot = core::mem::take(&mut peer.eot_pending);
        let mut packets: Vec<(Kind, Vec<u8>, usize)> = Vec::new();
        for ((kind, prefix), advert) in outgoing {
            let dest = [Destination {
                prefix_len: prefix.prefix_len(),
                prefix: IpAddr::V4(prefix.addr()),
            }];
            let tlv = Tlv::Classic(ClassicRoute {
                next_hop: IpAddr::V4(advert.next_hop),
                external: advert.external,
                metric: advert.metric,
                destinations: Destinations::new(Family::Ipv4, &dest),
            });
            let bytes = neighbor::encode_tlvs(&[tlv]);
            match packets.last_mut() {
                Some((k, buf, n)) if *k == kind && *n < ROUTES_PER_PACKET => {
                    buf.extend_from_slice(&bytes);
                    *n += 1;
                }
                _ => packets.push((kind, bytes, 1)),
            }
        }
        let last_update = packets.iter().rposition(|(k, _, _)| *k == Kind::Update);
        if eot && last_update.is_none() {
            packets.insert(0, (Kind::Update, Vec::new(), 0));
        }
        let last_update = packets.iter().rposition(|(k, _, _)| *k == Kind::Update);
        for (i, (kind, tlvs, _)) in packets.into_iter().enumerate() {
            let flags = if eot && Some(i) == last_update {
                Flags::EOT
            } else {
                Flags::default()
            };
            let sequence = self.take_sequence();
            if let Some(peer) = self.peers.get_mut(&to) {
                peer.queue.push_back(Reliable {
                    sequence,
                    opcode: kind.opcode(),
                    flags,
                    tlvs,
                });
            }
        }
    }
}
