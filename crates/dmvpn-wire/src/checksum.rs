//! The Internet checksum (RFC 1071): the ones' complement of the ones' complement sum of 16-bit words.
//!
//! Used by IPv4, GRE (RFC 2784 §2.5), NHRP (RFC 2332 §5.1) and EIGRP (RFC 7868 §6.4).
//!
//! ```
//! use dmvpn_wire::checksum;
//!
//! // RFC 1071 §3: the sum of these words is 0xddf2, so the checksum is its complement.
//! let data = [0x00, 0x01, 0xf2, 0x03, 0xf4, 0xf5, 0xf6, 0xf7];
//! assert_eq!(checksum::compute(&data), !0xddf2);
//!
//! // A buffer with its checksum in place sums to zero.
//! let mut packet = [0x45, 0x00, 0x00, 0x1c, 0, 0, 0, 0];
//! let sum = checksum::compute(&packet);
//! packet[6..8].copy_from_slice(&sum.to_be_bytes());
//! assert!(checksum::verify(&packet));
//! ```

/// Accumulates 16-bit big-endian words; call [`Checksum::finish`] for the checksum.
///
/// Feeding data in pieces gives the same result as feeding it whole, as long as every piece but the
/// last has an even length (the checksum pairs bytes into words).
#[derive(Clone, Copy, Debug, Default, Eq, PartialEq)]
pub struct Checksum {
    sum: u64,
}

impl Checksum {
    /// An empty sum.
    #[must_use]
    pub const fn new() -> Self {
        Self { sum: 0 }
    }

    /// Adds `data`, padding an odd final byte with zero.
    pub fn add(&mut self, data: &[u8]) {
        let mut chunks = data.chunks_exact(4);
        let mut sum = self.sum;
        for chunk in &mut chunks {
            // A 32-bit word adds two 16-bit words at once; the u64 cannot overflow for any slice length
            // that fits in memory, and the carries fold back in `finish`.
            sum += u64::from(u32::from_be_bytes([chunk[0], chunk[1], chunk[2], chunk[3]]));
        }
        let mut tail = chunks.remainder().chunks(2);
        for pair in &mut tail {
            let hi = pair[0];
            let lo = pair.get(1).copied().unwrap_or(0);
            sum += u64::from(u16::from_be_bytes([hi, lo]));
        }
        self.sum = sum;
    }

    /// Adds one 16-bit word.
    pub fn add_u16(&mut self, word: u16) {
        self.sum += u64::from(word);
    }

    /// The ones' complement sum folded to 16 bits (not yet complemented).
    #[must_use]
    pub const fn folded(self) -> u16 {
        let mut sum = self.sum;
        while sum > 0xffff {
            sum = (sum & 0xffff) + (sum >> 16);
        }
        sum as u16
    }

    /// The checksum: the complement of the folded sum.
    #[must_use]
    pub const fn finish(self) -> u16 {
        !self.folded()
    }
}

/// The Internet checksum of `data`, to be stored in a checksum field that was zero while summing.
#[must_use]
pub fn compute(data: &[u8]) -> u16 {
    let mut sum = Checksum::new();
    sum.add(data);
    sum.finish()
}

/// The checksum of `data` with the checksum field at byte range `field` taken as zero, whatever it
/// holds: what a header's checksum field should be set to. Bytes of `field` past the end of `data`
/// count as absent, so a short buffer gives a sum rather than a panic.
///
/// ```
/// use dmvpn_wire::checksum;
///
/// let packet = [0x45, 0x00, 0x00, 0x1c, 0xff, 0xff, 0, 0];
/// let zeroed = [0x45, 0x00, 0x00, 0x1c, 0x00, 0x00, 0, 0];
/// assert_eq!(checksum::compute_without(&packet, &(4..6)), checksum::compute(&zeroed));
/// ```
#[must_use]
pub fn compute_without(data: &[u8], field: &crate::field::Field) -> u16 {
    let mut sum = Checksum::new();
    sum.add(data.get(..field.start).unwrap_or(data));
    sum.add(data.get(field.end..).unwrap_or_default());
    sum.finish()
}

/// Whether `data`, checksum field included, sums to all ones (that is, the checksum is right).
#[must_use]
pub fn verify(data: &[u8]) -> bool {
    compute(data) == 0
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The plain word-at-a-time definition, to check the fast path against.
    fn reference(data: &[u8]) -> u16 {
        let mut sum: u32 = 0;
        for pair in data.chunks(2) {
            let word = u16::from_be_bytes([pair[0], *pair.get(1).unwrap_or(&0)]);
            sum += u32::from(word);
            sum = (sum & 0xffff) + (sum >> 16);
        }
        !(sum as u16)
    }

    #[test]
    fn rfc1071_example() {
        assert_eq!(
            compute(&[0x00, 0x01, 0xf2, 0x03, 0xf4, 0xf5, 0xf6, 0xf7]),
            !0xddf2
        );
    }

    #[test]
    fn real_ipv4_header() {
        // An IPv4 header from a real capture (packetlife GRE.cap frame 1) with its checksum 0xa746 in place.
        #[rustfmt::skip]
        let header = [
            0x45, 0x00, 0x00, 0x7c, 0x00, 0x0a, 0x00, 0x00, 0xff, 0x2f, 0xa7, 0x46,
            0x0a, 0x00, 0x00, 0x01, 0x0a, 0x00, 0x00, 0x02,
        ];
        assert!(verify(&header));
        let mut zeroed = header;
        zeroed[10..12].fill(0);
        assert_eq!(compute(&zeroed), 0xa746);
    }

    #[test]
    fn odd_length_pads_with_zero() {
        assert_eq!(compute(&[0xab]), compute(&[0xab, 0x00]));
        assert_eq!(compute(&[]), 0xffff);
    }

    #[test]
    fn pieces_sum_like_the_whole() {
        let data: Vec<u8> = (0..=255u8).cycle().take(1001).collect();
        let mut pieces = Checksum::new();
        pieces.add(&data[..10]);
        pieces.add(&data[10..998]);
        pieces.add(&data[998..]);
        assert_eq!(pieces.finish(), compute(&data));
    }

    #[test]
    fn matches_reference_on_arbitrary_bytes() {
        bolero::check!().with_type::<Vec<u8>>().for_each(|data| {
            assert_eq!(compute(data), reference(data));
        });
    }
}
