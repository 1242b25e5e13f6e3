//! Closing the loop: the capture and keys `simulate --pcap --key-log` writes, read back by
//! `dmvpn sessions` (the library), give the same hub–spoke pairs, IKE SAs, SPIs, registrations,
//! EIGRP adjacencies and findings as simulate's own report, for the tutorial's cloud and for
//! each of its broken variants that puts something on the wire.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::BTreeSet;
use std::net::IpAddr;
use std::path::{Path, PathBuf};

use dmvpn::capture::CaptureReader;
use dmvpn::decode::Decoder;
use dmvpn::keys::KeyFiles;
use dmvpn::session::{PskTable, Report as Sessions, Rule, SessionBuilder};
use dmvpn_proto::Duration;
use dmvpn_router::config::Options;
use dmvpn_router::config::cloud::Member;
use dmvpn_router::simulate::{self, Report, Scenario, Source, capture};

const TUTORIAL: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../../testdata/router/tutorial"
);

fn tutorial(variant: Option<&str>) -> Vec<Member> {
    let dir = Path::new(TUTORIAL);
    ["R1", "R2", "R3"]
        .iter()
        .map(|r| {
            let path = match variant {
                Some(v) if v.ends_with(&format!(".{r}.cfg")) => dir.join("broken").join(v),
                _ => dir.join(format!("{r}.cfg")),
            };
            let text = std::fs::read_to_string(&path).unwrap();
            Member::parse(&path.display().to_string(), &text, Options::default()).unwrap()
        })
        .collect()
}

struct Dir(PathBuf);

impl Drop for Dir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// Simulates, writes the capture and the keys, and reads them with `dmvpn sessions`.
fn round_trip(variant: Option<&str>) -> (Report, Sessions) {
    let mut scenario = Scenario::new(tutorial(variant));
    scenario.duration = Duration::from_secs(120);
    scenario.capture = true;
    let outcome = simulate::run(&scenario).unwrap();
    let name = variant.unwrap_or("good");
    let dir = Dir(std::env::temp_dir().join(format!("sim-pcap-{}-{name}", std::process::id())));
    std::fs::create_dir_all(&dir.0).unwrap();
    let capture = outcome.capture.unwrap();
    let pcap = dir.0.join("cloud.pcapng");
    capture::write_pcapng(&pcap, &capture.interfaces, &capture.packets).unwrap();
    capture.keys.write(&dir.0.join("keys")).unwrap();
    let files = ["esp_sa", "ikev1_decryption_table"].map(|f| dir.0.join("keys").join(f));
    let keys = KeyFiles::load(files).unwrap();
    assert!(keys.warnings.is_empty(), "{:?}", keys.warnings);
    // The pre-shared key the hub has (as `--psk`): so the wrong one shows.
    let mut psks = PskTable::new();
    psks.add(None, b"cisco123");
    let mut reader = CaptureReader::open(&pcap).unwrap();
    let sessions = SessionBuilder::with_psks(psks)
        .read(&mut reader, &mut Decoder::with_ike_keys(keys.esp, keys.ike))
        .unwrap();
    (outcome.report, sessions)
}

/// One pair as both sides see it: (hub, spoke), IKE SAs up, SPIs, registered, adjacent.
type Pair = (IpAddr, IpAddr, usize, BTreeSet<u32>, bool, bool);

fn simulated(report: &Report) -> BTreeSet<Pair> {
    (report.peers.iter())
        .map(|p| {
            (
                IpAddr::V4(p.hub_nbma),
                IpAddr::V4(p.spoke_nbma),
                p.ike_sas,
                p.spis.clone(),
                p.registered,
                p.adjacent,
            )
        })
        .collect()
}

fn reconstructed(sessions: &Sessions) -> BTreeSet<Pair> {
    (sessions.peers.iter())
        .map(|p| {
            let (hub, spoke) = if p.a_is_hub { (p.a, p.b) } else { (p.b, p.a) };
            let established = p.ike.iter().filter(|sa| sa.established.is_some()).count();
            // The SPIs of every completed Quick Mode (a direction that never carries traffic
            // has no ESP flow), and every SPI that carried ESP that decrypted.
            let negotiated = (p.ike.iter().flat_map(|sa| &sa.phase2))
                .filter(|qm| qm.completed.is_some())
                .flat_map(|qm| qm.spis.iter().copied());
            let carried = p.esp.iter().filter(|f| f.decrypted > 0).map(|f| f.spi);
            let spis = negotiated.chain(carried).collect();
            let [x, y] = &p.eigrp;
            // Adjacent: both say Hello in the same AS and both sent Updates (which only an
            // adjacency carries).
            let adjacent = x.hellos > 0
                && y.hellos > 0
                && x.autonomous_system == y.autonomous_system
                && !x.updates.is_empty()
                && !y.updates.is_empty();
            (
                hub,
                spoke,
                established,
                spis,
                p.nhrp.successes > 0,
                adjacent,
            )
        })
        .collect()
}

fn check(variant: Option<&str>) {
    let (report, sessions) = round_trip(variant);
    assert_eq!(
        reconstructed(&sessions),
        simulated(&report),
        "{variant:?}: pairs\n{sessions}\n{report}"
    );
    let rules: BTreeSet<&str> = Rule::ALL.iter().map(|r| r.id()).collect();
    let ours: BTreeSet<&str> = (report.findings.iter())
        .filter(|f| f.source == Source::Runtime && rules.contains(f.id))
        .map(|f| f.id)
        .collect();
    let mut theirs: BTreeSet<&str> = sessions.findings.iter().map(|f| f.rule.id()).collect();
    if variant == Some("wrong-psk.R2.cfg") {
        // The one thing a capture cannot show: HASH_I is in the encrypted message 5 of a Main
        // Mode that never finished, and no key log (IOS's, the live router's, simulate's) has
        // the keys of a Main Mode that failed. Sessions sees the exchange fail (no IKE SA in
        // the pair above) without naming why; simulate names it.
        assert!(!theirs.contains("ike-psk-mismatch"));
        assert!(ours.contains("ike-psk-mismatch"));
        theirs.insert("ike-psk-mismatch");
    }
    assert_eq!(theirs, ours, "{variant:?}: findings\n{sessions}\n{report}");
    assert!(sessions.frames > 50, "{variant:?}: {}", sessions.frames);
}

/// The tutorial's cloud: two pairs, each with one IKE SA, two SPIs, a registration and an
/// adjacency; the probes' hairpin through the hub is the one finding of both.
#[test]
fn tutorial_cloud() {
    check(None);
    let (report, _) = round_trip(None);
    assert!(
        simulated(&report)
            .iter()
            .all(|p| p.2 == 1 && p.3.len() == 2 && p.4 && p.5)
    );
}

/// Each broken variant with something on the wire gives the same pairs and findings both ways.
#[test]
fn broken_variants() {
    for variant in [
        "wrong-psk.R2.cfg",
        "missing-wildcard.R1.cfg",
        "transform-set-mismatch.R3.cfg",
        "nhrp-auth-mismatch.R3.cfg",
        "split-horizon-on.R1.cfg",
        "eigrp-as-mismatch.R2.cfg",
        "wrong-nhs.R2.cfg",
        "missing-multicast-map.R1.cfg",
    ] {
        check(Some(variant));
    }
}

/// Over IKEv2 (`testdata/router/ikev2/`): the `ikev2_decryption_table` simulate's key log writes
/// opens every encrypted IKEv2 message of its capture (ICV good), and its `esp_sa` every ESP
/// packet, read back by `dmvpn`'s key readers.
#[test]
fn ikev2_capture_opens_with_its_key_log() {
    use dmvpn_isakmp::v2::Message;
    use dmvpn_isakmp::v2::crypto::Icv;

    let dir = Path::new(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../testdata/router/ikev2"
    ));
    let members: Vec<Member> = ["hub", "spoke1", "spoke2"]
        .iter()
        .map(|name| {
            let path = dir.join(format!("{name}.cfg"));
            let text = std::fs::read_to_string(&path).unwrap();
            Member::parse(&path.display().to_string(), &text, Options::default()).unwrap()
        })
        .collect();
    let mut scenario = Scenario::new(members);
    scenario.duration = Duration::from_secs(60);
    scenario.capture = true;
    let capture = simulate::run(&scenario).unwrap().capture.unwrap();
    let out = Dir(std::env::temp_dir().join(format!("sim-pcap-{}-ikev2", std::process::id())));
    capture.keys.write(&out.0).unwrap();
    let (esp_lines, ikev1_lines, ikev2_lines) = capture.keys.len();
    assert_eq!((ikev1_lines, ikev2_lines), (0, 2), "one IKE SA per spoke");
    let table = std::fs::read_to_string(out.0.join("ikev2_decryption_table")).unwrap();
    let (keys, warnings) = dmvpn::keys::parse_ikev2_decryption_table(&table, None).unwrap();
    assert!(warnings.is_empty() && keys.len() == 2, "{warnings:?}");
    let esp_sa = std::fs::read_to_string(out.0.join("esp_sa")).unwrap();
    let mut esp = dmvpn::keys::EspKeys::parse(&esp_sa).unwrap();
    assert_eq!(esp.len(), esp_lines);
    let (mut sealed, mut opened, mut esp_opened, mut scratch) = (0, 0, 0, Vec::new());
    for packet in &capture.packets {
        match packet.protocol {
            17 => {
                let message = Message::parse(&packet.bytes[8..]).unwrap();
                let spis = (message.header.initiator_spi, message.header.responder_spi);
                let Some(key) = keys
                    .iter()
                    .find(|k| (k.keys.initiator_spi, k.keys.responder_spi) == spis)
                else {
                    continue;
                };
                if let Some(inner) = message.decrypt(&key.keys) {
                    sealed += 1;
                    if inner.unwrap().decrypted.icv == Icv::Good {
                        opened += 1;
                    }
                }
            }
            50 => {
                let (from, to) = (IpAddr::V4(packet.from), IpAddr::V4(packet.to));
                let spi = u32::from_be_bytes(packet.bytes[..4].try_into().unwrap());
                let sa = esp.sa(from, to, spi).expect("an esp_sa line for every SPI");
                let open = sa.decrypt(&packet.bytes, &mut scratch).unwrap();
                assert_eq!(open.next_header.0, 47, "GRE inside");
                esp_opened += 1;
            }
            _ => {}
        }
    }
    assert!(sealed >= 4, "IKE_AUTH of both spokes: {sealed}");
    assert_eq!(opened, sealed, "every encrypted IKEv2 message opens");
    assert!(esp_opened > 20, "NHRP and EIGRP inside ESP: {esp_opened}");
}

/// `testdata/ikev2/psk/` (an IKEv2 cloud whose spoke1 has another keyring key, read by `dmvpn
/// sessions --psk` in crates/dmvpn/tests/sessions_ikev2_psk.rs) is what its README's command writes
/// today, byte for byte: the capture, Wireshark's `ikev2_decryption_table` and the
/// `dmvpn_ikev2_decryption_table` with SK_d, SK_pi and SK_pr, whose lines are Wireshark's plus
/// three PRF-long keys. The refused SAs have their lines too (logged at IKE_SA_INIT).
#[test]
fn ikev2_wrong_psk_recording_is_reproduced() {
    let root = Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/../../testdata"));
    let data = root.join("ikev2/psk");
    let members: Vec<Member> = [
        root.join("router/ikev2/hub.cfg"),
        data.join("spoke1-wrong-psk.cfg"),
        root.join("router/ikev2/spoke2.cfg"),
    ]
    .iter()
    .map(|path| {
        let text = std::fs::read_to_string(path).unwrap();
        Member::parse(&path.display().to_string(), &text, Options::default()).unwrap()
    })
    .collect();
    let mut scenario = Scenario::new(members);
    scenario.duration = Duration::from_secs(20);
    (scenario.flows.from, scenario.flows.until) = (Duration::ZERO, Duration::ZERO);
    scenario.capture = true;
    let capture = simulate::run(&scenario).unwrap().capture.unwrap();
    let out = Dir(std::env::temp_dir().join(format!("sim-pcap-{}-psk", std::process::id())));
    std::fs::create_dir_all(&out.0).unwrap();
    let pcap = out.0.join("wrong-psk.pcapng");
    capture::write_pcapng(&pcap, &capture.interfaces, &capture.packets).unwrap();
    capture.keys.write(&out.0.join("keys")).unwrap();
    let read = |path: PathBuf| std::fs::read(&path).unwrap_or_else(|e| panic!("{path:?}: {e}"));
    assert!(read(pcap) == read(data.join("wrong-psk.pcapng")));
    for name in [
        "esp_sa",
        "ikev1_decryption_table",
        "ikev2_decryption_table",
        "dmvpn_ikev2_decryption_table",
    ] {
        let made = read(out.0.join("keys").join(name));
        assert!(made == read(data.join("keys").join(name)), "{name}");
    }
    let wireshark = String::from_utf8(read(data.join("keys/ikev2_decryption_table"))).unwrap();
    let ours = String::from_utf8(read(data.join("keys/dmvpn_ikev2_decryption_table"))).unwrap();
    assert_eq!(wireshark.lines().count(), 3, "spoke2's SA and spoke1's two");
    for (short, long) in wireshark.lines().zip(ours.lines()) {
        let extra = long.strip_prefix(short).unwrap().strip_prefix(',').unwrap();
        let columns: Vec<&str> = extra.split(',').collect();
        assert_eq!(columns.len(), 3);
        assert!(columns.iter().all(|c| c.len() == 64), "SHA-256 PRF keys");
    }
    let (keys, warnings) = dmvpn::keys::parse_ikev2_decryption_table(&ours, None).unwrap();
    assert!(warnings.is_empty());
    assert!(keys.iter().all(|k| k.sk_d.is_some() && k.sk_p.is_some()));
}
