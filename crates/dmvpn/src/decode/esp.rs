//! ESP decryption for the decoder: the SAs by SPI and destination, each with its anti-replay window.

use std::collections::HashMap;
use std::hash::{BuildHasher, Hasher, RandomState};
use std::net::IpAddr;
use std::ops::Range;

use dmvpn_esp::{DecryptError, ReplayWindow, Sa};

use crate::keys::{EspKeys, EspSa};

use super::layer::{EspLayer, EspStatus, Icv};

/// Where a decrypted payload lies in the decryption buffer, and what it is.
pub(super) struct Plaintext {
    /// The trailer's next header.
    pub(super) next_header: u8,
    /// The payload's bytes in the buffer.
    pub(super) range: Range<usize>,
}

/// The SAs the decoder decrypts with, each with the replay window of what it has seen.
///
/// Lines of the key file are matched (first match wins, wildcards allowed, as Wireshark does) once
/// per flow — SPI, source and destination — and the SA is prepared then and kept, so each later
/// packet of the flow costs one hash lookup. Unlike a receiving router, the decoder decrypts a
/// replayed packet too, and flags it: an analyst wants to see both the packet and the fact that it
/// was replayed.
pub(super) struct SaStates {
    /// The parsed table, shared by every decoder made from the same keys (one per shard or lane
    /// in [`crate::parallel`]); the prepared SAs and replay windows below are this decoder's own,
    /// made when a flow's first packet arrives, so memory grows with the SAs a capture uses, not
    /// with the table.
    keys: EspKeys,
    flows: HashMap<(u32, IpAddr, IpAddr), Option<usize>, FlowHash>,
    states: Vec<SaState>,
    /// SAs learnt from the capture (IKEv2 Child SAs keyed from SK_d), after the table's.
    learned: Vec<EspSa>,
}

struct SaState {
    sa: Sa,
    window: ReplayWindow,
}

/// At most this many flows are remembered; beyond it the cache starts afresh (replay windows too).
const MAX_FLOWS: usize = 1 << 16;

impl SaStates {
    pub(super) fn new(keys: EspKeys) -> Self {
        Self {
            keys,
            flows: HashMap::default(),
            states: Vec::new(),
            learned: Vec::new(),
        }
    }

    /// The same keys, no flow seen yet.
    pub(super) fn fork(&self) -> Self {
        Self {
            keys: self.keys.clone(),
            flows: HashMap::default(),
            states: Vec::new(),
            learned: Vec::new(),
        }
    }

    /// Adds SAs learnt from the capture; a flow of theirs already seen without a key is looked
    /// up again at its next packet.
    pub(super) fn learn(&mut self, sas: &[EspSa]) {
        for sa in sas {
            if self.learned.len() >= MAX_FLOWS {
                self.learned.clear();
            }
            self.flows
                .retain(|&(spi, ..), index| index.is_some() || !sa.spi.matches(spi));
            self.learned.push(sa.clone());
        }
    }

    fn state(&mut self, spi: u32, src: IpAddr, dst: IpAddr) -> Option<&mut SaState> {
        // Without keys (decode only) no flow can have an SA: skip the table.
        if self.keys.is_empty() && self.learned.is_empty() {
            return None;
        }
        if self.flows.len() >= MAX_FLOWS {
            self.flows.clear();
            self.states.clear();
        }
        let Self {
            keys,
            flows,
            states,
            learned,
        } = self;
        let index = *flows.entry((spi, src, dst)).or_insert_with(|| {
            let line = keys
                .find(src, dst, spi)
                .or_else(|| learned.iter().rev().find(|sa| sa.matches(src, dst, spi)))?;
            let sa = line.sa_for(spi).ok()?;
            let window = ReplayWindow::new(sa.esn());
            states.push(SaState { sa, window });
            Some(states.len() - 1)
        });
        states.get_mut(index?)
    }

    /// Decrypts `packet` (from the SPI on) into `buffer`. Returns the layer to report and, when it
    /// decrypted, the next header and where the payload lies in `buffer`.
    pub(super) fn decrypt(
        &mut self,
        src: IpAddr,
        dst: IpAddr,
        packet: &[u8],
        buffer: &mut Vec<u8>,
    ) -> Result<(EspLayer, Option<Plaintext>), dmvpn_wire::Error> {
        let header = dmvpn_esp::Packet::new_checked(packet)?;
        let (spi, seq) = (header.spi(), header.sequence_number());
        let mut layer = EspLayer {
            spi,
            seq,
            status: EspStatus::NoKey,
            replayed: false,
        };
        let Some(state) = self.state(spi, src, dst) else {
            return Ok((layer, None));
        };
        // The window says whether this number was seen before; the packet is decrypted either way.
        let full_seq = match state.window.check(seq) {
            Ok(full) => full,
            Err(_) => {
                layer.replayed = true;
                state.window.infer(seq).unwrap_or(u64::from(seq))
            }
        };
        buffer.clear();
        buffer.extend_from_slice(packet);
        let high = (full_seq >> 32) as u32;
        let result = state.sa.decrypt_in_place_esn(buffer, high);
        let inner = match result {
            Ok(decrypted) => {
                let start = state.sa.payload_offset();
                layer.status = EspStatus::Decrypted {
                    next_header: decrypted.next_header.0,
                    pad_len: u8::try_from(decrypted.padding.len()).unwrap_or(u8::MAX),
                    icv: if state.sa.icv_checked() {
                        Icv::Good
                    } else if state.sa.unchecked_icv_len() > 0 {
                        Icv::Unchecked
                    } else {
                        Icv::None
                    },
                };
                let next_header = decrypted.next_header.0;
                let range = start..start + decrypted.payload.len();
                if !layer.replayed {
                    let _ = state.window.update(full_seq);
                }
                Some(Plaintext { next_header, range })
            }
            Err(DecryptError::IntegrityCheckFailed { .. }) => {
                layer.status = EspStatus::IcvFailed;
                None
            }
            Err(DecryptError::Truncated { .. } | DecryptError::BadCiphertextLength { .. }) => {
                layer.status = EspStatus::Truncated;
                None
            }
            Err(_) => {
                layer.status = EspStatus::BadTrailer;
                None
            }
        };
        Ok((layer, inner))
    }
}

/// The flow table's hasher: a folded multiply per word (the 128-bit product's halves XORed), keyed
/// per table from std's [`RandomState`]. SipHash cost as much as the rest of a decode-only frame;
/// this costs a few cycles per word, and the secret key still keeps a crafted capture from aiming
/// its flows at one bucket.
#[derive(Clone, Copy)]
pub(super) struct FlowHash {
    seed: u64,
    key: u64,
}

impl Default for FlowHash {
    fn default() -> Self {
        let random = RandomState::new();
        Self {
            seed: random.hash_one(0x243f_6a88_85a3_08d3_u64),
            // Odd, so the multiply loses no bits of the low half.
            key: random.hash_one(0x1319_8a2e_0370_7344_u64) | 1,
        }
    }
}

impl BuildHasher for FlowHash {
    type Hasher = FlowHasher;

    fn build_hasher(&self) -> FlowHasher {
        FlowHasher {
            state: self.seed,
            key: self.key,
        }
    }
}

/// One hash computation of [`FlowHash`].
pub(super) struct FlowHasher {
    state: u64,
    key: u64,
}

impl FlowHasher {
    fn mix(&mut self, word: u64) {
        let product = u128::from(self.state ^ word) * u128::from(self.key);
        self.state = (product as u64) ^ ((product >> 64) as u64);
    }
}

impl Hasher for FlowHasher {
    fn write(&mut self, bytes: &[u8]) {
        let mut chunks = bytes.chunks_exact(8);
        for chunk in &mut chunks {
            let mut word = [0; 8];
            word.copy_from_slice(chunk);
            self.mix(u64::from_le_bytes(word));
        }
        let rest = chunks.remainder();
        if !rest.is_empty() {
            let mut word = [0; 8];
            word[..rest.len()].copy_from_slice(rest);
            // The length keeps `[1]` and `[1, 0]` apart.
            self.mix(u64::from_le_bytes(word) ^ ((rest.len() as u64) << 59));
        }
    }

    fn write_u8(&mut self, value: u8) {
        self.mix(u64::from(value));
    }

    fn write_u16(&mut self, value: u16) {
        self.mix(u64::from(value));
    }

    fn write_u32(&mut self, value: u32) {
        self.mix(u64::from(value));
    }

    fn write_u64(&mut self, value: u64) {
        self.mix(value);
    }

    fn write_usize(&mut self, value: usize) {
        self.mix(value as u64);
    }

    fn finish(&self) -> u64 {
        // One more round so the last word's bits reach the high bits hashbrown uses for its tags.
        let product = u128::from(self.state) * u128::from(self.key.rotate_left(32) | 1);
        (product as u64) ^ ((product >> 64) as u64)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashSet;
    use std::net::Ipv4Addr;

    #[test]
    fn flow_hash_spreads_neighbouring_flows() {
        let build = FlowHash::default();
        let hub = IpAddr::V4(Ipv4Addr::new(198, 51, 100, 1));
        let mut seen = HashSet::new();
        let mut buckets = [0u32; 64];
        for spoke in 0..4096u32 {
            let addr = IpAddr::V4(Ipv4Addr::from(0xcb00_7100 + spoke));
            for spi in [0x1000 + spoke, 0x2000 + spoke] {
                let hash = build.hash_one((spi, addr, hub));
                assert!(seen.insert(hash), "two flows hash alike");
                // hashbrown takes the bucket from the low bits and the tag from the top 7.
                buckets[(hash & 63) as usize] += 1;
                buckets[(hash >> 58) as usize] += 1;
            }
        }
        // 16384 draws into 64 buckets: 256 each on average; a fair hash stays well inside ±40 %.
        for (bucket, &count) in buckets.iter().enumerate() {
            assert!((150..360).contains(&count), "bucket {bucket}: {count}");
        }
    }

    #[test]
    fn flow_hash_is_keyed() {
        let flow = (
            7u32,
            IpAddr::V4(Ipv4Addr::LOCALHOST),
            IpAddr::V4(Ipv4Addr::LOCALHOST),
        );
        let (a, b) = (FlowHash::default(), FlowHash::default());
        assert_eq!(a.hash_one(flow), a.hash_one(flow));
        assert_ne!(a.hash_one(flow), b.hash_one(flow));
    }
}
