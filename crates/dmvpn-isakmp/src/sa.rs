//! The Security Association payload and its nested Proposal and Transform payloads
//! (RFC 2408 §3.4–§3.6, RFC 2407 §4.6.1).
//!
//! Proposals and transforms are chained with their own generic headers (next payload 2 or 3, then 0
//! for the last). Every length is checked against its parent's bounds; a parent with bytes left after
//! its last child reports [`Error::TrailingBytes`].

use core::fmt;

use dmvpn_wire::fmt::Hex;
use dmvpn_wire::{Error, Layer, Reader, Result};

use crate::attribute::{Attribute, Attributes, Class, Named};
use crate::consts::{
    AhTransformId, AuthMethod, Doi, EncryptionAlgorithm, EspTransformId, Group, HashAlgorithm,
    IkeAttributeType, IpcompTransformId, IsakmpTransformId, LifeType, PayloadType, ProtocolId,
    situation,
};

/// The body of an SA payload.
#[derive(Clone, Copy, Debug, Eq, Hash, PartialEq)]
pub struct Sa<'a> {
    /// Domain of interpretation.
    pub doi: Doi,
    /// Situation bitmap (RFC 2407 §4.2).
    pub situation: u32,
    /// The proposal chain, as on the wire; walk it with [`Sa::proposals`].
    pub proposals: &'a [u8],
    /// Offset of the proposal chain in the outermost buffer, for error offsets.
    pub offset: usize,
}

impl<'a> Sa<'a> {
    /// Parses an SA payload body whose first byte is at `base` in the outermost buffer.
    pub fn parse(body: &'a [u8], base: usize) -> Result<Self> {
        let mut reader = Reader::with_base(Layer::Isakmp, body, base);
        let doi = Doi(reader.u32("doi")?);
        let situation = reader.u32("situation")?;
        if doi == Doi::IPSEC && situation & (situation::SECRECY | situation::INTEGRITY) != 0 {
            return Err(Error::Unsupported {
                layer: Layer::Isakmp,
                field: "situation",
                offset: base + 4,
                value: situation,
            });
        }
        let offset = reader.offset();
        let sa = Self {
            doi,
            situation,
            proposals: reader.rest(),
            offset,
        };
        Ok(sa)
    }

    /// Checks the whole SA: every proposal, transform and attribute.
    pub fn check(&self) -> Result<()> {
        for proposal in self.proposals() {
            let proposal = proposal?;
            for transform in proposal.transforms() {
                transform?.attributes().check()?;
            }
        }
        Ok(())
    }

    /// The proposals.
    #[must_use]
    pub const fn proposals(&self) -> Chain<'a, Proposal<'a>> {
        Chain::new(self.proposals, self.offset, PayloadType::PROPOSAL)
    }

    /// Bytes [`Sa::emit`] writes.
    #[must_use]
    pub const fn buffer_len(&self) -> usize {
        8 + self.proposals.len()
    }

    /// Writes the body into `buf` (at least [`Sa::buffer_len`] bytes).
    pub fn emit(&self, buf: &mut [u8]) {
        buf[0..4].copy_from_slice(&self.doi.0.to_be_bytes());
        buf[4..8].copy_from_slice(&self.situation.to_be_bytes());
        buf[8..8 + self.proposals.len()].copy_from_slice(self.proposals);
    }

    /// The first transform of the first proposal, read as a phase-1 policy: what a responder chose.
    pub fn ike_policy(&self) -> Result<Option<IkePolicy>> {
        let Some(proposal) = self.proposals().next().transpose()? else {
            return Ok(None);
        };
        if proposal.protocol != ProtocolId::ISAKMP {
            return Ok(None);
        }
        let Some(transform) = proposal.transforms().next().transpose()? else {
            return Ok(None);
        };
        IkePolicy::from_attributes(transform.attributes()).map(Some)
    }
}

/// A child of an SA (proposal) or of a proposal (transform).
pub trait Child<'a>: Sized {
    /// Parses the child's body (after its 4-byte generic header) at `base`.
    fn parse_body(body: &'a [u8], base: usize) -> Result<Self>;
}

/// A zero-copy iterator over chained proposals or transforms; it stops at the first error.
#[derive(Clone, Debug)]
pub struct Chain<'a, T> {
    reader: Reader<'a>,
    expect: PayloadType,
    done: bool,
    _child: core::marker::PhantomData<T>,
}

impl<'a, T> Chain<'a, T> {
    const fn new(bytes: &'a [u8], base: usize, expect: PayloadType) -> Self {
        Self {
            reader: Reader::with_base(Layer::Isakmp, bytes, base),
            expect,
            done: false,
            _child: core::marker::PhantomData,
        }
    }
}

impl<'a, T: Child<'a>> Iterator for Chain<'a, T> {
    type Item = Result<T>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.done {
            return None;
        }
        let item = self.step();
        match &item {
            Ok(Some(_)) => {}
            Ok(None) | Err(_) => self.done = true,
        }
        item.transpose()
    }
}

impl<'a, T: Child<'a>> Chain<'a, T> {
    fn step(&mut self) -> Result<Option<T>> {
        if self.reader.is_empty() && self.expect == PayloadType::NONE {
            return Ok(None);
        }
        let start = self.reader.offset();
        if self.expect == PayloadType::NONE {
            return Err(Error::TrailingBytes {
                layer: Layer::Isakmp,
                offset: start,
                len: self.reader.remaining(),
            });
        }
        let next = self.reader.u8("next payload")?;
        let _reserved = self.reader.u8("reserved")?;
        let len = self.reader.u16("payload length")?;
        if usize::from(len) < 4 {
            return Err(Error::bad_length(
                Layer::Isakmp,
                "payload length",
                start + 2,
                len.into(),
                4,
            ));
        }
        let mut body = self.reader.sub(usize::from(len) - 4, "payload length")?;
        let base = body.offset();
        let child = T::parse_body(body.rest(), base)?;
        self.expect = match PayloadType(next) {
            PayloadType::NONE => PayloadType::NONE,
            ty if ty == self.expect => ty,
            _ => {
                return Err(Error::invalid_field(
                    Layer::Isakmp,
                    "next payload",
                    start,
                    next.into(),
                ));
            }
        };
        Ok(Some(child))
    }
}

/// Writes the 4 bytes that start a proposal or a transform in both versions (RFC 2408 §3.2,
/// RFC 7296 §3.3.1–§3.3.2): `next` (the next payload, or IKEv2's "last substruc"), a zero reserved
/// byte and `len`, saturated at 65535.
pub(crate) fn emit_substructure_header(buf: &mut [u8], next: u8, len: usize) {
    buf[0] = next;
    buf[1] = 0;
    buf[2..4].copy_from_slice(&u16::try_from(len).unwrap_or(u16::MAX).to_be_bytes());
}

/// The fields of a proposal between its 4-byte header and its transforms, laid out alike in both
/// versions (RFC 2408 §3.5, RFC 7296 §3.3.1).
pub(crate) struct ProposalFields<'a> {
    /// Proposal number.
    pub(crate) number: u8,
    /// Protocol ID, in the version's registry.
    pub(crate) protocol: u8,
    /// The declared number of transforms.
    pub(crate) transform_count: u8,
    /// The SPI.
    pub(crate) spi: &'a [u8],
}

impl<'a> ProposalFields<'a> {
    /// Reads the fields from `reader`, which stands after the proposal's 4-byte header.
    pub(crate) fn read(reader: &mut Reader<'a>) -> Result<Self> {
        let number = reader.u8("proposal number")?;
        let protocol = reader.u8("protocol id")?;
        let spi_size = reader.u8("spi size")?;
        let transform_count = reader.u8("number of transforms")?;
        let spi = reader.take(spi_size.into(), "spi")?;
        Ok(Self {
            number,
            protocol,
            transform_count,
            spi,
        })
    }

    /// Writes the whole proposal: the substructure header with `next` and the length, these
    /// fields, then `transforms` (the encoded transforms, copied as they are).
    pub(crate) fn emit(&self, buf: &mut [u8], next: u8, transforms: &[u8]) {
        let start = 8 + self.spi.len();
        let len = start + transforms.len();
        emit_substructure_header(buf, next, len);
        buf[4] = self.number;
        buf[5] = self.protocol;
        buf[6] = u8::try_from(self.spi.len()).unwrap_or(u8::MAX);
        buf[7] = self.transform_count;
        buf[8..start].copy_from_slice(self.spi);
        buf[start..len].copy_from_slice(transforms);
    }
}

/// A Proposal payload (RFC 2408 §3.5).
#[derive(Clone, Copy, Debug, Eq, Hash, PartialEq)]
pub struct Proposal<'a> {
    /// Proposal number; proposals with equal numbers are ANDed.
    pub number: u8,
    /// Protocol of the proposed SA.
    pub protocol: ProtocolId,
    /// SPI (empty for phase 1, 4 bytes for ESP/AH, 2 for IPCOMP CPI).
    pub spi: &'a [u8],
    /// The declared number of transforms.
    pub num_transforms: u8,
    /// The transform chain as on the wire.
    pub transforms: &'a [u8],
    /// Offset of the transform chain in the outermost buffer.
    pub offset: usize,
}

impl<'a> Child<'a> for Proposal<'a> {
    fn parse_body(body: &'a [u8], base: usize) -> Result<Self> {
        let mut reader = Reader::with_base(Layer::Isakmp, body, base);
        let fields = ProposalFields::read(&mut reader)?;
        let num_transforms = fields.transform_count;
        let offset = reader.offset();
        let proposal = Self {
            number: fields.number,
            protocol: ProtocolId(fields.protocol),
            spi: fields.spi,
            num_transforms,
            transforms: reader.rest(),
            offset,
        };
        let count = proposal.transforms().take_while(Result::is_ok).count();
        if proposal.transforms().all(|t| t.is_ok()) && count != usize::from(num_transforms) {
            return Err(Error::invalid_field(
                Layer::Isakmp,
                "number of transforms",
                base + 3,
                num_transforms.into(),
            ));
        }
        Ok(proposal)
    }
}

impl<'a> Proposal<'a> {
    /// The transforms.
    #[must_use]
    pub const fn transforms(&self) -> Chain<'a, Transform<'a>> {
        Chain::new(self.transforms, self.offset, PayloadType::TRANSFORM)
    }

    /// The SPI as a number, for 4-byte (AH/ESP) and 2-byte (IPCOMP) SPIs.
    #[must_use]
    pub fn spi_u32(&self) -> Option<u32> {
        match *self.spi {
            [a, b, c, d] => Some(u32::from_be_bytes([a, b, c, d])),
            [a, b] => Some(u16::from_be_bytes([a, b]).into()),
            _ => None,
        }
    }

    /// Bytes [`Proposal::emit`] writes, generic header included.
    #[must_use]
    pub const fn buffer_len(&self) -> usize {
        8 + self.spi.len() + self.transforms.len()
    }

    /// Writes the proposal with its generic header; `last` sets next payload to 0 instead of 2.
    pub fn emit(&self, buf: &mut [u8], last: bool) {
        let next = if last { 0 } else { PayloadType::PROPOSAL.0 };
        let fields = ProposalFields {
            number: self.number,
            protocol: self.protocol.0,
            transform_count: self.num_transforms,
            spi: self.spi,
        };
        fields.emit(buf, next, self.transforms);
    }
}

/// A Transform payload (RFC 2408 §3.6).
#[derive(Clone, Copy, Debug, Eq, Hash, PartialEq)]
pub struct Transform<'a> {
    /// Transform number.
    pub number: u8,
    /// Transform ID, interpreted by the proposal's protocol (see [`Transform::id_name`]).
    pub id: u8,
    /// The 2 reserved bytes (zero on the wire).
    pub reserved: u16,
    /// The SA attributes as on the wire.
    pub attributes: &'a [u8],
    /// Offset of the attributes in the outermost buffer.
    pub offset: usize,
}

impl<'a> Child<'a> for Transform<'a> {
    fn parse_body(body: &'a [u8], base: usize) -> Result<Self> {
        let mut reader = Reader::with_base(Layer::Isakmp, body, base);
        let number = reader.u8("transform number")?;
        let id = reader.u8("transform id")?;
        let reserved = reader.u16("reserved")?;
        let offset = reader.offset();
        let transform = Self {
            number,
            id,
            reserved,
            attributes: reader.rest(),
            offset,
        };
        transform.attributes().check()?;
        Ok(transform)
    }
}

impl<'a> Transform<'a> {
    /// The attributes.
    #[must_use]
    pub const fn attributes(&self) -> Attributes<'a> {
        Attributes::new(self.attributes, self.offset)
    }

    /// The transform ID's name under `protocol`.
    #[must_use]
    pub fn id_name(&self, protocol: ProtocolId) -> Option<&'static str> {
        match protocol {
            ProtocolId::ISAKMP => IsakmpTransformId(self.id).name(),
            ProtocolId::AH => AhTransformId(self.id).name(),
            ProtocolId::ESP => EspTransformId(self.id).name(),
            ProtocolId::IPCOMP => IpcompTransformId(self.id).name(),
            _ => None,
        }
    }

    /// Bytes [`Transform::emit`] writes, generic header included.
    #[must_use]
    pub const fn buffer_len(&self) -> usize {
        8 + self.attributes.len()
    }

    /// Writes the transform with its generic header; `last` sets next payload to 0 instead of 3.
    pub fn emit(&self, buf: &mut [u8], last: bool) {
        let len = self.buffer_len();
        let next = if last { 0 } else { PayloadType::TRANSFORM.0 };
        emit_substructure_header(buf, next, len);
        buf[4] = self.number;
        buf[5] = self.id;
        buf[6..8].copy_from_slice(&self.reserved.to_be_bytes());
        buf[8..len].copy_from_slice(self.attributes);
    }

    /// Prints the transform with its ID and attributes named for `protocol`.
    #[must_use]
    pub const fn describe(self, protocol: ProtocolId) -> DescribedTransform<'a> {
        Named::new(self, protocol)
    }
}

/// A transform printed with names (see [`Transform::describe`]).
pub type DescribedTransform<'a> = Named<Transform<'a>, ProtocolId>;

impl fmt::Display for DescribedTransform<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let (transform, protocol) = (self.value, self.context);
        match transform.id_name(protocol) {
            Some(name) => write!(f, "#{} {name}", transform.number)?,
            None => write!(f, "#{} id {}", transform.number, transform.id)?,
        }
        let class = if protocol == ProtocolId::ISAKMP {
            Class::Ike
        } else {
            Class::Ipsec
        };
        for attribute in transform.attributes() {
            match attribute {
                Ok(attribute) => write!(f, " {}", attribute.describe(class))?,
                Err(_) => return f.write_str(" <malformed>"),
            }
        }
        Ok(())
    }
}

impl fmt::Display for Sa<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "doi={} sit={:#x}", self.doi, self.situation)?;
        for proposal in self.proposals() {
            let Ok(proposal) = proposal else {
                return f.write_str(" <malformed>");
            };
            write!(f, " P#{} {}", proposal.number, proposal.protocol)?;
            if !proposal.spi.is_empty() {
                write!(f, " spi=0x{}", Hex(proposal.spi))?;
            }
            for transform in proposal.transforms() {
                let Ok(transform) = transform else {
                    return f.write_str(" <malformed>");
                };
                write!(f, " [{}]", transform.describe(proposal.protocol))?;
            }
        }
        Ok(())
    }
}

/// The phase-1 algorithms one transform proposes or accepts (RFC 2409 Appendix A).
#[derive(Clone, Copy, Debug, Default, Eq, Hash, PartialEq)]
pub struct IkePolicy {
    /// Encryption algorithm.
    pub encryption: EncryptionAlgorithm,
    /// Key length in bits, for variable-length ciphers (AES).
    pub key_length: Option<u16>,
    /// Hash algorithm.
    pub hash: HashAlgorithm,
    /// PRF, if negotiated separately (otherwise the HMAC of `hash`).
    pub prf: Option<HashAlgorithm>,
    /// Authentication method.
    pub auth: AuthMethod,
    /// Diffie-Hellman group.
    pub group: Group,
    /// Life type and duration pairs as they appear (the first of each kind).
    pub life_seconds: Option<u64>,
    /// Life in kilobytes.
    pub life_kilobytes: Option<u64>,
}

impl IkePolicy {
    /// Reads the policy from a phase-1 transform's attributes.
    pub fn from_attributes(attributes: Attributes<'_>) -> Result<Self> {
        let mut policy = Self::default();
        let mut life_type = None;
        for attribute in attributes {
            let attribute: Attribute<'_> = attribute?;
            let small = attribute.as_u16();
            match (IkeAttributeType(attribute.ty), small) {
                (IkeAttributeType::ENCRYPTION, Some(v)) => {
                    policy.encryption = EncryptionAlgorithm(v)
                }
                (IkeAttributeType::KEY_LENGTH, Some(v)) => policy.key_length = Some(v),
                (IkeAttributeType::HASH, Some(v)) => policy.hash = HashAlgorithm(v),
                (IkeAttributeType::PRF, Some(v)) => policy.prf = Some(HashAlgorithm(v)),
                (IkeAttributeType::AUTH_METHOD, Some(v)) => policy.auth = AuthMethod(v),
                (IkeAttributeType::GROUP_DESCRIPTION, Some(v)) => policy.group = Group(v),
                (IkeAttributeType::LIFE_TYPE, Some(v)) => life_type = Some(LifeType(v)),
                (IkeAttributeType::LIFE_DURATION, _) => match life_type {
                    Some(LifeType::SECONDS) => policy.life_seconds = attribute.as_u64(),
                    Some(LifeType::KILOBYTES) => policy.life_kilobytes = attribute.as_u64(),
                    _ => {}
                },
                _ => {}
            }
        }
        Ok(policy)
    }
}

#[cfg(test)]
mod tests {
    extern crate alloc;
    use alloc::string::ToString;
    use alloc::vec;
    use alloc::vec::Vec;

    use super::*;

    dmvpn_wire::hex_consts! {
        // packetlife ISAKMP_sa_setup.cap frame 2 (responder's Main Mode reply): the SA payload body.
        const SA_BODY: [u8; 56] = "00000001000000010000003001010001000000280101000080010007800e0080800200028004000180030001800b0001000c000400015180";
    }

    #[test]
    fn parse_sa() {
        let sa = Sa::parse(&SA_BODY, 32).unwrap();
        assert_eq!(
            (sa.doi, sa.situation),
            (Doi::IPSEC, situation::IDENTITY_ONLY)
        );
        sa.check().unwrap();
        let proposals: Vec<_> = sa.proposals().collect::<Result<_>>().unwrap();
        assert_eq!(proposals.len(), 1);
        assert_eq!(
            (
                proposals[0].number,
                proposals[0].protocol,
                proposals[0].num_transforms
            ),
            (1, ProtocolId::ISAKMP, 1)
        );
        let transform = proposals[0].transforms().next().unwrap().unwrap();
        assert_eq!((transform.number, transform.id), (1, 1));
        assert_eq!(
            sa.to_string(),
            "doi=IPsec (1) sit=0x1 P#1 ISAKMP (1) [#1 KEY_IKE Encryption-Algorithm=AES-CBC Key-Length=128 \
             Hash-Algorithm=SHA Group-Description=768-bit MODP Authentication-Method=Pre-shared key Life-Type=Seconds \
             Life-Duration=86400]"
        );
        let policy = sa.ike_policy().unwrap().unwrap();
        assert_eq!(policy.encryption, EncryptionAlgorithm::AES_CBC);
        assert_eq!(policy.key_length, Some(128));
        assert_eq!(policy.hash, HashAlgorithm::SHA1);
        assert_eq!(policy.group, Group::MODP_768);
    }

    #[test]
    fn emit_round_trip() {
        let sa = Sa::parse(&SA_BODY, 0).unwrap();
        let mut buf = vec![0; sa.buffer_len()];
        sa.emit(&mut buf);
        assert_eq!(buf, SA_BODY);
        let proposal = sa.proposals().next().unwrap().unwrap();
        let mut buf = vec![0; proposal.buffer_len()];
        proposal.emit(&mut buf, true);
        assert_eq!(buf, SA_BODY[8..]);
        let transform = proposal.transforms().next().unwrap().unwrap();
        let mut buf = vec![0; transform.buffer_len()];
        transform.emit(&mut buf, true);
        assert_eq!(buf, SA_BODY[16..]);
    }

    #[test]
    fn truncation_loop() {
        for len in 0..SA_BODY.len() {
            let err = Sa::parse(&SA_BODY[..len], 0)
                .and_then(|sa| sa.check())
                .unwrap_err();
            let expected = match len {
                0..4 => Error::truncated(Layer::Isakmp, "doi", 0, 4, len),
                4..8 => Error::truncated(Layer::Isakmp, "situation", 4, 4, len),
                8 => Error::truncated(Layer::Isakmp, "next payload", 8, 1, len),
                9 => Error::truncated(Layer::Isakmp, "reserved", 9, 1, len),
                10 | 11 => Error::truncated(Layer::Isakmp, "payload length", 10, 2, len),
                _ => Error::bad_length(Layer::Isakmp, "payload length", 12, 44, len - 12),
            };
            assert_eq!(err, expected, "len {len}");
        }
    }

    #[test]
    fn chain_errors() {
        // What `check` says of the SA body with byte `at` set to `value`.
        let check_with = |at: usize, value: u8| {
            let mut bytes = SA_BODY;
            bytes[at] = value;
            Sa::parse(&bytes, 0).unwrap().check()
        };
        // Proposal says next=2 but nothing follows.
        let truncated = Error::truncated(Layer::Isakmp, "next payload", 56, 1, 56);
        assert_eq!(check_with(8, 2), Err(truncated));
        // Wrong child type.
        let wrong_child = Error::invalid_field(Layer::Isakmp, "next payload", 8, 5);
        assert_eq!(check_with(8, 5), Err(wrong_child));
        // Declared transform count disagrees.
        let count = Error::invalid_field(Layer::Isakmp, "number of transforms", 15, 2);
        assert_eq!(check_with(15, 2), Err(count));
        // Trailing bytes after the last proposal.
        let mut longer = SA_BODY.to_vec();
        longer.push(0);
        assert_eq!(
            Sa::parse(&longer, 0).unwrap().check(),
            Err(Error::TrailingBytes {
                layer: Layer::Isakmp,
                offset: 56,
                len: 1
            })
        );
        // Labeled domains are not decoded.
        let mut bytes = SA_BODY;
        bytes[7] = 3;
        assert!(matches!(
            Sa::parse(&bytes, 0),
            Err(Error::Unsupported {
                field: "situation",
                ..
            })
        ));
    }

    #[test]
    fn arbitrary_bytes_never_panic() {
        bolero::check!().for_each(|data: &[u8]| {
            if let Ok(sa) = Sa::parse(data, 0) {
                let _ = sa.check();
                let _ = sa.to_string();
                let _ = sa.ike_policy();
                for proposal in sa.proposals().map_while(Result::ok) {
                    let mut buf = vec![0; proposal.buffer_len()];
                    proposal.emit(&mut buf, true);
                    for transform in proposal.transforms().map_while(Result::ok) {
                        let mut buf = vec![0; transform.buffer_len()];
                        transform.emit(&mut buf, true);
                        assert_eq!(&buf[4..], &data[transform.offset - 4 - 4..][4..buf.len()]);
                    }
                }
            }
        });
    }
}
