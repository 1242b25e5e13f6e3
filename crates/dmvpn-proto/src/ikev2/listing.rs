//! A read-only listing of an [`Endpoint`]'s IKE SAs and their Child SAs, for a router's `show
//! crypto ikev2 sa` (IOS prints a tunnel id, the addresses and ports, the state, the negotiated
//! algorithms, the lifetime and the time the SA has been up). No keys: the listing holds none.

use alloc::vec::Vec;
use core::net::Ipv4Addr;

use dmvpn_isakmp::consts::Group;
use dmvpn_isakmp::keys::Prf;
use dmvpn_isakmp::v2::crypto::{Encryption, Integrity};

use super::endpoint::State;
use super::{Endpoint, Entropy, Role, TransformSet};
use crate::time::{Duration, Instant};

/// Where an IKE SA is in its life, in IOS's words ([`SaStatus::ios`]).
#[derive(Clone, Copy, Debug, Eq, Hash, PartialEq)]
pub enum SaStatus {
    /// IKE_SA_INIT or IKE_AUTH is under way (IOS: `IN-NEG`).
    Negotiating,
    /// IKE_AUTH completed (IOS: `READY`).
    Ready,
    /// Replaced by a rekey or being deleted (IOS: `DELETE`).
    Deleting,
}

impl SaStatus {
    /// The word IOS's `show crypto ikev2 sa` prints in its `Status` column.
    #[must_use]
    pub const fn ios(self) -> &'static str {
        match self {
            Self::Negotiating => "IN-NEG",
            Self::Ready => "READY",
            Self::Deleting => "DELETE",
        }
    }
}

/// The algorithms an IKE SA negotiated in IKE_SA_INIT.
#[derive(Clone, Copy, Debug, Eq, PartialEq)]
pub struct Algorithms {
    /// The encryption transform (with its key size).
    pub encryption: Encryption,
    /// The integrity transform (`None` with an AEAD cipher).
    pub integrity: Integrity,
    /// The pseudo-random function.
    pub prf: Prf,
    /// The Diffie-Hellman group.
    pub group: Group,
}

/// One Child SA pair under an IKE SA.
#[derive(Clone, Copy, Debug, Eq, PartialEq)]
pub struct ChildInfo {
    /// Our SPI (inbound ESP).
    pub inbound_spi: u32,
    /// The peer's SPI (outbound ESP).
    pub outbound_spi: u32,
    /// The ESP transforms.
    pub transform_set: TransformSet,
    /// When the pair expires (its hard lifetime).
    pub expires_at: Instant,
}

/// One IKE SA as [`Endpoint::sas`] lists it.
#[derive(Clone, Debug, Eq, PartialEq)]
pub struct SaInfo {
    /// A number for the SA, unique while the endpoint runs (IOS's `Tunnel-id`): 1 for the
    /// first SA made, counting up; an IKE SA rekey makes a new SA with a new number.
    pub tunnel_id: u32,
    /// Our address.
    pub local: Ipv4Addr,
    /// The peer's.
    pub peer: Ipv4Addr,
    /// Whether we are the original initiator.
    pub role: Role,
    /// The initiator's SPI.
    pub initiator_spi: [u8; 8],
    /// The responder's SPI (zeros until the IKE_SA_INIT response).
    pub responder_spi: [u8; 8],
    /// Where it is in its life.
    pub status: SaStatus,
    /// The negotiated algorithms (`None` before the IKE_SA_INIT response).
    pub algorithms: Option<Algorithms>,
    /// The configured IKE SA lifetime (`lifetime` of the IKEv2 profile).
    pub lifetime: Duration,
    /// When IKE_AUTH completed (or, for an SA made by a rekey, the rekey did).
    pub established_at: Option<Instant>,
    /// The peer's NAT_DETECTION hashes did not match the addresses.
    pub nat_detected: bool,
    /// Its Child SA pairs.
    pub children: Vec<ChildInfo>,
}

impl SaInfo {
    /// How long it has been up at `now` (zero before it is established).
    #[must_use]
    pub fn active(&self, now: Instant) -> Duration {
        self.established_at
            .map_or(Duration::ZERO, |at| (now - at).max(Duration::ZERO))
    }
}

impl<E: Entropy> Endpoint<E> {
    /// Every IKE SA held (in any state), in the order they were made, with their Child SAs:
    /// what `show crypto ikev2 sa` lists. No keys.
    ///
    /// ```
    /// use core::net::Ipv4Addr;
    /// use dmvpn_isakmp::consts::Group;
    /// use dmvpn_isakmp::v2::crypto::{Encryption, Integrity};
    /// use dmvpn_proto::ike::{EspAuth, EspCipher, TestEntropy, TransformSet};
    /// use dmvpn_proto::ikev2::{Config, Endpoint, IkeProposal, SaStatus};
    /// use dmvpn_proto::Instant;
    ///
    /// let (hub, spoke) = (Ipv4Addr::new(192, 0, 2, 1), Ipv4Addr::new(192, 0, 2, 2));
    /// let proposal = IkeProposal::new(Encryption::AesCbc(256), Integrity::HmacSha256_128, Group::MODP_2048);
    /// let set = TransformSet { encryption: EspCipher::Aes256, integrity: EspAuth::Sha256 };
    /// let mut s = Endpoint::new(Config::dmvpn(spoke, proposal, b"cisco123", set), TestEntropy::new(2));
    /// s.connect(Instant::ZERO, hub)?;
    /// let sas = s.sas();
    /// assert_eq!((sas.len(), sas[0].tunnel_id, sas[0].status), (1, 1, SaStatus::Negotiating));
    /// assert_eq!(sas[0].status.ios(), "IN-NEG");
    /// assert!(sas[0].algorithms.is_none() && sas[0].children.is_empty());
    /// # Ok::<(), dmvpn_proto::ikev2::Error>(())
    /// ```
    #[must_use]
    pub fn sas(&self) -> Vec<SaInfo> {
        let mut list: Vec<SaInfo> = (self.sas.iter())
            .map(|sa| SaInfo {
                tunnel_id: sa.tunnel_id,
                local: self.config.local,
                peer: sa.peer,
                role: if sa.initiator {
                    Role::Initiator
                } else {
                    Role::Responder
                },
                initiator_spi: sa.spi_i,
                responder_spi: sa.spi_r,
                status: match sa.state {
                    State::InitSent | State::AuthSent | State::HalfOpen { .. } => {
                        SaStatus::Negotiating
                    }
                    State::Established { .. } => SaStatus::Ready,
                    State::Closing => SaStatus::Deleting,
                },
                algorithms: sa.suite.map(|s| Algorithms {
                    encryption: s.encryption,
                    integrity: s.integrity,
                    prf: s.prf,
                    group: s.group,
                }),
                lifetime: self.config.ike_lifetime,
                established_at: sa.established_at,
                nat_detected: sa.nat_detected,
                children: (sa.children.iter())
                    .map(|c| ChildInfo {
                        inbound_spi: c.sa.inbound.spi,
                        outbound_spi: c.sa.outbound.spi,
                        transform_set: c.sa.transform_set,
                        expires_at: c.expires_at,
                    })
                    .collect(),
            })
            .collect();
        list.sort_by_key(|sa| sa.tunnel_id);
        list
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ike::{EspAuth, EspCipher, TestEntropy};
    use crate::ikev2::{Config, IkeProposal};

    const HUB: Ipv4Addr = Ipv4Addr::new(192, 0, 2, 1);
    const SPOKE: Ipv4Addr = Ipv4Addr::new(192, 0, 2, 2);

    fn pair() -> (Endpoint<TestEntropy>, Endpoint<TestEntropy>) {
        let proposal = IkeProposal::new(
            Encryption::AesCbc(256),
            Integrity::HmacSha256_128,
            Group::MODP_2048,
        );
        let set = TransformSet::new(EspCipher::Aes256, EspAuth::Sha256);
        let config = |local| Config::dmvpn(local, proposal.clone(), b"cisco123", set);
        (
            Endpoint::new(config(HUB), TestEntropy::new(1)),
            Endpoint::new(config(SPOKE), TestEntropy::new(2)),
        )
    }

    /// Moves every datagram between the two until both are quiet.
    fn run(now: Instant, h: &mut Endpoint<TestEntropy>, s: &mut Endpoint<TestEntropy>) {
        loop {
            let mut moved = false;
            while let Some(t) = s.poll_transmit() {
                let _ = h.handle_message(now, SPOKE, &t.bytes);
                moved = true;
            }
            while let Some(t) = h.poll_transmit() {
                let _ = s.handle_message(now, HUB, &t.bytes);
                moved = true;
            }
            if !moved {
                break;
            }
        }
    }

    #[test]
    fn established_sa_lists_its_algorithms_and_child() {
        let (mut h, mut s) = pair();
        let t0 = Instant::ZERO + Duration::from_secs(5);
        s.connect(t0, HUB).unwrap();
        assert_eq!(s.sas()[0].status, SaStatus::Negotiating);
        run(t0, &mut h, &mut s);
        let (at_hub, at_spoke) = (h.sas(), s.sas());
        assert_eq!((at_hub.len(), at_spoke.len()), (1, 1));
        let (hub_sa, spoke_sa) = (&at_hub[0], &at_spoke[0]);
        assert_eq!(
            (hub_sa.status, spoke_sa.status),
            (SaStatus::Ready, SaStatus::Ready)
        );
        assert_eq!(hub_sa.status.ios(), "READY");
        assert_eq!(
            (hub_sa.role, spoke_sa.role),
            (Role::Responder, Role::Initiator)
        );
        assert_eq!((hub_sa.local, hub_sa.peer), (HUB, SPOKE));
        assert_eq!(hub_sa.initiator_spi, spoke_sa.initiator_spi);
        assert_eq!(hub_sa.responder_spi, spoke_sa.responder_spi);
        assert_ne!(hub_sa.responder_spi, [0; 8]);
        let algorithms = hub_sa.algorithms.unwrap();
        assert_eq!(algorithms.encryption, Encryption::AesCbc(256));
        assert_eq!(algorithms.integrity, Integrity::HmacSha256_128);
        assert_eq!(algorithms.prf, Prf::HmacSha256);
        assert_eq!(algorithms.group, Group::MODP_2048);
        assert_eq!(hub_sa.lifetime, Duration::from_secs(86_400));
        assert_eq!(hub_sa.established_at, Some(t0));
        let later = t0 + Duration::from_secs(195);
        assert_eq!(hub_sa.active(later), Duration::from_secs(195));
        assert_eq!(hub_sa.active(Instant::ZERO), Duration::ZERO);
        assert_eq!(hub_sa.children.len(), 1);
        let (hc, sc) = (hub_sa.children[0], spoke_sa.children[0]);
        assert_eq!(
            (hc.inbound_spi, hc.outbound_spi),
            (sc.outbound_spi, sc.inbound_spi)
        );
        assert_eq!(hc.transform_set.encryption, EspCipher::Aes256);
        assert_eq!(h.child_spis(SPOKE), [hc.inbound_spi]);
    }

    /// An IKE SA rekey makes a new SA with the next tunnel id, established at the rekey, with
    /// the Child SAs moved to it; the old one is gone once its Delete is answered.
    #[test]
    fn ike_rekey_gets_a_new_tunnel_id() {
        let (mut h, mut s) = pair();
        s.connect(Instant::ZERO, HUB).unwrap();
        run(Instant::ZERO, &mut h, &mut s);
        let rekey = Instant::ZERO + Duration::from_secs(86_400 * 9 / 10 + 1);
        s.handle_timeout(rekey);
        run(rekey, &mut h, &mut s);
        let sas = s.sas();
        assert_eq!(sas.len(), 1, "{sas:?}");
        assert_eq!(sas[0].tunnel_id, 2);
        assert_eq!(sas[0].status, SaStatus::Ready);
        assert_eq!(sas[0].established_at, Some(rekey));
        assert_eq!(sas[0].children.len(), 1);
        assert_eq!(h.sas()[0].tunnel_id, 2);
        assert_eq!(SaStatus::Deleting.ios(), "DELETE");
    }
}
