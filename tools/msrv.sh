#!/usr/bin/env bash
# Checks the workspace's minimum supported Rust version (`rust-version` in Cargo.toml) without
# an old toolchain:
#   1. no locked dependency declares a `rust-version` above ours (cargo metadata --locked: every
#      package the lock file resolves, all targets and features, so nothing slips in unseen);
#   2. every crate README states the same version;
#   3. when that toolchain is installed (`rustup toolchain list`), `cargo +VERSION check` on the
#      workspace, which also catches language features newer than the version.
# Our own use of library items newer than `rust-version` is clippy's `incompatible_msrv` lint,
# which tools/test.sh's `cargo clippy -- -D warnings` turns into an error.
#   tools/msrv.sh
set -euo pipefail
cd "$(dirname "$0")/.."

check=$(cat <<'PY'
import json, sys

def version(text):
    parts = [int(part) for part in text.split(".")]
    return tuple(parts + [0] * (3 - len(parts)))

meta = json.load(sys.stdin)
ours = {p["id"]: p for p in meta["packages"] if p["id"] in meta["workspace_members"]}
declared = {p["rust_version"] for p in ours.values()}
if len(declared) != 1 or None in declared:
    sys.exit(f"msrv: the workspace crates declare rust-version {sorted(map(str, declared))}: want one")
msrv = declared.pop()
over = [
    (p["rust_version"], p["name"], p["version"])
    for p in meta["packages"]
    if p["id"] not in ours and p.get("rust_version") and version(p["rust_version"]) > version(msrv)
]
highest = max(
    (version(p["rust_version"]), p["name"], p["version"])
    for p in meta["packages"]
    if p["id"] not in ours and p.get("rust_version")
)
print(f"msrv: rust-version {msrv}; highest among {len(meta['packages']) - len(ours)} locked "
      f"packages: {'.'.join(map(str, highest[0]))} ({highest[1]} {highest[2]})", file=sys.stderr)
if over:
    for rust, name, ver in sorted(over, key=lambda row: version(row[0])):
        print(f"msrv: {name} {ver} needs Rust {rust}", file=sys.stderr)
    sys.exit(f"msrv: {len(over)} dependencies need a newer Rust than {msrv}: raise rust-version "
             "in Cargo.toml (and the READMEs), or hold those dependencies back")
stale = []
for package in ours.values():
    readme = package.get("readme")
    if not readme or package.get("publish") == []:
        continue
    path = package["manifest_path"].rsplit("/", 1)[0] + "/" + readme
    if f"Rust {msrv} " not in open(path, encoding="utf-8").read():
        stale.append(path)
if stale:
    sys.exit(f"msrv: these READMEs do not state Rust {msrv}: {', '.join(stale)}")
print(msrv)
PY
)
msrv=$(cargo metadata --format-version 1 --locked | python3 -c "$check")

if command -v rustup > /dev/null && rustup toolchain list | grep -q "^$msrv"; then
    echo "msrv: cargo +$msrv check --workspace --all-targets"
    cargo "+$msrv" check --workspace --all-targets --locked --quiet
else
    echo "msrv: Rust $msrv is not installed (rustup toolchain install $msrv): dependency and README checks only"
fi
