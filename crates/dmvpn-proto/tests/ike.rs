//! Two IKE endpoints (a spoke and a hub) on an in-memory network with a virtual clock: Main Mode
//! and Quick Mode in several suites, the ESP keys protecting real GRE through the SAD,
//! mismatched keys and proposals, loss and retransmission, lifetimes and rekeying, Delete, DPD
//! and INITIAL-CONTACT. Each test states what an IOS pair shows in the same situation.
#![allow(clippy::unwrap_used, clippy::expect_used)] // tests

use std::net::Ipv4Addr;

use dmvpn_esp::NextHeader;
use dmvpn_isakmp::Message;
use dmvpn_isakmp::consts::{ExchangeType, Group};
use dmvpn_isakmp::crypto::Cipher;
use dmvpn_proto::Instant;
use dmvpn_proto::ike::{
    ChildSa, Config, DeleteReason, Dpd, Endpoint, Error, EspAuth, EspCipher, Event, Failure, Hash,
    Policy, PresharedKey, Role, Suite, TestEntropy, TransformSet, Transmit,
};
use dmvpn_proto::ipsec::Sad;
use dmvpn_proto::time::Duration;

const SPOKE: Ipv4Addr = Ipv4Addr::new(203, 0, 113, 2);
const HUB: Ipv4Addr = Ipv4Addr::new(198, 51, 100, 1);

fn policy(cipher: Cipher, hash: Hash, group: Group) -> Policy {
    Policy::new(cipher, hash, group)
}

const AES_SHA: TransformSet = TransformSet::new(EspCipher::Aes128, EspAuth::Sha1);
const TDES_MD5: TransformSet = TransformSet::new(EspCipher::TripleDes, EspAuth::Md5);

fn config(local: Ipv4Addr, policy: Policy, psk: &[u8], set: TransformSet) -> Config {
    Config::dmvpn(local, policy, psk, set)
}

/// The spoke's and the hub's configurations (key `k`, [`AES_SHA`]), `set` applied to each.
fn configs(policy: Policy, set: impl Fn(&mut Config)) -> (Config, Config) {
    let [mut spoke, mut hub] = [SPOKE, HUB].map(|local| config(local, policy, b"k", AES_SHA));
    set(&mut spoke);
    set(&mut hub);
    (spoke, hub)
}

/// Decides per datagram (sender side, datagram, datagrams so far) whether it is lost.
type Loss = Box<dyn FnMut(usize, &Transmit, usize) -> bool>;

/// Rewrites a datagram in flight (sender side, datagrams so far, bytes).
type Tamper = Box<dyn FnMut(usize, usize, &mut Vec<u8>)>;

/// Spoke (side 0) and hub (side 1) joined by a lossy wire.
struct Net {
    ends: [Endpoint<TestEntropy>; 2],
    now: Instant,
    events: [Vec<Event>; 2],
    lose: Loss,
    tamper: Tamper,
    sent: Vec<(usize, Vec<u8>)>,
    errors: [Vec<Error>; 2],
}

const ADDR: [Ipv4Addr; 2] = [SPOKE, HUB];

impl Net {
    fn new(spoke: Config, hub: Config) -> Self {
        Self {
            ends: [
                Endpoint::new(spoke, TestEntropy::new(11)),
                Endpoint::new(hub, TestEntropy::new(22)),
            ],
            now: Instant::ZERO,
            events: [Vec::new(), Vec::new()],
            lose: Box::new(|_, _, _| false),
            tamper: Box::new(|_, _, _| {}),
            sent: Vec::new(),
            errors: [Vec::new(), Vec::new()],
        }
    }

    /// [`Self::new`] after the spoke connected to the hub and every datagram was delivered.
    fn connected(spoke: Config, hub: Config) -> Self {
        let mut net = Self::new(spoke, hub);
        net.connect();
        net.deliver();
        net
    }

    fn pair(policy: Policy, set: TransformSet) -> Self {
        Self::new(
            config(SPOKE, policy, b"cisco123", set),
            config(HUB, policy, b"cisco123", set),
        )
    }

    /// Delivers datagrams until none is in flight; returns how many moved.
    fn deliver(&mut self) -> usize {
        let mut moved = 0;
        loop {
            let mut any = false;
            for side in 0..2 {
                while let Some(mut t) = self.ends[side].poll_transmit() {
                    any = true;
                    moved += 1;
                    assert_eq!(t.to, ADDR[1 - side]);
                    let count = self.sent.len();
                    (self.tamper)(side, count, &mut t.bytes);
                    self.sent.push((side, t.bytes.clone()));
                    if (self.lose)(side, &t, count) {
                        continue;
                    }
                    if let Err(e) =
                        self.ends[1 - side].handle_message(self.now, ADDR[side], &t.bytes)
                    {
                        self.errors[1 - side].push(e);
                    }
                }
            }
            for side in 0..2 {
                while let Some(e) = self.ends[side].poll_event() {
                    self.events[side].push(e);
                }
            }
            if !any {
                return moved;
            }
        }
    }

    /// Runs the network and both timers until `until`.
    fn run_until(&mut self, until: Instant) {
        loop {
            self.deliver();
            let next = self.ends.iter().filter_map(Endpoint::poll_timeout).min();
            match next {
                Some(at) if at <= until => {
                    self.now = self.now.max(at);
                    for end in &mut self.ends {
                        end.handle_timeout(self.now);
                    }
                }
                _ => break,
            }
        }
        self.now = until;
        self.deliver();
    }

    fn connect(&mut self) {
        self.ends[0].connect(self.now, HUB).unwrap();
    }

    fn children(&self, side: usize) -> Vec<&ChildSa> {
        self.events[side]
            .iter()
            .filter_map(|e| match e {
                Event::ChildEstablished(c) => Some(c),
                _ => None,
            })
            .collect()
    }

    /// The suite of the ISAKMP SA `side` established first (its first event).
    fn suite(&self, side: usize) -> &Suite {
        let Event::Phase1Established { suite, .. } = &self.events[side][0] else {
            panic!("side {side} began with {:?}", self.events[side].first())
        };
        suite
    }

    /// Whether `side` reported the deletion of `child` (one of its own pairs, with the other
    /// side) for `reason`.
    fn child_deleted(&self, side: usize, child: &ChildSa, reason: DeleteReason) -> bool {
        self.events[side].contains(&Event::ChildDeleted {
            peer: ADDR[1 - side],
            inbound_spi: child.inbound.spi,
            outbound_spi: child.outbound.spi,
            reason,
        })
    }

    /// Whether `side` reported the deletion of an ISAKMP SA for `reason`.
    fn phase1_deleted(&self, side: usize, reason: DeleteReason) -> bool {
        self.events[side]
            .iter()
            .any(|e| matches!(e, Event::Phase1Deleted { reason: r, .. } if *r == reason))
    }

    fn exchanges(&self) -> Vec<ExchangeType> {
        self.sent
            .iter()
            .map(|(_, b)| Message::parse(b).unwrap().header.exchange_type)
            .collect()
    }
}

/// Main Mode with `peer` failed for `reason`.
const fn phase1_failed(peer: Ipv4Addr, reason: Failure) -> Event {
    Event::Phase1Failed { peer, reason }
}

/// GRE over the negotiated SAs, both ways, through the SAD as the router would install them.
fn gre_round_trip(spoke: &ChildSa, hub: &ChildSa) {
    let now = Instant::ZERO;
    let mut spoke_sad = Sad::new();
    let mut hub_sad = Sad::new();
    spoke_sad.install_outbound(
        now,
        SPOKE,
        HUB,
        spoke.outbound.to_sa().unwrap(),
        spoke.lifetime,
    );
    spoke_sad.install_inbound(now, SPOKE, spoke.inbound.to_sa().unwrap(), spoke.lifetime);
    hub_sad.install_outbound(now, HUB, SPOKE, hub.outbound.to_sa().unwrap(), hub.lifetime);
    hub_sad.install_inbound(now, HUB, hub.inbound.to_sa().unwrap(), hub.lifetime);
    // A GRE header (protocol 0x0800) and an inner IPv4 packet's first bytes.
    let gre = [
        0x00, 0x00, 0x08, 0x00, 0x45, 0x00, 0x00, 0x54, 0xab, 0xcd, 0x40, 0x00,
    ];
    let iv = vec![0x5a; spoke.outbound.to_sa().unwrap().iv_len()];
    let mut packet = Vec::new();
    spoke_sad
        .protect(SPOKE, HUB, &gre, &iv, &mut packet)
        .unwrap();
    let plain = hub_sad.unprotect(HUB, &mut packet).unwrap();
    assert_eq!(
        (plain.payload, plain.next_header),
        (&gre[..], NextHeader::GRE)
    );
    let mut back = Vec::new();
    hub_sad
        .protect(HUB, SPOKE, &gre[..8], &iv, &mut back)
        .unwrap();
    assert_eq!(
        spoke_sad.unprotect(SPOKE, &mut back).unwrap().payload,
        &gre[..8]
    );
    // A flipped ciphertext byte fails the ICV: the keys really are the ones in use.
    spoke_sad
        .protect(SPOKE, HUB, &gre, &iv, &mut packet)
        .unwrap();
    let last = packet.len() - 20;
    packet[last] ^= 1;
    assert!(hub_sad.unprotect(HUB, &mut packet).is_err());
}

fn establish(policy: Policy, set: TransformSet) -> Net {
    let mut net = Net::pair(policy, set);
    net.connect();
    net.deliver();
    assert_eq!(
        net.exchanges(),
        [
            [ExchangeType::MAIN; 6].as_slice(),
            &[ExchangeType::QUICK; 3]
        ]
        .concat()
    );
    let (spoke, hub) = (net.children(0), net.children(1));
    assert_eq!((spoke.len(), hub.len()), (1, 1));
    let (s, h) = (spoke[0], hub[0]);
    assert_eq!(s.outbound, h.inbound);
    assert_eq!(s.inbound, h.outbound);
    assert_ne!(s.inbound.encryption_key, s.outbound.encryption_key);
    assert_eq!((s.role, h.role), (Role::Initiator, Role::Responder));
    assert_eq!(s.transform_set, set);
    assert_eq!(net.ends[0].phase1_keys(HUB), net.ends[1].phase1_keys(SPOKE));
    gre_round_trip(s, h);
    net
}

#[test]
fn triple_des_md5_modp1024() {
    // IOS: `encryption 3des`, `hash md5`, `group 2`, `esp-3des esp-md5-hmac`.
    establish(
        policy(Cipher::TripleDes, Hash::Md5, Group::MODP_1024),
        TDES_MD5,
    );
}

#[test]
fn aes128_sha1_modp1024() {
    let net = establish(
        policy(Cipher::Aes128, Hash::Sha1, Group::MODP_1024),
        AES_SHA,
    );
    // The Phase 1 event carries the ikev1_decryption_table line (both sides agree).
    let keys: Vec<String> = net
        .events
        .iter()
        .map(|events| match &events[0] {
            Event::Phase1Established { key, .. } => key.to_table_line(),
            other => panic!("{other:?}"),
        })
        .collect();
    assert_eq!(keys[0], keys[1]);
    assert_eq!(keys[0].len(), 16 + 1 + 32);
}

#[test]
fn aes256_sha256_modp2048() {
    // Group 14, once (the 2048-bit exponentiation is the slow part of this file).
    establish(
        policy(Cipher::Aes256, Hash::Sha256, Group::MODP_2048),
        TransformSet::new(EspCipher::Aes256, EspAuth::Sha256),
    );
}

#[test]
fn pfs_group2() {
    let p = policy(Cipher::Aes128, Hash::Sha1, Group::MODP_768);
    let (mut spoke, hub) = configs(p, |c| c.pfs = Some(Group::MODP_1024));
    let net = Net::connected(spoke.clone(), hub);
    let (s, h) = (net.children(0)[0].clone(), net.children(1)[0].clone());
    assert_eq!(
        (s.pfs, h.pfs),
        (Some(Group::MODP_1024), Some(Group::MODP_1024))
    );
    assert_eq!(s.outbound, h.inbound);
    gre_round_trip(&s, &h);
    // The same exchange without PFS gives other keys for the same nonces' shape: PFS is in KEYMAT.
    spoke.pfs = None;
    let mut plain = Net::new(spoke, config(HUB, p, b"k", AES_SHA));
    plain.connect();
    plain.deliver();
    assert_eq!(plain.children(0)[0].pfs, None);
}

#[test]
fn policies_in_the_responders_priority_order() {
    // The spoke offers 3DES first and AES second; the hub's priority-10 policy is AES, so IOS
    // picks AES ("Checking ISAKMP transform 2 against priority 10 policy … atts are acceptable").
    let tdes = policy(Cipher::TripleDes, Hash::Md5, Group::MODP_768);
    let aes = policy(Cipher::Aes128, Hash::Sha1, Group::MODP_768);
    let mut spoke = config(SPOKE, tdes, b"k", AES_SHA);
    spoke.policies = vec![tdes, aes];
    let mut hub = config(HUB, aes, b"k", AES_SHA);
    hub.policies = vec![aes, tdes];
    let net = Net::connected(spoke, hub);
    for side in 0..2 {
        let suite = net.suite(side);
        assert_eq!((suite.encryption, suite.hash), (Cipher::Aes128, Hash::Sha1));
    }
}

#[test]
fn phase1_lifetime_negotiation() {
    // IOS accepts the initiator's lifetime when it is not longer than its policy's, and uses it.
    let mut short = policy(Cipher::Aes128, Hash::Sha1, Group::MODP_768);
    short.lifetime = Duration::from_secs(3600);
    let long = policy(Cipher::Aes128, Hash::Sha1, Group::MODP_768);
    let net = Net::connected(
        config(SPOKE, short, b"k", AES_SHA),
        config(HUB, long, b"k", AES_SHA),
    );
    for side in 0..2 {
        let suite = net.suite(side);
        assert_eq!(suite.lifetime, Duration::from_secs(3600));
    }
    // A longer lifetime than the hub's policy is not acceptable: NO-PROPOSAL-CHOSEN.
    let net = Net::connected(
        config(SPOKE, long, b"k", AES_SHA),
        config(HUB, short, b"k", AES_SHA),
    );
    assert_eq!(
        net.events[0],
        [phase1_failed(HUB, Failure::NoProposalChosen)]
    );
    assert_eq!(
        net.errors[1],
        [Error::NoProposalChosen {
            peer: SPOKE,
            phase: 1
        }]
    );
}

#[test]
fn phase2_responder_lifetime() {
    // The hub's SA lifetime is shorter: it answers with RESPONDER-LIFETIME, and both use it.
    let p = policy(Cipher::Aes128, Hash::Sha1, Group::MODP_768);
    let spoke = config(SPOKE, p, b"k", AES_SHA);
    let mut hub = config(HUB, p, b"k", AES_SHA);
    hub.ipsec_lifetime = Duration::from_secs(1200);
    hub.ipsec_lifetime_kb = Some(1000);
    let net = Net::connected(spoke, hub);
    for side in 0..2 {
        let child = net.children(side)[0];
        assert_eq!(child.lifetime.hard_time, Some(Duration::from_secs(1200)));
        assert_eq!(child.lifetime.hard_bytes, Some(1000 * 1024));
        // The SAD reports the volume's soft limit at 90 % (IOS rekeys there); the time's
        // rekey is IKE's own.
        assert_eq!(child.lifetime.soft_bytes, Some(921_600));
        assert_eq!(child.lifetime.soft_time, None);
    }
}

#[test]
fn psk_mismatch() {
    // IOS: "%CRYPTO-4-IKMP_BAD_MESSAGE … failed its sanity check" at the hub; MM 5 does not
    // authenticate. The hub refuses with AUTHENTICATION-FAILED and forgets the SA.
    let p = policy(Cipher::Aes128, Hash::Sha1, Group::MODP_1024);
    let net = Net::connected(
        config(SPOKE, p, b"spoke-key", AES_SHA),
        config(HUB, p, b"hub-key", AES_SHA),
    );
    assert_eq!(net.errors[1], [Error::AuthenticationFailed { peer: SPOKE }]);
    let failed = |peer| phase1_failed(peer, Failure::AuthenticationFailed);
    assert_eq!(net.events[1], [failed(SPOKE)]);
    assert_eq!(net.events[0], [failed(HUB)]);
    assert_eq!(net.ends[0].counts(), (0, 0));
    assert_eq!(net.ends[1].counts(), (0, 0));
    assert_eq!(net.ends[0].poll_timeout(), None);
}

#[test]
fn no_psk_for_the_peer() {
    let p = policy(Cipher::Aes128, Hash::Sha1, Group::MODP_768);
    let mut hub = config(HUB, p, b"k", AES_SHA);
    hub.keys = vec![PresharedKey::host(Ipv4Addr::new(203, 0, 113, 99), b"k")];
    let net = Net::connected(config(SPOKE, p, b"k", AES_SHA), hub);
    assert_eq!(net.errors[1], [Error::NoPresharedKey { peer: SPOKE }]);
    assert_eq!(
        net.events[0],
        [phase1_failed(HUB, Failure::NoProposalChosen)]
    );
    // And the spoke cannot start without a key for the hub.
    let mut lonely = config(SPOKE, p, b"k", AES_SHA);
    lonely.keys.clear();
    let mut end = Endpoint::new(lonely, TestEntropy::new(1));
    assert_eq!(
        end.connect(Instant::ZERO, HUB),
        Err(Error::NoPresharedKey { peer: HUB })
    );
}

#[test]
fn no_common_phase2_proposal() {
    // Transform sets differ: Main Mode completes, Quick Mode gets NO-PROPOSAL-CHOSEN in a
    // protected Informational and no SA is installed (IOS: "IPSEC(validate_proposal_request):
    // proposal part #1 … not acceptable").
    let p = policy(Cipher::Aes128, Hash::Sha1, Group::MODP_768);
    let net = Net::connected(
        config(SPOKE, p, b"k", AES_SHA),
        config(HUB, p, b"k", TDES_MD5),
    );
    assert_eq!(
        net.errors[1],
        [Error::NoProposalChosen {
            peer: SPOKE,
            phase: 2
        }]
    );
    assert!(net.events[0].contains(&Event::ChildFailed {
        peer: HUB,
        reason: Failure::NoProposalChosen
    }));
    assert!(net.ends[0].is_established(HUB));
    assert_eq!(net.ends[0].counts(), (1, 0));
    assert_eq!(net.exchanges().last(), Some(&ExchangeType::INFORMATIONAL));
}

#[test]
fn retransmission_on_loss() {
    // MM 3 (the 3rd datagram) and a later one are lost once: 10 s later the senders repeat
    // their last messages and the exchange completes. At 10 s both sides retransmit (the spoke
    // MM 3, the hub MM 2), and each side answers the other's duplicate with its own last
    // message again: the IKEv1 retransmission cascade IOS shows too, and it dies out.
    let mut net = Net::pair(policy(Cipher::Aes128, Hash::Sha1, Group::MODP_768), AES_SHA);
    net.lose = Box::new(|_, _, count| count == 2 || count == 8);
    net.connect();
    net.run_until(Instant::from_secs(5));
    assert!(net.children(0).is_empty());
    net.run_until(Instant::from_secs(60));
    assert_eq!((net.children(0).len(), net.children(1).len()), (1, 1));
    let mm3 = &net.sent[2].1;
    assert!(net.sent[3..].iter().any(|(side, b)| *side == 0 && b == mm3));
    assert!(net.sent.len() < 20, "{}", net.sent.len());
    let quiet = net.sent.len();
    net.run_until(Instant::from_secs(200));
    assert_eq!(net.sent.len(), quiet, "nothing left to retransmit");
    // A repeated MM 5 (the hub's MM 6 was "lost") is answered again, not processed twice.
    let mm5 = net
        .sent
        .iter()
        .find(|(side, b)| {
            let h = Message::parse(b).unwrap().header;
            *side == 0 && h.exchange_type == ExchangeType::MAIN && h.flags.encryption()
        })
        .unwrap()
        .1
        .clone();
    net.ends[1].handle_message(net.now, SPOKE, &mm5).unwrap();
    let again = net.ends[1].poll_transmit().unwrap();
    assert_eq!(
        Message::parse(&again.bytes).unwrap().header.exchange_type,
        ExchangeType::MAIN
    );
}

#[test]
fn death_by_retransmission() {
    // The hub is unreachable: MM 1 goes out at 0 s and again at 10, 20, 30, 40, 50 s; at 60 s
    // the spoke gives up ("deleting SA reason Death by retransmission P1").
    let mut net = Net::pair(policy(Cipher::Aes128, Hash::Sha1, Group::MODP_768), AES_SHA);
    net.lose = Box::new(|side, _, _| side == 0);
    net.connect();
    net.run_until(Instant::from_secs(59));
    assert_eq!(net.sent.len(), 6);
    assert!(net.events[0].is_empty());
    net.run_until(Instant::from_secs(61));
    assert_eq!(
        net.events[0],
        [phase1_failed(HUB, Failure::Retransmissions)]
    );
    assert_eq!(net.ends[0].counts(), (0, 0));
}

#[test]
fn lifetimes_rekey_then_expire() {
    // IPsec lifetime 100 s: the spoke (Quick Mode initiator) rekeys at 90 s; the old pair is
    // deleted at 100 s with a Delete; the new one carries traffic.
    // Phase 1 lifetime 300 s: a new Main Mode at 270 s, the old IKE SA expires at 300 s.
    let mut p = policy(Cipher::Aes128, Hash::Sha1, Group::MODP_768);
    p.lifetime = Duration::from_secs(300);
    let (spoke, hub) = configs(p, |c| c.ipsec_lifetime = Duration::from_secs(100));
    let mut net = Net::new(spoke, hub);
    net.connect();
    net.run_until(Instant::from_secs(89));
    assert_eq!(net.children(0).len(), 1);
    net.run_until(Instant::from_secs(91));
    assert_eq!((net.children(0).len(), net.children(1).len()), (2, 2));
    let first = net.children(0)[0].clone();
    net.run_until(Instant::from_secs(101));
    for side in 0..2 {
        let deleted: Vec<_> = net.events[side]
            .iter()
            .filter(|e| matches!(e, Event::ChildDeleted { .. }))
            .collect();
        assert!(!deleted.is_empty(), "side {side}: {:?}", net.events[side]);
    }
    assert!(net.child_deleted(0, &first, DeleteReason::Expired));
    assert_eq!(net.ends[0].counts().1, 1);
    // Phase 1: rekeyed at 270 s, the old SA gone at 300 s; IPsec keeps rekeying on the new one.
    net.run_until(Instant::from_secs(271));
    let established = |net: &Net| {
        net.events[0]
            .iter()
            .filter(|e| matches!(e, Event::Phase1Established { .. }))
            .count()
    };
    assert_eq!(established(&net), 2);
    net.run_until(Instant::from_secs(301));
    assert!(net.phase1_deleted(0, DeleteReason::Expired));
    assert!(net.ends[0].is_established(HUB));
    net.run_until(Instant::from_secs(400));
    assert!(net.children(0).len() >= 4);
    assert_eq!(net.ends[0].counts().1, 1);
}

#[test]
fn volume_rekey_replaces_the_pair_and_deletes_the_old_one() {
    // The SAD reported the volume's soft limit (the router calls `rekey`): a Quick Mode on the
    // IKE SA at once; the old pair is deleted, with a Delete, when the overlap is over, and is
    // not rekeyed again at 90 % of its time.
    let mut net = Net::pair(
        policy(Cipher::Aes128, Hash::Sha1, Group::MODP_1024),
        AES_SHA,
    );
    net.connect();
    net.deliver();
    let first = net.children(0)[0].clone();
    net.run_until(Instant::from_secs(5));
    let now = net.now;
    net.ends[0].rekey(now, HUB).unwrap();
    net.deliver();
    assert_eq!((net.children(0).len(), net.children(1).len()), (2, 2));
    assert_eq!(net.ends[0].counts().0, 1, "no new Main Mode");
    let second = net.children(0)[1].clone();
    assert_ne!(second.inbound.spi, first.inbound.spi);
    net.run_until(
        Instant::from_secs(5) + dmvpn_proto::ipsec::REKEY_OVERLAP + Duration::from_secs(1),
    );
    assert!(net.child_deleted(0, &first, DeleteReason::Expired));
    assert!(
        net.events[1]
            .iter()
            .any(|e| matches!(e, Event::ChildDeleted { inbound_spi, .. } if *inbound_spi == first.outbound.spi)),
        "the hub heard the Delete: {:?}",
        net.events[1]
    );
    // The first pair's time-based rekey (at 3240 s) is gone with it; the second's comes at
    // 5 s + 3240 s.
    net.run_until(Instant::from_secs(3244));
    assert_eq!(net.children(0).len(), 2);
    net.run_until(Instant::from_secs(3246));
    assert_eq!(net.children(0).len(), 3);
}

#[test]
fn delete_notifications() {
    // `clear crypto session` at the spoke: Deletes for the ESP SA and the ISAKMP SA; the hub
    // removes both.
    let mut net = establish(policy(Cipher::Aes128, Hash::Sha1, Group::MODP_768), AES_SHA);
    let child = net.children(1)[0].clone();
    let now = net.now;
    net.ends[0].delete_peer(now, HUB);
    net.deliver();
    assert!(net.child_deleted(1, &child, DeleteReason::PeerDeleted));
    assert!(net.phase1_deleted(1, DeleteReason::PeerDeleted));
    assert_eq!(net.ends[1].counts(), (0, 0));
    assert_eq!(net.ends[0].counts(), (0, 0));
}

/// A spoke and a hub with DPD every 10 s (the spoke's `periodic` or on demand, the hub's on
/// demand), connected.
fn dpd_pair(periodic: bool) -> Net {
    let p = policy(Cipher::Aes128, Hash::Sha1, Group::MODP_768);
    let mut spoke = config(SPOKE, p, b"k", AES_SHA);
    spoke.dpd = Some(Dpd::new(Duration::from_secs(10), periodic));
    let mut hub = config(HUB, p, b"k", AES_SHA);
    hub.dpd = Some(Dpd::new(Duration::from_secs(10), false));
    let mut net = Net::new(spoke, hub);
    net.connect();
    net
}

fn spoke_saw_peer_dead(net: &Net) -> bool {
    net.events[0]
        .iter()
        .any(|e| matches!(e, Event::PeerDown { .. }))
}

#[test]
fn dpd_periodic() {
    // `crypto isakmp keepalive 10 periodic` on the spoke: R-U-THERE every 10 s, ACKed. When the
    // hub goes silent, 5 retries 2 s apart, then the spoke declares it dead and drops its SAs.
    let mut net = dpd_pair(true);
    net.run_until(Instant::from_secs(35));
    let probes = net.sent.len() - 9;
    assert_eq!(probes, 3 * 2, "three R-U-THERE / ACK pairs");
    assert!(!spoke_saw_peer_dead(&net));
    // Silent from 35 s: R-U-THERE at 40 s, retries at 42 … 50 s, dead at 52 s.
    net.lose = Box::new(|side, _, _| side == 1);
    net.run_until(Instant::from_secs(51));
    assert!(!spoke_saw_peer_dead(&net));
    net.run_until(Instant::from_secs(52));
    assert!(net.events[0].contains(&Event::PeerDown { peer: HUB }));
    assert_eq!(net.ends[0].counts(), (0, 0));
}

#[test]
fn dpd_on_demand() {
    // On demand: no probe while idle; traffic after 10 s of silence triggers one.
    let mut net = dpd_pair(false);
    net.run_until(Instant::from_secs(30));
    assert_eq!(net.sent.len(), 9);
    net.ends[0].traffic_received(Instant::from_secs(25), HUB);
    net.ends[0].traffic_sent(Instant::from_secs(30), HUB);
    net.deliver();
    assert_eq!(net.sent.len(), 9);
    net.ends[0].traffic_sent(Instant::from_secs(36), HUB);
    net.deliver();
    assert_eq!(net.sent.len(), 11, "R-U-THERE and its ACK");
}

#[test]
fn initial_contact_after_a_spoke_reboot() {
    // The spoke reboots and negotiates afresh; its MM 5 carries INITIAL-CONTACT, so the hub
    // drops the SAs of the spoke's previous life at once instead of waiting for them to expire.
    let p = policy(Cipher::Aes128, Hash::Sha1, Group::MODP_768);
    let mut net = establish(p, AES_SHA);
    let old = net.children(1)[0].clone();
    net.ends[0] = Endpoint::new(config(SPOKE, p, b"cisco123", AES_SHA), TestEntropy::new(99));
    net.events = [Vec::new(), Vec::new()];
    net.connect();
    net.deliver();
    assert!(net.child_deleted(1, &old, DeleteReason::InitialContact));
    assert!(net.phase1_deleted(1, DeleteReason::InitialContact));
    assert_eq!(net.ends[1].counts(), (1, 1));
    assert_eq!(net.children(1).len(), 1);
}

#[test]
fn garbage_is_refused_with_typed_errors() {
    let p = policy(Cipher::Aes128, Hash::Sha1, Group::MODP_768);
    let mut hub = Endpoint::new(config(HUB, p, b"k", AES_SHA), TestEntropy::new(3));
    assert!(matches!(
        hub.handle_message(Instant::ZERO, SPOKE, &[0; 10]),
        Err(Error::Malformed(_))
    ));
    let mut quick = vec![1; 28];
    quick[8..16].fill(2);
    quick[16] = 8;
    quick[17] = 0x10;
    quick[18] = 32;
    quick[24..28].copy_from_slice(&28u32.to_be_bytes());
    assert_eq!(
        hub.handle_message(Instant::ZERO, SPOKE, &quick),
        Err(Error::UnknownSa {
            peer: SPOKE,
            initiator_cookie: 0x0101_0101_0101_0101
        })
    );
    assert_eq!(hub.poll_transmit(), None);
    assert_eq!(hub.poll_event(), None);
}

#[test]
fn commit_bit_waits_for_connected() {
    // RFC 2408 §4.6: with the commit bit set (here on QM 1 and QM 2 in flight: the flags are not
    // covered by the hashes), the responder sends CONNECTED after QM 3, and the initiator uses
    // its SAs only once CONNECTED arrived.
    for lose_connected in [false, true] {
        let mut net = Net::pair(policy(Cipher::Aes128, Hash::Sha1, Group::MODP_768), AES_SHA);
        net.tamper = Box::new(|_, count, bytes| {
            if count == 6 || count == 7 {
                bytes[19] |= 0x02;
            }
        });
        net.lose = Box::new(move |side, _, count| lose_connected && side == 1 && count == 9);
        net.connect();
        net.deliver();
        assert_eq!(
            net.exchanges(),
            [
                [ExchangeType::MAIN; 6].as_slice(),
                &[ExchangeType::QUICK; 3],
                &[ExchangeType::INFORMATIONAL]
            ]
            .concat()
        );
        assert_eq!(net.children(1).len(), 1);
        if lose_connected {
            assert!(net.children(0).is_empty());
        } else {
            assert_eq!(net.children(0)[0].outbound, net.children(1)[0].inbound);
        }
    }
}

#[test]
fn commit_bit_without_connected_installs_nothing() {
    let mut net = Net::pair(policy(Cipher::Aes128, Hash::Sha1, Group::MODP_768), AES_SHA);
    net.tamper = Box::new(|_, count, bytes| {
        if count == 7 {
            bytes[19] |= 0x02; // only QM 2: the hub never promised CONNECTED
        }
    });
    net.connect();
    net.deliver();
    assert_eq!(net.children(1).len(), 1);
    assert!(net.children(0).is_empty());
}

#[test]
fn repeated_quick_mode_3_is_absorbed() {
    // A late duplicate of QM 3 at the hub must not be answered with QM 2 again (which would make
    // the spoke repeat QM 3, and so on forever).
    let mut net = Net::pair(policy(Cipher::Aes128, Hash::Sha1, Group::MODP_768), AES_SHA);
    net.connect();
    net.deliver();
    let qm3 = net.sent[8].1.clone();
    assert_eq!(
        Message::parse(&qm3).unwrap().header.exchange_type,
        ExchangeType::QUICK
    );
    net.ends[1].handle_message(net.now, SPOKE, &qm3).unwrap();
    assert_eq!(net.ends[1].poll_transmit(), None);
    // A repeated QM 2 at the spoke is answered with QM 3 again.
    let qm2 = net.sent[7].1.clone();
    net.ends[0].handle_message(net.now, HUB, &qm2).unwrap();
    assert_eq!(net.ends[0].poll_transmit().unwrap().bytes, qm3);
    assert_eq!(net.ends[1].counts(), (1, 1));
}

/// FNV-1a over every datagram (side, length, bytes): a compact fingerprint of what was sent.
fn fingerprint(sent: &[(usize, Vec<u8>)]) -> u64 {
    let mut hash = 0xcbf2_9ce4_8422_2325_u64;
    for (side, bytes) in sent {
        let len = u32::try_from(bytes.len()).unwrap().to_be_bytes();
        for b in [u8::try_from(*side).unwrap()]
            .iter()
            .chain(&len)
            .chain(bytes)
        {
            hash = (hash ^ u64::from(*b)).wrapping_mul(0x0100_0000_01b3);
        }
    }
    hash
}

#[test]
fn built_messages_are_pinned() {
    // The endpoint's messages byte for byte, recorded before the payload chains moved into
    // dmvpn-isakmp's builder: Main Mode (plain and encrypted), Quick Mode with PFS, DPD,
    // a protected NO-PROPOSAL-CHOSEN and Deletes. Entropy is seeded, so the bytes are fixed.
    let p = policy(Cipher::Aes128, Hash::Sha1, Group::MODP_768);
    let (mut spoke, hub) = configs(p, |c| c.pfs = Some(Group::MODP_768));
    spoke.dpd = Some(Dpd::new(Duration::from_secs(10), true));
    let mut net = Net::new(spoke, hub);
    net.connect();
    net.run_until(Instant::from_secs(12));
    let now = net.now;
    net.ends[0].delete_peer(now, HUB);
    net.deliver();
    let lengths: Vec<usize> = net.sent.iter().map(|(_, b)| b.len()).collect();
    let first: String = net.sent[0].1.iter().map(|b| format!("{b:02x}")).collect();
    // Main Mode 1..6, Quick Mode 1..3, R-U-THERE and its ACK at 10 s, then the Deletes (ESP, then
    // ISAKMP: 76 and 92 bytes, HASH + Delete padded to the AES block) and the hub's own Delete.
    assert_eq!(
        lengths,
        [
            108, 108, 152, 152, 108, 76, 284, 284, 60, 92, 92, 76, 92, 76
        ]
    );
    // Main Mode 1: cookies, one AES-128/SHA-1/group 1 transform (life 86400 s as a 4-byte TLV),
    // and the DPD vendor ID.
    assert_eq!(
        first,
        concat!(
            "e0ef6e795cd77c19000000000000000001100200000000000000006c0d00003c000000010000000100",
            "00003001010001000000280101000080010007800e0080800200028004000180030001800b0001000c",
            "00040001518000000014afcad71368a1f1c96b8696fc77570100"
        )
    );
    assert_eq!(fingerprint(&net.sent), 0xf09a_9b36_8f84_91ff);

    let mut refused = Net::new(
        config(SPOKE, p, b"k", AES_SHA),
        config(HUB, p, b"k", TDES_MD5),
    );
    refused.connect();
    refused.deliver();
    let last = &refused.sent.last().unwrap().1;
    // HASH + NO-PROPOSAL-CHOSEN (with the 4-byte ESP SPI), padded to the AES block.
    assert_eq!(last.len(), 76);
    assert_eq!(fingerprint(&refused.sent), 0xba75_53c2_b3a4_2bc4);
}

/// Two spokes that want a direct tunnel to each other at the same moment (both got the hub's
/// NHRP redirect) send each other Main Mode 1 at once. IOS ends with one IPsec SA pair between
/// them; so does the endpoint: the end with the lower address goes on, the other answers.
#[test]
fn crossed_main_modes_give_one_pair() {
    let mut net = Net::pair(policy(Cipher::Aes128, Hash::Sha1, Group::MODP_768), AES_SHA);
    let now = net.now;
    net.ends[0].connect(now, HUB).unwrap();
    net.ends[1].connect(now, SPOKE).unwrap();
    net.deliver();
    net.run_until(Instant::from_secs(40));
    assert_eq!(net.errors, [Vec::new(), Vec::new()]);
    let (a, b) = (net.children(0), net.children(1));
    assert_eq!((a.len(), b.len()), (1, 1));
    assert_eq!(a[0].inbound.spi, b[0].outbound.spi);
    assert_eq!(a[0].outbound.spi, b[0].inbound.spi);
    gre_round_trip(a[0], b[0]);
    let main_modes = net
        .exchanges()
        .iter()
        .filter(|&&e| e == ExchangeType::MAIN)
        .count();
    assert_eq!(
        main_modes, 7,
        "one Main Mode 1 ignored, then one whole Main Mode"
    );
}
