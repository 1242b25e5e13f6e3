//! Entry points for the fuzz targets (`fuzz/fuzz_targets/isakmp_*.rs`) and this crate's property tests.
//!
//! Compiled with the `fuzzing` feature (hidden from the docs, not API). Each panics only on a bug:
//! a panic inside the parsers, or something that parses but does not emit back to the same bytes.

// A failed expectation here is a bug the fuzzer should report, like a failed assertion.
#![allow(clippy::expect_used)]

use alloc::string::ToString;
use alloc::vec;

use crate::builder::{Builder, Chain};
use crate::consts::PayloadType;
use crate::crypto::{Cipher, IkeSaState, decrypt, encrypt};
use crate::header::{HEADER_LEN, Header, Packet, VERSION_1_0};
use crate::keys::Secret;
use crate::message::{Message, flat_payload_types};
use crate::payload::{Payloads, emit_payload};

/// The fixed AES-128 key and IV of [`decrypt_bytes`].
pub const TEST_KEY: [u8; 16] = *b"dmvpn-fuzz-key!!";
/// The fixed IV of [`decrypt_bytes`].
pub const TEST_IV: [u8; 16] = [0x5a; 16];

/// Parses a whole message and every payload in it; whatever parses must emit back byte for byte,
/// payload by payload and through [`crate::builder`].
pub fn parse_bytes(data: &[u8]) {
    lenient(data);
    let Ok(message) = Message::parse(data) else {
        return;
    };
    let _ = message.summary(None).to_string();
    let context = message.context(None);
    let _ = message.check();
    let Some(payloads) = message.payloads() else {
        return;
    };
    let _ = flat_payload_types(payloads.clone(), context);
    round_trip_chain(message.header, payloads, data);
}

/// The lenient readers: a message followed by junk, a chain followed by junk. Whatever they accept
/// must agree with the strict readers on the part both read.
fn lenient(data: &[u8]) {
    let Ok((message, trailer)) = Message::parse_trailing(data) else {
        assert!(Message::parse(data).is_err());
        return;
    };
    assert_eq!(message.header.length as usize + trailer.len(), data.len());
    if trailer.is_empty() {
        assert_eq!(Message::parse(data), Ok(message));
    }
    if let Some((offset, chain_trailer)) = message.chain_trailer() {
        assert!(!chain_trailer.is_empty());
        assert_eq!(offset + chain_trailer.len(), message.header.length as usize);
        assert!(
            message
                .payloads()
                .is_some_and(|mut p| p.any(|p| p.is_err()))
        );
    }
    if let Some(payloads) = message.payloads_lenient() {
        let _ = flat_payload_types(payloads, message.context(None));
    }
}

fn round_trip_chain(header: Header, payloads: Payloads<'_>, original: &[u8]) {
    let context = crate::payload::Context {
        exchange: header.exchange_type,
        nat_d: None,
    };
    let mut out = vec![0; original.len()];
    header.emit(&mut Packet::new_unchecked(&mut out[..]));
    let mut at = HEADER_LEN;
    // The same message through the builder, when it uses only what the builder writes (version
    // 1.0, zero reserved bytes).
    let mut chain = Chain::new();
    let mut buildable = header.version == VERSION_1_0;
    for payload in payloads {
        let Ok(payload) = payload else { return };
        let Ok(body) = payload.decode(context) else {
            return;
        };
        at += emit_payload(payload.next, &body, &mut out[at..]);
        out[payload.offset + 1] = payload.reserved;
        chain.push(payload.ty, &body);
        buildable &= payload.reserved == 0;
    }
    assert_eq!(out, original, "payload chain did not round-trip");
    if buildable {
        let built = Builder::new(
            header.initiator_cookie,
            header.responder_cookie,
            header.exchange_type,
            header.flags,
            header.message_id,
        )
        .to_vec(&chain)
        .expect("a parsed chain fits its length fields");
        assert_eq!(built, original, "the builder did not rebuild the message");
    }
}

/// Treats `data` as an encrypted body: decrypts it with [`TEST_KEY`] / [`TEST_IV`] (AES-128-CBC), walks
/// the plaintext as a payload chain whose first type is `data[0]`, and checks that re-encrypting gives
/// the input back. Also drives [`IkeSaState`] with a message built around `data`.
pub fn decrypt_bytes(data: &[u8]) {
    let Some((&first, body)) = data.split_first() else {
        return;
    };
    match decrypt(Cipher::Aes128, &TEST_KEY, &TEST_IV, body) {
        Ok(plain) => {
            for payload in Payloads::decrypted(PayloadType(first), &plain, HEADER_LEN) {
                match payload {
                    Ok(p) => drop(
                        p.decode(crate::payload::Context::default())
                            .map(|b| b.to_string()),
                    ),
                    Err(e) => drop(e.to_string()),
                }
            }
            let again = encrypt(Cipher::Aes128, &TEST_KEY, &TEST_IV, &plain)
                .expect("aligned plaintext encrypts");
            assert_eq!(again, body);
        }
        Err(err) => drop(err.to_string()),
    }
    let mut message = vec![0; HEADER_LEN + body.len()];
    let header = Header {
        initiator_cookie: [1; 8],
        responder_cookie: [2; 8],
        next_payload: PayloadType(first),
        version: VERSION_1_0,
        exchange_type: crate::consts::ExchangeType::QUICK,
        flags: crate::header::Flags(crate::header::Flags::ENCRYPTION),
        message_id: 0x0102_0304,
        length: u32::try_from(message.len()).unwrap_or(u32::MAX),
    };
    header.emit(&mut Packet::new_unchecked(&mut message[..]));
    message[HEADER_LEN..].copy_from_slice(body);
    let Ok(parsed) = Message::parse(&message) else {
        return;
    };
    let mut sa = IkeSaState::new([1; 8], Secret::from_slice(&TEST_KEY));
    sa.set_algorithms(Cipher::Aes128, crate::consts::HashAlgorithm::SHA1);
    sa.set_phase1_iv(&TEST_IV);
    if let Ok(Some(plain)) = sa.process(&parsed) {
        let _ = parsed.summary(Some(&plain)).to_string();
    }
}

#[cfg(test)]
mod tests {
    dmvpn_wire::fuzz_tests! {
        fn parse_bytes_never_panics => |data: &[u8]| super::parse_bytes(data);
        fn decrypt_bytes_never_panics => |data: &[u8]| super::decrypt_bytes(data);
    }
}
