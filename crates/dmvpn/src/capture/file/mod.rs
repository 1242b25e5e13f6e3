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

use pcap_file::pcap::PcapParser;

mod input;
mod pcap;
mod pcapng;
#[cfg(test)]
mod tests;

use input::Input;
use pcap::pcap_interface;

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
        Ok(Some(location.frame(number, &self.buf)))
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
        Ok(Some(location.frame(self.next_number, &self.buf)))
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

impl Location {
    /// The frame numbered `number` that this record holds in `buf`.
    fn frame(self, number: u64, buf: &[u8]) -> Frame<'_> {
        Frame {
            number,
            timestamp: self.timestamp,
            link_type: self.link_type,
            interface: self.interface,
            data: buf.get(self.data).unwrap_or_default(),
            original_len: self.original_len,
            offset: self.offset,
        }
    }
}

#[derive(Debug, Eq, PartialEq)]
enum BlockKind {
    Section,
    Packet(Location),
    Other,
}

/// The `N` bytes at `at`, or zeros where `bytes` is too short (callers check lengths first).
fn read_array<const N: usize>(bytes: &[u8], at: usize) -> [u8; N] {
    bytes
        .get(at..at + N)
        .and_then(|b| <[u8; N]>::try_from(b).ok())
        .unwrap_or([0; N])
}

/// Defines a reader of one integer at a byte offset in the capture's byte order (zero where the
/// bytes are missing).
macro_rules! read_int {
    ($name:ident, $int:ty) => {
        pub(super) fn $name(bytes: &[u8], at: usize, big_endian: bool) -> $int {
            let raw = read_array(bytes, at);
            if big_endian {
                <$int>::from_be_bytes(raw)
            } else {
                <$int>::from_le_bytes(raw)
            }
        }
    };
}

read_int!(read_u16, u16);
read_int!(read_u32, u32);
