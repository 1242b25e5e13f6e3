//! The IKEv2 key schedule (RFC 7296 §2.13, §2.14, §2.17, §2.15) and SK payload encryption, for a
//! machine that speaks IKEv2 (decryption of captured messages is [`super::crypto`]'s).
//!
//! ```text
//! prf+(K, S) = T1 | T2 | …,  T1 = prf(K, S | 0x01),  Tn = prf(K, Tn-1 | S | n)
//! SKEYSEED   = prf(Ni | Nr, g^ir)                      (IKE_SA_INIT)
//! SKEYSEED   = prf(SK_d (old), g^ir (new) | Ni | Nr)    (IKE SA rekey, §2.18)
//! {SK_d | SK_ai | SK_ar | SK_ei | SK_er | SK_pi | SK_pr} = prf+(SKEYSEED, Ni | Nr | SPIi | SPIr)
//! KEYMAT     = prf+(SK_d, [g^ir (new) |] Ni | Nr)      (Child SAs)
//! AUTH (PSK) = prf(prf(PSK, "Key Pad for IKEv2"), <message> | <peer's nonce> | prf(SK_p, <ID body>))
//! ```
//!
//! ```
//! use dmvpn_isakmp::keys::Prf;
//! use dmvpn_isakmp::v2::crypto::{Encryption, Integrity};
//! use dmvpn_isakmp::v2::keys::{IkeKeys, prf_plus};
//!
//! assert_eq!(prf_plus(Prf::HmacSha256, b"key", b"seed", 100).len(), 100);
//! let (ni, nr) = ([1; 32], [2; 32]);
//! let skeyseed = IkeKeys::skeyseed(Prf::HmacSha256, &ni, &nr, &[3; 128]);
//! let keys = IkeKeys::from_skeyseed(
//!     Prf::HmacSha256, Encryption::AesCbc(128), Integrity::HmacSha256_128,
//!     &skeyseed, &ni, &nr, [4; 8], [5; 8],
//! );
//! assert_eq!(keys.sk_d.len(), 32);
//! assert_eq!(keys.sa_keys.sk_ei.len(), 16);
//! assert_eq!(keys.sa_keys.sk_ai.len(), 32);
//! ```

use alloc::vec::Vec;

use super::crypto::{Encryption, Integrity, SaKeys};
use crate::crypto::Cipher as CbcCipher;
use crate::keys::{Prf, Secret};

/// The PSK pad of RFC 7296 §2.15.
pub const KEY_PAD: &[u8] = b"Key Pad for IKEv2";

/// `prf+(key, seed)` truncated to `len` bytes (RFC 7296 §2.13). At most 255 blocks are defined;
/// longer requests are cut there.
#[must_use]
pub fn prf_plus(prf: Prf, key: &[u8], seed: &[u8], len: usize) -> Secret {
    let mut out = Vec::with_capacity(len);
    let mut block = Secret::default();
    let mut counter = 1u8;
    while out.len() < len {
        block = prf.compute(key, &[block.as_bytes(), seed, &[counter]]);
        out.extend_from_slice(block.as_bytes());
        let Some(next) = counter.checked_add(1) else {
            break;
        };
        counter = next;
    }
    out.truncate(len);
    Secret::new(out)
}

/// The keys of one IKE SA (RFC 7296 §2.14).
#[derive(Clone, Debug, Eq, PartialEq)]
pub struct IkeKeys {
    /// The PRF.
    pub prf: Prf,
    /// SK_d: the Child SAs' and the next IKE SA's keys come from it.
    pub sk_d: Secret,
    /// SK_pi: the initiator's AUTH.
    pub sk_pi: Secret,
    /// SK_pr: the responder's AUTH.
    pub sk_pr: Secret,
    /// SPIs, algorithms, SK_e and SK_a: a line of Wireshark's `ikev2_decryption_table`.
    pub sa_keys: SaKeys,
}

impl IkeKeys {
    /// SKEYSEED of a new IKE SA from IKE_SA_INIT: `prf(Ni | Nr, g^ir)`, `g_ir` being the
    /// Diffie-Hellman shared secret (modulus-long) and the nonces the Nonce payload bodies.
    #[must_use]
    pub fn skeyseed(prf: Prf, ni: &[u8], nr: &[u8], g_ir: &[u8]) -> Secret {
        let key: Vec<u8> = [ni, nr].concat();
        prf.compute(&key, &[g_ir])
    }

    /// SKEYSEED of the IKE SA that replaces this one (RFC 7296 §2.18):
    /// `prf(SK_d, g^ir (new) | Ni | Nr)` with this SA's PRF.
    #[must_use]
    pub fn rekey_skeyseed(&self, g_ir: &[u8], ni: &[u8], nr: &[u8]) -> Secret {
        self.prf.compute(self.sk_d.as_bytes(), &[g_ir, ni, nr])
    }

    /// The keys from SKEYSEED ([`IkeKeys::skeyseed`] or [`IkeKeys::rekey_skeyseed`]): SK_* =
    /// `prf+(SKEYSEED, Ni | Nr | SPIi | SPIr)`, with the new SA's algorithms.
    #[allow(clippy::too_many_arguments)]
    #[must_use]
    pub fn from_skeyseed(
        prf: Prf,
        encryption: Encryption,
        integrity: Integrity,
        skeyseed: &Secret,
        ni: &[u8],
        nr: &[u8],
        spi_i: [u8; 8],
        spi_r: [u8; 8],
    ) -> Self {
        let prf_len = prf.output_len();
        let a_len = integrity.prf().map_or(0, Prf::output_len);
        let e_len = encryption.key_material_len();
        let seed = [ni, nr, &spi_i, &spi_r].concat();
        let total = 3 * prf_len + 2 * a_len + 2 * e_len;
        let stream = prf_plus(prf, skeyseed.as_bytes(), &seed, total);
        let mut at = 0;
        let mut take = |len: usize| {
            let part = Secret::from_slice(stream.as_bytes().get(at..at + len).unwrap_or_default());
            at += len;
            part
        };
        let sk_d = take(prf_len);
        let sk_ai = take(a_len);
        let sk_ar = take(a_len);
        let sk_ei = take(e_len);
        let sk_er = take(e_len);
        let sk_pi = take(prf_len);
        let sk_pr = take(prf_len);
        Self {
            prf,
            sk_d,
            sk_pi,
            sk_pr,
            sa_keys: SaKeys {
                initiator_spi: spi_i,
                responder_spi: spi_r,
                encryption,
                sk_ei,
                sk_er,
                integrity,
                sk_ai,
                sk_ar,
            },
        }
    }

    /// KEYMAT for a Child SA (RFC 7296 §2.17): `len` bytes of `prf+(SK_d, [g^ir |] Ni | Nr)`,
    /// the nonces being those of the exchange that creates it (IKE_SA_INIT's for the first).
    #[must_use]
    pub fn child_keymat(&self, g_ir: Option<&[u8]>, ni: &[u8], nr: &[u8], len: usize) -> Secret {
        let seed = [g_ir.unwrap_or_default(), ni, nr].concat();
        prf_plus(self.prf, self.sk_d.as_bytes(), &seed, len)
    }

    /// The PSK AUTH data (RFC 7296 §2.15) of the side that sent `message` (its IKE_SA_INIT
    /// message), given the other side's nonce and the sender's ID payload body; `initiator`
    /// picks SK_pi or SK_pr.
    #[must_use]
    pub fn psk_auth(
        &self,
        psk: &[u8],
        initiator: bool,
        message: &[u8],
        peer_nonce: &[u8],
        id_body: &[u8],
    ) -> Secret {
        let sk_p = if initiator { &self.sk_pi } else { &self.sk_pr };
        psk_auth(self.prf, sk_p, psk, message, peer_nonce, id_body)
    }
}

/// The PSK AUTH data (RFC 7296 §2.15) of a side: `prf(prf(psk, "Key Pad for IKEv2"), message |
/// peer_nonce | prf(sk_p, id_body))`, `message` being the side's IKE_SA_INIT message, `peer_nonce`
/// the other side's Nonce body, `sk_p` SK_pi (initiator) or SK_pr (responder) and `id_body` the
/// side's IDi / IDr payload body. What [`IkeKeys::psk_auth`] computes, for a checker that has
/// SK_p but not the whole key schedule (as a decoder with a key log).
///
/// ```
/// use dmvpn_isakmp::keys::{Prf, Secret};
/// use dmvpn_isakmp::v2::keys::psk_auth;
///
/// let sk_pi = Secret::new(vec![7; 32]);
/// let right = psk_auth(Prf::HmacSha256, &sk_pi, b"key", b"msg1", b"nr", b"idi");
/// assert_eq!(right.len(), 32);
/// assert_ne!(right, psk_auth(Prf::HmacSha256, &sk_pi, b"other", b"msg1", b"nr", b"idi"));
/// ```
#[must_use]
pub fn psk_auth(
    prf: Prf,
    sk_p: &Secret,
    psk: &[u8],
    message: &[u8],
    peer_nonce: &[u8],
    id_body: &[u8],
) -> Secret {
    let maced_id = prf.compute(sk_p.as_bytes(), &[id_body]);
    let key = prf.compute(psk, &[KEY_PAD]);
    prf.compute(key.as_bytes(), &[message, peer_nonce, maced_id.as_bytes()])
}

/// Why [`encrypt`] could not build a message.
#[derive(Clone, Copy, Debug, Eq, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum EncryptError {
    /// Only CBC ciphers (3DES, AES-CBC) with an HMAC integrity transform are built.
    #[error("isakmp: encrypting with {0} is not supported")]
    Unsupported(&'static str),
    /// The key material does not have the algorithm's length.
    #[error("isakmp: {what} has the wrong length for the algorithm")]
    BadKey {
        /// `SK_e` or `SK_a`.
        what: &'static str,
    },
    /// The message would be longer than 65535 bytes.
    #[error("isakmp: message of {0} bytes is too long")]
    TooLong(usize),
}

/// Builds an encrypted message (RFC 7296 §3.14): `header` is the 28-byte IKE header (its next
/// payload and length are overwritten), `first` the first inner payload's type, `inner` the inner
/// payload chain and `iv` a fresh random block. The sender is the original initiator when
/// `from_initiator` (SK_ei / SK_ai).
///
/// # Errors
/// [`EncryptError`] for a cipher other than CBC, keys of the wrong length or a message too long.
pub fn encrypt(
    keys: &SaKeys,
    header: &[u8; 28],
    first: u8,
    inner: &[u8],
    iv: &[u8],
    from_initiator: bool,
) -> Result<Vec<u8>, EncryptError> {
    let (ke, ka) = if from_initiator {
        (&keys.sk_ei, &keys.sk_ai)
    } else {
        (&keys.sk_er, &keys.sk_ar)
    };
    let cipher = match keys.encryption {
        Encryption::TripleDes => CbcCipher::TripleDes,
        Encryption::AesCbc(128) => CbcCipher::Aes128,
        Encryption::AesCbc(192) => CbcCipher::Aes192,
        Encryption::AesCbc(256) => CbcCipher::Aes256,
        other => return Err(EncryptError::Unsupported(other.name())),
    };
    let Some(prf) = keys.integrity.prf() else {
        return Err(EncryptError::Unsupported(keys.integrity.name()));
    };
    if ke.len() != cipher.key_len() {
        return Err(EncryptError::BadKey { what: "SK_e" });
    }
    if ka.len() != prf.output_len() {
        return Err(EncryptError::BadKey { what: "SK_a" });
    }
    let block = cipher.block_len();
    let iv = iv.get(..block).ok_or(EncryptError::BadKey { what: "IV" })?;
    let mut plain = inner.to_vec();
    // Pad to the block with the pad length as the last byte (its value counts the pad bytes).
    let pad = (block - (plain.len() + 1) % block) % block;
    plain.resize(plain.len() + pad, 0);
    plain.push(u8::try_from(pad).unwrap_or(0));
    let ciphertext = crate::crypto::encrypt(cipher, ke.as_bytes(), iv, &plain)
        .map_err(|_| EncryptError::BadKey { what: "SK_e" })?;
    zeroize::Zeroize::zeroize(&mut plain);
    let icv_len = keys.integrity.icv_len();
    let sk_len = 4 + iv.len() + ciphertext.len() + icv_len;
    let total = 28 + sk_len;
    let (Ok(total32), Ok(sk16)) = (u32::try_from(total), u16::try_from(sk_len)) else {
        return Err(EncryptError::TooLong(total));
    };
    let mut out = Vec::with_capacity(total);
    out.extend_from_slice(header);
    out[16] = super::PayloadType::SK.0;
    out[24..28].copy_from_slice(&total32.to_be_bytes());
    out.extend_from_slice(&[first, 0]);
    out.extend_from_slice(&sk16.to_be_bytes());
    out.extend_from_slice(iv);
    out.extend_from_slice(&ciphertext);
    let mac = prf.compute(ka.as_bytes(), &[&out]);
    out.extend_from_slice(mac.as_bytes().get(..icv_len).unwrap_or_default());
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::v2::{Message, PayloadType};

    #[test]
    fn prf_plus_blocks_chain() {
        let prf = Prf::HmacSha1;
        let out = prf_plus(prf, b"k", b"s", 45);
        let t1 = prf.compute(b"k", &[b"s", &[1]]);
        let t2 = prf.compute(b"k", &[t1.as_bytes(), b"s", &[2]]);
        assert_eq!(&out.as_bytes()[..20], t1.as_bytes());
        assert_eq!(&out.as_bytes()[20..40], t2.as_bytes());
    }

    /// RFC 7296 §2.15 with Python's `hmac` as the independent oracle:
    /// `prf(prf(psk, b"Key Pad for IKEv2"), msg + nr + prf(sk_p, id))` for SK_p = 0, 1, 2, …,
    /// an ID_IPV4_ADDR body of 192.0.2.11 and a nonce of 32 bytes 0xaa.
    #[test]
    fn psk_auth_is_rfc_7296s() {
        let id = [1, 0, 0, 0, 192, 0, 2, 11];
        for (prf, expected) in [
            (
                Prf::HmacSha256,
                "f7ffb8bf3267fb596d24d323d36802da473cc174cbc95cffcf101113f045b6e2",
            ),
            (Prf::HmacSha1, "a7609eddca338da84c699369893bbdeaef28f420"),
        ] {
            let len = u8::try_from(prf.output_len()).unwrap();
            let sk_p = Secret::new((0..len).collect());
            let msg = b"IKE_SA_INIT request bytes";
            let auth = psk_auth(prf, &sk_p, b"lab-psk-secret", msg, &[0xaa; 32], &id);
            assert_eq!(auth.to_hex(), expected, "{prf:?}");
            // The machine's method is the same computation with its own SK_pi / SK_pr.
            let keys = IkeKeys {
                prf,
                sk_d: Secret::default(),
                sk_pi: sk_p.clone(),
                sk_pr: Secret::new(vec![0; usize::from(len)]),
                sa_keys: SaKeys {
                    initiator_spi: [0; 8],
                    responder_spi: [0; 8],
                    encryption: Encryption::Null,
                    sk_ei: Secret::default(),
                    sk_er: Secret::default(),
                    integrity: Integrity::None,
                    sk_ai: Secret::default(),
                    sk_ar: Secret::default(),
                },
            };
            let machine = keys.psk_auth(b"lab-psk-secret", true, msg, &[0xaa; 32], &id);
            assert_eq!(machine, auth);
            assert_ne!(
                keys.psk_auth(b"lab-psk-secret", false, msg, &[0xaa; 32], &id),
                auth
            );
        }
    }

    #[test]
    fn encrypted_message_decrypts_with_the_codec() {
        let skeyseed = IkeKeys::skeyseed(Prf::HmacSha1, &[1; 16], &[2; 16], &[3; 96]);
        let keys = IkeKeys::from_skeyseed(
            Prf::HmacSha1,
            Encryption::AesCbc(256),
            Integrity::HmacSha1_96,
            &skeyseed,
            &[1; 16],
            &[2; 16],
            [4; 8],
            [5; 8],
        );
        let mut header = [0u8; 28];
        header[..8].copy_from_slice(&[4; 8]);
        header[8..16].copy_from_slice(&[5; 8]);
        header[17] = 0x20;
        header[18] = 37;
        header[19] = 0x08;
        let inner = [0u8, 0, 0, 8, 0xaa, 0xbb, 0xcc, 0xdd];
        for from_initiator in [true, false] {
            header[19] = if from_initiator { 0x08 } else { 0x20 };
            let bytes = encrypt(
                &keys.sa_keys,
                &header,
                PayloadType::NONCE.0,
                &inner,
                &[9; 16],
                from_initiator,
            )
            .unwrap();
            let message = Message::parse(&bytes).unwrap();
            let inner_out = message.decrypt(&keys.sa_keys).unwrap().unwrap();
            assert_eq!(inner_out.decrypted.icv, crate::v2::crypto::Icv::Good);
            assert_eq!(inner_out.decrypted.plaintext, inner);
        }
        assert_eq!(
            encrypt(
                &SaKeys {
                    encryption: Encryption::AesGcm(128, 16),
                    ..keys.sa_keys
                },
                &header,
                40,
                &inner,
                &[0; 16],
                true
            ),
            Err(EncryptError::Unsupported("AES-GCM"))
        );
    }
}
