//! pcapng (draft-ietf-opsawg-pcapng): Section Header, Interface Description, Enhanced, Simple,
//! obsolete Packet and Decryption Secrets blocks, their options and timestamp resolutions.

use std::io::Read;

use super::{
    BlockKind, CaptureError, CaptureReader, Interface, LinkType, Location, MAX_INTERFACES,
    MAX_RECORD_LEN, MAX_SECRETS_BYTES, Position, Result, Secrets, SecretsType, State, Timestamp,
    read_u16, read_u32,
};

impl<R: Read> CaptureReader<R> {
    /// Reads one pcapng block; `None` at the end of the file.
    pub(super) fn read_pcapng_block(&mut self) -> Result<Option<BlockKind>> {
        let State::PcapNg { big_endian, .. } = self.state else {
            return Ok(None);
        };
        let frame = Some(self.next_number);
        if !self.next_header(12, "block header", frame)? {
            return Ok(None);
        }
        let head = self.unread();
        let block_type = read_u32(head, 0, big_endian);
        // A Section Header Block sets the byte order for everything up to the next one.
        let big_endian = if block_type == BLOCK_SECTION {
            match read_u32(head, 8, true) {
                0x1a2b_3c4d => true,
                0x4d3c_2b1a => false,
                magic => {
                    return Err(CaptureError::invalid_field(
                        frame,
                        self.offset + 8,
                        "byte-order magic",
                        u64::from(magic),
                    ));
                }
            }
        } else {
            big_endian
        };
        let total_len = read_u32(head, 4, big_endian);
        let at = Position {
            frame,
            offset: self.offset + 4,
        };
        if !total_len.is_multiple_of(4) || total_len < 12 {
            return Err(CaptureError::InvalidField {
                at,
                field: "block total length",
                value: u64::from(total_len),
            });
        }
        if total_len as usize > MAX_RECORD_LEN {
            return Err(CaptureError::TooLarge {
                at,
                field: "block total length",
                len: u64::from(total_len),
                max: MAX_RECORD_LEN as u64,
            });
        }
        let total = total_len as usize;
        self.require(total, "block", frame)?;
        let trailer = read_u32(self.unread(), total - 4, big_endian);
        if trailer != total_len {
            return Err(CaptureError::invalid_field(
                frame,
                self.offset + total as u64 - 4,
                "trailing block total length",
                u64::from(trailer),
            ));
        }
        let block = Block {
            body: self.start + 8..self.start + total - 4,
            big_endian,
            frame,
        };
        let kind = match block_type {
            BLOCK_SECTION => {
                self.read_section(block)?;
                BlockKind::Section
            }
            BLOCK_INTERFACE => {
                self.read_interface(block)?;
                BlockKind::Other
            }
            BLOCK_DECRYPTION_SECRETS => {
                self.read_secrets(block)?;
                BlockKind::Other
            }
            BLOCK_ENHANCED_PACKET | BLOCK_PACKET | BLOCK_SIMPLE_PACKET => {
                BlockKind::Packet(self.read_packet(block_type, block)?)
            }
            _ => BlockKind::Other,
        };
        self.consume(total);
        Ok(Some(kind))
    }

    pub(super) fn read_section(&mut self, block: Block) -> Result<()> {
        let bytes = block.bytes(&self.buf, 16, self.offset, "section header block length")?;
        let Block {
            big_endian, frame, ..
        } = block;
        let major = read_u16(bytes, 4, big_endian);
        if major != 1 {
            return Err(CaptureError::invalid_field(
                frame,
                self.offset + 12,
                "major version",
                u64::from(major),
            ));
        }
        self.state = State::PcapNg {
            big_endian,
            interfaces: Vec::new(),
        };
        Ok(())
    }

    pub(super) fn read_interface(&mut self, block: Block) -> Result<()> {
        let bytes = block.bytes(
            &self.buf,
            8,
            self.offset,
            "interface description block length",
        )?;
        let Block {
            big_endian, frame, ..
        } = block;
        let base = self.offset + 8;
        let mut interface = Interface {
            link_type: LinkType(u32::from(read_u16(bytes, 0, big_endian))),
            snaplen: read_u32(bytes, 4, big_endian),
            name: None,
            ts_resolution: 6,
            ts_offset: 0,
        };
        for option in options(bytes.get(8..).unwrap_or_default(), big_endian) {
            let (code, value, at) = option.map_err(|at| {
                CaptureError::invalid_field(
                    frame,
                    base + 8 + at as u64,
                    "option length",
                    u64::from(read_u16(bytes, 8 + at + 2, big_endian)),
                )
            })?;
            match (code, value) {
                (OPT_IF_NAME, name) => {
                    interface.name = core::str::from_utf8(name).ok().map(str::to_owned)
                }
                (OPT_IF_TSRESOL, &[resolution]) => {
                    if ts_units(resolution).is_none() {
                        return Err(CaptureError::invalid_field(
                            frame,
                            base + 8 + at as u64 + 4,
                            "if_tsresol",
                            u64::from(resolution),
                        ));
                    }
                    interface.ts_resolution = resolution;
                }
                (OPT_IF_TSOFFSET, value) => {
                    if let Ok(raw) = <[u8; 8]>::try_from(value) {
                        interface.ts_offset = if big_endian {
                            i64::from_be_bytes(raw)
                        } else {
                            i64::from_le_bytes(raw)
                        };
                    }
                }
                _ => {}
            }
        }
        let State::PcapNg { interfaces, .. } = &mut self.state else {
            return Ok(());
        };
        if interfaces.len() >= MAX_INTERFACES {
            return Err(CaptureError::TooLarge {
                at: Position {
                    frame,
                    offset: self.offset,
                },
                field: "interface count",
                len: interfaces.len() as u64 + 1,
                max: MAX_INTERFACES as u64,
            });
        }
        interfaces.push(interface);
        Ok(())
    }

    pub(super) fn read_secrets(&mut self, block: Block) -> Result<()> {
        let bytes = block.bytes(&self.buf, 8, self.offset, "decryption secrets block length")?;
        let Block {
            big_endian, frame, ..
        } = block;
        let secrets_type = SecretsType(read_u32(bytes, 0, big_endian));
        let len = read_u32(bytes, 4, big_endian) as usize;
        let Some(data) = bytes.get(8..8 + len) else {
            return Err(CaptureError::TooLarge {
                at: Position {
                    frame,
                    offset: self.offset + 12,
                },
                field: "secrets length",
                len: len as u64,
                max: bytes.len() as u64 - 8,
            });
        };
        // Secrets nobody takes must not pile up: past the limit they are dropped.
        if self.secrets_bytes + len <= MAX_SECRETS_BYTES {
            self.secrets_bytes += len;
            let secrets = Secrets {
                secrets_type,
                data: data.to_vec(),
                before_frame: self.next_number,
                offset: self.offset,
            };
            self.secrets.push(secrets);
        }
        Ok(())
    }

    pub(super) fn read_packet(&self, block_type: u32, block: Block) -> Result<Location> {
        let State::PcapNg { interfaces, .. } = &self.state else {
            return Err(CaptureError::InvalidField {
                at: self.position(),
                field: "block type",
                value: 0,
            });
        };
        let (min, field) = match block_type {
            BLOCK_SIMPLE_PACKET => (4, "simple packet block length"),
            _ => (20, "packet block length"),
        };
        let bytes = block.bytes(&self.buf, min, self.offset, field)?;
        let Block {
            body,
            big_endian,
            frame,
        } = block;
        let at = |offset: u64| Position {
            frame,
            offset: self.offset + offset,
        };
        let (interface, ts, captured, original, header_len) = match block_type {
            BLOCK_SIMPLE_PACKET => {
                let original = read_u32(bytes, 0, big_endian);
                // The body holds min(original length, snaplen) bytes plus padding (pcapng §4.4).
                let captured = (bytes.len() - 4).min(original as usize);
                (0, None, captured as u32, original, 4)
            }
            _ => {
                let interface = if block_type == BLOCK_PACKET {
                    u32::from(read_u16(bytes, 0, big_endian))
                } else {
                    read_u32(bytes, 0, big_endian)
                };
                let ts = (u64::from(read_u32(bytes, 4, big_endian)) << 32)
                    | u64::from(read_u32(bytes, 8, big_endian));
                (
                    interface,
                    Some(ts),
                    read_u32(bytes, 12, big_endian),
                    read_u32(bytes, 16, big_endian),
                    20,
                )
            }
        };
        // Only a (Enhanced) Packet Block can claim too much: its captured length is at body
        // offset 12, i.e. 20 bytes into the block.
        if captured as usize > bytes.len() - header_len {
            return Err(CaptureError::TooLarge {
                at: at(8 + 12),
                field: "captured packet length",
                len: u64::from(captured),
                max: (bytes.len() - header_len) as u64,
            });
        }
        let Some(description) = interfaces.get(interface as usize) else {
            return Err(CaptureError::UnknownInterface {
                at: at(8),
                interface,
                declared: interfaces.len(),
            });
        };
        let timestamp = ts.map_or(Timestamp::default(), |ts| convert_ts(ts, description));
        let start = body.start + header_len;
        Ok(Location {
            timestamp,
            link_type: description.link_type,
            interface,
            data: start..start + captured as usize,
            original_len: original,
            offset: self.offset,
        })
    }
}

pub(super) const BLOCK_SECTION: u32 = 0x0a0d_0d0a;
pub(super) const BLOCK_INTERFACE: u32 = 1;
pub(super) const BLOCK_PACKET: u32 = 2;
pub(super) const BLOCK_SIMPLE_PACKET: u32 = 3;
pub(super) const BLOCK_ENHANCED_PACKET: u32 = 6;
pub(super) const BLOCK_DECRYPTION_SECRETS: u32 = 0x0000_000a;
pub(super) const OPT_IF_NAME: u16 = 2;
pub(super) const OPT_IF_TSRESOL: u16 = 9;
pub(super) const OPT_IF_TSOFFSET: u16 = 14;

/// Iterates pcapng options `(code, value, offset of the option)`; an option that overruns the
/// block yields `Err(offset)`. Stops at `opt_endofopt` or the end.
pub(super) fn options(
    bytes: &[u8],
    big_endian: bool,
) -> impl Iterator<Item = Result<(u16, &[u8], usize), usize>> {
    let mut at = 0;
    core::iter::from_fn(move || {
        if at + 4 > bytes.len() {
            return None;
        }
        let code = read_u16(bytes, at, big_endian);
        let len = usize::from(read_u16(bytes, at + 2, big_endian));
        if code == 0 {
            return None;
        }
        let option_at = at;
        let Some(value) = bytes.get(at + 4..at + 4 + len) else {
            at = bytes.len();
            return Some(Err(option_at));
        };
        at += 4 + len.next_multiple_of(4);
        Some(Ok((code, value, option_at)))
    })
}

/// Units per second for an `if_tsresol` value, if representable in a `u64`.
pub(super) fn ts_units(resolution: u8) -> Option<u64> {
    let exponent = u32::from(resolution & 0x7f);
    if resolution & 0x80 == 0 {
        10u64.checked_pow(exponent)
    } else {
        1u64.checked_shl(exponent)
    }
}

pub(super) fn convert_ts(ts: u64, interface: &Interface) -> Timestamp {
    // `read_interface` rejected resolutions whose units do not fit.
    let units = ts_units(interface.ts_resolution).unwrap_or(1_000_000);
    let secs = ts / units;
    let frac = u128::from(ts % units);
    let nanos = (frac * 1_000_000_000 / u128::from(units)) as u32;
    let secs = i64::try_from(secs)
        .unwrap_or(i64::MAX)
        .saturating_add(interface.ts_offset);
    Timestamp::new(secs, nanos)
}

/// A pcapng block being read: where its body is in the buffer, its section's byte order and
/// the frame number it would get.
pub(super) struct Block {
    body: core::ops::Range<usize>,
    big_endian: bool,
    frame: Option<u64>,
}

impl Block {
    /// The body of the block at `offset` in `buf`, which must hold at least `min` bytes;
    /// otherwise the block's total length (the body plus its 12 framing bytes) is the bad
    /// `field`.
    fn bytes<'a>(
        &self,
        buf: &'a [u8],
        min: usize,
        offset: u64,
        field: &'static str,
    ) -> Result<&'a [u8]> {
        let bytes = buf.get(self.body.clone()).unwrap_or_default();
        if bytes.len() < min {
            return Err(CaptureError::invalid_field(
                self.frame,
                offset + 4,
                field,
                bytes.len() as u64 + 12,
            ));
        }
        Ok(bytes)
    }
}
