//! The IKEv2 endpoint against a live strongSwan charon (5.9.8), both directions, over real
//! UDP/500 between two network namespaces (root only).
//!
//! Namespaces `ikev2m-us` (192.0.2.1, this machine) and `ikev2m-swan` (192.0.2.2, charon) share
//! a veth. charon is configured with swanctl for IKEv2 PSK, transport mode, GRE between the two
//! addresses (`local_ts = dynamic[gre]`), and logs its keys (`ike = 4`, `chd = 4`). The test
//! binary runs itself again inside `ikev2m-us` (`ip netns exec`) to own the UDP/500 socket
//! there; that child drives the [`Endpoint`] and prints what it established.
//!
//! - **we initiate**: the IKE SA establishes on both sides (charon logs `established`; its
//!   `Sk_ei` … `Sk_ar` secrets equal our SA's keys), then we delete it.
//! - **charon initiates** (`swanctl --initiate`): the IKE SA and the Child SA establish; our
//!   Child SA's ESP keys equal the ones charon logged for it (direction by direction).
//!
//! This kernel has no ESP (`CONFIG_INET_ESP` unset), so charon cannot install a transport-mode
//! Child SA: as responder it then refuses the Child SA it has just keyed (NO_PROPOSAL_CHOSEN),
//! and as initiator it deletes it after logging the keys. The keys are checked from charon's log.
//!
//! Without root or charon the test prints why and passes, unless `DMVPN_REQUIRE_NETNS=1`.
#![allow(clippy::unwrap_used, clippy::expect_used)] // tests

use std::fmt::Write as _;
use std::net::{Ipv4Addr, UdpSocket};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Duration as StdDuration;

use dmvpn_isakmp::consts::Group;
use dmvpn_isakmp::keys::Prf;
use dmvpn_isakmp::v2::crypto::{Encryption, Integrity};
use dmvpn_proto::ike::{EspAuth, EspCipher, TestEntropy, TransformSet};
use dmvpn_proto::ikev2::{Config, Endpoint, Event, IkeProposal};
use dmvpn_proto::{Duration, Instant};

const US: Ipv4Addr = Ipv4Addr::new(192, 0, 2, 1);
const SWAN: Ipv4Addr = Ipv4Addr::new(192, 0, 2, 2);
const NS_US: &str = "ikev2m-us";
const NS_SWAN: &str = "ikev2m-swan";
const PSK: &str = "lab-ikev2-secret";
const CHARON: &str = "/usr/lib/ipsec/charon";
/// Set in the child process: `initiate` or `respond`.
const SIDE: &str = "DMVPN_IKEV2_SIDE";

fn hex(bytes: &[u8]) -> String {
    bytes.iter().fold(String::new(), |mut s, b| {
        let _ = write!(s, "{b:02x}");
        s
    })
}

fn skip(why: &str) {
    assert!(
        std::env::var_os("DMVPN_REQUIRE_NETNS").is_none(),
        "ikev2_strongswan: {why}, and DMVPN_REQUIRE_NETNS is set"
    );
    eprintln!("ikev2_strongswan: skipped: {why}");
}

fn run(args: &[&str]) -> bool {
    Command::new(args[0])
        .args(&args[1..])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success())
}

/// `swanctl ARGS --uri VICI` in charon's namespace.
fn swanctl(vici: &str, args: &[&str]) -> bool {
    let mut all = vec!["ip", "netns", "exec", NS_SWAN, "swanctl"];
    all.extend_from_slice(args);
    all.extend_from_slice(&["--uri", vici]);
    run(&all)
}

fn is_root() -> bool {
    Command::new("id")
        .arg("-u")
        .output()
        .is_ok_and(|o| o.stdout.trim_ascii() == b"0")
}

/// The child: our endpoint on UDP/500 in `ikev2m-us`, printing one line per result.
fn child_side(side: &str) {
    // The harness has printed "test … ... " without a newline: start ours on a line of their own.
    println!();
    // charon's aes256-sha256-modp1024 and aes256-sha1.
    let proposal = IkeProposal {
        encryption: vec![Encryption::AesCbc(256)],
        integrity: vec![Integrity::HmacSha256_128],
        prf: vec![Prf::HmacSha256],
        groups: vec![Group::MODP_1024],
    };
    let esp = [TransformSet::new(EspCipher::Aes256, EspAuth::Sha1)];
    let mut config = Config::dmvpn(US, proposal, PSK.as_bytes(), esp[0]);
    config.retransmit.tries = 2;
    let seed = u64::from(std::process::id());
    let mut endpoint = Endpoint::new(config, TestEntropy::new(seed));
    let socket = UdpSocket::bind((US, 500)).expect("bind 192.0.2.1:500");
    socket
        .set_read_timeout(Some(StdDuration::from_millis(50)))
        .unwrap();
    let start = std::time::Instant::now();
    let now = || Instant::ZERO + Duration::from_micros(start.elapsed().as_micros() as i64);
    if side == "initiate" {
        endpoint.connect(now(), SWAN).unwrap();
    }
    let (mut established, mut child_done, mut deleting) = (false, false, None);
    let mut buf = [0u8; 4096];
    while start.elapsed() < StdDuration::from_secs(25) {
        while let Some(t) = endpoint.poll_transmit() {
            socket.send_to(&t.bytes, (t.to, 500)).unwrap();
        }
        while let Some(event) = endpoint.poll_event() {
            match event {
                Event::Established { keys, .. } => {
                    established = true;
                    println!(
                        "IKE {} {} {} {}",
                        hex(keys.sk_ei.as_bytes()),
                        hex(keys.sk_er.as_bytes()),
                        hex(keys.sk_ai.as_bytes()),
                        hex(keys.sk_ar.as_bytes())
                    );
                }
                Event::ChildEstablished(c) => {
                    child_done = true;
                    println!(
                        "CHILD {:08x} {} {} {:08x} {} {}",
                        c.inbound.spi,
                        hex(c.inbound.encryption_key.as_bytes()),
                        hex(c.inbound.integrity_key.as_bytes()),
                        c.outbound.spi,
                        hex(c.outbound.encryption_key.as_bytes()),
                        hex(c.outbound.integrity_key.as_bytes())
                    );
                }
                Event::Failed { reason, .. } => {
                    child_done = true;
                    println!("FAILED {reason:?}");
                }
                other => println!("EVENT {other:?}"),
            }
        }
        if established && child_done && deleting.is_none() {
            deleting = Some(start.elapsed());
            if side == "initiate" {
                let _ = endpoint.delete_peer(now(), SWAN);
                continue;
            }
        }
        if deleting.is_some_and(|at| start.elapsed() > at + StdDuration::from_secs(2))
            || (deleting.is_some() && endpoint.sa_count() == 0)
        {
            break;
        }
        match socket.recv_from(&mut buf) {
            Ok((len, from)) => {
                let std::net::SocketAddr::V4(from) = from else {
                    continue;
                };
                if let Err(e) = endpoint.handle_message(now(), *from.ip(), &buf[..len]) {
                    println!("ERROR {e}");
                }
            }
            Err(_) => endpoint.handle_timeout(now()),
        }
    }
    println!("DONE sas={}", endpoint.sa_count());
}

/// charon's log: the bytes of the hex dump after the first line containing `label =>` from
/// `from` on.
fn logged(log: &str, label: &str) -> Option<Vec<u8>> {
    let mut lines = log
        .lines()
        .skip_while(|l| !l.contains(&format!("{label} =>")));
    lines.next()?;
    let mut out = Vec::new();
    for line in lines {
        // "16[IKE]   16: 41 6C …  AlN.": the thread and group, the offset, the bytes, ASCII.
        let row = line.split_once("] ").map_or(line, |(_, row)| row);
        let Some((index, rest)) = row.trim_start().split_once(": ") else {
            break;
        };
        if index.parse::<usize>().is_err() {
            break;
        }
        for token in rest.split(' ') {
            if token.len() != 2 {
                break;
            }
            let Ok(byte) = u8::from_str_radix(token, 16) else {
                break;
            };
            out.push(byte);
        }
    }
    Some(out)
}

struct Lab {
    dir: PathBuf,
    charon: Option<Child>,
}

impl Lab {
    fn up() -> Self {
        Self::down_namespaces();
        let dir = std::env::temp_dir().join(format!("ikev2m-{}", std::process::id()));
        std::fs::create_dir_all(dir.join("run")).unwrap();
        for ns in [NS_US, NS_SWAN] {
            assert!(run(&["ip", "netns", "add", ns]), "ip netns add {ns}");
            assert!(run(&["ip", "-n", ns, "link", "set", "lo", "up"]));
        }
        assert!(run(&[
            "ip", "link", "add", "eth0", "netns", NS_US, "type", "veth", "peer", "name", "eth0",
            "netns", NS_SWAN
        ]));
        for (ns, addr) in [(NS_US, "192.0.2.1/24"), (NS_SWAN, "192.0.2.2/24")] {
            assert!(run(&["ip", "-n", ns, "addr", "add", addr, "dev", "eth0"]));
            assert!(run(&["ip", "-n", ns, "link", "set", "eth0", "up"]));
        }
        let mut lab = Self { dir, charon: None };
        lab.start_charon();
        lab
    }

    fn down_namespaces() {
        for ns in [NS_US, NS_SWAN] {
            run(&["ip", "netns", "del", ns]);
        }
    }

    fn vici(&self) -> String {
        format!("unix://{}/run/charon.vici", self.dir.display())
    }

    fn start_charon(&mut self) {
        let d = self.dir.display();
        std::fs::write(
            self.dir.join("strongswan.conf"),
            format!(
                "charon {{\n  load = random nonce aes sha1 sha2 hmac gmp openssl kdf kernel-netlink socket-default vici\n  \
                 install_routes = no\n  retransmit_tries = 2\n  filelog {{\n    ike {{ path = {d}/charon.log\n      \
                 flush_line = yes\n      default = 1\n      ike = 4\n      chd = 4\n      knl = 2 }}\n  }}\n  \
                 syslog {{ daemon {{ default = -1 }} }}\n  plugins {{ vici {{ socket = unix://{d}/run/charon.vici }} }}\n}}\n"
            ),
        )
        .unwrap();
        std::fs::write(
            self.dir.join("swanctl.conf"),
            format!(
                "connections {{\n  dmvpn {{\n    version = 2\n    local_addrs = {SWAN}\n    remote_addrs = {US}\n    \
                 proposals = aes256-sha256-modp1024\n    dpd_delay = 0\n    mobike = no\n    local {{ auth = psk\n id = {SWAN} }}\n    \
                 remote {{ auth = psk\n id = {US} }}\n    children {{\n      gre {{ mode = transport\n        \
                 local_ts = dynamic[gre]\n        remote_ts = dynamic[gre]\n        esp_proposals = aes256-sha1\n        \
                 start_action = none }}\n    }}\n  }}\n}}\nsecrets {{ ike-lab {{ id-a = {SWAN}\n id-b = {US}\n secret = \"{PSK}\" }} }}\n"
            ),
        )
        .unwrap();
        let charon = Command::new("ip")
            .args(["netns", "exec", NS_SWAN, "env"])
            .arg(format!("STRONGSWAN_CONF={d}/strongswan.conf"))
            .args(["sh", "-c"])
            .arg(format!("mount --bind '{d}/run' /run && exec {CHARON}"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        self.charon = Some(charon);
        let socket = self.dir.join("run/charon.vici");
        for _ in 0..100 {
            if socket.exists() {
                break;
            }
            std::thread::sleep(StdDuration::from_millis(100));
        }
        assert!(socket.exists(), "charon did not start");
        let conf = format!("{d}/swanctl.conf");
        assert!(
            swanctl(&self.vici(), &["--load-all", "--file", &conf]),
            "swanctl --load-all"
        );
    }

    /// Runs our side in `ikev2m-us`; returns its output lines.
    fn our_side(&self, side: &str, while_running: impl FnOnce()) -> Vec<String> {
        let exe = std::env::current_exe().unwrap();
        let child = Command::new("ip")
            .args(["netns", "exec", NS_US])
            .arg(&exe)
            .args([
                "--exact",
                "charon_both_directions",
                "--nocapture",
                "--test-threads=1",
            ])
            .env(SIDE, side)
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        std::thread::sleep(StdDuration::from_millis(500));
        while_running();
        let output = child.wait_with_output().unwrap();
        String::from_utf8_lossy(&output.stdout)
            .lines()
            .map(str::to_owned)
            .filter(|l| {
                ["IKE ", "CHILD ", "FAILED ", "EVENT ", "ERROR ", "DONE "]
                    .iter()
                    .any(|p| l.starts_with(p))
            })
            .collect()
    }

    fn log(&self) -> String {
        std::fs::read_to_string(self.dir.join("charon.log")).unwrap_or_default()
    }
}

impl Drop for Lab {
    fn drop(&mut self) {
        if let Some(mut charon) = self.charon.take() {
            let _ = charon.kill();
            let _ = charon.wait();
        }
        Self::down_namespaces();
        if std::thread::panicking() {
            eprintln!(
                "ikev2_strongswan: charon's files kept in {}",
                self.dir.display()
            );
        } else {
            let _ = std::fs::remove_dir_all(&self.dir);
        }
    }
}

/// Our IKE keys (the `IKE` line) equal charon's Sk_* secrets in `log`.
fn check_ike_keys(lines: &[String], log: &str) {
    let ike = lines
        .iter()
        .find(|l| l.starts_with("IKE "))
        .unwrap_or_else(|| panic!("our IKE SA did not establish: {lines:?}"));
    let ours: Vec<&str> = ike.split(' ').skip(1).collect();
    for (label, our) in [
        "Sk_ei secret",
        "Sk_er secret",
        "Sk_ai secret",
        "Sk_ar secret",
    ]
    .into_iter()
    .zip(ours)
    {
        let theirs = logged(log, label).unwrap_or_else(|| panic!("charon logged no {label}"));
        assert_eq!(our, hex(&theirs), "{label}");
    }
}

#[test]
fn charon_both_directions() {
    if let Ok(side) = std::env::var(SIDE) {
        child_side(&side);
        return;
    }
    if !is_root() {
        return skip("needs root for network namespaces");
    }
    if !Path::new(CHARON).exists() || !run(&["sh", "-c", "command -v swanctl"]) {
        return skip("strongSwan charon / swanctl not installed (tools/setup.sh installs them)");
    }
    let lab = Lab::up();

    // We initiate.
    let lines = lab.our_side("initiate", || {});
    let log = lab.log();
    assert!(log.contains("IKE_SA dmvpn[1] established"), "charon: {log}");
    check_ike_keys(&lines, &log);
    assert!(lines.iter().any(|l| l == "DONE sas=0"), "{lines:?}");
    // charon keyed the Child SA we asked for (it cannot install it here).
    assert!(
        logged(&log, "encryption initiator key").is_some(),
        "{lines:?}"
    );

    // charon initiates.
    let before = log.len();
    let vici = lab.vici();
    let lines = lab.our_side("respond", || {
        swanctl(&vici, &["--initiate", "--child", "gre", "--timeout", "10"]);
    });
    let log = lab.log()[before..].to_owned();
    assert!(log.contains("IKE_SA dmvpn[2] established"), "charon: {log}");
    check_ike_keys(&lines, &log);
    let child = lines
        .iter()
        .find(|l| l.starts_with("CHILD "))
        .expect("our Child SA");
    let f: Vec<&str> = child.split(' ').collect();
    // charon initiated: "initiator" keys protect charon → us, our inbound.
    let key =
        |label| hex(&logged(&log, label).unwrap_or_else(|| panic!("charon logged no {label}")));
    assert_eq!(f[2], key("encryption initiator key"), "inbound encryption");
    assert_eq!(f[3], key("integrity initiator key"), "inbound integrity");
    assert_eq!(f[5], key("encryption responder key"), "outbound encryption");
    assert_eq!(f[6], key("integrity responder key"), "outbound integrity");
    eprintln!("ikev2_strongswan: both directions established; keys equal charon's");
}
