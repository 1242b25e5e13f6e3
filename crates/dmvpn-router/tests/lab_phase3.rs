//! The DMVPN Phase 3 lab end to end: `tools/lab/router_phase3_lab.sh` runs this crate's
//! `dmvpn-router` on `testdata/router/phase3/{R1,R2,R3}.cfg` (hub R1 with `ip nhrp redirect`,
//! spokes R2 and R3 with `ip nhrp shortcut`, their holding time cut to 20 s) in network namespaces
//! behind an ISP namespace, pings R3's loopback from R2's, and fails unless the shortcut comes up
//! (IKE + ESP R2 ↔ R3, each spoke's `show ip nhrp` and `show dmvpn` listing the other) and expires
//! once the ping stops. Then the captures are read here with `dmvpn decode -Y` and the routers' key
//! log: on the hub's side the first echoes cross the hub inside ESP; in the ISP (every packet
//! once, `nbma.pcap`) the hub's Traffic Indication, the Resolution Request and Reply, ISAKMP
//! between the spokes and the echoes inside ESP straight from R2 to R3 come in that order, and
//! more echoes go direct than through the hub.
//!
//! Needs root, iproute2, tcpdump, tshark and python3; without them `phase3_shortcut_in_namespaces`
//! prints why and passes, unless `DMVPN_REQUIRE_NETNS=1` (set by `.ci/run`) makes that a
//! failure. About 55 s.
//!
//! `the_recorded_phase3_capture_shows_the_shortcut` makes the same checks, without root, on the
//! lab's capture and key log recorded in `testdata/router/lab/phase3` (its README says how), when
//! the decoder is built (`cargo test --workspace` builds it beside the router).

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::net::Ipv4Addr;
use std::path::{Path, PathBuf};
use std::process::Command;

mod lab_capture;

/// The NBMA addresses of hub R1 and spokes R2, R3, and the loopbacks the ping goes between.
const HUB: &str = "100.1.1.1";
const R2: &str = "100.1.2.2";
const R3: &str = "100.1.3.3";
const PING: (&str, &str) = ("2.2.2.2", "3.3.3.3");

fn addr(text: &str) -> Ipv4Addr {
    text.parse().unwrap()
}

/// Why the lab cannot run here, if it cannot: not root, or a tool it needs is missing.
fn cannot_run() -> Option<String> {
    if !dmvpn_testkit::is_root() {
        return Some("not root (network namespaces, TUN and raw sockets need it)".to_owned());
    }
    let probes: [(&str, &str); 4] = [
        ("ip", "-V"),
        ("tcpdump", "--version"),
        ("tshark", "--version"),
        ("python3", "--version"),
    ];
    probes.iter().find_map(|&(tool, flag)| {
        let runs = Command::new(tool).arg(flag).output().is_ok();
        (!runs).then(|| format!("{tool} is not installed (tools/setup.sh installs it)"))
    })
}

/// The frame numbers `dmvpn decode -Y filter` keeps in `capture`, opened with the key files in
/// `keys` (the lab's key log directory, or the recording's).
fn frames(decoder: &Path, capture: &Path, keys: &Path, filter: &str) -> Vec<u64> {
    let key_files = ["esp_sa", "ikev1_decryption_table"].map(|name| keys.join(name));
    let stdout = dmvpn_testkit::stdout_of(
        Command::new(decoder)
            .args(["decode", "--color", "never", "-Y", filter])
            .args(key_files.iter().flat_map(|k| [Path::new("--keys"), k]))
            .arg(capture),
    );
    stdout
        .lines()
        .filter_map(|line| line.split_whitespace().next()?.parse().ok())
        .collect()
}

/// What the Phase 3 capture `capture` (the ISP's view: every packet once) must show, opened with
/// the key log in `keys`; returns a one-line account of it.
fn shortcut_in_capture(decoder: &Path, capture: &Path, keys: &Path) -> String {
    let clear = lab_capture::count(decoder, capture, &[], lab_capture::IN_THE_CLEAR);
    assert_eq!(clear, 0, "GRE or ICMP echo in the clear on the NBMA side");
    let inner = (addr(PING.0), addr(PING.1));
    let echoes = |from: &str, to: &str| {
        let filter = lab_capture::echo_request_in_esp((addr(from), addr(to)), inner);
        frames(decoder, capture, keys, &filter)
    };
    let to_hub = echoes(R2, HUB);
    let from_hub = echoes(HUB, R3);
    let direct = echoes(R2, R3);
    let redirect = frames(
        decoder,
        capture,
        keys,
        &format!("esp && nhrp.hdr.op.type == 8 && ip.src == {HUB}"),
    );
    let request = frames(decoder, capture, keys, "esp && nhrp.hdr.op.type == 1");
    let reply = frames(decoder, capture, keys, "esp && nhrp.hdr.op.type == 2");
    let ike = frames(
        decoder,
        capture,
        keys,
        &format!("isakmp && ip.addr == {R2} && ip.addr == {R3}"),
    );
    let first = |what: &[u64], name: &str| -> u64 {
        *what
            .first()
            .unwrap_or_else(|| panic!("no {name} in {}", capture.display()))
    };
    let hairpin = first(&to_hub, "echo request R2 -> hub inside ESP");
    first(&from_hub, "echo request hub -> R3 inside ESP");
    let direct_from = first(&direct, "echo request R2 -> R3 inside ESP");
    // The order Phase 3 dictates; ISAKMP and the reply only have to precede the direct traffic
    // (the target spoke keys the tunnel to answer straight, or the asker keys it on the answer).
    let steps = [
        (hairpin, "the first echo request through the hub"),
        (
            first(&redirect, "Traffic Indication from the hub"),
            "the hub's Traffic Indication",
        ),
        (
            first(&request, "Resolution Request"),
            "the first Resolution Request",
        ),
        (direct_from, "the first echo request direct"),
    ];
    for pair in steps.windows(2) {
        let ((before, what), (after, then)) = (pair[0], pair[1]);
        assert!(
            before < after,
            "{what} (frame {before}) is not before {then} (frame {after})"
        );
    }
    for (frame, what) in [
        (
            first(&ike, "ISAKMP between R2 and R3"),
            "the first ISAKMP R2 <-> R3",
        ),
        (
            first(&reply, "Resolution Reply"),
            "the first Resolution Reply",
        ),
    ] {
        assert!(
            frame < direct_from,
            "{what} (frame {frame}) is not before the direct traffic (frame {direct_from})"
        );
    }
    assert!(
        direct.len() > to_hub.len(),
        "more echo requests went through the hub ({}) than direct ({})",
        to_hub.len(),
        direct.len()
    );
    let order: Vec<String> = steps.iter().map(|(f, w)| format!("{w} {f}")).collect();
    format!(
        "{} echo requests via the hub, {} direct, {} ISAKMP R2 <-> R3, {} requests, {} replies; frames: {}",
        to_hub.len(),
        direct.len(),
        ike.len(),
        request.len(),
        reply.len(),
        order.join(", ")
    )
}

#[test]
fn phase3_shortcut_in_namespaces() {
    if let Some(why) = cannot_run() {
        assert!(
            std::env::var_os("DMVPN_REQUIRE_NETNS").is_none(),
            "phase 3 lab: {why}, and DMVPN_REQUIRE_NETNS is set"
        );
        println!("phase 3 lab: SKIPPED: {why}");
        return;
    }
    let router = PathBuf::from(env!("CARGO_BIN_EXE_dmvpn-router"));
    let out = std::env::temp_dir().join(format!("dmvpn-phase3-lab-{}", std::process::id()));
    let script = dmvpn_testkit::workspace().join("tools/lab/router_phase3_lab.sh");
    let status = Command::new("bash")
        .arg(script)
        .arg("--out")
        .arg(&out)
        .env("DMVPN_ROUTER", &router)
        .env("DMVPN", router.with_file_name("dmvpn"))
        .status()
        .expect("bash runs");
    let summary = std::fs::read_to_string(out.join("summary.txt")).unwrap_or_default();
    println!("{summary}");
    assert!(status.success(), "router_phase3_lab.sh failed:\n{summary}");
    assert!(summary.contains("ok: R2's entry for R3 expired when idle"));
    let Some(decoder) = lab_capture::decoder() else {
        println!("phase 3 lab: capture checks SKIPPED: the dmvpn binary is not built");
        return;
    };
    lab_capture::ping_through_hub(
        &decoder,
        &out,
        (addr(R2), addr(HUB), addr(R3)),
        (addr(PING.0), addr(PING.1)),
    );
    let account = shortcut_in_capture(&decoder, &out.join("nbma.pcap"), &out.join("keys"));
    println!("phase 3 lab capture: {account}");
    let _ = std::fs::remove_dir_all(&out);
}

#[test]
fn the_recorded_phase3_capture_shows_the_shortcut() {
    let Some(decoder) = lab_capture::decoder() else {
        println!("phase 3 recording: SKIPPED: the dmvpn binary is not built");
        return;
    };
    let data = dmvpn_testkit::testdata("router/lab/phase3");
    let account = shortcut_in_capture(&decoder, &data.join("nbma.pcap"), &data.join("keys"));
    println!("phase 3 recording: {account}");
}
