//! Two IKEv2 endpoints on an in-memory network with deterministic entropy and a virtual clock:
//! establishment, equal ESP keys, Child SA and IKE SA rekeys (with and without PFS, and
//! simultaneous), Deletes, liveness, cookies, INVALID_KE_PAYLOAD, PSK, identity and proposal
//! mismatches.
//! Every message either side sends is decoded with the `dmvpn-isakmp` v2 codec and, when
//! encrypted, decrypted with the keys the endpoints report, its ICV checked.
#![allow(clippy::unwrap_used, clippy::expect_used)] // tests

use std::net::Ipv4Addr;

use dmvpn_isakmp::consts::Group;
use dmvpn_isakmp::v2::crypto::{Encryption, Icv, Integrity, SaKeys};
use dmvpn_isakmp::v2::{ExchangeType, Message, PayloadType};
use dmvpn_proto::ike::{ChildSa, DeleteReason, EspAuth, EspCipher, TestEntropy, TransformSet};
use dmvpn_proto::ikev2::{
    Config, Endpoint, Error, Event, Failure, Identity, IkeProposal, RemoteIdentity,
};
use dmvpn_proto::{Duration, Instant};

const SPOKE: Ipv4Addr = Ipv4Addr::new(192, 0, 2, 2);
const HUB: Ipv4Addr = Ipv4Addr::new(192, 0, 2, 1);

fn proposal(encryption: Encryption, groups: &[Group]) -> IkeProposal {
    let mut p = IkeProposal::new(encryption, Integrity::HmacSha256_128, groups[0]);
    p.groups = groups.to_vec();
    p
}

fn config(local: Ipv4Addr) -> Config {
    let set = TransformSet::new(EspCipher::Aes256, EspAuth::Sha1);
    Config::dmvpn(
        local,
        proposal(Encryption::AesCbc(256), &[Group::MODP_1024]),
        b"cisco123",
        set,
    )
}

/// A message on the wire, for the codec checks at the end.
struct Sent {
    bytes: Vec<u8>,
}

struct Net {
    spoke: Endpoint<TestEntropy>,
    hub: Endpoint<TestEntropy>,
    now: Instant,
    sent: Vec<Sent>,
    events: [Vec<Event>; 2],
    errors: Vec<Error>,
    /// Drop what the hub sends (it is down).
    hub_down: bool,
}

impl Net {
    fn new(spoke: Config, hub: Config) -> Self {
        Self {
            spoke: Endpoint::new(spoke, TestEntropy::new(11)),
            hub: Endpoint::new(hub, TestEntropy::new(22)),
            now: Instant::ZERO,
            sent: Vec::new(),
            events: [Vec::new(), Vec::new()],
            errors: Vec::new(),
            hub_down: false,
        }
    }

    fn pair() -> Self {
        Self::new(config(SPOKE), config(HUB))
    }

    /// [`Self::new`] after the spoke connected to the hub and every message was pumped, whatever
    /// came of it.
    fn connected(spoke: Config, hub: Config) -> Self {
        let mut net = Self::new(spoke, hub);
        net.spoke.connect(net.now, HUB).unwrap();
        net.pump();
        net
    }

    /// [`Self::pair`] with its IKE SA and first Child SA [established](Self::establish).
    fn established() -> Self {
        let mut net = Self::pair();
        net.establish();
        net
    }

    /// Takes what the spoke (0) or the hub (1) sends, recording it.
    fn take(&mut self, side: usize) -> Vec<Vec<u8>> {
        let endpoint = if side == 0 {
            &mut self.spoke
        } else {
            &mut self.hub
        };
        let mut out = Vec::new();
        while let Some(t) = endpoint.poll_transmit() {
            assert_eq!(t.to, if side == 0 { HUB } else { SPOKE });
            self.sent.push(Sent {
                bytes: t.bytes.clone(),
            });
            out.push(t.bytes);
        }
        out
    }

    fn deliver(&mut self, to: usize, bytes: &[u8]) {
        let result = if to == 0 {
            self.spoke.handle_message(self.now, HUB, bytes)
        } else {
            self.hub.handle_message(self.now, SPOKE, bytes)
        };
        if let Err(e) = result {
            self.errors.push(e);
        }
    }

    /// Carries datagrams both ways until both are quiet; returns how many moved.
    fn pump(&mut self) -> usize {
        let mut moved = 0;
        loop {
            let from_spoke = self.take(0);
            let from_hub = self.take(1);
            if from_spoke.is_empty() && from_hub.is_empty() {
                break;
            }
            moved += from_spoke.len() + from_hub.len();
            for m in from_spoke {
                self.deliver(1, &m);
            }
            if !self.hub_down {
                for m in from_hub {
                    self.deliver(0, &m);
                }
            }
        }
        self.collect();
        moved
    }

    fn collect(&mut self) {
        while let Some(e) = self.spoke.poll_event() {
            self.events[0].push(e);
        }
        while let Some(e) = self.hub.poll_event() {
            self.events[1].push(e);
        }
    }

    /// Runs the clock to the next deadline of either side (at most `limit` later).
    fn tick(&mut self, limit: Duration) -> bool {
        let next = [self.spoke.poll_timeout(), self.hub.poll_timeout()]
            .into_iter()
            .flatten()
            .min();
        let Some(next) = next.filter(|&t| t <= self.now + limit) else {
            return false;
        };
        self.now = self.now.max(next);
        self.spoke.handle_timeout(self.now);
        self.hub.handle_timeout(self.now);
        self.pump();
        true
    }

    fn establish(&mut self) {
        self.spoke.connect(self.now, HUB).unwrap();
        self.pump();
        assert!(self.errors.is_empty(), "{:?}", self.errors);
        assert!(self.spoke.is_established(HUB) && self.hub.is_established(SPOKE));
    }

    fn children(&self, side: usize) -> Vec<ChildSa> {
        self.events[side]
            .iter()
            .filter_map(|e| match e {
                Event::ChildEstablished(c) => Some(c.clone()),
                _ => None,
            })
            .collect()
    }

    fn deleted(&self, side: usize) -> Vec<(u32, DeleteReason)> {
        self.events[side]
            .iter()
            .filter_map(|e| match e {
                Event::ChildDeleted {
                    inbound_spi,
                    reason,
                    ..
                } => Some((*inbound_spi, *reason)),
                _ => None,
            })
            .collect()
    }

    fn failures(&self, side: usize) -> Vec<Failure> {
        self.events[side]
            .iter()
            .filter_map(|e| match e {
                Event::Failed { reason, .. } => Some(*reason),
                _ => None,
            })
            .collect()
    }

    /// Every IKE SA's keys either side reported.
    fn ike_keys(&self) -> Vec<SaKeys> {
        self.events
            .iter()
            .flatten()
            .filter_map(|e| match e {
                Event::Established { keys, .. } | Event::Rekeyed { keys, .. } => Some(keys.clone()),
                _ => None,
            })
            .collect()
    }

    /// Every message sent decodes; every encrypted one decrypts with a reported key and its
    /// ICV verifies. Returns the exchanges seen.
    fn check_wire(&self) -> Vec<(ExchangeType, bool)> {
        let keys = self.ike_keys();
        let mut seen = Vec::new();
        for sent in &self.sent {
            let message = Message::parse(&sent.bytes).expect("decodes");
            message.check().expect("payload chain decodes");
            let h = message.header;
            seen.push((h.exchange_type, h.flags.response()));
            if message.encrypted_payload().is_none() {
                assert_eq!(h.exchange_type, ExchangeType::IKE_SA_INIT);
                continue;
            }
            let key = keys
                .iter()
                .find(|k| k.initiator_spi == h.initiator_spi && k.responder_spi == h.responder_spi)
                .expect("the keys of this SA were reported");
            let inner = message
                .decrypt(key)
                .expect("an SK payload")
                .expect("decrypts");
            assert_eq!(inner.decrypted.icv, Icv::Good);
            inner.payloads().check().expect("inner payloads decode");
        }
        seen
    }
}

/// `exchanges` as [`Net::check_wire`] lists them: each one's request, then its response.
fn round_trips(exchanges: &[ExchangeType]) -> Vec<(ExchangeType, bool)> {
    exchanges
        .iter()
        .flat_map(|&x| [(x, false), (x, true)])
        .collect()
}

/// The spoke's Child SA and the hub's are the two ends of one pair.
fn assert_paired(spoke: &ChildSa, hub: &ChildSa) {
    assert_eq!(spoke.outbound, hub.inbound);
    assert_eq!(spoke.inbound, hub.outbound);
    assert_ne!(spoke.inbound.encryption_key, spoke.outbound.encryption_key);
    assert!(spoke.inbound.to_sa().is_ok() && spoke.outbound.to_sa().is_ok());
}

#[test]
fn establishes_with_equal_esp_keys() {
    let net = Net::established();
    assert_eq!(net.sent.len(), 4);
    let (s, h) = (net.children(0), net.children(1));
    assert_eq!((s.len(), h.len()), (1, 1));
    assert_paired(&s[0], &h[0]);
    assert_eq!(s[0].transform_set.encryption, EspCipher::Aes256);
    assert_eq!(s[0].outbound.encryption_key.len(), 32);
    assert_eq!(s[0].outbound.integrity_key.len(), 20);
    let keys = net.ike_keys();
    assert_eq!(keys.len(), 2);
    assert_eq!(keys[0], keys[1]);
    // First the keys, when IKE_SA_INIT completes (what a key log writes), then the SA is up.
    let keyed: Vec<_> = (0..2)
        .map(|side| match &net.events[side][0] {
            Event::Keyed { keys, prf_keys, .. } => (keys.clone(), prf_keys.clone()),
            other => panic!("{other:?}"),
        })
        .collect();
    assert_eq!(keyed[0], keyed[1], "both ends derive the same SK_* keys");
    assert_eq!(keyed[0].0, keys[0]);
    assert_eq!(keyed[0].1.sk_pi.len(), 32, "PRF_HMAC_SHA2_256");
    assert_ne!(keyed[0].1.sk_pi, keyed[0].1.sk_pr);
    assert!(matches!(
        net.events[0][1],
        Event::Established {
            nat_detected: false,
            ..
        }
    ));
    assert_eq!(
        net.check_wire(),
        round_trips(&[ExchangeType::IKE_SA_INIT, ExchangeType::IKE_AUTH])
    );
}

#[test]
fn fqdn_identities_and_3des() {
    let mut spoke = config(SPOKE);
    let mut hub = config(HUB);
    for c in [&mut spoke, &mut hub] {
        c.proposals = vec![proposal(Encryption::TripleDes, &[Group::MODP_1024])];
        c.transform_sets = vec![TransformSet::new(EspCipher::TripleDes, EspAuth::Sha256)];
    }
    spoke.identity = Identity::Fqdn("spoke1.example.net".into());
    let mut net = Net::new(spoke, hub);
    net.establish();
    let (s, h) = (net.children(0), net.children(1));
    assert_paired(&s[0], &h[0]);
    assert_eq!(s[0].outbound.integrity_key.len(), 32);
    net.check_wire();
}

fn rekey_child(pfs: Option<Group>) {
    let mut spoke = config(SPOKE);
    let mut hub = config(HUB);
    spoke.pfs = pfs;
    hub.pfs = pfs;
    let mut net = Net::new(spoke, hub);
    net.establish();
    let old = net.children(0)[0].clone();
    net.spoke
        .rekey_child(net.now, HUB, old.inbound.spi)
        .unwrap();
    net.pump();
    assert!(net.errors.is_empty(), "{:?}", net.errors);
    let (s, h) = (net.children(0), net.children(1));
    assert_eq!((s.len(), h.len()), (2, 2));
    assert_paired(&s[1], &h[1]);
    assert_eq!(s[1].pfs, pfs);
    assert_ne!(s[1].outbound.encryption_key, old.outbound.encryption_key);
    assert_ne!(s[1].inbound.spi, old.inbound.spi);
    // The old pair is gone on both sides, deleted by the rekey's initiator.
    assert_eq!(net.deleted(0), [(old.inbound.spi, DeleteReason::Local)]);
    assert_eq!(
        net.deleted(1),
        [(old.outbound.spi, DeleteReason::PeerDeleted)]
    );
    assert_eq!(net.spoke.child_spis(HUB), [s[1].inbound.spi]);
    let exchanges = net.check_wire();
    assert_eq!(
        exchanges[4..],
        round_trips(&[ExchangeType::CREATE_CHILD_SA, ExchangeType::INFORMATIONAL])
    );
}

#[test]
fn child_rekey_without_pfs() {
    rekey_child(None);
}

#[test]
fn child_rekey_with_pfs() {
    rekey_child(Some(Group::MODP_1024));
}

#[test]
fn child_rekey_at_the_soft_lifetime() {
    let mut net = Net::established();
    while net.children(0).len() < 2 {
        assert!(net.tick(Duration::from_secs(4000)), "no rekey came");
    }
    // IOS's default lifetime: 3600 s, soft at 3240 s. Both sides rekey at that moment: a
    // simultaneous rekey, after which one pair remains.
    assert_eq!(net.now, Instant::ZERO + Duration::from_secs(3240));
    assert!(net.errors.is_empty(), "{:?}", net.errors);
    net.assert_surviving_pair();
    net.check_wire();
}

#[test]
fn ike_sa_rekey_moves_the_children() {
    let mut net = Net::established();
    let child = net.children(0)[0].clone();
    net.hub.rekey_ike(net.now, SPOKE).unwrap();
    net.pump();
    assert!(net.errors.is_empty(), "{:?}", net.errors);
    let rekeyed: Vec<&Event> = net
        .events
        .iter()
        .flatten()
        .filter(|e| matches!(e, Event::Rekeyed { .. }))
        .collect();
    assert_eq!(rekeyed.len(), 2);
    let keys = net.ike_keys();
    // Spoke: established, rekeyed; hub: the same.
    assert_eq!(keys[1], keys[3]);
    assert_ne!(keys[1].sk_ei, keys[0].sk_ei);
    assert_ne!(keys[1].initiator_spi, keys[0].initiator_spi);
    // The hub initiated the rekey: it is the new SA's initiator.
    assert_eq!(net.spoke.sa_count(), 1);
    assert_eq!(net.hub.sa_count(), 1);
    assert!(net.deleted(0).is_empty() && net.deleted(1).is_empty());
    assert_eq!(net.spoke.child_spis(HUB), [child.inbound.spi]);
    // The new SA works: a Child SA rekey runs over it.
    net.spoke
        .rekey_child(net.now, HUB, child.inbound.spi)
        .unwrap();
    net.pump();
    assert!(net.errors.is_empty(), "{:?}", net.errors);
    assert_paired(&net.children(0)[1], &net.children(1)[1]);
    net.check_wire();
}

#[test]
fn simultaneous_child_rekey_leaves_one_pair() {
    let mut net = Net::established();
    let (s0, h0) = (net.children(0)[0].clone(), net.children(1)[0].clone());
    net.spoke.rekey_child(net.now, HUB, s0.inbound.spi).unwrap();
    net.hub.rekey_child(net.now, SPOKE, h0.inbound.spi).unwrap();
    // Both requests cross on the wire.
    let (a, b) = (net.take(0), net.take(1));
    assert_eq!((a.len(), b.len()), (1, 1));
    net.deliver(1, &a[0]);
    net.deliver(0, &b[0]);
    net.pump();
    assert!(net.errors.is_empty(), "{:?}", net.errors);
    assert_eq!((net.children(0).len(), net.children(1).len()), (3, 3));
    net.assert_surviving_pair();
    assert_eq!(net.deleted(0).len(), 2);
    assert_eq!(net.deleted(1).len(), 2);
    net.check_wire();
}

#[test]
fn delete_child_then_ike_sa() {
    let mut net = Net::established();
    let child = net.children(0)[0].clone();
    net.spoke
        .delete_child(net.now, HUB, child.inbound.spi)
        .unwrap();
    net.pump();
    assert_eq!(net.deleted(0), [(child.inbound.spi, DeleteReason::Local)]);
    assert_eq!(
        net.deleted(1),
        [(child.outbound.spi, DeleteReason::PeerDeleted)]
    );
    net.hub.delete_peer(net.now, SPOKE).unwrap();
    net.pump();
    assert_eq!((net.spoke.sa_count(), net.hub.sa_count()), (0, 0));
    assert!(net.events[0].iter().any(|e| matches!(
        e,
        Event::Deleted {
            reason: DeleteReason::PeerDeleted,
            ..
        }
    )));
    assert!(net.events[1].iter().any(|e| matches!(
        e,
        Event::Deleted {
            reason: DeleteReason::Local,
            ..
        }
    )));
    net.check_wire();
}

/// A spoke checking the hub's liveness after 10 s of silence (`dpd 10`) and the hub,
/// established.
fn liveness_pair() -> Net {
    let mut spoke = config(SPOKE);
    spoke.dpd = Some(Duration::from_secs(10));
    let mut net = Net::new(spoke, config(HUB));
    net.establish();
    net
}

#[test]
fn liveness_declares_a_silent_peer_dead() {
    let mut net = liveness_pair();
    net.hub_down = true;
    let before = net.sent.len();
    while !net.events[0]
        .iter()
        .any(|e| matches!(e, Event::PeerDead { .. }))
    {
        assert!(net.tick(Duration::from_secs(600)), "never declared dead");
    }
    // The probe at 10 s, five retransmissions 4, 7.2, 13, 23.3, 42 s apart, then 75.6 s.
    let probes = net.sent[before..]
        .iter()
        .filter(|m| Message::parse(&m.bytes).unwrap().header.flags.initiator())
        .count();
    assert_eq!(probes, 6);
    assert_eq!(
        net.now.duration_since(Instant::ZERO).total_millis(),
        10_000 + 165_061
    );
    assert_eq!(net.spoke.sa_count(), 0);
    assert_eq!(
        net.deleted(0),
        [(net.children(0)[0].inbound.spi, DeleteReason::DeadPeer)]
    );
}

#[test]
fn liveness_answered_keeps_the_sa() {
    let mut net = liveness_pair();
    for _ in 0..5 {
        assert!(net.tick(Duration::from_secs(10)));
    }
    assert!(net.spoke.is_established(HUB));
    let informational = net
        .check_wire()
        .iter()
        .filter(|(x, _)| *x == ExchangeType::INFORMATIONAL)
        .count();
    assert_eq!(informational, 10);
}

#[test]
fn lost_response_is_resent_from_the_cache() {
    let mut net = Net::pair();
    net.spoke.connect(net.now, HUB).unwrap();
    net.pump_once_dropping_hub_auth();
    assert!(!net.spoke.is_established(HUB) && net.hub.is_established(SPOKE));
    assert!(net.tick(Duration::from_secs(5)));
    assert!(net.spoke.is_established(HUB));
    assert_eq!(net.children(1).len(), 1, "the hub did not redo IKE_AUTH");
    // The two IKE_AUTH responses are the same bytes.
    let auth: Vec<&Sent> = net
        .sent
        .iter()
        .filter(|m| m.bytes[18] == 35 && m.bytes[19] & 0x20 != 0)
        .collect();
    assert_eq!(auth.len(), 2);
    assert_eq!(auth[0].bytes, auth[1].bytes);
}

impl Net {
    /// Each side holds one Child SA, and they are the two ends of one pair.
    fn assert_surviving_pair(&self) {
        let (s, h) = (self.spoke.child_spis(HUB), self.hub.child_spis(SPOKE));
        assert_eq!((s.len(), h.len()), (1, 1), "one pair survives");
        let find = |side: usize, spi: u32| {
            self.children(side)
                .into_iter()
                .find(|c| c.inbound.spi == spi)
                .unwrap()
        };
        assert_paired(&find(0, s[0]), &find(1, h[0]));
    }

    fn pump_once_dropping_hub_auth(&mut self) {
        let init = self.take(0);
        self.deliver(1, &init[0]);
        let response = self.take(1);
        self.deliver(0, &response[0]);
        let auth = self.take(0);
        self.deliver(1, &auth[0]);
        let lost = self.take(1);
        assert_eq!(lost.len(), 1);
        self.collect();
    }
}

#[test]
fn cookie_round() {
    let mut hub = config(HUB);
    hub.cookie_threshold = 0;
    let mut net = Net::new(config(SPOKE), hub);
    net.establish();
    assert_eq!(net.sent.len(), 6);
    let first = Message::parse(&net.sent[1].bytes).unwrap();
    let notify = first.payloads().next().unwrap().unwrap();
    assert_eq!(notify.ty, PayloadType::NOTIFY);
    assert_eq!(notify.decode().unwrap().to_string(), "N(COOKIE)");
    let retry = Message::parse(&net.sent[2].bytes).unwrap();
    assert_eq!(
        retry
            .payloads()
            .next()
            .unwrap()
            .unwrap()
            .decode()
            .unwrap()
            .to_string(),
        "N(COOKIE)"
    );
    assert_paired(&net.children(0)[0], &net.children(1)[0]);
    net.check_wire();
}

#[test]
fn invalid_ke_retries_with_the_asked_group() {
    let mut spoke = config(SPOKE);
    spoke.proposals = vec![proposal(
        Encryption::AesCbc(256),
        &[Group::MODP_768, Group::MODP_1024],
    )];
    let mut net = Net::new(spoke, config(HUB));
    net.establish();
    assert_eq!(net.sent.len(), 6);
    let refused = Message::parse(&net.sent[1].bytes).unwrap();
    let n = refused.payloads().next().unwrap().unwrap();
    assert_eq!(n.decode().unwrap().to_string(), "N(INVALID_KE_PAYLOAD)");
    assert_eq!(n.body[4..], [0, 2]);
    let retry = Message::parse(&net.sent[2].bytes).unwrap();
    let ke = retry
        .payloads()
        .map(Result::unwrap)
        .find(|p| p.ty == PayloadType::KE)
        .unwrap();
    assert_eq!(ke.body[..2], [0, 2]);
    assert_paired(&net.children(0)[0], &net.children(1)[0]);
}

#[test]
fn psk_mismatch_is_authentication_failed() {
    let mut hub = config(HUB);
    hub.keys = vec![dmvpn_proto::ikev2::PresharedKey::wildcard(b"other")];
    let net = Net::connected(config(SPOKE), hub);
    assert_eq!(net.failures(0), [Failure::AuthenticationFailed]);
    assert_eq!(net.failures(1), [Failure::AuthenticationFailed]);
    assert!(
        net.errors
            .contains(&Error::AuthenticationFailed { peer: SPOKE })
    );
    assert_eq!((net.spoke.sa_count(), net.hub.sa_count()), (0, 0));
    // The refusal is an encrypted AUTHENTICATION_FAILED notification.
    let keys = net.ike_keys();
    assert!(keys.is_empty());
}

/// The hub's `match identity remote` does not cover the spoke's IDi: the hub answers
/// AUTHENTICATION_FAILED before it looks at AUTH, and says which identity it refused.
#[test]
fn unmatched_identity_is_refused() {
    let mut hub = config(HUB);
    hub.remote_identities = vec![
        RemoteIdentity::Address {
            address: Ipv4Addr::new(198, 51, 100, 0),
            mask: Ipv4Addr::new(255, 255, 255, 0),
        },
        RemoteIdentity::Fqdn("spoke9.example.net".into()),
    ];
    let mut spoke = config(SPOKE);
    spoke.identity = Identity::Fqdn("spoke1.example.net".into());
    let net = Net::connected(spoke, hub);
    assert_eq!(net.failures(0), [Failure::AuthenticationFailed]);
    assert_eq!(net.failures(1), [Failure::IdentityMismatch]);
    let refused = Error::IdentityMismatch {
        peer: SPOKE,
        identity: Identity::Fqdn("spoke1.example.net".into()),
    };
    assert!(net.errors.contains(&refused), "{:?}", net.errors);
    assert_eq!(
        refused.to_string(),
        "ikev2: identity fqdn spoke1.example.net of 192.0.2.2 matches no `match identity remote`"
    );
    assert_eq!((net.spoke.sa_count(), net.hub.sa_count()), (0, 0));
    assert!(net.ike_keys().is_empty());

    // An address identity outside the network is refused the same way.
    let mut hub = config(HUB);
    hub.remote_identities = vec![RemoteIdentity::Address {
        address: Ipv4Addr::new(192, 0, 2, 128),
        mask: Ipv4Addr::new(255, 255, 255, 128),
    }];
    let net = Net::connected(config(SPOKE), hub);
    assert_eq!(net.failures(1), [Failure::IdentityMismatch]);
    assert!(net.errors.contains(&Error::IdentityMismatch {
        peer: SPOKE,
        identity: Identity::Address(SPOKE),
    }));
    // And a profile without any `match identity remote` accepts no one.
    let mut hub = config(HUB);
    hub.remote_identities.clear();
    let net = Net::connected(config(SPOKE), hub);
    assert_eq!(net.failures(1), [Failure::IdentityMismatch]);
}

/// `any`, a masked address and an FQDN (in another case) each accept the peer.
#[test]
fn any_masked_address_and_fqdn_accept() {
    for accept in [
        RemoteIdentity::Any,
        RemoteIdentity::Address {
            address: Ipv4Addr::new(192, 0, 2, 0),
            mask: Ipv4Addr::new(255, 255, 255, 0),
        },
        RemoteIdentity::Address {
            address: Ipv4Addr::UNSPECIFIED,
            mask: Ipv4Addr::UNSPECIFIED,
        },
    ] {
        let mut hub = config(HUB);
        hub.remote_identities = vec![accept.clone()];
        let mut net = Net::new(config(SPOKE), hub);
        net.establish();
        assert_paired(&net.children(0)[0], &net.children(1)[0]);
    }
    let mut hub = config(HUB);
    hub.remote_identities = vec![RemoteIdentity::Fqdn("Spoke1.Example.NET".into())];
    let mut spoke = config(SPOKE);
    spoke.identity = Identity::Fqdn("spoke1.example.net".into());
    let mut net = Net::new(spoke, hub);
    net.establish();
    net.check_wire();
}

/// The initiator checks the responder's IDr against its own profile: a hub answering with an
/// identity the spoke does not expect is dropped after IKE_AUTH, and no Child SA is installed.
#[test]
fn initiator_refuses_an_unexpected_responder() {
    let mut spoke = config(SPOKE);
    spoke.remote_identities = vec![RemoteIdentity::Address {
        address: HUB,
        mask: Ipv4Addr::BROADCAST,
    }];
    let mut hub = config(HUB);
    hub.identity = Identity::Fqdn("hub.example.net".into());
    let net = Net::connected(spoke, hub);
    assert_eq!(net.failures(0), [Failure::IdentityMismatch]);
    assert!(net.errors.contains(&Error::IdentityMismatch {
        peer: HUB,
        identity: Identity::Fqdn("hub.example.net".into()),
    }));
    assert_eq!(net.spoke.sa_count(), 0);
    assert!(net.children(0).is_empty());
    // The spoke's Delete of the IKE SA takes down what the hub had established.
    assert_eq!(net.hub.sa_count(), 0);
    assert!(
        net.events[1]
            .iter()
            .any(|e| matches!(e, Event::Deleted { peer: SPOKE, .. })),
        "{:?}",
        net.events[1]
    );
    net.check_wire();
}

#[test]
fn no_common_proposal() {
    let mut hub = config(HUB);
    hub.proposals = vec![proposal(Encryption::AesCbc(128), &[Group::MODP_1024])];
    let net = Net::connected(config(SPOKE), hub);
    assert_eq!(net.failures(0), [Failure::NoProposalChosen]);
    assert_eq!(net.failures(1), [Failure::NoProposalChosen]);
    assert_eq!(net.sent.len(), 2);
    net.check_wire();
}

#[test]
fn no_common_transform_set_keeps_the_ike_sa() {
    let mut hub = config(HUB);
    hub.transform_sets = vec![TransformSet::new(EspCipher::Aes128, EspAuth::Sha256)];
    let mut net = Net::new(config(SPOKE), hub);
    net.establish();
    assert!(net.children(0).is_empty() && net.children(1).is_empty());
    assert_eq!(net.failures(0), [Failure::NoProposalChosen]);
    net.check_wire();
}

#[test]
fn initiator_gives_up_after_charons_retransmissions() {
    let mut net = Net::pair();
    net.hub_down = true;
    net.spoke.connect(net.now, HUB).unwrap();
    let mut steps = 0;
    while net.failures(0).is_empty() {
        // The hub answers, but its answers are lost.
        net.pump();
        assert!(net.tick(Duration::from_secs(100)));
        steps += 1;
        assert!(steps < 20);
    }
    assert_eq!(net.failures(0), [Failure::Retransmissions]);
    assert_eq!(
        net.now.duration_since(Instant::ZERO).total_millis(),
        165_061
    );
}

#[test]
fn garbage_is_refused_with_typed_errors() {
    let mut net = Net::established();
    let mut ikev1 = net.sent[2].bytes.clone();
    ikev1[17] = 0x10;
    assert_eq!(
        net.hub.handle_message(net.now, SPOKE, &ikev1),
        Err(Error::Version {
            peer: SPOKE,
            version: 1
        })
    );
    let mut flipped = net.sent[2].bytes.clone();
    let last = flipped.len() - 1;
    flipped[last] ^= 1;
    flipped[23] = 5; // a new message ID
    assert!(matches!(
        net.hub.handle_message(net.now, SPOKE, &flipped),
        Err(Error::MessageId { expected: 2, .. })
    ));
    assert!(net.hub.handle_message(net.now, SPOKE, &[0; 10]).is_err());
    assert!(net.hub.is_established(SPOKE));
}
