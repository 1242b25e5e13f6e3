//! Capture timestamps.

use core::fmt;
use core::time::Duration;

/// A capture timestamp: seconds and nanoseconds since 1970-01-01 00:00:00 UTC.
///
/// pcap stores microseconds or nanoseconds; pcapng stores a per-interface resolution
/// (`if_tsresol`) that the reader converts, so every frame carries the same representation.
/// Timestamps order by time, which is what the reassembler's timeouts compare.
///
/// ```
/// use dmvpn_ip::Timestamp;
/// use core::time::Duration;
///
/// let t = Timestamp::new(1_700_000_000, 123_456_000);
/// assert_eq!(t.to_string(), "1700000000.123456000");
/// assert_eq!(t.saturating_add(Duration::from_millis(900)), Timestamp::new(1_700_000_001, 23_456_000));
/// assert!(t < t.saturating_add(Duration::from_nanos(1)));
/// ```
#[derive(Clone, Copy, Debug, Default, Eq, Hash, Ord, PartialEq, PartialOrd)]
pub struct Timestamp {
    /// Whole seconds (negative before 1970, which only a pcapng `if_tsoffset` can produce).
    pub secs: i64,
    /// Nanoseconds within the second, always below 1 000 000 000.
    pub nanos: u32,
}

const NANOS_PER_SEC: u32 = 1_000_000_000;

impl Timestamp {
    /// A timestamp from seconds and nanoseconds; nanoseconds of a second or more carry into `secs`.
    #[must_use]
    pub const fn new(secs: i64, nanos: u32) -> Self {
        Self {
            secs: secs.saturating_add((nanos / NANOS_PER_SEC) as i64),
            nanos: nanos % NANOS_PER_SEC,
        }
    }

    /// The timestamp `duration` later, saturating at the largest representable time.
    #[must_use]
    pub fn saturating_add(self, duration: Duration) -> Self {
        let secs = i64::try_from(duration.as_secs()).unwrap_or(i64::MAX);
        let nanos = self.nanos + duration.subsec_nanos();
        let secs = self
            .secs
            .saturating_add(secs)
            .saturating_add(i64::from(nanos / NANOS_PER_SEC));
        Self {
            secs,
            nanos: nanos % NANOS_PER_SEC,
        }
    }

    /// The time from `earlier` to `self`, or zero if `earlier` is later.
    #[must_use]
    pub fn saturating_duration_since(self, earlier: Self) -> Duration {
        if self <= earlier {
            return Duration::ZERO;
        }
        let (secs, nanos) = if self.nanos >= earlier.nanos {
            (self.secs.abs_diff(earlier.secs), self.nanos - earlier.nanos)
        } else {
            (
                self.secs.abs_diff(earlier.secs) - 1,
                self.nanos + NANOS_PER_SEC - earlier.nanos,
            )
        };
        Duration::new(secs, nanos)
    }
}

impl fmt::Display for Timestamp {
    /// Seconds and nine digits of fraction, as `tshark -T fields -e frame.time_epoch` prints them.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.secs < 0 && self.nanos > 0 {
            // -0.5 s is secs = -1, nanos = 500 000 000.
            let whole = self.secs + 1;
            let sign = if whole == 0 { "-" } else { "" };
            write!(f, "{sign}{whole}.{:09}", NANOS_PER_SEC - self.nanos)
        } else {
            write!(f, "{}.{:09}", self.secs, self.nanos)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn display() {
        assert_eq!(Timestamp::new(0, 0).to_string(), "0.000000000");
        assert_eq!(Timestamp::new(-1, 500_000_000).to_string(), "-0.500000000");
        assert_eq!(Timestamp::new(-3, 250_000_000).to_string(), "-2.750000000");
        assert_eq!(Timestamp::new(5, 2_000_000_001).to_string(), "7.000000001");
    }

    #[test]
    fn arithmetic_saturates() {
        let max = Timestamp::new(i64::MAX, 999_999_999);
        assert_eq!(max.saturating_add(Duration::MAX).secs, i64::MAX);
        let a = Timestamp::new(10, 900_000_000);
        let b = Timestamp::new(12, 100_000_000);
        assert_eq!(b.saturating_duration_since(a), Duration::from_millis(1200));
        assert_eq!(a.saturating_duration_since(b), Duration::ZERO);
        assert_eq!(
            max.saturating_duration_since(Timestamp::new(i64::MIN, 0))
                .as_secs(),
            u64::MAX
        );
    }
}
