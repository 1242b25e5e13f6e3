//! DES and three-key triple DES (FIPS 46-3; NIST SP 800-67 Rev. 2) in CBC mode, for 3DES-CBC
//! ESP (RFC 2451).
//!
//! The round function is table-driven: for each S-box, a 64-entry table maps the six input bits
//! straight to the S-box output already moved through the permutation P (the "SP-box"), so one
//! round is two XORs with the subkey and eight lookups. The tables are computed at compile time
//! from the FIPS 46-3 S-boxes and P.
//!
//! Bit order. A block is loaded big-endian into two 32-bit halves, FIPS bit 1 in the most
//! significant bit. The initial permutation IP and its inverse are five swap-moves each (IP is a
//! transpose of the 8×8 bit matrix, rows being bytes). Between IP and its inverse both halves
//! are kept rotated right by one bit: then the expansion E is free, because the six bits an
//! S-box reads are contiguous. S-boxes 1, 3, 5 and 7 read bits 26..32, 18..24, 10..16 and 2..8
//! of the rotated half; S-boxes 2, 4, 6 and 8 the same bits of the half rotated left by four
//! more. The subkeys are stored in that layout, as two words per round.
//!
//! Three-key 3DES is E(k1) D(k2) E(k3) (SP 800-67 §3.2); the permutation FP∘IP between two
//! stages is the identity, so IP and FP run once per block. Decryption runs the 48 subkeys in
//! reverse order, precomputed once per key like the encryption order.
//!
//! CBC decryption is parallel across blocks (each plaintext needs only its own ciphertext and
//! the previous one), so it decrypts [`LANES`] blocks at once: the rounds of one block are a
//! chain of dependent table lookups, and interleaving independent blocks fills the gaps.
//!
//! Like every table-driven DES (RustCrypto's `des`, OpenSSL's), the lookups depend on key and
//! data, so the time is not independent of secrets at the cache level.

use zeroize::{Zeroize, ZeroizeOnDrop};

/// The DES block length in bytes.
pub(crate) const BLOCK_LEN: usize = 8;

/// The 3DES key length in bytes: three DES keys, each with its eight parity bits.
pub(crate) const KEY_LEN: usize = 24;

/// How many blocks CBC decryption runs side by side.
const LANES: usize = 3;

/// The S-boxes S1..S8 (FIPS 46-3, "Primitive functions S1, ..., S8"), each its four rows of 16
/// entries one after the other, one hex digit an entry.
const S: [[u8; 64]; 8] = [
    *b"e4d12fb83a6c59070f74e2d1a6cb953841e8d62bfc973a50fc8249175b3ea06d",
    *b"f18e6b34972dc05a3d47f28ec01a69b50e7ba4d158c6932fd8a13f42b67c05e9",
    *b"a09e63f51dc7b428d709346a285ecbf1d6498f30b12c5ae71ad069874fe3b52c",
    *b"7de3069a1285bc4fd8b56f03472c1ae9a690cb7df13e52843f06a1d8945bc72e",
    *b"2c417ab6853fd0e9eb2c47d150fa3986421bad78f9c5630eb8c71e2d6f09a453",
    *b"c1af92680d34e75baf427c9561de0b389ef528c3704a1db6432c95fabe17608d",
    *b"4b2ef08d3c975a61d0b7491ae35c2f8614bdc37eaf6805926bd814a7950fe23c",
    *b"d2846fb1a93e50c71fd8a374c56b0e927b419ce206adf35821e74a8dfc90356b",
];

/// The value of S-box `j + 1` at `row` and `column` (FIPS 46-3).
const fn s_box(j: usize, row: usize, column: usize) -> u8 {
    match S[j][row * 16 + column] {
        digit @ b'0'..=b'9' => digit - b'0',
        digit => digit - b'a' + 10,
    }
}

/// The permutation P (FIPS 46-3): bit `i` of its output is bit `P[i - 1]` of its input.
const P: [u8; 32] = [
    16, 7, 20, 21, 29, 12, 28, 17, 1, 15, 23, 26, 5, 18, 31, 10, //
    2, 8, 24, 14, 32, 27, 3, 9, 19, 13, 30, 6, 22, 11, 4, 25,
];

/// Permuted choice 1 (FIPS 46-3, key schedule): the 56 key bits that are not parity bits, as
/// C0 then D0.
const PC1: [u8; 56] = [
    57, 49, 41, 33, 25, 17, 9, 1, 58, 50, 42, 34, 26, 18, //
    10, 2, 59, 51, 43, 35, 27, 19, 11, 3, 60, 52, 44, 36, //
    63, 55, 47, 39, 31, 23, 15, 7, 62, 54, 46, 38, 30, 22, //
    14, 6, 61, 53, 45, 37, 29, 21, 13, 5, 28, 20, 12, 4,
];

/// Permuted choice 2 (FIPS 46-3, key schedule): the 48 bits of a subkey out of Cn Dn.
const PC2: [u8; 48] = [
    14, 17, 11, 24, 1, 5, 3, 28, 15, 6, 21, 10, //
    23, 19, 12, 4, 26, 8, 16, 7, 27, 20, 13, 2, //
    41, 52, 31, 37, 47, 55, 30, 40, 51, 45, 33, 48, //
    44, 49, 39, 56, 34, 53, 46, 42, 50, 36, 29, 32,
];

/// Left rotations of C and D before each round (FIPS 46-3, key schedule).
const SHIFTS: [u32; 16] = [1, 1, 2, 2, 2, 2, 2, 2, 1, 2, 2, 2, 2, 2, 2, 1];

/// `SP[j][v]`: S-box `j + 1` of the six bits `v` (first E bit most significant), placed at
/// its output bits, through P, rotated right by one.
static SP: [[u32; 64]; 8] = sp_boxes();

const fn sp_boxes() -> [[u32; 64]; 8] {
    let mut sp = [[0; 64]; 8];
    let mut j = 0;
    while j < 8 {
        let mut v = 0;
        while v < 64 {
            // The outer bits choose the row, the inner four the column.
            let row = ((v >> 4) & 2) | (v & 1);
            let column = (v >> 1) & 0xf;
            let nibble = s_box(j, row, column) as u32;
            // S-box j + 1 writes bits 4j + 1 ..= 4j + 4 of the 32-bit word P permutes.
            let unpermuted = nibble << (28 - 4 * j);
            let mut permuted = 0u32;
            let mut i = 0;
            while i < 32 {
                let bit = (unpermuted >> (32 - P[i] as u32)) & 1;
                permuted |= bit << (31 - i);
                i += 1;
            }
            sp[j][v] = permuted.rotate_right(1);
            v += 1;
        }
        j += 1;
    }
    sp
}

/// The subkey of one round: S-box inputs 1, 3, 5, 7 and 2, 4, 6, 8 at bits 26, 18, 10, 2.
type Subkey = [u32; 2];

/// The 16 subkeys of one DES key, in the order one pass uses them.
type Schedule = [Subkey; 16];

/// Runs the key schedule of one DES key (FIPS 46-3); the parity bits are ignored.
fn schedule(key: [u8; 8]) -> Schedule {
    let mut cd = permute(u64::from_be_bytes(key), 64, &PC1);
    let mut subkeys = [[0; 2]; 16];
    for (subkey, shift) in subkeys.iter_mut().zip(SHIFTS) {
        let c = rotate28(cd >> 28, shift);
        let d = rotate28(cd, shift);
        cd = (c << 28) | d;
        let mut k = permute(cd, 56, &PC2);
        let group = |i: u32| ((k >> (42 - 6 * i)) & 0x3f) as u32;
        *subkey = [
            (group(0) << 26) | (group(2) << 18) | (group(4) << 10) | (group(6) << 2),
            (group(1) << 26) | (group(3) << 18) | (group(5) << 10) | (group(7) << 2),
        ];
        k.zeroize();
    }
    cd.zeroize();
    subkeys
}

/// Rotates the low 28 bits of `half` left by `shift`.
fn rotate28(half: u64, shift: u32) -> u64 {
    let half = half & 0x0fff_ffff;
    ((half << shift) | (half >> (28 - shift))) & 0x0fff_ffff
}

/// Selects bits of the `width`-bit `input`, numbered from 1 at the most significant end as FIPS
/// 46-3 does; the first entry of `table` becomes the most significant bit of the result.
fn permute(input: u64, width: u32, table: &[u8]) -> u64 {
    table.iter().fold(0, |out, &bit| {
        (out << 1) | ((input >> (width - u32::from(bit))) & 1)
    })
}

/// Swaps the bits of `b` under `mask` with the bits of `a` under `mask << shift`.
#[inline(always)]
fn swap_move(a: &mut u32, b: &mut u32, shift: u32, mask: u32) {
    let t = ((*a >> shift) ^ *b) & mask;
    *b ^= t;
    *a ^= t << shift;
}

/// The initial permutation IP: a block to its two halves L0 and R0, rotated right by one.
#[inline(always)]
fn initial_permutation(block: [u8; 8]) -> (u32, u32) {
    let block = u64::from_be_bytes(block);
    let (mut l, mut r) = ((block >> 32) as u32, block as u32);
    swap_move(&mut l, &mut r, 4, 0x0f0f_0f0f);
    swap_move(&mut l, &mut r, 16, 0x0000_ffff);
    swap_move(&mut r, &mut l, 2, 0x3333_3333);
    swap_move(&mut r, &mut l, 8, 0x00ff_00ff);
    swap_move(&mut l, &mut r, 1, 0x5555_5555);
    (l.rotate_right(1), r.rotate_right(1))
}

/// The final permutation IP⁻¹ of the preoutput `left` `right` (that is, R16 L16), halves
/// rotated right by one.
#[inline(always)]
fn final_permutation(left: u32, right: u32) -> [u8; 8] {
    let (mut l, mut r) = (left.rotate_left(1), right.rotate_left(1));
    swap_move(&mut l, &mut r, 1, 0x5555_5555);
    swap_move(&mut r, &mut l, 8, 0x00ff_00ff);
    swap_move(&mut r, &mut l, 2, 0x3333_3333);
    swap_move(&mut l, &mut r, 16, 0x0000_ffff);
    swap_move(&mut l, &mut r, 4, 0x0f0f_0f0f);
    ((u64::from(l) << 32) | u64::from(r)).to_be_bytes()
}

/// The cipher function f(R, K) (FIPS 46-3), on and to halves rotated right by one.
#[inline(always)]
fn f(r: u32, subkey: Subkey) -> u32 {
    let odd = r ^ subkey[0];
    let even = r.rotate_left(4) ^ subkey[1];
    let sp = |j: usize, word: u32, at: u32| SP[j][((word >> at) & 0x3f) as usize];
    // The S-boxes write disjoint bits, so `|`, `+` and `^` all combine them. Mixing the three
    // keeps the tree balanced: the compiler would make one chain of eight XORs out of a tree of
    // XORs, and the lookups of one round would wait for each other (measured: 30% slower).
    ((sp(0, odd, 26) | sp(2, odd, 18)) + (sp(4, odd, 10) | sp(6, odd, 2)))
        ^ ((sp(1, even, 26) | sp(3, even, 18)) + (sp(5, even, 10) | sp(7, even, 2)))
}

/// The 16 rounds of one DES pass over `N` blocks side by side: Ln Rn to L16 R16, two rounds
/// per step so that the halves never move.
#[inline(always)]
fn rounds<const N: usize>(l: &mut [u32; N], r: &mut [u32; N], schedule: &Schedule) {
    for pair in schedule.chunks_exact(2) {
        for (l, r) in l.iter_mut().zip(r.iter_mut()) {
            *l ^= f(*r, pair[0]);
            *r ^= f(*l, pair[1]);
        }
    }
}

/// Three DES passes over `N` blocks with IP and FP once at the ends (SP 800-67 §3.2).
#[inline(always)]
fn crypt<const N: usize>(passes: &[Schedule; 3], blocks: [[u8; 8]; N]) -> [[u8; 8]; N] {
    let mut l = [0; N];
    let mut r = [0; N];
    for ((l, r), block) in l.iter_mut().zip(r.iter_mut()).zip(blocks) {
        (*l, *r) = initial_permutation(block);
    }
    // Each pass ends with L16 R16 and the next starts from IP(FP(R16 L16)) = R16 L16.
    rounds(&mut l, &mut r, &passes[0]);
    rounds(&mut r, &mut l, &passes[1]);
    rounds(&mut l, &mut r, &passes[2]);
    let mut out = [[0; 8]; N];
    for ((out, l), r) in out.iter_mut().zip(l).zip(r) {
        *out = final_permutation(r, l);
    }
    out
}

/// Three-key triple DES, EDE (SP 800-67): the subkeys for both directions, wiped on drop.
#[derive(Clone, Zeroize, ZeroizeOnDrop)]
pub(crate) struct TripleDes {
    /// k1 forward, k2 backward, k3 forward.
    encrypt: [Schedule; 3],
    /// k3 backward, k2 forward, k1 backward.
    decrypt: [Schedule; 3],
}

impl TripleDes {
    /// Runs the key schedules of k1, k2 and k3, the three 8-byte thirds of `key`.
    pub(crate) fn new(key: &[u8; KEY_LEN]) -> Self {
        let [k1, k2, k3]: [Schedule; 3] =
            core::array::from_fn(|i| schedule(core::array::from_fn(|j| key[8 * i + j])));
        let reversed = |mut schedule: Schedule| {
            schedule.reverse();
            schedule
        };
        Self {
            encrypt: [k1, reversed(k2), k3],
            decrypt: [reversed(k3), k2, reversed(k1)],
        }
    }

    /// Encrypts one block: E(k3, D(k2, E(k1, block))).
    pub(crate) fn encrypt_block(&self, block: [u8; 8]) -> [u8; 8] {
        let [out] = crypt(&self.encrypt, [block]);
        out
    }

    /// Decrypts one block: D(k1, E(k2, D(k3, block))).
    pub(crate) fn decrypt_block(&self, block: [u8; 8]) -> [u8; 8] {
        let [out] = crypt(&self.decrypt, [block]);
        out
    }

    /// CBC-encrypts the whole blocks of `data` in place (SP 800-38A §6.2); a partial block at
    /// the end is left alone.
    pub(crate) fn cbc_encrypt(&self, iv: [u8; 8], data: &mut [u8]) {
        let (blocks, _) = data.as_chunks_mut::<BLOCK_LEN>();
        let mut chain = iv;
        for block in blocks {
            chain = self.encrypt_block(xor(*block, chain));
            *block = chain;
        }
    }

    /// CBC-decrypts the whole blocks of `data` in place (SP 800-38A §6.2), [`LANES`] blocks at
    /// a time; a partial block at the end is left alone.
    pub(crate) fn cbc_decrypt(&self, iv: [u8; 8], data: &mut [u8]) {
        let (blocks, _) = data.as_chunks_mut::<BLOCK_LEN>();
        let (groups, rest) = blocks.as_chunks_mut::<LANES>();
        let mut chain = iv;
        for group in groups {
            let ciphertext = *group;
            let plaintext = crypt(&self.decrypt, ciphertext);
            for ((block, plain), previous) in group
                .iter_mut()
                .zip(plaintext)
                .zip(core::iter::once(chain).chain(ciphertext))
            {
                *block = xor(plain, previous);
            }
            chain = ciphertext[LANES - 1];
        }
        for block in rest {
            let ciphertext = *block;
            *block = xor(self.decrypt_block(ciphertext), chain);
            chain = ciphertext;
        }
    }
}

impl core::fmt::Debug for TripleDes {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str("TripleDes { .. }")
    }
}

fn xor(a: [u8; 8], b: [u8; 8]) -> [u8; 8] {
    (u64::from_ne_bytes(a) ^ u64::from_ne_bytes(b)).to_ne_bytes()
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloc::vec::Vec;
    use cbc::cipher::array::Array;
    use cbc::cipher::{BlockCipherDecrypt, BlockCipherEncrypt, BlockModeDecrypt, BlockModeEncrypt};
    use cbc::cipher::{KeyInit, KeyIvInit};

    /// The initial permutation IP (FIPS 46-3), for checking the swap-moves.
    const IP: [u8; 64] = [
        58, 50, 42, 34, 26, 18, 10, 2, 60, 52, 44, 36, 28, 20, 12, 4, //
        62, 54, 46, 38, 30, 22, 14, 6, 64, 56, 48, 40, 32, 24, 16, 8, //
        57, 49, 41, 33, 25, 17, 9, 1, 59, 51, 43, 35, 27, 19, 11, 3, //
        61, 53, 45, 37, 29, 21, 13, 5, 63, 55, 47, 39, 31, 23, 15, 7,
    ];

    /// The final permutation IP⁻¹ (FIPS 46-3).
    const FP: [u8; 64] = [
        40, 8, 48, 16, 56, 24, 64, 32, 39, 7, 47, 15, 55, 23, 63, 31, //
        38, 6, 46, 14, 54, 22, 62, 30, 37, 5, 45, 13, 53, 21, 61, 29, //
        36, 4, 44, 12, 52, 20, 60, 28, 35, 3, 43, 11, 51, 19, 59, 27, //
        34, 2, 42, 10, 50, 18, 58, 26, 33, 1, 41, 9, 49, 17, 57, 25,
    ];

    fn hex<const N: usize>(text: &str) -> [u8; N] {
        hex::decode(text).unwrap().try_into().unwrap()
    }

    /// Single DES as 3DES with k1 = k2 = k3 (SP 800-67 §3.3, keying option 3).
    fn des(key: &str) -> TripleDes {
        TripleDes::new(&hex(&key.repeat(3)))
    }

    fn reference(key: &[u8; KEY_LEN]) -> ::des::TdesEde3 {
        ::des::TdesEde3::new_from_slice(key).unwrap()
    }

    #[test]
    fn s_box_rows_are_permutations() {
        for j in 0..8 {
            for row in 0..4 {
                let mut seen = 0u16;
                for column in 0..16 {
                    seen |= 1 << s_box(j, row, column);
                }
                assert_eq!(seen, 0xffff);
            }
        }
    }

    #[test]
    fn swap_moves_are_ip_and_its_inverse() {
        let inputs = (0..64)
            .map(|i| 1u64 << i)
            .chain([0x0123_4567_89ab_cdef, u64::MAX]);
        for input in inputs {
            let (l, r) = initial_permutation(input.to_be_bytes());
            let (l, r) = (l.rotate_left(1), r.rotate_left(1));
            assert_eq!((u64::from(l) << 32) | u64::from(r), permute(input, 64, &IP));
            let (l, r) = ((input >> 32) as u32, input as u32);
            let out = final_permutation(l.rotate_right(1), r.rotate_right(1));
            assert_eq!(u64::from_be_bytes(out), permute(input, 64, &FP));
        }
    }

    /// FIPS 81 appendix B, tables B1 (ECB) and C1 (CBC): "Now is the time for all ".
    #[test]
    fn fips_81_examples() {
        let des = des("0123456789abcdef");
        let plaintext: [u8; 24] = *b"Now is the time for all ";
        let (blocks, _) = plaintext.as_chunks::<8>();
        let ecb: Vec<u8> = blocks.iter().flat_map(|b| des.encrypt_block(*b)).collect();
        assert_eq!(
            hex::encode(ecb),
            "3fa40e8a984d48156a271787ab8883f9893d51ec4b563b53"
        );
        let mut data = plaintext;
        des.cbc_encrypt(hex("1234567890abcdef"), &mut data);
        assert_eq!(
            hex::encode(data),
            "e5c7cdde872bf27c43e934008c389c0f683788499a7c05f6"
        );
        des.cbc_decrypt(hex("1234567890abcdef"), &mut data);
        assert_eq!(data, plaintext);
    }

    /// NIST SP 800-20 tables 1 and 2 (variable plaintext, variable key), first and last
    /// entries, and the worked example of J. Orlin Grabbe's "The DES Algorithm Illustrated".
    #[test]
    fn des_known_answers() {
        let cases = [
            ("0101010101010101", "8000000000000000", "95f8a5e5dd31d900"),
            ("0101010101010101", "4000000000000000", "dd7f121ca5015619"),
            ("0101010101010101", "0000000000000001", "166b40b44aba4bd6"),
            ("8001010101010101", "0000000000000000", "95a8d72813daa94d"),
            ("4001010101010101", "0000000000000000", "0eec1487dd8c26d5"),
            ("0101010101010180", "0000000000000000", "9cc62df43b6eed74"),
            ("133457799bbcdff1", "0123456789abcdef", "85e813540f0ab405"),
        ];
        for (key, plaintext, ciphertext) in cases {
            let des = des(key);
            assert_eq!(
                des.encrypt_block(hex(plaintext)),
                hex(ciphertext),
                "key {key}"
            );
            assert_eq!(
                des.decrypt_block(hex(ciphertext)),
                hex(plaintext),
                "key {key}"
            );
        }
    }

    /// The TDEA example of NIST SP 800-67 (Rev. 1, appendix B), ECB; the plaintext keeps the
    /// published typo "qufck".
    #[test]
    fn tdea_example() {
        let tdes = TripleDes::new(&hex("0123456789abcdef23456789abcdef01456789abcdef0123"));
        let plaintext = b"The qufck brown fox jump";
        let (blocks, _) = plaintext.as_chunks::<8>();
        let ciphertext: Vec<u8> = blocks.iter().flat_map(|b| tdes.encrypt_block(*b)).collect();
        assert_eq!(
            hex::encode(&ciphertext),
            "a826fd8ce53b855fcce21c8112256fe668d5c05dd9b6b900"
        );
        let (blocks, _) = ciphertext.as_chunks::<8>();
        let decrypted: Vec<u8> = blocks.iter().flat_map(|b| tdes.decrypt_block(*b)).collect();
        assert_eq!(decrypted, plaintext);
    }

    /// The low bit of each key byte is parity (FIPS 46-3) and changes nothing.
    #[test]
    fn parity_bits_are_ignored() {
        let key: [u8; KEY_LEN] = hex("0123456789abcdef23456789abcdef01456789abcdef0123");
        let flipped = key.map(|byte| byte ^ 1);
        let block = *b"parity!!";
        assert_eq!(
            TripleDes::new(&key).encrypt_block(block),
            TripleDes::new(&flipped).encrypt_block(block)
        );
    }

    /// Blocks, CBC over every length and the lanes of CBC decryption agree with RustCrypto's
    /// `des` and `cbc`, and decryption inverts encryption.
    #[test]
    fn agrees_with_rustcrypto() {
        bolero::check!()
            .with_type::<([u8; KEY_LEN], [u8; 8], Vec<u8>)>()
            .for_each(|(key, iv, data)| {
                let ours = TripleDes::new(key);
                let theirs = reference(key);
                let (blocks, _) = data.as_chunks::<8>();
                for block in blocks {
                    let mut expected = Array::from(*block);
                    theirs.encrypt_block(&mut expected);
                    assert_eq!(ours.encrypt_block(*block), expected.0);
                    let mut expected = Array::from(*block);
                    theirs.decrypt_block(&mut expected);
                    assert_eq!(ours.decrypt_block(*block), expected.0);
                }

                let whole = blocks.len() * BLOCK_LEN;
                let mut encrypted = data.clone();
                ours.cbc_encrypt(*iv, &mut encrypted);
                let mut expected = data[..whole].to_vec();
                let (chunks, _) = Array::slice_as_chunks_mut(&mut expected);
                cbc::Encryptor::<::des::TdesEde3>::new(&(*key).into(), &(*iv).into())
                    .encrypt_blocks(chunks);
                assert_eq!(encrypted[..whole], expected);
                assert_eq!(encrypted[whole..], data[whole..]);

                let mut decrypted = encrypted.clone();
                ours.cbc_decrypt(*iv, &mut decrypted);
                assert_eq!(&decrypted, data);
                let mut expected = encrypted[..whole].to_vec();
                let (chunks, _) = Array::slice_as_chunks_mut(&mut expected);
                cbc::Decryptor::<::des::TdesEde3>::new(&(*key).into(), &(*iv).into())
                    .decrypt_blocks(chunks);
                assert_eq!(decrypted[..whole], expected);
            });
    }

    #[test]
    fn subkeys_are_wiped() {
        fn wiped<T: ZeroizeOnDrop>() {}
        wiped::<TripleDes>();
        let mut tdes = des("0123456789abcdef");
        tdes.zeroize();
        assert!(
            tdes.encrypt
                .iter()
                .chain(&tdes.decrypt)
                .flatten()
                .flatten()
                .all(|&w| w == 0)
        );
    }
}
