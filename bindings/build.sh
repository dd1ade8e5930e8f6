#!/usr/bin/env bash
# Builds the caseward-ffi library and generates the Python, Kotlin and Swift bindings with the
# workspace's own uniffi-bindgen (library mode), into places that are never committed:
#   bindings/python/caseward/   caseward_ffi.py + libcaseward_ffi.so (the pip package's payload)
#   bindings/kotlin/target/generated-sources/uniffi/   Kotlin sources Maven compiles (with one
#                                                    patch: bindings/kotlin/reuse_call_status.py)
#   bindings/swift/generated/   Swift sources, header and module map (no Swift toolchain here)
# CASEWARD_PROFILE=debug builds the library in the dev profile (what ./run-tests uses: it reuses
# the test build); the default, release, is what apps ship and what the benchmarks measure.
set -euo pipefail
cd "$(dirname "$0")/.."
profile=${CASEWARD_PROFILE:-release}
if [ "$profile" = release ]; then flag=--release; else flag=; fi
cargo build $flag --locked -q -p caseward-ffi -p uniffi-bindgen
lib=target/$profile/libcaseward_ffi.so
rm -rf bindings/kotlin/target/generated-sources/uniffi bindings/swift/generated bindings/python/caseward/caseward_ffi.py
gen() { "./target/$profile/uniffi-bindgen" generate --library "$lib" --no-format --language "$1" --out-dir "$2" >/dev/null; }
gen python bindings/python/caseward
cp "$lib" bindings/python/caseward/
gen kotlin bindings/kotlin/target/generated-sources/uniffi
python3 bindings/kotlin/reuse_call_status.py bindings/kotlin/target/generated-sources/uniffi/org/caseward/caseward_ffi.kt
gen swift bindings/swift/generated
for f in bindings/swift/generated/Caseward.swift bindings/swift/generated/CasewardFFI.h bindings/swift/generated/CasewardFFI.modulemap; do
  test -s "$f" || { echo "missing generated Swift file $f" >&2; exit 1; }
done
