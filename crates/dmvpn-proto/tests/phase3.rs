//! DMVPN Phase 3 on the simulated NBMA network: the hub's redirect (Traffic Indication), the
//! spokes' resolution through the hub, the target spoke's direct reply, shortcut routes, their
//! refresh, expiry and purge, and the fall back to the hub when the spoke-to-spoke SA cannot be
//! built. Each test states what an IOS cloud with the same configuration shows (hub
//! `ip nhrp redirect`, spokes `tunnel mode gre multipoint` and `ip nhrp shortcut`, holdtime
//! 300 s, tunnel protection).

#[path = "util/cloud.rs"]
mod cloud_util;
#[path = "util/shortcut.rs"]
mod shortcut_util;

use cloud_util::{HUB_NBMA, host, lan, ping, spoke_nbma, spoke_tunnel};
use dmvpn_proto::nhrp::ShortcutEvent;
use dmvpn_proto::nhrp::shortcut::Purpose;
use dmvpn_proto::node::PROTOCOL_ESP;
use dmvpn_proto::node::sim::Cloud;
use dmvpn_proto::{Duration, Instant};
use shortcut_util::{Phase, cloud, entries, run_for, run_until, shortcut_events};

/// A converged Phase 3 cloud of two spokes (SAs with the hub, EIGRP up).
fn up() -> Cloud {
    let mut cloud = cloud(Phase::Three, 2, 7);
    run_until(&mut cloud, Instant::from_secs(30), true);
    cloud
}

fn count(cloud: &Cloud, index: usize, f: impl Fn(&ShortcutEvent) -> bool) -> usize {
    shortcut_events(cloud, index)
        .iter()
        .filter(|e| f(e))
        .count()
}

/// IOS: R2 pings a host behind R3; the first packets go R2→R1→R3 (TTL one less), R1 sends R2
/// an NHRP Traffic Indication, R2 resolves 10.0.2.20 through R1, R1 forwards the request to R3,
/// R3 answers R2 directly (after IKE between them) with its LAN 10.0.2.0/24, and the next
/// packets go R2→R3 directly, ESP between the two spokes' NBMA addresses. `show ip nhrp` on R2
/// lists 10.0.2.0/24 via 172.16.1.3 (`router rib nho`); `show ip route` keeps the EIGRP route
/// 10.0.2.0/24 with the `%` next-hop override to 172.16.1.3.
#[test]
fn first_packets_through_the_hub_then_direct() {
    let mut cloud = up();
    assert_eq!(ping(&mut cloud, 1, 2, 1), Some(63), "through the hub");
    let hub_events = shortcut_events(&cloud, 0);
    assert!(hub_events.contains(&ShortcutEvent::RedirectSent {
        to: spoke_nbma(1),
        src: host(1, 10),
        dst: host(2, 20),
    }));
    assert!(hub_events.contains(&ShortcutEvent::ResolutionForwarded {
        target: host(2, 20),
        to: spoke_nbma(2),
    }));
    assert!(
        shortcut_events(&cloud, 2).contains(&ShortcutEvent::ResolutionAnswered {
            requester: spoke_tunnel(1),
            nbma: spoke_nbma(1),
            prefix: lan(2),
        })
    );
    // IKE between the two spokes, then the held reply goes and R2 installs the shortcut.
    run_for(&mut cloud, Duration::from_secs(1), true);
    assert_eq!(
        entries(&cloud, 1),
        [(lan(2).to_string(), spoke_tunnel(2), spoke_nbma(2))]
    );
    let routes = cloud.members[1].node.shortcut_routes();
    assert_eq!(routes.len(), 1);
    assert!(
        routes[0].overrides && routes[0].usable,
        "`%`: EIGRP has 10.0.2.0/24 too"
    );
    let since = cloud.log.len();
    assert_eq!(ping(&mut cloud, 1, 2, 2), Some(64), "directly");
    let direct = cloud.log[since..]
        .iter()
        .any(|w| w.from == spoke_nbma(1) && w.to == spoke_nbma(2) && w.protocol == PROTOCOL_ESP);
    assert!(direct, "ESP straight from R2 to R3");
    assert!(
        cloud.log[since..]
            .iter()
            .all(|w| !(w.from == spoke_nbma(1) && w.to == HUB_NBMA && w.len > 100)),
        "no data to the hub any more"
    );
}

/// IOS: the return traffic R3→R2 hair-pins once too and R3 resolves R2's LAN the same way:
/// both spokes end up with a shortcut to the other's LAN.
#[test]
fn both_directions_get_their_shortcut() {
    let mut cloud = up();
    ping(&mut cloud, 1, 2, 1);
    run_for(&mut cloud, Duration::from_secs(1), true);
    assert_eq!(ping(&mut cloud, 2, 1, 2), Some(63));
    run_for(&mut cloud, Duration::from_secs(1), true);
    assert_eq!(ping(&mut cloud, 2, 1, 3), Some(64));
    assert_eq!(
        entries(&cloud, 2),
        [(lan(1).to_string(), spoke_tunnel(1), spoke_nbma(1))]
    );
}

/// A lost Resolution Request costs a second, not the wait for another redirect: the spoke
/// sends the same request (same ID) again 1 s after the first, so the one packet that drew
/// the hub's Traffic Indication is enough to build the shortcut.
#[test]
fn a_lost_resolution_request_is_sent_again() {
    let mut cloud = up();
    let packet = dmvpn_proto::node::sim::ipv4_packet(host(1, 10), host(2, 20), 17, &[1]);
    cloud.inject(1, &packet);
    // The hub forwards the packet at 10 ms and sends R2 the Traffic Indication; R2's request,
    // sent when that arrives at 20 ms, is lost.
    run_for(&mut cloud, Duration::from_millis(15), true);
    cloud.partition(spoke_nbma(1), HUB_NBMA);
    run_for(&mut cloud, Duration::from_millis(300), true);
    cloud.heal(spoke_nbma(1), HUB_NBMA);
    assert!(entries(&cloud, 1).is_empty(), "no reply yet");
    run_for(&mut cloud, Duration::from_secs(2), true);
    assert_eq!(
        entries(&cloud, 1),
        [(lan(2).to_string(), spoke_tunnel(2), spoke_nbma(2))]
    );
    let sent = count(&cloud, 1, |e| {
        matches!(e, ShortcutEvent::ResolutionSent { .. })
    });
    let redirects = count(&cloud, 0, |e| {
        matches!(e, ShortcutEvent::RedirectSent { .. })
    });
    assert_eq!(
        (sent, redirects),
        (1, 1),
        "one request (sent twice), one redirect"
    );
}

/// IOS: `ip nhrp redirect` sends at most one Traffic Indication per (source, destination)
/// every redirect timeout (2 s by default), however many packets hair-pin meanwhile.
#[test]
fn redirects_are_rate_limited_per_pair() {
    let mut cloud = up();
    for tag in 0..5 {
        // No spoke-to-spoke SA: the traffic keeps hair-pinning.
        let packet = dmvpn_proto::node::sim::ipv4_packet(host(1, 10), host(2, 20), 17, &[tag]);
        cloud.inject(1, &packet);
        run_for(&mut cloud, Duration::from_millis(300), false);
    }
    let sent = |cloud: &Cloud| {
        count(cloud, 0, |e| {
            matches!(e, ShortcutEvent::RedirectSent { .. })
        })
    };
    assert_eq!(sent(&cloud), 1, "1.5 s of packets, one redirect");
    run_for(&mut cloud, Duration::from_secs(1), false);
    let packet = dmvpn_proto::node::sim::ipv4_packet(host(1, 10), host(2, 20), 17, &[9]);
    cloud.inject(1, &packet);
    run_for(&mut cloud, Duration::from_millis(100), false);
    assert_eq!(sent(&cloud), 2, "the next after the timeout");
}

/// IOS: when the spoke-to-spoke IPsec cannot come up (PSK mismatch, NAT), the resolution
/// reply never reaches R2 and every packet keeps going through the hub; R3 logs that it wants
/// the peer (the crypto socket stays down).
#[test]
fn without_the_spoke_to_spoke_sa_traffic_stays_on_the_hub() {
    let mut cloud = up();
    for tag in 1..=4 {
        assert_eq!(ping(&mut cloud, 1, 2, tag), Some(63));
        run_for(&mut cloud, Duration::from_secs(3), false);
    }
    assert!(entries(&cloud, 1).is_empty());
    assert!(
        shortcut_events(&cloud, 2).contains(&ShortcutEvent::PeerWanted {
            nbma: spoke_nbma(1)
        })
    );
    assert!(
        count(&cloud, 1, |e| matches!(
            e,
            ShortcutEvent::ResolutionFailed { .. }
        )) >= 1
    );
}

/// IOS: a shortcut nobody uses expires with its holding time (300 s here), and traffic goes
/// back through the hub (which redirects again); one in use is refreshed before it expires
/// and stays.
#[test]
fn idle_shortcuts_expire_used_ones_are_refreshed() {
    let mut cloud = up();
    ping(&mut cloud, 1, 2, 1);
    run_for(&mut cloud, Duration::from_secs(1), true);
    // In use: a packet every 30 s for 400 s; refreshed, never gone.
    for tag in 2..15 {
        assert_eq!(ping(&mut cloud, 1, 2, tag), Some(64), "packet {tag}");
        run_for(&mut cloud, Duration::from_secs(29), true);
    }
    let refreshes = count(&cloud, 1, |e| {
        matches!(
            e,
            ShortcutEvent::ResolutionSent {
                purpose: Purpose::Refresh,
                ..
            }
        )
    });
    assert!(refreshes >= 1, "refreshed while used");
    assert!(count(&cloud, 1, |e| matches!(e, ShortcutEvent::Removed(_))) == 0);
    // Idle for longer than the holding time (the last refresh may have come after the last
    // packet, with a full holding time): gone, and the hub again.
    run_for(&mut cloud, Duration::from_secs(601), true);
    assert!(entries(&cloud, 1).is_empty());
    assert!(count(&cloud, 1, |e| matches!(e, ShortcutEvent::Removed(_))) >= 1);
    assert_eq!(ping(&mut cloud, 1, 2, 99), Some(63));
}

/// IOS: `clear ip nhrp shortcut` on R3 sends R2 a Purge Request for 10.0.2.0/24: R2 removes
/// its shortcut at once and its next packets go through the hub (and are redirected again).
#[test]
fn purge_removes_the_peers_shortcut() {
    let mut cloud = up();
    ping(&mut cloud, 1, 2, 1);
    run_for(&mut cloud, Duration::from_secs(1), true);
    assert_eq!(entries(&cloud, 1).len(), 1);
    cloud.command(2, |node, now| node.clear_shortcuts(now));
    run_for(&mut cloud, Duration::from_millis(100), true);
    assert!(
        shortcut_events(&cloud, 2).contains(&ShortcutEvent::PurgeSent {
            nbma: spoke_nbma(1),
            prefix: lan(2),
        })
    );
    assert!(entries(&cloud, 1).is_empty(), "purged");
    assert_eq!(ping(&mut cloud, 1, 2, 2), Some(63));
}

#[path = "util/router.rs"]
mod router_util;

mod with_ike {
    use dmvpn_isakmp::consts::Group;
    use dmvpn_proto::ike::PresharedKey;
    use dmvpn_proto::node::sim::Cloud;
    use dmvpn_proto::router::Event;
    use dmvpn_proto::{Duration, Instant};

    use super::cloud_util::{HUB_NBMA, spoke_nbma};
    use super::router_util::{R, boot, ike_config, ping, run_until_converged};
    use super::shortcut_util::{Phase, hub, spoke};
    use dmvpn_proto::node::PROTOCOL_ESP;

    /// Hub R1 and spokes R2, R3 as whole routers with IKE; `psk` is R3's key for every peer
    /// but the hub.
    fn cloud(psk: &[u8]) -> Cloud<R> {
        let mut cloud = Cloud::of(Instant::ZERO, 11);
        let config = hub(Phase::Three, 2);
        let ike = ike_config(config.tunnel.nbma, Group::MODP_1024);
        let router = boot(&mut cloud, config, ike);
        cloud.add_machine(router);
        for n in 1..=2 {
            let config = spoke(Phase::Three, n);
            let mut ike = ike_config(config.tunnel.nbma, Group::MODP_1024);
            if n == 2 {
                ike.keys = vec![
                    PresharedKey::host(HUB_NBMA, b"cisco123"),
                    PresharedKey::wildcard(psk),
                ];
            }
            let router = boot(&mut cloud, config, ike);
            cloud.add_machine(router);
        }
        assert!(run_until_converged(&mut cloud, 2, Duration::from_secs(60)).is_some());
        cloud
    }

    /// Whether spoke 1 or 2 reported an event `f` picks.
    fn either(cloud: &Cloud<R>, f: impl Fn(&Event) -> bool) -> bool {
        (1..=2).any(|i| cloud.members[i].events.iter().any(|(_, e)| f(e)))
    }

    fn direct_esp(cloud: &Cloud<R>, since: usize) -> bool {
        cloud.log[since..]
            .iter()
            .any(|w| w.from == spoke_nbma(1) && w.to == spoke_nbma(2) && w.protocol == PROTOCOL_ESP)
    }

    /// IOS: R2's first packets to R3's LAN go through the hub; the redirect and resolution make
    /// R3 start ISAKMP with R2 (`show crypto isakmp sa` lists 100.1.1.2–100.1.1.3 QM_IDLE), and
    /// once the pair is up the data goes R2→R3 in ESP.
    #[test]
    fn spokes_key_each_other_on_demand_then_go_direct() {
        let mut cloud = cloud(b"cisco123");
        assert!(ping(&mut cloud, 1, 2, 1), "through the hub");
        cloud.run_for(Duration::from_secs(3));
        assert!(
            either(&cloud, |e| matches!(e, Event::ShortcutPeerUp { .. })),
            "an on-demand pair came up"
        );
        assert!(cloud.members[1].node.pairs().contains_key(&spoke_nbma(2)));
        assert_eq!(cloud.members[1].node.node().shortcut_routes().len(), 1);
        let since = cloud.log.len();
        assert!(ping(&mut cloud, 1, 2, 2));
        assert!(direct_esp(&cloud, since), "ESP straight from R2 to R3");
    }

    /// The lab's race, made certain: the IKE message that completes the spokes' pair reaches
    /// its receiver after the ESP its sender seals at once with the new pair (two sockets read
    /// in the other order). The ESP (the held Resolution Reply) waits for the pair instead of
    /// being dropped, so both spokes get their shortcut in the first exchange, as on IOS, where
    /// no Resolution Request has to time out first.
    #[test]
    fn esp_that_overtakes_the_last_ike_message_is_kept() {
        let mut cloud = cloud(b"cisco123");
        let spokes = [spoke_nbma(1), spoke_nbma(2)];
        cloud.delay = Some(Box::new(move |w| {
            let between = spokes.contains(&w.from) && spokes.contains(&w.to);
            if between && w.protocol == dmvpn_proto::ipsec::UDP {
                Duration::from_millis(5)
            } else {
                Duration::ZERO
            }
        }));
        assert!(ping(&mut cloud, 1, 2, 1), "through the hub");
        assert!(ping(&mut cloud, 2, 1, 2), "back through the hub");
        cloud.run_for(Duration::from_secs(2));
        for index in 1..=2 {
            let node = cloud.members[index].node.node();
            let failed = (cloud.members[index].events.iter()).any(|(_, e)| {
                matches!(
                    e,
                    Event::Node(dmvpn_proto::node::Event::Shortcut(
                        dmvpn_proto::nhrp::ShortcutEvent::ResolutionFailed { .. }
                    ))
                )
            });
            assert!(
                !failed,
                "spoke {index}: a Resolution Request went unanswered"
            );
            assert_eq!(
                node.shortcut_routes().len(),
                1,
                "spoke {index} has its shortcut"
            );
        }
    }

    /// IOS: when the spoke-to-spoke NHRP entries expire unused, the crypto socket goes with
    /// them: the IKE and IPsec SAs between the spokes are deleted (`show crypto isakmp sa` no
    /// longer lists the pair) while both keep theirs with the hub; new traffic goes through
    /// the hub and keys the spokes again.
    #[test]
    fn idle_shortcut_expiry_deletes_the_spoke_to_spoke_sas() {
        let mut cloud = cloud(b"cisco123");
        assert!(ping(&mut cloud, 1, 2, 1), "through the hub");
        cloud.run_for(Duration::from_secs(3));
        assert!(cloud.members[1].node.pairs().contains_key(&spoke_nbma(2)));
        let idle = cloud.now;
        // Holding time 300 s: the last refresh and its holding time, with room to spare.
        cloud.run_for(Duration::from_secs(2 * 300 + 10));
        for (index, other) in [(1, 2), (2, 1)] {
            let router = &cloud.members[index].node;
            assert!(
                router
                    .node()
                    .shortcuts()
                    .all(|s| s.nbma != spoke_nbma(other)),
                "spoke {index}: the entries expired"
            );
            assert!(
                !router.pairs().contains_key(&spoke_nbma(other)),
                "spoke {index}: no SA pair with spoke {other} left"
            );
            assert!(
                router.pairs().contains_key(&HUB_NBMA),
                "spoke {index}: hub kept"
            );
        }
        let down = (1..=2).any(|i| {
            (cloud.members[i].events.iter())
                .any(|(at, e)| *at > idle && matches!(e, Event::ShortcutPeerDown { .. }))
        });
        assert!(down, "a spoke reported the pair's teardown");
        assert!(ping(&mut cloud, 1, 2, 3), "through the hub again");
    }

    /// IOS: with a pre-shared key mismatch between the spokes, ISAKMP between them fails
    /// (MM_KEY_EXCH, then deleted) and every packet keeps going through the hub, which keeps
    /// redirecting.
    #[test]
    fn psk_mismatch_between_spokes_keeps_traffic_on_the_hub() {
        let mut cloud = cloud(b"wrong-key");
        for tag in 0..25 {
            assert!(
                ping(&mut cloud, 1, 2, tag),
                "packet {tag} arrives, through the hub"
            );
        }
        assert!(
            either(&cloud, |e| matches!(e, Event::ShortcutPeerFailed { .. })),
            "the on-demand pair was given up"
        );
        assert!(!cloud.members[1].node.pairs().contains_key(&spoke_nbma(2)));
        let since = cloud.log.len();
        assert!(ping(&mut cloud, 1, 2, 99));
        assert!(!direct_esp(&cloud, since));
    }
}
