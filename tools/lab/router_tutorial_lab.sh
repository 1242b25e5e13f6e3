#!/usr/bin/env bash
# The DMVPN Phase 1 tutorial's own IOS configurations, run unchanged by the reference router
# (dmvpn-router) in network namespaces: testdata/router/tutorial/{R1,R2,R3}.cfg as pasted from IOS
# (show running-config, typed commands, abbreviations), each router's IOS interfaces put onto the
# namespace's Linux devices with `dmvpn-router run --map FastEthernet0/0=eth0 --map Loopback0=lo`.
#
#   sudo tools/lab/router_tutorial_lab.sh [--keep] [--clean] [--out DIR] [--negative]
#
# The underlay is the tutorial's: an ISP namespace routing 100.1.1.0/24 (hub R1, 100.1.1.1),
# 100.1.2.0/24 (R2) and 100.1.3.0/24 (R3), each router's default route to 100.1.x.254 being its
# configuration's `ip route 0.0.0.0 0.0.0.0`. The lab creates the links and nothing else: the
# routers set their interfaces' addresses (FastEthernet0/0, Loopback0 on lo), bring them up and
# install the underlay default route from the configuration, as IOS does.
#
# Proves, and fails (exit 1) on the first thing that does not hold:
#   1. `dmvpn-router check R1.cfg R2.cfg R3.cfg` passes, each alone and the cloud together;
#   2. IKEv1 Main + Quick Mode between each spoke and the hub, ESP SAs installed;
#   3. both spokes register with the hub (NHRP), EIGRP hub <-> each spoke;
#   4. R2 learns R3's loopback 3.3.3.3/32 and R3 learns 2.2.2.2/32 through the hub (split horizon off);
#   5. R2's loopback 2.2.2.2 pings R3's 3.3.3.3 and the hub's 1.1.1.1;
#   6. a capture on the hub's FastEthernet0/0 (eth0) has no GRE or ICMP echo in the clear, and the
#      routers' key log opens its ESP (`dmvpn decode`, when built, into decoded.jsonl; that the ping
#      goes R2 -> hub -> R3 inside it is checked by crates/dmvpn-router/tests/lab.rs).
# With --negative, then: R3 is restarted on broken/nhrp-auth-mismatch.R3.cfg, whose cloud check
# gives nhrp-auth-mismatch, and the hub must refuse its registration as IOS would (R2 keeps working).
#
# --keep     leave the namespaces and routers running (clean up with --clean)
# --out DIR  results (default /tmp/lab-out/tutorial): summary.txt, check-*.txt, show-*.txt, router
#            logs, hub-nbma.pcap, keys/
#
# Namespaces are tut-*; only processes this script started are killed (by PID); the tutorial's
# addresses exist only inside these namespaces. Environment: DMVPN_ROUTER, DMVPN as router_lab.sh.
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
keep=false clean_only=false negative=false
out=/tmp/lab-out/tutorial
while (($#)); do
    case "$1" in
        --keep) keep=true; shift ;;
        --clean) clean_only=true; shift ;;
        --negative) negative=true; shift ;;
        --out) out="${2:?--out needs a directory}"; shift 2 ;;
        -h|--help) sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
        *) echo "router_tutorial_lab.sh: unknown argument $1" >&2; exit 2 ;;
    esac
done
[[ "$(id -u)" == 0 ]] || { echo "router_tutorial_lab.sh: must run as root (namespaces, TUN, raw sockets)" >&2; exit 2; }

prefix=tut
run=/tmp/lab-run/tutorial
pids="$run/pids"
cfg="$root/testdata/router/tutorial"

# shellcheck source=tools/lab/lab_lib.sh
. "$root/tools/lab/lab_lib.sh"
cleanup() {
    lab_kill_tracked "$pids" 1
    lab_del_netns "$prefix"
}
cleanup
$clean_only && { echo "router_tutorial_lab.sh: cleaned up"; exit 0; }
$keep || trap cleanup EXIT
rm -rf "$run" "$out"
mkdir -p "$run/ctl" "$out/keys"
: >"$pids"

started=$SECONDS
say() { printf '[%3ds] %s\n' $((SECONDS - started)) "$*" | tee -a "$out/summary.txt"; }
fail() { say "FAIL: $*"; exit 1; }
track() { echo "$1" >>"$pids"; }

lab_binaries "$root"

# --- 1. the configurations check, alone and as a cloud ---
for r in R1 R2 R3; do
    "$bin" check "$cfg/$r.cfg" >"$out/check-$r.txt" 2>&1 || fail "$r.cfg does not check: $(cat "$out/check-$r.txt")"
done
"$bin" check "$cfg/R1.cfg" "$cfg/R2.cfg" "$cfg/R3.cfg" >"$out/check-cloud.txt" 2>&1 ||
    fail "the tutorial cloud does not check: $(cat "$out/check-cloud.txt")"
grep -q "cloud of 3 routers: ok" "$out/check-cloud.txt" || fail "cloud check: $(tail -1 "$out/check-cloud.txt")"
say "ok: R1, R2, R3 check alone and as a cloud"

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

# --- the routers, their configurations unchanged ---
ip netns exec "$(ns r1)" ip link set eth0 up
ip netns exec "$(ns r1)" tcpdump -i eth0 -U -n -w "$out/hub-nbma.pcap" 'not arp' >"$out/tcpdump.log" 2>&1 &
track $!
sleep 1
start_router() { # start_router <ns> <config file>
    ip netns exec "$(ns "$1")" "$bin" run "$2" --map FastEthernet0/0=eth0 --map Loopback0=lo \
        --run-dir "$run/ctl" --key-log "$out/keys" -v >>"$out/router-$1.log" 2>&1 &
    track $!
    eval "pid_$1=$!"
}
start_router r1 "$cfg/R1.cfg"
start_router r2 "$cfg/R2.cfg"
start_router r3 "$cfg/R3.cfg"
show() { "$bin" show --run-dir "$run/ctl" --name "$1" "${@:2}" 2>&1; }
wait_for() { # wait_for <seconds> <what> <command...>
    local t=$1 what=$2; shift 2
    local i
    for ((i = 0; i < t * 4; i++)); do
        if "$@" >/dev/null 2>&1; then say "ok: $what"; return 0; fi
        sleep 0.25
    done
    fail "$what (after ${t}s)"
}
registered() { [[ "$(show R1 ip nhrp | grep -c 'Type: dynamic')" == "$1" ]]; }
keyed() { [[ "$(show "$1" crypto ipsec sa | grep -c 'current_peer')" -ge "${2:-1}" ]]; }
adjacent() { [[ "$(show "$1" ip eigrp neighbors | grep -cE '^[0-9]+ +172\.16\.1\.')" -ge "$2" ]]; }
learnt() { show "$1" ip route | grep -q "$2"; }
# A ping from a loopback: ICMP echo over a raw socket bound to the source (no iputils here).
ping_from() { # ping_from <ns> <source> <destination> [count]
    ip netns exec "$(ns "$1")" python3 - "$2" "$3" "${4:-1}" <<'PY'
import os, select, socket, struct, sys, time
src, dst, count = sys.argv[1], sys.argv[2], int(sys.argv[3])
def csum(b):
    b += b"\0" * (len(b) % 2)
    s = sum(struct.unpack(f"!{len(b)//2}H", b)); s = (s >> 16) + (s & 0xFFFF); s += s >> 16
    return ~s & 0xFFFF
s = socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_ICMP)
s.bind((src, 0))
ident, got = os.getpid() & 0xFFFF, 0
for seq in range(1, count + 1):
    body = b"tutorial" * 7
    h = struct.pack("!BBHHH", 8, 0, 0, ident, seq)
    s.sendto(struct.pack("!BBHHH", 8, 0, csum(h + body), ident, seq) + body, (dst, 0))
    end = time.time() + 1
    while time.time() < end:
        r, _, _ = select.select([s], [], [], end - time.time())
        if not r:
            break
        pkt, addr = s.recvfrom(2048)
        ihl = (pkt[0] & 15) * 4
        t, _, _, i, q = struct.unpack("!BBHHH", pkt[ihl:ihl + 8])
        if t == 0 and i == ident and q == seq and addr[0] == dst:
            got += 1
            break
    time.sleep(0.2)
print(f"{count} packets transmitted, {got} received")
sys.exit(0 if got else 1)
PY
}

wait_for 40 "R2 has ESP SAs with the hub" keyed R2
wait_for 40 "R3 has ESP SAs with the hub" keyed R3
wait_for 30 "hub R1 has ESP SAs with both spokes" keyed R1 2
for r in r1 r2 r3; do # root only to open the devices (crates/dmvpn-router/src/io/privilege.rs)
    pid="pid_$r"
    line=$(lab_unprivileged "${!pid}") || fail "$r still runs privileged: $line"
    say "ok: $r runs unprivileged: $line"
done
wait_for 30 "both spokes registered with hub R1 (NHRP)" registered 2
wait_for 30 "EIGRP: R1 has 2 neighbours" adjacent R1 2
wait_for 30 "EIGRP: R2 adjacent to the hub" adjacent R2 1
wait_for 30 "EIGRP: R3 adjacent to the hub" adjacent R3 1
wait_for 30 "R2 learnt R3's loopback 3.3.3.3/32 (through the hub)" learnt R2 '3\.3\.3\.3/32'
wait_for 30 "R3 learnt R2's loopback 2.2.2.2/32 (through the hub)" learnt R3 '2\.2\.2\.2/32'
wait_for 30 "R2's loopback 2.2.2.2 pings R3's loopback 3.3.3.3" ping_from r2 2.2.2.2 3.3.3.3
ping_from r2 2.2.2.2 3.3.3.3 5 >"$out/ping-r2-r3.txt" || fail "ping (5) 2.2.2.2 -> 3.3.3.3"
say "ping 2.2.2.2 -> 3.3.3.3: $(cat "$out/ping-r2-r3.txt")"
ping_from r2 2.2.2.2 1.1.1.1 3 >"$out/ping-r2-r1.txt" || fail "ping 2.2.2.2 -> 1.1.1.1 (the hub's loopback)"
say "ping 2.2.2.2 -> 1.1.1.1: $(cat "$out/ping-r2-r1.txt")"
for r in R1 R2 R3; do
    for what in "ip nhrp" "ip nhrp nhs" "ip eigrp neighbors" "ip route" "crypto isakmp sa" "crypto ipsec sa" "counters"; do
        printf '%s# show %s\n%s\n\n' "$r" "$what" "$(show "$r" $what)"
    done
done >"$out/show.txt"
# What the maps did: the addresses and the default route are the configuration's.
ip -n "$(ns r2)" -4 -o addr show dev eth0 | grep -q "100.1.2.2/24" || fail "R2's eth0 has no 100.1.2.2/24"
ip -n "$(ns r2)" route show default | grep -q "via 100.1.2.254 dev eth0" || fail "R2 has no default route to the ISP"
say "ok: the maps set R2's FastEthernet0/0 (eth0) 100.1.2.2/24, Loopback0 (lo) 2.2.2.2 and the default route"

# --- the capture ---
sleep 1
kill -TERM "$(head -1 "$pids")" 2>/dev/null || true # tcpdump: flush
sleep 1
clear=$(tshark -r "$out/hub-nbma.pcap" -Y 'gre || icmp.type == 0 || icmp.type == 8' 2>/dev/null | wc -l)
esp=$(tshark -r "$out/hub-nbma.pcap" -Y 'esp' 2>/dev/null | wc -l)
say "capture at the hub's FastEthernet0/0: $esp ESP, $clear GRE/ICMP echo in the clear"
((clear == 0)) || fail "GRE or ICMP echo in the clear on the NBMA side"
((esp > 0)) || fail "no ESP in the capture"
if [[ -x "$decoder" ]]; then
    "$decoder" decode --format json --keys "$out/keys/esp_sa" --keys "$out/keys/ikev1_decryption_table" \
        "$out/hub-nbma.pcap" >"$out/decoded.jsonl" 2>"$out/decoded.err" || fail "dmvpn decode: $(cat "$out/decoded.err")"
    # That the ping goes R2 -> hub -> R3 inside ESP in it is checked by
    # crates/dmvpn-router/tests/lab.rs (cargo test -p dmvpn-router --test lab), with display filters.
    say "dmvpn decode: $(wc -l <"$out/decoded.jsonl") frames decoded with the key log (decoded.jsonl)"
else
    say "dmvpn decoder not built ($decoder): decoded.jsonl skipped"
fi

# --- a broken variant behaves as its finding says ---
if $negative; then
    bad="$cfg/broken/nhrp-auth-mismatch.R3.cfg"
    "$bin" check "$cfg/R1.cfg" "$cfg/R2.cfg" "$bad" >"$out/check-negative.txt" 2>&1 &&
        fail "the cloud with $bad checks ok"
    grep -q "error\[nhrp-auth-mismatch\]" "$out/check-negative.txt" || fail "no nhrp-auth-mismatch finding"
    # A fresh start of all three (the hub's NHRP cache would hold the good R3 for its hold
    # time, as IOS's would), R3 on the broken configuration.
    kill -TERM "$pid_r1" "$pid_r2" "$pid_r3"
    wait "$pid_r1" "$pid_r2" "$pid_r3" 2>/dev/null || true
    start_router r1 "$cfg/R1.cfg"
    start_router r2 "$cfg/R2.cfg"
    start_router r3 "$bad"
    wait_for 40 "R3 (wrong NHRP authentication) has ESP SAs with the hub" keyed R3
    wait_for 40 "R2 registered with the hub" registered 1
    sleep 12 # R3 keeps retrying its registration meanwhile
    registered 1 || fail "hub R1 took R3's registration with the wrong NHRP authentication"
    show R1 ip nhrp | grep -q '172\.16\.1\.3' && fail "hub R1 has R3 (172.16.1.3) in its NHRP cache"
    ping_from r2 2.2.2.2 1.1.1.1 >/dev/null || fail "R2 stopped working"
    { show R1 counters; show R3 ip nhrp nhs; } >"$out/negative.txt"
    grep -q "dropped NhrpRefused" "$out/negative.txt" || fail "the hub did not refuse R3's registrations"
    grep -qE '^172\.16\.1\.1 +E ' "$out/negative.txt" || fail "R3's NHS is not left expecting replies"
    say "ok: with nhrp-auth-mismatch.R3.cfg the hub refuses R3's registration (R2 keeps working)"
fi
say "PASS: the DMVPN Phase 1 tutorial's IOS configurations, unchanged (results in $out)"
