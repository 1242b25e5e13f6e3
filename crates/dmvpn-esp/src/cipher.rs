//! Prepared cipher and MAC state: key schedules and HMAC pads computed once per SA.

use aes::cipher::consts::{U8, U12, U16};
use aes::{Aes128, Aes192, Aes256};
use aes_gcm::AesGcm;
use aes_gcm::aead::{AeadInOut, Nonce, Tag};
use cbc::cipher::array::Array;
use cbc::cipher::{
    BlockCipherDecrypt, BlockCipherEncrypt, BlockModeDecrypt, BlockModeEncrypt, InnerIvInit,
    KeyInit,
};
use hmac::Hmac;
use md5::Md5;
use sha1::Sha1;
use sha2::{Sha256, Sha384, Sha512};
use zeroize::Zeroize;

use crate::des::TripleDes;
use crate::{Encryption, Integrity};

/// The length of the RFC 4106 salt at the end of an AES-GCM key.
pub(crate) const SALT_LEN: usize = 4;

/// A keyed encryption transform.
pub(crate) enum Cipher {
    Null,
    TripleDes(TripleDes),
    Aes128(Aes128),
    Aes192(Aes192),
    Aes256(Aes256),
    Gcm { aead: Gcm, salt: [u8; SALT_LEN] },
}

/// AES-GCM with a 12-byte nonce, by key size and ICV length.
pub(crate) enum Gcm {
    A128T8(AesGcm<Aes128, U12, U8>),
    A128T12(AesGcm<Aes128, U12, U12>),
    A128T16(AesGcm<Aes128, U12, U16>),
    A192T8(AesGcm<Aes192, U12, U8>),
    A192T12(AesGcm<Aes192, U12, U12>),
    A192T16(AesGcm<Aes192, U12, U16>),
    A256T8(AesGcm<Aes256, U12, U8>),
    A256T12(AesGcm<Aes256, U12, U12>),
    A256T16(AesGcm<Aes256, U12, U16>),
}

/// Runs `$body` with `$aead` bound to the AES-GCM instance, whatever its type.
macro_rules! with_gcm {
    ($gcm:expr, $aead:ident => $body:expr) => {
        match $gcm {
            Gcm::A128T8($aead) => $body,
            Gcm::A128T12($aead) => $body,
            Gcm::A128T16($aead) => $body,
            Gcm::A192T8($aead) => $body,
            Gcm::A192T12($aead) => $body,
            Gcm::A192T16($aead) => $body,
            Gcm::A256T8($aead) => $body,
            Gcm::A256T12($aead) => $body,
            Gcm::A256T16($aead) => $body,
        }
    };
}

impl Cipher {
    /// Runs the key schedule; `None` if the key length does not fit the transform.
    pub(crate) fn new(encryption: Encryption, key: &[u8]) -> Option<Self> {
        Some(match encryption {
            Encryption::Null => {
                if !key.is_empty() {
                    return None;
                }
                Self::Null
            }
            Encryption::TripleDesCbc => Self::TripleDes(TripleDes::new(key.try_into().ok()?)),
            Encryption::AesCbc => match key.len() {
                16 => Self::Aes128(Aes128::new_from_slice(key).ok()?),
                24 => Self::Aes192(Aes192::new_from_slice(key).ok()?),
                32 => Self::Aes256(Aes256::new_from_slice(key).ok()?),
                _ => return None,
            },
            Encryption::AesGcm8 | Encryption::AesGcm12 | Encryption::AesGcm16 => {
                let split = key.len().checked_sub(SALT_LEN)?;
                let (key, salt_bytes) = key.split_at(split);
                let mut salt = [0; SALT_LEN];
                salt.copy_from_slice(salt_bytes);
                let aead = match (key.len(), encryption) {
                    (16, Encryption::AesGcm8) => Gcm::A128T8(AesGcm::new_from_slice(key).ok()?),
                    (16, Encryption::AesGcm12) => Gcm::A128T12(AesGcm::new_from_slice(key).ok()?),
                    (16, _) => Gcm::A128T16(AesGcm::new_from_slice(key).ok()?),
                    (24, Encryption::AesGcm8) => Gcm::A192T8(AesGcm::new_from_slice(key).ok()?),
                    (24, Encryption::AesGcm12) => Gcm::A192T12(AesGcm::new_from_slice(key).ok()?),
                    (24, _) => Gcm::A192T16(AesGcm::new_from_slice(key).ok()?),
                    (32, Encryption::AesGcm8) => Gcm::A256T8(AesGcm::new_from_slice(key).ok()?),
                    (32, Encryption::AesGcm12) => Gcm::A256T12(AesGcm::new_from_slice(key).ok()?),
                    (32, _) => Gcm::A256T16(AesGcm::new_from_slice(key).ok()?),
                    _ => return None,
                };
                Self::Gcm { aead, salt }
            }
        })
    }

    /// CBC-decrypts whole blocks in place; `iv` is one block.
    pub(crate) fn cbc_decrypt(&self, iv: &[u8], data: &mut [u8]) {
        self.cbc(false, iv, data);
    }

    /// CBC-encrypts whole blocks in place; `iv` is one block.
    pub(crate) fn cbc_encrypt(&self, iv: &[u8], data: &mut [u8]) {
        self.cbc(true, iv, data);
    }

    /// CBC-encrypts (`encrypt`) or -decrypts whole blocks in place; nothing for NULL and GCM.
    fn cbc(&self, encrypt: bool, iv: &[u8], data: &mut [u8]) {
        match self {
            Self::TripleDes(cipher) => {
                if let Ok(iv) = iv.try_into() {
                    if encrypt {
                        cipher.cbc_encrypt(iv, data);
                    } else {
                        cipher.cbc_decrypt(iv, data);
                    }
                }
            }
            Self::Aes128(cipher) => cbc_blocks(cipher, encrypt, iv, data),
            Self::Aes192(cipher) => cbc_blocks(cipher, encrypt, iv, data),
            Self::Aes256(cipher) => cbc_blocks(cipher, encrypt, iv, data),
            Self::Null | Self::Gcm { .. } => {}
        }
    }
}

impl Drop for Cipher {
    fn drop(&mut self) {
        // Round keys wipe themselves (the `zeroize` features); the salt is ours.
        if let Self::Gcm { salt, .. } = self {
            salt.zeroize();
        }
    }
}

impl Gcm {
    /// Verifies the tag over `aad` and `data`, then decrypts `data` in place (RFC 4106 §3–§5).
    pub(crate) fn open(&self, nonce: &[u8; 12], aad: &[u8], data: &mut [u8], tag: &[u8]) -> bool {
        with_gcm!(self, aead => open(aead, nonce, aad, data, tag))
    }

    /// Encrypts `data` in place and writes the tag, which must be the ICV length.
    pub(crate) fn seal(
        &self,
        nonce: &[u8; 12],
        aad: &[u8],
        data: &mut [u8],
        tag: &mut [u8],
    ) -> bool {
        with_gcm!(self, aead => seal(aead, nonce, aad, data, tag))
    }
}

fn open<A: AeadInOut>(aead: &A, nonce: &[u8; 12], aad: &[u8], data: &mut [u8], tag: &[u8]) -> bool {
    let (Ok(nonce), Ok(tag)) = (Nonce::<A>::try_from(&nonce[..]), Tag::<A>::try_from(tag)) else {
        return false;
    };
    aead.decrypt_inout_detached(&nonce, aad, data.into(), &tag)
        .is_ok()
}

fn seal<A: AeadInOut>(
    aead: &A,
    nonce: &[u8; 12],
    aad: &[u8],
    data: &mut [u8],
    out: &mut [u8],
) -> bool {
    let Ok(nonce) = Nonce::<A>::try_from(&nonce[..]) else {
        return false;
    };
    match aead.encrypt_inout_detached(&nonce, aad, data.into()) {
        Ok(tag) if tag.len() == out.len() => {
            out.copy_from_slice(&tag);
            true
        }
        _ => false,
    }
}

/// CBC over the whole blocks of `data` with a block cipher of the `cbc` crate.
fn cbc_blocks<C: BlockCipherDecrypt + BlockCipherEncrypt>(
    cipher: &C,
    encrypt: bool,
    iv: &[u8],
    data: &mut [u8],
) {
    let Ok(iv) = Array::try_from(iv) else {
        return;
    };
    let (blocks, _) = Array::slice_as_chunks_mut(data);
    if encrypt {
        cbc::Encryptor::<&C>::inner_iv_init(cipher, &iv).encrypt_blocks(blocks);
    } else {
        cbc::Decryptor::<&C>::inner_iv_init(cipher, &iv).decrypt_blocks(blocks);
    }
}

/// A keyed integrity transform: the HMAC inner and outer hash states after the key pads.
#[derive(Clone)]
pub(crate) enum Mac {
    None,
    Md5(Hmac<Md5>),
    Sha1(Hmac<Sha1>),
    Sha256(Hmac<Sha256>),
    Sha384(Hmac<Sha384>),
    Sha512(Hmac<Sha512>),
}

/// The longest ICV of the integrity transforms (HMAC-SHA-512-256).
pub(crate) const MAX_ICV_LEN: usize = 32;

impl Mac {
    /// Keys the HMAC; `None` if the key length is not the one the RFC fixes.
    pub(crate) fn new(integrity: Integrity, key: &[u8]) -> Option<Self> {
        if key.len() != integrity.key_len() {
            return None;
        }
        Some(match integrity {
            Integrity::None => Self::None,
            Integrity::HmacMd5_96 => Self::Md5(KeyInit::new_from_slice(key).ok()?),
            Integrity::HmacSha1_96 => Self::Sha1(KeyInit::new_from_slice(key).ok()?),
            Integrity::HmacSha256_128 => Self::Sha256(KeyInit::new_from_slice(key).ok()?),
            Integrity::HmacSha384_192 => Self::Sha384(KeyInit::new_from_slice(key).ok()?),
            Integrity::HmacSha512_256 => Self::Sha512(KeyInit::new_from_slice(key).ok()?),
        })
    }

    /// Writes the truncated HMAC of `data`, then of the ESN high bits if given (RFC 4303
    /// §2.2.1), into `out`, whose length is the ICV length.
    pub(crate) fn compute(&self, data: &[u8], esn_high: Option<u32>, out: &mut [u8]) {
        match self {
            Self::None => {}
            Self::Md5(mac) => hmac_into(mac, data, esn_high, out),
            Self::Sha1(mac) => hmac_into(mac, data, esn_high, out),
            Self::Sha256(mac) => hmac_into(mac, data, esn_high, out),
            Self::Sha384(mac) => hmac_into(mac, data, esn_high, out),
            Self::Sha512(mac) => hmac_into(mac, data, esn_high, out),
        }
    }
}

fn hmac_into<M: hmac::Mac + Clone>(keyed: &M, data: &[u8], esn_high: Option<u32>, out: &mut [u8]) {
    // Cloning copies the prepared inner and outer states; the key is never processed again.
    let mut mac = keyed.clone();
    mac.update(data);
    if let Some(high) = esn_high {
        mac.update(&high.to_be_bytes());
    }
    let tag = mac.finalize().into_bytes();
    let len = out.len().min(tag.len());
    out[..len].copy_from_slice(&tag[..len]);
}

#[cfg(test)]
mod tests {
    use super::*;
    use zeroize::ZeroizeOnDrop;

    /// Everything an `Sa` keeps wipes itself on drop (the crates' `zeroize` features).
    #[test]
    fn key_state_is_zeroized_on_drop() {
        fn wiped<T: ZeroizeOnDrop>() {}
        wiped::<Aes128>();
        wiped::<Aes192>();
        wiped::<Aes256>();
        wiped::<TripleDes>();
        wiped::<AesGcm<Aes256, U12, U8>>();
        // `Hmac<D>` keeps the inner and outer states as the hash cores, which wipe themselves.
        wiped::<md5::block_api::Md5Core>();
        wiped::<sha1::block_api::Sha1Core>();
        wiped::<sha2::block_api::Sha256VarCore>();
        wiped::<sha2::block_api::Sha512VarCore>();
    }

    /// RFC 2202 §3 test case 2 and RFC 4231 §4.3 test case 2 ("Jefe"), truncated as ESP does.
    #[test]
    fn hmac_test_vectors() {
        let data = b"what do ya want for nothing?";
        let mut icv = [0; 12];
        // HMAC keys in ESP have the hash length; RFC 2202 uses a 4-byte key, so key the HMAC directly.
        Mac::Sha1(KeyInit::new_from_slice(b"Jefe").unwrap()).compute(data, None, &mut icv);
        assert_eq!(
            icv,
            [
                0xef, 0xfc, 0xdf, 0x6a, 0xe5, 0xeb, 0x2f, 0xa2, 0xd2, 0x74, 0x16, 0xd5
            ]
        );
        Mac::Md5(KeyInit::new_from_slice(b"Jefe").unwrap()).compute(data, None, &mut icv);
        assert_eq!(
            icv,
            [
                0x75, 0x0c, 0x78, 0x3e, 0x6a, 0xb0, 0xb5, 0x03, 0xea, 0xa8, 0x6e, 0x31
            ]
        );
        let mut icv = [0; 16];
        Mac::Sha256(KeyInit::new_from_slice(b"Jefe").unwrap()).compute(data, None, &mut icv);
        assert_eq!(
            icv,
            [
                0x5b, 0xdc, 0xc1, 0x46, 0xbf, 0x60, 0x75, 0x4e, 0x6a, 0x04, 0x24, 0x26, 0x08, 0x95,
                0x75, 0xc7
            ]
        );
        // The ESN high bits are hashed after the data (RFC 4303 §2.2.1): 0x696e673f is "ing?".
        let mut split = [0; 16];
        Mac::Sha256(KeyInit::new_from_slice(b"Jefe").unwrap()).compute(
            &data[..24],
            Some(0x696e_673f),
            &mut split,
        );
        assert_eq!(split, icv);
    }
}
