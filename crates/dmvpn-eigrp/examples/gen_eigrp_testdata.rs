//! Writes `testdata/eigrp/emitted.pcap`: every opcode and every TLV this crate decodes, built by our
//! emitter, for cross-checking with tshark and scapy (`tests/tshark.rs`, `tools/gen/eigrp_scapy_check.py`).
//!
//! Run: `cargo run -p dmvpn-eigrp --example gen_eigrp_testdata [OUT]`. The output is deterministic.
//!
//! Classic route TLVs carry one destination each except in the frame marked "several destinations"
//! (scapy's route classes hold exactly one; tshark decodes several).
// A generator over fixed inputs: any failure is a bug here and should stop it loudly.
#![allow(clippy::unwrap_used)]

use std::io::Write;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use dmvpn_eigrp::auth::{self, Md5Span};
use dmvpn_eigrp::consts::{AttributeOpcode, ExternalProtocol, STUB_CONNECTED, STUB_SUMMARY};
use dmvpn_eigrp::tlv::{
    AddressList, Attributes, Authentication, ClassicMetric, ClassicRoute, Destination,
    Destinations, ExternalData, Family, Parameters, PeerTidList, SoftwareVersion, Tlv, WideMetric,
    WideRoute,
};
use dmvpn_eigrp::{AuthType, Flags, OpCode, Repr, Tlvs, metric};
use dmvpn_testkit::pcap::{LINKTYPE_ETHERNET, PcapWriter};

/// The MD5 key of the lab (same as `../shared/lab`'s FRR key chain).
const MD5_KEY: &[u8] = b"lab-md5-key";
/// The HMAC-SHA-256 key bytes used for the SHA-256 frame.
const SHA256_KEY: &[u8] = b"lab-sha256-key";

fn dest(prefix: &str, prefix_len: u8) -> Destination {
    Destination {
        prefix_len,
        prefix: prefix.parse().unwrap(),
    }
}

fn classic_metric(kbps: u32, tens_of_us: u32, hops: u8) -> ClassicMetric {
    ClassicMetric {
        delay: metric::scale_delay(tens_of_us),
        bandwidth: metric::scale_bandwidth(kbps),
        mtu: 1500,
        hop_count: hops,
        reliability: 255,
        load: 1,
        tag: 0,
        flags: 0,
    }
}

fn wide_metric(kbps: u64, delay_ps: u64) -> WideMetric {
    WideMetric {
        priority: 0,
        reliability: 255,
        load: 1,
        mtu: 1500,
        hop_count: 1,
        delay: delay_ps,
        bandwidth: kbps,
        reserved: 0,
        flags: 0,
    }
}

struct Frame {
    src: IpAddr,
    dst: IpAddr,
    eigrp: Vec<u8>,
}

/// A multicast-style Hello: no flags, sequence and ack 0.
fn hello(tlvs: &[Tlv<'_>]) -> Vec<u8> {
    build(OpCode::HELLO, Flags::default(), 0, 0, tlvs)
}

fn build(opcode: OpCode, flags: Flags, seq: u32, ack: u32, tlvs: &[Tlv<'_>]) -> Vec<u8> {
    let repr = Repr {
        opcode,
        flags,
        sequence: seq,
        ack,
        virtual_router_id: 0,
        autonomous_system: 123,
        tlvs: Tlvs::new(tlvs),
    };
    repr.to_bytes()
}

fn frames() -> Vec<Frame> {
    let r1: IpAddr = Ipv4Addr::new(10, 99, 0, 1).into();
    let r2: IpAddr = Ipv4Addr::new(10, 99, 0, 2).into();
    let mcast: IpAddr = Ipv4Addr::new(224, 0, 0, 10).into();
    let r1v6: IpAddr = "fe80::1".parse().unwrap();
    let mcast6: IpAddr = "ff02::a".parse().unwrap();
    let params = Tlv::Parameters(Parameters::DEFAULT);
    let sw = Tlv::SoftwareVersion(SoftwareVersion {
        release: [8, 4],
        tlv_version: [2, 0],
    });
    let mut frames = Vec::new();
    let mut push = |src, dst, eigrp| frames.push(Frame { src, dst, eigrp });

    // 1 Hello; 2 goodbye Hello (K1..K5 = 255).
    push(r1, mcast, hello(&[params, sw]));
    push(
        r1,
        mcast,
        hello(&[Tlv::Parameters(Parameters::GOODBYE), sw]),
    );
    // 3 Hello with Sequence (one address, as Cisco sends it), Next Multicast Sequence and Stub.
    let one_peer = [4, 10, 99, 0, 2];
    let sequence = Tlv::Sequence(AddressList::new(&one_peer, 0).unwrap());
    let stub = Tlv::Stub(STUB_CONNECTED | STUB_SUMMARY);
    push(
        r1,
        mcast,
        hello(&[params, sw, sequence, Tlv::NextMulticastSequence(42), stub]),
    );
    // 4 Hello (Ack).
    push(r2, r1, build(OpCode::HELLO, Flags::default(), 0, 7, &[]));
    // 5 Hello with Peer Termination (FRR's form: one zero byte, then the peer's address), a Sequence
    // with two addresses and a Peer TID list.
    let two_peers = [4, 10, 99, 0, 2, 4, 10, 99, 0, 3];
    let termination = Tlv::PeerTermination(&[0, 10, 99, 0, 2]);
    let sequence = Tlv::Sequence(AddressList::new(&two_peers, 0).unwrap());
    let tids = Tlv::PeerTidList(PeerTidList {
        flags: 0,
        tids: &[0, 0, 0, 2],
    });
    push(r1, mcast, hello(&[params, sw, termination, sequence, tids]));
    // 6 MD5-authenticated Hello, 7 HMAC-SHA-256-authenticated Hello.
    for (auth_type, len, key) in [
        (AuthType::MD5, 16, MD5_KEY),
        (AuthType::SHA256, 32, SHA256_KEY),
    ] {
        let zero = [0u8; 32];
        let auth = Tlv::Authentication(Authentication {
            auth_type,
            key_id: 1,
            key_sequence: 0,
            nullpad: [0; 8],
            digest: &zero[..len],
        });
        let mut bytes = hello(&[auth, params, sw]);
        auth::sign(&mut bytes, key, Md5Span::Packet).unwrap();
        push(r1, mcast, bytes);
    }
    // 8 INIT Update (empty).
    push(r1, r2, build(OpCode::UPDATE, Flags::INIT, 1, 0, &[]));
    // 9 EOT Update with IPv4 internal and external routes, one destination each.
    let d = [
        dest("10.99.11.0", 24),
        dest("10.99.255.1", 32),
        dest("192.0.2.0", 25),
    ];
    let ext = ExternalData {
        origin_router: u32::from(Ipv4Addr::new(10, 99, 255, 1)),
        origin_as: 65001,
        tag: 7,
        external_metric: 20,
        reserved: 0,
        protocol: ExternalProtocol::STATIC,
        flags: 0,
    };
    let unspecified4 = IpAddr::V4(Ipv4Addr::UNSPECIFIED);
    // A classic route TLV; the next hop gives the destinations' family.
    let classic = |next_hop: IpAddr, external, metric, destinations| {
        let family = if next_hop.is_ipv6() {
            Family::Ipv6
        } else {
            Family::Ipv4
        };
        Tlv::Classic(ClassicRoute {
            next_hop,
            external,
            metric,
            destinations: Destinations::new(family, destinations),
        })
    };
    let d0 = [d[0]];
    let d1 = [d[1]];
    let d2 = [d[2]];
    let tlvs = [
        classic(unspecified4, None, classic_metric(10_000_000, 1, 0), &d0),
        classic(unspecified4, None, classic_metric(10_000_000, 500, 0), &d1),
        classic(r2, Some(ext), classic_metric(100_000, 10, 1), &d2),
    ];
    push(r1, r2, build(OpCode::UPDATE, Flags::EOT, 2, 1, &tlvs));
    // 10 Update with several destinations in one TLV (RFC 7868 packing; scapy cannot split it).
    let tlvs = [classic(
        unspecified4,
        None,
        classic_metric(1_000_000, 1, 0),
        &d,
    )];
    push(r1, r2, build(OpCode::UPDATE, Flags::default(), 3, 2, &tlvs));
    // 11 IPv6 Update over IPv6: internal and external classic routes.
    let v6a = [dest("2001:db8:0:100::", 64)];
    let v6b = [dest("2001:db8:ff::", 48)];
    let unspecified6 = IpAddr::V6(Ipv6Addr::UNSPECIFIED);
    let tlvs = [
        classic(unspecified6, None, classic_metric(100_000, 10, 0), &v6a),
        Tlv::Classic(ClassicRoute {
            next_hop: unspecified6,
            external: Some(ExternalData {
                protocol: ExternalProtocol::OSPF,
                ..ext
            }),
            metric: classic_metric(100_000, 20, 1),
            destinations: Destinations::new(Family::Ipv6, &v6b),
        }),
    ];
    push(r1v6, mcast6, build(OpCode::UPDATE, Flags::CR, 4, 0, &tlvs));
    // 12 Update with wide-metric multi-protocol TLVs: IPv4 internal with a tag attribute, IPv4
    // external, IPv6 internal.
    let tag_attr = [AttributeOpcode::TAG.0, 2, 0, 0, 0, 99];
    let wd4 = [dest("10.99.12.0", 24)];
    let wd4e = [dest("198.51.100.0", 24)];
    let wd6 = [dest("2001:db8:0:200::", 64)];
    let wide = |external, destinations, attributes, next_hop| {
        Tlv::Wide(WideRoute {
            topology_id: 0,
            router_id: u32::from(Ipv4Addr::new(10, 99, 255, 1)),
            metric: wide_metric(1_000_000, 10_000_000),
            attributes,
            next_hop,
            external,
            destinations,
        })
    };
    let tlvs = [
        wide(
            None,
            Destinations::new(Family::Ipv4, &wd4),
            Attributes::new(&tag_attr, 0).unwrap(),
            unspecified4,
        ),
        wide(
            Some(ext),
            Destinations::new(Family::Ipv4, &wd4e),
            Attributes::default(),
            unspecified4,
        ),
        wide(
            None,
            Destinations::new(Family::Ipv6, &wd6),
            Attributes::default(),
            unspecified6,
        ),
    ];
    push(r1, r2, build(OpCode::UPDATE, Flags::default(), 5, 4, &tlvs));
    // 13 Request, 14 Query (unreachable), 15 Reply, 16 SIA-Query, 17 SIA-Reply.
    let unreachable = ClassicMetric {
        delay: ClassicMetric::UNREACHABLE,
        ..classic_metric(10_000_000, 1, 0)
    };
    let q = |metric| {
        Tlv::Classic(ClassicRoute {
            next_hop: unspecified4,
            external: None,
            metric,
            destinations: Destinations::new(Family::Ipv4, &d0),
        })
    };
    let tlvs = [q(classic_metric(10_000_000, 1, 0))];
    push(
        r1,
        r2,
        build(OpCode::REQUEST, Flags::default(), 6, 5, &tlvs),
    );
    push(
        r1,
        mcast,
        build(OpCode::QUERY, Flags::default(), 7, 0, &[q(unreachable)]),
    );
    push(
        r2,
        r1,
        build(OpCode::REPLY, Flags::default(), 8, 7, &[q(unreachable)]),
    );
    push(
        r1,
        r2,
        build(OpCode::SIA_QUERY, Flags::default(), 9, 8, &[q(unreachable)]),
    );
    let tlvs = [q(unreachable)];
    push(
        r2,
        r1,
        build(OpCode::SIA_REPLY, Flags::default(), 10, 9, &tlvs),
    );
    frames
}

fn ipv4_header(src: Ipv4Addr, dst: Ipv4Addr, payload_len: usize) -> Vec<u8> {
    let total = u16::try_from(20 + payload_len).unwrap();
    let mut h = vec![0x45, 0xc0];
    h.extend_from_slice(&total.to_be_bytes());
    h.extend_from_slice(&[0, 0, 0, 0, if dst.is_multicast() { 1 } else { 2 }, 88, 0, 0]);
    h.extend_from_slice(&src.octets());
    h.extend_from_slice(&dst.octets());
    let sum = dmvpn_wire::checksum::compute(&h);
    h[10..12].copy_from_slice(&sum.to_be_bytes());
    h
}

fn ipv6_header(src: Ipv6Addr, dst: Ipv6Addr, payload_len: usize) -> Vec<u8> {
    let mut h = vec![0x6e, 0, 0, 0];
    h.extend_from_slice(&u16::try_from(payload_len).unwrap().to_be_bytes());
    h.extend_from_slice(&[88, 255]);
    h.extend_from_slice(&src.octets());
    h.extend_from_slice(&dst.octets());
    h
}

fn main() -> std::io::Result<()> {
    let out = std::env::args().nth(1).unwrap_or_else(|| {
        concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../../testdata/eigrp/emitted.pcap"
        )
        .to_owned()
    });
    let mut pcap = PcapWriter::new(LINKTYPE_ETHERNET);
    for (i, frame) in frames().iter().enumerate() {
        let mut eth = match frame.dst {
            IpAddr::V4(d) if d.is_multicast() => vec![0x01, 0x00, 0x5e, 0x00, 0x00, 0x0a],
            IpAddr::V6(d) if d.is_multicast() => vec![0x33, 0x33, 0x00, 0x00, 0x00, 0x0a],
            _ => vec![0x02, 0, 0, 0x63, 0, 2],
        };
        eth.extend_from_slice(&[0x02, 0, 0, 0x63, 0, 1]);
        match (frame.src, frame.dst) {
            (IpAddr::V4(s), IpAddr::V4(d)) => {
                eth.extend_from_slice(&[0x08, 0x00]);
                eth.extend_from_slice(&ipv4_header(s, d, frame.eigrp.len()));
            }
            (IpAddr::V6(s), IpAddr::V6(d)) => {
                eth.extend_from_slice(&[0x86, 0xdd]);
                eth.extend_from_slice(&ipv6_header(s, d, frame.eigrp.len()));
            }
            _ => unreachable!("mixed families"),
        }
        eth.extend_from_slice(&frame.eigrp);
        // Timestamps: 2026-11-25 00:00:00 UTC plus one second per frame.
        pcap.record(1_795_564_800u32 + u32::try_from(i).unwrap(), 0, &eth);
    }
    std::fs::create_dir_all(std::path::Path::new(&out).parent().unwrap())?;
    std::fs::File::create(&out)?.write_all(&pcap.into_bytes())?;
    println!("wrote {out}");
    Ok(())
}
