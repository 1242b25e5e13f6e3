# Sourced by the namespace labs (router_lab.sh, frr_eigrp_interop.sh, frr_nhrp_interop.sh,
# swan_router_interop.sh, router_lab_env.sh): the bookkeeping they share. Not a script of its own.
#
#   lab_kill_tracked PIDFILE [GRACE]  SIGTERM every PID listed in PIDFILE (newest first), GRACE seconds
#                                     (default 1), then SIGKILL; removes PIDFILE
#   lab_kill_pidfiles DIR             SIGKILL the PIDs of DIR/*.pid (daemons that write their own)
#   lab_del_netns PREFIX              delete every network namespace named PREFIX-*
#   lab_apt PKG...                    apt-get install the packages given (none: nothing), updating once
#   lab_binaries ROOT                 sets `bin` (dmvpn-router) and `decoder` (dmvpn): DMVPN_ROUTER and
#                                     DMVPN if set, else built with cargo --release into CARGO_TARGET_DIR
#                                     or ROOT/target; creates the router's user (lab_router_user)
#   lab_router_user                   the unprivileged user `dmvpn-router run` drops to (its default
#                                     --user, dmvpn): useradd --system when missing (root only)
#   lab_unprivileged PID              passes when the router PID runs as a non-root user with no
#                                     effective capability and no_new_privs set; prints what it runs with
#   lab_check_no_eigrp BIN CFG OUT    `BIN check CFG` into OUT; passes when the configuration checks, or
#                                     when its one error is eigrp-not-on-tunnel (a lab took its `router
#                                     eigrp` out on purpose: a real peer or nothing speaks EIGRP for it)
#   lab_wait_for T WHAT CMD...        runs CMD every 0.25 s until it passes (then `say "ok: WHAT"`) or T
#                                     seconds are up (then `fail "WHAT (after Ts)"`); say and fail are
#                                     the calling script's

lab_kill_tracked() {
    local file=$1 grace=${2:-1} pid
    [[ -f "$file" ]] || return 0
    while read -r pid; do kill -TERM "$pid" 2>/dev/null || true; done < <(tac "$file")
    sleep "$grace"
    while read -r pid; do kill -KILL "$pid" 2>/dev/null || true; done < <(tac "$file")
    rm -f "$file"
}

lab_kill_pidfiles() {
    local f p
    for f in "$1"/*.pid; do
        [[ -f "$f" ]] || continue
        p=$(cat "$f" 2>/dev/null || true)
        [[ -n "$p" ]] && kill -KILL "$p" 2>/dev/null || true
    done
}

lab_del_netns() {
    local ns
    for ns in $(ip netns list 2>/dev/null | awk '{print $1}' | grep "^$1-" || true); do
        ip netns del "$ns" 2>/dev/null || true
    done
}

lab_apt() {
    (($#)) || return 0
    echo "installing $*"
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends "$@" >/dev/null
}

lab_router_user() {
    [[ "$(id -u)" == 0 ]] || return 0
    id -u dmvpn >/dev/null 2>&1 && return 0
    useradd --system --no-create-home --home-dir /nonexistent --shell /usr/sbin/nologin dmvpn
}

lab_binaries() {
    local root=$1 target="${CARGO_TARGET_DIR:-$1/target}"
    lab_router_user
    bin="${DMVPN_ROUTER:-}"
    if [[ -z "$bin" ]]; then
        (cd "$root" && cargo build --release -q -p dmvpn-router -p dmvpn)
        bin="$target/release/dmvpn-router"
    fi
    decoder="${DMVPN:-$target/release/dmvpn}"
}

lab_unprivileged() {
    local status=/proc/$1/status uid eff prm nnp
    [[ -r "$status" ]] || { echo "process $1 is gone"; return 1; }
    uid=$(awk '/^Uid:/ {print $2 "/" $3 "/" $4}' "$status")
    eff=$(awk '/^CapEff:/ {print $2}' "$status")
    prm=$(awk '/^CapPrm:/ {print $2}' "$status")
    nnp=$(awk '/^NoNewPrivs:/ {print $2}' "$status")
    echo "pid $1: uid (real/effective/saved) $uid, CapEff $eff, CapPrm $prm, NoNewPrivs $nnp"
    [[ "$uid" != 0/* && "$uid" != */0/* && "$uid" != */0 ]] && ((16#$eff == 0)) && [[ "$nnp" == 1 ]]
}

lab_check_no_eigrp() {
    local bin=$1 cfg=$2 out=$3
    "$bin" check "$cfg" >"$out" 2>&1 && return 0
    [[ $(grep -c '^error\[' "$out") == 1 ]] && grep -q '^error\[eigrp-not-on-tunnel\]' "$out"
}

lab_wait_for() {
    local t=$1 what=$2 i
    shift 2
    for ((i = 0; i < t * 4; i++)); do
        if "$@" >/dev/null 2>&1; then say "ok: $what"; return 0; fi
        sleep 0.25
    done
    fail "$what (after ${t}s)"
}
