#!/bin/bash
# ikev2_lab.sh -- record real strongSwan IKEv2 PSK sessions, with charon's logged keys, into
# testdata/ikev2/lab/.
#
# Two strongSwan charon instances (Debian's 5.9.8) run in network namespaces lab-v2-a (192.0.2.1) and
# lab-v2-b (192.0.2.2) joined by a veth; tcpdump on a's eth0 records the NBMA wire. IKEv2 with the
# pre-shared key "lab-psk-secret", IDs = NBMA addresses, one Child SA for GRE (protocol 47) between the
# two NBMA addresses. Each scenario: IKE_SA_INIT + IKE_AUTH (first Child SA), GRE both ways
# (gre_tool.py, raw sockets), a forced Child SA rekey (`swanctl --rekey --child`), GRE, a forced IKE SA
# rekey (`swanctl --rekey --ike`), GRE, an idle pause longer than dpd_delay (DPD: an empty
# INFORMATIONAL), then `swanctl --terminate` (INFORMATIONAL with Delete).
#
# Transport mode: the kernel here has no ESP (CONFIG_INET_ESP unset: `ip xfrm state add ... proto esp`
# fails), and strongSwan 5.9.8's userspace ESP (kernel-libipsec) does only tunnel mode over UDP
# encapsulation. So the scenarios that carry ESP ask for tunnel mode with `encap = yes` (IKE moves to UDP
# 4500, ESP-in-UDP); scenario `transport` asks for transport mode on the kernel backend: IKE_AUTH
# carries USE_TRANSPORT_MODE for GRE, b derives and logs the Child SA's keys, fails to install it
# (netlink "Protocol not supported") and answers NO_PROPOSAL_CHOSEN: no ESP, no Child SA rekey.
#
# Keys: Debian's charon has no save-keys plugin; its file log at `ike = 4` / `chd = 4` prints the IKE
# keys ("Sk_d secret", "Sk_ai secret", ...) and the Child SA keys ("encryption initiator key", ...).
# tools/lab/ikev2_keys.py turns both logs into Wireshark's ikev2_decryption_table (also a copy with
# dmvpn's optional SK_d, SK_pi and SK_pr columns) and an esp_sa file, matching each key set to its SPIs by checking
# the ICVs of the recorded messages; then tshark must decrypt every encrypted IKE message (no bad
# ICV) and every ESP packet to GRE, or the scenario fails and testdata is left alone.
#
# Scenarios (default: all six):
#   aes256-sha256-modp2048   IKE aes256-sha256-modp2048, ESP aes256-sha256 (no PFS)
#   aes128-sha1-modp1024     IKE aes128-sha1-modp1024,   ESP aes128-sha1
#   aes128gcm16-ecp256       IKE aes128gcm16-prfsha256-ecp256, ESP aes128gcm16
#   3des-sha1-modp1024       IKE 3des-sha1-modp1024,     ESP 3des-sha1
#   pfs                      IKE aes128-sha256-modp2048, ESP aes128-sha256-modp2048 (PFS on the
#                            CREATE_CHILD_SA rekey: a KE payload there)
#   transport                IKE aes128-sha256-modp2048, transport mode, kernel backend (no ESP)
# Outputs, per scenario, in testdata/ikev2/lab/ (run-time files in /tmp/lab-out/ikev2-<scenario>/):
#   <scenario>.pcap                      the wire
#   <scenario>.ikev2_decryption_table    Wireshark UAT (8 columns)
#   <scenario>.sk_d.ikev2_decryption_table  the same with SK_d, SK_pi, SK_pr as 9th-11th columns (dmvpn only)
#   <scenario>.esp_sa                    Wireshark UAT, the Child SAs' ESP keys charon logged
# Needs root, strongswan-charon strongswan-swanctl libcharon-extra-plugins
# libstrongswan-standard-plugins tcpdump tshark python3 with
# `cryptography` (installed with lab_apt when missing) and the shared lab (LAB_DIR, default
# ../shared/lab beside the repository: lib.sh, gre_tool.py).
# Usage (as root): tools/lab/ikev2_lab.sh [scenario ...]   (IKEV2_LAB_DEST=DIR writes elsewhere)
# Time: ~25 s a scenario (the DPD pause is 7 s), 2.5 min for all six. Exit status 0 iff all passed.
set -euo pipefail
REPO=$(cd "$(dirname "$0")/../.." && pwd)
LAB_DIR=${LAB_DIR:-$REPO/../shared/lab}
DEST=${IKEV2_LAB_DEST:-$REPO/testdata/ikev2/lab}
# shellcheck source=lab_lib.sh
. "$REPO/tools/lab/lab_lib.sh"
# shellcheck source=/dev/null
. "$LAB_DIR/lib.sh"
lab_need_root

missing=()
[ -x /usr/lib/ipsec/charon ] || missing+=(strongswan-charon)
command -v swanctl >/dev/null || missing+=(strongswan-swanctl)
[ -e /usr/lib/ipsec/plugins/libstrongswan-kernel-libipsec.so ] || missing+=(libcharon-extra-plugins)
# openssl (ECP groups) and gcm (AES-GCM)
[ -e /usr/lib/ipsec/plugins/libstrongswan-gcm.so ] || missing+=(libstrongswan-standard-plugins)
command -v tcpdump >/dev/null || missing+=(tcpdump)
command -v tshark >/dev/null || missing+=(tshark)
python3 -c 'import cryptography' 2>/dev/null || missing+=(python3-cryptography)
lab_apt "${missing[@]}"

SCEN=${*:-aes256-sha256-modp2048 aes128-sha1-modp1024 aes128gcm16-ecp256 3des-sha1-modp1024 pfs transport}
PSK=lab-psk-secret
DPD_DELAY=4
mkdir -p "$DEST"
OVERALL=0

# write_charon_conf DIR BACKEND(xfrm|libipsec)
write_charon_conf() {
    local d=$1 backend=$2 plugins="random nonce aes sha1 sha2 md5 hmac gmp gcrypt openssl gcm kdf"
    [ "$backend" = libipsec ] && plugins="$plugins kernel-libipsec"
    cat > "$d/strongswan.conf" <<EOF
charon {
  load = $plugins kernel-netlink socket-default vici
  install_routes = $([ "$backend" = libipsec ] && echo yes || echo no)
  retransmit_tries = 3
  filelog {
    lab {
      path = $d/charon.log
      time_format = %T
      ike_name = yes
      flush_line = yes
      default = 1
      ike = 4
      chd = 4
      knl = 2
      cfg = 1
      net = 1
      enc = 1
    }
  }
  syslog {
    daemon { default = -1 }
    auth { default = -1 }
  }
  plugins {
    vici { socket = unix://$d/run/charon.vici }
    kernel-libipsec { allow_peer_ts = yes }
    kernel-netlink { fwmark = !0x42 }
    socket-default { fwmark = 0x42 }
  }
}
EOF
}

# write_swanctl_conf DIR ME PEER IKE-PROPOSAL ESP-PROPOSAL MODE ENCAP
write_swanctl_conf() {
    local d=$1 me=$2 peer=$3 ikep=$4 espp=$5 mode=$6 encap=$7
    cat > "$d/swanctl.conf" <<EOF
connections {
  dmvpn {
    version = 2
    encap = $encap
    local_addrs = $me
    remote_addrs = $peer
    proposals = $ikep
    dpd_delay = ${DPD_DELAY}s
    rekey_time = 0
    local { auth = psk
      id = $me }
    remote { auth = psk
      id = $peer }
    children {
      gre {
        mode = $mode
        local_ts = dynamic[gre]
        remote_ts = dynamic[gre]
        esp_proposals = $espp
        rekey_time = 0
        start_action = none
      }
    }
  }
}
secrets {
  ike-lab {
    id-a = 192.0.2.1
    id-b = 192.0.2.2
    secret = "$PSK"
  }
}
EOF
}

run_scenario() {
    local sc=$1 backend=libipsec ikep espp mode=tunnel encap=yes esp=yes
    case $sc in
        aes256-sha256-modp2048) ikep=aes256-sha256-modp2048; espp=aes256-sha256 ;;
        aes128-sha1-modp1024)   ikep=aes128-sha1-modp1024;   espp=aes128-sha1 ;;
        aes128gcm16-ecp256)     ikep=aes128gcm16-prfsha256-ecp256; espp=aes128gcm16 ;;
        3des-sha1-modp1024)     ikep=3des-sha1-modp1024;     espp=3des-sha1 ;;
        pfs)                    ikep=aes128-sha256-modp2048; espp=aes128-sha256-modp2048 ;;
        transport) ikep=aes128-sha256-modp2048; espp=aes128-sha256; backend=xfrm; mode=transport
                   encap=no; esp=no ;;
        *) echo "ikev2_lab: unknown scenario $sc" >&2; return 1 ;;
    esac
    lab_init "ikev2-$sc" v2
    local SUM=$OUT/summary.txt A B n me peer
    rm -rf "$OUT"; mkdir -p "$OUT"
    echo "=== IKEv2 lab: $sc (backend=$backend ike=$ikep esp=$espp mode=$mode encap=$encap) ===" | tee "$SUM"
    A=$(lab_ns a); B=$(lab_ns b)
    ip link add eth0 netns "$A" type veth peer name eth0 netns "$B"
    ip -n "$A" addr add 192.0.2.1/24 dev eth0
    ip -n "$B" addr add 192.0.2.2/24 dev eth0
    ip -n "$A" link set eth0 up
    ip -n "$B" link set eth0 up
    for n in a b; do
        if [ $n = a ]; then me=192.0.2.1; peer=192.0.2.2; else me=192.0.2.2; peer=192.0.2.1; fi
        mkdir -p "$RUN/$n/run"
        write_charon_conf "$RUN/$n" "$backend"
        write_swanctl_conf "$RUN/$n" "$me" "$peer" "$ikep" "$espp" "$mode" "$encap"
    done
    # the NBMA wire only: no ARP
    lab_capture "$A" eth0 "$OUT/capture.pcap" not arp
    for n in a b; do
        lab_bg "$RUN/$n/charon.out" ip netns exec "lab-v2-$n" env STRONGSWAN_CONF="$RUN/$n/strongswan.conf" \
            sh -c "mount --bind '$RUN/$n/run' /run && exec /usr/lib/ipsec/charon"
        lab_wait 10 "charon $n vici socket" test -S "$RUN/$n/run/charon.vici"
        ip netns exec "lab-v2-$n" swanctl --load-all --uri "unix://$RUN/$n/run/charon.vici" \
            --file "$RUN/$n/swanctl.conf" > "$RUN/$n/load.out" 2>&1
    done
    sw() { local n=$1; shift; ip netns exec "lab-v2-$n" swanctl "$@" --uri "unix://$RUN/$n/run/charon.vici"; }
    gre_round() {
        local tag=$1 rb ra
        [ $esp = yes ] || return 0
        ip netns exec "$B" python3 "$LAB_DIR/gre_tool.py" recv --count 2 --timeout 5 > "$RUN/recv-b-$tag.txt" 2>&1 &
        rb=$!
        ip netns exec "$A" python3 "$LAB_DIR/gre_tool.py" recv --count 2 --timeout 5 > "$RUN/recv-a-$tag.txt" 2>&1 &
        ra=$!
        sleep 0.5
        ip netns exec "$A" python3 "$LAB_DIR/gre_tool.py" send 192.0.2.2 --kind ipv4 --count 2 \
            --src-tunnel 10.99.200.1 --dst-tunnel 10.99.200.2 >> "$SUM" 2>&1
        ip netns exec "$B" python3 "$LAB_DIR/gre_tool.py" send 192.0.2.1 --kind ipv4 --count 2 \
            --src-tunnel 10.99.200.2 --dst-tunnel 10.99.200.1 >> "$SUM" 2>&1
        wait $rb || { echo "!! GRE to b lost ($tag)" | tee -a "$SUM"; ok=0; }
        wait $ra || { echo "!! GRE to a lost ($tag)" | tee -a "$SUM"; ok=0; }
    }
    local ok=1
    echo "--- initiate ---" >> "$SUM"
    sw a --initiate --child gre --timeout 15 >> "$SUM" 2>&1 || echo "(initiate returned non-zero)" >> "$SUM"
    gre_round first
    if [ $esp = yes ]; then
        echo "--- rekey child ---" >> "$SUM"
        sw a --rekey --child gre >> "$SUM" 2>&1 || true
        sleep 2
        gre_round child-rekeyed
    fi
    echo "--- rekey IKE SA ---" >> "$SUM"
    sw a --rekey --ike dmvpn >> "$SUM" 2>&1 || true
    sleep 2
    gre_round ike-rekeyed
    echo "--- list-sas ---" >> "$SUM"
    sw a --list-sas >> "$SUM" 2>&1 || true
    echo "--- idle for DPD ($DPD_DELAY s) ---" >> "$SUM"
    sleep $((DPD_DELAY + 3))
    echo "--- terminate ---" >> "$SUM"
    sw a --terminate --ike dmvpn --timeout 5 >> "$SUM" 2>&1 || true
    sleep 1
    for n in a b; do cp "$RUN/$n/charon.log" "$OUT/charon-$n.log"; done
    cp "$RUN/a/strongswan.conf" "$OUT/strongswan-a.conf"; cp "$RUN/a/swanctl.conf" "$OUT/swanctl-a.conf"
    lab_cleanup
    trap - EXIT
    grep -hE "netlink error|unable to (add|install)|unsupported mode|failed" "$OUT"/charon-[ab].log \
        | sed 's/^/log: /' >> "$SUM" || true

    python3 "$REPO/tools/lab/ikev2_keys.py" --pcap "$OUT/capture.pcap" --out "$OUT/wireshark" \
        "$OUT/charon-a.log" "$OUT/charon-b.log" | tee -a "$SUM" || ok=0
    local n_ike n_sk n_dec n_badicv n_esp n_esp_gre
    export WIRESHARK_CONFIG_DIR=$OUT/wireshark
    n_ike=$(tshark -r "$OUT/capture.pcap" -Y isakmp 2>/dev/null | wc -l)
    n_sk=$(tshark -r "$OUT/capture.pcap" -Y isakmp.enc.data 2>/dev/null | wc -l)
    n_dec=$(tshark -r "$OUT/capture.pcap" -Y isakmp.enc.decrypted 2>/dev/null | wc -l)
    n_badicv=$(tshark -r "$OUT/capture.pcap" -Y isakmp.ikev2.integrity_checksum 2>/dev/null | wc -l)
    n_esp=$(tshark -r "$OUT/capture.pcap" -Y esp 2>/dev/null | wc -l)
    n_esp_gre=$(tshark -r "$OUT/capture.pcap" -o esp.enable_encryption_decode:TRUE -Y "esp && gre" 2>/dev/null | wc -l)
    tshark -r "$OUT/capture.pcap" -o esp.enable_encryption_decode:TRUE -V > "$OUT/decrypted.txt" 2>/dev/null || true
    unset WIRESHARK_CONFIG_DIR
    echo "scenario=$sc ike=$n_ike encrypted=$n_sk decrypted-by-tshark=$n_dec bad-icv=$n_badicv esp=$n_esp esp->gre=$n_esp_gre" \
        | tee -a "$SUM"
    if [ "$n_sk" = 0 ] || [ "$n_dec" != "$n_sk" ] || [ "$n_badicv" != 0 ]; then
        echo "!! tshark does not decrypt every encrypted IKE message" | tee -a "$SUM"; ok=0
    fi
    if [ $esp = yes ] && { [ "$n_esp" -lt 12 ] || [ "$n_esp_gre" != "$n_esp" ]; }; then
        echo "!! ESP missing or not all decrypted" | tee -a "$SUM"; ok=0
    fi
    [ $ok = 1 ] || { OVERALL=1; echo "!! scenario $sc failed (see $SUM)"; return 0; }
    cp "$OUT/capture.pcap" "$DEST/$sc.pcap"
    cp "$OUT/wireshark/ikev2_decryption_table" "$DEST/$sc.ikev2_decryption_table"
    cp "$OUT/wireshark/ikev2_decryption_table.sk_d" "$DEST/$sc.sk_d.ikev2_decryption_table"
    cp "$OUT/wireshark/esp_sa" "$DEST/$sc.esp_sa"
    echo "ikev2_lab: $DEST/$sc.{pcap,ikev2_decryption_table,esp_sa}"
}

for s in $SCEN; do run_scenario "$s"; done
exit $OVERALL
