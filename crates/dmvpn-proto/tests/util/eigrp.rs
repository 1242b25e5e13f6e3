//! The DMVPN Phase 1 tunnel of the EIGRP scenarios (`tests/eigrp.rs`, `tests/eigrp_dual.rs`), in
//! memory: router 0 is the hub, which hears every spoke; a spoke hears only the hub, as NHRP's
//! multicast maps make it (`ip nhrp map multicast dynamic` on the hub, `ip nhrp map multicast
//! <hub>` on the spokes). Every packet takes 10 ms; the virtual clock jumps to the next delivery
//! or deadline.
// Each test binary uses a different part of the harness, and a packet that does not parse is a
// failed test.
#![allow(dead_code, unreachable_pub, clippy::unwrap_used)]

use std::net::Ipv4Addr;

use dmvpn_eigrp as eigrp;
use dmvpn_proto::{Duration, Instant};

/// A router on the tunnel, as the harness drives it.
pub trait Router {
    /// Its tunnel address.
    fn address(&self) -> Ipv4Addr;
    /// When its machine must run next; `None` if never, or if the router must not run.
    fn poll_timeout(&self) -> Option<Instant>;
    /// Runs its machine's timers due at `now`.
    fn handle_timeout(&mut self, now: Instant);
    /// A packet from `source` reaches it at `now`.
    fn receive(&mut self, now: Instant, source: Ipv4Addr, repr: &eigrp::Repr<'_>);
}

/// The routers of the tunnel, the packets on their way and the virtual clock.
pub struct Tunnel<R> {
    /// The virtual clock.
    pub now: Instant,
    /// Router 0 is the hub, the others spokes.
    pub routers: Vec<R>,
    /// (arrival, from, to, bytes).
    in_flight: Vec<(Instant, usize, usize, Vec<u8>)>,
}

impl<R: Router> Tunnel<R> {
    /// The tunnel of `routers` at time 0.
    pub fn with(routers: Vec<R>) -> Self {
        Self {
            now: Instant::ZERO,
            routers,
            in_flight: Vec::new(),
        }
    }

    /// Who hears what router `from` sends to `to`: a multicast reaches every spoke from the hub,
    /// and the hub from a spoke; a unicast reaches the router with that address across the
    /// hub–spoke link.
    pub fn hearers(&self, from: usize, to: Ipv4Addr) -> Vec<usize> {
        if to.is_multicast() {
            if from == 0 {
                (1..self.routers.len()).collect()
            } else {
                vec![0]
            }
        } else {
            (0..self.routers.len())
                .filter(|&j| self.routers[j].address() == to && (from == 0) != (j == 0))
                .collect()
        }
    }

    /// Puts router `from`'s packet on the tunnel to each of `to`: it arrives 10 ms from now.
    pub fn send(&mut self, from: usize, to: Vec<usize>, bytes: &[u8]) {
        let at = self.now + Duration::from_millis(10);
        for j in to {
            self.in_flight.push((at, from, j, bytes.to_vec()));
        }
    }

    /// Runs every delivery and deadline up to `limit`, then sets the clock to `limit`. `collect`
    /// takes what the machines sent (onto the tunnel, with [`Tunnel::send`]) and raised: before
    /// each step and at the end.
    pub fn run(&mut self, limit: Instant, mut collect: impl FnMut(&mut Self)) {
        loop {
            collect(self);
            let next = self
                .routers
                .iter()
                .filter_map(R::poll_timeout)
                .chain(self.in_flight.iter().map(|f| f.0))
                .min();
            let Some(next) = next.filter(|&t| t <= limit) else {
                break;
            };
            self.now = next;
            let (due, rest): (Vec<_>, Vec<_>) = self.in_flight.drain(..).partition(|f| f.0 <= next);
            self.in_flight = rest;
            for (_, from, to, bytes) in due {
                let source = self.routers[from].address();
                let repr =
                    eigrp::Repr::parse(&eigrp::Packet::new_checked(&bytes[..]).unwrap()).unwrap();
                self.routers[to].receive(next, source, &repr);
            }
            for router in &mut self.routers {
                if router.poll_timeout().is_some_and(|t| t <= next) {
                    router.handle_timeout(next);
                }
            }
        }
        collect(self);
        self.now = limit;
    }
}
