//! The ESP trailer, inside the decrypted plaintext (RFC 4303 §2.4–§2.6).
//!
//! ```text
//! +---------------+---------------------+------------+-------------+
//! | payload data  | padding 1, 2, 3, …  | pad length | next header |
//! +---------------+---------------------+------------+-------------+
//!                   0–255 bytes           1 byte       1 byte
//! ```
//!
//! A [`Trailer`] is a view over the whole plaintext, read from its end; [`Repr`] is the validated
//! pair of pad length and next header. Offsets in errors count from the start of the plaintext;
//! [`Sa`](crate::Sa) rebases them to the start of the ESP packet.

use crate::{DecryptError, NextHeader};

/// How strictly to check the padding bytes on receipt (RFC 4303 §2.4).
#[derive(Clone, Copy, Debug, Default, Eq, Hash, PartialEq)]
pub enum PaddingCheck {
    /// The default padding contents: 1, 2, 3, … (RFC 4303 §2.4, "the receiver SHOULD inspect").
    #[default]
    Monotonic,
    /// Accept any padding bytes (Wireshark's `esp.padding` "any"), for peers that zero-fill.
    Ignore,
}

/// The length of pad length and next header.
pub const LEN: usize = 2;

dmvpn_wire::view! {
    /// A read/write view of a decrypted ESP plaintext: payload, padding, pad length, next header.
    #[derive(Clone, Debug, Eq, PartialEq)]
    pub struct Trailer, error = DecryptError;
}

impl<T: AsRef<[u8]>> Trailer<T> {
    /// Checks that pad length and next header are there and that the padding fits.
    ///
    /// # Errors
    /// [`DecryptError::Truncated`] below two bytes, [`DecryptError::BadPadLength`] if the pad
    /// length is longer than the plaintext before it (RFC 4303 §2.5).
    pub fn check_len(&self) -> Result<(), DecryptError> {
        let bytes = self.buffer.as_ref();
        let Some(offset) = bytes.len().checked_sub(LEN) else {
            return Err(DecryptError::Truncated {
                field: "trailer",
                offset: 0,
                needed: LEN,
                available: bytes.len(),
            });
        };
        let pad_len = bytes[offset];
        if usize::from(pad_len) > offset {
            return Err(DecryptError::BadPadLength {
                offset,
                pad_len,
                available: offset,
            });
        }
        Ok(())
    }

    /// Offset of the pad length field, the first byte after the padding.
    #[must_use]
    pub fn pad_len_offset(&self) -> usize {
        self.buffer.as_ref().len() - LEN
    }

    /// The pad length.
    #[must_use]
    pub fn pad_len(&self) -> u8 {
        self.buffer.as_ref()[self.pad_len_offset()]
    }

    /// The next header: the IP protocol number of the payload (47 for DMVPN's GRE).
    #[must_use]
    pub fn next_header(&self) -> NextHeader {
        NextHeader(self.buffer.as_ref()[self.pad_len_offset() + 1])
    }

    /// The length of the payload data before the padding.
    #[must_use]
    pub fn payload_len(&self) -> usize {
        self.pad_len_offset() - usize::from(self.pad_len())
    }

    /// Checks the padding against the default 1, 2, 3, … contents.
    ///
    /// # Errors
    /// [`DecryptError::BadPadding`] at the first byte that differs.
    pub fn check_padding(&self) -> Result<(), DecryptError> {
        let start = self.payload_len();
        let padding = &self.buffer.as_ref()[start..self.pad_len_offset()];
        for (index, (&found, expected)) in padding.iter().zip(1..=u8::MAX).enumerate() {
            if found != expected {
                return Err(DecryptError::BadPadding {
                    offset: start + index,
                    expected,
                    found,
                });
            }
        }
        Ok(())
    }
}

impl<'a, T: AsRef<[u8]> + ?Sized> Trailer<&'a T> {
    /// The payload data.
    #[must_use]
    pub fn payload(&self) -> &'a [u8] {
        &self.buffer.as_ref()[..self.payload_len()]
    }

    /// The padding bytes.
    #[must_use]
    pub fn padding(&self) -> &'a [u8] {
        &self.buffer.as_ref()[self.payload_len()..self.pad_len_offset()]
    }
}

impl<T: AsRef<[u8]> + AsMut<[u8]>> Trailer<T> {
    /// Sets the pad length.
    pub fn set_pad_len(&mut self, value: u8) {
        let at = self.pad_len_offset();
        self.buffer.as_mut()[at] = value;
    }

    /// Sets the next header.
    pub fn set_next_header(&mut self, value: NextHeader) {
        let at = self.pad_len_offset() + 1;
        self.buffer.as_mut()[at] = value.0;
    }
}

/// The validated trailer: how much padding, and what the payload is.
#[derive(Clone, Copy, Debug, Eq, Hash, PartialEq)]
pub struct Repr {
    /// The number of padding bytes.
    pub pad_len: u8,
    /// The IP protocol number of the payload.
    pub next_header: NextHeader,
}

impl Repr {
    /// The trailer that pads `payload_len` bytes so that payload, padding, pad length and next
    /// header fill whole multiples of `align` bytes (RFC 4303 §2.4: the cipher block size, and at
    /// least 4). `align` must be between 1 and 256.
    #[must_use]
    pub fn for_payload(payload_len: usize, align: usize, next_header: NextHeader) -> Self {
        let align = align.clamp(1, 256);
        let rem = (payload_len % align + LEN) % align;
        let pad = (align - rem) % align;
        Self {
            pad_len: u8::try_from(pad).unwrap_or(u8::MAX),
            next_header,
        }
    }

    /// Parses and validates the trailer of a decrypted plaintext.
    ///
    /// # Errors
    /// As [`Trailer::check_len`], and [`DecryptError::BadPadding`] under [`PaddingCheck::Monotonic`].
    pub fn parse<T: AsRef<[u8]> + ?Sized>(
        trailer: &Trailer<&T>,
        check: PaddingCheck,
    ) -> Result<Self, DecryptError> {
        trailer.check_len()?;
        if check == PaddingCheck::Monotonic {
            trailer.check_padding()?;
        }
        Ok(Self {
            pad_len: trailer.pad_len(),
            next_header: trailer.next_header(),
        })
    }

    /// The length of padding, pad length and next header.
    #[must_use]
    pub const fn buffer_len(&self) -> usize {
        self.pad_len as usize + LEN
    }

    /// Writes padding, pad length and next header into the last [`buffer_len`](Self::buffer_len)
    /// bytes of the plaintext, which must be at least that long.
    pub fn emit<T: AsRef<[u8]> + AsMut<[u8]> + ?Sized>(&self, trailer: &mut Trailer<&mut T>) {
        let bytes = trailer.buffer.as_mut();
        let end = bytes.len();
        let start = end - self.buffer_len();
        for (byte, value) in bytes[start..end - LEN].iter_mut().zip(1..=u8::MAX) {
            *byte = value;
        }
        bytes[end - LEN] = self.pad_len;
        bytes[end - 1] = self.next_header.0;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloc::string::ToString;
    use alloc::vec::Vec;

    dmvpn_wire::hex_consts! {
        // RFC 3602 §4 case 6, decrypted: an ICMP echo (28 bytes), padding 1 2, pad length 2, next header 1.
        const PLAINTEXT: [u8; 32] = "0800b5e8a80a0500a69c083d0b660e0077777777777777777777777701020201";
    }

    #[test]
    fn deconstruct() {
        let trailer = Trailer::new_checked(&PLAINTEXT[..]).unwrap();
        assert_eq!(trailer.pad_len(), 2);
        assert_eq!(trailer.next_header(), NextHeader::ICMP);
        assert_eq!(trailer.payload(), &PLAINTEXT[..28]);
        assert_eq!(trailer.padding(), &[1, 2]);
        assert_eq!(trailer.pad_len_offset(), 30);
        assert_eq!(trailer.check_padding(), Ok(()));
    }

    #[test]
    fn construct() {
        let mut bytes = PLAINTEXT;
        let mut trailer = Trailer::new_unchecked(&mut bytes[..]);
        trailer.set_pad_len(0);
        trailer.set_next_header(NextHeader::GRE);
        assert_eq!(bytes[30..], [0, 47]);
    }

    /// The trailer at the end of `bytes`, padding checked as monotonic.
    fn parse_monotonic(bytes: &[u8]) -> Result<Repr, DecryptError> {
        Repr::parse(
            &Trailer::new_checked(bytes).unwrap(),
            PaddingCheck::Monotonic,
        )
    }

    #[test]
    fn parse_emit_round_trip() {
        let repr = parse_monotonic(&PLAINTEXT).unwrap();
        assert_eq!(
            repr,
            Repr {
                pad_len: 2,
                next_header: NextHeader::ICMP
            }
        );
        assert_eq!(repr.buffer_len(), 4);
        let mut bytes = PLAINTEXT;
        bytes[28..].fill(0);
        repr.emit(&mut Trailer::new_unchecked(&mut bytes[..]));
        assert_eq!(bytes, PLAINTEXT);
    }

    #[test]
    fn for_payload_aligns() {
        // RFC 3602 §4 cases 5–8 pad 64, 28, 84 and 68 bytes to 16.
        for (len, pad) in [(64, 14), (28, 2), (84, 10), (68, 10), (14, 0), (0, 14)] {
            assert_eq!(
                Repr::for_payload(len, 16, NextHeader::GRE).pad_len,
                pad,
                "{len}"
            );
        }
        // NULL and GCM align to 4 bytes, 3DES to 8.
        assert_eq!(Repr::for_payload(5, 4, NextHeader::GRE).pad_len, 1);
        assert_eq!(Repr::for_payload(6, 4, NextHeader::GRE).pad_len, 0);
        assert_eq!(Repr::for_payload(7, 8, NextHeader::GRE).pad_len, 7);
        assert_eq!(Repr::for_payload(7, 1, NextHeader::GRE).pad_len, 0);
    }

    #[test]
    fn bad_padding() {
        let mut bytes = PLAINTEXT;
        bytes[29] = 0;
        let err = parse_monotonic(&bytes).unwrap_err();
        assert_eq!(
            err,
            DecryptError::BadPadding {
                offset: 29,
                expected: 2,
                found: 0
            }
        );
        assert_eq!(
            err.to_string(),
            "esp: padding byte at offset 29 is 0x00, expected 0x02"
        );
        let repr = Repr::parse(
            &Trailer::new_checked(&bytes[..]).unwrap(),
            PaddingCheck::Ignore,
        )
        .unwrap();
        assert_eq!(repr.pad_len, 2);
    }

    #[test]
    fn bad_pad_length() {
        let bytes = [0xaa, 0x02, 0x04];
        let err = Trailer::new_checked(&bytes[..]).unwrap_err();
        assert_eq!(
            err,
            DecryptError::BadPadLength {
                offset: 1,
                pad_len: 2,
                available: 1
            }
        );
        assert_eq!(
            err.to_string(),
            "esp: pad length 2 at offset 1 exceeds the 1 bytes before it"
        );
        // The whole plaintext may be padding.
        let bytes = [0x01, 0x02, 0x02, 0x3b];
        let trailer = Trailer::new_checked(&bytes[..]).unwrap();
        assert!(trailer.payload().is_empty());
        assert_eq!(trailer.next_header(), NextHeader::NO_NEXT_HEADER);
    }

    #[test]
    fn truncation() {
        for len in 0..LEN {
            let err = Trailer::new_checked(&PLAINTEXT[..len]).unwrap_err();
            assert_eq!(
                err,
                DecryptError::Truncated {
                    field: "trailer",
                    offset: 0,
                    needed: 2,
                    available: len
                }
            );
        }
        assert_eq!(
            Trailer::new_checked(&[][..]).unwrap_err().to_string(),
            "esp: truncated reading `trailer` at offset 0: need 2 bytes, have 0"
        );
        // Every prefix of the plaintext is a trailer whose last two bytes are read as the fields.
        for len in LEN..PLAINTEXT.len() {
            let bytes = &PLAINTEXT[..len];
            let result = Repr::parse(&Trailer::new_unchecked(bytes), PaddingCheck::Monotonic);
            let pad_len = bytes[len - 2];
            if usize::from(pad_len) > len - 2 {
                assert_eq!(
                    result,
                    Err(DecryptError::BadPadLength {
                        offset: len - 2,
                        pad_len,
                        available: len - 2
                    })
                );
            }
        }
    }

    #[test]
    fn arbitrary_bytes_never_panic() {
        bolero::check!().for_each(|bytes: &[u8]| {
            if let Ok(trailer) = Trailer::new_checked(bytes) {
                let parsed = Repr::parse(&trailer, PaddingCheck::Monotonic);
                assert_eq!(
                    trailer.payload().len() + trailer.padding().len() + LEN,
                    bytes.len()
                );
                if let Ok(repr) = parsed {
                    assert_eq!(repr.buffer_len() + trailer.payload_len(), bytes.len());
                }
            }
        });
    }

    #[test]
    fn arbitrary_repr_round_trips() {
        bolero::check!().with_type::<(u8, u8, u8)>().for_each(
            |&(payload_len, align, next_header)| {
                let align = usize::from(align) + 1;
                let repr =
                    Repr::for_payload(usize::from(payload_len), align, NextHeader(next_header));
                let total = usize::from(payload_len) + repr.buffer_len();
                assert_eq!(total % align, 0);
                let mut bytes: Vec<u8> = (0..total).map(|i| i as u8).collect();
                repr.emit(&mut Trailer::new_unchecked(&mut bytes[..]));
                let trailer = Trailer::new_checked(&bytes[..]).unwrap();
                assert_eq!(Repr::parse(&trailer, PaddingCheck::Monotonic), Ok(repr));
                assert_eq!(trailer.payload_len(), usize::from(payload_len));
            },
        );
    }
}
