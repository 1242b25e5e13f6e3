//! IKE_AUTH (RFC 7296 §1.2, §2.15): identities, PSK AUTH, and the first Child SA in transport
//! mode for GRE between the NBMA addresses (§1.3.1, §2.17).

use alloc::vec::Vec;
use core::net::Ipv4Addr;

use dmvpn_isakmp::consts::Group;
use dmvpn_isakmp::keys::Secret;
use dmvpn_isakmp::v2::consts::{AuthMethod, NotifyType, ProtocolId, TransformType};
use dmvpn_isakmp::v2::{ExchangeType, PayloadType};
use subtle::ConstantTimeEq;

use super::endpoint::{Child, IkeSa, Kind, State};
use super::wire::{Chain, Offered, Received, esp_transforms, id_body, sa_body};
use super::{ChildSa, Config, Endpoint, Entropy, Error, Event, Failure, Role, TransformSet};
use crate::ike::EspKeys;
use crate::time::{Duration, Instant};

/// The first offered ESP proposal one of our transform sets matches (ESN must be "none" or
/// absent); with `pfs`, the D-H transform must be offered too. Returns the set, the peer's SPI
/// and the group.
pub(super) fn choose_esp(
    config: &Config,
    offers: &[Offered],
    pfs: Option<Group>,
) -> Option<(TransformSet, u32, Option<Group>)> {
    for offer in offers {
        let Ok(spi) = <[u8; 4]>::try_from(offer.spi.as_slice()) else {
            continue;
        };
        let esn_ok = offer.of_type(TransformType::ESN).next().is_none()
            || offer.has((TransformType::ESN, 0, None));
        let group = match pfs {
            Some(g) if offer.has((TransformType::KE, g.0, None)) => Some(g),
            Some(_) => continue,
            None => None,
        };
        for &set in &config.transform_sets {
            let [encr, integ, _] = esp_transforms(set);
            if esn_ok && offer.has(encr) && offer.has(integ) {
                return Some((set, u32::from_be_bytes(spi), group));
            }
        }
    }
    None
}

/// The SA payload body of ESP proposals: one per transform set, or just `set`, with our SPI and
/// the PFS group.
pub(super) fn esp_sa(sets: &[TransformSet], spi: u32, pfs: Option<Group>) -> Vec<u8> {
    let proposals: Vec<_> = sets
        .iter()
        .map(|&set| {
            let mut t = esp_transforms(set).to_vec();
            if let Some(g) = pfs {
                t.insert(2, super::wire::group_transform(g));
            }
            t
        })
        .collect();
    sa_body(ProtocolId::ESP, &spi.to_be_bytes(), &proposals)
}

impl<E: Entropy> Endpoint<E> {
    /// Sends IKE_AUTH (message 1) with the first Child SA.
    pub(super) fn send_auth(&mut self, now: Instant, i: usize) -> Result<(), Error> {
        let inbound = self.spi();
        let sets = self.config.transform_sets.clone();
        let identity = id_body(&self.config.identity);
        let local = self.config.local;
        let sa = &mut self.sas[i];
        let peer = sa.peer;
        let auth = sa
            .our_auth(true, &identity)
            .ok_or(Error::NoPresharedKey { peer })?;
        sa.state = State::AuthSent;
        sa.next_id = 1;
        let mut chain = Chain::default();
        chain.push(PayloadType::IDI, &identity);
        chain.push(PayloadType::AUTH, &auth_body(&auth));
        chain.notify(ProtocolId::NONE, &[], NotifyType::INITIAL_CONTACT, &[]);
        chain.notify(ProtocolId::NONE, &[], NotifyType::USE_TRANSPORT_MODE, &[]);
        chain.push(PayloadType::SA, &esp_sa(&sets, inbound, None));
        chain.gre_selectors(local, peer);
        self.send_request(
            now,
            i,
            ExchangeType::IKE_AUTH,
            &chain,
            Kind::Auth {
                inbound_spi: inbound,
            },
        )
    }

    /// The responder checks IKE_AUTH and answers with its AUTH and the Child SA.
    pub(super) fn auth_request(
        &mut self,
        now: Instant,
        i: usize,
        message_id: u32,
        received: &Received,
    ) -> Result<(), Error> {
        let peer = self.sas[i].peer;
        let idi = received.require(PayloadType::IDI, peer, ExchangeType::IKE_AUTH)?;
        let auth = received.require(PayloadType::AUTH, peer, ExchangeType::IKE_AUTH)?;
        // IOS picks the profile by IDi before it looks at AUTH: no profile, no key to check.
        if let Some(identity) = self.refused_identity(idi) {
            self.refuse_auth(i, message_id, Failure::IdentityMismatch)?;
            return Err(Error::IdentityMismatch { peer, identity });
        }
        if !self.sas[i].peer_auth_matches(true, idi, auth) {
            self.refuse_auth(i, message_id, Failure::AuthenticationFailed)?;
            return Err(Error::AuthenticationFailed { peer });
        }
        let identity = id_body(&self.config.identity);
        let local = self.config.local;
        let our_auth = self.sas[i]
            .our_auth(false, &identity)
            .ok_or(Error::NoPresharedKey { peer })?;
        let mut chain = Chain::default();
        chain.push(PayloadType::IDR, &identity);
        chain.push(PayloadType::AUTH, &auth_body(&our_auth));
        self.establish(now, i, Role::Responder);
        // The Child SA: its failure leaves the IKE SA up (§1.2).
        let child = self.child_response(received, None, peer, local);
        match child {
            Ok((set, outbound, _)) => {
                let inbound = self.spi();
                chain.notify(ProtocolId::NONE, &[], NotifyType::USE_TRANSPORT_MODE, &[]);
                chain.push(PayloadType::SA, &esp_sa(&[set], inbound, None));
                chain.gre_selectors(peer, local);
                self.respond(i, ExchangeType::IKE_AUTH, message_id, &chain)?;
                self.add_auth_child(now, i, false, set, (inbound, outbound), message_id);
                Ok(())
            }
            Err(ty) => {
                chain.notify(ProtocolId::NONE, &[], ty, &[]);
                self.respond(i, ExchangeType::IKE_AUTH, message_id, &chain)?;
                self.failed(peer, ty);
                Ok(())
            }
        }
    }

    /// Checks a Child SA request (SA, transport mode, GRE selectors with the exchange's
    /// initiator `initiator` and responder `responder`): the set, the peer's SPI, the group, or
    /// the notification to refuse it with.
    pub(super) fn child_response(
        &self,
        received: &Received,
        pfs: Option<Group>,
        initiator: Ipv4Addr,
        responder: Ipv4Addr,
    ) -> Result<(TransformSet, u32, Option<Group>), NotifyType> {
        let offers = received.offers(ProtocolId::ESP).unwrap_or_default();
        if received.notify(NotifyType::USE_TRANSPORT_MODE).is_none() {
            return Err(NotifyType::NO_PROPOSAL_CHOSEN);
        }
        let chosen =
            choose_esp(&self.config, &offers, pfs).ok_or(NotifyType::NO_PROPOSAL_CHOSEN)?;
        if !received.selects_gre(initiator, responder) {
            return Err(NotifyType::TS_UNACCEPTABLE);
        }
        Ok(chosen)
    }

    /// The initiator reads the IKE_AUTH response.
    pub(super) fn auth_response(
        &mut self,
        now: Instant,
        i: usize,
        inbound: u32,
        received: &Received,
    ) -> Result<(), Error> {
        let peer = self.sas[i].peer;
        let (Some(idr), Some(auth)) = (
            received.get(PayloadType::IDR),
            received.get(PayloadType::AUTH),
        ) else {
            let reason = match received.error() {
                Some(NotifyType::AUTHENTICATION_FAILED) | None => Failure::AuthenticationFailed,
                Some(NotifyType::NO_PROPOSAL_CHOSEN) => Failure::NoProposalChosen,
                Some(other) => Failure::Notified(other),
            };
            self.fail(i, reason);
            return Err(Error::AuthenticationFailed { peer });
        };
        // The profile the IPsec profile names must match the responder too (RFC 7296 §2.15:
        // the identity is checked against policy; IOS: the profile's `match identity remote`).
        if let Some(identity) = self.refused_identity(idr) {
            // The responder has just established the SA: tell it in a separate INFORMATIONAL
            // (§2.21.2), a Delete of the IKE SA, sent once (the SA is gone here).
            let mut chain = Chain::default();
            chain.delete(ProtocolId::IKE, &[]);
            let message_id = self.sas[i].next_id;
            if let Ok(bytes) = self.seal(i, ExchangeType::INFORMATIONAL, false, message_id, &chain)
            {
                self.transmits
                    .push_back(super::Transmit::new(peer, crate::Ike, bytes));
            }
            self.fail(i, Failure::IdentityMismatch);
            return Err(Error::IdentityMismatch { peer, identity });
        }
        if !self.sas[i].peer_auth_matches(false, idr, auth) {
            self.fail(i, Failure::AuthenticationFailed);
            return Err(Error::AuthenticationFailed { peer });
        }
        self.establish(now, i, Role::Initiator);
        if let Some(error) = received.error() {
            self.failed(peer, error);
            return Ok(());
        }
        let offers = received.offers(ProtocolId::ESP)?;
        let local = self.config.local;
        let chosen = match offers.as_slice() {
            [one] => choose_esp(&self.config, core::slice::from_ref(one), None),
            _ => None,
        };
        let Some((set, outbound, _)) = chosen.filter(|_| received.selects_gre(local, peer)) else {
            self.events.push_back(Event::Failed {
                peer,
                reason: Failure::NoProposalChosen,
            });
            return Err(Error::BadProposalChoice { peer });
        };
        self.add_auth_child(now, i, true, set, (inbound, outbound), 1);
        Ok(())
    }

    /// The responder answers IKE_AUTH with AUTHENTICATION_FAILED and drops SA `i`.
    fn refuse_auth(&mut self, i: usize, message_id: u32, reason: Failure) -> Result<(), Error> {
        let mut chain = Chain::default();
        chain.notify(
            ProtocolId::NONE,
            &[],
            NotifyType::AUTHENTICATION_FAILED,
            &[],
        );
        self.respond(i, ExchangeType::IKE_AUTH, message_id, &chain)?;
        self.fail(i, reason);
        Ok(())
    }

    /// The peer's identity from an IDi / IDr body when no `match identity remote` accepts it;
    /// `None` when one does.
    fn refused_identity(&self, id_body: &[u8]) -> Option<super::Identity> {
        let identity = super::Identity::parse(id_body).unwrap_or(super::Identity::Other {
            ty: dmvpn_isakmp::v2::consts::IdType(id_body.first().copied().unwrap_or(0)),
            data: Vec::new(),
        });
        (!self.config.accepts(&identity)).then_some(identity)
    }

    /// SA `i` is established: timers, event.
    fn establish(&mut self, now: Instant, i: usize, role: Role) {
        let lifetime = self.config.ike_lifetime;
        let dpd = self.config.dpd;
        let sa = &mut self.sas[i];
        sa.state = State::Established {
            rekey_at: now + lifetime.saturating_mul(9).div(10),
            dpd_at: dpd.map(|d| now + d),
        };
        sa.dh = None;
        sa.established_at = Some(now);
        if let Some(keys) = &sa.keys {
            self.events.push_back(Event::Established {
                peer: sa.peer,
                role,
                keys: keys.sa_keys.clone(),
                prf_keys: super::PrfKeys::of(keys),
                nat_detected: sa.nat_detected,
            });
        }
    }

    /// Derives and records the Child SA that IKE_AUTH of SA `i` made (no PFS; the IKE SA's
    /// nonces), as [`Self::add_child`] does.
    fn add_auth_child(
        &mut self,
        now: Instant,
        i: usize,
        exchange_initiator: bool,
        set: TransformSet,
        spis: (u32, u32),
        message_id: u32,
    ) {
        let sa = &self.sas[i];
        let (ni, nr) = (sa.ni.clone(), sa.nr.clone());
        self.add_child(
            now,
            i,
            exchange_initiator,
            set,
            spis,
            None,
            &ni,
            &nr,
            message_id,
        );
    }

    /// Derives and records a Child SA of SA `i`: `exchange_initiator` says whether we
    /// initiated the exchange that made it (the first half of KEYMAT is then outbound).
    #[allow(clippy::too_many_arguments)]
    pub(super) fn add_child(
        &mut self,
        now: Instant,
        i: usize,
        exchange_initiator: bool,
        set: TransformSet,
        (inbound, outbound): (u32, u32),
        pfs: Option<(Group, &Secret)>,
        ni: &[u8],
        nr: &[u8],
        message_id: u32,
    ) -> u32 {
        let local = self.config.local;
        let lifetime = self.config.child_lifetime;
        let sa = &mut self.sas[i];
        let Some(keys) = &sa.keys else {
            return inbound;
        };
        let (e, a) = (set.encryption.key_len(), set.integrity.key_len());
        let keymat = keys.child_keymat(pfs.map(|p| p.1.as_bytes()), ni, nr, 2 * (e + a));
        let half = |at: usize, spi: u32| EspKeys {
            spi,
            encryption: set.encryption,
            encryption_key: Secret::from_slice(
                keymat.as_bytes().get(at..at + e).unwrap_or_default(),
            ),
            integrity: set.integrity,
            integrity_key: Secret::from_slice(
                keymat
                    .as_bytes()
                    .get(at + e..at + e + a)
                    .unwrap_or_default(),
            ),
        };
        let (first, second) = (half(0, 0), half(e + a, 0));
        let (mut out_keys, mut in_keys) = if exchange_initiator {
            (first, second)
        } else {
            (second, first)
        };
        out_keys.spi = outbound;
        in_keys.spi = inbound;
        let child = ChildSa {
            peer: sa.peer,
            local,
            inbound: in_keys,
            outbound: out_keys,
            lifetime,
            role: if exchange_initiator {
                Role::Initiator
            } else {
                Role::Responder
            },
            message_id,
            transform_set: set,
            pfs: pfs.map(|p| p.0),
        };
        let soft = lifetime.soft_time.unwrap_or(Duration::from_secs(3240));
        let hard = lifetime.hard_time.unwrap_or(Duration::from_secs(3600));
        sa.children.push(Child {
            sa: child.clone(),
            rekey_at: now + soft,
            expires_at: now + hard,
            rekeying: false,
            peer_rekey: None,
        });
        self.events.push_back(Event::ChildEstablished(child));
        inbound
    }
}

impl IkeSa {
    /// Our PSK AUTH over our identity `id` (RFC 7296 §2.15): our IKE_SA_INIT message and the
    /// peer's nonce, signed with SK_pi when we are the `initiator`, else SK_pr. `None` before
    /// the keys or without a pre-shared key.
    fn our_auth(&self, initiator: bool, id: &[u8]) -> Option<Secret> {
        let (keys, psk) = (self.keys.as_ref()?, self.psk.as_ref()?);
        let peer_nonce = if initiator { &self.nr } else { &self.ni };
        Some(keys.psk_auth(psk.as_bytes(), initiator, &self.init_sent, peer_nonce, id))
    }

    /// Whether the AUTH body `auth` is the peer's PSK AUTH over its identity `id`: its
    /// IKE_SA_INIT message and our nonce, signed with SK_pi when the peer is the
    /// `peer_initiator`, else SK_pr. False before the keys or without a pre-shared key.
    fn peer_auth_matches(&self, peer_initiator: bool, id: &[u8], auth: &[u8]) -> bool {
        let (Some(keys), Some(psk)) = (&self.keys, &self.psk) else {
            return false;
        };
        let our_nonce = if peer_initiator { &self.nr } else { &self.ni };
        let expected = keys.psk_auth(
            psk.as_bytes(),
            peer_initiator,
            &self.init_received,
            our_nonce,
            id,
        );
        auth_matches(auth, &expected)
    }
}

/// An AUTH payload body: the PSK method and the data.
fn auth_body(auth: &Secret) -> Vec<u8> {
    let mut body = alloc::vec![AuthMethod::SHARED_KEY.0, 0, 0, 0];
    body.extend_from_slice(auth.as_bytes());
    body
}

/// Whether a received AUTH body carries the PSK method and `expected`.
fn auth_matches(body: &[u8], expected: &Secret) -> bool {
    body.first() == Some(&AuthMethod::SHARED_KEY.0)
        && body
            .get(4..)
            .is_some_and(|data| bool::from(data.ct_eq(expected.as_bytes())))
}

impl<E: Entropy> Endpoint<E> {
    /// Reports that the peer refused a Child SA or a rekey with `error`.
    pub(super) fn failed(&mut self, peer: Ipv4Addr, error: NotifyType) {
        self.events.push_back(Event::Failed {
            peer,
            reason: failure(error),
        });
    }
}

/// The failure an error notification means.
pub(super) const fn failure(ty: NotifyType) -> Failure {
    match ty {
        NotifyType::NO_PROPOSAL_CHOSEN => Failure::NoProposalChosen,
        NotifyType::AUTHENTICATION_FAILED => Failure::AuthenticationFailed,
        NotifyType::TS_UNACCEPTABLE => Failure::TsUnacceptable,
        other => Failure::Notified(other),
    }
}
