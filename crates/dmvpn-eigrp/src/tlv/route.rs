//! Route TLVs: classic metric (RFC 7868 §6.8) and multi-protocol wide metric (RFC 7868 §6.9).
//!
//! Classic IPv4/IPv6 route TLV value (0x0102, 0x0103, 0x0402, 0x0403):
//! next hop (4 or 16) | external data (20, external only) | classic metric (16) | destinations.
//!
//! Multi-protocol TLV value (0x0602, 0x0603): topology ID (2) | AFI (2) | router ID (4) |
//! wide metric (24) | extended attributes (2 × metric offset) | next hop (by AFI) |
//! external data (20, external only) | destinations.
//!
//! A destination is a prefix length followed by only the octets that carry the prefix, and a TLV
//! may carry several. The number of octets is what Cisco puts on the wire
//! ([`Family::prefix_octets`]): for IPv4 `max(1, ⌈len/8⌉)` (a /0 still takes one octet, as FRR,
//! OpenBSD eigrpd and scapy write it; Wireshark and tcpdump read zero), for IPv6 `min(⌊len/8⌋ + 1,
//! 16)` — so a /64 takes 9 octets, as in packetlife `EIGRPv2_*.cap`.

use core::fmt;
use core::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use dmvpn_wire::list::{Entry, List};
use dmvpn_wire::{Error, Layer, Reader, Result};

use super::Writer;
use super::community::Communities;
use crate::consts::{Afi, AttributeOpcode, ExternalProtocol, TlvType};

/// The address family of a route TLV's next hop and destinations.
#[derive(Clone, Copy, Debug, Eq, Hash, PartialEq)]
pub enum Family {
    /// IPv4: 4-byte addresses.
    Ipv4,
    /// IPv6: 16-byte addresses.
    Ipv6,
}

impl Family {
    /// Address length in bytes.
    #[must_use]
    pub const fn addr_len(self) -> usize {
        match self {
            Self::Ipv4 => 4,
            Self::Ipv6 => 16,
        }
    }

    /// Longest prefix.
    #[must_use]
    pub const fn max_prefix(self) -> u8 {
        match self {
            Self::Ipv4 => 32,
            Self::Ipv6 => 128,
        }
    }

    /// How many address octets follow a prefix length of `prefix_len` (see the module docs).
    #[must_use]
    pub const fn prefix_octets(self, prefix_len: u8) -> usize {
        let len = prefix_len as usize;
        match self {
            Self::Ipv4 => {
                if len == 0 {
                    1
                } else {
                    len.div_ceil(8)
                }
            }
            Self::Ipv6 => {
                let n = len / 8 + 1;
                if n > 16 { 16 } else { n }
            }
        }
    }

    /// The AFI of this family.
    #[must_use]
    pub const fn afi(self) -> Afi {
        match self {
            Self::Ipv4 => Afi::IPV4,
            Self::Ipv6 => Afi::IPV6,
        }
    }

    fn from_afi(afi: Afi) -> Option<Self> {
        match afi {
            Afi::IPV4 => Some(Self::Ipv4),
            Afi::IPV6 => Some(Self::Ipv6),
            _ => None,
        }
    }

    fn addr(self, bytes: &[u8]) -> IpAddr {
        let mut full = [0u8; 16];
        let n = bytes.len().min(self.addr_len());
        full[..n].copy_from_slice(&bytes[..n]);
        match self {
            Self::Ipv4 => IpAddr::V4(Ipv4Addr::new(full[0], full[1], full[2], full[3])),
            Self::Ipv6 => IpAddr::V6(Ipv6Addr::from(full)),
        }
    }
}

/// Formats raw address bytes as an IP address when they have an IP length.
pub(crate) struct AddrFmt<'a>(pub(crate) &'a [u8]);

impl fmt::Debug for AddrFmt<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.0.len() {
            4 => write!(f, "{}", Family::Ipv4.addr(self.0)),
            16 => write!(f, "{}", Family::Ipv6.addr(self.0)),
            _ => write!(f, "{}", dmvpn_wire::fmt::Hex(self.0)),
        }
    }
}

/// One destination: a prefix.
#[derive(Clone, Copy, Eq, Hash, PartialEq)]
pub struct Destination {
    /// Prefix length in bits.
    pub prefix_len: u8,
    /// The prefix; octets past those carried on the wire are zero.
    pub prefix: IpAddr,
}

impl Destination {
    fn family(&self) -> Family {
        match self.prefix {
            IpAddr::V4(_) => Family::Ipv4,
            IpAddr::V6(_) => Family::Ipv6,
        }
    }

    fn octets(&self) -> [u8; 16] {
        let mut out = [0u8; 16];
        match self.prefix {
            IpAddr::V4(a) => out[..4].copy_from_slice(&a.octets()),
            IpAddr::V6(a) => out = a.octets(),
        }
        out
    }
}

impl fmt::Debug for Destination {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self, f)
    }
}

impl fmt::Display for Destination {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.prefix, self.prefix_len)
    }
}

impl<'a> Entry<'a> for Destination {
    type Ctx = Family;
    const LAYER: Layer = Layer::Eigrp;

    fn parse_entry(bytes: &'a [u8], offset: usize, family: Family) -> Result<(Self, usize)> {
        let mut r = Reader::with_base(Layer::Eigrp, bytes, offset);
        let prefix_len = r.u8("prefix length")?;
        if prefix_len > family.max_prefix() {
            return Err(r.invalid("prefix length", 1, prefix_len.into()));
        }
        let octets = family.prefix_octets(prefix_len);
        let prefix = family.addr(r.take(octets, "destination")?);
        Ok((Self { prefix_len, prefix }, 1 + octets))
    }

    fn entry_len(&self, family: Family) -> usize {
        1 + family.prefix_octets(self.prefix_len)
    }

    fn emit_entry(&self, buf: &mut [u8], family: Family) {
        assert!(
            self.family() == family && self.prefix_len <= family.max_prefix(),
            "destination {self} does not fit a {family:?} route TLV"
        );
        buf[0] = self.prefix_len;
        buf[1..].copy_from_slice(&self.octets()[..family.prefix_octets(self.prefix_len)]);
    }
}

/// The destinations of a route TLV: borrowed wire bytes after parsing, or a slice to emit.
///
/// Equality compares the family and the decoded destinations, so a parsed list equals the list
/// it was built from.
#[derive(Clone, Copy, Eq, PartialEq)]
pub struct Destinations<'a>(List<'a, Destination, Family>);

impl<'a> Destinations<'a> {
    /// Destinations to emit. Every entry must be of `family`, with a prefix length no longer than
    /// the family allows (emitting panics otherwise).
    #[must_use]
    pub const fn new(family: Family, list: &'a [Destination]) -> Self {
        Self(List::with_ctx(list, family))
    }

    /// Checks the encoded destinations in `r` (at least one) and borrows them.
    pub(crate) fn parse(family: Family, r: &mut Reader<'a>) -> Result<Self> {
        let offset = r.offset();
        if r.is_empty() {
            return Err(Error::truncated(
                Layer::Eigrp,
                "prefix length",
                offset,
                1,
                offset,
            ));
        }
        List::parse_with(r.rest(), offset, family).map(Self)
    }

    /// The address family.
    #[must_use]
    pub const fn family(&self) -> Family {
        self.0.ctx()
    }

    /// The destinations.
    pub fn iter(&self) -> impl Iterator<Item = Destination> + use<'a> {
        self.0.iter()
    }

    /// Encoded length.
    #[must_use]
    pub fn buffer_len(&self) -> usize {
        self.0.buffer_len()
    }

    fn emit(&self, w: &mut Writer<'_>) {
        self.0.emit(w.chunk(self.0.buffer_len()));
    }
}

impl fmt::Debug for Destinations<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&self.0, f)
    }
}

/// Classic metric (RFC 7868 §6.8.2): scaled delay and bandwidth, 16 bytes.
#[derive(Clone, Copy, Debug, Default, Eq, Hash, PartialEq)]
pub struct ClassicMetric {
    /// Scaled delay (10 µs units × 256); 0xFFFFFFFF means unreachable.
    pub delay: u32,
    /// Scaled bandwidth (256 × 10⁷ / kbit/s).
    pub bandwidth: u32,
    /// Path MTU (24 bits).
    pub mtu: u32,
    /// Hop count.
    pub hop_count: u8,
    /// Reliability (255 = 100 %).
    pub reliability: u8,
    /// Load (255 = 100 %).
    pub load: u8,
    /// Internal tag.
    pub tag: u8,
    /// Flags: source withdraw, candidate default, active (RFC 7868 §6.8.1).
    pub flags: u8,
}

impl ClassicMetric {
    /// Encoded length.
    pub const LEN: usize = 16;
    /// The delay that marks a route unreachable.
    pub const UNREACHABLE: u32 = 0xffff_ffff;

    fn parse(r: &mut Reader<'_>) -> Result<Self> {
        Ok(Self {
            delay: r.u32("delay")?,
            bandwidth: r.u32("bandwidth")?,
            mtu: r.u24("mtu")?,
            hop_count: r.u8("hop count")?,
            reliability: r.u8("reliability")?,
            load: r.u8("load")?,
            tag: r.u8("internal tag")?,
            flags: r.u8("route flags")?,
        })
    }

    fn emit(&self, w: &mut Writer<'_>) {
        w.u32(self.delay);
        w.u32(self.bandwidth);
        w.bytes(&self.mtu.to_be_bytes()[1..]);
        w.u8(self.hop_count);
        w.u8(self.reliability);
        w.u8(self.load);
        w.u8(self.tag);
        w.u8(self.flags);
    }

    /// Whether the route is unreachable (delay all ones).
    #[must_use]
    pub const fn is_unreachable(&self) -> bool {
        self.delay == Self::UNREACHABLE
    }
}

/// Wide metric (RFC 7868 §6.9.1), 24 bytes; the extended attributes follow it.
#[derive(Clone, Copy, Debug, Default, Eq, Hash, PartialEq)]
pub struct WideMetric {
    /// Priority.
    pub priority: u8,
    /// Reliability (255 = 100 %).
    pub reliability: u8,
    /// Load (255 = 100 %).
    pub load: u8,
    /// Path MTU (24 bits).
    pub mtu: u32,
    /// Hop count.
    pub hop_count: u8,
    /// Delay in picoseconds (48 bits); all ones means unreachable.
    pub delay: u64,
    /// Bandwidth in kbit/s (48 bits).
    pub bandwidth: u64,
    /// Reserved.
    pub reserved: u16,
    /// Flags (RFC 7868 §6.8.1).
    pub flags: u16,
}

impl WideMetric {
    /// Encoded length (without extended attributes).
    pub const LEN: usize = 24;
    /// The delay that marks a route unreachable.
    pub const UNREACHABLE: u64 = 0xffff_ffff_ffff;

    fn u48(r: &mut Reader<'_>, field: &'static str) -> Result<u64> {
        let b: [u8; 6] = r.array(field)?;
        Ok(u64::from_be_bytes([
            0, 0, b[0], b[1], b[2], b[3], b[4], b[5],
        ]))
    }

    fn emit(&self, offset: u8, w: &mut Writer<'_>) {
        w.u8(offset);
        w.u8(self.priority);
        w.u8(self.reliability);
        w.u8(self.load);
        w.bytes(&self.mtu.to_be_bytes()[1..]);
        w.u8(self.hop_count);
        w.bytes(&self.delay.to_be_bytes()[2..]);
        w.bytes(&self.bandwidth.to_be_bytes()[2..]);
        w.u16(self.reserved);
        w.u16(self.flags);
    }
}

/// One extended metric attribute (RFC 7868 §6.9.2): opcode, then `2 × offset` bytes of data.
///
/// `Debug` prints the data as bytes, except for a Community attribute whose data is a whole number
/// of communities: that prints them decoded (see [`Attribute::communities`]).
#[derive(Clone, Copy, Eq, Hash, PartialEq)]
pub struct Attribute<'a> {
    /// What the attribute is.
    pub opcode: AttributeOpcode,
    /// Its data.
    pub data: &'a [u8],
}

impl<'a> Attribute<'a> {
    /// The communities of a Community attribute (opcode 3, RFC 7868 §6.4); `None` for any other
    /// opcode.
    ///
    /// The data must be a multiple of 8 bytes; if not, the error is an [`Error::InvalidField`]
    /// `community attribute length` at offset 0, the start of the data (rebase it with
    /// [`Error::at_offset`], or call [`Communities::new`] with the data's offset).
    ///
    /// ```
    /// use dmvpn_eigrp::consts::AttributeOpcode;
    /// use dmvpn_eigrp::tlv::{Attribute, CommunityValue};
    ///
    /// let data = [0x88, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x07];
    /// let attribute = Attribute { opcode: AttributeOpcode::COMMUNITY, data: &data };
    /// let communities = attribute.communities().expect("opcode 3")?;
    /// let values: Vec<_> = communities.iter().map(|c| c.decode()).collect();
    /// assert_eq!(values, [CommunityValue::Eigrp { flag: 0, tag: 7 }]);
    ///
    /// let tag = Attribute { opcode: AttributeOpcode::TAG, data: &data[4..] };
    /// assert!(tag.communities().is_none());
    /// # Ok::<(), dmvpn_eigrp::Error>(())
    /// ```
    #[must_use]
    pub fn communities(&self) -> Option<Result<Communities<'a>>> {
        (self.opcode == AttributeOpcode::COMMUNITY).then(|| Communities::new(self.data, 0))
    }
}

impl fmt::Debug for Attribute<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut s = f.debug_struct("Attribute");
        s.field("opcode", &self.opcode);
        match self.communities() {
            Some(Ok(communities)) => s.field("communities", &communities),
            _ => s.field("data", &self.data),
        };
        s.finish()
    }
}

/// The extended attributes of a wide metric, validated, as borrowed bytes.
#[derive(Clone, Copy, Default, Eq, Hash, PartialEq)]
pub struct Attributes<'a> {
    bytes: &'a [u8],
}

impl<'a> Attributes<'a> {
    /// Checks encoded attributes (opcode(1), data length in 16-bit words(1), data); the total length
    /// must be even and at most 510 bytes (the metric offset counts words in one byte).
    pub fn new(bytes: &'a [u8], base: usize) -> Result<Self> {
        if !bytes.len().is_multiple_of(2) || bytes.len() > 2 * 255 {
            return Err(Error::invalid_field(
                Layer::Eigrp,
                "attributes length",
                base,
                u32::try_from(bytes.len()).unwrap_or(u32::MAX),
            ));
        }
        let mut r = Reader::with_base(Layer::Eigrp, bytes, base);
        while !r.is_empty() {
            r.u8("attribute opcode")?;
            let words = r.u8("attribute offset")?;
            r.take(2 * usize::from(words), "attribute data")?;
        }
        Ok(Self { bytes })
    }

    /// The encoded bytes.
    #[must_use]
    pub const fn as_bytes(&self) -> &'a [u8] {
        self.bytes
    }

    /// The attributes.
    pub fn iter(&self) -> impl Iterator<Item = Attribute<'a>> + use<'a> {
        let mut rest = self.bytes;
        core::iter::from_fn(move || {
            let (&[opcode, words], tail) = rest.split_first_chunk::<2>()?;
            let (data, tail) = tail.split_at_checked(2 * usize::from(words))?;
            rest = tail;
            Some(Attribute {
                opcode: AttributeOpcode(opcode),
                data,
            })
        })
    }
}

impl fmt::Debug for Attributes<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_list().entries(self.iter()).finish()
    }
}

/// External route data (RFC 7868 §6.8.3, §6.9.3), 20 bytes.
#[derive(Clone, Copy, Debug, Default, Eq, Hash, PartialEq)]
pub struct ExternalData {
    /// Router ID of the redistributing router.
    pub origin_router: u32,
    /// Autonomous system of the originating protocol.
    pub origin_as: u32,
    /// Administrative tag.
    pub tag: u32,
    /// Metric in the originating protocol.
    pub external_metric: u32,
    /// Reserved.
    pub reserved: u16,
    /// Originating protocol.
    pub protocol: ExternalProtocol,
    /// Flags: 0x01 external, 0x02 candidate default.
    pub flags: u8,
}

impl ExternalData {
    /// Encoded length.
    pub const LEN: usize = 20;

    fn parse(r: &mut Reader<'_>) -> Result<Self> {
        Ok(Self {
            origin_router: r.u32("origin router")?,
            origin_as: r.u32("origin as")?,
            tag: r.u32("external tag")?,
            external_metric: r.u32("external metric")?,
            reserved: r.u16("external reserved")?,
            protocol: ExternalProtocol(r.u8("external protocol")?),
            flags: r.u8("external flags")?,
        })
    }

    fn emit(&self, w: &mut Writer<'_>) {
        w.u32(self.origin_router);
        w.u32(self.origin_as);
        w.u32(self.tag);
        w.u32(self.external_metric);
        w.u16(self.reserved);
        w.u8(self.protocol.0);
        w.u8(self.flags);
    }
}

fn next_hop(family: Family, r: &mut Reader<'_>) -> Result<IpAddr> {
    let bytes = r.take(family.addr_len(), "next hop")?;
    Ok(family.addr(bytes))
}

fn emit_addr(addr: IpAddr, w: &mut Writer<'_>) {
    match addr {
        IpAddr::V4(a) => w.bytes(&a.octets()),
        IpAddr::V6(a) => w.bytes(&a.octets()),
    }
}

fn addr_len(addr: IpAddr) -> usize {
    match addr {
        IpAddr::V4(_) => 4,
        IpAddr::V6(_) => 16,
    }
}

/// A classic-metric route TLV: IPv4/IPv6, internal or external (RFC 7868 §6.8.3, §6.8.4).
#[derive(Clone, Copy, Debug, Eq, PartialEq)]
pub struct ClassicRoute<'a> {
    /// Next hop; unspecified (all zero) means the sender.
    pub next_hop: IpAddr,
    /// External data: present for external routes (0x0103, 0x0403).
    pub external: Option<ExternalData>,
    /// The metric.
    pub metric: ClassicMetric,
    /// One or more destinations.
    pub destinations: Destinations<'a>,
}

impl<'a> ClassicRoute<'a> {
    /// The TLV type, from the family and whether the route is external.
    #[must_use]
    pub fn ty(&self) -> TlvType {
        match (self.destinations.family(), self.external.is_some()) {
            (Family::Ipv4, false) => TlvType::IPV4_INTERNAL,
            (Family::Ipv4, true) => TlvType::IPV4_EXTERNAL,
            (Family::Ipv6, false) => TlvType::IPV6_INTERNAL,
            (Family::Ipv6, true) => TlvType::IPV6_EXTERNAL,
        }
    }

    pub(crate) fn parse(ty: TlvType, r: &mut Reader<'a>) -> Result<Self> {
        let family = if ty.0 >> 8 == 0x04 {
            Family::Ipv6
        } else {
            Family::Ipv4
        };
        let next_hop = next_hop(family, r)?;
        let external = if ty.0 & 0xff == 0x03 {
            Some(ExternalData::parse(r)?)
        } else {
            None
        };
        let metric = ClassicMetric::parse(r)?;
        let destinations = Destinations::parse(family, r)?;
        Ok(Self {
            next_hop,
            external,
            metric,
            destinations,
        })
    }

    /// Value length.
    #[must_use]
    pub fn value_len(&self) -> usize {
        self.destinations.family().addr_len()
            + self.external.map_or(0, |_| ExternalData::LEN)
            + ClassicMetric::LEN
            + self.destinations.buffer_len()
    }

    pub(crate) fn emit(&self, w: &mut Writer<'_>) {
        assert_eq!(
            addr_len(self.next_hop),
            self.destinations.family().addr_len(),
            "next hop family"
        );
        emit_addr(self.next_hop, w);
        if let Some(ext) = &self.external {
            ext.emit(w);
        }
        self.metric.emit(w);
        self.destinations.emit(w);
    }
}

/// A multi-protocol route TLV with a wide metric, for the IPv4 and IPv6 AFIs (RFC 7868 §6.9.3).
#[derive(Clone, Copy, Debug, Eq, PartialEq)]
pub struct WideRoute<'a> {
    /// Topology ID (0 is the base topology).
    pub topology_id: u16,
    /// Router ID of the originating router.
    pub router_id: u32,
    /// The metric.
    pub metric: WideMetric,
    /// Extended attributes; the metric offset on the wire is their length in 16-bit words.
    pub attributes: Attributes<'a>,
    /// Next hop; unspecified means the sender.
    pub next_hop: IpAddr,
    /// External data: present for 0x0603.
    pub external: Option<ExternalData>,
    /// One or more destinations; their family gives the AFI.
    pub destinations: Destinations<'a>,
}

impl<'a> WideRoute<'a> {
    /// The TLV type.
    #[must_use]
    pub fn ty(&self) -> TlvType {
        if self.external.is_some() {
            TlvType::MP_EXTERNAL
        } else {
            TlvType::MP_INTERNAL
        }
    }

    /// The AFI.
    #[must_use]
    pub fn afi(&self) -> Afi {
        self.destinations.family().afi()
    }

    /// Parses the value; `None` for an AFI other than IPv4/IPv6, which the caller keeps as bytes.
    pub(crate) fn parse(ty: TlvType, r: &mut Reader<'a>) -> Result<Option<Self>> {
        let topology_id = r.u16("topology id")?;
        let afi = Afi(r.u16("afi")?);
        let Some(family) = Family::from_afi(afi) else {
            return Ok(None);
        };
        let router_id = r.u32("router id")?;
        let offset = r.u8("metric offset")?;
        let priority = r.u8("priority")?;
        let reliability = r.u8("reliability")?;
        let load = r.u8("load")?;
        let mtu = r.u24("mtu")?;
        let hop_count = r.u8("hop count")?;
        let delay = WideMetric::u48(r, "delay")?;
        let bandwidth = WideMetric::u48(r, "bandwidth")?;
        let reserved = r.u16("metric reserved")?;
        let flags = r.u16("route flags")?;
        let metric = WideMetric {
            priority,
            reliability,
            load,
            mtu,
            hop_count,
            delay,
            bandwidth,
            reserved,
            flags,
        };
        let attr_base = r.offset();
        let attributes = Attributes::new(
            r.take(2 * usize::from(offset), "extended attributes")?,
            attr_base,
        )?;
        let next_hop = next_hop(family, r)?;
        let external = if ty == TlvType::MP_EXTERNAL {
            Some(ExternalData::parse(r)?)
        } else {
            None
        };
        let destinations = Destinations::parse(family, r)?;
        Ok(Some(Self {
            topology_id,
            router_id,
            metric,
            attributes,
            next_hop,
            external,
            destinations,
        }))
    }

    /// Value length.
    #[must_use]
    pub fn value_len(&self) -> usize {
        8 + WideMetric::LEN
            + self.attributes.as_bytes().len()
            + self.destinations.family().addr_len()
            + self.external.map_or(0, |_| ExternalData::LEN)
            + self.destinations.buffer_len()
    }

    pub(crate) fn emit(&self, w: &mut Writer<'_>) {
        assert_eq!(
            addr_len(self.next_hop),
            self.destinations.family().addr_len(),
            "next hop family"
        );
        w.u16(self.topology_id);
        w.u16(self.afi().0);
        w.u32(self.router_id);
        let words = u8::try_from(self.attributes.as_bytes().len() / 2).unwrap_or(u8::MAX);
        self.metric.emit(words, w);
        w.bytes(self.attributes.as_bytes());
        emit_addr(self.next_hop, w);
        if let Some(ext) = &self.external {
            ext.emit(w);
        }
        self.destinations.emit(w);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tlv::{Tlv, TlvIter};

    dmvpn_wire::hex_consts! {
        // packetlife EIGRP_adjacency.cap frame 19 (Update from 10.0.0.2): the first IPv4 internal TLV,
        // 192.168.1.0/24 via the sender, unreachable (delay 0xffffffff: poison reverse).
        const IPV4_INTERNAL: [u8; 28] = "0102001c00000000ffffffff0003e8000005dc01ff01000018c0a801";

        // packetlife EIGRPv2_subnet_transition.cap frame 9 (Update): IPv6 internal, 2001:db8:0:400::/64
        // unreachable; the /64 is carried in 9 octets.
        const IPV6_INTERNAL: [u8; 46] = "0402002e00000000000000000000000000000000ffffffff0003e8000005dc02ff0100004020010db80000040000";
    }

    fn only(bytes: &[u8]) -> Tlv<'_> {
        let mut iter = TlvIter::new(bytes);
        let tlv = iter.next().unwrap().unwrap();
        assert!(iter.next().is_none());
        tlv
    }

    fn emitted(tlv: &Tlv<'_>) -> Vec<u8> {
        let mut buf = vec![0; tlv.buffer_len()];
        tlv.emit(&mut buf);
        buf
    }

    #[test]
    fn prefix_octets() {
        let v4: Vec<_> = [0, 1, 8, 9, 16, 24, 25, 32]
            .map(|l| Family::Ipv4.prefix_octets(l))
            .into();
        assert_eq!(v4, [1, 1, 1, 2, 2, 3, 4, 4]);
        let v6: Vec<_> = [0, 7, 8, 63, 64, 65, 120, 127, 128]
            .map(|l| Family::Ipv6.prefix_octets(l))
            .into();
        assert_eq!(v6, [1, 1, 2, 8, 9, 9, 16, 16, 16]);
    }

    #[test]
    fn parse_classic_ipv4() {
        let Tlv::Classic(route) = only(&IPV4_INTERNAL) else {
            panic!()
        };
        assert_eq!(route.ty(), TlvType::IPV4_INTERNAL);
        assert_eq!(route.next_hop, IpAddr::V4(Ipv4Addr::UNSPECIFIED));
        assert_eq!(
            route.metric,
            ClassicMetric {
                delay: 0xffff_ffff,
                bandwidth: 256_000,
                mtu: 1500,
                hop_count: 1,
                reliability: 255,
                load: 1,
                tag: 0,
                flags: 0
            }
        );
        assert!(route.metric.is_unreachable());
        assert_eq!(format!("{:?}", route.destinations), "[192.168.1.0/24]");
        assert_eq!(emitted(&Tlv::Classic(route)), IPV4_INTERNAL);
    }

    #[test]
    fn parse_classic_ipv6_cisco_octets() {
        let Tlv::Classic(route) = only(&IPV6_INTERNAL) else {
            panic!()
        };
        assert_eq!(route.ty(), TlvType::IPV6_INTERNAL);
        let dests: Vec<_> = route.destinations.iter().collect();
        assert_eq!(
            dests,
            [Destination {
                prefix_len: 64,
                prefix: "2001:db8:0:400::".parse().unwrap()
            }]
        );
        assert_eq!(emitted(&Tlv::Classic(route)), IPV6_INTERNAL);
        // Built from a list, it encodes to the same bytes and compares equal.
        let built = ClassicRoute {
            destinations: Destinations::new(Family::Ipv6, &dests),
            ..route
        };
        assert_eq!(built, route);
        assert_eq!(emitted(&Tlv::Classic(built)), IPV6_INTERNAL);
    }

    #[test]
    fn several_destinations_and_external() {
        let dests = [
            Destination {
                prefix_len: 0,
                prefix: "0.0.0.0".parse().unwrap(),
            },
            Destination {
                prefix_len: 9,
                prefix: "10.128.0.0".parse().unwrap(),
            },
            Destination {
                prefix_len: 32,
                prefix: "192.0.2.1".parse().unwrap(),
            },
        ];
        let route = ClassicRoute {
            next_hop: "10.0.0.9".parse().unwrap(),
            external: Some(ExternalData {
                origin_router: 0x0a00_0001,
                origin_as: 65000,
                tag: 7,
                external_metric: 20,
                reserved: 0,
                protocol: ExternalProtocol::OSPF,
                flags: 0x01,
            }),
            metric: ClassicMetric::default(),
            destinations: Destinations::new(Family::Ipv4, &dests),
        };
        let bytes = emitted(&Tlv::Classic(route));
        assert_eq!(bytes.len(), 4 + 4 + 20 + 16 + (1 + 1) + (1 + 2) + (1 + 4));
        assert_eq!(&bytes[44..], [0, 0, 9, 10, 128, 32, 192, 0, 2, 1]);
        assert_eq!(only(&bytes), Tlv::Classic(route));
        assert_eq!(route.ty(), TlvType::IPV4_EXTERNAL);
    }

    #[test]
    fn wide_round_trip() {
        let attrs = [1, 2, 0, 0, 0, 7, 2, 2, 0, 0, 0, 9];
        let dests = [Destination {
            prefix_len: 48,
            prefix: "2001:db8:1::".parse().unwrap(),
        }];
        for external in [
            None,
            Some(ExternalData {
                protocol: ExternalProtocol::STATIC,
                ..Default::default()
            }),
        ] {
            let route = WideRoute {
                topology_id: 0,
                router_id: 0x0a63_ff01,
                metric: WideMetric {
                    priority: 0,
                    reliability: 255,
                    load: 1,
                    mtu: 1500,
                    hop_count: 2,
                    delay: 10_000_000,
                    bandwidth: 100_000,
                    reserved: 0,
                    flags: 0,
                },
                attributes: Attributes::new(&attrs, 0).unwrap(),
                next_hop: "::".parse().unwrap(),
                external,
                destinations: Destinations::new(Family::Ipv6, &dests),
            };
            let bytes = emitted(&Tlv::Wide(route));
            assert_eq!(
                bytes[12], 6,
                "metric offset counts 16-bit words of attributes"
            );
            assert_eq!(only(&bytes), Tlv::Wide(route));
            let parsed: Vec<_> = route.attributes.iter().collect();
            assert_eq!(
                parsed[0],
                Attribute {
                    opcode: AttributeOpcode::SCALED,
                    data: &[0, 0, 0, 7]
                }
            );
            assert_eq!(parsed[1].opcode, AttributeOpcode::TAG);
        }
    }

    #[test]
    fn wide_unknown_afi_is_kept() {
        let mut value = vec![0, 0, 0x40, 0x00];
        value.resize(40, 0);
        let mut bytes = vec![0x06, 0x02, 0, 44];
        bytes.extend_from_slice(&value);
        assert_eq!(
            only(&bytes),
            Tlv::Unknown {
                ty: TlvType::MP_INTERNAL,
                value: &value
            }
        );
    }

    #[test]
    fn errors() {
        // Prefix length too long.
        let mut bad = IPV4_INTERNAL;
        bad[24] = 33;
        assert_eq!(
            TlvIter::new(&bad).next().unwrap(),
            Err(Error::invalid_field(Layer::Eigrp, "prefix length", 24, 33))
        );
        // No destination at all.
        let mut none = IPV4_INTERNAL[..24].to_vec();
        none[3] = 24;
        assert_eq!(
            TlvIter::new(&none).next().unwrap(),
            Err(Error::Truncated {
                layer: Layer::Eigrp,
                field: "prefix length",
                offset: 24,
                needed: 1,
                available: 0
            })
        );
        // Odd attributes are impossible on the wire (offset counts words); an odd attribute list is refused.
        assert!(Attributes::new(&[1], 0).is_err());
        assert_eq!(
            Attributes::new(&[1, 3, 0, 0], 10),
            Err(Error::Truncated {
                layer: Layer::Eigrp,
                field: "attribute data",
                offset: 12,
                needed: 6,
                available: 2
            })
        );
    }

    #[test]
    fn truncation_loop() {
        for len in 4..IPV4_INTERNAL.len() {
            let mut bytes = IPV4_INTERNAL[..len].to_vec();
            bytes[3] = len as u8;
            let err = TlvIter::new(&bytes).next().unwrap().unwrap_err();
            let (field, offset, needed) = match len {
                4..=7 => ("next hop", 4, 4),
                8..=11 => ("delay", 8, 4),
                12..=15 => ("bandwidth", 12, 4),
                16..=18 => ("mtu", 16, 3),
                19 => ("hop count", 19, 1),
                20 => ("reliability", 20, 1),
                21 => ("load", 21, 1),
                22 => ("internal tag", 22, 1),
                23 => ("route flags", 23, 1),
                24 => ("prefix length", 24, 1),
                _ => ("destination", 25, 3),
            };
            assert_eq!(
                err,
                Error::truncated(Layer::Eigrp, field, offset, needed, len),
                "{len} bytes"
            );
        }
    }
}
