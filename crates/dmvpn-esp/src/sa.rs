//! Security associations: transforms, keys and prepared cipher state.

use alloc::vec::Vec;
use core::fmt;

use subtle::ConstantTimeEq;

use crate::cipher::{Cipher, MAX_ICV_LEN, Mac, SALT_LEN};
use crate::packet::{HEADER_LEN, field};
use crate::trailer::{self, PaddingCheck, Trailer};
use crate::{DecryptError, EncryptError, NextHeader};

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
    /// Every transform, in the order of the Wireshark `esp_sa` names.
    pub const ALL: [Self; 6] = [
        Self::Null,
        Self::TripleDesCbc,
        Self::AesCbc,
        Self::AesGcm8,
        Self::AesGcm12,
        Self::AesGcm16,
    ];

    /// The name of the transform in Wireshark's `esp_sa` table (`packet-ipsec.c`).
    #[must_use]
    pub const fn wireshark_name(self) -> &'static str {
        match self {
            Self::Null => "NULL",
            Self::TripleDesCbc => "TripleDES-CBC [RFC2451]",
            Self::AesCbc => "AES-CBC [RFC3602]",
            Self::AesGcm8 => "AES-GCM with 8 octet ICV [RFC4106]",
            Self::AesGcm12 => "AES-GCM with 12 octet ICV [RFC4106]",
            Self::AesGcm16 => "AES-GCM with 16 octet ICV [RFC4106]",
        }
    }

    /// The transform a Wireshark `esp_sa` name stands for; `"AES-GCM [RFC4106]"` is the 16-byte
    /// ICV variant.
    #[must_use]
    pub fn from_wireshark_name(name: &str) -> Option<Self> {
        if name == "AES-GCM [RFC4106]" {
            return Some(Self::AesGcm16);
        }
        Self::ALL
            .into_iter()
            .find(|encryption| encryption.wireshark_name() == name)
    }

    /// Whether the transform is a combined mode that authenticates by itself (RFC 4303 §3.2.3).
    #[must_use]
    pub const fn is_aead(self) -> bool {
        matches!(self, Self::AesGcm8 | Self::AesGcm12 | Self::AesGcm16)
    }

    /// The length of the IV sent in each packet: 8 for 3DES (RFC 2451 §3) and for AES-GCM's
    /// explicit IV (RFC 4106 §3.1), 16 for AES-CBC (RFC 3602 §3).
    #[must_use]
    pub const fn iv_len(self) -> usize {
        match self {
            Self::Null => 0,
            Self::TripleDesCbc | Self::AesGcm8 | Self::AesGcm12 | Self::AesGcm16 => 8,
            Self::AesCbc => 16,
        }
    }

    /// The cipher block size the ciphertext must be a multiple of; 1 for stream-like modes.
    #[must_use]
    pub const fn block_size(self) -> usize {
        match self {
            Self::Null | Self::AesGcm8 | Self::AesGcm12 | Self::AesGcm16 => 1,
            Self::TripleDesCbc => 8,
            Self::AesCbc => 16,
        }
    }

    /// The alignment of payload, padding, pad length and next header: the block size, and at
    /// least 4 bytes (RFC 4303 §2.4).
    #[must_use]
    pub const fn align(self) -> usize {
        if self.block_size() < 4 {
            4
        } else {
            self.block_size()
        }
    }

    /// The ICV length of a combined-mode transform, 0 for the others.
    #[must_use]
    pub const fn icv_len(self) -> usize {
        match self {
            Self::Null | Self::TripleDesCbc | Self::AesCbc => 0,
            Self::AesGcm8 => 8,
            Self::AesGcm12 => 12,
            Self::AesGcm16 => 16,
        }
    }

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
    /// Every transform, in the order of the Wireshark `esp_sa` names.
    pub const ALL: [Self; 6] = [
        Self::None,
        Self::HmacMd5_96,
        Self::HmacSha1_96,
        Self::HmacSha256_128,
        Self::HmacSha384_192,
        Self::HmacSha512_256,
    ];

    /// The name of the transform in Wireshark's `esp_sa` table (`packet-ipsec.c`).
    #[must_use]
    pub const fn wireshark_name(self) -> &'static str {
        match self {
            Self::None => "NULL",
            Self::HmacMd5_96 => "HMAC-MD5-96 [RFC2403]",
            Self::HmacSha1_96 => "HMAC-SHA-1-96 [RFC2404]",
            Self::HmacSha256_128 => "HMAC-SHA-256-128 [RFC4868]",
            Self::HmacSha384_192 => "HMAC-SHA-384-192 [RFC4868]",
            Self::HmacSha512_256 => "HMAC-SHA-512-256 [RFC4868]",
        }
    }

    /// The transform a Wireshark `esp_sa` name stands for.
    #[must_use]
    pub fn from_wireshark_name(name: &str) -> Option<Self> {
        Self::ALL
            .into_iter()
            .find(|integrity| integrity.wireshark_name() == name)
    }

    /// The ICV length: the HMAC output truncated to 96 bits (RFC 2403, RFC 2404) or to half its
    /// length (RFC 4868 §2.3).
    #[must_use]
    pub const fn icv_len(self) -> usize {
        match self {
            Self::None => 0,
            Self::HmacMd5_96 | Self::HmacSha1_96 => 12,
            Self::HmacSha256_128 => 16,
            Self::HmacSha384_192 => 24,
            Self::HmacSha512_256 => 32,
        }
    }

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
    /// A combined-mode cipher was given a separate integrity transform (RFC 4303 §3.2: AES-GCM
    /// provides integrity itself, RFC 4106 §1).
    #[error("esp: {encryption:?} authenticates by itself and takes no {integrity:?}")]
    IntegrityWithAead {
        /// The combined-mode transform.
        encryption: Encryption,
        /// The integrity transform given with it.
        integrity: Integrity,
    },
    /// An unchecked ICV ([`Sa::with_unchecked_icv`]) was asked of an SA that has an ICV of its own.
    #[error(
        "esp: an unchecked ICV needs an SA without integrity; {encryption:?} with {integrity:?} has its own ICV"
    )]
    UncheckedIcvWithIcv {
        /// The encryption transform.
        encryption: Encryption,
        /// The integrity transform.
        integrity: Integrity,
    },
    /// An unchecked ICV longer than any integrity transform's.
    #[error("esp: an unchecked ICV of {len} bytes is longer than {max}")]
    UncheckedIcvLength {
        /// The length asked for.
        len: usize,
        /// The longest allowed.
        max: usize,
    },
}

/// A security association with prepared cipher and MAC state.
///
/// [`Sa::new`] runs the key schedule and computes the HMAC inner and outer pads once; each packet
/// then costs one copy of the keyed HMAC state and the cipher work. Round keys are wiped when the
/// SA drops, and `Debug` prints no key material.
pub struct Sa {
    spi: u32,
    encryption: Encryption,
    integrity: Integrity,
    /// Bytes of ICV that are skipped, not verified (0 normally).
    unchecked_icv: u8,
    esn: bool,
    padding: PaddingCheck,
    cipher: Cipher,
    mac: Mac,
}

/// A packet that passed the integrity check and decrypted to a valid trailer.
#[derive(Clone, Copy, Debug, Eq, PartialEq)]
pub struct Decrypted<'a> {
    /// The SPI.
    pub spi: u32,
    /// The sequence number, with the high-order 32 bits under ESN.
    pub seq: u64,
    /// The IP protocol of the payload: 47 (GRE) for DMVPN in transport mode, 4 or 41 in tunnel
    /// mode, 59 for a dummy TFC packet (RFC 4303 §2.6).
    pub next_header: NextHeader,
    /// The payload data, without padding and trailer.
    pub payload: &'a [u8],
    /// The padding bytes.
    pub padding: &'a [u8],
}

impl Sa {
    /// Prepares an SA: checks the key lengths and runs the key schedules once.
    ///
    /// AES-GCM keys end with the 4-byte salt (RFC 4106 §8.1), as in Wireshark's `esp_sa` and
    /// Linux's `rfc4106(gcm(aes))`. HMAC keys have the length of the hash output (RFC 2403 §3,
    /// RFC 2404 §3, RFC 4868 §2.1.1). NULL encryption with no integrity is accepted, so that
    /// ESP-NULL traffic can be decoded.
    ///
    /// # Errors
    /// [`KeyError`] for a key of the wrong length, or an integrity transform with AES-GCM.
    pub fn new(
        spi: u32,
        encryption: Encryption,
        encryption_key: &[u8],
        integrity: Integrity,
        integrity_key: &[u8],
    ) -> Result<Self, KeyError> {
        Self::check_keys(encryption, encryption_key, integrity, integrity_key)?;
        let cipher =
            Cipher::new(encryption, encryption_key).ok_or(KeyError::EncryptionKeyLength {
                encryption,
                len: encryption_key.len(),
                expected: encryption.key_lengths(),
            })?;
        let mac = Mac::new(integrity, integrity_key).ok_or(KeyError::IntegrityKeyLength {
            integrity,
            len: integrity_key.len(),
            expected: integrity.key_len(),
        })?;
        Ok(Self {
            spi,
            encryption,
            integrity,
            unchecked_icv: 0,
            esn: false,
            padding: PaddingCheck::Monotonic,
            cipher,
            mac,
        })
    }

    /// Gives an SA without integrity an ICV of `len` bytes that is skipped on receipt, not
    /// verified: Wireshark's "ANY n bit authentication [no checking]" and tcpdump's `-hmac96`
    /// (`-E`), for captures whose integrity key is unknown. Encryption writes `len` zero bytes
    /// there. `len` 0 removes it.
    ///
    /// # Errors
    /// [`KeyError::UncheckedIcvWithIcv`] if the SA has an ICV of its own (an integrity transform
    /// or AES-GCM), [`KeyError::UncheckedIcvLength`] beyond 32 bytes (256 bits, the longest ICV).
    pub fn with_unchecked_icv(mut self, len: usize) -> Result<Self, KeyError> {
        if len == 0 {
            self.unchecked_icv = 0;
            return Ok(self);
        }
        if self.integrity != Integrity::None || self.encryption.is_aead() {
            return Err(KeyError::UncheckedIcvWithIcv {
                encryption: self.encryption,
                integrity: self.integrity,
            });
        }
        self.unchecked_icv = u8::try_from(len)
            .ok()
            .filter(|&len| usize::from(len) <= MAX_ICV_LEN)
            .ok_or(KeyError::UncheckedIcvLength {
                len,
                max: MAX_ICV_LEN,
            })?;
        Ok(self)
    }

    /// Whether the SA's ICV is verified on receipt: it has one, and it is not an unchecked one
    /// ([`with_unchecked_icv`](Self::with_unchecked_icv)).
    #[must_use]
    pub fn icv_checked(&self) -> bool {
        self.unchecked_icv == 0 && self.icv_len() > 0
    }

    /// The length of the ICV that is skipped, not verified (0 unless
    /// [`with_unchecked_icv`](Self::with_unchecked_icv) set one).
    #[must_use]
    pub fn unchecked_icv_len(&self) -> usize {
        usize::from(self.unchecked_icv)
    }

    /// Checks what [`Sa::new`] checks — the key lengths, and no integrity transform with AES-GCM —
    /// without running any key schedule: for tables of many SAs prepared only when used.
    ///
    /// # Errors
    /// As [`Sa::new`].
    pub fn check_keys(
        encryption: Encryption,
        encryption_key: &[u8],
        integrity: Integrity,
        integrity_key: &[u8],
    ) -> Result<(), KeyError> {
        if encryption.is_aead() && integrity != Integrity::None {
            return Err(KeyError::IntegrityWithAead {
                encryption,
                integrity,
            });
        }
        let len = encryption_key.len();
        let fits = match encryption {
            Encryption::Null => len == 0,
            Encryption::TripleDesCbc => len == 24,
            Encryption::AesCbc => matches!(len, 16 | 24 | 32),
            Encryption::AesGcm8 | Encryption::AesGcm12 | Encryption::AesGcm16 => {
                matches!(len, 20 | 28 | 36)
            }
        };
        if !fits {
            return Err(KeyError::EncryptionKeyLength {
                encryption,
                len,
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
        Ok(())
    }

    /// Turns extended sequence numbers on or off (RFC 4303 §2.2.1); off by default.
    #[must_use]
    pub fn with_esn(mut self, esn: bool) -> Self {
        self.esn = esn;
        self
    }

    /// Sets how padding is checked on receipt; [`PaddingCheck::Monotonic`] by default.
    #[must_use]
    pub fn with_padding_check(mut self, check: PaddingCheck) -> Self {
        self.padding = check;
        self
    }

    /// The Security Parameters Index.
    #[must_use]
    pub fn spi(&self) -> u32 {
        self.spi
    }

    /// The encryption transform.
    #[must_use]
    pub fn encryption(&self) -> Encryption {
        self.encryption
    }

    /// The integrity transform.
    #[must_use]
    pub fn integrity(&self) -> Integrity {
        self.integrity
    }

    /// Whether the SA uses extended sequence numbers.
    #[must_use]
    pub fn esn(&self) -> bool {
        self.esn
    }

    /// How padding is checked on receipt.
    #[must_use]
    pub fn padding_check(&self) -> PaddingCheck {
        self.padding
    }

    /// The length of the IV after the header.
    #[must_use]
    pub fn iv_len(&self) -> usize {
        self.encryption.iv_len()
    }

    /// The length of the ICV at the end of each packet.
    #[must_use]
    pub fn icv_len(&self) -> usize {
        self.encryption.icv_len() + self.integrity.icv_len() + usize::from(self.unchecked_icv)
    }

    /// Where the payload starts in a packet: after SPI, sequence number and IV.
    #[must_use]
    pub fn payload_offset(&self) -> usize {
        HEADER_LEN + self.iv_len()
    }

    /// The length of the ESP packet that carries `payload_len` bytes, with the default padding.
    #[must_use]
    pub fn encrypted_len(&self, payload_len: usize) -> usize {
        let trailer =
            trailer::Repr::for_payload(payload_len, self.encryption.align(), NextHeader(0));
        self.payload_offset()
            .saturating_add(payload_len)
            .saturating_add(trailer.buffer_len())
            .saturating_add(self.icv_len())
    }

    /// Verifies and decrypts a packet (from the SPI to the end of the ICV) in place, with the
    /// high-order sequence number bits 0. For an ESN SA past the first 2^32 packets use
    /// [`decrypt_in_place_esn`](Self::decrypt_in_place_esn) or an [`Inbound`](crate::Inbound).
    ///
    /// # Errors
    /// As [`decrypt_in_place_esn`](Self::decrypt_in_place_esn).
    pub fn decrypt_in_place<'b>(
        &self,
        packet: &'b mut [u8],
    ) -> Result<Decrypted<'b>, DecryptError> {
        self.decrypt_in_place_esn(packet, 0)
    }

    /// Copies `packet` into `scratch` and decrypts it there, so that the caller's bytes stay
    /// untouched; `scratch` keeps its capacity for the next packet.
    ///
    /// # Errors
    /// As [`decrypt_in_place_esn`](Self::decrypt_in_place_esn).
    pub fn decrypt<'s>(
        &self,
        packet: &[u8],
        scratch: &'s mut Vec<u8>,
    ) -> Result<Decrypted<'s>, DecryptError> {
        scratch.clear();
        scratch.extend_from_slice(packet);
        self.decrypt_in_place(scratch)
    }

    /// Verifies and decrypts a packet in place (RFC 4303 §3.4): the ICV is checked first, in
    /// constant time (§3.4.4), over the packet and, under ESN, `seq_high` (§2.2.1); then the
    /// ciphertext is decrypted where it lies and the trailer is validated (§2.4).
    ///
    /// The anti-replay check is the caller's: see [`ReplayWindow`](crate::ReplayWindow), or let
    /// an [`Inbound`](crate::Inbound) do both.
    ///
    /// # Errors
    /// [`DecryptError::Truncated`], [`DecryptError::SpiMismatch`],
    /// [`DecryptError::BadCiphertextLength`], [`DecryptError::IntegrityCheckFailed`],
    /// [`DecryptError::BadPadLength`] and [`DecryptError::BadPadding`]. On an error the packet may
    /// be partly decrypted.
    pub fn decrypt_in_place_esn<'b>(
        &self,
        packet: &'b mut [u8],
        seq_high: u32,
    ) -> Result<Decrypted<'b>, DecryptError> {
        let len = packet.len();
        for (name, range) in [
            ("spi", field::SPI),
            ("sequence number", field::SEQUENCE_NUMBER),
        ] {
            if len < range.end {
                let available = len.saturating_sub(range.start);
                return Err(DecryptError::Truncated {
                    field: name,
                    offset: range.start,
                    needed: 4,
                    available,
                });
            }
        }
        let header = crate::Packet::new_unchecked(&*packet);
        let (spi, low) = (header.spi(), header.sequence_number());
        if spi != self.spi {
            return Err(DecryptError::SpiMismatch {
                expected: self.spi,
                found: spi,
            });
        }
        let seq = if self.esn {
            u64::from(seq_high) << 32 | u64::from(low)
        } else {
            u64::from(low)
        };
        let iv_end = self.payload_offset();
        if len < iv_end {
            return Err(DecryptError::Truncated {
                field: "iv",
                offset: HEADER_LEN,
                needed: self.iv_len(),
                available: len - HEADER_LEN,
            });
        }
        let icv_len = self.icv_len();
        let Some(ct_end) = len.checked_sub(icv_len).filter(|&end| end >= iv_end) else {
            return Err(DecryptError::Truncated {
                field: "icv",
                offset: iv_end,
                needed: icv_len,
                available: len - iv_end,
            });
        };
        let ct_len = ct_end - iv_end;
        if ct_len < trailer::LEN {
            return Err(DecryptError::Truncated {
                field: "trailer",
                offset: iv_end,
                needed: trailer::LEN,
                available: ct_len,
            });
        }
        let block_size = self.encryption.block_size();
        if !ct_len.is_multiple_of(block_size) {
            return Err(DecryptError::BadCiphertextLength {
                offset: iv_end,
                len: ct_len,
                block_size,
            });
        }
        let esn_high = self.esn.then_some(seq_high);
        if self.integrity != Integrity::None {
            let mut computed = [0; MAX_ICV_LEN];
            let computed = &mut computed[..icv_len];
            self.mac.compute(&packet[..ct_end], esn_high, computed);
            if !bool::from(computed.ct_eq(&packet[ct_end..])) {
                return Err(DecryptError::IntegrityCheckFailed { spi, seq });
            }
        }
        let (authenticated, icv) = packet.split_at_mut(ct_end);
        let (head, ciphertext) = authenticated.split_at_mut(iv_end);
        let iv = &head[HEADER_LEN..];
        match &self.cipher {
            Cipher::Null => {}
            Cipher::Gcm { aead, salt } => {
                let nonce = gcm_nonce(salt, iv);
                let mut aad = [0; 12];
                let aad = gcm_aad(&mut aad, spi, esn_high, low);
                if !aead.open(&nonce, aad, ciphertext, icv) {
                    return Err(DecryptError::IntegrityCheckFailed { spi, seq });
                }
            }
            cbc => cbc.cbc_decrypt(iv, ciphertext),
        }
        let plaintext: &'b [u8] = ciphertext;
        let trailer = Trailer::new_checked(plaintext).map_err(|err| err.at_offset(iv_end))?;
        let repr =
            trailer::Repr::parse(&trailer, self.padding).map_err(|err| err.at_offset(iv_end))?;
        Ok(Decrypted {
            spi,
            seq,
            next_header: repr.next_header,
            payload: trailer.payload(),
            padding: trailer.padding(),
        })
    }

    /// Builds a packet in `out` (cleared first): header, `iv`, the encrypted `payload` with the
    /// default padding and trailer, and the ICV.
    ///
    /// # Errors
    /// As [`encrypt_in_place`](Self::encrypt_in_place).
    pub fn encrypt(
        &self,
        seq: u64,
        iv: &[u8],
        next_header: NextHeader,
        payload: &[u8],
        out: &mut Vec<u8>,
    ) -> Result<(), EncryptError> {
        let offset = self.payload_offset();
        out.clear();
        out.resize(self.encrypted_len(payload.len()), 0);
        if let Some(slot) = out.get_mut(offset..offset + payload.len()) {
            slot.copy_from_slice(payload);
        }
        self.encrypt_in_place(seq, iv, next_header, out, payload.len())
            .map(|_| ())
    }

    /// Encrypts in place the `payload_len` bytes the caller wrote at
    /// [`payload_offset`](Self::payload_offset) in `buffer`, and returns the packet length,
    /// [`encrypted_len`](Self::encrypted_len).
    ///
    /// The caller supplies the IV: random for CBC (RFC 3602 §3, RFC 2451 §3), unique per key for
    /// AES-GCM (RFC 4106 §3.1; a counter will do). Under ESN, `seq` carries the high-order bits
    /// into the ICV; otherwise it must fit in 32 bits (RFC 4303 §3.3.3).
    ///
    /// # Errors
    /// [`EncryptError::IvLength`], [`EncryptError::SequenceOverflow`],
    /// [`EncryptError::BufferTooSmall`].
    pub fn encrypt_in_place(
        &self,
        seq: u64,
        iv: &[u8],
        next_header: NextHeader,
        buffer: &mut [u8],
        payload_len: usize,
    ) -> Result<usize, EncryptError> {
        if iv.len() != self.iv_len() {
            return Err(EncryptError::IvLength {
                encryption: self.encryption,
                expected: self.iv_len(),
                len: iv.len(),
            });
        }
        let (high, low) = ((seq >> 32) as u32, seq as u32);
        if !self.esn && high != 0 {
            return Err(EncryptError::SequenceOverflow { seq });
        }
        let total = self.encrypted_len(payload_len);
        let available = buffer.len();
        let Some(buffer) = buffer.get_mut(..total) else {
            return Err(EncryptError::BufferTooSmall {
                needed: total,
                available,
            });
        };
        let iv_end = self.payload_offset();
        let ct_end = total - self.icv_len();
        crate::packet::Repr {
            spi: self.spi,
            sequence_number: low,
        }
        .emit(&mut crate::Packet::new_unchecked(&mut *buffer));
        buffer[HEADER_LEN..iv_end].copy_from_slice(iv);
        let trailer = trailer::Repr::for_payload(payload_len, self.encryption.align(), next_header);
        trailer.emit(&mut Trailer::new_unchecked(&mut buffer[iv_end..ct_end]));
        let esn_high = self.esn.then_some(high);
        let (authenticated, icv) = buffer.split_at_mut(ct_end);
        let ciphertext = &mut authenticated[iv_end..];
        match &self.cipher {
            Cipher::Null => {}
            Cipher::Gcm { aead, salt } => {
                let nonce = gcm_nonce(salt, iv);
                let mut aad = [0; 12];
                let aad = gcm_aad(&mut aad, self.spi, esn_high, low);
                // `seal` fails only on lengths this function already fixed.
                let _sealed = aead.seal(&nonce, aad, ciphertext, icv);
            }
            cbc => cbc.cbc_encrypt(iv, ciphertext),
        }
        if self.unchecked_icv > 0 {
            icv.fill(0);
        }
        self.mac.compute(authenticated, esn_high, icv);
        Ok(total)
    }
}

/// The AES-GCM nonce: salt, then the explicit IV (RFC 4106 §4).
fn gcm_nonce(salt: &[u8; SALT_LEN], iv: &[u8]) -> [u8; 12] {
    let mut nonce = [0; 12];
    nonce[..SALT_LEN].copy_from_slice(salt);
    if let Some(explicit) = nonce.get_mut(SALT_LEN..SALT_LEN + iv.len()) {
        explicit.copy_from_slice(iv);
    }
    nonce
}

/// The AES-GCM additional data: SPI and sequence number, with the ESN high bits between them
/// (RFC 4106 §5).
fn gcm_aad(buffer: &mut [u8; 12], spi: u32, esn_high: Option<u32>, low: u32) -> &[u8] {
    buffer[..4].copy_from_slice(&spi.to_be_bytes());
    match esn_high {
        Some(high) => {
            buffer[4..8].copy_from_slice(&high.to_be_bytes());
            buffer[8..].copy_from_slice(&low.to_be_bytes());
            &buffer[..]
        }
        None => {
            buffer[4..8].copy_from_slice(&low.to_be_bytes());
            &buffer[..8]
        }
    }
}

impl fmt::Debug for Sa {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Sa")
            .field("spi", &format_args!("{:#010x}", self.spi))
            .field("encryption", &self.encryption)
            .field("integrity", &self.integrity)
            .field("unchecked_icv", &self.unchecked_icv)
            .field("esn", &self.esn)
            .field("padding", &self.padding)
            .finish_non_exhaustive()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloc::format;
    use alloc::string::ToString;
    use alloc::vec;

    /// RFC 3602 §4 cases 1–4: raw AES-128-CBC (key, IV, plaintext, ciphertext).
    #[rustfmt::skip]
    const RAW_CBC: [(&str, &str, &str, &str); 4] = [
        ("06a9214036b8a15b512e03d534120006", "3dafba429d9eb430b422da802c9fac41",
         "53696e676c6520626c6f636b206d7367", "e353779c1079aeb82708942dbe77181a"),
        ("c286696d887c9aa0611bbb3e2025a45a", "562e17996d093d28ddb3ba695a2e6f58",
         "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f",
         "d296cd94c2cccf8a3a863028b5e1dc0a7586602d253cfff91b8266bea6d61ab1"),
        ("6c3ea0477630ce21a2ce334aa746c2cd", "c782dc4c098c66cbd9cd27d825682c81",
         "5468697320697320612034382d62797465206d657373616765202865786163746c7920332041455320626c6f636b7329",
         "d0a02b3836451753d493665d33f0e8862dea54cdb293abc7506939276772f8d5021c19216bad525c8579695d83ba2684"),
        ("56e47a38c5598974bc46903dba290349", "8ce82eefbea0da3c44699ed7db51b7d9",
         "a0a1a2a3a4a5a6a7a8a9aaabacadaeafb0b1b2b3b4b5b6b7b8b9babbbcbdbebfc0c1c2c3c4c5c6c7c8c9cacbcccdcecfd0d1d2d3d4d5d6d7d8d9dadbdcdddedf",
         "c30e32ffedc0774e6aff6af0869f71aa0f3af07a9a31a9c684db207eb0ef8e4e35907aa632c3ffdf868bb7b29d3d46ad83ce9f9a102ee99d49a53e87f4c3da55"),
    ];

    /// RFC 3602 §4 cases 5–8: ESP packets without the outer IP header (key, SPI, sequence number,
    /// next header, payload, packet from SPI to the end of the ciphertext).
    #[rustfmt::skip]
    const ESP_CBC: [(&str, u32, u32, u8, &str, &str); 4] = [
        ("90d382b410eeba7ad938c46cec1a82bf", 0x4321, 1, 1,
         "08000ebda70a00008e9c083db95b070008090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f202122232425262728292a2b2c2d2e2f3031323334353637",
         "0000432100000001e96e8c08ab465763fd098d45dd3ff893f663c25d325c18c6a9453e194e120849a4870b66cc6b9965330013b4898dc856a4699e523a55db080b59ec3a8e4b7e52775b07d1db34ed9c538ab50c551b874aa269add047ad2d5913ac19b7cfbad4a6"),
        ("90d382b410eeba7ad938c46cec1a82bf", 0x4321, 8, 1,
         "0800b5e8a80a0500a69c083d0b660e00777777777777777777777777",
         "000043210000000869d08df7d203329db093fc4924e5bd80f51995881ec4e0c4488987ce742e8109689bb379d2d750c0d915dca346a89f75"),
        ("0123456789abcdef0123456789abcdef", 0x8765, 2, 4,
         "45000054090400004001f988c0a87b03c0a87bc808009f76a90a0100b49c083d02a2040008090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f202122232425262728292a2b2c2d2e2f3031323334353637",
         "0000876500000002f4e765244f6407adf13dc1380f673f37773b5241a4c449225e4f3ce5ed611b0c237ca96cf74a93013c1b0ea1a0cf70f8e4ecaec78ac53aad7a0f022b859243c647752e94a859352b8a4d4d2decd136e5c177f132ad3fbfb2201ac9904c74ee0a109e0ca1e4dfe9d5a100b842f1c22f0d"),
        ("0123456789abcdef0123456789abcdef", 0x8765, 5, 4,
         "45000044090c00004001f990c0a87b03c0a87bc80800d63caa0a0200c69c083da3de0300ffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff",
         "000087650000000585d47224b5f3dd5d2101d4ea8dffab2215b92683819596a8047232cc00f7048fe45318e11f8a0f62ede3c3fc61203bb50f980a08c9843fd3a1b06d5c07ff9639b7eb7dfb3512e5de435e7207ed971ef3d2726d9b5ef6affc6d17a0decbb13892"),
    ];

    fn unhex(text: &str) -> Vec<u8> {
        hex::decode(text).unwrap()
    }

    #[test]
    fn rfc3602_raw_cbc() {
        for (key, iv, plaintext, ciphertext) in RAW_CBC {
            let cipher = Cipher::new(Encryption::AesCbc, &unhex(key)).unwrap();
            let mut data = unhex(plaintext);
            cipher.cbc_encrypt(&unhex(iv), &mut data);
            assert_eq!(hex::encode(&data), ciphertext);
            cipher.cbc_decrypt(&unhex(iv), &mut data);
            assert_eq!(hex::encode(&data), plaintext);
        }
    }

    #[test]
    fn rfc3602_esp_decrypt_and_encrypt() {
        for (key, spi, seq, next_header, payload, packet) in ESP_CBC {
            let sa = Sa::new(spi, Encryption::AesCbc, &unhex(key), Integrity::None, &[]).unwrap();
            let mut bytes = unhex(packet);
            let decrypted = sa.decrypt_in_place(&mut bytes).unwrap();
            assert_eq!(decrypted.spi, spi);
            assert_eq!(decrypted.seq, u64::from(seq));
            assert_eq!(decrypted.next_header, NextHeader(next_header));
            assert_eq!(hex::encode(decrypted.payload), payload);
            let mut out = Vec::new();
            let iv = &unhex(packet)[8..24];
            sa.encrypt(
                u64::from(seq),
                iv,
                NextHeader(next_header),
                &unhex(payload),
                &mut out,
            )
            .unwrap();
            assert_eq!(hex::encode(&out), packet);
            assert_eq!(sa.encrypted_len(unhex(payload).len()), out.len());
        }
    }

    /// RFC 3602 case 6 with HMAC-SHA-1-96 (key 0x0b × 20): 8 + 16 + 32 + 12 bytes.
    fn authenticated_packet() -> (Sa, Vec<u8>) {
        let (key, spi, seq, next_header, payload, packet) = ESP_CBC[1];
        let sa = Sa::new(
            spi,
            Encryption::AesCbc,
            &unhex(key),
            Integrity::HmacSha1_96,
            &[0x0b; 20],
        )
        .unwrap();
        let mut out = Vec::new();
        sa.encrypt(
            u64::from(seq),
            &unhex(packet)[8..24],
            NextHeader(next_header),
            &unhex(payload),
            &mut out,
        )
        .unwrap();
        (sa, out)
    }

    #[test]
    fn truncation() {
        let (sa, mut packet) = authenticated_packet();
        assert_eq!(packet.len(), 68);
        for len in 0..packet.len() {
            let mut prefix = packet[..len].to_vec();
            let err = sa.decrypt_in_place(&mut prefix).unwrap_err();
            let ct_len = len.saturating_sub(36);
            let expected = match len {
                0..4 => DecryptError::Truncated {
                    field: "spi",
                    offset: 0,
                    needed: 4,
                    available: len,
                },
                4..8 => DecryptError::Truncated {
                    field: "sequence number",
                    offset: 4,
                    needed: 4,
                    available: len - 4,
                },
                8..24 => DecryptError::Truncated {
                    field: "iv",
                    offset: 8,
                    needed: 16,
                    available: len - 8,
                },
                24..36 => DecryptError::Truncated {
                    field: "icv",
                    offset: 24,
                    needed: 12,
                    available: len - 24,
                },
                36..38 => DecryptError::Truncated {
                    field: "trailer",
                    offset: 24,
                    needed: 2,
                    available: ct_len,
                },
                _ if ct_len % 16 != 0 => DecryptError::BadCiphertextLength {
                    offset: 24,
                    len: ct_len,
                    block_size: 16,
                },
                _ => DecryptError::IntegrityCheckFailed {
                    spi: 0x4321,
                    seq: 8,
                },
            };
            assert_eq!(err, expected, "prefix of {len} bytes");
        }
        assert!(sa.decrypt_in_place(&mut packet).is_ok());
    }

    #[test]
    fn decrypt_errors_and_messages() {
        let (sa, packet) = authenticated_packet();
        let cases: [(DecryptError, &str); 4] = [
            (
                sa.decrypt_in_place(&mut packet[..30].to_vec()).unwrap_err(),
                "esp: truncated reading `icv` at offset 24: need 12 bytes, have 6",
            ),
            (
                sa.decrypt_in_place(&mut packet[..60].to_vec()).unwrap_err(),
                "esp: ciphertext of 24 bytes at offset 24 is not a multiple of the 16-byte block",
            ),
            (
                Sa::new(7, Encryption::Null, &[], Integrity::None, &[])
                    .unwrap()
                    .decrypt_in_place(&mut packet.clone())
                    .unwrap_err(),
                "esp: packet spi 0x00004321 does not match the sa spi 0x00000007",
            ),
            (
                {
                    let mut tampered = packet.clone();
                    tampered[67] ^= 0x80;
                    sa.decrypt_in_place(&mut tampered).unwrap_err()
                },
                "esp: integrity check failed for spi 0x00004321 sequence number 8",
            ),
        ];
        for (err, text) in cases {
            assert_eq!(err.to_string(), text);
        }
        assert_eq!(
            DecryptError::BadPadLength {
                offset: 30,
                pad_len: 40,
                available: 6
            }
            .at_offset(8)
            .to_string(),
            "esp: pad length 40 at offset 38 exceeds the 6 bytes before it"
        );
        assert_eq!(
            DecryptError::Truncated {
                field: "iv",
                offset: 8,
                needed: 16,
                available: 3
            }
            .at_offset(14)
            .to_string(),
            "esp: truncated reading `iv` at offset 22: need 16 bytes, have 3"
        );
        assert_eq!(
            DecryptError::TooOld { seq: 3, lowest: 9 }.at_offset(5),
            DecryptError::TooOld { seq: 3, lowest: 9 }
        );
    }

    /// With NULL encryption the trailer is readable, so bad padding can be authenticated.
    #[test]
    fn padding_errors_are_reported_after_the_icv_check() {
        let sa = Sa::new(
            0x99,
            Encryption::Null,
            &[],
            Integrity::HmacSha256_128,
            &[7; 32],
        )
        .unwrap();
        let mut packet = Vec::new();
        sa.encrypt(3, &[], NextHeader::GRE, &[0xaa; 3], &mut packet)
            .unwrap();
        // 8 header + 3 payload + 3 padding + 2 + 16 ICV.
        assert_eq!(packet.len(), 32);
        assert_eq!(&packet[11..16], &[1, 2, 3, 3, 47]);
        let resign = |packet: &mut Vec<u8>| {
            let icv_at = packet.len() - 16;
            let mut icv = [0; 16];
            sa.mac.compute(&packet[..icv_at], None, &mut icv);
            packet[icv_at..].copy_from_slice(&icv);
        };
        let mut bad = packet.clone();
        bad[12] = 9;
        resign(&mut bad);
        let err = sa.decrypt_in_place(&mut bad.clone()).unwrap_err();
        assert_eq!(
            err,
            DecryptError::BadPadding {
                offset: 12,
                expected: 2,
                found: 9
            }
        );
        let lax = Sa::new(
            0x99,
            Encryption::Null,
            &[],
            Integrity::HmacSha256_128,
            &[7; 32],
        )
        .unwrap()
        .with_padding_check(PaddingCheck::Ignore);
        assert_eq!(lax.padding_check(), PaddingCheck::Ignore);
        assert_eq!(lax.decrypt_in_place(&mut bad).unwrap().payload, [0xaa; 3]);
        let mut bad = packet.clone();
        bad[14] = 9;
        resign(&mut bad);
        let err = sa.decrypt_in_place(&mut bad).unwrap_err();
        assert_eq!(
            err,
            DecryptError::BadPadLength {
                offset: 14,
                pad_len: 9,
                available: 6
            }
        );
    }

    #[test]
    fn encrypt_errors_and_messages() {
        let (sa, _) = authenticated_packet();
        let mut out = Vec::new();
        let err = sa
            .encrypt(1, &[0; 8], NextHeader::GRE, &[], &mut out)
            .unwrap_err();
        assert_eq!(
            err,
            EncryptError::IvLength {
                encryption: Encryption::AesCbc,
                expected: 16,
                len: 8
            }
        );
        assert_eq!(err.to_string(), "esp: AesCbc needs a 16-byte iv, got 8");
        let err = sa
            .encrypt(1 << 32, &[0; 16], NextHeader::GRE, &[], &mut out)
            .unwrap_err();
        assert_eq!(
            err.to_string(),
            "esp: sequence number 0x100000000 needs extended sequence numbers"
        );
        let mut small = [0; 40];
        let err = sa
            .encrypt_in_place(1, &[0; 16], NextHeader::GRE, &mut small, 10)
            .unwrap_err();
        assert_eq!(
            err,
            EncryptError::BufferTooSmall {
                needed: 52,
                available: 40
            }
        );
        assert_eq!(
            err.to_string(),
            "esp: buffer of 40 bytes is too small for the 52-byte packet"
        );
    }

    #[test]
    fn key_errors_and_messages() {
        let cases = [
            (
                Sa::new(1, Encryption::AesCbc, &[0; 20], Integrity::None, &[]).unwrap_err(),
                "esp: AesCbc key is 20 bytes, expected 16, 24 or 32",
            ),
            (
                Sa::new(1, Encryption::TripleDesCbc, &[0; 16], Integrity::None, &[]).unwrap_err(),
                "esp: TripleDesCbc key is 16 bytes, expected 24",
            ),
            (
                Sa::new(1, Encryption::AesGcm16, &[0; 16], Integrity::None, &[]).unwrap_err(),
                "esp: AesGcm16 key is 16 bytes, expected 20, 28 or 36 (key and 4-byte salt)",
            ),
            (
                Sa::new(1, Encryption::Null, &[0; 1], Integrity::None, &[]).unwrap_err(),
                "esp: Null key is 1 bytes, expected 0",
            ),
            (
                Sa::new(1, Encryption::Null, &[], Integrity::HmacSha1_96, &[0; 16]).unwrap_err(),
                "esp: HmacSha1_96 key is 16 bytes, expected 20",
            ),
            (
                Sa::new(
                    1,
                    Encryption::AesGcm8,
                    &[0; 20],
                    Integrity::HmacMd5_96,
                    &[0; 16],
                )
                .unwrap_err(),
                "esp: AesGcm8 authenticates by itself and takes no HmacMd5_96",
            ),
        ];
        for (err, text) in cases {
            assert_eq!(err.to_string(), text);
        }
        for encryption in Encryption::ALL {
            for integrity in Integrity::ALL {
                let key_len = match encryption {
                    Encryption::Null => 0,
                    Encryption::TripleDesCbc => 24,
                    Encryption::AesCbc => 16,
                    _ => 20,
                };
                let result = Sa::new(
                    1,
                    encryption,
                    &vec![1; key_len],
                    integrity,
                    &vec![2; integrity.key_len()],
                );
                assert_eq!(
                    result.is_ok(),
                    !encryption.is_aead() || integrity == Integrity::None
                );
            }
        }
    }

    #[test]
    fn wireshark_names() {
        for encryption in Encryption::ALL {
            assert_eq!(
                Encryption::from_wireshark_name(encryption.wireshark_name()),
                Some(encryption)
            );
        }
        for integrity in Integrity::ALL {
            assert_eq!(
                Integrity::from_wireshark_name(integrity.wireshark_name()),
                Some(integrity)
            );
        }
        assert_eq!(
            Encryption::from_wireshark_name("AES-GCM [RFC4106]"),
            Some(Encryption::AesGcm16)
        );
        assert_eq!(Encryption::from_wireshark_name("AES-CTR [RFC3686]"), None);
        assert_eq!(
            Integrity::from_wireshark_name("HMAC-SHA-256-96 [draft-ietf-ipsec-ciph-sha-256-00]"),
            None
        );
    }

    #[test]
    fn sizes() {
        let sa = Sa::new(1, Encryption::AesGcm12, &[0; 36], Integrity::None, &[])
            .unwrap()
            .with_esn(true);
        assert_eq!(
            (sa.iv_len(), sa.icv_len(), sa.payload_offset(), sa.esn()),
            (8, 12, 16, true)
        );
        // 16 + (5 payload + 1 padding + 2) + 12.
        assert_eq!(sa.encrypted_len(5), 36);
        let sa = Sa::new(
            1,
            Encryption::TripleDesCbc,
            &[0; 24],
            Integrity::HmacSha512_256,
            &[0; 64],
        )
        .unwrap();
        assert_eq!(
            (sa.iv_len(), sa.icv_len(), sa.encrypted_len(7)),
            (8, 32, 8 + 8 + 16 + 32)
        );
        assert_eq!(
            (sa.encryption(), sa.integrity()),
            (Encryption::TripleDesCbc, Integrity::HmacSha512_256)
        );
        assert_eq!(sa.encrypted_len(usize::MAX), usize::MAX);
    }

    #[test]
    fn unchecked_icv_is_skipped_not_verified() {
        let key = [0x42; 16];
        let checked = Sa::new(
            7,
            Encryption::AesCbc,
            &key,
            Integrity::HmacSha1_96,
            &[9; 20],
        )
        .unwrap();
        let mut packet = Vec::new();
        checked
            .encrypt(3, &[1; 16], NextHeader::GRE, b"inner packet", &mut packet)
            .unwrap();
        let unchecked = Sa::new(7, Encryption::AesCbc, &key, Integrity::None, &[])
            .unwrap()
            .with_unchecked_icv(12)
            .unwrap();
        assert_eq!(
            (unchecked.icv_len(), unchecked.unchecked_icv_len()),
            (12, 12)
        );
        assert!(checked.icv_checked() && !unchecked.icv_checked());
        // A corrupted ICV fails the checked SA and does not matter to the unchecked one.
        let last = packet.len() - 1;
        packet[last] ^= 0xff;
        let mut scratch = Vec::new();
        assert_eq!(
            checked.decrypt(&packet, &mut scratch).unwrap_err(),
            DecryptError::IntegrityCheckFailed { spi: 7, seq: 3 }
        );
        let decrypted = unchecked.decrypt(&packet, &mut scratch).unwrap();
        assert_eq!(
            (decrypted.next_header, decrypted.payload),
            (NextHeader::GRE, &b"inner packet"[..])
        );
        // Without the unchecked ICV the ICV is taken for ciphertext: not whole blocks.
        let plain = Sa::new(7, Encryption::AesCbc, &key, Integrity::None, &[]).unwrap();
        assert!(matches!(
            plain.decrypt(&packet, &mut scratch),
            Err(DecryptError::BadCiphertextLength { .. })
        ));
        // NULL encryption, 256-bit unchecked ICV: encrypting writes zeros there.
        let null = Sa::new(8, Encryption::Null, &[], Integrity::None, &[])
            .unwrap()
            .with_unchecked_icv(32)
            .unwrap();
        null.encrypt(1, &[], NextHeader::IPV4, b"abc", &mut packet)
            .unwrap();
        assert_eq!(packet.len(), null.encrypted_len(3));
        assert_eq!(packet[packet.len() - 32..], [0; 32]);
        let decrypted = null.decrypt(&packet, &mut scratch).unwrap();
        assert_eq!(decrypted.payload, b"abc");
        // Too short for the unchecked ICV.
        assert_eq!(
            null.decrypt(&packet[..20], &mut scratch).unwrap_err(),
            DecryptError::Truncated {
                field: "icv",
                offset: 8,
                needed: 32,
                available: 12
            }
        );
    }

    #[test]
    fn check_keys_agrees_with_new() {
        for encryption in Encryption::ALL {
            for integrity in Integrity::ALL {
                for enc_len in [0, 8, 16, 20, 24, 28, 32, 36, 40] {
                    for int_len in [0, 16, 20, 32, 48, 64, 12] {
                        let (ek, ik) = (vec![0x5a; enc_len], vec![0xa5; int_len]);
                        assert_eq!(
                            Sa::check_keys(encryption, &ek, integrity, &ik),
                            Sa::new(1, encryption, &ek, integrity, &ik).map(|_| ()),
                            "{encryption:?} {enc_len} {integrity:?} {int_len}"
                        );
                    }
                }
            }
        }
    }

    #[test]
    fn unchecked_icv_errors() {
        let gcm = Sa::new(1, Encryption::AesGcm16, &[0; 20], Integrity::None, &[]).unwrap();
        let err = gcm.with_unchecked_icv(16).unwrap_err();
        assert_eq!(
            err.to_string(),
            "esp: an unchecked ICV needs an SA without integrity; AesGcm16 with None has its own ICV"
        );
        let hmac = Sa::new(1, Encryption::Null, &[], Integrity::HmacMd5_96, &[0; 16]).unwrap();
        assert!(matches!(
            hmac.with_unchecked_icv(12),
            Err(KeyError::UncheckedIcvWithIcv { .. })
        ));
        let null = Sa::new(1, Encryption::Null, &[], Integrity::None, &[]).unwrap();
        assert_eq!(
            null.with_unchecked_icv(33).unwrap_err().to_string(),
            "esp: an unchecked ICV of 33 bytes is longer than 32"
        );
        let none = Sa::new(1, Encryption::Null, &[], Integrity::None, &[])
            .unwrap()
            .with_unchecked_icv(0)
            .unwrap();
        assert!(!none.icv_checked());
        assert_eq!(none.icv_len(), 0);
        // 0 is no unchecked ICV, which any SA may have.
        let gcm = Sa::new(1, Encryption::AesGcm16, &[0; 20], Integrity::None, &[]).unwrap();
        assert!(gcm.with_unchecked_icv(0).unwrap().icv_checked());
    }

    #[test]
    fn debug_has_no_key_material() {
        let sa = Sa::new(
            0x4321,
            Encryption::AesGcm16,
            &[0xab; 20],
            Integrity::None,
            &[],
        )
        .unwrap();
        let text = format!("{sa:?}");
        assert_eq!(
            text,
            "Sa { spi: 0x00004321, encryption: AesGcm16, integrity: None, unchecked_icv: 0, esn: false, padding: Monotonic, .. }"
        );
    }

    /// RFC 4106 AES-GCM against the independent `aes-gcm` API with a 16-byte tag, with and
    /// without ESN (the AAD is SPI ‖ seq, or SPI ‖ ESN-high ‖ seq-low, §5).
    #[test]
    fn gcm_layout_matches_rfc4106() {
        use aes_gcm::aead::{Aead, KeyInit as _, Payload};
        let key: Vec<u8> = (0..20).collect();
        for esn in [false, true] {
            let sa = Sa::new(
                0x1234_5678,
                Encryption::AesGcm16,
                &key,
                Integrity::None,
                &[],
            )
            .unwrap()
            .with_esn(esn);
            let seq = if esn { 0x0000_0003_0000_0009 } else { 9 };
            let mut packet = Vec::new();
            sa.encrypt(seq, &[0xee; 8], NextHeader::GRE, b"gre!", &mut packet)
                .unwrap();
            let mut nonce = [0; 12];
            nonce[..4].copy_from_slice(&key[16..]);
            nonce[4..].copy_from_slice(&[0xee; 8]);
            let aad: &[u8] = if esn {
                &[0x12, 0x34, 0x56, 0x78, 0, 0, 0, 3, 0, 0, 0, 9]
            } else {
                &packet[..8]
            };
            let reference = aes_gcm::Aes128Gcm::new_from_slice(&key[..16]).unwrap();
            let sealed = reference
                .encrypt(
                    &nonce.into(),
                    Payload {
                        msg: b"gre!\x01\x02\x02\x2f",
                        aad,
                    },
                )
                .unwrap();
            assert_eq!(packet[16..], sealed[..], "esn {esn}");
        }
    }
}
