use super::*;

/// What every decoder test checks first: the type of the payload, the header length, the payload.
fn split<'a>(frame: &LinkFrame<'a>) -> (EtherType, usize, &'a [u8]) {
    (frame.ethertype, frame.header_len, frame.payload)
}

#[rustfmt::skip]
const ETH_QINQ: [u8; 24] = [
    0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x00, 0x1b, 0x21, 0x3c, 0x4d, 0x5e,
    0x88, 0xa8, 0xa0, 0x0a,   // S-tag: PCP 5, VID 10
    0x81, 0x00, 0x30, 0x14,   // C-tag: PCP 1, DEI, VID 20
    0x86, 0xdd,               // IPv6
    0x60, 0x00,
];

#[test]
fn ethernet_qinq() {
    let frame = decode(LinkType::ETHERNET, &ETH_QINQ).unwrap();
    assert_eq!(split(&frame), (EtherType::IPV6, 22, &[0x60, 0][..]));
    let LinkHeader::Ethernet(eth) = frame.header else {
        panic!("{frame:?}")
    };
    assert_eq!(eth.dst, MacAddr([0xff; 6]));
    assert_eq!(eth.src.to_string(), "00:1b:21:3c:4d:5e");
    assert_eq!(
        eth.vlans.as_slice(),
        &[
            VlanTag {
                tpid: EtherType::QINQ,
                pcp: 5,
                dei: false,
                vid: 10
            },
            VlanTag {
                tpid: EtherType::VLAN,
                pcp: 1,
                dei: true,
                vid: 20
            },
        ]
    );
    assert_eq!(format!("{:?}", EtherType::QINQ), "802.1ad (34984)");
}

#[test]
fn ethernet_truncation_loop() {
    for len in 0..ETH_QINQ.len() - 2 {
        let (field, offset, needed) = match len {
            0..6 => ("destination", 0, 6),
            6..12 => ("source", 6, 6),
            12..14 => ("ethertype", 12, 2),
            14..16 => ("vlan tci", 14, 2),
            16..18 => ("ethertype", 16, 2),
            18..20 => ("vlan tci", 18, 2),
            _ => ("ethertype", 20, 2),
        };
        assert_eq!(
            decode(LinkType::ETHERNET, &ETH_QINQ[..len]),
            Err(Error::truncated(
                Layer::Ethernet,
                field,
                offset,
                needed,
                len
            )),
            "prefix {len}"
        );
    }
}

#[test]
fn vlan_depth_is_bounded() {
    let mut frame = vec![0u8; 12];
    for _ in 0..=MAX_VLAN_TAGS {
        frame.extend_from_slice(&[0x81, 0x00, 0x00, 0x01]);
    }
    frame.extend_from_slice(&[0x08, 0x00]);
    assert_eq!(
        decode(LinkType::ETHERNET, &frame),
        Err(Error::Unsupported {
            layer: Layer::Ethernet,
            field: "vlan tag count",
            offset: 12 + 4 * MAX_VLAN_TAGS,
            value: MAX_VLAN_TAGS as u32 + 1
        })
    );
    let ok = [&frame[..12 + 4 * MAX_VLAN_TAGS], &[0x08, 0x00]].concat();
    assert_eq!(
        decode(LinkType::ETHERNET, &ok).unwrap().ethertype,
        EtherType::IPV4
    );
}

#[test]
fn raw_ip() {
    let v4 = [0x45, 0, 0, 20];
    let v6 = [0x60, 0, 0, 0];
    assert_eq!(
        decode(LinkType::RAW, &v4).unwrap().ethertype,
        EtherType::IPV4
    );
    assert_eq!(
        decode(LinkType::RAW, &v6).unwrap().ethertype,
        EtherType::IPV6
    );
    assert_eq!(
        decode(LinkType::IPV4, &v6).unwrap().ethertype,
        EtherType::IPV4
    );
    assert!(decode(LinkType::IPV6, &[]).unwrap().payload.is_empty());
    assert_eq!(
        decode(LinkType::RAW, &[0x55]),
        Err(Error::invalid_field(Layer::Ipv4, "version", 0, 5))
    );
    assert_eq!(
        decode(LinkType::RAW, &[]),
        Err(Error::truncated(Layer::Ipv4, "version", 0, 1, 0))
    );
    let frame = decode(LinkType::RAW, &v4).unwrap();
    assert_eq!(
        (frame.header, frame.header_len, frame.payload),
        (LinkHeader::RawIp, 0, &v4[..])
    );
}

#[test]
fn sll_v1() {
    #[rustfmt::skip]
    let frame = [
        0x00, 0x04, 0x00, 0x01, 0x00, 0x06,
        0x00, 0x0c, 0x29, 0x01, 0x02, 0x03, 0x00, 0x00,
        0x08, 0x00, 0x45,
    ];
    let decoded = decode(LinkType::LINUX_SLL, &frame).unwrap();
    assert_eq!(split(&decoded), (EtherType::IPV4, 16, &[0x45][..]));
    let LinkHeader::Sll(sll) = decoded.header else {
        panic!()
    };
    assert_eq!(sll.version, 1);
    assert_eq!(sll.packet_type, SllPacketType::OUTGOING);
    assert_eq!(sll.arphrd_type, 1);
    assert_eq!(sll.address.to_string(), "00:0c:29:01:02:03");
    assert_eq!(sll.interface_index, None);
    for len in 0..16 {
        let err = decode(LinkType::LINUX_SLL, &frame[..len]).unwrap_err();
        assert_eq!(err.layer(), Layer::Sll);
        assert!(matches!(err, Error::Truncated { .. }));
        assert_eq!(
            err.offset(),
            [0, 2, 4, 6, 14][[2, 4, 6, 14, 16].iter().position(|&e| len < e).unwrap()]
        );
    }
}

#[test]
fn sll_v2() {
    #[rustfmt::skip]
    let frame = [
        0x86, 0xdd, 0x00, 0x00, 0x00, 0x00, 0x00, 0x03,
        0x03, 0x0a, 0x00, 0x0e,                             // ARPHRD_IPGRE 778, host, long address
        0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x08,
        0x60,
    ];
    let decoded = decode(LinkType::LINUX_SLL2, &frame).unwrap();
    assert_eq!(split(&decoded), (EtherType::IPV6, 20, &[0x60][..]));
    let LinkHeader::Sll(sll) = decoded.header else {
        panic!()
    };
    assert_eq!(
        (sll.version, sll.arphrd_type, sll.interface_index),
        (2, 778, Some(3))
    );
    assert_eq!(sll.packet_type, SllPacketType::HOST);
    assert_eq!(
        sll.address.as_bytes().len(),
        8,
        "a claimed length over 8 is cut to the 8 bytes there are"
    );
    for len in 0..20 {
        assert!(matches!(
            decode(LinkType::LINUX_SLL2, &frame[..len]),
            Err(Error::Truncated { .. })
        ));
    }
}

#[test]
fn loopback_both_byte_orders() {
    let cases: [(LinkType, [u8; 4], u32, bool, EtherType); 6] = [
        (LinkType::NULL, [2, 0, 0, 0], 2, false, EtherType::IPV4),
        (LinkType::NULL, [0, 0, 0, 2], 2, true, EtherType::IPV4),
        (LinkType::NULL, [30, 0, 0, 0], 30, false, EtherType::IPV6),
        (LinkType::LOOP, [0, 0, 0, 24], 24, true, EtherType::IPV6),
        (LinkType::LOOP, [2, 0, 0, 0], 2, false, EtherType::IPV4),
        (LinkType::LOOP, [0, 0, 0, 99], 99, true, EtherType(0)),
    ];
    for (link_type, head, family, big_endian, ethertype) in cases {
        let frame = [&head[..], &[0x45]].concat();
        let decoded = decode(link_type, &frame).unwrap();
        assert_eq!(
            decoded.header,
            LinkHeader::Loopback(Loopback { family, big_endian }),
            "{head:?}"
        );
        assert_eq!(
            (decoded.ethertype, decoded.payload),
            (ethertype, &[0x45][..])
        );
    }
    assert_eq!(
        decode(LinkType::NULL, &[2, 0]),
        Err(Error::truncated(Layer::Loopback, "family", 0, 4, 2))
    );
}

#[rustfmt::skip]
const MPLS_TWO_LABELS: [u8; 10] = [
    0x00, 0x3e, 0x8a, 0x3f,   // label 1000, TC 5, TTL 63
    0x00, 0x00, 0x11, 0x40,   // label 1 (router alert), S, TTL 64
    0x45, 0x00,
];

#[test]
fn mpls_stack() {
    let stack = mpls(&MPLS_TWO_LABELS, Layer::Ethernet, 14).unwrap();
    assert_eq!(
        stack.labels.as_slice(),
        &[
            MplsEntry {
                label: 1000,
                tc: 5,
                bottom: false,
                ttl: 63
            },
            MplsEntry {
                label: 1,
                tc: 0,
                bottom: true,
                ttl: 64
            },
        ]
    );
    assert_eq!(
        (stack.ethertype, stack.payload),
        (EtherType::IPV4, &[0x45, 0][..])
    );
    assert_eq!(format!("{:?}", stack.labels).matches("label").count(), 2);
    // Label, TC and TTL at their extremes.
    let max = mpls(&[0xff, 0xff, 0xff, 0xff], Layer::Gre, 4).unwrap();
    assert_eq!(
        max.labels.as_slice(),
        &[MplsEntry {
            label: 0xf_ffff,
            tc: 7,
            bottom: true,
            ttl: 255
        }]
    );
    // The payload's first nibble decides: 6 is IPv6, anything else (a pseudowire control
    // word, nothing at all) is unknown.
    for (payload, ethertype) in [
        (&[0x60][..], EtherType::IPV6),
        (&[0x00, 0x00], EtherType(0)),
        (&[0x55], EtherType(0)),
        (&[], EtherType(0)),
    ] {
        let bytes = [&MPLS_TWO_LABELS[4..8], payload].concat();
        assert_eq!(mpls(&bytes, Layer::Sll, 16).unwrap().ethertype, ethertype);
    }
}

#[test]
fn mpls_truncation_loop() {
    for len in 0..8 {
        let entry = if len < 4 { 0 } else { 4 };
        assert_eq!(
            mpls(&MPLS_TWO_LABELS[..len], Layer::Ethernet, 14),
            Err(Error::truncated(
                Layer::Ethernet,
                "mpls label stack entry",
                14 + entry,
                4,
                14 + len
            )),
            "prefix {len}"
        );
    }
}

#[test]
fn mpls_depth_is_bounded() {
    let entry = [0x00, 0x01, 0x00, 0x40];
    let deep = entry.repeat(MAX_MPLS_LABELS + 1);
    assert_eq!(
        mpls(&deep, Layer::Sll, 20),
        Err(Error::Unsupported {
            layer: Layer::Sll,
            field: "mpls label stack depth",
            offset: 20 + 4 * MAX_MPLS_LABELS,
            value: MAX_MPLS_LABELS as u32 + 1
        })
    );
    let mut ok = entry.repeat(MAX_MPLS_LABELS);
    ok[4 * MAX_MPLS_LABELS - 2] |= 0x01;
    assert_eq!(
        mpls(&ok, Layer::Sll, 20).unwrap().labels.len(),
        MAX_MPLS_LABELS
    );
}

/// Every prefix shorter than `header_len` of a frame fails with a truncation, never a panic.
fn truncations(link_type: LinkType, frame: &[u8], header_len: usize) {
    for len in 0..header_len {
        let err = decode(link_type, &frame[..len]).unwrap_err();
        assert!(
            matches!(err, Error::Truncated { .. }),
            "{link_type:?} prefix {len}: {err}"
        );
    }
}

#[test]
fn cisco_hdlc_and_ppp() {
    let hdlc = [0x0f, 0x00, 0x08, 0x00, 0x45];
    let frame = decode(LinkType::C_HDLC, &hdlc).unwrap();
    assert_eq!(split(&frame), (EtherType::IPV4, 4, &[0x45][..]));
    assert_eq!(
        frame.header,
        LinkHeader::CiscoHdlc(CiscoHdlc {
            address: 0x0f,
            protocol: EtherType::IPV4
        })
    );
    truncations(LinkType::C_HDLC, &hdlc, 4);
    let slarp = decode(LinkType::C_HDLC, &[0x8f, 0, 0x80, 0x35, 0, 0, 0, 2]).unwrap();
    assert_eq!(slarp.ethertype, EtherType::SLARP);
    // Cisco HDLC under the PPP link types, as tcpdump and tshark read it.
    for link_type in [LinkType::PPP, LinkType::PPP_HDLC] {
        assert_eq!(decode(link_type, &hdlc).unwrap(), frame);
    }
    // PPP: with address and control, without, and with a one-byte protocol.
    for (bytes, address_control, protocol, header_len, ethertype) in [
        (
            &[0xff, 0x03, 0x00, 0x57, 0x60][..],
            true,
            0x57,
            4,
            EtherType::IPV6,
        ),
        (&[0x00, 0x21, 0x45], false, 0x21, 2, EtherType::IPV4),
        (&[0x21, 0x45], false, 0x21, 1, EtherType::IPV4),
        (
            &[0xff, 0x03, 0x02, 0x81, 0x00],
            true,
            0x0281,
            4,
            EtherType::MPLS,
        ),
        (
            &[0xff, 0x03, 0xc0, 0x21, 0x09],
            true,
            0xc021,
            4,
            EtherType(0),
        ),
    ] {
        let frame = decode(LinkType::PPP_HDLC, bytes).unwrap();
        assert_eq!(
            frame.header,
            LinkHeader::Ppp(Ppp {
                address_control,
                protocol,
                pppoe: None
            }),
            "{bytes:02x?}"
        );
        assert_eq!((frame.ethertype, frame.header_len), (ethertype, header_len));
        if address_control {
            // A lone 0xFF reads as a one-byte protocol; from 0xFF 0x03 on, a truncation.
            truncations(LinkType::PPP, &[], 1);
            for len in 2..header_len {
                assert!(decode(LinkType::PPP, &bytes[..len]).is_err());
            }
        } else {
            truncations(LinkType::PPP, bytes, header_len);
        }
    }
    assert_eq!(
        decode(LinkType::PPP, &[0xff, 0x03, 0x00]),
        Err(Error::truncated(Layer::Capture, "ppp protocol", 3, 1, 3))
    );
}

#[rustfmt::skip]
const PPPOE: [u8; 9] = [
    0x11, 0x00, 0x00, 0x11, 0x00, 0x03,   // version 1 type 1, session, session 0x0011, length 3
    0x00, 0x21,                           // PPP IPv4
    0x45,
];

#[test]
fn pppoe_alone_and_over_ethernet() {
    let frame = decode(LinkType::PPP_ETHER, &PPPOE).unwrap();
    let pppoe = Pppoe {
        code: 0,
        session_id: 0x11,
        length: 3,
        ppp_protocol: 0x21,
    };
    assert_eq!(
        frame.header,
        LinkHeader::Ppp(Ppp {
            address_control: false,
            protocol: 0x21,
            pppoe: Some(pppoe)
        })
    );
    assert_eq!(split(&frame), (EtherType::IPV4, 8, &[0x45][..]));
    truncations(LinkType::PPP_ETHER, &PPPOE, 8);
    assert_eq!(
        decode(LinkType::PPP_ETHER, &[0x12, 0, 0, 0, 0, 0, 0, 0x21]),
        Err(Error::invalid_field(
            Layer::Capture,
            "pppoe version and type",
            0,
            0x12
        ))
    );
    let eth = [&ETH_QINQ[..12], &[0x88, 0x64], &PPPOE[..]].concat();
    let frame = decode(LinkType::ETHERNET, &eth).unwrap();
    let LinkHeader::Ethernet(header) = frame.header else {
        panic!("{frame:?}")
    };
    assert_eq!(header.pppoe, Some(pppoe));
    assert_eq!(header.wire_type, EtherType::PPPOE);
    assert_eq!(split(&frame), (EtherType::IPV4, 22, &[0x45][..]));
    assert_eq!(
        decode(LinkType::ETHERNET, &eth[..21]),
        Err(Error::truncated(Layer::Ethernet, "ppp protocol", 20, 2, 21))
    );
    // Discovery (PADI, code 0x09): no PPP protocol follows.
    let padi = [&ETH_QINQ[..12], &[0x88, 0x63, 0x11, 0x09, 0, 0, 0, 0]].concat();
    assert_eq!(
        decode(LinkType::ETHERNET, &padi).unwrap().ethertype,
        EtherType::PPPOE_DISCOVERY
    );
}

#[test]
fn llc_snap_and_802_3_length() {
    // Length 10: LLC/SNAP (8 bytes) and two bytes of IPv4; then two bytes of padding.
    #[rustfmt::skip]
    let frame = [
        0, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0, 2, 0x00, 0x0a,
        0xaa, 0xaa, 0x03, 0x00, 0x00, 0x00, 0x08, 0x00,
        0x45, 0x00, 0xee, 0xee,
    ];
    let decoded = decode(LinkType::ETHERNET, &frame).unwrap();
    assert_eq!(split(&decoded), (EtherType::IPV4, 22, &[0x45, 0x00][..]));
    let LinkHeader::Ethernet(eth) = decoded.header else {
        panic!()
    };
    assert_eq!(
        eth.llc,
        Some(Llc {
            length: 10,
            dsap: 0xaa,
            ssap: 0xaa,
            control: 3,
            snap: Some((0, 0x0800))
        })
    );
    truncations(LinkType::ETHERNET, &frame, 22);
    // Spanning tree (DSAP 0x42): LLC without SNAP, nothing this decoder follows.
    let stp = [&frame[..12], &[0x00, 0x26, 0x42, 0x42, 0x03, 0, 0]].concat();
    let decoded = decode(LinkType::ETHERNET, &stp).unwrap();
    assert_eq!((decoded.ethertype, decoded.header_len), (EtherType(0), 17));
}

#[test]
fn frame_relay_encapsulations() {
    // DLCI 102: high 6 bits 6, low 4 bits 6; EA on the second byte.
    for (bytes, nlpid, header_len, ethertype) in [
        (
            &[0x18, 0x61, 0x03, 0xcc, 0x45][..],
            Some(0xcc),
            4,
            EtherType::IPV4,
        ),
        (
            &[0x18, 0x61, 0x03, 0x8e, 0x60],
            Some(0x8e),
            4,
            EtherType::IPV6,
        ),
        (
            &[0x18, 0x61, 0x03, 0x00, 0x80, 0, 0, 0, 0x08, 0x00, 0x45],
            Some(0x80),
            10,
            EtherType::IPV4,
        ),
        (&[0x18, 0x61, 0x86, 0xdd, 0x60], None, 4, EtherType::IPV6),
        (&[0x18, 0x61, 0x03, 0x81, 0x00], Some(0x81), 4, EtherType(0)),
    ] {
        let frame = decode(LinkType::FRELAY, bytes).unwrap();
        assert_eq!(
            frame.header,
            LinkHeader::FrameRelay(FrameRelay { dlci: 102, nlpid }),
            "{bytes:02x?}"
        );
        assert_eq!((frame.ethertype, frame.header_len), (ethertype, header_len));
        truncations(LinkType::FRELAY, bytes, header_len);
    }
    assert_eq!(
        decode(LinkType::FRELAY, &[0x18, 0x60, 0x01, 0x03]),
        Err(Error::Unsupported {
            layer: Layer::Capture,
            field: "fr address length",
            offset: 0,
            value: 0x1860
        })
    );
    // Padding bytes without an NLPID run out as a truncation, not a loop past the end.
    assert_eq!(
        decode(LinkType::FRELAY, &[0x18, 0x61, 0x03, 0, 0]),
        Err(Error::truncated(Layer::Capture, "fr nlpid", 5, 1, 5))
    );
}

#[test]
fn nflog_payload_tlv() {
    #[rustfmt::skip]
    let frame = [
        0x02, 0x00, 0x00, 0x05,                     // AF_INET, version 0, group 5
        0x08, 0x00, 0x01, 0x00, 0x08, 0x00, 0x03, 0x00, // packet header TLV (little-endian)
        0x06, 0x00, 0x0a, 0x00, b'x', 0x00, 0, 0,   // prefix "x", padded
        0x06, 0x00, 0x09, 0x00, 0x45, 0x00,         // payload: two bytes
    ];
    let decoded = decode(LinkType::NFLOG, &frame).unwrap();
    assert_eq!(
        decoded.header,
        LinkHeader::Nflog(Nflog {
            family: 2,
            group: 5
        })
    );
    assert_eq!(split(&decoded), (EtherType::IPV4, 24, &[0x45, 0x00][..]));
    // The same in big-endian TLVs.
    let mut big = frame;
    for at in [4, 6, 12, 14, 20, 22] {
        big.swap(at, at + 1);
    }
    assert_eq!(decode(LinkType::NFLOG, &big).unwrap().payload, &[0x45, 0]);
    // No payload TLV: nothing of the packet.
    let none = decode(LinkType::NFLOG, &frame[..20]).unwrap();
    assert_eq!((none.ethertype, none.payload.len()), (EtherType(0), 0));
    let mut bad = frame;
    bad[12] = 2;
    assert_eq!(
        decode(LinkType::NFLOG, &bad),
        Err(Error::invalid_field(
            Layer::Capture,
            "nflog tlv length",
            12,
            2
        ))
    );
    assert_eq!(
        decode(LinkType::NFLOG, &frame[..25]),
        Err(Error::truncated(
            Layer::Capture,
            "nflog tlv value",
            24,
            2,
            25
        ))
    );
    truncations(LinkType::NFLOG, &frame, 4);
}

#[test]
fn enc_and_bsd_raw() {
    let frame = [2, 0, 0, 0, 0, 0, 0xc0, 0xde, 3, 0, 0, 0, 0x45];
    let decoded = decode(LinkType::ENC, &frame).unwrap();
    assert_eq!(
        decoded.header,
        LinkHeader::Enc(Enc {
            family: 2,
            spi: 0xc0de,
            flags: 3
        })
    );
    assert_eq!(
        (decoded.ethertype, decoded.header_len),
        (EtherType::IPV4, 12)
    );
    let big = [0, 0, 0, 24, 0, 0, 0xc0, 0xde, 0, 0, 0, 1, 0x60];
    assert_eq!(
        decode(LinkType::ENC, &big).unwrap().header,
        LinkHeader::Enc(Enc {
            family: 24,
            spi: 0xc0de,
            flags: 1
        })
    );
    truncations(LinkType::ENC, &frame, 12);
    for link_type in [LinkType::RAW_BSD, LinkType::RAW_OPENBSD] {
        assert_eq!(
            decode(link_type, &[0x60, 0]).unwrap().ethertype,
            EtherType::IPV6
        );
    }
}

#[test]
fn pflog_header_length() {
    let mut frame = vec![61, 2, 1, 0];
    frame.extend_from_slice(&[0; 32]);
    frame.extend_from_slice(&7u32.to_be_bytes());
    frame.resize(64, 0);
    frame.push(0x45);
    let decoded = decode(LinkType::PFLOG, &frame).unwrap();
    assert_eq!(
        decoded.header,
        LinkHeader::Pflog(Pflog {
            length: 61,
            family: 2,
            action: 1,
            reason: 0,
            rule: 7
        })
    );
    assert_eq!(split(&decoded), (EtherType::IPV4, 64, &[0x45][..]));
    truncations(LinkType::PFLOG, &frame, 64);
    assert_eq!(
        decode(LinkType::PFLOG, &[44, 2]),
        Err(Error::invalid_field(Layer::Capture, "pflog length", 0, 44))
    );
}

#[test]
fn unknown_link_type() {
    assert_eq!(
        decode(LinkType(147), &[1, 2, 3]).unwrap_err().to_string(),
        "capture: field `link type` at offset 0 has unsupported value 0x93"
    );
}

#[test]
fn arbitrary_frames_never_panic() {
    bolero::check!()
        .with_type::<(u8, Vec<u8>)>()
        .for_each(|(selector, data)| {
            let link_type = [
                0, 1, 101, 108, 113, 228, 229, 276, 9, 12, 14, 50, 51, 104, 107, 109, 117, 239, 147,
            ][usize::from(*selector) % 19];
            if let Ok(frame) = decode(LinkType(link_type), data) {
                let at = data.get(frame.header_len..).unwrap();
                assert!(at.starts_with(frame.payload));
                assert!(
                    frame.payload.is_empty() || core::ptr::eq(at.as_ptr(), frame.payload.as_ptr())
                );
            }
            if let Some(pw) = pw_ethernet(data) {
                assert!(pw.header_len + pw.payload.len() <= data.len());
            }
            if let Ok(mpls) = mpls(data, Layer::Ethernet, 0) {
                assert_eq!(4 * mpls.labels.len() + mpls.payload.len(), data.len());
                assert!(mpls.labels.last().is_some_and(|entry| entry.bottom));
            }
        });
}
