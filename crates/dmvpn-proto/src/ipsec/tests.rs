use std::collections::BTreeSet;

use dmvpn_esp::{Encryption, Integrity};

use super::*;

const SPOKE: Ipv4Addr = Ipv4Addr::new(100, 1, 1, 2);
const HUB: Ipv4Addr = Ipv4Addr::new(100, 1, 1, 1);
const SPI: u32 = 0xc0de_0001;
const IV: [u8; 16] = [7; 16];
const GRE_PACKET: &[u8] = &[0x00, 0x00, 0x08, 0x00, 0x45, 0x00, 0x00, 0x14];

/// esp-aes esp-sha-hmac, the transform set of the DMVPN lab.
fn sa() -> Sa {
    Sa::new(
        SPI,
        Encryption::AesCbc,
        &[0x11; 16],
        Integrity::HmacSha1_96,
        &[0x22; 20],
    )
    .unwrap()
}

fn secs(s: i64) -> Instant {
    Instant::from_secs(s)
}

/// The spoke's outbound SA and the hub's matching inbound SA.
fn pair(lifetime: Lifetime) -> (Sad, Sad) {
    let mut spoke = Sad::new();
    assert!(
        spoke
            .install_outbound(secs(0), SPOKE, HUB, sa(), lifetime)
            .is_none()
    );
    let mut hub = Sad::new();
    assert!(hub.install_inbound(secs(0), HUB, sa(), lifetime).is_none());
    (spoke, hub)
}

#[test]
fn spd_protects_gre_between_nbma_addresses() {
    let spd = Spd::dmvpn(SPOKE);
    assert_eq!(spd.policies().len(), 2);
    assert_eq!(spd.lookup(SPOKE, HUB, GRE), Action::Protect);
    assert_eq!(
        spd.lookup(SPOKE, Ipv4Addr::new(100, 1, 1, 3), GRE),
        Action::Protect
    );
    assert_eq!(spd.lookup(SPOKE, HUB, UDP), Action::Bypass);
    assert_eq!(spd.lookup(SPOKE, HUB, 1), Action::Discard);
    assert_eq!(spd.lookup(HUB, SPOKE, GRE), Action::Discard);
    assert_eq!(Spd::new().lookup(SPOKE, HUB, GRE), Action::Discard);
    // First match wins.
    let mut spd = Spd::new();
    let only_hub = Selector {
        local: None,
        remote: Some(HUB),
        protocol: None,
    };
    spd.push(Policy {
        selector: only_hub,
        action: Action::Bypass,
    });
    spd.push(Policy {
        selector: Selector {
            local: None,
            remote: None,
            protocol: Some(GRE),
        },
        action: Action::Protect,
    });
    assert_eq!(spd.lookup(SPOKE, HUB, GRE), Action::Bypass);
    assert_eq!(spd.lookup(SPOKE, SPOKE, GRE), Action::Protect);
}

#[test]
fn protect_then_unprotect_with_sequence_numbers_and_anti_replay() {
    let (mut spoke, mut hub) = pair(Lifetime::default());
    let mut packets = Vec::new();
    for expected in 1..=3 {
        let mut out = Vec::new();
        assert_eq!(
            spoke.protect(SPOKE, HUB, GRE_PACKET, &IV, &mut out),
            Ok(expected)
        );
        let header = dmvpn_esp::Packet::new_checked(&out[..]).unwrap();
        assert_eq!(
            (header.spi(), u64::from(header.sequence_number())),
            (SPI, expected)
        );
        packets.push(out);
    }
    assert_eq!(spoke.outbound(SPOKE, HUB).unwrap().next_seq(), 4);
    assert_eq!(spoke.outbound(SPOKE, HUB).unwrap().usage().bytes(), 3 * 8);

    // Out of order is fine; a replay is refused before any crypto work.
    for i in [2, 0, 1] {
        let mut packet = packets[i].clone();
        let decrypted = hub.unprotect(HUB, &mut packet).unwrap();
        assert_eq!(decrypted.next_header, NextHeader::GRE);
        assert_eq!(decrypted.payload, GRE_PACKET);
        assert_eq!(decrypted.seq, i as u64 + 1);
    }
    let mut replay = packets[1].clone();
    assert_eq!(
        hub.unprotect(HUB, &mut replay),
        Err(SadError::Decrypt(DecryptError::Replayed { seq: 2 }))
    );
    assert_eq!(hub.inbound(SPI, HUB).unwrap().usage().bytes(), 3 * 8);

    // A forged packet fails the ICV and leaves the window as it was.
    let mut out = Vec::new();
    spoke
        .protect(SPOKE, HUB, GRE_PACKET, &IV, &mut out)
        .unwrap();
    let mut forged = out.clone();
    let last = forged.len() - 1;
    forged[last] ^= 1;
    assert!(matches!(
        hub.unprotect(HUB, &mut forged),
        Err(SadError::Decrypt(DecryptError::IntegrityCheckFailed {
            seq: 4,
            ..
        }))
    ));
    assert!(hub.unprotect(HUB, &mut out).is_ok());

    // Unknown SAs and short packets.
    assert_eq!(
        hub.unprotect(SPOKE, &mut packets[0].clone()).unwrap_err(),
        SadError::NoInboundSa {
            spi: SPI,
            dst: SPOKE
        }
    );
    assert_eq!(
        hub.unprotect(HUB, &mut [0; 7]).unwrap_err(),
        SadError::Truncated { len: 7 }
    );
    assert_eq!(
        hub.protect(HUB, SPOKE, GRE_PACKET, &IV, &mut out),
        Err(SadError::NoOutboundSa {
            local: HUB,
            remote: SPOKE
        })
    );
    assert!(matches!(
        spoke.protect(SPOKE, HUB, GRE_PACKET, &IV[..8], &mut out),
        Err(SadError::Encrypt(EncryptError::IvLength { .. }))
    ));
}

#[test]
fn time_lifetimes() {
    let lifetime = Lifetime::ios_default();
    let (mut spoke, mut hub) = pair(lifetime);
    assert_eq!(spoke.poll_timeout(), Some(secs(3240)));
    spoke.handle_timeout(secs(3239));
    assert_eq!(spoke.poll_event(), None);
    spoke.handle_timeout(secs(3240));
    let out_id = SaId::Outbound {
        local: SPOKE,
        remote: HUB,
        spi: SPI,
    };
    assert_eq!(
        spoke.poll_event(),
        Some(SaEvent::SoftExpired {
            id: out_id,
            limit: Limit::Time
        })
    );
    assert_eq!(spoke.poll_timeout(), Some(secs(3600)));
    // Still usable between the soft and hard limits.
    let mut out = Vec::new();
    assert!(spoke.protect(SPOKE, HUB, GRE_PACKET, &IV, &mut out).is_ok());
    spoke.handle_timeout(secs(3600));
    assert_eq!(
        spoke.poll_event(),
        Some(SaEvent::HardExpired {
            id: out_id,
            limit: Limit::Time
        })
    );
    assert!(spoke.outbound(SPOKE, HUB).is_none());
    assert_eq!(spoke.poll_timeout(), None);
    assert!(
        spoke
            .protect(SPOKE, HUB, GRE_PACKET, &IV, &mut out)
            .is_err()
    );

    // Inbound: both limits fire in one late call, in order.
    hub.handle_timeout(secs(5000));
    let in_id = SaId::Inbound { spi: SPI, dst: HUB };
    assert_eq!(
        hub.poll_event(),
        Some(SaEvent::SoftExpired {
            id: in_id,
            limit: Limit::Time
        })
    );
    assert_eq!(
        hub.poll_event(),
        Some(SaEvent::HardExpired {
            id: in_id,
            limit: Limit::Time
        })
    );
    assert!(hub.inbound(SPI, HUB).is_none());
}

#[test]
fn byte_lifetimes() {
    let lifetime = Lifetime {
        soft_bytes: Some(16),
        hard_bytes: Some(32),
        ..Lifetime::default()
    };
    let (mut spoke, mut hub) = pair(lifetime);
    let id = SaId::Outbound {
        local: SPOKE,
        remote: HUB,
        spi: SPI,
    };
    let mut packets = Vec::new();
    for _ in 0..4 {
        let mut out = Vec::new();
        spoke
            .protect(SPOKE, HUB, GRE_PACKET, &IV, &mut out)
            .unwrap();
        packets.push(out);
    }
    // 16 bytes after the 2nd packet (soft, once), 32 after the 4th (hard).
    assert_eq!(
        spoke.poll_event(),
        Some(SaEvent::SoftExpired {
            id,
            limit: Limit::Bytes
        })
    );
    assert_eq!(
        spoke.poll_event(),
        Some(SaEvent::HardExpired {
            id,
            limit: Limit::Bytes
        })
    );
    assert_eq!(spoke.poll_event(), None);
    let mut out = Vec::new();
    assert!(matches!(
        spoke.protect(SPOKE, HUB, GRE_PACKET, &IV, &mut out),
        Err(SadError::NoOutboundSa { .. })
    ));
    for mut packet in packets {
        hub.unprotect(HUB, &mut packet).unwrap();
    }
    let in_id = SaId::Inbound { spi: SPI, dst: HUB };
    assert_eq!(
        hub.poll_event(),
        Some(SaEvent::SoftExpired {
            id: in_id,
            limit: Limit::Bytes
        })
    );
    assert_eq!(
        hub.poll_event(),
        Some(SaEvent::HardExpired {
            id: in_id,
            limit: Limit::Bytes
        })
    );
}

#[test]
fn sequence_numbers_never_cycle() {
    let (mut spoke, _) = pair(Lifetime::default());
    if let Some(entry) = spoke.outbound.get_mut(&(SPOKE, HUB)) {
        entry.next_seq = u64::from(u32::MAX) - 1;
    }
    let mut out = Vec::new();
    assert_eq!(
        spoke.protect(SPOKE, HUB, GRE_PACKET, &IV, &mut out),
        Ok(u64::from(u32::MAX) - 1)
    );
    assert_eq!(
        spoke.protect(SPOKE, HUB, GRE_PACKET, &IV, &mut out),
        Ok(u64::from(u32::MAX))
    );
    assert_eq!(
        spoke.poll_event(),
        Some(SaEvent::HardExpired {
            id: SaId::Outbound {
                local: SPOKE,
                remote: HUB,
                spi: SPI
            },
            limit: Limit::Sequence
        })
    );
    assert!(
        spoke
            .protect(SPOKE, HUB, GRE_PACKET, &IV, &mut out)
            .is_err()
    );
}

#[test]
fn rekey_replaces_the_sa_and_its_timers() {
    let lifetime = Lifetime {
        hard_time: Some(Duration::from_secs(100)),
        ..Lifetime::default()
    };
    let (mut spoke, mut hub) = pair(lifetime);
    let mut out = Vec::new();
    spoke
        .protect(SPOKE, HUB, GRE_PACKET, &IV, &mut out)
        .unwrap();
    let new = Sa::new(
        0x2222,
        Encryption::AesCbc,
        &[3; 16],
        Integrity::HmacSha1_96,
        &[4; 20],
    )
    .unwrap();
    let old = spoke
        .install_outbound(secs(50), SPOKE, HUB, new, lifetime)
        .unwrap();
    assert_eq!((old.sa().spi(), old.next_seq()), (SPI, 2));
    assert_eq!(spoke.outbound(SPOKE, HUB).unwrap().next_seq(), 1);
    assert_eq!(spoke.poll_timeout(), Some(secs(150)));
    spoke.handle_timeout(secs(100));
    assert_eq!(spoke.poll_event(), None);
    assert!(hub.remove_inbound(SPI, HUB).is_some());
    assert_eq!(hub.poll_timeout(), None);
    assert_eq!(
        spoke.outbound(SPOKE, HUB).unwrap().usage().installed_at(),
        secs(50)
    );
    assert!(spoke.remove_outbound(SPOKE, HUB).is_some());
    assert_eq!(spoke.poll_timeout(), None);
}

#[test]
fn anti_replay_never_accepts_a_sequence_number_twice() {
    let sender = sa();
    bolero::check!()
        .with_type::<Vec<(u16, bool)>>()
        .for_each(|arrivals| {
            let mut hub = Sad::new();
            hub.install_inbound(secs(0), HUB, sa(), Lifetime::default());
            let mut accepted = BTreeSet::new();
            for &(seq, forge) in arrivals {
                let seq = u64::from(seq % 3000) + 1;
                let mut packet = Vec::new();
                sender
                    .encrypt(seq, &IV, NextHeader::GRE, GRE_PACKET, &mut packet)
                    .unwrap();
                if forge {
                    packet[20] ^= 0x80;
                }
                match hub.unprotect(HUB, &mut packet) {
                    Ok(d) => {
                        assert!(!forge);
                        assert!(
                            accepted.insert(d.seq),
                            "sequence number {} accepted twice",
                            d.seq
                        );
                    }
                    // Refused as a replay only if it really was one; as too old only if it is
                    // a full window (1024) behind the highest accepted.
                    Err(SadError::Decrypt(DecryptError::Replayed { seq: s })) => {
                        assert!(accepted.contains(&s));
                    }
                    Err(SadError::Decrypt(DecryptError::TooOld { seq: s, .. })) => {
                        assert!(s + 1024 <= *accepted.last().unwrap_or(&0));
                    }
                    Err(SadError::Decrypt(DecryptError::IntegrityCheckFailed { .. })) => {
                        assert!(forge);
                    }
                    Err(e) => panic!("{e}"),
                }
            }
        });
}

#[test]
fn error_messages() {
    let cases = [
        (
            SadError::NoOutboundSa {
                local: SPOKE,
                remote: HUB,
            },
            "ipsec: no outbound sa from 100.1.1.2 to 100.1.1.1",
        ),
        (
            SadError::NoInboundSa { spi: SPI, dst: HUB },
            "ipsec: no inbound sa for spi 0xc0de0001 to 100.1.1.1",
        ),
        (
            SadError::Truncated { len: 3 },
            "ipsec: esp packet of 3 bytes has no header",
        ),
        (
            SadError::Decrypt(DecryptError::Replayed { seq: 5 }),
            "esp: sequence number 5 was already received",
        ),
    ];
    for (error, text) in cases {
        assert_eq!(error.to_string(), text);
    }
}
