//! EIGRP neighbour discovery over a DMVPN Phase 1 cloud: the hub hears every spoke, each spoke
//! hears only the hub (its Hellos reach the others through the hub's multicast replication,
//! which does not forward EIGRP itself). Virtual clock in milliseconds, 10 ms one way.

// The harness is test code outside `#[test]` functions: a packet that does not parse is a failed
// test.
#![allow(clippy::unwrap_used)]

#[path = "util/eigrp.rs"]
mod eigrp_util;

use std::net::Ipv4Addr;

use dmvpn_eigrp::tlv::{Parameters, Tlv};
use dmvpn_eigrp::{self as eigrp, OpCode};
use dmvpn_proto::eigrp::{DownReason, Error, Event, HelloConfig, Md5Key, Neighbors};
use dmvpn_proto::{Duration, Instant};
use eigrp_util::Tunnel;

const AS: u16 = 123;

fn addr(n: u8) -> Ipv4Addr {
    Ipv4Addr::new(172, 16, 1, n)
}

fn ms(t: i64) -> Instant {
    Instant::from_millis(t)
}

struct Router {
    machine: Neighbors,
    address: Ipv4Addr,
    alive: bool,
    events: Vec<(i64, Event)>,
    errors: Vec<(i64, Error)>,
}

impl eigrp_util::Router for Router {
    fn address(&self) -> Ipv4Addr {
        self.address
    }

    fn poll_timeout(&self) -> Option<Instant> {
        self.machine.poll_timeout()
    }

    fn handle_timeout(&mut self, now: Instant) {
        self.machine.handle_timeout(now);
    }

    fn receive(&mut self, now: Instant, source: Ipv4Addr, repr: &eigrp::Repr<'_>) {
        if let Err(e) = self.machine.handle_message(now, source, repr) {
            self.errors.push((now.total_millis(), e));
        }
    }
}

/// Router 0 is the hub (172.16.1.1); the others are spokes.
type Cloud = Tunnel<Router>;

impl Cloud {
    fn new(configs: Vec<HelloConfig>) -> Self {
        Self::with(
            configs
                .into_iter()
                .map(|config| Router {
                    address: config.address,
                    machine: Neighbors::new(config, Instant::ZERO),
                    alive: true,
                    events: Vec::new(),
                    errors: Vec::new(),
                })
                .collect(),
        )
    }

    fn collect(&mut self) {
        for i in 0..self.routers.len() {
            while let Some(t) = self.routers[i].machine.poll_transmit() {
                // Every packet parses back with the codec.
                let repr = t.parse().unwrap();
                assert_eq!(repr.opcode, OpCode::HELLO);
                if self.routers[i].alive {
                    self.send(i, self.hearers(i, t.to), &t.bytes);
                }
            }
            while let Some(e) = self.routers[i].machine.poll_event() {
                self.routers[i].events.push((self.now.total_millis(), e));
            }
        }
    }

    fn run_until(&mut self, limit: Instant) {
        self.run(limit, Self::collect);
    }
}

#[test]
fn hub_and_spokes_become_neighbours_and_hellos_repeat() {
    let mut cloud = Cloud::new((1..=3).map(|n| HelloConfig::new(addr(n), AS)).collect());
    cloud.run_until(ms(20_000));
    // The hub sees both spokes at 10 ms; each spoke sees only the hub (Phase 1).
    let hub = &cloud.routers[0];
    assert_eq!(
        hub.events,
        [
            (
                10,
                Event::NeighborUp {
                    address: addr(2),
                    hold_time: Duration::from_secs(15)
                }
            ),
            (
                10,
                Event::NeighborUp {
                    address: addr(3),
                    hold_time: Duration::from_secs(15)
                }
            ),
        ]
    );
    assert_eq!(hub.machine.len(), 2);
    for spoke in &cloud.routers[1..] {
        assert_eq!(
            spoke.machine.iter().map(|n| n.address).collect::<Vec<_>>(),
            [addr(1)]
        );
    }
    // Hellos every 5 s; the hold timer restarts on each (15 s after the last, at 15 010 ms).
    let neighbor = cloud.routers[0].machine.get(addr(2)).unwrap();
    assert_eq!(neighbor.expires_at, ms(15_010 + 15_000));
    assert_eq!(neighbor.up_since, ms(10));
    assert_eq!(
        neighbor
            .software_version
            .map(|v| (v.release, v.tlv_version)),
        Some(([12, 4], [1, 2]))
    );
    assert_eq!(cloud.routers[0].machine.poll_timeout(), Some(ms(25_000)));
}

#[test]
fn hello_carries_parameters_software_version_and_stub() {
    let mut config = HelloConfig::new(addr(2), AS);
    config.stub = Some(eigrp::consts::STUB_CONNECTED | eigrp::consts::STUB_SUMMARY);
    let mut machine = Neighbors::new(config, Instant::ZERO);
    let hello = machine.poll_transmit().unwrap();
    assert_eq!(hello.to, Ipv4Addr::new(224, 0, 0, 10));
    let repr = hello.parse().unwrap();
    assert_eq!(
        repr.to_string(),
        "Hello AS 123 seq 0 ack 0 [Parameters K 1/0/1/0/0/0 hold 15, SoftwareVersion 12.4 tlv 1.2, Stub 0x0005]"
    );
    assert_eq!(machine.poll_timeout(), Some(ms(5_000)));
    machine.handle_timeout(ms(4_999));
    assert!(machine.poll_transmit().is_none());
    machine.handle_timeout(ms(5_000));
    assert!(machine.poll_transmit().is_some());
    assert_eq!(machine.poll_timeout(), Some(ms(10_000)));
}

#[test]
fn silent_spoke_goes_down_when_its_hold_time_runs_out() {
    let mut spoke = HelloConfig::new(addr(2), AS);
    spoke.hold_time = 30; // announced to the hub, which must use it
    let mut cloud = Cloud::new(vec![HelloConfig::new(addr(1), AS), spoke]);
    cloud.run_until(ms(12_000));
    // The spoke's last Hello went out at 10 s and arrived at 10 010 ms.
    cloud.routers[1].alive = false;
    cloud.run_until(ms(40_009));
    assert_eq!(cloud.routers[0].machine.len(), 1);
    cloud.run_until(ms(40_010));
    assert_last_down(&cloud, 40_010, DownReason::HoldTimerExpired);
    assert!(cloud.routers[0].machine.is_empty());
    assert_eq!(cloud.routers[0].machine.poll_timeout(), Some(ms(45_000)));
}

#[test]
fn k_value_mismatch_is_refused_and_reported() {
    let mut odd = HelloConfig::new(addr(2), AS);
    odd.k = [1, 1, 1, 0, 0, 0];
    let mut cloud = Cloud::new(vec![HelloConfig::new(addr(1), AS), odd]);
    cloud.run_until(ms(6_000));
    let hub = &cloud.routers[0];
    assert!(hub.machine.is_empty());
    assert_eq!(
        hub.events,
        [
            (
                10,
                Event::KValueMismatch {
                    address: addr(2),
                    theirs: [1, 1, 1, 0, 0, 0]
                }
            ),
            (
                5_010,
                Event::KValueMismatch {
                    address: addr(2),
                    theirs: [1, 1, 1, 0, 0, 0]
                }
            ),
        ]
    );
    assert_eq!(
        hub.errors[0],
        (10, Error::KValueMismatch { address: addr(2) })
    );
    // Both sides refuse: IOS logs the mismatch on each router.
    assert!(cloud.routers[1].machine.is_empty());
}

/// Router 0's last event: router 1 (address 2) went down at `at` for `reason`.
#[track_caller]
fn assert_last_down(cloud: &Cloud, at: i64, reason: DownReason) {
    assert_eq!(
        cloud.routers[0].events.last(),
        Some(&(
            at,
            Event::NeighborDown {
                address: addr(2),
                reason
            }
        ))
    );
}

fn parse(bytes: &[u8]) -> eigrp::Repr<'_> {
    eigrp::Repr::parse(&eigrp::Packet::new_checked(bytes).unwrap()).unwrap()
}

/// A Hello of AS [`AS`] acknowledging `ack`, with `tlvs`.
fn hello_with<'a>(ack: u32, tlvs: &'a [Tlv<'a>]) -> eigrp::Repr<'a> {
    eigrp::Repr {
        opcode: OpCode::HELLO,
        flags: eigrp::Flags::default(),
        sequence: 0,
        ack,
        virtual_router_id: 0,
        autonomous_system: AS,
        tlvs: eigrp::Tlvs::new(tlvs),
    }
}

#[test]
fn k_values_changed_on_a_neighbour_take_it_down() {
    let mut hub = Neighbors::new(HelloConfig::new(addr(1), AS), Instant::ZERO);
    let hello =
        |k: [u8; 6]| hello_with(0, &[Tlv::Parameters(Parameters { k, hold_time: 15 })]).to_bytes();
    let good = hello([1, 0, 1, 0, 0, 0]);
    hub.handle_message(ms(0), addr(2), &parse(&good)).unwrap();
    // K6 differs: not compared.
    let k6 = hello([1, 0, 1, 0, 0, 1]);
    hub.handle_message(ms(1), addr(2), &parse(&k6)).unwrap();
    let bad = hello([1, 0, 0, 0, 0, 0]);
    assert_eq!(
        hub.handle_message(ms(2), addr(2), &parse(&bad)),
        Err(Error::KValueMismatch { address: addr(2) })
    );
    let events: Vec<_> = std::iter::from_fn(|| hub.poll_event()).collect();
    assert_eq!(
        events,
        [
            Event::NeighborUp {
                address: addr(2),
                hold_time: Duration::from_secs(15)
            },
            Event::KValueMismatch {
                address: addr(2),
                theirs: [1, 0, 0, 0, 0, 0]
            },
            Event::NeighborDown {
                address: addr(2),
                reason: DownReason::KValueMismatch
            },
        ]
    );
    // The goodbye form on an unknown neighbour is simply ignored.
    let goodbye = hello(Parameters::GOODBYE.k);
    hub.handle_message(ms(3), addr(3), &parse(&goodbye))
        .unwrap();
    assert_eq!(hub.poll_event(), None);
}

#[test]
fn other_autonomous_system_is_ignored() {
    let mut cloud = Cloud::new(vec![
        HelloConfig::new(addr(1), AS),
        HelloConfig::new(addr(2), 124),
    ]);
    cloud.run_until(ms(6_000));
    assert!(cloud.routers[0].machine.is_empty());
    assert!(cloud.routers[1].machine.is_empty());
    assert_eq!(
        cloud.routers[0].errors[0],
        (
            10,
            Error::AsMismatch {
                ours: 123,
                theirs: 124
            }
        )
    );
    assert!(cloud.routers[0].events.is_empty());
}

#[test]
fn goodbye_takes_neighbours_down_at_once() {
    let mut cloud = Cloud::new((1..=3).map(|n| HelloConfig::new(addr(n), AS)).collect());
    cloud.run_until(ms(1_000));
    cloud.routers[1].machine.shutdown();
    assert_eq!(
        cloud.routers[1].machine.poll_event(),
        Some(Event::NeighborDown {
            address: addr(1),
            reason: DownReason::Shutdown
        })
    );
    assert_eq!(cloud.routers[1].machine.poll_timeout(), None);
    cloud.run_until(ms(1_010));
    assert_last_down(&cloud, 1_010, DownReason::Goodbye);
    assert_eq!(
        cloud.routers[0]
            .machine
            .iter()
            .map(|n| n.address)
            .collect::<Vec<_>>(),
        [addr(3)]
    );
}

#[test]
fn acknowledgements_restart_the_hold_timer_and_strangers_are_refused() {
    let mut hub = Neighbors::new(HelloConfig::new(addr(1), AS), Instant::ZERO);
    let mut spoke = Neighbors::new(HelloConfig::new(addr(2), AS), Instant::ZERO);
    let hello = spoke.poll_transmit().unwrap();
    hub.handle_message(ms(0), addr(2), &hello.parse().unwrap())
        .unwrap();
    let ack = hello_with(7, &[]);
    hub.handle_message(ms(9_000), addr(2), &ack).unwrap();
    assert_eq!(hub.get(addr(2)).unwrap().expires_at, ms(24_000));
    assert_eq!(
        hub.handle_message(ms(9_000), addr(3), &ack),
        Err(Error::NotNeighbor {
            address: addr(3),
            opcode: OpCode::HELLO
        })
    );
    let empty_hello = eigrp::Repr { ack: 0, ..ack };
    assert_eq!(
        hub.handle_message(ms(9_000), addr(3), &empty_hello),
        Err(Error::MissingParameters { address: addr(3) })
    );
    let other_vrid = eigrp::Repr {
        virtual_router_id: 0x8000,
        ..ack
    };
    assert_eq!(
        hub.handle_message(ms(9_000), addr(2), &other_vrid),
        Err(Error::VirtualRouterId { vrid: 0x8000 })
    );
    // A Peer Termination TLV naming the hub takes the spoke down.
    let tlvs = [
        Tlv::Parameters(Parameters::DEFAULT),
        Tlv::PeerTermination(&[0, 172, 16, 1, 1]),
    ];
    let termination = eigrp::Repr {
        ack: 0,
        tlvs: eigrp::Tlvs::new(&tlvs),
        ..ack
    };
    hub.handle_message(ms(9_500), addr(2), &termination)
        .unwrap();
    assert!(hub.is_empty());
}

#[test]
fn error_messages() {
    let cases = [
        (
            Error::AsMismatch { ours: 1, theirs: 2 },
            "eigrp: packet for as 2, this router runs as 1",
        ),
        (
            Error::VirtualRouterId { vrid: 0x8000 },
            "eigrp: virtual router id 0x8000 is not supported",
        ),
        (
            Error::MissingParameters { address: addr(2) },
            "eigrp: hello from 172.16.1.2 has no parameters tlv",
        ),
        (
            Error::KValueMismatch { address: addr(2) },
            "eigrp: k-value mismatch with 172.16.1.2",
        ),
        (
            Error::AuthenticationFailed { address: addr(2) },
            "eigrp: authentication failed for packet from 172.16.1.2",
        ),
        (
            Error::NotNeighbor {
                address: addr(2),
                opcode: OpCode::UPDATE,
            },
            "eigrp: Update (1) from 172.16.1.2, which is not a neighbour",
        ),
    ];
    for (error, text) in cases {
        assert_eq!(error.to_string(), text);
    }
}

/// A neighbour never outlives the hold time it announced since its last packet, whatever the
/// Hello timing.
#[test]
fn neighbours_never_outlive_their_hold_time() {
    bolero::check!()
        .with_type::<Vec<(u8, u16, u8)>>()
        .for_each(|arrivals| {
            let mut hub = Neighbors::new(HelloConfig::new(addr(1), AS), Instant::ZERO);
            let mut now = Instant::ZERO;
            let mut last_heard = std::collections::BTreeMap::new();
            for &(who, gap_ms, hold) in arrivals {
                now += Duration::from_millis(i64::from(gap_ms));
                hub.handle_timeout(now);
                let who = addr(2 + who % 4);
                let hold = u16::from(hold % 30) + 1;
                let tlvs = [Tlv::Parameters(Parameters {
                    k: Parameters::DEFAULT.k,
                    hold_time: hold,
                })];
                hub.handle_message(now, who, &hello_with(0, &tlvs)).unwrap();
                last_heard.insert(who, now + Duration::from_secs(i64::from(hold)));
                for neighbor in hub.iter() {
                    assert!(neighbor.expires_at > now);
                    assert_eq!(
                        Some(&neighbor.expires_at),
                        last_heard.get(&neighbor.address)
                    );
                }
            }
            hub.handle_timeout(now + Duration::from_secs(31));
            assert!(hub.is_empty());
        });
}

dmvpn_wire::hex_consts! {
    /// packetlife `EIGRP_goodbye.cap` frame 1: an IOS 12.4 Hello (10.0.0.2, AS 100), the IP payload.
    const IOS_HELLO: [u8; 40] = "0205ee68000000000000000000000000000000640001000c010001000000000f000400080c040102";

    /// The same capture, frame 9: the goodbye Hello (K1–K5 = 255) 10.0.0.2 sends on shutdown.
    const IOS_GOODBYE: [u8; 40] = "0205f167000000000000000000000000000000640001000cffffffffff00000f000400080c040102";
}

#[test]
fn hello_and_goodbye_are_what_ios_sends() {
    let address = Ipv4Addr::new(10, 0, 0, 2);
    let mut router = Neighbors::new(HelloConfig::new(address, 100), Instant::ZERO);
    assert_eq!(router.poll_transmit().unwrap().bytes, IOS_HELLO);
    router.shutdown();
    assert_eq!(router.poll_transmit().unwrap().bytes, IOS_GOODBYE);

    // And the other side of that capture: 10.0.0.1 takes 10.0.0.2 up, then down on the goodbye.
    let mut peer = Neighbors::new(
        HelloConfig::new(Ipv4Addr::new(10, 0, 0, 1), 100),
        Instant::ZERO,
    );
    peer.handle_message(ms(0), address, &parse(&IOS_HELLO))
        .unwrap();
    peer.handle_message(ms(10_000), address, &parse(&IOS_GOODBYE))
        .unwrap();
    let events: Vec<_> = std::iter::from_fn(|| peer.poll_event()).collect();
    assert_eq!(
        events,
        [
            Event::NeighborUp {
                address,
                hold_time: Duration::from_secs(15)
            },
            Event::NeighborDown {
                address,
                reason: DownReason::Goodbye
            },
        ]
    );
}

fn keyed(n: u8, key: Option<(u32, &[u8])>) -> HelloConfig {
    let mut config = HelloConfig::new(addr(n), AS);
    config.md5 = key.map(|(id, secret)| Md5Key::new(id, secret));
    config
}

#[test]
fn md5_authentication() {
    let key = Some((1, &b"cisco"[..]));
    // Hub and spoke 2 share the key; spoke 3 has another; spoke 4 has none.
    let mut cloud = Cloud::new(vec![
        keyed(1, key),
        keyed(2, key),
        keyed(3, Some((1, b"other"))),
        keyed(4, None),
    ]);
    cloud.run_until(ms(6_000));
    let hub = &cloud.routers[0];
    assert_eq!(
        hub.machine.iter().map(|n| n.address).collect::<Vec<_>>(),
        [addr(2)]
    );
    assert!(
        hub.errors
            .contains(&(10, Error::AuthenticationFailed { address: addr(3) }))
    );
    assert!(
        hub.errors
            .contains(&(10, Error::AuthenticationFailed { address: addr(4) }))
    );
    // Without a key, spoke 4 takes the hub's signed Hellos.
    assert_eq!(cloud.routers[3].machine.len(), 1);
    assert!(cloud.routers[2].machine.is_empty());

    // The Hello: Authentication TLV first, MD5 over the whole packet, key never printed.
    let config = keyed(1, key);
    assert_eq!(format!("{:?}", config.md5), "Some(Md5Key(1, <redacted>))");
    let mut machine = Neighbors::new(config, Instant::ZERO);
    let hello = machine.poll_transmit().unwrap();
    let repr = hello.parse().unwrap();
    assert!(matches!(repr.tlvs.iter().next(), Some(Tlv::Authentication(a)) if a.key_id == 1));
    assert_eq!(
        eigrp::auth::verify(&hello.bytes, b"cisco"),
        Ok(eigrp::auth::Verified::Md5(eigrp::auth::Md5Span::Packet))
    );

    // A Hello signed over FRR's header-only span is taken too; another key ID is not.
    let frr = |key_id: u32| {
        let tlvs = [
            Tlv::Authentication(eigrp::tlv::Authentication {
                auth_type: eigrp::AuthType::MD5,
                key_id,
                key_sequence: 0,
                nullpad: [0; 8],
                digest: &[0; 16],
            }),
            Tlv::Parameters(Parameters::DEFAULT),
        ];
        let mut bytes = hello_with(0, &tlvs).to_bytes();
        eigrp::auth::sign(&mut bytes, b"cisco", eigrp::auth::Md5Span::Header).unwrap();
        bytes
    };
    let good = frr(1);
    machine
        .handle_message(ms(1), addr(9), &parse(&good))
        .unwrap();
    assert!(machine.get(addr(9)).is_some());
    let other_id = frr(2);
    assert_eq!(
        machine.handle_message(ms(1), addr(8), &parse(&other_id)),
        Err(Error::AuthenticationFailed { address: addr(8) })
    );
}
