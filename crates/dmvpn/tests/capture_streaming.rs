//! A capture far larger than any buffer is read in constant memory: a generated 1 GiB pcap (and
//! a 256 MiB pcapng) stream through the reader while the process's resident set size stays flat.

// A panic with a message is how an integration test reports a failure.
#![allow(clippy::expect_used, clippy::unwrap_used)]

use std::io::{self, Read};

use dmvpn::capture::CaptureReader;

/// Produces a pcap or pcapng stream of `frames` frames of `len` bytes on the fly.
struct Generator {
    pcapng: bool,
    frames: u64,
    len: usize,
    record: Vec<u8>,
    pending: Vec<u8>,
    at: usize,
    made: u64,
}

impl Generator {
    fn new(pcapng: bool, frames: u64, len: usize) -> Self {
        let mut header = Vec::new();
        if pcapng {
            header.extend_from_slice(&[
                0x0a, 0x0d, 0x0d, 0x0a, 28, 0, 0, 0, 0x4d, 0x3c, 0x2b, 0x1a, 1, 0, 0, 0,
            ]);
            header.extend_from_slice(&(-1i64).to_le_bytes());
            header.extend_from_slice(&28u32.to_le_bytes());
            header
                .extend_from_slice(&[1, 0, 0, 0, 20, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 20, 0, 0, 0]);
        } else {
            for word in [0xa1b2_c3d4u32, 0x0004_0002, 0, 0, 65_535, 1] {
                header.extend_from_slice(&word.to_le_bytes());
            }
        }
        Self {
            pcapng,
            frames,
            len,
            record: Vec::new(),
            pending: header,
            at: 0,
            made: 0,
        }
    }

    /// Builds the record of frame `made`: the data is a fixed pattern with the frame number in its
    /// first bytes, so generating costs next to nothing next to reading.
    fn next_record(&mut self) {
        let n = self.made;
        let data_len = self.len as u32;
        if self.record.is_empty() {
            let header = if self.pcapng { 28 } else { 16 };
            self.record.resize(header, 0);
            self.record
                .extend((0..self.len).map(|i| (i % 253) as u8 | 1));
            if self.pcapng {
                let total = 32 + self.len.next_multiple_of(4) as u32;
                self.record.resize(self.record.len().next_multiple_of(4), 0);
                self.record.extend_from_slice(&total.to_le_bytes());
                for (i, word) in [6, total, 0, 0, 0, data_len, data_len]
                    .into_iter()
                    .enumerate()
                {
                    self.record[i * 4..i * 4 + 4].copy_from_slice(&word.to_le_bytes());
                }
            } else {
                for (i, word) in [0, 0, data_len, data_len].into_iter().enumerate() {
                    self.record[i * 4..i * 4 + 4].copy_from_slice(&word.to_le_bytes());
                }
            }
        }
        // The timestamp (seconds in pcap, the low word in pcapng) and the first data bytes.
        let (ts_at, data_at) = if self.pcapng { (16, 28) } else { (0, 16) };
        self.record[ts_at..ts_at + 4].copy_from_slice(&(n as u32).to_le_bytes());
        self.record[data_at..data_at + 8].copy_from_slice(&n.to_le_bytes());
        self.made += 1;
    }
}

impl Read for Generator {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        if self.at == self.pending.len() {
            if self.made == self.frames {
                return Ok(0);
            }
            self.next_record();
            self.pending.clear();
            self.pending.extend_from_slice(&self.record);
            self.at = 0;
        }
        let n = buf.len().min(self.pending.len() - self.at);
        buf[..n].copy_from_slice(&self.pending[self.at..self.at + n]);
        self.at += n;
        Ok(n)
    }
}

/// Resident set size in KiB (Linux), if it can be read.
fn rss_kib() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmRSS:"))?;
    line.split_whitespace().nth(1)?.parse().ok()
}

fn stream(pcapng: bool, bytes: u64, len: usize) {
    let frames = bytes / (len as u64 + 16);
    let mut reader = CaptureReader::new(Generator::new(pcapng, frames, len)).expect("header");
    let before = rss_kib();
    let mut count = 0u64;
    let mut checksum = 0u64;
    while let Some(frame) = reader.next_frame().expect("frame") {
        count += 1;
        assert_eq!(frame.data.len(), len);
        assert_eq!(frame.data[..8], (count - 1).to_le_bytes());
        checksum = checksum.wrapping_add(u64::from(frame.data[len / 2]));
        if count == 1000 {
            // The buffer has reached its working size by now.
            let after = rss_kib();
            if let (Some(a), Some(b)) = (before, after) {
                assert!(
                    b.saturating_sub(a) < 4 * 1024,
                    "RSS grew {} KiB in the first 1000 frames",
                    b - a
                );
            }
        }
    }
    assert_eq!(count, frames);
    assert!(checksum > 0);
    if let (Some(before), Some(after)) = (before, rss_kib()) {
        println!("{frames} frames, RSS {before} KiB -> {after} KiB");
        assert!(
            after.saturating_sub(before) < 8 * 1024,
            "RSS grew from {before} to {after} KiB"
        );
    } else {
        println!("RSS not available on this system: only the frame count was checked");
    }
}

#[test]
fn a_gigabyte_pcap_in_constant_memory() {
    stream(false, 1 << 30, 1500);
}

#[test]
fn a_large_pcapng_in_constant_memory() {
    stream(true, 256 << 20, 9000);
}
