package org.caseward

import java.io.File
import java.nio.file.Files
import kotlin.test.assertEquals
import kotlin.test.assertFailsWith
import kotlin.test.assertFalse
import kotlin.test.assertNull
import kotlin.test.assertTrue
import org.junit.jupiter.api.Test

/** A provider's day from an Android field app: a family linked, filings and check-ins marked, an exit; then read back. */
class ProviderDayTest {
    private val site = "site-houston"

    private fun tempVault(): String = File(Files.createTempDirectory("caseward").toFile(), "provider.cwv").path

    private inline fun <reified T : RecordValue> List<StoredRecord>.ofKind(): List<Pair<Long, T>> =
        mapNotNull { r -> (r.value as? T)?.let { r.id to it } }

    @Test
    fun aFamilyDayRoundTrips() {
        Vault.createWithKey(tempVault(), generateKeystoreKey()).use { vault ->
            val lead = vault.enroll(Intake(aNumber = "A# 201-555-012", name = Name(verbatimDhs = "GARCIA LOPEZ, MARIA JOSE"),
                site = site, enrolledOn = "2026-08-03", caseworker = "cw-7", referralSource = ReferralSource.BOARD_SELECTION))
            val child = vault.enroll(Intake(aNumber = "A201555013", name = Name(verbatimDhs = "GARCIA, JOSUE DAVID"),
                site = site, enrolledOn = "2026-08-03"))
            val leadLink = Household("hh-0042", size = 3.toUByte(), minors = 1.toUByte(), relationship = Relationship.LEAD)
            vault.recordHousehold(lead, leadLink)
            vault.recordHousehold(child, Household("hh-0042", leadANumber = "201-555-012", size = 3.toUByte(),
                minors = 1.toUByte(), relationship = Relationship.CHILD))

            // A move, then its AR-11 and EOIR-33 filed.
            var move = Address(lines = listOf("88 Bellaire Blvd Apt 12"), city = "Houston", state = "TX", zip = "77036",
                movedOn = "2026-09-10", reportedToIceOn = "2026-09-11")
            val moveId = vault.recordAddress(lead, move)
            move = move.copy(ar11FiledOn = "2026-09-15", ar11Confirmation = "AR11-EAC2690012345", eoir33FiledOn = "2026-09-12")
            vault.updateAddress(lead, moveId, move)
            val duties = vault.deadlines(lead).duties.associateBy { it.duty }
            assertEquals("2026-09-15", duties["ar11"]?.metOn)
            assertEquals("2026-09-12", duties["eoir33"]?.metOn)

            // A check-in attended, one missed; a hearing's outcome.
            val attended = CheckIn(date = "2026-09-20", time = "09:30", office = "Houston ERO", modality = Modality.IN_PERSON)
            val missed = CheckIn(date = "2026-10-20", office = "Houston ERO", modality = Modality.APP)
            val attendedId = vault.recordCheckIn(lead, attended)
            val missedId = vault.recordCheckIn(lead, missed)
            vault.updateCheckIn(lead, attendedId, attended.copy(attendance = Attendance.ATTENDED))
            vault.updateCheckIn(lead, missedId, missed.copy(attendance = Attendance.MISSED))
            val hearing = Hearing(date = "2026-10-01", court = "Houston Immigration Court", kind = HearingKind.MASTER_CALENDAR)
            val hearingId = vault.recordHearing(lead, hearing)
            vault.updateHearing(lead, hearingId, hearing.copy(outcome = HearingOutcome.CONTINUED_BY_COURT))

            val randomization = Randomization("sel-0017", "houston-family", Arm.CONTROL, "2026-07-30")
            vault.recordRandomization(lead, randomization)
            vault.recordExit(lead, "2026-12-01", ExitReason.CASE_TERMINATED)

            // Read back: every field as entered.
            val records = vault.clientRecord(lead)
            val enrollment = records.ofKind<RecordValue.Enrollment>().single().second.enrollment
            assertEquals(randomization, enrollment.randomization)
            assertEquals(Exit("2026-12-01", ExitReason.CASE_TERMINATED), enrollment.exit)
            assertEquals("cw-7", enrollment.caseworker)
            assertEquals(ReferralSource.BOARD_SELECTION, enrollment.referralSource)
            assertEquals("A201555012", records.ofKind<RecordValue.Identity>().single().second.identity.aNumber)
            assertEquals(leadLink, records.ofKind<RecordValue.Household>().single().second.household)
            assertEquals(listOf(moveId to move), records.ofKind<RecordValue.Address>().map { it.first to it.second.address })
            assertEquals(
                mapOf(attendedId to Attendance.ATTENDED, missedId to Attendance.MISSED),
                records.ofKind<RecordValue.CheckIn>().associate { it.first to it.second.checkIn.attendance },
            )
            assertEquals(hearing.copy(outcome = HearingOutcome.CONTINUED_BY_COURT),
                records.ofKind<RecordValue.Hearing>().single().second.hearing)
            val childLink = vault.clientRecord(child).ofKind<RecordValue.Household>().single().second.household
            assertEquals("A201555012", childLink.leadANumber)
            assertEquals(Relationship.CHILD, childLink.relationship)

            // The typed view: staff see the lead's A-number on the son's link; the log confirms the bytes.
            vault.clientView(child, "caseworker").use { view ->
                assertEquals(child, view.clientId())
                val household = view.records().single { it.kind == "household" }
                assertTrue("\"lead_a_number\":\"A201555012\"" in household.sections.getValue("household.composition"))
                val seq = vault.verifyLog().head!!.split(":")[1].toULong()
                assertTrue(vault.confirmOutput(seq, view.toJson()))
                assertFalse("GARCIA" in view.toString())
            }
            assertFailsWith<CasewardException.Denied> { vault.clientView(child, "ice") }

            // Bad input: a hearing's id is not a check-in's; an unknown client has no enrollment.
            val wrongKind = assertFailsWith<CasewardException.InvalidInput> { vault.updateCheckIn(lead, hearingId, attended) }
            assertTrue("hearing" in wrongKind.message!!)
            assertFailsWith<CasewardException.NotFound> { vault.recordExit("00".repeat(16), "2026-12-01", ExitReason.WITHDREW) }
            assertNull(vault.clientRecord(child).ofKind<RecordValue.Enrollment>().single().second.enrollment.exit)
        }
    }

    @Test
    fun boardReportTakesTheSiteInputs() {
        Vault.createWithKey(tempVault(), generateKeystoreKey()).use { vault ->
            repeat(12) { i ->
                vault.enroll(Intake(aNumber = "A3%08d".format(i), name = Name(verbatimDhs = "CLIENT, N$i"), site = site, enrolledOn = "2026-08-03"))
            }
            vault.setProviderId("bakerripley-houston")
            val board = RecoveryKey.generate()
            val inputs = ReportInputs(capacity = mapOf(site to 40uL), expenditureUsd = mapOf(site to 125_000uL))
            val report = openWithAge(vault.boardReport("2026-09", listOf(board.recipient()), null, inputs), board)
            // The signed JSON is canonical (sorted keys, no spaces).
            assertTrue("\"capacity\":{\"$site\":40}" in report, report.take(200))
            assertTrue("\"id\":\"06\"" in report && "{\"count\":125000}" in report)
            val bare = openWithAge(vault.boardReport("2026-09", listOf(board.recipient())), board)
            assertTrue("\"capacity\":{}" in bare)
            assertTrue("06: needs the fiscal year's expenditure per site" in bare)
        }
    }

    /** Decrypts a bundle with the stock age tool, as a board member would. */
    private fun openWithAge(bundle: ByteArray, board: RecoveryKey): String {
        val dir = Files.createTempDirectory("board").toFile()
        val key = File(dir, "board.key").apply { writeText(board.exposeIdentity() + "\n") }
        val sealed = File(dir, "report.age").apply { writeBytes(bundle) }
        val age = ProcessBuilder("age", "-d", "-i", key.path, sealed.path).redirectErrorStream(false).start()
        val out = age.inputStream.readBytes()
        assertEquals(0, age.waitFor(), String(age.errorStream.readBytes()))
        return String(out)
    }
}
