//! The reliable transport (RFC 7868 §5.3): sequence numbers, one packet in flight per
//! neighbour, acknowledgements, retransmission and the startup (INIT) exchange.

use alloc::vec::Vec;
use core::net::Ipv4Addr;

use dmvpn_eigrp::tlv::Tlv;
use dmvpn_eigrp::{self as eigrp, Flags, OpCode};

use super::{Advert, Eigrp, Kind, RETRY_LIMIT, RTO_MAX, RTO_MIN, Timer};
use crate::eigrp::neighbor::{self, DownReason, Header, Transmit};
use crate::eigrp::topology::Prefix;
use crate::time::{Duration, Instant};

impl Eigrp {
    pub(super) fn acknowledged(&mut self, now: Instant, from: Ipv4Addr, ack: u32) {
        let Some(peer) = self.peers.get_mut(&from) else {
            return;
        };
        if !peer.in_flight || peer.queue.front().is_none_or(|head| head.sequence != ack) {
            return;
        }
        let Some(head) = peer.queue.pop_front() else {
            return;
        };
        peer.in_flight = false;
        if peer.retries == 0 {
            let sample = now - peer.last_sent;
            peer.srtt = if peer.srtt == Duration::ZERO {
                sample
            } else {
                (peer.srtt.saturating_mul(4) + sample).div(5)
            };
            peer.rto = peer.srtt.saturating_mul(6).min(RTO_MAX).max(RTO_MIN);
        }
        peer.retries = 0;
        self.timers.stop(Timer::Retransmit(from));
        let first_init = head.flags.contains(Flags::INIT) && !peer.init_acked;
        peer.init_acked |= first_init;
        if first_init {
            self.send_startup(from);
        }
    }

    /// Queues the whole table to a neighbour whose INIT was acknowledged.
    pub(super) fn send_startup(&mut self, to: Ipv4Addr) {
        let adverts: Vec<(Prefix, Advert)> = self
            .topology
            .iter()
            .filter_map(|(p, e)| self.advert_for(e, to).map(|a| (*p, a)))
            .collect();
        for (prefix, advert) in &adverts {
            if let Some(entry) = self.topology.get_mut(prefix) {
                entry.told.insert(to, *advert);
            }
        }
        if let Some(peer) = self.peers.get_mut(&to) {
            for (prefix, advert) in adverts {
                peer.outgoing.insert((Kind::Update, prefix), advert);
            }
            peer.eot_pending = true;
        }
    }

    /// Sequence-number bookkeeping of a reliable packet; whether to process it.
    pub(super) fn accept(&mut self, now: Instant, from: Ipv4Addr, msg: &eigrp::Repr<'_>) -> bool {
        let Some(peer) = self.peers.get_mut(&from) else {
            return false;
        };
        let sequence = msg.sequence;
        if msg.flags.contains(Flags::INIT) {
            if sequence == peer.received && peer.init_received {
                peer.ack_owed = true; // a retransmitted INIT: acknowledge again
                return false;
            }
            if peer.init_received {
                self.reset(now, from, DownReason::PeerRestarted);
                return false;
            }
            peer.init_received = true;
            peer.received = sequence;
            peer.ack_owed = true;
            return msg.opcode == OpCode::UPDATE;
        }
        if !peer.init_received {
            return false;
        }
        if msg.flags.contains(Flags::CR) {
            if peer.cr_sequence != Some(sequence) {
                return false;
            }
            peer.cr_sequence = None;
        }
        if sequence == peer.received {
            peer.ack_owed = true;
            return false;
        }
        // Serial-number arithmetic: newer means ahead by less than half the space.
        if sequence.wrapping_sub(peer.received) > u32::MAX / 2 {
            return false;
        }
        peer.received = sequence;
        peer.ack_owed = true;
        true
    }

    /// A Hello's Sequence and Next Multicast Sequence TLVs (RFC 7868 §5.3.?, IOS's "CR-mode").
    pub(super) fn conditional_receive(&mut self, from: Ipv4Addr, msg: &eigrp::Repr<'_>) {
        let own = self.config.hello.address.octets();
        let mut listed = None;
        let mut next = None;
        for tlv in msg.tlvs.iter() {
            match tlv {
                Tlv::Sequence(list) => listed = Some(list.iter().any(|a| a == own)),
                Tlv::NextMulticastSequence(n) => next = Some(n),
                _ => {}
            }
        }
        if let Some(peer) = self.peers.get_mut(&from) {
            match (listed, next) {
                (Some(true), _) => peer.cr_sequence = None,
                (_, Some(n)) => peer.cr_sequence = Some(n),
                _ => {}
            }
        }
    }

    pub(super) fn retransmit(&mut self, now: Instant, address: Ipv4Addr) {
        let hold = self
            .hello
            .get(address)
            .map_or(Duration::ZERO, |n| n.hold_time);
        let Some(peer) = self.peers.get_mut(&address) else {
            return;
        };
        if !peer.in_flight {
            return;
        }
        if peer.retries >= RETRY_LIMIT && now - peer.first_sent >= hold {
            self.reset(now, address, DownReason::RetryLimitExceeded);
            return;
        }
        peer.retries += 1;
        self.send_head(now, address);
    }

    /// Puts the head of the neighbour's queue on the wire (again).
    pub(super) fn send_head(&mut self, now: Instant, to: Ipv4Addr) {
        let Some(peer) = self.peers.get_mut(&to) else {
            return;
        };
        let Some(head) = peer.queue.front() else {
            return;
        };
        let ack = if peer.ack_owed { peer.received } else { 0 };
        peer.ack_owed = false;
        let header = Header {
            opcode: head.opcode,
            flags: head.flags,
            sequence: head.sequence,
            ack,
        };
        let bytes = neighbor::seal(&self.config.hello, header, &head.tlvs);
        if !peer.in_flight {
            peer.first_sent = now;
            peer.in_flight = true;
        }
        peer.last_sent = now;
        self.timers.set(Timer::Retransmit(to), now + peer.rto);
        self.transmits
            .push_back(Transmit::new(to, crate::Eigrp, bytes));
    }
}
