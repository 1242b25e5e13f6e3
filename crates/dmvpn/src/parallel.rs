//! Decoding on several threads, with the output in capture order.
//!
//! Frames are read in batches and shared out by peer pair: every frame between the same two IP
//! addresses (either direction) goes to the same [`Decoder`], so the state that spans frames — an
//! SA's replay window, an IKE SA's IV chain, a datagram's fragments — stays on one thread, and each
//! thread's output is what a single decoder would have printed for those frames. The threads print
//! into memory; the caller's writer gets every frame's text in frame order. In a DMVPN capture at the
//! hub each spoke is a peer pair, so the work spreads as evenly as the spokes' traffic.
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

use std::io::{self, Read, Write};
use std::ops::Range;

use crate::capture::{CaptureError, CaptureReader, Frame, LinkType, Timestamp, link};
use crate::decode::Decoder;
use crate::output::Pending;

/// Frames read (and copied) per batch: large enough to amortise starting the threads, small enough
/// to keep memory flat.
const BATCH_FRAMES: usize = 4096;

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
    shard: usize,
}

/// Decodes every frame of `reader` with `shards` (one thread each), writing the output of each
/// frame to `out` in frame order; `progress` gets the file offset after each batch.
///
/// # Errors
/// A capture read error (the frames before it are written) or an output error.
pub fn decode<R: Read, S: Pending + Send>(
    reader: &mut CaptureReader<R>,
    shards: &mut [(Decoder, S)],
    out: &mut impl Write,
    mut progress: impl FnMut(u64),
) -> Result<(), ParallelError> {
    let mut data = Vec::new();
    let mut frames: Vec<Meta> = Vec::with_capacity(BATCH_FRAMES);
    let mut spans: Vec<Vec<(usize, Range<usize>)>> = shards.iter().map(|_| Vec::new()).collect();
    loop {
        data.clear();
        frames.clear();
        let mut read_error = None;
        while frames.len() < BATCH_FRAMES {
            match reader.next_frame() {
                Ok(Some(frame)) => {
                    let start = data.len();
                    data.extend_from_slice(frame.data);
                    frames.push(Meta {
                        number: frame.number,
                        timestamp: frame.timestamp,
                        link_type: frame.link_type,
                        interface: frame.interface,
                        original_len: frame.original_len,
                        offset: frame.offset,
                        bytes: start..data.len(),
                        shard: shard_of(frame.link_type, frame.data, shards.len()),
                    });
                }
                Ok(None) => break,
                Err(error) => {
                    read_error = Some(error);
                    break;
                }
            }
        }
        if frames.is_empty() {
            return read_error.map_or(Ok(()), |error| Err(error.into()));
        }
        decode_batch(&data, &frames, shards, &mut spans);
        write_in_order(&frames, shards, &mut spans, out)?;
        progress(frames.last().map_or(0, |meta| meta.offset));
        if let Some(error) = read_error {
            return Err(error.into());
        }
    }
}

fn decode_batch<S: Pending + Send>(
    data: &[u8],
    frames: &[Meta],
    shards: &mut [(Decoder, S)],
    spans: &mut [Vec<(usize, Range<usize>)>],
) {
    std::thread::scope(|scope| {
        for (index, ((decoder, sink), spans)) in shards.iter_mut().zip(spans.iter_mut()).enumerate()
        {
            scope.spawn(move || {
                for (position, meta) in frames
                    .iter()
                    .enumerate()
                    .filter(|(_, meta)| meta.shard == index)
                {
                    let frame = Frame {
                        number: meta.number,
                        timestamp: meta.timestamp,
                        link_type: meta.link_type,
                        interface: meta.interface,
                        data: data.get(meta.bytes.clone()).unwrap_or_default(),
                        original_len: meta.original_len,
                        offset: meta.offset,
                    };
                    let start = sink.pending().len();
                    decoder.decode(&frame, sink);
                    spans.push((position, start..sink.pending().len()));
                }
            });
        }
    });
}

/// Writes each frame's output in frame order: the shards' spans are each in order, so this merges them.
fn write_in_order<S: Pending>(
    frames: &[Meta],
    shards: &mut [(Decoder, S)],
    spans: &mut [Vec<(usize, Range<usize>)>],
    out: &mut impl Write,
) -> io::Result<()> {
    let mut next = vec![0usize; shards.len()];
    for (position, meta) in frames.iter().enumerate() {
        let shard = meta.shard;
        let Some((at, range)) = spans.get(shard).and_then(|spans| spans.get(next[shard])) else {
            continue;
        };
        debug_assert_eq!(*at, position);
        next[shard] += 1;
        out.write_all(
            shards[shard]
                .1
                .pending()
                .get(range.clone())
                .unwrap_or_default(),
        )?;
    }
    for ((_, sink), spans) in shards.iter_mut().zip(spans.iter_mut()) {
        sink.clear_pending();
        spans.clear();
    }
    Ok(())
}

/// The shard of a frame: a hash of its IP address pair, the same in both directions.
fn shard_of(link_type: LinkType, data: &[u8], shards: usize) -> usize {
    if shards <= 1 {
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
    // FNV-1a: cheap, and spreads consecutive addresses.
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    for &byte in low.iter().chain(high) {
        hash = (hash ^ u64::from(byte)).wrapping_mul(0x0100_0000_01b3);
    }
    usize::try_from(hash % shards as u64).unwrap_or(0)
}
