//! The packet view and its fixed header (RFC 2332 §5.1).
//!
//! ```text
//!  0                   1                   2                   3
//!  0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
//! +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//! |            ar$afn             |          ar$pro.type          |
//! +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//! |                          ar$pro.snap                          |
//! +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//! |  ar$pro.snap  |   ar$hopcnt   |            ar$pktsz           |
//! +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//! |           ar$chksum           |            ar$extoff          |
//! +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//! | ar$op.version |   ar$op.type  |    ar$shtl    |    ar$sstl    |
//! +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//! ```
//!
//! The same [`Packet`] view also reads the mandatory part that follows (see `mandatory.rs`), the
//! CIE list or indication payload and the extension area, whose positions depend on the length
//! fields; [`Packet::check_len`] validates all of them against the real buffer length.

use core::ops::Range;

use dmvpn_wire::field::check_length;
use dmvpn_wire::{Error, Layer, Result, checksum};

use crate::consts::{AddressFamily, AddressFormat, OpType, ProtocolType};

/// Byte positions of the fixed header and of the fixed 8 bytes of the mandatory part.
pub mod field {
    use dmvpn_wire::field::Field;

    /// `ar$afn`: the NBMA address family.
    pub const AFN: Field = 0..2;
    /// `ar$pro.type`: the protocol (tunnel address) type.
    pub const PRO_TYPE: Field = 2..4;
    /// `ar$pro.snap`: the long-form protocol type, meaningful when `ar$pro.type` is 0x0080.
    pub const PRO_SNAP: Field = 4..9;
    /// `ar$hopcnt`.
    pub const HOP_COUNT: usize = 9;
    /// `ar$pktsz`: the length of the whole NHRP packet, header and extensions included.
    pub const PACKET_SIZE: Field = 10..12;
    /// `ar$chksum`: the Internet checksum over `ar$pktsz` bytes.
    pub const CHECKSUM: Field = 12..14;
    /// `ar$extoff`: where the extensions start, or 0 for none.
    pub const EXTENSION_OFFSET: Field = 14..16;
    /// `ar$op.version`: 1.
    pub const VERSION: usize = 16;
    /// `ar$op.type`.
    pub const OP_TYPE: usize = 17;
    /// `ar$shtl`: type and length of the source NBMA address.
    pub const SHTL: usize = 18;
    /// `ar$sstl`: type and length of the source NBMA subaddress.
    pub const SSTL: usize = 19;
    /// Length of the fixed header.
    pub const HEADER_LEN: usize = 20;

    /// Mandatory part: `Src Proto Len`.
    pub const SRC_PROTO_LEN: usize = 20;
    /// Mandatory part: `Dst Proto Len`.
    pub const DST_PROTO_LEN: usize = 21;
    /// Mandatory part: `Flags` (unused in the indications).
    pub const FLAGS: Field = 22..24;
    /// Mandatory part: `Request ID` (types 1–6).
    pub const REQUEST_ID: Field = 24..28;
    /// Mandatory part of an Error Indication: `Error Code`.
    pub const ERROR_CODE: Field = 24..26;
    /// Mandatory part of an Error Indication: `Error Offset`.
    pub const ERROR_OFFSET: Field = 26..28;
    /// Mandatory part of a Traffic Indication: `Traffic Code`.
    pub const TRAFFIC_CODE: Field = 24..26;
    /// Where the variable-length addresses of the mandatory part start.
    pub const ADDRESSES: usize = 28;
}

/// Protocol version in `ar$op.version` (RFC 2332 §5.1).
pub const VERSION: u8 = 1;

const TL_TYPE: u8 = 0x40;
const TL_LEN: u8 = 0x3f;
const TL_RESERVED: u8 = 0x80;

/// Splits an NBMA type/length byte (RFC 2332 §5.1: bit 0x80 reserved, 0x40 the E.164 flag,
/// 0x3f the length).
pub(crate) const fn type_len(tl: u8) -> (AddressFormat, usize) {
    let format = if tl & TL_TYPE != 0 {
        AddressFormat::E164
    } else {
        AddressFormat::Nsap
    };
    (format, (tl & TL_LEN) as usize)
}

/// Builds a type/length byte; lengths above 63 do not fit and are cut to 6 bits.
pub(crate) const fn make_type_len(format: AddressFormat, len: usize) -> u8 {
    let ty = match format {
        AddressFormat::Nsap => 0,
        AddressFormat::E164 => TL_TYPE,
    };
    ty | (len as u8 & TL_LEN)
}

/// Checks that `ar$extoff` (`extoff`) is 0 or lies between the end of the fixed mandatory bytes
/// and `ar$pktsz` (`size`).
pub(crate) fn check_extension_offset(extoff: usize, size: usize) -> Result<()> {
    if extoff != 0 && !(field::ADDRESSES..=size).contains(&extoff) {
        return Err(Error::invalid_field(
            Layer::Nhrp,
            "extension offset",
            field::EXTENSION_OFFSET.start,
            extoff as u32,
        ));
    }
    Ok(())
}

/// Checks the reserved bits of `ar$shtl` and `ar$sstl` in a packet at least
/// [`field::ADDRESSES`] long.
pub(crate) fn check_source_type_lens(data: &[u8]) -> Result<()> {
    check_type_len(data[field::SHTL], "source NBMA type/length", field::SHTL)?;
    check_type_len(
        data[field::SSTL],
        "source NBMA subaddress type/length",
        field::SSTL,
    )?;
    Ok(())
}

/// Rejects a type/length byte with its reserved bit set.
pub(crate) fn check_type_len(tl: u8, field: &'static str, offset: usize) -> Result<usize> {
    if tl & TL_RESERVED != 0 {
        return Err(Error::InvalidField {
            layer: Layer::Nhrp,
            field,
            offset,
            value: tl.into(),
        });
    }
    Ok(type_len(tl).1)
}

dmvpn_wire::view! {
    /// A read/write view of an NHRP packet.
    ///
    /// Accessors on a view made with [`Packet::new_unchecked`] may panic if the buffer is too short;
    /// [`Packet::new_checked`] validates every length first, after which no accessor panics.
    #[derive(Clone, Copy, Debug, Eq, PartialEq)]
    pub struct Packet, error = Error;
}

impl<T: AsRef<[u8]>> Packet<T> {
    /// Checks every length field against the buffer, so that no accessor can panic:
    ///
    /// - the fixed header and the 8 fixed bytes of the mandatory part are there;
    /// - `ar$pktsz` is at least 28 and at most the buffer length (bytes after it are the
    ///   caller's: a GRE payload ends where the NHRP packet does);
    /// - `ar$extoff` is 0 or lies between the end of the fixed mandatory bytes and `ar$pktsz`;
    /// - the reserved bits of `ar$shtl`/`ar$sstl` are clear and the four addresses of the
    ///   mandatory part end before the extensions (or the packet) do.
    pub fn check_len(&self) -> Result<()> {
        let data = self.buffer.as_ref();
        dmvpn_wire::check_fields!(
            Layer::Nhrp,
            data.len(),
            [("fixed header", 0..field::HEADER_LEN)]
        );
        let size = usize::from(self.packet_size());
        if size < field::HEADER_LEN {
            return Err(Error::invalid_field(
                Layer::Nhrp,
                "packet size",
                field::PACKET_SIZE.start,
                size as u32,
            ));
        }
        check_length(
            Layer::Nhrp,
            "packet size",
            field::PACKET_SIZE.start,
            size,
            0..=data.len(),
        )?;
        check_extension_offset(usize::from(self.extension_offset()), size)?;
        let end = self.mandatory_end();
        dmvpn_wire::check_fields!(
            Layer::Nhrp,
            end,
            [("mandatory part", field::HEADER_LEN..field::ADDRESSES)]
        );
        check_source_type_lens(data)?;
        let fields = [
            ("source NBMA address", self.src_nbma_range()),
            ("source NBMA subaddress", self.src_nbma_sub_range()),
            ("source protocol address", self.src_proto_range()),
            ("destination protocol address", self.dst_proto_range()),
        ];
        dmvpn_wire::check_fields!(Layer::Nhrp, end, fields);
        Ok(())
    }

    pub(crate) fn as_bytes(&self) -> &[u8] {
        self.buffer.as_ref()
    }

    dmvpn_wire::getters! {
        /// `ar$afn`: the NBMA address family.
        pub fn afn -> AddressFamily(u16) = field::AFN;
        /// `ar$pro.type`: the protocol type.
        pub fn protocol_type -> ProtocolType(u16) = field::PRO_TYPE;
    }

    /// `ar$pro.snap`, all five bytes (zero unless the protocol type is [`ProtocolType::SNAP`]).
    pub fn protocol_snap(&self) -> [u8; 5] {
        let mut snap = [0; 5];
        snap.copy_from_slice(&self.buffer.as_ref()[field::PRO_SNAP]);
        snap
    }

    /// The long-form protocol as (OUI, PID) when the protocol type is [`ProtocolType::SNAP`].
    pub fn snap_protocol(&self) -> Option<(u32, u16)> {
        (self.protocol_type() == ProtocolType::SNAP).then(|| split_snap(self.protocol_snap()))
    }

    dmvpn_wire::getters! {
        /// `ar$hopcnt`.
        pub fn hop_count -> u8 = field::HOP_COUNT;
        /// `ar$pktsz`.
        pub fn packet_size -> u16 = field::PACKET_SIZE;
        /// `ar$chksum`.
        pub fn checksum -> u16 = field::CHECKSUM;
        /// `ar$extoff` (0: no extensions).
        pub fn extension_offset -> u16 = field::EXTENSION_OFFSET;
        /// `ar$op.version`.
        pub fn version -> u8 = field::VERSION;
        /// `ar$op.type`.
        pub fn op_type -> OpType(u8) = field::OP_TYPE;
        /// `ar$shtl`, raw.
        pub fn shtl -> u8 = field::SHTL;
        /// `ar$sstl`, raw.
        pub fn sstl -> u8 = field::SSTL;
    }

    /// Format and length of the source NBMA address, from `ar$shtl`.
    pub fn src_nbma_type_len(&self) -> (AddressFormat, usize) {
        type_len(self.shtl())
    }

    /// Format and length of the source NBMA subaddress, from `ar$sstl`.
    pub fn src_nbma_sub_type_len(&self) -> (AddressFormat, usize) {
        type_len(self.sstl())
    }

    /// Where the mandatory part ends: `ar$extoff`, or `ar$pktsz` without extensions.
    pub fn mandatory_end(&self) -> usize {
        match self.extension_offset() {
            0 => usize::from(self.packet_size()),
            extoff => usize::from(extoff),
        }
    }

    /// The extension area, `ar$extoff..ar$pktsz`, if `ar$extoff` is not 0.
    pub fn extensions_range(&self) -> Option<Range<usize>> {
        match self.extension_offset() {
            0 => None,
            extoff => Some(usize::from(extoff)..usize::from(self.packet_size())),
        }
    }

    /// Whether the checksum over `ar$pktsz` bytes is right.
    pub fn verify_checksum(&self) -> bool {
        checksum::verify(&self.buffer.as_ref()[..usize::from(self.packet_size())])
    }

    /// The checksum the packet should carry (computed as if the field were zero).
    pub fn compute_checksum(&self) -> u16 {
        let data = &self.buffer.as_ref()[..usize::from(self.packet_size())];
        checksum::compute_without(data, &field::CHECKSUM)
    }
}

impl<'a, T: AsRef<[u8]> + ?Sized> Packet<&'a T> {
    /// The whole NHRP packet, `ar$pktsz` bytes.
    pub fn packet(&self) -> &'a [u8] {
        &self.buffer.as_ref()[..usize::from(self.packet_size())]
    }

    /// The extension area, if `ar$extoff` is not 0.
    pub fn extensions(&self) -> Option<&'a [u8]> {
        let range = self.extensions_range()?;
        Some(&self.buffer.as_ref()[range])
    }
}

impl<T: AsRef<[u8]> + AsMut<[u8]>> Packet<T> {
    pub(crate) fn as_bytes_mut(&mut self) -> &mut [u8] {
        self.buffer.as_mut()
    }

    dmvpn_wire::setters! {
        /// Sets `ar$afn`.
        pub fn set_afn(AddressFamily(u16)) = field::AFN;
        /// Sets `ar$pro.type`.
        pub fn set_protocol_type(ProtocolType(u16)) = field::PRO_TYPE;
    }

    /// Sets `ar$pro.snap`.
    pub fn set_protocol_snap(&mut self, value: [u8; 5]) {
        self.buffer.as_mut()[field::PRO_SNAP].copy_from_slice(&value);
    }

    dmvpn_wire::setters! {
        /// Sets `ar$hopcnt`.
        pub fn set_hop_count(u8) = field::HOP_COUNT;
        /// Sets `ar$pktsz`.
        pub fn set_packet_size(u16) = field::PACKET_SIZE;
        /// Sets `ar$chksum`.
        pub fn set_checksum(u16) = field::CHECKSUM;
        /// Sets `ar$extoff`.
        pub fn set_extension_offset(u16) = field::EXTENSION_OFFSET;
        /// Sets `ar$op.version`.
        pub fn set_version(u8) = field::VERSION;
        /// Sets `ar$op.type`.
        pub fn set_op_type(OpType(u8)) = field::OP_TYPE;
        /// Sets `ar$shtl`, raw.
        pub fn set_shtl(u8) = field::SHTL;
        /// Sets `ar$sstl`, raw.
        pub fn set_sstl(u8) = field::SSTL;
    }

    /// Computes and stores the checksum over `ar$pktsz` bytes; call it last.
    pub fn fill_checksum(&mut self) {
        self.set_checksum(0);
        let sum = self.compute_checksum();
        self.set_checksum(sum);
    }
}

/// Splits `ar$pro.snap` into OUI and PID.
#[must_use]
pub const fn split_snap(snap: [u8; 5]) -> (u32, u16) {
    (
        u32::from_be_bytes([0, snap[0], snap[1], snap[2]]),
        u16::from_be_bytes([snap[3], snap[4]]),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    dmvpn_wire::hex_consts! {
        // packetlife NHRP_registration.cap frame 1: the first 28 bytes (fixed header + mandatory fixed part).
        const HEADER: [u8; 28] = "000108000000000000ff005c79fe0034010304000404800200000006";
    }

    fn sample() -> Vec<u8> {
        // A header that claims exactly its own 40 bytes, with no extensions.
        let mut bytes = HEADER.to_vec();
        bytes.extend_from_slice(&[10, 0, 0, 1, 172, 16, 0, 2, 172, 16, 0, 1]);
        bytes[10..12].copy_from_slice(&40u16.to_be_bytes());
        bytes[14..16].copy_from_slice(&0u16.to_be_bytes());
        bytes
    }

    #[test]
    fn deconstruct() {
        let bytes = sample();
        let packet = Packet::new_checked(&bytes[..]).unwrap();
        assert_eq!(packet.afn(), AddressFamily::IPV4);
        assert_eq!(packet.protocol_type(), ProtocolType::IPV4);
        assert_eq!(packet.protocol_snap(), [0; 5]);
        assert_eq!(packet.snap_protocol(), None);
        assert_eq!(packet.hop_count(), 255);
        assert_eq!(packet.packet_size(), 40);
        assert_eq!(packet.extension_offset(), 0);
        assert_eq!(packet.version(), 1);
        assert_eq!(packet.op_type(), OpType::REGISTRATION_REQUEST);
        assert_eq!(packet.src_nbma_type_len(), (AddressFormat::Nsap, 4));
        assert_eq!(packet.src_nbma_sub_type_len(), (AddressFormat::Nsap, 0));
        assert_eq!(packet.mandatory_end(), 40);
        assert_eq!(packet.extensions(), None);
        assert_eq!(packet.packet().len(), 40);
    }

    #[test]
    fn construct_and_checksum() {
        let mut bytes = [0u8; 40];
        bytes[20..].copy_from_slice(&sample()[20..]);
        let mut packet = Packet::new_unchecked(&mut bytes[..]);
        packet.set_afn(AddressFamily::IPV4);
        packet.set_protocol_type(ProtocolType::SNAP);
        packet.set_protocol_snap([0x00, 0x00, 0x0c, 0x20, 0x01]);
        packet.set_hop_count(3);
        packet.set_packet_size(40);
        packet.set_extension_offset(40);
        packet.set_version(VERSION);
        packet.set_op_type(OpType::PURGE_REQUEST);
        packet.set_shtl(0x04);
        packet.set_sstl(0x40);
        packet.fill_checksum();
        assert!(packet.verify_checksum());
        assert_eq!(packet.snap_protocol(), Some((0x00000c, 0x2001)));
        assert_eq!(packet.src_nbma_sub_type_len(), (AddressFormat::E164, 0));
        assert_eq!(packet.extensions_range(), Some(40..40));
        let sum = packet.checksum();
        packet.set_hop_count(2);
        assert!(!packet.verify_checksum());
        assert_ne!(packet.compute_checksum(), sum);
        assert_eq!(&bytes[..4], &[0x00, 0x01, 0x00, 0x80]);
    }

    #[test]
    fn check_len_errors() {
        let bytes = sample();
        assert_eq!(
            Packet::new_checked(&bytes[..19]).unwrap_err(),
            Error::Truncated {
                layer: Layer::Nhrp,
                field: "fixed header",
                offset: 0,
                needed: 20,
                available: 19
            }
        );
        let mut short = bytes.clone();
        short[10..12].copy_from_slice(&19u16.to_be_bytes());
        assert_eq!(
            Packet::new_checked(&short[..]).unwrap_err(),
            Error::invalid_field(Layer::Nhrp, "packet size", 10, 19)
        );
        assert_eq!(
            Packet::new_checked(&bytes[..39]).unwrap_err(),
            Error::bad_length(Layer::Nhrp, "packet size", 10, 40, 39)
        );
        let mut ext = bytes.clone();
        ext[14..16].copy_from_slice(&41u16.to_be_bytes());
        assert_eq!(
            Packet::new_checked(&ext[..]).unwrap_err(),
            Error::invalid_field(Layer::Nhrp, "extension offset", 14, 41)
        );
        ext[14..16].copy_from_slice(&27u16.to_be_bytes());
        assert_eq!(
            Packet::new_checked(&ext[..]).unwrap_err().field(),
            Some("extension offset")
        );
        let mut tiny = bytes.clone();
        tiny[10..12].copy_from_slice(&24u16.to_be_bytes());
        assert_eq!(
            Packet::new_checked(&tiny[..]).unwrap_err(),
            Error::Truncated {
                layer: Layer::Nhrp,
                field: "mandatory part",
                offset: 20,
                needed: 8,
                available: 4
            }
        );
        let mut reserved = bytes.clone();
        reserved[18] = 0x84;
        assert_eq!(
            Packet::new_checked(&reserved[..]).unwrap_err(),
            Error::invalid_field(Layer::Nhrp, "source NBMA type/length", 18, 0x84)
        );
        let mut addr = bytes;
        addr[21] = 5;
        assert_eq!(
            Packet::new_checked(&addr[..]).unwrap_err(),
            Error::Truncated {
                layer: Layer::Nhrp,
                field: "destination protocol address",
                offset: 36,
                needed: 5,
                available: 4
            }
        );
    }

    #[test]
    fn trailing_buffer_bytes_are_outside_the_packet() {
        let mut bytes = sample();
        bytes.extend_from_slice(&[0xee; 3]);
        let packet = Packet::new_checked(&bytes[..]).unwrap();
        assert_eq!(packet.packet().len(), 40);
        assert_eq!(packet.into_inner().len(), 43);
    }

    #[test]
    fn type_len_bits() {
        assert_eq!(type_len(0x44), (AddressFormat::E164, 4));
        assert_eq!(make_type_len(AddressFormat::E164, 4), 0x44);
        assert_eq!(make_type_len(AddressFormat::Nsap, 63), 63);
        assert_eq!(check_type_len(0x3f, "x", 3), Ok(63));
    }
}
