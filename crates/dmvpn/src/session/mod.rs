//! Session reconstruction: one record per peer pair (hub ↔ spoke, by NBMA address) and the
//! findings of the diagnosis rules (`dmvpn sessions FILE`).
//!
//! A [`SessionBuilder`] is a [`Sink`] for the [`Decoder`]: it watches the layers of every frame and
//! keeps, per pair of outer (NBMA) addresses, the NHRP registration timeline, the IKEv1 phase 1 SAs
//! with their Quick Mode children, the ESP flows by SPI, the EIGRP adjacency as each side shows it
//! and a summary of the traffic inside the tunnel. [`SessionBuilder::finish`] turns that into a
//! [`Report`], running the rules of [`Rule`] over it; the report prints as text ([`fmt::Display`])
//! or JSON ([`Report::write_json`]).
//!
//! ```
//! use dmvpn::capture::CaptureReader;
//! use dmvpn::decode::Decoder;
//! use dmvpn::keys::EspKeys;
//! use dmvpn::session::{Rule, SessionBuilder};
//!
//! let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/../../testdata/dmvpn");
//! let keys = EspKeys::from_file(format!("{dir}/phase1.esp_sa"))?;
//! let mut reader = CaptureReader::open(format!("{dir}/phase1.pcap"))?;
//! let report = SessionBuilder::run(&mut reader, &mut Decoder::new(keys))?;
//! let spoke = report.peer("192.0.2.1", "192.0.2.11").expect("hub ↔ spoke 1");
//! assert_eq!(spoke.nhrp.registrations().count(), 1);
//! assert!(report.findings.iter().any(|f| f.rule == Rule::EspIcvFailure));
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! Memory grows with the number of peers, SAs and distinct routes, not with the capture's length:
//! timelines keep at most [`MAX_EVENTS`] events per pair and evidence lists [`MAX_EVIDENCE`] frames,
//! and at most [`MAX_PAIRS`] pairs are recorded. ESP flows (by SPI) and IKE SAs (by initiator
//! cookie) are found through hash tables, so a capture with a million SPIs reads in seconds; at
//! most [`MAX_SPIS_PER_PAIR`] flows per pair and [`MAX_SPIS`] in all are itemised, and at most
//! [`MAX_IKE_SAS_PER_PAIR`] and [`MAX_IKE_SAS`] IKE SAs. What goes over a cap is counted, never
//! dropped silently: [`PeerPair::overflow`] and [`Report::overflow`], printed in the text and the
//! JSON.
//!
//! # How things are counted
//!
//! * **Bytes** of an ESP flow are the ESP packets' lengths from the SPI on, as sent: taken from the
//!   IP header's length fields (IPv4 total length, IPv6 payload length less its extension headers;
//!   less the UDP header for ESP in UDP and the AH header for ESP under AH, as tshark shows them),
//!   so a frame cut by the capture's snapshot length counts what was on the wire, not what was
//!   kept. An ESP packet that arrived in IP fragments counts once, whole: an IPv4 datagram at the
//!   frame that completed its reassembly, an IPv6 one (not reassembled) fragment by fragment, each
//!   fragment's share added to the packet's flow (fragments of a datagram that never completes
//!   are not counted). Inner traffic counts the inner IP packet's total length, NHRP the length
//!   GRE carried (the message's, also when the snapshot length cut it).
//! * **Time**: a capture's timestamps need not be in order (merged or badly clocked captures). The
//!   span is the earliest to the latest timestamp ([`Report::start`], [`Report::end`]), offsets are
//!   from the earliest, the frames that went back in time are counted ([`Report::out_of_order`])
//!   and the NHRP timelines are sorted by time. No duration is ever negative.
//! * **Multicast**: a packet to a multicast (or the broadcast) address, such as an EIGRP hello to
//!   224.0.0.10 captured on a LAN or a tunnel interface, belongs to its sender's pairs (those whose
//!   NBMA, NHRP tunnel or EIGRP router address is the sender), not to a pair with the group. Over
//!   GRE the outer (NBMA) addresses already give the pair. Two routers seen only through multicast
//!   to the same group make one pair; a sender with no pair at all keeps a record with the group.

mod diagnose;
mod psk;
mod render;

pub use diagnose::{Finding, MAX_TUNNEL_MSS, REPLY_GRACE, Rule, Severity};
pub use psk::{PskCheck, PskFileError, PskPeer, PskTable};

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::fmt;
use std::hash::{Hash, Hasher};
use std::io::Read;
use std::net::IpAddr;
use std::time::Duration;

use crate::capture::{CaptureError, CaptureReader, Frame, Timestamp, ipv4};
use crate::decode::{Decoder, EspStatus, IsakmpLayer, Layer, Sink};
use dmvpn_eigrp as eigrp;
use dmvpn_isakmp as isakmp;
use dmvpn_nhrp as nhrp;

/// At most this many peer pairs are recorded; frames of further pairs are only counted
/// ([`Report::unpaired_frames`]).
pub const MAX_PAIRS: usize = 1 << 16;
/// At most this many NHRP events are kept per pair (the counters keep counting).
pub const MAX_EVENTS: usize = 256;
/// At most this many evidence frames are kept per finding.
pub const MAX_EVIDENCE: usize = 32;
/// At most this many ESP flows (direction and SPI) are itemised per pair; packets of further
/// SPIs are counted in [`PeerPair::overflow`].
pub const MAX_SPIS_PER_PAIR: usize = 1024;
/// At most this many ESP flows are itemised in all (about 200 bytes each).
pub const MAX_SPIS: usize = 1 << 17;
/// At most this many IKE phase 1 SAs (initiator cookies) are kept per pair; messages of further
/// SAs are counted in [`PeerPair::overflow`].
pub const MAX_IKE_SAS_PER_PAIR: usize = 256;
/// At most this many IKE phase 1 SAs are kept in all.
pub const MAX_IKE_SAS: usize = 1 << 15;
/// Inner packets remembered for hair-pin detection before the table starts afresh.
const MAX_HAIRPIN_KEYS: usize = 1 << 16;
/// Tunnel ↔ NBMA bindings kept per pair (a flood of registrations with ever new tunnel
/// addresses must not grow the record without bound).
const MAX_TUNNEL_BINDINGS: usize = 256;
/// Pairs remembered per address for attributing multicast packets to their sender's pairs.
const MAX_PAIRS_PER_ADDRESS: usize = 4096;
/// IPv6 fragmented ESP packets remembered to add their later fragments' bytes.
const MAX_IPV6_FRAGMENTS: usize = 4096;

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
    fn add(&mut self, bytes: usize) {
        self.packets += 1;
        self.bytes += bytes as u64;
    }

    fn merge(&mut self, other: Self) {
        self.packets += other.packets;
        self.bytes += other.bytes;
    }
}

/// What went over the caps on itemised ESP flows and IKE SAs ([`MAX_SPIS_PER_PAIR`],
/// [`MAX_SPIS`], [`MAX_IKE_SAS_PER_PAIR`], [`MAX_IKE_SAS`]): counted here instead.
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

    fn merge(&mut self, other: Self) {
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
    /// Frames of pairs beyond [`MAX_PAIRS`], not recorded.
    pub unpaired_frames: u64,
    /// What the diagnosis rules found, in rule order.
    pub findings: Vec<Finding>,
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
    fn new(a: IpAddr, b: IpAddr, seen: Seen) -> Self {
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
            esp: Vec::new(),
            eigrp: [EigrpSide::default(), EigrpSide::default()],
            inner: BTreeMap::new(),
            overflow: Overflow::default(),
        }
    }

    /// The index of `addr`'s side: 0 for `a`, 1 for `b`. An address that is neither NBMA address
    /// (a tunnel address, for a multicast packet) is matched against the NHRP bindings and the
    /// EIGRP routers; failing that it is `b`'s.
    fn side(&self, addr: IpAddr) -> usize {
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
    fn is_group(&self) -> bool {
        is_group_address(self.b)
    }

    /// The pair's rekeys: Quick Modes started after an earlier one (of any IKE SA of the pair)
    /// completed.
    fn mark_rekeys(&mut self) {
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
    fn absorb(&mut self, other: &Self) {
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
fn is_group_address(addr: IpAddr) -> bool {
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
    auth: [Option<u64>; 2],
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

    fn push(&mut self, event: NhrpEvent) {
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
    phase1_messages: u8,
    /// Encrypted Main Mode messages (5 and 6, retransmissions included) by sender:
    /// `[initiator's, responder's]`.
    pub encrypted_main_mode: [u64; 2],
    /// Frames of the initiator's encrypted Main Mode messages (at most [`MAX_EVIDENCE`]).
    pub main_mode_5: Vec<u64>,
    /// The pre-shared key check ([`SessionBuilder::with_psks`]); `None` when no key was given.
    pub psk: Option<PskCheck>,
    /// What the PSK check needs from the phase 1 exchange (kept only when keys were given).
    handshake: Option<Box<psk::Handshake>>,
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
    initiator: Option<IpAddr>,
    /// Whether the responder answered.
    answered: bool,
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
    latest_hello: Option<Seen>,
}

impl EigrpSide {
    /// Adds the hellos and routes of `other`, the same router seen in another record.
    fn absorb(&mut self, other: &Self) {
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
    fn remap(&mut self, map: &[usize]) {
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

/// What the builder remembers about the frame being decoded.
#[derive(Default)]
struct FrameState {
    seen: Seen,
    /// Index of the pair of the outer addresses.
    pair: Option<usize>,
    /// For a multicast packet, the sender's further pairs (its EIGRP goes to each).
    also: Vec<usize>,
    outer: Option<(IpAddr, IpAddr)>,
    /// IP layers seen so far.
    ip_layers: usize,
    /// Whether a GRE layer was seen (later layers are inside the tunnel).
    in_gre: bool,
    /// Whether the first IP packet inside GRE was seen.
    inner_seen: bool,
    /// The inner IPv4 source (the tunnel address for EIGRP).
    inner_src: Option<IpAddr>,
    /// Frames of an outer datagram reassembled from UDP fragments (ESP-in-UDP is known later).
    udp_fragments: Vec<u64>,
    /// Bytes of the outermost ESP packet (from the SPI on), as the IP header gives them.
    esp_bytes: usize,
    /// Whether an ESP layer was seen.
    esp_seen: bool,
    /// The payload length of plain GRE in the frame's own IP packet, as the IP header gives it.
    gre_payload: Option<usize>,
    /// The outer IPv6 packet's fragment: (source, destination, identification), its offset, and
    /// the bytes it carries.
    ipv6_fragment: Option<(Ipv6FragmentKey, u16, usize)>,
}

/// An IPv6 fragmented packet: source, destination, identification.
type Ipv6FragmentKey = (std::net::Ipv6Addr, std::net::Ipv6Addr, u32);

/// An inner packet's identity across hops: source, destination, IP ident, protocol.
type InnerKey = (IpAddr, IpAddr, u16, u8);

/// A [`Sink`] that builds a [`Report`].
#[derive(Default)]
pub struct SessionBuilder {
    frames: u64,
    start: Option<Timestamp>,
    end: Option<Timestamp>,
    pairs: Vec<PeerPair>,
    index: HashMap<(IpAddr, IpAddr), usize>,
    /// The pairs of each NBMA, NHRP tunnel and EIGRP router address (for multicast senders).
    by_address: HashMap<IpAddr, Vec<usize>>,
    /// ESP flows by (pair, SPI, source, destination): the index in the pair's list.
    esp_index: HashMap<(usize, u32, IpAddr, IpAddr), usize>,
    /// IKE SAs by (pair, initiator cookie): the index in the pair's list.
    ike_index: HashMap<(usize, [u8; 8]), usize>,
    /// ESP flows itemised in all.
    esp_flows: usize,
    /// IKE SAs kept in all.
    ike_sas: usize,
    /// IPv6 ESP packets that arrived in fragments: the flow their first fragment went to, or the
    /// bytes of later fragments that came first.
    ipv6_fragments: HashMap<Ipv6FragmentKey, Result<(usize, usize), usize>>,
    /// The timestamp of the frame before.
    previous: Option<Timestamp>,
    out_of_order: u64,
    /// NBMA addresses known to be NHSes.
    hubs: BTreeSet<IpAddr>,
    frame: FrameState,
    evidence: Evidence,
    /// Inner packets by (src, dst, ident, protocol): the first sighting's outer src, dst and frame.
    hairpin: HashMap<InnerKey, (IpAddr, IpAddr, u64)>,
    /// Frames not attributed to a pair because [`MAX_PAIRS`] was reached.
    unpaired_frames: u64,
    /// Pre-shared keys to verify phase 1 with.
    psks: Option<PskTable>,
}

impl SessionBuilder {
    /// An empty builder.
    #[must_use]
    pub fn new() -> Self {
        Self::default()
    }

    /// A builder that checks every IKEv1 phase 1 SA authenticated with a pre-shared key against
    /// `psks` (RFC 2409 §5 HASH_I / HASH_R; [`IkeSa::psk`]), so that
    /// [`Rule::IkePskMismatch`] reports a verified mismatch rather than a heuristic. Main Mode 5
    /// and 6 are encrypted: the decoder needs their `ikev1_decryption_table` key.
    ///
    /// ```
    /// use dmvpn::capture::CaptureReader;
    /// use dmvpn::decode::{Decoder, IkeKeys};
    /// use dmvpn::keys::EspKeys;
    /// use dmvpn::session::{PskCheck, PskTable, SessionBuilder};
    ///
    /// let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/../../testdata/sessions");
    /// let table = std::fs::read_to_string(format!("{dir}/healthy.ikev1_decryption_table"))?;
    /// let mut ike = IkeKeys::default();
    /// ike.extend(dmvpn::keys::parse_ikev1_decryption_table(&table)?);
    /// let mut psks = PskTable::new();
    /// psks.add(None, b"lab-psk-secret");
    /// let mut reader = CaptureReader::open(format!("{dir}/healthy.pcap"))?;
    /// let mut decoder = Decoder::with_ike_keys(EspKeys::default(), ike);
    /// let report = SessionBuilder::with_psks(psks).read(&mut reader, &mut decoder)?;
    /// let sa = &report.peer("192.0.2.1", "192.0.2.11").expect("spoke A").ike[0];
    /// assert!(matches!(sa.psk, Some(PskCheck::Verified { .. })));
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    #[must_use]
    pub fn with_psks(psks: PskTable) -> Self {
        Self {
            psks: Some(psks),
            ..Self::default()
        }
    }

    /// Reads every frame of `reader` through `decoder` and returns the report.
    ///
    /// # Errors
    ///
    /// A capture that cannot be read.
    pub fn run<R: Read>(
        reader: &mut CaptureReader<R>,
        decoder: &mut Decoder,
    ) -> Result<Report, CaptureError> {
        Self::new().read(reader, decoder)
    }

    /// Feeds every frame of `reader` through `decoder` into this builder and returns the report.
    ///
    /// # Errors
    ///
    /// A capture that cannot be read.
    pub fn read<R: Read>(
        mut self,
        reader: &mut CaptureReader<R>,
        decoder: &mut Decoder,
    ) -> Result<Report, CaptureError> {
        while let Some(frame) = reader.next_frame()? {
            decoder.decode(&frame, &mut self);
        }
        Ok(self.finish())
    }

    /// The report: the pairs (hub first where known) and the findings.
    #[must_use]
    pub fn finish(mut self) -> Report {
        self.resolve_groups();
        let mut overflow = Overflow::default();
        for pair in &mut self.pairs {
            overflow.merge(pair.overflow);
            // Timestamps out of order: the timeline reads by time (stable: frame order otherwise).
            pair.nhrp.events.sort_by_key(|e| e.seen.time);
            pair.mark_rekeys();
            if !self.hubs.contains(&pair.a) && self.hubs.contains(&pair.b) {
                std::mem::swap(&mut pair.a, &mut pair.b);
                pair.eigrp.swap(0, 1);
                pair.nhrp.auth.swap(0, 1);
            }
            pair.a_is_hub = self.hubs.contains(&pair.a);
            let negotiated: BTreeSet<u32> = pair
                .ike
                .iter()
                .flat_map(|sa| &sa.phase2)
                .flat_map(|child| child.spis.iter().copied())
                .collect();
            for flow in &mut pair.esp {
                flow.negotiated = negotiated.contains(&flow.spi);
            }
            if let Some(psks) = &self.psks {
                for sa in &mut pair.ike {
                    sa.psk = Some(match sa.handshake.take() {
                        Some(handshake) => {
                            handshake.check(psks, pair.a, pair.b, sa.icookie, sa.rcookie)
                        }
                        None => PskCheck::Unchecked("the phase 1 exchange is not in the capture"),
                    });
                }
            }
        }
        let mut report = Report {
            frames: self.frames,
            start: self.start,
            end: self.end,
            out_of_order: self.out_of_order,
            overflow,
            peers: self.pairs,
            unpaired_frames: self.unpaired_frames,
            findings: Vec::new(),
        };
        report.findings = diagnose::run(&report, &self.evidence);
        report
    }

    /// Gives the records of multicast senders to their pairs: each sender's record to every
    /// pair of the sender's (by NBMA, NHRP tunnel or EIGRP router address), or, for the two only
    /// senders to a group that have no pair, one record of the two. Evidence follows the records.
    fn resolve_groups(&mut self) {
        if !self.pairs.iter().any(PeerPair::is_group) {
            return;
        }
        let mut moved: Vec<Option<usize>> = vec![None; self.pairs.len()];
        let mut lone: BTreeMap<IpAddr, Vec<usize>> = BTreeMap::new();
        for (index, slot) in moved.iter_mut().enumerate() {
            let Some(record) = self.pairs.get(index).filter(|p| p.is_group()).cloned() else {
                continue;
            };
            let targets: Vec<usize> = self
                .by_address
                .get(&record.a)
                .into_iter()
                .flatten()
                .copied()
                .filter(|&t| self.pairs.get(t).is_some_and(|p| !p.is_group()))
                .collect();
            if targets.is_empty() {
                lone.entry(record.b).or_default().push(index);
                continue;
            }
            for &target in &targets {
                if let Some(pair) = self.pairs.get_mut(target) {
                    pair.absorb(&record);
                }
            }
            *slot = targets.first().copied();
        }
        for records in lone.values() {
            let &[first, second] = records.as_slice() else {
                continue;
            };
            let Some(record) = self.pairs.get(second).cloned() else {
                continue;
            };
            if let (Some(pair), Some(slot)) = (self.pairs.get_mut(first), moved.get_mut(second)) {
                pair.b = record.a;
                pair.absorb(&record);
                *slot = Some(first);
            }
        }
        let mut remap = vec![0; self.pairs.len()];
        let mut kept = Vec::with_capacity(self.pairs.len());
        for (index, pair) in std::mem::take(&mut self.pairs).into_iter().enumerate() {
            if moved[index].is_none() {
                remap[index] = kept.len();
                kept.push(pair);
            }
        }
        for (index, target) in moved.iter().enumerate() {
            if let Some(target) = *target {
                remap[index] = remap[target];
            }
        }
        self.pairs = kept;
        self.evidence.remap(&remap);
    }

    /// The pair of `src` and `dst`, created on first sight (none beyond [`MAX_PAIRS`]).
    fn pair(&mut self, src: IpAddr, dst: IpAddr) -> Option<usize> {
        let key = if src <= dst { (src, dst) } else { (dst, src) };
        let seen = self.frame.seen;
        let index = match self.index.get(&key) {
            Some(&index) => index,
            None if self.pairs.len() < MAX_PAIRS => {
                let index = self.pairs.len();
                self.pairs.push(PeerPair::new(src, dst, seen));
                self.index.insert(key, index);
                if !is_group_address(dst) && !is_group_address(src) {
                    self.remember(src, index);
                    self.remember(dst, index);
                }
                index
            }
            None => {
                self.unpaired_frames += 1;
                return None;
            }
        };
        self.touch(index);
        Some(index)
    }

    /// Counts the current frame in pair `index`.
    fn touch(&mut self, index: usize) {
        let seen = self.frame.seen;
        if let Some(pair) = self.pairs.get_mut(index) {
            pair.last = seen;
            pair.earliest = pair.earliest.min(seen.time);
            pair.latest = pair.latest.max(seen.time);
            pair.frames += 1;
        }
    }

    /// Records that `addr` (an NBMA, tunnel or router address) belongs to pair `index`.
    fn remember(&mut self, addr: IpAddr, index: usize) {
        let list = self.by_address.entry(addr).or_default();
        if list.len() < MAX_PAIRS_PER_ADDRESS && !list.contains(&index) {
            list.push(index);
        }
    }

    fn current(&mut self) -> Option<(&mut PeerPair, IpAddr, IpAddr)> {
        let (src, dst) = self.frame.outer?;
        let pair = self.pairs.get_mut(self.frame.pair?)?;
        Some((pair, src, dst))
    }

    fn inner_count(&mut self, name: &'static str, bytes: usize) {
        if let Some((pair, ..)) = self.current() {
            pair.inner.entry(name).or_default().add(bytes);
        }
    }

    fn ipv4(
        &mut self,
        header: &ipv4::Repr<'_>,
        fragments: Option<&[crate::capture::FragmentInfo]>,
    ) {
        let (src, dst) = (IpAddr::V4(header.src), IpAddr::V4(header.dst));
        self.frame.ip_layers += 1;
        if self.frame.ip_layers == 1 {
            self.outer(src, dst);
            // A reassembled datagram counts whole (the header is the last fragment's).
            self.frame.esp_bytes = fragments.map_or(header.payload_len, |list| {
                list.iter()
                    .map(|f| usize::from(f.offset) + usize::from(f.len))
                    .max()
                    .unwrap_or(header.payload_len)
            });
            let Some(pair) = self.frame.pair else { return };
            let fragmented = header.is_fragment() || fragments.is_some();
            let tunnel = matches!(header.protocol, ipv4::Protocol::ESP | ipv4::Protocol::GRE);
            if fragmented && tunnel {
                let frames = fragments.map_or_else(
                    || vec![self.frame.seen.frame],
                    |list| list.iter().map(|f| f.frame).collect(),
                );
                for frame in frames {
                    push_evidence(&mut self.evidence.outer_fragments, (pair, frame));
                }
            } else if header.protocol == ipv4::Protocol::UDP
                && let Some(list) = fragments
            {
                self.frame.udp_fragments = list.iter().map(|f| f.frame).collect();
            }
            return;
        }
        if !self.frame.in_gre || self.frame.inner_seen {
            return;
        }
        // The first packet inside the GRE tunnel.
        self.frame.inner_seen = true;
        self.frame.inner_src = Some(src);
        let name = match header.protocol {
            ipv4::Protocol::EIGRP => "eigrp",
            ipv4::Protocol::ICMP => "icmp",
            ipv4::Protocol::TCP => "tcp",
            ipv4::Protocol::UDP => "udp",
            ipv4::Protocol::ESP => "esp",
            ipv4::Protocol::GRE => "gre",
            _ => "other",
        };
        self.inner_count(name, header.buffer_len());
        let data = !matches!(header.protocol, ipv4::Protocol::EIGRP) && !header.dst.is_multicast();
        if let (true, Some((outer_src, outer_dst))) = (data, self.frame.outer) {
            self.hairpin_check(
                (src, dst, header.ident, header.protocol.0),
                outer_src,
                outer_dst,
            );
        }
    }

    fn ipv6(&mut self, header: &crate::capture::ipv6::Repr<'_>) {
        self.frame.ip_layers += 1;
        if self.frame.ip_layers != 1 {
            return;
        }
        self.outer(IpAddr::V6(header.src), IpAddr::V6(header.dst));
        // What the header says was sent: the payload less the extension headers.
        let bytes = usize::from(header.payload_len).saturating_sub(header.extensions.len());
        self.frame.esp_bytes = bytes;
        let Some(fragment) = header.fragment else {
            return;
        };
        if header.protocol != ipv4::Protocol::ESP {
            return;
        }
        // IPv6 is not reassembled: each fragment's share goes to the ESP packet's flow, which
        // its first fragment (offset 0, where the SPI is) names.
        let key = (header.src, header.dst, fragment.ident);
        self.frame.ipv6_fragment = Some((key, fragment.offset, bytes));
        if fragment.offset == 0 {
            return;
        }
        if self.ipv6_fragments.len() >= MAX_IPV6_FRAGMENTS
            && !self.ipv6_fragments.contains_key(&key)
        {
            self.ipv6_fragments.clear();
        }
        match self.ipv6_fragments.entry(key).or_insert(Err(0)) {
            Ok((pair, flow)) => {
                if let Some(flow) = self.pairs.get_mut(*pair).and_then(|p| p.esp.get_mut(*flow)) {
                    flow.packets.bytes += bytes as u64;
                }
            }
            Err(pending) => *pending += bytes,
        }
    }

    fn hairpin_check(&mut self, key: InnerKey, outer_src: IpAddr, outer_dst: IpAddr) {
        if self.hairpin.len() >= MAX_HAIRPIN_KEYS {
            self.hairpin.clear();
        }
        let frame = self.frame.seen.frame;
        match self.hairpin.get(&key) {
            Some(&(first_src, first_dst, first_frame))
                if first_dst == outer_src && outer_dst != first_src =>
            {
                if self.evidence.hairpins.len() < MAX_EVIDENCE {
                    self.evidence.hairpins.push((
                        first_src,
                        first_dst,
                        outer_dst,
                        first_frame,
                        frame,
                    ));
                }
            }
            Some(_) => {}
            None => {
                self.hairpin.insert(key, (outer_src, outer_dst, frame));
            }
        }
    }

    fn outer(&mut self, src: IpAddr, dst: IpAddr) {
        self.frame.outer = Some((src, dst));
        // A multicast packet belongs to its sender's pairs, once the sender has any.
        if is_group_address(dst)
            && let Some(list) = self.by_address.get(&src).filter(|l| !l.is_empty()).cloned()
        {
            for &index in &list {
                self.touch(index);
            }
            self.frame.pair = list.first().copied();
            self.frame.also = list.get(1..).unwrap_or_default().to_vec();
            return;
        }
        self.frame.pair = self.pair(src, dst);
    }

    fn esp(&mut self, esp: &crate::decode::EspLayer) {
        let seen = self.frame.seen;
        self.frame.esp_seen = true;
        let (Some(pair_index), Some((src, dst))) = (self.frame.pair, self.frame.outer) else {
            return;
        };
        for frame in self.frame.udp_fragments.drain(..) {
            push_evidence(&mut self.evidence.outer_fragments, (pair_index, frame));
        }
        let Some(pair) = self.pairs.get_mut(pair_index) else {
            return;
        };
        let key = (pair_index, esp.spi, src, dst);
        let index = match self.esp_index.get(&key) {
            Some(&index) => index,
            None if pair.esp.len() < MAX_SPIS_PER_PAIR && self.esp_flows < MAX_SPIS => {
                pair.esp.push(EspFlow {
                    src: Some(src),
                    dst: Some(dst),
                    spi: esp.spi,
                    min_seq: esp.seq,
                    max_seq: esp.seq,
                    first: seen,
                    earliest: seen.time,
                    latest: seen.time,
                    ..EspFlow::default()
                });
                self.esp_flows += 1;
                self.esp_index.insert(key, pair.esp.len() - 1);
                pair.esp.len() - 1
            }
            None => {
                // Over the cap: counted, not itemised (the rules still see ICV failures and replays).
                pair.overflow.esp.add(self.frame.esp_bytes);
                if esp.status == EspStatus::IcvFailed {
                    push_evidence(&mut self.evidence.icv_failed, (pair_index, seen.frame));
                }
                if esp.replayed {
                    push_evidence(&mut self.evidence.replayed, (pair_index, seen.frame));
                }
                return;
            }
        };
        let Some(flow) = pair.esp.get_mut(index) else {
            return;
        };
        if let Some((key, 0, _)) = self.frame.ipv6_fragment {
            // The first fragment of an IPv6 ESP packet: later fragments add to this flow.
            let earlier = self.ipv6_fragments.insert(key, Ok((pair_index, index)));
            if let Some(Err(bytes)) = earlier {
                flow.packets.bytes += bytes as u64;
            }
        }
        let numbered = flow.packets.packets > flow.seq_unknown;
        flow.packets.add(self.frame.esp_bytes);
        flow.last = seen;
        flow.earliest = flow.earliest.min(seen.time);
        flow.latest = flow.latest.max(seen.time);
        if esp.status
            == (EspStatus::Cut {
                seq_captured: false,
            })
        {
            flow.seq_unknown += 1;
        } else if numbered {
            flow.min_seq = flow.min_seq.min(esp.seq);
            flow.max_seq = flow.max_seq.max(esp.seq);
        } else {
            (flow.min_seq, flow.max_seq) = (esp.seq, esp.seq);
        }
        match esp.status {
            EspStatus::Decrypted { .. } => flow.decrypted += 1,
            EspStatus::NoKey => flow.no_key += 1,
            EspStatus::IcvFailed => {
                flow.icv_failed += 1;
                push_evidence(&mut self.evidence.icv_failed, (pair_index, seen.frame));
            }
            _ => {}
        }
        if esp.replayed {
            flow.replays += 1;
            push_evidence(&mut self.evidence.replayed, (pair_index, seen.frame));
        }
    }

    /// An NHRP packet of which only the fixed header could be read (cut by the snapshot length,
    /// or malformed): it counts in the traffic (its packet size as sent) and says which side is
    /// the hub, but has no place in the timeline.
    fn nhrp_header(&mut self, header: &nhrp::lax::FixedHeader) {
        let bytes = usize::from(header.packet_size).max(self.frame.gre_payload.unwrap_or(0));
        self.inner_count("nhrp", bytes);
        let hub = match header.op_type {
            nhrp::OpType::REGISTRATION_REQUEST => self.frame.outer.map(|(_, dst)| dst),
            nhrp::OpType::REGISTRATION_REPLY => self.frame.outer.map(|(src, _)| src),
            _ => None,
        };
        if let Some(hub) = hub {
            self.hubs.insert(hub);
        }
    }

    fn nhrp(&mut self, repr: &nhrp::Repr<'_>) {
        // The message as sent: a message cut by the snapshot length parses short.
        let bytes = repr.buffer_len().max(self.frame.gre_payload.unwrap_or(0));
        self.inner_count("nhrp", bytes);
        let seen = self.frame.seen;
        let Some(pair_index) = self.frame.pair else {
            return;
        };
        let mut auth = None;
        for extension in repr.extension_iter() {
            if let nhrp::extension::Value::Authentication(value) = extension.value {
                let mut hasher = std::collections::hash_map::DefaultHasher::new();
                value.kind.0.hash(&mut hasher);
                value.data.hash(&mut hasher);
                auth = Some(hasher.finish());
            }
        }
        if auth.is_some() {
            push_evidence(&mut self.evidence.auth_frames, (pair_index, seen.frame));
        }
        let control = repr.message.control();
        let request_id = control.map_or(0, |c| c.request_id);
        let cie = repr.cies().first();
        let mut hub = None;
        let kind = match &repr.message {
            nhrp::Message::RegistrationRequest(c) => {
                hub = self.frame.outer.map(|(_, dst)| dst);
                NhrpKind::RegistrationRequest {
                    request_id,
                    hold_time: cie.map_or(0, |cie| cie.holding_time),
                    unique: c.flags.contains(nhrp::Flags::REGISTRATION_UNIQUE),
                    refresh: false,
                }
            }
            nhrp::Message::RegistrationReply(_) => {
                hub = self.frame.outer.map(|(src, _)| src);
                let code = cie.map_or(nhrp::CieCode(0), |cie| cie.code);
                NhrpKind::RegistrationReply {
                    request_id,
                    code: code.0,
                    code_name: code.name().unwrap_or("unknown"),
                    hold_time: cie.map_or(0, |cie| cie.holding_time),
                }
            }
            nhrp::Message::ResolutionRequest(_) => NhrpKind::ResolutionRequest { request_id },
            nhrp::Message::ResolutionReply(_) => {
                self.evidence.resolution_seen = true;
                NhrpKind::ResolutionReply {
                    request_id,
                    code: cie.map_or(0, |cie| cie.code.0),
                }
            }
            nhrp::Message::PurgeRequest(_) => NhrpKind::PurgeRequest { request_id },
            nhrp::Message::PurgeReply(_) => NhrpKind::PurgeReply { request_id },
            nhrp::Message::ErrorIndication(error) => {
                if error.code.canonical() == nhrp::ErrorCode::AUTHENTICATION_FAILURE {
                    push_evidence(&mut self.evidence.auth_errors, (pair_index, seen.frame));
                }
                NhrpKind::ErrorIndication {
                    code: error.code.0,
                    code_name: error.code.canonical().name().unwrap_or("unknown"),
                }
            }
            nhrp::Message::TrafficIndication(_) => {
                self.evidence.resolution_seen = true;
                NhrpKind::TrafficIndication
            }
        };
        if let Some(hub) = hub {
            self.hubs.insert(hub);
        }
        let Some((pair, from, _)) = self.current() else {
            return;
        };
        let side = pair.side(from);
        if let Some(fingerprint) = auth {
            pair.nhrp.auth[side] = Some(fingerprint);
        }
        let timeline = &mut pair.nhrp;
        let mut tunnel = None;
        let kind = match kind {
            NhrpKind::RegistrationRequest {
                request_id,
                hold_time,
                unique,
                ..
            } => {
                timeline.requests += 1;
                let refresh = timeline.last_success.is_some();
                timeline.refreshes += u64::from(refresh);
                if let (Ok(proto), Some(nbma)) =
                    (ip_from(repr.src_proto), ip_from(repr.src_nbma.bytes).ok())
                    && (pair.tunnel.len() < MAX_TUNNEL_BINDINGS || pair.tunnel.contains_key(&proto))
                {
                    pair.tunnel.insert(proto, nbma);
                    tunnel = Some(proto);
                }
                NhrpKind::RegistrationRequest {
                    request_id,
                    hold_time,
                    unique,
                    refresh,
                }
            }
            NhrpKind::RegistrationReply {
                code, hold_time, ..
            } => {
                if code == 0 {
                    timeline.successes += 1;
                    timeline.last_success = Some(seen);
                    timeline.last_hold_time = Some(hold_time);
                } else {
                    timeline.refusals += 1;
                }
                kind
            }
            other => other,
        };
        pair.nhrp.push(NhrpEvent { seen, from, kind });
        if let Some(tunnel) = tunnel {
            self.remember(tunnel, pair_index);
        }
    }

    fn eigrp(&mut self, repr: &eigrp::Repr<'_>) {
        let seen = self.frame.seen;
        let router = self.frame.inner_src;
        let pair_index = self.frame.pair;
        let Some((pair, from, _)) = self.current() else {
            return;
        };
        let side = &mut pair.eigrp[pair.side(from)];
        let new_router = side.router.is_none().then_some(router).flatten();
        side.router = side.router.or(router);
        if let (Some(router), Some(index)) = (new_router, pair_index) {
            self.remember(router, index);
        }
        let Some((pair, from, _)) = self.current() else {
            return;
        };
        let side = &mut pair.eigrp[pair.side(from)];
        if repr.opcode == eigrp::OpCode::HELLO {
            let parameters = repr.tlvs.iter().find_map(|tlv| match tlv {
                eigrp::tlv::Tlv::Parameters(p) => Some(p),
                _ => None,
            });
            if let Some(parameters) = parameters {
                if parameters.is_goodbye() {
                    side.goodbyes += 1;
                    if side.downs.len() < MAX_EVIDENCE {
                        side.downs.push((seen.frame, seen.frame));
                    }
                } else {
                    // A gap longer than the hold time the side announced: the neighbour dropped
                    // it. Measured from the latest hello so far, so time going back makes none.
                    if let (Some(latest), Some(hold)) = (side.latest_hello, side.hold_time)
                        && seen.time.saturating_duration_since(latest.time)
                            > Duration::from_secs(u64::from(hold))
                        && side.downs.len() < MAX_EVIDENCE
                    {
                        side.downs.push((latest.frame, seen.frame));
                    }
                    side.hellos += 1;
                    side.first_hello.get_or_insert(seen);
                    side.last_hello = Some(seen);
                    if side
                        .latest_hello
                        .is_none_or(|latest| seen.time >= latest.time)
                    {
                        side.latest_hello = Some(seen);
                    }
                    side.hold_time = Some(parameters.hold_time);
                    match side.k {
                        None => side.k = Some(parameters.k),
                        Some(k) if k != parameters.k && side.k_changes.len() < MAX_EVIDENCE => {
                            side.k_changes.push((seen.frame, parameters.k));
                        }
                        Some(_) => {}
                    }
                    match side.autonomous_system {
                        None => side.autonomous_system = Some(repr.autonomous_system),
                        Some(asn)
                            if asn != repr.autonomous_system
                                && side.as_changes.len() < MAX_EVIDENCE =>
                        {
                            side.as_changes.push((seen.frame, repr.autonomous_system));
                        }
                        Some(_) => {}
                    }
                }
            }
        }
        if repr.opcode == eigrp::OpCode::UPDATE {
            if repr.routes().next().is_some() && side.updates.len() < MAX_EVIDENCE {
                side.updates.push(seen.frame);
            }
            for route in repr.routes() {
                if !route.metric.is_unreachable() && side.routes.len() < 4096 {
                    side.routes
                        .insert((route.destination.prefix, route.destination.prefix_len));
                }
            }
        }
    }

    fn tcp(&mut self, tcp: &crate::transport::Tcp) {
        const SYN: u16 = 0x02;
        if !self.frame.in_gre || tcp.flags & SYN == 0 {
            return;
        }
        if let (Some(mss), Some(pair)) = (tcp.mss, self.frame.pair)
            && mss > MAX_TUNNEL_MSS
            && self.evidence.big_mss.len() < MAX_EVIDENCE
        {
            self.evidence
                .big_mss
                .push((pair, self.frame.seen.frame, mss));
        }
    }

    fn isakmp(&mut self, layer: &IsakmpLayer<'_>) {
        let seen = self.frame.seen;
        let check_psk = self.psks.is_some();
        let Some(pair_index) = self.frame.pair else {
            return;
        };
        let Some((src, _)) = self.frame.outer else {
            return;
        };
        let Some(pair) = self.pairs.get_mut(pair_index) else {
            return;
        };
        let header = &layer.message.header;
        let key = (pair_index, header.initiator_cookie);
        let index = match self.ike_index.get(&key) {
            Some(&index) => index,
            None if pair.ike.len() < MAX_IKE_SAS_PER_PAIR && self.ike_sas < MAX_IKE_SAS => {
                pair.ike.push(IkeSa {
                    icookie: header.initiator_cookie,
                    first: seen,
                    ..IkeSa::default()
                });
                self.ike_sas += 1;
                self.ike_index.insert(key, pair.ike.len() - 1);
                pair.ike.len() - 1
            }
            None => {
                pair.overflow.ike_messages += 1;
                return;
            }
        };
        let Some(sa) = pair.ike.get_mut(index) else {
            return;
        };
        sa.messages += 1;
        sa.last = seen;
        if sa.rcookie == [0; 8] {
            sa.rcookie = header.responder_cookie;
        }
        let exchange = header.exchange_type;
        let phase1 = matches!(
            exchange,
            isakmp::ExchangeType::MAIN | isakmp::ExchangeType::AGGRESSIVE
        );
        if phase1 {
            sa.exchange = exchange.name();
            if header.responder_cookie == [0; 8] {
                sa.initiator.get_or_insert(src);
            }
            sa.phase1_messages = sa.phase1_messages.saturating_add(1);
            // Aggressive Mode completes with its third message.
            if exchange == isakmp::ExchangeType::AGGRESSIVE && sa.phase1_messages == 3 {
                sa.established.get_or_insert(seen);
            }
        }
        if exchange == isakmp::ExchangeType::QUICK {
            sa.established.get_or_insert(seen);
        }
        if exchange == isakmp::ExchangeType::MAIN && layer.message.is_encrypted() {
            let from_initiator = sa.initiator.is_none_or(|initiator| initiator == src);
            sa.encrypted_main_mode[usize::from(!from_initiator)] += 1;
            // Main Mode completes with the responder's encrypted message 6.
            if !from_initiator {
                sa.established.get_or_insert(seen);
            }
            if from_initiator && sa.main_mode_5.len() < MAX_EVIDENCE {
                sa.main_mode_5.push(seen.frame);
            }
        }
        let from_responder = sa.initiator.is_some_and(|initiator| initiator != src);
        let side = usize::from(from_responder);
        if phase1 && check_psk && sa.handshake.is_none() {
            sa.handshake = Some(Box::default());
        }
        let mut handshake = if phase1 {
            sa.handshake.as_deref_mut()
        } else {
            None
        };
        let mut child = None;
        if exchange == isakmp::ExchangeType::QUICK {
            child = sa
                .phase2
                .iter()
                .position(|c| c.message_id == header.message_id);
            if child.is_none() && sa.phase2.len() < MAX_EVENTS {
                sa.phase2.push(ChildSa {
                    message_id: header.message_id,
                    first: seen,
                    initiator: Some(src),
                    ..ChildSa::default()
                });
                child = Some(sa.phase2.len() - 1);
            }
        }
        let payloads = layer.payloads();
        if let Some(child) = child.and_then(|index| sa.phase2.get_mut(index)) {
            child.messages += 1;
            child.undecrypted += u64::from(payloads.is_none());
            if child.initiator == Some(src) {
                // The initiator's message after the responder's answer: Quick Mode 3.
                if child.answered && child.completed.is_none() {
                    child.completed = Some(seen);
                }
            } else {
                child.answered = true;
            }
        }
        let Some(payloads) = payloads else {
            sa.undecrypted += 1;
            return;
        };
        let mut context = layer.message.context(layer.nat_d);
        context.nat_d = isakmp::message::learn_nat_d(payloads.clone(), context.nat_d);
        let mut no_proposal = None;
        for payload in payloads {
            let Ok(payload) = payload else { break };
            let Ok(body) = payload.decode(context) else {
                break;
            };
            if let Some(handshake) = handshake.as_deref_mut() {
                match body {
                    isakmp::Body::Sa(_) if !from_responder => handshake.sa(payload.body),
                    isakmp::Body::Ke(ke) => handshake.ke(side, ke),
                    isakmp::Body::Nonce(nonce) => handshake.nonce(side, nonce),
                    isakmp::Body::Id(_) => handshake.id(side, payload.body),
                    isakmp::Body::Hash(hash) => handshake.auth_hash(side, seen.frame, hash),
                    _ => {}
                }
            }
            match body {
                isakmp::Body::Sa(body) if phase1 => {
                    if let Ok(Some(policy)) = body.ike_policy()
                        && (from_responder || !sa.proposal_accepted)
                    {
                        sa.proposal = Some(diagnose::ios_policy(&policy));
                        sa.proposal_accepted = from_responder;
                        sa.lifetime = policy.life_seconds;
                        if let Some(handshake) = handshake.as_deref_mut() {
                            handshake.hash = Some(policy.hash);
                            handshake.prf = policy.prf;
                            handshake.auth = Some(policy.auth);
                        }
                    }
                }
                isakmp::Body::Sa(body) if exchange == isakmp::ExchangeType::QUICK => {
                    let id = header.message_id;
                    if let Some(child) = sa.phase2.iter_mut().find(|c| c.message_id == id) {
                        diagnose::read_child(&body, child);
                    }
                }
                isakmp::Body::Notify(notify) => {
                    if matches!(
                        notify.ty,
                        isakmp::consts::NotifyType::R_U_THERE
                            | isakmp::consts::NotifyType::R_U_THERE_ACK
                    ) {
                        sa.dpd_messages += 1;
                    } else {
                        if notify.ty == isakmp::consts::NotifyType::NO_PROPOSAL_CHOSEN {
                            // Phase 2 when it names ESP/AH, or comes under phase 1 encryption.
                            let phase2 = matches!(
                                notify.protocol,
                                isakmp::consts::ProtocolId::ESP | isakmp::consts::ProtocolId::AH
                            ) || layer.message.is_encrypted();
                            no_proposal = Some(phase2);
                        }
                        let name = notify
                            .ty
                            .name()
                            .map_or_else(|| notify.ty.0.to_string(), str::to_owned);
                        if sa.notifications.len() < MAX_EVIDENCE {
                            sa.notifications.push((seen, name));
                        }
                    }
                }
                isakmp::Body::Delete(delete) => {
                    let spis = delete
                        .spis
                        .chunks_exact(4)
                        .filter(|_| delete.spi_size == 4)
                        .map(|c| u32::from_be_bytes([c[0], c[1], c[2], c[3]]))
                        .collect();
                    if sa.deletes.len() < MAX_EVIDENCE {
                        sa.deletes
                            .push((seen, delete.protocol.name().unwrap_or("?"), spis));
                    }
                }
                isakmp::Body::VendorId(vid)
                    if isakmp::vendor::identify(vid).is_some_and(|v| v.name == "RFC 3706 DPD") =>
                {
                    sa.dpd = true;
                }
                _ => {}
            }
        }
        if let Some(phase2) = no_proposal {
            let list = if phase2 {
                &mut self.evidence.no_transform
            } else {
                &mut self.evidence.no_proposal
            };
            push_evidence(list, (pair_index, seen.frame));
        }
    }
}

fn push_evidence<T>(list: &mut Vec<T>, item: T) {
    if list.len() < MAX_EVIDENCE * 8 {
        list.push(item);
    }
}

/// An IPv4 or IPv6 address from its 4 or 16 bytes.
fn ip_from(bytes: &[u8]) -> Result<IpAddr, ()> {
    match bytes.len() {
        4 => <[u8; 4]>::try_from(bytes).map(IpAddr::from).map_err(drop),
        16 => <[u8; 16]>::try_from(bytes).map(IpAddr::from).map_err(drop),
        _ => Err(()),
    }
}

impl Sink for SessionBuilder {
    fn frame_start(&mut self, frame: &Frame<'_>) {
        self.frames += 1;
        let time = frame.timestamp;
        self.start = Some(self.start.map_or(time, |start| start.min(time)));
        self.end = Some(self.end.map_or(time, |end| end.max(time)));
        if self.previous.is_some_and(|previous| time < previous) {
            self.out_of_order += 1;
        }
        self.previous = Some(time);
        let mut udp_fragments = std::mem::take(&mut self.frame.udp_fragments);
        udp_fragments.clear();
        let mut also = std::mem::take(&mut self.frame.also);
        also.clear();
        self.frame = FrameState {
            seen: Seen {
                frame: frame.number,
                time,
            },
            udp_fragments,
            also,
            ..FrameState::default()
        };
    }

    fn layer(&mut self, layer: &Layer<'_>) {
        match layer {
            Layer::Ipv4 { header, fragments } => self.ipv4(header, *fragments),
            Layer::Ipv6(header) => self.ipv6(header),
            // ESP in UDP: the IP payload less the UDP header (the IP header's length, not what
            // was captured).
            Layer::Udp { .. } if self.frame.ip_layers == 1 => {
                self.frame.esp_bytes = self.frame.esp_bytes.saturating_sub(8);
            }
            // ESP under AH: the AH header is not ESP's.
            Layer::Ah(ah) if self.frame.ip_layers == 1 && !self.frame.esp_seen => {
                self.frame.esp_bytes = self.frame.esp_bytes.saturating_sub(ah.header_len);
            }
            Layer::Esp(esp) => self.esp(esp),
            Layer::Gre(repr) => {
                // Plain GRE in the frame's own IP packet: what it carries, as the IP header
                // says (a frame cut by the snapshot length still counts what was sent).
                if self.frame.ip_layers == 1 && !self.frame.in_gre && !self.frame.esp_seen {
                    self.frame.gre_payload =
                        Some(self.frame.esp_bytes.saturating_sub(repr.buffer_len()));
                }
                self.frame.in_gre = true;
            }
            Layer::Nhrp(repr) => self.nhrp(repr),
            Layer::NhrpHeader(header) => self.nhrp_header(header),
            Layer::Eigrp(repr) => {
                self.eigrp(repr);
                // A multicast hello also goes to the sender's other pairs.
                if !self.frame.also.is_empty() {
                    let (primary, also) = (self.frame.pair, std::mem::take(&mut self.frame.also));
                    for &index in &also {
                        self.frame.pair = Some(index);
                        self.eigrp(repr);
                    }
                    self.frame.pair = primary;
                    self.frame.also = also;
                }
            }
            Layer::Isakmp(isakmp) => self.isakmp(isakmp),
            Layer::Tcp(tcp) => self.tcp(tcp),
            _ => {}
        }
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::capture::LinkType;
    use crate::keys::EspKeys;

    /// Arbitrary frames (raw IP, then Ethernet) never panic the builder, the rules or the output.
    #[test]
    fn arbitrary_frames_never_panic() {
        bolero::check!().for_each(|bytes: &[u8]| {
            let mut decoder = Decoder::new(EspKeys::default());
            let mut builder = SessionBuilder::new();
            for (number, chunk) in bytes.chunks(96).enumerate() {
                for link_type in [LinkType::RAW, LinkType::ETHERNET] {
                    let frame = Frame {
                        number: number as u64 + 1,
                        timestamp: Timestamp::new(number as i64, 0),
                        link_type,
                        interface: 0,
                        data: chunk,
                        original_len: chunk.len() as u32,
                        offset: 0,
                    };
                    decoder.decode(&frame, &mut builder);
                }
            }
            let report = builder.finish();
            let _ = report.to_string();
            let mut json = Vec::new();
            report.write_json(&mut json);
        });
    }

    /// Every trigger capture with each byte of each frame flipped in turn (a frame at a time):
    /// the rules and the output hold up.
    #[test]
    fn mutated_trigger_captures_never_panic() {
        let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/../../testdata/sessions");
        for name in [
            "healthy.pcap",
            "nhrp-auth-mismatch.pcap",
            "eigrp-split-horizon.pcap",
        ] {
            let mut frames = Vec::new();
            let mut reader = CaptureReader::open(format!("{dir}/{name}")).unwrap();
            while let Some(frame) = reader.next_frame().unwrap() {
                frames.push((frame.link_type, frame.timestamp, frame.data.to_vec()));
            }
            for (target, (_, _, data)) in frames.iter().enumerate() {
                for at in (0..data.len()).step_by(3) {
                    let mut decoder = Decoder::new(EspKeys::default());
                    let mut builder = SessionBuilder::new();
                    for (number, (link_type, timestamp, bytes)) in frames.iter().enumerate() {
                        let mut bytes = bytes.clone();
                        if number == target {
                            bytes[at] ^= 0xa5;
                        }
                        let frame = Frame {
                            number: number as u64 + 1,
                            timestamp: *timestamp,
                            link_type: *link_type,
                            interface: 0,
                            data: &bytes,
                            original_len: bytes.len() as u32,
                            offset: 0,
                        };
                        decoder.decode(&frame, &mut builder);
                    }
                    let report = builder.finish();
                    let _ = report.to_string();
                }
            }
        }
    }
}
