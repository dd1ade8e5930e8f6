package org.caseward

import java.io.File
import java.nio.file.Files
import java.sql.DriverManager
import java.time.LocalDate
import java.util.concurrent.Callable
import java.util.concurrent.Executors
import kotlin.test.assertEquals
import kotlin.test.assertFailsWith
import kotlin.test.assertFalse
import kotlin.test.assertNotNull
import kotlin.test.assertNull
import kotlin.test.assertTrue
import org.junit.jupiter.api.Assumptions.assumeTrue
import org.junit.jupiter.api.Test

/** The flow an Android field app runs, through the Kotlin binding; every error kind from a real condition. */
class VaultTest {
    private val pass = "kotlin binding test passphrase"
    private val board = "age1ql3z7hjy54pw3hyww5ayyfg7zqgvc7w3j2elw8zmrj2kg5sfn9aqmcac8p"

    private fun tempVault(): String = File(Files.createTempDirectory("caseward").toFile(), "provider.cwv").path

    private fun intake(aNumber: String = "A# 201-555-012") = Intake(
        aNumber = aNumber,
        name = Name(verbatimDhs = "GARCIA LOPEZ, MARIA JOSE", given = listOf("María José"), surnames = listOf("García", "López")),
        birthDate = BirthDate(1990u, 7u.toUByte(), 10u.toUByte(), DatePrecision.DAY, DateProvenance.DOCUMENT),
        nationality = listOf("Honduras"),
        languages = listOf("es"),
        site = "site-houston",
        enrolledOn = LocalDate.of(2026, 8, 3),
    )

    @Test
    fun wholeFlow() {
        val path = tempVault()
        var vault = Vault.create(path, pass)
        val id = vault.enroll(intake())
        assertEquals(id, vault.findByANumber("USCIS# 201-555-012"))
        vault.recordAddress(id, Address(lines = listOf("1200 Main St Apt 4"), city = "Houston", state = "TX", zip = "77002",
            movedOn = LocalDate.of(2026, 9, 1), reportedToIceOn = LocalDate.of(2026, 9, 2)))
        vault.recordCheckIn(id, CheckIn(date = LocalDate.of(2099, 1, 15), office = "Houston ERO", modality = Modality.IN_PERSON))
        vault.recordHearing(id, Hearing(date = LocalDate.of(2099, 2, 1), court = "Houston Immigration Court", kind = HearingKind.MASTER_CALENDAR))
        vault.recordService(id, Service(date = LocalDate.of(2026, 8, 5), kind = ServiceKind.LEGAL_ORIENTATION))
        vault.recordScreening(id, Screening(ScreeningKind.MENTAL_HEALTH, LocalDate.of(2026, 8, 6), "RHS-15", "high", true, true))
        vault.recordReferral(id, Referral(ServiceKind.HOUSING, "casa-houston", LocalDate.of(2026, 8, 7), ReferralStatus.MADE))
        vault.addNote(id, "cw-7", "Discussed the next check-in.")
        val consent = vault.grantConsent(id, Consent("partner:casa-houston", listOf("referral.housing"), "housing", LocalDate.of(2026, 8, 7), LocalDate.of(2099, 8, 7)))
        val shared = vault.partnerReferral(id, "casa-houston").use { String(it.toJson()) }
        assertTrue("casa-houston" in shared)
        assertFalse("RHS-15" in shared)

        val notice = vault.iceNotice(id, false)
        assertEquals("A201555012", notice.aNumber())
        assertTrue(notice.clientReportsAddressDirectly())
        assertEquals("Houston ERO", notice.nextCheckIn()?.office)
        assertEquals(LocalDate.of(2099, 1, 15), notice.nextCheckIn()?.date)
        val withAddress = vault.iceNotice(id, true)
        assertEquals("1200 Main St Apt 4", withAddress.addressLines().first())
        // The log confirms exactly the bytes it recorded, and nothing else.
        val seq = vault.verifyLog().head!!.split(":")[1].toULong()
        assertTrue(vault.confirmOutput(seq, withAddress.toJson()))
        assertFalse(vault.confirmOutput(seq, notice.toJson()))
        assertFalse("RHS-15" in String(notice.toJson()))
        // Printing a notice shows none of it.
        for (text in listOf(notice.toString(), withAddress.toString())) {
            assertEquals("IceNotice { [redacted] }", text)
        }
        notice.close()
        withAddress.close()
        vault.clientCopy(id).use { copy ->
            assertTrue("RHS-15" in String(copy.toJson()))
            assertEquals("client", copy.audience())
            assertTrue(vault.confirmOutput(vault.verifyLog().head!!.split(":")[1].toULong(), copy.toJson()))
        }
        assertEquals(LocalDate.of(2026, 9, 1), vault.deadlines(id).movedOn)

        vault.revokeConsent(id, consent)
        assertFailsWith<CasewardException.Denied> { vault.partnerReferral(id, "casa-houston") }
        val v = vault.rotateKeys()
        assertEquals(v + 1u, vault.rotateKeys())
        vault.changePassphrase(pass, "$pass v2")
        // A root-key rotation on a passphrase vault must be told which passphrase to keep.
        assertFailsWith<CasewardException.InvalidInput> { vault.rotateRootKey(null) }
        vault.rotateRootKey("$pass v2")
        vault.close()
        // The change rotated the root key: the old passphrase opens nothing.
        assertFailsWith<CasewardException.WrongKey> { Vault.open(path, pass) }
        vault = Vault.open(path, "$pass v2")
        assertEquals(id, vault.findByANumber("A201555012"))
        assertTrue(vault.verifyLog().intact)
        vault.setProviderId("bakerripley-houston")
        assertTrue(vault.boardReport("2026-09", listOf(board), null).size > 100)
        assertTrue(vault.eraseClient(id))
        assertNull(vault.findByANumber("A201555012"))
        vault.close()
    }

    @Test
    fun canariesNeverReachAnIceNotice() {
        Vault.create(tempVault(), pass).use { vault ->
            val canaries = (0 until 30).map { "CANARY-%02d-KTX".format(it) }
            val c = canaries.iterator()
            val id = vault.enroll(Intake(aNumber = "A087-654-321",
                name = Name(verbatimDhs = "PIERRE LOUIS, JEAN", verbatimSelf = c.next(), given = listOf(c.next()), aliases = listOf(c.next())),
                nationality = listOf(c.next()), languages = listOf(c.next()), sexGender = c.next(), phones = listOf(c.next()),
                emails = listOf(c.next()), site = c.next(), enrolledOn = LocalDate.of(2026, 8, 1)))
            vault.recordCheckIn(id, CheckIn(date = LocalDate.of(2099, 3, 1), office = "Miami ERO", modality = Modality.APP, attendance = Attendance.MISSED))
            vault.recordScreening(id, Screening(ScreeningKind.TRAFFICKING, LocalDate.of(2026, 8, 3), c.next(), c.next(), true, true))
            vault.recordHealth(id, Health(HealthKind.MENTAL, LocalDate.of(2026, 8, 4), c.next()))
            vault.recordLegal(id, Legal(court = c.next(), disposition = c.next(), represented = true, reliefSought = listOf(c.next())))
            vault.recordDeparture(id, Departure(country = c.next(), window = c.next(), partner = c.next()))
            vault.addNote(id, c.next(), c.next())
            vault.iceNotice(id, true).use { notice ->
                val text = String(notice.toJson()) + notice.toString()
                assertEquals(emptyList(), canaries.filter { it in text })
                assertEquals("Miami ERO", notice.nextCheckIn()?.office)
            }
        }
    }

    @Test
    fun aLotteryIsCommittedDrawnOnceAndVerified() {
        val vault = Vault.create(tempVault(), pass)
        val rule = "\n[[rule]]\nid = \"evaluator-pseudonyms\"\naudience = \"evaluator\"\ntreatment = \"pseudonymize\"\n" +
            "categories = [\"identifier.alien_number\"]\nwhy = \"The evaluation's lottery pools.\"\n"
        vault.installPolicy(File("../../policies/default.toml").readText() + rule, listOf())
        vault.setProviderId("bakerripley-houston")
        vault.generatePseudonymKey()
        val ids = (0 until 8).map { vault.enroll(intake("A20155503$it")) }
        val files = vault.lotteryCommit("houston-q1", ids, 3u, "NIST beacon v2 chain 2, first pulse after the commitment")
        assertNull(files.draw)
        val draw = vault.lotteryDraw("houston-q1", "9C41B0")
        val selected = verifyLottery(files.commitment, files.pool, draw, vault.signingPublicKey())
        assertEquals(3, selected.size)
        val again = assertFailsWith<CasewardException.InvalidInput> { vault.lotteryDraw("houston-q1", "other") }
        assertTrue("drawn already" in again.message!!)
        val changed = files.pool.copyOf().also { val i = it.size - 2; it[i] = (if (it[i] == '0'.code.toByte()) '1' else '0').code.toByte() }
        assertFailsWith<CasewardException.Integrity> { verifyLottery(files.commitment, changed, draw, null) }
        vault.closeVault()
    }

    @Test
    fun everyErrorKind() {
        val path = tempVault()
        val vault = Vault.create(path, pass)
        val id = vault.enroll(intake())
        val invalid = assertFailsWith<CasewardException.InvalidInput> { vault.enroll(intake("IOE0912345678")) }
        assertFalse("IOE0912345678" in invalid.message!!)
        assertFailsWith<CasewardException.NotFound> { vault.clientCopy("00".repeat(16)) }
        assertFailsWith<CasewardException.Denied> { vault.partnerReferral(id, "casa-houston") }
        assertFailsWith<CasewardException.Policy> {
            vault.installPolicy("format = 1\nkind = \"base\"\nname = \"x\"\n[[rule]]\nid = \"a\"\naudience = \"ice\"\ntreatment = \"reveal\"\ncategories = [\"health.mental\"]\nwhy = \"no\"\n", listOf())
        }
        vault.setProviderId("p1")
        assertFailsWith<CasewardException.Budget> { vault.boardReport("2026-10", listOf(board), "laplace:2") }
        vault.closeVault()
        val closed = assertFailsWith<CasewardException.InvalidInput> { vault.findByANumber("A201555012") }
        assertTrue("closed" in closed.message!!)
        assertFailsWith<CasewardException.WrongKey> { Vault.open(path, "not the passphrase") }
        val notAVault = File(File(path).parentFile, "notes.txt").apply { writeText("not a database ".repeat(100)) }
        assertFailsWith<CasewardException.Storage> { Vault.open(notAVault.path, pass) }
        // One flipped byte in a sealed record, written with a plain SQLite driver as someone
        // holding the file could: Integrity, never wrong data, and no client data in the text.
        DriverManager.getConnection("jdbc:sqlite:$path").use { db ->
            val (rowId, body) = db.createStatement().executeQuery("SELECT id, body FROM record WHERE kind = 'identity'").use {
                it.next(); Pair(it.getLong(1), it.getBytes(2))
            }
            body[body.size / 2] = (body[body.size / 2].toInt() xor 1).toByte()
            db.prepareStatement("UPDATE record SET body = ? WHERE id = ?").use { st ->
                st.setBytes(1, body); st.setLong(2, rowId); st.executeUpdate()
            }
        }
        Vault.open(path, pass).use { reopened ->
            val e = assertFailsWith<CasewardException.Integrity> { reopened.clientCopy(id) }
            assertFalse("GARCIA" in e.message!!)
        }
    }

    @Test
    fun twoHandlesOnOneFileWaitForEachOther() {
        // Two services of one app (or two processes) with their own handle: each write waits for
        // the other's, none is lost. (Not a plain JDBC connection: that is a second copy of SQLite,
        // whose locks do not exclude ours within one process; see SECURITY.md.)
        val path = tempVault()
        Vault.create(path, pass).use { first ->
            val id = first.enroll(intake())
            Vault.open(path, pass).use { second ->
                first.setBusyTimeoutMs(30_000u)
                second.setBusyTimeoutMs(30_000u)
                val pool = Executors.newFixedThreadPool(2)
                val jobs = listOf(first, second).mapIndexed { h, vault ->
                    pool.submit(Callable { (1..150).map { i -> vault.addNote(id, "cw-$h", "note $h-$i") } })
                }
                val rows = jobs.flatMap { it.get() }
                pool.shutdown()
                assertEquals(300, rows.toSet().size)
                val view = second.clientView(id, "caseworker").use { String(it.toJson()) }
                for (h in 0..1) for (i in listOf(1, 75, 150)) assertTrue(view.contains("\"note $h-$i\""), "note $h-$i")
            }
        }
    }

    @Test
    fun manyThreadsShareOneVault() {
        Vault.create(tempVault(), pass).use { vault ->
            val pool = Executors.newFixedThreadPool(8)
            val ids = (1..40).map { i -> pool.submit(Callable { vault.enroll(intake("A3%08d".format(i))) }) }.map { it.get() }
            pool.shutdown()
            assertEquals(40, ids.toSet().size)
            assertEquals(ids.sorted(), vault.listClients().sorted())
            val lookups = Executors.newFixedThreadPool(4)
            val found = (1..40).map { i -> lookups.submit(Callable { vault.findByANumber("A3%08d".format(i)) }) }.map { it.get() }
            lookups.shutdown()
            assertEquals(ids, found)
        }
    }

    @Test
    fun errorsAndResultsInterleavedOnManyThreads() {
        // The generated glue reuses one call status per thread (bindings/kotlin/reuse_call_status.py).
        // If a status were not reset after an error, or an error buffer were freed twice or read
        // after it was reset, a success after a failure would fail here, or a failure would come
        // back as the wrong kind or with another call's text.
        // The patch is optional (a uniffi upgrade it does not fit builds with the stock glue and a
        // warning); this says so loudly unless CASEWARD_KOTLIN_GLUE=stock asked for the stock glue.
        if (System.getenv("CASEWARD_KOTLIN_GLUE") != "stock") {
            assertNotNull(
                runCatching { Class.forName("org.caseward.UniffiCallStatusPerThread") }.getOrNull(),
                "the glue is uniffi's stock glue: reuse_call_status.py did not apply (see its warning at build)",
            )
        }
        Vault.create(tempVault(), pass).use { vault ->
            val ids = (1..20).map { i -> vault.enroll(intake("A4%08d".format(i))) }
            val pool = Executors.newFixedThreadPool(4)
            val jobs = (0 until 4).map { t ->
                pool.submit(Callable {
                    for (k in 0 until 2_000) {
                        val i = (k + t) % 20 + 1
                        val bad = assertFailsWith<CasewardException.InvalidInput> { normalizeANumber("IOE09%08d".format(k)) }
                        assertTrue("receipt" in bad.message!!, bad.message!!)
                        assertEquals(ids[i - 1], vault.findByANumber("A4%08d".format(i)))
                        assertFailsWith<CasewardException.NotFound> { vault.clientCopy("%032x".format(k + 1)) }
                        assertNull(vault.findByANumber("A5%08d".format(i)))
                        assertEquals("A4%08d".format(i), normalizeANumber("a4-%08d".format(i)))
                    }
                })
            }
            jobs.forEach { it.get() }
            pool.shutdown()
        }
    }

    @Test
    fun errorBuffersAreFreed() {
        // Each refused policy below returns a ~4 KiB error text from Rust. The patched glue must
        // free that buffer exactly once; if it freed an emptied copy instead, 20,000 errors would
        // leak ~80 MiB of native memory. Measured as resident memory beyond the committed Java heap.
        val status = File("/proc/self/status")
        assumeTrue(status.exists(), "needs Linux /proc to read resident memory")
        fun nativeKib(): Long {
            repeat(3) { System.gc(); Thread.sleep(100) }
            val rss = status.readLines().first { it.startsWith("VmRSS:") }.split(Regex("\\s+"))[1].toLong()
            val rt = Runtime.getRuntime()
            return rss - rt.totalMemory() / 1024
        }
        val id = "r".repeat(4096)
        val policy = "format = 1\nkind = \"base\"\nname = \"x\"\n[[rule]]\nid = \"$id\"\naudience = \"ice\"\n" +
            "treatment = \"reveal\"\ncategories = [\"health.mental\"]\nwhy = \"no\"\n"
        Vault.createWithKey(tempVault(), ByteArray(32) { 7 }).use { vault ->
            fun refuse(n: Int) = repeat(n) {
                val e = assertFailsWith<CasewardException.Policy> { vault.installPolicy(policy, listOf()) }
                assertTrue(id in e.message!!)
            }
            // Resident memory settles (allocator arenas, JIT) over the first ~30,000 calls, so
            // the leak check is the second window of 20,000.
            refuse(10_000)
            val start = nativeKib()
            refuse(20_000)
            val settled = nativeKib()
            refuse(20_000)
            val grown = nativeKib() - settled
            println("errorBuffersAreFreed: native memory grew ${settled - start} KiB, then $grown KiB, over two windows of 20,000 errors")
            assertTrue(grown < 32 * 1024, "native memory grew $grown KiB over 20,000 errors after settling")
        }
    }

    @Test
    fun rawKeyAndNormalization() {
        val key = ByteArray(32) { it.toByte() }
        val path = tempVault()
        val id = Vault.createWithKey(path, key).use { it.enroll(intake()) }
        Vault.openWithKey(path, key).use { assertEquals(id, it.findByANumber("A201555012")) }
        assertEquals("A012345678", normalizeANumber("a 12 345 678"))
        assertNotNull(assertFailsWith<CasewardException.WrongKey> { Vault.openWithKey(path, ByteArray(32)) })
    }

    @Test
    fun aKeystoreVaultSurvivesTheLostPhoneThroughItsRecoveryKey() {
        val recovery = RecoveryKey.generate()
        val identity = recovery.exposeIdentity()
        assertFalse(identity in recovery.toString())
        val key = generateKeystoreKey()
        val path = tempVault()
        val id = Vault.createWithKey(path, key).use { vault ->
            vault.addRecoveryRecipient(recovery.recipient())
            assertEquals(listOf("keystore", "recovery"), vault.envelopes().map { it.kind }.sorted())
            assertFailsWith<CasewardException.InvalidInput> { vault.addPassphrase("x") }
            vault.enroll(intake())
        }
        // The phone is lost: the recovery identity opens the vault and enrolls a new phone's key.
        val newKey = generateKeystoreKey()
        Vault.openWithRecovery(path, identity).use { vault ->
            assertEquals(id, vault.findByANumber("A201555012"))
            vault.addKeystoreKey(newKey)
            vault.removeKeystoreKey(key)
        }
        assertFailsWith<CasewardException.WrongKey> { Vault.openWithKey(path, key) }
        Vault.openWithKey(path, newKey).use { vault ->
            vault.removeRecoveryRecipient(recovery.recipient())
            assertFailsWith<CasewardException.InvalidInput> { vault.removeKeystoreKey(newKey) }
        }
    }
}
