#!/usr/bin/env bash
# NHRP interop: FRR nhrpd's real Registration Requests, answered by the reference router's hub, and
# a Phase 3 resolution towards the address nhrpd registered.
#
#   sudo tools/interop/frr_nhrp_interop.sh [--out DIR] [scenario ...]
#   scenarios (default: all four): open  auth  refused  resolve
#
# Topology (namespaces lab-frn-*): a bridge in lab-frn-sw joins hub eth0 192.0.2.1/24, s1 eth0
# 192.0.2.11/24 and, in `resolve`, s2 eth0 192.0.2.12/24.
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
#   resolve  Phase 3 with nhrpd as the far spoke: the hub as in `open` plus `ip nhrp redirect` and
#            `ip route 10.99.11.0 255.255.255.0 10.99.200.11` (a LAN behind nhrpd's spoke); s2 is a
#            second dmvpn-router spoke (testdata/router/spoke2.cfg in the clear, made multipoint with
#            `ip nhrp shortcut`, `ip route 10.99.11.0 255.255.255.0 10.99.200.1`) that sends 8 echoes to
#            10.99.11.10. Pass, on the wire: nhrpd registered; the hub forwards the echoes in GRE to
#            192.0.2.11, the NBMA address it learnt only from nhrpd's Registration Request; it sends
#            s2 a Traffic Indication (op 8) about 10.99.11.10; s2 sends a Resolution Request (op 1) for
#            10.99.11.10 to the hub; and the hub passes that request on to 192.0.2.11 (nhrpd, the owner
#            of the next hop) with the same request ID, or answers it itself (op 2; which one is
#            reported); tshark dissects each with a good checksum. What this cannot prove here:
#            nhrpd answering (or sending) a Resolution Request. nhrpd starts a resolution only on a
#            Traffic Indication it receives, and it receives nothing through the TUN shim (its
#            packet socket drops frames whose link-layer source is not a 4-byte NBMA address, which
#            only a kernel GRE/ipip device gives; this kernel has neither, nor NFLOG for nhrpd's own
#            redirect), so the request the hub forwards is counted on the wire and nhrpd's cache and
#            the shim's log are recorded to show it never answered.
# Each capture is decoded with target/release/dmvpn (`dmvpn decode`) and, if installed, tshark.
# Outputs: DIR (default /tmp/lab-out/frr-nhrp)/<scenario>/{hub-nbma.pcap,show-nhrp.txt,router.log,
# nhrpd.log,nhrpd-show.txt,decoded.jsonl,tshark.txt} and DIR/summary.txt. Exit 0 iff every scenario run passes.
# Needs root; installs frr, tcpdump, tshark (apt) if missing; Python 3. Environment: DMVPN_ROUTER, DMVPN.
# Only PIDs this script started are killed. Time: about 12 s per scenario (resolve 16 s), 40 s for all
# four (auth is skipped at once with nhrpd 8.4.4).
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
out=/tmp/lab-out/frr-nhrp
scenarios=()
while (($#)); do
    case "$1" in
        --out) out="${2:?--out needs a directory}"; shift 2 ;;
        -h|--help) sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
        open|auth|refused|resolve) scenarios+=("$1"); shift ;;
        *) echo "frr_nhrp_interop.sh: unknown argument $1" >&2; exit 2 ;;
    esac
done
((${#scenarios[@]})) || scenarios=(open auth refused resolve)
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
S2=$prefix-s2
SW=$prefix-sw

# resolve_through_hub <dir>: once nhrpd has registered, s2 (a dmvpn-router Phase 3 spoke in the clear)
# comes up and sends echoes to the LAN behind nhrpd's spoke; sets verdict and fails when a step does not
# happen (what went over the wire is checked with the capture afterwards).
resolve_through_hub() {
    local dir=$1 show_hub="$bin show --run-dir $run/ctl --name hub ip nhrp"
    wait_for 15 sh -c "$show_hub | grep -q '^10\.99\.200\.11/32 via'" ||
        { verdict="FAIL: nhrpd (10.99.200.11) did not register with the hub"; return 1; }
    sed -e '/^ tunnel protection /d; /^ tunnel destination /d; /^ tunnel mode /d; /^ ip nhrp authentication /d' \
        -e '/^ ip nhrp map multicast /d; /^ ip nhrp shortcut/d' \
        -e 's/^ ip nhrp nhs .*/&\n ip nhrp map multicast 192.0.2.1\n ip nhrp shortcut\n tunnel mode gre multipoint/' \
        -e 's/^end$/ip route 10.99.11.0 255.255.255.0 10.99.200.1\nend/' \
        "$root/testdata/router/spoke2.cfg" >"$run/s2.cfg"
    "$bin" check "$run/s2.cfg" >"$dir/check-s2.txt" 2>&1 || { verdict="FAIL: s2.cfg does not check"; return 1; }
    ip netns exec $S2 "$bin" run "$run/s2.cfg" --run-dir "$run/ctl" -v >"$dir/router-s2.log" 2>&1 &
    track $!
    wait_for 15 sh -c "$show_hub | grep -q '^10\.99\.200\.12/32 via'" ||
        { verdict="FAIL: s2 did not register with the hub: $(tail -3 "$dir/router-s2.log")"; return 1; }
    # No echo reply can come back (s1's kernel has no GRE): the echoes only carry the flow.
    ip netns exec $S2 python3 "$root/tools/lab/phase3_traffic.py" ping --src 10.99.200.12 --count 8 \
        --interval 0.5 --timeout 0.3 10.99.11.10 >"$dir/ping.txt" 2>&1 || true
    sleep 3 # s2's resolution retries
    "$bin" show --run-dir "$run/ctl" --name s2 ip nhrp >"$dir/show-nhrp-s2.txt" 2>&1 || true
    "$bin" show --run-dir "$run/ctl" --name s2 counters >"$dir/show-counters-s2.txt" 2>&1 || true
}

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
    local nodes=($SW $HUB $S1)
    [[ $name == resolve ]] && nodes+=($S2)
    for n in "${nodes[@]}"; do
        ip netns add "$n"
        ip -n "$n" link set lo up
        ip netns exec "$n" sysctl -qw net.ipv6.conf.all.disable_ipv6=1 net.ipv6.conf.default.disable_ipv6=1
    done
    ip -n $SW link add br0 type bridge
    ip -n $SW link set br0 up
    local i=0 nbma
    for n in "${nodes[@]:1}"; do
        nbma=(192.0.2.1 192.0.2.11 192.0.2.12)
        ip link add eth0 netns "$n" type veth peer name "p$i" netns $SW
        ip -n $SW link set "p$i" master br0 up
        ip -n "$n" addr add "${nbma[i]}/24" dev eth0
        ip -n "$n" link set eth0 up
        i=$((i + 1))
    done

    # the hub: NHRP in the clear
    sed '/^ tunnel protection /d' "$root/testdata/router/hub.cfg" >"$run/hub.cfg"
    $hub_auth || sed -i '/^ ip nhrp authentication /d' "$run/hub.cfg"
    if [[ $name == resolve ]]; then
        sed -i 's/^ ip nhrp network-id .*/&\n ip nhrp redirect/; s/^end$/ip route 10.99.11.0 255.255.255.0 10.99.200.11\nend/' "$run/hub.cfg"
    fi
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
    if [[ $name == resolve ]]; then
        resolve_through_hub "$dir" || return
    else
        sleep "$WAIT"
    fi
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
if name == "resolve":
    # every frame: its layers in order (a GRE data frame has two ipv4 layers)
    frames = []
    for line in open(os.path.join(d, "decoded.jsonl")):
        f = json.loads(line)
        ls = f["layers"]
        outer = next((l for l in ls if l["proto"] == "ipv4"), {})
        inner = [l for l in ls if l["proto"] == "ipv4"][1:]
        frames.append(dict(n=f["frame"], src=outer.get("src"), dst=outer.get("dst"),
                           nhrp=next((l for l in ls if l["proto"] == "nhrp"), None), inner=inner[0] if inner else None))
    def nhrp(op, src, dst):
        return [f for f in frames if f["nhrp"] and f["nhrp"].get("op") == op and f["src"] == src and f["dst"] == dst]
    show = open(os.path.join(d, "show-nhrp.txt")).read()
    if not ("10.99.200.11/32 via 10.99.200.11" in show and "NBMA address: 192.0.2.11" in show):
        problems.append("the hub has no entry 10.99.200.11 -> 192.0.2.11 from nhrpd's registration")
    data = [f for f in frames if f["src"] == "192.0.2.1" and f["dst"] == "192.0.2.11" and f["inner"]
            and f["inner"].get("dst") == "10.99.11.10"]
    ti = nhrp(8, "192.0.2.1", "192.0.2.12")
    req = [f for f in nhrp(1, "192.0.2.12", "192.0.2.1") if f["nhrp"].get("dst_proto") == "10.99.11.10"]
    ids = {f["nhrp"].get("request_id") for f in req}
    fwd = [f for f in nhrp(1, "192.0.2.1", "192.0.2.11") if f["nhrp"].get("request_id") in ids]
    ans = [f for f in nhrp(2, "192.0.2.1", "192.0.2.12") if f["nhrp"].get("request_id") in ids]
    from_nhrpd = sorted({f["nhrp"].get("op_name") for f in frames if f["nhrp"] and f["src"] == "192.0.2.11"})
    first = lambda fs: fs[0]["n"] if fs else None
    for what, fs in (("echoes forwarded by the hub to nhrpd's NBMA 192.0.2.11", data),
                     ("Traffic Indication hub -> s2", ti), ("Resolution Request s2 -> hub for 10.99.11.10", req)):
        if not fs:
            problems.append(f"no {what}")
    if not (fwd or ans):
        problems.append("the hub neither passed s2's Resolution Request on to nhrpd nor answered it")
    tshark = os.path.join(d, "tshark.txt")
    bad = []
    if os.path.exists(tshark) and os.path.getsize(tshark):
        for line in open(tshark):
            f = [x.split(",")[0] for x in line.rstrip("\n").split(";")]
            if f[2] in ("1", "2", "8") and f[12] != "1":
                bad.append(f[0])
        if bad:
            problems.append(f"tshark: bad NHRP checksum in frames {bad}")
    summary = (f"nhrpd registered (hub: 10.99.200.11 -> 192.0.2.11); {len(data)} echoes forwarded by the hub to 192.0.2.11 "
               f"(first frame {first(data)}); {len(ti)} Traffic Indication(s) hub -> s2 (first {first(ti)}); "
               f"{len(req)} Resolution Request(s) s2 -> hub for 10.99.11.10 (first {first(req)}); the hub passed "
               f"{len(fwd)} on to nhrpd at 192.0.2.11 (first {first(fwd)}) and answered {len(ans)} itself; "
               f"nhrpd sent only {from_nhrpd} (it cannot receive through the TUN shim)"
               + ("; tshark: good checksums" if not bad and os.path.exists(tshark) else ""))
    print(("ok: " if not problems else "FAIL: ") + summary + ("" if not problems else " -- " + "; ".join(problems)))
    sys.exit(0)
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
say "$([[ $overall == 0 ]] && echo PASS || echo FAIL): FRR nhrpd registrations (and resolution towards them) at the dmvpn-router hub ($((SECONDS - started)) s; results in $out)"
exit $overall
