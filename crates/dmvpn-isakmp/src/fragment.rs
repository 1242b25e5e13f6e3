//! Reassembly of Cisco / strongSwan IKEv1 fragments (payload type 132, announced by the
//! `FRAGMENTATION` vendor ID).
//!
//! Each fragment message carries one [`Fragment`] payload: a fragment ID shared by all pieces of one
//! original message, a number from 1, and a last-fragment flag. Concatenated in order, the data is the
//! original ISAKMP message, header included. Bounded: at most [`MAX_FRAGMENTS`] pieces and
//! [`MAX_MESSAGE_LEN`] bytes per message (strongSwan uses the same kind of limits).

use alloc::vec::Vec;

use crate::payload::Fragment;

/// Most fragments one message may have.
pub const MAX_FRAGMENTS: u8 = 16;

/// Largest reassembled message.
pub const MAX_MESSAGE_LEN: usize = 65_535;

/// Why a fragment was refused.
#[derive(Clone, Copy, Debug, Eq, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum FragmentError {
    /// Fragment number 0 or above [`MAX_FRAGMENTS`] (Wireshark's `isakmp.fragment_number.invalid`).
    #[error("isakmp: fragment number {0} is out of range 1..={MAX_FRAGMENTS}")]
    BadNumber(u8),
    /// The reassembled message would exceed [`MAX_MESSAGE_LEN`].
    #[error("isakmp: reassembled message would exceed {MAX_MESSAGE_LEN} bytes")]
    TooLong,
    /// The same number arrived with different data.
    #[error("isakmp: fragment {0} arrived twice with different data")]
    Conflict(u8),
}

/// Collects the fragments of one IKE SA's messages.
#[derive(Clone, Debug, Default)]
pub struct Reassembler {
    id: Option<u16>,
    parts: Vec<(u8, Vec<u8>)>,
    last: Option<u8>,
}

impl Reassembler {
    /// An empty reassembler.
    #[must_use]
    pub const fn new() -> Self {
        Self {
            id: None,
            parts: Vec::new(),
            last: None,
        }
    }

    /// Adds one fragment; returns the whole message once every piece up to the last is there. A new
    /// fragment ID discards an unfinished older message (a newer one superseded it).
    pub fn push(&mut self, fragment: &Fragment<'_>) -> Result<Option<Vec<u8>>, FragmentError> {
        if fragment.number == 0 || fragment.number > MAX_FRAGMENTS {
            return Err(FragmentError::BadNumber(fragment.number));
        }
        if self.id != Some(fragment.id) {
            *self = Self {
                id: Some(fragment.id),
                ..Self::new()
            };
        }
        match self.parts.iter().find(|(n, _)| *n == fragment.number) {
            Some((_, data)) if data != fragment.data => {
                return Err(FragmentError::Conflict(fragment.number));
            }
            Some(_) => {}
            None => {
                let held: usize = self.parts.iter().map(|(_, d)| d.len()).sum();
                if held + fragment.data.len() > MAX_MESSAGE_LEN {
                    return Err(FragmentError::TooLong);
                }
                self.parts.push((fragment.number, fragment.data.to_vec()));
            }
        }
        if fragment.is_last() {
            self.last = Some(fragment.number);
        }
        let Some(last) = self.last else {
            return Ok(None);
        };
        if (1..=last).any(|n| !self.parts.iter().any(|(have, _)| *have == n)) {
            return Ok(None);
        }
        self.parts.sort_by_key(|(n, _)| *n);
        let message = self
            .parts
            .iter()
            .filter(|(n, _)| *n <= last)
            .flat_map(|(_, d)| d.iter().copied())
            .collect();
        *self = Self::new();
        Ok(Some(message))
    }
}

#[cfg(test)]
mod tests {
    extern crate alloc;
    use alloc::string::ToString;

    use super::*;

    fn frag(id: u16, number: u8, last: bool, data: &[u8]) -> Fragment<'_> {
        Fragment {
            id,
            number,
            flags: u8::from(last),
            data,
        }
    }

    #[test]
    fn out_of_order_and_duplicates() {
        let mut r = Reassembler::new();
        assert_eq!(r.push(&frag(7, 2, true, b"world")), Ok(None));
        assert_eq!(r.push(&frag(7, 2, true, b"world")), Ok(None));
        assert_eq!(
            r.push(&frag(7, 1, false, b"hello ")),
            Ok(Some(b"hello world".to_vec()))
        );
        // A new ID starts over.
        assert_eq!(r.push(&frag(8, 1, false, b"a")), Ok(None));
        assert_eq!(r.push(&frag(9, 1, true, b"b")), Ok(Some(b"b".to_vec())));
    }

    #[test]
    fn errors() {
        let mut r = Reassembler::new();
        assert_eq!(
            r.push(&frag(1, 0, true, b"")),
            Err(FragmentError::BadNumber(0))
        );
        assert_eq!(
            r.push(&frag(1, 17, true, b"")),
            Err(FragmentError::BadNumber(17))
        );
        r.push(&frag(1, 1, false, b"x")).unwrap();
        assert_eq!(
            r.push(&frag(1, 1, false, b"y")),
            Err(FragmentError::Conflict(1))
        );
        let big = alloc::vec![0; MAX_MESSAGE_LEN];
        assert_eq!(
            r.push(&frag(1, 2, false, &big)),
            Err(FragmentError::TooLong)
        );
        assert_eq!(
            FragmentError::BadNumber(0).to_string(),
            "isakmp: fragment number 0 is out of range 1..=16"
        );
        assert_eq!(
            FragmentError::TooLong.to_string(),
            "isakmp: reassembled message would exceed 65535 bytes"
        );
        assert_eq!(
            FragmentError::Conflict(3).to_string(),
            "isakmp: fragment 3 arrived twice with different data"
        );
    }

    #[test]
    fn arbitrary_fragments_never_panic() {
        bolero::check!()
            .with_type::<Vec<(u16, u8, bool, Vec<u8>)>>()
            .for_each(|pieces| {
                let mut r = Reassembler::new();
                for (id, number, last, data) in pieces {
                    if let Ok(Some(message)) = r.push(&frag(*id % 2, *number % 4, *last, data)) {
                        assert!(message.len() <= MAX_MESSAGE_LEN);
                    }
                }
            });
    }
}
