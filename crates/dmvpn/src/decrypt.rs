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
//! Every frame that held an ESP packet keeps what it was as a pcapng packet comment (`opt_comment`,
//! which Wireshark shows in the packet details and as `frame.comment`), one per ESP packet:
//! `ESP SPI 0x1000a001 seq 7: decrypted, ICV good; key: line 2, AES-CBC [RFC3602] / HMAC-SHA-1-96
//! [RFC2404]` — the SPI and sequence number, the outcome (`decrypted, ICV good|none|unchecked`,
//! `ICV bad: not decrypted`, `bad trailer: wrong encryption key?`, `no key`, `cut by the snapshot
//! length`, and `, replayed`), and which line of the key files matched (with
//! [`Select::keys`]), with its transforms; never the keys. When nothing was decrypted,
//! [`DecryptStats::warning`] says what the likely cause was.
//!
//! The command writes its file through an [`OutputFile`]: under a temporary name beside it, renamed
//! over it once complete, so a write error (a full disk) or an interruption never leaves half a
//! file or destroys the one that was there — and the input capture itself is refused as output.
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
use std::fmt::Write as _;
use std::fs::{self, File};
use std::io::{self, BufWriter, Read, Write};
use std::net::IpAddr;
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::Duration;

use pcap_file::DataLink;
use pcap_file::pcapng::PcapNgWriter;
use pcap_file::pcapng::blocks::enhanced_packet::EnhancedPacketBlock;
use pcap_file::pcapng::blocks::interface_description::{
    InterfaceDescriptionBlock, InterfaceDescriptionOption,
};

use pcap_file::pcapng::blocks::enhanced_packet::EnhancedPacketOption;

use crate::capture::{CaptureError, CaptureReader, Frame, LinkType, Timestamp, ipv4};
use crate::decode::{Decoder, Decrypted, EspLayer, EspStatus, Icv, Layer, Sink};
use crate::filter::{Filter, Judge};
use crate::keys::EspKeys;

/// IP protocol numbers of the tunnel-mode payloads (IANA "Assigned Internet Protocol Numbers").
const NEXT_HEADER_IPV4: u8 = dmvpn_ip::IpProtocol::IPV4.0;
const NEXT_HEADER_IPV6: u8 = dmvpn_ip::IpProtocol::IPV6.0;
/// "No next header": an RFC 4303 §2.6 dummy packet, nothing to write in place of the ESP packet.
const NEXT_HEADER_NONE: u8 = dmvpn_ip::IpProtocol::NO_NEXT_HEADER.0;

/// What [`decrypt`] wrote.
#[derive(Clone, Debug, Default, Eq, PartialEq)]
pub struct DecryptStats {
    /// Frames written.
    pub frames: u64,
    /// Frames read but not written: a display filter ([`Select::filter`]) rejected them.
    pub filtered_out: u64,
    /// Frames written with their ESP packet replaced by its plaintext.
    pub replaced: u64,
    /// Of those, frames that completed an IPv4 reassembly.
    pub reassembled: u64,
    /// Frames written unchanged.
    pub kept: u64,
    /// The ESP packets in the frames written, by outcome.
    pub esp: EspOutcomes,
}

/// At most this many SPIs are listed per outcome in [`EspOutcomes`].
pub const MAX_LISTED_SPIS: usize = 16;

/// The ESP packets of the frames [`decrypt`] wrote, by what decryption gave.
#[derive(Clone, Debug, Default, Eq, PartialEq)]
pub struct EspOutcomes {
    /// ESP packets seen (at any depth).
    pub packets: u64,
    /// Of those, decrypted (and verified, when the SA has an ICV).
    pub decrypted: u64,
    /// No line of the key files matched their addresses and SPI.
    pub no_key: u64,
    /// Their ICV did not verify: not decrypted.
    pub icv_failed: u64,
    /// Their ICV verified (or there was none) but the trailer was not valid: the wrong
    /// encryption key or cipher.
    pub bad_trailer: u64,
    /// Cut short by the capture's snapshot length.
    pub cut: u64,
    /// The SPIs no key matched, in the order first seen (at most [`MAX_LISTED_SPIS`]).
    pub no_key_spis: Vec<u32>,
    /// The SPIs whose ICV failed, in the order first seen (at most [`MAX_LISTED_SPIS`]).
    pub icv_failed_spis: Vec<u32>,
}

impl EspOutcomes {
    fn count(&mut self, esp: &EspLayer) {
        let note = |list: &mut Vec<u32>| {
            if list.len() < MAX_LISTED_SPIS && !list.contains(&esp.spi) {
                list.push(esp.spi);
            }
        };
        self.packets += 1;
        match esp.status {
            EspStatus::Decrypted { .. } => self.decrypted += 1,
            EspStatus::NoKey => {
                self.no_key += 1;
                note(&mut self.no_key_spis);
            }
            EspStatus::IcvFailed => {
                self.icv_failed += 1;
                note(&mut self.icv_failed_spis);
            }
            EspStatus::BadTrailer => self.bad_trailer += 1,
            EspStatus::Truncated | EspStatus::Cut { .. } => self.cut += 1,
        }
    }
}

/// `0x1000a001, 0x2000a001` and `and more` past the cap.
fn spi_list(spis: &[u32], total_packets: u64) -> String {
    let mut list: Vec<String> = spis.iter().map(|spi| format!("{spi:#010x}")).collect();
    if spis.len() >= MAX_LISTED_SPIS && total_packets > spis.len() as u64 {
        list.push("…".to_owned());
    }
    list.join(", ")
}

impl DecryptStats {
    /// When no frame was decrypted: why, most likely (for the command to print on standard
    /// error). `None` when something was.
    #[must_use]
    pub fn warning(&self) -> Option<String> {
        if self.replaced > 0 {
            return None;
        }
        let esp = &self.esp;
        let mut causes = Vec::new();
        if esp.packets == 0 {
            causes.push("the frames written hold no ESP packet".to_owned());
        }
        if esp.no_key > 0 {
            causes.push(format!(
                "no key matched SPI(s) {} ({} packet(s); a key line matches the packet's source, \
                 destination and SPI)",
                spi_list(&esp.no_key_spis, esp.no_key),
                esp.no_key
            ));
        }
        if esp.icv_failed > 0 {
            causes.push(format!(
                "the ICV failed on {} packet(s) of SPI(s) {}: the wrong integrity key or algorithm",
                esp.icv_failed,
                spi_list(&esp.icv_failed_spis, esp.icv_failed)
            ));
        }
        if esp.bad_trailer > 0 {
            causes.push(format!(
                "{} packet(s) had a bad trailer after decryption: the wrong encryption key or \
                 cipher",
                esp.bad_trailer
            ));
        }
        if esp.cut > 0 {
            causes.push(format!(
                "{} packet(s) were cut by the snapshot length",
                esp.cut
            ));
        }
        if esp.decrypted > 0 {
            causes.push(format!(
                "{} packet(s) decrypted but are not rewritten (transport mode inside IPv6, ESP \
                 inside a tunnel, or dummy packets)",
                esp.decrypted
            ));
        }
        Some(format!(
            "no ESP packet was decrypted: {}",
            causes.join("; ")
        ))
    }
}

/// Why [`decrypt`] stopped.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum DecryptFileError {
    /// The input could not be read.
    #[error(transparent)]
    Capture(#[from] CaptureError),
    /// The output could not be written.
    #[error("decrypt: cannot write the pcapng output: {}", write_reason(.0))]
    Write(#[from] pcap_file::PcapError),
}

impl DecryptFileError {
    /// The operating system's error behind a failed write (a full disk, a closed pipe), or the
    /// error itself if it is something else.
    ///
    /// # Errors
    ///
    /// `self` when no I/O error is behind it.
    pub fn into_io_error(self) -> Result<io::Error, Self> {
        match self {
            Self::Write(pcap_file::PcapError::IoError(error)) => Ok(error),
            other => Err(other),
        }
    }
}

/// What went wrong writing: the OS error, rather than pcap-file's "Error reading bytes".
fn write_reason(error: &pcap_file::PcapError) -> String {
    match error {
        pcap_file::PcapError::IoError(error) => error.to_string(),
        other => other.to_string(),
    }
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
    decrypt_with(reader, decoder, out, false)
}

/// [`decrypt`], flushing `out` after every frame when `flush_each_frame` is set (a pipe: the
/// reader at its other end, `tshark -r -` say, gets each frame as soon as it is decrypted).
///
/// # Errors
///
/// As [`decrypt`].
pub fn decrypt_with<R: Read, W: Write>(
    reader: &mut CaptureReader<R>,
    decoder: &mut Decoder,
    out: W,
    flush_each_frame: bool,
) -> Result<DecryptStats, DecryptFileError> {
    decrypt_selected(reader, decoder, out, flush_each_frame, &Select::default())
}

/// Which frames [`decrypt_selected`] reads and writes (tshark's `-Y` and `-c`).
#[derive(Clone, Copy, Debug, Default)]
pub struct Select<'f> {
    /// Write only the frames this display filter keeps. Every frame read is decoded, so the
    /// state that spans frames (replay windows, fragments) is what it would be without a filter.
    pub filter: Option<&'f Filter>,
    /// Read no frame after this one (tshark's `-c N`).
    pub last_frame: Option<u64>,
    /// The key table the decoder decrypts with: each ESP frame's comment then names the line
    /// that matched and its transforms (never the keys).
    pub keys: Option<&'f EspKeys>,
}

/// [`decrypt_with`], writing only the frames `select` keeps; the frames keep their numbers'
/// order, not their numbers (as `tshark -Y EXPR -w OUT`).
///
/// # Errors
///
/// As [`decrypt`].
pub fn decrypt_selected<R: Read, W: Write>(
    reader: &mut CaptureReader<R>,
    decoder: &mut Decoder,
    out: W,
    flush_each_frame: bool,
    select: &Select<'_>,
) -> Result<DecryptStats, DecryptFileError> {
    let mut writer = Writer::new(out)?;
    if flush_each_frame {
        writer.flush()?;
    }
    let mut rewriter = Rewriter::default();
    let mut notes = EspNotes::default();
    let mut judge = select.filter.map(Judge::new);
    let mut stats = DecryptStats::default();
    while let Some(frame) = reader.next_frame()? {
        let last = select.last_frame.is_some_and(|last| frame.number >= last);
        let kept = match &mut judge {
            Some(judge) => {
                let mut both = Both(&mut rewriter, &mut notes);
                decoder.decode(&frame, &mut Both(&mut both, &mut *judge));
                judge.keeps()
            }
            None => {
                decoder.decode(&frame, &mut Both(&mut rewriter, &mut notes));
                true
            }
        };
        if !kept {
            stats.filtered_out += 1;
            if last {
                break;
            }
            continue;
        }
        stats.frames += 1;
        let comments = notes.comments(select.keys, &mut stats.esp);
        if rewriter.build(&frame) {
            stats.replaced += 1;
            stats.reassembled += u64::from(rewriter.reassembled);
            writer.write(&frame, Some(&rewriter.frame), comments)?;
        } else {
            stats.kept += 1;
            writer.write(&frame, None, comments)?;
        }
        if flush_each_frame {
            writer.flush()?;
        }
        if last {
            break;
        }
    }
    Ok(stats)
}

/// Two sinks fed the same layers.
struct Both<'a, A, B>(&'a mut A, &'a mut B);

impl<A: Sink, B: Sink> Sink for Both<'_, A, B> {
    fn frame_start(&mut self, frame: &Frame<'_>) {
        self.0.frame_start(frame);
        self.1.frame_start(frame);
    }

    fn layer(&mut self, layer: &Layer<'_>) {
        self.0.layer(layer);
        self.1.layer(layer);
    }

    fn decrypted(&mut self, decrypted: &Decrypted<'_>) {
        self.0.decrypted(decrypted);
        self.1.decrypted(decrypted);
    }

    fn truncated(&mut self) {
        self.0.truncated();
        self.1.truncated();
    }

    fn frame_end(&mut self) {
        self.0.frame_end();
        self.1.frame_end();
    }
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

    fn flush(&mut self) -> Result<(), pcap_file::PcapError> {
        self.pcapng
            .get_mut()
            .flush()
            .map_err(pcap_file::PcapError::IoError)
    }

    /// Writes `frame`, or `replacement` in its place (with its own length), with a packet
    /// comment for each of `comments`.
    fn write(
        &mut self,
        frame: &Frame<'_>,
        replacement: Option<&[u8]>,
        comments: &[String],
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
            options: comments
                .iter()
                .map(|comment| EnhancedPacketOption::Comment(Cow::Borrowed(comment)))
                .collect(),
        })?;
        Ok(())
    }
}

/// Why an [`OutputFile`] could not be written.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum OutputError {
    /// The output is the input capture (the same file, also through a symbolic or hard link).
    #[error(
        "{}: this is the input capture itself; writing it would destroy the input (name another output file)",
        path.display()
    )]
    SameAsInput {
        /// The output path given.
        path: PathBuf,
    },
    /// Creating, writing or renaming the file failed; nothing is left at the path.
    #[error("{}: cannot {action}: {source}", path.display())]
    Io {
        /// The output path given.
        path: PathBuf,
        /// What failed: `create`, `write` or `rename onto`.
        action: &'static str,
        /// The operating system's reason.
        source: io::Error,
    },
}

/// An output file written under a temporary name in its own folder (`.NAME.dmvpn-PID-N.tmp`) and
/// renamed onto its path by [`OutputFile::commit`], so the path holds either its old contents or
/// the complete new file, never a part. Dropped without a commit (an error), the temporary file is
/// removed. A path that names a device or a FIFO (`/dev/null`, a pipe) is written in place.
///
/// A symbolic link as the path is followed: its target is replaced. The permissions of a file
/// replaced are kept.
///
/// ```
/// use std::io::Write;
/// use dmvpn::decrypt::OutputFile;
///
/// let dir = std::env::temp_dir().join(format!("dmvpn-doc-output-{}", std::process::id()));
/// std::fs::create_dir_all(&dir)?;
/// let path = dir.join("out.bin");
/// let mut file = OutputFile::create(&path, None)?;
/// file.write_all(b"complete")?;
/// assert!(!path.exists()); // not until it is complete
/// file.commit()?;
/// assert_eq!(std::fs::read(&path)?, b"complete");
/// # std::fs::remove_dir_all(&dir)?;
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug)]
pub struct OutputFile<W: Write = File> {
    /// The path given, for messages.
    path: PathBuf,
    /// Where the file goes (a symbolic link followed).
    target: PathBuf,
    /// The temporary file, until it is renamed or removed; `None` when writing in place.
    temp: Option<PathBuf>,
    out: BufWriter<W>,
}

impl OutputFile<File> {
    /// Creates the temporary file for `path`. `input` is the metadata of the capture being read
    /// (a file or standard input): if `path` is that same file, nothing is created.
    ///
    /// # Errors
    ///
    /// [`OutputError::SameAsInput`], or the temporary file cannot be created.
    pub fn create(path: &Path, input: Option<&fs::Metadata>) -> Result<Self, OutputError> {
        Self::create_with(path, input, |file| file)
    }
}

impl<W: Write> OutputFile<W> {
    /// [`OutputFile::create`], with the file wrapped by `wrap` (tests put a failing writer there).
    ///
    /// # Errors
    ///
    /// As [`OutputFile::create`].
    pub fn create_with(
        path: &Path,
        input: Option<&fs::Metadata>,
        wrap: impl FnOnce(File) -> W,
    ) -> Result<Self, OutputError> {
        let io_error = |action, source| OutputError::Io {
            path: path.to_owned(),
            action,
            source,
        };
        let existing = fs::metadata(path).ok();
        if let (Some(existing), Some(input)) = (&existing, input)
            && existing.dev() == input.dev()
            && existing.ino() == input.ino()
        {
            return Err(OutputError::SameAsInput {
                path: path.to_owned(),
            });
        }
        let target = match &existing {
            Some(meta) if meta.is_dir() => {
                return Err(io_error(
                    "create",
                    io::Error::new(io::ErrorKind::IsADirectory, "it is a directory"),
                ));
            }
            // A device, a FIFO or a socket: written in place (renaming over /dev/null would
            // replace the device).
            Some(meta) if !meta.is_file() => {
                let file = fs::OpenOptions::new()
                    .write(true)
                    .open(path)
                    .map_err(|source| io_error("create", source))?;
                return Ok(Self {
                    path: path.to_owned(),
                    target: path.to_owned(),
                    temp: None,
                    out: BufWriter::with_capacity(1 << 16, wrap(file)),
                });
            }
            Some(_) => fs::canonicalize(path).unwrap_or_else(|_| path.to_owned()),
            None => path.to_owned(),
        };
        let name = target.file_name().unwrap_or_default().to_string_lossy();
        let folder = match target.parent() {
            Some(parent) if !parent.as_os_str().is_empty() => parent.to_owned(),
            _ => PathBuf::from("."),
        };
        static COUNTER: AtomicU32 = AtomicU32::new(0);
        let temp = folder.join(format!(
            ".{name}.dmvpn-{}-{}.tmp",
            std::process::id(),
            COUNTER.fetch_add(1, Ordering::Relaxed)
        ));
        let file = fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .open(&temp)
            .map_err(|source| io_error("create", source))?;
        if let Some(meta) = &existing
            && let Err(source) = file.set_permissions(meta.permissions())
        {
            let _ = fs::remove_file(&temp);
            return Err(io_error("create", source));
        }
        Ok(Self {
            path: path.to_owned(),
            target,
            temp: Some(temp),
            out: BufWriter::with_capacity(1 << 16, wrap(file)),
        })
    }

    /// The path given.
    #[must_use]
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The error to report for a failed write: the path and the operating system's reason.
    #[must_use]
    pub fn write_error(&self, source: io::Error) -> OutputError {
        OutputError::Io {
            path: self.path.clone(),
            action: "write",
            source,
        }
    }

    /// Flushes the file to disk and renames it onto its path.
    ///
    /// # Errors
    ///
    /// A write, sync or rename error; the temporary file is removed.
    pub fn commit(mut self) -> Result<(), OutputError>
    where
        W: AsFile,
    {
        self.out
            .flush()
            .map_err(|source| self.write_error(source))?;
        let Some(temp) = self.temp.clone() else {
            return Ok(());
        };
        // Delayed write errors (a full disk on NFS, a quota) surface here, before the rename.
        self.out
            .get_ref()
            .as_file()
            .sync_all()
            .map_err(|source| self.write_error(source))?;
        fs::rename(&temp, &self.target).map_err(|source| OutputError::Io {
            path: self.path.clone(),
            action: "rename onto",
            source,
        })?;
        self.temp = None;
        Ok(())
    }
}

/// A writer over a [`File`] (for [`OutputFile::commit`]'s sync).
pub trait AsFile {
    /// The file.
    fn as_file(&self) -> &File;
}

impl AsFile for File {
    fn as_file(&self) -> &File {
        self
    }
}

impl<W: Write> Write for OutputFile<W> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.out.write(buf)
    }

    fn write_all(&mut self, buf: &[u8]) -> io::Result<()> {
        self.out.write_all(buf)
    }

    fn flush(&mut self) -> io::Result<()> {
        self.out.flush()
    }
}

impl<W: Write> Drop for OutputFile<W> {
    fn drop(&mut self) {
        if let Some(temp) = self.temp.take() {
            let _ = fs::remove_file(temp);
        }
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

/// The sink that notes each ESP packet of a frame with the addresses of the IP packet carrying it,
/// for the frame's packet comments.
#[derive(Default)]
struct EspNotes {
    /// The last IP layer's source and destination.
    addresses: Option<(IpAddr, IpAddr)>,
    /// This frame's ESP packets and their carriers' addresses.
    esp: Vec<(EspLayer, Option<(IpAddr, IpAddr)>)>,
    /// The comments of the frame being written (reused).
    comments: Vec<String>,
}

impl Sink for EspNotes {
    fn frame_start(&mut self, _frame: &Frame<'_>) {
        self.addresses = None;
        self.esp.clear();
    }

    fn layer(&mut self, layer: &Layer<'_>) {
        match layer {
            Layer::Ipv4 { header, .. } => {
                self.addresses = Some((header.src.into(), header.dst.into()));
            }
            Layer::Ipv6(header) => self.addresses = Some((header.src.into(), header.dst.into())),
            Layer::Esp(esp) => self.esp.push((**esp, self.addresses)),
            _ => {}
        }
    }
}

impl EspNotes {
    /// The comments of the frame just decoded, one per ESP packet, counted into `outcomes`.
    fn comments(&mut self, keys: Option<&EspKeys>, outcomes: &mut EspOutcomes) -> &[String] {
        self.comments.clear();
        for (esp, addresses) in &self.esp {
            outcomes.count(esp);
            let mut comment = format!("ESP SPI {:#010x}", esp.spi);
            if esp.status
                != (EspStatus::Cut {
                    seq_captured: false,
                })
            {
                let _ = write!(comment, " seq {}", esp.seq);
            }
            comment.push_str(": ");
            comment.push_str(match esp.status {
                EspStatus::Decrypted { icv: Icv::Good, .. } => "decrypted, ICV good",
                EspStatus::Decrypted { icv: Icv::None, .. } => "decrypted, no ICV",
                EspStatus::Decrypted {
                    icv: Icv::Unchecked,
                    ..
                } => "decrypted, ICV unchecked",
                EspStatus::IcvFailed => "ICV bad: not decrypted",
                EspStatus::BadTrailer => "ICV good, bad trailer: wrong encryption key?",
                EspStatus::NoKey => "no key",
                EspStatus::Truncated | EspStatus::Cut { .. } => "cut by the snapshot length",
            });
            if esp.replayed {
                comment.push_str(", replayed");
            }
            let sa = keys
                .zip(*addresses)
                .filter(|_| esp.status != EspStatus::NoKey)
                .and_then(|(keys, (src, dst))| keys.find(src, dst, esp.spi));
            if let Some(sa) = sa {
                let _ = write!(
                    comment,
                    "; key: line {}, {} / {}",
                    sa.line,
                    sa.encryption.wireshark_name(),
                    sa.integrity.wireshark_name()
                );
            }
            self.comments.push(comment);
        }
        &self.comments
    }
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
            icv: Icv::Good,
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
        let keys = EspKeys::from_file(format!("{dir}/phase1.esp_sa")).unwrap();
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

    /// A folder of its own under the system's temporary folder, removed first.
    fn scratch(name: &str) -> PathBuf {
        let dir = std::env::temp_dir().join(format!("dmvpn-decrypt-{name}-{}", std::process::id()));
        let _ = fs::remove_dir_all(&dir);
        fs::create_dir_all(&dir).unwrap();
        dir
    }

    /// A scratch directory `name` holding one file, `file`, with `contents`: the directory and
    /// the file's path.
    fn scratch_with(name: &str, file: &str, contents: &[u8]) -> (PathBuf, PathBuf) {
        let dir = scratch(name);
        let path = dir.join(file);
        fs::write(&path, contents).unwrap();
        (dir, path)
    }

    fn names(dir: &Path) -> Vec<String> {
        let mut names: Vec<String> = fs::read_dir(dir)
            .unwrap()
            .map(|entry| entry.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        names.sort();
        names
    }

    /// A file that takes `room` bytes, then fails as a full disk does.
    struct FullDisk {
        file: File,
        room: usize,
    }

    impl Write for FullDisk {
        fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
            if self.room == 0 {
                return Err(io::Error::from_raw_os_error(28)); // ENOSPC
            }
            let n = buf.len().min(self.room);
            self.room -= n;
            self.file.write(&buf[..n])
        }

        fn flush(&mut self) -> io::Result<()> {
            self.file.flush()
        }
    }

    impl AsFile for FullDisk {
        fn as_file(&self) -> &File {
            &self.file
        }
    }

    fn phase1() -> (CaptureReader<File>, Decoder) {
        let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/../../testdata/dmvpn");
        let keys = EspKeys::from_file(format!("{dir}/phase1.esp_sa")).unwrap();
        let reader = CaptureReader::open(format!("{dir}/phase1.pcap")).unwrap();
        (reader, Decoder::new(keys))
    }

    #[test]
    fn output_appears_only_when_complete_and_keeps_the_old_permissions() {
        use std::os::unix::fs::PermissionsExt;
        let (dir, path) = scratch_with("complete", "out.pcapng", b"old");
        fs::set_permissions(&path, fs::Permissions::from_mode(0o640)).unwrap();
        let (mut reader, mut decoder) = phase1();
        let mut file = OutputFile::create(&path, None).unwrap();
        let stats = decrypt(&mut reader, &mut decoder, &mut file).unwrap();
        assert_eq!(stats.frames, 42);
        // Until the commit the old file is there, and the new one under a hidden name.
        assert_eq!(fs::read(&path).unwrap(), b"old");
        assert_eq!(names(&dir).len(), 2, "{:?}", names(&dir));
        file.commit().unwrap();
        assert_eq!(names(&dir), ["out.pcapng"]);
        let written = fs::read(&path).unwrap();
        assert!(CaptureReader::new(&written[..]).is_ok());
        let mode = fs::metadata(&path).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o640);
        fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn a_full_disk_names_the_path_and_leaves_the_old_file() {
        let (dir, path) = scratch_with("full", "out.pcapng", b"old");
        for room in [0, 100, 4000] {
            let (mut reader, mut decoder) = phase1();
            let mut file =
                OutputFile::create_with(&path, None, |file| FullDisk { file, room }).unwrap();
            let error = match decrypt(&mut reader, &mut decoder, &mut file) {
                // What the buffer held is written at the commit.
                Ok(_) => match file.commit() {
                    Err(error) => error,
                    Ok(()) => panic!("{room} bytes of room: the commit succeeded"),
                },
                Err(error) => {
                    let error = file.write_error(error.into_io_error().unwrap());
                    drop(file);
                    error
                }
            };
            assert_eq!(
                error.to_string(),
                format!(
                    "{}: cannot write: No space left on device (os error 28)",
                    path.display()
                )
            );
            // No partial file is left, and the old one is untouched.
            assert_eq!(names(&dir), ["out.pcapng"], "{room} bytes of room");
            assert_eq!(fs::read(&path).unwrap(), b"old");
        }
        // Unbuffered, the write error comes out of decrypt itself, with the OS's reason.
        let (mut reader, mut decoder) = phase1();
        let file = File::create(dir.join("direct")).unwrap();
        let error = decrypt(&mut reader, &mut decoder, FullDisk { file, room: 100 }).unwrap_err();
        assert_eq!(
            error.to_string(),
            "decrypt: cannot write the pcapng output: No space left on device (os error 28)"
        );
        assert_eq!(error.into_io_error().unwrap().raw_os_error(), Some(28));
        fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn the_input_is_refused_through_any_name() {
        let (dir, input) = scratch_with("same", "in.pcap", b"capture");
        let meta = fs::metadata(&input).unwrap();
        let symlink = dir.join("symlink.pcap");
        std::os::unix::fs::symlink(&input, &symlink).unwrap();
        let hard = dir.join("hard.pcap");
        fs::hard_link(&input, &hard).unwrap();
        let dotted = dir.join(".").join("in.pcap");
        for path in [&input, &symlink, &hard, &dotted] {
            let error = OutputFile::create(path, Some(&meta)).unwrap_err();
            assert!(
                matches!(error, OutputError::SameAsInput { .. }),
                "{}: {error}",
                path.display()
            );
            assert!(error.to_string().contains("input capture itself"));
        }
        assert_eq!(names(&dir), ["hard.pcap", "in.pcap", "symlink.pcap"]);
        assert_eq!(fs::read(&input).unwrap(), b"capture");
        // Another file is fine, and a symbolic link is followed: its target is replaced.
        let other = dir.join("other.pcapng");
        fs::write(&other, b"x").unwrap();
        let link = dir.join("link.pcapng");
        std::os::unix::fs::symlink(&other, &link).unwrap();
        let mut file = OutputFile::create(&link, Some(&meta)).unwrap();
        file.write_all(b"new").unwrap();
        file.commit().unwrap();
        assert!(
            fs::symlink_metadata(&link)
                .unwrap()
                .file_type()
                .is_symlink()
        );
        assert_eq!(fs::read(&other).unwrap(), b"new");
        // A directory is refused before anything is written.
        let error = OutputFile::create(&dir, None).unwrap_err();
        assert!(error.to_string().contains("is a directory"), "{error}");
        fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn a_device_is_written_in_place() {
        let mut file = OutputFile::create(Path::new("/dev/null"), None).unwrap();
        file.write_all(b"gone").unwrap();
        file.commit().unwrap();
        let meta = fs::metadata("/dev/null").unwrap();
        assert!(std::os::unix::fs::FileTypeExt::is_char_device(
            &meta.file_type()
        ));
    }
}
