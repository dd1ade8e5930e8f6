#!/usr/bin/env bash
# Policy loading (issue #14, item 7) measured in one run: `caseward policy check` of generated
# policies of 1,000 to 16,000 rules, by this checkout's release build and by the release build
# of a baseline commit (default: the last commit before loading was made linear), each the
# median of 5 runs. The new build refuses files past its bounds (4,096 rules), and says so.
# Usage: baselines/policy-load.sh [BASELINE_COMMIT]
set -euo pipefail
cd "$(dirname "$0")/.."
base=${1:-589e7ef}
work=$(mktemp -d)
trap 'git worktree remove --force "$work/base" >/dev/null 2>&1 || true; rm -rf "$work"' EXIT

# Both builds share ./target (only the workspace crates differ); each binary is copied aside.
cargo build --release -q -p caseward-cli
cp target/release/caseward "$work/new"
git worktree add -q --detach "$work/base" "$base"
(cd "$work/base" && CARGO_TARGET_DIR="$OLDPWD/target" cargo build --release -q -p caseward-cli)
cp target/release/caseward "$work/old"
touch cli/src/main.rs # the next build of this checkout relinks its own binary
old="$work/old"
new="$work/new"

gen() { # rules file
  python3 - "$1" "$2" <<'EOF'
import sys
n, path = int(sys.argv[1]), sys.argv[2]
with open(path, "w") as f:
    f.write('format = 1\nkind = "base"\nname = "generated"\n')
    for i in range(n):
        f.write(f'[[rule]]\nid = "r{i}"\naudience = "partner:p{i}"\ntreatment = "deny"\n'
                f'categories = ["health.mental", "contact.*"]\nwhy = "generated rule {i}"\n')
EOF
}

median() { # binary file -> "seconds exit"
  local times=() code=0
  for _ in 1 2 3 4 5; do
    local t0 t1
    t0=$(date +%s.%N)
    "$1" policy check "$2" >/dev/null 2>&1 && code=0 || code=$?
    t1=$(date +%s.%N)
    times+=("$(echo "$t1 - $t0" | bc)")
  done
  printf '%s\n' "${times[@]}" | sort -n | sed -n 3p | tr '\n' ' '
  echo "(exit $code)"
}

printf '%-8s %-28s %-28s\n' rules "baseline $base (s)" "this checkout (s)"
for n in 1000 2000 4000 4096 8000 16000; do
  gen "$n" "$work/p$n.toml"
  printf '%-8s %-28s %-28s\n' "$n" "$(median "$old" "$work/p$n.toml")" "$(median "$new" "$work/p$n.toml")"
done
