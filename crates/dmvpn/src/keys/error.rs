//! What can be wrong with a key file: [`KeysError`], with the [`Location`] and
//! [`ParseErrorKind`] of a bad line.

use core::fmt;
use std::path::PathBuf;

use super::esp_sa::{ENCRYPTION_LABELS, INTEGRITY_LABELS};

/// Where a key-file error is: 1-based line and column (in characters), and the file if known.
#[derive(Clone, Debug, Default, Eq, Hash, PartialEq)]
pub struct Location {
    /// The file, if the text came from one.
    pub path: Option<PathBuf>,
    /// 1-based line.
    pub line: usize,
    /// 1-based column, counted in characters.
    pub column: usize,
}

impl fmt::Display for Location {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if let Some(path) = &self.path {
            write!(f, "{}: ", path.display())?;
        }
        write!(f, "line {}, column {}", self.line, self.column)
    }
}

/// What is wrong with a key-file line.
#[derive(Clone, Debug, Eq, Hash, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum ParseErrorKind {
    /// Not 8 (or 10) fields.
    #[error("expected 8 fields (10 with the sequence-number fields), found {found}")]
    FieldCount {
        /// Fields on the line.
        found: usize,
    },
    /// A quoted field without its closing quote.
    #[error("unterminated quoted field")]
    UnterminatedQuote,
    /// Something other than a comma after a field.
    #[error("expected `,` after the field, found `{found}`")]
    ExpectedComma {
        /// The character found.
        found: char,
    },
    /// A backslash escape that is not `\\`, `\"` or `\xHH`.
    #[error("invalid escape `{found}` (expected \\\\, \\\" or \\xHH)")]
    BadEscape {
        /// The escape as written.
        found: String,
    },
    /// An unknown protocol field.
    #[error("unknown protocol \"{found}\"; expected one of \"IPv4\", \"IPv6\", \"Any\"")]
    UnknownProtocol {
        /// The field.
        found: String,
    },
    /// An address field that is not an address pattern.
    #[error(
        "invalid address \"{found}\": expected an IPv4 or IPv6 address, `*`, IPv4 octets with `*`, or address/prefix-length"
    )]
    BadAddress {
        /// The field.
        found: String,
    },
    /// An address of the other IP version than the protocol field says.
    #[error("address \"{found}\" is not {family}, as the protocol field says")]
    WrongFamily {
        /// The field.
        found: String,
        /// The protocol field.
        family: &'static str,
    },
    /// An SPI field that is not an SPI pattern.
    #[error(
        "invalid SPI \"{found}\": expected 0x and 1 to 8 hex digits (`*` for any digit), a decimal number, or `*`"
    )]
    BadSpi {
        /// The field.
        found: String,
    },
    /// An encryption label Wireshark does not have.
    #[error("unknown encryption algorithm \"{found}\"; expected one of {}", quoted_list(&ENCRYPTION_LABELS))]
    UnknownEncryption {
        /// The field.
        found: String,
    },
    /// An integrity label Wireshark does not have.
    #[error("unknown authentication algorithm \"{found}\"; expected one of {}", quoted_list(&INTEGRITY_LABELS))]
    UnknownIntegrity {
        /// The field.
        found: String,
    },
    /// A Wireshark algorithm this decoder does not implement.
    #[error("algorithm \"{found}\" is valid in Wireshark but not supported by dmvpn")]
    UnsupportedAlgorithm {
        /// The field.
        found: String,
    },
    /// `AES-GCM [RFC4106]` needs an `ANY n bit` integrity label for its ICV length.
    #[error(
        "\"AES-GCM [RFC4106]\" takes its ICV length from the authentication field, which must be \"ANY 64|96|128 bit authentication [no checking]\", not \"{found}\""
    )]
    GcmWithoutIcvLength {
        /// The integrity field.
        found: String,
    },
    /// An "ANY n bit" integrity label whose length is not the ICV length of the AES-GCM variant.
    #[error("\"{found}\" does not match the ICV length of \"{encryption}\"")]
    AnyIcvMismatch {
        /// The integrity field.
        found: String,
        /// The encryption label.
        encryption: &'static str,
    },
    /// A hex key with an odd number of digits.
    #[error("odd number of hex digits ({digits}) in key")]
    OddHexKey {
        /// Hex digits after `0x`.
        digits: usize,
    },
    /// A character in a hex key that is not a hex digit.
    #[error("invalid hex digit `{found}` in key")]
    BadHexDigit {
        /// The character.
        found: char,
    },
    /// A key of the wrong length for its algorithm.
    #[error("{algorithm} key is {len} bytes; expected {expected}")]
    KeyLength {
        /// The algorithm's label.
        algorithm: &'static str,
        /// The key length found.
        len: usize,
        /// The accepted lengths.
        expected: String,
    },
    /// A key the ESP crate refused for another reason.
    #[error("{reason}")]
    BadKey {
        /// The ESP crate's message.
        reason: String,
    },
    /// A tcpdump `-E` algorithm name that is neither tcpdump's nor one dmvpn knows.
    #[error(
        "unknown algorithm \"{found}\"; expected none, 3des-cbc, aes128-cbc, aes192-cbc or aes256-cbc, optionally with -hmac96"
    )]
    UnknownTcpdumpAlgorithm {
        /// The algorithm as written.
        found: String,
    },
    /// A tcpdump `-E` cipher that tcpdump has and dmvpn does not implement.
    #[error("algorithm \"{found}\" is valid in tcpdump but not supported by dmvpn")]
    UnsupportedTcpdumpAlgorithm {
        /// The algorithm as written.
        found: String,
    },
    /// A tcpdump `-E` line that is not `[SPI@ADDRESS] ALGORITHM:SECRET`.
    #[error("expected [SPI@ADDRESS] ALGORITHM:SECRET: {reason}")]
    TcpdumpSyntax {
        /// What is wrong.
        reason: &'static str,
    },
    /// A tcpdump `-E` SPI that is not a 32-bit number.
    #[error("invalid SPI \"{found}\": expected a 32-bit number (0x hex, 0 octal or decimal)")]
    BadTcpdumpSpi {
        /// The SPI as written.
        found: String,
    },
    /// A tcpdump `-E` destination that is not an IP address.
    #[error("invalid address \"{found}\": expected an IPv4 or IPv6 address")]
    BadTcpdumpAddress {
        /// The address as written.
        found: String,
    },
    /// A sequence-number length other than `32-bit` or `64-bit`.
    #[error("invalid sequence number length \"{found}\"; expected \"32-bit\" or \"64-bit\"")]
    BadSnLength {
        /// The field.
        found: String,
    },
    /// A field of an `ikev2_decryption_table` line that is not what the table needs.
    #[error("field `{field}`: {problem}")]
    Ikev2Field {
        /// The column's name: `SPIi`, `SK_ei`, `encryption`, ….
        field: &'static str,
        /// What is wrong with it.
        problem: String,
    },
    /// ESN high bits that are not a 32-bit number.
    #[error("invalid ESN high bits \"{found}\"; expected a 32-bit number (0x hex or decimal)")]
    BadEsnHigh {
        /// The field.
        found: String,
    },
}

impl ParseErrorKind {
    /// Whether the line names an algorithm dmvpn does not implement (or does not know): such a
    /// line is skipped with a warning and the rest of the file is used, where a malformed line
    /// makes the whole file fail.
    #[must_use]
    pub const fn is_unsupported(&self) -> bool {
        matches!(
            self,
            Self::UnknownEncryption { .. }
                | Self::UnknownIntegrity { .. }
                | Self::UnsupportedAlgorithm { .. }
                | Self::UnknownTcpdumpAlgorithm { .. }
                | Self::UnsupportedTcpdumpAlgorithm { .. }
        )
    }
}

fn quoted_list(labels: &[&str]) -> String {
    let quoted: Vec<String> = labels.iter().map(|label| format!("\"{label}\"")).collect();
    quoted.join(", ")
}

/// A key file that cannot be used.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum KeysError {
    /// The file cannot be read.
    #[error("keys: cannot read {}: {source}", path.display())]
    Read {
        /// The file.
        path: PathBuf,
        /// The operating system's reason.
        source: std::io::Error,
    },
    /// A line is malformed.
    #[error("keys: {location}: {kind}")]
    Parse {
        /// Where.
        location: Location,
        /// What.
        kind: ParseErrorKind,
    },
    /// A line of an `ikev1_decryption_table` is malformed.
    #[error("keys: {}line {}, column {}: {}", path_prefix(path.as_deref()), error.line, error.column, error.kind)]
    Ikev1Table {
        /// The file, if the text came from one.
        path: Option<PathBuf>,
        /// The table parser's error.
        error: super::KeyFileError,
    },
    /// A line of a `crypto isakmp key` file is malformed.
    #[error("keys: {}line {}: {}", path_prefix(path.as_deref()), error.line, error.reason)]
    Psk {
        /// The file, if the text came from one.
        path: Option<PathBuf>,
        /// The PSK parser's error.
        error: crate::session::PskFileError,
    },
}

/// `"PATH: "`, or nothing.
fn path_prefix(path: Option<&std::path::Path>) -> String {
    path.map(|path| format!("{}: ", path.display()))
        .unwrap_or_default()
}

impl KeysError {
    /// The location of a parse error.
    #[must_use]
    pub const fn location(&self) -> Option<&Location> {
        match self {
            Self::Parse { location, .. } => Some(location),
            Self::Read { .. } | Self::Ikev1Table { .. } | Self::Psk { .. } => None,
        }
    }

    /// What is wrong, for a parse error.
    #[must_use]
    pub const fn kind(&self) -> Option<&ParseErrorKind> {
        match self {
            Self::Parse { kind, .. } => Some(kind),
            Self::Read { .. } | Self::Ikev1Table { .. } | Self::Psk { .. } => None,
        }
    }
}
