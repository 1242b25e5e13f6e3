//! Enhanced GRE, version 1 (RFC 2637 §4.1): the PPTP data channel.
//!
//! Same first word as GRE, but the key is split into payload length and call ID, K must be set,
//! C, R, s, Recur and Flags must be zero, and A announces an acknowledgment number after the
//! (optional) sequence number.
//!
//! ```
//! use dmvpn_gre::{Packet, Protocol, enhanced};
//!
//! // packetlife gre_and_4over6.cap frame 2: PPTP data with a sequence number and no ack.
//! let bytes = [0x30, 0x01, 0x88, 0x0b, 0x00, 0x02, 0x00, 0x11, 0x00, 0x08, 0x3a, 0xb8, 0xff, 0x03];
//! let repr = enhanced::Repr::parse(&Packet::new_checked(&bytes[..])?)?;
//! assert_eq!(repr, enhanced::Repr {
//!     protocol: Protocol::PPP,
//!     payload_length: 2,
//!     call_id: 17,
//!     sequence: Some(539_320),
//!     ack: None,
//! });
//! # Ok::<(), dmvpn_gre::Error>(())
//! ```

use dmvpn_wire::field::check_length;
use dmvpn_wire::{Error, Layer, Result};

use crate::Protocol;
use crate::packet::{MIN_HEADER_LEN, Packet, field, flag};

/// A version 1 (enhanced GRE, PPTP) header.
#[derive(Clone, Copy, Debug, Default, Eq, Hash, PartialEq)]
pub struct Repr {
    /// The protocol type; RFC 2637 says 0x880B (PPP), which is not enforced.
    pub protocol: Protocol,
    /// The payload length, without the GRE header. [`Repr::parse`] checks it against the bytes there are.
    pub payload_length: u16,
    /// The peer's call ID for this session.
    pub call_id: u16,
    /// The sequence number of this payload (S set).
    pub sequence: Option<u32>,
    /// The highest sequence number received from the peer (A set).
    pub ack: Option<u32>,
}

/// Bits of the first word that RFC 2637 §4.1 says must be zero: C, R, s, Recur and Flags.
const MUST_BE_ZERO: u16 = flag::STRICT_ROUTE | flag::RECURSION | flag::FLAGS;

impl Repr {
    /// Parses and validates a version 1 header.
    ///
    /// Errors name the field: `version` (not 1), `checksum present` or `routing present` (set),
    /// `key present` (clear), `reserved0` (s, Recur or Flags set; the value is those bits),
    /// `payload length` ([`Error::BadLength`] when it claims more than there is), and
    /// [`Error::TrailingBytes`] when bytes follow the payload.
    pub fn parse<T: AsRef<[u8]>>(packet: &Packet<T>) -> Result<Self> {
        if packet.total_len() < MIN_HEADER_LEN {
            packet.check_len()?;
        }
        let flags = packet.flags_and_version();
        let invalid = |field, offset, value| Error::InvalidField {
            layer: Layer::Gre,
            field,
            offset,
            value,
        };
        if packet.version() != 1 {
            return Err(invalid("version", 1, packet.version().into()));
        }
        if packet.checksum_present() {
            return Err(invalid("checksum present", 0, 1));
        }
        if packet.routing_present() {
            return Err(invalid("routing present", 0, 1));
        }
        if !packet.key_present() {
            return Err(invalid("key present", 0, 0));
        }
        if flags & MUST_BE_ZERO != 0 {
            return Err(invalid("reserved0", 0, (flags & MUST_BE_ZERO).into()));
        }
        packet.check_len()?;
        let (Some(payload_length), Some(call_id)) = (packet.payload_length(), packet.call_id())
        else {
            // check_len has seen the key; this is unreachable, but an error beats a panic.
            return Err(Error::truncated(
                Layer::Gre,
                "key",
                field::OPTIONAL.start,
                4,
                0,
            ));
        };
        let header_len = packet.header_len();
        let available = packet.total_len().saturating_sub(header_len);
        let claimed = usize::from(payload_length);
        check_length(
            Layer::Gre,
            "payload length",
            field::OPTIONAL.start,
            claimed,
            0..=available,
        )?;
        if claimed < available {
            return Err(Error::TrailingBytes {
                layer: Layer::Gre,
                offset: header_len + claimed,
                len: available - claimed,
            });
        }
        Ok(Self {
            protocol: packet.protocol(),
            payload_length,
            call_id,
            sequence: packet.sequence(),
            ack: packet.ack(),
        })
    }

    /// The header length: 8 bytes, plus 4 for each of sequence and acknowledgment number.
    #[must_use]
    pub const fn buffer_len(&self) -> usize {
        // The key word is always there; each optional word present adds 4 bytes.
        let words = 1 + self.sequence.is_some() as usize + self.ack.is_some() as usize;
        field::OPTIONAL.start + 4 * words
    }

    /// Writes the header and lets `emit_payload` write the payload after it.
    ///
    /// # Panics
    /// If the buffer is shorter than [`Repr::buffer_len`].
    pub fn emit<T, F>(&self, packet: &mut Packet<T>, emit_payload: F)
    where
        T: AsRef<[u8]> + AsMut<[u8]>,
        F: FnOnce(&mut [u8]),
    {
        let flags = flag::KEY
            | 1
            | flag::when(self.sequence.is_some(), flag::SEQUENCE)
            | flag::when(self.ack.is_some(), flag::ACK);
        packet.set_flags_and_version(flags);
        packet.set_protocol(self.protocol);
        packet.set_payload_length(self.payload_length);
        packet.set_call_id(self.call_id);
        if let Some(sequence) = self.sequence {
            packet.set_sequence(sequence);
        }
        if let Some(ack) = self.ack {
            packet.set_ack(ack);
        }
        emit_payload(packet.payload_mut());
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::vectors::*;

    fn parse(bytes: &[u8]) -> Result<Repr> {
        Repr::parse(&Packet::new_unchecked(bytes))
    }

    #[test]
    fn parse_real_captures() {
        let frame1 = Repr {
            protocol: Protocol::PPP,
            payload_length: 103,
            call_id: 6016,
            sequence: Some(430_001),
            ack: Some(539_254),
        };
        assert_eq!(parse(&PPTP_FRAME_1), Ok(frame1));
        let frame2 = Repr {
            protocol: Protocol::PPP,
            payload_length: 178,
            call_id: 17,
            sequence: Some(539_320),
            ack: None,
        };
        assert_eq!(parse(&PPTP_FRAME_2), Ok(frame2));
        let ack_only = Repr {
            protocol: Protocol::PPP,
            payload_length: 0,
            call_id: 0x1234,
            sequence: None,
            ack: Some(99),
        };
        assert_eq!(parse(SCAPY_PPTP_ACK_ONLY), Ok(ack_only));
    }

    #[test]
    fn emit_matches_real_bytes() {
        for bytes in [&PPTP_FRAME_1[..], &PPTP_FRAME_2, SCAPY_PPTP_ACK_ONLY] {
            let packet = Packet::new_checked(bytes).unwrap();
            let repr = Repr::parse(&packet).unwrap();
            assert_eq!(repr.buffer_len(), packet.header_len());
            let mut buffer = vec![0xee; bytes.len()];
            repr.emit(&mut Packet::new_unchecked(&mut buffer[..]), |buf| {
                buf.copy_from_slice(packet.payload())
            });
            assert_eq!(buffer, bytes);
        }
    }

    #[test]
    fn buffer_len() {
        let repr = Repr::default();
        assert_eq!(repr.buffer_len(), 8);
        assert_eq!(
            Repr {
                sequence: Some(1),
                ..repr
            }
            .buffer_len(),
            12
        );
        assert_eq!(
            Repr {
                sequence: Some(1),
                ack: Some(1),
                ..repr
            }
            .buffer_len(),
            16
        );
    }

    #[test]
    fn rfc2637_must_be_zero_fields() {
        let with_flags = |flags: u16| {
            let mut bytes = SCAPY_PPTP_ACK_ONLY.to_vec();
            bytes[..2].copy_from_slice(&flags.to_be_bytes());
            parse(&bytes)
        };
        let gre = |field, offset, value| {
            Err(Error::InvalidField {
                layer: Layer::Gre,
                field,
                offset,
                value,
            })
        };
        assert_eq!(with_flags(0x2080), gre("version", 1, 0));
        assert_eq!(with_flags(0x2082), gre("version", 1, 2));
        assert_eq!(with_flags(0xa081), gre("checksum present", 0, 1));
        assert_eq!(with_flags(0x6081), gre("routing present", 0, 1));
        assert_eq!(with_flags(0x0081), gre("key present", 0, 0));
        assert_eq!(with_flags(0x2881), gre("reserved0", 0, 0x0800));
        assert_eq!(with_flags(0x2181), gre("reserved0", 0, 0x0100));
        assert_eq!(with_flags(0x2089), gre("reserved0", 0, 0x0008));
    }

    #[test]
    fn payload_length_must_match() {
        let mut bytes = PPTP_FRAME_2.to_vec();
        bytes.push(0);
        assert_eq!(
            parse(&bytes),
            Err(Error::TrailingBytes {
                layer: Layer::Gre,
                offset: 190,
                len: 1
            })
        );
        bytes.truncate(189);
        assert_eq!(
            parse(&bytes),
            Err(Error::bad_length(Layer::Gre, "payload length", 4, 178, 177))
        );
    }

    #[test]
    fn truncation() {
        let bytes = &PPTP_FRAME_1[..16];
        for cut in 0..bytes.len() {
            assert_eq!(
                parse(&bytes[..cut]).map(drop),
                Packet::new_checked(&bytes[..cut]).map(drop),
                "cut {cut}"
            );
            assert!(parse(&bytes[..cut]).is_err());
        }
    }

    #[test]
    fn version_0_repr_refuses_version_1() {
        let err = crate::Repr::parse(&Packet::new_unchecked(&PPTP_FRAME_1[..])).unwrap_err();
        assert_eq!(
            err.to_string(),
            "gre: field `version` at offset 1 has unsupported value 0x1"
        );
    }

    #[test]
    fn arbitrary_repr_round_trips() {
        bolero::check!()
            .with_type::<(u16, u16, Option<u32>, Option<u32>, Vec<u8>)>()
            .for_each(|(protocol, call_id, sequence, ack, payload)| {
                let payload = &payload[..payload.len().min(usize::from(u16::MAX))];
                let repr = Repr {
                    protocol: Protocol(*protocol),
                    payload_length: payload.len() as u16,
                    call_id: *call_id,
                    sequence: *sequence,
                    ack: *ack,
                };
                let mut buffer = vec![0; repr.buffer_len() + payload.len()];
                repr.emit(&mut Packet::new_unchecked(&mut buffer[..]), |buf| {
                    buf.copy_from_slice(payload)
                });
                let packet = Packet::new_checked(&buffer[..]).unwrap();
                assert_eq!(Repr::parse(&packet), Ok(repr));
                assert_eq!(packet.payload(), payload);
            });
    }
}
