//! Runs the IKE endpoint on a real UDP/500 socket against a real peer (strongSwan in
//! `tools/interop/ike_interop.sh`): Main Mode + Quick Mode for GRE, as initiator or responder.
//!
//! ```text
//! ike_peer --local 192.0.2.2 --peer 192.0.2.1 --psk lab-psk-secret --ike aes128-sha1-modp1024
//!          [--esp aes128-sha1] [--initiate] [--timeout 20] [--keys FILE] [--identity-any]
//! ```
//!
//! Events go to stdout without key material. `--keys FILE` writes the negotiated keys (for the
//! comparison with charon's log; it contains secrets) as `ike …` and `esp …` lines. Exit status
//! 0 once Main Mode and a Quick Mode completed (as responder: once our Quick Mode 2 was sent
//! and the peer went on; see the script), 1 on failure or timeout. Randomness: /dev/urandom.
#![allow(clippy::unwrap_used, clippy::expect_used)] // a command-line example: failing loudly is right

use std::io::{Read, Write};
use std::net::{Ipv4Addr, SocketAddrV4, UdpSocket};
use std::time::{Duration as StdDuration, Instant as StdInstant};

use dmvpn_isakmp::consts::Group;
use dmvpn_isakmp::crypto::Cipher;
use dmvpn_proto::Instant;
use dmvpn_proto::ike::{
    Config, Endpoint, Entropy, EspAuth, EspCipher, Event, Hash, IdentityPort, Policy, Purpose,
    TransformSet,
};

/// /dev/urandom.
struct Urandom(std::fs::File);

impl Entropy for Urandom {
    fn fill(&mut self, _purpose: Purpose, buf: &mut [u8]) {
        self.0.read_exact(buf).expect("/dev/urandom");
    }
}

fn ike_policy(name: &str) -> Policy {
    let (cipher, hash, group) = match name {
        "3des-md5-modp1024" => (Cipher::TripleDes, Hash::Md5, Group::MODP_1024),
        "3des-sha1-modp1024" => (Cipher::TripleDes, Hash::Sha1, Group::MODP_1024),
        "aes128-sha1-modp1024" => (Cipher::Aes128, Hash::Sha1, Group::MODP_1024),
        "aes128-sha1-modp2048" => (Cipher::Aes128, Hash::Sha1, Group::MODP_2048),
        "aes256-sha256-modp2048" => (Cipher::Aes256, Hash::Sha256, Group::MODP_2048),
        other => panic!("unknown --ike {other}"),
    };
    Policy::new(cipher, hash, group)
}

fn esp_set(name: &str) -> TransformSet {
    let (encryption, integrity) = match name {
        "aes128-sha1" => (EspCipher::Aes128, EspAuth::Sha1),
        "aes256-sha256" => (EspCipher::Aes256, EspAuth::Sha256),
        "3des-md5" => (EspCipher::TripleDes, EspAuth::Md5),
        "3des-sha1" => (EspCipher::TripleDes, EspAuth::Sha1),
        other => panic!("unknown --esp {other}"),
    };
    TransformSet::new(encryption, integrity)
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn main() {
    let mut args = std::env::args().skip(1);
    let (mut local, mut peer, mut psk) = (None, None, None);
    let (mut ike, mut esp) = (
        "aes128-sha1-modp1024".to_string(),
        "aes128-sha1".to_string(),
    );
    let (mut initiate, mut timeout, mut keys_file, mut identity_any) = (false, 20u64, None, false);
    while let Some(arg) = args.next() {
        let mut value = || args.next().unwrap_or_else(|| panic!("{arg} needs a value"));
        match arg.as_str() {
            "--local" => local = Some(value().parse::<Ipv4Addr>().unwrap()),
            "--peer" => peer = Some(value().parse::<Ipv4Addr>().unwrap()),
            "--psk" => psk = Some(value()),
            "--ike" => ike = value(),
            "--esp" => esp = value(),
            "--timeout" => timeout = value().parse().unwrap(),
            "--keys" => keys_file = Some(value()),
            "--initiate" => initiate = true,
            "--identity-any" => identity_any = true,
            other => panic!("unknown argument {other}"),
        }
    }
    let (local, peer, psk) = (
        local.expect("--local"),
        peer.expect("--peer"),
        psk.expect("--psk"),
    );
    let mut config = Config::dmvpn(local, ike_policy(&ike), psk.as_bytes(), esp_set(&esp));
    if identity_any {
        config.identity = IdentityPort {
            protocol: 0,
            port: 0,
        };
    }
    let rng = Urandom(std::fs::File::open("/dev/urandom").unwrap());
    let mut endpoint = Endpoint::new(config, rng);
    let socket = UdpSocket::bind(SocketAddrV4::new(local, 500)).expect("bind UDP 500");
    let start = StdInstant::now();
    let now = || Instant::from_micros(i64::try_from(start.elapsed().as_micros()).unwrap());
    let deadline = start + StdDuration::from_secs(timeout);
    if initiate {
        endpoint.connect(now(), peer).unwrap();
    }
    let mut keys = String::new();
    let (mut phase1, mut phase2, mut child_failed) = (false, false, false);
    let mut done_at = None;
    let mut buf = vec![0u8; 65536];
    loop {
        while let Some(t) = endpoint.poll_transmit() {
            socket
                .send_to(&t.bytes, SocketAddrV4::new(t.to, 500))
                .unwrap();
        }
        while let Some(event) = endpoint.poll_event() {
            match &event {
                Event::Phase1Established {
                    role,
                    responder_cookie,
                    suite,
                    key,
                    ..
                } => {
                    println!(
                        "phase1 up: {role:?} {} {:?} {:?} lifetime {}",
                        suite.encryption, suite.hash, suite.group, suite.lifetime
                    );
                    let p1 = endpoint.phase1_keys(peer).unwrap();
                    keys += &format!(
                        "ike cookie_i={} cookie_r={} ka={} skeyid={} skeyid_d={} skeyid_a={} skeyid_e={}\n",
                        hex(&key.initiator_cookie),
                        hex(responder_cookie),
                        key.encryption_key.to_hex(),
                        p1.skeyid().to_hex(),
                        p1.skeyid_d().to_hex(),
                        p1.skeyid_a().to_hex(),
                        p1.skeyid_e().to_hex(),
                    );
                    phase1 = true;
                }
                Event::ChildEstablished(child) => {
                    println!(
                        "phase2 up: {:?} {} spi in {:#010x} out {:#010x}",
                        child.role, child.transform_set, child.inbound.spi, child.outbound.spi
                    );
                    for k in [&child.inbound, &child.outbound] {
                        keys += &format!(
                            "esp spi={:08x} enc={} int={}\n",
                            k.spi,
                            k.encryption_key.to_hex(),
                            k.integrity_key.to_hex()
                        );
                    }
                    phase2 = true;
                }
                Event::ChildFailed { reason, .. } => {
                    // charon's kernel backend cannot install ESP here and refuses after QM 2.
                    println!("phase2 refused by the peer after our message: {reason:?}");
                    child_failed = true;
                }
                other => println!("event: {other:?}"),
            }
            if phase1 && (phase2 || child_failed) && done_at.is_none() {
                // Linger briefly to answer the peer's retransmissions / informationals.
                done_at = Some(StdInstant::now() + StdDuration::from_secs(2));
            }
        }
        let wall = StdInstant::now();
        if done_at.is_some_and(|at| wall >= at) || wall >= deadline {
            break;
        }
        let mut wait = deadline.min(done_at.unwrap_or(deadline)) - wall;
        if let Some(at) = endpoint.poll_timeout() {
            let until = at.total_micros() - now().total_micros();
            wait = wait.min(StdDuration::from_micros(
                u64::try_from(until.max(1000)).unwrap(),
            ));
        }
        socket.set_read_timeout(Some(wait)).unwrap();
        match socket.recv_from(&mut buf) {
            Ok((len, std::net::SocketAddr::V4(from))) => {
                if let Err(error) = endpoint.handle_message(now(), *from.ip(), &buf[..len]) {
                    println!("refused: {error}");
                }
            }
            Ok(_) => {}
            Err(e)
                if matches!(
                    e.kind(),
                    std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut
                ) =>
            {
                endpoint.handle_timeout(now());
            }
            Err(e) => panic!("recv: {e}"),
        }
    }
    if let Some(path) = keys_file {
        std::fs::File::create(path)
            .unwrap()
            .write_all(keys.as_bytes())
            .unwrap();
    }
    println!("result: phase1={phase1} phase2={phase2}");
    std::process::exit(if phase1 && (phase2 || !initiate) {
        0
    } else {
        1
    });
}
