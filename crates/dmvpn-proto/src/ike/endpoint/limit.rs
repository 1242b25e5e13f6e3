//! Half-open and total IKE SAs (see [`crate::limits`]): what a responder takes from Main Mode 1s.

use core::net::Ipv4Addr;

use super::{Endpoint, Entropy, MAX_SAS, Role};
use crate::limits::{Limit, Tally};
use crate::time::Instant;

impl<R: Entropy> Endpoint<R> {
    /// What the limits refused.
    #[must_use]
    pub const fn limits(&self) -> &Tally {
        &self.tally
    }

    /// How many IKE SAs are negotiating Main Mode (either role).
    #[must_use]
    pub fn half_open(&self) -> usize {
        self.sas
            .iter()
            .filter(|sa| sa.state.main_mode().is_some())
            .count()
    }

    /// Whether a Main Mode 1 from `from` may make a new responder SA. A peer at its
    /// [`IkeLimits::half_open_per_peer`](crate::limits::IkeLimits::half_open_per_peer) has its
    /// oldest half-open responder SA replaced (counted): a spoke that restarts is not locked out
    /// by its own stale attempts, and one that starts again every second holds no more.
    pub(super) fn admit_responder(&mut self, now: Instant, from: Ipv4Addr) -> bool {
        let limits = self.config.limits;
        let sas = limits.sas.min(MAX_SAS);
        let negotiating =
            |sa: &super::IkeSa| sa.role == Role::Responder && sa.state.main_mode().is_some();
        let mine = self
            .sas
            .iter()
            .filter(|sa| sa.peer == from && negotiating(sa))
            .count();
        if mine >= limits.half_open_per_peer.max(1) {
            self.tally.refuse(
                now,
                Limit::IkeHalfOpenPerPeer,
                from,
                limits.half_open_per_peer,
            );
            if let Some(i) = (self.sas.iter()).position(|sa| sa.peer == from && negotiating(sa)) {
                self.sas.remove(i);
            }
            return true;
        }
        if self.half_open() >= limits.half_open {
            self.tally
                .refuse(now, Limit::IkeHalfOpen, from, limits.half_open);
            return false;
        }
        if self.sas.len() >= sas {
            self.tally.refuse(now, Limit::IkeSas, from, sas);
            return false;
        }
        true
    }
}
