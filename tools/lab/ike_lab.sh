#!/bin/bash
# ike_lab.sh -- record real strongSwan IKEv1 PSK sessions (with their logged keys) into testdata/isakmp/.
#
# Runs the shared lab's ipsec_lab.sh (two strongSwan charon instances in network namespaces, IKEv1 Main
# Mode with PSK "lab-psk-secret", Quick Mode for GRE; charon logs SKEYID, SKEYID_d/a/e, Ka, the initial
# IV, the DH secret and the Quick Mode keys; charon_keys.py turns them into keys.json), then copies each
# scenario's capture and a trimmed keys file here:
#   testdata/isakmp/strongswan-<scenario>.pcap        the wire (UDP 500/4500, ESP-in-UDP)
#   testdata/isakmp/strongswan-<scenario>.keys.json   keys.json minus log paths, plus the PSK
# Needs root, strongswan-charon strongswan-swanctl libcharon-extra-plugins, tcpdump, tshark, python3, and
# the lab scripts (default ../shared/lab beside the repository; override with LAB_DIR=...).
# Usage (as root): tools/lab/ike_lab.sh [scenario ...]   (default: xfrm-3des xfrm-aes libipsec-aes)
set -euo pipefail
REPO=$(cd "$(dirname "$0")/../.." && pwd)
LAB_DIR=${LAB_DIR:-$REPO/../shared/lab}
OUT=$REPO/testdata/isakmp
SCENARIOS=${*:-xfrm-3des xfrm-aes libipsec-aes}
[ -x "$LAB_DIR/ipsec_lab.sh" ] || { echo "ike_lab: no $LAB_DIR/ipsec_lab.sh" >&2; exit 1; }
bash "$LAB_DIR/ipsec_lab.sh" "$SCENARIOS"
VERSION=$(dpkg-query -W -f '${Version}' strongswan-charon 2>/dev/null || echo unknown)
for s in $SCENARIOS; do
    src=/tmp/lab-out/ipsec/$s
    cp "$src/capture.pcap" "$OUT/strongswan-$s.pcap"
    python3 - "$src/keys.json" "$OUT/strongswan-$s.keys.json" "$VERSION" "$s" <<'PY'
import json, sys
keys = json.load(open(sys.argv[1]))
for sa in keys["ike_sas"]:
    sa.pop("log", None)
    sa.pop("log_unique_id", None)
    sa["psk"] = "lab-psk-secret".encode().hex()
keys["strongswan"] = sys.argv[3]
keys["scenario"] = sys.argv[4]
json.dump(keys, open(sys.argv[2], "w"), indent=1, sort_keys=True)
open(sys.argv[2], "a").write("\n")
PY
    echo "ike_lab: $OUT/strongswan-$s.{pcap,keys.json}"
done
