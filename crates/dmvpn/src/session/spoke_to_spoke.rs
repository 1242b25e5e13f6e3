//! DMVPN Phase 2 and 3 in a capture: what the spokes did to reach each other directly.
//!
//! The builder keeps, besides the peer pairs, every NHRP Traffic Indication (the hub's redirect,
//! with the header of the packet that triggered it), every Resolution Request paired with its
//! Reply or Error Indication by requester and request ID (wherever each copy travelled: spoke to
//! hub, hub to target spoke, target spoke straight back), every Purge, and for each inner flow
//! (source and destination address inside the tunnel) the outer hops it took. [`SpokeToSpoke`]
//! ties them together when the report is finished:
//!
//! * **spokes** are the NBMA addresses that registered with a hub (sent a Registration Request,
//!   or got a successful Registration Reply);
//! * a **direct tunnel** ([`DirectTunnel`]) is a pair of spokes that a resolution joined (the
//!   hub forwarded a request from one to the other, or one answered the other), or that
//!   exchanged IKE, ESP or GRE with each other; its IKE and ESP come from the pair's record;
//! * a **flow** ([`InnerFlow`]) went *through the hub* (legs spoke → hub and hub → spoke) or
//!   *direct* (legs between two spokes), and switched from one to the other at a frame.
//!
//! ```
//! use dmvpn::capture::CaptureReader;
//! use dmvpn::decode::Decoder;
//! use dmvpn::keys::EspKeys;
//! use dmvpn::session::SessionBuilder;
//!
//! let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/../../testdata/sessions");
//! let keys = EspKeys::from_file(format!("{dir}/phase3-healthy.esp_sa"))?;
//! let mut reader = CaptureReader::open(format!("{dir}/phase3-healthy.pcap"))?;
//! let report = SessionBuilder::run(&mut reader, &mut Decoder::new(keys))?;
//! let phase3 = &report.spoke_to_spoke;
//! assert!(!phase3.redirects.is_empty());
//! assert!(phase3.resolutions.iter().any(|r| r.answer.is_some()));
//! let flow = phase3.flow("192.168.11.10", "192.168.12.10").expect("the ping");
//! assert!(flow.switched.is_some()); // first through the hub, then direct
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::net::IpAddr;
use std::time::Duration;

use super::{Counter, PeerPair, Seen};
use crate::capture::Timestamp;

/// At most this many Traffic Indications, resolutions and purges are kept each; further ones
/// are counted in [`SpokeToSpoke::dropped`].
pub const MAX_NHRP_RECORDS: usize = 4096;
/// At most this many inner flows and outer hops (a flow's packets between two NBMA addresses)
/// are followed; packets of further ones are counted in [`SpokeToSpoke::dropped`].
pub const MAX_FLOWS: usize = 1 << 15;
/// Copies of one request or reply kept (retransmissions and forwarded hops).
pub(super) const MAX_HOPS: usize = 8;
/// Outer hops kept per inner flow.
pub(super) const MAX_LEGS: usize = 8;
/// How long spoke-to-spoke IKE may take before a capture that goes on without it being up
/// reports it as failed: Main Mode with its Diffie-Hellman takes well under a second; IOS
/// retransmits after a few seconds.
pub const IKE_GRACE: Duration = Duration::from_secs(5);
/// How long after a redirect or a resolution the traffic may still go through the hub (the
/// shortcut being built) before that is reported.
pub const SWITCH_GRACE: Duration = Duration::from_secs(2);

/// What the capture shows of spoke-to-spoke tunnels on demand (DMVPN Phase 2 and 3).
#[derive(Clone, Debug, Default)]
pub struct SpokeToSpoke {
    /// NBMA addresses that registered with a hub.
    pub spokes: BTreeSet<IpAddr>,
    /// Traffic Indications (redirects), in capture order.
    pub redirects: Vec<Redirect>,
    /// Resolution Requests with their answers, by first sighting.
    pub resolutions: Vec<Resolution>,
    /// Purge Requests and Replies, in capture order.
    pub purges: Vec<Purge>,
    /// Spoke pairs that a resolution joined or that talked to each other directly.
    pub tunnels: Vec<DirectTunnel>,
    /// Inner flows between spokes' networks: through the hub, direct, or first one then the
    /// other.
    pub flows: Vec<InnerFlow>,
    /// NHRP messages and flow packets over the caps ([`MAX_NHRP_RECORDS`], [`MAX_FLOWS`]):
    /// counted, not itemised.
    pub dropped: u64,
}

/// An inner packet's source, destination and IP protocol.
#[derive(Clone, Copy, Debug, Eq, Hash, Ord, PartialEq, PartialOrd)]
pub struct FlowKey {
    /// Inner source.
    pub src: IpAddr,
    /// Inner destination.
    pub dst: IpAddr,
    /// IP protocol number (ICMP 1, TCP 6, UDP 17).
    pub protocol: u8,
}

/// A Traffic Indication: the hub redirects a spoke to resolve a shortcut (draft-detienne-dmvpn
/// §4.1; IOS `ip nhrp redirect`).
#[derive(Clone, Debug, Eq, PartialEq)]
pub struct Redirect {
    /// When.
    pub seen: Seen,
    /// The sender's NBMA address (the hub).
    pub hub: IpAddr,
    /// The NBMA address it went to (the spoke that sent the packet).
    pub spoke: IpAddr,
    /// The traffic code (0, redirect).
    pub code: u16,
    /// The packet that triggered it, from the header the indication quotes.
    pub flow: Option<FlowKey>,
    /// The Resolution Request the spoke sent for it: its index in
    /// [`SpokeToSpoke::resolutions`].
    pub resolution: Option<usize>,
}

/// One NHRP resolution: a Resolution Request (all its copies) and the answer.
#[derive(Clone, Debug, Eq, PartialEq)]
pub struct Resolution {
    /// The requester's tunnel (source protocol) address.
    pub requester: IpAddr,
    /// The requester's NBMA address as the request states it (behind NAT, its private one).
    pub requester_nbma: Option<IpAddr>,
    /// The NBMA address the request first came from (the outer source of its first copy).
    pub origin: IpAddr,
    /// The address to resolve (destination protocol address).
    pub target: IpAddr,
    /// Request ID.
    pub request_id: u32,
    /// The first copy.
    pub request: Seen,
    /// Frames of every copy seen (retransmissions, hops through the hub), at most 8.
    pub request_frames: Vec<u64>,
    /// The spoke a hub forwarded the request to (outer destination of a copy a hub sent).
    pub forwarded_to: Option<IpAddr>,
    /// The Resolution Reply.
    pub answer: Option<Answer>,
    /// An Error Indication quoting the request: when, code, the code's name.
    pub error: Option<(Seen, u16, &'static str)>,
}

impl Resolution {
    /// Whether a successful reply (CIE code 0) answered it.
    #[must_use]
    pub fn succeeded(&self) -> bool {
        self.answer.as_ref().is_some_and(|a| a.code == 0)
    }

    /// Whether a reply with a non-zero code, or an Error Indication, refused it.
    #[must_use]
    pub fn refused(&self) -> bool {
        self.error.is_some() || self.answer.as_ref().is_some_and(|a| a.code != 0)
    }
}

/// A Resolution Reply.
#[derive(Clone, Debug, Eq, PartialEq)]
pub struct Answer {
    /// The copy delivered to the requester (else the first seen).
    pub seen: Seen,
    /// Its outer source.
    pub from: IpAddr,
    /// Whether it came straight from a spoke rather than through a hub (Phase 3: the target
    /// spoke answers over the new tunnel).
    pub direct: bool,
    /// CIE code (0 success; RFC 2332 §5.2.2).
    pub code: u8,
    /// The code's name.
    pub code_name: &'static str,
    /// The network the answer covers: the target with the CIE's prefix length (IOS installs
    /// the prefix the reply carries, `/32` for a host).
    pub prefix: Option<(IpAddr, u8)>,
    /// Holding time, seconds.
    pub holding_time: u16,
    /// The answering spoke's NBMA address (the CIE's client NBMA).
    pub nbma: Option<IpAddr>,
    /// The answering spoke's tunnel address (the CIE's client protocol address).
    pub tunnel: Option<IpAddr>,
}

/// A Purge Request or Reply (RFC 2332 §5.2.5–6): cached resolutions withdrawn.
#[derive(Clone, Debug, Eq, PartialEq)]
pub struct Purge {
    /// When.
    pub seen: Seen,
    /// Outer source.
    pub from: IpAddr,
    /// Outer destination.
    pub to: IpAddr,
    /// Whether this is the reply.
    pub reply: bool,
    /// Request ID.
    pub request_id: u32,
    /// The networks purged (each CIE's client protocol address and prefix length; the
    /// destination protocol address when a CIE names none).
    pub prefixes: Vec<(IpAddr, u8)>,
}

/// Two spokes joined by NHRP or talking to each other directly.
#[derive(Clone, Debug, Eq, PartialEq)]
pub struct DirectTunnel {
    /// One spoke's NBMA address (the first to resolve the other, when one did).
    pub a: IpAddr,
    /// The other spoke's.
    pub b: IpAddr,
    /// The resolutions between them (indices in [`SpokeToSpoke::resolutions`]).
    pub resolutions: Vec<usize>,
    /// IKE SAs between them.
    pub ike_sas: usize,
    /// The first IKE message.
    pub ike_first: Option<Seen>,
    /// When the first IKE SA between them came up.
    pub ike_up: Option<Seen>,
    /// Whether IKE was tried and never came up within [`IKE_GRACE`] of its first message.
    pub ike_failed: bool,
    /// Frames of the IKE attempts (first message of each SA, retransmitted Main Mode 5,
    /// notifications), at most 32.
    pub ike_frames: Vec<u64>,
    /// ESP packets between them.
    pub esp: Counter,
    /// ESP packets decrypted.
    pub esp_decrypted: u64,
    /// The first ESP packet.
    pub esp_first: Option<Seen>,
    /// The first inner data packet that took the direct path.
    pub first_direct: Option<Seen>,
    /// Frames where a shortcut between them was installed: successful Resolution Replies.
    pub installs: Vec<u64>,
    /// Frames where one was withdrawn: Purges, ISAKMP Deletes, and (the install frame of) an
    /// entry whose holding time ran out before the next install.
    pub removals: Vec<(u64, &'static str)>,
}

impl DirectTunnel {
    fn new(a: IpAddr, b: IpAddr) -> Self {
        Self {
            a,
            b,
            resolutions: Vec::new(),
            ike_sas: 0,
            ike_first: None,
            ike_up: None,
            ike_failed: false,
            ike_frames: Vec::new(),
            esp: Counter::default(),
            esp_decrypted: 0,
            esp_first: None,
            first_direct: None,
            installs: Vec::new(),
            removals: Vec::new(),
        }
    }

    /// Times the shortcut was withdrawn and installed again.
    #[must_use]
    pub fn reinstalls(&self) -> usize {
        let mut removed = false;
        let mut count = 0;
        let mut events: Vec<(u64, bool)> = self.installs.iter().map(|&f| (f, true)).collect();
        events.extend(self.removals.iter().map(|&(f, _)| (f, false)));
        events.sort_unstable();
        for (_, install) in events {
            if install && removed {
                count += 1;
            }
            removed = !install;
        }
        count
    }

    /// Whether the shortcut is up: IKE came up, or ESP flowed between the spokes.
    #[must_use]
    pub fn is_up(&self) -> bool {
        self.ike_up.is_some() || self.esp.packets > 0
    }
}

/// Packets of a flow on one kind of path.
#[derive(Clone, Copy, Debug, Default, Eq, PartialEq)]
pub struct Leg {
    /// Packets.
    pub packets: u64,
    /// The first (in capture order).
    pub first: Option<Seen>,
    /// The last.
    pub last: Option<Seen>,
}

impl Leg {
    pub(super) fn add(&mut self, packets: u64, first: Seen, last: Seen) {
        self.packets += packets;
        if self.first.is_none_or(|s| first.frame < s.frame) {
            self.first = Some(first);
        }
        if self.last.is_none_or(|s| last.frame > s.frame) {
            self.last = Some(last);
        }
    }
}

/// One inner flow between spokes' networks (source to destination inside the tunnel).
#[derive(Clone, Debug, Eq, PartialEq)]
pub struct InnerFlow {
    /// Inner source.
    pub src: IpAddr,
    /// Inner destination.
    pub dst: IpAddr,
    /// Packets from a spoke to a hub.
    pub to_hub: Leg,
    /// Packets from a hub to a spoke.
    pub from_hub: Leg,
    /// Packets straight between two spokes.
    pub direct: Leg,
    /// The spoke it entered the hub from, and the one it left to.
    pub via: (Option<IpAddr>, Option<IpAddr>),
    /// The spokes of its direct packets.
    pub tunnel: Option<(IpAddr, IpAddr)>,
    /// Its first direct packet, when packets through the hub came before.
    pub switched: Option<Seen>,
    /// The first Traffic Indication that quoted it.
    pub redirect: Option<Seen>,
}

impl InnerFlow {
    /// Whether it hair-pinned: seen entering a hub from a spoke and leaving it to a spoke.
    #[must_use]
    pub fn hairpinned(&self) -> bool {
        self.to_hub.packets > 0 && self.from_hub.packets > 0
    }

    /// The path in words: `direct`, `hub`, `hub, then direct`, or `direct and hub` (through
    /// the hub again after going direct).
    #[must_use]
    pub fn path(&self) -> &'static str {
        let hub = self.to_hub.packets + self.from_hub.packets > 0;
        match (hub, self.direct.packets > 0) {
            (false, _) => "direct",
            (true, false) => "hub",
            (true, true) if self.hub_after_switch() => "direct and hub",
            (true, true) => "hub, then direct",
        }
    }

    /// Whether packets went through the hub after the first direct one.
    #[must_use]
    pub fn hub_after_switch(&self) -> bool {
        let direct = self.direct.first.map(|s| s.frame);
        [self.to_hub.last, self.from_hub.last]
            .into_iter()
            .flatten()
            .any(|s| direct.is_some_and(|d| s.frame > d))
    }

    /// The last packet that went through the hub.
    #[must_use]
    pub fn last_via_hub(&self) -> Option<Seen> {
        [self.to_hub.last, self.from_hub.last]
            .into_iter()
            .flatten()
            .max_by_key(|s| s.frame)
    }
}

impl SpokeToSpoke {
    /// Whether the capture shows nothing of Phase 2/3.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.redirects.is_empty()
            && self.resolutions.is_empty()
            && self.purges.is_empty()
            && self.tunnels.is_empty()
            && self.flows.is_empty()
    }

    /// The flow from `src` to `dst` (inner addresses as text).
    #[must_use]
    pub fn flow(&self, src: &str, dst: &str) -> Option<&InnerFlow> {
        let (src, dst): (IpAddr, IpAddr) = (src.parse().ok()?, dst.parse().ok()?);
        self.flows.iter().find(|f| f.src == src && f.dst == dst)
    }

    /// The direct tunnel between spokes `a` and `b` (NBMA addresses, either order).
    #[must_use]
    pub fn tunnel(&self, a: IpAddr, b: IpAddr) -> Option<&DirectTunnel> {
        self.tunnels
            .iter()
            .find(|t| (t.a == a && t.b == b) || (t.a == b && t.b == a))
    }

    /// Whether the Phase 3 analysis accounts for packets hair-pinning between spokes `from`
    /// and `to`: a resolution joined them, or the hub redirected either.
    #[must_use]
    pub fn explains_hairpin(&self, from: IpAddr, to: IpAddr) -> bool {
        self.tunnel(from, to).is_some()
            || self
                .redirects
                .iter()
                .any(|r| r.spoke == from || r.spoke == to)
    }
}

/// A raw resolution or purge as the builder collects it: the message's copies by outer hop.
#[derive(Clone, Debug, Default)]
pub(super) struct Hops(pub(super) Vec<(Seen, IpAddr, IpAddr)>);

impl Hops {
    pub(super) fn push(&mut self, seen: Seen, src: IpAddr, dst: IpAddr) {
        if self.0.len() < MAX_HOPS {
            self.0.push((seen, src, dst));
        }
    }
}

/// A Resolution Reply as collected, before the hubs are known: its copies and what it says.
pub(super) type RawAnswer = (Hops, Answer);

/// A resolution as collected.
#[derive(Clone, Debug)]
pub(super) struct RawResolution {
    pub(super) resolution: Resolution,
    pub(super) hops: Hops,
    pub(super) answer: Option<RawAnswer>,
}

/// A flow as collected: its packets by outer (source, destination).
#[derive(Clone, Debug)]
pub(super) struct RawFlow {
    pub(super) src: IpAddr,
    pub(super) dst: IpAddr,
    pub(super) legs: Vec<(IpAddr, IpAddr, Leg)>,
}

/// What [`build`] needs from the builder.
pub(super) struct Collected<'a> {
    pub(super) spokes: BTreeSet<IpAddr>,
    pub(super) hubs: &'a BTreeSet<IpAddr>,
    pub(super) redirects: Vec<Redirect>,
    pub(super) resolutions: Vec<RawResolution>,
    pub(super) purges: Vec<Purge>,
    pub(super) flows: Vec<RawFlow>,
    pub(super) dropped: u64,
    pub(super) end: Option<Timestamp>,
}

/// Ties the collected records together, with the finished pairs (hub first).
pub(super) fn build(collected: Collected<'_>, pairs: &[PeerPair]) -> SpokeToSpoke {
    let Collected {
        spokes,
        hubs,
        mut redirects,
        resolutions,
        purges,
        flows,
        dropped,
        end,
    } = collected;
    let is_hub = |addr: &IpAddr| hubs.contains(addr);
    let resolutions: Vec<Resolution> = resolutions
        .into_iter()
        .map(|raw| finish_resolution(raw, &is_hub))
        .collect();

    // The spoke pairs: joined by a resolution, or talking directly.
    let key = |a: IpAddr, b: IpAddr| if a <= b { (a, b) } else { (b, a) };
    let mut joined = Joined {
        hubs,
        tunnels: BTreeMap::new(),
        order: Vec::new(),
    };
    for (index, resolution) in resolutions.iter().enumerate() {
        let other = resolution
            .answer
            .as_ref()
            .and_then(|a| if a.direct { Some(a.from) } else { a.nbma })
            .or(resolution.forwarded_to);
        if let Some(other) = other
            && let Some(tunnel) = joined.join(resolution.origin, other)
        {
            tunnel.resolutions.push(index);
            if resolution.succeeded()
                && let Some(answer) = &resolution.answer
            {
                tunnel.installs.push(answer.seen.frame);
            }
        }
    }
    let pair_index: HashMap<(IpAddr, IpAddr), usize> = pairs
        .iter()
        .enumerate()
        .map(|(i, p)| (key(p.a, p.b), i))
        .collect();
    for pair in pairs {
        let talked = !pair.ike.is_empty() || !pair.esp.is_empty() || !pair.inner.is_empty();
        if talked && spokes.contains(&pair.a) && spokes.contains(&pair.b) {
            joined.join(pair.a, pair.b);
        }
    }

    let mut tunnels = Vec::with_capacity(joined.order.len());
    for k in joined.order {
        let Some(mut tunnel) = joined.tunnels.remove(&k) else {
            continue;
        };
        if let Some(pair) = pair_index.get(&k).and_then(|&i| pairs.get(i)) {
            summarise_pair(&mut tunnel, pair, end);
        }
        expiries(&mut tunnel, &resolutions);
        for purge in purges.iter().filter(|p| !p.reply) {
            if key(purge.from, purge.to) == k || purge_names(purge, &tunnel, &resolutions) {
                tunnel.removals.push((purge.seen.frame, "purge"));
            }
        }
        tunnel.removals.sort_unstable();
        tunnel.removals.dedup();
        tunnels.push(tunnel);
    }

    let tunnel_keys: BTreeSet<(IpAddr, IpAddr)> = tunnels.iter().map(|t| key(t.a, t.b)).collect();
    let mut out_flows = Vec::new();
    for raw in flows {
        let mut flow = InnerFlow {
            src: raw.src,
            dst: raw.dst,
            to_hub: Leg::default(),
            from_hub: Leg::default(),
            direct: Leg::default(),
            via: (None, None),
            tunnel: None,
            switched: None,
            redirect: None,
        };
        for (src, dst, leg) in &raw.legs {
            let (Some(first), Some(last)) = (leg.first, leg.last) else {
                continue;
            };
            if is_hub(dst) && !is_hub(src) {
                flow.to_hub.add(leg.packets, first, last);
                flow.via.0.get_or_insert(*src);
            } else if is_hub(src) && !is_hub(dst) {
                flow.from_hub.add(leg.packets, first, last);
                flow.via.1.get_or_insert(*dst);
            } else if tunnel_keys.contains(&key(*src, *dst)) {
                flow.direct.add(leg.packets, first, last);
                flow.tunnel.get_or_insert((*src, *dst));
            }
        }
        flow.redirect = redirects
            .iter()
            .find(|r| {
                r.flow
                    .is_some_and(|f| f.src == flow.src && f.dst == flow.dst)
            })
            .map(|r| r.seen);
        let hub_first = [flow.to_hub.first, flow.from_hub.first]
            .into_iter()
            .flatten()
            .map(|s| s.frame)
            .min();
        if let (Some(hub), Some(direct)) = (hub_first, flow.direct.first)
            && hub < direct.frame
        {
            flow.switched = Some(direct);
        }
        if flow.hairpinned() || flow.direct.packets > 0 || flow.redirect.is_some() {
            out_flows.push(flow);
        }
    }
    for tunnel in &mut tunnels {
        let k = key(tunnel.a, tunnel.b);
        tunnel.first_direct = out_flows
            .iter()
            .filter(|f| f.tunnel.is_some_and(|(s, d)| key(s, d) == k))
            .filter_map(|f| f.direct.first)
            .min_by_key(|s| s.frame);
    }
    for redirect in &mut redirects {
        redirect.resolution = resolutions.iter().position(|r| {
            (r.origin == redirect.spoke || r.requester_nbma == Some(redirect.spoke))
                && r.request.time.saturating_add(Duration::from_secs(1)) >= redirect.seen.time
                && redirect.flow.is_none_or(|f| f.dst == r.target)
        });
    }
    SpokeToSpoke {
        spokes,
        redirects,
        resolutions,
        purges,
        tunnels,
        flows: out_flows,
        dropped,
    }
}

/// The spoke pairs found so far, in order of first sight.
struct Joined<'a> {
    hubs: &'a BTreeSet<IpAddr>,
    tunnels: BTreeMap<(IpAddr, IpAddr), DirectTunnel>,
    order: Vec<(IpAddr, IpAddr)>,
}

impl Joined<'_> {
    /// The record of spokes `a` and `b`, created on first sight (none for a hub or one spoke).
    fn join(&mut self, a: IpAddr, b: IpAddr) -> Option<&mut DirectTunnel> {
        if a == b || self.hubs.contains(&a) || self.hubs.contains(&b) {
            return None;
        }
        let key = if a <= b { (a, b) } else { (b, a) };
        let order = &mut self.order;
        Some(self.tunnels.entry(key).or_insert_with(|| {
            order.push(key);
            DirectTunnel::new(a, b)
        }))
    }
}

/// The resolution with its hops read: where it came from, where a hub forwarded it, which
/// reply copy reached the requester.
fn finish_resolution(raw: RawResolution, is_hub: &impl Fn(&IpAddr) -> bool) -> Resolution {
    let RawResolution {
        mut resolution,
        hops,
        answer,
    } = raw;
    resolution.forwarded_to = hops
        .0
        .iter()
        .find(|(_, src, dst)| is_hub(src) && !is_hub(dst) && *dst != resolution.origin)
        .map(|&(_, _, dst)| dst);
    if let Some((hops, mut answer)) = answer {
        let delivered = hops
            .0
            .iter()
            .find(|(_, _, dst)| *dst == resolution.origin)
            .or_else(|| hops.0.first());
        if let Some(&(seen, from, _)) = delivered {
            answer.seen = seen;
            answer.from = from;
            answer.direct = !is_hub(&from);
        }
        resolution.answer = Some(answer);
    }
    resolution
}

/// The pair's IKE and ESP, as the tunnel's.
fn summarise_pair(tunnel: &mut DirectTunnel, pair: &PeerPair, end: Option<Timestamp>) {
    tunnel.ike_sas = pair.ike.len();
    tunnel.ike_first = pair.ike.iter().map(|sa| sa.first).min_by_key(|s| s.frame);
    tunnel.ike_up = pair
        .ike
        .iter()
        .filter_map(|sa| sa.established)
        .min_by_key(|s| s.frame);
    for sa in &pair.ike {
        let frames = std::iter::once(sa.first.frame)
            .chain(sa.main_mode_5.iter().copied())
            .chain(sa.notifications.iter().map(|(s, _)| s.frame))
            .chain(std::iter::once(sa.last.frame));
        for frame in frames {
            if tunnel.ike_frames.len() < super::MAX_EVIDENCE && !tunnel.ike_frames.contains(&frame)
            {
                tunnel.ike_frames.push(frame);
            }
        }
        for (seen, _, _) in &sa.deletes {
            tunnel.removals.push((seen.frame, "IKE delete"));
        }
    }
    tunnel.ike_frames.sort_unstable();
    for flow in &pair.esp {
        tunnel.esp.merge(flow.packets);
        tunnel.esp_decrypted += flow.decrypted;
        if tunnel.esp_first.is_none_or(|s| flow.first.frame < s.frame) {
            tunnel.esp_first = Some(flow.first);
        }
    }
    tunnel.ike_failed = tunnel.ike_up.is_none()
        && tunnel.esp.packets == 0
        && tunnel
            .ike_first
            .zip(end)
            .is_some_and(|(first, end)| end.saturating_duration_since(first.time) >= IKE_GRACE);
}

/// Shortcuts whose holding time ran out before the next install for the same requester and
/// target: a removal at the install that lapsed.
fn expiries(tunnel: &mut DirectTunnel, resolutions: &[Resolution]) {
    let mut latest: BTreeMap<(IpAddr, IpAddr), (Seen, u16)> = BTreeMap::new();
    for &index in &tunnel.resolutions {
        let Some(resolution) = resolutions.get(index) else {
            continue;
        };
        let Some(answer) = resolution.answer.as_ref().filter(|a| a.code == 0) else {
            continue;
        };
        let key = (resolution.requester, resolution.target);
        if let Some((seen, hold)) = latest.get(&key)
            && seen
                .time
                .saturating_add(Duration::from_secs(u64::from(*hold)))
                < resolution.request.time
        {
            tunnel.removals.push((seen.frame, "expired"));
        }
        latest.insert(key, (answer.seen, answer.holding_time));
    }
}

/// Whether `purge` withdraws a network one of the tunnel's resolutions installed, and travels
/// to or from one of its spokes.
fn purge_names(purge: &Purge, tunnel: &DirectTunnel, resolutions: &[Resolution]) -> bool {
    let ends = [tunnel.a, tunnel.b];
    if !ends.contains(&purge.from) && !ends.contains(&purge.to) {
        return false;
    }
    tunnel
        .resolutions
        .iter()
        .filter_map(|&i| resolutions.get(i))
        .any(|r| {
            purge.prefixes.iter().any(|&prefix| {
                super::diagnose::covers(prefix, host(r.target)) || r.requester == prefix.0
            })
        })
}

/// An address as a host prefix (`/32`, `/128`).
pub(super) fn host(addr: IpAddr) -> (IpAddr, u8) {
    (addr, if addr.is_ipv4() { 32 } else { 128 })
}
