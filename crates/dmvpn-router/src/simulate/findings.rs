//! The findings: the configurations' ([`cloud::check`]) and those the run showed, under the IDs
//! `dmvpn sessions` gives the same faults.

use dmvpn_proto::node::{self, DropReason};

use super::{DirectTunnel, Fact, Finding, Probe, Role, Sim, Source};
use crate::config::cloud::{self, Member, Severity};

fn severity(s: Severity) -> &'static str {
    match s {
        Severity::Error => "error",
        Severity::Warning => "warning",
    }
}

/// The configurations' findings, then the run's. A probe through the hub between two spokes
/// that built a direct tunnel is not a hairpin: it is the first packet of a new flow, which a
/// Phase 2/3 spoke sends through the hub while it resolves.
pub(super) fn findings(
    sim: &mut Sim,
    members: &[Member],
    matrix: &[Probe],
    direct: &[DirectTunnel],
) -> Vec<Finding> {
    let mut out: Vec<Finding> = (cloud::check(members).into_iter())
        .map(|f| Finding {
            id: f.id,
            severity: severity(f.severity),
            source: Source::Config,
            message: f.message,
        })
        .collect();
    let hubs: Vec<usize> = (0..sim.sites.len())
        .filter(|&i| sim.sites[i].role == Role::Hub)
        .collect();
    for i in 0..sim.sites.len() {
        let site = sim.sites[i].clone();
        if site.role != Role::Spoke {
            continue;
        }
        let nhses = sim.configs[i].0.nhrp.nhs.clone();
        for nhs in nhses {
            let hub = sim.by_nbma(nhs.nbma);
            let key = match hub {
                Some(h) => format!("{} ↔ {}", site.name, sim.name(h)),
                None => format!("{} ↔ {}", site.name, nhs.nbma),
            };
            // Requests that reach the NHS (IPsec up) and get no answer, and no other reason:
            // an NHS that is not the hub (or the network-id, the GRE key …).
            let keyed =
                sim.facts.contains_key(&Fact::Ipsec(i, nhs.nbma)) || sim.configs[i].1.is_none();
            let refused = ["nhrp-auth-mismatch", "nhrp-registration-refused"]
                .iter()
                .any(|id| sim.evidence.contains_key(&(*id, key.clone())));
            if !sim.ever_registered.contains(&i) && keyed && !refused {
                let message = format!(
                    "{key}: the spoke's registration requests to NHS {} get no reply",
                    nhs.tunnel
                );
                sim.evidence("nhrp-no-registration", "error", key.clone(), message);
            }
            // EIGRP: registered (so the tunnel works) but never adjacent.
            let own = sim.configs[i].0.eigrp.as_ref().map(|e| e.autonomous_system);
            let (Some(h), Some(own)) = (hub, own) else {
                continue;
            };
            let theirs = sim.configs[h].0.eigrp.as_ref().map(|e| e.autonomous_system);
            let adjacent = sim.ever_adjacent.contains(&(i, nhs.tunnel));
            let hub_nhrp = &sim.configs[h].0.nhrp;
            let hub_multicast = hub_nhrp.multicast_dynamic
                || hub_nhrp
                    .multicast_static
                    .contains(&sim.cloud.outside(site.nbma));
            if !adjacent && sim.ever_registered.contains(&i) && !hub_multicast {
                let message = format!(
                    "{key}: registered, but no EIGRP adjacency: the hub sends its multicast (EIGRP Hellos) to no spoke"
                );
                sim.evidence("nhrp-no-multicast", "error", key.clone(), message);
            }
            if !adjacent && sim.ever_registered.contains(&i) && theirs.is_some_and(|a| a != own) {
                let message = format!(
                    "{key}: no EIGRP adjacency: the spoke runs AS {} and the hub AS {}, each drops the other's Hellos",
                    own,
                    theirs.unwrap_or_default()
                );
                sim.evidence("eigrp-as-mismatch", "error", key, message);
            }
        }
    }
    // Split horizon: the hub has a spoke's prefix, another spoke does not.
    for &h in &hubs {
        let hub_split = (sim.configs[h].0.eigrp.as_ref()).is_some_and(|e| e.split_horizon);
        if !hub_split || !sim.sites[h].up {
            continue;
        }
        let hub_routes: Vec<node::Route> =
            sim.cloud.members[h].node.node().routes().copied().collect();
        let spokes: Vec<usize> = (0..sim.sites.len())
            .filter(|&s| sim.sites[s].role == Role::Spoke && sim.sites[s].up)
            .collect();
        for &s in &spokes {
            let missing: Vec<String> = (hub_routes.iter())
                .filter(|r| r.next_hop.is_some_and(|n| n != sim.sites[s].tunnel))
                .filter(|r| {
                    sim.cloud.members[s]
                        .node
                        .node()
                        .route(r.prefix.addr())
                        .is_none()
                })
                .map(|r| r.prefix.to_string())
                .collect();
            if !missing.is_empty() && sim.ever_adjacent.iter().any(|(r, _)| *r == s) {
                let key = format!("{} ↔ {}", sim.sites[s].name, sim.sites[h].name);
                let message = format!(
                    "{key}: the spoke has no route to {}, which the hub learnt from other spokes: the hub's split horizon does not send them back out of the tunnel",
                    missing.join(", ")
                );
                sim.evidence("eigrp-split-horizon", "error", key, message);
            }
        }
    }
    let shortcut = |p: &&Probe| {
        (direct.iter())
            .any(|t| [&t.a, &t.b] == [&p.from, &p.to] || [&t.b, &t.a] == [&p.from, &p.to])
    };
    for probe in (matrix.iter()).filter(|p| p.pass && p.path.len() >= 3 && !shortcut(p)) {
        let middle = &probe.path[1..probe.path.len() - 1];
        let through_hub = middle
            .iter()
            .all(|name| hubs.iter().any(|&h| sim.sites[h].name == *name));
        if through_hub {
            let key = format!("{} → {}", probe.from, probe.to);
            let message = format!(
                "{key}: spoke-to-spoke traffic goes through the hub ({}), as DMVPN Phase 1 does",
                probe.path.join(" → ")
            );
            sim.evidence(
                "spoke-to-spoke-hairpin",
                "info",
                "hairpin".to_owned(),
                message,
            );
        }
    }
    for i in 0..sim.sites.len() {
        let counters = sim.cloud.members[i].node.node().counters().clone();
        let name = sim.name(i);
        for (reason, n) in counters.nonzero_drops() {
            let (id, severity, what) = match reason {
                DropReason::EspIntegrity => {
                    ("esp-icv-failure", "error", "ESP packets fail their ICV")
                }
                DropReason::EspReplay => ("esp-replay", "warning", "ESP packets were replayed"),
                _ => continue,
            };
            sim.evidence(id, severity, name.clone(), format!("{name}: {n} {what}"));
        }
    }
    let runtime = std::mem::take(&mut sim.evidence);
    out.extend(
        runtime
            .into_iter()
            .map(|((id, _), (severity, message))| Finding {
                id,
                severity,
                source: Source::Runtime,
                message,
            }),
    );
    out
}
