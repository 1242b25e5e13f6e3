//! The link types and tunnel payloads of other projects' public test captures (issue #15), decoded
//! from the captures `tools/gen/capture_gen_encaps.py` writes to `testdata/capture/encap/`: Cisco
//! HDLC, PPP, PPP in HDLC framing, PPPoE, Frame Relay, NFLOG, OpenBSD enc and BSD raw IP; PPPoE,
//! QinQ, LLC/SNAP and padding over Ethernet; Ethernet in GRE (TEB, ERSPAN), MPLS in GRE, GRE over
//! IPv6 and IPv6 extension headers.
//!
//! Each case checks the JSON fields and the text line of `dmvpn decode`; the presence of each
//! protocol and the header fields tshark also shows are compared in `tshark_diff.rs`.

// A test: a failed unwrap is a failed test with its reason, not a crash on input.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use dmvpn_testkit::assert_contains;
use serde_json::{Value, json};

#[path = "util/encap.rs"]
mod encap;
use encap::{capture, decode};

/// The layers of every frame of a generated capture.
fn layers(name: &str) -> Vec<Vec<Value>> {
    encap::layers(&capture(name))
}

/// The text line of every frame of a generated capture.
fn lines(name: &str) -> Vec<String> {
    encap::lines(&capture(name))
}

/// The `"proto"` of each layer, joined with `:` as tshark's `frame.protocols`.
fn protos(layers: &[Value]) -> String {
    layers
        .iter()
        .map(|layer| layer["proto"].as_str().unwrap())
        .collect::<Vec<_>>()
        .join(":")
}

/// The `"proto"` chains of every frame.
fn chains(name: &str) -> Vec<String> {
    layers(name).iter().map(|frame| protos(frame)).collect()
}

/// The IP payloads every link type capture carries, in order (see `ip_set` in the generator).
const IP_SET: [&str; 6] = [
    "ipv4:esp:data",
    "ipv4:gre:nhrp",
    "ipv4:udp:isakmp",
    "ipv4:eigrp",
    "ipv6:esp:data",
    "ipv6:gre:ipv4:icmp",
];

fn with_link(link: &str, payloads: &[&str]) -> Vec<String> {
    payloads.iter().map(|p| format!("{link}:{p}")).collect()
}

/// The layers of `name`, after checking that its frames are the IP set under `link`.
#[track_caller]
fn ip_set_layers(name: &str, link: &str) -> Vec<Vec<Value>> {
    assert_eq!(chains(name), with_link(link, &IP_SET));
    layers(name)
}

#[test]
fn cisco_hdlc_with_slarp_and_cdp() {
    let mut expected = with_link("chdlc", &IP_SET);
    expected.extend(["chdlc:data".to_owned(), "chdlc:data".to_owned()]);
    assert_eq!(chains("chdlc.pcap"), expected);
    let frames = layers("chdlc.pcap");
    assert_eq!(
        frames[0][0],
        json!({"proto": "chdlc", "address": 15, "protocol": "0x0800", "ethertype": "0x0800"})
    );
    assert_eq!(frames[4][0]["ethertype"], "0x86dd");
    assert_eq!(frames[1][2]["key"], 100);
    // SLARP keepalive and CDP: named data under the broadcast address.
    assert_eq!(frames[6][0]["address"], 0x8f);
    assert_eq!(
        frames[6][1],
        json!({"proto": "data", "of": "slarp", "len": 14})
    );
    assert_eq!(
        frames[7][1],
        json!({"proto": "data", "of": "cdp", "len": 14})
    );
    let text = lines("chdlc.pcap");
    assert_contains(&text[1], "NHRP Registration Request, ID=31");
    assert!(text[6].ends_with("+ 14 bytes of slarp"), "{}", text[6]);
}

#[test]
fn ppp_and_ppp_in_hdlc_framing() {
    let mut expected = with_link("ppp", &IP_SET);
    expected.extend([
        "ppp:ipv4:icmp".to_owned(),
        "ppp:ipv4:icmp".to_owned(),
        "ppp:data".to_owned(),
    ]);
    assert_eq!(chains("ppp.pcap"), expected);
    let frames = layers("ppp.pcap");
    assert_eq!(
        frames[0][0],
        json!({"proto": "ppp", "ppp_protocol": "0x0021", "ethertype": "0x0800"})
    );
    assert_eq!(frames[4][0]["ppp_protocol"], "0x0057");
    // Address and control compressed away, then the protocol compressed to one byte.
    assert_eq!(frames[6][0]["ppp_protocol"], "0x0021");
    assert_eq!(frames[7][0]["ppp_protocol"], "0x0021");
    assert_eq!(
        frames[7][1]["id"], 7,
        "the one-byte protocol frame is frame 8"
    );
    assert_eq!(
        frames[8][1],
        json!({"proto": "data", "of": "ppp lcp", "len": 8})
    );
    // PPP_HDLC: PPP, then Cisco HDLC frames under the same link type.
    assert_eq!(
        chains("ppp_hdlc.pcap"),
        [
            "ppp:ipv4:esp:data",
            "ppp:ipv4:gre:nhrp",
            "ppp:ipv4:udp:isakmp",
            "chdlc:ipv4:esp:data",
            "chdlc:ipv4:gre:nhrp",
        ]
    );
}

#[test]
fn pppoe_without_and_with_ethernet() {
    let frames = ip_set_layers("ppp_ether.pcap", "pppoe");
    assert_eq!(
        frames[0][0],
        json!({"proto": "pppoe", "pppoe_code": 0, "pppoe_session": "0x0011", "pppoe_length": 78,
               "ppp_protocol": "0x0021", "ethertype": "0x0800"})
    );
    let eth = layers("eth_more.pcap");
    assert_eq!(
        eth[0][0],
        json!({"proto": "eth", "src": "00:1b:21:3c:4d:5e", "dst": "00:0c:29:01:02:03",
               "pppoe_code": 0, "pppoe_session": "0x0011", "pppoe_length": 78,
               "ppp_protocol": "0x0021", "ethertype": "0x0800"})
    );
    assert_eq!(protos(&eth[1]), "eth:ipv6:gre:ipv4:icmp");
    assert_eq!(protos(&eth[2]), "eth:ipv4:udp:isakmp");
    // Discovery: a PADI, named.
    assert_eq!(eth[3][0]["ethertype"], "0x8863");
    assert_eq!(
        eth[3][1],
        json!({"proto": "data", "of": "pppoe discovery", "len": 10})
    );
    let text = lines("eth_more.pcap");
    assert_contains(&text[0], "ESP (SPI=0x0000c0de) seq=5");
}

#[test]
fn frame_relay_nlpid_snap_and_cisco() {
    assert_eq!(
        chains("frelay.pcap"),
        [
            "fr:ipv4:esp:data",
            "fr:ipv4:gre:nhrp",
            "fr:ipv6:esp:data",
            "fr:ipv4:gre:nhrp",
            "fr:ipv4:esp:data",
            "fr:ipv6:esp:data",
        ]
    );
    let frames = layers("frelay.pcap");
    let header = |i: usize| (frames[i][0]["dlci"].clone(), frames[i][0]["nlpid"].clone());
    assert_eq!(header(0), (json!(102), json!(0xcc)));
    assert_eq!(header(2), (json!(103), json!(0x8e)));
    assert_eq!(header(3), (json!(104), json!(0x80)));
    // Cisco encapsulation: no NLPID.
    assert_eq!(header(4), (json!(105), Value::Null));
    assert_eq!(frames[5][0]["ethertype"], "0x86dd");
}

#[test]
fn nflog_enc_and_bsd_raw() {
    let frames = ip_set_layers("nflog.pcap", "nflog");
    assert_eq!(
        frames[0][0],
        json!({"proto": "nflog", "family": 2, "group": 5, "ethertype": "0x0800"})
    );
    assert_eq!(frames[4][0]["family"], 10);
    assert_eq!(
        chains("enc.pcap"),
        [
            "enc:ipv4:gre:nhrp",
            "enc:ipv4:eigrp",
            "enc:ipv6:gre:ipv4:icmp"
        ]
    );
    assert_eq!(
        layers("enc.pcap")[2][0],
        json!({"proto": "enc", "family": 24, "spi": "0x0000c0de", "flags": 3, "ethertype": "0x86dd"})
    );
    for name in ["raw12.pcap", "raw14.pcap"] {
        assert_eq!(chains(name), with_link("raw", &IP_SET), "{name}");
    }
}

#[test]
fn tags_llc_snap_and_padding() {
    let frames = layers("eth_more.pcap");
    assert_eq!(protos(&frames[4]), "eth:ipv4:gre:nhrp");
    assert_eq!(frames[4][0]["vlan"], json!([10, 20]));
    assert_eq!(protos(&frames[5]), "eth:ipv6:esp:data");
    assert_eq!(frames[5][0]["vlan"], json!([30]));
    assert_eq!(
        frames[6][0],
        json!({"proto": "eth", "src": "00:1b:21:3c:4d:5e", "dst": "00:0c:29:01:02:03",
               "length": 84, "llc_dsap": 170, "llc_ssap": 170, "snap_oui": 0,
               "snap_pid": "0x0800", "ethertype": "0x0800"})
    );
    assert_eq!(protos(&frames[6]), "eth:ipv4:esp:data");
    // A 40-byte IPv4 packet in a frame padded with non-zero bytes: the ESP packet is its 20
    // bytes, 12 after the SPI and sequence number, not the padding.
    assert_eq!(protos(&frames[7]), "eth:ipv4:esp:data");
    assert_eq!(frames[7][3]["len"], 12);
    // A 40-byte IPv6 packet with no next header: nothing after it, padding included.
    assert_eq!(protos(&frames[8]), "eth:ipv6");
    // The same padding after PPPoE.
    assert_eq!(frames[9][3]["len"], 12);
}

#[test]
fn ethernet_in_gre_and_erspan() {
    let frames = layers("gre_eth.pcap");
    let chains: Vec<String> = frames.iter().map(|frame| protos(frame)).collect();
    assert_eq!(
        chains[..8],
        [
            "eth:ipv4:gre:eth:ipv4:gre:nhrp",
            "eth:ipv4:gre:eth:ipv6:esp:data",
            "eth:ipv4:gre:erspan:eth:ipv4:gre:nhrp",
            "eth:ipv4:gre:erspan:eth:ipv4:gre:nhrp",
            "eth:ipv4:gre:erspan:eth:ipv4:udp:isakmp",
            "eth:ipv4:gre:erspan:eth:ipv6:esp:data",
            "eth:ipv4:gre:erspan:eth:ipv4:gre:nhrp",
            "eth:ipv4:gre:mpls:ipv4:esp:data",
        ]
    );
    assert_eq!(
        frames[0][3],
        json!({"proto": "eth", "src": "00:00:5e:00:53:01", "dst": "00:00:5e:00:53:02", "ethertype": "0x0800"})
    );
    assert_eq!(frames[2][3], json!({"proto": "erspan", "type": 1}));
    assert_eq!(
        frames[3][3],
        json!({"proto": "erspan", "type": 2, "vlan": 0, "session": 1, "index": 5})
    );
    assert_eq!(frames[4][3]["vlan"], 7);
    assert_eq!(
        frames[5][3],
        json!({"proto": "erspan", "type": 3, "vlan": 0, "session": 3, "timestamp": 123_456})
    );
    // Type III with the platform subheader: the mirrored frame starts 8 bytes later.
    assert_eq!(frames[6][3]["session"], 4);
    assert_eq!(frames[6][6]["key"], 100);
    let text = lines("gre_eth.pcap");
    assert_contains(
        &text[0],
        "[192.0.2.10→192.0.2.20 GRE] NHRP Registration Request, ID=31",
    );
}

#[test]
fn gre_over_ipv6_and_extension_headers() {
    let frames = layers("gre_eth.pcap");
    let chains: Vec<String> = frames.iter().map(|frame| protos(frame)).collect();
    assert_eq!(
        chains[8..],
        [
            "eth:ipv6:gre:nhrp",
            "eth:ipv6:gre:nhrp",
            "eth:ipv6:esp:data",
            "eth:ipv6:udp:isakmp",
            "eth:ipv6:esp:data",
        ]
    );
    // Hop-by-hop, then GRE; destination options and routing, then ESP; an atomic fragment, then
    // UDP; hop-by-hop, destination options and a fragment header, then ESP.
    assert_eq!(frames[9][2]["protocol"], "0x2001");
    assert_eq!(frames[10][2]["spi"], "0x0000beef");
    assert_eq!(frames[10][2]["seq"], 10);
    assert_eq!(frames[11][2]["dport"], 500);
    assert_eq!(frames[12][2]["seq"], 11);
}

#[test]
fn malformed_links_name_field_and_offset() {
    let frames = layers("malformed_links.pcap");
    let errors: Vec<&str> = frames
        .iter()
        .map(|frame| {
            frame
                .iter()
                .find_map(|layer| layer["error"].as_str())
                .unwrap_or_else(|| panic!("no error in {frame:?}"))
        })
        .collect();
    assert_eq!(
        errors,
        [
            "gre: truncated reading `erspan index` at offset 12: need 4 bytes, have 0",
            "gre: field `erspan version` at offset 4 has unsupported value 0x5",
            "eth: truncated reading `source` at offset 6: need 6 bytes, have 4",
        ]
    );
    // The GRE header before a bad ERSPAN header is still shown.
    assert_eq!(protos(&frames[0]), "eth:ipv4:gre:erspan");
}

#[test]
fn pflog_both_header_layouts() {
    let mut expected = with_link("pflog", &IP_SET);
    expected.push("pflog:ipv4:gre:nhrp".to_owned());
    assert_eq!(chains("pflog.pcap"), expected);
    let frames = layers("pflog.pcap");
    assert_eq!(
        frames[0][0],
        json!({"proto": "pflog", "family": 2, "action": 0, "reason": 0, "rule": 3,
               "ethertype": "0x0800"})
    );
    assert_eq!(frames[4][0]["family"], 24);
    // The 3.4 layout: a 45-byte header, the packet at 48.
    assert_eq!(frames[6][0]["rule"], 9);
    assert_eq!(frames[6][2]["key"], 100);
}

#[test]
fn summary_counts_the_new_link_layers() {
    for (name, row) in [
        ("chdlc.pcap", "chdlc 8"),
        ("ppp.pcap", "ppp 9"),
        ("ppp_ether.pcap", "ppp 6"),
        ("frelay.pcap", "fr 6"),
        ("nflog.pcap", "nflog 6"),
        ("enc.pcap", "enc 3"),
        ("pflog.pcap", "pflog 7"),
        ("gre_eth.pcap", "erspan 5"),
    ] {
        let summary = decode(&capture(name), "summary");
        let rows: Vec<String> = summary
            .lines()
            .map(|line| line.split_whitespace().collect::<Vec<_>>().join(" "))
            .collect();
        assert!(
            rows.iter().any(|r| r == row),
            "{name}: no `{row}` in\n{summary}"
        );
    }
}
