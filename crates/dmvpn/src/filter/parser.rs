//! The display filter language: tokens, the syntax tree and the parser.
//!
//! ```text
//! expr    := and  (("||" | "or") and)*
//! and     := unary (("&&" | "and") unary)*
//! unary   := ("!" | "not") unary | "(" expr ")" | test
//! test    := FIELD                               presence
//!          | FIELD relation VALUE                 == != === ~= < <= > >= (eq ne all_eq any_ne lt le gt ge)
//!          | FIELD ["not"] "in" "{" item ([","] item)* "}"     item := VALUE | VALUE ".." VALUE
//! ```
//! `&&` binds tighter than `||`, as in Wireshark 4.0.

use std::net::{Ipv4Addr, Ipv6Addr};

use super::FilterError;
use super::fields::{self, Id, Kind};

/// How deep parentheses and `!` may nest: deeper input is an error, not a stack overflow.
const MAX_DEPTH: usize = 64;
/// The longest filter accepted (characters).
pub(crate) const MAX_LEN: usize = 64 * 1024;

/// A relation between a field's occurrences and a value (Wireshark 4.0's semantics).
#[derive(Clone, Copy, Debug, Eq, PartialEq)]
pub(crate) enum Relation {
    /// `==`, `eq`, `any_eq`: some occurrence equals.
    AnyEq,
    /// `===`, `all_eq`: every occurrence equals (and there is one).
    AllEq,
    /// `!=`, `ne`, `all_ne`: no occurrence equals (and there is one).
    AllNe,
    /// `~=`, `any_ne`: some occurrence differs.
    AnyNe,
    /// `<`, `lt`.
    Lt,
    /// `<=`, `le`.
    Le,
    /// `>`, `gt`.
    Gt,
    /// `>=`, `ge`.
    Ge,
}

/// A value in a filter, read as the field's kind says.
#[derive(Clone, Debug, Eq, PartialEq)]
pub(crate) enum Literal {
    /// An integer or a boolean.
    Uint(u64),
    /// An IPv4 address or network (`10.0.0.0/8`).
    Ipv4 {
        /// The address with the host bits cleared.
        net: u32,
        /// The network mask.
        mask: u32,
    },
    /// An IPv6 address or network.
    Ipv6 {
        /// The address with the host bits cleared.
        net: u128,
        /// The network mask.
        mask: u128,
    },
    /// A MAC address.
    Mac([u8; 6]),
    /// A byte string.
    Bytes(Vec<u8>),
}

/// One member of an `in {…}` set.
#[derive(Clone, Debug, Eq, PartialEq)]
pub(crate) enum Member {
    /// One value.
    One(Literal),
    /// Every value from the first to the second, both included.
    Range(Literal, Literal),
}

/// The syntax tree.
#[derive(Clone, Debug, Eq, PartialEq)]
pub(crate) enum Expr {
    /// All of them (n-ary, so that a long chain is a flat list, not a deep tree).
    And(Vec<Self>),
    /// Any of them.
    Or(Vec<Self>),
    /// Not.
    Not(Box<Self>),
    /// The field occurs in the frame.
    Exists(Id),
    /// A relation to a value.
    Compare(Id, Relation, Literal),
    /// A relation to another field of the same kind (`frame.cap_len < frame.len`).
    CompareFields(Id, Relation, Id),
    /// Some occurrence is in the set.
    In(Id, Vec<Member>),
}

#[derive(Clone, Debug, Eq, PartialEq)]
enum Token<'a> {
    LParen,
    RParen,
    LBrace,
    RBrace,
    Comma,
    And,
    Or,
    Not,
    In,
    Relation(Relation),
    /// A field name or an unquoted value.
    Word(&'a str),
    /// A quoted string, unescaped.
    Quoted(String),
}

impl Token<'_> {
    fn describe(&self) -> String {
        match self {
            Self::LParen => "`(`".to_owned(),
            Self::RParen => "`)`".to_owned(),
            Self::LBrace => "`{`".to_owned(),
            Self::RBrace => "`}`".to_owned(),
            Self::Comma => "`,`".to_owned(),
            Self::And => "`&&`".to_owned(),
            Self::Or => "`||`".to_owned(),
            Self::Not => "`!`".to_owned(),
            Self::In => "`in`".to_owned(),
            Self::Relation(_) => "a comparison".to_owned(),
            Self::Word(word) => format!("`{word}`"),
            Self::Quoted(text) => format!("\"{text}\""),
        }
    }
}

/// A token and the column (1-based, in characters) where it starts.
type Spanned<'a> = (Token<'a>, usize);

fn is_word_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || matches!(c, '_' | '.' | ':' | '/' | '-')
}

fn lex(text: &str) -> Result<Vec<Spanned<'_>>, FilterError> {
    let mut tokens = Vec::new();
    let mut chars = text.char_indices().peekable();
    // The column of each character's first byte, computed once (counting for each token would
    // make a long filter quadratic).
    let mut columns = vec![0; text.len() + 1];
    for (column, (at, _)) in text.char_indices().enumerate() {
        if let Some(slot) = columns.get_mut(at) {
            *slot = column + 1;
        }
    }
    let column = |at: usize| columns.get(at).copied().unwrap_or(1);
    while let Some(&(at, c)) = chars.peek() {
        let col = column(at);
        let two = text.get(at..at + 2).unwrap_or_default();
        let three = text.get(at..at + 3).unwrap_or_default();
        let (token, len) = match c {
            c if c.is_whitespace() => {
                chars.next();
                continue;
            }
            '(' => (Token::LParen, 1),
            ')' => (Token::RParen, 1),
            '{' => (Token::LBrace, 1),
            '}' => (Token::RBrace, 1),
            ',' => (Token::Comma, 1),
            '&' if two == "&&" => (Token::And, 2),
            '|' if two == "||" => (Token::Or, 2),
            '=' if three == "===" => (Token::Relation(Relation::AllEq), 3),
            '=' if two == "==" => (Token::Relation(Relation::AnyEq), 2),
            '!' if two == "!=" => (Token::Relation(Relation::AllNe), 2),
            '!' => (Token::Not, 1),
            '~' if two == "~=" => (Token::Relation(Relation::AnyNe), 2),
            '<' if two == "<=" => (Token::Relation(Relation::Le), 2),
            '<' => (Token::Relation(Relation::Lt), 1),
            '>' if two == ">=" => (Token::Relation(Relation::Ge), 2),
            '>' => (Token::Relation(Relation::Gt), 1),
            '"' => {
                chars.next();
                let mut unescaped = String::new();
                let mut closed = false;
                while let Some((_, c)) = chars.next() {
                    match c {
                        '"' => {
                            closed = true;
                            break;
                        }
                        '\\' => match chars.next() {
                            Some((_, escaped)) => unescaped.push(escaped),
                            None => break,
                        },
                        c => unescaped.push(c),
                    }
                }
                if !closed {
                    return Err(FilterError::Syntax {
                        column: col,
                        message: "this string has no closing `\"`".to_owned(),
                    });
                }
                tokens.push((Token::Quoted(unescaped), col));
                continue;
            }
            c if is_word_char(c) => {
                let end = text
                    .get(at..)
                    .and_then(|rest| rest.find(|c: char| !is_word_char(c)))
                    .map_or(text.len(), |len| at + len);
                let word = text.get(at..end).unwrap_or_default();
                while chars.peek().is_some_and(|&(i, _)| i < end) {
                    chars.next();
                }
                let token = match word {
                    "and" => Token::And,
                    "or" => Token::Or,
                    "not" => Token::Not,
                    "in" => Token::In,
                    "eq" | "any_eq" => Token::Relation(Relation::AnyEq),
                    "all_eq" => Token::Relation(Relation::AllEq),
                    "ne" | "all_ne" => Token::Relation(Relation::AllNe),
                    "any_ne" => Token::Relation(Relation::AnyNe),
                    "lt" => Token::Relation(Relation::Lt),
                    "le" => Token::Relation(Relation::Le),
                    "gt" => Token::Relation(Relation::Gt),
                    "ge" => Token::Relation(Relation::Ge),
                    word => Token::Word(word),
                };
                tokens.push((token, col));
                continue;
            }
            c => {
                return Err(FilterError::Syntax {
                    column: col,
                    message: format!("unexpected character `{c}`"),
                });
            }
        };
        tokens.push((token, col));
        for _ in 0..len {
            chars.next();
        }
    }
    Ok(tokens)
}

/// Parses a whole filter.
pub(crate) fn parse(text: &str) -> Result<Expr, FilterError> {
    if text.chars().count() > MAX_LEN {
        return Err(FilterError::Syntax {
            column: MAX_LEN,
            message: format!("the filter is longer than {MAX_LEN} characters"),
        });
    }
    let tokens = lex(text)?;
    let end = text.chars().count() + 1;
    let mut parser = Parser {
        tokens,
        next: 0,
        end,
        depth: 0,
    };
    if parser.tokens.is_empty() {
        return Err(FilterError::Syntax {
            column: 1,
            message: "the filter is empty".to_owned(),
        });
    }
    let expr = parser.or()?;
    if let Some((token, column)) = parser.tokens.get(parser.next) {
        return Err(FilterError::Syntax {
            column: *column,
            message: format!("{} was unexpected here", token.describe()),
        });
    }
    Ok(expr)
}

struct Parser<'a> {
    tokens: Vec<Spanned<'a>>,
    next: usize,
    /// The column after the last character (where "the filter ends" errors point).
    end: usize,
    depth: usize,
}

impl<'a> Parser<'a> {
    fn peek(&self) -> Option<&Token<'a>> {
        self.tokens.get(self.next).map(|(token, _)| token)
    }

    fn column(&self) -> usize {
        self.tokens.get(self.next).map_or(self.end, |&(_, col)| col)
    }

    fn bump(&mut self) -> Option<Spanned<'a>> {
        let token = self.tokens.get(self.next).cloned();
        self.next += 1;
        token
    }

    fn expected(&self, what: &str) -> FilterError {
        let message = match self.peek() {
            Some(token) => format!("expected {what}, found {}", token.describe()),
            None => format!("expected {what}, but the filter ends"),
        };
        FilterError::Syntax {
            column: self.column(),
            message,
        }
    }

    fn nested<T>(
        &mut self,
        f: impl FnOnce(&mut Self) -> Result<T, FilterError>,
    ) -> Result<T, FilterError> {
        if self.depth >= MAX_DEPTH {
            return Err(FilterError::Syntax {
                column: self.column(),
                message: format!("nested more than {MAX_DEPTH} deep"),
            });
        }
        self.depth += 1;
        let result = f(self);
        self.depth -= 1;
        result
    }

    fn or(&mut self) -> Result<Expr, FilterError> {
        self.joined(&Token::Or, Self::and, Expr::Or)
    }

    fn and(&mut self) -> Result<Expr, FilterError> {
        self.joined(&Token::And, Self::unary, Expr::And)
    }

    /// One `operand`, or several joined by `op` (one flat list, not a nested pair per `op`).
    fn joined(
        &mut self,
        op: &Token<'_>,
        operand: fn(&mut Self) -> Result<Expr, FilterError>,
        join: fn(Vec<Expr>) -> Expr,
    ) -> Result<Expr, FilterError> {
        let first = operand(self)?;
        if self.peek() != Some(op) {
            return Ok(first);
        }
        let mut operands = vec![first];
        while self.peek() == Some(op) {
            self.next += 1;
            operands.push(operand(self)?);
        }
        Ok(join(operands))
    }

    fn unary(&mut self) -> Result<Expr, FilterError> {
        match self.peek() {
            Some(Token::Not) => {
                self.next += 1;
                let inner = self.nested(Self::unary)?;
                Ok(Expr::Not(Box::new(inner)))
            }
            Some(Token::LParen) => {
                self.next += 1;
                let inner = self.nested(Self::or)?;
                if self.peek() != Some(&Token::RParen) {
                    return Err(self.expected("`)`"));
                }
                self.next += 1;
                Ok(inner)
            }
            Some(Token::Word(_)) => self.test(),
            _ => Err(self.expected("a field or protocol name")),
        }
    }

    fn test(&mut self) -> Result<Expr, FilterError> {
        let Some((Token::Word(name), column)) = self.bump() else {
            return Err(self.expected("a field or protocol name"));
        };
        let Some(id) = fields::lookup(name) else {
            return Err(FilterError::UnknownField {
                column,
                name: name.to_owned(),
                close: fields::close_to(name),
            });
        };
        let kind = fields::def_of(id).kind;
        let compared = matches!(self.peek(), Some(Token::Relation(_) | Token::In))
            || (self.peek() == Some(&Token::Not)
                && matches!(self.tokens.get(self.next + 1), Some((Token::In, _))));
        if compared && kind == Kind::Proto {
            return Err(FilterError::Syntax {
                column: self.column(),
                message: format!(
                    "`{name}` is a protocol: it can only be tested for presence (`{name}`, `!{name}`)"
                ),
            });
        }
        match self.peek() {
            Some(Token::Relation(relation)) => {
                let relation = *relation;
                self.next += 1;
                // A field name on the right compares two fields, as Wireshark does.
                if let Some(Token::Word(word)) = self.peek()
                    && let Some(other) = fields::lookup(word)
                    && fields::def_of(other).kind == kind
                {
                    self.next += 1;
                    return Ok(Expr::CompareFields(id, relation, other));
                }
                let literal = self.literal(id)?;
                Ok(Expr::Compare(id, relation, literal))
            }
            Some(Token::In) => {
                self.next += 1;
                Ok(Expr::In(id, self.set(id)?))
            }
            Some(Token::Not) if compared => {
                self.next += 2;
                Ok(Expr::Not(Box::new(Expr::In(id, self.set(id)?))))
            }
            _ => Ok(Expr::Exists(id)),
        }
    }

    fn set(&mut self, id: Id) -> Result<Vec<Member>, FilterError> {
        if self.peek() != Some(&Token::LBrace) {
            return Err(self.expected("`{`"));
        }
        self.next += 1;
        let mut members = Vec::new();
        loop {
            match self.peek() {
                Some(Token::RBrace) if !members.is_empty() => {
                    self.next += 1;
                    return Ok(members);
                }
                Some(Token::Comma) if !members.is_empty() => self.next += 1,
                _ => {}
            }
            let Some((token, column)) = self.bump() else {
                return Err(self.expected("a value or `}`"));
            };
            let text = match token {
                Token::Word(word) => word.to_owned(),
                Token::Quoted(text) => text,
                token => {
                    return Err(FilterError::Syntax {
                        column,
                        message: format!("expected a value, found {}", token.describe()),
                    });
                }
            };
            // `1..5`, `1.. 5`, `1 ..5` and `1 .. 5` are one range.
            let (low, mut high) = match text.split_once("..") {
                Some((low, high)) => (low.to_owned(), Some(high.to_owned())),
                None => (text, None),
            };
            if high.is_none()
                && let Some(Token::Word(next)) = self.peek()
                && let Some(rest) = next.strip_prefix("..")
            {
                high = Some(rest.to_owned());
                self.next += 1;
            }
            if high.as_deref() == Some("") {
                match self.bump() {
                    Some((Token::Word(word), _)) => high = Some(word.to_owned()),
                    Some((Token::Quoted(text), _)) => high = Some(text),
                    _ => {
                        self.next -= 1;
                        return Err(self.expected("the end of the range"));
                    }
                }
            }
            let low = read_literal(id, &low, column)?;
            members.push(match high {
                Some(high) => Member::Range(low, read_literal(id, &high, column)?),
                None => Member::One(low),
            });
        }
    }

    fn literal(&mut self, id: Id) -> Result<Literal, FilterError> {
        match self.bump() {
            Some((Token::Word(word), column)) => read_literal(id, word, column),
            Some((Token::Quoted(text), column)) => read_literal(id, &text, column),
            _ => {
                self.next -= 1;
                Err(self.expected("a value"))
            }
        }
    }
}

/// Reads `text` as a value of field `id`.
fn read_literal(id: Id, text: &str, column: usize) -> Result<Literal, FilterError> {
    let def = fields::def_of(id);
    let bad = |expected: &str| FilterError::BadValue {
        column,
        value: text.to_owned(),
        field: def.name,
        expected: expected.to_owned(),
    };
    match def.kind {
        Kind::Proto => Err(bad("nothing: a protocol is only tested for presence")),
        Kind::Uint => read_uint(text)
            .map(Literal::Uint)
            .ok_or_else(|| bad("an unsigned integer (decimal, 0x hex or 0 octal)")),
        Kind::Bool => match text {
            "1" | "True" | "TRUE" | "true" => Ok(Literal::Uint(1)),
            "0" | "False" | "FALSE" | "false" => Ok(Literal::Uint(0)),
            _ => Err(bad("1, 0, True or False")),
        },
        Kind::Ipv4 => {
            let (address, len) =
                split_prefix(text, 32).ok_or_else(|| bad("an IPv4 address or network"))?;
            let address: Ipv4Addr = address
                .parse()
                .map_err(|_| bad("an IPv4 address or network (A.B.C.D or A.B.C.D/LEN)"))?;
            let mask = u32::MAX.checked_shl(32 - len).unwrap_or(0);
            Ok(Literal::Ipv4 {
                net: u32::from(address) & mask,
                mask,
            })
        }
        Kind::Ipv6 => {
            let (address, len) =
                split_prefix(text, 128).ok_or_else(|| bad("an IPv6 address or network"))?;
            let address: Ipv6Addr = address
                .parse()
                .map_err(|_| bad("an IPv6 address or network (X:X::X or X:X::X/LEN)"))?;
            let mask = u128::MAX.checked_shl(128 - len).unwrap_or(0);
            Ok(Literal::Ipv6 {
                net: u128::from(address) & mask,
                mask,
            })
        }
        Kind::Mac => read_bytes(text)
            .and_then(|bytes| <[u8; 6]>::try_from(bytes).ok())
            .map(Literal::Mac)
            .ok_or_else(|| bad("a MAC address (aa:bb:cc:dd:ee:ff)")),
        Kind::Bytes => read_bytes(text)
            .filter(|bytes| !bytes.is_empty())
            .map(Literal::Bytes)
            .ok_or_else(|| bad("bytes in hex (a1:b2:c3… or a1b2c3…)")),
    }
}

/// `text` and its prefix length (`max` without one).
fn split_prefix(text: &str, max: u32) -> Option<(&str, u32)> {
    match text.split_once('/') {
        Some((address, len)) => {
            let len: u32 = len.parse().ok().filter(|&len| len <= max)?;
            Some((address, len))
        }
        None => Some((text, max)),
    }
}

/// An unsigned integer as Wireshark reads one: `0x` hex, a leading `0` octal, else decimal.
fn read_uint(text: &str) -> Option<u64> {
    if let Some(hex) = text.strip_prefix("0x").or_else(|| text.strip_prefix("0X")) {
        u64::from_str_radix(hex, 16).ok()
    } else if let Some(binary) = text.strip_prefix("0b").or_else(|| text.strip_prefix("0B")) {
        u64::from_str_radix(binary, 2).ok()
    } else if text.len() > 1 && text.starts_with('0') {
        u64::from_str_radix(text.get(1..)?, 8).ok()
    } else if text.bytes().all(|b| b.is_ascii_digit()) {
        text.parse().ok()
    } else {
        None
    }
}

/// Hex bytes: `a1:b2:c3`, `a1-b2-c3`, `a1.b2.c3`, `a1b2c3`, or Cisco's `0200.0000.0001`.
fn read_bytes(text: &str) -> Option<Vec<u8>> {
    let digits: String = if text.contains(['.', ':', '-']) {
        let groups: Vec<&str> = text.split(['.', ':', '-']).collect();
        let pairs = groups.iter().all(|g| g.len() == 2);
        let quads = groups.iter().all(|g| g.len() == 4);
        if !pairs && !quads {
            return None;
        }
        groups.concat()
    } else {
        text.to_owned()
    };
    if !digits.len().is_multiple_of(2) || digits.len() > 2048 {
        return None;
    }
    (0..digits.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(digits.get(i..i + 2)?, 16).ok())
        .collect()
}
