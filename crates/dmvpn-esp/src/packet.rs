//! The cleartext ESP header: SPI and sequence number (RFC 4303 §2).
//!
//! ```text
//!  0                   1                   2                   3
//!  0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
//! +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//! |               Security Parameters Index (SPI)                 |
//! +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//! |                      Sequence Number                          |
//! +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//! |        IV, ciphertext (payload, padding, pad length,          |
//! ~        next header) and ICV: opaque without the SA            ~
//! +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//! ```
//!
//! Everything after the sequence number needs the SA: see [`Sa`](crate::Sa) for decryption and
//! [`trailer`](crate::trailer) for the fields inside the ciphertext.

use dmvpn_wire::{Error, Layer, Result};

/// Byte positions of the header fields.
pub mod field {
    use dmvpn_wire::field::{Field, Rest};

    /// Security Parameters Index (RFC 4303 §2.1).
    pub const SPI: Field = 0..4;
    /// Sequence number, the low 32 bits under ESN (RFC 4303 §2.2).
    pub const SEQUENCE_NUMBER: Field = 4..8;
    /// IV, ciphertext and ICV.
    pub const PAYLOAD: Rest = 8..;
}

/// The length of the cleartext header.
pub const HEADER_LEN: usize = field::PAYLOAD.start;

dmvpn_wire::view! {
    /// A read/write view of an ESP packet, from the SPI to the end of the ICV.
    #[derive(Clone, Debug, Eq, PartialEq)]
    pub struct Packet, error = Error;
}

impl<T: AsRef<[u8]>> Packet<T> {
    /// Checks that the SPI and the sequence number are there.
    ///
    /// # Errors
    /// [`Error::Truncated`] naming the first missing field.
    pub fn check_len(&self) -> Result<()> {
        let fields = [
            ("spi", field::SPI),
            ("sequence number", field::SEQUENCE_NUMBER),
        ];
        dmvpn_wire::check_fields!(Layer::Esp, self.buffer.as_ref().len(), fields);
        Ok(())
    }

    dmvpn_wire::getters! {
        /// The Security Parameters Index.
        pub fn spi -> u32 = field::SPI;
        /// The sequence number (its low 32 bits under ESN).
        pub fn sequence_number -> u32 = field::SEQUENCE_NUMBER;
    }
}

impl<'a, T: AsRef<[u8]> + ?Sized> Packet<&'a T> {
    /// IV, ciphertext and ICV.
    #[must_use]
    pub fn payload(&self) -> &'a [u8] {
        &self.buffer.as_ref()[field::PAYLOAD]
    }
}

impl<T: AsRef<[u8]> + AsMut<[u8]>> Packet<T> {
    dmvpn_wire::setters! {
        /// Sets the Security Parameters Index.
        pub fn set_spi(u32) = field::SPI;
        /// Sets the sequence number.
        pub fn set_sequence_number(u32) = field::SEQUENCE_NUMBER;
    }

    /// IV, ciphertext and ICV, writable.
    pub fn payload_mut(&mut self) -> &mut [u8] {
        &mut self.buffer.as_mut()[field::PAYLOAD]
    }
}

/// The cleartext header of an ESP packet.
#[derive(Clone, Copy, Debug, Eq, Hash, PartialEq)]
pub struct Repr {
    /// Security Parameters Index; 0 is reserved and never sent (RFC 4303 §2.1).
    pub spi: u32,
    /// Sequence number, the low 32 bits under ESN (RFC 4303 §2.2).
    pub sequence_number: u32,
}

impl Repr {
    /// Parses the header.
    ///
    /// # Errors
    /// [`Error::Truncated`] for a short buffer, [`Error::InvalidField`] for SPI 0, which RFC 4303
    /// §2.1 reserves for local use (NAT-T uses it as the non-ESP marker, RFC 3948 §2.2).
    pub fn parse<T: AsRef<[u8]> + ?Sized>(packet: &Packet<&T>) -> Result<Self> {
        packet.check_len()?;
        let spi = packet.spi();
        if spi == 0 {
            return Err(Error::invalid_field(Layer::Esp, "spi", 0, 0));
        }
        Ok(Self {
            spi,
            sequence_number: packet.sequence_number(),
        })
    }

    /// The length of the emitted header.
    #[must_use]
    pub const fn buffer_len(&self) -> usize {
        HEADER_LEN
    }

    /// Writes the header into a buffer of at least [`buffer_len`](Self::buffer_len) bytes.
    pub fn emit<T: AsRef<[u8]> + AsMut<[u8]> + ?Sized>(&self, packet: &mut Packet<&mut T>) {
        packet.set_spi(self.spi);
        packet.set_sequence_number(self.sequence_number);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloc::string::ToString;

    dmvpn_wire::hex_consts! {
        // RFC 3602 §4 case 5: SPI 0x4321, sequence number 1, then the IV.
        const BYTES: [u8; 12] = "00004321 00000001 e96e8c08";

        // libreswan-klips/08-sunrise-sunset-esp-sha1.pcap frame 1, from the SPI: KLIPS 3DES/SHA1 to
        // 192.1.2.45, SPI 0xd1234567, sequence number 1, then the 8-byte 3DES IV.
        const KLIPS: [u8; 16] = "d1234567 00000001 4694ca8269e6ceb6";
    }

    #[test]
    fn deconstruct() {
        let packet = Packet::new_checked(&BYTES[..]).unwrap();
        assert_eq!(packet.spi(), 0x4321);
        assert_eq!(packet.sequence_number(), 1);
        assert_eq!(packet.payload(), &[0xe9, 0x6e, 0x8c, 0x08]);
        assert_eq!(packet.into_inner(), &BYTES[..]);
    }

    #[test]
    fn real_capture() {
        let packet = Packet::new_checked(&KLIPS[..]).unwrap();
        assert_eq!(
            Repr::parse(&packet),
            Ok(Repr {
                spi: 0xd123_4567,
                sequence_number: 1
            })
        );
        assert_eq!(packet.payload().len(), 8);
    }

    #[test]
    fn construct() {
        let mut bytes = [0xa5; 12];
        let mut packet = Packet::new_unchecked(&mut bytes[..]);
        packet.set_spi(0x4321);
        packet.set_sequence_number(1);
        packet.payload_mut().copy_from_slice(&BYTES[8..]);
        assert_eq!(bytes, BYTES);
    }

    #[test]
    fn parse_emit_round_trip() {
        let repr = Repr::parse(&Packet::new_checked(&BYTES[..]).unwrap()).unwrap();
        assert_eq!(
            repr,
            Repr {
                spi: 0x4321,
                sequence_number: 1
            }
        );
        assert_eq!(repr.buffer_len(), 8);
        let mut bytes = [0; 8];
        repr.emit(&mut Packet::new_unchecked(&mut bytes[..]));
        assert_eq!(bytes, BYTES[..8]);
    }

    #[test]
    fn spi_zero_is_reserved() {
        let err = Repr::parse(&Packet::new_unchecked(&[0, 0, 0, 0, 0, 0, 0, 1][..])).unwrap_err();
        assert_eq!(
            err.to_string(),
            "esp: field `spi` at offset 0 has invalid value 0x0"
        );
    }

    #[test]
    fn truncation() {
        for len in 0..HEADER_LEN {
            let err = Packet::new_checked(&BYTES[..len]).unwrap_err();
            let expected = if len < 4 {
                Error::truncated(Layer::Esp, "spi", 0, 4, len)
            } else {
                Error::truncated(Layer::Esp, "sequence number", 4, 4, len)
            };
            assert_eq!(err, expected, "prefix of {len} bytes");
            assert_eq!(
                Repr::parse(&Packet::new_unchecked(&BYTES[..len])),
                Err(expected)
            );
        }
        assert_eq!(
            Packet::new_checked(&BYTES[..5]).unwrap_err().to_string(),
            "esp: truncated reading `sequence number` at offset 4: need 4 bytes, have 1"
        );
    }

    #[test]
    fn arbitrary_bytes_never_panic() {
        bolero::check!().for_each(|bytes: &[u8]| {
            if let Ok(packet) = Packet::new_checked(bytes) {
                let _ = Repr::parse(&packet);
                assert_eq!(packet.payload().len(), bytes.len() - HEADER_LEN);
            }
        });
    }

    #[test]
    fn arbitrary_repr_round_trips() {
        bolero::check!()
            .with_type::<(u32, u32)>()
            .for_each(|&(spi, sequence_number)| {
                let repr = Repr {
                    spi: spi.max(1),
                    sequence_number,
                };
                let mut bytes = [0; HEADER_LEN];
                repr.emit(&mut Packet::new_unchecked(&mut bytes[..]));
                assert_eq!(
                    Repr::parse(&Packet::new_checked(&bytes[..]).unwrap()),
                    Ok(repr)
                );
            });
    }
}
