package org.caseward.examples

import java.io.File
import java.time.LocalDate
import javax.crypto.KeyGenerator
import org.caseward.CasewardException
import org.caseward.CheckIn
import org.caseward.Intake
import org.caseward.KeystoreVaultKey
import org.caseward.Modality
import org.caseward.Name
import org.caseward.Vault

/**
 * The shape an Android field app gives its data layer: one repository owning the vault, closed
 * with the app's lifecycle. The vault's key is random and kept wrapped by a Keystore key beside
 * the vault ([KeystoreVaultKey]; on Android its SecretKey comes from "AndroidKeyStore", see the
 * README). Methods return app-level results instead of leaking binding exceptions into the UI.
 * Dates are `java.time.LocalDate`, as a date picker gives them.
 */
class ClientRepository(path: String, vaultKey: KeystoreVaultKey) : AutoCloseable {
    private val vault: Vault = if (vaultKey.exists()) vaultKey.openVault(path) else vaultKey.createVault(path)

    sealed interface Outcome<out T> {
        data class Ok<T>(val value: T) : Outcome<T>
        /** `kind` is safe to show and to log: it never carries client data. */
        data class Failed(val kind: String, val reason: String) : Outcome<Nothing>
    }

    private inline fun <T> attempt(block: () -> T): Outcome<T> = try {
        Outcome.Ok(block())
    } catch (e: CasewardException) {
        // The message is the reason itself; the kind is the subclass.
        Outcome.Failed(e.javaClass.simpleName, e.message.orEmpty())
    }

    fun enroll(aNumber: String, nameAsOnNta: String, site: String, enrolledOn: LocalDate): Outcome<String> = attempt {
        vault.enroll(Intake(aNumber = aNumber, name = Name(verbatimDhs = nameAsOnNta), site = site, enrolledOn = enrolledOn))
    }

    fun find(aNumber: String): Outcome<String?> = attempt { vault.findByANumber(aNumber) }

    fun scheduleCheckIn(clientId: String, date: LocalDate, office: String): Outcome<Long> = attempt {
        vault.recordCheckIn(clientId, CheckIn(date = date, office = office, modality = Modality.IN_PERSON))
    }

    /** The reminder screen: what the client must do next, for the client. */
    fun nextDuties(clientId: String): Outcome<List<String>> = attempt {
        val d = vault.deadlines(clientId)
        listOfNotNull(d.nextCheckIn?.let { "ICE check-in on $it" }, d.nextHearing?.let { "court hearing on $it" }) +
            d.duties.filter { it.metOn == null }.map { "${it.description}: due ${it.due}" }
    }

    override fun close() = vault.close()
}

fun main(args: Array<String>) {
    val path = args.firstOrNull() ?: kotlin.io.path.createTempDirectory("caseward").resolve("field.cwv").toString()
    // On a JVM, an AES key in memory stands in for the device's Keystore key.
    val keystoreKey = KeyGenerator.getInstance("AES").apply { init(256) }.generateKey()
    ClientRepository(path, KeystoreVaultKey(File("$path.key"), keystoreKey)).use { repo ->
        val id = (repo.enroll("A-201-555-012", "GARCIA LOPEZ, MARIA JOSE", "site-houston", LocalDate.of(2026, 8, 3)) as ClientRepository.Outcome.Ok).value
        repo.scheduleCheckIn(id, LocalDate.of(2099, 1, 15), "Houston ERO")
        println("enrolled $id; next: ${repo.nextDuties(id)}")
        println("an invalid A-number: ${repo.enroll("IOE0912345678", "X", "site-houston", LocalDate.of(2026, 8, 3))}")
    }
}
