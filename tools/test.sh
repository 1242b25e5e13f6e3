#!/usr/bin/env bash
# The project's test command (README.md): set-up, lints, docs, a short fuzz smoke run, then every test.
#   tools/test.sh            everything
#   FUZZ_SECONDS=0 tools/test.sh   skip the fuzz smoke run
set -euo pipefail
cd "$(dirname "$0")/.."

tools/setup.sh
echo "== cargo fmt";    cargo fmt --all --check
echo "== cargo clippy"; cargo clippy --workspace --all-targets --locked -- -D warnings
echo "== cargo doc";    RUSTDOCFLAGS=-Dwarnings cargo doc --workspace --no-deps --locked --quiet
fuzz_seconds=${FUZZ_SECONDS:-15}
if [[ -x tools/fuzz.sh && $fuzz_seconds -gt 0 ]]; then
    echo "== fuzz smoke (${fuzz_seconds}s per target)"; tools/fuzz.sh --install --seconds "$fuzz_seconds"
fi
echo "== cargo test";   cargo test --workspace --locked
