//! `dmvpn`: decode, check and decrypt DMVPN captures.

use std::fs::File;
use std::io::{self, IsTerminal, Read, Write};
use std::os::fd::AsFd;
use std::os::unix::fs::{FileTypeExt, MetadataExt};
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::{Duration, Instant};

use clap::{Parser, Subcommand, ValueEnum};
use dmvpn::capture::{CaptureError, CaptureReader};
use dmvpn::decode::{Decoder, IkeKeys, Sink, Summary};
use dmvpn::decrypt::OutputFile;
use dmvpn::filter::{Filter, Filtered, Retract};
use dmvpn::keys::EspKeys;
use dmvpn::output::{JsonLines, Pending, TextLines};
use dmvpn::session::{PskTable, SessionBuilder};

/// What `dmvpn --help` says after the options: input, output and exit status (README.md has the
/// same).
const AFTER_HELP: &str = "\
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

/// Exit status: bad arguments, key files or output.
const EXIT_ERROR: u8 = 1;
/// Exit status: the capture could not be read (entirely), as tshark.
const EXIT_CAPTURE: u8 = 2;
/// Exit status: `sessions --fail-on` found a finding of that severity or worse.
const EXIT_FINDINGS: u8 = 3;
/// Exit status: standard output closed by its reader (128 + SIGPIPE).
const EXIT_CLOSED_PIPE: u8 = 141;

/// Read, check and decrypt DMVPN captures (GRE, NHRP, EIGRP, IKEv1, ESP).
#[derive(Debug, Parser)]
#[command(name = "dmvpn", version, about, after_help = AFTER_HELP)]
struct Cli {
    #[command(subcommand)]
    command: Command,
    /// Colour the text output: `auto` when standard output is a terminal and NO_COLOR is not
    /// set (https://no-color.org).
    #[arg(long, global = true, value_enum, value_name = "WHEN", default_value_t = ColorWhen::Auto)]
    color: ColorWhen,
}

/// `--color`.
#[derive(Clone, Copy, Debug, Eq, PartialEq, ValueEnum)]
enum ColorWhen {
    /// On a terminal, unless NO_COLOR is set to anything but the empty string.
    Auto,
    /// Always (even into a pipe or a file).
    Always,
    /// Never.
    Never,
}

impl ColorWhen {
    fn enabled(self) -> bool {
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
enum Command {
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
        /// Mode 5/6 must be readable: give their `ikev1_decryption_table` with --keys.
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
struct CaptureArgs {
    /// The captures: pcap or pcapng files, gzip-compressed or not; folders (their capture files,
    /// by name); glob patterns (`'ring/*.pcapng'`, expanded by dmvpn: quoting is safe). Several
    /// are merged by timestamp into one capture (frames numbered across them); a file cut short
    /// or damaged is reported and the others are read on. `-` reads standard input.
    #[arg(value_name = "FILE", required = true)]
    captures: Vec<PathBuf>,
}

/// `--keys`, the same for every command that reads keys: each file is told apart by its content
/// ([`dmvpn::keys::KeyFiles`]) and read once ([`load_keys`]).
#[derive(Debug, Default, clap::Args)]
struct KeyArgs {
    /// A key file (repeatable): Wireshark's `esp_sa` (ESP keys) or `ikev1_decryption_table`
    /// (IKEv1 encryption keys by initiator cookie), or for `sessions` a pre-shared key file of IOS
    /// `crypto isakmp key SECRET address A.B.C.D` lines, told apart by content; without keys ESP
    /// and encrypted IKE stay opaque. Key material is never printed.
    #[arg(long = "keys", value_name = "FILE")]
    files: Vec<PathBuf>,
}

/// Which frames a command takes: tshark's `-Y` and `-c`, and frame ranges.
#[derive(Debug, Default, clap::Args)]
struct Select {
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
struct Selection {
    filter: Option<Filter>,
    /// The last frame to read.
    last_frame: Option<u64>,
}

impl Select {
    fn parse(&self) -> Result<Selection, Failure> {
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
enum ExportFormat {
    /// Apache Parquet (Snappy-compressed), Hive-partitioned by day and hub.
    Parquet,
}

/// `dmvpn replay --into`.
#[derive(Clone, Copy, Debug, Eq, PartialEq, ValueEnum)]
enum IntoRole {
    /// The NHS.
    Hub,
    /// A spoke.
    Spoke,
}

/// `dmvpn sessions --fail-on`: the least severity that fails the run.
#[derive(Clone, Copy, Debug, Eq, PartialEq, ValueEnum)]
enum FailOn {
    /// A finding of severity error.
    Error,
    /// A finding of severity warning or error.
    Warning,
}

impl FailOn {
    const fn severity(self) -> dmvpn::session::Severity {
        match self {
            Self::Error => dmvpn::session::Severity::Error,
            Self::Warning => dmvpn::session::Severity::Warning,
        }
    }
}

/// `dmvpn sessions --format`.
#[derive(Clone, Copy, Debug, Eq, PartialEq, ValueEnum)]
enum SessionsFormat {
    /// A readable per-peer report.
    Text,
    /// One JSON object.
    Json,
    /// One self-contained HTML page: topology graph (SVG), per-peer timelines, findings.
    Html,
}

#[derive(Clone, Copy, Debug, Eq, PartialEq, ValueEnum)]
enum Format {
    /// One tshark-like summary line per frame.
    Text,
    /// One JSON object per frame (JSON Lines).
    Json,
    /// No per-frame output: frames, bytes and the count of each layer kind, at the end.
    Summary,
}

fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(error) => {
            // --help and --version succeed; a usage error is 1, as tshark's (2 is the capture's).
            let _ = error.print();
            return if error.use_stderr() {
                ExitCode::from(EXIT_ERROR)
            } else {
                ExitCode::SUCCESS
            };
        }
    };
    let live = stdout_is_live();
    let colour = cli.color.enabled();
    let result = match cli.command {
        Command::Completions { shell } => completions(shell),
        Command::Man { dir } => man_pages(dir.as_deref()),
        Command::Decode {
            input,
            keys,
            format,
            threads,
            select,
        } => select.parse().and_then(|select| {
            let output = Output { live, colour };
            decode(
                &Input::from_args(&input.captures)?,
                &keys.files,
                format,
                threads,
                output,
                &select,
            )
        }),
        Command::Decrypt {
            input,
            keys,
            output,
            select,
        } => select.parse().and_then(|select| {
            let input = Input::from_args(&input.captures)?;
            decrypt(&input, &keys.files, &output, live, &select)
        }),
        Command::Sessions {
            input,
            keys,
            psk,
            format,
            fail_on,
            select,
        } => select.parse().and_then(|select| {
            let input = Input::from_args(&input.captures)?;
            sessions(&input, &keys.files, &psk, format, fail_on, &select)
        }),
        #[cfg(feature = "parquet")]
        Command::Export {
            input,
            keys,
            format: ExportFormat::Parquet,
            output,
        } => export(&input.captures, &keys.files, &output),
        Command::Replay {
            file,
            into: Some(role),
            nbma,
            prefix_len,
            keys,
            ..
        } => replay_into(Input::new(file), role, nbma, prefix_len, &keys.files),
        Command::Replay {
            file,
            iface,
            speed,
            pps,
            topspeed,
            loops,
            rewrite,
            src_mac,
            dst_mac,
            ..
        } => {
            let pace = match (speed, pps, topspeed) {
                (_, _, true) => dmvpn::replay::Pace::TopSpeed,
                (_, Some(pps), _) => dmvpn::replay::Pace::Pps(pps),
                (speed, None, false) => dmvpn::replay::Pace::Original {
                    speed: speed.unwrap_or(1.0),
                },
            };
            let mut options = dmvpn::replay::Options::new(pace);
            options.loops = loops;
            options.ethernet = dmvpn::replay::EthernetAddrs {
                src: src_mac,
                dst: dst_mac,
            };
            replay(
                Input::new(file),
                iface.as_deref().unwrap_or_default(),
                options,
                &rewrite,
            )
        }
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(failure) => failure.report(),
    }
}

/// Why a command stopped before the end (see `AFTER_HELP` for the exit statuses).
#[derive(Debug)]
enum Failure {
    /// Standard output was closed by its reader: stop quietly.
    ClosedPipe,
    /// The capture could not be opened, or read to its end (every whole frame before the fault
    /// has been handled).
    Capture {
        /// How to name it: `The file "x.pcap"`, `The standard input`.
        input: String,
        error: CaptureError,
    },
    /// Files of a capture set that could not be read to their end (the others were read).
    Set(Vec<dmvpn::capture::set::SetError>),
    /// `sessions --fail-on`: this many findings of that severity or worse.
    Findings(usize, FailOn),
    /// Anything else: key files, an output file, a missing router.
    Other(Box<dyn std::error::Error>),
}

impl Failure {
    fn other(error: impl Into<Box<dyn std::error::Error>>) -> Self {
        Self::Other(error.into())
    }

    /// A write to standard output failed.
    fn stdout(error: io::Error) -> Self {
        if error.kind() == io::ErrorKind::BrokenPipe {
            Self::ClosedPipe
        } else {
            Self::other(format!("standard output: cannot write: {error}"))
        }
    }

    /// Prints what went wrong (nothing for a closed pipe) and returns the exit status.
    fn report(self) -> ExitCode {
        match self {
            Self::ClosedPipe => ExitCode::from(EXIT_CLOSED_PIPE),
            Self::Capture { input, error } => {
                eprintln!("dmvpn: {}", capture_message(&input, &error));
                if let Some(hint) = capture_hint(&error) {
                    eprintln!("  hint: {hint}");
                }
                ExitCode::from(EXIT_CAPTURE)
            }
            Self::Set(errors) => {
                for set_error in &errors {
                    let input = format!("The file \"{}\"", set_error.path.display());
                    if set_error.error.position().and_then(|at| at.frame).is_some() {
                        eprintln!("dmvpn: {}", capture_message(&input, &set_error.error));
                    } else {
                        eprintln!("dmvpn: {set_error}");
                    }
                    if let Some(hint) = capture_hint(&set_error.error) {
                        eprintln!("  hint: {hint}");
                    }
                }
                ExitCode::from(EXIT_CAPTURE)
            }
            Self::Other(error) => {
                eprintln!("dmvpn: {error}");
                if let Some(hint) = other_hint(error.as_ref()) {
                    eprintln!("  hint: {hint}");
                }
                ExitCode::from(EXIT_ERROR)
            }
            Self::Findings(count, at) => {
                let name = at.severity().name();
                eprintln!(
                    "dmvpn: {count} finding(s) of severity {name} or worse (--fail-on {name})"
                );
                ExitCode::from(EXIT_FINDINGS)
            }
        }
    }
}

/// What to try for a capture that cannot be read.
fn capture_hint(error: &CaptureError) -> Option<&'static str> {
    match error {
        CaptureError::Open { source, .. } if source.kind() == io::ErrorKind::NotFound => Some(
            "check the path; `-` reads the capture from standard input (`tcpdump -w - | dmvpn decode -`)",
        ),
        CaptureError::Open { source, .. } if source.kind() == io::ErrorKind::PermissionDenied => {
            Some(
                "the file is not readable by this user (captures made by tcpdump as root often are not)",
            )
        }
        CaptureError::Open { source, .. } if source.raw_os_error() == Some(21) => {
            Some("this is a folder: give a capture file in it")
        }
        CaptureError::UnknownFormat { .. } | CaptureError::Empty => Some(
            "dmvpn reads pcap and pcapng, gzip-compressed or not; `editcap -F pcapng IN OUT` converts \
             the other formats Wireshark reads",
        ),
        _ => None,
    }
}

/// What to try for a key file that is not one.
fn other_hint(error: &(dyn std::error::Error + 'static)) -> Option<&'static str> {
    let keys = error.downcast_ref::<dmvpn::keys::KeysError>()?;
    Some(match keys {
        dmvpn::keys::KeysError::Read { source, .. } if source.kind() == io::ErrorKind::NotFound => {
            "check the path given to --keys"
        }
        _ => {
            "--keys takes Wireshark's `esp_sa` file (ESP SAs, as Preferences > Protocols > ESP \
             writes it), an `ikev1_decryption_table` (IKEv1 keys by initiator cookie), or, for \
             `sessions`, IOS `crypto isakmp key SECRET address A.B.C.D` lines; `dmvpn decode --help` \
             says more"
        }
    })
}

/// tshark's words for a capture that stops early, and where it stops.
fn capture_message(input: &str, error: &CaptureError) -> String {
    let Some(at) = error.position() else {
        return error.to_string();
    };
    let Some(frame) = at.frame else {
        return error.to_string();
    };
    let offset = at.offset;
    match error {
        CaptureError::Truncated {
            what,
            needed,
            available,
            ..
        } => format!(
            "{input} appears to have been cut short in the middle of a packet: frame {frame} at \
             byte offset {offset} is incomplete (the capture ends inside its {what}: {needed} bytes \
             needed, {available} present)"
        ),
        CaptureError::CompressedTruncated { .. } => format!(
            "{input} appears to have been cut short in the middle of a packet: its gzip-compressed \
             stream ends before its end, at frame {frame} (byte offset {offset} of the \
             decompressed capture)"
        ),
        _ => format!("{input} appears to be damaged or corrupt: {error}"),
    }
}

/// The capture named on the command line: a file, or standard input (`-`).
struct Input {
    /// `None`: standard input (or a set).
    path: Option<PathBuf>,
    /// Standard input copied to a temporary file, for commands that read the capture again.
    spool: Option<File>,
    /// Several files read as one capture, and the status of the set being read.
    set: Option<(Vec<PathBuf>, std::sync::Mutex<Option<SetStatusRef>>)>,
}

/// How far a capture set has been read, and its files' errors.
type SetStatusRef = std::sync::Arc<dmvpn::capture::set::SetStatus>;

/// A capture reader over a file or standard input.
type Reader = CaptureReader<Box<dyn Read + Send>>;

impl Input {
    fn new(path: PathBuf) -> Self {
        Self {
            path: (path.as_os_str() != "-").then_some(path),
            spool: None,
            set: None,
        }
    }

    /// The capture the arguments name: one file (or standard input), or a set of files, folders
    /// and glob patterns merged into one capture.
    fn from_args(args: &[PathBuf]) -> Result<Self, Failure> {
        let paths = dmvpn::capture::set::expand(args).map_err(Failure::other)?;
        match <[PathBuf; 1]>::try_from(paths) {
            Ok([path]) => Ok(Self::new(path)),
            Err(paths) if paths.iter().any(|path| path.as_os_str() == "-") => Err(Failure::other(
                "`-` (standard input) cannot be merged with other captures",
            )),
            Err(paths) => Ok(Self {
                path: None,
                spool: None,
                set: Some((paths, std::sync::Mutex::default())),
            }),
        }
    }

    /// The status of the set being read, once it is open.
    fn set_status(&self) -> Option<SetStatusRef> {
        let (_, status) = self.set.as_ref()?;
        status
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .clone()
    }

    /// A short title: the file's name, `standard input`, `N captures`.
    fn title(&self) -> String {
        if let Some((paths, _)) = &self.set {
            return format!("{} captures", paths.len());
        }
        self.path.as_ref().map_or_else(
            || "standard input".to_owned(),
            |path| {
                path.file_name().map_or_else(
                    || path.display().to_string(),
                    |n| n.to_string_lossy().into_owned(),
                )
            },
        )
    }

    /// How messages name it, in tshark's words.
    fn name(&self) -> String {
        if let Some((paths, _)) = &self.set {
            return format!("The capture set ({} files)", paths.len());
        }
        match &self.path {
            Some(path) => format!("The file \"{}\"", path.display()),
            None => "The standard input".to_owned(),
        }
    }

    fn metadata(&self) -> Option<std::fs::Metadata> {
        match &self.path {
            Some(path) => std::fs::metadata(path).ok(),
            None => fd_metadata(io::stdin().as_fd()),
        }
    }

    /// Whether a read may wait for a writer: a pipe, a FIFO, a terminal, a socket.
    fn is_live(&self) -> bool {
        self.set.is_none()
            && self.spool.is_none()
            && self.metadata().is_none_or(|meta| !meta.is_file())
    }

    /// A reader at the start of the capture whose read errors end the frames (taken by
    /// [`Input::finish`]).
    fn open(&self) -> Result<Reader, Failure> {
        let mut reader = self.open_reader().map_err(|error| self.failure(error))?;
        reader.end_at_errors();
        Ok(reader)
    }

    fn open_reader(&self) -> Result<Reader, CaptureError> {
        if let Some((paths, status)) = &self.set {
            use dmvpn::capture::set::{CaptureSet, SetStream};
            let set = CaptureSet::open(paths.clone());
            *status
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner) = Some(set.status());
            return CaptureReader::new(Box::new(SetStream::new(set)) as Box<dyn Read + Send>);
        }
        let input: Box<dyn Read + Send> = match (&self.spool, &self.path) {
            (Some(spool), _) => {
                let mut file = spool.try_clone().map_err(|source| CaptureError::Open {
                    path: std::env::temp_dir(),
                    source,
                })?;
                io::Seek::rewind(&mut file).map_err(|source| CaptureError::Open {
                    path: std::env::temp_dir(),
                    source,
                })?;
                Box::new(file)
            }
            (None, Some(path)) => {
                Box::new(File::open(path).map_err(|source| CaptureError::Open {
                    path: path.clone(),
                    source,
                })?)
            }
            (None, None) => Box::new(io::stdin()),
        };
        CaptureReader::new(input)
    }

    fn failure(&self, error: CaptureError) -> Failure {
        Failure::Capture {
            input: self.name(),
            error,
        }
    }

    /// The read error that ended the capture early, if any (every whole frame before it has been
    /// handled by then).
    fn finish<R: Read>(&self, reader: &mut CaptureReader<R>) -> Result<(), Failure> {
        if let Some(error) = reader.take_error() {
            return Err(self.failure(error));
        }
        let errors = self
            .set_status()
            .map(|status| status.take_errors())
            .unwrap_or_default();
        if errors.is_empty() {
            Ok(())
        } else {
            Err(Failure::Set(errors))
        }
    }

    /// Makes the capture readable more than once: a file is opened again; standard input
    /// redirected from a file is read again through its descriptor; a pipe or a FIFO is copied
    /// to a temporary file (removed from its folder at once; only this process holds it).
    fn rewindable(&mut self) -> Result<(), Failure> {
        if self.spool.is_some() {
            return Ok(());
        }
        if !self.is_live() {
            if self.path.is_none() {
                let stdin = io::stdin().as_fd().try_clone_to_owned();
                self.spool =
                    Some(File::from(stdin.map_err(|error| {
                        Failure::other(format!("standard input: {error}"))
                    })?));
            }
            return Ok(());
        }
        let mut source: Box<dyn Read> = match &self.path {
            Some(path) => Box::new(File::open(path).map_err(|source| {
                self.failure(CaptureError::Open {
                    path: path.clone(),
                    source,
                })
            })?),
            None => Box::new(io::stdin().lock()),
        };
        let path = std::env::temp_dir().join(format!("dmvpn-input-{}.capture", std::process::id()));
        let spool_error = |error: io::Error| {
            Failure::other(format!(
                "{}: cannot copy the capture: {error}",
                path.display()
            ))
        };
        let mut file = {
            use std::os::unix::fs::OpenOptionsExt;
            std::fs::OpenOptions::new()
                .read(true)
                .write(true)
                .create_new(true)
                .mode(0o600)
                .open(&path)
                .map_err(spool_error)?
        };
        let _ = std::fs::remove_file(&path);
        io::copy(&mut source, &mut file).map_err(spool_error)?;
        self.spool = Some(file);
        Ok(())
    }
}

/// The metadata of an open file descriptor (standard input or output).
fn fd_metadata(fd: std::os::fd::BorrowedFd<'_>) -> Option<std::fs::Metadata> {
    File::from(fd.try_clone_to_owned().ok()?).metadata().ok()
}

/// Whether standard output should get each frame as soon as it is decoded (tshark's `-l`): a
/// pipe, a terminal or a socket, whose reader is waiting. A regular file or /dev/null (what
/// tools/perf/bench.sh writes to) is written in large chunks.
fn stdout_is_live() -> bool {
    let Some(meta) = fd_metadata(io::stdout().as_fd()) else {
        return false;
    };
    let is_null = || {
        meta.file_type().is_char_device()
            && std::fs::metadata("/dev/null").is_ok_and(|null| null.rdev() == meta.rdev())
    };
    !meta.is_file() && !is_null()
}

/// How standard output is written.
#[derive(Clone, Copy, Debug)]
struct Output {
    /// Flush each frame (a pipe or a terminal).
    live: bool,
    /// Colour the text output.
    colour: bool,
}

/// `dmvpn completions SHELL`.
fn completions(shell: clap_complete::Shell) -> Result<(), Failure> {
    use clap::CommandFactory;
    let mut out = Vec::new();
    clap_complete::generate(shell, &mut Cli::command(), "dmvpn", &mut out);
    let mut stdout = io::stdout().lock();
    stdout
        .write_all(&out)
        .and_then(|()| stdout.flush())
        .map_err(Failure::stdout)
}

/// `dmvpn man [--dir DIR]`: dmvpn.1 (with the exit status and examples) and dmvpn-CMD.1.
fn man_pages(dir: Option<&Path>) -> Result<(), Failure> {
    use clap::CommandFactory;
    let command = Cli::command().version(env!("CARGO_PKG_VERSION"));
    let render = |command: clap::Command| {
        let mut page = Vec::new();
        clap_mangen::Man::new(command)
            .render(&mut page)
            .map(|()| page)
            .map_err(|error| Failure::other(format!("man page: {error}")))
    };
    let Some(dir) = dir else {
        let page = render(command)?;
        let mut stdout = io::stdout().lock();
        return stdout
            .write_all(&page)
            .and_then(|()| stdout.flush())
            .map_err(Failure::stdout);
    };
    let write = |name: &str, page: &[u8]| {
        let path = dir.join(name);
        std::fs::write(&path, page)
            .map_err(|error| Failure::other(format!("{}: cannot write: {error}", path.display())))
    };
    std::fs::create_dir_all(dir)
        .map_err(|error| Failure::other(format!("{}: cannot create: {error}", dir.display())))?;
    let mut names = vec!["dmvpn.1".to_owned()];
    write("dmvpn.1", &render(command.clone())?)?;
    for sub in command.get_subcommands() {
        if sub.get_name() == "help" {
            continue;
        }
        let name = format!("dmvpn-{}", sub.get_name());
        // The page is named and titled `dmvpn-decode`, not `decode` (clap wants a static name:
        // a few bytes leaked by a command that exits next).
        let static_name: &'static str = Box::leak(name.clone().into_boxed_str());
        let sub = sub
            .clone()
            .name(static_name)
            .version(env!("CARGO_PKG_VERSION"));
        write(&format!("{name}.1"), &render(sub)?)?;
        names.push(format!("{name}.1"));
    }
    eprintln!("dmvpn: wrote {} in {}", names.join(", "), dir.display());
    Ok(())
}

fn decode(
    input: &Input,
    key_files: &[PathBuf],
    format: Format,
    threads: u16,
    Output { live, colour }: Output,
    select: &Selection,
) -> Result<(), Failure> {
    let mut reader = input.open()?;
    // On a terminal the frames' lines show the progress; a summary prints only at the end.
    let mut progress = Progress::new(
        input,
        format == Format::Summary || !io::stdout().is_terminal(),
    );
    if threads > 1 {
        decode_parallel(
            input,
            &mut reader,
            key_files,
            format,
            threads,
            Output { live, colour },
            &mut progress,
            select,
        )?;
        progress.done();
        return input.finish(&mut reader);
    }
    let (keys, ike_keys) = load_keys(key_files).map_err(Failure::Other)?;
    let mut decoder = Decoder::with_ike_keys(keys, ike_keys);
    let stdout = io::stdout().lock();
    match format {
        Format::Text => {
            let mut sink = TextLines::new(stdout);
            sink.flush_each_frame(live);
            sink.colour(colour);
            let sink = run_select(
                &mut reader,
                &mut decoder,
                sink,
                &mut progress,
                select,
                TextLines::write_failed,
            );
            sink.finish().map(drop).map_err(Failure::stdout)?;
        }
        Format::Json => {
            let mut sink = JsonLines::new(stdout);
            sink.flush_each_frame(live);
            let sink = run_select(
                &mut reader,
                &mut decoder,
                sink,
                &mut progress,
                select,
                JsonLines::write_failed,
            );
            sink.finish().map(drop).map_err(Failure::stdout)?;
        }
        Format::Summary => {
            let summary = run_select(
                &mut reader,
                &mut decoder,
                Summary::default(),
                &mut progress,
                select,
                |_| false,
            );
            progress.done();
            let mut stdout = stdout;
            write!(stdout, "{summary}")
                .and_then(|()| stdout.flush())
                .map_err(Failure::stdout)?;
        }
    }
    progress.done();
    input.finish(&mut reader)
}

/// `decode --threads N`: one decoder (with its own copy of the keys) and one in-memory writer per
/// thread. The capture is read once, as a stream.
#[expect(
    clippy::too_many_arguments,
    reason = "decode's own arguments, passed on; a struct would only rename them"
)]
fn decode_parallel(
    input: &Input,
    reader: &mut Reader,
    key_files: &[PathBuf],
    format: Format,
    threads: u16,
    Output { live, colour }: Output,
    progress: &mut Progress,
    select: &Selection,
) -> Result<(), Failure> {
    let decoders = (0..threads)
        .map(|_| load_keys(key_files).map(|(esp, ike)| Decoder::with_ike_keys(esp, ike)))
        .collect::<Result<Vec<_>, _>>()
        .map_err(Failure::Other)?;
    let mut out = io::BufWriter::with_capacity(1 << 16, io::stdout().lock());
    let options = dmvpn::parallel::Options {
        flush_each_batch: live,
        live_input: input.is_live(),
        last_frame: select.last_frame,
    };
    let filter = select.filter.as_ref();
    let tick = |offset| progress.tick(offset);
    let result = match format {
        Format::Text => {
            // Every thread prints times relative to the capture's first frame.
            let start = reader
                .peek_frame()
                .ok()
                .flatten()
                .map(|frame| frame.timestamp)
                .unwrap_or_default();
            let sink = || {
                let mut lines = TextLines::detached(start);
                lines.colour(colour);
                lines
            };
            parallel_select(reader, decoders, sink, &mut out, tick, options, filter).0
        }
        Format::Json => {
            let sink = JsonLines::detached;
            parallel_select(reader, decoders, sink, &mut out, tick, options, filter).0
        }
        Format::Summary => {
            let (result, shards) = parallel_select(
                reader,
                decoders,
                Summary::default,
                &mut out,
                tick,
                options,
                filter,
            );
            let mut total = Summary::default();
            for summary in &shards {
                total.merge(summary);
            }
            progress.done();
            result.and_then(|()| {
                write!(out, "{total}").map_err(dmvpn::parallel::ParallelError::Output)
            })
        }
    };
    match result {
        Ok(()) => out.flush().map_err(Failure::stdout),
        Err(dmvpn::parallel::ParallelError::Output(error)) => Err(Failure::stdout(error)),
        Err(error) => Err(Failure::other(error)),
    }
}

/// [`dmvpn::parallel::decode_with`] into one `sink()` per decoder, through the filter if there
/// is one; returns the sinks.
fn parallel_select<S: Pending + Retract + Send>(
    reader: &mut Reader,
    decoders: Vec<Decoder>,
    sink: impl Fn() -> S,
    out: &mut impl Write,
    tick: impl FnMut(u64),
    options: dmvpn::parallel::Options,
    filter: Option<&Filter>,
) -> (Result<(), dmvpn::parallel::ParallelError>, Vec<S>)
where
    S::Mark: Send,
{
    if let Some(filter) = filter {
        let mut shards: Vec<_> = decoders
            .into_iter()
            .map(|decoder| (decoder, Filtered::new(filter, sink())))
            .collect();
        let result = dmvpn::parallel::decode_with(reader, &mut shards, out, tick, options);
        let sinks = shards.into_iter().map(|(_, sink)| sink.into_inner());
        (result, sinks.collect())
    } else {
        let mut shards: Vec<_> = decoders
            .into_iter()
            .map(|decoder| (decoder, sink()))
            .collect();
        let result = dmvpn::parallel::decode_with(reader, &mut shards, out, tick, options);
        (result, shards.into_iter().map(|(_, sink)| sink).collect())
    }
}

fn decrypt(
    input: &Input,
    key_files: &[PathBuf],
    output: &Path,
    live: bool,
    select: &Selection,
) -> Result<(), Failure> {
    let (keys, ike_keys) = load_keys(key_files).map_err(Failure::Other)?;
    // The packet comments name the key line each ESP packet matched (a clone shares the table).
    let key_table = keys.clone();
    let select = dmvpn::decrypt::Select {
        filter: select.filter.as_ref(),
        last_frame: select.last_frame,
        keys: Some(&key_table),
    };
    let mut decoder = Decoder::with_ike_keys(keys, ike_keys);
    let write_failure = |error: dmvpn::decrypt::DecryptFileError, file: Option<&OutputFile>| match (
        error.into_io_error(),
        file,
    ) {
        (Ok(error), Some(file)) => Failure::other(file.write_error(error)),
        (Ok(error), None) => Failure::stdout(error),
        (Err(error), _) => Failure::other(error),
    };
    let (stats, written_to) = if output.as_os_str() == "-" {
        let mut reader = input.open()?;
        let mut out = io::BufWriter::with_capacity(1 << 16, io::stdout().lock());
        let stats =
            dmvpn::decrypt::decrypt_selected(&mut reader, &mut decoder, &mut out, live, &select)
                .map_err(|error| write_failure(error, None))?;
        out.flush().map_err(Failure::stdout)?;
        (stats, (reader, "standard output".to_owned()))
    } else {
        // The output is checked (and its temporary file made) before anything is read; no file
        // of a set may be written over either.
        if let (Some((paths, _)), Ok(out)) = (&input.set, std::fs::metadata(output)) {
            let same = |path: &PathBuf| {
                std::fs::metadata(path).is_ok_and(|m| (m.dev(), m.ino()) == (out.dev(), out.ino()))
            };
            if let Some(path) = paths.iter().find(|path| same(path)) {
                return Err(Failure::other(format!(
                    "{}: refusing to write over the input capture {}",
                    output.display(),
                    path.display()
                )));
            }
        }
        let mut file =
            OutputFile::create(output, input.metadata().as_ref()).map_err(Failure::other)?;
        let mut reader = input.open()?;
        let decrypted =
            dmvpn::decrypt::decrypt_selected(&mut reader, &mut decoder, &mut file, false, &select);
        let stats = match decrypted {
            Ok(stats) => stats,
            Err(error) => return Err(write_failure(error, Some(&file))),
        };
        file.commit().map_err(Failure::other)?;
        (stats, (reader, output.display().to_string()))
    };
    let (mut reader, name) = written_to;
    let filtered = if select.filter.is_some() {
        format!(" ({} left out by the display filter)", stats.filtered_out)
    } else {
        String::new()
    };
    eprintln!(
        "dmvpn: {} frames written to {name}{filtered}, {} decrypted ({} reassembled from fragments), {} unchanged",
        stats.frames, stats.replaced, stats.reassembled, stats.kept
    );
    if let Some(warning) = stats.warning() {
        eprintln!("dmvpn: warning: {warning}");
    }
    input.finish(&mut reader)
}

fn sessions(
    input: &Input,
    key_files: &[PathBuf],
    psk: &[String],
    format: SessionsFormat,
    fail_on: Option<FailOn>,
    select: &Selection,
) -> Result<(), Failure> {
    let mut psks = PskTable::new();
    let mut other_files = Vec::new();
    for path in key_files {
        let text = std::fs::read_to_string(path).unwrap_or_default();
        if PskTable::is_psk_file(&text) {
            let table = PskTable::parse(&text)
                .map_err(|error| Failure::other(format!("{}: {error}", path.display())))?;
            psks.extend(table);
        } else {
            other_files.push(path.clone());
        }
    }
    for secret in psk {
        psks.add(None, secret.as_bytes());
    }
    let (keys, ike_keys) = load_keys(&other_files).map_err(Failure::Other)?;
    let mut decoder = Decoder::with_ike_keys(keys, ike_keys);
    let mut reader = input.open()?;
    let builder = if psks.is_empty() {
        SessionBuilder::new()
    } else {
        SessionBuilder::with_psks(psks)
    };
    let report = if select.filter.is_none() && select.last_frame.is_none() {
        builder
            .read(&mut reader, &mut decoder)
            .map_err(|error| input.failure(error))?
    } else {
        let (keys, ike_keys) = load_keys(&other_files).map_err(Failure::Other)?;
        let judge_decoder = Decoder::with_ike_keys(keys, ike_keys);
        read_selected(builder, &mut reader, &mut decoder, judge_decoder, select)
    };
    let mut out = Vec::new();
    match format {
        SessionsFormat::Text => out.extend_from_slice(report.to_string().as_bytes()),
        SessionsFormat::Json => {
            report.write_json(&mut out);
            out.push(b'\n');
        }
        SessionsFormat::Html => {
            dmvpn::report::html(&report, &input.title(), &mut out).map_err(Failure::other)?;
        }
    }
    let mut stdout = io::stdout().lock();
    stdout
        .write_all(&out)
        .and_then(|()| stdout.flush())
        .map_err(Failure::stdout)?;
    input.finish(&mut reader)?;
    match fail_on {
        Some(at) => {
            let count = report
                .findings
                .iter()
                .filter(|finding| finding.severity >= at.severity())
                .count();
            if count > 0 {
                return Err(Failure::Findings(count, at));
            }
            Ok(())
        }
        None => Ok(()),
    }
}

fn replay(
    mut input: Input,
    iface: &str,
    mut options: dmvpn::replay::Options,
    rewrite: &[String],
) -> Result<(), Failure> {
    for pair in rewrite {
        options.rewrite.add_str(pair).map_err(Failure::other)?;
    }
    if options.loops > 1 {
        input.rewindable()?;
    }
    // Fail on an unreadable capture before touching the interface; this reader makes the first
    // pass (standard input is read once).
    let mut first = Some(input.open()?);
    let mut socket = dmvpn::replay::PacketSocket::open(iface)
        .map_err(|error| Failure::other(format!("{iface}: {error}")))?;
    let start = Instant::now();
    let mut open = || first.take().map_or_else(|| input.open_reader(), Ok);
    let (stats, error) = dmvpn::replay::replay(&mut open, &options, &mut socket, |at| {
        if let Some(due) = start.checked_add(at) {
            let now = Instant::now();
            if due > now {
                std::thread::sleep(due - now);
            }
        }
    })
    .map_err(|error| match error {
        dmvpn::replay::ReplayError::Capture(error) => input.failure(error),
        other => Failure::other(other),
    })?;
    eprintln!(
        "dmvpn: {} frame(s) sent on {iface} ({} bytes) in {:.3} s, {} rewritten, {} skipped, {} failed{}",
        stats.sent,
        stats.bytes,
        start.elapsed().as_secs_f64(),
        stats.rewritten,
        stats.skipped,
        stats.failed,
        stats
            .first_error
            .map_or_else(String::new, |e| format!(" (first error: {e})"))
    );
    error.map_or(Ok(()), |error| Err(input.failure(error)))
}

fn replay_into(
    mut input: Input,
    role: IntoRole,
    nbma: Option<std::net::Ipv4Addr>,
    prefix_len: u8,
    key_files: &[PathBuf],
) -> Result<(), Failure> {
    use dmvpn::replay::into::{self, IntoError, IntoOptions, Role};
    // Read once to report key file errors; the passes read them again.
    drop(load_keys(key_files).map_err(Failure::Other)?);
    let mut options = IntoOptions::new(match role {
        IntoRole::Hub => Role::Hub,
        IntoRole::Spoke => Role::Spoke,
    });
    options.nbma = nbma;
    options.prefix_len = prefix_len;
    // The machine is configured from a first pass, then fed in a second: the capture is read
    // three times.
    input.rewindable()?;
    let mut keys = || load_keys(key_files).unwrap_or_default();
    let played = into::play(&mut || input.open_reader(), &mut keys, &options);
    let (timeline, error) = played.map_err(|error| match error {
        IntoError::Capture(error) => input.failure(error),
        other => {
            // No router to play may come from a capture cut short: say both.
            let cut = input.open().map(|mut reader| {
                while let Ok(Some(_)) = reader.next_frame() {}
                input.finish(&mut reader)
            });
            match cut {
                Ok(Err(cut)) => {
                    eprintln!("dmvpn: {other}");
                    cut
                }
                _ => Failure::other(other),
            }
        }
    })?;
    let mut stdout = io::stdout().lock();
    stdout
        .write_all(timeline.to_string().as_bytes())
        .and_then(|()| stdout.flush())
        .map_err(Failure::stdout)?;
    error.map_or(Ok(()), |error| Err(input.failure(error)))
}

/// `dmvpn export`: the captures as one set, into the dataset under `dir`.
#[cfg(feature = "parquet")]
fn export(args: &[PathBuf], key_files: &[PathBuf], dir: &Path) -> Result<(), Failure> {
    let paths = dmvpn::capture::set::expand(args).map_err(Failure::other)?;
    if paths.iter().any(|path| path.as_os_str() == "-") {
        return Err(Failure::other(
            "export reads its captures twice: give files, not `-` (standard input)",
        ));
    }
    drop(load_keys(key_files).map_err(Failure::Other)?);
    let decoder = || {
        let (esp, ike) = load_keys(key_files).unwrap_or_default();
        Decoder::with_ike_keys(esp, ike)
    };
    // Each pass over the set gets its progress line, drawn by a thread that watches the set.
    let watched = std::sync::Arc::new(std::sync::Mutex::new(None::<SetStatusRef>));
    let finished = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let drawer = {
        let (watched, finished) = (watched.clone(), finished.clone());
        std::thread::spawn(move || watch_progress(&watched, &finished))
    };
    let watch = |_pass: u8, status: SetStatusRef| {
        *watched
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner) = Some(status);
    };
    let exported = dmvpn::export::export_watched(&paths, decoder, dir, watch);
    finished.store(true, std::sync::atomic::Ordering::Relaxed);
    let _ = drawer.join();
    let stats = exported.map_err(|error| match error {
        dmvpn::export::ExportError::NothingRead { errors } if !errors.is_empty() => {
            Failure::Set(errors)
        }
        other => Failure::other(other),
    })?;
    let rows = stats
        .rows
        .iter()
        .map(|(table, rows)| format!("{table} {rows}"))
        .collect::<Vec<_>>()
        .join(", ");
    eprintln!(
        "dmvpn: exported {} frames of {} file(s) to {} as {}.parquet ({} files; rows: {rows})",
        stats.frames,
        paths.len(),
        dir.display(),
        stats.export_id,
        stats.files.len(),
    );
    if stats.errors.is_empty() {
        Ok(())
    } else {
        Err(Failure::Set(stats.errors))
    }
}

/// Draws a [`Progress`] line for each set `watched` holds in turn (each of export's passes), until
/// `finished`.
#[cfg(feature = "parquet")]
fn watch_progress(
    watched: &std::sync::Mutex<Option<SetStatusRef>>,
    finished: &std::sync::atomic::AtomicBool,
) {
    let mut current: Option<(SetStatusRef, Progress)> = None;
    loop {
        let done = finished.load(std::sync::atomic::Ordering::Relaxed);
        let status = watched
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .clone();
        if let Some(status) = status
            && !current
                .as_ref()
                .is_some_and(|(shown, _)| std::sync::Arc::ptr_eq(shown, &status))
        {
            if let Some((_, mut progress)) = current.take() {
                progress.done();
            }
            let total = status.total_bytes();
            let progress = Progress::with_total(total, Some(status.clone()), true);
            current = Some((status, progress));
        }
        if let Some((_, progress)) = &mut current {
            progress.tick(0);
            if done {
                progress.done();
            }
        }
        if done {
            return;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// Reads each key file as what its content says it is ([`dmvpn::keys::KeyFiles`]), once: later
/// calls with the same files (one per decoding thread, each replay pass) share the tables parsed
/// the first time, and the warnings are printed once.
fn load_keys(key_files: &[PathBuf]) -> Result<(EspKeys, IkeKeys), Box<dyn std::error::Error>> {
    use dmvpn::keys::{FileKind, KeyFiles};
    type Loaded = Option<(Vec<PathBuf>, KeyFiles)>;
    static LOADED: std::sync::Mutex<Loaded> = std::sync::Mutex::new(None);
    let mut loaded = LOADED
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    if let Some((_, files)) = loaded.as_ref().filter(|(paths, _)| paths == key_files) {
        return Ok((files.esp.clone(), files.ike.clone()));
    }
    let files = KeyFiles::load(key_files)?;
    for warning in &files.warnings {
        eprintln!("dmvpn: {warning}");
    }
    for (path, kind) in &files.kinds {
        if let (Some(path), FileKind::Psk) = (path, kind) {
            eprintln!(
                "dmvpn: {}: pre-shared keys are used by `dmvpn sessions` only",
                path.display()
            );
        }
    }
    let keys = (files.esp.clone(), files.ike.clone());
    *loaded = Some((key_files.to_vec(), files));
    Ok(keys)
}

/// `sessions -Y`: the report is built from the frames the filter keeps, as if the capture held
/// only those. Each frame is judged by a decoder that sees every frame (so replay windows and
/// fragments are right), and a frame kept is decoded again by the builder's own decoder.
fn read_selected(
    mut builder: SessionBuilder,
    reader: &mut Reader,
    decoder: &mut Decoder,
    mut judge_decoder: Decoder,
    select: &Selection,
) -> dmvpn::session::Report {
    let mut judge = select.filter.as_ref().map(dmvpn::filter::Judge::new);
    while let Ok(Some(frame)) = reader.next_frame() {
        let kept = judge.as_mut().is_none_or(|judge| {
            judge_decoder.decode(&frame, judge);
            judge.keeps()
        });
        if kept {
            decoder.decode(&frame, &mut builder);
        }
        if select.last_frame.is_some_and(|last| frame.number >= last) {
            break;
        }
    }
    builder.finish()
}

/// [`run`] through the filter, if there is one; returns the sink.
fn run_select<R: Read, S: Retract>(
    reader: &mut CaptureReader<R>,
    decoder: &mut Decoder,
    sink: S,
    progress: &mut Progress,
    select: &Selection,
    failed: impl Fn(&S) -> bool,
) -> S {
    let last = select.last_frame;
    match &select.filter {
        Some(filter) => {
            let mut filtered = Filtered::new(filter, sink);
            run(reader, decoder, &mut filtered, progress, last, |f| {
                failed(f.inner())
            });
            filtered.into_inner()
        }
        None => {
            let mut sink = sink;
            run(reader, decoder, &mut sink, progress, last, failed);
            sink
        }
    }
}

/// Decodes every frame the reader gives up to `last` (it ends at the first read error, kept for
/// [`Input::finish`]); stops at once when `failed` says the output cannot take more.
fn run<R: Read, S: Sink>(
    reader: &mut CaptureReader<R>,
    decoder: &mut Decoder,
    sink: &mut S,
    progress: &mut Progress,
    last: Option<u64>,
    failed: impl Fn(&S) -> bool,
) {
    while let Ok(Some(frame)) = reader.next_frame() {
        decoder.decode(&frame, sink);
        progress.frame(frame.offset);
        if failed(sink) || last.is_some_and(|last| frame.number >= last) {
            break;
        }
    }
}

/// A progress line on stderr for a long run, only when stderr is a terminal and the input a
/// large file (its size gives the percentage and the ETA): frames, bytes, rate, ETA.
struct Progress {
    total: u64,
    frames: u64,
    next_check: u64,
    started: Instant,
    last_draw: Instant,
    shown: bool,
    /// A capture set's own count of bytes read and files done.
    set: Option<SetStatusRef>,
}

impl Progress {
    /// Inputs smaller than this take a few seconds at most: no progress line.
    const LARGE: u64 = 64 << 20;

    fn new(input: &Input, wanted: bool) -> Self {
        let set = input.set_status();
        let total = set.as_ref().map_or_else(
            || {
                input
                    .metadata()
                    .filter(std::fs::Metadata::is_file)
                    .map_or(0, |meta| meta.len())
            },
            |set| set.total_bytes(),
        );
        Self::with_total(total, set, wanted)
    }

    /// The line for `total` bytes of input (a file's, or a set's, whose own count of bytes read
    /// drives it).
    fn with_total(total: u64, set: Option<SetStatusRef>, wanted: bool) -> Self {
        // DMVPN_PROGRESS_MIN_BYTES lowers the size (tests/cli_terminal.rs shows the line on a
        // small capture); standard error must still be a terminal.
        let large = std::env::var("DMVPN_PROGRESS_MIN_BYTES")
            .ok()
            .and_then(|min| min.parse().ok())
            .unwrap_or(Self::LARGE);
        let enabled = wanted && total >= large && total > 0 && io::stderr().is_terminal();
        let now = Instant::now();
        Self {
            total: if enabled { total } else { 0 },
            frames: 0,
            next_check: 0,
            started: now,
            // The first check draws at once.
            last_draw: now.checked_sub(Duration::from_secs(1)).unwrap_or(now),
            shown: false,
            set,
        }
    }

    /// One frame decoded, ending before `offset`.
    fn frame(&mut self, offset: u64) {
        self.frames += 1;
        self.tick(offset);
    }

    /// Decoding has reached `offset` of the input (the parallel decoder counts no frames).
    fn tick(&mut self, offset: u64) {
        // A set's frames carry offsets in their own files: count the bytes read from all.
        let offset = self.set.as_ref().map_or(offset, |set| set.bytes());
        if self.total == 0 || offset < self.next_check {
            return;
        }
        self.next_check = offset + (1 << 20);
        if self.last_draw.elapsed() < Duration::from_millis(250) {
            return;
        }
        self.last_draw = Instant::now();
        self.shown = true;
        let line = self.line(offset);
        let _ = write!(io::stderr(), "\r{line}\x1b[K");
    }

    fn line(&self, offset: u64) -> String {
        let percent = offset.saturating_mul(100) / self.total.max(1);
        let seconds = self.started.elapsed().as_secs_f64().max(1e-3);
        let rate = offset as f64 / seconds;
        let eta = if rate > 0.0 {
            let left = self.total.saturating_sub(offset) as f64 / rate;
            format!("{}:{:02}", (left as u64) / 60, (left as u64) % 60)
        } else {
            "?".to_owned()
        };
        let frames = if self.frames > 0 {
            format!("{} frames, ", self.frames)
        } else {
            String::new()
        };
        let files = self.set.as_ref().map_or_else(String::new, |set| {
            let current = (set.files_done() + 1).min(set.files());
            format!("file {current}/{}, ", set.files())
        });
        format!(
            "dmvpn: {percent:3}% {files}{frames}{} of {}, {}/s, ETA {eta}",
            mib(offset),
            mib(self.total),
            mib(rate as u64)
        )
    }

    /// Draws the line at 100% and ends it (once).
    fn done(&mut self) {
        if self.shown {
            self.shown = false;
            let _ = writeln!(io::stderr(), "\r{}\x1b[K", self.line(self.total));
        }
    }
}

/// Bytes in MiB with one decimal.
fn mib(bytes: u64) -> String {
    format!("{:.1} MiB", bytes as f64 / f64::from(1 << 20))
}
