//! Spoke-to-spoke shortcuts (DMVPN Phase 2 and 3): the resolution cache, the pending Resolution
//! Requests and the hub's redirect rate table, bounded, with their timers.
//!
//! The [`Node`](crate::node::Node) drives it (the messages are built and read there, beside
//! the data path that triggers them); this module holds what a peer can make a node keep, and
//! when each piece of it goes.
//!
//! ```text
//!  Phase 2: a route's next hop is another      Phase 3: the hub's Traffic Indication
//!  spoke, with no mapping                      for a destination
//!           │                                             │
//!           ▼ Resolution Request through the NHS          ▼
//!   Pending { deadline = sent + RESOLUTION_TIMEOUT (5 s), retransmit_at = sent + 1 s }
//!      │ no reply at retransmit_at ──▶ the same request again (same ID), after 1 s then 2 s
//!      │ no reply by the deadline ──▶ gone: traffic stays on the hub, the next packet asks again
//!      │ Resolution Reply (the request ID matches)
//!      ▼
//!   Shortcut { expires_at = now + holding time (the CIE's; IOS's default 7200 s) }
//!      │ used since the last refresh and a third of the holding time left
//!      │   ──▶ Resolution Request again (refresh); the reply moves expires_at
//!      │ idle at expires_at, a Purge Request from its peer, `clear ip nhrp shortcut`
//!      ▼
//!   removed (ShortcutEvent::Removed): traffic follows the routing table (the hub) again
//! ```
//!
//! The hub's redirects: one Traffic Indication per (source, destination) pair every
//! `ip nhrp redirect timeout` (IOS's default 2 s); the pair's entry goes when it runs out.
//!
//! Every map is bounded ([`ShortcutLimits`]): a further entry is refused and counted, never an
//! allocation without end.

use alloc::collections::BTreeMap;
use alloc::vec::Vec;
use core::net::Ipv4Addr;

use crate::node::Prefix;
use crate::time::{Duration, Instant};

/// How long a Resolution Request waits for its reply before it is forgotten (the traffic keeps
/// going through the hub, and the next packet that needs the shortcut asks again).
pub const RESOLUTION_TIMEOUT: Duration = Duration::from_secs(5);

/// When an unanswered Resolution Request goes again, after it was first sent: at 1 s and 3 s
/// (back-off doubling from 1 s, within [`RESOLUTION_TIMEOUT`]). A lost request or reply then
/// costs a second, not the wait for the next Traffic Indication; RFC 2332 leaves the schedule
/// to the implementation.
pub const RESOLUTION_RETRANSMITS: [Duration; 2] = [Duration::from_secs(1), Duration::from_secs(3)];

/// How much of a bound each map keeps: refused entries are counted in [`Shortcuts::refused`].
#[derive(Clone, Copy, Debug, Eq, PartialEq)]
pub struct ShortcutLimits {
    /// Shortcut and reverse entries (IOS has no documented limit; 4 096 spokes a node talks to
    /// directly is far above what a DMVPN spoke keys).
    pub entries: usize,
    /// Resolution Requests waiting for a reply.
    pub pending: usize,
    /// (source, destination) pairs the hub redirected within their timeout.
    pub redirects: usize,
}

impl ShortcutLimits {
    /// The defaults: 4 096 entries, 256 pending requests, 16 384 redirect pairs.
    pub const DEFAULT: Self = Self {
        entries: 4096,
        pending: 256,
        redirects: 16_384,
    };
}

/// How an entry was learnt (`show ip nhrp` flags).
#[derive(Clone, Copy, Debug, Eq, PartialEq)]
pub enum ShortcutKind {
    /// From a Resolution Reply to our request: a shortcut route (`H`, or `%` when it overrides
    /// a routing protocol's next hop for the same prefix). IOS flags `router nhop rib` (or
    /// `nho`), `show dmvpn` attribute `DT1`/`DT2`.
    Resolved,
    /// From a Resolution Request we answered: the requester's tunnel address at its NBMA
    /// address, so that what we send back goes straight to it (IOS flags `router implicit`).
    Reverse,
}

/// One entry: `prefix` is reached through the tunnel address `next_hop` at NBMA address `nbma`.
#[derive(Clone, Copy, Debug, Eq, PartialEq)]
pub struct Shortcut {
    /// What it covers (the CIE's prefix length applied to the target, `/32` for one address).
    pub prefix: Prefix,
    /// The other spoke's tunnel address.
    pub next_hop: Ipv4Addr,
    /// The other spoke's NBMA address.
    pub nbma: Ipv4Addr,
    /// How it was learnt.
    pub kind: ShortcutKind,
    /// When it was created.
    pub created_at: Instant,
    /// When it goes unless refreshed.
    pub expires_at: Instant,
    /// The holding time it was given, seconds.
    pub holding_time: u16,
    /// Whether traffic used it since it was installed or last refreshed.
    pub used: bool,
    /// Whether a refresh was sent for it since.
    pub refreshing: bool,
    /// A [`ShortcutKind::Reverse`] entry: the prefix of ours the requester was given (what a
    /// Purge Request withdraws).
    pub answered: Option<Prefix>,
}

impl Shortcut {
    /// When the node refreshes it if it is in use: a third of the holding time before it
    /// expires.
    #[must_use]
    pub fn refresh_at(&self) -> Instant {
        let third = Duration::from_secs(i64::from(self.holding_time) / 3);
        self.expires_at - third
    }
}

/// Why a Resolution Request was sent.
#[derive(Clone, Copy, Debug, Eq, PartialEq)]
pub enum Purpose {
    /// Phase 2: a route's next hop (another spoke's tunnel address) has no mapping.
    NextHop,
    /// Phase 3: the hub's Traffic Indication for this destination.
    Redirect,
    /// An entry in use is about to expire.
    Refresh,
}

/// A Resolution Request waiting for its reply.
#[derive(Clone, Copy, Debug, Eq, PartialEq)]
pub struct Pending {
    /// Its request ID.
    pub request_id: u32,
    /// Why it was sent.
    pub purpose: Purpose,
    /// When it is forgotten: sent + [`RESOLUTION_TIMEOUT`].
    pub deadline: Instant,
    /// When it is sent again, if still unanswered ([`RESOLUTION_RETRANSMITS`]).
    pub retransmit_at: Option<Instant>,
}

impl Pending {
    /// A request with `request_id` sent at `sent`.
    #[must_use]
    pub fn new(request_id: u32, purpose: Purpose, sent: Instant) -> Self {
        Self {
            request_id,
            purpose,
            deadline: sent + RESOLUTION_TIMEOUT,
            retransmit_at: Some(sent + RESOLUTION_RETRANSMITS[0]),
        }
    }

    /// The retransmission after the one due now, if any.
    fn next_retransmit(&self, due: Instant) -> Option<Instant> {
        let sent = self.deadline - RESOLUTION_TIMEOUT;
        (RESOLUTION_RETRANSMITS.iter())
            .map(|after| sent + *after)
            .find(|at| *at > due)
    }
}

/// What happened to the shortcuts, for the node's events.
#[derive(Clone, Copy, Debug, Eq, PartialEq)]
pub enum ShortcutEvent {
    /// A Resolution Request was sent for `target`.
    ResolutionSent {
        /// The address resolved.
        target: Ipv4Addr,
        /// Why.
        purpose: Purpose,
    },
    /// A Resolution Request from `requester` for our `prefix` was answered straight to it.
    ResolutionAnswered {
        /// The requester's tunnel address.
        requester: Ipv4Addr,
        /// Its NBMA address.
        nbma: Ipv4Addr,
        /// The prefix answered.
        prefix: Prefix,
    },
    /// The hub forwarded a Resolution Request for `target` to the spoke that owns it.
    ResolutionForwarded {
        /// The address resolved.
        target: Ipv4Addr,
        /// The NBMA address it was forwarded to.
        to: Ipv4Addr,
    },
    /// A Resolution Request for `target` got no reply in time (or a negative one).
    ResolutionFailed {
        /// The address resolved.
        target: Ipv4Addr,
    },
    /// The hub sent a Traffic Indication to `to` for a packet `src` → `dst`.
    RedirectSent {
        /// The NBMA address of the spoke the packet came from.
        to: Ipv4Addr,
        /// The packet's source.
        src: Ipv4Addr,
        /// The packet's destination.
        dst: Ipv4Addr,
    },
    /// A Traffic Indication for a packet to `dst` arrived from the hub at `from`.
    RedirectReceived {
        /// The hub's NBMA address.
        from: Ipv4Addr,
        /// The packet's destination.
        dst: Ipv4Addr,
    },
    /// An entry was installed or refreshed.
    Installed(Shortcut),
    /// An entry went (idle expiry, purge, clear).
    Removed(Shortcut),
    /// A direct peer is needed (to send to `nbma` under IPsec) but has no SA pair yet: the
    /// traffic goes through the hub meanwhile.
    PeerWanted {
        /// The other spoke's NBMA address.
        nbma: Ipv4Addr,
    },
    /// A Purge Request went to `nbma` for `prefix`.
    PurgeSent {
        /// The peer's NBMA address.
        nbma: Ipv4Addr,
        /// The prefix purged.
        prefix: Prefix,
    },
}

/// The resolution cache, the pending requests and the redirect table; see the [module
/// documentation](self).
#[derive(Clone, Debug)]
pub struct Shortcuts {
    limits: ShortcutLimits,
    entries: BTreeMap<Prefix, Shortcut>,
    pending: BTreeMap<Ipv4Addr, Pending>,
    redirects: BTreeMap<(Ipv4Addr, Ipv4Addr), Instant>,
    /// Entries, requests and redirects refused by a full map.
    pub refused: u64,
}

impl Shortcuts {
    /// An empty table with `limits`.
    #[must_use]
    pub const fn new(limits: ShortcutLimits) -> Self {
        Self {
            limits,
            entries: BTreeMap::new(),
            pending: BTreeMap::new(),
            redirects: BTreeMap::new(),
            refused: 0,
        }
    }

    /// Every entry, by prefix.
    pub fn iter(&self) -> impl Iterator<Item = &Shortcut> + '_ {
        self.entries.values()
    }

    /// The pending requests, by target.
    pub fn pending(&self) -> impl Iterator<Item = (Ipv4Addr, Pending)> + '_ {
        self.pending.iter().map(|(t, p)| (*t, *p))
    }

    /// The resolved entry (not a reverse one) with the longest prefix covering `dst`.
    #[must_use]
    pub fn lookup(&self, dst: Ipv4Addr) -> Option<&Shortcut> {
        self.entries
            .values()
            .filter(|s| s.kind == ShortcutKind::Resolved && s.prefix.contains(dst))
            .max_by_key(|s| s.prefix.prefix_len())
    }

    /// Marks the entry of `prefix` used.
    pub fn touch(&mut self, prefix: Prefix) {
        if let Some(entry) = self.entries.get_mut(&prefix) {
            entry.used = true;
        }
    }

    /// The NBMA address of the tunnel address `next_hop`, from any entry whose next hop it is.
    #[must_use]
    pub fn mapping(&self, next_hop: Ipv4Addr) -> Option<Ipv4Addr> {
        self.entries
            .values()
            .find(|s| s.next_hop == next_hop)
            .map(|s| s.nbma)
    }

    /// Whether a request for `target` is waiting.
    #[must_use]
    pub fn is_pending(&self, target: Ipv4Addr) -> bool {
        self.pending.contains_key(&target)
    }

    /// Records a request for `target`; `false` if the pending map is full.
    pub fn add_pending(&mut self, target: Ipv4Addr, pending: Pending) -> bool {
        if !self.pending.contains_key(&target) && self.pending.len() >= self.limits.pending {
            self.refused += 1;
            return false;
        }
        self.pending.insert(target, pending);
        true
    }

    /// The pending requests whose retransmission is due at `now` (their target and request
    /// ID), each moved on to its next retransmission.
    pub fn due_retransmit(&mut self, now: Instant) -> Vec<(Ipv4Addr, u32)> {
        let mut due = Vec::new();
        for (target, pending) in &mut self.pending {
            if pending.retransmit_at.is_some_and(|at| at <= now) {
                pending.retransmit_at = pending.next_retransmit(now);
                due.push((*target, pending.request_id));
            }
        }
        due
    }

    /// Takes the pending request with `request_id`, if any: its target and itself.
    pub fn take_pending(&mut self, request_id: u32) -> Option<(Ipv4Addr, Pending)> {
        let target = (self.pending.iter())
            .find(|(_, p)| p.request_id == request_id)
            .map(|(t, _)| *t)?;
        self.pending.remove(&target).map(|p| (target, p))
    }

    /// Installs or refreshes an entry; `false` (counted in [`Shortcuts::refused`]) when it is
    /// new and [`ShortcutLimits::entries`] are kept already.
    pub fn insert(&mut self, entry: Shortcut) -> bool {
        if !self.entries.contains_key(&entry.prefix) && self.entries.len() >= self.limits.entries {
            self.refused += 1;
            return false;
        }
        self.entries.insert(entry.prefix, entry);
        true
    }

    /// Removes the entries `remove` picks, returning them.
    pub fn remove_where(&mut self, mut remove: impl FnMut(&Shortcut) -> bool) -> Vec<Shortcut> {
        let gone: Vec<Shortcut> = self
            .entries
            .values()
            .filter(|s| remove(s))
            .copied()
            .collect();
        for s in &gone {
            self.entries.remove(&s.prefix);
        }
        gone
    }

    /// Whether the hub may redirect `(src, dst)` now; if so the pair waits `timeout` for the
    /// next one. `false` also when the table is full.
    pub fn may_redirect(
        &mut self,
        now: Instant,
        src: Ipv4Addr,
        dst: Ipv4Addr,
        timeout: Duration,
    ) -> bool {
        if self
            .redirects
            .get(&(src, dst))
            .is_some_and(|until| *until > now)
        {
            return false;
        }
        if self.redirects.len() >= self.limits.redirects {
            self.redirects.retain(|_, until| *until > now);
            if self.redirects.len() >= self.limits.redirects {
                self.refused += 1;
                return false;
            }
        }
        self.redirects.insert((src, dst), now + timeout);
        true
    }

    /// The entries in use that are due a refresh at `now` (each marked refreshing and unused).
    pub fn due_refresh(&mut self, now: Instant) -> Vec<Shortcut> {
        let mut due = Vec::new();
        for entry in self.entries.values_mut() {
            if entry.kind == ShortcutKind::Resolved
                && entry.used
                && !entry.refreshing
                && entry.refresh_at() <= now
            {
                entry.refreshing = true;
                entry.used = false;
                due.push(*entry);
            }
        }
        due
    }

    /// Removes what ran out at `now`: expired entries and unanswered requests (their targets),
    /// and redirect pairs past their timeout.
    pub fn expire(&mut self, now: Instant) -> (Vec<Shortcut>, Vec<Ipv4Addr>) {
        let gone = self.remove_where(|s| s.expires_at <= now);
        let late: Vec<Ipv4Addr> = (self.pending.iter())
            .filter(|(_, p)| p.deadline <= now)
            .map(|(t, _)| *t)
            .collect();
        for target in &late {
            self.pending.remove(target);
        }
        self.redirects.retain(|_, until| *until > now);
        (gone, late)
    }

    /// When [`Shortcuts::expire`] or [`Shortcuts::due_refresh`] has something to do next.
    #[must_use]
    pub fn poll_timeout(&self) -> Option<Instant> {
        let entries = self.entries.values().flat_map(|s| {
            let refresh = (s.kind == ShortcutKind::Resolved && s.used && !s.refreshing)
                .then(|| s.refresh_at());
            [Some(s.expires_at), refresh]
        });
        let pending = (self.pending.values()).flat_map(|p| [Some(p.deadline), p.retransmit_at]);
        let redirects = self.redirects.values().map(|t| Some(*t));
        entries.chain(pending).chain(redirects).flatten().min()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(prefix: Prefix, hop: u8, expires: i64) -> Shortcut {
        Shortcut {
            prefix,
            next_hop: Ipv4Addr::new(10, 0, 0, hop),
            nbma: Ipv4Addr::new(192, 0, 2, hop),
            kind: ShortcutKind::Resolved,
            created_at: Instant::ZERO,
            expires_at: Instant::ZERO + Duration::from_secs(expires),
            holding_time: u16::try_from(expires).unwrap_or(u16::MAX),
            used: false,
            refreshing: false,
            answered: None,
        }
    }

    #[test]
    fn bounded_longest_match_refresh_and_expiry() {
        let mut table = Shortcuts::new(ShortcutLimits {
            entries: 2,
            pending: 1,
            redirects: 1,
        });
        let wide = Prefix::new(Ipv4Addr::new(192, 168, 0, 0), 16);
        let narrow = Prefix::new(Ipv4Addr::new(192, 168, 3, 0), 24);
        assert!(table.insert(entry(wide, 2, 300)));
        assert!(table.insert(entry(narrow, 3, 300)));
        assert!(!table.insert(entry(Prefix::new(Ipv4Addr::new(1, 0, 0, 0), 8), 4, 9)));
        assert_eq!(table.refused, 1);
        let dst = Ipv4Addr::new(192, 168, 3, 9);
        assert_eq!(table.lookup(dst).map(|s| s.next_hop.octets()[3]), Some(3));
        assert_eq!(
            table.mapping(Ipv4Addr::new(10, 0, 0, 2)),
            Some(Ipv4Addr::new(192, 0, 2, 2))
        );
        // Only an entry in use is refreshed, a third of its holding time before it expires.
        table.touch(narrow);
        let at = Instant::ZERO + Duration::from_secs(200);
        assert_eq!(table.poll_timeout(), Some(at));
        assert_eq!(table.due_refresh(at).len(), 1);
        assert!(table.due_refresh(at).is_empty());
        let (gone, _) = table.expire(Instant::ZERO + Duration::from_secs(300));
        assert_eq!(gone.len(), 2);
        // Pending and redirect maps are bounded too.
        let p = Pending::new(7, Purpose::Redirect, Instant::ZERO);
        assert!(table.add_pending(dst, p));
        assert!(!table.add_pending(Ipv4Addr::new(1, 1, 1, 1), p));
        // Sent again at 1 s and 3 s, then only the deadline is left.
        let secs = |s| Instant::ZERO + Duration::from_secs(s);
        assert_eq!(table.poll_timeout(), Some(secs(1)));
        assert!(table.due_retransmit(secs(0)).is_empty());
        assert_eq!(table.due_retransmit(secs(1)), [(dst, 7)]);
        assert!(table.due_retransmit(secs(2)).is_empty());
        assert_eq!(table.due_retransmit(secs(3)), [(dst, 7)]);
        assert_eq!(table.poll_timeout(), Some(secs(5)));
        let (_, kept) = table.take_pending(7).expect("pending");
        assert_eq!((kept.request_id, kept.retransmit_at), (7, None));
        let (a, b) = (Ipv4Addr::new(1, 1, 1, 1), Ipv4Addr::new(2, 2, 2, 2));
        let two = Duration::from_secs(2);
        assert!(table.may_redirect(Instant::ZERO, a, b, two));
        assert!(!table.may_redirect(Instant::ZERO + Duration::from_secs(1), a, b, two));
        assert!(!table.may_redirect(Instant::ZERO, b, a, two), "full");
        assert!(table.may_redirect(Instant::ZERO + two, a, b, two));
    }
}
