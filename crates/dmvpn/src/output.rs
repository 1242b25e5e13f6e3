//! The decoder's two output formats: tshark-like text lines and JSON Lines.
//!
//! Both are [`Sink`]s that write into a reusable buffer and hand it to the underlying writer in large
//! chunks. A write error (a closed pipe, a full disk) is remembered and returned by `finish`.

use std::fmt::{self, Write as _};
use std::io::{self, Write};

use crate::capture::{Frame, Timestamp};
use crate::decode::{CutField, Layer, Sink};
use crate::filter::Retract;
use crate::json::{self, Object};

/// Flush to the writer once the buffer holds this much.
const FLUSH_AT: usize = 1 << 16;

/// A byte buffer in front of a writer that remembers the first write error.
struct Buffered<W: Write> {
    out: W,
    buf: Vec<u8>,
    error: Option<io::Error>,
    /// Keep everything in `buf` until the owner takes it (see [`Pending`]).
    detached: bool,
    /// Hand each frame to the writer as soon as it is complete (see `flush_each_frame`).
    each_frame: bool,
}

impl<W: Write> Buffered<W> {
    fn new(out: W) -> Self {
        Self {
            out,
            buf: Vec::with_capacity(FLUSH_AT * 2),
            error: None,
            detached: false,
            each_frame: false,
        }
    }

    fn flush(&mut self) {
        if self.error.is_none()
            && let Err(error) = self
                .out
                .write_all(&self.buf)
                .and_then(|()| self.out.flush())
        {
            self.error = Some(error);
        }
        self.buf.clear();
    }

    fn flush_if_full(&mut self) {
        if !self.detached && (self.each_frame || self.buf.len() >= FLUSH_AT) {
            self.flush();
        }
    }

    fn finish(mut self) -> io::Result<W> {
        self.flush();
        match self.error {
            Some(error) => Err(error),
            None => Ok(self.out),
        }
    }
}

/// A sink whose output stays in memory until taken, so that frames decoded on several threads can be
/// written in capture order (see [`crate::parallel`]).
pub trait Pending: Sink {
    /// What the frames decoded since the last [`Pending::clear_pending`] printed.
    fn pending(&self) -> &[u8];
    /// Forgets the pending output (keeping the buffer's capacity).
    fn clear_pending(&mut self);
    /// Moves the pending output into `taken` (emptied first) and leaves nothing pending; writers
    /// swap buffers, so neither side copies or allocates once both have grown.
    fn take_pending(&mut self, taken: &mut Vec<u8>) {
        taken.clear();
        taken.extend_from_slice(self.pending());
        self.clear_pending();
    }
}

/// The methods every [`Buffered`] output shares: flushing per frame and write failures.
macro_rules! buffered_output {
    ($output:ident) => {
        impl<W: Write> $output<W> {
            /// Flushes each frame's output to the writer as soon as the frame is complete, as
            /// tshark's `-l` does: for a pipe or a terminal, whose reader should see frames as
            /// they are decoded. Otherwise output goes out in 64 KiB chunks.
            pub const fn flush_each_frame(&mut self, each_frame: bool) {
                self.out.each_frame = each_frame;
            }

            /// Whether a write has failed (a closed pipe, a full disk): the rest of the output is
            /// lost, so the caller may stop decoding.
            #[doc = concat!("[`", stringify!($output), "::finish`] returns the error.")]
            #[must_use]
            pub const fn write_failed(&self) -> bool {
                self.out.error.is_some()
            }
        }
    };
}

/// JSON Lines: one object per frame, `{"frame":N,"schema_version":"1.1.0","ts":"…Z","len":…,
/// "caplen":…,"layers":[…]}`, as `schemas/decode-frame.schema.json` describes (times: see
/// [`crate::json`]).
pub struct JsonLines<W: Write> {
    out: Buffered<W>,
    /// Where the current frame's object starts in the buffer (for [`Retract`]).
    frame_at: usize,
    first_layer: bool,
    /// The snapshot length cut this frame: the layers from here on get `"truncated":true`.
    truncated: bool,
}

buffered_output!(JsonLines);

impl<W: Write> JsonLines<W> {
    /// Writes to `out`.
    pub fn new(out: W) -> Self {
        Self {
            out: Buffered::new(out),
            frame_at: 0,
            first_layer: true,
            truncated: false,
        }
    }

    /// Flushes what is buffered and returns the first write error, if any.
    pub fn finish(self) -> io::Result<W> {
        self.out.finish()
    }
}

impl JsonLines<io::Sink> {
    /// A writer that keeps its output in memory, for [`Pending`].
    #[must_use]
    pub fn detached() -> Self {
        let mut lines = Self::new(io::sink());
        lines.out.detached = true;
        lines
    }
}

/// [`Pending`] for writers whose detached output sits in their [`Buffered`] `out`.
macro_rules! pending_in_buffer {
    ($($writer:ident),+) => {$(
        impl Pending for $writer<io::Sink> {
            fn pending(&self) -> &[u8] {
                &self.out.buf
            }

            fn clear_pending(&mut self) {
                self.out.buf.clear();
            }

            fn take_pending(&mut self, taken: &mut Vec<u8>) {
                taken.clear();
                core::mem::swap(&mut self.out.buf, taken);
            }
        }
    )+};
}

pending_in_buffer!(JsonLines, TextLines);

impl<W: Write> Sink for JsonLines<W> {
    fn frame_start(&mut self, frame: &Frame<'_>) {
        self.frame_at = self.out.buf.len();
        let buf = &mut self.out.buf;
        buf.extend_from_slice(b"{\"frame\":");
        json::push_u64(buf, frame.number);
        buf.extend_from_slice(b",\"schema_version\":\"");
        buf.extend_from_slice(json::SCHEMA_VERSION.as_bytes());
        buf.extend_from_slice(b"\",\"ts\":\"");
        json::push_rfc3339(buf, frame.timestamp);
        buf.extend_from_slice(b"\",\"len\":");
        json::push_u64(buf, u64::from(frame.original_len));
        buf.extend_from_slice(b",\"caplen\":");
        json::push_u64(buf, frame.data.len() as u64);
        buf.extend_from_slice(b",\"layers\":[");
        self.first_layer = true;
        self.truncated = false;
    }

    fn truncated(&mut self) {
        self.truncated = true;
    }

    fn layer(&mut self, layer: &Layer<'_>) {
        if !self.first_layer {
            self.out.buf.push(b',');
        }
        self.first_layer = false;
        let mut obj = Object::begin(&mut self.out.buf);
        layer.write_json(&mut obj);
        if self.truncated {
            obj.bool("truncated", true);
        }
        obj.end();
    }

    fn frame_end(&mut self) {
        self.out.buf.extend_from_slice(b"]}\n");
        self.out.flush_if_full();
    }
}

/// A frame a display filter rejected leaves nothing: its object is written into the buffer as
/// its layers go by, and nothing is flushed before `frame_end`.
impl<W: Write> Retract for JsonLines<W> {
    type Mark = ();

    fn mark(&mut self) {}

    fn retract(&mut self, (): ()) {
        self.out.buf.truncate(self.frame_at);
    }
}

/// Text: one line per frame, like tshark's summary — number, relative time, innermost addresses,
/// protocol, length and a description of the innermost layer. An inner packet's description starts
/// with the tunnel it came through, `[192.0.2.11→192.0.2.1 ESP 0x1000a001 GRE key=123]` (one
/// bracket per tunnel level), and a frame the snapshot length cut ends with tshark's
/// `[Packet size limited during capture]`.
pub struct TextLines<W: Write> {
    out: Buffered<W>,
    first_ts: Option<Timestamp>,
    frame: FrameLine,
    /// Colour the protocol column and the notes (ANSI SGR; see [`TextLines::colour`]).
    colour: bool,
}

/// What the line of the current frame collects while its layers go by.
#[derive(Default)]
struct FrameLine {
    number: u64,
    ts: Timestamp,
    len: u32,
    src: String,
    dst: String,
    proto: &'static str,
    info: String,
    notes: String,
    /// The tunnels the innermost packet came through, each `[outer src→dst ESP 0x… GRE] `.
    tunnels: String,
    /// The encapsulations seen since the last IP header (` ESP 0x…`, ` GRE`, …).
    hops: String,
    /// The snapshot length cut the frame (tshark's `[Packet size limited during capture]`).
    truncated: bool,
}

buffered_output!(TextLines);

impl<W: Write> TextLines<W> {
    /// Writes to `out`.
    pub fn new(out: W) -> Self {
        Self {
            out: Buffered::new(out),
            first_ts: None,
            frame: FrameLine::default(),
            colour: false,
        }
    }

    /// Colours the protocol column by protocol and the notes (errors, replays) in red, with ANSI
    /// escape sequences: for a terminal (the command leaves it off when `NO_COLOR` is set or
    /// standard output is not a terminal, unless `--color always`).
    pub const fn colour(&mut self, on: bool) {
        self.colour = on;
    }

    /// Flushes what is buffered and returns the first write error, if any.
    pub fn finish(self) -> io::Result<W> {
        self.out.finish()
    }
}

impl TextLines<io::Sink> {
    /// A writer that keeps its output in memory, for [`Pending`]; times are relative to `start`
    /// (the capture's first frame), as every thread must agree on it.
    #[must_use]
    pub fn detached(start: Timestamp) -> Self {
        let mut lines = Self::new(io::sink());
        lines.out.detached = true;
        lines.first_ts = Some(start);
        lines
    }
}

impl<W: Write> Sink for TextLines<W> {
    fn frame_start(&mut self, frame: &Frame<'_>) {
        let line = &mut self.frame;
        line.number = frame.number;
        line.ts = frame.timestamp;
        line.len = frame.original_len;
        line.src.clear();
        line.dst.clear();
        line.proto = "";
        line.info.clear();
        line.notes.clear();
        line.tunnels.clear();
        line.hops.clear();
        line.truncated = false;
        self.first_ts.get_or_insert(frame.timestamp);
    }

    fn truncated(&mut self) {
        self.frame.truncated = true;
    }

    fn layer(&mut self, layer: &Layer<'_>) {
        let line = &mut self.frame;
        match layer {
            Layer::Ipv4 { header, .. } => line.addresses(&header.src, &header.dst),
            Layer::Ipv6(header) => line.addresses(&header.src, &header.dst),
            // An IP header cut short: its addresses, if both were captured.
            Layer::Cut { fields, .. } => {
                let address = |wanted| {
                    fields.iter().find_map(|field| match *field {
                        CutField::Address(name, address) if name == wanted => Some(address),
                        _ => None,
                    })
                };
                if let (Some(src), Some(dst)) = (address("src"), address("dst")) {
                    line.addresses(&src, &dst);
                }
            }
            Layer::Udp { .. } => line.hops.push_str(" UDP"),
            Layer::Esp(esp) => {
                let _ = write!(line.hops, " ESP {:#010x}", esp.spi);
            }
            Layer::Ah(ah) => {
                let _ = write!(line.hops, " AH {:#010x}", ah.spi);
            }
            Layer::Gre(gre) => {
                line.hops.push_str(" GRE");
                if let Some(key) = gre.key {
                    let _ = write!(line.hops, " key={key}");
                }
            }
            Layer::GreEnhanced { header, .. } => {
                let _ = write!(line.hops, " GRE v1 call={}", header.call_id);
            }
            Layer::Mpls(_) => line.hops.push_str(" MPLS"),
            _ => {}
        }
        match layer {
            // A replayed packet, or one whose ICV was skipped unchecked, says so at the end.
            Layer::Esp(esp) if esp.decrypted() && (esp.replayed || esp_icv_unchecked(esp)) => {
                line.note(layer)
            }
            Layer::Error { .. } | Layer::NestingLimit { .. } => return line.note(layer),
            _ => {}
        }
        let name = layer.column_name();
        if !name.is_empty() {
            line.proto = name;
            line.info.clear();
            let _ = layer.info(&mut line.info);
        } else if let Layer::Data { .. } = layer {
            line.info.push_str(" + ");
            let _ = layer.info(&mut line.info);
        }
    }

    fn frame_end(&mut self) {
        let line = &self.frame;
        let first = self.first_ts.unwrap_or(line.ts);
        let elapsed = line.ts.saturating_duration_since(first);
        let arrow = if line.src.is_empty() { " " } else { "→" };
        let buf = &mut self.out.buf;
        let (on, off) = match self.colour {
            true => (proto_colour(line.proto), "\x1b[0m"),
            false => ("", ""),
        };
        let _ = write!(
            Utf8(buf),
            "{:>6} {:>11.6} {:>15} {arrow} {:<15} {on}{:<8}{off} {:>5} {}{}",
            line.number,
            elapsed.as_secs_f64(),
            line.src,
            line.dst,
            line.proto,
            line.len,
            line.tunnels,
            line.info
        );
        if !line.notes.is_empty() {
            let red = if self.colour { "\x1b[31m" } else { "" };
            let _ = write!(Utf8(buf), " {red}[{}]{off}", line.notes);
        }
        if line.truncated {
            buf.extend_from_slice(b" [Packet size limited during capture]");
        }
        buf.push(b'\n');
        self.out.flush_if_full();
    }
}

/// A frame's line is written at `frame_end`: a frame a display filter rejected leaves nothing.
impl<W: Write> Retract for TextLines<W> {
    type Mark = ();

    fn mark(&mut self) {}

    fn retract(&mut self, (): ()) {}
}

impl FrameLine {
    /// The innermost addresses win: each IP layer replaces the ones before, which go into the
    /// tunnel path with the encapsulations between them.
    fn addresses(&mut self, src: &dyn fmt::Display, dst: &dyn fmt::Display) {
        if !self.src.is_empty() {
            let hops = if self.hops.is_empty() {
                " IP-in-IP"
            } else {
                &self.hops
            };
            let _ = write!(self.tunnels, "[{}→{}{hops}] ", self.src, self.dst);
        }
        self.hops.clear();
        self.src.clear();
        self.dst.clear();
        let _ = write!(self.src, "{src}");
        let _ = write!(self.dst, "{dst}");
    }

    /// Something to keep visible even when inner layers name the line (a replay, an error).
    fn note(&mut self, layer: &Layer<'_>) {
        if !self.notes.is_empty() {
            self.notes.push_str("; ");
        }
        let _ = layer.info(&mut self.notes);
    }
}

/// The ANSI SGR colour of a protocol in the text output's protocol column.
fn proto_colour(proto: &str) -> &'static str {
    match proto {
        "ESP" | "AH" => "\x1b[35m",
        "ISAKMP" => "\x1b[36m",
        "NHRP" => "\x1b[32m",
        "EIGRP" => "\x1b[33m",
        "GRE" => "\x1b[34m",
        _ => "\x1b[1m",
    }
}

/// Whether the packet decrypted with its ICV skipped, not verified.
const fn esp_icv_unchecked(esp: &crate::decode::EspLayer) -> bool {
    matches!(
        esp.status,
        crate::decode::EspStatus::Decrypted {
            icv: crate::decode::Icv::Unchecked,
            ..
        }
    )
}

/// `fmt::Write` into a byte buffer.
struct Utf8<'a>(&'a mut Vec<u8>);

impl fmt::Write for Utf8<'_> {
    fn write_str(&mut self, s: &str) -> fmt::Result {
        self.0.extend_from_slice(s.as_bytes());
        Ok(())
    }
}
