//! A small JSON writer for the decoder's JSON Lines output.
//!
//! The decoder writes hundreds of thousands of objects per second, so this writes straight into a
//! reusable byte buffer: no intermediate tree, no allocation once the buffer has grown. The values
//! every frame has — numbers, IPv4 and MAC addresses, hex fields — are formatted by hand rather
//! than through `core::fmt`, whose per-call machinery cost more than the decoding itself.
//!
//! # The JSON contract
//!
//! `dmvpn decode --format json` (one object per frame) and `dmvpn sessions --format json` (one
//! object) are described by the JSON Schemas (draft 2020-12) in the crate's `schemas/` directory,
//! `decode-frame.schema.json` and `sessions.schema.json`. Every object carries
//! `"schema_version"`: [`SCHEMA_VERSION`].
//!
//! Both outputs write time the same two ways:
//!
//! * an instant (a frame's `ts`, a session event's `time`, the capture's `start` and `end`) is an
//!   RFC 3339 string in UTC with exactly nine fractional digits,
//!   `"2026-12-07T13:34:23.123456789Z"` ([`Object::timestamp`]): exact to the nanosecond the
//!   capture stores, sortable as text, and read by every date library. (A year outside 0000–9999,
//!   which only a pcapng `if_tsoffset` can make, is written with a sign and six or more digits, as
//!   ISO 8601's expanded years.)
//! * a span of time (an offset `t` from the capture's first frame, a `duration`) is a JSON number of
//!   seconds with nine fractional digits, `2.252000000` ([`Object::seconds`]).

use std::fmt::{self, Write as _};
use std::net::{IpAddr, Ipv4Addr};
use std::time::Duration;

use crate::capture::Timestamp;

/// The version of the JSON output's contract, in every object as `"schema_version"`.
///
/// It follows semantic versioning, for data: the **major** number goes up when a field is
/// removed or renamed, or changes its type, unit or meaning (a consumer written for the old
/// output could misread the new one); the **minor** number when something is added (a field, a
/// `proto`, a finding rule, an enum value) that a consumer ignoring unknown members reads safely;
/// the **patch** number for corrections to the schemas' text that change no output. The schemas in
/// `schemas/` are strict (no members they do not list), so the tests catch any change to the output
/// that forgot to update them and this number.
pub const SCHEMA_VERSION: &str = "1.1.0";

/// The JSON Schema (draft 2020-12) of one line of `dmvpn decode --format json`
/// (`schemas/decode-frame.schema.json`).
pub const DECODE_FRAME_SCHEMA: &str = include_str!("../schemas/decode-frame.schema.json");

/// The JSON Schema (draft 2020-12) of `dmvpn sessions --format json`
/// (`schemas/sessions.schema.json`).
pub const SESSIONS_SCHEMA: &str = include_str!("../schemas/sessions.schema.json");

/// Writes one JSON object into a byte buffer, field by field.
///
/// ```
/// use dmvpn::json::Object;
///
/// let mut out = Vec::new();
/// let mut obj = Object::begin(&mut out);
/// obj.str("proto", "esp");
/// obj.hex_u32("spi", 0x1000_a001);
/// obj.u64("seq", 7);
/// obj.bool("decrypted", true);
/// obj.end();
/// assert_eq!(out, br#"{"proto":"esp","spi":"0x1000a001","seq":7,"decrypted":true}"#);
/// ```
pub struct Object<'w> {
    out: &'w mut Vec<u8>,
    first: bool,
}

impl<'w> Object<'w> {
    /// Opens an object (`{`).
    pub fn begin(out: &'w mut Vec<u8>) -> Self {
        out.push(b'{');
        Self { out, first: true }
    }

    /// Closes the object (`}`).
    pub fn end(self) {
        self.out.push(b'}');
    }

    fn key(&mut self, key: &str) {
        if !self.first {
            self.out.push(b',');
        }
        self.first = false;
        write_str(self.out, key);
        self.out.push(b':');
    }

    /// A string field, escaped as JSON requires.
    pub fn str(&mut self, key: &str, value: &str) {
        self.key(key);
        write_str(self.out, value);
    }

    /// A string field from anything that implements `Display`.
    pub fn display(&mut self, key: &str, value: &dyn fmt::Display) {
        self.key(key);
        let mut escaper = Escaper { out: self.out };
        escaper.out.push(b'"');
        // Writing into a Vec cannot fail.
        let _ = write!(escaper, "{value}");
        self.out.push(b'"');
    }

    /// An unsigned number.
    pub fn u64(&mut self, key: &str, value: u64) {
        self.key(key);
        push_u64(self.out, value);
    }

    /// An unsigned number when there is one; nothing otherwise.
    ///
    /// ```
    /// let mut out = Vec::new();
    /// let mut obj = dmvpn::json::Object::begin(&mut out);
    /// obj.opt_u64("key", Some(7_u32));
    /// obj.opt_u64("seq", None::<u32>);
    /// obj.end();
    /// assert_eq!(out, br#"{"key":7}"#);
    /// ```
    pub fn opt_u64(&mut self, key: &str, value: Option<impl Into<u64>>) {
        if let Some(value) = value {
            self.u64(key, value.into());
        }
    }

    /// An IP address as a string, as `Display` writes it (dotted quad; RFC 5952 text for IPv6).
    pub fn ip(&mut self, key: &str, addr: IpAddr) {
        match addr {
            IpAddr::V4(addr) => self.ipv4(key, addr),
            IpAddr::V6(addr) => self.display(key, &addr),
        }
    }

    /// `key` and a string value that `push` writes (it writes nothing that needs escaping).
    fn quoted(&mut self, key: &str, push: impl FnOnce(&mut Vec<u8>)) {
        self.key(key);
        self.out.push(b'"');
        push(self.out);
        self.out.push(b'"');
    }

    /// An IPv4 address as a dotted-quad string.
    pub fn ipv4(&mut self, key: &str, addr: Ipv4Addr) {
        self.quoted(key, |out| push_ipv4(out, addr));
    }

    /// Bytes as a string of colon-separated lowercase hex pairs (`00:1b:54:aa:00:01`), as MAC and
    /// other link-layer addresses print.
    pub fn mac(&mut self, key: &str, bytes: &[u8]) {
        self.quoted(key, |out| push_colon_hex(out, bytes));
    }

    /// An instant as an RFC 3339 UTC string with nine fractional digits (see the module docs).
    pub fn timestamp(&mut self, key: &str, ts: Timestamp) {
        self.quoted(key, |out| push_rfc3339(out, ts));
    }

    /// A span of time as a number of seconds with nine fractional digits (`2.252000000`).
    pub fn seconds(&mut self, key: &str, span: Duration) {
        self.key(key);
        push_u64(self.out, span.as_secs());
        self.out.push(b'.');
        push_u32_padded(self.out, span.subsec_nanos(), 9);
    }

    /// `"schema_version"`: [`SCHEMA_VERSION`].
    pub fn schema_version(&mut self) {
        self.str("schema_version", SCHEMA_VERSION);
    }

    /// A boolean.
    pub fn bool(&mut self, key: &str, value: bool) {
        self.key(key);
        self.out
            .extend_from_slice(if value { b"true" } else { b"false" });
    }

    /// A `u32` as a `"0x…"` string of 8 hex digits (SPIs, GRE keys).
    pub fn hex_u32(&mut self, key: &str, value: u32) {
        self.quoted(key, |out| {
            out.extend_from_slice(b"0x");
            push_hex(out, &value.to_be_bytes());
        });
    }

    /// A `u16` as a `"0x…"` string of 4 hex digits (EtherTypes, flags).
    pub fn hex_u16(&mut self, key: &str, value: u16) {
        self.quoted(key, |out| {
            out.extend_from_slice(b"0x");
            push_hex(out, &value.to_be_bytes());
        });
    }

    /// Bytes as a lowercase hex string.
    pub fn hex(&mut self, key: &str, bytes: &[u8]) {
        self.quoted(key, |out| push_hex(out, bytes));
    }

    /// A number or string written verbatim: the caller guarantees it is valid JSON.
    pub fn raw(&mut self, key: &str, json: &str) {
        self.key(key);
        self.out.extend_from_slice(json.as_bytes());
    }

    /// Opens a nested array under `key`.
    pub fn array(&mut self, key: &str) -> Array<'_> {
        self.key(key);
        self.out.push(b'[');
        Array {
            out: self.out,
            first: true,
        }
    }

    /// Opens a nested object under `key`.
    pub fn object(&mut self, key: &str) -> Object<'_> {
        self.key(key);
        Object::begin(self.out)
    }
}

/// A JSON array being written.
pub struct Array<'w> {
    out: &'w mut Vec<u8>,
    first: bool,
}

impl Array<'_> {
    fn next(&mut self) {
        if !self.first {
            self.out.push(b',');
        }
        self.first = false;
    }

    /// Appends an object.
    pub fn object(&mut self) -> Object<'_> {
        self.next();
        Object::begin(self.out)
    }

    /// Appends an unsigned number.
    pub fn u64(&mut self, value: u64) {
        self.next();
        push_u64(self.out, value);
    }

    /// Appends a string from anything that implements `Display`.
    pub fn display(&mut self, value: &dyn fmt::Display) {
        self.next();
        self.out.push(b'"');
        let _ = write!(Escaper { out: self.out }, "{value}");
        self.out.push(b'"');
    }

    /// Closes the array.
    pub fn end(self) {
        self.out.push(b']');
    }
}

const HEX: &[u8; 16] = b"0123456789abcdef";

/// The two decimal digits of 0 to 99, for writing numbers two digits at a time.
const PAIRS: &[u8; 200] = b"\
    0001020304050607080910111213141516171819\
    2021222324252627282930313233343536373839\
    4041424344454647484950515253545556575859\
    6061626364656667686970717273747576777879\
    8081828384858687888990919293949596979899";

/// Appends the decimal digits of `value`.
pub(crate) fn push_u64(out: &mut Vec<u8>, mut value: u64) {
    let mut buf = [0u8; 20];
    let mut start = buf.len();
    while value >= 100 {
        let pair = (value % 100) as usize * 2;
        value /= 100;
        start -= 2;
        buf[start..start + 2].copy_from_slice(&PAIRS[pair..pair + 2]);
    }
    if value >= 10 {
        let pair = value as usize * 2;
        start -= 2;
        buf[start..start + 2].copy_from_slice(&PAIRS[pair..pair + 2]);
    } else {
        start -= 1;
        buf[start] = b'0' + value as u8;
    }
    out.extend_from_slice(&buf[start..]);
}

/// Appends `value` as exactly `width` decimal digits, zero-padded (`value` must fit).
pub(crate) fn push_u32_padded(out: &mut Vec<u8>, mut value: u32, width: usize) {
    let mut buf = [b'0'; 10];
    let width = width.min(buf.len());
    let mut at = buf.len();
    while at > buf.len() - width {
        at -= 1;
        buf[at] = b'0' + (value % 10) as u8;
        value /= 10;
    }
    out.extend_from_slice(&buf[at..]);
}

/// The proleptic Gregorian date (year, month 1–12, day 1–31) of a day counted from 1970-01-01
/// (H. Hinnant's `civil_from_days`: 400-year eras of 146 097 days, years starting in March so
/// that the leap day comes last). Exact for every `i64` day count `Timestamp` can make.
const fn civil_from_days(days: i64) -> (i64, u32, u32) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097); // day of era, 0..=146 096
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365; // year of era, 0..=399
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100); // day of the March-based year, 0..=365
    let mp = (5 * doy + 2) / 153; // March-based month, 0..=11
    let day = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let month = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let year = yoe + era * 400 + if month <= 2 { 1 } else { 0 };
    (year, month, day)
}

/// Appends `ts` as RFC 3339 in UTC with nine fractional digits: `2026-12-07T13:34:23.123456789Z`.
pub fn push_rfc3339(out: &mut Vec<u8>, ts: Timestamp) {
    let days = ts.secs.div_euclid(86_400);
    let in_day = ts.secs.rem_euclid(86_400) as u32;
    let (year, month, day) = civil_from_days(days);
    match u32::try_from(year) {
        Ok(year) if year <= 9999 => push_u32_padded(out, year, 4),
        // ISO 8601 expanded years: a sign and at least six digits.
        _ => {
            out.push(if year < 0 { b'-' } else { b'+' });
            let magnitude = year.unsigned_abs();
            if magnitude < 1_000_000 {
                push_u32_padded(out, magnitude as u32, 6);
            } else {
                push_u64(out, magnitude);
            }
        }
    }
    out.push(b'-');
    push_u32_padded(out, month, 2);
    out.push(b'-');
    push_u32_padded(out, day, 2);
    out.push(b'T');
    push_u32_padded(out, in_day / 3600, 2);
    out.push(b':');
    push_u32_padded(out, in_day / 60 % 60, 2);
    out.push(b':');
    push_u32_padded(out, in_day % 60, 2);
    out.push(b'.');
    push_u32_padded(out, ts.nanos, 9);
    out.push(b'Z');
}

/// Appends an IPv4 address in dotted-quad form.
pub(crate) fn push_ipv4(out: &mut Vec<u8>, addr: Ipv4Addr) {
    for (i, octet) in addr.octets().into_iter().enumerate() {
        if i > 0 {
            out.push(b'.');
        }
        push_u64(out, u64::from(octet));
    }
}

/// Appends bytes as lowercase hex pairs.
pub(crate) fn push_hex(out: &mut Vec<u8>, bytes: &[u8]) {
    out.reserve(bytes.len() * 2);
    for byte in bytes {
        out.push(HEX[usize::from(byte >> 4)]);
        out.push(HEX[usize::from(byte & 0xf)]);
    }
}

/// Appends bytes as colon-separated lowercase hex pairs.
pub(crate) fn push_colon_hex(out: &mut Vec<u8>, bytes: &[u8]) {
    for (i, byte) in bytes.iter().enumerate() {
        if i > 0 {
            out.push(b':');
        }
        out.push(HEX[usize::from(byte >> 4)]);
        out.push(HEX[usize::from(byte & 0xf)]);
    }
}

fn write_str(out: &mut Vec<u8>, value: &str) {
    out.push(b'"');
    escape_into(out, value);
    out.push(b'"');
}

fn escape_into(out: &mut Vec<u8>, value: &str) {
    // Most values (addresses, names, numbers) need no escaping: copy them whole.
    if !value
        .bytes()
        .any(|byte| byte < 0x20 || byte == b'"' || byte == b'\\')
    {
        out.extend_from_slice(value.as_bytes());
        return;
    }
    for &byte in value.as_bytes() {
        match byte {
            b'"' => out.extend_from_slice(b"\\\""),
            b'\\' => out.extend_from_slice(b"\\\\"),
            b'\n' => out.extend_from_slice(b"\\n"),
            b'\r' => out.extend_from_slice(b"\\r"),
            b'\t' => out.extend_from_slice(b"\\t"),
            0..=0x1f => {
                out.extend_from_slice(b"\\u00");
                out.push(HEX[usize::from(byte >> 4)]);
                out.push(HEX[usize::from(byte & 0xf)]);
            }
            _ => out.push(byte),
        }
    }
}

/// Escapes what `Display` writes, as a JSON string body.
struct Escaper<'w> {
    out: &'w mut Vec<u8>,
}

impl fmt::Write for Escaper<'_> {
    fn write_str(&mut self, s: &str) -> fmt::Result {
        escape_into(self.out, s);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nested_values_parse_back() {
        let mut out = Vec::new();
        let mut obj = Object::begin(&mut out);
        obj.u64("frame", 0);
        obj.u64("big", u64::MAX);
        obj.str("text", "a \"quoted\" \\ line\nwith\ttabs and \u{1} control");
        obj.display("shown", &format_args!("{} → {}", "10.0.0.1", "10.0.0.2"));
        obj.hex("bytes", &[0, 0xff, 0x10]);
        obj.hex_u16("type", 0x2001);
        obj.raw("ts", "1.250000");
        let mut layers = obj.array("layers");
        layers.object().end();
        let mut inner = layers.object();
        inner.bool("ok", false);
        inner.end();
        layers.u64(3);
        layers.display(&"x");
        layers.end();
        obj.end();
        let value: serde_json::Value = serde_json::from_slice(&out).unwrap();
        assert_eq!(value["frame"], 0);
        assert_eq!(value["big"], u64::MAX);
        assert_eq!(
            value["text"],
            "a \"quoted\" \\ line\nwith\ttabs and \u{1} control"
        );
        assert_eq!(value["shown"], "10.0.0.1 → 10.0.0.2");
        assert_eq!(value["bytes"], "00ff10");
        assert_eq!(value["type"], "0x2001");
        assert_eq!(value["ts"], 1.25);
        assert_eq!(value["layers"][1]["ok"], false);
        assert_eq!(value["layers"][2], 3);
        assert_eq!(value["layers"][3], "x");
    }

    #[test]
    fn hand_formatting_matches_core_fmt() {
        bolero::check!()
            .with_type::<(u64, u32, [u8; 6], u16)>()
            .for_each(|&(number, word, mac, short)| {
                let mut out = Vec::new();
                push_u64(&mut out, number);
                assert_eq!(out, number.to_string().as_bytes());
                let addr = Ipv4Addr::from(word);
                let mut obj = Object::begin(&mut out);
                obj.ipv4("a", addr);
                obj.ip("i", IpAddr::V4(addr));
                obj.hex_u32("w", word);
                obj.hex_u16("s", short);
                obj.mac("m", &mac);
                obj.end();
                let [a, b, c, d, e, f] = mac;
                let expected = format!(
                    "{number}{{\"a\":\"{addr}\",\"i\":\"{addr}\",\"w\":\"{word:#010x}\",\"s\":\"{short:#06x}\",\
                     \"m\":\"{a:02x}:{b:02x}:{c:02x}:{d:02x}:{e:02x}:{f:02x}\"}}"
                );
                assert_eq!(String::from_utf8(out).unwrap(), expected);
                let mut padded = Vec::new();
                push_u32_padded(&mut padded, word % 1_000_000_000, 9);
                assert_eq!(padded, format!("{:09}", word % 1_000_000_000).as_bytes());
            });
        for value in [0, 9, 10, 99, 100, 101, 999, 1000, u64::MAX] {
            let mut out = Vec::new();
            push_u64(&mut out, value);
            assert_eq!(out, value.to_string().as_bytes());
        }
    }

    fn rfc3339(secs: i64, nanos: u32) -> String {
        let mut out = Vec::new();
        push_rfc3339(&mut out, Timestamp::new(secs, nanos));
        String::from_utf8(out).unwrap()
    }

    #[test]
    fn instants_are_rfc3339_utc() {
        // Values checked with `date -u -d @SECS +%FT%T`.
        assert_eq!(rfc3339(0, 0), "1970-01-01T00:00:00.000000000Z");
        assert_eq!(
            rfc3339(1_700_000_000, 123_456_789),
            "2023-11-14T22:13:20.123456789Z"
        );
        assert_eq!(rfc3339(951_825_600, 1), "2000-02-29T12:00:00.000000001Z");
        assert_eq!(rfc3339(4_107_542_399, 0), "2100-02-28T23:59:59.000000000Z");
        assert_eq!(rfc3339(4_107_542_400, 0), "2100-03-01T00:00:00.000000000Z");
        // -0.5 s: half a second before the epoch.
        assert_eq!(rfc3339(-1, 500_000_000), "1969-12-31T23:59:59.500000000Z");
        assert_eq!(
            rfc3339(-62_167_219_200, 0),
            "0000-01-01T00:00:00.000000000Z"
        );
        assert_eq!(
            rfc3339(253_402_300_799, 0),
            "9999-12-31T23:59:59.000000000Z"
        );
        assert_eq!(
            rfc3339(253_402_300_800, 0),
            "+010000-01-01T00:00:00.000000000Z"
        );
        assert_eq!(
            rfc3339(-62_167_219_201, 0),
            "-000001-12-31T23:59:59.000000000Z"
        );
        // The extremes do not overflow.
        assert!(rfc3339(i64::MAX, 999_999_999).starts_with('+'));
        assert!(rfc3339(i64::MIN, 0).starts_with('-'));
    }

    /// The inverse of `civil_from_days`, written independently (days before each month).
    fn days_from_civil(year: i64, month: u32, day: u32) -> i64 {
        let leap =
            |y: i64| y.rem_euclid(4) == 0 && (y.rem_euclid(100) != 0 || y.rem_euclid(400) == 0);
        let before = [0, 31, 59, 90, 120, 151, 181, 212, 243, 273, 304, 334][month as usize - 1]
            + i64::from(month > 2 && leap(year));
        // Days from 1970-01-01 to January 1st of `year`.
        let y = year - 1;
        let from_zero = |y: i64| 365 * y + y.div_euclid(4) - y.div_euclid(100) + y.div_euclid(400);
        from_zero(y) - from_zero(1969) + before + i64::from(day) - 1
    }

    #[test]
    fn civil_dates_round_trip() {
        bolero::check!().with_type::<i32>().for_each(|&days| {
            let (year, month, day) = civil_from_days(i64::from(days));
            assert!((1..=12).contains(&month) && (1..=31).contains(&day));
            assert_eq!(days_from_civil(year, month, day), i64::from(days));
        });
    }

    #[test]
    fn spans_are_seconds_with_nine_digits() {
        let mut out = Vec::new();
        let mut obj = Object::begin(&mut out);
        obj.schema_version();
        obj.seconds("t", Duration::new(2, 252_000_000));
        obj.seconds("zero", Duration::ZERO);
        obj.timestamp("ts", Timestamp::new(1_700_000_000, 5));
        obj.end();
        assert_eq!(
            String::from_utf8(out).unwrap(),
            r#"{"schema_version":"1.1.0","t":2.252000000,"zero":0.000000000,"ts":"2023-11-14T22:13:20.000000005Z"}"#
        );
    }

    #[test]
    fn arbitrary_strings_stay_valid_json() {
        bolero::check!().with_type::<String>().for_each(|text| {
            let mut out = Vec::new();
            let mut obj = Object::begin(&mut out);
            obj.str("s", text);
            obj.display("d", text);
            obj.end();
            let value: serde_json::Value = serde_json::from_slice(&out).unwrap();
            assert_eq!(value["s"].as_str(), Some(text.as_str()));
            assert_eq!(value["d"].as_str(), Some(text.as_str()));
        });
    }
}
