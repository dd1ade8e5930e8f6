#!/usr/bin/env bash
# Builds the caseward-ffi library and generates the Kotlin and Swift bindings with the
# workspace's own uniffi-bindgen (library mode), into places that are never committed:
#   bindings/kotlin/target/generated-sources/uniffi/   Kotlin sources Maven compiles (with one
#                                                    optional patch: bindings/kotlin/reuse_call_status.py)
#   bindings/swift/generated/   Swift sources, header and module map (no Swift toolchain here)
# Python needs none of this: `pip install ./bindings/python` builds its own library and module
# (maturin, bindings/python/pyproject.toml).
# CASEWARD_PROFILE=debug builds the library in the dev profile (what ./run-tests uses: it reuses
# the test build); the default, release, is what apps ship and what the benchmarks measure.
set -euo pipefail
cd "$(dirname "$0")/.."
profile=${CASEWARD_PROFILE:-release}
if [ "$profile" = release ]; then flag=--release; else flag=; fi
# Two builds, not one: built together, cargo would unify uniffi's features across both packages
# (the generator's `cli`), and the pip build of the Python package, which builds each on its own
# the way maturin does, could not reuse these artifacts.
cargo build $flag --locked -q -p caseward-ffi
cargo build $flag --locked -q -p uniffi-bindgen
lib=target/$profile/libcaseward_ffi.so
rm -rf bindings/kotlin/target/generated-sources/uniffi bindings/swift/generated
gen() { "./target/$profile/uniffi-bindgen" generate --library "$lib" --no-format --language "$1" --out-dir "$2" >/dev/null; }
gen kotlin bindings/kotlin/target/generated-sources/uniffi
# CASEWARD_KOTLIN_GLUE=stock keeps uniffi's glue as generated (safe, slower; the patch is optional).
[ "${CASEWARD_KOTLIN_GLUE:-patched}" = stock ] || python3 bindings/kotlin/reuse_call_status.py bindings/kotlin/target/generated-sources/uniffi/org/caseward/caseward_ffi.kt
gen swift bindings/swift/generated
for f in bindings/swift/generated/Caseward.swift bindings/swift/generated/CasewardFFI.h bindings/swift/generated/CasewardFFI.modulemap; do
  test -s "$f" || { echo "missing generated Swift file $f" >&2; exit 1; }
done
