//! The decoded layers of a frame and how each one prints: as a JSON object and as tshark-like text.

use std::fmt;
use std::net::IpAddr;

use crate::capture::link::{EtherType, LinkHeader, MplsLabels};
use crate::capture::{FragmentInfo, ipv4, ipv6};
use crate::json::Object;
use crate::transport::{Ah, Icmp, Tcp};
use dmvpn_eigrp as eigrp;
use dmvpn_gre as gre;
use dmvpn_isakmp as isakmp;
use dmvpn_nhrp as nhrp;

/// One protocol layer of a frame, borrowed from the decoder for the duration of [`super::Sink::layer`].
#[derive(Clone, Copy)]
#[non_exhaustive]
pub enum Layer<'a> {
    /// The link-layer header.
    Link(LinkLayer<'a>),
    /// An IPv4 header; `fragments` says which frames a reassembled datagram came from.
    Ipv4 {
        /// The header.
        header: &'a ipv4::Repr<'a>,
        /// For a reassembled datagram, its fragments.
        fragments: Option<&'a [FragmentInfo]>,
    },
    /// An IPv4 fragment kept for reassembly (or dropped): what the reassembler said.
    Fragment(&'a dyn fmt::Display),
    /// An IPv6 header.
    Ipv6(&'a ipv6::Repr<'a>),
    /// A UDP header.
    Udp {
        /// Source port.
        src_port: u16,
        /// Destination port.
        dst_port: u16,
        /// Bytes of header and payload.
        len: usize,
    },
    /// A NAT-T keepalive (RFC 3948 §2.3): a single 0xff byte on UDP 4500.
    NatKeepalive,
    /// The four zero bytes before IKE on UDP 4500 (RFC 3948 §2.2).
    NonEspMarker,
    /// An ESP packet, decrypted or not.
    Esp(&'a EspLayer),
    /// An IPsec Authentication Header.
    Ah(&'a Ah),
    /// A GRE header.
    Gre(&'a gre::Repr),
    /// An enhanced GRE header (version 1, RFC 2637 §4.1: PPTP).
    GreEnhanced {
        /// The header.
        header: &'a gre::enhanced::Repr,
        /// The protocol of the PPP frame it carries (0x0021 IPv4, 0xC021 LCP, …), if it does.
        ppp_protocol: Option<u16>,
    },
    /// An MPLS label stack (RFC 3032), outermost entry first.
    Mpls(&'a MplsLabels),
    /// An NHRP packet (cut short by the snapshot length: the CIEs and extensions that are whole).
    Nhrp(&'a nhrp::Repr<'a>),
    /// The fixed header of an NHRP packet cut short before its addresses end.
    NhrpHeader(&'a nhrp::lax::FixedHeader),
    /// An EIGRP packet.
    Eigrp(&'a eigrp::Repr<'a>),
    /// An EIGRP packet whose checksum is wrong, decoded all the same (a router drops it).
    EigrpBadChecksum {
        /// The packet.
        repr: &'a eigrp::Repr<'a>,
        /// The checksum it carries.
        found: u16,
        /// The checksum it should carry.
        computed: u16,
    },
    /// The tunnel nesting limit stopped the decoder here; what follows is reported as data.
    NestingLimit {
        /// How many tunnels deep the decoder follows.
        limit: usize,
    },
    /// An ISAKMP message, IKEv1 or IKEv2, with its decrypted payload chain when the key was known.
    Isakmp(&'a IsakmpLayer<'a>),
    /// An ERSPAN header in GRE (type I has none: its version is reported as 0).
    Erspan(&'a super::encap::Erspan),
    /// A TCP header.
    Tcp(&'a Tcp),
    /// An ICMP header.
    Icmp(&'a Icmp),
    /// The first bytes of a header the capture's snapshot length cut too short to decode.
    Cut {
        /// The protocol of the header (the JSON `"proto"` name).
        proto: &'static str,
        /// How many of its bytes were captured.
        len: usize,
        /// The header fields that were captured whole.
        fields: &'a [CutField],
    },
    /// Bytes no decoder took, reported rather than dropped.
    Data {
        /// What the bytes are (the layer that carried them).
        what: &'static str,
        /// How many bytes.
        len: usize,
    },
    /// A layer that failed to decode; decoding of this frame stops here.
    Error {
        /// The protocol whose decoder failed.
        proto: &'static str,
        /// Why.
        error: &'a dyn fmt::Display,
    },
}

impl fmt::Debug for Layer<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: ", self.proto())?;
        self.info(f)
    }
}

/// A field of a header the snapshot length cut, captured whole (see [`Layer::Cut`]).
#[derive(Clone, Copy, Debug, Eq, PartialEq)]
pub enum CutField {
    /// A number, by its name in the whole layer's JSON.
    Number(&'static str, u64),
    /// An address, by its name in the whole layer's JSON.
    Address(&'static str, IpAddr),
}

/// An ISAKMP message as the decoder saw it.
#[derive(Clone, Copy, Debug)]
pub struct IsakmpLayer<'a> {
    /// The message.
    pub message: &'a isakmp::Message<'a>,
    /// The decrypted payload chain (padding included) of an encrypted message.
    pub plaintext: Option<&'a [u8]>,
    /// Why an encrypted message whose key is known did not decrypt.
    pub decrypt_error: Option<&'a isakmp::crypto::DecryptError>,
    /// The NAT-D payload type agreed earlier in the exchange (draft NAT-T numbering).
    pub nat_d: Option<isakmp::PayloadType>,
    /// Whether the capture's snapshot length cut the message: `message.body` is what was
    /// captured of it, and only the payloads that are whole are listed.
    pub truncated: bool,
    /// For an IKEv2 message, the message as IKEv2 reads it. `message` then has the same header
    /// fields (they lie in the same places, RFC 7296 §3.1) but its payloads are IKEv2's: read
    /// them here, not with [`IsakmpLayer::payloads`].
    pub ikev2: Option<&'a Ikev2Layer<'a>>,
}

/// An IKEv2 message as the decoder saw it.
#[derive(Clone, Copy, Debug)]
pub struct Ikev2Layer<'a> {
    /// The message.
    pub message: &'a isakmp::v2::Message<'a>,
    /// Its SK or SKF payload decrypted (with the ICV result), when the SA's keys are known.
    pub inner: Option<&'a isakmp::v2::Inner>,
    /// The inner chain of the fragmented message this SKF fragment completed (RFC 7383): the
    /// first payload's type and the chain.
    pub reassembled: Option<(isakmp::v2::PayloadType, &'a [u8])>,
    /// Why the SK or SKF payload of an SA whose keys are known did not decrypt.
    pub decrypt_error: Option<&'a isakmp::v2::crypto::DecryptError>,
    /// The SA's line of the `ikev2_decryption_table`, when it has one (key material: never
    /// print it).
    pub key: Option<&'a crate::keys::Ikev2Key>,
}

impl Ikev2Layer<'_> {
    /// The decrypted inner payload chain: of the SK payload, or of a whole fragmented message
    /// (`None` for a fragment that does not complete one, and for a message not decrypted).
    #[must_use]
    pub fn inner_payloads(&self) -> Option<isakmp::v2::Payloads<'_>> {
        if let Some((first, chain)) = self.reassembled {
            return Some(isakmp::v2::Payloads::new(first, chain, 0));
        }
        self.inner
            .filter(|inner| inner.fragment.is_none())
            .map(isakmp::v2::Inner::payloads)
    }

    /// What was done with the ICV of the SK or SKF payload, if it decrypted.
    #[must_use]
    pub fn icv(&self) -> Option<isakmp::v2::crypto::Icv> {
        self.inner.map(|inner| inner.decrypted.icv)
    }
}

impl IsakmpLayer<'_> {
    /// The payload chain: the plaintext one, or the decrypted one (`None` for an encrypted message
    /// whose key is unknown).
    #[must_use]
    pub fn payloads(&self) -> Option<isakmp::Payloads<'_>> {
        match (self.message.payloads_lenient(), self.plaintext) {
            (Some(payloads), _) => Some(payloads),
            (None, Some(plain)) => Some(isakmp::Payloads::decrypted(
                self.message.header.next_payload,
                plain,
                isakmp::header::HEADER_LEN,
            )),
            (None, None) => None,
        }
    }
}

/// The link-layer header and the type of what it carries.
#[derive(Clone, Copy, Debug)]
pub struct LinkLayer<'a> {
    /// The header.
    pub header: &'a LinkHeader,
    /// The EtherType of the payload.
    pub ethertype: EtherType,
}

/// An ESP packet as the decoder saw it.
#[derive(Clone, Copy, Debug, Eq, PartialEq)]
pub struct EspLayer {
    /// Security Parameters Index.
    pub spi: u32,
    /// Sequence number (low 32 bits as on the wire).
    pub seq: u32,
    /// What decryption gave.
    pub status: EspStatus,
    /// Whether the sequence number had been seen before on this SA (anti-replay, RFC 4303 §3.4.3).
    pub replayed: bool,
}

impl EspLayer {
    /// Whether the packet decrypted and verified.
    #[must_use]
    pub const fn decrypted(&self) -> bool {
        matches!(self.status, EspStatus::Decrypted { .. })
    }
}

/// The result of decrypting one ESP packet.
#[derive(Clone, Copy, Debug, Eq, PartialEq)]
pub enum EspStatus {
    /// Decrypted; the ICV verified if the SA has one.
    Decrypted {
        /// The next header of the trailer (47 GRE, 4 IPv4, …).
        next_header: u8,
        /// The pad length of the trailer.
        pad_len: u8,
        /// The SA's ICV: verified, absent, or skipped unchecked.
        icv: Icv,
    },
    /// No key for this SPI and destination.
    NoKey,
    /// The ICV did not verify.
    IcvFailed,
    /// Decrypted, but the trailer is malformed (wrong key or corrupted packet).
    BadTrailer,
    /// Too short for the SA's IV and ICV.
    Truncated,
    /// Cut by the capture's snapshot length: it cannot be decrypted.
    Cut {
        /// Whether the sequence number was captured (if not, [`EspLayer::seq`] is 0).
        seq_captured: bool,
    },
}

/// What was done with the ICV of an ESP packet that decrypted.
#[derive(Clone, Copy, Debug, Eq, PartialEq)]
pub enum Icv {
    /// The SA has an ICV and it verified.
    Good,
    /// The SA has no ICV (no integrity transform).
    None,
    /// The packet has an ICV that was skipped, not verified: the key file gives its length but
    /// not its key (Wireshark's "ANY n bit authentication [no checking]", tcpdump's `-hmac96`).
    Unchecked,
}

impl Icv {
    /// The JSON `"icv"` value: `good`, `none` or `unchecked`.
    #[must_use]
    pub const fn name(self) -> &'static str {
        match self {
            Self::Good => "good",
            Self::None => "none",
            Self::Unchecked => "unchecked",
        }
    }
}

impl EspStatus {
    fn name(self) -> &'static str {
        match self {
            Self::Decrypted {
                icv: Icv::Unchecked,
                ..
            } => "decrypted, ICV unchecked",
            Self::Decrypted { .. } => "decrypted",
            Self::NoKey => "no key",
            Self::IcvFailed => "ICV failed",
            Self::BadTrailer => "bad trailer",
            Self::Truncated | Self::Cut { .. } => "truncated",
        }
    }
}

impl Layer<'_> {
    /// The protocol name used as the JSON `"proto"` value.
    #[must_use]
    pub fn proto(&self) -> &'static str {
        self.names().0
    }

    /// The layer's two names, from one table: the JSON `"proto"` value (also the filters'), and
    /// the protocol column of the text output, the name tshark would show (empty where it shows
    /// none of its own).
    #[inline]
    fn names(&self) -> (&'static str, &'static str) {
        match self {
            Self::Link(link) => {
                let proto = match link.header {
                    LinkHeader::Ethernet(_) => "eth",
                    LinkHeader::Sll(_) => "sll",
                    LinkHeader::Loopback(_) => "loopback",
                    LinkHeader::RawIp => "raw",
                    LinkHeader::Ppp(ppp) if ppp.pppoe.is_some() => "pppoe",
                    LinkHeader::Ppp(_) => "ppp",
                    LinkHeader::CiscoHdlc(_) => "chdlc",
                    LinkHeader::FrameRelay(_) => "fr",
                    LinkHeader::Nflog(_) => "nflog",
                    LinkHeader::Enc(_) => "enc",
                    LinkHeader::Pflog(_) => "pflog",
                };
                (proto, "")
            }
            Self::Erspan(_) => ("erspan", "ERSPAN"),
            Self::Ipv4 { .. } => ("ipv4", "IPv4"),
            Self::Fragment(_) => ("ipv4_fragment", "IPv4"),
            Self::Ipv6(_) => ("ipv6", "IPv6"),
            Self::Udp { .. } => ("udp", "UDP"),
            Self::NatKeepalive => ("natt_keepalive", "UDPENCAP"),
            Self::NonEspMarker => ("non_esp_marker", "UDPENCAP"),
            Self::Esp(_) => ("esp", "ESP"),
            Self::Ah(_) => ("ah", "AH"),
            Self::Gre(_) | Self::GreEnhanced { .. } => ("gre", "GRE"),
            Self::Mpls(_) => ("mpls", "MPLS"),
            Self::NestingLimit { .. } => ("nesting_limit", ""),
            Self::Nhrp(_) | Self::NhrpHeader(_) => ("nhrp", "NHRP"),
            Self::Eigrp(_) | Self::EigrpBadChecksum { .. } => ("eigrp", "EIGRP"),
            Self::Isakmp(_) => ("isakmp", "ISAKMP"),
            Self::Tcp(_) => ("tcp", "TCP"),
            Self::Icmp(_) => ("icmp", "ICMP"),
            Self::Data { .. } => ("data", ""),
            Self::Cut { proto, .. } => (proto, cut_name(proto)),
            Self::Error { proto, .. } => (proto, ""),
        }
    }

    /// Writes the layer as one JSON object.
    pub fn write_json(&self, obj: &mut Object<'_>) {
        obj.str("proto", self.proto());
        match self {
            Self::Link(link) => {
                match link.header {
                    LinkHeader::Ethernet(eth) => {
                        obj.mac("src", &eth.src.0);
                        obj.mac("dst", &eth.dst.0);
                        if !eth.vlans.is_empty() {
                            let mut vlans = obj.array("vlan");
                            for tag in eth.vlans.as_slice() {
                                vlans.u64(u64::from(tag.vid));
                            }
                            vlans.end();
                        }
                        if let Some(pppoe) = eth.pppoe {
                            super::encap::pppoe_json(&pppoe, obj);
                        }
                        if let Some(llc) = eth.llc {
                            super::encap::llc_json(&llc, obj);
                        }
                    }
                    LinkHeader::Sll(sll) => {
                        obj.u64("version", u64::from(sll.version));
                        obj.display("packet_type", &sll.packet_type);
                        obj.mac("src", sll.address.as_bytes());
                        obj.opt_u64("ifindex", sll.interface_index);
                    }
                    LinkHeader::Loopback(lo) => obj.u64("family", u64::from(lo.family)),
                    LinkHeader::RawIp => {}
                    _ => super::encap::link_json(link.header, obj),
                }
                obj.hex_u16("ethertype", link.ethertype.0);
            }
            Self::Ipv4 { header, fragments } => {
                obj.ipv4("src", header.src);
                obj.ipv4("dst", header.dst);
                obj.u64("protocol", u64::from(header.protocol.0));
                obj.u64("ttl", u64::from(header.ttl));
                obj.u64("id", u64::from(header.ident));
                if header.dont_frag {
                    obj.bool("df", true);
                }
                if header.more_frags || header.frag_offset != 0 {
                    obj.bool("mf", header.more_frags);
                    obj.u64("frag_offset", u64::from(header.frag_offset));
                }
                obj.u64("payload_len", header.payload_len as u64);
                if let Some(fragments) = fragments {
                    let mut frames = obj.array("reassembled_from");
                    for fragment in *fragments {
                        frames.u64(fragment.frame);
                    }
                    frames.end();
                }
            }
            Self::Fragment(what) => obj.display("status", what),
            Self::Ipv6(header) => {
                obj.display("src", &header.src);
                obj.display("dst", &header.dst);
                obj.u64("next_header", u64::from(header.protocol.0));
            }
            Self::Udp {
                src_port,
                dst_port,
                len,
            } => {
                obj.u64("sport", u64::from(*src_port));
                obj.u64("dport", u64::from(*dst_port));
                obj.u64("len", *len as u64);
            }
            Self::NatKeepalive | Self::NonEspMarker => {}
            Self::Esp(esp) => {
                obj.hex_u32("spi", esp.spi);
                if esp.status
                    != (EspStatus::Cut {
                        seq_captured: false,
                    })
                {
                    obj.u64("seq", u64::from(esp.seq));
                }
                obj.bool("decrypted", esp.decrypted());
                match esp.status {
                    EspStatus::Decrypted {
                        next_header,
                        pad_len,
                        icv,
                    } => {
                        obj.u64("next_header", u64::from(next_header));
                        obj.u64("pad_len", u64::from(pad_len));
                        obj.str("icv", icv.name());
                    }
                    EspStatus::IcvFailed => obj.str("icv", "bad"),
                    EspStatus::BadTrailer => {
                        // The ICV is checked before decryption: a bad trailer means a wrong key or cipher.
                        obj.str("icv", "good");
                        obj.str("status", "bad trailer");
                    }
                    status => obj.str("status", status.name()),
                }
                if esp.replayed {
                    obj.bool("replayed", true);
                }
            }
            Self::Ah(ah) => {
                obj.hex_u32("spi", ah.spi);
                obj.u64("seq", u64::from(ah.seq));
                obj.u64("next_header", u64::from(ah.next_header));
            }
            Self::Gre(repr) => {
                obj.hex_u16("protocol", repr.protocol.0);
                if let Some(name) = repr.protocol.name() {
                    obj.str("protocol_name", name);
                }
                obj.opt_u64("key", repr.key);
                obj.opt_u64("seq", repr.sequence);
                if repr.checksum {
                    obj.bool("checksum", true);
                }
            }
            Self::Nhrp(repr) => nhrp_json(repr, obj),
            Self::NhrpHeader(header) => {
                obj.u64("op", u64::from(header.op_type.0));
                if let Some(name) = header.op_type.name() {
                    obj.str("op_name", name);
                }
                obj.u64("hop_count", u64::from(header.hop_count));
                obj.u64("packet_size", u64::from(header.packet_size));
            }
            Self::Eigrp(repr) => eigrp_json(repr, obj),
            Self::EigrpBadChecksum {
                repr,
                found,
                computed,
            } => {
                eigrp_json(repr, obj);
                obj.str("checksum", "bad");
                obj.hex_u16("checksum_found", *found);
                obj.hex_u16("checksum_computed", *computed);
            }
            Self::GreEnhanced {
                header,
                ppp_protocol,
            } => super::encap::gre_enhanced_json(header, *ppp_protocol, obj),
            Self::Mpls(labels) => super::encap::mpls_json(labels, obj),
            Self::Erspan(erspan) => super::encap::erspan_json(erspan, obj),
            Self::NestingLimit { limit } => obj.u64("limit", *limit as u64),
            Self::Isakmp(layer) => match layer.ikev2 {
                Some(v2) => super::ike::ikev2_json(v2, obj),
                None => isakmp_json(layer, obj),
            },
            Self::Tcp(tcp) => {
                obj.u64("sport", u64::from(tcp.src_port));
                obj.u64("dport", u64::from(tcp.dst_port));
                obj.display("flags", &tcp.flag_names());
                obj.u64("seq", u64::from(tcp.seq));
                obj.opt_u64("mss", tcp.mss);
            }
            Self::Icmp(icmp) => {
                obj.u64("type", u64::from(icmp.ty));
                obj.u64("code", u64::from(icmp.code));
            }
            Self::Data { what, len } => {
                obj.str("of", what);
                obj.u64("len", *len as u64);
            }
            Self::Cut { len, fields, .. } => {
                for field in *fields {
                    match *field {
                        CutField::Number(name, value) => obj.u64(name, value),
                        CutField::Address(name, address) => obj.display(name, &address),
                    }
                }
                obj.u64("captured", *len as u64);
            }
            Self::Error { error, .. } => obj.display("error", error),
        }
    }

    /// A tshark-like summary of the layer for the text output's info column.
    pub fn info(&self, f: &mut dyn fmt::Write) -> fmt::Result {
        match self {
            Self::Link(link) => super::encap::link_info(link, f),
            Self::Erspan(erspan) => super::encap::erspan_info(erspan, f),
            Self::Ipv4 { header, .. } => {
                write!(f, "IPv4 protocol {}", header.protocol)?;
                if header.more_frags || header.frag_offset != 0 {
                    write!(
                        f,
                        " fragment id={:#06x} offset={}",
                        header.ident,
                        u32::from(header.frag_offset) * 8
                    )?;
                }
                Ok(())
            }
            Self::Fragment(status) => write!(f, "Fragmented IP: {status}"),
            Self::Ipv6(header) => write!(f, "IPv6 next header {}", header.protocol),
            Self::Udp {
                src_port,
                dst_port,
                len,
            } => write!(f, "{src_port} → {dst_port} Len={}", len.saturating_sub(8)),
            Self::NatKeepalive => f.write_str("NAT-keepalive"),
            Self::NonEspMarker => f.write_str("non-ESP marker"),
            Self::Esp(esp) => {
                write!(
                    f,
                    "ESP (SPI={:#010x}) seq={} {}",
                    esp.spi,
                    esp.seq,
                    esp.status.name()
                )?;
                if esp.replayed {
                    f.write_str(" REPLAYED")?;
                }
                Ok(())
            }
            Self::Ah(ah) => write!(f, "AH (SPI={:#010x}) seq={}", ah.spi, ah.seq),
            Self::Gre(repr) => {
                write!(f, "GRE {}", repr.protocol)?;
                if let Some(key) = repr.key {
                    write!(f, " key={key}")?;
                }
                Ok(())
            }
            Self::Tcp(tcp) => {
                write!(
                    f,
                    "{} → {} [{}] Seq={}",
                    tcp.src_port,
                    tcp.dst_port,
                    tcp.flag_names(),
                    tcp.seq
                )?;
                if let Some(mss) = tcp.mss {
                    write!(f, " MSS={mss}")?;
                }
                Ok(())
            }
            Self::Nhrp(repr) => nhrp_info(repr, f),
            Self::NhrpHeader(header) => f.write_str(
                header
                    .op_type
                    .description()
                    .unwrap_or("NHRP (unknown packet type)"),
            ),
            Self::Eigrp(repr) => write!(f, "{repr}"),
            Self::EigrpBadChecksum {
                repr,
                found,
                computed,
            } => write!(
                f,
                "{repr} [BAD CHECKSUM {found:#06x}, should be {computed:#06x}]"
            ),
            Self::GreEnhanced {
                header,
                ppp_protocol,
            } => super::encap::gre_enhanced_info(header, *ppp_protocol, f),
            Self::Mpls(labels) => super::encap::mpls_info(labels, f),
            Self::NestingLimit { limit } => write!(
                f,
                "nesting limit ({limit} tunnels) reached: not decoded further"
            ),
            Self::Isakmp(layer) if layer.truncated => isakmp_cut_info(layer.message, f),
            Self::Isakmp(IsakmpLayer {
                ikev2: Some(v2), ..
            }) => super::ike::ikev2_info(v2, f),
            Self::Isakmp(layer) => {
                write!(
                    f,
                    "{}",
                    layer
                        .message
                        .summary(layer.plaintext)
                        .with_nat_d(layer.nat_d)
                )?;
                if let Some(error) = layer.decrypt_error {
                    write!(f, " [{error}]")?;
                }
                Ok(())
            }
            Self::Icmp(icmp) => write!(f, "{}", icmp.summary()),
            Self::Data { what, len } => write!(f, "{len} bytes of {what}"),
            Self::Cut { proto, len, .. } => {
                write!(f, "{} ({len} bytes captured)", cut_name(proto))
            }
            Self::Error { proto, error } => write!(f, "[Malformed {proto}: {error}]"),
        }
    }

    /// The protocol column of the text output: the name tshark would show for this layer.
    #[must_use]
    pub fn column_name(&self) -> &'static str {
        self.names().1
    }
}

/// The info column of an ISAKMP message the snapshot length cut: its header and the payloads
/// that were captured whole (an encrypted body cannot be decrypted).
fn isakmp_cut_info(message: &isakmp::Message<'_>, f: &mut dyn fmt::Write) -> fmt::Result {
    let header = &message.header;
    let exchange = header.exchange_type;
    let name = exchange_name(header);
    write!(
        f,
        "ISAKMP {} i={} r={} mid={:#010x}",
        name.unwrap_or("exchange"),
        dmvpn_wire::fmt::Hex(&header.initiator_cookie),
        dmvpn_wire::fmt::Hex(&header.responder_cookie),
        header.message_id
    )?;
    if name.is_none() {
        write!(f, " exchange={}", exchange.0)?;
    }
    if header.flags.0 != 0 {
        write!(f, " flags={}", header.flags)?;
    }
    if header.version >> 4 == 2 {
        for body in cut_ikev2_payloads(message).map_while(|p| p.and_then(|p| p.decode()).ok()) {
            write!(f, " {body}")?;
        }
        return Ok(());
    }
    let Some(payloads) = message.payloads() else {
        return write!(f, " encrypted, {} bytes captured", message.body.len());
    };
    let context = message.context(None);
    for body in payloads.map_while(|payload| payload.and_then(|p| p.decode(context)).ok()) {
        write!(f, " {body}")?;
    }
    Ok(())
}

/// The IKEv2 payload chain of a message the snapshot length cut (it ends at SK or SKF, whose
/// next-payload field names the first encrypted payload).
fn cut_ikev2_payloads<'a>(message: &isakmp::Message<'a>) -> isakmp::v2::Payloads<'a> {
    let first = isakmp::v2::PayloadType(message.header.next_payload.0);
    isakmp::v2::Payloads::new(first, message.body, isakmp::header::HEADER_LEN)
}

/// The name of the exchange type in the registry of the header's major version (the snapshot-cut
/// decoder shows IKEv2 headers in the IKEv1-shaped [`isakmp::Header`]).
fn exchange_name(header: &isakmp::Header) -> Option<&'static str> {
    if header.version >> 4 == 2 {
        isakmp::v2::ExchangeType(header.exchange_type.0).name()
    } else {
        header.exchange_type.name()
    }
}

/// The protocol column's name for a [`Layer::Cut`] header.
fn cut_name(proto: &str) -> &'static str {
    match proto {
        "ipv4" => "IPv4",
        "ipv6" => "IPv6",
        "udp" => "UDP",
        "tcp" => "TCP",
        "icmp" => "ICMP",
        "esp" => "ESP",
        "ah" => "AH",
        "gre" => "GRE",
        "nhrp" => "NHRP",
        "eigrp" => "EIGRP",
        "isakmp" => "ISAKMP",
        _ => "",
    }
}

/// An NHRP code as every message type writes it: `code=Success (0)`, `code=Unknown (77)`.
struct Code(Option<&'static str>, u16);

impl fmt::Display for Code {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "code={} ({})", self.0.unwrap_or("Unknown"), self.1)
    }
}

/// The info column of an NHRP packet: its type, request ID and, in a reply, each CIE's code; in an
/// Error Indication its error code and the request ID of the packet in error (as far as quoted).
fn nhrp_info(repr: &nhrp::Repr<'_>, f: &mut dyn fmt::Write) -> fmt::Result {
    let op = repr.message.op_type();
    f.write_str(op.description().unwrap_or("NHRP"))?;
    match &repr.message {
        nhrp::Message::ErrorIndication(error) => {
            let code = error.code;
            write!(f, ", {}", Code(code.canonical().description(), code.0))?;
            if let Some(id) = error.quoted_request_id() {
                write!(f, ", ID={id}")?;
            }
            Ok(())
        }
        nhrp::Message::TrafficIndication(indication) => {
            write!(f, ", traffic code={}", indication.code.0)
        }
        message => {
            let Some(control) = message.control() else {
                return Ok(());
            };
            write!(f, ", ID={}", control.request_id)?;
            if op.is_reply() {
                for cie in control.cies.iter() {
                    let code = cie.code;
                    let text = code.canonical().description();
                    write!(f, ", {}", Code(text, u16::from(code.0)))?;
                }
            }
            Ok(())
        }
    }
}

/// An NHRP packet as JSON: header, mandatory part, CIEs and extensions.
fn nhrp_json(repr: &nhrp::Repr<'_>, obj: &mut Object<'_>) {
    let op = repr.message.op_type();
    obj.u64("op", u64::from(op.0));
    if let Some(name) = op.name() {
        obj.str("op_name", name);
    }
    obj.u64("hop_count", u64::from(repr.hop_count));
    obj.display("src_nbma", &repr.src_nbma.display());
    obj.display("src_proto", &nhrp::Address(repr.src_proto));
    obj.display("dst_proto", &nhrp::Address(repr.dst_proto));
    match &repr.message {
        nhrp::Message::ErrorIndication(error) => {
            obj.u64("error_code", u64::from(error.code.0));
            obj.display("error", &error.code);
            obj.u64("error_offset", u64::from(error.offset));
            obj.u64("errored_packet_len", error.packet.len() as u64);
            if let Ok(errored) = error.parse_packet() {
                obj.u64("errored_op", u64::from(errored.message.op_type().0));
                if let Some(id) = errored.request_id() {
                    obj.u64("errored_request_id", u64::from(id));
                }
            }
        }
        nhrp::Message::TrafficIndication(indication) => {
            obj.u64("traffic_code", u64::from(indication.code.0));
            obj.u64("triggering_packet_len", indication.packet.len() as u64);
        }
        message => {
            if let Some(control) = message.control() {
                obj.u64("request_id", u64::from(control.request_id));
                obj.hex_u16("flags", control.flags.0);
                let mut cies = obj.array("cies");
                for cie in control.cies.iter() {
                    cie_json(&cie, cies.object());
                }
                cies.end();
            }
        }
    }
    if let Some(extensions) = &repr.extensions {
        let mut list = obj.array("extensions");
        for extension in extensions.iter() {
            let mut ext = list.object();
            let ty = extension.value.ty();
            ext.u64("type", u64::from(ty.0));
            if let Some(name) = ty.name() {
                ext.str("name", name);
            }
            ext.bool("compulsory", extension.compulsory);
            match extension.value {
                nhrp::extension::Value::ResponderAddress(cies)
                | nhrp::extension::Value::ForwardTransitNhsRecord(cies)
                | nhrp::extension::Value::ReverseTransitNhsRecord(cies)
                | nhrp::extension::Value::CiscoNatAddress(cies) => {
                    let mut array = ext.array("cies");
                    for cie in cies.iter() {
                        cie_json(&cie, array.object());
                    }
                    array.end();
                }
                nhrp::extension::Value::VendorPrivate { vendor, data } => {
                    ext.hex_u32("vendor", vendor);
                    ext.u64("len", data.len() as u64);
                }
                // Authentication data is a secret: only its length is shown.
                nhrp::extension::Value::Authentication(_) => {
                    ext.u64("len", extension.buffer_len() as u64)
                }
                _ => {}
            }
            ext.end();
        }
        list.end();
    }
}

fn cie_json(cie: &nhrp::cie::Repr<'_>, mut obj: Object<'_>) {
    obj.u64("code", u64::from(cie.code.0));
    obj.u64("prefix_len", u64::from(cie.prefix_len));
    obj.u64("mtu", u64::from(cie.mtu));
    obj.u64("holding_time", u64::from(cie.holding_time));
    if !cie.nbma.bytes.is_empty() {
        obj.display("nbma", &cie.nbma.display());
    }
    if !cie.proto.is_empty() {
        obj.display("proto", &nhrp::Address(cie.proto));
    }
    obj.end();
}

/// An EIGRP packet as JSON: header, TLV types and routes.
fn eigrp_json(repr: &eigrp::Repr<'_>, obj: &mut Object<'_>) {
    obj.u64("opcode", u64::from(repr.opcode.0));
    if let Some(name) = repr.opcode.name() {
        obj.str("opcode_name", name);
    }
    obj.u64("as", u64::from(repr.autonomous_system));
    obj.hex_u32("flags", repr.flags.0);
    obj.u64("seq", u64::from(repr.sequence));
    obj.u64("ack", u64::from(repr.ack));
    let mut types = obj.array("tlvs");
    for tlv in repr.tlvs.iter() {
        types.u64(u64::from(tlv.ty().0));
    }
    types.end();
    let mut routes = obj.array("routes");
    for route in repr.routes() {
        let mut entry = routes.object();
        entry.display("prefix", &route.destination.prefix);
        entry.u64("prefix_len", u64::from(route.destination.prefix_len));
        entry.display("next_hop", &route.next_hop);
        entry.bool("unreachable", route.metric.is_unreachable());
        super::encap::route_json(&route, &mut entry);
        entry.end();
    }
    routes.end();
    // The wide-metric Community attributes (RFC 7868 §6.4), decoded, only when there are any.
    let communities = repr.tlvs.iter().flat_map(|tlv| match tlv {
        eigrp::tlv::Tlv::Wide(route) => Some(route.attributes.iter()),
        _ => None,
    });
    let mut communities = communities
        .flatten()
        .filter_map(|attribute| attribute.communities()?.ok())
        .flat_map(|list| list.iter())
        .peekable();
    if communities.peek().is_some() {
        let mut array = obj.array("communities");
        for community in communities {
            array.display(&community);
        }
        array.end();
    }
}

/// An ISAKMP message as JSON: header, and the payload types of the plaintext or decrypted chain.
fn isakmp_json(layer: &IsakmpLayer<'_>, obj: &mut Object<'_>) {
    let message = layer.message;
    let header = &message.header;
    if header.version >> 4 == 2 {
        // An IKEv2 header the snapshot length cut (a whole one is written by `ikev2_json`).
        obj.u64("version", 2);
    }
    obj.hex("icookie", &header.initiator_cookie);
    obj.hex("rcookie", &header.responder_cookie);
    obj.u64("exchange", u64::from(header.exchange_type.0));
    if let Some(name) = exchange_name(header) {
        obj.str("exchange_name", name);
    }
    obj.hex_u16("flags", u16::from(header.flags.0));
    obj.hex_u32("message_id", header.message_id);
    obj.u64("length", u64::from(header.length));
    obj.bool("encrypted", message.is_encrypted());
    if message.is_encrypted() {
        obj.bool("decrypted", layer.plaintext.is_some());
    }
    if let Some(error) = layer.decrypt_error {
        obj.display("decrypt_error", error);
    }
    if layer.truncated {
        // Cut by the snapshot length: the payload types whose generic headers were captured.
        if header.version >> 4 == 2 {
            let mut array = obj.array("payloads");
            for payload in cut_ikev2_payloads(message).map_while(Result::ok) {
                array.u64(u64::from(payload.ty.0));
            }
            array.end();
        } else if let Some(payloads) = message.payloads() {
            let mut array = obj.array("payloads");
            for payload in payloads.map_while(Result::ok) {
                array.u64(u64::from(payload.ty.0));
            }
            array.end();
        }
    } else if let Some(payloads) = layer.payloads() {
        let mut context = message.context(layer.nat_d);
        context.nat_d = isakmp::message::learn_nat_d(payloads.clone(), context.nat_d);
        match isakmp::message::flat_payload_types(payloads, context) {
            Ok(types) => {
                let mut array = obj.array("payloads");
                for ty in types {
                    array.u64(u64::from(ty));
                }
                array.end();
            }
            Err(error) => obj.display("payload_error", &error),
        }
        // Bytes after the last payload, inside the header's length (tshark's "Extra data").
        if let Some((offset, trailer)) = message.chain_trailer() {
            obj.u64("trailer_offset", offset as u64);
            obj.u64("trailer_len", trailer.len() as u64);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use eigrp::tlv::{
        Attributes, Communities, CommunityValue, Destination, Destinations, Family, Tlv,
        WideMetric, WideRoute,
    };

    fn json(repr: &eigrp::Repr<'_>) -> serde_json::Value {
        let mut out = Vec::new();
        let mut obj = Object::begin(&mut out);
        eigrp_json(repr, &mut obj);
        obj.end();
        serde_json::from_slice(&out).unwrap()
    }

    #[test]
    fn eigrp_wide_route_communities() {
        let list = [
            CommunityValue::Eigrp { flag: 0, tag: 5 }.encode(),
            CommunityValue::Distance {
                asn: 100,
                delay: 25_600,
            }
            .encode(),
        ];
        let mut attributes = [0; Communities::attribute_len(2)];
        Communities::emit_attribute(&list, &mut attributes).unwrap();
        let destinations = [Destination {
            prefix_len: 24,
            prefix: "10.1.2.0".parse().unwrap(),
        }];
        let route = |attributes| {
            Tlv::Wide(WideRoute {
                topology_id: 0,
                router_id: 0x0101_0101,
                metric: WideMetric::default(),
                attributes,
                next_hop: "0.0.0.0".parse().unwrap(),
                external: None,
                destinations: Destinations::new(Family::Ipv4, &destinations),
            })
        };
        let with = [route(Attributes::new(&attributes, 0).unwrap())];
        let repr = |tlvs| eigrp::Repr {
            opcode: eigrp::OpCode::UPDATE,
            flags: eigrp::Flags(0),
            sequence: 1,
            ack: 0,
            virtual_router_id: 0,
            autonomous_system: 100,
            tlvs,
        };
        let value = json(&repr(eigrp::Tlvs::new(&with)));
        assert_eq!(value["routes"][0]["prefix"], "10.1.2.0");
        assert_eq!(
            value["communities"],
            serde_json::json!([list[0].to_string(), list[1].to_string()])
        );
        assert_eq!(list[1].to_string(), "DAD AS 100 delay 25600");
        // No attribute, no field.
        let without = [route(Attributes::new(&[], 0).unwrap())];
        assert!(
            json(&repr(eigrp::Tlvs::new(&without)))
                .get("communities")
                .is_none()
        );
    }
}
