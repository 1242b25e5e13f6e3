//! Time as the state machines see it: an [`Instant`] the caller passes in and a [`Duration`]
//! between two of them, both whole microseconds in an `i64` (as smoltcp's `time` module).
//!
//! The machines never read a clock. A router feeds them from its monotonic clock, a replayer
//! from pcap timestamps and the tests from a virtual clock, so every run is reproducible. The
//! epoch is whatever the caller picks; only differences matter.
//!
//! Arithmetic saturates instead of overflowing: a deadline computed from a huge hold time lands
//! at [`Instant::MAX`], never wraps into the past.

use core::fmt;
use core::ops::{Add, AddAssign, Sub};

/// Defines a whole-microsecond time type: the struct, `ZERO`, `MAX`, the saturating constructors
/// and the getters that [`Instant`] and [`Duration`] share, each with its own doc lines.
macro_rules! microseconds {
    (
        $(#[$meta:meta])*
        $name:ident {
            zero: $zero:literal,
            max: $max:literal,
            micros: $micros:literal,
            millis: $millis:literal,
            secs: $secs:literal,
            total_micros: $total_micros:literal,
            total_millis: $total_millis:literal,
        }
    ) => {
        $(#[$meta])*
        #[derive(Clone, Copy, Default, Eq, Hash, Ord, PartialEq, PartialOrd)]
        pub struct $name {
            micros: i64,
        }

        impl $name {
            #[doc = $zero]
            pub const ZERO: Self = Self { micros: 0 };
            #[doc = $max]
            pub const MAX: Self = Self { micros: i64::MAX };

            #[doc = $micros]
            #[must_use]
            pub const fn from_micros(micros: i64) -> Self {
                Self { micros }
            }

            #[doc = $millis]
            #[must_use]
            pub const fn from_millis(millis: i64) -> Self {
                Self {
                    micros: millis.saturating_mul(1000),
                }
            }

            #[doc = $secs]
            #[must_use]
            pub const fn from_secs(secs: i64) -> Self {
                Self {
                    micros: secs.saturating_mul(1_000_000),
                }
            }

            #[doc = $total_micros]
            #[must_use]
            pub const fn total_micros(self) -> i64 {
                self.micros
            }

            #[doc = $total_millis]
            #[must_use]
            pub const fn total_millis(self) -> i64 {
                self.micros / 1000
            }
        }
    };
}

microseconds! {
    /// A point in time, in microseconds since an epoch the caller chooses.
    Instant {
        zero: "The epoch.",
        max: "The latest representable instant (\"never\").",
        micros: "An instant `micros` microseconds after the epoch.",
        millis: "An instant `millis` milliseconds after the epoch.",
        secs: "An instant `secs` seconds after the epoch.",
        total_micros: "Microseconds since the epoch.",
        total_millis: "Whole milliseconds since the epoch (rounded towards zero).",
    }
}

impl Instant {
    /// The time from `earlier` to `self`; negative if `earlier` is later.
    #[must_use]
    pub const fn duration_since(self, earlier: Self) -> Duration {
        Duration::from_micros(self.micros.saturating_sub(earlier.micros))
    }

    /// The time from `self` until `later`, or zero if `later` has passed.
    #[must_use]
    pub const fn until(self, later: Self) -> Duration {
        let d = later.micros.saturating_sub(self.micros);
        Duration::from_micros(if d < 0 { 0 } else { d })
    }
}

impl Add<Duration> for Instant {
    type Output = Self;

    fn add(self, rhs: Duration) -> Self {
        Self::from_micros(self.micros.saturating_add(rhs.micros))
    }
}

impl AddAssign<Duration> for Instant {
    fn add_assign(&mut self, rhs: Duration) {
        *self = *self + rhs;
    }
}

impl Sub<Duration> for Instant {
    type Output = Self;

    fn sub(self, rhs: Duration) -> Self {
        Self::from_micros(self.micros.saturating_sub(rhs.micros))
    }
}

impl Sub for Instant {
    type Output = Duration;

    fn sub(self, rhs: Self) -> Duration {
        self.duration_since(rhs)
    }
}

/// Prints seconds with millisecond precision, e.g. `12.345s`.
impl fmt::Display for Instant {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(&Duration::from_micros(self.micros), f)
    }
}

impl fmt::Debug for Instant {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Instant({self})")
    }
}

microseconds! {
    /// A span of time in microseconds; may be negative (the result of subtracting a later instant).
    Duration {
        zero: "No time.",
        max: "The longest representable span.",
        micros: "`micros` microseconds.",
        millis: "`millis` milliseconds.",
        secs: "`secs` seconds.",
        total_micros: "The span in microseconds.",
        total_millis: "Whole milliseconds (rounded towards zero).",
    }
}

impl Duration {
    /// Whole seconds (rounded towards zero).
    #[must_use]
    pub const fn secs(self) -> i64 {
        self.micros / 1_000_000
    }

    /// The span multiplied by `factor`, saturating.
    #[must_use]
    pub const fn saturating_mul(self, factor: i64) -> Self {
        Self::from_micros(self.micros.saturating_mul(factor))
    }

    /// The span divided by `divisor` (rounded towards zero); zero for a zero divisor.
    #[must_use]
    pub const fn div(self, divisor: i64) -> Self {
        match self.micros.checked_div(divisor) {
            Some(micros) => Self::from_micros(micros),
            None => Self::ZERO,
        }
    }

    /// The smaller of the two.
    #[must_use]
    pub const fn min(self, other: Self) -> Self {
        if self.micros <= other.micros {
            self
        } else {
            other
        }
    }
}

impl Add for Duration {
    type Output = Self;

    fn add(self, rhs: Self) -> Self {
        Self::from_micros(self.micros.saturating_add(rhs.micros))
    }
}

impl Sub for Duration {
    type Output = Self;

    fn sub(self, rhs: Self) -> Self {
        Self::from_micros(self.micros.saturating_sub(rhs.micros))
    }
}

impl From<core::time::Duration> for Duration {
    /// Saturates at [`Duration::MAX`].
    fn from(d: core::time::Duration) -> Self {
        Self::from_micros(i64::try_from(d.as_micros()).unwrap_or(i64::MAX))
    }
}

/// Prints seconds with millisecond precision, e.g. `2.500s` or `-0.001s`.
impl fmt::Display for Duration {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let sign = if self.micros < 0 { "-" } else { "" };
        let abs = self.micros.unsigned_abs();
        write!(
            f,
            "{sign}{}.{:03}s",
            abs / 1_000_000,
            abs % 1_000_000 / 1000
        )
    }
}

impl fmt::Debug for Duration {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Duration({self})")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn constructors_agree() {
        assert_eq!(Instant::from_secs(2), Instant::from_millis(2000));
        assert_eq!(Instant::from_millis(2), Instant::from_micros(2000));
        assert_eq!(Duration::from_secs(3), Duration::from_millis(3000));
        assert_eq!(Duration::from_secs(3).total_millis(), 3000);
        assert_eq!(Duration::from_millis(3500).secs(), 3);
        assert_eq!(Instant::from_micros(1999).total_millis(), 1);
    }

    #[test]
    fn arithmetic() {
        let t = Instant::from_secs(10);
        assert_eq!(t + Duration::from_millis(500), Instant::from_millis(10_500));
        assert_eq!(t - Duration::from_secs(11), Instant::from_secs(-1));
        assert_eq!(Instant::from_secs(12) - t, Duration::from_secs(2));
        assert_eq!(t - Instant::from_secs(12), Duration::from_secs(-2));
        assert_eq!(t.until(Instant::from_secs(12)), Duration::from_secs(2));
        assert_eq!(t.until(Instant::from_secs(8)), Duration::ZERO);
        let mut u = t;
        u += Duration::from_secs(1);
        assert_eq!(u, Instant::from_secs(11));
        assert_eq!(Duration::from_secs(7200).div(3), Duration::from_secs(2400));
        assert_eq!(Duration::from_secs(1).div(0), Duration::ZERO);
        assert_eq!(
            Duration::from_secs(1).saturating_mul(64),
            Duration::from_secs(64)
        );
        assert_eq!(
            Duration::from_secs(2) - Duration::from_secs(3),
            Duration::from_secs(-1)
        );
        assert_eq!(
            Duration::from_secs(2).min(Duration::from_secs(1)),
            Duration::from_secs(1)
        );
    }

    #[test]
    fn saturates() {
        assert_eq!(Instant::MAX + Duration::from_secs(1), Instant::MAX);
        assert_eq!(Instant::from_secs(i64::MAX), Instant::MAX);
        assert_eq!(Duration::MAX.saturating_mul(2), Duration::MAX);
        assert_eq!(
            Duration::from(core::time::Duration::from_secs(u64::MAX)),
            Duration::MAX
        );
        assert_eq!(
            Duration::from(core::time::Duration::from_millis(1500)),
            Duration::from_millis(1500)
        );
    }

    #[test]
    fn display() {
        assert_eq!(Instant::from_millis(12_345).to_string(), "12.345s");
        assert_eq!(format!("{:?}", Instant::from_secs(1)), "Instant(1.000s)");
        assert_eq!(Duration::from_micros(-1000).to_string(), "-0.001s");
        assert_eq!(
            format!("{:?}", Duration::from_millis(2500)),
            "Duration(2.500s)"
        );
    }
}
