//! Communities of the wide-metric Community attribute (RFC 7868 §6.4, §6.9.2 opcode 3).
//!
//! The attribute's data is a list of 8-octet communities laid out as BGP extended communities
//! (RFC 4360): a 2-octet type ([`CommunityType`]) and a 6-octet value. [`Communities`] checks that
//! the data is a whole number of communities and iterates them as [`Community`]; a community
//! decodes to a typed [`CommunityValue`] and encodes back to the same 8 bytes, whatever they hold.
//!
//! The value layouts are those Wireshark's EIGRP dissector reads (RFC 7868 names only the types):
//!
//! | type   | name  | value (6 octets)                          |
//! |--------|-------|-------------------------------------------|
//! | 0x0003 | SoO   | AS (2), assigned number (4)               |
//! | 0x0103 | SoO   | IPv4 address (4), assigned number (2)     |
//! | 0x8800 | EIGRP | flag (2), tag (4)                         |
//! | 0x8801 | DAD   | AS (2), scaled delay (4)                  |
//! | 0x8802 | VRHB  | reliability (1), hop count (1), scaled bandwidth (4) |
//! | 0x8803 | SRLM  | reserved (1), load (1), MTU (4)           |
//! | 0x8804 | SAR   | external source AS (2), external router ID (4) |
//! | 0x8805 | RPM   | external protocol (2), external metric (4) |
//! | 0x8806 | VRR   | reserved (2), router ID (4)               |
//!
//! 0x0103 is the IPv4-address form of BGP's Route Origin community (RFC 4360 §3.2, §5), and is read
//! that way here; Wireshark prints it with the AS-format layout.
//!
//! The community *TLVs* (0x0104 IPv4, 0x0404 IPv6, 0x0604 multi-protocol) are a different thing and
//! stay opaque bytes ([`crate::tlv::Tlv::Unknown`]): RFC 7868 names those types but no public
//! source gives their body layout (Wireshark, FRR, OpenBSD eigrpd, tcpdump and scapy do not
//! decode them either).
//!
//! ```
//! use dmvpn_eigrp::consts::{AttributeOpcode, CommunityType};
//! use dmvpn_eigrp::tlv::{Attribute, Community, CommunityValue};
//!
//! // A Community attribute's data: one DAD community, AS 100, scaled delay 25600.
//! let data = [0x88, 0x01, 0x00, 0x64, 0x00, 0x00, 0x64, 0x00];
//! let attribute = Attribute { opcode: AttributeOpcode::COMMUNITY, data: &data };
//! let communities = attribute.communities().expect("a Community attribute")?;
//! let community: Community = communities.iter().next().expect("one community");
//! assert_eq!(community.kind, CommunityType::DAD);
//! assert_eq!(community.decode(), CommunityValue::Distance { asn: 100, delay: 25600 });
//! assert_eq!(community.to_string(), "DAD AS 100 delay 25600");
//!
//! // Encoding the typed value gives the same bytes back.
//! assert_eq!(CommunityValue::Distance { asn: 100, delay: 25600 }.encode().to_bytes(), data);
//! # Ok::<(), dmvpn_eigrp::Error>(())
//! ```

use core::fmt;
use core::net::Ipv4Addr;

use dmvpn_wire::{Error, Layer, Result};

use crate::consts::{AttributeOpcode, CommunityType, ExternalProtocol};

/// One community: a 2-octet type and a 6-octet value (RFC 7868 §6.4, RFC 4360 §2).
///
/// It prints (`Display` and `Debug`) as its decoded [`CommunityValue`].
///
/// ```
/// use dmvpn_eigrp::consts::CommunityType;
/// use dmvpn_eigrp::tlv::{Community, CommunityValue};
///
/// let bytes = [0x88, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x2a];
/// let community = Community::from_bytes(bytes);
/// assert_eq!(community.kind, CommunityType::EIGRP);
/// assert_eq!(community.value, [0, 0, 0, 0, 0, 0x2a]);
/// assert_eq!(community.decode(), CommunityValue::Eigrp { flag: 0, tag: 42 });
/// assert_eq!(community.to_bytes(), bytes);
/// ```
#[derive(Clone, Copy, Eq, Hash, PartialEq)]
pub struct Community {
    /// The type.
    pub kind: CommunityType,
    /// The value.
    pub value: [u8; 6],
}

impl Community {
    /// Encoded length.
    pub const LEN: usize = 8;

    /// A community of type `kind` holding `value`.
    #[must_use]
    pub const fn new(kind: CommunityType, value: [u8; 6]) -> Self {
        Self { kind, value }
    }

    /// Reads a community from its 8 bytes.
    #[must_use]
    pub const fn from_bytes(bytes: [u8; Self::LEN]) -> Self {
        let [t0, t1, v0, v1, v2, v3, v4, v5] = bytes;
        Self {
            kind: CommunityType(u16::from_be_bytes([t0, t1])),
            value: [v0, v1, v2, v3, v4, v5],
        }
    }

    /// The 8 bytes on the wire.
    #[must_use]
    pub const fn to_bytes(&self) -> [u8; Self::LEN] {
        let [t0, t1] = self.kind.0.to_be_bytes();
        let [v0, v1, v2, v3, v4, v5] = self.value;
        [t0, t1, v0, v1, v2, v3, v4, v5]
    }

    /// Writes the 8 bytes into `buf`.
    pub fn emit(&self, buf: &mut [u8; Self::LEN]) {
        *buf = self.to_bytes();
    }

    /// The value, decoded by type; [`CommunityValue::Other`] for a type without a known layout.
    #[must_use]
    pub const fn decode(&self) -> CommunityValue {
        let [a, b, c, d, e, g] = self.value;
        let hi16 = u16::from_be_bytes([a, b]);
        let lo32 = u32::from_be_bytes([c, d, e, g]);
        match self.kind {
            CommunityType::EIGRP => CommunityValue::Eigrp {
                flag: hi16,
                tag: lo32,
            },
            CommunityType::DAD => CommunityValue::Distance {
                asn: hi16,
                delay: lo32,
            },
            CommunityType::VRHB => CommunityValue::ReliabilityHopBandwidth {
                reliability: a,
                hop_count: b,
                bandwidth: lo32,
            },
            CommunityType::SRLM => CommunityValue::LoadMtu {
                reserved: a,
                load: b,
                mtu: lo32,
            },
            CommunityType::SAR => CommunityValue::ExternalSource {
                asn: hi16,
                router_id: lo32,
            },
            CommunityType::RPM => CommunityValue::ExternalMetric {
                protocol: hi16,
                metric: lo32,
            },
            CommunityType::VRR => CommunityValue::Vrr {
                reserved: hi16,
                router_id: lo32,
            },
            CommunityType::SOO_AS => CommunityValue::SiteOfOrigin {
                asn: hi16,
                assigned: lo32,
            },
            CommunityType::SOO_IPV4 => CommunityValue::SiteOfOriginIpv4 {
                address: Ipv4Addr::new(a, b, c, d),
                assigned: u16::from_be_bytes([e, g]),
            },
            kind => CommunityValue::Other {
                kind,
                value: self.value,
            },
        }
    }
}

impl From<CommunityValue> for Community {
    fn from(value: CommunityValue) -> Self {
        value.encode()
    }
}

impl From<Community> for CommunityValue {
    fn from(community: Community) -> Self {
        community.decode()
    }
}

impl fmt::Debug for Community {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self, f)
    }
}

impl fmt::Display for Community {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(&self.decode(), f)
    }
}

/// A community's value, decoded by its type (RFC 7868 §6.4; layouts as in the module docs).
///
/// Every variant keeps all six value octets, so [`CommunityValue::encode`] after
/// [`Community::decode`] gives back the same bytes. Scaled delay and bandwidth are the classic
/// metric's units (RFC 7868 §6.8.2); router IDs are IPv4-style and print dotted.
///
/// ```
/// use dmvpn_eigrp::tlv::CommunityValue;
///
/// let value = CommunityValue::ExternalSource { asn: 200, router_id: 0x0a00_0001 };
/// let community = value.encode();
/// assert_eq!(community.to_bytes(), [0x88, 0x04, 0x00, 0xc8, 0x0a, 0x00, 0x00, 0x01]);
/// assert_eq!(community.decode(), value);
/// assert_eq!(value.to_string(), "SAR AS 200 router 10.0.0.1");
/// ```
#[derive(Clone, Copy, Debug, Eq, Hash, PartialEq)]
pub enum CommunityValue {
    /// 0x8800 EXTCOMM_EIGRP: sent with every EIGRP route carried over a VPN.
    Eigrp {
        /// Route flags.
        flag: u16,
        /// Administrative tag.
        tag: u32,
    },
    /// 0x8801 DAD: the EIGRP AS and the route's delay.
    Distance {
        /// Autonomous system.
        asn: u16,
        /// Scaled delay.
        delay: u32,
    },
    /// 0x8802 VRHB: reliability, hop count and bandwidth.
    ReliabilityHopBandwidth {
        /// Reliability (255 = 100 %).
        reliability: u8,
        /// Hop count.
        hop_count: u8,
        /// Scaled bandwidth.
        bandwidth: u32,
    },
    /// 0x8803 SRLM: load and MTU.
    LoadMtu {
        /// Reserved.
        reserved: u8,
        /// Load (255 = 100 %).
        load: u8,
        /// Path MTU.
        mtu: u32,
    },
    /// 0x8804 SAR: where an external route came from.
    ExternalSource {
        /// Autonomous system of the external source.
        asn: u16,
        /// Router ID of the redistributing router.
        router_id: u32,
    },
    /// 0x8805 RPM: the external protocol and its metric.
    ExternalMetric {
        /// External protocol (the [`ExternalProtocol`] numbers, in two octets).
        protocol: u16,
        /// Metric in that protocol.
        metric: u32,
    },
    /// 0x8806 VRR: the router ID of the originating router.
    Vrr {
        /// Reserved.
        reserved: u16,
        /// Router ID.
        router_id: u32,
    },
    /// 0x0003 Site of Origin, AS format (RFC 4360 §5).
    SiteOfOrigin {
        /// Autonomous system.
        asn: u16,
        /// Assigned number.
        assigned: u32,
    },
    /// 0x0103 Site of Origin, IPv4 address format (RFC 4360 §3.2, §5).
    SiteOfOriginIpv4 {
        /// IPv4 address.
        address: Ipv4Addr,
        /// Assigned number.
        assigned: u16,
    },
    /// Any other type, kept as bytes.
    Other {
        /// The type.
        kind: CommunityType,
        /// The value.
        value: [u8; 6],
    },
}

impl CommunityValue {
    /// The community type.
    #[must_use]
    pub const fn kind(&self) -> CommunityType {
        match self {
            Self::Eigrp { .. } => CommunityType::EIGRP,
            Self::Distance { .. } => CommunityType::DAD,
            Self::ReliabilityHopBandwidth { .. } => CommunityType::VRHB,
            Self::LoadMtu { .. } => CommunityType::SRLM,
            Self::ExternalSource { .. } => CommunityType::SAR,
            Self::ExternalMetric { .. } => CommunityType::RPM,
            Self::Vrr { .. } => CommunityType::VRR,
            Self::SiteOfOrigin { .. } => CommunityType::SOO_AS,
            Self::SiteOfOriginIpv4 { .. } => CommunityType::SOO_IPV4,
            Self::Other { kind, .. } => *kind,
        }
    }

    /// The community on the wire.
    ///
    /// [`CommunityValue::Other`] encodes its type and bytes as they are, even a type that has a
    /// variant of its own (which then decodes to that variant, with the same bytes).
    #[must_use]
    pub const fn encode(&self) -> Community {
        const fn split(hi: [u8; 2], lo: [u8; 4]) -> [u8; 6] {
            [hi[0], hi[1], lo[0], lo[1], lo[2], lo[3]]
        }
        let value = match *self {
            Self::Eigrp { flag: hi, tag: lo }
            | Self::Distance { asn: hi, delay: lo }
            | Self::ExternalSource {
                asn: hi,
                router_id: lo,
            }
            | Self::ExternalMetric {
                protocol: hi,
                metric: lo,
            }
            | Self::Vrr {
                reserved: hi,
                router_id: lo,
            }
            | Self::SiteOfOrigin {
                asn: hi,
                assigned: lo,
            } => split(hi.to_be_bytes(), lo.to_be_bytes()),
            Self::ReliabilityHopBandwidth {
                reliability: a,
                hop_count: b,
                bandwidth: lo,
            }
            | Self::LoadMtu {
                reserved: a,
                load: b,
                mtu: lo,
            } => split([a, b], lo.to_be_bytes()),
            Self::SiteOfOriginIpv4 { address, assigned } => {
                let [a, b, c, d] = address.octets();
                let [e, g] = assigned.to_be_bytes();
                [a, b, c, d, e, g]
            }
            Self::Other { value, .. } => value,
        };
        Community {
            kind: self.kind(),
            value,
        }
    }
}

impl fmt::Display for CommunityValue {
    /// One phrase, led by the type's RFC 7868 abbreviation: `DAD AS 100 delay 25600`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match *self {
            Self::Eigrp { flag, tag } => write!(f, "EIGRP flag {flag:#06x} tag {tag}"),
            Self::Distance { asn, delay } => write!(f, "DAD AS {asn} delay {delay}"),
            Self::ReliabilityHopBandwidth {
                reliability,
                hop_count,
                bandwidth,
            } => write!(
                f,
                "VRHB reliability {reliability} hops {hop_count} bandwidth {bandwidth}"
            ),
            Self::LoadMtu {
                reserved,
                load,
                mtu,
            } => write!(f, "SRLM reserved {reserved} load {load} mtu {mtu}"),
            Self::ExternalSource { asn, router_id } => {
                write!(f, "SAR AS {asn} router {}", Ipv4Addr::from(router_id))
            }
            Self::ExternalMetric { protocol, metric } => {
                f.write_str("RPM protocol ")?;
                match u8::try_from(protocol) {
                    Ok(p) if ExternalProtocol(p).is_known() => {
                        write!(f, "{}", ExternalProtocol(p))?;
                    }
                    _ => write!(f, "{protocol}")?,
                }
                write!(f, " metric {metric}")
            }
            Self::Vrr {
                reserved,
                router_id,
            } => write!(
                f,
                "VRR reserved {reserved} router {}",
                Ipv4Addr::from(router_id)
            ),
            Self::SiteOfOrigin { asn, assigned } => write!(f, "SoO {asn}:{assigned}"),
            Self::SiteOfOriginIpv4 { address, assigned } => write!(f, "SoO {address}:{assigned}"),
            Self::Other { kind, value } => {
                write!(f, "{kind} value {}", dmvpn_wire::fmt::Hex(&value))
            }
        }
    }
}

/// The data of a Community attribute, checked to be a whole number of [`Community`]s.
///
/// ```
/// use dmvpn_eigrp::Error;
/// use dmvpn_eigrp::consts::CommunityType;
/// use dmvpn_eigrp::tlv::{Communities, Community, CommunityValue};
///
/// // Build an attribute (opcode 3, length in 16-bit words, communities) ...
/// let list = [
///     CommunityValue::SiteOfOrigin { asn: 65000, assigned: 7 }.encode(),
///     Community::new(CommunityType(0x1234), [1, 2, 3, 4, 5, 6]),
/// ];
/// let mut attribute = [0u8; Communities::attribute_len(2)];
/// assert_eq!(Communities::emit_attribute(&list, &mut attribute), Some(18));
/// assert_eq!(attribute[..2], [3, 8]);
///
/// // ... and read its data back.
/// let communities = Communities::new(&attribute[2..], 0)?;
/// assert_eq!(communities.len(), 2);
/// assert!(communities.iter().eq(list));
/// assert_eq!(
///     format!("{communities:?}"),
///     "[SoO 65000:7, 0x1234 value 010203040506]"
/// );
///
/// // Data that is not a multiple of 8 bytes is refused.
/// let err = Communities::new(&attribute[2..9], 100).unwrap_err();
/// assert_eq!(
///     err.to_string(),
///     "eigrp: field `community attribute length` at offset 100 has invalid value 0x7"
/// );
/// # Ok::<(), Error>(())
/// ```
#[derive(Clone, Copy, Default, Eq, Hash, PartialEq)]
pub struct Communities<'a> {
    bytes: &'a [u8],
}

impl<'a> Communities<'a> {
    /// The most communities one attribute can carry: its length counts 16-bit words in one octet.
    pub const MAX: usize = 255 * 2 / Community::LEN;

    /// Checks a Community attribute's data: its length must be a multiple of 8. An error is an
    /// [`Error::InvalidField`] `community attribute length` at `base`, the offset of the data.
    pub fn new(bytes: &'a [u8], base: usize) -> Result<Self> {
        if !bytes.len().is_multiple_of(Community::LEN) {
            return Err(Error::invalid_field(
                Layer::Eigrp,
                "community attribute length",
                base,
                u32::try_from(bytes.len()).unwrap_or(u32::MAX),
            ));
        }
        Ok(Self { bytes })
    }

    /// The encoded bytes.
    #[must_use]
    pub const fn as_bytes(&self) -> &'a [u8] {
        self.bytes
    }

    /// How many communities there are.
    #[must_use]
    pub const fn len(&self) -> usize {
        self.bytes.len() / Community::LEN
    }

    /// Whether there are none.
    #[must_use]
    pub const fn is_empty(&self) -> bool {
        self.bytes.is_empty()
    }

    /// The communities.
    pub fn iter(&self) -> impl Iterator<Item = Community> + use<'a> {
        self.bytes
            .chunks_exact(Community::LEN)
            .filter_map(|chunk| <[u8; Community::LEN]>::try_from(chunk).ok())
            .map(Community::from_bytes)
    }

    /// Length of a Community attribute (opcode, length, data) carrying `count` communities.
    #[must_use]
    pub const fn attribute_len(count: usize) -> usize {
        2 + count * Community::LEN
    }

    /// Writes a whole Community attribute — opcode 3, the data length in 16-bit words, then the
    /// communities — at the start of `buf`, and returns its length.
    ///
    /// `None`, with nothing written, if there are more than [`Communities::MAX`] communities or
    /// `buf` is shorter than [`Communities::attribute_len`].
    pub fn emit_attribute(list: &[Community], buf: &mut [u8]) -> Option<usize> {
        if list.len() > Self::MAX {
            return None;
        }
        let len = Self::attribute_len(list.len());
        let (head, data) = buf.get_mut(..len)?.split_first_chunk_mut::<2>()?;
        let words = u8::try_from(data.len() / 2).ok()?;
        *head = [AttributeOpcode::COMMUNITY.0, words];
        for (community, out) in list.iter().zip(data.chunks_exact_mut(Community::LEN)) {
            out.copy_from_slice(&community.to_bytes());
        }
        Some(len)
    }
}

impl fmt::Debug for Communities<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_list().entries(self.iter()).finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::consts::TlvType;
    use crate::tlv::{
        Attribute, Attributes, Destination, Destinations, Family, Tlv, TlvIter, WideMetric,
        WideRoute,
    };

    fn one(bytes: [u8; 8]) -> Community {
        let communities = Communities::new(&bytes, 0).unwrap();
        let mut iter = communities.iter();
        let community = iter.next().unwrap();
        assert!(iter.next().is_none());
        assert_eq!(community.to_bytes(), bytes);
        assert_eq!(community.decode().encode(), community);
        community
    }

    #[test]
    fn decode_each_type() {
        use CommunityValue as V;
        #[rustfmt::skip]
        let cases: [([u8; 8], CommunityType, CommunityValue, &str); 9] = [
            ([0x88, 0x00, 0x80, 0x01, 0x00, 0x00, 0x01, 0x2c], CommunityType::EIGRP,
             V::Eigrp { flag: 0x8001, tag: 300 }, "EIGRP flag 0x8001 tag 300"),
            ([0x88, 0x01, 0x00, 0x64, 0x00, 0x01, 0xf4, 0x00], CommunityType::DAD,
             V::Distance { asn: 100, delay: 128_000 }, "DAD AS 100 delay 128000"),
            ([0x88, 0x02, 0xff, 0x03, 0x00, 0x00, 0x0a, 0x00], CommunityType::VRHB,
             V::ReliabilityHopBandwidth { reliability: 255, hop_count: 3, bandwidth: 2560 },
             "VRHB reliability 255 hops 3 bandwidth 2560"),
            ([0x88, 0x03, 0x07, 0x01, 0x00, 0x00, 0x05, 0xdc], CommunityType::SRLM,
             V::LoadMtu { reserved: 7, load: 1, mtu: 1500 }, "SRLM reserved 7 load 1 mtu 1500"),
            ([0x88, 0x04, 0xfd, 0xe8, 0xc0, 0x00, 0x02, 0x01], CommunityType::SAR,
             V::ExternalSource { asn: 65000, router_id: 0xc000_0201 },
             "SAR AS 65000 router 192.0.2.1"),
            ([0x88, 0x05, 0x00, 0x06, 0x00, 0x00, 0x00, 0x14], CommunityType::RPM,
             V::ExternalMetric { protocol: u16::from(ExternalProtocol::OSPF.0), metric: 20 },
             "RPM protocol OSPF (6) metric 20"),
            ([0x88, 0x06, 0x00, 0x02, 0x0a, 0x63, 0xff, 0x01], CommunityType::VRR,
             V::Vrr { reserved: 2, router_id: 0x0a63_ff01 }, "VRR reserved 2 router 10.99.255.1"),
            ([0x00, 0x03, 0x00, 0x64, 0x00, 0x01, 0x00, 0x02], CommunityType::SOO_AS,
             V::SiteOfOrigin { asn: 100, assigned: 0x0001_0002 }, "SoO 100:65538"),
            ([0x01, 0x03, 0xc6, 0x33, 0x64, 0x07, 0x00, 0x09], CommunityType::SOO_IPV4,
             V::SiteOfOriginIpv4 { address: Ipv4Addr::new(198, 51, 100, 7), assigned: 9 },
             "SoO 198.51.100.7:9"),
        ];
        for (bytes, kind, value, text) in cases {
            let c = one(bytes);
            assert_eq!(c.kind, kind, "{text}");
            assert_eq!(c.decode(), value, "{text}");
            assert_eq!(c.to_string(), text);
        }
        // A protocol number outside the registry prints as a number.
        let c = one([0x88, 0x05, 0x01, 0x00, 0x00, 0x00, 0x00, 0x01]);
        assert_eq!(c.to_string(), "RPM protocol 256 metric 1");
    }

    #[test]
    fn decode_other() {
        // 0x8807 is in the EIGRP range but unassigned; 0x0002 is BGP's route target.
        for kind in [0x8807, 0x0002, 0xffff] {
            let [t0, t1] = u16::to_be_bytes(kind);
            let c = one([t0, t1, 1, 2, 3, 4, 5, 0xff]);
            assert_eq!(
                c.decode(),
                CommunityValue::Other {
                    kind: CommunityType(kind),
                    value: [1, 2, 3, 4, 5, 0xff]
                }
            );
            assert_eq!(c.to_string(), format!("{kind:#x} value 0102030405ff"));
        }
        // An `Other` with a known type encodes as it is and decodes to that type's variant.
        let other = CommunityValue::Other {
            kind: CommunityType::DAD,
            value: [0, 1, 0, 0, 0, 2],
        };
        assert_eq!(other.kind(), CommunityType::DAD);
        assert_eq!(
            other.encode().decode(),
            CommunityValue::Distance { asn: 1, delay: 2 }
        );
        assert_eq!(other.encode().to_bytes(), [0x88, 0x01, 0, 1, 0, 0, 0, 2]);
    }

    #[test]
    fn registry_names() {
        let names: Vec<_> = CommunityType::KNOWN
            .iter()
            .map(|t| t.name().unwrap())
            .collect();
        assert_eq!(
            names,
            [
                "SoO", "SoO-IPv4", "EIGRP", "DAD", "VRHB", "SRLM", "SAR", "RPM", "VRR"
            ]
        );
        assert_eq!(format!("{:?}", CommunityType::VRR), "VRR (34822)");
        assert_eq!(format!("{:?}", CommunityType(0x8807)), "0x8807");
        // Each variant reports the type it encodes with.
        for kind in CommunityType::KNOWN {
            let c = Community::new(*kind, [0; 6]);
            assert_eq!(c.decode().kind(), *kind);
            assert_eq!(CommunityValue::from(c), c.decode());
            assert_eq!(Community::from(c.decode()), c);
        }
    }

    #[test]
    fn length_errors() {
        let bytes = [0x88u8, 0x01, 0, 0x64, 0, 0, 0x64, 0, 0x88, 0x01];
        for (len, base) in [(7, 0), (9, 0), (7, 34), (9, 34), (1, 0), (10, 2)] {
            let err = Communities::new(&bytes[..len], base).unwrap_err();
            assert_eq!(
                err,
                Error::invalid_field(Layer::Eigrp, "community attribute length", base, len as u32),
                "{len} bytes at {base}"
            );
        }
        assert_eq!(
            Communities::new(&bytes[..9], 0).unwrap_err().to_string(),
            "eigrp: field `community attribute length` at offset 0 has invalid value 0x9"
        );
        // Through the attribute: offsets count from the start of its data.
        let attribute = Attribute {
            opcode: AttributeOpcode::COMMUNITY,
            data: &bytes[..7],
        };
        assert_eq!(
            attribute.communities(),
            Some(Err(Error::invalid_field(
                Layer::Eigrp,
                "community attribute length",
                0,
                7
            )))
        );
        // Empty data is a valid, empty list.
        let empty = Communities::new(&[], 0).unwrap();
        assert!(empty.is_empty());
        assert_eq!(empty.len(), 0);
        assert_eq!(empty.iter().count(), 0);
    }

    #[test]
    fn other_opcodes_have_no_communities() {
        for opcode in [0, 1, 2, 4, 5, 6, 0x33] {
            let attribute = Attribute {
                opcode: AttributeOpcode(opcode),
                data: &[0x88, 0x01, 0, 0, 0, 0, 0, 0],
            };
            assert_eq!(attribute.communities(), None);
        }
    }

    #[test]
    fn round_trip() {
        let values = [
            CommunityValue::Eigrp {
                flag: 0x0002,
                tag: 77,
            },
            CommunityValue::Distance {
                asn: 100,
                delay: 25_600,
            },
            CommunityValue::ReliabilityHopBandwidth {
                reliability: 255,
                hop_count: 1,
                bandwidth: 25_600,
            },
            CommunityValue::LoadMtu {
                reserved: 0,
                load: 1,
                mtu: 1476,
            },
            CommunityValue::ExternalSource {
                asn: 65001,
                router_id: 0x0a00_0009,
            },
            CommunityValue::ExternalMetric {
                protocol: 3,
                metric: 0,
            },
            CommunityValue::Vrr {
                reserved: 0,
                router_id: 0x0a00_0001,
            },
            CommunityValue::SiteOfOrigin {
                asn: 65000,
                assigned: 1,
            },
            CommunityValue::SiteOfOriginIpv4 {
                address: Ipv4Addr::new(192, 0, 2, 9),
                assigned: 4,
            },
            CommunityValue::Other {
                kind: CommunityType(0x4242),
                value: [9; 6],
            },
        ];
        let list: Vec<Community> = values.iter().map(CommunityValue::encode).collect();
        let mut buf = vec![0xee; Communities::attribute_len(list.len()) + 3];
        assert_eq!(
            Communities::emit_attribute(&list, &mut buf),
            Some(2 + 8 * values.len())
        );
        assert_eq!(buf[..2], [3, 40], "opcode 3, 80 bytes = 40 words");
        assert_eq!(buf[82..], [0xee; 3], "nothing written past the attribute");
        assert_eq!(buf[2..10], [0x88, 0x00, 0x00, 0x02, 0x00, 0x00, 0x00, 77]);

        // Parse the emitted attribute back through the wide metric's attribute list.
        let attributes = Attributes::new(&buf[..82], 0).unwrap();
        let mut iter = attributes.iter();
        let attribute = iter.next().unwrap();
        assert!(iter.next().is_none());
        assert_eq!(attribute.opcode, AttributeOpcode::COMMUNITY);
        let communities = attribute.communities().unwrap().unwrap();
        assert_eq!(communities.len(), values.len());
        let decoded: Vec<_> = communities.iter().map(|c| c.decode()).collect();
        assert_eq!(decoded, values);
        assert_eq!(communities.as_bytes(), &buf[2..82]);

        // Community::emit writes the same bytes.
        let mut one = [0u8; 8];
        list[1].emit(&mut one);
        assert_eq!(one, buf[10..18]);
    }

    #[test]
    fn emit_attribute_limits() {
        let list = [Community::new(CommunityType::EIGRP, [0; 6]); Communities::MAX + 1];
        let mut buf = vec![0u8; Communities::attribute_len(list.len())];
        assert_eq!(Communities::MAX, 63);
        assert_eq!(Communities::emit_attribute(&list, &mut buf), None);
        assert_eq!(
            Communities::emit_attribute(&list[..63], &mut buf),
            Some(506)
        );
        assert_eq!(buf[..2], [3, 252]);
        assert!(Attributes::new(&buf[..506], 0).is_ok());
        // A short buffer is refused and left alone.
        let mut short = [0u8; 9];
        assert_eq!(Communities::emit_attribute(&list[..1], &mut short), None);
        assert_eq!(short, [0; 9]);
        // No communities: an attribute with no data.
        assert_eq!(Communities::emit_attribute(&[], &mut short), Some(2));
        assert_eq!(short[..2], [3, 0]);
    }

    #[test]
    fn attribute_debug() {
        // A scaled-metric attribute prints as it always did; a Community attribute prints its
        // communities; one whose data is not a multiple of 8 prints its bytes.
        let bytes = [
            1, 2, 0, 0, 0, 7, // Scaled
            3, 4, 0x88, 0x01, 0, 0x64, 0, 0, 0x64, 0, // Community, one DAD
            3, 1, 0xab, 0xcd, // Community, 2 bytes
        ];
        let attributes = Attributes::new(&bytes, 0).unwrap();
        assert_eq!(
            format!("{attributes:?}"),
            "[Attribute { opcode: Scaled (1), data: [0, 0, 0, 7] }, \
             Attribute { opcode: Community (3), communities: [DAD AS 100 delay 25600] }, \
             Attribute { opcode: Community (3), data: [171, 205] }]"
        );
    }

    #[test]
    fn communities_in_a_wide_route_tlv() {
        let list = [
            CommunityValue::Eigrp { flag: 0, tag: 5 }.encode(),
            CommunityValue::Vrr {
                reserved: 0,
                router_id: 0x0101_0101,
            }
            .encode(),
        ];
        let mut attrs = [0u8; Communities::attribute_len(2)];
        Communities::emit_attribute(&list, &mut attrs).unwrap();
        let dests = [Destination {
            prefix_len: 24,
            prefix: "10.1.2.0".parse().unwrap(),
        }];
        let route = WideRoute {
            topology_id: 0,
            router_id: 0x0101_0101,
            metric: WideMetric::default(),
            attributes: Attributes::new(&attrs, 0).unwrap(),
            next_hop: "0.0.0.0".parse().unwrap(),
            external: None,
            destinations: Destinations::new(Family::Ipv4, &dests),
        };
        let tlv = Tlv::Wide(route);
        let mut bytes = vec![0; tlv.buffer_len()];
        tlv.emit(&mut bytes);
        assert_eq!(bytes[..2], TlvType::MP_INTERNAL.0.to_be_bytes());
        assert_eq!(bytes[12], 9, "metric offset: 18 bytes of attributes");
        let Some(Ok(Tlv::Wide(parsed))) = TlvIter::new(&bytes).next() else {
            panic!()
        };
        let attribute = parsed.attributes.iter().next().unwrap();
        let communities = attribute.communities().unwrap().unwrap();
        assert!(communities.iter().eq(list));
        assert!(
            format!("{parsed:?}")
                .contains("communities: [EIGRP flag 0x0000 tag 5, VRR reserved 0 router 1.1.1.1]")
        );
    }
}
