//! Decrypt throughput per transform, on one core, for ~600-byte ESP packets (a DMVPN GRE packet
//! of 560 bytes inside).
//!
//! `cargo run --release -p dmvpn-esp --example esp_throughput [seconds per transform]`
//!
//! Each iteration copies the packet into a reused buffer and decrypts it in place, as a decoder
//! does; MB/s counts ESP packet bytes. Nothing is asserted: the numbers are for reports.

use std::hint::black_box;
use std::time::{Duration, Instant};

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
        let mut count = 0u64;
        let start = Instant::now();
        while start.elapsed() < budget {
            for _ in 0..256 {
                buffer.copy_from_slice(&packet);
                let decrypted = sa.decrypt_in_place(black_box(&mut buffer))?;
                black_box(decrypted.payload);
            }
            count += 256;
        }
        let elapsed = start.elapsed().as_secs_f64();
        let rate = count as f64 / elapsed;
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
    Ok(())
}
