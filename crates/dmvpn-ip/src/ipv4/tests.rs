use super::*;

dmvpn_wire::hex_consts! {
    /// packetlife GRE.cap frame 1 (IPv4 header, GRE follows).
    const GRE_CAP_1: [u8; 20] = "4500007c000a0000ff2fa7460a0000010a000002";
}

fn datagram(header: &[u8], payload_len: usize) -> Vec<u8> {
    let mut bytes = header.to_vec();
    bytes.resize(header.len() + payload_len, 0xab);
    bytes
}

/// `packet` parsed with its checksum verified, which must be `repr` with that checksum.
fn parse_as<'a>(packet: &Packet<&'a [u8]>, repr: Repr<'a>) -> Repr<'a> {
    let parsed = Repr::parse(packet, ChecksumMode::Verify).unwrap();
    assert_eq!(
        parsed,
        Repr {
            checksum: packet.checksum(),
            ..repr
        }
    );
    parsed
}

#[test]
fn deconstruct() {
    let bytes = datagram(&GRE_CAP_1, 0x7c - 20);
    let packet = Packet::new_checked(&bytes[..]).unwrap();
    assert_eq!(
        (
            packet.version(),
            packet.header_len(),
            packet.dscp(),
            packet.ecn()
        ),
        (4, 20, 0, 0)
    );
    assert_eq!(
        (
            packet.total_len(),
            packet.ident(),
            packet.dont_frag(),
            packet.more_frags()
        ),
        (124, 10, false, false)
    );
    assert_eq!(
        (packet.frag_offset(), packet.ttl(), packet.protocol()),
        (0, 255, Protocol::GRE)
    );
    assert_eq!(packet.checksum(), 0xa746);
    assert!(packet.verify_checksum());
    assert_eq!(packet.compute_checksum(), 0xa746);
    assert!(packet.options().is_empty());
    assert_eq!(packet.payload().len(), 104);
    assert!(packet.trailer().is_empty());
}

fn sample_repr() -> Repr<'static> {
    Repr {
        dscp: 46,
        ecn: 1,
        ident: 0x1234,
        dont_frag: false,
        more_frags: true,
        frag_offset: 1480,
        ttl: 64,
        protocol: Protocol::UDP,
        checksum: 0,
        src: Ipv4Addr::new(192, 0, 2, 1),
        dst: Ipv4Addr::new(198, 51, 100, 7),
        options: &[0x94, 0x04, 0x00, 0x00], // router alert
        payload_len: 8,
    }
}

#[test]
fn construct_and_round_trip() {
    let repr = sample_repr();
    assert_eq!((repr.header_len(), repr.buffer_len()), (24, 32));
    let mut bytes = vec![0u8; repr.buffer_len() + 6]; // six bytes of Ethernet padding
    let mut packet = Packet::new_unchecked(&mut bytes[..]);
    repr.emit(&mut packet);
    packet.payload_mut().copy_from_slice(b"payload!");
    let packet = Packet::new_checked(&bytes[..]).unwrap();
    assert!(packet.verify_checksum());
    assert_eq!(packet.trailer(), &[0; 6]);
    assert_eq!(packet.payload(), b"payload!");
    let parsed = parse_as(&packet, repr);
    assert!(parsed.is_fragment());
}

#[test]
fn parse_real() {
    let bytes = datagram(&GRE_CAP_1, 104);
    let repr = Repr::parse(&Packet::new_unchecked(&bytes[..]), ChecksumMode::Verify).unwrap();
    assert_eq!(repr.src, Ipv4Addr::new(10, 0, 0, 1));
    assert_eq!(repr.dst, Ipv4Addr::new(10, 0, 0, 2));
    assert_eq!(repr.payload_len, 104);
    assert!(!repr.is_fragment());
}

#[test]
fn errors() {
    let bytes = datagram(&GRE_CAP_1, 104);
    let mut bad = bytes.clone();
    bad[11] ^= 1;
    assert_eq!(
        Repr::parse(&Packet::new_unchecked(&bad[..]), ChecksumMode::Verify)
            .unwrap_err()
            .to_string(),
        "ipv4: bad checksum at offset 10: found 0xa747, computed 0xa746"
    );
    assert!(Repr::parse(&Packet::new_unchecked(&bad[..]), ChecksumMode::Ignore).is_ok());
    // One byte changed: version 6, IHL 4, a total length past the end.
    for (at, value, expected) in [
        (
            0,
            0x65,
            "ipv4: field `version` at offset 0 has invalid value 0x6",
        ),
        (
            0,
            0x44,
            "ipv4: field `ihl` at offset 0 has invalid value 0x4",
        ),
        (
            3,
            0x7d,
            "ipv4: length field `total length` at offset 2 says 125 bytes, but 124 are there",
        ),
    ] {
        let mut changed = bytes.clone();
        changed[at] = value;
        assert_eq!(
            Packet::new_checked(&changed[..]).unwrap_err().to_string(),
            expected
        );
    }
    let mut short = bytes.clone();
    short[2..4].copy_from_slice(&[0, 19]);
    assert!(matches!(
        Packet::new_checked(&short[..]),
        Err(Error::BadLength {
            claimed: 19,
            available: 20,
            ..
        })
    ));
    let mut reserved = bytes;
    reserved[6] |= 0x80;
    let packet = Packet::new_unchecked(&reserved[..]);
    assert!(packet.reserved_flag());
    assert!(Repr::parse(&packet, ChecksumMode::Ignore).is_ok());
}

#[test]
fn snaplen_cut_packets() {
    let bytes = datagram(&GRE_CAP_1, 104);
    let cut = &bytes[..60];
    assert!(Packet::new_checked(cut).is_err());
    let packet = Packet::new_truncated(cut).unwrap();
    assert!(packet.is_truncated());
    assert_eq!(packet.payload().len(), 40);
    let repr = Repr::parse(&packet, ChecksumMode::Verify).unwrap();
    assert_eq!(repr.payload_len, 104);
    assert!(!Packet::new_checked(&bytes[..]).unwrap().is_truncated());
    assert_eq!(
        Packet::new_truncated(&bytes[..20]).unwrap().payload(),
        &[] as &[u8]
    );
    assert_eq!(
        Packet::new_truncated(&bytes[..19]).unwrap_err(),
        Error::truncated(Layer::Ipv4, "header", 0, 20, 19)
    );
}

#[test]
fn truncation_loop() {
    let repr = sample_repr();
    let mut bytes = vec![0u8; repr.buffer_len()];
    repr.emit(&mut Packet::new_unchecked(&mut bytes[..]));
    for len in 0..bytes.len() {
        let err = Packet::new_checked(&bytes[..len]).unwrap_err();
        let expected = match len {
            0 => Error::truncated(Layer::Ipv4, "version", 0, 20, 0),
            1..20 => Error::truncated(Layer::Ipv4, "header", 0, 20, len),
            20..24 => Error::truncated(Layer::Ipv4, "options", 20, 4, len),
            _ => Error::bad_length(Layer::Ipv4, "total length", 2, 32, len),
        };
        assert_eq!(err, expected, "prefix {len}");
    }
}

#[test]
fn registry_names() {
    assert_eq!(format!("{:?}", Protocol::ESP), "ESP (50)");
    assert_eq!(format!("{:?}", Protocol(253)), "0xfd");
}

#[test]
fn arbitrary_bytes_never_panic() {
    bolero::check!().for_each(|bytes: &[u8]| {
        if let Ok(packet) = Packet::new_checked(bytes)
            && let Ok(repr) = Repr::parse(&packet, ChecksumMode::Ignore)
        {
            assert_eq!(repr.buffer_len(), usize::from(packet.total_len()));
            assert_eq!(packet.payload().len(), repr.payload_len);
        }
    });
}

#[test]
fn arbitrary_repr_round_trips() {
    bolero::check!()
        .with_type::<(u8, u16, u16, u8, u8, [u8; 8], u8, Vec<u8>)>()
        .for_each(
            |(tos, ident, flags_offset, ttl, protocol, addrs, options_words, payload)| {
                let options = vec![1u8; usize::from(options_words % 11) * 4];
                let payload_len = payload.len().min(1000);
                let repr = Repr {
                    dscp: tos >> 2,
                    ecn: tos & 3,
                    ident: *ident,
                    dont_frag: flags_offset & 0x4000 != 0,
                    more_frags: flags_offset & 0x2000 != 0,
                    frag_offset: (flags_offset & 0x1fff) << 3,
                    ttl: *ttl,
                    protocol: Protocol(*protocol),
                    checksum: 0,
                    src: Ipv4Addr::from([addrs[0], addrs[1], addrs[2], addrs[3]]),
                    dst: Ipv4Addr::from([addrs[4], addrs[5], addrs[6], addrs[7]]),
                    options: &options,
                    payload_len,
                };
                let mut bytes = vec![0u8; repr.buffer_len()];
                repr.emit(&mut Packet::new_unchecked(&mut bytes[..]));
                let packet = Packet::new_checked(&bytes[..]).unwrap();
                parse_as(&packet, repr);
            },
        );
}

/// A datagram of `len` payload bytes (a counting pattern), DF as asked, from 10.0.1.10 to
/// 10.0.2.20 over UDP.
fn big(len: usize, df: bool) -> Vec<u8> {
    let src = Ipv4Addr::new(10, 0, 1, 10);
    let repr = Repr {
        ident: 9,
        dont_frag: df,
        dscp: 48,
        ..Repr::new(src, Ipv4Addr::new(10, 0, 2, 20), Protocol::UDP, 0)
    };
    let payload: Vec<u8> = (0..len).map(|i| i as u8).collect();
    repr.emit_vec(&payload)
}

/// Reassembles fragments (in order) into the payload, checking each header.
fn reassemble(fragments: &[Vec<u8>], mtu: usize) -> Vec<u8> {
    let mut payload = Vec::new();
    for (n, bytes) in fragments.iter().enumerate() {
        let fragment = Packet::new_checked(&bytes[..]).expect("a valid header");
        assert!(fragment.verify_checksum());
        assert!(bytes.len() <= mtu && usize::from(fragment.total_len()) == bytes.len());
        assert_eq!(usize::from(fragment.frag_offset()), payload.len(), "offset");
        assert_eq!(fragment.more_frags(), n + 1 < fragments.len(), "MF");
        payload.extend_from_slice(fragment.payload());
    }
    payload
}

fn checked(bytes: &[u8]) -> Packet<&[u8]> {
    Packet::new_checked(bytes).unwrap()
}

#[test]
fn fragments_reassemble_to_the_packet() {
    bolero::check!()
        .with_type::<(u16, u16)>()
        .for_each(|&(len, mtu)| {
            let (len, mtu) = (usize::from(len % 3000), 28 + usize::from(mtu % 1500));
            let packet = big(len, false);
            let fragments = fragment(&checked(&packet), mtu).unwrap();
            assert_eq!(reassemble(&fragments, mtu), &packet[20..]);
        });
    // 1500 bytes through `ip mtu 1400` make 1396 + 124 bytes.
    let packet = big(1480, false);
    let fragments = fragment(&checked(&packet), 1400).unwrap();
    let lens: Vec<usize> = fragments.iter().map(Vec::len).collect();
    assert_eq!(lens, [1396, 124]);
    // Too small an MTU for 8 payload bytes.
    assert_eq!(fragment(&checked(&packet), 27), None);
}

#[test]
fn fragmenting_a_fragment_keeps_its_offset_and_more_flag() {
    let mut packet = big(1000, false);
    let mut view = Packet::new_unchecked(&mut packet[..]);
    view.set_flags_and_offset(false, true, 800);
    view.fill_checksum();
    let fragments = fragment(&checked(&packet), 520).unwrap();
    let flags: Vec<u16> = fragments
        .iter()
        .map(|f| u16::from_be_bytes([f[6], f[7]]))
        .collect();
    // 496 + 496 + 8 bytes; the last keeps MF, the packet itself was not the last.
    assert_eq!(flags, [0x2000 | 100, 0x2000 | 162, 0x2000 | 224]);
    // DF is kept; an offset past 65 528 bytes is refused.
    let mut packet = big(1000, true);
    let mut view = Packet::new_unchecked(&mut packet[..]);
    view.set_flags_and_offset(true, false, 0xfff8 - 496);
    view.fill_checksum();
    assert_eq!(fragment(&checked(&packet), 520), None);
    let mut packet = big(1000, true);
    let fragments = fragment(&checked(&packet), 520).unwrap();
    assert!(fragments.iter().all(|f| checked(f).dont_frag()));
    packet.truncate(500);
    assert_eq!(fragment(&Packet::new_unchecked(&packet[..]), 520), None);
}

#[test]
fn only_copied_options_follow_the_first_fragment() {
    // Record Route (7, not copied) and a copied option (0x94 Router Alert, RFC 2113).
    let options = [7, 7, 4, 0, 0, 0, 0, 0x94, 4, 0, 0, 0];
    let repr = Repr {
        options: &options,
        ..Repr::new(
            Ipv4Addr::new(10, 0, 1, 10),
            Ipv4Addr::new(10, 0, 2, 20),
            Protocol::UDP,
            0,
        )
    };
    let payload: Vec<u8> = (0..100u8).collect();
    let packet = repr.emit_vec(&payload);
    let fragments = fragment(&checked(&packet), 32 + 56).unwrap();
    assert_eq!(&fragments[0][20..32], &options);
    assert_eq!(fragments[1][0], 0x46);
    assert_eq!(&fragments[1][20..24], &[0x94, 4, 0, 0]);
    let mut reassembled = Vec::new();
    for f in &fragments {
        reassembled.extend_from_slice(checked(f).payload());
    }
    assert_eq!(reassembled, payload);
    // A malformed option list ends at the bad option; options past it are not copied.
    assert_eq!(
        copied_options(&[0x94, 4, 0, 0, 0x83, 9, 0]),
        [0x94, 4, 0, 0]
    );
    assert_eq!(copied_options(&[1, 0x94, 0]), [0x94, 0, 0, 0]);
}

#[test]
fn emit_vec_and_ttl() {
    let (src, dst) = (Ipv4Addr::new(172, 16, 1, 2), Ipv4Addr::new(224, 0, 0, 10));
    let repr = Repr {
        dscp: 48,
        ttl: 2,
        ident: 7,
        ..Repr::new(src, dst, Protocol::EIGRP, 0)
    };
    let mut packet = repr.emit_vec(&[1, 2, 3, 4]);
    // Version 4, IHL 5, TOS 0xc0, length 24, ident 7, no flags, TTL 2, EIGRP.
    assert_eq!(&packet[..10], &[0x45, 0xc0, 0, 24, 0, 7, 0, 0, 2, 88]);
    assert!(checksum::verify(&packet[..20]));
    let mut view = Packet::new_unchecked(&mut packet[..]);
    assert!(view.decrement_ttl());
    let parsed = Repr::parse(&checked(&packet), ChecksumMode::Verify).unwrap();
    assert_eq!((parsed.ttl, parsed.payload_len), (1, 4));
    assert!(!Packet::new_unchecked(&mut packet[..]).decrement_ttl());
    assert_eq!(checked(&packet).ttl(), 1, "left alone at 1");
    assert!(!Packet::new_unchecked(&mut packet[..9]).decrement_ttl());
    // A payload too long for `total length` saturates it.
    let long = Repr::new(src, dst, Protocol::UDP, 0).emit_vec(&[0; 65_530]);
    assert_eq!(checked(&long).total_len(), u16::MAX);
    assert!(checked(&long).verify_checksum());
}

#[test]
fn ttl_decrement_checksum_matches_a_full_recompute() {
    for ttl in [2u8, 64, 128, 255] {
        for ident in [0u16, 0xffff, 0x1234] {
            let repr = Repr {
                ttl,
                ident,
                ..Repr::new(
                    Ipv4Addr::new(172, 16, 1, 2),
                    Ipv4Addr::new(10, 0, 0, 1),
                    Protocol::ICMP,
                    0,
                )
            };
            let mut packet = repr.emit_vec(&[]);
            assert!(Packet::new_unchecked(&mut packet[..]).decrement_ttl());
            assert!(
                checked(&packet).verify_checksum(),
                "ttl {ttl} ident {ident}"
            );
        }
    }
}
