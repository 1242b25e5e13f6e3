//! Decrypt throughput per transform, on one core, for ~600-byte ESP packets (a DMVPN GRE packet
//! of 560 bytes inside).
//!
//! `cargo run --release -p dmvpn-esp --example esp_throughput [seconds per transform]`
//!
//! Each iteration copies the packet into a reused buffer and decrypts it in place, as a decoder
//! does; MB/s counts ESP packet bytes. Nothing is asserted: the numbers are for reports.
//!
//! A second table puts the crate's 3DES-CBC next to RustCrypto's `des` + `cbc` (the reference
//! the tests check it against) on the same bytes: CBC over the encrypted part of the packet,
//! then over 64 KiB. Rates are wall-clock: on a shared machine, read the ratio column. `openssl
//! speed -evp des-ede3-cbc` (add `-decrypt` for decryption) divides by CPU time instead.

use std::hint::black_box;
use std::time::{Duration, Instant};

use cbc::cipher::array::Array;
use cbc::cipher::{BlockModeDecrypt, BlockModeEncrypt, KeyIvInit};
use dmvpn_esp::{Encryption, Integrity, NextHeader, Sa};

const PAYLOAD_LEN: usize = 560;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let seconds: f64 = std::env::args()
        .nth(1)
        .map(|arg| arg.parse())
        .transpose()?
        .unwrap_or(0.5);
    let budget = Duration::from_secs_f64(seconds);
    let transforms = [
        (Encryption::Null, 0, Integrity::HmacSha1_96),
        (Encryption::TripleDesCbc, 24, Integrity::HmacSha1_96),
        (Encryption::AesCbc, 16, Integrity::HmacSha1_96),
        (Encryption::AesCbc, 32, Integrity::HmacSha1_96),
        (Encryption::AesCbc, 16, Integrity::HmacMd5_96),
        (Encryption::AesCbc, 16, Integrity::HmacSha256_128),
        (Encryption::AesCbc, 32, Integrity::HmacSha512_256),
        (Encryption::AesGcm16, 20, Integrity::None),
        (Encryption::AesGcm16, 36, Integrity::None),
        (Encryption::AesGcm8, 20, Integrity::None),
    ];
    let payload: Vec<u8> = (0..PAYLOAD_LEN).map(|i| i as u8).collect();
    println!(
        "{:<16} {:>4} {:<16} {:>6} {:>10} {:>12}",
        "encryption", "key", "integrity", "bytes", "MB/s", "packets/s"
    );
    for (encryption, key_len, integrity) in transforms {
        let sa = Sa::new(
            0x1001,
            encryption,
            &vec![0x42; key_len],
            integrity,
            &vec![0x17; integrity.key_len()],
        )?;
        let mut packet = Vec::new();
        sa.encrypt(
            1,
            &vec![0x5a; sa.iv_len()],
            NextHeader::GRE,
            &payload,
            &mut packet,
        )?;
        let mut buffer = vec![0; packet.len()];
        let rate = per_second(budget, || {
            buffer.copy_from_slice(&packet);
            let decrypted = sa.decrypt_in_place(black_box(&mut buffer))?;
            black_box(decrypted.payload);
            Ok(())
        })?;
        println!(
            "{:<16} {:>4} {:<16} {:>6} {:>10.1} {:>12.0}",
            format!("{encryption:?}"),
            key_len,
            format!("{integrity:?}"),
            packet.len(),
            rate * packet.len() as f64 / 1e6,
            rate
        );
    }
    println!();
    compare_triple_des(budget)
}

/// 3DES-CBC MB/s of RustCrypto and of this crate, decrypting and encrypting the same bytes in
/// place. This crate's 3DES is only reachable through an `Sa`: with NULL integrity, its
/// decryption is CBC plus a trailer check, its encryption CBC plus copying the payload in.
fn compare_triple_des(budget: Duration) -> Result<(), Box<dyn std::error::Error>> {
    const KEY: [u8; 24] = *b"0123456789abcdefghijklmn";
    const IV: [u8; 8] = [0x5a; 8];
    println!(
        "{:<28} {:>6} {:>14} {:>14} {:>7}",
        "3DES-CBC", "bytes", "RustCrypto MB/s", "dmvpn-esp MB/s", "ratio"
    );
    let sa = Sa::new(0x1001, Encryption::TripleDesCbc, &KEY, Integrity::None, &[])?;
    for len in [PAYLOAD_LEN, 64 * 1024] {
        // The payload plus two bytes of trailer fills whole blocks: no padding.
        let payload: Vec<u8> = (0..len - 2).map(|i| i as u8).collect();
        let mut packet = Vec::new();
        sa.encrypt(1, &IV, NextHeader::GRE, &payload, &mut packet)?;
        let mut buffer = packet.clone();
        let ciphertext = packet[16..].to_vec();
        let mut blocks = ciphertext.clone();

        let theirs = per_second(budget, || {
            blocks.copy_from_slice(&ciphertext);
            rustcrypto_cbc(&KEY, &IV, &mut blocks, true);
            Ok(())
        })?;
        let ours = per_second(budget, || {
            buffer.copy_from_slice(&packet);
            black_box(sa.decrypt_in_place(black_box(&mut buffer))?.payload);
            Ok(())
        })?;
        report("decrypt", len, theirs, ours);

        let theirs = per_second(budget, || {
            rustcrypto_cbc(&KEY, &IV, &mut blocks, false);
            Ok(())
        })?;
        let ours = per_second(budget, || {
            sa.encrypt(1, &IV, NextHeader::GRE, black_box(&payload), &mut buffer)?;
            black_box(&buffer);
            Ok(())
        })?;
        report("encrypt", len, theirs, ours);
    }
    Ok(())
}

/// RustCrypto's 3DES-CBC over `blocks` in place: decrypting, or encrypting.
fn rustcrypto_cbc(key: &[u8; 24], iv: &[u8; 8], blocks: &mut [u8], decrypt: bool) {
    let (chunks, _) = Array::slice_as_chunks_mut(blocks);
    if decrypt {
        cbc::Decryptor::<des::TdesEde3>::new(key.into(), iv.into()).decrypt_blocks(chunks);
    } else {
        cbc::Encryptor::<des::TdesEde3>::new(key.into(), iv.into()).encrypt_blocks(chunks);
    }
    black_box(blocks);
}

fn report(direction: &str, len: usize, theirs: f64, ours: f64) {
    let mb = |rate: f64| rate * len as f64 / 1e6;
    println!(
        "{:<28} {:>6} {:>14.1} {:>14.1} {:>6.2}x",
        direction,
        len,
        mb(theirs),
        mb(ours),
        ours / theirs
    );
}

/// Runs `step` repeatedly for `budget` and returns how many times per second it ran.
fn per_second(
    budget: Duration,
    mut step: impl FnMut() -> Result<(), Box<dyn std::error::Error>>,
) -> Result<f64, Box<dyn std::error::Error>> {
    let mut count = 0u64;
    let start = Instant::now();
    while start.elapsed() < budget {
        for _ in 0..16 {
            step()?;
        }
        count += 16;
    }
    Ok(count as f64 / start.elapsed().as_secs_f64())
}
