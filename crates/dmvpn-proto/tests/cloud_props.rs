//! Properties of whole nodes under arbitrary inputs (bolero, run briefly under `cargo test`):
//! a registered mapping always expires without refresh, ESP never delivers a packet twice, and
//! no packet from the network or the host panics a node.

// Helpers outside `#[test]` functions unwrap test fixtures: a failure is a failed test.
#![allow(clippy::unwrap_used)]

#[path = "util/cloud.rs"]
mod cloud_util;

use std::net::Ipv4Addr;

use cloud_util::{HUB_NBMA, HUB_TUNNEL, host, hub_config, spoke_config, spoke_nbma};
use dmvpn_esp::{Encryption, Integrity, NextHeader, Sa};
use dmvpn_proto::ipsec::Lifetime;
use dmvpn_proto::nhrp::{ClientEvent, ServerEvent};
use dmvpn_proto::node::sim::{Cloud, XorShift, ipv4_packet, parse_ipv4};
use dmvpn_proto::node::{DropReason, Event, Node, PROTOCOL_ESP};
use dmvpn_proto::{Duration, Instant};

/// Whatever the holding time, the number of spokes, when the network fails and how lossy it
/// was before: once no refresh can get through, the hub has removed every mapping (and said
/// so) within the holding time, and every spoke has reported its registration expired.
#[test]
fn a_registered_mapping_always_expires_without_refresh() {
    bolero::check!()
        .with_type::<(u16, u8, u16, u8, u64)>()
        .with_iterations(64)
        .for_each(|&(holding, spokes, cut_ms, loss, seed)| {
            let holding = holding % 900 + 1;
            let spokes = u16::from(spokes % 4) + 1;
            let mut cloud = Cloud::new(Instant::ZERO, seed);
            cloud.loss_percent = u32::from(loss % 30);
            let mut hub = hub_config(0);
            (hub.eigrp, hub.ipsec) = (None, None);
            cloud.add(hub);
            for n in 1..=spokes {
                let mut spoke = spoke_config(n);
                (spoke.eigrp, spoke.ipsec) = (None, None);
                spoke.nhrp.holding_time = holding;
                cloud.add(spoke);
            }
            // Run until every spoke has registered, and a while longer.
            let mut t = Instant::ZERO;
            while cloud.members[0].node.nhrp_server().unwrap().len() < usize::from(spokes) {
                t += Duration::from_secs(1);
                assert!(t < Instant::from_secs(3600), "registers");
                cloud.run_until(t);
            }
            cloud.run_for(Duration::from_millis(i64::from(cut_ms)));
            // The network fails: nothing gets through any more.
            cloud.drop = Some(Box::new(|_| true));
            let cut = cloud.now;
            let mapped: Vec<Ipv4Addr> = cloud.members[0]
                .node
                .nhrp_server()
                .unwrap()
                .registrations()
                .map(|r| r.tunnel)
                .collect();
            let registered: Vec<bool> = (1..=spokes)
                .map(|n| {
                    cloud.members[usize::from(n)]
                        .node
                        .nhrp_client()
                        .unwrap()
                        .is_registered()
                })
                .collect();
            cloud.run_until(cut + Duration::from_secs(i64::from(holding)) + cloud.latency);
            let server = cloud.members[0].node.nhrp_server().unwrap();
            assert_eq!(server.len(), 0, "holding {holding}");
            let hub_events = &cloud.members[0].events;
            // Every mapping the hub held when the network failed expired (a lossy network may
            // have expired some before), and every spoke registered then saw it expire.
            for tunnel in mapped {
                let expired = hub_events.iter().any(|(at, e)| {
                    matches!(e, Event::NhrpServer(ServerEvent::Expired { tunnel: t, .. })
                        if *t == tunnel && *at > cut)
                });
                assert!(expired, "{tunnel}");
            }
            for n in 1..=spokes {
                let spoke = &cloud.members[usize::from(n)];
                assert!(!spoke.node.nhrp_client().unwrap().is_registered());
                let expired = spoke.events.iter().any(|(at, e)| {
                    matches!(e, Event::Nhrp(ClientEvent::Expired { .. })) && *at > cut
                });
                assert_eq!(expired, registered[usize::from(n) - 1], "spoke {n}");
            }
        });
}

const SPI_IN: u32 = 0x1111_0001;
const SPI_OUT: u32 = 0x2222_0002;
const ENC: [u8; 16] = [0x5a; 16];
const AUTH: [u8; 20] = [0xa5; 20];

fn sa(spi: u32) -> Sa {
    Sa::new(spi, Encryption::AesCbc, &ENC, Integrity::HmacSha1_96, &AUTH).unwrap()
}

/// The hub with SAs to spoke 1 (spoke → hub on `SPI_IN`), and spoke 1's outbound SA.
fn keyed_hub() -> (Node, Sa) {
    let mut hub = Node::new(hub_config(2), Instant::ZERO, Box::new(XorShift::new(9)));
    hub.install_sas(
        Instant::ZERO,
        spoke_nbma(1),
        sa(SPI_IN),
        sa(SPI_OUT),
        Lifetime::default(),
    );
    while hub.poll_event().is_some() {}
    while hub.poll_transmit().is_some() {}
    (hub, sa(SPI_IN))
}

/// The GRE packet (key 100) carrying `inner`.
fn gre(inner: &[u8]) -> Vec<u8> {
    let mut packet = vec![0x20, 0x00, 0x08, 0x00, 0, 0, 0, 100];
    packet.extend_from_slice(inner);
    packet
}

/// However the network reorders and repeats ESP packets, the hub takes each one once: every
/// datagram from spoke 1's LAN to the hub's host arrives at most once.
#[test]
fn esp_never_delivers_a_packet_twice() {
    bolero::check!()
        .with_type::<Vec<u8>>()
        .with_iterations(200)
        .for_each(|order| {
            let (mut hub, spoke_sa) = keyed_hub();
            let packets: Vec<Vec<u8>> = (0..16u8)
                .map(|tag| {
                    let inner = ipv4_packet(host(1, 10), HUB_TUNNEL, 17, &[tag]);
                    let mut out = Vec::new();
                    let iv = [tag; 16];
                    let seq = u64::from(tag) + 1;
                    spoke_sa
                        .encrypt(seq, &iv, NextHeader::GRE, &gre(&inner), &mut out)
                        .unwrap();
                    out
                })
                .collect();
            for &index in order {
                let packet = &packets[usize::from(index % 16)];
                hub.handle_nbma(Instant::ZERO, spoke_nbma(1), PROTOCOL_ESP, packet);
            }
            let mut seen = [0u32; 16];
            while let Some(packet) = hub.poll_deliver() {
                let (_, _, _, payload) = parse_ipv4(&packet).unwrap();
                seen[usize::from(payload[0])] += 1;
            }
            assert!(seen.iter().all(|&n| n <= 1), "{seen:?}");
            let distinct: std::collections::BTreeSet<_> = order.iter().map(|i| i % 16).collect();
            let delivered = seen.iter().filter(|&&n| n == 1).count();
            // Within the 64-packet window every distinct packet is accepted once.
            assert_eq!(delivered, distinct.len());
            let replays = hub.counters().drops(DropReason::EspReplay);
            assert_eq!(replays as usize, order.len() - distinct.len());
        });
}

/// Arbitrary bytes as any NBMA protocol, as the payload of a valid GRE header (in the clear and
/// inside valid ESP), and as a packet from the host never panic a hub or a spoke, and every
/// packet is accounted for (taken or counted as dropped).
#[test]
fn arbitrary_packets_never_panic_a_node() {
    bolero::check!()
        .with_type::<(u8, Vec<u8>)>()
        .for_each(|&(kind, ref bytes)| {
            let (mut hub, spoke_sa) = keyed_hub();
            let mut spoke_config = spoke_config(1);
            spoke_config.ipsec = None;
            let mut spoke = Node::new(spoke_config, Instant::ZERO, Box::new(XorShift::new(3)));
            let now = Instant::from_secs(1);
            let from = if kind & 0x80 == 0 {
                spoke_nbma(1)
            } else {
                Ipv4Addr::new(9, 9, 9, 9)
            };
            match kind % 6 {
                0 => {
                    hub.handle_nbma(now, from, kind, bytes);
                    spoke.handle_nbma(now, HUB_NBMA, kind, bytes);
                }
                1 => {
                    hub.handle_nbma(now, from, PROTOCOL_ESP, bytes);
                    spoke.handle_nbma(now, HUB_NBMA, 47, bytes);
                }
                2 => {
                    let mut packet = vec![0x20, 0x00, 0x20, 0x01, 0, 0, 0, 100];
                    packet.extend_from_slice(bytes);
                    spoke.handle_nbma(now, HUB_NBMA, 47, &packet);
                    let mut out = Vec::new();
                    spoke_sa
                        .encrypt(1, &[0; 16], NextHeader::GRE, &packet, &mut out)
                        .unwrap();
                    hub.handle_nbma(now, from, PROTOCOL_ESP, &out);
                }
                3 => {
                    spoke.handle_nbma(now, HUB_NBMA, 47, &gre(bytes));
                    let mut out = Vec::new();
                    spoke_sa
                        .encrypt(1, &[0; 16], NextHeader::GRE, &gre(bytes), &mut out)
                        .unwrap();
                    hub.handle_nbma(now, from, PROTOCOL_ESP, &out);
                }
                4 => {
                    hub.handle_tunnel_packet(now, bytes);
                    spoke.handle_tunnel_packet(now, bytes);
                }
                _ => {
                    // A well-formed inner header around arbitrary bytes, to every protocol.
                    let inner = ipv4_packet(host(1, 1), host(2, 1), kind, bytes);
                    spoke.handle_nbma(now, HUB_NBMA, 47, &gre(&inner));
                    spoke.handle_tunnel_packet(now, &inner);
                    hub.handle_tunnel_packet(now, &inner);
                }
            }
            for node in [&mut hub, &mut spoke] {
                node.handle_timeout(Instant::from_secs(100));
                while node.poll_transmit().is_some() {}
                while node.poll_deliver().is_some() {}
                while node.poll_event().is_some() {}
                let c = node.counters();
                assert!(c.total_drops() + c.delivered + c.forwarded + c.nbma_out > 0);
            }
        });
}
