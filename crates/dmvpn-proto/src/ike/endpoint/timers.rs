//! The endpoint's timers: retransmission, lifetimes and rekeying, DPD, and the Deletes they send.

use super::*;

impl<R: Entropy> Endpoint<R> {
    /// When [`Endpoint::handle_timeout`] must run next.
    #[must_use]
    pub fn poll_timeout(&self) -> Option<Instant> {
        let mut next: Option<Instant> = None;
        let mut take = |at: Option<Instant>| {
            if let Some(at) = at {
                next = Some(next.map_or(at, |n| n.min(at)));
            }
        };
        for sa in &self.sas {
            take(sa.state.out().and_then(|f| f.next_at));
            if let Some(live) = sa.live() {
                take(live.hard_at);
                if !live.rekeyed && sa.role == Role::Initiator {
                    take(live.soft_at);
                }
            }
            for q in &sa.quick {
                take(q.out.next_at);
            }
            take(self.dpd_deadline(sa));
        }
        for c in &self.children {
            take(Some(c.hard_at));
            if !c.rekeyed {
                take(c.soft_at);
            }
        }
        next
    }

    fn dpd_deadline(&self, sa: &IkeSa) -> Option<Instant> {
        let config = self.config.dpd?;
        let dpd = sa.live()?.dpd.as_ref()?;
        if let Some((_, _, at)) = dpd.outstanding {
            return Some(at);
        }
        config.periodic.then(|| dpd.last_heard + config.interval)
    }

    /// Runs the retransmissions, lifetimes and DPD due at `now`.
    pub fn handle_timeout(&mut self, now: Instant) {
        let mut i = 0;
        while i < self.sas.len() {
            let mut sa = self.sas.remove(i);
            self.sa_timeout(now, &mut sa);
            if sa.dead {
                continue;
            }
            self.sas.insert(i, sa);
            i += 1;
        }
        self.child_timeouts(now);
    }

    fn sa_timeout(&mut self, now: Instant, sa: &mut IkeSa) {
        let max = self.config.retransmit.max_attempts;
        let interval = self.config.retransmit.interval;
        // Phase-1 retransmission.
        if let Some(flight) = sa.state.out_mut()
            && flight.next_at.is_some_and(|at| at <= now)
        {
            if flight.attempts >= max {
                sa.dead = true;
                self.events.push_back(Event::Phase1Failed {
                    peer: sa.peer,
                    reason: Failure::Retransmissions,
                });
                return;
            }
            flight.attempts += 1;
            flight.next_at = Some(now + interval);
            let bytes = flight.bytes.clone();
            self.send(sa.peer, bytes);
        }
        // Quick Mode retransmission.
        let mut failed = Vec::new();
        for q in &mut sa.quick {
            if q.out.next_at.is_some_and(|at| at <= now) {
                if q.out.attempts >= max {
                    failed.push(q.message_id);
                    continue;
                }
                q.out.attempts += 1;
                q.out.next_at = Some(now + interval);
                self.send(sa.peer, q.out.bytes.clone());
            }
        }
        for id in failed {
            sa.quick.retain(|q| q.message_id != id);
            self.events.push_back(Event::ChildFailed {
                peer: sa.peer,
                reason: Failure::Retransmissions,
            });
        }
        // Lifetime.
        let Some(live) = sa.live() else {
            return;
        };
        let rekey =
            sa.role == Role::Initiator && !live.rekeyed && live.soft_at.is_some_and(|at| at <= now);
        if live.hard_at.is_some_and(|at| at <= now) {
            let pair = cookie_pair(sa.cky_i, sa.cky_r);
            let mut chain = Chain::new();
            chain.push(
                PayloadType::DELETE,
                &wire::delete(ProtocolId::ISAKMP, 16, &pair),
            );
            self.send_informational(sa, &chain);
            sa.dead = true;
            self.events.push_back(Event::Phase1Deleted {
                peer: sa.peer,
                initiator_cookie: sa.cky_i,
                reason: DeleteReason::Expired,
            });
            return;
        }
        if let (true, Some(live)) = (rekey, sa.live_mut()) {
            live.rekeyed = true;
            if self.children.iter().any(|c| c.peer == sa.peer) {
                let _ = self.start_main(now, sa.peer, false);
            }
        }
        // DPD.
        if let (Some(config), Some(deadline)) = (self.config.dpd, self.dpd_deadline(sa))
            && deadline <= now
        {
            let attempts = sa
                .live()
                .and_then(|live| live.dpd.as_ref())
                .and_then(|d| d.outstanding)
                .map(|(_, attempts, _)| attempts);
            match attempts {
                Some(attempts) if attempts >= config.max_retries => {
                    let peer = sa.peer;
                    sa.dead = true;
                    self.events.push_back(Event::Phase1Deleted {
                        peer,
                        initiator_cookie: sa.cky_i,
                        reason: DeleteReason::DeadPeer,
                    });
                    self.drop_peer_sas(peer, DeleteReason::DeadPeer);
                    self.drop_children(peer, DeleteReason::DeadPeer, false);
                    self.events.push_back(Event::PeerDown { peer });
                }
                _ => self.probe(now, sa),
            }
        }
    }

    pub(super) fn probe(&mut self, now: Instant, sa: &mut IkeSa) {
        let Some(config) = self.config.dpd else {
            return;
        };
        let Some(dpd) = sa.dpd_mut() else { return };
        dpd.seq = dpd.seq.wrapping_add(1);
        let seq = dpd.seq;
        dpd.outstanding = Some(match dpd.outstanding {
            Some((first, attempts, _)) => (first, attempts + 1, now + config.retry),
            None => (seq, 0, now + config.retry),
        });
        let (pair, seq) = (cookie_pair(sa.cky_i, sa.cky_r), seq.to_be_bytes());
        let body = wire::notify(ProtocolId::ISAKMP, NotifyType::R_U_THERE, &pair, &seq);
        let mut chain = Chain::new();
        chain.push(PayloadType::NOTIFY, &body);
        self.send_informational(sa, &chain);
    }

    fn child_timeouts(&mut self, now: Instant) {
        let mut expired = Vec::new();
        let mut rekey = Vec::new();
        for c in &mut self.children {
            if c.hard_at <= now {
                expired.push(c.clone());
            } else if !c.rekeyed && c.soft_at.is_some_and(|at| at <= now) {
                c.rekeyed = true;
                rekey.push(c.peer);
            }
        }
        for c in expired {
            self.children.retain(|x| x.inbound_spi != c.inbound_spi);
            self.send_esp_delete(c.peer, &[c.inbound_spi]);
            self.events.push_back(Event::ChildDeleted {
                peer: c.peer,
                inbound_spi: c.inbound_spi,
                outbound_spi: c.outbound_spi,
                reason: DeleteReason::Expired,
            });
        }
        for peer in rekey {
            let _ = self.negotiate(now, peer);
        }
    }

    fn send_esp_delete(&mut self, peer: Ipv4Addr, spis: &[u32]) {
        let Some(i) = self.newest(peer) else { return };
        let spis = esp_spis(spis);
        let mut chain = Chain::new();
        chain.push(
            PayloadType::DELETE,
            &wire::delete(ProtocolId::ESP, 4, &spis),
        );
        let mut sa = self.sas.remove(i);
        self.send_informational(&mut sa, &chain);
        self.sas.insert(i, sa);
    }

    /// Removes every IPsec SA pair with `peer`, optionally telling it.
    pub(super) fn drop_children(&mut self, peer: Ipv4Addr, reason: DeleteReason, notify: bool) {
        let gone: Vec<Child> = self
            .children
            .iter()
            .filter(|c| c.peer == peer)
            .cloned()
            .collect();
        if gone.is_empty() {
            return;
        }
        self.children.retain(|c| c.peer != peer);
        if notify {
            let spis: Vec<u32> = gone.iter().map(|c| c.inbound_spi).collect();
            self.send_esp_delete(peer, &spis);
        }
        for c in gone {
            self.events.push_back(Event::ChildDeleted {
                peer,
                inbound_spi: c.inbound_spi,
                outbound_spi: c.outbound_spi,
                reason,
            });
        }
    }

    /// Removes every IKE SA with `peer` still in the table (the caller holds the current one).
    pub(super) fn drop_peer_sas(&mut self, peer: Ipv4Addr, reason: DeleteReason) {
        let events = &mut self.events;
        self.sas.retain(|sa| {
            if sa.peer != peer {
                return true;
            }
            if sa.established() {
                events.push_back(Event::Phase1Deleted {
                    peer,
                    initiator_cookie: sa.cky_i,
                    reason,
                });
            }
            false
        });
    }
}
