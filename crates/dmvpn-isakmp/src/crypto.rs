//! IKEv1 encryption: CBC with DES, 3DES and AES, and the IV rules of RFC 2409 Appendix B.
//!
//! - Phase 1: the first IV is `hash(g^xi | g^xr)` truncated to the block size; every later phase-1
//!   message uses the last ciphertext block of the previous one.
//! - Phase 2 (Quick Mode), Informational and Transaction exchanges: the first IV of a message ID is
//!   `hash(last phase-1 ciphertext block | M-ID)` truncated; it then chains within that message ID.
//!
//! [`IkeSaState`] applies those rules to the messages of one IKE SA fed in capture order (both
//! directions), and [`decrypt`] is the stateless primitive.

use alloc::vec;
use alloc::vec::Vec;
use core::fmt;

use aes::cipher::{Block, BlockCipherDecrypt, BlockCipherEncrypt, KeyInit};
use zeroize::Zeroize;

use crate::child::{ChildSa, QuickModeState};
use crate::consts::{EncryptionAlgorithm, ExchangeType, HashAlgorithm, PayloadType};
use crate::keys::{Phase1Keys, Prf, Secret, hash};
use crate::message::{Message, learn_nat_d};
use crate::payload::{Body, Context, Payloads};
use crate::sa::IkePolicy;

/// A phase-1 cipher (RFC 2409 Appendix A encryption algorithms, in CBC mode).
#[derive(Clone, Copy, Debug, Eq, Hash, PartialEq)]
pub enum Cipher {
    /// DES-CBC (8-byte key).
    Des,
    /// 3DES-CBC, EDE with three keys (24-byte key).
    TripleDes,
    /// AES-128-CBC.
    Aes128,
    /// AES-192-CBC.
    Aes192,
    /// AES-256-CBC.
    Aes256,
}

impl Cipher {
    /// The cipher a phase-1 policy names; AES without a key length is AES-128 (RFC 3602 §5).
    #[must_use]
    pub fn from_policy(policy: &IkePolicy) -> Option<Self> {
        Self::from_algorithm(policy.encryption, policy.key_length)
    }

    /// The cipher for an encryption algorithm and key length in bits.
    #[must_use]
    pub const fn from_algorithm(
        algorithm: EncryptionAlgorithm,
        key_bits: Option<u16>,
    ) -> Option<Self> {
        Some(match (algorithm, key_bits) {
            (EncryptionAlgorithm::DES_CBC, _) => Self::Des,
            (EncryptionAlgorithm::TRIPLE_DES_CBC, _) => Self::TripleDes,
            (EncryptionAlgorithm::AES_CBC, None | Some(128)) => Self::Aes128,
            (EncryptionAlgorithm::AES_CBC, Some(192)) => Self::Aes192,
            (EncryptionAlgorithm::AES_CBC, Some(256)) => Self::Aes256,
            _ => return None,
        })
    }

    /// Key length in bytes.
    #[must_use]
    pub const fn key_len(self) -> usize {
        match self {
            Self::Des => 8,
            Self::TripleDes | Self::Aes192 => 24,
            Self::Aes128 => 16,
            Self::Aes256 => 32,
        }
    }

    /// Block (and IV) length in bytes.
    #[must_use]
    pub const fn block_len(self) -> usize {
        match self {
            Self::Des | Self::TripleDes => 8,
            Self::Aes128 | Self::Aes192 | Self::Aes256 => 16,
        }
    }
}

impl fmt::Display for Cipher {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Des => "DES-CBC",
            Self::TripleDes => "3DES-CBC",
            Self::Aes128 => "AES-CBC-128",
            Self::Aes192 => "AES-CBC-192",
            Self::Aes256 => "AES-CBC-256",
        })
    }
}

/// Why a message could not be decrypted.
#[derive(Clone, Debug, Eq, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum DecryptError {
    /// The key is shorter than the cipher needs (Wireshark refuses these too).
    #[error("isakmp: {cipher} needs a {needed}-byte key, have {available}")]
    KeyTooShort {
        /// The cipher.
        cipher: Cipher,
        /// Key bytes the cipher needs.
        needed: usize,
        /// Key bytes supplied.
        available: usize,
    },
    /// The IV is not one block long.
    #[error("isakmp: {cipher} needs a {needed}-byte iv, have {available}")]
    BadIv {
        /// The cipher.
        cipher: Cipher,
        /// IV bytes the cipher needs.
        needed: usize,
        /// IV bytes supplied.
        available: usize,
    },
    /// The ciphertext is not a whole number of blocks (Wireshark's `isakmp.enc_data_length_mult_block_size`).
    #[error(
        "isakmp: encrypted body of {len} bytes at offset 28 is not a multiple of the {block}-byte block"
    )]
    NotBlockAligned {
        /// Ciphertext length.
        len: usize,
        /// Block length.
        block: usize,
    },
    /// The negotiated cipher or hash is not known yet (no SA payload seen) or not supported.
    #[error("isakmp: no usable cipher negotiated (encryption {encryption}, hash {hash})")]
    UnknownAlgorithms {
        /// The encryption algorithm seen, if any.
        encryption: EncryptionAlgorithm,
        /// The hash algorithm seen, if any.
        hash: HashAlgorithm,
    },
    /// The phase-1 IV cannot be computed: the KE payloads were not seen (a capture that starts late
    /// needs [`IkeSaState::set_phase1_iv`]).
    #[error("isakmp: phase-1 iv unknown: the key exchange payloads were not seen")]
    MissingKeyExchange,
    /// The message belongs to another IKE SA.
    #[error("isakmp: initiator cookie {found:016x} does not match this SA ({expected:016x})")]
    WrongSa {
        /// This SA's initiator cookie.
        expected: u64,
        /// The message's initiator cookie.
        found: u64,
    },
}

fn cbc<C: BlockCipherDecrypt + BlockCipherEncrypt + KeyInit>(
    key: &[u8],
    iv: &[u8],
    data: &mut [u8],
    decrypting: bool,
) -> bool {
    let Ok(cipher) = C::new_from_slice(key) else {
        return false;
    };
    let mut chain = Block::<C>::default();
    if chain.len() != iv.len() {
        return false;
    }
    chain.copy_from_slice(iv);
    let mut block = Block::<C>::default();
    for chunk in data.chunks_exact_mut(chain.len()) {
        block.copy_from_slice(chunk);
        if decrypting {
            let saved = block.clone();
            cipher.decrypt_block(&mut block);
            for (out, (plain, prev)) in chunk.iter_mut().zip(block.iter().zip(chain.iter())) {
                *out = plain ^ prev;
            }
            chain = saved;
        } else {
            for (byte, prev) in block.iter_mut().zip(chain.iter()) {
                *byte ^= prev;
            }
            cipher.encrypt_block(&mut block);
            chunk.copy_from_slice(&block);
            chain = block.clone();
        }
    }
    block.zeroize();
    true
}

fn run(
    cipher: Cipher,
    key: &[u8],
    iv: &[u8],
    data: &mut [u8],
    decrypting: bool,
) -> Result<(), DecryptError> {
    let (needed, block) = (cipher.key_len(), cipher.block_len());
    let Some(key) = key.get(..needed) else {
        return Err(DecryptError::KeyTooShort {
            cipher,
            needed,
            available: key.len(),
        });
    };
    if iv.len() != block {
        return Err(DecryptError::BadIv {
            cipher,
            needed: block,
            available: iv.len(),
        });
    }
    if !data.len().is_multiple_of(block) {
        return Err(DecryptError::NotBlockAligned {
            len: data.len(),
            block,
        });
    }
    let ok = match cipher {
        Cipher::Des => cbc::<des::Des>(key, iv, data, decrypting),
        Cipher::TripleDes => cbc::<des::TdesEde3>(key, iv, data, decrypting),
        Cipher::Aes128 => cbc::<aes::Aes128>(key, iv, data, decrypting),
        Cipher::Aes192 => cbc::<aes::Aes192>(key, iv, data, decrypting),
        Cipher::Aes256 => cbc::<aes::Aes256>(key, iv, data, decrypting),
    };
    // Key and IV lengths were checked above, so the block cipher accepts them.
    debug_assert!(ok);
    Ok(())
}

/// Decrypts `ciphertext` with `cipher` in CBC mode. The key may be longer than the cipher needs
/// (its leftmost bytes are used, RFC 2409 Appendix B); the IV must be one block.
///
/// ```
/// use dmvpn_isakmp::crypto::{Cipher, decrypt, encrypt};
/// let (key, iv) = ([7; 16], [9; 16]);
/// let ciphertext = encrypt(Cipher::Aes128, &key, &iv, &[0x2a; 32])?;
/// assert_eq!(decrypt(Cipher::Aes128, &key, &iv, &ciphertext)?, [0x2a; 32]);
/// # Ok::<(), dmvpn_isakmp::crypto::DecryptError>(())
/// ```
pub fn decrypt(
    cipher: Cipher,
    key: &[u8],
    iv: &[u8],
    ciphertext: &[u8],
) -> Result<Vec<u8>, DecryptError> {
    let mut data = ciphertext.to_vec();
    run(cipher, key, iv, &mut data, true)?;
    Ok(data)
}

/// Encrypts block-aligned `plaintext` (pad it first: RFC 2409 pads with zeros and does not code the
/// pad length).
pub fn encrypt(
    cipher: Cipher,
    key: &[u8],
    iv: &[u8],
    plaintext: &[u8],
) -> Result<Vec<u8>, DecryptError> {
    let mut data = plaintext.to_vec();
    run(cipher, key, iv, &mut data, false)?;
    Ok(data)
}

/// The first IV of phase 1: `hash(g^xi | g^xr)` truncated to the block (RFC 2409 Appendix B).
#[must_use]
pub fn phase1_iv(
    hash_alg: HashAlgorithm,
    cipher: Cipher,
    g_xi: &[u8],
    g_xr: &[u8],
) -> Option<Vec<u8>> {
    let mut iv = hash(hash_alg, &[g_xi, g_xr])?;
    iv.truncate(cipher.block_len());
    Some(iv)
}

/// The first IV of a phase-2 / informational message ID: `hash(last phase-1 block | M-ID)` truncated.
#[must_use]
pub fn phase2_iv(
    hash_alg: HashAlgorithm,
    cipher: Cipher,
    phase1_last_block: &[u8],
    message_id: u32,
) -> Option<Vec<u8>> {
    let mut iv = hash(hash_alg, &[phase1_last_block, &message_id.to_be_bytes()])?;
    iv.truncate(cipher.block_len());
    Some(iv)
}

/// How many message IDs keep their IV (strongSwan keeps 3; captures interleave more exchanges).
const MAX_MESSAGE_IDS: usize = 16;

#[derive(Clone)]
struct IvState {
    message_id: u32,
    /// The IV the last message of this ID was decrypted with, to decrypt an identical retransmission.
    before: Vec<u8>,
    /// The IV for the next message of this ID: the last ciphertext block.
    next: Vec<u8>,
}

/// The decryption state of one IKE SA, fed its messages in capture order, both directions.
///
/// It learns the cipher and hash from the SA payloads (the responder's choice wins), g^xi and g^xr
/// from the first two phase-1 KE payloads, and keeps an IV per message ID. Given the encryption key
/// Ka (as in Wireshark's `ikev1_decryption_table`) it decrypts every encrypted message.
///
/// Given the pre-shared key and the DH shared secret instead ([`IkeSaState::with_psk`]), it derives
/// the whole RFC 2409 key schedule from the nonces it sees (Ka included), and given SKEYID_d
/// ([`IkeSaState::set_skeyid_d`], or implied by the PSK) it derives the ESP/AH keys of every Quick
/// Mode ([`IkeSaState::child_sas`]): ESP decrypts with no `esp_sa` file.
///
/// ```no_run
/// use dmvpn_isakmp::{Message, crypto::IkeSaState, keys::Secret};
/// # let messages: Vec<Vec<u8>> = vec![];
/// let mut sa = IkeSaState::new([0xfa, 0xfa, 0xeb, 0x49, 0x38, 0x2a, 0x76, 0x3c], Secret::new(vec![0; 24]));
/// for bytes in &messages {
///     let message = Message::parse(bytes)?;
///     let plaintext = sa.process(&message)?; // Some(decrypted body) for encrypted messages
///     println!("{}", message.summary(plaintext.as_deref()).with_nat_d(sa.nat_d()));
/// }
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Clone)]
pub struct IkeSaState {
    initiator_cookie: [u8; 8],
    key: Secret,
    cipher: Option<Cipher>,
    encryption: EncryptionAlgorithm,
    hash: HashAlgorithm,
    responder_chose: bool,
    g_xi: Option<Vec<u8>>,
    g_xr: Option<Vec<u8>>,
    phase1: Option<IvState>,
    ivs: Vec<IvState>,
    nat_d: Option<PayloadType>,
    responder_cookie: [u8; 8],
    nonces: Vec<Vec<u8>>,
    psk: Option<(Secret, Secret)>,
    phase1_keys: Option<Phase1Keys>,
    skeyid_d: Option<(Prf, Secret)>,
    quick: Vec<QuickModeState>,
    pfs_secrets: Vec<(u32, Secret)>,
    children: Vec<ChildSa>,
}

impl fmt::Debug for IkeSaState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("IkeSaState")
            .field(
                "initiator_cookie",
                &dmvpn_wire::fmt::Hex(&self.initiator_cookie),
            )
            .field("key", &self.key)
            .field("cipher", &self.cipher)
            .field("hash", &self.hash)
            .field(
                "message_ids",
                &self.ivs.iter().map(|s| s.message_id).collect::<Vec<_>>(),
            )
            .finish_non_exhaustive()
    }
}

impl IkeSaState {
    /// State for the IKE SA with `initiator_cookie`, decrypting with `key` (Ka).
    #[must_use]
    pub const fn new(initiator_cookie: [u8; 8], key: Secret) -> Self {
        Self {
            initiator_cookie,
            key,
            cipher: None,
            encryption: EncryptionAlgorithm(0),
            hash: HashAlgorithm(0),
            responder_chose: false,
            g_xi: None,
            g_xr: None,
            phase1: None,
            ivs: Vec::new(),
            nat_d: None,
            responder_cookie: [0; 8],
            nonces: Vec::new(),
            psk: None,
            phase1_keys: None,
            skeyid_d: None,
            quick: Vec::new(),
            pfs_secrets: Vec::new(),
            children: Vec::new(),
        }
    }

    /// State that derives every key itself from the pre-shared key and the Diffie-Hellman shared
    /// secret g^xy (padded to the modulus, [`crate::keys::pad_shared_secret`]), once it has seen the
    /// SA choice, the nonces and both cookies.
    #[must_use]
    pub fn with_psk(initiator_cookie: [u8; 8], psk: Secret, g_xy: Secret) -> Self {
        let mut state = Self::new(initiator_cookie, Secret::default());
        state.psk = Some((psk, g_xy));
        state
    }

    /// Supplies SKEYID_d (e.g. from strongSwan's log), so Quick Mode keys can be derived.
    pub fn set_skeyid_d(&mut self, prf: Prf, skeyid_d: Secret) {
        self.skeyid_d = Some((prf, skeyid_d));
        self.derive_children();
    }

    /// Supplies the padded Diffie-Hellman secret of a PFS Quick Mode.
    pub fn set_quick_mode_secret(&mut self, message_id: u32, g_qm: Secret) {
        self.pfs_secrets.retain(|(id, _)| *id != message_id);
        self.pfs_secrets.push((message_id, g_qm));
        self.derive_children();
    }

    /// The phase-1 keys, once derived from the PSK.
    #[must_use]
    pub const fn phase1_keys(&self) -> Option<&Phase1Keys> {
        self.phase1_keys.as_ref()
    }

    /// The encryption key in use (empty until known).
    #[must_use]
    pub const fn encryption_key(&self) -> &Secret {
        &self.key
    }

    /// Every child SA derived so far, in the order their Quick Modes completed.
    #[must_use]
    pub fn child_sas(&self) -> &[ChildSa] {
        &self.children
    }

    /// Fixes the algorithms instead of learning them from the SA payloads.
    pub fn set_algorithms(&mut self, cipher: Cipher, hash: HashAlgorithm) {
        self.cipher = Some(cipher);
        self.hash = hash;
        self.responder_chose = true;
    }

    /// Sets the current phase-1 IV (the last ciphertext block of phase 1), for captures that start
    /// after the key exchange.
    pub fn set_phase1_iv(&mut self, iv: &[u8]) {
        self.phase1 = Some(IvState {
            message_id: 0,
            before: iv.to_vec(),
            next: iv.to_vec(),
        });
    }

    /// The initiator cookie.
    #[must_use]
    pub const fn initiator_cookie(&self) -> [u8; 8] {
        self.initiator_cookie
    }

    /// The negotiated cipher, once known.
    #[must_use]
    pub const fn cipher(&self) -> Option<Cipher> {
        self.cipher
    }

    /// The NAT-D payload type agreed by the NAT-T vendor IDs seen so far.
    #[must_use]
    pub const fn nat_d(&self) -> Option<PayloadType> {
        self.nat_d
    }

    /// The IV the next message with `message_id` would be decrypted with, if it can be computed.
    #[must_use]
    pub fn next_iv(&self, message_id: u32) -> Option<Vec<u8>> {
        let cipher = self.cipher?;
        if message_id == 0 {
            return match &self.phase1 {
                Some(state) => Some(state.next.clone()),
                None => phase1_iv(
                    self.hash,
                    cipher,
                    self.g_xi.as_deref()?,
                    self.g_xr.as_deref()?,
                ),
            };
        }
        if let Some(state) = self.ivs.iter().find(|s| s.message_id == message_id) {
            return Some(state.next.clone());
        }
        let last = self.next_iv(0)?;
        phase2_iv(self.hash, cipher, &last, message_id)
    }

    /// Processes one message of this SA: learns from plaintext ones, decrypts encrypted ones and
    /// returns their plaintext (payload chain plus padding).
    pub fn process(&mut self, message: &Message<'_>) -> Result<Option<Vec<u8>>, DecryptError> {
        let header = &message.header;
        if header.initiator_cookie != self.initiator_cookie {
            return Err(DecryptError::WrongSa {
                expected: u64::from_be_bytes(self.initiator_cookie),
                found: u64::from_be_bytes(header.initiator_cookie),
            });
        }
        if let Some(payloads) = message.payloads() {
            self.learn(message, payloads);
            return Ok(None);
        }
        let Some(cipher) = self.cipher else {
            return Err(DecryptError::UnknownAlgorithms {
                encryption: self.encryption,
                hash: self.hash,
            });
        };
        let block = cipher.block_len();
        let body = message.body;
        if !body.len().is_multiple_of(block) || body.is_empty() {
            return Err(DecryptError::NotBlockAligned {
                len: body.len(),
                block,
            });
        }
        let last_block = &body[body.len() - block..];
        let id = header.message_id;
        let slot = if id == 0 {
            self.phase1.as_ref()
        } else {
            self.ivs.iter().find(|s| s.message_id == id)
        };
        let iv = match slot {
            // An identical retransmission ends with the block we chained from: reuse its IV.
            Some(state) if state.next == last_block => state.before.clone(),
            _ => self.next_iv(id).ok_or(if self.hash.is_known() {
                DecryptError::MissingKeyExchange
            } else {
                DecryptError::UnknownAlgorithms {
                    encryption: self.encryption,
                    hash: self.hash,
                }
            })?,
        };
        let plaintext = decrypt(cipher, self.key.as_bytes(), &iv, body)?;
        let state = IvState {
            message_id: id,
            before: iv,
            next: last_block.to_vec(),
        };
        if id == 0 {
            self.phase1 = Some(state);
        } else {
            self.ivs.retain(|s| s.message_id != id);
            if self.ivs.len() == MAX_MESSAGE_IDS {
                self.ivs.remove(0);
            }
            self.ivs.push(state);
        }
        if header.exchange_type == ExchangeType::QUICK {
            self.learn_quick_mode(id, header.next_payload, &plaintext);
        }
        Ok(Some(plaintext))
    }

    fn learn_quick_mode(&mut self, message_id: u32, first: PayloadType, plaintext: &[u8]) {
        let index = match self.quick.iter().position(|q| q.message_id == message_id) {
            Some(index) => index,
            None => {
                if self.quick.len() == MAX_MESSAGE_IDS {
                    self.quick.remove(0);
                }
                self.quick.push(QuickModeState {
                    message_id,
                    ..QuickModeState::default()
                });
                self.quick.len() - 1
            }
        };
        let context = Context {
            exchange: ExchangeType::QUICK,
            nat_d: self.nat_d,
        };
        let qm = &mut self.quick[index];
        let mut saw_sa = false;
        for payload in
            Payloads::decrypted(first, plaintext, crate::header::HEADER_LEN).map_while(Result::ok)
        {
            match payload.decode(context) {
                // A retransmission repeats what we have: only the first two SA/NONCE sets count.
                Ok(Body::Sa(sa)) if qm.chosen.is_empty() && !saw_sa => {
                    saw_sa = true;
                    qm.record_sa(&sa);
                }
                Ok(Body::Nonce(nonce))
                    if qm.nonces.len() < 2 && qm.nonces.last().is_none_or(|n| n != nonce) =>
                {
                    qm.nonces.push(nonce.to_vec());
                }
                Ok(Body::Ke(_)) => qm.ke += 1,
                _ => {}
            }
        }
        self.derive_children();
    }

    fn derive_children(&mut self) {
        let Some((prf, skeyid_d)) = &self.skeyid_d else {
            return;
        };
        for qm in &mut self.quick {
            let g_qm = self
                .pfs_secrets
                .iter()
                .find(|(id, _)| *id == qm.message_id)
                .map(|(_, s)| s.as_bytes());
            self.children.extend(qm.derive(*prf, skeyid_d, g_qm));
        }
    }

    fn derive_phase1(&mut self) {
        let (Some((psk, g_xy)), None) = (&self.psk, &self.phase1_keys) else {
            return;
        };
        let (Some(cipher), Some(prf)) = (self.cipher, Prf::from_hash(self.hash)) else {
            return;
        };
        if self.nonces.len() < 2 || self.responder_cookie == [0; 8] {
            return;
        }
        let keys = Phase1Keys::from_psk(
            prf,
            psk.as_bytes(),
            &self.nonces[0],
            &self.nonces[1],
            g_xy.as_bytes(),
            self.initiator_cookie,
            self.responder_cookie,
        );
        self.key = keys.encryption_key(cipher.key_len());
        self.skeyid_d = Some((prf, keys.skeyid_d().clone()));
        self.phase1_keys = Some(keys);
        self.derive_children();
    }

    fn learn(&mut self, message: &Message<'_>, payloads: Payloads<'_>) {
        self.nat_d = learn_nat_d(payloads.clone(), self.nat_d);
        let header = &message.header;
        let phase1 = header.message_id == 0
            && matches!(
                header.exchange_type,
                ExchangeType::MAIN | ExchangeType::AGGRESSIVE | ExchangeType::BASE
            );
        if header.responder_cookie != [0; 8] {
            self.responder_cookie = header.responder_cookie;
        }
        let context = Context {
            exchange: header.exchange_type,
            nat_d: self.nat_d,
        };
        for payload in payloads.map_while(Result::ok) {
            match payload.decode(context) {
                Ok(Body::Sa(sa)) if phase1 => {
                    let from_responder = header.responder_cookie != [0; 8];
                    if self.responder_chose && !from_responder {
                        continue;
                    }
                    if let Ok(Some(policy)) = sa.ike_policy() {
                        self.encryption = policy.encryption;
                        self.hash = policy.hash;
                        self.cipher = Cipher::from_policy(&policy);
                        self.responder_chose = from_responder;
                    }
                }
                Ok(Body::Ke(value)) if phase1 => {
                    if self.g_xi.is_none() {
                        self.g_xi = Some(value.to_vec());
                    } else if self.g_xr.is_none() && self.g_xi.as_deref() != Some(value) {
                        self.g_xr = Some(value.to_vec());
                    }
                }
                Ok(Body::Nonce(value))
                    if phase1
                        && self.nonces.len() < 2
                        && !self.nonces.iter().any(|n| n == value) =>
                {
                    self.nonces.push(value.to_vec());
                }
                _ => {}
            }
        }
        self.derive_phase1();
    }
}

/// Pads `plaintext` with zeros to a whole number of blocks, as RFC 2409 Appendix B sends it.
#[must_use]
pub fn pad(cipher: Cipher, plaintext: &[u8]) -> Vec<u8> {
    let block = cipher.block_len();
    let mut padded = vec![0; plaintext.len().div_ceil(block).max(1) * block];
    padded[..plaintext.len()].copy_from_slice(plaintext);
    padded
}

#[cfg(test)]
mod tests {
    extern crate alloc;
    use alloc::string::ToString;

    use super::*;

    #[test]
    fn fips197_aes128_single_block() {
        // FIPS-197 Appendix C.1: with a zero IV, CBC of one block is the bare block cipher.
        let key = hex::decode("000102030405060708090a0b0c0d0e0f").unwrap();
        let plain = hex::decode("00112233445566778899aabbccddeeff").unwrap();
        let ct = encrypt(Cipher::Aes128, &key, &[0; 16], &plain).unwrap();
        assert_eq!(hex::encode(&ct), "69c4e0d86a7b0430d8cdb78070b4c55a");
        assert_eq!(decrypt(Cipher::Aes128, &key, &[0; 16], &ct).unwrap(), plain);
    }

    #[test]
    fn rfc3602_case_2() {
        // RFC 3602 §4 case #2: AES-128-CBC, 32 bytes.
        let key = hex::decode("c286696d887c9aa0611bbb3e2025a45a").unwrap();
        let iv = hex::decode("562e17996d093d28ddb3ba695a2e6f58").unwrap();
        let plain = hex::decode("000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f")
            .unwrap();
        let ct = encrypt(Cipher::Aes128, &key, &iv, &plain).unwrap();
        assert_eq!(
            hex::encode(&ct),
            "d296cd94c2cccf8a3a863028b5e1dc0a7586602d253cfff91b8266bea6d61ab1"
        );
        assert_eq!(decrypt(Cipher::Aes128, &key, &iv, &ct).unwrap(), plain);
    }

    #[test]
    fn every_cipher_round_trips() {
        for cipher in [
            Cipher::Des,
            Cipher::TripleDes,
            Cipher::Aes128,
            Cipher::Aes192,
            Cipher::Aes256,
        ] {
            let key: Vec<u8> = (0..40).collect();
            let iv = vec![0x5a; cipher.block_len()];
            let plain = pad(cipher, b"ISAKMP payload chain");
            let ct = encrypt(cipher, &key, &iv, &plain).unwrap();
            assert_ne!(ct, plain);
            assert_eq!(decrypt(cipher, &key, &iv, &ct).unwrap(), plain, "{cipher}");
        }
    }

    #[test]
    fn errors() {
        assert_eq!(
            decrypt(Cipher::TripleDes, &[0; 16], &[0; 8], &[0; 8])
                .unwrap_err()
                .to_string(),
            "isakmp: 3DES-CBC needs a 24-byte key, have 16"
        );
        assert_eq!(
            decrypt(Cipher::Aes256, &[0; 32], &[0; 8], &[0; 16])
                .unwrap_err()
                .to_string(),
            "isakmp: AES-CBC-256 needs a 16-byte iv, have 8"
        );
        assert_eq!(
            decrypt(Cipher::Aes128, &[0; 16], &[0; 16], &[0; 20])
                .unwrap_err()
                .to_string(),
            "isakmp: encrypted body of 20 bytes at offset 28 is not a multiple of the 16-byte block"
        );
        assert_eq!(
            DecryptError::MissingKeyExchange.to_string(),
            "isakmp: phase-1 iv unknown: the key exchange payloads were not seen"
        );
        assert_eq!(
            DecryptError::WrongSa {
                expected: 1,
                found: 2
            }
            .to_string(),
            "isakmp: initiator cookie 0000000000000002 does not match this SA (0000000000000001)"
        );
        assert_eq!(
            DecryptError::UnknownAlgorithms {
                encryption: EncryptionAlgorithm(0),
                hash: HashAlgorithm::MD5
            }
            .to_string(),
            "isakmp: no usable cipher negotiated (encryption 0x0, hash MD5 (1))"
        );
    }

    #[test]
    fn cipher_from_policy() {
        assert_eq!(
            Cipher::from_algorithm(EncryptionAlgorithm::AES_CBC, Some(256)),
            Some(Cipher::Aes256)
        );
        assert_eq!(
            Cipher::from_algorithm(EncryptionAlgorithm::AES_CBC, None),
            Some(Cipher::Aes128)
        );
        assert_eq!(
            Cipher::from_algorithm(EncryptionAlgorithm::AES_CBC, Some(100)),
            None
        );
        assert_eq!(
            Cipher::from_algorithm(EncryptionAlgorithm::CAST_CBC, None),
            None
        );
    }

    #[test]
    fn arbitrary_round_trip() {
        bolero::check!()
            .with_type::<(u8, Vec<u8>)>()
            .for_each(|(which, data)| {
                let cipher = [
                    Cipher::Des,
                    Cipher::TripleDes,
                    Cipher::Aes128,
                    Cipher::Aes192,
                    Cipher::Aes256,
                ][usize::from(*which % 5)];
                let key = [0x11; 32];
                let iv = vec![0x22; cipher.block_len()];
                let padded = pad(cipher, data);
                let ct = encrypt(cipher, &key, &iv, &padded).unwrap();
                assert_eq!(decrypt(cipher, &key, &iv, &ct).unwrap(), padded);
                let _ = decrypt(cipher, &key, &iv, data);
            });
    }
}
