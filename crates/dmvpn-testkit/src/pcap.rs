//! Writing classic pcap files, for tests and test-data generators that build captures in memory.

/// The pcap link type of Ethernet frames (`LINKTYPE_ETHERNET`).
pub const LINKTYPE_ETHERNET: u32 = 1;

/// A classic little-endian pcap file with microsecond timestamps (magic `0xa1b2c3d4`, version
/// 2.4, zone 0, sigfigs 0, snaplen 65535), built in memory record by record.
///
/// ```
/// use dmvpn_testkit::pcap::{LINKTYPE_ETHERNET, PcapWriter};
///
/// let mut pcap = PcapWriter::new(LINKTYPE_ETHERNET);
/// pcap.record(1_700_000_000, 0, &[0xaa; 60]);
/// let bytes = pcap.into_bytes();
/// assert_eq!(bytes.len(), 24 + 16 + 60);
/// let frames = dmvpn_testkit::parse_capture(&bytes).unwrap();
/// assert_eq!(frames.len(), 1);
/// ```
#[derive(Clone, Debug)]
pub struct PcapWriter {
    out: Vec<u8>,
}

impl PcapWriter {
    /// A file with only the global header, for frames of `linktype`.
    #[must_use]
    pub fn new(linktype: u32) -> Self {
        let mut out = Vec::with_capacity(24);
        out.extend_from_slice(&0xa1b2_c3d4u32.to_le_bytes());
        out.extend_from_slice(&2u16.to_le_bytes());
        out.extend_from_slice(&4u16.to_le_bytes());
        out.extend_from_slice(&[0; 8]);
        out.extend_from_slice(&65535u32.to_le_bytes());
        out.extend_from_slice(&linktype.to_le_bytes());
        Self { out }
    }

    /// Appends a whole frame captured at `secs`.`micros`.
    ///
    /// # Panics
    ///
    /// If the frame is 4 GiB or longer.
    pub fn record(&mut self, secs: u32, micros: u32, frame: &[u8]) {
        self.record_cut(secs, micros, frame, frame.len());
    }

    /// Appends a frame of which only `captured` is in the file, of `wire_len` bytes on the wire.
    ///
    /// # Panics
    ///
    /// If either length is 4 GiB or more.
    pub fn record_cut(&mut self, secs: u32, micros: u32, captured: &[u8], wire_len: usize) {
        self.out.extend_from_slice(&secs.to_le_bytes());
        self.out.extend_from_slice(&micros.to_le_bytes());
        let len = u32::try_from(captured.len()).expect("frame under 4 GiB");
        self.out.extend_from_slice(&len.to_le_bytes());
        let wire = u32::try_from(wire_len).expect("frame under 4 GiB");
        self.out.extend_from_slice(&wire.to_le_bytes());
        self.out.extend_from_slice(captured);
    }

    /// The file's bytes.
    #[must_use]
    pub fn into_bytes(self) -> Vec<u8> {
        self.out
    }
}
