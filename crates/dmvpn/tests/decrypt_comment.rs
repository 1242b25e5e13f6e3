//! `dmvpn decrypt`: every frame that held an ESP packet keeps its SPI, sequence number and ICV
//! result, and the key line that matched, as a pcapng packet comment; tshark shows them as
//! `frame.comment` and agrees on SPI, sequence and ICV (its own ESP decryption of the input).
//! When nothing decrypts, standard error says why: the SPIs no key matched, failed ICVs, or no ESP.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::BTreeMap;
use std::fs::File;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use dmvpn_testkit::{testdata, tshark_available, tshark_fields};
use pcap_file::pcapng::PcapNgReader;
use pcap_file::pcapng::blocks::Block;
use pcap_file::pcapng::blocks::enhanced_packet::EnhancedPacketOption;

/// A fresh scratch folder for one test.
fn tempdir(test: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("dmvpn-comment-{}-{test}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

fn decrypt(capture: &Path, keys: &Path, out: &Path) -> Output {
    let output = Command::new(env!("CARGO_BIN_EXE_dmvpn"))
        .arg("decrypt")
        .arg(capture)
        .arg("--keys")
        .arg(keys)
        .arg("-o")
        .arg(out)
        .output()
        .unwrap();
    assert!(output.status.success(), "{output:?}");
    output
}

/// The packet comments of each frame of a pcapng file, by frame number (from 1).
fn comments(pcapng: &Path) -> Vec<Vec<String>> {
    let mut reader = PcapNgReader::new(File::open(pcapng).unwrap()).unwrap();
    let mut frames = Vec::new();
    while let Some(block) = reader.next_block() {
        if let Block::EnhancedPacket(packet) = block.unwrap() {
            frames.push(
                packet
                    .options
                    .iter()
                    .filter_map(|option| match option {
                        EnhancedPacketOption::Comment(text) => Some(text.to_string()),
                        _ => None,
                    })
                    .collect(),
            );
        }
    }
    frames
}

/// What `dmvpn decode --format json` says of each frame's ESP layers: (spi, seq, outcome).
fn decoded_esp(capture: &Path, keys: &Path) -> Vec<Vec<(String, u64, String)>> {
    let output = Command::new(env!("CARGO_BIN_EXE_dmvpn"))
        .arg("decode")
        .arg(capture)
        .arg("--keys")
        .arg(keys)
        .args(["--format", "json"])
        .output()
        .unwrap();
    String::from_utf8(output.stdout)
        .unwrap()
        .lines()
        .map(|line| {
            let frame: serde_json::Value = serde_json::from_str(line).unwrap();
            frame["layers"]
                .as_array()
                .unwrap()
                .iter()
                .filter(|layer| layer["proto"] == "esp" && layer.get("error").is_none())
                .map(|esp| {
                    let outcome = match (esp["decrypted"].as_bool(), esp["icv"].as_str()) {
                        (Some(true), Some("good")) => "decrypted, ICV good",
                        (Some(true), Some("none")) => "decrypted, no ICV",
                        (Some(true), Some("unchecked")) => "decrypted, ICV unchecked",
                        (_, Some("bad")) => "ICV bad: not decrypted",
                        _ if esp["status"] == "no key" => "no key",
                        _ => "other",
                    };
                    (
                        esp["spi"].as_str().unwrap().to_owned(),
                        esp["seq"].as_u64().unwrap(),
                        outcome.to_owned(),
                    )
                })
                .collect()
        })
        .collect()
}

#[test]
fn each_esp_frame_keeps_spi_sequence_icv_and_key_line() {
    let dir = testdata("dmvpn");
    let (capture, keys) = (dir.join("phase1.pcap"), dir.join("phase1.esp_sa"));
    let tmp = tempdir("comments");
    let out = tmp.join("out.pcapng");
    let run = decrypt(&capture, &keys, &out);
    assert!(
        !String::from_utf8_lossy(&run.stderr).contains("warning"),
        "{run:?}"
    );
    let written = comments(&out);
    let expected = decoded_esp(&capture, &keys);
    assert_eq!(written.len(), expected.len());
    let key_lines: Vec<String> = std::fs::read_to_string(&keys)
        .unwrap()
        .lines()
        .map(str::to_owned)
        .collect();
    let (mut esp_frames, mut bad) = (0, 0);
    for (number, (comments, esp)) in written.iter().zip(&expected).enumerate() {
        let number = number + 1;
        assert_eq!(comments.len(), esp.len(), "frame {number}: {comments:?}");
        for (comment, (spi, seq, outcome)) in comments.iter().zip(esp) {
            esp_frames += 1;
            let head = format!("ESP SPI {spi} seq {seq}: {outcome}");
            assert!(
                comment.starts_with(&head),
                "frame {number}: {comment} / {head}"
            );
            bad += usize::from(outcome.starts_with("ICV bad"));
            // The key line named is the line of the key file with this SPI, and its transforms.
            let (_, key) = comment.split_once("; key: line ").unwrap();
            let (line, transforms) = key.split_once(", ").unwrap();
            let text = &key_lines[line.parse::<usize>().unwrap() - 1];
            assert!(text.contains(&format!("\"{spi}\"")), "{comment}: {text}");
            let (encryption, integrity) = transforms.split_once(" / ").unwrap();
            assert!(
                text.contains(&format!("\"{encryption}\"")),
                "{comment}: {text}"
            );
            assert!(
                text.contains(&format!("\"{integrity}\"")),
                "{comment}: {text}"
            );
            assert!(
                !comment.contains("0x0011223344"),
                "no key material: {comment}"
            );
        }
    }
    assert_eq!(
        (esp_frames, bad),
        (29, 1),
        "phase1: 29 ESP packets, one ICV corrupted"
    );

    if tshark_available() {
        // tshark shows the comments, and decrypting the input itself finds the same SPIs,
        // sequence numbers and ICV results.
        let shown = tshark(&out, "", &["frame.comment"]);
        for (number, comments) in written.iter().enumerate() {
            assert_eq!(shown[&(number as u64 + 1)][0], comments.join(","));
        }
        let esp_sa = std::fs::read_to_string(&keys).unwrap();
        let theirs = tshark(
            &capture,
            &esp_sa,
            &["esp.spi", "esp.sequence", "esp.icv_good", "esp.icv_bad"],
        );
        for (number, comments) in written.iter().enumerate() {
            let row = &theirs[&(number as u64 + 1)];
            match comments.first() {
                None => assert_eq!(row[0], "", "frame {}", number + 1),
                Some(comment) => {
                    let head = format!("ESP SPI {} seq {}: ", row[0], row[1]);
                    assert!(comment.starts_with(&head), "{comment} / tshark {row:?}");
                    let truthy = |v: &str| v == "1" || v == "True";
                    if truthy(&row[3]) {
                        assert!(comment.contains("ICV bad"), "{comment} / tshark {row:?}");
                    } else if truthy(&row[2]) {
                        assert!(comment.contains("ICV good"), "{comment} / tshark {row:?}");
                    }
                }
            }
        }
    }
    std::fs::remove_dir_all(&tmp).unwrap();
}

/// `tshark -T fields` by frame number, with ESP decryption on and the `esp_sa` lines given as
/// UAT options (`-o uat:esp_sa:LINE`).
fn tshark(capture: &Path, esp_sa: &str, fields: &[&str]) -> BTreeMap<u64, Vec<String>> {
    let mut args = vec![
        "-o".to_owned(),
        "esp.enable_encryption_decode:TRUE".to_owned(),
        "-o".to_owned(),
        "esp.enable_authentication_check:TRUE".to_owned(),
    ];
    for line in esp_sa.lines().filter(|l| l.starts_with('"')) {
        args.extend(["-o".to_owned(), format!("uat:esp_sa:{line}")]);
    }
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let fields: Vec<&str> = std::iter::once("frame.number")
        .chain(fields.iter().copied())
        .collect();
    tshark_fields(capture, &args, &fields)
        .into_iter()
        .map(|mut row| (row.remove(0).parse().unwrap(), row))
        .collect()
}

fn stderr(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

#[test]
fn nothing_decrypted_says_why() {
    let dir = testdata("dmvpn");
    let capture = dir.join("phase1.pcap");
    let tmp = tempdir("warnings");
    let out = tmp.join("out.pcapng");
    let spis: Vec<String> = {
        let mut seen = Vec::new();
        for (spi, _, _) in decoded_esp(&capture, &dir.join("phase1.esp_sa"))
            .into_iter()
            .flatten()
        {
            if !seen.contains(&spi) {
                seen.push(spi);
            }
        }
        seen
    };
    assert_eq!(spis.len(), 10);

    // A key for an SPI the capture does not have: every SPI is listed, in the order first seen.
    let other = tmp.join("other.esp_sa");
    std::fs::write(
        &other,
        "\"IPv4\",\"192.0.2.11\",\"192.0.2.1\",\"0xdeadbeef\",\"NULL\",\"\",\"NULL\",\"\"\n",
    )
    .unwrap();
    let text = stderr(&decrypt(&capture, &other, &out));
    assert!(
        text.contains(&format!(
            "dmvpn: warning: no ESP packet was decrypted: no key matched SPI(s) {} (29 packet(s)",
            spis.join(", ")
        )),
        "{text}"
    );
    // Every comment says no key, and names no key line.
    for comment in comments(&out).into_iter().flatten() {
        assert!(comment.ends_with(": no key"), "{comment}");
    }

    // The right SPIs with a wrong integrity key: the ICV fails on every packet with one.
    let keys = std::fs::read_to_string(dir.join("phase1.esp_sa")).unwrap();
    let wrong = tmp.join("wrong.esp_sa");
    let mangled: String = keys
        .lines()
        .filter(|line| line.contains("HMAC"))
        .map(|line| {
            // Flip the last hex digit of the integrity key.
            let (head, key) = line.rsplit_once(",\"0x").unwrap();
            let mut key = key.trim_end_matches('"').to_owned();
            let last = key.pop().unwrap();
            key.push(if last == '0' { '1' } else { '0' });
            format!("{head},\"0x{key}\"\n")
        })
        .collect();
    std::fs::write(&wrong, mangled).unwrap();
    let text = stderr(&decrypt(&capture, &wrong, &out));
    assert!(text.contains("0 decrypted"), "{text}");
    assert!(text.contains("the ICV failed on "), "{text}");
    assert!(
        text.contains("the wrong integrity key or algorithm"),
        "{text}"
    );
    // The AES-GCM SAs are not in that file: their SPIs have no key.
    assert!(
        text.contains("no key matched SPI(s) 0x1000d004, 0x2000d004"),
        "{text}"
    );

    // A capture without ESP.
    let text = stderr(&decrypt(
        &testdata("eigrp/frr-plain.pcap"),
        &dir.join("phase1.esp_sa"),
        &out,
    ));
    assert!(
        text.contains(
            "warning: no ESP packet was decrypted: the frames written hold no ESP packet"
        ),
        "{text}"
    );
    std::fs::remove_dir_all(&tmp).unwrap();
}
