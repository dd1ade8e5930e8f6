#!/usr/bin/env bash
# Runs BenchCall.kt against the release library: bindings/build.sh first.
set -euo pipefail
cd "$(dirname "$0")"
mvn -q -B test-compile dependency:build-classpath -Dmdep.outputFile=target/classpath.txt
java -Djna.library.path="$PWD/../../target/release" -cp "target/classes:target/test-classes:$(cat target/classpath.txt)" org.caseward.BenchCallKt
