//! The direct spoke-to-spoke tunnels of a run: for each two spokes, the spans of virtual time
//! during which either had an IPsec SA pair or an NHRP shortcut with the other, with the IKE SAs
//! and SPIs of each span.

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
            Fact::Shortcut(r, tunnel) => r == i && tunnel == other.tunnel,
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

    /// The spans of spokes `a` and `b`'s direct tunnel.
    fn spans(&self, a: usize, b: usize, out: &mut Vec<DirectTunnel>) {
        let mut up: BTreeSet<Fact> = BTreeSet::new();
        let mut start: Option<Duration> = None;
        let mut spans = Vec::new();
        for (at, fact, is_up) in &self.changes {
            if !(self.joins(*fact, a, b) || self.joins(*fact, b, a)) {
                continue;
            }
            if *is_up {
                up.insert(*fact);
                start.get_or_insert(*at);
            } else {
                up.remove(fact);
                if up.is_empty()
                    && let Some(from) = start.take()
                {
                    spans.push((from, Some(*at)));
                }
            }
        }
        if let Some(from) = start {
            spans.push((from, None));
        }
        let (na, nb) = (
            self.cloud.outside(self.sites[a].nbma),
            self.cloud.outside(self.sites[b].nbma),
        );
        for (up_at, down_at) in spans {
            let within = |t: Duration| t >= up_at && down_at.is_none_or(|d| t <= d);
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
