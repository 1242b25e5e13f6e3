//! Diffie-Hellman over the MODP groups 1, 2, 5 and 14 (RFC 2409 §6, RFC 3526 §2).
//!
//! The exponentiation is crypto-bigint's constant-time Montgomery ladder over a fixed-width
//! integer of the group's size (`U768` … `U2048`), bounded to the bit length of the private
//! value: the time depends on that length (public) and never on its bits. The primes come from
//! [`dmvpn_isakmp::group`]. Public values are checked to lie in `2 ..= p − 2` (RFC 2631 §2.1.5's
//! range check, which excludes the degenerate values 0, 1 and p − 1).

use alloc::vec;
use alloc::vec::Vec;
use core::fmt;

use crypto_bigint::modular::{FixedMontyForm, FixedMontyParams};
use crypto_bigint::{Odd, U768, U1024, U1536, U2048, Uint};
use dmvpn_isakmp::consts::Group;
use dmvpn_isakmp::group::{Modp, modp};
use dmvpn_isakmp::keys::Secret;
use zeroize::Zeroize;

use super::Error;

/// The length of the private exponents [`super::Entropy::key_exchange`] draws by default, in
/// bytes: 256 bits, at least twice the strength of every group here (RFC 3526 §8).
pub const PRIVATE_LEN: usize = 32;

/// `base ^ exponent mod prime` over `LIMBS`-limb integers; every slice is big-endian and none may
/// be longer than the prime, which must be exactly `LIMBS` limbs wide. The result has the prime's
/// length (left-padded with zeros, as RFC 2409 wants g^xy).
fn modpow<const LIMBS: usize>(prime: &[u8], base: &[u8], exponent: &[u8]) -> Option<Vec<u8>> {
    let width = Uint::<LIMBS>::BYTES;
    if prime.len() != width || base.len() > width || exponent.len() > width {
        return None;
    }
    let widen = |bytes: &[u8]| {
        let mut wide = vec![0; width];
        wide[width - bytes.len()..].copy_from_slice(bytes);
        wide
    };
    let modulus = Odd::new(Uint::<LIMBS>::from_be_slice(prime)).into_option()?;
    let params = FixedMontyParams::new_vartime(modulus);
    let base = FixedMontyForm::new(&Uint::<LIMBS>::from_be_slice(&widen(base)), &params);
    let mut wide_exponent = widen(exponent);
    let mut exponent_int = Uint::<LIMBS>::from_be_slice(&wide_exponent);
    wide_exponent.zeroize();
    let bits = u32::try_from(exponent.len() * 8).ok()?;
    let mut result = base.pow_bounded_exp(&exponent_int, bits).retrieve();
    exponent_int.zeroize();
    let bytes = result.to_be_bytes().as_slice().to_vec();
    result.zeroize();
    Some(bytes)
}

/// `base ^ exponent mod p` in `group`.
fn group_pow(group: &Modp, base: &[u8], exponent: &[u8]) -> Option<Vec<u8>> {
    match group.id {
        Group::MODP_768 => modpow::<{ U768::LIMBS }>(group.prime, base, exponent),
        Group::MODP_1024 => modpow::<{ U1024::LIMBS }>(group.prime, base, exponent),
        Group::MODP_1536 => modpow::<{ U1536::LIMBS }>(group.prime, base, exponent),
        Group::MODP_2048 => modpow::<{ U2048::LIMBS }>(group.prime, base, exponent),
        _ => None,
    }
}

/// Whether `value` (big-endian, any length) lies in `2 ..= p − 2`.
fn in_range(prime: &[u8], value: &[u8]) -> bool {
    if value.len() != prime.len() {
        return false;
    }
    // p − 2: p is odd, so only the last byte changes (it is ≥ 2 for every MODP prime: 0xff).
    let mut p_minus_2 = prime.to_vec();
    let Some(last) = p_minus_2.last_mut() else {
        return false;
    };
    let Some(lowered) = last.checked_sub(2) else {
        return false;
    };
    *last = lowered;
    let above_one = value.iter().rev().skip(1).any(|&b| b != 0) || value.last() > Some(&1);
    above_one && value <= p_minus_2.as_slice()
}

enum Private {
    /// A private exponent.
    Exponent(Secret),
    /// A shared secret recorded from a real exchange whose private value is unknown.
    Recorded(Secret),
}

/// One side's Diffie-Hellman key pair in a MODP group: the private value stays inside, the
/// public value g^x goes into the KE payload, and [`KeyExchange::shared_secret`] computes g^xy
/// from the peer's public value.
pub struct KeyExchange {
    group: Modp,
    private: Private,
    public: Vec<u8>,
}

impl fmt::Debug for KeyExchange {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("KeyExchange")
            .field("group", &self.group.id)
            .field("private", &"<redacted>")
            .field("public_len", &self.public.len())
            .finish()
    }
}

impl KeyExchange {
    /// The key pair with private exponent `private` (big-endian, 1 to modulus-length bytes; the
    /// caller draws it at random) in `group`.
    ///
    /// # Errors
    /// [`Error::UnsupportedGroup`] for a group other than 1, 2, 5, 14, and
    /// [`Error::InvalidPrivateValue`] for an empty, over-long or degenerate exponent.
    pub fn new(group: Group, private: &[u8]) -> Result<Self, Error> {
        let modp = modp(group).ok_or(Error::UnsupportedGroup { group })?;
        if private.is_empty() || private.len() > modp.len() || private.iter().all(|&b| b == 0) {
            return Err(Error::InvalidPrivateValue { len: private.len() });
        }
        let public = group_pow(&modp, &[modp.generator], private)
            .ok_or(Error::UnsupportedGroup { group })?;
        if !in_range(modp.prime, &public) {
            return Err(Error::InvalidPrivateValue { len: private.len() });
        }
        Ok(Self {
            group: modp,
            private: Private::Exponent(Secret::from_slice(private)),
            public,
        })
    }

    /// A key pair replaying a recorded exchange: `public` is the value that went on the wire and
    /// `shared` the g^xy its owner logged (strongSwan logs g^xy, never x). Every peer value then
    /// yields `shared`; this exists to check the machine against captures, not for live use.
    ///
    /// # Errors
    /// [`Error::UnsupportedGroup`], and [`Error::InvalidPublicValue`] when `public` or
    /// `shared` does not have the modulus length.
    pub fn recorded(group: Group, public: &[u8], shared: Secret) -> Result<Self, Error> {
        let modp = modp(group).ok_or(Error::UnsupportedGroup { group })?;
        if public.len() != modp.len() || shared.len() != modp.len() {
            return Err(Error::InvalidPublicValue {
                group,
                len: public.len(),
            });
        }
        Ok(Self {
            group: modp,
            private: Private::Recorded(shared),
            public: public.to_vec(),
        })
    }

    /// The group.
    #[must_use]
    pub const fn group(&self) -> Group {
        self.group.id
    }

    /// g^x, as long as the modulus (the KE payload body).
    #[must_use]
    pub fn public_value(&self) -> &[u8] {
        &self.public
    }

    /// g^xy from the peer's public value g^y, left-padded to the modulus length.
    ///
    /// # Errors
    /// [`Error::InvalidPublicValue`] when `peer` is not modulus-long or not in `2 ..= p − 2`.
    pub fn shared_secret(&self, peer: &[u8]) -> Result<Secret, Error> {
        let invalid = Error::InvalidPublicValue {
            group: self.group.id,
            len: peer.len(),
        };
        if !in_range(self.group.prime, peer) {
            return Err(invalid);
        }
        match &self.private {
            Private::Exponent(x) => group_pow(&self.group, peer, x.as_bytes())
                .map(Secret::new)
                .ok_or(invalid),
            Private::Recorded(shared) => Ok(shared.clone()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn small(value: u64, len: usize) -> Vec<u8> {
        let mut out = vec![0; len];
        out[len - 8..].copy_from_slice(&value.to_be_bytes());
        out
    }

    #[test]
    fn agreement_in_every_group() {
        // Group 14 only once: the 2048-bit ladder is the slow one in debug builds.
        for group in [
            Group::MODP_768,
            Group::MODP_1024,
            Group::MODP_1536,
            Group::MODP_2048,
        ] {
            let a = KeyExchange::new(group, &[0x5a; PRIVATE_LEN]).unwrap();
            let b = KeyExchange::new(group, &[0xc3; PRIVATE_LEN]).unwrap();
            let len = modp(group).unwrap().len();
            assert_eq!(a.public_value().len(), len);
            assert_ne!(a.public_value(), b.public_value());
            let ab = a.shared_secret(b.public_value()).unwrap();
            let ba = b.shared_secret(a.public_value()).unwrap();
            assert_eq!(ab, ba, "{group:?}");
            assert_eq!(ab.len(), len);
        }
    }

    #[test]
    fn small_exponents_are_plain_powers_of_two() {
        // g = 2: 2^10 = 1024, and (2^3)^5 = 2^15.
        let ten = KeyExchange::new(Group::MODP_768, &[10]).unwrap();
        assert_eq!(ten.public_value(), small(1024, 96));
        let five = KeyExchange::new(Group::MODP_768, &[5]).unwrap();
        let shared = five.shared_secret(&small(8, 96)).unwrap();
        assert_eq!(shared.as_bytes(), small(1 << 15, 96));
    }

    #[test]
    fn degenerate_public_values_are_refused() {
        let x = KeyExchange::new(Group::MODP_1024, &[7; 20]).unwrap();
        let prime = modp(Group::MODP_1024).unwrap().prime;
        let mut p_minus_1 = prime.to_vec();
        p_minus_1[127] -= 1;
        for bad in [
            vec![0; 128],
            small(1, 128),
            p_minus_1,
            prime.to_vec(),
            vec![0xff; 128],
            small(2, 127),
        ] {
            assert_eq!(
                x.shared_secret(&bad).unwrap_err(),
                Error::InvalidPublicValue {
                    group: Group::MODP_1024,
                    len: bad.len()
                }
            );
        }
        assert!(x.shared_secret(&small(2, 128)).is_ok());
    }

    #[test]
    fn bad_private_values_and_groups() {
        assert_eq!(
            KeyExchange::new(Group::ECP_256, &[1]).unwrap_err(),
            Error::UnsupportedGroup {
                group: Group::ECP_256
            }
        );
        for bad in [&[][..], &[0, 0][..], &[1; 97][..]] {
            assert_eq!(
                KeyExchange::new(Group::MODP_768, bad).unwrap_err(),
                Error::InvalidPrivateValue { len: bad.len() }
            );
        }
        let debug = alloc::format!("{:?}", KeyExchange::new(Group::MODP_768, &[9; 4]).unwrap());
        assert!(
            debug.contains("redacted") && !debug.contains("9, 9"),
            "{debug}"
        );
    }
}
