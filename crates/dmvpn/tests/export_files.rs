//! `dmvpn export` read back with the `parquet` crate's own reader (no Python needed): one row per
//! frame agreeing with `dmvpn decode --format json`, the Hive layout, names that depend only on
//! the inputs' contents, idempotent re-export (stale files of the same export removed), a file
//! cut short exported up to its cut, and the session tables agreeing with `dmvpn sessions`.
#![cfg(feature = "parquet")]
#![allow(clippy::unwrap_used, clippy::expect_used)] // a test: a failed unwrap is a failed test

use std::collections::BTreeMap;
use std::fs::File;
use std::path::{Path, PathBuf};
use std::process::Command;

use dmvpn::decode::Decoder;
use dmvpn::keys::EspKeys;
use parquet::file::reader::{FileReader, SerializedFileReader};
use parquet::record::Field;
use serde_json::Value;

const DIR: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../../testdata/dmvpn");

fn capture() -> PathBuf {
    Path::new(DIR).join("phase1.pcap")
}

fn keys() -> PathBuf {
    Path::new(DIR).join("phase1.esp_sa")
}

/// `dmvpn COMMAND CAPTURE --keys KEYS --format json`'s output.
fn json(command: &str) -> Vec<u8> {
    let out = Command::new(env!("CARGO_BIN_EXE_dmvpn"))
        .arg(command)
        .arg(capture())
        .arg("--keys")
        .arg(keys())
        .args(["--format", "json"])
        .output()
        .unwrap();
    assert!(out.status.success());
    out.stdout
}

fn decoder() -> Decoder {
    Decoder::new(EspKeys::from_file(keys()).unwrap())
}

fn scratch(name: &str) -> PathBuf {
    dmvpn_testkit::temp_dir(&format!("dmvpn-export-{name}"))
}

/// Every `.parquet` file under `dir`, sorted.
fn files(dir: &Path) -> Vec<PathBuf> {
    dmvpn_testkit::files_under(dir)
}

/// The rows of one table, each as column name → value, with the partition's `date` and `hub`.
fn rows(dataset: &Path, table: &str) -> Vec<BTreeMap<String, Field>> {
    let mut out = Vec::new();
    for path in files(&dataset.join(table)) {
        let partition: Vec<String> = path
            .parent()
            .unwrap()
            .components()
            .rev()
            .take(2)
            .map(|c| c.as_os_str().to_string_lossy().into_owned())
            .collect();
        let reader = SerializedFileReader::new(File::open(&path).unwrap()).unwrap();
        for row in reader.get_row_iter(None).unwrap() {
            let row = row.unwrap();
            let mut map: BTreeMap<String, Field> = row
                .get_column_iter()
                .map(|(name, field)| (name.clone(), field.clone()))
                .collect();
            for part in &partition {
                let (key, value) = part.split_once('=').unwrap();
                map.insert(key.to_owned(), Field::Str(value.to_owned()));
            }
            out.push(map);
        }
    }
    out
}

fn long(field: &Field) -> Option<i64> {
    match field {
        Field::Long(v) | Field::TimestampMicros(v) => Some(*v),
        Field::Int(v) => Some(i64::from(*v)),
        _ => None,
    }
}

fn text(field: &Field) -> Option<&str> {
    match field {
        Field::Str(s) => Some(s),
        _ => None,
    }
}

#[test]
fn frames_agree_with_decode_json_and_reexport_is_idempotent() {
    let out = scratch("frames");
    let dataset = out.join("dataset");
    let stats = dmvpn::export::export(&[capture()], decoder, &dataset).unwrap();
    assert!(stats.errors.is_empty());
    assert_eq!(stats.export_id.len(), 32);
    let decoded: Vec<Value> = String::from_utf8(json("decode"))
        .unwrap()
        .lines()
        .map(|line| serde_json::from_str(line).unwrap())
        .collect();
    let mut reader = dmvpn::capture::CaptureReader::open(capture()).unwrap();
    let mut times = Vec::new();
    while let Some(frame) = reader.next_frame().unwrap() {
        times.push(frame.timestamp);
    }
    assert_eq!(stats.frames, decoded.len() as u64);

    let mut frames = rows(&dataset, "frames");
    assert_eq!(frames.len(), decoded.len());
    frames.sort_by_key(|row| long(&row["frame"]));
    let mut esp = 0;
    for (row, frame) in frames.iter().zip(&decoded) {
        let number = frame["frame"].as_i64().unwrap();
        assert_eq!(long(&row["frame"]), Some(number));
        assert_eq!(long(&row["source_frame"]), Some(number));
        assert_eq!(text(&row["source_file"]), Some("phase1.pcap"));
        assert_eq!(text(&row["export_id"]), Some(stats.export_id.as_str()));
        let layers = frame["layers"].as_array().unwrap();
        let names: Vec<_> = layers
            .iter()
            .map(|l| l["proto"].as_str().unwrap())
            .collect();
        assert_eq!(
            text(&row["layers"]),
            Some(names.join("/").as_str()),
            "frame {number}"
        );
        assert_eq!(long(&row["wire_len"]), frame["len"].as_i64());
        // The time in microseconds, and in nanoseconds exactly as the capture has it.
        let at = times[number as usize - 1];
        let ns = at.secs * 1_000_000_000 + i64::from(at.nanos);
        assert_eq!(long(&row["time_ns"]), Some(ns), "frame {number}");
        assert_eq!(
            long(&row["time"]),
            Some(ns.div_euclid(1000)),
            "frame {number}"
        );
        let outer = layers.iter().find(|l| l["proto"] == "ipv4").unwrap();
        assert_eq!(text(&row["src"]), outer["src"].as_str());
        if let Some(layer) = layers.iter().find(|l| l["proto"] == "esp") {
            esp += 1;
            let spi = u32::from_str_radix(&layer["spi"].as_str().unwrap()[2..], 16).unwrap();
            assert_eq!(long(&row["esp_spi"]), Some(i64::from(spi)));
            let outcome = if layer["decrypted"] == true {
                "decrypted"
            } else if layer["error"].as_str().is_some_and(|e| e.contains("ICV")) {
                "icv_failed"
            } else {
                text(&row["esp_outcome"]).unwrap()
            };
            assert_eq!(text(&row["esp_outcome"]), Some(outcome), "frame {number}");
        } else {
            assert_eq!(row["esp_spi"], Field::Null);
        }
        if let Some(nhrp) = layers.iter().find(|l| l["proto"] == "nhrp") {
            assert_eq!(long(&row["nhrp_op"]), nhrp["op"].as_i64());
            assert_eq!(long(&row["nhrp_request_id"]), nhrp["request_id"].as_i64());
        }
        // The hub is known (it answers registrations): every row has its partition and role.
        assert_eq!(text(&row["hub"]), Some("192.0.2.1"));
        assert!(matches!(
            text(&row["direction"]),
            Some("to_hub" | "from_hub")
        ));
        // The capture's frames are all on 2025-11-24 (UTC).
        assert_eq!(text(&row["date"]), Some("2025-11-24"));
    }
    assert!(esp > 0);

    // A stale file of this export in a partition it no longer writes is removed; the rest is
    // rewritten byte for byte under the same names.
    let before: Vec<_> = files(&dataset)
        .into_iter()
        .map(|p| (p.clone(), std::fs::read(&p).unwrap()))
        .collect();
    let stale = dataset
        .join("frames/date=1999-01-01/hub=none")
        .join(format!("{}.parquet", stats.export_id));
    std::fs::create_dir_all(stale.parent().unwrap()).unwrap();
    std::fs::write(&stale, b"old").unwrap();
    let other = stale.with_file_name("0123456789abcdef0123456789abcdef.parquet");
    std::fs::write(&other, b"another export's file").unwrap();
    let again = dmvpn::export::export(&[capture()], decoder, &dataset).unwrap();
    assert_eq!(again.export_id, stats.export_id);
    assert!(!stale.exists());
    assert!(other.exists(), "other exports' files are left alone");
    std::fs::remove_file(&other).unwrap();
    let after: Vec<_> = files(&dataset)
        .into_iter()
        .map(|p| (p.clone(), std::fs::read(&p).unwrap()))
        .collect();
    assert_eq!(after, before);
    let _ = std::fs::remove_dir_all(&out);
}

#[test]
fn session_tables_agree_with_sessions() {
    let out = scratch("sessions");
    let dataset = out.join("dataset");
    dmvpn::export::export(&[capture()], decoder, &dataset).unwrap();
    let report: Value = serde_json::from_slice(&json("sessions")).unwrap();
    let peers = report["peers"].as_array().unwrap();
    let flows: usize = peers
        .iter()
        .map(|p| p["esp"].as_array().unwrap().len())
        .sum();
    let esp = rows(&dataset, "esp_flows");
    assert_eq!(esp.len(), flows);
    for peer in peers {
        for flow in peer["esp"].as_array().unwrap() {
            let spi = u32::from_str_radix(&flow["spi"].as_str().unwrap()[2..], 16).unwrap();
            let row = esp
                .iter()
                .find(|r| {
                    long(&r["spi"]) == Some(i64::from(spi))
                        && text(&r["src"]) == flow["src"].as_str()
                })
                .unwrap();
            for column in [
                "packets",
                "bytes",
                "decrypted",
                "icv_failed",
                "replays",
                "sequence_gaps",
            ] {
                assert_eq!(
                    long(&row[column]),
                    flow[column].as_i64(),
                    "{spi:#x} {column}"
                );
            }
        }
    }
    let events: usize = peers
        .iter()
        .map(|p| p["nhrp"]["events"].as_array().unwrap().len())
        .sum();
    assert_eq!(rows(&dataset, "nhrp_events").len(), events);
    let findings = rows(&dataset, "findings");
    let expected = report["findings"].as_array().unwrap();
    assert_eq!(findings.len(), expected.len());
    for finding in expected {
        assert!(
            findings
                .iter()
                .any(|row| text(&row["rule"]) == finding["rule"].as_str()
                    && text(&row["message"]) == finding["message"].as_str()),
            "{finding}"
        );
    }
    let _ = std::fs::remove_dir_all(&out);
}

/// `dmvpn export CAPTURE -o DATASET`.
fn export_command(capture: &Path, dataset: &Path) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_dmvpn"))
        .arg("export")
        .arg(capture)
        .arg("-o")
        .arg(dataset)
        .output()
        .unwrap()
}

/// A capture cut inside a record: its whole frames are exported, the error names it, and the
/// command exits with 2.
#[test]
fn a_cut_capture_is_exported_up_to_its_cut() {
    let out = scratch("cut");
    let bytes = std::fs::read(capture()).unwrap();
    let cut = out.join("cut.pcap");
    std::fs::write(&cut, &bytes[..bytes.len() - 7]).unwrap();
    let stats = dmvpn::export::export(std::slice::from_ref(&cut), decoder, &out.join("a")).unwrap();
    assert_eq!(stats.errors.len(), 1);
    assert!(stats.errors[0].error.is_cut_short());
    let whole = dmvpn::export::export(&[capture()], decoder, &out.join("b")).unwrap();
    assert_eq!(stats.frames, whole.frames - 1);
    assert_ne!(stats.export_id, whole.export_id);
    let status = export_command(&cut, &out.join("c"));
    assert_eq!(status.status.code(), Some(2));
    assert!(
        String::from_utf8_lossy(&status.stderr)
            .contains("cut.pcap\" appears to have been cut short")
    );
    assert_eq!(rows(&out.join("c"), "frames").len() as u64, stats.frames);
    // Nothing readable: each file's reason, exit status 2, no dataset.
    let junk = out.join("junk.pcap");
    std::fs::write(&junk, b"not a capture at all").unwrap();
    let status = export_command(&junk, &out.join("d"));
    assert_eq!(status.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&status.stderr);
    assert!(
        stderr.contains("junk.pcap") && stderr.contains("not a pcap or pcapng file"),
        "{stderr}"
    );
    assert!(!out.join("d").exists());
    let _ = std::fs::remove_dir_all(&out);
}
