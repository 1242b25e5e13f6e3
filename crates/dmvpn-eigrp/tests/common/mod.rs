//! A minimal pcap + Ethernet + IPv4/IPv6 walker shared by the integration tests.
// Test helpers: a failure should panic with the value in the message.
#![allow(clippy::unwrap_used, dead_code)]

use std::path::Path;

/// One captured EIGRP packet: frame number (1-based) and the EIGRP bytes.
pub(crate) struct Frame {
    pub(crate) number: usize,
    pub(crate) eigrp: Vec<u8>,
}

fn u16be(b: &[u8], at: usize) -> usize {
    usize::from(u16::from_be_bytes([b[at], b[at + 1]]))
}

/// Reads a classic pcap with Ethernet frames and returns the EIGRP payloads (IP protocol 88).
pub(crate) fn eigrp_frames(path: &Path) -> Vec<Frame> {
    let data = std::fs::read(path).unwrap();
    let magic = &data[..4];
    let le = match magic {
        [0xd4, 0xc3, 0xb2, 0xa1] | [0x4d, 0x3c, 0xb2, 0xa1] => true,
        [0xa1, 0xb2, 0xc3, 0xd4] | [0xa1, 0xb2, 0x3c, 0x4d] => false,
        _ => panic!("{}: not a classic pcap file", path.display()),
    };
    let u32at = |at: usize| {
        let b = [data[at], data[at + 1], data[at + 2], data[at + 3]];
        if le {
            u32::from_le_bytes(b)
        } else {
            u32::from_be_bytes(b)
        }
    };
    assert_eq!(
        u32at(20),
        1,
        "{}: only Ethernet captures are walked",
        path.display()
    );
    let mut frames = Vec::new();
    let mut pos = 24;
    let mut number = 0;
    while pos + 16 <= data.len() {
        number += 1;
        let caplen = u32at(pos + 8) as usize;
        let frame = &data[pos + 16..pos + 16 + caplen];
        pos += 16 + caplen;
        let mut ethertype = u16be(frame, 12);
        let mut l3 = 14;
        while ethertype == 0x8100 || ethertype == 0x88a8 {
            ethertype = u16be(frame, l3 + 2);
            l3 += 4;
        }
        let payload = match ethertype {
            0x0800 => {
                let ihl = usize::from(frame[l3] & 0x0f) * 4;
                let total = u16be(frame, l3 + 2);
                (frame[l3 + 9] == 88).then(|| &frame[l3 + ihl..l3 + total])
            }
            0x86dd => {
                let len = u16be(frame, l3 + 4);
                (frame[l3 + 6] == 88).then(|| &frame[l3 + 40..l3 + 40 + len])
            }
            _ => None,
        };
        if let Some(eigrp) = payload {
            frames.push(Frame {
                number,
                eigrp: eigrp.to_vec(),
            });
        }
    }
    frames
}
