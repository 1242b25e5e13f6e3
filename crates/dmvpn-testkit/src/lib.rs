//! Test support for the dmvpn workspace, used only as a dev-dependency.
//!
//! One place for what the integration tests of every crate need: where the workspace, its
//! `testdata/` and the real captures in `../shared/captures` are ([`workspace`], [`testdata`],
//! [`captures`]); the frames of a pcap or pcapng file, gzip-compressed or not ([`frames`]); the IP
//! payload inside an Ethernet frame ([`ip_payload`]); a classic pcap built in memory
//! ([`pcap::PcapWriter`]); and tshark, skipped when it is missing unless
//! `DMVPN_REQUIRE_TSHARK` is set ([`tshark_available`], [`tshark_fields`]).
//!
//! ```
//! let root = dmvpn_testkit::workspace();
//! assert!(root.join("Cargo.toml").is_file());
//! assert_eq!(dmvpn_testkit::testdata("dmvpn/phase1.pcap"), root.join("testdata/dmvpn/phase1.pcap"));
//! ```
#![forbid(unsafe_code)]
// Test support: a malformed capture or a failing tshark is a failed test, so helpers panic with the
// path and the reason.
#![allow(clippy::unwrap_used, clippy::expect_used)]

/// The README's examples, compiled and run as doc tests.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
struct ReadmeDoctests;

use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::atomic::{AtomicUsize, Ordering};

mod ip;
pub mod pcap;

pub use ip::{IpPayload, ip_payload};

/// The workspace root (the folder holding the top `Cargo.toml`).
#[must_use]
pub fn workspace() -> PathBuf {
    let crate_dir = Path::new(env!("CARGO_MANIFEST_DIR"));
    crate_dir
        .ancestors()
        .nth(2)
        .unwrap_or(crate_dir)
        .to_path_buf()
}

/// A new empty folder under the system's temporary folder, `NAME-PID-N`: the process ID and a
/// counter keep tests that run at once, in one process or several, apart.
///
/// # Panics
///
/// When the folder cannot be made.
#[must_use]
pub fn temp_dir(name: &str) -> PathBuf {
    static COUNTER: AtomicUsize = AtomicUsize::new(0);
    let n = COUNTER.fetch_add(1, Ordering::Relaxed);
    let dir = std::env::temp_dir().join(format!("{name}-{}-{n}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("a temporary folder");
    dir
}

/// Every file under `dir` and its subfolders, sorted by path.
///
/// # Panics
///
/// When a folder cannot be read.
#[must_use]
pub fn files_under(dir: &Path) -> Vec<PathBuf> {
    let mut files = Vec::new();
    let mut folders = vec![dir.to_owned()];
    while let Some(folder) = folders.pop() {
        for entry in std::fs::read_dir(&folder).unwrap_or_else(|e| panic!("{folder:?}: {e}")) {
            let path = entry.unwrap_or_else(|e| panic!("{folder:?}: {e}")).path();
            if path.is_dir() {
                folders.push(path);
            } else {
                files.push(path);
            }
        }
    }
    files.sort();
    files
}

/// Whether the tests run as root (user ID 0), as the network-namespace tests need.
#[must_use]
pub fn is_root() -> bool {
    std::fs::read_to_string("/proc/self/status").is_ok_and(|status| {
        status
            .lines()
            .find(|l| l.starts_with("Uid:"))
            .and_then(|l| l.split_whitespace().nth(2))
            == Some("0")
    })
}

/// A file under the workspace's `testdata/`.
#[must_use]
pub fn testdata(relative: &str) -> PathBuf {
    workspace().join("testdata").join(relative)
}

/// The real public captures: `$DMVPN_CAPTURES` if set, else `../shared/captures` beside the
/// workspace; `None` when that folder is absent (the captures are never copied into the
/// repository).
#[must_use]
pub fn captures() -> Option<PathBuf> {
    let dir = std::env::var_os("DMVPN_CAPTURES")
        .map_or_else(|| workspace().join("../shared/captures"), PathBuf::from);
    dir.canonicalize().ok().filter(|dir| dir.is_dir())
}

/// The real captures folder, or return from the calling test after printing that it skips.
///
/// ```
/// fn uses_the_captures() {
///     let dir = dmvpn_testkit::captures_or_skip!();
///     assert!(dir.is_dir());
/// }
/// uses_the_captures();
/// ```
#[macro_export]
macro_rules! captures_or_skip {
    () => {
        match $crate::captures() {
            Some(dir) => dir,
            None => {
                eprintln!("skipping: ../shared/captures is not present");
                return;
            }
        }
    };
}

/// One captured frame.
#[derive(Clone, Debug, Eq, PartialEq)]
pub struct Frame {
    /// 1-based frame number, as tshark counts.
    pub number: usize,
    /// The link type (1 = Ethernet).
    pub link: u32,
    /// The captured bytes.
    pub data: Vec<u8>,
}

/// The frames of a classic pcap (either byte order, µs or ns) or pcapng file (enhanced and simple
/// packet blocks, any interface), read whole; a `.gz` file is gunzipped first, as tshark does.
///
/// # Panics
///
/// When the file cannot be read or is not a capture: the test using it fails.
#[must_use]
pub fn frames(path: &Path) -> Vec<Frame> {
    let mut data = std::fs::read(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    if data.starts_with(&[0x1f, 0x8b]) {
        let mut out = Vec::new();
        flate2::read::GzDecoder::new(&data[..])
            .read_to_end(&mut out)
            .unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        data = out;
    }
    parse_capture(&data).unwrap_or_else(|| panic!("{}: not a whole capture file", path.display()))
}

/// The frames of capture bytes, or `None` if they are not a whole pcap or pcapng file.
#[must_use]
pub fn parse_capture(data: &[u8]) -> Option<Vec<Frame>> {
    let u32_at = |b: &[u8], at: usize, le: bool| -> Option<u32> {
        let w: [u8; 4] = b.get(at..at + 4)?.try_into().ok()?;
        Some(if le {
            u32::from_le_bytes(w)
        } else {
            u32::from_be_bytes(w)
        })
    };
    let mut frames = Vec::new();
    let mut push = |link: u32, bytes: &[u8]| {
        frames.push(Frame {
            number: frames.len() + 1,
            link,
            data: bytes.to_vec(),
        });
    };
    if u32_at(data, 0, true)? == 0x0a0d_0d0a {
        let le = u32_at(data, 8, true)? == 0x1a2b_3c4d;
        let mut links = Vec::new();
        let mut at = 0;
        while at < data.len() {
            let ty = u32_at(data, at, le)?;
            let len = u32_at(data, at + 4, le)? as usize;
            let body = data.get(at + 8..(at + len).checked_sub(4)?)?;
            match ty {
                1 => {
                    let link: [u8; 2] = body.get(..2)?.try_into().ok()?;
                    links.push(u32::from(if le {
                        u16::from_le_bytes(link)
                    } else {
                        u16::from_be_bytes(link)
                    }));
                }
                6 => {
                    let link = *links.get(u32_at(body, 0, le)? as usize)?;
                    let caplen = u32_at(body, 12, le)? as usize;
                    push(link, body.get(20..20 + caplen)?);
                }
                3 => push(*links.first()?, body.get(4..)?),
                _ => {}
            }
            at += len.max(12);
        }
    } else {
        let le = match u32_at(data, 0, true)? {
            0xa1b2_c3d4 | 0xa1b2_3c4d => true,
            0xd4c3_b2a1 | 0x4d3c_b2a1 => false,
            _ => return None,
        };
        let link = u32_at(data, 20, le)? & 0x0fff_ffff;
        let mut at = 24;
        while at < data.len() {
            let caplen = u32_at(data, at + 8, le)? as usize;
            push(link, data.get(at + 16..at + 16 + caplen)?);
            at += 16 + caplen;
        }
    }
    Some(frames)
}

/// Whether tshark runs. Without it the differential tests print why and pass, unless
/// `DMVPN_REQUIRE_TSHARK` is set (as in CI), where a missing tshark fails them.
///
/// # Panics
///
/// When tshark is missing and `DMVPN_REQUIRE_TSHARK` is set.
#[must_use]
pub fn tshark_available() -> bool {
    let found = Command::new("tshark")
        .arg("-v")
        .output()
        .is_ok_and(|out| out.status.success());
    assert!(
        found || std::env::var_os("DMVPN_REQUIRE_TSHARK").is_none(),
        "DMVPN_REQUIRE_TSHARK is set but tshark is not installed (tools/setup.sh installs it)"
    );
    if !found {
        eprintln!("skipping: tshark is not installed (run tools/setup.sh)");
    }
    found
}

/// Runs `tshark -r CAPTURE ARGS -T fields -E separator=<tab> -E occurrence=a -E aggregator=,`
/// with `-e` for each of `fields`, and returns one row of columns per line printed.
///
/// # Panics
///
/// When tshark does not run or exits with an error.
#[must_use]
pub fn tshark_fields(capture: &Path, args: &[&str], fields: &[&str]) -> Vec<Vec<String>> {
    let mut cmd = Command::new("tshark");
    cmd.arg("-r").arg(capture).args(args);
    fields_of(&mut cmd, fields)
}

/// Adds `-T fields -E separator=<tab> -E occurrence=a -E aggregator=,` and `-e` for each of
/// `fields` to a tshark `command` (for callers that set its environment or options
/// themselves), runs it and returns one row of columns per line printed.
///
/// # Panics
///
/// When tshark does not run or exits with an error.
#[must_use]
pub fn fields_of(command: &mut Command, fields: &[&str]) -> Vec<Vec<String>> {
    command.args([
        "-T",
        "fields",
        "-E",
        "separator=\t",
        "-E",
        "occurrence=a",
        "-E",
        "aggregator=,",
    ]);
    for field in fields {
        command.args(["-e", field]);
    }
    stdout_of(command)
        .lines()
        .map(|line| line.split('\t').map(str::to_owned).collect())
        .collect()
}

/// Writes the key files `keys` into `config/wireshark/` as tshark reads them there (with
/// `XDG_CONFIG_HOME` and `HOME` set to `config`): each `ikev1_decryption_table` (its first line
/// starts with 16 hex digits and a comma) into `ikev1_decryption_table`, every other (`esp_sa`)
/// file into `esp_sa`.
///
/// # Panics
///
/// When a key file cannot be read or the folder cannot be written.
pub fn wireshark_keys(config: &Path, keys: &[PathBuf]) {
    let wireshark = config.join("wireshark");
    std::fs::create_dir_all(&wireshark).unwrap();
    let (mut esp_sa, mut ikev1) = (String::new(), String::new());
    for key_file in keys {
        let text = std::fs::read_to_string(key_file).unwrap();
        let first = text
            .lines()
            .map(str::trim)
            .find(|l| !l.is_empty() && !l.starts_with('#'))
            .unwrap_or_default();
        let is_ikev1 = first
            .split(',')
            .next()
            .is_some_and(|f| f.len() == 16 && f.bytes().all(|b| b.is_ascii_hexdigit()));
        let file = if is_ikev1 { &mut ikev1 } else { &mut esp_sa };
        file.push_str(&text);
        file.push('\n');
    }
    std::fs::write(wireshark.join("esp_sa"), esp_sa).unwrap();
    std::fs::write(wireshark.join("ikev1_decryption_table"), ikev1).unwrap();
}

/// Runs `command` and returns what it printed on standard output.
///
/// # Panics
///
/// When the command does not start, exits with an error (the message shows the command and its
/// standard error) or prints something that is not UTF-8.
#[track_caller]
pub fn stdout_of(command: &mut Command) -> String {
    let out = command
        .output()
        .unwrap_or_else(|error| panic!("{command:?} does not run: {error}"));
    assert!(
        out.status.success(),
        "{command:?} failed ({}): {}",
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap_or_else(|error| panic!("{command:?} printed {error}"))
}

/// Asserts that `text` contains `needle`, showing `text` if not.
///
/// # Panics
///
/// When it does not.
#[track_caller]
pub fn assert_contains(text: &str, needle: &str) {
    assert!(text.contains(needle), "{needle:?} is not in:\n{text}");
}

/// Asserts that `text` ends with `suffix`, showing `text` if not.
///
/// # Panics
///
/// When it does not.
#[track_caller]
pub fn assert_ends_with(text: &str, suffix: &str) {
    assert!(
        text.ends_with(suffix),
        "{text:?} does not end with {suffix:?}"
    );
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_the_bundled_capture() {
        let frames = frames(&testdata("dmvpn/phase1.pcap"));
        assert!(!frames.is_empty());
        assert!(frames.iter().all(|f| f.link == 1 && f.data.len() >= 14));
        assert_eq!(frames[0].number, 1);
        assert_eq!(frames.last().unwrap().number, frames.len());
    }

    #[test]
    fn a_cut_capture_is_not_a_capture() {
        let data = std::fs::read(testdata("dmvpn/phase1.pcap")).unwrap();
        assert!(parse_capture(&data).is_some());
        assert!(parse_capture(&data[..data.len() - 1]).is_none());
        assert!(parse_capture(&[0; 24]).is_none());
    }

    #[test]
    fn stdout_of_returns_the_output_and_fails_on_an_error() {
        assert_eq!(
            stdout_of(Command::new("sh").args(["-c", "echo hi"])),
            "hi\n"
        );
        let failed =
            std::panic::catch_unwind(|| stdout_of(Command::new("sh").args(["-c", "exit 3"])));
        assert!(failed.is_err());
        assert_contains("a line of text", "line");
        assert_ends_with("a line of text", "of text");
        assert!(std::panic::catch_unwind(|| assert_contains("abc", "x")).is_err());
        assert!(std::panic::catch_unwind(|| assert_ends_with("abc", "a")).is_err());
    }
}
