//! The IKEv2 header (RFC 7296 §3.1) as a repr over the shared 28-byte [`Packet`] view.
//!
//! ```text
//!                      1                   2                   3
//!  0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
//! +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//! |                       IKE SA Initiator's SPI                  |
//! |                                                               |
//! +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//! |                       IKE SA Responder's SPI                  |
//! |                                                               |
//! +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//! |  Next Payload | MjVer | MnVer | Exchange Type |     Flags     |
//! +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//! |                          Message ID                           |
//! +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//! |                            Length                             |
//! +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//! ```

use core::fmt;

use dmvpn_wire::Result;

use super::consts::{ExchangeType, PayloadType};
use crate::header::Packet;

/// The version byte of IKEv2: major 2, minor 0.
pub const VERSION_2_0: u8 = 0x20;

/// The IKEv2 header flags (RFC 7296 §3.1).
#[derive(Clone, Copy, Default, Eq, Hash, PartialEq)]
pub struct Flags(pub u8);

impl Flags {
    /// I (Initiator): set by the original initiator of the IKE SA.
    pub const INITIATOR: u8 = 0x08;
    /// V (Version): the sender can speak a higher major version.
    pub const VERSION: u8 = 0x10;
    /// R (Response): the message is a response.
    pub const RESPONSE: u8 = 0x20;

    dmvpn_wire::flag_getters! {
        /// Whether the I bit is set.
        pub fn initiator = INITIATOR;
        /// Whether the V bit is set.
        pub fn higher_version = VERSION;
        /// Whether the R bit is set.
        pub fn response = RESPONSE;
    }
}

impl fmt::Debug for Flags {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self, f)
    }
}

impl fmt::Display for Flags {
    /// As tshark shows them: `0x08 (Initiator, No higher version, Request)`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{:#04x} ({}, {}, {})",
            self.0,
            if self.initiator() {
                "Initiator"
            } else {
                "Responder"
            },
            if self.higher_version() {
                "Higher version"
            } else {
                "No higher version"
            },
            if self.response() {
                "Response"
            } else {
                "Request"
            },
        )
    }
}

/// The parsed IKEv2 header.
#[derive(Clone, Copy, Debug, Eq, Hash, PartialEq)]
pub struct Header {
    /// IKE SA initiator's SPI.
    pub initiator_spi: [u8; 8],
    /// IKE SA responder's SPI (zero in the first IKE_SA_INIT request).
    pub responder_spi: [u8; 8],
    /// Type of the first payload.
    pub next_payload: PayloadType,
    /// Version byte; IKEv2 is [`VERSION_2_0`].
    pub version: u8,
    /// Exchange type.
    pub exchange_type: ExchangeType,
    /// Flags.
    pub flags: Flags,
    /// Message ID: counts the requests of each side from 0 (RFC 7296 §2.2).
    pub message_id: u32,
    /// Length of the message, header included.
    pub length: u32,
}

impl Header {
    /// Parses the header; a major version other than 2 is [`Error::Unsupported`](dmvpn_wire::Error::Unsupported).
    pub fn parse<T: AsRef<[u8]> + ?Sized>(packet: &Packet<&T>) -> Result<Self> {
        packet.check_len()?;
        packet.check_major_version(2)?;
        Ok(Self::read(packet))
    }

    /// Reads the fields of a header known to be whole (after [`Packet::check_len`] or a length
    /// check), whatever its version: the snapshot-length-cut decoder needs that.
    #[must_use]
    pub fn read<T: AsRef<[u8]> + ?Sized>(packet: &Packet<&T>) -> Self {
        Self {
            initiator_spi: packet.initiator_cookie(),
            responder_spi: packet.responder_cookie(),
            next_payload: PayloadType(packet.next_payload().0),
            version: packet.version(),
            exchange_type: ExchangeType(packet.exchange_type().0),
            flags: Flags(packet.flags().0),
            message_id: packet.message_id(),
            length: packet.length(),
        }
    }

    /// The header length, 28.
    #[must_use]
    pub const fn buffer_len(&self) -> usize {
        crate::header::HEADER_LEN
    }

    /// Writes the header into the first 28 bytes of `packet`.
    pub fn emit<T: AsRef<[u8]> + AsMut<[u8]>>(&self, packet: &mut Packet<T>) {
        packet.set_initiator_cookie(self.initiator_spi);
        packet.set_responder_cookie(self.responder_spi);
        packet.set_next_payload(crate::PayloadType(self.next_payload.0));
        packet.set_version(self.version);
        packet.set_exchange_type(crate::ExchangeType(self.exchange_type.0));
        packet.set_flags(crate::Flags(self.flags.0));
        packet.set_message_id(self.message_id);
        packet.set_length(self.length);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[rustfmt::skip]
    const HEADER: [u8; 28] = [
        0x19, 0xab, 0x98, 0x96, 0x34, 0x86, 0x35, 0x9f, 0x78, 0xf1, 0x31, 0x57, 0xcc, 0xd3, 0xb3, 0xd8,
        0x2e, 0x20, 0x23, 0x08, 0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x1c,
    ];

    fn repr() -> Header {
        Header {
            initiator_spi: [0x19, 0xab, 0x98, 0x96, 0x34, 0x86, 0x35, 0x9f],
            responder_spi: [0x78, 0xf1, 0x31, 0x57, 0xcc, 0xd3, 0xb3, 0xd8],
            next_payload: PayloadType::SK,
            version: VERSION_2_0,
            exchange_type: ExchangeType::IKE_AUTH,
            flags: Flags(Flags::INITIATOR),
            message_id: 1,
            length: 28,
        }
    }

    #[test]
    fn parse_emit_round_trip() {
        let packet = Packet::new_checked(&HEADER[..]).unwrap();
        assert_eq!(Header::parse(&packet).unwrap(), repr());
        let mut out = [0xa5; 28];
        repr().emit(&mut Packet::new_unchecked(&mut out[..]));
        assert_eq!(out, HEADER);
        assert_eq!(repr().buffer_len(), 28);
    }

    #[test]
    fn version_one_is_unsupported_here() {
        let mut bytes = HEADER;
        bytes[17] = 0x10;
        assert_eq!(
            Header::parse(&Packet::new_unchecked(&bytes[..]))
                .unwrap_err()
                .to_string(),
            "isakmp: field `major version` at offset 17 has unsupported value 0x1"
        );
    }

    #[test]
    fn flags() {
        assert_eq!(
            Flags(0x08).to_string(),
            "0x08 (Initiator, No higher version, Request)"
        );
        assert_eq!(
            Flags(0x30).to_string(),
            "0x30 (Responder, Higher version, Response)"
        );
        assert!(Flags(0x28).initiator() && Flags(0x28).response());
        assert!(!Flags(0x28).higher_version());
    }
}
