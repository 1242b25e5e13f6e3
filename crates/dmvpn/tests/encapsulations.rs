//! The encapsulations public captures show beside DMVPN (issue #15, point 5), decoded from the
//! captures `tools/gen/capture_gen_encaps.py` writes to `testdata/capture/encap/`: NHRP over IP,
//! enhanced GRE (PPTP), GRE-in-UDP, MPLS over Ethernet and Linux cooked captures, ISAKMP with
//! trailers, EIGRP with a bad checksum, EIGRP wide-metric routes, and the nesting limit.
//!
//! Each case checks the JSON fields and the text line of `dmvpn decode`; presence of each
//! protocol and the header fields tshark also shows are compared in `tshark_diff.rs`, and the
//! EIGRP routes here against tshark's when it is installed.

// A test: a failed unwrap is a failed test with its reason, not a crash on input.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::PathBuf;
use std::process::Command;

use dmvpn_testkit::{assert_contains, assert_ends_with};
use serde_json::{Value, json};

#[path = "util/encap.rs"]
mod encap;
use encap::{capture, decode, layers, lines};

fn shared(name: &str) -> Option<PathBuf> {
    let path = dmvpn_testkit::captures()?.join(name);
    path.is_file().then_some(path)
}

/// The `"proto"` of each layer.
fn protos(layers: &[Value]) -> Vec<&str> {
    layers
        .iter()
        .map(|layer| layer["proto"].as_str().unwrap())
        .collect()
}

fn find<'a>(layers: &'a [Value], proto: &str) -> &'a Value {
    layers
        .iter()
        .find(|layer| layer["proto"] == proto)
        .unwrap_or_else(|| panic!("no {proto} layer in {layers:?}"))
}

/// The error text of the first failed layer.
fn error(layers: &[Value]) -> &str {
    layers
        .iter()
        .find_map(|layer| layer["error"].as_str())
        .unwrap_or_else(|| panic!("no error in {layers:?}"))
}

#[test]
fn nhrp_directly_over_ip() {
    let frames = layers(&capture("nhrp_ip.pcap"));
    assert_eq!(protos(&frames[0]), ["eth", "ipv4", "nhrp"]);
    assert_eq!(frames[0][1]["protocol"], 54);
    let request = find(&frames[0], "nhrp");
    assert_eq!(
        (&request["op"], &request["request_id"]),
        (&json!(3), &json!(7))
    );
    assert_eq!(request["src_nbma"], "192.0.2.1");
    let reply = find(&frames[1], "nhrp");
    assert_eq!(reply["op"], 4);
    assert_eq!(reply["cies"][0]["nbma"], "192.0.2.1");
    // Over IPv6 too (next header 54).
    assert_eq!(protos(&frames[2]), ["eth", "ipv6", "nhrp"]);
    assert_eq!(find(&frames[2], "nhrp")["op"], 1);
    let text = lines(&capture("nhrp_ip.pcap"));
    assert_contains(&text[0], "NHRP Registration Request, ID=7");
    assert_contains(&text[2], "NHRP Resolution Request, ID=8");
}

#[test]
fn nhrp_over_ip_malformed_names_field_and_offset() {
    let frames = layers(&capture("malformed.pcap"));
    // The fixed header as far as it goes (tshark shows the op type too), then the error.
    assert_eq!(protos(&frames[0]), ["eth", "ipv4", "nhrp", "nhrp"]);
    assert_eq!(
        (&frames[0][2]["op"], &frames[0][2]["packet_size"]),
        (&json!(3), &json!(56))
    );
    assert_eq!(
        error(&frames[0]),
        "nhrp: length field `packet size` at offset 10 says 56 bytes, but 30 are there"
    );
    // tcpdump's fuzzed pb_nhrp_1.pcap: NHRP over IP with a packet size of 30547.
    if let Some(path) = shared("tcpdump/pb_nhrp_1.pcap") {
        let frames = layers(&path);
        assert_eq!(frames.len(), 1);
        assert_eq!(frames[0][2]["op"], 1);
        assert_eq!(
            error(&frames[0]),
            "nhrp: length field `packet size` at offset 10 says 30547 bytes, but 40 are there"
        );
        assert!(lines(&path)[0].contains(
            "NHRP Resolution Request [[Malformed nhrp: nhrp: length field `packet size`"
        ));
    }
}

#[test]
fn enhanced_gre_carries_ppp() {
    let frames = layers(&capture("gre_v1.pcap"));
    // PPP IPv4 (protocol 0x0021) is followed into the tunnel.
    assert_eq!(protos(&frames[0]), ["eth", "ipv4", "gre", "ipv4", "icmp"]);
    let gre = find(&frames[0], "gre");
    assert_eq!(
        gre,
        &json!({"proto": "gre", "version": 1, "protocol": "0x880b", "protocol_name": "PPP",
                "payload_length": 52, "call_id": 6016, "seq": 430_001, "ack": 539_254,
                "ppp_protocol": "0x0021"})
    );
    // LCP stays data, with its PPP protocol.
    assert_eq!(protos(&frames[1]), ["eth", "ipv4", "gre", "data"]);
    assert_eq!(find(&frames[1], "gre")["ppp_protocol"], "0xc021");
    assert_eq!(find(&frames[1], "gre").get("ack"), None);
    assert_eq!(
        find(&frames[1], "data"),
        &json!({"proto": "data", "of": "ppp", "len": 12})
    );
    // An acknowledgement alone: no sequence number, no payload.
    assert_eq!(protos(&frames[2]), ["eth", "ipv4", "gre"]);
    assert_eq!(find(&frames[2], "gre")["ack"], 539_321);
    assert_eq!(find(&frames[2], "gre").get("seq"), None);
    // PPP IPv6 (0x0057) is followed too.
    assert_eq!(
        protos(&frames[3]),
        ["eth", "ipv4", "gre", "ipv6", "udp", "data"]
    );
    assert_eq!(find(&frames[3], "gre")["ppp_protocol"], "0x0057");
    // VLAN, IPv6, IPv4, then PPTP, as in packetlife gre_and_4over6.cap.
    assert_eq!(
        protos(&frames[4]),
        ["eth", "ipv6", "ipv4", "gre", "ipv4", "icmp"]
    );
    let text = lines(&capture("gre_v1.pcap"));
    assert_contains(
        &text[0],
        "[192.0.2.10→198.51.100.1 GRE v1 call=6016] Echo (ping) request",
    );
    assert!(
        text[1].contains(
            "GRE v1 PPP (34827) call 17 seq 539320 PPP protocol 0xc021 + 12 bytes of ppp"
        ),
        "{}",
        text[1]
    );
    // A payload length past the end is an error naming the field.
    let malformed = layers(&capture("malformed.pcap"));
    assert_eq!(
        error(&malformed[4]),
        "gre: length field `payload length` at offset 4 says 4 bytes, but 2 are there"
    );
    if let Some(path) = shared("packetlife/gre_and_4over6.cap") {
        for frame in layers(&path) {
            let gre = find(&frame, "gre");
            assert_eq!(
                (&gre["version"], &gre["protocol"]),
                (&json!(1), &json!("0x880b"))
            );
            assert!(
                frame.iter().all(|layer| layer.get("error").is_none()),
                "{frame:?}"
            );
        }
    }
}

#[test]
fn gre_in_udp() {
    let frames = layers(&capture("gre_udp.pcap"));
    assert_eq!(
        protos(&frames[0]),
        ["eth", "ipv4", "udp", "gre", "ipv4", "icmp"]
    );
    assert_eq!(find(&frames[0], "udp")["dport"], 4754);
    assert_eq!(find(&frames[0], "gre")["protocol"], "0x0800");
    // DMVPN's NHRP in keyed GRE, in UDP.
    assert_eq!(protos(&frames[1]), ["eth", "ipv4", "udp", "gre", "nhrp"]);
    assert_eq!(find(&frames[1], "gre")["key"], 1000);
    assert_eq!(find(&frames[1], "nhrp")["request_id"], 11);
    // Over IPv6, carrying IPv6.
    assert_eq!(
        protos(&frames[2]),
        ["eth", "ipv6", "udp", "gre", "ipv6", "udp", "data"]
    );
    assert_eq!(find(&frames[2], "gre")["protocol"], "0x86dd");
    let text = lines(&capture("gre_udp.pcap"));
    assert_contains(&text[0], "UDP GRE] Echo (ping) request");
}

fn label(label: u32, tc: u8, s: bool, ttl: u8) -> Value {
    json!({"label": label, "tc": tc, "s": s, "ttl": ttl})
}

#[test]
fn mpls_over_ethernet_and_linux_cooked() {
    for (file, link) in [
        ("mpls.pcap", "eth"),
        ("mpls_sll.pcap", "sll"),
        ("mpls_sll2.pcap", "sll"),
    ] {
        let frames = layers(&capture(file));
        assert_eq!(frames.len(), 7, "{file}");
        assert_eq!(protos(&frames[0]), [link, "mpls", "ipv4", "icmp"], "{file}");
        assert_eq!(frames[0][0]["ethertype"], "0x8847");
        assert_eq!(frames[0][1]["labels"], json!([label(100, 0, true, 64)]));
        assert_eq!(protos(&frames[1]), [link, "mpls", "ipv6", "udp", "data"]);
        assert_eq!(
            frames[1][1]["labels"],
            json!([label(16, 5, false, 255), label(17, 0, true, 64)])
        );
        // Multicast MPLS (0x8848).
        assert_eq!(frames[2][0]["ethertype"], "0x8848");
        assert_eq!(frames[2][1]["labels"], json!([label(200, 0, true, 32)]));
        assert_eq!(find(&frames[2], "ipv4")["dst"], "239.1.1.1");
        // DMVPN over an MPLS core.
        assert_eq!(
            protos(&frames[3]),
            [link, "mpls", "ipv4", "gre", "nhrp"],
            "{file}"
        );
        assert_eq!(find(&frames[3], "nhrp")["request_id"], 21);
        // IPv4 explicit null.
        assert_eq!(frames[4][1]["labels"], json!([label(0, 0, true, 64)]));
        // An Ethernet pseudowire behind its control word (RFC 4448): the frame it carries.
        assert_eq!(
            protos(&frames[5]),
            [link, "mpls", "eth", "ipv4", "icmp"],
            "{file}"
        );
        assert_eq!(frames[5][2]["ethertype"], "0x0800");
        assert_eq!(frames[5][2]["src"], "00:00:5e:00:53:01");
        assert_eq!(find(&frames[5], "ipv4")["src"], "10.30.0.1");
        // MPLS in GRE (RFC 4023), then IPv4 as another tunnel level.
        assert_eq!(
            protos(&frames[6]),
            [link, "ipv4", "gre", "mpls", "ipv4", "icmp"],
            "{file}"
        );
        assert_eq!(find(&frames[6], "gre")["protocol"], "0x8847");
        assert_eq!(
            find(&frames[6], "mpls")["labels"],
            json!([label(500, 0, true, 63)])
        );
        let text = lines(&capture(file));
        assert_contains(&text[6], "[192.0.2.1→192.0.2.2 GRE MPLS] Echo");
        assert_contains(&text[3], "NHRP Registration Request, ID=21");
    }
    let malformed = layers(&capture("malformed.pcap"));
    assert_eq!(
        error(&malformed[1]),
        "eth: truncated reading `mpls label stack entry` at offset 18: need 4 bytes, have 2"
    );
    assert_eq!(
        error(&malformed[2]),
        "eth: field `mpls label stack depth` at offset 78 has unsupported value 0x11"
    );
    // In GRE, the offset counts from the GRE header.
    assert_eq!(protos(&malformed[5]), ["eth", "ipv4", "gre", "mpls"]);
    assert_eq!(
        error(&malformed[5]),
        "gre: truncated reading `mpls label stack entry` at offset 4: need 4 bytes, have 2"
    );
    // A control word and less than an Ethernet header: neither IP nor a pseudowire, so data.
    assert_eq!(protos(&malformed[3]), ["eth", "mpls", "data"]);
    assert_eq!(malformed[3][2]["of"], "mpls payload");
    let text = lines(&capture("malformed.pcap"));
    assert_contains(&text[3], "MPLS label 500 TTL 64 + 14 bytes of mpls payload");
}

#[test]
fn isakmp_trailers_are_flagged_not_fatal() {
    let frames = layers(&capture("isakmp_trailer.pcap"));
    let isakmp: Vec<&Value> = frames.iter().map(|f| find(f, "isakmp")).collect();
    for message in &isakmp {
        assert_eq!(message["payloads"], json!([1, 2, 3, 13]), "{message}");
        assert_eq!(message["icookie"], "0011223344556677");
    }
    assert_eq!(isakmp[0].get("trailer_len"), None);
    // Inside the header's length, after the last payload.
    assert_eq!(
        (&isakmp[1]["trailer_offset"], &isakmp[1]["trailer_len"]),
        (&json!(108), &json!(4))
    );
    assert_eq!(isakmp[1]["exchange"], 2);
    // After the header's length.
    assert_eq!(isakmp[2].get("trailer_len"), None);
    assert_eq!(
        frames[2].last().unwrap(),
        &json!({"proto": "data", "of": "isakmp trailer", "len": 6})
    );
    // Both, behind the non-ESP marker, Aggressive Mode.
    assert_eq!(isakmp[3]["exchange"], 4);
    assert_eq!(isakmp[3]["trailer_len"], 2);
    assert_eq!(frames[3].last().unwrap()["len"], 1);
    let text = lines(&capture("isakmp_trailer.pcap"));
    assert_ends_with(
        &text[1],
        "VID(RFC 3947 NAT-T) <isakmp: 4 trailing bytes at offset 108>",
    );
    assert_ends_with(&text[2], "VID(RFC 3947 NAT-T) + 6 bytes of isakmp trailer");
    assert_contains(&text[3], "ISAKMP Aggressive Mode i=0011223344556677");
}

#[test]
fn eigrp_bad_checksum_is_decoded_and_flagged() {
    let frames = layers(&capture("eigrp_checksum.pcap"));
    let hello = find(&frames[0], "eigrp");
    assert_eq!((&hello["opcode"], &hello["as"]), (&json!(5), &json!(100)));
    assert_eq!(hello["tlvs"], json!([1, 4]));
    assert_eq!(
        (
            &hello["checksum"],
            &hello["checksum_found"],
            &hello["checksum_computed"]
        ),
        (&json!("bad"), &json!("0xb432"), &json!("0xee68"))
    );
    let update = find(&frames[1], "eigrp");
    assert_eq!(update["checksum"], "bad");
    assert_eq!(update["routes"][0]["prefix"], "192.168.1.0");
    // A good checksum is not mentioned.
    assert_eq!(find(&frames[2], "eigrp").get("checksum"), None);
    let text = lines(&capture("eigrp_checksum.pcap"));
    assert_ends_with(&text[0], "[BAD CHECKSUM 0xb432, should be 0xee68]");
    assert!(!text[2].contains("CHECKSUM"), "{}", text[2]);
}

#[test]
fn eigrp_wide_metric_routes() {
    let path = capture("eigrp_wide.pcap");
    let frames = layers(&path);
    let route = |prefix: &str,
                 len: u8,
                 tlv: &str,
                 delay: u64,
                 bandwidth: u64,
                 unreachable: bool| {
        json!({"prefix": prefix, "prefix_len": len,
               "next_hop": if prefix.contains(':') { "::" } else { "0.0.0.0" },
               "unreachable": unreachable, "tlv": tlv, "metric": "wide", "delay": delay,
               "bandwidth": bandwidth, "mtu": 1500, "hop_count": u8::from(delay == 10_000_000 && !prefix.contains(':')),
               "reliability": 255, "load": 1})
    };
    let v4 = find(&frames[0], "eigrp");
    assert_eq!(v4["tlvs"], json!([0x0602, 0x0603, 0x0602]));
    assert_eq!(
        v4["routes"],
        json!([
            route("10.1.1.0", 24, "0x0602", 10_000_000, 100_000, false),
            route("172.16.0.0", 16, "0x0603", 20_000_000, 1_000_000, false),
            route("10.9.9.4", 30, "0x0602", 0xffff_ffff_ffff, 100_000, true),
        ])
    );
    let v6 = find(&frames[1], "eigrp");
    assert_eq!(
        v6["routes"],
        json!([
            route("2001:db8:1::", 64, "0x0602", 10_000_000, 100_000, false),
            route("2001:db8:99::", 48, "0x0603", 30_000_000, 10_000, false),
        ])
    );
    let text = lines(&path);
    assert_contains(&text[0], "MultiProtocolExternal 172.16.0.0/16");
    assert_contains(&text[1], "MultiProtocolInternal 2001:db8:1::/64");
    // The same prefixes as tshark, where it is installed.
    let Ok(output) = Command::new("tshark")
        .args(["-n", "-r"])
        .arg(&path)
        .args(["-T", "fields", "-E", "occurrence=a", "-E", "aggregator=,"])
        .args(["-e", "eigrp.ipv4.destination", "-e", "eigrp.ipv4.prefixlen"])
        .args(["-e", "eigrp.ipv6.destination", "-e", "eigrp.ipv6.prefixlen"])
        .output()
    else {
        eprintln!("tshark is not installed: routes not compared");
        return;
    };
    let theirs: Vec<String> = String::from_utf8(output.stdout)
        .unwrap()
        .lines()
        .map(|line| {
            let columns: Vec<&str> = line.split('\t').collect();
            let (addrs, lens) = if columns[0].is_empty() {
                (columns[2], columns[3])
            } else {
                (columns[0], columns[1])
            };
            addrs
                .split(',')
                .zip(lens.split(','))
                .map(|(addr, len)| format!("{addr}/{len}"))
                .collect::<Vec<_>>()
                .join(" ")
        })
        .collect();
    let ours: Vec<String> = [v4, v6]
        .iter()
        .map(|eigrp| {
            eigrp["routes"]
                .as_array()
                .unwrap()
                .iter()
                .map(|r| format!("{}/{}", r["prefix"].as_str().unwrap(), r["prefix_len"]))
                .collect::<Vec<_>>()
                .join(" ")
        })
        .collect();
    assert_eq!(ours, theirs);
}

/// Where the decoder stopped at its nesting limit in a frame's layers.
fn nesting_limit(layers: &[Value]) -> usize {
    layers
        .iter()
        .position(|l| l["proto"] == "nesting_limit")
        .unwrap()
}

#[test]
fn nesting_limit_is_named() {
    let frames = layers(&capture("nesting.pcap"));
    // Six IP-in-IP headers: the outer packet and four tunnels are decoded, then the limit.
    let ipip = &frames[0];
    assert_eq!(ipip.iter().filter(|l| l["proto"] == "ipv4").count(), 5);
    let at = nesting_limit(ipip);
    assert_eq!(ipip[at], json!({"proto": "nesting_limit", "limit": 4}));
    assert_eq!(
        ipip[at + 1],
        json!({"proto": "data", "of": "ip payload", "len": 68})
    );
    // GRE in GRE: the same limit, named after the GRE payload.
    let gre = &frames[1];
    assert_eq!(gre.iter().filter(|l| l["proto"] == "gre").count(), 5);
    let at = nesting_limit(gre);
    assert_eq!(gre[at + 1]["of"], "gre payload");
    let text = lines(&capture("nesting.pcap"));
    for line in &text[..2] {
        assert!(
            line.ends_with("[nesting limit (4 tunnels) reached: not decoded further]"),
            "{line}"
        );
    }
    // IPv6 in tunnels: 6in4, keyed GRE (a DMVPN IPv6 overlay), IPv6 in IPv6.
    let udp6 = ["ipv6", "udp", "data"];
    assert_eq!(protos(&frames[2]), [&["eth", "ipv4"][..], &udp6].concat());
    assert_eq!(
        protos(&frames[3]),
        [&["eth", "ipv4", "gre"][..], &udp6].concat()
    );
    assert_eq!(find(&frames[3], "gre")["key"], 100);
    assert_eq!(protos(&frames[4]), [&["eth", "ipv6"][..], &udp6].concat());
    assert_eq!(frames[4][2]["src"], "2001:db8:c::1");
    assert_contains(&text[3], "[192.0.2.1→192.0.2.2 GRE key=100] 4000 → 4001");
}

#[test]
fn summary_counts_the_new_layers() {
    let summary = decode(&capture("mpls.pcap"), "summary");
    let count = |kind: &str| {
        summary
            .lines()
            .find_map(|line| {
                let (name, count) = line.rsplit_once(' ')?;
                (name.trim() == kind).then(|| count.trim().parse::<u64>().ok())?
            })
            .unwrap_or_else(|| panic!("no {kind} in\n{summary}"))
    };
    assert_eq!(count("mpls"), 7);
    let summary = decode(&capture("nesting.pcap"), "summary");
    assert!(
        summary
            .lines()
            .any(|l| l.starts_with("nesting_limit") && l.trim_end().ends_with(" 2")),
        "{summary}"
    );
}
