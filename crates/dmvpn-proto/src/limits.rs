//! Bounds on the state a peer can make this router keep, for a peer that has the pre-shared key
//! and misbehaves as much as for one that has nothing (RFC 2332 §5.2.3 lets a server refuse a
//! registration with code 5, "Insufficient Resources"; IOS has `crypto call admission limit` and
//! EIGRP's `maximum-prefix` for the same purpose).
//!
//! | limit | default | IOS command | what happens |
//! |---|---|---|---|
//! | [`NhrpLimits::per_nbma`] | 16 | — | a further registration from that NBMA address gets CIE code 5 |
//! | [`NhrpLimits::total`] | 16 384 | — | a further registration gets CIE code 5 |
//! | [`NhrpLimits::rate`] | 10 a second per NBMA address | — | further Registration Requests are dropped unanswered |
//! | [`EigrpLimits::neighbors`] | 4 096 | — | a Hello from a further neighbour is ignored |
//! | [`EigrpLimits::per_neighbor`] | 10 000 routes | (`neighbor … maximum-prefix` is for static neighbours only) | further routes from that neighbour are not learnt |
//! | [`EigrpLimits::total`] | 100 000 routes | `maximum-prefix N [T] [warning-only]` (`router eigrp`) | further routes are not learnt (with `warning-only`: learnt, logged) |
//! | [`IkeLimits::half_open_per_peer`] | 4 | — | a further Main Mode 1 from that peer replaces its oldest half-open SA |
//! | [`IkeLimits::half_open`] | 256 | `crypto call admission limit ike in-negotiation-sa N` | a further Main Mode 1 is dropped |
//! | [`IkeLimits::sas`] | 4 096 | `crypto call admission limit ike sa N` | a further Main Mode 1 is dropped |
//!
//! Where IOS differs: past `maximum-prefix`, IOS tears the adjacency down and holds it down
//! for a while; here the neighbour stays up with the routes it had (its first ones), so that a
//! spoke flooding routes keeps its own reachability and the other spokes are not disturbed.
//!
//! Every refusal is counted in a [`Tally`] (`show counters`); the first refusal of a limit after
//! [`EPISODE_GAP`] without one starts an *episode*, which the router logs once
//! ([`Tally::episodes`], [`Tally::last`]).

use alloc::collections::BTreeMap;
use core::fmt;
use core::net::Ipv4Addr;

use crate::time::{Duration, Instant};

/// A limit.
#[derive(Clone, Copy, Debug, Eq, Hash, Ord, PartialEq, PartialOrd)]
#[non_exhaustive]
pub enum Limit {
    /// NHRP cache entries registered from one NBMA address.
    NhrpPerNbma,
    /// NHRP cache entries in all.
    NhrpTotal,
    /// Registration Requests from one NBMA address in a second.
    NhrpRate,
    /// EIGRP neighbours.
    EigrpNeighbors,
    /// EIGRP routes learnt from one neighbour.
    EigrpPerNeighbor,
    /// EIGRP routes learnt in all (`maximum-prefix`).
    EigrpTotal,
    /// EIGRP routes in all passed `maximum-prefix`'s warning threshold.
    EigrpThreshold,
    /// Half-open (negotiating) IKE SAs with one peer.
    IkeHalfOpenPerPeer,
    /// Half-open IKE SAs in all (`crypto call admission limit ike in-negotiation-sa`).
    IkeHalfOpen,
    /// IKE SAs in all (`crypto call admission limit ike sa`).
    IkeSas,
}

impl Limit {
    /// Every limit, in declaration order.
    pub const ALL: [Self; 10] = [
        Self::NhrpPerNbma,
        Self::NhrpTotal,
        Self::NhrpRate,
        Self::EigrpNeighbors,
        Self::EigrpPerNeighbor,
        Self::EigrpTotal,
        Self::EigrpThreshold,
        Self::IkeHalfOpenPerPeer,
        Self::IkeHalfOpen,
        Self::IkeSas,
    ];

    const fn index(self) -> usize {
        self as usize
    }
}

impl fmt::Display for Limit {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::NhrpPerNbma => "NHRP registrations per NBMA address",
            Self::NhrpTotal => "NHRP registrations",
            Self::NhrpRate => "NHRP Registration Requests per second per NBMA address",
            Self::EigrpNeighbors => "EIGRP neighbours",
            Self::EigrpPerNeighbor => "EIGRP routes per neighbour",
            Self::EigrpTotal => "EIGRP routes (maximum-prefix)",
            Self::EigrpThreshold => "EIGRP routes (maximum-prefix warning threshold)",
            Self::IkeHalfOpenPerPeer => "half-open IKE SAs per peer",
            Self::IkeHalfOpen => "half-open IKE SAs (call admission in-negotiation-sa)",
            Self::IkeSas => "IKE SAs (call admission sa)",
        })
    }
}

/// The first refusal of an episode.
#[derive(Clone, Copy, Debug, Eq, PartialEq)]
pub struct Notice {
    /// Which limit.
    pub limit: Limit,
    /// The peer (NBMA or tunnel address) whose message was refused.
    pub peer: Ipv4Addr,
    /// The limit's value.
    pub value: usize,
    /// When.
    pub at: Instant,
}

impl fmt::Display for Notice {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} limit {} reached by {}",
            self.limit, self.value, self.peer
        )
    }
}

/// Quiet time after which the next refusal of a limit starts a new episode.
pub const EPISODE_GAP: Duration = Duration::from_secs(10);

/// Refusals counted by limit, and the episodes they form.
#[derive(Clone, Debug, Default, Eq, PartialEq)]
pub struct Tally {
    refused: [u64; Limit::ALL.len()],
    episodes: [u64; Limit::ALL.len()],
    last_refused: [Option<Instant>; Limit::ALL.len()],
    last: Option<Notice>,
}

impl Tally {
    /// Counts one refusal; returns whether it starts an episode (to be logged).
    pub fn refuse(&mut self, now: Instant, limit: Limit, peer: Ipv4Addr, value: usize) -> bool {
        let i = limit.index();
        let (Some(refused), Some(episodes), Some(last)) = (
            self.refused.get_mut(i),
            self.episodes.get_mut(i),
            self.last_refused.get_mut(i),
        ) else {
            return false;
        };
        *refused = refused.saturating_add(1);
        let new = last.is_none_or(|t| now - t >= EPISODE_GAP);
        *last = Some(now);
        if new {
            *episodes = episodes.saturating_add(1);
            self.last = Some(Notice {
                limit,
                peer,
                value,
                at: now,
            });
        }
        new
    }

    /// Refusals for `limit`.
    #[must_use]
    pub fn refused(&self, limit: Limit) -> u64 {
        self.refused.get(limit.index()).copied().unwrap_or(0)
    }

    /// Episodes of `limit`.
    #[must_use]
    pub fn episodes(&self, limit: Limit) -> u64 {
        self.episodes.get(limit.index()).copied().unwrap_or(0)
    }

    /// Episodes of every limit.
    #[must_use]
    pub fn total_episodes(&self) -> u64 {
        self.episodes.iter().sum()
    }

    /// The first refusal of the latest episode.
    #[must_use]
    pub const fn last(&self) -> Option<&Notice> {
        self.last.as_ref()
    }

    /// The sum of `tallies`, whose [`Tally::last`] is the latest of theirs (a router's NHRP
    /// server, EIGRP process and IKE endpoint each keep one).
    #[must_use]
    pub fn combined<'a>(tallies: impl IntoIterator<Item = &'a Self>) -> Self {
        let mut sum = Self::default();
        for tally in tallies {
            let counts = (sum.refused.iter_mut()).zip(&mut sum.episodes);
            for ((r, e), (&tr, &te)) in counts.zip(tally.refused.iter().zip(&tally.episodes)) {
                *r = r.saturating_add(tr);
                *e = e.saturating_add(te);
            }
            for (mine, theirs) in sum.last_refused.iter_mut().zip(&tally.last_refused) {
                *mine = (*mine).max(*theirs);
            }
            if tally
                .last
                .is_some_and(|n| sum.last.is_none_or(|m| n.at > m.at))
            {
                sum.last = tally.last;
            }
        }
        sum
    }

    /// The limits with refusals, and how many.
    pub fn nonzero(&self) -> impl Iterator<Item = (Limit, u64)> + '_ {
        Limit::ALL
            .iter()
            .map(|&l| (l, self.refused(l)))
            .filter(|&(_, n)| n > 0)
    }
}

/// At most `count` events per `per`.
#[derive(Clone, Copy, Debug, Eq, PartialEq)]
pub struct Rate {
    /// Events allowed in a window.
    pub count: u32,
    /// The window.
    pub per: Duration,
}

/// Fixed-window counters of a [`Rate`] per address, for at most `capacity` addresses (the
/// oldest window makes room).
#[derive(Clone, Debug)]
pub struct RateWindows {
    windows: BTreeMap<Ipv4Addr, (Instant, u32)>,
    capacity: usize,
}

impl RateWindows {
    /// Windows for at most `capacity` addresses.
    #[must_use]
    pub const fn new(capacity: usize) -> Self {
        Self {
            windows: BTreeMap::new(),
            capacity,
        }
    }

    /// Whether one more event from `key` at `now` stays within `rate` (and counts it if so).
    pub fn allow(&mut self, now: Instant, key: Ipv4Addr, rate: Rate) -> bool {
        if !self.windows.contains_key(&key) && self.windows.len() >= self.capacity.max(1) {
            self.windows.retain(|_, (start, _)| now - *start < rate.per);
            if self.windows.len() >= self.capacity.max(1)
                && let Some(oldest) = (self.windows.iter())
                    .min_by_key(|(_, (start, _))| *start)
                    .map(|(k, _)| *k)
            {
                self.windows.remove(&oldest);
            }
        }
        let window = self.windows.entry(key).or_insert((now, 0));
        if now - window.0 >= rate.per {
            *window = (now, 0);
        }
        if window.1 >= rate.count {
            return false;
        }
        window.1 += 1;
        true
    }

    /// How many addresses have a window.
    #[must_use]
    pub fn len(&self) -> usize {
        self.windows.len()
    }

    /// Whether no address has one.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.windows.is_empty()
    }
}

/// The NHRP server's limits (a hub).
#[derive(Clone, Copy, Debug, Eq, PartialEq)]
pub struct NhrpLimits {
    /// Cache entries registered from one NBMA address (several spokes behind one NAT share it).
    pub per_nbma: usize,
    /// Cache entries in all.
    pub total: usize,
    /// Registration Requests taken from one NBMA address.
    pub rate: Rate,
}

impl NhrpLimits {
    /// The defaults (see the [module docs](self)).
    pub const DEFAULT: Self = Self {
        per_nbma: 16,
        total: 16_384,
        rate: Rate {
            count: 10,
            per: Duration::from_secs(1),
        },
    };
}

impl Default for NhrpLimits {
    fn default() -> Self {
        Self::DEFAULT
    }
}

/// IOS's `maximum-prefix maximum [threshold] [warning-only]`.
#[derive(Clone, Copy, Debug, Eq, PartialEq)]
pub struct MaxPrefix {
    /// The most routes.
    pub max: usize,
    /// The percentage of `max` at which a warning is logged (IOS default 75).
    pub threshold_percent: u8,
    /// Only warn: routes past `max` are still learnt.
    pub warning_only: bool,
}

impl MaxPrefix {
    /// `max` with IOS's default threshold, enforced.
    #[must_use]
    pub const fn new(max: usize) -> Self {
        Self {
            max,
            threshold_percent: 75,
            warning_only: false,
        }
    }

    /// The count at which the warning threshold is passed.
    #[must_use]
    pub const fn threshold(&self) -> usize {
        self.max / 100 * self.threshold_percent as usize
            + self.max % 100 * self.threshold_percent as usize / 100
    }
}

/// The EIGRP process's limits.
#[derive(Clone, Copy, Debug, Eq, PartialEq)]
pub struct EigrpLimits {
    /// Neighbours.
    pub neighbors: usize,
    /// Routes learnt from one neighbour (always enforced).
    pub per_neighbor: usize,
    /// Routes learnt in all (`maximum-prefix`).
    pub total: MaxPrefix,
}

impl EigrpLimits {
    /// The defaults (see the [module docs](self)).
    pub const DEFAULT: Self = Self {
        neighbors: 4096,
        per_neighbor: 10_000,
        total: MaxPrefix {
            max: 100_000,
            threshold_percent: 75,
            warning_only: false,
        },
    };
}

impl Default for EigrpLimits {
    fn default() -> Self {
        Self::DEFAULT
    }
}

/// IKE's limits.
#[derive(Clone, Copy, Debug, Eq, PartialEq)]
pub struct IkeLimits {
    /// Half-open (negotiating, responder) IKE SAs with one peer: a further Main Mode 1 from it
    /// replaces its oldest (a peer that restarts is not locked out by its own stale attempts).
    pub half_open_per_peer: usize,
    /// Half-open IKE SAs in all (`crypto call admission limit ike in-negotiation-sa`).
    pub half_open: usize,
    /// IKE SAs in all (`crypto call admission limit ike sa`).
    pub sas: usize,
}

impl IkeLimits {
    /// The defaults (see the [module docs](self)).
    pub const DEFAULT: Self = Self {
        half_open_per_peer: 4,
        half_open: 256,
        sas: 4096,
    };
}

impl Default for IkeLimits {
    fn default() -> Self {
        Self::DEFAULT
    }
}

/// Every limit of a router.
#[derive(Clone, Copy, Debug, Default, Eq, PartialEq)]
pub struct Limits {
    /// The NHRP server's.
    pub nhrp: NhrpLimits,
    /// EIGRP's.
    pub eigrp: EigrpLimits,
    /// IKE's.
    pub ike: IkeLimits,
}

impl Limits {
    /// The defaults.
    pub const DEFAULT: Self = Self {
        nhrp: NhrpLimits::DEFAULT,
        eigrp: EigrpLimits::DEFAULT,
        ike: IkeLimits::DEFAULT,
    };
}

#[cfg(test)]
mod tests {
    use super::*;

    const A: Ipv4Addr = Ipv4Addr::new(192, 0, 2, 1);
    const B: Ipv4Addr = Ipv4Addr::new(192, 0, 2, 2);

    fn at(ms: i64) -> Instant {
        Instant::from_millis(ms)
    }

    #[test]
    fn episodes_start_after_a_quiet_gap() {
        let mut tally = Tally::default();
        assert!(tally.refuse(at(0), Limit::NhrpRate, A, 10));
        assert!(!tally.refuse(at(5_000), Limit::NhrpRate, B, 10));
        assert!(!tally.refuse(at(14_000), Limit::NhrpRate, A, 10));
        assert!(tally.refuse(at(24_000), Limit::NhrpRate, B, 10));
        assert!(tally.refuse(at(24_000), Limit::IkeSas, A, 4096));
        assert_eq!(tally.refused(Limit::NhrpRate), 4);
        assert_eq!(tally.episodes(Limit::NhrpRate), 2);
        assert_eq!(tally.total_episodes(), 3);
        let last = tally.last().unwrap();
        assert_eq!(last.limit, Limit::IkeSas);
        assert_eq!(
            last.to_string(),
            "IKE SAs (call admission sa) limit 4096 reached by 192.0.2.1"
        );
        let nonzero: Vec<_> = tally.nonzero().collect();
        assert_eq!(nonzero, [(Limit::NhrpRate, 4), (Limit::IkeSas, 1)]);
        let mut other = Tally::default();
        assert!(other.refuse(at(30_000), Limit::EigrpTotal, B, 100_000));
        let sum = Tally::combined([&tally, &other, &Tally::default()]);
        assert_eq!(sum.refused(Limit::NhrpRate), 4);
        assert_eq!(sum.refused(Limit::EigrpTotal), 1);
        assert_eq!(sum.total_episodes(), 4);
        assert_eq!(sum.last().map(|n| n.limit), Some(Limit::EigrpTotal));
    }

    #[test]
    fn rate_windows_count_per_address_and_stay_bounded() {
        let rate = Rate {
            count: 3,
            per: Duration::from_secs(1),
        };
        let mut windows = RateWindows::new(2);
        let allowed = (0..5).filter(|_| windows.allow(at(0), A, rate)).count();
        assert_eq!(allowed, 3);
        assert!(windows.allow(at(10), B, rate));
        assert!(!windows.allow(at(999), A, rate));
        assert!(windows.allow(at(1000), A, rate), "a new window");
        // A third address makes room: never more than the capacity.
        let c = Ipv4Addr::new(192, 0, 2, 3);
        assert!(windows.allow(at(1001), c, rate));
        assert_eq!(windows.len(), 2);
        for i in 0..1000u32 {
            windows.allow(at(2000), Ipv4Addr::from(i), rate);
        }
        assert_eq!(windows.len(), 2);
    }

    #[test]
    fn max_prefix_threshold() {
        assert_eq!(MaxPrefix::new(100_000).threshold(), 75_000);
        assert_eq!(MaxPrefix::new(10).threshold(), 7);
        let full = MaxPrefix {
            threshold_percent: 100,
            ..MaxPrefix::new(usize::MAX)
        };
        assert_eq!(full.threshold(), usize::MAX);
    }
}
