//! Real GRE bytes from the shared captures (`/work/shared/captures`, see its MANIFEST.md), for the tests.

dmvpn_wire::hex_consts! {
    /// packetlife GRE.cap frame 1 (Cisco IOS), the GRE part of the IPv4 packet: plain header, IPv4/ICMP echo inside.
    pub(crate) const PACKETLIFE_GRE_FRAME_1: [u8; 104] = "0000080045000064000a0000ff01b58901010101020202020800bfd400020000000000000003be70abcdabcdabcdabcdabcdabcdabcdabcdabcdabcdabcdabcdabcdabcdabcdabcdabcdabcdabcdabcdabcdabcdabcdabcdabcdabcdabcdabcdabcdabcdabcdabcd";

    /// tcpdump various_gre.pcap frame 11: a Cisco keepalive with key 0x28. Cisco MetaData (8 bytes) in front of an
    /// IPv4 packet back to the sender whose payload is frame 12's GRE header.
    pub(crate) const VARIOUS_GRE_FRAME_11: [u8; 44] = "2000890900000028080001010001000045c0001c00a30000ff2f24eb0aac40060aac40072000000000000028";

    /// tcpdump various_gre.pcap frame 12: the reflected keepalive, key 0x28 and protocol type 0, no payload.
    pub(crate) const VARIOUS_GRE_FRAME_12: [u8; 8] = "2000000000000028";

    /// packetlife gre_and_4over6.cap frame 1: enhanced GRE (version 1) with S and A, call ID 6016, PPP inside.
    pub(crate) const PPTP_FRAME_1: [u8; 119] = "3081880b0067178000068fb100083a76ff03002145000063000040003c115667ac102c03080808089f400035004f2d23a62c01000001000000000000357871742d6465746563742d6d6f6465322d39373731326538382d313637612d343562392d393365652d39313331343065373636373800001c0001";

    /// packetlife gre_and_4over6.cap frame 2: enhanced GRE (version 1) with S only, call ID 17, PPP inside.
    pub(crate) const PPTP_FRAME_2: [u8; 190] = "3001880b00b2001100083ab8ff030021450000ae0306000032119d1608080808ac102c0300359f40009abbdaa62c81830001000000010000357871742d6465746563742d6d6f6465322d39373731326538382d313637612d343562392d393365652d39313331343065373636373800001c00010000060001000002f5004001610c726f6f742d73657276657273036e657400056e73746c640c766572697369676e2d67727303636f6d00780d0909000007080000038400093a8000015180";
}

/// testdata/gre/checksum_key_sequence_nhrp.bin (scapy): C+K+S, key 1000, sequence 7, NHRP.
pub(crate) const SCAPY_CHECKSUM_KEY_SEQUENCE: &[u8] =
    include_bytes!("../../../testdata/gre/checksum_key_sequence_nhrp.bin");
/// testdata/gre/checksum_ipv4_icmp.bin (scapy): C only, IPv4/ICMP, odd length.
pub(crate) const SCAPY_CHECKSUM_IPV4: &[u8] =
    include_bytes!("../../../testdata/gre/checksum_ipv4_icmp.bin");
/// testdata/gre/key_ipv6_udp.bin (scapy): K only, key 123456, IPv6/UDP.
pub(crate) const SCAPY_KEY_IPV6: &[u8] = include_bytes!("../../../testdata/gre/key_ipv6_udp.bin");
/// testdata/gre/pptp_ack_only.bin (scapy): version 1, call ID 0x1234, ack 99, no payload.
pub(crate) const SCAPY_PPTP_ACK_ONLY: &[u8] =
    include_bytes!("../../../testdata/gre/pptp_ack_only.bin");
