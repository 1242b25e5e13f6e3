//! INFORMATIONAL (RFC 7296 §1.4): Delete of Child SAs and of the IKE SA, and liveness checks
//! (an empty request, §2.4).

use alloc::vec::Vec;

use dmvpn_isakmp::v2::ExchangeType;
use dmvpn_isakmp::v2::consts::ProtocolId;

use core::net::Ipv4Addr;

use super::endpoint::{Child, Kind, State};
use super::wire::{Chain, Received};
use super::{DeleteReason, Endpoint, Entropy, Error, Event};
use crate::time::Instant;

impl<E: Entropy> Endpoint<E> {
    /// Sends a Delete of our Child SAs `inbound` on SA `i`.
    pub(super) fn start_delete_child(
        &mut self,
        now: Instant,
        i: usize,
        inbound: &[u32],
    ) -> Result<(), Error> {
        let peer = self.sas[i].peer;
        let known: Vec<u32> = inbound
            .iter()
            .copied()
            .filter(|&spi| self.sas[i].children.iter().any(|c| c.sa.inbound.spi == spi))
            .collect();
        if known.is_empty() {
            return Err(Error::UnknownChild {
                peer,
                spi: inbound.first().copied().unwrap_or(0),
            });
        }
        let mut chain = Chain::default();
        chain.delete(ProtocolId::ESP, &known);
        self.send_request(
            now,
            i,
            ExchangeType::INFORMATIONAL,
            &chain,
            Kind::DeleteChild { inbound: known },
        )
    }

    /// Sends a Delete of IKE SA `i`.
    pub(super) fn start_delete_ike(&mut self, now: Instant, i: usize) -> Result<(), Error> {
        let mut chain = Chain::default();
        chain.delete(ProtocolId::IKE, &[]);
        self.sas[i].state = State::Closing;
        self.send_request(now, i, ExchangeType::INFORMATIONAL, &chain, Kind::DeleteIke)
    }

    /// Reports `children` of `peer` deleted for `reason`.
    pub(super) fn report_deleted(
        &mut self,
        peer: Ipv4Addr,
        children: Vec<Child>,
        reason: DeleteReason,
    ) {
        self.events
            .extend(children.into_iter().map(|child| Event::ChildDeleted {
                peer,
                inbound_spi: child.sa.inbound.spi,
                outbound_spi: child.sa.outbound.spi,
                reason,
            }));
    }

    /// The peer answered our Delete of Child SAs.
    pub(super) fn delete_child_response(&mut self, i: usize, inbound: &[u32]) {
        let sa = &mut self.sas[i];
        let peer = sa.peer;
        let (gone, kept) = core::mem::take(&mut sa.children)
            .into_iter()
            .partition(|c| inbound.contains(&c.sa.inbound.spi));
        sa.children = kept;
        self.report_deleted(peer, gone, DeleteReason::Local);
    }

    /// The peer's INFORMATIONAL request: Deletes are answered with ours, anything else (a
    /// liveness check) with an empty response.
    pub(super) fn informational_request(
        &mut self,
        _now: Instant,
        i: usize,
        message_id: u32,
        received: &Received,
    ) -> Result<(), Error> {
        let mut delete_ike = false;
        let mut esp: Vec<u32> = Vec::new();
        for delete in received.deletes() {
            match delete.protocol {
                ProtocolId::IKE => delete_ike = true,
                ProtocolId::ESP if delete.spi_size == 4 => {
                    esp.extend(
                        delete
                            .iter()
                            .filter_map(|s| <[u8; 4]>::try_from(s).ok().map(u32::from_be_bytes)),
                    );
                }
                _ => {}
            }
        }
        let mut chain = Chain::default();
        if delete_ike {
            self.respond(i, ExchangeType::INFORMATIONAL, message_id, &chain)?;
            self.remove_sa(i, DeleteReason::PeerDeleted);
            return Ok(());
        }
        let sa = &mut self.sas[i];
        let peer = sa.peer;
        let (gone, kept): (Vec<_>, Vec<_>) = core::mem::take(&mut sa.children)
            .into_iter()
            .partition(|c| esp.contains(&c.sa.outbound.spi));
        sa.children = kept;
        if !gone.is_empty() {
            let ours: Vec<u32> = gone.iter().map(|c| c.sa.inbound.spi).collect();
            chain.delete(ProtocolId::ESP, &ours);
        }
        self.respond(i, ExchangeType::INFORMATIONAL, message_id, &chain)?;
        self.report_deleted(peer, gone, DeleteReason::PeerDeleted);
        Ok(())
    }
}
