#!/usr/bin/env bash
# Installs what the tests and tools need on a fresh machine that has only the Rust toolchain:
#   tshark (the decoding oracle of the differential tests), tcpdump and iproute2 (the namespace tests:
#   tools/lab/router_lab.sh, tools/lab/replay_netns.sh), scapy + cryptography (independent generators).
# Idempotent: installs only what is missing. Needs root (or sudo) for apt.
set -euo pipefail

need_apt=()
command -v tshark >/dev/null 2>&1 || need_apt+=(tshark)
command -v tcpdump >/dev/null 2>&1 || need_apt+=(tcpdump)
command -v ip >/dev/null 2>&1 || need_apt+=(iproute2)
# crates/dmvpn-proto/tests/ikev2_strongswan.rs (root only): charon and swanctl, with openssl
[[ -x /usr/lib/ipsec/charon ]] || need_apt+=(strongswan-charon libstrongswan-standard-plugins)
command -v swanctl >/dev/null 2>&1 || need_apt+=(strongswan-swanctl)
# headless Chromium: tests/report_layout.rs measures the HTML report's labels as a browser lays them out.
command -v chromium >/dev/null 2>&1 || need_apt+=(chromium)
if ((${#need_apt[@]})); then
    SUDO=""
    [[ $(id -u) -eq 0 ]] || SUDO="sudo"
    echo "setup: apt-get install ${need_apt[*]}"
    # wireshark-common asks whether non-root users may capture; answer no, without a prompt.
    echo "wireshark-common wireshark-common/install-setuid boolean false" | $SUDO debconf-set-selections 2>/dev/null || true
    $SUDO apt-get update -q >/dev/null
    DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -q --no-install-recommends "${need_apt[@]}" >/dev/null
fi

if ! python3 -c 'import scapy, cryptography' >/dev/null 2>&1; then
    echo "setup: pip install scapy cryptography"
    python3 -m pip install -q --disable-pip-version-check scapy==2.6.1 cryptography
fi

# DuckDB's Python package: tests/export_duckdb.rs queries `dmvpn export`'s Parquet datasets with it.
if ! python3 -c 'import duckdb' >/dev/null 2>&1; then
    echo "setup: pip install duckdb"
    python3 -m pip install -q --disable-pip-version-check duckdb
fi

echo "setup: tshark $(tshark --version 2>/dev/null | head -1 | awk '{print $3}'), $(tcpdump --version 2>&1 | head -1), scapy $(python3 -c 'import scapy; print(scapy.__version__)')"
