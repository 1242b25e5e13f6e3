//! Entry points for fuzz targets and property tests.
//!
//! Compiled with the `fuzzing` feature (hidden from the docs, not API) and in this crate's tests,
//! so `fuzz/` targets and the bolero tests call the same code. Built with `--cfg fuzzing` (cargo-fuzz), parsing
//! skips the checksum, and only the checksum (STYLE.md).

use core::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use dmvpn_wire::{Error, Layer};

use crate::consts::{AttributeOpcode, AuthType, ExternalProtocol, OpCode, TlvType};
use crate::header::{Flags, HEADER_LEN, Packet};
use crate::packet::{Repr, Tlvs};
use crate::tlv::{
    AddressList, Attribute, Attributes, Authentication, ClassicMetric, ClassicRoute, Communities,
    Community, Destination, Destinations, ExternalData, Family, Parameters, PeerTidList,
    SoftwareVersion, Tlv, TlvIter, WideMetric, WideRoute,
};

/// Parses arbitrary bytes as a packet and walks every TLV and route; must never panic.
pub fn parse_bytes(data: &[u8]) {
    let Ok(packet) = Packet::new_checked(data) else {
        return;
    };
    for tlv in packet.tlvs() {
        let Ok(tlv) = tlv else { break };
        let _ = tlv.buffer_len();
    }
    let unverified = Repr::parse_unverified(&packet);
    if let Ok(repr) = &unverified {
        let _ = repr.to_string();
    }
    if let Ok(repr) = Repr::parse(&packet) {
        // The checksum is the only thing parse checks that parse_unverified does not.
        assert_eq!(unverified.as_ref(), Ok(&repr));
        let _ = repr.to_string();
        for route in repr.routes() {
            let _ = route.destination.to_string();
        }
        for tlv in repr.tlvs.iter() {
            if let Tlv::Wide(route) = tlv {
                let _ = format!("{:?}", route.attributes);
            }
        }
    }
    let _ = crate::auth::verify(data, b"fuzz");
}

/// If `data` parses, emitting the repr gives back `data` (the checksum is recomputed, so under
/// `cfg(fuzzing)` it is compared only when the input's was right), and so does emitting each TLV
/// on its own.
///
/// # Panics
/// On a round-trip mismatch: that is the bug this target looks for.
pub fn round_trip(data: &[u8]) {
    let Ok(packet) = Packet::new_checked(data) else {
        return;
    };
    let Ok(repr) = Repr::parse(&packet) else {
        return;
    };
    let buf = repr.to_bytes();
    // The checksum field is compared apart: 0x0000 and 0xffff are the same ones' complement value, so
    // an input carrying 0xffff is valid and re-emits as 0x0000.
    assert_eq!(buf[..2], data[..2]);
    assert_eq!(buf[4..], data[4..]);
    if packet.verify_checksum() {
        assert!(Packet::new_unchecked(&buf[..]).verify_checksum());
    }
    let mut pos = HEADER_LEN;
    for tlv in TlvIter::new(packet.tlv_bytes()) {
        let Ok(tlv) = tlv else {
            unreachable!("Repr::parse checked every TLV")
        };
        let mut one = vec![0; tlv.buffer_len()];
        tlv.emit(&mut one);
        assert_eq!(one, data[pos..pos + one.len()]);
        pos += one.len();
    }
}

/// Reads arbitrary bytes as the data of a Community attribute (and as a whole attribute list);
/// must never panic. Data of a multiple of 8 bytes must decode, and encoding every decoded
/// community must give the data back byte for byte, also through
/// [`Communities::emit_attribute`]; any other length must be the `community attribute length`
/// error.
///
/// # Panics
/// On a mismatch: that is the bug this target looks for.
pub fn communities(data: &[u8]) {
    let attribute = Attribute {
        opcode: AttributeOpcode::COMMUNITY,
        data,
    };
    let _ = format!("{attribute:?}");
    match attribute.communities() {
        Some(Ok(communities)) => {
            assert!(data.len().is_multiple_of(Community::LEN));
            assert_eq!(communities.len(), data.len() / Community::LEN);
            let list: Vec<Community> = communities.iter().collect();
            let mut encoded = Vec::with_capacity(data.len());
            for community in &list {
                let _ = community.to_string();
                encoded.extend_from_slice(&community.decode().encode().to_bytes());
            }
            assert_eq!(encoded, data);
            let mut attr = vec![0; Communities::attribute_len(list.len())];
            match Communities::emit_attribute(&list, &mut attr) {
                Some(len) => {
                    assert_eq!(len, attr.len());
                    assert_eq!(attr[2..], *data);
                    let parsed = Attributes::new(&attr, 0).map(|a| a.iter().collect::<Vec<_>>());
                    assert_eq!(parsed, Ok(vec![attribute]));
                }
                None => assert!(list.len() > Communities::MAX),
            }
        }
        Some(Err(err)) => assert_eq!(
            err,
            Error::invalid_field(
                Layer::Eigrp,
                "community attribute length",
                0,
                u32::try_from(data.len()).unwrap_or(u32::MAX)
            )
        ),
        None => unreachable!("the opcode is COMMUNITY"),
    }
    // The same bytes as a wide metric's attribute list.
    if let Ok(attributes) = Attributes::new(data, 0) {
        let _ = format!("{attributes:?}");
        for attribute in attributes.iter() {
            if let Some(Ok(communities)) = attribute.communities() {
                for community in communities.iter() {
                    assert_eq!(community.decode().encode(), community);
                }
            }
        }
    }
}

/// Reads the generator's choices from fuzz bytes, yielding zeros once they run out.
struct Source<'d> {
    data: &'d [u8],
}

impl<'d> Source<'d> {
    fn u8(&mut self) -> u8 {
        let (&b, rest) = self.data.split_first().unwrap_or((&0, &[]));
        self.data = rest;
        b
    }
    fn u16(&mut self) -> u16 {
        u16::from_be_bytes([self.u8(), self.u8()])
    }
    fn u32(&mut self) -> u32 {
        u32::from_be_bytes([self.u8(), self.u8(), self.u8(), self.u8()])
    }
    fn bytes(&mut self, max: usize) -> &'d [u8] {
        let n = usize::from(self.u8()) % (max + 1);
        let (head, rest) = self.data.split_at(n.min(self.data.len()));
        self.data = rest;
        head
    }
    fn addr(&mut self, family: Family) -> IpAddr {
        match family {
            Family::Ipv4 => IpAddr::V4(Ipv4Addr::from(self.u32())),
            Family::Ipv6 => {
                let mut o = [0u8; 16];
                o.iter_mut().for_each(|b| *b = self.u8());
                IpAddr::V6(Ipv6Addr::from(o))
            }
        }
    }
    fn family(&mut self) -> Family {
        if self.u8() & 1 == 0 {
            Family::Ipv4
        } else {
            Family::Ipv6
        }
    }
}

/// Storage the generated TLVs borrow from.
#[derive(Default)]
struct Arena {
    dests: Vec<Vec<Destination>>,
}

fn destinations(src: &mut Source<'_>, family: Family) -> Vec<Destination> {
    let n = 1 + usize::from(src.u8() % 4);
    (0..n)
        .map(|_| {
            let prefix_len = src.u8() % (family.max_prefix() + 1);
            // Only the octets carried on the wire survive a round trip: zero the rest.
            let mut octets = [0u8; 16];
            let addr = src.addr(family);
            match addr {
                IpAddr::V4(a) => octets[..4].copy_from_slice(&a.octets()),
                IpAddr::V6(a) => octets = a.octets(),
            }
            octets[family.prefix_octets(prefix_len)..].fill(0);
            let prefix = match family {
                Family::Ipv4 => {
                    IpAddr::V4(Ipv4Addr::new(octets[0], octets[1], octets[2], octets[3]))
                }
                Family::Ipv6 => IpAddr::V6(Ipv6Addr::from(octets)),
            };
            Destination { prefix_len, prefix }
        })
        .collect()
}

fn external(src: &mut Source<'_>) -> Option<ExternalData> {
    (src.u8() & 1 == 1).then(|| ExternalData {
        origin_router: src.u32(),
        origin_as: src.u32(),
        tag: src.u32(),
        external_metric: src.u32(),
        reserved: src.u16(),
        protocol: ExternalProtocol(src.u8()),
        flags: src.u8(),
    })
}

/// Builds an arbitrary [`Repr`] from fuzz bytes, emits it, parses it back and checks both are
/// equal and that re-emitting is byte-exact.
///
/// # Panics
/// On a mismatch.
pub fn repr_round_trip(data: &[u8]) {
    let mut src = Source { data };
    let mut arena = Arena::default();
    // Route TLVs need destination lists that outlive the TLV slice: make them first.
    let n = usize::from(src.u8() % 6);
    let kinds: Vec<(u8, Family)> = (0..n).map(|_| (src.u8() % 11, src.family())).collect();
    for &(_, family) in &kinds {
        let list = destinations(&mut src, family);
        arena.dests.push(list);
    }
    let mut tlvs = Vec::new();
    for (i, &(kind, family)) in kinds.iter().enumerate() {
        let tlv = match kind {
            0 => Tlv::Parameters(Parameters {
                k: [src.u8(), src.u8(), src.u8(), src.u8(), src.u8(), src.u8()],
                hold_time: src.u16(),
            }),
            1 => {
                let auth_type = AuthType(src.u16());
                let key_id = src.u32();
                let key_sequence = src.u32();
                Tlv::Authentication(Authentication {
                    auth_type,
                    key_id,
                    key_sequence,
                    nullpad: [0; 8],
                    digest: src.bytes(32),
                })
            }
            2 => {
                let raw = src.bytes(40);
                match AddressList::new(raw, 0) {
                    Ok(list) => Tlv::Sequence(list),
                    Err(_) => Tlv::Unknown {
                        ty: TlvType(0x0fff),
                        value: raw,
                    },
                }
            }
            3 => Tlv::SoftwareVersion(SoftwareVersion {
                release: [src.u8(), src.u8()],
                tlv_version: [src.u8(), src.u8()],
            }),
            4 => Tlv::NextMulticastSequence(src.u32()),
            5 => Tlv::Stub(src.u16()),
            6 => Tlv::PeerTermination(src.bytes(16)),
            7 => {
                let flags = src.u16();
                let tids = src.bytes(16);
                Tlv::PeerTidList(PeerTidList {
                    flags,
                    tids: &tids[..tids.len() & !1],
                })
            }
            8 => Tlv::Classic(ClassicRoute {
                next_hop: src.addr(family),
                external: external(&mut src),
                metric: ClassicMetric {
                    delay: src.u32(),
                    bandwidth: src.u32(),
                    mtu: src.u32() & 0x00ff_ffff,
                    hop_count: src.u8(),
                    reliability: src.u8(),
                    load: src.u8(),
                    tag: src.u8(),
                    flags: src.u8(),
                },
                destinations: Destinations::new(family, &arena.dests[i]),
            }),
            9 => {
                let raw = src.bytes(24);
                let attributes = Attributes::new(raw, 0).unwrap_or_default();
                Tlv::Wide(WideRoute {
                    topology_id: src.u16(),
                    router_id: src.u32(),
                    metric: WideMetric {
                        priority: src.u8(),
                        reliability: src.u8(),
                        load: src.u8(),
                        mtu: src.u32() & 0x00ff_ffff,
                        hop_count: src.u8(),
                        delay: u64::from(src.u32()) << 16 | u64::from(src.u16()),
                        bandwidth: u64::from(src.u32()) << 16 | u64::from(src.u16()),
                        reserved: src.u16(),
                        flags: src.u16(),
                    },
                    attributes,
                    next_hop: src.addr(family),
                    external: external(&mut src),
                    destinations: Destinations::new(family, &arena.dests[i]),
                })
            }
            _ => {
                // A type this codec keeps as bytes (request, community, IPX, SAF, unassigned).
                let ty = [
                    0x0101, 0x0104, 0x0401, 0x0404, 0x0601, 0x0604, 0x0302, 0x00f2, 0x1234,
                ][usize::from(src.u8() % 9)];
                Tlv::Unknown {
                    ty: TlvType(ty),
                    value: src.bytes(20),
                }
            }
        };
        tlvs.push(tlv);
    }
    let repr = Repr {
        opcode: OpCode(src.u8()),
        flags: Flags(src.u32()),
        sequence: src.u32(),
        ack: src.u32(),
        virtual_router_id: src.u16(),
        autonomous_system: src.u16(),
        tlvs: Tlvs::new(&tlvs),
    };
    let buf = repr.to_bytes();
    let parsed = match Repr::parse(&Packet::new_unchecked(&buf[..])) {
        Ok(parsed) => parsed,
        Err(err) => panic!("emitted packet does not parse: {err}\n{repr:?}"),
    };
    assert_eq!(parsed, repr);
    assert_eq!(parsed.to_bytes(), buf);
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Found by `eigrp_round_trip`: a checksum of 0xffff is valid and re-emits as 0x0000.
    #[test]
    fn checksum_ffff_round_trips() {
        #[rustfmt::skip]
        let crash = [
            0x02, 0x00, 0xff, 0xff, 0x01, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
            0xfc, 0xfe, 0xff, 0xfe, 0x00, 0x02,
        ];
        round_trip(&crash);
    }

    #[test]
    fn arbitrary_bytes_never_panic() {
        bolero::check!().with_type::<Vec<u8>>().for_each(|data| {
            parse_bytes(data);
            round_trip(data);
        });
    }

    #[test]
    fn arbitrary_tlv_bytes_after_a_valid_header() {
        // Most random inputs fail the checksum; fix it up so the TLV parsers see them.
        bolero::check!().with_type::<Vec<u8>>().for_each(|tail| {
            let mut buf = vec![2, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 100];
            buf.extend_from_slice(tail);
            Packet::new_unchecked(&mut buf[..]).fill_checksum();
            parse_bytes(&buf);
            round_trip(&buf);
        });
    }

    dmvpn_wire::fuzz_tests! {
        fn arbitrary_community_data(Vec<u8>) => |data| communities(data);
        /// Whole communities only, so the round-trip branch is taken every time.
        fn arbitrary_communities_round_trip(Vec<[u8; 8]>) => |list| communities(list.as_flattened());
        fn arbitrary_repr_round_trips(Vec<u8>) => |data| repr_round_trip(data);
    }

    #[test]
    fn generator_covers_every_kind() {
        // Deterministic seeds that make each TLV kind at least once, so the property is not vacuous.
        for kind in 0..11u8 {
            for family in 0..2u8 {
                let mut seed = vec![1, kind, family];
                seed.extend((0..200u8).map(|i| i.wrapping_mul(37).wrapping_add(kind)));
                repr_round_trip(&seed);
            }
        }
    }
}
