//! Every capture under `../shared/captures` (and the project's own `testdata/`) is read frame by
//! frame and compared with tshark: frame count, captured and original length, timestamp, and
//! whether the outermost network layer is IPv4 or IPv6. Every IPv4 packet's header is parsed and
//! every UDP datagram classified. Skips with a printed reason when the captures or tshark are
//! missing.

// A panic with a message is how an integration test reports a failure.
#![allow(clippy::expect_used, clippy::unwrap_used)]

use std::collections::BTreeMap;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use dmvpn::capture::link::{self, EtherType};
use dmvpn::capture::{CaptureReader, LinkType, Reassembler, Reassembly, ipv4, ipv6, udp};

/// Capture files under `dir`, recursively, sorted.
fn captures(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let Ok(entries) = std::fs::read_dir(dir) else {
        return out;
    };
    for entry in entries.flatten() {
        let path = entry.path();
        if path.is_dir() {
            out.extend(captures(&path));
        } else {
            let name = path
                .file_name()
                .and_then(|n| n.to_str())
                .unwrap_or_default();
            if [".pcap", ".cap", ".pcapng", ".pcap.gz", ".pcapng.gz"]
                .iter()
                .any(|ext| name.ends_with(ext))
            {
                out.push(path);
            }
        }
    }
    out.sort();
    out
}

fn all_captures() -> Option<Vec<PathBuf>> {
    let Some(shared) = dmvpn_testkit::captures() else {
        println!("skipped: ../shared/captures is not there");
        return None;
    };
    let mut files = captures(&shared);
    files.extend(captures(&dmvpn_testkit::testdata("")));
    Some(files)
}

/// Opens a capture, through `gzip -dc` for `.gz` files (which exercises a pipe as the input).
fn open(path: &Path) -> Option<Box<dyn Read>> {
    if path.extension().is_some_and(|ext| ext == "gz") {
        let child = Command::new("gzip")
            .arg("-dc")
            .arg(path)
            .stdout(Stdio::piped())
            .spawn();
        let Ok(mut child) = child else {
            println!("skipped {}: gzip is not installed", path.display());
            return None;
        };
        return Some(Box::new(child.stdout.take()?));
    }
    Some(Box::new(std::fs::File::open(path).ok()?))
}

/// What we see in one frame, in the form tshark prints it.
#[derive(Debug, Eq, PartialEq)]
struct FrameView {
    cap_len: usize,
    len: u32,
    time: String,
    /// "ip", "ipv6" or "" for the outermost network layer.
    network: &'static str,
    /// The outermost IPv4 source and destination, "" if none.
    ip: String,
    /// The VLAN IDs, outermost first, comma separated.
    vlans: String,
}

struct FileView {
    frames: Vec<FrameView>,
    /// The most interfaces a pcapng section declared.
    interfaces: usize,
    link_types: BTreeMap<LinkType, usize>,
    ipv4: usize,
    udp: usize,
    reassembled: usize,
}

fn read(path: &Path) -> Option<FileView> {
    let input = open(path)?;
    let mut reader =
        CaptureReader::new(input).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let mut view = FileView {
        frames: Vec::new(),
        interfaces: 0,
        link_types: BTreeMap::new(),
        ipv4: 0,
        udp: 0,
        reassembled: 0,
    };
    let mut reassembler = Reassembler::default();
    while let Some(frame) = reader
        .next_frame()
        .unwrap_or_else(|e| panic!("{}: {e}", path.display()))
    {
        *view.link_types.entry(frame.link_type).or_default() += 1;
        let decoded = link::decode(frame.link_type, frame.data)
            .unwrap_or_else(|e| panic!("{} frame {}: {e}", path.display(), frame.number));
        let vlans = match decoded.header {
            link::LinkHeader::Ethernet(eth) => eth
                .vlans
                .iter()
                .map(|tag| tag.vid.to_string())
                .collect::<Vec<_>>()
                .join(","),
            _ => String::new(),
        };
        let mut ip = String::new();
        let network = match decoded.ethertype {
            EtherType::IPV4 => "ip",
            EtherType::IPV6 => "ipv6",
            _ => "",
        };
        let mut udp_payload = None;
        if network == "ip" {
            let packet = ipv4::Packet::new_checked(decoded.payload)
                .unwrap_or_else(|e| panic!("{} frame {}: {e}", path.display(), frame.number));
            let header = ipv4::Repr::parse(&packet, ipv4::ChecksumMode::Ignore)
                .unwrap_or_else(|e| panic!("{} frame {}: {e}", path.display(), frame.number));
            view.ipv4 += 1;
            ip = format!("{}>{}", header.src, header.dst);
            match reassembler.push(frame.timestamp, frame.number, &header, packet.payload()) {
                Reassembly::Unfragmented(payload) if header.protocol == ipv4::Protocol::UDP => {
                    udp_payload = Some(payload.to_vec());
                }
                Reassembly::Complete { payload, .. } => {
                    view.reassembled += 1;
                    if header.protocol == ipv4::Protocol::UDP {
                        udp_payload = Some(payload.to_vec());
                    }
                }
                _ => {}
            }
        } else if network == "ipv6" {
            let repr = ipv6::Repr::parse(decoded.payload)
                .unwrap_or_else(|e| panic!("{} frame {}: {e}", path.display(), frame.number));
            if repr.protocol == ipv4::Protocol::UDP && repr.fragment.is_none() {
                udp_payload = Some(repr.payload.to_vec());
            }
        }
        if let Some(bytes) = udp_payload {
            let datagram = udp::Packet::new_checked(&bytes[..])
                .unwrap_or_else(|e| panic!("{} frame {}: {e}", path.display(), frame.number));
            let _ = udp::classify(datagram.src_port(), datagram.dst_port(), datagram.payload());
            view.udp += 1;
        }
        view.frames.push(FrameView {
            cap_len: frame.data.len(),
            len: frame.original_len,
            time: frame.timestamp.to_string(),
            network,
            ip,
            vlans,
        });
        view.interfaces = view.interfaces.max(reader.interfaces().len());
    }
    Some(view)
}

/// tshark's view of the same file, if tshark is installed.
fn tshark(path: &Path) -> Option<Vec<FrameView>> {
    let output = Command::new("tshark")
        .args(["-n", "-r"])
        .arg(path)
        .args(["-T", "fields", "-E", "separator=|"])
        .args([
            "-e",
            "frame.cap_len",
            "-e",
            "frame.len",
            "-e",
            "frame.time_epoch",
            "-e",
            "frame.protocols",
        ])
        .args([
            "-e",
            "ip.src",
            "-e",
            "ip.dst",
            "-e",
            "ieee8021ad.id",
            "-e",
            "vlan.id",
            "-E",
            "occurrence=a",
            "-E",
            "aggregator=,",
        ])
        .stderr(Stdio::null())
        .output()
        .ok()?;
    if !output.status.success() {
        return None;
    }
    let text = String::from_utf8_lossy(&output.stdout);
    let frames = text
        .lines()
        .map(|line| {
            let fields: Vec<&str> = line.split('|').collect();
            let protocols = fields.get(3).copied().unwrap_or_default();
            let network = match protocols
                .split(':')
                // (link::decode reads through PPPoE and LLC/SNAP to the packet they carry.)
                .find(|p| matches!(*p, "ip" | "ipv6" | "arp" | "mpls"))
            {
                Some("ip") => "ip",
                Some("ipv6") => "ipv6",
                _ => "",
            };
            let first = |i: usize| {
                fields
                    .get(i)
                    .and_then(|f| f.split(',').next())
                    .unwrap_or_default()
                    .to_owned()
            };
            let ip = if network == "ip" {
                format!("{}>{}", first(4), first(5))
            } else {
                String::new()
            };
            // A Simple Packet Block has no timestamp: tshark prints nothing, we report 0.
            let time = match fields.get(2) {
                Some(&"") | None => "0.000000000".to_owned(),
                Some(time) => (*time).to_owned(),
            };
            FrameView {
                cap_len: fields[0].parse().unwrap_or(usize::MAX),
                len: fields[1].parse().unwrap_or(u32::MAX),
                time,
                network,
                ip,
                // 802.1ad S-tags are `ieee8021ad.id`, C-tags `vlan.id`; S-tags are outermost.
                vlans: [fields.get(6), fields.get(7)]
                    .into_iter()
                    .flatten()
                    .filter(|f| !f.is_empty())
                    .copied()
                    .collect::<Vec<_>>()
                    .join(","),
            }
        })
        .collect();
    Some(frames)
}

/// Frame counts per file from one `capinfos` run, if capinfos is installed.
fn capinfos_counts(files: &[PathBuf]) -> Option<Vec<usize>> {
    let output = Command::new("capinfos")
        .args(["-T", "-r", "-c", "-M"])
        .args(files)
        .stderr(Stdio::null())
        .output()
        .ok()?;
    let text = String::from_utf8_lossy(&output.stdout);
    let counts: Vec<usize> = text
        .lines()
        .filter_map(|line| line.rsplit('\t').next()?.trim().parse().ok())
        .collect();
    (counts.len() == files.len()).then_some(counts)
}

/// tshark's view of several files in one run: `mergecap -a` concatenates them (tshark's start-up
/// costs more than reading all of them), and the rows are split by the per-file counts.
fn tshark_merged(files: &[&PathBuf], counts: &[usize]) -> Option<Vec<Vec<FrameView>>> {
    let merged =
        std::env::temp_dir().join(format!("dmvpn-capture-files-{}.pcapng", std::process::id()));
    let status = Command::new("mergecap")
        .args(["-a", "-F", "pcapng", "-w"])
        .arg(&merged)
        .args(files)
        .stderr(Stdio::null())
        .status()
        .ok()?;
    let frames = if status.success() {
        tshark(&merged)
    } else {
        None
    };
    let _ = std::fs::remove_file(&merged);
    let mut frames = frames?.into_iter();
    Some(
        counts
            .iter()
            .map(|&n| frames.by_ref().take(n).collect())
            .collect(),
    )
}

#[test]
fn every_capture_reads_and_matches_tshark() {
    let Some(files) = all_captures() else { return };
    let views: Vec<Option<FileView>> = files.iter().map(|path| read(path)).collect();
    let mut link_types = BTreeMap::new();
    let (mut total, mut ipv4, mut udp, mut reassembled) = (0, 0, 0, 0);
    for view in views.iter().flatten() {
        total += view.frames.len();
        ipv4 += view.ipv4;
        udp += view.udp;
        reassembled += view.reassembled;
        for (link, count) in &view.link_types {
            *link_types.entry(*link).or_insert(0) += count;
        }
    }
    println!(
        "{} files, {total} frames ({ipv4} IPv4, {udp} UDP, {reassembled} reassembled)",
        files.len()
    );
    println!("link types: {link_types:?}");
    assert!(
        total > 500,
        "expected the shared captures to hold hundreds of frames, found {total}"
    );
    assert!(link_types.contains_key(&LinkType::ETHERNET));

    // Frame counts: capinfos, one process for all files.
    match capinfos_counts(&files) {
        Some(counts) => {
            for ((path, view), count) in files.iter().zip(&views).zip(counts) {
                if let Some(view) = view {
                    assert_eq!(
                        view.frames.len(),
                        count,
                        "{}: frame count (capinfos)",
                        path.display()
                    );
                }
            }
        }
        None => println!("capinfos is not installed: frame counts not compared"),
    }

    // Frame by frame: tshark, once over the files mergecap can concatenate, once per other file
    // (mergecap 4.0 cannot append a pcapng with several interfaces).
    let has_tshark = Command::new("tshark")
        .arg("-v")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success());
    if !has_tshark {
        println!("tshark is not installed: frame-by-frame comparison skipped");
        return;
    }
    let (simple, alone): (Vec<usize>, Vec<usize>) = (0..files.len())
        .filter(|&i| views[i].is_some())
        .partition(|&i| views[i].as_ref().is_some_and(|v| v.interfaces <= 1));
    let mut expected: Vec<(usize, Vec<FrameView>)> = Vec::new();
    let counts: Vec<usize> = simple
        .iter()
        .filter_map(|&i| Some(views[i].as_ref()?.frames.len()))
        .collect();
    let simple_files: Vec<&PathBuf> = simple.iter().map(|&i| &files[i]).collect();
    match tshark_merged(&simple_files, &counts) {
        Some(per_file) => expected.extend(simple.iter().copied().zip(per_file)),
        None => expected.extend(simple.iter().filter_map(|&i| Some((i, tshark(&files[i])?)))),
    }
    expected.extend(alone.iter().filter_map(|&i| Some((i, tshark(&files[i])?))));
    for (i, frames) in &expected {
        let (path, Some(view)) = (&files[*i], &views[*i]) else {
            continue;
        };
        assert_eq!(
            view.frames.len(),
            frames.len(),
            "{}: frame count (tshark)",
            path.display()
        );
        let ours = view.frames.iter().filter(|f| f.network == "ip").count();
        let theirs = frames.iter().filter(|f| f.network == "ip").count();
        assert_eq!(ours, theirs, "{}: IPv4 packets", path.display());
        for (number, (a, b)) in view.frames.iter().zip(frames).enumerate() {
            assert_eq!(a, b, "{} frame {}", path.display(), number + 1);
        }
    }
    println!(
        "{} files compared with tshark frame by frame",
        expected.len()
    );
    assert_eq!(expected.len(), views.iter().flatten().count());
}

#[test]
fn generated_link_types_are_all_covered() {
    let dir = dmvpn_testkit::testdata("capture");
    if !dir.is_dir() {
        println!(
            "skipped: {} is not there (tools/gen/capture_gen_linktypes.py makes it)",
            dir.display()
        );
        return;
    }
    let mut link_types = BTreeMap::new();
    let mut reassembled = 0;
    for path in captures(&dir) {
        let view = read(&path).expect("uncompressed");
        reassembled += view.reassembled;
        link_types.extend(view.link_types);
    }
    let seen: Vec<LinkType> = link_types.into_keys().collect();
    assert_eq!(
        seen,
        [
            LinkType::NULL,
            LinkType::ETHERNET,
            LinkType::PPP,
            LinkType::RAW_BSD,
            LinkType::RAW_OPENBSD,
            LinkType::PPP_HDLC,
            LinkType::PPP_ETHER,
            LinkType::RAW,
            LinkType::C_HDLC,
            LinkType::FRELAY,
            LinkType::LOOP,
            LinkType::ENC,
            LinkType::LINUX_SLL,
            LinkType::PFLOG,
            LinkType::IPV4,
            LinkType::NFLOG,
            LinkType::LINUX_SLL2,
        ]
    );
    assert_eq!(
        reassembled, 2,
        "fragments.pcap holds two fragmented datagrams"
    );
}
