//! A bounds-checked cursor over borrowed bytes.

use crate::{Error, Layer, Result};

/// A cursor over `&[u8]` whose every read names the field it reads.
///
/// Reads never panic: running past the end returns [`Error::Truncated`] with the field name and the
/// offset. A [`Reader::sub`] reader covers a length-prefixed child and reports offsets relative to
/// the outermost buffer, so nested errors need no rebasing.
///
/// ```
/// use dmvpn_wire::{Layer, Reader};
///
/// let bytes = [0x01, 0x00, 0x04, 0xde, 0xad, 0xbe, 0xef, 0xff];
/// let mut outer = Reader::new(Layer::Eigrp, &bytes);
/// let _ty = outer.u8("type")?;
/// let len = outer.u16("length")?;
/// let mut value = outer.sub(usize::from(len), "value")?;
/// assert_eq!(value.u32("value")?, 0xdead_beef);
/// assert_eq!(outer.offset(), 7);
/// assert!(outer.finish().is_err()); // one byte is left over
/// # Ok::<(), dmvpn_wire::Error>(())
/// ```
#[derive(Clone, Debug)]
pub struct Reader<'a> {
    buf: &'a [u8],
    pos: usize,
    base: usize,
    layer: Layer,
}

impl<'a> Reader<'a> {
    /// A reader over `buf`, reporting errors in `layer`.
    #[must_use]
    pub const fn new(layer: Layer, buf: &'a [u8]) -> Self {
        Self {
            buf,
            pos: 0,
            base: 0,
            layer,
        }
    }

    /// A reader over `buf` whose offsets start at `base`: for a buffer that is a slice of a larger one.
    #[must_use]
    pub const fn with_base(layer: Layer, buf: &'a [u8], base: usize) -> Self {
        Self {
            buf,
            pos: 0,
            base,
            layer,
        }
    }

    /// The layer errors are reported in.
    #[must_use]
    pub const fn layer(&self) -> Layer {
        self.layer
    }

    /// The offset of the next byte, counted from the outermost buffer.
    #[must_use]
    pub const fn offset(&self) -> usize {
        self.base + self.pos
    }

    /// Bytes not yet read.
    #[must_use]
    pub const fn remaining(&self) -> usize {
        self.buf.len() - self.pos
    }

    /// Whether every byte has been read.
    #[must_use]
    pub const fn is_empty(&self) -> bool {
        self.remaining() == 0
    }

    /// The bytes not yet read, without consuming them.
    #[must_use]
    pub fn peek_rest(&self) -> &'a [u8] {
        &self.buf[self.pos..]
    }

    /// Takes every byte not yet read.
    pub fn rest(&mut self) -> &'a [u8] {
        let rest = &self.buf[self.pos..];
        self.pos = self.buf.len();
        rest
    }

    /// Takes `len` bytes for `field`.
    pub fn take(&mut self, len: usize, field: &'static str) -> Result<&'a [u8]> {
        let Some(bytes) = self.buf.get(self.pos..).and_then(|rest| rest.get(..len)) else {
            return Err(self.truncated(field, len));
        };
        self.pos += len;
        Ok(bytes)
    }

    /// Takes a fixed-size array for `field`.
    pub fn array<const N: usize>(&mut self, field: &'static str) -> Result<[u8; N]> {
        let bytes = self.take(N, field)?;
        let mut out = [0; N];
        out.copy_from_slice(bytes);
        Ok(out)
    }

    /// Skips `len` bytes of `field`.
    pub fn skip(&mut self, len: usize, field: &'static str) -> Result<()> {
        self.take(len, field).map(drop)
    }

    /// Reads one byte.
    pub fn u8(&mut self, field: &'static str) -> Result<u8> {
        Ok(self.array::<1>(field)?[0])
    }

    /// Reads a big-endian `u16`.
    pub fn u16(&mut self, field: &'static str) -> Result<u16> {
        self.array(field).map(u16::from_be_bytes)
    }

    /// Reads a big-endian 24-bit integer.
    pub fn u24(&mut self, field: &'static str) -> Result<u32> {
        let [a, b, c] = self.array(field)?;
        Ok(u32::from_be_bytes([0, a, b, c]))
    }

    /// Reads a big-endian `u32`.
    pub fn u32(&mut self, field: &'static str) -> Result<u32> {
        self.array(field).map(u32::from_be_bytes)
    }

    /// Reads a big-endian `u64`.
    pub fn u64(&mut self, field: &'static str) -> Result<u64> {
        self.array(field).map(u64::from_be_bytes)
    }

    /// Splits off a reader over the next `len` bytes (a length-prefixed child), checked against
    /// what is left: a length that overruns its parent is [`Error::BadLength`].
    pub fn sub(&mut self, len: usize, field: &'static str) -> Result<Self> {
        let offset = self.offset();
        crate::field::check_length(self.layer, field, offset, len, 0..=self.remaining())?;
        let buf = &self.buf[self.pos..self.pos + len];
        self.pos += len;
        Ok(Self {
            buf,
            pos: 0,
            base: offset,
            layer: self.layer,
        })
    }

    /// Succeeds only if every byte has been read; otherwise [`Error::TrailingBytes`].
    pub fn finish(self) -> Result<()> {
        if self.is_empty() {
            Ok(())
        } else {
            Err(Error::TrailingBytes {
                layer: self.layer,
                offset: self.offset(),
                len: self.remaining(),
            })
        }
    }

    /// An [`Error::InvalidField`] for `field` that started `width` bytes before the cursor.
    #[must_use]
    pub fn invalid(&self, field: &'static str, width: usize, value: u32) -> Error {
        Error::InvalidField {
            layer: self.layer,
            field,
            offset: self.offset().saturating_sub(width),
            value,
        }
    }

    fn truncated(&self, field: &'static str, needed: usize) -> Error {
        Error::Truncated {
            layer: self.layer,
            field,
            offset: self.offset(),
            needed,
            available: self.remaining(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_big_endian() {
        let bytes = [
            1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18,
        ];
        let mut r = Reader::new(Layer::Gre, &bytes);
        assert_eq!(r.u8("a").unwrap(), 1);
        assert_eq!(r.u16("b").unwrap(), 0x0203);
        assert_eq!(r.u24("c").unwrap(), 0x0004_0506);
        assert_eq!(r.u32("d").unwrap(), 0x0708_090a);
        assert_eq!(r.u64("e").unwrap(), 0x0b0c_0d0e_0f10_1112);
        assert!(r.is_empty());
        r.finish().unwrap();
    }

    #[test]
    fn truncation_names_field_and_offset() {
        let bytes = [0u8; 5];
        let mut r = Reader::new(Layer::Nhrp, &bytes);
        r.skip(3, "head").unwrap();
        assert_eq!(
            r.u32("request id"),
            Err(Error::Truncated {
                layer: Layer::Nhrp,
                field: "request id",
                offset: 3,
                needed: 4,
                available: 2
            })
        );
        // A failed read consumes nothing.
        assert_eq!(r.offset(), 3);
        assert_eq!(r.take(usize::MAX, "huge").unwrap_err().offset(), 3);
    }

    #[test]
    fn sub_readers_keep_absolute_offsets() {
        let bytes = [0u8; 10];
        let mut r = Reader::with_base(Layer::Isakmp, &bytes, 28);
        r.skip(2, "x").unwrap();
        let mut child = r.sub(4, "payload").unwrap();
        assert_eq!(child.offset(), 30);
        child.skip(4, "body").unwrap();
        assert_eq!(child.u8("more").unwrap_err().offset(), 34);
        assert_eq!(
            r.sub(5, "payload length").unwrap_err(),
            Error::BadLength {
                layer: Layer::Isakmp,
                field: "payload length",
                offset: 34,
                claimed: 5,
                available: 4
            }
        );
        assert_eq!(
            r.clone().finish(),
            Err(Error::TrailingBytes {
                layer: Layer::Isakmp,
                offset: 34,
                len: 4
            })
        );
        assert_eq!(r.rest().len(), 4);
        r.finish().unwrap();
    }

    #[test]
    fn invalid_points_back_at_the_field() {
        let mut r = Reader::new(Layer::Eigrp, &[0, 7]);
        let v = r.u16("opcode").unwrap();
        assert_eq!(r.invalid("opcode", 2, v.into()).offset(), 0);
    }

    #[test]
    fn arbitrary_reads_never_panic() {
        bolero::check!()
            .with_type::<(Vec<u8>, Vec<(u8, u16)>)>()
            .for_each(|(bytes, ops)| {
                let mut r = Reader::new(Layer::Gre, bytes);
                for (op, len) in ops {
                    let _ = match op % 8 {
                        0 => r.u8("f").map(drop),
                        1 => r.u16("f").map(drop),
                        2 => r.u24("f").map(drop),
                        3 => r.u32("f").map(drop),
                        4 => r.u64("f").map(drop),
                        5 => r.take(usize::from(*len), "f").map(drop),
                        6 => r.sub(usize::from(*len), "f").map(drop),
                        _ => r.skip(usize::from(*len), "f"),
                    };
                    assert!(r.offset() <= bytes.len());
                }
            });
    }
}
