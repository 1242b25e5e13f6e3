//! `dmvpn decode --threads N` prints exactly what one thread prints, in the same order.

#![allow(clippy::unwrap_used, clippy::expect_used)] // a test: a failed unwrap is a failed test

use std::path::{Path, PathBuf};

use dmvpn::capture::{CaptureReader, Timestamp};
use dmvpn::decode::Decoder;
use dmvpn::keys::EspKeys;
use dmvpn::output::{JsonLines, Pending, TextLines};

fn decode_with<S: Pending + Send>(capture: &Path, keys: &[PathBuf], sinks: Vec<S>) -> Vec<u8> {
    let mut shards: Vec<(Decoder, S)> = sinks
        .into_iter()
        .map(|sink| {
            let mut esp = EspKeys::default();
            for key in keys {
                esp.load_file(key).unwrap();
            }
            (Decoder::new(esp), sink)
        })
        .collect();
    let mut out = Vec::new();
    let mut reader = CaptureReader::open(capture).unwrap();
    dmvpn::parallel::decode(&mut reader, &mut shards, &mut out, |_| {}).unwrap();
    out
}

fn first_timestamp(capture: &Path) -> Timestamp {
    CaptureReader::open(capture)
        .unwrap()
        .next_frame()
        .unwrap()
        .unwrap()
        .timestamp
}

fn check(capture: &Path, keys: &[PathBuf]) {
    let one = decode_with(capture, keys, vec![JsonLines::detached()]);
    for threads in [2, 3, 7] {
        let many = decode_with(
            capture,
            keys,
            (0..threads).map(|_| JsonLines::detached()).collect(),
        );
        assert!(
            one == many,
            "{}: JSON differs with {threads} threads",
            capture.display()
        );
    }
    let start = first_timestamp(capture);
    let one = decode_with(capture, keys, vec![TextLines::detached(start)]);
    let many = decode_with(
        capture,
        keys,
        (0..4).map(|_| TextLines::detached(start)).collect(),
    );
    assert!(
        one == many,
        "{}: text differs with 4 threads",
        capture.display()
    );
    assert!(!one.is_empty());
}

#[test]
fn threads_print_what_one_thread_prints() {
    let root = dmvpn_testkit::workspace();
    let data = root.join("testdata/dmvpn");
    check(&data.join("phase1.pcap"), &[data.join("phase1.esp_sa")]);
    let shared = dmvpn_testkit::captures_or_skip!();
    let klips = [shared.join("libreswan-klips/esp_sa.verified")];
    for name in [
        "libreswan-klips/08-sunrise-sunset-esp-sha1.pcap",
        "tcpdump/08-sunrise-sunset-esp2.pcap",
    ] {
        check(&shared.join(name), &klips);
    }
    for name in [
        "packetlife/mGRE_ICMP.cap",
        "packetlife/EIGRP_adjacency.cap",
        "tcpdump/nhrp.pcapng",
    ] {
        check(&shared.join(name), &[]);
    }
}

/// `dmvpn decode --format summary` prints the same table with one thread or two, and the table
/// holds what is known of testdata/dmvpn/phase1.pcap (42 frames, 29 of them ESP: 28 open with its
/// keys, one was made with a corrupted ICV; see `tools/gen/gen_testdata.py`).
#[test]
fn summary_format_is_the_same_with_threads() {
    let root = dmvpn_testkit::workspace();
    let data = root.join("testdata/dmvpn");
    let run = |threads: &str| {
        let output = std::process::Command::new(env!("CARGO_BIN_EXE_dmvpn"))
            .arg("decode")
            .arg(data.join("phase1.pcap"))
            .arg("--keys")
            .arg(data.join("phase1.esp_sa"))
            .args(["--format", "summary", "--threads", threads])
            .output()
            .unwrap();
        assert!(output.status.success(), "{output:?}");
        String::from_utf8(output.stdout).unwrap()
    };
    let one = run("1");
    assert_eq!(one, run("2"));
    let count = |name: &str| -> u64 {
        one.lines()
            .find_map(|line| {
                let (key, value) = line.rsplit_once(char::is_whitespace)?;
                (key.trim() == name).then(|| value.parse().ok())?
            })
            .unwrap_or_else(|| panic!("no `{name}` line in:\n{one}"))
    };
    assert!(one.starts_with("frames"), "{one}");
    assert_eq!(count("esp"), 29);
    assert_eq!(count("esp decrypted"), 28);
    assert_eq!(count("esp ICV failed"), 1);
}
