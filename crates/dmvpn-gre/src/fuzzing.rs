//! Entry points for the fuzz targets in `fuzz/fuzz_targets/gre_*.rs` and for this crate's property tests.
//!
//! Compiled with the `fuzzing` feature (hidden from the docs, not API), which the fuzz workspace
//! and the tests turn on. Each function panics only when it finds a bug: a panic in `parse`, or a
//! header that does not survive emit then parse.

// A failed expectation here is a bug the fuzzer should report, like a failed assertion.
#![allow(clippy::expect_used)]

use alloc::string::ToString;
use alloc::vec;

use dmvpn_wire::checksum;

use crate::packet::{field, flag};
use crate::{Packet, Protocol, Repr, enhanced};

/// Runs every reader over arbitrary bytes; anything that parses must emit back to the same header.
pub fn parse_bytes(data: &[u8]) {
    let packet = Packet::new_unchecked(data);
    if let Err(err) = packet.check_len() {
        let _ = err.to_string();
        let _ = alloc::format!("{packet:?}");
        return;
    }
    let _ = alloc::format!("{packet:?}");
    let _ = (
        packet.checksum(),
        packet.reserved1(),
        packet.key(),
        packet.sequence(),
        packet.ack(),
    );
    let _ = (
        packet.payload_length(),
        packet.call_id(),
        packet.recursion_control(),
        packet.strict_source_route(),
    );
    let _ = (
        packet.verify_checksum(),
        packet.compute_checksum(),
        packet.payload(),
    );
    if let Some(mut sres) = packet.sres() {
        for sre in sres.by_ref() {
            if sre.is_err() {
                break;
            }
        }
        let _ = (sres.end(), sres.rest());
    }
    match Repr::parse(&packet) {
        Ok(repr) => reemit(&packet, &repr),
        Err(err) => drop(err.to_string()),
    }
    match enhanced::Repr::parse(&packet) {
        Ok(repr) => reemit_enhanced(&packet, &repr),
        Err(err) => drop(err.to_string()),
    }
}

fn reemit(packet: &Packet<&[u8]>, repr: &Repr) {
    let original = packet.into_inner();
    let payload = packet.payload();
    assert_eq!(repr.buffer_len(), packet.header_len());
    let mut buffer = vec![0; repr.buffer_len() + payload.len()];
    repr.emit_with_payload(&mut Packet::new_unchecked(&mut buffer[..]), payload);
    let emitted = Packet::new_checked(&buffer[..]).expect("emitted header fits");
    assert_eq!(Repr::parse(&emitted).as_ref(), Ok(repr));
    assert_eq!(emitted.payload(), payload);
    // Byte-exact when the input had nothing the repr drops: ignored reserved bits, Reserved1, a bad checksum.
    let ignored =
        packet.flags_and_version() & (flag::RECURSION & !0x0400 | flag::ACK | flag::FLAGS);
    let checksum_ok = !repr.checksum || checksum::verify(original);
    if repr.checksum {
        assert!(checksum::verify(&buffer));
        // 0x0000 and 0xffff are both zero in ones' complement: a sender may use either.
        buffer[field::CHECKSUM].copy_from_slice(&original[field::CHECKSUM]);
    }
    if ignored == 0 && packet.reserved1().unwrap_or(0) == 0 && checksum_ok {
        assert_eq!(&buffer[..], original);
    }
}

fn reemit_enhanced(packet: &Packet<&[u8]>, repr: &enhanced::Repr) {
    assert_eq!(repr.buffer_len(), packet.header_len());
    let payload = packet.payload();
    let mut buffer = vec![0; repr.buffer_len() + payload.len()];
    repr.emit(&mut Packet::new_unchecked(&mut buffer[..]), |buf| {
        buf.copy_from_slice(payload)
    });
    assert_eq!(&buffer[..], packet.into_inner());
}

/// Builds a header from arbitrary bytes (the first 15 pick the fields, the rest is payload), emits it,
/// and checks that it parses back unchanged, that every shorter prefix of the header is rejected, and
/// that a checksum, if any, is right.
pub fn round_trip(data: &[u8]) {
    let (head, payload) = data.split_at(data.len().min(15));
    let mut head = head.iter().copied().chain(core::iter::repeat(0));
    let mut next = || head.next().unwrap_or(0);
    let choice = next();
    let protocol = Protocol(u16::from_be_bytes([next(), next()]));
    let key = u32::from_be_bytes([next(), next(), next(), next()]);
    let sequence = u32::from_be_bytes([next(), next(), next(), next()]);
    let ack = u32::from_be_bytes([next(), next(), next(), next()]);
    if choice & 0x80 == 0 {
        let repr = Repr {
            protocol,
            checksum: choice & 1 != 0,
            key: (choice & 2 != 0).then_some(key),
            sequence: (choice & 4 != 0).then_some(sequence),
        };
        let mut buffer = vec![0; repr.buffer_len() + payload.len()];
        repr.emit_with_payload(&mut Packet::new_unchecked(&mut buffer[..]), payload);
        let packet = Packet::new_checked(&buffer[..]).expect("emitted header fits");
        assert_eq!(Repr::parse(&packet), Ok(repr));
        assert_eq!(packet.payload(), payload);
        assert!(!repr.checksum || checksum::verify(&buffer));
        for cut in 0..repr.buffer_len() {
            assert!(
                Packet::new_checked(&buffer[..cut]).is_err(),
                "prefix of {cut} bytes accepted"
            );
        }
    } else {
        let payload = payload.get(..usize::from(u16::MAX)).unwrap_or(payload);
        let repr = enhanced::Repr {
            protocol,
            payload_length: u16::try_from(payload.len()).unwrap_or(u16::MAX),
            call_id: key as u16,
            sequence: (choice & 4 != 0).then_some(sequence),
            ack: (choice & 8 != 0).then_some(ack),
        };
        let mut buffer = vec![0; repr.buffer_len() + payload.len()];
        repr.emit(&mut Packet::new_unchecked(&mut buffer[..]), |buf| {
            buf.copy_from_slice(payload)
        });
        let packet = Packet::new_checked(&buffer[..]).expect("emitted header fits");
        assert_eq!(enhanced::Repr::parse(&packet), Ok(repr));
        assert_eq!(packet.payload(), payload);
        for cut in 0..repr.buffer_len() {
            assert!(
                Packet::new_checked(&buffer[..cut]).is_err(),
                "prefix of {cut} bytes accepted"
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::vectors::*;

    #[test]
    fn real_and_generated_packets_pass() {
        for bytes in [
            &PACKETLIFE_GRE_FRAME_1[..],
            &VARIOUS_GRE_FRAME_11,
            &VARIOUS_GRE_FRAME_12,
            &PPTP_FRAME_1,
            &PPTP_FRAME_2,
            SCAPY_CHECKSUM_KEY_SEQUENCE,
            SCAPY_CHECKSUM_IPV4,
            SCAPY_KEY_IPV6,
            SCAPY_PPTP_ACK_ONLY,
        ] {
            parse_bytes(bytes);
            round_trip(bytes);
        }
    }

    /// Found by `gre_parse` in its first minute (fuzz/artifacts/gre_parse/crash-9541bc47…): a checksum field of
    /// 0xffff (negative zero) is as right as the 0x0000 the emitter writes, so re-emitting must not expect the
    /// same bytes there.
    #[test]
    fn regression_negative_zero_checksum() {
        dmvpn_wire::hex_consts! {
            const CRASH: [u8; 46] = "b0002000ffff000000000000000121ec0000000003e8000000070001080000000000000000ff0020000001030000";
        }
        assert!(checksum::verify(&CRASH));
        assert_eq!(Packet::new_unchecked(&CRASH[..]).compute_checksum(), 0);
        parse_bytes(&CRASH);
    }

    dmvpn_wire::fuzz_tests! {
        fn parse_bytes_on_arbitrary_input => parse_bytes;
        fn round_trip_on_arbitrary_input => round_trip;
    }
}
