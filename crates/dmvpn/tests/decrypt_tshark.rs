//! `dmvpn decrypt` against tshark: the decrypted pcapng, read by tshark with no keys, must show the
//! same inner fields, frame by frame, as tshark's own ESP decryption of the original capture.
//!
//! Fields compared: the innermost IPv4 source and destination, GRE protocol and key, NHRP operation,
//! EIGRP opcode, ICMP type and TCP ports, plus the frame timestamp. Frames whose ICV fails are
//! skipped (tshark decrypts them anyway; `dmvpn decrypt` keeps them as they were). Without tshark
//! the test prints why it skips; with `DMVPN_REQUIRE_TSHARK=1` a missing tshark fails it.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;

use dmvpn_testkit::{temp_dir, tshark_available, workspace};

fn tempdir() -> PathBuf {
    temp_dir("dmvpn-decrypt")
}

const FIELDS: [&str; 13] = [
    "frame.number",
    "frame.time_epoch",
    "esp.icv_bad",
    "ip.src",
    "ip.dst",
    "gre.proto",
    "gre.key",
    "nhrp.hdr.op.type",
    "eigrp.opcode",
    "icmp.type",
    "tcp.srcport",
    "tcp.dstport",
    "esp.spi",
];

/// Per frame: the values of FIELDS[1..] (last occurrence: the innermost), by frame number.
fn tshark(capture: &Path, esp_sa: Option<&str>) -> BTreeMap<u64, Vec<String>> {
    let config = tempdir();
    std::fs::create_dir_all(config.join("wireshark")).unwrap();
    std::fs::write(config.join("wireshark/esp_sa"), esp_sa.unwrap_or("")).unwrap();
    let mut command = Command::new("tshark");
    command
        .env("XDG_CONFIG_HOME", &config)
        .env("HOME", &config)
        .args(["-n", "-r"])
        .arg(capture);
    if esp_sa.is_some() {
        command.args([
            "-o",
            "esp.enable_encryption_decode:TRUE",
            "-o",
            "esp.enable_authentication_check:TRUE",
        ]);
    }
    command.args(["-T", "fields", "-E", "separator=/t", "-E", "occurrence=l"]);
    for field in FIELDS {
        command.args(["-e", field]);
    }
    let text = dmvpn_testkit::stdout_of(&mut command);
    std::fs::remove_dir_all(&config).ok();
    text.lines()
        .map(|line| {
            let mut columns = line.split('\t').map(str::to_owned);
            let number = columns.next().unwrap().parse().unwrap();
            (number, columns.collect())
        })
        .collect()
}

/// Decrypts `capture` with `keys` and compares; returns how many frames carry decrypted content.
fn compare(capture: &Path, keys: &[PathBuf]) -> usize {
    let out = tempdir().join("decrypted.pcapng");
    let mut command = Command::new(env!("CARGO_BIN_EXE_dmvpn"));
    command.arg("decrypt").arg(capture).arg("-o").arg(&out);
    for key in keys {
        command.arg("--keys").arg(key);
    }
    dmvpn_testkit::stdout_of(&mut command);
    let esp_sa: String = keys
        .iter()
        .map(|key| std::fs::read_to_string(key).unwrap() + "\n")
        .collect();
    let theirs = tshark(capture, Some(&esp_sa));
    let ours = tshark(&out, None);
    assert_eq!(
        theirs.keys().collect::<Vec<_>>(),
        ours.keys().collect::<Vec<_>>(),
        "{}: frame numbers differ",
        capture.display()
    );
    let (icv_bad, spi) = (1, 11);
    let mut decrypted = 0;
    let mut mismatches = Vec::new();
    for (number, expected) in &theirs {
        let got = &ours[number];
        if expected[icv_bad] == "1" || expected[icv_bad] == "True" {
            // Kept encrypted: same frame, still ESP.
            assert_eq!(
                got[spi], expected[spi],
                "frame {number}: ICV-failed ESP kept"
            );
            continue;
        }
        if !expected[spi].is_empty() && got[spi].is_empty() {
            decrypted += 1;
        }
        // Compare everything but the ICV verdict and the SPI (gone once decrypted).
        let strip = |v: &Vec<String>| {
            v.iter()
                .enumerate()
                .filter(|(i, _)| *i != icv_bad && *i != spi)
                .map(|(_, s)| s.clone())
                .collect::<Vec<_>>()
        };
        if strip(expected) != strip(got) {
            mismatches.push(format!(
                "frame {number}:\n  tshark decrypting {expected:?}\n  decrypted file    {got:?}"
            ));
        }
    }
    assert!(
        mismatches.is_empty(),
        "{}:\n{}",
        capture.display(),
        mismatches.join("\n")
    );
    decrypted
}

#[test]
fn bundled_capture_decrypts_like_tshark() {
    if !tshark_available() {
        return;
    }
    let data = workspace().join("testdata/dmvpn");
    let decrypted = compare(&data.join("phase1.pcap"), &[data.join("phase1.esp_sa")]);
    // 28 ESP packets decrypt; the reassembled one is on the fragment frame that completed it.
    assert_eq!(decrypted, 28);
}

#[test]
fn klips_captures_decrypt_like_tshark() {
    if !tshark_available() {
        return;
    }
    let shared = dmvpn_testkit::captures_or_skip!();
    let klips = shared.join("libreswan-klips/esp_sa.verified");
    let aes256 = tempdir().join("aes256.esp_sa");
    let verified = std::fs::read_to_string(&klips).unwrap();
    let line = verified
        .lines()
        .find(|line| line.starts_with("#\"IPv4\"") && line.contains("AES-CBC"))
        .unwrap();
    std::fs::write(&aes256, &line[1..]).unwrap();
    let cases = [
        ("libreswan-klips/08-sunrise-sunset-aes128.pcap", &klips),
        ("libreswan-klips/08-sunrise-sunset-esp-sha1.pcap", &klips),
        ("libreswan-klips/08-sunrise-sunset-udpesp-ping.pcap", &klips),
        ("tcpdump/02-sunrise-sunset-esp.pcap", &klips),
        ("tcpdump/08-sunrise-sunset-aes.pcap", &aes256),
    ];
    for (name, keys) in cases {
        let decrypted = compare(&shared.join(name), std::slice::from_ref(keys));
        assert!(decrypted > 0, "{name}: nothing decrypted");
    }
}
