//! The IKEv2 SA payload (RFC 7296 §3.3): proposals, their transforms, and transform attributes.
//!
//! Each level is a zero-copy iterator that checks every length against its parent's bound and stops
//! at the first error. The "last substructure" bytes and the transform counts are advisory (the
//! lengths delimit the structures), so, as tshark does, they are kept but not enforced.

use core::fmt;

use dmvpn_wire::list::{Entry, Iter};
use dmvpn_wire::{Error, Layer, Reader, Result};

use super::consts::{AttributeType, DhGroup, EncrId, IntegId, PrfId, ProtocolId, TransformType};
use crate::sa::{ProposalFields, emit_substructure_header};

/// Length of a proposal's fixed part (RFC 7296 §3.3.1).
const PROPOSAL_HEADER_LEN: usize = 8;
/// Length of a transform's fixed part (RFC 7296 §3.3.2).
const TRANSFORM_HEADER_LEN: usize = 8;

/// The 4 bytes that start a proposal or a transform (last substructure, reserved, length), read
/// from `bytes` at offset `start`: the last-substructure byte, the length, and a reader over the
/// rest of the structure, which must be at least `min_len` long in all.
fn substructure<'a>(
    bytes: &'a [u8],
    start: usize,
    length_field: &'static str,
    min_len: usize,
) -> Result<(u8, usize, Reader<'a>)> {
    let mut reader = Reader::with_base(Layer::Isakmp, bytes, start);
    let last = reader.u8("last substruc")?;
    reader.u8("reserved")?;
    let len = usize::from(reader.u16(length_field)?);
    if len < min_len {
        return Err(Error::BadLength {
            layer: Layer::Isakmp,
            field: length_field,
            offset: start + 2,
            claimed: len,
            available: min_len,
        });
    }
    // The length covers the 4 bytes already read.
    let body = reader.sub(len - 4, length_field)?;
    Ok((last, len, body))
}

/// An SA payload body: a list of proposals.
#[derive(Clone, Copy, Debug, Eq, Hash, PartialEq)]
pub struct Sa<'a> {
    /// The proposal bytes.
    pub bytes: &'a [u8],
    /// Offset of the body in the outermost buffer.
    pub offset: usize,
}

impl<'a> Sa<'a> {
    /// Wraps and checks an SA body at `offset`: every proposal, transform and attribute.
    pub fn parse(bytes: &'a [u8], offset: usize) -> Result<Self> {
        let sa = Self { bytes, offset };
        for proposal in sa.proposals() {
            for transform in proposal?.transforms() {
                for attribute in transform?.attributes() {
                    attribute?;
                }
            }
        }
        Ok(sa)
    }

    /// The proposals.
    #[must_use]
    pub const fn proposals(&self) -> Proposals<'a> {
        Iter::new(self.bytes, self.offset)
    }
}

impl fmt::Display for Sa<'_> {
    /// `#1 IKE ENCR_AES_CBC/256 …`: each proposal's number, protocol and transforms.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut sep = "";
        for proposal in self.proposals().map_while(Result::ok) {
            write!(f, "{sep}{proposal}")?;
            sep = "; ";
        }
        Ok(())
    }
}

/// The proposals of an SA payload.
pub type Proposals<'a> = Iter<'a, Proposal<'a>>;

/// One proposal (RFC 7296 §3.3.1).
#[derive(Clone, Copy, Debug, Eq, Hash, PartialEq)]
pub struct Proposal<'a> {
    /// 0 if this is the last proposal, 2 otherwise.
    pub last: u8,
    /// Proposal number (1 for the first).
    pub number: u8,
    /// Security protocol.
    pub protocol: ProtocolId,
    /// The SPI: empty for an initial IKE SA, 8 bytes for an IKE rekey, 4 for ESP/AH.
    pub spi: &'a [u8],
    /// The number of transforms the proposal says it has.
    pub transform_count: u8,
    /// The transform bytes.
    pub transform_bytes: &'a [u8],
    /// Offset of the transforms in the outermost buffer.
    pub transforms_offset: usize,
}

impl<'a> Entry<'a> for Proposal<'a> {
    type Ctx = ();
    const LAYER: Layer = Layer::Isakmp;

    fn parse_entry(bytes: &'a [u8], start: usize, (): ()) -> Result<(Self, usize)> {
        let (last, len, mut body) =
            substructure(bytes, start, "proposal length", PROPOSAL_HEADER_LEN)?;
        let fields = ProposalFields::read(&mut body)?;
        let transforms_offset = body.offset();
        let transform_bytes = body.rest();
        let proposal = Self {
            last,
            number: fields.number,
            protocol: ProtocolId(fields.protocol),
            spi: fields.spi,
            transform_count: fields.transform_count,
            transform_bytes,
            transforms_offset,
        };
        Ok((proposal, len))
    }

    fn entry_len(&self, (): ()) -> usize {
        self.buffer_len()
    }

    fn emit_entry(&self, buf: &mut [u8], (): ()) {
        let fields = ProposalFields {
            number: self.number,
            protocol: self.protocol.0,
            transform_count: self.transform_count,
            spi: self.spi,
        };
        fields.emit(buf, self.last, self.transform_bytes);
    }
}

impl<'a> Proposal<'a> {
    /// The transforms.
    #[must_use]
    pub const fn transforms(&self) -> Transforms<'a> {
        Iter::new(self.transform_bytes, self.transforms_offset)
    }

    /// Bytes of the proposal on the wire.
    #[must_use]
    pub const fn buffer_len(&self) -> usize {
        PROPOSAL_HEADER_LEN + self.spi.len() + self.transform_bytes.len()
    }
}

impl fmt::Display for Proposal<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "#{} {}",
            self.number,
            self.protocol.name().unwrap_or("protocol")
        )?;
        if !self.spi.is_empty() {
            write!(f, " spi={}", dmvpn_wire::fmt::Hex(self.spi))?;
        }
        for transform in self.transforms().map_while(Result::ok) {
            write!(f, " {transform}")?;
        }
        Ok(())
    }
}

/// The transforms of a proposal.
pub type Transforms<'a> = Iter<'a, Transform<'a>>;

/// One transform (RFC 7296 §3.3.2).
#[derive(Clone, Copy, Debug, Eq, Hash, PartialEq)]
pub struct Transform<'a> {
    /// 0 if this is the last transform, 3 otherwise.
    pub last: u8,
    /// Transform type.
    pub ty: TransformType,
    /// Transform ID (its registry depends on the type).
    pub id: u16,
    /// The attribute bytes.
    pub attribute_bytes: &'a [u8],
    /// Offset of the attributes in the outermost buffer.
    pub attributes_offset: usize,
}

impl<'a> Entry<'a> for Transform<'a> {
    type Ctx = ();
    const LAYER: Layer = Layer::Isakmp;

    fn parse_entry(bytes: &'a [u8], start: usize, (): ()) -> Result<(Self, usize)> {
        let (last, len, mut body) =
            substructure(bytes, start, "transform length", TRANSFORM_HEADER_LEN)?;
        let ty = TransformType(body.u8("transform type")?);
        body.u8("reserved")?;
        let id = body.u16("transform id")?;
        let attributes_offset = body.offset();
        let transform = Self {
            last,
            ty,
            id,
            attribute_bytes: body.rest(),
            attributes_offset,
        };
        Ok((transform, len))
    }

    fn entry_len(&self, (): ()) -> usize {
        self.buffer_len()
    }

    fn emit_entry(&self, buf: &mut [u8], (): ()) {
        emit_substructure_header(buf, self.last, self.buffer_len());
        buf[4] = self.ty.0;
        buf[5] = 0;
        buf[6..8].copy_from_slice(&self.id.to_be_bytes());
        buf[TRANSFORM_HEADER_LEN..self.buffer_len()].copy_from_slice(self.attribute_bytes);
    }
}

impl<'a> Transform<'a> {
    /// The attributes.
    #[must_use]
    pub const fn attributes(&self) -> Attributes<'a> {
        Iter::new(self.attribute_bytes, self.attributes_offset)
    }

    /// The Key Length attribute, in bits, if present.
    #[must_use]
    pub fn key_length(&self) -> Option<u16> {
        self.attributes()
            .map_while(Result::ok)
            .find(|a| a.ty == AttributeType::KEY_LENGTH)
            .and_then(|a| a.tv)
    }

    /// The transform ID's name in the registry of its type.
    #[must_use]
    pub const fn id_name(&self) -> Option<&'static str> {
        match self.ty {
            TransformType::ENCR => EncrId(self.id).name(),
            TransformType::PRF => PrfId(self.id).name(),
            TransformType::INTEG => IntegId(self.id).name(),
            TransformType::KE
            | TransformType::ADDKE1
            | TransformType::ADDKE2
            | TransformType::ADDKE3
            | TransformType::ADDKE4
            | TransformType::ADDKE5
            | TransformType::ADDKE6
            | TransformType::ADDKE7 => DhGroup(self.id).name(),
            TransformType::ESN => match self.id {
                0 => Some("No ESN"),
                1 => Some("ESN"),
                _ => None,
            },
            _ => None,
        }
    }

    /// Bytes of the transform on the wire.
    #[must_use]
    pub const fn buffer_len(&self) -> usize {
        TRANSFORM_HEADER_LEN + self.attribute_bytes.len()
    }
}

impl fmt::Display for Transform<'_> {
    /// `ENCR_AES_CBC/256`, `PRF_HMAC_SHA1`, `D-H=2048-bit MODP`, or `ENCR=0x63` when unknown.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let ty = self.ty.name().unwrap_or("T");
        match (self.ty, self.id_name()) {
            (TransformType::ENCR, Some(name)) => write!(f, "ENCR_{name}")?,
            (TransformType::PRF | TransformType::INTEG, Some(name)) => f.write_str(name)?,
            (_, Some(name)) => write!(f, "{ty}={name}")?,
            (_, None) => write!(f, "{ty}={:#x}", self.id)?,
        }
        if let Some(bits) = self.key_length() {
            write!(f, "/{bits}")?;
        }
        Ok(())
    }
}

/// The attributes of a transform.
pub type Attributes<'a> = Iter<'a, Attribute<'a>>;

/// One transform attribute (RFC 7296 §3.3.5): TV when the AF bit is set, TLV otherwise.
#[derive(Clone, Copy, Debug, Eq, Hash, PartialEq)]
pub struct Attribute<'a> {
    /// The attribute type, without the AF bit.
    pub ty: AttributeType,
    /// The value of a TV attribute.
    pub tv: Option<u16>,
    /// The value of a TLV attribute (empty for TV).
    pub value: &'a [u8],
}

impl<'a> Entry<'a> for Attribute<'a> {
    type Ctx = ();
    const LAYER: Layer = Layer::Isakmp;

    fn parse_entry(bytes: &'a [u8], start: usize, (): ()) -> Result<(Self, usize)> {
        let mut reader = Reader::with_base(Layer::Isakmp, bytes, start);
        let word = reader.u16("attribute type")?;
        let ty = AttributeType(word & 0x7fff);
        let attribute = if word & 0x8000 != 0 {
            Self {
                ty,
                tv: Some(reader.u16("attribute value")?),
                value: &[],
            }
        } else {
            let len = reader.u16("attribute length")?;
            Self {
                ty,
                tv: None,
                value: reader.take(usize::from(len), "attribute value")?,
            }
        };
        Ok((attribute, attribute.entry_len(())))
    }

    fn entry_len(&self, (): ()) -> usize {
        4 + self.value.len()
    }

    fn emit_entry(&self, buf: &mut [u8], (): ()) {
        let (word, value) = match self.tv {
            Some(value) => (self.ty.0 | 0x8000, value),
            None => (
                self.ty.0,
                u16::try_from(self.value.len()).unwrap_or(u16::MAX),
            ),
        };
        buf[0..2].copy_from_slice(&word.to_be_bytes());
        buf[2..4].copy_from_slice(&value.to_be_bytes());
        buf[4..4 + self.value.len()].copy_from_slice(self.value);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// One IKE proposal: AES-CBC-256, HMAC-SHA1 PRF, HMAC-SHA1-96, MODP 2048.
    #[rustfmt::skip]
    const SA: [u8; 44] = [
        0x00, 0x00, 0x00, 0x2c, 0x01, 0x01, 0x00, 0x04,
        0x03, 0x00, 0x00, 0x0c, 0x01, 0x00, 0x00, 0x0c, 0x80, 0x0e, 0x01, 0x00,
        0x03, 0x00, 0x00, 0x08, 0x02, 0x00, 0x00, 0x02,
        0x03, 0x00, 0x00, 0x08, 0x03, 0x00, 0x00, 0x02,
        0x00, 0x00, 0x00, 0x08, 0x04, 0x00, 0x00, 0x0e,
    ];

    #[test]
    fn walks_proposals_and_transforms() {
        let sa = Sa::parse(&SA, 32).unwrap();
        let proposals: Vec<_> = sa.proposals().collect::<Result<_>>().unwrap();
        assert_eq!(proposals.len(), 1);
        let p = proposals[0];
        assert_eq!(
            (p.number, p.protocol, p.transform_count),
            (1, ProtocolId::IKE, 4)
        );
        assert_eq!(p.buffer_len(), SA.len());
        let transforms: Vec<_> = p.transforms().collect::<Result<_>>().unwrap();
        assert_eq!(transforms[0].key_length(), Some(256));
        assert_eq!(
            sa.to_string(),
            "#1 IKE ENCR_AES_CBC/256 PRF_HMAC_SHA1 AUTH_HMAC_SHA1_96 D-H=2048-bit MODP"
        );
    }

    #[test]
    fn every_level_emits_back() {
        let sa = Sa::parse(&SA, 0).unwrap();
        let mut out = [0; SA.len()];
        for proposal in sa.proposals() {
            let proposal = proposal.unwrap();
            proposal.emit_entry(&mut out, ());
            let mut at = proposal.transforms_offset;
            for transform in proposal.transforms() {
                let transform = transform.unwrap();
                let len = transform.entry_len(());
                let mut again = vec![0; len];
                transform.emit_entry(&mut again, ());
                assert_eq!(again, SA[at..at + len]);
                for attribute in transform.attributes() {
                    let attribute = attribute.unwrap();
                    let mut bytes = vec![0; attribute.entry_len(())];
                    attribute.emit_entry(&mut bytes, ());
                    assert_eq!(bytes, [0x80, 0x0e, 0x01, 0x00]);
                }
                at += len;
            }
        }
        assert_eq!(out, SA);
    }

    #[test]
    fn truncation_names_field_and_offset() {
        for len in 1..SA.len() {
            let err = Sa::parse(&SA[..len], 32).unwrap_err();
            assert!(err.offset() >= 32, "len {len}: {err}");
            assert!(err.field().is_some(), "len {len}: {err}");
        }
        let mut bad = SA;
        bad[3] = 4;
        assert_eq!(
            Sa::parse(&bad, 32).unwrap_err().to_string(),
            "isakmp: length field `proposal length` at offset 34 says 4 bytes, but 8 are there"
        );
    }

    #[test]
    fn arbitrary_bytes_never_panic() {
        bolero::check!().for_each(|data: &[u8]| {
            if let Ok(sa) = Sa::parse(data, 0) {
                let _ = sa.to_string();
            }
        });
    }
}
