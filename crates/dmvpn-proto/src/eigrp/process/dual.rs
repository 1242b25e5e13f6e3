//! DUAL (RFC 7868 §5.2): routes in from Updates, Queries and Replies, the feasibility
//! condition, going active and passive, stuck-in-active, and what each neighbour is told.

use alloc::collections::BTreeSet;
use alloc::vec::Vec;
use core::net::{IpAddr, Ipv4Addr};

use dmvpn_eigrp::consts::ROUTE_FLAG_ACTIVE;
use dmvpn_eigrp::tlv::{ClassicMetric, Tlv};
use dmvpn_eigrp::{self as eigrp, OpCode, metric};

use super::{
    Active, Advert, Choice, Eigrp, EigrpEvent, Entry, INFINITY, Kind, Path, SIA_ROUNDS, Timer,
    UNREACHABLE,
};
use crate::eigrp::neighbor::DownReason;
use crate::eigrp::topology::{Prefix, Via};
use crate::time::Instant;

impl Eigrp {
    pub(super) fn dispatch(&mut self, now: Instant, from: Ipv4Addr, msg: &eigrp::Repr<'_>) {
        let kind = match msg.opcode {
            OpCode::UPDATE => Kind::Update,
            OpCode::QUERY => Kind::Query,
            OpCode::REPLY => Kind::Reply,
            OpCode::SIA_QUERY => Kind::SiaQuery,
            OpCode::SIA_REPLY => Kind::SiaReply,
            _ => return,
        };
        let max_hops = self.config.max_hops;
        let router_id = self.config.router_id.to_bits();
        for tlv in msg.tlvs.iter() {
            // Classic IPv4 internal and external route TLVs; others are not for this process.
            let Tlv::Classic(route) = tlv else {
                continue;
            };
            let IpAddr::V4(nh) = route.next_hop else {
                continue;
            };
            if route.external.is_some_and(|x| x.origin_router == router_id) {
                continue; // our own redistribution come back
            }
            for destination in route.destinations.iter() {
                let IpAddr::V4(dest) = destination.prefix else {
                    continue;
                };
                let prefix = Prefix::new(dest, destination.prefix_len);
                let metric = route.metric;
                let mut reported = metric;
                if reported.hop_count >= max_hops {
                    reported.delay = ClassicMetric::UNREACHABLE;
                }
                let next_hop = if nh.is_unspecified() || nh == self.config.hello.address {
                    from
                } else {
                    nh
                };
                let advert = Advert {
                    metric: reported,
                    next_hop,
                    external: route.external,
                };
                self.route_in(now, from, kind, prefix, advert);
            }
        }
    }

    /// One route TLV destination of an Update, Query, Reply, SIA-Query or SIA-Reply.
    pub(super) fn route_in(
        &mut self,
        now: Instant,
        from: Ipv4Addr,
        kind: Kind,
        prefix: Prefix,
        advert: Advert,
    ) {
        // An SIA-Reply with the active flag says the Reply is still to come: nothing to learn,
        // only that `from` answered the SIA-Query.
        if kind == Kind::SiaReply && advert.metric.flags & ROUTE_FLAG_ACTIVE != 0 {
            if let Some(active) = self
                .topology
                .get_mut(&prefix)
                .and_then(|e| e.active.as_mut())
            {
                active.sia_sent.remove(&from);
            }
            return;
        }
        self.learn(now, prefix, from, advert);
        match kind {
            Kind::Update => {
                if self
                    .topology
                    .get(&prefix)
                    .is_some_and(|e| e.active.is_none())
                {
                    self.evaluate(now, prefix, None);
                }
            }
            Kind::Query => self.on_query(now, from, prefix),
            Kind::Reply | Kind::SiaReply => self.on_reply(now, from, prefix),
            Kind::SiaQuery => self.on_sia_query(now, from, prefix),
        }
    }

    /// Records what `from` reports for `prefix` (an unreachable metric removes its path).
    /// A new route past a limit is not learnt (see `limit.rs`).
    pub(super) fn learn(&mut self, now: Instant, prefix: Prefix, from: Ipv4Addr, advert: Advert) {
        let k = self.config.hello.k;
        let tunnel = self.config.tunnel;
        let reachable = !advert.metric.is_unreachable();
        if reachable && !self.has_path(prefix, from) && !self.admit_route(now, from) {
            return;
        }
        let entry = self.topology.entry(prefix).or_insert_with(Entry::new);
        if !reachable {
            if entry.paths.remove(&from).is_some() {
                self.path_removed(from);
            }
            return;
        }
        let total = tunnel.add_to(&advert.metric);
        let old = entry.paths.insert(
            from,
            Path {
                total,
                next_hop: advert.next_hop,
                distance: metric::classic_of(&k, &total),
                rd: metric::classic_of(&k, &advert.metric),
                external: advert.external,
            },
        );
        if old.is_none() {
            self.path_added(from);
        }
    }

    pub(super) fn on_query(&mut self, now: Instant, from: Ipv4Addr, prefix: Prefix) {
        match self.topology.get(&prefix).map(|e| e.active.is_some()) {
            Some(true) => {
                let reply = self.reply_for(prefix, from);
                self.queue_route(from, Kind::Reply, prefix, reply);
            }
            Some(false) => self.evaluate(now, prefix, Some(from)),
            None => self.queue_route(from, Kind::Reply, prefix, Advert::UNREACHABLE),
        }
    }

    pub(super) fn on_reply(&mut self, now: Instant, from: Ipv4Addr, prefix: Prefix) {
        let Some(entry) = self.topology.get_mut(&prefix) else {
            return;
        };
        match &mut entry.active {
            Some(active) => {
                active.sia_sent.remove(&from);
                if active.replies.remove(&from) && active.replies.is_empty() {
                    self.go_passive(now, prefix);
                }
            }
            None => self.evaluate(now, prefix, None),
        }
    }

    pub(super) fn on_sia_query(&mut self, now: Instant, from: Ipv4Addr, prefix: Prefix) {
        let owed = self
            .topology
            .get(&prefix)
            .and_then(|e| e.active.as_ref())
            .is_some_and(|a| a.origin == Some(from));
        let mut reply = self.reply_for(prefix, from);
        if owed {
            // Still waiting on our own Replies: say so, the Reply comes later.
            reply.metric.flags |= ROUTE_FLAG_ACTIVE;
        }
        self.queue_route(from, Kind::SiaReply, prefix, reply);
        if self
            .topology
            .get(&prefix)
            .is_some_and(|e| e.active.is_none())
        {
            self.evaluate(now, prefix, None);
        }
    }

    /// Recomputes a passive route after a change; `querier` is owed a Reply.
    pub(super) fn evaluate(&mut self, now: Instant, prefix: Prefix, querier: Option<Ipv4Addr>) {
        let Some(entry) = self.topology.get(&prefix) else {
            return;
        };
        if entry.active.is_some() {
            return;
        }
        if let Some(choice) = entry.best(Some(entry.fd)) {
            self.commit(prefix, Some(choice));
            if let Some(entry) = self.topology.get_mut(&prefix) {
                entry.fd = entry.fd.min(choice.distance);
            }
            if let Some(q) = querier {
                let reply = self.reply_for(prefix, q);
                self.queue_route(q, Kind::Reply, prefix, reply);
            }
            return;
        }
        let old = entry.successor;
        if old.is_none() && entry.paths.is_empty() {
            // Nothing known: nothing to compute.
            self.commit(prefix, None);
            if let Some(q) = querier {
                self.queue_route(q, Kind::Reply, prefix, Advert::UNREACHABLE);
            }
            return;
        }
        // No feasible successor: the current successor's distance (if it still has a path)
        // is what we say while active.
        let current = match old {
            Some(Via::Neighbor(s)) => entry.paths.get(&s).map(|p| Entry::choice(s, p)),
            _ => None,
        };
        let targets: BTreeSet<Ipv4Addr> =
            if self.config.split_horizon && matches!(old, Some(Via::Neighbor(_))) {
                // Learned over the tunnel, the only interface: split horizon keeps the Query in.
                BTreeSet::new()
            } else {
                self.peers
                    .iter()
                    .filter(|(addr, p)| {
                        p.init_acked
                            && Some(**addr) != querier
                            && self.hello.get(**addr).is_some_and(|n| n.stub.is_none())
                    })
                    .map(|(addr, _)| *addr)
                    .collect()
            };
        if targets.is_empty() {
            // Active and passive at once: the best of what is known, fresh FD.
            if let Some(entry) = self.topology.get_mut(&prefix) {
                entry.fd = INFINITY;
            }
            let choice = self.topology.get(&prefix).and_then(|e| e.best(None));
            self.commit(prefix, choice);
            if let Some(entry) = self.topology.get_mut(&prefix) {
                entry.fd = choice.map_or(INFINITY, |c| c.distance);
            }
            if let Some(q) = querier {
                let reply = self.reply_for(prefix, q);
                self.queue_route(q, Kind::Reply, prefix, reply);
            }
            return;
        }
        // Go active.
        self.commit(prefix, current);
        let query = Advert {
            metric: current.map_or(UNREACHABLE, |c| c.metric),
            next_hop: Ipv4Addr::UNSPECIFIED,
            external: current.and_then(|c| c.external),
        };
        for t in &targets {
            self.queue_route(*t, Kind::Query, prefix, query);
        }
        if let Some(entry) = self.topology.get_mut(&prefix) {
            for t in &targets {
                if query.metric.is_unreachable() {
                    entry.told.remove(t);
                } else {
                    entry.told.insert(*t, query);
                }
            }
            entry.active = Some(Active {
                origin: querier,
                replies: targets,
                sia_sent: BTreeSet::new(),
                sia_rounds: 0,
            });
        }
        self.timers
            .set(Timer::Active(prefix), now + self.config.active_time.div(2));
    }

    /// The last Reply is in: the best path of all, with a fresh FD.
    pub(super) fn go_passive(&mut self, _now: Instant, prefix: Prefix) {
        self.timers.stop(Timer::Active(prefix));
        let Some(entry) = self.topology.get_mut(&prefix) else {
            return;
        };
        let origin = entry.active.take().and_then(|a| a.origin);
        let choice = entry.best(None);
        entry.fd = choice.map_or(INFINITY, |c| c.distance);
        self.commit(prefix, choice);
        if let Some(o) = origin.filter(|o| self.peers.contains_key(o)) {
            let reply = self.reply_for(prefix, o);
            self.queue_route(o, Kind::Reply, prefix, reply);
        }
    }

    pub(super) fn active_timer(&mut self, now: Instant, prefix: Prefix) {
        let Some(active) = self
            .topology
            .get_mut(&prefix)
            .and_then(|e| e.active.as_mut())
        else {
            return;
        };
        active.sia_rounds += 1;
        let last_round = active.sia_rounds > SIA_ROUNDS;
        let stuck: Vec<Ipv4Addr> = active
            .replies
            .iter()
            .filter(|r| last_round || active.sia_sent.contains(r))
            .copied()
            .collect();
        let ask: Vec<Ipv4Addr> = active
            .replies
            .iter()
            .filter(|r| !stuck.contains(r))
            .copied()
            .collect();
        active.sia_sent = ask.iter().copied().collect();
        let (metric, external) = self
            .topology
            .get(&prefix)
            .map_or((UNREACHABLE, None), |e| (e.metric, e.external));
        for a in ask {
            let advert = Advert {
                metric,
                next_hop: Ipv4Addr::UNSPECIFIED,
                external,
            };
            self.queue_route(a, Kind::SiaQuery, prefix, advert);
        }
        self.timers
            .set(Timer::Active(prefix), now + self.config.active_time.div(2));
        for s in stuck {
            self.events.push_back(EigrpEvent::StuckInActive {
                prefix,
                neighbor: s,
            });
            self.reset(now, s, DownReason::StuckInActive);
        }
    }

    /// Makes `choice` the route's successor (or none), with RIB events.
    pub(super) fn commit(&mut self, prefix: Prefix, choice: Option<Choice>) {
        let Some(entry) = self.topology.get_mut(&prefix) else {
            return;
        };
        let before = entry.successor.map(|via| Choice {
            via,
            distance: entry.distance,
            metric: entry.metric,
            next_hop: entry.next_hop,
            external: entry.external,
        });
        match choice {
            Some(c) => {
                entry.successor = Some(c.via);
                entry.distance = c.distance;
                entry.metric = c.metric;
                entry.next_hop = c.next_hop;
                entry.external = c.external;
            }
            None => {
                entry.successor = None;
                entry.distance = INFINITY;
                entry.metric = UNREACHABLE;
                entry.next_hop = Ipv4Addr::UNSPECIFIED;
                entry.external = None;
            }
        }
        if before != choice {
            self.dirty.insert(prefix);
        }
        let rib = match entry.successor {
            Some(Via::Neighbor(_)) if entry.distance != INFINITY => {
                Some((entry.next_hop, entry.distance))
            }
            _ => None,
        };
        if rib == entry.installed {
            return;
        }
        let event = match (entry.installed, rib) {
            (None, Some((next_hop, metric))) => EigrpEvent::RouteInstalled {
                prefix,
                next_hop,
                metric,
            },
            (Some(_), Some((next_hop, metric))) => EigrpEvent::RouteChanged {
                prefix,
                next_hop,
                metric,
            },
            _ => EigrpEvent::RouteWithdrawn { prefix },
        };
        entry.installed = rib;
        self.events.push_back(event);
    }

    /// What an Update to `to` says about the entry, if anything (split horizon, stub, active).
    pub(super) fn advert_for(&self, entry: &Entry, to: Ipv4Addr) -> Option<Advert> {
        if entry.active.is_some() || entry.distance == INFINITY {
            return None;
        }
        match entry.successor? {
            Via::Connected => Some(Advert {
                metric: entry.metric,
                next_hop: Ipv4Addr::UNSPECIFIED,
                external: entry.external,
            }),
            Via::Neighbor(s) => {
                if self.config.split_horizon || self.config.hello.stub.is_some() {
                    return None;
                }
                let next_hop = if self.config.next_hop_self || entry.next_hop == to {
                    Ipv4Addr::UNSPECIFIED
                } else if entry.next_hop.is_unspecified() {
                    s
                } else {
                    entry.next_hop
                };
                Some(Advert {
                    metric: entry.metric,
                    next_hop,
                    external: entry.external,
                })
            }
        }
    }

    /// What a Reply to `to` says: our distance, poisoned where split horizon says so.
    pub(super) fn reply_for(&self, prefix: Prefix, to: Ipv4Addr) -> Advert {
        let Some(entry) = self.topology.get(&prefix) else {
            return Advert::UNREACHABLE;
        };
        if entry.active.is_some() {
            return Advert {
                metric: entry.metric,
                next_hop: Ipv4Addr::UNSPECIFIED,
                external: entry.external,
            };
        }
        let mut passive = entry.clone();
        passive.active = None;
        self.advert_for(&passive, to).unwrap_or(Advert::UNREACHABLE)
    }

    pub(super) fn queue_route(&mut self, to: Ipv4Addr, kind: Kind, prefix: Prefix, advert: Advert) {
        if let Some(peer) = self.peers.get_mut(&to) {
            peer.outgoing.insert((kind, prefix), advert);
        }
    }
}
