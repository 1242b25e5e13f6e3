//! The lexer of Wireshark's UAT key tables (`esp_sa`): a line split into comma-separated fields,
//! each quoted (with `\\`, `\"` and `\xHH` escapes) or bare, with its 1-based column.

use super::error::ParseErrorKind;

/// A field of a line: its text (unescaped) and 1-based column.
pub(super) struct Field {
    pub(super) text: String,
    pub(super) column: usize,
    pub(super) quoted: bool,
}

impl Field {
    /// The error `kind` makes of this field's text, at its column.
    pub(super) fn error(&self, kind: impl FnOnce(String) -> ParseErrorKind) -> LineError {
        err(self.column, kind(self.text.clone()))
    }
}

/// A parse error at a column of the current line.
pub(super) struct LineError {
    pub(super) column: usize,
    pub(super) kind: ParseErrorKind,
}

pub(super) const fn err(column: usize, kind: ParseErrorKind) -> LineError {
    LineError { column, kind }
}

/// Splits a line into fields.
pub(super) fn split_fields(line: &str) -> Result<Vec<Field>, LineError> {
    let chars: Vec<char> = line.chars().collect();
    let mut fields = Vec::new();
    let mut i = 0;
    loop {
        while chars.get(i).is_some_and(|c| *c == ' ' || *c == '\t') {
            i += 1;
        }
        let column = i + 1;
        let mut text = String::new();
        let quoted = chars.get(i) == Some(&'"');
        if quoted {
            i += 1;
            loop {
                match chars.get(i) {
                    None => return Err(err(column, ParseErrorKind::UnterminatedQuote)),
                    Some('"') => {
                        i += 1;
                        break;
                    }
                    Some('\\') => {
                        let escape_column = i + 1;
                        match chars.get(i + 1) {
                            Some(c @ ('\\' | '"')) => {
                                text.push(*c);
                                i += 2;
                            }
                            Some('x') => {
                                let hex: String = chars.iter().skip(i + 2).take(2).collect();
                                let Some(byte) = (hex.len() == 2)
                                    .then(|| u8::from_str_radix(&hex, 16).ok())
                                    .flatten()
                                else {
                                    return Err(err(
                                        escape_column,
                                        ParseErrorKind::BadEscape {
                                            found: format!("\\x{hex}"),
                                        },
                                    ));
                                };
                                text.push(char::from(byte));
                                i += 4;
                            }
                            other => {
                                let found =
                                    other.map_or_else(|| "\\".to_owned(), |c| format!("\\{c}"));
                                return Err(err(
                                    escape_column,
                                    ParseErrorKind::BadEscape { found },
                                ));
                            }
                        }
                    }
                    Some(c) => {
                        text.push(*c);
                        i += 1;
                    }
                }
            }
        } else {
            while let Some(c) = chars.get(i).filter(|c| **c != ',') {
                text.push(*c);
                i += 1;
            }
            let trimmed = text.trim_end().len();
            text.truncate(trimmed);
        }
        fields.push(Field {
            text,
            column,
            quoted,
        });
        while chars.get(i).is_some_and(|c| *c == ' ' || *c == '\t') {
            i += 1;
        }
        match chars.get(i) {
            None => return Ok(fields),
            Some(',') => i += 1,
            Some(found) => return Err(err(i + 1, ParseErrorKind::ExpectedComma { found: *found })),
        }
    }
}
