//! The fuzz entry of the IKE endpoint: a script of operations on two endpoints (a spoke and a
//! hub) wired in memory, where the fuzzer decides which datagrams arrive, flips bytes in the
//! real (encrypted) ones, injects arbitrary bytes and moves the clock. Nothing may panic, and
//! the tables stay bounded.

use alloc::vec::Vec;
use core::net::Ipv4Addr;

use dmvpn_isakmp::consts::Group;
use dmvpn_isakmp::crypto::Cipher;

use super::{
    Config, Dpd, Endpoint, EspAuth, EspCipher, Hash, Policy, TestEntropy, TransformSet, Transmit,
};
use crate::time::{Duration, Instant};

const SPOKE: Ipv4Addr = Ipv4Addr::new(192, 0, 2, 2);
const HUB: Ipv4Addr = Ipv4Addr::new(192, 0, 2, 1);

fn config(local: Ipv4Addr) -> Config {
    // Group 1 keeps each Diffie-Hellman step cheap under the fuzzer.
    let policy = Policy::new(Cipher::Aes128, Hash::Sha1, Group::MODP_768);
    let set = TransformSet::new(EspCipher::Aes128, EspAuth::Sha1);
    let mut config = Config::dmvpn(local, policy, b"fuzz-psk", set);
    config.dpd = Some(Dpd::new(Duration::from_secs(10), true));
    config
}

/// Runs `data` as a script. Each step takes an opcode byte and its operands:
///
/// - `0`: the spoke connects to the hub;
/// - `1`/`2`: deliver the spoke's / hub's next datagram; the next two bytes, if the first is
///   odd, flip one byte of it (position, xor mask) before delivery;
/// - `3`/`4`: drop the spoke's / hub's next datagram;
/// - `5`/`6`: a length byte, then that many bytes delivered as-is to the hub / spoke;
/// - `7`: advance the clock by the next byte in seconds and run both timers;
/// - `8`: rekey, `9`: delete the peer, `10`: on-demand traffic (each at the spoke).
pub fn fuzz_script(data: &[u8]) {
    let mut spoke = Endpoint::new(config(SPOKE), TestEntropy::new(1));
    let mut hub = Endpoint::new(config(HUB), TestEntropy::new(2));
    let mut now = Instant::ZERO;
    let mut held: [Vec<Transmit>; 2] = [Vec::new(), Vec::new()];
    let mut bytes = data.iter().copied();
    let mut steps = 0;
    while let Some(op) = bytes.next() {
        steps += 1;
        if steps > 256 {
            break;
        }
        while let Some(t) = spoke.poll_transmit() {
            held[0].push(t);
        }
        while let Some(t) = hub.poll_transmit() {
            held[1].push(t);
        }
        match op % 11 {
            0 => {
                let _ = spoke.connect(now, HUB);
            }
            side @ (1 | 2) => {
                let from = usize::from(side - 1);
                if held[from].is_empty() {
                    continue;
                }
                let mut t = held[from].remove(0);
                if let Some(flip) = bytes.next().filter(|b| b & 1 == 1) {
                    let at = usize::from(bytes.next().unwrap_or(0));
                    let len = t.bytes.len().max(1);
                    if let Some(byte) = t.bytes.get_mut(at % len) {
                        *byte ^= flip;
                    }
                }
                let _ = if from == 0 {
                    hub.handle_message(now, SPOKE, &t.bytes)
                } else {
                    spoke.handle_message(now, HUB, &t.bytes)
                };
            }
            side @ (3 | 4) => {
                let from = usize::from(side - 3);
                if !held[from].is_empty() {
                    held[from].remove(0);
                }
            }
            side @ (5 | 6) => {
                let len = usize::from(bytes.next().unwrap_or(0));
                let raw: Vec<u8> = bytes.by_ref().take(len).collect();
                let _ = if side == 5 {
                    hub.handle_message(now, SPOKE, &raw)
                } else {
                    spoke.handle_message(now, HUB, &raw)
                };
            }
            7 => {
                now += Duration::from_secs(i64::from(bytes.next().unwrap_or(1)));
                spoke.handle_timeout(now);
                hub.handle_timeout(now);
            }
            8 => {
                let _ = spoke.rekey(now, HUB);
            }
            9 => spoke.delete_peer(now, HUB),
            _ => spoke.traffic_sent(now, HUB),
        }
        while spoke.poll_event().is_some() {}
        while hub.poll_event().is_some() {}
        let (sas, children) = hub.counts();
        assert!(sas <= 4 * steps && children <= 4 * steps);
        for side in &mut held {
            if side.len() > 64 {
                side.drain(..side.len() - 64);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn arbitrary_scripts_never_panic() {
        bolero::check!().for_each(|data: &[u8]| fuzz_script(data));
    }

    /// Many scripts biased towards progress (deliveries, with a flip one time in eight), for a
    /// longer run: `cargo test -p dmvpn-proto --release -- --ignored ike_scripts_stress`.
    #[test]
    #[ignore = "long run"]
    fn ike_scripts_stress() {
        use super::super::Entropy;
        let mut rng = TestEntropy::new(42);
        for _ in 0..20_000 {
            let mut script = alloc::vec![0];
            let mut byte = [0u8; 4];
            for _ in 0..60 {
                rng.fill(super::super::Purpose::Nonce, &mut byte);
                match byte[0] % 16 {
                    0..=9 => script.extend_from_slice(&[
                        1 + byte[1] % 2,
                        if byte[2] % 8 == 0 { byte[3] | 1 } else { 0 },
                        byte[2],
                    ]),
                    10 | 11 => script.extend_from_slice(&[7, byte[1] % 40]),
                    12 => script.extend_from_slice(&[3 + byte[1] % 2]),
                    13 => script.extend_from_slice(&[5 + byte[1] % 2, 28, 0, 0, 0, 0]),
                    _ => script.push(8 + byte[1] % 3),
                }
            }
            fuzz_script(&script);
        }
    }

    #[test]
    fn a_clean_script_establishes_and_survives_flips() {
        // connect, then shuttle: MM1..MM6, QM1..QM3; then a flipped informational and a probe.
        let mut script = alloc::vec![0];
        for _ in 0..6 {
            script.extend_from_slice(&[1, 0, 2, 0]);
        }
        script.extend_from_slice(&[7, 30, 1, 0x41, 40, 2, 0, 7, 30, 9, 1, 0]);
        fuzz_script(&script);
    }
}
