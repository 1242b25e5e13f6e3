//! Data attributes (RFC 2408 §3.3): type/value (TV, AF bit set, 2-byte value) or
//! type/length/value (TLV, AF bit clear) entries, in transforms, mode-config payloads and
//! RESPONDER-LIFETIME notifications.
//!
//! ```text
//! +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//! !A!       Attribute Type        !    AF=0  Attribute Length     !
//! !F!                             !    AF=1  Attribute Value      !
//! +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//! .                   AF=0  Attribute Value                       .
//! +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//! ```

use core::fmt;

use dmvpn_wire::fmt::Hex;
use dmvpn_wire::{Error, Layer, Reader, Result};

use crate::consts::{
    AuthAlgorithm, AuthMethod, CfgAttributeType, EncapsulationMode, EncryptionAlgorithm, Group,
    GroupType, HashAlgorithm, IkeAttributeType, IpsecAttributeType, LifeType,
};

/// The attribute format bit: set for TV (basic) attributes.
pub const AF: u16 = 0x8000;

/// An attribute value in one of its two wire forms.
#[derive(Clone, Copy, Debug, Eq, Hash, PartialEq)]
pub enum Value<'a> {
    /// TV form (AF = 1): a 16-bit value in place of the length.
    Basic(u16),
    /// TLV form (AF = 0): a length-prefixed value, possibly empty.
    Variable(&'a [u8]),
}

/// One data attribute.
#[derive(Clone, Copy, Debug, Eq, Hash, PartialEq)]
pub struct Attribute<'a> {
    /// The attribute type, without the AF bit.
    pub ty: u16,
    /// The value.
    pub value: Value<'a>,
}

impl<'a> Attribute<'a> {
    /// Reads one attribute.
    pub fn parse(reader: &mut Reader<'a>) -> Result<Self> {
        let raw = reader.u16("attribute type")?;
        let ty = raw & !AF;
        if raw & AF != 0 {
            return Ok(Self {
                ty,
                value: Value::Basic(reader.u16("attribute value")?),
            });
        }
        let len = reader.u16("attribute length")?;
        let value = reader.sub(usize::from(len), "attribute length")?.rest();
        Ok(Self {
            ty,
            value: Value::Variable(value),
        })
    }

    /// Bytes [`Attribute::emit`] writes.
    #[must_use]
    pub const fn buffer_len(&self) -> usize {
        match self.value {
            Value::Basic(_) => 4,
            Value::Variable(value) => 4 + value.len(),
        }
    }

    /// Writes the attribute at the start of `buf` (at least [`Attribute::buffer_len`] bytes).
    ///
    /// # Panics
    /// If `buf` is shorter than [`Attribute::buffer_len`] or a variable value is longer than 65535 bytes.
    pub fn emit(&self, buf: &mut [u8]) {
        let ty = self.ty & !AF;
        match self.value {
            Value::Basic(value) => {
                buf[0..2].copy_from_slice(&(ty | AF).to_be_bytes());
                buf[2..4].copy_from_slice(&value.to_be_bytes());
            }
            Value::Variable(value) => {
                let len = u16::try_from(value.len()).unwrap_or(u16::MAX);
                assert_eq!(
                    usize::from(len),
                    value.len(),
                    "attribute value longer than 65535 bytes"
                );
                buf[0..2].copy_from_slice(&ty.to_be_bytes());
                buf[2..4].copy_from_slice(&len.to_be_bytes());
                buf[4..4 + value.len()].copy_from_slice(value);
            }
        }
    }

    /// The value as an integer: a basic value, or a big-endian variable value of at most 8 bytes.
    #[must_use]
    pub fn as_u64(&self) -> Option<u64> {
        match self.value {
            Value::Basic(value) => Some(u64::from(value)),
            Value::Variable(bytes) if bytes.len() <= 8 => Some(
                bytes
                    .iter()
                    .fold(0, |acc, &byte| (acc << 8) | u64::from(byte)),
            ),
            Value::Variable(_) => None,
        }
    }

    /// The value as a 16-bit registry number (basic form, or a variable form that fits).
    #[must_use]
    pub fn as_u16(&self) -> Option<u16> {
        self.as_u64().and_then(|value| u16::try_from(value).ok())
    }

    /// Names the attribute and its value in the given context.
    #[must_use]
    pub const fn describe(self, class: Class) -> Described<'a> {
        Named::new(self, class)
    }
}

/// Which registry an attribute's type belongs to.
#[derive(Clone, Copy, Debug, Eq, Hash, PartialEq)]
pub enum Class {
    /// Phase 1 transform attributes (RFC 2409 Appendix A): transforms of a PROTO_ISAKMP proposal.
    Ike,
    /// IPsec DOI SA attributes (RFC 2407 §4.5): transforms of AH / ESP / IPCOMP proposals.
    Ipsec,
    /// Mode-config, XAUTH and Cisco Unity attributes (payload type 14).
    ModeCfg,
}

/// A value printed with its names, which depend on a context: an attribute under its [`Class`]
/// ([`Described`]) or a transform under its proposal's protocol
/// ([`DescribedTransform`](crate::sa::DescribedTransform)).
#[derive(Clone, Copy, Debug, Eq, PartialEq)]
pub struct Named<T, C> {
    pub(crate) value: T,
    pub(crate) context: C,
}

impl<T, C> Named<T, C> {
    pub(crate) const fn new(value: T, context: C) -> Self {
        Self { value, context }
    }
}

/// An attribute printed with its names (see [`Attribute::describe`]).
pub type Described<'a> = Named<Attribute<'a>, Class>;

impl fmt::Display for Described<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let (attribute, class) = (self.value, self.context);
        let Attribute { ty, value } = attribute;
        let number = attribute.as_u16();
        let name = match class {
            Class::Ike => IkeAttributeType(ty).name(),
            Class::Ipsec => IpsecAttributeType(ty).name(),
            Class::ModeCfg => CfgAttributeType(ty).name(),
        };
        match name {
            Some(name) => f.write_str(name)?,
            None => write!(f, "attribute {ty}")?,
        }
        f.write_str("=")?;
        let value_name = match (class, number) {
            (Class::Ike, Some(n)) => match IkeAttributeType(ty) {
                IkeAttributeType::ENCRYPTION => EncryptionAlgorithm(n).name(),
                IkeAttributeType::HASH | IkeAttributeType::PRF => HashAlgorithm(n).name(),
                IkeAttributeType::AUTH_METHOD => AuthMethod(n).name(),
                IkeAttributeType::GROUP_DESCRIPTION => Group(n).name(),
                IkeAttributeType::GROUP_TYPE => GroupType(n).name(),
                IkeAttributeType::LIFE_TYPE => LifeType(n).name(),
                _ => None,
            },
            (Class::Ipsec, Some(n)) => match IpsecAttributeType(ty) {
                IpsecAttributeType::LIFE_TYPE => LifeType(n).name(),
                IpsecAttributeType::GROUP_DESCRIPTION => Group(n).name(),
                IpsecAttributeType::ENCAPSULATION_MODE => EncapsulationMode(n).name(),
                IpsecAttributeType::AUTH_ALGORITHM => AuthAlgorithm(n).name(),
                _ => None,
            },
            _ => None,
        };
        match (value_name, value) {
            (Some(name), _) => write!(f, "{name}"),
            (None, Value::Basic(n)) => write!(f, "{n}"),
            (None, Value::Variable(bytes)) => match attribute.as_u64() {
                Some(n) if !bytes.is_empty() && class != Class::ModeCfg => write!(f, "{n}"),
                _ if class == Class::ModeCfg && printable(bytes) => {
                    write!(f, "\"{}\"", core::str::from_utf8(bytes).unwrap_or_default())
                }
                _ => write!(f, "0x{}", Hex(bytes)),
            },
        }
    }
}

fn printable(bytes: &[u8]) -> bool {
    !bytes.is_empty() && bytes.iter().all(|b| b.is_ascii_graphic() || *b == b' ')
}

/// A zero-copy iterator over consecutive attributes; it stops after the first error.
#[derive(Clone, Debug)]
pub struct Attributes<'a> {
    reader: Reader<'a>,
    failed: bool,
}

impl<'a> Attributes<'a> {
    /// Iterates over `bytes`, reporting offsets from `base`.
    #[must_use]
    pub const fn new(bytes: &'a [u8], base: usize) -> Self {
        Self {
            reader: Reader::with_base(Layer::Isakmp, bytes, base),
            failed: false,
        }
    }

    /// Checks every attribute, returning the first error.
    pub fn check(self) -> Result<()> {
        for attribute in self {
            attribute?;
        }
        Ok(())
    }

    /// The first attribute of type `ty`, ignoring malformed tails.
    #[must_use]
    pub fn find(self, ty: u16) -> Option<Attribute<'a>> {
        self.map_while(Result::ok)
            .find(|attribute| attribute.ty == ty)
    }
}

impl<'a> Iterator for Attributes<'a> {
    type Item = Result<Attribute<'a>, Error>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.failed || self.reader.is_empty() {
            return None;
        }
        let item = Attribute::parse(&mut self.reader);
        self.failed = item.is_err();
        Some(item)
    }
}

/// Writes `attributes` back to back into `buf`, returning the bytes written.
pub fn emit_all(attributes: &[Attribute<'_>], buf: &mut [u8]) -> usize {
    let mut at = 0;
    for attribute in attributes {
        attribute.emit(&mut buf[at..]);
        at += attribute.buffer_len();
    }
    at
}

#[cfg(test)]
mod tests {
    extern crate alloc;
    use alloc::string::ToString;
    use alloc::vec;
    use alloc::vec::Vec;

    use super::*;

    dmvpn_wire::hex_consts! {
        // packetlife ISAKMP_sa_setup.cap frame 1, the phase-1 transform attributes:
        // AES-CBC, key length 128, SHA, PSK, group 1, life seconds, life duration 86400 (TLV, 4 bytes).
        const IKE_ATTRS: [u8; 32] = "80010007800e0080800200028004000180030001800b0001000c000400015180";
    }

    #[test]
    fn parse_and_describe() {
        let attrs: Vec<_> = Attributes::new(&IKE_ATTRS, 0)
            .collect::<Result<_>>()
            .unwrap();
        assert_eq!(attrs.len(), 7);
        assert_eq!(
            attrs[0],
            Attribute {
                ty: 1,
                value: Value::Basic(7)
            }
        );
        assert_eq!(
            attrs[6],
            Attribute {
                ty: 12,
                value: Value::Variable(&[0x00, 0x01, 0x51, 0x80])
            }
        );
        let text: Vec<_> = attrs
            .iter()
            .map(|a| a.describe(Class::Ike).to_string())
            .collect();
        assert_eq!(
            text,
            [
                "Encryption-Algorithm=AES-CBC",
                "Key-Length=128",
                "Hash-Algorithm=SHA",
                "Group-Description=768-bit MODP",
                "Authentication-Method=Pre-shared key",
                "Life-Type=Seconds",
                "Life-Duration=86400",
            ]
        );
        assert_eq!(attrs[6].as_u64(), Some(86400));
        assert_eq!(
            Attributes::new(&IKE_ATTRS, 0)
                .find(14)
                .and_then(|a| a.as_u16()),
            Some(128)
        );
    }

    #[test]
    fn ipsec_and_modecfg_names() {
        #[rustfmt::skip]
        let cases: [(u16, Value<'_>, Class, &str); 5] = [
            (4, Value::Basic(61443), Class::Ipsec, "Encapsulation-Mode=UDP-Encapsulated-Tunnel (draft)"),
            (5, Value::Basic(2), Class::Ipsec, "Authentication-Algorithm=HMAC-SHA"),
            (16521, Value::Variable(b"mpa"), Class::ModeCfg, "XAUTH-USER-NAME=\"mpa\""),
            (16522, Value::Variable(b""), Class::ModeCfg, "XAUTH-USER-PASSWORD=0x"),
            (0x7fff, Value::Variable(&[1; 9]), Class::Ike, "attribute 32767=0x010101010101010101"),
        ];
        for (ty, value, class, expected) in cases {
            let attribute = Attribute { ty, value };
            assert_eq!(attribute.describe(class).to_string(), expected);
        }
        let unknown = Attribute {
            ty: 0x7fff,
            value: Value::Variable(&[1; 9]),
        };
        assert_eq!(unknown.as_u64(), None);
    }

    #[test]
    fn emit_round_trip() {
        let attrs: Vec<_> = Attributes::new(&IKE_ATTRS, 0)
            .map_while(Result::ok)
            .collect();
        let mut buf = vec![0; IKE_ATTRS.len()];
        assert_eq!(emit_all(&attrs, &mut buf), IKE_ATTRS.len());
        assert_eq!(buf, IKE_ATTRS);
    }

    #[test]
    fn truncation_loop() {
        // Cut inside the TLV Life-Duration (starts at 24): type, length, then the value.
        for len in 0..IKE_ATTRS.len() {
            let err = Attributes::new(&IKE_ATTRS[..len], 100).find_map(Result::err);
            let start = len / 4 * 4;
            let expected = match (len % 4, start) {
                _ if len >= 28 => Some(Error::bad_length(
                    Layer::Isakmp,
                    "attribute length",
                    128,
                    4,
                    len - 28,
                )),
                (0, _) => None,
                (1, _) => Some(Error::truncated(
                    Layer::Isakmp,
                    "attribute type",
                    100 + start,
                    2,
                    100 + len,
                )),
                (2 | 3, 24) => Some(Error::truncated(
                    Layer::Isakmp,
                    "attribute length",
                    100 + start + 2,
                    2,
                    100 + len,
                )),
                (2 | 3, _) => Some(Error::truncated(
                    Layer::Isakmp,
                    "attribute value",
                    100 + start + 2,
                    2,
                    100 + len,
                )),
                _ => unreachable!(),
            };
            assert_eq!(err, expected, "len {len}");
        }
    }

    #[test]
    fn arbitrary_attributes_round_trip() {
        bolero::check!().for_each(|data: &[u8]| {
            let mut out = vec![0; data.len()];
            let mut at = 0;
            for attribute in Attributes::new(data, 0) {
                let Ok(attribute) = attribute else { return };
                let _ = attribute.describe(Class::Ike).to_string();
                let _ = attribute.describe(Class::Ipsec).to_string();
                let _ = attribute.describe(Class::ModeCfg).to_string();
                attribute.emit(&mut out[at..]);
                at += attribute.buffer_len();
            }
            assert_eq!(out, data);
        });
    }
}
