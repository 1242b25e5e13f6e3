//! Informational exchanges (RFC 2408 §4.8, RFC 2409 §5.7): notifications, Deletes, DPD.

use super::*;

impl<R: Entropy> Endpoint<R> {
    /// An encrypted Informational carrying one notification about the Quick Mode's proposal.
    pub(super) fn quick_notify(&mut self, sa: &mut IkeSa, ty: NotifyType, spi: &[u8]) {
        let mut chain = Chain::new();
        chain.push(
            PayloadType::NOTIFY,
            &wire::notify(ProtocolId::ESP, ty, spi, &[]),
        );
        self.send_informational(sa, &chain);
    }

    /// Sends `chain` in a protected Informational exchange (RFC 2409 §5.7).
    pub(super) fn send_informational(&mut self, sa: &mut IkeSa, chain: &Chain) {
        let (Some(cipher), Some(keys)) = (sa.cipher(), sa.keys()) else {
            return;
        };
        if !matches!(sa.state, P1::Established { .. }) {
            return;
        }
        let mid = self.draw_message_id();
        let hash = keys.quick_hash1(mid, chain.as_bytes());
        let plain = chain.behind(PayloadType::HASH, &Body::Hash(hash.as_bytes()));
        let Some(iv) = phase2_iv(sa.hash_alg(), cipher, sa.iv(), mid) else {
            return;
        };
        let header = wire::header(sa.cky_i, sa.cky_r, ExchangeType::INFORMATIONAL, mid);
        let Some(bytes) = wire::seal(&header, &plain, cipher, sa.ka(), &iv) else {
            return;
        };
        self.send(sa.peer, bytes);
    }

    // ---------------------------------------------------------------------------------------
    // Informational

    pub(super) fn informational(
        &mut self,
        now: Instant,
        sa: &mut IkeSa,
        message: &Message<'_>,
    ) -> Result<(), Error> {
        let h = message.header;
        let peer = sa.peer;
        if !message.is_encrypted() {
            // Unprotected: only believed while phase 1 is not done (IOS logs them the same way).
            if matches!(sa.state, P1::Established { .. }) {
                return Err(Error::Unexpected {
                    peer,
                    exchange: ExchangeType::INFORMATIONAL,
                    state: "established",
                });
            }
            let payloads = message.payloads().ok_or(Error::NotEstablished { peer })?;
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
            return Err(Error::NotEstablished { peer });
        }
        let Some(cipher) = sa.cipher() else {
            return Err(Error::NotEstablished { peer });
        };
        let plain = Self::open_hash1(sa, message, cipher)?;
        let parsed = parse_chain(
            Payloads::decrypted(h.next_payload, &plain, wire::HEADER_LEN),
            ExchangeType::INFORMATIONAL,
        )?;
        sa.heard(now);
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
                    if let (Some(dpd), Some(seq)) = (sa.dpd_mut(), n.dpd_sequence())
                        && let Some((first, _, _)) = dpd.outstanding
                        && seq.wrapping_sub(first) <= dpd.seq.wrapping_sub(first)
                    {
                        dpd.outstanding = None;
                    }
                }
                NotifyType::INITIAL_CONTACT => self.initial_contact(peer),
                NotifyType::CONNECTED => {
                    let waiting = |q: &QuickMode| matches!(q.state, Qm::AwaitConnected { .. });
                    if let Some(qi) = sa.quick.iter().position(waiting) {
                        let q = sa.quick.remove(qi);
                        let (mid, last_in, out) = (q.message_id, q.last_in, q.out.bytes);
                        Self::remember(sa, mid, &last_in, Some(out));
                        if let Qm::AwaitConnected { child } = q.state {
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
                                    q.state
                                        .child()
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
