//! Spoke-to-spoke flows: an ICMP echo from one spoke's LAN to another's every
//! [`FlowPlan::every`], over a window of virtual time, each one followed to where it was
//! delivered. The path of each packet is what happened to it, not what the routes say: a packet
//! leaves its source with TTL 64 and every router that forwards it inside the tunnel (the hub's
//! hairpin) takes one off, so the TTL it arrives with counts the routers it went through (none:
//! a direct spoke-to-spoke tunnel; `probe::observed`). The first packets of a Phase 3 flow go through the hub, whose
//! redirect makes the spokes build a shortcut; the rest go direct, until the flow stops and the
//! shortcut expires.

use std::collections::BTreeMap;
use std::net::Ipv4Addr;

use dmvpn_ip::Prefix;
use dmvpn_proto::{Duration, Instant};

use super::probe::{observed, path, tagged};
use super::{Role, Sim, since};

/// What marks a flow's packet (the matrix's probes carry `dmvpn-sim`).
const MARK: &[u8] = b"dmvpn-flow";

/// At most this many flows run (each spoke to the next beyond it).
pub const MAX_FLOWS: usize = 32;

/// At most this many packets a flow sends.
pub const MAX_PACKETS: u32 = 10_000;

/// Which flows run, when, and how often.
#[derive(Clone, Debug, Eq, PartialEq)]
pub struct FlowPlan {
    /// `(from, to)` router names; empty: one flow from each spoke to each later spoke (at most
    /// [`MAX_FLOWS`]).
    pub pairs: Vec<(String, String)>,
    /// When the flows start.
    pub from: Duration,
    /// When they stop (clipped to the run's end).
    pub until: Duration,
    /// One packet per flow this often.
    pub every: Duration,
}

impl FlowPlan {
    /// From 30 s to 90 s of virtual time, a packet a second, between every two spokes: long
    /// enough after boot for the cloud to have converged, and stopping early enough in the
    /// default 10 minute run for an idle shortcut to expire.
    #[must_use]
    pub fn new() -> Self {
        Self {
            pairs: Vec::new(),
            from: Duration::from_secs(30),
            until: Duration::from_secs(90),
            every: Duration::from_secs(1),
        }
    }

    /// No flows.
    #[must_use]
    pub fn none() -> Self {
        Self {
            until: Duration::ZERO,
            from: Duration::ZERO,
            ..Self::new()
        }
    }

    /// The times packets are sent, up to `end`.
    pub(super) fn ticks(&self, end: Duration) -> Vec<Duration> {
        let until = self.until.min(end);
        let mut out = Vec::new();
        let mut t = self.from;
        while t < until && self.every > Duration::ZERO && out.len() < MAX_PACKETS as usize {
            out.push(t);
            t = t + self.every;
        }
        out
    }
}

impl Default for FlowPlan {
    fn default() -> Self {
        Self::new()
    }
}

/// Where one packet of a flow went.
#[derive(Clone, Debug, Eq, PartialEq)]
pub enum Hop {
    /// Delivered: the routers it went through, source and destination included.
    Path(Vec<String>),
    /// Not delivered (no route, lost, the source off), with why.
    Lost(String),
}

impl Hop {
    /// `direct`, `via R1` or `lost`.
    #[must_use]
    pub fn word(&self) -> String {
        match self {
            Self::Path(p) if p.len() <= 2 => "direct".to_owned(),
            Self::Path(p) => format!("via {}", p[1..p.len() - 1].join(", ")),
            Self::Lost(_) => "lost".to_owned(),
        }
    }

    /// Whether it went straight from spoke to spoke.
    #[must_use]
    pub fn direct(&self) -> bool {
        matches!(self, Self::Path(p) if p.len() == 2)
    }
}

/// A run of a flow's packets that went the same way.
#[derive(Clone, Debug, Eq, PartialEq)]
pub struct Segment {
    /// When the first was sent.
    pub from: Duration,
    /// When the last was sent.
    pub until: Duration,
    /// How many.
    pub packets: u32,
    /// Where they went.
    pub hop: Hop,
}

/// One flow and the way its packets went, moment by moment.
#[derive(Clone, Debug, Eq, PartialEq)]
pub struct Flow {
    /// The source router.
    pub from: String,
    /// Its LAN prefix the packets come from.
    pub from_prefix: Prefix,
    /// The destination router.
    pub to: String,
    /// The destination LAN prefix.
    pub to_prefix: Prefix,
    /// Packets sent.
    pub sent: u32,
    /// Packets delivered.
    pub delivered: u32,
    /// The runs of packets that went the same way, in order.
    pub segments: Vec<Segment>,
}

impl Flow {
    /// When the first packet went direct.
    #[must_use]
    pub fn first_direct(&self) -> Option<Duration> {
        (self.segments.iter())
            .find(|s| s.hop.direct())
            .map(|s| s.from)
    }
}

/// A packet sent and not yet accounted for.
struct Pending {
    flow: usize,
    at: Duration,
    /// The path the routes gave it when it was sent.
    routed: Vec<usize>,
    reason: Option<String>,
}

/// The flows while the run goes on.
#[derive(Default)]
pub(super) struct Flows {
    /// (source router, prefix index), (destination router, prefix index).
    chosen: Vec<((usize, usize), (usize, usize))>,
    pending: BTreeMap<u32, Pending>,
    /// Per flow: (sent at, where it went).
    samples: Vec<Vec<(Duration, Hop)>>,
    next_tag: u32,
}

/// A flow's echo request carrying `tag` (RFC 792).
fn echo(src: Ipv4Addr, dst: Ipv4Addr, tag: u32) -> Vec<u8> {
    super::probe::echo_marked(src, dst, MARK, tag)
}

/// The tag and TTL of a flow's packet.
fn flow_tag(packet: &[u8]) -> Option<(u32, u8)> {
    tagged(packet, MARK)
}

impl Flows {
    /// Chooses the flows of `plan` among `sim`'s routers: each named pair's first prefixes, or
    /// every spoke to every later spoke.
    pub(super) fn choose(sim: &Sim, plan: &FlowPlan) -> Result<Self, super::SimError> {
        let with_prefix = |i: usize| !sim.sites[i].prefixes.is_empty();
        let mut chosen = Vec::new();
        if plan.pairs.is_empty() {
            let spokes: Vec<usize> = (0..sim.sites.len())
                .filter(|&i| sim.sites[i].role == Role::Spoke && with_prefix(i))
                .collect();
            for (n, &a) in spokes.iter().enumerate() {
                for &b in &spokes[n + 1..] {
                    chosen.push(((a, 0), (b, 0)));
                }
            }
            if chosen.len() > MAX_FLOWS {
                chosen = (spokes.iter().enumerate())
                    .map(|(n, &a)| ((a, 0), (spokes[(n + 1) % spokes.len()], 0)))
                    .take(MAX_FLOWS)
                    .collect();
            }
        } else {
            for (a, b) in &plan.pairs {
                let find = |name: &str| {
                    super::sites::find(&sim.sites, name)
                        .filter(|&i| with_prefix(i))
                        .ok_or_else(|| super::SimError::UnknownRouter(name.to_owned()))
                };
                chosen.push(((find(a)?, 0), (find(b)?, 0)));
            }
        }
        Ok(Self {
            samples: vec![Vec::new(); chosen.len()],
            chosen,
            ..Self::default()
        })
    }

    /// Whether there is any flow.
    pub(super) fn is_empty(&self) -> bool {
        self.chosen.is_empty()
    }
}

impl Sim {
    /// Sends one packet of every flow now.
    pub(super) fn send_flows(&mut self) {
        let now = self.cloud.now;
        for flow in 0..self.flows.chosen.len() {
            let ((a, pa), (b, pb)) = self.flows.chosen[flow];
            let src = self.sites[a].prefixes[pa].1;
            let dst = self.sites[b].prefixes[pb].1;
            let tag = self.flows.next_tag;
            self.flows.next_tag = tag.wrapping_add(1);
            let (routed, mut reason) = path(self, a, dst);
            if !self.sites[a].up {
                reason = Some(format!("{} is powered off", self.sites[a].name));
            } else if self.cloud.members[a].node.node().route(dst).is_some() {
                self.cloud.inject(a, &echo(src, dst, tag));
            }
            let pending = Pending {
                flow,
                at: since(now),
                routed,
                reason,
            };
            self.flows.pending.insert(tag, pending);
        }
    }

    /// Takes a delivered packet if it is a flow's; whether it was.
    pub(super) fn flow_arrived(&mut self, router: usize, packet: &[u8]) -> bool {
        let Some((tag, ttl)) = flow_tag(packet) else {
            return false;
        };
        let Some(sent) = self.flows.pending.remove(&tag) else {
            return true;
        };
        let ((a, _), (b, _)) = self.flows.chosen[sent.flow];
        let hop = if router == b {
            Hop::Path(observed(self, a, b, &sent.routed, ttl))
        } else {
            Hop::Lost(format!("delivered at {} instead", self.name(router)))
        };
        self.flows.samples[sent.flow].push((sent.at, hop));
        true
    }

    /// The flows, once the packets sent before `deadline` had their time to arrive: what did
    /// not is lost.
    pub(super) fn flow_report(&mut self, deadline: Instant) -> Vec<Flow> {
        let deadline = since(deadline);
        let lost: Vec<u32> = (self.flows.pending.iter())
            .filter(|(_, p)| p.at < deadline)
            .map(|(tag, _)| *tag)
            .collect();
        for tag in lost {
            if let Some(p) = self.flows.pending.remove(&tag) {
                let reason = p.reason.unwrap_or_else(|| "lost on the way".to_owned());
                self.flows.samples[p.flow].push((p.at, Hop::Lost(reason)));
            }
        }
        let mut out = Vec::new();
        for (n, &((a, pa), (b, pb))) in self.flows.chosen.iter().enumerate() {
            let mut samples = std::mem::take(&mut self.flows.samples[n]);
            samples.sort_by_key(|(at, _)| *at);
            let delivered = samples
                .iter()
                .filter(|(_, h)| matches!(h, Hop::Path(_)))
                .count();
            let mut segments: Vec<Segment> = Vec::new();
            for (at, hop) in samples.iter().cloned() {
                match segments.last_mut() {
                    Some(last) if last.hop == hop => {
                        last.until = at;
                        last.packets += 1;
                    }
                    _ => segments.push(Segment {
                        from: at,
                        until: at,
                        packets: 1,
                        hop,
                    }),
                }
            }
            out.push(Flow {
                from: self.sites[a].name.clone(),
                from_prefix: self.sites[a].prefixes[pa].0,
                to: self.sites[b].name.clone(),
                to_prefix: self.sites[b].prefixes[pb].0,
                sent: u32::try_from(samples.len()).unwrap_or(u32::MAX),
                delivered: u32::try_from(delivered).unwrap_or(u32::MAX),
                segments,
            });
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ticks_and_tags() {
        let plan = FlowPlan::new();
        let ticks = plan.ticks(Duration::from_secs(600));
        assert_eq!(ticks.len(), 60);
        assert_eq!(ticks[0], Duration::from_secs(30));
        assert_eq!(plan.ticks(Duration::from_secs(31)).len(), 1);
        assert!(FlowPlan::none().ticks(Duration::from_secs(600)).is_empty());
        let src = Ipv4Addr::new(2, 2, 2, 2);
        let dst = Ipv4Addr::new(3, 3, 3, 3);
        assert_eq!(flow_tag(&echo(src, dst, 7)), Some((7, 64)));
        assert_eq!(flow_tag(&super::super::probe::echo(src, dst, 7)), None);
        let hop = Hop::Path(vec!["R2".into(), "R1".into(), "R3".into()]);
        assert_eq!(hop.word(), "via R1");
        assert!(!hop.direct());
        assert!(Hop::Path(vec!["R2".into(), "R3".into()]).direct());
    }
}
