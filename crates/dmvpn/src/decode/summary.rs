//! A counting sink: the decode-only mode, every layer decoded and tallied, nothing printed per frame.

use std::fmt;

use crate::capture::link::LinkHeader;
use crate::capture::{Frame, Timestamp};
use crate::output::Pending;

use super::{EspStatus, Layer, Sink};

/// The kinds of layer [`Summary`] counts, in the order its table lists them.
const KINDS: [&str; 31] = [
    "eth",
    "sll",
    "loopback",
    "raw",
    "ipv4",
    "ipv4 (reassembled)",
    "ipv4_fragment",
    "ipv6",
    "udp",
    "natt_keepalive",
    "non_esp_marker",
    "esp",
    "ah",
    "gre",
    "nhrp",
    "eigrp",
    "isakmp",
    "tcp",
    "icmp",
    "data",
    "error",
    "isakmp (decrypted)",
    "mpls",
    "nesting_limit",
    "ppp",
    "chdlc",
    "fr",
    "nflog",
    "enc",
    "erspan",
    "pflog",
];

/// Where each kind counts in [`Summary::layers`].
mod kind {
    pub(super) const ETH: usize = 0;
    pub(super) const SLL: usize = 1;
    pub(super) const LOOPBACK: usize = 2;
    pub(super) const RAW: usize = 3;
    pub(super) const IPV4: usize = 4;
    pub(super) const IPV4_REASSEMBLED: usize = 5;
    pub(super) const FRAGMENT: usize = 6;
    pub(super) const IPV6: usize = 7;
    pub(super) const UDP: usize = 8;
    pub(super) const NAT_KEEPALIVE: usize = 9;
    pub(super) const NON_ESP_MARKER: usize = 10;
    pub(super) const ESP: usize = 11;
    pub(super) const AH: usize = 12;
    pub(super) const GRE: usize = 13;
    pub(super) const NHRP: usize = 14;
    pub(super) const EIGRP: usize = 15;
    pub(super) const ISAKMP: usize = 16;
    pub(super) const TCP: usize = 17;
    pub(super) const ICMP: usize = 18;
    pub(super) const DATA: usize = 19;
    pub(super) const ERROR: usize = 20;
    pub(super) const ISAKMP_DECRYPTED: usize = 21;
    pub(super) const MPLS: usize = 22;
    pub(super) const NESTING_LIMIT: usize = 23;
    pub(super) const PPP: usize = 24;
    pub(super) const CHDLC: usize = 25;
    pub(super) const FRELAY: usize = 26;
    pub(super) const NFLOG: usize = 27;
    pub(super) const ENC: usize = 28;
    pub(super) const ERSPAN: usize = 29;
    pub(super) const PFLOG: usize = 30;
}

/// A [`Sink`] that counts frames, bytes and layers instead of printing them: what `dmvpn decode`
/// finds in a capture, at the speed of the decoder alone.
///
/// Every frame is decoded exactly as for the text and JSON outputs (the same [`super::Decoder`]
/// walks the same layers); only the per-frame printing is left out. Summaries of shards decoded
/// apart (see [`crate::parallel`]) add up with [`Summary::merge`].
///
/// ```
/// use dmvpn::capture::CaptureReader;
/// use dmvpn::decode::{Decoder, Summary};
/// use dmvpn::keys::EspKeys;
///
/// let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/../../testdata/dmvpn");
/// let mut decoder = Decoder::new(EspKeys::default());
/// let mut reader = CaptureReader::open(format!("{dir}/phase1.pcap"))?;
/// let mut summary = Summary::default();
/// while let Some(frame) = reader.next_frame()? {
///     decoder.decode(&frame, &mut summary);
/// }
/// assert_eq!(summary.frames(), 42);
/// assert_eq!(summary.count("esp"), 29);
/// assert_eq!(summary.esp_no_key(), 29); // no keys: decoded, not decrypted
/// println!("{summary}");
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Clone, Debug, Default, Eq, PartialEq)]
pub struct Summary {
    frames: u64,
    captured_bytes: u64,
    wire_bytes: u64,
    /// The earliest frame time.
    first: Option<Timestamp>,
    /// The latest frame time.
    last: Option<Timestamp>,
    layers: [u64; KINDS.len()],
    esp: [u64; 5],
    esp_replayed: u64,
    /// Frames the snapshot length cut inside a header (see [`Sink::truncated`]).
    truncated: u64,
}

impl Summary {
    /// Frames seen.
    #[must_use]
    pub const fn frames(&self) -> u64 {
        self.frames
    }

    /// Captured bytes of those frames.
    #[must_use]
    pub const fn captured_bytes(&self) -> u64 {
        self.captured_bytes
    }

    /// How many layers of a kind were decoded, by the JSON `"proto"` name (`"esp"`, `"gre"`, …);
    /// `"error"` counts every layer that failed to decode. Unknown names count 0.
    #[must_use]
    pub fn count(&self, proto: &str) -> u64 {
        KINDS
            .iter()
            .position(|&name| name == proto)
            .and_then(|index| self.layers.get(index))
            .copied()
            .unwrap_or(0)
    }

    /// Frames the capture's snapshot length cut inside a header: decoded as far as they go.
    #[must_use]
    pub const fn truncated(&self) -> u64 {
        self.truncated
    }

    /// ESP packets that decrypted (and verified).
    #[must_use]
    pub const fn esp_decrypted(&self) -> u64 {
        self.esp[0]
    }

    /// ESP packets without a key.
    #[must_use]
    pub const fn esp_no_key(&self) -> u64 {
        self.esp[1]
    }

    /// Adds the counts of `other` (a shard of the same capture).
    pub fn merge(&mut self, other: &Self) {
        self.frames += other.frames;
        self.captured_bytes += other.captured_bytes;
        self.wire_bytes += other.wire_bytes;
        self.first = match (self.first, other.first) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        };
        self.last = self.last.max(other.last);
        for (sum, add) in self.layers.iter_mut().zip(other.layers) {
            *sum += add;
        }
        for (sum, add) in self.esp.iter_mut().zip(other.esp) {
            *sum += add;
        }
        self.esp_replayed += other.esp_replayed;
        self.truncated += other.truncated;
    }

    fn esp_index(status: EspStatus) -> usize {
        match status {
            EspStatus::Decrypted { .. } => 0,
            EspStatus::NoKey => 1,
            EspStatus::IcvFailed => 2,
            EspStatus::BadTrailer => 3,
            EspStatus::Truncated | EspStatus::Cut { .. } => 4,
        }
    }
}

impl Sink for Summary {
    fn frame_start(&mut self, frame: &Frame<'_>) {
        self.frames += 1;
        self.captured_bytes += frame.data.len() as u64;
        self.wire_bytes += u64::from(frame.original_len);
        // The earliest and the latest time, not the first and last frame's: captures are not
        // always in time order, and shards decoded apart must add up to the same span.
        let at = frame.timestamp;
        self.first = Some(self.first.map_or(at, |first| first.min(at)));
        self.last = Some(self.last.map_or(at, |last| last.max(at)));
    }

    fn truncated(&mut self) {
        self.truncated += 1;
    }

    fn layer(&mut self, layer: &Layer<'_>) {
        let index = match layer {
            Layer::Link(link) => match link.header {
                LinkHeader::Ethernet(_) => kind::ETH,
                LinkHeader::Sll(_) => kind::SLL,
                LinkHeader::Loopback(_) => kind::LOOPBACK,
                LinkHeader::RawIp => kind::RAW,
                LinkHeader::Ppp(_) => kind::PPP,
                LinkHeader::CiscoHdlc(_) => kind::CHDLC,
                LinkHeader::FrameRelay(_) => kind::FRELAY,
                LinkHeader::Nflog(_) => kind::NFLOG,
                LinkHeader::Enc(_) => kind::ENC,
                LinkHeader::Pflog(_) => kind::PFLOG,
            },
            Layer::Erspan(_) => kind::ERSPAN,
            Layer::Ipv4 {
                fragments: None, ..
            } => kind::IPV4,
            Layer::Ipv4 {
                fragments: Some(_), ..
            } => kind::IPV4_REASSEMBLED,
            Layer::Fragment(_) => kind::FRAGMENT,
            Layer::Ipv6(_) => kind::IPV6,
            Layer::Udp { .. } => kind::UDP,
            Layer::NatKeepalive => kind::NAT_KEEPALIVE,
            Layer::NonEspMarker => kind::NON_ESP_MARKER,
            Layer::Esp(esp) => {
                if let Some(count) = self.esp.get_mut(Self::esp_index(esp.status)) {
                    *count += 1;
                }
                self.esp_replayed += u64::from(esp.replayed);
                kind::ESP
            }
            Layer::Ah(_) => kind::AH,
            Layer::Gre(_) | Layer::GreEnhanced { .. } => kind::GRE,
            Layer::Mpls(_) => kind::MPLS,
            Layer::NestingLimit { .. } => kind::NESTING_LIMIT,
            Layer::Nhrp(_) | Layer::NhrpHeader(_) => kind::NHRP,
            Layer::Eigrp(_) | Layer::EigrpBadChecksum { .. } => kind::EIGRP,
            Layer::Isakmp(isakmp) => {
                let v2_decrypted = isakmp.ikev2.is_some_and(|v2| v2.inner.is_some());
                if (isakmp.plaintext.is_some() || v2_decrypted)
                    && let Some(count) = self.layers.get_mut(kind::ISAKMP_DECRYPTED)
                {
                    *count += 1;
                }
                kind::ISAKMP
            }
            Layer::Tcp(_) => kind::TCP,
            Layer::Icmp(_) => kind::ICMP,
            Layer::Data { .. } => kind::DATA,
            // The first bytes of a header cut short count as that header.
            Layer::Cut { proto, .. } => KINDS
                .iter()
                .position(|name| name == proto)
                .unwrap_or(kind::DATA),
            Layer::Error { .. } => kind::ERROR,
        };
        if let Some(count) = self.layers.get_mut(index) {
            *count += 1;
        }
    }
}

/// Prints nothing per frame: a summary's output is its final table.
impl Pending for Summary {
    fn pending(&self) -> &[u8] {
        &[]
    }

    fn clear_pending(&mut self) {}
}

impl fmt::Display for Summary {
    /// A table: frames, bytes and time span, then each layer kind seen with its count, then ESP by
    /// outcome.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(
            f,
            "{:<20} {:>12}  ({} bytes captured, {} on the wire)",
            "frames", self.frames, self.captured_bytes, self.wire_bytes
        )?;
        if let (Some(first), Some(last)) = (self.first, self.last) {
            let span = last.saturating_duration_since(first);
            writeln!(f, "{:<20} {:>12.6}", "seconds", span.as_secs_f64())?;
        }
        for (name, &count) in KINDS.iter().zip(&self.layers) {
            if count > 0 {
                writeln!(f, "{name:<20} {count:>12}")?;
            }
        }
        let outcomes = [
            "esp decrypted",
            "esp no key",
            "esp ICV failed",
            "esp bad trailer",
            "esp truncated",
        ];
        for (name, &count) in outcomes.iter().zip(&self.esp) {
            if count > 0 {
                writeln!(f, "{name:<20} {count:>12}")?;
            }
        }
        if self.esp_replayed > 0 {
            writeln!(f, "{:<20} {:>12}", "esp replayed", self.esp_replayed)?;
        }
        if self.truncated > 0 {
            writeln!(f, "{:<20} {:>12}", "frames cut (snaplen)", self.truncated)?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::capture::CaptureReader;
    use crate::decode::Decoder;
    use crate::keys::EspKeys;

    const DIR: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../../testdata/dmvpn");

    fn summary(keys: EspKeys) -> Summary {
        let mut decoder = Decoder::new(keys);
        let mut reader = CaptureReader::open(format!("{DIR}/phase1.pcap")).unwrap();
        let mut summary = Summary::default();
        while let Some(frame) = reader.next_frame().unwrap() {
            decoder.decode(&frame, &mut summary);
        }
        summary
    }

    #[test]
    fn counts_what_the_decoder_saw() {
        let plain = summary(EspKeys::default());
        assert_eq!(plain.frames(), 42);
        assert_eq!(plain.count("eth"), 42);
        assert_eq!(plain.count("esp"), 29);
        assert_eq!(plain.esp_no_key(), 29);
        assert_eq!(plain.esp_decrypted(), 0);
        assert_eq!(plain.count("gre"), 1); // one GRE packet in the clear
        assert_eq!(plain.count("no such layer"), 0);

        let keys = EspKeys::from_file(format!("{DIR}/phase1.esp_sa")).unwrap();
        let decrypted = summary(keys);
        assert_eq!(decrypted.esp_decrypted(), 28);
        assert_eq!(decrypted.count("esp"), 29);
        // Every decrypted packet is GRE inside (transport mode).
        assert_eq!(decrypted.count("gre"), 28 + 1);
        let table = decrypted.to_string();
        assert!(table.contains("esp decrypted"), "{table}");
        assert!(table.contains("esp ICV failed"), "{table}");
    }

    #[test]
    fn shards_merge_into_the_whole() {
        let keys = || EspKeys::from_file(format!("{DIR}/phase1.esp_sa")).unwrap();
        let whole = summary(keys());
        let mut reader = CaptureReader::open(format!("{DIR}/phase1.pcap")).unwrap();
        let (mut odd, mut even) = (Summary::default(), Summary::default());
        let mut decoder = Decoder::new(keys());
        while let Some(frame) = reader.next_frame().unwrap() {
            let shard = if frame.number % 2 == 1 {
                &mut odd
            } else {
                &mut even
            };
            decoder.decode(&frame, shard);
        }
        odd.merge(&even);
        assert_eq!(odd, whole);
    }
}
