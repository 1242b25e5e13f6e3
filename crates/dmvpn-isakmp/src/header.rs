//! The fixed 28-byte ISAKMP header (RFC 2408 §3.1).
//!
//! ```text
//!  0                   1                   2                   3
//!  0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
//! +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//! !                          Initiator                            !
//! !                            Cookie                             !
//! +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//! !                          Responder                            !
//! !                            Cookie                             !
//! +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//! !  Next Payload ! MjVer ! MnVer ! Exchange Type !     Flags     !
//! +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//! !                          Message ID                           !
//! +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//! !                            Length                             !
//! +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//! ```

use core::fmt;

use dmvpn_wire::field::check_length;
use dmvpn_wire::{Error, Layer, Result};

use crate::consts::{ExchangeType, PayloadType};

/// Byte positions of the header fields.
pub mod field {
    use dmvpn_wire::field::{Field, Rest};

    /// Initiator cookie (CKY-I).
    pub const INITIATOR_COOKIE: Field = 0..8;
    /// Responder cookie (CKY-R).
    pub const RESPONDER_COOKIE: Field = 8..16;
    /// First payload type.
    pub const NEXT_PAYLOAD: usize = 16;
    /// Major version (high nibble) and minor version (low nibble).
    pub const VERSION: usize = 17;
    /// Exchange type.
    pub const EXCHANGE_TYPE: usize = 18;
    /// Flags.
    pub const FLAGS: usize = 19;
    /// Message ID.
    pub const MESSAGE_ID: Field = 20..24;
    /// Length of the whole message, header included.
    pub const LENGTH: Field = 24..28;
    /// The payload chain (or the ciphertext when the E flag is set).
    pub const PAYLOAD: Rest = 28..;
}

/// Length of the ISAKMP header.
pub const HEADER_LEN: usize = field::PAYLOAD.start;

/// The version byte of IKEv1: major 1, minor 0.
pub const VERSION_1_0: u8 = 0x10;

/// The header flags (RFC 2408 §3.1).
#[derive(Clone, Copy, Default, Eq, Hash, PartialEq)]
pub struct Flags(pub u8);

impl Flags {
    /// E: the payloads after the header are encrypted.
    pub const ENCRYPTION: u8 = 0x01;
    /// C: commit bit, the sender wants a CONNECTED notification.
    pub const COMMIT: u8 = 0x02;
    /// A: authentication only, the payloads are hashed but not encrypted.
    pub const AUTH_ONLY: u8 = 0x04;

    dmvpn_wire::flag_getters! {
        /// Whether the E bit is set.
        pub fn encryption = ENCRYPTION;
        /// Whether the C bit is set.
        pub fn commit = COMMIT;
        /// Whether the A bit is set.
        pub fn auth_only = AUTH_ONLY;
    }

    /// Bits RFC 2408 leaves reserved (must be zero).
    #[must_use]
    pub const fn reserved(self) -> u8 {
        self.0 & !(Self::ENCRYPTION | Self::COMMIT | Self::AUTH_ONLY)
    }
}

impl fmt::Debug for Flags {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self, f)
    }
}

impl fmt::Display for Flags {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:#04x}", self.0)?;
        let names = [
            (self.encryption(), "E"),
            (self.commit(), "C"),
            (self.auth_only(), "A"),
        ];
        let mut sep = " [";
        for (set, name) in names {
            if set {
                write!(f, "{sep}{name}")?;
                sep = ",";
            }
        }
        if sep == "," { f.write_str("]") } else { Ok(()) }
    }
}

dmvpn_wire::view! {
    /// A read/write view over an ISAKMP message.
    #[derive(Clone, Copy, Eq, PartialEq)]
    pub struct Packet, error = Error;
}

impl<T: AsRef<[u8]>> Packet<T> {
    /// Checks that the buffer holds the header and that the length field covers at least the header and at
    /// most the buffer. Bytes after `length` are allowed here (see [`crate::Message::parse`]).
    pub fn check_len(&self) -> Result<()> {
        let buf = self.buffer.as_ref();
        if buf.len() < HEADER_LEN {
            let (field, offset) = match buf.len() {
                0..8 => ("initiator cookie", 0),
                8..16 => ("responder cookie", 8),
                16 => ("next payload", 16),
                17 => ("version", 17),
                18 => ("exchange type", 18),
                19 => ("flags", 19),
                20..24 => ("message id", 20),
                _ => ("length", 24),
            };
            let needed = match field {
                "initiator cookie" | "responder cookie" => 8,
                "message id" | "length" => 4,
                _ => 1,
            };
            return Err(Error::truncated(
                Layer::Isakmp,
                field,
                offset,
                needed,
                buf.len(),
            ));
        }
        let length = self.length() as usize;
        check_length(
            Layer::Isakmp,
            "length",
            field::LENGTH.start,
            length,
            HEADER_LEN..=buf.len(),
        )
    }

    /// Initiator cookie (CKY-I).
    #[must_use]
    pub fn initiator_cookie(&self) -> [u8; 8] {
        let mut cookie = [0; 8];
        cookie.copy_from_slice(&self.buffer.as_ref()[field::INITIATOR_COOKIE]);
        cookie
    }

    /// Responder cookie (CKY-R); zero in the first message of an exchange.
    #[must_use]
    pub fn responder_cookie(&self) -> [u8; 8] {
        let mut cookie = [0; 8];
        cookie.copy_from_slice(&self.buffer.as_ref()[field::RESPONDER_COOKIE]);
        cookie
    }

    dmvpn_wire::getters! {
        /// Type of the first payload.
        pub fn next_payload -> PayloadType(u8) = field::NEXT_PAYLOAD;
        /// The raw version byte.
        pub fn version -> u8 = field::VERSION;
    }

    /// Major version (1 for IKEv1, 2 for IKEv2).
    #[must_use]
    pub fn major_version(&self) -> u8 {
        self.version() >> 4
    }

    /// Minor version.
    #[must_use]
    pub fn minor_version(&self) -> u8 {
        self.version() & 0x0f
    }

    /// Checks that the major version is `major`: any other is [`Error::Unsupported`], naming the
    /// version field. IKEv1 and IKEv2 share the header layout and the port, so each repr's parser
    /// checks its own.
    pub fn check_major_version(&self, major: u8) -> Result<()> {
        if self.major_version() != major {
            return Err(Error::Unsupported {
                layer: Layer::Isakmp,
                field: "major version",
                offset: field::VERSION,
                value: u32::from(self.major_version()),
            });
        }
        Ok(())
    }

    dmvpn_wire::getters! {
        /// Exchange type.
        pub fn exchange_type -> ExchangeType(u8) = field::EXCHANGE_TYPE;
        /// Flags.
        pub fn flags -> Flags(u8) = field::FLAGS;
        /// Message ID: zero in phase 1, random per Quick Mode / Informational / Transaction exchange.
        pub fn message_id -> u32 = field::MESSAGE_ID;
        /// Length of the message, header and padding included.
        pub fn length -> u32 = field::LENGTH;
    }
}

impl<'a, T: AsRef<[u8]> + ?Sized> Packet<&'a T> {
    /// The bytes after the header up to `length`: the payload chain, or the ciphertext.
    #[must_use]
    pub fn payload(&self) -> &'a [u8] {
        let buf = self.buffer.as_ref();
        let end = (self.length() as usize).clamp(HEADER_LEN, buf.len());
        &buf[HEADER_LEN..end]
    }
}

impl<T: AsRef<[u8]> + AsMut<[u8]>> Packet<T> {
    /// Sets the initiator cookie.
    pub fn set_initiator_cookie(&mut self, value: [u8; 8]) {
        self.buffer.as_mut()[field::INITIATOR_COOKIE].copy_from_slice(&value);
    }

    /// Sets the responder cookie.
    pub fn set_responder_cookie(&mut self, value: [u8; 8]) {
        self.buffer.as_mut()[field::RESPONDER_COOKIE].copy_from_slice(&value);
    }

    dmvpn_wire::setters! {
        /// Sets the first payload type.
        pub fn set_next_payload(PayloadType(u8)) = field::NEXT_PAYLOAD;
        /// Sets the version byte.
        pub fn set_version(u8) = field::VERSION;
        /// Sets the exchange type.
        pub fn set_exchange_type(ExchangeType(u8)) = field::EXCHANGE_TYPE;
        /// Sets the flags.
        pub fn set_flags(Flags(u8)) = field::FLAGS;
        /// Sets the message ID.
        pub fn set_message_id(u32) = field::MESSAGE_ID;
        /// Sets the length.
        pub fn set_length(u32) = field::LENGTH;
    }

    /// The bytes after the header, mutable (the whole rest of the buffer).
    pub fn payload_mut(&mut self) -> &mut [u8] {
        &mut self.buffer.as_mut()[field::PAYLOAD]
    }
}

impl<T: AsRef<[u8]>> fmt::Debug for Packet<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.buffer.as_ref().len() < HEADER_LEN {
            return f
                .debug_struct("isakmp::Packet")
                .field("len", &self.buffer.as_ref().len())
                .finish_non_exhaustive();
        }
        f.debug_struct("isakmp::Packet")
            .field(
                "initiator_cookie",
                &dmvpn_wire::fmt::Hex(&self.initiator_cookie()),
            )
            .field(
                "responder_cookie",
                &dmvpn_wire::fmt::Hex(&self.responder_cookie()),
            )
            .field("next_payload", &self.next_payload())
            .field("version", &format_args!("{:#04x}", self.version()))
            .field("exchange_type", &self.exchange_type())
            .field("flags", &self.flags())
            .field("message_id", &format_args!("{:#010x}", self.message_id()))
            .field("length", &self.length())
            .finish()
    }
}

/// The parsed header.
#[derive(Clone, Copy, Debug, Eq, Hash, PartialEq)]
pub struct Header {
    /// Initiator cookie (CKY-I).
    pub initiator_cookie: [u8; 8],
    /// Responder cookie (CKY-R).
    pub responder_cookie: [u8; 8],
    /// Type of the first payload.
    pub next_payload: PayloadType,
    /// Version byte; IKEv1 is [`VERSION_1_0`].
    pub version: u8,
    /// Exchange type.
    pub exchange_type: ExchangeType,
    /// Flags.
    pub flags: Flags,
    /// Message ID.
    pub message_id: u32,
    /// Length of the message, header and padding included.
    pub length: u32,
}

impl Header {
    /// Parses the header; a major version other than 1 is [`Error::Unsupported`] (IKEv2 shares port 500).
    pub fn parse<T: AsRef<[u8]> + ?Sized>(packet: &Packet<&T>) -> Result<Self> {
        packet.check_len()?;
        packet.check_major_version(1)?;
        Ok(Self::read(packet))
    }

    /// Reads the fields of a header known to be whole (after [`Packet::check_len`] or a length
    /// check), whatever its version: the display filter and the snapshot-length-cut decoder read
    /// IKEv2 headers this way too, the fields being in the same places (RFC 7296 §3.1).
    #[must_use]
    pub fn read<T: AsRef<[u8]> + ?Sized>(packet: &Packet<&T>) -> Self {
        Self {
            initiator_cookie: packet.initiator_cookie(),
            responder_cookie: packet.responder_cookie(),
            next_payload: packet.next_payload(),
            version: packet.version(),
            exchange_type: packet.exchange_type(),
            flags: packet.flags(),
            message_id: packet.message_id(),
            length: packet.length(),
        }
    }

    /// The header length, 28.
    #[must_use]
    pub const fn buffer_len(&self) -> usize {
        HEADER_LEN
    }

    /// Writes the header into the first 28 bytes of `packet`.
    pub fn emit<T: AsRef<[u8]> + AsMut<[u8]>>(&self, packet: &mut Packet<T>) {
        packet.set_initiator_cookie(self.initiator_cookie);
        packet.set_responder_cookie(self.responder_cookie);
        packet.set_next_payload(self.next_payload);
        packet.set_version(self.version);
        packet.set_exchange_type(self.exchange_type);
        packet.set_flags(self.flags);
        packet.set_message_id(self.message_id);
        packet.set_length(self.length);
    }
}

/// The 4-byte non-ESP marker that prefixes IKE on UDP port 4500 (RFC 3948 §2.2).
pub const NON_ESP_MARKER: [u8; 4] = [0; 4];

/// The UDP port of IKE.
pub const UDP_PORT: u16 = 500;

/// The UDP port of NAT-T (RFC 3947 §4, RFC 3948).
pub const NAT_T_PORT: u16 = 4500;

/// What a UDP/4500 datagram carries (RFC 3948 §2).
#[derive(Clone, Copy, Debug, Eq, PartialEq)]
pub enum Udp4500<'a> {
    /// An IKE message after the non-ESP marker.
    Ike(&'a [u8]),
    /// An ESP packet (non-zero SPI).
    Esp(&'a [u8]),
    /// A NAT-keepalive: the single byte 0xff (RFC 3948 §2.3).
    Keepalive,
}

/// Classifies a UDP/4500 payload: a zero SPI is the non-ESP marker, a lone 0xff is a keepalive,
/// anything else of 8 or more bytes is ESP.
///
/// ```
/// use dmvpn_isakmp::header::{Udp4500, split_udp_4500};
/// assert_eq!(split_udp_4500(&[0xff])?, Udp4500::Keepalive);
/// assert_eq!(split_udp_4500(&[0, 0, 0, 0, 1, 2])?, Udp4500::Ike(&[1, 2]));
/// assert!(matches!(split_udp_4500(&[0, 0, 1, 0, 0, 0, 0, 7])?, Udp4500::Esp(_)));
/// # Ok::<(), dmvpn_isakmp::Error>(())
/// ```
pub fn split_udp_4500(payload: &[u8]) -> Result<Udp4500<'_>> {
    if payload == [0xff] {
        return Ok(Udp4500::Keepalive);
    }
    match payload {
        [0, 0, 0, 0, rest @ ..] => Ok(Udp4500::Ike(rest)),
        _ if payload.len() >= 8 => Ok(Udp4500::Esp(payload)),
        _ => Err(Error::truncated(
            Layer::Isakmp,
            "non-ESP marker",
            0,
            4,
            payload.len(),
        )),
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    dmvpn_wire::hex_consts! {
        /// packetlife ISAKMP_sa_setup.cap frame 2: the responder's first Main Mode message (Cisco IOS:
        /// SA and the NAT-T draft 07 vendor ID).
        pub(crate) const MM2: [u8; 108] = "cf02326f14a95b9318a109f89219e8df01100200000000000000006c0d00003c00000001000000010000003001010001000000280101000080010007800e0080800200028004000180030001800b0001000c00040001518000000014439b59f8ba676c4c7737ae22eab8f582";
    }

    fn repr() -> Header {
        Header {
            initiator_cookie: [0xcf, 0x02, 0x32, 0x6f, 0x14, 0xa9, 0x5b, 0x93],
            responder_cookie: [0x18, 0xa1, 0x09, 0xf8, 0x92, 0x19, 0xe8, 0xdf],
            next_payload: PayloadType::SA,
            version: VERSION_1_0,
            exchange_type: ExchangeType::MAIN,
            flags: Flags(0),
            message_id: 0,
            length: 108,
        }
    }

    #[test]
    fn deconstruct() {
        let packet = Packet::new_checked(&MM2[..]).unwrap();
        assert_eq!(
            packet.initiator_cookie(),
            [0xcf, 0x02, 0x32, 0x6f, 0x14, 0xa9, 0x5b, 0x93]
        );
        assert_eq!(
            packet.responder_cookie(),
            [0x18, 0xa1, 0x09, 0xf8, 0x92, 0x19, 0xe8, 0xdf]
        );
        assert_eq!(packet.next_payload(), PayloadType::SA);
        assert_eq!((packet.major_version(), packet.minor_version()), (1, 0));
        assert_eq!(packet.exchange_type(), ExchangeType::MAIN);
        assert_eq!(packet.flags(), Flags(0));
        assert_eq!(packet.message_id(), 0);
        assert_eq!(packet.length(), 108);
        assert_eq!(packet.payload(), &MM2[28..]);
    }

    #[test]
    fn construct_emit_parse() {
        let mut bytes = MM2;
        bytes[..28].fill(0xa5);
        let mut packet = Packet::new_unchecked(&mut bytes[..]);
        repr().emit(&mut packet);
        assert_eq!(bytes, MM2);
        assert_eq!(
            Header::parse(&Packet::new_checked(&bytes[..]).unwrap()).unwrap(),
            repr()
        );
        assert_eq!(repr().buffer_len(), 28);
    }

    #[test]
    fn flags() {
        let all = Flags(0x07);
        assert!(all.encryption() && all.commit() && all.auth_only());
        assert_eq!(all.to_string(), "0x07 [E,C,A]");
        assert_eq!(Flags(0x01).to_string(), "0x01 [E]");
        assert_eq!(Flags(0x80).to_string(), "0x80");
        assert_eq!(Flags(0x81).reserved(), 0x80);
    }

    #[test]
    fn truncation_loop() {
        let fields = [
            (0, "initiator cookie"),
            (8, "responder cookie"),
            (16, "next payload"),
            (17, "version"),
            (18, "exchange type"),
            (19, "flags"),
            (20, "message id"),
            (24, "length"),
        ];
        for len in 0..HEADER_LEN {
            let err = Packet::new_checked(&MM2[..len]).unwrap_err();
            let (offset, field) = fields
                .iter()
                .rev()
                .find(|(start, _)| *start <= len)
                .copied()
                .unwrap();
            let needed = if offset < 16 {
                8
            } else if offset >= 20 {
                4
            } else {
                1
            };
            assert_eq!(
                err,
                Error::truncated(Layer::Isakmp, field, offset, needed, len),
                "len {len}"
            );
        }
    }

    #[test]
    fn bad_length_and_version() {
        assert_eq!(
            Packet::new_checked(&MM2[..107]).unwrap_err().to_string(),
            "isakmp: length field `length` at offset 24 says 108 bytes, but 107 are there"
        );
        let mut bytes = MM2;
        bytes[27] = 27;
        assert!(Packet::new_checked(&bytes[..]).is_err());
        bytes[27] = 28;
        assert!(
            Packet::new_checked(&bytes[..])
                .unwrap()
                .payload()
                .is_empty()
        );
        let mut bytes = MM2;
        bytes[17] = 0x20;
        assert_eq!(
            Header::parse(&Packet::new_unchecked(&bytes[..]))
                .unwrap_err()
                .to_string(),
            "isakmp: field `major version` at offset 17 has unsupported value 0x2"
        );
    }

    #[test]
    fn udp_4500() {
        assert_eq!(
            split_udp_4500(&[0, 0, 0]).unwrap_err().to_string(),
            "isakmp: truncated reading `non-ESP marker` at offset 0: need 4 bytes, have 3"
        );
        assert_eq!(split_udp_4500(&[0, 0, 0, 0]).unwrap(), Udp4500::Ike(&[]));
    }

    #[test]
    fn arbitrary_headers_never_panic() {
        bolero::check!().for_each(|data: &[u8]| {
            let packet = Packet::new_unchecked(data);
            if packet.check_len().is_ok() {
                let _ = format!("{packet:?}");
                let _ = packet.payload();
                if let Ok(header) = Header::parse(&packet) {
                    let mut out = [0; 28];
                    header.emit(&mut Packet::new_unchecked(&mut out[..]));
                    assert_eq!(out[..], data[..28]);
                }
            }
            let _ = split_udp_4500(data);
        });
    }
}
