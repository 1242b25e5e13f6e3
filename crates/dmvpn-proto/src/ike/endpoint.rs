//! The IKE endpoint: every IKE SA and IPsec SA pair of one router.

use alloc::collections::VecDeque;
use alloc::vec;
use alloc::vec::Vec;
use core::net::Ipv4Addr;

use dmvpn_isakmp::attribute::Attribute;
use dmvpn_isakmp::builder::{ProposalSpec, proposal_chain};
use dmvpn_isakmp::consts::{
    AuthMethod, EncapsulationMode, ExchangeType, Group, HashAlgorithm, IdType, IpsecAttributeType,
    LifeType, NotifyType, PayloadType, ProtocolId,
};
use dmvpn_isakmp::crypto::{Cipher, decrypt, phase1_iv, phase2_iv};
use dmvpn_isakmp::keys::{Ikev1Key, Phase1Keys, Secret};
use dmvpn_isakmp::message::split_hash;
use dmvpn_isakmp::payload::{Body, Context, Delete, Id, Notify, Payloads};
use dmvpn_isakmp::sa::{IkePolicy, Proposal, Sa, Transform};
use dmvpn_isakmp::{Message, group::modp};

use super::config::{Config, EspAuth, EspCipher, Hash, Policy, TransformSet};
use super::dh::KeyExchange;
use super::wire::{self, Chain, DPD_VID, cookie_pair, esp_attributes, esp_spis};
use super::{
    ChildSa, DeleteReason, Entropy, EspKeys, Event, Failure, IkeError, Purpose, Role, Suite,
    Transmit,
};
use crate::ipsec::{GRE, Lifetime};
use crate::time::{Duration, Instant};

/// At most this many IKE SAs (established and negotiating) are kept; further Main Mode 1s are
/// dropped (a bound for floods and fuzzing).
const MAX_SAS: usize = 4096;
/// Completed Quick Modes remembered per IKE SA, to answer a retransmitted message 2 again.
const DONE_QUICK: usize = 4;
/// Quick Modes in progress per IKE SA; a peer's further Quick Mode 1s are refused.
const MAX_QUICK: usize = 16;
/// RFC 2407 §4.5: the IPsec SA lifetime when none is given.
const DEFAULT_IPSEC_LIFE: u64 = 28_800;

#[derive(Clone, Copy, Debug, Eq, PartialEq)]
enum P1 {
    Mm1Sent,
    Mm2Sent,
    Mm3Sent,
    Mm4Sent,
    Mm5Sent,
    Established,
}

impl P1 {
    const fn name(self) -> &'static str {
        match self {
            Self::Mm1Sent => "mm1-sent",
            Self::Mm2Sent => "mm2-sent",
            Self::Mm3Sent => "mm3-sent",
            Self::Mm4Sent => "mm4-sent",
            Self::Mm5Sent => "mm5-sent",
            Self::Established => "established",
        }
    }
}

/// Our last message of an exchange, for retransmission.
#[derive(Clone, Debug)]
struct Flight {
    bytes: Vec<u8>,
    attempts: u32,
    /// `None` for final messages, which go again only when the peer repeats itself.
    next_at: Option<Instant>,
}

#[derive(Debug)]
struct Dpd {
    seq: u32,
    /// The first unanswered sequence number, retransmissions so far and the next one's time.
    outstanding: Option<(u32, u32, Instant)>,
    last_heard: Instant,
}

#[derive(Clone, Copy, Debug, Eq, PartialEq)]
enum Qm {
    Sent1,
    Sent2,
    /// QM2 received with the commit bit: waiting for CONNECTED.
    AwaitConnected,
}

#[derive(Debug)]
struct QuickMode {
    message_id: u32,
    role: Role,
    state: Qm,
    iv: Vec<u8>,
    spi_in: u32,
    ni: Vec<u8>,
    /// The responder's nonce (responder only; the initiator finishes on receiving it).
    nr: Vec<u8>,
    kx: Option<KeyExchange>,
    last_in: Vec<u8>,
    out: Flight,
    commit: bool,
    /// Responder: the negotiated SA, installed at QM3. Initiator: waiting for CONNECTED.
    child: Option<ChildSa>,
}

#[derive(Debug)]
struct IkeSa {
    peer: Ipv4Addr,
    role: Role,
    cky_i: [u8; 8],
    cky_r: [u8; 8],
    state: P1,
    psk: Secret,
    sai_b: Vec<u8>,
    suite: Option<Suite>,
    kx: Option<KeyExchange>,
    g_xi: Vec<u8>,
    g_xr: Vec<u8>,
    ni: Vec<u8>,
    nr: Vec<u8>,
    keys: Option<Phase1Keys>,
    ka: Secret,
    /// Phase-1 CBC chain; once established, the last phase-1 block (the base of phase-2 IVs).
    iv: Vec<u8>,
    last_in: Vec<u8>,
    out: Option<Flight>,
    established_at: Option<Instant>,
    soft_at: Option<Instant>,
    hard_at: Option<Instant>,
    rekeyed: bool,
    peer_dpd: bool,
    dpd: Option<Dpd>,
    quick: Vec<QuickMode>,
    /// Completed Quick Modes: message ID, the peer's last message, and our answer to repeat if
    /// it comes again (none for the responder: a repeated QM 3 needs no answer, and answering it
    /// with QM 2 would make the initiator repeat QM 3 forever).
    done_quick: VecDeque<(u32, Vec<u8>, Option<Vec<u8>>)>,
    /// Start a Quick Mode once established.
    want_child: bool,
    dead: bool,
}

impl IkeSa {
    fn cipher(&self) -> Option<Cipher> {
        self.suite.map(|s| s.encryption)
    }

    fn hash_alg(&self) -> HashAlgorithm {
        self.suite.map_or(HashAlgorithm(0), |s| s.hash.algorithm())
    }

    fn established(&self) -> bool {
        self.state == P1::Established && !self.dead
    }
}

#[derive(Clone, Debug)]
struct Child {
    peer: Ipv4Addr,
    inbound_spi: u32,
    outbound_spi: u32,
    soft_at: Option<Instant>,
    hard_at: Instant,
    rekeyed: bool,
}

/// The payloads of one message, decoded.
#[derive(Default)]
struct Parsed<'a> {
    sa: Option<(Sa<'a>, &'a [u8])>,
    ke: Option<&'a [u8]>,
    nonce: Option<&'a [u8]>,
    ids: Vec<(Id<'a>, &'a [u8])>,
    hash: Option<&'a [u8]>,
    notifies: Vec<Notify<'a>>,
    deletes: Vec<Delete<'a>>,
    dpd_vid: bool,
}

fn parse_chain<'a>(payloads: Payloads<'a>, exchange: ExchangeType) -> Result<Parsed<'a>, IkeError> {
    let mut parsed = Parsed::default();
    let context = Context::new(exchange);
    for payload in payloads {
        let payload = payload?;
        match payload.decode(context)? {
            Body::Sa(sa) if parsed.sa.is_none() => parsed.sa = Some((sa, payload.body)),
            Body::Ke(ke) if parsed.ke.is_none() => parsed.ke = Some(ke),
            Body::Nonce(n) if parsed.nonce.is_none() => parsed.nonce = Some(n),
            Body::Id(id) => parsed.ids.push((id, payload.body)),
            Body::Hash(h) if parsed.hash.is_none() => parsed.hash = Some(h),
            Body::Notify(n) => parsed.notifies.push(n),
            Body::Delete(d) => parsed.deletes.push(d),
            Body::VendorId(v) if v == DPD_VID => parsed.dpd_vid = true,
            _ => {}
        }
    }
    Ok(parsed)
}

/// What one offered ESP transform says.
#[derive(Clone, Copy, Debug, Default)]
struct EspOffer {
    set: Option<TransformSet>,
    transport: bool,
    life_secs: Option<u64>,
    life_kb: Option<u64>,
    group: Option<Group>,
}

fn esp_offer(transform: &Transform<'_>) -> EspOffer {
    let mut offer = EspOffer::default();
    let (mut key_bits, mut auth, mut life_type) = (None, None, None);
    for attribute in transform.attributes().map_while(Result::ok) {
        let attribute: Attribute<'_> = attribute;
        let value = attribute.as_u16();
        match IpsecAttributeType(attribute.ty) {
            IpsecAttributeType::KEY_LENGTH => key_bits = value,
            IpsecAttributeType::AUTH_ALGORITHM => {
                auth = value
                    .and_then(|v| EspAuth::from_algorithm(dmvpn_isakmp::consts::AuthAlgorithm(v)));
            }
            IpsecAttributeType::ENCAPSULATION_MODE => {
                offer.transport = value == Some(EncapsulationMode::TRANSPORT.0);
            }
            IpsecAttributeType::GROUP_DESCRIPTION => offer.group = value.map(Group),
            IpsecAttributeType::LIFE_TYPE => life_type = value.map(LifeType),
            IpsecAttributeType::LIFE_DURATION => match life_type {
                Some(LifeType::SECONDS) => offer.life_secs = attribute.as_u64(),
                Some(LifeType::KILOBYTES) => offer.life_kb = attribute.as_u64(),
                _ => {}
            },
            _ => {}
        }
    }
    let cipher =
        EspCipher::from_transform(dmvpn_isakmp::consts::EspTransformId(transform.id), key_bits);
    if let (Some(encryption), Some(integrity)) = (cipher, auth) {
        offer.set = Some(TransformSet {
            encryption,
            integrity,
        });
    }
    offer
}

/// Whether a phase-1 transform matches a local policy, and the lifetime it gets: the
/// initiator's if not longer than ours (IOS), ours if it gave none.
fn ike_match(policy: &Policy, offered: &IkePolicy) -> Option<u64> {
    let ours = u64::try_from(policy.lifetime.secs()).unwrap_or(0);
    let ok = Cipher::from_policy(offered) == Some(policy.encryption)
        && Hash::from_algorithm(offered.hash) == Some(policy.hash)
        && offered.prf.is_none()
        && offered.auth == AuthMethod::PSK
        && offered.group == policy.group;
    if !ok {
        return None;
    }
    match offered.life_seconds {
        None => Some(ours),
        Some(secs) if secs > 0 && secs <= ours => Some(secs),
        Some(_) => None,
    }
}

fn quick_id_ok(id: &Id<'_>, address: Ipv4Addr) -> bool {
    id.ty == IdType::IPV4_ADDR && id.data == address.octets() && matches!(id.protocol, 0 | GRE)
}

fn spi_u32(spi: &[u8]) -> Option<u32> {
    Some(u32::from_be_bytes(spi.try_into().ok()?))
}

/// One router's IKEv1: see the [module documentation](super).
#[derive(Debug)]
pub struct Endpoint<R> {
    config: Config,
    rng: R,
    sas: Vec<IkeSa>,
    children: Vec<Child>,
    transmits: VecDeque<Transmit>,
    events: VecDeque<Event>,
}

impl<R: Entropy> Endpoint<R> {
    /// An endpoint with `config`, drawing its random values from `rng`.
    #[must_use]
    pub fn new(config: Config, rng: R) -> Self {
        Self {
            config,
            rng,
            sas: Vec::new(),
            children: Vec::new(),
            transmits: VecDeque::new(),
            events: VecDeque::new(),
        }
    }

    /// The configuration.
    #[must_use]
    pub const fn config(&self) -> &Config {
        &self.config
    }

    /// The entropy source (e.g. to load recorded values into it between messages).
    pub fn entropy_mut(&mut self) -> &mut R {
        &mut self.rng
    }

    /// The next datagram to send.
    #[must_use]
    pub fn poll_transmit(&mut self) -> Option<Transmit> {
        self.transmits.pop_front()
    }

    /// The next event.
    #[must_use]
    pub fn poll_event(&mut self) -> Option<Event> {
        self.events.pop_front()
    }

    /// Whether an IKE SA with `peer` is established.
    #[must_use]
    pub fn is_established(&self, peer: Ipv4Addr) -> bool {
        self.sas
            .iter()
            .any(|sa| sa.peer == peer && sa.established())
    }

    /// Number of IKE SAs (any state) and of IPsec SA pairs.
    #[must_use]
    pub fn counts(&self) -> (usize, usize) {
        (self.sas.len(), self.children.len())
    }

    /// The phase-1 keys of the newest established IKE SA with `peer` (SKEYID, SKEYID_d/a/e;
    /// redacted in `Debug`), for key logs and tests.
    #[must_use]
    pub fn phase1_keys(&self, peer: Ipv4Addr) -> Option<&Phase1Keys> {
        self.newest(peer).and_then(|i| self.sas[i].keys.as_ref())
    }

    fn newest(&self, peer: Ipv4Addr) -> Option<usize> {
        self.sas
            .iter()
            .enumerate()
            .filter(|(_, sa)| sa.peer == peer && sa.established())
            .max_by_key(|(_, sa)| sa.established_at)
            .map(|(i, _)| i)
    }

    fn draw<const N: usize>(&mut self, purpose: Purpose) -> [u8; N] {
        let mut out = [0; N];
        self.rng.fill(purpose, &mut out);
        out
    }

    fn draw_cookie(&mut self) -> [u8; 8] {
        loop {
            let cookie = self.draw::<8>(Purpose::Cookie);
            if cookie != [0; 8] {
                return cookie;
            }
        }
    }

    fn draw_nonce(&mut self) -> Vec<u8> {
        let mut nonce = vec![0; self.config.nonce_len.clamp(8, 256)];
        self.rng.fill(Purpose::Nonce, &mut nonce);
        nonce
    }

    fn draw_spi(&mut self) -> u32 {
        loop {
            let spi = u32::from_be_bytes(self.draw::<4>(Purpose::Spi));
            if spi >= 256 && !self.children.iter().any(|c| c.inbound_spi == spi) {
                return spi;
            }
        }
    }

    fn draw_message_id(&mut self) -> u32 {
        loop {
            let id = u32::from_be_bytes(self.draw::<4>(Purpose::MessageId));
            if id != 0 {
                return id;
            }
        }
    }

    fn send(&mut self, to: Ipv4Addr, bytes: Vec<u8>) {
        self.transmits.push_back(Transmit { to, bytes });
    }

    fn flight(&mut self, now: Instant, to: Ipv4Addr, bytes: Vec<u8>, retransmit: bool) -> Flight {
        self.send(to, bytes.clone());
        Flight {
            bytes,
            attempts: 0,
            next_at: retransmit.then(|| now + self.config.retransmit.interval),
        }
    }

    fn first_contact(&self, peer: Ipv4Addr) -> bool {
        !self
            .sas
            .iter()
            .any(|sa| sa.peer == peer && sa.established())
            && !self.children.iter().any(|c| c.peer == peer)
    }

    // ---------------------------------------------------------------------------------------
    // Requests

    /// GRE to `peer` needs an SA: start Main Mode (then Quick Mode), or only Quick Mode when an
    /// IKE SA is up. Does nothing if an IPsec SA or a negotiation with the peer exists.
    ///
    /// # Errors
    /// [`IkeError::NoPresharedKey`] and [`IkeError::EmptyConfig`].
    pub fn connect(&mut self, now: Instant, peer: Ipv4Addr) -> Result<(), IkeError> {
        if self.children.iter().any(|c| c.peer == peer) {
            return Ok(());
        }
        self.negotiate(now, peer)
    }

    /// Negotiates a new IPsec SA pair with `peer` even though one exists (a byte-lifetime soft
    /// limit from the SAD, or `clear crypto sa` semantics).
    ///
    /// # Errors
    /// As [`Endpoint::connect`].
    pub fn rekey(&mut self, now: Instant, peer: Ipv4Addr) -> Result<(), IkeError> {
        // (the pairs it replaces are marked rekeyed when the new one is installed)
        self.negotiate(now, peer)
    }

    fn negotiate(&mut self, now: Instant, peer: Ipv4Addr) -> Result<(), IkeError> {
        if let Some(i) = self.newest(peer) {
            if self.sas[i].quick.iter().any(|q| q.role == Role::Initiator) {
                return Ok(());
            }
            let mut sa = self.sas.remove(i);
            let result = self.start_quick(now, &mut sa);
            self.sas.push(sa);
            return result;
        }
        if let Some(sa) = self.sas.iter_mut().find(|sa| sa.peer == peer && !sa.dead) {
            sa.want_child = true;
            return Ok(());
        }
        self.start_main(now, peer, true)
    }

    fn start_main(
        &mut self,
        now: Instant,
        peer: Ipv4Addr,
        want_child: bool,
    ) -> Result<(), IkeError> {
        if self.config.policies.is_empty() {
            return Err(IkeError::EmptyConfig { what: "policies" });
        }
        if self.config.transform_sets.is_empty() {
            return Err(IkeError::EmptyConfig {
                what: "transform sets",
            });
        }
        let psk = self
            .config
            .key_for(peer)
            .cloned()
            .ok_or(IkeError::NoPresharedKey { peer })?;
        let cky_i = self.draw_cookie();
        let sai_b = wire::main_mode_sa(&self.config.policies);
        let mut chain = Chain::new();
        chain
            .push(PayloadType::SA, &wire::sa_payload(&sai_b))
            .push(PayloadType::VENDOR_ID, &Body::VendorId(&DPD_VID));
        let bytes = wire::clear(&wire::header(cky_i, [0; 8], ExchangeType::MAIN, 0), &chain)?;
        let out = self.flight(now, peer, bytes, true);
        self.sas.push(IkeSa {
            peer,
            role: Role::Initiator,
            cky_i,
            cky_r: [0; 8],
            state: P1::Mm1Sent,
            psk,
            sai_b,
            suite: None,
            kx: None,
            g_xi: Vec::new(),
            g_xr: Vec::new(),
            ni: Vec::new(),
            nr: Vec::new(),
            keys: None,
            ka: Secret::default(),
            iv: Vec::new(),
            last_in: Vec::new(),
            out: Some(out),
            established_at: None,
            soft_at: None,
            hard_at: None,
            rekeyed: false,
            peer_dpd: false,
            dpd: None,
            quick: Vec::new(),
            done_quick: VecDeque::new(),
            want_child,
            dead: false,
        });
        Ok(())
    }

    /// Deletes every SA with `peer` and tells it so (IOS `clear crypto session remote`).
    pub fn delete_peer(&mut self, now: Instant, peer: Ipv4Addr) {
        let _ = now;
        self.drop_children(peer, DeleteReason::Local, true);
        let mut i = 0;
        while i < self.sas.len() {
            if self.sas[i].peer != peer {
                i += 1;
                continue;
            }
            let mut sa = self.sas.remove(i);
            if sa.established() {
                let pair = cookie_pair(sa.cky_i, sa.cky_r);
                let mut chain = Chain::new();
                chain.push(
                    PayloadType::DELETE,
                    &wire::delete(ProtocolId::ISAKMP, 16, &pair),
                );
                self.send_informational(&mut sa, &chain);
                self.events.push_back(Event::Phase1Deleted {
                    peer,
                    initiator_cookie: sa.cky_i,
                    reason: DeleteReason::Local,
                });
            }
        }
    }

    /// We have traffic for `peer`: with on-demand DPD, probe it if it has been quiet for the
    /// keepalive interval (RFC 3706 §5.3).
    pub fn traffic_sent(&mut self, now: Instant, peer: Ipv4Addr) {
        let Some(dpd) = self.config.dpd else { return };
        if dpd.periodic {
            return;
        }
        if let Some(i) = self.newest(peer) {
            let mut sa = self.sas.remove(i);
            let idle = sa
                .dpd
                .as_ref()
                .is_some_and(|d| d.outstanding.is_none() && now >= d.last_heard + dpd.interval);
            if idle {
                self.probe(now, &mut sa);
            }
            self.sas.push(sa);
        }
    }

    /// We received protected traffic from `peer`: it is alive.
    pub fn traffic_received(&mut self, now: Instant, peer: Ipv4Addr) {
        for sa in self.sas.iter_mut().filter(|sa| sa.peer == peer) {
            if let Some(dpd) = &mut sa.dpd {
                dpd.last_heard = now;
            }
        }
    }

    // ---------------------------------------------------------------------------------------
    // Timers

    /// When [`Endpoint::handle_timeout`] must run next.
    #[must_use]
    pub fn poll_timeout(&self) -> Option<Instant> {
        let mut next: Option<Instant> = None;
        let mut take = |at: Option<Instant>| {
            if let Some(at) = at {
                next = Some(next.map_or(at, |n| n.min(at)));
            }
        };
        for sa in &self.sas {
            take(sa.out.as_ref().and_then(|f| f.next_at));
            take(sa.hard_at);
            if !sa.rekeyed && sa.role == Role::Initiator {
                take(sa.soft_at);
            }
            for q in &sa.quick {
                take(q.out.next_at);
            }
            take(self.dpd_deadline(sa));
        }
        for c in &self.children {
            take(Some(c.hard_at));
            if !c.rekeyed {
                take(c.soft_at);
            }
        }
        next
    }

    fn dpd_deadline(&self, sa: &IkeSa) -> Option<Instant> {
        let config = self.config.dpd?;
        let dpd = sa.dpd.as_ref()?;
        if let Some((_, _, at)) = dpd.outstanding {
            return Some(at);
        }
        config.periodic.then(|| dpd.last_heard + config.interval)
    }

    /// Runs the retransmissions, lifetimes and DPD due at `now`.
    pub fn handle_timeout(&mut self, now: Instant) {
        let mut i = 0;
        while i < self.sas.len() {
            let mut sa = self.sas.remove(i);
            self.sa_timeout(now, &mut sa);
            if sa.dead {
                continue;
            }
            self.sas.insert(i, sa);
            i += 1;
        }
        self.child_timeouts(now);
    }

    fn sa_timeout(&mut self, now: Instant, sa: &mut IkeSa) {
        let max = self.config.retransmit.max_attempts;
        let interval = self.config.retransmit.interval;
        // Phase-1 retransmission.
        if let Some(flight) = &mut sa.out
            && flight.next_at.is_some_and(|at| at <= now)
        {
            if flight.attempts >= max {
                sa.dead = true;
                self.events.push_back(Event::Phase1Failed {
                    peer: sa.peer,
                    reason: Failure::Retransmissions,
                });
                return;
            }
            flight.attempts += 1;
            flight.next_at = Some(now + interval);
            let bytes = flight.bytes.clone();
            self.send(sa.peer, bytes);
        }
        // Quick Mode retransmission.
        let mut failed = Vec::new();
        for q in &mut sa.quick {
            if q.out.next_at.is_some_and(|at| at <= now) {
                if q.out.attempts >= max {
                    failed.push(q.message_id);
                    continue;
                }
                q.out.attempts += 1;
                q.out.next_at = Some(now + interval);
                self.transmits.push_back(Transmit {
                    to: sa.peer,
                    bytes: q.out.bytes.clone(),
                });
            }
        }
        for id in failed {
            sa.quick.retain(|q| q.message_id != id);
            self.events.push_back(Event::ChildFailed {
                peer: sa.peer,
                reason: Failure::Retransmissions,
            });
        }
        // Lifetime.
        if sa.hard_at.is_some_and(|at| at <= now) {
            let pair = cookie_pair(sa.cky_i, sa.cky_r);
            let mut chain = Chain::new();
            chain.push(
                PayloadType::DELETE,
                &wire::delete(ProtocolId::ISAKMP, 16, &pair),
            );
            self.send_informational(sa, &chain);
            sa.dead = true;
            self.events.push_back(Event::Phase1Deleted {
                peer: sa.peer,
                initiator_cookie: sa.cky_i,
                reason: DeleteReason::Expired,
            });
            return;
        }
        if sa.role == Role::Initiator && !sa.rekeyed && sa.soft_at.is_some_and(|at| at <= now) {
            sa.rekeyed = true;
            if self.children.iter().any(|c| c.peer == sa.peer) {
                let _ = self.start_main(now, sa.peer, false);
            }
        }
        // DPD.
        if let (Some(config), Some(deadline)) = (self.config.dpd, self.dpd_deadline(sa))
            && deadline <= now
        {
            let attempts = sa
                .dpd
                .as_ref()
                .and_then(|d| d.outstanding)
                .map(|(_, attempts, _)| attempts);
            match attempts {
                Some(attempts) if attempts >= config.max_retries => {
                    let peer = sa.peer;
                    sa.dead = true;
                    self.events.push_back(Event::Phase1Deleted {
                        peer,
                        initiator_cookie: sa.cky_i,
                        reason: DeleteReason::DeadPeer,
                    });
                    self.drop_peer_sas(peer, DeleteReason::DeadPeer);
                    self.drop_children(peer, DeleteReason::DeadPeer, false);
                    self.events.push_back(Event::PeerDead { peer });
                }
                _ => self.probe(now, sa),
            }
        }
    }

    fn probe(&mut self, now: Instant, sa: &mut IkeSa) {
        let Some(config) = self.config.dpd else {
            return;
        };
        let Some(dpd) = &mut sa.dpd else { return };
        dpd.seq = dpd.seq.wrapping_add(1);
        let seq = dpd.seq;
        dpd.outstanding = Some(match dpd.outstanding {
            Some((first, attempts, _)) => (first, attempts + 1, now + config.retry),
            None => (seq, 0, now + config.retry),
        });
        let (pair, seq) = (cookie_pair(sa.cky_i, sa.cky_r), seq.to_be_bytes());
        let body = wire::notify(ProtocolId::ISAKMP, NotifyType::R_U_THERE, &pair, &seq);
        let mut chain = Chain::new();
        chain.push(PayloadType::NOTIFY, &body);
        self.send_informational(sa, &chain);
    }

    fn child_timeouts(&mut self, now: Instant) {
        let mut expired = Vec::new();
        let mut rekey = Vec::new();
        for c in &mut self.children {
            if c.hard_at <= now {
                expired.push(c.clone());
            } else if !c.rekeyed && c.soft_at.is_some_and(|at| at <= now) {
                c.rekeyed = true;
                rekey.push(c.peer);
            }
        }
        for c in expired {
            self.children.retain(|x| x.inbound_spi != c.inbound_spi);
            self.send_esp_delete(c.peer, &[c.inbound_spi]);
            self.events.push_back(Event::ChildDeleted {
                peer: c.peer,
                inbound_spi: c.inbound_spi,
                outbound_spi: c.outbound_spi,
                reason: DeleteReason::Expired,
            });
        }
        for peer in rekey {
            let _ = self.negotiate(now, peer);
        }
    }

    fn send_esp_delete(&mut self, peer: Ipv4Addr, spis: &[u32]) {
        let Some(i) = self.newest(peer) else { return };
        let spis = esp_spis(spis);
        let mut chain = Chain::new();
        chain.push(
            PayloadType::DELETE,
            &wire::delete(ProtocolId::ESP, 4, &spis),
        );
        let mut sa = self.sas.remove(i);
        self.send_informational(&mut sa, &chain);
        self.sas.insert(i, sa);
    }

    /// Removes every IPsec SA pair with `peer`, optionally telling it.
    fn drop_children(&mut self, peer: Ipv4Addr, reason: DeleteReason, notify: bool) {
        let gone: Vec<Child> = self
            .children
            .iter()
            .filter(|c| c.peer == peer)
            .cloned()
            .collect();
        if gone.is_empty() {
            return;
        }
        self.children.retain(|c| c.peer != peer);
        if notify {
            let spis: Vec<u32> = gone.iter().map(|c| c.inbound_spi).collect();
            self.send_esp_delete(peer, &spis);
        }
        for c in gone {
            self.events.push_back(Event::ChildDeleted {
                peer,
                inbound_spi: c.inbound_spi,
                outbound_spi: c.outbound_spi,
                reason,
            });
        }
    }

    /// Removes every IKE SA with `peer` still in the table (the caller holds the current one).
    fn drop_peer_sas(&mut self, peer: Ipv4Addr, reason: DeleteReason) {
        let events = &mut self.events;
        self.sas.retain(|sa| {
            if sa.peer != peer {
                return true;
            }
            if sa.established() {
                events.push_back(Event::Phase1Deleted {
                    peer,
                    initiator_cookie: sa.cky_i,
                    reason,
                });
            }
            false
        });
    }

    // ---------------------------------------------------------------------------------------
    // Messages

    /// Takes one ISAKMP message (a UDP/500 payload) from `from`.
    ///
    /// # Errors
    /// [`IkeError`] naming why the message was refused; whatever the protocol answers has been
    /// queued and the matching [`Event`] raised.
    pub fn handle_message(
        &mut self,
        now: Instant,
        from: Ipv4Addr,
        bytes: &[u8],
    ) -> Result<(), IkeError> {
        let message = Message::parse(bytes)?;
        let header = message.header;
        if header.version >> 4 != 1 {
            return Err(IkeError::Unexpected {
                peer: from,
                exchange: header.exchange_type,
                state: "version",
            });
        }
        match header.exchange_type {
            ExchangeType::MAIN if header.responder_cookie == [0; 8] => {
                self.main_mode_1(now, from, &message, bytes)
            }
            ExchangeType::MAIN => self.with_sa(from, &message, |me, sa| {
                me.main_mode(now, sa, &message, bytes)
            }),
            ExchangeType::QUICK => self.with_sa(from, &message, |me, sa| {
                me.quick_mode(now, sa, &message, bytes)
            }),
            ExchangeType::INFORMATIONAL => {
                self.with_sa(from, &message, |me, sa| me.informational(now, sa, &message))
            }
            exchange => Err(IkeError::Unexpected {
                peer: from,
                exchange,
                state: "any",
            }),
        }
    }

    /// Runs `f` on the SA the message belongs to, taken out of the table meanwhile.
    fn with_sa(
        &mut self,
        from: Ipv4Addr,
        message: &Message<'_>,
        f: impl FnOnce(&mut Self, &mut IkeSa) -> Result<(), IkeError>,
    ) -> Result<(), IkeError> {
        let h = &message.header;
        let found = self.sas.iter().position(|sa| {
            sa.peer == from
                && sa.cky_i == h.initiator_cookie
                && (sa.cky_r == h.responder_cookie || (sa.state == P1::Mm1Sent && !sa.dead))
        });
        let Some(i) = found else {
            return Err(IkeError::UnknownSa {
                peer: from,
                initiator_cookie: u64::from_be_bytes(h.initiator_cookie),
            });
        };
        let mut sa = self.sas.remove(i);
        let result = f(self, &mut sa);
        if !sa.dead {
            self.sas.insert(i.min(self.sas.len()), sa);
        }
        result
    }

    /// Resends our answer if `bytes` repeats the peer's last message.
    fn duplicate(&mut self, sa: &IkeSa, bytes: &[u8]) -> bool {
        if sa.last_in.as_slice() != bytes {
            return false;
        }
        if let Some(out) = &sa.out {
            self.transmits.push_back(Transmit {
                to: sa.peer,
                bytes: out.bytes.clone(),
            });
        }
        true
    }

    fn fail_phase1(&mut self, sa: &mut IkeSa, reason: Failure, notify: Option<NotifyType>) {
        if let Some(ty) = notify {
            let pair = cookie_pair(sa.cky_i, sa.cky_r);
            let mut chain = Chain::new();
            chain.push(
                PayloadType::NOTIFY,
                &wire::notify(ProtocolId::ISAKMP, ty, &pair, &[]),
            );
            let id = self.draw_message_id();
            let header = wire::header(sa.cky_i, sa.cky_r, ExchangeType::INFORMATIONAL, id);
            if let Ok(bytes) = wire::clear(&header, &chain) {
                self.send(sa.peer, bytes);
            }
        }
        sa.dead = true;
        self.events.push_back(Event::Phase1Failed {
            peer: sa.peer,
            reason,
        });
    }

    fn main_mode_1(
        &mut self,
        now: Instant,
        from: Ipv4Addr,
        message: &Message<'_>,
        bytes: &[u8],
    ) -> Result<(), IkeError> {
        let h = message.header;
        if let Some(sa) = self.sas.iter().find(|sa| {
            sa.peer == from && sa.cky_i == h.initiator_cookie && sa.role == Role::Responder
        }) {
            let sa_last = sa.last_in.clone();
            let out = sa.out.as_ref().map(|f| f.bytes.clone());
            if sa_last == bytes {
                if let Some(out) = out {
                    self.send(from, out);
                }
                return Ok(());
            }
            return Err(IkeError::Unexpected {
                peer: from,
                exchange: ExchangeType::MAIN,
                state: "mm2-sent",
            });
        }
        let payloads = message.payloads().ok_or(IkeError::Unexpected {
            peer: from,
            exchange: ExchangeType::MAIN,
            state: "new",
        })?;
        let parsed = parse_chain(payloads, ExchangeType::MAIN)?;
        let (offer, sai_b) = parsed.sa.ok_or(IkeError::MissingPayload {
            peer: from,
            exchange: ExchangeType::MAIN,
            payload: PayloadType::SA,
        })?;
        if self.sas.len() >= MAX_SAS {
            return Err(IkeError::Unexpected {
                peer: from,
                exchange: ExchangeType::MAIN,
                state: "table-full",
            });
        }
        let cky_r = self.draw_cookie();
        let mut sa = IkeSa {
            peer: from,
            role: Role::Responder,
            cky_i: h.initiator_cookie,
            cky_r,
            state: P1::Mm2Sent,
            psk: Secret::default(),
            sai_b: sai_b.to_vec(),
            suite: None,
            kx: None,
            g_xi: Vec::new(),
            g_xr: Vec::new(),
            ni: Vec::new(),
            nr: Vec::new(),
            keys: None,
            ka: Secret::default(),
            iv: Vec::new(),
            last_in: bytes.to_vec(),
            out: None,
            established_at: None,
            soft_at: None,
            hard_at: None,
            rekeyed: false,
            peer_dpd: parsed.dpd_vid,
            dpd: None,
            quick: Vec::new(),
            done_quick: VecDeque::new(),
            want_child: false,
            dead: false,
        };
        let Some(psk) = self.config.key_for(from).cloned() else {
            // IOS: "No pre-shared key with <peer>!", so no policy is acceptable.
            self.fail_phase1(
                &mut sa,
                Failure::NoPresharedKey,
                Some(NotifyType::NO_PROPOSAL_CHOSEN),
            );
            return Err(IkeError::NoPresharedKey { peer: from });
        };
        sa.psk = psk;
        // IOS: each policy in priority order against every offered transform.
        let mut chosen = None;
        'policies: for policy in &self.config.policies {
            for proposal in offer.proposals() {
                let proposal: Proposal<'_> = proposal?;
                if proposal.protocol != ProtocolId::ISAKMP {
                    continue;
                }
                for transform in proposal.transforms() {
                    let transform = transform?;
                    let offered = IkePolicy::from_attributes(transform.attributes())?;
                    if let Some(life) = ike_match(policy, &offered) {
                        chosen = Some((*policy, life, proposal.number, transform));
                        break 'policies;
                    }
                }
            }
        }
        let Some((policy, life, number, transform)) = chosen else {
            self.fail_phase1(
                &mut sa,
                Failure::NoProposalChosen,
                Some(NotifyType::NO_PROPOSAL_CHOSEN),
            );
            return Err(IkeError::NoProposalChosen {
                peer: from,
                phase: 1,
            });
        };
        sa.suite = Some(Suite {
            encryption: policy.encryption,
            hash: policy.hash,
            group: policy.group,
            lifetime: Duration::from_secs(i64::try_from(life).unwrap_or(i64::MAX)),
        });
        let transforms = [wire::transform(
            transform.number,
            transform.id,
            transform.attributes,
        )];
        let proposals = proposal_chain(&[ProposalSpec {
            number,
            protocol: ProtocolId::ISAKMP,
            spi: &[],
            transforms: &transforms,
        }]);
        let mut chain = Chain::new();
        chain
            .push(PayloadType::SA, &wire::sa(&proposals))
            .push(PayloadType::VENDOR_ID, &Body::VendorId(&DPD_VID));
        let header = wire::header(sa.cky_i, sa.cky_r, ExchangeType::MAIN, 0);
        let bytes = wire::clear(&header, &chain)?;
        sa.out = Some(self.flight(now, from, bytes, true));
        self.sas.push(sa);
        Ok(())
    }

    fn main_mode(
        &mut self,
        now: Instant,
        sa: &mut IkeSa,
        message: &Message<'_>,
        bytes: &[u8],
    ) -> Result<(), IkeError> {
        if self.duplicate(sa, bytes) {
            return Ok(());
        }
        let peer = sa.peer;
        let unexpected = IkeError::Unexpected {
            peer,
            exchange: ExchangeType::MAIN,
            state: sa.state.name(),
        };
        match (sa.role, sa.state) {
            (Role::Initiator, P1::Mm1Sent) => self.main_mode_2(now, sa, message, bytes),
            (Role::Responder, P1::Mm2Sent) => self.main_mode_3(now, sa, message, bytes),
            (Role::Initiator, P1::Mm3Sent) => self.main_mode_4(now, sa, message, bytes),
            (Role::Responder, P1::Mm4Sent) => self.main_mode_5(now, sa, message, bytes),
            (Role::Initiator, P1::Mm5Sent) => self.main_mode_6(now, sa, message, bytes),
            _ => Err(unexpected),
        }
    }

    fn plain<'a>(
        sa: &IkeSa,
        message: &Message<'a>,
        payload: PayloadType,
    ) -> Result<Parsed<'a>, IkeError> {
        let payloads = message.payloads().ok_or(IkeError::Unexpected {
            peer: sa.peer,
            exchange: ExchangeType::MAIN,
            state: sa.state.name(),
        })?;
        let parsed = parse_chain(payloads, ExchangeType::MAIN)?;
        let missing = |p| IkeError::MissingPayload {
            peer: sa.peer,
            exchange: ExchangeType::MAIN,
            payload: p,
        };
        match payload {
            PayloadType::SA if parsed.sa.is_none() => Err(missing(PayloadType::SA)),
            PayloadType::KE if parsed.ke.is_none() => Err(missing(PayloadType::KE)),
            PayloadType::KE if parsed.nonce.is_none() => Err(missing(PayloadType::NONCE)),
            _ => Ok(parsed),
        }
    }

    fn main_mode_2(
        &mut self,
        now: Instant,
        sa: &mut IkeSa,
        message: &Message<'_>,
        bytes: &[u8],
    ) -> Result<(), IkeError> {
        let parsed = Self::plain(sa, message, PayloadType::SA)?;
        let Some((choice, _)) = parsed.sa else {
            return Err(IkeError::BadProposalChoice { peer: sa.peer });
        };
        let bad = IkeError::BadProposalChoice { peer: sa.peer };
        let proposal = choice.proposals().next().ok_or(bad.clone())??;
        let transform = proposal.transforms().next().ok_or(bad.clone())??;
        let offered = IkePolicy::from_attributes(transform.attributes())?;
        let (policy, life) = self
            .config
            .policies
            .iter()
            .find_map(|p| ike_match(p, &offered).map(|life| (*p, life)))
            .ok_or(bad)?;
        sa.cky_r = message.header.responder_cookie;
        sa.peer_dpd = parsed.dpd_vid;
        sa.suite = Some(Suite {
            encryption: policy.encryption,
            hash: policy.hash,
            group: policy.group,
            lifetime: Duration::from_secs(i64::try_from(life).unwrap_or(i64::MAX)),
        });
        let kx = self.rng.key_exchange(policy.group)?;
        sa.ni = self.draw_nonce();
        sa.g_xi = kx.public_value().to_vec();
        sa.kx = Some(kx);
        let mut chain = Chain::new();
        chain
            .push(PayloadType::KE, &Body::Ke(&sa.g_xi))
            .push(PayloadType::NONCE, &Body::Nonce(&sa.ni));
        let header = wire::header(sa.cky_i, sa.cky_r, ExchangeType::MAIN, 0);
        let out = wire::clear(&header, &chain)?;
        sa.out = Some(self.flight(now, sa.peer, out, true));
        sa.last_in = bytes.to_vec();
        sa.state = P1::Mm3Sent;
        Ok(())
    }

    /// Computes g^xy, the key schedule, Ka and the first IV once both KE and nonces are known.
    fn derive(sa: &mut IkeSa) -> Result<(), IkeError> {
        let suite = sa
            .suite
            .ok_or(IkeError::BadProposalChoice { peer: sa.peer })?;
        let peer_public = match sa.role {
            Role::Initiator => &sa.g_xr,
            Role::Responder => &sa.g_xi,
        };
        let kx = sa
            .kx
            .as_ref()
            .ok_or(IkeError::BadProposalChoice { peer: sa.peer })?;
        let g_xy = kx.shared_secret(peer_public)?;
        let keys = Phase1Keys::from_psk(
            suite.hash.prf(),
            sa.psk.as_bytes(),
            &sa.ni,
            &sa.nr,
            g_xy.as_bytes(),
            sa.cky_i,
            sa.cky_r,
        );
        sa.ka = keys.encryption_key(suite.encryption.key_len());
        sa.iv = phase1_iv(suite.hash.algorithm(), suite.encryption, &sa.g_xi, &sa.g_xr)
            .ok_or(IkeError::UnsupportedGroup { group: suite.group })?;
        sa.keys = Some(keys);
        sa.kx = None;
        Ok(())
    }

    fn check_ke(sa: &IkeSa, ke: &[u8]) -> Result<(), IkeError> {
        let group = sa.suite.map_or(Group(0), |s| s.group);
        let len = modp(group).map_or(0, |m| m.len());
        if ke.len() != len {
            return Err(IkeError::InvalidPublicValue {
                group,
                len: ke.len(),
            });
        }
        Ok(())
    }

    fn main_mode_3(
        &mut self,
        now: Instant,
        sa: &mut IkeSa,
        message: &Message<'_>,
        bytes: &[u8],
    ) -> Result<(), IkeError> {
        let parsed = Self::plain(sa, message, PayloadType::KE)?;
        let (Some(ke), Some(nonce)) = (parsed.ke, parsed.nonce) else {
            return Err(IkeError::MissingPayload {
                peer: sa.peer,
                exchange: ExchangeType::MAIN,
                payload: PayloadType::KE,
            });
        };
        Self::check_ke(sa, ke)?;
        let group = sa.suite.map_or(Group(0), |s| s.group);
        let kx = self.rng.key_exchange(group)?;
        sa.g_xi = ke.to_vec();
        sa.ni = nonce.to_vec();
        sa.g_xr = kx.public_value().to_vec();
        sa.nr = self.draw_nonce();
        sa.kx = Some(kx);
        Self::derive(sa)?;
        let mut chain = Chain::new();
        chain
            .push(PayloadType::KE, &Body::Ke(&sa.g_xr))
            .push(PayloadType::NONCE, &Body::Nonce(&sa.nr));
        let header = wire::header(sa.cky_i, sa.cky_r, ExchangeType::MAIN, 0);
        let out = wire::clear(&header, &chain)?;
        sa.out = Some(self.flight(now, sa.peer, out, true));
        sa.last_in = bytes.to_vec();
        sa.state = P1::Mm4Sent;
        Ok(())
    }

    /// Message 5 or 6: ID, HASH_I/HASH_R, and (initiator, as IOS and strongSwan do) INITIAL-CONTACT
    /// on first contact.
    fn identity_message(&mut self, sa: &mut IkeSa) -> Option<Vec<u8>> {
        let keys = sa.keys.as_ref()?;
        let cipher = sa.cipher()?;
        let local = self.config.local.octets();
        let identity = &self.config.identity;
        let id = wire::id(IdType::IPV4_ADDR, identity.protocol, identity.port, &local);
        let id_b = wire::body_bytes(&id);
        let hash = match sa.role {
            Role::Initiator => {
                keys.hash_i(&sa.g_xi, &sa.g_xr, sa.cky_i, sa.cky_r, &sa.sai_b, &id_b)
            }
            Role::Responder => {
                keys.hash_r(&sa.g_xi, &sa.g_xr, sa.cky_i, sa.cky_r, &sa.sai_b, &id_b)
            }
        };
        let mut chain = Chain::new();
        chain
            .push(PayloadType::ID, &id)
            .push(PayloadType::HASH, &Body::Hash(hash.as_bytes()));
        if sa.role == Role::Initiator && self.first_contact(sa.peer) {
            let pair = cookie_pair(sa.cky_i, sa.cky_r);
            chain.push(
                PayloadType::NOTIFY,
                &wire::notify(ProtocolId::ISAKMP, NotifyType::INITIAL_CONTACT, &pair, &[]),
            );
        }
        let header = wire::header(sa.cky_i, sa.cky_r, ExchangeType::MAIN, 0);
        let out = wire::seal(&header, &chain, cipher, sa.ka.as_bytes(), &sa.iv)?;
        sa.iv = wire::last_block(&out, cipher.block_len());
        Some(out)
    }

    fn main_mode_4(
        &mut self,
        now: Instant,
        sa: &mut IkeSa,
        message: &Message<'_>,
        bytes: &[u8],
    ) -> Result<(), IkeError> {
        let parsed = Self::plain(sa, message, PayloadType::KE)?;
        let (Some(ke), Some(nonce)) = (parsed.ke, parsed.nonce) else {
            return Err(IkeError::MissingPayload {
                peer: sa.peer,
                exchange: ExchangeType::MAIN,
                payload: PayloadType::KE,
            });
        };
        Self::check_ke(sa, ke)?;
        sa.g_xr = ke.to_vec();
        sa.nr = nonce.to_vec();
        Self::derive(sa)?;
        let out = self
            .identity_message(sa)
            .ok_or(IkeError::AuthenticationFailed { peer: sa.peer })?;
        sa.out = Some(self.flight(now, sa.peer, out, true));
        sa.last_in = bytes.to_vec();
        sa.state = P1::Mm5Sent;
        Ok(())
    }

    /// Decrypts message 5 or 6 and checks the peer's HASH; returns the INITIAL-CONTACT flag.
    fn authenticate(&mut self, sa: &mut IkeSa, message: &Message<'_>) -> Result<bool, IkeError> {
        let peer = sa.peer;
        let failed = IkeError::AuthenticationFailed { peer };
        let (Some(cipher), Some(keys)) = (sa.cipher(), sa.keys.as_ref()) else {
            return Err(failed);
        };
        if !message.is_encrypted() {
            return Err(failed);
        }
        let plain = decrypt(cipher, sa.ka.as_bytes(), &sa.iv, message.body)?;
        let parsed = parse_chain(
            Payloads::decrypted(message.header.next_payload, &plain, wire::HEADER_LEN),
            ExchangeType::MAIN,
        )
        .map_err(|_| failed.clone())?;
        let (Some((_, id)), Some(hash)) = (parsed.ids.first(), parsed.hash) else {
            return Err(failed);
        };
        let expected = match sa.role {
            Role::Responder => keys.hash_i(&sa.g_xi, &sa.g_xr, sa.cky_i, sa.cky_r, &sa.sai_b, id),
            Role::Initiator => keys.hash_r(&sa.g_xi, &sa.g_xr, sa.cky_i, sa.cky_r, &sa.sai_b, id),
        };
        if expected != Secret::from_slice(hash) {
            return Err(failed);
        }
        sa.iv = wire::last_block(message.body, cipher.block_len());
        Ok(parsed
            .notifies
            .iter()
            .any(|n| n.ty == NotifyType::INITIAL_CONTACT))
    }

    fn main_mode_5(
        &mut self,
        now: Instant,
        sa: &mut IkeSa,
        message: &Message<'_>,
        bytes: &[u8],
    ) -> Result<(), IkeError> {
        let initial_contact = match self.authenticate(sa, message) {
            Ok(flag) => flag,
            Err(error) => {
                self.fail_phase1(
                    sa,
                    Failure::AuthenticationFailed,
                    Some(NotifyType::AUTHENTICATION_FAILED),
                );
                return Err(match error {
                    IkeError::Decrypt(_) => IkeError::AuthenticationFailed { peer: sa.peer },
                    other => other,
                });
            }
        };
        sa.last_in = bytes.to_vec();
        if initial_contact {
            self.initial_contact(sa.peer);
        }
        let out = self
            .identity_message(sa)
            .ok_or(IkeError::AuthenticationFailed { peer: sa.peer })?;
        sa.out = Some(self.flight(now, sa.peer, out, false));
        self.established(now, sa);
        if sa.want_child {
            // We wanted an SA while the peer was already negotiating one: Quick Mode from us.
            sa.want_child = false;
            self.start_quick(now, sa)?;
        }
        Ok(())
    }

    fn main_mode_6(
        &mut self,
        now: Instant,
        sa: &mut IkeSa,
        message: &Message<'_>,
        bytes: &[u8],
    ) -> Result<(), IkeError> {
        let initial_contact = match self.authenticate(sa, message) {
            Ok(flag) => flag,
            Err(error) => {
                self.fail_phase1(sa, Failure::AuthenticationFailed, None);
                return Err(match error {
                    IkeError::Decrypt(_) => IkeError::AuthenticationFailed { peer: sa.peer },
                    other => other,
                });
            }
        };
        sa.last_in = bytes.to_vec();
        sa.out = None;
        if initial_contact {
            self.initial_contact(sa.peer);
        }
        self.established(now, sa);
        if sa.want_child {
            sa.want_child = false;
            self.start_quick(now, sa)?;
        }
        Ok(())
    }

    /// The peer rebooted: its other IKE SAs and all IPsec SAs with it are stale.
    fn initial_contact(&mut self, peer: Ipv4Addr) {
        self.drop_peer_sas(peer, DeleteReason::InitialContact);
        self.drop_children(peer, DeleteReason::InitialContact, false);
    }

    fn established(&mut self, now: Instant, sa: &mut IkeSa) {
        sa.state = P1::Established;
        sa.established_at = Some(now);
        if let Some(suite) = sa.suite {
            sa.hard_at = Some(now + suite.lifetime);
            sa.soft_at = Some(
                now + suite
                    .lifetime
                    .saturating_mul(self.config.rekey_per_mille)
                    .div(1000),
            );
            self.events.push_back(Event::Phase1Established {
                peer: sa.peer,
                role: sa.role,
                responder_cookie: sa.cky_r,
                suite,
                key: Ikev1Key {
                    initiator_cookie: sa.cky_i,
                    encryption_key: sa.ka.clone(),
                },
            });
        }
        if self.config.dpd.is_some() && sa.peer_dpd {
            let seq = u32::from_be_bytes(self.draw::<4>(Purpose::DpdSequence)) & 0x7fff_ffff;
            sa.dpd = Some(Dpd {
                seq,
                outstanding: None,
                last_heard: now,
            });
        }
    }

    // ---------------------------------------------------------------------------------------
    // Quick Mode

    fn start_quick(&mut self, now: Instant, sa: &mut IkeSa) -> Result<(), IkeError> {
        let (Some(cipher), Some(keys)) = (sa.cipher(), sa.keys.as_ref()) else {
            return Err(IkeError::NotEstablished { peer: sa.peer });
        };
        let _ = keys;
        let message_id = self.draw_message_id();
        let spi_in = self.draw_spi();
        let ni = self.draw_nonce();
        let kx = match self.config.pfs {
            Some(group) => Some(self.rng.key_exchange(group)?),
            None => None,
        };
        let life = u64::try_from(self.config.ipsec_lifetime.secs()).unwrap_or(0);
        let attributes: Vec<Vec<u8>> = self
            .config
            .transform_sets
            .iter()
            .map(|set| {
                esp_attributes(
                    set,
                    life,
                    self.config.ipsec_lifetime_kb,
                    self.config.pfs.map(|g| g.0),
                )
            })
            .collect();
        // IOS: one proposal per transform set, each with the same SPI.
        let spi = spi_in.to_be_bytes();
        let transforms: Vec<[Transform<'_>; 1]> = self
            .config
            .transform_sets
            .iter()
            .zip(&attributes)
            .map(|(set, attrs)| [wire::transform(1, set.encryption.transform().0.0, attrs)])
            .collect();
        let proposals: Vec<ProposalSpec<'_>> = transforms
            .iter()
            .enumerate()
            .map(|(i, t)| ProposalSpec {
                number: u8::try_from(i + 1).unwrap_or(u8::MAX),
                protocol: ProtocolId::ESP,
                spi: &spi,
                transforms: t,
            })
            .collect();
        let proposals = proposal_chain(&proposals);
        let mut chain = Chain::new();
        chain
            .push(PayloadType::SA, &wire::sa(&proposals))
            .push(PayloadType::NONCE, &Body::Nonce(&ni));
        if let Some(kx) = &kx {
            chain.push(PayloadType::KE, &Body::Ke(kx.public_value()));
        }
        let (local, peer) = (self.config.local.octets(), sa.peer.octets());
        chain
            .push(
                PayloadType::ID,
                &wire::id(IdType::IPV4_ADDR, GRE, 0, &local),
            )
            .push(PayloadType::ID, &wire::id(IdType::IPV4_ADDR, GRE, 0, &peer));
        let Some(keys) = sa.keys.as_ref() else {
            return Err(IkeError::NotEstablished { peer: sa.peer });
        };
        let hash = keys.quick_hash1(message_id, chain.as_bytes());
        let plain = chain.behind(PayloadType::HASH, &Body::Hash(hash.as_bytes()));
        let iv = phase2_iv(sa.hash_alg(), cipher, &sa.iv, message_id)
            .ok_or(IkeError::NotEstablished { peer: sa.peer })?;
        let header = wire::header(sa.cky_i, sa.cky_r, ExchangeType::QUICK, message_id);
        let bytes = wire::seal(&header, &plain, cipher, sa.ka.as_bytes(), &iv)
            .ok_or(IkeError::NotEstablished { peer: sa.peer })?;
        let next_iv = wire::last_block(&bytes, cipher.block_len());
        let out = self.flight(now, sa.peer, bytes, true);
        sa.quick.push(QuickMode {
            message_id,
            role: Role::Initiator,
            state: Qm::Sent1,
            iv: next_iv,
            spi_in,
            ni,
            nr: Vec::new(),
            kx,
            last_in: Vec::new(),
            out,
            commit: false,
            child: None,
        });
        Ok(())
    }

    /// Decrypts a phase-2 message with `iv`, checks its leading HASH against `expected(rest)`
    /// and returns the plaintext, or the error to report.
    fn open_hashed(
        sa: &IkeSa,
        message: &Message<'_>,
        iv: &[u8],
        expected: impl FnOnce(&Phase1Keys, &[u8]) -> Secret,
    ) -> Result<Vec<u8>, IkeError> {
        let h = &message.header;
        let mismatch = IkeError::HashMismatch {
            peer: sa.peer,
            exchange: h.exchange_type,
            message_id: h.message_id,
        };
        let (Some(cipher), Some(keys)) = (sa.cipher(), sa.keys.as_ref()) else {
            return Err(IkeError::NotEstablished { peer: sa.peer });
        };
        if !message.is_encrypted() {
            return Err(mismatch);
        }
        let plain = decrypt(cipher, sa.ka.as_bytes(), iv, message.body)?;
        let split = split_hash(h.next_payload, &plain)?.ok_or(IkeError::MissingPayload {
            peer: sa.peer,
            exchange: h.exchange_type,
            payload: PayloadType::HASH,
        })?;
        if expected(keys, split.rest) != Secret::from_slice(split.hash) {
            return Err(mismatch);
        }
        Ok(plain)
    }

    fn quick_mode(
        &mut self,
        now: Instant,
        sa: &mut IkeSa,
        message: &Message<'_>,
        bytes: &[u8],
    ) -> Result<(), IkeError> {
        let h = message.header;
        if !sa.established() {
            return Err(IkeError::NotEstablished { peer: sa.peer });
        }
        // A repeat of a message we answered: answer again.
        if let Some((_, _, out)) = sa
            .done_quick
            .iter()
            .find(|(id, last_in, _)| *id == h.message_id && last_in.as_slice() == bytes)
        {
            if let Some(out) = out.clone() {
                self.send(sa.peer, out);
            }
            return Ok(());
        }
        if let Some(q) = sa.quick.iter().find(|q| q.message_id == h.message_id) {
            if q.last_in.as_slice() == bytes {
                let out = q.out.bytes.clone();
                self.send(sa.peer, out);
                return Ok(());
            }
            return match (q.role, q.state) {
                (Role::Initiator, Qm::Sent1) => self.quick_mode_2(now, sa, message, bytes),
                (Role::Responder, Qm::Sent2) => self.quick_mode_3(now, sa, message, bytes),
                _ => Err(IkeError::Unexpected {
                    peer: sa.peer,
                    exchange: ExchangeType::QUICK,
                    state: "quick-mode",
                }),
            };
        }
        self.quick_mode_1(now, sa, message, bytes)
    }

    /// The SAD's limits of a negotiated pair. The time limit's rekey is IKE's own (a child's
    /// `soft_at`); the volume is counted by the SAD, which reports the soft limit, at
    /// [`Config::rekey_per_mille`] of the kilobytes as IOS does at 90 %, for [`Endpoint::rekey`].
    fn lifetime(&self, secs: u64, kb: Option<u64>) -> Lifetime {
        let hard_bytes = kb.map(|kb| kb.saturating_mul(1024));
        let per_mille = u64::try_from(self.config.rekey_per_mille.clamp(1, 1000)).unwrap_or(1000);
        Lifetime {
            soft_time: None,
            hard_time: Some(Duration::from_secs(i64::try_from(secs).unwrap_or(i64::MAX))),
            soft_bytes: hard_bytes.map(|b| b / 1000 * per_mille),
            hard_bytes,
        }
    }

    #[allow(clippy::too_many_arguments)] // the KEYMAT inputs, term for term
    fn child_keys(
        keys: &Phase1Keys,
        set: TransformSet,
        spi: u32,
        ni: &[u8],
        nr: &[u8],
        g_qm: Option<&Secret>,
    ) -> EspKeys {
        let enc = set.encryption.key_len();
        let int = set.integrity.key_len();
        let keymat = keys.keymat(3, spi, ni, nr, g_qm.map(Secret::as_bytes), enc + int);
        let bytes = keymat.as_bytes();
        EspKeys {
            spi,
            encryption: set.encryption,
            encryption_key: Secret::from_slice(bytes.get(..enc).unwrap_or_default()),
            integrity: set.integrity,
            integrity_key: Secret::from_slice(bytes.get(enc..).unwrap_or_default()),
        }
    }

    fn quick_mode_1(
        &mut self,
        now: Instant,
        sa: &mut IkeSa,
        message: &Message<'_>,
        bytes: &[u8],
    ) -> Result<(), IkeError> {
        let h = message.header;
        let peer = sa.peer;
        let Some(cipher) = sa.cipher() else {
            return Err(IkeError::NotEstablished { peer });
        };
        if sa.quick.len() >= MAX_QUICK {
            return Err(IkeError::Unexpected {
                peer,
                exchange: ExchangeType::QUICK,
                state: "too-many-quick-modes",
            });
        }
        let iv = phase2_iv(sa.hash_alg(), cipher, &sa.iv, h.message_id)
            .ok_or(IkeError::NotEstablished { peer })?;
        let mid = h.message_id;
        let plain = Self::open_hashed(sa, message, &iv, |k, rest| k.quick_hash1(mid, rest))?;
        let qm_iv = wire::last_block(message.body, cipher.block_len());
        let parsed = parse_chain(
            Payloads::decrypted(h.next_payload, &plain, wire::HEADER_LEN),
            ExchangeType::QUICK,
        )?;
        if let Some(dpd) = &mut sa.dpd {
            dpd.last_heard = now;
        }
        let missing = |payload| IkeError::MissingPayload {
            peer,
            exchange: ExchangeType::QUICK,
            payload,
        };
        let (offer, _) = parsed.sa.ok_or(missing(PayloadType::SA))?;
        let ni = parsed.nonce.ok_or(missing(PayloadType::NONCE))?;
        // IDs: both or none; GRE (or any protocol) between the two NBMA addresses.
        let ids_ok = match parsed.ids.as_slice() {
            [] => true,
            [(ci, _), (cr, _)] => quick_id_ok(ci, peer) && quick_id_ok(cr, self.config.local),
            _ => false,
        };
        if !ids_ok {
            self.quick_notify(sa, NotifyType::INVALID_ID_INFORMATION, &[]);
            self.events.push_back(Event::ChildFailed {
                peer,
                reason: Failure::InvalidId,
            });
            return Err(IkeError::InvalidId { peer });
        }
        // The first offered proposal one of our transform sets matches (IOS).
        let mut chosen = None;
        let proposals: Vec<Proposal<'_>> = offer.proposals().collect::<Result<_, _>>()?;
        for proposal in &proposals {
            if proposal.protocol != ProtocolId::ESP
                || proposals
                    .iter()
                    .any(|p| p.number == proposal.number && p.protocol != ProtocolId::ESP)
            {
                continue;
            }
            let Some(spi) = proposal.spi_u32() else {
                continue;
            };
            for transform in proposal.transforms() {
                let transform = transform?;
                let o = esp_offer(&transform);
                let Some(set) = o.set else { continue };
                if !o.transport || !self.config.transform_sets.contains(&set) {
                    continue;
                }
                let pfs_ok = match (self.config.pfs, o.group, parsed.ke) {
                    (Some(ours), Some(theirs), Some(_)) => ours == theirs,
                    (None, Some(theirs), Some(_)) => modp(theirs).is_some(),
                    (None, None, None) => true,
                    _ => false,
                };
                if pfs_ok {
                    chosen = Some((proposal.number, spi, transform, set, o));
                    break;
                }
            }
            if chosen.is_some() {
                break;
            }
        }
        let Some((number, spi_out, transform, set, offered)) = chosen else {
            let spi = proposals.first().map(|p| p.spi).unwrap_or_default();
            self.quick_notify(sa, NotifyType::NO_PROPOSAL_CHOSEN, spi);
            self.events.push_back(Event::ChildFailed {
                peer,
                reason: Failure::NoProposalChosen,
            });
            return Err(IkeError::NoProposalChosen { peer, phase: 2 });
        };
        // Lifetimes: the shorter; RESPONDER-LIFETIME when ours is.
        let ours = u64::try_from(self.config.ipsec_lifetime.secs()).unwrap_or(0);
        let theirs = offered.life_secs.unwrap_or(DEFAULT_IPSEC_LIFE);
        let life = ours.min(theirs);
        let kb = match (self.config.ipsec_lifetime_kb, offered.life_kb) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        };
        let lower_kb =
            matches!((self.config.ipsec_lifetime_kb, offered.life_kb), (Some(a), Some(b)) if a < b);
        let mut responder_lifetime = None;
        if ours < theirs || lower_kb {
            let kb = kb.filter(|_| lower_kb);
            responder_lifetime = Some(wire::lifetime_attributes(life, kb));
        }
        let pfs_group = offered.group;
        let kx = match (pfs_group, parsed.ke) {
            (Some(group), Some(ke)) => {
                let len = modp(group).map_or(0, |m| m.len());
                if ke.len() != len {
                    return Err(IkeError::InvalidPublicValue {
                        group,
                        len: ke.len(),
                    });
                }
                Some((self.rng.key_exchange(group)?, ke))
            }
            _ => None,
        };
        let g_qm = match &kx {
            Some((kx, ke)) => Some(kx.shared_secret(ke)?),
            None => None,
        };
        let spi_in = self.draw_spi();
        let nr = self.draw_nonce();
        let transforms = [wire::transform(
            transform.number,
            transform.id,
            transform.attributes,
        )];
        let proposals = proposal_chain(&[ProposalSpec {
            number,
            protocol: ProtocolId::ESP,
            spi: &spi_in.to_be_bytes(),
            transforms: &transforms,
        }]);
        let mut chain = Chain::new();
        chain
            .push(PayloadType::SA, &wire::sa(&proposals))
            .push(PayloadType::NONCE, &Body::Nonce(&nr));
        if let Some((kx, _)) = &kx {
            chain.push(PayloadType::KE, &Body::Ke(kx.public_value()));
        }
        for (id, _) in &parsed.ids {
            chain.push(PayloadType::ID, &Body::Id(*id));
        }
        if let Some(attributes) = &responder_lifetime {
            let spi = spi_out.to_be_bytes();
            chain.push(
                PayloadType::NOTIFY,
                &wire::notify(
                    ProtocolId::ESP,
                    NotifyType::RESPONDER_LIFETIME,
                    &spi,
                    attributes,
                ),
            );
        }
        let Some(keys) = sa.keys.as_ref() else {
            return Err(IkeError::NotEstablished { peer });
        };
        let hash = keys.quick_hash2(mid, ni, chain.as_bytes());
        let plain_out = chain.behind(PayloadType::HASH, &Body::Hash(hash.as_bytes()));
        let header = wire::header(sa.cky_i, sa.cky_r, ExchangeType::QUICK, mid);
        let out_bytes = wire::seal(&header, &plain_out, cipher, sa.ka.as_bytes(), &qm_iv)
            .ok_or(IkeError::NotEstablished { peer })?;
        let next_iv = wire::last_block(&out_bytes, cipher.block_len());
        let child = ChildSa {
            peer,
            local: self.config.local,
            inbound: Self::child_keys(keys, set, spi_in, ni, &nr, g_qm.as_ref()),
            outbound: Self::child_keys(keys, set, spi_out, ni, &nr, g_qm.as_ref()),
            lifetime: self.lifetime(life, kb),
            role: Role::Responder,
            message_id: mid,
            transform_set: set,
            pfs: pfs_group,
        };
        let out = self.flight(now, peer, out_bytes, true);
        sa.quick.push(QuickMode {
            message_id: mid,
            role: Role::Responder,
            state: Qm::Sent2,
            iv: next_iv,
            spi_in,
            ni: ni.to_vec(),
            nr,
            kx: None,
            last_in: bytes.to_vec(),
            out,
            commit: h.flags.commit(),
            child: Some(child.clone()),
        });
        self.events.push_back(Event::ChildOffered(child));
        Ok(())
    }

    fn quick_mode_2(
        &mut self,
        now: Instant,
        sa: &mut IkeSa,
        message: &Message<'_>,
        bytes: &[u8],
    ) -> Result<(), IkeError> {
        let h = message.header;
        let peer = sa.peer;
        let mid = h.message_id;
        let Some(qi) = sa.quick.iter().position(|q| q.message_id == mid) else {
            return Err(IkeError::NotEstablished { peer });
        };
        let Some(cipher) = sa.cipher() else {
            return Err(IkeError::NotEstablished { peer });
        };
        let ni = sa.quick[qi].ni.clone();
        let iv = sa.quick[qi].iv.clone();
        let plain = Self::open_hashed(sa, message, &iv, |k, rest| k.quick_hash2(mid, &ni, rest))?;
        let parsed = parse_chain(
            Payloads::decrypted(h.next_payload, &plain, wire::HEADER_LEN),
            ExchangeType::QUICK,
        )?;
        let bad = IkeError::BadProposalChoice { peer };
        let (choice, _) = parsed.sa.ok_or(bad.clone())?;
        let nr = parsed.nonce.ok_or(IkeError::MissingPayload {
            peer,
            exchange: ExchangeType::QUICK,
            payload: PayloadType::NONCE,
        })?;
        let proposal = choice.proposals().next().ok_or(bad.clone())??;
        let spi_out = proposal.spi_u32().ok_or(bad.clone())?;
        let transform = proposal.transforms().next().ok_or(bad.clone())??;
        let offered = esp_offer(&transform);
        let set = offered
            .set
            .filter(|s| self.config.transform_sets.contains(s) && offered.transport)
            .ok_or(bad.clone())?;
        if proposal.protocol != ProtocolId::ESP || offered.group != self.config.pfs {
            return Err(bad);
        }
        let g_qm = match (&sa.quick[qi].kx, parsed.ke) {
            (Some(kx), Some(ke)) => Some(kx.shared_secret(ke)?),
            (None, None) => None,
            _ => return Err(bad),
        };
        // The responder may shorten the lifetime (RESPONDER-LIFETIME, RFC 2407 §4.6.3.1).
        let mut life = offered
            .life_secs
            .unwrap_or(DEFAULT_IPSEC_LIFE)
            .min(u64::try_from(self.config.ipsec_lifetime.secs()).unwrap_or(0));
        let mut kb = offered.life_kb;
        for n in parsed
            .notifies
            .iter()
            .filter(|n| n.ty == NotifyType::RESPONDER_LIFETIME)
        {
            let mut life_type = None;
            for attribute in n.lifetime_attributes().map_while(Result::ok) {
                match IpsecAttributeType(attribute.ty) {
                    IpsecAttributeType::LIFE_TYPE => life_type = attribute.as_u16().map(LifeType),
                    IpsecAttributeType::LIFE_DURATION => match (life_type, attribute.as_u64()) {
                        (Some(LifeType::SECONDS), Some(v)) if v > 0 => life = life.min(v),
                        (Some(LifeType::KILOBYTES), Some(v)) if v > 0 => {
                            kb = Some(kb.map_or(v, |k| k.min(v)));
                        }
                        _ => {}
                    },
                    _ => {}
                }
            }
        }
        if let Some(dpd) = &mut sa.dpd {
            dpd.last_heard = now;
        }
        let Some(keys) = sa.keys.as_ref() else {
            return Err(IkeError::NotEstablished { peer });
        };
        let q = &sa.quick[qi];
        let child = ChildSa {
            peer,
            local: self.config.local,
            inbound: Self::child_keys(keys, set, q.spi_in, &ni, nr, g_qm.as_ref()),
            outbound: Self::child_keys(keys, set, spi_out, &ni, nr, g_qm.as_ref()),
            lifetime: self.lifetime(life, kb),
            role: Role::Initiator,
            message_id: mid,
            transform_set: set,
            pfs: self.config.pfs,
        };
        let hash = keys.quick_hash3(mid, &ni, nr);
        let mut chain = Chain::new();
        chain.push(PayloadType::HASH, &Body::Hash(hash.as_bytes()));
        let qm_iv = wire::last_block(message.body, cipher.block_len());
        let header = wire::header(sa.cky_i, sa.cky_r, ExchangeType::QUICK, mid);
        let out = wire::seal(&header, &chain, cipher, sa.ka.as_bytes(), &qm_iv)
            .ok_or(IkeError::NotEstablished { peer })?;
        self.send(peer, out.clone());
        if h.flags.commit() {
            // RFC 2408 §4.6: wait for the responder's CONNECTED before using the SAs.
            let q = &mut sa.quick[qi];
            q.state = Qm::AwaitConnected;
            q.child = Some(child);
            q.last_in = bytes.to_vec();
            q.out = Flight {
                bytes: out,
                attempts: 0,
                next_at: None,
            };
            return Ok(());
        }
        sa.quick.remove(qi);
        Self::remember(sa, mid, bytes, Some(out));
        self.install(now, child);
        Ok(())
    }

    fn remember(sa: &mut IkeSa, mid: u32, last_in: &[u8], out: Option<Vec<u8>>) {
        if sa.done_quick.len() >= DONE_QUICK {
            sa.done_quick.pop_front();
        }
        sa.done_quick.push_back((mid, last_in.to_vec(), out));
    }

    fn quick_mode_3(
        &mut self,
        now: Instant,
        sa: &mut IkeSa,
        message: &Message<'_>,
        bytes: &[u8],
    ) -> Result<(), IkeError> {
        let mid = message.header.message_id;
        let peer = sa.peer;
        let Some(qi) = sa.quick.iter().position(|q| q.message_id == mid) else {
            return Err(IkeError::NotEstablished { peer });
        };
        let (ni, iv) = (sa.quick[qi].ni.clone(), sa.quick[qi].iv.clone());
        let nr = sa.quick[qi].nr.clone();
        Self::open_hashed(sa, message, &iv, |k, _| k.quick_hash3(mid, &ni, &nr))?;
        if let Some(dpd) = &mut sa.dpd {
            dpd.last_heard = now;
        }
        let q = sa.quick.remove(qi);
        let Some(child) = q.child else {
            return Err(IkeError::NotEstablished { peer });
        };
        Self::remember(sa, mid, bytes, None);
        if q.commit || message.header.flags.commit() {
            let spi = child.inbound.spi.to_be_bytes();
            let mut chain = Chain::new();
            chain.push(
                PayloadType::NOTIFY,
                &wire::notify(ProtocolId::ESP, NotifyType::CONNECTED, &spi, &[]),
            );
            self.send_informational(sa, &chain);
        }
        self.install(now, child);
        Ok(())
    }

    fn install(&mut self, now: Instant, child: ChildSa) {
        let hard = child.lifetime.hard_time.unwrap_or(Duration::from_secs(
            i64::try_from(DEFAULT_IPSEC_LIFE).unwrap_or(0),
        ));
        let soft = (child.role == Role::Initiator)
            .then(|| now + hard.saturating_mul(self.config.rekey_per_mille).div(1000));
        // The pairs this one replaces: deleted (with a Delete to the peer) once the overlap is
        // over, however often the volume limit rekeys.
        for old in self.children.iter_mut().filter(|c| c.peer == child.peer) {
            old.rekeyed = true;
            old.hard_at = old.hard_at.min(now + crate::ipsec::REKEY_OVERLAP);
        }
        self.children.push(Child {
            peer: child.peer,
            inbound_spi: child.inbound.spi,
            outbound_spi: child.outbound.spi,
            soft_at: soft,
            hard_at: now + hard,
            rekeyed: false,
        });
        self.events.push_back(Event::ChildEstablished(child));
    }

    /// An encrypted Informational carrying one notification about the Quick Mode's proposal.
    fn quick_notify(&mut self, sa: &mut IkeSa, ty: NotifyType, spi: &[u8]) {
        let mut chain = Chain::new();
        chain.push(
            PayloadType::NOTIFY,
            &wire::notify(ProtocolId::ESP, ty, spi, &[]),
        );
        self.send_informational(sa, &chain);
    }

    /// Sends `chain` in a protected Informational exchange (RFC 2409 §5.7).
    fn send_informational(&mut self, sa: &mut IkeSa, chain: &Chain) {
        let (Some(cipher), Some(keys)) = (sa.cipher(), sa.keys.as_ref()) else {
            return;
        };
        if sa.state != P1::Established {
            return;
        }
        let mid = self.draw_message_id();
        let hash = keys.quick_hash1(mid, chain.as_bytes());
        let plain = chain.behind(PayloadType::HASH, &Body::Hash(hash.as_bytes()));
        let Some(iv) = phase2_iv(sa.hash_alg(), cipher, &sa.iv, mid) else {
            return;
        };
        let header = wire::header(sa.cky_i, sa.cky_r, ExchangeType::INFORMATIONAL, mid);
        let Some(bytes) = wire::seal(&header, &plain, cipher, sa.ka.as_bytes(), &iv) else {
            return;
        };
        self.send(sa.peer, bytes);
    }

    // ---------------------------------------------------------------------------------------
    // Informational

    fn informational(
        &mut self,
        now: Instant,
        sa: &mut IkeSa,
        message: &Message<'_>,
    ) -> Result<(), IkeError> {
        let h = message.header;
        let peer = sa.peer;
        if !message.is_encrypted() {
            // Unprotected: only believed while phase 1 is not done (IOS logs them the same way).
            if sa.state == P1::Established {
                return Err(IkeError::Unexpected {
                    peer,
                    exchange: ExchangeType::INFORMATIONAL,
                    state: "established",
                });
            }
            let payloads = message
                .payloads()
                .ok_or(IkeError::NotEstablished { peer })?;
            let parsed = parse_chain(payloads, ExchangeType::INFORMATIONAL)?;
            if let Some(n) = parsed.notifies.iter().find(|n| n.ty.0 < 16384) {
                let reason = match n.ty {
                    NotifyType::NO_PROPOSAL_CHOSEN => Failure::NoProposalChosen,
                    NotifyType::AUTHENTICATION_FAILED => Failure::AuthenticationFailed,
                    ty => Failure::Notified(ty),
                };
                self.fail_phase1(sa, reason, None);
            }
            return Ok(());
        }
        if !sa.established() {
            return Err(IkeError::NotEstablished { peer });
        }
        let Some(cipher) = sa.cipher() else {
            return Err(IkeError::NotEstablished { peer });
        };
        let mid = h.message_id;
        let iv = phase2_iv(sa.hash_alg(), cipher, &sa.iv, mid)
            .ok_or(IkeError::NotEstablished { peer })?;
        let plain = Self::open_hashed(sa, message, &iv, |k, rest| k.quick_hash1(mid, rest))?;
        let parsed = parse_chain(
            Payloads::decrypted(h.next_payload, &plain, wire::HEADER_LEN),
            ExchangeType::INFORMATIONAL,
        )?;
        if let Some(dpd) = &mut sa.dpd {
            dpd.last_heard = now;
        }
        for n in &parsed.notifies {
            match n.ty {
                NotifyType::R_U_THERE => {
                    let Some(seq) = n.dpd_sequence() else {
                        continue;
                    };
                    let (pair, seq) = (cookie_pair(sa.cky_i, sa.cky_r), seq.to_be_bytes());
                    let body =
                        wire::notify(ProtocolId::ISAKMP, NotifyType::R_U_THERE_ACK, &pair, &seq);
                    let mut chain = Chain::new();
                    chain.push(PayloadType::NOTIFY, &body);
                    self.send_informational(sa, &chain);
                }
                NotifyType::R_U_THERE_ACK => {
                    if let (Some(dpd), Some(seq)) = (&mut sa.dpd, n.dpd_sequence())
                        && let Some((first, _, _)) = dpd.outstanding
                        && seq.wrapping_sub(first) <= dpd.seq.wrapping_sub(first)
                    {
                        dpd.outstanding = None;
                    }
                }
                NotifyType::INITIAL_CONTACT => self.initial_contact(peer),
                NotifyType::CONNECTED => {
                    if let Some(qi) = sa.quick.iter().position(|q| q.state == Qm::AwaitConnected) {
                        let q = sa.quick.remove(qi);
                        let (mid, last_in, out) = (q.message_id, q.last_in, q.out.bytes);
                        Self::remember(sa, mid, &last_in, Some(out));
                        if let Some(child) = q.child {
                            self.install(now, child);
                        }
                    }
                }
                ty if ty.0 < 16384 => {
                    // An error about one of our Quick Modes (NO-PROPOSAL-CHOSEN, INVALID-ID…):
                    // the one whose SPI it names, or the only one outstanding.
                    let spi = spi_u32(n.spi);
                    let found = sa.quick.iter().position(|q| {
                        q.role == Role::Initiator && spi.is_none_or(|s| s == q.spi_in)
                    });
                    let found = found.or_else(|| {
                        sa.quick.iter().position(|q| {
                            q.role == Role::Responder
                                && spi.is_some_and(|s| {
                                    q.child
                                        .as_ref()
                                        .is_some_and(|c| c.inbound.spi == s || c.outbound.spi == s)
                                })
                        })
                    });
                    if let Some(qi) = found {
                        sa.quick.remove(qi);
                        let reason = match ty {
                            NotifyType::NO_PROPOSAL_CHOSEN => Failure::NoProposalChosen,
                            NotifyType::INVALID_ID_INFORMATION => Failure::InvalidId,
                            ty => Failure::Notified(ty),
                        };
                        self.events.push_back(Event::ChildFailed { peer, reason });
                    }
                }
                _ => {}
            }
        }
        for d in &parsed.deletes {
            match d.protocol {
                ProtocolId::ISAKMP => {
                    for spi in d.spis() {
                        if spi.len() != 16 {
                            continue;
                        }
                        if spi == cookie_pair(sa.cky_i, sa.cky_r) {
                            sa.dead = true;
                            self.events.push_back(Event::Phase1Deleted {
                                peer,
                                initiator_cookie: sa.cky_i,
                                reason: DeleteReason::PeerDeleted,
                            });
                        } else {
                            let events = &mut self.events;
                            self.sas.retain(|other| {
                                let hit = other.peer == peer
                                    && spi == cookie_pair(other.cky_i, other.cky_r);
                                if hit && other.established() {
                                    events.push_back(Event::Phase1Deleted {
                                        peer,
                                        initiator_cookie: other.cky_i,
                                        reason: DeleteReason::PeerDeleted,
                                    });
                                }
                                !hit
                            });
                        }
                    }
                }
                ProtocolId::ESP if d.spi_size == 4 => {
                    let mut ours = Vec::new();
                    for spi in d.spis().filter_map(spi_u32) {
                        // The peer names its inbound SPI: our outbound one.
                        if let Some(i) = self
                            .children
                            .iter()
                            .position(|c| c.peer == peer && c.outbound_spi == spi)
                        {
                            let c = self.children.remove(i);
                            ours.push(c.inbound_spi);
                            self.events.push_back(Event::ChildDeleted {
                                peer,
                                inbound_spi: c.inbound_spi,
                                outbound_spi: c.outbound_spi,
                                reason: DeleteReason::PeerDeleted,
                            });
                        }
                    }
                    if !ours.is_empty() && !sa.dead {
                        // IOS deletes the pair and says so for its half.
                        let spis = esp_spis(&ours);
                        let mut chain = Chain::new();
                        chain.push(
                            PayloadType::DELETE,
                            &wire::delete(ProtocolId::ESP, 4, &spis),
                        );
                        self.send_informational(sa, &chain);
                    }
                }
                _ => {}
            }
        }
        Ok(())
    }
}
