#!/usr/bin/env python3
"""Gives uniffi's generated Kotlin one reusable call status per thread.

Why: uniffi 0.31's Kotlin allocates a fresh `UniffiRustCallStatus` (a JNA `Structure`, so a
`malloc`, an entry in JNA's global map of live `Memory`, and a `Cleaner` registration, plus the
same again for the nested `RustBuffer`) for every crossing, and a method call makes about four
crossings. Profiled with Java Flight Recorder, that bookkeeping was about half of a
`findByANumber` call, and JNA's single cleaner thread falls behind at a steady call rate.
Reusing one status per thread removes it: 24 µs -> 11 µs per call (BENCHMARKS.md).

Why it is safe here, and checked below rather than assumed:
- The status is reset (code 0, empty error buffer) before every crossing, as a fresh one was.
  JNA writes those fields to native memory before the call and reads them back after.
- A crossing made while another is being prepared on the same thread (lowering an argument
  allocates a RustBuffer inside the outer call's lambda) finishes, and leaves the status reset,
  before the outer native call starts; if it fails, the outer call never starts.
- An error or panic buffer is copied out of the status before it is lifted, because lifting
  frees it through another crossing that resets the shared status.
- The reuse would not be safe if Rust could call back into Kotlin in the middle of a call
  (callback interfaces) or suspend (async). The facade has neither; this script refuses to
  patch if the generated file shows either, so a later facade change cannot silently break it.

The patch is an optimisation that safety never depends on: uniffi's generated glue is safe as it
is. Every anchor must match exactly once and every check above must pass, or the file is left
exactly as uniffi wrote it (never half-patched) and a warning says why. So a uniffi upgrade that
changes the template still builds, with the stock glue, and needs no hand work to be safe; only
the speed-up waits for this script to be reviewed against the new template (ARCHITECTURE.md,
departure 30). `bindings/build.sh` with CASEWARD_KOTLIN_GLUE=stock skips the patch on purpose.
"""
import os
import sys

MARK = "// caseward: one reusable call status per thread (bindings/kotlin/reuse_call_status.py)"


class Skip(Exception):
    """A reason to leave the generated file as uniffi wrote it."""


def replace_once(text: str, old: str, new: str, what: str) -> str:
    count = text.count(old)
    if count != 1:
        raise Skip(f"expected one {what} in the generated Kotlin, found {count}: uniffi's template "
                   "changed, so this patch needs a review against it")
    return text.replace(old, new)


def main(path: str) -> None:
    with open(path, encoding="utf-8") as f:
        text = f.read()
    if MARK in text:
        return
    try:
        text = patched(text)
    except Skip as why:
        print(f"reuse_call_status.py: WARNING: Kotlin glue left as uniffi generated it (safe, about "
              f"twice the per-call cost): {why}", file=sys.stderr)
        return
    # Whole or not at all: a crash mid-write leaves uniffi's file, never a truncated one.
    tmp = path + ".patching"
    with open(tmp, "w", encoding="utf-8") as f:
        f.write(text)
    os.replace(tmp, path)


def patched(text: str) -> str:
    if "suspend fun" in text:
        raise Skip("the facade now has async functions; a shared call status is not safe")
    # The callback helpers are always emitted once; any further mention is a use.
    if text.count("uniffiTraitInterfaceCall(") > 1 or text.count("uniffiTraitInterfaceCallWithError(") > 1:
        raise Skip("the facade now has callback interfaces; a shared call status is not safe")
    # One in `class ByValue: UniffiRustCallStatus()`, one in uniffiRustCallWithError: no other
    # code makes its own status.
    if text.count("UniffiRustCallStatus()") != 2:
        raise Skip("the generated Kotlin makes call statuses elsewhere")

    text = replace_once(
        text,
        "    var status = UniffiRustCallStatus()\n    val return_value = callback(status)\n",
        "    " + MARK + "\n"
        "    val status = UniffiCallStatusPerThread.status.get()\n"
        "    status.code = UNIFFI_CALL_SUCCESS\n"
        "    status.error_buf.capacity = 0\n"
        "    status.error_buf.len = 0\n"
        "    status.error_buf.data = null\n"
        "    val return_value = callback(status)\n",
        "fresh call status in uniffiRustCallWithError",
    )
    text = replace_once(
        text,
        "// Check UniffiRustCallStatus and throw an error if the call wasn't successful\n",
        MARK + "\n"
        "// An object, not a top-level val, so it is initialized on first use whatever the file's\n"
        "// initialization order.\n"
        "private object UniffiCallStatusPerThread {\n"
        "    val status: ThreadLocal<UniffiRustCallStatus> = ThreadLocal.withInitial { UniffiRustCallStatus() }\n"
        "}\n\n"
        "// The error buffer leaves the shared status before it is lifted (lifting frees it\n"
        "// through another call, which resets the status).\n"
        "private fun uniffiTakeErrorBuf(status: UniffiRustCallStatus): RustBuffer.ByValue =\n"
        "    RustBuffer.create(status.error_buf.capacity.toULong(), status.error_buf.len.toULong(), status.error_buf.data)\n\n"
        "// Check UniffiRustCallStatus and throw an error if the call wasn't successful\n",
        "uniffiCheckCallStatus comment",
    )
    text = replace_once(
        text,
        "        throw errorHandler.lift(status.error_buf)\n",
        "        throw errorHandler.lift(uniffiTakeErrorBuf(status))\n",
        "error lift in uniffiCheckCallStatus",
    )
    text = replace_once(
        text,
        "            throw InternalException(FfiConverterString.lift(status.error_buf))\n",
        "            throw InternalException(FfiConverterString.lift(uniffiTakeErrorBuf(status)))\n",
        "panic lift in uniffiCheckCallStatus",
    )
    return text


if __name__ == "__main__":
    main(sys.argv[1])
