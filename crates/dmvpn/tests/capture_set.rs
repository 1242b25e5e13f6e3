//! Capture sets: several files merged by timestamp read as the one capture they were cut from;
//! a file cut short in the middle of the set is reported by name and offset and the rest is read.
#![allow(clippy::unwrap_used, clippy::expect_used)] // a test: a failed unwrap is a failed test

use std::path::{Path, PathBuf};
use std::process::Command;

use dmvpn::capture::CaptureReader;
use dmvpn::capture::set::{self, CaptureSet};
use dmvpn_testkit::pcap::{LINKTYPE_ETHERNET, PcapWriter};
use dmvpn_testkit::temp_dir;

const CAPTURE: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../../testdata/dmvpn/phase1.pcap"
);
const KEYS: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../../testdata/dmvpn/phase1.esp_sa"
);

/// (timestamp seconds, microseconds, bytes) of every frame of the project's capture.
fn frames() -> Vec<(u32, u32, Vec<u8>)> {
    let mut reader = CaptureReader::open(CAPTURE).unwrap();
    let mut out = Vec::new();
    while let Some(frame) = reader.next_frame().unwrap() {
        let micros = frame.timestamp.nanos / 1000;
        out.push((frame.timestamp.secs as u32, micros, frame.data.to_vec()));
    }
    out
}

/// A little-endian microsecond pcap (Ethernet) of these frames.
fn write_pcap(path: &Path, frames: &[&(u32, u32, Vec<u8>)]) {
    let mut pcap = PcapWriter::new(LINKTYPE_ETHERNET);
    for (secs, micros, data) in frames {
        pcap.record(*secs, *micros, data);
    }
    std::fs::write(path, pcap.into_bytes()).unwrap();
}

fn scratch(name: &str) -> PathBuf {
    temp_dir(&format!("dmvpn-capture-set-{name}"))
}

fn dmvpn(args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_dmvpn"))
        .args(args)
        .output()
        .unwrap()
}

/// Frames dealt alternately into two files (interleaved in time) and three consecutive slices:
/// the set gives back the capture's frames in order, numbered 1.., and every command's output
/// equals the one file's.
#[test]
fn interleaved_and_consecutive_files_merge_into_the_capture() {
    let frames = frames();
    assert!(frames.len() > 20);
    let dir = scratch("merge");
    let odd: Vec<_> = frames.iter().step_by(2).collect();
    let even: Vec<_> = frames.iter().skip(1).step_by(2).collect();
    // Named so that the later frames' file sorts first: the merge is by time, not by name.
    write_pcap(&dir.join("a-even.pcap"), &even);
    write_pcap(&dir.join("b-odd.pcap"), &odd);
    let third = frames.len() / 3;
    let all: Vec<_> = frames.iter().collect();
    let slices = dir.join("slices");
    std::fs::create_dir_all(&slices).unwrap();
    write_pcap(&slices.join("ring_3.pcap"), &all[2 * third..]);
    write_pcap(&slices.join("ring_1.pcap"), &all[..third]);
    write_pcap(&slices.join("ring_2.pcap"), &all[third..2 * third]);

    for paths in [
        set::expand([dir.join("a-even.pcap"), dir.join("b-odd.pcap")]).unwrap(),
        set::expand([&slices]).unwrap(),
    ] {
        let mut merged = CaptureSet::open(paths);
        let mut number = 0;
        while let Some(frame) = merged.next_frame() {
            number += 1;
            assert_eq!(frame.number, number);
            let (secs, micros, data) = &frames[number as usize - 1];
            assert_eq!(
                (frame.timestamp.secs, frame.timestamp.nanos),
                (i64::from(*secs), micros * 1000)
            );
            assert_eq!(frame.data, &data[..], "frame {number}");
            assert!(merged.open_files() <= 2);
        }
        assert_eq!(number as usize, frames.len());
        assert!(merged.take_errors().is_empty());
    }

    let single = dmvpn(&["decode", CAPTURE, "--keys", KEYS, "--format", "json"]);
    assert!(single.status.success());
    let glob = dir.join("*.pcap");
    for args in [
        vec![glob.to_str().unwrap()],
        vec![slices.to_str().unwrap()],
        vec![
            dir.join("b-odd.pcap").to_str().unwrap(),
            dir.join("a-even.pcap").to_str().unwrap(),
        ],
    ] {
        let mut argv = vec!["decode", "--keys", KEYS, "--format", "json"];
        argv.extend(&args);
        let merged = dmvpn(&argv);
        assert!(merged.status.success(), "{args:?}");
        assert_eq!(merged.stdout, single.stdout, "{args:?}");
        let mut argv = vec![
            "decode",
            "--keys",
            KEYS,
            "--format",
            "json",
            "--threads",
            "3",
        ];
        argv.extend(&args);
        assert_eq!(dmvpn(&argv).stdout, single.stdout, "--threads 3 {args:?}");
    }
    let sessions = |args: &[&str]| {
        let mut argv = vec!["sessions", "--keys", KEYS, "--format", "json"];
        argv.extend(args);
        dmvpn(&argv).stdout
    };
    assert_eq!(
        sessions(&[slices.to_str().unwrap()]),
        sessions(&[CAPTURE]),
        "a session spans the files"
    );
    let _ = std::fs::remove_dir_all(&dir);
}

/// The middle file of three is cut inside a record: the whole frames before the cut and every
/// frame of the other files are read; the error names the file, frame and byte offset; the
/// commands exit with 2 after writing their output.
#[test]
fn a_file_cut_in_the_middle_is_reported_and_the_rest_read() {
    let frames = frames();
    let all: Vec<_> = frames.iter().collect();
    let third = frames.len() / 3;
    let dir = scratch("cut");
    let names = ["ring_1.pcap", "ring_2.pcap", "ring_3.pcap"];
    write_pcap(&dir.join(names[0]), &all[..third]);
    write_pcap(&dir.join(names[1]), &all[third..2 * third]);
    write_pcap(&dir.join(names[2]), &all[2 * third..]);
    // Cut the middle file 10 bytes into its fourth record's data.
    let middle = dir.join(names[1]);
    let bytes = std::fs::read(&middle).unwrap();
    let mut at = 24;
    for (_, _, data) in &all[third..third + 3] {
        at += 16 + data.len();
    }
    std::fs::write(&middle, &bytes[..at + 16 + 10]).unwrap();
    let mut garbage = dir.join("zz_not_a_capture.pcap");
    std::fs::write(&garbage, b"this is not a capture file").unwrap();

    let mut paths = set::expand([dir.join("ring_*.pcap")]).unwrap();
    paths.push(std::mem::take(&mut garbage));
    let mut merged = CaptureSet::open(paths);
    let mut count = 0;
    while merged.next_frame().is_some() {
        count += 1;
    }
    assert_eq!(count, frames.len() - (third - 3));
    let errors = merged.take_errors();
    assert_eq!(errors.len(), 2, "{errors:?}");
    let not_capture = errors
        .iter()
        .find(|e| e.path.ends_with("zz_not_a_capture.pcap"))
        .unwrap();
    assert!(matches!(
        not_capture.error,
        dmvpn::capture::CaptureError::UnknownFormat { .. }
    ));
    let cut = errors.iter().find(|e| e.path == middle).unwrap();
    assert!(cut.error.is_cut_short());
    let position = cut.error.position().unwrap();
    assert_eq!((position.frame, position.offset), (Some(4), at as u64));
    assert!(cut.to_string().contains("ring_2.pcap"));

    let glob = dir.join("ring_*.pcap");
    let out = dmvpn(&["decode", glob.to_str().unwrap(), "--format", "summary"]);
    assert_eq!(out.status.code(), Some(2));
    let stdout = String::from_utf8_lossy(&out.stdout);
    let expected = format!("frames {:>26}", frames.len() - (third - 3));
    assert!(stdout.contains(&expected), "{stdout}");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains(&format!(
            "The file \"{}\" appears to have been cut short in the middle of a packet: frame 4 at byte offset {at}",
            middle.display()
        )),
        "{stderr}"
    );
    let _ = std::fs::remove_dir_all(&dir);
}

/// Arguments that name nothing are errors; a folder gives only its capture files.
#[test]
fn expansion_errors_and_folders() {
    let dir = scratch("expand");
    assert!(matches!(
        set::expand([dir.join("*.pcapng")]),
        Err(set::ExpandError::NoMatch { .. })
    ));
    assert!(matches!(
        set::expand([&dir]),
        Err(set::ExpandError::EmptyFolder { .. })
    ));
    std::fs::copy(CAPTURE, dir.join("b.pcap")).unwrap();
    std::fs::copy(CAPTURE, dir.join(".hidden.pcap")).unwrap();
    std::fs::write(dir.join("notes.txt"), "not a capture").unwrap();
    std::fs::copy(CAPTURE, dir.join("a.cap")).unwrap();
    let files = set::expand([&dir]).unwrap();
    let names: Vec<_> = files.iter().map(|p| p.file_name().unwrap()).collect();
    assert_eq!(names, ["a.cap", "b.pcap"]);
    // The same file through a folder and by name is read once.
    assert_eq!(
        set::expand([dir.clone(), dir.join("b.pcap")])
            .unwrap()
            .len(),
        2
    );
    let out = dmvpn(&["decode", dir.join("*.nothing").to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("no file matches"));
    let _ = std::fs::remove_dir_all(&dir);
}
