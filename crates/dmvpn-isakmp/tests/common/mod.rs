//! Test helpers: pull the ISAKMP messages out of the shared captures (read by `dmvpn-testkit`).
#![allow(dead_code, unreachable_pub, clippy::unwrap_used, clippy::expect_used)] // test support code

use std::net::IpAddr;
use std::path::Path;

use dmvpn_isakmp::header::{NAT_T_PORT, UDP_PORT, Udp4500, split_udp_4500};
use dmvpn_isakmp::keys::{Ikev1Key, Secret};

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

/// UDP payloads of every unfragmented IPv4/IPv6 UDP datagram in an Ethernet capture.
pub fn udp(path: &Path) -> Vec<Datagram> {
    let octets = |addr: IpAddr| match addr {
        IpAddr::V4(a) => a.octets().to_vec(),
        IpAddr::V6(a) => a.octets().to_vec(),
    };
    let mut out = Vec::new();
    for frame in dmvpn_testkit::frames(path) {
        let Some(ip) = dmvpn_testkit::ip_payload(frame.link, &frame.data) else {
            continue;
        };
        if ip.is_fragment() || ip.protocol != 17 {
            continue;
        }
        let l4 = ip.payload;
        let len = usize::from(u16::from_be_bytes([l4[4], l4[5]]));
        out.push(Datagram {
            frame: frame.number,
            src_ip: octets(ip.src),
            dst_ip: octets(ip.dst),
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

/// An IKEv1 key from the hex of its initiator cookie and encryption key.
pub fn ikev1_key(cookie: &str, key: &str) -> Ikev1Key {
    Ikev1Key {
        initiator_cookie: hex::decode(cookie).unwrap().try_into().unwrap(),
        encryption_key: Secret::new(hex::decode(key).unwrap()),
    }
}

/// Wireshark's test decryption table beside the captures: `cookie,key` lines in hex and `#`
/// comments (`dmvpn::keys` reads the format in full).
pub fn decryption_table(dir: &Path) -> Vec<Ikev1Key> {
    let text = std::fs::read_to_string(dir.join("wireshark-testsuite/ikev1_decryption_table.tmpl"))
        .unwrap();
    text.lines()
        .filter(|line| !line.is_empty() && !line.starts_with('#'))
        .map(|line| {
            let (cookie, key) = line.split_once(',').unwrap();
            ikev1_key(cookie, key)
        })
        .collect()
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
