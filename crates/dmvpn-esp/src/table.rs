//! A database of SAs keyed by SPI and destination address (RFC 4301 §4.1, RFC 4303 §3.4.2).

use std::collections::HashMap;

use crate::DecryptError;

/// The destination address an SA is bound to, or any.
#[derive(Clone, Copy, Debug, Eq, Hash, Ord, PartialEq, PartialOrd)]
pub enum Destination {
    /// Any destination: the fallback for an SPI (Wireshark's `*`).
    Any,
    /// An IPv4 address.
    V4([u8; 4]),
    /// An IPv6 address.
    V6([u8; 16]),
}

impl From<[u8; 4]> for Destination {
    fn from(octets: [u8; 4]) -> Self {
        Self::V4(octets)
    }
}

impl From<[u8; 16]> for Destination {
    fn from(octets: [u8; 16]) -> Self {
        Self::V6(octets)
    }
}

impl From<core::net::IpAddr> for Destination {
    fn from(addr: core::net::IpAddr) -> Self {
        match addr {
            core::net::IpAddr::V4(v4) => Self::V4(v4.octets()),
            core::net::IpAddr::V6(v6) => Self::V6(v6.octets()),
        }
    }
}

/// SAs (or anything kept per SA, e.g. an [`Inbound`](crate::Inbound)) by SPI and destination,
/// with O(1) lookup: the exact destination first, then [`Destination::Any`].
#[derive(Clone, Debug)]
pub struct SaTable<T> {
    entries: HashMap<(u32, Destination), T>,
}

impl<T> Default for SaTable<T> {
    fn default() -> Self {
        Self::new()
    }
}

impl<T> SaTable<T> {
    /// An empty table.
    #[must_use]
    pub fn new() -> Self {
        Self {
            entries: HashMap::new(),
        }
    }

    /// Adds or replaces the entry for `spi` and `destination`, returning the old one.
    pub fn insert(&mut self, spi: u32, destination: Destination, value: T) -> Option<T> {
        self.entries.insert((spi, destination), value)
    }

    /// Removes the entry for exactly `spi` and `destination`.
    pub fn remove(&mut self, spi: u32, destination: Destination) -> Option<T> {
        self.entries.remove(&(spi, destination))
    }

    /// The entry for `spi` and `destination`, else the one for `spi` and any destination.
    #[must_use]
    pub fn get(&self, spi: u32, destination: Destination) -> Option<&T> {
        self.entries
            .get(&(spi, destination))
            .or_else(|| self.entries.get(&(spi, Destination::Any)))
    }

    /// As [`get`](Self::get), mutable.
    pub fn get_mut(&mut self, spi: u32, destination: Destination) -> Option<&mut T> {
        let key = if self.entries.contains_key(&(spi, destination)) {
            destination
        } else {
            Destination::Any
        };
        self.entries.get_mut(&(spi, key))
    }

    /// As [`get_mut`](Self::get_mut), with [`DecryptError::UnknownSa`] for a miss.
    ///
    /// # Errors
    /// [`DecryptError::UnknownSa`].
    pub fn lookup(&mut self, spi: u32, destination: Destination) -> Result<&mut T, DecryptError> {
        self.get_mut(spi, destination)
            .ok_or(DecryptError::UnknownSa { spi })
    }

    /// The number of entries.
    #[must_use]
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// Whether the table is empty.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// Every entry, in no particular order.
    pub fn iter(&self) -> impl Iterator<Item = (u32, Destination, &T)> {
        self.entries
            .iter()
            .map(|(&(spi, destination), value)| (spi, destination, value))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloc::string::ToString;

    #[test]
    fn exact_then_wildcard() {
        let mut table = SaTable::new();
        let hub = Destination::from([192, 168, 0, 1]);
        assert_eq!(table.insert(0x1000, hub, "hub"), None);
        assert_eq!(table.insert(0x1000, Destination::Any, "any"), None);
        assert_eq!(
            table.insert(0x2000, Destination::V6([0xfe; 16]), "v6"),
            None
        );
        assert_eq!(table.get(0x1000, hub), Some(&"hub"));
        assert_eq!(table.get(0x1000, [10, 0, 0, 1].into()), Some(&"any"));
        assert_eq!(
            table.get(0x2000, core::net::IpAddr::from([0xfe; 16]).into()),
            Some(&"v6")
        );
        assert_eq!(table.get(0x2000, hub), None);
        *table.get_mut(0x1000, [10, 0, 0, 2].into()).unwrap() = "changed";
        assert_eq!(table.get(0x1000, Destination::Any), Some(&"changed"));
        assert_eq!(table.len(), 3);
        assert_eq!(table.remove(0x1000, hub), Some("hub"));
        assert_eq!(table.get(0x1000, hub), Some(&"changed"));
        assert_eq!(table.iter().count(), 2);
        let err = table.lookup(0x3000, hub).unwrap_err();
        assert_eq!(err, DecryptError::UnknownSa { spi: 0x3000 });
        assert_eq!(err.to_string(), "esp: no sa for spi 0x00003000");
        assert!(!table.is_empty());
        assert!(SaTable::<u8>::default().is_empty());
    }
}
