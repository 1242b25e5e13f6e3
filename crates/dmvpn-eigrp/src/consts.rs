//! EIGRP registries (RFC 7868 §6), as open newtypes so unknown values round-trip.

dmvpn_wire::registry! {
    /// Packet opcodes (RFC 7868 §6.5; 6–9 are reserved there and named as Wireshark names them).
    pub struct OpCode(u8) {
        /// Update: routing information (RFC 7868 §5.3.1).
        UPDATE = 1 => "Update",
        /// Request (RFC 7868 §5.3.2; reserved, not sent by current implementations).
        REQUEST = 2 => "Request",
        /// Query: sent when a route goes active (RFC 7868 §5.3.3).
        QUERY = 3 => "Query",
        /// Reply to a Query (RFC 7868 §5.3.4).
        REPLY = 4 => "Reply",
        /// Hello, and with a non-zero ack number an Ack (RFC 7868 §5.3.5).
        HELLO = 5 => "Hello",
        /// IPX SAP (reserved).
        IPX_SAP = 6 => "IPX-SAP",
        /// Probe (reserved).
        PROBE = 7 => "Probe",
        /// Ack (reserved; acks are Hellos with an ack number).
        ACK = 8 => "Ack",
        /// Stub (reserved).
        STUB = 9 => "Stub",
        /// SIA-Query (RFC 7868 §5.3.6).
        SIA_QUERY = 10 => "SIA-Query",
        /// SIA-Reply (RFC 7868 §5.3.7).
        SIA_REPLY = 11 => "SIA-Reply",
    }
}

dmvpn_wire::registry! {
    /// TLV types (RFC 7868 §6.6): the high byte is the protocol range, the low byte the kind.
    pub struct TlvType(u16) {
        /// Parameters: K values and hold time (RFC 7868 §6.7.1).
        PARAMETERS = 0x0001 => "Parameters",
        /// Authentication (RFC 7868 §6.7.2).
        AUTHENTICATION = 0x0002 => "Authentication",
        /// Sequence: peers that must not accept the next CR packet (RFC 7868 §6.7.3).
        SEQUENCE = 0x0003 => "Sequence",
        /// Software Version (RFC 7868 §6.7.4).
        SOFTWARE_VERSION = 0x0004 => "SoftwareVersion",
        /// Next Multicast Sequence (RFC 7868 §6.7.5).
        NEXT_MULTICAST_SEQUENCE = 0x0005 => "NextMulticastSequence",
        /// Peer Stub Information (RFC 7868 §6.7.6).
        STUB = 0x0006 => "Stub",
        /// Peer Termination (RFC 7868 §6.7.7).
        PEER_TERMINATION = 0x0007 => "PeerTermination",
        /// Peer Topology ID List (RFC 7868 §6.7.8).
        PEER_TID_LIST = 0x0008 => "PeerTidList",
        /// IPv4 Request (RFC 7868 §6.8.3).
        IPV4_REQUEST = 0x0101 => "IPv4Request",
        /// IPv4 Internal Route, classic metric (RFC 7868 §6.8.3).
        IPV4_INTERNAL = 0x0102 => "IPv4Internal",
        /// IPv4 External Route, classic metric (RFC 7868 §6.8.3).
        IPV4_EXTERNAL = 0x0103 => "IPv4External",
        /// IPv4 Community (RFC 7868 §6.8.3).
        IPV4_COMMUNITY = 0x0104 => "IPv4Community",
        /// IPv6 Request (RFC 7868 §6.8.4).
        IPV6_REQUEST = 0x0401 => "IPv6Request",
        /// IPv6 Internal Route, classic metric (RFC 7868 §6.8.4).
        IPV6_INTERNAL = 0x0402 => "IPv6Internal",
        /// IPv6 External Route, classic metric (RFC 7868 §6.8.4).
        IPV6_EXTERNAL = 0x0403 => "IPv6External",
        /// IPv6 Community (RFC 7868 §6.8.4).
        IPV6_COMMUNITY = 0x0404 => "IPv6Community",
        /// Multi-protocol Request, wide metric (RFC 7868 §6.9.3).
        MP_REQUEST = 0x0601 => "MultiProtocolRequest",
        /// Multi-protocol Internal Route, wide metric (RFC 7868 §6.9.3).
        MP_INTERNAL = 0x0602 => "MultiProtocolInternal",
        /// Multi-protocol External Route, wide metric (RFC 7868 §6.9.3).
        MP_EXTERNAL = 0x0603 => "MultiProtocolExternal",
        /// Multi-protocol Community (RFC 7868 §6.9.3).
        MP_COMMUNITY = 0x0604 => "MultiProtocolCommunity",
    }
}

dmvpn_wire::registry! {
    /// Authentication types in the Authentication TLV (RFC 7868 §6.7.2).
    pub struct AuthType(u16) {
        /// Keyed MD5 (RFC 7868 §6.7.2.1).
        MD5 = 2 => "MD5",
        /// HMAC-SHA-256 (RFC 7868 §6.7.2.2).
        SHA256 = 3 => "SHA-256",
    }
}

dmvpn_wire::registry! {
    /// Address family identifiers of the multi-protocol TLVs (RFC 7868 §6.3, IANA address family numbers).
    pub struct Afi(u16) {
        /// IPv4.
        IPV4 = 1 => "IPv4",
        /// IPv6.
        IPV6 = 2 => "IPv6",
        /// IPX.
        IPX = 11 => "IPX",
        /// AppleTalk.
        APPLETALK = 12 => "AppleTalk",
        /// EIGRP Common Service Family.
        SAF_COMMON = 16384 => "SAF-Common",
        /// EIGRP IPv4 Service Family.
        SAF_IPV4 = 16385 => "SAF-IPv4",
        /// EIGRP IPv6 Service Family.
        SAF_IPV6 = 16386 => "SAF-IPv6",
    }
}

dmvpn_wire::registry! {
    /// External protocol IDs carried with external routes (RFC 7868 §6.2).
    pub struct ExternalProtocol(u8) {
        /// IGRP.
        IGRP = 1 => "IGRP",
        /// EIGRP.
        EIGRP = 2 => "EIGRP",
        /// Static route.
        STATIC = 3 => "Static",
        /// RIP.
        RIP = 4 => "RIP",
        /// HELLO.
        HELLO = 5 => "HELLO",
        /// OSPF.
        OSPF = 6 => "OSPF",
        /// IS-IS.
        ISIS = 7 => "IS-IS",
        /// EGP.
        EGP = 8 => "EGP",
        /// BGP.
        BGP = 9 => "BGP",
        /// IDRP.
        IDRP = 10 => "IDRP",
        /// Connected.
        CONNECTED = 11 => "Connected",
    }
}

dmvpn_wire::registry! {
    /// Extended metric attribute opcodes of the wide metric (RFC 7868 §6.9.2).
    pub struct AttributeOpcode(u8) {
        /// No-op, used as padding.
        NOOP = 0 => "NoOp",
        /// Scaled metric.
        SCALED = 1 => "Scaled",
        /// Administrative tag.
        TAG = 2 => "Tag",
        /// Community: a list of 8-octet communities (RFC 7868 §6.4), decoded by
        /// [`crate::tlv::Attribute::communities`].
        COMMUNITY = 3 => "Community",
        /// Jitter.
        JITTER = 4 => "Jitter",
        /// Non-active energy (Q-energy).
        QENERGY = 5 => "QEnergy",
        /// Active energy.
        ENERGY = 6 => "Energy",
    }
}

dmvpn_wire::registry! {
    /// Types of the communities carried in the wide-metric Community attribute (RFC 7868 §6.4).
    ///
    /// EIGRP communities are laid out as BGP extended communities (RFC 4360): a 2-octet type, then a
    /// 6-octet value. RFC 7868 §6.4 gives the EIGRP-specific types (high byte 0x88); the two
    /// Site-of-Origin types are BGP's Route Origin communities (RFC 4360 §5). The names are the
    /// abbreviations RFC 7868 uses; [`crate::tlv::CommunityValue`] spells out what each carries.
    pub struct CommunityType(u16) {
        /// Site of Origin, 2-octet AS format: AS(2), assigned number(4) (RFC 4360 §3.1, §5).
        SOO_AS = 0x0003 => "SoO",
        /// Site of Origin, IPv4 address format: IPv4 address(4), assigned number(2) (RFC 4360 §3.2, §5).
        SOO_IPV4 = 0x0103 => "SoO-IPv4",
        /// EXTCOMM_EIGRP: route flag(2), tag(4).
        EIGRP = 0x8800 => "EIGRP",
        /// DAD: distance, AS(2) and scaled delay(4).
        DAD = 0x8801 => "DAD",
        /// VRHB: reliability(1), hop count(1), scaled bandwidth(4).
        VRHB = 0x8802 => "VRHB",
        /// SRLM: reserved(1), load(1), MTU(4).
        SRLM = 0x8803 => "SRLM",
        /// SAR: external source AS(2), external router ID(4).
        SAR = 0x8804 => "SAR",
        /// RPM: external protocol(2), external metric(4).
        RPM = 0x8805 => "RPM",
        /// VRR: reserved(2), router ID(4).
        VRR = 0x8806 => "VRR",
    }
}

/// Header flag: first Update to a new neighbour, asking it to send its whole table (RFC 7868 §6.5).
pub const FLAG_INIT: u32 = 0x0000_0001;
/// Header flag: conditionally received (RFC 7868 §5.2, §6.5).
pub const FLAG_CR: u32 = 0x0000_0002;
/// Header flag: restart (RFC 7868 §6.5).
pub const FLAG_RS: u32 = 0x0000_0004;
/// Header flag: end of table (RFC 7868 §6.5).
pub const FLAG_EOT: u32 = 0x0000_0008;

/// Route flag (classic metric flags byte, wide metric flags): source withdraw (RFC 7868 §6.8.1).
pub const ROUTE_FLAG_SOURCE_WITHDRAW: u8 = 0x01;
/// Route flag: candidate default (RFC 7868 §6.8.1).
pub const ROUTE_FLAG_CANDIDATE_DEFAULT: u8 = 0x02;
/// Route flag: the route is active (RFC 7868 §6.8.1).
pub const ROUTE_FLAG_ACTIVE: u8 = 0x04;

/// Stub flag: connected routes (RFC 7868 §6.7.6).
pub const STUB_CONNECTED: u16 = 0x0001;
/// Stub flag: static routes.
pub const STUB_STATIC: u16 = 0x0002;
/// Stub flag: summary routes.
pub const STUB_SUMMARY: u16 = 0x0004;
/// Stub flag: redistributed routes.
pub const STUB_REDISTRIBUTED: u16 = 0x0008;
/// Stub flag: leak map.
pub const STUB_LEAK_MAP: u16 = 0x0010;
/// Stub flag: receive only.
pub const STUB_RECEIVE_ONLY: u16 = 0x0020;

/// The virtual router ID of the unicast address family (RFC 7868 §6.5).
pub const VRID_UNICAST: u16 = 0x0000;
/// The virtual router ID of the multicast address family.
pub const VRID_MULTICAST: u16 = 0x0001;
/// The base virtual router ID of the service families.
pub const VRID_SAF: u16 = 0x8000;

/// The IP protocol number of EIGRP.
pub const IP_PROTOCOL: u8 = dmvpn_wire::IpProtocol::EIGRP.0;
/// The EIGRP version this codec reads and writes.
pub const VERSION: u8 = 2;
