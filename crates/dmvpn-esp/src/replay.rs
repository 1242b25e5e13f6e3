//! The anti-replay window (RFC 4303 §3.4.3 and Appendix A).
//!
//! The receiver remembers the highest authenticated sequence number and a bitmap of the
//! `64 * WORDS` numbers at and below it. [`ReplayWindow::check`] runs before the ICV check and
//! [`ReplayWindow::update`] after it, so that forged packets cannot move the window. With
//! extended sequence numbers only the low 32 bits travel; [`ReplayWindow::check`] infers the
//! high 32 bits as in Appendix A2.2.

use alloc::vec::Vec;

use crate::{DecryptError, Decrypted, Sa};

/// An anti-replay window of `64 * WORDS` sequence numbers; 1024 by default.
///
/// RFC 4303 §3.4.3 asks for at least 32 and recommends 64; Linux defaults to 32 for IKE-less
/// SAs and strongSwan's libipsec to 128. A larger window costs memory, not time.
#[derive(Clone, Debug, Eq, PartialEq)]
pub struct ReplayWindow<const WORDS: usize = 16> {
    /// The highest authenticated sequence number; 0 before the first packet.
    top: u64,
    /// Bit `seq % SIZE` is set if `seq` (within the window) was received.
    bitmap: [u64; WORDS],
    esn: bool,
}

impl<const WORDS: usize> Default for ReplayWindow<WORDS> {
    fn default() -> Self {
        Self::new(false)
    }
}

impl<const WORDS: usize> ReplayWindow<WORDS> {
    /// The number of sequence numbers the window covers.
    pub const SIZE: u64 = {
        assert!(
            WORDS > 0 && WORDS <= 1 << 20,
            "the window needs 1 to 2^20 words"
        );
        64 * WORDS as u64
    };

    /// An empty window; `esn` turns on the inference of the high-order bits.
    #[must_use]
    pub const fn new(esn: bool) -> Self {
        Self {
            top: 0,
            bitmap: [0; WORDS],
            esn,
        }
    }

    /// The highest authenticated sequence number, 0 before the first.
    #[must_use]
    pub const fn top(&self) -> u64 {
        self.top
    }

    /// Whether the window infers ESN high-order bits.
    #[must_use]
    pub const fn esn(&self) -> bool {
        self.esn
    }

    /// The lowest sequence number the window can still accept.
    #[must_use]
    pub fn lowest(&self) -> u64 {
        (self.top + 1).saturating_sub(Self::SIZE).max(1)
    }

    /// The full sequence number of a packet carrying `low`: `low` itself without ESN; with ESN,
    /// the high 32 bits are guessed from the window's position (RFC 4303 Appendix A2.2).
    /// `None` if the guess falls below 0 or above 2^64.
    #[must_use]
    pub fn infer(&self, low: u32) -> Option<u64> {
        if !self.esn {
            return Some(u64::from(low));
        }
        let window = Self::SIZE.min(1 << 32) as u32;
        let (top_high, top_low) = ((self.top >> 32) as u32, self.top as u32);
        let bottom = top_low.wrapping_sub(window - 1);
        let high = if top_low >= window - 1 {
            // Case A: the window lies within one 2^32 subspace.
            if low >= bottom {
                Some(top_high)
            } else {
                top_high.checked_add(1)
            }
        } else if low >= bottom {
            // Case B: the window spans two subspaces; `low` is in the lower one.
            top_high.checked_sub(1)
        } else {
            Some(top_high)
        };
        high.map(|high| u64::from(high) << 32 | u64::from(low))
    }

    /// Checks a packet's sequence number (its low 32 bits under ESN) before the ICV check, and
    /// returns the full sequence number to verify the ICV with.
    ///
    /// # Errors
    /// [`DecryptError::TooOld`] left of the window (and for 0), [`DecryptError::Replayed`] for a
    /// number already received.
    pub fn check(&self, low: u32) -> Result<u64, DecryptError> {
        let Some(seq) = self.infer(low) else {
            return Err(DecryptError::TooOld {
                seq: u64::from(low),
                lowest: self.lowest(),
            });
        };
        self.check_seq(seq)?;
        Ok(seq)
    }

    /// Checks a full sequence number without marking it.
    ///
    /// # Errors
    /// As [`check`](Self::check).
    pub fn check_seq(&self, seq: u64) -> Result<(), DecryptError> {
        if seq > self.top {
            return Ok(());
        }
        if seq < self.lowest() {
            return Err(DecryptError::TooOld {
                seq,
                lowest: self.lowest(),
            });
        }
        let (word, bit) = Self::position(seq);
        if self.bitmap[word] & bit != 0 {
            return Err(DecryptError::Replayed { seq });
        }
        Ok(())
    }

    /// Marks a sequence number as received, after its ICV checked out, sliding the window if it
    /// is the new highest. It checks again, so a number is never accepted twice.
    ///
    /// # Errors
    /// As [`check_seq`](Self::check_seq).
    pub fn update(&mut self, seq: u64) -> Result<(), DecryptError> {
        self.check_seq(seq)?;
        if seq > self.top {
            let advance = seq - self.top;
            if advance >= Self::SIZE {
                self.bitmap = [0; WORDS];
            } else {
                for passed in self.top + 1..seq {
                    let (word, bit) = Self::position(passed);
                    self.bitmap[word] &= !bit;
                }
            }
            self.top = seq;
        }
        let (word, bit) = Self::position(seq);
        self.bitmap[word] |= bit;
        Ok(())
    }

    /// The word and bit mask of a sequence number in the ring.
    fn position(seq: u64) -> (usize, u64) {
        let index = seq % Self::SIZE;
        ((index / 64) as usize, 1 << (index % 64))
    }
}

/// An inbound SA: the prepared [`Sa`] and its [`ReplayWindow`], processed as in RFC 4303 §3.4.
#[derive(Debug)]
pub struct Inbound<const WORDS: usize = 16> {
    sa: Sa,
    window: ReplayWindow<WORDS>,
}

impl<const WORDS: usize> Inbound<WORDS> {
    /// An inbound SA with an empty window (ESN as the SA says).
    #[must_use]
    pub fn new(sa: Sa) -> Self {
        let window = ReplayWindow::new(sa.esn());
        Self { sa, window }
    }

    /// The SA.
    #[must_use]
    pub fn sa(&self) -> &Sa {
        &self.sa
    }

    /// The anti-replay window.
    #[must_use]
    pub fn window(&self) -> &ReplayWindow<WORDS> {
        &self.window
    }

    /// Checks the sequence number against the window (inferring the ESN high bits), verifies and
    /// decrypts in place, then marks the number as received (RFC 4303 §3.4.3, §3.4.4).
    ///
    /// # Errors
    /// [`DecryptError::Replayed`] and [`DecryptError::TooOld`] before any crypto work, then as
    /// [`Sa::decrypt_in_place_esn`]. A packet that fails leaves the window unchanged.
    pub fn decrypt_in_place<'b>(
        &mut self,
        packet: &'b mut [u8],
    ) -> Result<Decrypted<'b>, DecryptError> {
        let Ok(header) = crate::Packet::new_checked(&*packet) else {
            // Let the SA report the exact truncation.
            return self.sa.decrypt_in_place(packet);
        };
        let seq = self.window.check(header.sequence_number())?;
        let decrypted = self.sa.decrypt_in_place_esn(packet, (seq >> 32) as u32)?;
        self.window.update(seq)?;
        Ok(decrypted)
    }

    /// [`decrypt_in_place`](Self::decrypt_in_place) on a copy in `scratch`.
    ///
    /// # Errors
    /// As [`decrypt_in_place`](Self::decrypt_in_place).
    pub fn decrypt<'s>(
        &mut self,
        packet: &[u8],
        scratch: &'s mut Vec<u8>,
    ) -> Result<Decrypted<'s>, DecryptError> {
        self.decrypt_in_place(crate::sa::copy_into(scratch, packet))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloc::collections::BTreeSet;
    use alloc::string::ToString;

    #[test]
    fn in_order_then_replay() {
        let mut window = ReplayWindow::<1>::new(false);
        for seq in 1..=200 {
            assert_eq!(window.check(seq), Ok(u64::from(seq)));
            window.update(u64::from(seq)).unwrap();
        }
        assert_eq!(window.top(), 200);
        assert_eq!(window.check(200), Err(DecryptError::Replayed { seq: 200 }));
        assert_eq!(window.check(137), Err(DecryptError::Replayed { seq: 137 }));
        assert_eq!(
            window.check(136),
            Err(DecryptError::TooOld {
                seq: 136,
                lowest: 137
            })
        );
        assert_eq!(window.update(200), Err(DecryptError::Replayed { seq: 200 }));
    }

    #[test]
    fn zero_is_never_accepted() {
        let window = ReplayWindow::<16>::new(false);
        let err = window.check(0).unwrap_err();
        assert_eq!(err, DecryptError::TooOld { seq: 0, lowest: 1 });
        assert_eq!(
            err.to_string(),
            "esp: sequence number 0 is below the replay window (lowest acceptable 1)"
        );
        assert_eq!(
            DecryptError::Replayed { seq: 7 }.to_string(),
            "esp: sequence number 7 was already received"
        );
    }

    #[test]
    fn out_of_order_within_window() {
        let mut window = ReplayWindow::<1>::new(false);
        window.update(100).unwrap();
        for seq in (37..100).rev() {
            window.update(seq).unwrap();
        }
        assert_eq!(
            window.check(36),
            Err(DecryptError::TooOld {
                seq: 36,
                lowest: 37
            })
        );
        // A jump of more than the window clears it.
        window.update(1000).unwrap();
        assert_eq!(window.check(999), Ok(999));
        assert_eq!(
            window.check(936),
            Err(DecryptError::TooOld {
                seq: 936,
                lowest: 937
            })
        );
        assert_eq!(ReplayWindow::<16>::SIZE, 1024);
    }

    #[test]
    fn without_esn_the_counter_stops_at_2_32() {
        let mut window = ReplayWindow::<1>::new(false);
        window.update(u64::from(u32::MAX)).unwrap();
        assert_eq!(
            window.check(1),
            Err(DecryptError::TooOld {
                seq: 1,
                lowest: u64::from(u32::MAX) - 63
            })
        );
    }

    #[test]
    fn esn_infers_the_high_bits() {
        let mut window = ReplayWindow::<1>::new(true);
        window.update(0x1_0000_0000 - 10).unwrap();
        // Case A: window [2^32 - 73, 2^32 - 10] within subspace 0; low 5 wrapped into subspace 1.
        assert_eq!(window.infer(5), Some(0x1_0000_0005));
        assert_eq!(window.infer(0xffff_fff0), Some(0xffff_fff0));
        window.update(0x1_0000_0005).unwrap();
        // Case B: the window spans both subspaces.
        assert_eq!(window.infer(0xffff_fff0), Some(0xffff_fff0));
        assert_eq!(window.infer(3), Some(0x1_0000_0003));
        assert_eq!(window.infer(1000), Some(0x1_0000_03e8));
        assert_eq!(
            window.check(0xffff_fff6),
            Err(DecryptError::Replayed { seq: 0xffff_fff6 })
        );
        // Case B in subspace 0 has no lower subspace: low numbers far above are from before 0.
        let window = ReplayWindow::<1>::new(true);
        assert_eq!(window.infer(0xffff_fff0), None);
        assert_eq!(
            window.check(0xffff_fff0),
            Err(DecryptError::TooOld {
                seq: 0xffff_fff0,
                lowest: 1
            })
        );
    }

    /// The model: a number is accepted iff it is not 0, was not accepted before, and is above
    /// `top - SIZE`.
    #[test]
    fn never_accepts_twice_and_accepts_every_fresh_number() {
        bolero::check!()
            .with_type::<Vec<(bool, u16)>>()
            .for_each(|steps| {
                let mut window = ReplayWindow::<2>::new(false);
                let mut accepted = BTreeSet::new();
                let mut top = 0u64;
                for &(jump, value) in steps {
                    // Mostly near the top (duplicates, reordering), sometimes far ahead.
                    let seq = if jump {
                        top + u64::from(value)
                    } else {
                        top.saturating_sub(u64::from(value % 256))
                    };
                    let Ok(low) = u32::try_from(seq) else {
                        continue;
                    };
                    let fresh =
                        seq != 0 && !accepted.contains(&seq) && seq + ReplayWindow::<2>::SIZE > top;
                    let result = window.check(low).and_then(|seq| window.update(seq));
                    assert_eq!(result.is_ok(), fresh, "seq {seq} top {top}: {result:?}");
                    if fresh {
                        accepted.insert(seq);
                        top = top.max(seq);
                    }
                    assert_eq!(window.top(), top);
                }
            });
    }

    /// Walking a 64-bit counter across 2^32 boundaries with jumps and reordering smaller than the
    /// window, inference recovers every number from its low 32 bits.
    #[test]
    fn esn_inference_recovers_the_counter() {
        bolero::check!()
            .with_type::<(u8, Vec<(bool, u8)>)>()
            .for_each(|(start, steps)| {
                let mut window = ReplayWindow::<1>::new(true);
                let mut top = (u64::from(*start) << 32) | 0xffff_ff80;
                window.update(top).unwrap();
                for &(forward, delta) in steps {
                    let delta = u64::from(delta % 64);
                    let seq = if forward { top + delta } else { top - delta };
                    assert_eq!(window.infer(seq as u32), Some(seq));
                    if window.check(seq as u32).is_ok() {
                        window.update(seq).unwrap();
                        top = top.max(seq);
                    }
                }
            });
    }

    /// An ESN SA across the 2^32 boundary: only the low 32 bits travel, the inbound SA infers
    /// the rest and the ICV proves the guess.
    #[test]
    fn inbound_esn_across_the_boundary() {
        use crate::{Encryption, Integrity, NextHeader};
        let make = || {
            Sa::new(
                0x77,
                Encryption::AesCbc,
                &[3; 16],
                Integrity::HmacSha256_128,
                &[4; 32],
            )
            .unwrap()
            .with_esn(true)
        };
        let sender = make();
        let mut inbound: Inbound<1> = Inbound::new(make());
        assert!(inbound.window().esn());
        let mut scratch = Vec::new();
        let mut packets = Vec::new();
        for seq in (1u64 << 32) - 3..(1u64 << 32) + 3 {
            let mut packet = Vec::new();
            sender
                .encrypt(
                    seq,
                    &[9; 16],
                    NextHeader::GRE,
                    &seq.to_be_bytes(),
                    &mut packet,
                )
                .unwrap();
            packets.push((seq, packet));
        }
        // The window starts at 0: packets from the second 2^32 block look far in the future,
        // so jump the window close to the boundary first.
        inbound.window.update((1 << 32) - 40).unwrap();
        // Deliver out of order across the boundary.
        for index in [1, 0, 4, 2, 5, 3] {
            let (seq, packet) = &packets[index];
            let decrypted = inbound.decrypt(packet, &mut scratch).unwrap();
            assert_eq!(
                (decrypted.seq, decrypted.payload),
                (*seq, &seq.to_be_bytes()[..])
            );
        }
        assert_eq!(inbound.window().top(), (1 << 32) + 2);
        let (seq, packet) = &packets[3];
        assert_eq!(
            inbound.decrypt(packet, &mut scratch),
            Err(DecryptError::Replayed { seq: *seq })
        );
        // A forged packet with a fresh sequence number fails the ICV and leaves the window.
        let mut forged = packets[5].1.clone();
        forged[4..8].copy_from_slice(&10u32.to_be_bytes());
        let err = inbound.decrypt(&forged, &mut scratch).unwrap_err();
        assert_eq!(
            err,
            DecryptError::IntegrityCheckFailed {
                spi: 0x77,
                seq: (1 << 32) + 10
            }
        );
        assert_eq!(inbound.window().top(), (1 << 32) + 2);
        assert_eq!(inbound.sa().spi(), 0x77);
        // A truncated packet is reported as such.
        let err = inbound.decrypt_in_place(&mut [0, 0, 0]).unwrap_err();
        assert_eq!(
            err,
            DecryptError::Truncated {
                field: "spi",
                offset: 0,
                needed: 4,
                available: 3
            }
        );
    }

    #[test]
    fn sa_and_inbound_are_send_and_sync() {
        fn check<T: Send + Sync>() {}
        check::<Sa>();
        check::<Inbound>();
        check::<ReplayWindow>();
    }
}
