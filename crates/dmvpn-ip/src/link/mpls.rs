//! MPLS label stacks (RFC 3032) and Ethernet pseudowires (RFC 4448) under a link layer.

use super::*;

/// One MPLS label stack entry (RFC 3032 §2.1, TC named by RFC 5462).
#[derive(Clone, Copy, Debug, Default, Eq, Hash, PartialEq)]
pub struct MplsEntry {
    /// The label (20 bits); 0 to 15 are reserved (0 IPv4 explicit null, 2 IPv6 explicit null, …).
    pub label: u32,
    /// Traffic class (3 bits, the former EXP field).
    pub tc: u8,
    /// Bottom of stack (S bit): the last entry.
    pub bottom: bool,
    /// Time to live.
    pub ttl: u8,
}

/// The label stack entries of an MPLS packet, outermost first; the last has the bottom-of-stack
/// bit.
pub type MplsLabels = Stack<MplsEntry, MAX_MPLS_LABELS>;

/// An MPLS packet split at the bottom of its label stack.
#[derive(Clone, Copy, Debug, Eq, PartialEq)]
pub struct Mpls<'a> {
    /// The label stack, outermost first.
    pub labels: MplsLabels,
    /// What the payload is, guessed from its first nibble as tshark does (RFC 3032 leaves it to the
    /// label's binding): [`EtherType::IPV4`] for 4, [`EtherType::IPV6`] for 6, `EtherType(0)`
    /// otherwise (a pseudowire, or nothing).
    pub ethertype: EtherType,
    /// The bytes under the stack.
    pub payload: &'a [u8],
}

/// Reads an MPLS label stack (RFC 3032 §2.1) down to the entry with the bottom-of-stack bit and
/// guesses the payload's protocol from its first nibble.
///
/// Errors name `layer` (what carried the MPLS packet: [`Layer::Ethernet`], [`Layer::Sll`],
/// [`Layer::Gre`] …) and offsets counted from `base`, the position of `data` in that layer: a
/// truncated `mpls label stack entry`, or an [`Error::Unsupported`] `mpls label stack depth` when
/// more than [`MAX_MPLS_LABELS`] entries come without a bottom one.
///
/// ```
/// use dmvpn_ip::link::{self, EtherType};
/// use dmvpn_wire::Layer;
///
/// // Label 16, TC 0, TTL 64; then label 17 with the S bit, TTL 255; then an IPv6 header.
/// let bytes = [0x00, 0x01, 0x00, 0x40, 0x00, 0x01, 0x11, 0xff, 0x60, 0x00];
/// let mpls = link::mpls(&bytes, Layer::Ethernet, 14)?;
/// assert_eq!(mpls.labels.iter().map(|e| e.label).collect::<Vec<_>>(), [16, 17]);
/// assert!(mpls.labels[1].bottom && !mpls.labels[0].bottom);
/// assert_eq!((mpls.ethertype, mpls.payload), (EtherType::IPV6, &[0x60, 0x00][..]));
/// assert_eq!(
///     link::mpls(&bytes[..6], Layer::Ethernet, 14).unwrap_err().to_string(),
///     "eth: truncated reading `mpls label stack entry` at offset 18: need 4 bytes, have 2"
/// );
/// # Ok::<(), dmvpn_wire::Error>(())
/// ```
pub fn mpls(data: &[u8], layer: Layer, base: usize) -> Result<Mpls<'_>> {
    let mut reader = Reader::with_base(layer, data, base);
    let mut labels = MplsLabels::default();
    loop {
        labels.check_room(layer, "mpls label stack depth", reader.offset())?;
        let entry = reader.u32("mpls label stack entry")?;
        let bottom = entry & 0x100 != 0;
        labels.push(MplsEntry {
            label: entry >> 12,
            tc: ((entry >> 9) & 0x7) as u8,
            bottom,
            ttl: entry as u8,
        });
        if bottom {
            break;
        }
    }
    let payload = reader.rest();
    let ethertype = match payload.first().map(|b| b >> 4) {
        Some(4) => EtherType::IPV4,
        Some(6) => EtherType::IPV6,
        _ => EtherType(0),
    };
    Ok(Mpls {
        labels,
        ethertype,
        payload,
    })
}

/// The Ethernet frame of an MPLS Ethernet pseudowire (RFC 4448 §4.6): an MPLS payload that
/// starts with the four-byte control word (first nibble 0, RFC 4385 §3), then the frame. tshark
/// reads a payload whose first nibble is 0 this way.
///
/// Returns the frame split as [`decode`] splits one, except that `header_len` counts the control
/// word too (the inner payload's offset in `payload`); `None` if the first nibble is not 0 or no
/// whole Ethernet header follows the control word.
///
/// ```
/// use dmvpn_ip::link::{self, EtherType};
///
/// let mut pw = vec![0, 0, 0, 0];                           // control word, sequence number 0
/// pw.extend_from_slice(&[0x00, 0x0c, 0x29, 1, 2, 3, 0x00, 0x1b, 0x21, 4, 5, 6, 0x08, 0x00]);
/// pw.push(0x45);
/// let frame = link::pw_ethernet(&pw).unwrap();
/// assert_eq!((frame.ethertype, frame.header_len, frame.payload), (EtherType::IPV4, 18, &[0x45][..]));
/// assert!(link::pw_ethernet(&pw[..17]).is_none());
/// assert!(link::pw_ethernet(&[0x45; 20]).is_none());
/// ```
#[must_use]
pub fn pw_ethernet(payload: &[u8]) -> Option<LinkFrame<'_>> {
    let (control_word, frame) = payload.split_first_chunk::<4>()?;
    if control_word[0] >> 4 != 0 {
        return None;
    }
    let inner = ethernet(frame).ok()?;
    Some(LinkFrame {
        header_len: 4 + inner.header_len,
        ..inner
    })
}
