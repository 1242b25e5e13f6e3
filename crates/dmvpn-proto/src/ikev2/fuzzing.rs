//! The fuzz entry of the IKEv2 endpoint: an initiator and a responder wired in memory. The
//! input is a script: it delivers, drops or corrupts their real messages, feeds arbitrary bytes
//! to either role as the peer's message, moves the clock, and asks for rekeys and deletes.
//! Nothing may panic, and the SA table stays bounded.

use alloc::collections::VecDeque;
use alloc::vec::Vec;
use core::net::Ipv4Addr;

use dmvpn_isakmp::consts::Group;
use dmvpn_isakmp::keys::Prf;
use dmvpn_isakmp::v2::crypto::{Encryption, Integrity};

use super::{Config, Endpoint, IkeProposal, TestEntropy, TransformSet};
use crate::ike::{EspAuth, EspCipher};
use crate::time::{Duration, Instant};

const A: Ipv4Addr = Ipv4Addr::new(198, 51, 100, 1);
const B: Ipv4Addr = Ipv4Addr::new(198, 51, 100, 2);

fn endpoint(local: Ipv4Addr, seed: u64) -> Endpoint<TestEntropy> {
    // Group 1: cheap Diffie-Hellman under the fuzzer; two ciphers so that choices vary.
    let proposal = IkeProposal {
        encryption: alloc::vec![Encryption::AesCbc(128), Encryption::TripleDes],
        integrity: alloc::vec![Integrity::HmacSha1_96],
        prf: alloc::vec![Prf::HmacSha1],
        groups: alloc::vec![Group::MODP_768],
    };
    let set = TransformSet::new(EspCipher::Aes128, EspAuth::Sha1);
    let mut config = Config::dmvpn(local, proposal, b"fuzz", set);
    config.dpd = Some(Duration::from_secs(15));
    config.cookie_threshold = 2;
    Endpoint::new(config, TestEntropy::new(seed))
}

/// Runs `data` as a script of opcodes (each takes what operands it needs from what follows):
/// `0` A connects; `1` / `2` deliver A's / B's next message, the next byte XORed into the byte
/// the one after it points at when nonzero; `3` / `4` drop one; `5` / `6` a length byte and that
/// many raw bytes to B / A; `7` advance the clock (seconds); `8` A rekeys its first Child SA,
/// `9` the IKE SA; `10` A deletes the IKE SA; `11` liveness check.
pub fn fuzz_script(data: &[u8]) {
    let mut sides = [endpoint(A, 3), endpoint(B, 4)];
    let mut queues: [VecDeque<Vec<u8>>; 2] = [VecDeque::new(), VecDeque::new()];
    let mut now = Instant::ZERO;
    let mut input = data.iter().copied();
    for _ in 0..256 {
        let Some(op) = input.next() else { break };
        for (side, queue) in sides.iter_mut().zip(queues.iter_mut()) {
            queue.extend(core::iter::from_fn(|| side.poll_transmit()).map(|t| t.bytes));
            while queue.len() > 32 {
                queue.pop_front();
            }
        }
        match op % 12 {
            0 => drop(sides[0].connect(now, B)),
            from @ (1 | 2) => {
                let from = usize::from(from - 1);
                if let Some(mut bytes) = queues[from].pop_front() {
                    let mask = input.next().unwrap_or(0);
                    let at = usize::from(input.next().unwrap_or(0));
                    if mask != 0 && !bytes.is_empty() {
                        let len = bytes.len();
                        bytes[at % len] ^= mask;
                    }
                    let (to, source) = if from == 0 { (1, A) } else { (0, B) };
                    drop(sides[to].handle_message(now, source, &bytes));
                }
            }
            from @ (3 | 4) => drop(queues[usize::from(from - 3)].pop_front()),
            to @ (5 | 6) => {
                let len = usize::from(input.next().unwrap_or(0));
                let raw: Vec<u8> = input.by_ref().take(len).collect();
                let (index, source) = if to == 5 { (1, A) } else { (0, B) };
                drop(sides[index].handle_message(now, source, &raw));
            }
            7 => {
                now += Duration::from_secs(i64::from(input.next().unwrap_or(1)));
                for side in &mut sides {
                    side.handle_timeout(now);
                }
            }
            8 => {
                if let Some(&spi) = sides[0].child_spis(B).first() {
                    drop(sides[0].rekey_child(now, B, spi));
                }
            }
            9 => drop(sides[0].rekey_ike(now, B)),
            10 => drop(sides[0].delete_peer(now, B)),
            _ => drop(sides[0].check_liveness(now, B)),
        }
        for side in &mut sides {
            while side.poll_event().is_some() {}
            assert!(side.sa_count() <= 64, "sa table unbounded");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scripts_never_panic() {
        bolero::check!().for_each(|data: &[u8]| fuzz_script(data));
    }

    #[test]
    fn an_orderly_script_establishes_rekeys_and_deletes() {
        // connect; cookie round and IKE_SA_INIT, IKE_AUTH; rekey child, rekey IKE, delete.
        let mut script = alloc::vec![0];
        let shuttle = [1, 0, 0, 2, 0, 0];
        for _ in 0..4 {
            script.extend_from_slice(&shuttle);
        }
        for op in [8, 9, 10] {
            script.push(op);
            for _ in 0..3 {
                script.extend_from_slice(&shuttle);
            }
        }
        script.extend_from_slice(&[7, 200, 5, 3, 1, 2, 3]);
        fuzz_script(&script);
    }
}
