//! Quick Mode (RFC 2409 §5.5): the three messages (and CONNECTED), both roles, with PFS.

use super::*;

impl<R: Entropy> Endpoint<R> {
    pub(super) fn start_quick(&mut self, now: Instant, sa: &mut IkeSa) -> Result<(), Error> {
        let (Some(cipher), Some(keys)) = (sa.cipher(), sa.keys()) else {
            return Err(Error::NotEstablished { peer: sa.peer });
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
        let Some(keys) = sa.keys() else {
            return Err(Error::NotEstablished { peer: sa.peer });
        };
        let hash = keys.quick_hash1(message_id, chain.as_bytes());
        let plain = chain.behind(PayloadType::HASH, &Body::Hash(hash.as_bytes()));
        let iv = phase2_iv(sa.hash_alg(), cipher, sa.iv(), message_id)
            .ok_or(Error::NotEstablished { peer: sa.peer })?;
        let header = wire::header(sa.cky_i, sa.cky_r, ExchangeType::QUICK, message_id);
        let bytes = wire::seal(&header, &plain, cipher, sa.ka(), &iv)
            .ok_or(Error::NotEstablished { peer: sa.peer })?;
        let next_iv = wire::last_block(&bytes, cipher.block_len());
        let out = self.flight(now, sa.peer, bytes, true);
        sa.quick.push(QuickMode {
            message_id,
            role: Role::Initiator,
            state: Qm::Sent1 { kx },
            iv: next_iv,
            spi_in,
            ni,
            last_in: Vec::new(),
            out,
        });
        Ok(())
    }

    /// Decrypts a phase-2 message with `iv`, checks its leading HASH against `expected(rest)`
    /// and returns the plaintext, or the error to report.
    pub(super) fn open_hashed(
        sa: &IkeSa,
        message: &Message<'_>,
        iv: &[u8],
        expected: impl FnOnce(&Phase1Keys, &[u8]) -> Secret,
    ) -> Result<Vec<u8>, Error> {
        let h = &message.header;
        let mismatch = Error::HashMismatch {
            peer: sa.peer,
            exchange: h.exchange_type,
            message_id: h.message_id,
        };
        let (Some(cipher), Some(keys)) = (sa.cipher(), sa.keys()) else {
            return Err(Error::NotEstablished { peer: sa.peer });
        };
        if !message.is_encrypted() {
            return Err(mismatch);
        }
        let plain = decrypt(cipher, sa.ka(), iv, message.body)?;
        let split = split_hash(h.next_payload, &plain)?.ok_or(Error::MissingPayload {
            peer: sa.peer,
            exchange: h.exchange_type,
            payload: PayloadType::HASH,
        })?;
        if expected(keys, split.rest) != Secret::from_slice(split.hash) {
            return Err(mismatch);
        }
        Ok(plain)
    }

    /// Decrypts a phase-2 message that HASH(1) protects (Quick Mode's first message, or an
    /// Informational; RFC 2409 §5.5, §5.7): its IV from the phase-1 chain and its message ID.
    pub(super) fn open_hash1(
        sa: &IkeSa,
        message: &Message<'_>,
        cipher: Cipher,
    ) -> Result<Vec<u8>, Error> {
        let mid = message.header.message_id;
        let iv = phase2_iv(sa.hash_alg(), cipher, sa.iv(), mid)
            .ok_or(Error::NotEstablished { peer: sa.peer })?;
        Self::open_hashed(sa, message, &iv, |k, rest| k.quick_hash1(mid, rest))
    }

    pub(super) fn quick_mode(
        &mut self,
        sa: &mut IkeSa,
        incoming: Incoming<'_>,
    ) -> Result<(), Error> {
        let (message, bytes) = (incoming.message, incoming.bytes);
        let h = message.header;
        if !sa.established() {
            return Err(Error::NotEstablished { peer: sa.peer });
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
            return match (q.role, &q.state) {
                (Role::Initiator, Qm::Sent1 { .. }) => self.quick_mode_2(sa, incoming),
                (Role::Responder, Qm::Sent2 { .. }) => self.quick_mode_3(sa, incoming),
                _ => Err(Error::Unexpected {
                    peer: sa.peer,
                    exchange: ExchangeType::QUICK,
                    state: "quick-mode",
                }),
            };
        }
        self.quick_mode_1(sa, incoming)
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

    fn quick_mode_1(&mut self, sa: &mut IkeSa, incoming: Incoming<'_>) -> Result<(), Error> {
        let (now, message, bytes) = (incoming.now, incoming.message, incoming.bytes);
        let h = message.header;
        let peer = sa.peer;
        let Some(cipher) = sa.cipher() else {
            return Err(Error::NotEstablished { peer });
        };
        if sa.quick.len() >= MAX_QUICK {
            return Err(Error::Unexpected {
                peer,
                exchange: ExchangeType::QUICK,
                state: "too-many-quick-modes",
            });
        }
        let mid = h.message_id;
        let plain = Self::open_hash1(sa, message, cipher)?;
        let qm_iv = wire::last_block(message.body, cipher.block_len());
        let parsed = parse_chain(
            Payloads::decrypted(h.next_payload, &plain, wire::HEADER_LEN),
            ExchangeType::QUICK,
        )?;
        sa.heard(now);
        let missing = |payload| Error::MissingPayload {
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
            return Err(Error::InvalidId { peer });
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
            return Err(Error::NoProposalChosen { peer, phase: 2 });
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
                    return Err(Error::InvalidPublicValue {
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
        let proposals = wire::chosen(number, ProtocolId::ESP, &spi_in.to_be_bytes(), &transform);
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
        let Some(keys) = sa.keys() else {
            return Err(Error::NotEstablished { peer });
        };
        let hash = keys.quick_hash2(mid, ni, chain.as_bytes());
        let plain_out = chain.behind(PayloadType::HASH, &Body::Hash(hash.as_bytes()));
        let header = wire::header(sa.cky_i, sa.cky_r, ExchangeType::QUICK, mid);
        let out_bytes = wire::seal(&header, &plain_out, cipher, sa.ka(), &qm_iv)
            .ok_or(Error::NotEstablished { peer })?;
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
            state: Qm::Sent2 {
                nr,
                child: child.clone(),
                commit: h.flags.commit(),
            },
            iv: next_iv,
            spi_in,
            ni: ni.to_vec(),
            last_in: bytes.to_vec(),
            out,
        });
        self.events.push_back(Event::ChildOffered(child));
        Ok(())
    }

    fn quick_mode_2(&mut self, sa: &mut IkeSa, incoming: Incoming<'_>) -> Result<(), Error> {
        let (now, message, bytes) = (incoming.now, incoming.message, incoming.bytes);
        let h = message.header;
        let peer = sa.peer;
        let mid = h.message_id;
        let Some(qi) = sa.quick.iter().position(|q| q.message_id == mid) else {
            return Err(Error::NotEstablished { peer });
        };
        let Some(cipher) = sa.cipher() else {
            return Err(Error::NotEstablished { peer });
        };
        let ni = sa.quick[qi].ni.clone();
        let iv = sa.quick[qi].iv.clone();
        let plain = Self::open_hashed(sa, message, &iv, |k, rest| k.quick_hash2(mid, &ni, rest))?;
        let parsed = parse_chain(
            Payloads::decrypted(h.next_payload, &plain, wire::HEADER_LEN),
            ExchangeType::QUICK,
        )?;
        let bad = Error::BadProposalChoice { peer };
        let (choice, _) = parsed.sa.ok_or(bad.clone())?;
        let nr = parsed.nonce.ok_or(Error::MissingPayload {
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
        let kx = match &sa.quick[qi].state {
            Qm::Sent1 { kx } => kx.as_ref(),
            _ => None,
        };
        let g_qm = match (kx, parsed.ke) {
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
        sa.heard(now);
        let Some(keys) = sa.keys() else {
            return Err(Error::NotEstablished { peer });
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
        let out = wire::seal(&header, &chain, cipher, sa.ka(), &qm_iv)
            .ok_or(Error::NotEstablished { peer })?;
        self.send(peer, out.clone());
        if h.flags.commit() {
            // RFC 2408 §4.6: wait for the responder's CONNECTED before using the SAs.
            let q = &mut sa.quick[qi];
            q.state = Qm::AwaitConnected { child };
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

    pub(super) fn remember(sa: &mut IkeSa, mid: u32, last_in: &[u8], out: Option<Vec<u8>>) {
        if sa.done_quick.len() >= DONE_QUICK {
            sa.done_quick.pop_front();
        }
        sa.done_quick.push_back((mid, last_in.to_vec(), out));
    }

    fn quick_mode_3(&mut self, sa: &mut IkeSa, incoming: Incoming<'_>) -> Result<(), Error> {
        let (now, message, bytes) = (incoming.now, incoming.message, incoming.bytes);
        let mid = message.header.message_id;
        let peer = sa.peer;
        let Some(qi) = sa.quick.iter().position(|q| q.message_id == mid) else {
            return Err(Error::NotEstablished { peer });
        };
        let (ni, iv) = (sa.quick[qi].ni.clone(), sa.quick[qi].iv.clone());
        let Qm::Sent2 { nr, .. } = &sa.quick[qi].state else {
            return Err(Error::NotEstablished { peer });
        };
        let nr = nr.clone();
        Self::open_hashed(sa, message, &iv, |k, _| k.quick_hash3(mid, &ni, &nr))?;
        sa.heard(now);
        let q = sa.quick.remove(qi);
        let Qm::Sent2 { child, commit, .. } = q.state else {
            return Err(Error::NotEstablished { peer });
        };
        Self::remember(sa, mid, bytes, None);
        if commit || message.header.flags.commit() {
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

    pub(super) fn install(&mut self, now: Instant, child: ChildSa) {
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
}
