#!/bin/bash
# eigrp_lab.sh -- record real FRR eigrpd traffic (AS 123) for testdata/eigrp/.
#
# Two routers in network namespaces lab-eigrpt-r1/r2 on a bridge in lab-eigrpt-br: eth0 10.99.0.N/24,
# a stub network 10.99.1N.0/24 (a veth pair inside the namespace) and lo 10.99.255.N/32. Each runs
# its own zebra + eigrpd with private config/pid/socket paths under /tmp/lab-run/eigrp-testdata/rN.
# The LAN ports stay disabled until FRR is configured, so the first packet on the wire is already in
# its final form (authenticated in the md5/sha256 modes). Only EIGRP (IP protocol 88) is captured.
#
# Modes:
#   plain   no authentication: Hellos, INIT Update, Updates with IPv4 internal routes, acks.
#   md5     "ip authentication mode eigrp 123 md5", key chain key 1 "lab-md5-key": Auth TLV type 2.
#           FRR 8.4 covers only header + auth TLV with the digest (../shared/lab/README.md) and then
#           rejects its peer: no adjacency, Hellos and INIT Updates only.
#   sha256  "ip authentication mode eigrp 123 hmac-sha-256": Auth TLV type 3 (FRR's digest is not
#           reproducible: it hashes strlen() of the binary packet), no adjacency.
#
# Usage: sudo tools/lab/eigrp_lab.sh [plain|md5|sha256|all] [OUTDIR]   (default all, testdata/eigrp)
# Needs: frr (apt-get install -y frr; tried with 8.4.4 on Debian 12), tcpdump, iproute2.
# Writes OUTDIR/frr-<mode>.pcap. Kills only the processes it started (by pid) and deletes only the
# namespaces lab-eigrpt-*. Takes about 25 s per mode.
set -euo pipefail

[ "$(id -u)" = 0 ] || { echo "must run as root" >&2; exit 1; }
FRR=/usr/lib/frr
[ -x $FRR/eigrpd ] || { echo "FRR eigrpd not found: apt-get install -y frr" >&2; exit 1; }
MODES=${1:-all}
[ "$MODES" = all ] && MODES="plain md5 sha256"
OUTDIR=$(realpath -m "${2:-$(dirname "$0")/../../testdata/eigrp}")
RUN=/tmp/lab-run/eigrp-testdata
NSP=lab-eigrpt
PIDS=()

cleanup() {
    local p ns
    for p in "${PIDS[@]}"; do kill -TERM "$p" 2>/dev/null || true; done
    sleep 1
    for p in "${PIDS[@]}"; do kill -KILL "$p" 2>/dev/null || true; done
    PIDS=()
    if [ -d "$RUN" ]; then
        for f in $(find "$RUN" -name '*.pid'); do kill -KILL "$(cat "$f")" 2>/dev/null || true; done
    fi
    for ns in $(ip netns list | awk '{print $1}' | grep "^$NSP-" || true); do
        for p in $(ip netns pids "$ns"); do kill -KILL "$p" 2>/dev/null || true; done
        ip netns del "$ns"
    done
}
trap cleanup EXIT

wait_for() {  # wait_for <seconds> <cmd...>
    local t=$1 i; shift
    for ((i = 0; i < t * 2; i++)); do "$@" >/dev/null 2>&1 && return 0; sleep 0.5; done
    return 1
}

run_mode() {
    local mode=$1 pcap=$OUTDIR/frr-$1.pcap i ns d
    cleanup
    rm -rf "$RUN"; mkdir -p "$RUN" "$OUTDIR"
    ip netns add $NSP-br
    ip -n $NSP-br link set lo up
    ip -n $NSP-br link add br0 type bridge
    ip -n $NSP-br link set br0 type bridge stp_state 0 forward_delay 0
    ip -n $NSP-br link set br0 up
    for i in 1 2; do
        ns=$NSP-r$i
        ip netns add $ns
        ip -n $ns link set lo up
        ip netns exec $ns sysctl -qw net.ipv6.conf.all.disable_ipv6=1 net.ipv6.conf.default.disable_ipv6=1
        ip link add eth0 netns $ns type veth peer name p$i netns $NSP-br
        ip -n $NSP-br link set p$i master br0
        ip -n $NSP-br link set p$i up
        ip -n $ns addr add 10.99.0.$i/24 dev eth0
        ip -n $ns link set eth0 up
        ip netns exec $NSP-br bridge link set dev p$i state 0
        ip -n $ns link add stub0 type veth peer name stub0p
        ip -n $ns addr add 10.99.1$i.1/24 dev stub0
        ip -n $ns link set stub0 up
        ip -n $ns link set stub0p up
        ip -n $ns addr add 10.99.255.$i/32 dev lo
        d=$RUN/r$i
        mkdir -p "$d"
        printf 'hostname r%s\nlog file %s/zebra.log\n' "$i" "$d" > "$d/zebra.conf"
        printf 'hostname r%s\nlog file %s/eigrpd.log\n!\nkey chain LABKC\n key 1\n  key-string lab-md5-key\n!\nrouter eigrp 123\n eigrp router-id 10.99.255.%s\n!\n' \
            "$i" "$d" "$i" > "$d/eigrpd.conf"
        chown -R frr:frr "$d"
    done
    ip netns exec $NSP-br tcpdump -i br0 -U -s 0 -w "$pcap" ip proto 88 > "$RUN/tcpdump.log" 2>&1 &
    PIDS+=($!)
    wait_for 10 grep -q "listening on" "$RUN/tcpdump.log"
    for i in 1 2; do
        ns=$NSP-r$i; d=$RUN/r$i
        ip netns exec $ns $FRR/zebra -f "$d/zebra.conf" -i "$d/zebra.pid" -z "$d/zserv.api" --vty_socket "$d" -P 0 \
            > "$d/zebra.out" 2>&1 &
        PIDS+=($!)
        wait_for 10 test -S "$d/zebra.vty"
        ip netns exec $ns $FRR/eigrpd -f "$d/eigrpd.conf" -i "$d/eigrpd.pid" -z "$d/zserv.api" --vty_socket "$d" -P 0 \
            > "$d/eigrpd.out" 2>&1 &
        PIDS+=($!)
        wait_for 10 test -S "$d/eigrpd.vty"
    done
    local amode=""
    case $mode in md5) amode=md5 ;; sha256) amode=hmac-sha-256 ;; esac
    for i in 1 2; do
        wait_for 10 sh -c "ip netns exec $NSP-r$i vtysh --vty_socket $RUN/r$i -c 'show interface eth0' | grep -q 'is up'"
        ip netns exec $NSP-r$i vtysh --vty_socket "$RUN/r$i" -c "configure terminal" -c "router eigrp 123" \
            -c "network 10.99.0.0/24" -c "network 10.99.1$i.0/24" -c "network 10.99.255.$i/32" -c "end"
        if [ -n "$amode" ]; then
            # accepted only once "network" covers the interface (in eigrpd.conf FRR 8.4 rejects it)
            ip netns exec $NSP-r$i vtysh --vty_socket "$RUN/r$i" -c "configure terminal" -c "interface eth0" \
                -c "ip authentication mode eigrp 123 $amode" -c "ip authentication key-chain eigrp 123 LABKC" -c "end"
        fi
    done
    for i in 1 2; do ip netns exec $NSP-br bridge link set dev p$i state 3; done
    if [ "$mode" = plain ]; then
        wait_for 30 sh -c "ip -n $NSP-r1 route show 10.99.12.0/24 | grep -q eigrp && ip -n $NSP-r2 route show 10.99.11.0/24 | grep -q eigrp" \
            || { echo "plain: no convergence" >&2; return 1; }
        sleep 6   # a few more hellos
    else
        sleep 12  # hellos and INIT-update retransmissions (FRR 8.4 never forms the adjacency here)
    fi
    cleanup
    echo "$mode: $(tcpdump -r "$pcap" 2>/dev/null | wc -l) EIGRP packets -> $pcap"
}

for m in $MODES; do run_mode "$m"; done
