//! Whole routers keying with IKEv2 (`crypto ikev2 proposal/keyring/profile`, `set ikev2-profile`)
//! on the simulated cloud, in virtual time and without root: boot, a hub restart, Child SA
//! rekeys, liveness, and a pre-shared key mismatch. The router makes the decisions it makes over
//! IKEv1 (`tests/router_cloud.rs`); each test states what an IOS cloud shows in the same case.
#![allow(clippy::unwrap_used, clippy::expect_used)]

#[path = "util/cloud.rs"]
mod cloud_util;
#[path = "util/router.rs"]
mod router_util;

use std::net::Ipv4Addr;

use dmvpn_isakmp::consts::Group;
use dmvpn_isakmp::v2::crypto::{Encryption, Integrity};
use dmvpn_proto::ike::{EspAuth, EspCipher, TestEntropy, TransformSet};
use dmvpn_proto::ikev2::{self, Failure, IkeProposal, Retransmit};
use dmvpn_proto::node::sim::{Cloud, XorShift};
use dmvpn_proto::node::{Node, NodeConfig};
use dmvpn_proto::router::{Event, RECONNECT, Router};
use dmvpn_proto::{Duration, Instant};
use router_util::{R, events_since, run_until_converged};

/// `crypto ikev2 proposal p / encryption aes-cbc-128 / integrity sha1 / group 14`, `crypto ikev2
/// keyring k / peer any / address 0.0.0.0 0.0.0.0 / pre-shared-key <psk>`, `crypto ipsec
/// transform-set ts esp-aes esp-sha-hmac / mode transport`.
fn ikev2_config(local: Ipv4Addr, psk: &[u8]) -> ikev2::Config {
    let proposal = IkeProposal::new(
        Encryption::AesCbc(128),
        Integrity::HmacSha1_96,
        Group::MODP_2048,
    );
    let set = TransformSet::new(EspCipher::Aes128, EspAuth::Sha1);
    ikev2::Config::dmvpn(local, proposal, psk, set)
}

/// A router of `config` keying with IKEv2 (pre-shared key `psk`, `tune`d), booted now.
fn boot(
    cloud: &mut Cloud<R>,
    config: NodeConfig,
    psk: &[u8],
    tune: &impl Fn(&mut ikev2::Config),
) -> R {
    let seed = cloud.next_seed();
    let node = Node::new(config, cloud.now, Box::new(XorShift::new(seed)));
    let mut ike = ikev2_config(node.config().tunnel.nbma, psk);
    tune(&mut ike);
    let endpoint = ikev2::Endpoint::new(ike, TestEntropy::new(seed.rotate_left(17)));
    Router::with_ikev2(node, endpoint, cloud.now)
}

/// The hub (index 0) and spokes 1..=`psks.len()`, spoke n keying with `psks[n - 1]` (the hub
/// with `cisco123`), all booted at 0.
fn cloud(seed: u64, psks: &[&[u8]], tune: impl Fn(&mut ikev2::Config)) -> Cloud<R> {
    let spokes = u16::try_from(psks.len()).unwrap();
    let mut cloud = Cloud::of(Instant::ZERO, seed);
    let hub = boot(
        &mut cloud,
        cloud_util::hub_config(spokes),
        b"cisco123",
        &tune,
    );
    cloud.add_machine(hub);
    for (n, psk) in (1..=spokes).zip(psks) {
        let spoke = boot(&mut cloud, cloud_util::spoke_config(n), psk, &tune);
        cloud.add_machine(spoke);
    }
    cloud
}

/// Whether router `index` reported `what` since `since`.
fn saw(cloud: &Cloud<R>, index: usize, since: Instant, what: impl Fn(&Event) -> bool) -> usize {
    events_since(cloud, index, since)
        .iter()
        .filter(|e| what(e))
        .count()
}

/// IOS (`show crypto ikev2 sa`, `show dmvpn`): each spoke runs IKE_SA_INIT and IKE_AUTH with the
/// hub, whose first Child SA (transport mode) protects GRE; the spokes register, form EIGRP
/// adjacencies with the hub and reach each other's LANs through it within seconds of boot. Each
/// side's inbound SPI is the other's outbound one.
#[test]
fn boot_keys_registers_and_routes() {
    let mut cloud = cloud(1, &[b"cisco123", b"cisco123"], |_| {});
    let at = run_until_converged(&mut cloud, 2, Duration::from_secs(30)).expect("converged");
    assert!(at < Instant::ZERO + Duration::from_secs(10), "{at:?}");
    for n in 1..=2u16 {
        let established = |e: &Event| {
            matches!(e, Event::Ikev2(ikev2::Event::Established { peer, role, .. })
                if *peer == cloud_util::HUB_NBMA && *role == ikev2::Role::Initiator)
        };
        assert_eq!(saw(&cloud, usize::from(n), Instant::ZERO, established), 1);
        let spoke = &cloud.members[usize::from(n)].node;
        assert!(spoke.ike().is_none());
        assert!(spoke.ikev2().unwrap().is_established(cloud_util::HUB_NBMA));
    }
    router_util::keyed_and_routing(&mut cloud);
}

/// IOS: a hub that reloads has forgotten every IKEv2 SA and says nothing. Each spoke loses its
/// EIGRP neighbour at the hold time (15 s), sees that the hub sealed nothing to it lately,
/// deletes its IKE SA, runs IKE_SA_INIT again and registers again at once: routes and
/// spoke-to-spoke traffic are back within seconds of the hold time.
#[test]
fn hub_restart_spokes_key_again_and_register_again() {
    let mut cloud = cloud(2, &[b"cisco123", b"cisco123"], |_| {});
    run_until_converged(&mut cloud, 2, Duration::from_secs(30)).expect("converged");
    let restart = router_util::hub_restart_recovers(&mut cloud);
    // One new IKE SA per spoke, by IKE_SA_INIT and IKE_AUTH.
    for n in 1..=2 {
        let fresh = |e: &Event| matches!(e, Event::Ikev2(ikev2::Event::Established { .. }));
        assert_eq!(saw(&cloud, n, restart, fresh), 1);
    }
}

/// `crypto ipsec security-association lifetime seconds 60`: IKEv2 rekeys the Child SA with
/// CREATE_CHILD_SA before it runs out (IOS: `%IKEV2-5-SA_REKEY`), the new pair takes over, the
/// old one is deleted by an INFORMATIONAL exchange and its inbound SA decrypts for the overlap:
/// a steady stream through the hub loses nothing over several rekeys, no SPI comes twice and no
/// pair runs out.
#[test]
fn child_sa_rekeys_lose_nothing() {
    // The spokes' lifetime only: they rekey, the hub answers (the same lifetime on both sides
    // makes simultaneous rekeys, RFC 7296 §2.8.1, a case this test does not cover).
    let short = |c: &mut ikev2::Config| {
        if c.local != cloud_util::HUB_NBMA {
            c.child_lifetime.soft_time = Some(Duration::from_secs(54));
            c.child_lifetime.hard_time = Some(Duration::from_secs(60));
        }
    };
    let mut cloud = cloud(3, &[b"cisco123", b"cisco123"], short);
    run_until_converged(&mut cloud, 2, Duration::from_secs(30)).expect("converged");
    let spis = router_util::time_rekeys_lose_nothing(&mut cloud);
    let deleted = |e: &Event| matches!(e, Event::Ikev2(ikev2::Event::ChildDeleted { .. }));
    assert!(saw(&cloud, 1, Instant::ZERO, deleted) >= 2);
    // One IKE SA all along: the rekeys were CREATE_CHILD_SA, not new IKE_SA_INITs.
    let established = |e: &Event| matches!(e, Event::Ikev2(ikev2::Event::Established { .. }));
    assert_eq!(saw(&cloud, 1, Instant::ZERO, established), 1);
    assert_eq!(
        cloud.members[1]
            .node
            .node()
            .peer_sas(cloud_util::HUB_NBMA)
            .map(|p| p.0),
        spis.last().copied()
    );
}

/// The same `set security-association lifetime seconds 60` on the hub and the spokes: both
/// ends start CREATE_CHILD_SA for the same Child SA at once (RFC 7296 §2.8.1). The exchange
/// with the lowest nonce loses and its pair is deleted; the router keeps sending on the
/// surviving pair, so the stream through the hub loses nothing.
#[test]
fn simultaneous_child_rekeys_lose_nothing() {
    let short = |c: &mut ikev2::Config| {
        c.child_lifetime.soft_time = Some(Duration::from_secs(54));
        c.child_lifetime.hard_time = Some(Duration::from_secs(60));
    };
    let mut cloud = cloud(3, &[b"cisco123", b"cisco123"], short);
    run_until_converged(&mut cloud, 2, Duration::from_secs(30)).expect("converged");
    router_util::time_rekeys_lose_nothing(&mut cloud);
    let restored = |e: &Event| matches!(e, Event::SaRestored(_));
    let collisions: usize = (0..3)
        .map(|i| saw(&cloud, i, Instant::ZERO, restored))
        .sum();
    assert!(
        collisions >= 1,
        "the rekeys collided and a survivor was restored"
    );
}

/// `crypto ikev2 dpd 5 1 periodic`: a hub that goes silent gets liveness checks (empty
/// INFORMATIONAL requests) after 5 s without a message, retried 1 s apart; with no answer IOS
/// declares the peer dead (`%IKEV2-5-PEER_DEAD`) and deletes its SAs, before the EIGRP hold time
/// would have. The spoke then keys the hub again every RECONNECT (15 s), not in a tight loop,
/// and keys and registers again when the hub is back.
#[test]
fn liveness_declares_a_dead_hub() {
    let dpd = |c: &mut ikev2::Config| {
        c.dpd = Some(Duration::from_secs(5));
        c.retransmit = Retransmit {
            timeout: Duration::from_secs(1),
            base_per_mille: 1000,
            tries: 2,
        };
    };
    let mut cloud = cloud(4, &[b"cisco123"], dpd);
    run_until_converged(&mut cloud, 1, Duration::from_secs(30)).expect("converged");
    let hub = cloud_util::HUB_NBMA;
    let down = cloud.now;
    // The hub goes silent (its SAs are kept, so nothing but liveness can tell).
    cloud.partition(hub, cloud_util::spoke_nbma(1));
    cloud.run_for(Duration::from_secs(60));
    let events = events_since(&cloud, 1, down);
    let dead = events
        .iter()
        .position(|e| *e == Event::Ikev2(ikev2::Event::PeerDead { peer: hub }))
        .expect("liveness declared the hub dead");
    let nhs_down = events
        .iter()
        .position(|e| *e == Event::NhsDown { peer: hub });
    assert!(nhs_down.is_some_and(|d| d > dead), "{events:?}");
    let eigrp_down = events.iter().position(|e| {
        matches!(
            e,
            Event::Node(dmvpn_proto::node::Event::Eigrp(
                dmvpn_proto::eigrp::EigrpEvent::Neighbor(
                    dmvpn_proto::eigrp::Event::NeighborDown { .. }
                )
            ))
        )
    });
    assert!(eigrp_down.is_none_or(|e| e > dead), "{events:?}");
    assert!(cloud.members[1].node.pairs().is_empty());
    let attempts: Vec<Instant> = (cloud.members[1].events.iter())
        .filter(|(at, e)| *at >= down && matches!(e, Event::IkeStarted { .. }))
        .map(|(at, _)| *at)
        .collect();
    assert!((3..=6).contains(&attempts.len()), "{attempts:?}");
    // After the first (at once) and the EIGRP hold time's (at once too), one per RECONNECT.
    assert!(
        attempts[1..].windows(2).all(|p| p[1] - p[0] >= RECONNECT),
        "{attempts:?}"
    );
    cloud.heal(hub, cloud_util::spoke_nbma(1));
    run_until_converged(&mut cloud, 1, Duration::from_secs(60)).expect("keyed again");
}

/// IOS with a different `pre-shared-key` on one spoke: the hub's AUTH check fails
/// (`%IKEV2-5-AUTH_FAILED`), it answers AUTHENTICATION_FAILED and no SA is made; the spoke
/// tries again every RECONNECT (15 s), never registers, while the other spoke is unaffected.
#[test]
fn psk_mismatch_makes_no_sa_and_retries() {
    let mut cloud = cloud(5, &[b"cisco123", b"wrong-key"], |_| {});
    cloud.run_for(Duration::from_secs(61));
    let spoke2 = cloud_util::spoke_nbma(2);
    let hub = &cloud.members[0].node;
    assert!(hub.pairs().contains_key(&cloud_util::spoke_nbma(1)));
    assert!(!hub.pairs().contains_key(&spoke2));
    assert_eq!(hub.node().nhrp_server().map(|s| s.len()), Some(1));
    let bad = &cloud.members[2].node;
    assert!(bad.pairs().is_empty());
    assert!(!bad.node().nhrp_client().is_some_and(|c| c.is_registered()));
    let failed = |e: &Event| {
        matches!(
            e,
            Event::Ikev2(ikev2::Event::Failed {
                reason: Failure::AuthenticationFailed,
                ..
            })
        )
    };
    let failures = saw(&cloud, 2, Instant::ZERO, failed);
    assert!((3..=5).contains(&failures), "{failures}");
    assert!(saw(&cloud, 0, Instant::ZERO, failed) >= 3);
    let attempts: Vec<Instant> = (cloud.members[2].events.iter())
        .filter(|(_, e)| matches!(e, Event::IkeStarted { .. }))
        .map(|(at, _)| *at)
        .collect();
    assert!((4..=5).contains(&attempts.len()), "{attempts:?}");
    assert!(
        attempts.windows(2).all(|p| p[1] - p[0] >= RECONNECT),
        "{attempts:?}"
    );
    let good = &cloud.members[1].node;
    assert_eq!(good.pairs().len(), 1);
    assert!(good.node().nhrp_client().is_some_and(|c| c.is_registered()));
}
