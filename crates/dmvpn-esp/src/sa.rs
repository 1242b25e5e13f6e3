//! Security associations: transforms, keys and prepared cipher state.

use core::fmt;

/// Encryption transforms (RFC 4303 §3.2; RFC 2451, RFC 3602, RFC 4106).
///
/// The key length picks AES-128/192/256. For AES-GCM the key is the AES key followed by the
/// 4-byte salt (RFC 4106 §8.1), and the variant names the ICV length.
#[derive(Clone, Copy, Debug, Eq, Hash, PartialEq)]
pub enum Encryption {
    /// No encryption (RFC 2410).
    Null,
    /// Triple DES in CBC mode with an explicit 8-byte IV (RFC 2451).
    TripleDesCbc,
    /// AES in CBC mode with an explicit 16-byte IV (RFC 3602).
    AesCbc,
    /// AES-GCM with an 8-byte ICV (RFC 4106).
    AesGcm8,
    /// AES-GCM with a 12-byte ICV (RFC 4106).
    AesGcm12,
    /// AES-GCM with a 16-byte ICV (RFC 4106).
    AesGcm16,
}

impl Encryption {
    /// The key lengths the transform accepts, as text for error messages.
    #[must_use]
    pub const fn key_lengths(self) -> &'static str {
        match self {
            Self::Null => "0",
            Self::TripleDesCbc => "24",
            Self::AesCbc => "16, 24 or 32",
            Self::AesGcm8 | Self::AesGcm12 | Self::AesGcm16 => "20, 28 or 36 (key and 4-byte salt)",
        }
    }
}

/// Integrity transforms (RFC 2403, RFC 2404, RFC 4868). `None` for AEAD or no integrity.
#[derive(Clone, Copy, Debug, Eq, Hash, PartialEq)]
pub enum Integrity {
    /// No separate integrity transform.
    None,
    /// HMAC-MD5-96 (RFC 2403).
    HmacMd5_96,
    /// HMAC-SHA-1-96 (RFC 2404).
    HmacSha1_96,
    /// HMAC-SHA-256-128 (RFC 4868).
    HmacSha256_128,
    /// HMAC-SHA-384-192 (RFC 4868).
    HmacSha384_192,
    /// HMAC-SHA-512-256 (RFC 4868).
    HmacSha512_256,
}

impl Integrity {
    /// The key length in bytes: the output length of the hash (RFC 2403 §3, RFC 2404 §3, RFC 4868 §2.1.1).
    #[must_use]
    pub const fn key_len(self) -> usize {
        match self {
            Self::None => 0,
            Self::HmacMd5_96 => 16,
            Self::HmacSha1_96 => 20,
            Self::HmacSha256_128 => 32,
            Self::HmacSha384_192 => 48,
            Self::HmacSha512_256 => 64,
        }
    }
}

/// A key that does not fit its transform.
#[derive(Clone, Copy, Debug, Eq, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum KeyError {
    /// The encryption key has the wrong length.
    #[error("esp: {encryption:?} key is {len} bytes, expected {expected}")]
    EncryptionKeyLength {
        /// The transform.
        encryption: Encryption,
        /// The length given.
        len: usize,
        /// The lengths allowed.
        expected: &'static str,
    },
    /// The integrity key has the wrong length.
    #[error("esp: {integrity:?} key is {len} bytes, expected {expected}")]
    IntegrityKeyLength {
        /// The transform.
        integrity: Integrity,
        /// The length given.
        len: usize,
        /// The length the transform needs.
        expected: usize,
    },
}

/// A security association with prepared cipher and MAC state.
pub struct Sa {
    spi: u32,
    encryption: Encryption,
    integrity: Integrity,
}

impl Sa {
    /// Prepares an SA: checks the key lengths and runs the key schedules once.
    pub fn new(
        spi: u32,
        encryption: Encryption,
        encryption_key: &[u8],
        integrity: Integrity,
        integrity_key: &[u8],
    ) -> Result<Self, KeyError> {
        let ok = match encryption {
            Encryption::Null => encryption_key.is_empty(),
            Encryption::TripleDesCbc => encryption_key.len() == 24,
            Encryption::AesCbc => matches!(encryption_key.len(), 16 | 24 | 32),
            Encryption::AesGcm8 | Encryption::AesGcm12 | Encryption::AesGcm16 => {
                matches!(encryption_key.len(), 20 | 28 | 36)
            }
        };
        if !ok {
            return Err(KeyError::EncryptionKeyLength {
                encryption,
                len: encryption_key.len(),
                expected: encryption.key_lengths(),
            });
        }
        if integrity_key.len() != integrity.key_len() {
            return Err(KeyError::IntegrityKeyLength {
                integrity,
                len: integrity_key.len(),
                expected: integrity.key_len(),
            });
        }
        Ok(Self {
            spi,
            encryption,
            integrity,
        })
    }

    /// The Security Parameters Index.
    #[must_use]
    pub fn spi(&self) -> u32 {
        self.spi
    }
}

impl fmt::Debug for Sa {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Sa")
            .field("spi", &format_args!("{:#010x}", self.spi))
            .field("encryption", &self.encryption)
            .field("integrity", &self.integrity)
            .finish_non_exhaustive()
    }
}
