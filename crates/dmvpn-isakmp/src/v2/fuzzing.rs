//! Entry points for the IKEv2 fuzz targets (`fuzz/fuzz_targets/ikev2_*.rs`) and this module's
//! property tests. Each panics only on a bug: a panic inside the parsers or the decryption, or a
//! body that parses but does not emit back to the same bytes.

use alloc::string::ToString;
use alloc::vec;
use alloc::vec::Vec;

use super::crypto::{Encryption, Integrity, SaKeys};
use super::fragment::{Key, Reassembler};
use super::payload::emit_payload;
use super::{AnyMessage, Body, PayloadType, Payloads, consts};
use crate::header::HEADER_LEN;
use crate::keys::Secret;
use crate::payload::GENERIC_HEADER_LEN;

/// Parses arbitrary bytes as an ISAKMP message of either version and as an IKEv2 payload chain
/// (first byte: the first payload type); every IKEv2 body that parses must emit back byte for
/// byte, and every description must print.
pub fn parse_bytes(data: &[u8]) {
    if let Ok((AnyMessage::V2(message), _)) = AnyMessage::parse_trailing(data) {
        let _ = message.check();
        let _ = message.encrypted_payload();
        round_trip(message.payloads());
    }
    if let Some((&first, rest)) = data.split_first() {
        round_trip(Payloads::new(PayloadType(first), rest, HEADER_LEN));
    }
}

fn round_trip(payloads: Payloads<'_>) {
    for payload in payloads.flatten() {
        let Ok(body) = payload.decode() else {
            continue;
        };
        let _ = body.to_string();
        let mut out = vec![0; GENERIC_HEADER_LEN + body.buffer_len()];
        let written = emit_payload(payload.next, payload.critical(), &body, &mut out);
        assert_eq!(written, Some(out.len()));
        assert_eq!(&out[GENERIC_HEADER_LEN..], payload.body, "{}", body.ty());
        if let Body::Sa(sa) = body {
            for proposal in sa.proposals().flatten() {
                for transform in proposal.transforms().flatten() {
                    let _ = (transform.key_length(), transform.to_string());
                }
            }
        }
    }
}

/// Arbitrary bytes as the encrypted part of an SK (or, if the third byte is odd, SKF) payload of
/// an IKE_AUTH message under fixed test keys: the first byte picks the encryption algorithm, the
/// second the integrity algorithm. Whatever decrypts is walked as a payload chain, and fragments
/// go through the reassembler; ICV and tag checks are never skipped.
pub fn decrypt_bytes(data: &[u8]) {
    let [encryption, integrity, shape, rest @ ..] = data else {
        return;
    };
    let encryption = Encryption::ALL[usize::from(*encryption) % Encryption::ALL.len()];
    let integrity = Integrity::ALL[usize::from(*integrity) % Integrity::ALL.len()];
    let key = |byte: u8, len: usize| Secret::new(vec![byte; len]);
    let mac_len = integrity.prf().map_or(0, |prf| prf.output_len());
    let keys = SaKeys {
        initiator_spi: [1; 8],
        responder_spi: [2; 8],
        encryption,
        sk_ei: key(0x11, encryption.key_material_len()),
        sk_er: key(0x22, encryption.key_material_len()),
        integrity,
        sk_ai: key(0x33, mac_len),
        sk_ar: key(0x44, mac_len),
    };
    let fragment = shape & 1 == 1;
    let header_len = GENERIC_HEADER_LEN + if fragment { 4 } else { 0 };
    let total = HEADER_LEN + header_len + rest.len();
    let Ok(length) = u32::try_from(total) else {
        return;
    };
    let Ok(payload_len) = u16::try_from(header_len + rest.len()) else {
        return;
    };
    let mut message = Vec::with_capacity(total);
    message.extend_from_slice(&[1; 8]);
    message.extend_from_slice(&[2; 8]);
    let ty = if fragment {
        PayloadType::SKF
    } else {
        PayloadType::SK
    };
    let exchange = consts::ExchangeType::IKE_AUTH;
    message.extend_from_slice(&[ty.0, 0x20, exchange.0, shape & 0x28, 0, 0, 0, 1]);
    message.extend_from_slice(&length.to_be_bytes());
    message.extend_from_slice(&[PayloadType::IDI.0, 0]);
    message.extend_from_slice(&payload_len.to_be_bytes());
    if fragment {
        // Fragment number 1 or 2 of 2, by the shape byte.
        message.extend_from_slice(&[0, 1 + (shape >> 1 & 1), 0, 2]);
    }
    message.extend_from_slice(rest);
    let Ok(AnyMessage::V2(parsed)) = AnyMessage::parse(&message) else {
        return;
    };
    let Some(Ok(inner)) = parsed.decrypt(&keys) else {
        return;
    };
    for payload in inner.payloads().flatten() {
        let _ = payload.decode().map(|body| body.to_string());
    }
    if let Some((number, total)) = inner.fragment {
        let mut reassembler = Reassembler::default();
        let key = Key {
            initiator_spi: [1; 8],
            responder_spi: [2; 8],
            message_id: 1,
            response: false,
        };
        let _ = reassembler.add(key, number, total, inner.first, &inner.decrypted.plaintext);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    dmvpn_wire::fuzz_tests! {
        fn arbitrary_messages_never_panic => |data: &[u8]| parse_bytes(data);
    }

    #[test]
    fn arbitrary_ciphertexts_never_panic() {
        bolero::check!().for_each(|data: &[u8]| decrypt_bytes(data));
        // NULL encryption, NONE integrity: the bytes are the plaintext, so a chain decodes.
        let mut null = vec![0, 8, 0];
        null.extend_from_slice(&[0, 0, 0, 8, 2, 0, 0, 0, 0]);
        decrypt_bytes(&null);
    }
}
