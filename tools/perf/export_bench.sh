#!/usr/bin/env bash
# `dmvpn export --format parquet` against `dmvpn decode --format json` on the perf corpus, side by side
# (wall time, MB/s of capture, peak RSS), the Parquet dataset's size against the capture's, and the memory
# of an export over a large capture set (ring files made from the corpus, shifted in time one after the
# other, written transiently in /tmp and removed afterwards).
#
#   tools/perf/export_bench.sh [--packets N] [--spokes N] [--dir DIR] [--big-gib G] [--big-dir DIR]
#
# The corpus is tools/perf/bench.sh's (../shared/bench/gen_corpus.py, 300000 packets, 50 spokes), made
# in DIR (default /tmp/dmvpn-bench) when missing. The large set (default 10 GiB; --big-gib 0 skips it) is
# written under --big-dir (default /tmp; /dev/shm where /tmp lacks the space) and removed at the end.
# Nothing here asserts on time: the figures are for the reader.
set -euo pipefail
cd "$(dirname "$0")/../.."
packets=300000 spokes=50 dir=/tmp/dmvpn-bench big=10 bigdir=/tmp
while (($#)); do
    case $1 in
        --packets) packets=$2; shift 2 ;;
        --spokes) spokes=$2; shift 2 ;;
        --dir) dir=$2; shift 2 ;;
        --big-gib) big=$2; shift 2 ;;
        --big-dir) bigdir=$2; shift 2 ;;
        *) echo "usage: $0 [--packets N] [--spokes N] [--dir DIR] [--big-gib G] [--big-dir DIR]" >&2; exit 2 ;;
    esac
done
corpus=$dir/corpus-$spokes-$packets
mkdir -p "$dir"
if [[ ! -s $corpus.pcap ]]; then
    tools/setup.sh
    python3 ../shared/bench/gen_corpus.py --spokes "$spokes" --packets "$packets" --out "$corpus.pcap" \
        --keys-out "$corpus.esp_sa" --sa-out "$corpus.sa" --manifest-out "$corpus.json" >/dev/null
fi
cargo build --release -q -p dmvpn --features parquet
dmvpn=${CARGO_TARGET_DIR:-$PWD/target}/release/dmvpn
bytes=$(stat -L -c %s "$corpus.pcap")
out=$(mktemp -d /tmp/dmvpn-export-bench.XXXXXX)
big_out=$(mktemp -d "$bigdir/dmvpn-export-bench-set.XXXXXX")
trap 'rm -rf "$out" "$big_out"' EXIT

# timed NAME COMMAND...: best wall time of 3 and the largest peak RSS.
timed() {
    local name=$1; shift
    local best="" peak=0 i t0 t1 took kb
    for ((i = 0; i < 3; i++)); do
        t0=$EPOCHREALTIME
        /usr/bin/time -f '%M' -o "$out/rss" "$@" >/dev/null 2>"$out/err" || { cat "$out/err" >&2; exit 1; }
        t1=$EPOCHREALTIME
        took=$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.3f", b - a }')
        kb=$(tail -1 "$out/rss")
        if [[ -z $best ]] || awk -v x="$took" -v y="$best" 'BEGIN { exit !(x < y) }'; then best=$took; fi
        ((kb > peak)) && peak=$kb
    done
    awk -v n="$name" -v s="$best" -v b="$bytes" -v k="$peak" \
        'BEGIN { printf "%-34s %8.3f s %8.1f MB/s %8.1f MiB RSS\n", n, s, b / s / 1e6, k / 1024 }'
}
echo "corpus: $corpus.pcap ($(awk -v b="$bytes" 'BEGIN { printf "%.1f MiB", b / 1048576 }'), $packets frames)"
timed "decode --format json > /dev/null" "$dmvpn" decode "$corpus.pcap" --keys "$corpus.esp_sa" --format json
timed "sessions --format json > /dev/null" "$dmvpn" sessions "$corpus.pcap" --keys "$corpus.esp_sa" --format json
timed "export --format parquet" "$dmvpn" export "$corpus.pcap" --keys "$corpus.esp_sa" -o "$out/dataset"
parquet=$(du -sb "$out/dataset" | cut -f1)
awk -v p="$parquet" -v c="$bytes" 'BEGIN { printf "parquet dataset: %.1f MiB, %.1f%% of the capture\n", p / 1048576, 100 * p / c }'
for table in "$out"/dataset/*; do
    printf '  %-18s %8.1f KiB\n' "$(basename "$table")" "$(du -sb "$table" | awk '{ print $1 / 1024 }')"
done

if ((big > 0)); then
    # Ring files: copies of the corpus, each shifted to start where the one before ended.
    span=$(python3 -c 'import json,sys; print(int(json.load(open(sys.argv[1]))["counts"].get("duration", 0)) or 200)' "$corpus.json" 2>/dev/null || echo 200)
    copies=$(( (big * 1073741824 + bytes - 1) / bytes ))
    free=$(df -B1 --output=avail "$bigdir" | tail -1)
    if (( copies * bytes + 2 * 1073741824 > free )); then
        echo "large set: skipped, $bigdir has $(( free / 1073741824 )) GiB free for $big GiB (--big-dir, --big-gib)"
        exit 0
    fi
    mkdir -p "$big_out/ring"
    for ((i = 0; i < copies; i++)); do
        editcap -t $(( i * (span + 1) )) "$corpus.pcap" "$big_out/ring/ring_$(printf %05d "$i").pcap"
    done
    total=$(du -sb "$big_out/ring" | cut -f1)
    t0=$EPOCHREALTIME
    /usr/bin/time -f '%M' -o "$out/rss" "$dmvpn" export "$big_out/ring" --keys "$corpus.esp_sa" -o "$big_out/dataset" \
        2>"$out/err" || { cat "$out/err" >&2; exit 1; }
    t1=$EPOCHREALTIME
    awk -v n="$copies" -v b="$total" -v a="$t0" -v z="$t1" -v k="$(tail -1 "$out/rss")" -v p="$(du -sb "$big_out/dataset" | cut -f1)" \
        'BEGIN { printf "large set: %d files, %.2f GiB: export %.0f s (%.1f MB/s), peak RSS %.1f MiB, parquet %.1f MiB (%.1f%%)\n",
                 n, b / 1073741824, z - a, b / (z - a) / 1e6, k / 1024, p / 1048576, 100 * p / b }'
fi
