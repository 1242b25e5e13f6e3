//! The encapsulations public captures show beside DMVPN: MPLS label stacks (on the link, in GRE,
//! Ethernet pseudowires), enhanced GRE (PPTP) and its PPP payload, IPv6 inside tunnels, EIGRP
//! with a bad checksum, Ethernet frames in GRE (Transparent Ethernet Bridging, ERSPAN types I, II
//! and III), the JSON and text of the link layers beside Ethernet, and the marker for the nesting
//! limit.
//!
//! These are more steps of the same [`Walk`] (this module sees its private state), kept apart
//! from the DMVPN path in the parent module.

use dmvpn_wire::Layer as WireLayer;

use super::{Frame, Layer, LinkLayer, MAX_NESTING, Reassembler, Sink, Walk, eigrp, gre};
use crate::capture::link::{self, EtherType, LinkFrame, LinkHeader};
use crate::json::Object;

impl<S: Sink> Walk<'_, S> {
    /// An MPLS packet straight on the link (ethertype 0x8847 or 0x8848, RFC 3032 §5, RFC 5332
    /// §4): its label stack, then the IPv4 or IPv6 packet under it as the frame's outer packet,
    /// or the Ethernet frame of a pseudowire (RFC 4448) and what it carries.
    pub(super) fn link_mpls(
        &mut self,
        frame: &Frame<'_>,
        reassembler: &mut Reassembler,
        link: &LinkFrame<'_>,
        buffers: &mut [Vec<u8>],
    ) {
        let layer = match link.header {
            LinkHeader::Ethernet(_) => WireLayer::Ethernet,
            LinkHeader::Sll(_) => WireLayer::Sll,
            LinkHeader::Loopback(_) => WireLayer::Loopback,
            _ => WireLayer::Capture,
        };
        let mpls = match link::mpls(link.payload, layer, link.header_len) {
            Ok(mpls) => mpls,
            Err(error) => return self.fail("mpls", &error, link.payload),
        };
        self.emit(&Layer::Mpls(&mpls.labels));
        // The outer IP packet starts under the stack (for `Decrypted::link_header_len`).
        self.link_header_len = link.header_len + 4 * mpls.labels.len();
        match mpls.ethertype {
            EtherType::IPV4 => self.outer_ipv4(frame, reassembler, mpls.payload, buffers),
            EtherType::IPV6 => self.ipv6(mpls.payload, buffers, 0),
            _ => match link::pw_ethernet(mpls.payload) {
                // An Ethernet pseudowire: the frame it carries, as the frame's own would be.
                Some(inner) => {
                    self.emit(&Layer::Link(LinkLayer {
                        header: &inner.header,
                        ethertype: inner.ethertype,
                    }));
                    self.link_header_len += inner.header_len;
                    match inner.ethertype {
                        EtherType::IPV4 => {
                            self.outer_ipv4(frame, reassembler, inner.payload, buffers)
                        }
                        EtherType::IPV6 => self.ipv6(inner.payload, buffers, 0),
                        _ => self.data("link payload", inner.payload),
                    }
                }
                None => self.data("mpls payload", mpls.payload),
            },
        }
    }

    /// MPLS in GRE (protocol type 0x8847 or 0x8848, RFC 4023 §4), `at` bytes into the GRE packet:
    /// the label stack, then an IPv4 or IPv6 packet under it as another tunnel level; anything
    /// else is reported as data.
    pub(super) fn gre_mpls(
        &mut self,
        bytes: &[u8],
        at: usize,
        buffers: &mut [Vec<u8>],
        depth: usize,
    ) {
        let mpls = match link::mpls(bytes, WireLayer::Gre, at) {
            Ok(mpls) => mpls,
            // In a frame the snapshot length cut, a stack cut short is reported as such.
            Err(error) => return self.fail("mpls", &error, bytes),
        };
        self.emit(&Layer::Mpls(&mpls.labels));
        self.tunnelled(mpls.ethertype, mpls.payload, "mpls payload", buffers, depth);
    }

    /// Enhanced GRE, version 1 (RFC 2637 §4.1, the PPTP data channel): its header, and its PPP
    /// payload: an IPv4 or IPv6 packet (PPP protocol 0x0021, 0x0057) is decoded as another tunnel
    /// level, anything else (LCP, CCP-compressed or encrypted frames) is reported as data.
    pub(super) fn gre_enhanced(&mut self, bytes: &[u8], buffers: &mut [Vec<u8>], depth: usize) {
        let packet = gre::Packet::new_unchecked(bytes);
        let (header, payload) = match gre::enhanced::Repr::parse(&packet) {
            Ok(header) => (header, packet.payload()),
            Err(error) => match enhanced_cut(bytes).filter(|_| self.cut) {
                Some(cut) => cut,
                None => return self.fail("gre", &error, bytes),
            },
        };
        let ppp = (header.protocol == gre::Protocol::PPP)
            .then(|| ppp_split(payload))
            .flatten();
        self.emit(&Layer::GreEnhanced {
            header: &header,
            ppp_protocol: ppp.map(|(protocol, _)| protocol),
        });
        match ppp {
            Some((PPP_IPV4, inner)) if depth < MAX_NESTING => {
                self.inner_ipv4(inner, buffers, depth + 1)
            }
            Some((PPP_IPV6, inner)) if depth < MAX_NESTING => self.ipv6(inner, buffers, depth + 1),
            Some((PPP_IPV4 | PPP_IPV6, inner)) => self.nesting_limit("ppp", inner),
            Some(_) => self.data("ppp", payload),
            None => self.data("gre payload", payload),
        }
    }

    /// An Ethernet frame in GRE: Transparent Ethernet Bridging (protocol 0x6558), or mirrored by
    /// ERSPAN (0x88BE: type I without a GRE sequence number, else type II; 0x22EB: type III)
    /// after its header, `at` bytes into the GRE packet. The frame's IPv4 or IPv6 packet is
    /// another tunnel level.
    pub(super) fn gre_ethernet(
        &mut self,
        gre: &gre::Repr,
        bytes: &[u8],
        at: usize,
        buffers: &mut [Vec<u8>],
        depth: usize,
    ) {
        let frame = if gre.protocol == gre::Protocol::TRANSPARENT_ETHERNET_BRIDGING {
            bytes
        } else {
            let type_one = gre.protocol == gre::Protocol::ERSPAN && gre.sequence.is_none();
            let parsed = if type_one {
                Ok((Erspan::TYPE_ONE, bytes))
            } else {
                Erspan::parse(bytes, at)
            };
            match parsed {
                Ok((erspan, frame)) => {
                    self.emit(&Layer::Erspan(&erspan));
                    frame
                }
                Err(error) => return self.fail("erspan", &error, bytes),
            }
        };
        let inner = match link::decode(link::LinkType::ETHERNET, frame) {
            Ok(inner) => inner,
            Err(error) => return self.fail("eth", &error, frame),
        };
        self.emit(&Layer::Link(LinkLayer {
            header: &inner.header,
            ethertype: inner.ethertype,
        }));
        self.tunnelled(
            inner.ethertype,
            inner.payload,
            "link payload",
            buffers,
            depth,
        );
    }

    /// A whole EIGRP packet. One whose checksum is wrong is decoded all the same and reported as
    /// [`Layer::EigrpBadChecksum`] (tshark shows it and flags the checksum; a router drops it).
    pub(super) fn eigrp_checked(&mut self, bytes: &[u8]) {
        let parsed = eigrp::Packet::new_checked(bytes)
            .and_then(|packet| Ok((eigrp::Repr::parse_unverified(&packet)?, packet)));
        match parsed {
            Ok((repr, packet)) if packet.verify_checksum() => self.emit(&Layer::Eigrp(&repr)),
            Ok((repr, packet)) => self.emit(&Layer::EigrpBadChecksum {
                repr: &repr,
                found: packet.checksum(),
                computed: packet.compute_checksum(),
            }),
            Err(error) => self.error("eigrp", &error),
        }
    }

    /// The payload of an MPLS stack or of an Ethernet frame in a tunnel: an IPv4 or IPv6 packet
    /// is another tunnel level (up to the nesting limit); anything else is reported as data,
    /// named `what`.
    fn tunnelled(
        &mut self,
        ethertype: EtherType,
        payload: &[u8],
        what: &'static str,
        buffers: &mut [Vec<u8>],
        depth: usize,
    ) {
        match ethertype {
            EtherType::IPV4 if depth < MAX_NESTING => self.inner_ipv4(payload, buffers, depth + 1),
            EtherType::IPV6 if depth < MAX_NESTING => self.ipv6(payload, buffers, depth + 1),
            EtherType::IPV4 | EtherType::IPV6 => self.nesting_limit(what, payload),
            _ => self.data(what, payload),
        }
    }

    /// The tunnel nesting limit stopped the walk: says so, then reports the bytes as data.
    pub(super) fn nesting_limit(&mut self, what: &'static str, bytes: &[u8]) {
        self.emit(&Layer::NestingLimit { limit: MAX_NESTING });
        self.data(what, bytes);
    }
}

/// The enhanced GRE header of a packet the snapshot length cut short, and what was captured of
/// its payload: the first eight bytes (flags, protocol type, payload length, call ID) must be
/// there; the sequence and acknowledgment numbers are given if they were captured.
fn enhanced_cut(bytes: &[u8]) -> Option<(gre::enhanced::Repr, &[u8])> {
    if bytes.len() < 8 {
        return None;
    }
    let packet = gre::Packet::new_unchecked(bytes);
    if packet.version() != 1 || packet.checksum_present() || packet.routing_present() {
        return None;
    }
    let header = gre::enhanced::Repr {
        protocol: packet.protocol(),
        payload_length: packet.payload_length()?,
        call_id: packet.call_id()?,
        sequence: packet.sequence(),
        ack: packet.ack(),
    };
    Some((header, bytes.get(packet.header_len()..).unwrap_or_default()))
}

/// An ERSPAN header (draft-foschiano-erspan §4.1 type II, §4.2 type III).
#[derive(Clone, Copy, Debug, Eq, PartialEq)]
pub struct Erspan {
    /// The version field: 1 for type II, 2 for type III; 0 for type I, which has no header.
    pub version: u8,
    /// The VLAN of the mirrored frame.
    pub vlan: u16,
    /// The session ID (10 bits).
    pub session: u16,
    /// The port index (type II).
    pub index: Option<u32>,
    /// The timestamp (type III), in the granularity its `gra` field names.
    pub timestamp: Option<u32>,
}

impl Erspan {
    const TYPE_ONE: Self = Self {
        version: 0,
        vlan: 0,
        session: 0,
        index: None,
        timestamp: None,
    };

    /// Reads a type II or III header (told apart by its version field) and returns it with the
    /// mirrored frame after it; a type III header with the O bit set is followed by an 8-byte
    /// platform-specific subheader. Error offsets count from the GRE header, `at` bytes before.
    fn parse(bytes: &[u8], at: usize) -> dmvpn_wire::Result<(Self, &[u8])> {
        let mut reader = dmvpn_wire::Reader::with_base(WireLayer::Gre, bytes, at);
        let first = reader.u16("erspan version and vlan")?;
        let second = reader.u16("erspan session")?;
        let version = (first >> 12) as u8;
        let (vlan, session) = (first & 0x0fff, second & 0x03ff);
        let header = match version {
            1 => {
                let index = reader.u32("erspan index")? & 0x000f_ffff;
                Self {
                    version,
                    vlan,
                    session,
                    index: Some(index),
                    timestamp: None,
                }
            }
            2 => {
                let timestamp = reader.u32("erspan timestamp")?;
                reader.skip(2, "erspan sgt")?;
                let flags = reader.u16("erspan flags")?;
                if flags & 1 == 1 {
                    reader.skip(8, "erspan platform subheader")?;
                }
                Self {
                    version,
                    vlan,
                    session,
                    index: None,
                    timestamp: Some(timestamp),
                }
            }
            _ => {
                return Err(dmvpn_wire::Error::Unsupported {
                    layer: WireLayer::Gre,
                    field: "erspan version",
                    offset: at,
                    value: u32::from(version),
                });
            }
        };
        Ok((header, reader.rest()))
    }
}

/// An ERSPAN header as JSON.
pub(super) fn erspan_json(erspan: &Erspan, obj: &mut Object<'_>) {
    obj.u64("type", u64::from(erspan.version) + 1);
    if erspan.version != 0 {
        obj.u64("vlan", u64::from(erspan.vlan));
        obj.u64("session", u64::from(erspan.session));
    }
    obj.opt_u64("index", erspan.index);
    obj.opt_u64("timestamp", erspan.timestamp);
}

/// An ERSPAN header for the info column: `ERSPAN type II session 1`.
pub(super) fn erspan_info(erspan: &Erspan, f: &mut dyn std::fmt::Write) -> std::fmt::Result {
    let kind = ["I", "II", "III"]
        .get(usize::from(erspan.version))
        .unwrap_or(&"?");
    write!(f, "ERSPAN type {kind}")?;
    if erspan.version != 0 {
        write!(f, " session {}", erspan.session)?;
    }
    Ok(())
}

/// A PPPoE session header as JSON fields of the layer carrying it.
pub(super) fn pppoe_json(pppoe: &link::Pppoe, obj: &mut Object<'_>) {
    obj.u64("pppoe_code", u64::from(pppoe.code));
    obj.hex_u16("pppoe_session", pppoe.session_id);
    obj.u64("pppoe_length", u64::from(pppoe.length));
    if pppoe.code == 0 {
        obj.hex_u16("ppp_protocol", pppoe.ppp_protocol);
    }
}

/// An 802.2 LLC header as JSON fields of its Ethernet layer.
pub(super) fn llc_json(llc: &link::Llc, obj: &mut Object<'_>) {
    obj.u64("length", u64::from(llc.length));
    obj.u64("llc_dsap", u64::from(llc.dsap));
    obj.u64("llc_ssap", u64::from(llc.ssap));
    if let Some((oui, pid)) = llc.snap {
        obj.u64("snap_oui", u64::from(oui));
        obj.hex_u16("snap_pid", pid);
    }
}

/// The JSON fields of the link headers other than Ethernet, cooked, loopback and raw.
pub(super) fn link_json(header: &LinkHeader, obj: &mut Object<'_>) {
    match header {
        LinkHeader::Ppp(ppp) => match ppp.pppoe {
            Some(pppoe) => pppoe_json(&pppoe, obj),
            None => obj.hex_u16("ppp_protocol", ppp.protocol),
        },
        LinkHeader::CiscoHdlc(hdlc) => {
            obj.u64("address", u64::from(hdlc.address));
            obj.hex_u16("protocol", hdlc.protocol.0);
        }
        LinkHeader::FrameRelay(fr) => {
            obj.u64("dlci", u64::from(fr.dlci));
            obj.opt_u64("nlpid", fr.nlpid);
        }
        LinkHeader::Nflog(nflog) => {
            obj.u64("family", u64::from(nflog.family));
            obj.u64("group", u64::from(nflog.group));
        }
        LinkHeader::Pflog(pflog) => {
            obj.u64("family", u64::from(pflog.family));
            obj.u64("action", u64::from(pflog.action));
            obj.u64("reason", u64::from(pflog.reason));
            obj.u64("rule", u64::from(pflog.rule));
        }
        LinkHeader::Enc(enc) => {
            obj.u64("family", u64::from(enc.family));
            obj.hex_u32("spi", enc.spi);
            obj.u64("flags", u64::from(enc.flags));
        }
        _ => {}
    }
}

/// A link layer for the info column: what it carries, after the header's own fields for the
/// headers that have some worth showing (`PPPoE session 0x0011 IPv4`, `Cisco HDLC SLARP`).
pub(super) fn link_info(link: &LinkLayer<'_>, f: &mut dyn std::fmt::Write) -> std::fmt::Result {
    let pppoe = match link.header {
        LinkHeader::Ethernet(eth) => eth.pppoe,
        LinkHeader::Ppp(ppp) => ppp.pppoe,
        _ => None,
    };
    if let Some(pppoe) = pppoe {
        write!(f, "PPPoE session {:#06x} ", pppoe.session_id)?;
    }
    match link.header {
        LinkHeader::Ppp(ppp) if link.ethertype.0 == 0 => {
            write!(f, "PPP protocol {:#06x}", ppp.protocol)
        }
        LinkHeader::CiscoHdlc(_) => write!(f, "Cisco HDLC {}", link.ethertype),
        LinkHeader::FrameRelay(fr) => write!(f, "FR DLCI {} {}", fr.dlci, link.ethertype),
        LinkHeader::Enc(enc) => write!(f, "enc SPI {:#010x} {}", enc.spi, link.ethertype),
        _ => write!(f, "{}", link.ethertype),
    }
}

/// What the payload of a link layer is when no decoder takes it: the control protocols router
/// serial links and PPPoE carry beside IP by name, anything else as `link payload`.
pub(super) fn link_payload_name(link: &LinkFrame<'_>) -> &'static str {
    let ppp = match link.header {
        LinkHeader::Ppp(ppp) => Some(ppp.protocol),
        LinkHeader::Ethernet(eth) => eth.pppoe.map(|pppoe| pppoe.ppp_protocol),
        _ => None,
    };
    match (link.ethertype, ppp) {
        (EtherType::SLARP, _) => "slarp",
        (EtherType::CDP, _) => "cdp",
        (EtherType::PPPOE_DISCOVERY, _) => "pppoe discovery",
        (_, Some(0xc021)) => "ppp lcp",
        (_, Some(0x8021)) => "ppp ipcp",
        (_, Some(0x8057)) => "ppp ipv6cp",
        (_, Some(0xc023)) => "ppp pap",
        (_, Some(0xc223)) => "ppp chap",
        _ => "link payload",
    }
}

/// The PPP protocol number of IPv4 (RFC 1332).
const PPP_IPV4: u16 = 0x0021;
/// The PPP protocol number of IPv6 (RFC 5072).
const PPP_IPV6: u16 = 0x0057;

/// Splits a PPP frame as PPTP carries it (RFC 1661 §2, no FCS): the address and control bytes
/// 0xFF 0x03 unless compressed away (RFC 1661 §6.6), then the protocol, one byte when its low bit
/// says protocol-field compression (§6.5), else two. `None` if the protocol is not there.
fn ppp_split(frame: &[u8]) -> Option<(u16, &[u8])> {
    let frame = frame.strip_prefix(&[0xff, 0x03][..]).unwrap_or(frame);
    match frame {
        [first, rest @ ..] if first & 1 == 1 => Some((u16::from(*first), rest)),
        [high, low, rest @ ..] if low & 1 == 1 => Some((u16::from_be_bytes([*high, *low]), rest)),
        _ => None,
    }
}

/// An MPLS label stack as JSON: `"labels":[{"label":16,"tc":0,"s":false,"ttl":64},…]`.
pub(super) fn mpls_json(labels: &link::MplsLabels, obj: &mut Object<'_>) {
    let mut array = obj.array("labels");
    for entry in labels.iter() {
        let mut label = array.object();
        label.u64("label", u64::from(entry.label));
        label.u64("tc", u64::from(entry.tc));
        label.bool("s", entry.bottom);
        label.u64("ttl", u64::from(entry.ttl));
        label.end();
    }
    array.end();
}

/// An MPLS label stack for the info column: `MPLS labels 16 17 (S) TTL 64`, the TTL of the top
/// entry.
pub(super) fn mpls_info(
    labels: &link::MplsLabels,
    f: &mut dyn std::fmt::Write,
) -> std::fmt::Result {
    f.write_str("MPLS label")?;
    if labels.len() > 1 {
        f.write_str("s")?;
    }
    for entry in labels.iter() {
        write!(f, " {}", entry.label)?;
    }
    if let Some(top) = labels.first() {
        write!(f, " TTL {}", top.ttl)?;
    }
    Ok(())
}

/// An enhanced GRE header as JSON, with the PPP protocol of its payload.
pub(super) fn gre_enhanced_json(
    header: &gre::enhanced::Repr,
    ppp_protocol: Option<u16>,
    obj: &mut Object<'_>,
) {
    obj.u64("version", 1);
    obj.hex_u16("protocol", header.protocol.0);
    if let Some(name) = header.protocol.name() {
        obj.str("protocol_name", name);
    }
    obj.u64("payload_length", u64::from(header.payload_length));
    obj.u64("call_id", u64::from(header.call_id));
    obj.opt_u64("seq", header.sequence);
    obj.opt_u64("ack", header.ack);
    if let Some(protocol) = ppp_protocol {
        obj.hex_u16("ppp_protocol", protocol);
    }
}

/// An enhanced GRE header for the info column: `GRE v1 PPP call 17 seq 5 ack 4 PPP 0x0021`.
pub(super) fn gre_enhanced_info(
    header: &gre::enhanced::Repr,
    ppp_protocol: Option<u16>,
    f: &mut dyn std::fmt::Write,
) -> std::fmt::Result {
    write!(f, "GRE v1 {} call {}", header.protocol, header.call_id)?;
    if let Some(seq) = header.sequence {
        write!(f, " seq {seq}")?;
    }
    if let Some(ack) = header.ack {
        write!(f, " ack {ack}")?;
    }
    if let Some(protocol) = ppp_protocol {
        write!(f, " PPP protocol {protocol:#06x}")?;
    }
    Ok(())
}

/// A route's TLV type and metric, classic (RFC 7868 §6.8.2: scaled delay and bandwidth) or wide
/// (§6.9.1: delay in picoseconds, bandwidth in kbit/s), as the fields of its JSON object.
pub(super) fn route_json(route: &eigrp::RouteInfo, entry: &mut Object<'_>) {
    entry.hex_u16("tlv", route.tlv_type.0);
    match route.metric {
        eigrp::RouteMetric::Classic(metric) => {
            entry.str("metric", "classic");
            entry.u64("delay", u64::from(metric.delay));
            entry.u64("bandwidth", u64::from(metric.bandwidth));
            entry.u64("mtu", u64::from(metric.mtu));
            entry.u64("hop_count", u64::from(metric.hop_count));
            entry.u64("reliability", u64::from(metric.reliability));
            entry.u64("load", u64::from(metric.load));
        }
        eigrp::RouteMetric::Wide(metric) => {
            entry.str("metric", "wide");
            entry.u64("delay", metric.delay);
            entry.u64("bandwidth", metric.bandwidth);
            entry.u64("mtu", u64::from(metric.mtu));
            entry.u64("hop_count", u64::from(metric.hop_count));
            entry.u64("reliability", u64::from(metric.reliability));
            entry.u64("load", u64::from(metric.load));
        }
        _ => {}
    }
}
