//! The command line: clap's types for `dmvpn` and its commands, the help text after the
//! options, and the display filter and frame selection parsed.

use std::io::{self, IsTerminal};
use std::path::PathBuf;

use clap::{Parser, Subcommand, ValueEnum};
use dmvpn::filter::Filter;

use super::exit::Failure;

/// What `dmvpn --help` says after the options: input, output and exit status (README.md has the
/// same).
pub(crate) const AFTER_HELP: &str = "\
Examples:
  dmvpn decode cap.pcap --keys esp_sa --keys ikev1_decryption_table
  dmvpn decode cap.pcap --keys esp_sa -Y 'ip.addr == 192.0.2.11 && esp.spi == 0x1000a001'
  dmvpn decode cap.pcap -Y 'nhrp.hdr.op.type == 3 || eigrp' --frames 100-200
  dmvpn decode big.pcap.gz --format summary --threads 4
  dmvpn sessions 'ring/hub1_*.pcapng' captures/hub2/ --keys esp_sa --format json
  dmvpn export captures/ --keys esp_sa --format parquet -o dataset/   (feature `parquet`)
  dmvpn decrypt cap.pcap --keys esp_sa -o plain.pcapng -Y '!isakmp'
  dmvpn sessions cap.pcap --keys esp_sa --psk lab-secret --format html > report.html
  tcpdump -w - -i eth0 | dmvpn decode - -c 1000
  dmvpn completions bash > /etc/bash_completion.d/dmvpn;  dmvpn man --dir /usr/local/share/man/man1

Input: FILE is a pcap or pcapng capture, gzip-compressed or not (told by its content, as tshark
does); `-` reads standard input (a pipe: `tcpdump -w - | dmvpn decode -`). Several FILEs, folders
(their capture files) and glob patterns (expanded by dmvpn) are read as one capture, merged by
timestamp; a file among them cut short or damaged is reported after the output (exit status 2) and
the others are read. Output to a pipe or a terminal is flushed after every frame; to a file or
/dev/null it is buffered.

Exit status:
  0    every frame was read and its output written
  1    bad arguments (a display filter that does not parse: the column and the known field
       names closest to an unknown one are printed), an unreadable key file, or an output that
       cannot be written (the path and the reason are printed; a partial output file is removed)
  2    the capture cannot be opened or read to its end: not a capture, cut short in the middle of
       a packet (a file still being written, tcpdump killed) or damaged; every whole frame before
       the fault is decoded and output first, then a warning names the frame and byte offset
       (tshark also exits with 2)
  3    `dmvpn sessions --fail-on error|warning`: the report was written in full and has a
       finding of that severity or worse (an unreadable capture's 2 comes first)
  141  standard output was closed by its reader (`dmvpn decode big.pcap | head -1`): dmvpn stops
       reading at once and exits silently (128 + SIGPIPE: what the shell reports for a coreutils
       tool stopped by a closed pipe)";

/// Read, check and decrypt DMVPN captures (GRE, NHRP, EIGRP, IKEv1, ESP).
#[derive(Debug, Parser)]
#[command(name = "dmvpn", version, about, after_help = AFTER_HELP)]
pub(crate) struct Cli {
    #[command(subcommand)]
    pub(crate) command: Command,
    /// Colour the text output: `auto` when standard output is a terminal and NO_COLOR is not
    /// set (<https://no-color.org>).
    #[arg(long, global = true, value_enum, value_name = "WHEN", default_value_t = ColorWhen::Auto)]
    pub(crate) color: ColorWhen,
}

/// `--color`.
#[derive(Clone, Copy, Debug, Eq, PartialEq, ValueEnum)]
pub(crate) enum ColorWhen {
    /// On a terminal, unless NO_COLOR is set to anything but the empty string.
    Auto,
    /// Always (even into a pipe or a file).
    Always,
    /// Never.
    Never,
}

impl ColorWhen {
    pub(crate) fn enabled(self) -> bool {
        match self {
            Self::Always => true,
            Self::Never => false,
            Self::Auto => {
                io::stdout().is_terminal()
                    && std::env::var_os("NO_COLOR").is_none_or(|value| value.is_empty())
            }
        }
    }
}

#[derive(Debug, Subcommand)]
pub(crate) enum Command {
    /// Decode every frame of a pcap or pcapng capture, decrypting ESP with the keys given.
    Decode {
        #[command(flatten)]
        input: CaptureArgs,
        #[command(flatten)]
        keys: KeyArgs,
        /// Output format: one summary line per frame, JSON Lines with every layer, or only a
        /// table of what was found (every frame decoded, nothing printed per frame).
        #[arg(long, value_enum, default_value_t = Format::Text)]
        format: Format,
        /// Decoding threads. Frames are shared out by IP address pair (a spoke and the hub), so
        /// the output is the same as with one thread, in frame order.
        #[arg(long, default_value_t = 1, value_parser = clap::value_parser!(u16).range(1..=256))]
        threads: u16,
        #[command(flatten)]
        select: Select,
    },
    /// Write a pcapng copy of a capture with every ESP packet the keys open replaced by its
    /// plaintext (transport mode: the outer IPv4 header with the next header as protocol; tunnel
    /// mode: the inner packet). Other frames, and the fragments before the one that completes a
    /// datagram, are written unchanged, so frame numbers match the input. Each frame that held ESP
    /// keeps its SPI, sequence number, ICV result and key line as a packet comment (Wireshark's
    /// frame.comment); when nothing decrypts, a warning says why (the SPIs no key matched, …).
    Decrypt {
        #[command(flatten)]
        input: CaptureArgs,
        #[command(flatten)]
        keys: KeyArgs,
        /// The pcapng file to write (written under a temporary name and renamed once complete;
        /// never the input); `-` writes to standard output.
        #[arg(short = 'o', long = "output", value_name = "OUT.pcapng")]
        output: PathBuf,
        #[command(flatten)]
        select: Select,
    },
    /// Report one record per peer pair (hub <-> spoke, by NBMA address): NHRP registrations, IKE
    /// phase 1 and 2, ESP flows, EIGRP adjacency, inner traffic, and the diagnosis findings.
    Sessions {
        #[command(flatten)]
        input: CaptureArgs,
        #[command(flatten)]
        keys: KeyArgs,
        /// A pre-shared key for every peer (repeatable): each IKEv1 phase 1 SA's HASH_I (and
        /// HASH_R) is recomputed with it (RFC 2409 §5) and reported verified or mismatched. Main
        /// Mode 5/6 must be readable: give their `ikev1_decryption_table` with --keys. Over
        /// IKEv2 each side's AUTH payload is recomputed (RFC 7296 §2.15) when the SA's
        /// `ikev2_decryption_table` line has SK_pi and SK_pr (its 10th and 11th columns).
        #[arg(long = "psk", value_name = "SECRET")]
        psk: Vec<String>,
        /// Output format: a readable per-peer report, one JSON object, or a self-contained HTML
        /// page (status table that sorts and filters, topology graph, per-peer timelines,
        /// findings; one file: no network access, a little inline JavaScript).
        #[arg(long, value_enum, default_value_t = SessionsFormat::Text)]
        format: SessionsFormat,
        /// After writing the report, exit with status 3 if it has a finding of this severity or
        /// worse (`error`; `warning`: a warning or an error), so that a script or a monitor can
        /// act on it.
        #[arg(long, value_enum, value_name = "SEVERITY")]
        fail_on: Option<FailOn>,
        #[command(flatten)]
        select: Select,
    },
    /// Export captures to a Parquet dataset for DuckDB, Spark, Trino or DataFusion: tables frames,
    /// nhrp_events, ike_sas, esp_flows, eigrp_adjacencies and findings, each under
    /// DIR/TABLE/date=YYYY-MM-DD/hub=ADDR/ (Hive partitions), in files named after the hash of the
    /// captures' contents: exporting the same captures again replaces its files (atomically),
    /// and exports of other captures can run at the same time into the same DIR.
    #[cfg(feature = "parquet")]
    Export {
        #[command(flatten)]
        input: CaptureArgs,
        #[command(flatten)]
        keys: KeyArgs,
        /// The output format (schema: crates/dmvpn/schemas/parquet.md).
        #[arg(long, value_enum, default_value_t = ExportFormat::Parquet)]
        format: ExportFormat,
        /// The dataset's folder (created if missing).
        #[arg(short = 'o', long = "output", value_name = "DIR")]
        output: PathBuf,
    },
    /// Send a capture's frames onto an interface (`--iface`, an AF_PACKET raw socket: needs root or
    /// CAP_NET_RAW), with the original timing scaled by --speed, at --pps, or --topspeed;
    /// optionally rewriting IPv4 addresses (outer header, with the IPv4, UDP, TCP and ICMP
    /// checksums fixed; encrypted ESP payloads and GRE contents are left as they are).
    /// Or, with `--into hub|spoke`, feed the capture's control plane into the sans-IO hub or spoke
    /// machine of dmvpn-proto, driven by the capture's timestamps, and print its state timeline.
    #[command(mut_arg("files", |arg| arg.requires("into")
        .help("With --into: key files, as for `decode` (ESP is decrypted and fed as GRE)")))]
    Replay {
        /// The capture: pcap or pcapng, gzip-compressed or not; `-` reads standard input.
        file: PathBuf,
        /// The interface to send on.
        #[arg(
            long,
            value_name = "IF",
            required_unless_present = "into",
            conflicts_with = "into"
        )]
        iface: Option<String>,
        /// Play one router of the capture with the dmvpn-proto machine instead of sending.
        #[arg(long, value_enum, value_name = "ROLE")]
        into: Option<IntoRole>,
        /// With --into: the NBMA address of the router to play (default: the hub, or the first
        /// spoke that registers).
        #[arg(long, value_name = "A", requires = "into")]
        nbma: Option<std::net::Ipv4Addr>,
        /// With --into: the tunnel's prefix length (the capture does not show it).
        #[arg(long, value_name = "LEN", default_value_t = 24, requires = "into")]
        prefix_len: u8,
        #[command(flatten)]
        keys: KeyArgs,
        /// Speed factor for the capture's own timing (2 = twice as fast; 0 = as fast as possible).
        #[arg(long, value_name = "X", conflicts_with_all = ["pps", "topspeed"])]
        speed: Option<f64>,
        /// A fixed rate in packets per second instead of the capture's timing.
        #[arg(long, value_name = "N", conflicts_with = "topspeed")]
        pps: Option<u32>,
        /// As fast as possible.
        #[arg(long)]
        topspeed: bool,
        /// Passes over the capture.
        #[arg(long = "loop", value_name = "N", default_value_t = 1, value_parser = clap::value_parser!(u32).range(1..))]
        loops: u32,
        /// Rewrite an IPv4 address, as source and destination (repeatable).
        #[arg(long = "rewrite", value_name = "OLD=NEW")]
        rewrite: Vec<String>,
        /// Source MAC of every frame sent (default: as captured; 02:00:00:00:00:01 for captures
        /// without Ethernet headers).
        #[arg(long, value_name = "MAC")]
        src_mac: Option<dmvpn::replay::Mac>,
        /// Destination MAC of every frame sent (default: as captured; broadcast for captures without
        /// Ethernet headers).
        #[arg(long, value_name = "MAC")]
        dst_mac: Option<dmvpn::replay::Mac>,
    },
    /// Print a shell completion script: `dmvpn completions bash > /etc/bash_completion.d/dmvpn`,
    /// `dmvpn completions zsh > ~/.zfunc/_dmvpn`, `dmvpn completions fish >
    /// ~/.config/fish/completions/dmvpn.fish`.
    Completions {
        /// The shell.
        #[arg(value_enum)]
        shell: clap_complete::Shell,
    },
    /// Write the manual pages: dmvpn.1 and one per command (dmvpn-decode.1 and so on) into DIR, or
    /// print dmvpn.1 (`dmvpn man | man -l -`).
    Man {
        /// The folder to write the pages into (created if missing).
        #[arg(long, value_name = "DIR")]
        dir: Option<PathBuf>,
    },
}

/// The captures a command reads: one file, or a capture set ([`dmvpn::capture::set`]).
#[derive(Debug, clap::Args)]
pub(crate) struct CaptureArgs {
    /// The captures: pcap or pcapng files, gzip-compressed or not; folders (their capture files,
    /// by name); glob patterns (`'ring/*.pcapng'`, expanded by dmvpn: quoting is safe). Several
    /// are merged by timestamp into one capture (frames numbered across them); a file cut short
    /// or damaged is reported and the others are read on. `-` reads standard input.
    #[arg(value_name = "FILE", required = true)]
    pub(crate) captures: Vec<PathBuf>,
}

/// `--keys`, the same for every command that reads keys: each file is told apart by its content
/// ([`dmvpn::keys::KeyFiles`]) and read once ([`load_keys`](super::input::load_keys)).
#[derive(Debug, Default, clap::Args)]
pub(crate) struct KeyArgs {
    /// A key file (repeatable): Wireshark's `esp_sa` (ESP keys), `ikev1_decryption_table`
    /// (IKEv1 encryption keys by initiator cookie) or `ikev2_decryption_table` (IKEv2 keys by
    /// SPIs; dmvpn also reads SK_d, SK_pi and SK_pr as 9th to 11th columns), or for `sessions` a pre-shared key file of IOS
    /// `crypto isakmp key SECRET address A.B.C.D` lines, told apart by content; without keys ESP
    /// and encrypted IKE stay opaque. Key material is never printed.
    #[arg(long = "keys", value_name = "FILE")]
    pub(crate) files: Vec<PathBuf>,
}

/// Which frames a command takes: tshark's `-Y` and `-c`, and frame ranges.
#[derive(Debug, Default, clap::Args)]
pub(crate) struct Select {
    /// A display filter, as tshark's -Y, over the fields dmvpn decodes, by tshark's names:
    /// `ip.addr == 192.0.2.11 && esp.spi == 0x1000a001`, `nhrp.hdr.op.type == 3`, `eigrp`,
    /// `!isakmp`, `frame.number in {10..20, 35}`, `ip.addr == 10.0.0.0/8`. `decode` shows,
    /// `decrypt` writes and `sessions` reads only the frames it keeps (every frame is still
    /// decoded, so ESP replay windows and fragments see them all).
    #[arg(short = 'Y', long = "display-filter", value_name = "EXPR")]
    filter: Option<String>,
    /// Read only the first N frames of the capture, as tshark's -c (counted before the display
    /// filter: `-Y esp -c 100` shows the ESP frames among the first 100).
    #[arg(short = 'c', long = "count", value_name = "N", value_parser = clap::value_parser!(u64).range(1..))]
    count: Option<u64>,
    /// Only these frames, by number: `10-20,35,100-` (the same as the filter
    /// `frame.number in {10..20, 35, 100..}`, and-ed with -Y); reading stops after the last.
    #[arg(long, value_name = "RANGES")]
    frames: Option<String>,
}

/// What [`Select`] asks for, parsed.
#[derive(Debug, Default)]
pub(crate) struct Selection {
    pub(crate) filter: Option<Filter>,
    /// The last frame to read.
    pub(crate) last_frame: Option<u64>,
}

impl Select {
    pub(crate) fn parse(&self) -> Result<Selection, Failure> {
        let expression = |error: dmvpn::filter::FilterError, text: &str, what: &str| {
            let pointer = format!("{:>width$}", "^", width = error.column());
            Failure::other(format!("{what}: {error}\n    {text}\n    {pointer}"))
        };
        let filter = self
            .filter
            .as_deref()
            .map(|text| Filter::parse(text).map_err(|error| expression(error, text, "-Y")))
            .transpose()?;
        let frames = self
            .frames
            .as_deref()
            .map(|text| Filter::frames(text).map_err(|error| expression(error, text, "--frames")))
            .transpose()?;
        let filter = match (filter, frames) {
            (Some(filter), Some(frames)) => Some(filter.and(frames)),
            (filter, frames) => filter.or(frames),
        };
        let last_frame = match (self.count, filter.as_ref().and_then(Filter::last_frame)) {
            (Some(count), Some(last)) => Some(count.min(last)),
            (count, last) => count.or(last),
        };
        Ok(Selection { filter, last_frame })
    }
}

/// `dmvpn export --format`.
#[cfg(feature = "parquet")]
#[derive(Clone, Copy, Debug, Eq, PartialEq, ValueEnum)]
pub(crate) enum ExportFormat {
    /// Apache Parquet (Snappy-compressed), Hive-partitioned by day and hub.
    Parquet,
}

/// `dmvpn replay --into`.
#[derive(Clone, Copy, Debug, Eq, PartialEq, ValueEnum)]
pub(crate) enum IntoRole {
    /// The NHS.
    Hub,
    /// A spoke.
    Spoke,
}

/// `dmvpn sessions --fail-on`: the least severity that fails the run.
#[derive(Clone, Copy, Debug, Eq, PartialEq, ValueEnum)]
pub(crate) enum FailOn {
    /// A finding of severity error.
    Error,
    /// A finding of severity warning or error.
    Warning,
}

impl FailOn {
    pub(crate) const fn severity(self) -> dmvpn::session::Severity {
        match self {
            Self::Error => dmvpn::session::Severity::Error,
            Self::Warning => dmvpn::session::Severity::Warning,
        }
    }
}

/// `dmvpn sessions --format`.
#[derive(Clone, Copy, Debug, Eq, PartialEq, ValueEnum)]
pub(crate) enum SessionsFormat {
    /// A readable per-peer report.
    Text,
    /// One JSON object.
    Json,
    /// One self-contained HTML page: topology graph (SVG), per-peer timelines, findings.
    Html,
}

#[derive(Clone, Copy, Debug, Eq, PartialEq, ValueEnum)]
pub(crate) enum Format {
    /// One tshark-like summary line per frame.
    Text,
    /// One JSON object per frame (JSON Lines).
    Json,
    /// No per-frame output: frames, bytes and the count of each layer kind, at the end.
    Summary,
}
