//! The node's routing table: the routes that leave through the tunnel, by prefix, with the best
//! source winning by administrative distance as in IOS (connected 0, static 1, EIGRP internal
//! 90, EIGRP external 170), and a longest-prefix-match lookup.

use alloc::collections::BTreeMap;
use core::net::Ipv4Addr;

use super::config::Prefix;

/// Where a route came from.
#[derive(Clone, Copy, Debug, Eq, Hash, Ord, PartialEq, PartialOrd)]
pub enum RouteSource {
    /// The tunnel subnet (`C` in `show ip route`); the next hop is the destination itself.
    Connected,
    /// `ip route` (`S`).
    Static,
    /// Learned from EIGRP (`D`).
    Eigrp,
    /// Learned from EIGRP as an external route (`D EX`).
    EigrpExternal,
}

impl RouteSource {
    /// IOS's administrative distance of the source.
    #[must_use]
    pub const fn distance(self) -> u8 {
        match self {
            Self::Connected => 0,
            Self::Static => 1,
            Self::Eigrp => 90,
            Self::EigrpExternal => 170,
        }
    }
}

/// A route through the tunnel.
#[derive(Clone, Copy, Debug, Eq, Hash, PartialEq)]
pub struct Route {
    /// The destination.
    pub prefix: Prefix,
    /// The next hop, a tunnel address; `None` for the connected tunnel subnet (the destination
    /// is the next hop).
    pub next_hop: Option<Ipv4Addr>,
    /// The source.
    pub source: RouteSource,
    /// The metric (EIGRP composite metric; 0 for connected and static routes).
    pub metric: u32,
}

/// Routes by prefix, one per source; the best one forwards.
#[derive(Clone, Debug)]
pub(crate) struct Rib {
    /// Every candidate, by prefix then source.
    routes: BTreeMap<(Prefix, RouteSource), Route>,
    /// The best route of each prefix, by length then address (for the lookup).
    best: [BTreeMap<u32, Route>; 33],
    /// Which lengths have at least one best route (bit `len`).
    lengths: u64,
}

impl Default for Rib {
    fn default() -> Self {
        Self {
            routes: BTreeMap::new(),
            best: core::array::from_fn(|_| BTreeMap::new()),
            lengths: 0,
        }
    }
}

impl Rib {
    /// Adds or replaces a route; returns the change of the best route of its prefix, if any:
    /// `(removed, added)`.
    pub(crate) fn insert(&mut self, route: Route) -> (Option<Route>, Option<Route>) {
        let old = self.best(route.prefix);
        self.routes.insert((route.prefix, route.source), route);
        self.reselect(route.prefix, old)
    }

    /// Removes the route of `source` for `prefix`; returns the change of the best route.
    pub(crate) fn remove(
        &mut self,
        prefix: Prefix,
        source: RouteSource,
    ) -> (Option<Route>, Option<Route>) {
        let old = self.best(prefix);
        self.routes.remove(&(prefix, source));
        self.reselect(prefix, old)
    }

    fn reselect(&mut self, prefix: Prefix, old: Option<Route>) -> (Option<Route>, Option<Route>) {
        let new = self
            .routes
            .range((prefix, RouteSource::Connected)..=(prefix, RouteSource::EigrpExternal))
            .map(|(_, r)| *r)
            .min_by_key(|r| (r.source.distance(), r.metric));
        let len = usize::from(prefix.prefix_len());
        let key = prefix.addr().to_bits();
        if let Some(table) = self.best.get_mut(len) {
            match new {
                Some(route) => {
                    table.insert(key, route);
                }
                None => {
                    table.remove(&key);
                }
            }
            if table.is_empty() {
                self.lengths &= !(1 << len);
            } else {
                self.lengths |= 1 << len;
            }
        }
        if old == new { (None, None) } else { (old, new) }
    }

    /// The best route of exactly `prefix`.
    pub(crate) fn best(&self, prefix: Prefix) -> Option<Route> {
        self.best
            .get(usize::from(prefix.prefix_len()))?
            .get(&prefix.addr().to_bits())
            .copied()
    }

    /// The longest-prefix match for `dst`.
    pub(crate) fn lookup(&self, dst: Ipv4Addr) -> Option<Route> {
        let mut lengths = self.lengths;
        while lengths != 0 {
            let len = 63 - lengths.leading_zeros();
            lengths &= !(1 << len);
            let prefix = Prefix::new(dst, len as u8);
            if let Some(route) = self.best(prefix) {
                return Some(route);
            }
        }
        None
    }

    /// Every best route, by prefix length then address.
    pub(crate) fn iter(&self) -> impl Iterator<Item = &Route> + '_ {
        self.best.iter().flat_map(BTreeMap::values)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn route(a: [u8; 4], len: u8, source: RouteSource, hop: u8) -> Route {
        Route {
            prefix: Prefix::new(Ipv4Addr::from(a), len),
            next_hop: Some(Ipv4Addr::new(172, 16, 1, hop)),
            source,
            metric: 0,
        }
    }

    #[test]
    fn longest_prefix_and_distance() {
        let mut rib = Rib::default();
        let wide = route([10, 0, 0, 0], 8, RouteSource::Eigrp, 1);
        let narrow = route([10, 2, 0, 0], 16, RouteSource::Eigrp, 2);
        assert_eq!(rib.insert(wide), (None, Some(wide)));
        assert_eq!(rib.insert(narrow), (None, Some(narrow)));
        assert_eq!(rib.lookup(Ipv4Addr::new(10, 2, 3, 4)), Some(narrow));
        assert_eq!(rib.lookup(Ipv4Addr::new(10, 3, 3, 4)), Some(wide));
        assert_eq!(rib.lookup(Ipv4Addr::new(11, 0, 0, 1)), None);
        // A static route wins over EIGRP; removing it brings EIGRP's back.
        let fixed = route([10, 2, 0, 0], 16, RouteSource::Static, 9);
        assert_eq!(rib.insert(fixed), (Some(narrow), Some(fixed)));
        assert_eq!(rib.insert(narrow), (None, None));
        assert_eq!(rib.lookup(Ipv4Addr::new(10, 2, 3, 4)), Some(fixed));
        assert_eq!(
            rib.remove(fixed.prefix, RouteSource::Static),
            (Some(fixed), Some(narrow))
        );
        assert_eq!(
            rib.remove(narrow.prefix, RouteSource::Eigrp),
            (Some(narrow), None)
        );
        assert_eq!(rib.lookup(Ipv4Addr::new(10, 2, 3, 4)), Some(wide));
        let default = route([0, 0, 0, 0], 0, RouteSource::Static, 1);
        rib.insert(default);
        assert_eq!(rib.lookup(Ipv4Addr::new(11, 0, 0, 1)), Some(default));
        assert_eq!(rib.iter().count(), 2);
    }
}
