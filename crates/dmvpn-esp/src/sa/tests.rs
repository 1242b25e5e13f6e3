use super::*;
use alloc::format;
use alloc::string::ToString;
use alloc::vec;

/// RFC 3602 §4 cases 1–4: raw AES-128-CBC (key, IV, plaintext, ciphertext).
#[rustfmt::skip]
const RAW_CBC: [(&str, &str, &str, &str); 4] = [
    ("06a9214036b8a15b512e03d534120006", "3dafba429d9eb430b422da802c9fac41",
     "53696e676c6520626c6f636b206d7367", "e353779c1079aeb82708942dbe77181a"),
    ("c286696d887c9aa0611bbb3e2025a45a", "562e17996d093d28ddb3ba695a2e6f58",
     "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f",
     "d296cd94c2cccf8a3a863028b5e1dc0a7586602d253cfff91b8266bea6d61ab1"),
    ("6c3ea0477630ce21a2ce334aa746c2cd", "c782dc4c098c66cbd9cd27d825682c81",
     "5468697320697320612034382d62797465206d657373616765202865786163746c7920332041455320626c6f636b7329",
     "d0a02b3836451753d493665d33f0e8862dea54cdb293abc7506939276772f8d5021c19216bad525c8579695d83ba2684"),
    ("56e47a38c5598974bc46903dba290349", "8ce82eefbea0da3c44699ed7db51b7d9",
     "a0a1a2a3a4a5a6a7a8a9aaabacadaeafb0b1b2b3b4b5b6b7b8b9babbbcbdbebfc0c1c2c3c4c5c6c7c8c9cacbcccdcecfd0d1d2d3d4d5d6d7d8d9dadbdcdddedf",
     "c30e32ffedc0774e6aff6af0869f71aa0f3af07a9a31a9c684db207eb0ef8e4e35907aa632c3ffdf868bb7b29d3d46ad83ce9f9a102ee99d49a53e87f4c3da55"),
];

/// RFC 3602 §4 cases 5–8: ESP packets without the outer IP header (key, SPI, sequence number,
/// next header, payload, packet from SPI to the end of the ciphertext).
#[rustfmt::skip]
const ESP_CBC: [(&str, u32, u32, u8, &str, &str); 4] = [
    ("90d382b410eeba7ad938c46cec1a82bf", 0x4321, 1, 1, "08000ebda70a00008e9c083db95b070008090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f202122232425262728292a2b2c2d2e2f3031323334353637", "0000432100000001e96e8c08ab465763fd098d45dd3ff893f663c25d325c18c6a9453e194e120849a4870b66cc6b9965330013b4898dc856a4699e523a55db080b59ec3a8e4b7e52775b07d1db34ed9c538ab50c551b874aa269add047ad2d5913ac19b7cfbad4a6"),
    ("90d382b410eeba7ad938c46cec1a82bf", 0x4321, 8, 1, "0800b5e8a80a0500a69c083d0b660e00777777777777777777777777", "000043210000000869d08df7d203329db093fc4924e5bd80f51995881ec4e0c4488987ce742e8109689bb379d2d750c0d915dca346a89f75"),
    ("0123456789abcdef0123456789abcdef", 0x8765, 2, 4, "45000054090400004001f988c0a87b03c0a87bc808009f76a90a0100b49c083d02a2040008090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f202122232425262728292a2b2c2d2e2f3031323334353637", "0000876500000002f4e765244f6407adf13dc1380f673f37773b5241a4c449225e4f3ce5ed611b0c237ca96cf74a93013c1b0ea1a0cf70f8e4ecaec78ac53aad7a0f022b859243c647752e94a859352b8a4d4d2decd136e5c177f132ad3fbfb2201ac9904c74ee0a109e0ca1e4dfe9d5a100b842f1c22f0d"),
    ("0123456789abcdef0123456789abcdef", 0x8765, 5, 4, "45000044090c00004001f990c0a87b03c0a87bc80800d63caa0a0200c69c083da3de0300ffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff", "000087650000000585d47224b5f3dd5d2101d4ea8dffab2215b92683819596a8047232cc00f7048fe45318e11f8a0f62ede3c3fc61203bb50f980a08c9843fd3a1b06d5c07ff9639b7eb7dfb3512e5de435e7207ed971ef3d2726d9b5ef6affc6d17a0decbb13892"),
];

fn unhex(text: &str) -> Vec<u8> {
    hex::decode(text).unwrap()
}

#[test]
fn rfc3602_raw_cbc() {
    for (key, iv, plaintext, ciphertext) in RAW_CBC {
        let cipher = Cipher::new(Encryption::AesCbc, &unhex(key)).unwrap();
        let mut data = unhex(plaintext);
        cipher.cbc_encrypt(&unhex(iv), &mut data);
        assert_eq!(hex::encode(&data), ciphertext);
        cipher.cbc_decrypt(&unhex(iv), &mut data);
        assert_eq!(hex::encode(&data), plaintext);
    }
}

#[test]
fn rfc3602_esp_decrypt_and_encrypt() {
    for (key, spi, seq, next_header, payload, packet) in ESP_CBC {
        let sa = Sa::new(spi, Encryption::AesCbc, &unhex(key), Integrity::None, &[]).unwrap();
        let mut bytes = unhex(packet);
        let decrypted = sa.decrypt_in_place(&mut bytes).unwrap();
        assert_eq!(decrypted.spi, spi);
        assert_eq!(decrypted.seq, u64::from(seq));
        assert_eq!(decrypted.next_header, NextHeader(next_header));
        assert_eq!(hex::encode(decrypted.payload), payload);
        let mut out = Vec::new();
        let iv = &unhex(packet)[8..24];
        sa.encrypt(
            u64::from(seq),
            iv,
            NextHeader(next_header),
            &unhex(payload),
            &mut out,
        )
        .unwrap();
        assert_eq!(hex::encode(&out), packet);
        assert_eq!(sa.encrypted_len(unhex(payload).len()), out.len());
    }
}

/// RFC 3602 case 6 with HMAC-SHA-1-96 (key 0x0b × 20): 8 + 16 + 32 + 12 bytes.
fn authenticated_packet() -> (Sa, Vec<u8>) {
    let (key, spi, seq, next_header, payload, packet) = ESP_CBC[1];
    let sa = Sa::new(
        spi,
        Encryption::AesCbc,
        &unhex(key),
        Integrity::HmacSha1_96,
        &[0x0b; 20],
    )
    .unwrap();
    let mut out = Vec::new();
    sa.encrypt(
        u64::from(seq),
        &unhex(packet)[8..24],
        NextHeader(next_header),
        &unhex(payload),
        &mut out,
    )
    .unwrap();
    (sa, out)
}

/// The truncation error for `field` at `offset`, short of `needed` bytes with `available`.
fn truncated(field: &'static str, offset: usize, needed: usize, available: usize) -> DecryptError {
    DecryptError::Truncated {
        field,
        offset,
        needed,
        available,
    }
}

#[test]
fn truncation() {
    let (sa, mut packet) = authenticated_packet();
    assert_eq!(packet.len(), 68);
    for len in 0..packet.len() {
        let mut prefix = packet[..len].to_vec();
        let err = sa.decrypt_in_place(&mut prefix).unwrap_err();
        let ct_len = len.saturating_sub(36);
        let expected = match len {
            0..4 => truncated("spi", 0, 4, len),
            4..8 => truncated("sequence number", 4, 4, len - 4),
            8..24 => truncated("iv", 8, 16, len - 8),
            24..36 => truncated("icv", 24, 12, len - 24),
            36..38 => truncated("trailer", 24, 2, ct_len),
            _ if ct_len % 16 != 0 => DecryptError::BadCiphertextLength {
                offset: 24,
                len: ct_len,
                block_size: 16,
            },
            _ => DecryptError::IntegrityCheckFailed {
                spi: 0x4321,
                seq: 8,
            },
        };
        assert_eq!(err, expected, "prefix of {len} bytes");
    }
    assert!(sa.decrypt_in_place(&mut packet).is_ok());
}

#[test]
fn decrypt_errors_and_messages() {
    let (sa, packet) = authenticated_packet();
    let cases: [(DecryptError, &str); 4] = [
        (
            sa.decrypt_in_place(&mut packet[..30].to_vec()).unwrap_err(),
            "esp: truncated reading `icv` at offset 24: need 12 bytes, have 6",
        ),
        (
            sa.decrypt_in_place(&mut packet[..60].to_vec()).unwrap_err(),
            "esp: ciphertext of 24 bytes at offset 24 is not a multiple of the 16-byte block",
        ),
        (
            Sa::new(7, Encryption::Null, &[], Integrity::None, &[])
                .unwrap()
                .decrypt_in_place(&mut packet.clone())
                .unwrap_err(),
            "esp: packet spi 0x00004321 does not match the sa spi 0x00000007",
        ),
        (
            {
                let mut tampered = packet.clone();
                tampered[67] ^= 0x80;
                sa.decrypt_in_place(&mut tampered).unwrap_err()
            },
            "esp: integrity check failed for spi 0x00004321 sequence number 8",
        ),
    ];
    for (err, text) in cases {
        assert_eq!(err.to_string(), text);
    }
    assert_eq!(
        DecryptError::BadPadLength {
            offset: 30,
            pad_len: 40,
            available: 6
        }
        .at_offset(8)
        .to_string(),
        "esp: pad length 40 at offset 38 exceeds the 6 bytes before it"
    );
    assert_eq!(
        DecryptError::Truncated {
            field: "iv",
            offset: 8,
            needed: 16,
            available: 3
        }
        .at_offset(14)
        .to_string(),
        "esp: truncated reading `iv` at offset 22: need 16 bytes, have 3"
    );
    assert_eq!(
        DecryptError::TooOld { seq: 3, lowest: 9 }.at_offset(5),
        DecryptError::TooOld { seq: 3, lowest: 9 }
    );
}

/// With NULL encryption the trailer is readable, so bad padding can be authenticated.
#[test]
fn padding_errors_are_reported_after_the_icv_check() {
    let sa = Sa::new(
        0x99,
        Encryption::Null,
        &[],
        Integrity::HmacSha256_128,
        &[7; 32],
    )
    .unwrap();
    let mut packet = Vec::new();
    sa.encrypt(3, &[], NextHeader::GRE, &[0xaa; 3], &mut packet)
        .unwrap();
    // 8 header + 3 payload + 3 padding + 2 + 16 ICV.
    assert_eq!(packet.len(), 32);
    assert_eq!(&packet[11..16], &[1, 2, 3, 3, 47]);
    let resign = |packet: &mut Vec<u8>| {
        let icv_at = packet.len() - 16;
        let mut icv = [0; 16];
        sa.mac.compute(&packet[..icv_at], None, &mut icv);
        packet[icv_at..].copy_from_slice(&icv);
    };
    let mut bad = packet.clone();
    bad[12] = 9;
    resign(&mut bad);
    let err = sa.decrypt_in_place(&mut bad.clone()).unwrap_err();
    assert_eq!(
        err,
        DecryptError::BadPadding {
            offset: 12,
            expected: 2,
            found: 9
        }
    );
    let lax = Sa::new(
        0x99,
        Encryption::Null,
        &[],
        Integrity::HmacSha256_128,
        &[7; 32],
    )
    .unwrap()
    .with_padding_check(PaddingCheck::Ignore);
    assert_eq!(lax.padding_check(), PaddingCheck::Ignore);
    assert_eq!(lax.decrypt_in_place(&mut bad).unwrap().payload, [0xaa; 3]);
    let mut bad = packet.clone();
    bad[14] = 9;
    resign(&mut bad);
    let err = sa.decrypt_in_place(&mut bad).unwrap_err();
    assert_eq!(
        err,
        DecryptError::BadPadLength {
            offset: 14,
            pad_len: 9,
            available: 6
        }
    );
}

#[test]
fn encrypt_errors_and_messages() {
    let (sa, _) = authenticated_packet();
    let mut out = Vec::new();
    let err = sa
        .encrypt(1, &[0; 8], NextHeader::GRE, &[], &mut out)
        .unwrap_err();
    assert_eq!(
        err,
        EncryptError::IvLength {
            encryption: Encryption::AesCbc,
            expected: 16,
            len: 8
        }
    );
    assert_eq!(err.to_string(), "esp: AesCbc needs a 16-byte iv, got 8");
    let err = sa
        .encrypt(1 << 32, &[0; 16], NextHeader::GRE, &[], &mut out)
        .unwrap_err();
    assert_eq!(
        err.to_string(),
        "esp: sequence number 0x100000000 needs extended sequence numbers"
    );
    let mut small = [0; 40];
    let err = sa
        .encrypt_in_place(1, &[0; 16], NextHeader::GRE, &mut small, 10)
        .unwrap_err();
    assert_eq!(
        err,
        EncryptError::BufferTooSmall {
            needed: 52,
            available: 40
        }
    );
    assert_eq!(
        err.to_string(),
        "esp: buffer of 40 bytes is too small for the 52-byte packet"
    );
}

#[test]
fn key_errors_and_messages() {
    let cases = [
        (
            Sa::new(1, Encryption::AesCbc, &[0; 20], Integrity::None, &[]).unwrap_err(),
            "esp: AesCbc key is 20 bytes, expected 16, 24 or 32",
        ),
        (
            Sa::new(1, Encryption::TripleDesCbc, &[0; 16], Integrity::None, &[]).unwrap_err(),
            "esp: TripleDesCbc key is 16 bytes, expected 24",
        ),
        (
            Sa::new(1, Encryption::AesGcm16, &[0; 16], Integrity::None, &[]).unwrap_err(),
            "esp: AesGcm16 key is 16 bytes, expected 20, 28 or 36 (key and 4-byte salt)",
        ),
        (
            Sa::new(1, Encryption::Null, &[0; 1], Integrity::None, &[]).unwrap_err(),
            "esp: Null key is 1 bytes, expected 0",
        ),
        (
            Sa::new(1, Encryption::Null, &[], Integrity::HmacSha1_96, &[0; 16]).unwrap_err(),
            "esp: HmacSha1_96 key is 16 bytes, expected 20",
        ),
        (
            Sa::new(
                1,
                Encryption::AesGcm8,
                &[0; 20],
                Integrity::HmacMd5_96,
                &[0; 16],
            )
            .unwrap_err(),
            "esp: AesGcm8 authenticates by itself and takes no HmacMd5_96",
        ),
    ];
    for (err, text) in cases {
        assert_eq!(err.to_string(), text);
    }
    for encryption in Encryption::ALL {
        for integrity in Integrity::ALL {
            let key_len = match encryption {
                Encryption::Null => 0,
                Encryption::TripleDesCbc => 24,
                Encryption::AesCbc => 16,
                _ => 20,
            };
            let result = Sa::new(
                1,
                encryption,
                &vec![1; key_len],
                integrity,
                &vec![2; integrity.key_len()],
            );
            assert_eq!(
                result.is_ok(),
                !encryption.is_aead() || integrity == Integrity::None
            );
        }
    }
}

#[test]
fn wireshark_names() {
    for encryption in Encryption::ALL {
        assert_eq!(
            Encryption::from_wireshark_name(encryption.wireshark_name()),
            Some(encryption)
        );
    }
    for integrity in Integrity::ALL {
        assert_eq!(
            Integrity::from_wireshark_name(integrity.wireshark_name()),
            Some(integrity)
        );
    }
    assert_eq!(
        Encryption::from_wireshark_name("AES-GCM [RFC4106]"),
        Some(Encryption::AesGcm16)
    );
    assert_eq!(Encryption::from_wireshark_name("AES-CTR [RFC3686]"), None);
    assert_eq!(
        Integrity::from_wireshark_name("HMAC-SHA-256-96 [draft-ietf-ipsec-ciph-sha-256-00]"),
        None
    );
}

#[test]
fn sizes() {
    let sa = Sa::new(1, Encryption::AesGcm12, &[0; 36], Integrity::None, &[])
        .unwrap()
        .with_esn(true);
    assert_eq!(
        (sa.iv_len(), sa.icv_len(), sa.payload_offset(), sa.esn()),
        (8, 12, 16, true)
    );
    // 16 + (5 payload + 1 padding + 2) + 12.
    assert_eq!(sa.encrypted_len(5), 36);
    let sa = Sa::new(
        1,
        Encryption::TripleDesCbc,
        &[0; 24],
        Integrity::HmacSha512_256,
        &[0; 64],
    )
    .unwrap();
    assert_eq!(
        (sa.iv_len(), sa.icv_len(), sa.encrypted_len(7)),
        (8, 32, 8 + 8 + 16 + 32)
    );
    assert_eq!(
        (sa.encryption(), sa.integrity()),
        (Encryption::TripleDesCbc, Integrity::HmacSha512_256)
    );
    assert_eq!(sa.encrypted_len(usize::MAX), usize::MAX);
}

#[test]
fn unchecked_icv_is_skipped_not_verified() {
    let key = [0x42; 16];
    let checked = Sa::new(
        7,
        Encryption::AesCbc,
        &key,
        Integrity::HmacSha1_96,
        &[9; 20],
    )
    .unwrap();
    let mut packet = Vec::new();
    checked
        .encrypt(3, &[1; 16], NextHeader::GRE, b"inner packet", &mut packet)
        .unwrap();
    let unchecked = Sa::new(7, Encryption::AesCbc, &key, Integrity::None, &[])
        .unwrap()
        .with_unchecked_icv(12)
        .unwrap();
    assert_eq!(
        (unchecked.icv_len(), unchecked.unchecked_icv_len()),
        (12, 12)
    );
    assert!(checked.icv_checked() && !unchecked.icv_checked());
    // A corrupted ICV fails the checked SA and does not matter to the unchecked one.
    let last = packet.len() - 1;
    packet[last] ^= 0xff;
    let mut scratch = Vec::new();
    assert_eq!(
        checked.decrypt(&packet, &mut scratch).unwrap_err(),
        DecryptError::IntegrityCheckFailed { spi: 7, seq: 3 }
    );
    let decrypted = unchecked.decrypt(&packet, &mut scratch).unwrap();
    assert_eq!(
        (decrypted.next_header, decrypted.payload),
        (NextHeader::GRE, &b"inner packet"[..])
    );
    // Without the unchecked ICV the ICV is taken for ciphertext: not whole blocks.
    let plain = Sa::new(7, Encryption::AesCbc, &key, Integrity::None, &[]).unwrap();
    assert!(matches!(
        plain.decrypt(&packet, &mut scratch),
        Err(DecryptError::BadCiphertextLength { .. })
    ));
    // NULL encryption, 256-bit unchecked ICV: encrypting writes zeros there.
    let null = Sa::new(8, Encryption::Null, &[], Integrity::None, &[])
        .unwrap()
        .with_unchecked_icv(32)
        .unwrap();
    null.encrypt(1, &[], NextHeader::IPV4, b"abc", &mut packet)
        .unwrap();
    assert_eq!(packet.len(), null.encrypted_len(3));
    assert_eq!(packet[packet.len() - 32..], [0; 32]);
    let decrypted = null.decrypt(&packet, &mut scratch).unwrap();
    assert_eq!(decrypted.payload, b"abc");
    // Too short for the unchecked ICV.
    assert_eq!(
        null.decrypt(&packet[..20], &mut scratch).unwrap_err(),
        DecryptError::Truncated {
            field: "icv",
            offset: 8,
            needed: 32,
            available: 12
        }
    );
}

#[test]
fn check_keys_agrees_with_new() {
    for encryption in Encryption::ALL {
        for integrity in Integrity::ALL {
            for enc_len in [0, 8, 16, 20, 24, 28, 32, 36, 40] {
                for int_len in [0, 16, 20, 32, 48, 64, 12] {
                    let (ek, ik) = (vec![0x5a; enc_len], vec![0xa5; int_len]);
                    assert_eq!(
                        Sa::check_keys(encryption, &ek, integrity, &ik),
                        Sa::new(1, encryption, &ek, integrity, &ik).map(|_| ()),
                        "{encryption:?} {enc_len} {integrity:?} {int_len}"
                    );
                }
            }
        }
    }
}

#[test]
fn unchecked_icv_errors() {
    let gcm = Sa::new(1, Encryption::AesGcm16, &[0; 20], Integrity::None, &[]).unwrap();
    let err = gcm.with_unchecked_icv(16).unwrap_err();
    assert_eq!(
        err.to_string(),
        "esp: an unchecked ICV needs an SA without integrity; AesGcm16 with None has its own ICV"
    );
    let hmac = Sa::new(1, Encryption::Null, &[], Integrity::HmacMd5_96, &[0; 16]).unwrap();
    assert!(matches!(
        hmac.with_unchecked_icv(12),
        Err(KeyError::UncheckedIcvWithIcv { .. })
    ));
    let null = Sa::new(1, Encryption::Null, &[], Integrity::None, &[]).unwrap();
    assert_eq!(
        null.with_unchecked_icv(33).unwrap_err().to_string(),
        "esp: an unchecked ICV of 33 bytes is longer than 32"
    );
    let none = Sa::new(1, Encryption::Null, &[], Integrity::None, &[])
        .unwrap()
        .with_unchecked_icv(0)
        .unwrap();
    assert!(!none.icv_checked());
    assert_eq!(none.icv_len(), 0);
    // 0 is no unchecked ICV, which any SA may have.
    let gcm = Sa::new(1, Encryption::AesGcm16, &[0; 20], Integrity::None, &[]).unwrap();
    assert!(gcm.with_unchecked_icv(0).unwrap().icv_checked());
}

#[test]
fn debug_has_no_key_material() {
    let sa = Sa::new(
        0x4321,
        Encryption::AesGcm16,
        &[0xab; 20],
        Integrity::None,
        &[],
    )
    .unwrap();
    let text = format!("{sa:?}");
    assert_eq!(
        text,
        "Sa { spi: 0x00004321, encryption: AesGcm16, integrity: None, unchecked_icv: 0, esn: false, padding: Monotonic, .. }"
    );
}

/// RFC 4106 AES-GCM against the independent `aes-gcm` API with a 16-byte tag, with and
/// without ESN (the AAD is SPI ‖ seq, or SPI ‖ ESN-high ‖ seq-low, §5).
#[test]
fn gcm_layout_matches_rfc4106() {
    use aes_gcm::aead::{Aead, KeyInit as _, Payload};
    let key: Vec<u8> = (0..20).collect();
    for esn in [false, true] {
        let sa = Sa::new(
            0x1234_5678,
            Encryption::AesGcm16,
            &key,
            Integrity::None,
            &[],
        )
        .unwrap()
        .with_esn(esn);
        let seq = if esn { 0x0000_0003_0000_0009 } else { 9 };
        let mut packet = Vec::new();
        sa.encrypt(seq, &[0xee; 8], NextHeader::GRE, b"gre!", &mut packet)
            .unwrap();
        let mut nonce = [0; 12];
        nonce[..4].copy_from_slice(&key[16..]);
        nonce[4..].copy_from_slice(&[0xee; 8]);
        let aad: &[u8] = if esn {
            &[0x12, 0x34, 0x56, 0x78, 0, 0, 0, 3, 0, 0, 0, 9]
        } else {
            &packet[..8]
        };
        let reference = aes_gcm::Aes128Gcm::new_from_slice(&key[..16]).unwrap();
        let sealed = reference
            .encrypt(
                &nonce.into(),
                Payload {
                    msg: b"gre!\x01\x02\x02\x2f",
                    aad,
                },
            )
            .unwrap();
        assert_eq!(packet[16..], sealed[..], "esn {esn}");
    }
}
