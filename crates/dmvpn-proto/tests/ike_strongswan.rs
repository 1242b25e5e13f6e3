//! The IKE endpoint against real strongSwan 5.9.8 sessions (`testdata/isakmp/strongswan-*.pcap`,
//! recorded by `tools/lab/ike_lab.sh`, PSK `lab-psk-secret`, keys charon logged in `*.keys.json`).
//!
//! charon never logs its Diffie-Hellman private value, so the replays inject the recorded side's
//! randomness — its cookie, nonces, SPI, message ID, and through [`KeyExchange::recorded`] its
//! public value and the g^xy it logged — and feed the endpoint the other side's recorded
//! messages in order. Everything else is the endpoint's own work: proposal choice, the key
//! schedule, HASH_I / HASH_R and the Quick Mode hashes, the CBC IV chain and encryption. Where
//! charon's message is deterministic given those inputs, the endpoint's message must equal it
//! byte for byte (Main Mode 5 and 6, Quick Mode 1 and 2); the keys must equal the log.
#![allow(clippy::unwrap_used, clippy::expect_used)] // tests

use std::collections::VecDeque;
use std::net::Ipv4Addr;
use std::path::Path;

use dmvpn_isakmp::consts::{ExchangeType, Group, NotifyType, PayloadType};
use dmvpn_isakmp::crypto::{Cipher, IkeSaState, encrypt, pad};
use dmvpn_isakmp::keys::{Phase1Keys, Secret};
use dmvpn_isakmp::payload::{Notify, Payloads};
use dmvpn_isakmp::{Message, sa::Sa};
use dmvpn_proto::Instant;
use dmvpn_proto::ike::{
    Config, Endpoint, Entropy, Error, EspAuth, EspCipher, Event, Failure, Hash, IdentityPort,
    KeyExchange, Policy, PresharedKey, Purpose, Role, TestEntropy, TransformSet,
};
use dmvpn_proto::time::Duration;

const INITIATOR: Ipv4Addr = Ipv4Addr::new(192, 0, 2, 1);
const RESPONDER: Ipv4Addr = Ipv4Addr::new(192, 0, 2, 2);
const PSK: &[u8] = b"lab-psk-secret";

fn testdata(name: &str) -> std::path::PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../testdata/isakmp")
        .join(name)
}

fn unhex(text: &str) -> Vec<u8> {
    (0..text.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&text[i..i + 2], 16).unwrap())
        .collect()
}

/// The ISAKMP messages of a capture (Ethernet / IPv4 / UDP 500 or 4500 with the non-ESP
/// marker), ESP-in-UDP left out: a 40-line pcap reader instead of a dev-dependency.
fn isakmp(scenario: &str) -> Vec<(Ipv4Addr, Vec<u8>)> {
    let file = std::fs::read(testdata(&format!("strongswan-{scenario}.pcap"))).unwrap();
    assert_eq!(&file[..4], [0xd4, 0xc3, 0xb2, 0xa1], "little-endian pcap");
    assert_eq!(
        u32::from_le_bytes(file[20..24].try_into().unwrap()),
        1,
        "Ethernet"
    );
    let mut at = 24;
    let mut out = Vec::new();
    while at + 16 <= file.len() {
        let len = u32::from_le_bytes(file[at + 8..at + 12].try_into().unwrap()) as usize;
        let frame = &file[at + 16..at + 16 + len];
        at += 16 + len;
        if frame[12..14] != [0x08, 0x00] {
            continue;
        }
        let ip = &frame[14..];
        let ihl = usize::from(ip[0] & 0x0f) * 4;
        if ip[9] != 17 {
            continue;
        }
        let src = Ipv4Addr::new(ip[12], ip[13], ip[14], ip[15]);
        let udp = &ip[ihl..];
        let port = u16::from_be_bytes([udp[2], udp[3]]);
        let mut payload = &udp[8..];
        if port == 4500 {
            if payload[..4] != [0; 4] {
                continue; // ESP
            }
            payload = &payload[4..];
        }
        out.push((src, payload.to_vec()));
    }
    out
}

/// charon's logged keys: a JSON reader just big enough for `keys.json`.
struct Logged(String);

impl Logged {
    fn load(scenario: &str) -> Self {
        Self(
            std::fs::read_to_string(testdata(&format!("strongswan-{scenario}.keys.json"))).unwrap(),
        )
    }

    fn field_in<'a>(text: &'a str, key: &str) -> &'a str {
        let start = text.find(&format!("\"{key}\": \"")).unwrap() + key.len() + 5;
        &text[start..start + text[start..].find('"').unwrap()]
    }

    fn ike(&self, key: &str) -> Vec<u8> {
        let ike = &self.0[self.0.find("\"ike_sas\"").unwrap()..];
        unhex(Self::field_in(ike, key))
    }

    fn ike_str(&self, key: &str) -> &str {
        let ike = &self.0[self.0.find("\"ike_sas\"").unwrap()..];
        Self::field_in(ike, key)
    }

    /// (encryption key, integrity key) of the ESP SA with `spi`.
    fn esp(&self, spi: u32) -> (Vec<u8>, Vec<u8>) {
        let at = self.0.find(&format!("\"spi\": \"{spi:08x}\"")).unwrap();
        let start = self.0[..at].rfind('{').unwrap();
        let end = at + self.0[at..].find('}').unwrap();
        let sa = &self.0[start..end];
        (
            unhex(Self::field_in(sa, "encryption_key")),
            unhex(Self::field_in(sa, "integrity_key")),
        )
    }
}

/// Randomness recorded from the side the endpoint plays.
#[derive(Default)]
struct Replay {
    cookies: VecDeque<Vec<u8>>,
    nonces: VecDeque<Vec<u8>>,
    spis: VecDeque<Vec<u8>>,
    message_ids: VecDeque<Vec<u8>>,
    key_exchange: Option<(Vec<u8>, Vec<u8>)>,
    fallback: Option<TestEntropy>,
}

impl Entropy for Replay {
    fn fill(&mut self, purpose: Purpose, buf: &mut [u8]) {
        let queue = match purpose {
            Purpose::Cookie => &mut self.cookies,
            Purpose::Nonce => &mut self.nonces,
            Purpose::Spi => &mut self.spis,
            Purpose::MessageId => &mut self.message_ids,
            _ => {
                self.fallback
                    .get_or_insert(TestEntropy::new(7))
                    .fill(purpose, buf);
                return;
            }
        };
        match queue.pop_front() {
            Some(value) => buf.copy_from_slice(&value),
            None => self
                .fallback
                .get_or_insert(TestEntropy::new(7))
                .fill(purpose, buf),
        }
    }

    fn key_exchange(&mut self, group: Group) -> Result<KeyExchange, Error> {
        let (public, shared) = self.key_exchange.take().expect("one key exchange");
        KeyExchange::recorded(group, &public, Secret::new(shared))
    }
}

/// The recorded session, decrypted with charon's Ka by the codec.
struct Session {
    logged: Logged,
    messages: Vec<(Ipv4Addr, Vec<u8>)>,
    plaintexts: Vec<Option<Vec<u8>>>,
    cipher: Cipher,
    hash: Hash,
}

impl Session {
    fn load(scenario: &str) -> Self {
        let logged = Logged::load(scenario);
        let messages = isakmp(scenario);
        let cky_i: [u8; 8] = logged.ike("cookie_i").try_into().unwrap();
        let mut state = IkeSaState::new(cky_i, Secret::new(logged.ike("enc_key_Ka")));
        let plaintexts = messages
            .iter()
            .map(|(_, bytes)| state.process(&Message::parse(bytes).unwrap()).unwrap())
            .collect();
        let (cipher, hash) = match logged.ike_str("proposal") {
            "3DES_CBC/HMAC_MD5_96/PRF_HMAC_MD5/MODP_1024" => (Cipher::TripleDes, Hash::Md5),
            "AES_CBC_128/HMAC_SHA1_96/PRF_HMAC_SHA1/MODP_1024" => (Cipher::Aes128, Hash::Sha1),
            other => panic!("{other}"),
        };
        Self {
            logged,
            messages,
            plaintexts,
            cipher,
            hash,
        }
    }

    fn bytes(&self, i: usize) -> &[u8] {
        &self.messages[i].1
    }

    /// Body of the first payload of type `ty` in message `i` (decrypted if need be).
    fn payload(&self, i: usize, ty: PayloadType) -> Vec<u8> {
        let message = Message::parse(self.bytes(i)).unwrap();
        let chain = match &self.plaintexts[i] {
            Some(plain) => Payloads::decrypted(message.header.next_payload, plain, 28),
            None => message.payloads().unwrap(),
        };
        chain
            .map(Result::unwrap)
            .find(|p| p.ty == ty)
            .unwrap_or_else(|| panic!("message {i} has no {ty}"))
            .body
            .to_vec()
    }

    fn spi(&self, i: usize) -> Vec<u8> {
        let body = self.payload(i, PayloadType::SA);
        let sa = Sa::parse(&body, 0).unwrap();
        sa.proposals().next().unwrap().unwrap().spi.to_vec()
    }

    fn message_id(&self, i: usize) -> [u8; 4] {
        Message::parse(self.bytes(i))
            .unwrap()
            .header
            .message_id
            .to_be_bytes()
    }

    fn config(&self, local: Ipv4Addr, peer: Ipv4Addr, psk: &[u8]) -> Config {
        let mut policy = Policy::new(self.cipher, self.hash, Group::MODP_1024);
        policy.lifetime = Duration::from_secs(15840); // charon's ikelifetime, as it proposes it
        let mut config = Config::new(local);
        config.policies = vec![policy];
        config.keys = vec![PresharedKey::host(peer, psk)];
        config.transform_sets = vec![TransformSet::new(EspCipher::Aes128, EspAuth::Sha1)];
        config.ipsec_lifetime = Duration::from_secs(3960); // charon's lifetime
        config.ipsec_lifetime_kb = None;
        config.identity = IdentityPort {
            protocol: 0,
            port: 0,
        };
        config.nonce_len = 32;
        config
    }

    fn check_phase1<R: Entropy>(&self, endpoint: &mut Endpoint<R>, peer: Ipv4Addr, role: Role) {
        let keys = endpoint.phase1_keys(peer).expect("established");
        assert_eq!(keys.skeyid().as_bytes(), self.logged.ike("SKEYID"));
        assert_eq!(keys.skeyid_d().as_bytes(), self.logged.ike("SKEYID_d"));
        assert_eq!(keys.skeyid_a().as_bytes(), self.logged.ike("SKEYID_a"));
        assert_eq!(keys.skeyid_e().as_bytes(), self.logged.ike("SKEYID_e"));
        match endpoint.poll_event() {
            Some(Event::Phase1Established {
                peer: p,
                role: r,
                key,
                responder_cookie,
                suite,
            }) => {
                assert_eq!((p, r), (peer, role));
                assert_eq!(key.initiator_cookie.to_vec(), self.logged.ike("cookie_i"));
                assert_eq!(responder_cookie.to_vec(), self.logged.ike("cookie_r"));
                assert_eq!(key.encryption_key.as_bytes(), self.logged.ike("enc_key_Ka"));
                assert_eq!(suite.lifetime, Duration::from_secs(15840));
            }
            other => panic!("{other:?}"),
        }
    }

    fn check_child(&self, event: Option<Event>, inbound_spi: &[u8], outbound_spi: &[u8]) {
        let Some(Event::ChildEstablished(child)) = event else {
            panic!("{event:?}")
        };
        self.check_keys(&child, inbound_spi, outbound_spi);
    }

    /// The pair a responder offers in QM 2 (before QM 3): charon's keys already.
    fn check_offered(&self, event: Option<Event>, inbound_spi: &[u8], outbound_spi: &[u8]) {
        let Some(Event::ChildOffered(child)) = event else {
            panic!("{event:?}")
        };
        self.check_keys(&child, inbound_spi, outbound_spi);
    }

    fn check_keys(
        &self,
        child: &dmvpn_proto::ike::ChildSa,
        inbound_spi: &[u8],
        outbound_spi: &[u8],
    ) {
        assert_eq!(child.inbound.spi.to_be_bytes(), inbound_spi);
        assert_eq!(child.outbound.spi.to_be_bytes(), outbound_spi);
        for keys in [&child.inbound, &child.outbound] {
            let (enc, int) = self.logged.esp(keys.spi);
            assert_eq!(keys.encryption_key.as_bytes(), enc, "{:08x}", keys.spi);
            assert_eq!(keys.integrity_key.as_bytes(), int, "{:08x}", keys.spi);
            keys.to_sa().unwrap();
        }
        assert_eq!(child.lifetime.hard_time, Some(Duration::from_secs(3960)));
    }

    /// The QM 3 charon would have sent had the kernel taken the SAs (the xfrm captures have an
    /// Informational there instead): HASH(3) from charon's logged SKEYID_a by the codec, under
    /// the IV chained from the recorded QM 2.
    fn charon_qm3(&self) -> Vec<u8> {
        let prf = self.hash.prf();
        let keys = Phase1Keys::from_psk(
            prf,
            PSK,
            &self.payload(2, PayloadType::NONCE),
            &self.payload(3, PayloadType::NONCE),
            &self.logged.ike("dh_shared_secret"),
            self.logged.ike("cookie_i").try_into().unwrap(),
            self.logged.ike("cookie_r").try_into().unwrap(),
        );
        assert_eq!(keys.skeyid_a().as_bytes(), self.logged.ike("SKEYID_a"));
        let mid = u32::from_be_bytes(self.message_id(6));
        let hash = keys.quick_hash3(
            mid,
            &self.payload(6, PayloadType::NONCE),
            &self.payload(7, PayloadType::NONCE),
        );
        let mut chain = vec![0, 0, 0, 4 + hash.len() as u8];
        chain.extend_from_slice(hash.as_bytes());
        let qm2 = self.bytes(7);
        let iv = &qm2[qm2.len() - self.cipher.block_len()..];
        let ka = self.logged.ike("enc_key_Ka");
        let ct = encrypt(self.cipher, &ka, iv, &pad(self.cipher, &chain)).unwrap();
        let mut out = qm2[..28].to_vec();
        out[16] = PayloadType::HASH.0;
        out[24..28].copy_from_slice(&(28 + ct.len() as u32).to_be_bytes());
        out.extend_from_slice(&ct);
        out
    }
}

/// Our responder (playing charon at 192.0.2.2) fed charon's initiator messages.
fn responder(scenario: &str, psk: &[u8]) -> (Session, Endpoint<Replay>) {
    let s = Session::load(scenario);
    assert_eq!(s.messages[0].0, INITIATOR);
    let entropy = Replay {
        cookies: [Message::parse(s.bytes(1))
            .unwrap()
            .header
            .responder_cookie
            .to_vec()]
        .into(),
        nonces: [s.payload(3, PayloadType::NONCE)].into(),
        key_exchange: Some((
            s.payload(3, PayloadType::KE),
            s.logged.ike("dh_shared_secret"),
        )),
        ..Replay::default()
    };
    let endpoint = Endpoint::new(s.config(RESPONDER, INITIATOR, psk), entropy);
    (s, endpoint)
}

fn answer(endpoint: &mut Endpoint<Replay>, message: &[u8], peer: Ipv4Addr) -> Vec<u8> {
    endpoint
        .handle_message(Instant::ZERO, peer, message)
        .unwrap();
    let t = endpoint.poll_transmit().expect("an answer");
    assert_eq!(t.to, peer);
    assert!(endpoint.poll_transmit().is_none());
    t.bytes
}

fn sa_body(message: &[u8]) -> Vec<u8> {
    let message = Message::parse(message).unwrap();
    let payload = message
        .payloads()
        .unwrap()
        .map(Result::unwrap)
        .find(|p| p.ty == PayloadType::SA)
        .unwrap();
    payload.body.to_vec()
}

fn responder_main_mode(s: &Session, r: &mut Endpoint<Replay>) {
    // MM1 → MM2: the same choice as charon, the transform echoed.
    let mm2 = answer(r, s.bytes(0), INITIATOR);
    assert_eq!(sa_body(&mm2), sa_body(s.bytes(1)));
    // MM3 → MM4: KE and nonce (charon adds NAT-D payloads, which DMVPN Phase 1 does without).
    let mm4 = answer(r, s.bytes(2), INITIATOR);
    let kinds: Vec<PayloadType> = Message::parse(&mm4)
        .unwrap()
        .payloads()
        .unwrap()
        .map(|p| p.unwrap().ty)
        .collect();
    assert_eq!(kinds, [PayloadType::KE, PayloadType::NONCE]);
    // MM5 (HASH_I verified) → MM6: charon's bytes exactly — same HASH_R, same CBC chain.
    let mm6 = answer(r, s.bytes(4), INITIATOR);
    assert_eq!(mm6, s.bytes(5));
}

fn responder_replay(scenario: &str) {
    let (s, mut r) = responder(scenario, PSK);
    r.entropy_mut()
        .nonces
        .push_back(s.payload(7, PayloadType::NONCE));
    r.entropy_mut().spis.push_back(s.spi(7));
    responder_main_mode(&s, &mut r);
    s.check_phase1(&mut r, INITIATOR, Role::Responder);
    // QM1 (HASH(1) verified, proposal and GRE IDs accepted) → QM2: charon's bytes exactly.
    let qm2 = answer(&mut r, s.bytes(6), INITIATOR);
    assert_eq!(qm2, s.bytes(7));
    s.check_offered(r.poll_event(), &s.spi(7), &s.spi(6));
    // QM3 → both ESP SAs, with charon's keys.
    r.handle_message(Instant::ZERO, INITIATOR, &s.charon_qm3())
        .unwrap();
    s.check_child(r.poll_event(), &s.spi(7), &s.spi(6));
    // charon's Delete of the ISAKMP SA (its last message) is authenticated and obeyed.
    let (_, delete) = s.messages.last().unwrap();
    r.handle_message(Instant::ZERO, INITIATOR, delete).unwrap();
    assert!(matches!(
        r.poll_event(),
        Some(Event::Phase1Deleted {
            peer: INITIATOR,
            ..
        })
    ));
    assert!(!r.is_established(INITIATOR));
}

#[test]
fn responder_completes_main_and_quick_mode_against_charon_3des_md5() {
    responder_replay("xfrm-3des");
}

#[test]
fn responder_completes_main_and_quick_mode_against_charon_aes128_sha1() {
    responder_replay("xfrm-aes");
}

#[test]
fn responder_takes_charons_real_informational_after_qm2() {
    // What the xfrm capture really has after QM 2: charon's kernel refused the SAs, so it sends
    // NO-PROPOSAL-CHOSEN for its SPI (HASH(1)-protected); the pending Quick Mode fails.
    let (s, mut r) = responder("xfrm-aes", PSK);
    r.entropy_mut()
        .nonces
        .push_back(s.payload(7, PayloadType::NONCE));
    r.entropy_mut().spis.push_back(s.spi(7));
    responder_main_mode(&s, &mut r);
    let _ = r.poll_event();
    let _ = answer(&mut r, s.bytes(6), INITIATOR);
    // The keys of the pair charon refused to install are charon's (a key log opens its ESP).
    s.check_offered(r.poll_event(), &s.spi(7), &s.spi(6));
    let informational = s.bytes(8);
    assert_eq!(
        Message::parse(informational).unwrap().header.exchange_type,
        ExchangeType::INFORMATIONAL
    );
    r.handle_message(Instant::ZERO, INITIATOR, informational)
        .unwrap();
    assert_eq!(
        r.poll_event(),
        Some(Event::ChildFailed {
            peer: INITIATOR,
            reason: Failure::NoProposalChosen
        })
    );
    assert_eq!(r.counts(), (1, 0));
}

#[test]
fn responder_refuses_charon_with_a_wrong_psk() {
    let (s, mut r) = responder("xfrm-aes", b"not-the-lab-psk");
    let _ = answer(&mut r, s.bytes(0), INITIATOR);
    let _ = answer(&mut r, s.bytes(2), INITIATOR);
    let error = r
        .handle_message(Instant::ZERO, INITIATOR, s.bytes(4))
        .unwrap_err();
    assert_eq!(error, Error::AuthenticationFailed { peer: INITIATOR });
    assert_eq!(
        r.poll_event(),
        Some(Event::Phase1Failed {
            peer: INITIATOR,
            reason: Failure::AuthenticationFailed
        })
    );
    let notify = r.poll_transmit().unwrap();
    let message = Message::parse(&notify.bytes).unwrap();
    assert_eq!(message.header.exchange_type, ExchangeType::INFORMATIONAL);
    let payload = message.payloads().unwrap().next().unwrap().unwrap();
    assert_eq!(payload.ty, PayloadType::NOTIFY);
    let n = Notify::parse(payload.body, 0).unwrap();
    assert_eq!(n.ty, NotifyType::AUTHENTICATION_FAILED);
    assert_eq!(r.counts(), (0, 0));
}

#[test]
fn responder_main_mode_over_nat_t_and_refuses_udp_tunnel_mode() {
    // libipsec: Main Mode 5/6 float to UDP 4500 (the marker is stripped here); Quick Mode asks
    // for UDP-encapsulated tunnel mode, which a transport-mode transform set does not match.
    let (s, mut r) = responder("libipsec-aes", PSK);
    responder_main_mode(&s, &mut r);
    s.check_phase1(&mut r, INITIATOR, Role::Responder);
    let error = r
        .handle_message(Instant::ZERO, INITIATOR, s.bytes(6))
        .unwrap_err();
    assert_eq!(
        error,
        Error::NoProposalChosen {
            peer: INITIATOR,
            phase: 2
        }
    );
    assert_eq!(
        r.poll_event(),
        Some(Event::ChildFailed {
            peer: INITIATOR,
            reason: Failure::NoProposalChosen
        })
    );
    // The refusal is a protected Informational that charon's own keys decrypt.
    let informational = r.poll_transmit().unwrap();
    let mut state = IkeSaState::new(
        s.logged.ike("cookie_i").try_into().unwrap(),
        Secret::new(s.logged.ike("enc_key_Ka")),
    );
    for (_, bytes) in &s.messages[..6] {
        state.process(&Message::parse(bytes).unwrap()).unwrap();
    }
    let message = Message::parse(&informational.bytes).unwrap();
    let plain = state.process(&message).unwrap().unwrap();
    let notify = Payloads::decrypted(message.header.next_payload, &plain, 28)
        .map(Result::unwrap)
        .find(|p| p.ty == PayloadType::NOTIFY)
        .unwrap();
    let n = Notify::parse(notify.body, 0).unwrap();
    assert_eq!(n.ty, NotifyType::NO_PROPOSAL_CHOSEN);
}

/// Our initiator (playing charon at 192.0.2.1) fed charon's responder messages.
fn initiator_replay(scenario: &str, quick_mode: bool) {
    let s = Session::load(scenario);
    let entropy = Replay {
        cookies: [s.logged.ike("cookie_i")].into(),
        nonces: [
            s.payload(2, PayloadType::NONCE),
            s.payload(6, PayloadType::NONCE),
        ]
        .into(),
        spis: [s.spi(6)].into(),
        message_ids: [s.message_id(6).to_vec()].into(),
        key_exchange: Some((
            s.payload(2, PayloadType::KE),
            s.logged.ike("dh_shared_secret"),
        )),
        ..Replay::default()
    };
    let mut i = Endpoint::new(s.config(INITIATOR, RESPONDER, PSK), entropy);
    i.connect(Instant::ZERO, RESPONDER).unwrap();
    let mm1 = i.poll_transmit().unwrap();
    assert_eq!(
        sa_body(&mm1.bytes),
        sa_body(s.bytes(0)),
        "charon's SA payload"
    );
    let mm3 = answer(&mut i, s.bytes(1), RESPONDER);
    assert_eq!(
        Message::parse(&mm3)
            .unwrap()
            .header
            .responder_cookie
            .to_vec(),
        s.logged.ike("cookie_r")
    );
    // MM4 → MM5: charon's bytes exactly (ID, HASH_I, INITIAL-CONTACT).
    let mm5 = answer(&mut i, s.bytes(3), RESPONDER);
    assert_eq!(mm5, s.bytes(4));
    // MM6: HASH_R verified; Quick Mode 1 follows at once — charon's bytes exactly.
    i.handle_message(Instant::ZERO, RESPONDER, s.bytes(5))
        .unwrap();
    s.check_phase1(&mut i, RESPONDER, Role::Initiator);
    let qm1 = i.poll_transmit().unwrap();
    if !quick_mode {
        return;
    }
    assert_eq!(qm1.bytes, s.bytes(6));
    // QM2: HASH(2) verified, QM3 sent, both SAs with charon's keys.
    let qm3 = answer(&mut i, s.bytes(7), RESPONDER);
    assert_eq!(qm3, s.charon_qm3());
    s.check_child(i.poll_event(), &s.spi(6), &s.spi(7));
}

#[test]
fn initiator_completes_main_and_quick_mode_against_charon_3des_md5() {
    initiator_replay("xfrm-3des", true);
}

#[test]
fn initiator_completes_main_and_quick_mode_against_charon_aes128_sha1() {
    initiator_replay("xfrm-aes", true);
}

#[test]
fn initiator_main_mode_against_charon_over_nat_t() {
    initiator_replay("libipsec-aes", false);
}
