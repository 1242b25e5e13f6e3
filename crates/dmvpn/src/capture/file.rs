//! Streaming pcap and pcapng reader.
//!
//! The reader keeps one buffer that holds the current record (a pcap packet record or a pcapng
//! block) and refills it from the underlying [`Read`] in 128 KiB reads, so a multi-gigabyte file is
//! read in constant memory: the buffer never grows beyond the largest record, which is capped at
//! [`MAX_RECORD_LEN`]. Frames borrow their bytes from that buffer (a lending
//! [`CaptureReader::next_frame`]); no heap allocation happens per frame.
//!
//! The pcap file header is read by the `pcap-file` crate's [`PcapParser`]; its 16-byte record headers
//! are read here, in place (the parser's per-record call cost more than the rest of a decode-only
//! frame's reading). pcapng blocks are framed and
//! decoded here: `pcap-file` 2's pcapng parser reads every Enhanced Packet Block timestamp as
//! nanoseconds whatever the interface's `if_tsresol`, rejects option lists that end without
//! `opt_endofopt`, and allocates an option vector for every packet.
//!
//! A gzip-compressed stream (magic `1f 8b`, RFC 1952, one or more members) is decompressed as it is
//! read, whatever the file's name, as tshark does; byte offsets are then offsets in the decompressed
//! capture. A compressed stream that ends before its end is reported like a capture cut short.
//!
//! Formats: pcap (tcpdump.org `pcap-savefile(5)`, both byte orders, micro- and nanosecond
//! magic) and pcapng (draft-ietf-opsawg-pcapng: Section Header, Interface Description, Enhanced,
//! Simple and obsolete Packet blocks; other blocks are skipped; several sections and interfaces
//! with their own link types and timestamp resolutions).

use core::fmt;
use std::fs::File;
use std::io::{self, Read};
use std::path::{Path, PathBuf};

use flate2::read::MultiGzDecoder;
use pcap_file::pcap::PcapParser;
use pcap_file::{Endianness, TsResolution};

use super::Timestamp;

/// The largest pcap record or pcapng block the reader accepts (16 MiB); larger claims are
/// reported as [`CaptureError::TooLarge`] instead of being buffered.
pub const MAX_RECORD_LEN: usize = 16 << 20;

/// At most this many bytes of Decryption Secrets Blocks are held between two `take_secrets`.
const MAX_SECRETS_BYTES: usize = 4 << 20;

/// At most this many interfaces per pcapng section are kept (each costs a few bytes).
const MAX_INTERFACES: usize = 1 << 16;

/// Bytes requested from the underlying reader at a time.
const READ_CHUNK: usize = 128 << 10;

pub use dmvpn_ip::link::LinkType;

/// The container format and its variant, as detected from the magic number.
#[derive(Clone, Copy, Debug, Eq, Hash, PartialEq)]
pub enum Format {
    /// Classic pcap.
    Pcap {
        /// The file was written big-endian (magic `a1 b2 c3 d4` or `a1 b2 3c 4d` on disk).
        big_endian: bool,
        /// Timestamps have nanosecond resolution (magic `a1b23c4d`).
        nanosecond: bool,
    },
    /// pcapng.
    PcapNg,
}

/// A capture interface: the pcap file header's link type, or a pcapng Interface Description Block.
#[derive(Clone, Debug, Eq, PartialEq)]
pub struct Interface {
    /// The link type of every frame on this interface.
    pub link_type: LinkType,
    /// The snapshot length (0 = no limit).
    pub snaplen: u32,
    /// The `if_name` option, if present and valid UTF-8.
    pub name: Option<String>,
    /// `if_tsresol`: bit 7 clear = 10^-n seconds per unit, set = 2^-n (pcapng §4.2); 6 for pcap µs.
    pub ts_resolution: u8,
    /// `if_tsoffset`: seconds added to every timestamp.
    pub ts_offset: i64,
}

/// One captured frame, borrowed from the reader's buffer until the next call.
#[derive(Clone, Copy, Debug, Eq, PartialEq)]
pub struct Frame<'a> {
    /// The frame number, 1-based, as Wireshark counts (`frame.number`).
    pub number: u64,
    /// When the frame was captured.
    pub timestamp: Timestamp,
    /// The frame's link-layer type (per interface in pcapng).
    pub link_type: LinkType,
    /// The pcapng interface index (0 for pcap and Simple Packet Blocks).
    pub interface: u32,
    /// The captured bytes, starting with the link-layer header.
    pub data: &'a [u8],
    /// The length of the frame on the wire (at least `data.len()` in a well-formed file).
    pub original_len: u32,
    /// The byte offset of the frame's record (packet record or block) in the file.
    pub offset: u64,
}

dmvpn_wire::registry! {
    /// Secrets types of pcapng Decryption Secrets Blocks (draft-ietf-opsawg-pcapng §4.7).
    pub struct SecretsType(u32) {
        /// TLS key log (`SSLKEYLOGFILE` lines).
        TLS_KEY_LOG = 0x544c_534b => "TLS key log",
        /// SSH key log.
        SSH_KEY_LOG = 0x5353_484b => "SSH key log",
        /// WireGuard key log.
        WIREGUARD_KEY_LOG = 0x5747_4b4c => "WireGuard key log",
        /// ZigBee network key.
        ZIGBEE_NWK_KEY = 0x5a4e_574b => "ZigBee NWK key",
        /// ZigBee APS key.
        ZIGBEE_APS_KEY = 0x5a41_5053 => "ZigBee APS key",
        /// OPC UA key log.
        OPC_UA_KEY_LOG = 0x5541_4b4c => "OPC UA key log",
        /// IPsec ESP SAs as CSV lines (taken to be Wireshark's `esp_sa` format, see [`crate::keys`]).
        ESP_SA = 0x4553_5053 => "ESP SA",
    }
}

/// The contents of one pcapng Decryption Secrets Block.
#[derive(Clone, Eq, PartialEq)]
pub struct Secrets {
    /// What the data is.
    pub secrets_type: SecretsType,
    /// The secrets, as the block holds them.
    pub data: Vec<u8>,
    /// The number of the first frame after the block.
    pub before_frame: u64,
    /// The byte offset of the block.
    pub offset: u64,
}

impl fmt::Debug for Secrets {
    /// Key material is not printed: only its type and length.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Secrets")
            .field("secrets_type", &self.secrets_type)
            .field(
                "data",
                &format_args!("<{} bytes redacted>", self.data.len()),
            )
            .field("before_frame", &self.before_frame)
            .field("offset", &self.offset)
            .finish()
    }
}

/// Where in a capture file something went wrong.
#[derive(Clone, Copy, Debug, Eq, Hash, PartialEq)]
pub struct Position {
    /// The number the frame being read would have had; `None` in the file header.
    pub frame: Option<u64>,
    /// Byte offset in the file of the record (or field) at fault.
    pub offset: u64,
}

impl fmt::Display for Position {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.frame {
            Some(frame) => write!(f, "frame {frame} (byte offset {})", self.offset),
            None => write!(f, "file header (byte offset {})", self.offset),
        }
    }
}

/// A capture file that cannot be read, located by frame number and byte offset.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum CaptureError {
    /// The file cannot be opened.
    #[error("capture: cannot open {}: {source}", path.display())]
    Open {
        /// The path given.
        path: PathBuf,
        /// The operating system's reason.
        source: io::Error,
    },
    /// Reading failed.
    #[error("capture: read error at {at}: {source}")]
    Io {
        /// Where reading stopped.
        at: Position,
        /// The operating system's reason.
        source: io::Error,
    },
    /// The file is empty.
    #[error("capture: the file is empty")]
    Empty,
    /// The first four bytes are neither a pcap nor a pcapng magic number.
    #[error("capture: not a pcap or pcapng file: magic number {magic:02x?} at byte offset 0")]
    UnknownFormat {
        /// The first bytes of the file (fewer than 4 if it is that short).
        magic: [u8; 4],
    },
    /// The file is gzip-compressed and its compressed stream ends before its end: the capture
    /// was cut short (at a record boundary of the decompressed capture; a cut inside a record is
    /// [`CaptureError::Truncated`]).
    #[error("capture: {at}: the gzip-compressed stream ends before its end")]
    CompressedTruncated {
        /// Where the decompressed capture stops.
        at: Position,
    },
    /// The file ends inside a header or record.
    #[error(
        "capture: {at}: the file ends inside the {what}: need {needed} bytes, have {available}"
    )]
    Truncated {
        /// Where the cut record starts.
        at: Position,
        /// What was being read.
        what: &'static str,
        /// The bytes the record needs.
        needed: u64,
        /// The bytes left in the file.
        available: u64,
    },
    /// A header field holds a value the format forbids.
    #[error("capture: {at}: field `{field}` has invalid value {value:#x}")]
    InvalidField {
        /// Where the field is.
        at: Position,
        /// The field.
        field: &'static str,
        /// The value found.
        value: u64,
    },
    /// A length field claims more than fits: the record, or [`MAX_RECORD_LEN`].
    #[error("capture: {at}: length field `{field}` says {len} bytes, but at most {max} fit")]
    TooLarge {
        /// Where the length field is.
        at: Position,
        /// The length field.
        field: &'static str,
        /// The length it claims.
        len: u64,
        /// The most that fits.
        max: u64,
    },
    /// A pcapng packet names an interface no Interface Description Block declared.
    #[error(
        "capture: {at}: interface {interface} is not declared ({declared} interfaces in this section)"
    )]
    UnknownInterface {
        /// Where the packet block is.
        at: Position,
        /// The interface index in the block.
        interface: u32,
        /// How many interfaces the section declared.
        declared: usize,
    },
}

impl CaptureError {
    /// An [`CaptureError::InvalidField`] at `offset` (in the file) while reading `frame`.
    const fn invalid_field(
        frame: Option<u64>,
        offset: u64,
        field: &'static str,
        value: u64,
    ) -> Self {
        Self::InvalidField {
            at: Position { frame, offset },
            field,
            value,
        }
    }

    /// Where the error is, if it is inside the file.
    #[must_use]
    pub const fn position(&self) -> Option<Position> {
        match self {
            Self::Io { at, .. }
            | Self::Truncated { at, .. }
            | Self::CompressedTruncated { at }
            | Self::InvalidField { at, .. }
            | Self::TooLarge { at, .. }
            | Self::UnknownInterface { at, .. } => Some(*at),
            Self::Open { .. } | Self::Empty => None,
            Self::UnknownFormat { .. } => Some(Position {
                frame: None,
                offset: 0,
            }),
        }
    }

    /// Whether the capture was cut short (it ends inside a record, or its compressed stream ends
    /// early): every frame before [`CaptureError::position`] is whole. tshark says "appears to have
    /// been cut short in the middle of a packet" for these.
    #[must_use]
    pub const fn is_cut_short(&self) -> bool {
        matches!(
            self,
            Self::Truncated {
                at: Position { frame: Some(_), .. },
                ..
            } | Self::CompressedTruncated { .. }
        )
    }
}

type Result<T, E = CaptureError> = core::result::Result<T, E>;

#[derive(Debug)]
enum State {
    Pcap {
        parser: Option<PcapParser>,
        big_endian: bool,
        nanosecond: bool,
        interface: Interface,
    },
    PcapNg {
        big_endian: bool,
        interfaces: Vec<Interface>,
    },
}

/// Reads frames from a pcap or pcapng stream, one at a time, in bounded memory.
///
/// ```
/// use dmvpn::capture::{CaptureReader, Format, LinkType};
///
/// # fn main() -> Result<(), dmvpn::capture::CaptureError> {
/// # let bytes = dmvpn::capture::fuzzing::example_pcap();
/// let mut reader = CaptureReader::new(&bytes[..])?;
/// assert_eq!(reader.format(), Format::Pcap { big_endian: false, nanosecond: false });
/// let mut count = 0;
/// while let Some(frame) = reader.next_frame()? {
///     count += 1;
///     assert_eq!(frame.number, count);
///     assert_eq!(frame.link_type, LinkType::ETHERNET);
/// }
/// assert_eq!(count, 1);
/// # Ok(())
/// # }
/// ```
#[derive(Debug)]
pub struct CaptureReader<R> {
    input: Input<R>,
    buf: Vec<u8>,
    /// `buf[start..end]` holds unread bytes.
    start: usize,
    end: usize,
    /// File offset of `buf[start]`.
    offset: u64,
    eof: bool,
    /// The gzip stream ended before its end (the end of the decompressed bytes is `eof`).
    gzip_cut: bool,
    /// Set after an error: the stream cannot be resynchronised.
    failed: bool,
    state: State,
    next_number: u64,
    /// Decryption Secrets Blocks read and not yet taken.
    secrets: Vec<Secrets>,
    secrets_bytes: usize,
    /// The frame [`CaptureReader::peek_frame`] read: its number and where its bytes are.
    peeked: Option<Location>,
    /// Whether an error ends the frames like the end of the file (see [`CaptureReader::end_at_errors`]).
    keep_errors: bool,
    /// The error that ended the frames, in that mode.
    error: Option<CaptureError>,
}

/// The stream under the reader: as given, or decompressed.
enum Input<R> {
    Plain(R),
    /// A gzip stream: the bytes already read to see the magic number, then the rest.
    Gzip(Box<MultiGzDecoder<io::Chain<io::Cursor<Vec<u8>>, R>>>),
    /// Only while switching from one to the other.
    Switching,
}

impl<R> fmt::Debug for Input<R> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Plain(_) => "Plain",
            Self::Gzip(_) => "Gzip",
            Self::Switching => "Switching",
        })
    }
}

impl<R: Read> Input<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        match self {
            Self::Plain(input) => input.read(buf),
            Self::Gzip(input) => input.read(buf),
            Self::Switching => Ok(0),
        }
    }
}

impl CaptureReader<File> {
    /// Opens a capture file.
    pub fn open(path: impl AsRef<Path>) -> Result<Self> {
        let path = path.as_ref();
        let file = File::open(path).map_err(|source| CaptureError::Open {
            path: path.to_owned(),
            source,
        })?;
        Self::new(file)
    }
}

impl<R: Read> CaptureReader<R> {
    /// Reads the file header (pcap) or first Section Header Block (pcapng) from `input`.
    pub fn new(input: R) -> Result<Self> {
        let mut reader = Self {
            input: Input::Plain(input),
            buf: Vec::new(),
            start: 0,
            end: 0,
            offset: 0,
            eof: false,
            gzip_cut: false,
            failed: false,
            state: State::Pcap {
                parser: None,
                big_endian: false,
                nanosecond: false,
                interface: pcap_interface(LinkType(0), 0, 6),
            },
            next_number: 1,
            secrets: Vec::new(),
            secrets_bytes: 0,
            peeked: None,
            keep_errors: false,
            error: None,
        };
        let mut available = reader.fill(4, None)?;
        if reader.unread().starts_with(&[0x1f, 0x8b]) {
            reader.decompress();
            available = reader.fill(4, None)?;
        }
        let head = reader.unread();
        let mut magic = [0; 4];
        magic[..available.min(4)].copy_from_slice(&head[..available.min(4)]);
        if available == 0 && reader.gzip_cut {
            return Err(CaptureError::CompressedTruncated {
                at: Position {
                    frame: None,
                    offset: 0,
                },
            });
        }
        if available == 0 {
            return Err(CaptureError::Empty);
        }
        match magic {
            [0x0a, 0x0d, 0x0d, 0x0a] => {
                reader.state = State::PcapNg {
                    big_endian: false,
                    interfaces: Vec::new(),
                };
                if !reader
                    .read_pcapng_block()?
                    .is_some_and(|block| block == BlockKind::Section)
                {
                    return Err(CaptureError::invalid_field(
                        None,
                        0,
                        "block type",
                        u64::from(u32::from_be_bytes(magic)),
                    ));
                }
            }
            [0xa1, 0xb2, 0xc3, 0xd4]
            | [0xd4, 0xc3, 0xb2, 0xa1]
            | [0xa1, 0xb2, 0x3c, 0x4d]
            | [0x4d, 0x3c, 0xb2, 0xa1] => {
                reader.read_pcap_header()?;
            }
            _ if available < 4 => {
                return Err(CaptureError::Truncated {
                    at: Position {
                        frame: None,
                        offset: 0,
                    },
                    what: "magic number",
                    needed: 4,
                    available: available as u64,
                });
            }
            _ => return Err(CaptureError::UnknownFormat { magic }),
        }
        Ok(reader)
    }

    /// Reads the rest of the stream through a gzip decoder, starting with what is buffered.
    fn decompress(&mut self) {
        let head = self.unread().to_vec();
        if let Input::Plain(input) = core::mem::replace(&mut self.input, Input::Switching) {
            self.input = Input::Gzip(Box::new(MultiGzDecoder::new(
                io::Cursor::new(head).chain(input),
            )));
        }
        self.start = 0;
        self.end = 0;
        self.eof = false;
    }

    /// Whether the stream is gzip-compressed (and decompressed as it is read).
    #[must_use]
    pub const fn is_compressed(&self) -> bool {
        matches!(self.input, Input::Gzip(_))
    }

    /// Makes a read error end the frames like the end of the file: [`CaptureReader::next_frame`]
    /// returns `Ok(None)` there, and the error is kept for [`CaptureReader::take_error`]. For
    /// consumers that take the frames of a stream and should finish their work with every whole
    /// frame of a capture that was cut short or damaged (a report, a decrypted copy).
    pub const fn end_at_errors(&mut self) {
        self.keep_errors = true;
    }

    /// The error that ended the frames (see [`CaptureReader::end_at_errors`]), once.
    pub const fn take_error(&mut self) -> Option<CaptureError> {
        self.error.take()
    }

    /// Whether the next frame's record is already read into memory, so that
    /// [`CaptureReader::next_frame`] will not wait for the input (also true at the end of the
    /// stream or after an error). A reader of a live stream can hand on what it has before
    /// blocking for more.
    #[must_use]
    pub fn has_buffered_frame(&self) -> bool {
        if self.peeked.is_some() || self.eof || self.failed {
            return true;
        }
        let unread = self.unread();
        let len = match self.state {
            State::Pcap { big_endian, .. } => {
                (unread.len() >= 16).then(|| 16 + read_u32(unread, 8, big_endian) as usize)
            }
            State::PcapNg { big_endian, .. } => {
                (unread.len() >= 12).then(|| read_u32(unread, 4, big_endian) as usize)
            }
        };
        len.is_some_and(|len| unread.len() >= len)
    }

    /// The detected format.
    #[must_use]
    pub const fn format(&self) -> Format {
        match &self.state {
            State::Pcap {
                big_endian,
                nanosecond,
                ..
            } => Format::Pcap {
                big_endian: *big_endian,
                nanosecond: *nanosecond,
            },
            State::PcapNg { .. } => Format::PcapNg,
        }
    }

    /// The interfaces known so far: the one of a pcap file, or those of the current pcapng section.
    #[must_use]
    pub fn interfaces(&self) -> &[Interface] {
        match &self.state {
            State::Pcap { interface, .. } => core::slice::from_ref(interface),
            State::PcapNg { interfaces, .. } => interfaces,
        }
    }

    /// The number of frames returned so far.
    #[must_use]
    pub const fn frames_read(&self) -> u64 {
        self.next_number - 1
    }

    /// The pcapng Decryption Secrets Blocks read since the last call, in file order.
    ///
    /// A secrets block precedes the packets that need it, so a decoder calls this after each
    /// [`CaptureReader::next_frame`] (it allocates nothing when there are none). At most
    /// 4 MiB of secrets are held between calls; blocks beyond that are dropped.
    pub fn take_secrets(&mut self) -> Vec<Secrets> {
        self.secrets_bytes = 0;
        core::mem::take(&mut self.secrets)
    }

    /// The next frame, `Ok(None)` at the end of the file.
    ///
    /// After an error the reader is fused: it returns `Ok(None)` from then on, because a
    /// damaged length field leaves no reliable way to find the next record.
    pub fn next_frame(&mut self) -> Result<Option<Frame<'_>>> {
        // The hot path of every command, shaped so that the record's location stays in registers.
        // (Testing before taking: `take` alone copies the whole option on every frame.)
        let peeked = if self.peeked.is_some() {
            self.peeked.take()
        } else {
            None
        };
        let location = match peeked {
            Some(location) => location,
            None if self.failed => return Ok(None),
            None => match self.next_frame_location() {
                Ok(Some(location)) => location,
                Ok(None) if !self.gzip_cut => return Ok(None),
                Ok(None) => {
                    let at = self.position();
                    return self
                        .fail(CaptureError::CompressedTruncated { at })
                        .map(|_| None);
                }
                Err(err) => return self.fail(err).map(|_| None),
            },
        };
        let number = self.next_number;
        self.next_number += 1;
        Ok(Some(Frame {
            number,
            timestamp: location.timestamp,
            link_type: location.link_type,
            interface: location.interface,
            data: self.buf.get(location.data).unwrap_or_default(),
            original_len: location.original_len,
            offset: location.offset,
        }))
    }

    /// The frame the next [`CaptureReader::next_frame`] returns, without taking it (for a first
    /// look at a stream that cannot be read twice, such as standard input).
    pub fn peek_frame(&mut self) -> Result<Option<Frame<'_>>> {
        if self.peeked.is_none() {
            // Read it as next_frame does (one caller of the record reader keeps next_frame's hot
            // path in one piece), then give its number back and keep where it is.
            let Some(frame) = self.next_frame()? else {
                return Ok(None);
            };
            let (data, len) = (frame.data.as_ptr() as usize, frame.data.len());
            let location = Location {
                timestamp: frame.timestamp,
                link_type: frame.link_type,
                interface: frame.interface,
                data: 0..0,
                original_len: frame.original_len,
                offset: frame.offset,
            };
            let start = data.wrapping_sub(self.buf.as_ptr() as usize);
            self.next_number -= 1;
            self.peeked = Some(Location {
                data: if len == 0 { 0..0 } else { start..start + len },
                ..location
            });
        }
        let Some(location) = self.peeked.clone() else {
            return Ok(None);
        };
        Ok(Some(Frame {
            number: self.next_number,
            timestamp: location.timestamp,
            link_type: location.link_type,
            interface: location.interface,
            data: self.buf.get(location.data).unwrap_or_default(),
            original_len: location.original_len,
            offset: location.offset,
        }))
    }

    /// Fuses the reader; the error is returned, or kept for [`CaptureReader::take_error`].
    #[cold]
    fn fail(&mut self, err: CaptureError) -> Result<Option<Location>> {
        self.failed = true;
        if self.keep_errors {
            self.error = Some(err);
            return Ok(None);
        }
        Err(err)
    }

    /// Finds the next frame and consumes its record, returning where its bytes are in `buf`.
    fn next_frame_location(&mut self) -> Result<Option<Location>> {
        match self.state {
            State::Pcap { .. } => self.read_pcap_record(),
            State::PcapNg { .. } => loop {
                match self.read_pcapng_block()? {
                    None => return Ok(None),
                    Some(BlockKind::Packet(location)) => return Ok(Some(location)),
                    Some(BlockKind::Section | BlockKind::Other) => {}
                }
            },
        }
    }

    fn position(&self) -> Position {
        Position {
            frame: Some(self.next_number),
            offset: self.offset,
        }
    }

    fn unread(&self) -> &[u8] {
        self.buf.get(self.start..self.end).unwrap_or_default()
    }

    /// Makes at least `want` unread bytes available if the stream has them; returns how many are.
    fn fill(&mut self, want: usize, frame: Option<u64>) -> Result<usize> {
        while self.end - self.start < want && !self.eof {
            if self.start > 0 && self.buf.len() - self.start < want.max(READ_CHUNK) {
                self.buf.copy_within(self.start..self.end, 0);
                self.end -= self.start;
                self.start = 0;
            }
            // Grow with the data that arrives, not with the length a record claims: a damaged
            // length field must not make a small file allocate `MAX_RECORD_LEN`.
            let needed = (self.start + want.max(READ_CHUNK))
                .min(self.end + (self.end - self.start).max(READ_CHUNK));
            if self.buf.len() < needed {
                self.buf.resize(needed, 0);
            }
            let Some(space) = self.buf.get_mut(self.end..) else {
                break;
            };
            match self.input.read(space) {
                Ok(0) => self.eof = true,
                Ok(n) => self.end += n,
                Err(err) if err.kind() == io::ErrorKind::Interrupted => {}
                // The compressed stream was cut: what was decompressed is all there is.
                Err(err)
                    if err.kind() == io::ErrorKind::UnexpectedEof
                        && matches!(self.input, Input::Gzip(_)) =>
                {
                    self.eof = true;
                    self.gzip_cut = true;
                }
                Err(source) => {
                    let offset = self.offset + (self.end - self.start) as u64;
                    return Err(CaptureError::Io {
                        at: Position { frame, offset },
                        source,
                    });
                }
            }
        }
        Ok(self.end - self.start)
    }

    /// Makes exactly `len` bytes of the current record available, or reports the cut.
    fn require(&mut self, len: usize, what: &'static str, frame: Option<u64>) -> Result<()> {
        let available = self.fill(len, frame)?;
        if available < len {
            return Err(CaptureError::Truncated {
                at: Position {
                    frame,
                    offset: self.offset,
                },
                what,
                needed: len as u64,
                available: available as u64,
            });
        }
        Ok(())
    }

    fn consume(&mut self, len: usize) {
        self.start += len;
        self.offset += len as u64;
    }

    fn read_pcap_header(&mut self) -> Result<()> {
        self.require(24, "pcap file header", None)?;
        let (_, parser) =
            PcapParser::new(self.unread()).map_err(|_| CaptureError::UnknownFormat {
                magic: self.unread().first_chunk().copied().unwrap_or_default(),
            })?;
        let header = parser.header();
        let big_endian = header.endianness == Endianness::Big;
        let nanosecond = header.ts_resolution == TsResolution::NanoSecond;
        if header.version_major != 2 {
            return Err(CaptureError::invalid_field(
                None,
                4,
                "version major",
                u64::from(header.version_major),
            ));
        }
        // The link type's upper 16 bits carry the FCS length and flags (pcap-savefile(5)).
        let link_type = LinkType(u32::from(header.datalink) & 0xffff);
        let resolution = if nanosecond { 9 } else { 6 };
        self.state = State::Pcap {
            parser: Some(parser),
            big_endian,
            nanosecond,
            interface: pcap_interface(link_type, header.snaplen, resolution),
        };
        self.consume(24);
        Ok(())
    }

    fn read_pcap_record(&mut self) -> Result<Option<Location>> {
        let State::Pcap {
            parser: Some(_),
            big_endian,
            nanosecond,
            ref interface,
        } = self.state
        else {
            return Ok(None);
        };
        let link_type = interface.link_type;
        let frame = Some(self.next_number);
        if self.fill(16, frame)? == 0 {
            return Ok(None);
        }
        self.require(16, "packet record header", frame)?;
        let header = self.unread();
        let incl_len = read_u32(header, 8, big_endian);
        if incl_len as usize > MAX_RECORD_LEN {
            return Err(CaptureError::TooLarge {
                at: Position {
                    frame,
                    offset: self.offset + 8,
                },
                field: "incl_len",
                len: u64::from(incl_len),
                max: MAX_RECORD_LEN as u64,
            });
        }
        let record_len = 16 + incl_len as usize;
        self.require(record_len, "packet data", frame)?;
        // The record header (pcap-savefile(5)): ts_sec, ts_frac, incl_len, orig_len.
        let header = self.unread();
        let (ts_sec, ts_frac) = (
            read_u32(header, 0, big_endian),
            read_u32(header, 4, big_endian),
        );
        let orig_len = read_u32(header, 12, big_endian);
        let scale = if nanosecond { 1 } else { 1000 };
        let nanos = u64::from(ts_frac) * scale;
        let timestamp = Timestamp::new(
            i64::from(ts_sec) + (nanos / 1_000_000_000) as i64,
            (nanos % 1_000_000_000) as u32,
        );
        let location = Location {
            timestamp,
            link_type,
            interface: 0,
            data: self.start + 16..self.start + record_len,
            original_len: orig_len,
            offset: self.offset,
        };
        self.consume(record_len);
        Ok(Some(location))
    }

    /// Reads one pcapng block; `None` at the end of the file.
    fn read_pcapng_block(&mut self) -> Result<Option<BlockKind>> {
        let State::PcapNg { big_endian, .. } = self.state else {
            return Ok(None);
        };
        let frame = Some(self.next_number);
        if self.fill(12, frame)? == 0 {
            return Ok(None);
        }
        self.require(12, "block header", frame)?;
        let head = self.unread();
        let block_type = read_u32(head, 0, big_endian);
        // A Section Header Block sets the byte order for everything up to the next one.
        let big_endian = if block_type == BLOCK_SECTION {
            match read_u32(head, 8, true) {
                0x1a2b_3c4d => true,
                0x4d3c_2b1a => false,
                magic => {
                    return Err(CaptureError::invalid_field(
                        frame,
                        self.offset + 8,
                        "byte-order magic",
                        u64::from(magic),
                    ));
                }
            }
        } else {
            big_endian
        };
        let total_len = read_u32(head, 4, big_endian);
        let at = Position {
            frame,
            offset: self.offset + 4,
        };
        if !total_len.is_multiple_of(4) || total_len < 12 {
            return Err(CaptureError::InvalidField {
                at,
                field: "block total length",
                value: u64::from(total_len),
            });
        }
        if total_len as usize > MAX_RECORD_LEN {
            return Err(CaptureError::TooLarge {
                at,
                field: "block total length",
                len: u64::from(total_len),
                max: MAX_RECORD_LEN as u64,
            });
        }
        let total = total_len as usize;
        self.require(total, "block", frame)?;
        let trailer = read_u32(self.unread(), total - 4, big_endian);
        if trailer != total_len {
            return Err(CaptureError::invalid_field(
                frame,
                self.offset + total as u64 - 4,
                "trailing block total length",
                u64::from(trailer),
            ));
        }
        let body = self.start + 8..self.start + total - 4;
        let kind = match block_type {
            BLOCK_SECTION => {
                self.read_section(body, big_endian, frame)?;
                BlockKind::Section
            }
            BLOCK_INTERFACE => {
                self.read_interface(body, big_endian, frame)?;
                BlockKind::Other
            }
            BLOCK_DECRYPTION_SECRETS => {
                self.read_secrets(body, big_endian, frame)?;
                BlockKind::Other
            }
            BLOCK_ENHANCED_PACKET | BLOCK_PACKET | BLOCK_SIMPLE_PACKET => {
                BlockKind::Packet(self.read_packet(block_type, body, big_endian, frame)?)
            }
            _ => BlockKind::Other,
        };
        self.consume(total);
        Ok(Some(kind))
    }

    fn read_section(
        &mut self,
        body: core::ops::Range<usize>,
        big_endian: bool,
        frame: Option<u64>,
    ) -> Result<()> {
        let bytes = self.buf.get(body).unwrap_or_default();
        if bytes.len() < 16 {
            return Err(CaptureError::invalid_field(
                frame,
                self.offset + 4,
                "section header block length",
                bytes.len() as u64 + 12,
            ));
        }
        let major = read_u16(bytes, 4, big_endian);
        if major != 1 {
            return Err(CaptureError::invalid_field(
                frame,
                self.offset + 12,
                "major version",
                u64::from(major),
            ));
        }
        self.state = State::PcapNg {
            big_endian,
            interfaces: Vec::new(),
        };
        Ok(())
    }

    fn read_interface(
        &mut self,
        body: core::ops::Range<usize>,
        big_endian: bool,
        frame: Option<u64>,
    ) -> Result<()> {
        let base = self.offset + 8;
        let bytes = self.buf.get(body).unwrap_or_default();
        if bytes.len() < 8 {
            return Err(CaptureError::invalid_field(
                frame,
                self.offset + 4,
                "interface description block length",
                bytes.len() as u64 + 12,
            ));
        }
        let mut interface = Interface {
            link_type: LinkType(u32::from(read_u16(bytes, 0, big_endian))),
            snaplen: read_u32(bytes, 4, big_endian),
            name: None,
            ts_resolution: 6,
            ts_offset: 0,
        };
        for option in options(bytes.get(8..).unwrap_or_default(), big_endian) {
            let (code, value, at) = option.map_err(|at| {
                CaptureError::invalid_field(
                    frame,
                    base + 8 + at as u64,
                    "option length",
                    u64::from(read_u16(bytes, 8 + at + 2, big_endian)),
                )
            })?;
            match (code, value) {
                (OPT_IF_NAME, name) => {
                    interface.name = core::str::from_utf8(name).ok().map(str::to_owned)
                }
                (OPT_IF_TSRESOL, &[resolution]) => {
                    if ts_units(resolution).is_none() {
                        return Err(CaptureError::invalid_field(
                            frame,
                            base + 8 + at as u64 + 4,
                            "if_tsresol",
                            u64::from(resolution),
                        ));
                    }
                    interface.ts_resolution = resolution;
                }
                (OPT_IF_TSOFFSET, value) => {
                    if let Ok(raw) = <[u8; 8]>::try_from(value) {
                        interface.ts_offset = if big_endian {
                            i64::from_be_bytes(raw)
                        } else {
                            i64::from_le_bytes(raw)
                        };
                    }
                }
                _ => {}
            }
        }
        let State::PcapNg { interfaces, .. } = &mut self.state else {
            return Ok(());
        };
        if interfaces.len() >= MAX_INTERFACES {
            return Err(CaptureError::TooLarge {
                at: Position {
                    frame,
                    offset: self.offset,
                },
                field: "interface count",
                len: interfaces.len() as u64 + 1,
                max: MAX_INTERFACES as u64,
            });
        }
        interfaces.push(interface);
        Ok(())
    }

    fn read_secrets(
        &mut self,
        body: core::ops::Range<usize>,
        big_endian: bool,
        frame: Option<u64>,
    ) -> Result<()> {
        let bytes = self.buf.get(body).unwrap_or_default();
        if bytes.len() < 8 {
            return Err(CaptureError::invalid_field(
                frame,
                self.offset + 4,
                "decryption secrets block length",
                bytes.len() as u64 + 12,
            ));
        }
        let secrets_type = SecretsType(read_u32(bytes, 0, big_endian));
        let len = read_u32(bytes, 4, big_endian) as usize;
        let Some(data) = bytes.get(8..8 + len) else {
            return Err(CaptureError::TooLarge {
                at: Position {
                    frame,
                    offset: self.offset + 12,
                },
                field: "secrets length",
                len: len as u64,
                max: bytes.len() as u64 - 8,
            });
        };
        // Secrets nobody takes must not pile up: past the limit they are dropped.
        if self.secrets_bytes + len <= MAX_SECRETS_BYTES {
            self.secrets_bytes += len;
            let secrets = Secrets {
                secrets_type,
                data: data.to_vec(),
                before_frame: self.next_number,
                offset: self.offset,
            };
            self.secrets.push(secrets);
        }
        Ok(())
    }

    fn read_packet(
        &self,
        block_type: u32,
        body: core::ops::Range<usize>,
        big_endian: bool,
        frame: Option<u64>,
    ) -> Result<Location> {
        let State::PcapNg { interfaces, .. } = &self.state else {
            return Err(CaptureError::InvalidField {
                at: self.position(),
                field: "block type",
                value: 0,
            });
        };
        let bytes = self.buf.get(body.clone()).unwrap_or_default();
        let at = |offset: u64| Position {
            frame,
            offset: self.offset + offset,
        };
        let (interface, ts, captured, original, header_len) = match block_type {
            BLOCK_SIMPLE_PACKET => {
                if bytes.len() < 4 {
                    return Err(CaptureError::InvalidField {
                        at: at(4),
                        field: "simple packet block length",
                        value: bytes.len() as u64 + 12,
                    });
                }
                let original = read_u32(bytes, 0, big_endian);
                // The body holds min(original length, snaplen) bytes plus padding (pcapng §4.4).
                let captured = (bytes.len() - 4).min(original as usize);
                (0, None, captured as u32, original, 4)
            }
            _ => {
                if bytes.len() < 20 {
                    return Err(CaptureError::InvalidField {
                        at: at(4),
                        field: "packet block length",
                        value: bytes.len() as u64 + 12,
                    });
                }
                let interface = if block_type == BLOCK_PACKET {
                    u32::from(read_u16(bytes, 0, big_endian))
                } else {
                    read_u32(bytes, 0, big_endian)
                };
                let ts = (u64::from(read_u32(bytes, 4, big_endian)) << 32)
                    | u64::from(read_u32(bytes, 8, big_endian));
                (
                    interface,
                    Some(ts),
                    read_u32(bytes, 12, big_endian),
                    read_u32(bytes, 16, big_endian),
                    20,
                )
            }
        };
        // Only a (Enhanced) Packet Block can claim too much: its captured length is at body
        // offset 12, i.e. 20 bytes into the block.
        if captured as usize > bytes.len() - header_len {
            return Err(CaptureError::TooLarge {
                at: at(8 + 12),
                field: "captured packet length",
                len: u64::from(captured),
                max: (bytes.len() - header_len) as u64,
            });
        }
        let Some(description) = interfaces.get(interface as usize) else {
            return Err(CaptureError::UnknownInterface {
                at: at(8),
                interface,
                declared: interfaces.len(),
            });
        };
        let timestamp = ts.map_or(Timestamp::default(), |ts| convert_ts(ts, description));
        let start = body.start + header_len;
        Ok(Location {
            timestamp,
            link_type: description.link_type,
            interface,
            data: start..start + captured as usize,
            original_len: original,
            offset: self.offset,
        })
    }
}

#[derive(Clone, Debug, Eq, PartialEq)]
struct Location {
    timestamp: Timestamp,
    link_type: LinkType,
    interface: u32,
    data: core::ops::Range<usize>,
    original_len: u32,
    offset: u64,
}

#[derive(Debug, Eq, PartialEq)]
enum BlockKind {
    Section,
    Packet(Location),
    Other,
}

const BLOCK_SECTION: u32 = 0x0a0d_0d0a;
const BLOCK_INTERFACE: u32 = 1;
const BLOCK_PACKET: u32 = 2;
const BLOCK_SIMPLE_PACKET: u32 = 3;
const BLOCK_ENHANCED_PACKET: u32 = 6;
const BLOCK_DECRYPTION_SECRETS: u32 = 0x0000_000a;
const OPT_IF_NAME: u16 = 2;
const OPT_IF_TSRESOL: u16 = 9;
const OPT_IF_TSOFFSET: u16 = 14;

fn pcap_interface(link_type: LinkType, snaplen: u32, ts_resolution: u8) -> Interface {
    Interface {
        link_type,
        snaplen,
        name: None,
        ts_resolution,
        ts_offset: 0,
    }
}

fn read_u16(bytes: &[u8], at: usize, big_endian: bool) -> u16 {
    let raw = bytes
        .get(at..at + 2)
        .and_then(|b| <[u8; 2]>::try_from(b).ok())
        .unwrap_or_default();
    if big_endian {
        u16::from_be_bytes(raw)
    } else {
        u16::from_le_bytes(raw)
    }
}

fn read_u32(bytes: &[u8], at: usize, big_endian: bool) -> u32 {
    let raw = bytes
        .get(at..at + 4)
        .and_then(|b| <[u8; 4]>::try_from(b).ok())
        .unwrap_or_default();
    if big_endian {
        u32::from_be_bytes(raw)
    } else {
        u32::from_le_bytes(raw)
    }
}

/// Iterates pcapng options `(code, value, offset of the option)`; an option that overruns the
/// block yields `Err(offset)`. Stops at `opt_endofopt` or the end.
fn options(
    bytes: &[u8],
    big_endian: bool,
) -> impl Iterator<Item = Result<(u16, &[u8], usize), usize>> {
    let mut at = 0;
    core::iter::from_fn(move || {
        if at + 4 > bytes.len() {
            return None;
        }
        let code = read_u16(bytes, at, big_endian);
        let len = usize::from(read_u16(bytes, at + 2, big_endian));
        if code == 0 {
            return None;
        }
        let option_at = at;
        let Some(value) = bytes.get(at + 4..at + 4 + len) else {
            at = bytes.len();
            return Some(Err(option_at));
        };
        at += 4 + len.next_multiple_of(4);
        Some(Ok((code, value, option_at)))
    })
}

/// Units per second for an `if_tsresol` value, if representable in a `u64`.
fn ts_units(resolution: u8) -> Option<u64> {
    let exponent = u32::from(resolution & 0x7f);
    if resolution & 0x80 == 0 {
        10u64.checked_pow(exponent)
    } else {
        1u64.checked_shl(exponent)
    }
}

fn convert_ts(ts: u64, interface: &Interface) -> Timestamp {
    // `read_interface` rejected resolutions whose units do not fit.
    let units = ts_units(interface.ts_resolution).unwrap_or(1_000_000);
    let secs = ts / units;
    let frac = u128::from(ts % units);
    let nanos = (frac * 1_000_000_000 / u128::from(units)) as u32;
    let secs = i64::try_from(secs)
        .unwrap_or(i64::MAX)
        .saturating_add(interface.ts_offset);
    Timestamp::new(secs, nanos)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A little-endian pcap file header for `link_type`.
    pub(crate) fn pcap_header(link_type: u32, nanosecond: bool) -> Vec<u8> {
        let magic: u32 = if nanosecond { 0xa1b2_3c4d } else { 0xa1b2_c3d4 };
        let mut out = magic.to_le_bytes().to_vec();
        out.extend_from_slice(&2u16.to_le_bytes());
        out.extend_from_slice(&4u16.to_le_bytes());
        out.extend_from_slice(&[0; 8]);
        out.extend_from_slice(&65535u32.to_le_bytes());
        out.extend_from_slice(&link_type.to_le_bytes());
        out
    }

    fn pcap_record(out: &mut Vec<u8>, secs: u32, frac: u32, data: &[u8], original: u32) {
        for word in [secs, frac, data.len() as u32, original] {
            out.extend_from_slice(&word.to_le_bytes());
        }
        out.extend_from_slice(data);
    }

    fn block(out: &mut Vec<u8>, big_endian: bool, ty: u32, body: &[u8]) {
        let padded = body.len().next_multiple_of(4);
        let total = (padded + 12) as u32;
        let word = |v: u32| {
            if big_endian {
                v.to_be_bytes()
            } else {
                v.to_le_bytes()
            }
        };
        out.extend_from_slice(&word(ty));
        out.extend_from_slice(&word(total));
        out.extend_from_slice(body);
        out.resize(out.len() + padded - body.len(), 0);
        out.extend_from_slice(&word(total));
    }

    fn section(big_endian: bool) -> Vec<u8> {
        let mut body = Vec::new();
        let push = |body: &mut Vec<u8>, bytes: &[u8]| body.extend_from_slice(bytes);
        if big_endian {
            push(&mut body, &0x1a2b_3c4du32.to_be_bytes());
            push(&mut body, &1u16.to_be_bytes());
            push(&mut body, &0u16.to_be_bytes());
            push(&mut body, &(-1i64).to_be_bytes());
        } else {
            push(&mut body, &0x1a2b_3c4du32.to_le_bytes());
            push(&mut body, &1u16.to_le_bytes());
            push(&mut body, &0u16.to_le_bytes());
            push(&mut body, &(-1i64).to_le_bytes());
        }
        let mut out = Vec::new();
        block(&mut out, big_endian, BLOCK_SECTION, &body);
        out
    }

    fn interface(big_endian: bool, link_type: u16, options: &[(u16, &[u8])]) -> Vec<u8> {
        let mut body = Vec::new();
        let w16 = |v: u16| {
            if big_endian {
                v.to_be_bytes()
            } else {
                v.to_le_bytes()
            }
        };
        body.extend_from_slice(&w16(link_type));
        body.extend_from_slice(&w16(0));
        body.extend_from_slice(&if big_endian {
            0u32.to_be_bytes()
        } else {
            0u32.to_le_bytes()
        });
        for (code, value) in options {
            body.extend_from_slice(&w16(*code));
            body.extend_from_slice(&w16(value.len() as u16));
            body.extend_from_slice(value);
            body.resize(body.len().next_multiple_of(4), 0);
        }
        if !options.is_empty() {
            body.extend_from_slice(&[0; 4]);
        }
        let mut out = Vec::new();
        block(&mut out, big_endian, BLOCK_INTERFACE, &body);
        out
    }

    fn enhanced(big_endian: bool, interface: u32, ts: u64, data: &[u8]) -> Vec<u8> {
        let word = |v: u32| {
            if big_endian {
                v.to_be_bytes()
            } else {
                v.to_le_bytes()
            }
        };
        let mut body = Vec::new();
        for v in [
            interface,
            (ts >> 32) as u32,
            ts as u32,
            data.len() as u32,
            data.len() as u32 + 4,
        ] {
            body.extend_from_slice(&word(v));
        }
        body.extend_from_slice(data);
        let mut out = Vec::new();
        block(&mut out, big_endian, BLOCK_ENHANCED_PACKET, &body);
        out
    }

    type Row = (u64, Timestamp, LinkType, u32, Vec<u8>, u32);

    fn read_all(bytes: &[u8]) -> Result<Vec<Row>> {
        let mut reader = CaptureReader::new(bytes)?;
        let mut frames = Vec::new();
        while let Some(f) = reader.next_frame()? {
            frames.push((
                f.number,
                f.timestamp,
                f.link_type,
                f.interface,
                f.data.to_vec(),
                f.original_len,
            ));
        }
        Ok(frames)
    }

    #[test]
    fn pcap_both_byte_orders_and_resolutions() {
        for nanosecond in [false, true] {
            let mut file = pcap_header(1, nanosecond);
            pcap_record(&mut file, 10, 999, b"abc", 60);
            pcap_record(&mut file, 11, 0, b"", 0);
            let frames = read_all(&file).unwrap();
            let nanos = if nanosecond { 999 } else { 999_000 };
            assert_eq!(
                frames,
                vec![
                    (
                        1,
                        Timestamp::new(10, nanos),
                        LinkType::ETHERNET,
                        0,
                        b"abc".to_vec(),
                        60
                    ),
                    (2, Timestamp::new(11, 0), LinkType::ETHERNET, 0, vec![], 0),
                ]
            );
            // The same file big-endian.
            let mut be = Vec::new();
            let magic: u32 = if nanosecond { 0xa1b2_3c4d } else { 0xa1b2_c3d4 };
            be.extend_from_slice(&magic.to_be_bytes());
            be.extend_from_slice(&[
                0, 2, 0, 4, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 0, 0, 0, 1,
            ]);
            for word in [10u32, 999, 3, 60] {
                be.extend_from_slice(&word.to_be_bytes());
            }
            be.extend_from_slice(b"abc");
            let mut reader = CaptureReader::new(&be[..]).unwrap();
            assert_eq!(
                reader.format(),
                Format::Pcap {
                    big_endian: true,
                    nanosecond
                }
            );
            let frame = reader.next_frame().unwrap().unwrap();
            assert_eq!(
                (frame.timestamp, frame.data, frame.offset),
                (Timestamp::new(10, nanos), &b"abc"[..], 24)
            );
            assert!(reader.next_frame().unwrap().is_none());
        }
    }

    #[test]
    fn pcap_link_type_ignores_fcs_bits() {
        let mut file = pcap_header(0x1400_0001, false);
        pcap_record(&mut file, 0, 0, b"x", 1);
        assert_eq!(read_all(&file).unwrap()[0].2, LinkType::ETHERNET);
    }

    #[test]
    fn pcapng_interfaces_resolutions_and_byte_orders() {
        for big_endian in [false, true] {
            let mut file = section(big_endian);
            file.extend(interface(big_endian, 1, &[(OPT_IF_NAME, b"eth0")]));
            file.extend(interface(
                big_endian,
                101,
                &[
                    (OPT_IF_TSRESOL, &[9]),
                    (OPT_IF_TSOFFSET, &{
                        if big_endian {
                            100i64.to_be_bytes()
                        } else {
                            100i64.to_le_bytes()
                        }
                    }),
                ],
            ));
            file.extend(interface(
                big_endian,
                113,
                &[(OPT_IF_TSRESOL, &[0x80 | 10])],
            ));
            file.extend(enhanced(big_endian, 0, 1_500_000, b"e0"));
            file.extend(enhanced(big_endian, 1, 2_000_000_001, b"raw"));
            file.extend(enhanced(big_endian, 2, 3 * 1024 + 512, b"sll!"));
            let mut reader = CaptureReader::new(&file[..]).unwrap();
            assert_eq!(reader.format(), Format::PcapNg);
            let mut seen = Vec::new();
            while let Some(f) = reader.next_frame().unwrap() {
                seen.push((
                    f.number,
                    f.timestamp,
                    f.link_type,
                    f.interface,
                    f.data.to_vec(),
                ));
            }
            assert_eq!(
                seen,
                vec![
                    (
                        1,
                        Timestamp::new(1, 500_000_000),
                        LinkType::ETHERNET,
                        0,
                        b"e0".to_vec()
                    ),
                    (2, Timestamp::new(102, 1), LinkType::RAW, 1, b"raw".to_vec()),
                    (
                        3,
                        Timestamp::new(3, 500_000_000),
                        LinkType::LINUX_SLL,
                        2,
                        b"sll!".to_vec()
                    ),
                ]
            );
            assert_eq!(reader.interfaces()[0].name.as_deref(), Some("eth0"));
        }
    }

    #[test]
    fn pcapng_new_section_switches_byte_order_and_resets_interfaces() {
        let mut file = section(false);
        file.extend(interface(false, 1, &[]));
        file.extend(enhanced(false, 0, 0, b"a"));
        file.extend(section(true));
        file.extend(interface(true, 228, &[]));
        file.extend(enhanced(true, 0, 0, b"b"));
        file.extend(enhanced(true, 1, 0, b"c"));
        let mut reader = CaptureReader::new(&file[..]).unwrap();
        assert_eq!(
            reader.next_frame().unwrap().unwrap().link_type,
            LinkType::ETHERNET
        );
        assert_eq!(
            reader.next_frame().unwrap().unwrap().link_type,
            LinkType::IPV4
        );
        let err = reader.next_frame().unwrap_err();
        assert_eq!(
            err.to_string(),
            format!(
                "capture: frame 3 (byte offset {}): interface 1 is not declared (1 interfaces in this section)",
                file.len() - 36 + 8
            )
        );
        // Fused after an error.
        assert!(reader.next_frame().unwrap().is_none());
    }

    #[test]
    fn simple_and_obsolete_packet_blocks() {
        let mut file = section(false);
        file.extend(interface(false, 1, &[]));
        let mut spb = 6u32.to_le_bytes().to_vec();
        spb.extend_from_slice(b"abcdef");
        block(&mut file, false, BLOCK_SIMPLE_PACKET, &spb);
        let mut pb = Vec::new();
        pb.extend_from_slice(&0u16.to_le_bytes());
        pb.extend_from_slice(&0u16.to_le_bytes());
        for v in [0u32, 7_000_001, 2, 2] {
            pb.extend_from_slice(&v.to_le_bytes());
        }
        pb.extend_from_slice(b"pb");
        block(&mut file, false, BLOCK_PACKET, &pb);
        block(&mut file, false, 5, &[0; 8]); // interface statistics: skipped
        let frames = read_all(&file).unwrap();
        assert_eq!(frames[0].4, b"abcdef");
        assert_eq!(frames[0].1, Timestamp::default());
        assert_eq!(frames[1].4, b"pb");
        assert_eq!(frames[1].1, Timestamp::new(7, 1000));
        assert_eq!(frames.len(), 2);
    }

    #[test]
    fn decryption_secrets_blocks() {
        let mut file = section(false);
        file.extend(interface(false, 1, &[]));
        let line = br#""IPv4","*","*","*","NULL","","NULL","""#;
        let mut dsb = 0x4553_5053u32.to_le_bytes().to_vec();
        dsb.extend_from_slice(&(line.len() as u32).to_le_bytes());
        dsb.extend_from_slice(line);
        block(&mut file, false, BLOCK_DECRYPTION_SECRETS, &dsb);
        file.extend(enhanced(false, 0, 0, b"esp"));
        let mut reader = CaptureReader::new(&file[..]).unwrap();
        assert!(reader.take_secrets().is_empty());
        assert!(reader.next_frame().unwrap().is_some());
        let secrets = reader.take_secrets();
        assert_eq!(secrets.len(), 1);
        assert_eq!(
            (
                secrets[0].secrets_type,
                &secrets[0].data[..],
                secrets[0].before_frame
            ),
            (SecretsType::ESP_SA, &line[..], 1)
        );
        assert!(!format!("{secrets:?}").contains("IPv4"));
        assert!(reader.take_secrets().is_empty());
        // A secrets length past the block is an error.
        let mut bad = section(false);
        let mut dsb = 0x4553_5053u32.to_le_bytes().to_vec();
        dsb.extend_from_slice(&100u32.to_le_bytes());
        block(&mut bad, false, BLOCK_DECRYPTION_SECRETS, &dsb);
        assert!(matches!(
            read_all(&bad),
            Err(CaptureError::TooLarge {
                field: "secrets length",
                ..
            })
        ));
    }

    #[test]
    fn header_errors() {
        let cases: [(&[u8], &str); 5] = [
            (b"", "capture: the file is empty"),
            (
                b"\x1f\x8b\x08\x00",
                "capture: file header (byte offset 0): the gzip-compressed stream ends before its end",
            ),
            (
                b"GIF89a",
                "capture: not a pcap or pcapng file: magic number [47, 49, 46, 38] at byte offset 0",
            ),
            (
                b"ab",
                "capture: file header (byte offset 0): the file ends inside the magic number: need 4 bytes, have 2",
            ),
            (
                b"\xd4\xc3\xb2\xa1\x02\x00",
                "capture: file header (byte offset 0): the file ends inside the pcap file header: need 24 bytes, have 6",
            ),
        ];
        for (bytes, text) in cases {
            assert_eq!(CaptureReader::new(bytes).unwrap_err().to_string(), text);
        }
    }

    #[test]
    fn truncation_loop_pcap() {
        let mut file = pcap_header(1, false);
        pcap_record(&mut file, 1, 2, &[0xaa; 20], 20);
        for len in 0..file.len() {
            let result = read_all(&file[..len]);
            let text = match len {
                0 => "capture: the file is empty".to_owned(),
                1..4 => format!(
                    "capture: file header (byte offset 0): the file ends inside the magic number: need 4 bytes, have {len}"
                ),
                4..24 => format!(
                    "capture: file header (byte offset 0): the file ends inside the pcap file header: need 24 bytes, have {len}"
                ),
                24 => {
                    assert_eq!(result.unwrap(), vec![]);
                    continue;
                }
                25..40 => format!(
                    "capture: frame 1 (byte offset 24): the file ends inside the packet record header: need 16 bytes, have {}",
                    len - 24
                ),
                _ => format!(
                    "capture: frame 1 (byte offset 24): the file ends inside the packet data: need 36 bytes, have {}",
                    len - 24
                ),
            };
            assert_eq!(result.unwrap_err().to_string(), text, "prefix {len}");
        }
        assert_eq!(read_all(&file).unwrap().len(), 1);
    }

    #[test]
    fn truncation_loop_pcapng() {
        let mut file = section(false);
        file.extend(interface(false, 1, &[]));
        let packet_at = file.len();
        file.extend(enhanced(false, 0, 5, b"0123456789"));
        for len in 0..file.len() {
            let Err(err) = read_all(&file[..len]) else {
                assert!(
                    len == 28 || len == packet_at,
                    "prefix {len} read without error"
                );
                continue;
            };
            match err {
                CaptureError::Empty => assert_eq!(len, 0),
                CaptureError::Truncated { at, .. } => {
                    let start = if len < 28 {
                        0
                    } else if len < packet_at {
                        28
                    } else {
                        packet_at
                    };
                    assert_eq!(at.offset, start as u64, "prefix {len}");
                }
                other => panic!("prefix {len}: {other}"),
            }
        }
    }

    #[test]
    fn invalid_fields() {
        let mut file = section(false);
        file.extend(interface(false, 1, &[]));
        let mut bad_len = file.clone();
        bad_len.extend_from_slice(&6u32.to_le_bytes());
        bad_len.extend_from_slice(&13u32.to_le_bytes());
        bad_len.extend_from_slice(&[0; 8]);
        assert_eq!(
            read_all(&bad_len).unwrap_err().to_string(),
            "capture: frame 1 (byte offset 52): field `block total length` has invalid value 0xd"
        );
        let mut huge = file.clone();
        huge.extend_from_slice(&6u32.to_le_bytes());
        huge.extend_from_slice(&0xffff_fff0u32.to_le_bytes());
        huge.extend_from_slice(&[0; 8]);
        assert_eq!(
            read_all(&huge).unwrap_err().to_string(),
            "capture: frame 1 (byte offset 52): length field `block total length` says 4294967280 bytes, but at most 16777216 fit"
        );
        let mut trailer = file.clone();
        trailer.extend(enhanced(false, 0, 0, b"abcd"));
        let n = trailer.len();
        trailer[n - 1] = 1;
        assert!(matches!(
            read_all(&trailer).unwrap_err(),
            CaptureError::InvalidField {
                field: "trailing block total length",
                ..
            }
        ));
        let mut caplen = file.clone();
        let mut epb = enhanced(false, 0, 0, b"abcd");
        epb[20..24].copy_from_slice(&9u32.to_le_bytes());
        caplen.extend(epb);
        assert_eq!(
            read_all(&caplen).unwrap_err().to_string(),
            "capture: frame 1 (byte offset 68): length field `captured packet length` says 9 bytes, but at most 4 fit"
        );
        let bad_resol = [
            section(false),
            interface(false, 1, &[(OPT_IF_TSRESOL, &[20])]),
        ]
        .concat();
        assert!(matches!(
            read_all(&bad_resol).unwrap_err(),
            CaptureError::InvalidField {
                field: "if_tsresol",
                ..
            }
        ));
        let bad_option = [section(false), interface(false, 1, &[(OPT_IF_NAME, b"x")])].concat();
        let mut bad_option = bad_option;
        bad_option[28 + 16 + 2] = 200; // option length overruns the block
        assert!(matches!(
            read_all(&bad_option).unwrap_err(),
            CaptureError::InvalidField {
                field: "option length",
                ..
            }
        ));
        let mut pcap = pcap_header(1, false);
        pcap[4] = 3;
        assert_eq!(
            CaptureReader::new(&pcap[..]).unwrap_err().to_string(),
            "capture: file header (byte offset 4): field `version major` has invalid value 0x3"
        );
    }

    #[test]
    fn reads_through_small_reads() {
        /// A reader that returns one byte at a time, and an interruption now and then.
        #[derive(Debug)]
        struct Trickle<'a>(&'a [u8], u8);
        impl Read for Trickle<'_> {
            fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
                self.1 = self.1.wrapping_add(1);
                if self.1.is_multiple_of(3) {
                    return Err(io::ErrorKind::Interrupted.into());
                }
                let Some((first, rest)) = self.0.split_first() else {
                    return Ok(0);
                };
                buf[0] = *first;
                self.0 = rest;
                Ok(1)
            }
        }
        let mut file = pcap_header(1, false);
        for i in 0..50u8 {
            pcap_record(
                &mut file,
                u32::from(i),
                0,
                &vec![i; usize::from(i)],
                u32::from(i),
            );
        }
        let mut reader = CaptureReader::new(Trickle(&file, 0)).unwrap();
        for i in 0..50u8 {
            let frame = reader.next_frame().unwrap().unwrap();
            assert_eq!(frame.data, &vec![i; usize::from(i)][..]);
        }
        assert!(reader.next_frame().unwrap().is_none());
    }

    #[test]
    fn io_errors_name_the_offset() {
        #[derive(Debug)]
        struct Failing;
        impl Read for Failing {
            fn read(&mut self, _: &mut [u8]) -> io::Result<usize> {
                Err(io::Error::other("disk on fire"))
            }
        }
        let err = CaptureReader::new(Failing).unwrap_err();
        assert_eq!(
            err.to_string(),
            "capture: read error at file header (byte offset 0): disk on fire"
        );
        assert_eq!(
            err.position(),
            Some(Position {
                frame: None,
                offset: 0
            })
        );
        let err = CaptureReader::open("/nonexistent/x.pcap").unwrap_err();
        assert!(
            err.to_string()
                .starts_with("capture: cannot open /nonexistent/x.pcap: ")
        );
    }

    #[test]
    fn buffer_stays_bounded_over_many_frames() {
        // 2 000 frames of 1 000 bytes: the buffer never grows past one read chunk plus a record.
        let mut file = pcap_header(1, false);
        for i in 0..2000u32 {
            pcap_record(&mut file, i, 0, &[0x55; 1000], 1000);
        }
        let mut reader = CaptureReader::new(&file[..]).unwrap();
        let mut count = 0;
        while reader.next_frame().unwrap().is_some() {
            count += 1;
        }
        assert_eq!(count, 2000);
        assert!(
            reader.buf.capacity() <= 2 * READ_CHUNK,
            "buffer grew to {}",
            reader.buf.capacity()
        );
    }

    fn gzip(bytes: &[u8]) -> Vec<u8> {
        let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        io::Write::write_all(&mut encoder, bytes).unwrap();
        encoder.finish().unwrap()
    }

    /// A pcap and a pcapng with a few frames of different sizes.
    fn sample_captures() -> [Vec<u8>; 2] {
        let mut pcap = pcap_header(1, false);
        let mut pcapng = section(false);
        pcapng.extend(interface(false, 1, &[]));
        for i in 0..40u8 {
            let data = vec![i; 20 + usize::from(i) * 7];
            pcap_record(&mut pcap, u32::from(i), 0, &data, data.len() as u32);
            pcapng.extend(enhanced(false, 0, u64::from(i), &data));
        }
        [pcap, pcapng]
    }

    #[test]
    fn gzip_streams_are_read_like_the_capture_inside() {
        for plain in sample_captures() {
            let expected = read_all(&plain).unwrap();
            let compressed = gzip(&plain);
            assert_eq!(read_all(&compressed).unwrap(), expected);
            assert!(CaptureReader::new(&compressed[..]).unwrap().is_compressed());
            assert!(!CaptureReader::new(&plain[..]).unwrap().is_compressed());
            // Concatenated members (`cat a.gz b.gz`) are one stream, as gzip -d reads them.
            let half = plain.len() / 2;
            let two = [gzip(&plain[..half]), gzip(&plain[half..])].concat();
            assert_eq!(read_all(&two).unwrap(), expected);
        }
    }

    #[test]
    fn gzip_cut_anywhere_is_cut_short_after_whole_frames() {
        for plain in sample_captures() {
            let all = read_all(&plain).unwrap();
            let compressed = gzip(&plain);
            for len in 1..compressed.len() {
                let mut rows = Vec::new();
                let error = match CaptureReader::new(&compressed[..len]) {
                    Err(error) => error,
                    Ok(mut reader) => loop {
                        match reader.next_frame() {
                            Ok(Some(f)) => rows.push(f.data.to_vec()),
                            Ok(None) => {
                                panic!("prefix {len} of {} read to an end", compressed.len())
                            }
                            Err(error) => break error,
                        }
                    },
                };
                // Every frame read is whole and in order; the rest is reported cut.
                assert!(rows.len() <= all.len(), "prefix {len}");
                for (row, full) in rows.iter().zip(&all) {
                    assert_eq!(row, &full.4, "prefix {len}");
                }
                let cut = error.is_cut_short()
                    || matches!(
                        error,
                        CaptureError::CompressedTruncated {
                            at: Position { frame: None, .. }
                        } | CaptureError::Truncated {
                            at: Position { frame: None, .. },
                            ..
                        } | CaptureError::Io { .. }
                    );
                assert!(cut, "prefix {len}: {error}");
                // Past the file header, it is always "cut short".
                if error.position().is_some_and(|at| at.frame.is_some()) {
                    assert!(error.is_cut_short(), "prefix {len}: {error}");
                }
            }
        }
    }

    #[test]
    fn damaged_gzip_is_a_read_error() {
        let [plain, _] = sample_captures();
        let mut compressed = gzip(&plain);
        let n = compressed.len();
        compressed[n - 6] ^= 0xff; // the CRC-32 in the trailer
        let error = read_all(&compressed).unwrap_err();
        assert!(matches!(error, CaptureError::Io { .. }), "{error}");
        assert!(!error.is_cut_short());
    }

    #[test]
    fn peek_then_next_give_the_same_frame() {
        for plain in sample_captures() {
            let mut reader = CaptureReader::new(&plain[..]).unwrap();
            let peeked = reader.peek_frame().unwrap().unwrap();
            let (number, data) = (peeked.number, peeked.data.to_vec());
            assert_eq!(number, 1);
            assert_eq!(reader.frames_read(), 0);
            assert!(reader.has_buffered_frame());
            // A second peek gives it again.
            assert_eq!(reader.peek_frame().unwrap().unwrap().data, &data[..]);
            let frame = reader.next_frame().unwrap().unwrap();
            assert_eq!((frame.number, frame.data), (1, &data[..]));
            assert_eq!(reader.next_frame().unwrap().unwrap().number, 2);
            assert_eq!(reader.frames_read(), 2);
        }
    }

    #[test]
    fn end_at_errors_keeps_the_error_for_later() {
        let [pcap, pcapng] = sample_captures();
        for plain in [pcap, pcapng] {
            let cut = &plain[..plain.len() - 30];
            let mut reader = CaptureReader::new(cut).unwrap();
            reader.end_at_errors();
            let mut count = 0;
            while let Some(_frame) = reader.next_frame().unwrap() {
                count += 1;
            }
            assert_eq!(count, 39);
            let error = reader.take_error().unwrap();
            assert!(error.is_cut_short(), "{error}");
            assert_eq!(error.position().and_then(|at| at.frame), Some(40));
            assert!(reader.take_error().is_none());
            assert!(reader.next_frame().unwrap().is_none());
        }
    }

    #[test]
    fn buffered_frame_says_whether_a_read_would_wait() {
        /// Hands out the capture in the pieces given, as a pipe does.
        struct Pieces(Vec<Vec<u8>>);
        impl Read for Pieces {
            fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
                if self.0.is_empty() {
                    return Ok(0);
                }
                let piece = self.0.remove(0);
                buf[..piece.len()].copy_from_slice(&piece);
                Ok(piece.len())
            }
        }
        let mut file = pcap_header(1, false);
        pcap_record(&mut file, 1, 0, b"first", 5);
        pcap_record(&mut file, 2, 0, b"second", 6);
        // The header and the first record and a half arrive first.
        let split = 24 + 21 + 10;
        let mut reader =
            CaptureReader::new(Pieces(vec![file[..split].to_vec(), file[split..].to_vec()]))
                .unwrap();
        assert!(reader.has_buffered_frame());
        assert_eq!(reader.next_frame().unwrap().unwrap().data, b"first");
        assert!(!reader.has_buffered_frame());
        assert_eq!(reader.next_frame().unwrap().unwrap().data, b"second");
        assert!(reader.next_frame().unwrap().is_none());
        assert!(reader.has_buffered_frame());
    }

    #[test]
    fn cut_short_is_only_said_of_records() {
        let header_cut = CaptureReader::new(&pcap_header(1, false)[..10]).unwrap_err();
        assert!(!header_cut.is_cut_short());
        let text = CaptureError::CompressedTruncated {
            at: Position {
                frame: Some(3),
                offset: 99,
            },
        };
        assert!(text.is_cut_short());
        assert_eq!(
            text.to_string(),
            "capture: frame 3 (byte offset 99): the gzip-compressed stream ends before its end"
        );
    }

    #[test]
    fn ts_conversion() {
        let iface = |ts_resolution, ts_offset| Interface {
            link_type: LinkType::ETHERNET,
            snaplen: 0,
            name: None,
            ts_resolution,
            ts_offset,
        };
        assert_eq!(convert_ts(1_000_001, &iface(6, 0)), Timestamp::new(1, 1000));
        assert_eq!(
            convert_ts(u64::MAX, &iface(19, 0)),
            Timestamp::new(1, 844_674_407)
        );
        assert_eq!(
            convert_ts(3, &iface(0x81, -5)),
            Timestamp::new(-4, 500_000_000)
        );
        assert_eq!(convert_ts(u64::MAX, &iface(0, i64::MAX)).secs, i64::MAX);
        assert_eq!(ts_units(20), None);
        assert_eq!(ts_units(0x80 | 64), None);
    }
}
