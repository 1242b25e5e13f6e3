//! The progress line on standard error for a long run.

use std::io::{self, IsTerminal, Write};
use std::time::{Duration, Instant};

use super::input::{Input, SetStatusRef};

/// A progress line on stderr for a long run, only when stderr is a terminal and the input a
/// large file (its size gives the percentage and the ETA): frames, bytes, rate, ETA.
pub(crate) struct Progress {
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

    pub(crate) fn new(input: &Input, wanted: bool) -> Self {
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
    pub(crate) fn with_total(total: u64, set: Option<SetStatusRef>, wanted: bool) -> Self {
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
    pub(crate) fn frame(&mut self, offset: u64) {
        self.frames += 1;
        self.tick(offset);
    }

    /// Decoding has reached `offset` of the input (the parallel decoder counts no frames).
    pub(crate) fn tick(&mut self, offset: u64) {
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
    pub(crate) fn done(&mut self) {
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
