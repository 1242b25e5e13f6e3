//! Wireshark's `esp_sa` UAT file: one SA per line, fields in double quotes, comma-separated.
//!
//! ```text
//! "IPv4","192.168.0.1","192.168.0.100","0x070883c2","AES-CBC [RFC3602]","0x5de1…","HMAC-SHA-1-96 [RFC2404]","0x51c9…"
//! ```
//!
//! Fields: protocol (`IPv4`, `IPv6`, `Any`), source and destination address (an address, `*`,
//! IPv4 with `*` octets such as `10.1.*.*`, or `address/prefix-length`), SPI (`0x` and up to eight
//! hex digits, any of which may be `*`, or `*` alone, or decimal), encryption label, encryption
//! key, integrity label, integrity key. Keys are `0x` followed by hex, or taken as ASCII without
//! the prefix (as Wireshark does). Wireshark 4.2 and later append two fields, the sequence
//! number length (`32-bit` or `64-bit`, i.e. ESN) and the ESN high bits; both forms are read.
//!
//! Lines starting with `#` are comments; blank lines, CRLF line ends, a UTF-8 byte-order mark,
//! spaces around fields and unquoted fields are accepted. In quoted fields `\\`, `\"` and `\xHH`
//! are escapes, as in Wireshark's UAT files.
//!
//! "ANY 64|96|128|192|256 bit authentication [no checking]" is, as in Wireshark, an ICV of that
//! length that is skipped, not verified: with `AES-GCM [RFC4106]` it gives the GCM ICV length;
//! with NULL, 3DES-CBC or AES-CBC it is [`EspSa::unchecked_icv`], and the decoder reports such
//! packets decrypted with the ICV unchecked. Its key field is not used. A line whose algorithm
//! dmvpn does not implement (or does not know) is [`ParseErrorKind::is_unsupported`]: the
//! library's strict parsers refuse it, [`KeyFiles`](super::KeyFiles) skips it with a warning.

use core::fmt;
use core::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use dmvpn_esp::{Encryption, Integrity, KeyError, Sa};

pub use super::error::{KeysError, Location, ParseErrorKind};
use super::lexer::{Field, LineError, err, split_fields};

/// Every encryption label Wireshark writes, for error messages.
pub const ENCRYPTION_LABELS: [&str; 14] = [
    "NULL",
    "TripleDES-CBC [RFC2451]",
    "AES-CBC [RFC3602]",
    "AES-CTR [RFC3686]",
    "DES-CBC [RFC2405]",
    "CAST5-CBC [RFC2144]",
    "BLOWFISH-CBC [RFC2451]",
    "TWOFISH-CBC",
    "AES-GCM [RFC4106]",
    "AES-GCM with 8 octet ICV [RFC4106]",
    "AES-GCM with 12 octet ICV [RFC4106]",
    "AES-GCM with 16 octet ICV [RFC4106]",
    "ChaCha20 with Poly1305 [RFC7634]",
    "AES-GCM with IIV and 16 octet ICV [RFC4106 & RFC8750]",
];

/// Every integrity label Wireshark writes, for error messages.
pub const INTEGRITY_LABELS: [&str; 13] = [
    "NULL",
    "HMAC-SHA-1-96 [RFC2404]",
    "HMAC-SHA-256-96 [draft-ietf-ipsec-ciph-sha-256-00]",
    "HMAC-SHA-256-128 [RFC4868]",
    "HMAC-SHA-384-192 [RFC4868]",
    "HMAC-SHA-512-256 [RFC4868]",
    "HMAC-MD5-96 [RFC2403]",
    "MAC-RIPEMD-160-96 [RFC2857]",
    "ANY 64 bit authentication [no checking]",
    "ANY 96 bit authentication [no checking]",
    "ANY 128 bit authentication [no checking]",
    "ANY 192 bit authentication [no checking]",
    "ANY 256 bit authentication [no checking]",
];

/// The Wireshark label of an encryption transform.
#[must_use]
pub const fn encryption_label(encryption: Encryption) -> &'static str {
    match encryption {
        Encryption::Null => "NULL",
        Encryption::TripleDesCbc => "TripleDES-CBC [RFC2451]",
        Encryption::AesCbc => "AES-CBC [RFC3602]",
        Encryption::AesGcm8 => "AES-GCM with 8 octet ICV [RFC4106]",
        Encryption::AesGcm12 => "AES-GCM with 12 octet ICV [RFC4106]",
        Encryption::AesGcm16 => "AES-GCM with 16 octet ICV [RFC4106]",
    }
}

/// The Wireshark label of an integrity transform.
#[must_use]
pub const fn integrity_label(integrity: Integrity) -> &'static str {
    match integrity {
        Integrity::None => "NULL",
        Integrity::HmacMd5_96 => "HMAC-MD5-96 [RFC2403]",
        Integrity::HmacSha1_96 => "HMAC-SHA-1-96 [RFC2404]",
        Integrity::HmacSha256_128 => "HMAC-SHA-256-128 [RFC4868]",
        Integrity::HmacSha384_192 => "HMAC-SHA-384-192 [RFC4868]",
        Integrity::HmacSha512_256 => "HMAC-SHA-512-256 [RFC4868]",
    }
}

/// What an encryption label means here.
enum EncryptionLabel {
    Known(Encryption),
    /// `AES-GCM [RFC4106]`: the ICV length comes from an `ANY n bit` integrity label.
    GcmAnyIcv,
    Unsupported,
}

/// What an integrity label means here.
enum IntegrityLabel {
    Known(Integrity),
    /// "ANY n bit authentication [no checking]": an ICV of this many bytes, not checked.
    Any(usize),
    Unsupported,
}

fn encryption_from_label(label: &str) -> Option<EncryptionLabel> {
    Some(match label {
        "NULL" => EncryptionLabel::Known(Encryption::Null),
        "TripleDES-CBC [RFC2451]" => EncryptionLabel::Known(Encryption::TripleDesCbc),
        "AES-CBC [RFC3602]" => EncryptionLabel::Known(Encryption::AesCbc),
        "AES-GCM with 8 octet ICV [RFC4106]" => EncryptionLabel::Known(Encryption::AesGcm8),
        "AES-GCM with 12 octet ICV [RFC4106]" => EncryptionLabel::Known(Encryption::AesGcm12),
        "AES-GCM with 16 octet ICV [RFC4106]" => EncryptionLabel::Known(Encryption::AesGcm16),
        "AES-GCM [RFC4106]" => EncryptionLabel::GcmAnyIcv,
        _ if ENCRYPTION_LABELS.contains(&label) => EncryptionLabel::Unsupported,
        // Wireshark spells ChaCha20 with IIV like this.
        "ChaCha20 with Poly1305 and IIV [RFC7634 & RFC8750]" => EncryptionLabel::Unsupported,
        _ => return None,
    })
}

fn integrity_from_label(label: &str) -> Option<IntegrityLabel> {
    Some(match label {
        "NULL" => IntegrityLabel::Known(Integrity::None),
        "HMAC-SHA-1-96 [RFC2404]" => IntegrityLabel::Known(Integrity::HmacSha1_96),
        "HMAC-SHA-256-128 [RFC4868]" => IntegrityLabel::Known(Integrity::HmacSha256_128),
        "HMAC-SHA-384-192 [RFC4868]" => IntegrityLabel::Known(Integrity::HmacSha384_192),
        "HMAC-SHA-512-256 [RFC4868]" => IntegrityLabel::Known(Integrity::HmacSha512_256),
        "HMAC-MD5-96 [RFC2403]" => IntegrityLabel::Known(Integrity::HmacMd5_96),
        "ANY 64 bit authentication [no checking]" => IntegrityLabel::Any(8),
        "ANY 96 bit authentication [no checking]" => IntegrityLabel::Any(12),
        "ANY 128 bit authentication [no checking]" => IntegrityLabel::Any(16),
        "ANY 192 bit authentication [no checking]" => IntegrityLabel::Any(24),
        "ANY 256 bit authentication [no checking]" => IntegrityLabel::Any(32),
        _ if INTEGRITY_LABELS.contains(&label) => IntegrityLabel::Unsupported,
        _ => return None,
    })
}

/// Which IP versions an SA applies to (the first field).
#[derive(Clone, Copy, Debug, Eq, Hash, PartialEq)]
pub enum AddressFamily {
    /// `"IPv4"`.
    Ipv4,
    /// `"IPv6"`.
    Ipv6,
    /// `"Any"` (Wireshark 4.2 and later).
    Any,
}

impl AddressFamily {
    /// The label in the file.
    #[must_use]
    pub const fn label(self) -> &'static str {
        match self {
            Self::Ipv4 => "IPv4",
            Self::Ipv6 => "IPv6",
            Self::Any => "Any",
        }
    }

    const fn admits(self, addr: IpAddr) -> bool {
        matches!(
            (self, addr),
            (Self::Any, _) | (Self::Ipv4, IpAddr::V4(_)) | (Self::Ipv6, IpAddr::V6(_))
        )
    }
}

/// An address field: which addresses an SA applies to.
#[derive(Clone, Copy, Debug, Eq, Hash, PartialEq)]
pub enum AddrPattern {
    /// `*`: any address.
    Any,
    /// An IPv4 address under a mask (`10.0.0.1`, `10.1.*.*` or `10.0.0.0/8`).
    V4 {
        /// The address bits that must match.
        addr: Ipv4Addr,
        /// The bits that matter.
        mask: Ipv4Addr,
    },
    /// An IPv6 address and prefix length (`2001:db8::1` is `/128`).
    V6 {
        /// The address.
        addr: Ipv6Addr,
        /// How many leading bits must match.
        prefix_len: u8,
    },
}

impl AddrPattern {
    /// Whether `addr` matches.
    #[must_use]
    pub fn matches(&self, addr: IpAddr) -> bool {
        match (*self, addr) {
            (Self::Any, _) => true,
            (Self::V4 { addr: want, mask }, IpAddr::V4(got)) => {
                u32::from(got) & u32::from(mask) == u32::from(want) & u32::from(mask)
            }
            (
                Self::V6 {
                    addr: want,
                    prefix_len,
                },
                IpAddr::V6(got),
            ) => {
                let mask = u128::MAX
                    .checked_shl(128 - u32::from(prefix_len))
                    .unwrap_or(0);
                u128::from(got) & mask == u128::from(want) & mask
            }
            _ => false,
        }
    }

    fn family(&self) -> Option<AddressFamily> {
        match self {
            Self::Any => None,
            Self::V4 { .. } => Some(AddressFamily::Ipv4),
            Self::V6 { .. } => Some(AddressFamily::Ipv6),
        }
    }
}

impl fmt::Display for AddrPattern {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match *self {
            Self::Any => f.write_str("*"),
            Self::V4 { addr, mask } => {
                let mask = u32::from(mask);
                if mask == u32::MAX {
                    write!(f, "{addr}")
                } else if mask.leading_ones() + mask.trailing_zeros() == 32 {
                    write!(f, "{addr}/{}", mask.leading_ones())
                } else {
                    let octets = addr.octets();
                    for (i, (octet, m)) in octets.iter().zip(mask.to_be_bytes()).enumerate() {
                        let sep = if i > 0 { "." } else { "" };
                        if m == 0 {
                            write!(f, "{sep}*")?
                        } else {
                            write!(f, "{sep}{octet}")?
                        }
                    }
                    Ok(())
                }
            }
            Self::V6 {
                addr,
                prefix_len: 128,
            } => write!(f, "{addr}"),
            Self::V6 { addr, prefix_len } => write!(f, "{addr}/{prefix_len}"),
        }
    }
}

/// The SPI field: an exact SPI, or hex digits with `*` wildcards.
#[derive(Clone, Copy, Debug, Eq, Hash, PartialEq)]
pub struct SpiPattern {
    /// The SPI bits that must match.
    pub value: u32,
    /// The bits that matter (0 for `*`, `u32::MAX` for an exact SPI).
    pub mask: u32,
}

impl SpiPattern {
    /// The pattern of exactly `spi`.
    ///
    /// ```
    /// let pattern = dmvpn::keys::SpiPattern::one(0x1234);
    /// assert_eq!((pattern.exact(), pattern.to_string()), (Some(0x1234), "0x00001234".into()));
    /// ```
    #[must_use]
    pub const fn one(spi: u32) -> Self {
        Self {
            value: spi,
            mask: u32::MAX,
        }
    }

    /// Whether `spi` matches.
    #[must_use]
    pub const fn matches(&self, spi: u32) -> bool {
        spi & self.mask == self.value & self.mask
    }

    /// The SPI, if the pattern names exactly one.
    #[must_use]
    pub const fn exact(&self) -> Option<u32> {
        if self.mask == u32::MAX {
            Some(self.value)
        } else {
            None
        }
    }
}

impl fmt::Display for SpiPattern {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.mask == 0 {
            return f.write_str("*");
        }
        f.write_str("0x")?;
        for nibble in (0..8).rev() {
            let shift = nibble * 4;
            if (self.mask >> shift) & 0xf == 0 {
                f.write_str("*")?;
            } else {
                write!(f, "{:x}", (self.value >> shift) & 0xf)?;
            }
        }
        Ok(())
    }
}

/// Key bytes that are zeroed when dropped and never printed unless asked: `Debug` shows only
/// the length; `as_bytes` is the explicit opt-in. The one key-material type of the workspace,
/// `dmvpn_isakmp::keys::Secret`, under the name this module has always given it.
pub use dmvpn_isakmp::keys::Secret as SecretBytes;

/// Whether [`EspSa::to_line`] writes the keys or placeholders.
#[derive(Clone, Copy, Debug, Eq, Hash, PartialEq)]
pub enum KeyDisplay {
    /// `"0x<redacted>"` in place of each key.
    Redacted,
    /// The keys in hex: for writing a key file, never for logs.
    Shown,
}

/// One SA line of a key file: what it matches and its keys, checked but not prepared (the
/// cipher state is built by [`EspSa::sa_for`] when a packet needs it).
#[derive(Clone)]
pub struct EspSa {
    /// The protocol field.
    pub family: AddressFamily,
    /// Source addresses.
    pub src: AddrPattern,
    /// Destination addresses.
    pub dst: AddrPattern,
    /// SPIs.
    pub spi: SpiPattern,
    /// The encryption transform.
    pub encryption: Encryption,
    /// The integrity transform ([`Integrity::None`] for AES-GCM).
    pub integrity: Integrity,
    /// Extended sequence numbers (the 10-field form's `64-bit`).
    pub esn: bool,
    /// The ESN high bits to start from (10-field form; 0 otherwise).
    pub esn_high: u32,
    /// The 1-based line the SA came from (0 if built in code).
    pub line: usize,
    /// Bytes of ICV skipped, not verified, with [`Integrity::None`]: Wireshark's "ANY n bit
    /// authentication [no checking]" with a cipher other than AES-GCM, tcpdump's `-hmac96`.
    pub unchecked_icv: u8,
    encryption_key: SecretBytes,
    integrity_key: SecretBytes,
}

impl EspSa {
    /// An SA from its parts (as a key exchange would produce it).
    ///
    /// # Errors
    /// [`KeyError`] if a key does not fit its transform.
    #[allow(clippy::too_many_arguments)] // the eight fields of an `esp_sa` line
    pub fn new(
        family: AddressFamily,
        src: AddrPattern,
        dst: AddrPattern,
        spi: SpiPattern,
        encryption: Encryption,
        encryption_key: SecretBytes,
        integrity: Integrity,
        integrity_key: SecretBytes,
    ) -> Result<Self, KeyError> {
        Sa::check_keys(
            encryption,
            encryption_key.as_bytes(),
            integrity,
            integrity_key.as_bytes(),
        )?;
        Ok(Self {
            family,
            src,
            dst,
            spi,
            encryption,
            integrity,
            esn: false,
            esn_high: 0,
            line: 0,
            unchecked_icv: 0,
            encryption_key,
            integrity_key,
        })
    }

    /// Whether the SA applies to a packet from `src` to `dst` with `spi`.
    #[must_use]
    pub fn matches(&self, src: IpAddr, dst: IpAddr, spi: u32) -> bool {
        self.family.admits(src)
            && self.family.admits(dst)
            && self.spi.matches(spi)
            && self.src.matches(src)
            && self.dst.matches(dst)
    }

    /// The SA prepared for `spi` (which the pattern should match): key schedules and HMAC pads
    /// computed now, with ESN and the unchecked ICV set as the line says.
    ///
    /// # Errors
    /// Never for an SA that came from [`EspSa::new`] or a file, whose keys were checked, unless
    /// `unchecked_icv` was set on an SA with an ICV of its own.
    pub fn sa_for(&self, spi: u32) -> Result<Sa, KeyError> {
        Sa::new(
            spi,
            self.encryption,
            self.encryption_key.as_bytes(),
            self.integrity,
            self.integrity_key.as_bytes(),
        )?
        .with_esn(self.esn)
        .with_unchecked_icv(usize::from(self.unchecked_icv))
    }

    /// Whether the two SAs decrypt alike: same transforms, keys, ESN and unchecked ICV.
    #[must_use]
    pub fn same_keys(&self, other: &Self) -> bool {
        self.encryption == other.encryption
            && self.integrity == other.integrity
            && self.unchecked_icv == other.unchecked_icv
            && self.esn == other.esn
            && self.esn_high == other.esn_high
            && self.encryption_key == other.encryption_key
            && self.integrity_key == other.integrity_key
    }

    /// The integrity label as Wireshark writes it, `ANY n bit …` for an unchecked ICV.
    #[must_use]
    pub fn integrity_label(&self) -> &'static str {
        match self.unchecked_icv {
            0 => integrity_label(self.integrity),
            8 => "ANY 64 bit authentication [no checking]",
            12 => "ANY 96 bit authentication [no checking]",
            16 => "ANY 128 bit authentication [no checking]",
            24 => "ANY 192 bit authentication [no checking]",
            _ => "ANY 256 bit authentication [no checking]",
        }
    }

    /// The encryption key.
    #[must_use]
    pub const fn encryption_key(&self) -> &SecretBytes {
        &self.encryption_key
    }

    /// The integrity key.
    #[must_use]
    pub const fn integrity_key(&self) -> &SecretBytes {
        &self.integrity_key
    }

    /// The SA as an 8-field `esp_sa` line (10 fields if ESN is on), keys shown or not.
    #[must_use]
    pub fn to_line(&self, keys: KeyDisplay) -> String {
        let key = |k: &SecretBytes| match keys {
            KeyDisplay::Redacted => "0x<redacted>".to_owned(),
            KeyDisplay::Shown => format!("0x{}", dmvpn_wire::fmt::Hex(k.as_bytes())),
        };
        let mut line = format!(
            r#""{}","{}","{}","{}","{}","{}","{}","{}""#,
            self.family.label(),
            self.src,
            self.dst,
            self.spi,
            encryption_label(self.encryption),
            key(&self.encryption_key),
            self.integrity_label(),
            key(&self.integrity_key),
        );
        if self.esn {
            line.push_str(&format!(r#","64-bit","{:#x}""#, self.esn_high));
        }
        line
    }
}

impl fmt::Debug for EspSa {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("EspSa")
            .field("family", &self.family)
            .field("src", &format_args!("{}", self.src))
            .field("dst", &format_args!("{}", self.dst))
            .field("spi", &format_args!("{}", self.spi))
            .field("encryption", &self.encryption)
            .field("encryption_key", &self.encryption_key)
            .field("integrity", &self.integrity)
            .field("integrity_key", &self.integrity_key)
            .field("unchecked_icv", &self.unchecked_icv)
            .field("esn", &self.esn)
            .field("line", &self.line)
            .finish()
    }
}

fn parse_family(field: &Field) -> Result<AddressFamily, LineError> {
    match field.text.as_str() {
        "IPv4" => Ok(AddressFamily::Ipv4),
        "IPv6" => Ok(AddressFamily::Ipv6),
        "Any" => Ok(AddressFamily::Any),
        _ => Err(field.error(|found| ParseErrorKind::UnknownProtocol { found })),
    }
}

fn parse_address(field: &Field, family: AddressFamily) -> Result<AddrPattern, LineError> {
    let text = field.text.as_str();
    let bad = || field.error(|found| ParseErrorKind::BadAddress { found });
    let pattern = if text == "*" {
        AddrPattern::Any
    } else if let Some((addr, len)) = text.split_once('/') {
        let len: u8 = len.parse().map_err(|_| bad())?;
        match addr.parse::<IpAddr>().map_err(|_| bad())? {
            IpAddr::V4(addr) if len <= 32 => AddrPattern::V4 {
                addr,
                mask: Ipv4Addr::from(u32::MAX.checked_shl(32 - u32::from(len)).unwrap_or(0)),
            },
            IpAddr::V6(addr) if len <= 128 => AddrPattern::V6 {
                addr,
                prefix_len: len,
            },
            _ => return Err(bad()),
        }
    } else if text.contains('*') {
        let mut octets = [0u8; 4];
        let mut mask = [0u8; 4];
        let parts: Vec<&str> = text.split('.').collect();
        if parts.len() != 4 {
            return Err(bad());
        }
        for (i, part) in parts.iter().enumerate() {
            if *part != "*" {
                octets[i] = part.parse().map_err(|_| bad())?;
                mask[i] = 0xff;
            }
        }
        AddrPattern::V4 {
            addr: Ipv4Addr::from(octets),
            mask: Ipv4Addr::from(mask),
        }
    } else {
        match text.parse::<IpAddr>().map_err(|_| bad())? {
            IpAddr::V4(addr) => AddrPattern::V4 {
                addr,
                mask: Ipv4Addr::BROADCAST,
            },
            IpAddr::V6(addr) => AddrPattern::V6 {
                addr,
                prefix_len: 128,
            },
        }
    };
    match (family, pattern.family()) {
        (AddressFamily::Ipv4, Some(AddressFamily::Ipv6))
        | (AddressFamily::Ipv6, Some(AddressFamily::Ipv4)) => {
            Err(field.error(|found| ParseErrorKind::WrongFamily {
                found,
                family: family.label(),
            }))
        }
        _ => Ok(pattern),
    }
}

fn parse_spi(field: &Field) -> Result<SpiPattern, LineError> {
    let text = field.text.as_str();
    let bad = || field.error(|found| ParseErrorKind::BadSpi { found });
    if text == "*" {
        return Ok(SpiPattern { value: 0, mask: 0 });
    }
    if let Some(hex) = text.strip_prefix("0x").or_else(|| text.strip_prefix("0X")) {
        if hex.is_empty() || hex.len() > 8 {
            return Err(bad());
        }
        let (mut value, mut mask) = (0u32, 0u32);
        for c in hex.chars() {
            let (digit, digit_mask) = match c {
                '*' => (0, 0),
                c => (c.to_digit(16).ok_or_else(bad)?, 0xf),
            };
            value = (value << 4) | digit;
            mask = (mask << 4) | digit_mask;
        }
        // Fewer than 8 digits are the low digits, as strtoul reads them.
        let width = hex.len() as u32 * 4;
        let high = u32::MAX.checked_shl(width).unwrap_or(0);
        return Ok(SpiPattern {
            value,
            mask: mask | high,
        });
    }
    let value = text.parse::<u32>().map_err(|_| bad())?;
    Ok(SpiPattern::one(value))
}

/// A key written `0x` and hex digits, or as ASCII text: the bytes, or the 0-based offset (in
/// characters, from the start of `text`) and kind of the first error.
pub(crate) fn decode_key(text: &str) -> Result<SecretBytes, (usize, ParseErrorKind)> {
    let mut field = Field {
        text: text.to_owned(),
        column: 1,
        quoted: false,
    };
    let key = parse_key(&field).map_err(|LineError { column, kind }| (column - 1, kind));
    zeroize::Zeroize::zeroize(&mut field.text);
    key
}

fn parse_key(field: &Field) -> Result<SecretBytes, LineError> {
    let text = field.text.as_str();
    let Some(hex) = text.strip_prefix("0x").or_else(|| text.strip_prefix("0X")) else {
        return Ok(SecretBytes::new(text.as_bytes().to_vec()));
    };
    // The column of the first hex digit: after the quote (if any) and `0x`.
    let digits_column = field.column + 2 + usize::from(field.quoted);
    let mut bytes = Vec::with_capacity(hex.len() / 2);
    let mut high = None;
    for (i, c) in hex.chars().enumerate() {
        let Some(nibble) = c.to_digit(16) else {
            return Err(err(
                digits_column + i,
                ParseErrorKind::BadHexDigit { found: c },
            ));
        };
        match high.take() {
            None => high = Some(nibble as u8),
            Some(h) => bytes.push((h << 4) | nibble as u8),
        }
    }
    if high.is_some() {
        bytes.fill(0);
        return Err(err(
            field.column,
            ParseErrorKind::OddHexKey {
                digits: hex.chars().count(),
            },
        ));
    }
    Ok(SecretBytes::new(bytes))
}

/// Parses one non-comment line.
fn parse_line(line: &str) -> Result<EspSa, LineError> {
    let fields = split_fields(line)?;
    if fields.len() != 8 && fields.len() != 10 {
        return Err(err(
            1,
            ParseErrorKind::FieldCount {
                found: fields.len(),
            },
        ));
    }
    let family = parse_family(&fields[0])?;
    let src = parse_address(&fields[1], family)?;
    let dst = parse_address(&fields[2], family)?;
    let spi = parse_spi(&fields[3])?;
    let (enc_field, enc_key_field, int_field, int_key_field) =
        (&fields[4], &fields[5], &fields[6], &fields[7]);
    let Some(encryption_label) = encryption_from_label(&enc_field.text) else {
        return Err(enc_field.error(|found| ParseErrorKind::UnknownEncryption { found }));
    };
    let Some(integrity_label) = integrity_from_label(&int_field.text) else {
        return Err(int_field.error(|found| ParseErrorKind::UnknownIntegrity { found }));
    };
    let unsupported =
        |field: &Field| field.error(|found| ParseErrorKind::UnsupportedAlgorithm { found });
    let mut unchecked_icv = 0;
    // "ANY n bit" needs no key: whatever the field holds is not used (as in Wireshark).
    let any_icv = matches!(integrity_label, IntegrityLabel::Any(_));
    let (encryption, integrity) = match (encryption_label, integrity_label) {
        (EncryptionLabel::Unsupported, _) => return Err(unsupported(enc_field)),
        (_, IntegrityLabel::Unsupported) => return Err(unsupported(int_field)),
        (EncryptionLabel::GcmAnyIcv, IntegrityLabel::Any(icv)) => match icv {
            8 => (Encryption::AesGcm8, Integrity::None),
            12 => (Encryption::AesGcm12, Integrity::None),
            16 => (Encryption::AesGcm16, Integrity::None),
            _ => return Err(unsupported(int_field)),
        },
        (EncryptionLabel::GcmAnyIcv, IntegrityLabel::Known(_)) => {
            return Err(int_field.error(|found| ParseErrorKind::GcmWithoutIcvLength { found }));
        }
        (EncryptionLabel::Known(encryption), IntegrityLabel::Any(icv)) => {
            if !encryption.is_aead() {
                // An ICV of that length, skipped: the integrity key is not needed.
                unchecked_icv = icv;
            } else if encryption.icv_len() != icv {
                return Err(int_field.error(|found| ParseErrorKind::AnyIcvMismatch {
                    found,
                    encryption: encryption.wireshark_name(),
                }));
            }
            (encryption, Integrity::None)
        }
        (EncryptionLabel::Known(encryption), IntegrityLabel::Known(integrity)) => {
            (encryption, integrity)
        }
    };
    let encryption_key = parse_key(enc_key_field)?;
    let integrity_key = if any_icv {
        SecretBytes::default()
    } else {
        parse_key(int_key_field)?
    };
    let (mut esn, mut esn_high) = (false, 0);
    if let [.., sn_field, high_field] = &fields[..]
        && fields.len() == 10
    {
        esn = match sn_field.text.as_str() {
            "32-bit" | "" => false,
            "64-bit" => true,
            _ => return Err(sn_field.error(|found| ParseErrorKind::BadSnLength { found })),
        };
        let text = high_field.text.as_str();
        let parsed = match text.strip_prefix("0x").or_else(|| text.strip_prefix("0X")) {
            _ if text.is_empty() => Ok(0),
            Some(hex) => u32::from_str_radix(hex, 16),
            None => text.parse(),
        };
        esn_high =
            parsed.map_err(|_| high_field.error(|found| ParseErrorKind::BadEsnHigh { found }))?;
    }
    let mut sa = EspSa::new(
        family,
        src,
        dst,
        spi,
        encryption,
        encryption_key,
        integrity,
        integrity_key,
    )
    .map_err(|key_error| key_line_error(key_error, enc_key_field, int_key_field))?;
    sa.esn = esn;
    sa.esn_high = esn_high;
    // At most 32 bytes (`ANY 256 bit`).
    sa.unchecked_icv = u8::try_from(unchecked_icv).unwrap_or(u8::MAX);
    Ok(sa)
}

fn key_line_error(error: KeyError, encryption_key: &Field, integrity_key: &Field) -> LineError {
    match error {
        KeyError::EncryptionKeyLength {
            encryption,
            len,
            expected,
        } => err(
            encryption_key.column,
            ParseErrorKind::KeyLength {
                algorithm: encryption_label(encryption),
                len,
                expected: format!("{expected} bytes"),
            },
        ),
        KeyError::IntegrityKeyLength {
            integrity,
            len,
            expected,
        } => err(
            integrity_key.column,
            ParseErrorKind::KeyLength {
                algorithm: integrity_label(integrity),
                len,
                expected: format!("{expected} bytes"),
            },
        ),
        other => err(
            integrity_key.column,
            ParseErrorKind::BadKey {
                reason: other.to_string(),
            },
        ),
    }
}

/// Parses a whole file's text; `path` only labels errors. Stops at the first bad line.
pub(crate) fn parse(text: &str, path: Option<&std::path::Path>) -> Result<Vec<EspSa>, KeysError> {
    let mut out = Vec::with_capacity(line_count(text));
    for result in parse_lenient(text, path) {
        out.push(result?);
    }
    Ok(out)
}

/// How many lines `text` has at most: room for its SAs without a doubling's slack.
pub(crate) fn line_count(text: &str) -> usize {
    text.bytes().filter(|&byte| byte == b'\n').count() + 1
}

/// Parses every line, returning each SA or the error of its line.
pub(crate) fn parse_lenient<'t>(
    text: &'t str,
    path: Option<&'t std::path::Path>,
) -> impl Iterator<Item = Result<EspSa, KeysError>> + 't {
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    text.lines()
        .enumerate()
        .filter_map(move |(index, line)| parse_numbered(line, index + 1, path))
}

/// Parses line `number` (1-based, without its line end): `None` for a blank line or a comment.
pub(crate) fn parse_numbered(
    line: &str,
    number: usize,
    path: Option<&std::path::Path>,
) -> Option<Result<EspSa, KeysError>> {
    let trimmed = line.trim_start();
    if trimmed.is_empty() || trimmed.starts_with('#') {
        return None;
    }
    let leading = line.chars().count() - trimmed.chars().count();
    Some(
        parse_line(trimmed)
            .map(|mut sa| {
                sa.line = number;
                sa
            })
            .map_err(|LineError { column, kind }| KeysError::Parse {
                location: Location {
                    path: path.map(std::path::Path::to_path_buf),
                    line: number,
                    column: column + leading,
                },
                kind,
            }),
    )
}

#[cfg(test)]
mod tests;
