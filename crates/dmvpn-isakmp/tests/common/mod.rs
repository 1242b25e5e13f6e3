//! Test helpers: read the shared captures (pcap / pcapng, optionally gzip) and pull out ISAKMP messages.
#![allow(dead_code, unreachable_pub, clippy::unwrap_used, clippy::expect_used)] // test support code

use std::io::Read;
use std::path::{Path, PathBuf};

use dmvpn_isakmp::header::{NAT_T_PORT, UDP_PORT, Udp4500, split_udp_4500};
use dmvpn_isakmp::keys::{Ikev1Key, parse_ikev1_decryption_table};
use pcap_file::pcap::PcapReader;
use pcap_file::pcapng::{Block, PcapNgReader};

/// `../../../shared/captures` from this crate, if present (it is outside the repository).
pub fn captures_dir() -> Option<PathBuf> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/captures");
    dir.is_dir().then_some(dir)
}

/// One ISAKMP message from a capture: 1-based frame number, UDP ports and the message bytes (after
/// the non-ESP marker on port 4500).
#[derive(Clone, Debug)]
pub struct Datagram {
    pub frame: usize,
    pub src_ip: Vec<u8>,
    pub dst_ip: Vec<u8>,
    pub src_port: u16,
    pub dst_port: u16,
    pub payload: Vec<u8>,
}

fn frames(path: &Path) -> Vec<Vec<u8>> {
    let mut raw = Vec::new();
    std::fs::File::open(path)
        .unwrap()
        .read_to_end(&mut raw)
        .unwrap();
    if path.extension().is_some_and(|e| e == "gz") {
        let mut out = Vec::new();
        flate2::read::GzDecoder::new(&raw[..])
            .read_to_end(&mut out)
            .unwrap();
        raw = out;
    }
    let mut frames = Vec::new();
    if raw.starts_with(&[0x0a, 0x0d, 0x0d, 0x0a]) {
        let mut reader = PcapNgReader::new(&raw[..]).unwrap();
        while let Some(block) = reader.next_block() {
            match block.unwrap() {
                Block::EnhancedPacket(epb) => frames.push(epb.data.into_owned()),
                Block::SimplePacket(spb) => frames.push(spb.data.into_owned()),
                _ => {}
            }
        }
    } else {
        let mut reader = PcapReader::new(&raw[..]).unwrap();
        while let Some(packet) = reader.next_packet() {
            frames.push(packet.unwrap().data.into_owned());
        }
    }
    frames
}

/// UDP payloads of every unfragmented IPv4/IPv6 UDP datagram in an Ethernet capture.
pub fn udp(path: &Path) -> Vec<Datagram> {
    let mut out = Vec::new();
    for (index, frame) in frames(path).iter().enumerate() {
        let mut at = 12;
        let mut ethertype = u16::from_be_bytes([frame[12], frame[13]]);
        while ethertype == 0x8100 || ethertype == 0x88a8 {
            at += 4;
            ethertype = u16::from_be_bytes([frame[at], frame[at + 1]]);
        }
        let ip = &frame[at + 2..];
        let (proto, l4, src_ip, dst_ip) = match ethertype {
            0x0800 => {
                let ihl = usize::from(ip[0] & 0x0f) * 4;
                let total = usize::from(u16::from_be_bytes([ip[2], ip[3]]));
                let frag = u16::from_be_bytes([ip[6], ip[7]]);
                if frag & 0x3fff != 0 {
                    continue;
                }
                (
                    ip[9],
                    &ip[ihl..total.min(ip.len())],
                    &ip[12..16],
                    &ip[16..20],
                )
            }
            0x86dd => {
                let len = usize::from(u16::from_be_bytes([ip[4], ip[5]]));
                (ip[6], &ip[40..40 + len], &ip[8..24], &ip[24..40])
            }
            _ => continue,
        };
        if proto != 17 {
            continue;
        }
        let len = usize::from(u16::from_be_bytes([l4[4], l4[5]]));
        out.push(Datagram {
            frame: index + 1,
            src_ip: src_ip.to_vec(),
            dst_ip: dst_ip.to_vec(),
            src_port: u16::from_be_bytes([l4[0], l4[1]]),
            dst_port: u16::from_be_bytes([l4[2], l4[3]]),
            payload: l4[8..len.min(l4.len())].to_vec(),
        });
    }
    out
}

/// The ISAKMP messages of a capture: UDP/500, and UDP/4500 with the non-ESP marker stripped.
pub fn isakmp(path: &Path) -> Vec<Datagram> {
    udp(path)
        .into_iter()
        .filter_map(|mut d| {
            let ports = [d.src_port, d.dst_port];
            if ports.contains(&NAT_T_PORT) {
                let Ok(Udp4500::Ike(ike)) = split_udp_4500(&d.payload) else {
                    return None;
                };
                d.payload = ike.to_vec();
                Some(d)
            } else if ports.contains(&UDP_PORT) {
                Some(d)
            } else {
                None
            }
        })
        .collect()
}

/// Wireshark's test decryption table beside the captures.
pub fn decryption_table(dir: &Path) -> Vec<Ikev1Key> {
    let text = std::fs::read_to_string(dir.join("wireshark-testsuite/ikev1_decryption_table.tmpl"))
        .unwrap();
    parse_ikev1_decryption_table(&text).unwrap()
}

/// Every IKEv1 capture the tests use, relative to the captures directory.
pub const CAPTURES: &[&str] = &[
    "wireshark-testsuite/ikev1-certs.pcap",
    "wireshark-testsuite/ikev1-bug-12610.pcapng.gz",
    "wireshark-testsuite/ikev1-bug-12620.pcapng.gz",
    "packetlife/ISAKMP_sa_setup.cap",
    "zeek-spicy-ipsec/ipsec-ikev1-isakmp-main-mode.pcap",
    "zeek-spicy-ipsec/ipsec-ikev1-isakmp-aggressive-mode.pcap",
    "zeek-spicy-ipsec/ipsec.cap",
    "tcpdump/isakmp4500.pcap",
];

use std::collections::HashMap;

use dmvpn_isakmp::crypto::IkeSaState;
use dmvpn_isakmp::keys::Secret;
use dmvpn_isakmp::message::flat_payload_types;
use dmvpn_isakmp::payload::{Context, Payloads};
use dmvpn_isakmp::{Header, Message};

/// One decoded message of a capture.
#[derive(Debug)]
pub struct Decoded {
    pub frame: usize,
    pub header: Header,
    /// The decrypted body, for encrypted messages whose SA has a key.
    pub plaintext: Option<Vec<u8>>,
    /// Payload types in tshark's `isakmp.typepayload` order (decrypted ones for encrypted messages),
    /// or the decode error.
    pub types: Result<Vec<u8>, String>,
    /// The one-line summary.
    pub summary: String,
    /// The NAT-D type known when the message was decoded.
    pub context: Context,
}

/// Decodes every ISAKMP message of a capture, decrypting with `keys` where the initiator cookie matches.
pub fn decode_capture(path: &Path, keys: &[Ikev1Key]) -> Vec<Decoded> {
    let mut states: HashMap<[u8; 8], IkeSaState> = HashMap::new();
    let mut out = Vec::new();
    for datagram in isakmp(path) {
        let message = Message::parse(&datagram.payload)
            .unwrap_or_else(|e| panic!("{} frame {}: {e}", path.display(), datagram.frame));
        let cookie = message.header.initiator_cookie;
        let key = keys.iter().find(|k| k.initiator_cookie == cookie);
        let state = states.entry(cookie).or_insert_with(|| {
            IkeSaState::new(
                cookie,
                key.map_or_else(Secret::default, |k| k.encryption_key.clone()),
            )
        });
        let plaintext = if key.is_some() || !message.is_encrypted() {
            state
                .process(&message)
                .unwrap_or_else(|e| panic!("{} frame {}: {e}", path.display(), datagram.frame))
        } else {
            None
        };
        let context = Context {
            exchange: message.header.exchange_type,
            nat_d: state.nat_d(),
        };
        let chain = match (&plaintext, message.payloads()) {
            (Some(plain), _) => Some(Payloads::decrypted(message.header.next_payload, plain, 28)),
            (None, Some(payloads)) => Some(payloads),
            (None, None) => None,
        };
        let types = match chain {
            Some(chain) => flat_payload_types(chain, context).map_err(|e| e.to_string()),
            None => Ok(Vec::new()),
        };
        let summary = message
            .summary(plaintext.as_deref())
            .with_nat_d(state.nat_d())
            .to_string();
        out.push(Decoded {
            frame: datagram.frame,
            header: message.header,
            plaintext,
            types,
            summary,
            context,
        });
    }
    out
}
