//! `dmvpn export` read by a real engine: DuckDB's Python package queries the Parquet dataset
//! exported from a multi-hour, multi-hub corpus (two hubs' ring buffers, spanning midnight,
//! with corrupted ICVs and an EIGRP outage) and must find the registrations per spoke, the ICV
//! failures per SA, the adjacency flaps and the findings that `dmvpn sessions --format json`
//! reports on the same files. Frame-level figures are also checked on a dataset made by one
//! export per file, in parallel, into one folder (as a cluster would), and a re-export must
//! leave the dataset unchanged.
//!
//! Skipped (with the reason printed) when `python3 -c 'import duckdb'` fails or the corpus
//! generator (`../shared/bench/gen_corpus.py`) is absent, unless `CI=true`: there it must run
//! (`tools/setup.sh` installs duckdb).
#![cfg(feature = "parquet")]
#![allow(clippy::unwrap_used, clippy::expect_used)] // a test: a failed unwrap is a failed test

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;

use serde_json::Value;

const GENERATOR: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../../../shared/bench/gen_corpus.py"
);

/// Makes the corpus: hub 1 from 22:30 and again from 01:30 the next day, hub 2 from 23:30
/// (3 spokes each, about 6 minutes each), every 40th ESP packet of hub 1's first capture with its
/// last byte (the ICV) flipped, every frame of one spoke of hub 2 missing for 60 s (its EIGRP
/// adjacency goes down), each cut into ring files of 700 frames.
const MAKE_CORPUS: &str = r#"
import struct, subprocess, sys, os
gen, out = sys.argv[1], sys.argv[2]
ring = os.path.join(out, "ring"); os.makedirs(ring, exist_ok=True)
keys = []
for name, hub, start, seed in [("h1a", 1, 1705271400, 1), ("h2", 2, 1705275000, 2), ("h1b", 1, 1705282200, 3)]:
    pcap = os.path.join(out, name + ".pcap"); sa = os.path.join(out, name + ".esp_sa")
    subprocess.run([sys.executable, gen, "--spokes", "3", "--packets", "2100", "--pps", "4", "--hub", str(hub),
                    "--start", str(start), "--seed", str(seed), "--out", pcap, "--keys-out", sa],
                   check=True, stderr=subprocess.DEVNULL)
    keys.append(open(sa).read())
    data = open(pcap, "rb").read()
    head, at, records = data[:24], 24, []
    while at + 16 <= len(data):
        secs, usecs, incl, orig = struct.unpack_from("<IIII", data, at)
        records.append(bytearray(data[at:at + 16 + incl])); at += 16 + incl
    esp = 0
    kept = []
    for r in records:
        secs = struct.unpack_from("<I", r, 0)[0]
        ip = r[16 + 14:]
        src = bytes(ip[12:16])
        # spoke 2 of hub 2 (100.64.2.12) silent for 60 s, 120 s into the capture
        if name == "h2" and bytes([100, 64, 2, 12]) in (src, bytes(ip[16:20])) and start + 120 <= secs < start + 180:
            continue
        if name == "h1a" and ip[9] == 50:
            esp += 1
            if esp % 40 == 0:
                r[-1] ^= 0x5a
        kept.append(r)
    for i in range(0, len(kept), 700):
        with open(os.path.join(ring, "%s_%05d.pcap" % (name, i // 700)), "wb") as f:
            f.write(head); f.write(b"".join(kept[i:i + 700]))
open(os.path.join(out, "all.esp_sa"), "w").write("".join(keys))
"#;

/// The queries (also in README.md), answered as JSON on standard output.
const QUERIES: &str = r#"
import duckdb, json, sys
root = sys.argv[1]
con = duckdb.connect()
for table in ["frames", "nhrp_events", "ike_sas", "esp_flows", "eigrp_adjacencies", "findings"]:
    con.sql(f"create view {table} as select * from read_parquet('{root}/{table}/**/*.parquet', hive_partitioning = true, union_by_name = true)")
def rows(sql):
    return [list(r) for r in con.sql(sql).fetchall()]
print(json.dumps({
    "registrations": rows("select spoke, count(*) from frames where nhrp_op = 3 and direction = 'to_hub' group by spoke order by spoke"),
    "registrations_events": rows("select peer_b, count(*) from nhrp_events where kind = 'registration_request' group by peer_b order by peer_b"),
    "icv_frames": rows("select esp_spi, count(*) from frames where esp_outcome = 'icv_failed' group by esp_spi order by esp_spi"),
    "icv_flows": rows("select spi, sum(icv_failed) from esp_flows where icv_failed > 0 group by spi order by spi"),
    "flaps": rows("select peer_a, peer_b, side, sum(flaps) from eigrp_adjacencies where flaps > 0 group by all order by all"),
    "findings": rows("select rule, coalesce(peer_a, ''), coalesce(peer_b, ''), count(*) from findings group by all order by all"),
    "days": rows("select distinct cast(date as varchar), hub from frames order by all"),
    "frames": rows("select count(*), count(distinct export_id) from frames"),
}))
"#;

fn skip(reason: &str) -> bool {
    if std::env::var("CI").is_ok_and(|ci| ci == "true") {
        panic!("export_duckdb must run under CI=true: {reason}");
    }
    eprintln!("export_duckdb: skipped: {reason}");
    true
}

fn run(command: &mut Command) -> Vec<u8> {
    let out = command.output().unwrap();
    assert!(
        out.status.success(),
        "{command:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    out.stdout
}

fn dmvpn() -> Command {
    Command::new(env!("CARGO_BIN_EXE_dmvpn"))
}

/// `dmvpn export CAPTURES --keys KEYS -o DATASET`.
fn export(captures: &Path, keys: &Path, dataset: &Path) -> Command {
    let mut command = dmvpn();
    command
        .arg("export")
        .arg(captures)
        .arg("--keys")
        .arg(keys)
        .arg("-o")
        .arg(dataset);
    command
}

fn query(dataset: &Path) -> Value {
    let out = run(Command::new("python3").arg("-c").arg(QUERIES).arg(dataset));
    serde_json::from_slice(&out).unwrap()
}

/// (name, count) pairs of a query as a map.
fn counts(value: &Value) -> BTreeMap<String, u64> {
    value
        .as_array()
        .unwrap()
        .iter()
        .map(|row| {
            let key = match &row[0] {
                Value::String(s) => s.clone(),
                other => other.to_string(),
            };
            (key, row[1].as_u64().unwrap())
        })
        .collect()
}

/// Every file under `dir`, with its bytes.
fn snapshot(dir: &Path) -> BTreeMap<PathBuf, Vec<u8>> {
    dmvpn_testkit::files_under(dir)
        .into_iter()
        .map(|path| {
            let bytes = std::fs::read(&path).unwrap();
            (path, bytes)
        })
        .collect()
}

#[test]
fn duckdb_finds_what_sessions_reports() {
    let duckdb = Command::new("python3")
        .args(["-c", "import duckdb"])
        .output();
    if !duckdb.is_ok_and(|out| out.status.success()) {
        skip("python3 -c 'import duckdb' fails (tools/setup.sh installs it)");
        return;
    }
    if !Path::new(GENERATOR).is_file() {
        skip("../shared/bench/gen_corpus.py is not beside the checkout");
        return;
    }
    let dir = std::env::temp_dir().join(format!("dmvpn-export-duckdb-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    run(Command::new("python3")
        .args(["-c", MAKE_CORPUS, GENERATOR])
        .arg(&dir));
    let ring = dir.join("ring");
    let keys = dir.join("all.esp_sa");
    let dataset = dir.join("dataset");

    // One export of the whole set, as `sessions` reads it.
    run(&mut export(&ring, &keys, &dataset));
    let sessions: Value = serde_json::from_slice(&run(dmvpn()
        .arg("sessions")
        .arg(&ring)
        .arg("--keys")
        .arg(&keys)
        .args(["--format", "json"])))
    .unwrap();
    let got = query(&dataset);

    // What sessions says.
    let mut registrations = BTreeMap::new();
    let mut icv = BTreeMap::new();
    let mut flaps = Vec::new();
    for peer in sessions["peers"].as_array().unwrap() {
        let requests = peer["nhrp"]["requests"].as_u64().unwrap();
        if requests > 0 {
            *registrations
                .entry(peer["b"].as_str().unwrap().to_owned())
                .or_insert(0) += requests;
        }
        for flow in peer["esp"].as_array().unwrap() {
            let failed = flow["icv_failed"].as_u64().unwrap();
            if failed > 0 {
                let spi = u64::from_str_radix(&flow["spi"].as_str().unwrap()[2..], 16).unwrap();
                *icv.entry(spi.to_string()).or_insert(0) += failed;
            }
        }
        for (side, eigrp) in ["a", "b"].iter().zip(peer["eigrp"].as_array().unwrap()) {
            let downs = eigrp["downs"].as_array().unwrap().len();
            if downs > 0 {
                flaps.push(serde_json::json!([peer["a"], peer["b"], side, downs]));
            }
        }
    }
    let mut findings = BTreeMap::new();
    for finding in sessions["findings"].as_array().unwrap() {
        let peer = |key: &str| finding[key].as_str().unwrap_or("").to_owned();
        *findings
            .entry((
                finding["rule"].as_str().unwrap().to_owned(),
                peer("a"),
                peer("b"),
            ))
            .or_insert(0_u64) += 1;
    }
    let found_findings: BTreeMap<_, _> = got["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|row| {
            let text = |i: usize| row[i].as_str().unwrap().to_owned();
            ((text(0), text(1), text(2)), row[3].as_u64().unwrap())
        })
        .collect();

    assert_eq!(
        registrations.len(),
        6,
        "six spokes register: {registrations:?}"
    );
    assert_eq!(counts(&got["registrations"]), registrations);
    assert_eq!(counts(&got["registrations_events"]), registrations);
    assert!(!icv.is_empty(), "the corpus has ICV failures");
    assert_eq!(counts(&got["icv_flows"]), icv);
    assert_eq!(counts(&got["icv_frames"]), icv);
    assert!(
        flaps.iter().any(|flap| flap[1] == "100.64.2.12"),
        "the 60 s outage is a flap: {flaps:?}"
    );
    assert_eq!(got["flaps"], Value::Array(flaps));
    assert!(
        findings.keys().any(|(rule, ..)| rule == "esp-icv-failure"),
        "{findings:?}"
    );
    assert_eq!(found_findings, findings);
    // Two hubs, two days (the corpus spans midnight).
    let days: Vec<_> = got["days"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r[0].clone())
        .collect();
    assert!(days.contains(&Value::from("2024-01-14")) && days.contains(&Value::from("2024-01-15")));
    let frames = sessions["frames"].as_u64().unwrap();
    assert_eq!(got["frames"], serde_json::json!([[frames, 1]]));

    // Re-export: the same file names, the same bytes, nothing added.
    let before = snapshot(&dataset);
    run(&mut export(&ring, &keys, &dataset));
    assert_eq!(snapshot(&dataset), before, "re-export is idempotent");

    // One export per file, two at a time, into one dataset: the frame-level figures hold.
    let per_file = dir.join("per-file");
    let mut files: Vec<_> = std::fs::read_dir(&ring)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    files.sort();
    for pair in files.chunks(2) {
        let children: Vec<_> = pair
            .iter()
            .map(|file| export(file, &keys, &per_file).spawn().unwrap())
            .collect();
        for mut child in children {
            assert!(child.wait().unwrap().success());
        }
    }
    let split = query(&per_file);
    assert_eq!(counts(&split["icv_frames"]), icv);
    assert_eq!(split["frames"], serde_json::json!([[frames, files.len()]]));
    let _ = std::fs::remove_dir_all(&dir);
}
