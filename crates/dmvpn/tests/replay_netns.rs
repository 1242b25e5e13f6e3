//! `dmvpn replay --iface` end to end: tools/lab/replay_netns.sh replays testdata/dmvpn/phase1.pcap
//! (twice, with two addresses rewritten) across a veth pair between two network namespaces of its
//! own and records what arrives with tcpdump; the frames that arrived must be exactly those
//! `dmvpn::replay::replay_file` produces for the same options (count, order, bytes), the rewritten
//! addresses must have replaced the old ones, and every IPv4, UDP and TCP checksum must be valid
//! (our own check, and tshark's when it is installed).
//!
//! Needs root, iproute2 and tcpdump: without them the test prints why and passes, unless
//! `DMVPN_REQUIRE_NETNS=1` (set by `.ci/run`) makes that a failure.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::net::Ipv4Addr;
use std::process::Command;

use dmvpn::capture::link::{self, EtherType};
use dmvpn::capture::{CaptureReader, LinkType};
use dmvpn::replay::{self, Options, Pace};
use dmvpn_testkit::workspace;
use dmvpn_wire::checksum::{self, Checksum};

const REWRITES: [&str; 2] = ["192.0.2.1=198.18.0.1", "192.0.2.11=198.18.0.11"];

/// The IPv4 packet of an Ethernet frame (behind any VLAN tags).
fn ipv4(frame: &[u8]) -> Option<&[u8]> {
    let decoded = link::decode(LinkType::ETHERNET, frame).ok()?;
    (decoded.ethertype == EtherType::IPV4).then_some(decoded.payload)
}

/// IPv4 header and UDP/TCP checksums of an Ethernet frame carrying IPv4 (`None`: not IPv4).
fn checksums_ok(frame: &[u8]) -> Option<bool> {
    let ip = ipv4(frame)?;
    let header_len = usize::from(ip[0] & 0x0f) * 4;
    let mut ok = checksum::verify(&ip[..header_len]);
    let total = usize::from(u16::from_be_bytes([ip[2], ip[3]]));
    let fragmented = u16::from_be_bytes([ip[6], ip[7]]) & 0x3fff != 0;
    let protocol = ip[9];
    let segment = &ip[header_len..total];
    let has_checksum = match protocol {
        17 => segment[6..8] != [0, 0],
        6 => true,
        _ => false,
    };
    if !fragmented && has_checksum {
        let mut sum = Checksum::new();
        sum.add(&ip[12..20]);
        sum.add_u16(u16::from(protocol));
        sum.add_u16(segment.len() as u16);
        sum.add(segment);
        ok &= sum.finish() == 0;
    }
    Some(ok)
}

fn outer_addrs(frame: &[u8]) -> Option<(Ipv4Addr, Ipv4Addr)> {
    let ip = ipv4(frame)?;
    let addr = |at: usize| Ipv4Addr::new(ip[at], ip[at + 1], ip[at + 2], ip[at + 3]);
    Some((addr(12), addr(16)))
}

/// Prints why the test cannot run here; a failure when `DMVPN_REQUIRE_NETNS` is set (`.ci/run`).
fn skip(why: &str) {
    assert!(
        std::env::var_os("DMVPN_REQUIRE_NETNS").is_none(),
        "replay_netns: {why}, and DMVPN_REQUIRE_NETNS is set"
    );
    println!("replay_netns: SKIPPED: {why}");
}

#[test]
fn replayed_frames_arrive_rewritten_with_valid_checksums() {
    if !dmvpn_testkit::is_root() {
        skip("not root (network namespaces and AF_PACKET need it)");
        return;
    }
    for tool in ["ip", "tcpdump"] {
        if Command::new("sh")
            .args(["-c", &format!("command -v {tool}")])
            .output()
            .map_or(true, |o| !o.status.success())
        {
            skip(&format!(
                "{tool} is not installed (tools/setup.sh installs it)"
            ));
            return;
        }
    }
    let capture = workspace().join("testdata/dmvpn/phase1.pcap");
    let out = std::env::temp_dir().join(format!("dmvpn-replay-netns-{}.pcap", std::process::id()));
    let mut args = vec![
        env!("CARGO_BIN_EXE_dmvpn").to_owned(),
        out.display().to_string(),
        capture.display().to_string(),
        "--pps".to_owned(),
        "500".to_owned(),
        "--loop".to_owned(),
        "2".to_owned(),
    ];
    for rewrite in REWRITES {
        args.extend(["--rewrite".to_owned(), rewrite.to_owned()]);
    }
    let run = Command::new("bash")
        .arg(workspace().join("tools/lab/replay_netns.sh"))
        .args(&args)
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&run.stdout);
    let stderr = String::from_utf8_lossy(&run.stderr);
    if run.status.code() == Some(77) {
        println!("{stdout}");
        return;
    }
    assert!(run.status.success(), "{stdout}\n{stderr}");
    assert!(stderr.contains("84 frame(s) sent"), "{stderr}");

    // What the library says it sends with the same options.
    let mut options = Options::new(Pace::Pps(500));
    options.loops = 2;
    for rewrite in REWRITES {
        options.rewrite.add_str(rewrite).unwrap();
    }
    let mut expected: Vec<Vec<u8>> = Vec::new();
    let stats = replay::replay_file(&capture, &options, &mut expected, |_| {}).unwrap();
    assert_eq!(stats.sent, 84);
    assert_eq!(stats.rewritten, 84, "every phase1 frame involves the hub");

    let mut received = Vec::new();
    let mut reader = CaptureReader::open(&out).unwrap();
    while let Some(frame) = reader.next_frame().unwrap() {
        received.push(frame.data.to_vec());
    }
    std::fs::remove_file(&out).ok();
    assert_eq!(received.len(), expected.len(), "frames that arrived");
    let bytes: usize = received.iter().map(Vec::len).sum();
    assert_eq!(bytes as u64, stats.bytes);
    for (i, (got, want)) in received.iter().zip(&expected).enumerate() {
        assert_eq!(got, want, "frame {}", i + 1);
        assert_eq!(checksums_ok(got), Some(true), "frame {}", i + 1);
        let (src, dst) = outer_addrs(got).unwrap();
        for old in ["192.0.2.1", "192.0.2.11"] {
            let old: Ipv4Addr = old.parse().unwrap();
            assert!(src != old && dst != old, "frame {}: {src} -> {dst}", i + 1);
        }
    }
    // tshark agrees that no checksum is bad (it reads what tcpdump wrote; re-record it first).
    if Command::new("sh")
        .args(["-c", "command -v tshark"])
        .output()
        .is_ok_and(|o| o.status.success())
    {
        let rerun = Command::new("bash")
            .arg(workspace().join("tools/lab/replay_netns.sh"))
            .args(&args)
            .output()
            .unwrap();
        assert!(rerun.status.success());
        let tshark = Command::new("tshark")
            .arg("-r")
            .arg(&out)
            .args([
                "-o",
                "ip.check_checksum:TRUE",
                "-o",
                "udp.check_checksum:TRUE",
                "-o",
                "tcp.check_checksum:TRUE",
                "-T",
                "fields",
                "-e",
                "ip.checksum.status",
                "-e",
                "udp.checksum.status",
                "-e",
                "tcp.checksum.status",
            ])
            .output()
            .unwrap();
        std::fs::remove_file(&out).ok();
        let text = String::from_utf8(tshark.stdout).unwrap();
        assert_eq!(text.lines().count(), 84);
        for (i, line) in text.lines().enumerate() {
            // Wireshark: 0 bad, 1 good, 2 unverified (e.g. UDP without a checksum).
            let statuses: Vec<&str> = line.split(['\t', ',']).filter(|s| !s.is_empty()).collect();
            assert!(!statuses.contains(&"0"), "frame {}: {line}", i + 1);
            assert!(
                statuses.first() == Some(&"1"),
                "frame {}: IPv4 header {line}",
                i + 1
            );
        }
    }
}
