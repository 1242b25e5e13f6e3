//! `dmvpn sessions --fail-on error|warning`: exit status 3 when the report has a finding of that
//! severity or worse, after the whole report is written; 0 otherwise; the capture error (2) of a
//! damaged capture comes first. Run on the project's diagnosis captures, one per severity.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::Path;
use std::process::{Command, Output};

use dmvpn_testkit::testdata;

fn sessions(capture: &Path, extra: &[&str]) -> Output {
    let mut command = Command::new(env!("CARGO_BIN_EXE_dmvpn"));
    command.arg("sessions").arg(capture);
    let keys = capture.with_extension("esp_sa");
    if keys.exists() {
        command.arg("--keys").arg(keys);
    }
    command.args(extra).output().unwrap()
}

/// The severities of a capture's findings, from its JSON report (so the test's expectations
/// follow the diagnosis, not a copy of it).
fn severities(capture: &Path) -> Vec<String> {
    let out = sessions(capture, &["--format", "json"]);
    assert!(out.status.success());
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["severity"].as_str().unwrap().to_owned())
        .collect()
}

#[test]
fn exit_status_follows_the_worst_finding() {
    // (capture, worst severity of its findings)
    let cases = [
        ("healthy", None),
        ("spoke-to-spoke-hairpin", Some("info")),
        ("tcp-mss-too-large", Some("warning")),
        ("esp-icv-failure", Some("error")),
    ];
    for (name, worst) in cases {
        let capture = testdata(&format!("sessions/{name}.pcap"));
        let found = severities(&capture);
        let rank = |s: &str| ["info", "warning", "error"].iter().position(|x| *x == s);
        assert_eq!(
            found.iter().filter_map(|s| rank(s)).max(),
            worst.and_then(rank),
            "{name}: {found:?}"
        );
        for (fail_on, threshold) in [("error", 2), ("warning", 1)] {
            let expected = worst.and_then(rank).is_some_and(|w| w >= threshold);
            for format in ["text", "json", "html"] {
                let out = sessions(&capture, &["--fail-on", fail_on, "--format", format]);
                let stderr = String::from_utf8_lossy(&out.stderr);
                assert_eq!(
                    out.status.code(),
                    Some(if expected { 3 } else { 0 }),
                    "{name} --fail-on {fail_on} --format {format}: {stderr}"
                );
                // The report is written in full either way.
                let plain = sessions(&capture, &["--format", format]);
                assert_eq!(out.stdout, plain.stdout, "{name} {format}");
                if expected {
                    let count = found
                        .iter()
                        .filter(|s| rank(s).unwrap() >= threshold)
                        .count();
                    assert!(
                        stderr.contains(&format!(
                            "{count} finding(s) of severity {fail_on} or worse"
                        )),
                        "{stderr}"
                    );
                } else {
                    assert!(stderr.is_empty() || !stderr.contains("finding"), "{stderr}");
                }
            }
        }
    }
}

#[test]
fn a_capture_error_comes_first() {
    // The ICV-failure capture cut in the middle of its last frame: exit 2, not 3.
    let capture = testdata("sessions/esp-icv-failure.pcap");
    let data = std::fs::read(&capture).unwrap();
    let dir = std::env::temp_dir().join(format!("dmvpn-fail-on-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let cut = dir.join("esp-icv-failure.pcap");
    std::fs::write(&cut, &data[..data.len() - 3]).unwrap();
    std::fs::copy(
        capture.with_extension("esp_sa"),
        cut.with_extension("esp_sa"),
    )
    .unwrap();
    let out = sessions(&cut, &["--fail-on", "warning"]);
    assert_eq!(out.status.code(), Some(2));
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn help_documents_the_option_and_the_status() {
    let top = Command::new(env!("CARGO_BIN_EXE_dmvpn"))
        .arg("--help")
        .output()
        .unwrap();
    let top = String::from_utf8(top.stdout).unwrap();
    assert!(
        top.contains("  3    `dmvpn sessions --fail-on error|warning`"),
        "{top}"
    );
    let help = Command::new(env!("CARGO_BIN_EXE_dmvpn"))
        .args(["sessions", "--help"])
        .output()
        .unwrap();
    let help = String::from_utf8(help.stdout).unwrap();
    assert!(help.contains("--fail-on <SEVERITY>"), "{help}");
    assert!(
        help.contains("- warning: A finding of severity warning or error"),
        "{help}"
    );
    let bad = Command::new(env!("CARGO_BIN_EXE_dmvpn"))
        .args(["sessions", "x.pcap", "--fail-on", "info"])
        .output()
        .unwrap();
    assert_eq!(bad.status.code(), Some(1), "a bad argument");
}
