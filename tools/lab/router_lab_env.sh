# Sourced by tools/perf/router_perf.sh and tools/perf/router_soak.sh: the router lab of tools/lab/router_lab.sh
# (run with --keep, so that every check of the lab holds before anything is measured) and what
# both need around it. Not a script of its own.
#
#   lab_install CMD PKG   apt-get install PKG if CMD is missing
#   lab_start OUT         tools/lab/router_lab.sh --keep --out OUT (builds the binaries unless DMVPN_ROUTER)
#   lab_stop              tools/lab/router_lab.sh --clean
#   lab_pids              LAB_PIDS=(hub spoke1 spoke2 PIDs), LAB_NAMES=(hub spoke1 spoke2); fails if one is not running
#   lab_sample            one JSON line: time, /proc/stat, and for each router its CPU ticks, VmRSS,
#                         open fds, threads and `show counters` (tools/perf/router_perf_report.py sample)
#   lab_show NAME CMD...  dmvpn-router show --name NAME CMD... on the lab's control sockets

LAB_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
LAB_RUN=/tmp/lab-run/router
LAB_CTL="$LAB_RUN/ctl"
LAB_NAMES=(hub spoke1 spoke2)
LAB_PIDS=()

# shellcheck source=tools/lab/lab_lib.sh
. "$LAB_ROOT/tools/lab/lab_lib.sh"
lab_binaries "$LAB_ROOT"
LAB_BIN="$bin"
export DMVPN_ROUTER="$LAB_BIN"

lab_install() {
    command -v "$1" >/dev/null 2>&1 && return 0
    echo "installing $2 (apt)" >&2
    DEBIAN_FRONTEND=noninteractive apt-get install -y -q "$2" >/dev/null 2>&1 ||
        { apt-get update -q >/dev/null && DEBIAN_FRONTEND=noninteractive apt-get install -y -q "$2" >/dev/null; }
    command -v "$1" >/dev/null 2>&1
}

lab_start() {
    mkdir -p "$(dirname "$1")"
    "$LAB_ROOT/tools/lab/router_lab.sh" --keep --out "$1" >/dev/null 2>&1
}

lab_stop() {
    "$LAB_ROOT/tools/lab/router_lab.sh" --clean >/dev/null 2>&1 || true
}

lab_pids() {
    LAB_PIDS=()
    local n pid found
    for n in hub s1 s2; do
        found=
        for pid in $(ip netns pids "lab-rt-$n" 2>/dev/null); do
            [[ "$(readlink "/proc/$pid/exe" 2>/dev/null)" == "$(readlink -f "$LAB_BIN")" ]] && found=$pid
        done
        [[ -n "$found" ]] || return 1
        LAB_PIDS+=("$found")
    done
}

lab_sample() {
    LAB_BIN="$LAB_BIN" LAB_CTL="$LAB_CTL" LAB_ROUTERS="hub=${LAB_PIDS[0]} spoke1=${LAB_PIDS[1]} spoke2=${LAB_PIDS[2]}" \
        python3 "$LAB_ROOT/tools/perf/router_perf_report.py" sample
}

lab_show() {
    "$LAB_BIN" show --run-dir "$LAB_CTL" --name "$1" "${@:2}" 2>&1
}
