//! UDP (RFC 768) and the NAT-T split of its payload (RFC 3948 §2).
//!
//! ```
//! use dmvpn_ip::udp::{self, Payload};
//!
//! // IKE on port 4500 behind the four-byte zero non-ESP marker.
//! let ike = [0x11, 0x94, 0x11, 0x94, 0x00, 0x0e, 0x00, 0x00, 0, 0, 0, 0, 0xaa, 0xbb];
//! let datagram = udp::Packet::new_checked(&ike[..])?;
//! assert_eq!(udp::classify(datagram.src_port(), datagram.dst_port(), datagram.payload()),
//!            Payload::Ike { non_esp_marker: true, message: &[0xaa, 0xbb] });
//! assert_eq!(udp::classify(4500, 4500, &[0xff]), Payload::NatKeepalive);
//! assert_eq!(udp::classify(4500, 4500, &[0, 0, 0x12, 0x34, 0, 0, 0, 1]),
//!            Payload::Esp(&[0, 0, 0x12, 0x34, 0, 0, 0, 1]));
//! # Ok::<(), dmvpn_wire::Error>(())
//! ```

use core::net::{Ipv4Addr, Ipv6Addr};

use dmvpn_wire::checksum::Checksum;
use dmvpn_wire::field::{Field, check_length};
use dmvpn_wire::{Error, Layer, Result};

use super::ipv4::Protocol;

/// IKE's port (RFC 2408 §2.5.1 / RFC 2409).
pub const IKE_PORT: u16 = 500;
/// The NAT-T port for IKE and UDP-encapsulated ESP (RFC 3947 §4, RFC 3948 §2).
pub const NAT_T_PORT: u16 = 4500;
/// The GRE-in-UDP port (RFC 8086 §3).
pub const GRE_PORT: u16 = dmvpn_gre::UDP_PORT;

/// Byte positions of the header fields.
pub mod field {
    use super::Field;
    /// Source port.
    pub const SRC_PORT: Field = 0..2;
    /// Destination port.
    pub const DST_PORT: Field = 2..4;
    /// Length of header and payload.
    pub const LENGTH: Field = 4..6;
    /// Checksum (0 = none, RFC 768).
    pub const CHECKSUM: Field = 6..8;
}

/// The header length.
pub const HEADER_LEN: usize = 8;

dmvpn_wire::view! {
    /// A read/write view over a UDP datagram.
    #[derive(Clone, Copy, Debug, Eq, PartialEq)]
    pub struct Packet, error = Error;
}

impl<T: AsRef<[u8]>> Packet<T> {
    /// Wraps a datagram the capture's snapshot length may have cut: only the header and a length
    /// field of at least 8 are checked, and [`Packet::payload`] is what was captured of the payload.
    pub fn new_truncated(buffer: T) -> Result<Self> {
        let packet = Self::new_unchecked(buffer);
        match packet.check_len() {
            Err(Error::BadLength { claimed, .. }) if claimed >= HEADER_LEN => Ok(packet),
            checked => checked.map(|()| packet),
        }
    }

    /// Whether the buffer ends before the length field says (the snapshot length cut it).
    #[must_use]
    pub fn is_truncated(&self) -> bool {
        usize::from(self.len()) > self.buffer.as_ref().len()
    }

    /// Checks for a full header and a length field between 8 and the bytes there are.
    pub fn check_len(&self) -> Result<()> {
        let data = self.buffer.as_ref();
        if data.len() < HEADER_LEN {
            let (field, offset) = match data.len() {
                0 | 1 => ("source port", 0),
                2 | 3 => ("destination port", 2),
                4 | 5 => ("length", 4),
                _ => ("checksum", 6),
            };
            return Err(Error::truncated(Layer::Udp, field, offset, 2, data.len()));
        }
        let len = usize::from(self.len());
        check_length(
            Layer::Udp,
            "length",
            field::LENGTH.start,
            len,
            HEADER_LEN..=data.len(),
        )
    }

    dmvpn_wire::getters! {
        /// Source port.
        pub fn src_port -> u16 = field::SRC_PORT;
        /// Destination port.
        pub fn dst_port -> u16 = field::DST_PORT;
        /// The length field (header included).
        pub fn len -> u16 = field::LENGTH;
    }

    /// Whether the payload is empty.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.len() <= HEADER_LEN as u16
    }

    dmvpn_wire::getters! {
        /// The checksum field.
        pub fn checksum -> u16 = field::CHECKSUM;
    }

    /// Whether the checksum is right for an IPv4 pseudo-header (RFC 768); a zero checksum means
    /// "not computed" and passes.
    #[must_use]
    pub fn verify_checksum(&self, src: Ipv4Addr, dst: Ipv4Addr) -> bool {
        self.checksum() == 0
            || pseudo_sum(src, dst, &self.buffer.as_ref()[..usize::from(self.len())]).finish() == 0
    }

    /// Whether the checksum is right for an IPv6 pseudo-header (RFC 8200 §8.1). Over IPv6 a zero
    /// checksum is not allowed (RFC 6935 permits it only for tunnels), so zero fails.
    #[must_use]
    pub fn verify_checksum_v6(&self, src: Ipv6Addr, dst: Ipv6Addr) -> bool {
        let datagram = &self.buffer.as_ref()[..usize::from(self.len())];
        self.checksum() != 0 && pseudo_sum_v6(src, dst, datagram).finish() == 0
    }
}

fn pseudo_sum_v6(src: Ipv6Addr, dst: Ipv6Addr, datagram: &[u8]) -> Checksum {
    let mut sum = Checksum::new();
    sum.add(&src.octets());
    sum.add(&dst.octets());
    sum.add(&(datagram.len() as u32).to_be_bytes());
    sum.add(&[0, 0, 0, Protocol::UDP.0]);
    sum.add(datagram);
    sum
}

fn pseudo_sum(src: Ipv4Addr, dst: Ipv4Addr, datagram: &[u8]) -> Checksum {
    let mut sum = Checksum::new();
    sum.add(&src.octets());
    sum.add(&dst.octets());
    sum.add_u16(u16::from(Protocol::UDP.0));
    sum.add_u16(datagram.len() as u16);
    sum.add(datagram);
    sum
}

impl<'a, T: AsRef<[u8]> + ?Sized> Packet<&'a T> {
    /// The payload, up to the length field (bytes after it are ignored), or to the end of the
    /// buffer if it was cut short (see [`Packet::new_truncated`]).
    #[must_use]
    pub fn payload(&self) -> &'a [u8] {
        let data = self.buffer.as_ref();
        data.get(HEADER_LEN..usize::from(self.len()).min(data.len()))
            .unwrap_or_default()
    }
}

impl<T: AsRef<[u8]> + AsMut<[u8]>> Packet<T> {
    dmvpn_wire::setters! {
        /// Sets the source port.
        pub fn set_src_port(u16) = field::SRC_PORT;
        /// Sets the destination port.
        pub fn set_dst_port(u16) = field::DST_PORT;
        /// Sets the length field.
        pub fn set_len(u16) = field::LENGTH;
        /// Sets the checksum field.
        pub fn set_checksum(u16) = field::CHECKSUM;
    }

    /// Computes and stores the checksum over an IPv4 pseudo-header (0 is sent as 0xffff).
    pub fn fill_checksum(&mut self, src: Ipv4Addr, dst: Ipv4Addr) {
        self.set_checksum(0);
        let len = usize::from(self.len());
        let sum = pseudo_sum(src, dst, &self.buffer.as_ref()[..len]).finish();
        self.set_checksum(if sum == 0 { 0xffff } else { sum });
    }

    /// Computes and stores the checksum over an IPv6 pseudo-header (RFC 8200 §8.1; 0 is sent as
    /// 0xffff, since over IPv6 zero means none and is not allowed).
    pub fn fill_checksum_v6(&mut self, src: Ipv6Addr, dst: Ipv6Addr) {
        self.set_checksum(0);
        let len = usize::from(self.len());
        let sum = pseudo_sum_v6(src, dst, &self.buffer.as_ref()[..len]).finish();
        self.set_checksum(if sum == 0 { 0xffff } else { sum });
    }

    /// The payload, writable.
    pub fn payload_mut(&mut self) -> &mut [u8] {
        let len = usize::from(self.len());
        &mut self.buffer.as_mut()[HEADER_LEN..len]
    }
}

/// A parsed UDP header and its payload.
#[derive(Clone, Copy, Debug, Eq, Hash, PartialEq)]
pub struct Repr<'a> {
    /// Source port.
    pub src_port: u16,
    /// Destination port.
    pub dst_port: u16,
    /// The checksum as found (0 = none).
    pub checksum: u16,
    /// The payload.
    pub payload: &'a [u8],
}

impl<'a> Repr<'a> {
    /// Parses a datagram; the checksum is kept, not verified (use [`Packet::verify_checksum`]).
    pub fn parse<T: AsRef<[u8]> + ?Sized>(packet: &Packet<&'a T>) -> Result<Self> {
        packet.check_len()?;
        Ok(Self {
            src_port: packet.src_port(),
            dst_port: packet.dst_port(),
            checksum: packet.checksum(),
            payload: packet.payload(),
        })
    }

    /// Header plus payload.
    #[must_use]
    pub const fn buffer_len(&self) -> usize {
        HEADER_LEN + self.payload.len()
    }

    /// Writes header and payload with the checksum for `src` → `dst` (the payload must fit
    /// in 65 527 bytes).
    pub fn emit<T: AsRef<[u8]> + AsMut<[u8]>>(
        &self,
        packet: &mut Packet<T>,
        src: Ipv4Addr,
        dst: Ipv4Addr,
    ) {
        packet.set_src_port(self.src_port);
        packet.set_dst_port(self.dst_port);
        packet.set_len(self.buffer_len() as u16);
        packet.payload_mut().copy_from_slice(self.payload);
        packet.fill_checksum(src, dst);
    }

    /// The NAT-T classification of the payload.
    #[must_use]
    pub fn classify(&self) -> Payload<'a> {
        classify(self.src_port, self.dst_port, self.payload)
    }
}

/// What a UDP payload carries, by the rules of RFC 3948 §2.
#[derive(Clone, Copy, Debug, Eq, Hash, PartialEq)]
pub enum Payload<'a> {
    /// An ISAKMP message: on port 500 as is (`non_esp_marker: false`), on port 4500 after the four-byte
    /// zero non-ESP marker (`non_esp_marker: true`, RFC 3948 §2.2). `message` starts at the ISAKMP header.
    Ike {
        /// Whether a non-ESP marker preceded the message.
        non_esp_marker: bool,
        /// The ISAKMP message.
        message: &'a [u8],
    },
    /// A NAT-keepalive: the single byte 0xff on port 4500 (RFC 3948 §2.3).
    NatKeepalive,
    /// UDP-encapsulated ESP (RFC 3948 §2.1): the payload starts at the SPI.
    Esp(&'a [u8]),
    /// GRE-in-UDP (RFC 8086 §3): the payload starts at the GRE header.
    Gre(&'a [u8]),
    /// Neither port is 500 or 4500.
    Other(&'a [u8]),
}

/// Classifies a UDP payload by port and first bytes.
///
/// The destination port decides first, then the source port (a NATed initiator's source port may
/// be anything, including by chance 500 or 4500). On port 4500 a payload of four zero bytes or
/// more is IKE behind the marker, `[0xff]` is a keepalive, and anything else is ESP, even if
/// shorter than an ESP header (the ESP parser reports that). Any other datagram to or from port
/// 4754 is GRE-in-UDP (RFC 8086 §3 sends to it from an entropy source port; tshark, too, takes
/// either port).
#[must_use]
pub fn classify(src_port: u16, dst_port: u16, payload: &[u8]) -> Payload<'_> {
    let port = if matches!(dst_port, IKE_PORT | NAT_T_PORT) {
        dst_port
    } else {
        src_port
    };
    match port {
        IKE_PORT => Payload::Ike {
            non_esp_marker: false,
            message: payload,
        },
        NAT_T_PORT => match payload {
            [0xff] => Payload::NatKeepalive,
            [0, 0, 0, 0, message @ ..] => Payload::Ike {
                non_esp_marker: true,
                message,
            },
            _ => Payload::Esp(payload),
        },
        _ if dst_port == GRE_PORT || src_port == GRE_PORT => Payload::Gre(payload),
        _ => Payload::Other(payload),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    dmvpn_wire::hex_consts! {
        /// tcpdump espudp1.pcap frame 1: UDP 4500 -> 4500 carrying ESP SPI 0x12345678.
        const ESPUDP1: [u8; 16] = "11941194001000001234567800000001";
    }

    #[test]
    fn deconstruct() {
        let packet = Packet::new_checked(&ESPUDP1[..]).unwrap();
        assert_eq!(
            (
                packet.src_port(),
                packet.dst_port(),
                packet.len(),
                packet.checksum()
            ),
            (4500, 4500, 16, 0)
        );
        assert!(packet.verify_checksum(Ipv4Addr::LOCALHOST, Ipv4Addr::LOCALHOST));
        assert_eq!(packet.payload(), &ESPUDP1[8..]);
        let repr = Repr::parse(&packet).unwrap();
        assert_eq!(repr.classify(), Payload::Esp(&ESPUDP1[8..]));
    }

    #[test]
    fn construct_round_trip_and_checksum() {
        let (src, dst) = (Ipv4Addr::new(192, 1, 2, 23), Ipv4Addr::new(192, 1, 2, 45));
        let repr = Repr {
            src_port: 500,
            dst_port: 500,
            checksum: 0,
            payload: b"isakmp header...",
        };
        let mut bytes = vec![0u8; repr.buffer_len() + 2];
        repr.emit(&mut Packet::new_unchecked(&mut bytes[..]), src, dst);
        let packet = Packet::new_checked(&bytes[..]).unwrap();
        assert!(packet.verify_checksum(src, dst));
        assert!(!packet.verify_checksum(src, Ipv4Addr::new(192, 1, 2, 46)));
        let parsed = Repr::parse(&packet).unwrap();
        assert_eq!(
            parsed,
            Repr {
                checksum: packet.checksum(),
                ..repr
            }
        );
        assert_eq!(
            parsed.classify(),
            Payload::Ike {
                non_esp_marker: false,
                message: b"isakmp header..."
            }
        );
    }

    #[test]
    fn ipv6_checksum() {
        // testdata/capture/sll2.pcap frame 2: UDP 4500 -> 4500 from 2001:db8::1 to 2001:db8::2,
        // checksum 0x3e1c, which tshark reports as good.
        #[rustfmt::skip]
        let mut bytes = [
            0x11, 0x94, 0x11, 0x94, 0x00, 0x30, 0x3e, 0x1c, 0x00, 0x00, 0xab, 0xcd, 0x00, 0x00, 0x00, 0x01,
            0x00, 0x07, 0x0e, 0x15, 0x1c, 0x23, 0x2a, 0x31, 0x38, 0x3f, 0x46, 0x4d, 0x54, 0x5b, 0x62, 0x69,
            0x70, 0x77, 0x7e, 0x85, 0x8c, 0x93, 0x9a, 0xa1, 0xa8, 0xaf, 0xb6, 0xbd, 0xc4, 0xcb, 0xd2, 0xd9,
        ];
        let src: Ipv6Addr = "2001:db8::1".parse().unwrap();
        let dst: Ipv6Addr = "2001:db8::2".parse().unwrap();
        assert!(
            Packet::new_checked(&bytes[..])
                .unwrap()
                .verify_checksum_v6(src, dst)
        );
        let other: Ipv6Addr = "2001:db8::3".parse().unwrap();
        assert!(
            !Packet::new_checked(&bytes[..])
                .unwrap()
                .verify_checksum_v6(src, other)
        );
        bytes[6..8].fill(0);
        assert!(
            !Packet::new_checked(&bytes[..])
                .unwrap()
                .verify_checksum_v6(src, dst)
        );
    }

    #[test]
    fn classification() {
        let esp = [1, 2, 3, 4, 0, 0, 0, 1];
        let cases: [(u16, u16, &[u8], Payload<'_>); 12] = [
            (
                500,
                500,
                &[1, 2],
                Payload::Ike {
                    non_esp_marker: false,
                    message: &[1, 2],
                },
            ),
            (
                4500,
                4500,
                &[0, 0, 0, 0, 9],
                Payload::Ike {
                    non_esp_marker: true,
                    message: &[9],
                },
            ),
            (
                4500,
                4500,
                &[0, 0, 0, 0],
                Payload::Ike {
                    non_esp_marker: true,
                    message: &[],
                },
            ),
            (4500, 4500, &[0xff], Payload::NatKeepalive),
            (4500, 4500, &esp, Payload::Esp(&esp)),
            (4500, 4500, &[0, 0, 0], Payload::Esp(&[0, 0, 0])),
            (61000, 4500, &[0xff], Payload::NatKeepalive),
            (
                4500,
                500,
                &[0, 0, 0, 0],
                Payload::Ike {
                    non_esp_marker: false,
                    message: &[0, 0, 0, 0],
                },
            ),
            (49152, 4754, &[0, 0, 8, 0], Payload::Gre(&[0, 0, 8, 0])),
            (4754, 50000, &[0x20], Payload::Gre(&[0x20])),
            // The IKE ports come first: NAT-T from port 4754 is still NAT-T.
            (4754, 4500, &[0xff], Payload::NatKeepalive),
            (53, 1234, &[7], Payload::Other(&[7])),
        ];
        for (src, dst, payload, expected) in cases {
            assert_eq!(
                classify(src, dst, payload),
                expected,
                "{src} -> {dst} {payload:?}"
            );
        }
        assert_eq!(
            classify(4500, 33000, &[0xff, 0xff]),
            Payload::Esp(&[0xff, 0xff])
        );
    }

    #[test]
    fn truncation_loop_and_length_errors() {
        for len in 0..8 {
            let err = Packet::new_checked(&ESPUDP1[..len]).unwrap_err();
            assert!(
                matches!(
                    err,
                    Error::Truncated {
                        layer: Layer::Udp,
                        ..
                    }
                ),
                "{err}"
            );
            assert_eq!(err.offset(), len / 2 * 2);
        }
        for len in 8..16 {
            assert_eq!(
                Packet::new_checked(&ESPUDP1[..len])
                    .unwrap_err()
                    .to_string(),
                format!(
                    "udp: length field `length` at offset 4 says 16 bytes, but {len} are there"
                )
            );
        }
        let mut short = ESPUDP1;
        short[5] = 7;
        assert!(matches!(
            Packet::new_checked(&short[..]),
            Err(Error::BadLength { claimed: 7, .. })
        ));
    }

    #[test]
    fn arbitrary_bytes_never_panic() {
        bolero::check!().for_each(|bytes: &[u8]| {
            if let Ok(packet) = Packet::new_checked(bytes) {
                let repr = Repr::parse(&packet).unwrap();
                assert_eq!(repr.buffer_len(), usize::from(packet.len()));
                let _ = repr.classify();
            }
        });
    }

    #[test]
    fn arbitrary_repr_round_trips() {
        bolero::check!()
            .with_type::<(u16, u16, Vec<u8>)>()
            .for_each(|(src_port, dst_port, payload)| {
                let repr = Repr {
                    src_port: *src_port,
                    dst_port: *dst_port,
                    checksum: 0,
                    payload,
                };
                let mut bytes = vec![0u8; repr.buffer_len()];
                repr.emit(
                    &mut Packet::new_unchecked(&mut bytes[..]),
                    Ipv4Addr::LOCALHOST,
                    Ipv4Addr::BROADCAST,
                );
                let packet = Packet::new_checked(&bytes[..]).unwrap();
                assert!(packet.verify_checksum(Ipv4Addr::LOCALHOST, Ipv4Addr::BROADCAST));
                assert_eq!(
                    Repr::parse(&packet).unwrap(),
                    Repr {
                        checksum: packet.checksum(),
                        ..repr
                    }
                );
            });
    }

    #[test]
    fn ipv6_checksum_fills_and_verifies() {
        let (src, dst) = (
            "2001:db8::1".parse().unwrap(),
            "2001:db8::2".parse().unwrap(),
        );
        let repr = Repr {
            src_port: 4500,
            dst_port: 4500,
            checksum: 0,
            payload: b"esp!",
        };
        let mut bytes = vec![0u8; repr.buffer_len()];
        let mut packet = Packet::new_unchecked(&mut bytes[..]);
        repr.emit(&mut packet, Ipv4Addr::UNSPECIFIED, Ipv4Addr::UNSPECIFIED);
        packet.fill_checksum_v6(src, dst);
        let packet = Packet::new_checked(&bytes[..]).unwrap();
        assert!(packet.verify_checksum_v6(src, dst));
        assert!(!packet.verify_checksum_v6(dst, "2001:db8::3".parse().unwrap()));
    }
}
