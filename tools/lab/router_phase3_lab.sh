#!/usr/bin/env bash
# DMVPN Phase 3 lab for the reference router (dmvpn-router): the Phase 3 configurations of
# testdata/router/phase3 (hub R1 with `ip nhrp redirect`, spokes R2 and R3 with `ip nhrp shortcut`,
# `tunnel mode gre multipoint`, wildcard PSKs) in network namespaces behind an ISP namespace, as
# tools/lab/router_tutorial_lab.sh runs the Phase 1 tutorial (`--map FastEthernet0/0=eth0 --map
# Loopback0=lo`; the routers set their own addresses and default routes).
#
#   sudo tools/lab/router_phase3_lab.sh [--phase 2|3] [--holdtime S] [--out DIR] [--keep] [--clean]
#                                       [--configs DIR] [--stop-after up|shortcut]
#
# Proves, and fails (exit 1) on the first thing that does not hold:
#   1. the configurations check, alone and as a cloud;
#   2. IKE + ESP spoke <-> hub, both registrations, EIGRP hub <-> each spoke, R2 learns 3.3.3.3/32 via
#      the hub (172.16.1.1: `ip next-hop-self eigrp` stays on in Phase 3);
#   3. before any spoke-to-spoke traffic, neither spoke has an NHRP entry or an SA for the other;
#   4. R2's loopback 2.2.2.2 pings R3's 3.3.3.3 (40 echoes, 0.25 s apart): the first go through the hub,
#      whose redirect (Traffic Indication) makes R2 and R3 resolve each other through it; then R2 and
#      R3 have IKE + ESP SAs with each other, `show ip nhrp` on each lists the other (172.16.1.3 on R2,
#      172.16.1.2 on R3), `show dmvpn` its NBMA address, and the rest of the ping goes direct;
#   5. after the ping, with no traffic, the shortcut entries expire within twice the spokes' holding
#      time (`ip nhrp holdtime`, set to --holdtime on both spokes, default 20 s) plus 5 s (a refresh
#      of an entry in use can come up to 2/3 of it after the last packet);
#   6. the captures hold no GRE or ICMP echo in the clear; the ISP's capture (every packet once, as it
#      enters the ISP: nbma.pcap) shows ESP R2 -> R3 directly, and the routers' key log opens it:
#      `dmvpn decode` into decoded.jsonl, `dmvpn sessions` into sessions.txt. What the decrypted
#      capture must show (echoes R2 -> hub -> R3 first, the hub's Traffic Indication, Resolution
#      Request and Reply, ISAKMP R2 <-> R3, echoes R2 -> R3 in ESP after them) is checked by
#      crates/dmvpn-router/tests/lab_phase3.rs with `dmvpn decode -Y`; the script counts it too
#      (capture-counts.txt) and fails when there is no direct ESP.
#
# --phase 2       the Phase 2 cloud instead (testdata/router/phase2: hub `no ip next-hop-self eigrp`,
#                 multipoint spokes, no redirect, no shortcut): in step 2 each spoke learns the other's
#                 loopback via the other's tunnel address; in step 4 R2 resolves 172.16.1.3, the next
#                 hop of its route, through the hub, which forwards the request to R3, and R3 answers
#                 R2 directly (the capture counts must show the forwarded request and the direct reply,
#                 and no Traffic Indication); in step 5 R2's route still names R3, with no mapping.
#                 Results default to /tmp/lab-out/phase2.
# --holdtime S    `ip nhrp holdtime S` on the spokes (what their registrations and resolution replies
#                 carry), so that the idle shortcut expires within the run; 0 keeps the configurations'.
# --configs DIR   R1.cfg, R2.cfg, R3.cfg to run instead of testdata/router/phase3 (for example the Phase 1
#                 tutorial, testdata/router/tutorial, with --stop-after up).
# --stop-after up|shortcut   stop after step 2 (the cloud is up and 2.2.2.2 pings 3.3.3.3), or after
#                 step 4 (the shortcut carries the traffic); with --keep the routers stay up
#                 (tools/perf/phase3_throughput.sh measures in them).
# --keep          leave the namespaces and routers running (clean up with --clean).
# --out DIR       results (default /tmp/lab-out/phase3): summary.txt, check-*.txt, show-*.txt, router
#                 logs, nbma.pcap (ISP), hub-nbma.pcap (hub's eth0), keys/, decoded.jsonl, sessions.txt,
#                 capture-counts.txt.
#
# Namespaces are lab-p3-*; only processes this script started are killed (by PID); the addresses (100.1.x.0/24,
# 172.16.1.0/24, 1.1.1.1-3.3.3.3) exist only inside these namespaces. Environment: DMVPN_ROUTER, DMVPN as
# router_lab.sh. Time: about 55 s with --holdtime 20.
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
keep=false clean_only=false holdtime=20 stop_after= phase=3 cfg= out=
while (($#)); do
    case "$1" in
        --keep) keep=true; shift ;;
        --clean) clean_only=true; shift ;;
        --phase) phase="${2:?--phase needs 2 or 3}"; shift 2 ;;
        --holdtime) holdtime="${2:?--holdtime needs seconds}"; shift 2 ;;
        --configs) cfg="$(cd "${2:?--configs needs a directory}" && pwd)"; shift 2 ;;
        --stop-after) stop_after="${2:?--stop-after needs up or shortcut}"; shift 2 ;;
        --out) out="${2:?--out needs a directory}"; shift 2 ;;
        -h|--help) sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
        *) echo "router_phase3_lab.sh: unknown argument $1" >&2; exit 2 ;;
    esac
done
[[ "$phase" =~ ^[23]$ ]] || { echo "router_phase3_lab.sh: --phase 2|3" >&2; exit 2; }
cfg="${cfg:-$root/testdata/router/phase$phase}"
out="${out:-/tmp/lab-out/phase$phase}"
# The next hop of each spoke's route to the other's loopback: the hub in Phase 3, the other spoke in
# Phase 2.
if ((phase == 2)); then via_r2=172.16.1.3 via_r3=172.16.1.2; else via_r2=172.16.1.1 via_r3=172.16.1.1; fi
[[ "$stop_after" =~ ^(|up|shortcut)$ ]] || { echo "router_phase3_lab.sh: --stop-after up|shortcut" >&2; exit 2; }
[[ "$(id -u)" == 0 ]] || { echo "router_phase3_lab.sh: must run as root (namespaces, TUN, raw sockets)" >&2; exit 2; }

prefix=lab-p3
run=/tmp/lab-run/phase3
pids="$run/pids"
traffic="$root/tools/lab/phase3_traffic.py"

# shellcheck source=tools/lab/lab_lib.sh
. "$root/tools/lab/lab_lib.sh"
cleanup() {
    lab_kill_tracked "$pids" 1
    lab_del_netns "$prefix"
}
cleanup
$clean_only && { echo "router_phase3_lab.sh: cleaned up"; exit 0; }
$keep || trap cleanup EXIT
rm -rf "$run" "$out"
mkdir -p "$run/ctl" "$run/cfg" "$out/keys"
: >"$pids"

started=$SECONDS
say() { printf '[%3ds] %s\n' $((SECONDS - started)) "$*" | tee -a "$out/summary.txt"; }
fail() { say "FAIL: $*"; exit 1; }
track() { echo "$1" >>"$pids"; }

need=()
command -v tcpdump >/dev/null || need+=(tcpdump)
command -v tshark >/dev/null || need+=(tshark)
lab_apt "${need[@]}"
lab_binaries "$root"

# --- 1. the configurations: the spokes' holding time shortened, nothing else changed ---
for r in R1 R2 R3; do
    cp "$cfg/$r.cfg" "$run/cfg/$r.cfg"
    if [[ $r != R1 && $holdtime != 0 ]]; then
        sed -i -E "s/^( *)ip nhrp holdtime [0-9]+/\1ip nhrp holdtime $holdtime/" "$run/cfg/$r.cfg"
        grep -qE "^ *ip nhrp holdtime $holdtime\b" "$run/cfg/$r.cfg" || fail "$r.cfg has no ip nhrp holdtime to shorten"
    fi
    "$bin" check "$run/cfg/$r.cfg" >"$out/check-$r.txt" 2>&1 || fail "$r.cfg does not check: $(cat "$out/check-$r.txt")"
done
"$bin" check "$run/cfg/R1.cfg" "$run/cfg/R2.cfg" "$run/cfg/R3.cfg" >"$out/check-cloud.txt" 2>&1 ||
    fail "the cloud does not check: $(cat "$out/check-cloud.txt")"
say "ok: R1, R2, R3 ($cfg, spokes' holdtime ${holdtime/#0/unchanged}) check alone and as a cloud"

# --- namespaces: the ISP and three routers, links only ---
ns() { echo "$prefix-$1"; }
for n in isp r1 r2 r3; do
    ip netns add "$(ns $n)"
    ip netns exec "$(ns $n)" sysctl -qw net.ipv6.conf.all.disable_ipv6=1 net.ipv6.conf.default.disable_ipv6=1 \
        net.ipv4.ip_forward=1 net.ipv4.conf.all.rp_filter=0 net.ipv4.conf.default.rp_filter=0
done
ip -n "$(ns isp)" link set lo up
for i in 1 2 3; do
    ip link add eth0 netns "$(ns r$i)" type veth peer name "to-r$i" netns "$(ns isp)"
    ip -n "$(ns isp)" addr add "100.1.$i.254/24" dev "to-r$i"
    ip -n "$(ns isp)" link set "to-r$i" up
done

# --- captures: every packet once as it enters the ISP, and the hub's own side ---
ip netns exec "$(ns r1)" ip link set eth0 up
ip netns exec "$(ns isp)" tcpdump -i any -Q in -U -n -s 0 -w "$out/nbma.pcap" 'ip and not arp' \
    >"$out/tcpdump-isp.log" 2>&1 &
track $!
tcpdump_isp=$!
ip netns exec "$(ns r1)" tcpdump -i eth0 -U -n -s 0 -w "$out/hub-nbma.pcap" 'not arp' >"$out/tcpdump-hub.log" 2>&1 &
track $!
tcpdump_hub=$!
sleep 1

start_router() { # start_router <ns> <config file>
    ip netns exec "$(ns "$1")" "$bin" run "$2" --map FastEthernet0/0=eth0 --map Loopback0=lo \
        --run-dir "$run/ctl" --key-log "$out/keys" -v >>"$out/router-$1.log" 2>&1 &
    track $!
    eval "pid_$1=$!"
}
start_router r1 "$run/cfg/R1.cfg"
start_router r2 "$run/cfg/R2.cfg"
start_router r3 "$run/cfg/R3.cfg"
show() { "$bin" show --run-dir "$run/ctl" --name "$1" "${@:2}" 2>&1; }
peered() { show "$1" crypto ipsec sa | grep -q "current_peer $2 "; }
registered() { [[ "$(show R1 ip nhrp | grep -c 'Type: dynamic')" -ge 2 ]]; }
adjacent() { [[ "$(show "$1" ip eigrp neighbors | grep -cE '^[0-9]+ +172\.16\.1\.')" -ge "$2" ]]; }
learnt() { show "$1" ip route | grep -qE "$2"; }
# The spoke's NHRP entry for the other spoke (tunnel address $2): a line "<prefix> via $2".
resolved() { show "$1" ip nhrp | grep -qE "^[0-9./]+ via ${2//./\\.}$"; }
unresolved() { ! resolved "$@"; }
ping_from() { # ping_from <ns> <source> <destination> [count] [interval]
    ip netns exec "$(ns "$1")" python3 "$traffic" ping --src "$2" --count "${4:-1}" --interval "${5:-0.25}" "$3"
}
snapshot() { # snapshot <file>: every router's view
    local r what
    for r in R1 R2 R3; do
        for what in "ip nhrp" "dmvpn" "ip nhrp nhs" "ip route" "crypto isakmp sa" "crypto ipsec sa" "counters"; do
            printf '%s# show %s\n%s\n\n' "$r" "$what" "$(show "$r" $what)"
        done
    done >"$1"
}

# --- 2. the cloud comes up through the hub ---
lab_wait_for 40 "R2 has ESP SAs with the hub" peered R2 100.1.1.1
lab_wait_for 40 "R3 has ESP SAs with the hub" peered R3 100.1.1.1
lab_wait_for 30 "both spokes registered with hub R1 (NHRP)" registered
lab_wait_for 30 "EIGRP: R1 has 2 neighbours" adjacent R1 2
lab_wait_for 30 "R2 learnt R3's loopback 3.3.3.3/32 via $via_r2" learnt R2 "3\\.3\\.3\\.3/32.* via ${via_r2//./\\.},"
lab_wait_for 30 "R3 learnt R2's loopback 2.2.2.2/32 via $via_r3" learnt R3 "2\\.2\\.2\\.2/32.* via ${via_r3//./\\.},"
for r in r1 r2 r3; do # root only to open the devices (crates/dmvpn-router/src/io/privilege.rs)
    pid="pid_$r"
    line=$(lab_unprivileged "${!pid}") || fail "$r still runs privileged: $line"
done
say "ok: R1, R2, R3 run unprivileged"
snapshot "$out/show-up.txt"

# --- 3. nothing spoke to spoke yet ---
peered R2 100.1.3.3 && fail "R2 has an SA with R3 before any traffic between them"
resolved R2 172.16.1.3 && fail "R2 has an NHRP entry for R3 before any traffic between them"
say "ok: before traffic, no NHRP entry or SA between R2 and R3"
if [[ $stop_after == up ]]; then
    lab_wait_for 30 "R2's loopback 2.2.2.2 pings R3's loopback 3.3.3.3" ping_from r2 2.2.2.2 3.3.3.3
    say "PASS: the cloud is up (--stop-after up; results in $out)"
    exit 0
fi

# --- 4. the first packets through the hub, then the shortcut ---
t_ping=$((SECONDS - started))
ping_from r2 2.2.2.2 3.3.3.3 40 0.25 >"$out/ping-r2-r3.txt" || fail "ping 2.2.2.2 -> 3.3.3.3: $(tail -1 "$out/ping-r2-r3.txt")"
say "ping 2.2.2.2 -> 3.3.3.3 from ${t_ping}s: $(tail -1 "$out/ping-r2-r3.txt")"
lab_wait_for 5 "R2 has IKE + ESP SAs with R3 (100.1.3.3)" peered R2 100.1.3.3
lab_wait_for 5 "R3 has IKE + ESP SAs with R2 (100.1.2.2)" peered R3 100.1.2.2
lab_wait_for 5 "R2's show ip nhrp lists R3 (via 172.16.1.3)" resolved R2 172.16.1.3
lab_wait_for 5 "R3's show ip nhrp lists R2 (via 172.16.1.2)" resolved R3 172.16.1.2
show R2 dmvpn | grep -q '100\.1\.3\.3' || fail "R2's show dmvpn does not list R3's NBMA address 100.1.3.3"
show R3 dmvpn | grep -q '100\.1\.2\.2' || fail "R3's show dmvpn does not list R2's NBMA address 100.1.2.2"
say "ok: show dmvpn on R2 lists 100.1.3.3, on R3 lists 100.1.2.2"
snapshot "$out/show-shortcut.txt"
awk '/^R[0-9]# show / {on = ($0 ~ /^R2# show (ip nhrp|dmvpn|ip route)$/)} on && NF' "$out/show-shortcut.txt" |
    sed 's/^/    /' | tee -a "$out/summary.txt"
if [[ $stop_after == shortcut ]]; then
    say "PASS: the shortcut R2 <-> R3 is up (--stop-after shortcut; results in $out)"
    exit 0
fi

# --- 5. idle: the shortcut expires ---
idle=$SECONDS
# An entry used since its last refresh is resolved again with a third of its holding time H left,
# so the last refresh can come up to 2H/3 after the last packet and expire H later: 5H/3 at most.
limit=$(( 2 * (holdtime == 0 ? 300 : holdtime) + 5 ))
lab_wait_for "$limit" "R2's entry for R3 expired when idle" unresolved R2 172.16.1.3
lab_wait_for 10 "R3's entry for R2 expired when idle" unresolved R3 172.16.1.2
say "ok: the shortcut expired $((SECONDS - idle)) s after the traffic stopped (spokes' holdtime $holdtime s)"
snapshot "$out/show-expired.txt"
# As IOS removes the crypto socket with the NHRP entry, the spoke-to-spoke SAs go with it.
unpeered() { ! peered "$@"; }
lab_wait_for 10 "R2 deleted its IPsec SAs with R3 with the entry" unpeered R2 100.1.3.3
lab_wait_for 10 "R3 deleted its IPsec SAs with R2 with the entry" unpeered R3 100.1.2.2
peered R2 100.1.1.1 || fail "R2 lost its SAs with the hub"
learnt R2 "3\\.3\\.3\\.3/32.* via ${via_r2//./\\.}," || fail "R2 has no route to 3.3.3.3 via $via_r2 after the expiry"
if ((phase == 2)); then
    say "ok: R2's route to 3.3.3.3 still names R3 (172.16.1.3), with no mapping: the next packet resolves it again"
else
    say "ok: R2 routes 3.3.3.3 via the hub again"
fi

# --- 6. the captures ---
sleep 1
kill -TERM "$tcpdump_isp" "$tcpdump_hub" 2>/dev/null || true # flush
sleep 1
for f in nbma hub-nbma; do
    n=$(tshark -r "$out/$f.pcap" -Y 'gre || icmp.type == 0 || icmp.type == 8' 2>/dev/null | wc -l)
    ((n == 0)) || fail "$f.pcap: $n GRE or ICMP echo packets in the clear"
done
direct=$(tshark -r "$out/nbma.pcap" -Y 'esp && ip.src == 100.1.2.2 && ip.dst == 100.1.3.3' 2>/dev/null | wc -l)
via_hub=$(tshark -r "$out/nbma.pcap" -Y 'esp && ip.src == 100.1.2.2 && ip.dst == 100.1.1.1' 2>/dev/null | wc -l)
ike=$(tshark -r "$out/nbma.pcap" -Y 'isakmp && ip.addr == 100.1.2.2 && ip.addr == 100.1.3.3' 2>/dev/null | wc -l)
say "ISP capture (nbma.pcap, $(tshark -r "$out/nbma.pcap" 2>/dev/null | wc -l) frames): ESP R2->hub $via_hub, ISAKMP R2<->R3 $ike, ESP R2->R3 $direct; nothing in the clear"
((direct > 0)) || fail "no ESP from R2 to R3 directly on the NBMA side"
((ike > 0)) || fail "no ISAKMP between R2 and R3"
if [[ -x "$decoder" ]]; then
    keys=(--keys "$out/keys/esp_sa" --keys "$out/keys/ikev1_decryption_table")
    "$decoder" decode --format json "${keys[@]}" "$out/nbma.pcap" >"$out/decoded.jsonl" 2>"$out/decoded.err" ||
        fail "dmvpn decode: $(cat "$out/decoded.err")"
    "$decoder" sessions --color never "${keys[@]}" "$out/nbma.pcap" >"$out/sessions.txt" 2>&1 ||
        say "dmvpn sessions exited non-zero (see sessions.txt)"
    count() { "$decoder" decode --color never "${keys[@]}" -Y "$1" "$out/nbma.pcap" 2>/dev/null | grep -c . || true; }
    {
        echo "echo 2.2.2.2->3.3.3.3 in ESP R2->hub: $(count 'esp && icmp.type == 8 && ip.src == 100.1.2.2 && ip.dst == 100.1.1.1 && ip.dst == 3.3.3.3')"
        echo "echo 2.2.2.2->3.3.3.3 in ESP hub->R3: $(count 'esp && icmp.type == 8 && ip.src == 100.1.1.1 && ip.dst == 100.1.3.3 && ip.dst == 3.3.3.3')"
        echo "echo 2.2.2.2->3.3.3.3 in ESP R2->R3: $(count 'esp && icmp.type == 8 && ip.src == 100.1.2.2 && ip.dst == 100.1.3.3 && ip.dst == 3.3.3.3')"
        echo "NHRP Traffic Indication (8) from the hub: $(count 'nhrp.hdr.op.type == 8 && ip.src == 100.1.1.1')"
        echo "NHRP Resolution Request (1): $(count 'nhrp.hdr.op.type == 1')"
        echo "NHRP Resolution Reply (2): $(count 'nhrp.hdr.op.type == 2')"
        echo "NHRP Resolution Request forwarded hub->R3: $(count 'nhrp.hdr.op.type == 1 && ip.src == 100.1.1.1 && ip.dst == 100.1.3.3')"
        echo "NHRP Resolution Reply R3->R2 directly: $(count 'nhrp.hdr.op.type == 2 && ip.src == 100.1.3.3 && ip.dst == 100.1.2.2')"
        echo "NHRP Resolution Reply hub->R2: $(count 'nhrp.hdr.op.type == 2 && ip.src == 100.1.1.1 && ip.dst == 100.1.2.2')"
    } >"$out/capture-counts.txt"
    sed 's/^/    /' "$out/capture-counts.txt" | tee -a "$out/summary.txt"
    counted() { sed -n "s/^$1: //p" "$out/capture-counts.txt"; }
    (($(counted 'NHRP Resolution Request forwarded hub->R3') > 0)) || fail "the hub forwarded no Resolution Request to R3"
    (($(counted 'NHRP Resolution Reply R3->R2 directly') > 0)) || fail "R3 sent R2 no Resolution Reply directly"
    (($(counted 'NHRP Resolution Reply hub->R2') == 0)) || fail "the hub answered R2's Resolution Request itself"
    if ((phase == 2)); then
        (($(counted 'NHRP Traffic Indication (8) from the hub') == 0)) || fail "a Phase 2 hub sent a Traffic Indication"
    fi
    say "dmvpn decode: $(wc -l <"$out/decoded.jsonl") frames decoded with the key log (decoded.jsonl); dmvpn sessions: sessions.txt"
else
    say "dmvpn decoder not built ($decoder): decoded.jsonl skipped"
fi
if ((phase == 2)); then
    say "PASS: DMVPN Phase 2 R2 -> hub -> R3, next-hop resolution forwarded to R3, R3's direct reply, direct IKE + ESP R2 <-> R3, expiry (results in $out)"
else
    say "PASS: DMVPN Phase 3 R2 -> hub -> R3, redirect, resolution, direct IKE + ESP R2 <-> R3, expiry (results in $out)"
fi
