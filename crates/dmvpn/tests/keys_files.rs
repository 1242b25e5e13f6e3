//! The key files that come with the shared captures are read line by line, and the SAs they give
//! decrypt every ESP packet of the captures they belong to (ICV checked), including ESP in UDP.
//! A synthetic DMVPN corpus from `../shared/bench/gen_corpus.py --keys-out` is decrypted the same
//! way. tcpdump's `-E` secrets, Wireshark's "ANY n bit" lines and key files with a BOM, CRLF,
//! unsupported algorithms and duplicate SAs are read through `KeyFiles` and the command. Skips
//! with a printed reason when a file or tool is missing.

// A panic with a message is how an integration test reports a failure.
#![allow(clippy::expect_used, clippy::unwrap_used)]

use std::io::Read;
use std::net::IpAddr;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

use dmvpn::capture::link::{self, EtherType};
use dmvpn::capture::{CaptureReader, Reassembler, Reassembly, ipv4, udp};
use dmvpn::decode::{Decoder, EspStatus, Icv};
use dmvpn::keys::{AddrPattern, EspKeys, FileKind, KeyDisplay, KeyFiles, SpiPattern};
use dmvpn_esp::{Encryption, Integrity};

/// The folder holding `captures/` (`../shared` beside the workspace), if the captures are there.
fn shared() -> Option<PathBuf> {
    let dir = dmvpn_testkit::captures().and_then(|dir| dir.parent().map(Path::to_path_buf));
    if dir.is_none() {
        println!("skipped: ../shared/captures is not there");
    }
    dir
}

fn open(path: &Path) -> Box<dyn Read> {
    if path.extension().is_some_and(|ext| ext == "gz") {
        let output = Command::new("gzip")
            .arg("-dc")
            .arg(path)
            .output()
            .expect("gzip");
        return Box::new(std::io::Cursor::new(output.stdout));
    }
    Box::new(std::fs::File::open(path).expect("capture"))
}

/// Counts (ESP packets, decrypted with a good ICV, of which next header is `inner`).
fn decrypt_all(capture: &Path, keys: &mut EspKeys, inner: u8) -> (usize, usize, usize) {
    let mut reader = CaptureReader::new(open(capture)).expect("capture header");
    let (mut esp, mut good, mut matching) = (0, 0, 0);
    let mut scratch = Vec::new();
    let mut reassembler = Reassembler::default();
    while let Some(frame) = reader.next_frame().expect("frame") {
        let Ok(decoded) = link::decode(frame.link_type, frame.data) else {
            continue;
        };
        if decoded.ethertype != EtherType::IPV4 {
            continue;
        }
        let packet = ipv4::Packet::new_checked(decoded.payload).expect("ipv4");
        let header = ipv4::Repr::parse(&packet, ipv4::ChecksumMode::Ignore).expect("ipv4 header");
        let (Reassembly::Unfragmented(payload) | Reassembly::Complete { payload, .. }) =
            reassembler.push(frame.timestamp, frame.number, &header, packet.payload())
        else {
            continue;
        };
        let bytes = match header.protocol {
            ipv4::Protocol::ESP => payload,
            ipv4::Protocol::UDP => {
                let datagram = udp::Packet::new_checked(payload).expect("udp");
                match udp::classify(datagram.src_port(), datagram.dst_port(), datagram.payload()) {
                    udp::Payload::Esp(bytes) => bytes,
                    _ => continue,
                }
            }
            _ => continue,
        };
        esp += 1;
        let spi = u32::from_be_bytes(bytes[..4].try_into().expect("spi"));
        let Some(sa) = keys.sa(IpAddr::V4(header.src), IpAddr::V4(header.dst), spi) else {
            continue;
        };
        if let Ok(plain) = sa.decrypt(bytes, &mut scratch) {
            good += 1;
            matching += usize::from(plain.next_header.0 == inner);
        }
    }
    (esp, good, matching)
}

#[test]
fn wireshark_template() {
    let Some(shared) = shared() else { return };
    let path = shared.join("captures/wireshark-testsuite/esp_sa.tmpl");
    let mut keys = EspKeys::from_file(&path).expect("esp_sa.tmpl");
    assert_eq!(keys.len(), 2);
    let first = &keys.entries()[0];
    assert_eq!(
        first.src,
        AddrPattern::V4 {
            addr: [192, 168, 0, 1].into(),
            mask: [255; 4].into()
        }
    );
    assert_eq!(first.spi, SpiPattern::one(0x0708_83c2));
    assert_eq!(
        (first.encryption, first.integrity),
        (Encryption::AesCbc, Integrity::HmacSha1_96)
    );
    // Written back with keys shown, each line is the file's line.
    let text = std::fs::read_to_string(&path).expect("read");
    for (sa, line) in keys.entries().iter().zip(text.lines()) {
        assert_eq!(sa.to_line(KeyDisplay::Shown), line);
        assert!(!format!("{sa:?}").contains("5de1a4c2"));
    }
    let capture = shared.join("captures/wireshark-testsuite/esp-bug-12671.pcapng.gz");
    // Tunnel mode: the inner packet is IPv4 (next header 4).
    assert_eq!(decrypt_all(&capture, &mut keys, 4), (6, 6, 6));
}

#[test]
fn libreswan_verified_keys_every_line() {
    let Some(shared) = shared() else { return };
    let dir = shared.join("captures/libreswan-klips");
    let text = std::fs::read_to_string(dir.join("esp_sa.verified")).expect("esp_sa.verified");
    let mut keys = EspKeys::parse(&text).expect("active lines");
    assert_eq!(keys.len(), 3);
    // The commented-out SAs (same SPIs, other keys) parse too, each on its own.
    let commented: Vec<&str> = text
        .lines()
        .filter_map(|line| line.strip_prefix("#\""))
        .collect();
    assert_eq!(commented.len(), 3);
    let mut alternatives = Vec::new();
    for line in commented {
        alternatives.push(EspKeys::parse(&format!("\"{line}")).expect("commented SA"));
    }
    for (capture, inner) in [
        ("libreswan-klips/08-sunrise-sunset-aes128.pcap", 4),
        ("libreswan-klips/08-sunrise-sunset-esp-sha1.pcap", 4),
        ("libreswan-klips/08-sunrise-sunset-udpesp-ping.pcap", 4),
        ("tcpdump/02-sunrise-sunset-esp.pcap", 4),
        ("tcpdump/espudp1.pcap", 4),
    ] {
        let (esp, good, matching) =
            decrypt_all(&shared.join("captures").join(capture), &mut keys, inner);
        assert_eq!((esp, good, matching), (8, 8, 8), "{capture}");
    }
    // AES-256 (the first commented SA) decrypts 08-sunrise-sunset-aes.pcap.
    let capture = shared.join("captures/tcpdump/08-sunrise-sunset-aes.pcap");
    assert_eq!(decrypt_all(&capture, &mut alternatives[0], 4), (8, 8, 8));
    // ESP in ESP with the second commented SA: the outer tunnel's plaintext is the IPv4 packet
    // that carries the inner ESP.
    let capture = shared.join("captures/tcpdump/08-sunrise-sunset-esp2.pcap");
    assert_eq!(decrypt_all(&capture, &mut alternatives[1], 4), (8, 8, 8));
}

#[test]
fn project_and_generated_key_files() {
    let dmvpn = dmvpn_testkit::testdata("dmvpn");
    if dmvpn.join("phase1.esp_sa").is_file() {
        let mut keys = EspKeys::from_file(dmvpn.join("phase1.esp_sa")).expect("phase1.esp_sa");
        assert!(!keys.is_empty());
        let (esp, good, gre) = decrypt_all(&dmvpn.join("phase1.pcap"), &mut keys, 47);
        // tools/gen/gen_testdata.py corrupts the ICV of exactly one packet.
        assert!(
            esp > 0 && good == esp - 1 && gre == good,
            "phase1: {esp} ESP, {good} decrypted, {gre} GRE"
        );
    } else {
        println!("skipped: testdata/dmvpn/phase1.esp_sa is not there");
    }
    let Some(shared) = shared() else { return };
    let generator = shared.join("bench/gen_corpus.py");
    let dir = std::env::temp_dir().join(format!("dmvpn-keys-test-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    let (pcap, esp_sa) = (dir.join("corpus.pcap"), dir.join("corpus.esp_sa"));
    let status = Command::new("python3")
        .arg(&generator)
        .args(["--packets", "1500", "--spokes", "6", "--out"])
        .arg(&pcap)
        .arg("--keys-out")
        .arg(&esp_sa)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status();
    if !status.is_ok_and(|s| s.success()) {
        println!(
            "skipped: {} did not run (python3 with scapy and cryptography needed)",
            generator.display()
        );
        return;
    }
    let mut keys = EspKeys::from_file(&esp_sa).expect("generated esp_sa");
    assert_eq!(keys.len(), 12, "two SAs per spoke");
    assert!(
        keys.entries()
            .iter()
            .any(|sa| sa.encryption == Encryption::TripleDesCbc)
    );
    let (esp, good, gre) = decrypt_all(&pcap, &mut keys, 47);
    assert!(esp > 1000, "{esp} ESP packets");
    assert_eq!((good, gre), (esp, esp), "every ESP packet decrypts to GRE");
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn damaged_key_files_never_panic() {
    let Some(shared) = shared() else { return };
    let mut seed = 0x2545_f491_4f6c_dd1du64;
    let mut next = move || {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        seed
    };
    for name in [
        "captures/libreswan-klips/esp_sa.verified",
        "captures/wireshark-testsuite/esp_sa.tmpl",
    ] {
        let original = std::fs::read(shared.join(name)).expect("key file");
        for _ in 0..500 {
            let mut bytes = original.clone();
            for _ in 0..=next() % 4 {
                let at = (next() % bytes.len() as u64) as usize;
                match next() % 4 {
                    0 => bytes[at] = b"\",*/0x\r\n#\\"[(next() % 10) as usize],
                    1 => bytes[at] ^= 1 << (next() % 8),
                    2 => bytes.truncate(at),
                    _ => {
                        bytes.remove(at);
                    }
                }
                if bytes.is_empty() {
                    break;
                }
            }
            dmvpn::keys::fuzzing::parse_esp_sa(&bytes);
        }
    }
}

/// What the decoder said about each ESP packet, in capture order: (SPI, status).
#[derive(Default)]
struct EspSeen(Vec<(u32, EspStatus)>);

impl dmvpn::decode::Sink for EspSeen {
    fn layer(&mut self, layer: &dmvpn::decode::Layer<'_>) {
        if let dmvpn::decode::Layer::Esp(esp) = layer {
            self.0.push((esp.spi, esp.status));
        }
    }
}

fn decode(capture: &Path, files: &KeyFiles) -> Vec<(u32, EspStatus)> {
    let mut decoder = Decoder::with_ike_keys(files.esp.clone(), files.ike.clone());
    let mut reader = CaptureReader::new(open(capture)).expect("capture header");
    let mut seen = EspSeen::default();
    while let Some(frame) = reader.next_frame().expect("frame") {
        decoder.decode(&frame, &mut seen);
    }
    seen.0
}

fn icv_of(status: EspStatus) -> Option<Icv> {
    match status {
        EspStatus::Decrypted { icv, .. } => Some(icv),
        _ => None,
    }
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|byte| format!("{byte:02x}")).collect()
}

fn temp_dir(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("dmvpn-{name}-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    dir
}

/// tcpdump's own secrets files: its SAs decrypt its captures with the ICV skipped unchecked,
/// as tcpdump does (`-hmac96` gives the ICV's length, not a key), and tcpdump agrees on which
/// packets open; its IKEv2 lines are recognised and skipped.
#[test]
fn tcpdump_secrets_from_tcpdumps_test_suite() {
    let Some(shared) = shared() else { return };
    let dir = shared.join("captures/tcpdump");
    let secrets = dir.join("esp-secrets.txt");
    let files = KeyFiles::load([&secrets]).expect("esp-secrets.txt");
    assert_eq!(files.kinds[0].1, FileKind::Tcpdump);
    assert_eq!(files.esp.len(), 3);
    assert!(files.warnings.is_empty(), "{:?}", files.warnings);
    for (capture, expected) in [
        // ESP in ESP: the outer SA 0x12345678 and the inner 0xabcdabcd, 8 packets each.
        ("08-sunrise-sunset-esp2.pcap", 16),
        ("08-sunrise-sunset-aes.pcap", 8),
    ] {
        let seen = decode(&dir.join(capture), &files);
        assert_eq!(seen.len(), expected, "{capture}");
        for (spi, status) in &seen {
            assert_eq!(icv_of(*status), Some(Icv::Unchecked), "{capture} {spi:#x}");
        }
        // tcpdump itself opens the same packets to the ICMP inside.
        let output = Command::new("tcpdump")
            .arg("-nr")
            .arg(dir.join(capture))
            .arg("-E")
            .arg(format!("file {}", secrets.display()))
            .stderr(Stdio::null())
            .output();
        match output {
            Ok(output) if output.status.success() => {
                let text = String::from_utf8_lossy(&output.stdout);
                assert_eq!(
                    text.matches("ICMP echo request").count(),
                    8,
                    "{capture}: {text}"
                );
            }
            _ => println!("skipped the tcpdump comparison: tcpdump did not run"),
        }
    }
    let ikev2 = KeyFiles::load([dir.join("ikev2pI2-secrets.txt")]).expect("ikev2 secrets");
    assert!(ikev2.esp.is_empty() && ikev2.ike.is_empty());
    assert_eq!(ikev2.warnings.len(), 1);
    assert!(
        ikev2.warnings[0]
            .to_string()
            .ends_with("ikev2pI2-secrets.txt:1: 2 IKEv2 key lines skipped: dmvpn decrypts ESP and IKEv1, not IKEv2"),
        "{}",
        ikev2.warnings[0]
    );
}

/// The project's capture with its keys rewritten the way users have them: tcpdump `-E` lines
/// (no integrity keys) and Wireshark "ANY n bit" lines. Every ESP packet then decrypts with the
/// ICV skipped, to the same plaintext as with the real keys; the packet whose ICV the
/// generator corrupted decrypts too, since nothing checks it.
#[test]
fn phase1_with_keys_as_tcpdump_and_any_bit_lines() {
    let dmvpn = dmvpn_testkit::testdata("dmvpn");
    let real = KeyFiles::load([dmvpn.join("phase1.esp_sa")]).expect("phase1.esp_sa");
    let (mut tcpdump, mut wireshark) = (String::from("# tcpdump -E\n"), String::new());
    for sa in real.esp.entries() {
        let (AddrPattern::V4 { addr: dst, .. }, Some(spi)) = (sa.dst, sa.spi.exact()) else {
            panic!("phase1.esp_sa has exact SAs");
        };
        let key = sa.encryption_key().as_bytes();
        let cipher = match (sa.encryption, key.len()) {
            (Encryption::Null, _) => Some("none"),
            (Encryption::TripleDesCbc, _) => Some("3des-cbc"),
            (Encryption::AesCbc, 16) => Some("aes128-cbc"),
            (Encryption::AesCbc, 32) => Some("aes256-cbc"),
            _ => None,
        };
        match (cipher, sa.integrity.icv_len()) {
            (Some(cipher), 12) => {
                tcpdump.push_str(&format!("{spi:#x}@{dst} {cipher}-hmac96:0x{}\n", hex(key)));
            }
            (Some(_), 16) => {
                // tcpdump has no 128-bit ICV; Wireshark's "ANY 128 bit" has.
                let mut line = sa.to_line(KeyDisplay::Shown);
                line = line.replace(
                    sa.integrity.wireshark_name(),
                    "ANY 128 bit authentication [no checking]",
                );
                wireshark.push_str(&line);
                wireshark.push('\n');
            }
            _ => {
                wireshark.push_str(&sa.to_line(KeyDisplay::Shown));
                wireshark.push('\n');
            }
        }
    }
    let files = KeyFiles::load_texts([(tcpdump.as_str(), None), (wireshark.as_str(), None)])
        .expect("rewritten keys");
    assert_eq!(files.esp.len(), real.esp.len());
    assert!(files.warnings.is_empty(), "{:?}", files.warnings);
    let capture = dmvpn.join("phase1.pcap");
    let checked = decode(&capture, &real);
    let unchecked = decode(&capture, &files);
    assert_eq!(checked.len(), unchecked.len());
    let failed = checked
        .iter()
        .filter(|(_, status)| *status == EspStatus::IcvFailed)
        .count();
    assert_eq!(failed, 1, "the generator corrupts one ICV");
    for ((spi, with_keys), (_, without)) in checked.iter().zip(&unchecked) {
        let gcm = spi & 0xffff == 0xd004;
        match (icv_of(*with_keys), icv_of(*without)) {
            (Some(Icv::Good), Some(icv)) => {
                assert_eq!(
                    icv,
                    if gcm { Icv::Good } else { Icv::Unchecked },
                    "{spi:#x}"
                );
                // Same plaintext: same next header and padding.
                let (
                    EspStatus::Decrypted {
                        next_header: a,
                        pad_len: b,
                        ..
                    },
                    EspStatus::Decrypted {
                        next_header: c,
                        pad_len: d,
                        ..
                    },
                ) = (with_keys, without)
                else {
                    unreachable!()
                };
                assert_eq!((a, b), (c, d), "{spi:#x}");
            }
            (None, Some(icv)) => {
                assert_eq!(*with_keys, EspStatus::IcvFailed);
                assert_eq!(
                    icv,
                    Icv::Unchecked,
                    "{spi:#x}: the corrupted ICV is not checked"
                );
            }
            other => panic!("{spi:#x}: {other:?}"),
        }
    }
}

/// Key files as people have them, through the command: BOMs, CRLF, an algorithm dmvpn does not
/// implement, a duplicate SA, "ANY 96 bit" lines. Warnings name the file and line and hold no
/// key; the JSON and text outputs say the ICV was not checked; four threads print the same as
/// one and warn once.
/// Runs `dmvpn COMMAND CAPTURE --keys KEY... EXTRA...` and asserts that it succeeded.
#[track_caller]
fn dmvpn_with_keys(command: &str, capture: &Path, keys: &[&Path], extra: &[&str]) -> Output {
    let mut dmvpn = Command::new(env!("CARGO_BIN_EXE_dmvpn"));
    dmvpn.arg(command).arg(capture);
    for key in keys {
        dmvpn.arg("--keys").arg(key);
    }
    let output = dmvpn.args(extra).output().expect("dmvpn runs");
    assert!(output.status.success(), "{output:?}");
    output
}

#[test]
fn the_command_reads_key_files_as_people_have_them() {
    let dmvpn = dmvpn_testkit::testdata("dmvpn");
    let dir = temp_dir("keys-command");
    let real = std::fs::read_to_string(dmvpn.join("phase1.esp_sa")).expect("phase1.esp_sa");
    let mut lines: Vec<String> = real
        .lines()
        .filter(|line| line.starts_with('"'))
        .map(str::to_owned)
        .collect();
    // SPI 0x1000a001 (AES-CBC, HMAC-SHA-1-96) without its integrity key.
    lines[0] = lines[0].replace(
        r#""HMAC-SHA-1-96 [RFC2404]","0x0102030405060708090a0b0c0d0e0f1011121314""#,
        r#""ANY 96 bit authentication [no checking]","""#,
    );
    assert!(
        lines[0].contains("ANY 96"),
        "phase1.esp_sa changed: {}",
        lines[0]
    );
    lines.insert(
        1,
        r#""IPv4","*","*","0x99","TWOFISH-CBC","0x00112233445566778899aabbccddeeff","NULL","""#
            .to_owned(),
    );
    // The same SA as line 3 (0x2000a001) with another key: line 3 is used.
    let duplicate = lines[2].replace("0xffeeddcc", "0x99eeddcc");
    lines.push(duplicate);
    let esp_sa = dir.join("keys.esp_sa");
    std::fs::write(&esp_sa, format!("\u{feff}{}\r\n", lines.join("\r\n"))).expect("write");
    let table =
        std::fs::read_to_string(dmvpn.join("phase1.ikev1_decryption_table")).expect("table");
    let ike = dir.join("ike.txt");
    std::fs::write(&ike, format!("\u{feff}{}", table.replace('\n', "\r\n"))).expect("write");
    let run = |format: &str, threads: &str| {
        let output = dmvpn_with_keys(
            "decode",
            &dmvpn.join("phase1.pcap"),
            &[&esp_sa, &ike],
            &["--format", format, "--threads", threads],
        );
        (
            String::from_utf8(output.stdout).expect("utf-8"),
            String::from_utf8(output.stderr).expect("utf-8"),
        )
    };
    let (json, stderr) = run("json", "1");
    let path = esp_sa.display();
    assert_eq!(
        stderr.lines().collect::<Vec<_>>(),
        [
            format!(
                "dmvpn: {path}:2: algorithm \"TWOFISH-CBC\" is valid in Wireshark but not supported by dmvpn; line skipped"
            ),
            format!(
                "dmvpn: {path}:12: SA 0x2000a001 192.0.2.1 -> 192.0.2.11 is also on {path}:3 with other keys; {path}:3 is used (the first, as Wireshark does)"
            ),
        ]
    );
    for secret in ["ffeeddcc", "99eeddcc", "00112233", "6b61206f"] {
        assert!(!stderr.contains(secret), "key material in {stderr}");
    }
    let mut icvs = std::collections::BTreeMap::new();
    for line in json.lines() {
        let frame: serde_json::Value = serde_json::from_str(line).expect("json");
        for layer in frame["layers"].as_array().expect("layers") {
            if layer["proto"] == "esp" && layer["decrypted"] == true {
                let key = (
                    layer["spi"].as_str().unwrap().to_owned(),
                    layer["icv"].as_str().unwrap().to_owned(),
                );
                *icvs.entry(key).or_insert(0) += 1;
            }
        }
    }
    assert!(
        icvs.keys()
            .any(|(spi, icv)| spi == "0x1000a001" && icv == "unchecked"),
        "{icvs:?}"
    );
    assert!(
        icvs.keys()
            .all(|(spi, icv)| (spi == "0x1000a001") == (icv == "unchecked")),
        "{icvs:?}"
    );
    // The IKEv1 table with its BOM decrypts ISAKMP.
    assert!(json.contains("\"proto\":\"isakmp\""));
    let (text, _) = run("text", "1");
    assert!(text.contains("decrypted, ICV unchecked"));
    let (parallel, parallel_stderr) = run("text", "4");
    assert_eq!(parallel, text);
    assert_eq!(
        parallel_stderr, stderr,
        "warnings once, however many threads"
    );
    let _ = std::fs::remove_dir_all(&dir);
}

/// A 500k-SA `esp_sa` file parses in well under a few seconds (release build) and decoding
/// shares it: `DMVPN_BIG_KEYS=1 cargo test --release -p dmvpn --test keys_files -- --ignored`.
#[test]
#[ignore = "parses 500k lines; run with --release to time it"]
fn half_a_million_sas() {
    let mut text = String::with_capacity(500_000 * 170);
    for n in 0..500_000u32 {
        text.push_str(&format!(
            "\"IPv4\",\"10.{}.{}.{}\",\"192.0.2.1\",\"{:#010x}\",\"AES-CBC [RFC3602]\",\"0x{:032x}\",\"HMAC-SHA-1-96 [RFC2404]\",\"0x{:040x}\"\n",
            n >> 16,
            (n >> 8) & 255,
            n & 255,
            0x1000_0000 + n,
            u128::from(n) * 0x9e37_79b9_7f4a_7c15,
            u128::from(n) * 0x7f4a_7c15
        ));
    }
    let start = std::time::Instant::now();
    let files = KeyFiles::load_texts([(text.as_str(), None)]).expect("big table");
    println!("500000 SAs parsed in {:?}", start.elapsed());
    assert_eq!(files.esp.len(), 500_000);
    assert!(files.warnings.is_empty());
    let start = std::time::Instant::now();
    let (src, dst) = ("10.6.161.32".parse().unwrap(), "192.0.2.1".parse().unwrap());
    let spi = 0x1000_0000 + (6 << 16) + (161 << 8) + 32;
    assert_eq!(
        files.esp.find(src, dst, spi).map(|sa| sa.line),
        Some(spi as usize - 0x1000_0000 + 1)
    );
    println!("first lookup (index built) in {:?}", start.elapsed());
    let clone = files.esp.clone();
    assert!(clone.shares_table_with(&files.esp));
}

/// `dmvpn sessions` reads a `crypto isakmp key` file and an IKEv1 table saved by a Windows
/// editor (BOM, CRLF): the PSK verifies the healthy capture's phase 1, and is not printed.
#[test]
fn sessions_reads_psk_and_ikev1_files_with_a_bom_and_crlf() {
    let dir = dmvpn_testkit::testdata("sessions");
    let tmp = temp_dir("keys-sessions");
    let psk = tmp.join("psk.txt");
    std::fs::write(
        &psk,
        "\u{feff}! hub\r\ncrypto isakmp key lab-psk-secret address 0.0.0.0 0.0.0.0\r\n",
    )
    .expect("write");
    let table = std::fs::read_to_string(dir.join("healthy.ikev1_decryption_table")).expect("table");
    let ike = tmp.join("ike.txt");
    std::fs::write(&ike, format!("\u{feff}{}", table.replace('\n', "\r\n"))).expect("write");
    let files = KeyFiles::load([&psk, &ike]).expect("key files");
    assert_eq!((files.psks.len(), files.ike.len()), (1, 1));
    let output = dmvpn_with_keys("sessions", &dir.join("healthy.pcap"), &[&ike, &psk], &[]);
    let text = String::from_utf8(output.stdout).expect("utf-8");
    assert!(text.contains("PSK verified: HASH_I (frame 5)"), "{text}");
    assert!(!text.contains("lab-psk-secret"));
    assert!(!String::from_utf8_lossy(&output.stderr).contains("lab-psk-secret"));
    let _ = std::fs::remove_dir_all(&tmp);
}
