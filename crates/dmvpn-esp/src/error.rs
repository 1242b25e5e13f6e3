//! Crypto and protocol failures of ESP processing.
//!
//! Structural errors of the cleartext header are the shared [`Error`](crate::Error); everything that
//! needs keys (integrity, padding inside the ciphertext, anti-replay) is a [`DecryptError`] or an
//! [`EncryptError`]. Offsets count from the first byte of the SPI.

use crate::Encryption;

/// Why an ESP packet was not accepted (RFC 4303 §3.4).
#[derive(Clone, Copy, Debug, Eq, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum DecryptError {
    /// The packet ends before a field does.
    #[error(
        "esp: truncated reading `{field}` at offset {offset}: need {needed} bytes, have {available}"
    )]
    Truncated {
        /// The field being read: `spi`, `sequence number`, `iv`, `icv` or `trailer`.
        field: &'static str,
        /// Byte offset of the field.
        offset: usize,
        /// Bytes the field needs.
        needed: usize,
        /// Bytes there are at `offset`.
        available: usize,
    },
    /// The ciphertext of a block cipher is not a whole number of blocks (RFC 4303 §2.4).
    #[error(
        "esp: ciphertext of {len} bytes at offset {offset} is not a multiple of the {block_size}-byte block"
    )]
    BadCiphertextLength {
        /// Byte offset of the ciphertext.
        offset: usize,
        /// Its length.
        len: usize,
        /// The cipher's block size.
        block_size: usize,
    },
    /// The packet carries another SPI than the SA it was given to.
    #[error("esp: packet spi {found:#010x} does not match the sa spi {expected:#010x}")]
    SpiMismatch {
        /// The SPI of the SA.
        expected: u32,
        /// The SPI in the packet.
        found: u32,
    },
    /// No SA is known for the SPI and destination (RFC 4303 §3.4.2).
    #[error("esp: no sa for spi {spi:#010x}")]
    UnknownSa {
        /// The SPI in the packet.
        spi: u32,
    },
    /// The ICV (HMAC or AEAD tag) does not match (RFC 4303 §3.4.4).
    #[error("esp: integrity check failed for spi {spi:#010x} sequence number {seq}")]
    IntegrityCheckFailed {
        /// The SPI.
        spi: u32,
        /// The sequence number, with the inferred high-order bits under ESN.
        seq: u64,
    },
    /// The pad length points before the start of the plaintext (RFC 4303 §2.5).
    #[error("esp: pad length {pad_len} at offset {offset} exceeds the {available} bytes before it")]
    BadPadLength {
        /// Byte offset of the pad length field.
        offset: usize,
        /// The pad length found.
        pad_len: u8,
        /// The bytes of plaintext before the pad length field.
        available: usize,
    },
    /// A padding byte is not the default 1, 2, 3, … (RFC 4303 §2.4).
    #[error("esp: padding byte at offset {offset} is {found:#04x}, expected {expected:#04x}")]
    BadPadding {
        /// Byte offset of the first wrong padding byte.
        offset: usize,
        /// The value it must have.
        expected: u8,
        /// The value found.
        found: u8,
    },
    /// The sequence number was already received (RFC 4303 §3.4.3).
    #[error("esp: sequence number {seq} was already received")]
    Replayed {
        /// The sequence number.
        seq: u64,
    },
    /// The sequence number is left of the anti-replay window (RFC 4303 §3.4.3), or 0, which is
    /// never sent (§3.3.3).
    #[error("esp: sequence number {seq} is below the replay window (lowest acceptable {lowest})")]
    TooOld {
        /// The sequence number.
        seq: u64,
        /// The lowest sequence number the window would accept.
        lowest: u64,
    },
}

impl DecryptError {
    /// Shifts the offset by `base`, for an error found in a sub-slice that starts at `base`.
    #[must_use]
    pub fn at_offset(mut self, base: usize) -> Self {
        match &mut self {
            Self::Truncated { offset, .. }
            | Self::BadCiphertextLength { offset, .. }
            | Self::BadPadLength { offset, .. }
            | Self::BadPadding { offset, .. } => *offset = offset.saturating_add(base),
            Self::SpiMismatch { .. }
            | Self::UnknownSa { .. }
            | Self::IntegrityCheckFailed { .. }
            | Self::Replayed { .. }
            | Self::TooOld { .. } => {}
        }
        self
    }
}

/// Why an ESP packet could not be built.
#[derive(Clone, Copy, Debug, Eq, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum EncryptError {
    /// The IV does not have the length the transform sends.
    #[error("esp: {encryption:?} needs a {expected}-byte iv, got {len}")]
    IvLength {
        /// The transform.
        encryption: Encryption,
        /// The IV length it needs.
        expected: usize,
        /// The length given.
        len: usize,
    },
    /// The output buffer cannot hold the packet.
    #[error("esp: buffer of {available} bytes is too small for the {needed}-byte packet")]
    BufferTooSmall {
        /// The packet length.
        needed: usize,
        /// The buffer length.
        available: usize,
    },
    /// A sequence number above 32 bits on an SA without ESN (RFC 4303 §3.3.3).
    #[error("esp: sequence number {seq:#x} needs extended sequence numbers")]
    SequenceOverflow {
        /// The sequence number.
        seq: u64,
    },
}
