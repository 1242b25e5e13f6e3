//! The process's bounds (see [`crate::limits`]): neighbours, and routes learnt per neighbour and
//! in all (IOS's `maximum-prefix`). A route past a limit is not learnt at all: no topology entry
//! is made for it, so a neighbour flooding routes costs a count, not memory.

use core::net::Ipv4Addr;

use super::{Eigrp, Prefix};
use crate::limits::{Limit, Tally};
use crate::time::Instant;

impl Eigrp {
    /// What the limits refused.
    #[must_use]
    pub const fn limits(&self) -> &Tally {
        &self.tally
    }

    /// How many routes (paths) the process holds from `neighbor`.
    #[must_use]
    pub fn prefixes_from(&self, neighbor: Ipv4Addr) -> usize {
        self.prefixes.get(&neighbor).copied().unwrap_or(0)
    }

    /// How many routes (paths) the process holds from all neighbours.
    #[must_use]
    pub const fn prefixes_learnt(&self) -> usize {
        self.paths_total
    }

    /// Whether a Hello from `from` may make a new neighbour.
    pub(super) fn admit_neighbor(&mut self, now: Instant, from: Ipv4Addr) -> bool {
        let max = self.config.limits.neighbors;
        if self.hello.get(from).is_some() || self.hello.len() < max {
            return true;
        }
        self.tally.refuse(now, Limit::EigrpNeighbors, from, max);
        false
    }

    /// Whether `from` already has a path to `prefix` (a change to it is not a new route).
    pub(super) fn has_path(&self, prefix: Prefix, from: Ipv4Addr) -> bool {
        self.topology
            .get(&prefix)
            .is_some_and(|e| e.paths.get(&from).is_some())
    }

    /// Whether a new route from `from` may be learnt.
    pub(super) fn admit_route(&mut self, now: Instant, from: Ipv4Addr) -> bool {
        let limits = self.config.limits;
        if self.prefixes_from(from) >= limits.per_neighbor {
            self.tally
                .refuse(now, Limit::EigrpPerNeighbor, from, limits.per_neighbor);
            return false;
        }
        let max = limits.total;
        if self.paths_total >= max.max {
            self.tally.refuse(now, Limit::EigrpTotal, from, max.max);
            return max.warning_only;
        }
        if self.paths_total >= max.threshold() && !self.over_threshold {
            self.over_threshold = true;
            self.tally
                .refuse(now, Limit::EigrpThreshold, from, max.threshold());
        }
        true
    }

    pub(super) fn path_added(&mut self, from: Ipv4Addr) {
        *self.prefixes.entry(from).or_insert(0) += 1;
        self.paths_total += 1;
    }

    pub(super) fn path_removed(&mut self, from: Ipv4Addr) {
        if let Some(n) = self.prefixes.get_mut(&from) {
            *n = n.saturating_sub(1);
            self.paths_total = self.paths_total.saturating_sub(1);
            if *n == 0 {
                self.prefixes.remove(&from);
            }
        }
        self.rearm_threshold();
    }

    /// `neighbor` went down: its paths are gone.
    pub(super) fn forget_paths(&mut self, neighbor: Ipv4Addr) {
        let n = self.prefixes.remove(&neighbor).unwrap_or(0);
        self.paths_total = self.paths_total.saturating_sub(n);
        self.rearm_threshold();
    }

    fn rearm_threshold(&mut self) {
        if self.paths_total < self.config.limits.total.threshold() {
            self.over_threshold = false;
        }
    }
}
