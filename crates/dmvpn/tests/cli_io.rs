//! The `dmvpn` command's input and output (issue #15): captures cut short in the middle of a
//! packet, standard input and FIFOs, gzip, output flushed for a live reader, closed pipes, and a
//! decrypted capture that never destroys the input or leaves half a file.
//!
//! Cut captures are made here by cutting testdata/dmvpn/phase1.pcap (and a pcapng copy of it
//! written through the library) inside a record header, inside record data and at a byte that
//! is neither; each command's output for a cut capture must equal its output for the same
//! capture cut at the record boundary before (a well-formed file), byte for byte.
#![allow(clippy::unwrap_used, clippy::expect_used)] // a test: a failed unwrap is a failed test

use std::fs;
use std::io::{BufRead, BufReader, Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use dmvpn::capture::CaptureReader;
use dmvpn::decode::Decoder;
use dmvpn::keys::EspKeys;

const BIN: &str = env!("CARGO_BIN_EXE_dmvpn");
const DIR: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../../testdata/dmvpn");
const CUT_WARNING: &str = "appears to have been cut short in the middle of a packet";

fn phase1() -> Vec<u8> {
    fs::read(format!("{DIR}/phase1.pcap")).unwrap()
}

fn esp_sa() -> String {
    format!("{DIR}/phase1.esp_sa")
}

/// phase1.pcap as pcapng, written by the library with no keys (every frame unchanged).
fn phase1_pcapng() -> Vec<u8> {
    let pcap = phase1();
    let mut reader = CaptureReader::new(&pcap[..]).unwrap();
    let mut out = Vec::new();
    dmvpn::decrypt::decrypt(&mut reader, &mut Decoder::new(EspKeys::default()), &mut out).unwrap();
    out
}

fn gzip(bytes: &[u8]) -> Vec<u8> {
    let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    encoder.write_all(bytes).unwrap();
    encoder.finish().unwrap()
}

/// The byte offset of each frame's record.
fn record_offsets(capture: &[u8]) -> Vec<u64> {
    let mut reader = CaptureReader::new(capture).unwrap();
    let mut offsets = Vec::new();
    while let Some(frame) = reader.next_frame().unwrap() {
        offsets.push(frame.offset);
    }
    offsets
}

/// A folder of its own, emptied first.
fn scratch(name: &str) -> PathBuf {
    dmvpn_testkit::temp_dir(&format!("dmvpn-cli-io-{name}"))
}

/// `dmvpn decrypt INPUT --keys KEYS -o OUT`.
fn decrypt_to(input: &str, keys: &str, out: &Path) -> Output {
    dmvpn(
        &[
            "decrypt",
            input,
            "--keys",
            keys,
            "-o",
            out.to_str().unwrap(),
        ],
        None,
    )
}

fn dmvpn(args: &[&str], stdin: Option<&[u8]>) -> Output {
    let mut child = Command::new(BIN)
        .args(args)
        .stdin(if stdin.is_some() {
            Stdio::piped()
        } else {
            Stdio::null()
        })
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let writer = stdin.map(|bytes| {
        let bytes = bytes.to_vec();
        let mut pipe = child.stdin.take().unwrap();
        std::thread::spawn(move || {
            let _ = pipe.write_all(&bytes);
        })
    });
    let output = child.wait_with_output().unwrap();
    if let Some(writer) = writer {
        writer.join().unwrap();
    }
    output
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// Every command and format whose standard output is compared between a cut capture and the
/// capture cut at the boundary before. `FILE` is replaced by the capture's path.
const COMMANDS: &[&[&str]] = &[
    &["decode", "FILE"],
    &["decode", "FILE", "--threads", "3"],
    &["decode", "FILE", "--format", "json", "--keys", "ESP_SA"],
    &[
        "decode",
        "FILE",
        "--format",
        "json",
        "--keys",
        "ESP_SA",
        "--threads",
        "2",
    ],
    &["decode", "FILE", "--format", "summary"],
    &["decode", "FILE", "--format", "summary", "--threads", "3"],
    &["sessions", "FILE", "--keys", "ESP_SA"],
    &["sessions", "FILE", "--format", "json"],
    &["sessions", "FILE", "--format", "html"],
    &["replay", "FILE", "--into", "hub", "--keys", "ESP_SA"],
    &["decrypt", "FILE", "--keys", "ESP_SA", "-o", "-"],
];

fn args_for<'a>(command: &[&'a str], file: &'a str, esp_sa: &'a str) -> Vec<&'a str> {
    command
        .iter()
        .map(|&arg| match arg {
            "FILE" => file,
            "ESP_SA" => esp_sa,
            other => other,
        })
        .collect()
}

#[test]
fn cut_captures_print_every_whole_frame_then_warn_like_tshark() {
    let esp_sa = esp_sa();
    for (format, capture, header_len) in [("pcap", phase1(), 16), ("pcapng", phase1_pcapng(), 28)] {
        let offsets = record_offsets(&capture);
        assert_eq!(offsets.len(), 42);
        // Frame 30 cut in its record header, frame 36 in its data, and a byte of frame 41.
        let cuts = [
            (30, offsets[29] + 5),
            (36, offsets[35] + header_len + 3),
            (41, (offsets[40] + offsets[41]) / 2 + 1),
        ];
        for (frame, cut) in cuts {
            let dir = scratch(&format!("cut-{format}-{frame}"));
            // The same name in two folders, so the HTML report's title is the same.
            fs::create_dir_all(dir.join("whole")).unwrap();
            fs::create_dir_all(dir.join("cut")).unwrap();
            let whole = dir.join("whole/capture");
            let cut_file = dir.join("cut/capture");
            fs::write(&whole, &capture[..offsets[frame - 1] as usize]).unwrap();
            fs::write(&cut_file, &capture[..cut as usize]).unwrap();
            let whole = whole.to_str().unwrap();
            let cut_path = cut_file.to_str().unwrap();
            for command in COMMANDS {
                let expected = dmvpn(&args_for(command, whole, &esp_sa), None);
                assert!(expected.status.success(), "{command:?}: {expected:?}");
                assert!(!expected.stdout.is_empty(), "{command:?}");
                let got = dmvpn(&args_for(command, cut_path, &esp_sa), None);
                let what = format!("{format} cut in frame {frame} at byte {cut}: {command:?}");
                assert!(got.stdout == expected.stdout, "{what}: stdout differs");
                assert_eq!(got.status.code(), Some(2), "{what}");
                let stderr = text(&got.stderr);
                let warning = format!(
                    "dmvpn: The file \"{cut_path}\" {CUT_WARNING}: frame {frame} at byte offset {} is incomplete",
                    offsets[frame - 1]
                );
                assert!(stderr.contains(&warning), "{what}: {stderr}");
                assert_eq!(stderr.matches(CUT_WARNING).count(), 1, "{what}: {stderr}");
            }
            // decrypt -o FILE writes every whole frame too (the same file as from the whole
            // capture), then warns.
            let out_whole = dir.join("whole.pcapng");
            let out_cut = dir.join("cut.pcapng");
            let whole_run = decrypt_to(whole, &esp_sa, &out_whole);
            assert!(whole_run.status.success(), "{whole_run:?}");
            let cut_run = decrypt_to(cut_path, &esp_sa, &out_cut);
            assert_eq!(cut_run.status.code(), Some(2));
            assert!(text(&cut_run.stderr).contains(CUT_WARNING));
            assert_eq!(fs::read(&out_cut).unwrap(), fs::read(&out_whole).unwrap());
            fs::remove_dir_all(&dir).unwrap();
        }
    }
}

#[test]
fn standard_input_reads_like_the_file_and_says_so_when_cut() {
    let esp_sa = esp_sa();
    let capture = phase1();
    let path = format!("{DIR}/phase1.pcap");
    let offsets = record_offsets(&capture);
    let cut = &capture[..offsets[20] as usize + 30];
    for command in COMMANDS {
        let from_file = dmvpn(&args_for(command, &path, &esp_sa), None);
        assert!(from_file.status.success(), "{command:?}: {from_file:?}");
        let args = args_for(command, "-", &esp_sa);
        let from_pipe = dmvpn(&args, Some(&capture));
        assert!(from_pipe.status.success(), "{command:?}: {from_pipe:?}");
        // The HTML report's title names its input.
        if command.contains(&"html") {
            assert!(text(&from_pipe.stdout).contains("standard input"));
        } else {
            assert!(
                from_pipe.stdout == from_file.stdout,
                "{command:?} from a pipe"
            );
        }
        let from_gzip = dmvpn(&args, Some(&gzip(&capture)));
        assert!(
            from_gzip.stdout == from_pipe.stdout,
            "{command:?} from gzip"
        );
        // (Cut this early, replay --into finds no hub: it says so, then warns of the cut.)
        let cut_run = dmvpn(&args, Some(cut));
        assert_eq!(cut_run.status.code(), Some(2), "{command:?}");
        let stderr = text(&cut_run.stderr);
        assert!(
            stderr.contains(&format!(
                "dmvpn: The standard input {CUT_WARNING}: frame 21 at byte offset {}",
                offsets[20]
            )),
            "{command:?}: {stderr}"
        );
    }
    // A regular file as standard input (`< file`) reads the same.
    let redirected = Command::new(BIN)
        .args(["decode", "-", "--threads", "2"])
        .stdin(fs::File::open(&path).unwrap())
        .output()
        .unwrap();
    assert!(redirected.status.success());
    assert_eq!(redirected.stdout, dmvpn(&["decode", &path], None).stdout);
}

#[test]
fn a_fifo_is_read_once_with_any_thread_count() {
    let dir = scratch("fifo");
    let fifo = dir.join("capture.fifo");
    let status = Command::new("mkfifo").arg(&fifo).status();
    if !status.is_ok_and(|status| status.success()) {
        println!("skipped: mkfifo failed");
        return;
    }
    let capture = phase1();
    let expected = dmvpn(&["decode", &format!("{DIR}/phase1.pcap")], None).stdout;
    for threads in ["1", "2", "4"] {
        let fifo_path = fifo.to_str().unwrap();
        let output = through_fifo(
            &["decode", fifo_path, "--threads", threads],
            &fifo,
            &capture,
        );
        assert!(output.status.success(), "{threads} threads: {output:?}");
        assert!(output.stdout == expected, "{threads} threads");
    }
    // replay --into reads the capture three times: a FIFO (and standard input redirected from a
    // file) is read once and kept.
    let esp_sa = esp_sa();
    let path = format!("{DIR}/phase1.pcap");
    let from_file = dmvpn(&["replay", &path, "--into", "hub", "--keys", &esp_sa], None);
    assert!(from_file.status.success(), "{from_file:?}");
    let fifo_path = fifo.to_str().unwrap();
    let args = ["replay", fifo_path, "--into", "hub", "--keys", &esp_sa];
    let output = through_fifo(&args, &fifo, &capture);
    assert!(output.status.success(), "{output:?}");
    assert!(output.stdout == from_file.stdout);
    let redirected = Command::new(BIN)
        .args(["replay", "-", "--into", "hub", "--keys", &esp_sa])
        .stdin(fs::File::open(&path).unwrap())
        .output()
        .unwrap();
    assert!(redirected.status.success(), "{redirected:?}");
    assert!(redirected.stdout == from_file.stdout);
    fs::remove_dir_all(&dir).unwrap();
}

/// Waits for `child`, killing it (and failing) if it is still running after `limit`: a hang is
/// the defect these tests look for.
/// Starts the command with `args`, its standard input, output and error piped.
fn spawn_piped(args: &[&str]) -> Child {
    Command::new(BIN)
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap()
}

/// Runs the command with `args` reading the FIFO at `fifo`, writes `capture` into it and waits
/// (at most 20 s) for the command's output. Opening the FIFO for writing waits for the reader,
/// so this also shows that the command opened it.
fn through_fifo(args: &[&str], fifo: &Path, capture: &[u8]) -> Output {
    let child = spawn_piped(args);
    fs::write(fifo, capture).unwrap();
    wait_at_most(child, Duration::from_secs(20))
}

fn wait_at_most(mut child: Child, limit: Duration) -> Output {
    let started = Instant::now();
    loop {
        if child.try_wait().unwrap().is_some() {
            return child.wait_with_output().unwrap();
        }
        if started.elapsed() > limit {
            let _ = child.kill();
            let output = child.wait_with_output().unwrap();
            panic!("still running after {limit:?}: {output:?}");
        }
        std::thread::sleep(Duration::from_millis(10));
    }
}

/// Lines of a child's standard output, as they come.
fn lines_of(stdout: impl Read + Send + 'static) -> mpsc::Receiver<String> {
    let (send, receive) = mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines() {
            let Ok(line) = line else { break };
            if send.send(line).is_err() {
                break;
            }
        }
    });
    receive
}

#[test]
fn a_pipe_gets_each_frame_as_it_arrives() {
    let capture = phase1();
    let offsets = record_offsets(&capture);
    for args in [
        &["decode", "-"][..],
        &["decode", "-", "--format", "json"],
        &["decode", "-", "--threads", "2"],
        &["decode", "-", "--format", "json", "--threads", "3"],
    ] {
        let mut child = spawn_piped(args);
        let mut stdin = child.stdin.take().unwrap();
        let lines = lines_of(child.stdout.take().unwrap());
        // As tcpdump -w - does: the header and the first frames, then nothing for a while.
        stdin.write_all(&capture[..offsets[3] as usize]).unwrap();
        stdin.flush().unwrap();
        for expected in 1..=3 {
            let line = lines
                .recv_timeout(Duration::from_secs(20))
                .unwrap_or_else(|_| panic!("{args:?}: frame {expected} did not come out"));
            assert!(
                line.trim_start().starts_with(&expected.to_string())
                    || line.starts_with(&format!("{{\"frame\":{expected},")),
                "{args:?}: {line}"
            );
        }
        stdin.write_all(&capture[offsets[3] as usize..]).unwrap();
        drop(stdin);
        let rest: Vec<String> = lines.iter().collect();
        assert_eq!(rest.len(), 39, "{args:?}");
        assert!(child.wait().unwrap().success());
    }
}

/// A capture of `copies` × phase1's frames (the same frames again and again).
fn big_capture(copies: usize) -> Vec<u8> {
    let capture = phase1();
    let mut big = capture[..24].to_vec();
    for _ in 0..copies {
        big.extend_from_slice(&capture[24..]);
    }
    big
}

#[test]
fn a_closed_pipe_stops_reading_at_once_and_quietly() {
    let capture = big_capture(200);
    let offsets = record_offsets(&capture[..]);
    for args in [
        &["decode", "-"][..],
        &["decode", "-", "--format", "json"],
        &["decode", "-", "--threads", "2"],
        &["decode", "-", "--format", "json", "--threads", "3"],
        &["decrypt", "-", "-o", "-"],
    ] {
        let mut child = spawn_piped(args);
        let mut stdin = child.stdin.take().unwrap();
        let mut stdout = child.stdout.take().unwrap();
        stdin.write_all(&capture[..offsets[100] as usize]).unwrap();
        let mut first = [0; 64];
        assert!(stdout.read(&mut first).unwrap() > 0, "{args:?}");
        // `| head -1` exits: the pipe closes. Frames keep coming, but standard input stays open:
        // a command that went on reading would wait here for ever.
        drop(stdout);
        let _ = stdin.write_all(&capture[offsets[100] as usize..offsets[4000] as usize]);
        let output = wait_at_most(child, Duration::from_secs(20));
        drop(stdin);
        assert_eq!(output.status.code(), Some(141), "{args:?}: {output:?}");
        assert_eq!(text(&output.stderr), "", "{args:?}");
    }
    // The same from a file, as in `dmvpn decode big.pcap | head -1`.
    let dir = scratch("closed-pipe");
    let path = dir.join("big.pcap");
    fs::write(&path, &capture).unwrap();
    for format in ["text", "json"] {
        let mut child = spawn_piped(&["decode", path.to_str().unwrap(), "--format", format]);
        let mut line = String::new();
        BufReader::new(child.stdout.take().unwrap())
            .read_line(&mut line)
            .unwrap();
        assert!(!line.is_empty());
        let output = wait_at_most(child, Duration::from_secs(20));
        assert_eq!(output.status.code(), Some(141), "{format}: {output:?}");
        assert_eq!(text(&output.stderr), "");
    }
    fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn gzip_captures_read_like_the_capture_inside() {
    let dir = scratch("gzip");
    for (name, capture) in [("a.pcap", phase1()), ("b.pcapng", phase1_pcapng())] {
        let plain = dir.join(name);
        fs::write(&plain, &capture).unwrap();
        let compressed = dir.join(format!("{name}.gz"));
        fs::write(&compressed, gzip(&capture)).unwrap();
        // Told by content, not by name.
        let disguised = dir.join(format!("disguised-{name}"));
        fs::write(&disguised, gzip(&capture)).unwrap();
        let expected = dmvpn(
            &["decode", plain.to_str().unwrap(), "--format", "json"],
            None,
        );
        for path in [&compressed, &disguised] {
            for threads in ["1", "2"] {
                let got = dmvpn(
                    &[
                        "decode",
                        path.to_str().unwrap(),
                        "--format",
                        "json",
                        "--threads",
                        threads,
                    ],
                    None,
                );
                assert!(got.status.success(), "{got:?}");
                assert!(got.stdout == expected.stdout, "{}", path.display());
            }
        }
        // A gzip stream cut short: the whole frames, then the same warning.
        let gz = gzip(&capture);
        let cut = dir.join(format!("cut-{name}.gz"));
        fs::write(&cut, &gz[..gz.len() * 2 / 3]).unwrap();
        let got = dmvpn(&["decode", cut.to_str().unwrap()], None);
        assert_eq!(got.status.code(), Some(2), "{got:?}");
        let lines = text(&got.stdout).lines().count();
        assert!((1..42).contains(&lines), "{lines} lines");
        assert!(text(&got.stderr).contains(CUT_WARNING), "{got:?}");
    }
    fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn real_gzip_captures_match_their_decompressed_selves() {
    let shared = dmvpn_testkit::captures_or_skip!();
    let Ok(entries) = fs::read_dir(shared.join("wireshark-testsuite")) else {
        println!("skipped: ../shared/captures is not here");
        return;
    };
    let mut checked = 0;
    for entry in entries {
        let path = entry.unwrap().path();
        if path.extension().is_none_or(|ext| ext != "gz") {
            continue;
        }
        let compressed = fs::read(&path).unwrap();
        let mut plain = Vec::new();
        flate2::read::MultiGzDecoder::new(&compressed[..])
            .read_to_end(&mut plain)
            .unwrap();
        let from_file = dmvpn(
            &["decode", path.to_str().unwrap(), "--format", "json"],
            None,
        );
        let from_plain = dmvpn(&["decode", "-", "--format", "json"], Some(&plain));
        assert!(
            from_file.status.success(),
            "{}: {from_file:?}",
            path.display()
        );
        assert!(from_file.stdout == from_plain.stdout, "{}", path.display());
        assert!(!from_file.stdout.is_empty());
        checked += 1;
    }
    assert!(checked > 0);
}

#[test]
fn decrypt_never_overwrites_its_input() {
    let dir = scratch("same-file");
    let input = dir.join("in.pcap");
    fs::write(&input, phase1()).unwrap();
    let symlink = dir.join("link.pcap");
    std::os::unix::fs::symlink(&input, &symlink).unwrap();
    let hard = dir.join("hard.pcap");
    fs::hard_link(&input, &hard).unwrap();
    let esp_sa = esp_sa();
    let input_str = input.to_str().unwrap();
    for output in [&input, &symlink, &hard] {
        let run = decrypt_to(input_str, &esp_sa, output);
        assert_eq!(run.status.code(), Some(1), "{run:?}");
        assert!(
            text(&run.stderr).contains("this is the input capture itself"),
            "{run:?}"
        );
        assert_eq!(fs::read(&input).unwrap(), phase1());
    }
    // Standard input redirected from the file is the file too.
    let redirected = Command::new(BIN)
        .args(["decrypt", "-", "--keys", &esp_sa, "-o", input_str])
        .stdin(fs::File::open(&input).unwrap())
        .output()
        .unwrap();
    assert_eq!(redirected.status.code(), Some(1), "{redirected:?}");
    assert_eq!(fs::read(&input).unwrap(), phase1());
    // Nothing was left behind.
    let mut names: Vec<_> = fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    names.sort();
    assert_eq!(names, ["hard.pcap", "in.pcap", "link.pcap"]);
    // `-o -` writes the same pcapng to standard output, not a file named `-`.
    let to_file = dir.join("out.pcapng");
    let run = decrypt_to(input_str, &esp_sa, &to_file);
    assert!(run.status.success(), "{run:?}");
    let to_stdout = Command::new(BIN)
        .current_dir(&dir)
        .args(["decrypt", input_str, "--keys", &esp_sa, "-o", "-"])
        .output()
        .unwrap();
    assert!(to_stdout.status.success());
    assert_eq!(to_stdout.stdout, fs::read(&to_file).unwrap());
    assert!(text(&to_stdout.stderr).contains("written to standard output"));
    assert!(!dir.join("-").exists());
    fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn decrypt_write_errors_name_the_path_and_leave_nothing() {
    let esp_sa = esp_sa();
    let input = format!("{DIR}/phase1.pcap");
    // /dev/full: every write fails with ENOSPC (a device: written in place, not replaced).
    let run = dmvpn(
        &["decrypt", &input, "--keys", &esp_sa, "-o", "/dev/full"],
        None,
    );
    assert_eq!(run.status.code(), Some(1), "{run:?}");
    assert!(
        text(&run.stderr)
            .contains("dmvpn: /dev/full: cannot write: No space left on device (os error 28)"),
        "{run:?}"
    );
    // A full tmpfs (root only, in a mount namespace of its own): the partial file is removed.
    let dir = scratch("tmpfs");
    let big = dir.join("big.pcap");
    fs::write(&big, big_capture(20)).unwrap();
    let mount = dir.join("mnt");
    fs::create_dir_all(&mount).unwrap();
    let script = format!(
        "mount -t tmpfs -o size=64k tmpfs {mnt} || exit 77; \
         {BIN} decrypt {big} --keys {esp_sa} -o {mnt}/out.pcapng; echo status=$?; ls -A {mnt}",
        mnt = mount.display(),
        big = big.display(),
    );
    let output = Command::new("unshare")
        .args(["--mount", "sh", "-c", &script])
        .output();
    match output {
        Ok(output) if output.status.code() != Some(77) && output.status.success() => {
            let stdout = text(&output.stdout);
            let stderr = text(&output.stderr);
            assert_eq!(stdout, "status=1\n", "{stderr}");
            assert!(
                stderr.contains(&format!(
                    "dmvpn: {}/out.pcapng: cannot write: No space left on device (os error 28)",
                    mount.display()
                )),
                "{stderr}"
            );
        }
        other => println!("skipped the tmpfs case (needs root and unshare): {other:?}"),
    }
    fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn help_documents_input_and_exit_status() {
    let help = dmvpn(&["--help"], None);
    assert!(help.status.success());
    let help = text(&help.stdout);
    for needle in [
        "`-` reads standard input",
        "gzip",
        "Exit status:",
        "  2 ",
        "  141 ",
    ] {
        assert!(help.contains(needle), "{needle}: {help}");
    }
    let usage = dmvpn(&["decode"], None);
    assert_eq!(usage.status.code(), Some(1));
    let missing = dmvpn(&["decode", "/nonexistent/capture.pcap"], None);
    assert_eq!(missing.status.code(), Some(2));
    assert!(text(&missing.stderr).contains("cannot open /nonexistent/capture.pcap"));
    let not_a_capture = dmvpn(&["decode", "-"], Some(b"GIF89a, not a capture"));
    assert_eq!(not_a_capture.status.code(), Some(2));
}

#[test]
fn tshark_agrees_on_where_the_cut_is() {
    if !Command::new("tshark")
        .arg("-v")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|status| status.success())
    {
        println!("skipped: tshark is not installed");
        return;
    }
    let dir = scratch("tshark");
    for (name, capture) in [("cut.pcap", phase1()), ("cut.pcapng", phase1_pcapng())] {
        let offsets = record_offsets(&capture);
        let path = dir.join(name);
        fs::write(&path, &capture[..offsets[25] as usize + 40]).unwrap();
        let tshark = Command::new("tshark")
            .arg("-r")
            .arg(&path)
            .output()
            .unwrap();
        let ours = dmvpn(&["decode", path.to_str().unwrap()], None);
        assert_eq!(ours.status.code(), tshark.status.code(), "{name}");
        assert_eq!(
            text(&ours.stdout).lines().count(),
            text(&tshark.stdout).lines().count(),
            "{name}"
        );
        assert!(text(&tshark.stderr).contains(CUT_WARNING));
    }
    fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn replay_onto_an_interface_takes_standard_input_and_stops_at_the_cut() {
    let capture = phase1();
    let offsets = record_offsets(&capture);
    let cut = &capture[..offsets[18] as usize + 20];
    let run = dmvpn(
        &["replay", "-", "--iface", "lo", "--topspeed", "--loop", "2"],
        Some(cut),
    );
    let stderr = text(&run.stderr);
    if stderr.contains("lo: ") && run.status.code() == Some(1) {
        println!("skipped: no raw socket on lo here (needs CAP_NET_RAW): {stderr}");
        return;
    }
    // Both passes send the 18 whole frames, then one warning.
    assert!(stderr.contains("36 frame(s) sent on lo"), "{stderr}");
    assert_eq!(stderr.matches(CUT_WARNING).count(), 1, "{stderr}");
    assert_eq!(run.status.code(), Some(2));
}

#[test]
fn a_damaged_capture_prints_the_frames_before_the_damage() {
    let mut capture = phase1();
    let offsets = record_offsets(&capture);
    // Frame 10's incl_len claims 4 GiB.
    let at = offsets[9] as usize + 8;
    capture[at..at + 4].copy_from_slice(&[0xf0, 0xff, 0xff, 0xff]);
    let dir = scratch("damaged");
    let path = dir.join("damaged.pcap");
    fs::write(&path, &capture).unwrap();
    let path = path.to_str().unwrap();
    for threads in ["1", "2"] {
        let run = dmvpn(&["decode", path, "--threads", threads], None);
        assert_eq!(run.status.code(), Some(2));
        assert_eq!(text(&run.stdout).lines().count(), 9);
        let stderr = text(&run.stderr);
        assert!(
            stderr.contains(&format!(
                "dmvpn: The file \"{path}\" appears to be damaged or corrupt: capture: frame 10 (byte offset {at}): length field `incl_len` says"
            )),
            "{stderr}"
        );
    }
    fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn decrypt_to_a_pipe_hands_on_each_frame() {
    let capture = phase1();
    let offsets = record_offsets(&capture);
    let mut child = Command::new(BIN)
        .args(["decrypt", "-", "--keys", &esp_sa(), "-o", "-"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut stdin = child.stdin.take().unwrap();
    let mut stdout = child.stdout.take().unwrap();
    stdin.write_all(&capture[..offsets[2] as usize]).unwrap();
    stdin.flush().unwrap();
    // The section and interface blocks and two Enhanced Packet Blocks come out while the input
    // is still open.
    let (send, receive) = mpsc::channel();
    std::thread::spawn(move || {
        let mut got = Vec::new();
        let mut buf = [0; 4096];
        while let Ok(n) = stdout.read(&mut buf) {
            if n == 0 {
                break;
            }
            got.extend_from_slice(&buf[..n]);
            if send.send(got.clone()).is_err() {
                break;
            }
        }
    });
    let deadline = Instant::now() + Duration::from_secs(20);
    let frames = loop {
        let got = receive
            .recv_timeout(deadline.saturating_duration_since(Instant::now()))
            .expect("no decrypted frame came out while the input was open");
        // The pipe may hand over the header in pieces: wait for the rest.
        let Ok(mut reader) = CaptureReader::new(&got[..]) else {
            continue;
        };
        let mut frames = 0;
        while let Ok(Some(_)) = reader.next_frame() {
            frames += 1;
        }
        if frames == 2 {
            break frames;
        }
    };
    assert_eq!(frames, 2);
    drop(stdin);
    assert!(child.wait().unwrap().success());
}
