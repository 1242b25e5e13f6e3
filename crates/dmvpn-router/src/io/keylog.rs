//! The key log (off by default): Wireshark's `esp_sa` and `ikev1_decryption_table` files in a
//! directory, appended as SAs are made, so a capture of this router decrypts in tshark and in
//! `dmvpn decode`. They hold live keys: the files are created mode 0600.

use std::fs::{File, OpenOptions};
use std::io::{self, Write};
use std::os::unix::fs::OpenOptionsExt;
use std::path::Path;

/// The two files, open for appending.
pub(super) struct KeyLog {
    esp_sa: File,
    ikev1: File,
}

impl KeyLog {
    /// Opens (creating) `DIR/esp_sa` and `DIR/ikev1_decryption_table`.
    pub(super) fn open(dir: &Path) -> io::Result<Self> {
        std::fs::create_dir_all(dir)?;
        let open = |name: &str| {
            OpenOptions::new()
                .create(true)
                .append(true)
                .mode(0o600)
                .open(dir.join(name))
        };
        Ok(Self {
            esp_sa: open("esp_sa")?,
            ikev1: open("ikev1_decryption_table")?,
        })
    }

    /// One `esp_sa` line (`"IPv4","src","dst","0xSPI",…`).
    pub(super) fn esp_sa(&mut self, line: &str) -> io::Result<()> {
        append_line(&mut self.esp_sa, line)
    }

    /// One `ikev1_decryption_table` line (`<initiator cookie>,<encryption key>`).
    pub(super) fn ikev1(&mut self, line: &str) -> io::Result<()> {
        append_line(&mut self.ikev1, line)
    }
}

/// Appends `line` and its newline in one `write` (the file is opened with `O_APPEND`), so the
/// lines of several routers sharing one key-log directory (as in `tools/lab/router_lab.sh`) never
/// interleave.
fn append_line(file: &mut File, line: &str) -> io::Result<()> {
    let mut bytes = Vec::with_capacity(line.len() + 1);
    bytes.extend_from_slice(line.as_bytes());
    bytes.push(b'\n');
    file.write_all(&bytes)
}
