#!/usr/bin/env bash
# Throughput of the reference router (dmvpn-router) through the hub: the router lab
# (tools/lab/router_lab.sh --keep: hub + 2 spokes in namespaces, all of it checked first), then iperf3
# from spoke 1's LAN host (10.99.11.10) to spoke 2's (10.99.12.10): spoke1 -> hub -> spoke2, all ESP
# (AES-128-CBC + HMAC-SHA1-96, transport mode, GRE inside).
#
#   sudo tools/perf/router_perf.sh [--time S] [--udp-rate RATE] [--reuse] [--keep] [--no-profile] [--out DIR]
#
# Prints, for each run (TCP, then UDP at a fixed rate):
#   - the goodput iperf3's receiver saw (Gbit/s), TCP retransmits or UDP loss;
#   - each router's CPU (% of one core: user + system time of all its threads from /proc/PID/stat);
#   - the ESP packets each router handled (its `counters`), and its CPU per packet: the hub's per
#     forwarded packet (one ESP in, one ESP out), a spoke's per ESP packet in or out;
#   - the load average of the machine before the run (the machine is shared: read it beside the figures).
# Then, with --profile (the default, if `perf record -e cpu-clock` works), a third TCP run under
# `perf record` (software clock, 1 kHz, all three routers) and each router's CPU per packet split
# into buckets (crypto, allocation, copies, channel and threads, the node's logic, the kernel's
# network stack, system call entry, scheduler/context switches). Without perf, only the counter /
# timing figures above are printed.
#
# --time S          seconds per iperf3 run (default 10)
# --udp-rate RATE   iperf3 -b for the UDP run (default 400M), datagrams of 1300 bytes (inside the 1400 MTU)
# --reuse           use a lab left running by `router_lab.sh --keep` (or an earlier --keep here)
# --keep            leave the lab running afterwards (clean up with `tools/lab/router_lab.sh --clean`)
# --no-profile      skip the perf run
# --out DIR         results (default /tmp/lab-out/router-perf): perf.txt, iperf3 JSON, lab/ (the lab's)
#
# Environment: DMVPN_ROUTER (the binary; default: built with cargo, release).
# Only the lab's namespaces (lab-rt-*) and addresses are used; only processes started here are killed.
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
secs=10 udp_rate=400M reuse=false keep=false profile=true
out=/tmp/lab-out/router-perf
while (($#)); do
    case "$1" in
        --time) secs="${2:?--time needs seconds}"; shift 2 ;;
        --udp-rate) udp_rate="${2:?--udp-rate needs a rate}"; shift 2 ;;
        --reuse) reuse=true; shift ;;
        --keep) keep=true; shift ;;
        --no-profile) profile=false; shift ;;
        --out) out="${2:?--out needs a directory}"; shift 2 ;;
        -h|--help) sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
        *) echo "router_perf.sh: unknown argument $1" >&2; exit 2 ;;
    esac
done
[[ "$(id -u)" == 0 ]] || { echo "router_perf.sh: must run as root" >&2; exit 2; }
[[ "$secs" =~ ^[0-9]+$ ]] && ((secs > 0 && secs <= 600)) || { echo "router_perf.sh: --time 1..600" >&2; exit 2; }

# shellcheck source=tools/lab/router_lab_env.sh
source "$root/tools/lab/router_lab_env.sh"
lab_install iperf3 iperf3
mkdir -p "$out"
report="$out/perf.txt"
: >"$report"
say() { echo "$*" | tee -a "$report"; }

if ! $reuse; then
    lab_start "$out/lab" || { tail -5 "$out/lab/summary.txt" >&2; exit 1; }
fi
$keep || trap lab_stop EXIT
lab_pids || { echo "router_perf.sh: the lab's routers are not running (run without --reuse)" >&2; exit 1; }

server_pid=
stop_server() { [[ -n "$server_pid" ]] && kill "$server_pid" 2>/dev/null; wait "$server_pid" 2>/dev/null || true; server_pid=; }
ip netns exec lab-rt-h2 iperf3 -s -B 10.99.12.10 >"$out/iperf3-server.log" 2>&1 &
server_pid=$!
trap 'stop_server; $keep || lab_stop' EXIT
sleep 1

# measure <label> <iperf3 client args...>: one bounded iperf3 run with CPU and counters around it.
measure() {
    local label=$1; shift
    local before after
    before=$(lab_sample)
    local load
    load=$(cut -d' ' -f1-3 /proc/loadavg)
    timeout $((secs + 20)) ip netns exec lab-rt-h1 iperf3 -c 10.99.12.10 -t "$secs" -J "$@" \
        >"$out/iperf3-$label.json" 2>"$out/iperf3-$label.err" || true
    after=$(lab_sample)
    python3 "$root/tools/perf/router_perf_report.py" run "$label" "$out/iperf3-$label.json" "$before" "$after" "$load" |
        tee -a "$report"
}

say "router_perf: $(nproc) cores, $(uname -r), ${secs} s per run, binary $LAB_BIN"
measure tcp
measure udp -u -b "$udp_rate" -l 1300

if $profile && perf record -e cpu-clock -o /dev/null -- true >/dev/null 2>&1; then
    before=$(lab_sample)
    load=$(cut -d' ' -f1-3 /proc/loadavg)
    perf record -q -e cpu-clock -F 1000 -p "$(IFS=,; echo "${LAB_PIDS[*]}")" -o "$out/perf.data" -- \
        timeout $((secs + 20)) ip netns exec lab-rt-h1 iperf3 -c 10.99.12.10 -t "$secs" -J \
        >"$out/iperf3-profile.json" 2>"$out/perf-record.err" || true
    after=$(lab_sample)
    perf script -i "$out/perf.data" -F pid,ip,sym,dso 2>/dev/null >"$out/perf-script.txt" || true
    python3 "$root/tools/perf/router_perf_report.py" profile "$out/iperf3-profile.json" "$before" "$after" "$load" \
        "$out/perf-script.txt" | tee -a "$report"
else
    say "profile: perf record -e cpu-clock unavailable (or --no-profile): counters and timing only"
fi
say "results in $out"
