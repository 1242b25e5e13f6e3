//! The IKE endpoint: every IKE SA and IPsec SA pair of one router. This module holds the SA
//! table, the requests and the dispatch of incoming messages; [`main_mode`], [`quick_mode`] and
//! [`informational`] answer each exchange, [`timers`] drives retransmission, lifetimes and DPD.

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
    ChildSa, DeleteReason, Entropy, Error, EspKeys, Event, Failure, Purpose, Role, Suite, Transmit,
};
use crate::ipsec::{GRE, Lifetime};
use crate::time::{Duration, Instant};

mod informational;
mod limit;
mod main_mode;
mod quick_mode;
mod timers;

/// At most this many IKE SAs (established and negotiating) are kept; further Main Mode 1s are
/// dropped (a bound for floods and fuzzing).
const MAX_SAS: usize = 4096;
/// Completed Quick Modes remembered per IKE SA, to answer a retransmitted message 2 again.
const DONE_QUICK: usize = 4;
/// Quick Modes in progress per IKE SA; a peer's further Quick Mode 1s are refused.
const MAX_QUICK: usize = 16;
/// RFC 2407 §4.5: the IPsec SA lifetime when none is given.
const DEFAULT_IPSEC_LIFE: u64 = 28_800;

/// A message from a peer as the handlers of Main and Quick Mode take it: when it came, parsed,
/// and its bytes (kept to tell a retransmission, which is answered again).
#[derive(Clone, Copy)]
struct Incoming<'a> {
    now: Instant,
    message: &'a Message<'a>,
    bytes: &'a [u8],
}

/// Phase 1 of an IKE SA: Main Mode with pre-shared keys (RFC 2409 §5), then the established
/// SA with its lifetime and dead peer detection.
///
/// ```text
/// initiator  connect ─▶ Mm1Sent ─MM2─▶ Mm3Sent ─MM4─▶ Mm5Sent ─MM6─▶ Established
/// responder      MM1 ─▶ Mm2Sent ─MM3─▶ Mm4Sent ─MM5─────────────────▶ Established
///
///                                      soft_at (initiator, 90 % of the lifetime; IOS
///  Established ─────────────────────▶  rekeys before expiry): a new Main Mode, once
///       │                              hard_at: Delete, Phase1Deleted { Expired }
///       └─ DPD (RFC 3706): R-U-THERE after `interval` of silence (periodic) or with traffic
///          (on demand), retried every 2 s; 5 unanswered: PeerDown
/// ```
///
/// Each state carries what it needs and nothing more: the exchange's [`MainMode`] data while
/// negotiating (dropped once established); the chosen [`Suite`] once the responder has picked
/// it; the [`Keyed`] material (SKEYID*, Ka, the phase-1 IV chain) from the Diffie-Hellman
/// exchange on; and our last message, `out`, a [`Flight`] that goes again every
/// `retransmit.interval` (IOS: 10 s) until `retransmit.max_attempts` (5), then Phase1Failed. An
/// established responder keeps Main Mode 6 (`out`, without a deadline) to answer a repeated
/// Main Mode 5; an established initiator has nothing to repeat.
#[derive(Debug)]
enum P1 {
    /// Initiator: Main Mode 1 (our proposals) sent.
    Mm1Sent { mm: MainMode, out: Flight },
    /// Responder: Main Mode 2 (the suite chosen) sent.
    Mm2Sent {
        mm: MainMode,
        suite: Suite,
        out: Flight,
    },
    /// Initiator: the suite accepted, Main Mode 3 (KE, nonce) sent.
    Mm3Sent {
        mm: MainMode,
        suite: Suite,
        out: Flight,
    },
    /// Responder: keys derived, Main Mode 4 (KE, nonce) sent.
    Mm4Sent {
        mm: MainMode,
        keyed: Keyed,
        out: Flight,
    },
    /// Initiator: keys derived, Main Mode 5 (ID, HASH_I) sent.
    Mm5Sent {
        mm: MainMode,
        keyed: Keyed,
        out: Flight,
    },
    /// Authenticated: lifetimes and DPD, the keys that protect phase 2.
    Established {
        live: Established,
        keyed: Keyed,
        out: Option<Flight>,
    },
}

/// A pattern matching the five [`P1`] states of a Main Mode under way, binding their `field`
/// (each of them has it).
macro_rules! negotiating {
    ($field:ident) => {
        P1::Mm1Sent { $field, .. }
            | P1::Mm2Sent { $field, .. }
            | P1::Mm3Sent { $field, .. }
            | P1::Mm4Sent { $field, .. }
            | P1::Mm5Sent { $field, .. }
    };
}

impl P1 {
    /// The state, leaving an empty Main Mode 1 in its place for the caller to replace.
    fn take(&mut self) -> Self {
        core::mem::replace(
            self,
            Self::Mm1Sent {
                mm: MainMode::default(),
                out: Flight::default(),
            },
        )
    }

    const fn name(&self) -> &'static str {
        match self {
            Self::Mm1Sent { .. } => "mm1-sent",
            Self::Mm2Sent { .. } => "mm2-sent",
            Self::Mm3Sent { .. } => "mm3-sent",
            Self::Mm4Sent { .. } => "mm4-sent",
            Self::Mm5Sent { .. } => "mm5-sent",
            Self::Established { .. } => "established",
        }
    }

    /// Main Mode's exchange data, while negotiating.
    const fn main_mode(&self) -> Option<&MainMode> {
        match self {
            negotiating!(mm) => Some(mm),
            Self::Established { .. } => None,
        }
    }

    /// The suite, once chosen.
    const fn suite(&self) -> Option<&Suite> {
        match self {
            Self::Mm1Sent { .. } => None,
            Self::Mm2Sent { suite, .. } | Self::Mm3Sent { suite, .. } => Some(suite),
            Self::Mm4Sent { keyed, .. }
            | Self::Mm5Sent { keyed, .. }
            | Self::Established { keyed, .. } => Some(&keyed.suite),
        }
    }

    /// The keys, once derived.
    const fn keyed(&self) -> Option<&Keyed> {
        match self {
            Self::Mm1Sent { .. } | Self::Mm2Sent { .. } | Self::Mm3Sent { .. } => None,
            Self::Mm4Sent { keyed, .. }
            | Self::Mm5Sent { keyed, .. }
            | Self::Established { keyed, .. } => Some(keyed),
        }
    }

    /// Our last message, to send again.
    const fn out(&self) -> Option<&Flight> {
        match self {
            negotiating!(out) => Some(out),
            Self::Established { out, .. } => out.as_ref(),
        }
    }

    const fn out_mut(&mut self) -> Option<&mut Flight> {
        match self {
            negotiating!(out) => Some(out),
            Self::Established { out, .. } => out.as_mut(),
        }
    }
}

impl Suite {
    /// The suite of `policy` with the negotiated lifetime `life` (seconds).
    fn chosen(policy: &Policy, life: u64) -> Self {
        Self {
            encryption: policy.encryption,
            hash: policy.hash,
            group: policy.group,
            lifetime: Duration::from_secs(i64::try_from(life).unwrap_or(i64::MAX)),
        }
    }
}

/// What phase 1 derived from the Diffie-Hellman exchange (RFC 2409 §5): the negotiated suite,
/// SKEYID and its descendants, the encryption key Ka, and the phase-1 CBC chain (once
/// established, the last phase-1 block: the base of phase-2 IVs).
#[derive(Debug)]
struct Keyed {
    suite: Suite,
    keys: Phase1Keys,
    ka: Secret,
    iv: Vec<u8>,
}

impl Keyed {
    /// Encrypts a phase-1 message (Main Mode 5 or 6) and moves the IV chain on.
    fn seal(&mut self, header: &dmvpn_isakmp::builder::Builder, chain: &Chain) -> Option<Vec<u8>> {
        let cipher = self.suite.encryption;
        let out = wire::seal(header, chain, cipher, self.ka.as_bytes(), &self.iv)?;
        self.iv = wire::last_block(&out, cipher.block_len());
        Some(out)
    }
}

/// What Main Mode keeps until it is done: the pre-shared key, the initiator's SA payload that
/// HASH_I and HASH_R cover, the Diffie-Hellman values and the nonces (RFC 2409 §5).
#[derive(Debug, Default)]
struct MainMode {
    psk: Secret,
    sai_b: Vec<u8>,
    /// Our Diffie-Hellman key pair, until g^xy is computed.
    kx: Option<KeyExchange>,
    g_xi: Vec<u8>,
    g_xr: Vec<u8>,
    ni: Vec<u8>,
    nr: Vec<u8>,
}

impl MainMode {
    /// HASH_I (`initiator`) or HASH_R over this exchange with identification payload body `id`.
    fn auth_hash(
        &self,
        keys: &Phase1Keys,
        initiator: bool,
        cookies: ([u8; 8], [u8; 8]),
        id: &[u8],
    ) -> Secret {
        let (cky_i, cky_r) = cookies;
        if initiator {
            keys.hash_i(&self.g_xi, &self.g_xr, cky_i, cky_r, &self.sai_b, id)
        } else {
            keys.hash_r(&self.g_xi, &self.g_xr, cky_i, cky_r, &self.sai_b, id)
        }
    }
}

/// An established IKE SA's times and DPD state.
#[derive(Debug)]
struct Established {
    /// When Main Mode completed (the newest SA with a peer protects new Quick Modes).
    since: Instant,
    /// The end of the negotiated lifetime: the SA is deleted (with a Delete to the peer).
    hard_at: Option<Instant>,
    /// Initiator: when to negotiate the next IKE SA (`rekey_per_mille` of the lifetime).
    soft_at: Option<Instant>,
    /// Whether the next IKE SA has been started.
    rekeyed: bool,
    /// Dead peer detection, when we run it and the peer announced it (RFC 3706 §4).
    dpd: Option<Dpd>,
}

/// Our last message of an exchange, for retransmission.
#[derive(Clone, Debug, Default)]
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

/// A Quick Mode exchange (RFC 2409 §5.5) under an established IKE SA, with what each step keeps.
///
/// ```text
/// initiator  start ─▶ Sent1 ─QM2─▶ (QM3 sent) installed
///                       └──QM2 with commit bit─▶ AwaitConnected ─CONNECTED─▶ installed
/// responder    QM1 ─▶ Sent2 ─QM3─▶ installed (and CONNECTED sent if QM1 had the commit bit)
/// ```
///
/// Quick Mode 1 and 2 go again every `retransmit.interval` (the exchange's `out` [`Flight`]);
/// after `retransmit.max_attempts` the exchange fails with ChildFailed.
#[derive(Debug)]
enum Qm {
    /// Initiator: Quick Mode 1 sent; our PFS key exchange, if PFS is on.
    Sent1 { kx: Option<KeyExchange> },
    /// Responder: Quick Mode 2 sent; our nonce, the pair to install at Quick Mode 3, and whether
    /// Quick Mode 1 set the commit bit (then CONNECTED follows).
    Sent2 {
        nr: Vec<u8>,
        child: ChildSa,
        commit: bool,
    },
    /// Initiator: Quick Mode 2 had the commit bit; the pair waits for CONNECTED (RFC 2408 §4.6).
    AwaitConnected { child: ChildSa },
}

impl Qm {
    /// The negotiated pair, once known.
    const fn child(&self) -> Option<&ChildSa> {
        match self {
            Self::Sent1 { .. } => None,
            Self::Sent2 { child, .. } | Self::AwaitConnected { child } => Some(child),
        }
    }
}

#[derive(Debug)]
struct QuickMode {
    message_id: u32,
    role: Role,
    state: Qm,
    iv: Vec<u8>,
    spi_in: u32,
    ni: Vec<u8>,
    last_in: Vec<u8>,
    out: Flight,
}

#[derive(Debug)]
struct IkeSa {
    peer: Ipv4Addr,
    role: Role,
    cky_i: [u8; 8],
    cky_r: [u8; 8],
    state: P1,
    last_in: Vec<u8>,
    /// The peer sent the DPD vendor ID.
    peer_dpd: bool,
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
    /// A new SA in `state`, before any key exchange.
    fn new(peer: Ipv4Addr, role: Role, cookies: ([u8; 8], [u8; 8]), state: P1) -> Self {
        Self {
            peer,
            role,
            cky_i: cookies.0,
            cky_r: cookies.1,
            state,
            last_in: Vec::new(),
            peer_dpd: false,
            quick: Vec::new(),
            done_quick: VecDeque::new(),
            want_child: false,
            dead: false,
        }
    }

    fn cipher(&self) -> Option<Cipher> {
        self.state.keyed().map(|k| k.suite.encryption)
    }

    fn hash_alg(&self) -> HashAlgorithm {
        self.state
            .keyed()
            .map_or(HashAlgorithm(0), |k| k.suite.hash.algorithm())
    }

    /// SKEYID and its descendants, once derived.
    fn keys(&self) -> Option<&Phase1Keys> {
        self.state.keyed().map(|k| &k.keys)
    }

    /// Ka, the phase-1 encryption key (empty before the key exchange).
    fn ka(&self) -> &[u8] {
        self.state.keyed().map_or(&[], |k| k.ka.as_bytes())
    }

    /// The phase-1 IV chain (empty before the key exchange).
    fn iv(&self) -> &[u8] {
        self.state.keyed().map_or(&[], |k| k.iv.as_slice())
    }

    fn established(&self) -> bool {
        matches!(self.state, P1::Established { .. }) && !self.dead
    }

    /// The established state, whether or not the SA is being torn down.
    const fn live(&self) -> Option<&Established> {
        match &self.state {
            P1::Established { live, .. } => Some(live),
            _ => None,
        }
    }

    const fn live_mut(&mut self) -> Option<&mut Established> {
        match &mut self.state {
            P1::Established { live, .. } => Some(live),
            _ => None,
        }
    }

    fn dpd_mut(&mut self) -> Option<&mut Dpd> {
        self.live_mut().and_then(|live| live.dpd.as_mut())
    }

    /// Something authentic came from the peer: DPD's idle time starts again.
    fn heard(&mut self, now: Instant) {
        if let Some(dpd) = self.dpd_mut() {
            dpd.last_heard = now;
        }
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

fn parse_chain<'a>(payloads: Payloads<'a>, exchange: ExchangeType) -> Result<Parsed<'a>, Error> {
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
    /// What the limits refused (see `limit.rs`).
    tally: crate::limits::Tally,
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
            tally: crate::limits::Tally::default(),
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
        self.newest(peer).and_then(|i| self.sas[i].keys())
    }

    fn newest(&self, peer: Ipv4Addr) -> Option<usize> {
        self.sas
            .iter()
            .enumerate()
            .filter(|(_, sa)| sa.peer == peer && sa.established())
            .max_by_key(|(_, sa)| sa.live().map(|live| live.since))
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
        self.transmits
            .push_back(Transmit::new(to, crate::Ike, bytes));
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
    /// [`Error::NoPresharedKey`] and [`Error::EmptyConfig`].
    pub fn connect(&mut self, now: Instant, peer: Ipv4Addr) -> Result<(), Error> {
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
    pub fn rekey(&mut self, now: Instant, peer: Ipv4Addr) -> Result<(), Error> {
        // (the pairs it replaces are marked rekeyed when the new one is installed)
        self.negotiate(now, peer)
    }

    fn negotiate(&mut self, now: Instant, peer: Ipv4Addr) -> Result<(), Error> {
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
            // A Main Mode the peer started comes with its own Quick Mode: asking for one from
            // our side too would give each end two pairs, installed in opposite orders (two
            // spokes keying each other for a shortcut at the same moment).
            if sa.role == Role::Initiator || sa.established() {
                sa.want_child = true;
            }
            return Ok(());
        }
        self.start_main(now, peer, true)
    }

    fn start_main(&mut self, now: Instant, peer: Ipv4Addr, want_child: bool) -> Result<(), Error> {
        if self.config.policies.is_empty() {
            return Err(Error::EmptyConfig { what: "policies" });
        }
        if self.config.transform_sets.is_empty() {
            return Err(Error::EmptyConfig {
                what: "transform sets",
            });
        }
        let psk = self
            .config
            .key_for(peer)
            .cloned()
            .ok_or(Error::NoPresharedKey { peer })?;
        let cky_i = self.draw_cookie();
        let sai_b = wire::main_mode_sa(&self.config.policies);
        let mut chain = Chain::new();
        chain
            .push(PayloadType::SA, &wire::sa_payload(&sai_b))
            .push(PayloadType::VENDOR_ID, &Body::VendorId(&DPD_VID));
        let bytes = wire::clear(&wire::header(cky_i, [0; 8], ExchangeType::MAIN, 0), &chain)?;
        let out = self.flight(now, peer, bytes, true);
        let mm = MainMode {
            psk,
            sai_b,
            ..MainMode::default()
        };
        let mut sa = IkeSa::new(
            peer,
            Role::Initiator,
            (cky_i, [0; 8]),
            P1::Mm1Sent { mm, out },
        );
        sa.want_child = want_child;
        self.sas.push(sa);
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
                .live()
                .and_then(|live| live.dpd.as_ref())
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
            sa.heard(now);
        }
    }

    // ---------------------------------------------------------------------------------------
    // Messages

    /// Takes one ISAKMP message (a UDP/500 payload) from `from`.
    ///
    /// # Errors
    /// [`Error`] naming why the message was refused; whatever the protocol answers has been
    /// queued and the matching [`Event`] raised.
    pub fn handle_message(
        &mut self,
        now: Instant,
        from: Ipv4Addr,
        bytes: &[u8],
    ) -> Result<(), Error> {
        let message = Message::parse(bytes)?;
        let header = message.header;
        if header.version >> 4 != 1 {
            return Err(Error::Unexpected {
                peer: from,
                exchange: header.exchange_type,
                state: "version",
            });
        }
        let incoming = Incoming {
            now,
            message: &message,
            bytes,
        };
        match header.exchange_type {
            ExchangeType::MAIN if header.responder_cookie == [0; 8] => {
                self.main_mode_1(now, from, &message, bytes)
            }
            ExchangeType::MAIN => self.with_sa(from, &message, |me, sa| me.main_mode(sa, incoming)),
            ExchangeType::QUICK => {
                self.with_sa(from, &message, |me, sa| me.quick_mode(sa, incoming))
            }
            ExchangeType::INFORMATIONAL => {
                self.with_sa(from, &message, |me, sa| me.informational(now, sa, &message))
            }
            exchange => Err(Error::Unexpected {
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
        f: impl FnOnce(&mut Self, &mut IkeSa) -> Result<(), Error>,
    ) -> Result<(), Error> {
        let h = &message.header;
        let found = self.sas.iter().position(|sa| {
            sa.peer == from
                && sa.cky_i == h.initiator_cookie
                && (sa.cky_r == h.responder_cookie
                    || (matches!(sa.state, P1::Mm1Sent { .. }) && !sa.dead))
        });
        let Some(i) = found else {
            return Err(Error::UnknownSa {
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
        if let Some(out) = sa.state.out() {
            let bytes = out.bytes.clone();
            self.send(sa.peer, bytes);
        }
        true
    }

    fn fail_phase1(&mut self, sa: &mut IkeSa, reason: Failure, notify: Option<NotifyType>) {
        sa.dead = true;
        self.phase1_failed(sa.peer, (sa.cky_i, sa.cky_r), reason, notify);
    }

    /// Phase 1 with `peer` failed (with these cookies): tells the peer with `notify`, in the
    /// clear, and raises Phase1Failed.
    fn phase1_failed(
        &mut self,
        peer: Ipv4Addr,
        (cky_i, cky_r): ([u8; 8], [u8; 8]),
        reason: Failure,
        notify: Option<NotifyType>,
    ) {
        if let Some(ty) = notify {
            let pair = cookie_pair(cky_i, cky_r);
            let mut chain = Chain::new();
            chain.push(
                PayloadType::NOTIFY,
                &wire::notify(ProtocolId::ISAKMP, ty, &pair, &[]),
            );
            let id = self.draw_message_id();
            let header = wire::header(cky_i, cky_r, ExchangeType::INFORMATIONAL, id);
            if let Ok(bytes) = wire::clear(&header, &chain) {
                self.send(peer, bytes);
            }
        }
        self.events.push_back(Event::Phase1Failed { peer, reason });
    }
}
