#!/usr/bin/env bash
# NHRP interop: FRR nhrpd's real Registration Requests, answered by the reference router's hub.
#
#   sudo tools/interop/frr_nhrp_interop.sh [--out DIR] [scenario ...]
#   scenarios (default: all three): open  auth  refused
#
# Topology (namespaces lab-frn-*): hub eth0 192.0.2.1/24 <-veth-> s1 eth0 192.0.2.11/24.
#   hub: dmvpn-router with testdata/router/hub.cfg minus `tunnel protection` (NHRP/GRE in the
#        clear, tunnel 10.99.200.1/24, network-id 123, EIGRP as configured).
#   s1:  FRR zebra + nhrpd 8.4.4 on a TUN named gre1 (10.99.200.11/32, `ip nhrp nhs 10.99.200.1 nbma
#        192.0.2.1`, `tunnel source eth0`, network-id 123, holdtime 600); tools/lab/nhrp_tun_shim.py
#        carries nhrpd's NHRP out in GRE to the hub. nhrpd cannot receive on a TUN (it drops frames
#        whose link-layer source is not a 4-byte NBMA address), so it never sees the replies and
#        retries at 1, 2, 4, 8 s; the replies are checked on the wire instead.
# Scenarios:
#   open     the hub has no `ip nhrp authentication`. Pass: the hub's `show ip nhrp` lists
#            10.99.200.11/32 with NBMA 192.0.2.11, dynamic, expiring within nhrpd's holding time; on
#            the wire, for each of nhrpd's requests (op 3) one Registration Reply (op 4) from the hub
#            with the same request ID, CIE code 0 (success), the CIE holding time and the client
#            addresses of the request, and the Responder Address extension filled with 10.99.200.1.
#   auth     both sides `ip nhrp authentication dmvpn` (if nhrpd 8.4.4 has the command; otherwise
#            the scenario is reported as skipped, and the reason is printed).
#   refused  the hub has `ip nhrp authentication dmvpn`, nhrpd sends none. Pass: no cache entry,
#            an Error Indication (op 7) with code 11 (Authentication Failure, RFC 2332 5.2.7) per request.
# Each capture is decoded with target/release/dmvpn (`dmvpn decode`) and, if installed, tshark.
# Outputs: DIR (default /tmp/lab-out/frr-nhrp)/<scenario>/{hub-nbma.pcap,show-nhrp.txt,router.log,
# nhrpd.log,nhrpd-show.txt,decoded.jsonl,tshark.txt} and DIR/summary.txt. Exit 0 iff every scenario run passes.
# Needs root; installs frr, tcpdump, tshark (apt) if missing; Python 3. Environment: DMVPN_ROUTER, DMVPN.
# Only PIDs this script started are killed. Time: about 12 s per scenario, 25 s for all three
# (auth is skipped at once with nhrpd 8.4.4).
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
out=/tmp/lab-out/frr-nhrp
scenarios=()
while (($#)); do
    case "$1" in
        --out) out="${2:?--out needs a directory}"; shift 2 ;;
        -h|--help) sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
        open|auth|refused) scenarios+=("$1"); shift ;;
        *) echo "frr_nhrp_interop.sh: unknown argument $1" >&2; exit 2 ;;
    esac
done
((${#scenarios[@]})) || scenarios=(open auth refused)
[[ "$(id -u)" == 0 ]] || { echo "frr_nhrp_interop.sh: must run as root (namespaces, TUN, raw sockets)" >&2; exit 2; }

prefix=lab-frn
run=/tmp/lab-run/frr-nhrp
pids="$run/pids"
FRR=/usr/lib/frr
WAIT=${NHRP_INTEROP_WAIT:-9} # nhrpd's requests at about 0, 1, 3, 7 s

# shellcheck source=tools/lab/lab_lib.sh
. "$root/tools/lab/lab_lib.sh"
cleanup() {
    lab_kill_tracked "$pids" 0.5
    lab_kill_pidfiles "$run/frr"
    lab_del_netns "$prefix"
}
trap cleanup EXIT
trap 'exit 130' INT TERM
cleanup

need=()
[[ -x $FRR/nhrpd && -x $FRR/zebra ]] || need+=(frr)
command -v tcpdump >/dev/null || need+=(tcpdump)
command -v tshark >/dev/null || need+=(tshark)
lab_apt "${need[@]}"

lab_binaries "$root"
[[ -x "$decoder" ]] || (cd "$root" && cargo build --release -q -p dmvpn)

rm -rf "$out"
mkdir -p "$out"
started=$SECONDS
say() { printf '[%3ds] %s\n' $((SECONDS - started)) "$*" | tee -a "$out/summary.txt"; }
track() { echo "$1" >>"$pids"; disown "$1" 2>/dev/null || true; }
wait_for() { # wait_for <seconds> <command...>
    local t=$1 i; shift
    for ((i = 0; i < t * 4; i++)); do "$@" >/dev/null 2>&1 && return 0; sleep 0.25; done
    return 1
}
HUB=$prefix-hub
S1=$prefix-s1

# scenario <name>: one run; sets verdict ("pass", "skip: ..." or "FAIL: ...")
scenario() {
    local name=$1 dir=$out/$1
    local hub_auth=false nhrpd_auth=false
    case $name in
        auth) hub_auth=true nhrpd_auth=true ;;
        refused) hub_auth=true ;;
    esac
    cleanup
    rm -rf "$run"
    mkdir -p "$run/ctl" "$run/frr" "$dir"
    : >"$pids"
    for n in $HUB $S1; do
        ip netns add "$n"
        ip -n "$n" link set lo up
        ip netns exec "$n" sysctl -qw net.ipv6.conf.all.disable_ipv6=1 net.ipv6.conf.default.disable_ipv6=1
    done
    ip link add eth0 netns $HUB type veth peer name eth0 netns $S1
    ip -n $HUB addr add 192.0.2.1/24 dev eth0
    ip -n $S1 addr add 192.0.2.11/24 dev eth0
    ip -n $HUB link set eth0 up
    ip -n $S1 link set eth0 up

    # the hub: NHRP in the clear
    sed '/^ tunnel protection /d' "$root/testdata/router/hub.cfg" >"$run/hub.cfg"
    $hub_auth || sed -i '/^ ip nhrp authentication /d' "$run/hub.cfg"
    "$bin" check "$run/hub.cfg" >"$dir/check-hub.txt" 2>&1 || { verdict="FAIL: hub.cfg does not check"; return; }
    ip netns exec $HUB tcpdump -i eth0 -U -n -s 0 -w "$dir/hub-nbma.pcap" 'proto gre' >"$run/tcpdump.log" 2>&1 &
    local tcpdump_pid=$!
    track $tcpdump_pid
    wait_for 10 grep -q "listening on" "$run/tcpdump.log"
    ip netns exec $HUB "$bin" run "$run/hub.cfg" --run-dir "$run/ctl" -v >"$dir/router.log" 2>&1 &
    track $!
    wait_for 10 test -S "$run/ctl/hub.sock" || { verdict="FAIL: the hub did not start: $(tail -3 "$dir/router.log")"; return; }

    # s1: the TUN shim, zebra, nhrpd
    ip netns exec $S1 python3 "$root/tools/lab/nhrp_tun_shim.py" --ifname gre1 --addr 10.99.200.11/32 \
        --nhs 192.0.2.1 --log "$run/shim.log" >"$run/shim.out" 2>&1 &
    track $!
    wait_for 10 ip -n $S1 link show gre1 || { verdict="FAIL: no gre1 from the shim: $(cat "$run/shim.out")"; return; }
    ip -n $S1 route add 10.99.200.0/24 dev gre1
    local d=$run/frr
    printf 'hostname s1\n' >"$d/zebra.conf"
    printf 'hostname s1\n' >"$d/nhrpd.conf"
    chown -R frr:frr "$d"
    ip netns exec $S1 $FRR/zebra -f "$d/zebra.conf" -i "$d/zebra.pid" -z "$d/zserv.api" --vty_socket "$d" -P 0 \
        >"$d/zebra.out" 2>&1 &
    track $!
    wait_for 10 test -S "$d/zebra.vty" || { verdict="FAIL: zebra did not start"; return; }
    ip netns exec $S1 $FRR/nhrpd -f "$d/nhrpd.conf" -i "$d/nhrpd.pid" -z "$d/zserv.api" --vty_socket "$d" -P 0 \
        --log "file:$dir/nhrpd.log" --log-level debug >"$d/nhrpd.out" 2>&1 &
    track $!
    wait_for 10 test -S "$d/nhrpd.vty" || { verdict="FAIL: nhrpd did not start"; return; }
    vty() { local a=() c; for c in "$@"; do a+=(-c "$c"); done; ip netns exec $S1 vtysh --vty_socket "$d" "${a[@]}" 2>&1; }
    wait_for 10 sh -c "ip netns exec $S1 vtysh --vty_socket $d -c 'show interface gre1' | grep -q 'is up'" \
        || { verdict="FAIL: zebra does not see gre1"; return; }
    if $nhrpd_auth; then
        local said
        said=$(vty "configure terminal" "interface gre1" "ip nhrp authentication dmvpn" "end")
        if [[ -n "$said" ]]; then
            verdict="skip: nhrpd $(vty 'show version' | sed -n 's/^FRRouting \([^ ]*\).*/\1/p') has no \`ip nhrp authentication\` (vtysh: $(echo "$said" | tr '\n' ' ' | tr -s ' '))"
            return
        fi
    fi
    # Interface lines are applied live: nhrpd.conf is read before zebra has told nhrpd about gre1.
    vty "configure terminal" "interface gre1" "ip nhrp network-id 123" "ip nhrp holdtime 600" \
        "ip nhrp nhs 10.99.200.1 nbma 192.0.2.1" "tunnel source eth0" "end" >"$run/vty.out"
    [[ -s "$run/vty.out" ]] && { verdict="FAIL: vtysh: $(cat "$run/vty.out")"; return; }
    sleep "$WAIT"
    vty "show ip nhrp nhs" "show ip nhrp cache" "show running-config" >"$dir/nhrpd-show.txt"
    "$bin" show --run-dir "$run/ctl" --name hub ip nhrp >"$dir/show-nhrp.txt" 2>&1 || true
    "$bin" show --run-dir "$run/ctl" --name hub counters >"$dir/show-counters.txt" 2>&1 || true
    cp "$run/shim.log" "$dir/shim.log" 2>/dev/null || true
    kill -TERM "$tcpdump_pid" 2>/dev/null || true
    wait_for 5 sh -c "! kill -0 $tcpdump_pid"
    cleanup

    "$decoder" decode --format json "$dir/hub-nbma.pcap" >"$dir/decoded.jsonl" 2>"$dir/decoded.err" \
        || { verdict="FAIL: dmvpn decode: $(cat "$dir/decoded.err")"; return; }
    if command -v tshark >/dev/null; then
        tshark -r "$dir/hub-nbma.pcap" -Y nhrp -T fields -E separator=';' -e frame.number -e ip.src \
            -e nhrp.hdr.op.type -e nhrp.reqid -e nhrp.code -e nhrp.prefix -e nhrp.htime -e nhrp.src.nbma.addr \
            -e nhrp.src.prot.addr -e nhrp.dst.prot.addr -e nhrp.client.prot.addr -e nhrp.err.code \
            -e nhrp.hdr.chksum.status >"$dir/tshark.txt" 2>/dev/null || true
    fi
    local check
    check=$(python3 - "$name" "$dir" <<'PY'
import json, sys, os
name, d = sys.argv[1], sys.argv[2]
problems = []
# --- the hub's cache ---
show = open(os.path.join(d, "show-nhrp.txt")).read()
entry = "10.99.200.11/32 via 10.99.200.11" in show and "NBMA address: 192.0.2.11" in show and "Type: dynamic" in show
if name in ("open", "auth") and not entry:
    problems.append("the hub's show ip nhrp does not list 10.99.200.11 -> 192.0.2.11 (dynamic)")
if name == "refused" and "10.99.200.11" in show:
    problems.append("the hub registered nhrpd without its password")
# --- the wire, by our decoder ---
requests, replies, errors = [], [], []
for line in open(os.path.join(d, "decoded.jsonl")):
    frame = json.loads(line)
    layers = {l["proto"]: l for l in frame["layers"]}
    n = layers.get("nhrp")
    if not n:
        continue
    n["_src"] = layers["ipv4"]["src"]
    n["_frame"] = frame["frame"]
    op = str(n.get("op_name", n.get("op", ""))).lower().replace(" ", "_")
    (requests if "request" in op else replies if "reply" in op else errors if "error" in op else []).append(n)
def responder(n):
    for e in n.get("extensions", []):
        if e.get("type") == 3:
            return [(c.get("nbma"), c.get("proto")) for c in e.get("cies", [])]
    return None
if name in ("open", "auth"):
    bad = [r["_frame"] for r in replies if responder(r) != [("192.0.2.1", "10.99.200.1")]]
    if bad:
        problems.append(f"replies without the hub in the Responder Address extension: frames {bad}")
    bad = [r["_frame"] for r in replies if [c.get("code") for c in r.get("cies", [])] != [0]]
    if bad:
        problems.append(f"replies whose CIE code is not 0 (success): frames {bad}")
summary = f"{len(requests)} requests from nhrpd, {len(replies)} replies, {len(errors)} error indications from the hub"
if len(requests) < 3:
    problems.append(f"only {len(requests)} registration requests from nhrpd")
if name in ("open", "auth"):
    if len(replies) != len(requests):
        problems.append(f"{len(replies)} replies to {len(requests)} requests")
if name == "refused" and (replies or len(errors) != len(requests)):
    problems.append(f"{len(replies)} replies and {len(errors)} error indications to {len(requests)} requests")
# --- the wire, by tshark (independent of our decoder) ---
tshark = os.path.join(d, "tshark.txt")
if os.path.exists(tshark) and os.path.getsize(tshark):
    req, rep, err = {}, {}, {}
    for line in open(tshark):
        f = line.rstrip("\n").split(";")
        # multi-valued fields (the extensions' CIEs follow the main one): the first is the main CIE
        frame, src, op, reqid, code, prefix, htime, snbma, sprot, dprot, cprot, errcode, cks = (x.split(",")[0] for x in f[:13])
        row = dict(frame=frame, src=src, reqid=reqid, code=code, prefix=prefix, htime=htime, snbma=snbma,
                   sprot=sprot, dprot=dprot, cprot=cprot, errcode=errcode, cks=cks)
        {"3": req, "4": rep, "7": err}.get(op, {}).setdefault(reqid, []).append(row)
    if name in ("open", "auth"):
        for reqid, rows in req.items():
            r = rows[0]
            got = rep.get(reqid)
            if not got:
                problems.append(f"tshark: no reply with request id {reqid}")
                continue
            a = got[0]
            if a["src"] != "192.0.2.1" or a["code"] != "0" or a["htime"] != r["htime"] or a["prefix"] != r["prefix"] \
               or (a["snbma"], a["sprot"], a["dprot"]) != (r["snbma"], r["sprot"], r["dprot"]) or a["cks"] != "1":  # 1 = checksum good
                problems.append(f"tshark: reply to {reqid} differs: request {r}, reply {a}")
        for reqid in rep:
            if reqid not in req:
                problems.append(f"tshark: reply with unknown request id {reqid}")
        ok = sum(len(v) for v in rep.values())
        first = next(iter(req.values()), [{}])[0]
        summary += (f"; tshark: {ok} replies with CIE code 0 (success), good checksum, request id, holding time "
                    f"{first.get('htime')} s and prefix {first.get('prefix')} of the request, Responder Address = hub")
    else:
        codes = sorted({r["errcode"] for rows in err.values() for r in rows})
        if codes != ["11"]:
            problems.append(f"tshark: error indication codes {codes}, expected [11]")
        summary += f"; tshark: error indication code(s) {codes} (11 = Authentication Failure)"
print(("ok: " if not problems else "FAIL: ") + summary + ("" if not problems else " -- " + "; ".join(problems)))
PY
) 2>"$dir/check.err" || true
    verdict=$check
}

overall=0
for s in "${scenarios[@]}"; do
    t0=$SECONDS
    verdict="FAIL: not run"
    scenario "$s" || true
    case $verdict in
        ok:*|skip:*) ;;
        *) overall=1 ;;
    esac
    say "$s: $verdict ($((SECONDS - t0)) s)"
    [[ -f "$out/$s/show-nhrp.txt" ]] && sed 's/^/    hub# /' "$out/$s/show-nhrp.txt" | head -6 | tee -a "$out/summary.txt"
done
cleanup
say "$([[ $overall == 0 ]] && echo PASS || echo FAIL): FRR nhrpd registrations at the dmvpn-router hub ($((SECONDS - started)) s; results in $out)"
exit $overall
