//! The router's key exchange: IOS's `crypto isakmp` (IKEv1, [`ike::Endpoint`]) or `crypto
//! ikev2` (IKEv2, [`ikev2::Endpoint`]) behind one set of calls, so that the [`Router`] makes the
//! same decisions over both (see the [module documentation](super)).
//!
//! What differs, and how each side of this file maps it:
//!
//! | decision                  | IKEv1                         | IKEv2                                   |
//! |---------------------------|-------------------------------|-----------------------------------------|
//! | key a peer                | Main Mode, then Quick Mode    | IKE_SA_INIT, IKE_AUTH (first Child SA)  |
//! | a new pair (volume limit) | a new Quick Mode              | CREATE_CHILD_SA rekeying the pair       |
//! | a new pair (time)         | the endpoint, at 90 %         | the endpoint, at the soft lifetime      |
//! | a dead peer               | DPD: [`ike::Event::PeerDown`] | liveness: [`ikev2::Event::PeerDead`]    |
//! | start over with a peer    | delete phase 1, Main Mode     | INFORMATIONAL Delete, IKE_SA_INIT       |
//!
//! A Child SA pair from either is an [`ike::ChildSa`] and goes into the node the same way.
//!
//! ```
//! use core::net::Ipv4Addr;
//! use dmvpn_isakmp::consts::Group;
//! use dmvpn_isakmp::v2::crypto::{Encryption, Integrity};
//! use dmvpn_proto::ike::{EspAuth, EspCipher, TestEntropy, TransformSet};
//! use dmvpn_proto::ikev2::{self, IkeProposal};
//! use dmvpn_proto::node::{Node, NodeConfig};
//! use dmvpn_proto::router::Router;
//! use dmvpn_proto::Instant;
//!
//! let hub = Ipv4Addr::new(192, 0, 2, 1);
//! let proposal = IkeProposal::new(Encryption::AesCbc(128), Integrity::HmacSha1_96, Group::MODP_1024);
//! let set = TransformSet { encryption: EspCipher::Aes128, integrity: EspAuth::Sha1 };
//! let ike = ikev2::Endpoint::new(ikev2::Config::dmvpn(hub, proposal, b"cisco123", set), TestEntropy::new(1));
//! let config = NodeConfig::hub(Ipv4Addr::new(172, 16, 1, 1), 16, hub);
//! let node = Node::new(config, Instant::ZERO, Box::new(dmvpn_proto::node::sim::XorShift::new(1)));
//! let router = Router::with_ikev2(node, ike, Instant::ZERO);
//! assert!(router.ikev2().is_some() && router.ike().is_none());
//! ```

use alloc::collections::BTreeSet;
use alloc::vec::Vec;
use core::net::Ipv4Addr;

use super::{Event, IkeSaInfo, Router};
use crate::ike::{self, Entropy, Transmit};
use crate::ikev2;
use crate::limits::Tally;
use crate::node::{Node, REKEY_OVERLAP};
use crate::time::Instant;

/// Why the key exchange refused a message or a request, from either version.
#[derive(Clone, Debug, Eq, PartialEq, thiserror::Error)]
pub enum IkeError {
    /// From IKEv1.
    #[error(transparent)]
    V1(#[from] ike::Error),
    /// From IKEv2.
    #[error(transparent)]
    V2(#[from] ikev2::Error),
}

/// The router's key exchange: one IKEv1 or one IKEv2 endpoint.
// One per router, built once and never moved after: the sizes need no box.
#[allow(clippy::large_enum_variant)]
pub(super) enum Keying<R> {
    /// `crypto isakmp …` with `tunnel protection ipsec profile`.
    V1(ike::Endpoint<R>),
    /// `crypto ikev2 …` with `set ikev2-profile`.
    V2 {
        /// The endpoint.
        endpoint: ikev2::Endpoint<R>,
        /// The peers with an established IKE SA (to delete at shutdown).
        established: BTreeSet<Ipv4Addr>,
    },
}

impl<R: core::fmt::Debug> core::fmt::Debug for Keying<R> {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match self {
            Self::V1(e) => f.debug_tuple("V1").field(e).finish(),
            Self::V2 { established, .. } => f
                .debug_struct("V2")
                .field("established", established)
                .finish_non_exhaustive(),
        }
    }
}

/// An event of either endpoint.
pub(super) enum KeyEvent {
    V1(ike::Event),
    V2(ikev2::Event),
}

impl<R: Entropy> Keying<R> {
    /// The IKEv1 endpoint, if that is the one.
    pub(super) const fn v1(&self) -> Option<&ike::Endpoint<R>> {
        match self {
            Self::V1(e) => Some(e),
            Self::V2 { .. } => None,
        }
    }

    /// The IKEv2 endpoint, if that is the one.
    pub(super) const fn v2(&self) -> Option<&ikev2::Endpoint<R>> {
        match self {
            Self::V1(_) => None,
            Self::V2 { endpoint, .. } => Some(endpoint),
        }
    }

    /// The IKEv1 endpoint's randomness (a replay loads recorded values into it).
    pub(super) fn entropy_mut(&mut self) -> Option<&mut R> {
        match self {
            Self::V1(e) => Some(e.entropy_mut()),
            Self::V2 { .. } => None,
        }
    }

    /// What the IKEv1 endpoint's limits refused (the IKEv2 endpoint refuses with
    /// [`ikev2::Error::Limit`], counted as refused messages).
    pub(super) const fn limits(&self) -> Option<&Tally> {
        match self {
            Self::V1(e) => Some(e.limits()),
            Self::V2 { .. } => None,
        }
    }

    pub(super) fn handle_message(
        &mut self,
        now: Instant,
        src: Ipv4Addr,
        message: &[u8],
    ) -> Result<(), IkeError> {
        match self {
            Self::V1(e) => Ok(e.handle_message(now, src, message)?),
            Self::V2 { endpoint, .. } => Ok(endpoint.handle_message(now, src, message)?),
        }
    }

    pub(super) fn poll_timeout(&self) -> Option<Instant> {
        match self {
            Self::V1(e) => e.poll_timeout(),
            Self::V2 { endpoint, .. } => endpoint.poll_timeout(),
        }
    }

    pub(super) fn handle_timeout(&mut self, now: Instant) {
        match self {
            Self::V1(e) => e.handle_timeout(now),
            Self::V2 { endpoint, .. } => endpoint.handle_timeout(now),
        }
    }

    pub(super) fn poll_transmit(&mut self) -> Option<Transmit> {
        match self {
            Self::V1(e) => e.poll_transmit(),
            Self::V2 { endpoint, .. } => endpoint.poll_transmit(),
        }
    }

    pub(super) fn poll_event(&mut self) -> Option<KeyEvent> {
        match self {
            Self::V1(e) => e.poll_event().map(KeyEvent::V1),
            Self::V2 {
                endpoint,
                established,
            } => {
                let event = endpoint.poll_event()?;
                match &event {
                    ikev2::Event::Established { peer, .. } => {
                        established.insert(*peer);
                    }
                    ikev2::Event::Deleted { peer, .. } | ikev2::Event::PeerDead { peer }
                        if !endpoint.is_established(*peer) =>
                    {
                        established.remove(peer);
                    }
                    _ => {}
                }
                Some(KeyEvent::V2(event))
            }
        }
    }

    /// Tells IKEv1's DPD that we sent to `peer` (IKEv2's liveness counts IKE messages only).
    pub(super) fn traffic_sent(&mut self, now: Instant, peer: Ipv4Addr) {
        if let Self::V1(e) = self {
            e.traffic_sent(now, peer);
        }
    }

    /// Tells IKEv1's DPD that `peer` sent to us.
    pub(super) fn traffic_received(&mut self, now: Instant, peer: Ipv4Addr) {
        if let Self::V1(e) = self {
            e.traffic_received(now, peer);
        }
    }

    /// Starts keying `peer` (nothing happens if it is keyed or being keyed).
    pub(super) fn connect(&mut self, now: Instant, peer: Ipv4Addr) -> Result<(), IkeError> {
        match self {
            Self::V1(e) => Ok(e.connect(now, peer)?),
            Self::V2 { endpoint, .. } => Ok(endpoint.connect(now, peer)?),
        }
    }

    /// Deletes every SA with `peer` and tells it. IKEv2 deletes only an established IKE SA (with
    /// an INFORMATIONAL Delete); one being set up runs on until it completes or fails.
    pub(super) fn delete_peer(&mut self, now: Instant, peer: Ipv4Addr) {
        match self {
            Self::V1(e) => e.delete_peer(now, peer),
            // Not established: nothing to delete.
            Self::V2 { endpoint, .. } => {
                let _ = endpoint.delete_peer(now, peer);
            }
        }
    }

    /// A new pair with `peer`: IKEv1 runs a new Quick Mode; IKEv2 rekeys the pair whose inbound
    /// SPI is `inbound` with CREATE_CHILD_SA, or, with no pair left, keys the peer (a no-op while
    /// its IKE SA is up: the endpoint replaces an expired Child SA itself).
    pub(super) fn rekey(
        &mut self,
        now: Instant,
        peer: Ipv4Addr,
        inbound: Option<u32>,
    ) -> Result<(), IkeError> {
        match (self, inbound) {
            (Self::V1(e), _) => Ok(e.rekey(now, peer)?),
            (Self::V2 { endpoint, .. }, Some(spi)) => Ok(endpoint.rekey_child(now, peer, spi)?),
            (Self::V2 { endpoint, .. }, None) => Ok(endpoint.connect(now, peer)?),
        }
    }

    /// The peers to delete at shutdown: IKEv1's from the router's table of IKE SAs, IKEv2's
    /// from the endpoint's events.
    pub(super) fn established_peers(
        &self,
        v1: &alloc::collections::BTreeMap<Ipv4Addr, IkeSaInfo>,
    ) -> Vec<Ipv4Addr> {
        match self {
            Self::V1(_) => v1.keys().copied().collect(),
            Self::V2 { established, .. } => established.iter().copied().collect(),
        }
    }
}

impl<R: Entropy> Router<R> {
    /// A router of `node` (booted at `now`) keying its peers with IKEv2 (`crypto ikev2 profile`
    /// and `set ikev2-profile`). A spoke starts IKE_SA_INIT with each NHS now; the decisions are
    /// those of [`Router::new`] with IKEv1.
    #[must_use]
    pub fn with_ikev2(node: Node, ike: ikev2::Endpoint<R>, now: Instant) -> Self {
        Self::build(
            node,
            Some(Keying::V2 {
                endpoint: ike,
                established: BTreeSet::new(),
            }),
            now,
        )
    }

    /// The IKEv2 endpoint, if the router keys with IKEv2.
    #[must_use]
    pub fn ikev2(&self) -> Option<&ikev2::Endpoint<R>> {
        self.ike.as_ref().and_then(Keying::v2)
    }

    /// Acts on an event of either endpoint.
    pub(super) fn key_event(&mut self, now: Instant, event: KeyEvent) {
        match event {
            KeyEvent::V1(event) => self.ike_event(now, event),
            KeyEvent::V2(event) => self.ikev2_event(now, event),
        }
    }

    /// IKEv2's events, with the decisions IKEv1's get in [`Router::ike_event`].
    fn ikev2_event(&mut self, now: Instant, event: ikev2::Event) {
        let dead = match &event {
            ikev2::Event::ChildEstablished(child) => return self.install(now, child.clone()),
            ikev2::Event::ChildDeleted {
                peer, inbound_spi, ..
            } => {
                self.child_deleted(now, *peer, *inbound_spi);
                None
            }
            ikev2::Event::PeerDead { peer } => Some(*peer),
            _ => None,
        };
        self.event(Event::Ikev2(event));
        if let Some(peer) = dead {
            self.lose(now, peer);
        }
    }

    /// The peer deleted the Child SA pair whose inbound SPI is `inbound_spi` (either version):
    /// if it is the installed one, it is retired with the grace. When that pair had replaced
    /// another within [`REKEY_OVERLAP`] (simultaneous rekeys: the peer deletes the pair
    /// of the exchange that lost, RFC 7296 §2.8.1), the replaced pair carries the traffic
    /// again, its outbound SA going on from where it was.
    pub(super) fn child_deleted(&mut self, now: Instant, peer: Ipv4Addr, inbound_spi: u32) {
        let Some(pair) = self.pairs.get_mut(&peer) else {
            return;
        };
        if pair.child.inbound.spi != inbound_spi {
            return;
        }
        let recent = now - pair.installed_at < REKEY_OVERLAP;
        let survivor = pair.replaced.take().filter(|_| recent);
        let Some((child, next_seq)) = survivor else {
            self.forget_pair(now, peer, true);
            return;
        };
        // The deleted pair's inbound SA decrypts for the grace, as any retired one.
        self.node.retire_sas(now, peer);
        if self.put_pair(now, &child, None) {
            self.node.resume_outbound(peer, next_seq);
            self.event(Event::SaRestored(child));
        } else {
            self.forget_pair(now, peer, true);
        }
    }
}
