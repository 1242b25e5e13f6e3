//! NHRP scenarios on the in-memory network: one hub, spokes, a virtual clock in milliseconds.
//! Each test states the outcome an IOS hub and spoke would show. The network delay is 10 ms one
//! way unless a test says otherwise.

mod util;

use std::net::Ipv4Addr;

use dmvpn_nhrp::{self as nhrp, CieCode, ErrorCode, Flags, Message, OpType, extension};
use dmvpn_proto::nhrp::{ClientEvent, Error, NhsState, Password, ServerConfig, ServerEvent};
use dmvpn_proto::{Duration, Instant};
use util::{HUB_NBMA, HUB_TUNNEL, Net, ms, spoke_nbma, spoke_tunnel, spoke300, times};

const REQ: OpType = OpType::REGISTRATION_REQUEST;
const REPLY: OpType = OpType::REGISTRATION_REPLY;

#[test]
fn spoke_registers_with_what_ios_sends() {
    let mut net = Net::hub();
    net.add_spoke(spoke300(1), None);
    net.run_until(ms(50));

    // t=0: the request; t=10: the hub registers; t=20: the reply reaches the spoke.
    let requests = net.sent(spoke_nbma(1), REQ);
    assert_eq!(times(&requests), [0]);
    let request = requests[0].repr();
    assert_eq!(request.to_string(), "NHRP Registration Request, ID=256");
    assert_eq!(request.src_nbma.bytes, spoke_nbma(1).octets());
    assert_eq!(request.src_proto, spoke_tunnel(1).octets());
    assert_eq!(request.dst_proto, HUB_TUNNEL.octets());
    assert_eq!(
        request.flags(),
        Some(Flags::REGISTRATION_UNIQUE | Flags::CISCO_NAT)
    );
    let cie = request.cies().first().unwrap();
    assert_eq!(
        (cie.prefix_len, cie.holding_time, cie.mtu),
        (0xff, 300, 1514)
    );
    assert_eq!(
        request.extension_types().collect::<Vec<_>>(),
        [
            nhrp::ExtensionType::RESPONDER_ADDRESS,
            nhrp::ExtensionType::FORWARD_TRANSIT_NHS_RECORD,
            nhrp::ExtensionType::REVERSE_TRANSIT_NHS_RECORD,
            nhrp::ExtensionType::CISCO_NAT_ADDRESS,
            nhrp::ExtensionType::END,
        ]
    );

    assert_eq!(
        net.hub_events,
        [(
            ms(10),
            ServerEvent::Registered {
                tunnel: spoke_tunnel(1),
                nbma: spoke_nbma(1),
                natted: false
            }
        )]
    );
    let entry = net.hub.get(spoke_tunnel(1)).unwrap();
    assert_eq!(entry.expires_at, ms(300_010));
    assert!(entry.unique);

    let reply = net.sent(HUB_NBMA, REPLY);
    assert_eq!(times(&reply), [10]);
    let reply = reply[0].repr();
    assert_eq!(
        reply.to_string(),
        "NHRP Registration Reply, ID=256, Code=Success"
    );
    // The Responder Address names the hub; without NAT the NAT extension is only echoed.
    let responder = reply
        .extensions
        .unwrap()
        .find(nhrp::ExtensionType::RESPONDER_ADDRESS)
        .unwrap();
    let hub = responder.value.cies().unwrap().first().unwrap();
    assert_eq!(hub.nbma.bytes, HUB_NBMA.octets());
    assert_eq!(hub.proto, HUB_TUNNEL.octets());
    let nat = reply
        .extensions
        .unwrap()
        .find(nhrp::ExtensionType::CISCO_NAT_ADDRESS)
        .unwrap();
    assert_eq!(
        nat.value.cies(),
        request
            .extensions
            .unwrap()
            .find(nhrp::ExtensionType::CISCO_NAT_ADDRESS)
            .unwrap()
            .value
            .cies()
    );

    assert_eq!(
        net.spokes[0].events,
        [(
            ms(20),
            ClientEvent::Registered {
                nhs: HUB_TUNNEL,
                holding_time: Duration::from_secs(300),
                nat_address: None
            }
        )]
    );
    assert_eq!(
        net.hub.multicast_nbma().collect::<Vec<_>>(),
        [spoke_nbma(1)]
    );
}

#[test]
fn refreshes_every_third_of_the_holding_time() {
    let mut net = Net::hub();
    net.add_spoke(spoke300(1), None);
    net.run_until(ms(700_000));
    // IOS: `ip nhrp registration timeout` defaults to holdtime / 3 = 100 s.
    assert_eq!(
        times(&net.sent(spoke_nbma(1), REQ)),
        [
            0, 100_000, 200_000, 300_000, 400_000, 500_000, 600_000, 700_000
        ]
    );
    // Each refresh is a new request with a new ID.
    let ids: Vec<_> = net
        .sent(spoke_nbma(1), REQ)
        .iter()
        .map(|s| s.repr().request_id().unwrap())
        .collect();
    assert_eq!(ids, [256, 257, 258, 259, 260, 261, 262, 263]);
    // The hub never loses the entry: 7 refreshes, no expiry.
    let refreshed = net
        .hub_events
        .iter()
        .filter(|(_, e)| matches!(e, ServerEvent::Refreshed { .. }))
        .count();
    assert_eq!(refreshed, 6);
    assert!(
        !net.hub_events
            .iter()
            .any(|(_, e)| matches!(e, ServerEvent::Expired { .. }))
    );
    assert!(net.spokes[0].client.is_registered());
    assert_eq!(
        net.hub.get(spoke_tunnel(1)).unwrap().expires_at,
        ms(600_010 + 300_000)
    );
}

#[test]
fn hub_expires_a_silent_spoke() {
    let mut net = two_spokes();
    net.run_until(ms(50));
    assert_eq!(net.hub.len(), 2);
    // Spoke 1 falls silent after its first registration (its link is cut).
    net.drop = Some(Box::new(|s| {
        s.from == spoke_nbma(1) || s.to == spoke_nbma(1)
    }));
    net.run_until(ms(300_009));
    assert!(net.hub.get(spoke_tunnel(1)).is_some());
    net.run_until(ms(300_010));
    // IOS: the entry goes when its holding time (300 s from 10 ms) has passed.
    assert!(net.hub.get(spoke_tunnel(1)).is_none());
    assert!(net.hub_events.contains(&(
        ms(300_010),
        ServerEvent::Expired {
            tunnel: spoke_tunnel(1),
            nbma: spoke_nbma(1)
        }
    )));
    // Multicast goes only to the spoke still registered.
    assert_eq!(
        net.hub.multicast_nbma().collect::<Vec<_>>(),
        [spoke_nbma(2)]
    );
    // The silent spoke saw its refresh go unanswered and its registration expire at 300 s.
    assert!(
        net.spokes[0]
            .events
            .contains(&(ms(300_000), ClientEvent::Expired { nhs: HUB_TUNNEL }))
    );
    assert!(!net.spokes[0].client.is_registered());
}

#[test]
fn unanswered_requests_back_off_1_2_4_up_to_64_s() {
    let mut net = Net::hub();
    net.add_spoke(spoke300(1), None);
    net.drop = Some(Box::new(|s| s.to == spoke_nbma(1)));
    net.run_until(ms(400_000));
    // Registering: 1, 2, 4, 8, 16, 32, 64, 64 … seconds between attempts, all with one ID.
    let sent = net.sent(spoke_nbma(1), REQ);
    assert_eq!(
        times(&sent),
        [
            0, 1_000, 3_000, 7_000, 15_000, 31_000, 63_000, 127_000, 191_000, 255_000, 319_000,
            383_000
        ]
    );
    assert!(sent.iter().all(|s| s.repr().request_id() == Some(256)));
    assert!(net.spokes[0].events.is_empty());
}

#[test]
fn lost_replies_are_retried_until_one_arrives() {
    let mut net = Net::hub();
    net.add_spoke(spoke300(1), None);
    let mut dropped = 0;
    net.drop = Some(Box::new(move |s| {
        let drop = s.to == spoke_nbma(1) && dropped < 3;
        dropped += usize::from(drop);
        drop
    }));
    net.run_until(ms(60_000));
    assert_eq!(
        times(&net.sent(spoke_nbma(1), REQ)),
        [0, 1_000, 3_000, 7_000]
    );
    assert_eq!(times(&net.sent(HUB_NBMA, REPLY)), [10, 1_010, 3_010, 7_010]);
    assert_eq!(
        net.spokes[0].events,
        [(
            ms(7_020),
            ClientEvent::Registered {
                nhs: HUB_TUNNEL,
                holding_time: Duration::from_secs(300),
                nat_address: None
            }
        )]
    );
    // The registration counts from the transmission that got through (7 s): refresh at 107 s,
    // expiry at 307 s.
    let (_, state) = net.spokes[0].client.states().next().unwrap();
    assert_eq!(
        state,
        NhsState::Registered {
            refresh_at: ms(107_000),
            expires_at: ms(307_000)
        }
    );
}

#[test]
fn refresh_lost_then_answered_keeps_the_registration() {
    let mut net = Net::hub();
    net.add_spoke(spoke300(1), None);
    // The hub's replies between 100 s and 110 s are lost.
    net.drop = Some(Box::new(|s| {
        s.to == spoke_nbma(1) && s.at >= ms(100_000) && s.at < ms(110_000)
    }));
    net.run_until(ms(199_999));
    assert_eq!(
        times(&net.sent(spoke_nbma(1), REQ)),
        [0, 100_000, 101_000, 103_000, 107_000, 115_000]
    );
    // One Registered, then one Refreshed when the 115 s reply arrives; never Expired.
    let events: Vec<_> = net.spokes[0]
        .events
        .iter()
        .map(|(t, e)| (t.total_millis(), *e))
        .collect();
    assert_eq!(events.len(), 2);
    assert_eq!(
        events[1],
        (115_020, ClientEvent::Refreshed { nhs: HUB_TUNNEL })
    );
    // The next refresh is due 100 s after the transmission that got through (115 s).
    let (_, state) = net.spokes[0].client.states().next().unwrap();
    assert_eq!(
        state,
        NhsState::Registered {
            refresh_at: ms(215_000),
            expires_at: ms(415_000)
        }
    );
}

#[test]
fn authentication_mismatch_gets_error_indication_11() {
    let mut hub = ServerConfig::new(HUB_TUNNEL, HUB_NBMA);
    hub.password = Some(Password::new(b"dmvpn").unwrap());
    let mut net = Net::new(hub, Instant::ZERO);
    let mut wrong = spoke300(1);
    wrong.password = Some(Password::new(b"dmvpm").unwrap());
    net.add_spoke(wrong, None);
    let mut right = spoke300(2);
    right.password = Some(Password::new(b"dmvpn").unwrap());
    net.add_spoke(right, None);
    net.add_spoke(spoke300(3), None); // no password at all
    net.run_until(ms(2_500));

    // The spoke with the right password registers; the others get Error Indications.
    assert_eq!(net.hub.len(), 1);
    assert!(net.hub.get(spoke_tunnel(2)).is_some());
    let errors: Vec<_> = net.sent(HUB_NBMA, OpType::ERROR_INDICATION);
    assert_eq!(errors.len(), 4); // spokes 1 and 3, at 10 ms and 1010 ms
    let first = errors[0].repr();
    assert_eq!(
        first.to_string(),
        "NHRP Error Indication, Authentication Failure, ID=256"
    );
    assert_eq!(first.dst_proto, spoke_tunnel(1).octets());
    let Message::ErrorIndication(e) = first.message else {
        unreachable!()
    };
    // The offset points at the (wrong) Authentication extension of the quoted request.
    let at = usize::from(e.offset);
    assert_eq!(&e.packet[at..at + 2], &[0x80, 0x07]);
    assert_eq!(net.hub_errors[0], (ms(10), Error::AuthenticationFailure));
    for n in [0, 2] {
        assert_eq!(
            net.spokes[n].events[0],
            (
                ms(20),
                ClientEvent::ErrorIndicationReceived {
                    nhs: HUB_TUNNEL,
                    code: ErrorCode::AUTHENTICATION_FAILURE
                }
            )
        );
        // The refused spoke keeps trying on its backoff, with a new request ID.
        let sent = net.sent(net.spokes[n].public, REQ);
        assert_eq!(times(&sent), [0, 1_000]);
        assert_ne!(sent[0].repr().request_id(), sent[1].repr().request_id());
    }
    // The hub's reply to the good spoke carries the password too.
    let reply = net.sent(HUB_NBMA, REPLY)[0].repr();
    assert_eq!(
        reply
            .extensions
            .unwrap()
            .authentication()
            .unwrap()
            .password(),
        Some(&b"dmvpn"[..])
    );
}

#[test]
fn reply_without_the_password_is_dropped_by_the_spoke() {
    // The spoke has a password, the hub none (IOS hubs accept it): the reply lacks it.
    let mut net = Net::hub();
    let mut config = spoke300(1);
    config.password = Some(Password::new(b"secret").unwrap());
    net.add_spoke(config, None);
    net.run_until(ms(50));
    assert_eq!(net.hub.len(), 1);
    assert_eq!(
        net.spokes[0].errors,
        [(ms(20), Error::AuthenticationFailure)]
    );
    assert!(!net.spokes[0].client.is_registered());
}

#[test]
fn unique_address_already_registered_is_code_14() {
    let mut net = Net::hub();
    net.add_spoke(spoke300(1), None);
    net.run_until(ms(50));
    // Another router claims spoke 1's tunnel address from NBMA 100.1.1.99.
    let mut impostor = spoke300(1);
    impostor.nbma = Ipv4Addr::new(100, 1, 1, 99);
    net.add_spoke(impostor, None);
    net.run_until(ms(100));
    assert_eq!(
        net.spokes[1].events,
        [(
            ms(70),
            ClientEvent::RegistrationFailed {
                nhs: HUB_TUNNEL,
                code: CieCode::ALREADY_REGISTERED
            }
        )]
    );
    assert_eq!(
        net.hub_events.last().unwrap(),
        &(
            ms(60),
            ServerEvent::Rejected {
                tunnel: spoke_tunnel(1),
                from: Ipv4Addr::new(100, 1, 1, 99),
                code: CieCode::ALREADY_REGISTERED
            }
        )
    );
    let reply = net.sent(HUB_NBMA, REPLY)[1].repr();
    assert_eq!(
        reply.to_string(),
        "NHRP Registration Reply, ID=512, Code=Unique Internetworking Layer Address Already Registered"
    );
    // The original mapping is untouched.
    assert_eq!(net.hub.get(spoke_tunnel(1)).unwrap().nbma, spoke_nbma(1));
}

#[test]
fn non_unique_registration_moves() {
    let mut net = Net::hub();
    let mut first = spoke300(1);
    first.unique = false;
    net.add_spoke(first, None);
    net.run_until(ms(50));
    let sent = net.sent(spoke_nbma(1), REQ);
    let request = sent[0].repr();
    assert_eq!(request.flags(), Some(Flags::CISCO_NAT));
    assert_eq!(request.cies().first().unwrap().prefix_len, 32);
    let mut moved = spoke300(1);
    moved.nbma = Ipv4Addr::new(100, 1, 1, 99);
    net.add_spoke(moved, None);
    net.run_until(ms(100));
    assert_eq!(
        net.hub.get(spoke_tunnel(1)).unwrap().nbma,
        Ipv4Addr::new(100, 1, 1, 99)
    );
}

#[test]
fn spoke_behind_nat_is_learned_from_the_outer_source() {
    let public = Ipv4Addr::new(203, 0, 113, 5);
    let mut net = Net::hub();
    let mut config = spoke300(1);
    config.nbma = Ipv4Addr::new(192, 168, 0, 2);
    net.add_spoke(config, Some(public));
    net.run_until(ms(50));
    let entry = net.hub.get(spoke_tunnel(1)).unwrap();
    assert_eq!(
        (entry.nbma, entry.claimed_nbma, entry.natted()),
        (public, Ipv4Addr::new(192, 168, 0, 2), true)
    );
    // The reply goes to the public address and tells the spoke what the hub saw.
    let reply = &net.sent(HUB_NBMA, REPLY)[0];
    assert_eq!(reply.to, public);
    let nat = reply
        .repr()
        .extensions
        .unwrap()
        .find(nhrp::ExtensionType::CISCO_NAT_ADDRESS)
        .unwrap();
    assert!(!nat.compulsory);
    // The request's CIE (naming the hub) echoed, then the address the hub saw.
    let cies: Vec<_> = nat.value.cies().unwrap().iter().collect();
    assert_eq!(cies.len(), 2);
    assert_eq!(cies[0].nbma.bytes, HUB_NBMA.octets());
    assert_eq!(cies[1].nbma.bytes, public.octets());
    assert_eq!(cies[1].proto, spoke_tunnel(1).octets());
    assert_eq!(
        net.spokes[0].events[0].1,
        ClientEvent::Registered {
            nhs: HUB_TUNNEL,
            holding_time: Duration::from_secs(300),
            nat_address: Some(public)
        }
    );
    assert_eq!(net.hub.multicast_nbma().collect::<Vec<_>>(), [public]);
}

/// A Resolution Request from spoke 1 for `target`, as a spoke would send it.
fn resolution_request(target: Ipv4Addr, exts: &[extension::Repr<'_>]) -> Vec<u8> {
    let (nbma, tunnel, target) = (
        spoke_nbma(1).octets(),
        spoke_tunnel(1).octets(),
        target.octets(),
    );
    let cies = [nhrp::cie::Repr {
        prefix_len: 32,
        mtu: 1514,
        holding_time: 300,
        ..Default::default()
    }];
    let request = Message::ResolutionRequest(nhrp::Control {
        flags: Flags::RESOLUTION_ROUTER | Flags::CISCO_NAT,
        request_id: 77,
        cies: nhrp::CieList::new(&cies),
    });
    let repr = nhrp::Repr::ipv4(nhrp::NbmaAddress::nsap(&nbma), &tunnel, &target, request);
    nhrp::Repr {
        extensions: Some(nhrp::ExtensionList::new(exts)),
        ..repr
    }
    .to_bytes()
}

#[test]
fn resolution_requests_are_answered_from_the_cache() {
    let mut net = two_spokes();
    net.run_until(ms(60_000));
    let exts = [
        extension::Repr {
            compulsory: true,
            value: extension::Value::ResponderAddress(nhrp::CieList::EMPTY),
        },
        extension::Repr::END,
    ];
    // The hub's answer to spoke 1 resolving `target` at 60 s.
    let mut resolve = |target: Ipv4Addr| {
        let request = resolution_request(target, &exts);
        net.hub
            .handle_message(ms(60_000), spoke_nbma(1), &nhrp::parse(&request).unwrap())
            .unwrap();
        net.hub.poll_transmit().unwrap()
    };

    // Spoke 2 is registered (at 10 ms for 300 s): 240 s of its holding time are left.
    let reply = resolve(spoke_tunnel(2));
    assert_eq!(reply.to, spoke_nbma(1));
    let reply = reply.parse().unwrap();
    assert_eq!(
        reply.to_string(),
        "NHRP Resolution Reply, ID=77, Code=Success"
    );
    assert!(reply.flags().unwrap().contains(
        Flags::RESOLUTION_AUTHORITATIVE | Flags::RESOLUTION_UNIQUE | Flags::RESOLUTION_ROUTER
    ));
    let cie = reply.cies().first().unwrap();
    assert_eq!(cie.nbma.bytes, spoke_nbma(2).octets());
    assert_eq!(cie.proto, spoke_tunnel(2).octets());
    assert_eq!((cie.prefix_len, cie.holding_time), (32, 240));
    assert_eq!(reply.src_proto, spoke_tunnel(1).octets());
    assert!(
        reply
            .extensions
            .unwrap()
            .find(nhrp::ExtensionType::RESPONDER_ADDRESS)
            .is_some()
    );

    // The hub's own address resolves to its NBMA address.
    let reply = resolve(HUB_TUNNEL);
    let cie = reply.parse().unwrap().cies().first().unwrap();
    assert_eq!(cie.nbma.bytes, HUB_NBMA.octets());

    // An unknown address: CIE code 12 (RFC 2332 §5.2.2, not FRR's 11).
    let unknown = Ipv4Addr::new(172, 16, 1, 77);
    let reply = resolve(unknown);
    let cie = reply.parse().unwrap().cies().first().unwrap();
    assert_eq!(cie.code, CieCode::NO_BINDING_EXISTS);
    assert!(cie.nbma.bytes.is_empty());
    assert_eq!(cie.proto, unknown.octets());
}

#[test]
fn hop_count_zero_and_unknown_compulsory_extension_get_error_indications() {
    let mut net = Net::hub();
    let exts = [
        extension::Repr {
            compulsory: true,
            value: extension::Value::Unknown {
                ty: nhrp::ExtensionType(0x1234),
                value: &[1, 2, 3, 4],
            },
        },
        extension::Repr::END,
    ];
    let request = resolution_request(HUB_TUNNEL, &exts);
    let repr = nhrp::parse(&request).unwrap();
    assert_eq!(
        net.hub.handle_message(ms(0), spoke_nbma(1), &repr),
        Err(Error::UnrecognizedExtension {
            ty: nhrp::ExtensionType(0x1234)
        })
    );
    let error = net.hub.poll_transmit().unwrap();
    let Message::ErrorIndication(e) = error.parse().unwrap().message else {
        unreachable!()
    };
    assert_eq!(e.code, ErrorCode::UNRECOGNIZED_EXTENSION);
    let at = usize::from(e.offset);
    assert_eq!(&e.packet[at..at + 2], &[0x92, 0x34]);

    let mut request = resolution_request(HUB_TUNNEL, &[extension::Repr::END]);
    let mut repr = nhrp::parse(&request).unwrap();
    repr.hop_count = 0;
    let mut bytes = vec![0; repr.buffer_len()];
    repr.emit(&mut nhrp::Packet::new_unchecked(&mut bytes[..]));
    request.clone_from(&bytes);
    let repr = nhrp::parse(&request).unwrap();
    assert_eq!(
        net.hub.handle_message(ms(0), spoke_nbma(1), &repr),
        Err(Error::HopCountExceeded)
    );
    let error = net.hub.poll_transmit().unwrap();
    let parsed = error.parse().unwrap();
    assert_eq!(
        parsed.to_string(),
        "NHRP Error Indication, Hop Count Exceeded, ID=77"
    );
    let Message::ErrorIndication(e) = parsed.message else {
        unreachable!()
    };
    assert_eq!(e.offset, 9);
    assert_eq!(
        net.hub.poll_event(),
        Some(ServerEvent::ErrorIndicationSent {
            to: spoke_nbma(1),
            code: ErrorCode::UNRECOGNIZED_EXTENSION
        })
    );
}

#[test]
fn hub_purge_makes_the_spoke_register_again() {
    let mut net = Net::hub();
    net.add_spoke(spoke300(1), None);
    net.run_until(ms(50_000));
    let removed = net.hub.purge(spoke_tunnel(1)).unwrap();
    assert_eq!(removed.nbma, spoke_nbma(1));
    assert!(net.hub.is_empty());
    net.run_until(ms(50_100));
    // 50 000: Purge Request; 50 010: the spoke answers and registers again; 50 020: the hub
    // has it back; 50 030: the spoke is registered.
    assert_eq!(times(&net.sent(HUB_NBMA, OpType::PURGE_REQUEST)), [50_000]);
    assert_eq!(
        times(&net.sent(spoke_nbma(1), OpType::PURGE_REPLY)),
        [50_010]
    );
    assert_eq!(times(&net.sent(spoke_nbma(1), REQ)), [0, 50_010]);
    assert!(net.hub.get(spoke_tunnel(1)).is_some());
    assert!(net.hub_errors.is_empty(), "{:?}", net.hub_errors);
    let events: Vec<_> = net.spokes[0]
        .events
        .iter()
        .map(|(t, e)| (t.total_millis(), *e))
        .collect();
    assert_eq!(events[1], (50_010, ClientEvent::Purged { nhs: HUB_TUNNEL }));
    assert!(matches!(
        events[2],
        (50_030, ClientEvent::Registered { .. })
    ));
}

#[test]
fn spoke_purge_removes_only_its_own_mapping() {
    let mut net = two_spokes();
    net.run_until(ms(50));
    // Spoke 1 purges spoke 2's mapping and its own, with the N flag (no reply).
    let (nbma, tunnel) = (spoke_nbma(1).octets(), spoke_tunnel(1).octets());
    let other = spoke_tunnel(2).octets();
    let cies = [
        nhrp::cie::Repr {
            prefix_len: 32,
            proto: &tunnel,
            ..Default::default()
        },
        nhrp::cie::Repr {
            prefix_len: 32,
            proto: &other,
            ..Default::default()
        },
    ];
    let hub = HUB_TUNNEL.octets();
    let request = Message::PurgeRequest(nhrp::Control {
        flags: Flags::PURGE_NO_REPLY,
        request_id: 9,
        cies: nhrp::CieList::new(&cies),
    });
    let purge = nhrp::Repr::ipv4(nhrp::NbmaAddress::nsap(&nbma), &tunnel, &hub, request);
    net.hub
        .handle_message(ms(50), spoke_nbma(1), &purge)
        .unwrap();
    assert!(net.hub.get(spoke_tunnel(1)).is_none());
    assert!(net.hub.get(spoke_tunnel(2)).is_some());
    assert_eq!(net.hub.poll_transmit(), None);
    // Without the N flag the hub answers with a Purge Reply.
    let purge = nhrp::Repr {
        message: Message::PurgeRequest(nhrp::Control {
            flags: Flags::EMPTY,
            request_id: 10,
            cies: nhrp::CieList::new(&cies[..1]),
        }),
        ..purge
    };
    net.hub
        .handle_message(ms(50), spoke_nbma(1), &purge)
        .unwrap();
    let reply = net.hub.poll_transmit().unwrap();
    assert_eq!(
        reply.parse().unwrap().to_string(),
        "NHRP Purge Reply, ID=10, Code=Success"
    );
}

#[test]
fn multicast_map_merges_static_and_dynamic() {
    let mut hub = ServerConfig::new(HUB_TUNNEL, HUB_NBMA);
    hub.multicast_static = vec![spoke_nbma(2), Ipv4Addr::new(100, 9, 9, 9)];
    let mut net = Net::new(hub, Instant::ZERO);
    net.add_spoke(spoke300(1), None);
    net.add_spoke(spoke300(2), None);
    net.run_until(ms(50));
    assert_eq!(
        net.hub.multicast_nbma().collect::<Vec<_>>(),
        [spoke_nbma(1), spoke_nbma(2), Ipv4Addr::new(100, 9, 9, 9)]
    );
}

#[test]
fn zero_holding_time_takes_the_hubs_and_short_prefixes_are_refused() {
    let mut net = Net::hub();
    let mut config = spoke300(1);
    config.holding_time = 0;
    net.add_spoke(config, None);
    net.run_until(ms(50));
    // FRR: a zero holding time means the hub's own (7200 s).
    assert_eq!(
        net.hub.get(spoke_tunnel(1)).unwrap().holding_time,
        Duration::from_secs(7200)
    );
    // A /24 registration: code 4 with the unique flag, 13 without (FRR).
    for (unique, code) in [
        (true, CieCode::ADMINISTRATIVELY_PROHIBITED),
        (false, CieCode::BINDING_NOT_UNIQUE),
    ] {
        let bytes = net.sent(spoke_nbma(1), REQ)[0].bytes.clone();
        let request = nhrp::parse(&bytes).unwrap();
        let control = *request.message.control().unwrap();
        let cies = [nhrp::cie::Repr {
            prefix_len: 24,
            ..control.cies.first().unwrap()
        }];
        let flags = if unique {
            Flags::REGISTRATION_UNIQUE
        } else {
            Flags::EMPTY
        };
        let prefix = nhrp::Repr {
            message: Message::RegistrationRequest(nhrp::Control {
                flags,
                cies: nhrp::CieList::new(&cies),
                ..control
            }),
            ..request
        };
        net.hub
            .handle_message(ms(50), spoke_nbma(1), &prefix)
            .unwrap();
        let reply = net.hub.poll_transmit().unwrap();
        assert_eq!(reply.parse().unwrap().cies().first().unwrap().code, code);
    }
}

#[test]
fn client_refuses_what_it_does_not_expect() {
    let mut net = Net::hub();
    net.add_spoke(spoke300(1), None);
    let request = net.spokes[0].client.poll_transmit().unwrap();
    let repr = request.parse().unwrap();
    // A Registration Request at a client; a reply to nothing outstanding.
    assert_eq!(
        net.spokes[0].client.handle_message(ms(0), HUB_NBMA, &repr),
        Err(Error::UnexpectedMessage { op: REQ })
    );
    let reply = nhrp::Repr {
        message: Message::RegistrationReply(nhrp::Control {
            flags: Flags::EMPTY,
            request_id: 999,
            cies: nhrp::CieList::EMPTY,
        }),
        ..repr
    };
    assert_eq!(
        net.spokes[0].client.handle_message(ms(0), HUB_NBMA, &reply),
        Err(Error::UnknownRequest { request_id: 999 })
    );
}

/// A hub and spokes 1 and 2 (holding time 300 s).
fn two_spokes() -> Net {
    let mut net = Net::hub();
    net.add_spoke(spoke300(1), None);
    net.add_spoke(spoke300(2), None);
    net
}
