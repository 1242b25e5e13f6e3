//! Entry points for the fuzz targets in `fuzz/` and for the in-crate property tests.
//!
//! Compiled with the `fuzzing` feature (hidden from the docs, not API); they use only the public
//! API, so fuzz targets stay one-line calls. Nothing here skips an integrity check: the ICV paths
//! are reached with fixed test SAs whose keys the fuzzer cannot know, plus a NULL/NULL SA that
//! reaches the trailer directly.

use alloc::vec::Vec;

use crate::{Encryption, Inbound, Integrity, NextHeader, Packet, Repr, Sa, Trailer, trailer};

/// The SPI of every test SA.
pub const TEST_SPI: u32 = 0x0000_1001;

/// One test transform per encryption × integrity pair that [`Sa::new`] accepts.
pub const TRANSFORMS: [(Encryption, Integrity); 21] = [
    (Encryption::Null, Integrity::None),
    (Encryption::Null, Integrity::HmacMd5_96),
    (Encryption::Null, Integrity::HmacSha1_96),
    (Encryption::Null, Integrity::HmacSha256_128),
    (Encryption::Null, Integrity::HmacSha384_192),
    (Encryption::Null, Integrity::HmacSha512_256),
    (Encryption::TripleDesCbc, Integrity::None),
    (Encryption::TripleDesCbc, Integrity::HmacMd5_96),
    (Encryption::TripleDesCbc, Integrity::HmacSha1_96),
    (Encryption::TripleDesCbc, Integrity::HmacSha256_128),
    (Encryption::TripleDesCbc, Integrity::HmacSha384_192),
    (Encryption::TripleDesCbc, Integrity::HmacSha512_256),
    (Encryption::AesCbc, Integrity::None),
    (Encryption::AesCbc, Integrity::HmacMd5_96),
    (Encryption::AesCbc, Integrity::HmacSha1_96),
    (Encryption::AesCbc, Integrity::HmacSha256_128),
    (Encryption::AesCbc, Integrity::HmacSha384_192),
    (Encryption::AesCbc, Integrity::HmacSha512_256),
    (Encryption::AesGcm8, Integrity::None),
    (Encryption::AesGcm12, Integrity::None),
    (Encryption::AesGcm16, Integrity::None),
];

/// A test SA for transform `index` (modulo [`TRANSFORMS`]); odd `variant`s use ESN, and the
/// AES key size cycles through 128, 192 and 256 bits with `variant`.
#[must_use]
pub fn test_sa(index: usize, variant: u8) -> Option<Sa> {
    let (encryption, integrity) = TRANSFORMS[index % TRANSFORMS.len()];
    const KEY: [u8; 64] = {
        let mut key = [0; 64];
        let mut i = 0;
        while i < 64 {
            key[i] = (i as u8).wrapping_mul(37).wrapping_add(11);
            i += 1;
        }
        key
    };
    let aes = [16, 24, 32][usize::from(variant / 2) % 3];
    let key_len = match encryption {
        Encryption::Null => 0,
        Encryption::TripleDesCbc => 24,
        Encryption::AesCbc => aes,
        Encryption::AesGcm8 | Encryption::AesGcm12 | Encryption::AesGcm16 => aes + 4,
    };
    let sa = Sa::new(
        TEST_SPI,
        encryption,
        &KEY[..key_len],
        integrity,
        &KEY[..integrity.key_len()],
    )
    .ok()?;
    Some(sa.with_esn(variant % 2 == 1))
}

/// Parses an ESP header and a trailer from arbitrary bytes; emitting the parsed header must give
/// the same bytes back.
pub fn parse_bytes(data: &[u8]) {
    if let Ok(packet) = Packet::new_checked(data)
        && let Ok(repr) = Repr::parse(&packet)
    {
        let mut header = [0; 8];
        repr.emit(&mut Packet::new_unchecked(&mut header[..]));
        assert_eq!(data.get(..8), Some(&header[..]));
    }
    if let Ok(trailer) = Trailer::new_checked(data) {
        let _ = trailer::Repr::parse(&trailer, crate::PaddingCheck::Monotonic);
    }
}

/// Decrypts arbitrary bytes with a test SA picked by the first two bytes, directly and through an
/// [`Inbound`] with its replay window. Must never panic.
pub fn decrypt(data: &[u8]) {
    let [index, variant, packet @ ..] = data else {
        return;
    };
    let Some(sa) = test_sa(usize::from(*index), *variant) else {
        return;
    };
    let mut buffer = Vec::from(packet);
    // Steer the SPI to the SA so that the fuzzer reaches the ICV and trailer checks.
    if let Some(spi) = buffer.get_mut(..4) {
        spi.copy_from_slice(&TEST_SPI.to_be_bytes());
    }
    let mut copy = buffer.clone();
    if let Ok(decrypted) = sa.decrypt_in_place(&mut copy) {
        assert!(decrypted.payload.len() + decrypted.padding.len() + 2 <= packet.len());
    }
    let mut inbound: Inbound = Inbound::new(sa);
    let mut scratch = Vec::new();
    let first = inbound.decrypt(&buffer, &mut scratch).is_ok();
    // The same packet twice is never accepted twice.
    if first {
        assert!(inbound.decrypt(&buffer, &mut scratch).is_err());
    }
}

/// Encrypts arbitrary payload bytes with a test SA picked by the first two bytes, a sequence
/// number, next header and IV from the next bytes, then decrypts: the payload must come back.
pub fn round_trip(data: &[u8]) {
    let [index, variant, next_header, s0, s1, s2, s3, s4, rest @ ..] = data else {
        return;
    };
    let Some(sa) = test_sa(usize::from(*index), *variant) else {
        return;
    };
    let iv_len = sa.iv_len();
    let Some((iv, payload)) = rest.split_at_checked(iv_len) else {
        return;
    };
    let high = if sa.esn() { u64::from(*s4) << 32 } else { 0 };
    let seq = high | u64::from(u32::from_be_bytes([*s0, *s1, *s2, *s3]));
    let mut packet = Vec::new();
    let encrypted = sa.encrypt(seq, iv, NextHeader(*next_header), payload, &mut packet);
    assert_eq!(encrypted, Ok(()));
    assert_eq!(packet.len(), sa.encrypted_len(payload.len()));
    assert_eq!(packet.len() % 4, 0, "RFC 4303 §2.4: 4-byte alignment");
    let decrypted = sa.decrypt_in_place_esn(&mut packet, (seq >> 32) as u32);
    let decrypted = decrypted
        .as_ref()
        .map(|d| (d.seq, d.next_header, d.payload));
    assert_eq!(decrypted, Ok((seq, NextHeader(*next_header), payload)));
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_test_sa_builds() {
        for index in 0..TRANSFORMS.len() {
            for variant in 0..6 {
                assert!(test_sa(index, variant).is_some(), "{index} {variant}");
            }
        }
    }

    dmvpn_wire::fuzz_tests! {
        fn parse_bytes_never_panics => parse_bytes;
        fn decrypt_never_panics => decrypt;
        fn encrypt_then_decrypt_round_trips => round_trip;
    }
}
