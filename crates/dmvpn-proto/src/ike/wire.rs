//! The messages the machine sends, put together with `dmvpn_isakmp::builder`: the payloads it
//! uses (SA with proposals, transforms and attributes, ID, Notification, Delete; RFC 2408 §3)
//! and the header around a chain, in clear or CBC-encrypted (RFC 2409 Appendix B).

use alloc::vec::Vec;

pub(crate) use dmvpn_isakmp::builder::Chain;
use dmvpn_isakmp::builder::{AttributeList, Builder, ProposalSpec, proposal_chain};
use dmvpn_isakmp::consts::{
    Doi, EncapsulationMode, ExchangeType, IdType, IkeAttributeType, IpsecAttributeType,
    IsakmpTransformId, LifeType, NotifyType, ProtocolId, situation,
};
use dmvpn_isakmp::crypto::Cipher;
use dmvpn_isakmp::header::Flags;
use dmvpn_isakmp::payload::{Body, Delete, Id, Notify};
use dmvpn_isakmp::sa::{Sa, Transform};

use super::Error;
use super::config::{Policy, TransformSet, cipher_attributes};

/// RFC 3706 §4: the DPD vendor ID (version 1.0).
pub(crate) const DPD_VID: [u8; 16] = [
    0xaf, 0xca, 0xd7, 0x13, 0x68, 0xa1, 0xf1, 0xc9, 0x6b, 0x86, 0x96, 0xfc, 0x77, 0x57, 0x01, 0x00,
];

/// The IKE header length.
pub(crate) const HEADER_LEN: usize = dmvpn_isakmp::header::HEADER_LEN;

/// The header fields of a message in `exchange` (next payload and length come from the chain).
pub(crate) const fn header(
    cky_i: [u8; 8],
    cky_r: [u8; 8],
    exchange: ExchangeType,
    message_id: u32,
) -> Builder {
    Builder::new(cky_i, cky_r, exchange, Flags(0), message_id)
}

/// `chain` in clear behind `header`.
pub(crate) fn clear(header: &Builder, chain: &Chain) -> Result<Vec<u8>, Error> {
    Ok(header.to_vec(chain)?)
}

/// `chain` encrypted with `key` and `iv` behind `header` with the E flag; `None` if the cipher
/// refuses the key. The last block of the result is the next IV.
pub(crate) fn seal(
    header: &Builder,
    chain: &Chain,
    cipher: Cipher,
    key: &[u8],
    iv: &[u8],
) -> Option<Vec<u8>> {
    header.seal(chain, cipher, key, iv).ok()
}

/// The last `block` bytes of `ciphertext`.
pub(crate) fn last_block(ciphertext: &[u8], block: usize) -> Vec<u8> {
    ciphertext[ciphertext.len().saturating_sub(block)..].to_vec()
}

/// The bytes of a payload body (what HASH_I/R cover of the SA and ID payloads).
pub(crate) fn body_bytes(body: &Body<'_>) -> Vec<u8> {
    let mut out = alloc::vec![0; body.buffer_len()];
    body.emit(&mut out);
    out
}

/// One transform of an SA we build.
pub(crate) const fn transform(number: u8, id: u8, attributes: &[u8]) -> Transform<'_> {
    Transform {
        number,
        id,
        reserved: 0,
        attributes,
        offset: 0,
    }
}

/// The proposal chain of a responder's SA payload: the one proposal it chose, with the one
/// transform it chose, under its own SPI (RFC 2408 §4.2).
pub(crate) fn chosen(
    number: u8,
    protocol: ProtocolId,
    spi: &[u8],
    chosen: &Transform<'_>,
) -> Vec<u8> {
    let transforms = [transform(chosen.number, chosen.id, chosen.attributes)];
    proposal_chain(&[ProposalSpec {
        number,
        protocol,
        spi,
        transforms: &transforms,
    }])
}

/// An SA payload body (DOI IPsec, SIT_IDENTITY_ONLY) with its proposals, as on the wire.
pub(crate) fn sa_body(proposals: &[ProposalSpec<'_>]) -> Vec<u8> {
    body_bytes(&sa(&proposal_chain(proposals)))
}

/// The SA payload (DOI IPsec, SIT_IDENTITY_ONLY) over a proposal chain.
pub(crate) const fn sa(proposals: &[u8]) -> Body<'_> {
    Body::Sa(Sa {
        doi: Doi::IPSEC,
        situation: situation::IDENTITY_ONLY,
        proposals,
        offset: 0,
    })
}

/// The SA payload of an SA body built by [`sa_body`].
pub(crate) fn sa_payload(body: &[u8]) -> Body<'_> {
    sa(body.get(8..).unwrap_or_default())
}

/// The attributes of a phase-1 transform for `policy` (pre-shared keys), in the order IOS and
/// strongSwan both use: encryption, key length, hash, group, authentication, life.
pub(crate) fn ike_attributes(policy: &Policy) -> Vec<u8> {
    let (encryption, key_length) = cipher_attributes(policy.encryption);
    let mut a = AttributeList::new();
    a.basic(IkeAttributeType::ENCRYPTION.0, encryption.0);
    if let Some(bits) = key_length {
        a.basic(IkeAttributeType::KEY_LENGTH.0, bits);
    }
    a.basic(IkeAttributeType::HASH.0, policy.hash.algorithm().0)
        .basic(IkeAttributeType::GROUP_DESCRIPTION.0, policy.group.0)
        .basic(IkeAttributeType::AUTH_METHOD.0, 1)
        .basic(IkeAttributeType::LIFE_TYPE.0, LifeType::SECONDS.0);
    let secs = u64::try_from(policy.lifetime.secs()).unwrap_or(0);
    a.number(IkeAttributeType::LIFE_DURATION.0, duration(secs));
    a.as_bytes().to_vec()
}

/// A duration attribute's value: TV when it fits in 16 bits (as strongSwan sends it), else a
/// 4-byte TLV (as IOS sends 86400), capped at 32 bits.
const fn duration(value: u64) -> u64 {
    if value > u32::MAX as u64 {
        u32::MAX as u64
    } else {
        value
    }
}

/// The SA payload of Main Mode message 1: one ISAKMP proposal with a transform per policy.
pub(crate) fn main_mode_sa(policies: &[Policy]) -> Vec<u8> {
    let attributes: Vec<Vec<u8>> = policies.iter().map(ike_attributes).collect();
    let transforms: Vec<Transform<'_>> = attributes
        .iter()
        .enumerate()
        .map(|(i, a)| {
            let number = u8::try_from(i + 1).unwrap_or(u8::MAX);
            transform(number, IsakmpTransformId::KEY_IKE.0, a)
        })
        .collect();
    sa_body(&[ProposalSpec {
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
    let mut a = AttributeList::new();
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
    .number(IpsecAttributeType::LIFE_DURATION.0, duration(life_secs));
    if let Some(kb) = life_kb {
        a.basic(IpsecAttributeType::LIFE_TYPE.0, LifeType::KILOBYTES.0)
            .number(IpsecAttributeType::LIFE_DURATION.0, duration(kb));
    }
    if let Some(group) = pfs {
        a.basic(IpsecAttributeType::GROUP_DESCRIPTION.0, group);
    }
    a.as_bytes().to_vec()
}

/// The attributes of a RESPONDER-LIFETIME notification: seconds, and kilobytes when given.
pub(crate) fn lifetime_attributes(secs: u64, kb: Option<u64>) -> Vec<u8> {
    let mut a = AttributeList::new();
    a.basic(IpsecAttributeType::LIFE_TYPE.0, LifeType::SECONDS.0)
        .number(IpsecAttributeType::LIFE_DURATION.0, duration(secs));
    if let Some(kb) = kb {
        a.basic(IpsecAttributeType::LIFE_TYPE.0, LifeType::KILOBYTES.0)
            .number(IpsecAttributeType::LIFE_DURATION.0, duration(kb));
    }
    a.as_bytes().to_vec()
}

/// An ID payload (RFC 2407 §4.6.2): type, protocol, port, data.
pub(crate) const fn id(ty: IdType, protocol: u8, port: u16, data: &[u8]) -> Body<'_> {
    Body::Id(Id {
        ty,
        protocol,
        port,
        data,
    })
}

/// A Notification payload (RFC 2408 §3.14).
pub(crate) const fn notify<'a>(
    protocol: ProtocolId,
    ty: NotifyType,
    spi: &'a [u8],
    data: &'a [u8],
) -> Body<'a> {
    Body::Notify(Notify {
        doi: Doi::IPSEC,
        protocol,
        ty,
        spi,
        data,
        data_offset: 0,
    })
}

/// A Delete payload (RFC 2408 §3.15) for `spis`, SPIs of `spi_size` bytes back to back.
pub(crate) fn delete(protocol: ProtocolId, spi_size: u8, spis: &[u8]) -> Body<'_> {
    let count = spis.len().checked_div(usize::from(spi_size)).unwrap_or(0);
    Body::Delete(Delete {
        doi: Doi::IPSEC,
        protocol,
        spi_size,
        count: u16::try_from(count).unwrap_or(u16::MAX),
        spis,
    })
}

/// ESP SPIs back to back, for a Delete.
pub(crate) fn esp_spis(spis: &[u32]) -> Vec<u8> {
    spis.iter().flat_map(|spi| spi.to_be_bytes()).collect()
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
    use dmvpn_isakmp::PayloadType;
    use dmvpn_isakmp::consts::Group;
    use dmvpn_isakmp::payload::Payloads;
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
        let sa = Sa::parse(&charon, 0).unwrap();
        let proposal = sa.proposals().next().unwrap().unwrap();
        let transform = proposal.transforms().next().unwrap().unwrap();
        let parsed = IkePolicy::from_attributes(transform.attributes()).unwrap();
        assert_eq!(parsed.life_seconds, Some(15840));
    }

    // How a chain links and puts a payload first is `dmvpn_isakmp::builder`'s to test (its
    // `behind_puts_a_payload_first` checks the HASH, NONCE, VENDOR_ID order this test checked
    // when the chain was built here); what is ours is the Notify body.
    #[test]
    fn notify_bodies_parse() {
        let mut c = Chain::new();
        c.push(
            PayloadType::NOTIFY,
            &notify(
                ProtocolId::ISAKMP,
                NotifyType::R_U_THERE,
                &[7; 16],
                &[0, 0, 0, 5],
            ),
        );
        let payload = Payloads::new(PayloadType::NOTIFY, c.as_bytes(), 0)
            .next()
            .unwrap()
            .unwrap();
        assert_eq!(payload.ty, PayloadType::NOTIFY);
        let n = Notify::parse(payload.body, 0).unwrap();
        assert_eq!(n.dpd_sequence(), Some(5));
        assert_eq!(n.spi, [7; 16]);
    }

    #[test]
    fn long_durations_become_four_byte_tlvs() {
        // IPsec life type (1) and duration (2): 86400 s as a 4-byte TLV, kilobytes capped at 32 bits.
        #[rustfmt::skip]
        let long = [
            0x80, 1, 0, 1, 0, 2, 0, 4, 0, 1, 0x51, 0x80,
            0x80, 1, 0, 2, 0, 2, 0, 4, 0xff, 0xff, 0xff, 0xff,
        ];
        assert_eq!(lifetime_attributes(86_400, Some(1 << 40)), long);
        assert_eq!(
            lifetime_attributes(3600, None),
            [0x80, 1, 0, 1, 0x80, 2, 0x0e, 0x10]
        );
    }
}
