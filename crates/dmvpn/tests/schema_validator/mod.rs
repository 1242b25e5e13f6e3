//! A small JSON Schema (draft 2020-12) validator for the subset of keywords `crates/dmvpn/schemas/`
//! uses, so the tests can check dmvpn's JSON output against the schemas it ships.
//!
//! Why not the `jsonschema` crate: even with its default features off it brings about forty crates
//! (two regex engines, URL and IDNA handling, a reference resolver) into the dev-dependencies of a
//! workspace that otherwise has no regex at all, and a CI machine builds them from scratch. Our
//! schemas need only the keywords below; a schema that uses any other keyword, or a `format` or
//! `pattern` syntax this validator does not know, is refused by [`Validator::new`] rather than
//! silently half-checked. The validator is itself tested below, keyword by keyword.
//!
//! Supported: `$schema $id title description $comment $defs` (annotations), `$ref` (to
//! `#/$defs/NAME`), `type` (one or a list), `enum`, `const`, `properties`, `required`,
//! `additionalProperties`, `items`, `minItems`, `maxItems`, `minimum`, `maximum`, `pattern` (the
//! regex subset of [`Regex`]), `format` (`date-time`, `ipv4`, `ipv6`, asserted), `allOf`, `anyOf`,
//! `not`, `if`/`then`/`else`, and the boolean schemas `true` and `false`.

#![allow(dead_code, clippy::unwrap_used, clippy::expect_used)]

use std::net::{Ipv4Addr, Ipv6Addr};

use serde_json::{Map, Value};

const ANNOTATIONS: &[&str] = &["$schema", "$id", "title", "description", "$comment"];
const KEYWORDS: &[&str] = &[
    "$defs",
    "$ref",
    "type",
    "enum",
    "const",
    "properties",
    "required",
    "additionalProperties",
    "items",
    "minItems",
    "maxItems",
    "minimum",
    "maximum",
    "pattern",
    "format",
    "allOf",
    "anyOf",
    "not",
    "if",
    "then",
    "else",
];
const FORMATS: &[&str] = &["date-time", "ipv4", "ipv6"];

/// A schema checked for supported keywords, ready to validate instances.
pub(crate) struct Validator {
    root: Value,
}

impl Validator {
    /// Checks that `root` uses only the supported keywords, formats, patterns and references.
    pub(crate) fn new(root: Value) -> Result<Self, String> {
        check_schema(&root, &root, "#")?;
        Ok(Self { root })
    }

    /// Every way `instance` breaks the schema, each as `PATH: what` (empty when it is valid).
    pub(crate) fn errors(&self, instance: &Value) -> Vec<String> {
        let mut errors = Vec::new();
        self.check(&self.root, instance, "", &mut errors);
        errors
    }

    fn resolve(&self, reference: &str) -> &Value {
        // Checked by `check_schema`.
        let name = reference.strip_prefix("#/$defs/").unwrap();
        &self.root["$defs"][name]
    }

    fn valid(&self, schema: &Value, instance: &Value) -> bool {
        let mut errors = Vec::new();
        self.check(schema, instance, "", &mut errors);
        errors.is_empty()
    }

    fn check(&self, schema: &Value, instance: &Value, path: &str, errors: &mut Vec<String>) {
        let schema = match schema {
            Value::Bool(true) => return,
            Value::Bool(false) => return errors.push(format!("{path}: no value is allowed here")),
            Value::Object(schema) => schema,
            _ => unreachable!("checked by check_schema"),
        };
        let mut fail = |what: String| errors.push(format!("{path}: {what}"));
        if let Some(types) = schema.get("type") {
            let types: Vec<&str> = match types {
                Value::String(one) => vec![one],
                list => list
                    .as_array()
                    .unwrap()
                    .iter()
                    .map(|t| t.as_str().unwrap())
                    .collect(),
            };
            if !types.iter().any(|ty| has_type(instance, ty)) {
                fail(format!(
                    "{} is not of type {}",
                    short(instance),
                    types.join(" or ")
                ));
            }
        }
        if let Some(value) = schema.get("const")
            && !same(value, instance)
        {
            fail(format!("{} is not {value}", short(instance)));
        }
        if let Some(list) = schema.get("enum")
            && !list.as_array().unwrap().iter().any(|v| same(v, instance))
        {
            fail(format!("{} is not one of {list}", short(instance)));
        }
        if let Some(n) = instance.as_f64() {
            if let Some(min) = schema.get("minimum").and_then(Value::as_f64)
                && n < min
            {
                fail(format!("{n} is less than {min}"));
            }
            if let Some(max) = schema.get("maximum").and_then(Value::as_f64)
                && n > max
            {
                fail(format!("{n} is more than {max}"));
            }
        }
        if let Some(text) = instance.as_str() {
            if let Some(pattern) = schema.get("pattern").and_then(Value::as_str)
                && !Regex::new(pattern).unwrap().is_match(text)
            {
                fail(format!("{text:?} does not match {pattern}"));
            }
            if let Some(format) = schema.get("format").and_then(Value::as_str)
                && !format_ok(format, text)
            {
                fail(format!("{text:?} is not a valid {format}"));
            }
        }
        if let Some(items) = instance.as_array() {
            let count = |key| schema.get(key).and_then(Value::as_u64);
            if count("minItems").is_some_and(|min| (items.len() as u64) < min) {
                fail(format!("{} item(s), fewer than minItems", items.len()));
            }
            if count("maxItems").is_some_and(|max| (items.len() as u64) > max) {
                fail(format!("{} item(s), more than maxItems", items.len()));
            }
        }
        if let Some(object) = instance.as_object() {
            self.check_object(schema, object, path, errors);
        }
        if let (Some(item), Some(items)) = (schema.get("items"), instance.as_array()) {
            for (i, value) in items.iter().enumerate() {
                self.check(item, value, &format!("{path}/{i}"), errors);
            }
        }
        if let Some(reference) = schema.get("$ref").and_then(Value::as_str) {
            self.check(self.resolve(reference), instance, path, errors);
        }
        if let Some(all) = schema.get("allOf").and_then(Value::as_array) {
            for sub in all {
                self.check(sub, instance, path, errors);
            }
        }
        if let Some(any) = schema.get("anyOf").and_then(Value::as_array)
            && !any.iter().any(|sub| self.valid(sub, instance))
        {
            errors.push(format!("{path}: {} matches none of anyOf", short(instance)));
        }
        if let Some(not) = schema.get("not")
            && self.valid(not, instance)
        {
            errors.push(format!(
                "{path}: {} matches the `not` schema",
                short(instance)
            ));
        }
        if let Some(condition) = schema.get("if") {
            let branch = if self.valid(condition, instance) {
                schema.get("then")
            } else {
                schema.get("else")
            };
            if let Some(branch) = branch {
                self.check(branch, instance, path, errors);
            }
        }
    }

    fn check_object(
        &self,
        schema: &Map<String, Value>,
        object: &Map<String, Value>,
        path: &str,
        errors: &mut Vec<String>,
    ) {
        for name in schema
            .get("required")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
        {
            let name = name.as_str().unwrap();
            if !object.contains_key(name) {
                errors.push(format!("{path}: missing required member {name:?}"));
            }
        }
        let properties = schema.get("properties").and_then(Value::as_object);
        for (name, value) in object {
            let at = format!("{path}/{name}");
            match properties.and_then(|p| p.get(name)) {
                Some(sub) => self.check(sub, value, &at, errors),
                None => {
                    if let Some(extra) = schema.get("additionalProperties") {
                        if extra == &Value::Bool(false) {
                            errors.push(format!("{path}: member {name:?} is not allowed"));
                        } else {
                            self.check(extra, value, &at, errors);
                        }
                    }
                }
            }
        }
    }
}

fn has_type(value: &Value, ty: &str) -> bool {
    match ty {
        "object" => value.is_object(),
        "array" => value.is_array(),
        "string" => value.is_string(),
        "boolean" => value.is_boolean(),
        "null" => value.is_null(),
        "number" => value.is_number(),
        // 2020-12: a number with a zero fractional part is an integer (1.0 too).
        "integer" => {
            value.is_u64() || value.is_i64() || value.as_f64().is_some_and(|n| n.fract() == 0.0)
        }
        _ => false,
    }
}

/// JSON Schema equality: numbers compare by value (1 == 1.0), the rest structurally.
fn same(a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::Number(x), Value::Number(y)) => x.as_f64() == y.as_f64(),
        (Value::Array(x), Value::Array(y)) => {
            x.len() == y.len() && x.iter().zip(y).all(|(x, y)| same(x, y))
        }
        (Value::Object(x), Value::Object(y)) => {
            x.len() == y.len() && x.iter().all(|(k, v)| y.get(k).is_some_and(|w| same(v, w)))
        }
        _ => a == b,
    }
}

fn short(value: &Value) -> String {
    let text = value.to_string();
    match text.char_indices().nth(60) {
        Some((at, _)) => format!("{}…", &text[..at]),
        None => text,
    }
}

fn format_ok(format: &str, text: &str) -> bool {
    match format {
        "ipv4" => text.parse::<Ipv4Addr>().is_ok(),
        "ipv6" => text.parse::<Ipv6Addr>().is_ok(),
        "date-time" => date_time_ok(text),
        _ => unreachable!("checked by check_schema"),
    }
}

/// The days of `month` (1 to 12) in `year` of the Gregorian calendar.
pub(crate) fn days_in_month(year: u32, month: u32) -> u32 {
    let leap = year.is_multiple_of(4) && (!year.is_multiple_of(100) || year.is_multiple_of(400));
    match month {
        2 if leap => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

/// RFC 3339 §5.6 `date-time`: `YYYY-MM-DDTHH:MM:SS[.frac](Z|±HH:MM)`, with real dates (leap
/// years) and a leap second allowed as second 60. `T` and `Z` may be lower case (§5.6 note).
fn date_time_ok(text: &str) -> bool {
    let b = text.as_bytes();
    let digits = |range: std::ops::Range<usize>| -> Option<u32> {
        let part = b.get(range)?;
        part.iter()
            .all(u8::is_ascii_digit)
            .then(|| part.iter().fold(0, |n, d| n * 10 + u32::from(d - b'0')))
    };
    let sep = |at: usize, c: u8| b.get(at).is_some_and(|x| x.eq_ignore_ascii_case(&c));
    let (Some(year), Some(month), Some(day), Some(hour), Some(minute), Some(second)) = (
        digits(0..4),
        digits(5..7),
        digits(8..10),
        digits(11..13),
        digits(14..16),
        digits(17..19),
    ) else {
        return false;
    };
    if !(sep(4, b'-') && sep(7, b'-') && sep(10, b'T') && sep(13, b':') && sep(16, b':')) {
        return false;
    }
    if !(1..=12).contains(&month)
        || day == 0
        || day > days_in_month(year, month)
        || hour > 23
        || minute > 59
        || second > 60
    {
        return false;
    }
    let mut at = 19;
    if b.get(at) == Some(&b'.') {
        let start = at + 1;
        at = start;
        while b.get(at).is_some_and(u8::is_ascii_digit) {
            at += 1;
        }
        if at == start {
            return false;
        }
    }
    match b.get(at..) {
        Some([z]) if z.eq_ignore_ascii_case(&b'Z') => true,
        Some([b'+' | b'-', ..]) => {
            let (Some(h), Some(m)) = (digits(at + 1..at + 3), digits(at + 4..at + 6)) else {
                return false;
            };
            sep(at + 3, b':') && b.len() == at + 6 && h <= 23 && m <= 59
        }
        _ => false,
    }
}

/// Checks a schema (recursively) for keywords, formats, patterns and references this validator
/// supports.
fn check_schema(schema: &Value, root: &Value, path: &str) -> Result<(), String> {
    let object = match schema {
        Value::Bool(_) => return Ok(()),
        Value::Object(object) => object,
        _ => return Err(format!("{path}: a schema is an object or a boolean")),
    };
    for (key, value) in object {
        let at = format!("{path}/{key}");
        if ANNOTATIONS.contains(&key.as_str()) {
            continue;
        }
        if !KEYWORDS.contains(&key.as_str()) {
            return Err(format!("{at}: keyword not supported by this validator"));
        }
        match key.as_str() {
            "$defs" | "properties" => {
                let map = value.as_object().ok_or(format!("{at}: not an object"))?;
                for (name, sub) in map {
                    check_schema(sub, root, &format!("{at}/{name}"))?;
                }
            }
            "$ref" => {
                let name = value
                    .as_str()
                    .and_then(|r| r.strip_prefix("#/$defs/"))
                    .ok_or(format!("{at}: only #/$defs/NAME references are supported"))?;
                if root["$defs"].get(name).is_none() {
                    return Err(format!("{at}: no $defs/{name}"));
                }
            }
            "type" => {
                let known = |t: &Value| {
                    t.as_str().is_some_and(|t| {
                        [
                            "object", "array", "string", "boolean", "null", "number", "integer",
                        ]
                        .contains(&t)
                    })
                };
                let ok = match value {
                    Value::Array(list) => list.iter().all(known),
                    one => known(one),
                };
                if !ok {
                    return Err(format!("{at}: unknown type {value}"));
                }
            }
            "enum" if !value.is_array() => return Err(format!("{at}: not an array")),
            "required"
                if !value
                    .as_array()
                    .is_some_and(|l| l.iter().all(Value::is_string)) =>
            {
                return Err(format!("{at}: not an array of names"));
            }
            "minItems" | "maxItems" if !value.is_u64() => {
                return Err(format!("{at}: not a count"));
            }
            "minimum" | "maximum" if !value.is_number() => {
                return Err(format!("{at}: not a number"));
            }
            "pattern" => {
                let pattern = value.as_str().ok_or(format!("{at}: not a string"))?;
                Regex::new(pattern).map_err(|e| format!("{at}: {e}"))?;
            }
            "format" if !value.as_str().is_some_and(|f| FORMATS.contains(&f)) => {
                return Err(format!("{at}: format {value} not supported"));
            }
            "allOf" | "anyOf" => {
                let list = value.as_array().ok_or(format!("{at}: not an array"))?;
                for (i, sub) in list.iter().enumerate() {
                    check_schema(sub, root, &format!("{at}/{i}"))?;
                }
            }
            "items" | "additionalProperties" | "not" | "if" | "then" | "else" => {
                check_schema(value, root, &at)?;
            }
            _ => {}
        }
    }
    Ok(())
}

/// The regular expressions JSON Schema `pattern`s use here (ECMA-262 syntax, unanchored search):
/// literals, `\` escapes (`\d`, `\w`, `\s` and escaped punctuation), `.`, classes `[a-f0-9:]` and
/// `[^…]`, groups `(…)` and `(?:…)` with `|`, anchors `^` `$`, and the quantifiers `? * +
/// {n} {n,} {n,m}`. Matching backtracks; the patterns are short and the strings shorter.
pub(crate) struct Regex {
    alternatives: Vec<Vec<Node>>,
}

#[derive(Debug)]
enum Node {
    Char(char),
    Any,
    Class {
        ranges: Vec<(char, char)>,
        negated: bool,
    },
    Group(Vec<Vec<Self>>),
    Repeat {
        node: Box<Self>,
        min: usize,
        max: usize,
    },
    Start,
    End,
}

impl Regex {
    /// Parses `pattern`, refusing any syntax outside the subset.
    pub(crate) fn new(pattern: &str) -> Result<Self, String> {
        let chars: Vec<char> = pattern.chars().collect();
        let mut at = 0;
        let alternatives = parse_alternatives(&chars, &mut at)?;
        if at != chars.len() {
            return Err(format!("pattern {pattern:?}: unbalanced `)` at {at}"));
        }
        Ok(Self { alternatives })
    }

    /// Whether the pattern matches anywhere in `text`.
    pub(crate) fn is_match(&self, text: &str) -> bool {
        let text: Vec<char> = text.chars().collect();
        (0..=text.len()).any(|start| {
            self.alternatives
                .iter()
                .any(|seq| match_seq(seq, &text, start, &|_| true))
        })
    }
}

fn parse_alternatives(chars: &[char], at: &mut usize) -> Result<Vec<Vec<Node>>, String> {
    let mut alternatives = vec![Vec::new()];
    while let Some(&c) = chars.get(*at) {
        match c {
            ')' => break,
            '|' => {
                *at += 1;
                alternatives.push(Vec::new());
            }
            _ => {
                let atom = parse_atom(chars, at)?;
                let atom = parse_quantifier(chars, at, atom)?;
                alternatives.last_mut().unwrap().push(atom);
            }
        }
    }
    Ok(alternatives)
}

fn class_escape(c: char) -> Option<Node> {
    let ranges = match c {
        'd' => vec![('0', '9')],
        'w' => vec![('a', 'z'), ('A', 'Z'), ('0', '9'), ('_', '_')],
        's' => vec![(' ', ' '), ('\t', '\r')],
        _ => return None,
    };
    Some(Node::Class {
        ranges,
        negated: false,
    })
}

fn parse_atom(chars: &[char], at: &mut usize) -> Result<Node, String> {
    let c = chars[*at];
    *at += 1;
    Ok(match c {
        '^' => Node::Start,
        '$' => Node::End,
        '.' => Node::Any,
        '(' => {
            if chars.get(*at..*at + 2) == Some(&['?', ':']) {
                *at += 2;
            } else if chars.get(*at) == Some(&'?') {
                return Err("only (?:…) groups are supported".into());
            }
            let inner = parse_alternatives(chars, at)?;
            if chars.get(*at) != Some(&')') {
                return Err("unclosed group".into());
            }
            *at += 1;
            Node::Group(inner)
        }
        '[' => {
            let negated = chars.get(*at) == Some(&'^');
            if negated {
                *at += 1;
            }
            let mut ranges = Vec::new();
            let open = *at;
            loop {
                let Some(&first) = chars.get(*at) else {
                    return Err("unclosed class".into());
                };
                *at += 1;
                let low = match first {
                    // `[]` is an empty class in ECMA-262 (and `[]a]` not what it looks like).
                    ']' if *at - 1 == open => return Err("empty class".into()),
                    ']' => break,
                    '\\' => {
                        let e = *chars.get(*at).ok_or("dangling escape")?;
                        *at += 1;
                        if let Some(Node::Class { ranges: more, .. }) = class_escape(e) {
                            ranges.extend(more);
                            continue;
                        }
                        e
                    }
                    c => c,
                };
                if chars.get(*at) == Some(&'-') && chars.get(*at + 1).is_some_and(|&c| c != ']') {
                    let high = chars[*at + 1];
                    *at += 2;
                    if high < low {
                        return Err(format!("class range {low}-{high} out of order"));
                    }
                    ranges.push((low, high));
                } else {
                    ranges.push((low, low));
                }
            }
            Node::Class { ranges, negated }
        }
        '\\' => {
            let e = *chars.get(*at).ok_or("dangling escape")?;
            *at += 1;
            match class_escape(e) {
                Some(class) => class,
                None if e.is_ascii_punctuation() => Node::Char(e),
                None => return Err(format!("escape \\{e} not supported")),
            }
        }
        '*' | '+' | '?' | '{' | '}' | ']' => return Err(format!("`{c}` with nothing to repeat")),
        c => Node::Char(c),
    })
}

fn parse_quantifier(chars: &[char], at: &mut usize, node: Node) -> Result<Node, String> {
    let (min, max) = match chars.get(*at) {
        Some('?') => (0, 1),
        Some('*') => (0, usize::MAX),
        Some('+') => (1, usize::MAX),
        Some('{') => {
            let close = chars[*at..]
                .iter()
                .position(|&c| c == '}')
                .ok_or("unclosed {")?;
            let inside: String = chars[*at + 1..*at + close].iter().collect();
            let number = |s: &str| {
                s.parse::<usize>()
                    .map_err(|_| format!("bad count {{{inside}}}"))
            };
            let bounds = match inside.split_once(',') {
                None => (number(&inside)?, number(&inside)?),
                Some((low, "")) => (number(low)?, usize::MAX),
                Some((low, high)) => (number(low)?, number(high)?),
            };
            *at += close;
            bounds
        }
        _ => return Ok(node),
    };
    *at += 1;
    if matches!(chars.get(*at), Some('?' | '+')) {
        return Err("lazy and possessive quantifiers are not supported".into());
    }
    if min > max || matches!(node, Node::Start | Node::End) {
        return Err("bad quantifier".into());
    }
    Ok(Node::Repeat {
        node: Box::new(node),
        min,
        max,
    })
}

fn match_seq(seq: &[Node], text: &[char], pos: usize, k: &dyn Fn(usize) -> bool) -> bool {
    match seq.split_first() {
        None => k(pos),
        Some((node, rest)) => match_node(node, text, pos, &|p| match_seq(rest, text, p, k)),
    }
}

fn match_node(node: &Node, text: &[char], pos: usize, k: &dyn Fn(usize) -> bool) -> bool {
    match node {
        Node::Char(c) => text.get(pos) == Some(c) && k(pos + 1),
        Node::Any => text.get(pos).is_some_and(|&c| c != '\n') && k(pos + 1),
        Node::Class { ranges, negated } => {
            text.get(pos).is_some_and(|&c| {
                ranges.iter().any(|&(low, high)| (low..=high).contains(&c)) != *negated
            }) && k(pos + 1)
        }
        Node::Group(alternatives) => alternatives.iter().any(|seq| match_seq(seq, text, pos, k)),
        Node::Repeat { node, min, max } => repeat(node, *min, *max, 0, text, pos, k),
        Node::Start => pos == 0 && k(pos),
        Node::End => pos == text.len() && k(pos),
    }
}

/// Greedy repetition: one more first, then stop if enough; an empty match ends the repetition.
fn repeat(
    node: &Node,
    min: usize,
    max: usize,
    count: usize,
    text: &[char],
    pos: usize,
    k: &dyn Fn(usize) -> bool,
) -> bool {
    if count < max
        && match_node(node, text, pos, &|p| {
            p != pos && repeat(node, min, max, count + 1, text, p, k)
        })
    {
        return true;
    }
    count >= min && k(pos)
}

#[test]
fn regex_subset() {
    let cases: &[(&str, &[&str], &[&str])] = &[
        (
            "^0x[0-9a-f]{8}$",
            &["0x1000a001", "0xffffffff"],
            &["0x1000A001", "0x1000a0011", "1000a001", "0x100"],
        ),
        (
            "^([0-9a-f]{2}(:[0-9a-f]{2})*)?$",
            &["", "00", "00:1b:54:aa:00:01"],
            &["0", "00:", ":00", "00:1B"],
        ),
        (
            "^[a-z0-9]+(-[a-z0-9]+)*$",
            &["esp-replay", "ike-no-proposal-chosen"],
            &["-x", "x-", "Esp", "a--b"],
        ),
        (
            "^([0-9]{4}|[+-][0-9]{6,})-[0-9]{2}$",
            &["2026-12", "+010000-01", "-000001-12"],
            &["+10000-01", "20261-12"],
        ),
        ("b+c?d*$", &["xxbbb", "abcddd"], &["xb c", "bce"]),
        ("^(?:ab|a)b\\.c$", &["abb.c", "ab.c"], &["abbxc", "b.c"]),
        ("^[^x\\d]{2,3}$", &["ab", "abc"], &["a", "abcd", "a1", "xa"]),
        ("^\\w\\s.$", &["a b", "_\tx"], &["ab", "a b\n"]),
        ("a{2,}", &["aa", "baaab"], &["a", "aba"]),
    ];
    for (pattern, matching, not) in cases {
        let re = Regex::new(pattern).unwrap();
        for text in *matching {
            assert!(re.is_match(text), "{pattern} should match {text:?}");
        }
        for text in *not {
            assert!(!re.is_match(text), "{pattern} should not match {text:?}");
        }
    }
    for bad in [
        "(", "a)", "[a", "*a", "a{", "a{3,1}", "a*?", "\\q", "(?=a)", "[z-a]", "^*",
    ] {
        assert!(Regex::new(bad).is_err(), "{bad} should be refused");
    }
}

#[test]
fn date_times() {
    for good in [
        "2026-12-07T13:34:23.123456789Z",
        "1970-01-01T00:00:00Z",
        "2000-02-29T12:00:00+01:00",
        "1990-12-31t23:59:60z",
    ] {
        assert!(date_time_ok(good), "{good}");
    }
    for bad in [
        "2026-12-07 13:34:23Z",
        "2026-12-07T13:34:23",
        "2026-13-07T13:34:23Z",
        "1900-02-29T00:00:00Z",
        "2026-04-31T00:00:00Z",
        "2026-12-07T24:00:00Z",
        "2026-12-07T13:34:23.Z",
        "2026-12-07T13:34:23+0100",
        "+010000-01-01T00:00:00Z",
        "1700000000.5",
    ] {
        assert!(!date_time_ok(bad), "{bad}");
    }
}

#[test]
fn keywords() {
    let schema = serde_json::json!({
        "type": "object",
        "properties": {
            "n": {"type": "integer", "minimum": 1, "maximum": 10},
            "s": {"enum": ["a", "b"]},
            "c": {"const": 2},
            "list": {"type": "array", "items": {"$ref": "#/$defs/ip"}, "minItems": 1, "maxItems": 2},
            "either": {"anyOf": [{"type": "string"}, {"type": "boolean"}]},
            "no": {"not": {"type": "string"}},
            "ts": {"type": "string", "format": "date-time"}
        },
        "required": ["n"],
        "additionalProperties": false,
        "if": {"required": ["s"]}, "then": {"required": ["c"]}, "else": {"allOf": [{"required": ["list"]}]},
        "$defs": {"ip": {"anyOf": [{"format": "ipv4"}, {"format": "ipv6"}]}}
    });
    let v = Validator::new(schema).unwrap();
    let ok = |value: Value| {
        let errors = v.errors(&value);
        assert!(errors.is_empty(), "{value}: {errors:?}");
    };
    let bad = |value: Value, expect: &str| {
        let errors = v.errors(&value);
        assert!(
            errors.iter().any(|e| e.contains(expect)),
            "{value}: {errors:?} lacks {expect:?}"
        );
    };
    ok(serde_json::json!({"n": 3, "s": "a", "c": 2.0}));
    ok(
        serde_json::json!({"n": 3.0, "list": ["10.0.0.1", "::1"], "either": true, "no": 5, "ts": "2026-01-01T00:00:00Z"}),
    );
    bad(
        serde_json::json!({"n": 3.5, "list": ["10.0.0.1"]}),
        "not of type integer",
    );
    bad(
        serde_json::json!({"n": 0, "list": ["10.0.0.1"]}),
        "less than 1",
    );
    bad(
        serde_json::json!({"n": 11, "list": ["10.0.0.1"]}),
        "more than 10",
    );
    bad(
        serde_json::json!({"list": ["10.0.0.1"]}),
        "missing required member \"n\"",
    );
    bad(
        serde_json::json!({"n": 1, "s": "c", "c": 2}),
        "is not one of",
    );
    bad(serde_json::json!({"n": 1, "s": "a", "c": 3}), "is not 2");
    bad(
        serde_json::json!({"n": 1, "s": "a"}),
        "missing required member \"c\"",
    );
    bad(
        serde_json::json!({"n": 1}),
        "missing required member \"list\"",
    );
    bad(
        serde_json::json!({"n": 1, "list": []}),
        "fewer than minItems",
    );
    bad(
        serde_json::json!({"n": 1, "list": ["1.1.1.1", "1.1.1.1", "1.1.1.1"]}),
        "more than maxItems",
    );
    bad(
        serde_json::json!({"n": 1, "list": ["10.0.0.256"]}),
        "/list/0: \"10.0.0.256\" matches none of anyOf",
    );
    bad(
        serde_json::json!({"n": 1, "list": ["1.1.1.1"], "either": 1}),
        "matches none of anyOf",
    );
    bad(
        serde_json::json!({"n": 1, "list": ["1.1.1.1"], "no": "x"}),
        "matches the `not` schema",
    );
    bad(
        serde_json::json!({"n": 1, "list": ["1.1.1.1"], "ts": "yesterday"}),
        "not a valid date-time",
    );
    bad(
        serde_json::json!({"n": 1, "list": ["1.1.1.1"], "extra": 1}),
        "member \"extra\" is not allowed",
    );
    bad(serde_json::json!([1]), "not of type object");
    for unsupported in [
        serde_json::json!({"uniqueItems": true}),
        serde_json::json!({"format": "email"}),
        serde_json::json!({"$ref": "other.json#/x"}),
        serde_json::json!({"$ref": "#/$defs/missing"}),
        serde_json::json!({"properties": {"x": {"pattern": "(?=x)"}}}),
        serde_json::json!({"type": "int"}),
    ] {
        assert!(
            Validator::new(unsupported.clone()).is_err(),
            "{unsupported}"
        );
    }
}
