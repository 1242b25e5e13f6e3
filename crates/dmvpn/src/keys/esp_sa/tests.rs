use super::*;

const TMPL_1: &str = r#""IPv4","192.168.0.1","192.168.0.100","0x070883c2","AES-CBC [RFC3602]","0x5de1a4c2c72662c9fda7a7c78cd25623","HMAC-SHA-1-96 [RFC2404]","0x51c9213c18232f8f26c70c4dee6e0e6d56e31e8a""#;

fn one(line: &str) -> Result<EspSa, KeysError> {
    parse(line, None).map(|mut v| v.remove(0))
}

fn error(line: &str) -> (usize, usize, String) {
    let err = parse(line, None).unwrap_err();
    let location = err.location().unwrap().clone();
    (
        location.line,
        location.column,
        err.kind().unwrap().to_string(),
    )
}

#[test]
fn wireshark_template_line() {
    let sa = one(TMPL_1).unwrap();
    assert_eq!(sa.family, AddressFamily::Ipv4);
    assert_eq!(sa.src.to_string(), "192.168.0.1");
    assert_eq!(sa.spi, SpiPattern::one(0x0708_83c2));
    assert_eq!(
        (sa.encryption, sa.integrity),
        (Encryption::AesCbc, Integrity::HmacSha1_96)
    );
    assert_eq!(sa.encryption_key().as_bytes()[..2], [0x5d, 0xe1]);
    assert_eq!(sa.integrity_key().len(), 20);
    assert_eq!(sa.sa_for(0x0708_83c2).map(|sa| sa.spi()), Ok(0x0708_83c2));
    assert_eq!(sa.unchecked_icv, 0);
    assert_eq!(sa.line, 1);
    assert_eq!(sa.to_line(KeyDisplay::Shown), TMPL_1);
    let a: IpAddr = "192.168.0.1".parse().unwrap();
    let b: IpAddr = "192.168.0.100".parse().unwrap();
    assert!(sa.matches(a, b, 0x0708_83c2));
    assert!(!sa.matches(b, a, 0x0708_83c2));
    assert!(!sa.matches(a, b, 0x0708_83c3));
}

#[test]
fn keys_are_never_printed_by_default() {
    let sa = one(TMPL_1).unwrap();
    let debug = format!("{sa:?}");
    assert!(!debug.contains("5de1a4"), "{debug}");
    assert!(debug.contains("<16 bytes redacted>"), "{debug}");
    assert!(debug.contains("<20 bytes redacted>"), "{debug}");
    let redacted = sa.to_line(KeyDisplay::Redacted);
    assert!(!redacted.contains("5de1a4") && redacted.contains("0x<redacted>"));
}

#[test]
fn wildcards_prefixes_and_variants() {
    let text = "\u{feff}# comment\r\n\r\n  \"Any\" , \"*\" ,\"10.1.*.*\",\"0x1234****\",\"NULL\",\"\",\"HMAC-MD5-96 [RFC2403]\",\"0x00112233445566778899aabbccddeeff\"\r\n\
                IPv6,2001:db8::/32,*,*,\"AES-GCM [RFC4106]\",0x000102030405060708090a0b0c0d0e0f10111213,\"ANY 128 bit authentication [no checking]\",\"\",\"64-bit\",\"0x1\"\n\
                \"IPv4\",\"10.0.0.0/8\",\"*\",\"305419896\",\"TripleDES-CBC [RFC2451]\",\"0x4043434545464649494a4a4c4c4f4f515152525454575758\",\"NULL\",\"\"\n";
    let sas = parse(text, None).unwrap();
    assert_eq!(sas.len(), 3);
    let [any, v6, v4] = &sas[..] else { panic!() };
    assert_eq!((any.line, v6.line, v4.line), (3, 4, 5));
    assert_eq!(any.family, AddressFamily::Any);
    assert_eq!(any.dst.to_string(), "10.1.0.0/16");
    assert_eq!(any.spi.to_string(), "0x1234****");
    assert!(any.matches(
        "1.2.3.4".parse().unwrap(),
        "10.1.200.3".parse().unwrap(),
        0x1234_abcd
    ));
    assert!(!any.matches(
        "1.2.3.4".parse().unwrap(),
        "10.2.0.3".parse().unwrap(),
        0x1234_abcd
    ));
    assert!(!any.matches(
        "1.2.3.4".parse().unwrap(),
        "10.1.0.3".parse().unwrap(),
        0x1235_abcd
    ));
    assert_eq!(any.sa_for(0x1234_0001).unwrap().spi(), 0x1234_0001);
    assert_eq!(
        (v6.encryption, v6.integrity, v6.esn, v6.esn_high),
        (Encryption::AesGcm16, Integrity::None, true, 1)
    );
    assert_eq!(v6.src.to_string(), "2001:db8::/32");
    assert!(v6.matches("2001:db8:1::1".parse().unwrap(), "::1".parse().unwrap(), 7));
    assert!(!v6.matches("2001:db9::1".parse().unwrap(), "::1".parse().unwrap(), 7));
    assert!(!v6.matches("10.0.0.1".parse().unwrap(), "::1".parse().unwrap(), 7));
    assert_eq!(
        v6.to_line(KeyDisplay::Redacted),
        r#""IPv6","2001:db8::/32","*","*","AES-GCM with 16 octet ICV [RFC4106]","0x<redacted>","NULL","0x<redacted>","64-bit","0x1""#
    );
    assert_eq!(v4.spi.exact(), Some(0x1234_5678));
    assert_eq!(v4.src.to_string(), "10.0.0.0/8");
    assert!(v4.matches(
        "10.9.9.9".parse().unwrap(),
        "8.8.8.8".parse().unwrap(),
        0x1234_5678
    ));
}

#[test]
fn ascii_keys_and_escapes() {
    let line = r#""IPv4","*","*","0x1","AES-CBC [RFC3602]","sixteen byte key","HMAC-SHA-1-96 [RFC2404]","\x41\"\\34567890123456789""#;
    let sa = one(line).unwrap();
    assert_eq!(sa.encryption_key().as_bytes(), b"sixteen byte key");
    assert_eq!(sa.integrity_key().as_bytes(), b"A\"\\34567890123456789");
}

#[test]
fn error_positions_and_messages() {
    let cases: &[(&str, usize, &str)] = &[
        (
            r#""IPv4","1.2.3.4""#,
            1,
            "expected 8 fields (10 with the sequence-number fields), found 2",
        ),
        (
            r#""IPv5","*","*","*","NULL","","NULL","""#,
            1,
            "unknown protocol \"IPv5\"; expected one of \"IPv4\", \"IPv6\", \"Any\"",
        ),
        (
            r#""IPv4","1.2.3","*","*","NULL","","NULL","""#,
            8,
            "invalid address \"1.2.3\": expected an IPv4 or IPv6 address, `*`, IPv4 octets with `*`, or address/prefix-length",
        ),
        (
            r#""IPv4","*","::1","*","NULL","","NULL","""#,
            12,
            "address \"::1\" is not IPv4, as the protocol field says",
        ),
        (
            r#""IPv4","*","*","0x123456789","NULL","","NULL","""#,
            16,
            "invalid SPI \"0x123456789\": expected 0x and 1 to 8 hex digits (`*` for any digit), a decimal number, or `*`",
        ),
        (
            r#""IPv4","*","*","*","AES-CTR [RFC3686]","","NULL","""#,
            20,
            "algorithm \"AES-CTR [RFC3686]\" is valid in Wireshark but not supported by dmvpn",
        ),
        (
            r#""IPv4","*","*","*","AES-CBC [RFC3602]","0x0011223","NULL","""#,
            40,
            "odd number of hex digits (7) in key",
        ),
        (
            r#""IPv4","*","*","*","AES-CBC [RFC3602]","0x00112g","NULL","""#,
            48,
            "invalid hex digit `g` in key",
        ),
        (
            r#""IPv4","*","*","*","AES-CBC [RFC3602]","0x0011","NULL","""#,
            40,
            "AES-CBC [RFC3602] key is 2 bytes; expected 16, 24 or 32 bytes",
        ),
        (
            r#""IPv4","*","*","*","NULL","","HMAC-MD5-96 [RFC2403]","0x00""#,
            54,
            "HMAC-MD5-96 [RFC2403] key is 1 bytes; expected 16 bytes",
        ),
        (
            r#""IPv4","*","*","*","AES-GCM [RFC4106]","","NULL","""#,
            43,
            "\"AES-GCM [RFC4106]\" takes its ICV length from the authentication field, which must be \"ANY 64|96|128 bit authentication [no checking]\", not \"NULL\"",
        ),
        (
            r#""IPv4","*","*","*","AES-GCM with 8 octet ICV [RFC4106]","0x0001020304050607080910111213141516171819","ANY 96 bit authentication [no checking]","""#,
            102,
            "\"ANY 96 bit authentication [no checking]\" does not match the ICV length of \"AES-GCM with 8 octet ICV [RFC4106]\"",
        ),
        (
            r#""IPv4","*","*","*","NULL","" x"#,
            30,
            "expected `,` after the field, found `x`",
        ),
        (
            r#""IPv4","*","*","*","NULL","","NULL","\q""#,
            38,
            "invalid escape `\\q` (expected \\\\, \\\" or \\xHH)",
        ),
        (
            r#""IPv4","*","*","*","NULL","","NULL",""#,
            37,
            "unterminated quoted field",
        ),
        (
            r#""IPv4","*","*","*","NULL","","NULL","","128-bit","0""#,
            40,
            "invalid sequence number length \"128-bit\"; expected \"32-bit\" or \"64-bit\"",
        ),
        (
            r#""IPv4","*","*","*","NULL","","NULL","","64-bit","0xfffffffff""#,
            49,
            "invalid ESN high bits \"0xfffffffff\"; expected a 32-bit number (0x hex or decimal)",
        ),
    ];
    for (line, column, message) in cases {
        assert_eq!(error(line), (1, *column, (*message).to_owned()), "{line}");
    }
    let (line, column, message) = error(r#""IPv4","*","*","*","3DES","","NULL","""#);
    assert_eq!((line, column), (1, 20));
    assert!(message.starts_with("unknown encryption algorithm \"3DES\"; expected one of \"NULL\", \"TripleDES-CBC [RFC2451]\""), "{message}");
    let (_, column, message) = error(r#""IPv4","*","*","*","NULL","","SHA1","""#);
    assert_eq!(column, 30);
    assert!(message.contains("\"HMAC-SHA-1-96 [RFC2404]\""), "{message}");
}

#[test]
fn any_bit_authentication_is_an_unchecked_icv() {
    for (bits, label) in [
        (64, "ANY 64 bit authentication [no checking]"),
        (96, "ANY 96 bit authentication [no checking]"),
        (128, "ANY 128 bit authentication [no checking]"),
        (192, "ANY 192 bit authentication [no checking]"),
        (256, "ANY 256 bit authentication [no checking]"),
    ] {
        for (encryption, key) in [
            ("NULL", ""),
            ("AES-CBC [RFC3602]", "0x000102030405060708090a0b0c0d0e0f"),
            (
                "TripleDES-CBC [RFC2451]",
                "0x4043434545464649494a4a4c4c4f4f515152525454575758",
            ),
        ] {
            // Whatever the key field holds is not used.
            let line = format!(
                r#""IPv4","*","10.0.0.2","0x10","{encryption}","{key}","{label}","0x0102""#
            );
            let sa = one(&line).unwrap();
            assert_eq!(sa.integrity, Integrity::None);
            assert_eq!(usize::from(sa.unchecked_icv) * 8, bits, "{line}");
            assert!(sa.integrity_key().is_empty());
            let prepared = sa.sa_for(0x10).unwrap();
            assert_eq!(prepared.icv_len(), bits / 8);
            assert!(!prepared.icv_checked());
            // Written back, the line names the same ICV (and no key).
            let back = sa.to_line(KeyDisplay::Shown);
            assert!(back.contains(label), "{back}");
            assert_eq!(one(&back).unwrap().unchecked_icv, sa.unchecked_icv);
        }
    }
}

#[test]
fn unsupported_and_unknown_algorithms_are_marked() {
    for line in [
        r#""IPv4","*","*","*","TWOFISH-CBC","0x00","NULL","""#,
        r#""IPv4","*","*","*","Serpent","0x00","NULL","""#,
        r#""IPv4","*","*","*","NULL","","MAC-RIPEMD-160-96 [RFC2857]","0x00""#,
        r#""IPv4","*","*","*","NULL","","HMAC-SHA-3","0x00""#,
        r#""IPv4","*","*","*","AES-GCM [RFC4106]","","ANY 192 bit authentication [no checking]","""#,
    ] {
        let err = parse(line, None).unwrap_err();
        assert!(
            err.kind().is_some_and(ParseErrorKind::is_unsupported),
            "{err}"
        );
    }
    for line in [
        r#""IPv4","*","*","*","AES-CBC [RFC3602]","0x00","NULL","""#,
        r#""IPv5","*","*","*","NULL","","NULL","""#,
    ] {
        let err = parse(line, None).unwrap_err();
        assert!(
            !err.kind().is_some_and(ParseErrorKind::is_unsupported),
            "{err}"
        );
    }
}

#[test]
fn error_display_names_file_line_and_column() {
    let text = "# header\n\n   \"IPv4\",\"*\",\"*\",\"zz\",\"NULL\",\"\",\"NULL\",\"\"\n";
    let err = parse(text, Some(std::path::Path::new("esp_sa"))).unwrap_err();
    assert_eq!(
        err.to_string(),
        "keys: esp_sa: line 3, column 19: invalid SPI \"zz\": expected 0x and 1 to 8 hex digits (`*` for any digit), a decimal number, or `*`"
    );
}

#[test]
fn lenient_parsing_keeps_the_good_lines() {
    let text = format!("{TMPL_1}\nbad line\n{TMPL_1}\n");
    let results: Vec<_> = parse_lenient(&text, None).collect();
    assert_eq!(results.len(), 3);
    assert!(results[0].is_ok() && results[1].is_err() && results[2].is_ok());
}

#[test]
fn arbitrary_text_never_panics() {
    bolero::check!().for_each(|bytes: &[u8]| {
        let text = String::from_utf8_lossy(bytes);
        for result in parse_lenient(&text, None) {
            if let Err(KeysError::Parse { location, .. }) = result {
                assert!(location.line >= 1 && location.column >= 1);
            }
        }
    });
}
