//! The direct spoke-to-spoke tunnels of a run: for each two spokes, the spans of virtual time
//! during which one had an NHRP shortcut through the other and (under IPsec) an SA pair with
//! it, with the IKE SAs and SPIs of each span.

use std::collections::BTreeSet;

use dmvpn_proto::Duration;

use super::{DirectTunnel, Fact, Role, Sim};

impl Sim {
    /// Whether `fact` is one of spoke `i`'s about spoke `j` that makes a direct tunnel.
    fn joins(&self, fact: Fact, i: usize, j: usize) -> bool {
        let other = &self.sites[j];
        match fact {
            Fact::Ipsec(r, peer) => {
                r == i && (peer == other.nbma || peer == self.cloud.outside(other.nbma))
            }
            Fact::Shortcut(r, _, tunnel) => r == i && tunnel == other.tunnel,
            _ => false,
        }
    }

    /// The direct tunnels, in the order they came up.
    pub(super) fn direct_tunnels(&self) -> Vec<DirectTunnel> {
        let spokes: Vec<usize> = (0..self.sites.len())
            .filter(|&i| self.sites[i].role == Role::Spoke)
            .collect();
        let mut out = Vec::new();
        for (n, &a) in spokes.iter().enumerate() {
            for &b in &spokes[n + 1..] {
                self.spans(a, b, &mut out);
            }
        }
        out.sort_by_key(|t| t.up_at);
        out
    }

    /// The spans of spokes `a` and `b`'s direct tunnel: while either has a shortcut (or a
    /// reverse entry) through the other and, when both protect the tunnel, an IPsec SA pair with
    /// it (what carries traffic straight between them).
    fn spans(&self, a: usize, b: usize, out: &mut Vec<DirectTunnel>) {
        let protected = [a, b].iter().all(|&i| self.configs[i].0.ipsec.is_some());
        let mut relevant: Vec<&(Duration, Fact, bool)> = (self.changes.iter())
            .filter(|(_, f, _)| self.joins(*f, a, b) || self.joins(*f, b, a))
            .collect();
        // (each router's changes are in order; the routers' are merged here)
        relevant.sort_by_key(|(at, _, _)| *at);
        let (mut ipsec, mut shortcuts) = (BTreeSet::new(), BTreeSet::new());
        let mut start: Option<Duration> = None;
        let mut spans = Vec::new();
        for (at, fact, is_up) in relevant {
            let set = if matches!(fact, Fact::Ipsec(..)) {
                &mut ipsec
            } else {
                &mut shortcuts
            };
            if *is_up {
                set.insert(*fact);
            } else {
                set.remove(fact);
            }
            let up = (!protected || !ipsec.is_empty()) && !shortcuts.is_empty();
            match (up, start) {
                (true, None) => start = Some(*at),
                (false, Some(from)) => {
                    spans.push((from, Some(*at)));
                    start = None;
                }
                _ => {}
            }
        }
        if let Some(from) = start {
            spans.push((from, None));
        }
        let (na, nb) = (
            self.cloud.outside(self.sites[a].nbma),
            self.cloud.outside(self.sites[b].nbma),
        );
        let mut since = Duration::ZERO;
        for (up_at, down_at) in spans {
            // (IKE comes before the span it keys: from the end of the previous one)
            let within = |t: Duration| t >= since && down_at.is_none_or(|d| t <= d);
            let between = |r: usize, peer| (r == a && peer == nb) || (r == b && peer == na);
            let log = (self.sa_log.iter()).filter(|(t, r, p, _)| within(*t) && between(*r, *p));
            let mut ike_sas = 0;
            let mut spis = BTreeSet::new();
            for (_, r, _, pair) in log {
                match pair {
                    // (both ends report the same IKE SA)
                    None if *r == a => ike_sas += 1,
                    None => {}
                    Some((inbound, outbound)) => {
                        spis.extend([*inbound, *outbound]);
                    }
                }
            }
            if spis.is_empty() {
                // (a span on SAs that outlived the previous one: the pair it used)
                let earlier = (self.sa_log.iter())
                    .filter(|(t, r, p, _)| *t <= up_at && between(*r, *p))
                    .filter_map(|(_, _, _, pair)| *pair)
                    .next_back();
                spis.extend(earlier.into_iter().flat_map(|(i, o)| [i, o]));
            }
            since = down_at.unwrap_or(since);
            out.push(DirectTunnel {
                a: self.name(a),
                b: self.name(b),
                a_nbma: na,
                b_nbma: nb,
                up_at,
                down_at,
                ike_sas,
                spis,
            });
        }
    }
}
