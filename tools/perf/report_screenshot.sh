#!/usr/bin/env bash
# Renders the `dmvpn sessions --format html` report of testdata/dmvpn/phase1.pcap and
# testdata/sessions/healthy.pcap in headless Chromium and checks each screenshot is a real page:
# the PNG has the window's size, is not blank (at least 2 % of the pixels differ from the
# background, at least 16 distinct colours) and shows the topology graph's edge colours
# (phase1: red for the pair with an error finding; healthy: green for registered pairs with EIGRP up).
#
# Usage: tools/perf/report_screenshot.sh [OUT_DIR]    (default: a temporary directory, kept and printed)
# Needs Debian's `chromium`. When it is missing: installed with apt under CI=true, else skipped with
# a message (exit 0). Builds the dmvpn binary with cargo (CARGO_TARGET_DIR is honoured).
set -euo pipefail

root=$(cd "$(dirname "$0")/../.." && pwd)
out=${1:-$(mktemp -d /tmp/dmvpn-report.XXXXXX)}
mkdir -p "$out"

browser=$(command -v chromium || command -v chromium-browser || true)
if [ -z "$browser" ]; then
    if [ "${CI:-}" = "true" ]; then
        echo "report_screenshot: installing chromium with apt"
        apt-get update -qq
        DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends chromium >/dev/null
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
height=2400
render() {
    local name=$1 expect=$2
    shift 2
    "$dmvpn" sessions "$@" --format html >"$out/$name.html"
    # --no-sandbox: CI runs as root, where Chromium's sandbox refuses to start.
    timeout 120 "$browser" --headless --no-sandbox --disable-gpu --hide-scrollbars \
        --no-first-run --disable-extensions --user-data-dir="$out/profile" \
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
wanted = {"red": (0xC0, 0x39, 0x2B), "green": (0x27, 0xAE, 0x60)}[expect]
found = near(wanted)
print(f"{path}: {w}x{h}, {len(colours)} colours, {100 * inked / total:.1f} % inked, {found} {expect} pixels")
assert inked >= total // 50, "the page is blank"
assert len(colours) >= 16, "too few colours for a rendered report"
assert found >= 200, f"no {expect} edge in the topology graph"
EOF
}

start=$(date +%s)
render phase1 red testdata/dmvpn/phase1.pcap --keys testdata/dmvpn/phase1.esp_sa
render healthy green testdata/sessions/healthy.pcap --keys testdata/sessions/healthy.esp_sa \
    --keys testdata/sessions/healthy.ikev1_decryption_table --psk lab-psk-secret
echo "report_screenshot: OK in $(($(date +%s) - start)) s; screenshots in $out"
