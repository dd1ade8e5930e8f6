package org.caseward.examples

import java.time.LocalDate
import org.caseward.CasewardException
import org.caseward.CheckIn
import org.caseward.Intake
import org.caseward.Modality
import org.caseward.Name
import org.caseward.Vault

/**
 * The shape an Android field app gives its data layer: one repository owning the vault, opened
 * with a raw key from the Android Keystore (here: any 32 bytes), closed with the app's lifecycle.
 * Methods return app-level results instead of leaking binding exceptions into the UI. Dates are
 * `java.time.LocalDate`, as a date picker gives them.
 */
class ClientRepository(path: String, keystoreKey: ByteArray) : AutoCloseable {
    private val vault: Vault = try {
        Vault.openWithKey(path, keystoreKey)
    } catch (e: CasewardException.NotFound) {
        Vault.createWithKey(path, keystoreKey)
    }

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
    ClientRepository(path, ByteArray(32) { 7 }).use { repo ->
        val id = (repo.enroll("A-201-555-012", "GARCIA LOPEZ, MARIA JOSE", "site-houston", LocalDate.of(2026, 8, 3)) as ClientRepository.Outcome.Ok).value
        repo.scheduleCheckIn(id, LocalDate.of(2099, 1, 15), "Houston ERO")
        println("enrolled $id; next: ${repo.nextDuties(id)}")
        println("an invalid A-number: ${repo.enroll("IOE0912345678", "X", "site-houston", LocalDate.of(2026, 8, 3))}")
    }
}
