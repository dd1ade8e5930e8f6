package org.caseward.android

import java.io.File
import java.nio.file.Files
import java.time.LocalDate
import kotlin.test.assertEquals
import org.caseward.Intake
import org.caseward.Name
import org.caseward.Vault
import org.caseward.generateKeystoreKey
import org.junit.jupiter.api.Test

/**
 * The AAR's classes (uniffi's `android = true` flavour) on the JVM, as on API level 34: objects
 * are released through android.system.SystemCleaner (here a JDK Cleaner behind the stand-in),
 * explicitly and when collected. Android itself is not here; this checks the flavour's glue.
 */
class AndroidFlavourTest {
    @Test
    fun objectsAreReleasedThroughTheSystemCleanerPath() {
        assertEquals(34, android.os.Build.VERSION.SDK_INT)
        // The library's one cleaner (UniffiLib.CLEANER, internal) is the Android flavour's.
        val lib = Class.forName("org.caseward.UniffiLib")
        // (An internal getter's JVM name carries the module name: getCLEANER${'$'}<module>.)
        val getter = lib.declaredMethods.single { it.name.startsWith("getCLEANER") }
        val cleaner = getter.invoke(lib.getField("INSTANCE").get(null))
        assertEquals("AndroidSystemCleaner", cleaner.javaClass.simpleName)
        val path = File(Files.createTempDirectory("android").toFile(), "field.cwv").path
        val key = generateKeystoreKey()
        val id = Vault.createWithKey(path, key).use { vault ->
            vault.enroll(Intake(aNumber = "A201555012", name = Name(verbatimDhs = "GARCIA LOPEZ, MARIA JOSE"), site = "site-houston",
                enrolledOn = LocalDate.of(2026, 8, 3)))
        }
        // Handles left to the cleaner: many vaults opened and dropped without close().
        repeat(200) { Vault.openWithKey(path, key).findByANumber("A201555012") }
        repeat(3) { System.gc(); Thread.sleep(50) }
        Vault.openWithKey(path, key).use { assertEquals(id, it.findByANumber("A201555012")) }
    }
}
