//! Building the messages the machine sends: payload chains, SA payloads with their proposals,
//! transforms and attributes (RFC 2408 §3), and the CBC encryption of RFC 2409 Appendix B.

use alloc::vec::Vec;

use dmvpn_isakmp::consts::{
    Doi, EncapsulationMode, ExchangeType, IdType, IkeAttributeType, IpsecAttributeType,
    IsakmpTransformId, LifeType, NotifyType, PayloadType, ProtocolId, situation,
};
use dmvpn_isakmp::crypto::{Cipher, encrypt};
use dmvpn_isakmp::header::Flags;

use super::config::{Policy, TransformSet, cipher_attributes};

/// RFC 3706 §4: the DPD vendor ID (version 1.0).
pub(crate) const DPD_VID: [u8; 16] = [
    0xaf, 0xca, 0xd7, 0x13, 0x68, 0xa1, 0xf1, 0xc9, 0x6b, 0x86, 0x96, 0xfc, 0x77, 0x57, 0x01, 0x00,
];

/// The IKE header length.
pub(crate) const HEADER_LEN: usize = 28;

/// A payload chain under construction: each push patches the previous payload's next field.
#[derive(Clone, Debug, Default)]
pub(crate) struct Chain {
    pub(crate) bytes: Vec<u8>,
    pub(crate) first: PayloadType,
    last_next: Option<usize>,
}

impl Chain {
    pub(crate) fn new() -> Self {
        Self::default()
    }

    /// Appends a payload of type `ty` with `body` (at most 65531 bytes: the machine's own
    /// payloads are far smaller).
    pub(crate) fn push(&mut self, ty: PayloadType, body: &[u8]) -> &mut Self {
        match self.last_next {
            Some(at) => self.bytes[at] = ty.0,
            None => self.first = ty,
        }
        self.last_next = Some(self.bytes.len());
        let len = u16::try_from(body.len() + 4).unwrap_or(u16::MAX);
        self.bytes.extend_from_slice(&[0, 0]);
        self.bytes.extend_from_slice(&len.to_be_bytes());
        self.bytes.extend_from_slice(body);
        self
    }

    /// This chain behind a HASH payload carrying `hash`.
    pub(crate) fn behind_hash(&self, hash: &[u8]) -> Self {
        let mut out = Self::new();
        out.push(PayloadType::HASH, hash);
        if let Some(at) = out.last_next {
            out.bytes[at] = self.first.0;
        }
        out.bytes.extend_from_slice(&self.bytes);
        out.last_next = self.last_next.map(|at| at + 4 + hash.len());
        out
    }
}

/// A 28-byte header in front of `body`.
#[allow(clippy::too_many_arguments)] // one argument per header field
pub(crate) fn message(
    cky_i: [u8; 8],
    cky_r: [u8; 8],
    first: PayloadType,
    exchange: ExchangeType,
    flags: Flags,
    message_id: u32,
    body: &[u8],
) -> Vec<u8> {
    let mut out = Vec::with_capacity(HEADER_LEN + body.len());
    out.extend_from_slice(&cky_i);
    out.extend_from_slice(&cky_r);
    out.push(first.0);
    out.push(0x10);
    out.push(exchange.0);
    out.push(flags.0);
    out.extend_from_slice(&message_id.to_be_bytes());
    let len = u32::try_from(HEADER_LEN + body.len()).unwrap_or(u32::MAX);
    out.extend_from_slice(&len.to_be_bytes());
    out.extend_from_slice(body);
    out
}

/// Encrypts a chain with `iv`, returning the ciphertext; the caller keeps its last block as the
/// next IV. RFC 2409 Appendix B pads with zeros to the block and leaves the amount open; like
/// strongSwan we always add 1 to `block` bytes, so that a block-aligned chain gets a whole
/// block of padding (charon's Main Mode 5 with AES is 64 bytes of payloads and 16 of zeros).
pub(crate) fn seal(cipher: Cipher, key: &[u8], iv: &[u8], plaintext: &[u8]) -> Option<Vec<u8>> {
    let block = cipher.block_len();
    let mut padded = plaintext.to_vec();
    padded.resize(plaintext.len() + block - plaintext.len() % block, 0);
    encrypt(cipher, key, iv, &padded).ok()
}

/// The last `block` bytes of `ciphertext`.
pub(crate) fn last_block(ciphertext: &[u8], block: usize) -> Vec<u8> {
    ciphertext[ciphertext.len().saturating_sub(block)..].to_vec()
}

/// Attribute list writer.
#[derive(Default)]
pub(crate) struct Attributes(pub(crate) Vec<u8>);

impl Attributes {
    /// A basic (TV) attribute.
    pub(crate) fn basic(&mut self, ty: u16, value: u16) -> &mut Self {
        self.0.extend_from_slice(&(ty | 0x8000).to_be_bytes());
        self.0.extend_from_slice(&value.to_be_bytes());
        self
    }

    /// A duration: TV when it fits in 16 bits (as strongSwan sends it), else a 4-byte TLV (as
    /// IOS sends 86400).
    pub(crate) fn duration(&mut self, ty: u16, value: u64) -> &mut Self {
        match u16::try_from(value) {
            Ok(small) => self.basic(ty, small),
            Err(_) => {
                let value = u32::try_from(value).unwrap_or(u32::MAX);
                self.0.extend_from_slice(&ty.to_be_bytes());
                self.0.extend_from_slice(&4u16.to_be_bytes());
                self.0.extend_from_slice(&value.to_be_bytes());
                self
            }
        }
    }
}

/// One transform: number, ID, attributes.
pub(crate) struct TransformBody<'a> {
    pub(crate) number: u8,
    pub(crate) id: u8,
    pub(crate) attributes: &'a [u8],
}

/// One proposal: number, protocol, SPI, transforms.
pub(crate) struct ProposalBody<'a> {
    pub(crate) number: u8,
    pub(crate) protocol: ProtocolId,
    pub(crate) spi: &'a [u8],
    pub(crate) transforms: &'a [TransformBody<'a>],
}

/// An SA payload body (DOI IPsec, SIT_IDENTITY_ONLY) with its proposals.
pub(crate) fn sa_body(proposals: &[ProposalBody<'_>]) -> Vec<u8> {
    let mut out = Vec::new();
    out.extend_from_slice(&Doi::IPSEC.0.to_be_bytes());
    out.extend_from_slice(&situation::IDENTITY_ONLY.to_be_bytes());
    for (p, proposal) in proposals.iter().enumerate() {
        let transforms_len: usize = proposal
            .transforms
            .iter()
            .map(|t| 8 + t.attributes.len())
            .sum();
        let proposal_len = 8 + proposal.spi.len() + transforms_len;
        let last_proposal = p + 1 == proposals.len();
        out.push(if last_proposal {
            0
        } else {
            PayloadType::PROPOSAL.0
        });
        out.push(0);
        out.extend_from_slice(
            &u16::try_from(proposal_len)
                .unwrap_or(u16::MAX)
                .to_be_bytes(),
        );
        out.push(proposal.number);
        out.push(proposal.protocol.0);
        out.push(u8::try_from(proposal.spi.len()).unwrap_or(u8::MAX));
        out.push(u8::try_from(proposal.transforms.len()).unwrap_or(u8::MAX));
        out.extend_from_slice(proposal.spi);
        for (i, t) in proposal.transforms.iter().enumerate() {
            let last = i + 1 == proposal.transforms.len();
            out.push(if last { 0 } else { PayloadType::TRANSFORM.0 });
            out.push(0);
            let len = u16::try_from(8 + t.attributes.len()).unwrap_or(u16::MAX);
            out.extend_from_slice(&len.to_be_bytes());
            out.push(t.number);
            out.push(t.id);
            out.extend_from_slice(&[0, 0]);
            out.extend_from_slice(t.attributes);
        }
    }
    out
}

/// The attributes of a phase-1 transform for `policy` (pre-shared keys), in the order IOS and
/// strongSwan both use: encryption, key length, hash, group, authentication, life.
pub(crate) fn ike_attributes(policy: &Policy) -> Vec<u8> {
    let (encryption, key_length) = cipher_attributes(policy.encryption);
    let mut a = Attributes::default();
    a.basic(IkeAttributeType::ENCRYPTION.0, encryption.0);
    if let Some(bits) = key_length {
        a.basic(IkeAttributeType::KEY_LENGTH.0, bits);
    }
    a.basic(IkeAttributeType::HASH.0, policy.hash.algorithm().0)
        .basic(IkeAttributeType::GROUP_DESCRIPTION.0, policy.group.0)
        .basic(IkeAttributeType::AUTH_METHOD.0, 1)
        .basic(IkeAttributeType::LIFE_TYPE.0, LifeType::SECONDS.0);
    let secs = u64::try_from(policy.lifetime.secs()).unwrap_or(0);
    a.duration(IkeAttributeType::LIFE_DURATION.0, secs);
    a.0
}

/// The SA payload of Main Mode message 1: one ISAKMP proposal with a transform per policy.
pub(crate) fn main_mode_sa(policies: &[Policy]) -> Vec<u8> {
    let attributes: Vec<Vec<u8>> = policies.iter().map(ike_attributes).collect();
    let transforms: Vec<TransformBody<'_>> = attributes
        .iter()
        .enumerate()
        .map(|(i, a)| TransformBody {
            number: u8::try_from(i + 1).unwrap_or(u8::MAX),
            id: IsakmpTransformId::KEY_IKE.0,
            attributes: a,
        })
        .collect();
    sa_body(&[ProposalBody {
        number: 1,
        protocol: ProtocolId::ISAKMP,
        spi: &[],
        transforms: &transforms,
    }])
}

/// The attributes of an ESP transform for `set` in transport mode: key length, authentication,
/// encapsulation, life in seconds and kilobytes, PFS group.
pub(crate) fn esp_attributes(
    set: &TransformSet,
    life_secs: u64,
    life_kb: Option<u64>,
    pfs: Option<u16>,
) -> Vec<u8> {
    let (_, key_bits) = set.encryption.transform();
    let mut a = Attributes::default();
    if let Some(bits) = key_bits {
        a.basic(IpsecAttributeType::KEY_LENGTH.0, bits);
    }
    a.basic(
        IpsecAttributeType::AUTH_ALGORITHM.0,
        set.integrity.algorithm().0,
    )
    .basic(
        IpsecAttributeType::ENCAPSULATION_MODE.0,
        EncapsulationMode::TRANSPORT.0,
    )
    .basic(IpsecAttributeType::LIFE_TYPE.0, LifeType::SECONDS.0)
    .duration(IpsecAttributeType::LIFE_DURATION.0, life_secs);
    if let Some(kb) = life_kb {
        a.basic(IpsecAttributeType::LIFE_TYPE.0, LifeType::KILOBYTES.0)
            .duration(IpsecAttributeType::LIFE_DURATION.0, kb);
    }
    if let Some(group) = pfs {
        a.basic(IpsecAttributeType::GROUP_DESCRIPTION.0, group);
    }
    a.0
}

/// An ID payload body: type, protocol, port, data.
pub(crate) fn id_body(ty: IdType, protocol: u8, port: u16, data: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(4 + data.len());
    out.push(ty.0);
    out.push(protocol);
    out.extend_from_slice(&port.to_be_bytes());
    out.extend_from_slice(data);
    out
}

/// A Notification payload body (RFC 2408 §3.14).
pub(crate) fn notify_body(
    protocol: ProtocolId,
    ty: NotifyType,
    spi: &[u8],
    data: &[u8],
) -> Vec<u8> {
    let mut out = Vec::with_capacity(8 + spi.len() + data.len());
    out.extend_from_slice(&Doi::IPSEC.0.to_be_bytes());
    out.push(protocol.0);
    out.push(u8::try_from(spi.len()).unwrap_or(u8::MAX));
    out.extend_from_slice(&ty.0.to_be_bytes());
    out.extend_from_slice(spi);
    out.extend_from_slice(data);
    out
}

/// A Delete payload body (RFC 2408 §3.15) for SPIs of one size.
pub(crate) fn delete_body(protocol: ProtocolId, spi_size: u8, spis: &[&[u8]]) -> Vec<u8> {
    let mut out = Vec::new();
    out.extend_from_slice(&Doi::IPSEC.0.to_be_bytes());
    out.push(protocol.0);
    out.push(spi_size);
    out.extend_from_slice(&u16::try_from(spis.len()).unwrap_or(u16::MAX).to_be_bytes());
    for spi in spis {
        out.extend_from_slice(spi);
    }
    out
}

/// The ISAKMP SA's "SPI" in notifications and deletes: CKY-I | CKY-R (RFC 2408 §3.15).
pub(crate) fn cookie_pair(cky_i: [u8; 8], cky_r: [u8; 8]) -> [u8; 16] {
    let mut out = [0; 16];
    out[..8].copy_from_slice(&cky_i);
    out[8..].copy_from_slice(&cky_r);
    out
}

#[cfg(test)]
mod tests {
    use dmvpn_isakmp::consts::Group;
    use dmvpn_isakmp::payload::{Body, Context, Payloads};
    use dmvpn_isakmp::sa::IkePolicy;

    use super::super::config::Hash;
    use super::*;
    use crate::time::Duration;

    #[test]
    fn main_mode_sa_is_charons_for_the_same_policy() {
        // strongswan-xfrm-aes.pcap frame 3 (charon's Main Mode 1): the SA payload body.
        #[rustfmt::skip]
        let charon = [
            0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x2c, 0x01, 0x01, 0x00, 0x01,
            0x00, 0x00, 0x00, 0x24, 0x01, 0x01, 0x00, 0x00, 0x80, 0x01, 0x00, 0x07, 0x80, 0x0e, 0x00, 0x80,
            0x80, 0x02, 0x00, 0x02, 0x80, 0x04, 0x00, 0x02, 0x80, 0x03, 0x00, 0x01, 0x80, 0x0b, 0x00, 0x01,
            0x80, 0x0c, 0x3d, 0xe0,
        ];
        let mut policy = Policy::new(Cipher::Aes128, Hash::Sha1, Group::MODP_1024);
        policy.lifetime = Duration::from_secs(15840);
        assert_eq!(main_mode_sa(&[policy]), charon);
        let sa = dmvpn_isakmp::sa::Sa::parse(&charon, 0).unwrap();
        let proposal = sa.proposals().next().unwrap().unwrap();
        let transform = proposal.transforms().next().unwrap().unwrap();
        let parsed = IkePolicy::from_attributes(transform.attributes()).unwrap();
        assert_eq!(parsed.life_seconds, Some(15840));
    }

    #[test]
    fn chains_link_and_parse() {
        let mut chain = Chain::new();
        chain
            .push(PayloadType::NONCE, &[1; 20])
            .push(PayloadType::VENDOR_ID, &DPD_VID);
        let hashed = chain.behind_hash(&[9; 16]);
        let types: Vec<PayloadType> = Payloads::new(hashed.first, &hashed.bytes, 0)
            .map(|p| p.unwrap().ty)
            .collect();
        assert_eq!(
            types,
            [
                PayloadType::HASH,
                PayloadType::NONCE,
                PayloadType::VENDOR_ID
            ]
        );
        let mut c = Chain::new();
        c.push(
            PayloadType::NOTIFY,
            &notify_body(
                ProtocolId::ISAKMP,
                NotifyType::R_U_THERE,
                &[7; 16],
                &[0, 0, 0, 5],
            ),
        );
        let mut notify = Payloads::new(PayloadType::NOTIFY, &c.bytes, 0);
        let Body::Notify(n) = notify
            .next()
            .unwrap()
            .unwrap()
            .decode(Context::new(ExchangeType::INFORMATIONAL))
            .unwrap()
        else {
            panic!()
        };
        assert_eq!(n.dpd_sequence(), Some(5));
        assert_eq!(n.spi, [7; 16]);
    }

    #[test]
    fn long_durations_become_four_byte_tlvs() {
        let mut a = Attributes::default();
        a.duration(12, 86_400).duration(12, 3600);
        assert_eq!(a.0, [0, 12, 0, 4, 0, 1, 0x51, 0x80, 0x80, 12, 0x0e, 0x10]);
    }
}
