//! Wireshark's `ikev1_decryption_table` UAT file: IKEv1 encryption keys by initiator cookie. The
//! key type, [`Ikev1Key`], is `dmvpn_isakmp`'s, which also writes a line of the table
//! ([`Ikev1Key::to_table_line`]).

use dmvpn_isakmp::keys::{Ikev1Key, Secret};

/// What is wrong with a line of a key file.
#[derive(Clone, Debug, Eq, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum KeyFileErrorKind {
    /// A field is missing.
    #[error("missing field `{0}`")]
    MissingField(&'static str),
    /// A field is not hex.
    #[error("field `{0}` is not hex")]
    BadHex(&'static str),
    /// The initiator cookie is not 8 bytes.
    #[error("initiator cookie has {0} bytes, not 8")]
    BadCookieLength(usize),
    /// A quote is not closed.
    #[error("unterminated quote")]
    UnterminatedQuote,
    /// More fields than the format has.
    #[error("unexpected extra field")]
    ExtraField,
}

/// A key-file error with its 1-based line and column.
#[derive(Clone, Debug, Eq, PartialEq, thiserror::Error)]
#[error("keys: line {line}, column {column}: {kind}")]
pub struct KeyFileError {
    /// Line number, from 1.
    pub line: usize,
    /// Column (character) number, from 1.
    pub column: usize,
    /// What is wrong.
    pub kind: KeyFileErrorKind,
}

/// Parses Wireshark's `ikev1_decryption_table`: one `<initiator-cookie-hex16>,<enc-key-hex>` per line.
/// Blank lines and `#` comments are skipped; fields may be double-quoted, may have a `0x` prefix and
/// may be surrounded by spaces; a UTF-8 byte-order mark and CRLF line ends are accepted.
///
/// ```
/// use dmvpn::keys::parse_ikev1_decryption_table;
/// let keys = parse_ikev1_decryption_table("# comment\nfafaeb49382a763c,735be0cb62f82675c4f7bf8fbab9b56834ba76d6ab4fa240\n")?;
/// assert_eq!(keys[0].initiator_cookie, [0xfa, 0xfa, 0xeb, 0x49, 0x38, 0x2a, 0x76, 0x3c]);
/// assert_eq!(keys[0].encryption_key.len(), 24);
/// let err = parse_ikev1_decryption_table("fafa,zz").unwrap_err();
/// assert_eq!(err.to_string(), "keys: line 1, column 1: initiator cookie has 2 bytes, not 8");
/// # Ok::<(), dmvpn::keys::KeyFileError>(())
/// ```
pub fn parse_ikev1_decryption_table(text: &str) -> Result<Vec<Ikev1Key>, KeyFileError> {
    let mut keys = Vec::new();
    // A UTF-8 byte-order mark (Windows editors write one) is not part of the first cookie.
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    for (index, raw) in text.lines().enumerate() {
        let line = index + 1;
        let trimmed = raw.trim();
        if trimmed.is_empty() || trimmed.starts_with('#') {
            continue;
        }
        let fields =
            split_fields(raw).map_err(|(column, kind)| KeyFileError { line, column, kind })?;
        let err = |column: usize, kind| KeyFileError { line, column, kind };
        let mut fields = fields.into_iter();
        let Some((cookie_col, cookie)) = fields.next() else {
            return Err(err(1, KeyFileErrorKind::MissingField("initiator cookie")));
        };
        let Some((key_col, key)) = fields.next() else {
            return Err(err(
                raw.chars().count() + 1,
                KeyFileErrorKind::MissingField("encryption key"),
            ));
        };
        if let Some((column, _)) = fields.next() {
            return Err(err(column, KeyFileErrorKind::ExtraField));
        }
        let cookie = decode_hex(cookie)
            .ok_or_else(|| err(cookie_col, KeyFileErrorKind::BadHex("initiator cookie")))?;
        let Ok(initiator_cookie) = <[u8; 8]>::try_from(cookie.as_slice()) else {
            return Err(err(
                cookie_col,
                KeyFileErrorKind::BadCookieLength(cookie.len()),
            ));
        };
        let key = decode_hex(key)
            .ok_or_else(|| err(key_col, KeyFileErrorKind::BadHex("encryption key")))?;
        if key.is_empty() {
            return Err(err(
                key_col,
                KeyFileErrorKind::MissingField("encryption key"),
            ));
        }
        keys.push(Ikev1Key {
            initiator_cookie,
            encryption_key: Secret::new(key),
        });
    }
    Ok(keys)
}

/// Splits a CSV line into (column, unquoted trimmed text) fields.
fn split_fields(line: &str) -> Result<Vec<(usize, &str)>, (usize, KeyFileErrorKind)> {
    let mut fields = Vec::new();
    let mut rest = line;
    let mut column = 1;
    loop {
        let lead = rest.len() - rest.trim_start().len();
        column += rest[..lead].chars().count();
        rest = &rest[lead..];
        let (value, consumed) = if let Some(inner) = rest.strip_prefix('"') {
            let Some(end) = inner.find('"') else {
                return Err((column, KeyFileErrorKind::UnterminatedQuote));
            };
            let after = inner[end + 1..].trim_start();
            (&inner[..end], rest.len() - after.len())
        } else {
            let end = rest.find(',').unwrap_or(rest.len());
            (rest[..end].trim_end(), end)
        };
        fields.push((column, value));
        column += rest[..consumed].chars().count();
        rest = &rest[consumed..];
        match rest.strip_prefix(',') {
            Some(after) => {
                rest = after;
                column += 1;
            }
            None if rest.trim().is_empty() => return Ok(fields),
            None => return Err((column, KeyFileErrorKind::ExtraField)),
        }
    }
}

fn decode_hex(text: &str) -> Option<Vec<u8>> {
    let text = text
        .strip_prefix("0x")
        .or_else(|| text.strip_prefix("0X"))
        .unwrap_or(text);
    if !text.len().is_multiple_of(2) {
        return None;
    }
    text.as_bytes()
        .chunks_exact(2)
        .map(|pair| {
            let hi = char::from(pair[0]).to_digit(16)?;
            let lo = char::from(pair[1]).to_digit(16)?;
            u8::try_from(hi * 16 + lo).ok()
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decryption_table() {
        let text = "# This file is automatically generated, DO NOT MODIFY.\n\
                    fafaeb49382a763c,735be0cb62f82675c4f7bf8fbab9b56834ba76d6ab4fa240\n\
                    \n\
                    \"ab3e0f1f8bc3be8e\" , \"0x928392441e00ece5e8af3bc545416e86afa1291e7c013271514738b70ef25d22\"\r\n";
        let keys = parse_ikev1_decryption_table(text).unwrap();
        assert_eq!(keys.len(), 2);
        assert_eq!(
            keys[1].initiator_cookie,
            [0xab, 0x3e, 0x0f, 0x1f, 0x8b, 0xc3, 0xbe, 0x8e]
        );
        assert_eq!(keys[1].encryption_key.len(), 32);
        assert_eq!(
            keys[0].to_table_line(),
            "fafaeb49382a763c,735be0cb62f82675c4f7bf8fbab9b56834ba76d6ab4fa240"
        );
    }

    #[test]
    fn decryption_table_with_bom_and_crlf() {
        let text = "\u{feff}fafaeb49382a763c,735be0cb62f82675c4f7bf8fbab9b56834ba76d6ab4fa240\r\n\r\n# c\r\n";
        let keys = parse_ikev1_decryption_table(text).unwrap();
        assert_eq!(keys.len(), 1);
        assert_eq!(keys[0].initiator_cookie[0], 0xfa);
        assert_eq!(keys[0].encryption_key.len(), 24);
        // A byte-order mark anywhere else is a bad cookie.
        let err = parse_ikev1_decryption_table("\n\u{feff}fafaeb49382a763c,00").unwrap_err();
        assert_eq!(err.line, 2);
    }

    #[test]
    fn decryption_table_errors() {
        let cases = [
            (
                "fafaeb49382a763c",
                "keys: line 1, column 17: missing field `encryption key`",
            ),
            (
                "\n  fafaeb49382a763g,00",
                "keys: line 2, column 3: field `initiator cookie` is not hex",
            ),
            (
                "fafaeb49382a763c, 0q",
                "keys: line 1, column 19: field `encryption key` is not hex",
            ),
            (
                "fafaeb49382a763c,00,11",
                "keys: line 1, column 21: unexpected extra field",
            ),
            (
                "\"fafaeb49382a763c,00",
                "keys: line 1, column 1: unterminated quote",
            ),
            (
                "\"fafaeb49382a763c\" x,00",
                "keys: line 1, column 20: unexpected extra field",
            ),
            (
                "fafaeb49382a763c,",
                "keys: line 1, column 18: missing field `encryption key`",
            ),
            (
                "fafaeb49382a76,00",
                "keys: line 1, column 1: initiator cookie has 7 bytes, not 8",
            ),
        ];
        for (text, message) in cases {
            assert_eq!(
                parse_ikev1_decryption_table(text).unwrap_err().to_string(),
                message,
                "{text:?}"
            );
        }
    }

    #[test]
    fn arbitrary_tables_never_panic() {
        bolero::check!().for_each(|data: &[u8]| {
            if let Ok(text) = core::str::from_utf8(data)
                && let Ok(keys) = parse_ikev1_decryption_table(text)
            {
                for key in keys {
                    let line = key.to_table_line();
                    assert_eq!(parse_ikev1_decryption_table(&line).unwrap(), [key]);
                }
            }
        });
    }
}
