//! tcpdump's `-E` secrets: one SA per line, as `tcpdump -E file:F` reads them (man tcpdump,
//! and tcpdump's own test files such as `tests/esp-secrets.txt`).
//!
//! ```text
//! # comment
//! 0x12345678@192.1.2.45 3des-cbc-hmac96:0x4043434545464649494a4a4c4c4f4f515152525454575758
//! 0xd1234567@192.1.2.45 aes256-cbc:0xaaaabbbbccccdddd4043434545464649494a4a4c4c4f4f515152525454575758
//! aes128-cbc:sixteen byte key
//! ikev2 I 0x0001020304050607 0xc02e7a3031a03188 sha1:0x4ea8… aes128:0x3f44…
//! ```
//!
//! `SPI@ADDRESS` names the SA by SPI (`0x` hex, `0` octal or decimal, as `strtoul` reads it) and
//! destination address; without it the line is the default SA, used for any ESP packet no other
//! line matches. The algorithm is tcpdump's cipher name with `-cbc` and `-hmac96` suffixes:
//! `3des`, `aes128`, `aes192`, `aes256` (CBC) and `none` are decrypted; `des`, `blowfish`,
//! `cast128`, `rc3` are tcpdump's but not implemented here (the line is skipped with a warning).
//! `-hmac96` says the packets end with a 12-byte ICV: tcpdump skips it without checking it (it
//! has no authentication key), and so does dmvpn ([`EspSa::unchecked_icv`]). The secret is `0x`
//! and hex, or ASCII text.
//!
//! tcpdump matches on SPI and destination only (so the source here is `*`) and, for two lines
//! with the same SPI and destination, uses the last one; one default SA, the last. `ikev2`
//! lines hold IKEv2 keys: they are recognised and skipped (IKEv2 is not decrypted).

use core::net::IpAddr;

use dmvpn_esp::{Encryption, Integrity};

use super::esp_sa::{
    AddrPattern, AddressFamily, EspSa, ParseErrorKind, SecretBytes, SpiPattern, decode_key,
};

/// What one line of a tcpdump secrets file holds.
pub(crate) enum Line {
    /// An SA for one SPI and destination.
    Sa(EspSa),
    /// The default SA (no `SPI@ADDRESS`).
    Default(EspSa),
    /// IKEv2 keys (`ikev2 I|R …`), not used.
    Ikev2,
}

/// A parse error: the 1-based column and what is wrong.
pub(crate) type LineError = (usize, ParseErrorKind);

/// Whether a line (trimmed, not a comment) has the shape of a tcpdump secrets line.
pub(crate) fn looks_like(line: &str) -> bool {
    let mut words = line.split_ascii_whitespace();
    let (Some(first), second) = (words.next(), words.next()) else {
        return false;
    };
    if first.eq_ignore_ascii_case("ikev2") {
        return true;
    }
    if line.contains(['"', ',']) {
        return false;
    }
    match second {
        None => first.contains(':') && !first.contains('@'),
        Some(second) => {
            words.next().is_none()
                && first.contains('@')
                && !second.contains('@')
                && second.contains(':')
        }
    }
}

/// The cipher of a tcpdump algorithm name (after `-hmac96` and `-cbc` are taken off),
/// lowercased; `Err(true)` for a cipher tcpdump has that dmvpn does not, `Err(false)` for a name
/// neither knows.
fn cipher(name: &str) -> Result<(Encryption, Option<usize>), bool> {
    Ok(match name {
        "none" | "null" => (Encryption::Null, Some(0)),
        "3des" | "des3" => (Encryption::TripleDesCbc, Some(24)),
        "aes128" => (Encryption::AesCbc, Some(16)),
        "aes192" => (Encryption::AesCbc, Some(24)),
        "aes256" => (Encryption::AesCbc, Some(32)),
        "des" | "blowfish" | "bf" | "cast128" | "cast5" | "cast" | "rc3" | "rc2" | "rc5"
        | "idea" | "aes128-gcm" | "aes256-gcm" | "aes128-ctr" | "aes256-ctr" => {
            return Err(true);
        }
        _ => return Err(false),
    })
}

/// Parses one line (not blank, not a comment), with `leading` characters of indentation
/// before it for error columns.
pub(crate) fn parse_line(line: &str, leading: usize) -> Result<Line, LineError> {
    let column = |offset_chars: usize| leading + offset_chars + 1;
    let (head, rest) = match line.find([' ', '\t']) {
        Some(at) => (
            &line[..at],
            Some(line[at..].trim_start_matches([' ', '\t'])),
        ),
        None => (line, None),
    };
    if head.eq_ignore_ascii_case("ikev2") {
        return Ok(Line::Ikev2);
    }
    let (target, decode, decode_at) = match rest {
        None => (None, head, 0),
        Some(rest) => {
            let at = line.len() - rest.len();
            (Some(head), rest.trim_end(), line[..at].chars().count())
        }
    };
    if decode.contains([' ', '\t']) {
        let at = decode.find([' ', '\t']).unwrap_or(0);
        return Err((
            column(decode_at + decode[..at].chars().count()),
            ParseErrorKind::TcpdumpSyntax {
                reason: "unexpected text after the secret",
            },
        ));
    }
    let (spi, dst) = match target {
        None => (SpiPattern { value: 0, mask: 0 }, AddrPattern::Any),
        Some(target) => {
            let (spi_text, addr_text) = target.split_once('@').ok_or((
                column(0),
                ParseErrorKind::TcpdumpSyntax {
                    reason: "no `@` between SPI and address",
                },
            ))?;
            let spi = parse_spi(spi_text).ok_or_else(|| {
                (
                    column(0),
                    ParseErrorKind::BadTcpdumpSpi {
                        found: spi_text.to_owned(),
                    },
                )
            })?;
            let addr_at = spi_text.chars().count() + 1;
            let dst = match addr_text.parse::<IpAddr>() {
                Ok(IpAddr::V4(addr)) => AddrPattern::V4 {
                    addr,
                    mask: core::net::Ipv4Addr::BROADCAST,
                },
                Ok(IpAddr::V6(addr)) => AddrPattern::V6 {
                    addr,
                    prefix_len: 128,
                },
                Err(_) => {
                    return Err((
                        column(addr_at),
                        ParseErrorKind::BadTcpdumpAddress {
                            found: addr_text.to_owned(),
                        },
                    ));
                }
            };
            (SpiPattern::one(spi), dst)
        }
    };
    let Some((algorithm, secret)) = decode.split_once(':') else {
        return Err((
            column(decode_at),
            ParseErrorKind::TcpdumpSyntax {
                reason: "no `:` between algorithm and secret",
            },
        ));
    };
    let secret_at = decode_at + algorithm.chars().count() + 1;
    let lower = algorithm.to_ascii_lowercase();
    let (name, unchecked_icv) = match lower.strip_suffix("-hmac96") {
        Some(name) if !name.is_empty() => (name, 12),
        _ => (lower.as_str(), 0),
    };
    let name = name
        .strip_suffix("-cbc")
        .filter(|n| !n.is_empty())
        .unwrap_or(name);
    let (encryption, key_len) = cipher(name).map_err(|known| {
        let found = algorithm.to_owned();
        let kind = if known {
            ParseErrorKind::UnsupportedTcpdumpAlgorithm { found }
        } else {
            ParseErrorKind::UnknownTcpdumpAlgorithm { found }
        };
        (column(decode_at), kind)
    })?;
    let key = if encryption == Encryption::Null {
        // tcpdump takes a secret for `none` too; there is nothing to use it for.
        SecretBytes::default()
    } else {
        decode_key(secret).map_err(|(offset, kind)| (column(secret_at + offset), kind))?
    };
    if let Some(expected) = key_len.filter(|&len| len != key.len()) {
        return Err((
            column(secret_at),
            ParseErrorKind::KeyLength {
                algorithm: match expected {
                    16 => "aes128-cbc",
                    32 => "aes256-cbc",
                    _ if encryption == Encryption::TripleDesCbc => "3des-cbc",
                    _ => "aes192-cbc",
                },
                len: key.len(),
                expected: format!("{expected} bytes"),
            },
        ));
    }
    let family = match dst {
        AddrPattern::V4 { .. } => AddressFamily::Ipv4,
        AddrPattern::V6 { .. } => AddressFamily::Ipv6,
        AddrPattern::Any => AddressFamily::Any,
    };
    let mut sa = EspSa::new(
        family,
        AddrPattern::Any,
        dst,
        spi,
        encryption,
        key,
        Integrity::None,
        SecretBytes::default(),
    )
    .map_err(|error| {
        (
            column(secret_at),
            ParseErrorKind::BadKey {
                reason: error.to_string(),
            },
        )
    })?;
    sa.unchecked_icv = unchecked_icv;
    Ok(if target.is_some() {
        Line::Sa(sa)
    } else {
        Line::Default(sa)
    })
}

/// An SPI as C's `strtoul(text, _, 0)` reads a whole token: `0x` hex, `0` octal, or decimal.
fn parse_spi(text: &str) -> Option<u32> {
    let (digits, radix) =
        if let Some(hex) = text.strip_prefix("0x").or_else(|| text.strip_prefix("0X")) {
            (hex, 16)
        } else if text.len() > 1 && text.starts_with('0') {
            (&text[1..], 8)
        } else {
            (text, 10)
        };
    if digits.is_empty() || !digits.chars().all(|c| c.is_digit(radix)) {
        return None;
    }
    u32::from_str_radix(digits, radix).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sa(line: &str) -> EspSa {
        match parse_line(line, 0) {
            Ok(Line::Sa(sa) | Line::Default(sa)) => sa,
            Ok(Line::Ikev2) => panic!("ikev2"),
            Err((column, kind)) => panic!("{column}: {kind}"),
        }
    }

    fn error(line: &str) -> (usize, String) {
        match parse_line(line, 2) {
            Err((column, kind)) => (column, kind.to_string()),
            Ok(_) => panic!("parsed: {line}"),
        }
    }

    #[test]
    fn tcpdump_test_suite_lines() {
        let sa = sa(
            "0x12345678@192.1.2.45 3des-cbc-hmac96:0x43434545464649494a4a4c4c4f4f51515252545457575840",
        );
        assert_eq!(sa.spi.exact(), Some(0x1234_5678));
        assert_eq!(sa.dst.to_string(), "192.1.2.45");
        assert_eq!(sa.src, AddrPattern::Any);
        assert_eq!(sa.family, AddressFamily::Ipv4);
        assert_eq!(
            (sa.encryption, sa.integrity, sa.unchecked_icv),
            (Encryption::TripleDesCbc, Integrity::None, 12)
        );
        assert_eq!(sa.encryption_key().len(), 24);
        let prepared = sa.sa_for(0x1234_5678).unwrap();
        assert_eq!((prepared.icv_len(), prepared.icv_checked()), (12, false));
        assert_eq!(
            sa.to_line(super::super::KeyDisplay::Redacted),
            r#""IPv4","*","192.1.2.45","0x12345678","TripleDES-CBC [RFC2451]","0x<redacted>","ANY 96 bit authentication [no checking]","0x<redacted>""#
        );
        let aes = self::sa(
            "0xd1234567@192.1.2.45\taes256-cbc:0xaaaabbbbccccdddd4043434545464649494a4a4c4c4f4f515152525454575758  ",
        );
        assert_eq!((aes.encryption, aes.unchecked_icv), (Encryption::AesCbc, 0));
        assert_eq!(aes.encryption_key().len(), 32);
    }

    #[test]
    fn defaults_names_and_spis() {
        let Ok(Line::Default(default)) = parse_line("AES128:sixteen-byte-key", 0) else {
            panic!("not a default SA");
        };
        assert_eq!(default.encryption_key().as_bytes(), b"sixteen-byte-key");
        assert!(default.matches(
            "10.0.0.1".parse().unwrap(),
            "2001:db8::1".parse().unwrap(),
            7
        ));
        assert_eq!(sa("4660@10.0.0.1 none:").spi.exact(), Some(4660));
        assert_eq!(sa("011@10.0.0.1 none:x").spi.exact(), Some(9));
        assert_eq!(
            sa("0@10.0.0.1 des3-hmac96:0x4043434545464649494a4a4c4c4f4f515152525454575758")
                .spi
                .exact(),
            Some(0)
        );
        let v6 = sa("0x1@2001:db8::2 aes192:0x000102030405060708090a0b0c0d0e0f1011121314151617");
        assert_eq!(v6.family, AddressFamily::Ipv6);
        assert!(matches!(
            parse_line("ikev2 I 0x01 0x02 sha1:0x00 aes128:0x00", 0),
            Ok(Line::Ikev2)
        ));
        assert!(matches!(parse_line("IKEv2 R whatever", 0), Ok(Line::Ikev2)));
    }

    #[test]
    fn errors_name_the_column() {
        let cases: &[(&str, usize, &str)] = &[
            (
                "0x1@10.0.0.1 aes128",
                16,
                "expected [SPI@ADDRESS] ALGORITHM:SECRET: no `:` between algorithm and secret",
            ),
            (
                "0x1-10.0.0.1 aes128:k",
                3,
                "expected [SPI@ADDRESS] ALGORITHM:SECRET: no `@` between SPI and address",
            ),
            (
                "0xg@10.0.0.1 aes128:k",
                3,
                "invalid SPI \"0xg\": expected a 32-bit number (0x hex, 0 octal or decimal)",
            ),
            (
                "0x100000000@10.0.0.1 none:",
                3,
                "invalid SPI \"0x100000000\": expected a 32-bit number (0x hex, 0 octal or decimal)",
            ),
            (
                "0x1@10.0.0 none:",
                7,
                "invalid address \"10.0.0\": expected an IPv4 or IPv6 address",
            ),
            (
                "0x1@10.0.0.1 twofish-cbc:0x00",
                16,
                "unknown algorithm \"twofish-cbc\"; expected none, 3des-cbc, aes128-cbc, aes192-cbc or aes256-cbc, optionally with -hmac96",
            ),
            (
                "0x1@10.0.0.1 blowfish-cbc:0x00",
                16,
                "algorithm \"blowfish-cbc\" is valid in tcpdump but not supported by dmvpn",
            ),
            (
                "0x1@10.0.0.1 aes128:0x0011",
                23,
                "aes128-cbc key is 2 bytes; expected 16 bytes",
            ),
            (
                "0x1@10.0.0.1 aes128:0x001",
                23,
                "odd number of hex digits (3) in key",
            ),
            (
                "0x1@10.0.0.1 aes128:0x00zz",
                27,
                "invalid hex digit `z` in key",
            ),
            (
                "0x1@10.0.0.1 aes128:k extra",
                24,
                "expected [SPI@ADDRESS] ALGORITHM:SECRET: unexpected text after the secret",
            ),
        ];
        for (line, column, message) in cases {
            assert_eq!(error(line), (*column, (*message).to_owned()), "{line}");
        }
        assert!(
            ParseErrorKind::UnknownTcpdumpAlgorithm {
                found: String::new()
            }
            .is_unsupported()
        );
    }

    #[test]
    fn shapes() {
        for line in [
            "0x12345678@192.1.2.45 3des-cbc-hmac96:0x4343",
            "aes128:0x00",
            "ikev2 I 0x0001020304050607 0xc02e7a3031a03188 sha1:0x4e aes128:0x3f",
        ] {
            assert!(looks_like(line), "{line}");
        }
        for line in [
            r#""IPv4","*","*","*","NULL","","NULL","""#,
            "IPv4,*,*,*,NULL,,NULL,",
            "fafaeb49382a763c,735be0cb62f82675c4f7bf8fbab9b56834ba76d6ab4fa240",
            "crypto isakmp key s address 0.0.0.0",
            "0x1@10.0.0.1 aes:k more",
            "",
        ] {
            assert!(!looks_like(line), "{line}");
        }
    }

    #[test]
    fn arbitrary_lines_never_panic() {
        bolero::check!().for_each(|bytes: &[u8]| {
            let text = String::from_utf8_lossy(bytes);
            for line in text.lines() {
                let _ = looks_like(line);
                if let Err((column, _)) = parse_line(line, 0) {
                    assert!(column >= 1);
                }
            }
        });
    }
}
