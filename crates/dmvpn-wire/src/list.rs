//! Zero-copy lists of variable-length entries: NHRP CIEs and extensions, EIGRP destinations.
//!
//! An [`Entry`] says how to read one entry from the front of some bytes. [`Iter`] walks a list
//! of them, bounding each entry by the bytes left in its parent, stopping at the first error, and
//! reporting [`Error::TrailingBytes`] for anything after an entry that ends the list. [`List`]
//! holds either checked wire bytes (after [`List::parse`], no allocation) or a slice of entries
//! to emit, and compares equal by the entries it yields, whichever form it is in.
//!
//! ```
//! use dmvpn_wire::list::{Entry, List};
//! use dmvpn_wire::{Layer, Reader, Result};
//!
//! /// A one-byte length, then that many bytes.
//! #[derive(Clone, Copy, Debug, PartialEq, Eq)]
//! struct Item<'a>(&'a [u8]);
//!
//! impl<'a> Entry<'a> for Item<'a> {
//!     type Ctx = ();
//!     const LAYER: Layer = Layer::Nhrp;
//!     fn parse_entry(bytes: &'a [u8], offset: usize, (): ()) -> Result<(Self, usize)> {
//!         let mut r = Reader::with_base(Self::LAYER, bytes, offset);
//!         let len = r.u8("length")?;
//!         Ok((Self(r.take(len.into(), "value")?), 1 + usize::from(len)))
//!     }
//!     fn entry_len(&self, (): ()) -> usize {
//!         1 + self.0.len()
//!     }
//!     fn emit_entry(&self, buf: &mut [u8], (): ()) {
//!         buf[0] = self.0.len() as u8;
//!         buf[1..].copy_from_slice(self.0);
//!     }
//! }
//!
//! let bytes = [2, 0xaa, 0xbb, 1, 0xcc];
//! let list = List::<Item<'_>>::parse(&bytes, 0)?;
//! assert_eq!(list.len(), 2);
//! assert_eq!(list, List::new(&[Item(&[0xaa, 0xbb]), Item(&[0xcc])]));
//!
//! // The second entry claims three bytes where one is left.
//! let err = List::<Item<'_>>::parse(&[2, 0xaa, 0xbb, 3, 0xcc], 40).unwrap_err();
//! assert_eq!(err.offset(), 44);
//! # Ok::<(), dmvpn_wire::Error>(())
//! ```

use core::fmt;
use core::marker::PhantomData;

use crate::{Error, Layer, Result};

/// One entry of a wire list.
pub trait Entry<'a>: Copy {
    /// What reading and writing an entry needs beyond its bytes (an address family, say); `()`
    /// for none.
    type Ctx: Copy;

    /// The layer [`Error::TrailingBytes`] is reported in.
    const LAYER: Layer;

    /// Reads the entry at the front of `bytes`, which start at `offset` of the packet, and returns
    /// it with its encoded length. Errors carry offsets counted from the packet.
    fn parse_entry(bytes: &'a [u8], offset: usize, ctx: Self::Ctx) -> Result<(Self, usize)>;

    /// Whether this entry closes the list, so that any bytes after it are trailing bytes.
    fn ends_list(&self) -> bool {
        false
    }

    /// The length [`Entry::emit_entry`] writes.
    fn entry_len(&self, ctx: Self::Ctx) -> usize;

    /// Writes the entry into `buf`, which is exactly [`Entry::entry_len`] bytes long.
    fn emit_entry(&self, buf: &mut [u8], ctx: Self::Ctx);
}

/// Walks a list over borrowed bytes, yielding each entry or the first error; every entry is
/// bounded by the bytes left in the list. Offsets are counted from the `base` given to
/// [`Iter::new`].
///
/// `C` is the entries' [`Entry::Ctx`]; it is a parameter of its own (not `E::Ctx`) so that the
/// walker stays covariant in `'a`.
#[derive(Clone, Debug)]
pub struct Iter<'a, E, C = ()> {
    rest: &'a [u8],
    offset: usize,
    ctx: C,
    ended: bool,
    failed: bool,
    entry: PhantomData<fn() -> E>,
}

impl<'a, E: Entry<'a, Ctx = ()>> Iter<'a, E> {
    /// A walker over `bytes`, which start at offset `base` of the enclosing packet.
    #[must_use]
    pub const fn new(bytes: &'a [u8], base: usize) -> Self {
        Self::with_ctx(bytes, base, ())
    }
}

impl<'a, C: Copy, E: Entry<'a, Ctx = C>> Iter<'a, E, C> {
    /// A walker over `bytes` at offset `base`, reading entries with `ctx`.
    #[must_use]
    pub const fn with_ctx(bytes: &'a [u8], base: usize, ctx: C) -> Self {
        Self {
            rest: bytes,
            offset: base,
            ctx,
            ended: false,
            failed: false,
            entry: PhantomData,
        }
    }

    /// The offset of the next entry, counted from the packet.
    #[must_use]
    pub const fn offset(&self) -> usize {
        self.offset
    }
}

impl<'a, C: Copy, E: Entry<'a, Ctx = C>> Iterator for Iter<'a, E, C> {
    type Item = Result<E>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.failed || self.rest.is_empty() {
            return None;
        }
        if self.ended {
            self.failed = true;
            return Some(Err(Error::TrailingBytes {
                layer: E::LAYER,
                offset: self.offset,
                len: self.rest.len(),
            }));
        }
        match E::parse_entry(self.rest, self.offset, self.ctx) {
            Ok((entry, len)) => {
                self.rest = self.rest.get(len..).unwrap_or_default();
                self.offset += len;
                self.ended = entry.ends_list();
                Some(Ok(entry))
            }
            Err(err) => {
                self.failed = true;
                Some(Err(err))
            }
        }
    }
}

impl<'a, C: Copy, E: Entry<'a, Ctx = C>> core::iter::FusedIterator for Iter<'a, E, C> {}

#[derive(Clone, Copy)]
enum Inner<'a, E> {
    Wire(&'a [u8]),
    Entries(&'a [E]),
}

/// A list of entries: either checked wire bytes (from [`List::parse`], no allocation) or a slice
/// of entries to emit (from [`List::new`]). Two lists are equal when they yield the same entries.
///
/// `C` is the entries' [`Entry::Ctx`], a parameter of its own so that the list stays covariant
/// in `'a`.
#[derive(Clone, Copy)]
pub struct List<'a, E, C = ()> {
    inner: Inner<'a, E>,
    ctx: C,
}

impl<'a, E: Entry<'a, Ctx = ()>> List<'a, E> {
    /// The empty list.
    pub const EMPTY: Self = Self::new(&[]);

    /// A list to emit, in order.
    #[must_use]
    pub const fn new(entries: &'a [E]) -> Self {
        Self::with_ctx(entries, ())
    }

    /// Checks every entry of `bytes` (which start at offset `base` of the packet, for errors),
    /// including that nothing follows an entry that ends the list, and borrows them.
    pub fn parse(bytes: &'a [u8], base: usize) -> Result<Self> {
        Self::parse_with(bytes, base, ())
    }
}

impl<'a, C: Copy, E: Entry<'a, Ctx = C>> List<'a, E, C> {
    /// A list to emit, in order, written with `ctx`.
    #[must_use]
    pub const fn with_ctx(entries: &'a [E], ctx: C) -> Self {
        Self {
            inner: Inner::Entries(entries),
            ctx,
        }
    }

    /// [`List::parse`] with a context: checks every entry of `bytes` (at offset `base` of the
    /// packet), reading them with `ctx`.
    pub fn parse_with(bytes: &'a [u8], base: usize, ctx: C) -> Result<Self> {
        for entry in Iter::<E, C>::with_ctx(bytes, base, ctx) {
            entry?;
        }
        Ok(Self {
            inner: Inner::Wire(bytes),
            ctx,
        })
    }

    /// What entries are read and written with.
    #[must_use]
    pub const fn ctx(&self) -> C {
        self.ctx
    }

    /// The entries.
    pub fn iter(&self) -> impl Iterator<Item = E> + use<'a, E, C> {
        let (wire, entries): (&'a [u8], &'a [E]) = match self.inner {
            Inner::Wire(bytes) => (bytes, &[]),
            Inner::Entries(entries) => (&[], entries),
        };
        // Wire bytes were checked by `parse`, so `map_while` stops only at their end.
        Iter::<E, C>::with_ctx(wire, 0, self.ctx)
            .map_while(Result::ok)
            .chain(entries.iter().copied())
    }

    /// The first entry, if any.
    #[must_use]
    pub fn first(&self) -> Option<E> {
        self.iter().next()
    }

    /// How many entries there are.
    #[must_use]
    pub fn len(&self) -> usize {
        self.iter().count()
    }

    /// Whether there are none.
    #[must_use]
    pub const fn is_empty(&self) -> bool {
        match self.inner {
            Inner::Wire(bytes) => bytes.is_empty(),
            Inner::Entries(entries) => entries.is_empty(),
        }
    }

    /// The length [`List::emit`] writes.
    #[must_use]
    pub fn buffer_len(&self) -> usize {
        self.iter().map(|entry| entry.entry_len(self.ctx)).sum()
    }

    /// Writes every entry into `buffer`, which holds at least [`List::buffer_len`] bytes.
    pub fn emit(&self, buffer: &mut [u8]) {
        let mut at = 0;
        for entry in self.iter() {
            let len = entry.entry_len(self.ctx);
            entry.emit_entry(&mut buffer[at..at + len], self.ctx);
            at += len;
        }
    }
}

impl<'a, E: Entry<'a, Ctx = ()>> Default for List<'a, E> {
    fn default() -> Self {
        Self::EMPTY
    }
}

impl<'a, C: Copy + PartialEq, E: Entry<'a, Ctx = C> + PartialEq> PartialEq for List<'a, E, C> {
    fn eq(&self, other: &Self) -> bool {
        self.ctx == other.ctx && self.iter().eq(other.iter())
    }
}

impl<'a, C: Copy + Eq, E: Entry<'a, Ctx = C> + Eq> Eq for List<'a, E, C> {}

impl<'a, C: Copy, E: Entry<'a, Ctx = C> + fmt::Debug> fmt::Debug for List<'a, E, C> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_list().entries(self.iter()).finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Reader;

    /// A one-byte length, then that many bytes; length 0 ends the list.
    #[derive(Clone, Copy, Debug, PartialEq, Eq)]
    struct Item<'a>(&'a [u8]);

    impl<'a> Entry<'a> for Item<'a> {
        type Ctx = ();
        const LAYER: Layer = Layer::Eigrp;
        fn parse_entry(bytes: &'a [u8], offset: usize, (): ()) -> Result<(Self, usize)> {
            let mut r = Reader::with_base(Self::LAYER, bytes, offset);
            let len = r.u8("length")?;
            Ok((Self(r.take(len.into(), "value")?), 1 + usize::from(len)))
        }
        fn ends_list(&self) -> bool {
            self.0.is_empty()
        }
        fn entry_len(&self, (): ()) -> usize {
            1 + self.0.len()
        }
        fn emit_entry(&self, buf: &mut [u8], (): ()) {
            buf[0] = u8::try_from(self.0.len()).unwrap();
            buf[1..].copy_from_slice(self.0);
        }
    }

    #[test]
    fn walks_and_stops_at_the_first_error() {
        let bytes = [1, 0xaa, 2, 0xbb];
        let mut iter = Iter::<Item<'_>>::new(&bytes, 10);
        assert_eq!(iter.next(), Some(Ok(Item(&[0xaa]))));
        assert_eq!(iter.offset(), 12);
        assert_eq!(
            iter.next(),
            Some(Err(Error::Truncated {
                layer: Layer::Eigrp,
                field: "value",
                offset: 13,
                needed: 2,
                available: 1
            }))
        );
        assert_eq!(iter.next(), None);
    }

    #[test]
    fn bytes_after_the_end_are_trailing() {
        let bytes = [1, 0xaa, 0, 7, 7];
        let got: Vec<_> = Iter::<Item<'_>>::new(&bytes, 4).collect();
        assert_eq!(
            got,
            [
                Ok(Item(&[0xaa])),
                Ok(Item(&[])),
                Err(Error::TrailingBytes {
                    layer: Layer::Eigrp,
                    offset: 7,
                    len: 2
                }),
            ]
        );
        assert!(List::<Item<'_>>::parse(&bytes, 4).is_err());
    }

    #[test]
    fn wire_and_entries_compare_emit_and_measure_alike() {
        let bytes = [2, 1, 2, 1, 3, 0];
        let parsed = List::<Item<'_>>::parse(&bytes, 0).unwrap();
        let built = List::new(&[Item(&[1, 2]), Item(&[3]), Item(&[])]);
        assert_eq!(parsed, built);
        assert_eq!(parsed.len(), 3);
        assert_eq!(parsed.first(), Some(Item(&[1, 2])));
        assert_eq!(built.buffer_len(), bytes.len());
        let mut out = [0xff; 6];
        built.emit(&mut out);
        assert_eq!(out, bytes);
        assert!(List::<Item<'_>>::default().is_empty());
        assert!(!parsed.is_empty());
        assert_eq!(format!("{parsed:?}"), "[Item([1, 2]), Item([3]), Item([])]");
    }

    #[test]
    fn every_prefix_parses_or_fails_without_panicking() {
        let bytes = [2, 1, 2, 1, 3, 0];
        for cut in 0..bytes.len() {
            let result = List::<Item<'_>>::parse(&bytes[..cut], 0);
            // Whole entries end at 0, 3 and 5.
            assert_eq!(result.is_ok(), [0, 3, 5].contains(&cut), "cut {cut}");
        }
    }
}
