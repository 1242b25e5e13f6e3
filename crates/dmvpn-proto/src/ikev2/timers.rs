//! Time: retransmission with back-off (RFC 7296 §2.1), half-open expiry, rekeys at the soft
//! lifetimes, Child SA expiry and liveness checks (§2.4); the queue of requests behind the
//! window of one (§2.3) and the caller's requests.

use alloc::vec::Vec;

use core::net::Ipv4Addr;

use dmvpn_isakmp::v2::ExchangeType;

use super::endpoint::{Kind, Queued, State};
use super::wire::Chain;
use super::{DeleteReason, Endpoint, Entropy, Error, Event, Failure, Transmit};
use crate::time::Instant;

impl<E: Entropy> Endpoint<E> {
    /// When [`Endpoint::handle_timeout`] must run next.
    #[must_use]
    pub fn poll_timeout(&self) -> Option<Instant> {
        let mut next: Option<Instant> = None;
        let mut consider = |t: Instant| next = Some(next.map_or(t, |n| n.min(t)));
        for sa in &self.sas {
            if let Some(request) = &sa.outstanding {
                consider(request.retransmit_at);
            }
            match sa.state {
                State::HalfOpen { expires } => consider(expires),
                State::Established { rekey_at, dpd_at } => {
                    consider(rekey_at);
                    if let Some(at) = dpd_at {
                        consider(at);
                    }
                    for child in &sa.children {
                        if !child.rekeying {
                            consider(child.rekey_at);
                        }
                        consider(child.expires_at);
                    }
                }
                State::InitSent | State::AuthSent | State::Closing => {}
            }
        }
        next
    }

    /// Runs what is due at `now`: retransmissions, expiries, rekeys, liveness checks.
    pub fn handle_timeout(&mut self, now: Instant) {
        let mut i = 0;
        while i < self.sas.len() {
            if self.retransmit(now, i) {
                // SA `i` was removed; another took its index.
                continue;
            }
            let sa = &mut self.sas[i];
            match sa.state {
                State::HalfOpen { expires } if expires <= now => {
                    self.sas.swap_remove(i);
                    continue;
                }
                State::Established { rekey_at, dpd_at } => {
                    let mut due: Vec<Queued> = Vec::new();
                    let mut rekey_at = rekey_at;
                    let mut dpd_at = dpd_at;
                    if rekey_at <= now {
                        due.push(Queued::RekeyIke);
                        rekey_at = now + self.config.ike_lifetime;
                    }
                    if let (Some(at), Some(interval)) = (dpd_at, self.config.dpd)
                        && at <= now
                    {
                        if sa.last_heard + interval <= now {
                            due.push(Queued::Liveness);
                            dpd_at = Some(now + interval);
                        } else {
                            dpd_at = Some(sa.last_heard + interval);
                        }
                    }
                    sa.state = State::Established { rekey_at, dpd_at };
                    for child in &mut sa.children {
                        if child.expires_at <= now {
                            due.push(Queued::DeleteChild(child.sa.inbound.spi));
                            child.expires_at = Instant::MAX;
                            child.rekeying = true;
                        } else if !child.rekeying && child.rekey_at <= now {
                            due.push(Queued::RekeyChild(child.sa.inbound.spi));
                            child.rekeying = true;
                            child.rekey_at = child.expires_at;
                        }
                    }
                    for what in due {
                        if !sa.queue.contains(&what) {
                            sa.queue.push_back(what);
                        }
                    }
                }
                _ => {}
            }
            i += 1;
        }
        self.next_queued(now);
    }

    /// Retransmits SA `i`'s outstanding request if due, or gives up on it; true if the SA was
    /// removed.
    fn retransmit(&mut self, now: Instant, i: usize) -> bool {
        let retransmit = self.config.retransmit;
        let sa = &mut self.sas[i];
        let Some(request) = &mut sa.outstanding else {
            return false;
        };
        if request.retransmit_at > now {
            return false;
        }
        if request.attempt < retransmit.tries {
            request.attempt += 1;
            request.retransmit_at = now + retransmit.wait(request.attempt);
            self.transmits
                .push_back(Transmit::new(sa.peer, crate::Ike, request.bytes.clone()));
            return false;
        }
        let peer = sa.peer;
        match (&request.kind, sa.state) {
            (Kind::Init | Kind::Auth { .. }, _) => self.fail(i, Failure::Retransmissions),
            (_, State::Closing) => self.remove_sa(i, DeleteReason::Local),
            _ => {
                self.remove_sa(i, DeleteReason::DeadPeer);
                self.events.push_back(Event::PeerDead { peer });
            }
        }
        true
    }

    /// Queues `what` on the established SA with `peer` and sends it if the window is free.
    pub(super) fn enqueue(
        &mut self,
        now: Instant,
        peer: Ipv4Addr,
        what: Queued,
    ) -> Result<(), Error> {
        let Some(i) = self
            .sas
            .iter()
            .position(|sa| sa.peer == peer && matches!(sa.state, State::Established { .. }))
        else {
            return Err(Error::NotEstablished { peer });
        };
        if !self.sas[i].queue.contains(&what) {
            self.sas[i].queue.push_back(what);
        }
        self.next_queued(now);
        Ok(())
    }

    /// Starts the next queued request of every SA whose window is free.
    pub(super) fn next_queued(&mut self, now: Instant) {
        let mut i = 0;
        while i < self.sas.len() {
            if self.sas[i].outstanding.is_none()
                && let Some(what) = self.sas[i].queue.pop_front()
            {
                // A request that cannot start (its Child SA went away) is dropped.
                let _ = self.start_queued(now, i, what);
                continue;
            }
            i += 1;
        }
    }

    fn start_queued(&mut self, now: Instant, i: usize, what: Queued) -> Result<(), Error> {
        match what {
            Queued::RekeyChild(spi) => self.start_rekey_child(now, i, spi),
            Queued::RekeyIke => self.start_rekey_ike(now, i),
            Queued::DeleteChild(spi) => self.start_delete_child(now, i, &[spi]),
            Queued::DeleteIke => self.start_delete_ike(now, i),
            Queued::Liveness => self.send_request(
                now,
                i,
                ExchangeType::INFORMATIONAL,
                &Chain::default(),
                Kind::Liveness,
            ),
        }
    }

    /// Rekeys the Child SA whose inbound SPI is `inbound_spi` (e.g. on the SAD's byte soft
    /// limit); it happens by itself at the soft lifetime.
    ///
    /// # Errors
    /// [`Error::NotEstablished`] without an established IKE SA with `peer`.
    pub fn rekey_child(
        &mut self,
        now: Instant,
        peer: Ipv4Addr,
        inbound_spi: u32,
    ) -> Result<(), Error> {
        self.enqueue(now, peer, Queued::RekeyChild(inbound_spi))
    }

    /// Rekeys the IKE SA with `peer` (it happens by itself at 90 % of the lifetime).
    ///
    /// # Errors
    /// [`Error::NotEstablished`] without an established IKE SA with `peer`.
    pub fn rekey_ike(&mut self, now: Instant, peer: Ipv4Addr) -> Result<(), Error> {
        self.enqueue(now, peer, Queued::RekeyIke)
    }

    /// Deletes one Child SA pair (INFORMATIONAL with a Delete payload).
    ///
    /// # Errors
    /// [`Error::NotEstablished`] without an established IKE SA with `peer`.
    pub fn delete_child(
        &mut self,
        now: Instant,
        peer: Ipv4Addr,
        inbound_spi: u32,
    ) -> Result<(), Error> {
        self.enqueue(now, peer, Queued::DeleteChild(inbound_spi))
    }

    /// Deletes the IKE SA with `peer` and its Child SAs.
    ///
    /// # Errors
    /// [`Error::NotEstablished`] without an established IKE SA with `peer`.
    pub fn delete_peer(&mut self, now: Instant, peer: Ipv4Addr) -> Result<(), Error> {
        self.enqueue(now, peer, Queued::DeleteIke)
    }

    /// Checks now that `peer` is alive (an empty INFORMATIONAL request).
    ///
    /// # Errors
    /// [`Error::NotEstablished`] without an established IKE SA with `peer`.
    pub fn check_liveness(&mut self, now: Instant, peer: Ipv4Addr) -> Result<(), Error> {
        self.enqueue(now, peer, Queued::Liveness)
    }
}
