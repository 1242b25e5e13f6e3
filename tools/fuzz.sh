#!/usr/bin/env bash
# Runs every cargo-fuzz target in fuzz/ for a bounded time and fails on any crash, timeout or OOM.
#
#   tools/fuzz.sh [--seconds N] [--budget N] [--runs N] [--install] [--sanitizer none|address] [TARGET...]
#
#   --seconds N    fuzz each target for N seconds (default 30). 0 runs the corpus and seeds once, without
#                  fuzzing: a quick regression check of everything found so far.
#   --budget N     at most N seconds of fuzzing in all (default 200, FUZZ_BUDGET; 0 = no limit): when the
#                  targets × --seconds / FUZZ_JOBS would exceed it, each target gets budget × jobs /
#                  targets seconds instead (at least 2). Keeps the CI smoke run (`.ci/run`) near 5 minutes
#                  however many targets there are; pass --budget 0 for long runs.
#   --runs N       also stop a target after N executions (libFuzzer -runs): with a large --seconds, the
#                  long run's "10 million executions or 30 minutes, whichever comes first".
#   --install      install cargo-fuzz if it is missing (implied when CI=true).
#   --sanitizer S  none (default: the crates are #![forbid(unsafe_code)], and uninstrumented runs are ~8x
#                  faster) or address (AddressSanitizer; needs nightly, or RUSTC_BOOTSTRAP=1 on stable,
#                  which this script sets for you).
#   TARGET...      targets to run (default: all, from `cargo fuzz list`).
#
# Environment: FUZZ_RSS_LIMIT_MB (default 1024), FUZZ_TIMEOUT (seconds per input, default 10),
# FUZZ_TARGET_DIR (default fuzz/target), FUZZ_JOBS (parallel targets, default 1).
# CI: `.ci/run` (tools/test.sh) calls `tools/fuzz.sh --install --seconds 15`; with 23 targets the budget
# cuts that to 8 s each: about 3.5 min of fuzzing plus one release build of the fuzz workspace (5 min 31 s
# in all from a cold target dir here, with 10 s each and another fuzzer running). The script
# prints its total wall time at the end.
#
# Each target's corpus is fuzz/corpus/<target>/ (gitignored except committed seed-* files). Read-only seed
# directories come after it: testdata/<proto>/ (<proto> is the target's name up to the first `_`), and the
# <proto> messages that fuzz/seeds.py extracts from the pcaps under testdata/ and under FUZZ_SEED_CAPTURES
# (colon-separated directories; default ../shared/captures when it exists) into fuzz/target/seeds/<proto>/.
# A dictionary fuzz/dicts/<proto>.dict is used when it exists. Crashes go to fuzz/artifacts/<target>/; see
# fuzz/README.md.
set -euo pipefail

started=$SECONDS
seconds=30
budget="${FUZZ_BUDGET:-200}"
runs=0
install=false
sanitizer=none
targets=()
while (($#)); do
    case "$1" in
        --seconds) seconds="${2:?--seconds needs a number}"; shift 2 ;;
        --seconds=*) seconds="${1#*=}"; shift ;;
        --budget) budget="${2:?--budget needs a number}"; shift 2 ;;
        --budget=*) budget="${1#*=}"; shift ;;
        --runs) runs="${2:?--runs needs a number}"; shift 2 ;;
        --runs=*) runs="${1#*=}"; shift ;;
        --install) install=true; shift ;;
        --sanitizer) sanitizer="${2:?--sanitizer needs none or address}"; shift 2 ;;
        --sanitizer=*) sanitizer="${1#*=}"; shift ;;
        -h|--help) sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
        -*) echo "fuzz.sh: unknown option $1 (try --help)" >&2; exit 2 ;;
        *) targets+=("$1"); shift ;;
    esac
done
[[ "$seconds" =~ ^[0-9]+$ ]] || { echo "fuzz.sh: --seconds takes a whole number, not '$seconds'" >&2; exit 2; }
[[ "$runs" =~ ^[0-9]+$ ]] || { echo "fuzz.sh: --runs takes a whole number, not '$runs'" >&2; exit 2; }
[[ "$budget" =~ ^[0-9]+$ ]] || { echo "fuzz.sh: --budget takes a whole number, not '$budget'" >&2; exit 2; }
case "$sanitizer" in none|address) ;; *) echo "fuzz.sh: --sanitizer is none or address" >&2; exit 2 ;; esac

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root/fuzz"

if ! cargo fuzz --version >/dev/null 2>&1; then
    if [[ "$install" == true || "${CI:-}" == true ]]; then
        echo "fuzz.sh: installing cargo-fuzz (about 30 s)"
        cargo install cargo-fuzz --locked --version '^0.13'
    else
        echo "fuzz.sh: cargo-fuzz is missing; run with --install or: cargo install cargo-fuzz --locked" >&2
        exit 2
    fi
fi

# The fuzz workspace has its own target dir, whatever the caller uses for the main workspace.
unset CARGO_TARGET_DIR
target_dir="${FUZZ_TARGET_DIR:-$root/fuzz/target}"
rss="${FUZZ_RSS_LIMIT_MB:-1024}"
timeout="${FUZZ_TIMEOUT:-10}"
jobs="${FUZZ_JOBS:-1}"
common=(-O --sanitizer "$sanitizer" --target-dir "$target_dir")
if [[ "$sanitizer" == address ]] && ! rustc --version | grep -q nightly; then
    export RUSTC_BOOTSTRAP=1 # -Zsanitizer on a stable toolchain
fi

if ((${#targets[@]} == 0)); then
    mapfile -t targets < <(cargo fuzz list)
fi
((${#targets[@]})) || { echo "fuzz.sh: no fuzz targets" >&2; exit 2; }
if ((budget > 0 && seconds > 0 && ${#targets[@]} * seconds > budget * jobs)); then
    fair=$((budget * jobs / ${#targets[@]}))
    ((fair >= 2)) || fair=2
    echo "fuzz.sh: ${#targets[@]} targets × ${seconds}s exceeds the ${budget}s budget: ${fair}s each (--budget 0 lifts it)"
    seconds=$fair
fi

echo "fuzz.sh: building ${#targets[@]} targets (sanitizer $sanitizer)"
cargo fuzz build "${common[@]}"

logs="$target_dir/fuzz-logs"
mkdir -p "$logs"

# Seeds from captures, one directory per protocol, rebuilt on every run (nothing here is committed).
captures=()
while IFS= read -r -d '' file; do captures+=("$file"); done < <(
    IFS=: read -r -a extra <<<"${FUZZ_SEED_CAPTURES-$root/../shared/captures}"
    for dir in "$root/testdata" "${extra[@]}"; do
        [[ -n "$dir" && -d "$dir" ]] && find "$dir" \( -name '*.pcap' -o -name '*.cap' -o -name '*.pcapng' \) -print0
    done
)
if ((${#captures[@]})) && command -v python3 >/dev/null; then
    classic=()
    for file in "${captures[@]}"; do [[ "$file" == *.pcapng ]] || classic+=("$file"); done
    for proto in $(printf '%s\n' "${targets[@]%%_*}" | sort -u); do
        rm -rf "$target_dir/seeds/$proto"
        # capture_read takes pcapng files whole; the others read classic pcap records only.
        if [[ "$proto" == capture ]]; then from=("${captures[@]}"); else from=("${classic[@]}"); fi
        python3 "$root/fuzz/seeds.py" "$target_dir/seeds/$proto" "$proto" "${from[@]}"
    done
else
    echo "fuzz.sh: no captures or no python3: seeding from testdata/<proto>/ and the corpus only"
fi

run_one() {
    local target="$1" proto="${1%%_*}"
    local corpus="$root/fuzz/corpus/$target" log="$logs/$target.log"
    local args=(-rss_limit_mb="$rss" -timeout="$timeout" -print_final_stats=1)
    local dirs=("$corpus")
    mkdir -p "$corpus" "$root/fuzz/artifacts/$target"
    [[ -d "$root/testdata/$proto" ]] && dirs+=("$root/testdata/$proto")
    [[ -d "$target_dir/seeds/$proto" ]] && dirs+=("$target_dir/seeds/$proto")
    [[ -f "$root/fuzz/dicts/$proto.dict" ]] && args+=(-dict="$root/fuzz/dicts/$proto.dict")
    if ((seconds == 0)); then args+=(-runs=0); else args+=(-max_total_time="$seconds"); fi
    if ((seconds > 0 && runs > 0)); then args+=(-runs="$runs"); fi
    local status=0
    cargo fuzz run "${common[@]}" "$target" "${dirs[@]}" -- "${args[@]}" >"$log" 2>&1 || status=$?
    echo "$status" >"$log.status"
}

pending=0
for target in "${targets[@]}"; do
    echo "fuzz.sh: $target for ${seconds}s"
    run_one "$target" &
    pending=$((pending + 1))
    if ((pending >= jobs)); then wait -n || true; pending=$((pending - 1)); fi
done
wait

failed=0
printf '\n%-24s %12s %10s %16s %8s  %s\n' target execs exec/s "cov (start→end)" corpus result
for target in "${targets[@]}"; do
    log="$logs/$target.log"
    status="$(cat "$log.status" 2>/dev/null || echo 1)"
    execs="$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)"
    rate="$(sed -n 's/^stat::average_exec_per_sec: *//p' "$log" | tail -1)"
    cov0="$(grep -m1 -o 'INITED cov: [0-9]*' "$log" | grep -o '[0-9]*$' || true)"
    cov1="$(grep -o ' cov: [0-9]*' "$log" | tail -1 | grep -o '[0-9]*$' || true)"
    corp="$(grep -o 'corp: [0-9]*' "$log" | tail -1 | grep -o '[0-9]*$' || true)"
    if ((status == 0)); then
        result=ok
    else
        failed=1
        result="FAILED (exit $status)"
        if grep -q 'ERROR: libFuzzer: timeout' "$log"; then result="TIMEOUT";
        elif grep -q 'ERROR: libFuzzer: out-of-memory' "$log"; then result="OOM";
        elif grep -q -e 'deadly signal' -e 'panicked at' -e 'ERROR: AddressSanitizer' "$log"; then result="CRASH"; fi
        artifact="$(grep -o 'Test unit written to [^ ]*' "$log" | tail -1 | sed 's/Test unit written to //' || true)"
        [[ -n "$artifact" ]] && result="$result $artifact"
    fi
    printf '%-24s %12s %10s %16s %8s  %s\n' "$target" "${execs:-?}" "${rate:-?}" "${cov0:-?}→${cov1:-?}" "${corp:-?}" "$result"
done

if ((failed)); then
    echo
    for target in "${targets[@]}"; do
        if [[ "$(cat "$logs/$target.log.status" 2>/dev/null || echo 1)" != 0 ]]; then
            echo "---- $target: last lines of $logs/$target.log"
            sed '/^Error: Fuzz target exited/,$d' "$logs/$target.log" \
                | grep -v -E '^#[0-9]|^INFO:|^WARNING: Failed to find function|^ *(Finished|Running) |^ +[0-9]+: |^ +at ' \
                | tail -50
        fi
    done
    echo
    echo "fuzz.sh: failures above. Reproduce with: cd fuzz && cargo fuzz run ${common[*]} <target> <artifact>"
    echo "fuzz.sh: took $((SECONDS - started)) s in all"
    exit 1
fi
echo "fuzz.sh: all ${#targets[@]} targets clean (${seconds}s each) in $((SECONDS - started)) s in all"
