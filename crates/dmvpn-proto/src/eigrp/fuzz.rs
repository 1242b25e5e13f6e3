//! [`fuzz_script`]: a hub and two spokes ([`Eigrp`]) on an in-memory tunnel driven by arbitrary
//! bytes — packets delivered, dropped, duplicated or forged, prefixes added and removed, clocks
//! advanced, routers shut down — which must never panic, and whose route events must always
//! agree with [`Eigrp::routes`].

use alloc::collections::{BTreeMap, VecDeque};
use alloc::vec::Vec;
use core::net::{IpAddr, Ipv4Addr};

use dmvpn_eigrp::tlv::{
    AddressList, ClassicMetric, ClassicRoute, Destination, Destinations, Family, Parameters, Tlv,
};
use dmvpn_eigrp::{self as eigrp, Flags, OpCode};

use super::{Eigrp, EigrpConfig, Link, Md5Key, Prefix};
use crate::time::{Duration, Instant};

struct Script<'a>(&'a [u8]);

impl Script<'_> {
    fn u8(&mut self) -> u8 {
        let (&b, rest) = self.0.split_first().unwrap_or((&0, &[]));
        self.0 = rest;
        b
    }

    fn u32(&mut self) -> u32 {
        u32::from_be_bytes([self.u8(), self.u8(), self.u8(), self.u8()])
    }
}

const ROUTERS: usize = 3;

fn address(i: usize) -> Ipv4Addr {
    Ipv4Addr::new(172, 16, 1, 1 + (i % 250) as u8)
}

/// Runs the script; panics only if an invariant breaks.
pub fn fuzz_script(data: &[u8]) {
    let mut script = Script(data);
    let flags = script.u8();
    let mut now = Instant::ZERO;
    let mut routers: Vec<Eigrp> = (0..ROUTERS)
        .map(|i| {
            let mut config = EigrpConfig::new(address(i), 123);
            config.split_horizon = flags & 1 == 0;
            config.next_hop_self = flags & 2 == 0;
            if flags & 4 != 0 {
                config.hello.md5 = Some(Md5Key::new(1, b"key"));
            }
            if i > 0 && flags & 8 != 0 {
                config.hello.stub = Some(1);
            }
            Eigrp::new(config, now)
        })
        .collect();
    let mut ribs: Vec<BTreeMap<Prefix, (Ipv4Addr, u32)>> = alloc::vec![BTreeMap::new(); ROUTERS];
    let mut wire: VecDeque<(usize, usize, Vec<u8>)> = VecDeque::new();
    let mut steps = 0;
    while !script.0.is_empty() && steps < 2000 {
        steps += 1;
        // Collect what the routers sent.
        for (i, router) in routers.iter_mut().enumerate() {
            while let Some(t) = router.poll_transmit() {
                let hearers: Vec<usize> = match (i, t.to.is_multicast()) {
                    (0, true) => (1..ROUTERS).collect(),
                    (_, true) => alloc::vec![0],
                    (_, false) => (0..ROUTERS).filter(|&j| address(j) == t.to).collect(),
                };
                for j in hearers {
                    if wire.len() < 256 {
                        wire.push_back((i, j, t.bytes.clone()));
                    }
                }
            }
            while let Some(e) = router.poll_event() {
                // An installed route is new; a changed or withdrawn one was there.
                assert!(e.apply(&mut ribs[i]));
            }
            let own: BTreeMap<_, _> = router.routes().map(|(p, nh, m)| (p, (nh, m))).collect();
            assert_eq!(own, ribs[i]);
        }
        let target = usize::from(script.u8()) % ROUTERS;
        match script.u8() % 9 {
            0 => {
                now += Duration::from_millis(i64::from(script.u8()) * 250);
                for router in &mut routers {
                    if router.poll_timeout().is_some_and(|t| t <= now) {
                        router.handle_timeout(now);
                    }
                }
            }
            1 | 2 => {
                if let Some((from, to, bytes)) = wire.pop_front()
                    && let Ok(p) = eigrp::Packet::new_checked(&bytes[..])
                    && let Ok(repr) = eigrp::Repr::parse(&p)
                {
                    let _ = routers[to].handle_packet(now, address(from), &repr);
                }
            }
            3 => {
                wire.pop_front();
            }
            4 => {
                if let Some(front) = wire.front().cloned() {
                    wire.push_back(front);
                }
            }
            5 => {
                let prefix = Prefix::new(Ipv4Addr::from_bits(script.u32()), script.u8() % 33);
                routers[target].add_connected(now, prefix, Link::GIGABIT_ETHERNET);
            }
            6 => {
                let prefix = Prefix::new(Ipv4Addr::new(10, 0, script.u8() % 4, 0), 24);
                if script.u8() % 2 == 0 {
                    routers[target].add_connected(now, prefix, Link::LOOPBACK);
                } else {
                    routers[target].remove_connected(now, prefix);
                }
            }
            7 => forge(&mut script, &mut routers[target], now),
            _ => {
                if script.u8() % 8 == 0 {
                    routers[target].shutdown(now);
                }
            }
        }
    }
}

/// A structured packet with chosen header fields and one route TLV, from a neighbour address.
fn forge(script: &mut Script<'_>, router: &mut Eigrp, now: Instant) {
    let from = address(usize::from(script.u8()) % (ROUTERS + 1));
    let opcode = OpCode(script.u8() % 12);
    let flags = Flags(u32::from(script.u8() % 16));
    let sequence = u32::from(script.u8() % 8);
    let ack = u32::from(script.u8() % 8);
    let metric = ClassicMetric {
        delay: match script.u8() {
            0 => ClassicMetric::UNREACHABLE,
            d => u32::from(d) * 256,
        },
        bandwidth: u32::from(script.u8()) * 256,
        mtu: 1500,
        hop_count: script.u8(),
        reliability: script.u8(),
        load: script.u8(),
        tag: 0,
        flags: script.u8() % 8,
    };
    let dest = [Destination {
        prefix_len: script.u8() % 33,
        prefix: IpAddr::V4(Ipv4Addr::new(10, 0, script.u8() % 4, 0)),
    }];
    let list_bytes = [4, 172, 16, 1, 1 + script.u8() % 4];
    let list = AddressList::new(&list_bytes, 0).ok();
    let mut tlvs = alloc::vec![Tlv::Parameters(Parameters::DEFAULT)];
    match script.u8() % 3 {
        0 => tlvs.push(Tlv::Classic(ClassicRoute {
            next_hop: IpAddr::V4(Ipv4Addr::new(172, 16, 1, script.u8() % 5)),
            external: None,
            metric,
            destinations: Destinations::new(Family::Ipv4, &dest),
        })),
        1 => {
            if let Some(list) = list {
                tlvs.push(Tlv::Sequence(list));
            }
            tlvs.push(Tlv::NextMulticastSequence(sequence));
        }
        _ => tlvs.clear(),
    }
    let repr = eigrp::Repr {
        opcode,
        flags,
        sequence,
        ack,
        virtual_router_id: 0,
        autonomous_system: 123,
        tlvs: eigrp::Tlvs::new(&tlvs),
    };
    let _ = router.handle_packet(now, from, &repr);
}

#[cfg(test)]
mod tests {
    #[test]
    fn scripts_never_panic() {
        bolero::check!().for_each(super::fuzz_script);
    }

    #[test]
    fn routers_left_to_talk_keep_their_rib_in_step() {
        // Time, then deliveries: enough for a full INIT exchange among the three routers.
        let mut data = alloc::vec![0u8];
        for _ in 0..200 {
            data.extend_from_slice(&[0, 1, 0, 0, 0, 4]);
        }
        super::fuzz_script(&data);
    }
}
