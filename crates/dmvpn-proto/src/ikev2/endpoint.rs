//! The [`Endpoint`]: the SA table, message dispatch (message IDs, decryption, cached
//! responses) and the caller's interface. The exchanges are in the sibling modules.

use alloc::collections::VecDeque;
use alloc::vec::Vec;
use core::net::Ipv4Addr;

use dmvpn_isakmp::consts::Group;
use dmvpn_isakmp::keys::Secret;
use dmvpn_isakmp::v2::keys::{IkeKeys, encrypt};
use dmvpn_isakmp::v2::{ExchangeType, Message};

use super::wire::{Chain, Received, header};
use super::{ChildSa, Config, DeleteReason, Entropy, Error, Event, KeyExchange, Transmit};
use crate::ike::Purpose;
use crate::time::Instant;

/// The I flag: sent by the original initiator of the IKE SA.
pub(super) const FLAG_I: u8 = 0x08;
/// The R flag: a response.
pub(super) const FLAG_R: u8 = 0x20;

/// One IKE SA's state, with the deadline each state waits for (the retransmission of an
/// outstanding request is [`Request::retransmit_at`]).
#[derive(Clone, Copy, Debug, Eq, PartialEq)]
pub(super) enum State {
    /// We sent IKE_SA_INIT.
    InitSent,
    /// We sent IKE_AUTH.
    AuthSent,
    /// We answered IKE_SA_INIT; IKE_AUTH must come before `expires`.
    HalfOpen { expires: Instant },
    /// IKE_AUTH completed. The SA is rekeyed at `rekey_at`; a liveness check is due at
    /// `dpd_at`.
    Established {
        rekey_at: Instant,
        dpd_at: Option<Instant>,
    },
    /// Replaced by a rekey or being deleted: only the Delete exchange runs on it.
    Closing,
}

impl State {
    pub(super) const fn name(self) -> &'static str {
        match self {
            Self::InitSent => "init-sent",
            Self::AuthSent => "auth-sent",
            Self::HalfOpen { .. } => "half-open",
            Self::Established { .. } => "established",
            Self::Closing => "closing",
        }
    }
}

/// What an outstanding request of ours was.
pub(super) enum Kind {
    Init,
    Auth {
        inbound_spi: u32,
    },
    RekeyChild {
        old_inbound: u32,
        new_inbound: u32,
        ni: Vec<u8>,
        dh: Option<KeyExchange>,
    },
    RekeyIke {
        new_spi_i: [u8; 8],
        ni: Vec<u8>,
        dh: KeyExchange,
    },
    DeleteChild {
        inbound: Vec<u32>,
    },
    DeleteIke,
    Liveness,
}

/// A request waiting for its response.
pub(super) struct Request {
    pub message_id: u32,
    pub bytes: Vec<u8>,
    pub attempt: u32,
    pub retransmit_at: Instant,
    pub kind: Kind,
}

/// A request queued behind the outstanding one (window of one).
#[derive(Clone, Copy, Debug, Eq, PartialEq)]
pub(super) enum Queued {
    RekeyChild(u32),
    RekeyIke,
    DeleteChild(u32),
    DeleteIke,
    Liveness,
}

/// A Child SA pair under an IKE SA.
pub(super) struct Child {
    pub sa: ChildSa,
    pub rekey_at: Instant,
    pub expires_at: Instant,
    /// A rekey of ours is outstanding.
    pub rekeying: bool,
    /// The peer rekeyed it (as responder we created the SA with this inbound SPI, with these
    /// nonces): used to resolve a simultaneous rekey.
    pub peer_rekey: Option<(u32, Vec<u8>, Vec<u8>)>,
}

/// One IKE SA.
pub(super) struct IkeSa {
    pub peer: Ipv4Addr,
    /// We are the original initiator (our messages carry the I flag).
    pub initiator: bool,
    pub spi_i: [u8; 8],
    pub spi_r: [u8; 8],
    pub state: State,
    pub keys: Option<IkeKeys>,
    pub suite: Option<super::sa_init::Suite>,
    /// Replaced by a rekey: its Child SAs moved, its deletion reports nothing.
    pub replaced: bool,
    pub psk: Option<Secret>,
    pub ni: Vec<u8>,
    pub nr: Vec<u8>,
    /// Our IKE_SA_INIT message and the peer's (AUTH signs them).
    pub init_sent: Vec<u8>,
    pub init_received: Vec<u8>,
    pub dh: Option<KeyExchange>,
    pub group: Group,
    pub cookie: Option<Vec<u8>>,
    pub nat_detected: bool,
    pub next_id: u32,
    pub peer_next_id: u32,
    pub outstanding: Option<Request>,
    pub queue: VecDeque<Queued>,
    /// The last response we sent, for a retransmitted request.
    pub cached: Option<(u32, Vec<u8>)>,
    pub children: Vec<Child>,
    pub last_heard: Instant,
    /// Its number in [`Endpoint::sas`] (IOS's `Tunnel-id`), given by [`Endpoint::insert_sa`].
    pub tunnel_id: u32,
    /// When IKE_AUTH (or the rekey that made it) completed.
    pub established_at: Option<Instant>,
}

impl IkeSa {
    pub(super) fn new(peer: Ipv4Addr, initiator: bool, spi_i: [u8; 8], now: Instant) -> Self {
        Self {
            peer,
            initiator,
            spi_i,
            spi_r: [0; 8],
            state: State::InitSent,
            keys: None,
            suite: None,
            replaced: false,
            psk: None,
            ni: Vec::new(),
            nr: Vec::new(),
            init_sent: Vec::new(),
            init_received: Vec::new(),
            dh: None,
            group: Group(0),
            cookie: None,
            nat_detected: false,
            next_id: 0,
            peer_next_id: 0,
            outstanding: None,
            queue: VecDeque::new(),
            cached: None,
            children: Vec::new(),
            last_heard: now,
            tunnel_id: 0,
            established_at: None,
        }
    }

    pub(super) fn child(&mut self, inbound: u32) -> Option<&mut Child> {
        self.children
            .iter_mut()
            .find(|c| c.sa.inbound.spi == inbound)
    }
}

/// One router's IKEv2.
pub struct Endpoint<E> {
    pub(super) config: Config,
    pub(super) entropy: E,
    pub(super) sas: Vec<IkeSa>,
    pub(super) transmits: VecDeque<Transmit>,
    pub(super) events: VecDeque<Event>,
    /// The secret of the COOKIE hash (§2.6).
    pub(super) cookie_secret: [u8; 32],
    /// The `Tunnel-id` of the next IKE SA made.
    pub(super) next_tunnel_id: u32,
}

impl<E> core::fmt::Debug for Endpoint<E> {
    /// The SA count and the queues' lengths; no keys, no entropy.
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("Endpoint")
            .field("local", &self.config.local)
            .field("sas", &self.sas.len())
            .field("transmits", &self.transmits.len())
            .field("events", &self.events.len())
            .finish_non_exhaustive()
    }
}

impl<E: Entropy> Endpoint<E> {
    /// An endpoint with no SAs.
    pub fn new(config: Config, mut entropy: E) -> Self {
        let mut cookie_secret = [0; 32];
        entropy.fill(Purpose::Cookie, &mut cookie_secret);
        Self {
            config,
            entropy,
            sas: Vec::new(),
            transmits: VecDeque::new(),
            events: VecDeque::new(),
            cookie_secret,
            next_tunnel_id: 1,
        }
    }

    /// The configuration.
    #[must_use]
    pub const fn config(&self) -> &Config {
        &self.config
    }

    /// The next datagram to send from UDP/500 to the peer's UDP/500 (requests, their
    /// retransmissions, responses).
    pub fn poll_transmit(&mut self) -> Option<Transmit> {
        self.transmits.pop_front()
    }

    /// The next event: SAs established, rekeyed, deleted, failures.
    pub fn poll_event(&mut self) -> Option<Event> {
        self.events.pop_front()
    }

    /// The inbound SPIs of the Child SAs with `peer`.
    #[must_use]
    pub fn child_spis(&self, peer: Ipv4Addr) -> Vec<u32> {
        self.sas
            .iter()
            .filter(|sa| sa.peer == peer)
            .flat_map(|sa| sa.children.iter().map(|c| c.sa.inbound.spi))
            .collect()
    }

    /// Whether an established IKE SA with `peer` exists.
    #[must_use]
    pub fn is_established(&self, peer: Ipv4Addr) -> bool {
        self.sas
            .iter()
            .any(|sa| sa.peer == peer && matches!(sa.state, State::Established { .. }))
    }

    /// IKE SAs held (any state).
    #[must_use]
    pub fn sa_count(&self) -> usize {
        self.sas.len()
    }

    pub(super) fn random<const N: usize>(&mut self, purpose: Purpose) -> [u8; N] {
        let mut out = [0; N];
        self.entropy.fill(purpose, &mut out);
        out
    }

    pub(super) fn nonce(&mut self) -> Vec<u8> {
        let mut n = alloc::vec![0; self.config.nonce_len.clamp(16, 256)];
        self.entropy.fill(Purpose::Nonce, &mut n);
        n
    }

    /// A fresh inbound ESP SPI (values below 256 are reserved, RFC 4303 §2.1).
    pub(super) fn spi(&mut self) -> u32 {
        loop {
            let spi = u32::from_be_bytes(self.random(Purpose::Spi));
            if spi >= 256 {
                return spi;
            }
        }
    }

    /// Adds a new IKE SA to the table, numbering it (see [`Endpoint::sas`]).
    pub(super) fn insert_sa(&mut self, mut sa: IkeSa) {
        sa.tunnel_id = self.next_tunnel_id;
        self.next_tunnel_id = self.next_tunnel_id.wrapping_add(1).max(1);
        self.sas.push(sa);
    }

    pub(super) fn index(&self, peer: Ipv4Addr, spi_i: [u8; 8], spi_r: [u8; 8]) -> Option<usize> {
        self.sas.iter().position(|sa| {
            sa.peer == peer && sa.spi_i == spi_i && (sa.spi_r == spi_r || spi_r == [0; 8])
        })
    }

    /// Encrypts `chain` into a message of SA `i`.
    pub(super) fn seal(
        &mut self,
        i: usize,
        exchange: ExchangeType,
        response: bool,
        message_id: u32,
        chain: &Chain,
    ) -> Result<Vec<u8>, Error> {
        let iv: [u8; 16] = self.random(Purpose::Nonce);
        let sa = &self.sas[i];
        let flags = if sa.initiator { FLAG_I } else { 0 } | if response { FLAG_R } else { 0 };
        let h = header(sa.spi_i, sa.spi_r, exchange, flags, message_id);
        let Some(keys) = &sa.keys else {
            return Err(Error::NotEstablished { peer: sa.peer });
        };
        Ok(encrypt(
            &keys.sa_keys,
            &h,
            chain.first,
            &chain.bytes,
            &iv,
            sa.initiator,
        )?)
    }

    /// Sends a request on SA `i` (or queues nothing: the caller checked the window).
    pub(super) fn send_request(
        &mut self,
        now: Instant,
        i: usize,
        exchange: ExchangeType,
        chain: &Chain,
        kind: Kind,
    ) -> Result<(), Error> {
        let message_id = self.sas[i].next_id;
        let bytes = self.seal(i, exchange, false, message_id, chain)?;
        self.start_request(now, i, bytes, kind);
        Ok(())
    }

    /// Records and sends request `bytes` on SA `i`.
    pub(super) fn start_request(&mut self, now: Instant, i: usize, bytes: Vec<u8>, kind: Kind) {
        let wait = self.config.retransmit.wait(0);
        let sa = &mut self.sas[i];
        let message_id = sa.next_id;
        sa.next_id = sa.next_id.wrapping_add(1);
        self.transmits
            .push_back(Transmit::new(sa.peer, crate::Ike, bytes.clone()));
        sa.outstanding = Some(Request {
            message_id,
            bytes,
            attempt: 0,
            retransmit_at: now + wait,
            kind,
        });
    }

    /// Sends the response to the peer's request on SA `i`, caching it.
    pub(super) fn respond(
        &mut self,
        i: usize,
        exchange: ExchangeType,
        message_id: u32,
        chain: &Chain,
    ) -> Result<(), Error> {
        let bytes = self.seal(i, exchange, true, message_id, chain)?;
        let sa = &mut self.sas[i];
        self.transmits
            .push_back(Transmit::new(sa.peer, crate::Ike, bytes.clone()));
        sa.cached = Some((message_id, bytes));
        Ok(())
    }

    /// Takes a UDP/500 datagram from `from`.
    ///
    /// # Errors
    /// [`Error`] when the message is malformed, unknown, out of window, fails its ICV or is
    /// refused by the exchange (whatever the protocol answers is queued first).
    pub fn handle_message(
        &mut self,
        now: Instant,
        from: Ipv4Addr,
        bytes: &[u8],
    ) -> Result<(), Error> {
        let version = bytes.get(17).map_or(0, |v| v >> 4);
        if bytes.len() >= 28 && version != 2 {
            return Err(Error::Version {
                peer: from,
                version,
            });
        }
        let message = Message::parse(bytes)?;
        let h = message.header;
        let response = h.flags.response();
        if h.exchange_type == ExchangeType::IKE_SA_INIT {
            let received = Received::read(message.payloads())?;
            return if response {
                self.init_response(now, from, &h, &received, bytes)
            } else {
                self.init_request(now, (from, &h), &received, bytes)
            };
        }
        let Some(i) = self.index(from, h.initiator_spi, h.responder_spi) else {
            return Err(Error::UnknownSa {
                peer: from,
                initiator_spi: u64::from_be_bytes(h.initiator_spi),
            });
        };
        let Some(keys) = &self.sas[i].keys else {
            return Err(Error::Unexpected {
                peer: from,
                exchange: h.exchange_type,
                state: self.sas[i].state.name(),
            });
        };
        // The I flag must say the sender is the other side.
        if h.flags.initiator() == self.sas[i].initiator {
            return Err(Error::UnknownSa {
                peer: from,
                initiator_spi: u64::from_be_bytes(h.initiator_spi),
            });
        }
        let sa_keys = keys.sa_keys.clone();
        if response {
            let expected = self.sas[i].outstanding.as_ref().map(|r| r.message_id);
            if expected != Some(h.message_id) {
                return Err(Error::MessageId {
                    peer: from,
                    message_id: h.message_id,
                    expected: expected.unwrap_or(self.sas[i].next_id),
                });
            }
        } else {
            let sa = &self.sas[i];
            if let Some((id, cached)) = &sa.cached
                && *id == h.message_id
            {
                // A retransmitted request: the same answer again (§2.1).
                self.transmits
                    .push_back(Transmit::new(from, crate::Ike, cached.clone()));
                return Ok(());
            }
            if h.message_id != sa.peer_next_id {
                return Err(Error::MessageId {
                    peer: from,
                    message_id: h.message_id,
                    expected: sa.peer_next_id,
                });
            }
        }
        let inner = match message.decrypt(&sa_keys) {
            Some(Ok(inner)) if inner.decrypted.icv == dmvpn_isakmp::v2::crypto::Icv::Good => inner,
            Some(Err(e)) => return Err(e.into()),
            _ => {
                return Err(Error::BadIcv {
                    peer: from,
                    message_id: h.message_id,
                });
            }
        };
        let received = Received::read(inner.payloads())?;
        self.sas[i].last_heard = now;
        if response {
            let Some(request) = self.sas[i].outstanding.take() else {
                return Ok(());
            };
            let result = self.on_response(now, i, h.exchange_type, request, &received);
            self.next_queued(now);
            result
        } else {
            self.sas[i].peer_next_id = h.message_id.wrapping_add(1);
            let result = self.on_request(now, i, h.exchange_type, h.message_id, &received);
            self.next_queued(now);
            result
        }
    }

    fn on_response(
        &mut self,
        now: Instant,
        i: usize,
        exchange: ExchangeType,
        request: Request,
        received: &Received,
    ) -> Result<(), Error> {
        match request.kind {
            Kind::Auth { inbound_spi } => self.auth_response(now, i, inbound_spi, received),
            Kind::RekeyChild {
                old_inbound,
                new_inbound,
                ni,
                dh,
            } => self.rekey_child_response(now, i, old_inbound, new_inbound, &ni, dh, received),
            Kind::RekeyIke { new_spi_i, ni, dh } => {
                self.rekey_ike_response(now, i, new_spi_i, &ni, &dh, received)
            }
            Kind::DeleteChild { inbound } => {
                self.delete_child_response(i, &inbound);
                Ok(())
            }
            Kind::DeleteIke => {
                self.remove_sa(i, DeleteReason::Local);
                Ok(())
            }
            Kind::Liveness => Ok(()),
            Kind::Init => Err(Error::Unexpected {
                peer: self.sas[i].peer,
                exchange,
                state: self.sas[i].state.name(),
            }),
        }
    }

    fn on_request(
        &mut self,
        now: Instant,
        i: usize,
        exchange: ExchangeType,
        message_id: u32,
        received: &Received,
    ) -> Result<(), Error> {
        match (exchange, self.sas[i].state) {
            (ExchangeType::IKE_AUTH, State::HalfOpen { .. }) => {
                self.auth_request(now, i, message_id, received)
            }
            (ExchangeType::CREATE_CHILD_SA, State::Established { .. }) => {
                self.create_child_request(now, (i, message_id), received)
            }
            (ExchangeType::INFORMATIONAL, State::Established { .. } | State::Closing) => {
                self.informational_request(now, i, message_id, received)
            }
            (exchange, state) => Err(Error::Unexpected {
                peer: self.sas[i].peer,
                exchange,
                state: state.name(),
            }),
        }
    }

    /// Removes SA `i`, reporting its Child SAs and itself as deleted for `reason`.
    pub(super) fn remove_sa(&mut self, i: usize, reason: DeleteReason) {
        let sa = self.sas.swap_remove(i);
        let established = sa.keys.is_some()
            && !sa.replaced
            && !matches!(sa.state, State::HalfOpen { .. } | State::AuthSent);
        self.report_deleted(sa.peer, sa.children, reason);
        if established {
            self.events.push_back(Event::Deleted {
                peer: sa.peer,
                initiator_spi: sa.spi_i,
                reason,
            });
        }
    }
}
