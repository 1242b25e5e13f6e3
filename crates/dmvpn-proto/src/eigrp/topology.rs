//! The pieces of the topology table a router prints and acts on: prefixes, link metrics, the
//! `show ip eigrp topology` view and the route events for the RIB.

use alloc::vec::Vec;
use core::fmt;
use core::net::Ipv4Addr;

use dmvpn_eigrp::metric;
use dmvpn_eigrp::tlv::ClassicMetric;

/// An IPv4 prefix (`dmvpn_ip`'s, shared by the workspace); host bits are always zero.
pub use dmvpn_ip::Prefix;

/// The metric parameters of an interface (`bandwidth`, `delay`, MTU), as IOS's `show interface`
/// gives them: they make the classic metric vector of a connected prefix, and the tunnel's are
/// added to every route learned over it (RFC 7868 §5.6.1).
#[derive(Clone, Copy, Debug, Eq, PartialEq)]
pub struct Link {
    /// `bandwidth`, kbit/s.
    pub bandwidth_kbps: u32,
    /// `delay`, in tens of microseconds (IOS's `delay` command unit; `show interface` prints
    /// microseconds).
    pub delay_tens_us: u32,
    /// The MTU.
    pub mtu: u32,
}

impl Link {
    /// An IOS 15 `interface Tunnel`: BW 100 kbit/s, DLY 50000 usec, `ip mtu 1400` as DMVPN
    /// configurations set it.
    pub const TUNNEL: Self = Self::new(100, 5000, 1400);
    /// `interface Loopback`: BW 8000000 kbit/s, DLY 5000 usec.
    pub const LOOPBACK: Self = Self::new(8_000_000, 500, 1514);
    /// `interface GigabitEthernet`: BW 1000000 kbit/s, DLY 10 usec.
    pub const GIGABIT_ETHERNET: Self = Self::new(1_000_000, 1, 1500);
    /// `interface FastEthernet`: BW 100000 kbit/s, DLY 100 usec.
    pub const FAST_ETHERNET: Self = Self::new(100_000, 10, 1500);

    /// A link of `bandwidth_kbps` kbit/s, `delay_tens_us` tens of microseconds and MTU `mtu`.
    const fn new(bandwidth_kbps: u32, delay_tens_us: u32, mtu: u32) -> Self {
        Self {
            bandwidth_kbps,
            delay_tens_us,
            mtu,
        }
    }

    /// The metric vector of a prefix connected to this interface (0 hops, reliability 255,
    /// load 1).
    #[must_use]
    pub fn connected_metric(&self) -> ClassicMetric {
        ClassicMetric {
            delay: metric::scale_delay(self.delay_tens_us),
            bandwidth: metric::scale_bandwidth(self.bandwidth_kbps),
            mtu: self.mtu,
            hop_count: 0,
            reliability: 255,
            load: 1,
            tag: 0,
            flags: 0,
        }
    }

    /// `reported` (what a neighbour on this interface advertised) with this interface added:
    /// delays add, the bandwidth is the path's minimum (largest scaled value), the MTU the
    /// minimum, reliability the minimum, load the maximum, one more hop. An unreachable metric
    /// stays unreachable.
    #[must_use]
    pub fn add_to(&self, reported: &ClassicMetric) -> ClassicMetric {
        if reported.is_unreachable() {
            return *reported;
        }
        let own = self.connected_metric();
        ClassicMetric {
            delay: reported.delay.saturating_add(own.delay).min(u32::MAX - 1),
            bandwidth: reported.bandwidth.max(own.bandwidth),
            mtu: reported.mtu.min(own.mtu),
            hop_count: reported.hop_count.saturating_add(1),
            reliability: reported.reliability.min(own.reliability),
            load: reported.load.max(own.load),
            tag: reported.tag,
            flags: 0,
        }
    }
}

/// Whether a route is passive (settled) or active (DUAL is waiting for replies).
#[derive(Clone, Copy, Debug, Eq, PartialEq)]
pub enum RouteState {
    /// `P`.
    Passive,
    /// `A`.
    Active,
}

/// Where a path goes.
#[derive(Clone, Copy, Debug, Eq, Ord, PartialEq, PartialOrd)]
pub enum Via {
    /// A prefix of this router (`add_connected`).
    Connected,
    /// A neighbour, by its tunnel address.
    Neighbor(Ipv4Addr),
}

/// One path of a topology entry.
#[derive(Clone, Copy, Debug, Eq, PartialEq)]
pub struct PathInfo {
    /// Where it goes.
    pub via: Via,
    /// The next hop to install: the neighbour, or the third-party next hop it advertised
    /// (`no ip next-hop-self eigrp` upstream); `0.0.0.0` for connected prefixes.
    pub next_hop: Ipv4Addr,
    /// The distance through it (the composite metric with the tunnel added).
    pub distance: u32,
    /// The distance the neighbour reported (RD); 0 for connected prefixes.
    pub reported_distance: u32,
}

/// One entry of `show ip eigrp topology`.
#[derive(Clone, Debug, Eq, PartialEq)]
pub struct TopologyRoute {
    /// The destination.
    pub prefix: Prefix,
    /// Passive or active.
    pub state: RouteState,
    /// The feasible distance (FD): the lowest distance since the route last went passive;
    /// `u32::MAX` when unreachable.
    pub feasible_distance: u32,
    /// The external data of the successor's route (redistributed into EIGRP: IOS shows it as
    /// `D EX`, administrative distance 170), `None` for an internal route.
    pub external: Option<dmvpn_eigrp::tlv::ExternalData>,
    /// The successors (paths of the least distance meeting the feasibility condition), first
    /// the one installed.
    pub successors: Vec<PathInfo>,
    /// The feasible successors: other paths whose reported distance is below the FD.
    pub feasible_successors: Vec<PathInfo>,
    /// Every other known path (not loop-free by the feasibility condition).
    pub others: Vec<PathInfo>,
    /// While active, the neighbours whose Reply is awaited.
    pub replies_outstanding: Vec<Ipv4Addr>,
}

/// IOS's layout: `P 10.0.2.0/24, 1 successors, FD is 26880256` then one `via` line per
/// successor and feasible successor.
impl fmt::Display for TopologyRoute {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let state = match self.state {
            RouteState::Passive => 'P',
            RouteState::Active => 'A',
        };
        write!(
            f,
            "{state} {}, {} successors, FD is ",
            self.prefix,
            self.successors.len()
        )?;
        match self.feasible_distance {
            u32::MAX => f.write_str("Inaccessible")?,
            fd => write!(f, "{fd}")?,
        }
        for path in self.successors.iter().chain(&self.feasible_successors) {
            match path.via {
                Via::Connected => f.write_str("\n        via Connected, Tunnel0")?,
                Via::Neighbor(address) => write!(
                    f,
                    "\n        via {address} ({}/{}), Tunnel0",
                    path.distance, path.reported_distance
                )?,
            }
        }
        Ok(())
    }
}

/// One line of `show ip eigrp neighbors`.
#[derive(Clone, Copy, Debug, Eq, PartialEq)]
pub struct NeighborInfo {
    /// The neighbour's tunnel address.
    pub address: Ipv4Addr,
    /// Time left until its hold timer runs out.
    pub hold: crate::Duration,
    /// How long it has been a neighbour.
    pub uptime: crate::Duration,
    /// Smoothed round-trip time of its acknowledgements (zero before the first).
    pub srtt: crate::Duration,
    /// The retransmission timeout.
    pub rto: crate::Duration,
    /// Reliable packets queued to it (the one in flight included).
    pub queue: usize,
    /// The last sequence number received from it.
    pub sequence: u32,
    /// Whether the INIT exchange is complete both ways.
    pub established: bool,
}

/// IOS's columns: `172.16.1.2  Tu0  13  00:01:02  40  240  0  7` (address, interface, hold in
/// seconds, uptime, SRTT and RTO in ms, Q count, last sequence number).
impl fmt::Display for NeighborInfo {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let up = self.uptime.secs().max(0);
        write!(
            f,
            "{:<15} Tu0 {:>5} {:02}:{:02}:{:02} {:>5} {:>5} {:>3} {}",
            self.address,
            self.hold.secs().max(0),
            up / 3600,
            up / 60 % 60,
            up % 60,
            self.srtt.total_millis(),
            self.rto.total_millis(),
            self.queue,
            self.sequence
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prefix_clears_host_bits() {
        let p = Prefix::new(Ipv4Addr::new(10, 1, 2, 3), 24);
        assert_eq!(p.to_string(), "10.1.2.0/24");
        assert_eq!(
            Prefix::new(Ipv4Addr::new(10, 1, 2, 3), 0).to_string(),
            "0.0.0.0/0"
        );
        assert_eq!(Prefix::new(Ipv4Addr::new(10, 1, 2, 3), 40).prefix_len(), 32);
    }

    #[test]
    fn tunnel_route_metric_is_the_ios_dmvpn_number() {
        // A spoke's GigabitEthernet LAN seen through the hub's tunnel: IOS shows FD 26880256
        // (BW 100 kbit/s, delay 50000 + 10 usec).
        let k = [1, 0, 1, 0, 0, 0];
        let reported = Link::GIGABIT_ETHERNET.connected_metric();
        let total = Link::TUNNEL.add_to(&reported);
        assert_eq!(metric::classic_of(&k, &reported), 2816);
        assert_eq!(metric::classic_of(&k, &total), 26_880_256);
        assert_eq!(total.hop_count, 1);
        assert_eq!(total.mtu, 1400);
    }
}
