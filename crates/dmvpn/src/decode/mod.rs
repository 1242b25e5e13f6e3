//! The frame decoder: link layer to inner packet, decrypting ESP on the way.
//!
//! A [`Decoder`] turns each captured [`Frame`] into its protocol [`Layer`]s and hands them, outermost
//! first, to a [`Sink`] (the text and JSON writers in [`crate::output`], or a test's collector). Layers
//! borrow from the frame, the reassembly buffer or the decryption buffer, so decoding a frame allocates
//! nothing once the buffers have grown.
//!
//! A frame the capture's snapshot length cut (`tcpdump -s 96`) is decoded as far as its bytes go,
//! as tshark does: every header that was captured, each one cut inside with the fields it holds
//! ([`Layer::Cut`], [`Layer::NhrpHeader`], [`EspStatus::Cut`]), and [`Sink::truncated`] before the
//! first layer concerned. A cut is told from a length lie by the frame's length on the wire: an IP
//! total length past it stays an error naming the field and its offset.
//!
//! ```
//! use dmvpn::capture::CaptureReader;
//! use dmvpn::decode::{Decoder, Layer, Sink};
//! use dmvpn::keys::EspKeys;
//!
//! /// Counts the ESP packets that decrypted.
//! #[derive(Default)]
//! struct Decrypted(usize);
//! impl Sink for Decrypted {
//!     fn layer(&mut self, layer: &Layer<'_>) {
//!         if let Layer::Esp(esp) = layer {
//!             self.0 += usize::from(esp.decrypted());
//!         }
//!     }
//! }
//!
//! let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/../../testdata/dmvpn");
//! let keys = EspKeys::from_file(format!("{dir}/phase1.esp_sa"))?;
//! let mut decoder = Decoder::new(keys);
//! let mut reader = CaptureReader::open(format!("{dir}/phase1.pcap"))?;
//! let mut sink = Decrypted::default();
//! while let Some(frame) = reader.next_frame()? {
//!     decoder.decode(&frame, &mut sink);
//! }
//! assert_eq!(sink.0, 28); // every ESP packet of the capture but the one with a corrupted ICV
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

mod encap;
mod esp;
mod ike;
mod ikev2_child;
mod layer;
mod summary;

pub use ike::IkeKeys;

pub use layer::{CutField, EspLayer, EspStatus, Icv, Ikev2Layer, IsakmpLayer, Layer, LinkLayer};
pub use summary::Summary;

use std::net::IpAddr;

use crate::capture::{self, Frame, Reassembler, Reassembly, ipv4, ipv6, udp};
use crate::keys::EspKeys;
use crate::transport::{Ah, Icmp, Tcp};
use dmvpn_eigrp as eigrp;
use dmvpn_gre as gre;
use dmvpn_isakmp as isakmp;
use dmvpn_nhrp as nhrp;
use esp::SaStates;

/// How deep tunnels may nest (ESP in GRE in ESP …) before the decoder stops and reports the rest as data.
const MAX_NESTING: usize = 4;

/// Receives the layers of each frame, outermost first.
pub trait Sink {
    /// A new frame starts.
    fn frame_start(&mut self, frame: &Frame<'_>) {
        let _ = frame;
    }
    /// One decoded layer.
    fn layer(&mut self, layer: &Layer<'_>);
    /// An ESP packet decrypted and verified: its plaintext and what carried it. Called right after
    /// the packet's [`Layer::Esp`], before the layers of the plaintext. Sinks that only read layers
    /// ignore it; [`crate::decrypt`] uses it to write the plaintext back into the capture.
    fn decrypted(&mut self, decrypted: &Decrypted<'_>) {
        let _ = decrypted;
    }
    /// The capture's snapshot length cut the frame inside the next layer: that layer and every
    /// one after it in this frame were decoded from what was captured of them (tshark's "Packet
    /// size limited during capture"). Called at most once per frame, before those layers.
    fn truncated(&mut self) {}
    /// The frame is done.
    fn frame_end(&mut self) {}
}

/// A decrypted ESP packet as [`Sink::decrypted`] sees it.
#[derive(Clone, Copy, Debug)]
#[non_exhaustive]
pub struct Decrypted<'a> {
    /// The ESP layer (SPI, sequence number, status).
    pub esp: &'a EspLayer,
    /// How many tunnels deep the ESP packet lies: 0 when the frame's own (outermost) IP packet
    /// carries it, directly or in UDP.
    pub depth: usize,
    /// The outer IPv4 header carrying the ESP packet, at depth 0 when it is IPv4 (for a reassembled
    /// datagram, the header of the fragment that completed it).
    pub outer: Option<&'a ipv4::Repr<'a>>,
    /// The length of the frame's link-layer header: where the outer IP packet starts in the frame.
    pub link_header_len: usize,
    /// Whether the ESP packet was UDP-encapsulated (RFC 3948).
    pub udp_encapsulated: bool,
    /// The trailer's next header: 4 (IPv4) or 41 (IPv6) in tunnel mode, the transport protocol
    /// (47 GRE, 17 UDP, …) in transport mode.
    pub next_header: u8,
    /// The plaintext payload, without padding, trailer or ICV.
    pub payload: &'a [u8],
}

/// Counters over everything decoded so far.
#[derive(Clone, Copy, Debug, Default, Eq, PartialEq)]
pub struct Stats {
    /// Frames decoded.
    pub frames: u64,
    /// ESP packets seen.
    pub esp: u64,
    /// ESP packets decrypted (with a verified ICV where the SA has one).
    pub esp_decrypted: u64,
    /// ESP packets with no key.
    pub esp_no_key: u64,
    /// ESP packets whose ICV did not verify.
    pub esp_icv_failed: u64,
    /// ESP packets whose sequence number was seen before on that SA (or fell behind its window).
    pub esp_replayed: u64,
    /// ISAKMP messages decrypted.
    pub isakmp_decrypted: u64,
    /// Layers that failed to decode.
    pub errors: u64,
}

/// Decodes frames into layers, holding the keys, the fragment reassembler and the decryption buffers.
pub struct Decoder {
    sas: SaStates,
    ike: IkeKeys,
    reassembler: Reassembler,
    /// One decryption buffer per nesting level.
    plaintext: Vec<Vec<u8>>,
    stats: Stats,
}

impl Decoder {
    /// A decoder that decrypts ESP with `keys`.
    #[must_use]
    pub fn new(keys: EspKeys) -> Self {
        Self::with_ike_keys(keys, IkeKeys::default())
    }

    /// A decoder that decrypts ESP with `esp` and IKEv1 with `ike`.
    #[must_use]
    pub fn with_ike_keys(esp: EspKeys, ike: IkeKeys) -> Self {
        Self {
            sas: SaStates::new(esp),
            ike,
            reassembler: Reassembler::default(),
            plaintext: (0..MAX_NESTING).map(|_| Vec::with_capacity(2048)).collect(),
            stats: Stats::default(),
        }
    }

    /// The counters so far.
    #[must_use]
    pub const fn stats(&self) -> &Stats {
        &self.stats
    }

    /// A decoder with the same keys (shared, not copied) and fresh state: no SA seen, no fragment
    /// buffered, zero counters. [`crate::parallel`] gives each shard of the capture its own.
    pub(crate) fn fork(&self) -> Self {
        Self {
            sas: self.sas.fork(),
            ike: self.ike.fork(),
            reassembler: Reassembler::new(*self.reassembler.config()),
            plaintext: (0..MAX_NESTING).map(|_| Vec::with_capacity(2048)).collect(),
            stats: Stats::default(),
        }
    }

    /// Adds the counters of `other` (a fork that decoded other frames of the same capture).
    pub(crate) fn add_stats(&mut self, other: &Self) {
        let (sum, add) = (&mut self.stats, &other.stats);
        sum.frames += add.frames;
        sum.esp += add.esp;
        sum.esp_decrypted += add.esp_decrypted;
        sum.esp_no_key += add.esp_no_key;
        sum.esp_icv_failed += add.esp_icv_failed;
        sum.esp_replayed += add.esp_replayed;
        sum.isakmp_decrypted += add.isakmp_decrypted;
        sum.errors += add.errors;
    }

    /// Decodes one frame, handing its layers to `sink` between `frame_start` and `frame_end`.
    pub fn decode(&mut self, frame: &Frame<'_>, sink: &mut impl Sink) {
        self.stats.frames += 1;
        sink.frame_start(frame);
        let Self {
            sas,
            ike,
            reassembler,
            plaintext,
            stats,
        } = self;
        let mut walk = Walk {
            sas,
            ike,
            stats,
            sink,
            link_header_len: 0,
            wire_len: usize::try_from(frame.original_len).unwrap_or(usize::MAX),
            cut: false,
        };
        match capture::link::decode(frame.link_type, frame.data) {
            Ok(link) => {
                walk.link_header_len = link.header_len;
                walk.emit(&Layer::Link(LinkLayer {
                    header: &link.header,
                    ethertype: link.ethertype,
                }));
                match link.ethertype {
                    capture::link::EtherType::IPV4 => {
                        walk.outer_ipv4(frame, reassembler, link.payload, plaintext)
                    }
                    capture::link::EtherType::IPV6 => walk.ipv6(link.payload, plaintext, 0),
                    capture::link::EtherType::MPLS | capture::link::EtherType::MPLS_MULTICAST => {
                        walk.link_mpls(frame, reassembler, &link, plaintext)
                    }
                    _ => walk.data(encap::link_payload_name(&link), link.payload),
                }
            }
            Err(error) => walk.error("link", &error),
        }
        walk.sink.frame_end();
    }
}

/// The state one frame's walk down the layers needs.
struct Walk<'a, S: Sink> {
    sas: &'a mut SaStates,
    ike: &'a mut IkeKeys,
    stats: &'a mut Stats,
    sink: &'a mut S,
    /// The frame's link-layer header length, for [`Decrypted::link_header_len`].
    link_header_len: usize,
    /// The frame's length on the wire.
    wire_len: usize,
    /// Whether the snapshot length cut the outer IP packet: every layer from there on is decoded
    /// from what was captured of it.
    cut: bool,
}

/// What carries an ESP packet, for [`Decrypted`]: the outer IPv4 header at depth 0, and UDP.
#[derive(Clone, Copy)]
struct Carrier<'h> {
    outer: Option<&'h ipv4::Repr<'h>>,
    udp: bool,
}

impl Carrier<'_> {
    const NESTED: Self = Self {
        outer: None,
        udp: false,
    };
}

/// The IP packet around a payload: its addresses, its tunnel depth (0 for the packet after the
/// link layer) and what carries it.
#[derive(Clone, Copy)]
struct Enclosing<'h> {
    src: IpAddr,
    dst: IpAddr,
    depth: usize,
    carrier: Carrier<'h>,
}

impl Enclosing<'_> {
    /// A packet inside a tunnel, `depth` levels down.
    const fn tunnelled(src: IpAddr, dst: IpAddr, depth: usize) -> Self {
        Self {
            src,
            dst,
            depth,
            carrier: Carrier::NESTED,
        }
    }

    /// One level further down, with the same addresses: what AH protects, or what
    /// transport-mode ESP carries (tunnel-mode ESP carries the inner packet's own addresses).
    const fn nested(self) -> Self {
        Self::tunnelled(self.src, self.dst, self.depth + 1)
    }
}

impl<S: Sink> Walk<'_, S> {
    fn emit(&mut self, layer: &Layer<'_>) {
        self.sink.layer(layer);
    }

    fn error(&mut self, proto: &'static str, error: &dyn std::fmt::Display) {
        self.stats.errors += 1;
        self.emit(&Layer::Error { proto, error });
    }

    fn data(&mut self, what: &'static str, bytes: &[u8]) {
        if !bytes.is_empty() {
            self.emit(&Layer::Data {
                what,
                len: bytes.len(),
            });
        }
    }

    /// Reports a layer that failed to decode: in a frame the snapshot length cut, a header that
    /// runs past the capture is [`Layer::Cut`], not an error.
    fn fail(&mut self, proto: &'static str, error: &dmvpn_wire::Error, bytes: &[u8]) {
        if self.cut && is_cut_error(error) {
            self.cut_header(proto, bytes);
        } else {
            self.error(proto, error);
        }
    }

    /// The first bytes of a `proto` header that the snapshot length cut, maybe none: the fields
    /// that were captured whole (as tshark shows them). Like tshark, a header whose carrier says it
    /// is there is reported even when the cut left none of its bytes.
    fn cut_header(&mut self, proto: &'static str, bytes: &[u8]) {
        let mut fields = [CutField::Number("", 0); MAX_CUT_FIELDS];
        let count = cut_fields(proto, bytes, &mut fields);
        self.emit(&Layer::Cut {
            proto,
            len: bytes.len(),
            fields: fields.get(..count).unwrap_or_default(),
        });
    }

    /// Whether an IP packet of `claimed` bytes (header included), of which fewer were captured,
    /// was cut by the snapshot length rather than lying about its length: it lies inside a packet
    /// already cut, or it fits the frame's length on the wire.
    fn snaplen_cut(&mut self, claimed: usize) -> bool {
        if !self.cut && self.link_header_len.saturating_add(claimed) <= self.wire_len {
            self.cut = true;
            self.sink.truncated();
        }
        self.cut
    }

    /// An IP header that ends past the captured bytes of a frame that was longer on the wire: the
    /// snapshot length cut it (what follows is reported as [`Layer::Cut`]).
    fn header_cut(&mut self, error: &dmvpn_wire::Error, captured: usize) {
        let cut_here = matches!(error, dmvpn_wire::Error::Truncated { .. })
            && self.link_header_len.saturating_add(captured) < self.wire_len;
        if cut_here && !self.cut {
            self.cut = true;
            self.sink.truncated();
        }
    }

    /// The outer IPv4 packet: reassembled if it is a fragment, then its payload.
    fn outer_ipv4(
        &mut self,
        frame: &Frame<'_>,
        reassembler: &mut Reassembler,
        bytes: &[u8],
        buffers: &mut [Vec<u8>],
    ) {
        let Some((packet, header)) = self.parse_ipv4(bytes) else {
            return;
        };
        let at = Enclosing {
            src: IpAddr::V4(header.src),
            dst: IpAddr::V4(header.dst),
            depth: 0,
            carrier: Carrier {
                outer: Some(&header),
                udp: false,
            },
        };
        match reassembler.push(frame.timestamp, frame.number, &header, packet.payload()) {
            Reassembly::Unfragmented(payload) => {
                self.emit(&Layer::Ipv4 {
                    header: &header,
                    fragments: None,
                });
                self.ip_payload(header.protocol, at, payload, buffers);
            }
            Reassembly::Complete {
                payload, fragments, ..
            } => {
                self.emit(&Layer::Ipv4 {
                    header: &header,
                    fragments: Some(fragments),
                });
                self.ip_payload(header.protocol, at, payload, buffers);
            }
            Reassembly::Buffered { fragments } => {
                self.emit(&Layer::Ipv4 {
                    header: &header,
                    fragments: None,
                });
                self.emit(&Layer::Fragment(&format_args!(
                    "buffered, {fragments} fragments so far"
                )));
            }
            Reassembly::Dropped(reason) => {
                self.emit(&Layer::Ipv4 {
                    header: &header,
                    fragments: None,
                });
                self.emit(&Layer::Fragment(&format_args!("dropped: {reason}")));
                // A first fragment cut by the snapshot length cannot be reassembled, but its
                // headers are there (tshark dissects them too); a later one holds no header.
                if self.cut && header.frag_offset == 0 {
                    self.ip_payload(header.protocol, at, packet.payload(), buffers);
                }
            }
        }
    }

    /// An IPv4 packet inside a tunnel. Tunnels carry whole packets; a fragment inside one is
    /// reported, not reassembled.
    /// The view and header of an IPv4 packet, or `None` after reporting why not. A wrong header
    /// checksum is not fatal: captures on the sending host often show checksums the NIC had not
    /// filled in yet.
    fn parse_ipv4<'b>(
        &mut self,
        bytes: &'b [u8],
    ) -> Option<(ipv4::Packet<&'b [u8]>, ipv4::Repr<'b>)> {
        let checked = match ipv4::Packet::new_checked(bytes) {
            Ok(packet) => Ok(packet),
            // Cut by the snapshot length (not a total length past what was on the wire): decode
            // what was captured.
            Err(error) => match ipv4::Packet::new_truncated(bytes) {
                Ok(packet) if self.snaplen_cut(usize::from(packet.total_len())) => Ok(packet),
                _ => Err(error),
            },
        };
        let parsed = checked.and_then(|packet| {
            let header = ipv4::Repr::parse(&packet, ipv4::ChecksumMode::Ignore)?;
            Ok((packet, header))
        });
        match parsed {
            Ok(parsed) => Some(parsed),
            Err(error) => {
                self.header_cut(&error, bytes.len());
                self.fail("ipv4", &error, bytes);
                None
            }
        }
    }

    fn inner_ipv4(&mut self, bytes: &[u8], buffers: &mut [Vec<u8>], depth: usize) {
        let Some((packet, header)) = self.parse_ipv4(bytes) else {
            return;
        };
        self.emit(&Layer::Ipv4 {
            header: &header,
            fragments: None,
        });
        if header.frag_offset != 0 {
            return self.data("ipv4 fragment", packet.payload());
        }
        let (src, dst) = (IpAddr::V4(header.src), IpAddr::V4(header.dst));
        let at = Enclosing::tunnelled(src, dst, depth);
        self.ip_payload(header.protocol, at, packet.payload(), buffers);
    }

    /// An IPv6 packet: after the link layer (`depth` 0), or inside a tunnel (IPv4 or IPv6
    /// protocol 41, GRE 0x86DD, PPP 0x0057, MPLS). A fragment after the first is shown as data,
    /// not reassembled. As for IPv4, a header cut by the snapshot length is decoded as far as it
    /// was captured; after the link layer, it marks the frame cut.
    fn ipv6(&mut self, bytes: &[u8], buffers: &mut [Vec<u8>], depth: usize) {
        let parsed =
            ipv6::Repr::parse(bytes).or_else(|error| match ipv6::Repr::parse_truncated(bytes) {
                Ok(header)
                    if header.is_truncated()
                        && self.snaplen_cut(ipv6::HEADER_LEN + usize::from(header.payload_len)) =>
                {
                    Ok(header)
                }
                _ => Err(error),
            });
        let header = match parsed {
            Ok(header) => header,
            Err(error) => {
                if depth == 0 {
                    self.header_cut(&error, bytes.len());
                }
                return self.fail("ipv6", &error, bytes);
            }
        };
        self.emit(&Layer::Ipv6(&header));
        if header.fragment.is_some_and(|fragment| fragment.offset != 0) {
            return self.data("ipv6 fragment", header.payload);
        }
        let (src, dst) = (IpAddr::V6(header.src), IpAddr::V6(header.dst));
        let at = Enclosing::tunnelled(src, dst, depth);
        self.ip_payload(header.protocol, at, header.payload, buffers);
    }

    /// The payload of an IP packet by protocol number.
    fn ip_payload(
        &mut self,
        protocol: ipv4::Protocol,
        at: Enclosing<'_>,
        bytes: &[u8],
        buffers: &mut [Vec<u8>],
    ) {
        let depth = at.depth;
        match protocol {
            ipv4::Protocol::ESP => self.esp(at, bytes, buffers),
            ipv4::Protocol::GRE => self.gre(bytes, buffers, depth),
            ipv4::Protocol::UDP => self.udp(at, bytes, buffers),
            ipv4::Protocol::TCP => match Tcp::parse(bytes) {
                Ok(tcp) => {
                    self.emit(&Layer::Tcp(&tcp));
                    self.data(
                        "tcp payload",
                        bytes.get(tcp.header_len..).unwrap_or_default(),
                    );
                }
                Err(error) => self.fail("tcp", &error, bytes),
            },
            ipv4::Protocol::ICMP => match Icmp::parse(bytes) {
                Ok(icmp) => self.emit(&Layer::Icmp(&icmp)),
                Err(error) => self.fail("icmp", &error, bytes),
            },
            ipv4::Protocol::IPV4 if depth < MAX_NESTING => {
                self.inner_ipv4(bytes, buffers, depth + 1)
            }
            ipv4::Protocol::EIGRP => self.eigrp(bytes),
            ipv4::Protocol::AH if depth < MAX_NESTING => match Ah::parse(bytes) {
                Ok(ah) => {
                    self.emit(&Layer::Ah(&ah));
                    let payload = bytes.get(ah.header_len..).unwrap_or_default();
                    self.ip_payload(
                        ipv4::Protocol(ah.next_header),
                        at.nested(),
                        payload,
                        buffers,
                    );
                }
                Err(error) => self.fail("ah", &error, bytes),
            },
            // RFC 2332 §3: NHRP may run directly over IP (protocol 54).
            ipv4::Protocol::NHRP => self.nhrp(bytes),
            ipv4::Protocol::IPV6 if depth < MAX_NESTING => self.ipv6(bytes, buffers, depth + 1),
            ipv4::Protocol::IPV4 | ipv4::Protocol::IPV6 | ipv4::Protocol::AH => {
                self.nesting_limit("ip payload", bytes)
            }
            _ => self.data("ip payload", bytes),
        }
    }

    fn udp(&mut self, at: Enclosing<'_>, bytes: &[u8], buffers: &mut [Vec<u8>]) {
        let datagram = match udp::Packet::new_checked(bytes) {
            Ok(datagram) => datagram,
            Err(error) => match udp::Packet::new_truncated(bytes) {
                Ok(datagram) if self.cut => datagram,
                _ => return self.fail("udp", &error, bytes),
            },
        };
        let (src_port, dst_port) = (datagram.src_port(), datagram.dst_port());
        self.emit(&Layer::Udp {
            src_port,
            dst_port,
            len: if datagram.is_truncated() {
                usize::from(datagram.len())
            } else {
                bytes.len()
            },
        });
        // A datagram cut right after its header: nothing to tell by port (tshark calls no
        // dissector for it either).
        if self.cut && datagram.payload().is_empty() {
            return;
        }
        match udp::classify(src_port, dst_port, datagram.payload()) {
            udp::Payload::Esp(esp) => {
                let carrier = Carrier {
                    udp: true,
                    ..at.carrier
                };
                self.esp(Enclosing { carrier, ..at }, esp, buffers);
            }
            udp::Payload::NatKeepalive => self.emit(&Layer::NatKeepalive),
            udp::Payload::Gre(gre) => self.gre(gre, buffers, at.depth),
            udp::Payload::Ike {
                non_esp_marker,
                message,
            } => {
                if non_esp_marker {
                    self.emit(&Layer::NonEspMarker);
                }
                self.isakmp(message);
            }
            udp::Payload::Other(payload) => self.data("udp payload", payload),
        }
    }

    fn isakmp(&mut self, bytes: &[u8]) {
        if self.cut && isakmp_cut_short(bytes) {
            return self.isakmp_cut(bytes);
        }
        // Bytes after the header's length are reported after the message, not fatal.
        match isakmp::AnyMessage::parse_trailing(bytes).map(|(message, _)| message) {
            Ok(isakmp::AnyMessage::V2(message)) => self.ikev2(&message, bytes),
            Ok(isakmp::AnyMessage::V1(message)) => {
                let outcome = self.ike.process(&message);
                if outcome.plaintext.is_some() {
                    self.stats.isakmp_decrypted += 1;
                }
                self.emit(&Layer::Isakmp(&IsakmpLayer {
                    message: &message,
                    plaintext: outcome.plaintext.as_deref(),
                    decrypt_error: outcome.error.as_ref(),
                    nat_d: outcome.nat_d,
                    truncated: false,
                    ikev2: None,
                }));
                self.data(
                    "isakmp trailer",
                    bytes
                        .get(message.header.length as usize..)
                        .unwrap_or_default(),
                );
            }
            Err(error) => self.error("isakmp", &error),
        }
    }

    /// An IKEv2 message: decrypted when its SA has keys, reported as an ISAKMP layer (tshark's
    /// protocol for both versions) with its IKEv2 part.
    fn ikev2(&mut self, message: &isakmp::v2::Message<'_>, bytes: &[u8]) {
        let outcome = self.ike.process_v2(message);
        self.sas.learn(&outcome.esp);
        if outcome.inner.is_some() {
            self.stats.isakmp_decrypted += 1;
        }
        let generic = isakmp::Message {
            header: isakmp::Header::read(&isakmp::Packet::new_unchecked(message.bytes)),
            body: message.body,
        };
        let table = self.ike.v2_table();
        let key = table.get(&(message.header.initiator_spi, message.header.responder_spi));
        let v2 = Ikev2Layer {
            message,
            key,
            inner: outcome.inner.as_ref(),
            reassembled: outcome
                .reassembled
                .as_ref()
                .map(|(first, chain)| (*first, chain.as_slice())),
            decrypt_error: outcome.error.as_ref(),
        };
        self.emit(&Layer::Isakmp(&IsakmpLayer {
            message: &generic,
            plaintext: None,
            decrypt_error: None,
            nat_d: None,
            truncated: false,
            ikev2: Some(&v2),
        }));
        self.data(
            "isakmp trailer",
            bytes.get(message.bytes.len()..).unwrap_or_default(),
        );
    }

    fn esp(&mut self, at: Enclosing<'_>, bytes: &[u8], buffers: &mut [Vec<u8>]) {
        self.stats.esp += 1;
        if self.cut {
            return self.esp_cut(bytes);
        }
        let Some((buffer, deeper)) = buffers.split_first_mut() else {
            self.emit(&Layer::NestingLimit { limit: MAX_NESTING });
            return self.data("esp nested too deep", bytes);
        };
        let (layer, inner) = match self.sas.decrypt(at.src, at.dst, bytes, buffer) {
            Ok(result) => result,
            Err(error) => return self.error("esp", &error),
        };
        match layer.status {
            EspStatus::Decrypted { .. } => self.stats.esp_decrypted += 1,
            EspStatus::NoKey => self.stats.esp_no_key += 1,
            EspStatus::IcvFailed => self.stats.esp_icv_failed += 1,
            EspStatus::BadTrailer | EspStatus::Truncated | EspStatus::Cut { .. } => {}
        }
        if layer.replayed {
            self.stats.esp_replayed += 1;
        }
        self.emit(&Layer::Esp(&layer));
        let Some(esp::Plaintext { next_header, range }) = inner else {
            return self.data("esp", bytes.get(8..).unwrap_or_default());
        };
        let payload = buffer.get(range).unwrap_or_default();
        self.sink.decrypted(&Decrypted {
            esp: &layer,
            depth: at.depth,
            outer: at.carrier.outer,
            link_header_len: self.link_header_len,
            udp_encapsulated: at.carrier.udp,
            next_header,
            payload,
        });
        self.ip_payload(ipv4::Protocol(next_header), at.nested(), payload, deeper);
    }

    fn gre(&mut self, bytes: &[u8], buffers: &mut [Vec<u8>], depth: usize) {
        if bytes.get(1).is_some_and(|flags| flags & 0x07 == 1) {
            return self.gre_enhanced(bytes, buffers, depth);
        }
        let packet = gre::Packet::new_unchecked(bytes);
        let (repr, payload) = match gre::Repr::parse(&packet) {
            Ok(repr) => (repr, packet.payload()),
            Err(error) => match gre_cut(bytes).filter(|_| self.cut) {
                Some((repr, Some(payload))) => (repr, payload),
                // The header itself is cut: nothing of the payload to hand on.
                Some((repr, None)) => return self.emit(&Layer::Gre(&repr)),
                None => return self.fail("gre", &error, bytes),
            },
        };
        self.emit(&Layer::Gre(&repr));
        match repr.protocol {
            gre::Protocol::IPV4 if depth < MAX_NESTING => {
                self.inner_ipv4(payload, buffers, depth + 1)
            }
            gre::Protocol::NHRP => self.nhrp(payload),
            gre::Protocol::MPLS | gre::Protocol::MPLS_MULTICAST => {
                let at = bytes.len().saturating_sub(payload.len());
                self.gre_mpls(payload, at, buffers, depth)
            }
            gre::Protocol::IPV6 if depth < MAX_NESTING => self.ipv6(payload, buffers, depth + 1),
            gre::Protocol::IPV4 | gre::Protocol::IPV6 => self.nesting_limit("gre payload", payload),
            gre::Protocol::TRANSPARENT_ETHERNET_BRIDGING
            | gre::Protocol::ERSPAN
            | gre::Protocol::ERSPAN_III => {
                let at = bytes.len().saturating_sub(payload.len());
                self.gre_ethernet(&repr, payload, at, buffers, depth)
            }
            _ => self.data("gre payload", payload),
        }
    }

    fn nhrp(&mut self, bytes: &[u8]) {
        if self.cut {
            return self.nhrp_cut(bytes);
        }
        let parsed = nhrp::Packet::new_checked(bytes).and_then(|packet| nhrp::Repr::parse(&packet));
        match parsed {
            Ok(repr) => {
                self.emit(&Layer::Nhrp(&repr));
                self.data(
                    "nhrp trailer",
                    bytes.get(repr.buffer_len()..).unwrap_or_default(),
                );
            }
            Err(error) => {
                // The fixed header as far as it goes (its op type, as tshark shows), then why the
                // packet does not parse.
                if let Some(header) = nhrp::lax::parse(bytes).header {
                    self.emit(&Layer::NhrpHeader(&header));
                }
                self.error("nhrp", &error)
            }
        }
    }

    fn eigrp(&mut self, bytes: &[u8]) {
        if self.cut {
            return self.eigrp_cut(bytes);
        }
        self.eigrp_checked(bytes);
    }
}

/// Decoding what the snapshot length left of a packet.
impl<S: Sink> Walk<'_, S> {
    /// ESP cut short: its SPI and sequence number as far as they were captured. Decryption needs
    /// the whole packet (ICV, padding), so it is not tried, and the SA's replay window is left alone.
    fn esp_cut(&mut self, bytes: &[u8]) {
        let word = |at: usize| {
            let word = bytes.get(at..at + 4)?;
            Some(u32::from_be_bytes([word[0], word[1], word[2], word[3]]))
        };
        let Some(spi) = word(0) else {
            return self.cut_header("esp", bytes);
        };
        let seq = word(4);
        self.emit(&Layer::Esp(&EspLayer {
            spi,
            seq: seq.unwrap_or_default(),
            status: EspStatus::Cut {
                seq_captured: seq.is_some(),
            },
            replayed: false,
        }));
        self.data("esp", bytes.get(8..).unwrap_or_default());
    }

    /// NHRP cut short: what [`nhrp::lax::parse`] could decode, the rest as data.
    fn nhrp_cut(&mut self, bytes: &[u8]) {
        let lax = nhrp::lax::parse(bytes);
        let decoded = match (&lax.repr, &lax.header) {
            (Some(repr), _) => {
                self.emit(&Layer::Nhrp(repr));
                repr.buffer_len()
            }
            (None, Some(header)) => {
                self.emit(&Layer::NhrpHeader(header));
                nhrp::header::field::OP_TYPE + 1
            }
            (None, None) => return self.cut_header("nhrp", bytes),
        };
        if let Some(stop) = &lax.stop
            && !is_cut_error(stop)
        {
            return self.error("nhrp", stop);
        }
        self.data("nhrp", bytes.get(decoded..).unwrap_or_default());
    }

    /// EIGRP cut short: the header and the TLVs that are whole, the rest as data.
    fn eigrp_cut(&mut self, bytes: &[u8]) {
        let packet = match eigrp::Packet::new_checked(bytes) {
            Ok(packet) => packet,
            Err(error) => return self.fail("eigrp", &error, bytes),
        };
        let rest = bytes.get(eigrp::HEADER_LEN..).unwrap_or_default();
        // TLVs are type (2), length (2, header included), value.
        let mut whole = 0;
        while let Some(header) = rest.get(whole..whole + 4) {
            let len = usize::from(u16::from_be_bytes([header[2], header[3]]));
            if len < 4 || whole + len > rest.len() {
                break;
            }
            whole += len;
        }
        let (tlvs, stop) = match eigrp::Tlvs::parse(&rest[..whole], eigrp::HEADER_LEN) {
            Ok(tlvs) => (tlvs, None),
            Err(error) => (eigrp::Tlvs::new(&[]), Some(error)),
        };
        let repr = eigrp::Repr::with_header(&packet, tlvs);
        self.emit(&Layer::Eigrp(&repr));
        match stop {
            Some(error) => self.error("eigrp", &error),
            None => self.data("eigrp", &rest[whole..]),
        }
    }

    /// ISAKMP cut short: the header and the payloads that are whole. It is not decrypted (the
    /// ciphertext is cut), nor handed to the IKE state, whose IVs chain through whole messages.
    fn isakmp_cut(&mut self, bytes: &[u8]) {
        let packet = isakmp::Packet::new_unchecked(bytes);
        if bytes.len() < isakmp::header::HEADER_LEN || !matches!(packet.major_version(), 1 | 2) {
            return self.cut_header("isakmp", bytes);
        }
        let message = isakmp::Message {
            header: isakmp::Header::read(&packet),
            body: bytes.get(isakmp::header::HEADER_LEN..).unwrap_or_default(),
        };
        self.emit(&Layer::Isakmp(&IsakmpLayer {
            message: &message,
            plaintext: None,
            decrypt_error: None,
            nat_d: None,
            truncated: true,
            ikev2: None,
        }));
    }
}

/// The most fields [`cut_fields`] reports.
const MAX_CUT_FIELDS: usize = 6;

/// The fields of a `proto` header cut after `bytes`, each one only if all its bytes are there;
/// returns how many it wrote into `out`. Names are those of the whole layer's JSON.
fn cut_fields(proto: &str, bytes: &[u8], out: &mut [CutField; MAX_CUT_FIELDS]) -> usize {
    let number = |name, at: std::ops::Range<usize>| {
        let field = bytes.get(at)?;
        let value = field
            .iter()
            .fold(0_u64, |value, &b| value << 8 | u64::from(b));
        Some(CutField::Number(name, value))
    };
    let ipv4 = |name, at: usize| {
        let octets: [u8; 4] = bytes.get(at..at + 4)?.try_into().ok()?;
        Some(CutField::Address(name, IpAddr::from(octets)))
    };
    let ipv6 = |name, at: usize| {
        let octets: [u8; 16] = bytes.get(at..at + 16)?.try_into().ok()?;
        Some(CutField::Address(name, IpAddr::from(octets)))
    };
    let fields: [Option<CutField>; MAX_CUT_FIELDS] = match proto {
        // tshark reads the acknowledgement number (bytes 12 to 16) before it shows any field.
        "eigrp" if bytes.len() < 16 => [None; MAX_CUT_FIELDS],
        "ipv4" => [
            number("ttl", 8..9),
            number("protocol", 9..10),
            ipv4("src", 12),
            ipv4("dst", 16),
            None,
            None,
        ],
        "ipv6" => [
            number("next_header", 6..7),
            ipv6("src", 8),
            ipv6("dst", 24),
            None,
            None,
            None,
        ],
        "udp" | "tcp" => [
            number("sport", 0..2),
            number("dport", 2..4),
            None,
            None,
            None,
            None,
        ],
        "gre" => [number("protocol", 2..4), None, None, None, None, None],
        "eigrp" => [
            number("opcode", 1..2),
            number("seq", 8..12),
            number("ack", 12..16),
            number("as", 18..20),
            None,
            None,
        ],
        "nhrp" => [
            number("hop_count", 9..10),
            number("packet_size", 10..12),
            None,
            None,
            None,
            None,
        ],
        _ => [None; MAX_CUT_FIELDS],
    };
    let mut count = 0;
    for (slot, field) in out.iter_mut().zip(fields.into_iter().flatten()) {
        *slot = field;
        count += 1;
    }
    count
}

/// Whether an ISAKMP message in a cut frame is itself cut: fewer bytes than its header, or than
/// its `length` says.
fn isakmp_cut_short(bytes: &[u8]) -> bool {
    match bytes.get(24..28) {
        Some(length) => {
            let length = u32::from_be_bytes([length[0], length[1], length[2], length[3]]);
            usize::try_from(length).map_or(true, |length| length > bytes.len())
        }
        None => true,
    }
}

/// Whether a decoder stopped because the bytes ran out (as a snapshot length cuts them), not at
/// a wrong value.
fn is_cut_error(error: &dmvpn_wire::Error) -> bool {
    matches!(
        error,
        dmvpn_wire::Error::Truncated { .. } | dmvpn_wire::Error::BadLength { .. }
    )
}

/// The GRE header of a packet cut short: the protocol, and each optional field that was captured
/// (a checksum cannot be verified), with the payload if the whole header was. `None` for what
/// [`gre::Repr::parse`] rejects whole: a version other than 0, or routing.
fn gre_cut(bytes: &[u8]) -> Option<(gre::Repr, Option<&[u8]>)> {
    if bytes.len() < 4 {
        return None;
    }
    let packet = gre::Packet::new_unchecked(bytes);
    if packet.version() != 0 || packet.routing_present() {
        return None;
    }
    let word = |range: Option<std::ops::Range<usize>>| {
        let word = bytes.get(range?)?;
        Some(u32::from_be_bytes(<[u8; 4]>::try_from(word).ok()?))
    };
    let repr = gre::Repr {
        protocol: packet.protocol(),
        checksum: packet.checksum_present(),
        key: word(packet.key_range()),
        sequence: word(packet.sequence_range()),
    };
    Some((repr, bytes.get(packet.header_len()..)))
}
