//! Key files users already have, told apart by content ([`KeyFiles::load`]): Wireshark's
//! `esp_sa` (see [`esp_sa`]), tcpdump's `-E` secrets (see [`tcpdump`]), Wireshark's
//! `ikev1_decryption_table` and IOS `crypto isakmp key` lines.
//!
//! [`EspKeys`] is the SA table the decoder looks ESP packets up in. Like Wireshark it takes the
//! first line that matches a packet's source, destination and SPI (tcpdump's lines are entered so
//! that its own choice, the last line, comes first). The table is parsed once and shared: cloning
//! an `EspKeys` copies a pointer, and each SA's cipher and MAC state is prepared only when a packet
//! needs it ([`EspSa::sa_for`]), by whoever decrypts. Key material never appears in `Debug`
//! output, warnings or error messages.
//!
//! ```
//! use dmvpn::keys::EspKeys;
//! use dmvpn_esp::{Encryption, Integrity};
//!
//! let mut keys = EspKeys::parse(concat!(
//!     "# from Wireshark's test suite\n",
//!     r#""IPv4","192.168.0.1","192.168.0.100","0x070883c2","AES-CBC [RFC3602]","#,
//!     r#""0x5de1a4c2c72662c9fda7a7c78cd25623","HMAC-SHA-1-96 [RFC2404]","#,
//!     r#""0x51c9213c18232f8f26c70c4dee6e0e6d56e31e8a""#,
//! ))?;
//! let (src, dst) = ("192.168.0.1".parse()?, "192.168.0.100".parse()?);
//! let entry = keys.find(src, dst, 0x070883c2).expect("the SA matches");
//! assert_eq!((entry.encryption, entry.integrity), (Encryption::AesCbc, Integrity::HmacSha1_96));
//! assert!(format!("{entry:?}").contains("<16 bytes redacted>"));
//! assert_eq!(keys.sa(src, dst, 0x070883c2).map(|sa| sa.spi()), Some(0x070883c2));
//! assert!(keys.find(dst, src, 0x070883c2).is_none());
//!
//! let err = EspKeys::parse(r#""IPv4","*","*","0x1","AES-CBC [RFC3602]","0x00","NULL","""#).unwrap_err();
//! assert_eq!(err.to_string(), "keys: line 1, column 42: AES-CBC [RFC3602] key is 1 bytes; expected 16, 24 or 32 bytes");
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

mod error;
pub mod esp_sa;
mod files;
mod ikev1_table;
mod ikev2_table;
mod lexer;
pub mod tcpdump;

use core::fmt;
use core::net::IpAddr;
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, OnceLock};

use dmvpn_esp::Sa;

pub use esp_sa::{
    AddrPattern, AddressFamily, EspSa, KeyDisplay, KeysError, Location, ParseErrorKind,
    SecretBytes, SpiPattern,
};
pub use files::{FileKind, KeyFiles};
pub use ikev1_table::{KeyFileError, KeyFileErrorKind, parse_ikev1_decryption_table};
pub use ikev2_table::{Ikev2Key, parse_ikev2_decryption_table};

/// At most this many SAs prepared by [`EspKeys::sa`] are cached; the cache is emptied when full.
const MAX_CACHED: usize = 1024;

/// The ESP SA table, loaded from key files or built in code. Clones share the table.
#[derive(Default)]
pub struct EspKeys {
    table: Arc<Table>,
    /// SAs prepared by [`EspKeys::sa`], by (entry index, SPI); this handle's own.
    cache: HashMap<(usize, u32), Sa>,
}

/// The lines, shared by every clone of an [`EspKeys`].
#[derive(Clone, Default)]
struct Table {
    sas: Vec<EspSa>,
    /// tcpdump's default SAs (no SPI and address): tried after every line.
    defaults: Vec<EspSa>,
    /// Which file each run of `sas` came from, by first index.
    sources: Vec<Source>,
    /// Built on the first lookup after a change.
    index: OnceLock<Index>,
}

/// A run of lines from one file.
#[derive(Clone)]
struct Source {
    /// Index of its first SA in `sas`.
    start: usize,
    path: Option<Arc<Path>>,
    /// What picks between two lines of the file for the same SA.
    rule: &'static str,
}

/// The lines by SPI, for lookups in O(log n) however long the table is.
#[derive(Clone, Default)]
struct Index {
    /// (SPI, entry index) of the lines with an exact SPI, sorted.
    exact: Vec<(u32, usize)>,
    /// Entry indices of the lines with a wildcard SPI, ascending.
    wild: Vec<usize>,
}

impl Index {
    fn build(sas: &[EspSa]) -> Self {
        let mut index = Self::default();
        for (i, sa) in sas.iter().enumerate() {
            match sa.spi.exact() {
                Some(spi) => index.exact.push((spi, i)),
                None => index.wild.push(i),
            }
        }
        index.exact.sort_unstable();
        index
    }

    /// The entries with exactly `spi`, ascending.
    fn exact(&self, spi: u32) -> impl Iterator<Item = usize> + '_ {
        let start = self.exact.partition_point(|&(s, _)| s < spi);
        self.exact
            .get(start..)
            .unwrap_or_default()
            .iter()
            .take_while(move |&&(s, _)| s == spi)
            .map(|&(_, i)| i)
    }
}

impl Table {
    fn index(&self) -> &Index {
        self.index.get_or_init(|| Index::build(&self.sas))
    }

    /// The entry a packet uses: the first matching line, else the first matching default SA
    /// (index `sas.len() + n`).
    fn position(&self, src: IpAddr, dst: IpAddr, spi: u32) -> Option<usize> {
        let index = self.index();
        let matches = |&i: &usize| self.sas.get(i).is_some_and(|sa| sa.matches(src, dst, spi));
        let exact = index.exact(spi).find(matches);
        let wild = index
            .wild
            .iter()
            .copied()
            .take_while(|&i| exact.is_none_or(|e| i < e))
            .find(matches);
        wild.or(exact).or_else(|| {
            self.defaults
                .iter()
                .position(|sa| sa.matches(src, dst, spi))
                .map(|n| self.sas.len() + n)
        })
    }

    fn entry(&self, index: usize) -> Option<&EspSa> {
        self.sas
            .get(index)
            .or_else(|| self.defaults.get(index.checked_sub(self.sas.len())?))
    }

    fn source(&self, index: usize) -> Option<&Source> {
        let after = self.sources.partition_point(|source| source.start <= index);
        self.sources.get(after.checked_sub(1)?)
    }

    /// `FILE:LINE` (or `line N`) of entry `index`.
    fn place(&self, index: usize) -> String {
        let line = self.sas.get(index).map_or(0, |sa| sa.line);
        match self.source(index).and_then(|source| source.path.as_deref()) {
            Some(path) => format!("{}:{line}", path.display()),
            None => format!("line {line}"),
        }
    }
}

impl EspKeys {
    /// An empty table.
    #[must_use]
    pub fn new() -> Self {
        Self::default()
    }

    /// A table from `esp_sa` text.
    ///
    /// # Errors
    /// The first malformed line (or line with an algorithm dmvpn does not implement), as
    /// [`KeysError::Parse`] with its line and column.
    pub fn parse(text: &str) -> Result<Self, KeysError> {
        let mut keys = Self::new();
        keys.load_str(text, None)?;
        Ok(keys)
    }

    /// A table from an `esp_sa` file.
    ///
    /// # Errors
    /// [`KeysError::Read`] or the first malformed line.
    pub fn from_file(path: impl AsRef<Path>) -> Result<Self, KeysError> {
        let mut keys = Self::new();
        keys.load_file(path)?;
        Ok(keys)
    }

    /// Adds the SAs of an `esp_sa` file after those already loaded; returns how many it added.
    /// On an error nothing is added. [`KeyFiles::load`] reads any kind of key file, with
    /// warnings for the lines it skips.
    ///
    /// # Errors
    /// [`KeysError::Read`] or the first malformed line.
    pub fn load_file(&mut self, path: impl AsRef<Path>) -> Result<usize, KeysError> {
        let path = path.as_ref();
        let text = files::read(path)?;
        self.load_str(&text, Some(path))
    }

    /// Adds the SAs of `esp_sa` text; `path` only labels errors. On an error nothing is added.
    ///
    /// # Errors
    /// The first malformed line.
    pub fn load_str(&mut self, text: &str, path: Option<&Path>) -> Result<usize, KeysError> {
        let sas = esp_sa::parse(text, path)?;
        let added = sas.len();
        self.append(sas, path, FIRST_WINS);
        Ok(added)
    }

    /// Adds the SAs a capture carries in a pcapng Decryption Secrets Block of type
    /// [`SecretsType::ESP_SA`](crate::capture::SecretsType::ESP_SA) (read as `esp_sa` lines);
    /// other secrets types add nothing. Returns how many SAs were added.
    ///
    /// # Errors
    /// The first malformed line; nothing is added then.
    pub fn load_secrets(&mut self, secrets: &crate::capture::Secrets) -> Result<usize, KeysError> {
        if secrets.secrets_type != crate::capture::SecretsType::ESP_SA {
            return Ok(0);
        }
        self.load_str(&String::from_utf8_lossy(&secrets.data), None)
    }

    /// Adds the good lines of `esp_sa` text and returns the errors of the bad ones.
    pub fn load_str_lenient(&mut self, text: &str, path: Option<&Path>) -> Vec<KeysError> {
        let mut errors = Vec::new();
        let mut sas = Vec::new();
        for result in esp_sa::parse_lenient(text, path) {
            match result {
                Ok(sa) => sas.push(sa),
                Err(error) => errors.push(error),
            }
        }
        self.append(sas, path, FIRST_WINS);
        errors
    }

    /// Adds one SA after the others.
    pub fn push(&mut self, sa: EspSa) {
        self.append(vec![sa], None, FIRST_WINS);
    }

    /// Adds the SAs of an `esp_sa` or tcpdump `-E` text, read line by line with `loader` (a
    /// byte-order mark at the start is skipped); a line with an algorithm dmvpn does not
    /// implement, or a tcpdump IKEv2 line, is skipped with a warning. Returns how many SAs were
    /// added and the warnings.
    ///
    /// # Errors
    /// The first malformed line; nothing is added then.
    pub(crate) fn load(
        &mut self,
        text: &str,
        mut loader: LineLoader<'_>,
    ) -> Result<(usize, Vec<Warning>), KeysError> {
        let text = text.strip_prefix('\u{feff}').unwrap_or(text);
        for (index, line) in text.lines().enumerate() {
            loader.line(index + 1, line)?;
        }
        Ok(loader.finish(self))
    }

    fn append(&mut self, sas: Vec<EspSa>, path: Option<&Path>, rule: &'static str) {
        if sas.is_empty() {
            return;
        }
        let table = self.table_mut();
        table.sources.push(Source {
            start: table.sas.len(),
            path: path.map(Arc::from),
            rule,
        });
        if table.sas.is_empty() {
            // The first file's lines stay where they were parsed: no second copy of a big table.
            table.sas = sas;
        } else {
            table.sas.extend(sas);
        }
    }

    fn table_mut(&mut self) -> &mut Table {
        self.cache.clear();
        let table = Arc::make_mut(&mut self.table);
        table.index = OnceLock::new();
        table
    }

    /// The SA lines in table order (tcpdump's default SAs are in [`defaults`](Self::defaults)).
    #[must_use]
    pub fn entries(&self) -> &[EspSa] {
        &self.table.sas
    }

    /// tcpdump's default SAs (lines without `SPI@ADDRESS`), tried after every line.
    #[must_use]
    pub fn defaults(&self) -> &[EspSa] {
        &self.table.defaults
    }

    /// How many SAs there are, default SAs included.
    #[must_use]
    pub fn len(&self) -> usize {
        self.table.sas.len() + self.table.defaults.len()
    }

    /// Whether there are none.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Whether `other` shares this table (a clone of it, or of the same clone).
    #[must_use]
    pub fn shares_table_with(&self, other: &Self) -> bool {
        Arc::ptr_eq(&self.table, &other.table)
    }

    /// The SA a packet from `src` to `dst` with `spi` uses: the first matching line, else a
    /// matching default SA.
    #[must_use]
    pub fn find(&self, src: IpAddr, dst: IpAddr, spi: u32) -> Option<&EspSa> {
        self.table.entry(self.table.position(src, dst, spi)?)
    }

    /// The prepared SA for a packet from `src` to `dst` with `spi`, made on first use for this
    /// SPI and cached in this handle.
    pub fn sa(&mut self, src: IpAddr, dst: IpAddr, spi: u32) -> Option<&Sa> {
        let index = self.table.position(src, dst, spi)?;
        if !self.cache.contains_key(&(index, spi)) {
            if self.cache.len() >= MAX_CACHED {
                self.cache.clear();
            }
            // The keys were checked when the line was read, so this does not fail.
            let prepared = self.table.entry(index)?.sa_for(spi).ok()?;
            self.cache.insert((index, spi), prepared);
        }
        self.cache.get(&(index, spi))
    }

    /// Warnings for lines naming the same SA (addresses and exact SPI) with other keys: both
    /// lines, and which one is used. Lines that repeat the same keys are harmless and not reported.
    #[must_use]
    pub fn duplicate_warnings(&self) -> Vec<Warning> {
        let table = &*self.table;
        let index = table.index();
        let mut warnings = Vec::new();
        let mut seen: HashMap<(AddressFamily, AddrPattern, AddrPattern), usize> = HashMap::new();
        for run in index.exact.chunk_by(|a, b| a.0 == b.0) {
            if run.len() < 2 {
                continue;
            }
            seen.clear();
            for &(spi, i) in run {
                let Some(sa) = table.sas.get(i) else { continue };
                let first = *seen.entry((sa.family, sa.src, sa.dst)).or_insert(i);
                let Some(used) = table.sas.get(first).filter(|_| first != i) else {
                    continue;
                };
                if used.same_keys(sa) {
                    continue;
                }
                let same_file =
                    table.source(first).map(|s| s.start) == table.source(i).map(|s| s.start);
                let rule = match table.source(first) {
                    Some(source) if same_file => source.rule,
                    _ => "the file given first",
                };
                warnings.push(warning_at(
                    table.source(i).and_then(|s| s.path.as_deref()),
                    sa.line,
                    format!(
                        "SA {:#010x} {} -> {} is also on {} with other keys; {} is used ({rule})",
                        spi,
                        sa.src,
                        sa.dst,
                        table.place(first),
                        table.place(first),
                    ),
                ));
            }
        }
        warnings.sort_by(|a, b| (&a.path, a.line).cmp(&(&b.path, b.line)));
        warnings
    }
}

/// The rule of `esp_sa` files.
const FIRST_WINS: &str = "the first, as Wireshark does";
/// The rule of tcpdump secrets files.
const LAST_WINS: &str = "the last, as tcpdump does";

impl Clone for EspKeys {
    /// The same table (shared, not copied), with no SA prepared yet.
    fn clone(&self) -> Self {
        Self {
            table: Arc::clone(&self.table),
            cache: HashMap::new(),
        }
    }
}

impl fmt::Debug for EspKeys {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("EspKeys")
            .field("sas", &self.table.sas)
            .field("defaults", &self.table.defaults)
            .finish_non_exhaustive()
    }
}

/// Something in a key file that did not stop it being used: a line skipped (an algorithm
/// dmvpn does not implement, IKEv2 keys), a duplicate SA. Never holds key material.
#[derive(Clone, Debug, Eq, PartialEq)]
pub struct Warning {
    /// The file, if the text came from one.
    pub path: Option<PathBuf>,
    /// The 1-based line, if the warning is about one.
    pub line: Option<usize>,
    /// What happened.
    pub message: String,
}

fn warning_at(path: Option<&Path>, line: usize, message: String) -> Warning {
    Warning {
        path: path.map(Path::to_path_buf),
        line: Some(line),
        message,
    }
}

impl fmt::Display for Warning {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match (&self.path, self.line) {
            (Some(path), Some(line)) => write!(f, "{}:{line}: ", path.display())?,
            (Some(path), None) => write!(f, "{}: ", path.display())?,
            (None, Some(line)) => write!(f, "line {line}: ")?,
            (None, None) => {}
        }
        f.write_str(&self.message)
    }
}

/// Reads an `esp_sa` or tcpdump `-E` secrets file line by line (from text or a stream), for
/// [`EspKeys`].
pub(crate) enum LineLoader<'p> {
    /// Wireshark's `esp_sa`.
    EspSa(EspSaLoader<'p>),
    /// tcpdump's `-E` secrets.
    Tcpdump(TcpdumpLoader<'p>),
}

impl<'p> LineLoader<'p> {
    /// The loader of a `kind` file: tcpdump secrets for [`FileKind::Tcpdump`], `esp_sa` for
    /// anything else, made ready for about `lines` lines.
    pub(crate) fn new(kind: FileKind, path: Option<&'p Path>, lines: usize) -> Self {
        match kind {
            FileKind::Tcpdump => Self::Tcpdump(TcpdumpLoader::new(path)),
            _ => Self::EspSa(EspSaLoader::new(path, lines)),
        }
    }

    /// Line `number` (1-based, without its line end or, on line 1, byte-order mark).
    ///
    /// # Errors
    /// The line is malformed.
    pub(crate) fn line(&mut self, number: usize, line: &str) -> Result<(), KeysError> {
        match self {
            Self::EspSa(loader) => loader.line(number, line),
            Self::Tcpdump(loader) => loader.line(number, line),
        }
    }

    /// Adds the SAs to `keys`: how many, and the warnings.
    pub(crate) fn finish(self, keys: &mut EspKeys) -> (usize, Vec<Warning>) {
        match self {
            Self::EspSa(loader) => loader.finish(keys),
            Self::Tcpdump(loader) => loader.finish(keys),
        }
    }
}

/// Reads an `esp_sa` file line by line (from text or a stream), for [`EspKeys`].
pub(crate) struct EspSaLoader<'p> {
    path: Option<&'p Path>,
    sas: Vec<EspSa>,
    warnings: Vec<Warning>,
}

impl<'p> EspSaLoader<'p> {
    /// A loader for a file of about `lines` lines (room is made for that many SAs).
    pub(crate) fn new(path: Option<&'p Path>, lines: usize) -> Self {
        Self {
            path,
            sas: Vec::with_capacity(lines),
            warnings: Vec::new(),
        }
    }

    /// Line `number` (1-based, without its line end or, on line 1, byte-order mark).
    ///
    /// # Errors
    /// The line is malformed.
    pub(crate) fn line(&mut self, number: usize, line: &str) -> Result<(), KeysError> {
        match esp_sa::parse_numbered(line, number, self.path) {
            None => {}
            Some(Ok(sa)) => self.sas.push(sa),
            Some(Err(KeysError::Parse { location, kind })) if kind.is_unsupported() => {
                self.warnings.push(warning_at(
                    self.path,
                    location.line,
                    format!("{kind}; line skipped"),
                ));
            }
            Some(Err(error)) => return Err(error),
        }
        Ok(())
    }

    /// Adds the SAs to `keys`: how many, and the warnings.
    pub(crate) fn finish(mut self, keys: &mut EspKeys) -> (usize, Vec<Warning>) {
        self.sas.shrink_to_fit();
        let added = self.sas.len();
        keys.append(self.sas, self.path, FIRST_WINS);
        (added, self.warnings)
    }
}

/// Reads a tcpdump `-E` secrets file line by line (from text or a stream), for [`EspKeys`].
pub(crate) struct TcpdumpLoader<'p> {
    path: Option<&'p Path>,
    sas: Vec<EspSa>,
    defaults: Vec<EspSa>,
    warnings: Vec<Warning>,
    /// The first IKEv2 line and how many there are.
    ikev2: Option<(usize, usize)>,
}

impl<'p> TcpdumpLoader<'p> {
    pub(crate) const fn new(path: Option<&'p Path>) -> Self {
        Self {
            path,
            sas: Vec::new(),
            defaults: Vec::new(),
            warnings: Vec::new(),
            ikev2: None,
        }
    }

    /// Line `number` (1-based, without its line end or, on line 1, byte-order mark).
    ///
    /// # Errors
    /// The line is malformed.
    pub(crate) fn line(&mut self, number: usize, raw: &str) -> Result<(), KeysError> {
        let trimmed = raw.trim();
        if trimmed.is_empty() || trimmed.starts_with('#') {
            return Ok(());
        }
        let leading = raw.chars().count() - raw.trim_start().chars().count();
        match tcpdump::parse_line(trimmed, leading) {
            Ok(tcpdump::Line::Sa(mut sa)) => {
                sa.line = number;
                self.sas.push(sa);
            }
            Ok(tcpdump::Line::Default(mut sa)) => {
                sa.line = number;
                self.defaults.push(sa);
            }
            Ok(tcpdump::Line::Ikev2) => {
                let (first, count) = self.ikev2.unwrap_or((number, 0));
                self.ikev2 = Some((first, count + 1));
            }
            Err((_, kind)) if kind.is_unsupported() => {
                self.warnings.push(warning_at(
                    self.path,
                    number,
                    format!("{kind}; line skipped"),
                ));
            }
            Err((column, kind)) => {
                return Err(KeysError::Parse {
                    location: Location {
                        path: self.path.map(Path::to_path_buf),
                        line: number,
                        column,
                    },
                    kind,
                });
            }
        }
        Ok(())
    }

    /// Adds the SAs to `keys` so that first match picks what tcpdump picks: how many, and the
    /// warnings.
    pub(crate) fn finish(self, keys: &mut EspKeys) -> (usize, Vec<Warning>) {
        let Self {
            path,
            mut sas,
            mut defaults,
            mut warnings,
            ikev2,
        } = self;
        if let Some((first, count)) = ikev2 {
            warnings.push(warning_at(
                path,
                first,
                format!(
                    "{count} IKEv2 key line{} skipped: dmvpn decrypts ESP and IKEv1, not IKEv2",
                    if count == 1 { "" } else { "s" }
                ),
            ));
        }
        // tcpdump keeps one default SA, the last.
        if let Some(last) = defaults.last() {
            for other in &defaults[..defaults.len() - 1] {
                let message = if other.same_keys(last) {
                    format!(
                        "default SA repeated on line {}; line {} is used",
                        last.line, last.line
                    )
                } else {
                    format!(
                        "default SA (no SPI@address) also on line {} with other keys; line {} is used ({LAST_WINS})",
                        last.line, last.line
                    )
                };
                warnings.push(warning_at(path, other.line, message));
            }
        }
        // First match wins in the table: the file's last line for an SA comes first.
        sas.reverse();
        sas.shrink_to_fit();
        let added = sas.len() + usize::from(!defaults.is_empty());
        keys.append(sas, path, LAST_WINS);
        if let Some(last) = defaults.pop() {
            keys.table_mut().defaults.push(last);
        }
        warnings.sort_by_key(|warning| warning.line);
        (added, warnings)
    }
}

/// Entry points for the fuzz targets (`fuzz/fuzz_targets/keys_*.rs`).
#[cfg(any(test, feature = "fuzzing"))]
#[doc(hidden)]
pub mod fuzzing {
    /// Reads arbitrary bytes as a key file of whatever kind they look like (with the first byte
    /// choosing to prefix a byte-order mark, and a tcpdump line shape when it is odd), as
    /// [`KeyFiles`](super::KeyFiles) does; panics only if an invariant breaks: an error names
    /// the keys, a warning names a line of the file, what parsed prints back redacted.
    pub fn load_key_file(data: &[u8]) {
        let Some((&selector, rest)) = data.split_first() else {
            return;
        };
        let mut text = String::new();
        if selector & 1 == 1 {
            text.push('\u{feff}');
        }
        if selector & 2 == 2 {
            // Steer toward the tcpdump parser: a plausible `SPI@ADDRESS` first word.
            text.push_str("0x1@10.0.0.1 ");
        }
        text.push_str(&String::from_utf8_lossy(rest));
        let lines = text.lines().count();
        let kind = super::FileKind::detect(&text);
        match super::KeyFiles::load_texts([(text.as_str(), None)]) {
            Ok(files) => {
                assert_eq!(files.kinds.first().map(|(_, kind)| *kind), Some(kind));
                for warning in &files.warnings {
                    assert!(warning.line.is_none_or(|line| (1..=lines).contains(&line)));
                    let _ = warning.to_string();
                }
                for sa in files.esp.entries().iter().chain(files.esp.defaults()) {
                    assert!((1..=lines).contains(&sa.line));
                    assert!(sa.to_line(super::KeyDisplay::Redacted).starts_with('"'));
                    // The keys were checked: preparing the SA cannot fail.
                    assert!(sa.sa_for(sa.spi.value).is_ok());
                }
            }
            Err(error) => {
                assert!(error.to_string().starts_with("keys: "), "{error}");
                if let Some(location) = error.location() {
                    assert!(location.line >= 1 && location.column >= 1);
                }
            }
        }
    }

    /// Parses arbitrary bytes as an `esp_sa` file, line by line; panics only if an invariant breaks.
    pub fn parse_esp_sa(data: &[u8]) {
        let text = String::from_utf8_lossy(data);
        let mut keys = super::EspKeys::new();
        for error in keys.load_str_lenient(&text, None) {
            let location = error.location().cloned().unwrap_or_default();
            assert!(location.line >= 1 && location.column >= 1);
            let message = error.to_string();
            assert!(message.starts_with("keys: "));
        }
        for sa in keys.entries() {
            assert!(sa.line >= 1);
            // A line that parsed prints back without its keys.
            let line = sa.to_line(super::KeyDisplay::Redacted);
            assert!(line.starts_with('"'));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Loads `text`, a `kind` key file, into `keys`.
    fn load(
        keys: &mut EspKeys,
        kind: FileKind,
        text: &str,
        path: Option<&Path>,
    ) -> Result<(usize, Vec<Warning>), KeysError> {
        keys.load(text, LineLoader::new(kind, path, esp_sa::line_count(text)))
    }

    #[test]
    fn first_match_wins_and_wildcards_are_cached() {
        let text = concat!(
            r#""IPv4","*","10.0.0.2","*","NULL","","HMAC-MD5-96 [RFC2403]","0x00112233445566778899aabbccddeeff""#,
            "\n",
            r#""IPv4","10.0.0.1","10.0.0.2","0x100","AES-CBC [RFC3602]","0x00112233445566778899aabbccddeeff","NULL","""#,
        );
        let mut keys = EspKeys::parse(text).unwrap();
        assert_eq!(keys.len(), 2);
        let (a, b) = ("10.0.0.1".parse().unwrap(), "10.0.0.2".parse().unwrap());
        assert_eq!(keys.find(a, b, 0x100).map(|sa| sa.line), Some(1));
        assert_eq!(keys.sa(a, b, 0x100).map(Sa::spi), Some(0x100));
        assert_eq!(keys.sa(a, b, 0x200).map(Sa::spi), Some(0x200));
        assert_eq!(keys.cache.len(), 2);
        assert!(keys.sa(b, a, 0x100).is_none());
        for spi in 0..(MAX_CACHED as u32 + 10) {
            assert!(keys.sa(a, b, spi).is_some());
        }
        assert!(keys.cache.len() <= MAX_CACHED);
    }

    /// An `esp_sa` line: NULL encryption and HMAC-MD5-96 keyed with `key` repeated.
    fn line(src: &str, dst: &str, spi: &str, key: u8) -> String {
        format!(
            r#""IPv4","{src}","{dst}","{spi}","NULL","","HMAC-MD5-96 [RFC2403]","0x{}""#,
            format!("{key:02x}").repeat(16)
        )
    }

    #[test]
    fn the_index_finds_what_a_linear_scan_finds() {
        // Exact and wildcard lines mixed, so that a wildcard line before an exact one wins.
        let srcs = ["*", "10.0.0.1", "10.0.*.*", "10.0.0.0/30"];
        let spis = ["0x1", "0x2", "*", "0x1*", "0x3", "0x*2"];
        let mut text = String::new();
        let mut state = 7u32;
        for n in 0..200u8 {
            state = state.wrapping_mul(1_103_515_245).wrapping_add(12345);
            let src = srcs[(state >> 8) as usize % srcs.len()];
            let spi = spis[(state >> 16) as usize % spis.len()];
            text.push_str(&line(src, "10.0.1.1", spi, n));
            text.push('\n');
        }
        let keys = EspKeys::parse(&text).unwrap();
        let dst = "10.0.1.1".parse().unwrap();
        for src in ["10.0.0.1", "10.0.0.2", "10.0.0.9", "10.9.0.1"] {
            let src: IpAddr = src.parse().unwrap();
            for spi in [1, 2, 3, 0x12, 0x10, 0x42, 0x99] {
                let linear = keys.entries().iter().find(|sa| sa.matches(src, dst, spi));
                assert_eq!(
                    keys.find(src, dst, spi).map(|sa| sa.line),
                    linear.map(|sa| sa.line),
                    "{src} {spi:#x}"
                );
            }
        }
    }

    #[test]
    fn clones_share_the_table_and_changes_do_not() {
        let keys = EspKeys::parse(&line("*", "10.0.0.2", "0x1", 1)).unwrap();
        let mut other = keys.clone();
        assert!(other.shares_table_with(&keys));
        other.push(
            EspKeys::parse(&line("*", "10.0.0.2", "0x2", 2))
                .unwrap()
                .entries()[0]
                .clone(),
        );
        assert!(!other.shares_table_with(&keys));
        assert_eq!((keys.len(), other.len()), (1, 2));
        let (a, b) = ("10.0.0.1".parse().unwrap(), "10.0.0.2".parse().unwrap());
        assert!(keys.find(a, b, 2).is_none() && other.find(a, b, 2).is_some());
    }

    #[test]
    fn duplicate_sas_with_other_keys_are_reported_once_with_the_one_used() {
        let text = [
            line("10.0.0.1", "10.0.0.2", "0x100", 1),
            line("10.0.0.1", "10.0.0.2", "0x101", 1),
            // Same SA, same keys: harmless.
            line("10.0.0.1", "10.0.0.2", "0x101", 1),
            // Same SPI, other addresses: another SA.
            line("10.0.0.2", "10.0.0.1", "0x100", 2),
            // Same SA, other keys: the first (line 1) is used.
            line("10.0.0.1", "10.0.0.2", "0x100", 3),
        ]
        .join("\n");
        let keys = EspKeys::parse(&text).unwrap();
        let warnings = keys.duplicate_warnings();
        assert_eq!(warnings.len(), 1, "{warnings:?}");
        assert_eq!(
            warnings[0].to_string(),
            "line 5: SA 0x00000100 10.0.0.1 -> 10.0.0.2 is also on line 1 with other keys; line 1 is used (the first, as Wireshark does)"
        );
        assert!(!warnings[0].message.contains("0303"));
        let (a, b) = ("10.0.0.1".parse().unwrap(), "10.0.0.2".parse().unwrap());
        assert_eq!(keys.find(a, b, 0x100).map(|sa| sa.line), Some(1));
    }

    #[test]
    fn tcpdump_files_keep_tcpdumps_choices() {
        let key = |byte: u8| format!("0x{}", format!("{byte:02x}").repeat(16));
        let text = format!(
            "\u{feff}# secrets\r\n\
             0x10@10.0.0.2 aes128-cbc-hmac96:{}\r\n\
             aes128-cbc:{}\r\n\
             \t0x10@10.0.0.2 aes128-cbc-hmac96:{}\r\n\
             0x11@10.0.0.2 cast128-cbc:0x00\r\n\
             ikev2 I 0x0001020304050607 0xc02e7a3031a03188 sha1:0x00 aes128:0x00\r\n\
             ikev2 R 0x0001020304050607 0xc02e7a3031a03188 sha1:0x00 aes128:0x00\r\n\
             aes128:{}\r\n",
            key(1),
            key(2),
            key(3),
            key(4)
        );
        let mut keys = EspKeys::new();
        let (added, warnings) = load(
            &mut keys,
            FileKind::Tcpdump,
            &text,
            Some(Path::new("s.txt")),
        )
        .unwrap();
        assert_eq!(added, 3);
        let messages: Vec<String> = warnings.iter().map(ToString::to_string).collect();
        assert_eq!(
            messages,
            [
                "s.txt:3: default SA (no SPI@address) also on line 8 with other keys; line 8 is used (the last, as tcpdump does)",
                "s.txt:5: algorithm \"cast128-cbc\" is valid in tcpdump but not supported by dmvpn; line skipped",
                "s.txt:6: 2 IKEv2 key lines skipped: dmvpn decrypts ESP and IKEv1, not IKEv2",
            ]
        );
        let (a, b) = ("10.0.0.1".parse().unwrap(), "10.0.0.2".parse().unwrap());
        // The last line for SPI 0x10 (line 4), and the last default SA for anything else.
        let used = keys.find(a, b, 0x10).unwrap();
        assert_eq!((used.line, used.encryption_key().as_bytes()[0]), (4, 3));
        assert_eq!(keys.find(a, b, 0x99).map(|sa| sa.line), Some(8));
        assert_eq!(keys.defaults().len(), 1);
        let duplicates = keys.duplicate_warnings();
        assert_eq!(duplicates.len(), 1);
        assert_eq!(
            duplicates[0].to_string(),
            "s.txt:2: SA 0x00000010 * -> 10.0.0.2 is also on s.txt:4 with other keys; s.txt:4 is used (the last, as tcpdump does)"
        );
        let err = load(
            &mut keys,
            FileKind::Tcpdump,
            "0x1@10.0.0.2 aes128:0x00\n",
            None,
        )
        .unwrap_err();
        assert_eq!(
            err.to_string(),
            "keys: line 1, column 21: aes128-cbc key is 1 bytes; expected 16 bytes"
        );
    }

    #[test]
    fn esp_sa_files_skip_unsupported_lines_with_warnings() {
        let text = format!(
            "{}\r\n\"IPv4\",\"*\",\"*\",\"0x2\",\"TWOFISH-CBC\",\"0x00\",\"NULL\",\"\"\r\n{}\r\n",
            line("*", "10.0.0.2", "0x1", 1),
            line("*", "10.0.0.2", "0x3", 3)
        );
        let mut keys = EspKeys::new();
        let (added, warnings) =
            load(&mut keys, FileKind::EspSa, &text, Some(Path::new("k"))).unwrap();
        assert_eq!((added, keys.len()), (2, 2));
        assert_eq!(
            warnings[0].to_string(),
            "k:2: algorithm \"TWOFISH-CBC\" is valid in Wireshark but not supported by dmvpn; line skipped"
        );
        // A malformed line still fails the file.
        let err = load(&mut keys, FileKind::EspSa, "\"IPv4\",\"*\"\n", None).unwrap_err();
        assert!(
            err.to_string()
                .starts_with("keys: line 1, column 1: expected 8 fields")
        );
        assert_eq!(keys.len(), 2);
    }

    #[test]
    fn load_errors_leave_the_table_unchanged() {
        let mut keys = EspKeys::new();
        let err = keys
            .load_str("\"IPv4\"\n", Some(Path::new("k")))
            .unwrap_err();
        assert_eq!(
            err.to_string(),
            "keys: k: line 1, column 1: expected 8 fields (10 with the sequence-number fields), found 1"
        );
        assert!(keys.is_empty());
        let err = keys.load_file("/nonexistent/esp_sa").unwrap_err();
        assert!(
            err.to_string()
                .starts_with("keys: cannot read /nonexistent/esp_sa: "),
            "{err}"
        );
        assert!(err.location().is_none());
    }

    #[test]
    fn secrets_blocks() {
        use crate::capture::{Secrets, SecretsType};
        let mut secrets = Secrets {
            secrets_type: SecretsType::ESP_SA,
            data: br#""IPv4","*","*","0x1","NULL","","NULL","""#.to_vec(),
            before_frame: 1,
            offset: 0,
        };
        let mut keys = EspKeys::new();
        assert_eq!(keys.load_secrets(&secrets).unwrap(), 1);
        secrets.secrets_type = SecretsType::TLS_KEY_LOG;
        assert_eq!(keys.load_secrets(&secrets).unwrap(), 0);
        assert_eq!(keys.len(), 1);
    }

    #[test]
    fn arbitrary_key_files_never_panic() {
        bolero::check!().for_each(fuzzing::parse_esp_sa);
    }

    #[test]
    fn arbitrary_key_files_of_any_kind_never_panic() {
        for seed in [
            &b"\x00\"IPv4\",\"*\",\"*\",\"*\",\"NULL\",\"\",\"ANY 64 bit authentication [no checking]\",\"\""[..],
            b"\x02aes256-cbc-hmac96:0xaaaabbbbccccdddd4043434545464649494a4a4c4c4f4f515152525454575758",
            b"\x01# c\r\n0x5@10.0.0.1 none-hmac96:\r\naes128:0123456789abcdef\r\nikev2 I x",
            b"\x01fafaeb49382a763c,735be0cb62f82675c4f7bf8fbab9b56834ba76d6ab4fa240",
            b"\x00! ios\ncrypto isakmp key s3cret address 0.0.0.0 0.0.0.0",
        ] {
            fuzzing::load_key_file(seed);
        }
        bolero::check!().for_each(fuzzing::load_key_file);
    }
}
