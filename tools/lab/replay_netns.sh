#!/usr/bin/env bash
# Replays a capture across a veth pair between two network namespaces of its own and records
# what arrives on the far side, for crates/dmvpn/tests/replay_netns.rs (which compares it with
# what the library says it sent) or by hand.
#
# Usage: tools/lab/replay_netns.sh DMVPN_BIN OUT.pcap CAPTURE [dmvpn replay options...]
#   e.g. tools/lab/replay_netns.sh target/debug/dmvpn /tmp/rx.pcap testdata/dmvpn/phase1.pcap \
#          --pps 500 --rewrite 192.0.2.1=198.18.0.1
#
# Namespaces dmvpn-rp-tx and dmvpn-rp-rx, veth dmvpn-rp-tx <-> dmvpn-rp-rx (MTU 9000, IPv6 off so
# the kernels send nothing of their own); leftovers of an earlier run (anything named dmvpn-rp-*)
# are removed first, and everything is removed on exit. tcpdump records incoming frames only
# (-Q in) on the rx side. Needs root, iproute2 and tcpdump; exits 77 (skipped) without them.
set -euo pipefail

if [ $# -lt 3 ]; then
    sed -n '2,14p' "$0"
    exit 2
fi
dmvpn=$(realpath "$1")
out=$2
capture=$(realpath "$3")
shift 3

if [ "$(id -u)" != 0 ]; then
    echo "replay_netns: SKIPPED: needs root (network namespaces, AF_PACKET)"
    exit 77
fi
for tool in ip tcpdump; do
    if ! command -v "$tool" >/dev/null; then
        echo "replay_netns: SKIPPED: $tool is not installed"
        exit 77
    fi
done

tx=dmvpn-rp-tx
rx=dmvpn-rp-rx
cleanup() {
    if [ -n "${dump_pid:-}" ]; then kill "$dump_pid" 2>/dev/null || true; fi
    for ns in $(ip netns list | awk '{print $1}' | grep '^dmvpn-rp-' || true); do
        ip netns del "$ns" 2>/dev/null || true
    done
    for link in $(ip -o link show | awk -F': ' '{print $2}' | cut -d@ -f1 | grep '^dmvpn-rp-' || true); do
        ip link del "$link" 2>/dev/null || true
    done
}
cleanup
trap cleanup EXIT

ip netns add "$tx"
ip netns add "$rx"
ip link add "$tx" type veth peer name "$rx"
ip link set "$tx" netns "$tx"
ip link set "$rx" netns "$rx"
for ns in "$tx" "$rx"; do
    ip netns exec "$ns" sysctl -qw net.ipv6.conf.all.disable_ipv6=1 net.ipv6.conf.default.disable_ipv6=1
    ip netns exec "$ns" sysctl -qw "net.ipv6.conf.$ns.disable_ipv6=1"
    ip -n "$ns" link set "$ns" mtu 9000 up
done

log=$(mktemp)
ip netns exec "$rx" tcpdump -i "$rx" -Q in -n -s 0 -U --immediate-mode -Z root -w "$out" 2>"$log" &
dump_pid=$!
for _ in $(seq 50); do
    grep -q "listening on" "$log" && break
    sleep 0.1
done
grep -q "listening on" "$log" || { cat "$log"; echo "replay_netns: tcpdump did not start" >&2; exit 1; }

ip netns exec "$tx" "$dmvpn" replay "$capture" --iface "$tx" "$@"

sleep 0.5
kill -INT "$dump_pid"
wait "$dump_pid" || true
dump_pid=
grep -E "packets (captured|received|dropped)" "$log" | sed 's/^/replay_netns: tcpdump: /'
rm -f "$log"
