package org.caseward

import java.nio.file.Files
import java.time.LocalDate

/**
 * The Kotlin side of the binding-overhead comparison: `findByANumber` on a 1,000-client vault,
 * as core/benches/calls.rs makes it in Rust. Prints microseconds per call (best of 5 runs of
 * 20,000 calls, after a warm-up for the JIT). Run by `bindings/kotlin/bench-call.sh`.
 */
fun main() {
    val path = Files.createTempDirectory("caseward").resolve("bench.cwv").toString()
    Vault.createWithKey(path, ByteArray(32) { 1 }).use { vault ->
        for (i in 1..1000) {
            vault.enroll(Intake(aNumber = "A3%08d".format(i), name = Name(verbatimDhs = "TEST, PERSON"), site = "site-a", enrolledOn = LocalDate.of(2026, 8, 1)))
        }
        val numbers = (1..1000).map { "A3%08d".format(it) }
        repeat(200_000) { vault.findByANumber(numbers[it % 1000]); normalizeANumber(numbers[it % 1000]) }
        var best = Double.MAX_VALUE
        repeat(5) {
            val t = System.nanoTime()
            for (k in 0 until 20_000) vault.findByANumber(numbers[k % 1000])
            best = minOf(best, (System.nanoTime() - t) / 20_000.0 / 1000.0)
        }
        println("kotlin findByANumber: %.2f us per call (best of 5 x 20,000)".format(best))
        // What one string crossing costs, without the vault: it separates JNA's marshalling of
        // uniffi's RustBuffer structs from the work of the call.
        var bestNorm = Double.MAX_VALUE
        repeat(5) {
            val t = System.nanoTime()
            for (k in 0 until 20_000) normalizeANumber(numbers[k % 1000])
            bestNorm = minOf(bestNorm, (System.nanoTime() - t) / 20_000.0 / 1000.0)
        }
        println("kotlin normalizeANumber (string in, string out, no vault): %.2f us per call".format(bestNorm))
    }
}
