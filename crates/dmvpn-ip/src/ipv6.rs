//! A minimal IPv6 codec (RFC 8200): the fixed header, then extension headers skipped up to
//! [`MAX_EXTENSION_HEADERS`], so ESP, UDP or GRE over IPv6 can be reached. Fragments are reported,
//! not reassembled. [`Repr::emit`] writes a parsed or built packet back.
//!
//! ```
//! use dmvpn_ip::ipv4::Protocol;
//! use dmvpn_ip::ipv6::Repr;
//!
//! let mut packet = vec![0x60, 0, 0, 0, 0, 12, 60, 64];
//! packet.extend_from_slice(&[0; 32]);                 // addresses
//! packet.extend_from_slice(&[50, 0, 1, 4, 0, 0, 0, 0]); // destination options (PadN), next: ESP
//! packet.extend_from_slice(&[0xaa; 4]);
//! let repr = Repr::parse(&packet)?;
//! assert_eq!(repr.next_header, Protocol::IPV6_OPTS);
//! assert_eq!(repr.protocol, Protocol::ESP);
//! assert_eq!(repr.payload, &[0xaa; 4]);
//! # Ok::<(), dmvpn_wire::Error>(())
//! ```

use core::net::Ipv6Addr;

use dmvpn_wire::{Error, Layer, Reader, Result};

use super::ipv4::Protocol;

/// The fixed header length.
pub const HEADER_LEN: usize = 40;

/// The most extension headers [`Repr::parse`] skips before giving up.
pub const MAX_EXTENSION_HEADERS: usize = 8;

/// An IPv6 Fragment header (RFC 8200 §4.5).
#[derive(Clone, Copy, Debug, Eq, Hash, PartialEq)]
pub struct Fragment {
    /// Offset of this fragment's data in bytes.
    pub offset: u16,
    /// More fragments follow.
    pub more: bool,
    /// Identification.
    pub ident: u32,
}

/// A parsed IPv6 header with its extension headers skipped.
#[derive(Clone, Copy, Debug, Eq, Hash, PartialEq)]
pub struct Repr<'a> {
    /// Traffic class.
    pub traffic_class: u8,
    /// Flow label (20 bits).
    pub flow_label: u32,
    /// The payload length field.
    pub payload_len: u16,
    /// The fixed header's next header.
    pub next_header: Protocol,
    /// Hop limit.
    pub hop_limit: u8,
    /// Source address.
    pub src: Ipv6Addr,
    /// Destination address.
    pub dst: Ipv6Addr,
    /// The extension headers, raw.
    pub extensions: &'a [u8],
    /// The Fragment header, if one was passed.
    pub fragment: Option<Fragment>,
    /// The upper-layer protocol after the extension headers.
    pub protocol: Protocol,
    /// The upper-layer payload (bounded by `payload_len`; Ethernet padding is trimmed).
    pub payload: &'a [u8],
}

impl<'a> Repr<'a> {
    /// Parses the fixed header and skips Hop-by-Hop, Routing, Fragment and Destination Options
    /// headers. A non-first fragment stops the walk: its payload is not an upper-layer header.
    pub fn parse(data: &'a [u8]) -> Result<Self> {
        Self::parse_with(data, false)
    }

    /// Like [`Repr::parse`], for a packet the capture's snapshot length may have cut: a payload
    /// shorter than `payload length` is taken as far as it goes ([`Repr::is_truncated`] says
    /// whether it was cut).
    pub fn parse_truncated(data: &'a [u8]) -> Result<Self> {
        Self::parse_with(data, true)
    }

    /// Whether the payload is shorter than `payload length` says (see [`Repr::parse_truncated`]).
    #[must_use]
    pub fn is_truncated(&self) -> bool {
        self.extensions.len() + self.payload.len() < usize::from(self.payload_len)
    }

    /// The header length [`Repr::emit`] writes: the fixed header and the extension headers.
    #[must_use]
    pub const fn header_len(&self) -> usize {
        HEADER_LEN + self.extensions.len()
    }

    /// The whole packet's length: headers and payload.
    #[must_use]
    pub const fn buffer_len(&self) -> usize {
        self.header_len() + self.payload.len()
    }

    /// Writes the packet into the first [`Repr::buffer_len`] bytes of `buffer`: the fixed header
    /// (version 6, `payload length` recomputed from the extensions and payload, saturating at
    /// 65 535), the extension headers as they are (they carry `fragment` and `protocol`), then
    /// the payload.
    ///
    /// # Panics
    /// If `buffer` is shorter than [`Repr::buffer_len`].
    pub fn emit(&self, buffer: &mut [u8]) {
        let (header, rest) = buffer.split_at_mut(HEADER_LEN);
        let first =
            (6 << 28) | (u32::from(self.traffic_class) << 20) | (self.flow_label & 0xf_ffff);
        let payload_len = self.extensions.len() + self.payload.len();
        header[0..4].copy_from_slice(&first.to_be_bytes());
        header[4..6].copy_from_slice(&u16::try_from(payload_len).unwrap_or(u16::MAX).to_be_bytes());
        header[6] = self.next_header.0;
        header[7] = self.hop_limit;
        header[8..24].copy_from_slice(&self.src.octets());
        header[24..40].copy_from_slice(&self.dst.octets());
        let (extensions, rest) = rest.split_at_mut(self.extensions.len());
        extensions.copy_from_slice(self.extensions);
        rest[..self.payload.len()].copy_from_slice(self.payload);
    }

    fn parse_with(data: &'a [u8], truncated: bool) -> Result<Self> {
        let mut reader = Reader::new(Layer::Ipv6, data);
        let first = reader.u32("version, traffic class and flow label")?;
        if first >> 28 != 6 {
            return Err(Error::invalid_field(Layer::Ipv6, "version", 0, first >> 28));
        }
        let payload_len = reader.u16("payload length")?;
        let next_header = Protocol(reader.u8("next header")?);
        let hop_limit = reader.u8("hop limit")?;
        let src = Ipv6Addr::from(reader.array::<16>("source address")?);
        let dst = Ipv6Addr::from(reader.array::<16>("destination address")?);
        // A jumbogram (payload length 0 with a Hop-by-Hop jumbo option) is not supported: the
        // payload is then taken to be empty, as the field says.
        let mut claimed = usize::from(payload_len);
        if truncated {
            claimed = claimed.min(reader.peek_rest().len());
        }
        let mut body = reader.sub(claimed, "payload length")?;
        let extensions_start = body.offset();
        let mut protocol = next_header;
        let mut fragment = None;
        for _ in 0..=MAX_EXTENSION_HEADERS {
            match protocol {
                Protocol::HOP_BY_HOP | Protocol::IPV6_ROUTE | Protocol::IPV6_OPTS => {
                    let next = Protocol(body.u8("next header")?);
                    let len = usize::from(body.u8("header extension length")?) * 8 + 6;
                    body.skip(len, "extension header")?;
                    protocol = next;
                }
                Protocol::IPV6_FRAG => {
                    let next = Protocol(body.u8("next header")?);
                    body.skip(1, "reserved")?;
                    let offset_flags = body.u16("fragment offset")?;
                    let ident = body.u32("identification")?;
                    let frag = Fragment {
                        offset: offset_flags & 0xfff8,
                        more: offset_flags & 1 != 0,
                        ident,
                    };
                    fragment = Some(frag);
                    protocol = next;
                    if frag.offset != 0 {
                        break;
                    }
                }
                _ => break,
            }
        }
        if matches!(
            protocol,
            Protocol::HOP_BY_HOP | Protocol::IPV6_ROUTE | Protocol::IPV6_OPTS
        ) && fragment.is_none_or(|f| f.offset == 0)
        {
            return Err(Error::Unsupported {
                layer: Layer::Ipv6,
                field: "extension header count",
                offset: body.offset(),
                value: MAX_EXTENSION_HEADERS as u32 + 1,
            });
        }
        let extensions_end = body.offset();
        Ok(Self {
            traffic_class: (first >> 20) as u8,
            flow_label: first & 0x000f_ffff,
            payload_len,
            next_header,
            hop_limit,
            src,
            dst,
            extensions: data
                .get(extensions_start..extensions_end)
                .unwrap_or_default(),
            fragment,
            protocol,
            payload: body.rest(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn packet(next: u8, body: &[u8]) -> Vec<u8> {
        let mut out = vec![0x6a, 0xb1, 0x23, 0x45];
        out.extend_from_slice(&(body.len() as u16).to_be_bytes());
        out.extend_from_slice(&[next, 255]);
        out.extend_from_slice(&Ipv6Addr::LOCALHOST.octets());
        out.extend_from_slice(&"2001:db8::1".parse::<Ipv6Addr>().unwrap().octets());
        out.extend_from_slice(body);
        out
    }

    #[test]
    fn fixed_header() {
        let bytes = [packet(17, &[1, 2, 3, 4, 5, 6, 7, 8]), vec![0; 6]].concat();
        let repr = Repr::parse(&bytes).unwrap();
        assert_eq!(
            (repr.traffic_class, repr.flow_label, repr.payload_len),
            (0xab, 0x12345, 8)
        );
        assert_eq!(
            (repr.next_header, repr.protocol, repr.hop_limit),
            (Protocol::UDP, Protocol::UDP, 255)
        );
        assert_eq!(repr.src, Ipv6Addr::LOCALHOST);
        assert_eq!(repr.dst.to_string(), "2001:db8::1");
        assert_eq!(
            repr.payload,
            &[1, 2, 3, 4, 5, 6, 7, 8],
            "padding after the payload length is trimmed"
        );
        assert!(repr.extensions.is_empty());
    }

    #[test]
    fn extension_headers_and_fragments() {
        #[rustfmt::skip]
        let body = [
            60, 0, 1, 4, 0, 0, 0, 0,              // hop-by-hop, next: destination options
            44, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, // destination options (16 bytes), next: fragment
            50, 0, 0x00, 0x01, 0xde, 0xad, 0xbe, 0xef,        // first fragment, M set, next: ESP
            0x12, 0x34,
        ];
        let bytes = packet(0, &body);
        let repr = Repr::parse(&bytes).unwrap();
        assert_eq!(repr.protocol, Protocol::ESP);
        assert_eq!(
            repr.fragment,
            Some(Fragment {
                offset: 0,
                more: true,
                ident: 0xdead_beef
            })
        );
        assert_eq!(repr.extensions.len(), 32);
        assert_eq!(repr.payload, &[0x12, 0x34]);
        // A later fragment: the walk stops at its data.
        let later = packet(44, &[60, 0, 0x05, 0x00, 0, 0, 0, 9, 0xee]);
        let repr = Repr::parse(&later).unwrap();
        assert_eq!(
            repr.fragment,
            Some(Fragment {
                offset: 0x500,
                more: false,
                ident: 9
            })
        );
        assert_eq!(
            (repr.protocol, repr.payload),
            (Protocol::IPV6_OPTS, &[0xee][..])
        );
    }

    #[test]
    fn errors() {
        let mut v4 = packet(59, &[]);
        v4[0] = 0x45;
        assert_eq!(
            Repr::parse(&v4).unwrap_err().to_string(),
            "ipv6: field `version` at offset 0 has invalid value 0x4"
        );
        let mut long = packet(59, &[1, 2]);
        long[5] = 3;
        assert_eq!(
            Repr::parse(&long).unwrap_err(),
            Error::bad_length(Layer::Ipv6, "payload length", 40, 3, 2)
        );
        let many = packet(
            60,
            &[60, 0, 0, 0, 0, 0, 0, 0].repeat(MAX_EXTENSION_HEADERS + 1),
        );
        assert!(matches!(
            Repr::parse(&many),
            Err(Error::Unsupported {
                field: "extension header count",
                ..
            })
        ));
        let cut = packet(60, &[17, 1, 0, 0, 0, 0, 0, 0]);
        assert_eq!(
            Repr::parse(&cut).unwrap_err(),
            Error::truncated(Layer::Ipv6, "extension header", 42, 14, 48)
        );
    }

    #[test]
    fn truncation_loop() {
        let bytes = packet(59, &[]);
        for len in 0..bytes.len() {
            let err = Repr::parse(&bytes[..len]).unwrap_err();
            let (field, offset, needed) = match len {
                0..4 => ("version, traffic class and flow label", 0, 4),
                4..6 => ("payload length", 4, 2),
                6 => ("next header", 6, 1),
                7 => ("hop limit", 7, 1),
                8..24 => ("source address", 8, 16),
                _ => ("destination address", 24, 16),
            };
            assert_eq!(
                err,
                Error::truncated(Layer::Ipv6, field, offset, needed, len),
                "prefix {len}"
            );
        }
    }

    #[test]
    fn arbitrary_bytes_never_panic() {
        bolero::check!().for_each(|bytes: &[u8]| {
            if let Ok(repr) = Repr::parse(bytes) {
                assert!(HEADER_LEN + repr.extensions.len() + repr.payload.len() <= bytes.len());
            }
        });
    }

    #[test]
    fn emit_round_trips() {
        let body = [packet(17, &[1, 2, 3, 4, 5, 6, 7, 8]), vec![0; 6]].concat();
        let repr = Repr::parse(&body).unwrap();
        let mut out = vec![0u8; repr.buffer_len()];
        repr.emit(&mut out);
        assert_eq!(
            out,
            &body[..out.len()],
            "Ethernet padding is not part of the packet"
        );
        assert_eq!(Repr::parse(&out), Ok(repr));
        // With a destination options header before ESP.
        let mut bytes = vec![0x60, 0, 0, 0, 0, 12, 60, 64];
        bytes.extend_from_slice(&[0; 32]);
        bytes.extend_from_slice(&[50, 0, 1, 4, 0, 0, 0, 0, 0xaa, 0xbb, 0xcc, 0xdd]);
        let repr = Repr::parse(&bytes).unwrap();
        let mut out = vec![0u8; repr.buffer_len()];
        repr.emit(&mut out);
        assert_eq!(out, bytes);
    }
}
