//! Key files users already have: Wireshark's `esp_sa` (see [`esp_sa`] for the format).
//!
//! [`EspKeys`] is the SA table the decoder looks ESP packets up in. Like Wireshark it takes the
//! first line that matches a packet's source, destination and SPI; each SA's cipher and MAC state
//! is prepared once. Key material never appears in `Debug` output or error messages.
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

pub mod esp_sa;

use core::net::IpAddr;
use std::collections::HashMap;
use std::path::Path;

use dmvpn_esp::Sa;

pub use esp_sa::{
    AddrPattern, AddressFamily, EspSa, KeyDisplay, KeysError, Location, ParseErrorKind,
    SecretBytes, SpiPattern,
};

/// At most this many SAs prepared for wildcard-SPI lines are cached; the cache is emptied when full.
const MAX_CACHED: usize = 1024;

/// The ESP SA table, loaded from `esp_sa` files or built in code.
#[derive(Debug, Default)]
pub struct EspKeys {
    sas: Vec<EspSa>,
    /// SAs prepared for (line index, SPI) of wildcard-SPI lines.
    cache: HashMap<(usize, u32), Sa>,
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
    /// The first malformed line, as [`KeysError::Parse`] with its line and column.
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
    /// On an error nothing is added.
    ///
    /// # Errors
    /// [`KeysError::Read`] or the first malformed line.
    pub fn load_file(&mut self, path: impl AsRef<Path>) -> Result<usize, KeysError> {
        let path = path.as_ref();
        let bytes = std::fs::read(path).map_err(|source| KeysError::Read {
            path: path.to_owned(),
            source,
        })?;
        self.load_str(&String::from_utf8_lossy(&bytes), Some(path))
    }

    /// Adds the SAs of `esp_sa` text; `path` only labels errors. On an error nothing is added.
    ///
    /// # Errors
    /// The first malformed line.
    pub fn load_str(&mut self, text: &str, path: Option<&Path>) -> Result<usize, KeysError> {
        let sas = esp_sa::parse(text, path)?;
        let added = sas.len();
        self.sas.extend(sas);
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
        for result in esp_sa::parse_lenient(text, path) {
            match result {
                Ok(sa) => self.sas.push(sa),
                Err(error) => errors.push(error),
            }
        }
        errors
    }

    /// Adds one SA after the others.
    pub fn push(&mut self, sa: EspSa) {
        self.sas.push(sa);
    }

    /// The SAs in file order.
    #[must_use]
    pub fn entries(&self) -> &[EspSa] {
        &self.sas
    }

    /// How many SAs there are.
    #[must_use]
    pub fn len(&self) -> usize {
        self.sas.len()
    }

    /// Whether there are none.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.sas.is_empty()
    }

    /// The first SA line matching a packet from `src` to `dst` with `spi`.
    #[must_use]
    pub fn find(&self, src: IpAddr, dst: IpAddr, spi: u32) -> Option<&EspSa> {
        self.sas.iter().find(|sa| sa.matches(src, dst, spi))
    }

    /// The prepared SA for a packet from `src` to `dst` with `spi`: the first matching line's,
    /// made for this SPI (and cached) if the line has a wildcard SPI.
    pub fn sa(&mut self, src: IpAddr, dst: IpAddr, spi: u32) -> Option<&Sa> {
        let index = self.sas.iter().position(|sa| sa.matches(src, dst, spi))?;
        let entry = self.sas.get(index)?;
        if entry.sa().is_some() {
            return entry.sa();
        }
        if !self.cache.contains_key(&(index, spi)) {
            if self.cache.len() >= MAX_CACHED {
                self.cache.clear();
            }
            // The keys were checked when the line was read, so this does not fail.
            let prepared = entry.sa_for(spi).ok()?;
            self.cache.insert((index, spi), prepared);
        }
        self.cache.get(&(index, spi))
    }
}

/// Entry points for the fuzz targets (`fuzz/fuzz_targets/dmvpn_keys_*.rs`).
pub mod fuzzing {
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
}
