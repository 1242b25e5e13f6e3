//! Building the payloads the machine sends and reading the ones it receives, on top of the
//! `dmvpn-isakmp` v2 codec.

use alloc::vec::Vec;
use core::net::Ipv4Addr;

use dmvpn_isakmp::consts::Group;
use dmvpn_isakmp::keys::Prf;
use dmvpn_isakmp::v2::consts::{
    DhGroup, EncrId, IdType, IntegId, NotifyType, PrfId, ProtocolId, TransformType, TsType,
};
use dmvpn_isakmp::v2::crypto::{Encryption, Integrity};
use dmvpn_isakmp::v2::payload::{Delete, Ke, Notify};
use dmvpn_isakmp::v2::sa::Sa;
use dmvpn_isakmp::v2::{Body, ExchangeType, PayloadType};

use crate::ike::{EspAuth, EspCipher, TransformSet};

/// GRE, the only protocol the Child SAs carry.
pub(super) const GRE: u8 = 47;

/// A payload chain being built: each payload's next-payload byte is patched when the next one
/// is pushed.
#[derive(Default)]
pub(super) struct Chain {
    pub(super) first: u8,
    pub(super) bytes: Vec<u8>,
    last_header: Option<usize>,
}

impl Chain {
    pub(super) fn push(&mut self, ty: PayloadType, body: &[u8]) -> &mut Self {
        match self.last_header {
            Some(at) => self.bytes[at] = ty.0,
            None => self.first = ty.0,
        }
        self.last_header = Some(self.bytes.len());
        let len = u16::try_from(body.len() + 4).unwrap_or(u16::MAX);
        self.bytes.extend_from_slice(&[0, 0]);
        self.bytes.extend_from_slice(&len.to_be_bytes());
        self.bytes.extend_from_slice(body);
        self
    }

    pub(super) fn notify(
        &mut self,
        protocol: ProtocolId,
        spi: &[u8],
        ty: NotifyType,
        data: &[u8],
    ) -> &mut Self {
        let body = Body::Notify(Notify {
            protocol,
            spi,
            ty,
            data,
        });
        self.push_body(&body)
    }

    pub(super) fn push_body(&mut self, body: &Body<'_>) -> &mut Self {
        let mut buf = alloc::vec![0; body.buffer_len()];
        body.emit(&mut buf);
        self.push(body.ty(), &buf)
    }

    pub(super) fn ke(&mut self, group: Group, public: &[u8]) -> &mut Self {
        self.push_body(&Body::Ke(Ke {
            group: DhGroup(group.0),
            reserved: 0,
            data: public,
        }))
    }

    pub(super) fn delete(&mut self, protocol: ProtocolId, spis: &[u32]) -> &mut Self {
        let bytes: Vec<u8> = spis.iter().flat_map(|s| s.to_be_bytes()).collect();
        self.push_body(&Body::Delete(Delete {
            protocol,
            spi_size: if spis.is_empty() { 0 } else { 4 },
            count: u16::try_from(spis.len()).unwrap_or(0),
            spis: &bytes,
        }))
    }

    /// NAT_DETECTION_SOURCE_IP and _DESTINATION_IP (§2.23) for a message from `source` to
    /// `destination`.
    pub(super) fn nat_detection(
        &mut self,
        spi_i: [u8; 8],
        spi_r: [u8; 8],
        source: Ipv4Addr,
        destination: Ipv4Addr,
    ) -> &mut Self {
        for (ty, ip) in [
            (NotifyType::NAT_DETECTION_SOURCE_IP, source),
            (NotifyType::NAT_DETECTION_DESTINATION_IP, destination),
        ] {
            self.notify(ProtocolId::NONE, &[], ty, &nat_hash(spi_i, spi_r, ip));
        }
        self
    }

    /// TSi and TSr: GRE between the two addresses, all ports.
    pub(super) fn gre_selectors(&mut self, initiator: Ipv4Addr, responder: Ipv4Addr) -> &mut Self {
        for (ty, address) in [(PayloadType::TSI, initiator), (PayloadType::TSR, responder)] {
            let mut body = alloc::vec![
                1,
                0,
                0,
                0,
                TsType::IPV4_ADDR_RANGE.0,
                GRE,
                0,
                16,
                0,
                0,
                0xff,
                0xff
            ];
            body.extend_from_slice(&address.octets());
            body.extend_from_slice(&address.octets());
            self.push(ty, &body);
        }
        self
    }
}

/// The 28-byte IKE header.
pub(super) fn header(
    spi_i: [u8; 8],
    spi_r: [u8; 8],
    exchange: ExchangeType,
    flags: u8,
    message_id: u32,
) -> [u8; 28] {
    let mut h = [0u8; 28];
    h[..8].copy_from_slice(&spi_i);
    h[8..16].copy_from_slice(&spi_r);
    h[17] = 0x20;
    h[18] = exchange.0;
    h[19] = flags;
    h[20..24].copy_from_slice(&message_id.to_be_bytes());
    h
}

/// A message in the clear: the header then the chain.
pub(super) fn plain(mut header: [u8; 28], chain: &Chain) -> Vec<u8> {
    header[16] = chain.first;
    let len = u32::try_from(28 + chain.bytes.len()).unwrap_or(u32::MAX);
    header[24..28].copy_from_slice(&len.to_be_bytes());
    let mut out = header.to_vec();
    out.extend_from_slice(&chain.bytes);
    out
}

/// One transform: type, ID, key length.
pub(super) type Transform = (TransformType, u16, Option<u16>);

/// An SA payload body with one proposal per entry (numbered from 1).
pub(super) fn sa_body(protocol: ProtocolId, spi: &[u8], proposals: &[Vec<Transform>]) -> Vec<u8> {
    let mut out = Vec::new();
    for (index, transforms) in proposals.iter().enumerate() {
        let mut body = Vec::new();
        for (t, &(ty, id, key_len)) in transforms.iter().enumerate() {
            let len: u16 = if key_len.is_some() { 12 } else { 8 };
            body.push(if t + 1 == transforms.len() { 0 } else { 3 });
            body.push(0);
            body.extend_from_slice(&len.to_be_bytes());
            body.extend_from_slice(&[ty.0, 0]);
            body.extend_from_slice(&id.to_be_bytes());
            if let Some(bits) = key_len {
                body.extend_from_slice(&[0x80, 14]);
                body.extend_from_slice(&bits.to_be_bytes());
            }
        }
        let len = u16::try_from(8 + spi.len() + body.len()).unwrap_or(u16::MAX);
        out.push(if index + 1 == proposals.len() { 0 } else { 2 });
        out.push(0);
        out.extend_from_slice(&len.to_be_bytes());
        out.push(u8::try_from(index + 1).unwrap_or(u8::MAX));
        out.push(protocol.0);
        out.push(u8::try_from(spi.len()).unwrap_or(0));
        out.push(u8::try_from(transforms.len()).unwrap_or(u8::MAX));
        out.extend_from_slice(spi);
        out.extend_from_slice(&body);
    }
    out
}

pub(super) const fn encryption_transform(e: Encryption) -> Option<Transform> {
    Some(match e {
        Encryption::TripleDes => (TransformType::ENCR, EncrId::TRIPLE_DES.0, None),
        Encryption::AesCbc(bits) => (TransformType::ENCR, EncrId::AES_CBC.0, Some(bits)),
        _ => return None,
    })
}

pub(super) const fn integrity_transform(i: Integrity) -> Option<Transform> {
    let id = match i {
        Integrity::HmacMd5_96 => IntegId::HMAC_MD5_96,
        Integrity::HmacSha1_96 => IntegId::HMAC_SHA1_96,
        Integrity::HmacSha256_128 => IntegId::HMAC_SHA2_256_128,
        Integrity::HmacSha384_192 => IntegId::HMAC_SHA2_384_192,
        Integrity::HmacSha512_256 => IntegId::HMAC_SHA2_512_256,
        _ => return None,
    };
    Some((TransformType::INTEG, id.0, None))
}

pub(super) const fn prf_transform(p: Prf) -> Transform {
    let id = match p {
        Prf::HmacMd5 => PrfId::HMAC_MD5,
        Prf::HmacSha1 => PrfId::HMAC_SHA1,
        Prf::HmacSha256 => PrfId::HMAC_SHA2_256,
        Prf::HmacSha384 => PrfId::HMAC_SHA2_384,
        Prf::HmacSha512 => PrfId::HMAC_SHA2_512,
    };
    (TransformType::PRF, id.0, None)
}

pub(super) const fn group_transform(g: Group) -> Transform {
    (TransformType::KE, g.0, None)
}

pub(super) const fn esp_transforms(set: TransformSet) -> [Transform; 3] {
    let encr = match set.encryption {
        EspCipher::TripleDes => (TransformType::ENCR, EncrId::TRIPLE_DES.0, None),
        EspCipher::Aes128 => (TransformType::ENCR, EncrId::AES_CBC.0, Some(128)),
        EspCipher::Aes192 => (TransformType::ENCR, EncrId::AES_CBC.0, Some(192)),
        EspCipher::Aes256 => (TransformType::ENCR, EncrId::AES_CBC.0, Some(256)),
    };
    let integ = match set.integrity {
        EspAuth::Md5 => IntegId::HMAC_MD5_96,
        EspAuth::Sha1 => IntegId::HMAC_SHA1_96,
        EspAuth::Sha256 => IntegId::HMAC_SHA2_256_128,
    };
    [
        encr,
        (TransformType::INTEG, integ.0, None),
        (TransformType::ESN, 0, None),
    ]
}

/// A received proposal: its number, SPI and transforms.
#[derive(Clone, Debug)]
pub(super) struct Offered {
    pub(super) number: u8,
    pub(super) spi: Vec<u8>,
    pub(super) transforms: Vec<Transform>,
}

impl Offered {
    pub(super) fn has(&self, t: Transform) -> bool {
        self.transforms.contains(&t)
    }

    pub(super) fn of_type(&self, ty: TransformType) -> impl Iterator<Item = Transform> + '_ {
        self.transforms.iter().copied().filter(move |t| t.0 == ty)
    }
}

/// The proposals of an SA payload body for `protocol`.
pub(super) fn offered(body: &[u8], protocol: ProtocolId) -> dmvpn_wire::Result<Vec<Offered>> {
    let sa = Sa::parse(body, 0)?;
    let mut out = Vec::new();
    for proposal in sa.proposals() {
        let proposal = proposal?;
        if proposal.protocol != protocol {
            continue;
        }
        let mut transforms = Vec::new();
        for t in proposal.transforms() {
            let t = t?;
            transforms.push((t.ty, t.id, t.key_length()));
        }
        out.push(Offered {
            number: proposal.number,
            spi: proposal.spi.to_vec(),
            transforms,
        });
    }
    Ok(out)
}

/// A received payload chain, owned.
#[derive(Clone, Debug, Default)]
pub(super) struct Received {
    pub(super) payloads: Vec<(PayloadType, Vec<u8>)>,
}

impl Received {
    pub(super) fn read(chain: dmvpn_isakmp::v2::Payloads<'_>) -> dmvpn_wire::Result<Self> {
        let mut payloads = Vec::new();
        for p in chain {
            let p = p?;
            p.decode()?;
            payloads.push((p.ty, p.body.to_vec()));
        }
        Ok(Self { payloads })
    }

    /// The body of a payload `exchange` requires, or the error naming it.
    pub(super) fn require(
        &self,
        ty: PayloadType,
        peer: Ipv4Addr,
        exchange: ExchangeType,
    ) -> Result<&[u8], super::Error> {
        self.get(ty).ok_or(super::Error::MissingPayload {
            peer,
            exchange,
            payload: ty,
        })
    }

    /// The KE payload `exchange` requires (a present one parsed in [`Received::read`]).
    pub(super) fn require_ke(
        &self,
        peer: Ipv4Addr,
        exchange: ExchangeType,
    ) -> Result<Ke<'_>, super::Error> {
        self.require(PayloadType::KE, peer, exchange)?;
        self.ke().ok_or(super::Error::MissingPayload {
            peer,
            exchange,
            payload: PayloadType::KE,
        })
    }

    /// The proposals for `protocol` of the SA payload, none without one.
    pub(super) fn offers(&self, protocol: ProtocolId) -> dmvpn_wire::Result<Vec<Offered>> {
        self.get(PayloadType::SA)
            .map_or(Ok(Vec::new()), |body| offered(body, protocol))
    }

    pub(super) fn get(&self, ty: PayloadType) -> Option<&[u8]> {
        self.payloads
            .iter()
            .find(|(t, _)| *t == ty)
            .map(|(_, b)| b.as_slice())
    }

    /// The payloads that parse, each through `pick`, which keeps the kind it wants.
    fn bodies<'s, T>(
        &'s self,
        pick: impl Fn(Body<'s>) -> Option<T> + 's,
    ) -> impl Iterator<Item = T> + 's {
        self.payloads
            .iter()
            .filter_map(move |(ty, body)| Body::parse(*ty, body, 0).ok().and_then(&pick))
    }

    pub(super) fn notifies(&self) -> impl Iterator<Item = Notify<'_>> + '_ {
        self.bodies(|body| match body {
            Body::Notify(n) => Some(n),
            _ => None,
        })
    }

    pub(super) fn notify(&self, ty: NotifyType) -> Option<Notify<'_>> {
        self.notifies().find(|n| n.ty == ty)
    }

    /// The first error notification (types below 16384).
    pub(super) fn error(&self) -> Option<NotifyType> {
        self.notifies().map(|n| n.ty).find(|t| t.0 < 16384)
    }

    pub(super) fn ke(&self) -> Option<Ke<'_>> {
        match Body::parse(PayloadType::KE, self.get(PayloadType::KE)?, 0) {
            Ok(Body::Ke(ke)) => Some(ke),
            _ => None,
        }
    }

    pub(super) fn deletes(&self) -> impl Iterator<Item = Delete<'_>> + '_ {
        self.bodies(|body| match body {
            Body::Delete(d) => Some(d),
            _ => None,
        })
    }

    /// Whether TSi/TSr include GRE between `initiator` and `responder`.
    pub(super) fn selects_gre(&self, initiator: Ipv4Addr, responder: Ipv4Addr) -> bool {
        let covers = |ty, address: Ipv4Addr| {
            let Some(body) = self.get(ty) else {
                return false;
            };
            let Ok(Body::TsI(ts) | Body::TsR(ts)) = Body::parse(ty, body, 0) else {
                return false;
            };
            ts.iter().map_while(Result::ok).any(|s| {
                s.ty == TsType::IPV4_ADDR_RANGE
                    && (s.ip_protocol == GRE || s.ip_protocol == 0)
                    && s.start <= &address.octets()[..]
                    && &address.octets()[..] <= s.end
            })
        };
        covers(PayloadType::TSI, initiator) && covers(PayloadType::TSR, responder)
    }
}

/// The ID payload body we send.
pub(super) fn id_body(identity: &super::Identity) -> Vec<u8> {
    match identity {
        super::Identity::Address(a) => {
            let mut b = alloc::vec![IdType::IPV4_ADDR.0, 0, 0, 0];
            b.extend_from_slice(&a.octets());
            b
        }
        super::Identity::Fqdn(name) => {
            let mut b = alloc::vec![IdType::FQDN.0, 0, 0, 0];
            b.extend_from_slice(name.as_bytes());
            b
        }
        super::Identity::Other { ty, data } => {
            let mut b = alloc::vec![ty.0, 0, 0, 0];
            b.extend_from_slice(data);
            b
        }
    }
}

/// NAT_DETECTION hash (RFC 7296 §2.23): SHA-1(SPIi | SPIr | IP | port).
pub(super) fn nat_hash(spi_i: [u8; 8], spi_r: [u8; 8], ip: Ipv4Addr) -> Vec<u8> {
    dmvpn_isakmp::keys::nat_d_hash(
        dmvpn_isakmp::consts::HashAlgorithm::SHA1,
        spi_i,
        spi_r,
        &ip.octets(),
        dmvpn_ip::udp::IKE_PORT,
    )
    .unwrap_or_default()
}
