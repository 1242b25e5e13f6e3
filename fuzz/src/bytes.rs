//! A cursor that turns fuzzer bytes into values: the structure-aware targets draw every field of a
//! repr from it, so libFuzzer's mutations (and its comparison tracing) steer the structure directly.
//! When the input runs out every draw returns zero or an empty slice, so any input makes a value.
//!
//! Self-contained (std only) so that the crates' bolero tests can include it with `#[path]`.

/// Draws values from the front of a byte slice.
pub struct Gen<'a> {
    rest: &'a [u8],
}

impl<'a> Gen<'a> {
    /// Draws from `data`.
    #[must_use]
    pub const fn new(data: &'a [u8]) -> Self {
        Self { rest: data }
    }

    /// Whether the input is used up.
    #[must_use]
    pub const fn is_empty(&self) -> bool {
        self.rest.is_empty()
    }

    /// The next byte (0 at the end).
    pub fn u8(&mut self) -> u8 {
        match self.rest.split_first() {
            Some((byte, rest)) => {
                self.rest = rest;
                *byte
            }
            None => 0,
        }
    }

    /// The next two bytes, big-endian.
    pub fn u16(&mut self) -> u16 {
        u16::from_be_bytes([self.u8(), self.u8()])
    }

    /// The next four bytes, big-endian.
    pub fn u32(&mut self) -> u32 {
        u32::from_be_bytes([self.u8(), self.u8(), self.u8(), self.u8()])
    }

    /// A coin flip from the low bit of the next byte.
    pub fn bool(&mut self) -> bool {
        self.u8() & 1 == 1
    }

    /// A number below `n` (0 when `n` is 0).
    pub fn below(&mut self, n: usize) -> usize {
        if n == 0 {
            0
        } else {
            usize::from(self.u8()) % n
        }
    }

    /// A slice of at most `max` bytes (at most 255): a length byte, then that many input bytes (or
    /// what is left).
    pub fn bytes(&mut self, max: usize) -> &'a [u8] {
        let len = self.below(max.min(255) + 1).min(self.rest.len());
        let (bytes, rest) = self.rest.split_at(len);
        self.rest = rest;
        bytes
    }

    /// Everything left.
    pub fn rest(&mut self) -> &'a [u8] {
        core::mem::take(&mut self.rest)
    }
}

/// Applies the edits at the front of `data` to `packet` and returns what is left of `data`: a count
/// byte (up to 8 edits), then per edit a kind byte and a 16-bit position (modulo the length).
/// Kind 0–3 XORs the byte at the position with the next byte, 4 truncates at the position, 5
/// inserts the next byte there, 6 removes the byte there, 7 overwrites a big-endian 16-bit word
/// there with the next two bytes (length and offset fields are 16 bits).
pub fn mutate<'a>(packet: &mut Vec<u8>, data: &'a [u8]) -> &'a [u8] {
    let mut input = Gen::new(data);
    let edits = input.below(9);
    for _ in 0..edits {
        let kind = input.u8() % 8;
        let at = usize::from(input.u16()) % (packet.len() + 1);
        let value = input.u8();
        match kind {
            0..=3 => {
                if let Some(byte) = packet.get_mut(at) {
                    *byte ^= value;
                }
            }
            4 => packet.truncate(at),
            5 => packet.insert(at, value),
            6 => {
                if at < packet.len() {
                    packet.remove(at);
                }
            }
            _ => {
                let low = input.u8();
                if let Some(word) = packet.get_mut(at..at + 2) {
                    word.copy_from_slice(&[value, low]);
                }
            }
        }
    }
    input.rest()
}
