#!/usr/bin/env bash
# IKEv1 and IKEv2 interop of the reference router (the dmvpn-router binary) with strongSwan charon:
# IKEv1 Main Mode with a pre-shared key, then Quick Mode for GRE in transport mode; IKEv2
# IKE_SA_INIT + IKE_AUTH with a pre-shared key and the first Child SA for GRE in transport mode;
# both directions each.
#
#   sudo tools/interop/swan_router_interop.sh [--out DIR] [proposal ...]
#   proposals (default all four):
#     IKEv1: 3des-md5-modp1024 (ESP 3des-md5)  aes128-sha1-modp1024 (ESP aes128-sha1)
#     IKEv2: ikev2-aes256-sha256-modp2048 (ESP aes256-sha256)  ikev2-aes128-sha1-modp1024 (ESP aes128-sha1)
#
# Namespaces lab-swr-r (router) and lab-swr-c (charon), one veth, 192.0.2.0/24. For each proposal:
#   router-initiates  the router is a spoke (testdata/router/spoke1.cfg at 192.0.2.11, without
#                     `router eigrp`, the policy and transform set of the proposal) and keys its NHS
#                     192.0.2.1, where charon responds. Pass: the router logs phase 1 and the child
#                     (Main Mode and Quick Mode complete: charon's HASH_R and QM 2 accepted, our QM 3
#                     sent), charon logs its IKE_SA established, the encryption key Ka and the
#                     initiator cookie the router wrote with --key-log equal charon's (cookie: the
#                     ISAKMP header on the wire), and both ESP SAs the router wrote (esp_sa: SPI,
#                     encryption and integrity keys) equal the ones charon logged.
#   charon-initiates  the router is the hub (testdata/router/hub.cfg at 192.0.2.1, wildcard key) and
#                     charon at 192.0.2.11 runs `swanctl --initiate`. Pass: the router logs phase 1,
#                     charon logs IKE_SA established (it verified our HASH_R), Ka and cookie equal,
#                     and charon logged its Quick Mode keys (it accepted our QM 2), and both ESP SAs
#                     the router wrote when it sent QM 2 (esp_sa) equal the ones charon logged.
#                     Known limit: charon cannot install ESP here (no CONFIG_INET_ESP; libipsec has no
#                     transport mode), so it answers our QM 2 with NO-PROPOSAL-CHOSEN instead of QM 3,
#                     and the router's child never completes (the keys are compared all the same).
# Both directions also check that tshark, given only the router's ikev1_decryption_table, opens the
# encrypted Main Mode 5/6 and Quick Mode messages (Hash payloads decoded).
#
# IKEv2 (the router runs testdata/router/ikev2/{spoke1,hub}.cfg, `crypto ikev2 proposal/policy/keyring/
# profile` and `set ikev2-profile`, narrowed to the proposal; charon `version = 2`):
#   router-initiates  the router (spoke, 192.0.2.11) runs IKE_SA_INIT + IKE_AUTH with charon (192.0.2.1).
#                     Pass: the router logs the IKEv2 SA up and `show crypto ikev2 sa` lists it READY,
#                     charon logs its IKE_SA established (it verified our AUTH, we verified its), and
#                     the router's ikev2_decryption_table line (SPIs, SK_ei, SK_er, SK_ai, SK_ar) equals
#                     the keys charon logged (tools/lab/ikev2_keys.py ties them to the SPIs by the ICVs
#                     of the capture).
#                     Known limit: charon keys the Child SA and logs its keys, cannot install it (no
#                     kernel ESP, see below) and answers IKE_AUTH with NO_PROPOSAL_CHOSEN in place of
#                     the SA and TS payloads: the router has no Child SA, so no ESP keys to compare.
#   charon-initiates  the router is the hub (192.0.2.1) and charon (192.0.2.11) runs `swanctl --initiate`.
#                     Pass: as above for the IKE SA, and the router installed the Child SA (both ESP SAs
#                     in its esp_sa and in `show crypto ipsec sa`), whose SPIs and keys equal the ones
#                     charon logged, direction by direction.
#                     Known limit: charon cannot install it and deletes it at once (INFORMATIONAL Delete).
#   Both directions: tshark and `dmvpn decode`, given only the router's ikev2_decryption_table, open
#   every encrypted IKEv2 message of the capture with a good ICV.
#   NHRP through the tunnel needs ESP at charon's end, which this kernel cannot do: the script records
#   the kernel's answer to `ip xfrm state add ... proto esp mode transport` (summary.txt, "kernel:");
#   strongSwan's userspace ESP (kernel-libipsec) does tunnel mode over UDP only, and the router's
#   DMVPN ESP is transport mode on IP protocol 50. So no NHRP registration is attempted with charon.
# Outputs: DIR (default /tmp/lab-out/swan-router)/<proposal>-<direction>/{capture.pcap,charon.log,
# keys.json (charon's, by charon_keys.py; IKEv2: charon/ by ikev2_keys.py), router.log, keys/ (the
# router's key log), show-*.txt}, DIR/summary.txt.
# Needs root; installs strongswan-charon strongswan-swanctl libcharon-extra-plugins
# libstrongswan-standard-plugins (openssl: 3DES) tcpdump tshark
# (apt) if missing; uses charon_keys.py of the shared lab (LAB_DIR, default ../shared/lab).
# Environment: DMVPN_ROUTER, DMVPN (the decoder, optional). Only PIDs this script started are
# killed. Time: about 40 s (3 to 6 s a run).
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
LAB_DIR=${LAB_DIR:-$root/../shared/lab}
out=/tmp/lab-out/swan-router
proposals=()
while (($#)); do
    case "$1" in
        --out) out="${2:?--out needs a directory}"; shift 2 ;;
        -h|--help) sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
        3des-md5-modp1024|aes128-sha1-modp1024|ikev2-aes256-sha256-modp2048|ikev2-aes128-sha1-modp1024) proposals+=("$1"); shift ;;
        *) echo "swan_router_interop.sh: unknown argument $1" >&2; exit 2 ;;
    esac
done
((${#proposals[@]})) || proposals=(3des-md5-modp1024 aes128-sha1-modp1024 ikev2-aes256-sha256-modp2048 ikev2-aes128-sha1-modp1024)
[[ "$(id -u)" == 0 ]] || { echo "swan_router_interop.sh: must run as root" >&2; exit 2; }
[[ -f $LAB_DIR/charon_keys.py ]] || { echo "swan_router_interop.sh: no $LAB_DIR/charon_keys.py (set LAB_DIR)" >&2; exit 2; }

prefix=lab-swr
run=/tmp/lab-run/swan-router
pids="$run/pids"
PSK=lab-psk-secret

# shellcheck source=tools/lab/lab_lib.sh
. "$root/tools/lab/lab_lib.sh"
cleanup() {
    lab_kill_tracked "$pids" 0.5
    lab_del_netns "$prefix"
}
trap cleanup EXIT
trap 'exit 130' INT TERM
cleanup

need=()
[[ -x /usr/lib/ipsec/charon ]] || need+=(strongswan-charon libcharon-extra-plugins)
# 3DES: charon's openssl plugin (there is no des plugin in Debian's build)
[[ -f /usr/lib/ipsec/plugins/libstrongswan-openssl.so ]] || need+=(libstrongswan-standard-plugins)
command -v swanctl >/dev/null || need+=(strongswan-swanctl)
command -v tcpdump >/dev/null || need+=(tcpdump)
command -v tshark >/dev/null || need+=(tshark)
lab_apt "${need[@]}"

lab_binaries "$root"

rm -rf "$out"
mkdir -p "$out"
started=$SECONDS
say() { printf '%s\n' "$*" | tee -a "$out/summary.txt"; }
track() { echo "$1" >>"$pids"; disown "$1" 2>/dev/null || true; }
wait_for() { # wait_for <seconds> <command...>
    local t=$1 i; shift
    for ((i = 0; i < t * 4; i++)); do "$@" >/dev/null 2>&1 && return 0; sleep 0.25; done
    return 1
}
R=$prefix-r
C=$prefix-c

# router_config <template> <proposal> <out>: the proposal's isakmp policy (IKEv2: ikev2 proposal)
# and transform set
router_config() {
    local tpl=$1 p=$2 f=$3 dir=$root/testdata/router
    [[ $p == ikev2-* ]] && dir=$root/testdata/router/ikev2
    sed '/^router eigrp/,/^!/d; /^ no ip split-horizon eigrp/d' "$dir/$tpl" >"$f"
    case $p in
        ikev2-aes256-sha256-modp2048)
            sed -i 's/^ encryption .*/ encryption aes-cbc-256/; s/^ integrity .*/ integrity sha256/; s/^ group .*/ group 14/' "$f"
            sed -i 's/^crypto ipsec transform-set DMVPN-TS .*/crypto ipsec transform-set DMVPN-TS esp-aes 256 esp-sha256-hmac/' "$f" ;;
        ikev2-aes128-sha1-modp1024)
            sed -i 's/^ encryption .*/ encryption aes-cbc-128/; s/^ integrity .*/ integrity sha1/; s/^ group .*/ group 2/' "$f"
            sed -i 's/^crypto ipsec transform-set DMVPN-TS .*/crypto ipsec transform-set DMVPN-TS esp-aes 128 esp-sha-hmac/' "$f" ;;
        3des-md5-modp1024)
            sed -i 's/^ encryption .*/ encryption 3des/; s/^ hash .*/ hash md5/; s/^ group .*/ group 2/' "$f"
            sed -i 's/^crypto ipsec transform-set DMVPN-TS .*/crypto ipsec transform-set DMVPN-TS esp-3des esp-md5-hmac/' "$f" ;;
        aes128-sha1-modp1024)
            sed -i 's/^ encryption .*/ encryption aes 128/; s/^ hash .*/ hash sha/; s/^ group .*/ group 2/' "$f"
            sed -i 's/^crypto ipsec transform-set DMVPN-TS .*/crypto ipsec transform-set DMVPN-TS esp-aes 128 esp-sha-hmac/' "$f" ;;
    esac
}

esp_of() {
    case $1 in
        3des-md5-modp1024) echo 3des-md5 ;;
        ikev2-aes256-sha256-modp2048) echo aes256-sha256 ;;
        *) echo aes128-sha1 ;;
    esac
}

charon_conf() { # <dir> <ike proposal> <local> <remote>
    local d=$1 ikep=$2 local=$3 remote=$4 version=1 extra=
    if [[ $ikep == ikev2-* ]]; then version=2 extra="mobike = no"; fi
    cat >"$d/strongswan.conf" <<EOF
charon {
  load = random nonce aes sha1 sha2 md5 hmac gmp openssl kdf kernel-netlink socket-default vici
  install_routes = no
  retransmit_tries = 2
  filelog {
    ike { path = $d/charon.log
          time_format = %T
          ike_name = yes
          flush_line = yes
          default = 1
          ike = 4
          chd = 4
          knl = 2 }
  }
  syslog { daemon { default = -1 } }
  plugins { vici { socket = unix://$d/run/charon.vici } }
}
EOF
    cat >"$d/swanctl.conf" <<EOF
connections {
  dmvpn {
    version = $version
    local_addrs = $local
    remote_addrs = $remote
    proposals = ${ikep#ikev2-}
    dpd_delay = 0
    $extra
    local { auth = psk
            id = $local }
    remote { auth = psk
             id = $remote }
    children {
      gre { mode = transport
            local_ts = dynamic[gre]
            remote_ts = dynamic[gre]
            esp_proposals = $(esp_of "$ikep")
            start_action = none }
    }
  }
}
secrets { ike-lab { id-a = $local
                    id-b = $remote
                    secret = "$PSK" } }
EOF
}

overall=0
one() { # <proposal> <direction>
    local p=$1 dir=$2 ok=1
    local o=$out/$p-$dir
    cleanup
    rm -rf "$run"
    mkdir -p "$run/c/run" "$run/ctl" "$o/keys"
    : >"$pids"
    local r_addr c_addr tpl
    if [[ $dir == router-initiates ]]; then r_addr=192.0.2.11 c_addr=192.0.2.1 tpl=spoke1.cfg
    else r_addr=192.0.2.1 c_addr=192.0.2.11 tpl=hub.cfg; fi
    for n in $R $C; do
        ip netns add "$n"
        ip -n "$n" link set lo up
        ip netns exec "$n" sysctl -qw net.ipv6.conf.all.disable_ipv6=1 net.ipv6.conf.default.disable_ipv6=1
    done
    ip link add eth0 netns $R type veth peer name eth0 netns $C
    ip -n $R addr add $r_addr/24 dev eth0
    ip -n $C addr add $c_addr/24 dev eth0
    ip -n $R link set eth0 up
    ip -n $C link set eth0 up
    router_config "$tpl" "$p" "$run/router.cfg"
    cp "$run/router.cfg" "$o/router.cfg"
    # without `router eigrp` (charon speaks no EIGRP): eigrp-not-on-tunnel is the one error allowed
    lab_check_no_eigrp "$bin" "$run/router.cfg" "$o/check.txt" || { say "=== $p $dir: FAIL: router config: $(cat "$o/check.txt")"; overall=1; return; }
    charon_conf "$run/c" "$p" "$c_addr" "$r_addr"

    ip netns exec $C tcpdump -i eth0 -U -n -s 0 -w "$o/capture.pcap" 'udp port 500 or udp port 4500 or esp or proto gre' \
        >"$run/tcpdump.log" 2>&1 &
    local tcpdump_pid=$!
    track $tcpdump_pid
    wait_for 10 grep -q "listening on" "$run/tcpdump.log"
    ip netns exec $C env STRONGSWAN_CONF="$run/c/strongswan.conf" \
        sh -c "mount --bind '$run/c/run' /run && exec /usr/lib/ipsec/charon" >"$run/c/charon.out" 2>&1 &
    track $!
    wait_for 10 test -S "$run/c/run/charon.vici" || { say "=== $p $dir: FAIL: charon did not start: $(tail -3 "$run/c/charon.out")"; overall=1; return; }
    ip netns exec $C swanctl --load-all --uri "unix://$run/c/run/charon.vici" --file "$run/c/swanctl.conf" \
        >"$run/c/load.out" 2>&1 || { say "=== $p $dir: FAIL: swanctl --load-all: $(cat "$run/c/load.out")"; overall=1; return; }

    ip netns exec $R "$bin" run "$run/router.cfg" --run-dir "$run/ctl" --key-log "$o/keys" -v >"$o/router.log" 2>&1 &
    track $!
    if [[ $p == ikev2-* && $dir == router-initiates ]]; then
        # the IKE SA's line at IKE_AUTH; then charon's refusal of the Child SA
        wait_for 20 test -s "$o/keys/ikev2_decryption_table" || ok=0
        sleep 1
    elif [[ $dir == router-initiates ]]; then
        wait_for 20 sh -c "[ \$(grep -c . '$o/keys/esp_sa' 2>/dev/null || echo 0) -ge 2 ]" || ok=0
    else
        wait_for 10 grep -q "%DMVPN-5-START" "$o/router.log"
        ip netns exec $C swanctl --initiate --child gre --timeout 15 --uri "unix://$run/c/run/charon.vici" \
            >"$o/initiate.out" 2>&1 || true
        # (IKEv1: the router writes the pair's keys when it sends QM 2; IKEv2: at IKE_AUTH)
        wait_for 10 sh -c "[ \$(grep -c . '$o/keys/esp_sa' 2>/dev/null || echo 0) -ge 2 ]" || ok=0
    fi
    sleep 1
    "$bin" show --run-dir "$run/ctl" crypto isakmp sa >"$o/show-isakmp.txt" 2>&1 || true
    "$bin" show --run-dir "$run/ctl" crypto ipsec sa >"$o/show-ipsec.txt" 2>&1 || true
    [[ $p == ikev2-* ]] && { "$bin" show --run-dir "$run/ctl" crypto ikev2 sa detailed >"$o/show-ikev2.txt" 2>&1 || true; }
    kill -TERM "$tcpdump_pid" 2>/dev/null || true
    wait_for 5 sh -c "! kill -0 $tcpdump_pid"
    cleanup
    cp "$run/c/charon.log" "$o/charon.log"
    if [[ $p == ikev2-* ]]; then
        local verdict
        verdict=$(ikev2_verdict "$o" "$dir" "$c_addr") || ok=0
        [[ $ok == 1 ]] || overall=1
        {
            echo "=== $p $dir: $([[ $ok == 1 ]] && echo ok || echo FAIL)"
            grep -hE "%IKEV2|%CRYPTO" "$o/router.log" | sed 's/^/  router: /' | head -6 || true
            grep -hE "IKE_SA .* established|CHILD_SA .* established|unable to install|NO_PROPOSAL|received DELETE|sending DELETE" \
                "$o/charon.log" | sed 's/^/  charon: /' | head -6 || true
            echo "  $verdict"
        } | tee -a "$out/summary.txt"
        return
    fi
    python3 "$LAB_DIR/charon_keys.py" --out "$o" "$o/charon.log" >"$o/charon_keys.out" 2>&1 || ok=0
    # tshark with only the router's key log: which encrypted ISAKMP messages it opens
    mkdir -p "$run/ws"
    cp "$o/keys/ikev1_decryption_table" "$run/ws/" 2>/dev/null || : >"$run/ws/ikev1_decryption_table"
    WIRESHARK_CONFIG_DIR="$run/ws" tshark -r "$o/capture.pcap" -Y isakmp -T fields -E separator=';' \
        -e frame.number -e ip.src -e isakmp.ispi -e isakmp.exchangetype -e isakmp.flags -e isakmp.typepayload \
        >"$o/tshark.txt" 2>/dev/null || true
    local verdict
    verdict=$(python3 - "$o" "$dir" "$r_addr" <<'PY'
import csv, json, os, sys
o, direction, ours = sys.argv[1], sys.argv[2], sys.argv[3]
problems, notes = [], []
logged = json.load(open(os.path.join(o, "keys.json")))
charon_log = open(os.path.join(o, "charon.log")).read()
router_log = open(os.path.join(o, "router.log")).read()
# phase 1, both sides
if "phase 1 with" not in router_log or "established" not in router_log:
    problems.append("the router logged no phase 1")
if "IKE_SA dmvpn[1] established" not in charon_log:
    problems.append("charon did not establish the IKE_SA")
# Ka and cookie: router's ikev1_decryption_table vs charon's log and the wire
table = os.path.join(o, "keys", "ikev1_decryption_table")
rows = [l.strip().split(",") for l in open(table)] if os.path.exists(table) else []
if not rows:
    problems.append("the router wrote no ikev1_decryption_table line")
else:
    cookie, ka = rows[-1]
    ike = logged["ike_sas"][-1] if logged["ike_sas"] else {}
    if ike.get("enc_key_Ka", "").lower() != ka.lower():
        problems.append(f"Ka differs: router {ka}, charon {ike.get('enc_key_Ka')}")
    wire = set()
    exch = {}
    for line in open(os.path.join(o, "tshark.txt")):
        f = line.rstrip("\n").split(";")
        wire.add(f[2].lower().removeprefix("0x"))
        exch.setdefault(f[3], []).append(f)
    if wire != {cookie.lower()}:
        problems.append(f"initiator cookie {cookie} vs the wire {sorted(wire)}")
    # encrypted MM 5/6 (exchange 2, encryption flag) and QM (32): a Hash payload (8) decoded
    def opened(rows):
        return [r for r in rows if r[4] and int(r[4], 0) & 1 and "8" in r[5].split(",")]
    mm, qm = opened(exch.get("2", [])), opened(exch.get("32", []))
    if len(mm) < 2 or len(qm) < 2:
        problems.append(f"tshark with the router's key log opened {len(mm)} encrypted Main Mode and {len(qm)} Quick Mode messages")
    notes.append(f"tshark+router key log opens {len(mm)} MM and {len(qm)} QM messages")
# ESP SAs
esp_rows = []
path = os.path.join(o, "keys", "esp_sa")
if os.path.exists(path):
    esp_rows = list(csv.reader(open(path)))
charon_esp = {(s["spi"].lower(), s["src"], s["dst"]): s for s in logged["esp_sas"]}
matched = 0
for row in esp_rows:
    _, src, dst, spi, enc, ekey, integ, ikey = row
    spi = spi.lower().removeprefix("0x")
    s = charon_esp.get((spi.zfill(8), src, dst)) or charon_esp.get((spi, src, dst))
    if not s:
        problems.append(f"ESP SA {spi} {src}->{dst} not in charon's log")
        continue
    if s["encryption_key"].lower() != ekey.lower().removeprefix("0x") or s["integrity_key"].lower() != ikey.lower().removeprefix("0x"):
        problems.append(f"ESP SA {spi} keys differ")
    else:
        matched += 1
if matched != 2:
    problems.append(f"{matched} of 2 ESP SAs equal")
else:
    notes.append(f"both ESP SAs equal ({esp_rows[0][4]}, {esp_rows[0][6]})")
if direction != "router-initiates":
    if len(logged["esp_sas"]) < 2:
        problems.append("charon logged no Quick Mode keys (our QM 2 not accepted)")
    else:
        notes.append(f"charon accepted our QM 2 and logged {len(logged['esp_sas'])} ESP SAs; the router's child stays incomplete (no QM 3: charon cannot install ESP)")
    if "sending NOTIFY" in charon_log or "NO_PROPOSAL_CHOSEN" in charon_log:
        notes.append("charon: " + next((l.split("] ", 1)[-1] for l in charon_log.splitlines() if "unable to install" in l), "no SA install"))
verdict = "ok" if not problems else "FAIL"
print(f"{verdict}: " + ("Ka and cookie equal; " if rows and not any("Ka" in p or "cookie" in p for p in problems) else "")
      + "; ".join(notes + problems))
sys.exit(0 if not problems else 1)
PY
) || ok=0
    [[ $ok == 1 ]] || overall=1
    {
        echo "=== $p $dir: $([[ $ok == 1 ]] && echo ok || echo FAIL)"
        grep -hE "%CRYPTO" "$o/router.log" | sed 's/^/  router: /' | head -6 || true
        grep -hE "IKE_SA .* established|CHILD_SA .* established|unable to install|NO_PROPOSAL|received DELETE" \
            "$o/charon.log" | sed 's/^/  charon: /' | head -6 || true
        echo "  $verdict"
    } | tee -a "$out/summary.txt"
}

# ikev2_verdict <out dir> <direction> <charon's address>: charon's keys (tools/lab/ikev2_keys.py) against the router's key
# log, tshark and dmvpn decode with the router's ikev2_decryption_table; prints one line, fails on a problem
ikev2_verdict() {
    local o=$1 dir=$2
    python3 "$root/tools/lab/ikev2_keys.py" --pcap "$o/capture.pcap" --out "$o/charon" "$o/charon.log" \
        >"$o/ikev2_keys.out" 2>&1 || true
    mkdir -p "$run/ws"
    cp "$o/keys/ikev2_decryption_table" "$run/ws/" 2>/dev/null || : >"$run/ws/ikev2_decryption_table"
    local n_sk n_dec n_badicv
    tsk() { { WIRESHARK_CONFIG_DIR="$run/ws" tshark -r "$o/capture.pcap" -Y "$1" 2>/dev/null || true; } | wc -l; }
    n_sk=$(tsk isakmp.enc.data) n_dec=$(tsk isakmp.enc.decrypted) n_badicv=$(tsk isakmp.ikev2.integrity_checksum)
    local d_sk=- d_good=-
    if [[ -x "${decoder:-}" && -s "$o/keys/ikev2_decryption_table" ]]; then
        "$decoder" decode --color never --keys "$o/keys/ikev2_decryption_table" -Y isakmp "$o/capture.pcap" \
            >"$o/decoded-ikev2.txt" 2>&1 || true
        d_sk=$(grep -c ' SK(' "$o/decoded-ikev2.txt" || true) d_good=$(grep -c ' SK(.*} ICV good$' "$o/decoded-ikev2.txt" || true)
    fi
    python3 - "$o" "$dir" "$n_sk" "$n_dec" "$n_badicv" "$d_sk" "$d_good" "$3" <<'PY'
import csv, os, sys
o, direction, n_sk, n_dec, n_badicv, d_sk, d_good, peer = sys.argv[1:9]
problems, notes = [], []
read = lambda *p: open(os.path.join(o, *p)).read() if os.path.exists(os.path.join(o, *p)) else ""
charon_log, router_log = read("charon.log"), read("router.log")
if "%IKEV2-5-SA_UP" not in router_log:
    problems.append("the router logged no IKEv2 SA up")
if "IKE_SA dmvpn[1] established" not in charon_log:
    problems.append("charon did not establish the IKE_SA")
show = read("show-ikev2.txt")
if "READY" not in show:
    problems.append("show crypto ikev2 sa lists no SA READY")
def table(text):
    rows = {}
    for line in text.splitlines():
        if line.strip() and not line.startswith("#"):
            f = next(csv.reader([line]))
            rows[(f[0].lower(), f[1].lower())] = tuple(x.lower() for x in f[2:8])
    return rows
ours, theirs = table(read("keys", "ikev2_decryption_table")), table(read("charon", "ikev2_decryption_table"))
if not ours:
    problems.append("the router wrote no ikev2_decryption_table line")
for spis, keys in ours.items():
    if spis not in theirs:
        problems.append(f"IKE SA {spis[0]}/{spis[1]}: not in charon's keys ({read('ikev2_keys.out').strip()})")
    elif theirs[spis] != keys:
        problems.append(f"IKE SA {spis[0]}/{spis[1]}: keys differ from charon's")
    else:
        enc, integ = keys[2].strip('"').upper(), keys[5].strip('"').upper()
        notes.append(f"IKE SA keys equal charon's (SK_e, SK_a both ways; {enc}, {integ})")
if int(n_sk) == 0 or n_dec != n_sk or n_badicv != "0":
    problems.append(f"tshark with the router's table: {n_dec} of {n_sk} encrypted messages decrypted, {n_badicv} bad ICVs")
else:
    notes.append(f"tshark opens {n_dec}/{n_sk} encrypted messages")
if d_sk != "-":
    if int(d_sk) == 0 or d_good != d_sk:
        problems.append(f"dmvpn decode with the router's table: {d_good} of {d_sk} with a good ICV")
    else:
        notes.append(f"dmvpn decode opens {d_good}/{d_sk}, ICVs good")
def esp(text):
    rows = {}
    for f in csv.reader(l for l in text.splitlines() if l.strip() and not l.startswith("#")):
        rows[(f[3].lower().removeprefix("0x").zfill(8), f[1], f[2])] = (f[5].lower().removeprefix("0x"), f[7].lower().removeprefix("0x"))
    return rows
our_esp, charon_esp = esp(read("keys", "esp_sa")), esp(read("charon", "esp_sa"))
if direction == "charon-initiates":
    matched = [k for k, v in our_esp.items() if charon_esp.get(k) == v]
    if len(our_esp) != 2 or len(matched) != 2:
        problems.append(f"{len(matched)} of {len(our_esp)} ESP SAs of the router equal charon's ({len(charon_esp)} logged)")
    else:
        notes.append("Child SA installed by the router, both ESP SAs equal charon's")
    # (charon deletes the Child SA at once, so `show crypto ipsec sa` afterwards has none: the log)
    if "%CRYPTO-5-IPSEC_SA: " + peer + ": inbound spi" not in router_log:
        problems.append("the router logged no installed Child SA")
    if "unable to install" in charon_log:
        deleted = "spi 0x" in router_log and "deleted (PeerDeleted)" in router_log
        notes.append("charon could not install it (no kernel ESP) and deleted it" + (", and so did the router" if deleted else ""))
else:
    if our_esp:
        notes.append(f"the router has {len(our_esp)} ESP SAs")
    refused = "NO_PROPOSAL_CHOSEN" in charon_log or "unable to install" in charon_log
    notes.append(f"charon logged {len(charon_esp)} Child SA keys" + (", could not install them (no kernel ESP) and refused the Child SA: NO_PROPOSAL_CHOSEN" if refused else ""))
print(("ok: " if not problems else "FAIL: ") + "; ".join(notes + problems))
sys.exit(1 if problems else 0)
PY
}

# Whether this kernel can do transport-mode ESP (an IKEv2 Child SA at charon's end needs it)
kernel_esp="not probed"
if [[ " ${proposals[*]}" == *" ikev2-"* ]]; then
    ip netns add $prefix-k
    if err=$(ip -n $prefix-k xfrm state add src 192.0.2.1 dst 192.0.2.11 proto esp spi 0x1001 mode transport \
        enc 'cbc(aes)' 0x000102030405060708090a0b0c0d0e0f auth-trunc 'hmac(sha1)' 0x000102030405060708090a0b0c0d0e0f10111213 96 2>&1); then
        kernel_esp="ip xfrm state add proto esp mode transport works: ESP is there"
    else
        kernel_esp="ip xfrm state add proto esp mode transport: $(echo "$err" | head -1) (no CONFIG_INET_ESP: no ESP at charon's end, so no NHRP through the tunnel)"
    fi
    ip netns del $prefix-k
    say "kernel: $kernel_esp"
fi

for p in "${proposals[@]}"; do
    one "$p" router-initiates
    one "$p" charon-initiates
done
say "$([[ $overall == 0 ]] && echo PASS || echo FAIL): dmvpn-router <-> charon IKEv1/IKEv2 ($((SECONDS - started)) s; results in $out)"
exit $overall
