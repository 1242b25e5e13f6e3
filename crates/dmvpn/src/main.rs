//! `dmvpn`: decode, check and decrypt DMVPN captures.

use std::io::{self, IsTerminal, Write};
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::{Duration, Instant};

use clap::{Parser, Subcommand, ValueEnum};
use dmvpn::capture::CaptureReader;
use dmvpn::decode::{Decoder, Sink};
use dmvpn::keys::EspKeys;
use dmvpn::output::{JsonLines, TextLines};

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
        /// A Wireshark `esp_sa` key file (repeatable). Key material is never printed.
        #[arg(long = "keys", value_name = "FILE")]
        keys: Vec<PathBuf>,
        /// Output format: one summary line per frame, or JSON Lines with every layer.
        #[arg(long, value_enum, default_value_t = Format::Text)]
        format: Format,
    },
}

#[derive(Clone, Copy, Debug, Eq, PartialEq, ValueEnum)]
enum Format {
    /// One tshark-like summary line per frame.
    Text,
    /// One JSON object per frame (JSON Lines).
    Json,
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Decode { file, keys, format } => decode(&file, &keys, format),
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
) -> Result<(), Box<dyn std::error::Error>> {
    let mut keys = EspKeys::default();
    for key_file in key_files {
        keys.load_file(key_file)?;
    }
    let mut decoder = Decoder::new(keys);
    let mut reader = CaptureReader::open(file)?;
    let stdout = io::stdout().lock();
    let mut progress = Progress::new(file);
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
    }
    progress.done();
    Ok(())
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
