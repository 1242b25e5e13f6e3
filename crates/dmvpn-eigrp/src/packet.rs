//! The whole packet as a [`Repr`]: header fields plus the TLV list, parsed without allocating.

use core::fmt;

use dmvpn_wire::{Error, Layer, Result};

use crate::consts::{OpCode, VERSION};
use crate::header::{Flags, HEADER_LEN, Packet};
use crate::tlv::{Tlv, TlvIter};

#[derive(Clone, Copy)]
enum TlvsInner<'a> {
    Wire { bytes: &'a [u8], base: usize },
    List(&'a [Tlv<'a>]),
}

/// The TLVs of a [`Repr`]: the checked wire bytes after parsing, or a slice of [`Tlv`]s to emit.
///
/// Equality compares the decoded TLVs, so a parsed packet equals the repr it was emitted from.
#[derive(Clone, Copy)]
pub struct Tlvs<'a> {
    inner: TlvsInner<'a>,
}

impl<'a> Tlvs<'a> {
    /// TLVs to emit, in order.
    #[must_use]
    pub const fn new(list: &'a [Tlv<'a>]) -> Self {
        Self {
            inner: TlvsInner::List(list),
        }
    }

    /// Checks that every TLV in `bytes` parses; `base` is the offset of `bytes` in the packet.
    pub fn parse(bytes: &'a [u8], base: usize) -> Result<Self> {
        for tlv in TlvIter::with_base(bytes, base) {
            tlv?;
        }
        Ok(Self {
            inner: TlvsInner::Wire { bytes, base },
        })
    }

    /// The TLVs. After [`Tlvs::parse`] succeeded, no item is an error.
    pub fn iter(&self) -> impl Iterator<Item = Tlv<'a>> + use<'a> {
        let (wire, list) = match self.inner {
            TlvsInner::Wire { bytes, base } => (TlvIter::with_base(bytes, base), [].iter()),
            TlvsInner::List(list) => (TlvIter::new(&[]), list.iter()),
        };
        wire.filter_map(Result::ok).chain(list.copied())
    }

    /// Encoded length.
    #[must_use]
    pub fn buffer_len(&self) -> usize {
        match self.inner {
            TlvsInner::Wire { bytes, .. } => bytes.len(),
            TlvsInner::List(list) => list.iter().map(Tlv::buffer_len).sum(),
        }
    }

    fn emit(&self, buf: &mut [u8]) {
        match self.inner {
            TlvsInner::Wire { bytes, .. } => buf[..bytes.len()].copy_from_slice(bytes),
            TlvsInner::List(list) => {
                let mut pos = 0;
                for tlv in list {
                    let len = tlv.buffer_len();
                    tlv.emit(&mut buf[pos..pos + len]);
                    pos += len;
                }
            }
        }
    }
}

impl PartialEq for Tlvs<'_> {
    fn eq(&self, other: &Self) -> bool {
        self.iter().eq(other.iter())
    }
}

impl Eq for Tlvs<'_> {}

impl fmt::Debug for Tlvs<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_list().entries(self.iter()).finish()
    }
}

/// A decoded EIGRP packet (RFC 7868 §6.5): header fields and TLVs.
///
/// ```
/// use dmvpn_eigrp::{Flags, OpCode, Packet, Repr, Tlvs, tlv::{Parameters, Tlv}};
///
/// let tlvs = [Tlv::Parameters(Parameters::DEFAULT)];
/// let repr = Repr {
///     opcode: OpCode::HELLO,
///     flags: Flags::default(),
///     sequence: 0,
///     ack: 0,
///     virtual_router_id: 0,
///     autonomous_system: 123,
///     tlvs: Tlvs::new(&tlvs),
/// };
/// let mut buf = vec![0; repr.buffer_len()];
/// repr.emit(&mut Packet::new_unchecked(&mut buf[..]));
/// let parsed = Repr::parse(&Packet::new_checked(&buf[..])?)?;
/// assert_eq!(parsed, repr);
/// assert_eq!(parsed.to_string(), "Hello AS 123 seq 0 ack 0 [Parameters K 1/0/1/0/0/0 hold 15]");
/// # Ok::<(), dmvpn_eigrp::Error>(())
/// ```
#[derive(Clone, Copy, Debug, Eq, PartialEq)]
pub struct Repr<'a> {
    /// Opcode.
    pub opcode: OpCode,
    /// Flags.
    pub flags: Flags,
    /// Sequence number.
    pub sequence: u32,
    /// Acknowledgement number.
    pub ack: u32,
    /// Virtual router ID.
    pub virtual_router_id: u16,
    /// Autonomous system.
    pub autonomous_system: u16,
    /// The TLVs.
    pub tlvs: Tlvs<'a>,
}

impl<'a> Repr<'a> {
    /// Parses a packet: version must be 2, the checksum must be right (not checked under
    /// `cfg(fuzzing)`), and every TLV must parse.
    pub fn parse<T: AsRef<[u8]> + ?Sized>(packet: &Packet<&'a T>) -> Result<Self> {
        Self::parse_inner(packet, true)
    }

    /// Parses a packet without looking at its checksum: version must be 2 and every TLV must
    /// parse. For analysers that show a packet with a bad checksum (flagged, as tshark does)
    /// rather than drop it as a router would; [`Packet::verify_checksum`] says whether it holds,
    /// and [`Packet::compute_checksum`] what it should be.
    ///
    /// ```
    /// use dmvpn_eigrp::{OpCode, Packet, Repr};
    ///
    /// // A Hello with no TLVs whose checksum (bytes 2-3) is wrong.
    /// let bytes = [0x02, 0x05, 0x12, 0x34, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x00, 0x64];
    /// let packet = Packet::new_checked(&bytes[..])?;
    /// assert!(Repr::parse(&packet).is_err());
    /// let repr = Repr::parse_unverified(&packet)?;
    /// assert_eq!((repr.opcode, repr.autonomous_system), (OpCode::HELLO, 100));
    /// assert!(!packet.verify_checksum());
    /// assert_eq!(packet.compute_checksum(), 0xfd96);
    /// # Ok::<(), dmvpn_eigrp::Error>(())
    /// ```
    pub fn parse_unverified<T: AsRef<[u8]> + ?Sized>(packet: &Packet<&'a T>) -> Result<Self> {
        Self::parse_inner(packet, false)
    }

    fn parse_inner<T: AsRef<[u8]> + ?Sized>(packet: &Packet<&'a T>, verify: bool) -> Result<Self> {
        packet.check_len()?;
        if packet.version() != VERSION {
            return Err(Error::invalid_field(
                Layer::Eigrp,
                "version",
                0,
                packet.version().into(),
            ));
        }
        #[cfg(not(fuzzing))]
        if verify && !packet.verify_checksum() {
            return Err(Error::BadChecksum {
                layer: Layer::Eigrp,
                offset: crate::header::field::CHECKSUM.start,
                found: packet.checksum(),
                computed: packet.compute_checksum(),
            });
        }
        #[cfg(fuzzing)]
        let _ = verify;
        Ok(Self::with_header(
            packet,
            Tlvs::parse(packet.tlv_bytes(), HEADER_LEN)?,
        ))
    }

    /// The header fields of `packet` (neither version nor checksum looked at) with `tlvs`: for a
    /// decoder that reads the TLVs its own way, e.g. only the whole ones of a packet cut short.
    ///
    /// ```
    /// use dmvpn_eigrp::{OpCode, Packet, Repr, Tlvs};
    ///
    /// // A Hello header of AS 100 whose TLVs were cut off.
    /// let bytes = [0x02, 0x05, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x00, 0x64];
    /// let repr = Repr::with_header(&Packet::new_checked(&bytes[..])?, Tlvs::new(&[]));
    /// assert_eq!((repr.opcode, repr.autonomous_system), (OpCode::HELLO, 100));
    /// # Ok::<(), dmvpn_eigrp::Error>(())
    /// ```
    #[must_use]
    pub fn with_header<T: AsRef<[u8]> + ?Sized>(packet: &Packet<&T>, tlvs: Tlvs<'a>) -> Self {
        Self {
            opcode: packet.opcode(),
            flags: packet.flags(),
            sequence: packet.sequence(),
            ack: packet.ack(),
            virtual_router_id: packet.virtual_router_id(),
            autonomous_system: packet.autonomous_system(),
            tlvs,
        }
    }

    /// Encoded length.
    #[must_use]
    pub fn buffer_len(&self) -> usize {
        HEADER_LEN + self.tlvs.buffer_len()
    }

    /// The packet's bytes, checksum included, in a new buffer of [`Repr::buffer_len`] bytes
    /// ([`Repr::emit`]).
    ///
    /// ```
    /// use dmvpn_eigrp::{Flags, OpCode, Packet, Repr, Tlvs};
    ///
    /// let repr = Repr {
    ///     opcode: OpCode::HELLO,
    ///     flags: Flags::default(),
    ///     sequence: 0,
    ///     ack: 0,
    ///     virtual_router_id: 0,
    ///     autonomous_system: 100,
    ///     tlvs: Tlvs::new(&[]),
    /// };
    /// let bytes = repr.to_bytes();
    /// assert_eq!(bytes.len(), dmvpn_eigrp::HEADER_LEN);
    /// assert_eq!(Repr::parse(&Packet::new_checked(&bytes[..])?)?, repr);
    /// # Ok::<(), dmvpn_eigrp::Error>(())
    /// ```
    #[must_use]
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut bytes = vec![0; self.buffer_len()];
        self.emit(&mut Packet::new_unchecked(&mut bytes[..]));
        bytes
    }

    /// Writes the packet, checksum included, into a buffer of exactly [`Repr::buffer_len`] bytes.
    ///
    /// An Authentication TLV is written as given; to sign, emit with a zero digest and then call
    /// [`crate::auth::sign`], which fills the digest and recomputes the checksum.
    ///
    /// # Panics
    /// If the buffer is shorter than [`Repr::buffer_len`].
    pub fn emit<T: AsRef<[u8]> + AsMut<[u8]> + ?Sized>(&self, packet: &mut Packet<&mut T>) {
        packet.set_version(VERSION);
        packet.set_opcode(self.opcode);
        packet.set_flags(self.flags);
        packet.set_sequence(self.sequence);
        packet.set_ack(self.ack);
        packet.set_virtual_router_id(self.virtual_router_id);
        packet.set_autonomous_system(self.autonomous_system);
        self.tlvs.emit(packet.tlv_bytes_mut());
        packet.fill_checksum();
    }

    /// The Authentication TLV, if the packet has one (it is the first TLV when present).
    #[must_use]
    pub fn authentication(&self) -> Option<crate::tlv::Authentication<'a>> {
        self.tlvs.iter().find_map(|tlv| match tlv {
            Tlv::Authentication(auth) => Some(auth),
            _ => None,
        })
    }

    /// The Parameters TLV (K values and hold time), if present.
    #[must_use]
    pub fn parameters(&self) -> Option<crate::tlv::Parameters> {
        self.tlvs.iter().find_map(|tlv| match tlv {
            Tlv::Parameters(p) => Some(p),
            _ => None,
        })
    }

    /// Whether this is a Hello carrying an acknowledgement (Wireshark's "Hello (Ack)").
    #[must_use]
    pub fn is_ack(&self) -> bool {
        self.opcode == OpCode::HELLO && self.ack != 0
    }

    /// The routes the packet carries, one item per destination.
    pub fn routes(&self) -> impl Iterator<Item = RouteInfo> + use<'a> {
        self.tlvs.iter().flat_map(|tlv| {
            let (next_hop, metric, ty, dests) = match tlv {
                Tlv::Classic(r) => (
                    r.next_hop,
                    RouteMetric::Classic(r.metric),
                    r.ty(),
                    Some(r.destinations),
                ),
                Tlv::Wide(r) => (
                    r.next_hop,
                    RouteMetric::Wide(r.metric),
                    r.ty(),
                    Some(r.destinations),
                ),
                _ => (
                    core::net::IpAddr::V4(core::net::Ipv4Addr::UNSPECIFIED),
                    RouteMetric::None,
                    tlv.ty(),
                    None,
                ),
            };
            dests
                .into_iter()
                .flat_map(|d| d.iter())
                .map(move |destination| RouteInfo {
                    tlv_type: ty,
                    destination,
                    next_hop,
                    metric,
                })
        })
    }
}

/// The metric of a route as [`Repr::routes`] reports it.
#[derive(Clone, Copy, Debug, Eq, PartialEq)]
#[non_exhaustive]
pub enum RouteMetric {
    /// Classic metric.
    Classic(crate::tlv::ClassicMetric),
    /// Wide metric.
    Wide(crate::tlv::WideMetric),
    /// Never produced for a route; a placeholder for non-route TLVs.
    None,
}

impl RouteMetric {
    /// Whether the metric says unreachable.
    #[must_use]
    pub const fn is_unreachable(&self) -> bool {
        match self {
            Self::Classic(m) => m.is_unreachable(),
            Self::Wide(m) => m.delay == crate::tlv::WideMetric::UNREACHABLE,
            Self::None => false,
        }
    }
}

/// One destination of a route TLV, flattened for display and JSON.
#[derive(Clone, Copy, Debug, Eq, PartialEq)]
pub struct RouteInfo {
    /// The TLV it came from.
    pub tlv_type: crate::consts::TlvType,
    /// The prefix.
    pub destination: crate::tlv::Destination,
    /// The next hop (unspecified: the sender).
    pub next_hop: core::net::IpAddr,
    /// The metric.
    pub metric: RouteMetric,
}

impl fmt::Display for Repr<'_> {
    /// One line, like tshark's Info column plus the essentials:
    /// `Update AS 100 flags INIT seq 2 ack 0 [IPv4Internal 192.168.1.0/24 ...]`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.opcode.name() {
            Some(_) if self.is_ack() => f.write_str("Hello (Ack)")?,
            Some(name) => f.write_str(name)?,
            None => write!(f, "Opcode {}", self.opcode.0)?,
        }
        write!(f, " AS {}", self.autonomous_system)?;
        if self.flags != Flags::default() {
            write!(f, " flags {}", self.flags)?;
        }
        write!(f, " seq {} ack {}", self.sequence, self.ack)?;
        if self.virtual_router_id != 0 {
            write!(f, " vrid {:#06x}", self.virtual_router_id)?;
        }
        let mut first = true;
        for tlv in self.tlvs.iter() {
            f.write_str(if first { " [" } else { ", " })?;
            first = false;
            match tlv.ty().name() {
                Some(name) => f.write_str(name)?,
                None => write!(f, "TLV {:#06x}", tlv.ty().0)?,
            }
            match tlv {
                Tlv::Parameters(p) if p.is_goodbye() => f.write_str(" goodbye")?,
                Tlv::Parameters(p) => {
                    let [k1, k2, k3, k4, k5, k6] = p.k;
                    write!(f, " K {k1}/{k2}/{k3}/{k4}/{k5}/{k6} hold {}", p.hold_time)?;
                }
                Tlv::Authentication(a) => {
                    write!(f, " {} key {}", a.auth_type.name().unwrap_or("?"), a.key_id)?
                }
                Tlv::SoftwareVersion(v) => {
                    write!(
                        f,
                        " {}.{} tlv {}.{}",
                        v.release[0], v.release[1], v.tlv_version[0], v.tlv_version[1]
                    )?;
                }
                Tlv::NextMulticastSequence(n) => write!(f, " {n}")?,
                Tlv::Stub(flags) => write!(f, " {flags:#06x}")?,
                Tlv::Sequence(list) => {
                    for addr in list.iter() {
                        write!(f, " {:?}", crate::tlv::route::AddrFmt(addr))?;
                    }
                }
                Tlv::Classic(r) => {
                    for d in r.destinations.iter() {
                        write!(f, " {d}")?;
                    }
                    if r.metric.is_unreachable() {
                        f.write_str(" unreachable")?;
                    }
                }
                Tlv::Wide(r) => {
                    for d in r.destinations.iter() {
                        write!(f, " {d}")?;
                    }
                    if r.metric.delay == crate::tlv::WideMetric::UNREACHABLE {
                        f.write_str(" unreachable")?;
                    }
                }
                _ => {}
            }
        }
        if !first {
            f.write_str("]")?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tlv::{Parameters, SoftwareVersion};

    dmvpn_wire::hex_consts! {
        // packetlife EIGRP_adjacency.cap frame 19: multicast Update from 10.0.0.2, CR flag, seq 25, three IPv4 routes.
        const UPDATE: [u8; 105] = "0201a2d8000000020000001900000000000000640102001c00000000ffffffff0003e8000005dc01ff01000018c0a8010102001d00000000ffffffff0003e8000005dc01ff0100001e0a0000040102001c00000000ffffffff0003e8000005dc02ff01000018c0a803";
    }

    #[test]
    fn parse_real_update() {
        let repr = Repr::parse(&Packet::new_checked(&UPDATE[..]).unwrap()).unwrap();
        assert_eq!(repr.opcode, OpCode::UPDATE);
        assert_eq!(
            (repr.flags, repr.sequence, repr.ack, repr.autonomous_system),
            (Flags::CR, 25, 0, 100)
        );
        let routes: Vec<_> = repr.routes().map(|r| r.destination.to_string()).collect();
        assert_eq!(routes, ["192.168.1.0/24", "10.0.0.4/30", "192.168.3.0/24"]);
        assert_eq!((repr.authentication(), repr.parameters()), (None, None));
        assert!(repr.routes().all(|r| r.metric.is_unreachable()));
        assert_eq!(
            repr.to_string(),
            "Update AS 100 flags CR seq 25 ack 0 [IPv4Internal 192.168.1.0/24 unreachable, \
             IPv4Internal 10.0.0.4/30 unreachable, IPv4Internal 192.168.3.0/24 unreachable]"
        );
        let buf = repr.to_bytes();
        assert_eq!(buf, UPDATE);
        // Re-emitting from a list of TLVs gives the same bytes.
        let tlvs: Vec<_> = repr.tlvs.iter().collect();
        let rebuilt = Repr {
            tlvs: Tlvs::new(&tlvs),
            ..repr
        };
        assert_eq!(rebuilt, repr);
        let buf2 = rebuilt.to_bytes();
        assert_eq!(buf2, UPDATE);
    }

    #[test]
    fn parse_errors() {
        let mut bad = UPDATE;
        bad[0] = 1;
        assert_eq!(
            Repr::parse(&Packet::new_unchecked(&bad[..])),
            Err(Error::invalid_field(Layer::Eigrp, "version", 0, 1))
        );
        let mut bad = UPDATE;
        bad[3] ^= 1;
        #[cfg(not(fuzzing))]
        assert_eq!(
            Repr::parse(&Packet::new_unchecked(&bad[..])),
            Err(Error::BadChecksum {
                layer: Layer::Eigrp,
                offset: 2,
                found: 0xa2d9,
                computed: 0xa2d8
            })
        );
        assert!(Repr::parse(&Packet::new_unchecked(&UPDATE[..10])).is_err());
    }

    #[test]
    fn parse_unverified_ignores_only_the_checksum() {
        let mut bad = UPDATE;
        bad[3] ^= 1;
        let packet = Packet::new_unchecked(&bad[..]);
        assert!(!packet.verify_checksum());
        let good = Repr::parse(&Packet::new_unchecked(&UPDATE[..])).unwrap();
        assert_eq!(Repr::parse_unverified(&packet), Ok(good));
        // Everything else is still checked: version, header length, TLVs.
        bad[0] = 1;
        assert_eq!(
            Repr::parse_unverified(&Packet::new_unchecked(&bad[..])),
            Err(Error::invalid_field(Layer::Eigrp, "version", 0, 1))
        );
        assert_eq!(
            Repr::parse_unverified(&Packet::new_unchecked(&UPDATE[..10])),
            Err(Error::truncated(Layer::Eigrp, "header", 0, HEADER_LEN, 10))
        );
        let mut cut = UPDATE[..30].to_vec();
        cut[3] ^= 0x55;
        assert_eq!(
            Repr::parse_unverified(&Packet::new_unchecked(&cut[..])),
            Err(Error::bad_length(Layer::Eigrp, "tlv length", 22, 28, 10))
        );
    }

    #[test]
    fn truncation_loop() {
        // Cut the packet anywhere; with the checksum fixed up, the error names the cut TLV.
        for len in 0..UPDATE.len() {
            let mut buf = UPDATE[..len].to_vec();
            let result = if len >= HEADER_LEN {
                Packet::new_unchecked(&mut buf[..]).fill_checksum();
                Repr::parse(&Packet::new_unchecked(&buf[..]))
            } else {
                Repr::parse(&Packet::new_unchecked(&buf[..]))
            };
            let expected = match len {
                0..20 => Error::truncated(Layer::Eigrp, "header", 0, HEADER_LEN, len),
                20 | 48 | 77 => continue,
                21 | 49 | 78 => Error::truncated(Layer::Eigrp, "tlv type", len - 1, 2, len),
                22..=23 | 50..=51 | 79..=80 => {
                    let start = [20, 48, 77].into_iter().rev().find(|&s| s <= len).unwrap();
                    Error::truncated(Layer::Eigrp, "tlv length", start + 2, 2, len)
                }
                _ => {
                    let start = [20, 48, 77].into_iter().rev().find(|&s| s <= len).unwrap();
                    let claimed = usize::from(UPDATE[start + 3]);
                    Error::bad_length(Layer::Eigrp, "tlv length", start + 2, claimed, len - start)
                }
            };
            assert_eq!(result, Err(expected), "{len} bytes");
        }
    }

    #[test]
    fn display_variants() {
        let tlvs = [
            Tlv::Parameters(Parameters::GOODBYE),
            Tlv::SoftwareVersion(SoftwareVersion {
                release: [12, 4],
                tlv_version: [1, 2],
            }),
            Tlv::Unknown {
                ty: crate::consts::TlvType(0x7777),
                value: &[],
            },
        ];
        let repr = Repr {
            opcode: OpCode::HELLO,
            flags: Flags::INIT | Flags::CR,
            sequence: 1,
            ack: 9,
            virtual_router_id: 1,
            autonomous_system: 1,
            tlvs: Tlvs::new(&tlvs),
        };
        assert_eq!(repr.parameters(), Some(Parameters::GOODBYE));
        assert_eq!(
            repr.to_string(),
            "Hello (Ack) AS 1 flags INIT|CR seq 1 ack 9 vrid 0x0001 [Parameters goodbye, SoftwareVersion 12.4 tlv 1.2, TLV 0x7777]"
        );
        let empty = Repr {
            opcode: OpCode(42),
            tlvs: Tlvs::new(&[]),
            ack: 0,
            ..repr
        };
        assert_eq!(
            empty.to_string(),
            "Opcode 42 AS 1 flags INIT|CR seq 1 ack 0 vrid 0x0001"
        );
    }
}
