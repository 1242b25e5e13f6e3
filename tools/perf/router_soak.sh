#!/usr/bin/env bash
# Soak of the reference router (dmvpn-router): the router lab (tools/lab/router_lab.sh --keep, every
# check of it first) run for a while with loss on the NBMA network, traffic throughout and hostile
# input, sampling each router's memory and file descriptors.
#
#   sudo tools/perf/router_soak.sh [--minutes N] [--loss PCT] [--sample S] [--keep] [--out DIR]
#
# During the soak:
#   - nftables in the NBMA namespace drops PCT% (default 20) of the frames the bridge forwards
#     between the routers (`numgen random`): every NBMA hop, so spoke1 -> hub -> spoke2 loses
#     1 - (1 - PCT)^2 (36% at 20) and IKE, NHRP and EIGRP lose their share too;
#   - spoke1's LAN host pings spoke2's (one echo every 2 s) and runs iperf3 TCP at 1 Mbit/s to it
#     (60 s runs back to back);
#   - every S seconds (default 15): each router's VmRSS, open fds, threads and `show counters`
#     (tools/perf/router_perf_report.py sample), and a round of hostile packets from an extra namespace
#     on the bridge (tools/perf/router_hostile.py: garbage GRE, clear GRE carrying NHRP or EIGRP, ESP
#     with unknown SPIs, forged ICVs, from the wrong peer, ESP spoke1 sent the hub just before, replayed,
#     garbage ISAKMP, Main Mode first messages with fresh cookies), none of it subject to the loss;
#   - a fourth router in that namespace keys with the hub with the wrong pre-shared key
#     (every 15 s, its RECONNECT).
# Passes (exit 0) iff:
#   1. the three routers are the same processes at the end (none died or restarted);
#   2. with the loss removed at the end, the ping comes back within 60 s and a 5 s iperf3 TCP run
#      moves data;
#   3. after warm-up (the first quarter of the samples, at least 2), no router's VmRSS exceeds its
#      warm-up value by more than 4 MiB, and its open fds by more than 4;
#   4. each router's drop counters grew by at least the hostile packets of each kind it was sent
#      (clear GRE: CleartextGre + MalformedGre; ESP: NoInboundSa + EspWrongPeer + EspIntegrity +
#      EspReplay), the hub never has an SA with the wrong-key router, and the hub logged its
#      failures.
#
# --minutes N   soak length (default 10; the lab's bring-up and the checks come on top)
# --loss PCT    NBMA loss in percent (default 20)
# --sample S    sampling and hostile round period in seconds (default 15)
# --keep        leave the lab running (clean up with `tools/lab/router_lab.sh --clean`)
# --out DIR     results (default /tmp/lab-out/router-soak): soak.txt (the verdict), samples.jsonl,
#               hostile.jsonl, ping.log, iperf3-*.json, lab/ (the lab's own results and router logs)
#
# Namespaces lab-rt-* only (the extra one: lab-rt-evil, 192.0.2.66 and .67 on the NBMA bridge);
# only processes started here are killed, by PID.
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
minutes=10 loss=20 period=15 keep=false
out=/tmp/lab-out/router-soak
while (($#)); do
    case "$1" in
        --minutes) minutes="${2:?--minutes needs a number}"; shift 2 ;;
        --loss) loss="${2:?--loss needs a percentage}"; shift 2 ;;
        --sample) period="${2:?--sample needs seconds}"; shift 2 ;;
        --keep) keep=true; shift ;;
        --out) out="${2:?--out needs a directory}"; shift 2 ;;
        -h|--help) sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
        *) echo "router_soak.sh: unknown argument $1" >&2; exit 2 ;;
    esac
done
[[ "$(id -u)" == 0 ]] || { echo "router_soak.sh: must run as root" >&2; exit 2; }
[[ "$minutes" =~ ^[0-9]+$ ]] && ((minutes >= 1 && minutes <= 1440)) || { echo "router_soak.sh: --minutes 1..1440" >&2; exit 2; }
[[ "$loss" =~ ^[0-9]+$ ]] && ((loss <= 90)) || { echo "router_soak.sh: --loss 0..90" >&2; exit 2; }
[[ "$period" =~ ^[0-9]+$ ]] && ((period >= 2)) || { echo "router_soak.sh: --sample 2 or more seconds" >&2; exit 2; }

# shellcheck source=tools/lab/router_lab_env.sh
source "$root/tools/lab/router_lab_env.sh"
lab_install iperf3 iperf3
lab_install nft nftables
python3 -c 'import scapy' 2>/dev/null || { echo "router_soak.sh: scapy missing (tools/setup.sh installs it)" >&2; exit 2; }

rm -rf "$out"
mkdir -p "$out"
started=$SECONDS
say() { printf '[%4ds] %s\n' $((SECONDS - started)) "$*" | tee -a "$out/soak.txt"; }
failures=()
fail() { say "FAIL: $*"; failures+=("$*"); }

mine=() # PIDs started here (killed at the end, by PID)
cleanup() {
    local pid
    for pid in "${mine[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
    sleep 1
    for pid in "${mine[@]}"; do kill -KILL "$pid" 2>/dev/null || true; done
    $keep || lab_stop
}
trap cleanup EXIT

say "lab: tools/lab/router_lab.sh --keep"
lab_start "$out/lab" || { tail -3 "$out/lab/summary.txt" >&2; say "FAIL: the lab did not come up"; exit 1; }
lab_pids || { say "FAIL: routers not running after the lab"; exit 1; }
start_pids=("${LAB_PIDS[@]}")
say "routers: hub ${LAB_PIDS[0]}, spoke1 ${LAB_PIDS[1]}, spoke2 ${LAB_PIDS[2]}; ${minutes} min, ${loss}% loss per NBMA hop, sample every ${period} s"

# --- the attacker's namespace on the NBMA bridge, and a router with the wrong key in it ---
evil=lab-rt-evil
ip netns add "$evil"
ip -n "$evil" link set lo up
ip link add eth0 netns "$evil" type veth peer name p-evil netns lab-rt-nbma
ip -n lab-rt-nbma link set p-evil master br0 up
ip -n "$evil" addr add 192.0.2.66/24 dev eth0
ip -n "$evil" addr add 192.0.2.67/24 dev eth0
ip -n "$evil" link set eth0 up
sed -e 's/^hostname .*/hostname spoke3/' -e 's/lab-psk-secret/wrong-psk-secret/' \
    -e 's/192\.0\.2\.12 255/192.0.2.66 255/' -e 's/10\.99\.200\.12 /10.99.200.66 /' \
    -e 's/eigrp router-id 10\.99\.200\.12/eigrp router-id 10.99.200.66/' \
    "$root/testdata/router/spoke2.cfg" >"$out/spoke3-wrong-psk.cfg"
"$LAB_BIN" check "$out/spoke3-wrong-psk.cfg" >"$out/check-spoke3.txt" 2>&1 || { say "FAIL: spoke3 config: $(cat "$out/check-spoke3.txt")"; exit 1; }
mkdir -p "$out/evil-ctl"
ip netns exec "$evil" "$LAB_BIN" run "$out/spoke3-wrong-psk.cfg" --run-dir "$out/evil-ctl" -v \
    >"$out/router-spoke3-wrong-psk.log" 2>&1 &
mine+=($!)

# --- loss on the bridge (not for the attacker's port: its packets are all counted) ---
ip netns exec lab-rt-nbma nft -f - <<EOF
table bridge lab_soak_loss {
    chain forward {
        type filter hook forward priority 0; policy accept;
        iifname "p-evil" accept
        oifname "p-evil" accept
        numgen random mod 100 < $loss counter drop
    }
}
EOF
say "loss: ${loss}% of forwarded NBMA frames dropped (nft bridge table in lab-rt-nbma)"

# --- traffic throughout ---
end=$((SECONDS + minutes * 60))
ip netns exec lab-rt-h2 iperf3 -s -B 10.99.12.10 >"$out/iperf3-server.log" 2>&1 &
mine+=($!)
(
    i=0
    while ((SECONDS < end)); do
        left=$((end - SECONDS)); ((left > 60)) && left=60; ((left < 5)) && break
        timeout $((left + 30)) ip netns exec lab-rt-h1 iperf3 -c 10.99.12.10 -t "$left" -b 1M -J \
            >"$out/iperf3-soak-$i.json" 2>&1 || true
        i=$((i + 1)); sleep 1
    done
) &
mine+=($!)
(
    while ((SECONDS < end)); do
        if ip netns exec lab-rt-h1 python3 "$root/tools/lab/router_ping.py" -c 1 -W 1 10.99.12.10 >/dev/null 2>&1; then
            echo "$(date +%s) ok"
        else
            echo "$(date +%s) lost"
        fi
        sleep 2
    done >"$out/ping.log"
) &
mine+=($!)

# --- sampling and hostile rounds ---
: >"$out/samples.jsonl"
: >"$out/hostile.jsonl"
round=0
while ((SECONDS < end)); do
    lab_sample >>"$out/samples.jsonl"
    for i in 0 1 2; do
        [[ -d "/proc/${start_pids[$i]}" ]] || { fail "${LAB_NAMES[$i]} (PID ${start_pids[$i]}) is gone"; start_pids[i]=0; }
    done
    # ESP from spoke1 to the hub just now (at the hub's bridge port), to replay: fresh each
    # round, so that its SA is the current one and the hub's verdict is a replay, not an SPI
    # it no longer knows
    rm -f "$out/replay.pcap"
    timeout 3 ip netns exec lab-rt-nbma tcpdump -i p-hub -c 20 -w "$out/replay.pcap" \
        'ip proto 50 and src 192.0.2.11' >/dev/null 2>&1 || true
    replay=
    [[ -s "$out/replay.pcap" ]] && replay="$out/replay.pcap"
    timeout 60 ip netns exec "$evil" python3 "$root/tools/perf/router_hostile.py" --src 192.0.2.67 \
        --esp-sa "$out/lab/keys/esp_sa" ${replay:+--replay "$replay"} --count 10 \
        192.0.2.1 192.0.2.11 192.0.2.12 >"$out/hostile-round.json" 2>>"$out/hostile.err" ||
        say "hostile round $round: router_hostile.py failed ($(tail -1 "$out/hostile.err"))"
    # (one line per round, even an empty one: round k goes out between samples k and k+1)
    { tail -1 "$out/hostile-round.json" | grep '^{' || echo '{}'; } >>"$out/hostile.jsonl"
    round=$((round + 1))
    ((round % 4 == 0)) && say "round $round: $(tail -1 "$out/samples.jsonl" | python3 -c '
import json, sys
s = json.loads(sys.stdin.read())
print(", ".join("%s rss %s kB fds %s" % (n, r["proc"]["rss_kb"], r["proc"]["fds"]) if r["proc"] else n + " gone"
                for n, r in s["routers"].items()))')"
    sleep "$period"
done
lab_sample >>"$out/samples.jsonl"

# --- the end: loss off, recovery ---
ip netns exec lab-rt-nbma nft list table bridge lab_soak_loss >"$out/nft-loss.txt" 2>&1 || true
ip netns exec lab-rt-nbma nft delete table bridge lab_soak_loss
say "loss removed; $(grep -o 'packets [0-9]* bytes [0-9]*' "$out/nft-loss.txt" | head -1) dropped by it"
recovered=
for ((i = 0; i < 60; i++)); do
    if ip netns exec lab-rt-h1 python3 "$root/tools/lab/router_ping.py" -c 1 -W 1 10.99.12.10 >/dev/null 2>&1; then
        recovered=$i; break
    fi
done
[[ -n "$recovered" ]] && say "ok: ping spoke1 LAN -> spoke2 LAN back after about ${recovered} s" ||
    fail "no ping 60 s after the loss was removed"
sleep 2
# (a server of its own: the soak's may still be in a run the loss cut short)
ip netns exec lab-rt-h2 iperf3 -s -1 -p 5202 -B 10.99.12.10 >"$out/iperf3-server-final.log" 2>&1 &
mine+=($!)
sleep 1
timeout 40 ip netns exec lab-rt-h1 iperf3 -c 10.99.12.10 -p 5202 -t 5 -J >"$out/iperf3-final.json" 2>&1 || true
for r in hub spoke1 spoke2; do
    for what in "ip nhrp" "ip eigrp neighbors" "crypto isakmp sa" "crypto ipsec sa" "counters"; do
        printf '%s# show %s\n%s\n\n' "$r" "$what" "$(lab_show "$r" $what)"
    done
done >"$out/show-end.txt"
lab_show hub crypto ipsec sa | grep -q '192\.0\.2\.66' && fail "the hub has an IPsec SA with the wrong-key router"
wrong_psk_errors=$(grep -c '192\.0\.2\.66' "$out/lab/router-hub.log" || true)
say "hub log lines about the wrong-key router (192.0.2.66): $wrong_psk_errors ($(grep -c 'peer: 192.0.2.66, reason: AuthenticationFailed' "$out/lab/router-hub.log" || true) authentication failures)"
say "hub log: $(grep -c 'Phase1Failed { peer: 192.0.2.67' "$out/lab/router-hub.log" || true) half-open Main Modes of the flood (192.0.2.67) expired, $(grep -c '%CRYPTO-6-IKMP: isakmp:' "$out/lab/router-hub.log" || true) ISAKMP messages refused as malformed"
((wrong_psk_errors > 0)) || fail "the hub logged nothing about the wrong-key router"
lab_sample >>"$out/samples.jsonl"
for i in 0 1 2; do
    [[ -d "/proc/${start_pids[$i]}" ]] || fail "${LAB_NAMES[$i]} is not running at the end"
done
lab_pids && [[ "${LAB_PIDS[*]}" == "${start_pids[*]}" ]] || fail "the routers are not the processes that started"

# --- the verdict on memory, fds, counters, traffic ---
if ! python3 "$root/tools/perf/router_perf_report.py" soak "$out" | tee -a "$out/soak.txt"; then
    failures+=("soak report")
fi
if ((${#failures[@]})); then
    say "FAIL: ${#failures[@]} check(s): ${failures[*]}"
    exit 1
fi
say "PASS: ${minutes} min soak with ${loss}% NBMA loss and hostile input (results in $out)"
