//! IKEv2 in the session report: one [`Ikev2Sa`] per IKE SA (by initiator SPI) of a pair, with its
//! exchanges ([`Ikev2Exchange`]: IKE_SA_INIT, IKE_AUTH, CREATE_CHILD_SA, INFORMATIONAL, by message
//! ID and direction), its Child SAs ([`Ikev2Child`]) and what the diagnosis rules need.
//!
//! What is in the clear works without keys: the IKE_SA_INIT proposal, the Diffie-Hellman group,
//! INVALID_KE_PAYLOAD and NO_PROPOSAL_CHOSEN answers, NAT detection, and every exchange's message
//! ID, direction and retransmissions (the header is never encrypted). What travels in the SK
//! payload (Child SAs and their SPIs, AUTHENTICATION_FAILED, TS_UNACCEPTABLE, rekeys, Deletes,
//! DPD) needs the SA's line in an `ikev2_decryption_table`.
//!
//! Proposals read as IOS writes them: the IKE SA's as `crypto ikev2 proposal` would
//! (`aes-cbc-256 sha256 group 14`, the PRF added as `prf sha384` when it is not the integrity
//! algorithm's, as for AEAD ciphers), a Child SA's as a `crypto ipsec transform-set`
//! (`esp-aes 256 esp-sha256-hmac`), with `pfs group N` when its CREATE_CHILD_SA carried a KE.
//!
//! ```
//! use dmvpn::session::ikev2_proposal;
//! use dmvpn_isakmp::v2::sa::Sa;
//!
//! // One IKE proposal: ENCR_AES_CBC/256, PRF_HMAC_SHA2_256, AUTH_HMAC_SHA2_256_128, group 14.
//! let proposal: &[u8] = &[
//!     0, 0, 0, 44, 1, 1, 0, 4,
//!     3, 0, 0, 12, 1, 0, 0, 12, 0x80, 14, 1, 0,
//!     3, 0, 0, 8, 2, 0, 0, 5,
//!     3, 0, 0, 8, 3, 0, 0, 12,
//!     0, 0, 0, 8, 4, 0, 0, 14,
//! ];
//! let sa = Sa::parse(proposal, 0)?;
//! let first = sa.proposals().next().unwrap()?;
//! assert_eq!(ikev2_proposal(&first), "aes-cbc-256 sha256 group 14");
//! # Ok::<(), dmvpn_isakmp::Error>(())
//! ```

mod psk;
mod render;

use std::net::IpAddr;

use dmvpn_isakmp::v2::consts::{EncrId, IntegId, PrfId, ProtocolId, TransformType};
use dmvpn_isakmp::v2::sa::Proposal;

use super::Seen;

pub use psk::Ikev2PskCheck;
pub(crate) use psk::{AuthMaterial, prf_of};
pub(super) use render::{json, text};

/// An IKEv2 SA between the pair: its exchanges and Child SAs.
#[derive(Clone, Debug, Default)]
pub struct Ikev2Sa {
    /// The initiator's SPI.
    pub spi_i: [u8; 8],
    /// The responder's SPI (zero until the responder answered).
    pub spi_r: [u8; 8],
    /// The original initiator's address (the sender of IKE_SA_INIT, or by the I flag).
    pub initiator: Option<IpAddr>,
    /// First message.
    pub first: Seen,
    /// Last message.
    pub last: Seen,
    /// Messages (retransmissions included).
    pub messages: u64,
    /// The IKE proposal in IOS terms: the responder's choice, else the initiator's first offer.
    pub proposal: Option<String>,
    /// Whether `proposal` is the responder's choice.
    pub proposal_accepted: bool,
    /// The initiator's authentication method (`pre-share`, `rsa-sig`, …), from its decrypted
    /// IKE_AUTH.
    pub auth_method: Option<String>,
    /// When the SA came up: the IKE_AUTH response (with its AUTH payload when decrypted).
    pub established: Option<Seen>,
    /// The exchanges, in order of their first message (at most
    /// [`MAX_EVENTS`](super::MAX_EVENTS)).
    pub exchanges: Vec<Ikev2Exchange>,
    /// The Child SAs negotiated (IKE_AUTH and CREATE_CHILD_SA).
    pub children: Vec<Ikev2Child>,
    /// NAT detection from the IKE_SA_INIT NAT_DETECTION_* hashes against the addresses and ports
    /// seen: whether the initiator's and the responder's address was translated (`None`: no hash
    /// of that side seen).
    pub nat: [Option<bool>; 2],
    /// Frames of the IKE_SA_INIT messages with NAT detection hashes that did not match.
    pub nat_frames: Vec<u64>,
    /// Error notifications, in any exchange.
    pub errors: Vec<Ikev2Notify>,
    /// INVALID_KE_PAYLOAD answers to IKE_SA_INIT.
    pub invalid_ke: Vec<InvalidKe>,
    /// Delete payloads: when, protocol and SPIs (ESP/AH) or none (IKE).
    pub deletes: Vec<(Seen, &'static str, Vec<u32>)>,
    /// Encrypted messages not read (no key).
    pub undecrypted: u64,
    /// The SPIs this SA's IKE rekey created (a CREATE_CHILD_SA with an IKE proposal).
    pub rekeyed_to: Option<([u8; 8], [u8; 8])>,
    /// For an SA an IKE rekey created, the initiator SPI of the SA it replaced (it is then up
    /// from that rekey's answer: it has no IKE_SA_INIT or IKE_AUTH of its own).
    pub rekeyed_from: Option<[u8; 8]>,
    /// The answer to this SA's IKE rekey.
    pub(super) rekey_answer: Option<Seen>,
    /// The group of the initiator's latest IKE_SA_INIT KE payload.
    pub(super) offered_ke: Option<u16>,
    /// With pre-shared keys given ([`SessionBuilder::with_psks`](super::SessionBuilder::with_psks),
    /// `dmvpn sessions --psk`), the check of the initiator's and the responder's AUTH payload
    /// (RFC 7296 §2.15; it needs SK_pi / SK_pr, the optional tenth and eleventh columns of the
    /// SA's `ikev2_decryption_table` line); `None` without keys.
    pub psk: [Option<Ikev2PskCheck>; 2],
    /// What the PSK check needs from the exchanges (kept only when keys were given).
    pub(super) auth_material: Option<Box<AuthMaterial>>,
}

/// One request and its response, by message ID and requester.
#[derive(Clone, Debug, Default, Eq, PartialEq)]
pub struct Ikev2Exchange {
    /// The exchange type's name (or number).
    pub exchange: String,
    /// The message ID.
    pub message_id: u32,
    /// Whether the request came from the IKE SA's original initiator.
    pub from_initiator: bool,
    /// The first copy of the request (`None`: only the response was captured).
    pub request: Option<Seen>,
    /// Frames of every copy of the request (at most [`MAX_EVIDENCE`](super::MAX_EVIDENCE)).
    pub request_frames: Vec<u64>,
    /// Copies of the request: more than one are retransmissions.
    pub requests: u64,
    /// The first response.
    pub response: Option<Seen>,
    /// What the exchange did, when it can be told: `dpd`, `delete`, `ike-rekey`, `child-rekey`,
    /// `child`, `auth`, `init`.
    pub kind: Option<&'static str>,
    /// The first error notification in the response.
    pub error: Option<String>,
    /// Whether a message of the exchange was encrypted and not read (no key).
    pub undecrypted: bool,
    /// For a Child SA rekey, the SPI named by REKEY_SA.
    pub rekey_spi: Option<u32>,
}

/// A Child SA negotiated in IKE_AUTH or CREATE_CHILD_SA.
#[derive(Clone, Debug, Default, Eq, PartialEq)]
pub struct Ikev2Child {
    /// The exchange: `IKE_AUTH` or `CREATE_CHILD_SA`.
    pub exchange: &'static str,
    /// Its message ID.
    pub message_id: u32,
    /// Whether the original initiator requested it.
    pub from_initiator: bool,
    /// The request.
    pub first: Seen,
    /// The response that accepted it.
    pub completed: Option<Seen>,
    /// The inbound SPIs of the requester, then of the responder (ESP to the requester carries the
    /// first).
    pub spis: Vec<u32>,
    /// The transform set in IOS terms (`esp-aes 256 esp-sha256-hmac`), the responder's choice.
    pub transform: Option<String>,
    /// The PFS group of a CREATE_CHILD_SA with a KE payload.
    pub pfs: Option<u16>,
    /// `transport` when both sides sent USE_TRANSPORT_MODE, else `tunnel`.
    pub mode: Option<&'static str>,
    /// The SPI of the Child SA this one rekeys (REKEY_SA).
    pub rekey_of: Option<u32>,
    /// The error notification that refused it.
    pub refused: Option<String>,
    /// The Delete that removed it.
    pub deleted: Option<Seen>,
}

/// An IKEv2 error notification.
#[derive(Clone, Debug, Eq, PartialEq)]
pub struct Ikev2Notify {
    /// When.
    pub seen: Seen,
    /// The type's name (or number).
    pub ty: String,
    /// The exchange it came in.
    pub exchange: String,
    /// Whether it was in a response.
    pub response: bool,
    /// Its sender.
    pub from: IpAddr,
}

/// An INVALID_KE_PAYLOAD answer to IKE_SA_INIT (RFC 7296 §1.2) and the retry it asked for.
#[derive(Clone, Copy, Debug, Eq, PartialEq)]
pub struct InvalidKe {
    /// The frame of the answer.
    pub frame: u64,
    /// The group the initiator offered a KE for.
    pub offered: Option<u16>,
    /// The group the responder asked for.
    pub asked: Option<u16>,
    /// The frame of the initiator's IKE_SA_INIT retry with that group.
    pub retried: Option<u64>,
}

impl Ikev2Sa {
    /// The SPIs of the Child SAs (every side's).
    pub fn child_spis(&self) -> impl Iterator<Item = u32> + '_ {
        self.children.iter().flat_map(|c| c.spis.iter().copied())
    }

    /// Retransmitted requests: the copies beyond the first of every exchange.
    #[must_use]
    pub fn retransmissions(&self) -> u64 {
        self.exchanges
            .iter()
            .map(|e| e.requests.saturating_sub(1))
            .sum()
    }

    /// Exchanges by kind (`dpd`, `ike-rekey`, `child-rekey`, …).
    pub fn count(&self, kind: &str) -> usize {
        self.exchanges
            .iter()
            .filter(|e| e.kind == Some(kind))
            .count()
    }

    /// Simultaneous rekeys (RFC 7296 §2.8.1): two rekey requests of the same SA from both ends,
    /// each sent before the other was answered. The frames of the two requests.
    #[must_use]
    pub fn collisions(&self) -> Vec<(u64, u64)> {
        let rekeys: Vec<&Ikev2Exchange> = self
            .exchanges
            .iter()
            .filter(|e| matches!(e.kind, Some("ike-rekey" | "child-rekey")))
            .collect();
        let mut out = Vec::new();
        for (n, a) in rekeys.iter().enumerate() {
            for b in rekeys.iter().skip(n + 1) {
                let same_target = a.kind == b.kind
                    && (a.kind == Some("ike-rekey") || self.same_child(a.rekey_spi, b.rekey_spi));
                let (Some(ra), Some(rb)) = (a.request, b.request) else {
                    continue;
                };
                let before = |request: Seen, answer: Option<Seen>| {
                    answer.is_none_or(|answer| request.frame < answer.frame)
                };
                if same_target
                    && a.from_initiator != b.from_initiator
                    && before(rb, a.response)
                    && before(ra, b.response)
                {
                    out.push((ra.frame, rb.frame));
                }
            }
        }
        out
    }

    /// Whether two REKEY_SA SPIs name the same Child SA (either of its SPIs).
    fn same_child(&self, a: Option<u32>, b: Option<u32>) -> bool {
        let (Some(a), Some(b)) = (a, b) else {
            return false;
        };
        a == b
            || self
                .children
                .iter()
                .any(|c| c.spis.contains(&a) && c.spis.contains(&b))
    }
}

/// An IKE proposal in IOS `crypto ikev2 proposal` terms: `aes-cbc-256 sha256 group 14`; the PRF
/// follows as `prf sha256` when no integrity algorithm names it (AEAD) or it differs.
#[must_use]
pub fn ikev2_proposal(proposal: &Proposal<'_>) -> String {
    let mut parts = Vec::new();
    let mut integ = None;
    let mut prf = None;
    let mut groups = Vec::new();
    for transform in proposal.transforms().map_while(Result::ok) {
        let bits = transform.key_length();
        match transform.ty {
            TransformType::ENCR => parts.push(encryption(EncrId(transform.id), bits)),
            TransformType::INTEG if transform.id != 0 => {
                integ = Some(integrity(IntegId(transform.id)));
            }
            TransformType::PRF => prf = Some(prf_name(PrfId(transform.id))),
            TransformType::KE if transform.id != 0 => groups.push(transform.id),
            _ => {}
        }
    }
    if let Some(integ) = &integ {
        parts.push(integ.clone());
    }
    if let Some(prf) = prf
        && integ.as_ref() != Some(&prf)
    {
        parts.push(format!("prf {prf}"));
    }
    if !groups.is_empty() {
        let groups: Vec<String> = groups.iter().map(u16::to_string).collect();
        parts.push(format!("group {}", groups.join(" ")));
    }
    if proposal.protocol != ProtocolId::IKE {
        return child_transform(proposal);
    }
    parts.join(" ")
}

/// A Child SA proposal in IOS `crypto ipsec transform-set` terms: `esp-aes 256 esp-sha256-hmac`,
/// `esp-gcm 256`, `esp-3des esp-sha-hmac`.
#[must_use]
pub fn child_transform(proposal: &Proposal<'_>) -> String {
    let esp = proposal.protocol == ProtocolId::ESP;
    let mut parts = Vec::new();
    for transform in proposal.transforms().map_while(Result::ok) {
        let bits = transform.key_length();
        let with_bits = |name: &str| match bits {
            Some(bits) => format!("{name} {bits}"),
            None => name.to_owned(),
        };
        match (transform.ty, EncrId(transform.id)) {
            (TransformType::ENCR, EncrId::AES_CBC) => parts.push(with_bits("esp-aes")),
            (TransformType::ENCR, EncrId::AES_GCM_16) => parts.push(with_bits("esp-gcm")),
            (TransformType::ENCR, EncrId::NULL_AUTH_AES_GMAC) => parts.push(with_bits("esp-gmac")),
            (TransformType::ENCR, EncrId::TRIPLE_DES) => parts.push("esp-3des".to_owned()),
            (TransformType::ENCR, EncrId::DES) => parts.push("esp-des".to_owned()),
            (TransformType::ENCR, EncrId::NULL) => parts.push("esp-null".to_owned()),
            (TransformType::ENCR, id) => {
                parts.push(with_bits(&format!("esp-{}", lower(id.name(), id.0))));
            }
            (TransformType::INTEG, id) if id.0 != 0 => {
                let prefix = if esp { "esp" } else { "ah" };
                let name = match IntegId(transform.id) {
                    IntegId::HMAC_MD5_96 => "md5-hmac".to_owned(),
                    IntegId::HMAC_SHA1_96 => "sha-hmac".to_owned(),
                    IntegId::HMAC_SHA2_256_128 => "sha256-hmac".to_owned(),
                    IntegId::HMAC_SHA2_384_192 => "sha384-hmac".to_owned(),
                    IntegId::HMAC_SHA2_512_256 => "sha512-hmac".to_owned(),
                    other => integrity(other),
                };
                parts.push(format!("{prefix}-{name}"));
            }
            _ => {}
        }
    }
    parts.join(" ")
}

/// The KE group of a proposal, if it has one (a Child SA's PFS group).
pub(super) fn proposal_group(proposal: &Proposal<'_>) -> Option<u16> {
    proposal
        .transforms()
        .map_while(Result::ok)
        .find(|t| t.ty == TransformType::KE && t.id != 0)
        .map(|t| t.id)
}

fn encryption(id: EncrId, bits: Option<u16>) -> String {
    let name = match id {
        EncrId::TRIPLE_DES => return "3des".to_owned(),
        EncrId::DES => return "des".to_owned(),
        EncrId::AES_CBC => "aes-cbc",
        EncrId::AES_CTR => "aes-ctr",
        EncrId::AES_GCM_16 => "aes-gcm",
        EncrId::AES_GCM_12 => "aes-gcm12",
        EncrId::AES_GCM_8 => "aes-gcm8",
        EncrId::AES_CCM_16 => "aes-ccm",
        EncrId::AES_CCM_12 => "aes-ccm12",
        EncrId::AES_CCM_8 => "aes-ccm8",
        other => return lower(other.name(), other.0),
    };
    bits.map_or_else(|| name.to_owned(), |bits| format!("{name}-{bits}"))
}

fn integrity(id: IntegId) -> String {
    match id {
        IntegId::HMAC_MD5_96 => "md5".to_owned(),
        IntegId::HMAC_SHA1_96 => "sha1".to_owned(),
        IntegId::HMAC_SHA1_160 => "sha1-160".to_owned(),
        IntegId::HMAC_SHA2_256_128 => "sha256".to_owned(),
        IntegId::HMAC_SHA2_384_192 => "sha384".to_owned(),
        IntegId::HMAC_SHA2_512_256 => "sha512".to_owned(),
        IntegId::AES_XCBC_96 => "aes-xcbc-mac".to_owned(),
        other => lower(other.name().map(|n| n.trim_start_matches("AUTH_")), other.0),
    }
}

fn prf_name(id: PrfId) -> String {
    match id {
        PrfId::HMAC_MD5 => "md5".to_owned(),
        PrfId::HMAC_SHA1 => "sha1".to_owned(),
        PrfId::HMAC_SHA2_256 => "sha256".to_owned(),
        PrfId::HMAC_SHA2_384 => "sha384".to_owned(),
        PrfId::HMAC_SHA2_512 => "sha512".to_owned(),
        PrfId::AES128_XCBC => "aes-xcbc-mac".to_owned(),
        other => lower(other.name().map(|n| n.trim_start_matches("PRF_")), other.0),
    }
}

fn lower(name: Option<&str>, value: u16) -> String {
    name.map_or_else(|| value.to_string(), |n| n.to_lowercase().replace('_', "-"))
}

/// An IKEv2 authentication method in IOS `authentication` terms.
pub(super) fn auth_method(method: dmvpn_isakmp::v2::consts::AuthMethod) -> String {
    use dmvpn_isakmp::v2::consts::AuthMethod;
    match method {
        AuthMethod::SHARED_KEY => "pre-share".to_owned(),
        AuthMethod::RSA_SIG => "rsa-sig".to_owned(),
        AuthMethod::ECDSA_256 | AuthMethod::ECDSA_384 | AuthMethod::ECDSA_521 => {
            "ecdsa-sig".to_owned()
        }
        other => lower(other.name(), u16::from(other.0)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use dmvpn_isakmp::v2::sa::Sa;

    /// One proposal of `protocol` with `(type, id, key bits)` transforms.
    fn proposal(protocol: u8, spi: &[u8], transforms: &[(u8, u16, Option<u16>)]) -> Vec<u8> {
        let mut body = Vec::new();
        for (n, &(ty, id, bits)) in transforms.iter().enumerate() {
            let last = if n + 1 == transforms.len() { 0 } else { 3 };
            let attr: Vec<u8> = bits.map_or_else(Vec::new, |b| {
                let [h, l] = b.to_be_bytes();
                vec![0x80, 14, h, l]
            });
            let [h, l] = u16::try_from(8 + attr.len()).unwrap().to_be_bytes();
            let [ih, il] = id.to_be_bytes();
            body.extend_from_slice(&[last, 0, h, l, ty, 0, ih, il]);
            body.extend_from_slice(&attr);
        }
        let len = 8 + spi.len() + body.len();
        let [h, l] = u16::try_from(len).unwrap().to_be_bytes();
        let count = u8::try_from(transforms.len()).unwrap();
        let spi_len = u8::try_from(spi.len()).unwrap();
        let mut out = vec![0, 0, h, l, 1, protocol, spi_len, count];
        out.extend_from_slice(spi);
        out.extend_from_slice(&body);
        out
    }

    fn name(bytes: &[u8]) -> String {
        let sa = Sa::parse(bytes, 0).unwrap();
        ikev2_proposal(&sa.proposals().next().unwrap().unwrap())
    }

    #[test]
    fn ios_names() {
        let gcm = proposal(1, &[], &[(1, 20, Some(256)), (2, 6, None), (4, 19, None)]);
        assert_eq!(name(&gcm), "aes-gcm-256 prf sha384 group 19");
        let cbc = proposal(
            1,
            &[],
            &[(1, 12, Some(128)), (2, 2, None), (3, 2, None), (4, 2, None)],
        );
        assert_eq!(name(&cbc), "aes-cbc-128 sha1 group 2");
        let tdes = proposal(1, &[], &[(1, 3, None), (3, 7, None), (2, 5, None)]);
        assert_eq!(name(&tdes), "3des sha1-160 prf sha256");
        let esp = proposal(
            3,
            &[1, 2, 3, 4],
            &[(1, 12, Some(256)), (3, 12, None), (5, 0, None)],
        );
        assert_eq!(name(&esp), "esp-aes 256 esp-sha256-hmac");
        let esp_gcm = proposal(3, &[1, 2, 3, 4], &[(1, 20, Some(128)), (4, 14, None)]);
        assert_eq!(name(&esp_gcm), "esp-gcm 128");
        let sa = Sa::parse(&esp_gcm, 0).unwrap();
        let first = sa.proposals().next().unwrap().unwrap();
        assert_eq!(proposal_group(&first), Some(14));
    }
}
