#!/usr/bin/env bash
# A short fuzz run of every target (by hand before a release): SECONDS per target (default 30), on the committed
# seeds, with new inputs written to a scratch corpus under target/. Any crash fails the run and
# leaves its input in fuzz/artifacts/TARGET/ (turn it into a regression seed in seeds/TARGET/).
# Uses --sanitizer none, which builds on stable Rust (see SECURITY.md for the sanitizer build).
set -euo pipefail
cd "$(dirname "$0")"
seconds=${1:-30}
command -v cargo-fuzz >/dev/null 2>&1 || cargo install cargo-fuzz --locked --version 0.13.2
cargo fuzz build --sanitizer none
for target in sealed_value policy bundle csv_import normalizers vault_file; do
  mkdir -p "target/corpus/$target"
  echo "== fuzz $target ($seconds s)"
  cargo fuzz run --sanitizer none "$target" "target/corpus/$target" "seeds/$target" -- \
    -max_total_time="$seconds" -rss_limit_mb=2048 -timeout=10 -print_final_stats=1 2>&1 \
    | grep -E '^(Done|stat::number_of_executed_units|stat::peak_rss_mb)|panicked|ERROR|SUMMARY' || true
  # libFuzzer exits non-zero on a finding; grep above hides nothing it prints about it.
  test "${PIPESTATUS[0]}" -eq 0
done
