//! Entry points for fuzz targets and the in-crate property tests: arbitrary input drives the
//! machines ([`nhrp_machines`], [`eigrp_neighbors`], [`ipsec_sad`]), which must never panic,
//! and whatever they send must parse.
//!
//! Random bytes almost never make a packet with a valid checksum, so the drivers here read the
//! input as a *script*: advance the clock, build a packet from chosen fields (addresses from a
//! small pool so that they hit the machines' state, request IDs near the ones in use, CIEs,
//! extensions with right or wrong passwords, unknown compulsory ones), emit it with the codec,
//! parse it back and hand it in, or deliver what the machines sent to each other. Compiled
//! with the `fuzzing` feature (hidden from the docs, not API); it uses only the public API.

use alloc::vec::Vec;
use core::net::Ipv4Addr;

use dmvpn_nhrp::{self as nhrp, extension};

use crate::eigrp::{HelloConfig, Neighbors};
use crate::ipsec::{Lifetime, Sad};
use crate::nhrp::{Client, ClientConfig, Nhs, Password, Server, ServerConfig, Transmit};
use crate::time::{Duration, Instant};

const HUB_NBMA: Ipv4Addr = Ipv4Addr::new(192, 0, 2, 1);
const HUB_TUNNEL: Ipv4Addr = Ipv4Addr::new(10, 0, 0, 1);
const SPOKE_NBMA: Ipv4Addr = Ipv4Addr::new(192, 0, 2, 2);
const SPOKE_TUNNEL: Ipv4Addr = Ipv4Addr::new(10, 0, 0, 2);
const POOL: [[u8; 4]; 6] = [
    HUB_NBMA.octets(),
    HUB_TUNNEL.octets(),
    SPOKE_NBMA.octets(),
    SPOKE_TUNNEL.octets(),
    [10, 0, 0, 3],
    [203, 0, 113, 9],
];

/// Reads the script; runs dry as zeros.
struct Script<'a>(&'a [u8]);

impl Script<'_> {
    fn u8(&mut self) -> u8 {
        let (first, rest) = self.0.split_first().map_or((0, &[][..]), |(f, r)| (*f, r));
        self.0 = rest;
        first
    }

    fn u16(&mut self) -> u16 {
        u16::from_be_bytes([self.u8(), self.u8()])
    }

    fn u32(&mut self) -> u32 {
        u32::from_be_bytes([self.u8(), self.u8(), self.u8(), self.u8()])
    }

    fn is_done(&self) -> bool {
        self.0.is_empty()
    }

    /// An address of 4 bytes from the pool, or (rarely) of another length.
    fn address(&mut self) -> &'static [u8] {
        const ODD: [&[u8]; 2] = [
            &[],
            &[0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1],
        ];
        let pick = usize::from(self.u8());
        POOL.get(pick % 8).map_or(ODD[pick % 2], |a| a.as_slice())
    }
}

/// One hub and one spoke (with or without matching passwords), driven by `data`. Panics only
/// if a machine sends something the codec cannot parse or the hub keeps an expired mapping.
pub fn nhrp_machines(data: &[u8]) {
    let mut script = Script(data);
    let flags = script.u8();
    let hub_password = Password::new(b"hubpass").ok().filter(|_| flags & 1 != 0);
    let spoke_password = Password::new(if flags & 2 != 0 { b"hubpass" } else { b"other" })
        .ok()
        .filter(|_| flags & 4 != 0);
    let mut hub_config = ServerConfig::new(HUB_TUNNEL, HUB_NBMA);
    hub_config.password.clone_from(&hub_password);
    let mut hub = Server::new(hub_config, 1);
    let mut config = ClientConfig::new(
        SPOKE_TUNNEL,
        SPOKE_NBMA,
        Vec::from([Nhs {
            tunnel: HUB_TUNNEL,
            nbma: HUB_NBMA,
        }]),
    );
    config.holding_time = u16::from(script.u8()) + 1;
    config.unique = flags & 8 != 0;
    config.password = spoke_password;
    let mut now = Instant::ZERO;
    let mut client = Client::new(config, now, 1);
    let mut wire: Vec<(bool, Transmit)> = Vec::new();

    while !script.is_done() {
        match script.u8() % 4 {
            0 => {
                now += Duration::from_millis(i64::from(script.u16()) * 50);
                hub.handle_timeout(now);
                client.handle_timeout(now);
                assert!(hub.registrations().all(|r| r.expires_at > now));
                assert!(client.poll_timeout().is_some_and(|t| t > now));
            }
            1 => {
                // Deliver what is on the wire, each to the other machine.
                for (to_hub, t) in wire.drain(..) {
                    let repr = t.parse();
                    let Ok(repr) = repr else {
                        panic!("sent packet does not parse")
                    };
                    if to_hub {
                        let _ = hub.handle_message(now, SPOKE_NBMA, &repr);
                    } else {
                        let _ = client.handle_message(now, HUB_NBMA, &repr);
                    }
                }
            }
            _ => {
                let quoted = wire
                    .last()
                    .map(|(_, t)| t.bytes.clone())
                    .unwrap_or_default();
                let bytes = packet(&mut script, &quoted, hub_password.as_ref());
                if let Ok(repr) = nhrp::parse(&bytes) {
                    let from =
                        Ipv4Addr::from(<[u8; 4]>::try_from(script.address()).unwrap_or([0; 4]));
                    let _ = hub.handle_message(now, from, &repr);
                    let _ = client.handle_message(now, from, &repr);
                }
                if script.u8() & 1 != 0 {
                    let _ = hub.purge(SPOKE_TUNNEL);
                }
            }
        }
        while let Some(t) = hub.poll_transmit() {
            wire.push((false, t));
        }
        while let Some(t) = client.poll_transmit() {
            wire.push((true, t));
        }
        while hub.poll_event().is_some() || client.poll_event().is_some() {}
        let _ = hub.multicast_nbma().count();
    }
}

/// An NHRP packet built from the script (see the module documentation).
fn packet(script: &mut Script<'_>, quoted: &[u8], password: Option<&Password>) -> Vec<u8> {
    let op = nhrp::OpType(script.u8() % 9);
    let afn = if script.u8().is_multiple_of(16) {
        nhrp::AddressFamily::IPV6
    } else {
        nhrp::AddressFamily::IPV4
    };
    let hop_count = script.u8();
    let (src_nbma, src_proto, dst_proto) = (script.address(), script.address(), script.address());
    let mut cies = Vec::new();
    for _ in 0..script.u8() % 4 {
        cies.push(nhrp::cie::Repr {
            code: nhrp::CieCode(script.u8() % 16),
            prefix_len: script.u8(),
            mtu: script.u16(),
            holding_time: script.u16() % 1200,
            nbma: nhrp::NbmaAddress::nsap(script.address()),
            nbma_sub: nhrp::NbmaAddress::NONE,
            proto: script.address(),
            preference: 0,
        });
    }
    let wrong = Password::new(b"wrong").ok();
    let ext_flags = script.u8();
    let mut extensions = Vec::new();
    let empty = |value: fn(nhrp::CieList<'static>) -> extension::Value<'static>| extension::Repr {
        compulsory: true,
        value: value(nhrp::CieList::EMPTY),
    };
    if ext_flags & 1 != 0 {
        extensions.push(empty(extension::Value::ResponderAddress));
    }
    if ext_flags & 2 != 0 {
        extensions.push(empty(extension::Value::ForwardTransitNhsRecord));
    }
    let auth = if ext_flags & 4 != 0 {
        password
    } else {
        wrong.as_ref()
    };
    if ext_flags & 8 != 0
        && let Some(auth) = auth
    {
        extensions.push(auth.extension());
    }
    if ext_flags & 16 != 0 {
        extensions.push(extension::Repr {
            compulsory: false,
            value: extension::Value::CiscoNatAddress(nhrp::CieList::new(&cies)),
        });
    }
    if ext_flags & 32 != 0 {
        extensions.push(extension::Repr {
            compulsory: ext_flags & 64 != 0,
            value: extension::Value::Unknown {
                ty: nhrp::ExtensionType(0x1234),
                value: &[1, 2, 3],
            },
        });
    }
    extensions.push(extension::Repr::END);
    let control = nhrp::Control {
        flags: nhrp::Flags(script.u16()),
        request_id: match script.u8() % 4 {
            0 => script.u32(),
            n => u32::from(n),
        },
        cies: nhrp::CieList::new(&cies),
    };
    let cut = usize::from(script.u8()).min(quoted.len());
    let message = match op {
        nhrp::OpType::ERROR_INDICATION => nhrp::Message::ErrorIndication(nhrp::ErrorIndication {
            code: nhrp::ErrorCode(u16::from(script.u8() % 20)),
            offset: script.u16(),
            packet: quoted.get(..cut).unwrap_or_default(),
        }),
        nhrp::OpType::TRAFFIC_INDICATION => {
            nhrp::Message::TrafficIndication(nhrp::TrafficIndication {
                code: nhrp::TrafficCode(0),
                packet: quoted.get(..cut).unwrap_or_default(),
            })
        }
        op => nhrp::Message::with_control(op, control)
            .unwrap_or(nhrp::Message::RegistrationRequest(control)),
    };
    let is_indication = matches!(
        message,
        nhrp::Message::ErrorIndication(_) | nhrp::Message::TrafficIndication(_)
    );
    let repr = nhrp::Repr {
        afn,
        hop_count,
        extensions: (!is_indication).then(|| nhrp::ExtensionList::new(&extensions)),
        ..nhrp::Repr::ipv4(
            nhrp::NbmaAddress::nsap(src_nbma),
            src_proto,
            dst_proto,
            message,
        )
    };
    repr.to_bytes()
}

/// An EIGRP interface fed Hellos, acknowledgements and other packets with chosen AS, K values,
/// hold times and senders, at chosen times. Panics if a neighbour outlives its hold time after
/// `handle_timeout` or a Hello it sends does not parse.
pub fn eigrp_neighbors(data: &[u8]) {
    use dmvpn_eigrp::tlv::{Parameters, Tlv};
    use dmvpn_eigrp::{self as eigrp, OpCode};

    let mut script = Script(data);
    let mut now = Instant::ZERO;
    let mut config = HelloConfig::new(HUB_TUNNEL, 123);
    if script.u8() & 1 != 0 {
        config.md5 = Some(crate::eigrp::Md5Key::new(1, b"cisco"));
    }
    let mut machine = Neighbors::new(config, now);
    while !script.is_done() {
        match script.u8() % 4 {
            0 => {
                now += Duration::from_millis(i64::from(script.u16()) * 10);
                machine.handle_timeout(now);
                assert!(machine.iter().all(|n| n.expires_at > now));
            }
            1 if script.u8() == 0 => machine.shutdown(),
            _ => {
                let k = match script.u8() % 4 {
                    0 => Parameters::GOODBYE.k,
                    1 => [script.u8(), 0, 1, 0, 0, script.u8()],
                    _ => Parameters::DEFAULT.k,
                };
                let params = Tlv::Parameters(Parameters {
                    k,
                    hold_time: script.u16() % 64,
                });
                let termination = [0, 10, 0, 0, script.u8() % 4];
                let tlvs = [params, Tlv::PeerTermination(&termination)];
                let count = usize::from(script.u8() % 3);
                let repr = eigrp::Repr {
                    opcode: OpCode(script.u8() % 12),
                    flags: eigrp::Flags(u32::from(script.u8() % 16)),
                    sequence: u32::from(script.u8()),
                    ack: u32::from(script.u8() % 2),
                    virtual_router_id: u16::from(script.u8().is_multiple_of(32)),
                    autonomous_system: if script.u8().is_multiple_of(16) {
                        124
                    } else {
                        123
                    },
                    tlvs: eigrp::Tlvs::new(tlvs.get(..count).unwrap_or_default()),
                };
                let bytes = repr.to_bytes();
                let Ok(parsed) = eigrp::Repr::parse(&eigrp::Packet::new_unchecked(&bytes[..]))
                else {
                    continue;
                };
                let from = Ipv4Addr::new(10, 0, 0, 2 + script.u8() % 4);
                let _ = machine.handle_message(now, from, &parsed);
            }
        }
        while let Some(t) = machine.poll_transmit() {
            assert!(t.parse().is_ok(), "sent hello does not parse");
        }
        while machine.poll_event().is_some() {}
    }
}

/// A SAD with one SA pair and chosen lifetimes, fed its own packets (replayed, reordered,
/// corrupted) and arbitrary bytes. Panics if a sequence number is accepted twice.
pub fn ipsec_sad(data: &[u8]) {
    use dmvpn_esp::{Encryption, Integrity, Sa};

    let mut script = Script(data);
    let (Ok(out_sa), Ok(in_sa)) = (
        Sa::new(
            7,
            Encryption::AesCbc,
            &[1; 16],
            Integrity::HmacSha1_96,
            &[2; 20],
        ),
        Sa::new(
            7,
            Encryption::AesCbc,
            &[1; 16],
            Integrity::HmacSha1_96,
            &[2; 20],
        ),
    ) else {
        return;
    };
    let limit = |s: &mut Script<'_>| (s.u8() != 0).then(|| u64::from(s.u16()));
    let lifetime = Lifetime {
        soft_time: limit(&mut script).map(|t| Duration::from_millis(t as i64)),
        hard_time: limit(&mut script).map(|t| Duration::from_millis(t as i64)),
        soft_bytes: limit(&mut script),
        hard_bytes: limit(&mut script),
    };
    let mut now = Instant::ZERO;
    let mut sad = Sad::new();
    sad.install_outbound(now, SPOKE_NBMA, HUB_NBMA, out_sa, lifetime);
    sad.install_inbound(now, HUB_NBMA, in_sa, lifetime);
    let mut sent: Vec<Vec<u8>> = Vec::new();
    let mut accepted = alloc::collections::BTreeSet::new();
    while !script.is_done() {
        match script.u8() % 4 {
            0 => {
                now += Duration::from_millis(i64::from(script.u16()));
                sad.handle_timeout(now);
                assert!(sad.poll_timeout().is_none_or(|t| t > now));
            }
            1 => {
                let len = usize::from(script.u8());
                let payload = alloc::vec![script.u8(); len];
                let mut out = Vec::new();
                if sad
                    .protect(SPOKE_NBMA, HUB_NBMA, &payload, &[3; 16], &mut out)
                    .is_ok()
                {
                    sent.push(out);
                }
            }
            2 => {
                let Some(packet) = sent.get(usize::from(script.u8())) else {
                    continue;
                };
                let mut packet = packet.clone();
                if let Some(byte) = packet.get_mut(usize::from(script.u8())) {
                    *byte ^= script.u8();
                }
                if let Ok(decrypted) = sad.unprotect(HUB_NBMA, &mut packet) {
                    assert!(
                        accepted.insert(decrypted.seq),
                        "sequence number accepted twice"
                    );
                }
            }
            _ => {
                let len = usize::from(script.u8());
                let mut junk: Vec<u8> = (0..len).map(|_| script.u8()).collect();
                let _ = sad.unprotect(HUB_NBMA, &mut junk);
            }
        }
        while sad.poll_event().is_some() {}
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn eigrp_neighbors_never_panic() {
        bolero::check!().for_each(super::eigrp_neighbors);
    }

    #[test]
    fn ipsec_sad_never_panics_nor_accepts_twice() {
        bolero::check!().for_each(super::ipsec_sad);
    }

    #[test]
    fn nhrp_machines_never_panic() {
        bolero::check!().for_each(super::nhrp_machines);
    }

    #[test]
    fn a_plain_exchange_runs() {
        // Deliver, advance 100 s, deliver again: registration and refresh happen.
        super::nhrp_machines(&[0, 255, 1, 0, 0x07, 0xd0, 1, 1]);
    }
}
