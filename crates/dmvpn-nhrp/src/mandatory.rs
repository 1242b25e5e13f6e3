//! The mandatory part (RFC 2332 §5.2.0.1) and NBMA/protocol addresses.
//!
//! ```text
//!  0                   1                   2                   3
//!  0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
//! +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//! | Src Proto Len | Dst Proto Len |           Flags               |
//! +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//! |                         Request ID                            |
//! +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//! |            Source NBMA Address (variable length)              |
//! |           Source NBMA Subaddress (variable length)            |
//! |          Source Protocol Address (variable length)            |
//! |        Destination Protocol Address (variable length)         |
//! +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//! ```
//!
//! An Error Indication (§5.2.7) carries `Error Code` and `Error Offset` instead of the request
//! ID; a Traffic Indication (draft-detienne-dmvpn-01 §4.1) carries `Traffic Code` and 16 unused
//! bits, and leaves the flags unused.

use core::fmt;
use core::net::{Ipv4Addr, Ipv6Addr};
use core::ops::Range;

use dmvpn_wire::field::Field;
use dmvpn_wire::fmt::Hex;

use crate::consts::{AddressFormat, ErrorCode, Flags, TrafficCode};
use crate::header::{Packet, field, make_type_len};

/// An NBMA address or subaddress with its format bit (E.164 or NSAP), as in `ar$shtl`.
#[derive(Clone, Copy, Debug, Default, Eq, Hash, PartialEq)]
pub struct NbmaAddress<'a> {
    /// The format bit.
    pub format: AddressFormat,
    /// The address bytes (at most 63: the length has 6 bits).
    pub bytes: &'a [u8],
}

impl<'a> NbmaAddress<'a> {
    /// An address in NSAP format, which every IP-based NBMA uses.
    #[must_use]
    pub const fn nsap(bytes: &'a [u8]) -> Self {
        Self {
            format: AddressFormat::Nsap,
            bytes,
        }
    }

    /// No address (length 0).
    pub const NONE: Self = Self::nsap(&[]);

    /// The type/length byte this address is written with.
    #[must_use]
    pub const fn type_len(&self) -> u8 {
        make_type_len(self.format, self.bytes.len())
    }

    /// The address as IPv4, if it is 4 bytes long.
    #[must_use]
    pub fn ipv4(&self) -> Option<Ipv4Addr> {
        ipv4(self.bytes)
    }

    /// A value that prints the address (see [`Address`]).
    #[must_use]
    pub const fn display(&self) -> Address<'a> {
        Address(self.bytes)
    }
}

/// The address as IPv4, if it is 4 bytes long.
#[must_use]
pub fn ipv4(bytes: &[u8]) -> Option<Ipv4Addr> {
    <[u8; 4]>::try_from(bytes).ok().map(Ipv4Addr::from)
}

/// Prints address bytes the way decoders show them: dotted quad for 4 bytes, IPv6 text for 16,
/// lowercase hex otherwise, `-` when empty.
#[derive(Clone, Copy, Eq, PartialEq)]
pub struct Address<'a>(pub &'a [u8]);

impl fmt::Display for Address<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if let Ok(v4) = <[u8; 4]>::try_from(self.0) {
            write!(f, "{}", Ipv4Addr::from(v4))
        } else if let Ok(v6) = <[u8; 16]>::try_from(self.0) {
            write!(f, "{}", Ipv6Addr::from(v6))
        } else if self.0.is_empty() {
            f.write_str("-")
        } else {
            write!(f, "{}", Hex(self.0))
        }
    }
}

impl fmt::Debug for Address<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self, f)
    }
}

impl<T: AsRef<[u8]>> Packet<T> {
    /// `Src Proto Len`.
    pub fn src_proto_len(&self) -> u8 {
        self.as_bytes()[field::SRC_PROTO_LEN]
    }

    /// `Dst Proto Len`.
    pub fn dst_proto_len(&self) -> u8 {
        self.as_bytes()[field::DST_PROTO_LEN]
    }

    /// `Flags` (types 1–6; unused in the indications).
    pub fn flags(&self) -> Flags {
        Flags(self.u16_field(field::FLAGS))
    }

    /// `Request ID` (types 1–6).
    pub fn request_id(&self) -> u32 {
        let mut id = [0; 4];
        id.copy_from_slice(&self.as_bytes()[field::REQUEST_ID]);
        u32::from_be_bytes(id)
    }

    /// `Error Code` of an Error Indication.
    pub fn error_code(&self) -> ErrorCode {
        ErrorCode(self.u16_field(field::ERROR_CODE))
    }

    /// `Error Offset` of an Error Indication: where in the packet in error the problem is.
    pub fn error_offset(&self) -> u16 {
        self.u16_field(field::ERROR_OFFSET)
    }

    /// `Traffic Code` of a Traffic Indication.
    pub fn traffic_code(&self) -> TrafficCode {
        TrafficCode(self.u16_field(field::TRAFFIC_CODE))
    }

    /// Position of the source NBMA address.
    pub fn src_nbma_range(&self) -> Range<usize> {
        let start = field::ADDRESSES;
        start..start + self.src_nbma_type_len().1
    }

    /// Position of the source NBMA subaddress.
    pub fn src_nbma_sub_range(&self) -> Range<usize> {
        let start = self.src_nbma_range().end;
        start..start + self.src_nbma_sub_type_len().1
    }

    /// Position of the source protocol address.
    pub fn src_proto_range(&self) -> Range<usize> {
        let start = self.src_nbma_sub_range().end;
        start..start + usize::from(self.src_proto_len())
    }

    /// Position of the destination protocol address.
    pub fn dst_proto_range(&self) -> Range<usize> {
        let start = self.src_proto_range().end;
        start..start + usize::from(self.dst_proto_len())
    }

    /// Position of what follows the addresses in the mandatory part: the CIE list (types 1–6),
    /// the packet in error (type 7) or the packet that triggered the indication (type 8).
    pub fn body_range(&self) -> Range<usize> {
        self.dst_proto_range().end..self.mandatory_end()
    }

    fn u16_field(&self, field: Field) -> u16 {
        let data = self.as_bytes();
        u16::from_be_bytes([data[field.start], data[field.start + 1]])
    }
}

impl<'a, T: AsRef<[u8]> + ?Sized> Packet<&'a T> {
    fn slice(&self, range: Range<usize>) -> &'a [u8] {
        &self.packet()[range]
    }

    /// The source NBMA address with its format.
    pub fn src_nbma(&self) -> NbmaAddress<'a> {
        NbmaAddress {
            format: self.src_nbma_type_len().0,
            bytes: self.slice(self.src_nbma_range()),
        }
    }

    /// The source NBMA subaddress with its format.
    pub fn src_nbma_sub(&self) -> NbmaAddress<'a> {
        NbmaAddress {
            format: self.src_nbma_sub_type_len().0,
            bytes: self.slice(self.src_nbma_sub_range()),
        }
    }

    /// The source protocol address.
    pub fn src_proto(&self) -> &'a [u8] {
        self.slice(self.src_proto_range())
    }

    /// The destination protocol address.
    pub fn dst_proto(&self) -> &'a [u8] {
        self.slice(self.dst_proto_range())
    }

    /// The bytes after the addresses, up to the extensions (see [`Packet::body_range`]).
    pub fn body(&self) -> &'a [u8] {
        self.slice(self.body_range())
    }

    /// Walks the CIE list of a Request or Reply (types 1–6), yielding each CIE or the first
    /// error; offsets in errors count from the start of the packet.
    pub fn cie_iter(&self) -> crate::cie::Iter<'a> {
        crate::cie::Iter::new(self.body(), self.body_range().start)
    }

    /// Walks the extensions (none when `ar$extoff` is 0), yielding each one or the first error.
    pub fn extension_iter(&self) -> crate::extension::Iter<'a> {
        match (self.extensions(), self.extensions_range()) {
            (Some(bytes), Some(range)) => crate::extension::Iter::new(bytes, range.start),
            _ => crate::extension::Iter::new(&[], 0),
        }
    }
}

impl<T: AsRef<[u8]> + AsMut<[u8]>> Packet<T> {
    /// Sets `Src Proto Len`.
    pub fn set_src_proto_len(&mut self, value: u8) {
        self.as_bytes_mut()[field::SRC_PROTO_LEN] = value;
    }

    /// Sets `Dst Proto Len`.
    pub fn set_dst_proto_len(&mut self, value: u8) {
        self.as_bytes_mut()[field::DST_PROTO_LEN] = value;
    }

    /// Sets `Flags`.
    pub fn set_flags(&mut self, value: Flags) {
        self.as_bytes_mut()[field::FLAGS].copy_from_slice(&value.0.to_be_bytes());
    }

    /// Sets `Request ID`.
    pub fn set_request_id(&mut self, value: u32) {
        self.as_bytes_mut()[field::REQUEST_ID].copy_from_slice(&value.to_be_bytes());
    }

    /// Sets `Error Code`.
    pub fn set_error_code(&mut self, value: ErrorCode) {
        self.as_bytes_mut()[field::ERROR_CODE].copy_from_slice(&value.0.to_be_bytes());
    }

    /// Sets `Error Offset`.
    pub fn set_error_offset(&mut self, value: u16) {
        self.as_bytes_mut()[field::ERROR_OFFSET].copy_from_slice(&value.to_be_bytes());
    }

    /// Sets `Traffic Code` (and the 16 unused bits after it to zero).
    pub fn set_traffic_code(&mut self, value: TrafficCode) {
        self.as_bytes_mut()[field::TRAFFIC_CODE].copy_from_slice(&value.0.to_be_bytes());
        self.as_bytes_mut()[field::ERROR_OFFSET].fill(0);
    }

    fn slice_mut(&mut self, range: Range<usize>) -> &mut [u8] {
        &mut self.as_bytes_mut()[range]
    }

    /// The source NBMA address, for writing (its length comes from `ar$shtl`).
    pub fn src_nbma_mut(&mut self) -> &mut [u8] {
        self.slice_mut(self.src_nbma_range())
    }

    /// The source NBMA subaddress, for writing.
    pub fn src_nbma_sub_mut(&mut self) -> &mut [u8] {
        self.slice_mut(self.src_nbma_sub_range())
    }

    /// The source protocol address, for writing.
    pub fn src_proto_mut(&mut self) -> &mut [u8] {
        self.slice_mut(self.src_proto_range())
    }

    /// The destination protocol address, for writing.
    pub fn dst_proto_mut(&mut self) -> &mut [u8] {
        self.slice_mut(self.dst_proto_range())
    }

    /// The bytes after the addresses, for writing (see [`Packet::body_range`]).
    pub fn body_mut(&mut self) -> &mut [u8] {
        self.slice_mut(self.body_range())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::consts::OpType;

    dmvpn_wire::hex_consts! {
        // tcpdump nhrp-trace.pcap frame 1 (Traffic Indication): NHRP bytes 0..40 (header, mandatory part
        // and addresses), with the packet size cut to 40, the checksum zeroed and no extensions.
        const TRAFFIC: [u8; 40] = "000108000000000000ff002800000000010804000404000000000000c0a8c8010affff010affff03";
    }

    #[test]
    fn deconstruct() {
        let packet = Packet::new_checked(&TRAFFIC[..]).unwrap();
        assert_eq!(packet.op_type(), OpType::TRAFFIC_INDICATION);
        assert_eq!(packet.src_proto_len(), 4);
        assert_eq!(packet.dst_proto_len(), 4);
        assert_eq!(packet.flags(), Flags(0));
        assert_eq!(packet.traffic_code(), TrafficCode::REDIRECT);
        assert_eq!(
            packet.src_nbma().ipv4(),
            Some(Ipv4Addr::new(192, 168, 200, 1))
        );
        assert_eq!(packet.src_nbma_sub(), NbmaAddress::NONE);
        assert_eq!(
            ipv4(packet.src_proto()),
            Some(Ipv4Addr::new(10, 255, 255, 1))
        );
        assert_eq!(
            ipv4(packet.dst_proto()),
            Some(Ipv4Addr::new(10, 255, 255, 3))
        );
        assert_eq!(packet.body(), &[] as &[u8]);
        assert_eq!(packet.body_range(), 40..40);
    }

    #[test]
    fn construct() {
        let mut bytes = TRAFFIC;
        let mut packet = Packet::new_unchecked(&mut bytes[..]);
        packet.set_flags(Flags::CISCO_NAT);
        packet.set_request_id(0xdead_beef);
        assert_eq!(packet.request_id(), 0xdead_beef);
        assert_eq!(packet.error_code(), ErrorCode(0xdead));
        assert_eq!(packet.error_offset(), 0xbeef);
        packet.set_error_code(ErrorCode::AUTHENTICATION_FAILURE);
        packet.set_error_offset(20);
        assert_eq!(packet.request_id(), 0x000b_0014);
        packet.set_traffic_code(TrafficCode(7));
        assert_eq!(packet.request_id(), 0x0007_0000);
        packet.src_nbma_mut().copy_from_slice(&[1, 2, 3, 4]);
        packet.src_nbma_sub_mut().copy_from_slice(&[]);
        packet.src_proto_mut().copy_from_slice(&[5, 6, 7, 8]);
        packet.dst_proto_mut().copy_from_slice(&[9, 10, 11, 12]);
        assert!(packet.body_mut().is_empty());
        packet.set_src_proto_len(0);
        packet.set_dst_proto_len(0);
        assert_eq!(packet.body_range(), 32..40);
        assert_eq!(bytes[22..24], [0x00, 0x02]);
        assert_eq!(bytes[28..40], [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12]);
    }

    #[test]
    fn zero_copy_walkers() {
        // packetlife NHRP_registration.cap frame 1 (Registration Request).
        let bytes = crate::message::tests::PACKETLIFE_REGISTRATION_REQUEST;
        let packet = Packet::new_checked(&bytes[..]).unwrap();
        let cies: Vec<_> = packet.cie_iter().collect::<Result<_, _>>().unwrap();
        assert_eq!(cies.len(), 1);
        assert_eq!(cies[0].holding_time, 7200);
        let types: Vec<u16> = packet
            .extension_iter()
            .map(|ext| ext.unwrap().value.ty().0)
            .collect();
        assert_eq!(types, [3, 4, 5, 9, 0]);
        let mut no_ext = bytes;
        no_ext[14..16].fill(0);
        assert_eq!(
            Packet::new_checked(&no_ext[..])
                .unwrap()
                .extension_iter()
                .count(),
            0
        );
        // Without `ar$extoff` the extensions are read as CIEs, and the walker reports where that fails.
        let err = Packet::new_checked(&no_ext[..])
            .unwrap()
            .cie_iter()
            .nth(1)
            .unwrap()
            .unwrap_err();
        // The second "CIE" starts at 52 (the Responder Address header); its NBMA type/length byte
        // at 60 is 0x80, whose reserved bit is set.
        assert_eq!(err.offset(), 60);
        assert_eq!(err.field(), Some("client NBMA type/length"));
    }

    #[test]
    fn addresses_print() {
        assert_eq!(Address(&[10, 0, 0, 1]).to_string(), "10.0.0.1");
        assert_eq!(Address(&[0; 16]).to_string(), "::");
        assert_eq!(Address(&[]).to_string(), "-");
        assert_eq!(format!("{:?}", Address(&[0xab, 0x01])), "ab01");
        let e164 = NbmaAddress {
            format: AddressFormat::E164,
            bytes: &[1, 2],
        };
        assert_eq!(e164.type_len(), 0x42);
        assert_eq!(e164.display().to_string(), "0102");
        assert_eq!(e164.ipv4(), None);
    }
}
