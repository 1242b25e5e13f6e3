//! Spokes key one hub over IKE (Main Mode and Quick Mode each, pre-shared key, group 1 as IOS's
//! default policy), register and form EIGRP adjacencies, each a whole router on the simulated
//! cloud. Prints the virtual time to converge and the wall time; asserts the outcome.
//!
//! 200 spokes always (about 1.5 s); the 1000 of the lab plan take about 21 s of wall time, so
//! they run in CI (`CI` set, as `.ci/run` sets it) or with `DMVPN_SCALE=1`, and say why they
//! skip otherwise. `DMVPN_SPOKES=n` overrides the count of either.
#![allow(clippy::unwrap_used, clippy::expect_used)]

#[path = "util/cloud.rs"]
mod cloud_util;
#[path = "util/router.rs"]
mod router_util;

use dmvpn_isakmp::consts::Group;
use dmvpn_proto::{Duration, Instant};
use router_util::{ping, router_cloud, run_until_converged};

fn spokes(default: u16) -> u16 {
    std::env::var("DMVPN_SPOKES")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(default)
}

/// IOS: a hub with 1000 spokes shows 1000 `QM_IDLE` IKE SAs, 1000 IPsec SA pairs, 1000 dynamic
/// NHRP entries and 1000 EIGRP neighbours; spokes reach each other's LANs through it.
#[test]
fn spokes_with_ike() {
    converge(spokes(200));
}

/// The same with 1000 spokes (about 21 s).
#[test]
fn thousand_spokes_with_ike() {
    if std::env::var_os("CI").is_none() && std::env::var_os("DMVPN_SCALE").is_none() {
        eprintln!("skipped: 1000 spokes take about 21 s; set DMVPN_SCALE=1 (CI runs them)");
        return;
    }
    converge(spokes(1000));
}

fn converge(spokes: u16) {
    let wall = std::time::Instant::now();
    let mut cloud = router_cloud(spokes, 11, Group::MODP_768, |_| {});
    cloud.logging = false;
    let at = run_until_converged(&mut cloud, spokes, Duration::from_secs(120));
    let took = wall.elapsed();
    println!(
        "{spokes} spokes with IKE: converged at {at:?} of virtual time in {took:.2?} of wall time, {} packets",
        cloud.sent
    );
    let at = at.expect("converged");
    assert!(at < Instant::ZERO + Duration::from_secs(60), "{at:?}");
    let hub = &cloud.members[0].node;
    assert_eq!(hub.ike_sas().len(), usize::from(spokes));
    assert_eq!(hub.pairs().len(), usize::from(spokes));
    if spokes >= 2 {
        assert!(ping(&mut cloud, 1, spokes, 1));
        assert!(ping(&mut cloud, spokes, 1, 2));
    }
}
