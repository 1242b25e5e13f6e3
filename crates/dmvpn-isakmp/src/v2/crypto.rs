//! Decryption and integrity checking of the SK and SKF payloads (RFC 7296 §3.14, RFC 7383 §2.5),
//! with the keys of Wireshark's `ikev2_decryption_table`.
//!
//! - CBC ciphers (3DES, AES-CBC) and AES-CTR (RFC 5930) carry a separate ICV: the integrity
//!   algorithm's MAC under SK_a over the whole message up to the ICV, truncated.
//! - AES-GCM and AES-CCM (RFC 5282) are AEAD: the salt is the last 4 (GCM) or 3 (CCM) bytes of the
//!   key material, the nonce is salt | the 8-byte IV, and the associated data is the message from
//!   the IKE header to the end of the SK (or SKF) payload header.
//!
//! Messages sent by the original initiator (the I flag) use SK_ei / SK_ai, the others SK_er / SK_ar.

use alloc::string::ToString;
use alloc::vec::Vec;
use core::fmt;

use aes::cipher::consts::{U8, U11, U12, U16};
use aes::{Aes128, Aes192, Aes256};
use aes_gcm::AesGcm;
use aes_gcm::aead::{AeadInOut, KeyInit};
use ccm::Ccm;
use ctr::cipher::{KeyIvInit, StreamCipher};
use subtle::ConstantTimeEq;

use crate::crypto::Cipher as CbcCipher;
use crate::keys::{Prf, Secret};

/// An IKEv2 encryption algorithm as Wireshark's decryption table names it.
#[derive(Clone, Copy, Debug, Eq, Hash, PartialEq)]
pub enum Encryption {
    /// ENCR_NULL (RFC 2410): no IV, no encryption.
    Null,
    /// ENCR_3DES in CBC mode (RFC 2451).
    TripleDes,
    /// ENCR_AES_CBC (RFC 3602) with a 128, 192 or 256-bit key.
    AesCbc(u16),
    /// ENCR_AES_CTR (RFC 5930): key then a 4-byte nonce.
    AesCtr(u16),
    /// ENCR_AES_CCM (RFC 5282): key bits and ICV bytes (8, 12 or 16); a 3-byte salt follows the key.
    AesCcm(u16, u8),
    /// ENCR_AES_GCM (RFC 5282): key bits and ICV bytes (8, 12 or 16); a 4-byte salt follows the key.
    AesGcm(u16, u8),
}

impl Encryption {
    /// Every algorithm the decryption table names.
    pub const ALL: [Self; 26] = [
        Self::Null,
        Self::TripleDes,
        Self::AesCbc(128),
        Self::AesCbc(192),
        Self::AesCbc(256),
        Self::AesCtr(128),
        Self::AesCtr(192),
        Self::AesCtr(256),
        Self::AesGcm(128, 8),
        Self::AesGcm(192, 8),
        Self::AesGcm(256, 8),
        Self::AesGcm(128, 12),
        Self::AesGcm(192, 12),
        Self::AesGcm(256, 12),
        Self::AesGcm(128, 16),
        Self::AesGcm(192, 16),
        Self::AesGcm(256, 16),
        Self::AesCcm(128, 8),
        Self::AesCcm(192, 8),
        Self::AesCcm(256, 8),
        Self::AesCcm(128, 12),
        Self::AesCcm(192, 12),
        Self::AesCcm(256, 12),
        Self::AesCcm(128, 16),
        Self::AesCcm(192, 16),
        Self::AesCcm(256, 16),
    ];

    /// The algorithm named as in Wireshark's `ikev2_decryption_table` (`"AES-CBC-128 [RFC3602]"`).
    #[must_use]
    pub fn from_wireshark(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|e| e.to_string() == name)
    }

    /// Bytes of key material: the key plus the nonce or salt of CTR, CCM and GCM.
    #[must_use]
    pub const fn key_material_len(self) -> usize {
        match self {
            Self::Null => 0,
            Self::TripleDes => 24,
            Self::AesCbc(bits) => bits as usize / 8,
            Self::AesCtr(bits) | Self::AesGcm(bits, _) => bits as usize / 8 + 4,
            Self::AesCcm(bits, _) => bits as usize / 8 + 3,
        }
    }

    /// Bytes of IV at the start of the payload.
    #[must_use]
    pub const fn iv_len(self) -> usize {
        match self {
            Self::Null => 0,
            Self::TripleDes | Self::AesCtr(_) | Self::AesCcm(..) | Self::AesGcm(..) => 8,
            Self::AesCbc(_) => 16,
        }
    }

    /// The ICV bytes of an AEAD algorithm (`None` when the integrity transform provides it).
    #[must_use]
    pub const fn aead_icv_len(self) -> Option<usize> {
        match self {
            Self::AesCcm(_, icv) | Self::AesGcm(_, icv) => Some(icv as usize),
            _ => None,
        }
    }
}

impl fmt::Display for Encryption {
    /// Wireshark's name: `3DES [RFC2451]`, `AES-GCM-256 with 16 octet ICV [RFC5282]`, ….
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Null => f.write_str("NULL [RFC2410]"),
            Self::TripleDes => f.write_str("3DES [RFC2451]"),
            Self::AesCbc(bits) => write!(f, "AES-CBC-{bits} [RFC3602]"),
            Self::AesCtr(bits) => write!(f, "AES-CTR-{bits} [RFC5930]"),
            Self::AesCcm(bits, icv) => write!(f, "AES-CCM-{bits} with {icv} octet ICV [RFC5282]"),
            Self::AesGcm(bits, icv) => write!(f, "AES-GCM-{bits} with {icv} octet ICV [RFC5282]"),
        }
    }
}

/// An IKEv2 integrity algorithm as Wireshark's decryption table names it.
#[derive(Clone, Copy, Debug, Eq, Hash, PartialEq)]
pub enum Integrity {
    /// NONE: with an AEAD cipher (or NULL encryption, unauthenticated).
    None,
    /// AUTH_HMAC_MD5_96 (RFC 2403).
    HmacMd5_96,
    /// AUTH_HMAC_SHA1_96 (RFC 2404).
    HmacSha1_96,
    /// AUTH_HMAC_MD5_128 (RFC 4595).
    HmacMd5_128,
    /// AUTH_HMAC_SHA1_160 (RFC 4595).
    HmacSha1_160,
    /// HMAC-SHA2-256 truncated to 96 bits (draft-ietf-ipsec-ciph-sha-256-00).
    HmacSha256_96,
    /// AUTH_HMAC_SHA2_256_128 (RFC 4868).
    HmacSha256_128,
    /// AUTH_HMAC_SHA2_384_192 (RFC 4868).
    HmacSha384_192,
    /// AUTH_HMAC_SHA2_512_256 (RFC 4868).
    HmacSha512_256,
    /// An ICV of this many bits that is skipped, not checked (Wireshark's "ANY n-bits of
    /// Authentication [No Checking]").
    Unchecked(u16),
}

impl Integrity {
    /// Every algorithm the decryption table names.
    pub const ALL: [Self; 15] = [
        Self::HmacMd5_96,
        Self::HmacSha1_96,
        Self::HmacMd5_128,
        Self::HmacSha1_160,
        Self::HmacSha256_96,
        Self::HmacSha256_128,
        Self::HmacSha384_192,
        Self::HmacSha512_256,
        Self::None,
        Self::Unchecked(64),
        Self::Unchecked(96),
        Self::Unchecked(128),
        Self::Unchecked(160),
        Self::Unchecked(192),
        Self::Unchecked(256),
    ];

    /// The algorithm named as in Wireshark's `ikev2_decryption_table` (`"HMAC_SHA1_96 [RFC2404]"`).
    #[must_use]
    pub fn from_wireshark(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|i| i.to_string() == name)
    }

    /// ICV bytes.
    #[must_use]
    pub const fn icv_len(self) -> usize {
        match self {
            Self::None => 0,
            Self::HmacMd5_96 | Self::HmacSha1_96 | Self::HmacSha256_96 => 12,
            Self::HmacMd5_128 | Self::HmacSha256_128 => 16,
            Self::HmacSha1_160 => 20,
            Self::HmacSha384_192 => 24,
            Self::HmacSha512_256 => 32,
            Self::Unchecked(bits) => bits as usize / 8,
        }
    }

    /// The HMAC computing the ICV, if it is checked.
    #[must_use]
    pub const fn prf(self) -> Option<Prf> {
        Some(match self {
            Self::HmacMd5_96 | Self::HmacMd5_128 => Prf::HmacMd5,
            Self::HmacSha1_96 | Self::HmacSha1_160 => Prf::HmacSha1,
            Self::HmacSha256_96 | Self::HmacSha256_128 => Prf::HmacSha256,
            Self::HmacSha384_192 => Prf::HmacSha384,
            Self::HmacSha512_256 => Prf::HmacSha512,
            Self::None | Self::Unchecked(_) => return None,
        })
    }
}

impl fmt::Display for Integrity {
    /// Wireshark's name: `HMAC_SHA2_256_128 [RFC4868]`, `NONE [RFC4306]`, ….
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::None => "NONE [RFC4306]",
            Self::HmacMd5_96 => "HMAC_MD5_96 [RFC2403]",
            Self::HmacSha1_96 => "HMAC_SHA1_96 [RFC2404]",
            Self::HmacMd5_128 => "HMAC_MD5_128 [RFC4595]",
            Self::HmacSha1_160 => "HMAC_SHA1_160 [RFC4595]",
            Self::HmacSha256_96 => "HMAC_SHA2_256_96 [draft-ietf-ipsec-ciph-sha-256-00]",
            Self::HmacSha256_128 => "HMAC_SHA2_256_128 [RFC4868]",
            Self::HmacSha384_192 => "HMAC_SHA2_384_192 [RFC4868]",
            Self::HmacSha512_256 => "HMAC_SHA2_512_256 [RFC4868]",
            Self::Unchecked(bits) => {
                return write!(f, "ANY {bits}-bits of Authentication [No Checking]");
            }
        })
    }
}

/// The keys of one IKE SA: a line of Wireshark's `ikev2_decryption_table`.
#[derive(Clone, Eq, PartialEq)]
pub struct SaKeys {
    /// IKE SA initiator's SPI.
    pub initiator_spi: [u8; 8],
    /// IKE SA responder's SPI.
    pub responder_spi: [u8; 8],
    /// The encryption algorithm.
    pub encryption: Encryption,
    /// SK_ei: encryption key material of the initiator's messages.
    pub sk_ei: Secret,
    /// SK_er: encryption key material of the responder's messages.
    pub sk_er: Secret,
    /// The integrity algorithm.
    pub integrity: Integrity,
    /// SK_ai: integrity key of the initiator's messages.
    pub sk_ai: Secret,
    /// SK_ar: integrity key of the responder's messages.
    pub sk_ar: Secret,
}

impl fmt::Debug for SaKeys {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SaKeys")
            .field("initiator_spi", &dmvpn_wire::fmt::Hex(&self.initiator_spi))
            .field("responder_spi", &dmvpn_wire::fmt::Hex(&self.responder_spi))
            .field("encryption", &self.encryption)
            .field("integrity", &self.integrity)
            .finish_non_exhaustive()
    }
}

/// What was done with the ICV of a message that decrypted.
#[derive(Clone, Copy, Debug, Eq, Hash, PartialEq)]
pub enum Icv {
    /// Checked and correct.
    Good,
    /// Checked and wrong: the plaintext is shown (as tshark does) but is not authentic.
    Bad,
    /// Present but not checked (the table gives its length, not its key).
    Unchecked,
    /// There is none (NULL encryption with NONE integrity).
    None,
}

impl Icv {
    /// `good`, `bad`, `unchecked` or `none`.
    #[must_use]
    pub const fn name(self) -> &'static str {
        match self {
            Self::Good => "good",
            Self::Bad => "bad",
            Self::Unchecked => "unchecked",
            Self::None => "none",
        }
    }
}

/// Why an SK or SKF payload did not decrypt.
#[derive(Clone, Debug, Eq, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum DecryptError {
    /// The key material is not as long as the algorithm needs.
    #[error("isakmp: {what} is {available} bytes, {algorithm} needs {needed}")]
    BadKey {
        /// `SK_ei`, `SK_er`, `SK_ai` or `SK_ar`.
        what: &'static str,
        /// The algorithm's name.
        algorithm: &'static str,
        /// Bytes needed.
        needed: usize,
        /// Bytes given.
        available: usize,
    },
    /// The payload is shorter than its IV and ICV.
    #[error(
        "isakmp: encrypted payload at offset {offset} has {len} bytes, shorter than its {needed}-byte iv and icv"
    )]
    TooShort {
        /// Offset of the encrypted data.
        offset: usize,
        /// Its length.
        len: usize,
        /// IV plus ICV bytes.
        needed: usize,
    },
    /// CBC ciphertext that is not a whole number of blocks.
    #[error(
        "isakmp: ciphertext of {len} bytes at offset {offset} is not a multiple of the {block}-byte block"
    )]
    NotBlockAligned {
        /// Offset of the ciphertext.
        offset: usize,
        /// Its length.
        len: usize,
        /// The block length.
        block: usize,
    },
    /// The AEAD tag did not verify: there is no plaintext.
    #[error("isakmp: icv of the encrypted payload at offset {offset} does not verify")]
    TagMismatch {
        /// Offset of the encrypted data.
        offset: usize,
    },
    /// The pad length byte says more than the plaintext holds.
    #[error("isakmp: pad length {pad_len} at offset {offset} exceeds the {len}-byte plaintext")]
    BadPadding {
        /// Offset of the pad length byte in the message.
        offset: usize,
        /// Its value.
        pad_len: u8,
        /// Plaintext bytes before it.
        len: usize,
    },
}

/// A decrypted SK or SKF payload.
#[derive(Clone, Eq, PartialEq)]
pub struct Decrypted {
    /// The inner payload chain, padding and pad length removed.
    pub plaintext: Vec<u8>,
    /// What was done with the ICV.
    pub icv: Icv,
}

impl fmt::Debug for Decrypted {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Decrypted")
            .field(
                "plaintext",
                &format_args!("<{} bytes>", self.plaintext.len()),
            )
            .field("icv", &self.icv)
            .finish()
    }
}

impl SaKeys {
    /// Decrypts the encrypted part of an SK or SKF payload and checks its ICV.
    ///
    /// `message` is the whole IKE message (header first, up to its length); `encrypted` is the
    /// range of `message` holding the IV, the ciphertext and the ICV (after the SK generic header,
    /// or after the SKF fragment number and total). `from_initiator` picks SK_ei / SK_ai.
    pub fn decrypt(
        &self,
        message: &[u8],
        encrypted: core::ops::Range<usize>,
        from_initiator: bool,
    ) -> Result<Decrypted, DecryptError> {
        let (ke, ka, ke_name, ka_name) = if from_initiator {
            (&self.sk_ei, &self.sk_ai, "SK_ei", "SK_ai")
        } else {
            (&self.sk_er, &self.sk_ar, "SK_er", "SK_ar")
        };
        let key = ke.as_bytes();
        let enc = self.encryption;
        if key.len() != enc.key_material_len() {
            return Err(DecryptError::BadKey {
                what: ke_name,
                algorithm: enc.name(),
                needed: enc.key_material_len(),
                available: key.len(),
            });
        }
        let icv_len = enc.aead_icv_len().unwrap_or(self.integrity.icv_len());
        let start = encrypted.start;
        let Some(data) = message.get(encrypted.clone()) else {
            return Err(DecryptError::TooShort {
                offset: start,
                len: message.len().saturating_sub(start),
                needed: enc.iv_len() + icv_len,
            });
        };
        let iv_len = enc.iv_len();
        if data.len() < iv_len + icv_len {
            return Err(DecryptError::TooShort {
                offset: start,
                len: data.len(),
                needed: iv_len + icv_len,
            });
        }
        let (iv, rest) = data.split_at(iv_len);
        let (ciphertext, icv) = rest.split_at(rest.len() - icv_len);
        let mut plain = ciphertext.to_vec();
        let status = if enc.aead_icv_len().is_some() {
            let aad = &message[..start];
            if aead_open(enc, key, iv, aad, &mut plain, icv) {
                Icv::Good
            } else {
                // As tshark does, show what the payload decrypts to, flagged: GCM and CCM
                // encrypt in counter mode, so the keystream alone gives the plaintext.
                plain.copy_from_slice(ciphertext);
                if !aead_keystream(enc, key, iv, &mut plain) {
                    zeroize::Zeroize::zeroize(&mut plain);
                    return Err(DecryptError::TagMismatch { offset: start });
                }
                Icv::Bad
            }
        } else {
            let status = match self.integrity.prf() {
                Some(prf) => {
                    let mac_key = ka.as_bytes();
                    let needed = mac_key_len(self.integrity);
                    if mac_key.len() != needed {
                        return Err(DecryptError::BadKey {
                            what: ka_name,
                            algorithm: self.integrity.name(),
                            needed,
                            available: mac_key.len(),
                        });
                    }
                    let covered = &message[..encrypted.end - icv_len];
                    let mac = prf.compute(mac_key, &[covered]);
                    let expected = mac.as_bytes().get(..icv_len).unwrap_or_default();
                    if bool::from(expected.ct_eq(icv)) {
                        Icv::Good
                    } else {
                        Icv::Bad
                    }
                }
                None if icv_len > 0 => Icv::Unchecked,
                None => Icv::None,
            };
            decrypt_unauthenticated(enc, key, iv, &mut plain, start + iv_len)?;
            status
        };
        let Some((&pad_len, body)) = plain.split_last() else {
            return Err(DecryptError::BadPadding {
                offset: start + iv_len,
                pad_len: 0,
                len: 0,
            });
        };
        let Some(keep) = body.len().checked_sub(usize::from(pad_len)) else {
            return Err(DecryptError::BadPadding {
                offset: start + iv_len + body.len(),
                pad_len,
                len: body.len(),
            });
        };
        plain.truncate(keep);
        Ok(Decrypted {
            plaintext: plain,
            icv: status,
        })
    }
}

impl Encryption {
    /// A short name for error messages.
    #[must_use]
    pub const fn name(self) -> &'static str {
        match self {
            Self::Null => "NULL",
            Self::TripleDes => "3DES",
            Self::AesCbc(_) => "AES-CBC",
            Self::AesCtr(_) => "AES-CTR",
            Self::AesCcm(..) => "AES-CCM",
            Self::AesGcm(..) => "AES-GCM",
        }
    }
}

impl Integrity {
    /// A short name for error messages.
    #[must_use]
    pub const fn name(self) -> &'static str {
        match self {
            Self::None => "NONE",
            Self::HmacMd5_96 | Self::HmacMd5_128 => "HMAC-MD5",
            Self::HmacSha1_96 | Self::HmacSha1_160 => "HMAC-SHA1",
            Self::HmacSha256_96 | Self::HmacSha256_128 => "HMAC-SHA2-256",
            Self::HmacSha384_192 => "HMAC-SHA2-384",
            Self::HmacSha512_256 => "HMAC-SHA2-512",
            Self::Unchecked(_) => "ANY",
        }
    }
}

/// The integrity key length: the HMAC's output length (RFC 7296 §2.14, RFC 4868 §2.1.1).
const fn mac_key_len(integrity: Integrity) -> usize {
    match integrity.prf() {
        Some(prf) => prf.output_len(),
        None => 0,
    }
}

/// CBC or CTR decryption in place (NULL leaves the bytes as they are).
fn decrypt_unauthenticated(
    enc: Encryption,
    key: &[u8],
    iv: &[u8],
    data: &mut [u8],
    offset: usize,
) -> Result<(), DecryptError> {
    let cbc = match enc {
        Encryption::Null => return Ok(()),
        Encryption::TripleDes => CbcCipher::TripleDes,
        Encryption::AesCbc(128) => CbcCipher::Aes128,
        Encryption::AesCbc(192) => CbcCipher::Aes192,
        Encryption::AesCbc(_) => CbcCipher::Aes256,
        Encryption::AesCtr(_) => {
            // RFC 5930 §2: nonce | IV | a 32-bit block counter from 1.
            let (key, nonce) = key.split_at(key.len() - 4);
            let ok = keystream(key, [&[], nonce, iv, &[0, 0, 0, 1]], data);
            // Key and counter lengths follow from the algorithm, checked by the caller.
            debug_assert!(ok);
            return Ok(());
        }
        Encryption::AesCcm(..) | Encryption::AesGcm(..) => return Ok(()),
    };
    let block = cbc.block_len();
    if !data.len().is_multiple_of(block) {
        return Err(DecryptError::NotBlockAligned {
            offset,
            len: data.len(),
            block,
        });
    }
    let plain =
        crate::crypto::decrypt(cbc, key, iv, data).map_err(|_| DecryptError::NotBlockAligned {
            offset,
            len: data.len(),
            block,
        })?;
    data.copy_from_slice(&plain);
    let mut plain = plain;
    zeroize::Zeroize::zeroize(&mut plain);
    Ok(())
}

/// XORs `data` with the AES-CTR keystream (32-bit big-endian counter) from the counter block made
/// of `parts` (16 bytes in all); false if the key or the block has the wrong length.
fn keystream(key: &[u8], parts: [&[u8]; 4], data: &mut [u8]) -> bool {
    let mut block = [0; 16];
    let mut at = 0;
    for part in parts {
        let Some(slot) = block.get_mut(at..at + part.len()) else {
            return false;
        };
        slot.copy_from_slice(part);
        at += part.len();
    }
    // One arm per key size: the CTR type is generic over the block cipher.
    let ok = at == block.len()
        && match key.len() {
            16 => ctr::Ctr32BE::<Aes128>::new_from_slices(key, &block)
                .map(|mut c| c.apply_keystream(data))
                .is_ok(),
            24 => ctr::Ctr32BE::<Aes192>::new_from_slices(key, &block)
                .map(|mut c| c.apply_keystream(data))
                .is_ok(),
            32 => ctr::Ctr32BE::<Aes256>::new_from_slices(key, &block)
                .map(|mut c| c.apply_keystream(data))
                .is_ok(),
            _ => false,
        };
    zeroize::Zeroize::zeroize(&mut block);
    ok
}

/// Decrypts AES-GCM or AES-CCM ciphertext without its tag: GCM's counter starts at salt | IV | 2
/// (NIST SP 800-38D §7.2, 96-bit IV), CCM's at the flags byte 3 (a 4-byte counter), salt | IV, 1
/// (RFC 3610 §2.3).
fn aead_keystream(enc: Encryption, key: &[u8], iv: &[u8], data: &mut [u8]) -> bool {
    match enc {
        Encryption::AesGcm(..) => {
            let (key, salt) = key.split_at(key.len() - 4);
            keystream(key, [salt, iv, &[0, 0], &[0, 2]], data)
        }
        Encryption::AesCcm(..) => {
            let (key, salt) = key.split_at(key.len() - 3);
            keystream(key, [&[3], salt, iv, &[0, 0, 0, 1]], data)
        }
        _ => false,
    }
}

/// Calls `$f::<$aead<Aes, Tag>>(args)` with the AES of `$bits` key bits (128, 192, otherwise 256)
/// and the tag of `$icv_len` bytes (8, 12, otherwise 16): the sizes RFC 4106 and RFC 4309 define.
macro_rules! by_size {
    ($bits:expr, $icv_len:expr, $f:ident::<$aead:ident>($($arg:expr),*)) => {
        match ($bits, $icv_len) {
            (128, 8) => $f::<$aead<Aes128, U8>>($($arg),*),
            (128, 12) => $f::<$aead<Aes128, U12>>($($arg),*),
            (128, _) => $f::<$aead<Aes128, U16>>($($arg),*),
            (192, 8) => $f::<$aead<Aes192, U8>>($($arg),*),
            (192, 12) => $f::<$aead<Aes192, U12>>($($arg),*),
            (192, _) => $f::<$aead<Aes192, U16>>($($arg),*),
            (_, 8) => $f::<$aead<Aes256, U8>>($($arg),*),
            (_, 12) => $f::<$aead<Aes256, U12>>($($arg),*),
            _ => $f::<$aead<Aes256, U16>>($($arg),*),
        }
    };
}

/// AEAD decryption in place with the tag `icv`; false if it does not verify.
fn aead_open(
    enc: Encryption,
    key: &[u8],
    iv: &[u8],
    aad: &[u8],
    data: &mut [u8],
    icv: &[u8],
) -> bool {
    fn open<A: AeadInOut + KeyInit>(
        key: &[u8],
        nonce: &[u8],
        aad: &[u8],
        data: &mut [u8],
        icv: &[u8],
    ) -> bool {
        let Ok(aead) = A::new_from_slice(key) else {
            return false;
        };
        let (Ok(nonce), Ok(tag)) = (nonce.try_into(), icv.try_into()) else {
            return false;
        };
        aead.decrypt_inout_detached(nonce, aad, data.into(), tag)
            .is_ok()
    }
    let mut nonce = [0; 12];
    let ok = match enc {
        Encryption::AesGcm(bits, icv_len) => {
            let (key, salt) = key.split_at(key.len() - 4);
            nonce[..4].copy_from_slice(salt);
            nonce[4..].copy_from_slice(iv);
            let n = &nonce[..];
            type Gcm<A, T> = AesGcm<A, U12, T>;
            by_size!(bits, icv_len, open::<Gcm>(key, n, aad, data, icv))
        }
        Encryption::AesCcm(bits, icv_len) => {
            let (key, salt) = key.split_at(key.len() - 3);
            nonce[..3].copy_from_slice(salt);
            nonce[3..11].copy_from_slice(iv);
            let n = &nonce[..11];
            // RFC 4309 §4: an 11-byte nonce (3 bytes of salt, the 8-byte IV).
            type Ccm11<A, T> = Ccm<A, T, U11>;
            by_size!(bits, icv_len, open::<Ccm11>(key, n, aad, data, icv))
        }
        _ => false,
    };
    zeroize::Zeroize::zeroize(&mut nonce);
    ok
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wireshark_names_round_trip() {
        for enc in Encryption::ALL {
            assert_eq!(Encryption::from_wireshark(&enc.to_string()), Some(enc));
        }
        for integ in Integrity::ALL {
            assert_eq!(Integrity::from_wireshark(&integ.to_string()), Some(integ));
        }
        assert_eq!(
            Encryption::from_wireshark("AES-CCM-128 with 12 octet ICV [RFC5282]"),
            Some(Encryption::AesCcm(128, 12))
        );
        assert_eq!(
            Integrity::from_wireshark("ANY 96-bits of Authentication [No Checking]"),
            Some(Integrity::Unchecked(96))
        );
        assert_eq!(Encryption::from_wireshark("AES-CBC-512 [RFC3602]"), None);
    }

    fn keys(encryption: Encryption, integrity: Integrity) -> SaKeys {
        SaKeys {
            initiator_spi: [1; 8],
            responder_spi: [2; 8],
            encryption,
            sk_ei: Secret::new(vec![0x11; encryption.key_material_len()]),
            sk_er: Secret::new(vec![0x22; encryption.key_material_len()]),
            integrity,
            sk_ai: Secret::new(vec![0x33; mac_key_len(integrity)]),
            sk_ar: Secret::new(vec![0x44; mac_key_len(integrity)]),
        }
    }

    #[test]
    fn errors() {
        let k = keys(Encryption::AesCbc(128), Integrity::HmacSha1_96);
        let message = [0u8; 40];
        assert_eq!(
            k.decrypt(&message, 32..40, true).unwrap_err().to_string(),
            "isakmp: encrypted payload at offset 32 has 8 bytes, shorter than its 28-byte iv and icv"
        );
        let message = [0u8; 32 + 16 + 15 + 12];
        assert_eq!(
            k.decrypt(&message, 32..message.len(), false)
                .unwrap_err()
                .to_string(),
            "isakmp: ciphertext of 15 bytes at offset 48 is not a multiple of the 16-byte block"
        );
        let mut short = k;
        short.sk_ei = Secret::new(vec![0; 5]);
        assert_eq!(
            short
                .decrypt(&message, 32..message.len(), true)
                .unwrap_err()
                .to_string(),
            "isakmp: SK_ei is 5 bytes, AES-CBC needs 16"
        );
        // An AEAD payload whose tag fails and whose keystream plaintext has no room for its pad
        // length: there is nothing to show.
        let gcm = keys(Encryption::AesGcm(128, 16), Integrity::None);
        let message = [0u8; 32 + 8 + 16];
        assert_eq!(
            gcm.decrypt(&message, 32..message.len(), true)
                .unwrap_err()
                .to_string(),
            "isakmp: pad length 0 at offset 40 exceeds the 0-byte plaintext"
        );
    }

    /// Seals `chain` (payloads, then pad length 0) as the SK payload of a 32-byte stand-in header
    /// with the RustCrypto AEAD `A`, as a peer would; returns the message.
    fn seal<A: AeadInOut + KeyInit>(key: &[u8], salt: &[u8], chain: &[u8]) -> Vec<u8> {
        let iv = [0x5a; 8];
        let mut message = vec![0x42; 32];
        message.extend_from_slice(&iv);
        let mut nonce = salt.to_vec();
        nonce.extend_from_slice(&iv);
        let mut body = chain.to_vec();
        body.push(0);
        let aead = A::new_from_slice(key).unwrap();
        let tag = aead
            .encrypt_inout_detached(
                nonce.as_slice().try_into().unwrap(),
                &message[..32],
                body.as_mut_slice().into(),
            )
            .unwrap();
        message.extend_from_slice(&body);
        message.extend_from_slice(&tag);
        message
    }

    #[test]
    fn aead_tags_and_their_keystreams() {
        let chain = b"IKEv2 inner payloads, 40 bytes of them..";
        for (encryption, sealed) in [
            (
                Encryption::AesGcm(128, 16),
                seal::<AesGcm<Aes128, U12, U16>>(&[0x11; 16], &[0x11; 4], chain),
            ),
            (
                Encryption::AesGcm(256, 8),
                seal::<AesGcm<Aes256, U12, U8>>(&[0x11; 32], &[0x11; 4], chain),
            ),
            (
                Encryption::AesCcm(128, 12),
                seal::<Ccm<Aes128, U12, U11>>(&[0x11; 16], &[0x11; 3], chain),
            ),
            (
                Encryption::AesCcm(192, 16),
                seal::<Ccm<Aes192, U16, U11>>(&[0x11; 24], &[0x11; 3], chain),
            ),
        ] {
            let k = keys(encryption, Integrity::None);
            let out = k.decrypt(&sealed, 32..sealed.len(), true).unwrap();
            assert_eq!((out.plaintext.as_slice(), out.icv), (&chain[..], Icv::Good));
            // A wrong tag: the same plaintext from the keystream, flagged.
            let mut forged = sealed.clone();
            *forged.last_mut().unwrap() ^= 1;
            let out = k.decrypt(&forged, 32..forged.len(), true).unwrap();
            assert_eq!(
                (out.plaintext.as_slice(), out.icv),
                (&chain[..], Icv::Bad),
                "{encryption}"
            );
            // A changed header is outside the ciphertext but inside the associated data.
            let mut header = sealed.clone();
            header[0] ^= 1;
            assert_eq!(
                k.decrypt(&header, 32..header.len(), true).unwrap().icv,
                Icv::Bad
            );
        }
    }

    #[test]
    fn null_encryption_with_padding() {
        let k = keys(Encryption::Null, Integrity::None);
        // Header stand-in, then payload bytes 1 2 3, one pad byte, pad length 1.
        let mut message = vec![0u8; 32];
        message.extend_from_slice(&[1, 2, 3, 0, 1]);
        let out = k.decrypt(&message, 32..message.len(), true).unwrap();
        assert_eq!(
            (out.plaintext.as_slice(), out.icv),
            (&[1, 2, 3][..], Icv::None)
        );
        let mut bad = vec![0u8; 32];
        bad.extend_from_slice(&[1, 9]);
        assert_eq!(
            k.decrypt(&bad, 32..34, true).unwrap_err().to_string(),
            "isakmp: pad length 9 at offset 33 exceeds the 1-byte plaintext"
        );
    }
}
