//! The IKEv2 payload chain (RFC 7296 §3.2) and the body of every payload type (RFC 7296 §3.3–§3.16,
//! RFC 7383 §2.5).
//!
//! The generic payload header is IKEv1's, with the critical bit in the byte IKEv1 reserves, so the
//! chain is walked by the shared [`crate::Payloads`] reader; [`Payloads`] only adds the IKEv2 rule
//! that an SK or SKF payload ends the chain (its next-payload field names the first *inner*
//! payload, RFC 7296 §3.14). Types this module does not decode stay [`Body::Unknown`].

use core::fmt;
use core::net::{Ipv4Addr, Ipv6Addr};

use dmvpn_wire::fmt::Hex;
use dmvpn_wire::list::{Entry, Iter};
use dmvpn_wire::{Error, Layer, Reader, Result};

use super::consts::{
    AuthMethod, CertEncoding, CfgAttribute, CfgType, DhGroup, EapCode, IdType, NotifyType,
    PayloadType, ProtocolId, TsType,
};
use super::sa::Sa;
use crate::payload::GENERIC_HEADER_LEN;

/// The critical bit of the generic payload header (RFC 7296 §3.2).
pub const CRITICAL: u8 = 0x80;

/// One payload of an IKEv2 chain.
#[derive(Clone, Copy, Debug, Eq, Hash, PartialEq)]
pub struct Payload<'a> {
    /// This payload's type.
    pub ty: PayloadType,
    /// The next payload's type (for SK and SKF: the first inner payload's).
    pub next: PayloadType,
    /// The byte after the next-payload field: the critical bit and 7 reserved bits.
    pub flags: u8,
    /// The body, after the generic header.
    pub body: &'a [u8],
    /// Offset of the generic header in the outermost buffer.
    pub offset: usize,
}

impl<'a> Payload<'a> {
    /// Whether the critical bit is set.
    #[must_use]
    pub const fn critical(&self) -> bool {
        self.flags & CRITICAL != 0
    }

    /// Decodes the body.
    pub fn decode(&self) -> Result<Body<'a>> {
        Body::parse(self.ty, self.body, self.offset + GENERIC_HEADER_LEN)
    }

    /// Offset of the first byte after this payload.
    #[must_use]
    pub const fn end(&self) -> usize {
        self.offset + GENERIC_HEADER_LEN + self.body.len()
    }
}

/// A zero-copy iterator over an IKEv2 payload chain; it stops after the first error, and after an
/// SK or SKF payload, which must be the last (bytes after it are [`Error::TrailingBytes`]).
#[derive(Clone, Debug)]
pub struct Payloads<'a> {
    inner: crate::Payloads<'a>,
    end: usize,
    trailing: Option<Error>,
    done: bool,
}

impl<'a> Payloads<'a> {
    /// A chain whose first payload has type `first`, in `bytes` that start at `base`.
    #[must_use]
    pub const fn new(first: PayloadType, bytes: &'a [u8], base: usize) -> Self {
        Self {
            inner: crate::Payloads::new(crate::PayloadType(first.0), bytes, base),
            end: base + bytes.len(),
            trailing: None,
            done: false,
        }
    }

    /// Walks the whole chain and decodes every body, returning the first error.
    pub fn check(self) -> Result<()> {
        for payload in self {
            payload?.decode()?;
        }
        Ok(())
    }
}

impl<'a> Iterator for Payloads<'a> {
    type Item = Result<Payload<'a>>;

    fn next(&mut self) -> Option<Self::Item> {
        if let Some(error) = self.trailing.take() {
            self.done = true;
            return Some(Err(error));
        }
        if self.done {
            return None;
        }
        let item = match self.inner.next()? {
            Ok(payload) => payload,
            Err(error) => {
                self.done = true;
                return Some(Err(error));
            }
        };
        let payload = Payload {
            ty: PayloadType(item.ty.0),
            next: PayloadType(item.next.0),
            flags: item.reserved,
            body: item.body,
            offset: item.offset,
        };
        if matches!(payload.ty, PayloadType::SK | PayloadType::SKF) {
            self.done = true;
            if payload.end() < self.end {
                self.trailing = Some(Error::TrailingBytes {
                    layer: Layer::Isakmp,
                    offset: payload.end(),
                    len: self.end - payload.end(),
                });
            }
        }
        Some(Ok(payload))
    }
}

/// Writes a generic header plus `body` at the start of `buf`: the bytes written, or `None` when
/// `buf` is too short or the payload would be longer than the 16-bit length allows.
pub fn emit_payload(
    next: PayloadType,
    critical: bool,
    body: &Body<'_>,
    buf: &mut [u8],
) -> Option<usize> {
    let len = GENERIC_HEADER_LEN + body.buffer_len();
    let [high, low] = u16::try_from(len).ok()?.to_be_bytes();
    let (header, rest) = buf.get_mut(..len)?.split_at_mut(GENERIC_HEADER_LEN);
    header.copy_from_slice(&[next.0, if critical { CRITICAL } else { 0 }, high, low]);
    body.emit(rest);
    Some(len)
}

/// A decoded IKEv2 payload body.
#[derive(Clone, Copy, Debug, Eq, Hash, PartialEq)]
pub enum Body<'a> {
    /// Security Association (§3.3).
    Sa(Sa<'a>),
    /// Key Exchange (§3.4).
    Ke(Ke<'a>),
    /// Identification - Initiator (§3.5).
    IdI(Id<'a>),
    /// Identification - Responder (§3.5).
    IdR(Id<'a>),
    /// Certificate (§3.6).
    Cert(Cert<'a>),
    /// Certificate Request (§3.7): the encoding and the CA key hashes.
    CertReq(Cert<'a>),
    /// Authentication (§3.8).
    Auth(Auth<'a>),
    /// Nonce (§3.9).
    Nonce(&'a [u8]),
    /// Notify (§3.10).
    Notify(Notify<'a>),
    /// Delete (§3.11).
    Delete(Delete<'a>),
    /// Vendor ID (§3.12).
    VendorId(&'a [u8]),
    /// Traffic Selector - Initiator (§3.13).
    TsI(Ts<'a>),
    /// Traffic Selector - Responder (§3.13).
    TsR(Ts<'a>),
    /// Encrypted and Authenticated (§3.14): IV, ciphertext and ICV, still encrypted.
    Sk(&'a [u8]),
    /// Configuration (§3.15).
    Cp(Cp<'a>),
    /// Extensible Authentication (§3.16).
    Eap(Eap<'a>),
    /// Encrypted and Authenticated Fragment (RFC 7383 §2.5).
    Skf(Skf<'a>),
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
    pub fn parse(ty: PayloadType, body: &'a [u8], base: usize) -> Result<Self> {
        Ok(match ty {
            PayloadType::SA => Self::Sa(Sa::parse(body, base)?),
            PayloadType::KE => Self::Ke(Ke::parse(body, base)?),
            PayloadType::IDI => Self::IdI(Id::parse(body, base)?),
            PayloadType::IDR => Self::IdR(Id::parse(body, base)?),
            PayloadType::CERT => Self::Cert(Cert::parse(body, base)?),
            PayloadType::CERTREQ => Self::CertReq(Cert::parse(body, base)?),
            PayloadType::AUTH => Self::Auth(Auth::parse(body, base)?),
            PayloadType::NONCE => Self::Nonce(body),
            PayloadType::NOTIFY => Self::Notify(Notify::parse(body, base)?),
            PayloadType::DELETE => Self::Delete(Delete::parse(body, base)?),
            PayloadType::VENDOR_ID => Self::VendorId(body),
            PayloadType::TSI => Self::TsI(Ts::parse(body, base)?),
            PayloadType::TSR => Self::TsR(Ts::parse(body, base)?),
            PayloadType::SK => Self::Sk(body),
            PayloadType::CP => Self::Cp(Cp::parse(body, base)?),
            PayloadType::EAP => Self::Eap(Eap::parse(body, base)?),
            PayloadType::SKF => Self::Skf(Skf::parse(body, base)?),
            ty => Self::Unknown { ty, value: body },
        })
    }

    /// The payload type this body is carried under.
    #[must_use]
    pub const fn ty(&self) -> PayloadType {
        match self {
            Self::Sa(_) => PayloadType::SA,
            Self::Ke(_) => PayloadType::KE,
            Self::IdI(_) => PayloadType::IDI,
            Self::IdR(_) => PayloadType::IDR,
            Self::Cert(_) => PayloadType::CERT,
            Self::CertReq(_) => PayloadType::CERTREQ,
            Self::Auth(_) => PayloadType::AUTH,
            Self::Nonce(_) => PayloadType::NONCE,
            Self::Notify(_) => PayloadType::NOTIFY,
            Self::Delete(_) => PayloadType::DELETE,
            Self::VendorId(_) => PayloadType::VENDOR_ID,
            Self::TsI(_) => PayloadType::TSI,
            Self::TsR(_) => PayloadType::TSR,
            Self::Sk(_) => PayloadType::SK,
            Self::Cp(_) => PayloadType::CP,
            Self::Eap(_) => PayloadType::EAP,
            Self::Skf(_) => PayloadType::SKF,
            Self::Unknown { ty, .. } => *ty,
        }
    }

    /// The fixed part before the variable data of the bodies that have one, and that data.
    const fn parts(&self) -> (usize, &'a [u8]) {
        match *self {
            Self::Sa(sa) => (0, sa.bytes),
            Self::Nonce(v) | Self::VendorId(v) | Self::Sk(v) => (0, v),
            Self::Unknown { value, .. } => (0, value),
            Self::Ke(ke) => (4, ke.data),
            Self::IdI(id) | Self::IdR(id) => (4, id.data),
            Self::Cert(c) | Self::CertReq(c) => (1, c.data),
            Self::Auth(a) => (4, a.data),
            Self::Notify(n) => (4 + n.spi.len(), n.data),
            Self::Delete(d) => (4, d.spis),
            Self::TsI(ts) | Self::TsR(ts) => (4, ts.selectors),
            Self::Cp(cp) => (4, cp.attributes),
            Self::Eap(eap) => (eap.header_len(), eap.data),
            Self::Skf(skf) => (4, skf.encrypted),
        }
    }

    /// Bytes [`Body::emit`] writes.
    #[must_use]
    pub const fn buffer_len(&self) -> usize {
        let (fixed, data) = self.parts();
        fixed + data.len()
    }

    /// Writes the body into `buf` (exactly [`Body::buffer_len`] bytes are used).
    ///
    /// # Panics
    /// If `buf` is shorter than [`Body::buffer_len`].
    pub fn emit(&self, buf: &mut [u8]) {
        let (fixed, data) = self.parts();
        match *self {
            Self::Ke(ke) => {
                buf[0..2].copy_from_slice(&ke.group.0.to_be_bytes());
                buf[2..4].copy_from_slice(&ke.reserved.to_be_bytes());
            }
            Self::IdI(id) | Self::IdR(id) => {
                buf[0] = id.ty.0;
                buf[1..4].copy_from_slice(&id.reserved);
            }
            Self::Cert(c) | Self::CertReq(c) => buf[0] = c.encoding.0,
            Self::Auth(a) => {
                buf[0] = a.method.0;
                buf[1..4].copy_from_slice(&a.reserved);
            }
            Self::Notify(n) => {
                buf[0] = n.protocol.0;
                buf[1] = u8::try_from(n.spi.len()).unwrap_or(u8::MAX);
                buf[2..4].copy_from_slice(&n.ty.0.to_be_bytes());
                buf[4..fixed].copy_from_slice(n.spi);
            }
            Self::Delete(d) => {
                buf[0] = d.protocol.0;
                buf[1] = d.spi_size;
                buf[2..4].copy_from_slice(&d.count.to_be_bytes());
            }
            Self::TsI(ts) | Self::TsR(ts) => {
                buf[0] = ts.count;
                buf[1..4].copy_from_slice(&ts.reserved);
            }
            Self::Cp(cp) => {
                buf[0] = cp.ty.0;
                buf[1..4].copy_from_slice(&cp.reserved);
            }
            Self::Eap(eap) => {
                buf[0] = eap.code.0;
                buf[1] = eap.identifier;
                buf[2..4].copy_from_slice(&eap.length.to_be_bytes());
                if let Some(ty) = eap.ty {
                    buf[4] = ty;
                }
            }
            Self::Skf(skf) => {
                buf[0..2].copy_from_slice(&skf.number.to_be_bytes());
                buf[2..4].copy_from_slice(&skf.total.to_be_bytes());
            }
            Self::Sa(_)
            | Self::Nonce(_)
            | Self::VendorId(_)
            | Self::Sk(_)
            | Self::Unknown { .. } => {}
        }
        buf[fixed..fixed + data.len()].copy_from_slice(data);
    }
}

impl fmt::Display for Body<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Sa(sa) => write!(f, "SA({sa})"),
            Self::Ke(ke) => write!(f, "KE({}, {} bytes)", ke.group, ke.data.len()),
            Self::IdI(id) => write!(f, "IDi({id})"),
            Self::IdR(id) => write!(f, "IDr({id})"),
            Self::Cert(c) => write!(f, "CERT({}, {} bytes)", c.encoding, c.data.len()),
            Self::CertReq(c) => write!(f, "CERTREQ({}, {} bytes)", c.encoding, c.data.len()),
            Self::Auth(a) => write!(f, "AUTH({}, {} bytes)", a.method, a.data.len()),
            Self::Nonce(n) => write!(f, "Nonce({} bytes)", n.len()),
            Self::Notify(n) => write!(f, "N({n})"),
            Self::Delete(d) => write!(f, "D({d})"),
            Self::VendorId(v) => write!(f, "V({})", Hex(v)),
            Self::TsI(ts) => write!(f, "TSi({ts})"),
            Self::TsR(ts) => write!(f, "TSr({ts})"),
            Self::Sk(v) => write!(f, "SK({} bytes)", v.len()),
            Self::Cp(cp) => write!(f, "CP({cp})"),
            Self::Eap(eap) => write!(f, "EAP({} id={})", eap.code, eap.identifier),
            Self::Skf(skf) => write!(
                f,
                "SKF({}/{}, {} bytes)",
                skf.number,
                skf.total,
                skf.encrypted.len()
            ),
            Self::Unknown { ty, value } => write!(f, "{ty}({} bytes)", value.len()),
        }
    }
}

/// Key Exchange payload body (§3.4).
#[derive(Clone, Copy, Debug, Eq, Hash, PartialEq)]
pub struct Ke<'a> {
    /// The Diffie-Hellman group (key exchange method).
    pub group: DhGroup,
    /// The reserved 16 bits.
    pub reserved: u16,
    /// The public value.
    pub data: &'a [u8],
}

impl<'a> Ke<'a> {
    fn parse(body: &'a [u8], base: usize) -> Result<Self> {
        let mut r = Reader::with_base(Layer::Isakmp, body, base);
        Ok(Self {
            group: DhGroup(r.u16("dh group")?),
            reserved: r.u16("reserved")?,
            data: r.rest(),
        })
    }
}

/// Identification payload body (§3.5).
#[derive(Clone, Copy, Debug, Eq, Hash, PartialEq)]
pub struct Id<'a> {
    /// The ID type.
    pub ty: IdType,
    /// The reserved 24 bits.
    pub reserved: [u8; 3],
    /// The identification data.
    pub data: &'a [u8],
}

impl<'a> Id<'a> {
    fn parse(body: &'a [u8], base: usize) -> Result<Self> {
        let mut r = Reader::with_base(Layer::Isakmp, body, base);
        Ok(Self {
            ty: IdType(r.u8("id type")?),
            reserved: r.array("reserved")?,
            data: r.rest(),
        })
    }
}

impl fmt::Display for Id<'_> {
    /// `ID_FQDN west`, `ID_IPV4_ADDR 192.0.2.1`, or the type and the data in hex.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let name = self.ty.name().unwrap_or("ID");
        match (self.ty, self.data.len()) {
            (IdType::IPV4_ADDR, 4) => {
                let octets: [u8; 4] = self.data.try_into().map_err(|_| fmt::Error)?;
                write!(f, "{name} {}", Ipv4Addr::from(octets))
            }
            (IdType::IPV6_ADDR, 16) => {
                let octets: [u8; 16] = self.data.try_into().map_err(|_| fmt::Error)?;
                write!(f, "{name} {}", Ipv6Addr::from(octets))
            }
            (IdType::FQDN | IdType::RFC822_ADDR, _)
                if self.data.iter().all(|b| b.is_ascii_graphic()) =>
            {
                // Checked printable ASCII above.
                let text = core::str::from_utf8(self.data).map_err(|_| fmt::Error)?;
                write!(f, "{name} {text}")
            }
            _ => write!(f, "{name} {}", Hex(self.data)),
        }
    }
}

/// Certificate or Certificate Request payload body (§3.6, §3.7).
#[derive(Clone, Copy, Debug, Eq, Hash, PartialEq)]
pub struct Cert<'a> {
    /// The encoding.
    pub encoding: CertEncoding,
    /// The certificate data, or the certification authority hashes.
    pub data: &'a [u8],
}

impl<'a> Cert<'a> {
    fn parse(body: &'a [u8], base: usize) -> Result<Self> {
        let mut r = Reader::with_base(Layer::Isakmp, body, base);
        Ok(Self {
            encoding: CertEncoding(r.u8("cert encoding")?),
            data: r.rest(),
        })
    }
}

/// Authentication payload body (§3.8).
#[derive(Clone, Copy, Debug, Eq, Hash, PartialEq)]
pub struct Auth<'a> {
    /// The authentication method.
    pub method: AuthMethod,
    /// The reserved 24 bits.
    pub reserved: [u8; 3],
    /// The authentication data.
    pub data: &'a [u8],
}

impl<'a> Auth<'a> {
    fn parse(body: &'a [u8], base: usize) -> Result<Self> {
        let mut r = Reader::with_base(Layer::Isakmp, body, base);
        Ok(Self {
            method: AuthMethod(r.u8("auth method")?),
            reserved: r.array("reserved")?,
            data: r.rest(),
        })
    }
}

/// Notify payload body (§3.10).
#[derive(Clone, Copy, Debug, Eq, Hash, PartialEq)]
pub struct Notify<'a> {
    /// The protocol of the SA concerned (0 when none).
    pub protocol: ProtocolId,
    /// The SPI of the SA concerned (usually empty).
    pub spi: &'a [u8],
    /// The notify message type.
    pub ty: NotifyType,
    /// The notification data.
    pub data: &'a [u8],
}

impl<'a> Notify<'a> {
    fn parse(body: &'a [u8], base: usize) -> Result<Self> {
        let mut r = Reader::with_base(Layer::Isakmp, body, base);
        let protocol = ProtocolId(r.u8("protocol id")?);
        let spi_size = r.u8("spi size")?;
        let ty = NotifyType(r.u16("notify message type")?);
        let spi = r.take(usize::from(spi_size), "spi")?;
        Ok(Self {
            protocol,
            spi,
            ty,
            data: r.rest(),
        })
    }
}

impl fmt::Display for Notify<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.ty.name() {
            Some(name) => f.write_str(name)?,
            None => write!(f, "{}", self.ty.0)?,
        }
        if !self.spi.is_empty() {
            write!(f, " spi={}", Hex(self.spi))?;
        }
        Ok(())
    }
}

/// Delete payload body (§3.11).
#[derive(Clone, Copy, Debug, Eq, Hash, PartialEq)]
pub struct Delete<'a> {
    /// The protocol of the SAs deleted (IKE deletes the IKE SA itself and carries no SPI).
    pub protocol: ProtocolId,
    /// Bytes per SPI (0 for IKE, 4 for ESP and AH).
    pub spi_size: u8,
    /// Number of SPIs.
    pub count: u16,
    /// The SPIs, `count × spi_size` bytes.
    pub spis: &'a [u8],
}

impl<'a> Delete<'a> {
    fn parse(body: &'a [u8], base: usize) -> Result<Self> {
        let mut r = Reader::with_base(Layer::Isakmp, body, base);
        let protocol = ProtocolId(r.u8("protocol id")?);
        let spi_size = r.u8("spi size")?;
        let count = r.u16("number of spis")?;
        let spis = r.take(usize::from(spi_size) * usize::from(count), "spis")?;
        r.finish()?;
        Ok(Self {
            protocol,
            spi_size,
            count,
            spis,
        })
    }

    /// The SPIs one by one.
    pub fn iter(&self) -> impl Iterator<Item = &'a [u8]> + use<'a> {
        self.spis.chunks_exact(usize::from(self.spi_size.max(1)))
    }
}

impl fmt::Display for Delete<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.protocol.name().unwrap_or("protocol"))?;
        if self.spi_size > 0 {
            for spi in self.iter() {
                write!(f, " {}", Hex(spi))?;
            }
        }
        Ok(())
    }
}

/// Traffic Selector payload body (§3.13).
#[derive(Clone, Copy, Debug, Eq, Hash, PartialEq)]
pub struct Ts<'a> {
    /// Number of traffic selectors.
    pub count: u8,
    /// The reserved 24 bits.
    pub reserved: [u8; 3],
    /// The selectors.
    pub selectors: &'a [u8],
    /// Offset of the selectors in the outermost buffer.
    pub offset: usize,
}

impl<'a> Ts<'a> {
    fn parse(body: &'a [u8], base: usize) -> Result<Self> {
        let mut r = Reader::with_base(Layer::Isakmp, body, base);
        let count = r.u8("number of tss")?;
        let reserved = r.array("reserved")?;
        let offset = r.offset();
        let ts = Self {
            count,
            reserved,
            selectors: r.rest(),
            offset,
        };
        for selector in ts.iter() {
            selector?;
        }
        Ok(ts)
    }

    /// The traffic selectors.
    #[must_use]
    pub const fn iter(&self) -> Selectors<'a> {
        Iter::new(self.selectors, self.offset)
    }
}

impl fmt::Display for Ts<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut sep = "";
        for selector in self.iter().map_while(Result::ok) {
            write!(f, "{sep}{selector}")?;
            sep = ", ";
        }
        Ok(())
    }
}

/// The selectors of a TS payload.
pub type Selectors<'a> = Iter<'a, Selector<'a>>;

/// One traffic selector (§3.13.1).
#[derive(Clone, Copy, Debug, Eq, Hash, PartialEq)]
pub struct Selector<'a> {
    /// The TS type.
    pub ty: TsType,
    /// IP protocol (0 for any).
    pub ip_protocol: u8,
    /// First port.
    pub start_port: u16,
    /// Last port.
    pub end_port: u16,
    /// First address (4 or 16 bytes; other types: everything after the ports).
    pub start: &'a [u8],
    /// Last address (empty for types other than IPv4/IPv6 ranges).
    pub end: &'a [u8],
}

impl<'a> Entry<'a> for Selector<'a> {
    type Ctx = ();
    const LAYER: Layer = Layer::Isakmp;

    fn parse_entry(bytes: &'a [u8], start_offset: usize, (): ()) -> Result<(Self, usize)> {
        let reader = &mut Reader::with_base(Layer::Isakmp, bytes, start_offset);
        let ty = TsType(reader.u8("ts type")?);
        let ip_protocol = reader.u8("ip protocol id")?;
        let len = usize::from(reader.u16("selector length")?);
        if len < 8 {
            return Err(Error::BadLength {
                layer: Layer::Isakmp,
                field: "selector length",
                offset: start_offset + 2,
                claimed: len,
                available: 8,
            });
        }
        let mut body = reader.sub(len - 4, "selector length")?;
        let start_port = body.u16("start port")?;
        let end_port = body.u16("end port")?;
        let (start, end) = match ty {
            TsType::IPV4_ADDR_RANGE | TsType::IPV6_ADDR_RANGE => {
                let size = if ty == TsType::IPV4_ADDR_RANGE { 4 } else { 16 };
                let start = body.take(size, "starting address")?;
                let end = body.take(size, "ending address")?;
                body.finish()?;
                (start, end)
            }
            _ => (body.rest(), &[][..]),
        };
        let selector = Self {
            ty,
            ip_protocol,
            start_port,
            end_port,
            start,
            end,
        };
        Ok((selector, len))
    }

    fn entry_len(&self, (): ()) -> usize {
        8 + self.start.len() + self.end.len()
    }

    fn emit_entry(&self, buf: &mut [u8], (): ()) {
        let len = self.entry_len(());
        buf[0] = self.ty.0;
        buf[1] = self.ip_protocol;
        buf[2..4].copy_from_slice(&u16::try_from(len).unwrap_or(u16::MAX).to_be_bytes());
        buf[4..6].copy_from_slice(&self.start_port.to_be_bytes());
        buf[6..8].copy_from_slice(&self.end_port.to_be_bytes());
        buf[8..8 + self.start.len()].copy_from_slice(self.start);
        buf[8 + self.start.len()..len].copy_from_slice(self.end);
    }
}

impl fmt::Display for Selector<'_> {
    /// `10.0.0.0-10.0.0.255 proto 47 port 0-65535`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let addr = |bytes: &[u8], f: &mut fmt::Formatter<'_>| -> fmt::Result {
            match bytes.len() {
                4 => {
                    let octets: [u8; 4] = bytes.try_into().map_err(|_| fmt::Error)?;
                    write!(f, "{}", Ipv4Addr::from(octets))
                }
                16 => {
                    let octets: [u8; 16] = bytes.try_into().map_err(|_| fmt::Error)?;
                    write!(f, "{}", Ipv6Addr::from(octets))
                }
                _ => write!(f, "{}", Hex(bytes)),
            }
        };
        if self.end.is_empty() {
            write!(f, "{} ", self.ty)?;
            addr(self.start, f)?;
        } else {
            addr(self.start, f)?;
            f.write_str("-")?;
            addr(self.end, f)?;
        }
        write!(
            f,
            " proto {} port {}-{}",
            self.ip_protocol, self.start_port, self.end_port
        )
    }
}

/// Configuration payload body (§3.15).
#[derive(Clone, Copy, Debug, Eq, Hash, PartialEq)]
pub struct Cp<'a> {
    /// The CFG type.
    pub ty: CfgType,
    /// The reserved 24 bits.
    pub reserved: [u8; 3],
    /// The attributes.
    pub attributes: &'a [u8],
    /// Offset of the attributes in the outermost buffer.
    pub offset: usize,
}

impl<'a> Cp<'a> {
    fn parse(body: &'a [u8], base: usize) -> Result<Self> {
        let mut r = Reader::with_base(Layer::Isakmp, body, base);
        let ty = CfgType(r.u8("cfg type")?);
        let reserved = r.array("reserved")?;
        let offset = r.offset();
        let cp = Self {
            ty,
            reserved,
            attributes: r.rest(),
            offset,
        };
        for attribute in cp.iter() {
            attribute?;
        }
        Ok(cp)
    }

    /// The configuration attributes.
    #[must_use]
    pub const fn iter(&self) -> Iter<'a, CfgAttr<'a>> {
        Iter::new(self.attributes, self.offset)
    }
}

/// One configuration attribute (RFC 7296 §3.15.1).
#[derive(Clone, Copy, Debug, Eq, Hash, PartialEq)]
pub struct CfgAttr<'a> {
    /// The attribute type (the reserved top bit cleared).
    pub ty: CfgAttribute,
    /// The value.
    pub value: &'a [u8],
}

impl<'a> Entry<'a> for CfgAttr<'a> {
    type Ctx = ();
    const LAYER: Layer = Layer::Isakmp;

    fn parse_entry(bytes: &'a [u8], offset: usize, (): ()) -> Result<(Self, usize)> {
        let mut reader = Reader::with_base(Layer::Isakmp, bytes, offset);
        let ty = CfgAttribute(reader.u16("attribute type")? & 0x7fff);
        let len = reader.u16("attribute length")?;
        let value = reader.take(usize::from(len), "attribute value")?;
        Ok((Self { ty, value }, 4 + value.len()))
    }

    fn entry_len(&self, (): ()) -> usize {
        4 + self.value.len()
    }

    fn emit_entry(&self, buf: &mut [u8], (): ()) {
        buf[0..2].copy_from_slice(&self.ty.0.to_be_bytes());
        let len = u16::try_from(self.value.len()).unwrap_or(u16::MAX);
        buf[2..4].copy_from_slice(&len.to_be_bytes());
        buf[4..4 + self.value.len()].copy_from_slice(self.value);
    }
}

impl fmt::Display for Cp<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.ty.name().unwrap_or("CFG"))?;
        for attribute in self.iter().map_while(Result::ok) {
            write!(f, " {}", attribute.ty.name().unwrap_or("attribute"))?;
        }
        Ok(())
    }
}

/// EAP payload body (§3.16): one EAP message (RFC 3748 §4).
#[derive(Clone, Copy, Debug, Eq, Hash, PartialEq)]
pub struct Eap<'a> {
    /// EAP code.
    pub code: EapCode,
    /// Identifier.
    pub identifier: u8,
    /// The EAP length field (the whole EAP message).
    pub length: u16,
    /// The EAP type (Request and Response only).
    pub ty: Option<u8>,
    /// The type data.
    pub data: &'a [u8],
}

impl<'a> Eap<'a> {
    fn parse(body: &'a [u8], base: usize) -> Result<Self> {
        let mut r = Reader::with_base(Layer::Isakmp, body, base);
        let code = EapCode(r.u8("eap code")?);
        let identifier = r.u8("eap identifier")?;
        let length = r.u16("eap length")?;
        if usize::from(length) != body.len() {
            return Err(Error::BadLength {
                layer: Layer::Isakmp,
                field: "eap length",
                offset: base + 2,
                claimed: usize::from(length),
                available: body.len(),
            });
        }
        let ty = if matches!(code, EapCode::REQUEST | EapCode::RESPONSE) {
            Some(r.u8("eap type")?)
        } else {
            None
        };
        Ok(Self {
            code,
            identifier,
            length,
            ty,
            data: r.rest(),
        })
    }

    const fn header_len(&self) -> usize {
        if self.ty.is_some() { 5 } else { 4 }
    }
}

/// Encrypted and Authenticated Fragment body (RFC 7383 §2.5).
#[derive(Clone, Copy, Debug, Eq, Hash, PartialEq)]
pub struct Skf<'a> {
    /// Fragment number, from 1.
    pub number: u16,
    /// Total number of fragments.
    pub total: u16,
    /// IV, ciphertext and ICV.
    pub encrypted: &'a [u8],
}

impl<'a> Skf<'a> {
    fn parse(body: &'a [u8], base: usize) -> Result<Self> {
        let mut r = Reader::with_base(Layer::Isakmp, body, base);
        let number = r.u16("fragment number")?;
        let total = r.u16("total fragments")?;
        if number == 0 || number > total {
            return Err(Error::InvalidField {
                layer: Layer::Isakmp,
                field: "fragment number",
                offset: base,
                value: u32::from(number),
            });
        }
        Ok(Self {
            number,
            total,
            encrypted: r.rest(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A chain: N(NAT_DETECTION_SOURCE_IP) with 20 bytes, then SK with 8 bytes whose inner first
    /// payload is IDi.
    #[rustfmt::skip]
    const CHAIN: [u8; 40] = [
        0x2e, 0x00, 0x00, 0x1c, 0x00, 0x00, 0x40, 0x04,
        1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20,
        0x23, 0x80, 0x00, 0x0c, 0xaa, 0xbb, 0xcc, 0xdd, 0xee, 0xff, 0x00, 0x11,
    ];

    #[test]
    fn chain_stops_at_sk() {
        let payloads: Vec<_> = Payloads::new(PayloadType::NOTIFY, &CHAIN, 28)
            .collect::<Result<_>>()
            .unwrap();
        assert_eq!(payloads.len(), 2);
        assert_eq!(payloads[1].ty, PayloadType::SK);
        assert_eq!(payloads[1].next, PayloadType::IDI);
        assert!(payloads[1].critical() && !payloads[0].critical());
        let Body::Notify(n) = payloads[0].decode().unwrap() else {
            panic!()
        };
        assert_eq!(n.ty, NotifyType::NAT_DETECTION_SOURCE_IP);
        assert_eq!(n.data.len(), 20);
        let mut longer = CHAIN.to_vec();
        longer.push(0);
        let err = Payloads::new(PayloadType::NOTIFY, &longer, 28)
            .find_map(Result::err)
            .unwrap();
        assert_eq!(err.to_string(), "isakmp: 1 trailing bytes at offset 68");
    }

    #[test]
    fn every_body_round_trips() {
        let bodies: [(PayloadType, &[u8]); 13] = [
            (PayloadType::KE, &[0, 14, 0, 0, 1, 2, 3]),
            (PayloadType::IDI, &[2, 0, 0, 0, b'w', b'e', b's', b't']),
            (PayloadType::CERTREQ, &[4, 9, 9]),
            (PayloadType::AUTH, &[2, 0, 0, 0, 7, 7]),
            (PayloadType::NOTIFY, &[3, 4, 0x40, 0x09, 1, 2, 3, 4]),
            (PayloadType::DELETE, &[3, 4, 0, 2, 1, 2, 3, 4, 5, 6, 7, 8]),
            (
                PayloadType::TSI,
                &[
                    1, 0, 0, 0, 7, 47, 0, 16, 0, 0, 0xff, 0xff, 10, 0, 0, 1, 10, 0, 0, 1,
                ],
            ),
            (PayloadType::CP, &[1, 0, 0, 0, 0, 1, 0, 0, 0, 3, 0, 0]),
            (PayloadType::EAP, &[1, 7, 0, 6, 1, 0x41]),
            (PayloadType::EAP, &[3, 7, 0, 4]),
            (PayloadType::SKF, &[0, 1, 0, 2, 9, 9]),
            (PayloadType::NONCE, &[5; 16]),
            (PayloadType(99), &[1]),
        ];
        for (ty, bytes) in bodies {
            let body = Body::parse(ty, bytes, 4).unwrap();
            assert_eq!(body.ty(), ty);
            assert_eq!(body.buffer_len(), bytes.len(), "{body}");
            let mut out = vec![0; bytes.len()];
            body.emit(&mut out);
            assert_eq!(out, bytes, "{body}");
            let mut framed = vec![0; bytes.len() + 4];
            assert_eq!(
                emit_payload(PayloadType::NONE, false, &body, &mut framed),
                Some(framed.len())
            );
            assert_eq!(emit_payload(PayloadType::NONE, false, &body, &mut []), None);
            let parsed = Payloads::new(ty, &framed, 0).next().unwrap().unwrap();
            assert_eq!(parsed.decode().unwrap(), body);
            // Every prefix of a body with a fixed part fails with a field name, or parses.
            for len in 0..bytes.len() {
                if let Err(err) = Body::parse(ty, &bytes[..len], 100) {
                    assert!(err.offset() >= 100, "{ty} {len}: {err}");
                }
            }
        }
    }

    #[test]
    fn selectors_and_attributes_emit_back() {
        let ts = [
            7, 47, 0, 16, 0, 0, 0xff, 0xff, 10, 0, 0, 1, 10, 0, 0, 1, 8, 0, 0, 40, 0, 1, 0, 2,
        ];
        let mut ts = ts.to_vec();
        ts.extend_from_slice(&[0; 32]);
        let mut out = vec![0; ts.len()];
        let mut at = 0;
        for selector in Iter::<Selector<'_>>::new(&ts, 0) {
            let selector = selector.unwrap();
            let len = selector.entry_len(());
            selector.emit_entry(&mut out[at..at + len], ());
            at += len;
        }
        assert_eq!(out, ts);
        let cp = [0, 1, 0, 4, 10, 0, 0, 2, 0, 3, 0, 0];
        let mut out = [0; 12];
        let mut at = 0;
        for attribute in Iter::<CfgAttr<'_>>::new(&cp, 0) {
            let attribute = attribute.unwrap();
            let len = attribute.entry_len(());
            attribute.emit_entry(&mut out[at..at + len], ());
            at += len;
        }
        assert_eq!(out, cp);
    }

    #[test]
    fn displays() {
        let ts = Body::parse(
            PayloadType::TSR,
            &[
                1, 0, 0, 0, 7, 0, 0, 16, 0, 0, 0xff, 0xff, 10, 0, 0, 0, 10, 0, 0, 255,
            ],
            0,
        )
        .unwrap();
        assert_eq!(
            ts.to_string(),
            "TSr(10.0.0.0-10.0.0.255 proto 0 port 0-65535)"
        );
        let id = Body::parse(PayloadType::IDI, &[2, 0, 0, 0, b'w', b'e', b's', b't'], 0).unwrap();
        assert_eq!(id.to_string(), "IDi(ID_FQDN west)");
        let n = Body::parse(PayloadType::NOTIFY, &[0, 0, 0, 14], 0).unwrap();
        assert_eq!(n.to_string(), "N(NO_PROPOSAL_CHOSEN)");
        let d = Body::parse(PayloadType::DELETE, &[3, 4, 0, 1, 0xc0, 0, 0, 1], 0).unwrap();
        assert_eq!(d.to_string(), "D(ESP c0000001)");
    }

    #[test]
    fn errors_name_field_and_offset() {
        assert_eq!(
            Body::parse(PayloadType::DELETE, &[3, 4, 0, 2, 1, 2, 3, 4], 40)
                .unwrap_err()
                .to_string(),
            "isakmp: truncated reading `spis` at offset 44: need 8 bytes, have 4"
        );
        assert_eq!(
            Body::parse(PayloadType::SKF, &[0, 3, 0, 2], 40)
                .unwrap_err()
                .to_string(),
            "isakmp: field `fragment number` at offset 40 has invalid value 0x3"
        );
        assert_eq!(
            Body::parse(PayloadType::EAP, &[1, 1, 0, 9, 1], 40)
                .unwrap_err()
                .to_string(),
            "isakmp: length field `eap length` at offset 42 says 9 bytes, but 5 are there"
        );
    }

    #[test]
    fn arbitrary_chains_never_panic() {
        bolero::check!().for_each(|data: &[u8]| {
            let Some((&first, rest)) = data.split_first() else {
                return;
            };
            for payload in Payloads::new(PayloadType(first), rest, 28).flatten() {
                if let Ok(body) = payload.decode() {
                    let _ = body.to_string();
                    let mut out = vec![0; body.buffer_len()];
                    body.emit(&mut out);
                    assert_eq!(out, payload.body);
                }
            }
        });
    }
}
