//! The NHRP client of a spoke (Next Hop Client, RFC 2332 §5.2.3–§5.2.5): it registers its
//! tunnel → NBMA mapping with every configured NHS and keeps the registrations alive.
//!
//! Per NHS the client is in one [`NhsState`]:
//!
//! ```text
//!              reply, success                    refresh_at
//! Registering ───────────────▶ Registered ───────────────────▶ Refreshing
//!   ▲  │ retry_at: send again,     ▲                                │ retry_at: send again
//!   │  │ 1, 2, 4 … 64 s apart      └────────── reply, success ──────┤ 1, 2, 4 … 64 s apart
//!   │  └─ error reply / Error Indication: event, keep retrying      │
//!   └──────────────────────────── expires_at: Expired ──────────────┘
//! ```
//!
//! - **Request.** Byte for byte as IOS sends it (tested against a capture): the unique flag
//!   (unless `no-unique`) and the Cisco NAT flag; one CIE with prefix length 0xff (32 without
//!   the unique flag), the MTU and the holding time; the Responder Address and Forward and
//!   Reverse Transit NHS Record extensions (empty, compulsory), the Authentication extension when
//!   a password is set, the Cisco NAT Address extension naming the NHS, and End.
//! - **Retries.** A request that is not answered is sent again with the same request ID after
//!   1 s, then 2, 4, 8 … up to 64 s between attempts (IOS; FRR starts at 2 s). A new
//!   registration cycle (a refresh, or a retry after an error) takes a new request ID.
//! - **Refresh.** A registration is renewed every third of the holding time, IOS's default for
//!   `ip nhrp registration timeout` and RFC 2332 §5.2.3's advice, so two thirds of the holding
//!   time remain when the refresh goes out; `registration_timeout` overrides it.
//! - **Expiry.** Refresh and expiry count from the latest transmission of the request that
//!   was answered (the NHS's entry can be older by at most one retry interval, if it was an
//!   earlier copy that got through; the refresh comes long before that matters). When the
//!   holding time passes without a refresh being accepted, the client reports
//!   [`ClientEvent::Expired`] and keeps trying.
//! - **Replies.** Success only when every CIE has code 0 (as FRR); otherwise
//!   [`ClientEvent::RegistrationFailed`] with the first other code, e.g.
//!   [`CieCode::ALREADY_REGISTERED`] (14) for a unique conflict. The holding time is the
//!   smallest the CIEs grant, never more than asked (0 counts as asked). A reply without the
//!   configured password, or from another address than the NHS's, is dropped.
//! - **Purge.** A Purge Request from an NHS that names the client's own address makes it
//!   register again at once (RFC 2332 §5.2.5); it is answered with a Purge Reply unless its N
//!   flag is set.

use alloc::collections::VecDeque;
use alloc::vec::Vec;
use core::net::Ipv4Addr;

use dmvpn_nhrp::{self as nhrp, CieCode, ErrorCode, Flags, Message, extension};

use super::Error;
use super::{Password, Transmit, authentic, check_families, emit, ipv4, ipv4_repr};
use crate::time::{Duration, Instant};

/// A Next Hop Server: its tunnel (protocol) address and the NBMA address to reach it at
/// (`ip nhrp nhs 172.16.1.1` with `ip nhrp map 172.16.1.1 100.1.1.1`).
#[derive(Clone, Copy, Debug, Eq, Hash, PartialEq)]
pub struct Nhs {
    /// The NHS's tunnel address.
    pub tunnel: Ipv4Addr,
    /// The NHS's NBMA address.
    pub nbma: Ipv4Addr,
}

/// The configuration of a spoke's NHRP client.
#[derive(Clone, Debug)]
pub struct ClientConfig {
    /// The spoke's own tunnel address (`ip address` of the tunnel).
    pub tunnel: Ipv4Addr,
    /// The spoke's own NBMA address (`tunnel source`).
    pub nbma: Ipv4Addr,
    /// The servers to register with.
    pub nhs: Vec<Nhs>,
    /// `ip nhrp holdtime`: the holding time put in the request; IOS's default is 7200 s.
    pub holding_time: u16,
    /// `ip nhrp registration timeout`: the refresh interval; `None` for a third of the holding
    /// time.
    pub registration_timeout: Option<Duration>,
    /// Set the unique flag (IOS's default; `ip nhrp registration no-unique` clears it).
    pub unique: bool,
    /// `ip nhrp authentication`.
    pub password: Option<Password>,
    /// The MTU put in the CIE.
    pub mtu: u16,
    /// The hop count of every packet sent.
    pub hop_count: u8,
    /// The first retry interval of an unanswered request.
    pub retry_initial: Duration,
    /// The longest retry interval.
    pub retry_max: Duration,
}

impl ClientConfig {
    /// A configuration with IOS's defaults: holding time 7200 s, unique, no password, MTU 1514,
    /// hop count 255, retries 1 s doubling up to 64 s.
    #[must_use]
    pub fn new(tunnel: Ipv4Addr, nbma: Ipv4Addr, nhs: Vec<Nhs>) -> Self {
        Self {
            tunnel,
            nbma,
            nhs,
            holding_time: 7200,
            registration_timeout: None,
            unique: true,
            password: None,
            mtu: 1514,
            hop_count: 255,
            retry_initial: Duration::from_secs(1),
            retry_max: Duration::from_secs(64),
        }
    }

    /// The refresh interval.
    #[must_use]
    pub fn refresh_interval(&self) -> Duration {
        self.registration_timeout
            .unwrap_or(Duration::from_secs(i64::from(self.holding_time)).div(3))
    }

    /// The wait after attempt `attempt` (0 for the first transmission): `retry_initial · 2^attempt`,
    /// at most `retry_max`.
    #[must_use]
    pub fn backoff(&self, attempt: u32) -> Duration {
        let factor = 1i64.checked_shl(attempt.min(62)).unwrap_or(i64::MAX);
        self.retry_initial
            .saturating_mul(factor)
            .min(self.retry_max)
    }
}

/// Where the registration with one NHS stands, with the deadline of each state.
#[derive(Clone, Copy, Debug, Eq, PartialEq)]
pub enum NhsState {
    /// Not registered: the request `request_id` was sent `attempt + 1` times, last at
    /// `sent_at`; it goes out again at `retry_at`.
    Registering {
        /// Transmissions so far, minus one.
        attempt: u32,
        /// The ID of the outstanding request.
        request_id: u32,
        /// The latest transmission.
        sent_at: Instant,
        /// The next transmission.
        retry_at: Instant,
    },
    /// Registered until `expires_at`; the refresh goes out at `refresh_at`.
    Registered {
        /// When the refresh is sent.
        refresh_at: Instant,
        /// When the registration is lost if not refreshed.
        expires_at: Instant,
    },
    /// Registered until `expires_at`, with the refresh `request_id` unanswered.
    Refreshing {
        /// Transmissions so far, minus one.
        attempt: u32,
        /// The ID of the outstanding refresh.
        request_id: u32,
        /// The latest transmission.
        sent_at: Instant,
        /// The next transmission.
        retry_at: Instant,
        /// When the registration is lost.
        expires_at: Instant,
    },
}

impl NhsState {
    /// The next deadline of this state.
    #[must_use]
    pub const fn deadline(&self) -> Instant {
        match *self {
            Self::Registering { retry_at, .. } => retry_at,
            Self::Registered { refresh_at, .. } => refresh_at,
            Self::Refreshing {
                retry_at,
                expires_at,
                ..
            } => {
                if retry_at.total_micros() < expires_at.total_micros() {
                    retry_at
                } else {
                    expires_at
                }
            }
        }
    }

    /// The outstanding request, if any.
    #[must_use]
    pub const fn request_id(&self) -> Option<u32> {
        match *self {
            Self::Registering { request_id, .. } | Self::Refreshing { request_id, .. } => {
                Some(request_id)
            }
            Self::Registered { .. } => None,
        }
    }

    /// Whether the NHS holds a live registration.
    #[must_use]
    pub const fn is_registered(&self) -> bool {
        !matches!(self, Self::Registering { .. })
    }
}

/// What happened, for the caller to act on (install routes, log, bring up IPsec …).
#[derive(Clone, Copy, Debug, Eq, PartialEq)]
pub enum ClientEvent {
    /// The NHS accepted the registration (first time, or again after it was lost).
    Registered {
        /// The NHS (tunnel address).
        nhs: Ipv4Addr,
        /// The holding time the NHS granted.
        holding_time: Duration,
        /// The NBMA address the NHS saw, if it differs from ours (Cisco NAT Address extension):
        /// the spoke is behind NAT.
        nat_address: Option<Ipv4Addr>,
    },
    /// A live registration was renewed.
    Refreshed {
        /// The NHS.
        nhs: Ipv4Addr,
    },
    /// The NHS refused the registration with this CIE code (RFC 2332 §5.2.4).
    RegistrationFailed {
        /// The NHS.
        nhs: Ipv4Addr,
        /// The first non-zero CIE code.
        code: CieCode,
    },
    /// The NHS answered the request with an Error Indication (RFC 2332 §5.2.7).
    ErrorIndicationReceived {
        /// The NHS.
        nhs: Ipv4Addr,
        /// Its code, e.g. [`ErrorCode::AUTHENTICATION_FAILURE`].
        code: ErrorCode,
    },
    /// The registration's holding time passed without a refresh being accepted.
    Expired {
        /// The NHS.
        nhs: Ipv4Addr,
    },
    /// The NHS purged the client's own mapping; the client registers again.
    Purged {
        /// The NHS.
        nhs: Ipv4Addr,
    },
}

/// A spoke's NHRP client: one registration per configured NHS.
#[derive(Debug)]
pub struct Client {
    config: ClientConfig,
    states: Vec<NhsState>,
    next_request_id: u32,
    transmits: VecDeque<Transmit>,
    events: VecDeque<ClientEvent>,
}

impl Client {
    /// A client that sends its first Registration Request to every NHS now. Request IDs count
    /// up from `first_request_id`, which the caller draws from its RNG (so two boots do not
    /// reuse IDs, and tests are reproducible).
    #[must_use]
    pub fn new(config: ClientConfig, now: Instant, first_request_id: u32) -> Self {
        let mut client = Self {
            states: Vec::with_capacity(config.nhs.len()),
            config,
            next_request_id: first_request_id,
            transmits: VecDeque::new(),
            events: VecDeque::new(),
        };
        for index in 0..client.config.nhs.len() {
            let state = client.start(index, now, 0);
            client.states.push(state);
        }
        client
    }

    /// The configuration.
    #[must_use]
    pub fn config(&self) -> &ClientConfig {
        &self.config
    }

    /// The state of each NHS, in configuration order.
    pub fn states(&self) -> impl Iterator<Item = (Nhs, NhsState)> + '_ {
        self.config
            .nhs
            .iter()
            .copied()
            .zip(self.states.iter().copied())
    }

    /// Whether every NHS holds a live registration.
    #[must_use]
    pub fn is_registered(&self) -> bool {
        self.states.iter().all(NhsState::is_registered)
    }

    /// Handles an NHRP packet that arrived from NBMA address `from`.
    ///
    /// # Errors
    /// The packet was dropped without effect: [`Error::UnsupportedFamily`] or
    /// [`Error::UnsupportedAddress`] for non-IPv4 packets,
    /// [`Error::UnexpectedMessage`] for a type a client does not take,
    /// [`Error::UnknownRequest`] for a reply to no outstanding request,
    /// [`Error::UnknownPeer`] for an answer or purge from another address than the NHS's,
    /// [`Error::AuthenticationFailure`] for a reply without the password.
    pub fn handle_message(
        &mut self,
        now: Instant,
        from: Ipv4Addr,
        msg: &nhrp::Repr<'_>,
    ) -> Result<(), Error> {
        check_families(msg)?;
        match &msg.message {
            Message::RegistrationReply(control) => self.handle_reply(from, msg, control),
            Message::ErrorIndication(error) => self.handle_error(from, error),
            Message::PurgeRequest(control) => self.handle_purge(now, from, msg, control),
            _ => Err(Error::UnexpectedMessage { op: msg.op_type() }),
        }
    }

    /// Runs the timers due at `now`: retransmissions, refreshes and expiries.
    pub fn handle_timeout(&mut self, now: Instant) {
        for index in 0..self.states.len() {
            // A late call can owe several steps (a refresh whose registration has expired too);
            // each step moves a deadline past `now` or towards Registering, so three suffice.
            for _ in 0..3 {
                if !self.step(index, now) {
                    break;
                }
            }
        }
    }

    /// Runs the deadline of NHS `index` if it is due; returns whether it was.
    fn step(&mut self, index: usize, now: Instant) -> bool {
        let Some(state) = self.states.get(index).copied() else {
            return false;
        };
        if state.deadline() > now {
            return false;
        }
        let nhs = self.nhs(index).tunnel;
        let next = match state {
            NhsState::Registered { .. } => self.refresh(index, now, state),
            NhsState::Refreshing { expires_at, .. } if expires_at <= now => {
                self.events.push_back(ClientEvent::Expired { nhs });
                self.resend_refresh_as_registering(index, now, state)
            }
            NhsState::Registering { .. } | NhsState::Refreshing { .. } => {
                self.resend(index, now, state)
            }
        };
        if let Some(slot) = self.states.get_mut(index) {
            *slot = next;
        }
        true
    }

    /// When [`Client::handle_timeout`] must run next.
    #[must_use]
    pub fn poll_timeout(&self) -> Option<Instant> {
        self.states.iter().map(NhsState::deadline).min()
    }

    /// The next packet to send.
    #[must_use]
    pub fn poll_transmit(&mut self) -> Option<Transmit> {
        self.transmits.pop_front()
    }

    /// The next event.
    #[must_use]
    pub fn poll_event(&mut self) -> Option<ClientEvent> {
        self.events.pop_front()
    }

    fn nhs(&self, index: usize) -> Nhs {
        self.config.nhs.get(index).copied().unwrap_or(Nhs {
            tunnel: Ipv4Addr::UNSPECIFIED,
            nbma: Ipv4Addr::UNSPECIFIED,
        })
    }

    fn take_request_id(&mut self) -> u32 {
        let id = self.next_request_id;
        self.next_request_id = self.next_request_id.wrapping_add(1);
        id
    }

    /// A new registration cycle for NHS `index`: new request ID, sent now, retried after
    /// `backoff(attempt)`.
    fn start(&mut self, index: usize, now: Instant, attempt: u32) -> NhsState {
        let request_id = self.take_request_id();
        let (sent_at, retry_at) = self.send(index, request_id, attempt, now);
        NhsState::Registering {
            attempt,
            request_id,
            sent_at,
            retry_at,
        }
    }

    fn refresh(&mut self, index: usize, now: Instant, state: NhsState) -> NhsState {
        let NhsState::Registered { expires_at, .. } = state else {
            return state;
        };
        let request_id = self.take_request_id();
        let (sent_at, retry_at) = self.send(index, request_id, 0, now);
        NhsState::Refreshing {
            attempt: 0,
            request_id,
            sent_at,
            retry_at,
            expires_at,
        }
    }

    /// The outstanding request of `state` (Registering or Refreshing) sent again now, one attempt
    /// more.
    fn resend(&mut self, index: usize, now: Instant, state: NhsState) -> NhsState {
        let (NhsState::Registering {
            attempt,
            request_id,
            ..
        }
        | NhsState::Refreshing {
            attempt,
            request_id,
            ..
        }) = state
        else {
            return state;
        };
        let attempt = attempt.saturating_add(1);
        let (sent_at, retry_at) = self.send(index, request_id, attempt, now);
        match state {
            NhsState::Refreshing { expires_at, .. } => NhsState::Refreshing {
                attempt,
                request_id,
                sent_at,
                retry_at,
                expires_at,
            },
            _ => NhsState::Registering {
                attempt,
                request_id,
                sent_at,
                retry_at,
            },
        }
    }

    /// The refresh outlived the registration: keep the request going as a plain registration,
    /// with the backoff where it was.
    fn resend_refresh_as_registering(
        &mut self,
        index: usize,
        now: Instant,
        state: NhsState,
    ) -> NhsState {
        let NhsState::Refreshing {
            attempt,
            request_id,
            sent_at,
            retry_at,
            ..
        } = state
        else {
            return state;
        };
        let registering = NhsState::Registering {
            attempt,
            request_id,
            sent_at,
            retry_at,
        };
        if retry_at > now {
            registering
        } else {
            self.resend(index, now, registering)
        }
    }

    /// Sends request `request_id` to NHS `index` now, as transmission `attempt` + 1: when it
    /// went out, and when it goes out again if unanswered.
    fn send(
        &mut self,
        index: usize,
        request_id: u32,
        attempt: u32,
        now: Instant,
    ) -> (Instant, Instant) {
        self.send_request(index, request_id);
        (now, now + self.config.backoff(attempt))
    }

    fn send_request(&mut self, index: usize, request_id: u32) {
        let nhs = self.nhs(index);
        let config = &self.config;
        let (nbma, tunnel) = (config.nbma.octets(), config.tunnel.octets());
        let (nhs_nbma, nhs_tunnel) = (nhs.nbma.octets(), nhs.tunnel.octets());
        let cies = [nhrp::cie::Repr {
            prefix_len: if config.unique { 0xff } else { 32 },
            mtu: config.mtu,
            holding_time: config.holding_time,
            ..nhrp::cie::Repr::default()
        }];
        let nat_cie = [nhrp::cie::Repr {
            prefix_len: 32,
            mtu: config.mtu,
            nbma: nhrp::NbmaAddress::nsap(&nhs_nbma),
            proto: &nhs_tunnel,
            ..nhrp::cie::Repr::default()
        }];
        let empty =
            |value: fn(nhrp::CieList<'static>) -> extension::Value<'static>| extension::Repr {
                compulsory: true,
                value: value(nhrp::CieList::EMPTY),
            };
        // In IOS's order (packetlife NHRP_registration.cap, tcpdump NHRP_registration.pcap):
        // Responder Address, Forward and Reverse Transit NHS Records, Authentication, Cisco NAT
        // Address naming the NHS, End.
        let mut extensions = Vec::with_capacity(6);
        extensions.push(empty(extension::Value::ResponderAddress));
        extensions.push(empty(extension::Value::ForwardTransitNhsRecord));
        extensions.push(empty(extension::Value::ReverseTransitNhsRecord));
        if let Some(password) = &config.password {
            extensions.push(password.extension());
        }
        extensions.push(extension::Repr {
            compulsory: false,
            value: extension::Value::CiscoNatAddress(nhrp::CieList::new(&nat_cie)),
        });
        extensions.push(extension::Repr::END);
        let mut flags = Flags::CISCO_NAT;
        if config.unique {
            flags = flags.union(Flags::REGISTRATION_UNIQUE);
        }
        let bytes = emit(&ipv4_repr(
            config.hop_count,
            &nbma,
            &tunnel,
            &nhs_tunnel,
            Message::RegistrationRequest(nhrp::Control {
                flags,
                request_id,
                cies: nhrp::CieList::new(&cies),
            }),
            Some(nhrp::ExtensionList::new(&extensions)),
        ));
        self.transmits
            .push_back(Transmit::new(nhs.nbma, crate::Nhrp, bytes));
    }

    /// The NHS whose outstanding request has this ID; the answer must come from that NHS's
    /// NBMA address.
    fn index_of_request(&self, from: Ipv4Addr, request_id: u32) -> Result<usize, Error> {
        let index = self
            .states
            .iter()
            .position(|state| state.request_id() == Some(request_id))
            .ok_or(Error::UnknownRequest { request_id })?;
        if self.nhs(index).nbma != from {
            return Err(Error::UnknownPeer { nbma: from });
        }
        Ok(index)
    }

    fn handle_reply(
        &mut self,
        from: Ipv4Addr,
        msg: &nhrp::Repr<'_>,
        control: &nhrp::Control<'_>,
    ) -> Result<(), Error> {
        let index = self.index_of_request(from, control.request_id)?;
        if !authentic(self.config.password.as_ref(), msg) {
            return Err(Error::AuthenticationFailure);
        }
        let Some(state) = self.states.get(index).copied() else {
            return Err(Error::UnknownRequest {
                request_id: control.request_id,
            });
        };
        let nhs = self.nhs(index).tunnel;
        let refused = control
            .cies
            .iter()
            .map(|cie| cie.code)
            .find(|code| *code != CieCode::SUCCESS);
        let next = if let Some(code) = refused.or(control.cies.is_empty().then_some(CieCode(0xff)))
        {
            // Refused (or an empty reply, which registers nothing): report, and try again with a
            // new request when the backoff says so.
            self.events
                .push_back(ClientEvent::RegistrationFailed { nhs, code });
            self.retry_with_new_id(state)
        } else {
            let (sent_at, was_registered) = match state {
                NhsState::Registering { sent_at, .. } => (sent_at, false),
                NhsState::Refreshing { sent_at, .. } => (sent_at, true),
                // `index_of_request` only finds states with an outstanding request.
                NhsState::Registered { .. } => {
                    return Err(Error::UnknownRequest {
                        request_id: control.request_id,
                    });
                }
            };
            // The NHS may grant less than asked, never more; 0 (which FRR's NHS reads as "its
            // own") counts as what was asked.
            let granted = control
                .cies
                .iter()
                .map(|cie| cie.holding_time)
                .filter(|h| *h != 0)
                .min()
                .unwrap_or(self.config.holding_time)
                .min(self.config.holding_time.max(1));
            let holding_time = Duration::from_secs(i64::from(granted));
            let refresh = self
                .config
                .registration_timeout
                .unwrap_or(holding_time.div(3));
            self.events.push_back(if was_registered {
                ClientEvent::Refreshed { nhs }
            } else {
                ClientEvent::Registered {
                    nhs,
                    holding_time,
                    nat_address: self.nat_address(msg),
                }
            });
            NhsState::Registered {
                refresh_at: sent_at + refresh,
                expires_at: sent_at + holding_time,
            }
        };
        if let Some(slot) = self.states.get_mut(index) {
            *slot = next;
        }
        Ok(())
    }

    /// The NBMA address the NHS saw us at, from the Cisco NAT Address extension, if it is not
    /// our own.
    fn nat_address(&self, msg: &nhrp::Repr<'_>) -> Option<Ipv4Addr> {
        let ext = msg
            .extensions?
            .find(nhrp::ExtensionType::CISCO_NAT_ADDRESS)?;
        let seen = ext
            .value
            .cies()?
            .iter()
            .find(|cie| cie.proto == self.config.tunnel.octets() || cie.proto.is_empty())?;
        let seen = ipv4(seen.nbma.bytes, "cisco nat address").ok()?;
        (seen != self.config.nbma).then_some(seen)
    }

    /// After a refusal: the registration is not live any more; a new request goes out at the
    /// retry time already set, so refusals are paced by the same backoff.
    fn retry_with_new_id(&mut self, state: NhsState) -> NhsState {
        let request_id = self.take_request_id();
        match state {
            NhsState::Registering {
                attempt,
                sent_at,
                retry_at,
                ..
            }
            | NhsState::Refreshing {
                attempt,
                sent_at,
                retry_at,
                ..
            } => NhsState::Registering {
                attempt,
                request_id,
                sent_at,
                retry_at,
            },
            NhsState::Registered { .. } => state,
        }
    }

    fn handle_error(
        &mut self,
        from: Ipv4Addr,
        error: &nhrp::ErrorIndication<'_>,
    ) -> Result<(), Error> {
        // The quoted packet may be cut short; its fixed header and request ID are enough.
        let quoted = nhrp::Packet::new_unchecked(error.packet);
        let request_id = error
            .packet
            .get(nhrp::header::field::REQUEST_ID)
            .map(|_| quoted.request_id())
            .ok_or(Error::UnknownRequest { request_id: 0 })?;
        let index = self.index_of_request(from, request_id)?;
        let Some(state) = self.states.get(index).copied() else {
            return Err(Error::UnknownRequest { request_id });
        };
        self.events.push_back(ClientEvent::ErrorIndicationReceived {
            nhs: self.nhs(index).tunnel,
            code: error.code.canonical(),
        });
        let next = self.retry_with_new_id(state);
        if let Some(slot) = self.states.get_mut(index) {
            *slot = next;
        }
        Ok(())
    }

    fn handle_purge(
        &mut self,
        now: Instant,
        from: Ipv4Addr,
        msg: &nhrp::Repr<'_>,
        control: &nhrp::Control<'_>,
    ) -> Result<(), Error> {
        let index = self
            .config
            .nhs
            .iter()
            .position(|nhs| nhs.nbma == from || nhs.tunnel.octets() == msg.src_proto)
            .ok_or(Error::UnknownPeer { nbma: from })?;
        if !authentic(self.config.password.as_ref(), msg) {
            return Err(Error::AuthenticationFailure);
        }
        let own = self.config.tunnel.octets();
        let ours = control.cies.iter().any(|cie| cie.proto == own);
        if ours {
            self.events.push_back(ClientEvent::Purged {
                nhs: self.nhs(index).tunnel,
            });
            let state = self.start(index, now, 0);
            if let Some(slot) = self.states.get_mut(index) {
                *slot = state;
            }
        }
        if !control.flags.contains(Flags::PURGE_NO_REPLY) {
            self.send_purge_reply(from, msg, control);
        }
        Ok(())
    }

    /// The Purge Reply (RFC 2332 §5.2.6): the request with its type changed, sent back.
    fn send_purge_reply(
        &mut self,
        to: Ipv4Addr,
        msg: &nhrp::Repr<'_>,
        control: &nhrp::Control<'_>,
    ) {
        let mut extensions = Vec::new();
        if let Some(password) = &self.config.password {
            extensions.push(password.extension());
        }
        extensions.push(extension::Repr::END);
        let reply = nhrp::Repr {
            hop_count: self.config.hop_count,
            message: Message::PurgeReply(*control),
            extensions: Some(nhrp::ExtensionList::new(&extensions)),
            ..*msg
        };
        self.transmits
            .push_back(Transmit::new(to, crate::Nhrp, emit(&reply)));
    }
}

#[cfg(test)]
mod tests {
    use super::super::ipv4_repr;
    use super::*;

    const HUB: Nhs = Nhs {
        tunnel: Ipv4Addr::new(10, 0, 0, 1),
        nbma: Ipv4Addr::new(192, 0, 2, 1),
    };
    const HUB2: Nhs = Nhs {
        tunnel: Ipv4Addr::new(10, 0, 0, 254),
        nbma: Ipv4Addr::new(192, 0, 2, 254),
    };

    fn config() -> ClientConfig {
        ClientConfig::new(
            Ipv4Addr::new(10, 0, 0, 2),
            Ipv4Addr::new(192, 0, 2, 2),
            vec![HUB, HUB2],
        )
    }

    /// The reply an NHS gives to `request`, with `code` in its CIE.
    fn reply(request: &Transmit, code: CieCode) -> Vec<u8> {
        let repr = request.parse().unwrap();
        let control = *repr.message.control().unwrap();
        let cies: Vec<_> = control
            .cies
            .iter()
            .map(|c| nhrp::cie::Repr { code, ..c })
            .collect();
        emit(&nhrp::Repr {
            message: Message::RegistrationReply(nhrp::Control {
                cies: nhrp::CieList::new(&cies),
                ..control
            }),
            ..repr
        })
    }

    #[test]
    fn defaults_and_backoff() {
        let config = config();
        assert_eq!(config.holding_time, 7200);
        assert_eq!(config.refresh_interval(), Duration::from_secs(2400));
        let waits: Vec<_> = (0..10).map(|k| config.backoff(k).secs()).collect();
        assert_eq!(waits, [1, 2, 4, 8, 16, 32, 64, 64, 64, 64]);
        assert_eq!(config.backoff(u32::MAX), Duration::from_secs(64));
    }

    #[test]
    fn registers_with_every_nhs_independently() {
        let t0 = Instant::from_secs(100);
        let mut client = Client::new(config(), t0, u32::MAX);
        let first = client.poll_transmit().unwrap();
        let second = client.poll_transmit().unwrap();
        assert_eq!(client.poll_transmit(), None);
        assert_eq!((first.to, second.to), (HUB.nbma, HUB2.nbma));
        // Request IDs come from the caller's counter and wrap.
        assert_eq!(first.parse().unwrap().request_id(), Some(u32::MAX));
        assert_eq!(second.parse().unwrap().request_id(), Some(0));
        assert_eq!(second.parse().unwrap().dst_proto, HUB2.tunnel.octets());
        assert_eq!(client.poll_timeout(), Some(t0 + Duration::from_secs(1)));

        // Only the first NHS answers.
        let now = t0 + Duration::from_millis(30);
        let answer = reply(&first, CieCode::SUCCESS);
        client
            .handle_message(now, HUB.nbma, &nhrp::parse(&answer).unwrap())
            .unwrap();
        assert_eq!(
            client.poll_event(),
            Some(ClientEvent::Registered {
                nhs: HUB.tunnel,
                holding_time: Duration::from_secs(7200),
                nat_address: None
            })
        );
        assert!(!client.is_registered());
        let states: Vec<_> = client.states().map(|(_, s)| s).collect();
        assert_eq!(
            states[0],
            NhsState::Registered {
                refresh_at: t0 + Duration::from_secs(2400),
                expires_at: t0 + Duration::from_secs(7200)
            }
        );
        assert!(matches!(
            states[1],
            NhsState::Registering { attempt: 0, .. }
        ));
        // The same reply again matches nothing outstanding.
        assert_eq!(
            client.handle_message(now, HUB.nbma, &nhrp::parse(&answer).unwrap()),
            Err(Error::UnknownRequest {
                request_id: u32::MAX
            })
        );
    }

    #[test]
    fn answers_must_come_from_the_nhs() {
        let mut client = Client::new(config(), Instant::ZERO, 1);
        let request = client.poll_transmit().unwrap();
        let answer = reply(&request, CieCode::SUCCESS);
        let spoofer = Ipv4Addr::new(198, 51, 100, 1);
        assert_eq!(
            client.handle_message(Instant::ZERO, spoofer, &nhrp::parse(&answer).unwrap()),
            Err(Error::UnknownPeer { nbma: spoofer })
        );
        assert_eq!(client.poll_event(), None);
    }

    #[test]
    fn every_refusal_code_is_reported_and_retried_with_a_new_id() {
        for code in [
            CieCode::ADMINISTRATIVELY_PROHIBITED,
            CieCode::INSUFFICIENT_RESOURCES,
            CieCode::ALREADY_REGISTERED,
            CieCode(200),
        ] {
            let mut client = Client::new(config(), Instant::ZERO, 1);
            let request = client.poll_transmit().unwrap();
            let _ = client.poll_transmit();
            let answer = reply(&request, code);
            client
                .handle_message(Instant::ZERO, HUB.nbma, &nhrp::parse(&answer).unwrap())
                .unwrap();
            assert_eq!(
                client.poll_event(),
                Some(ClientEvent::RegistrationFailed {
                    nhs: HUB.tunnel,
                    code
                })
            );
            // The next attempt goes out on the backoff schedule with a new ID.
            client.handle_timeout(Instant::from_secs(1));
            let retry = client.poll_transmit().unwrap();
            assert_eq!(retry.to, HUB.nbma);
            assert_eq!(retry.parse().unwrap().request_id(), Some(3));
        }
    }

    #[test]
    fn error_indication_quoting_a_cut_request_still_matches() {
        let mut client = Client::new(config(), Instant::ZERO, 1);
        let request = client.poll_transmit().unwrap();
        // FRR's loop-detected code 2 is reported as the RFC's 3.
        let (nbma, tunnel) = (HUB.nbma.octets(), HUB.tunnel.octets());
        let indication = emit(&ipv4_repr(
            255,
            &nbma,
            &tunnel,
            &[10, 0, 0, 2],
            Message::ErrorIndication(nhrp::ErrorIndication {
                code: ErrorCode::LOOP_DETECTED_FRR,
                offset: 0,
                packet: &request.bytes[..40],
            }),
            None,
        ));
        client
            .handle_message(Instant::ZERO, HUB.nbma, &nhrp::parse(&indication).unwrap())
            .unwrap();
        assert_eq!(
            client.poll_event(),
            Some(ClientEvent::ErrorIndicationReceived {
                nhs: HUB.tunnel,
                code: ErrorCode::LOOP_DETECTED
            })
        );
    }

    #[test]
    fn a_late_timeout_runs_every_step_it_owes() {
        let mut client = Client::new(config(), Instant::ZERO, 1);
        let request = client.poll_transmit().unwrap();
        let _ = client.poll_transmit();
        let answer = reply(&request, CieCode::SUCCESS);
        client
            .handle_message(Instant::ZERO, HUB.nbma, &nhrp::parse(&answer).unwrap())
            .unwrap();
        let _ = client.poll_event();
        // The caller sleeps past the refresh (2400 s) and the expiry (7200 s) of the first NHS.
        let late = Instant::from_secs(8000);
        client.handle_timeout(late);
        assert_eq!(
            client.poll_event(),
            Some(ClientEvent::Expired { nhs: HUB.tunnel })
        );
        assert!(client.poll_timeout().is_some_and(|t| t > late));
        // One refresh to each NHS's schedule: the first NHS's refresh, the second's retry.
        let sent: Vec<_> = core::iter::from_fn(|| client.poll_transmit())
            .map(|t| t.to)
            .collect();
        assert_eq!(sent, [HUB.nbma, HUB2.nbma]);
    }

    #[test]
    fn a_shorter_grant_is_honoured_and_zero_means_as_asked() {
        for (granted, refresh) in [(30, 10), (0, 2400), (9000, 2400)] {
            let mut client = Client::new(config(), Instant::ZERO, 1);
            let request = client.poll_transmit().unwrap();
            let repr = request.parse().unwrap();
            let control = *repr.message.control().unwrap();
            let cies: Vec<_> = control
                .cies
                .iter()
                .map(|c| nhrp::cie::Repr {
                    holding_time: granted,
                    ..c
                })
                .collect();
            let answer = emit(&nhrp::Repr {
                message: Message::RegistrationReply(nhrp::Control {
                    cies: nhrp::CieList::new(&cies),
                    ..control
                }),
                ..repr
            });
            client
                .handle_message(Instant::ZERO, HUB.nbma, &nhrp::parse(&answer).unwrap())
                .unwrap();
            let (_, state) = client.states().next().unwrap();
            assert!(
                matches!(state, NhsState::Registered { refresh_at, .. } if refresh_at == Instant::from_secs(refresh)),
                "{granted}: {state:?}"
            );
        }
    }
}
