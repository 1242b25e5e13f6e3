//! Real captures with random damage: bytes flipped, lengths overwritten, ranges cut or repeated.
//! Every mutant is read to the end (or to its first error) through the whole capture pipeline
//! (`capture::fuzzing::read_capture`), which must never panic and must stay within its caps.
//! A fixed-seed generator keeps the run reproducible.

use std::path::{Path, PathBuf};

use dmvpn::capture::fuzzing;

/// Mutants per capture; `DMVPN_MUTANTS` raises it for a longer hunt.
const MUTANTS_PER_FILE: usize = 30;

/// xorshift64*: small, fast, deterministic.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }
}

fn mutate(rng: &mut Rng, original: &[u8]) -> Vec<u8> {
    let mut bytes = original.to_vec();
    for _ in 0..=rng.below(4) {
        let len = bytes.len();
        match rng.below(6) {
            0 => {
                let at = rng.below(len);
                if let Some(b) = bytes.get_mut(at) {
                    *b ^= 1 << rng.below(8);
                }
            }
            1 => {
                // A length-like field: four bytes set to an extreme or nearby value.
                let at = rng.below(len.saturating_sub(4));
                let value: u32 = [0, 1, 0xffff_ffff, 0x7fff_ffff, 0xffff, 12, 13][rng.below(7)];
                if let Some(field) = bytes.get_mut(at..at + 4) {
                    field.copy_from_slice(&value.to_le_bytes());
                }
            }
            2 => bytes.truncate(rng.below(len)),
            3 => {
                let (a, b) = (rng.below(len), rng.below(len));
                let (a, b) = (a.min(b), a.max(b));
                let copy = bytes[a..b.min(a + 2000)].to_vec();
                let at = rng.below(bytes.len());
                bytes.splice(at..at, copy);
            }
            4 => {
                let at = rng.below(len);
                bytes.drain(at..(at + rng.below(64)).min(len));
            }
            _ => {
                let at = rng.below(len);
                if let Some(b) = bytes.get_mut(at) {
                    *b = rng.next() as u8;
                }
            }
        }
    }
    bytes
}

fn captures(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let path = entry.path();
        if path.is_dir() {
            captures(&path, out);
        } else if path
            .extension()
            .is_some_and(|ext| ext == "pcap" || ext == "cap" || ext == "pcapng")
        {
            out.push(path);
        }
    }
}

#[test]
fn damaged_captures_never_panic() {
    let mut files = Vec::new();
    if let Some(shared) = dmvpn_testkit::captures() {
        captures(&shared, &mut files);
    }
    captures(&dmvpn_testkit::testdata("capture"), &mut files);
    if files.is_empty() {
        println!("skipped: no captures found");
        return;
    }
    files.sort();
    let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
    let mut mutants = 0;
    for path in &files {
        let Ok(original) = std::fs::read(path) else {
            continue;
        };
        assert!(fuzzing::read_capture(&original) > 0, "{}", path.display());
        let per_file = std::env::var("DMVPN_MUTANTS")
            .ok()
            .and_then(|n| n.parse().ok())
            .unwrap_or(MUTANTS_PER_FILE);
        for _ in 0..per_file {
            let mutant = mutate(&mut rng, &original);
            fuzzing::read_capture(&mutant);
            mutants += 1;
        }
    }
    println!(
        "{mutants} mutants of {} captures read without a panic",
        files.len()
    );
}
