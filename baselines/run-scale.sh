#!/usr/bin/env bash
# The vault's speed goals (issue #2) measured in one run: the vault, plaintext SQLite with the
# same schema, pragmas and transaction pattern, and SQLCipher 4 at default settings and with a
# 64 MiB page cache, each in its own process, on the same synthetic data (Synth seed 1).
# Usage: baselines/run-scale.sh [CLIENTS] [DIR]
set -euo pipefail
cd "$(dirname "$0")/.."
clients=${1:-100000}
dir=${2:-$(mktemp -d)}
cargo build --release -q -p caseward --example bench_scale
(cd baselines/sqlcipher && CARGO_TARGET_DIR=target cargo build --release -q)
./target/release/examples/bench_scale vault "$clients" "$dir"
./target/release/examples/bench_scale plain "$clients" "$dir"
baselines/sqlcipher/target/release/caseward-baseline-sqlcipher "$clients" "$dir"
./target/release/examples/bench_scale passphrase-open 0 "$dir"
rm -f "$dir"/bench-* "$dir"/baseline-*
