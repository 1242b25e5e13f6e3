//! Display filters, as tshark's `-Y`: which frames a command shows, writes or reads.
//!
//! A [`Filter`] is parsed from Wireshark's language over the fields the decoder knows, by
//! tshark's names (`ip.addr == 192.0.2.11 && esp.spi == 0x1000a001`, `nhrp.hdr.op.type == 3`,
//! `eigrp`, `!isakmp`, `frame.number in {10..20, 35}`, `ip.addr == 10.0.0.0/8`):
//!
//! * a protocol or field name alone tests that it occurs in the frame;
//! * `==` `!=` `===` `~=` `<` `<=` `>` `>=` (and `eq` `ne` `all_eq` `any_ne` `lt` `le` `gt` `ge`)
//!   compare a field with a value: integers in decimal, `0x` hex or `0` octal; IPv4 and IPv6
//!   addresses or networks; MAC addresses; bytes in hex;
//! * `in {a, b, c..d}` and `not in {…}` test membership (commas or spaces between members);
//! * `&&`/`and`, `||`/`or` (`&&` binds tighter), `!`/`not`, parentheses.
//!
//! A field that occurs several times in a frame (`ip.addr`: source and destination, of the outer
//! and of every inner packet) follows Wireshark 4.0: `==` holds if any occurrence equals, `!=` if
//! none does (`all_ne`), `===` if all do, `~=` if any differs; the others hold if any occurrence
//! does. Every comparison is false when the field does not occur. An unknown name is an error
//! that names the column and the known names closest to it.
//!
//! ```
//! use dmvpn::capture::CaptureReader;
//! use dmvpn::decode::{Decoder, Summary};
//! use dmvpn::filter::{Filter, Filtered};
//! use dmvpn::keys::EspKeys;
//!
//! let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/../../testdata/dmvpn");
//! let filter = Filter::parse("esp.spi == 0x1000a001 && ip.src == 192.0.2.11")?;
//! let mut decoder = Decoder::new(EspKeys::from_file(format!("{dir}/phase1.esp_sa"))?);
//! let mut reader = CaptureReader::open(format!("{dir}/phase1.pcap"))?;
//! let mut sink = Filtered::new(&filter, Summary::default());
//! while let Some(frame) = reader.next_frame()? {
//!     decoder.decode(&frame, &mut sink);
//! }
//! assert_eq!(sink.matched(), 7);
//! assert_eq!(sink.inner().frames(), 7);
//! assert!(Filter::parse("ip.adr == 1").unwrap_err().to_string().contains("ip.addr"));
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

mod fields;
mod parser;

use std::fmt;

use crate::capture::Frame;
use crate::decode::{Decrypted, Layer, Sink, Summary};
use crate::output::Pending;
use fields::{Mask, Value, Values};
use parser::{Expr, Literal, Member, Relation};

/// Why a filter does not parse; the column counts characters from 1.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum FilterError {
    /// A name that is neither a field nor a protocol the decoder knows.
    #[error(
        "column {column}: `{name}` is neither a field nor a protocol name{}",
        suggest(close)
    )]
    UnknownField {
        /// Where the name starts.
        column: usize,
        /// The name.
        name: String,
        /// The known names closest to it.
        close: Vec<&'static str>,
    },
    /// A value that cannot be one of the field's.
    #[error("column {column}: `{value}` is not a value of `{field}`: expected {expected}")]
    BadValue {
        /// Where the value starts.
        column: usize,
        /// The value.
        value: String,
        /// The field.
        field: &'static str,
        /// What the field takes.
        expected: String,
    },
    /// Anything else the grammar does not allow.
    #[error("column {column}: {message}")]
    Syntax {
        /// Where.
        column: usize,
        /// What.
        message: String,
    },
}

impl FilterError {
    /// The column (in characters, from 1) the error points at.
    #[must_use]
    pub const fn column(&self) -> usize {
        match self {
            Self::UnknownField { column, .. }
            | Self::BadValue { column, .. }
            | Self::Syntax { column, .. } => *column,
        }
    }
}

fn suggest(close: &[&str]) -> String {
    match close {
        [] => String::new(),
        names => format!("; did you mean {}?", names.join(", ")),
    }
}

/// A parsed display filter.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Filter {
    expr: Expr,
    /// The fields it reads.
    wanted: Mask,
    text: String,
}

impl Filter {
    /// Parses a filter.
    ///
    /// # Errors
    ///
    /// An unknown field (with the closest names), a bad value or a syntax error, with its column.
    pub fn parse(text: &str) -> Result<Self, FilterError> {
        let expr = parser::parse(text)?;
        let mut wanted = Mask::default();
        collect(&expr, &mut wanted);
        Ok(Self {
            expr,
            wanted,
            text: text.to_owned(),
        })
    }

    /// A filter that keeps the frames whose numbers are in `ranges`: `10-20,35,100-` (tshark
    /// has no such option; this is the filter `frame.number in {10..20, 35}`, with `N-` open).
    ///
    /// # Errors
    ///
    /// A range that is not `N`, `N-M` or `N-` with `N <= M`.
    pub fn frames(ranges: &str) -> Result<Self, FilterError> {
        let mut members = Vec::new();
        let mut column = 1;
        for part in ranges.split(',') {
            let bad = || FilterError::BadValue {
                column,
                value: part.to_owned(),
                field: "frame.number",
                expected: "a frame number or range: N, N-M or N-".to_owned(),
            };
            let number = |text: &str| text.trim().parse::<u64>().map_err(|_| bad());
            let member = match part.split_once('-') {
                Some((low, "")) => {
                    Member::Range(Literal::Uint(number(low)?), Literal::Uint(u64::MAX))
                }
                Some((low, high)) => {
                    let (low, high) = (number(low)?, number(high)?);
                    if low > high {
                        return Err(bad());
                    }
                    Member::Range(Literal::Uint(low), Literal::Uint(high))
                }
                None => Member::One(Literal::Uint(number(part)?)),
            };
            members.push(member);
            column += part.chars().count() + 1;
        }
        let id = fields::lookup("frame.number").unwrap_or_default();
        let mut wanted = Mask::default();
        wanted.insert(id);
        Ok(Self {
            expr: Expr::In(id, members),
            wanted,
            text: format!("frame.number in {{{ranges}}}"),
        })
    }

    /// Both filters.
    #[must_use]
    pub fn and(self, other: Self) -> Self {
        let mut wanted = self.wanted;
        collect(&other.expr, &mut wanted);
        Self {
            text: format!("({}) && ({})", self.text, other.text),
            expr: Expr::And(vec![self.expr, other.expr]),
            wanted,
        }
    }

    /// The highest frame number the filter can keep, if it bounds `frame.number` (`--frames
    /// 1-100`): a reader may stop there.
    #[must_use]
    pub fn last_frame(&self) -> Option<u64> {
        last_frame(&self.expr)
    }

    fn matches(&self, values: &Values) -> bool {
        eval(&self.expr, values)
    }
}

impl fmt::Display for Filter {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.text)
    }
}

fn collect(expr: &Expr, wanted: &mut Mask) {
    match expr {
        Expr::And(all) | Expr::Or(all) => {
            for expr in all {
                collect(expr, wanted);
            }
        }
        Expr::Not(a) => collect(a, wanted),
        Expr::Exists(id) | Expr::Compare(id, ..) | Expr::In(id, _) => wanted.insert(*id),
        Expr::CompareFields(a, _, b) => {
            wanted.insert(*a);
            wanted.insert(*b);
        }
    }
}

fn last_frame(expr: &Expr) -> Option<u64> {
    let number = fields::lookup("frame.number");
    match expr {
        // All must hold: the lowest bound of any of them.
        Expr::And(all) => all.iter().filter_map(last_frame).min(),
        // Any may hold: a bound only if every one has one.
        Expr::Or(any) => any
            .iter()
            .map(last_frame)
            .try_fold(0, |max, last| Some(max.max(last?))),
        Expr::Compare(id, relation, Literal::Uint(n)) if Some(*id) == number => match relation {
            Relation::AnyEq | Relation::AllEq | Relation::Le => Some(*n),
            Relation::Lt => Some(n.saturating_sub(1)),
            _ => None,
        },
        Expr::In(id, members) if Some(*id) == number => members
            .iter()
            .map(|member| match member {
                Member::One(Literal::Uint(n)) | Member::Range(_, Literal::Uint(n)) => Some(*n),
                _ => None,
            })
            .try_fold(0, |max, n| Some(max.max(n?))),
        _ => None,
    }
}

fn eval(expr: &Expr, values: &Values) -> bool {
    match expr {
        Expr::And(all) => all.iter().all(|expr| eval(expr, values)),
        Expr::Or(any) => any.iter().any(|expr| eval(expr, values)),
        Expr::Not(a) => !eval(a, values),
        Expr::Exists(id) => values.of(*id).next().is_some(),
        Expr::Compare(id, relation, literal) => {
            let mut occurrences = values.of(*id).peekable();
            if occurrences.peek().is_none() {
                return false;
            }
            match relation {
                Relation::AnyEq => occurrences.any(|v| equals(v, literal)),
                Relation::AllEq => occurrences.all(|v| equals(v, literal)),
                Relation::AllNe => occurrences.all(|v| !equals(v, literal)),
                Relation::AnyNe => occurrences.any(|v| !equals(v, literal)),
                Relation::Lt => occurrences.any(|v| order(v, literal).is_some_and(|o| o.is_lt())),
                Relation::Le => occurrences.any(|v| order(v, literal).is_some_and(|o| o.is_le())),
                Relation::Gt => occurrences.any(|v| order(v, literal).is_some_and(|o| o.is_gt())),
                Relation::Ge => occurrences.any(|v| order(v, literal).is_some_and(|o| o.is_ge())),
            }
        }
        Expr::CompareFields(a, relation, b) => {
            let pairs = || {
                values
                    .of(*a)
                    .flat_map(|x| values.of(*b).map(move |y| (x, y)))
            };
            if pairs().next().is_none() {
                return false;
            }
            let order = |(x, y): (Value, Value)| compare_values(x, y);
            match relation {
                Relation::AnyEq => pairs().any(|p| order(p).is_some_and(|o| o.is_eq())),
                Relation::AllEq => pairs().all(|p| order(p).is_some_and(|o| o.is_eq())),
                Relation::AllNe => pairs().all(|p| order(p).is_some_and(|o| o.is_ne())),
                Relation::AnyNe => pairs().any(|p| order(p).is_some_and(|o| o.is_ne())),
                Relation::Lt => pairs().any(|p| order(p).is_some_and(|o| o.is_lt())),
                Relation::Le => pairs().any(|p| order(p).is_some_and(|o| o.is_le())),
                Relation::Gt => pairs().any(|p| order(p).is_some_and(|o| o.is_gt())),
                Relation::Ge => pairs().any(|p| order(p).is_some_and(|o| o.is_ge())),
            }
        }
        Expr::In(id, members) => values.of(*id).any(|v| {
            members.iter().any(|member| match member {
                Member::One(literal) => equals(v, literal),
                Member::Range(low, high) => {
                    order(v, low).is_some_and(|o| o.is_ge())
                        && order(v, high).is_some_and(|o| o.is_le())
                }
            })
        }),
    }
}

fn equals(value: Value, literal: &Literal) -> bool {
    match (value, literal) {
        (Value::Uint(v), Literal::Uint(l)) => v == *l,
        (Value::Ipv4(v), Literal::Ipv4 { net, mask }) => u32::from(v) & mask == *net,
        (Value::Ipv6(v), Literal::Ipv6 { net, mask }) => u128::from(v) & mask == *net,
        (Value::Mac(v), Literal::Mac(l)) => v == *l,
        (Value::Cookie(v), Literal::Bytes(l)) => v.as_slice() == l.as_slice(),
        _ => false,
    }
}

fn compare_values(a: Value, b: Value) -> Option<core::cmp::Ordering> {
    Some(match (a, b) {
        (Value::Present, Value::Present) => core::cmp::Ordering::Equal,
        (Value::Uint(a), Value::Uint(b)) => a.cmp(&b),
        (Value::Ipv4(a), Value::Ipv4(b)) => a.cmp(&b),
        (Value::Ipv6(a), Value::Ipv6(b)) => a.cmp(&b),
        (Value::Mac(a), Value::Mac(b)) => a.cmp(&b),
        (Value::Cookie(a), Value::Cookie(b)) => a.cmp(&b),
        _ => return None,
    })
}

fn order(value: Value, literal: &Literal) -> Option<core::cmp::Ordering> {
    Some(match (value, literal) {
        (Value::Uint(v), Literal::Uint(l)) => v.cmp(l),
        (Value::Ipv4(v), Literal::Ipv4 { net, .. }) => u32::from(v).cmp(net),
        (Value::Ipv6(v), Literal::Ipv6 { net, .. }) => u128::from(v).cmp(net),
        (Value::Mac(v), Literal::Mac(l)) => v.cmp(l),
        (Value::Cookie(v), Literal::Bytes(l)) => v.as_slice().cmp(l.as_slice()),
        _ => return None,
    })
}

/// A sink that can take back the frame it is in the middle of: a filter rejected it. Its output
/// for the frame (from `frame_start` on) is dropped; `frame_end` is not called.
pub trait Retract: Sink {
    /// What to go back to.
    type Mark;
    /// Called before `frame_start`.
    fn mark(&mut self) -> Self::Mark;
    /// Drops the frame begun after `mark`, instead of `frame_end`.
    fn retract(&mut self, mark: Self::Mark);
}

impl Retract for Summary {
    type Mark = Self;

    fn mark(&mut self) -> Self {
        self.clone()
    }

    fn retract(&mut self, mark: Self) {
        *self = mark;
    }
}

/// A [`Sink`] that passes on to `inner` only the frames the filter keeps (every frame is decoded:
/// the state that spans frames, replay windows and fragments, sees them all).
pub struct Filtered<'f, S: Retract> {
    filter: &'f Filter,
    inner: S,
    values: Values,
    mark: Option<S::Mark>,
    matched: u64,
}

impl<'f, S: Retract> Filtered<'f, S> {
    /// Filters what goes into `inner`.
    pub fn new(filter: &'f Filter, inner: S) -> Self {
        Self {
            filter,
            inner,
            values: Values::new(filter.wanted),
            mark: None,
            matched: 0,
        }
    }

    /// Frames kept so far.
    #[must_use]
    pub const fn matched(&self) -> u64 {
        self.matched
    }

    /// The sink inside.
    #[must_use]
    pub const fn inner(&self) -> &S {
        &self.inner
    }

    /// The sink inside.
    pub const fn inner_mut(&mut self) -> &mut S {
        &mut self.inner
    }

    /// The sink inside.
    pub fn into_inner(self) -> S {
        self.inner
    }
}

impl<S: Retract> Sink for Filtered<'_, S> {
    fn frame_start(&mut self, frame: &Frame<'_>) {
        self.values.frame_start(frame);
        self.mark = Some(self.inner.mark());
        self.inner.frame_start(frame);
    }

    fn layer(&mut self, layer: &Layer<'_>) {
        self.values.layer(layer);
        self.inner.layer(layer);
    }

    fn decrypted(&mut self, decrypted: &Decrypted<'_>) {
        self.inner.decrypted(decrypted);
    }

    fn truncated(&mut self) {
        self.inner.truncated();
    }

    fn frame_end(&mut self) {
        let mark = self.mark.take();
        if self.filter.matches(&self.values) {
            self.matched += 1;
            self.inner.frame_end();
        } else if let Some(mark) = mark {
            self.inner.retract(mark);
        }
    }
}

impl<S: Retract + Pending> Pending for Filtered<'_, S> {
    fn pending(&self) -> &[u8] {
        self.inner.pending()
    }

    fn clear_pending(&mut self) {
        self.inner.clear_pending();
    }

    fn take_pending(&mut self, taken: &mut Vec<u8>) {
        self.inner.take_pending(taken);
    }
}

/// Judges frames without passing them on: for commands that must see a frame's verdict before
/// they hand it on (`sessions`, which reads only the frames kept).
pub struct Judge<'f> {
    filter: &'f Filter,
    values: Values,
}

impl<'f> Judge<'f> {
    /// Judges with `filter`.
    #[must_use]
    pub fn new(filter: &'f Filter) -> Self {
        Self {
            filter,
            values: Values::new(filter.wanted),
        }
    }

    /// Whether the filter keeps the frame decoded last.
    #[must_use]
    pub fn keeps(&self) -> bool {
        self.filter.matches(&self.values)
    }
}

impl Sink for Judge<'_> {
    fn frame_start(&mut self, frame: &Frame<'_>) {
        self.values.frame_start(frame);
    }

    fn layer(&mut self, layer: &Layer<'_>) {
        self.values.layer(layer);
    }
}

/// The entry point of the fuzz target `fuzz/fuzz_targets/filter_parse.rs` (and its bolero twin in
/// the unit tests).
#[cfg(any(test, feature = "fuzzing"))]
#[doc(hidden)]
pub mod fuzzing {
    use super::fields::{FIELDS, Mask, Value, Values};
    use super::{Filter, FilterError};

    /// Parses arbitrary bytes (lossy UTF-8) as a display filter; panics only if an invariant
    /// breaks: an error's column lies within the text (or just past its end) and its message
    /// starts with it; a filter that parses prints back as given and evaluates on frames whose
    /// fields take values drawn from the input, never panicking.
    pub fn parse_bytes(data: &[u8]) {
        let text = String::from_utf8_lossy(data);
        match Filter::parse(&text) {
            Ok(filter) => {
                assert_eq!(filter.to_string(), text);
                let mut all = Mask::default();
                for id in 0..FIELDS.len() {
                    all.insert(u8::try_from(id).unwrap_or(u8::MAX));
                }
                // A frame with every field once or twice, its values taken from the input bytes.
                let mut values = Values::new(all);
                for (id, def) in FIELDS.iter().enumerate() {
                    let id = u8::try_from(id).unwrap_or(u8::MAX);
                    let byte = data
                        .get(usize::from(id) % data.len().max(1))
                        .copied()
                        .unwrap_or(0);
                    let value = match def.kind {
                        super::fields::Kind::Proto => Value::Present,
                        super::fields::Kind::Uint | super::fields::Kind::Bool => {
                            Value::Uint(u64::from(byte))
                        }
                        super::fields::Kind::Ipv4 => {
                            Value::Ipv4(std::net::Ipv4Addr::new(10, 0, 0, byte))
                        }
                        super::fields::Kind::Ipv6 => Value::Ipv6(std::net::Ipv6Addr::new(
                            0x2001,
                            0xdb8,
                            0,
                            0,
                            0,
                            0,
                            0,
                            u16::from(byte),
                        )),
                        super::fields::Kind::Mac => Value::Mac([2, 0, 0, 0, 0, byte]),
                        super::fields::Kind::Bytes => Value::Cookie([byte; 8]),
                    };
                    values.push_value(id, value);
                    if byte & 1 == 1 {
                        values.push_value(id, value);
                    }
                }
                let _ = filter.matches(&values);
                let _ = filter.matches(&Values::new(all));
                let _ = filter.last_frame();
            }
            Err(error) => {
                let column = error.column();
                assert!(column >= 1, "{error}");
                let len = text.chars().count();
                if !matches!(&error, FilterError::Syntax { message, .. } if message.contains("longer"))
                {
                    assert!(column <= len + 1, "{error}: column {column} of {len}");
                }
                assert!(error.to_string().starts_with(&format!("column {column}: ")));
            }
        }
    }
}

#[cfg(test)]
mod tests;
