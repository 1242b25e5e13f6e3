//! ESP packets built by an independent implementation: scapy's `SecurityAssociation`
//! (`tools/gen/gen_esp_vectors.py`, format documented there). Each vector must decrypt to its GRE
//! payload, and encrypting that payload with the same IV must give scapy's bytes exactly.

// Helpers outside `#[test]` functions parse the vector file: a panic there is a failed test.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use dmvpn_esp::{DecryptError, Encryption, Inbound, Integrity, NextHeader, Sa};

const VECTORS: &str = include_str!("../../../testdata/esp/vectors.txt");

struct Vector {
    line: usize,
    encryption: Encryption,
    integrity: Integrity,
    spi: u32,
    esn: bool,
    seq: u64,
    enc_key: Vec<u8>,
    auth_key: Vec<u8>,
    iv: Vec<u8>,
    next_header: NextHeader,
    payload: Vec<u8>,
    frame: Vec<u8>,
}

fn bytes(value: &str) -> Vec<u8> {
    if value == "-" {
        Vec::new()
    } else {
        hex::decode(value).unwrap()
    }
}

fn encryption(name: &str) -> Encryption {
    *Encryption::ALL
        .iter()
        .find(|e| format!("{e:?}") == name)
        .unwrap_or_else(|| panic!("encryption {name}"))
}

fn integrity(name: &str) -> Integrity {
    *Integrity::ALL
        .iter()
        .find(|i| format!("{i:?}") == name)
        .unwrap_or_else(|| panic!("integrity {name}"))
}

fn vectors() -> Vec<Vector> {
    let mut vectors = Vec::new();
    for (index, line) in VECTORS.lines().enumerate() {
        if line.starts_with('#') || line.trim().is_empty() {
            continue;
        }
        let field = |name: &str| {
            line.split(' ')
                .find_map(|pair| {
                    pair.strip_prefix(name)
                        .and_then(|rest| rest.strip_prefix('='))
                })
                .unwrap_or_else(|| panic!("line {}: no {name}", index + 1))
        };
        vectors.push(Vector {
            line: index + 1,
            encryption: encryption(field("encryption")),
            integrity: integrity(field("integrity")),
            spi: u32::from_str_radix(field("spi"), 16).unwrap(),
            esn: field("esn") == "1",
            seq: field("seq").parse().unwrap(),
            enc_key: bytes(field("enc_key")),
            auth_key: bytes(field("auth_key")),
            iv: bytes(field("iv")),
            next_header: NextHeader(field("next_header").parse().unwrap()),
            payload: bytes(field("payload")),
            frame: bytes(field("frame")),
        });
    }
    vectors
}

impl Vector {
    fn sa(&self) -> Sa {
        Sa::new(
            self.spi,
            self.encryption,
            &self.enc_key,
            self.integrity,
            &self.auth_key,
        )
        .unwrap()
        .with_esn(self.esn)
    }

    /// The ESP packet: the IPv4 payload in transport mode.
    fn esp(&self) -> &[u8] {
        assert_eq!(self.frame[9], dmvpn_esp::IP_PROTOCOL, "line {}", self.line);
        &self.frame[usize::from(self.frame[0] & 0x0f) * 4..]
    }
}

#[test]
fn every_combination_is_covered() {
    let vectors = vectors();
    assert_eq!(vectors.len(), 342);
    for encryption in Encryption::ALL {
        for integrity in Integrity::ALL {
            let count = vectors
                .iter()
                .filter(|v| v.encryption == encryption && v.integrity == integrity)
                .count();
            let expected = if encryption.is_aead() && integrity != Integrity::None {
                0
            } else {
                1
            };
            assert!(count >= expected, "{encryption:?} {integrity:?}");
        }
    }
    assert!(vectors.iter().any(|v| v.esn && v.encryption.is_aead()));
    assert!(
        vectors
            .iter()
            .any(|v| v.esn && v.integrity == Integrity::HmacSha512_256)
    );
    for key_len in [16, 24, 32] {
        assert!(
            vectors
                .iter()
                .any(|v| v.encryption == Encryption::AesCbc && v.enc_key.len() == key_len)
        );
        assert!(
            vectors
                .iter()
                .any(|v| v.encryption == Encryption::AesGcm16 && v.enc_key.len() == key_len + 4)
        );
    }
}

#[test]
fn decrypt_scapy_packets() {
    let mut scratch = Vec::new();
    for v in vectors() {
        let sa = v.sa();
        let mut packet = v.esp().to_vec();
        let decrypted = sa
            .decrypt_in_place_esn(&mut packet, (v.seq >> 32) as u32)
            .unwrap_or_else(|err| {
                panic!("line {}: {err}", v.line);
            });
        assert_eq!(decrypted.payload, v.payload, "line {}", v.line);
        assert_eq!(decrypted.next_header, v.next_header, "line {}", v.line);
        assert_eq!(
            (decrypted.spi, decrypted.seq),
            (v.spi, v.seq),
            "line {}",
            v.line
        );
        // The copying form gives the same result.
        if !v.esn {
            assert_eq!(
                sa.decrypt(v.esp(), &mut scratch).unwrap().payload,
                v.payload
            );
        }
    }
}

#[test]
fn encrypt_reproduces_scapy_bytes() {
    let mut out = Vec::new();
    for v in vectors() {
        v.sa()
            .encrypt(v.seq, &v.iv, v.next_header, &v.payload, &mut out)
            .unwrap();
        assert_eq!(hex::encode(&out), hex::encode(v.esp()), "line {}", v.line);
    }
}

#[test]
fn every_flipped_bit_fails_the_integrity_check() {
    for v in vectors()
        .iter()
        .filter(|v| v.integrity != Integrity::None || v.encryption.is_aead())
        .step_by(7)
    {
        let sa = v.sa();
        let esp = v.esp();
        for bit in 0..esp.len() * 8 {
            let mut packet = esp.to_vec();
            packet[bit / 8] ^= 1 << (bit % 8);
            let low = u32::from_be_bytes(packet[4..8].try_into().unwrap());
            let seq = (v.seq >> 32 << 32) | u64::from(low);
            let err = sa
                .decrypt_in_place_esn(&mut packet, (v.seq >> 32) as u32)
                .unwrap_err();
            let expected = if bit < 32 {
                DecryptError::SpiMismatch {
                    expected: v.spi,
                    found: v.spi ^ (1 << (31 - 8 * (bit / 8) - (7 - bit % 8))),
                }
            } else {
                DecryptError::IntegrityCheckFailed { spi: v.spi, seq }
            };
            assert_eq!(err, expected, "line {} bit {bit}", v.line);
        }
    }
}

#[test]
fn esn_high_bits_are_authenticated() {
    for v in vectors()
        .iter()
        .filter(|v| v.esn && (v.integrity != Integrity::None || v.encryption.is_aead()))
    {
        let high = (v.seq >> 32) as u32;
        let err = v
            .sa()
            .decrypt_in_place_esn(&mut v.esp().to_vec(), high + 1)
            .unwrap_err();
        assert!(
            matches!(err, DecryptError::IntegrityCheckFailed { .. }),
            "line {}: {err}",
            v.line
        );
    }
}

#[test]
fn inbound_rejects_the_second_copy() {
    for v in vectors().iter().filter(|v| !v.esn) {
        let mut inbound: Inbound = Inbound::new(v.sa());
        let mut scratch = Vec::new();
        assert_eq!(
            inbound.decrypt(v.esp(), &mut scratch).unwrap().payload,
            v.payload
        );
        assert_eq!(
            inbound.decrypt(v.esp(), &mut scratch),
            Err(DecryptError::Replayed { seq: v.seq })
        );
        assert_eq!(inbound.window().top(), v.seq);
    }
}
