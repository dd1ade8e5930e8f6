package example.fieldapp

import com.sun.jna.NativeLibrary
import com.sun.jna.Platform
import java.io.File
import kotlin.test.assertEquals
import kotlin.test.assertNotNull
import kotlin.test.assertNull
import kotlin.test.assertTrue
import org.caseward.Vault
import org.caseward.normalizeANumber
import org.junit.jupiter.api.Test

/** The consumer's premise: the native library comes from inside the caseward jar, found by JNA with no path given. */
class PackagedLibraryTest {
    @Test
    fun theNativeLibraryLoadsFromInsideTheJar() {
        assertNull(System.getProperty("jna.library.path"), "a consumer sets no library path")
        val name = "${Platform.RESOURCE_PREFIX}/${System.mapLibraryName("caseward_ffi")}"
        val resource = assertNotNull(Vault::class.java.classLoader.getResource(name), "$name is not on the classpath")
        assertEquals("jar", resource.protocol)
        assertTrue(resource.path.contains("/org/caseward/caseward/0.1.0/caseward-0.1.0.jar!"), resource.path)

        assertEquals("A012345678", normalizeANumber("a 12 345 678"))
        // JNA extracted the jar's library to a file in its temporary folder and loaded that (then
        // deleted the file, on Linux); no libcaseward_ffi.so from anywhere else is mapped.
        val loaded = NativeLibrary.getInstance("caseward_ffi").file
        assertTrue(loaded.name.startsWith("jna") && loaded.name.endsWith(".tmp") && "/target/" !in loaded.path, "$loaded")
        val maps = File("/proc/self/maps")
        if (maps.exists()) {
            val mapped = maps.readLines().filter { "caseward_ffi" in it || loaded.name in it }
            assertTrue(mapped.isNotEmpty() && mapped.all { loaded.name in it }, mapped.joinToString("\n"))
        }
    }
}
