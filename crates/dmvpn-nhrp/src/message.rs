//! The whole packet as a typed value: [`Repr`], with one [`Message`] variant per packet type.

use alloc::vec;
use alloc::vec::Vec;
use core::fmt;

use dmvpn_wire::{Error, Layer, Result};

use crate::cie::CieList;
use crate::consts::{
    AddressFamily, ErrorCode, ExtensionType, Flags, OpType, ProtocolType, TrafficCode,
};
use crate::extension::{self, ExtensionList};
use crate::header::{Packet, VERSION, field, split_snap};
use crate::mandatory::NbmaAddress;

/// The mandatory part of Resolution, Registration and Purge Requests and Replies (types 1–6):
/// flags, request ID and CIEs.
#[derive(Clone, Copy, Debug, Default, Eq, PartialEq)]
pub struct Control<'a> {
    /// Flags; their meaning depends on the type (see [`Flags`]).
    pub flags: Flags,
    /// Request ID, echoed in the reply.
    pub request_id: u32,
    /// Client Information Entries.
    pub cies: CieList<'a>,
}

/// An Error Indication (RFC 2332 §5.2.7).
#[derive(Clone, Copy, Debug, Eq, PartialEq)]
pub struct ErrorIndication<'a> {
    /// What went wrong.
    pub code: ErrorCode,
    /// Offset of the problem in the packet in error, counted from its fixed header.
    pub offset: u16,
    /// The NHRP packet in error as the sender quoted it (possibly cut short).
    pub packet: &'a [u8],
}

impl<'a> ErrorIndication<'a> {
    /// The packet in error as a checked view (fails if the sender cut it short).
    pub fn packet_view(&self) -> Result<Packet<&'a [u8]>> {
        Packet::new_checked(self.packet)
    }

    /// The packet in error, parsed.
    pub fn parse_packet(&self) -> Result<Repr<'a>> {
        Repr::parse(&self.packet_view()?)
    }

    /// The request ID of the packet in error, read from the quote as far as its bytes go (the
    /// sender may cut it short): `None` when the quote ends before the ID or the quoted packet is
    /// not a request or reply (types 1–6). Wireshark names this ID in its Info column.
    ///
    /// ```
    /// use dmvpn_nhrp::{ErrorCode, ErrorIndication};
    ///
    /// // The fixed header of a Registration Request (type 3), then request ID 6.
    /// let mut quote = [0u8; 28];
    /// quote[17] = 3;
    /// quote[27] = 6;
    /// let error = |packet| ErrorIndication { code: ErrorCode::AUTHENTICATION_FAILURE, offset: 0, packet };
    /// assert_eq!(error(&quote[..]).quoted_request_id(), Some(6));
    /// assert_eq!(error(&quote[..27]).quoted_request_id(), None);
    /// ```
    #[must_use]
    pub fn quoted_request_id(&self) -> Option<u32> {
        let op = self.packet.get(field::OP_TYPE).copied().map(OpType)?;
        let id = self.packet.get(field::REQUEST_ID)?;
        let id = u32::from_be_bytes(<[u8; 4]>::try_from(id).ok()?);
        (op.is_request() || op.is_reply()).then_some(id)
    }
}

/// A Traffic Indication, the Cisco DMVPN phase 3 redirect (draft-detienne-dmvpn-01 §4.1): a hub
/// tells the sender of `packet` that a shortcut to its destination exists.
#[derive(Clone, Copy, Debug, Eq, PartialEq)]
pub struct TrafficIndication<'a> {
    /// The traffic code; 0 is a redirect.
    pub code: TrafficCode,
    /// The start of the data packet that triggered the indication (an IP packet for
    /// `ar$pro.type` IPv4, usually cut after its first bytes).
    pub packet: &'a [u8],
}

/// The type-specific part of an NHRP packet.
#[derive(Clone, Copy, Debug, Eq, PartialEq)]
pub enum Message<'a> {
    /// Type 1.
    ResolutionRequest(Control<'a>),
    /// Type 2.
    ResolutionReply(Control<'a>),
    /// Type 3.
    RegistrationRequest(Control<'a>),
    /// Type 4.
    RegistrationReply(Control<'a>),
    /// Type 5.
    PurgeRequest(Control<'a>),
    /// Type 6.
    PurgeReply(Control<'a>),
    /// Type 7.
    ErrorIndication(ErrorIndication<'a>),
    /// Type 8.
    TrafficIndication(TrafficIndication<'a>),
}

impl<'a> Message<'a> {
    /// The message of type `op` whose body (after the mandatory addresses) is `body`: an Error
    /// or Traffic Indication quotes it, the other types hold CIEs, read by `cies`.
    pub(crate) fn parse_body<T: AsRef<[u8]>>(
        op: OpType,
        packet: &Packet<T>,
        body: &'a [u8],
        cies: impl FnOnce(&'a [u8]) -> Result<CieList<'a>>,
    ) -> Result<Self> {
        Ok(match op {
            OpType::ERROR_INDICATION => Self::ErrorIndication(ErrorIndication {
                code: packet.error_code(),
                offset: packet.error_offset(),
                packet: body,
            }),
            OpType::TRAFFIC_INDICATION => Self::TrafficIndication(TrafficIndication {
                code: packet.traffic_code(),
                packet: body,
            }),
            op => {
                let control = Control {
                    flags: packet.flags(),
                    request_id: packet.request_id(),
                    cies: cies(body)?,
                };
                Self::with_control(op, control).ok_or(Error::Unsupported {
                    layer: Layer::Nhrp,
                    field: "op type",
                    offset: field::OP_TYPE,
                    value: op.0.into(),
                })?
            }
        })
    }

    /// The packet type.
    #[must_use]
    pub const fn op_type(&self) -> OpType {
        match self {
            Self::ResolutionRequest(_) => OpType::RESOLUTION_REQUEST,
            Self::ResolutionReply(_) => OpType::RESOLUTION_REPLY,
            Self::RegistrationRequest(_) => OpType::REGISTRATION_REQUEST,
            Self::RegistrationReply(_) => OpType::REGISTRATION_REPLY,
            Self::PurgeRequest(_) => OpType::PURGE_REQUEST,
            Self::PurgeReply(_) => OpType::PURGE_REPLY,
            Self::ErrorIndication(_) => OpType::ERROR_INDICATION,
            Self::TrafficIndication(_) => OpType::TRAFFIC_INDICATION,
        }
    }

    /// The flags, request ID and CIEs of types 1–6.
    #[must_use]
    pub const fn control(&self) -> Option<&Control<'a>> {
        match self {
            Self::ResolutionRequest(c)
            | Self::ResolutionReply(c)
            | Self::RegistrationRequest(c)
            | Self::RegistrationReply(c)
            | Self::PurgeRequest(c)
            | Self::PurgeReply(c) => Some(c),
            Self::ErrorIndication(_) | Self::TrafficIndication(_) => None,
        }
    }

    /// Wraps `control` in the variant for `op` (types 1–6), or `None` for any other type.
    #[must_use]
    pub const fn with_control(op: OpType, control: Control<'a>) -> Option<Self> {
        Some(match op.0 {
            1 => Self::ResolutionRequest(control),
            2 => Self::ResolutionReply(control),
            3 => Self::RegistrationRequest(control),
            4 => Self::RegistrationReply(control),
            5 => Self::PurgeRequest(control),
            6 => Self::PurgeReply(control),
            _ => return None,
        })
    }

    fn body_len(&self) -> usize {
        match self {
            Self::ErrorIndication(e) => e.packet.len(),
            Self::TrafficIndication(t) => t.packet.len(),
            _ => self.control().map_or(0, |c| c.cies.buffer_len()),
        }
    }
}

/// A parsed NHRP packet: fixed header, mandatory part, extensions.
///
/// `ar$pktsz`, `ar$extoff`, the address lengths and the checksum are derived when emitting. The
/// unused fields (CIE `unused`, the indications' unused words) are written as zero.
#[derive(Clone, Copy, Debug, Eq, PartialEq)]
pub struct Repr<'a> {
    /// `ar$afn`: the NBMA address family.
    pub afn: AddressFamily,
    /// `ar$pro.type`.
    pub protocol_type: ProtocolType,
    /// `ar$pro.snap` (zero unless `protocol_type` is [`ProtocolType::SNAP`]).
    pub protocol_snap: [u8; 5],
    /// `ar$hopcnt`.
    pub hop_count: u8,
    /// Source NBMA address.
    pub src_nbma: NbmaAddress<'a>,
    /// Source NBMA subaddress.
    pub src_nbma_sub: NbmaAddress<'a>,
    /// Source protocol address.
    pub src_proto: &'a [u8],
    /// Destination protocol address.
    pub dst_proto: &'a [u8],
    /// Type-specific part.
    pub message: Message<'a>,
    /// Extensions; `None` when `ar$extoff` is 0.
    pub extensions: Option<ExtensionList<'a>>,
}

impl<'a> Repr<'a> {
    /// A packet between IPv4 tunnel addresses over an IPv4 NBMA (the DMVPN case): source NBMA
    /// address `src_nbma` without subaddress, hop count 255 and no extensions. Change the other
    /// fields with struct update syntax.
    ///
    /// ```
    /// use dmvpn_nhrp::{Control, Message, NbmaAddress, Repr};
    ///
    /// let repr = Repr {
    ///     hop_count: 1,
    ///     ..Repr::ipv4(
    ///         NbmaAddress::nsap(&[192, 0, 2, 11]),
    ///         &[10, 0, 0, 2],
    ///         &[10, 0, 0, 1],
    ///         Message::PurgeRequest(Control::default()),
    ///     )
    /// };
    /// assert_eq!(dmvpn_nhrp::parse(&repr.to_bytes())?, repr);
    /// # Ok::<(), dmvpn_nhrp::Error>(())
    /// ```
    #[must_use]
    pub const fn ipv4(
        src_nbma: NbmaAddress<'a>,
        src_proto: &'a [u8],
        dst_proto: &'a [u8],
        message: Message<'a>,
    ) -> Self {
        Self {
            afn: AddressFamily::IPV4,
            protocol_type: ProtocolType::IPV4,
            protocol_snap: [0; 5],
            hop_count: 255,
            src_nbma,
            src_nbma_sub: NbmaAddress::NONE,
            src_proto,
            dst_proto,
            message,
            extensions: None,
        }
    }

    /// Parses a packet: checks every length ([`Packet::check_len`]), the version, the checksum
    /// (skipped when built with `cfg(fuzzing)`), the packet type, every CIE and every extension.
    pub fn parse<T: AsRef<[u8]> + ?Sized>(packet: &Packet<&'a T>) -> Result<Self> {
        packet.check_len()?;
        if packet.version() != VERSION {
            return Err(Error::Unsupported {
                layer: Layer::Nhrp,
                field: "version",
                offset: field::VERSION,
                value: packet.version().into(),
            });
        }
        #[cfg(not(fuzzing))]
        if !packet.verify_checksum() {
            return Err(Error::BadChecksum {
                layer: Layer::Nhrp,
                offset: field::CHECKSUM.start,
                found: packet.checksum(),
                computed: packet.compute_checksum(),
            });
        }
        let op = packet.op_type();
        let body = packet.body();
        let base = packet.body_range().start;
        let message = Message::parse_body(op, packet, body, |body| CieList::parse(body, base))?;
        let extensions = match (packet.extensions(), packet.extensions_range()) {
            (Some(bytes), Some(range)) => Some(ExtensionList::parse(bytes, range.start)?),
            _ => None,
        };
        Ok(Self {
            afn: packet.afn(),
            protocol_type: packet.protocol_type(),
            protocol_snap: packet.protocol_snap(),
            hop_count: packet.hop_count(),
            src_nbma: packet.src_nbma(),
            src_nbma_sub: packet.src_nbma_sub(),
            src_proto: packet.src_proto(),
            dst_proto: packet.dst_proto(),
            message,
            extensions,
        })
    }

    fn mandatory_len(&self) -> usize {
        field::ADDRESSES
            + self.src_nbma.bytes.len()
            + self.src_nbma_sub.bytes.len()
            + self.src_proto.len()
            + self.dst_proto.len()
            + self.message.body_len()
    }

    /// The length [`Repr::emit`] writes (`ar$pktsz`).
    #[must_use]
    pub fn buffer_len(&self) -> usize {
        self.mandatory_len() + self.extensions.map_or(0, |e| e.buffer_len())
    }

    /// The packet's bytes in a new buffer of [`Repr::buffer_len`] bytes ([`Repr::emit`]),
    /// checksum included.
    ///
    /// ```
    /// use core::net::Ipv4Addr;
    /// use dmvpn_nhrp::RegistrationRequest;
    ///
    /// let request = RegistrationRequest::ipv4(
    ///     Ipv4Addr::new(172, 16, 25, 2),
    ///     Ipv4Addr::new(192, 168, 0, 2),
    ///     Ipv4Addr::new(192, 168, 0, 1),
    /// );
    /// let bytes = request.with_repr(|repr| repr.to_bytes());
    /// assert_eq!(dmvpn_nhrp::parse(&bytes)?.to_bytes(), bytes);
    /// # Ok::<(), dmvpn_nhrp::Error>(())
    /// ```
    #[must_use]
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut bytes = vec![0; self.buffer_len()];
        self.emit(&mut Packet::new_unchecked(&mut bytes[..]));
        bytes
    }

    /// Writes the packet into a buffer of at least [`Repr::buffer_len`] bytes, checksum last.
    ///
    /// A repr must fit its length fields: NBMA addresses up to 63 bytes, protocol addresses up to
    /// 255 and the whole packet up to 65535; longer ones are a caller bug.
    pub fn emit<T: AsRef<[u8]> + AsMut<[u8]>>(&self, packet: &mut Packet<T>) {
        let size = self.buffer_len();
        debug_assert!(size <= usize::from(u16::MAX));
        debug_assert!(self.src_proto.len() <= 255 && self.dst_proto.len() <= 255);
        let mandatory_end = self.mandatory_len();
        packet.set_afn(self.afn);
        packet.set_protocol_type(self.protocol_type);
        packet.set_protocol_snap(self.protocol_snap);
        packet.set_hop_count(self.hop_count);
        packet.set_packet_size(size as u16);
        packet.set_checksum(0);
        packet.set_extension_offset(if self.extensions.is_some() {
            mandatory_end as u16
        } else {
            0
        });
        packet.set_version(VERSION);
        packet.set_op_type(self.message.op_type());
        packet.set_shtl(self.src_nbma.type_len());
        packet.set_sstl(self.src_nbma_sub.type_len());
        packet.set_src_proto_len(self.src_proto.len() as u8);
        packet.set_dst_proto_len(self.dst_proto.len() as u8);
        match &self.message {
            Message::ErrorIndication(e) => {
                packet.set_flags(Flags::EMPTY);
                packet.set_error_code(e.code);
                packet.set_error_offset(e.offset);
            }
            Message::TrafficIndication(t) => {
                packet.set_flags(Flags::EMPTY);
                packet.set_traffic_code(t.code);
            }
            message => {
                let control = message.control().copied().unwrap_or_default();
                packet.set_flags(control.flags);
                packet.set_request_id(control.request_id);
            }
        }
        packet.src_nbma_mut().copy_from_slice(self.src_nbma.bytes);
        packet
            .src_nbma_sub_mut()
            .copy_from_slice(self.src_nbma_sub.bytes);
        packet.src_proto_mut().copy_from_slice(self.src_proto);
        packet.dst_proto_mut().copy_from_slice(self.dst_proto);
        let body = packet.body_mut();
        match &self.message {
            Message::ErrorIndication(e) => body.copy_from_slice(e.packet),
            Message::TrafficIndication(t) => body.copy_from_slice(t.packet),
            message => message.control().map_or((), |c| c.cies.emit(body)),
        }
        if let Some(extensions) = &self.extensions {
            extensions.emit(&mut packet.as_bytes_mut()[mandatory_end..size]);
        }
        packet.fill_checksum();
    }

    /// The packet type.
    #[must_use]
    pub const fn op_type(&self) -> OpType {
        self.message.op_type()
    }

    /// The request ID (types 1–6).
    #[must_use]
    pub fn request_id(&self) -> Option<u32> {
        self.message.control().map(|c| c.request_id)
    }

    /// The flags (types 1–6).
    #[must_use]
    pub fn flags(&self) -> Option<Flags> {
        self.message.control().map(|c| c.flags)
    }

    /// The CIEs of the mandatory part (empty for the indications).
    #[must_use]
    pub fn cies(&self) -> CieList<'a> {
        self.message.control().map_or(CieList::EMPTY, |c| c.cies)
    }

    /// The extensions in order, End included (none when `ar$extoff` is 0).
    pub fn extension_iter(&self) -> impl Iterator<Item = extension::Repr<'a>> + use<'a> {
        self.extensions.unwrap_or_default().iter()
    }

    /// The extension types in order.
    pub fn extension_types(&self) -> impl Iterator<Item = ExtensionType> + use<'a> {
        self.extension_iter().map(|ext| ext.value.ty())
    }

    /// The long-form protocol as (OUI, PID) when `protocol_type` is [`ProtocolType::SNAP`].
    #[must_use]
    pub fn snap_protocol(&self) -> Option<(u32, u16)> {
        (self.protocol_type == ProtocolType::SNAP).then(|| split_snap(self.protocol_snap))
    }
}

/// A one-line summary in the words of Wireshark's Info column, e.g.
/// `NHRP Registration Reply, ID=7, Code=Success` (one `Code` per CIE of a reply) or
/// `NHRP Error Indication, Authentication Failure, ID=1` (the ID of the quoted request).
impl fmt::Display for Repr<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let op = self.op_type();
        f.write_str(op.description().unwrap_or("NHRP"))?;
        match &self.message {
            Message::ErrorIndication(e) => {
                match e.code.description() {
                    Some(text) => write!(f, ", {text}")?,
                    None => write!(f, ", Unknown Error ({})", e.code.0)?,
                }
                // Like Wireshark, name the request the packet in error belongs to.
                if let Some(id) = e.quoted_request_id() {
                    write!(f, ", ID={id}")?;
                }
                Ok(())
            }
            Message::TrafficIndication(_) => Ok(()),
            _ => {
                if let Some(id) = self.request_id() {
                    write!(f, ", ID={id}")?;
                }
                if op.is_reply() {
                    for cie in self.cies().iter() {
                        match cie.code.description() {
                            Some(text) => write!(f, ", Code={text}")?,
                            None => write!(f, ", Code=Unknown ({})", cie.code.0)?,
                        }
                    }
                }
                Ok(())
            }
        }
    }
}

#[cfg(test)]
pub(crate) mod tests;
