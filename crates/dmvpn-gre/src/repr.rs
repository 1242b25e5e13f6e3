//! The high-level form of a version 0 GRE header (RFC 2784, RFC 2890): parse and emit.

use dmvpn_wire::{Error, Layer, Result};

use crate::Protocol;
use crate::packet::{MIN_HEADER_LEN, Packet, field, flag};

/// A version 0 GRE header, as RFC 2784 and RFC 2890 define it.
///
/// The payload is not part of the repr: read it with [`Packet::payload`], write it with
/// [`Repr::emit`]'s closure.
#[derive(Clone, Copy, Debug, Default, Eq, Hash, PartialEq)]
pub struct Repr {
    /// The protocol type of the payload (RFC 2784 §2.4).
    pub protocol: Protocol,
    /// Whether the checksum is present (RFC 2784 §2.2). [`Repr::parse`] has checked it;
    /// [`Repr::emit`] computes it.
    pub checksum: bool,
    /// The key (RFC 2890 §2.1): in DMVPN, the `tunnel key` that tells mGRE tunnels apart.
    pub key: Option<u32>,
    /// The sequence number (RFC 2890 §2.2).
    pub sequence: Option<u32>,
}

impl Repr {
    /// Parses and validates a version 0 header.
    ///
    /// Following RFC 2784 §2.3 and §2.3.1, the packet is rejected when
    /// - the version is 1 ([`Error::Unsupported`] on `version`: decode it with
    ///   [`enhanced::Repr`](crate::enhanced::Repr)) or 2–7 ([`Error::InvalidField`] on `version`);
    /// - R is set ([`Error::Unsupported`] on `routing present`: RFC 1701 source routing, whose entries
    ///   [`Packet::sres`] can still read);
    /// - s or the top recursion bit is set ([`Error::InvalidField`] on `reserved0`, the value being the
    ///   offending bits of the first word).
    ///
    /// Reserved0 bits 6–12 and Reserved1 are ignored, as the RFC says receivers must. A wrong checksum is
    /// [`Error::BadChecksum`] (except under `cfg(fuzzing)`).
    pub fn parse<T: AsRef<[u8]>>(packet: &Packet<T>) -> Result<Self> {
        if packet.total_len() < MIN_HEADER_LEN {
            packet.check_len()?;
        }
        let flags = packet.flags_and_version();
        match packet.version() {
            0 => {}
            1 => {
                return Err(Error::Unsupported {
                    layer: Layer::Gre,
                    field: "version",
                    offset: 1,
                    value: 1,
                });
            }
            v => {
                return Err(Error::invalid_field(Layer::Gre, "version", 1, v.into()));
            }
        }
        if packet.routing_present() {
            return Err(Error::Unsupported {
                layer: Layer::Gre,
                field: "routing present",
                offset: 0,
                value: 1,
            });
        }
        if flags & flag::MUST_BE_ZERO != 0 {
            let value = (flags & flag::MUST_BE_ZERO).into();
            return Err(Error::invalid_field(Layer::Gre, "reserved0", 0, value));
        }
        packet.check_len()?;
        if !packet.verify_checksum() {
            return Err(Error::BadChecksum {
                layer: Layer::Gre,
                offset: field::CHECKSUM.start,
                found: packet.checksum().unwrap_or_default(),
                computed: packet.compute_checksum(),
            });
        }
        Ok(Self {
            protocol: packet.protocol(),
            checksum: packet.checksum_present(),
            key: packet.key(),
            sequence: packet.sequence(),
        })
    }

    /// The header length: 4 bytes, plus 4 for each of checksum, key and sequence number.
    ///
    /// The packet is this plus the payload.
    #[must_use]
    pub const fn buffer_len(&self) -> usize {
        // Each optional word present (checksum and Reserved1, key, sequence) adds 4 bytes.
        let words =
            self.checksum as usize + self.key.is_some() as usize + self.sequence.is_some() as usize;
        field::OPTIONAL.start + 4 * words
    }

    /// Writes the header, lets `emit_payload` write the payload (everything after the header), then
    /// fills in the checksum if there is one.
    ///
    /// # Panics
    /// If the buffer is shorter than [`Repr::buffer_len`].
    pub fn emit<T, F>(&self, packet: &mut Packet<T>, emit_payload: F)
    where
        T: AsRef<[u8]> + AsMut<[u8]>,
        F: FnOnce(&mut [u8]),
    {
        let flags = flag::when(self.checksum, flag::CHECKSUM)
            | flag::when(self.key.is_some(), flag::KEY)
            | flag::when(self.sequence.is_some(), flag::SEQUENCE);
        packet.set_flags_and_version(flags);
        packet.set_protocol(self.protocol);
        if self.checksum {
            packet.set_checksum(0);
            packet.set_reserved1(0);
        }
        if let Some(key) = self.key {
            packet.set_key(key);
        }
        if let Some(sequence) = self.sequence {
            packet.set_sequence(sequence);
        }
        emit_payload(packet.payload_mut());
        if self.checksum {
            packet.fill_checksum();
        }
    }

    /// Writes the header and copies `payload` after it (see [`Repr::emit`]).
    ///
    /// # Panics
    /// If the buffer is not exactly [`Repr::buffer_len`] plus `payload.len()` bytes long.
    pub fn emit_with_payload<T: AsRef<[u8]> + AsMut<[u8]>>(
        &self,
        packet: &mut Packet<T>,
        payload: &[u8],
    ) {
        self.emit(packet, |buf| buf.copy_from_slice(payload));
    }
}

/// Whether sequence number `a` comes after `b` in 32-bit serial arithmetic, as RFC 2890 §2.2 orders
/// them (a receiver drops a packet whose number is not after the last one it accepted).
#[must_use]
pub const fn sequence_after(a: u32, b: u32) -> bool {
    let diff = a.wrapping_sub(b);
    diff != 0 && diff < 0x8000_0000
}

#[cfg(test)]
mod tests {
    use dmvpn_wire::checksum;

    use super::*;
    use crate::vectors::*;

    fn parse(bytes: &[u8]) -> Result<Repr> {
        Repr::parse(&Packet::new_unchecked(bytes))
    }

    fn emit(repr: &Repr, payload: &[u8]) -> Vec<u8> {
        let mut buffer = vec![0xee; repr.buffer_len() + payload.len()];
        repr.emit_with_payload(&mut Packet::new_unchecked(&mut buffer[..]), payload);
        buffer
    }

    const NHRP: Repr = Repr {
        protocol: Protocol::NHRP,
        checksum: true,
        key: Some(1000),
        sequence: Some(7),
    };

    #[test]
    fn parse_real_captures() {
        assert_eq!(
            parse(&PACKETLIFE_GRE_FRAME_1),
            Ok(Repr {
                protocol: Protocol::IPV4,
                checksum: false,
                key: None,
                sequence: None
            })
        );
        let keepalive = Repr {
            protocol: Protocol::CISCO_METADATA,
            checksum: false,
            key: Some(0x28),
            sequence: None,
        };
        assert_eq!(parse(&VARIOUS_GRE_FRAME_11), Ok(keepalive));
        assert_eq!(
            parse(&VARIOUS_GRE_FRAME_12),
            Ok(Repr {
                protocol: Protocol::KEEPALIVE,
                ..keepalive
            })
        );
    }

    #[test]
    fn parse_scapy_vectors() {
        assert_eq!(parse(SCAPY_CHECKSUM_KEY_SEQUENCE), Ok(NHRP));
        assert_eq!(
            parse(SCAPY_CHECKSUM_IPV4),
            Ok(Repr {
                protocol: Protocol::IPV4,
                checksum: true,
                key: None,
                sequence: None
            })
        );
        assert_eq!(
            parse(SCAPY_KEY_IPV6),
            Ok(Repr {
                protocol: Protocol::IPV6,
                checksum: false,
                key: Some(123_456),
                sequence: None
            })
        );
    }

    #[test]
    fn emit_matches_real_and_scapy_bytes() {
        for bytes in [
            &PACKETLIFE_GRE_FRAME_1[..],
            &VARIOUS_GRE_FRAME_11,
            &VARIOUS_GRE_FRAME_12,
            SCAPY_CHECKSUM_KEY_SEQUENCE,
            SCAPY_CHECKSUM_IPV4,
            SCAPY_KEY_IPV6,
        ] {
            let packet = Packet::new_checked(bytes).unwrap();
            let repr = Repr::parse(&packet).unwrap();
            assert_eq!(emit(&repr, packet.payload()), bytes, "{repr:?}");
        }
    }

    #[test]
    fn buffer_len() {
        let plain = Repr {
            protocol: Protocol::IPV4,
            ..Repr::default()
        };
        assert_eq!(plain.buffer_len(), 4);
        assert_eq!(
            Repr {
                checksum: true,
                ..plain
            }
            .buffer_len(),
            8
        );
        assert_eq!(
            Repr {
                key: Some(0),
                ..plain
            }
            .buffer_len(),
            8
        );
        assert_eq!(
            Repr {
                key: Some(0),
                sequence: Some(0),
                ..plain
            }
            .buffer_len(),
            12
        );
        assert_eq!(NHRP.buffer_len(), 16);
    }

    #[test]
    fn emit_by_closure_writes_the_payload_before_the_checksum() {
        let mut buffer = [0; 20];
        NHRP.emit(&mut Packet::new_unchecked(&mut buffer[..]), |payload| {
            assert_eq!(payload.len(), 4);
            payload.copy_from_slice(b"nhrp");
        });
        assert!(checksum::verify(&buffer));
        assert_eq!(&buffer[16..], b"nhrp");
        assert_eq!(parse(&buffer), Ok(NHRP));
    }

    #[test]
    fn version_and_reserved_bits() {
        let with_flags = |flags: u16| {
            let mut bytes = VARIOUS_GRE_FRAME_12;
            bytes[..2].copy_from_slice(&flags.to_be_bytes());
            parse(&bytes)
        };
        let gre = |field, value| Error::InvalidField {
            layer: Layer::Gre,
            field,
            offset: 0,
            value,
        };
        assert_eq!(
            with_flags(0x2001),
            Err(Error::Unsupported {
                layer: Layer::Gre,
                field: "version",
                offset: 1,
                value: 1
            })
        );
        for version in 2..8 {
            assert_eq!(
                with_flags(0x2000 | version),
                Err(Error::invalid_field(
                    Layer::Gre,
                    "version",
                    1,
                    version.into()
                ))
            );
        }
        // RFC 2784 §2.3: bits 1-5 non-zero mean discard (R is RFC 1701 routing), bits 6-12 are ignored.
        assert_eq!(
            with_flags(0x6000),
            Err(Error::Unsupported {
                layer: Layer::Gre,
                field: "routing present",
                offset: 0,
                value: 1
            })
        );
        assert_eq!(with_flags(0x2800), Err(gre("reserved0", 0x0800)));
        assert_eq!(with_flags(0x2c00), Err(gre("reserved0", 0x0c00)));
        assert_eq!(with_flags(0x2400), Err(gre("reserved0", 0x0400)));
        let keepalive = parse(&VARIOUS_GRE_FRAME_12);
        assert_eq!(with_flags(0x2000 | 0x03f8), keepalive);
    }

    #[test]
    fn reserved1_is_ignored() {
        let mut bytes = SCAPY_CHECKSUM_KEY_SEQUENCE.to_vec();
        let mut packet = Packet::new_unchecked(&mut bytes[..]);
        packet.set_reserved1(0xbeef);
        packet.fill_checksum();
        assert_eq!(parse(&bytes), Ok(NHRP));
    }

    #[test]
    fn bad_checksum() {
        let mut bytes = SCAPY_CHECKSUM_KEY_SEQUENCE.to_vec();
        bytes[20] ^= 0xff;
        let computed = Packet::new_unchecked(&bytes[..]).compute_checksum();
        assert_ne!(computed, 0x21ec);
        let err = parse(&bytes).unwrap_err();
        assert_eq!(
            err,
            Error::BadChecksum {
                layer: Layer::Gre,
                offset: 4,
                found: 0x21ec,
                computed
            }
        );
        assert_eq!(
            err.to_string(),
            format!("gre: bad checksum at offset 4: found 0x21ec, computed {computed:#06x}")
        );
    }

    #[test]
    fn truncation() {
        let bytes = emit(&NHRP, &[]);
        for cut in 0..bytes.len() {
            let err = parse(&bytes[..cut]).unwrap_err();
            assert!(matches!(err, Error::Truncated { .. }), "cut {cut}: {err}");
            assert_eq!(Err(err), Packet::new_checked(&bytes[..cut]).map(drop));
        }
        assert_eq!(parse(&bytes), Ok(NHRP));
    }

    #[test]
    fn serial_number_order() {
        assert!(sequence_after(1, 0));
        assert!(sequence_after(0, u32::MAX));
        assert!(sequence_after(0x7fff_ffff, 0));
        assert!(!sequence_after(0x8000_0000, 0));
        assert!(!sequence_after(5, 5));
        assert!(!sequence_after(4, 5));
    }

    #[test]
    fn arbitrary_bytes_never_panic() {
        bolero::check!().for_each(|data: &[u8]| {
            let _ = parse(data);
        });
    }

    #[test]
    fn arbitrary_repr_round_trips() {
        bolero::check!()
            .with_type::<(u16, bool, Option<u32>, Option<u32>, Vec<u8>)>()
            .for_each(|(protocol, checksum, key, sequence, payload)| {
                let repr = Repr {
                    protocol: Protocol(*protocol),
                    checksum: *checksum,
                    key: *key,
                    sequence: *sequence,
                };
                let bytes = emit(&repr, payload);
                let packet = Packet::new_checked(&bytes[..]).unwrap();
                assert_eq!(Repr::parse(&packet), Ok(repr));
                assert_eq!(packet.payload(), &payload[..]);
            });
    }
}
