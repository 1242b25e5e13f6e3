//! Decoding on several threads, with the output in capture order.
//!
//! Frames are read in batches and shared out by peer pair: every frame between the same two IP
//! addresses (either direction) goes to the same lane, and each lane has its own [`Decoder`], so the
//! state that spans frames — an SA's replay window, an IKE SA's IV chain, a datagram's fragments —
//! stays in one decoder, which sees its frames in capture order and prints what a single decoder
//! would have printed for them. The caller's writer gets every frame's text in frame order.
//!
//! There are many more lanes than threads (16 per thread), and a lane is not tied to a thread: in
//! each batch the threads take lanes from a queue, the lanes that cost the most in earlier batches
//! first, so one busy spoke (or a few spokes on a slow cipher) does not leave the other threads
//! idle. While the threads decode a batch, the calling thread writes the previous batch's output and
//! reads the next batch, so reading and writing overlap the decoding instead of adding to it.
//!
//! ```
//! use dmvpn::capture::CaptureReader;
//! use dmvpn::decode::Decoder;
//! use dmvpn::keys::EspKeys;
//! use dmvpn::output::JsonLines;
//!
//! let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/../../testdata/dmvpn");
//! let keys = || EspKeys::from_file(format!("{dir}/phase1.esp_sa"));
//! let mut shards = vec![(Decoder::new(keys()?), JsonLines::detached()), (Decoder::new(keys()?), JsonLines::detached())];
//! let mut out = Vec::new();
//! let mut reader = CaptureReader::open(format!("{dir}/phase1.pcap"))?;
//! dmvpn::parallel::decode(&mut reader, &mut shards, &mut out, |_| {})?;
//! assert_eq!(out.iter().filter(|&&byte| byte == b'\n').count(), 42);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

use std::any::Any;
use std::io::{self, Read, Write};
use std::ops::Range;
use std::panic::{self, AssertUnwindSafe};
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Barrier, Mutex, MutexGuard, PoisonError, RwLock};
use std::time::Instant;

use crate::capture::{CaptureError, CaptureReader, Frame, LinkType, Timestamp, link};
use crate::decode::Decoder;
use crate::output::Pending;

/// Frames read (and copied) per batch: large enough to amortise the hand-over between threads,
/// small enough to keep memory flat (two batches and their output are held at a time).
const BATCH_FRAMES: usize = 4096;

/// Lanes (decoders) per thread: enough that the lanes' work can be balanced over the threads.
const LANES_PER_THREAD: usize = 16;

/// How [`decode_with`] reads its input and writes its output.
#[derive(Clone, Copy, Debug, Default, Eq, PartialEq)]
pub struct Options {
    /// Flush the writer after each batch's output, so that a pipe or a terminal gets frames as
    /// they are decoded.
    pub flush_each_batch: bool,
    /// The input is a stream that can keep the reader waiting (a pipe, a FIFO, a terminal, a
    /// socket): a batch ends where the reader would have to wait for more bytes, and each batch's
    /// output is written before the next batch is read, so frames that arrived are printed
    /// without waiting for the ones behind them. On a file, reading, decoding and writing overlap.
    pub live_input: bool,
    /// Read no frame after this one (tshark's `-c N`, or the last frame a filter can keep): the
    /// reader stops there, and a live input is not waited on for more.
    pub last_frame: Option<u64>,
}

/// Why a parallel decode stopped.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ParallelError {
    /// The capture could not be read.
    #[error(transparent)]
    Capture(#[from] CaptureError),
    /// The output could not be written.
    #[error("writing the output: {0}")]
    Output(#[from] io::Error),
}

/// A copied frame of a batch.
struct Meta {
    number: u64,
    timestamp: Timestamp,
    link_type: LinkType,
    interface: u32,
    original_len: u32,
    offset: u64,
    bytes: Range<usize>,
}

/// One batch of frames copied out of the reader, shared out by lane.
#[derive(Default)]
struct Batch {
    data: Vec<u8>,
    frames: Vec<Meta>,
    /// The positions (in `frames`) of each lane's frames, in capture order.
    lanes: Vec<Vec<u32>>,
    /// The captured bytes of each lane's frames.
    lane_bytes: Vec<u64>,
    /// The lanes that have frames, the costliest first.
    order: Vec<u32>,
    /// The next entry of `order` to hand out.
    next: AtomicUsize,
}

impl Batch {
    fn clear(&mut self, lanes: usize) {
        self.data.clear();
        self.frames.clear();
        self.lanes.resize_with(lanes, Vec::new);
        self.lanes.iter_mut().for_each(Vec::clear);
        self.lane_bytes.clear();
        self.lane_bytes.resize(lanes, 0);
        self.order.clear();
        *self.next.get_mut() = 0;
    }
}

/// What one thread printed for one batch: the bytes, and each frame's part of them.
#[derive(Default)]
struct Printed {
    bytes: Vec<u8>,
    /// (position of the frame in the batch, its output in `bytes`)
    spans: Vec<(u32, Range<usize>)>,
}

/// What the threads share.
struct Shared<'d> {
    /// The batch being decoded and the one being read (round `k` decodes `batches[k % 2]`).
    batches: [RwLock<Batch>; 2],
    /// Per thread, what it printed in the current and the previous round.
    printed: Vec<[Mutex<Printed>; 2]>,
    /// One decoder per lane.
    decoders: Vec<Mutex<&'d mut Decoder>>,
    /// Nanoseconds each lane took in the current round.
    lane_nanos: Vec<AtomicU64>,
    /// Start and end of each round, for all threads and the caller's.
    barrier: Barrier,
    /// Stop after the current round (an error, or a panic in a thread).
    abort: AtomicBool,
    panic: Mutex<Option<Box<dyn Any + Send>>>,
}

/// Runs `f`, turning a panic into an abort of the decode (the panic is raised again at the end),
/// so that no thread is left waiting at the barrier for one that unwound.
fn guarded<T>(shared: &Shared<'_>, f: impl FnOnce() -> T) -> Option<T> {
    match panic::catch_unwind(AssertUnwindSafe(f)) {
        Ok(value) => Some(value),
        Err(payload) => {
            shared.abort.store(true, Ordering::Relaxed);
            lock(&shared.panic).get_or_insert(payload);
            None
        }
    }
}

/// Locks a mutex even if a thread panicked while holding it (the panic is re-raised at the end).
fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}

/// Decodes every frame of `reader` on `shards.len()` threads, writing the output of each frame to
/// `out` in frame order; `progress` gets the file offset after each batch is written.
///
/// Each thread prints into its shard's sink; the shards' decoders, and copies of them with the same
/// keys (16 per thread), decode the frames. At the end the copies' counters are added to the first
/// shard's decoder.
///
/// # Errors
/// A capture read error (the frames before it are written) or an output error.
///
/// # Panics
/// If decoding panics on a thread (a bug), the panic is raised again here once the threads stop.
pub fn decode<R: Read, S: Pending + Send>(
    reader: &mut CaptureReader<R>,
    shards: &mut [(Decoder, S)],
    out: &mut impl Write,
    progress: impl FnMut(u64),
) -> Result<(), ParallelError> {
    decode_in_batches(
        reader,
        shards,
        out,
        progress,
        BATCH_FRAMES,
        Options::default(),
    )
}

/// [`decode`], reading and writing as `options` say (a live stream, a pipe).
///
/// # Errors
/// As [`decode`].
///
/// # Panics
/// As [`decode`].
pub fn decode_with<R: Read, S: Pending + Send>(
    reader: &mut CaptureReader<R>,
    shards: &mut [(Decoder, S)],
    out: &mut impl Write,
    progress: impl FnMut(u64),
    options: Options,
) -> Result<(), ParallelError> {
    decode_in_batches(reader, shards, out, progress, BATCH_FRAMES, options)
}

/// [`decode_with`] with `batch_frames` frames per batch.
fn decode_in_batches<R: Read, S: Pending + Send>(
    reader: &mut CaptureReader<R>,
    shards: &mut [(Decoder, S)],
    out: &mut impl Write,
    progress: impl FnMut(u64),
    batch_frames: usize,
    options: Options,
) -> Result<(), ParallelError> {
    let threads = shards.len();
    if threads == 0 {
        return Ok(());
    }
    let lanes = if threads == 1 {
        1
    } else {
        threads * LANES_PER_THREAD
    };
    let (decoders, sinks): (Vec<&mut Decoder>, Vec<&mut S>) = shards
        .iter_mut()
        .map(|(decoder, sink)| (decoder, sink))
        .unzip();
    let mut forks: Vec<Decoder> = (threads..lanes)
        .map(|lane| decoders[lane % threads].fork())
        .collect();
    let shared = Shared {
        batches: Default::default(),
        printed: (0..threads).map(|_| Default::default()).collect(),
        decoders: decoders
            .into_iter()
            .chain(forks.iter_mut())
            .map(Mutex::new)
            .collect(),
        lane_nanos: (0..lanes).map(|_| AtomicU64::new(0)).collect(),
        barrier: Barrier::new(threads + 1),
        abort: AtomicBool::new(false),
        panic: Mutex::new(None),
    };
    let result = std::thread::scope(|scope| {
        for (thread, sink) in sinks.into_iter().enumerate() {
            let shared = &shared;
            scope.spawn(move || work(shared, thread, sink));
        }
        lead(&shared, reader, out, progress, batch_frames, options)
    });
    if let Some(payload) = lock(&shared.panic).take() {
        panic::resume_unwind(payload);
    }
    drop(shared);
    if let Some((first, _)) = shards.first_mut() {
        for fork in &forks {
            first.add_stats(fork);
        }
    }
    result
}

/// The calling thread: reads the next batch and writes the previous one's output while the
/// threads decode the current one (on a live input: writes a batch's output once it is decoded,
/// then reads the next).
fn lead<R: Read>(
    shared: &Shared<'_>,
    reader: &mut CaptureReader<R>,
    out: &mut impl Write,
    mut progress: impl FnMut(u64),
    batch_frames: usize,
    options: Options,
) -> Result<(), ParallelError> {
    let live = options.live_input;
    let mut reader = Batches {
        reader,
        batch_frames: batch_frames.max(1),
        live,
        error: None,
        last_frame: options.last_frame,
        ended: false,
    };
    let mut slots = Vec::new();
    // Writes the output of the round whose slot is `slot`; a write error stops the decode.
    let mut write = |slot: usize, offset: Option<u64>, write_error: &mut Option<io::Error>| {
        if write_error.is_some() {
            return;
        }
        let written = guarded(shared, || {
            write_in_order(shared, slot, &mut slots, out).and_then(|()| {
                if options.flush_each_batch {
                    out.flush()
                } else {
                    Ok(())
                }
            })
        });
        match written {
            Some(Err(error)) => {
                *write_error = Some(error);
                shared.abort.store(true, Ordering::Relaxed);
            }
            Some(Ok(())) => {
                if let Some(offset) = offset {
                    guarded(shared, || progress(offset));
                }
            }
            None => {}
        }
    };
    let lanes = shared.decoders.len();
    // Estimated nanoseconds per 1024 captured bytes of each lane, from the batches so far.
    let mut cost = vec![1u64; lanes];
    let mut write_error = None;
    {
        let mut first = shared.batches[0]
            .write()
            .unwrap_or_else(PoisonError::into_inner);
        guarded(shared, || reader.read(&mut first, lanes, &cost));
    }
    let read_next = |reader: &mut Batches<'_, R>, slot: usize, cost: &[u64]| {
        let mut batch = shared.batches[slot]
            .write()
            .unwrap_or_else(PoisonError::into_inner);
        if reader.error.is_some() || shared.abort.load(Ordering::Relaxed) {
            batch.clear(lanes);
        } else {
            guarded(shared, || reader.read(&mut batch, lanes, cost));
        }
    };
    let mut previous_offset = None;
    for round in 0.. {
        shared.barrier.wait();
        let (current, next) = (round % 2, (round + 1) % 2);
        let (done, last_offset) = {
            let batch = shared.batches[current]
                .read()
                .unwrap_or_else(PoisonError::into_inner);
            (
                batch.frames.is_empty(),
                batch.frames.last().map(|meta| meta.offset),
            )
        };
        if !live {
            if round > 0 {
                write(next, previous_offset, &mut write_error);
            }
            if !done {
                read_next(&mut reader, next, &cost);
            }
        }
        shared.barrier.wait();
        if done {
            break;
        }
        previous_offset = last_offset;
        // The lanes' cost in this round teaches the next rounds' order.
        {
            let batch = shared.batches[current]
                .read()
                .unwrap_or_else(PoisonError::into_inner);
            for ((estimate, nanos), &bytes) in cost
                .iter_mut()
                .zip(&shared.lane_nanos)
                .zip(&batch.lane_bytes)
            {
                let nanos = nanos.swap(0, Ordering::Relaxed);
                if let Some(per_kib) = nanos.saturating_mul(1024).checked_div(bytes) {
                    *estimate = per_kib.max(1);
                }
            }
        }
        if live {
            write(current, last_offset, &mut write_error);
            read_next(&mut reader, next, &cost);
        }
    }
    match (write_error, reader.error) {
        (Some(error), _) => Err(error.into()),
        (None, Some(error)) => Err(error.into()),
        (None, None) => Ok(()),
    }
}

/// The capture, read a batch at a time.
struct Batches<'r, R> {
    reader: &'r mut CaptureReader<R>,
    batch_frames: usize,
    /// End a batch where the reader would wait for input.
    live: bool,
    /// The read error that ended the last batch; no batch is read after it.
    error: Option<CaptureError>,
    /// See [`Options::last_frame`].
    last_frame: Option<u64>,
    /// The last frame wanted has been read.
    ended: bool,
}

impl<R: Read> Batches<'_, R> {
    /// Reads the next frames into `batch` and orders its lanes by estimated cost (`cost`: per
    /// lane, nanoseconds per 1024 bytes). A read error ends the batch early and is kept.
    fn read(&mut self, batch: &mut Batch, lanes: usize, cost: &[u64]) {
        batch.clear(lanes);
        while batch.frames.len() < self.batch_frames && !self.ended {
            if self.live && !batch.frames.is_empty() && !self.reader.has_buffered_frame() {
                break;
            }
            match self.reader.next_frame() {
                Ok(Some(frame)) => {
                    self.ended = self.last_frame.is_some_and(|last| frame.number >= last);
                    let start = batch.data.len();
                    batch.data.extend_from_slice(frame.data);
                    let lane = lane_of(frame.link_type, frame.data, lanes);
                    let position = batch.frames.len() as u32;
                    if let (Some(positions), Some(bytes)) =
                        (batch.lanes.get_mut(lane), batch.lane_bytes.get_mut(lane))
                    {
                        positions.push(position);
                        *bytes += frame.data.len() as u64 + 1;
                    }
                    batch.frames.push(Meta {
                        number: frame.number,
                        timestamp: frame.timestamp,
                        link_type: frame.link_type,
                        interface: frame.interface,
                        original_len: frame.original_len,
                        offset: frame.offset,
                        bytes: start..batch.data.len(),
                    });
                }
                Ok(None) => break,
                Err(read_error) => {
                    self.error = Some(read_error);
                    break;
                }
            }
        }
        let Batch {
            lanes: positions,
            lane_bytes,
            order,
            ..
        } = batch;
        order.extend(
            (0..lanes as u32)
                .filter(|&lane| positions.get(lane as usize).is_some_and(|p| !p.is_empty())),
        );
        let estimate = |lane: u32| {
            let lane = lane as usize;
            let bytes = lane_bytes.get(lane).copied().unwrap_or(0);
            bytes.saturating_mul(cost.get(lane).copied().unwrap_or(1))
        };
        order.sort_by_key(|&lane| core::cmp::Reverse(estimate(lane)));
    }
}

/// A decoding thread: in each round, takes lanes of the current batch until none is left.
fn work<S: Pending>(shared: &Shared<'_>, thread: usize, sink: &mut S) {
    for round in 0.. {
        shared.barrier.wait();
        let batch = shared.batches[round % 2]
            .read()
            .unwrap_or_else(PoisonError::into_inner);
        let done = batch.frames.is_empty();
        if let Some(printed) = shared.printed.get(thread) {
            let mut printed = lock(&printed[round % 2]);
            let Printed { bytes, spans } = &mut *printed;
            spans.clear();
            if !done && !shared.abort.load(Ordering::Relaxed) {
                guarded(shared, || decode_lanes(shared, &batch, sink, spans));
            }
            sink.take_pending(bytes);
        }
        drop(batch);
        shared.barrier.wait();
        if done {
            break;
        }
    }
}

/// Decodes whole lanes of `batch` into `sink`, noting where each frame's output is.
fn decode_lanes<S: Pending>(
    shared: &Shared<'_>,
    batch: &Batch,
    sink: &mut S,
    spans: &mut Vec<(u32, Range<usize>)>,
) {
    while let Some(&lane) = batch.order.get(batch.next.fetch_add(1, Ordering::Relaxed)) {
        let lane = lane as usize;
        let (Some(decoder), Some(positions)) = (shared.decoders.get(lane), batch.lanes.get(lane))
        else {
            continue;
        };
        let started = Instant::now();
        let mut decoder = lock(decoder);
        for &position in positions {
            let Some(meta) = batch.frames.get(position as usize) else {
                continue;
            };
            let frame = Frame {
                number: meta.number,
                timestamp: meta.timestamp,
                link_type: meta.link_type,
                interface: meta.interface,
                data: batch.data.get(meta.bytes.clone()).unwrap_or_default(),
                original_len: meta.original_len,
                offset: meta.offset,
            };
            let start = sink.pending().len();
            decoder.decode(&frame, sink);
            spans.push((position, start..sink.pending().len()));
        }
        if let Some(nanos) = shared.lane_nanos.get(lane) {
            let elapsed = u64::try_from(started.elapsed().as_nanos()).unwrap_or(u64::MAX);
            nanos.store(elapsed, Ordering::Relaxed);
        }
    }
}

/// Writes what the threads printed in round slot `slot`, frame by frame in frame order.
fn write_in_order(
    shared: &Shared<'_>,
    slot: usize,
    slots: &mut Vec<Option<(usize, Range<usize>)>>,
    out: &mut impl Write,
) -> io::Result<()> {
    let printed: Vec<_> = shared
        .printed
        .iter()
        .map(|slots| lock(&slots[slot]))
        .collect();
    slots.clear();
    slots.resize(printed.iter().map(|p| p.spans.len()).sum(), None);
    for (thread, printed) in printed.iter().enumerate() {
        for (position, range) in &printed.spans {
            if let Some(slot) = slots.get_mut(*position as usize) {
                *slot = Some((thread, range.clone()));
            }
        }
    }
    // Consecutive frames printed one after the other by the same thread go out in one write.
    let mut pending: Option<(usize, Range<usize>)> = None;
    for (thread, range) in slots.iter().flatten() {
        match &mut pending {
            Some((last, run)) if last == thread && run.end == range.start => run.end = range.end,
            _ => {
                if let Some((last, run)) = pending.replace((*thread, range.clone())) {
                    write_run(&printed, last, run, out)?;
                }
            }
        }
    }
    if let Some((last, run)) = pending {
        write_run(&printed, last, run, out)?;
    }
    Ok(())
}

fn write_run(
    printed: &[MutexGuard<'_, Printed>],
    thread: usize,
    run: Range<usize>,
    out: &mut impl Write,
) -> io::Result<()> {
    let bytes = printed
        .get(thread)
        .and_then(|printed| printed.bytes.get(run))
        .unwrap_or_default();
    out.write_all(bytes)
}

/// The lane of a frame: a hash of its IP address pair, the same in both directions.
fn lane_of(link_type: LinkType, data: &[u8], lanes: usize) -> usize {
    if lanes <= 1 {
        return 0;
    }
    let Ok(frame) = link::decode(link_type, data) else {
        return 0;
    };
    let addresses = match frame.payload.first().map(|byte| byte >> 4) {
        Some(4) => frame.payload.get(12..16).zip(frame.payload.get(16..20)),
        Some(6) => frame.payload.get(8..24).zip(frame.payload.get(24..40)),
        _ => None,
    };
    let Some((a, b)) = addresses else {
        return 0;
    };
    let (low, high) = if a <= b { (a, b) } else { (b, a) };
    // FNV-1a over the pair, then MurmurHash3's 64-bit finaliser: FNV alone leaves addresses that
    // differ in their last byte in the same lane for any power-of-two lane count.
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    for &byte in low.iter().chain(high) {
        hash = (hash ^ u64::from(byte)).wrapping_mul(0x0100_0000_01b3);
    }
    hash ^= hash >> 33;
    hash = hash.wrapping_mul(0xff51_afd7_ed55_8ccd);
    hash ^= hash >> 33;
    hash = hash.wrapping_mul(0xc4ce_b9fe_1a85_ec53);
    hash ^= hash >> 33;
    usize::try_from(hash % lanes as u64).unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::capture::fuzzing;
    use crate::keys::EspKeys;
    use crate::output::JsonLines;

    const DIR: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../../testdata/dmvpn");

    fn keys() -> EspKeys {
        EspKeys::from_file(format!("{DIR}/phase1.esp_sa")).unwrap()
    }

    #[test]
    fn both_directions_share_a_lane() {
        let a = fuzzing::example_pcap();
        let mut reader = CaptureReader::new(&a[..]).unwrap();
        let frame = reader.next_frame().unwrap().unwrap();
        let mut swapped = frame.data.to_vec();
        // Ethernet (14 bytes), then the IPv4 source at 12 and destination at 16.
        let (src, dst) = (14 + 12..14 + 16, 14 + 16..14 + 20);
        let source: Vec<u8> = swapped[src.clone()].to_vec();
        let destination: Vec<u8> = swapped[dst.clone()].to_vec();
        swapped[src].copy_from_slice(&destination);
        swapped[dst].copy_from_slice(&source);
        for lanes in [2, 3, 32] {
            assert_eq!(
                lane_of(frame.link_type, frame.data, lanes),
                lane_of(frame.link_type, &swapped, lanes)
            );
        }
    }

    #[test]
    fn lanes_spread_fifty_spokes() {
        // Ethernet + IPv4 between a hub and spokes 203.0.113.11 to .60, as the perf corpus has.
        let mut used = [0u32; 32];
        for spoke in 11..61u8 {
            let mut frame = vec![0u8; 14 + 20];
            frame[12..14].copy_from_slice(&[0x08, 0x00]);
            frame[14] = 0x45;
            frame[14 + 12..14 + 16].copy_from_slice(&[203, 0, 113, spoke]);
            frame[14 + 16..14 + 20].copy_from_slice(&[198, 51, 100, 1]);
            used[lane_of(LinkType::ETHERNET, &frame, 32)] += 1;
        }
        let busiest = used.iter().max().copied().unwrap_or(0);
        let empty = used.iter().filter(|&&count| count == 0).count();
        // 50 spokes thrown at random into 32 lanes: the busiest gets about 5, about 7 stay empty.
        assert!(busiest <= 7, "{used:?}");
        assert!(empty <= 12, "{used:?}");
    }

    /// A pipe that hands out `piece` bytes per read.
    struct Trickle {
        bytes: Vec<u8>,
        at: usize,
        piece: usize,
    }

    impl Read for Trickle {
        fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
            let n = self.piece.min(buf.len()).min(self.bytes.len() - self.at);
            buf[..n].copy_from_slice(&self.bytes[self.at..self.at + n]);
            self.at += n;
            Ok(n)
        }
    }

    #[test]
    fn a_live_stream_is_printed_batch_by_batch_as_it_arrives() {
        let bytes = std::fs::read(format!("{DIR}/phase1.pcap")).unwrap();
        let mut reader = CaptureReader::new(&bytes[..]).unwrap();
        let mut decoder = Decoder::new(keys());
        let mut one = JsonLines::new(Vec::new());
        while let Some(frame) = reader.next_frame().unwrap() {
            decoder.decode(&frame, &mut one);
        }
        let one = one.finish().unwrap();
        for (threads, piece) in [(2, 1), (2, 300), (3, 4096)] {
            let mut shards: Vec<_> = (0..threads)
                .map(|_| (Decoder::new(keys()), JsonLines::detached()))
                .collect();
            let input = Trickle {
                bytes: bytes.clone(),
                at: 0,
                piece,
            };
            let mut reader = CaptureReader::new(input).unwrap();
            let mut out = Vec::new();
            let mut batches = 0;
            let options = Options {
                flush_each_batch: true,
                live_input: true,
                last_frame: None,
            };
            decode_with(
                &mut reader,
                &mut shards,
                &mut out,
                |_| batches += 1,
                options,
            )
            .unwrap();
            assert!(out == one, "{threads} threads, {piece}-byte reads");
            // A batch ends where the bytes read so far end: many batches from small reads.
            let expected = bytes.len().div_ceil(piece.max(200)).min(42) / 2;
            assert!(
                batches >= expected,
                "{batches} batches from {piece}-byte reads"
            );
        }
    }

    #[test]
    fn threads_print_what_one_decoder_prints_over_many_batches() {
        let mut reader = CaptureReader::open(format!("{DIR}/phase1.pcap")).unwrap();
        let mut decoder = Decoder::new(keys());
        let mut one = JsonLines::new(Vec::new());
        while let Some(frame) = reader.next_frame().unwrap() {
            decoder.decode(&frame, &mut one);
        }
        let one = one.finish().unwrap();
        for (threads, batch) in [(1, 4096), (2, 4096), (2, 1), (3, 5), (4, 41)] {
            let mut shards: Vec<_> = (0..threads)
                .map(|_| (Decoder::new(keys()), JsonLines::detached()))
                .collect();
            let mut out = Vec::new();
            let mut offsets = Vec::new();
            let mut reader = CaptureReader::open(format!("{DIR}/phase1.pcap")).unwrap();
            let progress = |offset| offsets.push(offset);
            let options = Options::default();
            decode_in_batches(&mut reader, &mut shards, &mut out, progress, batch, options)
                .unwrap();
            assert!(out == one, "{threads} threads, {batch} frames a batch");
            assert_eq!(offsets.len(), 42_usize.div_ceil(batch));
            assert!(offsets.is_sorted());
            // The forks' counters are added to the first shard's decoder.
            let frames: u64 = shards
                .iter()
                .map(|(decoder, _)| decoder.stats().frames)
                .sum();
            assert_eq!(frames, 42);
        }
    }
}
