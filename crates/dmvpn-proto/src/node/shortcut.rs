//! DMVPN Phase 2 and 3 in the node: resolution of spoke next hops, the hub's redirect, the
//! shortcut routes and their refresh, expiry and purge ([`crate::nhrp::shortcut`] holds the
//! table and its state diagram; [`crate::nhrp::resolution`] builds the packets).
//!
//! - **Phase 2.** A multipoint spoke whose route's next hop is another spoke's tunnel address
//!   with no mapping sends a Resolution Request for it to its NHS, sends the packet through the
//!   hub meanwhile, and installs the reply with its holding time; the next packets go straight
//!   to the other spoke. The hub does not answer from its registrations: it forwards the
//!   request to the spoke registered with that address, which answers straight to the
//!   requester, as in Phase 3 (and as IOS does; the evidence is at `forward_resolution`).
//! - **Phase 3.** A hub with `ip nhrp redirect` that forwards a packet back out the tunnel
//!   sends the packet's source spoke a Traffic Indication (one per (source, destination) pair
//!   per redirect timeout). A spoke with `ip nhrp shortcut` answers it with a Resolution
//!   Request for the packet's destination through its NHS; the hub forwards a request it cannot
//!   answer from its registrations to the spoke its routing table names; that spoke answers
//!   straight to the requester with the prefix of its own route for the target, and keeps the
//!   requester's mapping. The requester installs the prefix as a shortcut route (`H`, or `%`
//!   next-hop override when a routing protocol has the same prefix), which wins over the
//!   hub's route for as long as it is at least as specific.
//! - **Under IPsec** a shortcut carries traffic only once the node has an SA pair with the other
//!   spoke: until then ([`ShortcutEvent::PeerWanted`], which the [`Router`](crate::router)
//!   answers with IKE) traffic goes through the hub, and a Resolution Reply waits for the pair
//!   (at most [`HELD_PER_PEER`] per peer), as IOS's reply waits for its crypto socket.
//! - **Refresh, expiry, purge.** An entry in use is resolved again a third of its holding time
//!   before it expires; an idle one expires. [`Node::clear_shortcuts`] (`clear ip nhrp
//!   shortcut`) removes every entry and sends a Purge Request to each requester we answered; a
//!   Purge Request from a peer removes what it names.

use alloc::collections::BTreeMap;
use alloc::vec::Vec;
use core::net::Ipv4Addr;

use dmvpn_ip::ipv4;
use dmvpn_nhrp::{self as nhrp, Message};

use super::{Event, Node, Prefix, Role};
use crate::ipsec::{self, Action};
use crate::nhrp::resolution::{self, Local};
use crate::nhrp::shortcut::{Pending, Purpose};
use crate::nhrp::{Shortcut, ShortcutEvent, ShortcutKind, Shortcuts};
use crate::time::{Duration, Instant};

/// How many NHRP packets to one peer wait for its SA pair.
pub const HELD_PER_PEER: usize = 4;

/// How many peers may have packets waiting.
pub const HELD_PEERS: usize = 64;

/// How long ESP with no inbound SA from a peer in the middle of an IKE exchange waits for the
/// pair ([`Node::expect_sas`]).
pub const EARLY_ESP_WINDOW: Duration = Duration::from_secs(2);

/// The largest ESP packet kept while its SA is on the way (a held NHRP reply or the first data
/// packets, never a jumbo frame).
pub const EARLY_ESP_MAX: usize = 2048;

/// ESP that overtook the IKE message completing its pair: the peer installs its SAs and seals
/// at once (a Quick Mode initiator on QM2, an IKEv2 responder on IKE_AUTH), while our copy of
/// that last message may be read after its ESP (another socket, another queue). Kept per peer
/// for [`EARLY_ESP_WINDOW`] after its last IKE message, at most [`HELD_PER_PEER`] packets for
/// [`HELD_PEERS`] peers, and decrypted when the pair is installed.
#[derive(Debug, Default)]
pub(super) struct EarlyEsp {
    peers: BTreeMap<Ipv4Addr, (Instant, Vec<Vec<u8>>)>,
}

impl EarlyEsp {
    /// `peer` is negotiating at `now`: its ESP may come before its SAs until `until`. A full
    /// table first forgets the peers whose window closed with nothing kept (a hub hears IKE
    /// from many more peers than it holds ESP for).
    fn expect(&mut self, now: Instant, peer: Ipv4Addr, until: Instant) {
        if let Some((deadline, _)) = self.peers.get_mut(&peer) {
            *deadline = until;
            return;
        }
        if self.peers.len() >= HELD_PEERS {
            self.peers
                .retain(|_, (open, queue)| *open > now || !queue.is_empty());
        }
        if self.peers.len() < HELD_PEERS {
            self.peers.insert(peer, (until, Vec::new()));
        }
    }

    /// Keeps `packet` from `peer` if the peer is expected and has room; whether it was kept.
    pub(super) fn keep(&mut self, now: Instant, peer: Ipv4Addr, packet: &[u8]) -> bool {
        match self.peers.get_mut(&peer) {
            Some((until, queue))
                if now < *until && queue.len() < HELD_PER_PEER && packet.len() <= EARLY_ESP_MAX =>
            {
                queue.push(packet.to_vec());
                true
            }
            _ => false,
        }
    }

    /// What `peer` sent early, now that its SAs are installed.
    pub(super) fn take(&mut self, peer: Ipv4Addr) -> Vec<Vec<u8>> {
        self.peers.remove(&peer).map(|(_, q)| q).unwrap_or_default()
    }

    /// Forgets the peers whose window closed; how many packets went with them.
    pub(super) fn expire(&mut self, now: Instant) -> usize {
        let mut lost = 0;
        self.peers.retain(|_, (until, queue)| {
            let open = now < *until;
            if !open {
                lost += queue.len();
            }
            open
        });
        lost
    }
}

/// A shortcut route as `show ip route` lists it.
#[derive(Clone, Copy, Debug, Eq, PartialEq)]
pub struct ShortcutRoute {
    /// The entry.
    pub shortcut: Shortcut,
    /// Whether it overrides the next hop of a routing protocol's route for the same prefix
    /// (IOS's `%` next-hop override); otherwise it is an NHRP route of its own (`H`).
    pub overrides: bool,
    /// Whether traffic can use it now (under IPsec: the SA pair with its peer is up).
    pub usable: bool,
}

impl Node {
    /// The resolution cache: shortcuts and the reverse entries of requests answered (`show ip
    /// nhrp` on a spoke).
    pub fn shortcuts(&self) -> impl Iterator<Item = &Shortcut> + '_ {
        self.shortcuts.iter()
    }

    /// The whole table: entries, pending requests, and how many entries, requests and redirect
    /// pairs its bounds refused ([`Shortcuts::refused`]).
    #[must_use]
    pub const fn shortcut_table(&self) -> &Shortcuts {
        &self.shortcuts
    }

    /// The shortcut routes (`H` and `%` in `show ip route`).
    #[must_use]
    pub fn shortcut_routes(&self) -> Vec<ShortcutRoute> {
        (self.shortcuts.iter())
            .filter(|s| s.kind == ShortcutKind::Resolved && s.prefix != Prefix::new(s.next_hop, 32))
            .map(|s| ShortcutRoute {
                shortcut: *s,
                overrides: self.rib.best(s.prefix).is_some(),
                usable: self.peer_usable(s.nbma),
            })
            .collect()
    }

    /// The Resolution Requests waiting for their reply.
    pub fn pending_resolutions(&self) -> impl Iterator<Item = (Ipv4Addr, Pending)> + '_ {
        self.shortcuts.pending()
    }

    /// `clear ip nhrp shortcut`: removes every entry; each requester we answered gets a Purge
    /// Request for the prefix, so that it stops sending to us directly.
    pub fn clear_shortcuts(&mut self, now: Instant) {
        for gone in self.shortcuts.remove_where(|_| true) {
            if let (ShortcutKind::Reverse, Some(prefix)) = (gone.kind, gone.answered) {
                self.send_purge(gone.next_hop, gone.nbma, prefix);
            }
            self.event(Event::Shortcut(ShortcutEvent::Removed(gone)));
        }
        self.pump(now);
    }

    /// What the node's own resolution packets carry.
    fn local(&self) -> Local<'_> {
        Local {
            tunnel: self.config.tunnel.address,
            nbma: self.config.tunnel.nbma,
            holding_time: self.config.nhrp.holding_time,
            password: self.config.nhrp.password.as_ref(),
        }
    }

    fn next_request_id(&mut self) -> u32 {
        self.request_id = self.request_id.wrapping_add(1) & 0x7fff_ffff;
        self.request_id
    }

    /// Whether a packet to `nbma` can go now: no IPsec, or an outbound SA to it.
    pub(super) fn peer_usable(&self, nbma: Ipv4Addr) -> bool {
        let local = self.config.tunnel.nbma;
        let protected = self
            .spd
            .as_ref()
            .is_some_and(|spd| spd.lookup(local, nbma, ipsec::GRE) == Action::Protect);
        !protected || self.sad.outbound(local, nbma).is_some()
    }

    fn want_peer(&mut self, nbma: Ipv4Addr) {
        if self.wanted.len() < HELD_PEERS && self.wanted.insert(nbma) {
            self.event(Event::Shortcut(ShortcutEvent::PeerWanted { nbma }));
        }
    }

    /// Whether this spoke builds shortcuts at all: multipoint, with an NHS.
    fn resolves(&self) -> bool {
        self.config.role == Role::Spoke
            && self.config.tunnel.multipoint
            && !self.config.nhrp.nhs.is_empty()
    }

    /// The NBMA address the data path sends `dst` to through a shortcut, if one covers it at
    /// least as specifically as the routing table's route and can carry traffic now.
    pub(super) fn shortcut_nbma(&mut self, dst: Ipv4Addr) -> Option<Ipv4Addr> {
        if !self.resolves() {
            return None;
        }
        let entry = *self.shortcuts.lookup(dst)?;
        let routed = self.rib.lookup(dst).map_or(0, |r| r.prefix.prefix_len());
        if entry.prefix.prefix_len() < routed {
            return None;
        }
        self.shortcuts.touch(entry.prefix);
        if self.peer_usable(entry.nbma) {
            Some(entry.nbma)
        } else {
            self.want_peer(entry.nbma);
            None
        }
    }

    /// Phase 2: the NBMA address of `next_hop` from the resolution cache, or a Resolution
    /// Request for it when it is another spoke's tunnel address (the caller sends through the
    /// hub meanwhile).
    pub(super) fn resolve_next_hop(&mut self, next_hop: Ipv4Addr) -> Option<Ipv4Addr> {
        if !self.resolves() || !self.config.tunnel.subnet().contains(next_hop) {
            return None;
        }
        if let Some(nbma) = self.shortcuts.mapping(next_hop) {
            let prefix = (self.shortcuts.iter())
                .find(|s| s.next_hop == next_hop)
                .map(|s| s.prefix);
            if let Some(prefix) = prefix {
                self.shortcuts.touch(prefix);
            }
            if self.peer_usable(nbma) {
                return Some(nbma);
            }
            self.want_peer(nbma);
            return None;
        }
        self.send_resolution(next_hop, Purpose::NextHop);
        None
    }

    /// Sends a Resolution Request for `target` to the first NHS, unless one is waiting.
    fn send_resolution(&mut self, target: Ipv4Addr, purpose: Purpose) {
        let Some(nhs) = self.config.nhrp.nhs.first().copied() else {
            return;
        };
        if self.shortcuts.is_pending(target) {
            return;
        }
        let request_id = self.next_request_id();
        let pending = Pending::new(request_id, purpose, self.now);
        if !self.shortcuts.add_pending(target, pending) {
            return;
        }
        self.send_request_to(nhs.nbma, target, request_id);
        self.event(Event::Shortcut(ShortcutEvent::ResolutionSent {
            target,
            purpose,
        }));
    }

    /// A Resolution Request for `target` with `request_id`, to the NHS at `nhs`.
    fn send_request_to(&mut self, nhs: Ipv4Addr, target: Ipv4Addr, request_id: u32) {
        let bytes = self.local().resolution_request(target, request_id);
        self.send_gre(nhs, dmvpn_gre::Protocol::NHRP, &bytes);
    }

    fn send_purge(&mut self, peer: Ipv4Addr, nbma: Ipv4Addr, prefix: Prefix) {
        let request_id = self.next_request_id();
        let bytes = self.local().purge_request(peer, prefix, request_id);
        self.send_nhrp_direct(nbma, bytes);
        self.event(Event::Shortcut(ShortcutEvent::PurgeSent { nbma, prefix }));
    }

    /// Sends an NHRP packet straight to another spoke: at once if it can go, else held until
    /// its SA pair is installed (and the pair asked for).
    fn send_nhrp_direct(&mut self, nbma: Ipv4Addr, bytes: Vec<u8>) {
        if self.peer_usable(nbma) {
            self.send_gre(nbma, dmvpn_gre::Protocol::NHRP, &bytes);
            return;
        }
        self.want_peer(nbma);
        if !self.held.contains_key(&nbma) && self.held.len() >= HELD_PEERS {
            self.shortcuts.refused += 1;
            return;
        }
        let queue = self.held.entry(nbma).or_default();
        if queue.len() < HELD_PER_PEER {
            queue.push(bytes);
        } else {
            self.shortcuts.refused += 1;
        }
    }

    /// The pair with the other spoke at `nbma` could not be built (IKE failed): what waited
    /// for it is dropped, and the next packet that wants it asks again
    /// ([`ShortcutEvent::PeerWanted`]); meanwhile traffic goes through the hub.
    pub fn peer_failed(&mut self, nbma: Ipv4Addr) {
        self.wanted.remove(&nbma);
        self.held.remove(&nbma);
    }

    /// An IKE message from `peer` was taken: its exchange may install a pair with us, and ESP
    /// it seals with that pair may arrive before we have it. Such ESP waits
    /// [`EARLY_ESP_WINDOW`] for the pair instead of being dropped (the [`Router`](crate::router)
    /// calls this for every IKE message it accepts).
    pub fn expect_sas(&mut self, now: Instant, peer: Ipv4Addr) {
        self.early_esp.expect(now, peer, now + EARLY_ESP_WINDOW);
    }

    /// The SA pair with `peer` is up: what waited for it goes.
    pub(super) fn release_held(&mut self, peer: Ipv4Addr) {
        self.wanted.remove(&peer);
        for bytes in self.held.remove(&peer).unwrap_or_default() {
            self.send_gre(peer, dmvpn_gre::Protocol::NHRP, &bytes);
        }
    }

    /// The hub forwards `packet` (from the spoke at `from`) back out the tunnel: with `ip nhrp
    /// redirect`, the spoke gets a Traffic Indication, once per pair per timeout.
    pub(super) fn maybe_redirect(&mut self, from: Ipv4Addr, packet: &[u8], ip: &ipv4::Repr<'_>) {
        let Some(redirect) = self.config.nhrp.redirect else {
            return;
        };
        if self.config.role != Role::Hub || ip.dst.is_multicast() {
            return;
        }
        let now = self.now;
        if !self
            .shortcuts
            .may_redirect(now, ip.src, ip.dst, redirect.timeout)
        {
            return;
        }
        let bytes = self
            .local()
            .traffic_indication(ip.src, packet, ip.header_len());
        self.send_gre(from, dmvpn_gre::Protocol::NHRP, &bytes);
        self.event(Event::Shortcut(ShortcutEvent::RedirectSent {
            to: from,
            src: ip.src,
            dst: ip.dst,
        }));
    }

    /// Takes the NHRP packets of resolution and redirect before the client or server does;
    /// returns whether it took `msg`.
    pub(super) fn handle_shortcut_nhrp(&mut self, from: Ipv4Addr, msg: &nhrp::Repr<'_>) -> bool {
        if !crate::nhrp::authentic(self.config.nhrp.password.as_ref(), msg) {
            return false; // the client or server answers it (Error Indication) or drops it
        }
        match (&msg.message, self.config.role) {
            // Only an NHS redirects (a spoke has no business telling another about paths).
            (Message::TrafficIndication(ti), Role::Spoke) if self.is_nhs(from) => {
                self.handle_redirect(from, ti.packet);
                true
            }
            (Message::ResolutionRequest(control), Role::Spoke) => {
                self.answer_resolution(msg, control)
            }
            (Message::ResolutionRequest(_), Role::Hub) => self.forward_resolution(from, msg),
            (Message::ResolutionReply(control), Role::Spoke) => {
                self.handle_answer(msg, control);
                true
            }
            (Message::PurgeRequest(control), Role::Spoke) if !self.is_nhs(from) => {
                self.handle_peer_purge(from, msg, control);
                true
            }
            (Message::PurgeReply(_), Role::Spoke) if !self.is_nhs(from) => true,
            _ => false,
        }
    }

    fn is_nhs(&self, nbma: Ipv4Addr) -> bool {
        self.config.nhrp.nhs.iter().any(|n| n.nbma == nbma)
    }

    fn handle_redirect(&mut self, from: Ipv4Addr, quoted: &[u8]) {
        // The quote is cut short (header and a few bytes): only the header is read.
        let dst = match quoted {
            [
                first,
                _,
                _,
                _,
                _,
                _,
                _,
                _,
                _,
                _,
                _,
                _,
                _,
                _,
                _,
                _,
                a,
                b,
                c,
                d,
                ..,
            ] if first >> 4 == 4 && first & 0x0f >= 5 => Ipv4Addr::new(*a, *b, *c, *d),
            _ => {
                self.counters.drop(super::DropReason::MalformedNhrp);
                return;
            }
        };
        self.event(Event::Shortcut(ShortcutEvent::RedirectReceived {
            from,
            dst,
        }));
        if !self.config.nhrp.shortcut || !self.resolves() {
            return;
        }
        if self.shortcuts.lookup(dst).is_some_and(|s| {
            let routed = self.rib.lookup(dst).map_or(0, |r| r.prefix.prefix_len());
            s.prefix.prefix_len() >= routed
        }) {
            return;
        }
        self.send_resolution(dst, Purpose::Redirect);
    }

    /// The prefix of our own route for `target`: our tunnel address, or a LAN of ours.
    fn own_prefix(&self, target: Ipv4Addr) -> Option<Prefix> {
        if target == self.config.tunnel.address {
            return Some(Prefix::new(target, 32));
        }
        (self.config.eigrp.as_ref()?.connected.iter())
            .filter(|p| p.contains(target))
            .max_by_key(|p| p.prefix_len())
            .copied()
    }

    /// A spoke answers a request for its own address or LAN straight to the requester, and
    /// keeps the requester's mapping.
    fn answer_resolution(&mut self, msg: &nhrp::Repr<'_>, control: &nhrp::Control<'_>) -> bool {
        let (Some(target), Some(requester), Some(nbma)) = (
            nhrp::mandatory::ipv4(msg.dst_proto),
            nhrp::mandatory::ipv4(msg.src_proto),
            nhrp::mandatory::ipv4(msg.src_nbma.bytes),
        ) else {
            return false;
        };
        let Some(prefix) = self.own_prefix(target) else {
            return false;
        };
        let bytes = self.local().resolution_reply(msg, control, prefix);
        let holding_time = self.config.nhrp.holding_time;
        let reverse = Shortcut {
            prefix: Prefix::new(requester, 32),
            next_hop: requester,
            nbma,
            kind: ShortcutKind::Reverse,
            created_at: self.now,
            expires_at: self.now + Duration::from_secs(i64::from(holding_time)),
            holding_time,
            used: false,
            refreshing: false,
            answered: Some(prefix),
        };
        self.install(reverse);
        self.send_nhrp_direct(nbma, bytes);
        self.event(Event::Shortcut(ShortcutEvent::ResolutionAnswered {
            requester,
            nbma,
            prefix,
        }));
        true
    }

    /// The hub forwards a Resolution Request to the spoke that owns its target, in Phase 2 and
    /// Phase 3 alike: the spoke registered with the target address itself (Phase 2: the next
    /// hop of a route, another spoke's tunnel address), or else the spoke its routing table
    /// names for the target (Phase 3: an address behind a spoke). That spoke answers the
    /// requester straight, authoritatively, once the SA pair with it is up; it also keeps the
    /// requester's mapping. Returns `false`, for the server to answer, for the hub's own
    /// address, a target no registered spoke owns (code 12, No Binding Exists) and a request
    /// that would go back to the spoke it came from `from`.
    ///
    /// IOS and FRR do the same; RFC 2332 §5.2.1 would also let the hub, as the NHS that serves
    /// the target, answer itself (what [`Server`](crate::nhrp::Server) does when it runs alone):
    /// - packetlife.net's `mGRE_ICMP.cap` (`../shared/captures/packetlife`, an IOS Phase 2
    ///   cloud, 2008): the hub 192.168.0.1 passes spoke 192.168.0.4's request for the
    ///   registered spoke 192.168.0.2 on to it (frame 5: hop count 254, the hub's CIE in the
    ///   Forward Transit NHS Record); 192.168.0.2 answers as its own responder (frame 6), and
    ///   the reply to its own request names 192.168.0.4 as responder (frame 7). That IOS routed
    ///   the replies back through the hub; in the next capture the spoke replies straight to
    ///   the requester's NBMA address, as ours do.
    /// - tcpdump's `nhrp-trace.pcap` (`../shared/captures/tcpdump`, IOS Phase 3, 2007): the hub
    ///   passes a request for the registered spoke address 10.255.255.2 on (frame 3, hop count
    ///   254), and that spoke answers the requester directly (frame 4).
    /// - FRR nhrpd (`nhrpd/nhrp_peer.c`, `nhrp_peer_recv`): a request whose target routes to an
    ///   NBMA next hop is forwarded (`nhrp_peer_forward`), never answered from the hub's cache.
    /// - Cisco's NHRP configuration guide (IOS XE 16.11, "Configuring NHRP"): the resolution
    ///   request and reply of a spoke-to-spoke tunnel travel the spoke-hub-spoke path.
    fn forward_resolution(&mut self, from: Ipv4Addr, msg: &nhrp::Repr<'_>) -> bool {
        let Some(target) = nhrp::mandatory::ipv4(msg.dst_proto) else {
            return false;
        };
        let Some(server) = self.nhrp_server() else {
            return false;
        };
        if target == self.config.tunnel.address {
            return false;
        }
        let mtu = server.config().mtu;
        let nbma_of = |tunnel: Ipv4Addr| {
            (server.get(tunnel))
                .filter(|r| r.expires_at > self.now)
                .map(|r| r.nbma)
        };
        let owner =
            nbma_of(target).or_else(|| nbma_of(self.rib.lookup(target).and_then(|r| r.next_hop)?));
        let Some(to) = owner.filter(|to| *to != from) else {
            return false;
        };
        match self.local().forward(msg, mtu) {
            Ok(bytes) => {
                self.send_gre(to, dmvpn_gre::Protocol::NHRP, &bytes);
                self.event(Event::Shortcut(ShortcutEvent::ResolutionForwarded {
                    target,
                    to,
                }));
            }
            Err(code) => {
                let bytes = self.local().error_indication(msg, code);
                self.send_gre(from, dmvpn_gre::Protocol::NHRP, &bytes);
                self.counters.drop(super::DropReason::NhrpRefused);
            }
        }
        true
    }

    fn handle_answer(&mut self, msg: &nhrp::Repr<'_>, control: &nhrp::Control<'_>) {
        let Some((target, _)) = self.shortcuts.take_pending(control.request_id) else {
            self.counters.drop(super::DropReason::NhrpRefused);
            return;
        };
        let answer = resolution::answer(msg, control).ok().flatten();
        let Some(answer) = answer.filter(|a| a.next_hop != self.config.tunnel.address) else {
            self.event(Event::Shortcut(ShortcutEvent::ResolutionFailed { target }));
            return;
        };
        // The reply comes from the responder itself (our hub forwards every request it can);
        // from a hub that answers for its spokes the mapping is the CIE's all the same.
        let entry = Shortcut {
            prefix: answer.prefix,
            next_hop: answer.next_hop,
            nbma: answer.nbma,
            kind: ShortcutKind::Resolved,
            created_at: self.now,
            expires_at: self.now + Duration::from_secs(i64::from(answer.holding_time)),
            holding_time: answer.holding_time,
            used: false,
            refreshing: false,
            answered: None,
        };
        self.install(entry);
        if !self.peer_usable(answer.nbma) {
            self.want_peer(answer.nbma);
        }
    }

    fn install(&mut self, mut entry: Shortcut) {
        if let Some(old) = self.shortcuts.iter().find(|s| s.prefix == entry.prefix) {
            entry.created_at = old.created_at;
        }
        if self.shortcuts.insert(entry) {
            self.event(Event::Shortcut(ShortcutEvent::Installed(entry)));
        }
    }

    fn handle_peer_purge(
        &mut self,
        from: Ipv4Addr,
        msg: &nhrp::Repr<'_>,
        control: &nhrp::Control<'_>,
    ) {
        let named: Vec<Prefix> = (control.cies.iter())
            .filter_map(|cie| {
                let addr = nhrp::mandatory::ipv4(cie.proto)?;
                Some(Prefix::new(addr, cie.prefix_len.min(32)))
            })
            .collect();
        let gone = self.shortcuts.remove_where(|s| {
            s.nbma == from
                && named
                    .iter()
                    .any(|p| p.covers(s.prefix) || s.prefix.covers(*p))
        });
        for entry in gone {
            self.event(Event::Shortcut(ShortcutEvent::Removed(entry)));
        }
        if !control.flags.contains(nhrp::Flags::PURGE_NO_REPLY) {
            let reply = nhrp::Repr {
                message: Message::PurgeReply(*control),
                ..*msg
            };
            let bytes = crate::nhrp::emit(&reply);
            self.send_nhrp_direct(from, bytes);
        }
    }

    /// Runs the shortcut timers: refreshes of entries in use, expiry of idle ones and of
    /// unanswered requests.
    pub(super) fn shortcut_timeout(&mut self, now: Instant) {
        for (target, request_id) in self.shortcuts.due_retransmit(now) {
            if let Some(nhs) = self.config.nhrp.nhs.first().copied() {
                self.send_request_to(nhs.nbma, target, request_id);
            }
        }
        for entry in self.shortcuts.due_refresh(now) {
            let target = entry.prefix.addr();
            self.send_resolution(target, Purpose::Refresh);
        }
        let (gone, late) = self.shortcuts.expire(now);
        for entry in gone {
            self.event(Event::Shortcut(ShortcutEvent::Removed(entry)));
        }
        for target in late {
            self.event(Event::Shortcut(ShortcutEvent::ResolutionFailed { target }));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A full table makes room from the peers whose window closed with nothing kept, and keeps
    /// the ones still open or holding packets.
    #[test]
    fn early_esp_is_bounded_and_makes_room() {
        let mut early = EarlyEsp::default();
        let at = |s| Instant::ZERO + Duration::from_secs(s);
        let peer = |n: usize| Ipv4Addr::from(0x0a00_0000 + u32::try_from(n).unwrap());
        for n in 0..HELD_PEERS {
            early.expect(at(0), peer(n), at(0) + EARLY_ESP_WINDOW);
        }
        assert!(early.keep(at(1), peer(0), &[0; 64]));
        assert!(
            !early.keep(at(1), peer(1), &[0; EARLY_ESP_MAX + 1]),
            "too big"
        );
        let late = peer(HELD_PEERS);
        early.expect(at(1), late, at(1) + EARLY_ESP_WINDOW);
        assert!(
            !early.keep(at(1), late, &[0; 64]),
            "full, every window still open"
        );
        early.expect(at(5), late, at(5) + EARLY_ESP_WINDOW);
        assert!(
            early.keep(at(5), late, &[0; 64]),
            "closed empty windows made room"
        );
        assert_eq!(
            early.take(peer(0)).len(),
            1,
            "the one holding a packet stayed"
        );
        assert_eq!(
            early.expire(at(10)),
            1,
            "the late peer's packet, never claimed"
        );
    }
}
