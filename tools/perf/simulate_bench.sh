#!/usr/bin/env bash
# `dmvpn-router simulate` at scale: a hub and N spokes (default 1000) written as IOS
# configurations in the tutorial's shape (IKE 3des/md5/group 2 pre-share, esp-aes esp-sha-hmac
# transport, NHRP, EIGRP AS 123 with no split horizon on the hub, a loopback per router), run for
# a virtual duration (default 10m) with IKE, on one core (taskset -c 0), release build, under
# /usr/bin/time -v, bounded by a wall-clock timeout (default 600 s). Prints the wall time, the
# peak RSS and what the run reported (time to converge, reachability, packets).
#
#   tools/perf/simulate_bench.sh [SPOKES] [DURATION] [TIMEOUT_SECONDS]
#
# The configurations and the JSON report go to $TMPDIR/dmvpn-simulate-bench-SPOKES/ (default
# /tmp). A benchmark, not a test: it asserts only that the run finished and converged.
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
spokes="${1:-1000}"
duration="${2:-10m}"
limit="${3:-600}"
[[ "$spokes" =~ ^[0-9]+$ ]] && ((spokes >= 1 && spokes <= 60000)) ||
    { echo "simulate_bench.sh: SPOKES must be 1..60000" >&2; exit 2; }
dir="${TMPDIR:-/tmp}/dmvpn-simulate-bench-$spokes"
rm -rf "$dir"
mkdir -p "$dir"

python3 - "$dir" "$spokes" <<'PY'
import sys
out, spokes = sys.argv[1], int(sys.argv[2])
common = """crypto isakmp policy 10
 encr 3des
 hash md5
 authentication pre-share
 group 2
crypto isakmp key cisco123 address 0.0.0.0
!
crypto ipsec transform-set TS esp-aes esp-sha-hmac
 mode transport
!
crypto ipsec profile protect-gre
 set transform-set TS
!
"""
def tunnel(n):  # hub 0: 172.16.0.1; spoke n: 172.16.0.1 + n, in 172.16.0.0/16
    v = (172 << 24) | (16 << 16) | (1 + n)
    return ".".join(str(v >> s & 255) for s in (24, 16, 8, 0))
def nbma(n):  # 198.18.0.0/15 (RFC 2544 benchmarking), one subnet
    v = (198 << 24) | (18 << 16) | (1 + n)
    return ".".join(str(v >> s & 255) for s in (24, 16, 8, 0))
def loopback(n):  # 10.x.y.1/32
    return f"10.{n >> 8}.{n & 255}.1"
def router(n):
    name = "hub" if n == 0 else f"spoke{n}"
    lines = [f"hostname {name}", "!", common.rstrip("\n"),
             "interface Loopback0", f" ip address {loopback(n)} 255.255.255.255", "!",
             "interface Tunnel0", f" ip address {tunnel(n)} 255.255.0.0", " ip mtu 1400",
             " ip nhrp authentication pass", " ip nhrp network-id 123", " ip tcp adjust-mss 1360"]
    if n == 0:
        lines += [" ip nhrp map multicast dynamic", " no ip split-horizon eigrp 123",
                  " tunnel source GigabitEthernet0/0", " tunnel mode gre multipoint"]
    else:
        lines += [f" ip nhrp map {tunnel(0)} {nbma(0)}", f" ip nhrp map multicast {nbma(0)}",
                  f" ip nhrp nhs {tunnel(0)}", " tunnel source GigabitEthernet0/0",
                  f" tunnel destination {nbma(0)}"]
    lines += [" tunnel protection ipsec profile protect-gre", "!",
              "interface GigabitEthernet0/0", f" ip address {nbma(n)} 255.254.0.0", "!",
              "router eigrp 123", f" network {loopback(n)} 0.0.0.0", " network 172.16.0.0 0.0.255.255",
              "!", "end", ""]
    return "\n".join(lines)
for n in range(spokes + 1):
    name = "hub" if n == 0 else f"spoke{n:05d}"
    with open(f"{out}/{name}.cfg", "w") as f:
        f.write(router(n))
PY

(cd "$root" && cargo build --release -q -p dmvpn-router)
bin="${CARGO_TARGET_DIR:-$root/target}/release/dmvpn-router"
pin=()
command -v taskset >/dev/null && pin=(taskset -c 0)
set +e
timeout "$limit" /usr/bin/time -v "${pin[@]}" "$bin" simulate "$dir/hub.cfg" "$dir"/spoke*.cfg \
    --duration "$duration" --format json >"$dir/report.json" 2>"$dir/time.txt"
status=$?
set -e
if ((status == 124)); then
    echo "simulate_bench.sh: no result within ${limit}s" >&2
    exit 1
fi
# (exit status 1 is a finding or a failed probe: the report says which)
((status <= 1)) || { tail -20 "$dir/time.txt" >&2; exit 1; }
wall=$(sed -n 's/.*Elapsed (wall clock) time (h:mm:ss or m:ss): //p' "$dir/time.txt")
rss=$(sed -n 's/.*Maximum resident set size (kbytes): //p' "$dir/time.txt")
user=$(sed -n 's/.*User time (seconds): //p' "$dir/time.txt")
python3 - "$dir/report.json" "$spokes" "$duration" "$wall" "$rss" "$user" <<'PY'
import json, sys
path, spokes, duration, wall, rss, user = sys.argv[1:]
r = json.load(open(path))
probes = r["reachability"]
passed = sum(p["pass"] for p in probes)
hub = r["routers"][0]
peers = hub["show"]["show dmvpn"].count(" UP ")
print(f"{spokes} spokes, {duration} of virtual time, with IKE (group 2), one core, release:")
print(f"  wall {wall}, user {user} s, max RSS {int(rss) / 1024:.0f} MiB")
print(f"  converged at {r['converged_at']} s of virtual time; hub shows {peers} peers UP;"
      f" {r['packets']} NBMA packets; reachability {passed}/{len(probes)}"
      f"{' (sampled)' if r['matrix_sampled'] else ''}; {len(r['timeline'])} timeline events;"
      f" {len(r['findings'])} finding(s)")
if r["converged_at"] is None or peers != int(spokes) or passed != len(probes):
    sys.exit("simulate_bench.sh: the cloud did not converge")
PY
