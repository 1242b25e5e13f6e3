//! Differential tests against `tshark -T fields` (Wireshark 4.0): GRE fields on the shared captures, and
//! checksum verdicts on our checksummed vectors. Each skips, saying why, when tshark or the captures are
//! missing.
//!
//! The captures are read from `../../../shared/captures` relative to this crate (the layout of the dmvpn
//! workplace), or from `$DMVPN_CAPTURES`.

use std::time::Duration;

use dmvpn_gre::{Packet, Repr, enhanced};
use pcap_file::pcap::{PcapPacket, PcapWriter};

const CAPTURES: &[&str] = &[
    "packetlife/GRE.cap",
    "packetlife/gre_and_4over6.cap",
    "packetlife/mGRE_ICMP.cap",
    "packetlife/NHRP_registration.cap",
    "packetlife/ospf_over_gre_tunnel.cap",
    "tcpdump/various_gre.pcap",
    "tcpdump/nhrp-trace.pcap",
    "tcpdump/NHRP_registration.pcap",
    "tcpdump/NHRP-responder-address.pcap",
    "tcpdump/ios_nhrp.pcap",
];

const FIELDS: &[&str] = &[
    "gre.flags_and_version",
    "gre.proto",
    "gre.key",
    "gre.sequence_number",
    "gre.key.payload_length",
    "gre.key.call_id",
    "gre.ack_number",
];

/// The outermost GRE packet in an Ethernet frame: through 802.1Q tags, IPv4, and IPv4-in-IPv6.
fn gre_in_ethernet(frame: &[u8]) -> Option<&[u8]> {
    let mut ethertype = u16::from_be_bytes(frame.get(12..14)?.try_into().ok()?);
    let mut rest = frame.get(14..)?;
    while ethertype == 0x8100 {
        ethertype = u16::from_be_bytes(rest.get(2..4)?.try_into().ok()?);
        rest = rest.get(4..)?;
    }
    match ethertype {
        0x0800 => gre_in_ipv4(rest),
        0x86dd => gre_in_ipv6(rest),
        _ => None,
    }
}

fn gre_in_ipv4(ip: &[u8]) -> Option<&[u8]> {
    let ihl = usize::from(ip.first()? & 0x0f) * 4;
    let total = usize::from(u16::from_be_bytes(ip.get(2..4)?.try_into().ok()?));
    let fragment = u16::from_be_bytes(ip.get(6..8)?.try_into().ok()?) & 0x3fff;
    (*ip.get(9)? == dmvpn_gre::IP_PROTOCOL && fragment == 0)
        .then(|| ip.get(ihl..total))
        .flatten()
}

fn gre_in_ipv6(ip: &[u8]) -> Option<&[u8]> {
    let len = usize::from(u16::from_be_bytes(ip.get(4..6)?.try_into().ok()?));
    let payload = ip.get(40..40 + len)?;
    match *ip.get(6)? {
        4 => gre_in_ipv4(payload),
        47 => Some(payload),
        _ => None,
    }
}

/// Our decoding of the fields in [`FIELDS`], formatted as tshark prints them.
fn ours(gre: &[u8]) -> Vec<String> {
    let Ok(packet) = Packet::new_checked(gre) else {
        return vec![String::new(); FIELDS.len()];
    };
    let hex32 = |v: Option<u32>| v.map(|v| format!("{v:#010x}")).unwrap_or_default();
    let dec = |v: Option<u32>| v.map(|v| v.to_string()).unwrap_or_default();
    let v1 = packet.version() == 1;
    vec![
        format!("{:#06x}", packet.flags_and_version()),
        format!("{:#06x}", packet.protocol().0),
        hex32(packet.key().filter(|_| !v1)),
        dec(packet.sequence()),
        dec(packet.payload_length().map(u32::from)),
        dec(packet.call_id().map(u32::from)),
        dec(packet.ack()),
    ]
}

#[test]
fn fields_match_tshark() {
    let dir = dmvpn_testkit::captures_or_skip!();
    if !dmvpn_testkit::tshark_available() {
        return; // tshark_available says why
    }
    let mut compared = 0;
    for name in CAPTURES {
        let path = dir.join(name);
        if !path.is_file() {
            eprintln!("skipped {name}: not in {}", dir.display());
            continue;
        }
        let tshark = dmvpn_testkit::tshark_fields(&path, &["-n"], FIELDS);
        let frames = dmvpn_testkit::frames(&path);
        assert_eq!(tshark.len(), frames.len(), "{name}: tshark frame count");
        for (packet, line) in frames.iter().zip(&tshark) {
            let frame = packet.number;
            // tshark lists nested GRE layers comma-separated; compare the outermost.
            let theirs: Vec<&str> = line
                .iter()
                .map(|v| v.split(',').next().unwrap_or(""))
                .collect();
            let Some(gre) = gre_in_ethernet(&packet.data) else {
                assert!(
                    theirs.iter().all(|v| v.is_empty()),
                    "{name} frame {frame}: tshark sees GRE, we do not"
                );
                continue;
            };
            assert_eq!(ours(gre), theirs, "{name} frame {frame}");
            let packet = Packet::new_checked(gre).unwrap();
            let parsed = if packet.version() == 1 {
                enhanced::Repr::parse(&packet).map(drop)
            } else {
                Repr::parse(&packet).map(drop)
            };
            assert_eq!(parsed, Ok(()), "{name} frame {frame}");
            compared += 1;
        }
    }
    eprintln!("compared {compared} GRE packets with tshark");
    assert!(compared > 0 || !dir.join(CAPTURES[0]).is_file());
}

/// Wraps a GRE packet in Ethernet and IPv4 (10.0.0.1 → 10.0.0.2, protocol 47).
fn ethernet_ipv4_gre(gre: &[u8]) -> Vec<u8> {
    let mut frame = vec![0x02, 0, 0, 0, 0, 2, 0x02, 0, 0, 0, 0, 1, 0x08, 0x00];
    let total = u16::try_from(20 + gre.len())
        .unwrap_or(u16::MAX)
        .to_be_bytes();
    frame.extend_from_slice(&[
        0x45, 0, total[0], total[1], 0, 1, 0, 0, 64, 47, 0, 0, 10, 0, 0, 1, 10, 0, 0, 2,
    ]);
    let sum = dmvpn_wire::checksum::compute(&frame[14..34]).to_be_bytes();
    frame[24..26].copy_from_slice(&sum);
    frame.extend_from_slice(gre);
    frame
}

/// Checksums against Wireshark's: the captures have none, so this writes our checksummed vectors
/// (testdata/gre, made by scapy), each also with one payload bit flipped, and asks tshark for
/// `gre.checksum` and `gre.checksum.status` (0 bad, 1 good).
#[test]
fn checksums_match_tshark() {
    if !dmvpn_testkit::tshark_available() {
        return; // tshark_available says why
    }
    let testdata = dmvpn_testkit::testdata("gre");
    let mut packets = Vec::new();
    for name in ["checksum_key_sequence_nhrp.bin", "checksum_ipv4_icmp.bin"] {
        let good = std::fs::read(testdata.join(name)).unwrap();
        let mut bad = good.clone();
        *bad.last_mut().unwrap() ^= 0x40;
        packets.extend([good, bad]);
    }
    let path =
        std::env::temp_dir().join(format!("dmvpn-gre-checksums-{}.pcap", std::process::id()));
    let mut writer = PcapWriter::new(std::fs::File::create(&path).unwrap()).unwrap();
    for gre in &packets {
        let frame = ethernet_ipv4_gre(gre);
        let len = u32::try_from(frame.len()).unwrap();
        writer
            .write_packet(&PcapPacket::new(Duration::ZERO, len, &frame))
            .unwrap();
    }
    drop(writer);
    let tshark =
        dmvpn_testkit::tshark_fields(&path, &["-n"], &["gre.checksum", "gre.checksum.status"]);
    std::fs::remove_file(&path).unwrap();
    let lines: Vec<String> = tshark.iter().map(|row| row.join("\t")).collect();
    assert_eq!(lines.len(), packets.len());
    for (gre, line) in packets.iter().zip(lines) {
        let packet = Packet::new_checked(&gre[..]).unwrap();
        let ours = format!(
            "{:#06x}\t{}",
            packet.checksum().unwrap(),
            u8::from(packet.verify_checksum())
        );
        assert_eq!(ours, line);
        assert_eq!(Repr::parse(&packet).is_ok(), packet.verify_checksum());
    }
}
