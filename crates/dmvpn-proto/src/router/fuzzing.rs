//! The fuzz entry of the [`Router`]: a hub and a spoke, each a whole router with IKE, wired in
//! memory, where the script decides which packets arrive (GRE, ESP and IKE alike), flips bytes
//! in them, injects arbitrary ones, moves the clock, restarts the hub and deletes SAs. Nothing
//! may panic, and the queues stay bounded.

use alloc::boxed::Box;
use alloc::collections::VecDeque;
use alloc::vec::Vec;
use core::net::Ipv4Addr;

use dmvpn_esp::{Encryption, Integrity};
use dmvpn_isakmp::consts::Group;
use dmvpn_isakmp::crypto::Cipher;

use super::Router;
use crate::ike::{self, Dpd, EspAuth, EspCipher, Hash, Policy, TestEntropy};
use crate::ipsec::{GRE, Lifetime, UDP};
use crate::nhrp::Nhs;
use crate::node::sim::{XorShift, ipv4_packet};
use crate::node::{
    EigrpConfig, IpsecConfig, Node, NodeConfig, PROTOCOL_ESP, Prefix, Redirect, TransformSet,
    Transmit,
};
use crate::time::{Duration, Instant};

const HUB: Ipv4Addr = Ipv4Addr::new(192, 0, 2, 1);
const SPOKE: Ipv4Addr = Ipv4Addr::new(192, 0, 2, 2);
const HUB_TUNNEL: Ipv4Addr = Ipv4Addr::new(172, 16, 1, 1);
const SPOKE_TUNNEL: Ipv4Addr = Ipv4Addr::new(172, 16, 1, 2);
/// Packets held per direction at most (the oldest go first).
const HELD: usize = 64;

fn node_config(hub: bool) -> NodeConfig {
    let mut config = if hub {
        NodeConfig::hub(HUB_TUNNEL, 24, HUB)
    } else {
        let nhs = Nhs {
            tunnel: HUB_TUNNEL,
            nbma: HUB,
        };
        NodeConfig::spoke(SPOKE_TUNNEL, 24, SPOKE, nhs)
    };
    config.ipsec = Some(IpsecConfig {
        transform_set: TransformSet {
            encryption: Encryption::AesCbc,
            key_bits: 128,
            integrity: Integrity::HmacSha1_96,
        },
        lifetime: Lifetime::ios_default(),
    });
    let lan = Prefix::new(Ipv4Addr::new(10, 0, u8::from(!hub), 0), 24);
    config.eigrp = Some(EigrpConfig {
        networks: alloc::vec![Prefix::new(HUB_TUNNEL, 24), lan],
        connected: alloc::vec![lan],
        ..EigrpConfig::new(100)
    });
    // Phase 3, so that arbitrary input reaches the redirect, resolution and shortcut paths.
    if hub {
        config.nhrp.redirect = Some(Redirect::IOS_DEFAULT);
    } else {
        config.tunnel.multipoint = true;
        config.nhrp.shortcut = true;
    }
    config
}

fn router(hub: bool, now: Instant, seed: u64) -> Router<TestEntropy> {
    let local = if hub { HUB } else { SPOKE };
    // Group 1 keeps each Diffie-Hellman step cheap under the fuzzer; small lifetimes make
    // rekeys happen within a script.
    let policy = Policy::new(Cipher::Aes128, Hash::Sha1, Group::MODP_768);
    let set = ike::TransformSet::new(EspCipher::Aes128, EspAuth::Sha1);
    let mut ike = ike::Config::dmvpn(local, policy, b"fuzz-psk", set);
    ike.dpd = Some(Dpd::new(Duration::from_secs(10), true));
    ike.ipsec_lifetime = Duration::from_secs(120);
    ike.ipsec_lifetime_kb = Some(8);
    let node = Node::new(node_config(hub), now, Box::new(XorShift::new(seed)));
    let endpoint = ike::Endpoint::new(ike, TestEntropy::new(seed));
    Router::new(node, Some(endpoint), now)
}

/// Takes everything `router` produced: its transmits into `held` (bounded), the rest dropped.
fn drain(router: &mut Router<TestEntropy>, held: &mut VecDeque<Transmit>) {
    while let Some(t) = router.poll_transmit() {
        if held.len() >= HELD {
            held.pop_front();
        }
        held.push_back(t);
    }
    while router.poll_deliver().is_some() {}
    while router.poll_event().is_some() {}
}

/// Runs `data` as a script. Each step takes an opcode byte and its operands:
///
/// - `0`/`1`: deliver the spoke's / hub's next packet (GRE, ESP or IKE); the next byte, if odd,
///   is followed by a position and an xor mask that flip one byte of it first;
/// - `2`/`3`: drop the spoke's / hub's next packet;
/// - `4`/`5`: a protocol selector, a length byte, then that many bytes delivered to the hub /
///   spoke as GRE, ESP or UDP;
/// - `6`: advance the clock by the next byte in seconds (its low bit: by as many 100 ms) and
///   run the timers that are due;
/// - `7`: a host packet of the next byte's length into the spoke's tunnel interface;
/// - `8`: the hub restarts with nothing kept;
/// - `9`: the spoke deletes every SA.
pub fn fuzz_script(data: &[u8]) {
    let mut now = Instant::ZERO;
    let mut hub = router(true, now, 1);
    let mut spoke = router(false, now, 2);
    let mut held: [VecDeque<Transmit>; 2] = [VecDeque::new(), VecDeque::new()];
    let mut bytes = data.iter().copied();
    let mut next = move || bytes.next();
    let mut boots = 1;
    for _ in 0..512 {
        let Some(op) = next() else { break };
        drain(&mut spoke, &mut held[0]);
        drain(&mut hub, &mut held[1]);
        match op % 10 {
            side @ (0 | 1) => {
                let flip = next().filter(|b| b % 2 == 1).map(|_| (next(), next()));
                let Some(mut t) = held[usize::from(side)].pop_front() else {
                    continue;
                };
                if let Some((Some(at), Some(mask))) = flip
                    && let Some(len) = core::num::NonZeroUsize::new(t.bytes.len())
                    && let Some(byte) = t.bytes.get_mut(usize::from(at) % len.get())
                {
                    *byte ^= mask;
                }
                if side == 0 {
                    hub.handle_nbma(now, SPOKE, t.protocol, &t.bytes);
                } else {
                    spoke.handle_nbma(now, HUB, t.protocol, &t.bytes);
                }
            }
            side @ (2 | 3) => {
                held[usize::from(side - 2)].pop_front();
            }
            side @ (4 | 5) => {
                let protocol = [GRE, PROTOCOL_ESP, UDP][usize::from(next().unwrap_or(0) % 3)];
                let len = next().unwrap_or(0);
                let payload: Vec<u8> = (0..len).map_while(|_| next()).collect();
                if side == 4 {
                    hub.handle_nbma(now, SPOKE, protocol, &payload);
                } else {
                    spoke.handle_nbma(now, HUB, protocol, &payload);
                }
            }
            6 => {
                let step = next().unwrap_or(1);
                let step = if step % 2 == 0 {
                    Duration::from_secs(i64::from(step))
                } else {
                    Duration::from_millis(100 * i64::from(step))
                };
                now += step;
                for router in [&mut hub, &mut spoke] {
                    for _ in 0..64 {
                        if router.poll_timeout().is_none_or(|t| t > now) {
                            break;
                        }
                        router.handle_timeout(now);
                    }
                }
            }
            7 => {
                let len = usize::from(next().unwrap_or(0)) * 8;
                let payload = alloc::vec![0x42; len];
                let src = Ipv4Addr::new(10, 0, 1, 10);
                let packet = ipv4_packet(src, Ipv4Addr::new(10, 0, 0, 10), UDP, &payload);
                spoke.handle_tunnel_packet(now, &packet);
            }
            8 => {
                boots += 1;
                hub = router(true, now, boots);
                held[1].clear();
            }
            _ => spoke.delete_all(now),
        }
        drain(&mut spoke, &mut held[0]);
        drain(&mut hub, &mut held[1]);
        assert!(held.iter().all(|h| h.len() <= HELD));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Carrying everything both ways for a while keys the pair: the script reaches the deep
    /// states the fuzzer mutates from.
    #[test]
    fn delivering_everything_keys_the_spoke() {
        let mut script = Vec::new();
        for _ in 0..40 {
            script.extend_from_slice(&[0, 0, 1, 0, 0, 0, 1, 0, 6, 3]);
        }
        fuzz_script(&script);
        // And the same run, by hand, ends keyed.
        let mut now = Instant::ZERO;
        let mut hub = router(true, now, 1);
        let mut spoke = router(false, now, 2);
        for _ in 0..200 {
            while let Some(t) = spoke.poll_transmit() {
                hub.handle_nbma(now, SPOKE, t.protocol, &t.bytes);
            }
            while let Some(t) = hub.poll_transmit() {
                spoke.handle_nbma(now, HUB, t.protocol, &t.bytes);
            }
            now += Duration::from_millis(100);
            for router in [&mut hub, &mut spoke] {
                if router.poll_timeout().is_some_and(|t| t <= now) {
                    router.handle_timeout(now);
                }
            }
        }
        assert_eq!(spoke.pairs().len(), 1);
        assert!(hub.node().nhrp_server().is_some_and(|s| s.len() == 1));
    }

    /// The fuzz target's twin under `cargo test` (bolero).
    #[test]
    fn arbitrary_scripts_do_not_panic() {
        bolero::check!().for_each(fuzz_script);
    }
}
