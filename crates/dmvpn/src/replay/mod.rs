//! Replaying a capture: onto an interface (`dmvpn replay FILE --iface IF`), or into the sans-IO
//! protocol machines of `dmvpn-proto` (`into`, with the `replay-into` feature; `dmvpn replay FILE
//! --into hub|spoke`).
//!
//! Onto an interface, every frame is sent as an Ethernet frame ([`rewrite::to_ethernet`]: as
//! captured, or with an Ethernet header in place of another link header), optionally with IPv4
//! addresses rewritten and the checksums that cover them fixed ([`rewrite`]), at the capture's own
//! pace scaled by a speed, at a fixed rate, or as fast as possible ([`Pace`], [`Schedule`]), once or
//! several times. Frames go through a [`FrameSink`]: a `PacketSocket` (feature `replay-socket`: an
//! `AF_PACKET` raw socket bound to the interface, Linux only, needs `CAP_NET_RAW`) or anything else,
//! e.g. a `Vec` in tests.
//!
//! ```
//! use std::time::Duration;
//! use dmvpn::replay::{self, Options, Pace};
//!
//! let capture = concat!(env!("CARGO_MANIFEST_DIR"), "/../../testdata/dmvpn/phase1.pcap");
//! let mut options = Options::new(Pace::Original { speed: 2.0 });
//! options.rewrite.add_str("192.0.2.1=198.18.0.1")?;
//! options.loops = 2;
//! let mut sent: Vec<Vec<u8>> = Vec::new();
//! let mut schedule = Vec::new();
//! let stats = replay::replay_file(capture, &options, &mut sent, |at: Duration| schedule.push(at))?;
//! assert_eq!(stats.sent, 84); // 42 frames, twice
//! assert_eq!(sent.len(), 84);
//! assert!(schedule.windows(2).all(|w| w[0] <= w[1]));
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

#[cfg(feature = "replay-into")]
pub mod into;
pub mod rewrite;
#[cfg(feature = "replay-socket")]
mod socket;

pub use rewrite::{AddressMap, EthernetAddrs, Mac, RewriteParseError, Rewritten};
#[cfg(feature = "replay-socket")]
pub use socket::PacketSocket;

use std::io::{self, Read};
use std::path::Path;
use std::time::Duration;

use crate::capture::{CaptureError, CaptureReader, Timestamp};

/// How fast frames go out.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Pace {
    /// The capture's own timing, the gaps divided by `speed` (2.0: twice as fast). A speed of zero
    /// or less, or not finite, means [`Pace::TopSpeed`].
    Original {
        /// The speed factor.
        speed: f64,
    },
    /// A fixed rate, packets per second (zero means [`Pace::TopSpeed`]).
    Pps(u32),
    /// As fast as the interface takes them.
    TopSpeed,
}

/// When each frame is due, as an offset from the start of the replay; computed from the capture's
/// timestamps, never measured.
///
/// With [`Pace::Original`], frame *i* of a pass is due at `base + (tᵢ − t₀) / speed`, where `t₀` is
/// the pass's first timestamp and `base` the offset the previous pass ended at (so a second pass
/// follows the first without a gap); timestamps that go backwards do not make the schedule go
/// backwards. With [`Pace::Pps`], the *n*-th frame of the whole replay is due at `n / pps`.
#[derive(Clone, Debug)]
pub struct Schedule {
    pace: Pace,
    base: Duration,
    first: Option<Timestamp>,
    last: Duration,
    sent: u64,
}

impl Schedule {
    /// A schedule starting at offset zero.
    #[must_use]
    pub fn new(pace: Pace) -> Self {
        let pace = match pace {
            Pace::Original { speed } if !(speed.is_finite() && speed > 0.0) => Pace::TopSpeed,
            Pace::Pps(0) => Pace::TopSpeed,
            other => other,
        };
        Self {
            pace,
            base: Duration::ZERO,
            first: None,
            last: Duration::ZERO,
            sent: 0,
        }
    }

    /// The offset at which the next frame, captured at `time`, is due.
    pub fn next(&mut self, time: Timestamp) -> Duration {
        let at = match self.pace {
            Pace::TopSpeed => Duration::ZERO,
            Pace::Pps(pps) => {
                let pps = u64::from(pps);
                let secs = self.sent / pps;
                let rest = self.sent % pps;
                Duration::from_secs(secs) + Duration::from_nanos(rest * 1_000_000_000 / pps)
            }
            Pace::Original { speed } => {
                let first = *self.first.get_or_insert(time);
                let gap = time.saturating_duration_since(first);
                let scaled =
                    Duration::try_from_secs_f64(gap.as_secs_f64() / speed).unwrap_or(Duration::MAX);
                self.base.saturating_add(scaled).max(self.last)
            }
        };
        self.sent += 1;
        self.last = at;
        at
    }

    /// Starts another pass over the capture: its first frame is due when the last one was.
    pub fn next_pass(&mut self) {
        self.base = self.last;
        self.first = None;
    }
}

/// What [`replay_file`] does.
#[derive(Clone, Debug)]
pub struct Options {
    /// How fast.
    pub pace: Pace,
    /// How many passes over the capture (at least one).
    pub loops: u32,
    /// IPv4 address rewrites.
    pub rewrite: AddressMap,
    /// Ethernet addresses of the frames sent.
    pub ethernet: EthernetAddrs,
}

impl Options {
    /// One pass at `pace`, nothing rewritten.
    #[must_use]
    pub fn new(pace: Pace) -> Self {
        Self {
            pace,
            loops: 1,
            rewrite: AddressMap::new(),
            ethernet: EthernetAddrs::default(),
        }
    }
}

/// Where replayed frames go.
pub trait FrameSink {
    /// Sends one Ethernet frame.
    ///
    /// # Errors
    ///
    /// The frame could not be sent (e.g. larger than the interface's MTU); the replay counts it and
    /// goes on.
    fn send(&mut self, frame: &[u8]) -> io::Result<()>;
}

impl FrameSink for Vec<Vec<u8>> {
    fn send(&mut self, frame: &[u8]) -> io::Result<()> {
        self.push(frame.to_vec());
        Ok(())
    }
}

/// What a replay did.
#[derive(Clone, Debug, Default, Eq, PartialEq)]
pub struct Stats {
    /// Frames read from the capture (all passes).
    pub frames: u64,
    /// Frames sent.
    pub sent: u64,
    /// Bytes sent.
    pub bytes: u64,
    /// Frames whose addresses were rewritten.
    pub rewritten: u64,
    /// Frames not sent: link type without an Ethernet form, or a network layer other than IPv4,
    /// IPv6 or ARP.
    pub skipped: u64,
    /// Frames the sink refused, and the first error.
    pub failed: u64,
    /// The first send error.
    pub first_error: Option<String>,
}

/// Why a replay stopped.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ReplayError {
    /// The capture could not be read.
    #[error(transparent)]
    Capture(#[from] CaptureError),
    /// Every frame of the first pass failed to send: the interface is wrong or down.
    #[error("no frame could be sent: {0}")]
    NothingSent(String),
}

/// Replays the capture at `path` into `sink`: for each frame, `wait(offset)` is called with the
/// offset from the start at which it is due ([`Schedule`]), then the frame is sent. The CLI's
/// `wait` sleeps until then; a test's can record the offsets.
///
/// # Errors
///
/// A capture that cannot be read (the passes re-read the file; a capture cut short is an error
/// after its whole frames are sent), or a first pass in which every frame failed to send.
pub fn replay_file(
    path: impl AsRef<Path>,
    options: &Options,
    sink: &mut impl FrameSink,
    wait: impl FnMut(Duration),
) -> Result<Stats, ReplayError> {
    let path = path.as_ref();
    let (stats, error) = replay(&mut || CaptureReader::open(path), options, sink, wait)?;
    match error {
        Some(error) => Err(error.into()),
        None => Ok(stats),
    }
}

/// [`replay_file`] over the capture `open` opens, from its start, for each pass (a file, or a copy
/// of a stream; a stream read once is enough for one pass). A capture that ends in a read error
/// (cut short in the middle of a packet, damaged) is replayed up to it in each pass, and the error
/// comes back with the figures.
///
/// # Errors
///
/// A capture whose header cannot be read, or a first pass in which every frame failed to send.
pub fn replay<R: Read>(
    open: &mut dyn FnMut() -> Result<CaptureReader<R>, CaptureError>,
    options: &Options,
    sink: &mut impl FrameSink,
    mut wait: impl FnMut(Duration),
) -> Result<(Stats, Option<CaptureError>), ReplayError> {
    let mut stats = Stats::default();
    let mut schedule = Schedule::new(options.pace);
    let mut error = None;
    for pass in 0..options.loops.max(1) {
        if pass > 0 {
            schedule.next_pass();
        }
        let mut reader = open()?;
        reader.end_at_errors();
        while let Ok(Some(frame)) = reader.next_frame() {
            stats.frames += 1;
            let Some(mut bytes) =
                rewrite::to_ethernet(frame.link_type, frame.data, options.ethernet)
            else {
                stats.skipped += 1;
                continue;
            };
            if rewrite::rewrite_frame(&mut bytes, &options.rewrite).changed {
                stats.rewritten += 1;
            }
            wait(schedule.next(frame.timestamp));
            match sink.send(&bytes) {
                Ok(()) => {
                    stats.sent += 1;
                    stats.bytes += bytes.len() as u64;
                }
                Err(error) => {
                    stats.failed += 1;
                    stats.first_error.get_or_insert_with(|| error.to_string());
                }
            }
        }
        error = reader.take_error();
        if pass == 0 && stats.sent == 0 && stats.failed > 0 {
            return Err(ReplayError::NothingSent(
                stats.first_error.clone().unwrap_or_default(),
            ));
        }
    }
    Ok((stats, error))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ts(secs: i64, millis: u32) -> Timestamp {
        Timestamp::new(secs, millis * 1_000_000)
    }

    fn ms(n: u64) -> Duration {
        Duration::from_millis(n)
    }

    #[test]
    fn original_timing_scaled() {
        let times = [ts(100, 0), ts(100, 250), ts(101, 0), ts(103, 0)];
        let mut one = Schedule::new(Pace::Original { speed: 1.0 });
        let at: Vec<_> = times.iter().map(|t| one.next(*t)).collect();
        assert_eq!(at, [ms(0), ms(250), ms(1000), ms(3000)]);
        let mut fast = Schedule::new(Pace::Original { speed: 4.0 });
        let at: Vec<_> = times.iter().map(|t| fast.next(*t)).collect();
        assert_eq!(
            at,
            [ms(0), ms(62) + Duration::from_micros(500), ms(250), ms(750)]
        );
        let mut slow = Schedule::new(Pace::Original { speed: 0.5 });
        assert_eq!(slow.next(ts(5, 0)), ms(0));
        assert_eq!(slow.next(ts(6, 0)), ms(2000));
    }

    #[test]
    fn passes_follow_each_other() {
        let mut s = Schedule::new(Pace::Original { speed: 1.0 });
        for t in [ts(10, 0), ts(12, 0)] {
            s.next(t);
        }
        s.next_pass();
        let at: Vec<_> = [ts(10, 0), ts(11, 0), ts(12, 0)]
            .iter()
            .map(|t| s.next(*t))
            .collect();
        assert_eq!(at, [ms(2000), ms(3000), ms(4000)]);
    }

    #[test]
    fn backwards_timestamps_do_not_go_back() {
        let mut s = Schedule::new(Pace::Original { speed: 1.0 });
        let at: Vec<_> = [ts(10, 0), ts(12, 0), ts(11, 0), ts(9, 0), ts(13, 0)]
            .iter()
            .map(|t| s.next(*t))
            .collect();
        assert_eq!(at, [ms(0), ms(2000), ms(2000), ms(2000), ms(3000)]);
    }

    #[test]
    fn fixed_rate_and_top_speed() {
        let mut s = Schedule::new(Pace::Pps(4));
        let at: Vec<_> = (0..6).map(|i| s.next(ts(1000 - i, 0))).collect();
        assert_eq!(at, [ms(0), ms(250), ms(500), ms(750), ms(1000), ms(1250)]);
        s.next_pass();
        assert_eq!(s.next(ts(0, 0)), ms(1500), "the rate runs across passes");
        let mut s = Schedule::new(Pace::Pps(3));
        let at: Vec<_> = (0..4).map(|_| s.next(ts(0, 0))).collect();
        assert_eq!(at[1], Duration::from_nanos(333_333_333));
        assert_eq!(at[3], ms(1000));
        for pace in [
            Pace::TopSpeed,
            Pace::Pps(0),
            Pace::Original { speed: 0.0 },
            Pace::Original { speed: -1.0 },
            Pace::Original { speed: f64::NAN },
        ] {
            let mut s = Schedule::new(pace);
            assert_eq!(s.next(ts(0, 0)), Duration::ZERO);
            assert_eq!(s.next(ts(50, 0)), Duration::ZERO, "{pace:?}");
        }
    }

    #[test]
    fn huge_gaps_saturate() {
        let mut s = Schedule::new(Pace::Original { speed: 1e-300 });
        s.next(ts(0, 0));
        assert_eq!(s.next(ts(1, 0)), Duration::MAX);
    }

    struct Refuse;

    impl FrameSink for Refuse {
        fn send(&mut self, _: &[u8]) -> io::Result<()> {
            Err(io::Error::other("interface down"))
        }
    }

    #[test]
    fn a_sink_that_takes_nothing_stops_the_replay() {
        let capture = concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../../testdata/dmvpn/phase1.pcap"
        );
        let error =
            replay_file(capture, &Options::new(Pace::TopSpeed), &mut Refuse, |_| {}).unwrap_err();
        assert_eq!(error.to_string(), "no frame could be sent: interface down");
    }

    #[test]
    fn a_capture_cut_short_is_replayed_up_to_the_cut_in_every_pass() {
        let capture = concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../../testdata/dmvpn/phase1.pcap"
        );
        let bytes = std::fs::read(capture).unwrap();
        let cut = &bytes[..bytes.len() - 50];
        let mut options = Options::new(Pace::TopSpeed);
        options.loops = 2;
        let mut sent = Vec::new();
        let mut open = || CaptureReader::new(cut);
        let (stats, error) = replay(&mut open, &options, &mut sent, |_| {}).unwrap();
        assert_eq!(stats.sent, 2 * 41);
        let error = error.unwrap();
        assert!(error.is_cut_short(), "{error}");
        assert_eq!(error.position().and_then(|at| at.frame), Some(42));
        // The path-based form reports the cut as an error.
        let path =
            std::env::temp_dir().join(format!("dmvpn-replay-cut-{}.pcap", std::process::id()));
        std::fs::write(&path, cut).unwrap();
        let result = replay_file(&path, &options, &mut Vec::new(), |_| {});
        std::fs::remove_file(&path).unwrap();
        assert!(matches!(result, Err(ReplayError::Capture(e)) if e.is_cut_short()));
    }

    #[test]
    fn phase1_replay_schedule_and_frames() {
        let capture = concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../../testdata/dmvpn/phase1.pcap"
        );
        let mut original: Vec<(Timestamp, Vec<u8>)> = Vec::new();
        let mut reader = CaptureReader::open(capture).unwrap();
        while let Some(frame) = reader.next_frame().unwrap() {
            original.push((frame.timestamp, frame.data.to_vec()));
        }
        let mut options = Options::new(Pace::Original { speed: 10.0 });
        options.loops = 2;
        let mut sent = Vec::new();
        let mut offsets = Vec::new();
        let stats = replay_file(capture, &options, &mut sent, |at| offsets.push(at)).unwrap();
        assert_eq!(stats.frames, 2 * original.len() as u64);
        assert_eq!(stats.sent, stats.frames);
        assert_eq!(stats.rewritten, 0);
        // Unrewritten Ethernet frames go out byte for byte.
        for (i, frame) in sent.iter().enumerate() {
            assert_eq!(frame, &original[i % original.len()].1);
        }
        let t0 = original[0].0;
        let span = original.last().unwrap().0.saturating_duration_since(t0) / 10;
        for (i, at) in offsets.iter().enumerate() {
            let (time, _) = original[i % original.len()];
            let base = if i < original.len() {
                Duration::ZERO
            } else {
                span
            };
            let expected = base + time.saturating_duration_since(t0) / 10;
            let diff = at.abs_diff(expected);
            assert!(
                diff <= Duration::from_nanos(2),
                "frame {i}: {at:?} vs {expected:?}"
            );
        }
    }
}
