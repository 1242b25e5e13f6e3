//! Writes `testdata/nhrp/emitted.pcap`: every NHRP packet type and extension, built by this
//! crate's emitter, each in Ethernet / IPv4 / GRE (protocol 0x2001) like a DMVPN capture; and
//! `testdata/nhrp/malformed.pcap`: the first of them broken in the ways both this crate and tshark
//! must flag (bad checksum, bad packet size, bad extension offset, an extension running past the
//! packet, data after End of Extensions).
//!
//! Run with `cargo run -p dmvpn-nhrp --example gen_nhrp_testdata`. The output is deterministic;
//! `tests/tshark.rs` regenerates it in memory, checks that the committed file is current, and has
//! tshark decode every frame.

use core::net::Ipv4Addr;
use dmvpn_nhrp::cie;
use dmvpn_nhrp::extension::{self, Authentication, CISCO_OUI, Value};
use dmvpn_nhrp::{
    CieCode, CieList, Control, ErrorCode, ErrorIndication, ExtensionList, ExtensionType, Flags,
    Message, NbmaAddress, Packet, ProtocolType, Repr, TrafficCode, TrafficIndication,
};

use dmvpn_ip::ipv4;
use dmvpn_testkit::pcap::{LINKTYPE_ETHERNET, PcapWriter};

const HUB_NBMA: [u8; 4] = [192, 0, 2, 1];
const HUB_TUNNEL: [u8; 4] = [10, 99, 200, 1];
const SPOKE1_NBMA: [u8; 4] = [192, 0, 2, 11];
const SPOKE1_TUNNEL: [u8; 4] = [10, 99, 200, 11];
const SPOKE1_NAT: [u8; 4] = [198, 51, 100, 7];
const SPOKE2_NBMA: [u8; 4] = [192, 0, 2, 12];
const SPOKE2_TUNNEL: [u8; 4] = [10, 99, 200, 12];
const PASSWORD: &[u8] = b"dmvpnkey";

/// One frame: NBMA source and destination, and the NHRP packet.
#[derive(Clone)]
pub(crate) struct Frame {
    pub(crate) src: [u8; 4],
    pub(crate) dst: [u8; 4],
    pub(crate) nhrp: Vec<u8>,
}

impl Frame {
    /// `repr` emitted, sent from NBMA address `src` to `dst`.
    fn of(src: [u8; 4], dst: [u8; 4], repr: &Repr<'_>) -> Self {
        Self {
            src,
            dst,
            nhrp: repr.to_bytes(),
        }
    }
}

/// An IPv4 packet from `src` to `dst` (tunnel addresses) with `extensions`, none when empty.
fn ipv4_repr<'a>(
    src_nbma: &'a [u8],
    src: &'a [u8],
    dst: &'a [u8],
    message: Message<'a>,
    extensions: &'a [extension::Repr<'a>],
) -> Repr<'a> {
    Repr {
        extensions: (!extensions.is_empty()).then(|| ExtensionList::new(extensions)),
        ..Repr::ipv4(NbmaAddress::nsap(src_nbma), src, dst, message)
    }
}

fn ext(compulsory: bool, value: Value<'_>) -> extension::Repr<'_> {
    extension::Repr { compulsory, value }
}

fn control<'a>(flags: Flags, request_id: u32, cies: &'a [cie::Repr<'a>]) -> Control<'a> {
    Control {
        flags,
        request_id,
        cies: CieList::new(cies),
    }
}

fn binding<'a>(code: CieCode, nbma: &'a [u8], proto: &'a [u8]) -> cie::Repr<'a> {
    cie::Repr {
        code,
        prefix_len: 32,
        mtu: 1400,
        holding_time: 7200,
        nbma: NbmaAddress::nsap(nbma),
        nbma_sub: NbmaAddress::NONE,
        proto,
        preference: 0,
    }
}

/// The CIE of a request (what the sender asks for): no addresses, MTU 1400, the prefix length and holding time asked for.
fn request_entry(prefix_len: u8, holding_time: u16) -> cie::Repr<'static> {
    cie::Repr {
        prefix_len,
        mtu: 1400,
        holding_time,
        ..cie::Repr::default()
    }
}

/// An ICMP echo request 10.99.200.11 -> 10.99.200.12, 28 bytes: what a hub quotes in a redirect.
fn icmp_echo() -> Vec<u8> {
    let mut packet = vec![
        0x45, 0x00, 0x00, 0x1c, 0x00, 0x05, 0x00, 0x00, 0xff, 0x01, 0x00, 0x00, 10, 99, 200, 11,
        10, 99, 200, 12, 0x08, 0x00, 0x00, 0x00, 0x00, 0x01, 0x00, 0x00,
    ];
    let ip = dmvpn_wire::checksum::compute(&packet[..20]);
    packet[10..12].copy_from_slice(&ip.to_be_bytes());
    let icmp = dmvpn_wire::checksum::compute(&packet[20..]);
    packet[22..24].copy_from_slice(&icmp.to_be_bytes());
    packet
}

/// Every frame of `emitted.pcap`, in order.
pub(crate) fn frames() -> Vec<Frame> {
    let mut frames = Vec::new();
    let auth = ext(
        true,
        Value::Authentication(Authentication::cleartext(PASSWORD)),
    );
    let hub = [binding(CieCode::SUCCESS, &HUB_NBMA, &HUB_TUNNEL)];
    let spoke1_nat = [binding(CieCode::SUCCESS, &SPOKE1_NAT, &SPOKE1_TUNNEL)];
    let spoke2 = [binding(CieCode::SUCCESS, &SPOKE2_NBMA, &SPOKE2_TUNNEL)];

    // 1. Registration Request, spoke1 -> hub, as FRR nhrpd builds it (nhrp_nhs.c).
    let request_cie = [request_entry(0xff, 7200)];
    let exts = [
        ext(true, Value::ForwardTransitNhsRecord(CieList::EMPTY)),
        ext(true, Value::ReverseTransitNhsRecord(CieList::EMPTY)),
        ext(true, Value::ResponderAddress(CieList::EMPTY)),
        ext(false, Value::CiscoNatAddress(CieList::new(&hub))),
        auth,
        extension::Repr::END,
    ];
    let request = control(
        Flags::REGISTRATION_UNIQUE | Flags::CISCO_NAT,
        1,
        &request_cie,
    );
    let registration = Repr {
        hop_count: 1,
        ..ipv4_repr(
            &SPOKE1_NBMA,
            &SPOKE1_TUNNEL,
            &HUB_TUNNEL,
            Message::RegistrationRequest(request),
            &exts,
        )
    };
    let registration_bytes = registration.to_bytes();
    frames.push(Frame::of(SPOKE1_NBMA, HUB_NBMA, &registration));

    // 2. Registration Reply, hub -> spoke1: the hub answers, and echoes the NAT address it saw.
    let reply_cie = [cie::Repr {
        code: CieCode::SUCCESS,
        ..request_cie[0]
    }];
    let exts = [
        ext(true, Value::ResponderAddress(CieList::new(&hub))),
        ext(true, Value::ForwardTransitNhsRecord(CieList::EMPTY)),
        ext(true, Value::ReverseTransitNhsRecord(CieList::EMPTY)),
        ext(false, Value::CiscoNatAddress(CieList::new(&spoke1_nat))),
        auth,
        extension::Repr::END,
    ];
    let reply = ipv4_repr(
        &SPOKE1_NBMA,
        &SPOKE1_TUNNEL,
        &HUB_TUNNEL,
        Message::RegistrationReply(Control {
            cies: CieList::new(&reply_cie),
            ..request
        }),
        &exts,
    );
    frames.push(Frame::of(HUB_NBMA, SPOKE1_NBMA, &reply));

    // 3. Resolution Request spoke1 -> spoke2, forwarded by the hub (it adds itself to the
    //    Forward Transit NHS Record).
    let resolve_cie = [request_entry(0, 7200)];
    let exts = [
        ext(true, Value::ResponderAddress(CieList::EMPTY)),
        ext(true, Value::ForwardTransitNhsRecord(CieList::new(&hub))),
        ext(true, Value::ReverseTransitNhsRecord(CieList::EMPTY)),
        auth,
        ext(false, Value::CiscoNatAddress(CieList::EMPTY)),
        extension::Repr::END,
    ];
    let resolve = control(
        Flags::RESOLUTION_ROUTER | Flags::RESOLUTION_SOURCE_STABLE | Flags::CISCO_NAT,
        2,
        &resolve_cie,
    );
    let resolution = Repr {
        hop_count: 254,
        ..ipv4_repr(
            &SPOKE1_NBMA,
            &SPOKE1_TUNNEL,
            &SPOKE2_TUNNEL,
            Message::ResolutionRequest(resolve),
            &exts,
        )
    };
    frames.push(Frame::of(HUB_NBMA, SPOKE2_NBMA, &resolution));

    // 4. Resolution Reply spoke2 -> spoke1, with every record filled and a Cisco Vendor-Private.
    let exts = [
        ext(true, Value::ResponderAddress(CieList::new(&spoke2))),
        ext(true, Value::ForwardTransitNhsRecord(CieList::new(&hub))),
        ext(true, Value::ReverseTransitNhsRecord(CieList::new(&hub))),
        ext(
            false,
            Value::VendorPrivate {
                vendor: CISCO_OUI,
                data: &[0x01, 0x02, 0x03, 0x04],
            },
        ),
        extension::Repr::END,
    ];
    let all_flags = Flags(0xf802);
    let resolution_reply = ipv4_repr(
        &SPOKE1_NBMA,
        &SPOKE1_TUNNEL,
        &SPOKE2_TUNNEL,
        Message::ResolutionReply(control(all_flags, 2, &spoke2)),
        &exts,
    );
    frames.push(Frame::of(SPOKE2_NBMA, SPOKE1_NBMA, &resolution_reply));

    // 5. Purge Request hub -> spoke1 for spoke2's binding, with an unknown (non-compulsory) extension.
    let exts = [
        ext(
            false,
            Value::Unknown {
                ty: ExtensionType(0x1001),
                value: b"atmf",
            },
        ),
        extension::Repr::END,
    ];
    let purge = ipv4_repr(
        &HUB_NBMA,
        &HUB_TUNNEL,
        &SPOKE1_TUNNEL,
        Message::PurgeRequest(control(Flags::EMPTY, 3, &spoke2)),
        &exts,
    );
    frames.push(Frame::of(HUB_NBMA, SPOKE1_NBMA, &purge));

    // 6. Purge Reply spoke1 -> hub, with an RFC 2735 Device Capabilities extension.
    let exts = [
        ext(
            false,
            Value::DeviceCapabilities {
                source: 1,
                destination: 0,
            },
        ),
        extension::Repr::END,
    ];
    let purge_reply = ipv4_repr(
        &HUB_NBMA,
        &HUB_TUNNEL,
        &SPOKE1_TUNNEL,
        Message::PurgeReply(control(Flags::EMPTY, 3, &spoke2)),
        &exts,
    );
    frames.push(Frame::of(SPOKE1_NBMA, HUB_NBMA, &purge_reply));

    // 7. Error Indication hub -> spoke1: authentication failure, quoting request 1; the offset
    //    points at its Authentication extension. RFC 2332 §5.2.7: no extensions.
    let auth_offset = auth_offset(&registration_bytes);
    let error = ipv4_repr(
        &HUB_NBMA,
        &HUB_TUNNEL,
        &SPOKE1_TUNNEL,
        Message::ErrorIndication(ErrorIndication {
            code: ErrorCode::AUTHENTICATION_FAILURE,
            offset: auth_offset,
            packet: &registration_bytes,
        }),
        &[],
    );
    frames.push(Frame::of(HUB_NBMA, SPOKE1_NBMA, &error));

    // 8. Traffic Indication hub -> spoke1 (phase 3 redirect) for spoke1's ping to spoke2.
    let echo = icmp_echo();
    let exts = [
        ext(true, Value::ForwardTransitNhsRecord(CieList::EMPTY)),
        ext(true, Value::ReverseTransitNhsRecord(CieList::EMPTY)),
        auth,
        ext(false, Value::CiscoNatAddress(CieList::EMPTY)),
        extension::Repr::END,
    ];
    let redirect = ipv4_repr(
        &HUB_NBMA,
        &HUB_TUNNEL,
        &SPOKE2_TUNNEL,
        Message::TrafficIndication(TrafficIndication {
            code: TrafficCode::REDIRECT,
            packet: &echo,
        }),
        &exts,
    );
    frames.push(Frame::of(HUB_NBMA, SPOKE1_NBMA, &redirect));

    // 9. Registration Request over an IPv6 tunnel: 16-byte protocol addresses and CIE addresses.
    let v6_spoke: [u8; 16] = [
        0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x0b,
    ];
    let v6_hub: [u8; 16] = [
        0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x01,
    ];
    let v6_cies = [binding(CieCode::SUCCESS, &HUB_NBMA, &v6_hub)];
    let v6_request = [request_entry(128, 600)];
    let exts = [
        ext(false, Value::CiscoNatAddress(CieList::new(&v6_cies))),
        auth,
        extension::Repr::END,
    ];
    let v6 = Repr {
        protocol_type: ProtocolType::IPV6,
        ..ipv4_repr(
            &SPOKE1_NBMA,
            &v6_spoke,
            &v6_hub,
            Message::RegistrationRequest(control(Flags::CISCO_NAT, 4, &v6_request)),
            &exts,
        )
    };
    frames.push(Frame::of(SPOKE1_NBMA, HUB_NBMA, &v6));

    frames
}

/// Where the Authentication extension of an emitted packet starts.
fn auth_offset(bytes: &[u8]) -> u16 {
    let Ok(packet) = Packet::new_checked(bytes) else {
        return 0;
    };
    let Some(range) = packet.extensions_range() else {
        return 0;
    };
    let mut at = range.start;
    for ext in extension::Iter::new(&bytes[range.clone()], range.start).map_while(Result::ok) {
        if ext.value.ty() == ExtensionType::AUTHENTICATION {
            return at as u16;
        }
        at += ext.buffer_len();
    }
    0
}

/// Wraps an NHRP packet in Ethernet, IPv4 (protocol 47) and GRE (protocol 0x2001).
pub(crate) fn ethernet_frame(frame: &Frame, id: u16) -> Vec<u8> {
    // Locally administered MACs ending in the host's last NBMA octet.
    let mac = |ip: [u8; 4]| [0x02, 0, 0, 0, 0, ip[3]];
    let mut gre = vec![0x00, 0x00, 0x20, 0x01];
    gre.extend_from_slice(&frame.nhrp);
    let (src, dst) = (Ipv4Addr::from(frame.src), Ipv4Addr::from(frame.dst));
    let ip = ipv4::Repr {
        ident: id,
        ttl: 255,
        ..ipv4::Repr::new(src, dst, ipv4::Protocol::GRE, 0)
    };
    let mut bytes = [mac(frame.dst), mac(frame.src)].concat();
    bytes.extend_from_slice(&[0x08, 0x00]);
    bytes.extend_from_slice(&ip.emit_vec(&gre));
    bytes
}

/// Frames with broken NHRP, each with what is wrong.
pub(crate) fn malformed_frames() -> Vec<(Frame, &'static str)> {
    let good = frames().swap_remove(0);
    let broken = |what: &'static str, edit: &dyn Fn(&mut Vec<u8>)| {
        let mut nhrp = good.nhrp.clone();
        edit(&mut nhrp);
        (Frame { nhrp, ..good }, what)
    };
    let fix_checksum = |nhrp: &mut Vec<u8>| Packet::new_unchecked(&mut nhrp[..]).fill_checksum();
    let set_size = |nhrp: &mut Vec<u8>| {
        let len = nhrp.len() as u16;
        Packet::new_unchecked(&mut nhrp[..]).set_packet_size(len);
    };
    vec![
        broken("bad checksum", &|nhrp| nhrp[9] ^= 0x10),
        broken("packet size below the fixed header", &|nhrp| {
            Packet::new_unchecked(&mut nhrp[..]).set_packet_size(12);
        }),
        broken("extension offset past the packet", &|nhrp| {
            let len = nhrp.len() as u16;
            Packet::new_unchecked(&mut nhrp[..]).set_extension_offset(len + 4);
            fix_checksum(nhrp);
        }),
        broken("extension length past the packet", &|nhrp| {
            // An unknown extension claiming 64 bytes where 4 follow, in place of End.
            let end = nhrp.len() - 4;
            nhrp.truncate(end);
            nhrp.extend_from_slice(&[0x10, 0x01, 0x00, 0x40, 0xde, 0xad, 0xbe, 0xef]);
            set_size(nhrp);
            fix_checksum(nhrp);
        }),
        broken("data after End of Extensions", &|nhrp| {
            nhrp.extend_from_slice(&[0xde, 0xad, 0xbe, 0xef]);
            set_size(nhrp);
            fix_checksum(nhrp);
        }),
    ]
}

/// A classic little-endian pcap (linktype Ethernet) of `frames`, one second apart.
pub(crate) fn pcap_of<'a>(frames: impl IntoIterator<Item = &'a Frame>) -> Vec<u8> {
    let mut out = PcapWriter::new(LINKTYPE_ETHERNET);
    for (i, frame) in frames.into_iter().enumerate() {
        let data = ethernet_frame(frame, i as u16 + 1);
        out.record(1_700_000_000 + i as u32, 0, &data);
    }
    out.into_bytes()
}

/// `emitted.pcap`.
pub(crate) fn pcap() -> Vec<u8> {
    pcap_of(&frames())
}

/// `malformed.pcap`.
pub(crate) fn malformed_pcap() -> Vec<u8> {
    let frames = malformed_frames();
    pcap_of(frames.iter().map(|(frame, _)| frame))
}

/// Where the files go: `testdata/nhrp/` at the workspace root.
pub(crate) fn path(name: &str) -> std::path::PathBuf {
    std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../testdata/nhrp")
        .join(name)
}

#[allow(dead_code)] // `tests/tshark.rs` includes this file as a module and does not call `main`.
fn main() -> std::io::Result<()> {
    for (name, bytes, count) in [
        ("emitted.pcap", pcap(), frames().len()),
        ("malformed.pcap", malformed_pcap(), malformed_frames().len()),
    ] {
        let path = path(name);
        std::fs::write(&path, bytes)?;
        println!("wrote {count} frames to {}", path.display());
    }
    Ok(())
}
