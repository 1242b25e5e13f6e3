//! Differential test against tshark: every NHRP packet in the real captures in `../shared/captures`
//! and in `testdata/nhrp/` is decoded by this crate and by tshark, and the two are compared field by
//! field (`tshark -T fields`, 47 `nhrp.*` fields plus the Info column).
//!
//! tshark runs with `-o nhrp.auth_ext_has_addr:FALSE`: with its default (TRUE), Wireshark reads the
//! Authentication extension in the RFC 2332 layout and takes the first 4 bytes of a Cisco cleartext
//! password as a "source address" (and flags passwords under 4 bytes as incomplete). Field names
//! were checked against `tshark -G fields` (tshark 4.0.17). Not compared: `nhrp.hdr.pro.snap.*`
//! (tshark 4.0 does not advance past the SNAP PID, so it misreads the rest of a SNAP header; no
//! capture uses it) and `nhrp.unused` (the CIE repr does not keep the unused bits).
//!
//! The tests print a reason and pass when tshark or the shared captures are missing.

#![allow(clippy::expect_used)] // a test: a failed expectation is a test failure, with its message

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;

use dmvpn_nhrp::extension::Value;
use dmvpn_nhrp::{AddressFamily, Message, Packet, Repr, cie};

#[path = "../examples/gen_nhrp_testdata.rs"]
#[allow(dead_code)] // the example's `main` is not called here
mod gen_testdata;

/// The tshark fields compared, in the order `tshark -e` gets them.
const FIELDS: &[&str] = &[
    "nhrp.hdr.afn",
    "nhrp.hdr.pro.type",
    "nhrp.hdr.hopcnt",
    "nhrp.hdr.pktsz",
    "nhrp.hdr.chksum",
    "nhrp.hdr.chksum.status",
    "nhrp.hdr.extoff",
    "nhrp.hdr.version",
    "nhrp.hdr.op.type",
    "nhrp.hdr.shtl",
    "nhrp.hdr.sstl",
    "nhrp.src.prot.len",
    "nhrp.dst.prot.len",
    "nhrp.flags",
    "nhrp.reqid",
    "nhrp.err.code",
    "nhrp.err.offset",
    "nhrp.src.nbma.addr",
    "nhrp.src.nbma.addr_bytes",
    "nhrp.src.nbma.saddr",
    "nhrp.src.prot.addr",
    "nhrp.src.prot.addr_bytes",
    "nhrp.dst.prot.addr",
    "nhrp.dst.prot.addr_byets", // sic: tshark 4.0's name
    "nhrp.code",
    "nhrp.prefix",
    "nhrp.mtu",
    "nhrp.htime",
    "nhrp.cli.addr_tl",
    "nhrp.cli.saddr_tl",
    "nhrp.prot.len",
    "nhrp.pref",
    "nhrp.client.nbma.addr",
    "nhrp.client.nbma.addr_bytes",
    "nhrp.client.nbma.saddr",
    "nhrp.client.prot.addr",
    "nhrp.client.prot.addr_bytes",
    "nhrp.ext.c",
    "nhrp.ext.type",
    "nhrp.ext.len",
    "nhrp.auth_ext.spi",
    "nhrp.auth_ext.data",
    "nhrp.vendor_ext.id",
    "nhrp.vendor_ext.data",
    "nhrp.devcap_ext.srccap",
    "nhrp.devcap_ext.dstcap",
    "nhrp.unknown_ext.value",
    "_ws.col.Info",
];

/// The real captures that hold NHRP (see `../shared/captures/MANIFEST.md`).
const CAPTURES: &[&str] = &[
    "packetlife/NHRP_registration.cap",
    "packetlife/mGRE_ICMP.cap",
    "tcpdump/NHRP_registration.pcap",
    "tcpdump/NHRP-responder-address.pcap",
    "tcpdump/nhrp.pcapng",
    "tcpdump/ios_nhrp.pcap",
    "tcpdump/nhrp-trace.pcap",
    "tcpdump/pb_nhrp_1.pcap",
];

/// The entries of [`FIELDS`] this tshark knows (`tshark -G fields`); a newer tshark may rename
/// some (4.0 spells `nhrp.dst.prot.addr_byets`), and an unknown `-e` field makes tshark fail.
fn compared_fields() -> &'static [&'static str] {
    static KNOWN: std::sync::OnceLock<Vec<&'static str>> = std::sync::OnceLock::new();
    KNOWN.get_or_init(|| {
        let out = Command::new("tshark")
            .args(["-G", "fields"])
            .output()
            .expect("tshark -G fields");
        let glossary = String::from_utf8_lossy(&out.stdout);
        let known: std::collections::HashSet<&str> = glossary
            .lines()
            .filter_map(|line| line.split('\t').nth(2))
            .collect();
        let (kept, missing): (Vec<&str>, Vec<&str>) = FIELDS
            .iter()
            .partition(|f| f.starts_with("_ws.") || known.contains(*f));
        if !missing.is_empty() {
            println!("this tshark lacks {missing:?}; not compared");
        }
        kept
    })
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn dotted(bytes: &[u8]) -> String {
    bytes
        .iter()
        .map(u8::to_string)
        .collect::<Vec<_>>()
        .join(".")
}

type Fields = BTreeMap<&'static str, Vec<String>>;

fn push(fields: &mut Fields, name: &'static str, value: impl ToString) {
    fields.entry(name).or_default().push(value.to_string());
}

/// The field names of an address in its IPv4 and its bytes form (tshark 4.0 spells the last
/// one `addr_byets`).
const CLIENT_NBMA: [&str; 2] = ["nhrp.client.nbma.addr", "nhrp.client.nbma.addr_bytes"];
const CLIENT_PROTO: [&str; 2] = ["nhrp.client.prot.addr", "nhrp.client.prot.addr_bytes"];
const SRC_NBMA: [&str; 2] = ["nhrp.src.nbma.addr", "nhrp.src.nbma.addr_bytes"];
const SRC_PROTO: [&str; 2] = ["nhrp.src.prot.addr", "nhrp.src.prot.addr_bytes"];
const DST_PROTO: [&str; 2] = ["nhrp.dst.prot.addr", "nhrp.dst.prot.addr_byets"];

/// An address as Wireshark shows it: `ipv4` for 4 bytes (NBMA addresses only when `ar$afn` is
/// IPv4), `bytes` (hex) otherwise, nothing when empty.
fn address(
    fields: &mut Fields,
    [ipv4, bytes_name]: [&'static str; 2],
    bytes: &[u8],
    as_ipv4: bool,
) {
    if bytes.is_empty() {
    } else if as_ipv4 && bytes.len() == 4 {
        push(fields, ipv4, dotted(bytes));
    } else {
        push(fields, bytes_name, hex(bytes));
    }
}

fn render_cie(fields: &mut Fields, afn: AddressFamily, cie: &cie::Repr<'_>) {
    push(fields, "nhrp.code", cie.code.0);
    push(fields, "nhrp.prefix", cie.prefix_len);
    push(fields, "nhrp.mtu", cie.mtu);
    push(fields, "nhrp.htime", cie.holding_time);
    push(fields, "nhrp.cli.addr_tl", cie.nbma.type_len());
    push(fields, "nhrp.cli.saddr_tl", cie.nbma_sub.type_len());
    push(fields, "nhrp.prot.len", cie.proto.len());
    push(fields, "nhrp.pref", cie.preference);
    let v4 = afn == AddressFamily::IPV4;
    address(fields, CLIENT_NBMA, cie.nbma.bytes, v4);
    if !cie.nbma_sub.bytes.is_empty() {
        push(fields, "nhrp.client.nbma.saddr", hex(cie.nbma_sub.bytes));
    }
    address(fields, CLIENT_PROTO, cie.proto, true);
}

/// Our decode, as the values tshark would print, in tree order.
fn render(fields: &mut Fields, repr: &Repr<'_>, bytes: &[u8], nested: bool) {
    let packet = Packet::new_checked(bytes).expect("parsed above");
    push(fields, "nhrp.hdr.afn", format!("{:#06x}", repr.afn.0));
    push(
        fields,
        "nhrp.hdr.pro.type",
        format!("{:#06x}", repr.protocol_type.0),
    );
    push(fields, "nhrp.hdr.hopcnt", repr.hop_count);
    push(fields, "nhrp.hdr.pktsz", packet.packet_size());
    push(
        fields,
        "nhrp.hdr.chksum",
        format!("{:#06x}", packet.checksum()),
    );
    push(
        fields,
        "nhrp.hdr.chksum.status",
        if packet.verify_checksum() { 1 } else { 0 },
    );
    push(fields, "nhrp.hdr.extoff", packet.extension_offset());
    push(fields, "nhrp.hdr.version", packet.version());
    push(fields, "nhrp.hdr.op.type", repr.op_type().0);
    push(fields, "nhrp.hdr.shtl", repr.src_nbma.type_len());
    push(fields, "nhrp.hdr.sstl", repr.src_nbma_sub.type_len());
    push(fields, "nhrp.src.prot.len", repr.src_proto.len());
    push(fields, "nhrp.dst.prot.len", repr.dst_proto.len());
    if let Some(control) = repr.message.control() {
        push(fields, "nhrp.flags", format!("{:#06x}", control.flags.0));
        push(
            fields,
            "nhrp.reqid",
            format!("{:#010x}", control.request_id),
        );
    }
    if let Message::ErrorIndication(error) = repr.message {
        push(fields, "nhrp.err.code", error.code.0);
        push(fields, "nhrp.err.offset", error.offset);
    }
    let v4 = repr.afn == AddressFamily::IPV4;
    address(fields, SRC_NBMA, repr.src_nbma.bytes, v4);
    if !repr.src_nbma_sub.bytes.is_empty() {
        push(fields, "nhrp.src.nbma.saddr", hex(repr.src_nbma_sub.bytes));
    }
    address(fields, SRC_PROTO, repr.src_proto, true);
    address(fields, DST_PROTO, repr.dst_proto, true);
    if let Message::ErrorIndication(error) = repr.message {
        // Wireshark dissects the packet in error in place.
        let inner = error.parse_packet().expect("the quoted packet parses");
        render(fields, &inner, error.packet, true);
    }
    for cie in repr.cies().iter() {
        render_cie(fields, repr.afn, &cie);
    }
    for ext in repr.extension_iter() {
        let len = ext.buffer_len() - 4;
        push(fields, "nhrp.ext.c", u8::from(ext.compulsory));
        push(
            fields,
            "nhrp.ext.type",
            format!("{:#06x}", ext.value.ty().0 & 0x3fff),
        );
        push(fields, "nhrp.ext.len", len);
        match ext.value {
            Value::End => {}
            Value::DeviceCapabilities {
                source,
                destination,
            } => {
                push(fields, "nhrp.devcap_ext.srccap", format!("{source:#010x}"));
                push(
                    fields,
                    "nhrp.devcap_ext.dstcap",
                    format!("{destination:#010x}"),
                );
            }
            Value::ResponderAddress(cies)
            | Value::ForwardTransitNhsRecord(cies)
            | Value::ReverseTransitNhsRecord(cies)
            | Value::CiscoNatAddress(cies) => {
                for cie in cies.iter() {
                    render_cie(fields, repr.afn, &cie);
                }
            }
            Value::Authentication(auth) => {
                push(fields, "nhrp.auth_ext.spi", auth.rfc_spi());
                if !auth.data.is_empty() {
                    push(fields, "nhrp.auth_ext.data", hex(auth.data));
                }
            }
            Value::VendorPrivate { vendor, data } => {
                push(fields, "nhrp.vendor_ext.id", vendor);
                if !data.is_empty() {
                    push(fields, "nhrp.vendor_ext.data", hex(data));
                }
            }
            Value::Unknown { value, .. } if !value.is_empty() => {
                push(fields, "nhrp.unknown_ext.value", hex(value));
            }
            Value::Unknown { .. } => {}
        }
    }
    if !nested {
        push(fields, "_ws.col.Info", repr);
    }
}

/// The NHRP packet in a frame: Ethernet (802.1Q/802.1ad tags skipped), IPv4, then GRE with
/// protocol type 0x2001 or IP protocol 54. Bounded by the IPv4 total length and the capture.
fn nhrp_payload(link: u32, frame: &[u8]) -> Option<&[u8]> {
    let ip = dmvpn_testkit::ip_payload(link, frame)?;
    if !ip.src.is_ipv4() || ip.fragment_offset != 0 {
        return None;
    }
    let payload = ip.payload;
    match ip.protocol {
        47 => {
            let flags = u16::from_be_bytes([*payload.first()?, *payload.get(1)?]);
            let proto = u16::from_be_bytes([*payload.get(2)?, *payload.get(3)?]);
            let mut len = 4;
            for bit in [0x8000, 0x2000, 0x1000] {
                if flags & bit != 0 {
                    len += 4;
                }
            }
            (proto == dmvpn_nhrp::GRE_PROTOCOL && flags & 0x4007 == 0)
                .then(|| payload.get(len..))
                .flatten()
        }
        54 => Some(payload),
        _ => None,
    }
}

/// tshark's values per frame number, for frames where it saw NHRP.
fn tshark_fields(path: &Path) -> BTreeMap<usize, BTreeMap<&'static str, String>> {
    let columns: Vec<&str> = ["frame.number", "_ws.malformed", "_ws.expert.message"]
        .iter()
        .chain(compared_fields())
        .copied()
        .collect();
    let mut frames = BTreeMap::new();
    let args = ["-o", "nhrp.auth_ext_has_addr:FALSE"];
    for cols in dmvpn_testkit::tshark_fields(path, &args, &columns) {
        let number: usize = cols[0].parse().expect("frame number");
        // The Info column is always there: NHRP is present when any `nhrp.*` field is.
        let nhrp = compared_fields()
            .iter()
            .zip(&cols[3..])
            .any(|(field, value)| field.starts_with("nhrp.") && !value.is_empty());
        if !nhrp {
            continue;
        }
        let mut values = BTreeMap::new();
        values.insert("_ws.malformed", cols[1].clone());
        values.insert("_ws.expert.message", cols[2].clone());
        for (field, value) in compared_fields().iter().zip(&cols[3..]) {
            values.insert(*field, value.clone());
        }
        frames.insert(number, values);
    }
    frames
}

/// Whether tshark reports the problem our parser rejects a packet for: a length that runs past
/// the data is a dissector exception (malformed), the rest are NHRP expert items.
fn tshark_flags(err: &dmvpn_nhrp::Error, malformed: bool, expert: &str) -> bool {
    use dmvpn_nhrp::Error;
    match err {
        Error::Truncated { .. } | Error::BadLength { .. } => malformed,
        Error::InvalidField {
            field: "packet size",
            ..
        } => expert.contains("Packet length is less than"),
        Error::InvalidField {
            field: "extension offset",
            ..
        } => expert.contains("Extension offset is less than"),
        Error::BadChecksum { .. } => expert.contains("Bad checksum"),
        Error::TrailingBytes { .. } => expert.contains("Unknown Data"),
        _ => malformed || !expert.is_empty(),
    }
}

/// Compares every NHRP frame of a capture; returns how many frames were compared.
/// What [`compare_capture`] found: NHRP packets, and how many of them both sides rejected.
struct Outcome {
    packets: usize,
    rejected: usize,
}

fn compare_capture(path: &Path) -> Outcome {
    let tshark = tshark_fields(path);
    let mut ours = BTreeMap::new();
    let mut values = 0;
    let mut rejected = 0;
    for frame in dmvpn_testkit::frames(path) {
        if let Some(nhrp) = nhrp_payload(frame.link, &frame.data) {
            ours.insert(frame.number, nhrp.to_vec());
        }
    }
    assert_eq!(
        ours.keys().collect::<Vec<_>>(),
        tshark.keys().collect::<Vec<_>>(),
        "{}: frames with NHRP differ",
        path.display()
    );
    for (number, bytes) in &ours {
        let theirs = &tshark[number];
        let what = format!("{} frame {number}", path.display());
        let repr = match dmvpn_nhrp::parse(bytes) {
            Ok(repr) => repr,
            Err(err) => {
                let expert = &theirs["_ws.expert.message"];
                assert!(
                    tshark_flags(&err, !theirs["_ws.malformed"].is_empty(), expert),
                    "{what}: we reject it ({err}) but tshark does not flag that (expert: {expert:?})"
                );
                println!("{what}: rejected as tshark does ({err}; tshark: {expert})");
                rejected += 1;
                continue;
            }
        };
        assert!(
            theirs["_ws.malformed"].is_empty(),
            "{what}: tshark says malformed, we decode it"
        );
        assert!(
            theirs["_ws.expert.message"].is_empty(),
            "{what}: tshark expert: {}",
            theirs["_ws.expert.message"]
        );
        let mut fields = Fields::new();
        render(&mut fields, &repr, bytes, false);
        for field in compared_fields() {
            let ours = fields.get(field).map(|v| v.join(",")).unwrap_or_default();
            assert_eq!(ours, theirs[field], "{what}: field {field}");
            values += fields.get(field).map_or(0, Vec::len);
        }
    }
    println!(
        "{}: {} NHRP packets, {values} field values equal to tshark's",
        path.display(),
        ours.len()
    );
    Outcome {
        packets: ours.len(),
        rejected,
    }
}

#[test]
fn real_captures_match_tshark() {
    if tshark_missing() {
        return;
    }
    let dir = dmvpn_testkit::captures_or_skip!();
    let (mut total, mut rejected) = (0, 0);
    for capture in CAPTURES {
        let outcome = compare_capture(&dir.join(capture));
        assert!(outcome.packets > 0, "{capture}: no NHRP found");
        total += outcome.packets;
        rejected += outcome.rejected;
    }
    println!("{total} NHRP packets compared with tshark, {rejected} rejected by both");
    assert_eq!(
        (total, rejected),
        (45, 1),
        "only pb_nhrp_1.pcap (fuzzed) is malformed"
    );
}

fn testdata(name: &str) -> PathBuf {
    dmvpn_testkit::testdata("nhrp").join(name)
}

/// Whether tshark is missing, said once on stdout: the comparisons are then skipped.
fn tshark_missing() -> bool {
    let missing = !dmvpn_testkit::tshark_available();
    if missing {
        println!("skipped: tshark not found");
    }
    missing
}

#[test]
fn emitted_pcap_is_current() {
    for (name, fresh) in [
        ("emitted.pcap", gen_testdata::pcap()),
        ("malformed.pcap", gen_testdata::malformed_pcap()),
    ] {
        let committed = std::fs::read(gen_testdata::path(name)).expect("testdata/nhrp file exists");
        assert!(
            committed == fresh,
            "testdata/nhrp/{name} is stale: run `cargo run -p dmvpn-nhrp --example gen_nhrp_testdata`"
        );
    }
}

#[test]
fn emitted_packets_match_tshark() {
    if tshark_missing() {
        return;
    }
    let outcome = compare_capture(&testdata("emitted.pcap"));
    assert_eq!(
        (outcome.packets, outcome.rejected),
        (gen_testdata::frames().len(), 0)
    );
    // Every packet type and every extension type we emit is in the file.
    let mut ops = std::collections::BTreeSet::new();
    let mut exts = std::collections::HashSet::new();
    let frames = dmvpn_testkit::frames(&testdata("emitted.pcap"));
    for frame in &frames {
        let nhrp = nhrp_payload(frame.link, &frame.data).expect("NHRP");
        let repr = dmvpn_nhrp::parse(nhrp).expect("parses");
        ops.insert(repr.op_type().0);
        exts.extend(
            repr.extension_iter()
                .map(|e| std::mem::discriminant(&e.value)),
        );
    }
    assert_eq!(
        ops.into_iter().collect::<Vec<_>>(),
        (1..=8).collect::<Vec<_>>()
    );
    assert_eq!(
        exts.len(),
        9,
        "End, Responder, Forward/Reverse Transit, Auth, Vendor, NAT, DevCap, Unknown"
    );
}

#[test]
fn lab_captures_match_tshark() {
    if tshark_missing() {
        return;
    }
    let path = testdata("nhrpd-registration.pcap");
    if !path.exists() {
        println!("skipped: {} not recorded", path.display());
        return;
    }
    let outcome = compare_capture(&path);
    assert!(outcome.packets > 0);
    assert_eq!(outcome.rejected, 0);
}

#[test]
fn malformed_packets_are_flagged_like_tshark() {
    if tshark_missing() {
        return;
    }
    let outcome = compare_capture(&testdata("malformed.pcap"));
    let cases = gen_testdata::malformed_frames();
    assert_eq!(
        (outcome.packets, outcome.rejected),
        (cases.len(), cases.len())
    );
}
