//! 1000 spokes register with one hub, each a full node (NHRP with authentication, EIGRP,
//! ESP with static keys), and the cloud runs for a minute of virtual time. Prints the wall time
//! and the memory the cloud took (the process's resident set growth, Linux only); asserts only
//! the outcome.
//!
//! The numbers in the notes: `cargo test -p dmvpn-proto --release --test cloud_scale --
//! --nocapture` (and without `--release` for a debug build).

#[path = "util/cloud.rs"]
mod cloud_util;

use cloud_util::{cloud, converged, ping};
use dmvpn_proto::Instant;

/// 1000 spokes (about 20 s in a test build, 10 s with `--release`); `DMVPN_SPOKES=n` overrides it.
fn spokes() -> u16 {
    let default = 1000;
    std::env::var("DMVPN_SPOKES")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(default)
}

fn resident_kib() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmRSS:"))?;
    line.split_whitespace().nth(1)?.parse().ok()
}

/// IOS: a hub takes 1000 registrations (`show ip nhrp` lists 1000 dynamic entries, `show ip
/// eigrp neighbors` 1000 neighbours) within seconds of the spokes booting together.
#[test]
fn a_thousand_spokes_register() {
    let spokes = spokes();
    let before = resident_kib();
    let started = std::time::Instant::now();
    let mut cloud = cloud(spokes, 6);
    cloud.logging = false;
    cloud.run_until(Instant::from_secs(60));
    let wall = started.elapsed();
    let after = resident_kib();
    assert!(converged(&cloud, spokes));
    let hub = &cloud.members[0].node;
    assert_eq!(
        hub.nhrp_server().map(|s| s.len()),
        Some(usize::from(spokes))
    );
    assert_eq!(ping(&mut cloud, 1, spokes, 1), Some(63));
    let registered = cloud.members[0]
        .events
        .iter()
        .filter_map(|(at, e)| match e {
            dmvpn_proto::node::Event::NhrpServer(dmvpn_proto::nhrp::ServerEvent::Registered {
                ..
            }) => Some(*at),
            _ => None,
        })
        .max();
    let memory = match (before, after) {
        (Some(b), Some(a)) => format!("{} KiB resident growth", a.saturating_sub(b)),
        _ => "unknown (no /proc/self/status)".to_owned(),
    };
    println!(
        "{spokes} spokes: all registered by {} (virtual), 60 s simulated in {:.2?} wall, {} \
         packets, {memory}",
        registered.unwrap_or(Instant::ZERO),
        wall,
        cloud.sent,
    );
}
