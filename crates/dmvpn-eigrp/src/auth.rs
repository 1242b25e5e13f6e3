//! Authentication digests (RFC 7868 §6.7.2): keyed MD5 and HMAC-SHA-256.
//!
//! The Authentication TLV is the first TLV, at offset 20. Its digest starts at offset 44 (20 header +
//! 4 TLV header + auth type, auth length, key id, key sequence, 8 bytes of null pad).
//!
//! **MD5.** The digest is `MD5(P[0..44] with the checksum zeroed ‖ key zero-padded to 16 octets ‖ T)`,
//! where `T` is a choice of what follows the digest, named by [`Md5Span`]:
//! - [`Md5Span::Packet`]: `T` is every byte after the Authentication TLV. This is how Cisco covers the
//!   whole packet, and what FRR's Update path aims at (John the Ripper's EIGRP format models Cisco
//!   digests the same way: 44 bytes, key, then the remaining TLVs).
//! - [`Md5Span::Header`]: `T` is empty, only header and Authentication TLV are covered. FRR 8.4 eigrpd
//!   computes Hello digests like this (verified on its captures, `../shared/lab/README.md`).
//!
//! For a packet with nothing after the Authentication TLV the two spans are the same bytes.
//! [`verify`] tries both and reports which one matched.
//!
//! **HMAC-SHA-256.** `HMAC-SHA-256(key, P with the checksum and the digest zeroed)`. Cisco derives the
//! HMAC key from the password and the sender's address; the caller passes the key bytes it uses, for
//! example from [`sha256_key`].
//! FRR 8.4's SHA-256 digest cannot be reproduced (it hashes `strlen()` of the binary packet and keys
//! the HMAC with bytes of an internal struct), and its receive check is a stub.

use core::fmt;

use dmvpn_wire::{Error, Layer, checksum};
use hmac::{Hmac, KeyInit, Mac};
use md5::{Digest, Md5};
use sha2::Sha256;
use subtle::ConstantTimeEq;

use crate::consts::{AuthType, TlvType};
use crate::header::{HEADER_LEN, field};

/// Offset of the Authentication TLV (it must come first).
pub const AUTH_TLV_OFFSET: usize = HEADER_LEN;
/// Offset of the digest in the packet.
pub const DIGEST_OFFSET: usize = HEADER_LEN + 4 + crate::tlv::Authentication::DIGEST_OFFSET;
/// MD5 digest length.
pub const MD5_LEN: usize = 16;
/// HMAC-SHA-256 digest length.
pub const SHA256_LEN: usize = 32;

/// Which bytes an MD5 digest covers (see the module docs).
#[derive(Clone, Copy, Debug, Eq, Hash, PartialEq)]
pub enum Md5Span {
    /// Header, Authentication TLV, key, then every byte after the Authentication TLV (Cisco).
    Packet,
    /// Header and Authentication TLV only, then the key (FRR 8.4 Hellos).
    Header,
}

/// What [`verify`] found to match.
#[derive(Clone, Copy, Debug, Eq, Hash, PartialEq)]
pub enum Verified {
    /// An MD5 digest over this span.
    Md5(Md5Span),
    /// An HMAC-SHA-256 digest.
    Sha256,
}

/// Why a packet could not be signed or verified.
#[derive(Clone, Debug, Eq, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum AuthError {
    /// The packet is malformed where the Authentication TLV should be.
    #[error(transparent)]
    Malformed(#[from] Error),
    /// The first TLV is not an Authentication TLV.
    #[error("eigrp: no authentication tlv at offset 20")]
    NoAuthentication,
    /// An authentication type this crate does not compute.
    #[error("eigrp: unsupported authentication type {0}")]
    UnsupportedType(AuthType),
    /// The digest does not match the key.
    #[error("eigrp: authentication digest mismatch")]
    Mismatch,
}

/// Finds the Authentication TLV and returns its type and the digest range.
fn locate(packet: &[u8]) -> Result<(AuthType, core::ops::Range<usize>), AuthError> {
    let mut r = dmvpn_wire::Reader::new(Layer::Eigrp, packet);
    r.skip(HEADER_LEN, "header")?;
    let ty = TlvType(r.u16("tlv type")?);
    if ty != TlvType::AUTHENTICATION {
        return Err(AuthError::NoAuthentication);
    }
    let tlv_len = usize::from(r.u16("tlv length")?);
    let auth_type = AuthType(r.u16("auth type")?);
    let digest_len = usize::from(r.u16("auth length")?);
    if tlv_len != 4 + crate::tlv::Authentication::DIGEST_OFFSET + digest_len {
        return Err(Error::bad_length(
            Layer::Eigrp,
            "auth length",
            AUTH_TLV_OFFSET + 6,
            digest_len,
            tlv_len.saturating_sub(4 + crate::tlv::Authentication::DIGEST_OFFSET),
        )
        .into());
    }
    r.skip(16, "key id, key sequence and null pad")?;
    r.skip(digest_len, "digest")?;
    let expected = match auth_type {
        AuthType::MD5 => MD5_LEN,
        AuthType::SHA256 => SHA256_LEN,
        other => return Err(AuthError::UnsupportedType(other)),
    };
    if digest_len != expected {
        return Err(Error::invalid_field(
            Layer::Eigrp,
            "auth length",
            AUTH_TLV_OFFSET + 6,
            digest_len as u32,
        )
        .into());
    }
    Ok((auth_type, DIGEST_OFFSET..DIGEST_OFFSET + digest_len))
}

/// The MD5 digest of an EIGRP packet (header onwards) that starts with an MD5 Authentication TLV.
/// The checksum and the digest in `packet` are ignored.
pub fn md5_digest(packet: &[u8], key: &[u8], span: Md5Span) -> Result<[u8; MD5_LEN], AuthError> {
    let (auth_type, digest) = locate(packet)?;
    if auth_type != AuthType::MD5 {
        return Err(AuthError::UnsupportedType(auth_type));
    }
    let mut md5 = Md5::new();
    md5.update(&packet[..field::CHECKSUM.start]);
    md5.update([0, 0]);
    md5.update(&packet[field::CHECKSUM.end..digest.start]);
    md5.update(key);
    if key.len() < 16 {
        md5.update(&[0u8; 16][key.len()..]);
    }
    if span == Md5Span::Packet {
        md5.update(&packet[digest.end..]);
    }
    Ok(md5.finalize().into())
}

/// The HMAC-SHA-256 digest of an EIGRP packet that starts with a SHA-256 Authentication TLV.
/// The checksum and the digest in `packet` are taken as zero.
pub fn sha256_digest(packet: &[u8], key: &[u8]) -> Result<[u8; SHA256_LEN], AuthError> {
    let (auth_type, digest) = locate(packet)?;
    if auth_type != AuthType::SHA256 {
        return Err(AuthError::UnsupportedType(auth_type));
    }
    // Any key length is valid for HMAC.
    let Ok(mut mac) = <Hmac<Sha256> as KeyInit>::new_from_slice(key) else {
        unreachable!("hmac takes any key")
    };
    mac.update(&packet[..field::CHECKSUM.start]);
    mac.update(&[0, 0]);
    mac.update(&packet[field::CHECKSUM.end..digest.start]);
    mac.update(&[0u8; SHA256_LEN]);
    mac.update(&packet[digest.end..]);
    Ok(mac.finalize().into_bytes().into())
}

/// The HMAC key layout FRR's eigrpd sets out to build from a password and the sender's address: a
/// newline, the password, then the address in text form (`"\npassword10.99.0.1"`). FRR's
/// eigrpd was written with an RFC 7868 co-author, so this is the best public description of the
/// Cisco key; it has not been checked against IOS (FRR itself copies the wrong bytes, see the module
/// docs).
#[must_use]
pub fn sha256_key(password: &[u8], source: core::net::IpAddr) -> Vec<u8> {
    let mut key = Vec::with_capacity(1 + password.len() + 39);
    key.push(b'\n');
    key.extend_from_slice(password);
    key.extend_from_slice(source.to_string().as_bytes());
    key
}

/// Fills in the digest of an emitted packet (MD5 over `span`, or HMAC-SHA-256 as the TLV says), then
/// the checksum.
pub fn sign(packet: &mut [u8], key: &[u8], span: Md5Span) -> Result<(), AuthError> {
    let (auth_type, digest) = locate(packet)?;
    match auth_type {
        AuthType::MD5 => {
            let d = md5_digest(packet, key, span)?;
            packet[digest].copy_from_slice(&d);
        }
        _ => {
            let d = sha256_digest(packet, key)?;
            packet[digest].copy_from_slice(&d);
        }
    }
    packet[field::CHECKSUM].fill(0);
    let sum = checksum::compute(packet);
    packet[field::CHECKSUM].copy_from_slice(&sum.to_be_bytes());
    Ok(())
}

/// Checks the digest against `key` in constant time; for MD5 tries [`Md5Span::Packet`] then
/// [`Md5Span::Header`] and names the one that matched.
pub fn verify(packet: &[u8], key: &[u8]) -> Result<Verified, AuthError> {
    let (auth_type, digest) = locate(packet)?;
    let found = &packet[digest];
    match auth_type {
        AuthType::MD5 => {
            for span in [Md5Span::Packet, Md5Span::Header] {
                if bool::from(md5_digest(packet, key, span)?.ct_eq(found)) {
                    return Ok(Verified::Md5(span));
                }
            }
            Err(AuthError::Mismatch)
        }
        _ => {
            if bool::from(sha256_digest(packet, key)?.ct_eq(found)) {
                Ok(Verified::Sha256)
            } else {
                Err(AuthError::Mismatch)
            }
        }
    }
}

impl fmt::Display for Verified {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Md5(Md5Span::Packet) => "md5 (whole packet)",
            Self::Md5(Md5Span::Header) => "md5 (header and auth tlv only, FRR)",
            Self::Sha256 => "hmac-sha-256",
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tlv::{Authentication, Parameters, SoftwareVersion, Tlv};
    use crate::{Flags, OpCode, Repr, Tlvs};

    fn hello(auth_type: AuthType, digest: &[u8], extra: bool) -> Vec<u8> {
        let tlvs = [
            Tlv::Authentication(Authentication {
                auth_type,
                key_id: 1,
                key_sequence: 0,
                nullpad: [0; 8],
                digest,
            }),
            Tlv::Parameters(Parameters::DEFAULT),
            Tlv::SoftwareVersion(SoftwareVersion {
                release: [8, 4],
                tlv_version: [2, 0],
            }),
        ];
        let n = if extra { 3 } else { 1 };
        let repr = Repr {
            opcode: OpCode::HELLO,
            flags: Flags::default(),
            sequence: 0,
            ack: 0,
            virtual_router_id: 0,
            autonomous_system: 123,
            tlvs: Tlvs::new(&tlvs[..n]),
        };
        repr.to_bytes()
    }

    // Vectors computed independently with Python's hashlib/hmac over the same bytes
    // (tools/gen/eigrp_auth_vectors.py prints them).
    const MD5_PACKET: &str = "30511359a30ddcd7cddb7abb4f6318bf";
    const MD5_HEADER: &str = "a5559ee936b0e9e2d95da784eb4191e1";
    const SHA256: &str = "3c26fb727ecbd8e1c3ebf15ab7fca4ab14d8c71f38e32ae7c18319590555b5e8";

    fn hex(bytes: &[u8]) -> String {
        bytes.iter().map(|b| format!("{b:02x}")).collect()
    }

    #[test]
    fn md5_vectors_and_spans() {
        let mut p = hello(AuthType::MD5, &[0; 16], true);
        let whole = md5_digest(&p, b"lab-md5-key", Md5Span::Packet).unwrap();
        let header = md5_digest(&p, b"lab-md5-key", Md5Span::Header).unwrap();
        assert_eq!(hex(&whole), MD5_PACKET);
        assert_eq!(hex(&header), MD5_HEADER);
        sign(&mut p, b"lab-md5-key", Md5Span::Header).unwrap();
        assert!(checksum::verify(&p));
        assert_eq!(
            verify(&p, b"lab-md5-key"),
            Ok(Verified::Md5(Md5Span::Header))
        );
        sign(&mut p, b"lab-md5-key", Md5Span::Packet).unwrap();
        assert_eq!(
            verify(&p, b"lab-md5-key"),
            Ok(Verified::Md5(Md5Span::Packet))
        );
        assert_eq!(verify(&p, b"wrong"), Err(AuthError::Mismatch));
        // Tampering after the auth TLV breaks the whole-packet digest.
        let last = p.len() - 1;
        p[last] ^= 1;
        assert_eq!(verify(&p, b"lab-md5-key"), Err(AuthError::Mismatch));
    }

    #[test]
    fn sha256_vector() {
        let mut p = hello(AuthType::SHA256, &[0; 32], true);
        let d = sha256_digest(&p, b"key").unwrap();
        assert_eq!(hex(&d), SHA256);
        sign(&mut p, b"key", Md5Span::Packet).unwrap();
        assert_eq!(verify(&p, b"key"), Ok(Verified::Sha256));
        assert_eq!(verify(&p, b"kez"), Err(AuthError::Mismatch));
        // The digest field does not feed into itself: signing twice gives the same bytes.
        let again = {
            let mut q = p.clone();
            sign(&mut q, b"key", Md5Span::Packet).unwrap();
            q
        };
        assert_eq!(again, p);
    }

    #[test]
    fn sha256_key_layout() {
        let key = sha256_key(b"secret", "10.99.0.1".parse().unwrap());
        assert_eq!(key, b"\nsecret10.99.0.1");
        let mut p = hello(AuthType::SHA256, &[0; 32], false);
        sign(&mut p, &key, Md5Span::Packet).unwrap();
        assert_eq!(verify(&p, &key), Ok(Verified::Sha256));
        assert_eq!(
            verify(&p, &sha256_key(b"secret", "10.99.0.2".parse().unwrap())),
            Err(AuthError::Mismatch)
        );
    }

    #[test]
    fn errors() {
        let p = hello(AuthType::MD5, &[0; 16], false);
        assert_eq!(
            sha256_digest(&p, b"k"),
            Err(AuthError::UnsupportedType(AuthType::MD5))
        );
        let plain = {
            let mut q = p.clone();
            q[21] = 1;
            q
        };
        assert_eq!(verify(&plain, b"k"), Err(AuthError::NoAuthentication));
        assert!(matches!(
            verify(&p[..30], b"k"),
            Err(AuthError::Malformed(Error::Truncated { .. }))
        ));
        let odd = hello(AuthType(9), &[0; 4], false);
        assert_eq!(
            verify(&odd, b"k"),
            Err(AuthError::UnsupportedType(AuthType(9)))
        );
        let short = hello(AuthType::MD5, &[0; 4], false);
        assert!(matches!(
            verify(&short, b"k"),
            Err(AuthError::Malformed(Error::InvalidField { .. }))
        ));
        for (error, message) in [
            (AuthError::Mismatch, "eigrp: authentication digest mismatch"),
            (
                AuthError::NoAuthentication,
                "eigrp: no authentication tlv at offset 20",
            ),
            (
                AuthError::UnsupportedType(AuthType(9)),
                "eigrp: unsupported authentication type 0x9",
            ),
        ] {
            assert_eq!(error.to_string(), message);
        }
    }
}
