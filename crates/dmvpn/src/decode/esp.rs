//! ESP decryption for the decoder: the SAs by SPI and destination, each with its anti-replay window.

use std::collections::HashMap;
use std::net::IpAddr;
use std::ops::Range;

use dmvpn_esp::{DecryptError, ReplayWindow, Sa};

use crate::keys::EspKeys;

use super::layer::{EspLayer, EspStatus};

/// The SAs the decoder decrypts with, each with the replay window of what it has seen.
///
/// Lines of the key file are matched (first match wins, wildcards allowed, as Wireshark does) once
/// per flow — SPI, source and destination — and the prepared SA is kept, so each later packet of the
/// flow costs one hash lookup. Unlike a receiving router, the decoder decrypts a replayed packet too,
/// and flags it: an analyst wants to see both the packet and the fact that it was replayed.
/// Where a decrypted payload lies in the decryption buffer, and what it is.
pub(super) struct Plaintext {
    /// The trailer's next header.
    pub(super) next_header: u8,
    /// The payload's bytes in the buffer.
    pub(super) range: Range<usize>,
}

pub(super) struct SaStates {
    keys: EspKeys,
    flows: HashMap<(u32, IpAddr, IpAddr), Option<usize>>,
    states: Vec<SaState>,
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
            flows: HashMap::new(),
            states: Vec::new(),
        }
    }

    fn state(&mut self, spi: u32, src: IpAddr, dst: IpAddr) -> Option<&mut SaState> {
        if self.flows.len() >= MAX_FLOWS {
            self.flows.clear();
            self.states.clear();
        }
        let Self {
            keys,
            flows,
            states,
        } = self;
        let index = *flows.entry((spi, src, dst)).or_insert_with(|| {
            let sa = keys.find(src, dst, spi)?.sa_for(spi).ok()?;
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
                    icv_checked: state.sa.icv_len() > 0,
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
