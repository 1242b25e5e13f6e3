//! CREATE_CHILD_SA (RFC 7296 §1.3): rekeying a Child SA (§1.3.3, with or without PFS) and the
//! IKE SA (§1.3.2, §2.18), and simultaneous Child SA rekeys (§2.8.1).

use dmvpn_isakmp::consts::Group;
use dmvpn_isakmp::v2::consts::{NotifyType, ProtocolId};
use dmvpn_isakmp::v2::keys::IkeKeys;
use dmvpn_isakmp::v2::{ExchangeType, PayloadType};

use super::auth::esp_sa;
use super::endpoint::{IkeSa, Kind, Queued, State};
use super::sa_init::{Suite, accepted, choose};
use super::wire::{Chain, Received, sa_body};
use super::{Endpoint, Entropy, Error, Event, KeyExchange};
use crate::ike::Purpose;
use crate::time::{Duration, Instant};

/// Wait before retrying a rekey the peer refused (TEMPORARY_FAILURE, §2.25).
const RETRY: Duration = Duration::from_secs(10);

impl<E: Entropy> Endpoint<E> {
    /// Sends CREATE_CHILD_SA rekeying our Child SA `old_inbound` on SA `i`.
    pub(super) fn start_rekey_child(
        &mut self,
        now: Instant,
        i: usize,
        old_inbound: u32,
    ) -> Result<(), Error> {
        let peer = self.sas[i].peer;
        let Some(child) = self.sas[i].child(old_inbound) else {
            return Err(Error::UnknownChild {
                peer,
                spi: old_inbound,
            });
        };
        child.rekeying = true;
        let set = child.sa.transform_set;
        let new_inbound = self.spi();
        let ni = self.nonce();
        let pfs = self.config.pfs;
        let dh = pfs.map(|g| self.entropy.key_exchange(g)).transpose()?;
        let mut chain = Chain::default();
        chain.notify(
            ProtocolId::ESP,
            &old_inbound.to_be_bytes(),
            NotifyType::REKEY_SA,
            &[],
        );
        chain.notify(ProtocolId::NONE, &[], NotifyType::USE_TRANSPORT_MODE, &[]);
        chain.push(PayloadType::SA, &esp_sa(&[set], new_inbound, pfs));
        chain.push(PayloadType::NONCE, &ni);
        if let Some(dh) = &dh {
            chain.ke(dh.group(), dh.public_value());
        }
        chain.gre_selectors(self.config.local, peer);
        let kind = Kind::RekeyChild {
            old_inbound,
            new_inbound,
            ni,
            dh,
        };
        self.send_request(now, i, ExchangeType::CREATE_CHILD_SA, &chain, kind)
    }

    /// Sends CREATE_CHILD_SA rekeying IKE SA `i` itself.
    pub(super) fn start_rekey_ike(&mut self, now: Instant, i: usize) -> Result<(), Error> {
        let peer = self.sas[i].peer;
        let Some(suite) = self.sas[i].suite else {
            return Err(Error::NotEstablished { peer });
        };
        let new_spi_i: [u8; 8] = self.random(Purpose::Cookie);
        let ni = self.nonce();
        let dh = self.entropy.key_exchange(suite.group)?;
        let chain = ike_rekey_chain(&new_spi_i, suite, &ni, &dh);
        self.send_request(
            now,
            i,
            ExchangeType::CREATE_CHILD_SA,
            &chain,
            Kind::RekeyIke { new_spi_i, ni, dh },
        )
    }

    /// The responder's side of CREATE_CHILD_SA.
    pub(super) fn create_child_request(
        &mut self,
        now: Instant,
        (i, message_id): (usize, u32),
        received: &Received,
    ) -> Result<(), Error> {
        let peer = self.sas[i].peer;
        let local = self.config.local;
        let exchange = ExchangeType::CREATE_CHILD_SA;
        received.require(PayloadType::SA, peer, exchange)?;
        let ni = received
            .require(PayloadType::NONCE, peer, exchange)?
            .to_vec();
        let refuse = |this: &mut Self, ty: NotifyType| -> Result<(), Error> {
            let mut chain = Chain::default();
            chain.notify(ProtocolId::NONE, &[], ty, &[]);
            this.respond(i, ExchangeType::CREATE_CHILD_SA, message_id, &chain)
        };
        let ike_offers = received.offers(ProtocolId::IKE)?;
        if !ike_offers.is_empty() {
            return self.rekey_ike_request(now, i, message_id, received, &ni, &ike_offers);
        }
        // A Child SA, new or replacing the one REKEY_SA names (by its SPI at the peer, our
        // outbound SPI).
        let old = received
            .notify(NotifyType::REKEY_SA)
            .and_then(|n| <[u8; 4]>::try_from(n.spi).ok())
            .map(u32::from_be_bytes);
        let old_inbound = match old {
            Some(spi) => {
                let found = self.sas[i]
                    .children
                    .iter()
                    .find(|c| c.sa.outbound.spi == spi)
                    .map(|c| c.sa.inbound.spi);
                match found {
                    Some(inbound) => Some(inbound),
                    None => return refuse(self, NotifyType::CHILD_SA_NOT_FOUND),
                }
            }
            None => None,
        };
        let ke = received.ke();
        let pfs = match (ke, self.config.pfs) {
            (Some(ke), _) => Some(Group(ke.group.0)),
            (None, Some(_)) => return refuse(self, NotifyType::NO_PROPOSAL_CHOSEN),
            (None, None) => None,
        };
        let (set, outbound, group) = match self.child_response(received, pfs, peer, local) {
            Ok(chosen) => chosen,
            Err(ty) => return refuse(self, ty),
        };
        let (dh, shared) = match (group, ke) {
            (Some(g), Some(ke)) => {
                let dh = self.entropy.key_exchange(g)?;
                let shared = dh.shared_secret(ke.data)?;
                (Some(dh), Some((g, shared)))
            }
            _ => (None, None),
        };
        let inbound = self.spi();
        let nr = self.nonce();
        let mut chain = Chain::default();
        chain.notify(ProtocolId::NONE, &[], NotifyType::USE_TRANSPORT_MODE, &[]);
        chain.push(PayloadType::SA, &esp_sa(&[set], inbound, group));
        chain.push(PayloadType::NONCE, &nr);
        if let Some(dh) = &dh {
            chain.ke(dh.group(), dh.public_value());
        }
        chain.gre_selectors(peer, local);
        self.respond(i, ExchangeType::CREATE_CHILD_SA, message_id, &chain)?;
        let pfs = shared.as_ref().map(|(g, s)| (*g, s));
        self.add_child(
            now,
            i,
            false,
            set,
            (inbound, outbound),
            pfs,
            &ni,
            &nr,
            message_id,
        );
        if let Some(old) = old_inbound.and_then(|spi| self.sas[i].child(spi)) {
            old.peer_rekey = Some((inbound, ni, nr));
        }
        Ok(())
    }

    /// Our Child SA rekey was answered.
    #[allow(clippy::too_many_arguments)]
    pub(super) fn rekey_child_response(
        &mut self,
        now: Instant,
        i: usize,
        old_inbound: u32,
        new_inbound: u32,
        ni: &[u8],
        dh: Option<KeyExchange>,
        received: &Received,
    ) -> Result<(), Error> {
        let peer = self.sas[i].peer;
        let local = self.config.local;
        let retry = |this: &mut Self| {
            if let Some(child) = this.sas[i].child(old_inbound) {
                child.rekeying = false;
                child.rekey_at = now + RETRY;
            }
        };
        if let Some(error) = received.error() {
            retry(self);
            self.failed(peer, error);
            return Ok(());
        }
        let offers = received.offers(ProtocolId::ESP)?;
        let group = dh.as_ref().map(KeyExchange::group);
        let chosen = match offers.as_slice() {
            [one] => super::auth::choose_esp(&self.config, core::slice::from_ref(one), group),
            _ => None,
        };
        let nr = received.get(PayloadType::NONCE);
        let (Some((set, outbound, _)), Some(nr)) =
            (chosen.filter(|_| received.selects_gre(local, peer)), nr)
        else {
            retry(self);
            return Err(Error::BadProposalChoice { peer });
        };
        let nr = nr.to_vec();
        let shared = match &dh {
            Some(dh) => {
                let ke = received.ke().ok_or(Error::MissingPayload {
                    payload: PayloadType::KE,
                    exchange: ExchangeType::CREATE_CHILD_SA,
                    peer,
                })?;
                Some((dh.group(), dh.shared_secret(ke.data)?))
            }
            None => None,
        };
        let message_id = self.sas[i].next_id.wrapping_sub(1);
        let pfs = shared.as_ref().map(|(g, s)| (*g, s));
        self.add_child(
            now,
            i,
            true,
            set,
            (new_inbound, outbound),
            pfs,
            ni,
            &nr,
            message_id,
        );
        // §2.8.1: if the peer rekeyed the same SA meanwhile, the exchange with the lowest nonce
        // loses: its initiator deletes what it created; the winner deletes the old SA.
        let peer_rekey = self.sas[i]
            .child(old_inbound)
            .and_then(|c| c.peer_rekey.clone());
        let delete = match peer_rekey {
            Some((_, peer_ni, peer_nr)) => {
                let ours = core::cmp::min(ni, nr.as_slice());
                let theirs = core::cmp::min(peer_ni.as_slice(), peer_nr.as_slice());
                if ours < theirs {
                    new_inbound
                } else {
                    old_inbound
                }
            }
            None => old_inbound,
        };
        if let Some(child) = self.sas[i].child(old_inbound) {
            child.rekeying = false;
        }
        self.sas[i].queue.push_front(Queued::DeleteChild(delete));
        Ok(())
    }

    /// The peer rekeys IKE SA `i`.
    fn rekey_ike_request(
        &mut self,
        now: Instant,
        i: usize,
        message_id: u32,
        received: &Received,
        ni: &[u8],
        offers: &[super::wire::Offered],
    ) -> Result<(), Error> {
        let peer = self.sas[i].peer;
        let ke = received.ke();
        let chosen = choose(&self.config, offers, ke.map(|k| Group(k.group.0)));
        let (Some((_, suite)), Some(ke), Some(old)) = (chosen, ke, self.sas[i].keys.clone()) else {
            let mut chain = Chain::default();
            chain.notify(ProtocolId::NONE, &[], NotifyType::NO_PROPOSAL_CHOSEN, &[]);
            return self.respond(i, ExchangeType::CREATE_CHILD_SA, message_id, &chain);
        };
        let Some(spi_i) = offers
            .iter()
            .find_map(|o| <[u8; 8]>::try_from(o.spi.as_slice()).ok())
        else {
            return Err(Error::BadProposalChoice { peer });
        };
        if ke.group.0 != suite.group.0 {
            let mut chain = Chain::default();
            let data = suite.group.0.to_be_bytes();
            chain.notify(ProtocolId::NONE, &[], NotifyType::INVALID_KE_PAYLOAD, &data);
            return self.respond(i, ExchangeType::CREATE_CHILD_SA, message_id, &chain);
        }
        let dh = self.entropy.key_exchange(suite.group)?;
        let shared = dh.shared_secret(ke.data)?;
        let spi_r: [u8; 8] = self.random(Purpose::Cookie);
        let nr = self.nonce();
        let chain = ike_rekey_chain(&spi_r, suite, &nr, &dh);
        self.respond(i, ExchangeType::CREATE_CHILD_SA, message_id, &chain)?;
        let skeyseed = old.rekey_skeyseed(shared.as_bytes(), ni, &nr);
        let keys = suite.keys(&skeyseed, ni, &nr, spi_i, spi_r);
        self.replace_ike(now, i, false, keys, suite, ni, &nr);
        Ok(())
    }

    /// Our IKE SA rekey was answered.
    pub(super) fn rekey_ike_response(
        &mut self,
        now: Instant,
        i: usize,
        new_spi_i: [u8; 8],
        ni: &[u8],
        dh: &KeyExchange,
        received: &Received,
    ) -> Result<(), Error> {
        let peer = self.sas[i].peer;
        if let Some(error) = received.error() {
            if let State::Established { dpd_at, .. } = self.sas[i].state {
                self.sas[i].state = State::Established {
                    rekey_at: now + RETRY,
                    dpd_at,
                };
            }
            self.failed(peer, error);
            return Ok(());
        }
        let offers = received.offers(ProtocolId::IKE)?;
        let chosen = match offers.as_slice() {
            [one] => accepted(&self.config, one).map(|s| (s, one.spi.clone())),
            _ => None,
        };
        let (Some((suite, spi_r)), Some(nr), Some(ke), Some(old)) = (
            chosen,
            received.get(PayloadType::NONCE),
            received.ke(),
            self.sas[i].keys.clone(),
        ) else {
            return Err(Error::BadProposalChoice { peer });
        };
        let Ok(spi_r) = <[u8; 8]>::try_from(spi_r.as_slice()) else {
            return Err(Error::BadProposalChoice { peer });
        };
        let shared = dh.shared_secret(ke.data)?;
        let skeyseed = old.rekey_skeyseed(shared.as_bytes(), ni, nr);
        let keys = suite.keys(&skeyseed, ni, nr, new_spi_i, spi_r);
        let nr = nr.to_vec();
        self.replace_ike(now, i, true, keys, suite, ni, &nr);
        // The rekey's initiator deletes the old SA (§1.3.2).
        self.sas[i].queue.clear();
        self.sas[i].queue.push_back(Queued::DeleteIke);
        Ok(())
    }

    /// Makes the IKE SA that replaces SA `i` and moves the Child SAs to it.
    #[allow(clippy::too_many_arguments)]
    fn replace_ike(
        &mut self,
        now: Instant,
        i: usize,
        initiator: bool,
        keys: IkeKeys,
        suite: Suite,
        ni: &[u8],
        nr: &[u8],
    ) {
        let old = &mut self.sas[i];
        let mut sa = IkeSa::new(old.peer, initiator, keys.sa_keys.initiator_spi, now);
        sa.spi_r = keys.sa_keys.responder_spi;
        sa.children = core::mem::take(&mut old.children);
        sa.psk.clone_from(&old.psk);
        sa.nat_detected = old.nat_detected;
        sa.state = old.state;
        if let State::Established { dpd_at, .. } = old.state {
            sa.state = State::Established {
                rekey_at: now + self.config.ike_lifetime.saturating_mul(9).div(10),
                dpd_at,
            };
            sa.established_at = Some(now);
        }
        old.state = State::Closing;
        old.replaced = true;
        let old_spi_i = old.spi_i;
        sa.ni = ni.to_vec();
        sa.nr = nr.to_vec();
        sa.suite = Some(suite);
        self.events.push_back(Event::Rekeyed {
            peer: sa.peer,
            old_initiator_spi: old_spi_i,
            keys: keys.sa_keys.clone(),
            prf_keys: super::PrfKeys::of(&keys),
        });
        sa.keys = Some(keys);
        self.insert_sa(sa);
    }
}

/// The payloads of an IKE SA rekey, request or response (RFC 7296 §1.3.2): the SA with the new
/// SPI and `suite`, our nonce and our KE.
fn ike_rekey_chain(spi: &[u8; 8], suite: Suite, nonce: &[u8], dh: &KeyExchange) -> Chain {
    let mut chain = Chain::default();
    chain.push(
        PayloadType::SA,
        &sa_body(ProtocolId::IKE, spi, &[suite.transforms()]),
    );
    chain.push(PayloadType::NONCE, nonce);
    chain.ke(dh.group(), dh.public_value());
    chain
}
