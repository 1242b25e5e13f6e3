//! The language on hand-made field values; tests/filter.rs runs it on captures against tshark.

use std::net::Ipv4Addr;

use super::fields::{self, Value, Values};
use super::*;

/// A frame's values: every field the filter could name is wanted.
fn frame(occurrences: &[(&str, Value)]) -> Values {
    let mut all = Mask::default();
    for id in 0..fields::FIELDS.len() {
        all.insert(u8::try_from(id).unwrap());
    }
    let mut values = Values::new(all);
    for (name, value) in occurrences {
        values.push_value(fields::lookup(name).unwrap(), *value);
    }
    values
}

fn ip(a: u8, b: u8, c: u8, d: u8) -> Value {
    Value::Ipv4(Ipv4Addr::new(a, b, c, d))
}

/// The values an IPv4 header from `src` to `dst` gives: `ip.addr` once for each address.
fn ipv4_header(src: Value, dst: Value) -> [(&'static str, Value); 5] {
    [
        ("ip", Value::Present),
        ("ip.src", src),
        ("ip.dst", dst),
        ("ip.addr", src),
        ("ip.addr", dst),
    ]
}

/// An ESP packet from 192.0.2.11 to 192.0.2.1 carrying GRE and NHRP registration.
fn esp_frame() -> Values {
    frame(
        &[
            &[("frame", Value::Present), ("frame.number", Value::Uint(12))][..],
            &ipv4_header(ip(192, 0, 2, 11), ip(192, 0, 2, 1)),
            &[
                ("esp", Value::Present),
                ("esp.spi", Value::Uint(0x1000_a001)),
                ("gre", Value::Present),
                ("nhrp", Value::Present),
                ("nhrp.hdr.op.type", Value::Uint(3)),
            ],
            &ipv4_header(ip(10, 0, 0, 11), ip(10, 0, 0, 1)),
        ]
        .concat(),
    )
}

fn keeps(filter: &str, values: &Values) -> bool {
    Filter::parse(filter)
        .unwrap_or_else(|e| panic!("{filter}: {e}"))
        .matches(values)
}

/// Each filter of `cases` keeps `values`' frame, or drops it, as its flag says.
fn expect(values: &Values, cases: &[(&str, bool)]) {
    for &(filter, kept) in cases {
        assert_eq!(keeps(filter, values), kept, "{filter}");
    }
}

#[test]
fn comparisons_presence_and_logic() {
    let f = esp_frame();
    expect(
        &f,
        &[
            ("esp", true),
            ("!isakmp", true),
            ("isakmp", false),
            ("not esp", false),
            ("ip.addr == 192.0.2.11 && esp.spi == 0x1000a001", true),
            ("ip.addr == 192.0.2.11 and esp.spi == 268476417", true),
            ("esp.spi == 0x1000a002", false),
            ("nhrp.hdr.op.type == 3", true),
            ("nhrp.hdr.op.type eq 4", false),
            ("ip.addr == 10.0.0.0/8", true),
            ("ip.src == 10.0.0.0/24", true),
            ("ip.dst == 172.16.0.0/12", false),
            ("frame.number >= 12 && frame.number <= 12", true),
            ("frame.number > 12 || frame.number lt 12", false),
            ("frame.number in {1..5, 12}", true),
            ("frame.number in {1..5 13}", false),
            ("frame.number in {10 .. 20}", true),
            ("frame.number not in {10..20}", false),
            ("esp.spi in {0x1000a001}", true),
            ("(esp || isakmp) && !(eigrp)", true),
            ("eigrp || isakmp && esp", false),
            ("esp || isakmp && eigrp", true),
            ("!!esp", true),
            ("frame.number == 014", true),
            ("frame.number == 0b1100", true),
            ("ip.src == ip.dst", false),
            ("ip.src ~= ip.dst", true),
            ("ip.addr == ip.src", true),
            ("ip.src < ip.dst", true),
            ("frame.number == nhrp.hdr.op.type", false),
        ],
    );
}

/// Wireshark 4.0: `!=` is "all not equal", `~=` "any not equal", `===` "all equal"; a field that
/// does not occur makes every comparison false.
#[test]
fn several_occurrences_follow_wireshark_4() {
    let f = esp_frame();
    expect(
        &f,
        &[
            ("ip.addr == 192.0.2.1", true),
            ("ip.addr != 192.0.2.1", false),
            ("ip.addr ~= 192.0.2.1", true),
            ("ip.addr != 198.51.100.1", true),
            ("ip.addr === 192.0.2.1", false),
            ("ip.addr === 0.0.0.0/0", true),
            ("ip.addr any_ne 192.0.2.1", true),
            ("ip.addr all_ne 10.0.0.1", false),
            ("eigrp.as != 100", false),
            ("eigrp.as ~= 100", false),
            ("eigrp.as < 100", false),
            ("!(eigrp.as == 100)", true),
        ],
    );
}

#[test]
fn values_of_every_kind() {
    let f = frame(&[
        ("eth.addr", Value::Mac([2, 0, 0, 0, 0, 1])),
        (
            "isakmp.ispi",
            Value::Cookie([0xa1, 0xb2, 0xc3, 0xd4, 0xe5, 0xf6, 0x07, 0x18]),
        ),
        ("ipv6.addr", Value::Ipv6("2001:db8::1".parse().unwrap())),
        ("ip.flags.df", Value::Uint(1)),
    ]);
    expect(
        &f,
        &[
            ("eth.addr == 02:00:00:00:00:01", true),
            ("eth.addr == 02-00-00-00-00-01", true),
            ("eth.addr == 0200.0000.0001", true),
            ("eth.addr == 02:00:00:00:00:02", false),
            ("isakmp.ispi == a1:b2:c3:d4:e5:f6:07:18", true),
            ("isakmp.ispi == a1b2c3d4e5f60718", true),
            ("isakmp.ispi == a1b2", false),
            ("ipv6.addr == 2001:db8::/32", true),
            ("ipv6.addr == \"2001:db8::1\"", true),
            ("ipv6.addr == 2001:db9::/32", false),
            ("ip.flags.df == True", true),
            ("ip.flags.df == 0", false),
        ],
    );
}

#[test]
fn errors_name_the_column_and_close_names() {
    let error = Filter::parse("esp && ip.adr == 192.0.2.1").unwrap_err();
    assert_eq!(error.column(), 8);
    let text = error.to_string();
    assert!(
        text.contains("`ip.adr`") && text.contains("did you mean ip.addr"),
        "{text}"
    );
    let error = Filter::parse("nhrp.src.nbma == 1.2.3.4").unwrap_err();
    assert!(error.to_string().contains("nhrp.src.nbma.addr"), "{error}");
    for (filter, column, words) in [
        ("", 1, "empty"),
        ("esp &&", 7, "filter ends"),
        ("(esp", 5, "`)`"),
        ("esp)", 4, "unexpected"),
        ("ip.addr == 300.1.1.1", 12, "IPv4"),
        ("ip.addr == 1.2.3.4/33", 12, "IPv4"),
        ("esp.spi == zz", 12, "unsigned integer"),
        ("esp == 1", 5, "protocol"),
        ("frame.number in {}", 18, "value"),
        ("frame.number in {1..}", 21, "end of the range"),
        ("frame.number in 1", 17, "`{`"),
        ("ip.src == \"1.2.3.4", 11, "closing"),
        ("esp # x", 5, "character"),
        ("esp.spi ==", 11, "value"),
        ("ip.flags.df == 2", 16, "True"),
    ] {
        let error = Filter::parse(filter).unwrap_err();
        assert_eq!(error.column(), column, "{filter}: {error}");
        assert!(error.to_string().contains(words), "{filter}: {error}");
    }
}

#[test]
fn deep_nesting_is_an_error_not_a_stack_overflow() {
    let deep = format!("{}esp{}", "(".repeat(10_000), ")".repeat(10_000));
    assert!(
        Filter::parse(&deep)
            .unwrap_err()
            .to_string()
            .contains("nested")
    );
    let nots = format!("{}esp", "!".repeat(10_000));
    assert!(Filter::parse(&nots).is_err());
    let ok = format!("{}esp{}", "(".repeat(50), ")".repeat(50));
    assert!(Filter::parse(&ok).is_ok());
    // A long flat chain is fine: it is parsed in a loop into one list, so evaluating it (on a
    // decoding thread's small stack) and dropping it recurse no deeper than one level.
    let long = vec!["esp && !eigrp"; 3_000].join(" || ");
    let filter = Filter::parse(&long).unwrap();
    std::thread::Builder::new()
        .stack_size(64 << 10)
        .spawn(move || {
            assert!(filter.matches(&esp_frame()));
            drop(filter);
        })
        .unwrap()
        .join()
        .unwrap();
}

#[test]
fn frame_ranges() {
    let keep = |ranges: &str, number: u64| {
        Filter::frames(ranges)
            .unwrap()
            .matches(&frame(&[("frame.number", Value::Uint(number))]))
    };
    assert!(keep("10-20,35", 10) && keep("10-20,35", 20) && keep("10-20,35", 35));
    assert!(!keep("10-20,35", 21) && !keep("10-20,35", 9));
    assert!(keep("100-", 1_000_000) && !keep("100-", 99));
    assert_eq!(Filter::frames("10-20,35").unwrap().last_frame(), Some(35));
    assert_eq!(Filter::frames("100-").unwrap().last_frame(), Some(u64::MAX));
    assert!(Filter::frames("20-10").is_err());
    assert!(Filter::frames("x").is_err());
    assert_eq!(Filter::frames("1,y").unwrap_err().column(), 3);
    let both = Filter::parse("esp")
        .unwrap()
        .and(Filter::frames("1-5").unwrap());
    assert_eq!(both.last_frame(), Some(5));
    assert_eq!(
        Filter::parse("esp || frame.number < 5")
            .unwrap()
            .last_frame(),
        None
    );
    assert_eq!(
        Filter::parse("frame.number < 5").unwrap().last_frame(),
        Some(4)
    );
}

#[test]
fn never_panics_on_any_input() {
    // The fuzz target's property, on random bytes and on filters that parse.
    bolero::check!().for_each(fuzzing::parse_bytes);
    for filter in [
        "ip.addr == 192.0.2.11 && esp.spi == 0x1000a001",
        "frame.number in {1..5, 12} || !(eigrp.as ~= 100)",
        "frame.cap_len < frame.len",
        "eth.addr == 02:00:00:00:00:01 and isakmp.ispi == a1b2c3d4e5f60718",
    ] {
        fuzzing::parse_bytes(filter.as_bytes());
    }
}
