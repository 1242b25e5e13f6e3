#!/bin/bash
# ike_interop.sh -- live interop of our IKEv1 endpoint (crates/dmvpn-proto/examples/ike_peer.rs) with a real
# strongSwan charon, both ways, in two network namespaces of our own.
#
#   lab-ikei-a  eth0 192.0.2.1/24   charon (kernel-netlink backend, IKEv1 Main Mode PSK "lab-psk-secret",
#                                    Quick Mode transport for GRE, ESP aes128-sha1, no PFS)
#   lab-ikei-b  eth0 192.0.2.2/24   ike_peer on UDP 500 (IOS-like config: one policy, wildcard key,
#                                    transform set esp-aes esp-sha-hmac mode transport)
#
# For each IKE proposal (3des-md5-modp1024, aes128-sha1-modp1024) and each direction:
#   ours->charon  ike_peer --initiate; charon responds. Pass: ike_peer sees Main Mode and Quick Mode
#                 complete (charon's QM 2 verified, our QM 3 sent), and SKEYID/SKEYID_d/a/e, Ka and
#                 both ESP SAs' keys equal the ones charon logged.
#   charon->ours  swanctl --initiate on charon; ike_peer responds. Pass: Main Mode completes (charon
#                 accepted our HASH_R), charon accepted our QM 2 and logged its keys, and SKEYID*/Ka
#                 are equal. charon's kernel has no ESP (no CONFIG_INET_ESP here), so it answers our QM 2
#                 with NO-PROPOSAL-CHOSEN instead of QM 3 (our responder reports ChildFailed), so in
#                 this direction only the phase-1 keys are compared (the ESP keys come from the same
#                 SKEYID_d, and the replay test tests/ike_strongswan.rs covers the responder's QM keys).
# Needs root, strongswan-charon strongswan-swanctl, tcpdump, tshark, python3; the shared lab helpers
# (LAB_DIR, default ../shared/lab: lib.sh for namespace/PID bookkeeping, charon_keys.py).
# Outputs: /tmp/lab-out/ike-interop/<proposal>-<direction>/{capture.pcap,charon.log,keys.json,ours.keys,peer.out}
# and /tmp/lab-out/ike-interop/summary.txt.  Exit 0 iff all four runs pass.  Time: ~30 s.
# Usage (as root): tools/interop/ike_interop.sh [proposal ...]
set -euo pipefail
REPO=$(cd "$(dirname "$0")/../.." && pwd)
LAB_DIR=${LAB_DIR:-$REPO/../shared/lab}
. "$LAB_DIR/lib.sh"
lab_need_root

PROPOSALS=${*:-3des-md5-modp1024 aes128-sha1-modp1024}
PSK=lab-psk-secret
export CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-$REPO/target}
(cd "$REPO" && cargo build -q -p dmvpn-proto --example ike_peer)
PEER_BIN=$CARGO_TARGET_DIR/debug/examples/ike_peer
TOP=${LAB_OUT:-/tmp/lab-out}/ike-interop
rm -rf "$TOP"; mkdir -p "$TOP"
OVERALL=0

charon_conf() { # <dir> <ike proposal>
    local d=$1 ikep=$2
    cat > "$d/strongswan.conf" <<EOF
charon {
  load = random nonce aes sha1 sha2 md5 hmac gmp openssl kdf kernel-netlink socket-default vici
  install_routes = no
  retransmit_tries = 3
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
    cat > "$d/swanctl.conf" <<EOF
connections {
  dmvpn {
    version = 1
    local_addrs = 192.0.2.1
    remote_addrs = 192.0.2.2
    proposals = $ikep
    dpd_delay = 0
    local { auth = psk
            id = 192.0.2.1 }
    remote { auth = psk
             id = 192.0.2.2 }
    children {
      gre { mode = transport
            local_ts = dynamic[gre]
            remote_ts = dynamic[gre]
            esp_proposals = aes128-sha1
            start_action = none }
    }
  }
}
secrets { ike-lab { id-a = 192.0.2.1
                    id-b = 192.0.2.2
                    secret = "$PSK" } }
EOF
}

# check_keys <run dir> <direction>: compare ours.keys with charon's keys.json; prints one verdict line.
check_keys() {
    python3 - "$1/keys.json" "$1/ours.keys" "$2" "$1/capture.pcap" <<'PY'
import json, sys, hmac, hashlib
logged = json.load(open(sys.argv[1]))
ours = {}
esp = {}
for line in open(sys.argv[2]):
    kind, *fields = line.split()
    kv = dict(f.split("=", 1) for f in fields)
    if kind == "ike":
        ours = kv
    else:
        esp[kv["spi"]] = kv
ike = logged["ike_sas"][-1]
problems = []
# charon learns the cookies for its log from NAT-D hashing, which a peer without NAT-T skips.
if ike.get("cookie_i", ours.get("cookie_i")) != ours.get("cookie_i"):
    problems.append("different IKE SA")
for ours_name, log_name in [("ka", "enc_key_Ka"), ("skeyid", "SKEYID"), ("skeyid_d", "SKEYID_d"),
                            ("skeyid_a", "SKEYID_a"), ("skeyid_e", "SKEYID_e")]:
    if ours.get(ours_name) != ike[log_name]:
        problems.append(f"{log_name} differs")
n_esp = 0
for sa in logged["esp_sas"]:
    if sa["spi"] in esp:
        n_esp += 1
        if esp[sa["spi"]]["enc"] != sa["encryption_key"] or esp[sa["spi"]]["int"] != sa["integrity_key"]:
            problems.append(f"ESP {sa['spi']} keys differ")
direction = sys.argv[3]
if direction == "ours-initiates" and n_esp != 2:
    problems.append(f"{n_esp} of 2 ESP SAs compared")
if direction == "charon-initiates" and len(logged["esp_sas"]) < 2:
    problems.append("charon logged no QM keys (QM 2 not accepted)")
print("keys: " + ("equal (SKEYID, SKEYID_d/a/e, Ka" + (", both ESP SAs)" if n_esp else ")") if not problems
      else "MISMATCH: " + "; ".join(problems)))
sys.exit(1 if problems else 0)
PY
}

run() { # <ike proposal> <direction: ours-initiates|charon-initiates>
    local ikep=$1 dir=$2 ok=1
    lab_init "ike-interop-$ikep-$dir" "ikei"
    local out=$TOP/$ikep-$dir
    mkdir -p "$out"
    local A B
    A=$(lab_ns a); B=$(lab_ns b)
    ip link add eth0 netns "$A" type veth peer name eth0 netns "$B"
    ip -n "$A" addr add 192.0.2.1/24 dev eth0
    ip -n "$B" addr add 192.0.2.2/24 dev eth0
    ip -n "$A" link set eth0 up
    ip -n "$B" link set eth0 up
    mkdir -p "$RUN/a/run"
    charon_conf "$RUN/a" "$ikep"
    lab_capture "$A" eth0 "$out/capture.pcap" udp
    lab_bg "$RUN/a/charon.out" ip netns exec "$A" env STRONGSWAN_CONF="$RUN/a/strongswan.conf" \
        sh -c "mount --bind '$RUN/a/run' /run && exec /usr/lib/ipsec/charon"
    lab_wait 10 "charon vici socket" test -S "$RUN/a/run/charon.vici"
    ip netns exec "$A" swanctl --load-all --uri "unix://$RUN/a/run/charon.vici" --file "$RUN/a/swanctl.conf" \
        > "$RUN/a/load.out" 2>&1
    local args=(--local 192.0.2.2 --peer 192.0.2.1 --psk "$PSK" --ike "$ikep" --esp aes128-sha1
        --timeout 15 --keys "$out/ours.keys")
    if [ "$dir" = ours-initiates ]; then
        ip netns exec "$B" "$PEER_BIN" "${args[@]}" --initiate > "$out/peer.out" 2>&1 || ok=0
    else
        ip netns exec "$B" "$PEER_BIN" "${args[@]}" > "$out/peer.out" 2>&1 &
        local peer_pid=$!
        lab_track $peer_pid
        sleep 0.5
        ip netns exec "$A" swanctl --initiate --child gre --timeout 10 --uri "unix://$RUN/a/run/charon.vici" \
            > "$out/initiate.out" 2>&1 || true
        wait $peer_pid || ok=0
    fi
    sleep 0.5
    cp "$RUN/a/charon.log" "$out/charon.log"
    lab_cleanup quiet
    trap - EXIT
    python3 "$LAB_DIR/charon_keys.py" --out "$out" "$out/charon.log" > "$out/charon_keys.out" 2>&1 || ok=0
    local verdict
    verdict=$(check_keys "$out" "$dir") || ok=0
    local sent
    sent=$( (tshark -r "$out/capture.pcap" -Y isakmp -T fields -e ip.src -e isakmp.exchangetype 2>/dev/null || true) \
        | awk '{printf "%s:%s ", ($1=="192.0.2.2")?"us":"charon", ($2==2)?"MM":($2==32)?"QM":"INFO"}' || true)
    {
        echo "=== $ikep $dir: ok=$ok"
        grep -E "^(phase|result|refused|event)" "$out/peer.out" | sed 's/^/  ike_peer: /' || true
        grep -hE "IKE_SA .* established|CHILD_SA .* established|unable to install|received NO_PROPOSAL|sending .*NO_PROPOSAL|authentication of .* successful" \
            "$out/charon.log" | sed 's/^/  charon: /' | head -8 || true
        echo "  $verdict"
        echo "  wire: $sent"
    } | tee -a "$TOP/summary.txt"
    [ $ok = 1 ] || OVERALL=1
}

for p in $PROPOSALS; do
    run "$p" ours-initiates
    run "$p" charon-initiates
done
echo "overall: $([ $OVERALL = 0 ] && echo PASS || echo FAIL)" | tee -a "$TOP/summary.txt"
exit $OVERALL
