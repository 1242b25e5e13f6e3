//! Composite metrics from K values: classic (RFC 7868 §5.6.1) and wide (RFC 7868 §5.6.2).
//!
//! Both formulas are
//! `(K1·BW + K2·BW/(256 − load) + K3·delay [+ K6·ext]) · K5/(reliability + K4)`, where the last factor
//! is 1 when K5 is 0 (RFC 7868 §5.5), computed in integers as routers do (each division truncates).
//!
//! ```
//! use dmvpn_eigrp::metric;
//!
//! // FastEthernet: 100 Mbit/s, 100 µs. The classic metric of a connected route is 28160.
//! let bw = metric::scale_bandwidth(100_000);
//! let delay = metric::scale_delay(10);
//! assert_eq!(metric::classic(&[1, 0, 1, 0, 0, 0], bw, delay, 255, 1), 28_160);
//! // GigabitEthernet in named mode: 1 Gbit/s, 10 µs → 1 310 720.
//! assert_eq!(metric::wide(&[1, 0, 1, 0, 0, 0], 1_000_000, 10_000_000, 255, 1, 0), 1_310_720);
//! ```

use crate::tlv::{ClassicMetric, WideMetric};

/// The classic metric of an unreachable route.
pub const CLASSIC_INFINITY: u32 = u32::MAX;
/// The wide metric of an unreachable route.
pub const WIDE_INFINITY: u64 = u64::MAX;
/// Bandwidth reference: 10⁷ kbit/s (RFC 7868 §5.6.1).
pub const BANDWIDTH_REFERENCE: u64 = 10_000_000;
/// Wide metric scale: 65536 (RFC 7868 §5.6.2, `EIGRP_WIDE_SCALE`).
pub const WIDE_SCALE: u64 = 65_536;
/// Wide metric delay unit: 10⁶ picoseconds (`EIGRP_DELAY_PICO`).
pub const DELAY_PICO: u64 = 1_000_000;
/// The RIB scale that maps a wide metric to the 32-bit routing table metric (`EIGRP_RIB_SCALE`).
pub const RIB_SCALE: u64 = 128;

/// Scaled bandwidth of the classic TLVs: `256 · ⌊10⁷ / kbit/s⌋`, truncating before scaling as IOS
/// does (so a T1 gives 256 · 6476); 0 kbit/s gives `u32::MAX`.
#[must_use]
pub fn scale_bandwidth(kbps: u32) -> u32 {
    if kbps == 0 {
        return u32::MAX;
    }
    u32::try_from(BANDWIDTH_REFERENCE / u64::from(kbps) * 256).unwrap_or(u32::MAX)
}

/// Scaled delay of the classic TLVs: `256 · delay in tens of microseconds` (saturating).
#[must_use]
pub fn scale_delay(tens_of_us: u32) -> u32 {
    tens_of_us.saturating_mul(256)
}

fn combine(k: &[u8; 6], bw: u64, delay: u64, reliability: u8, load: u8, extra: u64) -> Option<u64> {
    let [k1, k2, k3, k4, k5, k6] = k.map(u64::from);
    let load_div = 256 - u64::from(load);
    let mut m = k1.checked_mul(bw)?;
    m = m.checked_add(k2.checked_mul(bw)? / load_div)?;
    m = m.checked_add(k3.checked_mul(delay)?)?;
    m = m.checked_add(k6.checked_mul(extra)?)?;
    if k5 != 0 {
        let den = u64::from(reliability) + k4;
        if den == 0 {
            return None;
        }
        m = m.checked_mul(k5)? / den;
    }
    Some(m)
}

/// The classic composite metric from scaled bandwidth and delay as carried on the wire (RFC 7868
/// §5.6.1). K6 is not part of the classic formula. An unreachable delay gives [`CLASSIC_INFINITY`];
/// the result saturates there.
#[must_use]
pub fn classic(k: &[u8; 6], scaled_bw: u32, scaled_delay: u32, reliability: u8, load: u8) -> u32 {
    if scaled_delay == ClassicMetric::UNREACHABLE {
        return CLASSIC_INFINITY;
    }
    let k = [k[0], k[1], k[2], k[3], k[4], 0];
    combine(
        &k,
        scaled_bw.into(),
        scaled_delay.into(),
        reliability,
        load,
        0,
    )
    .and_then(|m| u32::try_from(m).ok())
    .unwrap_or(CLASSIC_INFINITY)
}

/// The classic composite metric of a route TLV's metric.
#[must_use]
pub fn classic_of(k: &[u8; 6], m: &ClassicMetric) -> u32 {
    classic(k, m.bandwidth, m.delay, m.reliability, m.load)
}

/// The 64-bit wide composite metric (RFC 7868 §5.6.2) from the minimum bandwidth in kbit/s, the total
/// delay in picoseconds and the extended attributes' contribution (`ext`, weighted by K6).
/// Throughput is `65536 · 10⁷ / bandwidth`, latency `65536 · delay / 10⁶`. An unreachable delay or a
/// zero bandwidth gives [`WIDE_INFINITY`].
#[must_use]
pub fn wide(
    k: &[u8; 6],
    bandwidth_kbps: u64,
    delay_ps: u64,
    reliability: u8,
    load: u8,
    ext: u64,
) -> u64 {
    if delay_ps == WideMetric::UNREACHABLE || bandwidth_kbps == 0 {
        return WIDE_INFINITY;
    }
    let throughput = WIDE_SCALE * BANDWIDTH_REFERENCE / bandwidth_kbps;
    let latency = u128::from(WIDE_SCALE) * u128::from(delay_ps) / u128::from(DELAY_PICO);
    let Ok(latency) = u64::try_from(latency) else {
        return WIDE_INFINITY;
    };
    combine(k, throughput, latency, reliability, load, ext).unwrap_or(WIDE_INFINITY)
}

/// The wide composite metric of a route TLV's metric (no extended attribute contribution).
#[must_use]
pub fn wide_of(k: &[u8; 6], m: &WideMetric) -> u64 {
    wide(k, m.bandwidth, m.delay, m.reliability, m.load, 0)
}

/// The 32-bit routing-table metric of a wide metric: divided by [`RIB_SCALE`], saturating.
#[must_use]
pub fn rib(wide_metric: u64) -> u32 {
    u32::try_from(wide_metric / RIB_SCALE).unwrap_or(u32::MAX)
}

#[cfg(test)]
mod tests {
    use super::*;

    const DEFAULT_K: [u8; 6] = [1, 0, 1, 0, 0, 0];

    #[test]
    fn classic_examples() {
        // T1 serial: 1544 kbit/s, 20 000 µs → 256 · (6476 + 2000) = 2 169 856.
        assert_eq!(
            classic(&DEFAULT_K, scale_bandwidth(1544), scale_delay(2000), 255, 1),
            2_169_856
        );
        // Ethernet 10 Mbit/s, 1000 µs → 256 · (1000 + 100) = 281 600.
        assert_eq!(
            classic(
                &DEFAULT_K,
                scale_bandwidth(10_000),
                scale_delay(100),
                255,
                1
            ),
            281_600
        );
        // The capture's bandwidth field (packetlife EIGRP_adjacency.cap) is 256 000 = 10 Mbit/s.
        assert_eq!(scale_bandwidth(10_000), 256_000);
    }

    #[test]
    fn k_values() {
        let bw = scale_bandwidth(10_000);
        let delay = scale_delay(100);
        // K2 adds BW / (256 − load).
        assert_eq!(
            classic(&[1, 1, 1, 0, 0, 0], bw, delay, 255, 1),
            256_000 + 256_000 / 255 + 25_600
        );
        // K5 ≠ 0 scales by K5 / (reliability + K4).
        assert_eq!(
            classic(&[1, 0, 1, 0, 1, 0], bw, delay, 255, 1),
            281_600 / 255
        );
        assert_eq!(
            classic(&[1, 0, 1, 1, 1, 0], bw, delay, 127, 1),
            281_600 / 128
        );
        // K5 = 0: reliability does not matter, even 0.
        assert_eq!(classic(&DEFAULT_K, bw, delay, 0, 1), 281_600);
        // K5 ≠ 0 with reliability + K4 = 0 cannot be computed: infinite.
        assert_eq!(
            classic(&[1, 0, 1, 0, 1, 0], bw, delay, 0, 1),
            CLASSIC_INFINITY
        );
        // K6 is ignored by the classic formula.
        assert_eq!(classic(&[1, 0, 1, 0, 0, 9], bw, delay, 255, 1), 281_600);
    }

    #[test]
    fn classic_saturates_and_unreachable() {
        assert_eq!(
            classic(&DEFAULT_K, 0, ClassicMetric::UNREACHABLE, 255, 1),
            CLASSIC_INFINITY
        );
        assert_eq!(
            classic(&[255; 6], u32::MAX, u32::MAX - 1, 255, 255),
            CLASSIC_INFINITY
        );
        assert_eq!(scale_bandwidth(0), u32::MAX);
        assert_eq!(scale_delay(u32::MAX), u32::MAX);
        let m = ClassicMetric {
            delay: scale_delay(10),
            bandwidth: scale_bandwidth(100_000),
            ..Default::default()
        };
        assert_eq!(classic_of(&DEFAULT_K, &m), 28_160);
    }

    #[test]
    fn wide_examples() {
        // 10 Gbit/s, 10 µs: throughput 65536, latency 655360.
        assert_eq!(
            wide(&DEFAULT_K, 10_000_000, 10_000_000, 255, 1, 0),
            65_536 + 655_360
        );
        // FastEthernet 100 Mbit/s, 100 µs: 6 553 600 + 6 553 600; RIB metric 102 400.
        let m = wide(&DEFAULT_K, 100_000, 100_000_000, 255, 1, 0);
        assert_eq!(m, 13_107_200);
        assert_eq!(rib(m), 102_400);
        // K6 weighs the extended attributes.
        assert_eq!(
            wide(&[1, 0, 1, 0, 0, 2], 100_000, 100_000_000, 255, 1, 5),
            13_107_210
        );
        assert_eq!(wide(&DEFAULT_K, 0, 1, 255, 1, 0), WIDE_INFINITY);
        assert_eq!(
            wide(&DEFAULT_K, 1, WideMetric::UNREACHABLE, 255, 1, 0),
            WIDE_INFINITY
        );
        assert_eq!(rib(WIDE_INFINITY), u32::MAX);
        let wm = WideMetric {
            bandwidth: 1_000_000,
            delay: 10_000_000,
            reliability: 255,
            load: 1,
            ..Default::default()
        };
        assert_eq!(wide_of(&DEFAULT_K, &wm), 1_310_720);
    }
}
