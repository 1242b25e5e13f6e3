//! `-Y`, `-c` and `--frames` on the command line: decode shows, decrypt writes and sessions reads
//! the frames kept; threads print what one thread prints; bad filters are errors with a column.
#![allow(clippy::unwrap_used, clippy::expect_used)] // a test: a failed unwrap is a failed test

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn data() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../testdata/dmvpn")
}

fn dmvpn(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_dmvpn"))
        .args(args)
        .env_remove("NO_COLOR")
        .output()
        .unwrap()
}

fn path(name: &str) -> String {
    data().join(name).to_string_lossy().into_owned()
}

/// Asserts that the command succeeded, showing its standard error if not.
#[track_caller]
fn succeeded(output: &Output) {
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
}

/// The frame numbers of `decode --format json` output.
fn frames(output: &Output) -> Vec<u64> {
    succeeded(output);
    String::from_utf8_lossy(&output.stdout)
        .lines()
        .map(|line| {
            let value: serde_json::Value = serde_json::from_str(line).unwrap();
            value["frame"].as_u64().unwrap()
        })
        .collect()
}

fn decode(extra: &[&str]) -> Output {
    let (capture, keys) = (path("phase1.pcap"), path("phase1.esp_sa"));
    let mut args = vec!["decode", &capture, "--keys", &keys];
    args.extend_from_slice(extra);
    dmvpn(&args)
}

#[test]
fn decode_shows_the_frames_kept() {
    let esp_a = frames(&decode(&[
        "--format",
        "json",
        "-Y",
        "ip.addr == 192.0.2.11 && esp.spi == 0x1000a001",
    ]));
    assert_eq!(esp_a, [12, 22, 28, 32, 36, 38, 41]);
    let registrations = frames(&decode(&[
        "--format",
        "json",
        "-Y",
        "nhrp.hdr.op.type == 3",
    ]));
    assert_eq!(registrations, [12, 14, 16, 18, 20]);
    // Text lines are the same lines as without the filter, the others left out.
    let all = decode(&[]);
    let some = decode(&["-Y", "nhrp.hdr.op.type == 3"]);
    let all = String::from_utf8(all.stdout).unwrap();
    let some = String::from_utf8(some.stdout).unwrap();
    let expected: Vec<&str> = all
        .lines()
        .filter(|line| line.contains("Registration Request"))
        .collect();
    assert_eq!(some.lines().collect::<Vec<_>>(), expected);
}

/// A summary counts only the frames kept.
#[test]
fn summary_counts_the_frames_kept() {
    let output = decode(&["--format", "summary", "-Y", "eigrp"]);
    let text = String::from_utf8(output.stdout).unwrap();
    let frames_line = text.lines().find(|l| l.starts_with("frames")).unwrap();
    let count = frames_line.split_whitespace().nth(1).unwrap();
    assert_eq!(count, "10", "{text}");
}

/// tshark 4.0's `-c` counts frames read, before the filter: `-Y esp -c 3` on a capture whose
/// first three frames are ISAKMP shows nothing.
#[test]
fn count_is_frames_read_as_tsharks() {
    assert_eq!(frames(&decode(&["--format", "json", "-c", "3"])), [1, 2, 3]);
    assert!(frames(&decode(&["--format", "json", "-c", "3", "-Y", "esp"])).is_empty());
    assert_eq!(
        frames(&decode(&["--format", "json", "-c", "14", "-Y", "esp"])),
        [12, 13, 14]
    );
}

#[test]
fn frame_ranges() {
    assert_eq!(
        frames(&decode(&["--format", "json", "--frames", "3-5,40-"])),
        [3, 4, 5, 40, 41, 42]
    );
    assert_eq!(
        frames(&decode(&[
            "--format",
            "json",
            "--frames",
            "10-30",
            "-Y",
            "nhrp.hdr.op.type == 4"
        ])),
        [13, 15, 17, 19, 21]
    );
    let bad = decode(&["--frames", "9-3"]);
    assert_eq!(bad.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&bad.stderr).contains("--frames"));
}

/// Every thread count prints the bytes one thread prints, filter or not, in every format.
#[test]
fn threads_print_what_one_thread_prints() {
    for format in ["text", "json", "summary"] {
        for filter in [
            None,
            Some("esp.spi in {0x1000a001, 0x2000b002} || isakmp"),
            Some("!eigrp"),
        ] {
            let mut args = vec!["--format", format];
            if let Some(filter) = filter {
                args.extend(["-Y", filter]);
            }
            let one = decode(&args);
            assert!(one.status.success());
            for threads in ["2", "4"] {
                let mut with = args.clone();
                with.extend(["--threads", threads, "-c", "40"]);
                let mut without = args.clone();
                without.extend(["-c", "40"]);
                let many = decode(&with);
                let single = decode(&without);
                assert_eq!(
                    String::from_utf8_lossy(&many.stdout),
                    String::from_utf8_lossy(&single.stdout),
                    "{format} {filter:?} --threads {threads}"
                );
            }
            let mut with = args.clone();
            with.extend(["--threads", "3"]);
            assert_eq!(decode(&with).stdout, one.stdout, "{format} {filter:?}");
        }
    }
}

#[test]
fn decrypt_writes_the_frames_kept() {
    let out = std::env::temp_dir().join(format!("dmvpn-filter-cli-{}.pcapng", std::process::id()));
    let (capture, keys) = (path("phase1.pcap"), path("phase1.esp_sa"));
    let output = dmvpn(&[
        "decrypt",
        &capture,
        "--keys",
        &keys,
        "-o",
        &out.to_string_lossy(),
        "-Y",
        "gre && ip.src == 192.0.2.11",
    ]);
    succeeded(&output);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("left out by the display filter"),
        "{stderr}"
    );
    // The file holds the kept frames, decrypted: GRE in the clear now.
    let written = dmvpn(&["decode", &out.to_string_lossy(), "--format", "json"]);
    let lines = String::from_utf8(written.stdout).unwrap();
    let count = lines.lines().count();
    assert!(count > 0, "{stderr}");
    for line in lines.lines() {
        let value: serde_json::Value = serde_json::from_str(line).unwrap();
        let layers = value["layers"].as_array().unwrap();
        assert!(layers.iter().any(|l| l["proto"] == "gre"), "{line}");
        assert!(!layers.iter().any(|l| l["proto"] == "esp"), "{line}");
    }
    let expected = frames(&decode(&[
        "--format",
        "json",
        "-Y",
        "gre && ip.src == 192.0.2.11",
    ]));
    assert_eq!(count, expected.len());
    std::fs::remove_file(&out).ok();
}

#[test]
fn sessions_read_the_frames_kept() {
    let (capture, keys) = (path("phase1.pcap"), path("phase1.esp_sa"));
    let all = dmvpn(&["sessions", &capture, "--keys", &keys, "--format", "json"]);
    let one = dmvpn(&[
        "sessions",
        &capture,
        "--keys",
        &keys,
        "--format",
        "json",
        "-Y",
        "ip.addr == 192.0.2.11",
    ]);
    succeeded(&one);
    let all: serde_json::Value = serde_json::from_slice(&all.stdout).unwrap();
    let one: serde_json::Value = serde_json::from_slice(&one.stdout).unwrap();
    let pairs = |report: &serde_json::Value| report["peers"].as_array().map_or(0, Vec::len);
    assert!(pairs(&all) > 1, "{all}");
    assert_eq!(pairs(&one), 1, "{one}");
    assert!(one["frames"].as_u64() < all["frames"].as_u64());
}

#[test]
fn bad_filters_are_errors_with_a_column_and_close_names() {
    let output = decode(&["-Y", "esp && ip.adr == 192.0.2.1"]);
    assert_eq!(output.status.code(), Some(1));
    assert!(output.stdout.is_empty());
    let stderr = String::from_utf8(output.stderr).unwrap();
    assert!(stderr.contains("column 8"), "{stderr}");
    assert!(stderr.contains("did you mean ip.addr"), "{stderr}");
    // The line under the filter points at the column.
    let caret = stderr.lines().find(|l| l.trim() == "^").unwrap();
    assert_eq!(caret.find('^'), Some(4 + 7), "{stderr}");
    for bad in [
        "esp &&",
        "(esp",
        "ip.addr == 300.0.0.1",
        "esp == 1",
        "frame.number in {}",
    ] {
        let output = decode(&["-Y", bad]);
        assert_eq!(output.status.code(), Some(1), "{bad}");
        assert!(
            String::from_utf8_lossy(&output.stderr).contains("column"),
            "{bad}"
        );
    }
}
