//! `dmvpn`: decode, check and decrypt DMVPN captures.

use std::io::{self, IsTerminal, Write};
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::{Duration, Instant};

use clap::{Parser, Subcommand, ValueEnum};
use dmvpn::capture::CaptureReader;
use dmvpn::decode::{Decoder, IkeKeys, Sink, Summary};
use dmvpn::keys::EspKeys;
use dmvpn::output::{JsonLines, TextLines};
use dmvpn::session::{PskTable, SessionBuilder};

/// Read, check and decrypt DMVPN captures (GRE, NHRP, EIGRP, IKEv1, ESP).
#[derive(Debug, Parser)]
#[command(version, about)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Decode every frame of a pcap or pcapng capture, decrypting ESP with the keys given.
    Decode {
        /// The capture file.
        file: PathBuf,
        /// A key file (repeatable): Wireshark's `esp_sa` (ESP keys) or `ikev1_decryption_table`
        /// (IKEv1 encryption keys by initiator cookie), told apart by content. Key material is
        /// never printed.
        #[arg(long = "keys", value_name = "FILE")]
        keys: Vec<PathBuf>,
        /// Output format: one summary line per frame, JSON Lines with every layer, or only a
        /// table of what was found (every frame decoded, nothing printed per frame).
        #[arg(long, value_enum, default_value_t = Format::Text)]
        format: Format,
        /// Decoding threads. Frames are shared out by IP address pair (a spoke and the hub), so
        /// the output is the same as with one thread, in frame order.
        #[arg(long, default_value_t = 1, value_parser = clap::value_parser!(u16).range(1..=256))]
        threads: u16,
    },
    /// Write a pcapng copy of a capture with every ESP packet the keys open replaced by its
    /// plaintext (transport mode: the outer IPv4 header with the next header as protocol; tunnel
    /// mode: the inner packet). Other frames, and the fragments before the one that completes a
    /// datagram, are written unchanged, so frame numbers match the input.
    Decrypt {
        /// The capture file.
        file: PathBuf,
        /// A key file (repeatable), as for `decode`.
        #[arg(long = "keys", value_name = "FILE")]
        keys: Vec<PathBuf>,
        /// The pcapng file to write.
        #[arg(short = 'o', long = "output", value_name = "OUT.pcapng")]
        output: PathBuf,
    },
    /// Report one record per peer pair (hub <-> spoke, by NBMA address): NHRP registrations, IKE
    /// phase 1 and 2, ESP flows, EIGRP adjacency, inner traffic, and the diagnosis findings.
    Sessions {
        /// The capture file.
        file: PathBuf,
        /// A key file (repeatable), as for `decode`, or a pre-shared key file of IOS `crypto
        /// isakmp key SECRET address A.B.C.D` lines; without keys ESP and encrypted IKE stay opaque.
        #[arg(long = "keys", value_name = "FILE")]
        keys: Vec<PathBuf>,
        /// A pre-shared key for every peer (repeatable): each IKEv1 phase 1 SA's HASH_I (and
        /// HASH_R) is recomputed with it (RFC 2409 §5) and reported verified or mismatched. Main
        /// Mode 5/6 must be readable: give their `ikev1_decryption_table` with --keys.
        #[arg(long = "psk", value_name = "SECRET")]
        psk: Vec<String>,
        /// Output format: a readable per-peer report, one JSON object, or a self-contained HTML
        /// page (topology graph, per-peer timelines, findings; no network access or JavaScript).
        #[arg(long, value_enum, default_value_t = SessionsFormat::Text)]
        format: SessionsFormat,
    },
    /// Send a capture's frames onto an interface (`--iface`, an AF_PACKET raw socket: needs root or
    /// CAP_NET_RAW), with the original timing scaled by --speed, at --pps, or --topspeed;
    /// optionally rewriting IPv4 addresses (outer header, with the IPv4, UDP, TCP and ICMP
    /// checksums fixed; encrypted ESP payloads and GRE contents are left as they are).
    /// Or, with `--into hub|spoke`, feed the capture's control plane into the sans-IO hub or spoke
    /// machine of dmvpn-proto, driven by the capture's timestamps, and print its state timeline.
    Replay {
        /// The capture file.
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
        /// With --into: key files, as for `decode` (ESP is decrypted and fed as GRE).
        #[arg(long = "keys", value_name = "FILE", requires = "into")]
        keys: Vec<PathBuf>,
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
}

/// `dmvpn replay --into`.
#[derive(Clone, Copy, Debug, Eq, PartialEq, ValueEnum)]
enum IntoRole {
    /// The NHS.
    Hub,
    /// A spoke.
    Spoke,
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
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Decode {
            file,
            keys,
            format,
            threads,
        } => decode(&file, &keys, format, threads),
        Command::Decrypt { file, keys, output } => decrypt(&file, &keys, &output),
        Command::Sessions {
            file,
            keys,
            psk,
            format,
        } => sessions(&file, &keys, &psk, format),
        Command::Replay {
            file,
            into: Some(role),
            nbma,
            prefix_len,
            keys,
            ..
        } => replay_into(&file, role, nbma, prefix_len, &keys),
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
                &file,
                iface.as_deref().unwrap_or_default(),
                options,
                &rewrite,
            )
        }
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("dmvpn: {error}");
            ExitCode::FAILURE
        }
    }
}

fn decode(
    file: &PathBuf,
    key_files: &[PathBuf],
    format: Format,
    threads: u16,
) -> Result<(), Box<dyn std::error::Error>> {
    let mut reader = CaptureReader::open(file)?;
    let mut progress = Progress::new(file);
    if threads > 1 {
        decode_parallel(file, &mut reader, key_files, format, threads, &mut progress)?;
        progress.done();
        return Ok(());
    }
    let (keys, ike_keys) = load_keys(key_files)?;
    let mut decoder = Decoder::with_ike_keys(keys, ike_keys);
    let stdout = io::stdout().lock();
    match format {
        Format::Text => {
            let mut sink = TextLines::new(stdout);
            run(&mut reader, &mut decoder, &mut sink, &mut progress)?;
            finish_output(sink.finish())?;
        }
        Format::Json => {
            let mut sink = JsonLines::new(stdout);
            run(&mut reader, &mut decoder, &mut sink, &mut progress)?;
            finish_output(sink.finish())?;
        }
        Format::Summary => {
            let mut summary = Summary::default();
            run(&mut reader, &mut decoder, &mut summary, &mut progress)?;
            progress.done();
            return finish_output(write!(io::stdout().lock(), "{summary}")).map_err(Into::into);
        }
    }
    progress.done();
    Ok(())
}

/// `decode --threads N`: one decoder (with its own copy of the keys) and one in-memory writer per thread.
fn decode_parallel(
    file: &PathBuf,
    reader: &mut CaptureReader<std::fs::File>,
    key_files: &[PathBuf],
    format: Format,
    threads: u16,
    progress: &mut Progress,
) -> Result<(), Box<dyn std::error::Error>> {
    let decoders = (0..threads)
        .map(|_| load_keys(key_files).map(|(esp, ike)| Decoder::with_ike_keys(esp, ike)))
        .collect::<Result<Vec<_>, _>>()?;
    let mut out = io::BufWriter::with_capacity(1 << 16, io::stdout().lock());
    let result = match format {
        Format::Text => {
            // Every thread prints times relative to the capture's first frame.
            let start = CaptureReader::open(file)?
                .next_frame()?
                .map(|frame| frame.timestamp)
                .unwrap_or_default();
            let mut shards: Vec<_> = decoders
                .into_iter()
                .map(|decoder| (decoder, TextLines::detached(start)))
                .collect();
            dmvpn::parallel::decode(reader, &mut shards, &mut out, |offset| {
                progress.tick(offset)
            })
        }
        Format::Json => {
            let mut shards: Vec<_> = decoders
                .into_iter()
                .map(|decoder| (decoder, JsonLines::detached()))
                .collect();
            dmvpn::parallel::decode(reader, &mut shards, &mut out, |offset| {
                progress.tick(offset)
            })
        }
        Format::Summary => {
            let mut shards: Vec<_> = decoders
                .into_iter()
                .map(|decoder| (decoder, Summary::default()))
                .collect();
            let result = dmvpn::parallel::decode(reader, &mut shards, &mut out, |offset| {
                progress.tick(offset)
            });
            let mut total = Summary::default();
            for (_, summary) in &shards {
                total.merge(summary);
            }
            result.and_then(|()| {
                write!(out, "{total}").map_err(dmvpn::parallel::ParallelError::Output)
            })
        }
    };
    match result {
        Ok(()) => finish_output(out.flush()).map_err(Into::into),
        Err(dmvpn::parallel::ParallelError::Output(error)) => {
            finish_output(Err::<(), _>(error)).map_err(Into::into)
        }
        Err(error) => Err(error.into()),
    }
}

fn decrypt(
    file: &PathBuf,
    key_files: &[PathBuf],
    output: &PathBuf,
) -> Result<(), Box<dyn std::error::Error>> {
    let (keys, ike_keys) = load_keys(key_files)?;
    let mut decoder = Decoder::with_ike_keys(keys, ike_keys);
    let mut reader = CaptureReader::open(file)?;
    let out =
        std::fs::File::create(output).map_err(|error| format!("{}: {error}", output.display()))?;
    let mut out = io::BufWriter::new(out);
    let stats = dmvpn::decrypt::decrypt(&mut reader, &mut decoder, &mut out)?;
    out.flush()
        .map_err(|error| format!("{}: {error}", output.display()))?;
    eprintln!(
        "dmvpn: {} frames written to {}, {} decrypted ({} reassembled from fragments), {} unchanged",
        stats.frames,
        output.display(),
        stats.replaced,
        stats.reassembled,
        stats.kept
    );
    Ok(())
}

fn sessions(
    file: &PathBuf,
    key_files: &[PathBuf],
    psk: &[String],
    format: SessionsFormat,
) -> Result<(), Box<dyn std::error::Error>> {
    let mut psks = PskTable::new();
    let mut other_files = Vec::new();
    for path in key_files {
        let text = std::fs::read_to_string(path).unwrap_or_default();
        if PskTable::is_psk_file(&text) {
            let table =
                PskTable::parse(&text).map_err(|error| format!("{}: {error}", path.display()))?;
            psks.extend(table);
        } else {
            other_files.push(path.clone());
        }
    }
    for secret in psk {
        psks.add(None, secret.as_bytes());
    }
    let (keys, ike_keys) = load_keys(&other_files)?;
    let mut decoder = Decoder::with_ike_keys(keys, ike_keys);
    let mut reader = CaptureReader::open(file)?;
    let builder = if psks.is_empty() {
        SessionBuilder::new()
    } else {
        SessionBuilder::with_psks(psks)
    };
    let report = builder.read(&mut reader, &mut decoder)?;
    let mut out = Vec::new();
    match format {
        SessionsFormat::Text => out.extend_from_slice(report.to_string().as_bytes()),
        SessionsFormat::Json => {
            report.write_json(&mut out);
            out.push(b'\n');
        }
        SessionsFormat::Html => {
            let title = file.file_name().map_or_else(
                || file.display().to_string(),
                |n| n.to_string_lossy().into_owned(),
            );
            dmvpn::report::html(&report, &title, &mut out)?;
        }
    }
    finish_output(io::stdout().lock().write_all(&out))?;
    Ok(())
}

fn replay(
    file: &PathBuf,
    iface: &str,
    mut options: dmvpn::replay::Options,
    rewrite: &[String],
) -> Result<(), Box<dyn std::error::Error>> {
    for pair in rewrite {
        options.rewrite.add_str(pair)?;
    }
    // Fail on an unreadable file before touching the interface.
    drop(CaptureReader::open(file)?);
    let mut socket =
        dmvpn::replay::PacketSocket::open(iface).map_err(|error| format!("{iface}: {error}"))?;
    let start = Instant::now();
    let stats = dmvpn::replay::replay_file(file, &options, &mut socket, |at| {
        if let Some(due) = start.checked_add(at) {
            let now = Instant::now();
            if due > now {
                std::thread::sleep(due - now);
            }
        }
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
    Ok(())
}

fn replay_into(
    file: &PathBuf,
    role: IntoRole,
    nbma: Option<std::net::Ipv4Addr>,
    prefix_len: u8,
    key_files: &[PathBuf],
) -> Result<(), Box<dyn std::error::Error>> {
    use dmvpn::replay::into::{self, IntoOptions, Role};
    // Read once to report key file errors; the passes read them again.
    drop(load_keys(key_files)?);
    let mut options = IntoOptions::new(match role {
        IntoRole::Hub => Role::Hub,
        IntoRole::Spoke => Role::Spoke,
    });
    options.nbma = nbma;
    options.prefix_len = prefix_len;
    let mut keys = || load_keys(key_files).unwrap_or_default();
    let timeline = into::run(file, &mut keys, &options)?;
    finish_output(
        io::stdout()
            .lock()
            .write_all(timeline.to_string().as_bytes()),
    )?;
    Ok(())
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

fn run<R: io::Read>(
    reader: &mut CaptureReader<R>,
    decoder: &mut Decoder,
    sink: &mut impl Sink,
    progress: &mut Progress,
) -> Result<(), dmvpn::capture::CaptureError> {
    while let Some(frame) = reader.next_frame()? {
        decoder.decode(&frame, sink);
        progress.tick(frame.offset);
    }
    Ok(())
}

/// A closed pipe (`dmvpn decode … | head`) is a normal end, not an error.
fn finish_output<W>(result: io::Result<W>) -> io::Result<()> {
    match result {
        Err(error) if error.kind() == io::ErrorKind::BrokenPipe => Ok(()),
        other => other.map(drop),
    }
}

/// A progress line on stderr, only when stderr is a terminal and the file is large.
struct Progress {
    total: u64,
    next_check: u64,
    last_draw: Instant,
    shown: bool,
}

impl Progress {
    const LARGE: u64 = 64 << 20;

    fn new(file: &PathBuf) -> Self {
        let total = std::fs::metadata(file).map_or(0, |meta| meta.len());
        let enabled = total >= Self::LARGE && io::stderr().is_terminal();
        Self {
            total: if enabled { total } else { 0 },
            next_check: 0,
            last_draw: Instant::now(),
            shown: false,
        }
    }

    fn tick(&mut self, offset: u64) {
        if self.total == 0 || offset < self.next_check {
            return;
        }
        self.next_check = offset + (1 << 20);
        if self.last_draw.elapsed() < Duration::from_millis(200) {
            return;
        }
        self.last_draw = Instant::now();
        self.shown = true;
        let percent = offset.saturating_mul(100) / self.total.max(1);
        let _ = write!(
            io::stderr(),
            "\rdecoding: {percent:3}% of {} MB",
            self.total >> 20
        );
    }

    fn done(&self) {
        if self.shown {
            let _ = writeln!(io::stderr(), "\rdecoding: 100% of {} MB", self.total >> 20);
        }
    }
}
