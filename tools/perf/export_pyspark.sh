#!/usr/bin/env bash
# The export_duckdb test's queries with PySpark in local mode (the code path Spark runs on a cluster):
# registrations per spoke, ICV failures per SA, EIGRP adjacency flaps and findings, read by Spark from the
# Parquet dataset `dmvpn export` writes, must equal what `dmvpn sessions --format json` reports.
#
#   tools/perf/export_pyspark.sh [--dir DIR]
#
# Makes tests/export_duckdb.rs's corpus with ../shared/bench/gen_corpus.py (hub 1 at 22:30 UTC with every
# 40th ESP ICV corrupted, hub 2 at 23:30 with one spoke silent for 60 s, hub 1 again at 01:30 the next day;
# about 6 minutes each, 3 spokes each; ring files of 700 frames) in DIR (default
# /tmp/dmvpn-export-pyspark), exports it, and runs the queries. Installs pyspark with pip and a Java 17
# runtime with apt when missing. Exits 0 only if every figure matches.
set -euo pipefail
cd "$(dirname "$0")/../.."
dir=/tmp/dmvpn-export-pyspark
while (($#)); do
    case $1 in
        --dir) dir=$2; shift 2 ;;
        *) echo "usage: $0 [--dir DIR]" >&2; exit 2 ;;
    esac
done
python3 -c 'import pyspark' 2>/dev/null || { echo "export_pyspark: pip install pyspark"; python3 -m pip install -q --disable-pip-version-check pyspark; }
if ! command -v java >/dev/null; then
    echo "export_pyspark: apt-get install openjdk-17-jre-headless"
    apt-get update -q >/dev/null && DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends openjdk-17-jre-headless >/dev/null
fi
tools/setup.sh >/dev/null
cargo build -q --release -p dmvpn --features parquet
dmvpn=${CARGO_TARGET_DIR:-$PWD/target}/release/dmvpn

rm -rf "$dir" && mkdir -p "$dir/ring"
python3 - ../shared/bench/gen_corpus.py "$dir" <<'PY'
import os, struct, subprocess, sys
gen, out = sys.argv[1], sys.argv[2]
keys = []
for name, hub, start, seed in [("h1a", 1, 1705271400, 1), ("h2", 2, 1705275000, 2), ("h1b", 1, 1705282200, 3)]:
    pcap = os.path.join(out, name + ".pcap"); sa = os.path.join(out, name + ".esp_sa")
    subprocess.run([sys.executable, gen, "--spokes", "3", "--packets", "2100", "--pps", "4", "--hub", str(hub), "--start", str(start),
                    "--seed", str(seed), "--out", pcap, "--keys-out", sa], check=True, stderr=subprocess.DEVNULL)
    keys.append(open(sa).read())
    data = open(pcap, "rb").read(); head, at, records, esp = data[:24], 24, [], 0
    while at + 16 <= len(data):
        incl = struct.unpack_from("<I", data, at + 8)[0]
        r = bytearray(data[at:at + 16 + incl]); at += 16 + incl
        secs, ip = struct.unpack_from("<I", r, 0)[0], r[16 + 14:]
        if name == "h2" and bytes([100, 64, 2, 12]) in (bytes(ip[12:16]), bytes(ip[16:20])) and start + 120 <= secs < start + 180:
            continue
        if name == "h1a" and r[16 + 14 + 9] == 50:
            esp += 1
            if esp % 40 == 0:
                r[-1] ^= 0x5a
        records.append(r)
    for i in range(0, len(records), 700):
        with open(os.path.join(out, "ring", "%s_%05d.pcap" % (name, i // 700)), "wb") as f:
            f.write(head); f.write(b"".join(records[i:i + 700]))
open(os.path.join(out, "all.esp_sa"), "w").write("".join(keys))
PY
"$dmvpn" export "$dir/ring" --keys "$dir/all.esp_sa" -o "$dir/dataset"
"$dmvpn" sessions "$dir/ring" --keys "$dir/all.esp_sa" --format json > "$dir/sessions.json"

python3 - "$dir" <<'PY'
import json, sys, time
from pyspark.sql import SparkSession
d = sys.argv[1]
spark = SparkSession.builder.master("local[2]").appName("dmvpn-export").config("spark.ui.enabled", "false") \
    .config("spark.sql.session.timeZone", "UTC").getOrCreate()
spark.sparkContext.setLogLevel("ERROR")
for t in ["frames", "nhrp_events", "ike_sas", "esp_flows", "eigrp_adjacencies", "findings"]:
    spark.read.option("basePath", f"{d}/dataset/{t}").parquet(f"{d}/dataset/{t}").createOrReplaceTempView(t)
q = lambda sql: [tuple(r) for r in spark.sql(sql).collect()]
t0 = time.time()
got = {
    "registrations": dict(q("select spoke, count(*) from frames where nhrp_op = 3 and direction = 'to_hub' group by spoke")),
    "icv": dict(q("select spi, sum(icv_failed) from esp_flows where icv_failed > 0 group by spi")),
    "icv_frames": dict(q("select esp_spi, count(*) from frames where esp_outcome = 'icv_failed' group by esp_spi")),
    "flaps": sorted(q("select peer_a, peer_b, side, sum(flaps) from eigrp_adjacencies where flaps > 0 group by peer_a, peer_b, side")),
    "findings": sorted(q("select rule, coalesce(peer_a, ''), coalesce(peer_b, ''), count(*) from findings group by 1, 2, 3")),
    "partitions": sorted(q("select distinct cast(date as string), hub from frames")),
}
took = time.time() - t0
s = json.load(open(f"{d}/sessions.json"))
want = {"registrations": {}, "icv": {}, "flaps": [], "findings": {}}
for p in s["peers"]:
    if p["nhrp"]["requests"]:
        want["registrations"][p["b"]] = want["registrations"].get(p["b"], 0) + p["nhrp"]["requests"]
    for f in p["esp"]:
        if f["icv_failed"]:
            want["icv"][int(f["spi"], 16)] = want["icv"].get(int(f["spi"], 16), 0) + f["icv_failed"]
    for side, e in zip("ab", p["eigrp"]):
        if e["downs"]:
            want["flaps"].append((p["a"], p["b"], side, len(e["downs"])))
for f in s["findings"]:
    k = (f["rule"], f.get("a", ""), f.get("b", ""))
    want["findings"][k] = want["findings"].get(k, 0) + 1
checks = [
    ("registrations per spoke", got["registrations"], want["registrations"]),
    ("ICV failures per SA (esp_flows)", got["icv"], want["icv"]),
    ("ICV failures per SA (frames)", got["icv_frames"], want["icv"]),
    ("adjacency flaps", got["flaps"], sorted(want["flaps"])),
    ("findings", sorted((a, b, c, n) for (a, b, c), n in want["findings"].items()), got["findings"]),
]
print(f"export_pyspark: Spark {spark.version} local[2], {s['frames']} frames, partitions {got['partitions']}, queries {took:.1f} s")
bad = 0
for name, a, b in checks:
    ok = a == b
    bad += not ok
    print(f"  {'ok ' if ok else 'BAD'} {name}: {a if ok else (a, 'vs sessions', b)}")
spark.stop()
sys.exit(1 if bad else 0)
PY
