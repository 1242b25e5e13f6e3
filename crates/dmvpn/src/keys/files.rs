//! Key files read by what they contain: [`KeyFiles::load`].

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use dmvpn_isakmp::keys::{Ikev1Key, Secret};

use crate::decode::IkeKeys;
use crate::session::PskTable;

use super::{EspKeys, KeysError, LineLoader, Warning, tcpdump};

/// What a key file holds, told by its first line that is not blank or a comment.
#[derive(Clone, Copy, Debug, Eq, Hash, PartialEq)]
#[non_exhaustive]
pub enum FileKind {
    /// Wireshark's `esp_sa` (`"IPv4","10.0.0.1",…`): ESP SAs. Also what a file with no entries is.
    EspSa,
    /// tcpdump's `-E` secrets (`0x1234@10.0.0.1 aes128-cbc:0x…`): ESP SAs.
    Tcpdump,
    /// Wireshark's `ikev1_decryption_table` (`<initiator cookie>,<Ka>`): IKEv1 encryption keys.
    Ikev1Table,
    /// Wireshark's `ikev2_decryption_table` (`<SPIi>,<SPIr>,<SK_ei>,<SK_er>,"<encryption>",…`),
    /// with dmvpn's optional SK_d column: IKEv2 keys.
    Ikev2Table,
    /// IOS `crypto isakmp key SECRET address A.B.C.D` lines: IKEv1 pre-shared keys.
    Psk,
}

impl FileKind {
    /// What `text` (a whole key file) is. A UTF-8 byte-order mark, CRLF line ends, blank lines
    /// and comments (`#`, and `!` as in IOS) before the first entry do not matter.
    #[must_use]
    pub fn detect(text: &str) -> Self {
        let text = text.strip_prefix('\u{feff}').unwrap_or(text);
        let Some(line) = text
            .lines()
            .map(str::trim)
            .find(|line| !line.is_empty() && !line.starts_with(['#', '!']))
        else {
            return Self::EspSa;
        };
        if line
            .split_ascii_whitespace()
            .take(3)
            .eq(["crypto", "isakmp", "key"])
        {
            return Self::Psk;
        }
        if super::ikev2_table::looks_like(line) {
            return Self::Ikev2Table;
        }
        if is_ikev1_line(line) {
            return Self::Ikev1Table;
        }
        if tcpdump::looks_like(line) {
            return Self::Tcpdump;
        }
        Self::EspSa
    }

    /// The format's name, for messages.
    #[must_use]
    pub const fn name(self) -> &'static str {
        match self {
            Self::EspSa => "esp_sa",
            Self::Tcpdump => "tcpdump -E secrets",
            Self::Ikev1Table => "ikev1_decryption_table",
            Self::Ikev2Table => "ikev2_decryption_table",
            Self::Psk => "crypto isakmp key",
        }
    }
}

/// Whether a line is `<16 hex digits>,…` (quotes and `0x` allowed): an `ikev1_decryption_table`
/// entry. An `esp_sa` line starts with the protocol, e.g. `"IPv4"`.
fn is_ikev1_line(line: &str) -> bool {
    let Some((first, _)) = line.split_once(',') else {
        return false;
    };
    let first = first.trim().trim_matches('"');
    let digits = first
        .strip_prefix("0x")
        .or_else(|| first.strip_prefix("0X"))
        .unwrap_or(first);
    digits.len() == 16 && digits.bytes().all(|byte| byte.is_ascii_hexdigit())
}

/// The lines of a stream as `str::lines` gives those of a text: without `\n` or `\r\n`, the
/// first without a UTF-8 byte-order mark, invalid UTF-8 replaced.
struct Lines<R> {
    reader: R,
    buffer: Vec<u8>,
    first: bool,
}

impl<R: std::io::BufRead> Lines<R> {
    const fn new(reader: R) -> Self {
        Self {
            reader,
            buffer: Vec::new(),
            first: true,
        }
    }

    fn next_line(&mut self) -> std::io::Result<Option<String>> {
        self.buffer.clear();
        if self.reader.read_until(b'\n', &mut self.buffer)? == 0 {
            return Ok(None);
        }
        let mut line = &self.buffer[..];
        if let Some(rest) = line.strip_suffix(b"\n") {
            line = rest.strip_suffix(b"\r").unwrap_or(rest);
        }
        if std::mem::take(&mut self.first) {
            line = line.strip_prefix("\u{feff}".as_bytes()).unwrap_or(line);
        }
        Ok(Some(String::from_utf8_lossy(line).into_owned()))
    }
}

/// Reads a key file as text (invalid UTF-8 replaced, so that it shows in errors).
pub(super) fn read(path: &Path) -> Result<String, KeysError> {
    let bytes = std::fs::read(path).map_err(|source| KeysError::Read {
        path: path.to_owned(),
        source,
    })?;
    Ok(String::from_utf8(bytes)
        .unwrap_or_else(|error| String::from_utf8_lossy(error.as_bytes()).into_owned()))
}

/// The keys of any number of key files of any kind, parsed once: clones of [`KeyFiles::esp`]
/// and [`KeyFiles::ike`] share their tables, so every decoder (one per thread or lane) can have
/// them for the cost of a pointer.
///
/// ```
/// use dmvpn::keys::{FileKind, KeyFiles};
///
/// let esp_sa = "\u{feff}\"IPv4\",\"*\",\"10.0.0.2\",\"0x100\",\"TWOFISH-CBC\",\"0x00\",\"NULL\",\"\"\r\n\
///               \"IPv4\",\"*\",\"10.0.0.2\",\"0x101\",\"NULL\",\"\",\"ANY 96 bit authentication [no checking]\",\"\"\r\n";
/// let tcpdump = "# tcpdump -E\n0x200@10.0.0.2 aes128-cbc-hmac96:0x000102030405060708090a0b0c0d0e0f\n";
/// let keys = KeyFiles::load_texts([(esp_sa, Some("keys.esp_sa".as_ref())), (tcpdump, None)])?;
/// assert_eq!(keys.esp.len(), 2);
/// assert_eq!(keys.warnings.len(), 1);
/// assert_eq!(
///     keys.warnings[0].to_string(),
///     "keys.esp_sa:1: algorithm \"TWOFISH-CBC\" is valid in Wireshark but not supported by dmvpn; line skipped"
/// );
/// assert_eq!(FileKind::detect(tcpdump), FileKind::Tcpdump);
/// # Ok::<(), dmvpn::keys::KeysError>(())
/// ```
#[derive(Clone, Debug, Default)]
pub struct KeyFiles {
    /// ESP SAs (`esp_sa` and tcpdump files).
    pub esp: EspKeys,
    /// IKEv1 encryption keys (`ikev1_decryption_table` files).
    pub ike: IkeKeys,
    /// Pre-shared keys (`crypto isakmp key` files).
    pub psks: PskTable,
    /// Lines skipped and duplicate SAs, in file order; print each as `dmvpn: {warning}`.
    pub warnings: Vec<Warning>,
    /// Each file and what it was read as.
    pub kinds: Vec<(Option<PathBuf>, FileKind)>,
    /// Each IKEv1 initiator cookie's key so far and where it was: (file index, line, key).
    ike_seen: HashMap<[u8; 8], (usize, usize, Secret)>,
}

impl KeyFiles {
    /// Reads each file as what its content says it is ([`FileKind::detect`]).
    ///
    /// A line with an algorithm dmvpn does not implement, IKEv2 keys in a tcpdump file and two
    /// lines for the same SA with other keys are [`warnings`](Self::warnings); the rest is used.
    ///
    /// # Errors
    /// A file that cannot be read, or the first malformed line (its file, line and column).
    pub fn load<P: AsRef<Path>>(paths: impl IntoIterator<Item = P>) -> Result<Self, KeysError> {
        let mut files = Self::default();
        for path in paths {
            files.add_file(path.as_ref())?;
        }
        files.finish();
        Ok(files)
    }

    /// Reads a file: `esp_sa` and tcpdump files line by line, so that a table of a million lines
    /// is never in memory twice (as text and parsed); the small IKEv1 and PSK files whole.
    fn add_file(&mut self, path: &Path) -> Result<(), KeysError> {
        let read_error = |source| KeysError::Read {
            path: path.to_owned(),
            source,
        };
        let file = std::fs::File::open(path).map_err(read_error)?;
        let mut lines = Lines::new(std::io::BufReader::with_capacity(1 << 16, file));
        // Up to the first line that is not blank or a comment, which says what the file is.
        let mut head = Vec::new();
        let mut kind = FileKind::EspSa;
        while let Some(line) = lines.next_line().map_err(read_error)? {
            let trimmed = line.trim();
            let entry = !trimmed.is_empty() && !trimmed.starts_with(['#', '!']);
            if entry {
                kind = FileKind::detect(trimmed);
            }
            head.push(line);
            if entry {
                break;
            }
        }
        let entries = match kind {
            FileKind::EspSa | FileKind::Tcpdump => {
                let mut loader = LineLoader::new(kind, Some(path), 0);
                for (index, line) in head.iter().enumerate() {
                    loader.line(index + 1, line)?;
                }
                let mut number = head.len();
                while let Some(line) = lines.next_line().map_err(read_error)? {
                    number += 1;
                    loader.line(number, &line)?;
                }
                let (added, warnings) = loader.finish(&mut self.esp);
                self.warnings.extend(warnings);
                added
            }
            FileKind::Ikev1Table | FileKind::Ikev2Table | FileKind::Psk => {
                let mut text = head.join("\n");
                while let Some(line) = lines.next_line().map_err(read_error)? {
                    text.push('\n');
                    text.push_str(&line);
                }
                return self.add(&text, Some(path));
            }
        };
        self.record(kind, entries, Some(path));
        Ok(())
    }

    /// [`load`](Self::load) for texts already read; each path only labels messages.
    ///
    /// # Errors
    /// The first malformed line.
    pub fn load_texts<'t>(
        texts: impl IntoIterator<Item = (&'t str, Option<&'t Path>)>,
    ) -> Result<Self, KeysError> {
        let mut files = Self::default();
        for (text, path) in texts {
            files.add(text, path)?;
        }
        files.finish();
        Ok(files)
    }

    fn add(&mut self, text: &str, path: Option<&Path>) -> Result<(), KeysError> {
        let kind = FileKind::detect(text);
        let text = text.strip_prefix('\u{feff}').unwrap_or(text);
        let owned = || path.map(Path::to_path_buf);
        let entries = match kind {
            FileKind::EspSa | FileKind::Tcpdump => {
                let loader = LineLoader::new(kind, path, super::esp_sa::line_count(text));
                let (added, warnings) = self.esp.load(text, loader)?;
                self.warnings.extend(warnings);
                added
            }
            FileKind::Ikev1Table => {
                let keys = super::parse_ikev1_decryption_table(text).map_err(|error| {
                    KeysError::Ikev1Table {
                        path: owned(),
                        error,
                    }
                })?;
                let added = keys.len();
                self.check_ike_duplicates(text, path, &keys);
                self.ike.extend(keys);
                added
            }
            FileKind::Ikev2Table => {
                let (keys, warnings) = super::parse_ikev2_decryption_table(text, path)?;
                self.warnings.extend(warnings);
                let added = keys.len();
                self.ike.extend_v2(keys);
                added
            }
            FileKind::Psk => {
                let table = PskTable::parse(text).map_err(|error| KeysError::Psk {
                    path: owned(),
                    error,
                })?;
                let added = table.len();
                self.psks.extend(table);
                added
            }
        };
        self.record(kind, entries, path);
        Ok(())
    }

    /// Notes what a file was read as, and warns if it held no keys.
    fn record(&mut self, kind: FileKind, entries: usize, path: Option<&Path>) {
        let owned = || path.map(Path::to_path_buf);
        if entries == 0 && kind != FileKind::Tcpdump {
            self.warnings.push(Warning {
                path: owned(),
                line: None,
                message: format!("no keys in this {} file", kind.name()),
            });
        }
        self.kinds.push((owned(), kind));
    }

    /// Warns of an initiator cookie given another key than before (in this file or an earlier
    /// one): the last key is used, as Wireshark's table does.
    fn check_ike_duplicates(&mut self, text: &str, path: Option<&Path>, keys: &[Ikev1Key]) {
        let file = self.kinds.len();
        // The table parsed, so its n-th entry is its n-th line that is not blank or a comment.
        let lines = text
            .lines()
            .enumerate()
            .filter(|(_, line)| {
                let line = line.trim();
                !line.is_empty() && !line.starts_with('#')
            })
            .map(|(index, _)| index + 1);
        for (key, line) in keys.iter().zip(lines) {
            let cookie = key.initiator_cookie;
            let entry = (file, line, key.encryption_key.clone());
            let Some((before_file, before_line, before_key)) = self.ike_seen.insert(cookie, entry)
            else {
                continue;
            };
            if before_key == key.encryption_key {
                continue;
            }
            let before = match self
                .kinds
                .get(before_file)
                .and_then(|(path, _)| path.as_deref())
            {
                _ if before_file == file => format!("line {before_line}"),
                Some(before) => format!("{}:{before_line}", before.display()),
                None => format!("line {before_line} of another file"),
            };
            self.warnings.push(Warning {
                path: path.map(Path::to_path_buf),
                line: Some(line),
                message: format!(
                    "IKEv1 initiator cookie {} is also on {before} with another key; this line (the last) is used",
                    dmvpn_wire::fmt::Hex(&cookie)
                ),
            });
        }
    }

    fn finish(&mut self) {
        let duplicates = self.esp.duplicate_warnings();
        self.warnings.extend(duplicates);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const ESP_SA: &str = r#""IPv4","*","10.0.0.2","0x100","NULL","","HMAC-MD5-96 [RFC2403]","0x00112233445566778899aabbccddeeff""#;
    const IKEV1: &str = "fafaeb49382a763c,735be0cb62f82675c4f7bf8fbab9b56834ba76d6ab4fa240";
    const PSK: &str = "crypto isakmp key lab-secret address 192.0.2.11";
    const IKEV2: &str =
        "1234567890123456,0987654321098765,,,\"NULL [RFC2410]\",,,\"NONE [RFC4306]\"";
    const TCPDUMP: &str =
        "0x200@10.0.0.2 3des-cbc-hmac96:0x4043434545464649494a4a4c4c4f4f515152525454575758";

    /// The text with a BOM, CRLF line ends, a comment and a blank line before the entry.
    fn windows(entry: &str, comment: &str) -> String {
        format!("\u{feff}{comment} saved by Notepad\r\n\r\n{entry}\r\n")
    }

    #[test]
    fn every_kind_is_detected_with_a_bom_and_crlf() {
        for (entry, comment, kind) in [
            (ESP_SA, "#", FileKind::EspSa),
            ("IPv4,*,10.0.0.2,0x100,NULL,,NULL,", "#", FileKind::EspSa),
            (IKEV1, "#", FileKind::Ikev1Table),
            ("\"0xfafaeb49382a763c\",\"0x00\"", "#", FileKind::Ikev1Table),
            (IKEV2, "#", FileKind::Ikev2Table),
            (PSK, "!", FileKind::Psk),
            (PSK, "#", FileKind::Psk),
            (TCPDUMP, "#", FileKind::Tcpdump),
            (
                "ikev2 I 0x01 0x02 sha1:0x00 aes128:0x00",
                "#",
                FileKind::Tcpdump,
            ),
        ] {
            assert_eq!(FileKind::detect(entry), kind, "{entry}");
            let text = windows(entry, comment);
            assert_eq!(FileKind::detect(&text), kind, "{text:?}");
        }
        assert_eq!(FileKind::detect(""), FileKind::EspSa);
        assert_eq!(FileKind::detect("\u{feff}"), FileKind::EspSa);
    }

    #[test]
    fn every_kind_loads_with_a_bom_and_crlf() {
        let texts = [
            windows(ESP_SA, "#"),
            windows(IKEV1, "#"),
            windows(PSK, "!"),
            windows(TCPDUMP, "#"),
            windows(IKEV2, "#"),
        ];
        let files = KeyFiles::load_texts(texts.iter().map(|text| (text.as_str(), None))).unwrap();
        assert_eq!(
            (files.esp.len(), files.ike.len(), files.psks.len()),
            (2, 1, 1)
        );
        assert_eq!(files.ike.ikev2_len(), 1);
        assert!(files.warnings.is_empty(), "{:?}", files.warnings);
        let kinds: Vec<FileKind> = files.kinds.iter().map(|(_, kind)| *kind).collect();
        assert_eq!(
            kinds,
            [
                FileKind::EspSa,
                FileKind::Ikev1Table,
                FileKind::Psk,
                FileKind::Tcpdump,
                FileKind::Ikev2Table
            ]
        );
        // The secret is the PSK's, not the line's tail with the CR.
        assert!(PskTable::is_psk_file(&texts[2]));
        // No key material in Debug output.
        let debug = format!("{files:?}");
        assert!(debug.contains("<16 bytes redacted>") && debug.contains("<24 bytes redacted>"));
        for secret in ["0011223344", "735be0cb", "lab-secret", "4043434545"] {
            assert!(!debug.contains(secret), "{debug}");
        }
    }

    #[test]
    fn errors_and_warnings_name_the_file() {
        let path = Path::new("keys/lab.txt");
        let err =
            KeyFiles::load_texts([(format!("{IKEV1}\nzz,00\n").as_str(), Some(path))]).unwrap_err();
        assert_eq!(
            err.to_string(),
            "keys: keys/lab.txt: line 2, column 1: field `initiator cookie` is not hex"
        );
        let err = KeyFiles::load_texts([(
            format!("{PSK}\ncrypto isakmp key 7 0822455D0A16 address 10.0.0.1\n").as_str(),
            Some(path),
        )])
        .unwrap_err();
        assert_eq!(
            err.to_string(),
            "keys: keys/lab.txt: line 2: encrypted keys (type 6/7) cannot be used; give the secret"
        );
        let err = KeyFiles::load_texts([("0x1@10.0.0.1 aes128:0x0g\n", Some(path))]).unwrap_err();
        assert_eq!(
            err.to_string(),
            "keys: keys/lab.txt: line 1, column 24: invalid hex digit `g` in key"
        );
        let files = KeyFiles::load_texts([("# nothing yet\n", Some(path))]).unwrap();
        assert_eq!(
            files.warnings[0].to_string(),
            "keys/lab.txt: no keys in this esp_sa file"
        );
        let err = KeyFiles::load(["/nonexistent/keys"]).unwrap_err();
        assert!(
            err.to_string()
                .starts_with("keys: cannot read /nonexistent/keys: ")
        );
    }

    #[test]
    fn duplicates_across_files_name_both() {
        let other = ESP_SA.replace("0x0011", "0x9911");
        let files = KeyFiles::load_texts([
            (ESP_SA, Some(Path::new("a"))),
            (other.as_str(), Some(Path::new("b"))),
        ])
        .unwrap();
        let messages: Vec<String> = files.warnings.iter().map(ToString::to_string).collect();
        assert_eq!(
            messages,
            [
                "b:1: SA 0x00000100 * -> 10.0.0.2 is also on a:1 with other keys; a:1 is used (the file given first)"
            ]
        );
        for message in &messages {
            assert!(!message.contains("0011") && !message.contains("9911"));
        }
    }

    #[test]
    fn ikev1_cookies_given_twice_with_other_keys_are_reported() {
        let again = IKEV1.replace(",735b", ",835b");
        let first = format!("# t\n{IKEV1}\n\n{IKEV1}\n{again}\n");
        let files = KeyFiles::load_texts([
            (first.as_str(), Some(Path::new("a"))),
            (IKEV1, Some(Path::new("b"))),
        ])
        .unwrap();
        let messages: Vec<String> = files.warnings.iter().map(ToString::to_string).collect();
        assert_eq!(
            messages,
            [
                "a:5: IKEv1 initiator cookie fafaeb49382a763c is also on line 4 with another key; this line (the last) is used",
                "b:1: IKEv1 initiator cookie fafaeb49382a763c is also on a:5 with another key; this line (the last) is used",
            ]
        );
        assert_eq!(files.ike.len(), 1);
        assert!(!messages.concat().contains("735b"));
    }

    /// What a load gave, for comparing the streaming and whole-text readers.
    fn summary(result: Result<KeyFiles, KeysError>) -> String {
        match result {
            Err(error) => format!("error: {error}"),
            Ok(files) => {
                let mut out = format!(
                    "kinds {:?} ike {} psks {}\n",
                    files.kinds,
                    files.ike.len(),
                    files.psks.len()
                );
                for sa in files.esp.entries().iter().chain(files.esp.defaults()) {
                    let line = sa.to_line(crate::keys::KeyDisplay::Shown);
                    out.push_str(&format!("{} {line}\n", sa.line));
                }
                for warning in &files.warnings {
                    out.push_str(&format!("{warning}\n"));
                }
                out
            }
        }
    }

    #[test]
    fn files_stream_as_texts_parse() {
        let dir = std::env::temp_dir().join(format!("dmvpn-keys-stream-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let twofish = "\"IPv4\",\"*\",\"*\",\"0x9\",\"TWOFISH-CBC\",\"0x00\",\"NULL\",\"\"";
        let cases: Vec<Vec<u8>> = vec![
            Vec::new(),
            b"# only a comment".to_vec(),
            windows(ESP_SA, "#").into_bytes(),
            format!("{ESP_SA}\n{twofish}\n{}", ESP_SA.replace("0x100", "0x101")).into_bytes(),
            format!("{ESP_SA}\n{}\n", ESP_SA.replace("0x0011", "0x9911")).into_bytes(),
            format!("\u{feff}{ESP_SA}\r\n\"IPv4\",\"*\"\r\n").into_bytes(),
            windows(TCPDUMP, "#").into_bytes(),
            format!("{TCPDUMP}\nikev2 I a b\naes128:0123456789abcdef\r").into_bytes(),
            windows(IKEV1, "#").into_bytes(),
            format!("{IKEV1}\n\n{}", IKEV1.replace(",735b", ",835b")).into_bytes(),
            windows(PSK, "!").into_bytes(),
            // Invalid UTF-8 in a comment and in a field; a lone CR inside a line.
            [
                &b"# \xff\xfe\n"[..],
                ESP_SA.as_bytes(),
                b"\n\"IPv4\",\"\xc3\",\"*\"\n",
            ]
            .concat(),
            [ESP_SA.as_bytes(), b"\r\rx\n"].concat(),
        ];
        for (n, bytes) in cases.iter().enumerate() {
            let path = dir.join(format!("case{n}"));
            std::fs::write(&path, bytes).unwrap();
            let text = String::from_utf8_lossy(bytes);
            let streamed = summary(KeyFiles::load([&path]));
            assert_eq!(
                streamed,
                summary(KeyFiles::load_texts([(
                    text.as_ref(),
                    Some(path.as_path())
                )])),
                "case {n}"
            );
            assert!(!streamed.is_empty());
        }
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[test]
    fn arbitrary_files_never_panic() {
        bolero::check!().for_each(|bytes: &[u8]| {
            let text = String::from_utf8_lossy(bytes);
            let _ = FileKind::detect(&text);
            if let Ok(files) = KeyFiles::load_texts([(text.as_ref(), None)]) {
                for warning in &files.warnings {
                    let _ = warning.to_string();
                }
            }
        });
    }
}
