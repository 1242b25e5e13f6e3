//! A map kept as a sorted vector, for the per-prefix tables of the topology (the paths through
//! each neighbour, what each neighbour was told).
//!
//! A spoke's topology holds one path for each of thousands of prefixes: a `BTreeMap` with one
//! entry still allocates a whole node (eleven slots), about ten times what the entry needs. A
//! sorted vector allocates what it holds; lookups are a binary search. Inserting in the middle
//! moves the entries behind it, which stays cheap for the sizes seen here (one entry per
//! neighbour, and a hub's neighbours come up, and are written to, in address order).

use alloc::vec::Vec;

/// A map from `K` to `V` in a vector sorted by key.
#[derive(Clone, Debug)]
pub(crate) struct SmallMap<K, V> {
    entries: Vec<(K, V)>,
}

impl<K: Ord + Copy, V> SmallMap<K, V> {
    /// An empty map (no allocation).
    pub(crate) const fn new() -> Self {
        Self {
            entries: Vec::new(),
        }
    }

    /// Whether the map is empty.
    pub(crate) fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// The entries, by key.
    pub(crate) fn iter(&self) -> impl Iterator<Item = (&K, &V)> + '_ {
        self.entries.iter().map(|(k, v)| (k, v))
    }

    /// The value of `key`.
    pub(crate) fn get(&self, key: &K) -> Option<&V> {
        let at = self.entries.binary_search_by(|(k, _)| k.cmp(key)).ok()?;
        self.entries.get(at).map(|(_, v)| v)
    }

    /// Sets the value of `key`; returns the one it replaced.
    pub(crate) fn insert(&mut self, key: K, value: V) -> Option<V> {
        match self.entries.binary_search_by(|(k, _)| k.cmp(&key)) {
            Ok(at) => self
                .entries
                .get_mut(at)
                .map(|(_, v)| core::mem::replace(v, value)),
            Err(at) => {
                self.entries.insert(at, (key, value));
                None
            }
        }
    }

    /// Removes `key`; returns its value.
    pub(crate) fn remove(&mut self, key: &K) -> Option<V> {
        let at = self.entries.binary_search_by(|(k, _)| k.cmp(key)).ok()?;
        let (_, value) = self.entries.remove(at);
        if self.entries.is_empty() {
            self.entries = Vec::new();
        }
        Some(value)
    }
}

impl<'a, K: Ord + Copy, V> IntoIterator for &'a SmallMap<K, V> {
    type Item = (&'a K, &'a V);
    type IntoIter =
        core::iter::Map<core::slice::Iter<'a, (K, V)>, fn(&'a (K, V)) -> (&'a K, &'a V)>;

    fn into_iter(self) -> Self::IntoIter {
        self.entries.iter().map(|(k, v)| (k, v))
    }
}

#[cfg(test)]
mod tests {
    use alloc::collections::BTreeMap;
    use alloc::vec::Vec;

    use super::SmallMap;

    /// The same operations on a `SmallMap` and a `BTreeMap` give the same answers and contents.
    #[test]
    fn behaves_as_a_btree_map() {
        bolero::check!()
            .with_type::<Vec<(u8, u8, u16)>>()
            .for_each(|ops| {
                let mut small = SmallMap::new();
                let mut tree = BTreeMap::new();
                for &(op, key, value) in ops {
                    match op % 3 {
                        0 => assert_eq!(small.insert(key, value), tree.insert(key, value)),
                        1 => assert_eq!(small.remove(&key), tree.remove(&key)),
                        _ => assert_eq!(small.get(&key), tree.get(&key)),
                    }
                    assert_eq!(small.is_empty(), tree.is_empty());
                }
                assert!(small.iter().eq(tree.iter()));
                assert!((&small).into_iter().eq(tree.iter()));
            });
    }
}
