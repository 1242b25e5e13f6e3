//! The 20-byte EIGRP header (RFC 7868 §6.5) as a byte-range view over a buffer.

use core::fmt;

use dmvpn_wire::{Error, Layer, Result, checksum};

use crate::consts::{FLAG_CR, FLAG_EOT, FLAG_INIT, FLAG_RS, OpCode};
use crate::tlv::TlvIter;

/// Field positions (RFC 7868 §6.5).
pub mod field {
    use dmvpn_wire::field::{Field, Rest};

    /// Version (2).
    pub const VERSION: usize = 0;
    /// Opcode.
    pub const OPCODE: usize = 1;
    /// Internet checksum over the whole EIGRP packet.
    pub const CHECKSUM: Field = 2..4;
    /// Flags (INIT, CR, RS, EOT).
    pub const FLAGS: Field = 4..8;
    /// Sequence number.
    pub const SEQUENCE: Field = 8..12;
    /// Acknowledgement number.
    pub const ACK: Field = 12..16;
    /// Virtual router ID.
    pub const VRID: Field = 16..18;
    /// Autonomous system number.
    pub const AS: Field = 18..20;
    /// The TLVs.
    pub const TLVS: Rest = 20..;
}

/// Length of the fixed header.
pub const HEADER_LEN: usize = field::TLVS.start;

/// The header flags word (RFC 7868 §6.5); unknown bits are kept.
#[derive(Clone, Copy, Default, Eq, Hash, PartialEq)]
pub struct Flags(pub u32);

impl Flags {
    /// INIT: first Update to a new neighbour.
    pub const INIT: Self = Self(FLAG_INIT);
    /// CR: conditionally received.
    pub const CR: Self = Self(FLAG_CR);
    /// RS: restart.
    pub const RS: Self = Self(FLAG_RS);
    /// EOT: end of table.
    pub const EOT: Self = Self(FLAG_EOT);
}

dmvpn_wire::flag_set!(Flags);

impl fmt::Debug for Flags {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self, f)
    }
}

impl fmt::Display for Flags {
    /// `INIT|EOT`, `none`, or the named bits followed by any unknown bits in hex.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let names = [
            (Self::INIT, "INIT"),
            (Self::CR, "CR"),
            (Self::RS, "RS"),
            (Self::EOT, "EOT"),
        ];
        let mut first = true;
        for (bit, name) in names {
            if self.contains(bit) {
                if !first {
                    f.write_str("|")?;
                }
                f.write_str(name)?;
                first = false;
            }
        }
        let rest = self.0 & !0xf;
        if rest != 0 {
            if !first {
                f.write_str("|")?;
            }
            write!(f, "{rest:#x}")?;
            first = false;
        }
        if first {
            f.write_str("none")?;
        }
        Ok(())
    }
}

dmvpn_wire::view! {
    /// A view of an EIGRP packet: the fixed header and the TLV bytes after it.
    ///
    /// ```
    /// use dmvpn_eigrp::{OpCode, Packet};
    ///
    /// // packetlife EIGRP_goodbye.cap frame 1: a Hello from 10.0.0.1, AS 100.
    /// let bytes = [
    ///     0x02, 0x05, 0xee, 0x68, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x64,
    ///     0x00, 0x01, 0x00, 0x0c, 0x01, 0x00, 0x01, 0x00, 0x00, 0x00, 0x00, 0x0f,
    ///     0x00, 0x04, 0x00, 0x08, 0x0c, 0x04, 0x01, 0x02,
    /// ];
    /// let packet = Packet::new_checked(&bytes[..])?;
    /// assert_eq!(packet.opcode(), OpCode::HELLO);
    /// assert_eq!(packet.autonomous_system(), 100);
    /// assert!(packet.verify_checksum());
    /// # Ok::<(), dmvpn_eigrp::Error>(())
    /// ```
    #[derive(Clone, Copy, Debug, Eq, PartialEq)]
    pub struct Packet, error = Error;
}

impl<T: AsRef<[u8]>> Packet<T> {
    /// Checks that the buffer holds the whole fixed header.
    pub fn check_len(&self) -> Result<()> {
        let len = self.buffer.as_ref().len();
        if len < HEADER_LEN {
            return Err(Error::truncated(Layer::Eigrp, "header", 0, HEADER_LEN, len));
        }
        Ok(())
    }

    dmvpn_wire::getters! {
        /// The version (2 for every EIGRP seen).
        pub fn version -> u8 = field::VERSION;
        /// The opcode.
        pub fn opcode -> OpCode(u8) = field::OPCODE;
        /// The checksum field.
        pub fn checksum -> u16 = field::CHECKSUM;
        /// The flags word.
        pub fn flags -> Flags(u32) = field::FLAGS;
        /// The sequence number.
        pub fn sequence -> u32 = field::SEQUENCE;
        /// The acknowledgement number.
        pub fn ack -> u32 = field::ACK;
        /// The virtual router ID.
        pub fn virtual_router_id -> u16 = field::VRID;
        /// The autonomous system number.
        pub fn autonomous_system -> u16 = field::AS;
    }

    /// Whether the checksum covers the packet correctly (the whole buffer is the EIGRP packet).
    pub fn verify_checksum(&self) -> bool {
        checksum::verify(self.buffer.as_ref())
    }

    /// The checksum the packet should carry: computed with the checksum field taken as zero.
    pub fn compute_checksum(&self) -> u16 {
        checksum::compute_without(self.buffer.as_ref(), &field::CHECKSUM)
    }
}

impl<'a, T: AsRef<[u8]> + ?Sized> Packet<&'a T> {
    /// The TLV bytes.
    pub fn tlv_bytes(&self) -> &'a [u8] {
        &self.buffer.as_ref()[field::TLVS]
    }

    /// The TLVs, parsed lazily; offsets in errors count from the start of the EIGRP header.
    pub fn tlvs(&self) -> TlvIter<'a> {
        TlvIter::with_base(self.tlv_bytes(), HEADER_LEN)
    }
}

impl<T: AsRef<[u8]> + AsMut<[u8]>> Packet<T> {
    dmvpn_wire::setters! {
        /// Sets the version.
        pub fn set_version(u8) = field::VERSION;
        /// Sets the opcode.
        pub fn set_opcode(OpCode(u8)) = field::OPCODE;
        /// Sets the checksum field.
        pub fn set_checksum(u16) = field::CHECKSUM;
        /// Sets the flags.
        pub fn set_flags(Flags(u32)) = field::FLAGS;
        /// Sets the sequence number.
        pub fn set_sequence(u32) = field::SEQUENCE;
        /// Sets the acknowledgement number.
        pub fn set_ack(u32) = field::ACK;
        /// Sets the virtual router ID.
        pub fn set_virtual_router_id(u16) = field::VRID;
        /// Sets the autonomous system number.
        pub fn set_autonomous_system(u16) = field::AS;
    }

    /// Computes and stores the checksum; call after everything else (and after any digest) is written.
    pub fn fill_checksum(&mut self) {
        self.set_checksum(0);
        let sum = checksum::compute(self.buffer.as_ref());
        self.set_checksum(sum);
    }

    /// The TLV bytes, writable.
    pub fn tlv_bytes_mut(&mut self) -> &mut [u8] {
        &mut self.buffer.as_mut()[field::TLVS]
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    dmvpn_wire::hex_consts! {
        // packetlife EIGRP_adjacency.cap frame 18: Hello from 10.0.0.2 with Parameters, Software Version,
        // Sequence (one IPv4 address, 10.0.0.1) and Next Multicast Sequence 25.
        const HELLO_SEQ: [u8; 57] = "0205c352000000000000000000000000000000640001000c010001000000000f000400080c04010200030009040a0000010005000800000019";
    }

    #[test]
    fn deconstruct() {
        let p = Packet::new_checked(&HELLO_SEQ[..]).unwrap();
        assert_eq!(p.version(), 2);
        assert_eq!(p.opcode(), OpCode::HELLO);
        assert_eq!(p.checksum(), 0xc352);
        assert_eq!(p.flags(), Flags(0));
        assert_eq!((p.sequence(), p.ack()), (0, 0));
        assert_eq!(p.virtual_router_id(), 0);
        assert_eq!(p.autonomous_system(), 100);
        assert!(p.verify_checksum());
        assert_eq!(p.compute_checksum(), 0xc352);
        assert_eq!(p.tlv_bytes().len(), 37);
    }

    #[test]
    fn construct() {
        let mut buf = HELLO_SEQ;
        buf[..HEADER_LEN].fill(0xaa);
        let mut p = Packet::new_unchecked(&mut buf[..]);
        p.set_version(2);
        p.set_opcode(OpCode::HELLO);
        p.set_flags(Flags(0));
        p.set_sequence(0);
        p.set_ack(0);
        p.set_virtual_router_id(0);
        p.set_autonomous_system(100);
        p.fill_checksum();
        assert_eq!(buf, HELLO_SEQ);
    }

    #[test]
    fn truncated_header() {
        for len in 0..HEADER_LEN {
            assert_eq!(
                Packet::new_checked(&HELLO_SEQ[..len]).unwrap_err(),
                Error::Truncated {
                    layer: Layer::Eigrp,
                    field: "header",
                    offset: 0,
                    needed: 20,
                    available: len
                }
            );
        }
    }

    #[test]
    fn flags_display() {
        assert_eq!(Flags(0).to_string(), "none");
        assert_eq!((Flags::INIT | Flags::EOT).to_string(), "INIT|EOT");
        assert_eq!(Flags(0x12).to_string(), "CR|0x10");
        assert_eq!(format!("{:?}", Flags::RS), "RS");
        assert!(Flags(0xf).contains(Flags::CR | Flags::RS));
    }
}
