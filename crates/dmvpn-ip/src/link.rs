//! Link layers: Ethernet II with 802.1Q/802.1ad tags, PPPoE sessions and IEEE 802.3 LLC/SNAP, raw
//! IP (101, 228, 229 and the BSD `DLT_RAW` numbers 12 and 14), Linux cooked capture v1 and v2,
//! BSD/OpenBSD loopback, PPP (9, 50) and PPPoE (51), Cisco HDLC (104), Frame Relay (107), OpenBSD
//! enc (109) and pflog (117), Linux NFLOG (239); and the MPLS label stack (RFC 3032) any of them
//! may carry.
//!
//! [`decode`] splits a frame into its link-layer header (kept for the decoder's output) and the
//! network-layer payload, named by its ethertype. [`mpls`] splits an MPLS payload (ethertype
//! 0x8847 or 0x8848, over any link or GRE) into its label stack and the packet under it. Nothing
//! is copied.
//!
//! ```
//! use dmvpn_ip::link::{self, EtherType, LinkHeader};
//! use dmvpn_ip::link::LinkType;
//!
//! #[rustfmt::skip]
//! let frame = [
//!     0x00, 0x11, 0x22, 0x33, 0x44, 0x55, 0x66, 0x77, 0x88, 0x99, 0xaa, 0xbb, // dst, src
//!     0x81, 0x00, 0x20, 0x64,                                                 // 802.1Q, PCP 1, VLAN 100
//!     0x08, 0x00,                                                             // IPv4
//!     0x45, 0x00,
//! ];
//! let decoded = link::decode(LinkType::ETHERNET, &frame)?;
//! assert_eq!(decoded.ethertype, EtherType::IPV4);
//! assert_eq!(decoded.payload, &[0x45, 0x00]);
//! let LinkHeader::Ethernet(eth) = decoded.header else { unreachable!() };
//! assert_eq!(eth.src.to_string(), "66:77:88:99:aa:bb");
//! assert_eq!(eth.vlans[0].vid, 100);
//! # Ok::<(), dmvpn_wire::Error>(())
//! ```

use core::fmt;
use core::ops::Deref;

use dmvpn_wire::{Error, Layer, Reader, Result};

mod mpls;
pub use mpls::{Mpls, MplsEntry, MplsLabels, mpls, pw_ethernet};

dmvpn_wire::registry! {
    /// Link-layer header types (tcpdump.org `linktypes.html`, the `LINKTYPE_*` values).
    pub struct LinkType(u32) {
        /// BSD loopback: a 4-byte address family in the capturing host's byte order.
        NULL = 0 => "NULL",
        /// Ethernet II / IEEE 802.3.
        ETHERNET = 1 => "ETHERNET",
        /// Raw IPv4 or IPv6, told apart by the version nibble.
        RAW = 101 => "RAW",
        /// OpenBSD loopback: a 4-byte address family in network byte order.
        LOOP = 108 => "LOOP",
        /// Linux cooked capture v1 (`any` device).
        LINUX_SLL = 113 => "LINUX_SLL",
        /// Raw IPv4.
        IPV4 = 228 => "IPV4",
        /// Raw IPv6.
        IPV6 = 229 => "IPV6",
        /// Linux cooked capture v2.
        LINUX_SLL2 = 276 => "LINUX_SLL2",
        /// PPP (RFC 1661), address and control bytes optional; a frame that starts with a Cisco
        /// HDLC address (0x0F, 0x8F) is Cisco HDLC, as tshark and tcpdump read it.
        PPP = 9 => "PPP",
        /// Raw IP as BSD's `DLT_RAW` numbers it (libpcap maps it to 101 when writing).
        RAW_BSD = 12 => "RAW_BSD",
        /// Raw IP as OpenBSD's `DLT_RAW` numbers it.
        RAW_OPENBSD = 14 => "RAW_OPENBSD",
        /// PPP in HDLC-like framing (RFC 1662), or Cisco HDLC as some writers label it.
        PPP_HDLC = 50 => "PPP_HDLC",
        /// PPPoE session stage (RFC 2516), no Ethernet header.
        PPP_ETHER = 51 => "PPP_ETHER",
        /// Cisco HDLC: address, control, then an ethertype.
        C_HDLC = 104 => "C_HDLC",
        /// Frame Relay (Q.922 address, RFC 2427 NLPID or Cisco ethertype encapsulation).
        FRELAY = 107 => "FRELAY",
        /// OpenBSD `enc(4)`: the clear side of IPsec, after a 12-byte header.
        ENC = 109 => "ENC",
        /// OpenBSD pf log: a header of its own length (padded to 4 bytes), then the packet.
        PFLOG = 117 => "PFLOG",
        /// Linux netfilter NFLOG: a family byte and TLVs, the packet in the payload TLV.
        NFLOG = 239 => "NFLOG",
    }
}

dmvpn_wire::registry! {
    /// EtherType values (IEEE 802 numbers); values up to 1500 are an 802.3 length instead.
    pub struct EtherType(u16) {
        /// IPv4.
        IPV4 = 0x0800 => "IPv4",
        /// ARP.
        ARP = 0x0806 => "ARP",
        /// 802.1Q customer VLAN tag.
        VLAN = 0x8100 => "802.1Q",
        /// IPv6.
        IPV6 = 0x86dd => "IPv6",
        /// PPPoE session.
        PPPOE = 0x8864 => "PPPoE",
        /// PPPoE discovery (PADI, PADO, PADR, PADS, PADT).
        PPPOE_DISCOVERY = 0x8863 => "PPPoE discovery",
        /// Cisco SLARP (serial line address resolution and keepalives).
        SLARP = 0x8035 => "SLARP",
        /// Cisco Discovery Protocol as Cisco HDLC carries it.
        CDP = 0x2000 => "CDP",
        /// Transparent Ethernet Bridging: an Ethernet frame (GRE, NVGRE).
        TEB = 0x6558 => "Transparent Ethernet Bridging",
        /// MPLS unicast (RFC 3032 §5).
        MPLS = 0x8847 => "MPLS",
        /// MPLS multicast (RFC 5332 §4).
        MPLS_MULTICAST = 0x8848 => "MPLS multicast",
        /// 802.1ad service VLAN tag (QinQ).
        QINQ = 0x88a8 => "802.1ad",
        /// Pre-standard QinQ tag used by some switches.
        QINQ_9100 = 0x9100 => "QinQ (0x9100)",
    }
}

dmvpn_wire::registry! {
    /// Linux cooked-capture packet types (`PACKET_*` in `<linux/if_packet.h>`).
    pub struct SllPacketType(u16) {
        /// Sent to us.
        HOST = 0 => "unicast to us",
        /// Broadcast.
        BROADCAST = 1 => "broadcast",
        /// Multicast.
        MULTICAST = 2 => "multicast",
        /// Sent to another host, seen in promiscuous mode.
        OTHERHOST = 3 => "unicast to another host",
        /// Sent by us.
        OUTGOING = 4 => "sent by us",
    }
}

/// The most VLAN tags [`decode`] follows; a deeper stack is reported as unsupported.
pub const MAX_VLAN_TAGS: usize = 4;

/// The most MPLS label stack entries [`mpls`] reads; a deeper stack is reported as unsupported.
/// L3VPN stacks are two to four deep (transport, service, entropy labels) and segment routing
/// pushes up to a dozen; tshark sets no bound.
pub const MAX_MPLS_LABELS: usize = 16;

/// An Ethernet MAC address.
#[derive(Clone, Copy, Debug, Default, Eq, Hash, Ord, PartialEq, PartialOrd)]
pub struct MacAddr(pub [u8; 6]);

impl fmt::Display for MacAddr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let [a, b, c, d, e, g] = self.0;
        write!(f, "{a:02x}:{b:02x}:{c:02x}:{d:02x}:{e:02x}:{g:02x}")
    }
}

/// One 802.1Q / 802.1ad tag.
#[derive(Clone, Copy, Debug, Default, Eq, Hash, PartialEq)]
pub struct VlanTag {
    /// The tag protocol identifier that introduced the tag (0x8100, 0x88a8 or 0x9100).
    pub tpid: EtherType,
    /// Priority code point (3 bits).
    pub pcp: u8,
    /// Drop eligible indicator.
    pub dei: bool,
    /// VLAN identifier (12 bits).
    pub vid: u16,
}

/// At most `N` stacked headers of a frame (VLAN tags, MPLS label stack entries), outermost first,
/// stored inline (no allocation). It derefs to the slice of those there are.
#[derive(Clone, Copy, Eq, Hash, PartialEq)]
pub struct Stack<T, const N: usize> {
    items: [T; N],
    len: usize,
}

impl<T, const N: usize> Stack<T, N> {
    /// The items, outermost first.
    #[must_use]
    pub fn as_slice(&self) -> &[T] {
        self.items.get(..self.len).unwrap_or_default()
    }

    /// The [`Error::Unsupported`] naming `field` at `offset` of `layer` when all `N` places are
    /// taken: the count the next item would make is more than this stack holds.
    fn check_room(&self, layer: Layer, field: &'static str, offset: usize) -> Result<()> {
        if self.len < N {
            return Ok(());
        }
        Err(Error::Unsupported {
            layer,
            field,
            offset,
            value: (self.len + 1) as u32,
        })
    }

    /// Puts `item` under the others (after [`Stack::check_room`]; a full stack keeps what it has).
    fn push(&mut self, item: T) {
        if let Some(slot) = self.items.get_mut(self.len) {
            *slot = item;
            self.len += 1;
        }
    }
}

impl<T: Copy + Default, const N: usize> Default for Stack<T, N> {
    fn default() -> Self {
        Self {
            items: [T::default(); N],
            len: 0,
        }
    }
}

impl<T, const N: usize> Deref for Stack<T, N> {
    type Target = [T];
    fn deref(&self) -> &[T] {
        self.as_slice()
    }
}

impl<T: fmt::Debug, const N: usize> fmt::Debug for Stack<T, N> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_list().entries(self.as_slice()).finish()
    }
}

/// The VLAN tags of a frame, outermost first.
pub type VlanTags = Stack<VlanTag, MAX_VLAN_TAGS>;

/// An Ethernet II header with its VLAN tags.
#[derive(Clone, Copy, Debug, Eq, Hash, PartialEq)]
pub struct Ethernet {
    /// Destination MAC.
    pub dst: MacAddr,
    /// Source MAC.
    pub src: MacAddr,
    /// 802.1Q / 802.1ad tags, outermost first.
    pub vlans: VlanTags,
    /// The type after the tags as on the wire (0x8864 for PPPoE, an 802.3 length for LLC), where
    /// [`LinkFrame::ethertype`] names the packet PPPoE or SNAP carries.
    pub wire_type: EtherType,
    /// The PPPoE session header and PPP protocol of an ethertype 0x8864 frame.
    pub pppoe: Option<Pppoe>,
    /// The 802.2 LLC header of an IEEE 802.3 frame (a length, not an ethertype, after the tags).
    pub llc: Option<Llc>,
}

/// A PPPoE session header (RFC 2516 §4) and the PPP protocol after it.
#[derive(Clone, Copy, Debug, Eq, Hash, PartialEq)]
pub struct Pppoe {
    /// The code (0 in the session stage).
    pub code: u8,
    /// The session ID.
    pub session_id: u16,
    /// The PPPoE payload length (the PPP protocol field included).
    pub length: u16,
    /// The PPP protocol number (0x0021 IPv4, 0x0057 IPv6, 0xc021 LCP …).
    pub ppp_protocol: u16,
}

/// An IEEE 802.2 LLC header, with its SNAP extension when DSAP and SSAP are 0xAA.
#[derive(Clone, Copy, Debug, Eq, Hash, PartialEq)]
pub struct Llc {
    /// The 802.3 length field: how many bytes of LLC data follow it.
    pub length: u16,
    /// Destination service access point.
    pub dsap: u8,
    /// Source service access point.
    pub ssap: u8,
    /// The control byte (0x03 for unnumbered information).
    pub control: u8,
    /// The SNAP organisation code and protocol ID (an ethertype when the code is 0).
    pub snap: Option<(u32, u16)>,
}

/// A PPP header (RFC 1661 §2) as a capture link layer carries it, possibly inside PPPoE.
#[derive(Clone, Copy, Debug, Eq, Hash, PartialEq)]
pub struct Ppp {
    /// Whether the HDLC address and control bytes (0xFF 0x03) were there.
    pub address_control: bool,
    /// The PPP protocol number.
    pub protocol: u16,
    /// The PPPoE session header before it (LINKTYPE_PPP_ETHER).
    pub pppoe: Option<Pppoe>,
}

/// A Cisco HDLC header: address (0x0F unicast, 0x8F broadcast), control, protocol (an ethertype).
#[derive(Clone, Copy, Debug, Eq, Hash, PartialEq)]
pub struct CiscoHdlc {
    /// The address byte.
    pub address: u8,
    /// The protocol, an ethertype (0x0800 IPv4, 0x8035 SLARP, 0x2000 CDP …).
    pub protocol: EtherType,
}

/// A Frame Relay header: the Q.922 address and what names the payload.
#[derive(Clone, Copy, Debug, Eq, Hash, PartialEq)]
pub struct FrameRelay {
    /// The data link connection identifier (10 bits in the two-byte address).
    pub dlci: u16,
    /// The NLPID of an RFC 2427 multiprotocol header (0xCC IPv4, 0x8E IPv6, 0x80 SNAP); `None`
    /// for Cisco encapsulation (an ethertype straight after the address).
    pub nlpid: Option<u8>,
}

/// A Linux NFLOG header: the address family and the netfilter log group.
#[derive(Clone, Copy, Debug, Eq, Hash, PartialEq)]
pub struct Nflog {
    /// The address family (2 IPv4, 10 IPv6).
    pub family: u8,
    /// The log group (resource ID).
    pub group: u16,
}

/// An OpenBSD `pflog(4)` header: the packet filter's verdict on the packet that follows.
#[derive(Clone, Copy, Debug, Eq, Hash, PartialEq)]
pub struct Pflog {
    /// The header length as the header states it (the packet starts at it rounded up to 4).
    pub length: u8,
    /// The address family of the packet.
    pub family: u8,
    /// The action (0 pass, 1 block, …).
    pub action: u8,
    /// The reason code (0 match, …).
    pub reason: u8,
    /// The rule number (network byte order on the wire).
    pub rule: u32,
}

/// An OpenBSD `enc(4)` header: the packet on the clear side of an IPsec SA.
#[derive(Clone, Copy, Debug, Eq, Hash, PartialEq)]
pub struct Enc {
    /// The address family of the packet.
    pub family: u32,
    /// The SPI of the SA (network byte order on the wire).
    pub spi: u32,
    /// The `M_AUTH`/`M_CONF` flags.
    pub flags: u32,
}

/// A link-layer address of up to 8 bytes, as Linux cooked captures carry it.
#[derive(Clone, Copy, Default, Eq, Hash, PartialEq)]
pub struct LinkAddr {
    bytes: [u8; 8],
    len: u8,
}

impl LinkAddr {
    /// The address bytes (at most 8; a longer claimed address is cut to 8, as the header holds).
    #[must_use]
    pub fn as_bytes(&self) -> &[u8] {
        self.bytes.get(..usize::from(self.len)).unwrap_or_default()
    }
}

impl fmt::Debug for LinkAddr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self, f)
    }
}

impl fmt::Display for LinkAddr {
    /// Colon-separated hex, like a MAC address.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, byte) in self.as_bytes().iter().enumerate() {
            if i > 0 {
                f.write_str(":")?;
            }
            write!(f, "{byte:02x}")?;
        }
        Ok(())
    }
}

/// A Linux cooked-capture header (LINKTYPE_LINUX_SLL or LINKTYPE_LINUX_SLL2).
#[derive(Clone, Copy, Debug, Eq, Hash, PartialEq)]
pub struct Sll {
    /// 1 for SLL (16-byte header), 2 for SLL2 (20-byte header).
    pub version: u8,
    /// Who the packet was for.
    pub packet_type: SllPacketType,
    /// The `ARPHRD_*` type of the interface (1 = Ethernet, 778 = GRE, 772 = loopback, …).
    pub arphrd_type: u16,
    /// The link-layer source address.
    pub address: LinkAddr,
    /// The interface index (SLL2 only).
    pub interface_index: Option<u32>,
}

/// A BSD loopback header: the address family of the payload.
#[derive(Clone, Copy, Debug, Eq, Hash, PartialEq)]
pub struct Loopback {
    /// The address family (2 = `AF_INET`; `AF_INET6` is 10, 24, 28 or 30 depending on the OS).
    pub family: u32,
    /// Whether the family was stored big-endian.
    pub big_endian: bool,
}

/// The link-layer header of a frame.
#[derive(Clone, Copy, Debug, Eq, Hash, PartialEq)]
pub enum LinkHeader {
    /// Ethernet II.
    Ethernet(Ethernet),
    /// Linux cooked capture.
    Sll(Sll),
    /// BSD or OpenBSD loopback.
    Loopback(Loopback),
    /// No link-layer header: the frame starts with the IP header.
    RawIp,
    /// PPP, or PPPoE then PPP.
    Ppp(Ppp),
    /// Cisco HDLC.
    CiscoHdlc(CiscoHdlc),
    /// Frame Relay.
    FrameRelay(FrameRelay),
    /// Linux NFLOG.
    Nflog(Nflog),
    /// OpenBSD enc.
    Enc(Enc),
    /// OpenBSD pf log.
    Pflog(Pflog),
}

/// A frame split at the network layer.
#[derive(Clone, Copy, Debug, Eq, PartialEq)]
pub struct LinkFrame<'a> {
    /// The link-layer header.
    pub header: LinkHeader,
    /// What the payload is (for loopback, the ethertype of the address family; 0 if unknown).
    pub ethertype: EtherType,
    /// The link-layer header's length in bytes (the payload's offset in the frame).
    pub header_len: usize,
    /// The network-layer packet, possibly followed by Ethernet padding (IPv4 trims it). It starts
    /// at `header_len` but need not run to the frame's end (an 802.3 length or an NFLOG TLV
    /// bounds it).
    pub payload: &'a [u8],
}

/// Splits a frame of `link_type` into link-layer header and network-layer payload.
///
/// Errors are [`Layer::Ethernet`], [`Layer::Sll`] or [`Layer::Loopback`] truncations, a
/// [`Error::Unsupported`] VLAN stack deeper than [`MAX_VLAN_TAGS`], an invalid IP version in a
/// raw-IP frame, or an [`Error::Unsupported`] `link type` in [`Layer::Capture`].
pub fn decode(link_type: LinkType, data: &[u8]) -> Result<LinkFrame<'_>> {
    match link_type {
        LinkType::ETHERNET => ethernet(data),
        LinkType::RAW | LinkType::RAW_BSD | LinkType::RAW_OPENBSD => raw_ip(data, None),
        // Wireshark reads both as one encapsulation (and writes PPP_HDLC back as PPP), handing a
        // frame that starts with a Cisco HDLC address to the Cisco HDLC dissector; tcpdump too.
        LinkType::PPP | LinkType::PPP_HDLC => match data.first() {
            Some(0x0f | 0x8f) => cisco_hdlc(data),
            _ => ppp_link(data),
        },
        LinkType::PPP_ETHER => ppp_ether(data),
        LinkType::C_HDLC => cisco_hdlc(data),
        LinkType::FRELAY => frame_relay(data),
        LinkType::NFLOG => nflog(data),
        LinkType::ENC => enc(data),
        LinkType::PFLOG => pflog(data),
        LinkType::IPV4 => raw_ip(data, Some(EtherType::IPV4)),
        LinkType::IPV6 => raw_ip(data, Some(EtherType::IPV6)),
        LinkType::LINUX_SLL => sll(data),
        LinkType::LINUX_SLL2 => sll2(data),
        LinkType::NULL | LinkType::LOOP => loopback(data, link_type == LinkType::LOOP),
        LinkType(other) => Err(Error::Unsupported {
            layer: Layer::Capture,
            field: "link type",
            offset: 0,
            value: other,
        }),
    }
}

fn is_vlan_tpid(ethertype: EtherType) -> bool {
    matches!(
        ethertype,
        EtherType::VLAN | EtherType::QINQ | EtherType::QINQ_9100
    )
}

fn ethernet(data: &[u8]) -> Result<LinkFrame<'_>> {
    let mut reader = Reader::new(Layer::Ethernet, data);
    let dst = MacAddr(reader.array("destination")?);
    let src = MacAddr(reader.array("source")?);
    let mut ethertype = EtherType(reader.u16("ethertype")?);
    let mut vlans = VlanTags::default();
    while is_vlan_tpid(ethertype) {
        vlans.check_room(Layer::Ethernet, "vlan tag count", reader.offset() - 2)?;
        let tci = reader.u16("vlan tci")?;
        vlans.push(VlanTag {
            tpid: ethertype,
            pcp: (tci >> 13) as u8,
            dei: tci & 0x1000 != 0,
            vid: tci & 0x0fff,
        });
        ethertype = EtherType(reader.u16("ethertype")?);
    }
    let (mut pppoe, mut llc) = (None, None);
    let wire_type = ethertype;
    if ethertype == EtherType::PPPOE {
        let (header, protocol) = pppoe_session(&mut reader)?;
        pppoe = Some(header);
        ethertype = protocol;
    } else if ethertype.0 <= 1500 {
        let length = ethertype.0;
        let dsap = reader.u8("llc dsap")?;
        let ssap = reader.u8("llc ssap")?;
        let control = reader.u8("llc control")?;
        let snap = if dsap == 0xaa && ssap == 0xaa {
            Some((reader.u24("snap oui")?, reader.u16("snap pid")?))
        } else {
            None
        };
        ethertype = match snap {
            Some((0, pid)) => EtherType(pid),
            _ => EtherType(0),
        };
        llc = Some(Llc {
            length,
            dsap,
            ssap,
            control,
            snap,
        });
    }
    let header_len = reader.offset();
    let mut payload = reader.rest();
    if let Some(llc) = llc {
        // The 802.3 length counts the LLC header and its data; the rest is padding.
        let data_len = usize::from(llc.length).saturating_sub(header_len - 14 - 4 * vlans.len);
        payload = payload.get(..data_len).unwrap_or(payload);
    }
    Ok(LinkFrame {
        header: LinkHeader::Ethernet(Ethernet {
            dst,
            src,
            vlans,
            wire_type,
            pppoe,
            llc,
        }),
        ethertype,
        header_len,
        payload,
    })
}

/// The ethertype of a PPP protocol number: IPv4, IPv6, MPLS; 0 for the rest (LCP, IPCP, …).
const fn ppp_ethertype(protocol: u16) -> EtherType {
    match protocol {
        0x0021 => EtherType::IPV4,
        0x0057 => EtherType::IPV6,
        0x0281 => EtherType::MPLS,
        0x0283 => EtherType::MPLS_MULTICAST,
        _ => EtherType(0),
    }
}

/// A PPPoE header (RFC 2516 §4: version and type, code, session ID, length) and, in the session
/// stage, the PPP protocol after it; returns the header and the payload's ethertype.
fn pppoe_session(reader: &mut Reader<'_>) -> Result<(Pppoe, EtherType)> {
    let ver_type = reader.u8("pppoe version and type")?;
    if ver_type != 0x11 {
        return Err(reader.invalid("pppoe version and type", 1, u32::from(ver_type)));
    }
    let code = reader.u8("pppoe code")?;
    let session_id = reader.u16("pppoe session id")?;
    let length = reader.u16("pppoe length")?;
    let (ppp_protocol, ethertype) = if code == 0 {
        let protocol = reader.u16("ppp protocol")?;
        (protocol, ppp_ethertype(protocol))
    } else {
        (0, EtherType(0))
    };
    let header = Pppoe {
        code,
        session_id,
        length,
        ppp_protocol,
    };
    Ok((header, ethertype))
}

/// PPP protocol field: one byte when its low bit says protocol-field compression (RFC 1661
/// §6.5), else two.
fn ppp_protocol(reader: &mut Reader<'_>) -> Result<u16> {
    let first = reader.u8("ppp protocol")?;
    if first & 1 == 1 {
        return Ok(u16::from(first));
    }
    Ok(u16::from_be_bytes([first, reader.u8("ppp protocol")?]))
}

/// LINKTYPE_PPP and LINKTYPE_PPP_HDLC: the address and control bytes 0xFF 0x03 unless compressed
/// away (RFC 1661 §6.6), then the protocol.
fn ppp_link(data: &[u8]) -> Result<LinkFrame<'_>> {
    let mut reader = Reader::new(Layer::Capture, data);
    let address_control = data.starts_with(&[0xff, 0x03]);
    if address_control {
        reader.skip(2, "ppp address and control")?;
    }
    let protocol = ppp_protocol(&mut reader)?;
    Ok(LinkFrame {
        header: LinkHeader::Ppp(Ppp {
            address_control,
            protocol,
            pppoe: None,
        }),
        ethertype: ppp_ethertype(protocol),
        header_len: reader.offset(),
        payload: reader.rest(),
    })
}

/// LINKTYPE_PPP_ETHER: a PPPoE header without the Ethernet header before it.
fn ppp_ether(data: &[u8]) -> Result<LinkFrame<'_>> {
    let mut reader = Reader::new(Layer::Capture, data);
    let (pppoe, ethertype) = pppoe_session(&mut reader)?;
    Ok(LinkFrame {
        header: LinkHeader::Ppp(Ppp {
            address_control: false,
            protocol: pppoe.ppp_protocol,
            pppoe: Some(pppoe),
        }),
        ethertype,
        header_len: reader.offset(),
        payload: reader.rest(),
    })
}

/// LINKTYPE_C_HDLC: address, control, protocol (an ethertype).
fn cisco_hdlc(data: &[u8]) -> Result<LinkFrame<'_>> {
    let mut reader = Reader::new(Layer::Capture, data);
    let address = reader.u8("hdlc address")?;
    reader.skip(1, "hdlc control")?;
    let protocol = EtherType(reader.u16("hdlc protocol")?);
    Ok(LinkFrame {
        header: LinkHeader::CiscoHdlc(CiscoHdlc { address, protocol }),
        ethertype: protocol,
        header_len: 4,
        payload: reader.rest(),
    })
}

/// LINKTYPE_FRELAY: a two-byte Q.922 address, then either the RFC 2427 multiprotocol header
/// (control 0x03, optional 0x00 padding, NLPID, and for NLPID 0x80 a SNAP header) or, as Cisco
/// routers send by default, an ethertype.
fn frame_relay(data: &[u8]) -> Result<LinkFrame<'_>> {
    let mut reader = Reader::new(Layer::Capture, data);
    let [high, low] = reader.array("fr address")?;
    if high & 1 != 0 || low & 1 != 1 {
        // Three- and four-byte Q.922 addresses are not used on router serial links.
        return Err(Error::Unsupported {
            layer: Layer::Capture,
            field: "fr address length",
            offset: 0,
            value: u32::from(u16::from_be_bytes([high, low])),
        });
    }
    let dlci = (u16::from(high >> 2) << 4) | u16::from(low >> 4);
    let (nlpid, ethertype) = if reader.peek_rest().first() == Some(&0x03) {
        reader.skip(1, "fr control")?;
        let mut nlpid = reader.u8("fr nlpid")?;
        while nlpid == 0 {
            nlpid = reader.u8("fr nlpid")?;
        }
        let ethertype = match nlpid {
            0xcc => EtherType::IPV4,
            0x8e => EtherType::IPV6,
            0x80 => match (reader.u24("snap oui")?, reader.u16("snap pid")?) {
                (0, pid) => EtherType(pid),
                _ => EtherType(0),
            },
            _ => EtherType(0),
        };
        (Some(nlpid), ethertype)
    } else {
        (None, EtherType(reader.u16("fr ethertype")?))
    };
    Ok(LinkFrame {
        header: LinkHeader::FrameRelay(FrameRelay { dlci, nlpid }),
        ethertype,
        header_len: reader.offset(),
        payload: reader.rest(),
    })
}

/// The NFLOG TLV that holds the packet (`NFULA_PAYLOAD`).
const NFULA_PAYLOAD: u16 = 9;

/// LINKTYPE_NFLOG: family, version, resource ID (big-endian), then TLVs of length (header
/// included) and type in the capturing host's byte order, each padded to 4 bytes. The byte order
/// is taken from the first TLV's length, as it must fit the frame; the packet is the payload TLV.
fn nflog(data: &[u8]) -> Result<LinkFrame<'_>> {
    let mut reader = Reader::new(Layer::Capture, data);
    let family = reader.u8("nflog family")?;
    reader.skip(1, "nflog version")?;
    let group = reader.u16("nflog resource id")?;
    let little_endian = match reader.peek_rest() {
        [a, b, ..] => {
            let le = usize::from(u16::from_le_bytes([*a, *b]));
            (4..=data.len() - 4).contains(&le) || u16::from_be_bytes([*a, *b]) < 4
        }
        _ => true,
    };
    let header = LinkHeader::Nflog(Nflog { family, group });
    let ethertype = match family {
        2 => EtherType::IPV4,
        10 => EtherType::IPV6,
        _ => EtherType(0),
    };
    while !reader.peek_rest().is_empty() {
        let at = reader.offset();
        let raw_len: [u8; 2] = reader.array("nflog tlv length")?;
        let raw_type: [u8; 2] = reader.array("nflog tlv type")?;
        let (len, tlv_type) = if little_endian {
            (u16::from_le_bytes(raw_len), u16::from_le_bytes(raw_type))
        } else {
            (u16::from_be_bytes(raw_len), u16::from_be_bytes(raw_type))
        };
        if len < 4 {
            return Err(Error::invalid_field(
                Layer::Capture,
                "nflog tlv length",
                at,
                u32::from(len),
            ));
        }
        let value = reader.take(usize::from(len) - 4, "nflog tlv value")?;
        if tlv_type & 0x7fff == NFULA_PAYLOAD {
            return Ok(LinkFrame {
                header,
                ethertype,
                header_len: at + 4,
                payload: value,
            });
        }
        // Padding to a multiple of 4; the last TLV may end without it.
        let pad = (4 - usize::from(len) % 4) % 4;
        let pad = pad.min(reader.peek_rest().len());
        reader.skip(pad, "nflog tlv padding")?;
    }
    // No payload TLV: nothing of the packet was logged.
    Ok(LinkFrame {
        header,
        ethertype: EtherType(0),
        header_len: data.len(),
        payload: &[],
    })
}

/// The shortest pflog header (OpenBSD 3.4's, up to the direction byte).
const PFLOG_MIN_LEN: u8 = 45;

/// LINKTYPE_PFLOG: length, family, action, reason, interface and ruleset names (16 bytes each),
/// rule and subrule numbers, then fields that grew over releases (the direction moved when user
/// and process IDs came before it); the packet starts at the stated length rounded up to 4
/// bytes, as libpcap and tshark read it.
fn pflog(data: &[u8]) -> Result<LinkFrame<'_>> {
    let mut reader = Reader::new(Layer::Capture, data);
    let length = reader.u8("pflog length")?;
    if length < PFLOG_MIN_LEN {
        return Err(reader.invalid("pflog length", 1, u32::from(length)));
    }
    let family = reader.u8("pflog family")?;
    let action = reader.u8("pflog action")?;
    let reason = reader.u8("pflog reason")?;
    reader.skip(32, "pflog interface and ruleset")?;
    let rule = reader.u32("pflog rule number")?;
    let header_len = (usize::from(length) + 3) & !3;
    reader.skip(header_len.saturating_sub(reader.offset()), "pflog header")?;
    let ethertype = family_ethertype(u32::from(family));
    Ok(LinkFrame {
        header: LinkHeader::Pflog(Pflog {
            length,
            family,
            action,
            reason,
            rule,
        }),
        ethertype,
        header_len,
        payload: reader.rest(),
    })
}

/// LINKTYPE_ENC: address family and flags in the capturing host's byte order (told apart as for
/// loopback), the SPI in network order, then the IP packet.
fn enc(data: &[u8]) -> Result<LinkFrame<'_>> {
    let mut reader = Reader::new(Layer::Capture, data);
    let raw: [u8; 4] = reader.array("enc family")?;
    let spi = reader.u32("enc spi")?;
    let raw_flags: [u8; 4] = reader.array("enc flags")?;
    let (be, le) = (u32::from_be_bytes(raw), u32::from_le_bytes(raw));
    let big_endian = le > 0xffff && be <= 0xffff;
    let (family, flags) = if big_endian {
        (be, u32::from_be_bytes(raw_flags))
    } else {
        (le, u32::from_le_bytes(raw_flags))
    };
    Ok(LinkFrame {
        header: LinkHeader::Enc(Enc { family, spi, flags }),
        ethertype: family_ethertype(family),
        header_len: 12,
        payload: reader.rest(),
    })
}

fn raw_ip(data: &[u8], fixed: Option<EtherType>) -> Result<LinkFrame<'_>> {
    let ethertype = match fixed {
        Some(ethertype) => ethertype,
        None => {
            let first = Reader::new(Layer::Ipv4, data).u8("version")?;
            match first >> 4 {
                4 => EtherType::IPV4,
                6 => EtherType::IPV6,
                version => {
                    return Err(Error::invalid_field(
                        Layer::Ipv4,
                        "version",
                        0,
                        u32::from(version),
                    ));
                }
            }
        }
    };
    Ok(LinkFrame {
        header: LinkHeader::RawIp,
        ethertype,
        header_len: 0,
        payload: data,
    })
}

fn link_addr(raw: [u8; 8], len: usize) -> LinkAddr {
    LinkAddr {
        bytes: raw,
        len: len.min(8) as u8,
    }
}

/// LINKTYPE_LINUX_SLL: packet type, ARPHRD type, address length, 8 address bytes, protocol.
fn sll(data: &[u8]) -> Result<LinkFrame<'_>> {
    let mut reader = Reader::new(Layer::Sll, data);
    let packet_type = SllPacketType(reader.u16("packet type")?);
    let arphrd_type = reader.u16("arphrd type")?;
    let address_len = reader.u16("address length")?;
    let address = link_addr(reader.array("address")?, usize::from(address_len));
    let ethertype = EtherType(reader.u16("protocol")?);
    Ok(LinkFrame {
        header: LinkHeader::Sll(Sll {
            version: 1,
            packet_type,
            arphrd_type,
            address,
            interface_index: None,
        }),
        ethertype,
        header_len: 16,
        payload: reader.rest(),
    })
}

/// LINKTYPE_LINUX_SLL2: protocol, reserved, interface index, ARPHRD type, packet type, address
/// length, 8 address bytes.
fn sll2(data: &[u8]) -> Result<LinkFrame<'_>> {
    let mut reader = Reader::new(Layer::Sll, data);
    let ethertype = EtherType(reader.u16("protocol")?);
    reader.skip(2, "reserved")?;
    let interface_index = reader.u32("interface index")?;
    let arphrd_type = reader.u16("arphrd type")?;
    let packet_type = SllPacketType(u16::from(reader.u8("packet type")?));
    let address_len = reader.u8("address length")?;
    let address = link_addr(reader.array("address")?, usize::from(address_len));
    Ok(LinkFrame {
        header: LinkHeader::Sll(Sll {
            version: 2,
            packet_type,
            arphrd_type,
            address,
            interface_index: Some(interface_index),
        }),
        ethertype,
        header_len: 20,
        payload: reader.rest(),
    })
}

/// The ethertype of a BSD address family (`AF_INET` 2; `AF_INET6` 10 Linux, 23 Windows,
/// 24 NetBSD/OpenBSD, 28 FreeBSD, 30 Darwin).
const fn family_ethertype(family: u32) -> EtherType {
    match family {
        2 => EtherType::IPV4,
        10 | 23 | 24 | 28 | 30 => EtherType::IPV6,
        _ => EtherType(0),
    }
}

/// LINKTYPE_NULL stores the family in the capturing host's byte order, LINKTYPE_LOOP in network
/// byte order; writers get both wrong, so the order is taken from the value: a family is below
/// 0x10000, so a value with its high half set is byte-swapped.
fn loopback(data: &[u8], network_order: bool) -> Result<LinkFrame<'_>> {
    let mut reader = Reader::new(Layer::Loopback, data);
    let raw: [u8; 4] = reader.array("family")?;
    let (be, le) = (u32::from_be_bytes(raw), u32::from_le_bytes(raw));
    let big_endian = if network_order {
        be <= 0xffff || le > 0xffff
    } else {
        le > 0xffff && be <= 0xffff
    };
    let family = if big_endian { be } else { le };
    Ok(LinkFrame {
        header: LinkHeader::Loopback(Loopback { family, big_endian }),
        ethertype: family_ethertype(family),
        header_len: 4,
        payload: reader.rest(),
    })
}

#[cfg(test)]
mod tests;
