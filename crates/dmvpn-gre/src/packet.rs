//! The GRE header view: fixed fields at fixed offsets, optional fields at offsets the flag bits imply.
//!
//! ```text
//!  0                   1                   2                   3
//!  0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
//! +-+-+-+-+-+-----+---------+-----+-------------------------------+
//! |C|R|K|S|s|Recur|A| Flags | Ver |         Protocol Type         |
//! +-+-+-+-+-+-----+---------+-----+-------------------------------+
//! |      Checksum (optional)      |  Reserved1 / Offset (optional)|   if C or R
//! +-------------------------------+-------------------------------+
//! |  Key (optional; version 1: Payload Length | Call ID)          |   if K
//! +---------------------------------------------------------------+
//! |                 Sequence Number (optional)                    |   if S
//! +---------------------------------------------------------------+
//! |        Acknowledgment Number (optional, version 1 only)       |   if A
//! +---------------------------------------------------------------+
//! |         Source Route Entries (optional, RFC 1701 only)        |   if R
//! +---------------------------------------------------------------+
//! ```
//!
//! RFC 2784 §2.1 defines C, the version and the protocol type; RFC 2890 §2 adds K and S; RFC 1701
//! defined R, s, Recur and the source routes, which RFC 2784 §2.3 retired into Reserved0; RFC 2637
//! §4.1 (PPTP, "enhanced GRE", version 1) splits the key into payload length and call ID and adds A.

use core::fmt;

use dmvpn_wire::field::{Field, Rest, checked_be_u16, checked_be_u32};
use dmvpn_wire::{Error, Layer, Result, checksum};

use crate::Protocol;

/// Byte positions of the fixed fields, and of the optional fields when every field before them is present.
///
/// Optional fields move with the flags; use [`Packet::checksum_range`], [`Packet::key_range`],
/// [`Packet::sequence_range`] and [`Packet::ack_range`] for where they are in a given packet.
pub mod field {
    use super::{Field, Rest};

    /// C, R, K, S, s, Recur, A, Flags and Version (RFC 2784 §2.1, RFC 2637 §4.1).
    pub const FLAGS: Field = 0..2;
    /// The EtherType of the payload (RFC 2784 §2.4).
    pub const PROTOCOL: Field = 2..4;
    /// Where the optional fields start.
    pub const OPTIONAL: Rest = 4..;
    /// Checksum, present if C (or, in RFC 1701, R) is set (RFC 2784 §2.5).
    pub const CHECKSUM: Field = 4..6;
    /// Reserved1 (RFC 2784 §2.6), the RFC 1701 routing offset; present with the checksum.
    pub const RESERVED1: Field = 6..8;
}

/// Bits of the first 16-bit word ([`field::FLAGS`]).
pub mod flag {
    /// C: checksum present (RFC 2784 §2.2).
    pub const CHECKSUM: u16 = 0x8000;
    /// R: routing present (RFC 1701); Reserved0 bit 1 in RFC 2784 §2.3.
    pub const ROUTING: u16 = 0x4000;
    /// K: key present (RFC 2890 §2).
    pub const KEY: u16 = 0x2000;
    /// S: sequence number present (RFC 2890 §2).
    pub const SEQUENCE: u16 = 0x1000;
    /// s: strict source route (RFC 1701); Reserved0 bit 4 in RFC 2784.
    pub const STRICT_ROUTE: u16 = 0x0800;
    /// Recur: recursion control (RFC 1701); Reserved0 bits 5–7 in RFC 2784.
    pub const RECURSION: u16 = 0x0700;
    /// A: acknowledgment number present (version 1 only, RFC 2637 §4.1); Reserved0 bit 8 in version 0.
    pub const ACK: u16 = 0x0080;
    /// Flags: must be zero in version 1 (RFC 2637 §4.1); Reserved0 bits 9–12 in version 0.
    pub const FLAGS: u16 = 0x0078;
    /// Ver: 0 for GRE (RFC 2784 §2.3.1), 1 for enhanced GRE (RFC 2637 §4.1).
    pub const VERSION: u16 = 0x0007;
    /// Reserved0 bits 1–5, which RFC 2784 §2.3 says a receiver must discard a packet for unless it
    /// implements RFC 1701 (R, then s and the top recursion bit; RFC 2890 since took K and S).
    pub const MUST_BE_ZERO: u16 = ROUTING | STRICT_ROUTE | 0x0400;

    /// `bit` if `present`, else 0: one term of a flags word built from the fields a header has.
    #[must_use]
    pub(crate) const fn when(present: bool, bit: u16) -> u16 {
        if present { bit } else { 0 }
    }
}

/// The fixed part of every GRE header: flags and version, then the protocol type.
pub const MIN_HEADER_LEN: usize = 4;

/// The longest fixed-layout GRE header: version 0 with C, K and S (16 bytes), or version 1 with K, S and A.
pub const MAX_HEADER_LEN: usize = 16;

dmvpn_wire::view! {
    /// A read/write view of a GRE packet: header, then payload.
    ///
    /// Getters of fields at fixed offsets may panic on a buffer that [`Packet::check_len`] has not
    /// accepted (smoltcp's contract); optional-field getters return `None` when the flags say the field is
    /// absent and never panic.
    #[derive(Clone, Copy, Eq, PartialEq)]
    pub struct Packet, error = Error;
}

impl<T: AsRef<[u8]>> Packet<T> {
    /// Checks that the buffer holds every field the flags and version say is there.
    ///
    /// The error names the first field that does not fit. The RFC 1701 source route entries
    /// (R set) are not checked here: [`Packet::sres`] reads them one at a time.
    pub fn check_len(&self) -> Result<()> {
        let len = self.buffer.as_ref().len();
        if len < MIN_HEADER_LEN {
            let (name, range) = if len < field::FLAGS.end {
                ("flags and version", field::FLAGS)
            } else {
                ("protocol type", field::PROTOCOL)
            };
            return Err(dmvpn_wire::field::truncated(Layer::Gre, name, &range, len));
        }
        let fields = self.optional_fields().into_iter().flatten();
        dmvpn_wire::check_fields!(Layer::Gre, len, fields);
        Ok(())
    }

    /// The optional fields the flags imply, in wire order, each with its name.
    fn optional_fields(&self) -> [Option<(&'static str, Field)>; 6] {
        let (payload_length, call_id) = match self.key_range() {
            Some(key) if self.version() == 1 => (
                Some(("payload length", key.start..key.start + 2)),
                Some(("call id", key.start + 2..key.end)),
            ),
            key => (key.map(|key| ("key", key)), None),
        };
        [
            self.checksum_range().map(|_| ("checksum", field::CHECKSUM)),
            self.checksum_range()
                .map(|_| ("reserved1", field::RESERVED1)),
            payload_length,
            call_id,
            self.sequence_range()
                .map(|range| ("sequence number", range)),
            self.ack_range()
                .map(|range| ("acknowledgment number", range)),
        ]
    }

    /// The length of the whole buffer: header, then payload.
    pub(crate) fn total_len(&self) -> usize {
        self.buffer.as_ref().len()
    }

    /// The first 16 bits: flags, reserved bits and version.
    pub fn flags_and_version(&self) -> u16 {
        let b = self.buffer.as_ref();
        u16::from_be_bytes([b[field::FLAGS.start], b[field::FLAGS.start + 1]])
    }

    fn flag(&self, mask: u16) -> bool {
        self.flags_and_version() & mask != 0
    }

    /// C: the checksum is present and valid.
    pub fn checksum_present(&self) -> bool {
        self.flag(flag::CHECKSUM)
    }

    /// R: RFC 1701 source routing is present.
    pub fn routing_present(&self) -> bool {
        self.flag(flag::ROUTING)
    }

    /// K: the key (or, in version 1, payload length and call ID) is present.
    pub fn key_present(&self) -> bool {
        self.flag(flag::KEY)
    }

    /// S: the sequence number is present.
    pub fn sequence_present(&self) -> bool {
        self.flag(flag::SEQUENCE)
    }

    /// s: RFC 1701 strict source route.
    pub fn strict_source_route(&self) -> bool {
        self.flag(flag::STRICT_ROUTE)
    }

    /// Recur: the RFC 1701 recursion control count (0–7).
    pub fn recursion_control(&self) -> u8 {
        ((self.flags_and_version() & flag::RECURSION) >> 8) as u8
    }

    /// A: the acknowledgment number is present. Only meaningful in version 1.
    pub fn ack_present(&self) -> bool {
        self.flag(flag::ACK)
    }

    /// The version: 0 for GRE, 1 for enhanced GRE (PPTP).
    pub fn version(&self) -> u8 {
        (self.flags_and_version() & flag::VERSION) as u8
    }

    /// The protocol type of the payload (RFC 2784 §2.4).
    pub fn protocol(&self) -> Protocol {
        let b = self.buffer.as_ref();
        Protocol(u16::from_be_bytes([
            b[field::PROTOCOL.start],
            b[field::PROTOCOL.start + 1],
        ]))
    }

    /// Where the checksum and Reserved1 words are: present if C or R is set.
    pub fn checksum_range(&self) -> Option<Field> {
        (self.flag(flag::CHECKSUM | flag::ROUTING))
            .then_some(field::CHECKSUM.start..field::RESERVED1.end)
    }

    /// Where the key is: present if K is set.
    pub fn key_range(&self) -> Option<Field> {
        let start = self
            .checksum_range()
            .map_or(field::OPTIONAL.start, |range| range.end);
        self.key_present().then_some(start..start + 4)
    }

    /// Where the sequence number is: present if S is set.
    pub fn sequence_range(&self) -> Option<Field> {
        let start = self
            .key_range()
            .or_else(|| self.checksum_range())
            .map_or(field::OPTIONAL.start, |r| r.end);
        self.sequence_present().then_some(start..start + 4)
    }

    /// Where the acknowledgment number is: present if A is set in version 1.
    pub fn ack_range(&self) -> Option<Field> {
        let start = self.header_len() - 4;
        (self.version() == 1 && self.ack_present()).then_some(start..start + 4)
    }

    /// The length of the header the flags imply, up to and excluding any RFC 1701 source route entries.
    pub fn header_len(&self) -> usize {
        let words = [
            self.flag(flag::CHECKSUM | flag::ROUTING),
            self.key_present(),
            self.sequence_present(),
            self.version() == 1 && self.ack_present(),
        ];
        MIN_HEADER_LEN + 4 * words.into_iter().filter(|&present| present).count()
    }

    /// The checksum, if C is set (with R alone the field is there but holds nothing, RFC 1701).
    pub fn checksum(&self) -> Option<u16> {
        checked_be_u16(
            self.buffer.as_ref(),
            self.checksum_range()
                .filter(|_| self.checksum_present())?
                .start,
        )
    }

    /// Reserved1 (RFC 2784 §2.6; the routing offset in RFC 1701), if C or R is set.
    pub fn reserved1(&self) -> Option<u16> {
        checked_be_u16(self.buffer.as_ref(), self.checksum_range()?.start + 2)
    }

    /// The key (RFC 2890 §2.1), if K is set. In version 1 it holds payload length and call ID.
    pub fn key(&self) -> Option<u32> {
        checked_be_u32(self.buffer.as_ref(), self.key_range()?.start)
    }

    /// The version 1 payload length: the payload's size without the GRE header (RFC 2637 §4.1).
    pub fn payload_length(&self) -> Option<u16> {
        self.key()
            .filter(|_| self.version() == 1)
            .map(|key| (key >> 16) as u16)
    }

    /// The version 1 call ID: the peer's ID for the session (RFC 2637 §4.1).
    pub fn call_id(&self) -> Option<u16> {
        self.key()
            .filter(|_| self.version() == 1)
            .map(|key| key as u16)
    }

    /// The sequence number (RFC 2890 §2.2), if S is set.
    pub fn sequence(&self) -> Option<u32> {
        checked_be_u32(self.buffer.as_ref(), self.sequence_range()?.start)
    }

    /// The acknowledgment number (RFC 2637 §4.1), if A is set in version 1.
    pub fn ack(&self) -> Option<u32> {
        checked_be_u32(self.buffer.as_ref(), self.ack_range()?.start)
    }

    /// Whether the checksum is right, or absent (C clear).
    ///
    /// RFC 2784 §2.5: the checksum covers the GRE header and the payload. Under `cfg(fuzzing)` this
    /// is always true, so fuzzers reach the code behind it.
    pub fn verify_checksum(&self) -> bool {
        if cfg!(fuzzing) || !self.checksum_present() {
            return true;
        }
        checksum::verify(self.buffer.as_ref())
    }

    /// The checksum the header and payload call for: their sum with the checksum field taken as zero.
    pub fn compute_checksum(&self) -> u16 {
        checksum::compute_without(self.buffer.as_ref(), &field::CHECKSUM)
    }
}

impl<'a, T: AsRef<[u8]> + ?Sized> Packet<&'a T> {
    /// The RFC 1701 source route entries, if R is set; they follow the fixed header.
    pub fn sres(&self) -> Option<Sres<'a>> {
        let start = self.header_len();
        let bytes = self.buffer.as_ref().get(start..).unwrap_or_default();
        self.routing_present().then_some(Sres {
            bytes,
            offset: start,
            state: SreState::Reading,
        })
    }

    /// The payload: everything after the header (with R set, the source routes come first).
    ///
    /// In version 1 it is cut to the payload length, if the buffer holds that much.
    pub fn payload(&self) -> &'a [u8] {
        let bytes = self.buffer.as_ref();
        let rest = bytes.get(self.header_len()..).unwrap_or_default();
        match self.payload_length() {
            Some(len) => rest.get(..usize::from(len)).unwrap_or(rest),
            None => rest,
        }
    }
}

impl<T: AsRef<[u8]> + AsMut<[u8]>> Packet<T> {
    /// Sets the first 16 bits: flags, reserved bits and version.
    pub fn set_flags_and_version(&mut self, value: u16) {
        self.buffer.as_mut()[field::FLAGS].copy_from_slice(&value.to_be_bytes());
    }

    fn set_flag(&mut self, mask: u16, on: bool) {
        let flags = self.flags_and_version();
        self.set_flags_and_version(if on { flags | mask } else { flags & !mask });
    }

    /// Sets C. This moves every optional field after it.
    pub fn set_checksum_present(&mut self, on: bool) {
        self.set_flag(flag::CHECKSUM, on);
    }

    /// Sets R. This moves every optional field after it.
    pub fn set_routing_present(&mut self, on: bool) {
        self.set_flag(flag::ROUTING, on);
    }

    /// Sets K. This moves every optional field after it.
    pub fn set_key_present(&mut self, on: bool) {
        self.set_flag(flag::KEY, on);
    }

    /// Sets S. This moves the acknowledgment number.
    pub fn set_sequence_present(&mut self, on: bool) {
        self.set_flag(flag::SEQUENCE, on);
    }

    /// Sets A (version 1).
    pub fn set_ack_present(&mut self, on: bool) {
        self.set_flag(flag::ACK, on);
    }

    /// Sets the version (the low three bits of `version`).
    pub fn set_version(&mut self, version: u8) {
        let flags = self.flags_and_version() & !flag::VERSION;
        self.set_flags_and_version(flags | (u16::from(version) & flag::VERSION));
    }

    /// Sets the protocol type.
    pub fn set_protocol(&mut self, protocol: Protocol) {
        self.buffer.as_mut()[field::PROTOCOL].copy_from_slice(&protocol.0.to_be_bytes());
    }

    /// Sets the checksum field.
    ///
    /// # Panics
    /// If neither C nor R is set, or the buffer is too short.
    pub fn set_checksum(&mut self, value: u16) {
        let range = self.checksum_range();
        self.set_in(
            range,
            0,
            &value.to_be_bytes(),
            "set_checksum without the C bit",
        );
    }

    /// Sets Reserved1 (zero on transmit, RFC 2784 §2.6).
    ///
    /// # Panics
    /// If neither C nor R is set, or the buffer is too short.
    pub fn set_reserved1(&mut self, value: u16) {
        let range = self.checksum_range();
        self.set_in(
            range,
            2,
            &value.to_be_bytes(),
            "set_reserved1 without the C bit",
        );
    }

    /// Sets the key (in version 1, payload length in the high half and call ID in the low half).
    ///
    /// # Panics
    /// If K is clear, or the buffer is too short.
    pub fn set_key(&mut self, value: u32) {
        let range = self.key_range();
        self.set_in(range, 0, &value.to_be_bytes(), "set_key without the K bit");
    }

    /// Sets the version 1 payload length.
    ///
    /// # Panics
    /// If K is clear, or the buffer is too short.
    pub fn set_payload_length(&mut self, value: u16) {
        let range = self.key_range();
        self.set_in(
            range,
            0,
            &value.to_be_bytes(),
            "set_payload_length without the K bit",
        );
    }

    /// Sets the version 1 call ID.
    ///
    /// # Panics
    /// If K is clear, or the buffer is too short.
    pub fn set_call_id(&mut self, value: u16) {
        let range = self.key_range();
        self.set_in(
            range,
            2,
            &value.to_be_bytes(),
            "set_call_id without the K bit",
        );
    }

    /// Sets the sequence number.
    ///
    /// # Panics
    /// If S is clear, or the buffer is too short.
    pub fn set_sequence(&mut self, value: u32) {
        let range = self.sequence_range();
        self.set_in(
            range,
            0,
            &value.to_be_bytes(),
            "set_sequence without the S bit",
        );
    }

    /// Sets the acknowledgment number.
    ///
    /// # Panics
    /// If this is not version 1 with A set, or the buffer is too short.
    pub fn set_ack(&mut self, value: u32) {
        let range = self.ack_range();
        self.set_in(
            range,
            0,
            &value.to_be_bytes(),
            "set_ack without version 1 and the A bit",
        );
    }

    /// Writes `bytes` at offset `at` of an optional field, or panics with `gre: {what}` when the
    /// flags leave the field out (`range` is `None`).
    fn set_in(&mut self, range: Option<Field>, at: usize, bytes: &[u8], what: &str) {
        let Some(range) = range else {
            panic!("gre: {what}")
        };
        let start = range.start + at;
        self.buffer.as_mut()[start..start + bytes.len()].copy_from_slice(bytes);
    }

    /// Computes the checksum over header and payload and stores it (RFC 2784 §2.5).
    ///
    /// # Panics
    /// If C is clear, or the buffer is too short.
    pub fn fill_checksum(&mut self) {
        let sum = self.compute_checksum();
        self.set_checksum(sum);
    }

    /// The payload, mutably: everything after the header.
    ///
    /// # Panics
    /// If the buffer is shorter than the header.
    pub fn payload_mut(&mut self) -> &mut [u8] {
        let start = self.header_len();
        &mut self.buffer.as_mut()[start..]
    }
}

impl<T: AsRef<[u8]>> fmt::Debug for Packet<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.check_len().is_err() {
            return f
                .debug_struct("Packet")
                .field("truncated", &dmvpn_wire::fmt::Hex(self.buffer.as_ref()))
                .finish();
        }
        let mut s = f.debug_struct("Packet");
        s.field("version", &self.version())
            .field("protocol", &self.protocol());
        if let Some(sum) = self.checksum() {
            s.field("checksum", &format_args!("{sum:#06x}"));
        }
        if let (Some(len), Some(call)) = (self.payload_length(), self.call_id()) {
            s.field("payload_length", &len).field("call_id", &call);
        } else if let Some(key) = self.key() {
            s.field("key", &format_args!("{key:#010x}"));
        }
        if let Some(seq) = self.sequence() {
            s.field("sequence", &seq);
        }
        if let Some(ack) = self.ack() {
            s.field("ack", &ack);
        }
        s.field("header_len", &self.header_len()).finish()
    }
}

/// One RFC 1701 §2.1 source route entry.
#[derive(Clone, Copy, Debug, Eq, PartialEq)]
pub struct Sre<'a> {
    /// The address family of the routing information (0x0800: IP addresses, 0xfffe: AS numbers).
    pub address_family: u16,
    /// The SRE offset: where in the routing information the next hop is.
    pub sre_offset: u8,
    /// The routing information, SRE length bytes.
    pub routing: &'a [u8],
}

/// The source route entries of an RFC 1701 packet: yields each entry up to the NULL SRE
/// (address family 0, length 0), and stops after the first error.
#[derive(Clone, Debug)]
pub struct Sres<'a> {
    bytes: &'a [u8],
    offset: usize,
    state: SreState,
}

#[derive(Clone, Copy, Debug, Eq, PartialEq)]
enum SreState {
    Reading,
    Ended,
    Failed,
}

impl<'a> Sres<'a> {
    /// The offset just past the NULL SRE, once the iterator has reached it.
    pub fn end(&self) -> Option<usize> {
        (self.state == SreState::Ended).then_some(self.offset)
    }

    /// The bytes after the NULL SRE (the payload), once the iterator has reached it.
    pub fn rest(&self) -> Option<&'a [u8]> {
        (self.state == SreState::Ended).then_some(self.bytes)
    }
}

impl<'a> Iterator for Sres<'a> {
    type Item = Result<Sre<'a>>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.state != SreState::Reading {
            return None;
        }
        let mut reader = dmvpn_wire::Reader::with_base(Layer::Gre, self.bytes, self.offset);
        let mut entry = || -> Result<Sre<'a>> {
            let address_family = reader.u16("sre address family")?;
            let sre_offset = reader.u8("sre offset")?;
            let len = reader.u8("sre length")?;
            let routing = reader.take(usize::from(len), "sre routing information")?;
            Ok(Sre {
                address_family,
                sre_offset,
                routing,
            })
        };
        let entry = entry();
        self.offset = reader.offset();
        self.bytes = reader.peek_rest();
        match entry {
            Ok(sre) if sre.address_family == 0 && sre.routing.is_empty() => {
                self.state = SreState::Ended;
                None
            }
            Ok(sre) => Some(Ok(sre)),
            Err(err) => {
                self.state = SreState::Failed;
                Some(Err(err))
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::vectors::*;

    fn truncated(field: &'static str, offset: usize, needed: usize, len: usize) -> Error {
        Error::truncated(Layer::Gre, field, offset, needed, len)
    }

    #[test]
    fn deconstruct_keepalive() {
        let packet = Packet::new_checked(&VARIOUS_GRE_FRAME_11[..]).unwrap();
        assert_eq!(packet.flags_and_version(), 0x2000);
        assert!(packet.key_present());
        assert!(
            !packet.checksum_present() && !packet.routing_present() && !packet.sequence_present()
        );
        assert_eq!((packet.version(), packet.recursion_control()), (0, 0));
        assert_eq!(packet.protocol(), Protocol::CISCO_METADATA);
        assert_eq!(
            (
                packet.checksum_range(),
                packet.key_range(),
                packet.sequence_range()
            ),
            (None, Some(4..8), None)
        );
        assert_eq!(
            (
                packet.checksum(),
                packet.reserved1(),
                packet.key(),
                packet.sequence()
            ),
            (None, None, Some(0x28), None)
        );
        assert_eq!(
            (
                packet.ack_range(),
                packet.payload_length(),
                packet.call_id()
            ),
            (None, None, None)
        );
        assert_eq!(packet.header_len(), 8);
        assert_eq!(packet.payload(), &VARIOUS_GRE_FRAME_11[8..]);
        // Past Cisco MetaData (8 bytes) and the 20-byte IPv4 header is frame 12's GRE header.
        assert_eq!(&packet.payload()[28..], &VARIOUS_GRE_FRAME_12[..]);
        assert!(packet.verify_checksum());
        assert!(packet.sres().is_none());
    }

    #[test]
    fn deconstruct_checksum_key_sequence() {
        let packet = Packet::new_checked(SCAPY_CHECKSUM_KEY_SEQUENCE).unwrap();
        assert_eq!(packet.flags_and_version(), 0xb000);
        assert_eq!(packet.protocol(), Protocol::NHRP);
        assert_eq!(packet.checksum_range(), Some(4..8));
        assert_eq!(packet.key_range(), Some(8..12));
        assert_eq!(packet.sequence_range(), Some(12..16));
        assert_eq!(packet.header_len(), MAX_HEADER_LEN);
        assert_eq!(packet.checksum(), Some(0x21ec));
        assert_eq!(packet.reserved1(), Some(0));
        assert_eq!((packet.key(), packet.sequence()), (Some(1000), Some(7)));
        assert_eq!(packet.compute_checksum(), 0x21ec);
        assert!(packet.verify_checksum());
        assert_eq!(packet.payload().len(), 20);
    }

    #[test]
    fn deconstruct_enhanced() {
        let packet = Packet::new_checked(&PPTP_FRAME_1[..]).unwrap();
        assert_eq!(packet.flags_and_version(), 0x3081);
        assert_eq!((packet.version(), packet.ack_present()), (1, true));
        assert_eq!(packet.protocol(), Protocol::PPP);
        assert_eq!(
            (
                packet.key_range(),
                packet.sequence_range(),
                packet.ack_range()
            ),
            (Some(4..8), Some(8..12), Some(12..16))
        );
        assert_eq!(
            (packet.payload_length(), packet.call_id()),
            (Some(103), Some(6016))
        );
        assert_eq!(
            (packet.sequence(), packet.ack()),
            (Some(430_001), Some(539_254))
        );
        assert_eq!(packet.payload().len(), 103);
        assert_eq!(&packet.payload()[..4], &[0xff, 0x03, 0x00, 0x21]); // PPP: all-stations, UI, IPv4
        // In version 0 the same A bit is a reserved bit and moves nothing.
        let mut v0 = PPTP_FRAME_1;
        Packet::new_unchecked(&mut v0[..]).set_version(0);
        assert_eq!(
            (
                Packet::new_unchecked(&v0[..]).ack_range(),
                Packet::new_unchecked(&v0[..]).header_len()
            ),
            (None, 12)
        );
    }

    #[test]
    fn construct() {
        let mut bytes = [0xa5; 20];
        let mut packet = Packet::new_unchecked(&mut bytes[..]);
        packet.set_flags_and_version(0);
        packet.set_checksum_present(true);
        packet.set_key_present(true);
        packet.set_sequence_present(true);
        packet.set_protocol(Protocol::IPV4);
        packet.set_checksum(0);
        packet.set_reserved1(0);
        packet.set_key(0x0102_0304);
        packet.set_sequence(0x0506_0708);
        packet.payload_mut().copy_from_slice(&[0x45, 0, 0, 4]);
        packet.fill_checksum();
        assert!(packet.verify_checksum());
        #[rustfmt::skip]
        let expected = [
            0xb0, 0x00, 0x08, 0x00, 0x00, 0x00, 0x00, 0x00, 0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x08,
            0x45, 0x00, 0x00, 0x04,
        ];
        let sum = checksum::compute(&expected);
        assert_eq!(&bytes[..4], &expected[..4]);
        assert_eq!(&bytes[4..6], &sum.to_be_bytes());
        assert_eq!(&bytes[6..], &expected[6..]);

        let mut bytes = [0; 16];
        let mut packet = Packet::new_unchecked(&mut bytes[..]);
        packet.set_version(1);
        packet.set_key_present(true);
        packet.set_sequence_present(true);
        packet.set_ack_present(true);
        packet.set_protocol(Protocol::PPP);
        packet.set_payload_length(0);
        packet.set_call_id(0x1780);
        packet.set_sequence(1);
        packet.set_ack(2);
        packet.set_key_present(true);
        assert_eq!(
            bytes,
            [
                0x30, 0x81, 0x88, 0x0b, 0, 0, 0x17, 0x80, 0, 0, 0, 1, 0, 0, 0, 2
            ]
        );
        let mut packet = Packet::new_unchecked(&mut bytes[..]);
        packet.set_ack_present(false);
        packet.set_sequence_present(false);
        packet.set_version(9); // only the low three bits
        assert_eq!(packet.flags_and_version(), 0x2001);
        packet.set_key(0xdead_beef);
        assert_eq!(packet.into_inner()[4..8], [0xde, 0xad, 0xbe, 0xef]);
    }

    #[test]
    #[should_panic = "set_key without the K bit"]
    fn setting_an_absent_field_panics() {
        let mut bytes = [0; 8];
        Packet::new_unchecked(&mut bytes[..]).set_key(1);
    }

    #[test]
    fn truncation_version_0() {
        let full = SCAPY_CHECKSUM_KEY_SEQUENCE;
        let header = &full[..MAX_HEADER_LEN];
        assert_truncations(header, 0, |cut| match cut {
            0..2 => ("flags and version", 0, 2),
            2..4 => ("protocol type", 2, 2),
            4..6 => ("checksum", 4, 2),
            6..8 => ("reserved1", 6, 2),
            8..12 => ("key", 8, 4),
            _ => ("sequence number", 12, 4),
        });
        assert!(Packet::new_checked(header).is_ok());
    }

    #[test]
    fn truncation_version_1() {
        let header = &PPTP_FRAME_1[..MAX_HEADER_LEN];
        assert_truncations(header, 4, |cut| match cut {
            4..6 => ("payload length", 4, 2),
            6..8 => ("call id", 6, 2),
            8..12 => ("sequence number", 8, 4),
            _ => ("acknowledgment number", 12, 4),
        });
    }

    /// Every cut of `header` from `from` on fails naming the field, offset and length `expect`
    /// gives for that cut.
    fn assert_truncations(
        header: &[u8],
        from: usize,
        expect: impl Fn(usize) -> (&'static str, usize, usize),
    ) {
        for cut in from..header.len() {
            let (field, offset, needed) = expect(cut);
            assert_eq!(
                Packet::new_checked(&header[..cut]),
                Err(truncated(field, offset, needed, cut)),
                "cut {cut}"
            );
        }
    }

    #[test]
    fn optional_getters_never_panic_on_short_buffers() {
        let packet = Packet::new_unchecked(&[0xb0, 0x81, 0x08, 0x00, 0x12][..]);
        assert_eq!(
            (
                packet.checksum(),
                packet.key(),
                packet.sequence(),
                packet.ack()
            ),
            (None, None, None, None)
        );
        assert!(packet.payload().is_empty());
        assert!(format!("{packet:?}").contains("truncated"));
    }

    #[test]
    fn routing_and_source_route_entries() {
        // RFC 1701: R set (so checksum and offset words are present), one IPv4 SRE of two addresses,
        // then the NULL SRE and a payload byte.
        #[rustfmt::skip]
        let bytes = [
            0x40, 0x00, 0x08, 0x00, 0x00, 0x00, 0x00, 0x04,
            0x08, 0x00, 0x04, 0x08, 10, 0, 0, 1, 10, 0, 0, 2,
            0x00, 0x00, 0x00, 0x00,
            0x45,
        ];
        let packet = Packet::new_checked(&bytes[..]).unwrap();
        assert!(packet.routing_present());
        assert_eq!(
            (
                packet.checksum_range(),
                packet.checksum(),
                packet.reserved1()
            ),
            (Some(4..8), None, Some(4))
        );
        let mut sres = packet.sres().unwrap();
        assert_eq!(sres.end(), None);
        assert_eq!(
            sres.next(),
            Some(Ok(Sre {
                address_family: 0x0800,
                sre_offset: 4,
                routing: &bytes[12..20]
            }))
        );
        assert_eq!(sres.next(), None);
        assert_eq!((sres.end(), sres.rest()), (Some(24), Some(&[0x45][..])));
        // An SRE that overruns the packet is an error, then the iterator stops.
        let mut sres = Packet::new_unchecked(&bytes[..16]).sres().unwrap();
        assert_eq!(
            sres.next(),
            Some(Err(truncated("sre routing information", 12, 8, 16)))
        );
        assert_eq!((sres.next(), sres.end()), (None, None));
        let mut sres = Packet::new_unchecked(&bytes[..22]).sres().unwrap();
        assert!(sres.next().unwrap().is_ok());
        assert_eq!(sres.next(), Some(Err(truncated("sre offset", 22, 1, 22))));
    }

    #[test]
    fn checksum_detects_corruption() {
        let mut bytes = SCAPY_CHECKSUM_IPV4.to_vec();
        assert!(Packet::new_checked(&bytes[..]).unwrap().verify_checksum());
        let last = bytes.len() - 1;
        bytes[last] ^= 0x01;
        let packet = Packet::new_checked(&bytes[..]).unwrap();
        assert!(!packet.verify_checksum());
        let mut packet = Packet::new_unchecked(&mut bytes[..]);
        packet.fill_checksum();
        assert!(packet.verify_checksum());
    }

    #[test]
    fn debug() {
        let packet = Packet::new_checked(SCAPY_CHECKSUM_KEY_SEQUENCE).unwrap();
        assert_eq!(
            format!("{packet:?}"),
            "Packet { version: 0, protocol: NHRP (8193), checksum: 0x21ec, key: 0x000003e8, sequence: 7, header_len: 16 }"
        );
        let packet = Packet::new_checked(&PPTP_FRAME_1[..]).unwrap();
        assert_eq!(
            format!("{packet:?}"),
            "Packet { version: 1, protocol: PPP (34827), payload_length: 103, call_id: 6016, sequence: 430001, ack: 539254, header_len: 16 }"
        );
    }
}
