//! The DMVPN Phase 1 lab end to end: `tools/lab/router_lab.sh` builds a hub and two spokes in network
//! namespaces of its own, each running this crate's `dmvpn-router` on
//! `testdata/router/{hub,spoke1,spoke2}.cfg` with a LAN host behind it, and fails on the first
//! thing that does not hold: IKEv1 Main + Quick Mode and ESP SAs hub ↔ each spoke, both NHRP
//! registrations, the EIGRP adjacencies, a ping from spoke 1's LAN host to spoke 2's; a capture on
//! the hub's NBMA side with no GRE or ICMP echo in the clear, whose ESP the routers' key log opens
//! (in `dmvpn decode`, which must show the ping going spoke 1 → hub → spoke 2, and in tshark);
//! then the hub is killed and restarted and all of it must come back; last, with an SA volume
//! lifetime of 20 000 KB, 96 MB of TCP must arrive whole through several rekeys with no SA
//! running out and no EIGRP neighbour lost.
//!
//! Needs root, iproute2, tcpdump, tshark and python3. Without them the test prints why and
//! passes, unless `DMVPN_REQUIRE_NETNS=1` (set by `.ci/run`) makes that a failure.

//!
//! `hub_and_two_spokes_over_ikev2` runs the same lab over IKEv2 (`router_lab.sh --ikev2`, the
//! configurations of `testdata/router/ikev2/`): `show crypto ikev2 sa` READY with the negotiated
//! proposal, every encrypted IKEv2 message of the capture opened with the routers'
//! `ikev2_decryption_table` (tshark and `dmvpn decode`, ICVs good), and 12 MB of TCP through
//! CREATE_CHILD_SA rekeys instead of the 96 MB. About 40 s.
//!
//! `tutorial_configurations_run_unchanged` runs `tools/lab/router_tutorial_lab.sh --negative`: the
//! DMVPN Phase 1 tutorial's IOS configurations (`testdata/router/tutorial`), pasted from IOS, run
//! unchanged through `--map FastEthernet0/0=eth0 --map Loopback0=lo` behind an ISP namespace,
//! with the same proofs (IKE, ESP, NHRP, EIGRP, a loopback-to-loopback ping through the hub, all
//! of it ESP on the wire); then a broken variant whose cloud check says `nhrp-auth-mismatch` is
//! refused by the hub as IOS refuses it. About 30 s.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::net::Ipv4Addr;
use std::path::{Path, PathBuf};
use std::process::Command;

mod lab_capture;

/// The labs run one at a time: on two cores, the tutorial's routers beside the main lab's 96 MB
/// transfer would slow it past its time bounds.
static ONE_LAB: std::sync::Mutex<()> = std::sync::Mutex::new(());

fn ip(address: &str) -> Ipv4Addr {
    address.parse().unwrap()
}

fn workspace() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn has(tool: &str) -> bool {
    Command::new("sh")
        .args(["-c", &format!("command -v {tool}")])
        .output()
        .is_ok_and(|o| o.status.success())
}

/// Why the lab cannot run here, if it cannot.
fn missing() -> Option<String> {
    if !dmvpn_testkit::is_root() {
        return Some("not root (network namespaces, TUN and raw sockets need it)".to_owned());
    }
    ["ip", "tcpdump", "tshark", "python3"]
        .into_iter()
        .find(|tool| !has(tool))
        .map(|tool| format!("{tool} is not installed (tools/setup.sh installs it)"))
}

/// Runs the lab script `script` (under `tools/lab/`) with `args` and `--out DIR`, one lab at a
/// time, and returns DIR and its `summary.txt` once the script passed; `None` (the test skipped)
/// when a tool is missing and `DMVPN_REQUIRE_NETNS` is not set.
fn run_lab(name: &str, script: &str, args: &[&str]) -> Option<(PathBuf, String)> {
    if let Some(why) = missing() {
        assert!(
            std::env::var_os("DMVPN_REQUIRE_NETNS").is_none(),
            "{name}: {why}, and DMVPN_REQUIRE_NETNS is set"
        );
        println!("{name}: SKIPPED: {why}");
        return None;
    }
    let _one = ONE_LAB
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    let router = PathBuf::from(env!("CARGO_BIN_EXE_dmvpn-router"));
    // `cargo test --workspace` builds the decoder beside the router.
    let decoder = router.with_file_name("dmvpn");
    let dir = format!("dmvpn-{}-{}", name.replace(' ', "-"), std::process::id());
    let out = std::env::temp_dir().join(dir);
    let status = Command::new("bash")
        .arg(workspace().join("tools/lab").join(script))
        .args(args)
        .arg("--out")
        .arg(&out)
        .env("DMVPN_ROUTER", &router)
        .env("DMVPN", &decoder)
        .status()
        .expect("bash runs");
    let summary = std::fs::read_to_string(out.join("summary.txt")).unwrap_or_default();
    println!("{summary}");
    assert!(status.success(), "tools/lab/{script} failed:\n{summary}");
    Some((out, summary))
}

/// With the decoder built: the lab's capture in `out` shows the ping between `hosts` crossing the
/// hub inside ESP on both legs (`nbma`: the first spoke, the hub, the second spoke; `names` of
/// the spokes for the log).
fn ping_through_hub(out: &Path, nbma: [&str; 3], hosts: [&str; 2], names: (&str, &str)) {
    let Some(decoder) = lab_capture::decoder() else {
        return;
    };
    let (first, second) = lab_capture::ping_through_hub(
        &decoder,
        out,
        (ip(nbma[0]), ip(nbma[1]), ip(nbma[2])),
        (ip(hosts[0]), ip(hosts[1])),
    );
    let (from, to) = names;
    println!("dmvpn decode: {first} echo requests {from}->hub, {second} hub->{to} inside ESP");
}

#[test]
fn hub_and_two_spokes_in_namespaces() {
    // A volume lifetime of 20 MB: the lab's 96 MB of TCP rekey each pair several times.
    let Some((out, summary)) = run_lab("router lab", "router_lab.sh", &["--sa-kilobytes", "20000"])
    else {
        return;
    };
    assert!(summary.contains("PASS: DMVPN Phase 1 hub + 2 spokes"));
    assert!(
        summary.contains("rekeys for the volume lifetime"),
        "the rekey step ran"
    );
    // The capture: the ping spoke1 LAN -> spoke2 LAN crossed the hub inside ESP, both legs.
    ping_through_hub(
        &out,
        ["192.0.2.11", "192.0.2.1", "192.0.2.12"],
        ["10.99.11.10", "10.99.12.10"],
        ("spoke1", "spoke2"),
    );
    let _ = std::fs::remove_dir_all(&out);
}

/// The same lab over IKEv2 (`tools/lab/router_lab.sh --ikev2`: `testdata/router/ikev2/`, `crypto
/// ikev2 proposal/policy/keyring/profile` and `set ikev2-profile`): IKE_SA_INIT + IKE_AUTH hub ↔
/// each spoke, `show crypto ikev2 sa` READY with the proposal each spoke's configuration makes
/// the hub choose, NHRP, EIGRP, the ping through the hub inside ESP; every encrypted IKEv2
/// message opened with the routers' `ikev2_decryption_table` by tshark and by `dmvpn decode`
/// (ICVs good); the hub restart; then 12 MB of TCP through CREATE_CHILD_SA rekeys for a volume
/// lifetime of 2560 KB (IOS's minimum). About 50 s.
#[test]
fn hub_and_two_spokes_over_ikev2() {
    let args = ["--ikev2", "--sa-kilobytes", "2560", "--bulk-mb", "12"];
    let Some((out, summary)) = run_lab("router lab ikev2", "router_lab.sh", &args) else {
        return;
    };
    assert!(summary.contains("PASS: DMVPN Phase 1 hub + 2 spokes over IKEv2"));
    assert!(summary.contains("0 bad ICVs"), "{summary}");
    assert!(summary.contains("rekeys for the volume lifetime (2560 KB); 0 SAs ran out"));
    let shows = std::fs::read_to_string(out.join("show-boot.txt")).unwrap();
    // spoke1 offers aes-cbc-256/sha256/group 14 only; spoke2 (no proposal of its own: IOS's
    // default proposal) offers group 5 first, which the hub's list accepts.
    for (router, group) in [("spoke1", 14), ("spoke2", 5)] {
        let header = format!("{router}# show crypto ikev2 sa\n");
        let at = shows
            .find(&header)
            .unwrap_or_else(|| panic!("no show crypto ikev2 sa of {router}: {shows}"));
        let rest = &shows[at + header.len()..];
        let end = rest
            .find("# show ")
            .and_then(|e| rest[..e].rfind('\n'))
            .unwrap_or(rest.len());
        let section = &rest[..end];
        assert!(
            section.contains("/500        192.0.2.1/500         none/none            READY"),
            "{section}"
        );
        let algorithms = format!(
            "Encr: AES-CBC, keysize: 256, PRF: SHA256, Hash: SHA256, DH Grp:{group}, Auth sign: PSK, Auth verify: PSK"
        );
        assert!(section.contains(&algorithms), "{section}");
        assert!(section.contains("Life/Active Time: "), "{section}");
    }
    ping_through_hub(
        &out,
        ["192.0.2.11", "192.0.2.1", "192.0.2.12"],
        ["10.99.11.10", "10.99.12.10"],
        ("spoke1", "spoke2"),
    );
    if let Some(decoder) = lab_capture::decoder() {
        let capture = out.join("hub-nbma.pcap");
        let keys = lab_capture::key_files(&out);
        let auth = lab_capture::count(&decoder, &capture, &keys, "isakmp.exchangetype == 35");
        assert!(
            auth >= 8,
            "IKE_AUTH of 2 spokes, twice (boot and restart): {auth}"
        );
    }
    let _ = std::fs::remove_dir_all(&out);
}

#[test]
fn tutorial_configurations_run_unchanged() {
    let Some((out, summary)) = run_lab("tutorial lab", "router_tutorial_lab.sh", &["--negative"])
    else {
        return;
    };
    assert!(summary.contains("PASS: the DMVPN Phase 1 tutorial's IOS configurations, unchanged"));
    assert!(summary.contains("R2's loopback 2.2.2.2 pings R3's loopback 3.3.3.3"));
    assert!(summary.contains("the hub refuses R3's registration"));
    // The capture: the ping 2.2.2.2 -> 3.3.3.3 crossed hub R1 inside ESP, both legs.
    ping_through_hub(
        &out,
        ["100.1.2.2", "100.1.1.1", "100.1.3.3"],
        ["2.2.2.2", "3.3.3.3"],
        ("R2", "R3"),
    );
    let _ = std::fs::remove_dir_all(&out);
}
