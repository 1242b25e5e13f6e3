#!/usr/bin/env bash
# The project's test command (README.md): set-up, lints, docs, a short fuzz smoke run, every test, then
# (as root, under CI=true or DMVPN_REQUIRE_NETNS=1) the interop scripts with real peers.
#   tools/test.sh            everything
#   FUZZ_SECONDS=0 tools/test.sh   skip the fuzz smoke run
set -euo pipefail
cd "$(dirname "$0")/.."

tools/setup.sh
echo "== cargo fmt";    cargo fmt --all --check
echo "== cargo clippy"; cargo clippy --workspace --all-targets --locked --features dmvpn/parquet -- -D warnings
# dmvpn as a library without its command (no clap, pnet or dmvpn-proto), and the Rust version the
# manifests promise (tools/msrv.sh; clippy's incompatible_msrv above covers our own code).
echo "== dmvpn without default features"
cargo check -p dmvpn --no-default-features --locked --quiet
RUSTDOCFLAGS=-Dwarnings cargo doc -p dmvpn --no-default-features --no-deps --locked --quiet
echo "== msrv";         tools/msrv.sh
echo "== cargo doc";    RUSTDOCFLAGS=-Dwarnings cargo doc --workspace --no-deps --locked --quiet --features dmvpn/parquet
# Supply chain (deny.toml; DEPENDENCIES.md says why each crate is here). cargo-deny is built when
# missing (about 9 minutes on this 2-core machine, once). Licences, duplicate versions and sources
# need nothing but Cargo.lock and the crates already fetched; the advisory database is cloned
# from GitHub, so advisories are checked only when GitHub answers, and the script says so.
if ! cargo deny --version >/dev/null 2>&1; then
    echo "== cargo deny: installing (cargo install --locked cargo-deny)"
    cargo install --locked --quiet cargo-deny
fi
if timeout 20 git ls-remote --exit-code https://github.com/rustsec/advisory-db HEAD >/dev/null 2>&1; then
    echo "== cargo deny: advisories, bans, licenses, sources"
    cargo deny --locked check
else
    echo "== cargo deny: bans, licenses, sources (advisories skipped: the RustSec database on GitHub is unreachable)"
    cargo deny --offline --locked check bans licenses sources
fi
fuzz_seconds=${FUZZ_SECONDS:-15}
if [[ -x tools/fuzz.sh && $fuzz_seconds -gt 0 ]]; then
    echo "== fuzz smoke (${fuzz_seconds}s per target)"; tools/fuzz.sh --install --seconds "$fuzz_seconds"
fi
echo "== cargo test";   cargo test --workspace --locked --features dmvpn/parquet
# The crates as crates.io would get them: each packaged and built alone from its .crate, its
# workspace dependencies taken from the packages just made (dmvpn-testkit is never published).
# Cargo takes registry packages for immutable: it unpacks them under $CARGO_HOME/registry/src/-HASH/
# (a local registry has no host), keeps what it built from them, and reuses both on the next run
# however the sources changed (same name and version). So they are unpacked afresh and built in a
# target directory of their own whose dmvpn-* fingerprints are cleared (its dependencies stay built).
# About 2 minutes the first time, 40 s after that (29 crate builds: each package and its own).
pkg_target=target/package-verify
rm -rf "${CARGO_HOME:-$HOME/.cargo}"/registry/src/-*/dmvpn-* "$pkg_target"/debug/.fingerprint/dmvpn-*
echo "== cargo package"
CARGO_TARGET_DIR=$pkg_target cargo package --workspace --exclude dmvpn-testkit --locked --allow-dirty --quiet

# The interop scripts with real peers (tools/interop/: FRR eigrpd, FRR nhrpd, strongSwan charon), as
# root in CI (CI=true, DMVPN_REQUIRE_NETNS=1): each installs its Debian packages when missing (frr,
# strongswan-*) and runs the debug binaries `cargo test` just built. Every one runs; the command fails
# after them if one failed. About 2 minutes, plus the apt installs on a fresh machine.
if [[ ${CI:-} != true && -z ${DMVPN_REQUIRE_NETNS:-} ]]; then
    echo "== interop: skipped (set CI=true or DMVPN_REQUIRE_NETNS=1, as root, to run tools/interop/)"
elif [[ $(id -u) -ne 0 ]]; then
    echo "== interop: skipped: not root (network namespaces, TUN and raw sockets need it)"
else
    cargo build --locked -q -p dmvpn-router -p dmvpn # built by the tests already: a no-op
    target=$(cargo metadata --format-version 1 --no-deps | python3 -c 'import json, sys; print(json.load(sys.stdin)["target_directory"])')
    export DMVPN_ROUTER=$target/debug/dmvpn-router DMVPN=$target/debug/dmvpn
    failed=()
    for script in frr_eigrp_interop frr_nhrp_interop swan_router_interop; do
        echo "== interop: tools/interop/$script.sh"
        started=$SECONDS
        if tools/interop/$script.sh --out "/tmp/lab-out/ci-$script"; then
            echo "== interop: PASS tools/interop/$script.sh ($((SECONDS - started)) s)"
        else
            echo "== interop: FAIL tools/interop/$script.sh ($((SECONDS - started)) s; results in /tmp/lab-out/ci-$script)"
            failed+=("$script")
        fi
    done
    if ((${#failed[@]})); then
        echo "== interop: ${#failed[@]} of 3 failed: ${failed[*]}"
        exit 1
    fi
fi
