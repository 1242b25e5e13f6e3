//! The RFC 2409 key schedule against vectors computed independently with Python's hmac/hashlib
//! (`tools/gen/isakmp_vectors.py` → `testdata/isakmp/keyschedule_vectors.txt`).
#![allow(clippy::unwrap_used, clippy::expect_used)] // tests

use std::collections::HashMap;

use dmvpn_isakmp::consts::HashAlgorithm;
use dmvpn_isakmp::crypto::{Cipher, phase1_iv, phase2_iv};
use dmvpn_isakmp::keys::{Phase1Keys, Prf, keymat};

fn blocks() -> Vec<(String, HashMap<String, Vec<u8>>)> {
    let text = include_str!("../../../testdata/isakmp/keyschedule_vectors.txt");
    let mut out: Vec<(String, HashMap<String, Vec<u8>>)> = Vec::new();
    for line in text.lines() {
        if line.starts_with('#') || line.is_empty() {
            continue;
        }
        if let Some(name) = line.strip_prefix('[') {
            out.push((name.trim_end_matches(']').to_owned(), HashMap::new()));
            continue;
        }
        let (key, value) = line.split_once(' ').unwrap();
        out.last_mut()
            .unwrap()
            .1
            .insert(key.to_owned(), hex::decode(value).unwrap());
    }
    out
}

fn cookie(bytes: &[u8]) -> [u8; 8] {
    bytes.try_into().unwrap()
}

#[test]
fn phase1_and_quick_mode_keys_match_python() {
    let blocks = blocks();
    assert_eq!(blocks.len(), 5);
    for (name, v) in &blocks {
        let (prf, hash) = match name.split(' ').next().unwrap() {
            "md5" => (Prf::HmacMd5, HashAlgorithm::MD5),
            "sha1" => (Prf::HmacSha1, HashAlgorithm::SHA1),
            "sha256" => (Prf::HmacSha256, HashAlgorithm::SHA2_256),
            "sha384" => (Prf::HmacSha384, HashAlgorithm::SHA2_384),
            "sha512" => (Prf::HmacSha512, HashAlgorithm::SHA2_512),
            other => panic!("{other}"),
        };
        assert_eq!(Prf::from_hash(hash), Some(prf));
        let (cky_i, cky_r) = (cookie(&v["cky_i"]), cookie(&v["cky_r"]));
        let keys = Phase1Keys::from_psk(
            prf, &v["psk"], &v["ni_b"], &v["nr_b"], &v["g_xy"], cky_i, cky_r,
        );
        assert_eq!(keys.skeyid().as_bytes(), v["skeyid"], "{name}");
        assert_eq!(keys.skeyid_d().as_bytes(), v["skeyid_d"], "{name}");
        assert_eq!(keys.skeyid_a().as_bytes(), v["skeyid_a"], "{name}");
        assert_eq!(keys.skeyid_e().as_bytes(), v["skeyid_e"], "{name}");
        for len in [8, 16, 24, 32] {
            assert_eq!(
                keys.encryption_key(len).as_bytes(),
                v[&format!("ka_{len}")],
                "{name} Ka {len}"
            );
        }
        assert_eq!(
            phase1_iv(hash, Cipher::TripleDes, &v["g_xi"], &v["g_xr"]).unwrap(),
            v["iv_phase1_8"]
        );
        let iv16 = phase1_iv(hash, Cipher::Aes128, &v["g_xi"], &v["g_xr"]).unwrap();
        assert_eq!(iv16, v["iv_phase1_16"]);
        let mid = u32::from_be_bytes(v["message_id"].clone().try_into().unwrap());
        assert_eq!(
            phase2_iv(hash, Cipher::Aes256, &iv16, mid).unwrap(),
            v["iv_phase2_16"],
            "{name}"
        );
        let (sai, idii, idir) = (&v["sai_b"], &v["idii_b"], &v["idir_b"]);
        assert_eq!(
            keys.hash_i(&v["g_xi"], &v["g_xr"], cky_i, cky_r, sai, idii)
                .as_bytes(),
            v["hash_i"],
            "{name}"
        );
        assert_eq!(
            keys.hash_r(&v["g_xi"], &v["g_xr"], cky_i, cky_r, sai, idir)
                .as_bytes(),
            v["hash_r"],
            "{name}"
        );
        let (ni, nr, after) = (&v["qm_ni_b"], &v["qm_nr_b"], &v["after_hash"]);
        assert_eq!(
            keys.quick_hash1(mid, after).as_bytes(),
            v["qm_hash1"],
            "{name}"
        );
        assert_eq!(
            keys.quick_hash2(mid, ni, after).as_bytes(),
            v["qm_hash2"],
            "{name}"
        );
        assert_eq!(
            keys.quick_hash3(mid, ni, nr).as_bytes(),
            v["qm_hash3"],
            "{name}"
        );
        let spi = u32::from_be_bytes(v["spi"].clone().try_into().unwrap());
        assert_eq!(
            keys.keymat(3, spi, ni, nr, None, 36).as_bytes(),
            v["keymat_esp_36"],
            "{name}"
        );
        assert_eq!(
            keys.keymat(3, spi, ni, nr, None, 64).as_bytes(),
            v["keymat_esp_64"],
            "{name}"
        );
        assert_eq!(
            keys.keymat(3, spi, ni, nr, Some(&v["g_qm"]), 52).as_bytes(),
            v["keymat_pfs_esp_52"],
            "{name}"
        );
        // From SKEYID_d alone, as a user with only strongSwan's logged SKEYID_d would.
        let from_d = keymat(prf, keys.skeyid_d(), 3, spi, ni, nr, None, 36);
        assert_eq!(from_d.as_bytes(), v["keymat_esp_36"]);
        // A shorter KEYMAT is a prefix of a longer one.
        assert_eq!(&v["keymat_esp_64"][..36], &v["keymat_esp_36"][..]);
    }
}
