//! Decrypted captures: every ESP packet the keys open replaced by its plaintext, for analysts'
//! own tools (`dmvpn decrypt FILE --keys F -o OUT.pcapng`).
//!
//! Each frame of the input is written to a pcapng file with its timestamp and its interface's link
//! type. A frame whose outermost IP packet carries an ESP packet that decrypts and verifies is
//! rewritten:
//!
//! - **Transport mode** (next header GRE, UDP, TCP, …; RFC 4303 §3.1.1): the outer IPv4 header is
//!   kept with its protocol set to the next header, its total length and header checksum
//!   recomputed, followed by the plaintext. For ESP-in-UDP (RFC 3948) the UDP header goes too.
//! - **Tunnel mode** (next header 4 or 41, RFC 4303 §3.1.2): the link-layer header is kept and the
//!   inner packet follows it (the EtherType or SLL protocol switched to IPv6 when needed).
//! - **Fragments**: an ESP datagram that arrived in IPv4 fragments is written, decrypted, on the
//!   frame that completed its reassembly, as one unfragmented packet (MF and offset cleared). The
//!   earlier fragments are written as they were, so frame numbers stay those of the input and a
//!   finding or a `dmvpn decode` line can be looked up in either file.
//!
//! Everything else is written unchanged: packets without a key, with a failed ICV or a bad trailer,
//! dummy packets (next header 59), transport-mode ESP inside IPv6, and ESP nested inside a tunnel.
//!
//! ```
//! use dmvpn::capture::CaptureReader;
//! use dmvpn::decode::Decoder;
//! use dmvpn::keys::EspKeys;
//!
//! let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/../../testdata/dmvpn");
//! let keys = EspKeys::from_file(format!("{dir}/phase1.esp_sa"))?;
//! let mut reader = CaptureReader::open(format!("{dir}/phase1.pcap"))?;
//! let mut out = Vec::new();
//! let stats = dmvpn::decrypt::decrypt(&mut reader, &mut Decoder::new(keys), &mut out)?;
//! assert_eq!(stats.replaced, 28); // all ESP but the packet whose ICV was corrupted
//! assert_eq!(stats.frames, stats.replaced + stats.kept);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

use std::borrow::Cow;
use std::collections::HashMap;
use std::io::{Read, Write};
use std::time::Duration;

use pcap_file::DataLink;
use pcap_file::pcapng::PcapNgWriter;
use pcap_file::pcapng::blocks::enhanced_packet::EnhancedPacketBlock;
use pcap_file::pcapng::blocks::interface_description::{
    InterfaceDescriptionBlock, InterfaceDescriptionOption,
};

use crate::capture::{CaptureError, CaptureReader, Frame, LinkType, Timestamp, ipv4};
use crate::decode::{Decoder, Decrypted, Layer, Sink};

/// IP protocol numbers of the tunnel-mode payloads (IANA "Assigned Internet Protocol Numbers").
const NEXT_HEADER_IPV4: u8 = 4;
const NEXT_HEADER_IPV6: u8 = 41;
/// "No next header": an RFC 4303 §2.6 dummy packet, nothing to write in place of the ESP packet.
const NEXT_HEADER_NONE: u8 = 59;

/// What [`decrypt`] wrote.
#[derive(Clone, Copy, Debug, Default, Eq, PartialEq)]
pub struct DecryptStats {
    /// Frames read and written.
    pub frames: u64,
    /// Frames written with their ESP packet replaced by its plaintext.
    pub replaced: u64,
    /// Of those, frames that completed an IPv4 reassembly.
    pub reassembled: u64,
    /// Frames written unchanged.
    pub kept: u64,
}

/// Why [`decrypt`] stopped.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum DecryptFileError {
    /// The input could not be read.
    #[error(transparent)]
    Capture(#[from] CaptureError),
    /// The output could not be written.
    #[error("decrypt: cannot write the pcapng output: {0}")]
    Write(#[from] pcap_file::PcapError),
}

/// Reads every frame of `reader`, decodes it with `decoder` and writes it to `out` as pcapng,
/// each decrypted ESP packet replaced by its plaintext (see the [module docs](self)).
///
/// # Errors
///
/// A capture that cannot be read, or an output that cannot be written. Frames that do not decode
/// are written unchanged, not reported as errors.
pub fn decrypt<R: Read, W: Write>(
    reader: &mut CaptureReader<R>,
    decoder: &mut Decoder,
    out: W,
) -> Result<DecryptStats, DecryptFileError> {
    let mut writer = Writer::new(out)?;
    let mut rewriter = Rewriter::default();
    let mut stats = DecryptStats::default();
    while let Some(frame) = reader.next_frame()? {
        stats.frames += 1;
        decoder.decode(&frame, &mut rewriter);
        if rewriter.build(&frame) {
            stats.replaced += 1;
            stats.reassembled += u64::from(rewriter.reassembled);
            writer.write(&frame, Some(&rewriter.frame))?;
        } else {
            stats.kept += 1;
            writer.write(&frame, None)?;
        }
    }
    Ok(stats)
}

/// A pcapng writer with one interface per input (interface, link type), timestamps in nanoseconds.
struct Writer<W: Write> {
    pcapng: PcapNgWriter<W>,
    interfaces: HashMap<(u32, u32), u32>,
}

impl<W: Write> Writer<W> {
    fn new(out: W) -> Result<Self, pcap_file::PcapError> {
        Ok(Self {
            pcapng: PcapNgWriter::new(out)?,
            interfaces: HashMap::new(),
        })
    }

    /// Writes `frame`, or `replacement` in its place (with its own length).
    fn write(
        &mut self,
        frame: &Frame<'_>,
        replacement: Option<&[u8]>,
    ) -> Result<(), pcap_file::PcapError> {
        let key = (frame.interface, frame.link_type.0);
        let interface_id = match self.interfaces.get(&key) {
            Some(&id) => id,
            None => {
                let id = u32::try_from(self.interfaces.len()).unwrap_or(u32::MAX);
                self.pcapng.write_pcapng_block(InterfaceDescriptionBlock {
                    linktype: DataLink::from(frame.link_type.0),
                    snaplen: 0,
                    // pcap-file writes timestamps in nanoseconds.
                    options: vec![InterfaceDescriptionOption::IfTsResol(9)],
                })?;
                self.interfaces.insert(key, id);
                id
            }
        };
        // A replaced frame is whole; a kept one keeps its original length (it may have been cut).
        let (data, original_len) = match replacement {
            Some(data) => (data, len_u32(data)),
            None => (frame.data, frame.original_len.max(len_u32(frame.data))),
        };
        self.pcapng.write_pcapng_block(EnhancedPacketBlock {
            interface_id,
            timestamp: duration(frame.timestamp),
            original_len,
            data: Cow::Borrowed(data),
            options: Vec::new(),
        })?;
        Ok(())
    }
}

fn len_u32(data: &[u8]) -> u32 {
    u32::try_from(data.len()).unwrap_or(u32::MAX)
}

/// Time since the epoch; pcapng cannot say "before 1970", so earlier times become the epoch.
fn duration(timestamp: Timestamp) -> Duration {
    u64::try_from(timestamp.secs)
        .map_or(Duration::ZERO, |secs| Duration::new(secs, timestamp.nanos))
}

/// The sink that keeps what is needed to rewrite a frame: the plaintext of its outermost ESP
/// packet, behind a fresh IPv4 header in transport mode.
#[derive(Default)]
struct Rewriter {
    /// Network-layer bytes to write after the link header (header and plaintext, or inner packet).
    network: Vec<u8>,
    /// Whether `network` holds this frame's replacement.
    ready: bool,
    /// The link header's length in the input frame.
    link_header_len: usize,
    /// The EtherType the replacement needs in the link header.
    ethertype: u16,
    /// Whether the replaced datagram was reassembled from fragments.
    reassembled: bool,
    /// Whether the current frame's IPv4 layers so far: none, or the first was (not) reassembled.
    outer_reassembled: Option<bool>,
    /// The output frame.
    frame: Vec<u8>,
}

impl Sink for Rewriter {
    fn frame_start(&mut self, _frame: &Frame<'_>) {
        self.ready = false;
        self.reassembled = false;
        self.outer_reassembled = None;
    }

    fn layer(&mut self, layer: &Layer<'_>) {
        if let Layer::Ipv4 { fragments, .. } = layer {
            // Only the frame's first IPv4 layer can be reassembled; tunnels carry whole packets.
            self.outer_reassembled.get_or_insert(fragments.is_some());
        }
    }

    fn decrypted(&mut self, decrypted: &Decrypted<'_>) {
        if decrypted.depth != 0 || self.ready {
            return;
        }
        self.network.clear();
        self.link_header_len = decrypted.link_header_len;
        match decrypted.next_header {
            NEXT_HEADER_NONE => return,
            NEXT_HEADER_IPV4 | NEXT_HEADER_IPV6 => {
                let version = decrypted.payload.first().map(|byte| byte >> 4);
                self.ethertype = match (decrypted.next_header, version) {
                    (NEXT_HEADER_IPV4, Some(4)) => 0x0800,
                    (NEXT_HEADER_IPV6, Some(6)) => 0x86dd,
                    // A next header that disagrees with the packet's version: leave the frame.
                    _ => return,
                };
                self.network.extend_from_slice(decrypted.payload);
            }
            next_header => {
                let Some(outer) = decrypted.outer else {
                    return; // transport mode over IPv6: not rewritten (see the module docs)
                };
                let header = ipv4::Repr {
                    protocol: ipv4::Protocol(next_header),
                    payload_len: decrypted.payload.len(),
                    more_frags: false,
                    frag_offset: 0,
                    ..*outer
                };
                if header.buffer_len() > usize::from(u16::MAX) {
                    return;
                }
                self.network.resize(header.header_len(), 0);
                header.emit(&mut ipv4::Packet::new_unchecked(&mut self.network[..]));
                self.network.extend_from_slice(decrypted.payload);
                self.ethertype = 0x0800;
            }
        }
        self.reassembled = self.outer_reassembled == Some(true);
        self.ready = true;
    }
}

impl Rewriter {
    /// Builds the output frame from the input frame's link header and the replacement; false when
    /// the frame is to be written unchanged.
    fn build(&mut self, frame: &Frame<'_>) -> bool {
        if !self.ready {
            return false;
        }
        let Some(link) = frame.data.get(..self.link_header_len) else {
            return false;
        };
        self.frame.clear();
        self.frame.extend_from_slice(link);
        let ethertype = self.ethertype.to_be_bytes();
        let len = self.frame.len();
        // Where the link header names the network protocol.
        let field = match frame.link_type {
            LinkType::ETHERNET | LinkType::LINUX_SLL => len.checked_sub(2).map(|at| at..len),
            LinkType::LINUX_SLL2 => Some(0..2),
            LinkType::RAW => None,
            LinkType::IPV4 => return self.ethertype == 0x0800 && self.finish(),
            LinkType::IPV6 => return self.ethertype == 0x86dd && self.finish(),
            // Loopback families differ by OS: rewrite only when the family stays IPv4.
            _ => return self.ethertype == 0x0800 && self.finish(),
        };
        if let Some(slot) = field.and_then(|range| self.frame.get_mut(range)) {
            slot.copy_from_slice(&ethertype);
        }
        self.finish()
    }

    fn finish(&mut self) -> bool {
        self.frame.extend_from_slice(&self.network);
        true
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::capture::Timestamp;
    use crate::decode::{EspLayer, EspStatus};

    const ESP: EspLayer = EspLayer {
        spi: 0x1000,
        seq: 1,
        status: EspStatus::Decrypted {
            next_header: 47,
            pad_len: 0,
            icv_checked: true,
        },
        replayed: false,
    };

    /// Feeds the rewriter one frame whose outer IPv4 header is `outer` and whose ESP payload
    /// decrypted to `next_header` / `payload`; returns the frame it builds, if any.
    fn rewrite(
        link_type: LinkType,
        link: &[u8],
        outer: &ipv4::Repr<'_>,
        depth: usize,
        next_header: u8,
        payload: &[u8],
    ) -> Option<Vec<u8>> {
        let mut data = link.to_vec();
        data.resize(link.len() + outer.buffer_len(), 0);
        let frame = Frame {
            number: 1,
            timestamp: Timestamp::new(1, 0),
            link_type,
            interface: 0,
            data: &data,
            original_len: len_u32(&data),
            offset: 0,
        };
        let mut rewriter = Rewriter::default();
        rewriter.frame_start(&frame);
        rewriter.layer(&Layer::Ipv4 {
            header: outer,
            fragments: None,
        });
        rewriter.decrypted(&Decrypted {
            esp: &ESP,
            depth,
            outer: Some(outer),
            link_header_len: link.len(),
            udp_encapsulated: false,
            next_header,
            payload,
        });
        rewriter.build(&frame).then(|| rewriter.frame.clone())
    }

    fn outer() -> ipv4::Repr<'static> {
        ipv4::Repr {
            dscp: 0,
            ecn: 0,
            ident: 7,
            dont_frag: false,
            more_frags: true,
            frag_offset: 0,
            ttl: 64,
            protocol: ipv4::Protocol::ESP,
            checksum: 0,
            src: [192, 0, 2, 11].into(),
            dst: [192, 0, 2, 1].into(),
            options: &[],
            payload_len: 100,
        }
    }

    const ETHERNET: [u8; 14] = [2, 0, 0, 0, 0, 1, 2, 0, 0, 0, 0, 2, 0x08, 0x00];

    #[test]
    fn transport_mode_fixes_the_outer_header() {
        let gre = [0, 0, 0x20, 0x01, 0xaa, 0xbb];
        let out = rewrite(LinkType::ETHERNET, &ETHERNET, &outer(), 0, 47, &gre).unwrap();
        assert_eq!(out[..14], ETHERNET);
        let ip = ipv4::Packet::new_checked(&out[14..]).unwrap();
        assert_eq!(ip.protocol(), ipv4::Protocol::GRE);
        assert_eq!(usize::from(ip.total_len()), 20 + gre.len());
        assert!(ip.verify_checksum());
        assert!(!ip.more_frags() && ip.frag_offset() == 0);
        assert_eq!((ip.ident(), ip.ttl()), (7, 64));
        assert_eq!(ip.payload(), gre);
    }

    #[test]
    fn tunnel_mode_keeps_the_link_and_switches_its_ethertype() {
        let mut inner6 = [0u8; 40];
        inner6[0] = 0x60;
        let out = rewrite(LinkType::ETHERNET, &ETHERNET, &outer(), 0, 41, &inner6).unwrap();
        assert_eq!(out[12..14], [0x86, 0xdd]);
        assert_eq!(out[14..], inner6);
        // Linux cooked capture v2 names the protocol in its first two bytes.
        let sll2 = [
            0x08, 0x00, 0, 0, 0, 0, 0, 1, 0, 1, 0, 6, 2, 0, 0, 0, 0, 1, 0, 0,
        ];
        let out = rewrite(LinkType::LINUX_SLL2, &sll2, &outer(), 0, 41, &inner6).unwrap();
        assert_eq!(out[..2], [0x86, 0xdd]);
        // A loopback family differs by OS: an IPv6 packet there is left as it was.
        let null = 2u32.to_le_bytes();
        assert!(rewrite(LinkType::NULL, &null, &outer(), 0, 41, &inner6).is_none());
        let mut inner4 = [0u8; 20];
        inner4[0] = 0x45;
        let out = rewrite(LinkType::NULL, &null, &outer(), 0, 4, &inner4).unwrap();
        assert_eq!(out[4..], inner4);
    }

    #[test]
    fn left_alone() {
        let inner4 = [0x45u8; 20];
        // Nested ESP, a dummy packet, a next header that disagrees with the packet's version.
        assert!(rewrite(LinkType::ETHERNET, &ETHERNET, &outer(), 1, 47, &[0; 4]).is_none());
        assert!(rewrite(LinkType::ETHERNET, &ETHERNET, &outer(), 0, 59, &[]).is_none());
        assert!(rewrite(LinkType::ETHERNET, &ETHERNET, &outer(), 0, 41, &inner4).is_none());
        assert!(rewrite(LinkType::RAW, &[], &outer(), 0, 4, &inner4).is_some());
        assert!(rewrite(LinkType::IPV6, &[], &outer(), 0, 4, &inner4).is_none());
    }

    /// The Phase 1 capture with bytes of each frame flipped: rewriting never panics, and what it
    /// builds is always a frame with the original link header.
    #[test]
    fn mutated_frames_never_panic() {
        let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/../../testdata/dmvpn");
        let keys = crate::keys::EspKeys::from_file(format!("{dir}/phase1.esp_sa")).unwrap();
        let mut reader = CaptureReader::open(format!("{dir}/phase1.pcap")).unwrap();
        let mut frames = Vec::new();
        while let Some(frame) = reader.next_frame().unwrap() {
            frames.push((frame.link_type, frame.data.to_vec()));
        }
        let mut decoder = Decoder::new(keys);
        let mut rewriter = Rewriter::default();
        for (number, (link_type, data)) in frames.iter().enumerate() {
            for at in 0..data.len().min(80) {
                let mut bytes = data.clone();
                bytes[at] ^= 0x5a;
                let frame = Frame {
                    number: number as u64 + 1,
                    timestamp: Timestamp::new(1, 0),
                    link_type: *link_type,
                    interface: 0,
                    data: &bytes,
                    original_len: len_u32(&bytes),
                    offset: 0,
                };
                decoder.decode(&frame, &mut rewriter);
                if rewriter.build(&frame) {
                    let link = rewriter.link_header_len.saturating_sub(2);
                    assert_eq!(rewriter.frame[..link], bytes[..link]);
                }
            }
        }
    }
}
