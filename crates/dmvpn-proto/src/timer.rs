//! [`TimerTable`]: deadlines by key, with the earliest one and the expired ones in `O(log n)`.
//!
//! A machine with a fixed set of timers names them with an enum (quinn's `Timer`); one with a
//! timer per peer or per SA keys them by address or SPI, e.g. `TimerTable<(u32, SaTimer)>`. The
//! table answers the two questions of the sans-IO loop: when must
//! [`handle_timeout`](crate::nhrp::Server::handle_timeout) run next ([`TimerTable::next`]) and which timers
//! have fired by `now` ([`TimerTable::pop_expired`]).

use alloc::collections::{BTreeMap, BTreeSet};

use crate::time::Instant;

/// The earliest of some machines' deadlines (a machine with none gives `None`): what a
/// machine made of machines answers for `poll_timeout`.
pub(crate) fn earliest(deadlines: impl IntoIterator<Item = Option<Instant>>) -> Option<Instant> {
    deadlines.into_iter().flatten().min()
}

/// Deadlines keyed by `K`, at most one per key.
#[derive(Clone, Debug)]
pub struct TimerTable<K> {
    by_key: BTreeMap<K, Instant>,
    by_time: BTreeSet<(Instant, K)>,
}

impl<K> Default for TimerTable<K> {
    fn default() -> Self {
        Self {
            by_key: BTreeMap::new(),
            by_time: BTreeSet::new(),
        }
    }
}

impl<K: Copy + Ord> TimerTable<K> {
    /// An empty table.
    #[must_use]
    pub fn new() -> Self {
        Self::default()
    }

    /// Arms `key` to fire at `at`, replacing its previous deadline.
    pub fn set(&mut self, key: K, at: Instant) {
        if let Some(old) = self.by_key.insert(key, at) {
            self.by_time.remove(&(old, key));
        }
        self.by_time.insert((at, key));
    }

    /// Disarms `key` and returns the deadline it had.
    pub fn stop(&mut self, key: K) -> Option<Instant> {
        let old = self.by_key.remove(&key)?;
        self.by_time.remove(&(old, key));
        Some(old)
    }

    /// The deadline of `key`, if armed.
    #[must_use]
    pub fn get(&self, key: K) -> Option<Instant> {
        self.by_key.get(&key).copied()
    }

    /// The earliest deadline.
    #[must_use]
    pub fn next(&self) -> Option<Instant> {
        self.by_time.first().map(|(at, _)| *at)
    }

    /// Disarms and returns the earliest timer that is due at `now` (deadline `<= now`), with its
    /// deadline; call it until it returns `None`.
    pub fn pop_expired(&mut self, now: Instant) -> Option<(K, Instant)> {
        let &(at, key) = self.by_time.first()?;
        if at > now {
            return None;
        }
        self.by_time.pop_first();
        self.by_key.remove(&key);
        Some((key, at))
    }

    /// How many timers are armed.
    #[must_use]
    pub fn len(&self) -> usize {
        self.by_key.len()
    }

    /// Whether no timer is armed.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.by_key.is_empty()
    }

    /// The armed timers in deadline order.
    pub fn iter(&self) -> impl Iterator<Item = (K, Instant)> + '_ {
        self.by_time.iter().map(|&(at, key)| (key, at))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Clone, Copy, Debug, Eq, Ord, PartialEq, PartialOrd)]
    enum Timer {
        Hard,
        Soft,
    }

    fn at(ms: i64) -> Instant {
        Instant::from_millis(ms)
    }

    #[test]
    fn earliest_and_replace() {
        let mut table = TimerTable::new();
        assert_eq!(table.next(), None);
        assert!(table.is_empty());
        table.set((7, Timer::Hard), at(300));
        table.set((7, Timer::Soft), at(200));
        table.set((9, Timer::Soft), at(250));
        assert_eq!(table.next(), Some(at(200)));
        table.set((7, Timer::Soft), at(400));
        assert_eq!(table.next(), Some(at(250)));
        assert_eq!(table.get((7, Timer::Soft)), Some(at(400)));
        assert_eq!(table.len(), 3);
        assert_eq!(table.stop((9, Timer::Soft)), Some(at(250)));
        assert_eq!(table.stop((9, Timer::Soft)), None);
        assert_eq!(table.next(), Some(at(300)));
        let order: Vec<_> = table.iter().collect();
        assert_eq!(
            order,
            [((7, Timer::Hard), at(300)), ((7, Timer::Soft), at(400))]
        );
    }

    #[test]
    fn pop_expired_in_deadline_order() {
        let mut table = TimerTable::new();
        table.set(3u8, at(30));
        table.set(1, at(10));
        table.set(2, at(20));
        assert_eq!(table.pop_expired(at(5)), None);
        assert_eq!(table.pop_expired(at(20)), Some((1, at(10))));
        assert_eq!(table.pop_expired(at(20)), Some((2, at(20))));
        assert_eq!(table.pop_expired(at(20)), None);
        assert_eq!(table.next(), Some(at(30)));
        assert_eq!(table.len(), 1);
    }

    #[test]
    fn model_check() {
        // Against a plain map: after any sequence of set/stop/pop, `next` is the minimum and
        // `pop_expired` returns exactly the due keys.
        bolero::check!()
            .with_type::<Vec<(u8, u8, u16)>>()
            .for_each(|ops| {
                let mut table = TimerTable::new();
                let mut model = BTreeMap::new();
                for &(op, key, t) in ops {
                    let key = key % 8;
                    let t = at(i64::from(t));
                    match op % 3 {
                        0 => {
                            table.set(key, t);
                            model.insert(key, t);
                        }
                        1 => assert_eq!(table.stop(key), model.remove(&key)),
                        _ => {
                            let mut due: Vec<_> = model
                                .iter()
                                .filter(|(_, at)| **at <= t)
                                .map(|(k, at)| (*k, *at))
                                .collect();
                            due.sort_by_key(|&(k, at)| (at, k));
                            let mut popped = Vec::new();
                            while let Some(x) = table.pop_expired(t) {
                                popped.push(x);
                            }
                            assert_eq!(popped, due);
                            model.retain(|_, at| *at > t);
                        }
                    }
                    assert_eq!(table.next(), model.values().min().copied());
                    assert_eq!(table.len(), model.len());
                }
            });
    }
}
