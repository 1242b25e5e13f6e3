//! A scenario run from start to end: the routers booted, the schedule of what-ifs, the
//! snapshot and the probes, and the report put together.

use std::collections::{BTreeMap, BTreeSet};

use dmvpn_proto::Instant;
use dmvpn_proto::node::sim::Cloud;

use super::flows::Flows;
use super::sites::{boot, site, underlay_filter};
use super::whatif::disruptions;
use super::{
    Capture, Fact, KeyLog, Machine, Outcome, PROBE_TIME, Peer, Report, Role, RouterReport,
    Scenario, Sim, SimError, Site, WhatIf, findings, probe, show_commands, since, span,
};

/// Runs `scenario`.
///
/// # Errors
///
/// [`SimError`]: a configuration the router cannot run, an option naming an unknown router.
pub fn run(scenario: &Scenario) -> Result<Outcome, SimError> {
    if scenario.routers.is_empty() {
        return Err(SimError::NoRouters);
    }
    let mut sites = Vec::new();
    let mut configs = Vec::new();
    for member in &scenario.routers {
        let (site, node, ike) = site(member)?;
        if let Some(other) = sites.iter().find(|s: &&Site| s.nbma == site.nbma) {
            return Err(SimError::SameNbma(other.name.clone(), site.name, site.nbma));
        }
        sites.push(site);
        configs.push((node, ike));
    }
    let resolve = |name: &str| {
        (sites.iter().position(|s| s.name == name))
            .or_else(|| scenario.routers.iter().position(|m| m.name == name))
            .ok_or_else(|| SimError::UnknownRouter(name.to_owned()))
    };
    let mut nat = BTreeMap::new();
    for (name, outside) in &scenario.nat {
        nat.insert(sites[resolve(name)?].nbma, *outside);
    }
    // What-ifs by router name (file names resolved to the router's name).
    let mut what_ifs = Vec::new();
    for what in &scenario.what_ifs {
        let name = |n: &String| resolve(n).map(|i| sites[i].name.clone());
        what_ifs.push(match what {
            WhatIf::Fail { router, at } => WhatIf::Fail {
                router: name(router)?,
                at: *at,
            },
            WhatIf::Restart { router, at } => WhatIf::Restart {
                router: name(router)?,
                at: *at,
            },
            WhatIf::Partition { a, b, from, until } => WhatIf::Partition {
                a: name(a)?,
                b: name(b)?,
                from: *from,
                until: *until,
            },
            WhatIf::Change { router, config, at } => {
                let router = name(router)?;
                site(config)?;
                WhatIf::Change {
                    router,
                    config: config.clone(),
                    at: *at,
                }
            }
        });
    }
    what_ifs.sort_by_key(WhatIf::at);
    let end = Instant::ZERO + scenario.duration;
    let shown = Instant::ZERO + scenario.at.unwrap_or(scenario.duration);
    if shown > end {
        return Err(SimError::AtAfterEnd(
            span(since(shown)),
            span(scenario.duration),
        ));
    }

    let mut cloud: Cloud<Machine> = Cloud::of(Instant::ZERO, scenario.seed);
    cloud.logging = false;
    cloud.loss_percent = scenario.loss;
    for (inside, outside) in &nat {
        cloud.nat(*inside, *outside);
    }
    cloud.drop = Some(underlay_filter(&sites, &nat));
    if scenario.capture {
        cloud.tap = Some(Vec::new());
    }
    for (node, ike) in &configs {
        let router = boot(&mut cloud, node.clone(), ike.clone());
        cloud.add_machine(router);
    }
    let mut sim = Sim {
        cloud,
        sites,
        configs,
        nat,
        timeline: Vec::new(),
        facts: BTreeMap::new(),
        changes: Vec::new(),
        evidence: BTreeMap::new(),
        keys: KeyLog::default(),
        capture: scenario.capture,
        ever_registered: BTreeSet::new(),
        ever_adjacent: BTreeSet::new(),
        established: BTreeMap::new(),
        spis: BTreeMap::new(),
        batch: (0, String::new()),
        probe_arrivals: BTreeMap::new(),
        flows: Flows::default(),
        sa_log: Vec::new(),
    };
    sim.flows = Flows::choose(&sim, &scenario.flows)?;
    sim.drain();

    // The schedule: what-ifs (and partitions' ends), the snapshot, the probes' collection,
    // the flows' packets.
    #[derive(Clone, Copy)]
    enum Step {
        Start(usize),
        Heal(usize),
        Snapshot,
        Collect,
        Flow,
    }
    let mut schedule: Vec<(Instant, u8, Step)> = Vec::new();
    for (n, what) in what_ifs.iter().enumerate() {
        schedule.push((Instant::ZERO + what.at(), 1, Step::Start(n)));
        if let WhatIf::Partition { until, .. } = what {
            schedule.push((Instant::ZERO + *until, 0, Step::Heal(n)));
        }
    }
    schedule.push((shown, 2, Step::Snapshot));
    schedule.push((shown + PROBE_TIME, 3, Step::Collect));
    if !sim.flows.is_empty() {
        for tick in scenario.flows.ticks(scenario.duration) {
            schedule.push((Instant::ZERO + tick, 4, Step::Flow));
        }
    }
    schedule.sort_by_key(|(at, order, _)| (*at, *order));

    let mut shows = Vec::new();
    let mut probes = Vec::new();
    let mut matrix = Vec::new();
    let mut sampled = false;
    for (at, _, step) in schedule {
        sim.run_until(at);
        match step {
            Step::Start(n) => sim.apply(&what_ifs[n], false)?,
            Step::Heal(n) => sim.apply(&what_ifs[n], true)?,
            Step::Snapshot => {
                shows = snapshot(&sim);
                let (sent, sample) = probe::send_probes(&mut sim);
                probes = sent;
                sampled = sample;
            }
            Step::Collect => matrix = probe::collect_probes(&mut sim, &probes),
            Step::Flow => sim.send_flows(),
        }
    }
    sim.run_until(end.max(sim.cloud.now));
    let flows = sim.flow_report(end - PROBE_TIME);
    let direct = sim.direct_tunnels();

    // (each router's events come in order; the routers' are merged here)
    sim.timeline.sort_by_key(|e| e.at);
    let first_what_if = what_ifs.first().map(WhatIf::at);
    let converged_at = (sim.changes.iter())
        .filter(|(at, _, _)| first_what_if.is_none_or(|w| *at < w))
        .map(|(at, _, _)| *at)
        .max();
    let disruptions = disruptions(&sim, &what_ifs, since(end));
    let findings = findings::findings(&mut sim, &scenario.routers, &matrix, &direct);
    let peers = peers(&sim);
    let lost = sim
        .cloud
        .tap
        .as_ref()
        .map_or(0, |t| t.iter().filter(|p| p.dropped).count());
    let routers = (sim.sites.iter().zip(shows))
        .map(|(site, shows)| RouterReport {
            name: site.name.clone(),
            role: match site.role {
                Role::Hub => "hub",
                Role::Spoke => "spoke",
            },
            nbma: site.nbma,
            tunnel: site.tunnel,
            shows,
        })
        .collect();
    let report = Report {
        seed: scenario.seed,
        duration: scenario.duration,
        shown_at: since(shown),
        routers,
        timeline: std::mem::take(&mut sim.timeline),
        converged_at,
        peers,
        matrix,
        flows,
        direct,
        matrix_sampled: sampled,
        findings,
        disruptions,
        packets: sim.cloud.sent,
        lost: lost as u64,
    };
    let capture = scenario.capture.then(|| Capture {
        interfaces: sim.sites.iter().map(|s| s.name.clone()).collect(),
        packets: sim.cloud.tap.take().unwrap_or_default(),
        keys: std::mem::take(&mut sim.keys),
    });
    Ok(Outcome { report, capture })
}

/// Each spoke with each of its NHSes that is a router of the cloud.
fn peers(sim: &Sim) -> Vec<Peer> {
    let mut out = Vec::new();
    for (s, site) in sim.sites.iter().enumerate() {
        for nhs in &sim.configs[s].0.nhrp.nhs {
            let Some(h) = sim.by_nbma(nhs.nbma) else {
                continue;
            };
            let spoke_nbma = sim.cloud.outside(site.nbma);
            let mut spis = BTreeSet::new();
            for key in [(h, spoke_nbma), (s, nhs.nbma)] {
                spis.extend(sim.spis.get(&key).into_iter().flatten());
            }
            out.push(Peer {
                hub: sim.name(h),
                spoke: site.name.clone(),
                hub_nbma: nhs.nbma,
                spoke_nbma,
                ike_sas: sim.established.get(&(h, spoke_nbma)).copied().unwrap_or(0),
                registered: sim.facts.contains_key(&Fact::Registration(h, site.tunnel)),
                spis,
                adjacent: sim.ever_adjacent.contains(&(h, site.tunnel))
                    && sim.ever_adjacent.contains(&(s, nhs.tunnel)),
            });
        }
    }
    out
}

fn snapshot(sim: &Sim) -> Vec<Vec<(&'static str, String)>> {
    let now = sim.cloud.now;
    (sim.sites.iter().zip(&sim.cloud.members))
        .map(|(site, member)| {
            show_commands(member.node.ikev2().is_some())
                .into_iter()
                .map(|command| {
                    let text = if site.up {
                        crate::show::answer(
                            &member.node,
                            now,
                            site.booted_at,
                            &site.interface,
                            command,
                        )
                    } else {
                        format!("% {} is powered off\n", site.name)
                    };
                    (command, text)
                })
                .collect()
        })
        .collect()
}
