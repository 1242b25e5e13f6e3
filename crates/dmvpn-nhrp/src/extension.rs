//! Extensions (RFC 2332 §5.3) and the Cisco DMVPN ones.
//!
//! ```text
//!  0                   1                   2                   3
//!  0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
//! +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//! |C|u|        Type               |        Length                 |
//! +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//! |                         Value...                              |
//! +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//! ```
//!
//! The list runs from `ar$extoff` to `ar$pktsz` and ends with End of Extensions (type 0, which
//! Cisco and FRR send with the compulsory bit, 0x8000). What each type holds:
//!
//! | type | extension | value |
//! |---|---|---|
//! | 0 | End of Extensions (§5.3.0) | nothing |
//! | 3 | Responder Address (§5.3.1) | a CIE list (one CIE, empty in requests) |
//! | 4, 5 | Forward/Reverse Transit NHS Record (§5.3.2, §5.3.3) | a CIE list |
//! | 7 | Authentication (§5.3.4) | 32-bit type (Cisco: 1 = cleartext), then data |
//! | 8 | Vendor-Private (§5.3.5) | 24-bit OUI, then data |
//! | 9 | Cisco NAT Address | a CIE list; with length 8 instead, RFC 2735 Device Capabilities |
//! | other | | kept as bytes |

use core::fmt;

use dmvpn_wire::field::check_length;
use dmvpn_wire::list::{self, Entry, List};
use dmvpn_wire::{Error, Layer, Result};

use crate::cie::CieList;
use crate::consts::{AuthType, ExtensionType};

/// Byte positions in an extension.
pub mod field {
    use dmvpn_wire::field::{Field, Rest};

    /// The compulsory bit, the unused bit and the 14-bit type.
    pub const TYPE: Field = 0..2;
    /// Length of the value.
    pub const LENGTH: Field = 2..4;
    /// The value (of `Length` bytes).
    pub const VALUE: Rest = 4..;
    /// Length of the extension header.
    pub const HEADER_LEN: usize = 4;
}

/// The compulsory bit of the type word.
pub const COMPULSORY: u16 = 0x8000;

/// Cisco's Organizationally Unique Identifier, used in Vendor-Private extensions.
pub const CISCO_OUI: u32 = 0x00_000c;

/// Length of the Cisco cleartext password (`NHRP_CISCO_PASS_LEN` in FRR).
pub const CISCO_PASSWORD_MAX: usize = 8;

dmvpn_wire::view! {
    /// A read/write view of one extension at the start of a buffer (which may hold more after it).
    #[derive(Clone, Copy, Debug, Eq, PartialEq)]
    pub struct Extension, error = Error;
}

impl<T: AsRef<[u8]>> Extension<T> {
    /// Checks that the header and the `Length` bytes of value are in the buffer (offsets are
    /// relative to the extension).
    pub fn check_len(&self) -> Result<()> {
        let data = self.buffer.as_ref();
        dmvpn_wire::check_fields!(
            Layer::Nhrp,
            data.len(),
            [("extension header", 0..field::HEADER_LEN)]
        );
        let claimed = usize::from(self.length());
        let available = data.len() - field::HEADER_LEN;
        check_length(
            Layer::Nhrp,
            "extension length",
            field::LENGTH.start,
            claimed,
            0..=available,
        )
    }

    fn type_word(&self) -> u16 {
        let data = self.buffer.as_ref();
        u16::from_be_bytes([data[0], data[1]])
    }

    /// The compulsory bit: a receiver that does not know the type must reject the packet.
    pub fn compulsory(&self) -> bool {
        self.type_word() & COMPULSORY != 0
    }

    /// The type, without the compulsory bit (the unused bit 0x4000 stays in it).
    pub fn ext_type(&self) -> ExtensionType {
        ExtensionType(self.type_word() & !COMPULSORY)
    }

    /// `Length` of the value.
    pub fn length(&self) -> u16 {
        let data = self.buffer.as_ref();
        u16::from_be_bytes([data[2], data[3]])
    }

    /// The length of the whole extension, header included.
    pub fn total_len(&self) -> usize {
        field::HEADER_LEN + usize::from(self.length())
    }
}

impl<'a, T: AsRef<[u8]> + ?Sized> Extension<&'a T> {
    /// The value.
    pub fn value(&self) -> &'a [u8] {
        &self.buffer.as_ref()[field::HEADER_LEN..self.total_len()]
    }
}

impl<T: AsRef<[u8]> + AsMut<[u8]>> Extension<T> {
    /// Sets the compulsory bit and the type.
    pub fn set_type(&mut self, compulsory: bool, ty: ExtensionType) {
        let word = (ty.0 & !COMPULSORY) | if compulsory { COMPULSORY } else { 0 };
        self.buffer.as_mut()[field::TYPE].copy_from_slice(&word.to_be_bytes());
    }

    /// Sets `Length`.
    pub fn set_length(&mut self, value: u16) {
        self.buffer.as_mut()[field::LENGTH].copy_from_slice(&value.to_be_bytes());
    }

    /// The value, for writing (its length comes from `Length`).
    pub fn value_mut(&mut self) -> &mut [u8] {
        let end = self.total_len();
        &mut self.buffer.as_mut()[field::HEADER_LEN..end]
    }
}

/// The Authentication extension (type 7).
///
/// Cisco IOS and FRR write a 32-bit type, 1 for a cleartext password, then the password
/// (`ip nhrp authentication`, at most 8 bytes). RFC 2332 §5.3.4 reads the same first word as a
/// 16-bit reserved field and a 16-bit SPI, followed by the sender's protocol address and then the
/// authentication data; as the RFC layout carries no address length, the two cannot be told
/// apart from the bytes alone. `data` is therefore everything after the first word; use
/// [`Authentication::password`] for the Cisco reading and [`Authentication::rfc_split`] for the RFC
/// one. (Wireshark, with its default `nhrp.auth_ext_has_addr`, shows the RFC reading, so it prints
/// the first 4 bytes of a Cisco password as a "source address".)
#[derive(Clone, Copy, Debug, Eq, Hash, PartialEq)]
pub struct Authentication<'a> {
    /// The authentication type (Cisco) or reserved field and SPI (RFC).
    pub kind: AuthType,
    /// What follows.
    pub data: &'a [u8],
}

impl<'a> Authentication<'a> {
    /// A Cisco cleartext password.
    #[must_use]
    pub const fn cleartext(password: &'a [u8]) -> Self {
        Self {
            kind: AuthType::CLEARTEXT,
            data: password,
        }
    }

    /// The password, if this is the Cisco cleartext type.
    #[must_use]
    pub fn password(&self) -> Option<&'a [u8]> {
        (self.kind == AuthType::CLEARTEXT).then_some(self.data)
    }

    /// The RFC 2332 SPI: the low 16 bits of the first word.
    #[must_use]
    pub const fn rfc_spi(&self) -> u16 {
        self.kind.0 as u16
    }

    /// The RFC reading of `data`: the source address of `src_addr_len` bytes (the length of the
    /// sender's protocol address) and the authentication data, if `data` is long enough.
    #[must_use]
    pub fn rfc_split(&self, src_addr_len: usize) -> Option<(&'a [u8], &'a [u8])> {
        (src_addr_len <= self.data.len()).then(|| self.data.split_at(src_addr_len))
    }
}

/// The value of an extension, by type.
#[derive(Clone, Copy, Debug, Eq, PartialEq)]
pub enum Value<'a> {
    /// End of Extensions (type 0).
    End,
    /// Responder Address (type 3).
    ResponderAddress(CieList<'a>),
    /// Forward Transit NHS Record (type 4).
    ForwardTransitNhsRecord(CieList<'a>),
    /// Reverse Transit NHS Record (type 5).
    ReverseTransitNhsRecord(CieList<'a>),
    /// Authentication (type 7).
    Authentication(Authentication<'a>),
    /// Vendor-Private (type 8).
    VendorPrivate {
        /// The vendor's 24-bit OUI (e.g. [`CISCO_OUI`]); higher bits are not representable.
        vendor: u32,
        /// The vendor's data.
        data: &'a [u8],
    },
    /// Cisco NAT Address (type 9): the NHS echoes the NBMA address it saw the spoke at.
    CiscoNatAddress(CieList<'a>),
    /// RFC 2735 Device Capabilities, which shares type 9; recognised by its length of 8.
    DeviceCapabilities {
        /// Source capabilities (bit 0: VPN-aware).
        source: u32,
        /// Destination capabilities.
        destination: u32,
    },
    /// Any other type, kept as bytes. Build it only with a type not listed above (or 9), or the
    /// emitted extension parses back as that type.
    Unknown {
        /// The type (without the compulsory bit).
        ty: ExtensionType,
        /// The value.
        value: &'a [u8],
    },
}

impl<'a> Value<'a> {
    /// The extension type this value is sent as.
    #[must_use]
    pub const fn ty(&self) -> ExtensionType {
        match self {
            Self::End => ExtensionType::END,
            Self::ResponderAddress(_) => ExtensionType::RESPONDER_ADDRESS,
            Self::ForwardTransitNhsRecord(_) => ExtensionType::FORWARD_TRANSIT_NHS_RECORD,
            Self::ReverseTransitNhsRecord(_) => ExtensionType::REVERSE_TRANSIT_NHS_RECORD,
            Self::Authentication(_) => ExtensionType::AUTHENTICATION,
            Self::VendorPrivate { .. } => ExtensionType::VENDOR_PRIVATE,
            Self::CiscoNatAddress(_) | Self::DeviceCapabilities { .. } => {
                ExtensionType::CISCO_NAT_ADDRESS
            }
            Self::Unknown { ty, .. } => *ty,
        }
    }

    /// The CIEs, for the extensions that carry them.
    #[must_use]
    pub const fn cies(&self) -> Option<CieList<'a>> {
        match self {
            Self::ResponderAddress(cies)
            | Self::ForwardTransitNhsRecord(cies)
            | Self::ReverseTransitNhsRecord(cies)
            | Self::CiscoNatAddress(cies) => Some(*cies),
            _ => None,
        }
    }

    fn value_len(&self) -> usize {
        match self {
            Self::End => 0,
            Self::ResponderAddress(cies)
            | Self::ForwardTransitNhsRecord(cies)
            | Self::ReverseTransitNhsRecord(cies)
            | Self::CiscoNatAddress(cies) => cies.buffer_len(),
            Self::Authentication(auth) => 4 + auth.data.len(),
            Self::VendorPrivate { data, .. } => 3 + data.len(),
            Self::DeviceCapabilities { .. } => 8,
            Self::Unknown { value, .. } => value.len(),
        }
    }
}

/// A parsed extension.
#[derive(Clone, Copy, Debug, Eq, PartialEq)]
pub struct Repr<'a> {
    /// The compulsory bit.
    pub compulsory: bool,
    /// Type and value.
    pub value: Value<'a>,
}

impl<'a> Repr<'a> {
    /// End of Extensions with the compulsory bit, as Cisco and FRR send it.
    pub const END: Self = Self {
        compulsory: true,
        value: Value::End,
    };

    /// Parses one extension; `base` is its offset in the packet, for errors.
    pub fn parse<T: AsRef<[u8]> + ?Sized>(ext: &Extension<&'a T>, base: usize) -> Result<Self> {
        ext.check_len().map_err(|err| err.at_offset(base))?;
        let value = ext.value();
        let value_at = base + field::HEADER_LEN;
        let ty = ext.ext_type();
        let value = match ty {
            ExtensionType::END if !value.is_empty() => {
                return Err(Error::invalid_field(
                    Layer::Nhrp,
                    "end of extensions length",
                    base + field::LENGTH.start,
                    value.len() as u32,
                ));
            }
            ExtensionType::END => Value::End,
            ExtensionType::RESPONDER_ADDRESS => {
                Value::ResponderAddress(CieList::parse(value, value_at)?)
            }
            ExtensionType::FORWARD_TRANSIT_NHS_RECORD => {
                Value::ForwardTransitNhsRecord(CieList::parse(value, value_at)?)
            }
            ExtensionType::REVERSE_TRANSIT_NHS_RECORD => {
                Value::ReverseTransitNhsRecord(CieList::parse(value, value_at)?)
            }
            ExtensionType::AUTHENTICATION => {
                let Some((kind, data)) = value.split_first_chunk::<4>() else {
                    return Err(Error::truncated(
                        Layer::Nhrp,
                        "authentication type",
                        value_at,
                        4,
                        value_at + value.len(),
                    ));
                };
                Value::Authentication(Authentication {
                    kind: AuthType(u32::from_be_bytes(*kind)),
                    data,
                })
            }
            ExtensionType::VENDOR_PRIVATE => {
                let Some(([a, b, c], data)) = value.split_first_chunk::<3>() else {
                    return Err(Error::truncated(
                        Layer::Nhrp,
                        "vendor ID",
                        value_at,
                        3,
                        value_at + value.len(),
                    ));
                };
                Value::VendorPrivate {
                    vendor: u32::from_be_bytes([0, *a, *b, *c]),
                    data,
                }
            }
            ExtensionType::CISCO_NAT_ADDRESS => match value {
                [s0, s1, s2, s3, d0, d1, d2, d3] => Value::DeviceCapabilities {
                    source: u32::from_be_bytes([*s0, *s1, *s2, *s3]),
                    destination: u32::from_be_bytes([*d0, *d1, *d2, *d3]),
                },
                _ => Value::CiscoNatAddress(CieList::parse(value, value_at)?),
            },
            ty => Value::Unknown { ty, value },
        };
        Ok(Self {
            compulsory: ext.compulsory(),
            value,
        })
    }

    /// The length [`Repr::emit`] writes, header included.
    #[must_use]
    pub fn buffer_len(&self) -> usize {
        field::HEADER_LEN + self.value.value_len()
    }

    /// Writes the extension into a buffer of at least [`Repr::buffer_len`] bytes.
    pub fn emit<T: AsRef<[u8]> + AsMut<[u8]>>(&self, ext: &mut Extension<T>) {
        let len = self.value.value_len();
        debug_assert!(len <= usize::from(u16::MAX));
        ext.set_type(self.compulsory, self.value.ty());
        ext.set_length(len as u16);
        let out = ext.value_mut();
        match &self.value {
            Value::End => {}
            Value::ResponderAddress(cies)
            | Value::ForwardTransitNhsRecord(cies)
            | Value::ReverseTransitNhsRecord(cies)
            | Value::CiscoNatAddress(cies) => cies.emit(out),
            Value::Authentication(auth) => {
                out[..4].copy_from_slice(&auth.kind.0.to_be_bytes());
                out[4..].copy_from_slice(auth.data);
            }
            Value::VendorPrivate { vendor, data } => {
                out[..3].copy_from_slice(&vendor.to_be_bytes()[1..]);
                out[3..].copy_from_slice(data);
            }
            Value::DeviceCapabilities {
                source,
                destination,
            } => {
                out[..4].copy_from_slice(&source.to_be_bytes());
                out[4..].copy_from_slice(&destination.to_be_bytes());
            }
            Value::Unknown { value, .. } => out.copy_from_slice(value),
        }
    }
}

impl<'a> Entry<'a> for Repr<'a> {
    type Ctx = ();
    const LAYER: Layer = Layer::Nhrp;

    fn parse_entry(bytes: &'a [u8], offset: usize, (): ()) -> Result<(Self, usize)> {
        let ext = Extension::new_unchecked(bytes);
        Ok((Self::parse(&ext, offset)?, ext.total_len()))
    }

    fn ends_list(&self) -> bool {
        self.value == Value::End
    }

    fn entry_len(&self, (): ()) -> usize {
        self.buffer_len()
    }

    fn emit_entry(&self, buf: &mut [u8], (): ()) {
        self.emit(&mut Extension::new_unchecked(buf));
    }
}

/// Walks an extension list over borrowed bytes, yielding each extension or the first error.
///
/// Every extension is bounded by the bytes left. The walk stops after End of Extensions; bytes
/// after it are reported as [`Error::TrailingBytes`] (Wireshark's `nhrp.ext.extra`). A list that
/// runs out without an End is accepted, as Wireshark and FRR do. Offsets are counted from the
/// `base` of [`Iter::new`].
pub type Iter<'a> = list::Iter<'a, Repr<'a>>;

/// A list of extensions: either validated wire bytes (from [`ExtensionList::parse`], no
/// allocation) or a slice of reprs to emit (from [`ExtensionList::new`]; put
/// [`Repr::END`] last). Two lists are equal when they hold the same extensions.
#[derive(Clone, Copy, Default, Eq, PartialEq)]
pub struct ExtensionList<'a>(List<'a, Repr<'a>>);

impl<'a> ExtensionList<'a> {
    /// The empty list (no End either).
    pub const EMPTY: Self = Self(List::EMPTY);

    /// A list to emit, in order.
    #[must_use]
    pub const fn new(extensions: &'a [Repr<'a>]) -> Self {
        Self(List::new(extensions))
    }

    /// Validates every extension of `bytes` (which start at offset `base` of the packet, for
    /// errors), including that nothing follows End of Extensions.
    pub fn parse(bytes: &'a [u8], base: usize) -> Result<Self> {
        List::parse(bytes, base).map(Self)
    }

    /// The extensions, End included if present.
    pub fn iter(&self) -> impl Iterator<Item = Repr<'a>> + use<'a> {
        self.0.iter()
    }

    /// The first extension of type `ty`.
    #[must_use]
    pub fn find(&self, ty: ExtensionType) -> Option<Repr<'a>> {
        self.iter().find(|ext| ext.value.ty() == ty)
    }

    /// The Authentication extension, if there is one.
    #[must_use]
    pub fn authentication(&self) -> Option<Authentication<'a>> {
        self.iter().find_map(|ext| match ext.value {
            Value::Authentication(auth) => Some(auth),
            _ => None,
        })
    }

    /// The first compulsory extension this codec does not decode, if any: RFC 2332 §5.3 says a
    /// receiver must then drop the packet and answer with an Error Indication
    /// ([`crate::ErrorCode::UNRECOGNIZED_EXTENSION`]).
    #[must_use]
    pub fn unrecognized_compulsory(&self) -> Option<Repr<'a>> {
        self.iter()
            .find(|ext| ext.compulsory && matches!(ext.value, Value::Unknown { .. }))
    }

    /// How many extensions there are, End included.
    #[must_use]
    pub fn len(&self) -> usize {
        self.0.len()
    }

    /// Whether there are none.
    #[must_use]
    pub const fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// The length [`ExtensionList::emit`] writes.
    #[must_use]
    pub fn buffer_len(&self) -> usize {
        self.0.buffer_len()
    }

    /// Writes every extension into `buffer`, which holds at least [`ExtensionList::buffer_len`] bytes.
    pub fn emit(&self, buffer: &mut [u8]) {
        self.0.emit(buffer);
    }
}

impl fmt::Debug for ExtensionList<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&self.0, f)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cie;
    use crate::mandatory::NbmaAddress;

    dmvpn_wire::hex_consts! {
        // tcpdump nhrp-trace.pcap frame 1: the extension area (Forward and Reverse Transit NHS Record,
        // Authentication "secret", Cisco NAT Address, End).
        const EXTS: [u8; 30] = "80040000800500008007000a000000017365637265740009000080000000";

        // packetlife NHRP_registration.cap frame 3: Responder Address with one CIE (offset 52 of NHRP).
        const RESPONDER: [u8; 24] = "800300140000000005ea1c2004000400ac100f02c0a80001";
    }

    fn trace_reprs() -> [Repr<'static>; 5] {
        [
            Repr {
                compulsory: true,
                value: Value::ForwardTransitNhsRecord(CieList::EMPTY),
            },
            Repr {
                compulsory: true,
                value: Value::ReverseTransitNhsRecord(CieList::EMPTY),
            },
            Repr {
                compulsory: true,
                value: Value::Authentication(Authentication::cleartext(b"secret")),
            },
            Repr {
                compulsory: false,
                value: Value::CiscoNatAddress(CieList::EMPTY),
            },
            Repr::END,
        ]
    }

    #[test]
    fn deconstruct() {
        let ext = Extension::new_checked(&EXTS[8..]).unwrap();
        assert!(ext.compulsory());
        assert_eq!(ext.ext_type(), ExtensionType::AUTHENTICATION);
        assert_eq!(ext.length(), 10);
        assert_eq!(ext.total_len(), 14);
        assert_eq!(ext.value(), b"\x00\x00\x00\x01secret");
        let nat = Extension::new_checked(&EXTS[22..]).unwrap();
        assert!(!nat.compulsory());
        assert_eq!(nat.ext_type(), ExtensionType::CISCO_NAT_ADDRESS);
    }

    #[test]
    fn parse_list() {
        let list = ExtensionList::parse(&EXTS, 68).unwrap();
        let reprs = trace_reprs();
        assert_eq!(list, ExtensionList::new(&reprs));
        assert_eq!(list.len(), 5);
        let auth = list.authentication().unwrap();
        assert_eq!(auth.password(), Some(&b"secret"[..]));
        assert_eq!(auth.rfc_spi(), 1);
        assert_eq!(auth.rfc_split(4), Some((&b"secr"[..], &b"et"[..])));
        assert_eq!(auth.rfc_split(7), None);
        assert!(list.find(ExtensionType::RESPONDER_ADDRESS).is_none());
        assert_eq!(list.find(ExtensionType::END), Some(Repr::END));
    }

    #[test]
    fn emit_list() {
        let reprs = trace_reprs();
        let list = ExtensionList::new(&reprs);
        assert_eq!(list.buffer_len(), EXTS.len());
        let mut out = [0xff; 30];
        list.emit(&mut out);
        assert_eq!(out, EXTS);
    }

    #[test]
    fn responder_address_carries_a_cie() {
        let repr = Repr::parse(&Extension::new_unchecked(&RESPONDER[..]), 52).unwrap();
        let cie = repr.value.cies().unwrap().first().unwrap();
        assert_eq!(cie.prefix_len, 0);
        assert_eq!(cie.mtu, 1514);
        assert_eq!(cie.holding_time, 7200);
        assert_eq!(cie.nbma, NbmaAddress::nsap(&[172, 16, 15, 2]));
        assert_eq!(cie.proto, &[192, 168, 0, 1]);
        let mut out = [0; 24];
        repr.emit(&mut Extension::new_unchecked(&mut out[..]));
        assert_eq!(out, RESPONDER);
    }

    #[test]
    fn vendor_private_device_capabilities_and_unknown_round_trip() {
        let cies = [cie::Repr {
            proto: &[10, 0, 0, 9],
            ..cie::Repr::default()
        }];
        let reprs = [
            Repr {
                compulsory: false,
                value: Value::VendorPrivate {
                    vendor: CISCO_OUI,
                    data: b"\x01\x02",
                },
            },
            Repr {
                compulsory: false,
                value: Value::DeviceCapabilities {
                    source: 1,
                    destination: 0,
                },
            },
            Repr {
                compulsory: true,
                value: Value::Unknown {
                    ty: ExtensionType(0x1234),
                    value: b"xyz",
                },
            },
            Repr {
                compulsory: false,
                value: Value::Unknown {
                    ty: ExtensionType::MOBILE_NHC_AUTHENTICATION,
                    value: b"",
                },
            },
            Repr {
                compulsory: false,
                value: Value::Unknown {
                    ty: ExtensionType(0x4003),
                    value: b"u",
                },
            },
            Repr {
                compulsory: false,
                value: Value::CiscoNatAddress(CieList::new(&cies)),
            },
            Repr {
                compulsory: false,
                value: Value::Authentication(Authentication {
                    kind: AuthType(0x0000_0102),
                    data: b"",
                }),
            },
            Repr::END,
        ];
        let list = ExtensionList::new(&reprs);
        let mut out = vec![0; list.buffer_len()];
        list.emit(&mut out);
        #[rustfmt::skip]
        let head = [0x00, 0x08, 0x00, 0x05, 0x00, 0x00, 0x0c, 0x01, 0x02,
                    0x00, 0x09, 0x00, 0x08, 0, 0, 0, 1, 0, 0, 0, 0,
                    0x92, 0x34, 0x00, 0x03, b'x', b'y', b'z'];
        assert_eq!(out[..head.len()], head);
        let parsed = ExtensionList::parse(&out, 0).unwrap();
        assert_eq!(parsed, list);
        assert_eq!(
            parsed.iter().map(|e| e.value.ty()).collect::<Vec<_>>(),
            [
                ExtensionType(8),
                ExtensionType(9),
                ExtensionType(0x1234),
                ExtensionType(10),
                ExtensionType(0x4003),
                ExtensionType(9),
                ExtensionType(7),
                ExtensionType(0)
            ]
        );
        assert_eq!(parsed.authentication().unwrap().password(), None);
        assert_eq!(parsed.unrecognized_compulsory(), Some(reprs[2]));
        assert_eq!(
            ExtensionList::new(&trace_reprs()).unrecognized_compulsory(),
            None
        );
    }

    #[test]
    fn truncation() {
        for len in 0..EXTS.len() {
            let err = ExtensionList::parse(&EXTS[..len], 68).unwrap_err_or_ok();
            // A header cut at `at` (the extensions start at 68).
            let header_cut =
                |at| Error::truncated(Layer::Nhrp, "extension header", at, 4, 68 + len);
            let expected = match len {
                0 | 4 | 8 | 22 | 26 => None,
                1..4 => Some(header_cut(68)),
                5..8 => Some(header_cut(72)),
                9..12 => Some(header_cut(76)),
                12..22 => Some(Error::bad_length(
                    Layer::Nhrp,
                    "extension length",
                    78,
                    10,
                    len - 12,
                )),
                23..26 => Some(header_cut(90)),
                _ => Some(header_cut(94)),
            };
            assert_eq!(err, expected, "length {len}");
        }
    }

    trait ErrOrOk {
        fn unwrap_err_or_ok(self) -> Option<Error>;
    }

    impl<T> ErrOrOk for Result<T> {
        fn unwrap_err_or_ok(self) -> Option<Error> {
            self.err()
        }
    }

    #[test]
    fn malformed_values() {
        assert_eq!(
            ExtensionList::parse(&[0x80, 0x00, 0x00, 0x01, 0x00], 10).unwrap_err(),
            Error::invalid_field(Layer::Nhrp, "end of extensions length", 12, 1)
        );
        assert_eq!(
            ExtensionList::parse(&[0x80, 0x07, 0x00, 0x03, b'a', b'b', b'c'], 10).unwrap_err(),
            Error::Truncated {
                layer: Layer::Nhrp,
                field: "authentication type",
                offset: 14,
                needed: 4,
                available: 3
            }
        );
        assert_eq!(
            ExtensionList::parse(&[0x00, 0x08, 0x00, 0x02, 0, 0], 10).unwrap_err(),
            Error::Truncated {
                layer: Layer::Nhrp,
                field: "vendor ID",
                offset: 14,
                needed: 3,
                available: 2
            }
        );
        // A Responder Address whose CIE is cut short: the CIE error carries the absolute offset.
        assert_eq!(
            ExtensionList::parse(&RESPONDER[..4 + 12], 52).map(|_| ()),
            Err(Error::bad_length(
                Layer::Nhrp,
                "extension length",
                54,
                20,
                12
            ))
        );
        let mut short_cie = RESPONDER;
        short_cie[3] = 0x0e;
        assert_eq!(
            ExtensionList::parse(&short_cie[..18], 52).unwrap_err(),
            Error::Truncated {
                layer: Layer::Nhrp,
                field: "client NBMA address",
                offset: 68,
                needed: 4,
                available: 2
            }
        );
    }

    #[test]
    fn data_after_end_is_reported() {
        let mut bytes = EXTS.to_vec();
        bytes.extend_from_slice(&[0xde, 0xad]);
        assert_eq!(
            ExtensionList::parse(&bytes, 68).unwrap_err(),
            Error::TrailingBytes {
                layer: Layer::Nhrp,
                offset: 98,
                len: 2
            }
        );
        let mut iter = Iter::new(&bytes, 68);
        assert_eq!(iter.by_ref().take(5).filter(Result::is_ok).count(), 5);
        assert!(iter.next().unwrap().is_err());
        assert!(iter.next().is_none());
    }

    #[test]
    fn missing_end_is_accepted() {
        let list = ExtensionList::parse(&EXTS[..26], 0).unwrap();
        assert_eq!(list.len(), 4);
        assert!(list.find(ExtensionType::END).is_none());
        assert!(ExtensionList::EMPTY.is_empty());
        assert_eq!(ExtensionList::default().len(), 0);
        assert_eq!(format!("{:?}", ExtensionList::EMPTY), "[]");
    }

    #[test]
    fn view_setters() {
        let mut bytes = [0u8; 7];
        let mut ext = Extension::new_unchecked(&mut bytes[..]);
        ext.set_type(true, ExtensionType(0xffff));
        ext.set_length(3);
        ext.value_mut().copy_from_slice(b"abc");
        assert_eq!(bytes, [0xff, 0xff, 0, 3, b'a', b'b', b'c']);
        let ext = Extension::new_checked(&bytes[..]).unwrap();
        assert_eq!(ext.ext_type(), ExtensionType(0x7fff));
        assert_eq!(ext.into_inner().len(), 7);
    }

    #[test]
    fn arbitrary_bytes_never_panic() {
        bolero::check!().for_each(|data: &[u8]| {
            if let Ok(list) = ExtensionList::parse(data, 0) {
                let mut out = vec![0; list.buffer_len()];
                list.emit(&mut out);
                assert_eq!(ExtensionList::parse(&out, 0).unwrap(), list);
            }
        });
    }
}
