//! The NHRP server of a hub (Next Hop Server, RFC 2332 §5.2.1–§5.2.7): the registration cache,
//! resolution from it, purges, and the multicast map of `ip nhrp map multicast dynamic`.
//!
//! - **Registration** (§5.2.3, §5.2.4). Each CIE of a Registration Request registers the
//!   client's protocol address (the CIE's, or the packet's source when the CIE has none) at its
//!   NBMA address for the CIE's holding time. The entry is keyed by tunnel address and expires
//!   on its own: [`Server::handle_timeout`] removes every entry whose holding time has passed.
//!   A holding time of 0 takes the hub's own (FRR). Only host entries are registered (prefix
//!   length 0, or 32 and up such as the 0xff of the unique flag): a shorter prefix gets code 13
//!   (not unique) without the unique flag and 4 (administratively prohibited) with it, as FRR.
//! - **Unique flag.** An entry registered with the unique flag cannot be taken over from another
//!   NBMA address until it expires or is purged: such a request gets CIE code 14,
//!   [`CieCode::ALREADY_REGISTERED`] ("Unique Internetworking Layer Address Already
//!   Registered"). Registering again from the same NBMA address refreshes it.
//! - **NAT.** The NBMA address a spoke claims (`src_nbma`) and the one its packet came from (the
//!   outer source, after NAT) can differ; the hub keeps the one it saw, as IOS does. Its reply
//!   echoes the request's Cisco NAT Address extension and, when the two differ, appends a CIE
//!   with the address it saw (as FRR's hub; a spoke reads it as its NAT address).
//! - **Replies** answer the request's extensions in its order, as IOS and FRR do: Responder
//!   Address filled with the hub's CIE, transit records copied, Authentication regenerated.
//! - **Resolution** (§5.2.1, §5.2.2). A Resolution Request for a registered address (or the hub's
//!   own) is answered authoritatively with the mapping and the holding time left; otherwise with
//!   CIE code 12, [`CieCode::NO_BINDING_EXISTS`]. A [`Node`](crate::node::Node) hub does not let
//!   a request for a registered spoke get here: it forwards it to that spoke, which answers the
//!   requester itself, as IOS and FRR hubs do in Phase 2 and 3; the server answers for the
//!   hub's own address and with code 12 for an address no spoke owns.
//! - **Purge** (§5.2.5, §5.2.6). A Purge Request removes the mappings it names that the sender
//!   registered, and is answered unless its N flag is set; [`Server::purge`] removes one mapping
//!   and tells its spoke.
//! - **Checks** (§5.2.7, §5.3). With a password configured, a request without it gets an Error
//!   Indication 11 (Authentication Failure); a request with hop count 0 gets 15 (Hop Count
//!   Exceeded); a compulsory extension the codec does not know gets 1 (Unrecognized Extension).
//! - **Multicast map.** [`Server::multicast_nbma`] lists the NBMA addresses that receive
//!   replicated multicast (EIGRP hellos): the static ones plus every registered spoke.

use alloc::boxed::Box;
use alloc::collections::{BTreeMap, BTreeSet, VecDeque};
use alloc::vec::Vec;
use core::net::Ipv4Addr;

use dmvpn_nhrp::{self as nhrp, CieCode, ErrorCode, Flags, Message, extension};

use super::Error;
use super::{Password, Transmit, authentic, check_families, emit, error_indication, ipv4};
use crate::limits::{Limit, NhrpLimits, RateWindows, Tally};
use crate::time::{Duration, Instant};
use crate::timer::TimerTable;

/// How many NBMA addresses the registration rate is kept for (the oldest window makes room).
const RATE_WINDOWS: usize = 4096;

/// How many unanswered Purge Requests the server remembers.
const MAX_OUTSTANDING_PURGES: usize = 1024;

/// The configuration of a hub's NHRP server.
#[derive(Clone, Debug)]
pub struct ServerConfig {
    /// The hub's tunnel address.
    pub tunnel: Ipv4Addr,
    /// The hub's NBMA address.
    pub nbma: Ipv4Addr,
    /// `ip nhrp authentication`.
    pub password: Option<Password>,
    /// `ip nhrp map multicast <nbma>`: static multicast destinations.
    pub multicast_static: Vec<Ipv4Addr>,
    /// `ip nhrp map multicast dynamic`: registered spokes receive multicast.
    pub multicast_dynamic: bool,
    /// The hop count of every packet sent.
    pub hop_count: u8,
    /// The MTU put in the CIEs of Resolution Replies for the hub itself.
    pub mtu: u16,
    /// `ip nhrp holdtime` of the hub: the holding time of answers about itself.
    pub holding_time: u16,
    /// How many registrations the cache takes, and how fast (see [`crate::limits`]).
    pub limits: NhrpLimits,
}

impl ServerConfig {
    /// A configuration with IOS's defaults plus `map multicast dynamic`.
    #[must_use]
    pub const fn new(tunnel: Ipv4Addr, nbma: Ipv4Addr) -> Self {
        Self {
            tunnel,
            nbma,
            password: None,
            multicast_static: Vec::new(),
            multicast_dynamic: true,
            hop_count: 255,
            mtu: 1514,
            holding_time: 7200,
            limits: NhrpLimits::DEFAULT,
        }
    }
}

/// A mapping in the registration cache.
#[derive(Clone, Copy, Debug, Eq, PartialEq)]
pub struct Registration {
    /// The spoke's tunnel address.
    pub tunnel: Ipv4Addr,
    /// Where the spoke is reached: the source of its packet (after NAT).
    pub nbma: Ipv4Addr,
    /// The NBMA address the spoke claimed; differs from `nbma` behind NAT.
    pub claimed_nbma: Ipv4Addr,
    /// Registered with the unique flag.
    pub unique: bool,
    /// The holding time granted.
    pub holding_time: Duration,
    /// The MTU the spoke announced.
    pub mtu: u16,
    /// When the entry was created or last refreshed.
    pub updated_at: Instant,
    /// When it expires.
    pub expires_at: Instant,
}

impl Registration {
    /// Whether the spoke is behind NAT.
    #[must_use]
    pub fn natted(&self) -> bool {
        self.nbma != self.claimed_nbma
    }
}

/// What happened in the hub's cache.
#[derive(Clone, Copy, Debug, Eq, PartialEq)]
pub enum ServerEvent {
    /// A new mapping.
    Registered {
        /// The spoke's tunnel address.
        tunnel: Ipv4Addr,
        /// Its NBMA address as seen.
        nbma: Ipv4Addr,
        /// Whether it is behind NAT.
        natted: bool,
    },
    /// An existing mapping was refreshed (or moved to a new NBMA address, if not unique).
    Refreshed {
        /// The spoke's tunnel address.
        tunnel: Ipv4Addr,
        /// Its NBMA address as seen.
        nbma: Ipv4Addr,
    },
    /// A registration was refused with this CIE code.
    Rejected {
        /// The tunnel address asked for.
        tunnel: Ipv4Addr,
        /// Where the request came from.
        from: Ipv4Addr,
        /// The code sent back.
        code: CieCode,
    },
    /// A mapping's holding time passed.
    Expired {
        /// The spoke's tunnel address.
        tunnel: Ipv4Addr,
        /// Its NBMA address.
        nbma: Ipv4Addr,
    },
    /// A mapping was removed by a Purge Request, a zero holding time or [`Server::purge`].
    Purged {
        /// The spoke's tunnel address.
        tunnel: Ipv4Addr,
    },
    /// The hub answered a bad request with an Error Indication.
    ErrorIndicationSent {
        /// The NBMA address it went to.
        to: Ipv4Addr,
        /// Its code.
        code: ErrorCode,
    },
    /// An Error Indication arrived (e.g. a spoke refusing a purge).
    ErrorIndicationReceived {
        /// The NBMA address it came from.
        from: Ipv4Addr,
        /// Its code.
        code: ErrorCode,
    },
    /// A Resolution Request was answered.
    Resolved {
        /// The address asked for.
        target: Ipv4Addr,
        /// The CIE code of the answer.
        code: CieCode,
    },
}

/// A hub's NHRP server.
#[derive(Debug)]
pub struct Server {
    config: ServerConfig,
    cache: BTreeMap<Ipv4Addr, Registration>,
    expiry: TimerTable<Ipv4Addr>,
    next_request_id: u32,
    purges: BTreeSet<u32>,
    transmits: VecDeque<Transmit>,
    events: VecDeque<ServerEvent>,
    /// Cache entries by the NBMA address they were registered from.
    per_nbma: BTreeMap<Ipv4Addr, usize>,
    /// Registration Requests per NBMA address in the current second.
    rate: RateWindows,
    /// (boxed: the hub's variant of the node's NHRP role stays small)
    tally: Box<Tally>,
}

impl Server {
    /// A server with an empty cache; request IDs of the purges it sends count up from
    /// `first_request_id`.
    #[must_use]
    pub fn new(config: ServerConfig, first_request_id: u32) -> Self {
        Self {
            config,
            cache: BTreeMap::new(),
            expiry: TimerTable::new(),
            next_request_id: first_request_id,
            purges: BTreeSet::new(),
            transmits: VecDeque::new(),
            events: VecDeque::new(),
            per_nbma: BTreeMap::new(),
            rate: RateWindows::new(RATE_WINDOWS),
            tally: Box::default(),
        }
    }

    /// The configuration.
    #[must_use]
    pub fn config(&self) -> &ServerConfig {
        &self.config
    }

    /// What the limits refused (see [`crate::limits`]).
    #[must_use]
    pub fn limits(&self) -> &Tally {
        &self.tally
    }

    /// How many mappings were registered from `nbma`.
    #[must_use]
    pub fn registered_from(&self, nbma: Ipv4Addr) -> usize {
        self.per_nbma.get(&nbma).copied().unwrap_or(0)
    }

    /// The mapping of `tunnel`, if registered.
    #[must_use]
    pub fn get(&self, tunnel: Ipv4Addr) -> Option<&Registration> {
        self.cache.get(&tunnel)
    }

    /// Every mapping, by tunnel address.
    pub fn registrations(&self) -> impl Iterator<Item = &Registration> + '_ {
        self.cache.values()
    }

    /// How many mappings the cache holds.
    #[must_use]
    pub fn len(&self) -> usize {
        self.cache.len()
    }

    /// Whether the cache is empty.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.cache.is_empty()
    }

    /// The NBMA addresses that receive a copy of each multicast packet, each once, in address
    /// order: the static map plus, with `multicast_dynamic`, every registered spoke.
    pub fn multicast_nbma(&self) -> impl Iterator<Item = Ipv4Addr> + '_ {
        let dynamic = self
            .cache
            .values()
            .filter(|_| self.config.multicast_dynamic)
            .map(|entry| entry.nbma);
        let all: BTreeSet<Ipv4Addr> = self
            .config
            .multicast_static
            .iter()
            .copied()
            .chain(dynamic)
            .collect();
        all.into_iter()
    }

    /// Handles an NHRP packet that arrived from NBMA address `from` (the outer source).
    ///
    /// # Errors
    /// The request was refused or dropped: [`Error::AuthenticationFailure`],
    /// [`Error::HopCountExceeded`] and [`Error::UnrecognizedExtension`] after an
    /// Error Indication was queued; [`Error::UnsupportedFamily`],
    /// [`Error::UnsupportedAddress`], [`Error::NotForUs`],
    /// [`Error::UnexpectedMessage`] and [`Error::UnknownRequest`] silently.
    pub fn handle_message(
        &mut self,
        now: Instant,
        from: Ipv4Addr,
        msg: &nhrp::Repr<'_>,
    ) -> Result<(), Error> {
        check_families(msg)?;
        if let Message::ErrorIndication(error) = msg.message {
            // Reported, never answered with another one (RFC 2332 §5.2.7).
            self.events.push_back(ServerEvent::ErrorIndicationReceived {
                from,
                code: error.code.canonical(),
            });
            return Ok(());
        }
        if let Message::PurgeReply(control) = &msg.message {
            return if self.purges.remove(&control.request_id) {
                Ok(())
            } else {
                Err(Error::UnknownRequest {
                    request_id: control.request_id,
                })
            };
        }
        let Some(control) = msg.message.control().filter(|_| msg.op_type().is_request()) else {
            return Err(Error::UnexpectedMessage { op: msg.op_type() });
        };
        if msg.hop_count == 0 {
            self.send_error(from, msg, ErrorCode::HOP_COUNT_EXCEEDED);
            return Err(Error::HopCountExceeded);
        }
        if !authentic(self.config.password.as_ref(), msg) {
            self.send_error(from, msg, ErrorCode::AUTHENTICATION_FAILURE);
            return Err(Error::AuthenticationFailure);
        }
        if let Some(ext) = msg.extensions.and_then(|e| e.unrecognized_compulsory()) {
            self.send_error(from, msg, ErrorCode::UNRECOGNIZED_EXTENSION);
            return Err(Error::UnrecognizedExtension { ty: ext.value.ty() });
        }
        match msg.message {
            Message::RegistrationRequest(_) => self.handle_registration(now, from, msg, control),
            Message::ResolutionRequest(_) => self.handle_resolution(now, from, msg, control),
            _ => self.handle_purge(from, msg, control),
        }
    }

    /// Removes every mapping whose holding time has passed by `now`.
    pub fn handle_timeout(&mut self, now: Instant) {
        while let Some((tunnel, _)) = self.expiry.pop_expired(now) {
            if let Some(entry) = self.cache.remove(&tunnel) {
                self.uncount(entry.nbma);
                self.events.push_back(ServerEvent::Expired {
                    tunnel,
                    nbma: entry.nbma,
                });
            }
        }
    }

    /// Removes the mapping of `tunnel` (`clear ip nhrp`) and sends its spoke a Purge Request
    /// naming it, so that the spoke registers again. Returns the removed mapping.
    pub fn purge(&mut self, tunnel: Ipv4Addr) -> Option<Registration> {
        let entry = self.remove(tunnel)?;
        let request_id = self.next_request_id;
        self.next_request_id = self.next_request_id.wrapping_add(1);
        self.purges.insert(request_id);
        // Purges are not retransmitted; forget the oldest unanswered ones beyond a bound.
        while self.purges.len() > MAX_OUTSTANDING_PURGES {
            self.purges.pop_first();
        }
        let (nbma, own, target) = (
            self.config.nbma.octets(),
            self.config.tunnel.octets(),
            tunnel.octets(),
        );
        let cies = [nhrp::cie::Repr {
            prefix_len: 32,
            proto: &target,
            ..nhrp::cie::Repr::default()
        }];
        let mut exts = Vec::with_capacity(2);
        if let Some(password) = &self.config.password {
            exts.push(password.extension());
        }
        exts.push(extension::Repr::END);
        let repr = super::ipv4_repr(
            self.config.hop_count,
            &nbma,
            &own,
            &target,
            Message::PurgeRequest(nhrp::Control {
                flags: Flags::EMPTY,
                request_id,
                cies: nhrp::CieList::new(&cies),
            }),
            Some(nhrp::ExtensionList::new(&exts)),
        );
        self.transmits
            .push_back(Transmit::new(entry.nbma, crate::Nhrp, emit(&repr)));
        Some(entry)
    }

    /// When [`Server::handle_timeout`] must run next: the earliest expiry.
    #[must_use]
    pub fn poll_timeout(&self) -> Option<Instant> {
        self.expiry.next()
    }

    /// The next packet to send.
    #[must_use]
    pub fn poll_transmit(&mut self) -> Option<Transmit> {
        self.transmits.pop_front()
    }

    /// The next event.
    #[must_use]
    pub fn poll_event(&mut self) -> Option<ServerEvent> {
        self.events.pop_front()
    }

    fn remove(&mut self, tunnel: Ipv4Addr) -> Option<Registration> {
        let entry = self.cache.remove(&tunnel)?;
        self.uncount(entry.nbma);
        self.expiry.stop(tunnel);
        self.events.push_back(ServerEvent::Purged { tunnel });
        Some(entry)
    }

    fn send_error(&mut self, to: Ipv4Addr, msg: &nhrp::Repr<'_>, code: ErrorCode) {
        let bytes = error_indication(
            self.config.hop_count,
            self.config.nbma,
            self.config.tunnel,
            msg,
            code,
        );
        self.transmits
            .push_back(Transmit::new(to, crate::Nhrp, bytes));
        self.events
            .push_back(ServerEvent::ErrorIndicationSent { to, code });
    }

    /// The extensions of an answer, in the order of the request's (as IOS and FRR answer):
    /// Responder Address filled with `responder`, the transit records copied, Authentication
    /// replaced by the hub's own (dropped when it has none), Cisco NAT Address replaced by `nat`,
    /// other non-compulsory extensions copied, and End (added if the request had none).
    fn reply_extensions<'a>(
        &'a self,
        msg: &nhrp::Repr<'a>,
        responder: &'a [nhrp::cie::Repr<'a>],
        nat: &'a [nhrp::cie::Repr<'a>],
    ) -> Vec<extension::Repr<'a>> {
        let mut exts = Vec::with_capacity(6);
        for ext in msg.extension_iter() {
            let value = match ext.value {
                extension::Value::End => break,
                extension::Value::ResponderAddress(_) => {
                    extension::Value::ResponderAddress(nhrp::CieList::new(responder))
                }
                extension::Value::CiscoNatAddress(_) => {
                    extension::Value::CiscoNatAddress(nhrp::CieList::new(nat))
                }
                extension::Value::Authentication(_) => match &self.config.password {
                    Some(password) => password.extension().value,
                    None => continue,
                },
                other => other,
            };
            exts.push(extension::Repr { value, ..ext });
        }
        if msg.extensions.is_none()
            && let Some(password) = &self.config.password
        {
            exts.push(password.extension());
        }
        exts.push(extension::Repr::END);
        exts
    }

    /// The hub's own CIE in a Responder Address extension, as IOS writes it: prefix length 0,
    /// the hub's MTU and holding time.
    fn responder_cie<'a>(&self, nbma: &'a [u8; 4], tunnel: &'a [u8; 4]) -> nhrp::cie::Repr<'a> {
        nhrp::cie::Repr {
            mtu: self.config.mtu,
            holding_time: self.config.holding_time,
            nbma: nhrp::NbmaAddress::nsap(nbma),
            proto: tunnel,
            ..nhrp::cie::Repr::default()
        }
    }

    fn handle_registration(
        &mut self,
        now: Instant,
        from: Ipv4Addr,
        msg: &nhrp::Repr<'_>,
        control: &nhrp::Control<'_>,
    ) -> Result<(), Error> {
        if msg.dst_proto != self.config.tunnel.octets() {
            return Err(Error::NotForUs);
        }
        let rate = self.config.limits.rate;
        if !self.rate.allow(now, from, rate) {
            // Dropped unanswered: an answer to each would make the hub a reflector.
            let count = usize::try_from(rate.count).unwrap_or(usize::MAX);
            self.tally.refuse(now, Limit::NhrpRate, from, count);
            return Ok(());
        }
        let src_proto = ipv4(msg.src_proto, "source protocol address")?;
        let claimed = ipv4(msg.src_nbma.bytes, "source nbma address")?;
        let unique = control.flags.contains(Flags::REGISTRATION_UNIQUE);
        let mut answers: Vec<nhrp::cie::Repr<'_>> = Vec::with_capacity(control.cies.len());
        for cie in control.cies.iter() {
            let tunnel = if cie.proto.is_empty() {
                src_proto
            } else {
                ipv4(cie.proto, "cie client protocol address")?
            };
            let code = self.register(now, from, claimed, tunnel, unique, &cie);
            answers.push(nhrp::cie::Repr { code, ..cie });
        }
        // The reply mirrors the request (RFC 2332 §5.2.4): same addresses, ID, flags and CIEs
        // with their codes; the extensions answered in the request's order.
        let (hub_nbma, hub_tunnel, seen) = (
            self.config.nbma.octets(),
            self.config.tunnel.octets(),
            from.octets(),
        );
        let responder = [self.responder_cie(&hub_nbma, &hub_tunnel)];
        // Cisco NAT Address: the request's CIEs echoed, plus, when the packet came from another
        // address than the one it claims, a CIE with the address the hub saw (FRR reads it as
        // the second CIE).
        let mut nat: Vec<nhrp::cie::Repr<'_>> = msg
            .extensions
            .and_then(|e| e.find(nhrp::ExtensionType::CISCO_NAT_ADDRESS))
            .and_then(|ext| ext.value.cies())
            .map(|cies| cies.iter().collect())
            .unwrap_or_default();
        if from != claimed {
            nat.push(nhrp::cie::Repr {
                prefix_len: 32,
                mtu: self.config.mtu,
                nbma: nhrp::NbmaAddress::nsap(&seen),
                proto: msg.src_proto,
                ..nhrp::cie::Repr::default()
            });
        }
        let exts = self.reply_extensions(msg, &responder, &nat);
        let reply = nhrp::Repr {
            hop_count: self.config.hop_count,
            message: Message::RegistrationReply(nhrp::Control {
                cies: nhrp::CieList::new(&answers),
                ..*control
            }),
            extensions: Some(nhrp::ExtensionList::new(&exts)),
            ..*msg
        };
        let bytes = emit(&reply);
        self.transmits
            .push_back(Transmit::new(from, crate::Nhrp, bytes));
        Ok(())
    }

    /// Registers one CIE and returns its code.
    fn register(
        &mut self,
        now: Instant,
        from: Ipv4Addr,
        claimed: Ipv4Addr,
        tunnel: Ipv4Addr,
        unique: bool,
        cie: &nhrp::cie::Repr<'_>,
    ) -> CieCode {
        let existing = self.cache.get(&tunnel).copied();
        if existing.is_some_and(|old| old.unique && old.nbma != from) {
            self.events.push_back(ServerEvent::Rejected {
                tunnel,
                from,
                code: CieCode::ALREADY_REGISTERED,
            });
            return CieCode::ALREADY_REGISTERED;
        }
        // Only host registrations, as FRR: prefix length 0 or 32 and up (0xff with the unique
        // flag) is the host; a shorter prefix is not unique without the flag (13) and not
        // supported with it (4).
        if (1..32).contains(&cie.prefix_len) {
            let code = if unique {
                CieCode::ADMINISTRATIVELY_PROHIBITED
            } else {
                CieCode::BINDING_NOT_UNIQUE
            };
            self.events
                .push_back(ServerEvent::Rejected { tunnel, from, code });
            return code;
        }
        if let Some(code) = self.over_limit(now, from, existing.as_ref()) {
            self.events
                .push_back(ServerEvent::Rejected { tunnel, from, code });
            return code;
        }
        // A zero holding time takes the hub's own, as FRR does (RFC 2332 gives it no meaning).
        let seconds = match cie.holding_time {
            0 => self.config.holding_time,
            h => h,
        };
        let holding_time = Duration::from_secs(i64::from(seconds));
        let entry = Registration {
            tunnel,
            nbma: from,
            claimed_nbma: claimed,
            unique,
            holding_time,
            mtu: cie.mtu,
            updated_at: now,
            expires_at: now + holding_time,
        };
        if let Some(old) = self.cache.insert(tunnel, entry) {
            self.uncount(old.nbma);
        }
        *self.per_nbma.entry(from).or_insert(0) += 1;
        self.expiry.set(tunnel, entry.expires_at);
        self.events.push_back(if existing.is_some() {
            ServerEvent::Refreshed { tunnel, nbma: from }
        } else {
            ServerEvent::Registered {
                tunnel,
                nbma: from,
                natted: entry.natted(),
            }
        });
        CieCode::SUCCESS
    }

    /// Code 5 (Insufficient Resources, RFC 2332 §5.2.4) when a new mapping from `from` would pass
    /// [`NhrpLimits::per_nbma`] or [`NhrpLimits::total`]; a refresh from the same address passes.
    fn over_limit(
        &mut self,
        now: Instant,
        from: Ipv4Addr,
        existing: Option<&Registration>,
    ) -> Option<CieCode> {
        let limits = self.config.limits;
        let (limit, value) = if existing.is_some_and(|old| old.nbma == from) {
            return None;
        } else if self.registered_from(from) >= limits.per_nbma {
            (Limit::NhrpPerNbma, limits.per_nbma)
        } else if existing.is_none() && self.cache.len() >= limits.total {
            (Limit::NhrpTotal, limits.total)
        } else {
            return None;
        };
        self.tally.refuse(now, limit, from, value);
        Some(CieCode::INSUFFICIENT_RESOURCES)
    }

    fn uncount(&mut self, nbma: Ipv4Addr) {
        if let Some(n) = self.per_nbma.get_mut(&nbma) {
            *n = n.saturating_sub(1);
            if *n == 0 {
                self.per_nbma.remove(&nbma);
            }
        }
    }

    fn handle_resolution(
        &mut self,
        now: Instant,
        from: Ipv4Addr,
        msg: &nhrp::Repr<'_>,
        control: &nhrp::Control<'_>,
    ) -> Result<(), Error> {
        let target = ipv4(msg.dst_proto, "destination protocol address")?;
        let found = if target == self.config.tunnel {
            Some((
                self.config.nbma,
                self.config.mtu,
                self.config.holding_time,
                false,
            ))
        } else {
            self.cache
                .get(&target)
                .filter(|entry| entry.expires_at > now)
                .map(|entry| {
                    // Whole seconds left, at least 1 (0 would read as "unspecified").
                    let left = now.until(entry.expires_at).secs().max(1);
                    (
                        entry.nbma,
                        entry.mtu,
                        u16::try_from(left).unwrap_or(u16::MAX),
                        entry.unique,
                    )
                })
        };
        let (hub_nbma, hub_tunnel) = (self.config.nbma.octets(), self.config.tunnel.octets());
        let nbma = found.map(|(nbma, ..)| nbma.octets());
        let cie = match (found, &nbma) {
            (Some((_, mtu, holding_time, _)), Some(nbma)) => nhrp::cie::Repr {
                code: CieCode::SUCCESS,
                prefix_len: 32,
                mtu,
                holding_time,
                nbma: nhrp::NbmaAddress::nsap(nbma),
                proto: msg.dst_proto,
                ..nhrp::cie::Repr::default()
            },
            _ => nhrp::cie::Repr {
                code: CieCode::NO_BINDING_EXISTS,
                prefix_len: 32,
                proto: msg.dst_proto,
                ..nhrp::cie::Repr::default()
            },
        };
        let code = cie.code;
        let cies = [cie];
        let mut flags = control
            .flags
            .union(Flags::RESOLUTION_AUTHORITATIVE)
            .union(Flags::RESOLUTION_DESTINATION_STABLE);
        if found.is_some_and(|(.., unique)| unique) {
            flags = flags.union(Flags::RESOLUTION_UNIQUE);
        }
        let responder = [self.responder_cie(&hub_nbma, &hub_tunnel)];
        let nat: Vec<_> = msg
            .extensions
            .and_then(|e| e.find(nhrp::ExtensionType::CISCO_NAT_ADDRESS))
            .and_then(|ext| ext.value.cies())
            .map(|cies| cies.iter().collect())
            .unwrap_or_default();
        let exts = self.reply_extensions(msg, &responder, &nat);
        let reply = nhrp::Repr {
            hop_count: self.config.hop_count,
            message: Message::ResolutionReply(nhrp::Control {
                flags,
                request_id: control.request_id,
                cies: nhrp::CieList::new(&cies),
            }),
            extensions: Some(nhrp::ExtensionList::new(&exts)),
            ..*msg
        };
        self.transmits
            .push_back(Transmit::new(from, crate::Nhrp, emit(&reply)));
        self.events
            .push_back(ServerEvent::Resolved { target, code });
        Ok(())
    }

    fn handle_purge(
        &mut self,
        from: Ipv4Addr,
        msg: &nhrp::Repr<'_>,
        control: &nhrp::Control<'_>,
    ) -> Result<(), Error> {
        let src_proto = ipv4(msg.src_proto, "source protocol address")?;
        let mut targets: Vec<Ipv4Addr> = Vec::new();
        for cie in control.cies.iter() {
            targets.push(if cie.proto.is_empty() {
                src_proto
            } else {
                ipv4(cie.proto, "cie client protocol address")?
            });
        }
        if targets.is_empty() {
            targets.push(src_proto);
        }
        for tunnel in targets {
            // A spoke may only purge what it registered itself.
            if self
                .cache
                .get(&tunnel)
                .is_some_and(|entry| entry.nbma == from)
            {
                self.remove(tunnel);
            }
        }
        if !control.flags.contains(Flags::PURGE_NO_REPLY) {
            let (hub_nbma, hub_tunnel) = (self.config.nbma.octets(), self.config.tunnel.octets());
            let responder = [self.responder_cie(&hub_nbma, &hub_tunnel)];
            let exts = self.reply_extensions(msg, &responder, &[]);
            let reply = nhrp::Repr {
                hop_count: self.config.hop_count,
                message: Message::PurgeReply(*control),
                extensions: Some(nhrp::ExtensionList::new(&exts)),
                ..*msg
            };
            self.transmits
                .push_back(Transmit::new(from, crate::Nhrp, emit(&reply)));
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::nhrp::{Client, ClientConfig, Nhs};

    const HUB_NBMA: Ipv4Addr = Ipv4Addr::new(192, 0, 2, 1);
    const HUB_TUNNEL: Ipv4Addr = Ipv4Addr::new(10, 0, 0, 1);

    fn request(tunnel: Ipv4Addr, nbma: Ipv4Addr, holding_time: u16) -> Vec<u8> {
        let mut config = ClientConfig::new(
            tunnel,
            nbma,
            vec![Nhs {
                tunnel: HUB_TUNNEL,
                nbma: HUB_NBMA,
            }],
        );
        config.holding_time = holding_time;
        let mut client = Client::new(config, Instant::ZERO, 5);
        client.poll_transmit().unwrap().bytes
    }

    #[test]
    fn cache_expiry_is_exact() {
        let mut hub = Server::new(ServerConfig::new(HUB_TUNNEL, HUB_NBMA), 1);
        assert_eq!(hub.poll_timeout(), None);
        for (n, hold) in [(2u8, 30u16), (3, 10), (4, 20)] {
            let nbma = Ipv4Addr::new(192, 0, 2, n);
            let bytes = request(Ipv4Addr::new(10, 0, 0, n), nbma, hold);
            hub.handle_message(Instant::ZERO, nbma, &nhrp::parse(&bytes).unwrap())
                .unwrap();
        }
        assert_eq!(hub.len(), 3);
        assert_eq!(hub.poll_timeout(), Some(Instant::from_secs(10)));
        hub.handle_timeout(Instant::from_micros(9_999_999));
        assert_eq!(hub.len(), 3);
        hub.handle_timeout(Instant::from_secs(25));
        let expired: Vec<_> = core::iter::from_fn(|| hub.poll_event())
            .filter_map(|e| match e {
                ServerEvent::Expired { tunnel, .. } => Some(tunnel.octets()[3]),
                _ => None,
            })
            .collect();
        assert_eq!(expired, [3, 4]);
        assert_eq!(hub.poll_timeout(), Some(Instant::from_secs(30)));
        assert_eq!(
            hub.registrations().map(|r| r.tunnel).collect::<Vec<_>>(),
            [Ipv4Addr::new(10, 0, 0, 2)]
        );
    }

    #[test]
    fn refused_requests() {
        let mut hub = Server::new(ServerConfig::new(HUB_TUNNEL, HUB_NBMA), 1);
        let nbma = Ipv4Addr::new(192, 0, 2, 2);
        let bytes = request(Ipv4Addr::new(10, 0, 0, 2), nbma, 60);
        let repr = nhrp::parse(&bytes).unwrap();
        // Addressed to another NHS.
        let other = [10, 0, 0, 9];
        let elsewhere = nhrp::Repr {
            dst_proto: &other,
            ..repr
        };
        assert_eq!(
            hub.handle_message(Instant::ZERO, nbma, &elsewhere),
            Err(Error::NotForUs)
        );
        // IPv6 NBMA.
        let v6 = nhrp::Repr {
            afn: nhrp::AddressFamily::IPV6,
            ..repr
        };
        assert!(matches!(
            hub.handle_message(Instant::ZERO, nbma, &v6),
            Err(Error::UnsupportedFamily { .. })
        ));
        // A reply at a server; an Error Indication is taken and never answered.
        let reply = nhrp::Repr {
            message: Message::RegistrationReply(*repr.message.control().unwrap()),
            ..repr
        };
        assert_eq!(
            hub.handle_message(Instant::ZERO, nbma, &reply),
            Err(Error::UnexpectedMessage {
                op: nhrp::OpType::REGISTRATION_REPLY
            })
        );
        let indication = nhrp::Repr {
            message: Message::ErrorIndication(nhrp::ErrorIndication {
                code: ErrorCode::PROTOCOL_ERROR,
                offset: 0,
                packet: &bytes,
            }),
            extensions: None,
            ..repr
        };
        assert_eq!(hub.handle_message(Instant::ZERO, nbma, &indication), Ok(()));
        assert_eq!(hub.poll_transmit(), None);
        assert_eq!(
            hub.poll_event(),
            Some(ServerEvent::ErrorIndicationReceived {
                from: nbma,
                code: ErrorCode::PROTOCOL_ERROR
            })
        );
        assert!(hub.is_empty());
        // A Purge Reply to no purge of ours.
        let purge_reply = nhrp::Repr {
            message: Message::PurgeReply(*repr.message.control().unwrap()),
            ..repr
        };
        assert_eq!(
            hub.handle_message(Instant::ZERO, nbma, &purge_reply),
            Err(Error::UnknownRequest { request_id: 5 })
        );
    }
}
