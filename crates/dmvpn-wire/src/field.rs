//! Byte positions of fixed-offset header fields.
//!
//! Views declare their layout as constants, smoltcp-style:
//!
//! ```
//! use dmvpn_wire::field::{Field, Rest};
//!
//! const SPI: Field = 0..4;
//! const SEQUENCE: Field = 4..8;
//! const PAYLOAD: Rest = 8..;
//! assert_eq!(SPI.end, SEQUENCE.start);
//! assert_eq!(PAYLOAD.start, SEQUENCE.end);
//! ```

use crate::{Error, Layer};

/// A field at a fixed byte range.
pub type Field = core::ops::Range<usize>;

/// Everything from a fixed offset to the end of the buffer.
pub type Rest = core::ops::RangeFrom<usize>;

/// The big-endian `u16` at offset `at`, for a view's fixed-offset getter.
///
/// # Panics
///
/// If `bytes` ends before `at + 2`: views call it only for fields their `check_len` accepted
/// (smoltcp's contract). [`checked_be_u16`] never panics.
#[must_use]
pub fn be_u16(bytes: &[u8], at: usize) -> u16 {
    u16::from_be_bytes([bytes[at], bytes[at + 1]])
}

/// The big-endian `u32` at offset `at`, for a view's fixed-offset getter.
///
/// # Panics
///
/// If `bytes` ends before `at + 4`, as [`be_u16`]. [`checked_be_u32`] never panics.
#[must_use]
pub fn be_u32(bytes: &[u8], at: usize) -> u32 {
    u32::from_be_bytes([bytes[at], bytes[at + 1], bytes[at + 2], bytes[at + 3]])
}

/// The big-endian `u16` at offset `at`, or `None` if `bytes` ends before it.
#[must_use]
pub fn checked_be_u16(bytes: &[u8], at: usize) -> Option<u16> {
    let pair = bytes.get(at..)?.first_chunk::<2>()?;
    Some(u16::from_be_bytes(*pair))
}

/// The big-endian `u32` at offset `at`, or `None` if `bytes` ends before it.
#[must_use]
pub fn checked_be_u32(bytes: &[u8], at: usize) -> Option<u32> {
    let word = bytes.get(at..)?.first_chunk::<4>()?;
    Some(u32::from_be_bytes(*word))
}

/// Writes `value` big-endian at offset `at`, for a view's setter.
///
/// # Panics
///
/// If `bytes` ends before `at + 2`, as [`be_u16`].
pub fn set_be_u16(bytes: &mut [u8], at: usize, value: u16) {
    bytes[at..at + 2].copy_from_slice(&value.to_be_bytes());
}

/// Writes `value` big-endian at offset `at`, for a view's setter.
///
/// # Panics
///
/// If `bytes` ends before `at + 4`, as [`be_u16`].
pub fn set_be_u32(bytes: &mut [u8], at: usize, value: u32) {
    bytes[at..at + 4].copy_from_slice(&value.to_be_bytes());
}

/// The [`Error::Truncated`] for the field `name` at byte range `field`, of which the buffer holds
/// only its first `len` bytes.
///
/// ```
/// use dmvpn_wire::{Layer, field};
///
/// let err = field::truncated(Layer::Esp, "sequence number", &(4..8), 6);
/// assert_eq!(
///     err.to_string(),
///     "esp: truncated reading `sequence number` at offset 4: need 4 bytes, have 2"
/// );
/// ```
#[must_use]
#[inline]
pub fn truncated(layer: Layer, name: &'static str, field: &Field, len: usize) -> Error {
    Error::truncated(layer, name, field.start, field.len(), len)
}

/// Checks the length field `name` at `offset`: `Ok` when the `claimed` length lies in `allowed`,
/// otherwise the [`Error::BadLength`] with the most there is (`allowed`'s end) as `available`.
///
/// ```
/// use dmvpn_wire::{Error, Layer, field};
///
/// assert_eq!(field::check_length(Layer::Udp, "length", 4, 12, 8..=20), Ok(()));
/// assert_eq!(
///     field::check_length(Layer::Udp, "length", 4, 7, 8..=20),
///     Err(Error::bad_length(Layer::Udp, "length", 4, 7, 20))
/// );
/// ```
pub fn check_length(
    layer: Layer,
    name: &'static str,
    offset: usize,
    claimed: usize,
    allowed: core::ops::RangeInclusive<usize>,
) -> Result<(), Error> {
    if allowed.contains(&claimed) {
        return Ok(());
    }
    Err(Error::bad_length(
        layer,
        name,
        offset,
        claimed,
        *allowed.end(),
    ))
}

/// Checks that every `(name, range)` of `fields` ends within the first `len` bytes, and returns
/// from the calling function with the [`Error::Truncated`] ([`truncated`]) of the first field, in
/// the order given, that does not. A macro rather than a function, so that views' `check_len`
/// keep their loop inline.
///
/// ```
/// use dmvpn_wire::{Error, Layer, field};
///
/// fn check(len: usize) -> Result<(), Error> {
///     dmvpn_wire::check_fields!(Layer::Esp, len, [("spi", 0..4), ("sequence number", 4..8)]);
///     Ok(())
/// }
///
/// assert!(check(8).is_ok());
/// assert_eq!(check(3), Err(field::truncated(Layer::Esp, "spi", &(0..4), 3)));
/// ```
#[macro_export]
macro_rules! check_fields {
    ($layer:expr, $len:expr, $fields:expr) => {{
        let len: usize = $len;
        for (name, range) in $fields {
            if range.end > len {
                return ::core::result::Result::Err($crate::field::truncated(
                    $layer, name, &range, len,
                ));
            }
        }
    }};
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_and_writes_big_endian() {
        let mut bytes = [0u8; 7];
        set_be_u16(&mut bytes, 1, 0x0102);
        set_be_u32(&mut bytes, 3, 0x0304_0506);
        assert_eq!(bytes, [0, 1, 2, 3, 4, 5, 6]);
        assert_eq!(be_u16(&bytes, 1), 0x0102);
        assert_eq!(be_u32(&bytes, 3), 0x0304_0506);
        assert_eq!(checked_be_u16(&bytes, 5), Some(0x0506));
        assert_eq!(checked_be_u16(&bytes, 6), None);
        assert_eq!(checked_be_u32(&bytes, 3), Some(0x0304_0506));
        assert_eq!(checked_be_u32(&bytes, 4), None);
        assert_eq!(checked_be_u32(&bytes, usize::MAX), None);
    }
}
