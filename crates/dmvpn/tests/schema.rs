//! The JSON contract: `dmvpn decode --format json` and `dmvpn sessions --format json`, run on every
//! capture in `testdata/` and in `../shared/captures` (when present), without and with their keys,
//! are valid against the schemas in `crates/dmvpn/schemas/` (the ones the library ships as
//! `dmvpn::json::DECODE_FRAME_SCHEMA` and `SESSIONS_SCHEMA`); the schemas refuse output that
//! drifted from them; and every instant is the frame's capture time (checked against tshark's
//! `frame.time_epoch` when tshark is installed).

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod schema_validator;

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::Command;

use dmvpn::keys::KeyFiles;
use dmvpn_testkit::{captures, testdata, tshark_available, tshark_fields, workspace};
use schema_validator::{Validator, days_in_month};
use serde_json::Value;

fn validator(text: &str) -> Validator {
    Validator::new(serde_json::from_str(text).unwrap()).unwrap()
}

/// Every capture file under `dir`, recursively, in a stable order.
fn capture_files(dir: &Path, out: &mut Vec<PathBuf>) {
    let mut entries: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    entries.sort();
    for path in entries {
        let name = path.file_name().unwrap().to_string_lossy().into_owned();
        if path.is_dir() {
            capture_files(&path, out);
        } else if [".pcap", ".pcapng", ".cap", ".pcap.gz", ".pcapng.gz"]
            .iter()
            .any(|ext| name.ends_with(ext))
        {
            out.push(path);
        }
    }
}

/// The captures to run on: the project's, and the real ones when they are present.
fn all_captures() -> Vec<PathBuf> {
    let mut list = Vec::new();
    capture_files(&testdata(""), &mut list);
    assert!(list.len() > 20, "testdata/ has {} captures", list.len());
    match captures() {
        Some(dir) => capture_files(&dir, &mut list),
        None => eprintln!("skipping ../shared/captures: not present (only testdata/ is checked)"),
    }
    list
}

/// The key files that go with a capture: its own (`NAME.esp_sa`, `NAME.ikev1_decryption_table`,
/// `NAME.ikev2_decryption_table`)
/// and the key tables in its folder (`esp_sa*`, `ikev1_decryption_table*`,
/// `ikev2_decryption_table*`, `*secrets.txt`) that dmvpn reads.
fn key_files(capture: &Path) -> Vec<PathBuf> {
    let dir = capture.parent().unwrap();
    let stem = capture.file_name().unwrap().to_string_lossy();
    let stem = stem.split('.').next().unwrap();
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|path| {
            let name = path.file_name().unwrap().to_string_lossy();
            name == format!("{stem}.esp_sa")
                || name == format!("{stem}.ikev1_decryption_table")
                || name == format!("{stem}.ikev2_decryption_table")
                || name.starts_with("esp_sa")
                || name.starts_with("ikev1_decryption_table")
                || name.starts_with("ikev2_decryption_table")
                || name.ends_with("secrets.txt")
        })
        .filter(|path| KeyFiles::load([path]).is_ok())
        .collect();
    files.sort();
    files
}

/// Runs dmvpn; its standard output (the exit status may be 2 for a damaged capture).
fn dmvpn(args: &[&str], keys: &[PathBuf]) -> String {
    let mut command = Command::new(env!("CARGO_BIN_EXE_dmvpn"));
    command.args(args);
    for key in keys {
        command.arg("--keys").arg(key);
    }
    let output = command.output().unwrap();
    assert!(
        matches!(output.status.code(), Some(0 | 2)),
        "dmvpn {args:?}: {:?}\n{}",
        output.status,
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8(output.stdout).unwrap()
}

/// Each capture once without keys and, when it has key files, once with them.
fn runs() -> Vec<(PathBuf, Vec<PathBuf>)> {
    let mut runs = Vec::new();
    for capture in all_captures() {
        let keys = key_files(&capture);
        if !keys.is_empty() {
            runs.push((capture.clone(), keys));
        }
        runs.push((capture, Vec::new()));
    }
    runs
}

/// Runs `check` over `runs()` on two threads; the failures, at most 5 per run.
fn over_runs(check: impl Fn(&Path, &[PathBuf]) -> Vec<String> + Sync) -> Vec<String> {
    let runs = runs();
    let half = runs.len().div_ceil(2);
    std::thread::scope(|scope| {
        let workers: Vec<_> = runs
            .chunks(half.max(1))
            .map(|chunk| {
                let check = &check;
                scope.spawn(move || {
                    chunk
                        .iter()
                        .flat_map(|(capture, keys)| {
                            let rel = capture.strip_prefix(workspace()).unwrap_or(capture);
                            check(capture, keys).into_iter().take(5).map(move |e| {
                                format!("{} (keys: {}): {e}", rel.display(), keys.len())
                            })
                        })
                        .collect::<Vec<_>>()
                })
            })
            .collect();
        workers
            .into_iter()
            .flat_map(|w| w.join().unwrap())
            .collect()
    })
}

#[test]
fn the_schemas_use_only_checked_keywords_and_carry_the_version() {
    for (name, text, file) in [
        (
            "decode",
            dmvpn::json::DECODE_FRAME_SCHEMA,
            "decode-frame.schema.json",
        ),
        (
            "sessions",
            dmvpn::json::SESSIONS_SCHEMA,
            "sessions.schema.json",
        ),
    ] {
        let on_disk =
            std::fs::read_to_string(workspace().join("crates/dmvpn/schemas").join(file)).unwrap();
        assert_eq!(text, on_disk, "{name}");
        let schema: Value = serde_json::from_str(text).unwrap();
        assert_eq!(
            schema["$schema"],
            "https://json-schema.org/draft/2020-12/schema"
        );
        assert_eq!(
            schema["properties"]["schema_version"]["const"],
            dmvpn::json::SCHEMA_VERSION,
            "{name}"
        );
        Validator::new(schema).unwrap();
    }
}

#[test]
fn decode_json_matches_its_schema() {
    let schema = validator(dmvpn::json::DECODE_FRAME_SCHEMA);
    let protos = std::sync::Mutex::new(BTreeSet::new());
    let failures = over_runs(|capture, keys| {
        let out = dmvpn(
            &["decode", capture.to_str().unwrap(), "--format", "json"],
            keys,
        );
        let mut errors = Vec::new();
        for line in out.lines() {
            let frame: Value = serde_json::from_str(line).unwrap();
            for layer in frame["layers"].as_array().into_iter().flatten() {
                protos
                    .lock()
                    .unwrap()
                    .insert(layer["proto"].as_str().unwrap_or("?").to_owned());
            }
            errors.extend(
                schema
                    .errors(&frame)
                    .into_iter()
                    .map(|e| format!("frame {}: {e}", frame["frame"])),
            );
        }
        errors
    });
    let protos = protos.into_inner().unwrap();
    eprintln!("layers seen: {protos:?}");
    // The DMVPN stack at least, or the test checked little.
    for proto in [
        "eth", "ipv4", "udp", "esp", "gre", "nhrp", "eigrp", "isakmp",
    ] {
        assert!(protos.contains(proto), "no {proto} layer in any capture");
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn sessions_json_matches_its_schema() {
    let schema = validator(dmvpn::json::SESSIONS_SCHEMA);
    let failures = over_runs(|capture, keys| {
        let out = dmvpn(
            &["sessions", capture.to_str().unwrap(), "--format", "json"],
            keys,
        );
        if out.is_empty() {
            return vec!["no output".to_owned()];
        }
        let report: Value = serde_json::from_str(&out).unwrap();
        schema.errors(&report)
    });
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

/// The first decoded frame of the DMVPN capture, with its keys.
fn phase1_frames() -> Vec<Value> {
    let dir = testdata("dmvpn");
    let keys = vec![
        dir.join("phase1.esp_sa"),
        dir.join("phase1.ikev1_decryption_table"),
    ];
    phase1_json("decode", &keys)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

/// `dmvpn COMMAND phase1.pcap --format json` on the DMVPN capture, with these key files.
fn phase1_json(command: &str, keys: &[PathBuf]) -> String {
    let capture = testdata("dmvpn").join("phase1.pcap");
    dmvpn(
        &[command, capture.to_str().unwrap(), "--format", "json"],
        keys,
    )
}

/// The sessions report of the DMVPN capture, with these key files.
fn phase1_sessions(keys: &[PathBuf]) -> Value {
    serde_json::from_str(&phase1_json("sessions", keys)).unwrap()
}

/// The schemas are not so loose that they accept anything: each change below to real output is
/// refused, with the member named.
#[test]
fn the_schemas_refuse_drift() {
    let schema = validator(dmvpn::json::DECODE_FRAME_SCHEMA);
    let frames = phase1_frames();
    let esp_frame = frames
        .iter()
        .find(|f| {
            f["layers"]
                .as_array()
                .unwrap()
                .iter()
                .any(|l| l["proto"] == "esp")
        })
        .unwrap();
    assert!(schema.errors(esp_frame).is_empty());
    let esp_at = esp_frame["layers"]
        .as_array()
        .unwrap()
        .iter()
        .position(|l| l["proto"] == "esp")
        .unwrap();
    type Mutation = fn(&mut Value, usize);
    let mutations: [(&str, Mutation); 7] = [
        ("/ts", |f, _| f["ts"] = serde_json::json!(1_700_000_000.5)),
        ("schema_version", |f, _| {
            f.as_object_mut().unwrap().remove("schema_version");
        }),
        ("/schema_version", |f, _| {
            f["schema_version"] = "0.9.0".into()
        }),
        ("\"color\" is not allowed", |f, at| {
            f["layers"][at]["color"] = "red".into();
        }),
        ("/spi", |f, at| f["layers"][at]["spi"] = "0x1000A001".into()),
        ("/icv", |f, at| f["layers"][at]["icv"] = "ok".into()),
        ("/proto", |f, at| f["layers"][at]["proto"] = "espx".into()),
    ];
    for (expect, mutate) in mutations {
        let mut frame = esp_frame.clone();
        mutate(&mut frame, esp_at);
        let errors = schema.errors(&frame);
        assert!(
            errors.iter().any(|e| e.contains(expect)),
            "{expect}: {errors:?}"
        );
    }

    let schema = validator(dmvpn::json::SESSIONS_SCHEMA);
    let report = phase1_sessions(&[testdata("dmvpn").join("phase1.esp_sa")]);
    assert!(schema.errors(&report).is_empty());
    let mut old_time = report.clone();
    old_time["peers"][0]["first"]["time"] = "1700000000.000000000".into();
    assert!(!schema.errors(&old_time).is_empty());
    let mut old_offset = report.clone();
    old_offset["peers"][0]["earliest"] = "+0.000s".into();
    assert!(!schema.errors(&old_offset).is_empty());
    let mut severity = report;
    severity["findings"] =
        serde_json::json!([{"rule": "x", "severity": "fatal", "message": "", "frames": []}]);
    assert!(!schema.errors(&severity).is_empty());
}

/// Seconds since 1970 from our RFC 3339 instant (`YYYY-MM-DDTHH:MM:SS.NNNNNNNNNZ`), as
/// tshark's `frame.time_epoch` prints it (nine digits).
fn epoch(rfc3339: &str) -> String {
    let n = |range: std::ops::Range<usize>| rfc3339[range].parse::<u32>().unwrap();
    let (y, m, d) = (n(0..4), n(5..7), n(8..10));
    // Days from 1970-01-01, month by month.
    let days: u32 = (1970..y)
        .flat_map(|y| (1..=12).map(move |m| days_in_month(y, m)))
        .chain((1..m).map(|m| days_in_month(y, m)))
        .sum::<u32>()
        + d
        - 1;
    let secs = u64::from(days) * 86_400 + u64::from(n(11..13) * 3600 + n(14..16) * 60 + n(17..19));
    format!("{secs}.{}", &rfc3339[20..29])
}

#[test]
fn instants_are_the_capture_times() {
    let frames = phase1_frames();
    let ours: Vec<String> = frames
        .iter()
        .map(|f| epoch(f["ts"].as_str().unwrap()))
        .collect();
    // The sessions report uses the same instants.
    let report = phase1_sessions(&[]);
    let dir = testdata("dmvpn");
    assert_eq!(report["start"], frames[0]["ts"]);
    let first = &report["peers"][0]["first"];
    let index = first["frame"].as_u64().unwrap() as usize - 1;
    assert_eq!(first["time"], frames[index]["ts"]);
    if !tshark_available() {
        eprintln!("skipping the comparison with tshark: not installed");
        return;
    }
    let tshark: Vec<String> = tshark_fields(&dir.join("phase1.pcap"), &[], &["frame.time_epoch"])
        .into_iter()
        .map(|row| row[0].clone())
        .collect();
    assert_eq!(ours, tshark);
}
