//! A deterministic in-memory network for the NHRP machines (quinn's tests/util.rs, smaller):
//! one hub and N spokes, a virtual clock that jumps to the next deadline or delivery, and knobs
//! for latency, loss (seeded, reproducible) and per-packet dropping, plus NAT for spokes.
//!
//! Every packet a machine sends is parsed back with the codec before delivery, so a scenario
//! also checks that everything on the wire is valid NHRP.
// Each test binary uses a different part of the harness, `pub` here is crate-wide, and a packet
// that does not parse is a failed test (the harness is test code outside `#[test]` functions).
#![allow(dead_code, unreachable_pub, clippy::expect_used)]

use std::net::Ipv4Addr;

use dmvpn_nhrp as nhrp;
use dmvpn_proto::nhrp::{Client, ClientConfig, ClientEvent, Server, ServerConfig, ServerEvent};
use dmvpn_proto::{Duration, Instant};

pub const HUB_NBMA: Ipv4Addr = Ipv4Addr::new(100, 1, 1, 1);
pub const HUB_TUNNEL: Ipv4Addr = Ipv4Addr::new(172, 16, 1, 1);

/// The NBMA address of spoke `n` (1-based), as it claims it.
pub fn spoke_nbma(n: u8) -> Ipv4Addr {
    Ipv4Addr::new(100, 1, 1, 1 + n)
}

/// The tunnel address of spoke `n`.
pub fn spoke_tunnel(n: u8) -> Ipv4Addr {
    Ipv4Addr::new(172, 16, 1, 1 + n)
}

/// A spoke's client config registering with the hub.
pub fn spoke_config(n: u8) -> ClientConfig {
    ClientConfig::new(
        spoke_tunnel(n),
        spoke_nbma(n),
        vec![dmvpn_proto::nhrp::Nhs {
            tunnel: HUB_TUNNEL,
            nbma: HUB_NBMA,
        }],
    )
}

/// Spoke `n` with holding time 300 s (refresh every 100 s).
pub fn spoke300(n: u8) -> ClientConfig {
    let mut config = spoke_config(n);
    config.holding_time = 300;
    config
}

/// One packet on the wire, as the log keeps it.
#[derive(Clone, Debug)]
pub struct Sent {
    /// When it was sent.
    pub at: Instant,
    /// Outer source (after NAT).
    pub from: Ipv4Addr,
    /// Outer destination.
    pub to: Ipv4Addr,
    /// Its bytes.
    pub bytes: Vec<u8>,
    /// Whether the network dropped it.
    pub dropped: bool,
}

impl Sent {
    pub fn repr(&self) -> nhrp::Repr<'_> {
        nhrp::parse(&self.bytes).expect("every packet sent parses")
    }

    pub fn op(&self) -> nhrp::OpType {
        self.repr().op_type()
    }
}

pub struct Spoke {
    pub client: Client,
    /// The address the hub sees (NAT), or the configured one.
    pub public: Ipv4Addr,
    pub events: Vec<(Instant, ClientEvent)>,
    pub errors: Vec<(Instant, dmvpn_proto::nhrp::Error)>,
}

struct Flight {
    at: Instant,
    from: Ipv4Addr,
    to: Ipv4Addr,
    bytes: Vec<u8>,
}

/// Decides whether to drop a packet.
pub type DropFilter = Box<dyn FnMut(&Sent) -> bool>;

pub struct Net {
    pub now: Instant,
    pub hub: Server,
    pub spokes: Vec<Spoke>,
    pub hub_events: Vec<(Instant, ServerEvent)>,
    pub hub_errors: Vec<(Instant, dmvpn_proto::nhrp::Error)>,
    /// One-way delay of every packet.
    pub latency: Duration,
    /// Percentage of packets lost at random (seeded by `seed`).
    pub loss_percent: u32,
    /// Percentage of packets delivered twice (the copy after its own random jitter).
    pub duplicate_percent: u32,
    /// Extra random delay of up to this much per packet, which reorders packets.
    pub jitter: Duration,
    pub seed: u64,
    /// Drops the packets it returns `true` for, on top of random loss.
    pub drop: Option<DropFilter>,
    /// Every packet sent, in order.
    pub log: Vec<Sent>,
    in_flight: Vec<Flight>,
}

impl Net {
    pub fn new(config: ServerConfig, now: Instant) -> Self {
        Self {
            now,
            hub: Server::new(config, 0x10_0000),
            spokes: Vec::new(),
            hub_events: Vec::new(),
            hub_errors: Vec::new(),
            latency: Duration::from_millis(10),
            loss_percent: 0,
            duplicate_percent: 0,
            jitter: Duration::ZERO,
            seed: 0x9e37_79b9_7f4a_7c15,
            drop: None,
            log: Vec::new(),
            in_flight: Vec::new(),
        }
    }

    /// A hub with the default configuration.
    pub fn hub() -> Self {
        Self::new(ServerConfig::new(HUB_TUNNEL, HUB_NBMA), Instant::ZERO)
    }

    /// Boots a spoke now; `nat` is the public address it is translated to. Returns its index.
    pub fn add_spoke(&mut self, config: ClientConfig, nat: Option<Ipv4Addr>) -> usize {
        let public = nat.unwrap_or(config.nbma);
        let first_id = 0x100 * (self.spokes.len() as u32 + 1);
        self.add_spoke_with_id(config, public, first_id)
    }

    /// Boots a spoke now at public address `public` with request IDs from `first_id`.
    pub fn add_spoke_with_id(
        &mut self,
        config: ClientConfig,
        public: Ipv4Addr,
        first_id: u32,
    ) -> usize {
        self.spokes.push(Spoke {
            client: Client::new(config, self.now, first_id),
            public,
            events: Vec::new(),
            errors: Vec::new(),
        });
        self.spokes.len() - 1
    }

    fn random(&mut self) -> u64 {
        // xorshift64*: reproducible loss without a dependency.
        self.seed ^= self.seed >> 12;
        self.seed ^= self.seed << 25;
        self.seed ^= self.seed >> 27;
        self.seed.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }

    fn jitter(&mut self) -> Duration {
        match self.jitter.total_micros() {
            0 => Duration::ZERO,
            max => Duration::from_micros((self.random() % max.unsigned_abs()) as i64),
        }
    }

    /// Replaces the hub with a freshly booted one (empty cache), as a reload does.
    pub fn restart_hub(&mut self) {
        let config = self.hub.config().clone();
        self.hub = Server::new(config, 0x20_0000);
    }

    /// Reboots spoke `index`: a new client (new request IDs) with the same configuration, at the
    /// public address `nat` if given.
    pub fn reboot_spoke(&mut self, index: usize, nat: Option<Ipv4Addr>) {
        let config = self.spokes[index].client.config().clone();
        let public = nat.unwrap_or(config.nbma);
        let first_id = 0x1_0000 * (index as u32 + 1) + self.log.len() as u32;
        self.spokes[index].client = Client::new(config, self.now, first_id);
        self.spokes[index].public = public;
    }

    /// Moves every queued transmit onto the wire (or drops it).
    fn collect(&mut self) {
        let mut out = Vec::new();
        while let Some(t) = self.hub.poll_transmit() {
            out.push((HUB_NBMA, t));
        }
        for spoke in &mut self.spokes {
            while let Some(t) = spoke.client.poll_transmit() {
                out.push((spoke.public, t));
            }
        }
        for (from, t) in out {
            let mut sent = Sent {
                at: self.now,
                from,
                to: t.to,
                bytes: t.bytes,
                dropped: false,
            };
            // Everything a machine sends must parse back with the codec, checksum included.
            let packet = nhrp::Packet::new_checked(&sent.bytes[..]).expect("valid view");
            assert!(packet.verify_checksum(), "bad checksum");
            let _ = sent.repr();
            let lost = self.loss_percent > 0 && self.random() % 100 < u64::from(self.loss_percent);
            let filtered = self.drop.as_mut().is_some_and(|drop| drop(&sent));
            sent.dropped = lost || filtered;
            if !sent.dropped {
                let copies = if self.duplicate_percent > 0
                    && self.random() % 100 < u64::from(self.duplicate_percent)
                {
                    2
                } else {
                    1
                };
                for _ in 0..copies {
                    let at = self.now + self.latency + self.jitter();
                    self.in_flight.push(Flight {
                        at,
                        from,
                        to: sent.to,
                        bytes: sent.bytes.clone(),
                    });
                }
            }
            self.log.push(sent);
        }
        self.collect_events();
    }

    fn collect_events(&mut self) {
        while let Some(e) = self.hub.poll_event() {
            self.hub_events.push((self.now, e));
        }
        for spoke in &mut self.spokes {
            while let Some(e) = spoke.client.poll_event() {
                spoke.events.push((self.now, e));
            }
        }
    }

    /// The next instant anything happens.
    pub fn next_event(&self) -> Option<Instant> {
        let timers = self
            .spokes
            .iter()
            .filter_map(|s| s.client.poll_timeout())
            .chain(self.hub.poll_timeout());
        let flights = self.in_flight.iter().map(|f| f.at);
        timers.chain(flights).min()
    }

    /// Advances to the next event if it is no later than `limit`; returns whether it did.
    pub fn step(&mut self, limit: Instant) -> bool {
        self.collect();
        let Some(next) = self.next_event().filter(|&t| t <= limit) else {
            return false;
        };
        self.now = self.now.max(next);
        let now = self.now;
        let (due, rest): (Vec<_>, Vec<_>) = self.in_flight.drain(..).partition(|f| f.at <= now);
        self.in_flight = rest;
        for flight in due {
            let repr = nhrp::parse(&flight.bytes).expect("parses");
            if flight.to == HUB_NBMA {
                if let Err(e) = self.hub.handle_message(now, flight.from, &repr) {
                    self.hub_errors.push((now, e));
                }
            } else if let Some(spoke) = self.spokes.iter_mut().find(|s| s.public == flight.to)
                && let Err(e) = spoke.client.handle_message(now, flight.from, &repr)
            {
                spoke.errors.push((now, e));
            }
        }
        if self.hub.poll_timeout().is_some_and(|t| t <= now) {
            self.hub.handle_timeout(now);
        }
        for spoke in &mut self.spokes {
            if spoke.client.poll_timeout().is_some_and(|t| t <= now) {
                spoke.client.handle_timeout(now);
            }
        }
        self.collect();
        true
    }

    /// Runs until `t` (inclusive) and leaves the clock there.
    pub fn run_until(&mut self, t: Instant) {
        while self.step(t) {}
        self.now = self.now.max(t);
    }

    /// Runs for `d` from now.
    pub fn run_for(&mut self, d: Duration) {
        let t = self.now + d;
        self.run_until(t);
    }

    /// The packets sent by `from` of type `op`, with their times.
    pub fn sent(&self, from: Ipv4Addr, op: nhrp::OpType) -> Vec<&Sent> {
        self.log
            .iter()
            .filter(|s| s.from == from && s.op() == op)
            .collect()
    }
}

/// Milliseconds since the epoch, for readable scenario assertions.
pub fn ms(t: i64) -> Instant {
    Instant::from_millis(t)
}

/// The instants of a list of sent packets, in milliseconds.
pub fn times(sent: &[&Sent]) -> Vec<i64> {
    sent.iter().map(|s| s.at.total_millis()).collect()
}
