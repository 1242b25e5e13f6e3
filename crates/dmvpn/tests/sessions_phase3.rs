//! DMVPN Phase 3 in `dmvpn sessions`: the redirect, the resolution, the direct tunnel and the
//! path of each flow, on the captures of tools/gen/gen_phase3_sessions.py (testdata/sessions),
//! the evidence frames of the Phase 3 rules, the JSON against its schema, and the netns lab's
//! real Phase 3 capture when it is present (testdata/router/lab/phase3).

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod schema_validator;

use std::net::IpAddr;
use std::path::{Path, PathBuf};
use std::process::Command;

use dmvpn::session::{Report, Rule};
use dmvpn_testkit::workspace;

#[path = "util/sessions.rs"]
mod sessions;

const A: &str = "192.0.2.11";
const B: &str = "192.0.2.12";
const HUB: &str = "192.0.2.1";

fn capture(name: &str) -> PathBuf {
    workspace().join("testdata/sessions").join(name)
}

fn report(name: &str) -> Report {
    sessions::report(&capture(name))
}

fn ip(text: &str) -> IpAddr {
    text.parse().unwrap()
}

/// The frames of the finding of `rule` (which must be the only rule that fired).
fn only_finding(name: &str, rule: Rule) -> (Vec<u64>, String) {
    let report = report(name);
    let rules: Vec<Rule> = report.rules().into_iter().collect();
    assert_eq!(rules, [rule], "{name}\n{report}");
    let finding = report.findings.iter().find(|f| f.rule == rule).unwrap();
    (finding.frames.clone(), finding.message.clone())
}

#[test]
fn healthy_phase3_run_is_reconstructed() {
    let report = report("phase3-healthy.pcap");
    assert!(report.findings.is_empty(), "{report}");
    let s2s = &report.spoke_to_spoke;
    assert_eq!(
        s2s.spokes.iter().copied().collect::<Vec<_>>(),
        [ip(A), ip(B)]
    );

    // The hub redirects A for the ping (frame 17, quoting frame 13's header), and B for the reply.
    let [to_a, to_b] = s2s.redirects.as_slice() else {
        panic!("{:?}", s2s.redirects)
    };
    assert_eq!(
        (to_a.seen.frame, to_a.hub, to_a.spoke),
        (17, ip(HUB), ip(A))
    );
    let flow = to_a.flow.unwrap();
    assert_eq!(
        (flow.src, flow.dst, flow.protocol),
        (ip("192.168.11.10"), ip("192.168.12.10"), 1)
    );
    assert_eq!((to_b.seen.frame, to_b.spoke), (30, ip(B)));

    // A resolves 192.168.12.10 (frame 18), the hub forwards it to B (19), B answers A directly
    // over the new SA (29) with B's LAN prefix.
    let first = &s2s.resolutions[to_a.resolution.unwrap()];
    assert_eq!((first.request_id, first.request.frame), (101, 18));
    assert_eq!(first.request_frames, [18, 19]);
    assert_eq!((first.origin, first.target), (ip(A), ip("192.168.12.10")));
    assert_eq!(first.forwarded_to, Some(ip(B)));
    let answer = first.answer.as_ref().unwrap();
    assert_eq!(
        (answer.seen.frame, answer.from, answer.direct),
        (29, ip(B), true)
    );
    assert_eq!(answer.code, 0);
    assert_eq!(answer.prefix, Some((ip("192.168.12.0"), 24)));
    assert_eq!(answer.holding_time, 600);
    assert_eq!(
        (answer.nbma, answer.tunnel),
        (Some(ip(B)), Some(ip("172.16.1.12")))
    );
    let second = &s2s.resolutions[to_b.resolution.unwrap()];
    assert_eq!((second.request_id, second.origin), (201, ip(B)));
    assert_eq!(second.answer.as_ref().map(|a| a.seen.frame), Some(33));

    // One direct tunnel: B's IKE (frame 20) up with A's encrypted Main Mode 6 (25), ESP both ways.
    let [tunnel] = s2s.tunnels.as_slice() else {
        panic!("{:?}", s2s.tunnels)
    };
    assert!(tunnel.is_up() && !tunnel.ike_failed);
    assert_eq!(tunnel.resolutions.len(), 2);
    assert_eq!(tunnel.ike_first.map(|s| s.frame), Some(20));
    assert_eq!(tunnel.ike_up.map(|s| s.frame), Some(25));
    assert_eq!(tunnel.esp.packets, 8);
    assert_eq!(tunnel.esp_decrypted, 8);
    assert_eq!(tunnel.installs, [29, 33]);
    assert_eq!(tunnel.first_direct.map(|s| s.frame), Some(34));

    // The ping hair-pinned (13 in, 14 out), then went direct from frame 34; so did the reply.
    let ping = s2s.flow("192.168.11.10", "192.168.12.10").unwrap();
    assert!(ping.hairpinned());
    assert_eq!(ping.path(), "hub, then direct");
    assert_eq!(
        (
            ping.to_hub.packets,
            ping.from_hub.packets,
            ping.direct.packets
        ),
        (1, 1, 3)
    );
    assert_eq!(ping.switched.map(|s| s.frame), Some(34));
    assert_eq!(ping.redirect.map(|s| s.frame), Some(17));
    assert_eq!(ping.via, (Some(ip(A)), Some(ip(B))));
    let pong = s2s.flow("192.168.12.10", "192.168.11.10").unwrap();
    assert_eq!(pong.switched.map(|s| s.frame), Some(35));

    let text = report.to_string();
    for line in [
        "17 +3.262s redirect: hub 192.0.2.1 -> spoke 192.0.2.11 for 192.168.11.10 -> 192.168.12.10",
        "resolution id=101 172.16.1.11 (192.0.2.11) asks for 192.168.12.10, forwarded to 192.0.2.12; \
         reply in frame 29 from 192.0.2.12 (direct) code Success (0), 192.168.12.0/24",
        "spokes 192.0.2.11 <-> 192.0.2.12: up",
        "flow 192.168.11.10 -> 192.168.12.10: hub, then direct; 1 to hub, 1 from hub, 3 direct; \
         went direct in frame 34",
    ] {
        assert!(text.contains(line), "{line}\n{text}");
    }
    let page = sessions::html(&report, "phase3-healthy.pcap");
    for part in [
        "<h2 id=\"spoke-to-spoke\">Spoke-to-spoke (Phase 2/3)</h2>",
        "192.168.11.10 → 192.168.12.10</td><td>hub, then direct</td>",
    ] {
        assert!(page.contains(part), "{part}");
    }
}

/// What each fault capture shows, and that its rule (and no other) fires with the faulty frames.
#[test]
fn each_phase3_fault_is_diagnosed_with_its_frames() {
    let cases: [(Rule, &[u64], &str); 6] = [
        // The redirect to A; the stream hair-pins on.
        (
            Rule::NhrpRedirectNoShortcut,
            &[15],
            "`ip nhrp shortcut` is missing",
        ),
        // A's request three times, each forwarded to B; never answered.
        (
            Rule::NhrpResolutionUnanswered,
            &[16, 17, 18, 19, 20, 21],
            "Resolution Request(s) for 192.168.12.10 got no reply (6 cop(ies)",
        ),
        // The request and the hub's reply with code 12.
        (
            Rule::NhrpResolutionRefused,
            &[16, 17],
            "Resolution Reply code NoBindingExists (12)",
        ),
        // B's first and last Main Mode 1, and the last hair-pinned packet after them.
        (
            Rule::SpokeToSpokeIkeFailed,
            &[18, 20, 25, 26],
            "IKE between spokes 192.0.2.11 and 192.0.2.12 never came up",
        ),
        // Three installs, two purges.
        (
            Rule::NhrpShortcutFlapping,
            &[29, 32, 35, 38, 41],
            "withdrawn (purge) and installed again 2 times",
        ),
        // The redirect and the last packet still through the hub.
        (
            Rule::Phase3Hairpin,
            &[15, 35],
            "192.168.11.10 -> 192.168.12.10 still hair-pin",
        ),
    ];
    for (rule, frames, words) in cases {
        let name = format!("{}.pcap", rule.id());
        let (found, message) = only_finding(&name, rule);
        assert_eq!(found, frames, "{name}: {message}");
        assert!(message.contains(words), "{name}: {message}");
    }
    // Where IKE fails the unanswered resolution is not reported on its own, and the tunnel says so.
    let report = report("spoke-to-spoke-ike-failed.pcap");
    let tunnel = report.spoke_to_spoke.tunnel(ip(A), ip(B)).unwrap();
    assert!(tunnel.ike_failed && !tunnel.is_up());
    let flow = report
        .spoke_to_spoke
        .flow("192.168.11.10", "192.168.12.10")
        .unwrap();
    assert_eq!(flow.path(), "hub");
}

/// The JSON of every Phase 3 capture follows the schema and carries the spoke-to-spoke records.
#[test]
fn phase3_json_matches_the_schema() {
    let schema = schema_validator::Validator::new(
        serde_json::from_str(dmvpn::json::SESSIONS_SCHEMA).unwrap(),
    )
    .unwrap();
    for rule in [
        "phase3-healthy",
        "nhrp-redirect-no-shortcut",
        "nhrp-resolution-unanswered",
        "nhrp-resolution-refused",
        "spoke-to-spoke-ike-failed",
        "nhrp-shortcut-flapping",
        "phase3-hairpin",
    ] {
        let json = sessions_json(&capture(&format!("{rule}.pcap")));
        let errors = schema.errors(&json);
        assert!(errors.is_empty(), "{rule}: {errors:?}");
        assert_eq!(json["schema_version"], "1.1.0");
        if rule != "phase3-healthy" {
            assert!(
                json["findings"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .any(|f| f["rule"] == rule),
                "{rule}"
            );
        }
    }
    let json = sessions_json(&capture("phase3-healthy.pcap"));
    let s2s = &json["spoke_to_spoke"];
    assert_eq!(s2s["redirects"][0]["seen"]["frame"], 17);
    assert_eq!(s2s["redirects"][0]["resolution_frame"], 18);
    assert_eq!(s2s["resolutions"][0]["answer"]["prefix"], "192.168.12.0/24");
    assert_eq!(s2s["resolutions"][0]["answer"]["direct"], true);
    assert_eq!(s2s["tunnels"][0]["up"], true);
    assert_eq!(s2s["tunnels"][0]["ike_up"]["frame"], 25);
    assert_eq!(s2s["flows"][0]["path"], "hub, then direct");
    assert_eq!(s2s["flows"][0]["switched"]["frame"], 34);
    // A drifted record is refused.
    let mut drifted = json.clone();
    drifted["spoke_to_spoke"]["flows"][0]["path"] = "sideways".into();
    assert!(!schema.errors(&drifted).is_empty());
}

/// `dmvpn sessions --format json` with the `esp_sa` file beside the capture.
fn sessions_json(capture: &Path) -> serde_json::Value {
    let mut command = Command::new(env!("CARGO_BIN_EXE_dmvpn"));
    command
        .arg("sessions")
        .arg(capture)
        .args(["--format", "json"]);
    let keys = capture.with_extension("esp_sa");
    if keys.exists() {
        command.arg("--keys").arg(keys);
    }
    let output = command.output().unwrap();
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    serde_json::from_slice(&output.stdout).unwrap()
}

/// The netns lab's Phase 3 run of dmvpn-router (testdata/router/lab/phase3, see its README): the
/// redirect, the resolution and the direct tunnel, with their frames, on a real capture.
#[test]
fn lab_phase3_capture_shows_redirect_resolution_and_direct_tunnel() {
    let dir = workspace().join("testdata/router/lab/phase3");
    let keys = dmvpn::keys::KeyFiles::load([
        dir.join("keys/esp_sa"),
        dir.join("keys/ikev1_decryption_table"),
    ])
    .unwrap();
    let mut decoder = dmvpn::decode::Decoder::with_ike_keys(keys.esp, keys.ike);
    let mut reader = dmvpn::capture::CaptureReader::open(dir.join("nbma.pcap")).unwrap();
    let report = dmvpn::session::SessionBuilder::run(&mut reader, &mut decoder).unwrap();
    assert!(report.findings.is_empty(), "{report}");
    let s2s = &report.spoke_to_spoke;
    let (r2, r3) = (ip("100.1.2.2"), ip("100.1.3.3"));
    // Echo request 1 crosses the hub (57), the hub redirects R2 (58) quoting it.
    let redirect = &s2s.redirects[0];
    assert_eq!(
        (redirect.seen.frame, redirect.hub, redirect.spoke),
        (58, ip("100.1.1.1"), r2)
    );
    let quoted = redirect.flow.unwrap();
    assert_eq!((quoted.src, quoted.dst), (ip("2.2.2.2"), ip("3.3.3.3")));
    // R2's Resolution Request (66), forwarded to R3, answered straight from R3 (80) with /32.
    let resolution = &s2s.resolutions[redirect.resolution.unwrap()];
    assert_eq!((resolution.request.frame, resolution.origin), (66, r2));
    assert_eq!(resolution.forwarded_to, Some(r3));
    let answer = resolution.answer.as_ref().unwrap();
    assert_eq!(
        (answer.seen.frame, answer.from, answer.direct),
        (80, r3, true)
    );
    assert_eq!(answer.prefix, Some((ip("3.3.3.3"), 32)));
    // The direct tunnel: IKE R2 <-> R3 up (72), decrypted ESP, direct echoes from frame 81.
    let tunnel = s2s.tunnel(r2, r3).unwrap();
    assert_eq!(tunnel.ike_up.map(|s| s.frame), Some(72));
    assert!(tunnel.esp_decrypted > 0 && tunnel.esp_decrypted == tunnel.esp.packets);
    assert_eq!(tunnel.first_direct.map(|s| s.frame), Some(81));
    let echo = s2s.flow("2.2.2.2", "3.3.3.3").unwrap();
    assert_eq!(echo.path(), "hub, then direct");
    assert_eq!((echo.to_hub.packets, echo.direct.packets), (1, 39));
    assert_eq!(echo.switched.map(|s| s.frame), Some(81));
}
