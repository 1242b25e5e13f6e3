//! TLVs (RFC 7868 §6.6–§6.9): a zero-copy iterator and a borrowing [`Tlv`] repr for every type.
//!
//! Every TLV is `type(2) length(2) value`, where the length counts the 4-byte header. The generic TLVs
//! (0x00xx) are fixed layouts; route TLVs are in [`route`], and the communities of a wide metric's
//! Community attribute in [`community`].

pub mod community;
pub mod route;

use core::fmt;

use dmvpn_wire::{Error, Layer, Reader, Result};

use crate::consts::{AuthType, TlvType};
pub use community::{Communities, Community, CommunityValue};
pub use route::{
    Attribute, Attributes, ClassicMetric, ClassicRoute, Destination, Destinations, ExternalData,
    Family, WideMetric, WideRoute,
};

/// Length of a TLV header (type and length).
pub const TLV_HEADER_LEN: usize = 4;

/// Parameters TLV (RFC 7868 §6.7.1): the K values and the hold time.
#[derive(Clone, Copy, Debug, Eq, Hash, PartialEq)]
pub struct Parameters {
    /// K1 to K6.
    pub k: [u8; 6],
    /// Hold time in seconds.
    pub hold_time: u16,
}

impl Parameters {
    /// Value length.
    pub const LEN: usize = 8;
    /// The defaults: K1 = K3 = 1, the others 0, hold time 15 s (RFC 7868 §5.5).
    pub const DEFAULT: Self = Self {
        k: [1, 0, 1, 0, 0, 0],
        hold_time: 15,
    };
    /// The goodbye form: K1–K5 all 255 tells neighbours this router is going down (RFC 7868 §5.3.5.1).
    pub const GOODBYE: Self = Self {
        k: [255, 255, 255, 255, 255, 0],
        hold_time: 15,
    };

    /// Whether this is the goodbye (peer termination) form: K1 to K5 all 255.
    #[must_use]
    pub fn is_goodbye(&self) -> bool {
        self.k[..5].iter().all(|&k| k == 255)
    }
}

/// Authentication TLV (RFC 7868 §6.7.2): type, key id, key sequence and the digest.
///
/// Layout after the TLV header: auth type(2), auth length(2) = digest length, key id(4),
/// key sequence(4), null pad(8), digest. The digest is computed by [`crate::auth`].
#[derive(Clone, Copy, Debug, Eq, Hash, PartialEq)]
pub struct Authentication<'a> {
    /// MD5 (2) or HMAC-SHA-256 (3).
    pub auth_type: AuthType,
    /// Key id from the key chain.
    pub key_id: u32,
    /// Key sequence (replay protection; Cisco sends 0 in Hellos).
    pub key_sequence: u32,
    /// The 8 pad bytes (zero on the wire; kept so that parsing then emitting is exact).
    pub nullpad: [u8; 8],
    /// The digest: 16 bytes for MD5, 32 for SHA-256.
    pub digest: &'a [u8],
}

impl Authentication<'_> {
    /// Offset of the digest from the start of the value.
    pub const DIGEST_OFFSET: usize = 20;
}

/// A list of `(length, address)` entries, as in the Sequence TLV (RFC 7868 §6.7.3).
///
/// The bytes are validated when the list is made, so iterating cannot fail.
#[derive(Clone, Copy, Eq, Hash, PartialEq)]
pub struct AddressList<'a> {
    bytes: &'a [u8],
}

impl<'a> AddressList<'a> {
    /// Checks `bytes` (offsets in errors are relative to `base`).
    pub fn new(bytes: &'a [u8], base: usize) -> Result<Self> {
        let mut r = Reader::with_base(Layer::Eigrp, bytes, base);
        while !r.is_empty() {
            let len = r.u8("address length")?;
            r.take(usize::from(len), "address")?;
        }
        Ok(Self { bytes })
    }

    /// The encoded bytes.
    #[must_use]
    pub const fn as_bytes(&self) -> &'a [u8] {
        self.bytes
    }

    /// The addresses (4 bytes for IPv4, 16 for IPv6, 10 for IPX).
    pub fn iter(&self) -> impl Iterator<Item = &'a [u8]> + use<'a> {
        let mut rest = self.bytes;
        core::iter::from_fn(move || {
            let (&len, tail) = rest.split_first()?;
            let (addr, tail) = tail.split_at_checked(usize::from(len))?;
            rest = tail;
            Some(addr)
        })
    }
}

impl fmt::Debug for AddressList<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_list()
            .entries(self.iter().map(route::AddrFmt))
            .finish()
    }
}

/// Software Version TLV (RFC 7868 §6.7.4).
#[derive(Clone, Copy, Debug, Eq, Hash, PartialEq)]
pub struct SoftwareVersion {
    /// The EIGRP (formerly IOS) release, major and minor.
    pub release: [u8; 2],
    /// The TLV version, major and minor (1.2 classic, 2.0 wide metrics).
    pub tlv_version: [u8; 2],
}

/// Peer Topology ID list TLV (RFC 7868 §6.7.8).
#[derive(Clone, Copy, Debug, Eq, Hash, PartialEq)]
pub struct PeerTidList<'a> {
    /// Flags.
    pub flags: u16,
    /// The topology IDs, 2 bytes each.
    pub tids: &'a [u8],
}

impl PeerTidList<'_> {
    /// The topology IDs.
    pub fn iter(&self) -> impl Iterator<Item = u16> + '_ {
        self.tids
            .chunks_exact(2)
            .map(|c| u16::from_be_bytes([c[0], c[1]]))
    }
}

/// One TLV, decoded.
#[derive(Clone, Copy, Debug, Eq, PartialEq)]
#[non_exhaustive]
pub enum Tlv<'a> {
    /// 0x0001 Parameters.
    Parameters(Parameters),
    /// 0x0002 Authentication.
    Authentication(Authentication<'a>),
    /// 0x0003 Sequence: addresses of peers that must ignore the next CR-flagged multicast.
    Sequence(AddressList<'a>),
    /// 0x0004 Software Version.
    SoftwareVersion(SoftwareVersion),
    /// 0x0005 Next Multicast Sequence.
    NextMulticastSequence(u32),
    /// 0x0006 Peer Stub Information: the stub flags.
    Stub(u16),
    /// 0x0007 Peer Termination. Cisco sends it in a Hello to drop the listed peers; FRR writes one
    /// zero byte and an IPv4 address. The value is kept as it is.
    PeerTermination(&'a [u8]),
    /// 0x0008 Peer Topology ID list.
    PeerTidList(PeerTidList<'a>),
    /// 0x0102/0x0103/0x0402/0x0403: a classic-metric route.
    Classic(ClassicRoute<'a>),
    /// 0x0602/0x0603: a multi-protocol route with a wide metric (IPv4 or IPv6 AFI).
    Wide(WideRoute<'a>),
    /// Any other TLV (request and community TLVs, SAF, IPX, AppleTalk, MTR, unassigned), kept as bytes.
    Unknown {
        /// The type.
        ty: TlvType,
        /// The value after the 4-byte header.
        value: &'a [u8],
    },
}

impl<'a> Tlv<'a> {
    /// The TLV type.
    #[must_use]
    pub fn ty(&self) -> TlvType {
        match self {
            Self::Parameters(_) => TlvType::PARAMETERS,
            Self::Authentication(_) => TlvType::AUTHENTICATION,
            Self::Sequence(_) => TlvType::SEQUENCE,
            Self::SoftwareVersion(_) => TlvType::SOFTWARE_VERSION,
            Self::NextMulticastSequence(_) => TlvType::NEXT_MULTICAST_SEQUENCE,
            Self::Stub(_) => TlvType::STUB,
            Self::PeerTermination(_) => TlvType::PEER_TERMINATION,
            Self::PeerTidList(_) => TlvType::PEER_TID_LIST,
            Self::Classic(route) => route.ty(),
            Self::Wide(route) => route.ty(),
            Self::Unknown { ty, .. } => *ty,
        }
    }

    /// Parses the value of a TLV of type `ty`; `base` is the offset of the value in the packet.
    pub fn parse(ty: TlvType, value: &'a [u8], base: usize) -> Result<Self> {
        let mut r = Reader::with_base(Layer::Eigrp, value, base);
        let tlv = match ty {
            TlvType::PARAMETERS => {
                let k = r.array("k values")?;
                let hold_time = r.u16("hold time")?;
                Self::Parameters(Parameters { k, hold_time })
            }
            TlvType::AUTHENTICATION => {
                let auth_type = AuthType(r.u16("auth type")?);
                let auth_len = r.u16("auth length")?;
                let key_id = r.u32("key id")?;
                let key_sequence = r.u32("key sequence")?;
                let nullpad = r.array("null pad")?;
                if usize::from(auth_len) != r.remaining() {
                    return Err(Error::bad_length(
                        Layer::Eigrp,
                        "auth length",
                        base + 2,
                        usize::from(auth_len),
                        r.remaining(),
                    ));
                }
                let digest = r.rest();
                Self::Authentication(Authentication {
                    auth_type,
                    key_id,
                    key_sequence,
                    nullpad,
                    digest,
                })
            }
            TlvType::SEQUENCE => Self::Sequence(AddressList::new(r.rest(), base)?),
            TlvType::SOFTWARE_VERSION => {
                let release = r.array("release")?;
                let tlv_version = r.array("tlv version")?;
                Self::SoftwareVersion(SoftwareVersion {
                    release,
                    tlv_version,
                })
            }
            TlvType::NEXT_MULTICAST_SEQUENCE => {
                Self::NextMulticastSequence(r.u32("next multicast sequence")?)
            }
            TlvType::STUB => Self::Stub(r.u16("stub flags")?),
            TlvType::PEER_TERMINATION => Self::PeerTermination(r.rest()),
            TlvType::PEER_TID_LIST => {
                let flags = r.u16("tid flags")?;
                let len = r.u16("tid list length")?;
                if !len.is_multiple_of(2) {
                    return Err(r.invalid("tid list length", 2, len.into()));
                }
                let tids = r.take(usize::from(len), "tid list")?;
                Self::PeerTidList(PeerTidList { flags, tids })
            }
            TlvType::IPV4_INTERNAL
            | TlvType::IPV4_EXTERNAL
            | TlvType::IPV6_INTERNAL
            | TlvType::IPV6_EXTERNAL => Self::Classic(ClassicRoute::parse(ty, &mut r)?),
            TlvType::MP_INTERNAL | TlvType::MP_EXTERNAL => match WideRoute::parse(ty, &mut r)? {
                Some(route) => Self::Wide(route),
                // An AFI whose addresses we do not decode (IPX, SAF): keep the bytes.
                None => return Ok(Self::Unknown { ty, value }),
            },
            _ => return Ok(Self::Unknown { ty, value }),
        };
        r.finish()?;
        Ok(tlv)
    }

    /// Length of the value (without the 4-byte header).
    #[must_use]
    pub fn value_len(&self) -> usize {
        match self {
            Self::Parameters(_) => Parameters::LEN,
            Self::Authentication(auth) => Authentication::DIGEST_OFFSET + auth.digest.len(),
            Self::Sequence(list) => list.as_bytes().len(),
            Self::SoftwareVersion(_) | Self::NextMulticastSequence(_) => 4,
            Self::Stub(_) => 2,
            Self::PeerTermination(value) | Self::Unknown { value, .. } => value.len(),
            Self::PeerTidList(list) => 4 + list.tids.len(),
            Self::Classic(route) => route.value_len(),
            Self::Wide(route) => route.value_len(),
        }
    }

    /// Length on the wire, header included.
    #[must_use]
    pub fn buffer_len(&self) -> usize {
        TLV_HEADER_LEN + self.value_len()
    }

    /// Writes the TLV (header and value) into `buf`, which must be [`Tlv::buffer_len`] bytes.
    ///
    /// # Panics
    /// If `buf` is shorter than [`Tlv::buffer_len`], the value is longer than 65531 bytes, or a route's
    /// next hop or destinations are not all of one address family (all are caller errors; parsed
    /// TLVs always emit).
    pub fn emit(&self, buf: &mut [u8]) {
        let len = self.buffer_len();
        let wire_len =
            u16::try_from(len).unwrap_or_else(|_| panic!("eigrp tlv of {len} bytes is too long"));
        buf[0..2].copy_from_slice(&self.ty().0.to_be_bytes());
        buf[2..4].copy_from_slice(&wire_len.to_be_bytes());
        let mut w = Writer {
            buf: &mut buf[TLV_HEADER_LEN..len],
            pos: 0,
        };
        match self {
            Self::Parameters(p) => {
                w.bytes(&p.k);
                w.u16(p.hold_time);
            }
            Self::Authentication(a) => {
                w.u16(a.auth_type.0);
                let digest_len = u16::try_from(a.digest.len()).unwrap_or(u16::MAX);
                w.u16(digest_len);
                w.u32(a.key_id);
                w.u32(a.key_sequence);
                w.bytes(&a.nullpad);
                w.bytes(a.digest);
            }
            Self::Sequence(list) => w.bytes(list.as_bytes()),
            Self::SoftwareVersion(v) => {
                w.bytes(&v.release);
                w.bytes(&v.tlv_version);
            }
            Self::NextMulticastSequence(seq) => w.u32(*seq),
            Self::Stub(flags) => w.u16(*flags),
            Self::PeerTermination(value) | Self::Unknown { value, .. } => w.bytes(value),
            Self::PeerTidList(list) => {
                w.u16(list.flags);
                w.u16(u16::try_from(list.tids.len()).unwrap_or(u16::MAX));
                w.bytes(list.tids);
            }
            Self::Classic(route) => route.emit(&mut w),
            Self::Wide(route) => route.emit(&mut w),
        }
    }
}

/// A cursor that writes big-endian fields into a buffer sized by `buffer_len`.
pub(crate) struct Writer<'b> {
    buf: &'b mut [u8],
    pos: usize,
}

impl Writer<'_> {
    /// The next `len` bytes, to be written by the caller.
    pub(crate) fn chunk(&mut self, len: usize) -> &mut [u8] {
        let chunk = &mut self.buf[self.pos..self.pos + len];
        self.pos += len;
        chunk
    }
    pub(crate) fn bytes(&mut self, data: &[u8]) {
        self.buf[self.pos..self.pos + data.len()].copy_from_slice(data);
        self.pos += data.len();
    }
    pub(crate) fn u8(&mut self, v: u8) {
        self.bytes(&[v]);
    }
    pub(crate) fn u16(&mut self, v: u16) {
        self.bytes(&v.to_be_bytes());
    }
    pub(crate) fn u32(&mut self, v: u32) {
        self.bytes(&v.to_be_bytes());
    }
}

/// Iterates over the TLVs of a packet without allocating; stops after the first error.
///
/// ```
/// use dmvpn_eigrp::tlv::{Tlv, TlvIter};
///
/// let bytes = [0x00, 0x05, 0x00, 0x08, 0x00, 0x00, 0x00, 0x19];
/// let mut tlvs = TlvIter::new(&bytes);
/// assert_eq!(tlvs.next(), Some(Ok(Tlv::NextMulticastSequence(25))));
/// assert_eq!(tlvs.next(), None);
/// ```
#[derive(Clone, Debug)]
pub struct TlvIter<'a> {
    data: &'a [u8],
    pos: usize,
    base: usize,
    done: bool,
}

impl<'a> TlvIter<'a> {
    /// TLVs in `data`, with error offsets relative to `data`.
    #[must_use]
    pub const fn new(data: &'a [u8]) -> Self {
        Self::with_base(data, 0)
    }

    /// TLVs in `data`, which starts `base` bytes into the packet.
    #[must_use]
    pub const fn with_base(data: &'a [u8], base: usize) -> Self {
        Self {
            data,
            pos: 0,
            base,
            done: false,
        }
    }

    fn next_tlv(&mut self) -> Result<Tlv<'a>> {
        let mut r = Reader::with_base(
            Layer::Eigrp,
            self.data.get(self.pos..).unwrap_or_default(),
            self.base + self.pos,
        );
        let start = r.offset();
        let ty = TlvType(r.u16("tlv type")?);
        let len = r.u16("tlv length")?;
        let len = usize::from(len);
        if len < TLV_HEADER_LEN {
            return Err(Error::invalid_field(
                Layer::Eigrp,
                "tlv length",
                start + 2,
                len as u32,
            ));
        }
        let value = r
            .sub(len - TLV_HEADER_LEN, "tlv length")
            .map_err(|e| match e {
                Error::BadLength {
                    layer,
                    field,
                    offset,
                    available,
                    ..
                } => Error::BadLength {
                    layer,
                    field,
                    offset: offset - 2,
                    claimed: len,
                    available: available + TLV_HEADER_LEN,
                },
                other => other,
            })?;
        let value_base = value.offset();
        let value = value.peek_rest();
        self.pos += len;
        Tlv::parse(ty, value, value_base)
    }
}

impl<'a> Iterator for TlvIter<'a> {
    type Item = Result<Tlv<'a>>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.done || self.pos >= self.data.len() {
            return None;
        }
        let item = self.next_tlv();
        if item.is_err() {
            self.done = true;
        }
        Some(item)
    }
}

impl core::iter::FusedIterator for TlvIter<'_> {}

#[cfg(test)]
mod tests {
    use super::*;

    fn round_trip(tlv: &Tlv<'_>) {
        let mut buf = vec![0u8; tlv.buffer_len()];
        tlv.emit(&mut buf);
        let mut iter = TlvIter::new(&buf);
        assert_eq!(iter.next().unwrap().as_ref(), Ok(tlv));
        assert!(iter.next().is_none());
    }

    dmvpn_wire::hex_consts! {
        // packetlife EIGRP_adjacency.cap frame 18 (Hello from 10.0.0.2): the TLVs after the header.
        const HELLO_TLVS: [u8; 37] = "0001000c010001000000000f000400080c04010200030009040a0000010005000800000019";
    }

    #[test]
    fn parse_real_hello_tlvs() {
        let tlvs: Vec<_> = TlvIter::new(&HELLO_TLVS).collect::<Result<_>>().unwrap();
        assert_eq!(tlvs[0], Tlv::Parameters(Parameters::DEFAULT));
        assert_eq!(
            tlvs[1],
            Tlv::SoftwareVersion(SoftwareVersion {
                release: [12, 4],
                tlv_version: [1, 2]
            })
        );
        let Tlv::Sequence(list) = tlvs[2] else {
            panic!("not a sequence: {:?}", tlvs[2])
        };
        assert_eq!(list.iter().collect::<Vec<_>>(), [&[10, 0, 0, 1][..]]);
        assert_eq!(format!("{list:?}"), "[10.0.0.1]");
        assert_eq!(tlvs[3], Tlv::NextMulticastSequence(25));
        let mut out = Vec::new();
        for tlv in &tlvs {
            let mut buf = vec![0; tlv.buffer_len()];
            tlv.emit(&mut buf);
            out.extend_from_slice(&buf);
        }
        assert_eq!(out, HELLO_TLVS);
    }

    #[test]
    fn goodbye_parameters() {
        // packetlife EIGRP_goodbye.cap frame 9: K1..K5 = 255.
        let bytes = [
            0x00, 0x01, 0x00, 0x0c, 0xff, 0xff, 0xff, 0xff, 0xff, 0x00, 0x00, 0x0f,
        ];
        let tlv = TlvIter::new(&bytes).next().unwrap().unwrap();
        assert_eq!(tlv, Tlv::Parameters(Parameters::GOODBYE));
        let Tlv::Parameters(p) = tlv else {
            unreachable!()
        };
        assert!(p.is_goodbye());
        assert!(!Parameters::DEFAULT.is_goodbye());
    }

    #[test]
    fn generic_round_trips() {
        let digest = [0x5a; 16];
        let tlvs = [
            Tlv::Parameters(Parameters {
                k: [1, 2, 3, 4, 5, 6],
                hold_time: 180,
            }),
            Tlv::Authentication(Authentication {
                auth_type: AuthType::MD5,
                key_id: 1,
                key_sequence: 7,
                nullpad: [0; 8],
                digest: &digest,
            }),
            Tlv::Sequence(
                AddressList::new(
                    &[
                        4, 10, 0, 0, 1, 16, 0xfe, 0x80, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1,
                    ],
                    0,
                )
                .unwrap(),
            ),
            Tlv::SoftwareVersion(SoftwareVersion {
                release: [8, 0],
                tlv_version: [2, 0],
            }),
            Tlv::NextMulticastSequence(0xdead_beef),
            Tlv::Stub(0x0009),
            Tlv::PeerTermination(&[0, 10, 0, 0, 2]),
            Tlv::PeerTidList(PeerTidList {
                flags: 0,
                tids: &[0, 0, 0, 1],
            }),
            Tlv::Unknown {
                ty: TlvType(0x0104),
                value: &[1, 2, 3],
            },
            Tlv::Unknown {
                ty: TlvType(0x7777),
                value: &[],
            },
        ];
        for tlv in &tlvs {
            round_trip(tlv);
        }
        let Tlv::PeerTidList(list) = tlvs[7] else {
            unreachable!()
        };
        assert_eq!(list.iter().collect::<Vec<_>>(), [0, 1]);
    }

    #[test]
    fn bad_lengths() {
        // Length below the header size.
        assert_eq!(
            TlvIter::with_base(&[0, 1, 0, 3, 0], 20).next(),
            Some(Err(Error::invalid_field(Layer::Eigrp, "tlv length", 22, 3)))
        );
        // Length past the end.
        assert_eq!(
            TlvIter::with_base(&[0, 5, 0, 9, 0, 0, 0, 1], 20).next(),
            Some(Err(Error::bad_length(Layer::Eigrp, "tlv length", 22, 9, 8)))
        );
        // A fixed-size value that is too long.
        assert_eq!(
            TlvIter::new(&[0, 5, 0, 9, 0, 0, 0, 1, 2]).next(),
            Some(Err(Error::TrailingBytes {
                layer: Layer::Eigrp,
                offset: 8,
                len: 1
            }))
        );
        // Auth length disagreeing with the TLV length.
        let mut auth = vec![0, 2, 0, 40, 0, 2, 0, 15];
        auth.resize(40, 0);
        assert_eq!(
            TlvIter::new(&auth).next(),
            Some(Err(Error::bad_length(
                Layer::Eigrp,
                "auth length",
                6,
                15,
                16
            )))
        );
        // Odd TID list length.
        assert_eq!(
            TlvIter::new(&[0, 8, 0, 9, 0, 0, 0, 1, 0]).next(),
            Some(Err(Error::invalid_field(
                Layer::Eigrp,
                "tid list length",
                6,
                1
            )))
        );
        // Errors end the iteration.
        let mut iter = TlvIter::new(&[0, 1, 0, 2]);
        assert!(iter.next().unwrap().is_err());
        assert!(iter.next().is_none());
    }

    #[test]
    fn truncation() {
        for len in 0..HELLO_TLVS.len() {
            let result: Result<Vec<_>> = TlvIter::new(&HELLO_TLVS[..len]).collect();
            let expected = match len {
                0 | 12 | 20 | 29 => continue,
                1 | 13 | 21 | 30 => Error::truncated(Layer::Eigrp, "tlv type", len - 1, 2, len),
                2..=3 | 14..=15 | 22..=23 | 31..=32 => {
                    let start = [0, 12, 20, 29]
                        .into_iter()
                        .rev()
                        .find(|&s| s <= len)
                        .unwrap();
                    Error::truncated(Layer::Eigrp, "tlv length", start + 2, 2, len)
                }
                _ => {
                    let start = [0, 12, 20, 29]
                        .into_iter()
                        .rev()
                        .find(|&s| s <= len)
                        .unwrap();
                    let claimed =
                        [12, 8, 9, 8][[0, 12, 20, 29].iter().position(|&s| s == start).unwrap()];
                    Error::bad_length(Layer::Eigrp, "tlv length", start + 2, claimed, len - start)
                }
            };
            assert_eq!(result.unwrap_err(), expected, "prefix of {len} bytes");
        }
    }
}
