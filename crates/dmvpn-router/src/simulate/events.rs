//! What the routers report, turned into the timeline, the facts and the evidence: IKE and IPsec
//! from the router, NHRP, EIGRP and routes from its node.

use std::net::Ipv4Addr;

use dmvpn_proto::Instant;
use dmvpn_proto::eigrp::{EigrpEvent, neighbor};
use dmvpn_proto::ike;
use dmvpn_proto::ikev2;
use dmvpn_proto::nhrp::shortcut::Purpose;
use dmvpn_proto::nhrp::{ClientEvent, ServerEvent, ShortcutEvent, ShortcutKind};
use dmvpn_proto::node;
use dmvpn_proto::router::Event;

use super::{Fact, Kind, NHRP_AUTHENTICATION_FAILURE, Sim, since};

impl Sim {
    #[allow(clippy::too_many_lines)] // one arm per event the report cares about
    pub(super) fn event(&mut self, i: usize, at: Instant, event: Event) {
        match event {
            Event::Ike(ike::Event::Phase1Established {
                peer, role, key, ..
            }) => {
                if self.capture {
                    self.keys.ikev1(key.to_table_line());
                }
                self.ike_up(i, at, peer, role, "IKE");
            }
            Event::Ike(ike::Event::Phase1Failed { peer, reason }) => {
                self.ike_failure(i, at, peer, reason, false);
            }
            Event::Ike(ike::Event::Phase1Deleted { peer, reason, .. }) => {
                self.toggle(at, Fact::Ike(i, peer), false, |s| {
                    format!("IKE SA with {} deleted ({reason:?})", s.peer_name(peer))
                });
            }
            Event::Ike(ike::Event::ChildOffered(child)) if self.capture => {
                let (peer, local) = (child.peer, child.local);
                self.keys.esp_sa(child.inbound.esp_sa_line(peer, local));
                self.keys.esp_sa(child.outbound.esp_sa_line(local, peer));
            }
            Event::Ike(ike::Event::ChildFailed { peer, reason }) => {
                self.ike_failure(i, at, peer, reason, true);
            }
            Event::Ike(ike::Event::PeerDown { peer }) => {
                let text = format!("DPD: {} is dead", self.peer_name(peer));
                self.entry(at, i, Kind::Fault, text);
            }
            Event::SaInstalled(child) => {
                let peer = child.peer;
                if self.capture && child.role == ike::Role::Initiator {
                    self.keys
                        .esp_sa(child.inbound.esp_sa_line(peer, child.local));
                    self.keys
                        .esp_sa(child.outbound.esp_sa_line(child.local, peer));
                }
                let spis = self.spis.entry((i, peer)).or_default();
                spis.extend([child.inbound.spi, child.outbound.spi]);
                let pair = (child.inbound.spi, child.outbound.spi);
                self.sa_log.push((since(at), i, peer, Some(pair)));
                let fresh = self.fact(at, Fact::Ipsec(i, peer), true);
                let text = format!(
                    "IPsec SA pair with {}{}: spi in 0x{:08x}, out 0x{:08x}, {}",
                    self.peer_name(peer),
                    if fresh { "" } else { " (rekeyed)" },
                    child.inbound.spi,
                    child.outbound.spi,
                    child.transform_set
                );
                self.entry(at, i, if fresh { Kind::Up } else { Kind::Attempt }, text);
            }
            Event::SaRestored(child) => {
                let peer = child.peer;
                let pair = (child.inbound.spi, child.outbound.spi);
                self.sa_log.push((since(at), i, peer, Some(pair)));
                let text = format!(
                    "IPsec SA pair with {} again (spi in 0x{:08x}, out 0x{:08x}): the peer \
                     deleted the pair of the rekey that lost",
                    self.peer_name(peer),
                    child.inbound.spi,
                    child.outbound.spi
                );
                self.entry(at, i, Kind::Attempt, text);
            }
            Event::IkeStarted { peer } => {
                let exchange = match self.configs.get(i).and_then(|c| c.1.as_ref()) {
                    Some(crate::node::Ike::V2(_)) => "IKEv2: initiating IKE_SA_INIT",
                    _ => "IKE: initiating Main Mode",
                };
                let text = format!("{exchange} with {}", self.peer_name(peer));
                self.entry(at, i, Kind::Attempt, text);
            }
            Event::IkeStartFailed { peer, error } => {
                let text = format!("IKE cannot start with {}: {error}", self.peer_name(peer));
                self.entry(at, i, Kind::Fault, text.clone());
                let key = format!("{} ↔ {}", self.name(i), self.peer_name(peer));
                self.evidence("ike-no-psk", "error", key, text);
            }
            Event::IkeRefused { peer, error } => {
                let text = format!(
                    "ISAKMP message from {} refused: {error}",
                    self.peer_name(peer)
                );
                self.entry(at, i, Kind::Fault, text);
            }
            Event::NhsDown { peer } => {
                self.fact(at, Fact::Ipsec(i, peer), false);
                let text = format!("{} lost: keying it again", self.peer_name(peer));
                self.entry(at, i, Kind::Down, text);
            }
            Event::RegistrationRestarted { peer } => {
                let text = format!("{} is back: registering again", self.peer_name(peer));
                self.entry(at, i, Kind::Attempt, text);
            }
            Event::Ike(ike::Event::ChildDeleted { peer, .. }) => {
                let current =
                    (self.cloud.members.get(i)).is_some_and(|m| m.node.pairs().contains_key(&peer));
                if !current && self.fact(at, Fact::Ipsec(i, peer), false) {
                    let text = format!("IPsec SA pair with {} deleted", self.peer_name(peer));
                    self.entry(at, i, Kind::Down, text);
                }
            }
            Event::Node(event) => self.node_event(i, at, event),
            Event::Ikev2(event) => self.ikev2_event(i, at, event),
            _ => {}
        }
    }

    /// An IKE SA of either version is up: counted, logged, and the fact set.
    fn ike_up(&mut self, i: usize, at: Instant, peer: Ipv4Addr, role: ike::Role, what: &str) {
        *self.established.entry((i, peer)).or_default() += 1;
        self.sa_log.push((since(at), i, peer, None));
        if self.fact(at, Fact::Ike(i, peer), true) {
            let text = format!(
                "{what} SA up with {} ({})",
                self.peer_name(peer),
                if role == ike::Role::Initiator {
                    "initiator"
                } else {
                    "responder"
                }
            );
            self.entry(at, i, Kind::Up, text);
        }
    }

    /// IKEv2's events, as IKEv1's: the IKE SA's fact and count, failures, deletes.
    fn ikev2_event(&mut self, i: usize, at: Instant, event: ikev2::Event) {
        match event {
            ikev2::Event::Established { peer, role, .. } => {
                self.ike_up(i, at, peer, role, "IKEv2");
            }
            ikev2::Event::Keyed { keys, prf_keys, .. }
            | ikev2::Event::Rekeyed { keys, prf_keys, .. }
                if self.capture =>
            {
                self.keys.ikev2_sa(&keys, &prf_keys);
            }
            ikev2::Event::Failed { peer, reason } => {
                let text = format!("IKEv2 with {} failed: {reason:?}", self.peer_name(peer));
                let finding = match reason {
                    ikev2::Failure::AuthenticationFailed => Some((
                        "ike-psk-mismatch",
                        "IKE_AUTH's AUTH payload does not verify: the pre-shared keys differ",
                    )),
                    ikev2::Failure::NoPresharedKey => Some((
                        "ike-no-psk",
                        "the keyring has no pre-shared key for the peer",
                    )),
                    ikev2::Failure::NoProposalChosen => Some((
                        "ike-no-proposal-chosen",
                        "IKE_SA_INIT or IKE_AUTH: the proposals or transform sets share nothing",
                    )),
                    ikev2::Failure::IdentityMismatch => Some((
                        "ike-identity-mismatch",
                        "IKE_AUTH: the peer's identity (IDi, or IDr at the initiator) matches no \
                         `match identity remote` of the ikev2 profile, so it is refused with \
                         AUTHENTICATION_FAILED",
                    )),
                    _ => None,
                };
                self.ike_failed((i, at, peer), text, finding);
            }
            ikev2::Event::Deleted { peer, reason, .. } => {
                self.toggle(at, Fact::Ike(i, peer), false, |s| {
                    format!("IKEv2 SA with {} deleted ({reason:?})", s.peer_name(peer))
                });
            }
            ikev2::Event::ChildDeleted { peer, .. } => {
                let current =
                    (self.cloud.members.get(i)).is_some_and(|m| m.node.pairs().contains_key(&peer));
                if !current && self.fact(at, Fact::Ipsec(i, peer), false) {
                    let text = format!("IPsec SA pair with {} deleted", self.peer_name(peer));
                    self.entry(at, i, Kind::Down, text);
                }
            }
            ikev2::Event::PeerDead { peer } => {
                let text = format!("IKEv2 liveness: {} is dead", self.peer_name(peer));
                self.entry(at, i, Kind::Fault, text);
            }
            _ => {}
        }
    }

    /// An IKE Main Mode (`quick`: Quick Mode) failure: the timeline entry, and the evidence
    /// of what the configurations got wrong.
    fn ike_failure(
        &mut self,
        i: usize,
        at: Instant,
        peer: Ipv4Addr,
        reason: ike::Failure,
        quick: bool,
    ) {
        let text = format!(
            "IKE {} Mode with {} failed: {reason:?}",
            if quick { "Quick" } else { "Main" },
            self.peer_name(peer)
        );
        let finding = match reason {
            ike::Failure::AuthenticationFailed => Some((
                "ike-psk-mismatch",
                "Main Mode's hash does not verify: the pre-shared keys differ",
            )),
            ike::Failure::NoProposalChosen if quick => Some((
                "ike-transform-set-mismatch",
                "Quick Mode: the transform sets share nothing",
            )),
            ike::Failure::NoProposalChosen => Some((
                "ike-no-proposal-chosen",
                "Main Mode: the ISAKMP policies share nothing",
            )),
            _ => None,
        };
        let key = self.ike_failed((i, at, peer), text, finding);
        if reason == ike::Failure::NoPresharedKey {
            // What the wire shows: the side without a key answers NO-PROPOSAL-CHOSEN.
            let message = format!(
                "{key}: {} has no pre-shared key for its peer and answers NO-PROPOSAL-CHOSEN",
                self.name(i)
            );
            self.evidence
                .insert(("ike-no-proposal-chosen", key), ("error", message));
        }
    }

    /// A failed IKE exchange (either version) with `peer`: `text` on router `i`'s timeline and,
    /// when the failure shows what the configurations got wrong, the evidence of that finding
    /// (its id, and what went wrong between the pair). Returns the pair's key.
    fn ike_failed(
        &mut self,
        (i, at, peer): (usize, Instant, Ipv4Addr),
        text: String,
        finding: Option<(&'static str, &'static str)>,
    ) -> String {
        self.entry(at, i, Kind::Fault, text);
        let key = self.pair_key(i, peer);
        if let Some((id, what)) = finding {
            self.evidence(id, "error", key.clone(), format!("{key}: {what}"));
        }
        key
    }

    fn node_event(&mut self, i: usize, at: Instant, event: node::Event) {
        match event {
            node::Event::Nhrp(ClientEvent::Registered {
                nhs, nat_address, ..
            }) => {
                self.ever_registered.insert(i);
                if self.fact(at, Fact::Registration(i, nhs), true) {
                    let nat = nat_address
                        .map_or_else(String::new, |a| format!(", seen behind NAT as {a}"));
                    let text = format!("registered with NHS {}{nat}", self.tunnel_name(nhs));
                    self.entry(at, i, Kind::Up, text);
                }
            }
            node::Event::Nhrp(ClientEvent::Expired { nhs }) => {
                self.toggle(at, Fact::Registration(i, nhs), false, |s| {
                    format!("registration with NHS {} expired", s.tunnel_name(nhs))
                });
            }
            node::Event::Nhrp(ClientEvent::RegistrationFailed { nhs, code }) => {
                let text = format!(
                    "NHS {} refused the registration: {code:?}",
                    self.tunnel_name(nhs)
                );
                self.tunnel_fault(at, i, nhs, "nhrp-registration-refused", text);
            }
            node::Event::Nhrp(ClientEvent::ErrorIndicationReceived { nhs, code }) => {
                let text = format!(
                    "NHS {} answered with an Error Indication: {code:?}",
                    self.tunnel_name(nhs)
                );
                self.entry(at, i, Kind::Fault, text);
                if code.0 == NHRP_AUTHENTICATION_FAILURE {
                    let key = self.tunnel_pair_key(i, nhs);
                    let message = format!(
                        "{key}: the hub answers the registration with an Error Indication (authentication failure): the NHRP authentication strings differ"
                    );
                    self.evidence("nhrp-auth-mismatch", "error", key, message);
                }
            }
            node::Event::NhrpServer(ServerEvent::Registered {
                tunnel,
                nbma,
                natted,
            }) => {
                let nat = if natted { ", behind NAT" } else { "" };
                self.toggle(at, Fact::Registration(i, tunnel), true, |s| {
                    let name = s.tunnel_name(tunnel);
                    format!("registration of {name} accepted, NBMA {nbma}{nat}")
                });
            }
            node::Event::NhrpServer(ServerEvent::Expired { tunnel, .. }) => {
                let text = format!("registration of {} expired", self.tunnel_name(tunnel));
                let expired =
                    self.toggle(at, Fact::Registration(i, tunnel), false, |_| text.clone());
                if expired {
                    let key = self.tunnel_pair_key(i, tunnel);
                    self.evidence("nhrp-hold-expired", "warning", key, text);
                }
            }
            node::Event::NhrpServer(ServerEvent::Purged { tunnel }) => {
                self.toggle(at, Fact::Registration(i, tunnel), false, |s| {
                    format!("registration of {} purged", s.tunnel_name(tunnel))
                });
            }
            node::Event::NhrpServer(ServerEvent::Rejected { tunnel, from, code }) => {
                let text = format!(
                    "registration of {tunnel} from {} refused: {code:?}",
                    self.peer_name(from)
                );
                self.entry(at, i, Kind::Fault, text);
            }
            node::Event::NhrpServer(ServerEvent::ErrorIndicationSent { to, code }) => {
                let text = format!("Error Indication sent to {}: {code:?}", self.peer_name(to));
                self.entry(at, i, Kind::Fault, text);
            }
            node::Event::Eigrp(EigrpEvent::Neighbor(neighbor::Event::NeighborUp {
                address,
                ..
            })) => {
                self.ever_adjacent.insert((i, address));
                if self.fact(at, Fact::Adjacency(i, address), true) {
                    let text = format!("EIGRP adjacency with {} up", self.tunnel_name(address));
                    self.entry(at, i, Kind::Up, text);
                }
            }
            node::Event::Eigrp(EigrpEvent::Neighbor(neighbor::Event::NeighborDown {
                address,
                reason,
            })) => {
                self.toggle(at, Fact::Adjacency(i, address), false, |s| {
                    let name = s.tunnel_name(address);
                    format!("EIGRP adjacency with {name} down: {reason}")
                });
            }
            node::Event::Eigrp(EigrpEvent::Neighbor(neighbor::Event::KValueMismatch {
                address,
                ..
            })) => {
                let text = format!(
                    "EIGRP Hello from {} refused: K-value mismatch",
                    self.tunnel_name(address)
                );
                self.tunnel_fault(at, i, address, "eigrp-k-mismatch", text);
            }
            node::Event::Shortcut(event) => self.shortcut_event(i, at, event),
            node::Event::RouteAdded(route) => {
                let fresh = self.fact(at, Fact::Route(i, route.prefix), true);
                if fresh {
                    let via = route
                        .next_hop
                        .map_or_else(String::new, |h| format!(" via {h}"));
                    self.route_entry(at, i, Kind::Up, format!("{}{via}", route.prefix));
                }
            }
            node::Event::RouteRemoved(route) => {
                // (a RouteAdded for the same prefix may follow at once: another source)
                let prefix = route.prefix;
                let still = (self.cloud.members.get(i))
                    .is_some_and(|m| m.node.node().routes().any(|r| r.prefix == prefix));
                if !still && self.fact(at, Fact::Route(i, prefix), false) {
                    self.route_entry(at, i, Kind::Down, prefix.to_string());
                }
            }
            _ => {}
        }
    }

    /// Phase 2 and 3: redirects, resolutions, shortcuts and the direct peers they want.
    fn shortcut_event(&mut self, i: usize, at: Instant, event: ShortcutEvent) {
        let (kind, text) = match event {
            ShortcutEvent::RedirectSent { to, src, dst } => (
                Kind::Attempt,
                format!(
                    "NHRP Traffic Indication to {} for {src} → {dst} (ip nhrp redirect)",
                    self.peer_name(to)
                ),
            ),
            ShortcutEvent::RedirectReceived { from, dst } => (
                Kind::Attempt,
                format!(
                    "NHRP Traffic Indication from {} for {dst}",
                    self.peer_name(from)
                ),
            ),
            ShortcutEvent::ResolutionSent { target, purpose } => {
                let why = match purpose {
                    Purpose::NextHop => "the next hop of a route (Phase 2)",
                    Purpose::Redirect => "redirected (Phase 3)",
                    Purpose::Refresh => "refreshing a shortcut in use",
                };
                (
                    Kind::Attempt,
                    format!("NHRP Resolution Request for {target} sent via the NHS: {why}"),
                )
            }
            ShortcutEvent::ResolutionForwarded { target, to } => (
                Kind::Attempt,
                format!(
                    "NHRP Resolution Request for {target} forwarded to {}",
                    self.peer_name(to)
                ),
            ),
            ShortcutEvent::ResolutionAnswered {
                requester,
                nbma,
                prefix,
            } => (
                Kind::Attempt,
                format!(
                    "NHRP Resolution Reply for {prefix} sent straight to {} at {nbma}",
                    self.tunnel_name(requester)
                ),
            ),
            ShortcutEvent::ResolutionFailed { target } => {
                let text = format!(
                    "NHRP Resolution Request for {target} unanswered: traffic stays on the hub"
                );
                let key = format!("{} → {target}", self.name(i));
                self.evidence("nhrp-resolution-unanswered", "warning", key, text.clone());
                (Kind::Fault, text)
            }
            ShortcutEvent::PeerWanted { nbma } => (
                Kind::Attempt,
                format!(
                    "direct tunnel to {} wanted: IPsec first, traffic stays on the hub meanwhile",
                    self.peer_name(nbma)
                ),
            ),
            ShortcutEvent::PurgeSent { nbma, prefix } => (
                Kind::Attempt,
                format!(
                    "NHRP Purge Request for {prefix} sent to {}",
                    self.peer_name(nbma)
                ),
            ),
            ShortcutEvent::Installed(s) => {
                let fact = Fact::Shortcut(i, s.prefix, s.next_hop);
                self.toggle(at, fact, true, |sim| {
                    let what = match s.kind {
                        ShortcutKind::Resolved => "shortcut",
                        ShortcutKind::Reverse => "reverse entry (a request answered)",
                    };
                    format!(
                        "NHRP {what} {} via {} at {} installed, holding time {} s",
                        s.prefix,
                        sim.tunnel_name(s.next_hop),
                        s.nbma,
                        s.holding_time
                    )
                });
                return;
            }
            ShortcutEvent::Removed(s) => {
                let fact = Fact::Shortcut(i, s.prefix, s.next_hop);
                let idle = if at >= s.expires_at {
                    "expired (idle)"
                } else {
                    "removed (purge or change)"
                };
                self.toggle(at, fact, false, |sim| {
                    format!(
                        "NHRP entry {} via {} {idle}",
                        s.prefix,
                        sim.tunnel_name(s.next_hop)
                    )
                });
                return;
            }
            #[allow(unreachable_patterns)] // ShortcutEvent may grow
            _ => return,
        };
        self.entry(at, i, kind, text);
    }

    /// Routes learnt (or lost) by one router at one instant make one entry.
    fn route_entry(&mut self, at: Instant, i: usize, kind: Kind, route: String) {
        /// Routes named in one entry; more are counted.
        const NAMED: usize = 6;
        let verb = if kind == Kind::Up { "learnt" } else { "lost" };
        let name = self.name(i);
        if let Some(last) = self.timeline.last_mut()
            && self.batch.0 > 0
            && last.at == since(at)
            && last.router == name
            && last.kind == kind
        {
            let (count, named) = &mut self.batch;
            *count += 1;
            if *count <= NAMED {
                named.push_str(", ");
                named.push_str(&route);
                last.text = format!("{verb} routes {named}");
            } else {
                last.text = format!("{verb} {count} routes: {named}, …");
            }
            return;
        }
        self.entry(at, i, kind, format!("{verb} route {route}"));
        self.batch = (1, route);
    }
}
