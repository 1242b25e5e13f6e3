//! Structure-aware ESP targets over the fixed test SAs of `dmvpn_esp::fuzzing`: reprs drawn from the
//! input round-trip ([`repr_round_trip`]), and a packet encrypted from the input, then edited, is
//! rejected whenever the SA authenticates it ([`mutated`]).
//!
//! Self-contained (it needs `super::bytes`) so that `crates/dmvpn-esp/tests/fuzz_repr.rs` can
//! include it with `#[path]` and run it under bolero.

use dmvpn_esp::fuzzing::test_sa;
use dmvpn_esp::{NextHeader, Packet, PaddingCheck, Repr, Sa, Trailer, trailer};

use super::bytes::{Gen, mutate};

/// A test SA, sequence number, IV, next header and payload drawn from `input`, encrypted.
struct Sealed<'a> {
    sa: Sa,
    seq: u64,
    next_header: NextHeader,
    payload: &'a [u8],
    packet: Vec<u8>,
}

fn seal<'a>(input: &mut Gen<'a>) -> Option<Sealed<'a>> {
    let sa = test_sa(input.below(256), input.u8())?;
    let high = if sa.esn() {
        u64::from(input.u32()) << 32
    } else {
        0
    };
    let seq = high | u64::from(input.u32());
    let next_header = NextHeader(input.u8());
    let iv: Vec<u8> = (0..sa.iv_len()).map(|_| input.u8()).collect();
    let payload = input.bytes(255);
    let mut packet = Vec::new();
    let sealed = sa.encrypt(seq, &iv, next_header, payload, &mut packet);
    assert_eq!(sealed, Ok(()), "encrypting {} bytes failed", payload.len());
    Some(Sealed {
        sa,
        seq,
        next_header,
        payload,
        packet,
    })
}

/// An ESP header and a trailer drawn from `data` emit and parse back to themselves; a packet
/// sealed with a test SA parses as a header with the SA's SPI and the sequence number's low bits,
/// and opens to the same sequence number, next header and payload.
pub fn repr_round_trip(data: &[u8]) {
    let mut input = Gen::new(data);
    let header = Repr {
        spi: input.u32().max(1), // 0 is reserved (RFC 4303 §2.1) and refused
        sequence_number: input.u32(),
    };
    let mut bytes = [0; 8];
    header.emit(&mut Packet::new_unchecked(&mut bytes[..]));
    let parsed = Repr::parse(&Packet::new_unchecked(&bytes[..]));
    assert_eq!(parsed, Ok(header));

    let tail = trailer::Repr {
        pad_len: input.u8(),
        next_header: NextHeader(input.u8()),
    };
    let payload = input.bytes(64);
    let mut plaintext = [payload, &vec![0; tail.buffer_len()]].concat();
    tail.emit(&mut Trailer::new_unchecked(&mut plaintext[..]));
    assert_eq!(
        &plaintext[..payload.len()],
        payload,
        "the trailer wrote over the payload"
    );
    let view = Trailer::new_unchecked(&plaintext[..]);
    assert_eq!(
        trailer::Repr::parse(&view, PaddingCheck::Monotonic),
        Ok(tail)
    );
    assert_eq!(trailer::Repr::parse(&view, PaddingCheck::Ignore), Ok(tail));

    let Some(sealed) = seal(&mut input) else {
        return;
    };
    let header = Repr::parse(&Packet::new_unchecked(&sealed.packet[..]));
    assert_eq!(
        header.map(|h| (h.spi, h.sequence_number)),
        Ok((sealed.sa.spi(), sealed.seq as u32))
    );
    let mut packet = sealed.packet.clone();
    let opened = sealed
        .sa
        .decrypt_in_place_esn(&mut packet, (sealed.seq >> 32) as u32)
        .map(|d| (d.spi, d.seq, d.next_header, d.payload));
    assert_eq!(
        opened,
        Ok((
            sealed.sa.spi(),
            sealed.seq,
            sealed.next_header,
            sealed.payload
        ))
    );
}

/// A packet sealed from `data` with a test SA is edited by the rest of the input ([`mutate`]) and
/// opened. An unedited packet opens to what was sealed; an edited one never does when the SA has
/// an ICV (HMAC or GCM), and never panics when it has none.
pub fn mutated(data: &[u8]) {
    let mut input = Gen::new(data);
    let Some(sealed) = seal(&mut input) else {
        return;
    };
    let mut packet = sealed.packet.clone();
    mutate(&mut packet, input.rest());
    let edited = packet != sealed.packet;
    let high = (sealed.seq >> 32) as u32;
    let opened = sealed
        .sa
        .decrypt_in_place_esn(&mut packet, high)
        .map(|d| (d.seq, d.next_header, d.payload));
    if !edited {
        assert_eq!(opened, Ok((sealed.seq, sealed.next_header, sealed.payload)));
    } else if sealed.sa.icv_len() > 0 {
        assert!(
            opened.is_err(),
            "an edited packet passed the ICV of {:?}/{:?}",
            sealed.sa.encryption(),
            sealed.sa.integrity()
        );
    }
}
