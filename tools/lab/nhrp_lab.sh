#!/bin/bash
# nhrp_lab.sh -- record the NHRP Registration Requests real FRR nhrpd sends, for testdata/nhrp/.
#
# Needs root, iproute2, tcpdump, python3 and FRR (Debian: `apt-get install -y frr`; zebra and nhrpd
# in /usr/lib/frr). The kernel needs no GRE device: nhrpd runs on a TUN named gre1 and
# tools/lab/nhrp_tun_shim.py carries its NHRP out as GRE (protocol 0x2001) to the NHS.
#
# Topology (network namespaces lab-nhl-*, removed on exit): hub eth0 192.0.2.1/24 <-veth->
# s1 eth0 192.0.2.11/24; s1 runs zebra + nhrpd with gre1 10.99.200.11/32, NHS 10.99.200.1 at NBMA
# 192.0.2.1. nhrpd cannot receive on a TUN, so it never completes: it retries after 1, 2, 4 s...
# Every request is captured on the hub's eth0.
#
#   tools/lab/nhrp_lab.sh [OUTPUT.pcap]     (default: testdata/nhrp/nhrpd-registration.pcap)
#
# Exit 0 iff at least 3 Registration Requests were captured and tshark (if installed) sees them.
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/../.." && pwd)
OUT_PCAP=$(realpath -m "${1:-$ROOT/testdata/nhrp/nhrpd-registration.pcap}")
FRR=${FRR_DIR:-/usr/lib/frr}
RUN=/tmp/nhrp-lab-run
HUB=lab-nhl-hub
S1=lab-nhl-s1
WAIT=${NHRP_LAB_WAIT:-9}

[ "$(id -u)" = 0 ] || { echo "must run as root" >&2; exit 1; }
for bin in "$FRR/zebra" "$FRR/nhrpd"; do
    [ -x "$bin" ] || { echo "missing $bin: apt-get install -y frr" >&2; exit 1; }
done

PIDS=()
cleanup() {
    local p
    for p in "${PIDS[@]}"; do kill -TERM "$p" 2>/dev/null || true; done
    sleep 1
    for p in "${PIDS[@]}"; do kill -KILL "$p" 2>/dev/null || true; done
    for f in "$RUN"/frr/*.pid; do [ -f "$f" ] && kill -KILL "$(cat "$f")" 2>/dev/null || true; done
    for ns in $HUB $S1; do
        if ip netns list | grep -qw "$ns"; then
            for p in $(ip netns pids "$ns"); do kill -KILL "$p" 2>/dev/null || true; done
            ip netns del "$ns"
        fi
    done
}
trap cleanup EXIT
cleanup

wait_for() { # wait_for <seconds> <cmd...>
    local t=$1 i; shift
    for ((i = 0; i < t * 4; i++)); do "$@" >/dev/null 2>&1 && return 0; sleep 0.25; done
    echo "timeout waiting for: $*" >&2
    return 1
}

rm -rf "$RUN"; mkdir -p "$RUN/frr"
for ns in $HUB $S1; do
    ip netns add "$ns"
    ip -n "$ns" link set lo up
    ip netns exec "$ns" sysctl -qw net.ipv6.conf.all.disable_ipv6=1 net.ipv6.conf.default.disable_ipv6=1
done
ip link add eth0 netns $HUB type veth peer name eth0 netns $S1
ip -n $HUB addr add 192.0.2.1/24 dev eth0
ip -n $S1 addr add 192.0.2.11/24 dev eth0
ip -n $HUB link set eth0 up
ip -n $S1 link set eth0 up

mkdir -p "$(dirname "$OUT_PCAP")"
rm -f "$OUT_PCAP"
ip netns exec $HUB tcpdump -i eth0 -U -s 0 -w "$OUT_PCAP" proto gre >"$RUN/tcpdump.log" 2>&1 &
PIDS+=($!)
wait_for 10 grep -q "listening on" "$RUN/tcpdump.log"

ip netns exec $S1 python3 "$ROOT/tools/lab/nhrp_tun_shim.py" --ifname gre1 --addr 10.99.200.11/32 \
    --nhs 192.0.2.1 --log "$RUN/shim.log" >"$RUN/shim.out" 2>&1 &
PIDS+=($!)
wait_for 10 ip -n $S1 link show gre1
ip -n $S1 route add 10.99.200.0/24 dev gre1

d=$RUN/frr
printf 'hostname s1\n' >"$d/zebra.conf"
printf 'hostname s1\n' >"$d/nhrpd.conf"
chown -R frr:frr "$d"
ip netns exec $S1 "$FRR/zebra" -f "$d/zebra.conf" -i "$d/zebra.pid" -z "$d/zserv.api" --vty_socket "$d" -P 0 \
    >"$d/zebra.out" 2>&1 &
PIDS+=($!)
wait_for 10 test -S "$d/zebra.vty"
ip netns exec $S1 "$FRR/nhrpd" -f "$d/nhrpd.conf" -i "$d/nhrpd.pid" -z "$d/zserv.api" --vty_socket "$d" -P 0 \
    --log "file:$d/nhrpd.log" --log-level debug >"$d/nhrpd.out" 2>&1 &
PIDS+=($!)
wait_for 10 test -S "$d/nhrpd.vty"
vty() { local a=() c; for c in "$@"; do a+=(-c "$c"); done; ip netns exec $S1 vtysh --vty_socket "$d" "${a[@]}"; }
wait_for 10 sh -c "ip netns exec $S1 vtysh --vty_socket $d -c 'show interface gre1' | grep -q 'is up'"

# Interface lines are applied live: nhrpd.conf is read before zebra has told nhrpd about gre1.
vty "configure terminal" "interface gre1" "ip nhrp network-id 1" "ip nhrp holdtime 600" \
    "ip nhrp nhs 10.99.200.1 nbma 192.0.2.1" "tunnel source eth0" "end"
sleep "$WAIT"
vty "show ip nhrp nhs" "show running-config" >"$RUN/show.txt" 2>&1 || true
version=$(ip netns exec $S1 "$FRR/nhrpd" --version 2>/dev/null | head -1 || true)
cleanup
trap - EXIT

echo "nhrpd: ${version:-unknown version}; capture: $OUT_PCAP"
if command -v tshark >/dev/null; then
    n=$(tshark -r "$OUT_PCAP" -Y "nhrp.hdr.op.type == 3" 2>/dev/null | wc -l)
else
    n=$(tcpdump -r "$OUT_PCAP" 2>/dev/null | wc -l)
fi
echo "registration requests captured: $n"
[ "$n" -ge 3 ]
