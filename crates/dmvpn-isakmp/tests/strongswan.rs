//! Real strongSwan 5.9.8 IKEv1 PSK sessions recorded by `tools/lab/ike_lab.sh`, checked against the keys
//! charon logged: every message decrypts with the logged Ka; SKEYID, SKEYID_d/a/e, Ka and the initial
//! IV derived from PSK + DH secret + nonces equal charon's; HASH_I, HASH_R, Quick Mode HASH(1..3) and
//! the Informational HASH verify; and the KEYMAT of every Quick Mode SPI equals the ESP keys charon
//! installed.
#![allow(clippy::unwrap_used, clippy::expect_used)] // tests

mod common;

use std::collections::HashMap;

use common::{decode_capture, isakmp};
use dmvpn_isakmp::consts::{ExchangeType, HashAlgorithm};
use dmvpn_isakmp::crypto::{Cipher, IkeSaState, phase1_iv};
use dmvpn_isakmp::keys::{Ikev1Key, Phase1Keys, Prf, Secret};
use dmvpn_isakmp::message::split_hash;
use dmvpn_isakmp::payload::{Body, Context, Payloads};
use dmvpn_isakmp::{Message, PayloadType};
use serde_json::Value;

fn hex(value: &Value) -> Vec<u8> {
    hex::decode(value.as_str().unwrap()).unwrap()
}

fn testdata(name: &str) -> std::path::PathBuf {
    dmvpn_testkit::testdata("isakmp").join(name)
}

/// What one Quick Mode exchange carried.
#[derive(Default, Debug)]
struct QuickMode {
    nonces: Vec<Vec<u8>>,
    spis: Vec<u32>,
    hashes_ok: usize,
}

fn check(scenario: &str, expect_qm3: bool) {
    let logged: Value = serde_json::from_str(
        &std::fs::read_to_string(testdata(&format!("strongswan-{scenario}.keys.json"))).unwrap(),
    )
    .unwrap();
    let ike = &logged["ike_sas"][0];
    let esp_sas = logged["esp_sas"].as_array().unwrap();
    let cky_i: [u8; 8] = hex(&ike["cookie_i"]).try_into().unwrap();
    let cky_r: [u8; 8] = hex(&ike["cookie_r"]).try_into().unwrap();
    let proposal = ike["proposal"].as_str().unwrap();
    let (cipher, prf, hash) = match proposal {
        "3DES_CBC/HMAC_MD5_96/PRF_HMAC_MD5/MODP_1024" => {
            (Cipher::TripleDes, Prf::HmacMd5, HashAlgorithm::MD5)
        }
        "AES_CBC_128/HMAC_SHA1_96/PRF_HMAC_SHA1/MODP_1024" => {
            (Cipher::Aes128, Prf::HmacSha1, HashAlgorithm::SHA1)
        }
        other => panic!("{other}"),
    };
    let ka = Secret::new(hex(&ike["enc_key_Ka"]));
    let path = testdata(&format!("strongswan-{scenario}.pcap"));

    // 1. Every message decrypts with charon's Ka and its payload chain decodes.
    let table = [Ikev1Key {
        initiator_cookie: cky_i,
        encryption_key: ka.clone(),
    }];
    let decoded = decode_capture(&path, &table);
    let encrypted = decoded
        .iter()
        .filter(|d| d.header.flags.encryption())
        .count();
    assert!(encrypted >= 4, "{scenario}: {encrypted} encrypted messages");
    for message in &decoded {
        assert!(
            message.types.is_ok(),
            "{scenario} frame {}: {:?}",
            message.frame,
            message.types
        );
        assert!(
            !message.summary.contains('<'),
            "{scenario}: {}",
            message.summary
        );
        assert_eq!(
            message.header.flags.encryption(),
            message.plaintext.is_some()
        );
    }

    // 2. Collect the phase-1 inputs from the plaintext messages.
    let datagrams = isakmp(&path);
    let (mut sai_b, mut ke, mut nonces) = (None, Vec::new(), Vec::new());
    for datagram in &datagrams {
        let message = Message::parse(&datagram.payload).unwrap();
        let Some(payloads) = message.payloads() else {
            continue;
        };
        for payload in payloads {
            let payload = payload.unwrap();
            match payload.ty {
                PayloadType::SA if sai_b.is_none() => sai_b = Some(payload.body.to_vec()),
                PayloadType::KE => ke.push(payload.body.to_vec()),
                PayloadType::NONCE => nonces.push(payload.body.to_vec()),
                _ => {}
            }
        }
    }
    let (g_xi, g_xr) = (&ke[0], &ke[1]);
    let g_xy = hex(&ike["dh_shared_secret"]);
    assert_eq!(
        g_xy.len(),
        128,
        "MODP_1024 shared secret, padded to the modulus"
    );
    let keys = Phase1Keys::from_psk(
        prf,
        &hex(&ike["psk"]),
        &nonces[0],
        &nonces[1],
        &g_xy,
        cky_i,
        cky_r,
    );
    for (name, derived) in [
        ("SKEYID", keys.skeyid()),
        ("SKEYID_d", keys.skeyid_d()),
        ("SKEYID_a", keys.skeyid_a()),
        ("SKEYID_e", keys.skeyid_e()),
    ] {
        assert_eq!(derived.as_bytes(), hex(&ike[name]), "{scenario} {name}");
    }
    assert_eq!(keys.encryption_key(cipher.key_len()), ka, "{scenario} Ka");
    assert_eq!(
        phase1_iv(hash, cipher, g_xi, g_xr).unwrap(),
        hex(&ike["initial_iv"]),
        "{scenario} IV"
    );

    // 3. HASH_I (MM5) and HASH_R (MM6); Quick Mode and Informational hashes.
    let sai_b = sai_b.unwrap();
    let mut phase1_hashes = 0;
    let mut quick: HashMap<u32, QuickMode> = HashMap::new();
    let mut informational = 0;
    for message in decoded.iter().filter(|d| d.plaintext.is_some()) {
        let plain = message.plaintext.as_ref().unwrap();
        let h = &message.header;
        let context = Context {
            exchange: h.exchange_type,
            nat_d: message.context.nat_d,
        };
        let bodies: Vec<Body<'_>> = Payloads::decrypted(h.next_payload, plain, 28)
            .map(|p| p.unwrap().decode(context).unwrap())
            .collect();
        match h.exchange_type {
            ExchangeType::MAIN => {
                let id = Payloads::decrypted(h.next_payload, plain, 28)
                    .next()
                    .unwrap()
                    .unwrap();
                assert_eq!(id.ty, PayloadType::ID);
                let Some(Body::Hash(received)) = bodies.iter().find(|b| matches!(b, Body::Hash(_)))
                else {
                    panic!()
                };
                let expected = if phase1_hashes == 0 {
                    keys.hash_i(g_xi, g_xr, cky_i, cky_r, &sai_b, id.body)
                } else {
                    keys.hash_r(g_xi, g_xr, cky_i, cky_r, &sai_b, id.body)
                };
                assert_eq!(
                    expected.as_bytes(),
                    *received,
                    "{scenario} frame {} HASH_I/R",
                    message.frame
                );
                phase1_hashes += 1;
            }
            ExchangeType::QUICK => {
                let qm = quick.entry(h.message_id).or_default();
                let split = split_hash(h.next_payload, plain).unwrap().unwrap();
                let step = qm.hashes_ok;
                let expected = match step {
                    0 => keys.quick_hash1(h.message_id, split.rest),
                    1 => keys.quick_hash2(h.message_id, &qm.nonces[0], split.rest),
                    _ => keys.quick_hash3(h.message_id, &qm.nonces[0], &qm.nonces[1]),
                };
                assert_eq!(
                    expected.as_bytes(),
                    split.hash,
                    "{scenario} frame {} QM HASH({})",
                    message.frame,
                    step + 1
                );
                qm.hashes_ok += 1;
                for body in &bodies {
                    match body {
                        Body::Nonce(n) => qm.nonces.push(n.to_vec()),
                        Body::Sa(sa) => qm
                            .spis
                            .push(sa.proposals().next().unwrap().unwrap().spi_u32().unwrap()),
                        _ => {}
                    }
                }
            }
            ExchangeType::INFORMATIONAL => {
                let split = split_hash(h.next_payload, plain).unwrap().unwrap();
                assert_eq!(
                    keys.quick_hash1(h.message_id, split.rest).as_bytes(),
                    split.hash,
                    "{scenario} informational HASH"
                );
                informational += 1;
            }
            other => panic!("{other}"),
        }
    }
    assert_eq!(phase1_hashes, 2, "{scenario}");
    assert!(informational >= 1, "{scenario}");

    // 4. KEYMAT per SPI equals the ESP keys charon installed: for the SA whose SPI the receiving side
    // chose, encryption key then integrity key (AES-128: 16 bytes, HMAC-SHA1-96: 20 bytes).
    let mut matched = 0;
    for qm in quick.values() {
        assert_eq!(
            qm.hashes_ok,
            if expect_qm3 { 3 } else { 2 },
            "{scenario} {qm:?}"
        );
        for &spi in &qm.spis {
            let keymat = keys.keymat(3, spi, &qm.nonces[0], &qm.nonces[1], None, 36);
            let sa = keys_for(esp_sas, spi);
            assert_eq!(
                &keymat.as_bytes()[..16],
                hex(&sa["encryption_key"]),
                "{scenario} spi {spi:08x} enc"
            );
            assert_eq!(
                &keymat.as_bytes()[16..],
                hex(&sa["integrity_key"]),
                "{scenario} spi {spi:08x} integ"
            );
            matched += 1;
        }
    }
    assert_eq!(
        matched,
        esp_sas.len(),
        "{scenario}: every logged ESP SA derived"
    );

    // 5. The same, end to end inside IkeSaState: from PSK + g^xy alone (no Ka), and from Ka + SKEYID_d.
    let from_psk = IkeSaState::with_psk(cky_i, Secret::new(hex(&ike["psk"])), Secret::new(g_xy));
    let mut with_d = IkeSaState::new(cky_i, ka.clone());
    with_d.set_skeyid_d(prf, Secret::new(hex(&ike["SKEYID_d"])));
    for mut state in [from_psk, with_d] {
        for datagram in &datagrams {
            let message = Message::parse(&datagram.payload).unwrap();
            let plain = state.process(&message).unwrap();
            assert_eq!(plain.is_some(), message.is_encrypted());
        }
        assert_eq!(state.encryption_key(), &ka);
        let children = state.child_sas();
        assert_eq!(children.len(), esp_sas.len(), "{scenario}");
        for child in children {
            let sa = keys_for(esp_sas, child.spi);
            assert_eq!(
                child.encryption_key.as_bytes(),
                hex(&sa["encryption_key"]),
                "{scenario} {child}"
            );
            assert_eq!(
                child.integrity_key.as_bytes(),
                hex(&sa["integrity_key"]),
                "{scenario} {child}"
            );
            // charon's "initiator" SA is the one the QM initiator sends on: the responder chose its SPI.
            assert_eq!(
                child.chosen_by_initiator,
                sa["qm_role_of_sa"] == "responder",
                "{scenario} {child}"
            );
            assert_eq!(
                child.transform.wireshark_names(),
                Some(("AES-CBC [RFC3602]", "HMAC-SHA-1-96 [RFC2404]"))
            );
        }
    }
}

fn keys_for(sas: &[Value], spi: u32) -> &Value {
    let spi = format!("{spi:08x}");
    sas.iter()
        .find(|sa| sa["spi"] == spi.as_str())
        .unwrap_or_else(|| panic!("no ESP SA {spi}"))
}

#[test]
fn strongswan_3des_md5_main_mode_kernel_backend() {
    // xfrm: charon cannot install the SAs (no kernel ESP here), so QM message 3 is replaced by an
    // Informational; the QM keys are logged all the same.
    check("xfrm-3des", false);
}

#[test]
fn strongswan_aes128_sha1_main_mode_kernel_backend() {
    check("xfrm-aes", false);
}

#[test]
fn strongswan_aes128_sha1_nat_t_rekey_delete() {
    // libipsec: NAT-T (IKE floats to 4500 with the non-ESP marker), two Quick Modes (rekey), a DELETE.
    check("libipsec-aes", true);
}

/// The ESP keys IkeSaState derives from the PSK alone decrypt every ESP-in-UDP packet of the capture:
/// the HMAC-SHA1-96 ICV verifies and the plaintext is the GRE packet (inner IPv4, protocol 47) the lab
/// sent — no `esp_sa` file involved.
#[test]
fn derived_esp_keys_decrypt_the_captured_esp() {
    let path = testdata("strongswan-libipsec-aes.pcap");
    let logged: Value = serde_json::from_str(
        &std::fs::read_to_string(testdata("strongswan-libipsec-aes.keys.json")).unwrap(),
    )
    .unwrap();
    let ike = &logged["ike_sas"][0];
    let cky_i: [u8; 8] = hex(&ike["cookie_i"]).try_into().unwrap();
    let mut state = IkeSaState::with_psk(
        cky_i,
        Secret::new(hex(&ike["psk"])),
        Secret::new(hex(&ike["dh_shared_secret"])),
    );
    let mut decrypted = 0;
    for datagram in common::udp(&path) {
        if datagram.dst_port != 4500 && datagram.src_port != 4500 {
            if let Ok(message) = Message::parse(&datagram.payload) {
                state.process(&message).unwrap();
            }
            continue;
        }
        let bytes = &datagram.payload;
        if bytes.starts_with(&[0, 0, 0, 0]) {
            state
                .process(&Message::parse(&bytes[4..]).unwrap())
                .unwrap();
            continue;
        }
        let spi = u32::from_be_bytes(bytes[..4].try_into().unwrap());
        let child = state
            .child_sas()
            .iter()
            .find(|c| c.spi == spi)
            .expect("ESP before its Quick Mode");
        let (signed, icv) = bytes.split_at(bytes.len() - 12);
        let mac = Prf::HmacSha1.compute(child.integrity_key.as_bytes(), &[signed]);
        assert_eq!(&mac.as_bytes()[..12], icv, "ICV of spi {spi:08x}");
        let (iv, ciphertext) = signed[8..].split_at(16);
        let plain = dmvpn_isakmp::crypto::decrypt(
            Cipher::Aes128,
            child.encryption_key.as_bytes(),
            iv,
            ciphertext,
        )
        .unwrap();
        let next_header = plain[plain.len() - 1];
        assert_eq!(next_header, 4, "tunnel mode: IPv4 inside");
        assert_eq!(plain[9], 47, "the inner packet is GRE");
        decrypted += 1;
    }
    assert_eq!(decrypted, 12);
}
