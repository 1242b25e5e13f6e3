//! Structure-aware NHRP targets: a [`Repr`] drawn field by field from the input is emitted, then
//! parsed back ([`repr_round_trip`]), or emitted, edited and fed to the byte-level checks
//! ([`mutated`]).
//!
//! Self-contained (it needs `super::bytes`) so that `crates/dmvpn-nhrp/tests/fuzz_repr.rs` can
//! include it with `#[path]` and run it under bolero.

use dmvpn_nhrp::cie::{self, CieList};
use dmvpn_nhrp::extension::{self, Authentication, ExtensionList, Value};
use dmvpn_nhrp::{
    AddressFamily, AddressFormat, AuthType, CieCode, Control, ErrorCode, ErrorIndication,
    ExtensionType, Flags, Message, NbmaAddress, OpType, Packet, ProtocolType, Repr, TrafficCode,
    TrafficIndication,
};

use super::bytes::{Gen, mutate};

/// Up to this many CIEs in one list.
const MAX_CIES: usize = 4;
/// Up to this many extensions.
const MAX_EXTENSIONS: usize = 6;

fn nbma<'a>(input: &mut Gen<'a>) -> NbmaAddress<'a> {
    let format = if input.bool() {
        AddressFormat::E164
    } else {
        AddressFormat::Nsap
    };
    NbmaAddress {
        format,
        bytes: input.bytes(63), // 6 length bits
    }
}

fn cies<'a>(input: &mut Gen<'a>) -> Vec<cie::Repr<'a>> {
    (0..input.below(MAX_CIES + 1))
        .map(|_| cie::Repr {
            code: CieCode(input.u8()),
            prefix_len: input.u8(),
            mtu: input.u16(),
            holding_time: input.u16(),
            nbma: nbma(input),
            nbma_sub: nbma(input),
            proto: input.bytes(255),
            preference: input.u8(),
        })
        .collect()
}

/// The types [`Value`] has a variant for; an `Unknown` with one of them would parse as that variant.
const KNOWN_TYPES: [ExtensionType; 7] = [
    ExtensionType::END,
    ExtensionType::RESPONDER_ADDRESS,
    ExtensionType::FORWARD_TRANSIT_NHS_RECORD,
    ExtensionType::REVERSE_TRANSIT_NHS_RECORD,
    ExtensionType::AUTHENTICATION,
    ExtensionType::VENDOR_PRIVATE,
    ExtensionType::CISCO_NAT_ADDRESS,
];

/// One extension; `lists` holds the CIE lists extensions may point into. `None` for End.
fn extension<'a>(input: &mut Gen<'a>, lists: &'a [Vec<cie::Repr<'a>>]) -> extension::Repr<'a> {
    let compulsory = input.bool();
    let list = |input: &mut Gen<'a>| CieList::new(&lists[input.below(lists.len())]);
    let value = match input.u8() % 9 {
        0 => Value::End,
        1 => Value::ResponderAddress(list(input)),
        2 => Value::ForwardTransitNhsRecord(list(input)),
        3 => Value::ReverseTransitNhsRecord(list(input)),
        4 => Value::Authentication(Authentication {
            kind: AuthType(input.u32()),
            data: input.bytes(64),
        }),
        5 => Value::VendorPrivate {
            vendor: input.u32() & 0x00ff_ffff, // 24 bits on the wire
            data: input.bytes(64),
        },
        6 => Value::CiscoNatAddress(list(input)),
        7 => Value::DeviceCapabilities {
            source: input.u32(),
            destination: input.u32(),
        },
        _ => {
            // Without the compulsory bit, and not a type with a variant of its own.
            let ty = ExtensionType(input.u16() & 0x7fff);
            let ty = if KNOWN_TYPES.contains(&ty) {
                ExtensionType(0x1000 | ty.0)
            } else {
                ty
            };
            Value::Unknown {
                ty,
                value: input.bytes(64),
            }
        }
    };
    extension::Repr { compulsory, value }
}

fn message<'a>(input: &mut Gen<'a>, list: &'a [cie::Repr<'a>]) -> Message<'a> {
    let op = input.u8() % 8 + 1;
    match OpType(op) {
        OpType::ERROR_INDICATION => Message::ErrorIndication(ErrorIndication {
            code: ErrorCode(input.u16()),
            offset: input.u16(),
            packet: input.bytes(255),
        }),
        OpType::TRAFFIC_INDICATION => Message::TrafficIndication(TrafficIndication {
            code: TrafficCode(input.u16()),
            packet: input.bytes(255),
        }),
        op => {
            let control = Control {
                flags: Flags(input.u16()),
                request_id: input.u32(),
                cies: CieList::new(list),
            };
            match Message::with_control(op, control) {
                Some(message) => message,
                None => panic!("op type {op:?} is 1 to 6 and takes a control part"),
            }
        }
    }
}

/// Builds a repr from `input` and hands it, emitted, to `check`. `lists` and `extensions` are the
/// storage the repr borrows from.
fn with_repr(data: &[u8], check: impl FnOnce(&Repr<'_>, Vec<u8>, &[u8])) {
    let mut input = Gen::new(data);
    let lists: Vec<Vec<cie::Repr<'_>>> = (0..3).map(|_| cies(&mut input)).collect();
    let afn = AddressFamily(input.u16());
    let protocol_type = ProtocolType(input.u16());
    let protocol_snap = [input.u8(), input.u8(), input.u8(), input.u8(), input.u8()];
    let hop_count = input.u8();
    let src_nbma = nbma(&mut input);
    let src_nbma_sub = nbma(&mut input);
    let src_proto = input.bytes(255);
    let dst_proto = input.bytes(255);
    let message = message(&mut input, &lists[0]);
    let has_extensions = input.bool();
    let mut extensions = Vec::new();
    for _ in 0..input.below(MAX_EXTENSIONS + 1) {
        let ext = extension(&mut input, &lists);
        let end = ext.value == Value::End;
        extensions.push(ext);
        if end {
            break; // End of Extensions is the last one (what follows it is an error)
        }
    }
    let repr = Repr {
        afn,
        protocol_type,
        protocol_snap,
        hop_count,
        src_nbma,
        src_nbma_sub,
        src_proto,
        dst_proto,
        message,
        extensions: has_extensions.then(|| ExtensionList::new(&extensions)),
    };
    let len = repr.buffer_len();
    if len > usize::from(u16::MAX) {
        return; // does not fit `ar$pktsz`
    }
    let mut bytes = vec![0; len];
    repr.emit(&mut Packet::new_unchecked(&mut bytes[..]));
    check(&repr, bytes, input.rest());
}

/// A repr drawn from `data` emits to exactly `buffer_len` bytes that parse back to the same repr
/// (checksum included: it is verified unless built with `cfg(fuzzing)`, and correct either way);
/// every shorter prefix fails to parse.
pub fn repr_round_trip(data: &[u8]) {
    with_repr(data, |repr, bytes, _| {
        let packet = match Packet::new_checked(&bytes[..]) {
            Ok(packet) => packet,
            Err(err) => panic!("emitted packet is not a valid view: {err}\n{repr:?}"),
        };
        assert!(packet.verify_checksum(), "{repr:?}");
        let parsed = match Repr::parse(&packet) {
            Ok(parsed) => parsed,
            Err(err) => panic!("emitted packet does not parse: {err}\n{repr:?}\n{bytes:02x?}"),
        };
        assert_eq!(&parsed, repr, "{bytes:02x?}");
        assert_eq!(parsed.buffer_len(), bytes.len());
        for cut in [0, 1, 19, 20, bytes.len() / 2, bytes.len() - 1] {
            if let Some(prefix) = bytes.get(..cut) {
                assert!(
                    dmvpn_nhrp::parse(prefix).is_err(),
                    "prefix of {cut} bytes parsed"
                );
            }
        }
    });
}

/// A repr drawn from `data` is emitted, then edited by the rest of the input ([`mutate`]): the
/// result goes through every byte-level check of `dmvpn_nhrp::fuzzing` (never panic; whatever
/// parses re-emits to itself).
pub fn mutated(data: &[u8]) {
    with_repr(data, |_, mut bytes, edits| {
        mutate(&mut bytes, edits);
        dmvpn_nhrp::fuzzing::parse_bytes(&bytes);
        dmvpn_nhrp::fuzzing::round_trip(&bytes);
    });
}
