//! IKE_SA_INIT (RFC 7296 §1.2): proposals, Diffie-Hellman, nonces, NAT detection, cookies
//! (§2.6) and INVALID_KE_PAYLOAD retries (§1.3), and the IKE SA's keys (§2.14).

use alloc::vec::Vec;
use core::net::Ipv4Addr;

use dmvpn_isakmp::consts::Group;
use dmvpn_isakmp::keys::Prf;
use dmvpn_isakmp::v2::consts::{NotifyType, ProtocolId, TransformType};
use dmvpn_isakmp::v2::crypto::{Encryption, Integrity};
use dmvpn_isakmp::v2::keys::IkeKeys;
use dmvpn_isakmp::v2::{ExchangeType, Header, PayloadType};
use subtle::ConstantTimeEq;

use super::endpoint::{FLAG_I, FLAG_R, IkeSa, Kind, State};
use super::wire::{
    Chain, Offered, Received, Transform, encryption_transform, group_transform, header,
    integrity_transform, nat_hash, plain, prf_transform, sa_body,
};
use super::{Config, Endpoint, Entropy, Error, Event, Failure};
use crate::ike::Purpose;
use crate::time::Instant;

/// The algorithms of one IKE SA.
#[derive(Clone, Copy, Debug, Eq, PartialEq)]
pub(super) struct Suite {
    pub encryption: Encryption,
    pub integrity: Integrity,
    pub prf: Prf,
    pub group: Group,
}

impl Suite {
    /// The IKE SA's keys from SKEYSEED.
    pub(super) fn keys(
        self,
        skeyseed: &dmvpn_isakmp::keys::Secret,
        ni: &[u8],
        nr: &[u8],
        spi_i: [u8; 8],
        spi_r: [u8; 8],
    ) -> IkeKeys {
        IkeKeys::from_skeyseed(
            self.prf,
            self.encryption,
            self.integrity,
            skeyseed,
            ni,
            nr,
            spi_i,
            spi_r,
        )
    }

    pub(super) fn transforms(self) -> Vec<Transform> {
        [
            encryption_transform(self.encryption),
            Some(prf_transform(self.prf)),
            integrity_transform(self.integrity),
            Some(group_transform(self.group)),
        ]
        .into_iter()
        .flatten()
        .collect()
    }
}

/// The transforms of every configured proposal, one proposal each.
pub(super) fn our_proposals(config: &Config) -> Vec<Vec<Transform>> {
    config
        .proposals
        .iter()
        .map(|p| {
            let mut t: Vec<Transform> = p
                .encryption
                .iter()
                .filter_map(|&e| encryption_transform(e))
                .collect();
            t.extend(p.prf.iter().map(|&f| prf_transform(f)));
            t.extend(p.integrity.iter().filter_map(|&i| integrity_transform(i)));
            t.extend(p.groups.iter().map(|&g| group_transform(g)));
            t
        })
        .collect()
}

/// The responder's choice (§2.7): the first offered proposal one of ours accepts, and in it the
/// first offered algorithm of each kind we accept; the group is the one of the KE payload
/// (`ke`) when acceptable. Returns the offered proposal's number and the suite.
pub(super) fn choose(
    config: &Config,
    offers: &[Offered],
    ke: Option<Group>,
) -> Option<(u8, Suite)> {
    for offer in offers {
        for local in &config.proposals {
            let encryption = pick(offer, &local.encryption, |&e| encryption_transform(e));
            let integrity = pick(offer, &local.integrity, |&i| integrity_transform(i));
            let prf = pick(offer, &local.prf, |&f| Some(prf_transform(f)));
            let groups: Vec<Group> = offer
                .of_type(TransformType::KE)
                .map(|t| Group(t.1))
                .filter(|g| local.groups.contains(g))
                .collect();
            let group = ke
                .filter(|g| groups.contains(g))
                .or_else(|| groups.first().copied());
            if let (Some(encryption), Some(integrity), Some(prf), Some(group)) =
                (encryption, integrity, prf, group)
            {
                let suite = Suite {
                    encryption,
                    integrity,
                    prf,
                    group,
                };
                return Some((offer.number, suite));
            }
        }
    }
    None
}

/// Of our algorithms `ours`, the one whose transform (`transform`) `offer` lists first.
fn pick<T: Copy>(
    offer: &Offered,
    ours: &[T],
    transform: impl Fn(&T) -> Option<Transform>,
) -> Option<T> {
    offer.transforms.iter().find_map(|&offered| {
        ours.iter()
            .copied()
            .find(|ours| transform(ours) == Some(offered))
    })
}

/// Maps the responder's single chosen proposal back to one of ours.
pub(super) fn accepted(config: &Config, chosen: &Offered) -> Option<Suite> {
    let suite = choose(config, core::slice::from_ref(chosen), None)?;
    // Every transform type must be there exactly once, and be ours.
    (chosen.transforms.len() == suite.1.transforms().len()).then_some(suite.1)
}

impl<E: Entropy> Endpoint<E> {
    /// Starts an IKE SA with `peer` (the SPD found GRE to it without an SA). Nothing happens if
    /// one exists or is being set up.
    ///
    /// # Errors
    /// [`Error::EmptyConfig`], [`Error::NoPresharedKey`], [`Error::Limit`], or a
    /// Diffie-Hellman error for an unsupported group.
    pub fn connect(&mut self, now: Instant, peer: Ipv4Addr) -> Result<(), Error> {
        if self
            .sas
            .iter()
            .any(|sa| sa.peer == peer && sa.state != State::Closing)
        {
            return Ok(());
        }
        if self.config.transform_sets.is_empty() {
            return Err(Error::EmptyConfig {
                what: "transform sets",
            });
        }
        let Some(group) = self
            .config
            .proposals
            .first()
            .and_then(|p| p.groups.first().copied())
        else {
            return Err(Error::EmptyConfig { what: "proposals" });
        };
        let Some(psk) = self.config.psk(peer).cloned() else {
            self.events.push_back(Event::Failed {
                peer,
                reason: Failure::NoPresharedKey,
            });
            return Err(Error::NoPresharedKey { peer });
        };
        if self.sas.len() >= self.config.limits.sas {
            return Err(Error::Limit { peer });
        }
        let spi_i = loop {
            let spi: [u8; 8] = self.random(Purpose::Cookie);
            if spi != [0; 8] {
                break spi;
            }
        };
        let mut sa = IkeSa::new(peer, true, spi_i, now);
        sa.psk = Some(psk);
        sa.ni = self.nonce();
        sa.group = group;
        sa.dh = Some(self.entropy.key_exchange(group)?);
        self.insert_sa(sa);
        self.send_init(now, self.sas.len() - 1);
        Ok(())
    }

    /// (Re)sends our IKE_SA_INIT request: message ID 0, with the cookie if we have one.
    fn send_init(&mut self, now: Instant, i: usize) {
        let local = self.config.local;
        let proposals = our_proposals(&self.config);
        let sa = &mut self.sas[i];
        let mut chain = Chain::default();
        if let Some(cookie) = &sa.cookie {
            chain.notify(ProtocolId::NONE, &[], NotifyType::COOKIE, cookie);
        }
        chain.push(PayloadType::SA, &sa_body(ProtocolId::IKE, &[], &proposals));
        if let Some(dh) = &sa.dh {
            chain.ke(dh.group(), dh.public_value());
        }
        chain.push(PayloadType::NONCE, &sa.ni);
        chain.nat_detection(sa.spi_i, [0; 8], local, sa.peer);
        let bytes = plain(
            header(sa.spi_i, [0; 8], ExchangeType::IKE_SA_INIT, FLAG_I, 0),
            &chain,
        );
        sa.init_sent.clone_from(&bytes);
        sa.next_id = 0;
        sa.state = State::InitSent;
        self.start_request(now, i, bytes, Kind::Init);
    }

    /// Fails SA `i` for `reason`, removing it.
    pub(super) fn fail(&mut self, i: usize, reason: Failure) {
        let peer = self.sas[i].peer;
        self.sas.swap_remove(i);
        self.events.push_back(Event::Failed { peer, reason });
    }

    /// The initiator reads the IKE_SA_INIT response.
    pub(super) fn init_response(
        &mut self,
        now: Instant,
        from: Ipv4Addr,
        h: &Header,
        received: &Received,
        bytes: &[u8],
    ) -> Result<(), Error> {
        let Some(i) = self.sas.iter().position(|sa| {
            sa.peer == from && sa.spi_i == h.initiator_spi && sa.state == State::InitSent
        }) else {
            return Err(Error::UnknownSa {
                peer: from,
                initiator_spi: u64::from_be_bytes(h.initiator_spi),
            });
        };
        if h.message_id != 0 {
            return Err(Error::MessageId {
                peer: from,
                message_id: h.message_id,
                expected: 0,
            });
        }
        if let Some(cookie) = received.notify(NotifyType::COOKIE) {
            self.sas[i].cookie = Some(cookie.data.to_vec());
            self.send_init(now, i);
            return Ok(());
        }
        if let Some(n) = received.notify(NotifyType::INVALID_KE_PAYLOAD) {
            let asked = n
                .data
                .get(..2)
                .map(|b| Group(u16::from_be_bytes([b[0], b[1]])));
            let offered = self
                .config
                .proposals
                .iter()
                .any(|p| asked.is_some_and(|g| p.groups.contains(&g)));
            match asked {
                Some(group) if offered && group != self.sas[i].group => {
                    self.sas[i].group = group;
                    self.sas[i].dh = Some(self.entropy.key_exchange(group)?);
                    self.send_init(now, i);
                    return Ok(());
                }
                _ => {
                    self.fail(i, Failure::NoProposalChosen);
                    return Err(Error::NoProposalChosen { peer: from });
                }
            }
        }
        if let Some(error) = received.error() {
            let reason = if error == NotifyType::NO_PROPOSAL_CHOSEN {
                Failure::NoProposalChosen
            } else {
                Failure::Notified(error)
            };
            self.fail(i, reason);
            return Err(if reason == Failure::NoProposalChosen {
                Error::NoProposalChosen { peer: from }
            } else {
                Error::Unexpected {
                    peer: from,
                    exchange: ExchangeType::IKE_SA_INIT,
                    state: "init-sent",
                }
            });
        }
        let exchange = ExchangeType::IKE_SA_INIT;
        received.require(PayloadType::SA, from, exchange)?;
        let nr = received.require(PayloadType::NONCE, from, exchange)?;
        let ke = received.require_ke(from, exchange)?;
        let offers = received.offers(ProtocolId::IKE)?;
        let suite = match offers.as_slice() {
            [chosen] => accepted(&self.config, chosen),
            _ => None,
        };
        let Some(suite) = suite.filter(|s| s.group == self.sas[i].group && ke.group.0 == s.group.0)
        else {
            self.fail(i, Failure::NoProposalChosen);
            return Err(Error::BadProposalChoice { peer: from });
        };
        let local = self.config.local;
        let sa = &mut self.sas[i];
        sa.spi_r = h.responder_spi;
        sa.nat_detected = nat_mismatch(received, sa.spi_i, sa.spi_r, from, local);
        let Some(dh) = &sa.dh else {
            return Err(Error::NotEstablished { peer: from });
        };
        let shared = dh.shared_secret(ke.data)?;
        sa.nr = nr.to_vec();
        sa.init_received = bytes.to_vec();
        let skeyseed = IkeKeys::skeyseed(suite.prf, &sa.ni, &sa.nr, shared.as_bytes());
        let keys = suite.keys(&skeyseed, &sa.ni, &sa.nr, sa.spi_i, sa.spi_r);
        let keyed = keyed(from, &keys);
        sa.keys = Some(keys);
        sa.suite = Some(suite);
        sa.outstanding = None;
        self.events.push_back(keyed);
        self.send_auth(now, i)
    }

    /// The responder answers an IKE_SA_INIT request.
    pub(super) fn init_request(
        &mut self,
        now: Instant,
        (from, h): (Ipv4Addr, &Header),
        received: &Received,
        bytes: &[u8],
    ) -> Result<(), Error> {
        if h.message_id != 0 || h.responder_spi != [0; 8] {
            return Err(Error::MessageId {
                peer: from,
                message_id: h.message_id,
                expected: 0,
            });
        }
        // A retransmission of a request we answered: the same answer.
        if let Some(sa) = self
            .sas
            .iter()
            .find(|sa| sa.peer == from && sa.spi_i == h.initiator_spi && !sa.initiator)
        {
            if let (State::HalfOpen { .. }, Some((0, cached))) = (sa.state, &sa.cached) {
                self.transmits
                    .push_back(super::Transmit::new(from, crate::Ike, cached.clone()));
            }
            return Ok(());
        }
        let exchange = ExchangeType::IKE_SA_INIT;
        let ni = received.require(PayloadType::NONCE, from, exchange)?;
        let half_open = self.make_room(from)?;
        if half_open >= self.config.cookie_threshold {
            let expected = self.cookie(ni, from, h.initiator_spi);
            let good = received
                .notify(NotifyType::COOKIE)
                .is_some_and(|c| bool::from(c.data.ct_eq(&expected)));
            if !good {
                let mut chain = Chain::default();
                chain.notify(ProtocolId::NONE, &[], NotifyType::COOKIE, &expected);
                self.send_plain(from, h.initiator_spi, [0; 8], &chain);
                return Ok(());
            }
        }
        received.require(PayloadType::SA, from, exchange)?;
        let ke = received.require_ke(from, exchange)?;
        let offers = received.offers(ProtocolId::IKE)?;
        let Some((number, suite)) = choose(&self.config, &offers, Some(Group(ke.group.0))) else {
            let mut chain = Chain::default();
            chain.notify(ProtocolId::NONE, &[], NotifyType::NO_PROPOSAL_CHOSEN, &[]);
            self.send_plain(from, h.initiator_spi, [0; 8], &chain);
            self.events.push_back(Event::Failed {
                peer: from,
                reason: Failure::NoProposalChosen,
            });
            return Err(Error::NoProposalChosen { peer: from });
        };
        if ke.group.0 != suite.group.0 {
            let mut chain = Chain::default();
            let data = suite.group.0.to_be_bytes();
            chain.notify(ProtocolId::NONE, &[], NotifyType::INVALID_KE_PAYLOAD, &data);
            self.send_plain(from, h.initiator_spi, [0; 8], &chain);
            return Ok(());
        }
        let dh = self.entropy.key_exchange(suite.group)?;
        let shared = dh.shared_secret(ke.data)?;
        let spi_r = loop {
            let spi: [u8; 8] = self.random(Purpose::Cookie);
            if spi != [0; 8] {
                break spi;
            }
        };
        let nr = self.nonce();
        let local = self.config.local;
        let mut sa = IkeSa::new(from, false, h.initiator_spi, now);
        sa.spi_r = spi_r;
        sa.nat_detected = nat_mismatch(received, h.initiator_spi, [0; 8], from, local);
        sa.psk = self.config.psk(from).cloned();
        sa.ni = ni.to_vec();
        let skeyseed = IkeKeys::skeyseed(suite.prf, ni, &nr, shared.as_bytes());
        let keys = suite.keys(&skeyseed, ni, &nr, h.initiator_spi, spi_r);
        self.events.push_back(keyed(from, &keys));
        sa.keys = Some(keys);
        let mut chain = Chain::default();
        let mut transforms = suite.transforms();
        transforms.sort_by_key(|t| t.0.0);
        let mut body = sa_body(ProtocolId::IKE, &[], &[transforms]);
        // The proposal keeps the number the initiator gave it (§3.3.1).
        if let Some(n) = body.get_mut(4) {
            *n = number;
        }
        chain.push(PayloadType::SA, &body);
        chain.ke(suite.group, dh.public_value());
        chain.push(PayloadType::NONCE, &nr);
        chain.nat_detection(h.initiator_spi, spi_r, local, from);
        let response = plain(
            header(h.initiator_spi, spi_r, ExchangeType::IKE_SA_INIT, FLAG_R, 0),
            &chain,
        );
        sa.nr = nr;
        sa.suite = Some(suite);
        sa.group = suite.group;
        sa.init_received = bytes.to_vec();
        sa.init_sent.clone_from(&response);
        sa.state = State::HalfOpen {
            expires: now + self.config.half_open_timeout,
        };
        sa.peer_next_id = 1;
        sa.cached = Some((0, response.clone()));
        self.insert_sa(sa);
        self.transmits
            .push_back(super::Transmit::new(from, crate::Ike, response));
        Ok(())
    }

    /// Enforces the half-open limits before a new responder SA from `peer`: the peer's oldest
    /// half-open SA goes when it has too many; returns the half-open count.
    fn make_room(&mut self, peer: Ipv4Addr) -> Result<usize, Error> {
        let half_open = |sa: &IkeSa| matches!(sa.state, State::HalfOpen { .. });
        let of_peer: Vec<usize> = (0..self.sas.len())
            .filter(|&i| self.sas[i].peer == peer && half_open(&self.sas[i]))
            .collect();
        if of_peer.len() >= self.config.limits.half_open_per_peer
            && let Some(&oldest) = of_peer.first()
        {
            self.sas.remove(oldest);
        }
        let count = self.sas.iter().filter(|sa| half_open(sa)).count();
        if count >= self.config.limits.half_open || self.sas.len() >= self.config.limits.sas {
            return Err(Error::Limit { peer });
        }
        Ok(count)
    }

    /// The cookie for an initiator (§2.6): a version byte and a keyed hash of Ni, its address
    /// and its SPI.
    fn cookie(&self, ni: &[u8], from: Ipv4Addr, spi_i: [u8; 8]) -> Vec<u8> {
        let mac = Prf::HmacSha256.compute(&self.cookie_secret, &[ni, &from.octets(), &spi_i]);
        let mut out = alloc::vec![0u8];
        out.extend_from_slice(mac.as_bytes().get(..16).unwrap_or_default());
        out
    }

    /// Sends an unencrypted IKE_SA_INIT response (a notification) with no state kept.
    fn send_plain(&mut self, to: Ipv4Addr, spi_i: [u8; 8], spi_r: [u8; 8], chain: &Chain) {
        let bytes = plain(
            header(spi_i, spi_r, ExchangeType::IKE_SA_INIT, FLAG_R, 0),
            chain,
        );
        self.transmits
            .push_back(super::Transmit::new(to, crate::Ike, bytes));
    }
}

/// Whether the NAT_DETECTION notifications (present) differ from our addresses (§2.23).
fn nat_mismatch(
    received: &Received,
    spi_i: [u8; 8],
    spi_r: [u8; 8],
    from: Ipv4Addr,
    local: Ipv4Addr,
) -> bool {
    let differs = |ty, ip| {
        received
            .notify(ty)
            .is_some_and(|n| n.data != nat_hash(spi_i, spi_r, ip).as_slice())
    };
    differs(NotifyType::NAT_DETECTION_SOURCE_IP, from)
        || differs(NotifyType::NAT_DETECTION_DESTINATION_IP, local)
}

/// The [`Event::Keyed`] of a new IKE SA's keys.
fn keyed(peer: Ipv4Addr, keys: &IkeKeys) -> Event {
    Event::Keyed {
        peer,
        keys: keys.sa_keys.clone(),
        prf_keys: super::PrfKeys::of(keys),
    }
}
