//! Main Mode (RFC 2409 §5): the six messages with pre-shared keys, both roles.

use super::*;

impl<R: Entropy> Endpoint<R> {
    pub(super) fn main_mode_1(
        &mut self,
        now: Instant,
        from: Ipv4Addr,
        message: &Message<'_>,
        bytes: &[u8],
    ) -> Result<(), Error> {
        let h = message.header;
        if let Some(sa) = self.sas.iter().find(|sa| {
            sa.peer == from && sa.cky_i == h.initiator_cookie && sa.role == Role::Responder
        }) {
            let sa_last = sa.last_in.clone();
            let out = sa.state.out().map(|f| f.bytes.clone());
            if sa_last == bytes {
                if let Some(out) = out {
                    self.send(from, out);
                }
                return Ok(());
            }
            return Err(Error::Unexpected {
                peer: from,
                exchange: ExchangeType::MAIN,
                state: "mm2-sent",
            });
        }
        if self.crossed(from) {
            return Ok(());
        }
        let payloads = message.payloads().ok_or(Error::Unexpected {
            peer: from,
            exchange: ExchangeType::MAIN,
            state: "new",
        })?;
        let parsed = parse_chain(payloads, ExchangeType::MAIN)?;
        let (offer, sai_b) = parsed.sa.ok_or(Error::MissingPayload {
            peer: from,
            exchange: ExchangeType::MAIN,
            payload: PayloadType::SA,
        })?;
        if !self.admit_responder(now, from) {
            return Err(Error::Unexpected {
                peer: from,
                exchange: ExchangeType::MAIN,
                state: "table-full",
            });
        }
        let cky_r = self.draw_cookie();
        let cookies = (h.initiator_cookie, cky_r);
        let Some(psk) = self.config.key_for(from).cloned() else {
            // IOS: "No pre-shared key with <peer>!", so no policy is acceptable.
            self.phase1_failed(
                from,
                cookies,
                Failure::NoPresharedKey,
                Some(NotifyType::NO_PROPOSAL_CHOSEN),
            );
            return Err(Error::NoPresharedKey { peer: from });
        };
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
            self.phase1_failed(
                from,
                cookies,
                Failure::NoProposalChosen,
                Some(NotifyType::NO_PROPOSAL_CHOSEN),
            );
            return Err(Error::NoProposalChosen {
                peer: from,
                phase: 1,
            });
        };
        let suite = Suite::chosen(&policy, life);
        let proposals = wire::chosen(number, ProtocolId::ISAKMP, &[], &transform);
        let mut chain = Chain::new();
        chain
            .push(PayloadType::SA, &wire::sa(&proposals))
            .push(PayloadType::VENDOR_ID, &Body::VendorId(&DPD_VID));
        let header = wire::header(cookies.0, cookies.1, ExchangeType::MAIN, 0);
        let out = wire::clear(&header, &chain)?;
        let out = self.flight(now, from, out, true);
        let mm = MainMode {
            psk,
            sai_b: sai_b.to_vec(),
            ..MainMode::default()
        };
        let state = P1::Mm2Sent { mm, suite, out };
        let mut sa = IkeSa::new(from, Role::Responder, cookies, state);
        sa.last_in = bytes.to_vec();
        sa.peer_dpd = parsed.dpd_vid;
        self.sas.push(sa);
        Ok(())
    }

    pub(super) fn main_mode(
        &mut self,
        sa: &mut IkeSa,
        incoming: Incoming<'_>,
    ) -> Result<(), Error> {
        if self.duplicate(sa, incoming.bytes) {
            return Ok(());
        }
        let peer = sa.peer;
        let unexpected = Error::Unexpected {
            peer,
            exchange: ExchangeType::MAIN,
            state: sa.state.name(),
        };
        match (sa.role, &sa.state) {
            (Role::Initiator, P1::Mm1Sent { .. }) => self.main_mode_2(sa, incoming),
            (Role::Responder, P1::Mm2Sent { .. }) => self.main_mode_3(sa, incoming),
            (Role::Initiator, P1::Mm3Sent { .. }) => self.main_mode_4(sa, incoming),
            (Role::Responder, P1::Mm4Sent { .. }) => self.main_mode_5(sa, incoming),
            (Role::Initiator, P1::Mm5Sent { .. }) => self.main_mode_6(sa, incoming),
            _ => Err(unexpected),
        }
    }

    fn plain<'a>(
        sa: &IkeSa,
        message: &Message<'a>,
        payload: PayloadType,
    ) -> Result<Parsed<'a>, Error> {
        let payloads = message.payloads().ok_or(Error::Unexpected {
            peer: sa.peer,
            exchange: ExchangeType::MAIN,
            state: sa.state.name(),
        })?;
        let parsed = parse_chain(payloads, ExchangeType::MAIN)?;
        let missing = |p| Error::MissingPayload {
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

    fn main_mode_2(&mut self, sa: &mut IkeSa, incoming: Incoming<'_>) -> Result<(), Error> {
        let (now, message, bytes) = (incoming.now, incoming.message, incoming.bytes);
        let parsed = Self::plain(sa, message, PayloadType::SA)?;
        let Some((choice, _)) = parsed.sa else {
            return Err(Error::BadProposalChoice { peer: sa.peer });
        };
        let bad = Error::BadProposalChoice { peer: sa.peer };
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
        let suite = Suite::chosen(&policy, life);
        let kx = self.rng.key_exchange(policy.group)?;
        let ni = self.draw_nonce();
        let P1::Mm1Sent { mm, .. } = &mut sa.state else {
            return Err(Self::unexpected(sa));
        };
        mm.ni = ni;
        mm.g_xi = kx.public_value().to_vec();
        mm.kx = Some(kx);
        let out = Self::key_exchange_message(sa)?;
        self.advance(now, sa, out, bytes, |state, out| match state {
            P1::Mm1Sent { mm, .. } => P1::Mm3Sent { mm, suite, out },
            other => other,
        });
        Ok(())
    }

    /// Main Mode 3 or 4: our KE and nonce.
    fn key_exchange_message(sa: &IkeSa) -> Result<Vec<u8>, Error> {
        let mm = sa.state.main_mode().ok_or_else(|| Self::unexpected(sa))?;
        let (public, nonce) = match sa.role {
            Role::Initiator => (&mm.g_xi, &mm.ni),
            Role::Responder => (&mm.g_xr, &mm.nr),
        };
        let mut chain = Chain::new();
        chain
            .push(PayloadType::KE, &Body::Ke(public))
            .push(PayloadType::NONCE, &Body::Nonce(nonce));
        let header = wire::header(sa.cky_i, sa.cky_r, ExchangeType::MAIN, 0);
        wire::clear(&header, &chain)
    }

    /// A Main Mode message the SA's state does not expect.
    const fn unexpected(sa: &IkeSa) -> Error {
        Error::Unexpected {
            peer: sa.peer,
            exchange: ExchangeType::MAIN,
            state: sa.state.name(),
        }
    }

    /// Computes g^xy, the key schedule, Ka and the first IV once both KE and nonces are known
    /// (`sa`'s peer, role and cookies; its Main Mode data `mm`).
    fn derive(
        (peer, role, cky_i, cky_r): (Ipv4Addr, Role, [u8; 8], [u8; 8]),
        mm: &mut MainMode,
        suite: Suite,
    ) -> Result<Keyed, Error> {
        let bad = Error::BadProposalChoice { peer };
        let peer_public = match role {
            Role::Initiator => &mm.g_xr,
            Role::Responder => &mm.g_xi,
        };
        let kx = mm.kx.as_ref().ok_or(bad)?;
        let g_xy = kx.shared_secret(peer_public)?;
        let keys = Phase1Keys::from_psk(
            suite.hash.prf(),
            mm.psk.as_bytes(),
            &mm.ni,
            &mm.nr,
            g_xy.as_bytes(),
            cky_i,
            cky_r,
        );
        let ka = keys.encryption_key(suite.encryption.key_len());
        let iv = phase1_iv(suite.hash.algorithm(), suite.encryption, &mm.g_xi, &mm.g_xr)
            .ok_or(Error::UnsupportedGroup { group: suite.group })?;
        mm.kx = None;
        Ok(Keyed {
            suite,
            keys,
            ka,
            iv,
        })
    }

    fn check_ke(sa: &IkeSa, ke: &[u8]) -> Result<(), Error> {
        let group = sa.state.suite().map_or(Group(0), |s| s.group);
        let len = modp(group).map_or(0, |m| m.len());
        if ke.len() != len {
            return Err(Error::InvalidPublicValue {
                group,
                len: ke.len(),
            });
        }
        Ok(())
    }

    /// The peer's KE (of the negotiated group's length) and nonce, from Main Mode 3 or 4.
    fn ke_and_nonce<'a>(sa: &IkeSa, message: &Message<'a>) -> Result<(&'a [u8], &'a [u8]), Error> {
        let parsed = Self::plain(sa, message, PayloadType::KE)?;
        let (Some(ke), Some(nonce)) = (parsed.ke, parsed.nonce) else {
            return Err(Error::MissingPayload {
                peer: sa.peer,
                exchange: ExchangeType::MAIN,
                payload: PayloadType::KE,
            });
        };
        Self::check_ke(sa, ke)?;
        Ok((ke, nonce))
    }

    fn main_mode_3(&mut self, sa: &mut IkeSa, incoming: Incoming<'_>) -> Result<(), Error> {
        let (now, message, bytes) = (incoming.now, incoming.message, incoming.bytes);
        let (ke, nonce) = Self::ke_and_nonce(sa, message)?;
        let group = sa.state.suite().map_or(Group(0), |s| s.group);
        let kx = self.rng.key_exchange(group)?;
        let nr = self.draw_nonce();
        let who = (sa.peer, sa.role, sa.cky_i, sa.cky_r);
        let P1::Mm2Sent { mm, suite, .. } = &mut sa.state else {
            return Err(Self::unexpected(sa));
        };
        mm.g_xi = ke.to_vec();
        mm.ni = nonce.to_vec();
        mm.g_xr = kx.public_value().to_vec();
        mm.nr = nr;
        mm.kx = Some(kx);
        let keyed = Self::derive(who, mm, *suite)?;
        let out = Self::key_exchange_message(sa)?;
        self.advance(now, sa, out, bytes, |state, out| match state {
            P1::Mm2Sent { mm, .. } => P1::Mm4Sent { mm, keyed, out },
            other => other,
        });
        Ok(())
    }

    /// Message 5 or 6 of `sa` (its Main Mode data `mm`, its keys `keyed`): ID, HASH_I/HASH_R,
    /// and (initiator, as IOS and strongSwan do) INITIAL-CONTACT on first contact.
    fn identity_message(
        &self,
        sa: (Ipv4Addr, Role, [u8; 8], [u8; 8]),
        mm: &MainMode,
        keyed: &mut Keyed,
    ) -> Option<Vec<u8>> {
        let (peer, role, cky_i, cky_r) = sa;
        let local = self.config.local.octets();
        let identity = &self.config.identity;
        let id = wire::id(IdType::IPV4_ADDR, identity.protocol, identity.port, &local);
        let id_b = wire::body_bytes(&id);
        let initiator = role == Role::Initiator;
        let hash = mm.auth_hash(&keyed.keys, initiator, (cky_i, cky_r), &id_b);
        let mut chain = Chain::new();
        chain
            .push(PayloadType::ID, &id)
            .push(PayloadType::HASH, &Body::Hash(hash.as_bytes()));
        if initiator && self.first_contact(peer) {
            let pair = cookie_pair(cky_i, cky_r);
            chain.push(
                PayloadType::NOTIFY,
                &wire::notify(ProtocolId::ISAKMP, NotifyType::INITIAL_CONTACT, &pair, &[]),
            );
        }
        keyed.seal(&wire::header(cky_i, cky_r, ExchangeType::MAIN, 0), &chain)
    }

    fn main_mode_4(&mut self, sa: &mut IkeSa, incoming: Incoming<'_>) -> Result<(), Error> {
        let (now, message, bytes) = (incoming.now, incoming.message, incoming.bytes);
        let (ke, nonce) = Self::ke_and_nonce(sa, message)?;
        let who = (sa.peer, sa.role, sa.cky_i, sa.cky_r);
        let P1::Mm3Sent { mm, suite, .. } = &mut sa.state else {
            return Err(Self::unexpected(sa));
        };
        mm.g_xr = ke.to_vec();
        mm.nr = nonce.to_vec();
        let mut keyed = Self::derive(who, mm, *suite)?;
        let out = self
            .identity_message(who, mm, &mut keyed)
            .ok_or(Error::AuthenticationFailed { peer: sa.peer })?;
        self.advance(now, sa, out, bytes, |state, out| match state {
            P1::Mm3Sent { mm, .. } => P1::Mm5Sent { mm, keyed, out },
            other => other,
        });
        Ok(())
    }

    /// Sends `out`, our next Main Mode message (repeated until answered), keeps `bytes`, the
    /// message it answers (to answer a repeat of it again), and moves `sa` to the state `next`
    /// makes of its current one and the flight.
    fn advance(
        &mut self,
        now: Instant,
        sa: &mut IkeSa,
        out: Vec<u8>,
        bytes: &[u8],
        next: impl FnOnce(P1, Flight) -> P1,
    ) {
        let out = self.flight(now, sa.peer, out, true);
        sa.last_in = bytes.to_vec();
        sa.state = next(sa.state.take(), out);
    }

    /// Decrypts message 5 or 6 and checks the peer's HASH; returns the INITIAL-CONTACT flag.
    fn authenticate(sa: &mut IkeSa, message: &Message<'_>) -> Result<bool, Error> {
        let failed = Error::AuthenticationFailed { peer: sa.peer };
        let (responder, cookies) = (sa.role == Role::Responder, (sa.cky_i, sa.cky_r));
        let (P1::Mm4Sent { mm, keyed, .. } | P1::Mm5Sent { mm, keyed, .. }) = &mut sa.state else {
            return Err(failed);
        };
        if !message.is_encrypted() {
            return Err(failed);
        }
        let cipher = keyed.suite.encryption;
        let plain = decrypt(cipher, keyed.ka.as_bytes(), &keyed.iv, message.body)?;
        let parsed = parse_chain(
            Payloads::decrypted(message.header.next_payload, &plain, wire::HEADER_LEN),
            ExchangeType::MAIN,
        )
        .map_err(|_| failed.clone())?;
        let (Some((_, id)), Some(hash)) = (parsed.ids.first(), parsed.hash) else {
            return Err(failed);
        };
        let expected = mm.auth_hash(&keyed.keys, responder, cookies, id);
        if expected != Secret::from_slice(hash) {
            return Err(failed);
        }
        keyed.iv = wire::last_block(message.body, cipher.block_len());
        Ok(parsed
            .notifies
            .iter()
            .any(|n| n.ty == NotifyType::INITIAL_CONTACT))
    }

    fn main_mode_5(&mut self, sa: &mut IkeSa, incoming: Incoming<'_>) -> Result<(), Error> {
        let (now, message, bytes) = (incoming.now, incoming.message, incoming.bytes);
        let notify = Some(NotifyType::AUTHENTICATION_FAILED);
        let initial_contact = self.authenticate_or_fail(sa, message, notify)?;
        sa.last_in = bytes.to_vec();
        if initial_contact {
            self.initial_contact(sa.peer);
        }
        let who = (sa.peer, sa.role, sa.cky_i, sa.cky_r);
        let P1::Mm4Sent { mm, keyed, .. } = &mut sa.state else {
            return Err(Self::unexpected(sa));
        };
        let out = self
            .identity_message(who, mm, keyed)
            .ok_or(Error::AuthenticationFailed { peer: sa.peer })?;
        let out = self.flight(now, sa.peer, out, false);
        self.established(now, sa, Some(out))
    }

    fn main_mode_6(&mut self, sa: &mut IkeSa, incoming: Incoming<'_>) -> Result<(), Error> {
        let (now, message, bytes) = (incoming.now, incoming.message, incoming.bytes);
        let initial_contact = self.authenticate_or_fail(sa, message, None)?;
        sa.last_in = bytes.to_vec();
        if initial_contact {
            self.initial_contact(sa.peer);
        }
        self.established(now, sa, None)
    }

    /// Main Mode 5 or 6 authenticated (whether it carried INITIAL-CONTACT); otherwise the SA
    /// fails, telling the peer with `notify`, and a message that does not decrypt means the
    /// pre-shared keys differ.
    fn authenticate_or_fail(
        &mut self,
        sa: &mut IkeSa,
        message: &Message<'_>,
        notify: Option<NotifyType>,
    ) -> Result<bool, Error> {
        Self::authenticate(sa, message).map_err(|error| {
            self.fail_phase1(sa, Failure::AuthenticationFailed, notify);
            match error {
                Error::Decrypt(_) => Error::AuthenticationFailed { peer: sa.peer },
                other => other,
            }
        })
    }

    /// Main Mode 1 from `from` crossed our own Main Mode 1 to it (two spokes that want a direct
    /// tunnel to each other at the same moment): only one of the two may go on, or each end's
    /// INITIAL-CONTACT would tear down the other's attempt and neither would start Quick Mode.
    /// The end with the lower address keeps its attempt and ignores the peer's Main Mode 1
    /// (returns `true`); the other drops its attempt and answers, and the peer's Quick Mode then
    /// gives both ends their one SA pair.
    fn crossed(&mut self, from: Ipv4Addr) -> bool {
        let ours = |sa: &IkeSa| {
            sa.peer == from
                && sa.role == Role::Initiator
                && !sa.dead
                && matches!(sa.state, P1::Mm1Sent { .. })
        };
        if !self.sas.iter().any(ours) {
            return false;
        }
        if self.config.local < from {
            return true;
        }
        self.sas.retain(|sa| !ours(sa));
        false
    }

    /// The peer rebooted: its other IKE SAs and all IPsec SAs with it are stale.
    pub(super) fn initial_contact(&mut self, peer: Ipv4Addr) {
        self.drop_peer_sas(peer, DeleteReason::InitialContact);
        self.drop_children(peer, DeleteReason::InitialContact, false);
    }

    /// Main Mode is done: the SA is established (keeping `out` to repeat, the responder's Main
    /// Mode 6), and if we wanted an IPsec SA while the peer was negotiating this one, Quick Mode
    /// starts from us.
    fn established(
        &mut self,
        now: Instant,
        sa: &mut IkeSa,
        out: Option<Flight>,
    ) -> Result<(), Error> {
        let (P1::Mm4Sent { keyed, .. } | P1::Mm5Sent { keyed, .. }) = &sa.state else {
            return Err(Self::unexpected(sa));
        };
        let suite = keyed.suite;
        let mut live = Established {
            since: now,
            hard_at: Some(now + suite.lifetime),
            soft_at: Some(
                now + suite
                    .lifetime
                    .saturating_mul(self.config.rekey_per_mille)
                    .div(1000),
            ),
            rekeyed: false,
            dpd: None,
        };
        self.events.push_back(Event::Phase1Established {
            peer: sa.peer,
            role: sa.role,
            responder_cookie: sa.cky_r,
            suite,
            key: Ikev1Key {
                initiator_cookie: sa.cky_i,
                encryption_key: keyed.ka.clone(),
            },
        });
        if self.config.dpd.is_some() && sa.peer_dpd {
            let seq = u32::from_be_bytes(self.draw::<4>(Purpose::DpdSequence)) & 0x7fff_ffff;
            live.dpd = Some(Dpd {
                seq,
                outstanding: None,
                last_heard: now,
            });
        }
        sa.state = match sa.state.take() {
            P1::Mm4Sent { keyed, .. } | P1::Mm5Sent { keyed, .. } => {
                P1::Established { live, keyed, out }
            }
            other => other,
        };
        if sa.want_child {
            sa.want_child = false;
            self.start_quick(now, sa)?;
        }
        Ok(())
    }
}
