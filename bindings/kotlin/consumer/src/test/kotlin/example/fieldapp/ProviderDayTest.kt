package example.fieldapp

import java.io.File
import java.nio.file.Files
import java.time.LocalDate
import kotlin.test.assertEquals
import kotlin.test.assertFailsWith
import kotlin.test.assertFalse
import kotlin.test.assertNotNull
import kotlin.test.assertNull
import kotlin.test.assertTrue
import org.caseward.*
import org.junit.jupiter.api.Test

/**
 * A provider's day from a field app, through the packaged jar (org.caseward:caseward from the
 * local repository, its native library inside it): a family's intake and household, a move and
 * its filings, check-ins attended and missed, a hearing, an exit; a consent and a referral; an
 * ICE notice; a passphrase forgotten and recovered; root-key rotations. Public API only.
 */
class ProviderDayTest {
    private val site = "site-houston"

    private fun tempVault(): String = File(Files.createTempDirectory("caseward").toFile(), "provider.cwv").path

    private inline fun <reified T : RecordValue> List<StoredRecord>.ofKind(): List<Pair<Long, T>> =
        mapNotNull { r -> (r.value as? T)?.let { r.id to it } }

    @Test
    fun aFamilyDayRoundTrips() {
        Vault.createWithKey(tempVault(), generateKeystoreKey()).use { vault ->
            val lead = vault.enroll(Intake(aNumber = "A# 201-555-012", name = Name(verbatimDhs = "GARCIA LOPEZ, MARIA JOSE"),
                site = site, enrolledOn = LocalDate.of(2026, 8, 3), caseworker = "cw-7", referralSource = ReferralSource.BOARD_SELECTION))
            val child = vault.enroll(Intake(aNumber = "A201555013", name = Name(verbatimDhs = "GARCIA, JOSUE DAVID"),
                site = site, enrolledOn = LocalDate.of(2026, 8, 3)))
            val leadLink = Household("hh-0042", size = 3.toUByte(), minors = 1.toUByte(), relationship = Relationship.LEAD)
            vault.recordHousehold(lead, leadLink)
            vault.recordHousehold(child, Household("hh-0042", leadANumber = "201-555-012", size = 3.toUByte(),
                minors = 1.toUByte(), relationship = Relationship.CHILD))

            // A move, then its AR-11 and EOIR-33 filed.
            var move = Address(lines = listOf("88 Bellaire Blvd Apt 12"), city = "Houston", state = "TX", zip = "77036",
                movedOn = LocalDate.of(2026, 9, 10), reportedToIceOn = LocalDate.of(2026, 9, 11))
            val moveId = vault.recordAddress(lead, move)
            move = move.copy(ar11FiledOn = LocalDate.of(2026, 9, 15), ar11Confirmation = "AR11-EAC2690012345", eoir33FiledOn = LocalDate.of(2026, 9, 12))
            vault.updateAddress(lead, moveId, move)
            val duties = vault.deadlines(lead).duties.associateBy { it.duty }
            assertEquals(LocalDate.of(2026, 9, 15), duties["ar11"]?.metOn)
            assertEquals(LocalDate.of(2026, 9, 12), duties["eoir33"]?.metOn)

            // A check-in attended, one missed; a hearing's outcome.
            val attended = CheckIn(date = LocalDate.of(2026, 9, 20), time = "09:30", office = "Houston ERO", modality = Modality.IN_PERSON)
            val missed = CheckIn(date = LocalDate.of(2026, 10, 20), office = "Houston ERO", modality = Modality.APP)
            val attendedId = vault.recordCheckIn(lead, attended)
            val missedId = vault.recordCheckIn(lead, missed)
            vault.updateCheckIn(lead, attendedId, attended.copy(attendance = Attendance.ATTENDED))
            vault.updateCheckIn(lead, missedId, missed.copy(attendance = Attendance.MISSED))
            val hearing = Hearing(date = LocalDate.of(2026, 10, 1), court = "Houston Immigration Court", kind = HearingKind.MASTER_CALENDAR)
            val hearingId = vault.recordHearing(lead, hearing)
            vault.updateHearing(lead, hearingId, hearing.copy(outcome = HearingOutcome.CONTINUED_BY_COURT))

            val randomization = Randomization("sel-0017", "houston-family", Arm.CONTROL, LocalDate.of(2026, 7, 30))
            vault.recordRandomization(lead, randomization)
            vault.recordExit(lead, LocalDate.of(2026, 12, 1), ExitReason.CASE_TERMINATED)

            // Read back: every field as entered.
            val records = vault.clientRecord(lead)
            val enrollment = records.ofKind<RecordValue.Enrollment>().single().second.enrollment
            assertEquals(randomization, enrollment.randomization)
            assertEquals(Exit(LocalDate.of(2026, 12, 1), ExitReason.CASE_TERMINATED), enrollment.exit)
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
            assertFailsWith<CasewardException.NotFound> { vault.recordExit("00".repeat(16), LocalDate.of(2026, 12, 1), ExitReason.WITHDREW) }
            assertNull(vault.clientRecord(child).ofKind<RecordValue.Enrollment>().single().second.enrollment.exit)
        }
    }

    @Test
    fun datesAreLocalDatesBothWays() {
        Vault.createWithKey(tempVault(), generateKeystoreKey()).use { vault ->
            val id = vault.enroll(Intake(aNumber = "A201555013", name = Name(verbatimDhs = "GARCIA, JOSUE DAVID"),
                site = site, enrolledOn = LocalDate.of(2026, 8, 3)))
            // The ends of the range and a leap day round-trip through a record and its read-back.
            val days = listOf(LocalDate.of(1, 1, 1), LocalDate.of(2028, 2, 29), LocalDate.of(9999, 12, 31))
            val ids = days.map { vault.recordService(id, Service(date = it, kind = ServiceKind.FOOD)) }
            val services = vault.clientRecord(id).ofKind<RecordValue.Service>().toMap()
            assertEquals(days, ids.map { services.getValue(it).service.date })
            val enrollment = vault.clientRecord(id).ofKind<RecordValue.Enrollment>().single().second.enrollment
            assertEquals(LocalDate.of(2026, 8, 3), enrollment.enrolledOn)

            // A LocalDate the core cannot hold (year 0, year 10000) is the core's InvalidInput, and
            // nothing is written; so is bad text given to parseDate.
            for (day in listOf(LocalDate.of(0, 1, 1), LocalDate.of(10_000, 1, 1))) {
                val e = assertFailsWith<CasewardException.InvalidInput> { vault.recordService(id, Service(date = day, kind = ServiceKind.FOOD)) }
                assertEquals("invalid date: it is not a valid YYYY-MM-DD date", e.message)
                assertFailsWith<CasewardException.InvalidInput> { vault.recordExit(id, day, ExitReason.WITHDREW) }
            }
            assertEquals(3, vault.clientRecord(id).ofKind<RecordValue.Service>().size)
            assertNull(vault.clientRecord(id).ofKind<RecordValue.Enrollment>().single().second.enrollment.exit)
            assertEquals(LocalDate.of(2026, 8, 3), parseDate("2026-08-03"))
            for (bad in listOf("2026-13-01", "2026-02-30", "03/08/2026", "")) {
                val e = assertFailsWith<CasewardException.InvalidInput> { parseDate(bad) }
                assertEquals("invalid date: it is not a valid YYYY-MM-DD date", e.message)
            }
        }
    }

    @Test
    fun recordsAreImmutable() {
        // generate_immutable_records: every field of a record is a `val` (a final field); change one with copy().
        for (record in listOf(Intake::class, Name::class, Address::class, CheckIn::class, Hearing::class, Consent::class,
            Deadlines::class, NoticeCheckIn::class, EnrollmentRecord::class, StoredRecord::class)) {
            val fields = record.java.declaredFields.filter { !java.lang.reflect.Modifier.isStatic(it.modifiers) }
            assertTrue(fields.isNotEmpty() && fields.all { java.lang.reflect.Modifier.isFinal(it.modifiers) }, record.simpleName)
        }
    }

    @Test
    fun outputsAreObjectsWhoseBytesTheLogConfirmsAndThatPrintNothing() {
        Vault.createWithKey(tempVault(), generateKeystoreKey()).use { vault ->
            val id = vault.enroll(Intake(aNumber = "A# 201-555-012", name = Name(verbatimDhs = "GARCIA LOPEZ, MARIA JOSE", preferred = "Majo"),
                site = site, enrolledOn = LocalDate.of(2026, 8, 3)))
            vault.recordAddress(id, Address(lines = listOf("88 Bellaire Blvd", "Apt 12"), city = "Houston", state = "TX", zip = "77036",
                movedOn = LocalDate.of(2026, 9, 10), reportedToIceOn = LocalDate.of(2026, 9, 11)))
            vault.recordCheckIn(id, CheckIn(date = LocalDate.of(2099, 1, 15), time = "09:30", office = "Houston ERO", modality = Modality.APP))
            vault.recordHearing(id, Hearing(date = LocalDate.of(2099, 2, 1), court = "Houston Immigration Court", kind = HearingKind.INDIVIDUAL))
            vault.grantConsent(id, Consent("partner:casa-houston", listOf("identifier.name"), "housing", LocalDate.of(2026, 8, 7), LocalDate.of(2099, 8, 7)))
            fun headSeq() = vault.verifyLog().head!!.split(":")[1].toULong()

            vault.iceNotice(id, true).use { notice ->
                val seq = headSeq()
                assertEquals("A201555012", notice.aNumber())
                assertEquals("GARCIA LOPEZ, MARIA JOSE", notice.name())
                assertEquals(listOf("88 Bellaire Blvd", "Apt 12", "Houston, TX 77036"), notice.addressLines())
                assertFalse(notice.clientReportsAddressDirectly())
                assertEquals(NoticeCheckIn(LocalDate.of(2099, 1, 15), "09:30", "Houston ERO", Modality.APP), notice.nextCheckIn())
                assertEquals(LocalDate.of(2099, 2, 1), notice.nextCourtDate()?.date)
                // toJson() is exactly what the log recorded.
                assertTrue(vault.confirmOutput(seq, notice.toJson()))
                assertFalse(vault.confirmOutput(seq, notice.toJson() + ' '.code.toByte()))
                assertTrue("\"as_of\":\"${notice.asOf()}\"" in String(notice.toJson()))
                // Printing it shows nothing of the client.
                val text = notice.toString()
                assertEquals("IceNotice { [redacted] }", text)
                for (secret in listOf("A201555012", "201-555-012", "GARCIA", "Bellaire", "77036")) assertFalse(secret in text)
            }
            vault.clientCopy(id).use { copy ->
                assertEquals("client", copy.audience())
                assertTrue(vault.confirmOutput(headSeq(), copy.toJson()))
                assertTrue("88 Bellaire Blvd" in String(copy.toJson()))
                assertFalse("Bellaire" in copy.toString() || "GARCIA" in copy.toString())
            }
            vault.partnerReferral(id, "casa-houston").use { referral ->
                assertEquals("partner:casa-houston", referral.audience())
                assertTrue(vault.confirmOutput(headSeq(), referral.toJson()))
                val shared = String(referral.toJson())
                assertTrue("Majo" in shared && "Bellaire" !in shared && "A201555012" !in shared)
                assertFalse("Majo" in referral.toString())
            }
        }
    }

    @Test
    fun boardReportTakesTheSiteInputs() {
        Vault.createWithKey(tempVault(), generateKeystoreKey()).use { vault ->
            repeat(12) { i ->
                vault.enroll(Intake(aNumber = "A3%08d".format(i), name = Name(verbatimDhs = "CLIENT, N$i"), site = site, enrolledOn = LocalDate.of(2026, 8, 3)))
            }
            vault.setProviderId("bakerripley-houston")
            val board = RecoveryKey.generate()
            val inputs = ReportInputs(capacity = mapOf(site to 40uL), expenditureUsd = mapOf(site to 125_000uL))
            val report = openWithAge(vault.boardReport("2026-09", listOf(board.recipient()), null, inputs), board)
            // The signed JSON is canonical (sorted keys, no spaces).
            assertTrue("\"capacity\":{\"$site\":40}" in report, report.take(200))
            assertTrue("\"id\":\"06\"" in report && "{\"count\":125000}" in report)
            // September is released: asking again sends the same report; new numbers are a revision.
            assertEquals(report, openWithAge(vault.boardReport("2026-09", listOf(board.recipient())), board))
            val bare = openWithAge(vault.boardReport("2026-09", listOf(board.recipient()), null, ReportInputs(revise = "inputs withdrawn")), board)
            assertTrue("\"revision\":{\"number\":1,\"reason\":\"inputs withdrawn\"}" in bare, bare.take(300))
            assertTrue("\"capacity\":{}" in bare)
            assertTrue("06: needs the fiscal year's expenditure per site" in bare)
        }
    }

    @Test
    fun aReferralIsSharedUnderConsentUntilTheConsentIsRevoked() {
        Vault.createWithKey(tempVault(), generateKeystoreKey()).use { vault ->
            val id = vault.enroll(Intake(aNumber = "A201555012", name = Name(verbatimDhs = "GARCIA LOPEZ, MARIA JOSE", preferred = "Majo"),
                site = site, enrolledOn = LocalDate.of(2026, 8, 3)))
            vault.recordScreening(id, Screening(ScreeningKind.MENTAL_HEALTH, LocalDate.of(2026, 8, 6), "RHS-15", "high", true, true))
            val referral = Referral(ServiceKind.HOUSING, "casa-houston", LocalDate.of(2026, 8, 7), ReferralStatus.MADE)
            val referralId = vault.recordReferral(id, referral)
            // Nothing reaches the partner before the client signs.
            assertFailsWith<CasewardException.Denied> { vault.partnerReferral(id, "casa-houston") }
            val consent = Consent("partner:casa-houston", listOf("referral.housing", "identifier.name"), "housing",
                LocalDate.of(2026, 8, 7), LocalDate.of(2099, 8, 7))
            val consentId = vault.grantConsent(id, consent)
            vault.partnerReferral(id, "casa-houston").use { shared ->
                val json = String(shared.toJson())
                assertTrue("casa-houston" in json && "Majo" in json, json)
                assertFalse("RHS-15" in json || "A201555012" in json, json)
                assertTrue(vault.confirmOutput(vault.verifyLog().head!!.split(":")[1].toULong(), shared.toJson()))
            }
            // The client withdraws the consent: nothing more reaches the partner.
            vault.revokeConsent(id, consentId)
            assertFailsWith<CasewardException.Denied> { vault.partnerReferral(id, "casa-houston") }
            val records = vault.clientRecord(id)
            assertEquals(referral, records.ofKind<RecordValue.Referral>().toMap().getValue(referralId).referral)
            val stored = records.ofKind<RecordValue.Consent>().single()
            assertEquals(consentId, stored.first)
            assertEquals(consent.categories, stored.second.consent.categories)
            assertNotNull(stored.second.consent.revokedOn)
        }
    }

    @Test
    fun aForgottenPassphraseIsRecoveredAndTheRootKeyRotated() {
        val path = tempVault()
        val pass = "the office passphrase, 2026"
        // At set-up, the office keeps a recovery key offline; the vault lists its recipient.
        val office = RecoveryKey.generate()
        val identity = office.exposeIdentity()
        val id = Vault.create(path, pass).use { vault ->
            vault.addRecoveryRecipient(office.recipient())
            assertEquals(listOf("passphrase", "recovery"), vault.envelopes().map { it.kind }.sorted())
            vault.enroll(Intake(aNumber = "A201555012", name = Name(verbatimDhs = "GARCIA LOPEZ, MARIA JOSE"), site = site,
                enrolledOn = LocalDate.of(2026, 8, 3)))
        }
        // Months later nobody remembers the passphrase.
        assertFailsWith<CasewardException.WrongKey> { Vault.open(path, "the office passphrase, 2025") }
        // The recovery identity opens it; a root-key rotation sets a new passphrase and retires
        // every old envelope, so the old passphrase opens nothing even if someone knew it.
        Vault.openWithRecovery(path, identity).use { vault ->
            assertEquals(id, vault.findByANumber("A# 201-555-012"))
            val kek = vault.rotateKeys()
            vault.rotateRootKey("a new passphrase, written down")
            assertTrue(vault.rotateKeys() > kek)
            assertTrue(vault.verifyLog().intact)
        }
        assertFailsWith<CasewardException.WrongKey> { Vault.open(path, pass) }
        Vault.open(path, "a new passphrase, written down").use { vault ->
            assertEquals(id, vault.findByANumber("A201555012"))
            assertEquals(listOf("passphrase", "recovery"), vault.envelopes().map { it.kind }.sorted())
        }
        // The recovery recipient carried over the rotation.
        Vault.openWithRecovery(path, identity).use { assertEquals(id, it.findByANumber("A201555012")) }
        assertFailsWith<CasewardException.WrongKey> { Vault.openWithRecovery(path, RecoveryKey.generate().exposeIdentity()) }
    }

    @Test
    fun aKeystoreVaultRotatesItsRootKeyAndKeepsItsKey() {
        val path = tempVault()
        val key = generateKeystoreKey()
        val id = Vault.createWithKey(path, key).use { vault ->
            val id = vault.enroll(Intake(aNumber = "A201555012", name = Name(verbatimDhs = "GARCIA LOPEZ, MARIA JOSE"), site = site,
                enrolledOn = LocalDate.of(2026, 8, 3)))
            // A keystore vault has no passphrase to keep: null.
            vault.rotateRootKey(null)
            assertEquals(id, vault.findByANumber("A201555012"))
            id
        }
        Vault.openWithKey(path, key).use { assertEquals(id, it.findByANumber("A201555012")) }
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
