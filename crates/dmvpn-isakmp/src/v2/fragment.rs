//! Reassembly of decrypted IKEv2 fragments (RFC 7383 §2.6).
//!
//! Each SKF payload is decrypted on its own; the plaintexts, in fragment-number order, make the
//! inner payload chain of the original message, whose first payload type is in fragment 1. The
//! reassembler keeps at most [`MAX_MESSAGES`] messages in progress, [`MAX_FRAGMENTS`] fragments and
//! [`MAX_BYTES`] bytes per message; beyond that it drops the oldest message or refuses the fragment.

use alloc::collections::VecDeque;
use alloc::vec::Vec;

use super::consts::PayloadType;

/// Messages whose fragments are buffered at once.
pub const MAX_MESSAGES: usize = 32;
/// Fragments per message (RFC 7383 does not bound it; strongSwan sends a handful).
pub const MAX_FRAGMENTS: u16 = 128;
/// Plaintext bytes buffered per message (an IKE message is at most 64 KiB).
pub const MAX_BYTES: usize = 65_535;

/// Which message a fragment belongs to: the IKE SA, the message ID and the direction.
#[derive(Clone, Copy, Debug, Eq, Hash, PartialEq)]
pub struct Key {
    /// IKE SA initiator's SPI.
    pub initiator_spi: [u8; 8],
    /// IKE SA responder's SPI.
    pub responder_spi: [u8; 8],
    /// The message ID.
    pub message_id: u32,
    /// Whether the message is a response (the R flag).
    pub response: bool,
}

/// What adding a fragment gave.
#[derive(Clone, Debug, Eq, PartialEq)]
pub enum Outcome {
    /// Kept; `have` of `total` fragments are there.
    Pending {
        /// Fragments received.
        have: u16,
        /// Fragments expected.
        total: u16,
    },
    /// The message is whole: its first inner payload type and its plaintext chain.
    Complete(PayloadType, Vec<u8>),
    /// Refused: more fragments or bytes than the bounds allow, or a total that changed.
    Refused,
}

#[derive(Clone, Debug)]
struct Partial {
    key: Key,
    total: u16,
    first: PayloadType,
    fragments: Vec<Option<Vec<u8>>>,
    bytes: usize,
}

/// Buffers decrypted fragments until their message is whole.
#[derive(Clone, Debug, Default)]
pub struct Reassembler {
    partials: VecDeque<Partial>,
}

impl Reassembler {
    /// Adds fragment `number` of `total` (from 1), with the SKF's next-payload field `next` and its
    /// decrypted `plaintext`. A retransmitted fragment replaces the earlier copy.
    pub fn add(
        &mut self,
        key: Key,
        number: u16,
        total: u16,
        next: PayloadType,
        plaintext: &[u8],
    ) -> Outcome {
        if number == 0 || number > total || total > MAX_FRAGMENTS {
            return Outcome::Refused;
        }
        let index = match self.partials.iter().position(|p| p.key == key) {
            Some(index) if self.partials[index].total == total => index,
            // A new total means a retransmission with another fragment size: start over.
            Some(index) => {
                self.partials.remove(index);
                self.start(key, total)
            }
            None => self.start(key, total),
        };
        let Some(partial) = self.partials.get_mut(index) else {
            return Outcome::Refused;
        };
        let slot = usize::from(number - 1);
        let old = partial.fragments[slot].as_ref().map_or(0, Vec::len);
        if partial.bytes - old + plaintext.len() > MAX_BYTES {
            self.partials.remove(index);
            return Outcome::Refused;
        }
        partial.bytes = partial.bytes - old + plaintext.len();
        partial.fragments[slot] = Some(plaintext.to_vec());
        if number == 1 {
            partial.first = next;
        }
        let have = partial.fragments.iter().filter(|f| f.is_some()).count();
        let have = u16::try_from(have).unwrap_or(u16::MAX);
        if have < total {
            return Outcome::Pending { have, total };
        }
        let Some(partial) = self.partials.remove(index) else {
            return Outcome::Refused;
        };
        let mut chain = Vec::with_capacity(partial.bytes);
        for fragment in partial.fragments.into_iter().flatten() {
            chain.extend_from_slice(&fragment);
        }
        Outcome::Complete(partial.first, chain)
    }

    fn start(&mut self, key: Key, total: u16) -> usize {
        if self.partials.len() >= MAX_MESSAGES {
            self.partials.pop_front();
        }
        self.partials.push_back(Partial {
            key,
            total,
            first: PayloadType::NONE,
            fragments: alloc::vec![None; usize::from(total)],
            bytes: 0,
        });
        self.partials.len() - 1
    }

    /// Messages in progress.
    #[must_use]
    pub fn len(&self) -> usize {
        self.partials.len()
    }

    /// Whether no message is in progress.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.partials.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(message_id: u32) -> Key {
        Key {
            initiator_spi: [1; 8],
            responder_spi: [2; 8],
            message_id,
            response: false,
        }
    }

    #[test]
    fn reassembles_in_any_order() {
        let mut r = Reassembler::default();
        assert_eq!(
            r.add(key(1), 2, 3, PayloadType::NONE, b"cd"),
            Outcome::Pending { have: 1, total: 3 }
        );
        assert_eq!(
            r.add(key(1), 1, 3, PayloadType::IDI, b"ab"),
            Outcome::Pending { have: 2, total: 3 }
        );
        // A retransmitted fragment replaces the earlier one.
        r.add(key(1), 2, 3, PayloadType::NONE, b"CD");
        assert_eq!(
            r.add(key(1), 3, 3, PayloadType::NONE, b"e"),
            Outcome::Complete(PayloadType::IDI, b"abCDe".to_vec())
        );
        assert!(r.is_empty());
    }

    #[test]
    fn bounds() {
        let mut r = Reassembler::default();
        assert_eq!(
            r.add(key(1), 0, 3, PayloadType::NONE, b""),
            Outcome::Refused
        );
        assert_eq!(
            r.add(key(1), 4, 3, PayloadType::NONE, b""),
            Outcome::Refused
        );
        assert_eq!(
            r.add(key(1), 1, MAX_FRAGMENTS + 1, PayloadType::NONE, b""),
            Outcome::Refused
        );
        r.add(key(1), 1, 3, PayloadType::NONE, &[0; 40_000]);
        assert_eq!(
            r.add(key(1), 2, 3, PayloadType::NONE, &[0; 40_000]),
            Outcome::Refused
        );
        for id in 0..(MAX_MESSAGES as u32 + 5) {
            r.add(key(id), 1, 2, PayloadType::NONE, b"x");
        }
        assert_eq!(r.len(), MAX_MESSAGES);
    }
}
