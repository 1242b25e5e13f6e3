//! The routers as configured: each one's static description ([`Site`]), its machine booted on
//! the cloud, and the underlay its configuration gives it.

use std::collections::BTreeMap;
use std::net::Ipv4Addr;

use dmvpn_ip::Prefix;
use dmvpn_proto::Instant;
use dmvpn_proto::ike::TestEntropy;
use dmvpn_proto::node::sim::{Cloud, XorShift};
use dmvpn_proto::node::{self, Node};

use super::{Machine, SimError, Site};
use crate::config::Role;
use crate::config::cloud::Member;
use crate::node::Ike;

pub(super) fn site(member: &Member) -> Result<(Site, node::NodeConfig, Option<Ike>), SimError> {
    let config = &member.config;
    let name = config
        .hostname
        .clone()
        .unwrap_or_else(|| member.name.clone());
    let (node, ike) = crate::node::configs(config).map_err(|error| SimError::Node {
        router: name.clone(),
        error,
    })?;
    let interface = config
        .tunnel_interface()
        .map_or_else(|| "Tunnel0".to_owned(), |i| i.name.clone());
    let tunnel_subnet = node.tunnel.subnet();
    let mut prefixes = Vec::new();
    let mut underlay = Vec::new();
    for i in &config.interfaces {
        let Some(address) = i.address else { continue };
        if i.tunnel.is_some() || i.shutdown == Some(true) {
            continue;
        }
        let prefix = Prefix::new(address.address, address.prefix_len());
        if address.address == node.tunnel.nbma {
            underlay.push(prefix);
        } else {
            prefixes.push((prefix, address.address));
        }
    }
    for route in &config.routes {
        let through_tunnel = route.next_hop.is_some_and(|h| tunnel_subnet.contains(h))
            || (route.interface.as_deref()).is_some_and(|i| i.eq_ignore_ascii_case(&interface));
        if !through_tunnel {
            underlay.push(route.prefix);
        }
    }
    let role = config.tunnel().map_or(Role::Hub, |t| t.role());
    let site = Site {
        name,
        role,
        nbma: node.tunnel.nbma,
        tunnel: node.tunnel.address,
        interface,
        prefixes,
        underlay,
        booted_at: Instant::ZERO,
        up: true,
    };
    Ok((site, node, ike))
}

pub(super) fn boot(
    cloud: &mut Cloud<Machine>,
    node: node::NodeConfig,
    ike: Option<Ike>,
) -> Machine {
    let seed = cloud.next_seed();
    let node = Node::new(node, cloud.now, Box::new(XorShift::new(seed)));
    Ike::router(ike, node, TestEntropy::new(seed.rotate_left(17)), cloud.now)
}

/// The network's drop filter: a sender reaches only what its underlay routes cover.
pub(super) fn underlay_filter(
    sites: &[Site],
    nat: &BTreeMap<Ipv4Addr, Ipv4Addr>,
) -> node::sim::DropFilter {
    let mut reach: BTreeMap<Ipv4Addr, Vec<Prefix>> = BTreeMap::new();
    for site in sites {
        let outside = nat.get(&site.nbma).copied().unwrap_or(site.nbma);
        reach.insert(outside, site.underlay.clone());
    }
    Box::new(move |wire| {
        reach
            .get(&wire.from)
            .is_some_and(|prefixes| !prefixes.iter().any(|p| p.contains(wire.to)))
    })
}

pub(super) fn find(sites: &[Site], name: &str) -> Option<usize> {
    sites.iter().position(|s| s.name == name)
}
