package org.caseward

import java.io.File
import java.nio.file.Files
import java.time.LocalDate
import javax.crypto.KeyGenerator
import kotlin.test.assertEquals
import kotlin.test.assertIs
import kotlin.test.assertTrue
import org.caseward.examples.ClientRepository
import org.junit.jupiter.api.Test

/** The repository example in examples/kotlin, used the way an app's view model would. */
class ExampleTest {
    @Test
    fun repositoryFlow() {
        val path = Files.createTempDirectory("caseward").resolve("field.cwv").toString()
        val key = KeystoreVaultKey(File("$path.key"), KeyGenerator.getInstance("AES").apply { init(256) }.generateKey())
        val id = ClientRepository(path, key).use { repo ->
            val enrolled = assertIs<ClientRepository.Outcome.Ok<String>>(repo.enroll("A-201-555-012", "GARCIA LOPEZ, MARIA JOSE", "site-houston", LocalDate.of(2026, 8, 3)))
            assertIs<ClientRepository.Outcome.Ok<Long>>(repo.scheduleCheckIn(enrolled.value, LocalDate.of(2099, 1, 15), "Houston ERO"))
            val duties = assertIs<ClientRepository.Outcome.Ok<List<String>>>(repo.nextDuties(enrolled.value)).value
            assertTrue(duties.first().startsWith("ICE check-in on 2099-01-15"))
            val bad = assertIs<ClientRepository.Outcome.Failed>(repo.enroll("IOE0912345678", "X", "site-houston", LocalDate.of(2026, 8, 3)))
            assertEquals("InvalidInput", bad.kind)
            enrolled.value
        }
        // Reopened with the same Keystore key (the vault key unwrapped again), the client is there.
        ClientRepository(path, key).use { repo -> assertEquals(ClientRepository.Outcome.Ok(id), repo.find("201555012")) }
        org.caseward.examples.main(arrayOf(Files.createTempDirectory("caseward").resolve("demo.cwv").toString()))
    }
}
