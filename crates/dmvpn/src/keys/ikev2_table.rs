//! Wireshark's `ikev2_decryption_table` UAT file: the keys of IKEv2 SAs by their SPIs.
//!
//! Each line is `SPIi,SPIr,SK_ei,SK_er,"encryption",SK_ai,SK_ar,"integrity"`: the SPIs as 16 hex
//! digits, the keys as hex (empty for NULL encryption or NONE integrity), the algorithms by
//! Wireshark's names (`"AES-CBC-128 [RFC3602]"`, `"HMAC_SHA2_256_128 [RFC4868]"`, …; see
//! [`Encryption`] and [`Integrity`]).
//!
//! dmvpn reads one optional ninth column that Wireshark does not have: **SK_d** in hex, the key
//! from which the IKE SA derives the keys of its Child SAs (RFC 7296 §2.17; strongSwan's log at
//! `ike = 4` prints it as `Sk_d secret`). With it ([`Ikev2Key::sk_d`]) the decoder follows the
//! IKE_SA_INIT, IKE_AUTH and CREATE_CHILD_SA exchanges of that IKE SA and derives the ESP keys of
//! each Child SA they create, KEYMAT = prf+(SK_d, Ni | Nr) with the SPIs and transforms of the
//! chosen proposal ([`dmvpn_isakmp::v2::child`]), so that ESP decrypts with no `esp_sa` file. A
//! Child SA made with PFS (a KE payload in its CREATE_CHILD_SA) also needs the new Diffie-Hellman
//! secret g^ir, which no capture holds: its ESP still needs an `esp_sa` line. The PRF is the one
//! whose output has SK_d's length.
//!
//! Two more optional columns, the tenth and eleventh, are **SK_pi** and **SK_pr** in hex (strongSwan:
//! `Sk_pi secret`, `Sk_pr secret`), the keys each side MACs its ID with in its pre-shared key AUTH
//! (RFC 7296 §2.15). With them ([`Ikev2Key::sk_p`]) `dmvpn sessions --psk` recomputes the AUTH
//! payload of IKE_AUTH and says for certain whether a side's key is the one given. They come
//! together, each as long as the PRF's output (as SK_d, which may be left empty: `…,"integrity",,
//! SK_pi,SK_pr`).
//!
//! Wireshark's table has eight columns and refuses more: keep a file with the extra columns for
//! dmvpn and one without them for Wireshark (dmvpn's key logs write both:
//! `ikev2_decryption_table` and `dmvpn_ikev2_decryption_table`).
//!
//! A line naming an algorithm dmvpn does not know is skipped with a warning; a malformed line is
//! an error naming its line, column and field.

use dmvpn_isakmp::keys::Secret;
use dmvpn_isakmp::v2::crypto::{Encryption, Integrity, SaKeys};

use std::path::Path;

use super::error::{KeysError, Location, ParseErrorKind};
use super::lexer::{Field, LineError, err, split_fields};
use super::{Warning, warning_at};

/// One line of an `ikev2_decryption_table`: the SA's keys, SK_d if the ninth column has it, and
/// SK_pi / SK_pr if the tenth and eleventh have them.
#[derive(Clone, Debug, Eq, PartialEq)]
pub struct Ikev2Key {
    /// The SPIs, algorithms and keys Wireshark's table has.
    pub keys: SaKeys,
    /// SK_d, dmvpn's optional ninth column.
    pub sk_d: Option<Secret>,
    /// SK_pi and SK_pr, dmvpn's optional tenth and eleventh columns.
    pub sk_p: Option<(Secret, Secret)>,
}

/// Parses an `ikev2_decryption_table`: its keys, and a warning for each line skipped. Blank lines
/// and `#` comments are skipped; a UTF-8 byte-order mark and CRLF line ends are accepted.
///
/// ```
/// use dmvpn::keys::parse_ikev2_decryption_table;
/// use dmvpn_isakmp::v2::crypto::Encryption;
///
/// let table = "# ikev2\n1234567890123456,0987654321098765,,,\"NULL [RFC2410]\",,,\"NONE [RFC4306]\"\n";
/// let (keys, warnings) = parse_ikev2_decryption_table(table, None)?;
/// assert_eq!((keys.len(), warnings.len()), (1, 0));
/// assert_eq!(keys[0].keys.encryption, Encryption::Null);
/// let err = parse_ikev2_decryption_table("1234567890123456,09,,,\"NULL [RFC2410]\",,,\"NONE [RFC4306]\"", None)
///     .unwrap_err();
/// assert_eq!(err.to_string(), "keys: line 1, column 18: field `SPIr`: 1 bytes, an SPI has 8");
/// # Ok::<(), dmvpn::keys::KeysError>(())
/// ```
///
/// # Errors
/// The first malformed line, with its line, column and field.
pub fn parse_ikev2_decryption_table(
    text: &str,
    path: Option<&Path>,
) -> Result<(Vec<Ikev2Key>, Vec<Warning>), KeysError> {
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let (mut keys, mut warnings) = (Vec::new(), Vec::new());
    for (index, raw) in text.lines().enumerate() {
        let trimmed = raw.trim();
        if trimmed.is_empty() || trimmed.starts_with('#') {
            continue;
        }
        match parse_line(raw) {
            Ok(Line::Key(key)) => keys.push(*key),
            Ok(Line::Skipped(message)) => warnings.push(warning_at(path, index + 1, message)),
            Err(LineError { column, kind }) => {
                return Err(KeysError::Parse {
                    location: Location {
                        path: path.map(Path::to_path_buf),
                        line: index + 1,
                        column,
                    },
                    kind,
                });
            }
        }
    }
    Ok((keys, warnings))
}

/// What a line gave: a key, or a reason to skip it (an algorithm dmvpn does not know).
pub(super) enum Line {
    /// The line's key.
    Key(Box<Ikev2Key>),
    /// The line is skipped; the message says why.
    Skipped(String),
}

/// Whether a line looks like an `ikev2_decryption_table` entry: two 16-hex-digit SPIs and at
/// least 8 fields (an `ikev1_decryption_table` line has 2, an `esp_sa` line starts with "IPv4").
pub(super) fn looks_like(line: &str) -> bool {
    let Ok(fields) = split_fields(line) else {
        return false;
    };
    let spi =
        |field: &Field| field.text.len() == 16 && field.text.bytes().all(|b| b.is_ascii_hexdigit());
    fields.len() >= 8 && spi(&fields[0]) && spi(&fields[1])
}

/// Parses one line that is not blank or a comment.
pub(super) fn parse_line(line: &str) -> Result<Line, LineError> {
    let fields = split_fields(line)?;
    if !matches!(fields.len(), 8 | 9 | 11) {
        return Err(err(
            1,
            ParseErrorKind::Ikev2Field {
                field: "line",
                problem: format!(
                    "expected 8 fields (9 with SK_d, 11 with SK_pi and SK_pr), found {}",
                    fields.len()
                ),
            },
        ));
    }
    let initiator_spi = spi(&fields[0], "SPIi")?;
    let responder_spi = spi(&fields[1], "SPIr")?;
    let Some(encryption) = Encryption::from_wireshark(&fields[4].text) else {
        return Ok(Line::Skipped(format!(
            "encryption algorithm \"{}\" is not one dmvpn knows; line skipped",
            fields[4].text
        )));
    };
    let Some(integrity) = Integrity::from_wireshark(&fields[7].text) else {
        return Ok(Line::Skipped(format!(
            "integrity algorithm \"{}\" is not one dmvpn knows; line skipped",
            fields[7].text
        )));
    };
    let encryption_key = |field: &Field, name| {
        key(
            field,
            name,
            encryption.key_material_len(),
            &encryption.to_string(),
        )
    };
    let mac_len = integrity.prf().map_or(0, |prf| prf.output_len());
    let integrity_key = |field: &Field, name| key(field, name, mac_len, &integrity.to_string());
    let keys = SaKeys {
        initiator_spi,
        responder_spi,
        encryption,
        sk_ei: encryption_key(&fields[2], "SK_ei")?,
        sk_er: encryption_key(&fields[3], "SK_er")?,
        integrity,
        sk_ai: integrity_key(&fields[5], "SK_ai")?,
        sk_ar: integrity_key(&fields[6], "SK_ar")?,
    };
    let sk_d = match fields.get(8) {
        Some(field) if !field.text.is_empty() => Some(hex(field, "SK_d")?),
        _ => None,
    };
    let sk_p = match (fields.get(9), fields.get(10)) {
        (Some(pi), Some(pr)) if !pi.text.is_empty() || !pr.text.is_empty() => {
            let sk_pi = hex(pi, "SK_pi")?;
            // Both are PRF outputs: as long as each other, and as SK_d when it is given.
            let len = sk_d.as_ref().map_or(sk_pi.len(), Secret::len);
            if sk_pi.len() != len || sk_pi.is_empty() {
                return Err(prf_len_error(pi, "SK_pi", sk_pi.len(), len, "SK_d"));
            }
            let sk_pr = hex(pr, "SK_pr")?;
            if sk_pr.len() != len {
                return Err(prf_len_error(pr, "SK_pr", sk_pr.len(), len, "SK_pi"));
            }
            Some((sk_pi, sk_pr))
        }
        _ => None,
    };
    Ok(Line::Key(Box::new(Ikev2Key { keys, sk_d, sk_p })))
}

/// A PRF key whose length is not the PRF's (`len`, the length of `other`).
fn prf_len_error(
    field: &Field,
    name: &'static str,
    got: usize,
    len: usize,
    other: &str,
) -> LineError {
    let problem = if got == 0 {
        "empty: SK_pi and SK_pr come together".to_owned()
    } else {
        format!("{got} bytes, {other} has {len} (both are PRF outputs)")
    };
    err(
        field.column,
        ParseErrorKind::Ikev2Field {
            field: name,
            problem,
        },
    )
}

fn spi(field: &Field, name: &'static str) -> Result<[u8; 8], LineError> {
    let bytes = hex(field, name)?;
    <[u8; 8]>::try_from(bytes.as_bytes()).map_err(|_| {
        err(
            field.column,
            ParseErrorKind::Ikev2Field {
                field: name,
                problem: format!("{} bytes, an SPI has 8", bytes.len()),
            },
        )
    })
}

/// A key of exactly `len` bytes for `algorithm`.
fn key(
    field: &Field,
    name: &'static str,
    len: usize,
    algorithm: &str,
) -> Result<Secret, LineError> {
    let key = hex(field, name)?;
    if key.len() != len {
        return Err(err(
            field.column,
            ParseErrorKind::Ikev2Field {
                field: name,
                problem: format!("{} bytes, {algorithm} needs {len}", key.len()),
            },
        ));
    }
    Ok(key)
}

/// Hex digits (a `0x` prefix allowed), as Wireshark's UAT hex fields.
fn hex(field: &Field, name: &'static str) -> Result<Secret, LineError> {
    let text = field.text.as_str();
    let (digits, skipped) = match text.strip_prefix("0x").or_else(|| text.strip_prefix("0X")) {
        Some(digits) => (digits, 2),
        None => (text, 0),
    };
    let first = field.column + usize::from(field.quoted) + skipped;
    let mut bytes = Vec::with_capacity(digits.len() / 2);
    let mut high: Option<u8> = None;
    for (i, c) in digits.chars().enumerate() {
        let Some(nibble) = c.to_digit(16).and_then(|n| u8::try_from(n).ok()) else {
            zeroize::Zeroize::zeroize(&mut bytes);
            return Err(err(
                first + i,
                ParseErrorKind::Ikev2Field {
                    field: name,
                    problem: format!("`{c}` is not a hex digit"),
                },
            ));
        };
        match high.take() {
            None => high = Some(nibble),
            Some(h) => bytes.push(h << 4 | nibble),
        }
    }
    if high.is_some() {
        zeroize::Zeroize::zeroize(&mut bytes);
        return Err(err(
            field.column,
            ParseErrorKind::Ikev2Field {
                field: name,
                problem: format!("odd number of hex digits ({})", digits.chars().count()),
            },
        ));
    }
    Ok(Secret::new(bytes))
}

#[cfg(test)]
mod tests {
    use super::*;

    const LINE: &str = "191ccd371a7a1f7b,bc123d15e4af593f,\
        9096ddd2933620e8f48122c53a3f562cb0222c1cf97ce41fcc874ea2582a89ac,\
        6718c6b2bbef2f234eac4c13832f885d87b574afd2af0111161e99b5dc61b4d4,\"AES-CBC-256 [RFC3602]\",\
        12d532c3e83c757906af548dfe1ccf223ca5507af77898454e2d55c8ace57a17,\
        30c4ead18c93024b58a86c1e3db60f550221801026853170b4cb0248d3a95329,\"HMAC_SHA2_256_128 [RFC4868]\"";

    fn key_of(line: &str) -> Ikev2Key {
        match parse_line(line) {
            Ok(Line::Key(key)) => *key,
            Ok(Line::Skipped(why)) => panic!("skipped: {why}"),
            Err(e) => panic!("column {}: {}", e.column, e.kind),
        }
    }

    fn error_of(line: &str) -> String {
        match parse_line(line) {
            Err(e) => format!("column {}: {}", e.column, e.kind),
            Ok(_) => panic!("parsed: {line}"),
        }
    }

    #[test]
    fn parses_a_wireshark_line() {
        assert!(looks_like(LINE));
        let key = key_of(LINE);
        assert_eq!(key.keys.initiator_spi[0], 0x19);
        assert_eq!(key.keys.encryption, Encryption::AesCbc(256));
        assert_eq!(key.keys.integrity, Integrity::HmacSha256_128);
        assert_eq!(key.keys.sk_ar.len(), 32);
        assert_eq!(key.sk_d, None);
        let with_sk_d = key_of(&format!("{LINE},00112233"));
        assert_eq!(with_sk_d.sk_d.unwrap().as_bytes(), [0, 0x11, 0x22, 0x33]);
        assert_eq!(with_sk_d.sk_p, None);
        let with_sk_p = key_of(&format!("{LINE},00112233,44556677,8899aabb"));
        let (sk_pi, sk_pr) = with_sk_p.sk_p.unwrap();
        assert_eq!(
            (sk_pi.as_bytes(), sk_pr.as_bytes()),
            (&[0x44, 0x55, 0x66, 0x77][..], &[0x88, 0x99, 0xaa, 0xbb][..])
        );
        // SK_d may be left out; empty SK_pi and SK_pr are no keys.
        let without_sk_d = key_of(&format!("{LINE},,4455,8899"));
        assert_eq!(without_sk_d.sk_d, None);
        assert!(without_sk_d.sk_p.is_some());
        assert_eq!(key_of(&format!("{LINE},0011,,")).sk_p, None);
        // NULL encryption and NONE integrity take empty keys.
        let null =
            key_of("1234567890123456,0987654321098765,,,\"NULL [RFC2410]\",,,\"NONE [RFC4306]\"");
        assert_eq!(null.keys.encryption, Encryption::Null);
        assert!(!looks_like(
            "fafaeb49382a763c,735be0cb62f82675c4f7bf8fbab9b56834ba76d6ab4fa240"
        ));
        assert!(!looks_like(
            "\"IPv4\",\"*\",\"10.0.0.2\",\"0x100\",\"NULL\",\"\",\"NULL\",\"\""
        ));
    }

    #[test]
    fn unknown_algorithms_skip_the_line() {
        let line = LINE.replace("AES-CBC-256 [RFC3602]", "CAMELLIA-CBC-256");
        let Ok(Line::Skipped(why)) = parse_line(&line) else {
            panic!("not skipped")
        };
        assert_eq!(
            why,
            "encryption algorithm \"CAMELLIA-CBC-256\" is not one dmvpn knows; line skipped"
        );
    }

    #[test]
    fn errors_name_column_and_field() {
        for (line, error) in [
            (
                "a,b,c".to_owned(),
                "column 1: field `line`: expected 8 fields (9 with SK_d, 11 with SK_pi and SK_pr), \
                 found 3",
            ),
            (
                format!("{LINE},00,11"),
                "column 1: field `line`: expected 8 fields (9 with SK_d, 11 with SK_pi and SK_pr), \
                 found 10",
            ),
            (
                format!("{LINE},0011,44,8899"),
                "column 354: field `SK_pi`: 1 bytes, SK_d has 2 (both are PRF outputs)",
            ),
            (
                format!("{LINE},,4455,88"),
                "column 355: field `SK_pr`: 1 bytes, SK_pi has 2 (both are PRF outputs)",
            ),
            (
                format!("{LINE},,,8899"),
                "column 350: field `SK_pi`: empty: SK_pi and SK_pr come together",
            ),
            (
                format!("{LINE},,4455,"),
                "column 355: field `SK_pr`: empty: SK_pi and SK_pr come together",
            ),
            (
                format!("{LINE},,4455,8x"),
                "column 356: field `SK_pr`: `x` is not a hex digit",
            ),
            (
                LINE.replacen("191ccd37", "191ccd3g", 1),
                "column 8: field `SPIi`: `g` is not a hex digit",
            ),
            (
                LINE.replacen("bc123d15e4af593f", "bc12", 1),
                "column 18: field `SPIr`: 2 bytes, an SPI has 8",
            ),
            (
                LINE.replacen(",9096ddd2", ",96ddd2", 1),
                "column 35: field `SK_ei`: 31 bytes, AES-CBC-256 [RFC3602] needs 32",
            ),
            (
                LINE.replacen(",30c4ead1", ",0c4ead1", 1),
                "column 254: field `SK_ar`: odd number of hex digits (63)",
            ),
            (
                format!("{LINE},0q"),
                "column 350: field `SK_d`: `q` is not a hex digit",
            ),
        ] {
            assert_eq!(error_of(&line), error);
        }
    }

    #[test]
    fn arbitrary_lines_never_panic() {
        bolero::check!().for_each(|data: &[u8]| {
            if let Ok(text) = core::str::from_utf8(data) {
                let _ = looks_like(text);
                let _ = parse_line(text);
            }
        });
    }
}
