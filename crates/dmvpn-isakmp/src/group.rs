//! MODP Diffie-Hellman groups 1, 2, 5 and 14 (RFC 2409 §6, RFC 3526): primes as constants, generator 2.
//!
//! Each prime is `2^n - 2^(n-64) - 1 + 2^64 * (floor(2^(n-130) * pi) + k)`; `tools/gen/isakmp_vectors.py`
//! recomputes them from pi and writes their hex to `testdata/isakmp/modp_groups.txt`, which the tests
//! compare with these constants. The arithmetic itself belongs to the IKE state machine.

use crate::consts::Group;

/// A MODP group.
#[derive(Clone, Copy, Debug, Eq, PartialEq)]
pub struct Modp {
    /// The group number (RFC 2409 Appendix A, IANA).
    pub id: Group,
    /// The prime modulus, big-endian.
    pub prime: &'static [u8],
    /// The generator.
    pub generator: u8,
}

impl Modp {
    /// Length of the modulus, and so of public values and of the padded shared secret, in bytes.
    #[must_use]
    pub const fn len(&self) -> usize {
        self.prime.len()
    }

    /// The group `id` with generator 2 and this prime.
    const fn with_generator_2(id: Group, prime: &'static [u8]) -> Self {
        Self {
            id,
            prime,
            generator: 2,
        }
    }

    /// Whether the prime is empty (never, for the groups defined here).
    #[must_use]
    pub const fn is_empty(&self) -> bool {
        self.prime.is_empty()
    }
}

/// The group with this number, if it is one of 1, 2, 5, 14.
#[must_use]
pub const fn modp(id: Group) -> Option<Modp> {
    Some(match id {
        Group::MODP_768 => MODP_768,
        Group::MODP_1024 => MODP_1024,
        Group::MODP_1536 => MODP_1536,
        Group::MODP_2048 => MODP_2048,
        _ => return None,
    })
}

/// Group 1: the 768-bit MODP group (RFC 2409 §6.1).
pub const MODP_768: Modp = Modp::with_generator_2(Group::MODP_768, &MODP_768_PRIME);
/// Group 2: the 1024-bit MODP group (RFC 2409 §6.2).
pub const MODP_1024: Modp = Modp::with_generator_2(Group::MODP_1024, &MODP_1024_PRIME);
/// Group 5: the 1536-bit MODP group (RFC 3526 §2).
pub const MODP_1536: Modp = Modp::with_generator_2(Group::MODP_1536, &MODP_1536_PRIME);
/// Group 14: the 2048-bit MODP group (RFC 3526 §3).
pub const MODP_2048: Modp = Modp::with_generator_2(Group::MODP_2048, &MODP_2048_PRIME);

dmvpn_wire::hex_consts! {
    const MODP_768_PRIME: [u8; 96] = "ffffffffffffffffc90fdaa22168c234c4c6628b80dc1cd129024e088a67cc74020bbea63b139b22514a08798e3404ddef9519b3cd3a431b302b0a6df25f14374fe1356d6d51c245e485b576625e7ec6f44c42e9a63a3620ffffffffffffffff";
    const MODP_1024_PRIME: [u8; 128] = "ffffffffffffffffc90fdaa22168c234c4c6628b80dc1cd129024e088a67cc74020bbea63b139b22514a08798e3404ddef9519b3cd3a431b302b0a6df25f14374fe1356d6d51c245e485b576625e7ec6f44c42e9a637ed6b0bff5cb6f406b7edee386bfb5a899fa5ae9f24117c4b1fe649286651ece65381ffffffffffffffff";
    const MODP_1536_PRIME: [u8; 192] = "ffffffffffffffffc90fdaa22168c234c4c6628b80dc1cd129024e088a67cc74020bbea63b139b22514a08798e3404ddef9519b3cd3a431b302b0a6df25f14374fe1356d6d51c245e485b576625e7ec6f44c42e9a637ed6b0bff5cb6f406b7edee386bfb5a899fa5ae9f24117c4b1fe649286651ece45b3dc2007cb8a163bf0598da48361c55d39a69163fa8fd24cf5f83655d23dca3ad961c62f356208552bb9ed529077096966d670c354e4abc9804f1746c08ca237327ffffffffffffffff";
    const MODP_2048_PRIME: [u8; 256] = "ffffffffffffffffc90fdaa22168c234c4c6628b80dc1cd129024e088a67cc74020bbea63b139b22514a08798e3404ddef9519b3cd3a431b302b0a6df25f14374fe1356d6d51c245e485b576625e7ec6f44c42e9a637ed6b0bff5cb6f406b7edee386bfb5a899fa5ae9f24117c4b1fe649286651ece45b3dc2007cb8a163bf0598da48361c55d39a69163fa8fd24cf5f83655d23dca3ad961c62f356208552bb9ed529077096966d670c354e4abc9804f1746c08ca18217c32905e462e36ce3be39e772c180e86039b2783a2ec07a28fb5c55df06f4c52c9de2bcbf6955817183995497cea956ae515d2261898fa051015728e5a8aacaa68ffffffffffffffff";
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn groups_match_the_generator() {
        // Written by tools/gen/isakmp_vectors.py from its own computation of pi.
        let text = include_str!("../../../testdata/isakmp/modp_groups.txt");
        let mut seen = 0;
        for line in text
            .lines()
            .filter(|l| !l.starts_with('#') && !l.is_empty())
        {
            let (id, hex_prime) = line.split_once(' ').unwrap();
            let group = modp(Group(id.parse().unwrap())).unwrap();
            assert_eq!(hex::encode(group.prime), hex_prime, "group {id}");
            assert_eq!(group.len() * 8, hex_prime.len() * 4);
            seen += 1;
        }
        assert_eq!(seen, 4);
        assert!(modp(Group::ECP_256).is_none());
    }

    #[test]
    fn shape() {
        for group in [MODP_768, MODP_1024, MODP_1536, MODP_2048] {
            assert_eq!(&group.prime[..8], &[0xff; 8]);
            assert_eq!(&group.prime[group.len() - 8..], &[0xff; 8]);
            assert_eq!(group.prime[8..12], [0xc9, 0x0f, 0xda, 0xa2]);
            assert!(!group.is_empty());
        }
    }
}
