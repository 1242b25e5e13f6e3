//! The reachability matrix: an ICMP echo from each LAN and loopback prefix to each other,
//! injected at its router's tunnel interface as the host's stack would, delivered or not, and
//! the path it took (the routers' routes', checked against the TTL it arrived with).

use std::net::Ipv4Addr;

use dmvpn_proto::node::sim::{ipv4_packet, parse_ipv4};

use super::{FULL_MATRIX_PREFIXES, Probe, Role, Sim};

/// A probe sent: source and destination (router, prefix index) and its tag.
pub(super) struct Sent {
    from: (usize, usize),
    to: (usize, usize),
    tag: u32,
}

/// An ICMP echo request of the matrix carrying `tag` (RFC 792).
pub(super) fn echo(src: Ipv4Addr, dst: Ipv4Addr, tag: u32) -> Vec<u8> {
    echo_marked(src, dst, b"dmvpn-sim", tag)
}

/// An ICMP echo request whose data is `mark` then `tag` (RFC 792).
pub(super) fn echo_marked(src: Ipv4Addr, dst: Ipv4Addr, mark: &[u8], tag: u32) -> Vec<u8> {
    let mut icmp = vec![8, 0, 0, 0, 0xd5, 0xd5, 0, 1];
    icmp.extend_from_slice(mark);
    icmp.extend_from_slice(&tag.to_be_bytes());
    let mut sum = dmvpn_wire::checksum::Checksum::new();
    sum.add(&icmp);
    let sum = sum.finish();
    icmp[2..4].copy_from_slice(&sum.to_be_bytes());
    ipv4_packet(src, dst, 1, &icmp)
}

/// The tag and TTL of an echo request [`echo_marked`] with `mark`.
pub(super) fn tagged(packet: &[u8], mark: &[u8]) -> Option<(u32, u8)> {
    let (_, _, ttl, payload) = parse_ipv4(packet)?;
    let body = payload.get(8..)?.strip_prefix(mark)?;
    Some((u32::from_be_bytes(body.get(..4)?.try_into().ok()?), ttl))
}

/// The tag and TTL of a matrix probe.
pub(super) fn probe_tag(packet: &[u8]) -> Option<(u32, u8)> {
    tagged(packet, b"dmvpn-sim")
}

/// The TTL probes and flows leave their source with
/// ([`ipv4_packet`](dmvpn_proto::node::sim::ipv4_packet)'s).
const SENT_TTL: u8 = 64;

/// The routers a packet from `a` went through to `b`, both included, from the TTL it arrived
/// with (each router that forwards it inside the tunnel takes one off): those of `routed` (the
/// path its routes gave) when they are as many, else `a`'s NHS for one, else a count.
pub(super) fn observed(sim: &Sim, a: usize, b: usize, routed: &[usize], ttl: u8) -> Vec<String> {
    let name = |i: usize| sim.sites[i].name.clone();
    let through = usize::from(SENT_TTL.saturating_sub(ttl));
    let middle: Vec<String> = if routed.len() == through + 2 {
        routed[1..=through].iter().map(|&i| name(i)).collect()
    } else if through == 0 {
        Vec::new()
    } else {
        let nhs = (sim.configs[a].0.nhrp.nhs.first())
            .and_then(|n| sim.by_nbma(n.nbma))
            .filter(|_| through == 1);
        match nhs {
            Some(h) => vec![name(h)],
            None => vec![format!("{through} router(s)")],
        }
    };
    let mut path = vec![name(a)];
    path.extend(middle);
    path.push(name(b));
    path
}

/// Injects the probes now; returns them and whether the matrix is a sample.
pub(super) fn send_probes(sim: &mut Sim) -> (Vec<Sent>, bool) {
    sim.drain();
    sim.probe_arrivals.clear();
    let all: Vec<(usize, usize)> = (sim.sites.iter().enumerate())
        .flat_map(|(r, s)| (0..s.prefixes.len()).map(move |p| (r, p)))
        .collect();
    let sampled = all.len() > FULL_MATRIX_PREFIXES;
    let hub = sim.sites.iter().position(|s| s.role == Role::Hub);
    let mut sent = Vec::new();
    for (k, &from) in all.iter().enumerate() {
        let targets: Vec<(usize, usize)> = if sampled {
            let hub_prefix = hub.and_then(|h| all.iter().find(|(r, _)| *r == h)).copied();
            let next = all.get((k + 1) % all.len()).copied();
            hub_prefix.into_iter().chain(next).collect()
        } else {
            all.clone()
        };
        for to in targets {
            if to.0 == from.0 || sent.iter().any(|s: &Sent| s.from == from && s.to == to) {
                continue;
            }
            let tag = u32::try_from(sent.len()).unwrap_or(u32::MAX);
            let src = sim.sites[from.0].prefixes[from.1].1;
            let dst = sim.sites[to.0].prefixes[to.1].1;
            let usable = sim.sites[from.0].up;
            if usable && sim.cloud.members[from.0].node.node().route(dst).is_some() {
                sim.cloud.inject(from.0, &echo(src, dst, tag));
            }
            sent.push(Sent { from, to, tag });
        }
    }
    sim.drain();
    (sent, sampled)
}

/// The routers a packet to `dst` goes through from router `from`, by their routes.
pub(super) fn path(sim: &Sim, from: usize, dst: Ipv4Addr) -> (Vec<usize>, Option<String>) {
    let mut path = vec![from];
    let mut at = from;
    for _ in 0..sim.sites.len() {
        if sim.sites[at].prefixes.iter().any(|(p, _)| p.contains(dst)) {
            return (path, None);
        }
        if !sim.sites[at].up {
            return (path, Some(format!("{} is powered off", sim.sites[at].name)));
        }
        let Some(route) = sim.cloud.members[at].node.node().route(dst) else {
            return (
                path,
                Some(format!("{} has no route to {dst}", sim.sites[at].name)),
            );
        };
        let Some(next) = route
            .next_hop
            .and_then(|hop| sim.sites.iter().position(|s| s.tunnel == hop))
        else {
            return (
                path,
                Some(format!("{} has no next hop for {dst}", sim.sites[at].name)),
            );
        };
        if path.contains(&next) {
            path.push(next);
            return (path, Some("routing loop".to_owned()));
        }
        path.push(next);
        at = next;
    }
    (path, Some("routing loop".to_owned()))
}

pub(super) fn collect_probes(sim: &mut Sim, sent: &[Sent]) -> Vec<Probe> {
    sim.drain();
    let arrived = std::mem::take(&mut sim.probe_arrivals);
    sent.iter()
        .map(|probe| {
            let dst = sim.sites[probe.to.0].prefixes[probe.to.1].1;
            let (routed, mut reason) = path(sim, probe.from.0, dst);
            let arrival = arrived.get(&probe.tag).copied();
            let pass = arrival.is_some_and(|(r, _)| r == probe.to.0);
            let mut hops: Vec<String> = routed.iter().map(|h| sim.sites[*h].name.clone()).collect();
            if let Some((_, ttl)) = arrival.filter(|_| pass) {
                hops = observed(sim, probe.from.0, probe.to.0, &routed, ttl);
                reason = None;
            } else if reason.is_none() {
                reason = Some(match arrival {
                    Some((r, _)) => format!("delivered at {} instead", sim.sites[r].name),
                    None => "lost on the way".to_owned(),
                });
            }
            Probe {
                from: sim.sites[probe.from.0].name.clone(),
                from_prefix: sim.sites[probe.from.0].prefixes[probe.from.1].0,
                to: sim.sites[probe.to.0].name.clone(),
                to_prefix: sim.sites[probe.to.0].prefixes[probe.to.1].0,
                pass,
                path: hops,
                reason,
            }
        })
        .collect()
}
