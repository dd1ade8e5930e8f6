#!/usr/bin/env bash
# Builds the Android library bindings/kotlin/android/target/caseward-android-<version>.aar and
# its pom (jna@aar, kotlin-stdlib, androidx.annotation), from:
#   - the Android flavour of the generated Kotlin (uniffi `android = true`, uniffi-android.toml),
#     with the JVM flavour's optional patch (../reuse_call_status.py), plus ../src/main/kotlin
#     (KeystoreVaultKey), compiled by pom.xml to Java 8 class files; its JVM test runs too;
#   - jni/<abi>/libcaseward_ffi.so for each Android library found at
#     target/<triple>/<profile>/libcaseward_ffi.so (aarch64-linux-android -> arm64-v8a,
#     x86_64-linux-android -> x86_64, ...): the README's "Android" section has the NDK commands;
#   - AndroidManifest.xml, proguard.txt (consumer rules), an empty R.txt.
# Then checks the AAR's layout and pom, and that the compiled classes reference no Android API
# beyond the two the stand-ins in stubs/ declare.
# Run bindings/build.sh first (the generator reads the host library). CASEWARD_PROFILE as there
# (default release). Options:
#   --no-native  build without any Android library (this machine has no NDK; ./run-tests uses it
#                to check everything else); without it, no Android library is an error
#   --install    install the AAR and its pom into the local Maven repository (Gradle: mavenLocal())
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../../.." && pwd)
cd "$root"
native=required install=no
for arg in "$@"; do
  case $arg in
    --no-native) native=optional ;;
    --install) install=yes ;;
    *) echo "usage: $0 [--no-native] [--install]" >&2; exit 2 ;;
  esac
done
profile=${CASEWARD_PROFILE:-release}
lib=target/$profile/libcaseward_ffi.so
bindgen=target/$profile/uniffi-bindgen
for f in "$lib" "$bindgen"; do
  [ -e "$f" ] || { echo "missing $f: run CASEWARD_PROFILE=$profile bindings/build.sh first" >&2; exit 1; }
done

# Versions, from the JVM jar's pom, so the two artifacts move together.
read -r version jna_version kotlin_version < <(python3 - bindings/kotlin/pom.xml <<'EOF'
import sys, xml.etree.ElementTree as ET
ns = {"m": "http://maven.apache.org/POM/4.0.0"}
p = ET.parse(sys.argv[1]).getroot()
print(p.find("m:version", ns).text, p.find("m:properties/m:jna.version", ns).text, p.find("m:properties/m:kotlin.version", ns).text)
EOF
)
androidx_annotation_version=$(python3 - bindings/kotlin/android/pom.xml <<'EOF'
import sys, xml.etree.ElementTree as ET
ns = {"m": "http://maven.apache.org/POM/4.0.0"}
print(ET.parse(sys.argv[1]).getroot().find("m:properties/m:androidx.annotation.version", ns).text)
EOF
)

out=bindings/kotlin/android/target
gen=$out/generated-sources/uniffi
rm -rf "$gen" "$out/aar" "$out"/caseward-android-*
"./$bindgen" generate --library "$lib" --no-format --language kotlin \
  --config bindings/kotlin/android/uniffi-android.toml --out-dir "$gen" >/dev/null
kt=$gen/org/caseward/caseward_ffi.kt
# uniffi 0.32 ignores (with a warning) a --config file it does not understand: make sure it took.
grep -q '^import android.os.Build$' "$kt" || { echo "$kt is not the Android flavour: was uniffi-android.toml ignored?" >&2; exit 1; }
# The same optional patch as bindings/build.sh applies to the JVM flavour (CASEWARD_KOTLIN_GLUE=stock skips it).
[ "${CASEWARD_KOTLIN_GLUE:-patched}" = stock ] || python3 bindings/kotlin/reuse_call_status.py "$kt"

mvn -q -B -f bindings/kotlin/android/pom.xml -Dnative.dir="$root/target/$profile" package
classes=$out/caseward-android-classes-$version.jar

aar=$out/aar
mkdir -p "$aar"
cp "$classes" "$aar/classes.jar"
cp bindings/kotlin/android/AndroidManifest.xml bindings/kotlin/android/proguard.txt "$aar/"
: >"$aar/R.txt"
abis=""
strip_tool=""
if [ -n "${ANDROID_NDK_HOME:-}" ]; then
  strip_tool=$(ls "$ANDROID_NDK_HOME"/toolchains/llvm/prebuilt/*/bin/llvm-strip 2>/dev/null | head -n1 || true)
fi
[ -z "$strip_tool" ] && command -v llvm-strip >/dev/null 2>&1 && strip_tool=llvm-strip
for pair in aarch64-linux-android:arm64-v8a x86_64-linux-android:x86_64 armv7-linux-androideabi:armeabi-v7a i686-linux-android:x86; do
  triple=${pair%%:*} abi=${pair#*:}
  so=target/$triple/$profile/libcaseward_ffi.so
  [ -e "$so" ] || continue
  mkdir -p "$aar/jni/$abi"
  if [ -n "$strip_tool" ]; then
    "$strip_tool" -S -o "$aar/jni/$abi/libcaseward_ffi.so" "$so"
  else
    echo "warning: no llvm-strip (set ANDROID_NDK_HOME): $abi's library goes in with its debug sections" >&2
    cp "$so" "$aar/jni/$abi/libcaseward_ffi.so"
  fi
  abis="$abis $abi"
done
if [ -z "$abis" ]; then
  if [ "$native" = required ]; then
    echo "no Android library under target/<android triple>/$profile/: build them with the NDK (README, Android)," >&2
    echo "or pass --no-native for an AAR without native code (not usable on a device)" >&2
    exit 1
  fi
  echo "note: no Android library built (no NDK here): the AAR has no jni/ folder and cannot run on a device" >&2
fi

name=caseward-android-$version
(cd "$aar" && jar --create --no-manifest --file "../$name.aar" .)
sed -e "s/@VERSION@/$version/" -e "s/@JNA_VERSION@/$jna_version/" -e "s/@KOTLIN_VERSION@/$kotlin_version/" \
  -e "s/@ANDROIDX_ANNOTATION_VERSION@/$androidx_annotation_version/" bindings/kotlin/android/aar-pom.xml >"$out/$name.pom"

# --- checks: the layout, the pom, and what the classes need from Android -------------------
fail() { echo "AAR check failed: $*" >&2; exit 1; }
entries=$(unzip -Z1 "$out/$name.aar")
for e in AndroidManifest.xml classes.jar proguard.txt R.txt; do
  grep -qx "$e" <<<"$entries" || fail "no $e"
done
for abi in $abis; do
  grep -qx "jni/$abi/libcaseward_ffi.so" <<<"$entries" || fail "no jni/$abi/libcaseward_ffi.so"
done
unzip -p "$out/$name.aar" AndroidManifest.xml | grep -q 'package="org.caseward"' || fail "manifest package"
unzip -p "$out/$name.aar" proguard.txt | grep -qx -- '-keep class com.sun.jna.\*\* { \*; }' || fail "proguard.txt keeps no JNA"
unzip -p "$out/$name.aar" proguard.txt | grep -qx -- '-keep class org.caseward.\*\* { \*; }' || fail "proguard.txt keeps no org.caseward"
python3 - "$out/$name.pom" "$jna_version" <<'EOF' || fail "the pom does not depend on jna@aar"
import sys, xml.etree.ElementTree as ET
ns = {"m": "http://maven.apache.org/POM/4.0.0"}
deps = ET.parse(sys.argv[1]).getroot().findall("m:dependencies/m:dependency", ns)
assert any(d.find("m:groupId", ns).text == "net.java.dev.jna" and d.find("m:artifactId", ns).text == "jna"
           and d.find("m:version", ns).text == sys.argv[2] and d.find("m:type", ns).text == "aar" for d in deps)
EOF
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
unzip -q "$aar/classes.jar" -d "$tmp"
[ ! -e "$tmp/android" ] && [ ! -e "$tmp/androidx" ] || fail "classes.jar holds Android classes (the stand-ins?)"
[ -f "$tmp/org/caseward/AndroidSystemCleaner.class" ] || fail "classes.jar is not the Android flavour"
[ -f "$tmp/org/caseward/KeystoreVaultKey.class" ] || fail "classes.jar has no KeystoreVaultKey"
major=$(od -An -j6 -N2 -tu1 "$tmp/org/caseward/Vault.class" | awk '{print $1 * 256 + $2}')
[ "$major" = 52 ] || fail "class files are version $major, not 52 (Java 8)"
used=$(cd "$tmp" && find . -name '*.class' -print0 | xargs -0 javap -v -p 2>/dev/null |
  grep -oE '(android|androidx)/[A-Za-z0-9_/$]+(\.[A-Za-z0-9_]+:[^ ]+)?' | sort -u | tr '\n' ' ')
expected='android/os/Build android/os/Build$VERSION android/os/Build$VERSION.SDK_INT:I android/system/SystemCleaner android/system/SystemCleaner.cleaner:()Ljava/lang/ref/Cleaner; androidx/annotation/RequiresApi '
[ "$used" = "$expected" ] || fail "the classes use Android APIs the stand-ins do not vouch for: $used"

echo "built $out/$name.aar ($(du -k "$out/$name.aar" | cut -f1) KiB; ABIs:${abis:- none}) and $out/$name.pom"
if [ "$install" = yes ]; then
  [ -n "$abis" ] || { echo "refusing to install an AAR without native libraries" >&2; exit 1; }
  mvn -q -B install:install-file -Dfile="$out/$name.aar" -DpomFile="$out/$name.pom" -Dpackaging=aar
  echo "installed org.caseward:caseward-android:$version@aar into the local Maven repository"
fi
