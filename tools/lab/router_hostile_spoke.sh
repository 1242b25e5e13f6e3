#!/usr/bin/env bash
# Spokes with the pre-shared key that misbehave, on real sockets: the router lab
# (tools/lab/router_lab.sh --keep: hub, spoke1, spoke2, each check of it first; the hub with
# `maximum-prefix 500 80` in `router eigrp`) plus two hostile routers on the NBMA bridge, both
# keyed with the lab's pre-shared key and NHRP password:
#   - spoke3 (192.0.2.66, tunnel 10.99.200.66) announces ROUTES (default 2000) loopback /24s over
#     EIGRP, and is restarted every 10 s (SIGKILL, then a fresh start): Main Mode again, its
#     registration again, its routes withdrawn (hold time) and flooded again;
#   - a thief (192.0.2.67) registers spoke1's tunnel address 10.99.200.11 with the unique flag;
#   - 64 clients open the hub's control socket at once and say nothing.
# Meanwhile spoke1's LAN host pings spoke2's every second, and the hub's VmRSS is sampled.
#
#   sudo tools/lab/router_hostile_spoke.sh [--seconds N] [--routes N] [--keep] [--out DIR]
#
# Passes (exit 0) iff: at least 90 % of the pings during the attack and every one of 5 after it
# come back; the hub keeps spoke1's mapping (10.99.200.11 -> 192.0.2.11) and logged the thief's
# refusal (code 14); `show counters` on the hub lists refused EIGRP routes and refused control
# clients; the hub learnt at most 500 routes from spoke3; its VmRSS grew by less than
# 16 MiB. Results in DIR (default /tmp/lab-out/router-hostile-spoke): summary.txt (the figures),
# ping.log, rss.txt, show-*.txt, router-*.log, lab/ (the lab's own results).
#
# Namespaces lab-rt-* only (the extra ones lab-rt-evil and lab-rt-thief, 192.0.2.66 and .67 on the
# NBMA bridge); only processes started here are killed, by PID.
set -euo pipefail
root="$(cd "$(dirname "$0")/../.." && pwd)"
out=/tmp/lab-out/router-hostile-spoke seconds=60 routes=2000 keep=false
while (($#)); do
    case $1 in
    --out) out=$2; shift 2 ;;
    --seconds) seconds=$2; shift 2 ;;
    --routes) routes=$2; shift 2 ;;
    --keep) keep=true; shift ;;
    -h | --help) sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
    *) echo "unknown option $1" >&2; exit 2 ;;
    esac
done
[[ "$(id -u)" == 0 ]] || { echo "router_hostile_spoke.sh: must run as root" >&2; exit 2; }
((routes >= 1 && routes <= 60000)) || { echo "--routes: 1 to 60000" >&2; exit 2; }
rm -rf "$out"; mkdir -p "$out"
export LAB_HUB_EIGRP_EXTRA="maximum-prefix 500 80"
# shellcheck source=tools/lab/router_lab_env.sh
. "$root/tools/lab/router_lab_env.sh"
say() { echo "[$(printf '%3d' "$SECONDS")s] $*" | tee -a "$out/summary.txt"; }
mine=()
cleanup() {
    for pid in "${mine[@]}"; do kill -KILL "$pid" 2>/dev/null || true; done
    ip netns del lab-rt-evil 2>/dev/null || true
    ip netns del lab-rt-thief 2>/dev/null || true
    $keep || lab_stop
}
trap cleanup EXIT
failed=0
check() { if "${@:2}"; then say "ok: $1"; else say "FAIL: $1"; failed=1; fi; }

lab_start "$out/lab" || { say "FAIL: the lab did not come up ($(tail -1 "$out/lab/summary.txt"))"; exit 1; }
lab_pids || { say "FAIL: routers not running after the lab"; exit 1; }
hub=${LAB_PIDS[0]}
say "lab up: hub $hub (maximum-prefix 500 80), spoke1 ${LAB_PIDS[1]}, spoke2 ${LAB_PIDS[2]}"

# --- the hostile routers' namespaces on the NBMA bridge and their configurations ---
for n in evil:192.0.2.66 thief:192.0.2.67; do
    ns=lab-rt-${n%%:*} addr=${n#*:}
    ip netns add "$ns"
    ip -n "$ns" link set lo up
    ip link add eth0 netns "$ns" type veth peer name "p-${n%%:*}" netns lab-rt-nbma
    ip -n lab-rt-nbma link set "p-${n%%:*}" master br0 up
    ip -n "$ns" addr add "$addr/24" dev eth0
    ip -n "$ns" link set eth0 up
done
spoke2="$root/testdata/router/spoke2.cfg"
python3 - "$spoke2" "$routes" >"$out/spoke3.cfg" <<'PY'
import sys
text, routes = open(sys.argv[1]).read(), int(sys.argv[2])
text = (text.replace("hostname spoke2", "hostname spoke3")
        .replace("192.0.2.12 255", "192.0.2.66 255")
        .replace("10.99.200.12 ", "10.99.200.66 ")
        .replace("eigrp router-id 10.99.200.12", "eigrp router-id 10.99.200.66")
        .replace(" network 10.99.12.0 0.0.0.255\n", " network 10.99.12.0 0.0.0.255\n network 20.0.0.0 0.255.255.255\n"))
loops = "".join(f"interface Loopback{i}\n ip address 20.{i >> 8}.{i & 255}.1 255.255.255.0\n!\n"
                for i in range(routes))
print(text.replace("interface Tunnel0\n", loops + "interface Tunnel0\n"), end="")
PY
sed -e 's/^hostname .*/hostname thief/' -e 's/192\.0\.2\.12 255/192.0.2.67 255/' \
    -e 's/10\.99\.200\.12 /10.99.200.11 /' "$spoke2" |
    sed '/^router eigrp/,/^!/d' >"$out/thief.cfg"
"$LAB_BIN" check "$out/spoke3.cfg" >"$out/check-spoke3.txt" 2>&1 || { say "FAIL: spoke3.cfg: $(tail -3 "$out/check-spoke3.txt")"; exit 1; }
lab_check_no_eigrp "$LAB_BIN" "$out/thief.cfg" "$out/check-thief.txt" || { say "FAIL: thief.cfg: $(cat "$out/check-thief.txt")"; exit 1; }
start() { # start <ns> <name>
    ip netns exec "lab-rt-$1" "$LAB_BIN" run "$out/$2.cfg" --run-dir "$out/ctl" -v >>"$out/router-$2.log" 2>&1 &
    mine+=($!)
    eval "pid_$2=$!"
}

rss() { awk '/^VmRSS/ {print $2}' "/proc/$hub/status"; }
rss_before=$(rss)
say "hub VmRSS before: $rss_before kB"
start thief thief
start evil spoke3

# --- the attack, with pings and samples ---
(
    while :; do
        if ip netns exec lab-rt-h1 python3 "$root/tools/lab/router_ping.py" -c 1 -W 1 10.99.12.10 >/dev/null 2>&1; then
            echo "$SECONDS ok"
        else
            echo "$SECONDS lost"
        fi
        sleep 1
    done
) >"$out/ping.log" 2>&1 &
pinger=$!
mine+=($pinger)
(while :; do echo "$SECONDS $(rss)"; sleep 2; done) >"$out/rss.txt" 2>/dev/null &
sampler=$!
mine+=($sampler)
python3 - "$LAB_CTL/hub.sock" <<'PY' >"$out/control-flood.txt" 2>&1 &
import socket, sys, time
held = []
for _ in range(64):
    s = socket.socket(socket.AF_UNIX)
    try:
        s.connect(sys.argv[1])
        held.append(s)
    except OSError as e:
        print("connect:", e)
print(len(held), "control clients held")
time.sleep(8)
PY
mine+=($!)
end=$((SECONDS + seconds))
restarts=0
while ((SECONDS < end)); do
    sleep 10
    ((SECONDS < end)) || break
    kill -KILL "$pid_spoke3" 2>/dev/null || true
    start evil spoke3
    restarts=$((restarts + 1))
done
kill "$pinger" "$sampler" 2>/dev/null || true
say "attack: ${seconds} s, spoke3 announced $routes routes and was restarted $restarts times, a thief claimed 10.99.200.11"

# --- the verdict ---
sent=$(grep -c . "$out/ping.log" || true) ok=$(grep -c ' ok$' "$out/ping.log" || true)
say "pings spoke1 LAN -> spoke2 LAN during the attack: $ok of $sent"
check "at least 90 % of the pings came back" test $((ok * 10)) -ge $((sent * 9))
ip netns exec lab-rt-h1 python3 "$root/tools/lab/router_ping.py" -c 5 -i 0.2 10.99.12.10 >"$out/ping-after.txt" 2>&1 || true
check "5 of 5 pings after the attack" grep -q '5 packets transmitted, 5 received' "$out/ping-after.txt"
for what in "ip nhrp" "ip eigrp neighbors" "counters"; do
    lab_show hub $what >"$out/show-${what// /-}.txt"
done
mapped=$(grep -A3 '^10\.99\.200\.11/32 ' "$out/show-ip-nhrp.txt" | awk '/NBMA address/ {print $3}')
check "the hub keeps spoke1's mapping (10.99.200.11 -> ${mapped:-none})" test "$mapped" == 192.0.2.11
check "the hub refused the thief with code 14" grep -Eq 'Rejected \{ tunnel: 10\.99\.200\.11, from: 192\.0\.2\.67, code: [^}]*(14|AlreadyRegistered)' "$out/lab/router-hub.log"
# (with maximum-prefix 500, the process's total is reached before the per-neighbour bound)
check "show counters: EIGRP routes refused" grep -Eq 'limit EIGRP routes (per neighbour|\(maximum-prefix\))' "$out/show-counters.txt"
check "show counters: control clients refused" grep -q 'control clients refused' "$out/show-counters.txt"
learnt=$(ip -n lab-rt-hub route | grep -c '^20\.' || true)
say "hub: $learnt routes to spoke3's loopbacks in its host table (maximum-prefix 500)"
check "at most 500 of spoke3's routes" test "$learnt" -le 500
rss_max=$(awk '{print $2}' "$out/rss.txt" | sort -n | tail -1) rss_after=$(rss)
say "hub VmRSS: before $rss_before kB, peak ${rss_max:-?} kB, after $rss_after kB"
check "hub VmRSS grew by less than 16 MiB" test $((${rss_max:-$rss_after} - rss_before)) -lt 16384
grep -E 'limit|control clients' "$out/show-counters.txt" | sed 's/^/  hub: /' | tee -a "$out/summary.txt"
cp "$out/lab/router-hub.log" "$out/router-hub.log" 2>/dev/null || true
((failed == 0)) && say "PASS: hostile spokes on real sockets (results in $out)" || say "FAIL (results in $out)"
exit "$failed"
