#!/usr/bin/env bash
# Renders the `dmvpn sessions --format html` report at 5 and 50 spokes (and of
# testdata/dmvpn/phase1.pcap) in headless Chromium, and checks each screenshot is a real page: the
# PNG has the window's size, is not blank (at least 2 % of the pixels differ from the background,
# at least 16 distinct colours) and shows the expected state colours (green: registered with EIGRP
# up; red: a pair with an error finding).
#
# The 5- and 50-spoke captures come from ../shared/bench/gen_corpus.py (small: --pps 10, 400 and
# 2500 frames, about 5 s to make); the ESP keys of a fifth of the spokes are left out of the key
# file, so that those pairs show what a missing key looks like (ESP not decrypted, no NHRP or
# EIGRP seen inside, an error finding), beside the healthy ones.
#
# Usage: tools/perf/report_screenshot.sh [OUT_DIR]    (default: a temporary directory, kept and printed)
# Needs Debian's `chromium`. When it is missing: installed with apt under CI=true, else skipped with
# a message (exit 0). Without ../shared/bench/gen_corpus.py only phase1 is rendered. Builds the
# dmvpn binary with cargo (CARGO_TARGET_DIR is honoured).
set -euo pipefail

root=$(cd "$(dirname "$0")/../.." && pwd)
out=${1:-$(mktemp -d /tmp/dmvpn-report.XXXXXX)}
mkdir -p "$out"

browser=$(command -v chromium || command -v chromium-browser || true)
if [ -z "$browser" ]; then
    if [ "${CI:-}" = "true" ]; then
        echo "report_screenshot: installing chromium with apt"
        apt-get update -qq
        DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends chromium chromium-driver >/dev/null
        browser=$(command -v chromium)
    else
        echo "report_screenshot: SKIPPED: chromium is not installed (apt-get install chromium, or run with CI=true to install it)"
        exit 0
    fi
fi

cd "$root"
cargo build -q -p dmvpn --bin dmvpn
dmvpn="${CARGO_TARGET_DIR:-$root/target}/debug/dmvpn"

width=1280
render() {
    local name=$1 height=$2 expect=$3
    shift 3
    "$dmvpn" sessions "$@" --format html >"$out/$name.html"
    # --no-sandbox: CI runs as root, where Chromium's sandbox refuses to start.
    timeout 120 "$browser" --headless --no-sandbox --disable-gpu --hide-scrollbars \
        --disable-background-networking --disable-component-update --disable-sync --disable-dev-shm-usage \
        --no-first-run --disable-extensions --user-data-dir="$(mktemp -d)" \
        --window-size="$width,$height" --screenshot="$out/$name.png" "file://$out/$name.html" \
        >"$out/$name.chromium.log" 2>&1 || {
        cat "$out/$name.chromium.log"
        echo "report_screenshot: chromium failed on $name" >&2
        exit 1
    }
    python3 - "$out/$name.png" "$width" "$height" "$expect" <<'EOF'
import struct, sys, zlib

path, width, height, expect = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), sys.argv[4]
data = open(path, "rb").read()
assert data[:8] == b"\x89PNG\r\n\x1a\n", "not a PNG"
pos, idat, ihdr = 8, b"", None
while pos < len(data):
    length, kind = struct.unpack("!I4s", data[pos:pos + 8])
    body = data[pos + 8:pos + 8 + length]
    if kind == b"IHDR":
        ihdr = struct.unpack("!IIBBBBB", body)
    elif kind == b"IDAT":
        idat += body
    pos += 12 + length
w, h, depth, colour_type, _, _, interlace = ihdr
assert (w, h) == (width, height), f"size {w}x{h}, expected {width}x{height}"
assert depth == 8 and colour_type in (2, 6) and interlace == 0, f"unexpected PNG format {ihdr}"
bpp = 3 if colour_type == 2 else 4
raw = zlib.decompress(idat)
stride = w * bpp
rows, prev, at = [], bytearray(stride), 0
for _ in range(h):
    kind, line = raw[at], bytearray(raw[at + 1:at + 1 + stride])
    at += 1 + stride
    for i in range(stride):
        a = line[i - bpp] if i >= bpp else 0
        b, c = prev[i], (prev[i - bpp] if i >= bpp else 0)
        if kind == 1:
            line[i] = (line[i] + a) & 0xFF
        elif kind == 2:
            line[i] = (line[i] + b) & 0xFF
        elif kind == 3:
            line[i] = (line[i] + (a + b) // 2) & 0xFF
        elif kind == 4:
            p = a + b - c
            pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
            line[i] = (line[i] + (a if pa <= pb and pa <= pc else b if pb <= pc else c)) & 0xFF
    rows.append(bytes(line))
    prev = line
colours, background, total = {}, rows[0][:3], w * h
for line in rows:
    for i in range(0, stride, bpp):
        px = line[i:i + 3]
        colours[px] = colours.get(px, 0) + 1
inked = total - colours.get(background, 0)
def near(rgb, tol=40):
    return sum(n for px, n in colours.items() if all(abs(px[k] - rgb[k]) <= tol for k in range(3)))
palette = {"red": (0xC0, 0x39, 0x2B), "green": (0x27, 0xAE, 0x60)}
found = {name: near(palette[name]) for name in expect.split("+")}
print(f"{path}: {w}x{h}, {len(colours)} colours, {100 * inked / total:.1f} % inked, {found} pixels")
assert inked >= total // 50, "the page is blank"
assert len(colours) >= 16, "too few colours for a rendered report"
for name, count in found.items():
    assert count >= 200, f"no {name} in the topology"
EOF
}

start=$(date +%s)
render phase1 1400 red testdata/dmvpn/phase1.pcap --keys testdata/dmvpn/phase1.esp_sa
generator=../shared/bench/gen_corpus.py
if [ -f "$generator" ]; then
    for spokes in 5 50; do
        packets=$((spokes == 5 ? 400 : 2500))
        python3 "$generator" --spokes "$spokes" --pps 10 --packets "$packets" \
            --out "$out/spokes-$spokes.pcap" --keys-out "$out/spokes-$spokes.all.esp_sa" >/dev/null
        # Leave out the keys of every fifth spoke (203.0.113.15, .20, …): their pairs show errors.
        grep -v -E '"203\.0\.113\.(15|20|25|30|35|40|45|50|55|60)"' "$out/spokes-$spokes.all.esp_sa" \
            >"$out/spokes-$spokes.esp_sa"
    done
    render spokes-5 1300 green+red "$out/spokes-5.pcap" --keys "$out/spokes-5.esp_sa"
    render spokes-50 1900 green+red "$out/spokes-50.pcap" --keys "$out/spokes-50.esp_sa"
else
    echo "report_screenshot: $generator not found (../shared beside the checkout): 5 and 50 spokes skipped"
fi
echo "report_screenshot: OK in $(($(date +%s) - start)) s; screenshots in $out"
