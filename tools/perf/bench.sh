#!/usr/bin/env bash
# Decode + decrypt benchmark: dmvpn against tshark on the same capture and keys, in one run.
#
#   tools/perf/bench.sh [--packets N] [--spokes N] [--dir DIR] [--no-tshark] [--no-diff]
#
# Generates the perf corpus with ../shared/bench/gen_corpus.py (default 300000 packets, 50 spokes) unless it is
# already in DIR (default /tmp/dmvpn-bench), then times, for each tool, decode with ESP decryption (and our
# decode-only passes, `--format summary` being decode with no per-frame output, and `sessions`), with peak
# RSS from /usr/bin/time, and prints frames/s, MB/s and the ratio to tshark. Each dmvpn row is the best of
# 3 runs (bash's microsecond clock), tshark's rows one run each; RSS is the largest of the runs.
# Finally it checks that both tools agree frame by frame on that corpus (the tshark_diff test, --ignored case).
# Nothing here asserts on time: the figures are for the reader.
set -euo pipefail
cd "$(dirname "$0")/../.."

packets=300000 spokes=50 dir=/tmp/dmvpn-bench run_tshark=1 run_diff=1
while (($#)); do
    case $1 in
        --packets) packets=$2; shift 2 ;;
        --spokes) spokes=$2; shift 2 ;;
        --dir) dir=$2; shift 2 ;;
        --no-tshark) run_tshark=0; shift ;;
        --no-diff) run_diff=0; shift ;;
        *) echo "usage: $0 [--packets N] [--spokes N] [--dir DIR] [--no-tshark] [--no-diff]" >&2; exit 2 ;;
    esac
done

generator=../shared/bench/gen_corpus.py
corpus=$dir/corpus-$spokes-$packets
mkdir -p "$dir"
if [[ ! -s $corpus.pcap ]]; then
    [[ -f $generator ]] || { echo "bench: $generator not found (../shared must be beside the checkout)" >&2; exit 1; }
    tools/setup.sh
    echo "bench: generating $corpus.pcap ($packets packets, $spokes spokes)"
    python3 "$generator" --spokes "$spokes" --packets "$packets" --out "$corpus.pcap" \
        --keys-out "$corpus.esp_sa" --sa-out "$corpus.sa" --manifest-out "$corpus.json" >/dev/null
fi
frames=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["counts"]["frames"])' "$corpus.json")
bytes=$(stat -L -c %s "$corpus.pcap")

cargo build --release -q -p dmvpn
# Where cargo put it: CARGO_TARGET_DIR and .cargo/config.toml are honoured.
dmvpn=$(cargo metadata --format-version 1 --no-deps |
    python3 -c 'import json, sys; print(json.load(sys.stdin)["target_directory"])')/release/dmvpn

# run NAME COMMAND...: runs the command $repeat times (output to /dev/null) and records the best wall
# time (bash's microsecond clock) and the largest peak RSS (/usr/bin/time).
declare -A secs rss
repeat=3
run() {
    local name=$1; shift
    local stats best="" peak=0 i
    stats=$(mktemp)
    for ((i = 0; i < repeat; i++)); do
        local t0=$EPOCHREALTIME
        /usr/bin/time -f '%M' -o "$stats" "$@" >/dev/null 2>"$stats.err" || { cat "$stats.err" >&2; exit 1; }
        local t1=$EPOCHREALTIME kbytes
        kbytes=$(tail -1 "$stats")
        local took
        took=$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.4f", b - a }')
        if [[ -z $best ]] || awk -v x="$took" -v y="$best" 'BEGIN { exit !(x < y) }'; then best=$took; fi
        ((kbytes > peak)) && peak=$kbytes
    done
    secs[$name]=$best
    rss[$name]=$peak
    rm -f "$stats" "$stats.err"
}

# Warm the page cache so every tool reads the file from memory.
cat "$corpus.pcap" >/dev/null

run "dmvpn decode+decrypt" "$dmvpn" decode "$corpus.pcap" --keys "$corpus.esp_sa" --format json
run "dmvpn decode+decrypt 2 threads" "$dmvpn" decode "$corpus.pcap" --keys "$corpus.esp_sa" --format json --threads 2
run "dmvpn decode+decrypt (text)" "$dmvpn" decode "$corpus.pcap" --keys "$corpus.esp_sa"
run "dmvpn decode only" "$dmvpn" decode "$corpus.pcap" --format json
run "dmvpn decode only (summary)" "$dmvpn" decode "$corpus.pcap" --format summary
run "dmvpn decode only (summary) 2 threads" "$dmvpn" decode "$corpus.pcap" --format summary --threads 2
run "dmvpn decode+decrypt (summary)" "$dmvpn" decode "$corpus.pcap" --keys "$corpus.esp_sa" --format summary
run "dmvpn decode+decrypt (summary) 2 threads" "$dmvpn" decode "$corpus.pcap" --keys "$corpus.esp_sa" --format summary --threads 2
run "dmvpn sessions" "$dmvpn" sessions "$corpus.pcap" --keys "$corpus.esp_sa"
if ((run_tshark)); then
    repeat=1
    config=$(mktemp -d)
    mkdir -p "$config/wireshark"
    cp "$corpus.esp_sa" "$config/wireshark/esp_sa"
    run "tshark decode+decrypt" env XDG_CONFIG_HOME="$config" tshark -n -r "$corpus.pcap" \
        -o esp.enable_encryption_decode:TRUE -o esp.enable_authentication_check:TRUE
    run "tshark decode only" env XDG_CONFIG_HOME="$config" tshark -n -r "$corpus.pcap"
    rm -rf "$config"
fi

calc() { awk "BEGIN { print $1 }"; }
printf '\ncorpus: %s (%d frames, %.1f MB), %s, %d cores\n' "$corpus.pcap" "$frames" \
    "$(calc "$bytes / 1000000")" "$(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs)" "$(nproc)"
printf '%-40s %9s %12s %9s %9s %12s\n' tool seconds frames/s MB/s "RSS MB" "vs tshark"
for name in "dmvpn decode+decrypt" "dmvpn decode+decrypt 2 threads" "dmvpn decode+decrypt (text)" \
    "dmvpn decode+decrypt (summary)" "dmvpn decode+decrypt (summary) 2 threads" "dmvpn sessions" \
    "dmvpn decode only" "dmvpn decode only (summary)" "dmvpn decode only (summary) 2 threads" \
    "tshark decode+decrypt" "tshark decode only"; do
    [[ -n ${secs[$name]:-} ]] || continue
    s=${secs[$name]}
    [[ $s == 0.0000 ]] && s=0.0001
    ratio="-"
    reference=${secs["tshark ${name#dmvpn }"]:-${secs["tshark decode+decrypt"]:-}}
    [[ $name == *only* ]] && reference=${secs["tshark decode only"]:-}
    [[ -n $reference && $name == dmvpn* ]] && ratio=$(printf '%.1fx' "$(calc "$reference / $s")")
    printf '%-40s %9.3f %12.0f %9.1f %9.1f %12s\n' "$name" "$s" "$(calc "$frames / $s")" \
        "$(calc "$bytes / 1000000 / $s")" "$(calc "${rss[$name]} / 1024")" "$ratio"
done

if ((run_diff && run_tshark)); then
    echo
    echo "bench: checking dmvpn against tshark frame by frame on the corpus"
    DMVPN_DIFF_CAPTURE=$corpus.pcap DMVPN_DIFF_KEYS=$corpus.esp_sa \
        cargo test --release -q -p dmvpn --test tshark_diff -- --ignored --nocapture named_capture 2>&1 | tail -3
fi
