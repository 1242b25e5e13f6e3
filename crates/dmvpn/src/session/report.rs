//! The report: what the builder found, pair by pair, and the evidence its rules point at.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;
use std::net::IpAddr;
use std::time::Duration;

use super::{
    Finding, MAX_EVENTS, MAX_EVIDENCE, MAX_IKE_SAS_PER_PAIR, MAX_SPIS_PER_PAIR, PskCheck, Rule,
    psk, render,
};
use crate::capture::Timestamp;

/// When something was seen: frame number and capture time.
#[derive(Clone, Copy, Debug, Default, Eq, PartialEq)]
pub struct Seen {
    /// The frame number (1-based, as Wireshark counts).
    pub frame: u64,
    /// The frame's timestamp.
    pub time: Timestamp,
}

/// Packets and bytes.
#[derive(Clone, Copy, Debug, Default, Eq, PartialEq)]
pub struct Counter {
    /// Packets.
    pub packets: u64,
    /// Bytes (of the IP packet or the NHRP message counted).
    pub bytes: u64,
}

impl Counter {
    pub(super) fn add(&mut self, bytes: usize) {
        self.packets += 1;
        self.bytes += bytes as u64;
    }

    pub(super) fn merge(&mut self, other: Self) {
        self.packets += other.packets;
        self.bytes += other.bytes;
    }
}

/// What went over the caps on itemised ESP flows and IKE SAs ([`MAX_SPIS_PER_PAIR`],
/// [`MAX_SPIS`](super::MAX_SPIS), [`MAX_IKE_SAS_PER_PAIR`],
/// [`MAX_IKE_SAS`](super::MAX_IKE_SAS)): counted here instead.
#[derive(Clone, Copy, Debug, Default, Eq, PartialEq)]
pub struct Overflow {
    /// ESP packets (and their bytes) of SPIs not itemised.
    pub esp: Counter,
    /// ISAKMP messages of IKE SAs (initiator cookies) not kept.
    pub ike_messages: u64,
}

impl Overflow {
    /// Whether nothing went over a cap.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.esp.packets == 0 && self.ike_messages == 0
    }

    pub(super) fn merge(&mut self, other: Self) {
        self.esp.merge(other.esp);
        self.ike_messages += other.ike_messages;
    }
}

/// What a session report says about a whole capture.
#[derive(Clone, Debug, Default)]
pub struct Report {
    /// Frames read.
    pub frames: u64,
    /// The earliest frame's time (the first frame's when the timestamps are in order).
    pub start: Option<Timestamp>,
    /// The latest frame's time.
    pub end: Option<Timestamp>,
    /// Frames whose timestamp is earlier than the frame before them.
    pub out_of_order: u64,
    /// What went over the caps, over all pairs.
    pub overflow: Overflow,
    /// One record per peer pair, in order of first appearance.
    pub peers: Vec<PeerPair>,
    /// Frames of pairs beyond [`MAX_PAIRS`](super::MAX_PAIRS), not recorded.
    pub unpaired_frames: u64,
    /// What the diagnosis rules found, in rule order.
    pub findings: Vec<Finding>,
    /// Spoke-to-spoke activity: redirects, resolutions, direct tunnels and the path of each
    /// flow between spokes' networks (DMVPN Phase 2/3).
    pub spoke_to_spoke: super::SpokeToSpoke,
}

impl Report {
    /// The record of the pair `a` ↔ `b` (either order), addresses as text.
    #[must_use]
    pub fn peer(&self, a: &str, b: &str) -> Option<&PeerPair> {
        let (a, b): (IpAddr, IpAddr) = (a.parse().ok()?, b.parse().ok()?);
        self.peers
            .iter()
            .find(|p| (p.a == a && p.b == b) || (p.a == b && p.b == a))
    }

    /// The rules that fired, each once.
    #[must_use]
    pub fn rules(&self) -> BTreeSet<Rule> {
        self.findings.iter().map(|f| f.rule).collect()
    }
}

/// Everything seen between two NBMA addresses.
///
/// `a` is the hub when one side is known to be one (it answered NHRP registrations), otherwise
/// the side seen first.
#[derive(Clone, Debug)]
pub struct PeerPair {
    /// The hub's (or first-seen peer's) NBMA address.
    pub a: IpAddr,
    /// The spoke's (or other peer's) NBMA address.
    pub b: IpAddr,
    /// Whether `a` is known to be an NHS (it received registrations or sent replies).
    pub a_is_hub: bool,
    /// First frame between the two (in capture order).
    pub first: Seen,
    /// Last frame between the two (in capture order).
    pub last: Seen,
    /// The earliest timestamp of the pair's frames.
    pub earliest: Timestamp,
    /// The latest timestamp of the pair's frames.
    pub latest: Timestamp,
    /// Frames between the two (a multicast frame counts in each of its sender's pairs).
    pub frames: u64,
    /// Tunnel address ↔ NBMA address bindings announced in NHRP (source protocol and NBMA
    /// addresses of requests), by tunnel address; the NBMA is what the sender claims (behind NAT,
    /// its private address). At most 256 are kept.
    pub tunnel: BTreeMap<IpAddr, IpAddr>,
    /// The NHRP timeline.
    pub nhrp: NhrpTimeline,
    /// IKEv1 phase 1 SAs, by first appearance.
    pub ike: Vec<IkeSa>,
    /// IKEv2 SAs, by first appearance.
    pub ikev2: Vec<super::Ikev2Sa>,
    /// ESP flows, one per direction and SPI.
    pub esp: Vec<EspFlow>,
    /// The EIGRP adjacency as each side shows it: `[a's, b's]`.
    pub eigrp: [EigrpSide; 2],
    /// Traffic inside the tunnel by inner protocol (`nhrp`, `eigrp`, `icmp`, `tcp`, `udp`, …).
    pub inner: BTreeMap<&'static str, Counter>,
    /// ESP packets and ISAKMP messages of SPIs and IKE SAs over the caps.
    pub overflow: Overflow,
}

impl PeerPair {
    pub(crate) fn new(a: IpAddr, b: IpAddr, seen: Seen) -> Self {
        Self {
            a,
            b,
            a_is_hub: false,
            first: seen,
            last: seen,
            earliest: seen.time,
            latest: seen.time,
            frames: 0,
            tunnel: BTreeMap::new(),
            nhrp: NhrpTimeline::default(),
            ike: Vec::new(),
            ikev2: Vec::new(),
            esp: Vec::new(),
            eigrp: [EigrpSide::default(), EigrpSide::default()],
            inner: BTreeMap::new(),
            overflow: Overflow::default(),
        }
    }

    /// The index of `addr`'s side: 0 for `a`, 1 for `b`. An address that is neither NBMA address
    /// (a tunnel address, for a multicast packet) is matched against the NHRP bindings and the
    /// EIGRP routers; failing that it is `b`'s.
    pub(super) fn side(&self, addr: IpAddr) -> usize {
        if addr == self.a {
            return 0;
        }
        if addr == self.b {
            return 1;
        }
        if let Some(&nbma) = self.tunnel.get(&addr) {
            if nbma == self.a {
                return 0;
            }
            if nbma == self.b {
                return 1;
            }
        }
        if self.eigrp[0].router == Some(addr) {
            return 0;
        }
        1
    }

    /// Whether this record is a sender's traffic to a multicast group, not yet given to a pair.
    pub(super) fn is_group(&self) -> bool {
        is_group_address(self.b)
    }

    /// The pair's rekeys: Quick Modes started after an earlier one (of any IKE SA of the pair)
    /// completed.
    pub(super) fn mark_rekeys(&mut self) {
        let completed: Vec<u64> = self
            .ike
            .iter()
            .flat_map(|sa| &sa.phase2)
            .filter_map(|child| child.completed.map(|seen| seen.frame))
            .collect();
        for child in self.ike.iter_mut().flat_map(|sa| &mut sa.phase2) {
            child.rekey = completed.iter().any(|&frame| frame < child.first.frame);
        }
    }

    /// Adds `other` (a sender's multicast record: the sender is its `a`) to this pair, on the
    /// sender's side.
    pub(super) fn absorb(&mut self, other: &Self) {
        let side = self.side(other.a);
        if other.first.frame < self.first.frame {
            self.first = other.first;
        }
        if other.last.frame > self.last.frame {
            self.last = other.last;
        }
        self.earliest = self.earliest.min(other.earliest);
        self.latest = self.latest.max(other.latest);
        self.frames += other.frames;
        for (tunnel, nbma) in &other.tunnel {
            self.tunnel.entry(*tunnel).or_insert(*nbma);
        }
        let (nhrp, theirs) = (&mut self.nhrp, &other.nhrp);
        for event in &theirs.events {
            nhrp.push(event.clone());
        }
        nhrp.events.sort_by_key(|e| (e.seen.time, e.seen.frame));
        nhrp.dropped_events += theirs.dropped_events;
        nhrp.requests += theirs.requests;
        nhrp.refreshes += theirs.refreshes;
        nhrp.successes += theirs.successes;
        nhrp.refusals += theirs.refusals;
        if theirs.last_success.map(|s| s.frame) > nhrp.last_success.map(|s| s.frame) {
            nhrp.last_success = theirs.last_success;
            nhrp.last_hold_time = theirs.last_hold_time;
        }
        if nhrp.auth[side].is_none() {
            nhrp.auth[side] = theirs.auth[0];
        }
        for sa in &other.ike {
            if self.ike.len() < MAX_IKE_SAS_PER_PAIR {
                self.ike.push(sa.clone());
            } else {
                self.overflow.ike_messages += sa.messages;
            }
        }
        for flow in &other.esp {
            if self.esp.len() < MAX_SPIS_PER_PAIR {
                self.esp.push(flow.clone());
            } else {
                self.overflow.esp.merge(flow.packets);
            }
        }
        self.eigrp[side].absorb(&other.eigrp[0]);
        for (name, counter) in &other.inner {
            self.inner.entry(name).or_default().merge(*counter);
        }
        self.overflow.merge(other.overflow);
    }
}

/// Whether `addr` is a multicast address or the IPv4 broadcast address.
pub(super) fn is_group_address(addr: IpAddr) -> bool {
    addr.is_multicast() || addr == IpAddr::V4(std::net::Ipv4Addr::BROADCAST)
}

/// One NHRP message between the pair.
#[derive(Clone, Debug, Eq, PartialEq)]
pub struct NhrpEvent {
    /// When.
    pub seen: Seen,
    /// The outer (NBMA) source.
    pub from: IpAddr,
    /// What.
    pub kind: NhrpKind,
}

/// The NHRP messages the timeline records.
#[derive(Clone, Debug, Eq, PartialEq)]
#[non_exhaustive]
pub enum NhrpKind {
    /// Registration Request (RFC 2332 §5.2.3).
    RegistrationRequest {
        /// Request ID.
        request_id: u32,
        /// Hold time of the first CIE, seconds.
        hold_time: u16,
        /// The uniqueness (U) flag.
        unique: bool,
        /// Whether an earlier registration of this spoke had succeeded: a refresh.
        refresh: bool,
    },
    /// Registration Reply (§5.2.4).
    RegistrationReply {
        /// Request ID it answers.
        request_id: u32,
        /// Code of the first CIE (0 success).
        code: u8,
        /// The code's name.
        code_name: &'static str,
        /// Hold time granted, seconds.
        hold_time: u16,
    },
    /// Resolution Request (§5.2.1).
    ResolutionRequest {
        /// Request ID.
        request_id: u32,
    },
    /// Resolution Reply (§5.2.2).
    ResolutionReply {
        /// Request ID.
        request_id: u32,
        /// Code of the first CIE.
        code: u8,
    },
    /// Purge Request (§5.2.5).
    PurgeRequest {
        /// Request ID.
        request_id: u32,
    },
    /// Purge Reply (§5.2.6).
    PurgeReply {
        /// Request ID.
        request_id: u32,
    },
    /// Error Indication (§5.2.7).
    ErrorIndication {
        /// Error code.
        code: u16,
        /// The code's name.
        code_name: &'static str,
    },
    /// Traffic Indication (Cisco DMVPN phase 3 redirect).
    TrafficIndication,
}

/// An [`NhrpKind`] as flat columns, each `None` where the message has no such field: what the
/// JSON report and the export write, in that order.
#[derive(Clone, Copy, Debug, Default, Eq, PartialEq)]
pub(crate) struct NhrpFields {
    /// The message type in snake case (`registration_request`, …).
    pub(crate) kind: &'static str,
    /// Request ID.
    pub(crate) request_id: Option<u32>,
    /// The code (of the first CIE, or of the Error Indication).
    pub(crate) code: Option<u16>,
    /// The code's name.
    pub(crate) code_name: Option<&'static str>,
    /// Hold time, seconds.
    pub(crate) hold_time: Option<u16>,
    /// A Registration Request's uniqueness flag.
    pub(crate) unique: Option<bool>,
    /// Whether a Registration Request is a refresh.
    pub(crate) refresh: Option<bool>,
}

impl NhrpKind {
    /// The message's fields as flat columns.
    #[must_use]
    pub(crate) fn fields(&self) -> NhrpFields {
        let with_id = |kind, request_id| NhrpFields {
            kind,
            request_id: Some(request_id),
            ..NhrpFields::default()
        };
        match *self {
            Self::RegistrationRequest {
                request_id,
                hold_time,
                unique,
                refresh,
            } => NhrpFields {
                hold_time: Some(hold_time),
                unique: Some(unique),
                refresh: Some(refresh),
                ..with_id("registration_request", request_id)
            },
            Self::RegistrationReply {
                request_id,
                code,
                code_name,
                hold_time,
            } => NhrpFields {
                code: Some(code.into()),
                code_name: Some(code_name),
                hold_time: Some(hold_time),
                ..with_id("registration_reply", request_id)
            },
            Self::ResolutionRequest { request_id } => with_id("resolution_request", request_id),
            Self::ResolutionReply { request_id, code } => NhrpFields {
                code: Some(code.into()),
                ..with_id("resolution_reply", request_id)
            },
            Self::PurgeRequest { request_id } => with_id("purge_request", request_id),
            Self::PurgeReply { request_id } => with_id("purge_reply", request_id),
            Self::ErrorIndication { code, code_name } => NhrpFields {
                kind: "error_indication",
                code: Some(code),
                code_name: Some(code_name),
                ..NhrpFields::default()
            },
            Self::TrafficIndication => NhrpFields {
                kind: "traffic_indication",
                ..NhrpFields::default()
            },
        }
    }
}

/// The NHRP registration timeline of one pair.
#[derive(Clone, Debug, Default)]
pub struct NhrpTimeline {
    /// The events, in capture order (at most [`MAX_EVENTS`]).
    pub events: Vec<NhrpEvent>,
    /// Events not kept because the list was full.
    pub dropped_events: u64,
    /// Registration requests.
    pub requests: u64,
    /// Of those, refreshes (after a successful registration).
    pub refreshes: u64,
    /// Successful replies.
    pub successes: u64,
    /// Replies with a non-zero code.
    pub refusals: u64,
    /// The last successful reply.
    pub last_success: Option<Seen>,
    /// The hold time it granted, seconds.
    pub last_hold_time: Option<u16>,
    /// Authentication extension fingerprints by sender side (never printed; only compared).
    pub(super) auth: [Option<u64>; 2],
}

impl NhrpTimeline {
    /// The registration requests of the timeline.
    pub fn registrations(&self) -> impl Iterator<Item = &NhrpEvent> {
        self.events
            .iter()
            .filter(|e| matches!(e.kind, NhrpKind::RegistrationRequest { .. }))
    }

    /// When the last successful registration expires unless refreshed.
    #[must_use]
    pub fn expiry(&self) -> Option<Timestamp> {
        let seen = self.last_success?;
        let hold = self.last_hold_time?;
        Some(
            seen.time
                .saturating_add(Duration::from_secs(u64::from(hold))),
        )
    }

    pub(super) fn push(&mut self, event: NhrpEvent) {
        if self.events.len() < MAX_EVENTS {
            self.events.push(event);
        } else {
            self.dropped_events += 1;
        }
    }
}

/// An IKEv1 phase 1 SA (ISAKMP SA) and its Quick Mode children.
#[derive(Clone, Debug, Default)]
pub struct IkeSa {
    /// Initiator cookie.
    pub icookie: [u8; 8],
    /// Responder cookie (zero until the responder answered).
    pub rcookie: [u8; 8],
    /// The initiator's NBMA address, when its first message was seen.
    pub initiator: Option<IpAddr>,
    /// Exchange: Main Mode or Aggressive Mode.
    pub exchange: Option<&'static str>,
    /// The negotiated proposal in IOS terms (`3des md5 group 2 pre-share`): the responder's
    /// choice, else the initiator's first offer.
    pub proposal: Option<String>,
    /// Whether `proposal` is the responder's choice.
    pub proposal_accepted: bool,
    /// Lifetime, seconds.
    pub lifetime: Option<u64>,
    /// First message.
    pub first: Seen,
    /// Last message.
    pub last: Seen,
    /// Messages.
    pub messages: u64,
    /// Whether a peer announced RFC 3706 DPD support (Vendor ID).
    pub dpd: bool,
    /// DPD R-U-THERE and R-U-THERE-ACK notifications seen.
    pub dpd_messages: u64,
    /// Notifications other than DPD: when, and the type's name or number.
    pub notifications: Vec<(Seen, String)>,
    /// Delete payloads: when, protocol and SPIs (ESP/AH) or none (ISAKMP).
    pub deletes: Vec<(Seen, &'static str, Vec<u32>)>,
    /// Quick Mode exchanges (phase 2 SAs).
    pub phase2: Vec<ChildSa>,
    /// Encrypted messages that could not be read (no key).
    pub undecrypted: u64,
    /// When phase 1 completed: its last message (the responder's encrypted Main Mode 6,
    /// Aggressive Mode 3), or failing that the first Quick Mode (which needs it).
    pub established: Option<Seen>,
    /// Phase 1 messages seen (to tell when Main or Aggressive Mode completed).
    pub(super) phase1_messages: u8,
    /// Encrypted Main Mode messages (5 and 6, retransmissions included) by sender:
    /// `[initiator's, responder's]`.
    pub encrypted_main_mode: [u64; 2],
    /// Frames of the initiator's encrypted Main Mode messages (at most [`MAX_EVIDENCE`]).
    pub main_mode_5: Vec<u64>,
    /// The pre-shared key check
    /// ([`SessionBuilder::with_psks`](super::SessionBuilder::with_psks)); `None` when no key
    /// was given.
    pub psk: Option<PskCheck>,
    /// What the PSK check needs from the phase 1 exchange (kept only when keys were given).
    pub(super) handshake: Option<Box<psk::Handshake>>,
}

/// A phase 2 SA pair negotiated by one Quick Mode.
///
/// IOS often runs two Quick Modes at once (different message IDs, overlapping in time): those are
/// parallel negotiations, not rekeys. A rekey is a Quick Mode that starts after an earlier one of
/// the pair completed ([`ChildSa::rekey`]).
#[derive(Clone, Debug, Default, Eq, PartialEq)]
pub struct ChildSa {
    /// The Quick Mode message ID.
    pub message_id: u32,
    /// First message.
    pub first: Seen,
    /// Messages of this Quick Mode (retransmissions included).
    pub messages: u64,
    /// Messages that could not be read (encrypted, no IKE key).
    pub undecrypted: u64,
    /// When it completed: the initiator's message after the responder's (Quick Mode 3). Seen
    /// from the headers, so also without the IKE keys.
    pub completed: Option<Seen>,
    /// Whether it started after an earlier Quick Mode of the pair completed.
    pub rekey: bool,
    /// The sender of its first message.
    pub(super) initiator: Option<IpAddr>,
    /// Whether the responder answered.
    pub(super) answered: bool,
    /// The SPIs proposed by each side (the initiator's, then the responder's).
    pub spis: Vec<u32>,
    /// The transform set in IOS terms (`esp-aes 256 esp-sha-hmac`).
    pub transform: Option<String>,
    /// `transport` or `tunnel` (UDP-encapsulated forms say so).
    pub mode: Option<&'static str>,
    /// Lifetime, seconds.
    pub lifetime: Option<u64>,
}

/// ESP traffic of one SA (direction and SPI).
#[derive(Clone, Debug, Default, Eq, PartialEq)]
pub struct EspFlow {
    /// Outer source.
    pub src: Option<IpAddr>,
    /// Outer destination.
    pub dst: Option<IpAddr>,
    /// SPI.
    pub spi: u32,
    /// Whether a decrypted Quick Mode negotiated this SPI.
    pub negotiated: bool,
    /// ESP packets (and their bytes from the SPI on).
    pub packets: Counter,
    /// Packets decrypted (and verified).
    pub decrypted: u64,
    /// Packets with no key.
    pub no_key: u64,
    /// Packets whose ICV failed.
    pub icv_failed: u64,
    /// Packets replayed (sequence number seen before).
    pub replays: u64,
    /// Lowest sequence number.
    pub min_seq: u32,
    /// Highest sequence number.
    pub max_seq: u32,
    /// First packet (in capture order).
    pub first: Seen,
    /// Last packet (in capture order).
    pub last: Seen,
    /// The earliest packet's timestamp.
    pub earliest: Timestamp,
    /// The latest packet's timestamp.
    pub latest: Timestamp,
    /// Packets cut by the snapshot length before their sequence number (not in `min_seq`,
    /// `max_seq` or the gaps).
    pub seq_unknown: u64,
}

impl EspFlow {
    /// The packet counters by their JSON names, in the order every output lists them:
    /// `packets`, `bytes`, `decrypted`, `no_key`, `icv_failed`, `replays`.
    #[must_use]
    pub const fn counts(&self) -> [(&'static str, u64); 6] {
        [
            ("packets", self.packets.packets),
            ("bytes", self.packets.bytes),
            ("decrypted", self.decrypted),
            ("no_key", self.no_key),
            ("icv_failed", self.icv_failed),
            ("replays", self.replays),
        ]
    }

    /// Sequence numbers missing between the lowest and the highest seen: an estimate of packets
    /// lost before the capture point (or captured elsewhere).
    #[must_use]
    pub fn sequence_gaps(&self) -> u64 {
        let numbered = self.packets.packets.saturating_sub(self.seq_unknown);
        if numbered == 0 {
            return 0;
        }
        let span = u64::from(self.max_seq.saturating_sub(self.min_seq)) + 1;
        span.saturating_sub(numbered.saturating_sub(self.replays))
    }
}

/// One side's view of the EIGRP adjacency.
#[derive(Clone, Debug, Default, Eq, PartialEq)]
pub struct EigrpSide {
    /// The side's tunnel address (the source of its EIGRP packets).
    pub router: Option<IpAddr>,
    /// Autonomous system of its hellos.
    pub autonomous_system: Option<u16>,
    /// K1–K6 of its hellos.
    pub k: Option<[u8; 6]>,
    /// Hold time of its hellos, seconds.
    pub hold_time: Option<u16>,
    /// Hellos sent.
    pub hellos: u64,
    /// First hello.
    pub first_hello: Option<Seen>,
    /// Last hello.
    pub last_hello: Option<Seen>,
    /// Goodbye (K1–K5 = 255) hellos.
    pub goodbyes: u64,
    /// Hellos whose K values differed from the side's first ones: (frame, K values).
    pub k_changes: Vec<(u64, [u8; 6])>,
    /// Hellos whose AS differed from the side's first one: (frame, AS).
    pub as_changes: Vec<(u64, u16)>,
    /// Prefixes (address, length) this side advertised as reachable in updates.
    pub routes: BTreeSet<(IpAddr, u8)>,
    /// Frames of this side's updates that carried routes (at most [`MAX_EVIDENCE`]).
    pub updates: Vec<u64>,
    /// Times the adjacency went down as this side shows it: (frame before, frame after) for a
    /// gap between hellos longer than the hold time, (frame, frame) for a goodbye.
    pub downs: Vec<(u64, u64)>,
    /// The latest hello time so far (a gap is measured from it, so timestamps going back do not
    /// make one).
    pub(super) latest_hello: Option<Seen>,
}

impl EigrpSide {
    /// Adds the hellos and routes of `other`, the same router seen in another record.
    pub(super) fn absorb(&mut self, other: &Self) {
        self.router = self.router.or(other.router);
        self.autonomous_system = self.autonomous_system.or(other.autonomous_system);
        if let (Some(mine), Some(theirs)) = (self.k, other.k)
            && mine != theirs
            && self.k_changes.len() < MAX_EVIDENCE
            && let Some(first) = other.first_hello
        {
            self.k_changes.push((first.frame, theirs));
        }
        self.k = self.k.or(other.k);
        self.hold_time = self.hold_time.or(other.hold_time);
        self.hellos += other.hellos;
        self.goodbyes += other.goodbyes;
        let earlier = |a: Option<Seen>, b: Option<Seen>, pick_min: bool| match (a, b) {
            (Some(a), Some(b)) => Some(if (a.frame < b.frame) == pick_min {
                a
            } else {
                b
            }),
            (a, b) => a.or(b),
        };
        self.first_hello = earlier(self.first_hello, other.first_hello, true);
        self.last_hello = earlier(self.last_hello, other.last_hello, false);
        self.latest_hello = match (self.latest_hello, other.latest_hello) {
            (Some(a), Some(b)) => Some(if a.time >= b.time { a } else { b }),
            (a, b) => a.or(b),
        };
        for change in &other.k_changes {
            if self.k_changes.len() < MAX_EVIDENCE {
                self.k_changes.push(*change);
            }
        }
        for change in &other.as_changes {
            if self.as_changes.len() < MAX_EVIDENCE {
                self.as_changes.push(*change);
            }
        }
        for route in &other.routes {
            if self.routes.len() < 4096 {
                self.routes.insert(*route);
            }
        }
        for update in &other.updates {
            if self.updates.len() < MAX_EVIDENCE {
                self.updates.push(*update);
            }
        }
        self.updates.sort_unstable();
        for down in &other.downs {
            if self.downs.len() < MAX_EVIDENCE {
                self.downs.push(*down);
            }
        }
    }
}

/// Evidence the rules need that is not part of a pair's record.
#[derive(Clone, Debug, Default)]
pub(crate) struct Evidence {
    /// NO-PROPOSAL-CHOSEN notifications: (pair index, frame).
    pub(crate) no_proposal: Vec<(usize, u64)>,
    /// NO-PROPOSAL-CHOSEN answering a Quick Mode (ESP/AH protocol, or sent encrypted): (pair, frame).
    pub(crate) no_transform: Vec<(usize, u64)>,
    /// ESP frames by ICV failure / replay: (pair index, frame).
    pub(crate) icv_failed: Vec<(usize, u64)>,
    pub(crate) replayed: Vec<(usize, u64)>,
    /// NHRP Error Indications with code 11: (pair index, frame).
    pub(crate) auth_errors: Vec<(usize, u64)>,
    /// NHRP frames carrying an Authentication extension: (pair index, frame).
    pub(crate) auth_frames: Vec<(usize, u64)>,
    /// TCP SYNs inside the tunnel with their MSS: (pair index, frame, mss).
    pub(crate) big_mss: Vec<(usize, u64, u16)>,
    /// Outer fragments of tunnel traffic: (pair index, frame).
    pub(crate) outer_fragments: Vec<(usize, u64)>,
    /// Hair-pinned packets: (spoke in, hub, spoke out, frame in, frame out).
    pub(crate) hairpins: Vec<(IpAddr, IpAddr, IpAddr, u64, u64)>,
    /// Whether an NHRP Resolution Reply or a Traffic Indication (Phase 2/3 behaviour) was seen.
    pub(crate) resolution_seen: bool,
}

impl Evidence {
    /// Renumbers the pairs after records were merged: pair `i` is now `map[i]`.
    pub(super) fn remap(&mut self, map: &[usize]) {
        let new = |index: &mut usize| {
            if let Some(&to) = map.get(*index) {
                *index = to;
            }
        };
        for list in [
            &mut self.no_proposal,
            &mut self.no_transform,
            &mut self.icv_failed,
            &mut self.replayed,
            &mut self.auth_errors,
            &mut self.auth_frames,
            &mut self.outer_fragments,
        ] {
            list.iter_mut().for_each(|(index, _)| new(index));
        }
        self.big_mss.iter_mut().for_each(|(index, ..)| new(index));
    }
}

impl fmt::Display for Report {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        render::text(self, f)
    }
}

impl Report {
    /// Writes the report as one JSON object.
    pub fn write_json(&self, out: &mut Vec<u8>) {
        render::json(self, out);
    }
}
