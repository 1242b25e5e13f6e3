//! The Phase 2 and 3 clouds of `tests/phase2.rs` and `tests/phase3.rs`: the seed lab's cloud
//! (`util/cloud.rs`) with multipoint spokes, and a run loop that keys the spoke pairs the nodes
//! ask for, as IKE would (the router's own IKE is tested in `tests/router_*.rs`).
#![allow(dead_code, unreachable_pub, clippy::expect_used, clippy::unwrap_used)]

use std::collections::BTreeSet;
use std::net::Ipv4Addr;

use dmvpn_proto::nhrp::{Shortcut, ShortcutEvent};
use dmvpn_proto::node::sim::Cloud;
use dmvpn_proto::node::{Event, NodeConfig, Redirect};
use dmvpn_proto::{Duration, Instant};

use super::cloud_util::{hub_config, spoke_config};

/// Which Phase the cloud runs.
#[derive(Clone, Copy, Debug, Eq, PartialEq)]
pub enum Phase {
    /// Hub `no ip next-hop-self eigrp 100`; spokes multipoint, routes to the other LANs via
    /// the other spoke's tunnel address.
    Two,
    /// Hub `ip nhrp redirect`; spokes multipoint with `ip nhrp shortcut`.
    Three,
}

/// The hub of `phase` for `spokes` spokes.
pub fn hub(phase: Phase, spokes: u16) -> NodeConfig {
    let mut config = hub_config(spokes);
    match phase {
        Phase::Two => {
            if let Some(e) = &mut config.eigrp {
                e.next_hop_self = false;
            }
        }
        Phase::Three => config.nhrp.redirect = Some(Redirect::IOS_DEFAULT),
    }
    config
}

/// Spoke `n` of `phase`: `tunnel mode gre multipoint` (and `ip nhrp shortcut` in Phase 3).
/// In Phase 2 its static route to the other LANs goes away: EIGRP brings them with the other
/// spoke's tunnel address as next hop.
pub fn spoke(phase: Phase, n: u16) -> NodeConfig {
    let mut config = spoke_config(n);
    config.tunnel.multipoint = true;
    match phase {
        Phase::Two => config.static_routes.clear(),
        Phase::Three => config.nhrp.shortcut = true,
    }
    config
}

/// A cloud of `phase` with the hub (index 0) and spokes 1..=`spokes`.
pub fn cloud(phase: Phase, spokes: u16, seed: u64) -> Cloud {
    let mut cloud = Cloud::new(Instant::ZERO, seed);
    cloud.add(hub(phase, spokes));
    for n in 1..=spokes {
        cloud.add(spoke(phase, n));
    }
    cloud
}

/// Runs the cloud until `t`; with `keys`, every spoke pair a node asks for
/// ([`ShortcutEvent::PeerWanted`]) is keyed at once, as a finished IKE exchange would.
pub fn run_until(cloud: &mut Cloud, t: Instant, keys: bool) {
    let mut keyed = BTreeSet::new();
    loop {
        let mut stepped = cloud.step(t);
        if keys {
            let wanted: Vec<(usize, Ipv4Addr)> = (cloud.members.iter().enumerate())
                .flat_map(|(i, m)| {
                    m.events.iter().filter_map(move |(_, e)| match e {
                        Event::Shortcut(ShortcutEvent::PeerWanted { nbma }) => Some((i, *nbma)),
                        _ => None,
                    })
                })
                .collect();
            for (a, nbma) in wanted {
                let Some(b) = cloud.index(nbma) else { continue };
                if cloud.members[a].node.peer_sas(nbma).is_none()
                    && keyed.insert((a.min(b), a.max(b)))
                {
                    cloud.key(a, b);
                    stepped = true;
                }
            }
        }
        if !stepped {
            break;
        }
    }
    cloud.now = cloud.now.max(t);
}

/// Runs for `d`.
pub fn run_for(cloud: &mut Cloud, d: Duration, keys: bool) {
    let t = cloud.now + d;
    run_until(cloud, t, keys);
}

/// The shortcut events of node `index`.
pub fn shortcut_events(cloud: &Cloud, index: usize) -> Vec<ShortcutEvent> {
    (cloud.members[index].events.iter())
        .filter_map(|(_, e)| match e {
            Event::Shortcut(s) => Some(*s),
            _ => None,
        })
        .collect()
}

/// The resolved entries of node `index`, as (prefix, next hop, NBMA).
pub fn entries(cloud: &Cloud, index: usize) -> Vec<(String, Ipv4Addr, Ipv4Addr)> {
    cloud.members[index]
        .node
        .shortcuts()
        .filter(|s| s.kind == dmvpn_proto::nhrp::ShortcutKind::Resolved)
        .map(|s: &Shortcut| (s.prefix.to_string(), s.next_hop, s.nbma))
        .collect()
}
