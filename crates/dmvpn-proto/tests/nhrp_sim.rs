//! Whole-cloud NHRP simulations: loss, duplication and reordering, a hub reload, spoke reboots,
//! and 1000 spokes. Each test states the outcome an IOS cloud shows.

mod util;

use std::net::Ipv4Addr;

use dmvpn_nhrp::{CieCode, OpType};
use dmvpn_proto::Duration;
use dmvpn_proto::nhrp::{ClientConfig, ClientEvent, Nhs, ServerEvent};
use util::{HUB_NBMA, HUB_TUNNEL, Net, ms, spoke_nbma, spoke_tunnel, spoke300, times};

/// IOS: with 20 % loss, duplicated and reordered packets, registrations still come up (within
/// the first few retries) and are never lost, because a refresh has two thirds of the holding
/// time to get through. Duplicated replies are dropped by the spokes as answering nothing.
#[test]
fn lossy_duplicating_reordering_network() {
    let mut net = Net::hub();
    net.loss_percent = 20;
    net.duplicate_percent = 10;
    net.jitter = Duration::from_millis(50);
    for n in 1..=3 {
        net.add_spoke(spoke300(n), None);
    }
    net.run_until(ms(3_600_000));
    assert_eq!(net.hub.len(), 3);
    assert!(
        !net.hub_events
            .iter()
            .any(|(_, e)| matches!(e, ServerEvent::Expired { .. })),
        "no mapping expired"
    );
    for spoke in &net.spokes {
        assert!(spoke.client.is_registered());
        assert!(matches!(spoke.events[0].1, ClientEvent::Registered { .. }));
        assert!(
            spoke.events[0].0 < ms(16_000),
            "registered within the first retries"
        );
        assert!(
            !spoke
                .events
                .iter()
                .any(|(_, e)| matches!(e, ClientEvent::Expired { .. }))
        );
    }
    assert!(net.log.iter().any(|s| s.dropped));
}

/// IOS: a reloaded hub starts with an empty cache; the spokes do not notice until their next
/// registration (`ip nhrp registration timeout`, here 100 s), after which the cache and the
/// multicast map are whole again.
#[test]
fn hub_reload_is_repaired_by_the_next_refresh() {
    let mut net = Net::hub();
    for n in 1..=3 {
        net.add_spoke(spoke300(n), None);
    }
    net.run_until(ms(50_000));
    assert_eq!(net.hub.len(), 3);
    net.restart_hub();
    net.run_until(ms(99_999));
    assert!(net.hub.is_empty());
    assert_eq!(net.hub.multicast_nbma().count(), 0);
    net.run_until(ms(100_020));
    assert_eq!(net.hub.len(), 3);
    assert_eq!(
        net.hub.multicast_nbma().collect::<Vec<_>>(),
        [spoke_nbma(1), spoke_nbma(2), spoke_nbma(3)]
    );
    // For the spokes it was an ordinary refresh.
    for spoke in &net.spokes {
        assert_eq!(
            spoke.events.last(),
            Some(&(ms(100_020), ClientEvent::Refreshed { nhs: HUB_TUNNEL }))
        );
    }
}

/// IOS: a spoke that reboots at the same NBMA address simply registers again (the unique
/// mapping is its own).
#[test]
fn spoke_reboot_at_the_same_address() {
    let mut net = Net::hub();
    net.add_spoke(spoke300(1), None);
    net.run_until(ms(50_000));
    net.reboot_spoke(0, None);
    net.run_until(ms(50_100));
    assert!(net.hub_events.contains(&(
        ms(50_010),
        ServerEvent::Refreshed {
            tunnel: spoke_tunnel(1),
            nbma: spoke_nbma(1)
        }
    )));
    assert!(net.spokes[0].client.is_registered());
}

/// IOS: a spoke that comes back behind a new NAT address is refused with code 14 ("unique
/// address registered already") until its old unique mapping expires, then registers. This is
/// why `ip nhrp registration no-unique` is advised for spokes with dynamic addresses.
#[test]
fn spoke_reboot_behind_a_new_address_waits_for_the_unique_mapping_to_expire() {
    let mut net = Net::hub();
    net.add_spoke(spoke300(1), None);
    net.run_until(ms(50_000));
    let new_public = Ipv4Addr::new(203, 0, 113, 77);
    net.reboot_spoke(0, Some(new_public));
    net.run_until(ms(400_000));
    let events = &net.spokes[0].events;
    assert_eq!(
        events[1],
        (
            ms(50_020),
            ClientEvent::RegistrationFailed {
                nhs: HUB_TUNNEL,
                code: CieCode::ALREADY_REGISTERED
            }
        )
    );
    // The old mapping (registered at 10 ms for 300 s) expires at 300 010 ms; the next retry
    // on the 64 s backoff (50 s + 1+2+4+8+16+32+64+64+64 = 305 s) gets through.
    assert!(net.hub_events.contains(&(
        ms(300_010),
        ServerEvent::Expired {
            tunnel: spoke_tunnel(1),
            nbma: spoke_nbma(1)
        }
    )));
    let requests = times(&net.sent(new_public, OpType::REGISTRATION_REQUEST));
    assert_eq!(
        requests,
        [
            50_000, 51_000, 53_000, 57_000, 65_000, 81_000, 113_000, 177_000, 241_000, 305_000
        ]
    );
    assert!(matches!(
        events.last(),
        Some((t, ClientEvent::Registered { nat_address: Some(a), .. })) if *t == ms(305_020) && *a == new_public
    ));
    assert_eq!(net.hub.get(spoke_tunnel(1)).unwrap().nbma, new_public);
}

/// 1000 spokes boot at once into a network with 20 % loss: all register. Prints the wall time
/// and the size of the hub's state (not asserted: tests never assert on wall time).
#[test]
fn thousand_spokes_register() {
    let started = std::time::Instant::now();
    let mut net = Net::hub();
    net.loss_percent = 20;
    net.jitter = Duration::from_millis(20);
    for i in 0..1000u32 {
        let [_, _, hi, lo] = (i + 2).to_be_bytes();
        let tunnel = Ipv4Addr::new(172, 16, hi, lo);
        let nbma = Ipv4Addr::new(100, 64, hi, lo);
        let config = ClientConfig::new(
            tunnel,
            nbma,
            vec![Nhs {
                tunnel: HUB_TUNNEL,
                nbma: HUB_NBMA,
            }],
        );
        net.add_spoke_with_id(config, nbma, i.wrapping_mul(0x9e37_79b9));
    }
    net.run_until(ms(200_000));
    assert_eq!(net.hub.len(), 1000);
    assert!(net.spokes.iter().all(|s| s.client.is_registered()));
    assert_eq!(net.hub.multicast_nbma().count(), 1000);
    let entry = size_of::<(Ipv4Addr, dmvpn_proto::nhrp::Registration)>()
        + 2 * size_of::<(dmvpn_proto::Instant, Ipv4Addr)>();
    eprintln!(
        "1000 spokes: {} packets, simulated 200 s in {:?}; hub state ≈ {} bytes per spoke (entry + expiry timer, before B-tree overhead)",
        net.log.len(),
        started.elapsed(),
        entry
    );
}
