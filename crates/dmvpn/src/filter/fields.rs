//! The fields a display filter can name (tshark's names), and how each is read from a frame's
//! decoded layers.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use crate::capture::Frame;
use crate::capture::link::LinkHeader;
use crate::decode::{CutField, Layer};

/// What a field holds, which decides how a value in the filter is read.
#[derive(Clone, Copy, Debug, Eq, PartialEq)]
pub(crate) enum Kind {
    /// A protocol: it can only be tested for presence.
    Proto,
    /// An unsigned integer.
    Uint,
    /// A boolean (compared with 1/0, True/False).
    Bool,
    /// An IPv4 address.
    Ipv4,
    /// An IPv6 address.
    Ipv6,
    /// A MAC address.
    Mac,
    /// A byte string (ISAKMP cookies).
    Bytes,
}

/// One field: tshark's name and its kind.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Def {
    pub(crate) name: &'static str,
    pub(crate) kind: Kind,
}

const fn def(name: &'static str, kind: Kind) -> Def {
    Def { name, kind }
}

/// A field, by its position in [`FIELDS`].
pub(crate) type Id = u8;

macro_rules! fields {
    ($($id:ident = $name:literal $kind:ident,)*) => {
        /// Every field, by position.
        pub(crate) const FIELDS: &[Def] = &[$(def($name, Kind::$kind)),*];
        #[allow(non_camel_case_types, clippy::upper_case_acronyms, dead_code)]
        #[repr(u8)]
        enum Position { $($id),* }
        $(
            #[allow(dead_code)]
            const $id: Id = Position::$id as Id;
        )*
    };
}

fields! {
    FRAME = "frame" Proto,
    FRAME_NUMBER = "frame.number" Uint,
    FRAME_LEN = "frame.len" Uint,
    FRAME_CAP_LEN = "frame.cap_len" Uint,
    ETH = "eth" Proto,
    ETH_SRC = "eth.src" Mac,
    ETH_DST = "eth.dst" Mac,
    ETH_ADDR = "eth.addr" Mac,
    ETH_TYPE = "eth.type" Uint,
    VLAN = "vlan" Proto,
    VLAN_ID = "vlan.id" Uint,
    SLL = "sll" Proto,
    MPLS = "mpls" Proto,
    MPLS_LABEL = "mpls.label" Uint,
    IP = "ip" Proto,
    IP_SRC = "ip.src" Ipv4,
    IP_DST = "ip.dst" Ipv4,
    IP_ADDR = "ip.addr" Ipv4,
    IP_PROTO = "ip.proto" Uint,
    IP_TTL = "ip.ttl" Uint,
    IP_ID = "ip.id" Uint,
    IP_DF = "ip.flags.df" Bool,
    IP_MF = "ip.flags.mf" Bool,
    IP_FRAG_OFFSET = "ip.frag_offset" Uint,
    IPV6 = "ipv6" Proto,
    IPV6_SRC = "ipv6.src" Ipv6,
    IPV6_DST = "ipv6.dst" Ipv6,
    IPV6_ADDR = "ipv6.addr" Ipv6,
    IPV6_NXT = "ipv6.nxt" Uint,
    IPV6_HLIM = "ipv6.hlim" Uint,
    UDP = "udp" Proto,
    UDP_SRCPORT = "udp.srcport" Uint,
    UDP_DSTPORT = "udp.dstport" Uint,
    UDP_PORT = "udp.port" Uint,
    UDP_LENGTH = "udp.length" Uint,
    TCP = "tcp" Proto,
    TCP_SRCPORT = "tcp.srcport" Uint,
    TCP_DSTPORT = "tcp.dstport" Uint,
    TCP_PORT = "tcp.port" Uint,
    TCP_FLAGS = "tcp.flags" Uint,
    ICMP = "icmp" Proto,
    ICMP_TYPE = "icmp.type" Uint,
    ICMP_CODE = "icmp.code" Uint,
    ESP = "esp" Proto,
    ESP_SPI = "esp.spi" Uint,
    ESP_SEQUENCE = "esp.sequence" Uint,
    AH = "ah" Proto,
    AH_SPI = "ah.spi" Uint,
    AH_SEQUENCE = "ah.sequence" Uint,
    GRE = "gre" Proto,
    GRE_PROTO = "gre.proto" Uint,
    GRE_KEY = "gre.key" Uint,
    NHRP = "nhrp" Proto,
    NHRP_OP_TYPE = "nhrp.hdr.op.type" Uint,
    NHRP_AFN = "nhrp.hdr.afn" Uint,
    NHRP_PRO_TYPE = "nhrp.hdr.pro.type" Uint,
    NHRP_HOPCNT = "nhrp.hdr.hopcnt" Uint,
    NHRP_REQID = "nhrp.reqid" Uint,
    NHRP_SRC_NBMA = "nhrp.src.nbma.addr" Ipv4,
    NHRP_SRC_PROT = "nhrp.src.prot.addr" Ipv4,
    NHRP_DST_PROT = "nhrp.dst.prot.addr" Ipv4,
    NHRP_CODE = "nhrp.code" Uint,
    NHRP_PREFIX = "nhrp.prefix" Uint,
    NHRP_MTU = "nhrp.mtu" Uint,
    NHRP_HTIME = "nhrp.htime" Uint,
    NHRP_CLIENT_NBMA = "nhrp.client.nbma.addr" Ipv4,
    NHRP_CLIENT_PROT = "nhrp.client.prot.addr" Ipv4,
    NHRP_ERR_CODE = "nhrp.err.code" Uint,
    EIGRP = "eigrp" Proto,
    EIGRP_OPCODE = "eigrp.opcode" Uint,
    EIGRP_AS = "eigrp.as" Uint,
    EIGRP_SEQ = "eigrp.seq" Uint,
    EIGRP_ACK = "eigrp.ack" Uint,
    ISAKMP = "isakmp" Proto,
    ISAKMP_ISPI = "isakmp.ispi" Bytes,
    ISAKMP_RSPI = "isakmp.rspi" Bytes,
    ISAKMP_NEXTPAYLOAD = "isakmp.nextpayload" Uint,
    ISAKMP_VERSION = "isakmp.version" Uint,
    ISAKMP_EXCHANGETYPE = "isakmp.exchangetype" Uint,
    ISAKMP_MESSAGEID = "isakmp.messageid" Uint,
}

/// Looks a field up by its name.
pub(crate) fn lookup(name: &str) -> Option<Id> {
    FIELDS
        .iter()
        .position(|field| field.name == name)
        .and_then(|index| Id::try_from(index).ok())
}

/// The field's definition.
pub(crate) fn def_of(id: Id) -> Def {
    FIELDS
        .get(usize::from(id))
        .copied()
        .unwrap_or(def("frame", Kind::Proto))
}

/// The known names closest to `name` (edit distance), best first, at most three.
pub(crate) fn close_to(name: &str) -> Vec<&'static str> {
    let limit = (name.chars().count() / 3).clamp(1, 3);
    let mut close: Vec<(usize, &'static str)> = FIELDS
        .iter()
        .map(|field| {
            // A name cut short (`nhrp.src.nbma`) is close to the names it starts.
            let d = if field.name.starts_with(name) && !name.is_empty() {
                1
            } else {
                distance(name, field.name)
            };
            (d, field.name)
        })
        .filter(|&(d, _)| d <= limit)
        .collect();
    // Names that start the same way (`ip.` for `ip.adr`) are worth naming too.
    if close.is_empty()
        && let Some((proto, _)) = name.split_once('.')
    {
        close.extend(
            FIELDS
                .iter()
                .filter(|field| {
                    field.kind != Kind::Proto
                        && field.name.split_once('.').is_some_and(|(p, _)| p == proto)
                })
                .map(|field| (usize::MAX, field.name)),
        );
    }
    close.sort_by_key(|&(d, name)| (d, name));
    close.into_iter().take(3).map(|(_, name)| name).collect()
}

/// Levenshtein distance over characters (names are short: the two-row table is tiny).
fn distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut previous: Vec<usize> = (0..=b.len()).collect();
    let mut current = vec![0; b.len() + 1];
    for (i, ca) in a.chars().enumerate() {
        current[0] = i + 1;
        for (j, &cb) in b.iter().enumerate() {
            let substitute = previous[j] + usize::from(ca != cb);
            current[j + 1] = substitute.min(previous[j + 1] + 1).min(current[j] + 1);
        }
        core::mem::swap(&mut previous, &mut current);
    }
    previous[b.len()]
}

/// One occurrence of a field in a frame.
#[derive(Clone, Copy, Debug, Eq, PartialEq)]
pub(crate) enum Value {
    /// Present (protocols).
    Present,
    /// A number (integers and booleans).
    Uint(u64),
    /// An IPv4 address.
    Ipv4(Ipv4Addr),
    /// An IPv6 address.
    Ipv6(Ipv6Addr),
    /// A MAC address.
    Mac([u8; 6]),
    /// Eight bytes (ISAKMP cookies).
    Cookie([u8; 8]),
}

/// A set of fields, as a bit mask over [`FIELDS`] (fewer than 128).
#[derive(Clone, Copy, Debug, Default, Eq, PartialEq)]
pub(crate) struct Mask(u128);

impl Mask {
    pub(crate) const fn insert(&mut self, id: Id) {
        if id < 128 {
            self.0 |= 1 << id;
        }
    }

    const fn has(self, id: Id) -> bool {
        id < 128 && self.0 & (1 << id) != 0
    }

    const fn any(self, ids: &[Id]) -> bool {
        let mut i = 0;
        while i < ids.len() {
            if self.has(ids[i]) {
                return true;
            }
            i += 1;
        }
        false
    }
}

/// The values of the fields a filter needs, collected from one frame's layers.
#[derive(Debug, Default)]
pub(crate) struct Values {
    wanted: Mask,
    values: Vec<(Id, Value)>,
}

impl Values {
    pub(crate) fn new(wanted: Mask) -> Self {
        Self {
            wanted,
            values: Vec::with_capacity(32),
        }
    }

    /// Every occurrence of `id` in the frame.
    pub(crate) fn of(&self, id: Id) -> impl Iterator<Item = Value> + '_ {
        self.values
            .iter()
            .filter(move |(field, _)| *field == id)
            .map(|&(_, value)| value)
    }

    fn push(&mut self, id: Id, value: Value) {
        // No filter names more than a few fields; a frame has a few dozen occurrences at most.
        // The bound keeps a pathological frame from growing the vector without limit.
        if self.wanted.has(id) && self.values.len() < 4096 {
            self.values.push((id, value));
        }
    }

    /// Adds an occurrence (for tests and the fuzz target).
    #[cfg(any(test, feature = "fuzzing"))]
    pub(crate) fn push_value(&mut self, id: Id, value: Value) {
        self.push(id, value);
    }

    fn uint(&mut self, id: Id, value: impl Into<u64>) {
        self.push(id, Value::Uint(value.into()));
    }

    fn proto(&mut self, id: Id) {
        self.push(id, Value::Present);
    }

    /// A cut frame's `src` or `dst` address: its own field (`ids` are source, destination and
    /// either) and the either-way one.
    fn address(&mut self, name: &str, ids: [Id; 3], value: Value) {
        let [src, dst, either] = ids;
        let id = match name {
            "src" => src,
            "dst" => dst,
            _ => return,
        };
        self.push(id, value);
        self.push(either, value);
    }

    fn ipv4(&mut self, ids: [Id; 3], src: Ipv4Addr, dst: Ipv4Addr) {
        let [s, d, addr] = ids;
        self.push(s, Value::Ipv4(src));
        self.push(d, Value::Ipv4(dst));
        self.push(addr, Value::Ipv4(src));
        self.push(addr, Value::Ipv4(dst));
    }

    fn ipv6(&mut self, src: Ipv6Addr, dst: Ipv6Addr) {
        self.push(IPV6_SRC, Value::Ipv6(src));
        self.push(IPV6_DST, Value::Ipv6(dst));
        self.push(IPV6_ADDR, Value::Ipv6(src));
        self.push(IPV6_ADDR, Value::Ipv6(dst));
    }

    fn ports(&mut self, ids: [Id; 3], src: u16, dst: u16) {
        let [s, d, port] = ids;
        self.uint(s, src);
        self.uint(d, dst);
        self.uint(port, src);
        self.uint(port, dst);
    }

    fn nbma(&mut self, id: Id, bytes: &[u8]) {
        if let Ok(octets) = <[u8; 4]>::try_from(bytes) {
            self.push(id, Value::Ipv4(Ipv4Addr::from(octets)));
        }
    }

    /// A new frame: forget the last one's values, take the frame's own fields.
    pub(crate) fn frame_start(&mut self, frame: &Frame<'_>) {
        self.values.clear();
        self.proto(FRAME);
        self.uint(FRAME_NUMBER, frame.number);
        self.uint(FRAME_LEN, frame.original_len);
        self.uint(FRAME_CAP_LEN, frame.data.len() as u64);
    }

    /// Takes the fields of one layer.
    #[allow(clippy::too_many_lines)]
    pub(crate) fn layer(&mut self, layer: &Layer<'_>) {
        match layer {
            Layer::Link(link) => match link.header {
                LinkHeader::Ethernet(eth) => {
                    self.proto(ETH);
                    self.push(ETH_SRC, Value::Mac(eth.src.0));
                    self.push(ETH_DST, Value::Mac(eth.dst.0));
                    self.push(ETH_ADDR, Value::Mac(eth.src.0));
                    self.push(ETH_ADDR, Value::Mac(eth.dst.0));
                    // tshark's eth.type is the EtherType after the MAC addresses: the first VLAN
                    // tag's TPID when there is one.
                    let ethertype = eth
                        .vlans
                        .as_slice()
                        .first()
                        .map_or(link.ethertype.0, |tag| tag.tpid.0);
                    self.uint(ETH_TYPE, ethertype);
                    for tag in eth.vlans.as_slice() {
                        self.proto(VLAN);
                        self.uint(VLAN_ID, tag.vid);
                    }
                }
                LinkHeader::Sll(_) => self.proto(SLL),
                // Loopback, raw IP and the rest name no field a filter can use.
                _ => {}
            },
            Layer::Ipv4 { header, .. } => {
                self.proto(IP);
                self.ipv4([IP_SRC, IP_DST, IP_ADDR], header.src, header.dst);
                self.uint(IP_PROTO, header.protocol.0);
                self.uint(IP_TTL, header.ttl);
                self.uint(IP_ID, header.ident);
                self.uint(IP_DF, header.dont_frag);
                self.uint(IP_MF, header.more_frags);
                // tshark shows the offset in bytes.
                self.uint(IP_FRAG_OFFSET, u64::from(header.frag_offset) * 8);
            }
            Layer::Ipv6(header) => {
                self.proto(IPV6);
                self.ipv6(header.src, header.dst);
                self.uint(IPV6_NXT, header.next_header.0);
                self.uint(IPV6_HLIM, header.hop_limit);
            }
            Layer::Udp {
                src_port,
                dst_port,
                len,
            } => {
                self.proto(UDP);
                self.ports([UDP_SRCPORT, UDP_DSTPORT, UDP_PORT], *src_port, *dst_port);
                self.uint(UDP_LENGTH, *len as u64);
            }
            Layer::Tcp(tcp) => {
                self.proto(TCP);
                self.ports(
                    [TCP_SRCPORT, TCP_DSTPORT, TCP_PORT],
                    tcp.src_port,
                    tcp.dst_port,
                );
                self.uint(TCP_FLAGS, tcp.flags);
            }
            Layer::Icmp(icmp) => {
                self.proto(ICMP);
                self.uint(ICMP_TYPE, icmp.ty);
                self.uint(ICMP_CODE, icmp.code);
            }
            Layer::Esp(esp) => {
                self.proto(ESP);
                self.uint(ESP_SPI, esp.spi);
                if esp.status
                    != (crate::decode::EspStatus::Cut {
                        seq_captured: false,
                    })
                {
                    self.uint(ESP_SEQUENCE, esp.seq);
                }
            }
            Layer::Ah(ah) => {
                self.proto(AH);
                self.uint(AH_SPI, ah.spi);
                self.uint(AH_SEQUENCE, ah.seq);
            }
            Layer::Gre(gre) => {
                self.proto(GRE);
                self.uint(GRE_PROTO, gre.protocol.0);
                if let Some(key) = gre.key {
                    self.uint(GRE_KEY, key);
                }
            }
            Layer::GreEnhanced { .. } => {
                self.proto(GRE);
                self.uint(GRE_PROTO, 0x880b_u16);
            }
            Layer::Mpls(labels) => {
                for entry in labels.as_slice() {
                    self.proto(MPLS);
                    self.uint(MPLS_LABEL, entry.label);
                }
            }
            Layer::Nhrp(nhrp) => self.nhrp(nhrp),
            Layer::NhrpHeader(header) => {
                self.proto(NHRP);
                self.uint(NHRP_OP_TYPE, header.op_type.0);
                self.uint(NHRP_AFN, header.afn.0);
                self.uint(NHRP_PRO_TYPE, header.protocol_type.0);
                self.uint(NHRP_HOPCNT, header.hop_count);
            }
            Layer::Eigrp(repr) | Layer::EigrpBadChecksum { repr, .. } => {
                self.proto(EIGRP);
                self.uint(EIGRP_OPCODE, repr.opcode.0);
                self.uint(EIGRP_AS, repr.autonomous_system);
                self.uint(EIGRP_SEQ, repr.sequence);
                self.uint(EIGRP_ACK, repr.ack);
            }
            Layer::Isakmp(isakmp) => {
                let header = &isakmp.message.header;
                self.proto(ISAKMP);
                self.push(ISAKMP_ISPI, Value::Cookie(header.initiator_cookie));
                self.push(ISAKMP_RSPI, Value::Cookie(header.responder_cookie));
                self.uint(ISAKMP_NEXTPAYLOAD, header.next_payload.0);
                self.uint(ISAKMP_VERSION, header.version);
                self.uint(ISAKMP_EXCHANGETYPE, header.exchange_type.0);
                self.uint(ISAKMP_MESSAGEID, header.message_id);
            }
            Layer::Cut { proto, fields, .. } => self.cut(proto, fields),
            Layer::Error { proto, .. } => {
                if let Some(id) = proto_id(proto) {
                    self.proto(id);
                }
            }
            Layer::Fragment(_)
            | Layer::NatKeepalive
            | Layer::NonEspMarker
            | Layer::NestingLimit { .. }
            | Layer::Data { .. } => {}
            #[allow(unreachable_patterns)]
            _ => {}
        }
    }

    fn nhrp(&mut self, nhrp: &dmvpn_nhrp::Repr<'_>) {
        if !self.wanted.any(&[
            NHRP,
            NHRP_OP_TYPE,
            NHRP_AFN,
            NHRP_PRO_TYPE,
            NHRP_HOPCNT,
            NHRP_REQID,
            NHRP_SRC_NBMA,
            NHRP_SRC_PROT,
            NHRP_DST_PROT,
            NHRP_CODE,
            NHRP_PREFIX,
            NHRP_MTU,
            NHRP_HTIME,
            NHRP_CLIENT_NBMA,
            NHRP_CLIENT_PROT,
            NHRP_ERR_CODE,
        ]) {
            return;
        }
        self.proto(NHRP);
        self.uint(NHRP_OP_TYPE, nhrp.message.op_type().0);
        self.uint(NHRP_AFN, nhrp.afn.0);
        self.uint(NHRP_PRO_TYPE, nhrp.protocol_type.0);
        self.uint(NHRP_HOPCNT, nhrp.hop_count);
        self.nbma(NHRP_SRC_NBMA, nhrp.src_nbma.bytes);
        self.nbma(NHRP_SRC_PROT, nhrp.src_proto);
        self.nbma(NHRP_DST_PROT, nhrp.dst_proto);
        if let Some(control) = nhrp.message.control() {
            self.uint(NHRP_REQID, control.request_id);
            for cie in control.cies.iter() {
                self.uint(NHRP_CODE, cie.code.0);
                self.uint(NHRP_PREFIX, cie.prefix_len);
                self.uint(NHRP_MTU, cie.mtu);
                self.uint(NHRP_HTIME, cie.holding_time);
                self.nbma(NHRP_CLIENT_NBMA, cie.nbma.bytes);
                self.nbma(NHRP_CLIENT_PROT, cie.proto);
            }
        }
        if let dmvpn_nhrp::message::Message::ErrorIndication(error) = &nhrp.message {
            self.uint(NHRP_ERR_CODE, error.code.0);
        }
    }

    /// A header the snapshot length cut: the protocol, and the fields captured whole.
    fn cut(&mut self, proto: &str, fields: &[CutField]) {
        let Some(id) = proto_id(proto) else {
            return;
        };
        self.proto(id);
        for field in fields {
            match (id, *field) {
                (IP, CutField::Address(name, IpAddr::V4(address))) => {
                    self.address(name, [IP_SRC, IP_DST, IP_ADDR], Value::Ipv4(address));
                }
                (IPV6, CutField::Address(name, IpAddr::V6(address))) => {
                    self.address(name, [IPV6_SRC, IPV6_DST, IPV6_ADDR], Value::Ipv6(address));
                }
                (IP, CutField::Number("protocol", v)) => self.uint(IP_PROTO, v),
                (IP, CutField::Number("ttl", v)) => self.uint(IP_TTL, v),
                (IP, CutField::Number("id", v)) => self.uint(IP_ID, v),
                (UDP, CutField::Number("sport", v)) => {
                    self.uint(UDP_SRCPORT, v);
                    self.uint(UDP_PORT, v);
                }
                (UDP, CutField::Number("dport", v)) => {
                    self.uint(UDP_DSTPORT, v);
                    self.uint(UDP_PORT, v);
                }
                (TCP, CutField::Number("sport", v)) => {
                    self.uint(TCP_SRCPORT, v);
                    self.uint(TCP_PORT, v);
                }
                (TCP, CutField::Number("dport", v)) => {
                    self.uint(TCP_DSTPORT, v);
                    self.uint(TCP_PORT, v);
                }
                (ESP, CutField::Number("spi", v)) => self.uint(ESP_SPI, v),
                (ESP, CutField::Number("seq", v)) => self.uint(ESP_SEQUENCE, v),
                (GRE, CutField::Number("protocol", v)) => self.uint(GRE_PROTO, v),
                (GRE, CutField::Number("key", v)) => self.uint(GRE_KEY, v),
                (EIGRP, CutField::Number("opcode", v)) => self.uint(EIGRP_OPCODE, v),
                (EIGRP, CutField::Number("as", v)) => self.uint(EIGRP_AS, v),
                (ISAKMP, CutField::Number("exchange_type", v)) => {
                    self.uint(ISAKMP_EXCHANGETYPE, v);
                }
                _ => {}
            }
        }
    }
}

/// The protocol field of a layer's JSON `"proto"` name.
fn proto_id(proto: &str) -> Option<Id> {
    Some(match proto {
        "ipv4" => IP,
        "ipv6" => IPV6,
        "udp" => UDP,
        "tcp" => TCP,
        "icmp" => ICMP,
        "esp" => ESP,
        "ah" => AH,
        "gre" => GRE,
        "nhrp" => NHRP,
        "eigrp" => EIGRP,
        "isakmp" => ISAKMP,
        "mpls" => MPLS,
        "eth" => ETH,
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_unique_and_fit_the_mask() {
        assert!(FIELDS.len() < 128);
        for (i, field) in FIELDS.iter().enumerate() {
            assert_eq!(lookup(field.name), Id::try_from(i).ok(), "{}", field.name);
        }
    }

    #[test]
    fn close_names() {
        assert_eq!(close_to("ip.adr")[0], "ip.addr");
        assert!(close_to("esp.seq").contains(&"esp.sequence"));
        assert_eq!(close_to("nhrp.src.nbma")[0], "nhrp.src.nbma.addr");
        assert!(close_to("zzzzzzzzzz").is_empty());
        assert_eq!(distance("kitten", "sitting"), 3);
    }
}
