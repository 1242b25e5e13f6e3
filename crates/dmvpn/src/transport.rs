//! The headers the decoder reports besides the DMVPN protocols: ICMP, TCP and the IPsec AH header.
//!
//! Only what a DMVPN analysis needs: ICMP types and codes, TCP ports, flags and the MSS option (to check
//! `ip tcp adjust-mss`). Each parser reads a borrowed slice and never panics.

use std::fmt;

use dmvpn_wire::{Error, Layer, Reader, Result};

/// An ICMPv4 header (RFC 792).
#[derive(Clone, Copy, Debug, Eq, PartialEq)]
pub struct Icmp {
    /// Message type (0 echo reply, 3 unreachable, 8 echo request, 11 time exceeded, …).
    pub ty: u8,
    /// Message code.
    pub code: u8,
    /// Identifier and sequence number of echo messages; the rest-of-header word otherwise.
    pub rest: u32,
}

impl Icmp {
    /// Parses the first 8 bytes of an ICMP message.
    ///
    /// ```
    /// let icmp = dmvpn::transport::Icmp::parse(&[8, 0, 0xf7, 0xf8, 0, 7, 0, 1])?;
    /// assert_eq!(icmp.summary().to_string(), "Echo (ping) request id=0x0007, seq=1");
    /// # Ok::<(), dmvpn_wire::Error>(())
    /// ```
    pub fn parse(bytes: &[u8]) -> Result<Self> {
        let mut reader = Reader::new(Layer::Icmp, bytes);
        let ty = reader.u8("type")?;
        let code = reader.u8("code")?;
        reader.skip(2, "checksum")?;
        let rest = reader.u32("rest of header")?;
        Ok(Self { ty, code, rest })
    }

    /// A tshark-like description.
    #[must_use]
    pub const fn summary(&self) -> IcmpSummary {
        IcmpSummary(*self)
    }
}

/// Prints an ICMP header the way tshark's info column does.
#[derive(Clone, Copy, Debug)]
pub struct IcmpSummary(Icmp);

impl fmt::Display for IcmpSummary {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let icmp = self.0;
        let (id, seq) = (icmp.rest >> 16, icmp.rest & 0xffff);
        match (icmp.ty, icmp.code) {
            (0, _) => write!(f, "Echo (ping) reply id={id:#06x}, seq={seq}"),
            (8, _) => write!(f, "Echo (ping) request id={id:#06x}, seq={seq}"),
            (3, 4) => write!(
                f,
                "Destination unreachable (Fragmentation needed, next-hop MTU {seq})"
            ),
            (3, code) => write!(f, "Destination unreachable (code {code})"),
            (11, code) => write!(f, "Time-to-live exceeded (code {code})"),
            (ty, code) => write!(f, "type {ty} code {code}"),
        }
    }
}

/// The TCP header fields a DMVPN analysis looks at (RFC 9293).
#[derive(Clone, Copy, Debug, Eq, PartialEq)]
pub struct Tcp {
    /// Source port.
    pub src_port: u16,
    /// Destination port.
    pub dst_port: u16,
    /// Sequence number.
    pub seq: u32,
    /// Acknowledgement number.
    pub ack: u32,
    /// The flag bits (FIN 0x01, SYN 0x02, RST 0x04, PSH 0x08, ACK 0x10, …).
    pub flags: u16,
    /// The Maximum Segment Size option, if present.
    pub mss: Option<u16>,
    /// Header length in bytes.
    pub header_len: usize,
}

impl Tcp {
    /// Parses a TCP header and its options.
    ///
    /// ```
    /// #[rustfmt::skip]
    /// let syn = [0x9c, 0x40, 0x01, 0xbb, 0, 0, 0x03, 0xe8, 0, 0, 0, 0,
    ///            0x60, 0x02, 0x20, 0x00, 0, 0, 0, 0, 2, 4, 0x05, 0xb4];
    /// let tcp = dmvpn::transport::Tcp::parse(&syn)?;
    /// assert_eq!((tcp.src_port, tcp.dst_port, tcp.mss), (40000, 443, Some(1460)));
    /// assert_eq!(tcp.flag_names().to_string(), "SYN");
    /// # Ok::<(), dmvpn_wire::Error>(())
    /// ```
    pub fn parse(bytes: &[u8]) -> Result<Self> {
        let mut reader = Reader::new(Layer::Tcp, bytes);
        let src_port = reader.u16("source port")?;
        let dst_port = reader.u16("destination port")?;
        let seq = reader.u32("sequence number")?;
        let ack = reader.u32("acknowledgement number")?;
        let offset_flags = reader.u16("data offset and flags")?;
        reader.skip(6, "window, checksum and urgent pointer")?;
        let header_len = usize::from(offset_flags >> 12) * 4;
        if header_len < 20 {
            return Err(reader.invalid("data offset", 8, u32::from(offset_flags >> 12)));
        }
        let mut options = reader.sub(header_len - 20, "options")?;
        let mut mss = None;
        while !options.is_empty() {
            match options.u8("option kind")? {
                0 => break,
                1 => {}
                kind => {
                    let len = options.u8("option length")?;
                    if len < 2 {
                        return Err(options.invalid("option length", 1, u32::from(len)));
                    }
                    let mut value = options.sub(usize::from(len) - 2, "option value")?;
                    if kind == 2 && len == 4 {
                        mss = Some(value.u16("mss")?);
                    }
                }
            }
        }
        Ok(Self {
            src_port,
            dst_port,
            seq,
            ack,
            flags: offset_flags & 0x01ff,
            mss,
            header_len,
        })
    }

    /// Whether this is a SYN (with or without ACK).
    #[must_use]
    pub const fn is_syn(&self) -> bool {
        self.flags & 0x02 != 0
    }

    /// The set flags by name, comma separated, as tshark prints them.
    #[must_use]
    pub const fn flag_names(&self) -> TcpFlags {
        TcpFlags(self.flags)
    }
}

/// TCP flag bits, printed by name (`SYN, ACK`).
#[derive(Clone, Copy, Debug, Eq, PartialEq)]
pub struct TcpFlags(pub u16);

impl fmt::Display for TcpFlags {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        const NAMES: [(u16, &str); 9] = [
            (0x02, "SYN"),
            (0x10, "ACK"),
            (0x01, "FIN"),
            (0x04, "RST"),
            (0x08, "PSH"),
            (0x20, "URG"),
            (0x40, "ECE"),
            (0x80, "CWR"),
            (0x100, "AE"),
        ];
        let mut first = true;
        for (bit, name) in NAMES {
            if self.0 & bit != 0 {
                if !first {
                    f.write_str(", ")?;
                }
                first = false;
                f.write_str(name)?;
            }
        }
        Ok(())
    }
}

/// An IPsec Authentication Header (RFC 4302 §2). The decoder reports it and steps over it; it does
/// not verify the ICV.
#[derive(Clone, Copy, Debug, Eq, PartialEq)]
pub struct Ah {
    /// The protocol of what follows.
    pub next_header: u8,
    /// The header length in bytes, ICV included.
    pub header_len: usize,
    /// Security Parameters Index.
    pub spi: u32,
    /// Sequence number.
    pub seq: u32,
}

impl Ah {
    /// Parses the header; the payload starts at `header_len`.
    ///
    /// ```
    /// let ah = dmvpn::transport::Ah::parse(&[50, 4, 0, 0, 0, 0, 0, 7, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0])?;
    /// assert_eq!((ah.next_header, ah.header_len, ah.spi, ah.seq), (50, 24, 7, 1));
    /// # Ok::<(), dmvpn_wire::Error>(())
    /// ```
    pub fn parse(bytes: &[u8]) -> Result<Self> {
        let mut reader = Reader::new(Layer::Ah, bytes);
        let next_header = reader.u8("next header")?;
        let payload_len = reader.u8("payload length")?;
        reader.skip(2, "reserved")?;
        let spi = reader.u32("spi")?;
        let seq = reader.u32("sequence number")?;
        // RFC 4302 §2.2: the length in 32-bit words, minus 2.
        let header_len = (usize::from(payload_len) + 2) * 4;
        if header_len < 12 {
            return Err(Error::InvalidField {
                layer: Layer::Ah,
                field: "payload length",
                offset: 1,
                value: payload_len.into(),
            });
        }
        reader.skip(header_len - 12, "icv")?;
        Ok(Self {
            next_header,
            header_len,
            spi,
            seq,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tcp_options_are_bounded() {
        let mut header = [0u8; 24];
        header[12] = 0x60;
        header[20..24].copy_from_slice(&[1, 2, 9, 0]);
        assert!(matches!(
            Tcp::parse(&header),
            Err(Error::BadLength {
                field: "option value",
                ..
            })
        ));
        header[20..24].copy_from_slice(&[3, 1, 0, 0]);
        assert!(matches!(
            Tcp::parse(&header),
            Err(Error::InvalidField {
                field: "option length",
                ..
            })
        ));
        header[20..24].copy_from_slice(&[1, 1, 0, 0]);
        assert_eq!(Tcp::parse(&header).unwrap().mss, None);
        header[12] = 0x40;
        assert!(matches!(
            Tcp::parse(&header),
            Err(Error::InvalidField {
                field: "data offset",
                offset: 12,
                ..
            })
        ));
    }

    #[test]
    fn truncation_never_panics() {
        let syn = [
            0x9c, 0x40, 0x01, 0xbb, 0, 0, 0x03, 0xe8, 0, 0, 0, 0, 0x60, 0x02, 0x20, 0, 0, 0, 0, 0,
            2, 4, 5, 0xb4,
        ];
        for len in 0..syn.len() {
            assert!(matches!(
                Tcp::parse(&syn[..len]),
                Err(Error::Truncated { .. } | Error::BadLength { .. })
            ));
        }
        for len in 0..8 {
            assert!(Icmp::parse(&syn[..len]).is_err());
        }
    }

    #[test]
    fn arbitrary_bytes_never_panic() {
        bolero::check!().for_each(|bytes: &[u8]| {
            let _ = Tcp::parse(bytes).map(|tcp| tcp.flag_names().to_string());
            let _ = Icmp::parse(bytes).map(|icmp| icmp.summary().to_string());
            if let Ok(ah) = Ah::parse(bytes) {
                assert!(ah.header_len <= bytes.len());
            }
        });
    }
}
