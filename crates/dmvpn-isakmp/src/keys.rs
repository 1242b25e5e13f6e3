//! The IKEv1 key schedule (RFC 2409 §5, §5.5, Appendix B) and the keys of Wireshark's
//! `ikev1_decryption_table` ([`Ikev1Key`]; `dmvpn::keys` reads the table).
//!
//! With pre-shared keys:
//!
//! ```text
//! SKEYID   = prf(pre-shared-key, Ni_b | Nr_b)
//! SKEYID_d = prf(SKEYID, g^xy | CKY-I | CKY-R | 0)
//! SKEYID_a = prf(SKEYID, SKEYID_d | g^xy | CKY-I | CKY-R | 1)
//! SKEYID_e = prf(SKEYID, SKEYID_a | g^xy | CKY-I | CKY-R | 2)
//! Ka       = K1 | K2 | …, K1 = prf(SKEYID_e, 0), Ki = prf(SKEYID_e, Ki-1)   (only when SKEYID_e is too short)
//! KEYMAT   = K1 | K2 | …, K1 = prf(SKEYID_d, [g(qm)^xy |] protocol | SPI | Ni_b | Nr_b),
//!                         Ki = prf(SKEYID_d, Ki-1 | [g(qm)^xy |] protocol | SPI | Ni_b | Nr_b)
//! ```
//!
//! `g^xy` is the Diffie-Hellman shared secret left-padded with zeros to the modulus length
//! ([`pad_shared_secret`]); nonces `Ni_b`/`Nr_b` and IDs are payload bodies without generic headers.
//!
//! ```
//! use dmvpn_isakmp::keys::{Phase1Keys, Prf};
//! let keys = Phase1Keys::from_psk(Prf::HmacSha1, b"secret", &[1; 16], &[2; 16], &[3; 128], [4; 8], [5; 8]);
//! let ka = keys.encryption_key(32); // AES-256 with SHA-1: expanded per Appendix B
//! assert_eq!(ka.len(), 32);
//! let esp = keys.keymat(3, 0x1234_5678, &[6; 16], &[7; 16], None, 16 + 20);
//! assert_eq!(esp.len(), 36);
//! ```

use alloc::string::String;
use alloc::vec::Vec;
use core::fmt;

use hmac::{KeyInit, Mac};
use sha1::Digest;
use zeroize::{Zeroize, ZeroizeOnDrop};

use crate::consts::HashAlgorithm;

/// Key material: zeroed on drop, and `Debug` prints only its length.
#[derive(Clone, Default, Eq, Zeroize, ZeroizeOnDrop)]
pub struct Secret(Vec<u8>);

impl Secret {
    /// Wraps key bytes.
    #[must_use]
    pub const fn new(bytes: Vec<u8>) -> Self {
        Self(bytes)
    }

    /// Copies key bytes.
    #[must_use]
    pub fn from_slice(bytes: &[u8]) -> Self {
        Self(bytes.to_vec())
    }

    /// The key bytes.
    #[must_use]
    pub fn as_bytes(&self) -> &[u8] {
        &self.0
    }

    /// Length in bytes.
    #[must_use]
    pub fn len(&self) -> usize {
        self.0.len()
    }

    /// Whether the secret is empty.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// The leftmost `len` bytes (all of them if shorter).
    #[must_use]
    pub fn prefix(&self, len: usize) -> Self {
        Self(self.0.iter().copied().take(len).collect())
    }

    /// Lowercase hex, for writing key files; never call it for logs.
    #[must_use]
    pub fn to_hex(&self) -> String {
        use core::fmt::Write;
        let mut out = String::with_capacity(self.0.len() * 2);
        for byte in &self.0 {
            let _ = write!(out, "{byte:02x}");
        }
        out
    }
}

impl PartialEq for Secret {
    /// Constant-time comparison.
    fn eq(&self, other: &Self) -> bool {
        use subtle::ConstantTimeEq;
        self.0.len() == other.0.len() && bool::from(self.0.ct_eq(&other.0))
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Secret(<{} bytes redacted>)", self.0.len())
    }
}

/// A phase-1 pseudo-random function: the HMAC of the negotiated hash (RFC 2409 §5, RFC 4868).
#[derive(Clone, Copy, Debug, Eq, Hash, PartialEq)]
pub enum Prf {
    /// HMAC-MD5 (16-byte output).
    HmacMd5,
    /// HMAC-SHA1 (20-byte output).
    HmacSha1,
    /// HMAC-SHA2-256 (32-byte output).
    HmacSha256,
    /// HMAC-SHA2-384 (48-byte output).
    HmacSha384,
    /// HMAC-SHA2-512 (64-byte output).
    HmacSha512,
}

impl Prf {
    /// The HMAC of a phase-1 hash algorithm.
    #[must_use]
    pub const fn from_hash(hash: HashAlgorithm) -> Option<Self> {
        Some(match hash {
            HashAlgorithm::MD5 => Self::HmacMd5,
            HashAlgorithm::SHA1 => Self::HmacSha1,
            HashAlgorithm::SHA2_256 => Self::HmacSha256,
            HashAlgorithm::SHA2_384 => Self::HmacSha384,
            HashAlgorithm::SHA2_512 => Self::HmacSha512,
            _ => return None,
        })
    }

    /// Output length in bytes.
    #[must_use]
    pub const fn output_len(self) -> usize {
        match self {
            Self::HmacMd5 => 16,
            Self::HmacSha1 => 20,
            Self::HmacSha256 => 32,
            Self::HmacSha384 => 48,
            Self::HmacSha512 => 64,
        }
    }

    /// `prf(key, parts[0] | parts[1] | …)`.
    #[must_use]
    pub fn compute(self, key: &[u8], parts: &[&[u8]]) -> Secret {
        fn run<M: Mac + KeyInit>(key: &[u8], parts: &[&[u8]]) -> Vec<u8> {
            // HMAC takes keys of any length (RFC 2104 §2), so this cannot fail.
            let Ok(mut mac) = <M as KeyInit>::new_from_slice(key) else {
                return Vec::new();
            };
            for part in parts {
                mac.update(part);
            }
            mac.finalize().into_bytes().to_vec()
        }
        Secret(match self {
            Self::HmacMd5 => run::<hmac::Hmac<md5::Md5>>(key, parts),
            Self::HmacSha1 => run::<hmac::Hmac<sha1::Sha1>>(key, parts),
            Self::HmacSha256 => run::<hmac::Hmac<sha2::Sha256>>(key, parts),
            Self::HmacSha384 => run::<hmac::Hmac<sha2::Sha384>>(key, parts),
            Self::HmacSha512 => run::<hmac::Hmac<sha2::Sha512>>(key, parts),
        })
    }

    /// Expands `prf(key, seed)` to `len` bytes the way RFC 2409 does for Ka and KEYMAT:
    /// `K1 = prf(key, first | seed)`, `Ki = prf(key, Ki-1 | seed)`.
    fn expand(self, key: &[u8], first: &[u8], seed: &[&[u8]], len: usize) -> Secret {
        let mut out = Secret::default();
        let mut block = Secret::default();
        while out.0.len() < len {
            let mut parts: Vec<&[u8]> = Vec::with_capacity(seed.len() + 1);
            parts.push(if out.0.is_empty() {
                first
            } else {
                block.as_bytes()
            });
            parts.extend_from_slice(seed);
            block = self.compute(key, &parts);
            out.0.extend_from_slice(block.as_bytes());
        }
        out.0.truncate(len);
        out
    }
}

/// The plain hash of a phase-1 hash algorithm over `parts` (for IVs), or `None` if unsupported.
#[must_use]
pub fn hash(alg: HashAlgorithm, parts: &[&[u8]]) -> Option<Vec<u8>> {
    fn run<D: Digest>(parts: &[&[u8]]) -> Vec<u8> {
        let mut digest = D::new();
        for part in parts {
            digest.update(part);
        }
        digest.finalize().to_vec()
    }
    Some(match alg {
        HashAlgorithm::MD5 => run::<md5::Md5>(parts),
        HashAlgorithm::SHA1 => run::<sha1::Sha1>(parts),
        HashAlgorithm::SHA2_256 => run::<sha2::Sha256>(parts),
        HashAlgorithm::SHA2_384 => run::<sha2::Sha384>(parts),
        HashAlgorithm::SHA2_512 => run::<sha2::Sha512>(parts),
        _ => return None,
    })
}

/// The NAT-D hash of one endpoint: `HASH(CKY-I | CKY-R | IP | Port)` with the negotiated hash
/// (RFC 3947 §3.2; `ip` is 4 or 16 bytes, `port` the UDP port). Compare it with the NAT-D payloads to
/// tell whether a NAT sits between the peers.
#[must_use]
pub fn nat_d_hash(
    alg: HashAlgorithm,
    cky_i: [u8; 8],
    cky_r: [u8; 8],
    ip: &[u8],
    port: u16,
) -> Option<Vec<u8>> {
    hash(alg, &[&cky_i, &cky_r, ip, &port.to_be_bytes()])
}

/// Left-pads a Diffie-Hellman shared secret with zeros to the modulus length, as RFC 2409 uses it
/// (a secret with leading zero bytes is the classic interop bug).
#[must_use]
pub fn pad_shared_secret(secret: &[u8], modulus_len: usize) -> Secret {
    let mut out = Secret(alloc::vec![0; modulus_len.saturating_sub(secret.len())]);
    out.0.extend_from_slice(secret);
    out
}

/// The keys of one phase-1 SA (RFC 2409 §5).
#[derive(Clone, Debug, Eq, PartialEq, Zeroize, ZeroizeOnDrop)]
pub struct Phase1Keys {
    #[zeroize(skip)]
    prf: Prf,
    skeyid: Secret,
    skeyid_d: Secret,
    skeyid_a: Secret,
    skeyid_e: Secret,
}

impl Phase1Keys {
    /// SKEYID for pre-shared keys: `prf(psk, Ni_b | Nr_b)` (RFC 2409 §5).
    #[must_use]
    pub fn skeyid_psk(prf: Prf, psk: &[u8], ni_b: &[u8], nr_b: &[u8]) -> Secret {
        prf.compute(psk, &[ni_b, nr_b])
    }

    /// SKEYID for signatures: `prf(Ni_b | Nr_b, g^xy)` (RFC 2409 §5).
    #[must_use]
    pub fn skeyid_signature(prf: Prf, ni_b: &[u8], nr_b: &[u8], g_xy: &[u8]) -> Secret {
        let mut key = Secret::default();
        key.0.extend_from_slice(ni_b);
        key.0.extend_from_slice(nr_b);
        prf.compute(key.as_bytes(), &[g_xy])
    }

    /// Derives SKEYID_d/_a/_e from SKEYID (any authentication method).
    #[must_use]
    pub fn from_skeyid(
        prf: Prf,
        skeyid: Secret,
        g_xy: &[u8],
        cky_i: [u8; 8],
        cky_r: [u8; 8],
    ) -> Self {
        let skeyid_d = prf.compute(skeyid.as_bytes(), &[g_xy, &cky_i, &cky_r, &[0]]);
        let skeyid_a = prf.compute(
            skeyid.as_bytes(),
            &[skeyid_d.as_bytes(), g_xy, &cky_i, &cky_r, &[1]],
        );
        let skeyid_e = prf.compute(
            skeyid.as_bytes(),
            &[skeyid_a.as_bytes(), g_xy, &cky_i, &cky_r, &[2]],
        );
        Self {
            prf,
            skeyid,
            skeyid_d,
            skeyid_a,
            skeyid_e,
        }
    }

    /// The whole schedule for pre-shared keys. `g_xy` must already be padded ([`pad_shared_secret`]).
    #[must_use]
    pub fn from_psk(
        prf: Prf,
        psk: &[u8],
        ni_b: &[u8],
        nr_b: &[u8],
        g_xy: &[u8],
        cky_i: [u8; 8],
        cky_r: [u8; 8],
    ) -> Self {
        Self::from_skeyid(
            prf,
            Self::skeyid_psk(prf, psk, ni_b, nr_b),
            g_xy,
            cky_i,
            cky_r,
        )
    }

    /// The PRF.
    #[must_use]
    pub const fn prf(&self) -> Prf {
        self.prf
    }

    /// SKEYID.
    #[must_use]
    pub const fn skeyid(&self) -> &Secret {
        &self.skeyid
    }

    /// SKEYID_d, from which IPsec keys are derived.
    #[must_use]
    pub const fn skeyid_d(&self) -> &Secret {
        &self.skeyid_d
    }

    /// SKEYID_a, the key of the HASH payloads.
    #[must_use]
    pub const fn skeyid_a(&self) -> &Secret {
        &self.skeyid_a
    }

    /// SKEYID_e, from which the encryption key comes.
    #[must_use]
    pub const fn skeyid_e(&self) -> &Secret {
        &self.skeyid_e
    }

    /// The encryption key Ka of `len` bytes (RFC 2409 Appendix B): SKEYID_e's leftmost bytes, or its
    /// expansion when SKEYID_e is shorter. This is what Wireshark's `ikev1_decryption_table` holds.
    #[must_use]
    pub fn encryption_key(&self, len: usize) -> Secret {
        expand_encryption_key(self.prf, &self.skeyid_e, len)
    }

    /// HASH_I = prf(SKEYID, g^xi | g^xr | CKY-I | CKY-R | SAi_b | IDii_b) (RFC 2409 §5).
    #[must_use]
    pub fn hash_i(
        &self,
        g_xi: &[u8],
        g_xr: &[u8],
        cky_i: [u8; 8],
        cky_r: [u8; 8],
        sai_b: &[u8],
        idii_b: &[u8],
    ) -> Secret {
        self.prf.compute(
            self.skeyid.as_bytes(),
            &[g_xi, g_xr, &cky_i, &cky_r, sai_b, idii_b],
        )
    }

    /// HASH_R = prf(SKEYID, g^xr | g^xi | CKY-R | CKY-I | SAi_b | IDir_b) (RFC 2409 §5); SAi_b is
    /// the initiator's SA body, in both hashes.
    #[must_use]
    pub fn hash_r(
        &self,
        g_xi: &[u8],
        g_xr: &[u8],
        cky_i: [u8; 8],
        cky_r: [u8; 8],
        sai_b: &[u8],
        idir_b: &[u8],
    ) -> Secret {
        // HASH_I with the roles swapped, but for SAi_b.
        self.hash_i(g_xr, g_xi, cky_r, cky_i, sai_b, idir_b)
    }

    /// Quick Mode HASH(1) = prf(SKEYID_a, M-ID | everything after the HASH payload) (RFC 2409 §5.5).
    /// Also the HASH of Informational (§5.7) and Transaction exchanges.
    #[must_use]
    pub fn quick_hash1(&self, message_id: u32, after_hash: &[u8]) -> Secret {
        self.prf.compute(
            self.skeyid_a.as_bytes(),
            &[&message_id.to_be_bytes(), after_hash],
        )
    }

    /// Quick Mode HASH(2) = prf(SKEYID_a, M-ID | Ni_b | everything after the HASH payload).
    #[must_use]
    pub fn quick_hash2(&self, message_id: u32, ni_b: &[u8], after_hash: &[u8]) -> Secret {
        self.prf.compute(
            self.skeyid_a.as_bytes(),
            &[&message_id.to_be_bytes(), ni_b, after_hash],
        )
    }

    /// Quick Mode HASH(3) = prf(SKEYID_a, 0 | M-ID | Ni_b | Nr_b).
    #[must_use]
    pub fn quick_hash3(&self, message_id: u32, ni_b: &[u8], nr_b: &[u8]) -> Secret {
        self.prf.compute(
            self.skeyid_a.as_bytes(),
            &[&[0], &message_id.to_be_bytes(), ni_b, nr_b],
        )
    }

    /// Quick Mode KEYMAT for one SA (RFC 2409 §5.5), expanded to `len` bytes. `protocol` is the IPsec
    /// protocol ID (3 for ESP), `spi` the SPI the *receiving* side of that SA chose, the nonces are the
    /// Quick Mode ones, and `g_qm` is the padded PFS shared secret if PFS was used. Take the
    /// encryption key first, then the integrity key.
    #[must_use]
    pub fn keymat(
        &self,
        protocol: u8,
        spi: u32,
        ni_b: &[u8],
        nr_b: &[u8],
        g_qm: Option<&[u8]>,
        len: usize,
    ) -> Secret {
        keymat(
            self.prf,
            &self.skeyid_d,
            protocol,
            spi,
            ni_b,
            nr_b,
            g_qm,
            len,
        )
    }
}

/// Ka from SKEYID_e (RFC 2409 Appendix B); see [`Phase1Keys::encryption_key`].
#[must_use]
pub fn expand_encryption_key(prf: Prf, skeyid_e: &Secret, len: usize) -> Secret {
    if skeyid_e.len() >= len {
        return skeyid_e.prefix(len);
    }
    prf.expand(skeyid_e.as_bytes(), &[0], &[], len)
}

/// Quick Mode KEYMAT from SKEYID_d alone; see [`Phase1Keys::keymat`].
#[must_use]
#[allow(clippy::too_many_arguments)] // mirrors RFC 2409 §5.5's formula term for term
pub fn keymat(
    prf: Prf,
    skeyid_d: &Secret,
    protocol: u8,
    spi: u32,
    ni_b: &[u8],
    nr_b: &[u8],
    g_qm: Option<&[u8]>,
    len: usize,
) -> Secret {
    let spi = spi.to_be_bytes();
    let proto = [protocol];
    let mut seed: Vec<&[u8]> = Vec::with_capacity(5);
    if let Some(g) = g_qm {
        seed.push(g);
    }
    seed.extend_from_slice(&[&proto, &spi, ni_b, nr_b]);
    prf.expand(skeyid_d.as_bytes(), &[], &seed, len)
}

/// One line of Wireshark's `ikev1_decryption_table`: initiator cookie and encryption key Ka.
#[derive(Clone, Debug, Eq, PartialEq)]
pub struct Ikev1Key {
    /// Initiator cookie (CKY-I).
    pub initiator_cookie: [u8; 8],
    /// Encryption key Ka.
    pub encryption_key: Secret,
}

impl Ikev1Key {
    /// The line in Wireshark's format (hex unquoted, which tshark 4.0 requires). Contains the key.
    #[must_use]
    pub fn to_table_line(&self) -> String {
        let mut line = Secret::from_slice(&self.initiator_cookie).to_hex();
        line.push(',');
        line.push_str(&self.encryption_key.to_hex());
        line
    }
}

#[cfg(test)]
mod tests {
    extern crate alloc;
    use alloc::format;

    use super::*;

    #[test]
    fn rfc2202_hmac_vectors() {
        // RFC 2202 test case 2 for HMAC-MD5 and HMAC-SHA1; RFC 4231 test case 2 for SHA-2.
        let key = b"Jefe";
        let data: &[u8] = b"what do ya want for nothing?";
        assert_eq!(
            Prf::HmacMd5.compute(key, &[data]).to_hex(),
            "750c783e6ab0b503eaa86e310a5db738"
        );
        assert_eq!(
            Prf::HmacSha1
                .compute(key, &[&data[..4], &data[4..]])
                .to_hex(),
            "effcdf6ae5eb2fa2d27416d5f184df9c259a7c79"
        );
        assert_eq!(
            Prf::HmacSha256.compute(key, &[data]).to_hex(),
            "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"
        );
        assert_eq!(Prf::HmacSha384.compute(key, &[data]).len(), 48);
        assert_eq!(
            Prf::HmacSha512.compute(key, &[data]).to_hex(),
            "164b7a7bfcf819e2e395fbe73b56e0a387bd64222e831fd610270cd7ea2505549758bf75c05a994a6d034f65f8f0e6fdcaeab1a34d4a6b4b636e070a38bce737"
        );
    }

    #[test]
    fn secrets_are_redacted() {
        let secret = Secret::from_slice(&[1, 2, 3]);
        assert_eq!(format!("{secret:?}"), "Secret(<3 bytes redacted>)");
        let keys = Phase1Keys::from_psk(Prf::HmacMd5, b"k", b"n", b"n", b"g", [0; 8], [0; 8]);
        assert!(!format!("{keys:?}").contains("0x"));
        assert_eq!(secret, Secret::new(alloc::vec![1, 2, 3]));
        assert_ne!(secret, Secret::new(alloc::vec![1, 2]));
    }

    #[test]
    fn key_expansion() {
        // SKEYID_e of 16 bytes (MD5) expanded to 24 for 3DES: K1 | K2[..8].
        let skeyid_e = Secret::from_slice(&[0xab; 16]);
        let k1 = Prf::HmacMd5.compute(skeyid_e.as_bytes(), &[&[0]]);
        let k2 = Prf::HmacMd5.compute(skeyid_e.as_bytes(), &[k1.as_bytes()]);
        let ka = expand_encryption_key(Prf::HmacMd5, &skeyid_e, 24);
        assert_eq!(&ka.as_bytes()[..16], k1.as_bytes());
        assert_eq!(&ka.as_bytes()[16..], &k2.as_bytes()[..8]);
        // Long enough: the leftmost bytes.
        assert_eq!(
            expand_encryption_key(Prf::HmacMd5, &skeyid_e, 8).as_bytes(),
            &[0xab; 8]
        );
    }
}
