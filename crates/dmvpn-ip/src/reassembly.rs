//! IPv4 fragment reassembly (RFC 791 §3.2, with the hole-descriptor list of RFC 815).
//!
//! Fragments are keyed by (source, destination, protocol, identification). Each datagram keeps
//! a sorted list of holes, starting with one from 0 to "infinity"; a fragment fills the parts of
//! holes it covers and splits them, and the last fragment (MF clear) cuts the final hole at the
//! datagram's end. The datagram is complete when no hole is left.
//!
//! Overlaps are resolved deterministically: **the first copy of a byte wins** (a later fragment
//! only fills holes), and the result says whether any byte arrived twice and whether a second copy
//! differed (which RFC 5722 and RFC 8900 treat as an attack signal).
//!
//! Resources are bounded whatever the input: at most `max_datagrams` datagrams in flight (the
//! oldest is evicted for a new one), at most `max_fragments` fragments each, payloads ending past
//! `max_datagram_len` are refused, and the bytes buffered across all datagrams stay below
//! `max_buffered_bytes`. Datagrams older than `timeout` in capture time are dropped.

use alloc::collections::BTreeMap;
use alloc::vec::Vec;
use core::fmt;
use core::net::Ipv4Addr;
use core::ops::Range;
use core::time::Duration;

use super::Timestamp;
use super::ipv4::{self, Protocol};

/// Limits of a [`Reassembler`].
#[derive(Clone, Copy, Debug, Eq, Hash, PartialEq)]
pub struct ReassemblerConfig {
    /// How long (capture time) a datagram may wait for its fragments. Default 30 s (Linux
    /// `ipfrag_time`; RFC 791 suggests 15 s as a lower bound).
    pub timeout: Duration,
    /// The largest datagram, header (20 bytes) included. Default 65 535, the IPv4 maximum.
    pub max_datagram_len: usize,
    /// The most payload bytes buffered over all datagrams in flight. Default 4 MiB.
    pub max_buffered_bytes: usize,
    /// The most datagrams in flight. Default 256.
    pub max_datagrams: usize,
    /// The most fragments per datagram. Default 256 (a 65 535-byte datagram over a 576-byte MTU
    /// needs 119).
    pub max_fragments: usize,
}

impl Default for ReassemblerConfig {
    fn default() -> Self {
        Self {
            timeout: Duration::from_secs(30),
            max_datagram_len: 65_535,
            max_buffered_bytes: 4 << 20,
            max_datagrams: 256,
            max_fragments: 256,
        }
    }
}

/// One fragment of a reassembled datagram.
#[derive(Clone, Copy, Debug, Default, Eq, Hash, PartialEq)]
pub struct FragmentInfo {
    /// The frame number the caller passed with the fragment.
    pub frame: u64,
    /// The fragment offset in bytes.
    pub offset: u16,
    /// The fragment's payload length.
    pub len: u16,
}

/// Why a fragment was not kept. The datagram it belonged to is dropped with it.
#[derive(Clone, Copy, Debug, Eq, Hash, PartialEq)]
#[non_exhaustive]
pub enum DropReason {
    /// The fragment ends past `max_datagram_len`.
    TooLong {
        /// The datagram length the fragment implies (header included).
        len: usize,
        /// The limit.
        max: usize,
    },
    /// The datagram already has `max_fragments` fragments.
    TooManyFragments,
    /// Keeping the fragment would buffer more than `max_buffered_bytes`.
    BufferFull,
    /// The fragment was cut by the capture's snapshot length: fewer payload bytes than the
    /// header's `total length` claims.
    Truncated {
        /// The payload length the header claims.
        claimed: usize,
        /// The bytes captured.
        captured: usize,
    },
}

impl fmt::Display for DropReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match *self {
            Self::TooLong { len, max } => write!(f, "datagram of {len} bytes exceeds {max}"),
            Self::TooManyFragments => f.write_str("too many fragments"),
            Self::BufferFull => f.write_str("reassembly buffers full"),
            Self::Truncated { claimed, captured } => {
                write!(
                    f,
                    "fragment cut by the capture: {captured} of {claimed} bytes"
                )
            }
        }
    }
}

/// What [`Reassembler::push`] did with a packet.
#[derive(Clone, Copy, Debug, Eq, PartialEq)]
pub enum Reassembly<'a> {
    /// Not a fragment: the payload as given, borrowed, not copied.
    Unfragmented(&'a [u8]),
    /// A fragment, kept until the rest arrives.
    Buffered {
        /// Fragments received so far for this datagram.
        fragments: usize,
    },
    /// The fragment completed its datagram.
    Complete {
        /// The reassembled payload (the IP header is that of the fragments; `payload` follows it).
        payload: &'a [u8],
        /// The fragments in arrival order.
        fragments: &'a [FragmentInfo],
        /// Some byte arrived in more than one fragment (the first copy was kept).
        overlap: bool,
        /// A later copy of some byte, or a second last fragment, disagreed with the first.
        conflict: bool,
    },
    /// The fragment was refused and its datagram dropped.
    Dropped(DropReason),
}

impl fmt::Display for Reassembly<'_> {
    /// A short description, e.g. `reassembled from 3 fragments (overlapping)`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Unfragmented(_) => f.write_str("not fragmented"),
            Self::Buffered { fragments } => {
                write!(f, "fragment kept for reassembly ({fragments} so far)")
            }
            Self::Complete {
                fragments,
                overlap,
                conflict,
                ..
            } => {
                write!(f, "reassembled from {} fragments", fragments.len())?;
                match (overlap, conflict) {
                    (_, true) => f.write_str(" (conflicting overlap, first copy kept)"),
                    (true, false) => f.write_str(" (overlapping)"),
                    (false, false) => Ok(()),
                }
            }
            Self::Dropped(reason) => write!(f, "fragment dropped: {reason}"),
        }
    }
}

/// Counters since the reassembler was made.
#[derive(Clone, Copy, Debug, Default, Eq, Hash, PartialEq)]
pub struct ReassemblerStats {
    /// Datagrams completed.
    pub reassembled: u64,
    /// Datagrams dropped because their time ran out.
    pub timed_out: u64,
    /// Datagrams evicted to make room for a newer one.
    pub evicted: u64,
    /// Fragments refused (see [`DropReason`]).
    pub dropped: u64,
}

#[derive(Clone, Copy, Debug, Eq, Hash, Ord, PartialEq, PartialOrd)]
struct Key {
    src: Ipv4Addr,
    dst: Ipv4Addr,
    protocol: Protocol,
    ident: u16,
}

/// The single hole of a datagram no fragment has reached yet.
const EVERYTHING: Range<usize> = 0..usize::MAX;

#[derive(Debug)]
struct Datagram {
    data: Vec<u8>,
    /// Sorted, disjoint byte ranges not yet received; the last ends at `usize::MAX` until the last
    /// fragment is seen.
    holes: Vec<Range<usize>>,
    /// The payload length, once the last fragment has been seen.
    total: Option<usize>,
    first_seen: Timestamp,
    fragments: Vec<FragmentInfo>,
    overlap: bool,
    conflict: bool,
}

/// Reassembles IPv4 datagrams from fragments, within fixed resource limits.
///
/// ```
/// use dmvpn_ip::ipv4::{Protocol, Repr};
/// use dmvpn_ip::{Reassembler, Reassembly, Timestamp};
/// use core::net::Ipv4Addr;
///
/// let header = |frag_offset, more_frags| Repr {
///     dscp: 0, ecn: 0, ident: 7, dont_frag: false, more_frags, frag_offset, ttl: 64,
///     protocol: Protocol::UDP, checksum: 0, src: Ipv4Addr::new(10, 0, 0, 1),
///     dst: Ipv4Addr::new(10, 0, 0, 2), options: &[], payload_len: 8,
/// };
/// let mut reassembler = Reassembler::default();
/// let now = Timestamp::new(100, 0);
/// // The second half first, then the first half.
/// assert!(matches!(reassembler.push(now, 1, &header(8, false), b"world!!!"), Reassembly::Buffered { .. }));
/// let Reassembly::Complete { payload, fragments, .. } = reassembler.push(now, 2, &header(0, true), b"hello, w") else {
///     panic!("not complete");
/// };
/// assert_eq!(payload, b"hello, wworld!!!");
/// assert_eq!(fragments.len(), 2);
/// assert_eq!(reassembler.in_flight(), 0);
/// ```
#[derive(Debug, Default)]
pub struct Reassembler {
    config: ReassemblerConfig,
    datagrams: BTreeMap<Key, Datagram>,
    buffered: usize,
    /// The last completed datagram, kept so `push` can lend it out.
    done: Vec<u8>,
    done_fragments: Vec<FragmentInfo>,
    stats: ReassemblerStats,
}

impl Reassembler {
    /// A reassembler with the given limits.
    #[must_use]
    pub fn new(config: ReassemblerConfig) -> Self {
        Self {
            config,
            ..Self::default()
        }
    }

    /// The limits.
    #[must_use]
    pub const fn config(&self) -> &ReassemblerConfig {
        &self.config
    }

    /// The counters.
    #[must_use]
    pub const fn stats(&self) -> ReassemblerStats {
        self.stats
    }

    /// Datagrams waiting for fragments.
    #[must_use]
    pub fn in_flight(&self) -> usize {
        self.datagrams.len()
    }

    /// Payload bytes buffered for datagrams in flight (allocated capacity).
    #[must_use]
    pub const fn buffered_bytes(&self) -> usize {
        self.buffered
    }

    /// Drops datagrams that have waited longer than the timeout at capture time `now`; returns how
    /// many. [`Reassembler::push`] calls this for every fragment.
    pub fn expire(&mut self, now: Timestamp) -> usize {
        let timeout = self.config.timeout;
        let before = self.datagrams.len();
        let mut freed = 0;
        self.datagrams.retain(|_, datagram| {
            let keep = now.saturating_duration_since(datagram.first_seen) <= timeout;
            if !keep {
                freed += datagram.data.capacity();
            }
            keep
        });
        self.buffered -= freed;
        let expired = before - self.datagrams.len();
        self.stats.timed_out += expired as u64;
        expired
    }

    /// Takes one IPv4 packet: its parsed `header` and its `payload` (`ipv4::Packet::payload`).
    ///
    /// `frame` is recorded in [`FragmentInfo`] and otherwise ignored. `now` drives the timeouts;
    /// captures are mostly in time order, and a timestamp earlier than a datagram's first fragment
    /// does not expire it.
    pub fn push<'a>(
        &'a mut self,
        now: Timestamp,
        frame: u64,
        header: &ipv4::Repr<'_>,
        payload: &'a [u8],
    ) -> Reassembly<'a> {
        if !header.is_fragment() {
            return Reassembly::Unfragmented(payload);
        }
        self.expire(now);
        if payload.len() < header.payload_len {
            self.stats.dropped += 1;
            return Reassembly::Dropped(DropReason::Truncated {
                claimed: header.payload_len,
                captured: payload.len(),
            });
        }
        let key = Key {
            src: header.src,
            dst: header.dst,
            protocol: header.protocol,
            ident: header.ident,
        };
        let start = usize::from(header.frag_offset);
        let end = start + payload.len();
        let max_payload = self
            .config
            .max_datagram_len
            .saturating_sub(ipv4::HEADER_LEN);
        if end > max_payload {
            return self.refuse(
                key,
                DropReason::TooLong {
                    len: end + ipv4::HEADER_LEN,
                    max: self.config.max_datagram_len,
                },
            );
        }
        if !self.datagrams.contains_key(&key) {
            if self.config.max_datagrams == 0 {
                return self.refuse(key, DropReason::BufferFull);
            }
            while self.datagrams.len() >= self.config.max_datagrams {
                self.evict_oldest();
            }
            self.datagrams.insert(
                key,
                Datagram {
                    data: Vec::new(),
                    holes: Vec::from([EVERYTHING]),
                    total: None,
                    first_seen: now,
                    fragments: Vec::new(),
                    overlap: false,
                    conflict: false,
                },
            );
        }
        let Some(datagram) = self.datagrams.get_mut(&key) else {
            return self.refuse(key, DropReason::BufferFull);
        };
        if datagram.fragments.len() >= self.config.max_fragments {
            return self.refuse(key, DropReason::TooManyFragments);
        }
        // The last fragment fixes the end; a different second claim is a conflict and loses.
        let mut end = end;
        if !header.more_frags {
            match datagram.total {
                None => {
                    datagram.total = Some(end);
                    if datagram.data.len() > end {
                        datagram.conflict = true;
                        datagram.data.truncate(end);
                    }
                    datagram.holes.retain_mut(|hole| {
                        hole.end = hole.end.min(end);
                        hole.start < hole.end
                    });
                }
                Some(total) if total != end => datagram.conflict = true,
                Some(_) => {}
            }
        }
        if let Some(total) = datagram.total
            && end > total
        {
            datagram.conflict = true;
            end = total;
        }
        let end = end.max(start);
        if end > datagram.data.len() {
            let growth = end.saturating_sub(datagram.data.capacity());
            if self.buffered + growth > self.config.max_buffered_bytes {
                return self.refuse(key, DropReason::BufferFull);
            }
            let before = datagram.data.capacity();
            datagram.data.reserve_exact(end - datagram.data.len());
            datagram.data.resize(end, 0);
            self.buffered += datagram.data.capacity() - before;
        }
        let payload = payload.get(..end - start).unwrap_or_default();
        fill(datagram, start, payload);
        datagram.fragments.push(FragmentInfo {
            frame,
            offset: header.frag_offset,
            len: u16::try_from(payload.len()).unwrap_or(u16::MAX),
        });
        if !datagram.holes.is_empty() {
            return Reassembly::Buffered {
                fragments: datagram.fragments.len(),
            };
        }
        let Some(mut datagram) = self.datagrams.remove(&key) else {
            return Reassembly::Buffered { fragments: 0 };
        };
        self.buffered -= datagram.data.capacity();
        self.stats.reassembled += 1;
        core::mem::swap(&mut self.done, &mut datagram.data);
        core::mem::swap(&mut self.done_fragments, &mut datagram.fragments);
        Reassembly::Complete {
            payload: &self.done,
            fragments: &self.done_fragments,
            overlap: datagram.overlap,
            conflict: datagram.conflict,
        }
    }

    fn refuse(&mut self, key: Key, reason: DropReason) -> Reassembly<'static> {
        if let Some(datagram) = self.datagrams.remove(&key) {
            self.buffered -= datagram.data.capacity();
        }
        self.stats.dropped += 1;
        Reassembly::Dropped(reason)
    }

    /// Drops the datagram that started first (ties broken by key, so the choice is deterministic).
    fn evict_oldest(&mut self) {
        let oldest = self
            .datagrams
            .iter()
            .min_by_key(|(key, datagram)| (datagram.first_seen, **key))
            .map(|(k, _)| *k);
        if let Some(datagram) = oldest.and_then(|key| self.datagrams.remove(&key)) {
            self.buffered -= datagram.data.capacity();
            self.stats.evicted += 1;
        }
    }
}

/// Copies the parts of `payload` (at `start`) that fall into holes, splits those holes, and notes
/// bytes that were already there.
fn fill(datagram: &mut Datagram, start: usize, payload: &[u8]) {
    let end = start + payload.len();
    let mut filled = 0;
    let mut holes = Vec::with_capacity(datagram.holes.len() + 1);
    // Bytes of [start, end) outside every hole were received before: compare them.
    let mut covered_from = start;
    for hole in datagram.holes.drain(..) {
        if hole.end <= start || hole.start >= end {
            holes.push(hole);
            continue;
        }
        let (s, e) = (hole.start.max(start), hole.end.min(end));
        if covered_from < s {
            compare(
                &mut datagram.conflict,
                &datagram.data,
                covered_from..s,
                payload,
                start,
            );
        }
        covered_from = e;
        if let (Some(dst), Some(src)) = (
            datagram.data.get_mut(s..e),
            payload.get(s - start..e - start),
        ) {
            dst.copy_from_slice(src);
        }
        filled += e - s;
        if hole.start < s {
            holes.push(hole.start..s);
        }
        if e < hole.end {
            holes.push(e..hole.end);
        }
    }
    if covered_from < end {
        compare(
            &mut datagram.conflict,
            &datagram.data,
            covered_from..end,
            payload,
            start,
        );
    }
    if filled < payload.len() {
        datagram.overlap = true;
    }
    datagram.holes = holes;
}

fn compare(conflict: &mut bool, data: &[u8], range: Range<usize>, payload: &[u8], start: usize) {
    let old = data.get(range.clone());
    let new = payload.get(range.start - start..range.end - start);
    if old != new {
        *conflict = true;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn header(ident: u16, frag_offset: u16, more_frags: bool) -> ipv4::Repr<'static> {
        let (src, dst) = (Ipv4Addr::new(192, 0, 2, 1), Ipv4Addr::new(192, 0, 2, 2));
        ipv4::Repr {
            ident,
            more_frags,
            frag_offset,
            ..ipv4::Repr::new(src, dst, Protocol::GRE, 0)
        }
    }

    fn data(len: usize) -> Vec<u8> {
        (0..len).map(|i| (i * 7 + i / 256) as u8).collect()
    }

    /// Splits `payload` into fragments of `size` bytes: (offset, more, bytes).
    fn split(payload: &[u8], size: usize) -> Vec<(u16, bool, Vec<u8>)> {
        let chunks: Vec<_> = payload.chunks(size).collect();
        let n = chunks.len();
        chunks
            .into_iter()
            .enumerate()
            .map(|(i, c)| ((i * size) as u16, i + 1 < n, c.to_vec()))
            .collect()
    }

    fn run(
        r: &mut Reassembler,
        ident: u16,
        fragments: &[(u16, bool, Vec<u8>)],
    ) -> Option<(Vec<u8>, bool, bool)> {
        let mut out = None;
        for (i, (offset, more, bytes)) in fragments.iter().enumerate() {
            match r.push(
                Timestamp::new(1, 0),
                i as u64 + 1,
                &header(ident, *offset, *more),
                bytes,
            ) {
                Reassembly::Complete {
                    payload,
                    overlap,
                    conflict,
                    ..
                } => {
                    assert!(out.is_none(), "completed twice");
                    out = Some((payload.to_vec(), overlap, conflict));
                }
                Reassembly::Buffered { .. } => {}
                other => panic!("{other:?}"),
            }
        }
        out
    }

    #[test]
    fn unfragmented_passes_through_borrowed() {
        let mut r = Reassembler::default();
        let payload = [1, 2, 3];
        let Reassembly::Unfragmented(out) =
            r.push(Timestamp::default(), 1, &header(1, 0, false), &payload)
        else {
            panic!()
        };
        assert!(core::ptr::eq(out, &payload[..]));
        assert_eq!(r.in_flight(), 0);
    }

    #[test]
    fn in_order_reversed_and_shuffled() {
        let payload = data(4000);
        let fragments = split(&payload, 1480);
        let mut r = Reassembler::default();
        assert_eq!(
            run(&mut r, 1, &fragments),
            Some((payload.clone(), false, false))
        );
        let mut reversed = fragments.clone();
        reversed.reverse();
        assert_eq!(
            run(&mut r, 2, &reversed),
            Some((payload.clone(), false, false))
        );
        let small = split(&payload, 8);
        let mut shuffled = small.clone();
        // A fixed permutation: stride 7 over 500 fragments.
        for i in 0..shuffled.len() {
            shuffled[i] = small[(i * 7) % small.len()].clone();
        }
        let mut r = Reassembler::new(ReassemblerConfig {
            max_fragments: 1000,
            ..ReassemblerConfig::default()
        });
        assert_eq!(run(&mut r, 3, &shuffled), Some((payload, false, false)));
        assert_eq!(r.stats().reassembled, 1);
        assert_eq!((r.in_flight(), r.buffered_bytes()), (0, 0));
    }

    #[test]
    fn overlaps_and_duplicates_first_copy_wins() {
        let payload = data(3000);
        // Overlapping, consistent: [0, 1600) then [1000, 3000).
        let fragments = vec![
            (0, true, payload[..1600].to_vec()),
            (1000, false, payload[1000..].to_vec()),
        ];
        let mut r = Reassembler::default();
        assert_eq!(
            run(&mut r, 1, &fragments),
            Some((payload.clone(), true, false))
        );
        // Duplicated fragment.
        let mut dup = split(&payload, 1000);
        dup.insert(1, dup[0].clone());
        assert_eq!(run(&mut r, 2, &dup), Some((payload.clone(), true, false)));
        // Conflicting overlap: the second copy of [1000, 1600) differs and loses.
        let mut evil = payload[1000..].to_vec();
        evil[..600].fill(0xee);
        let fragments = vec![
            (0, true, payload[..1600].to_vec()),
            (1000, false, evil.clone()),
        ];
        assert_eq!(
            run(&mut r, 3, &fragments),
            Some((payload.clone(), true, true))
        );
        // The same in the other order keeps the other bytes: deterministic by arrival.
        let fragments = vec![
            (1000, false, evil.clone()),
            (0, true, payload[..1600].to_vec()),
        ];
        let mut expected = payload[..1000].to_vec();
        expected.extend_from_slice(&evil);
        assert_eq!(run(&mut r, 4, &fragments), Some((expected, true, true)));
    }

    #[test]
    fn conflicting_last_fragments() {
        let payload = data(100);
        let mut r = Reassembler::default();
        // Two "last" fragments disagree on the length: the first claim wins.
        let with_extra = vec![
            (48, false, data(80)),
            (48, false, payload[48..].to_vec()),
            (0, true, payload[..48].to_vec()),
        ];
        let (out, _, conflict) = run(&mut r, 1, &with_extra).unwrap();
        assert_eq!(out.len(), 80 + 48);
        assert!(conflict);
        // Data past a known end is cut.
        let past_end = vec![(48, false, payload[48..].to_vec()), (0, true, data(120))];
        let (out, overlap, conflict) = run(&mut r, 2, &past_end).unwrap();
        assert_eq!(out.len(), 100);
        assert!(overlap && conflict);
    }

    #[test]
    fn truncated_fragments_and_messages() {
        let mut r = Reassembler::default();
        let h = ipv4::Repr {
            payload_len: 1480,
            ..header(1, 0, true)
        };
        let outcome = r.push(Timestamp::default(), 1, &h, &[0; 96]);
        assert_eq!(
            outcome,
            Reassembly::Dropped(DropReason::Truncated {
                claimed: 1480,
                captured: 96
            })
        );
        assert_eq!(
            outcome.to_string(),
            "fragment dropped: fragment cut by the capture: 96 of 1480 bytes"
        );
        assert_eq!(r.in_flight(), 0);
        let kept = r.push(Timestamp::default(), 2, &header(2, 0, true), &[0; 8]);
        assert_eq!(kept.to_string(), "fragment kept for reassembly (1 so far)");
        let done = r
            .push(Timestamp::default(), 3, &header(2, 4, false), &[0; 8])
            .to_string();
        assert_eq!(done, "reassembled from 2 fragments (overlapping)");
        assert_eq!(Reassembly::Unfragmented(&[]).to_string(), "not fragmented");
        let too_long = DropReason::TooLong {
            len: 65_536,
            max: 65_535,
        };
        for (reason, message) in [
            (too_long, "datagram of 65536 bytes exceeds 65535"),
            (DropReason::TooManyFragments, "too many fragments"),
            (DropReason::BufferFull, "reassembly buffers full"),
        ] {
            assert_eq!(reason.to_string(), message);
        }
    }

    #[test]
    fn timeouts_use_capture_time() {
        let mut r = Reassembler::default();
        let h = header(9, 0, true);
        assert!(matches!(
            r.push(Timestamp::new(0, 0), 1, &h, &[0; 8]),
            Reassembly::Buffered { fragments: 1 }
        ));
        assert_eq!(r.expire(Timestamp::new(30, 0)), 0);
        assert_eq!(r.expire(Timestamp::new(30, 1)), 1);
        assert_eq!(
            (r.in_flight(), r.buffered_bytes(), r.stats().timed_out),
            (0, 0, 1)
        );
        // The tail alone no longer completes anything.
        assert!(matches!(
            r.push(Timestamp::new(31, 0), 2, &header(9, 8, false), &[0; 8]),
            Reassembly::Buffered { .. }
        ));
    }

    #[test]
    fn limits() {
        let mut r = Reassembler::default();
        assert_eq!(
            r.push(Timestamp::default(), 1, &header(1, 65_512, false), &[0; 8]),
            Reassembly::Dropped(DropReason::TooLong {
                len: 65_540,
                max: 65_535
            })
        );
        // The largest legal datagram passes.
        let payload = data(65_515);
        assert_eq!(
            run(&mut r, 2, &split(&payload, 32_760)),
            Some((payload, false, false))
        );

        let config = ReassemblerConfig {
            max_fragments: 3,
            ..ReassemblerConfig::default()
        };
        let mut r = Reassembler::new(config);
        for i in 0..3 {
            assert!(matches!(
                r.push(Timestamp::default(), i, &header(1, 0, true), &[0; 8]),
                Reassembly::Buffered { .. }
            ));
        }
        assert_eq!(
            r.push(Timestamp::default(), 4, &header(1, 8, true), &[0; 8]),
            Reassembly::Dropped(DropReason::TooManyFragments)
        );
        assert_eq!(r.in_flight(), 0);

        let config = ReassemblerConfig {
            max_buffered_bytes: 1000,
            ..ReassemblerConfig::default()
        };
        let mut r = Reassembler::new(config);
        assert!(matches!(
            r.push(Timestamp::default(), 1, &header(1, 0, true), &[0; 800]),
            Reassembly::Buffered { .. }
        ));
        assert_eq!(
            r.push(Timestamp::default(), 2, &header(2, 0, true), &[0; 800]),
            Reassembly::Dropped(DropReason::BufferFull)
        );
        assert_eq!((r.in_flight(), r.buffered_bytes()), (1, 800));
        assert_eq!(r.stats().dropped, 1);
    }

    #[test]
    fn oldest_datagram_is_evicted() {
        let config = ReassemblerConfig {
            max_datagrams: 4,
            ..ReassemblerConfig::default()
        };
        let mut r = Reassembler::new(config);
        for ident in 0..10u16 {
            let now = Timestamp::new(i64::from(ident), 0);
            assert!(matches!(
                r.push(now, 1, &header(ident, 0, true), &[ident as u8; 8]),
                Reassembly::Buffered { .. }
            ));
            assert!(r.in_flight() <= 4);
        }
        assert_eq!(r.stats().evicted, 6);
        // Datagram 9 survived, datagram 0 did not.
        let now = Timestamp::new(10, 0);
        assert!(matches!(
            r.push(now, 2, &header(9, 8, false), &[1; 8]),
            Reassembly::Complete { .. }
        ));
        assert!(matches!(
            r.push(now, 3, &header(0, 8, false), &[1; 8]),
            Reassembly::Buffered { fragments: 1 }
        ));
    }

    #[test]
    fn arbitrary_fragments_respect_the_caps() {
        let config = ReassemblerConfig {
            max_datagrams: 8,
            max_fragments: 16,
            max_buffered_bytes: 64 << 10,
            ..ReassemblerConfig::default()
        };
        bolero::check!()
            .with_type::<Vec<(u8, u16, bool, u16, u8)>>()
            .for_each(|fragments| {
                let mut r = Reassembler::new(config);
                for (i, (ident, offset, more, len, time)) in fragments.iter().enumerate() {
                    let payload = vec![*ident; usize::from(*len) % 4000];
                    let h = header(u16::from(ident % 16), offset & 0xfff8, *more);
                    let now = Timestamp::new(i64::from(*time), 0);
                    if let Reassembly::Complete {
                        payload, fragments, ..
                    } = r.push(now, i as u64, &h, &payload)
                    {
                        assert!(payload.len() <= 65_515);
                        assert!(fragments.len() <= 16);
                    }
                    assert!(r.in_flight() <= 8);
                    assert!(r.buffered_bytes() <= 64 << 10);
                }
            });
    }
}
