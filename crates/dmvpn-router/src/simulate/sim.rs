//! The simulation's bookkeeping: names, the timeline, the facts that go up and down, the
//! evidence for findings, and running the cloud slice by slice.

use std::net::Ipv4Addr;

use dmvpn_proto::Instant;

use super::{Entry, Fact, Kind, Role, SLICE, Sim, since};

impl Sim {
    pub(super) fn name(&self, index: usize) -> String {
        self.sites
            .get(index)
            .map(|s| s.name.clone())
            .unwrap_or_default()
    }

    /// The router whose NBMA address (or NAT outside address) is `nbma`.
    pub(super) fn by_nbma(&self, nbma: Ipv4Addr) -> Option<usize> {
        self.cloud.index(nbma)
    }

    pub(super) fn peer_name(&self, nbma: Ipv4Addr) -> String {
        self.by_nbma(nbma).map_or_else(
            || nbma.to_string(),
            |i| format!("{} ({nbma})", self.name(i)),
        )
    }

    pub(super) fn tunnel_name(&self, tunnel: Ipv4Addr) -> String {
        (self.sites.iter())
            .find(|s| s.tunnel == tunnel)
            .map_or_else(|| tunnel.to_string(), |s| format!("{} ({tunnel})", s.name))
    }

    pub(super) fn entry(&mut self, at: Instant, router: usize, kind: Kind, text: String) {
        self.batch.0 = 0;
        let router = self.name(router);
        self.timeline.push(Entry {
            at: since(at),
            router,
            kind,
            text,
        });
    }

    /// A refusal router `router` met from the tunnel address `tunnel`: a fault in the timeline,
    /// and the same text as the evidence `id` (an error) for the pair.
    pub(super) fn tunnel_fault(
        &mut self,
        at: Instant,
        router: usize,
        tunnel: Ipv4Addr,
        id: &'static str,
        text: String,
    ) {
        self.entry(at, router, Kind::Fault, text.clone());
        let key = self.tunnel_pair_key(router, tunnel);
        self.evidence(id, "error", key, text);
    }

    pub(super) fn fact(&mut self, at: Instant, fact: Fact, up: bool) -> bool {
        let was = self.facts.insert(fact, up).unwrap_or(false);
        if was != up {
            self.changes.push((since(at), fact, up));
        }
        was != up
    }

    /// Records a change of `fact` and, when it is one, its timeline entry.
    pub(super) fn toggle(
        &mut self,
        at: Instant,
        fact: Fact,
        up: bool,
        text: impl FnOnce(&Self) -> String,
    ) -> bool {
        let changed = self.fact(at, fact, up);
        if changed {
            let text = text(self);
            let kind = if up { Kind::Up } else { Kind::Down };
            self.entry(at, fact.router(), kind, text);
        }
        changed
    }

    pub(super) fn evidence(
        &mut self,
        id: &'static str,
        severity: &'static str,
        key: String,
        message: String,
    ) {
        self.evidence
            .entry((id, key))
            .or_insert((severity, message));
    }

    /// Takes what the routers reported and what they delivered (the matrix's probes, the
    /// flows' packets) since the last time.
    pub(super) fn drain(&mut self) {
        for index in 0..self.cloud.members.len() {
            let events = std::mem::take(&mut self.cloud.members[index].events);
            for (at, event) in events {
                self.event(index, at, event);
            }
            let delivered = std::mem::take(&mut self.cloud.members[index].delivered);
            for (_, packet) in delivered {
                if self.flow_arrived(index, &packet) {
                    continue;
                }
                if let Some((tag, ttl)) = super::probe::probe_tag(&packet) {
                    self.probe_arrivals.insert(tag, (index, ttl));
                }
            }
        }
    }

    /// `spoke ↔ hub` for a pair, whichever end saw it.
    pub(super) fn pair_key(&self, i: usize, peer: Ipv4Addr) -> String {
        let other = self.by_nbma(peer);
        let (spoke, hub) = match (self.sites.get(i).map(|s| s.role), other) {
            (Some(Role::Hub), Some(o)) => (o, i),
            (_, Some(o)) => (i, o),
            (_, None) => return format!("{} ↔ {peer}", self.name(i)),
        };
        format!("{} ↔ {}", self.name(spoke), self.name(hub))
    }

    pub(super) fn tunnel_pair_key(&self, i: usize, tunnel: Ipv4Addr) -> String {
        match self.sites.iter().position(|s| s.tunnel == tunnel) {
            Some(o) => self.pair_key(i, self.sites[o].nbma),
            None => format!("{} ↔ {tunnel}", self.name(i)),
        }
    }

    /// Every fact of router `i` goes down (it failed or rebooted).
    pub(super) fn router_down(&mut self, i: usize) {
        let now = self.cloud.now;
        let facts: Vec<Fact> = (self.facts.iter())
            .filter(|(f, up)| **up && f.router() == i)
            .map(|(f, _)| *f)
            .collect();
        for fact in facts {
            self.fact(now, fact, false);
        }
    }

    /// Runs until `t`, taking what the routers report slice by slice.
    pub(super) fn run_until(&mut self, t: Instant) {
        while self.cloud.now < t {
            let next = (self.cloud.now + SLICE).min(t);
            self.cloud.run_until(next);
            self.drain();
        }
        self.drain();
    }
}
