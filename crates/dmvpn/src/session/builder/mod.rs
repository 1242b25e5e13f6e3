//! The builder: a [`Sink`] of decoded frames that groups them into peer pairs and finishes a
//! [`Report`].

mod ikev2;
mod layers;
mod shortcut;

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::io::Read;
use std::net::IpAddr;

use super::report::is_group_address;
use super::{
    Evidence, Ikev2PskCheck, MAX_EVIDENCE, MAX_PAIRS, MAX_PAIRS_PER_ADDRESS, Overflow, PeerPair,
    PskCheck, PskTable, Report, Seen, diagnose,
};
use crate::capture::{CaptureError, CaptureReader, Frame, Timestamp};
use crate::decode::{Decoder, Layer, Sink};

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
    /// The outer UDP ports (source, destination), for IKEv2 NAT detection.
    udp_ports: Option<(u16, u16)>,
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
    /// IKEv2 SAs by (pair, initiator SPI): the index in the pair's `ikev2` list.
    ikev2_index: HashMap<(usize, [u8; 8]), usize>,
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
    /// Redirects, resolutions, purges and inner flows (DMVPN Phase 2/3).
    shortcuts: shortcut::Shortcuts,
}

impl SessionBuilder {
    /// An empty builder.
    #[must_use]
    pub fn new() -> Self {
        Self::default()
    }

    /// A builder that checks every IKEv1 phase 1 SA authenticated with a pre-shared key against
    /// `psks` (RFC 2409 §5 HASH_I / HASH_R; [`IkeSa::psk`](super::IkeSa::psk)), so that
    /// [`Rule::IkePskMismatch`](super::Rule::IkePskMismatch) reports a verified mismatch rather
    /// than a heuristic. Main Mode 5 and 6 are encrypted: the decoder needs their
    /// `ikev1_decryption_table` key.
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
                .chain(pair.ikev2.iter().flat_map(super::Ikev2Sa::child_spis))
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
                for sa in &mut pair.ikev2 {
                    let material = sa.auth_material.take();
                    sa.psk = [0, 1].map(|side| {
                        Some(material.as_deref().map_or(
                            Ikev2PskCheck::Unchecked(
                                "the IKE_SA_INIT exchange is not in the capture",
                            ),
                            |m| m.check(psks, pair.a, pair.b, side),
                        ))
                    });
                }
            }
        }
        let shortcuts = std::mem::take(&mut self.shortcuts);
        let spoke_to_spoke = shortcuts.finish(&self.hubs, &self.pairs, self.end);
        let mut report = Report {
            frames: self.frames,
            start: self.start,
            end: self.end,
            out_of_order: self.out_of_order,
            overflow,
            peers: self.pairs,
            unpaired_frames: self.unpaired_frames,
            findings: Vec::new(),
            spoke_to_spoke,
        };
        report.findings = diagnose::run(&report, &self.evidence);
        report
    }

    /// Gives the records of multicast senders to their pairs: each sender's record to every
    /// pair of the sender's (by NBMA, NHRP tunnel or EIGRP router address), or, for the two only
    /// senders to a group that have no pair, one record of the two. Evidence follows the records.
    pub(super) fn resolve_groups(&mut self) {
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
    pub(super) fn pair(&mut self, src: IpAddr, dst: IpAddr) -> Option<usize> {
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
    pub(super) fn touch(&mut self, index: usize) {
        let seen = self.frame.seen;
        if let Some(pair) = self.pairs.get_mut(index) {
            pair.last = seen;
            pair.earliest = pair.earliest.min(seen.time);
            pair.latest = pair.latest.max(seen.time);
            pair.frames += 1;
        }
    }

    /// Records that `addr` (an NBMA, tunnel or router address) belongs to pair `index`.
    pub(super) fn remember(&mut self, addr: IpAddr, index: usize) {
        let list = self.by_address.entry(addr).or_default();
        if list.len() < MAX_PAIRS_PER_ADDRESS && !list.contains(&index) {
            list.push(index);
        }
    }

    pub(super) fn current(&mut self) -> Option<(&mut PeerPair, IpAddr, IpAddr)> {
        let (src, dst) = self.frame.outer?;
        let pair = self.pairs.get_mut(self.frame.pair?)?;
        Some((pair, src, dst))
    }

    pub(super) fn inner_count(&mut self, name: &'static str, bytes: usize) {
        if let Some((pair, ..)) = self.current() {
            pair.inner.entry(name).or_default().add(bytes);
        }
    }
}

pub(super) fn push_evidence<T>(list: &mut Vec<T>, item: T) {
    if list.len() < MAX_EVIDENCE * 8 {
        list.push(item);
    }
}

/// An IPv4 or IPv6 address from its 4 or 16 bytes.
pub(super) fn ip_from(bytes: &[u8]) -> Result<IpAddr, ()> {
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
            Layer::Udp {
                src_port, dst_port, ..
            } if self.frame.ip_layers == 1 => {
                self.frame.udp_ports = Some((*src_port, *dst_port));
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
