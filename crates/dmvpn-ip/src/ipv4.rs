//! IPv4 headers (RFC 791 §3.1): a view over the bytes, a borrowing [`Repr`], and `emit`.
//!
//! The view trims what follows the datagram's `total length` (Ethernet pads short frames to 60
//! bytes), so [`Packet::payload`] is exactly the datagram's payload.
//!
//! ```
//! use dmvpn_ip::ipv4::{ChecksumMode, Packet, Protocol, Repr};
//!
//! // packetlife GRE.cap frame 1: 10.0.0.1 -> 10.0.0.2, GRE, followed here by two padding bytes.
//! #[rustfmt::skip]
//! let mut bytes = vec![
//!     0x45, 0x00, 0x00, 0x7c, 0x00, 0x0a, 0x00, 0x00, 0xff, 0x2f, 0xa7, 0x46,
//!     0x0a, 0x00, 0x00, 0x01, 0x0a, 0x00, 0x00, 0x02,
//! ];
//! bytes.resize(0x7c + 2, 0);
//! let packet = Packet::new_checked(&bytes[..])?;
//! let repr = Repr::parse(&packet, ChecksumMode::Verify)?;
//! assert_eq!(repr.protocol, Protocol::GRE);
//! assert_eq!(repr.src.to_string(), "10.0.0.1");
//! assert_eq!(packet.payload().len(), 0x7c - 20);
//! assert!(!repr.is_fragment());
//! # Ok::<(), dmvpn_wire::Error>(())
//! ```

use alloc::vec::Vec;
use core::net::Ipv4Addr;

use dmvpn_wire::checksum;
use dmvpn_wire::field::{Field, check_length};
use dmvpn_wire::{Error, Layer, Result};

/// The payload's protocol: the one IP protocol registry of the workspace, under its IPv4 name.
pub use dmvpn_wire::IpProtocol as Protocol;

/// Whether [`Repr::parse`] checks the header checksum.
///
/// Captures taken on the sending host often show checksums the NIC had not filled in yet, so the
/// decoder may prefer [`ChecksumMode::Ignore`] and report [`Packet::verify_checksum`] itself.
/// Under `cfg(fuzzing)` checksums are never verified, so fuzzers reach the code behind them.
#[derive(Clone, Copy, Debug, Default, Eq, Hash, PartialEq)]
pub enum ChecksumMode {
    /// A wrong checksum is an [`Error::BadChecksum`].
    #[default]
    Verify,
    /// The checksum is not looked at.
    Ignore,
}

/// Byte positions of the fixed header fields.
pub mod field {
    use super::Field;
    /// Version (4 bits) and IHL (4 bits, in 32-bit words).
    pub const VER_IHL: usize = 0;
    /// DSCP (6 bits) and ECN (2 bits).
    pub const DSCP_ECN: usize = 1;
    /// Total length of header and payload.
    pub const LENGTH: Field = 2..4;
    /// Identification.
    pub const IDENT: Field = 4..6;
    /// Flags (reserved, DF, MF) and fragment offset in 8-byte units.
    pub const FLG_OFF: Field = 6..8;
    /// Time to live.
    pub const TTL: usize = 8;
    /// Protocol.
    pub const PROTOCOL: usize = 9;
    /// Header checksum.
    pub const CHECKSUM: Field = 10..12;
    /// Source address.
    pub const SRC_ADDR: Field = 12..16;
    /// Destination address.
    pub const DST_ADDR: Field = 16..20;
}

/// The fixed header length.
pub const HEADER_LEN: usize = field::DST_ADDR.end;

/// The largest header (IHL 15).
pub const MAX_HEADER_LEN: usize = 60;

const FLAG_RESERVED: u16 = 0x8000;
const FLAG_DF: u16 = 0x4000;
const FLAG_MF: u16 = 0x2000;

dmvpn_wire::view! {
    /// A read/write view over an IPv4 datagram.
    #[derive(Clone, Copy, Debug, Eq, PartialEq)]
    pub struct Packet, error = Error;
}

impl<T: AsRef<[u8]>> Packet<T> {
    /// Wraps a buffer that may have been cut by the capture's snapshot length: only the header is
    /// checked ([`Packet::check_header`]), and [`Packet::payload`] is what was captured of the
    /// payload ([`Packet::is_truncated`] says whether that is all of it).
    pub fn new_truncated(buffer: T) -> Result<Self> {
        let packet = Self::new_unchecked(buffer);
        packet.check_header()?;
        Ok(packet)
    }

    /// Checks that the getters cannot panic: version 4, an IHL of at least 5 that fits, and a
    /// total length between the header length and the bytes there are.
    pub fn check_len(&self) -> Result<()> {
        self.check_header()?;
        let data = self.buffer.as_ref();
        let total_len = usize::from(self.total_len());
        check_length(
            Layer::Ipv4,
            "total length",
            field::LENGTH.start,
            total_len,
            0..=data.len(),
        )
    }

    /// Checks the header alone: version 4, an IHL of at least 5 whose bytes are there, and a total
    /// length of at least the header length. The payload may be cut short.
    pub fn check_header(&self) -> Result<()> {
        let data = self.buffer.as_ref();
        if data.len() < HEADER_LEN {
            let field = if data.is_empty() { "version" } else { "header" };
            return Err(Error::truncated(
                Layer::Ipv4,
                field,
                0,
                HEADER_LEN,
                data.len(),
            ));
        }
        let version = data[field::VER_IHL] >> 4;
        if version != 4 {
            return Err(Error::invalid_field(
                Layer::Ipv4,
                "version",
                0,
                version.into(),
            ));
        }
        let header_len = self.header_len();
        if header_len < HEADER_LEN {
            return Err(Error::invalid_field(
                Layer::Ipv4,
                "ihl",
                0,
                (header_len / 4) as u32,
            ));
        }
        dmvpn_wire::check_fields!(
            Layer::Ipv4,
            data.len(),
            [("options", HEADER_LEN..header_len)]
        );
        let total_len = usize::from(self.total_len());
        if total_len < header_len {
            return Err(Error::bad_length(
                Layer::Ipv4,
                "total length",
                field::LENGTH.start,
                total_len,
                header_len,
            ));
        }
        Ok(())
    }

    fn u16_at(&self, at: Field) -> u16 {
        dmvpn_wire::field::be_u16(self.buffer.as_ref(), at.start)
    }

    /// The version field (4).
    #[must_use]
    pub fn version(&self) -> u8 {
        self.buffer.as_ref()[field::VER_IHL] >> 4
    }

    /// The header length in bytes (IHL × 4).
    #[must_use]
    pub fn header_len(&self) -> usize {
        usize::from(self.buffer.as_ref()[field::VER_IHL] & 0x0f) * 4
    }

    /// Differentiated Services Code Point (RFC 2474).
    #[must_use]
    pub fn dscp(&self) -> u8 {
        self.buffer.as_ref()[field::DSCP_ECN] >> 2
    }

    /// Explicit Congestion Notification (RFC 3168).
    #[must_use]
    pub fn ecn(&self) -> u8 {
        self.buffer.as_ref()[field::DSCP_ECN] & 0x03
    }

    dmvpn_wire::getters! {
        /// The total length field.
        pub fn total_len -> u16 = field::LENGTH;
        /// Identification.
        pub fn ident -> u16 = field::IDENT;
    }

    /// The reserved flag (must be zero; RFC 3514 notwithstanding).
    #[must_use]
    pub fn reserved_flag(&self) -> bool {
        self.u16_at(field::FLG_OFF) & FLAG_RESERVED != 0
    }

    /// Don't Fragment.
    #[must_use]
    pub fn dont_frag(&self) -> bool {
        self.u16_at(field::FLG_OFF) & FLAG_DF != 0
    }

    /// More Fragments.
    #[must_use]
    pub fn more_frags(&self) -> bool {
        self.u16_at(field::FLG_OFF) & FLAG_MF != 0
    }

    /// The fragment offset in bytes.
    #[must_use]
    pub fn frag_offset(&self) -> u16 {
        (self.u16_at(field::FLG_OFF) & 0x1fff) << 3
    }

    dmvpn_wire::getters! {
        /// Time to live.
        pub fn ttl -> u8 = field::TTL;
        /// The payload's protocol.
        pub fn protocol -> Protocol(u8) = field::PROTOCOL;
        /// The header checksum field.
        pub fn checksum -> u16 = field::CHECKSUM;
    }

    /// The source address.
    #[must_use]
    pub fn src_addr(&self) -> Ipv4Addr {
        let d = self.buffer.as_ref();
        Ipv4Addr::new(d[12], d[13], d[14], d[15])
    }

    /// The destination address.
    #[must_use]
    pub fn dst_addr(&self) -> Ipv4Addr {
        let d = self.buffer.as_ref();
        Ipv4Addr::new(d[16], d[17], d[18], d[19])
    }

    /// The header options (the bytes between the fixed header and the payload).
    #[must_use]
    pub fn options(&self) -> &[u8] {
        &self.buffer.as_ref()[HEADER_LEN..self.header_len()]
    }

    /// Whether the header checksum is right.
    #[must_use]
    pub fn verify_checksum(&self) -> bool {
        checksum::verify(&self.buffer.as_ref()[..self.header_len()])
    }

    /// The checksum the header should carry.
    #[must_use]
    pub fn compute_checksum(&self) -> u16 {
        let header = &self.buffer.as_ref()[..self.header_len()];
        checksum::compute_without(header, &field::CHECKSUM)
    }

    /// Whether the buffer ends before `total length` (the capture's snapshot length cut it).
    #[must_use]
    pub fn is_truncated(&self) -> bool {
        usize::from(self.total_len()) > self.buffer.as_ref().len()
    }

    /// Bytes after `total length` (Ethernet padding).
    #[must_use]
    pub fn trailer(&self) -> &[u8] {
        let data = self.buffer.as_ref();
        data.get(usize::from(self.total_len())..)
            .unwrap_or_default()
    }
}

impl<'a, T: AsRef<[u8]> + ?Sized> Packet<&'a T> {
    /// The payload: from the end of the header to `total length`, or to the end of the buffer
    /// if it was cut short (see [`Packet::new_truncated`]).
    #[must_use]
    pub fn payload(&self) -> &'a [u8] {
        let data = self.buffer.as_ref();
        let end = usize::from(self.total_len()).min(data.len());
        data.get(self.header_len()..end).unwrap_or_default()
    }
}

impl<T: AsRef<[u8]> + AsMut<[u8]>> Packet<T> {
    fn set_u16_at(&mut self, at: Field, value: u16) {
        self.buffer.as_mut()[at].copy_from_slice(&value.to_be_bytes());
    }

    /// Sets version 4 and the header length in bytes (a multiple of 4, 20 to 60).
    pub fn set_header_len(&mut self, len: usize) {
        self.buffer.as_mut()[field::VER_IHL] = 0x40 | ((len / 4) as u8 & 0x0f);
    }

    /// Sets DSCP and ECN.
    pub fn set_dscp_ecn(&mut self, dscp: u8, ecn: u8) {
        self.buffer.as_mut()[field::DSCP_ECN] = (dscp << 2) | (ecn & 0x03);
    }

    dmvpn_wire::setters! {
        /// Sets the total length.
        pub fn set_total_len(u16) = field::LENGTH;
        /// Sets the identification.
        pub fn set_ident(u16) = field::IDENT;
    }

    /// Sets the flags and the fragment offset (in bytes; the low 3 bits are dropped).
    pub fn set_flags_and_offset(&mut self, dont_frag: bool, more_frags: bool, offset: u16) {
        let flags = if dont_frag { FLAG_DF } else { 0 } | if more_frags { FLAG_MF } else { 0 };
        self.set_u16_at(field::FLG_OFF, flags | ((offset >> 3) & 0x1fff));
    }

    dmvpn_wire::setters! {
        /// Sets the time to live.
        pub fn set_ttl(u8) = field::TTL;
        /// Sets the protocol.
        pub fn set_protocol(Protocol(u8)) = field::PROTOCOL;
        /// Sets the checksum field.
        pub fn set_checksum(u16) = field::CHECKSUM;
    }

    /// Computes and stores the header checksum.
    pub fn fill_checksum(&mut self) {
        let sum = self.compute_checksum();
        self.set_checksum(sum);
    }

    /// Sets the source address.
    pub fn set_src_addr(&mut self, addr: Ipv4Addr) {
        self.buffer.as_mut()[field::SRC_ADDR].copy_from_slice(&addr.octets());
    }

    /// Sets the destination address.
    pub fn set_dst_addr(&mut self, addr: Ipv4Addr) {
        self.buffer.as_mut()[field::DST_ADDR].copy_from_slice(&addr.octets());
    }

    /// The options, writable.
    pub fn options_mut(&mut self) -> &mut [u8] {
        let len = self.header_len();
        &mut self.buffer.as_mut()[HEADER_LEN..len]
    }

    /// The payload up to `total length`, writable.
    pub fn payload_mut(&mut self) -> &mut [u8] {
        let (start, end) = (self.header_len(), usize::from(self.total_len()));
        let end = end.min(self.buffer.as_ref().len());
        &mut self.buffer.as_mut()[start..end]
    }
}

/// A parsed IPv4 header; `options` borrows from the packet.
#[derive(Clone, Copy, Debug, Eq, Hash, PartialEq)]
pub struct Repr<'a> {
    /// Differentiated Services Code Point.
    pub dscp: u8,
    /// Explicit Congestion Notification.
    pub ecn: u8,
    /// Identification.
    pub ident: u16,
    /// Don't Fragment.
    pub dont_frag: bool,
    /// More Fragments.
    pub more_frags: bool,
    /// Fragment offset in bytes.
    pub frag_offset: u16,
    /// Time to live.
    pub ttl: u8,
    /// Payload protocol.
    pub protocol: Protocol,
    /// The header checksum as found (recomputed by `emit`).
    pub checksum: u16,
    /// Source address.
    pub src: Ipv4Addr,
    /// Destination address.
    pub dst: Ipv4Addr,
    /// Header options, raw (a multiple of 4 bytes, at most 40).
    pub options: &'a [u8],
    /// Payload length (`total length` minus the header).
    pub payload_len: usize,
}

impl<'a> Repr<'a> {
    /// Parses a checked packet.
    ///
    /// Only the header must be there: `payload_len` is what `total length` claims, which exceeds
    /// the payload captured if the packet was cut (see [`Packet::new_truncated`]).
    ///
    /// A set reserved flag is accepted, as Wireshark and routers do; it is not kept in the `Repr`
    /// (ask [`Packet::reserved_flag`]), so `emit` writes it clear.
    pub fn parse<T: AsRef<[u8]> + ?Sized>(
        packet: &Packet<&'a T>,
        checksum: ChecksumMode,
    ) -> Result<Self> {
        packet.check_header()?;
        if checksum == ChecksumMode::Verify && !cfg!(fuzzing) && !packet.verify_checksum() {
            return Err(Error::BadChecksum {
                layer: Layer::Ipv4,
                offset: field::CHECKSUM.start,
                found: packet.checksum(),
                computed: packet.compute_checksum(),
            });
        }
        let data: &'a [u8] = packet.buffer.as_ref();
        Ok(Self {
            dscp: packet.dscp(),
            ecn: packet.ecn(),
            ident: packet.ident(),
            dont_frag: packet.dont_frag(),
            more_frags: packet.more_frags(),
            frag_offset: packet.frag_offset(),
            ttl: packet.ttl(),
            protocol: packet.protocol(),
            checksum: packet.checksum(),
            src: packet.src_addr(),
            dst: packet.dst_addr(),
            options: data
                .get(HEADER_LEN..packet.header_len())
                .unwrap_or_default(),
            payload_len: usize::from(packet.total_len()) - packet.header_len(),
        })
    }

    /// Whether this is a fragment (MF set or a non-zero offset).
    #[must_use]
    pub const fn is_fragment(&self) -> bool {
        self.more_frags || self.frag_offset != 0
    }

    /// The header length `emit` writes: 20 plus the options padded to 4 bytes.
    #[must_use]
    pub const fn header_len(&self) -> usize {
        HEADER_LEN + self.options.len().next_multiple_of(4)
    }

    /// The whole datagram's length: header plus `payload_len`.
    #[must_use]
    pub const fn buffer_len(&self) -> usize {
        self.header_len() + self.payload_len
    }

    /// Writes the header (options zero-padded to 4 bytes) with a fresh checksum; the payload
    /// bytes are left as they are. The packet must hold [`Repr::header_len`] bytes, the options
    /// at most 40.
    pub fn emit<T: AsRef<[u8]> + AsMut<[u8]>>(&self, packet: &mut Packet<T>) {
        let header_len = self.header_len();
        packet.set_header_len(header_len);
        packet.set_dscp_ecn(self.dscp, self.ecn);
        packet.set_total_len(self.buffer_len() as u16);
        packet.set_ident(self.ident);
        packet.set_flags_and_offset(self.dont_frag, self.more_frags, self.frag_offset);
        packet.set_ttl(self.ttl);
        packet.set_protocol(self.protocol);
        packet.set_src_addr(self.src);
        packet.set_dst_addr(self.dst);
        let options = packet.options_mut();
        options.fill(0);
        options[..self.options.len()].copy_from_slice(self.options);
        packet.fill_checksum();
    }
}

impl Repr<'static> {
    /// A header with no options: DSCP and ECN 0, identification 0, DF and MF clear, TTL 64,
    /// for `payload_len` bytes of `protocol` from `src` to `dst`. Change what differs with
    /// struct update syntax.
    ///
    /// ```
    /// use core::net::Ipv4Addr;
    /// use dmvpn_ip::ipv4::{ChecksumMode, Packet, Protocol, Repr};
    ///
    /// let (a, b) = (Ipv4Addr::new(10, 0, 0, 1), Ipv4Addr::new(224, 0, 0, 10));
    /// let repr = Repr { ttl: 2, ident: 7, ..Repr::new(a, b, Protocol::EIGRP, 4) };
    /// let bytes = repr.emit_vec(&[1, 2, 3, 4]);
    /// let packet = Packet::new_checked(&bytes[..])?;
    /// assert_eq!(Repr::parse(&packet, ChecksumMode::Verify)?, Repr { checksum: packet.checksum(), ..repr });
    /// assert_eq!(packet.payload(), [1, 2, 3, 4]);
    /// # Ok::<(), dmvpn_wire::Error>(())
    /// ```
    #[must_use]
    pub const fn new(src: Ipv4Addr, dst: Ipv4Addr, protocol: Protocol, payload_len: usize) -> Self {
        Self {
            dscp: 0,
            ecn: 0,
            ident: 0,
            dont_frag: false,
            more_frags: false,
            frag_offset: 0,
            ttl: 64,
            protocol,
            checksum: 0,
            src,
            dst,
            options: &[],
            payload_len,
        }
    }
}

impl Repr<'_> {
    /// The whole datagram in a new buffer: the header (with `payload_len` taken from `payload`,
    /// `total length` saturating at 65 535) and then `payload`.
    #[must_use]
    pub fn emit_vec(&self, payload: &[u8]) -> Vec<u8> {
        let repr = Self {
            payload_len: payload.len(),
            ..*self
        };
        let header_len = repr.header_len();
        let mut bytes = alloc::vec![0; header_len + payload.len()];
        let mut packet = Packet::new_unchecked(&mut bytes[..]);
        repr.emit(&mut packet);
        let total = u16::try_from(repr.buffer_len()).unwrap_or(u16::MAX);
        if usize::from(total) != repr.buffer_len() {
            packet.set_total_len(total);
            packet.fill_checksum();
        }
        bytes[header_len..].copy_from_slice(payload);
        bytes
    }
}

impl<T: AsRef<[u8]> + AsMut<[u8]>> Packet<T> {
    /// Decrements the TTL in place, as a router forwarding the packet does (RFC 791 §3.2, RFC 1812
    /// §5.3.1), and updates the header checksum incrementally (RFC 1624). Returns `false`, leaving
    /// the packet alone, if the TTL is 0 or 1 (the packet must not be forwarded) or the buffer
    /// is shorter than the fixed header.
    pub fn decrement_ttl(&mut self) -> bool {
        let buffer = self.buffer.as_mut();
        let (Some(&ttl), Some(sum)) = (buffer.get(field::TTL), buffer.get(field::CHECKSUM)) else {
            return false;
        };
        if ttl <= 1 {
            return false;
        }
        // The TTL is the high byte of its 16-bit word, which drops by 0x0100: HC' = HC + 0x0100
        // in one's complement arithmetic (RFC 1624 eqn. 3).
        let sum = u32::from(u16::from_be_bytes([sum[0], sum[1]])) + 0x0100;
        let sum = ((sum & 0xffff) + (sum >> 16)) as u16;
        buffer[field::TTL] = ttl - 1;
        buffer[field::CHECKSUM].copy_from_slice(&sum.to_be_bytes());
        true
    }
}

/// Splits a datagram into fragments of at most `mtu` bytes (RFC 791 §3.2, "An Example
/// Fragmentation Procedure").
///
/// Every fragment but the last carries a multiple of 8 payload bytes and has More Fragments set;
/// the last has it set only if the datagram was itself a fragment that was not the last.
/// Offsets count on from the datagram's own, DF is kept, and each header gets a fresh checksum.
/// The first fragment keeps every option; the others only those with the copy flag (RFC 791
/// §3.1), padded to 32 bits.
///
/// `None` if `mtu` leaves no room for 8 payload bytes after a header, if the packet fails
/// [`Packet::check_len`], or if a fragment would end past the largest offset (65 528 bytes).
///
/// ```
/// use core::net::Ipv4Addr;
/// use dmvpn_ip::ipv4::{self, Packet, Protocol, Repr};
///
/// let repr = Repr::new(Ipv4Addr::new(10, 0, 1, 10), Ipv4Addr::new(10, 0, 2, 20), Protocol::UDP, 0);
/// let datagram = repr.emit_vec(&[7; 1480]);
/// let fragments = ipv4::fragment(&Packet::new_checked(&datagram[..])?, 1400).unwrap();
/// let lens: Vec<usize> = fragments.iter().map(Vec::len).collect();
/// assert_eq!(lens, [1396, 124]);
/// let last = Packet::new_checked(&fragments[1][..])?;
/// assert_eq!((last.frag_offset(), last.more_frags()), (1376, false));
/// # Ok::<(), dmvpn_wire::Error>(())
/// ```
#[must_use]
pub fn fragment<T: AsRef<[u8]> + ?Sized>(packet: &Packet<&T>, mtu: usize) -> Option<Vec<Vec<u8>>> {
    packet.check_len().ok()?;
    let options = packet.options();
    let payload = packet.payload();
    let copied = copied_options(options);
    let (dont_frag, more_after) = (packet.dont_frag(), packet.more_frags());
    let base = usize::from(packet.frag_offset());
    let fixed = packet.buffer.as_ref().get(..HEADER_LEN)?;
    let mut fragments = Vec::new();
    let mut at = 0;
    while at < payload.len() {
        let options = if at == 0 { options } else { &copied[..] };
        let header_len = HEADER_LEN + options.len();
        let room = mtu.checked_sub(header_len)? & !7;
        if room == 0 {
            return None;
        }
        let chunk = payload.get(at..payload.len().min(at + room))?;
        let offset = u16::try_from(base + at).ok().filter(|o| *o <= 0xfff8)?;
        let last = at + chunk.len() == payload.len();
        let mut bytes = Vec::with_capacity(header_len + chunk.len());
        bytes.extend_from_slice(fixed);
        bytes.extend_from_slice(options);
        bytes.extend_from_slice(chunk);
        let total = u16::try_from(bytes.len()).ok()?;
        let mut fragment = Packet::new_unchecked(&mut bytes[..]);
        fragment.set_header_len(header_len);
        fragment.set_total_len(total);
        fragment.set_flags_and_offset(dont_frag, !last || more_after, offset);
        fragment.set_checksum(0);
        fragment.fill_checksum();
        fragments.push(bytes);
        at += chunk.len();
    }
    Some(fragments)
}

/// The options that go into every fragment (copy flag set, RFC 791 §3.1), padded to 32 bits.
/// A malformed option ends the list.
fn copied_options(mut options: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    while let Some(&kind) = options.first() {
        let len = match kind {
            OPTION_END => break,
            OPTION_NOP => 1,
            _ => usize::from(options.get(1).copied().unwrap_or(0)).max(2),
        };
        let Some(option) = options.get(..len) else {
            break;
        };
        if kind & OPTION_COPIED != 0 {
            out.extend_from_slice(option);
        }
        options = options.get(len..).unwrap_or_default();
    }
    out.resize(out.len().next_multiple_of(4), OPTION_END);
    out
}

/// Option type End of Option List (RFC 791 §3.1).
const OPTION_END: u8 = 0;
/// Option type No Operation.
const OPTION_NOP: u8 = 1;
/// The copy flag of an option type: the option goes into every fragment.
const OPTION_COPIED: u8 = 0x80;

#[cfg(test)]
mod tests;
