//! The error every codec returns for malformed input.

use core::fmt;

/// The protocol layer an [`Error`] was found in.
///
/// It prints as the lowercase protocol name, which starts every error message.
#[derive(Clone, Copy, Debug, Eq, Hash, PartialEq)]
#[non_exhaustive]
pub enum Layer {
    /// A pcap or pcapng capture file.
    Capture,
    /// Ethernet II, with or without 802.1Q tags.
    Ethernet,
    /// Linux cooked capture, version 1 or 2.
    Sll,
    /// BSD loopback (null) encapsulation.
    Loopback,
    /// IPv4, RFC 791.
    Ipv4,
    /// IPv6, RFC 8200.
    Ipv6,
    /// ICMP for IPv4, RFC 792.
    Icmp,
    /// TCP, RFC 9293.
    Tcp,
    /// UDP, RFC 768.
    Udp,
    /// GRE, RFC 2784 and RFC 2890.
    Gre,
    /// NHRP, RFC 2332.
    Nhrp,
    /// EIGRP, RFC 7868.
    Eigrp,
    /// ISAKMP and IKEv1, RFC 2408 and RFC 2409.
    Isakmp,
    /// ESP, RFC 4303.
    Esp,
    /// IPsec AH, RFC 4302.
    Ah,
    /// A key file (Wireshark `esp_sa`, `ikev1_decryption_table`).
    Keys,
    /// A router configuration.
    Config,
}

impl Layer {
    /// The lowercase name used in error messages and decoder output.
    #[must_use]
    pub const fn name(self) -> &'static str {
        match self {
            Self::Capture => "capture",
            Self::Ethernet => "eth",
            Self::Sll => "sll",
            Self::Loopback => "loopback",
            Self::Ipv4 => "ipv4",
            Self::Ipv6 => "ipv6",
            Self::Icmp => "icmp",
            Self::Tcp => "tcp",
            Self::Udp => "udp",
            Self::Gre => "gre",
            Self::Nhrp => "nhrp",
            Self::Eigrp => "eigrp",
            Self::Isakmp => "isakmp",
            Self::Esp => "esp",
            Self::Ah => "ah",
            Self::Keys => "keys",
            Self::Config => "config",
        }
    }
}

impl fmt::Display for Layer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// Malformed input, located by layer, field and byte offset.
///
/// Offsets count from the start of the buffer the failing parser was given; a parser that hands a
/// sub-slice to a nested parser rebases the nested error with [`Error::at_offset`], so the offset a
/// user sees is always relative to the outermost buffer of that layer.
///
/// ```
/// use dmvpn_wire::{Error, Layer};
///
/// let err = Error::InvalidField { layer: Layer::Gre, field: "version", offset: 1, value: 1 };
/// assert_eq!(err.to_string(), "gre: field `version` at offset 1 has invalid value 0x1");
/// assert_eq!(err.at_offset(20).offset(), 21);
/// ```
#[derive(Clone, Debug, Eq, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The buffer ends before a field does.
    #[error(
        "{layer}: truncated reading `{field}` at offset {offset}: need {needed} bytes, have {available}"
    )]
    Truncated {
        /// Where.
        layer: Layer,
        /// The field being read.
        field: &'static str,
        /// Byte offset of the field.
        offset: usize,
        /// Bytes the field needs.
        needed: usize,
        /// Bytes left in the buffer at `offset`.
        available: usize,
    },
    /// A field holds a value the standard forbids.
    #[error("{layer}: field `{field}` at offset {offset} has invalid value {value:#x}")]
    InvalidField {
        /// Where.
        layer: Layer,
        /// The field.
        field: &'static str,
        /// Byte offset of the field.
        offset: usize,
        /// The value found.
        value: u32,
    },
    /// A field holds a valid value this codec does not decode.
    #[error("{layer}: field `{field}` at offset {offset} has unsupported value {value:#x}")]
    Unsupported {
        /// Where.
        layer: Layer,
        /// The field.
        field: &'static str,
        /// Byte offset of the field.
        offset: usize,
        /// The value found.
        value: u32,
    },
    /// A length field disagrees with the bytes there are.
    #[error(
        "{layer}: length field `{field}` at offset {offset} says {claimed} bytes, but {available} are there"
    )]
    BadLength {
        /// Where.
        layer: Layer,
        /// The length field.
        field: &'static str,
        /// Byte offset of the length field.
        offset: usize,
        /// The length the field claims.
        claimed: usize,
        /// The length available (or allowed) at that point.
        available: usize,
    },
    /// Bytes are left over after the last element of a structure.
    #[error("{layer}: {len} trailing bytes at offset {offset}")]
    TrailingBytes {
        /// Where.
        layer: Layer,
        /// Byte offset of the first trailing byte.
        offset: usize,
        /// How many bytes are left.
        len: usize,
    },
    /// A checksum does not match the bytes it covers.
    #[error(
        "{layer}: bad checksum at offset {offset}: found {found:#06x}, computed {computed:#06x}"
    )]
    BadChecksum {
        /// Where.
        layer: Layer,
        /// Byte offset of the checksum field.
        offset: usize,
        /// The checksum in the packet.
        found: u16,
        /// The checksum of the bytes as they are.
        computed: u16,
    },
}

impl Error {
    /// Shifts the offset by `base`, for an error found in a sub-slice that starts at `base`.
    #[must_use]
    pub fn at_offset(mut self, base: usize) -> Self {
        match &mut self {
            Self::Truncated { offset, .. }
            | Self::InvalidField { offset, .. }
            | Self::Unsupported { offset, .. }
            | Self::BadLength { offset, .. }
            | Self::TrailingBytes { offset, .. }
            | Self::BadChecksum { offset, .. } => *offset = offset.saturating_add(base),
        }
        self
    }

    /// The layer the error was found in.
    #[must_use]
    pub fn layer(&self) -> Layer {
        self.parts().0
    }

    /// The byte offset the error points at.
    #[must_use]
    pub fn offset(&self) -> usize {
        self.parts().1
    }

    /// The field the error names, if it names one.
    #[must_use]
    pub fn field(&self) -> Option<&'static str> {
        self.parts().2
    }

    /// The layer, the offset and the field (if the variant names one).
    fn parts(&self) -> (Layer, usize, Option<&'static str>) {
        match *self {
            Self::Truncated {
                layer,
                offset,
                field,
                ..
            }
            | Self::InvalidField {
                layer,
                offset,
                field,
                ..
            }
            | Self::Unsupported {
                layer,
                offset,
                field,
                ..
            }
            | Self::BadLength {
                layer,
                offset,
                field,
                ..
            } => (layer, offset, Some(field)),
            Self::TrailingBytes { layer, offset, .. } | Self::BadChecksum { layer, offset, .. } => {
                (layer, offset, None)
            }
        }
    }

    /// A [`Error::InvalidField`]: `field` at `offset` holds `value`, which it must not.
    #[must_use]
    pub const fn invalid_field(
        layer: Layer,
        field: &'static str,
        offset: usize,
        value: u32,
    ) -> Self {
        Self::InvalidField {
            layer,
            field,
            offset,
            value,
        }
    }

    /// A [`Error::BadLength`]: the length field `field` at `offset` claims `claimed` bytes where
    /// `available` are there (or allowed).
    #[must_use]
    pub const fn bad_length(
        layer: Layer,
        field: &'static str,
        offset: usize,
        claimed: usize,
        available: usize,
    ) -> Self {
        Self::BadLength {
            layer,
            field,
            offset,
            claimed,
            available,
        }
    }

    /// A [`Error::Truncated`] for `field` at `offset` in a buffer of `len` bytes.
    #[must_use]
    pub fn truncated(
        layer: Layer,
        field: &'static str,
        offset: usize,
        needed: usize,
        len: usize,
    ) -> Self {
        Self::Truncated {
            layer,
            field,
            offset,
            needed,
            available: len.saturating_sub(offset),
        }
    }
}

#[cfg(test)]
mod tests {
    extern crate alloc;
    use super::*;
    use alloc::string::ToString;

    #[test]
    fn messages() {
        let cases = [
            (
                Error::truncated(Layer::Esp, "sequence number", 4, 4, 6),
                "esp: truncated reading `sequence number` at offset 4: need 4 bytes, have 2",
            ),
            (
                Error::invalid_field(Layer::Nhrp, "version", 16, 2),
                "nhrp: field `version` at offset 16 has invalid value 0x2",
            ),
            (
                Error::Unsupported {
                    layer: Layer::Gre,
                    field: "routing present",
                    offset: 0,
                    value: 1,
                },
                "gre: field `routing present` at offset 0 has unsupported value 0x1",
            ),
            (
                Error::bad_length(Layer::Eigrp, "tlv length", 22, 40, 12),
                "eigrp: length field `tlv length` at offset 22 says 40 bytes, but 12 are there",
            ),
            (
                Error::TrailingBytes {
                    layer: Layer::Isakmp,
                    offset: 60,
                    len: 3,
                },
                "isakmp: 3 trailing bytes at offset 60",
            ),
            (
                Error::BadChecksum {
                    layer: Layer::Ipv4,
                    offset: 10,
                    found: 0x1234,
                    computed: 0xabcd,
                },
                "ipv4: bad checksum at offset 10: found 0x1234, computed 0xabcd",
            ),
        ];
        for (err, text) in cases {
            assert_eq!(err.to_string(), text);
        }
    }

    #[test]
    fn rebase_and_accessors() {
        let err = Error::TrailingBytes {
            layer: Layer::Udp,
            offset: 3,
            len: 1,
        }
        .at_offset(8);
        assert_eq!(
            (err.layer(), err.offset(), err.field()),
            (Layer::Udp, 11, None)
        );
        let err = Error::truncated(Layer::Gre, "key", 4, 4, 2).at_offset(usize::MAX);
        assert_eq!(err.offset(), usize::MAX);
        assert_eq!(err.field(), Some("key"));
        assert_eq!(
            Error::truncated(Layer::Gre, "key", 9, 4, 2),
            Error::Truncated {
                layer: Layer::Gre,
                field: "key",
                offset: 9,
                needed: 4,
                available: 0
            }
        );
    }
}
