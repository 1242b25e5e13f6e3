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
        self.decrypt_in_place(copy_into(scratch, packet))
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

/// `scratch`, emptied (its capacity kept) and filled with a copy of `packet`.
pub(crate) fn copy_into<'s>(scratch: &'s mut Vec<u8>, packet: &[u8]) -> &'s mut Vec<u8> {
    scratch.clear();
    scratch.extend_from_slice(packet);
    scratch
}

#[cfg(test)]
mod tests;
