//! Property tests of the NHRP machines under arbitrary timing, loss and holding times.

mod util;

use dmvpn_nhrp::OpType;
use dmvpn_proto::nhrp::{Client, Nhs, NhsState};
use dmvpn_proto::{Duration, Instant};
use util::{HUB_NBMA, HUB_TUNNEL, Net, spoke_config, spoke_nbma};

/// After every step (each runs `handle_timeout` when due) the hub's cache holds no entry whose
/// holding time has passed, whatever the holding times, loss and latency; and once every spoke
/// falls silent, every mapping is gone when the longest holding time has passed.
#[test]
fn hub_cache_never_holds_an_expired_entry() {
    bolero::check!()
        .with_type::<(Vec<(u8, u16)>, u8, u16, u64)>()
        .for_each(|(spokes, loss, latency_ms, seed)| {
            let mut net = Net::hub();
            net.loss_percent = u32::from(*loss % 60);
            net.latency = Duration::from_millis(i64::from(*latency_ms % 2_000));
            net.seed = *seed | 1;
            let mut longest = 0;
            for (n, &(offset, holding)) in spokes.iter().take(8).enumerate() {
                let mut config = spoke_config(n as u8 + 1);
                config.holding_time = holding % 600 + 1;
                longest = longest.max(config.holding_time);
                net.run_until(net.now + Duration::from_millis(i64::from(offset) * 100));
                net.add_spoke(config, None);
            }
            let end = net.now + Duration::from_secs(1_500);
            while net.step(end) {
                let now = net.now;
                assert!(net.hub.registrations().all(|r| r.expires_at > now));
            }
            // Now cut every spoke off: nothing survives its holding time.
            net.drop = Some(Box::new(|_| true));
            let silent = net.now + Duration::from_secs(i64::from(longest)) + net.latency;
            net.run_until(silent);
            assert!(
                net.hub.is_empty(),
                "{:?}",
                net.hub.registrations().collect::<Vec<_>>()
            );
        });
}

/// Whatever instants the caller runs `handle_timeout` at (early, late, repeatedly), a spoke
/// whose requests go unanswered never sends the k-th retransmission sooner than
/// `retry_initial · 2^k` (at most `retry_max`) after the previous one, and `poll_timeout` never
/// lies in the past after `handle_timeout`.
#[test]
fn client_never_sends_faster_than_the_backoff() {
    bolero::check!()
        .with_type::<(Vec<u32>, u8, u8)>()
        .for_each(|(steps, initial, max)| {
            let mut config = spoke_config(1);
            config.retry_initial = Duration::from_millis(i64::from(*initial % 50) * 100 + 100);
            config.retry_max = config.retry_initial.saturating_mul(i64::from(*max % 8) + 1);
            let backoff = |k: u32| config.backoff(k);
            assert_eq!(backoff(0), config.retry_initial);
            let mut client = Client::new(config.clone(), Instant::ZERO, 1);
            let mut now = Instant::ZERO;
            let mut sent = Vec::new();
            while client.poll_transmit().is_some() {
                sent.push(now);
            }
            for &step in steps {
                now += Duration::from_micros(i64::from(step % 5_000_000));
                client.handle_timeout(now);
                while let Some(t) = client.poll_transmit() {
                    assert_eq!(t.to, HUB_NBMA);
                    assert_eq!(t.parse().unwrap().op_type(), OpType::REGISTRATION_REQUEST);
                    sent.push(now);
                }
                assert!(client.poll_timeout().is_some_and(|t| t > now));
            }
            for (k, pair) in sent.windows(2).enumerate() {
                assert!(
                    pair[1] - pair[0] >= backoff(k as u32),
                    "retransmission {k} after {:?}",
                    pair[1] - pair[0]
                );
            }
            let (nhs, state) = client.states().next().unwrap();
            assert_eq!(
                nhs,
                Nhs {
                    tunnel: HUB_TUNNEL,
                    nbma: HUB_NBMA
                }
            );
            assert!(matches!(state, NhsState::Registering { request_id: 1, .. }));
            let _ = spoke_nbma(1);
        });
}
