//! The payload chain (RFC 2408 §3.2) and the body of every payload type IKEv1 uses.
//!
//! Every payload starts with a 4-byte generic header (next payload, reserved, length). [`Payloads`]
//! walks the chain without copying and checks each length against what is left; [`Body::parse`] then
//! decodes a payload by its type. Types this crate does not decode stay [`Body::Unknown`], so every
//! message round-trips byte for byte.

use core::fmt;
use core::net::{Ipv4Addr, Ipv6Addr};

use dmvpn_wire::fmt::Hex;
use dmvpn_wire::{Error, Layer, Reader, Result};

use crate::attribute::{Attributes, Class};
use crate::consts::{
    CertEncoding, CfgType, Doi, ExchangeType, IdType, NotifyType, PayloadType, ProtocolId,
};
use crate::sa::Sa;
use crate::vendor::VendorId;

/// Length of the generic payload header.
pub const GENERIC_HEADER_LEN: usize = 4;

/// Facts from outside a payload that decide how to read it.
#[derive(Clone, Copy, Debug, Default, Eq, Hash, PartialEq)]
pub struct Context {
    /// The exchange the payload arrived in.
    pub exchange: ExchangeType,
    /// The NAT-D payload type agreed by NAT-T vendor IDs (see [`crate::vendor::Vendor::nat_d`]), if known.
    pub nat_d: Option<PayloadType>,
}

impl Context {
    /// A context for `exchange` with no NAT-T knowledge.
    #[must_use]
    pub const fn new(exchange: ExchangeType) -> Self {
        Self {
            exchange,
            nat_d: None,
        }
    }

    /// Whether payload type 15 / 16 means the NAT-T drafts' NAT-D / NAT-OA here rather than GDOI's
    /// SAK / SAT. GDOI (RFC 6407) runs its own exchanges, so in Main, Aggressive, Base and
    /// Authentication-Only exchanges 15 can only be NAT-D; elsewhere a draft NAT-T vendor ID decides.
    #[must_use]
    pub fn draft_nat_payloads(&self) -> bool {
        self.nat_d == Some(PayloadType::SAK)
            || matches!(
                self.exchange,
                ExchangeType::MAIN
                    | ExchangeType::AGGRESSIVE
                    | ExchangeType::BASE
                    | ExchangeType::AUTH_ONLY
            ) && self.nat_d.is_none_or(|ty| ty == PayloadType::SAK)
    }
}

/// One payload of the chain: its type, the type of the next one, and its body.
#[derive(Clone, Copy, Debug, Eq, Hash, PartialEq)]
pub struct Payload<'a> {
    /// This payload's type (from the previous header's next-payload field).
    pub ty: PayloadType,
    /// The next payload's type.
    pub next: PayloadType,
    /// The reserved byte (zero on the wire; the critical bit in IKEv2).
    pub reserved: u8,
    /// The body, after the generic header.
    pub body: &'a [u8],
    /// Offset of the generic header in the outermost buffer.
    pub offset: usize,
}

impl<'a> Payload<'a> {
    /// Decodes the body.
    pub fn decode(&self, context: Context) -> Result<Body<'a>> {
        Body::parse(
            self.ty,
            self.body,
            self.offset + GENERIC_HEADER_LEN,
            context,
        )
    }
}

/// A zero-copy iterator over a payload chain; it stops after the first error.
///
/// After the last payload (next payload 0) the rest must be empty, except in decrypted bodies, where
/// it is the cipher padding (RFC 2409 Appendix B pads with zeros and does not code the length) and is
/// returned by [`Payloads::padding`].
#[derive(Clone, Debug)]
pub struct Payloads<'a> {
    reader: Reader<'a>,
    next: PayloadType,
    allow_padding: bool,
    done: bool,
}

impl<'a> Payloads<'a> {
    /// A chain whose first payload has type `first`, in `bytes` that start at `base`.
    #[must_use]
    pub const fn new(first: PayloadType, bytes: &'a [u8], base: usize) -> Self {
        Self::with_padding(first, bytes, base, false)
    }

    /// A chain in decrypted plaintext, where bytes after the last payload are padding.
    #[must_use]
    pub const fn decrypted(first: PayloadType, bytes: &'a [u8], base: usize) -> Self {
        Self::with_padding(first, bytes, base, true)
    }

    /// [`Payloads::decrypted`] when `allow_padding`, else [`Payloads::new`].
    pub(crate) const fn with_padding(
        first: PayloadType,
        bytes: &'a [u8],
        base: usize,
        allow_padding: bool,
    ) -> Self {
        Self {
            reader: Reader::with_base(Layer::Isakmp, bytes, base),
            next: first,
            allow_padding,
            done: false,
        }
    }

    /// What follows the last payload: the padding of a decrypted chain (empty until the chain ends).
    #[must_use]
    pub fn padding(&self) -> &'a [u8] {
        if self.next == PayloadType::NONE {
            self.reader.peek_rest()
        } else {
            &[]
        }
    }

    /// Walks the whole chain, returning the first error.
    pub fn check(self) -> Result<()> {
        for payload in self {
            payload?;
        }
        Ok(())
    }

    fn step(&mut self) -> Result<Option<Payload<'a>>> {
        if self.next == PayloadType::NONE {
            if self.reader.is_empty() || self.allow_padding {
                return Ok(None);
            }
            return Err(Error::TrailingBytes {
                layer: Layer::Isakmp,
                offset: self.reader.offset(),
                len: self.reader.remaining(),
            });
        }
        let offset = self.reader.offset();
        let next = PayloadType(self.reader.u8("next payload")?);
        let reserved = self.reader.u8("reserved")?;
        let len = self.reader.u16("payload length")?;
        if usize::from(len) < GENERIC_HEADER_LEN {
            return Err(Error::bad_length(
                Layer::Isakmp,
                "payload length",
                offset + 2,
                len.into(),
                GENERIC_HEADER_LEN,
            ));
        }
        let body = self
            .reader
            .sub(usize::from(len) - GENERIC_HEADER_LEN, "payload length")?
            .rest();
        let payload = Payload {
            ty: self.next,
            next,
            reserved,
            body,
            offset,
        };
        self.next = next;
        Ok(Some(payload))
    }
}

impl<'a> Iterator for Payloads<'a> {
    type Item = Result<Payload<'a>>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.done {
            return None;
        }
        let item = self.step();
        if !matches!(item, Ok(Some(_))) {
            self.done = true;
        }
        item.transpose()
    }
}

/// Writes a generic header plus `body` at the start of `buf`; returns the bytes written.
///
/// # Panics
/// If `buf` is too short or the payload exceeds 65535 bytes.
pub fn emit_payload(next: PayloadType, body: &Body<'_>, buf: &mut [u8]) -> usize {
    let len = GENERIC_HEADER_LEN + body.buffer_len();
    let wire_len = u16::try_from(len).unwrap_or(u16::MAX);
    assert_eq!(
        usize::from(wire_len),
        len,
        "payload longer than 65535 bytes"
    );
    buf[0] = next.0;
    buf[1] = 0;
    buf[2..4].copy_from_slice(&wire_len.to_be_bytes());
    body.emit(&mut buf[GENERIC_HEADER_LEN..len]);
    len
}

/// A decoded payload body.
#[derive(Clone, Copy, Debug, Eq, Hash, PartialEq)]
pub enum Body<'a> {
    /// Security Association (RFC 2408 §3.4).
    Sa(Sa<'a>),
    /// Key Exchange: the Diffie-Hellman public value g^x (RFC 2408 §3.7).
    Ke(&'a [u8]),
    /// Identification (RFC 2408 §3.8, RFC 2407 §4.6.2).
    Id(Id<'a>),
    /// Certificate (RFC 2408 §3.9).
    Cert(Cert<'a>),
    /// Certificate Request (RFC 2408 §3.10): the encoding and the acceptable authority.
    CertRequest(Cert<'a>),
    /// Hash (RFC 2408 §3.11).
    Hash(&'a [u8]),
    /// Signature (RFC 2408 §3.12).
    Sig(&'a [u8]),
    /// Nonce (RFC 2408 §3.13).
    Nonce(&'a [u8]),
    /// Notification (RFC 2408 §3.14).
    Notify(Notify<'a>),
    /// Delete (RFC 2408 §3.15).
    Delete(Delete<'a>),
    /// Vendor ID (RFC 2408 §3.16).
    VendorId(&'a [u8]),
    /// Mode-config / XAUTH attributes (draft-dukes-ike-mode-cfg §3.2).
    Attributes(ModeCfg<'a>),
    /// NAT Discovery hash (RFC 3947 §3.2), under type 20, 130 or the drafts' 15.
    NatD(&'a [u8]),
    /// NAT Original Address (RFC 3947 §5.2), under type 21, 131 or the drafts' 16.
    NatOa(NatOa<'a>),
    /// Cisco IKE fragment (type 132).
    Fragment(Fragment<'a>),
    /// Any other payload, kept as bytes.
    Unknown {
        /// The payload type.
        ty: PayloadType,
        /// The body.
        value: &'a [u8],
    },
}

impl<'a> Body<'a> {
    /// Decodes the body of a payload of type `ty`, whose first byte is at `base`.
    pub fn parse(ty: PayloadType, body: &'a [u8], base: usize, context: Context) -> Result<Self> {
        Ok(match ty {
            PayloadType::SA => {
                let sa = Sa::parse(body, base)?;
                sa.check()?;
                Self::Sa(sa)
            }
            PayloadType::KE => Self::Ke(body),
            PayloadType::ID => Self::Id(Id::parse(body, base)?),
            PayloadType::CERT => Self::Cert(Cert::parse(body, base)?),
            PayloadType::CR => Self::CertRequest(Cert::parse(body, base)?),
            PayloadType::HASH => Self::Hash(body),
            PayloadType::SIG => Self::Sig(body),
            PayloadType::NONCE => Self::Nonce(body),
            PayloadType::NOTIFY => Self::Notify(Notify::parse(body, base)?),
            PayloadType::DELETE => Self::Delete(Delete::parse(body, base)?),
            PayloadType::VENDOR_ID => Self::VendorId(body),
            PayloadType::ATTRIBUTES => Self::Attributes(ModeCfg::parse(body, base)?),
            PayloadType::NAT_D | PayloadType::NAT_D_DRAFT => Self::NatD(body),
            PayloadType::SAK if context.draft_nat_payloads() => Self::NatD(body),
            PayloadType::NAT_OA | PayloadType::NAT_OA_DRAFT => {
                Self::NatOa(NatOa::parse(body, base)?)
            }
            PayloadType::SAT if context.nat_d == Some(PayloadType::SAK) => {
                Self::NatOa(NatOa::parse(body, base)?)
            }
            PayloadType::FRAGMENT => Self::Fragment(Fragment::parse(body, base)?),
            ty => Self::Unknown { ty, value: body },
        })
    }

    /// Bytes [`Body::emit`] writes.
    #[must_use]
    pub const fn buffer_len(&self) -> usize {
        match self {
            Self::Sa(sa) => sa.buffer_len(),
            Self::Ke(v)
            | Self::Hash(v)
            | Self::Sig(v)
            | Self::Nonce(v)
            | Self::VendorId(v)
            | Self::NatD(v) => v.len(),
            Self::Unknown { value, .. } => value.len(),
            Self::Id(id) => 4 + id.data.len(),
            Self::Cert(cert) | Self::CertRequest(cert) => 1 + cert.data.len(),
            Self::Notify(n) => 8 + n.spi.len() + n.data.len(),
            Self::Delete(d) => 8 + d.spis.len(),
            Self::Attributes(m) => 4 + m.attributes.len(),
            Self::NatOa(n) => 4 + n.address.len(),
            Self::Fragment(f) => 4 + f.data.len(),
        }
    }

    /// Writes the body into `buf` (exactly [`Body::buffer_len`] bytes are used).
    pub fn emit(&self, buf: &mut [u8]) {
        match *self {
            Self::Sa(sa) => sa.emit(buf),
            Self::Ke(v)
            | Self::Hash(v)
            | Self::Sig(v)
            | Self::Nonce(v)
            | Self::VendorId(v)
            | Self::NatD(v) => {
                buf[..v.len()].copy_from_slice(v);
            }
            Self::Unknown { value, .. } => buf[..value.len()].copy_from_slice(value),
            Self::Id(id) => {
                buf[0] = id.ty.0;
                buf[1] = id.protocol;
                buf[2..4].copy_from_slice(&id.port.to_be_bytes());
                buf[4..4 + id.data.len()].copy_from_slice(id.data);
            }
            Self::Cert(cert) | Self::CertRequest(cert) => {
                buf[0] = cert.encoding.0;
                buf[1..1 + cert.data.len()].copy_from_slice(cert.data);
            }
            Self::Notify(n) => {
                buf[0..4].copy_from_slice(&n.doi.0.to_be_bytes());
                buf[4] = n.protocol.0;
                buf[5] = u8::try_from(n.spi.len()).unwrap_or(u8::MAX);
                buf[6..8].copy_from_slice(&n.ty.0.to_be_bytes());
                buf[8..8 + n.spi.len()].copy_from_slice(n.spi);
                buf[8 + n.spi.len()..8 + n.spi.len() + n.data.len()].copy_from_slice(n.data);
            }
            Self::Delete(d) => {
                buf[0..4].copy_from_slice(&d.doi.0.to_be_bytes());
                buf[4] = d.protocol.0;
                buf[5] = d.spi_size;
                buf[6..8].copy_from_slice(&d.count.to_be_bytes());
                buf[8..8 + d.spis.len()].copy_from_slice(d.spis);
            }
            Self::Attributes(m) => {
                buf[0] = m.ty.0;
                buf[1] = m.reserved;
                buf[2..4].copy_from_slice(&m.identifier.to_be_bytes());
                buf[4..4 + m.attributes.len()].copy_from_slice(m.attributes);
            }
            Self::NatOa(n) => {
                buf[0] = n.id_type.0;
                buf[1..4].copy_from_slice(&n.reserved);
                buf[4..4 + n.address.len()].copy_from_slice(n.address);
            }
            Self::Fragment(f) => {
                buf[0..2].copy_from_slice(&f.id.to_be_bytes());
                buf[2] = f.number;
                buf[3] = f.flags;
                buf[4..4 + f.data.len()].copy_from_slice(f.data);
            }
        }
    }

    /// The short name used in summaries: the payload type's name, with NAT-D / NAT-OA named as such
    /// whatever number carried them.
    #[must_use]
    pub const fn name(&self) -> &'static str {
        match self {
            Self::Sa(_) => "SA",
            Self::Ke(_) => "KE",
            Self::Id(_) => "ID",
            Self::Cert(_) => "CERT",
            Self::CertRequest(_) => "CR",
            Self::Hash(_) => "HASH",
            Self::Sig(_) => "SIG",
            Self::Nonce(_) => "NONCE",
            Self::Notify(_) => "N",
            Self::Delete(_) => "D",
            Self::VendorId(_) => "VID",
            Self::Attributes(_) => "ATTR",
            Self::NatD(_) => "NAT-D",
            Self::NatOa(_) => "NAT-OA",
            Self::Fragment(_) => "FRAG",
            Self::Unknown { .. } => "UNKNOWN",
        }
    }
}

impl fmt::Display for Body<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Sa(sa) => write!(f, "SA({sa})"),
            Self::Ke(v) => write!(f, "KE({} bytes)", v.len()),
            Self::Id(id) => write!(f, "ID({id})"),
            Self::Cert(c) => write!(f, "CERT({}, {} bytes)", c.encoding, c.data.len()),
            Self::CertRequest(c) => write!(f, "CR({}, {} bytes)", c.encoding, c.data.len()),
            Self::Hash(v) => write!(f, "HASH(0x{})", Hex(v)),
            Self::Sig(v) => write!(f, "SIG({} bytes)", v.len()),
            Self::Nonce(v) => write!(f, "NONCE({} bytes)", v.len()),
            Self::Notify(n) => write!(f, "N({n})"),
            Self::Delete(d) => write!(f, "D({d})"),
            Self::VendorId(v) => write!(f, "VID({})", VendorId(v)),
            Self::Attributes(m) => write!(f, "ATTR({m})"),
            Self::NatD(v) => write!(f, "NAT-D(0x{})", Hex(v)),
            Self::NatOa(n) => write!(f, "NAT-OA({n})"),
            Self::Fragment(fr) => write!(
                f,
                "FRAG(id {} #{}{}, {} bytes)",
                fr.id,
                fr.number,
                if fr.is_last() { " last" } else { "" },
                fr.data.len()
            ),
            Self::Unknown { ty, value } => write!(f, "{ty}({} bytes)", value.len()),
        }
    }
}

/// An Identification payload body (RFC 2407 §4.6.2).
#[derive(Clone, Copy, Debug, Eq, Hash, PartialEq)]
pub struct Id<'a> {
    /// ID type.
    pub ty: IdType,
    /// IP protocol (0 = any; 17 for UDP/500 in phase 1; 47 for DMVPN's GRE in Quick Mode).
    pub protocol: u8,
    /// Port (0 = any).
    pub port: u16,
    /// Identification data, interpreted by `ty`.
    pub data: &'a [u8],
}

impl<'a> Id<'a> {
    /// Parses an ID body at `base`; address types must have their exact length.
    pub fn parse(body: &'a [u8], base: usize) -> Result<Self> {
        let mut reader = Reader::with_base(Layer::Isakmp, body, base);
        let ty = IdType(reader.u8("id type")?);
        let protocol = reader.u8("protocol id")?;
        let port = reader.u16("port")?;
        let data = reader.rest();
        let expected = match ty {
            IdType::IPV4_ADDR => Some(4),
            IdType::IPV4_ADDR_SUBNET | IdType::IPV4_ADDR_RANGE => Some(8),
            IdType::IPV6_ADDR => Some(16),
            IdType::IPV6_ADDR_SUBNET | IdType::IPV6_ADDR_RANGE => Some(32),
            _ => None,
        };
        if let Some(expected) = expected
            && data.len() != expected
        {
            return Err(Error::bad_length(
                Layer::Isakmp,
                "identification data",
                base + 4,
                expected,
                data.len(),
            ));
        }
        Ok(Self {
            ty,
            protocol,
            port,
            data,
        })
    }
}

impl fmt::Display for Id<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let v4 = |b: &[u8]| Ipv4Addr::from(<[u8; 4]>::try_from(b).unwrap_or_default());
        let v6 = |b: &[u8]| Ipv6Addr::from(<[u8; 16]>::try_from(b).unwrap_or_default());
        let d = self.data;
        match self.ty {
            IdType::IPV4_ADDR if d.len() == 4 => write!(f, "{}", v4(d))?,
            IdType::IPV4_ADDR_SUBNET if d.len() == 8 => {
                write!(f, "{}/{}", v4(&d[..4]), v4(&d[4..]))?
            }
            IdType::IPV4_ADDR_RANGE if d.len() == 8 => {
                write!(f, "{}-{}", v4(&d[..4]), v4(&d[4..]))?
            }
            IdType::IPV6_ADDR if d.len() == 16 => write!(f, "{}", v6(d))?,
            IdType::IPV6_ADDR_SUBNET if d.len() == 32 => {
                write!(f, "{}/{}", v6(&d[..16]), v6(&d[16..]))?
            }
            IdType::IPV6_ADDR_RANGE if d.len() == 32 => {
                write!(f, "{}-{}", v6(&d[..16]), v6(&d[16..]))?
            }
            IdType::FQDN | IdType::USER_FQDN if d.iter().all(|b| b.is_ascii_graphic()) => {
                write!(
                    f,
                    "{} {}",
                    self.ty.name().unwrap_or_default(),
                    core::str::from_utf8(d).unwrap_or_default()
                )?;
            }
            ty => write!(f, "{ty} 0x{}", Hex(d))?,
        }
        if self.protocol != 0 || self.port != 0 {
            write!(f, " proto {} port {}", self.protocol, self.port)?;
        }
        Ok(())
    }
}

/// A Certificate or Certificate Request body (RFC 2408 §3.9, §3.10).
#[derive(Clone, Copy, Debug, Eq, Hash, PartialEq)]
pub struct Cert<'a> {
    /// Certificate encoding.
    pub encoding: CertEncoding,
    /// Certificate data, or the certificate authority of a request.
    pub data: &'a [u8],
}

impl<'a> Cert<'a> {
    /// Parses a CERT or CR body.
    pub fn parse(body: &'a [u8], base: usize) -> Result<Self> {
        let mut reader = Reader::with_base(Layer::Isakmp, body, base);
        let encoding = CertEncoding(reader.u8("certificate encoding")?);
        Ok(Self {
            encoding,
            data: reader.rest(),
        })
    }
}

/// A Notification body (RFC 2408 §3.14).
#[derive(Clone, Copy, Debug, Eq, Hash, PartialEq)]
pub struct Notify<'a> {
    /// Domain of interpretation.
    pub doi: Doi,
    /// Protocol the notification concerns.
    pub protocol: ProtocolId,
    /// Notify message type.
    pub ty: NotifyType,
    /// SPI (for DPD and INITIAL-CONTACT: the 16-byte cookie pair).
    pub spi: &'a [u8],
    /// Notification data.
    pub data: &'a [u8],
    /// Offset of the data in the outermost buffer.
    pub data_offset: usize,
}

impl<'a> Notify<'a> {
    /// Parses a Notification body.
    pub fn parse(body: &'a [u8], base: usize) -> Result<Self> {
        let mut reader = Reader::with_base(Layer::Isakmp, body, base);
        let doi = Doi(reader.u32("doi")?);
        let protocol = ProtocolId(reader.u8("protocol id")?);
        let spi_size = reader.u8("spi size")?;
        let ty = NotifyType(reader.u16("notify message type")?);
        let spi = reader.take(spi_size.into(), "spi")?;
        let data_offset = reader.offset();
        let notify = Self {
            doi,
            protocol,
            ty,
            spi,
            data: reader.rest(),
            data_offset,
        };
        match ty {
            NotifyType::R_U_THERE | NotifyType::R_U_THERE_ACK | NotifyType::REPLAY_STATUS
                if notify.data.len() != 4 =>
            {
                return Err(Error::bad_length(
                    Layer::Isakmp,
                    "notification data",
                    data_offset,
                    4,
                    notify.data.len(),
                ));
            }
            NotifyType::RESPONDER_LIFETIME => notify.lifetime_attributes().check()?,
            _ => {}
        }
        Ok(notify)
    }

    /// The DPD sequence number of an R-U-THERE / R-U-THERE-ACK (RFC 3706 §5).
    #[must_use]
    pub fn dpd_sequence(&self) -> Option<u32> {
        match (self.ty, self.data) {
            (NotifyType::R_U_THERE | NotifyType::R_U_THERE_ACK, &[a, b, c, d]) => {
                Some(u32::from_be_bytes([a, b, c, d]))
            }
            _ => None,
        }
    }

    /// The SA attributes of a RESPONDER-LIFETIME (RFC 2407 §4.6.3.1).
    #[must_use]
    pub const fn lifetime_attributes(&self) -> Attributes<'a> {
        Attributes::new(self.data, self.data_offset)
    }
}

impl fmt::Display for Notify<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.ty)?;
        if !self.spi.is_empty() {
            write!(f, " spi=0x{}", Hex(self.spi))?;
        }
        if let Some(seq) = self.dpd_sequence() {
            return write!(f, " seq={seq}");
        }
        if self.ty == NotifyType::RESPONDER_LIFETIME {
            let class = if self.protocol == ProtocolId::ISAKMP {
                Class::Ike
            } else {
                Class::Ipsec
            };
            for attribute in self.lifetime_attributes().map_while(Result::ok) {
                write!(f, " {}", attribute.describe(class))?;
            }
            return Ok(());
        }
        if !self.data.is_empty() {
            write!(f, " data=0x{}", Hex(self.data))?;
        }
        Ok(())
    }
}

/// A Delete body (RFC 2408 §3.15).
#[derive(Clone, Copy, Debug, Eq, Hash, PartialEq)]
pub struct Delete<'a> {
    /// Domain of interpretation.
    pub doi: Doi,
    /// Protocol of the deleted SAs.
    pub protocol: ProtocolId,
    /// SPI size (16 for an ISAKMP SA's cookie pair, 4 for ESP/AH).
    pub spi_size: u8,
    /// Number of SPIs.
    pub count: u16,
    /// The SPIs, back to back.
    pub spis: &'a [u8],
}

impl<'a> Delete<'a> {
    /// Parses a Delete body; the SPI list must be exactly `count × spi_size` bytes.
    pub fn parse(body: &'a [u8], base: usize) -> Result<Self> {
        let mut reader = Reader::with_base(Layer::Isakmp, body, base);
        let doi = Doi(reader.u32("doi")?);
        let protocol = ProtocolId(reader.u8("protocol id")?);
        let spi_size = reader.u8("spi size")?;
        let count = reader.u16("number of spis")?;
        let want = usize::from(spi_size) * usize::from(count);
        let spis = reader.take(want, "spis")?;
        reader.finish()?;
        Ok(Self {
            doi,
            protocol,
            spi_size,
            count,
            spis,
        })
    }

    /// The SPIs.
    pub fn spis(&self) -> impl Iterator<Item = &'a [u8]> + use<'a> {
        let size = usize::from(self.spi_size).max(1);
        self.spis
            .chunks_exact(size)
            .take(if self.spi_size == 0 { 0 } else { usize::MAX })
    }
}

impl fmt::Display for Delete<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.protocol)?;
        for spi in self.spis() {
            write!(f, " 0x{}", Hex(spi))?;
        }
        Ok(())
    }
}

/// A mode-config Attributes body (draft-dukes-ike-mode-cfg §3.2).
#[derive(Clone, Copy, Debug, Eq, Hash, PartialEq)]
pub struct ModeCfg<'a> {
    /// Message type.
    pub ty: CfgType,
    /// Reserved byte.
    pub reserved: u8,
    /// Identifier matching a reply to its request.
    pub identifier: u16,
    /// The attributes as on the wire.
    pub attributes: &'a [u8],
    /// Offset of the attributes in the outermost buffer.
    pub offset: usize,
}

impl<'a> ModeCfg<'a> {
    /// Parses an Attributes body and checks its attributes.
    pub fn parse(body: &'a [u8], base: usize) -> Result<Self> {
        let mut reader = Reader::with_base(Layer::Isakmp, body, base);
        let ty = CfgType(reader.u8("cfg type")?);
        let reserved = reader.u8("reserved")?;
        let identifier = reader.u16("identifier")?;
        let offset = reader.offset();
        let cfg = Self {
            ty,
            reserved,
            identifier,
            attributes: reader.rest(),
            offset,
        };
        cfg.attribute_list().check()?;
        Ok(cfg)
    }

    /// The attributes.
    #[must_use]
    pub const fn attribute_list(&self) -> Attributes<'a> {
        Attributes::new(self.attributes, self.offset)
    }
}

impl fmt::Display for ModeCfg<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} id={}", self.ty, self.identifier)?;
        for attribute in self.attribute_list().map_while(Result::ok) {
            write!(f, " {}", attribute.describe(Class::ModeCfg))?;
        }
        Ok(())
    }
}

/// A NAT-OA body (RFC 3947 §5.2).
#[derive(Clone, Copy, Debug, Eq, Hash, PartialEq)]
pub struct NatOa<'a> {
    /// ID type: IPV4_ADDR or IPV6_ADDR.
    pub id_type: IdType,
    /// The three reserved bytes.
    pub reserved: [u8; 3],
    /// The original address (4 or 16 bytes).
    pub address: &'a [u8],
}

impl<'a> NatOa<'a> {
    /// Parses a NAT-OA body; the address length must match the ID type.
    pub fn parse(body: &'a [u8], base: usize) -> Result<Self> {
        let mut reader = Reader::with_base(Layer::Isakmp, body, base);
        let id_type = IdType(reader.u8("id type")?);
        let reserved = reader.array("reserved")?;
        let len = match id_type {
            IdType::IPV4_ADDR => 4,
            IdType::IPV6_ADDR => 16,
            other => {
                return Err(Error::invalid_field(
                    Layer::Isakmp,
                    "id type",
                    base,
                    other.0.into(),
                ));
            }
        };
        let address = reader.take(len, "original address")?;
        reader.finish()?;
        Ok(Self {
            id_type,
            reserved,
            address,
        })
    }
}

impl fmt::Display for NatOa<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match <[u8; 4]>::try_from(self.address) {
            Ok(v4) => write!(f, "{}", Ipv4Addr::from(v4)),
            Err(_) => write!(
                f,
                "{}",
                Ipv6Addr::from(<[u8; 16]>::try_from(self.address).unwrap_or_default())
            ),
        }
    }
}

/// A Cisco IKE fragment body (payload type 132).
#[derive(Clone, Copy, Debug, Eq, Hash, PartialEq)]
pub struct Fragment<'a> {
    /// Fragment ID: the same for all fragments of one message.
    pub id: u16,
    /// Fragment number, from 1.
    pub number: u8,
    /// Flags; bit 0 marks the last fragment.
    pub flags: u8,
    /// The fragment of the original message.
    pub data: &'a [u8],
}

impl<'a> Fragment<'a> {
    /// Parses a fragment body.
    pub fn parse(body: &'a [u8], base: usize) -> Result<Self> {
        let mut reader = Reader::with_base(Layer::Isakmp, body, base);
        let id = reader.u16("fragment id")?;
        let number = reader.u8("fragment number")?;
        let flags = reader.u8("fragment flags")?;
        Ok(Self {
            id,
            number,
            flags,
            data: reader.rest(),
        })
    }

    /// Whether this is the last fragment.
    #[must_use]
    pub const fn is_last(&self) -> bool {
        self.flags & 1 != 0
    }
}

#[cfg(test)]
mod tests;
