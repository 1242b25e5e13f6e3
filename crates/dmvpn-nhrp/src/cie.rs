//! Client Information Entries (RFC 2332 §5.2.0.1).
//!
//! ```text
//!  0                   1                   2                   3
//!  0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
//! +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//! |     Code      | Prefix Length |        unused                 |
//! +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//! |  Maximum Transmission Unit    |        Holding Time           |
//! +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//! |  Cli Addr T/L | Cli SAddr T/L | Cli Proto Len |  Preference   |
//! +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//! |            Client NBMA Address (variable length)              |
//! |           Client NBMA Subaddress (variable length)            |
//! |          Client Protocol Address (variable length)            |
//! +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//! ```
//!
//! CIEs follow the mandatory part of types 1–6 and fill the Responder Address, Transit NHS Record
//! and Cisco NAT Address extensions. Each CIE carries its own address lengths, so a list is just
//! bytes: [`Iter`] walks it, bounding every entry by what is left.

use core::ops::Range;

use dmvpn_wire::list::{self, Entry, List};
use dmvpn_wire::{Error, Layer, Result};

use crate::consts::CieCode;
use crate::header::{check_type_len, type_len};
use crate::mandatory::NbmaAddress;

/// Byte positions in a CIE.
pub mod field {
    use dmvpn_wire::field::Field;

    /// `Code`.
    pub const CODE: usize = 0;
    /// `Prefix Length`.
    pub const PREFIX_LEN: usize = 1;
    /// `unused`.
    pub const UNUSED: Field = 2..4;
    /// `Maximum Transmission Unit`.
    pub const MTU: Field = 4..6;
    /// `Holding Time`, seconds.
    pub const HOLDING_TIME: Field = 6..8;
    /// `Cli Addr T/L`.
    pub const NBMA_TL: usize = 8;
    /// `Cli SAddr T/L`.
    pub const NBMA_SUB_TL: usize = 9;
    /// `Cli Proto Len`.
    pub const PROTO_LEN: usize = 10;
    /// `Preference`.
    pub const PREFERENCE: usize = 11;
    /// Length of the fixed part.
    pub const HEADER_LEN: usize = 12;
}

dmvpn_wire::view! {
    /// A read/write view of one CIE at the start of a buffer (which may hold more after it).
    #[derive(Clone, Copy, Debug, Eq, PartialEq)]
    pub struct Cie, error = Error;
}

impl<T: AsRef<[u8]>> Cie<T> {
    /// Checks that the fixed part and the three addresses it announces are in the buffer, and
    /// that the reserved bits of the type/length bytes are clear. Offsets are relative to the CIE.
    pub fn check_len(&self) -> Result<()> {
        let data = self.buffer.as_ref();
        dmvpn_wire::check_fields!(
            Layer::Nhrp,
            data.len(),
            [("client information entry", 0..field::HEADER_LEN)]
        );
        check_type_len(
            data[field::NBMA_TL],
            "client NBMA type/length",
            field::NBMA_TL,
        )?;
        check_type_len(
            data[field::NBMA_SUB_TL],
            "client NBMA subaddress type/length",
            field::NBMA_SUB_TL,
        )?;
        let fields = [
            ("client NBMA address", self.nbma_range()),
            ("client NBMA subaddress", self.nbma_sub_range()),
            ("client protocol address", self.proto_range()),
        ];
        dmvpn_wire::check_fields!(Layer::Nhrp, data.len(), fields);
        Ok(())
    }

    dmvpn_wire::getters! {
        /// `Code`.
        pub fn code -> CieCode(u8) = field::CODE;
        /// `Prefix Length`.
        pub fn prefix_len -> u8 = field::PREFIX_LEN;
        /// The 16 `unused` bits.
        pub fn unused -> u16 = field::UNUSED;
        /// `Maximum Transmission Unit`.
        pub fn mtu -> u16 = field::MTU;
        /// `Holding Time`, seconds.
        pub fn holding_time -> u16 = field::HOLDING_TIME;
        /// `Cli Addr T/L`, raw.
        pub fn nbma_type_len -> u8 = field::NBMA_TL;
        /// `Cli SAddr T/L`, raw.
        pub fn nbma_sub_type_len -> u8 = field::NBMA_SUB_TL;
        /// `Cli Proto Len`.
        pub fn proto_len -> u8 = field::PROTO_LEN;
        /// `Preference`.
        pub fn preference -> u8 = field::PREFERENCE;
    }

    /// Position of the client NBMA address.
    pub fn nbma_range(&self) -> Range<usize> {
        let start = field::HEADER_LEN;
        start..start + type_len(self.nbma_type_len()).1
    }

    /// Position of the client NBMA subaddress.
    pub fn nbma_sub_range(&self) -> Range<usize> {
        let start = self.nbma_range().end;
        start..start + type_len(self.nbma_sub_type_len()).1
    }

    /// Position of the client protocol address.
    pub fn proto_range(&self) -> Range<usize> {
        let start = self.nbma_sub_range().end;
        start..start + usize::from(self.proto_len())
    }

    /// The length of this CIE, addresses included.
    pub fn total_len(&self) -> usize {
        self.proto_range().end
    }
}

impl<'a, T: AsRef<[u8]> + ?Sized> Cie<&'a T> {
    /// The client NBMA address with its format.
    pub fn nbma(&self) -> NbmaAddress<'a> {
        NbmaAddress {
            format: type_len(self.nbma_type_len()).0,
            bytes: &self.buffer.as_ref()[self.nbma_range()],
        }
    }

    /// The client NBMA subaddress with its format.
    pub fn nbma_sub(&self) -> NbmaAddress<'a> {
        NbmaAddress {
            format: type_len(self.nbma_sub_type_len()).0,
            bytes: &self.buffer.as_ref()[self.nbma_sub_range()],
        }
    }

    /// The client protocol address.
    pub fn proto(&self) -> &'a [u8] {
        &self.buffer.as_ref()[self.proto_range()]
    }
}

impl<T: AsRef<[u8]> + AsMut<[u8]>> Cie<T> {
    dmvpn_wire::setters! {
        /// Sets `Code`.
        pub fn set_code(CieCode(u8)) = field::CODE;
        /// Sets `Prefix Length`.
        pub fn set_prefix_len(u8) = field::PREFIX_LEN;
        /// Sets the `unused` bits.
        pub fn set_unused(u16) = field::UNUSED;
        /// Sets `Maximum Transmission Unit`.
        pub fn set_mtu(u16) = field::MTU;
        /// Sets `Holding Time`.
        pub fn set_holding_time(u16) = field::HOLDING_TIME;
        /// Sets `Cli Addr T/L`.
        pub fn set_nbma_type_len(u8) = field::NBMA_TL;
        /// Sets `Cli SAddr T/L`.
        pub fn set_nbma_sub_type_len(u8) = field::NBMA_SUB_TL;
        /// Sets `Cli Proto Len`.
        pub fn set_proto_len(u8) = field::PROTO_LEN;
        /// Sets `Preference`.
        pub fn set_preference(u8) = field::PREFERENCE;
    }

    /// The client NBMA address, for writing.
    pub fn nbma_mut(&mut self) -> &mut [u8] {
        let range = self.nbma_range();
        &mut self.buffer.as_mut()[range]
    }

    /// The client NBMA subaddress, for writing.
    pub fn nbma_sub_mut(&mut self) -> &mut [u8] {
        let range = self.nbma_sub_range();
        &mut self.buffer.as_mut()[range]
    }

    /// The client protocol address, for writing.
    pub fn proto_mut(&mut self) -> &mut [u8] {
        let range = self.proto_range();
        &mut self.buffer.as_mut()[range]
    }
}

/// A parsed CIE. The `unused` bits are not kept (they are written as zero).
#[derive(Clone, Copy, Debug, Default, Eq, Hash, PartialEq)]
pub struct Repr<'a> {
    /// `Code`: the result in a reply, zero in a request.
    pub code: CieCode,
    /// `Prefix Length`: 0xff with the uniqueness flag (RFC 2332 §5.2.1, §5.2.3).
    pub prefix_len: u8,
    /// `Maximum Transmission Unit`.
    pub mtu: u16,
    /// `Holding Time`, seconds.
    pub holding_time: u16,
    /// Client NBMA address.
    pub nbma: NbmaAddress<'a>,
    /// Client NBMA subaddress.
    pub nbma_sub: NbmaAddress<'a>,
    /// Client protocol address.
    pub proto: &'a [u8],
    /// `Preference`.
    pub preference: u8,
}

impl<'a> Repr<'a> {
    /// Parses a checked view.
    pub fn parse<T: AsRef<[u8]> + ?Sized>(cie: &Cie<&'a T>) -> Result<Self> {
        cie.check_len()?;
        Ok(Self {
            code: cie.code(),
            prefix_len: cie.prefix_len(),
            mtu: cie.mtu(),
            holding_time: cie.holding_time(),
            nbma: cie.nbma(),
            nbma_sub: cie.nbma_sub(),
            proto: cie.proto(),
            preference: cie.preference(),
        })
    }

    /// The length [`Repr::emit`] writes.
    #[must_use]
    pub const fn buffer_len(&self) -> usize {
        field::HEADER_LEN + self.nbma.bytes.len() + self.nbma_sub.bytes.len() + self.proto.len()
    }

    /// Writes the CIE into a buffer of at least [`Repr::buffer_len`] bytes. Addresses longer than
    /// their length fields allow (63 bytes for NBMA, 255 for protocol) are not representable;
    /// callers must not build them.
    pub fn emit<T: AsRef<[u8]> + AsMut<[u8]>>(&self, cie: &mut Cie<T>) {
        debug_assert!(
            self.nbma.bytes.len() < 64 && self.nbma_sub.bytes.len() < 64 && self.proto.len() < 256
        );
        cie.set_code(self.code);
        cie.set_prefix_len(self.prefix_len);
        cie.set_unused(0);
        cie.set_mtu(self.mtu);
        cie.set_holding_time(self.holding_time);
        cie.set_nbma_type_len(self.nbma.type_len());
        cie.set_nbma_sub_type_len(self.nbma_sub.type_len());
        cie.set_proto_len(self.proto.len() as u8);
        cie.set_preference(self.preference);
        cie.nbma_mut().copy_from_slice(self.nbma.bytes);
        cie.nbma_sub_mut().copy_from_slice(self.nbma_sub.bytes);
        cie.proto_mut().copy_from_slice(self.proto);
    }
}

impl<'a> Entry<'a> for Repr<'a> {
    type Ctx = ();
    const LAYER: Layer = Layer::Nhrp;

    fn parse_entry(bytes: &'a [u8], offset: usize, (): ()) -> Result<(Self, usize)> {
        let cie = Cie::new_unchecked(bytes);
        let repr = Self::parse(&cie).map_err(|err| err.at_offset(offset))?;
        Ok((repr, cie.total_len()))
    }

    fn entry_len(&self, (): ()) -> usize {
        self.buffer_len()
    }

    fn emit_entry(&self, buf: &mut [u8], (): ()) {
        self.emit(&mut Cie::new_unchecked(buf));
    }
}

/// Walks a CIE list over borrowed bytes, yielding each entry or the first error; every entry is
/// bounded by the bytes left in the list. Error offsets are counted from `base` of [`Iter::new`].
pub type Iter<'a> = list::Iter<'a, Repr<'a>>;

/// A list of CIEs: either validated wire bytes (from [`CieList::parse`], no allocation) or a
/// slice of reprs to emit (from [`CieList::new`]). Two lists are equal when they hold the same
/// entries, whichever form they are in.
pub type CieList<'a> = List<'a, Repr<'a>>;

#[cfg(test)]
mod tests {
    use super::*;
    use crate::consts::AddressFormat;
    use core::net::Ipv4Addr;

    dmvpn_wire::hex_consts! {
        // packetlife NHRP_registration.cap frame 3 (Registration Reply): the CIE of the mandatory part.
        const CIE: [u8; 12] = "00ff000005ea1c2000000000";

        // packetlife NHRP_registration.cap frame 3: the CIE in the Cisco NAT Address extension.
        const NAT_CIE: [u8; 20] = "0020000005ea000004000400ac100f02c0a80001";
    }

    fn nat_repr() -> Repr<'static> {
        Repr {
            code: CieCode::SUCCESS,
            prefix_len: 32,
            mtu: 1514,
            holding_time: 0,
            nbma: NbmaAddress::nsap(&[172, 16, 15, 2]),
            nbma_sub: NbmaAddress::NONE,
            proto: &[192, 168, 0, 1],
            preference: 0,
        }
    }

    #[test]
    fn deconstruct() {
        let cie = Cie::new_checked(&CIE[..]).unwrap();
        assert_eq!(cie.code(), CieCode::SUCCESS);
        assert_eq!(cie.prefix_len(), 0xff);
        assert_eq!(cie.unused(), 0);
        assert_eq!(cie.mtu(), 1514);
        assert_eq!(cie.holding_time(), 7200);
        assert_eq!(cie.nbma(), NbmaAddress::NONE);
        assert_eq!(cie.proto(), &[] as &[u8]);
        assert_eq!(cie.preference(), 0);
        assert_eq!(cie.total_len(), 12);
        let nat = Cie::new_checked(&NAT_CIE[..]).unwrap();
        assert_eq!(nat.nbma().ipv4(), Some(Ipv4Addr::new(172, 16, 15, 2)));
        assert_eq!(nat.proto(), &[192, 168, 0, 1]);
        assert_eq!(nat.total_len(), 20);
    }

    #[test]
    fn parse_emit_round_trip() {
        let repr = Repr::parse(&Cie::new_unchecked(&NAT_CIE[..])).unwrap();
        assert_eq!(repr, nat_repr());
        assert_eq!(repr.buffer_len(), 20);
        let mut out = [0xaa; 20];
        repr.emit(&mut Cie::new_unchecked(&mut out[..]));
        assert_eq!(out, NAT_CIE);
    }

    #[test]
    fn construct_with_subaddress_and_e164() {
        let repr = Repr {
            code: CieCode::ALREADY_REGISTERED,
            prefix_len: 24,
            mtu: 1400,
            holding_time: 600,
            nbma: NbmaAddress {
                format: AddressFormat::E164,
                bytes: &[1, 2, 3],
            },
            nbma_sub: NbmaAddress::nsap(&[9]),
            proto: &[10, 9, 8, 7],
            preference: 5,
        };
        let mut out = vec![0; repr.buffer_len()];
        repr.emit(&mut Cie::new_unchecked(&mut out[..]));
        #[rustfmt::skip]
        let expected = [14, 24, 0, 0, 0x05, 0x78, 0x02, 0x58, 0x43, 0x01, 4, 5, 1, 2, 3, 9, 10, 9, 8, 7];
        assert_eq!(out, expected);
        assert_eq!(Repr::parse(&Cie::new_unchecked(&out[..])).unwrap(), repr);
    }

    #[test]
    fn unused_bits_are_read_but_not_kept() {
        let mut bytes = CIE;
        bytes[2] = 0x12;
        let cie = Cie::new_checked(&bytes[..]).unwrap();
        assert_eq!(cie.unused(), 0x1200);
        let repr = Repr::parse(&cie).unwrap();
        let mut out = [0; 12];
        repr.emit(&mut Cie::new_unchecked(&mut out[..]));
        assert_eq!(out, CIE);
    }

    #[test]
    fn truncation() {
        for len in 0..NAT_CIE.len() {
            let err = Repr::parse(&Cie::new_unchecked(&NAT_CIE[..len])).unwrap_err();
            let expected = match len {
                0..12 => Error::truncated(Layer::Nhrp, "client information entry", 0, 12, len),
                12..16 => Error::truncated(Layer::Nhrp, "client NBMA address", 12, 4, len),
                _ => Error::truncated(Layer::Nhrp, "client protocol address", 16, 4, len),
            };
            assert_eq!(err, expected, "length {len}");
        }
    }

    #[test]
    fn reserved_type_len_bit() {
        let mut bytes = NAT_CIE;
        bytes[9] = 0x80;
        assert_eq!(
            Cie::new_checked(&bytes[..]).unwrap_err(),
            Error::invalid_field(Layer::Nhrp, "client NBMA subaddress type/length", 9, 0x80)
        );
    }

    #[test]
    fn list_iterates_and_reports_offsets() {
        let mut bytes = CIE.to_vec();
        bytes.extend_from_slice(&NAT_CIE);
        let list = CieList::parse(&bytes, 100).unwrap();
        assert_eq!(list.len(), 2);
        assert_eq!(list.first().unwrap().mtu, 1514);
        assert_eq!(list.buffer_len(), 32);
        let mut out = vec![0; 32];
        list.emit(&mut out);
        assert_eq!(out, bytes);
        let reprs = [
            Repr::parse(&Cie::new_unchecked(&CIE[..])).unwrap(),
            nat_repr(),
        ];
        assert_eq!(CieList::new(&reprs), list);
        assert_ne!(CieList::new(&reprs[..1]), list);
        assert!(CieList::EMPTY.is_empty());
        assert_eq!(CieList::default().len(), 0);
        assert!(CieList::parse(&[], 0).unwrap().is_empty());

        let err = CieList::parse(&bytes[..30], 100).unwrap_err();
        assert_eq!(
            err,
            Error::Truncated {
                layer: Layer::Nhrp,
                field: "client protocol address",
                offset: 128,
                needed: 4,
                available: 2
            }
        );
        let mut iter = Iter::new(&bytes[..30], 100);
        assert!(iter.next().unwrap().is_ok());
        assert!(iter.next().unwrap().is_err());
        assert!(iter.next().is_none());
        assert_eq!(format!("{:?}", CieList::EMPTY), "[]");
    }

    #[test]
    fn arbitrary_bytes_never_panic() {
        bolero::check!().for_each(|data: &[u8]| {
            if let Ok(list) = CieList::parse(data, 0) {
                let mut out = vec![0; list.buffer_len()];
                list.emit(&mut out);
                assert_eq!(CieList::parse(&out, 0).unwrap(), list);
            }
        });
    }
}
