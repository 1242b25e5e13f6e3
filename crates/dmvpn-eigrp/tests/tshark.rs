//! Differential test: every EIGRP packet of the real captures (`../../../shared/captures`) and of our
//! own `testdata/eigrp/*.pcap` decodes without error, and its fields match `tshark -T fields`.
//!
//! Skips with a printed reason when tshark or the shared captures are missing (`dmvpn-testkit`
//! finds both and walks the captures).
//!
//! Known tshark 4.0 difference: in a route TLV with several destinations it counts each prefix-length
//! byte twice (`dissect_eigrp_ipv4_addrs` advances the offset inside and after the loop), so from the
//! second destination on it reads garbage. Route fields of such frames are not compared; the frame
//! and TLV types still are, and our decode of them is checked by the unit tests and by scapy.
// Test helpers: a failure should panic with the value in the message.
#![allow(clippy::unwrap_used)]

use std::collections::BTreeMap;
use std::net::{Ipv4Addr, Ipv6Addr};
use std::path::{Path, PathBuf};
use std::process::Command;

use dmvpn_eigrp::tlv::Tlv;
use dmvpn_eigrp::{Packet, Repr};

mod common;
use common::eigrp_frames;

/// The tshark fields compared, with how to render ours.
const FIELDS: &[&str] = &[
    "eigrp.opcode",
    "eigrp.as",
    "eigrp.seq",
    "eigrp.ack",
    "eigrp.flags",
    "eigrp.vrid",
    "eigrp.checksum",
    "eigrp.tlv_type",
    "eigrp.par.k1",
    "eigrp.par.k2",
    "eigrp.par.k3",
    "eigrp.par.k4",
    "eigrp.par.k5",
    "eigrp.par.k6",
    "eigrp.par.holdtime",
    "eigrp.next_mcast_seq",
    "eigrp.seq.ipv4addr",
    "eigrp.seq.ipv6addr",
    "eigrp.auth.type",
    "eigrp.auth.keyid",
    "eigrp.auth.keyseq",
    "eigrp.auth.digest",
    "eigrp.ipv4.nexthop",
    "eigrp.ipv6.nexthop",
    "eigrp.ipv4.prefixlen",
    "eigrp.ipv4.destination",
    "eigrp.ipv6.prefixlen",
    "eigrp.ipv6.destination",
    "eigrp.old_metric.delay",
    "eigrp.old_metric.bw",
    "eigrp.old_metric.mtu",
    "eigrp.old_metric.hopcount",
    "eigrp.extdata.as",
    "eigrp.extdata.proto",
    "eigrp.afi",
    "eigrp.routerid",
    "eigrp.metric.delay",
    "eigrp.metric.bandwidth",
];

/// Route fields tshark 4.0 gets wrong for TLVs with several destinations (see the module docs).
const ROUTE_FIELDS: &[&str] = &[
    "eigrp.ipv4.prefixlen",
    "eigrp.ipv4.destination",
    "eigrp.ipv6.prefixlen",
    "eigrp.ipv6.destination",
];

/// Our decode, rendered as tshark renders each field (occurrences joined by commas).
fn ours(bytes: &[u8]) -> (BTreeMap<&'static str, String>, bool) {
    let packet = Packet::new_checked(bytes).unwrap();
    let repr = Repr::parse(&packet).unwrap_or_else(|e| panic!("decode failed: {e}"));
    let mut f: BTreeMap<&'static str, Vec<String>> = BTreeMap::new();
    let mut put = |k: &'static str, v: String| f.entry(k).or_default().push(v);
    put("eigrp.opcode", repr.opcode.0.to_string());
    put("eigrp.as", repr.autonomous_system.to_string());
    put("eigrp.seq", repr.sequence.to_string());
    put("eigrp.ack", repr.ack.to_string());
    put("eigrp.flags", format!("{:#010x}", repr.flags.0));
    put("eigrp.vrid", repr.virtual_router_id.to_string());
    put("eigrp.checksum", format!("{:#06x}", packet.checksum()));
    let mut several = false;
    for tlv in repr.tlvs.iter() {
        put("eigrp.tlv_type", format!("{:#06x}", tlv.ty().0));
        let mut route = None;
        match tlv {
            Tlv::Parameters(p) => {
                // K1..K6, as FIELDS lists them.
                let keys = FIELDS.iter().filter(|f| f.starts_with("eigrp.par.k"));
                for (&key, k) in keys.zip(p.k) {
                    put(key, k.to_string());
                }
                put("eigrp.par.holdtime", p.hold_time.to_string());
            }
            Tlv::NextMulticastSequence(n) => put("eigrp.next_mcast_seq", n.to_string()),
            Tlv::Sequence(list) => {
                for addr in list.iter() {
                    match addr.len() {
                        4 => put(
                            "eigrp.seq.ipv4addr",
                            Ipv4Addr::from(<[u8; 4]>::try_from(addr).unwrap()).to_string(),
                        ),
                        16 => put(
                            "eigrp.seq.ipv6addr",
                            Ipv6Addr::from(<[u8; 16]>::try_from(addr).unwrap()).to_string(),
                        ),
                        _ => {}
                    }
                }
            }
            Tlv::Authentication(a) => {
                put("eigrp.auth.type", a.auth_type.0.to_string());
                put("eigrp.auth.keyid", a.key_id.to_string());
                put("eigrp.auth.keyseq", a.key_sequence.to_string());
                put(
                    "eigrp.auth.digest",
                    a.digest.iter().map(|b| format!("{b:02x}")).collect(),
                );
            }
            Tlv::Classic(r) => {
                put("eigrp.old_metric.delay", r.metric.delay.to_string());
                put("eigrp.old_metric.bw", r.metric.bandwidth.to_string());
                put("eigrp.old_metric.mtu", r.metric.mtu.to_string());
                put("eigrp.old_metric.hopcount", r.metric.hop_count.to_string());
                route = Some((r.next_hop, r.external, r.destinations));
            }
            Tlv::Wide(r) => {
                put("eigrp.afi", r.afi().0.to_string());
                put("eigrp.routerid", Ipv4Addr::from(r.router_id).to_string());
                put("eigrp.metric.delay", r.metric.delay.to_string());
                put("eigrp.metric.bandwidth", r.metric.bandwidth.to_string());
                route = Some((r.next_hop, r.external, r.destinations));
            }
            _ => {}
        }
        // What the classic and wide route TLVs share, under the next hop's family.
        if let Some((next_hop, external, destinations)) = route {
            several |= destinations.iter().count() > 1;
            let [nexthop, prefixlen, destination] = if next_hop.is_ipv6() {
                [
                    "eigrp.ipv6.nexthop",
                    "eigrp.ipv6.prefixlen",
                    "eigrp.ipv6.destination",
                ]
            } else {
                [
                    "eigrp.ipv4.nexthop",
                    "eigrp.ipv4.prefixlen",
                    "eigrp.ipv4.destination",
                ]
            };
            put(nexthop, next_hop.to_string());
            if let Some(ext) = external {
                put("eigrp.extdata.as", ext.origin_as.to_string());
                put("eigrp.extdata.proto", ext.protocol.0.to_string());
            }
            for d in destinations.iter() {
                put(prefixlen, d.prefix_len.to_string());
                put(destination, d.prefix.to_string());
            }
        }
    }
    (
        f.into_iter().map(|(k, v)| (k, v.join(","))).collect(),
        several,
    )
}

/// tshark's view: frame number → field → value.
fn tshark(path: &Path) -> BTreeMap<usize, BTreeMap<&'static str, String>> {
    let columns: Vec<&str> = ["frame.number"].iter().chain(FIELDS).copied().collect();
    dmvpn_testkit::tshark_fields(path, &["-Y", "eigrp"], &columns)
        .into_iter()
        .map(|row| {
            let number = row[0].parse().unwrap();
            let fields = FIELDS
                .iter()
                .zip(&row[1..])
                .filter(|(_, v)| !v.is_empty())
                .map(|(k, v)| (*k, v.clone()))
                .collect();
            (number, fields)
        })
        .collect()
}

fn captures() -> Vec<PathBuf> {
    let mut files = Vec::new();
    if let Some(shared) = dmvpn_testkit::captures() {
        for name in [
            "packetlife/EIGRP_adjacency.cap",
            "packetlife/EIGRP_goodbye.cap",
            "packetlife/EIGRP_subnet_down.cap",
            "packetlife/EIGRP_subnet_up.cap",
            "packetlife/EIGRPv2_adjacency.cap",
            "packetlife/EIGRPv2_subnet_transition.cap",
            "tcpdump/EIGRP_ipv6.pcap",
        ] {
            files.push(shared.join(name));
        }
    } else {
        println!("skipping the shared captures: ../shared/captures is absent");
    }
    if let Ok(dir) = std::fs::read_dir(dmvpn_testkit::testdata("eigrp")) {
        let mut own: Vec<_> = dir
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|p| p.extension().is_some_and(|e| e == "pcap"))
            .collect();
        own.sort();
        files.extend(own);
    }
    files
}

#[test]
fn every_packet_decodes() {
    let files = captures();
    assert!(!files.is_empty() || !dmvpn_testkit::testdata("eigrp").is_dir());
    for path in files {
        let frames = eigrp_frames(&path);
        assert!(!frames.is_empty(), "{}: no EIGRP packet", path.display());
        for frame in &frames {
            let packet = Packet::new_checked(&frame.eigrp[..]).unwrap();
            let repr = Repr::parse(&packet)
                .unwrap_or_else(|e| panic!("{} frame {}: {e}", path.display(), frame.number));
            // Re-emitting a parsed packet is byte-exact.
            let mut out = vec![0; repr.buffer_len()];
            repr.emit(&mut Packet::new_unchecked(&mut out[..]));
            assert_eq!(
                out,
                frame.eigrp,
                "{} frame {}",
                path.display(),
                frame.number
            );
            let _ = repr.to_string();
        }
    }
}

#[test]
fn fields_match_tshark() {
    if !dmvpn_testkit::tshark_available() {
        println!("skipping: tshark is not installed");
        return;
    }
    let mut compared = 0;
    for path in captures() {
        let theirs = tshark(&path);
        let frames = eigrp_frames(&path);
        assert_eq!(
            theirs.len(),
            frames.len(),
            "{}: tshark sees a different number of EIGRP frames",
            path.display()
        );
        for frame in &frames {
            let (mut mine, several) = ours(&frame.eigrp);
            let mut expected = theirs[&frame.number].clone();
            if several {
                for field in ROUTE_FIELDS {
                    mine.remove(field);
                    expected.remove(field);
                }
            }
            assert_eq!(mine, expected, "{} frame {}", path.display(), frame.number);
            compared += 1;
        }
    }
    println!("{compared} EIGRP frames match tshark field by field");
}

#[test]
fn emitted_is_clean_for_tshark() {
    let path = dmvpn_testkit::testdata("eigrp/emitted.pcap");
    if !dmvpn_testkit::tshark_available() || !path.exists() {
        println!("skipping: tshark or {} is missing", path.display());
        return;
    }
    // Malformed packets, bad checksums and any expert info of severity warning (0x00600000) or above.
    let out = Command::new("tshark")
        .arg("-r")
        .arg(&path)
        .args([
            "-Y",
            "_ws.malformed || eigrp.checksum.bad || _ws.expert.severity >= 6291456",
        ])
        .output()
        .unwrap();
    assert!(out.status.success());
    assert_eq!(
        String::from_utf8_lossy(&out.stdout),
        "",
        "tshark flags emitted packets"
    );
}

#[test]
fn scapy_agrees_on_emitted() {
    let path = dmvpn_testkit::testdata("eigrp/emitted.pcap");
    let script = dmvpn_testkit::workspace().join("tools/gen/eigrp_scapy_check.py");
    let probe = Command::new("python3")
        .args(["-c", "import scapy.contrib.eigrp"])
        .output();
    if !probe.is_ok_and(|o| o.status.success()) || !path.exists() {
        println!(
            "skipping: python3 with scapy or {} is missing",
            path.display()
        );
        return;
    }
    let out = Command::new("python3")
        .arg(&script)
        .arg(&path)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "scapy check failed:\n{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    // The script prints one line per frame scapy can dissect; compare with ours.
    let theirs = String::from_utf8(out.stdout).unwrap();
    let frames = eigrp_frames(&path);
    let mut checked = 0;
    for line in theirs.lines() {
        let (number, rest) = line.split_once(' ').unwrap();
        let number: usize = number.parse().unwrap();
        let frame = frames.iter().find(|f| f.number == number).unwrap();
        assert_eq!(scapy_line(&frame.eigrp), rest, "frame {number}");
        checked += 1;
    }
    assert!(checked >= 14, "scapy dissected only {checked} frames");
}

/// Our decode in the script's format: `opcode as seq ack flags tlv-types routes checksum-ok`.
fn scapy_line(bytes: &[u8]) -> String {
    let packet = Packet::new_checked(bytes).unwrap();
    let repr = Repr::parse(&packet).unwrap();
    let types: Vec<_> = repr
        .tlvs
        .iter()
        .map(|t| format!("{:#06x}", t.ty().0))
        .collect();
    let routes: Vec<_> = repr.routes().map(|r| r.destination.to_string()).collect();
    format!(
        "{} {} {} {} {} {} {} {}",
        repr.opcode.0,
        repr.autonomous_system,
        repr.sequence,
        repr.ack,
        repr.flags.0,
        if types.is_empty() {
            "-".to_owned()
        } else {
            types.join(",")
        },
        if routes.is_empty() {
            "-".to_owned()
        } else {
            routes.join(",")
        },
        packet.verify_checksum()
    )
}
