//! Lax decoding of a packet cut short, as a capture's snapshot length cuts it: what fits, and the
//! error that stopped the decoding (the etherparse `LaxSlicedPacket` pattern).
//!
//! ```
//! use dmvpn_nhrp::{OpType, Repr, lax};
//!
//! // packetlife/NHRP_registration.cap frame 1, cut after 40 of its 92 bytes.
//! #[rustfmt::skip]
//! let cut = [
//!     0x00, 0x01, 0x08, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0xff, 0x00, 0x5c, 0x79, 0xfe, 0x00, 0x34,
//!     0x01, 0x03, 0x04, 0x00, 0x04, 0x04, 0x80, 0x02, 0x00, 0x00, 0x00, 0x06, 0xac, 0x10, 0x19, 0x02,
//!     0xc0, 0xa8, 0x00, 0x02, 0xc0, 0xa8, 0x00, 0x01,
//! ];
//! let lax = lax::parse(&cut);
//! assert_eq!(lax.header.map(|h| h.op_type), Some(OpType::REGISTRATION_REQUEST));
//! let repr: Repr<'_> = lax.repr.unwrap(); // the mandatory part fits, no CIE does
//! assert_eq!(repr.request_id(), Some(6));
//! assert!(repr.cies().is_empty());
//! assert!(lax.stop.is_some()); // the CIE list is cut
//! ```

use dmvpn_wire::{Error, Layer};

use crate::cie::{self, CieList};
use crate::consts::{AddressFamily, OpType, ProtocolType};
use crate::extension::{self, ExtensionList};
use crate::header::{Packet, VERSION, check_extension_offset, check_source_type_lens, field};
use crate::mandatory::NbmaAddress;
use crate::message::{Message, Repr};

/// The fixed header (RFC 2332 §5.1) up to `ar$op.type`, the part of a cut packet that is always
/// decoded first (`ar$shtl` and `ar$sstl`, its last two bytes, belong with the addresses).
#[derive(Clone, Copy, Debug, Eq, PartialEq)]
pub struct FixedHeader {
    /// `ar$afn`.
    pub afn: AddressFamily,
    /// `ar$pro.type`.
    pub protocol_type: ProtocolType,
    /// `ar$hopcnt`.
    pub hop_count: u8,
    /// `ar$pktsz`: the length of the whole packet, as the sender wrote it.
    pub packet_size: u16,
    /// `ar$extoff`.
    pub extension_offset: u16,
    /// `ar$op.version`.
    pub version: u8,
    /// `ar$op.type`.
    pub op_type: OpType,
}

/// What [`parse`] decoded of a packet that may be cut short.
#[derive(Clone, Debug, Eq, PartialEq)]
pub struct Lax<'a> {
    /// The fixed header, `None` when fewer than its first 18 bytes (up to `ar$op.type`) are there.
    pub header: Option<FixedHeader>,
    /// The packet with the CIEs and extensions that are whole, when the mandatory part up to the
    /// destination protocol address is there (its checksum cannot be verified on a cut packet).
    pub repr: Option<Repr<'a>>,
    /// What stopped the decoding, if anything did.
    pub stop: Option<Error>,
}

/// Decodes as much of `bytes` as is there: a whole packet parses as [`Repr::parse`] would; a cut
/// one gives its fixed header, then (when its addresses fit) a [`Repr`] holding the CIEs and
/// extensions that are whole, and in [`Lax::stop`] the error at the first one that is not.
#[must_use]
pub fn parse(bytes: &[u8]) -> Lax<'_> {
    let Some(header) = fixed_header(bytes) else {
        return Lax {
            header: None,
            repr: None,
            stop: Some(Error::truncated(
                Layer::Nhrp,
                "fixed header",
                0,
                field::OP_TYPE + 1,
                bytes.len(),
            )),
        };
    };
    let size = usize::from(header.packet_size);
    if size <= bytes.len() {
        let parsed = Packet::new_checked(bytes).and_then(|packet| Repr::parse(&packet));
        return match parsed {
            Ok(repr) => Lax {
                header: Some(header),
                repr: Some(repr),
                stop: None,
            },
            Err(error) => Lax {
                header: Some(header),
                repr: None,
                stop: Some(error),
            },
        };
    }
    match cut(bytes, &header) {
        Ok((repr, stop)) => Lax {
            header: Some(header),
            repr: Some(repr),
            stop,
        },
        Err(error) => Lax {
            header: Some(header),
            repr: None,
            stop: Some(error),
        },
    }
}

fn fixed_header(bytes: &[u8]) -> Option<FixedHeader> {
    if bytes.len() <= field::OP_TYPE {
        return None;
    }
    let packet = Packet::new_unchecked(bytes);
    Some(FixedHeader {
        afn: packet.afn(),
        protocol_type: packet.protocol_type(),
        hop_count: packet.hop_count(),
        packet_size: packet.packet_size(),
        extension_offset: packet.extension_offset(),
        version: packet.version(),
        op_type: packet.op_type(),
    })
}

/// The part of a packet longer than `bytes` that is there, and the error where it is cut.
fn cut<'a>(bytes: &'a [u8], header: &FixedHeader) -> Result<(Repr<'a>, Option<Error>), Error> {
    if header.version != VERSION {
        return Err(Error::Unsupported {
            layer: Layer::Nhrp,
            field: "version",
            offset: field::VERSION,
            value: header.version.into(),
        });
    }
    dmvpn_wire::check_fields!(
        Layer::Nhrp,
        bytes.len(),
        [("mandatory part", field::HEADER_LEN..field::ADDRESSES)]
    );
    let packet = Packet::new_unchecked(bytes);
    let size = usize::from(header.packet_size);
    let extoff = usize::from(header.extension_offset);
    check_extension_offset(extoff, size)?;
    check_source_type_lens(bytes)?;
    let mandatory_end = if extoff == 0 { size } else { extoff };
    let address = |range: core::ops::Range<usize>, name: &'static str| {
        dmvpn_wire::check_fields!(Layer::Nhrp, mandatory_end, [(name, range.clone())]);
        bytes
            .get(range.clone())
            .ok_or_else(|| dmvpn_wire::field::truncated(Layer::Nhrp, name, &range, bytes.len()))
    };
    let src_nbma = NbmaAddress {
        format: packet.src_nbma_type_len().0,
        bytes: address(packet.src_nbma_range(), "source NBMA address")?,
    };
    let src_nbma_sub = NbmaAddress {
        format: packet.src_nbma_sub_type_len().0,
        bytes: address(packet.src_nbma_sub_range(), "source NBMA subaddress")?,
    };
    let src_proto = address(packet.src_proto_range(), "source protocol address")?;
    let dst_proto_range = packet.dst_proto_range();
    let dst_proto = address(dst_proto_range.clone(), "destination protocol address")?;
    let body_start = dst_proto_range.end;
    let body = bytes
        .get(body_start..mandatory_end.min(bytes.len()))
        .unwrap_or_default();
    let mut stop = None;
    let message = Message::parse_body(header.op_type, &packet, body, |body| {
        let (whole, error) = whole_prefix(body, body_start, |rest| {
            cie::Cie::new_checked(rest).map(|c| c.total_len())
        });
        stop = error;
        CieList::parse(whole, body_start)
    })?;
    if body_start + body.len() < mandatory_end {
        stop.get_or_insert(Error::truncated(
            Layer::Nhrp,
            "mandatory part",
            body_start,
            mandatory_end - body_start,
            bytes.len() - body_start,
        ));
    }
    let mut extensions = None;
    if extoff != 0 && stop.is_none() {
        let area = bytes.get(extoff..size.min(bytes.len())).unwrap_or_default();
        let (whole, error) = whole_prefix(area, extoff, |rest| {
            extension::Extension::new_checked(rest).map(|e| e.total_len())
        });
        match ExtensionList::parse(whole, extoff) {
            Ok(list) => {
                extensions = Some(list);
                stop = error;
            }
            Err(error) => stop = Some(error),
        }
    }
    // `ar$pktsz` runs past the bytes there are (the caller checked): say where they end.
    let stop = stop.or(Some(Error::truncated(
        Layer::Nhrp,
        "extension",
        bytes.len(),
        size - bytes.len(),
        0,
    )));
    let repr = Repr {
        afn: header.afn,
        protocol_type: header.protocol_type,
        protocol_snap: packet.protocol_snap(),
        hop_count: header.hop_count,
        src_nbma,
        src_nbma_sub,
        src_proto,
        dst_proto,
        message,
        extensions,
    };
    Ok((repr, stop))
}

/// The longest prefix of `bytes` made of whole items (each `item_len` long), and the error at the
/// first item that is not whole (offsets rebased by `base`).
fn whole_prefix(
    bytes: &[u8],
    base: usize,
    item_len: impl Fn(&[u8]) -> Result<usize, Error>,
) -> (&[u8], Option<Error>) {
    let mut at = 0;
    while let Some(rest) = bytes.get(at..).filter(|rest| !rest.is_empty()) {
        match item_len(rest) {
            Ok(len) if len > 0 => at += len,
            Ok(_) => break,
            Err(error) => return (&bytes[..at], Some(error.at_offset(base + at))),
        }
    }
    (bytes.get(..at).unwrap_or_default(), None)
}

#[cfg(test)]
mod tests {
    use super::*;

    dmvpn_wire::hex_consts! {
        // packetlife/NHRP_registration.cap frame 3: a Registration Reply, 112 bytes.
        const REPLY: [u8; 112] = "000108000000000000ff0070d40e0034010404000404800200000006ac101902c0a80002c0a8000100ff000005ea1c2000000000800300140000000005ea1c2004000400ac100f02c0a800018004000080050000000900140020000005ea000004000400ac100f02c0a8000180000000";
    }

    #[test]
    fn whole_packet_parses_as_repr_parse() {
        let lax = parse(&REPLY);
        let packet = Packet::new_checked(&REPLY[..]).unwrap();
        assert_eq!(lax.repr, Some(Repr::parse(&packet).unwrap()));
        assert_eq!(lax.stop, None);
    }

    #[test]
    fn every_prefix_keeps_what_is_whole() {
        let whole = Repr::parse(&Packet::new_checked(&REPLY[..]).unwrap()).unwrap();
        let whole_cies: Vec<_> = whole.cies().iter().collect();
        let whole_exts: Vec<_> = whole.extension_iter().collect();
        for len in 0..REPLY.len() {
            let lax = parse(&REPLY[..len]);
            assert!(lax.stop.is_some(), "prefix {len} is cut: a stop error");
            assert_eq!(lax.header.is_some(), len > field::OP_TYPE, "prefix {len}");
            if let Some(header) = lax.header {
                assert_eq!(header.op_type, OpType::REGISTRATION_REPLY);
                assert_eq!(header.packet_size, 112);
            }
            // The addresses end at 40, the one CIE at 52, then the extensions at 76 (Responder
            // Address), 80, 84 (Forward and Reverse Transit NHS), 108 (Cisco NAT) and 112 (End).
            assert_eq!(lax.repr.is_some(), len >= 40, "prefix {len}");
            let Some(repr) = lax.repr else { continue };
            assert_eq!(repr.request_id(), Some(6));
            assert_eq!(repr.src_proto, &REPLY[32..36]);
            let cies: Vec<_> = repr.cies().iter().collect();
            assert_eq!(
                cies[..],
                whole_cies[..usize::from(len >= 52)],
                "prefix {len}"
            );
            let exts: Vec<_> = repr.extension_iter().collect();
            let count = [76, 80, 84, 108].iter().filter(|&&end| len >= end).count();
            assert_eq!(exts[..], whole_exts[..count], "prefix {len}");
            assert_eq!(repr.extensions.is_some(), len >= 52, "prefix {len}");
        }
    }

    #[test]
    fn lying_sizes_are_errors_not_panics() {
        let mut bytes = REPLY;
        bytes[field::EXTENSION_OFFSET.end - 1] = 0x10; // extoff 16: inside the fixed header
        let lax = parse(&bytes[..60]);
        assert!(matches!(
            lax.stop,
            Some(Error::InvalidField {
                field: "extension offset",
                ..
            })
        ));
        assert_eq!(lax.repr, None);
        let mut bytes = REPLY;
        bytes[field::VERSION] = 2;
        let lax = parse(&bytes[..60]);
        assert!(matches!(
            lax.stop,
            Some(Error::Unsupported {
                field: "version",
                ..
            })
        ));
    }
}
