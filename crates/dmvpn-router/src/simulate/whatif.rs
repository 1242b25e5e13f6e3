//! The what-if events: their kinds ([`WhatIf`]), applying them to the running cloud, and what
//! each one broke and what brought it back ([`Disruption`]).

use std::collections::BTreeSet;

use dmvpn_proto::Duration;

use super::sites::{boot, find, site, underlay_filter};
use super::{Disruption, Fact, Kind, Outage, Sim, SimError, span};
use crate::config::cloud::Member;

/// A change to the cloud during the run.
#[derive(Clone, Debug)]
pub enum WhatIf {
    /// The router stops (powered off): nothing it had survives, and packets to it are lost.
    Fail {
        /// Its name.
        router: String,
        /// When.
        at: Duration,
    },
    /// The router reboots (at once, with its configuration and nothing else).
    Restart {
        /// Its name.
        router: String,
        /// When.
        at: Duration,
    },
    /// The network between two routers loses everything from `from` to `until`.
    Partition {
        /// One router.
        a: String,
        /// The other.
        b: String,
        /// When the cut starts.
        from: Duration,
        /// When it heals.
        until: Duration,
    },
    /// The router reloads with another configuration (same NBMA address).
    Change {
        /// Its name.
        router: String,
        /// The new configuration.
        config: Box<Member>,
        /// When.
        at: Duration,
    },
}

impl WhatIf {
    /// When it starts.
    #[must_use]
    pub const fn at(&self) -> Duration {
        match self {
            Self::Fail { at, .. } | Self::Restart { at, .. } | Self::Change { at, .. } => *at,
            Self::Partition { from, .. } => *from,
        }
    }

    fn describe(&self) -> String {
        match self {
            Self::Fail { router, .. } => format!("{router} fails"),
            Self::Restart { router, .. } => format!("{router} restarts"),
            Self::Partition { a, b, from, until } => format!(
                "the network between {a} and {b} is cut for {}",
                span(*until - *from)
            ),
            Self::Change { router, config, .. } => {
                format!("{router} reloads with {}", config.name)
            }
        }
    }
}

impl Sim {
    pub(super) fn apply(&mut self, what: &WhatIf, healing: bool) -> Result<(), SimError> {
        let now = self.cloud.now;
        let index = |name: &str| -> Result<usize, SimError> {
            find(&self.sites, name).ok_or_else(|| SimError::UnknownRouter(name.to_owned()))
        };
        match what {
            WhatIf::Fail { router, .. } => {
                let i = index(router)?;
                self.cloud.power_off(i);
                self.sites[i].up = false;
                self.router_down(i);
                self.entry(now, i, Kind::WhatIf, "powered off".to_owned());
            }
            WhatIf::Restart { router, .. } => {
                let i = index(router)?;
                self.restart(i, None)?;
                self.entry(now, i, Kind::WhatIf, "restarted".to_owned());
            }
            WhatIf::Change { router, config, .. } => {
                let i = index(router)?;
                self.restart(i, Some(config))?;
                let text = format!("reloaded with {}", config.name);
                self.entry(now, i, Kind::WhatIf, text);
            }
            WhatIf::Partition { a, b, .. } => {
                let (x, y) = (index(a)?, index(b)?);
                let (nx, ny) = (self.sites[x].nbma, self.sites[y].nbma);
                let (ox, oy) = (self.cloud.outside(nx), self.cloud.outside(ny));
                let text = if healing {
                    self.cloud.heal(ox, oy);
                    self.cloud.heal(nx, ny);
                    format!("the network to {} works again", self.sites[y].name)
                } else {
                    self.cloud.partition(ox, oy);
                    self.cloud.partition(nx, ny);
                    format!("the network to {} is cut", self.sites[y].name)
                };
                self.entry(now, x, Kind::WhatIf, text);
            }
        }
        Ok(())
    }

    fn restart(&mut self, i: usize, change: Option<&Member>) -> Result<(), SimError> {
        if let Some(member) = change {
            let (mut new, node, ike) = site(member)?;
            let old = &self.sites[i];
            if new.nbma != old.nbma {
                return Err(SimError::NbmaChanged(old.name.clone(), new.nbma, old.nbma));
            }
            new.name.clone_from(&old.name);
            self.sites[i] = new;
            self.configs[i] = (node, ike);
            self.cloud.drop = Some(underlay_filter(&self.sites, &self.nat));
        }
        self.router_down(i);
        let (node, ike) = self.configs[i].clone();
        let router = boot(&mut self.cloud, node, ike);
        self.cloud.replace(i, router);
        self.sites[i].up = true;
        self.sites[i].booted_at = self.cloud.now;
        Ok(())
    }
}

fn fact_text(sim: &Sim, fact: Fact) -> String {
    let router = sim.name(fact.router());
    match fact {
        Fact::Ike(_, peer) => format!("{router}: IKE SA with {}", sim.peer_name(peer)),
        Fact::Ipsec(_, peer) => format!("{router}: IPsec SA pair with {}", sim.peer_name(peer)),
        Fact::Registration(_, t) => format!("{router}: NHRP registration {}", sim.tunnel_name(t)),
        Fact::Adjacency(_, t) => format!("{router}: EIGRP adjacency with {}", sim.tunnel_name(t)),
        Fact::Route(_, p) => format!("{router}: route to {p}"),
        Fact::Shortcut(_, p, t) => {
            format!("{router}: NHRP shortcut {p} via {}", sim.tunnel_name(t))
        }
    }
}

pub(super) fn disruptions(sim: &Sim, what_ifs: &[WhatIf], end: Duration) -> Vec<Disruption> {
    let mut out = Vec::new();
    for (n, what) in what_ifs.iter().enumerate() {
        let start = what.at();
        let window_end = what_ifs.get(n + 1).map_or(end, WhatIf::at);
        let mut broke = Vec::new();
        let mut seen = BTreeSet::new();
        for (at, fact, up) in &sim.changes {
            if *up || *at < start || *at >= window_end || !seen.insert(*fact) {
                continue;
            }
            let up_at = (sim.changes.iter())
                .find(|(t, f, u)| *u && f == fact && t >= at)
                .map(|(t, _, _)| *t);
            if up_at == Some(*at) {
                continue;
            }
            broke.push((
                *fact,
                Outage {
                    what: fact_text(sim, *fact),
                    down_at: *at,
                    up_at,
                },
            ));
        }
        let recovered_at = if broke.iter().all(|(_, o)| o.up_at.is_some()) {
            Some(
                broke
                    .iter()
                    .filter_map(|(_, o)| o.up_at)
                    .max()
                    .unwrap_or(start),
            )
        } else {
            None
        };
        let last = recovered_at.unwrap_or(end);
        let recovery = (sim.timeline.iter())
            .filter(|e| e.at >= start && e.at <= last && e.kind == Kind::Up)
            .take(12)
            .cloned()
            .collect();
        out.push(Disruption {
            what: what.describe(),
            at: start,
            broke: broke.into_iter().map(|(_, o)| o).collect(),
            recovered_at,
            recovery,
        });
    }
    out
}
