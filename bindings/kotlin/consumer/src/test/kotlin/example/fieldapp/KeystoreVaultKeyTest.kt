package example.fieldapp

import java.io.File
import java.nio.file.Files
import java.security.KeyStore
import java.time.LocalDate
import javax.crypto.AEADBadTagException
import javax.crypto.KeyGenerator
import javax.crypto.SecretKey
import kotlin.test.assertContentEquals
import kotlin.test.assertEquals
import kotlin.test.assertFailsWith
import kotlin.test.assertFalse
import kotlin.test.assertIs
import kotlin.test.assertTrue
import org.caseward.CasewardException
import org.caseward.Intake
import org.caseward.KeystoreVaultKey
import org.caseward.Name
import org.caseward.RecoveryKey
import org.caseward.Vault
import org.junit.jupiter.api.Test

/**
 * The Android Keystore recipe (org.caseward.KeystoreVaultKey) on the JVM. The device's key store
 * is a PKCS12 file holding one AES-256 key, got or made the way the README's Android snippet
 * gets or makes an "AndroidKeyStore" key; everything after that is the code an app runs.
 */
class KeystoreVaultKeyTest {
    private val dir: File = Files.createTempDirectory("fieldapp").toFile()
    private val vaultPath = File(dir, "field.cwv").path
    private val wrappedFile = File(dir, "field.cwv.key")

    /** The device's key store: the key under `alias`, made on first use. Deleting the file is a factory reset. */
    private fun deviceKey(alias: String = "caseward-vault"): SecretKey {
        val file = File(dir, "device-keystore.p12")
        val password = "device".toCharArray()
        val store = KeyStore.getInstance("PKCS12")
        if (file.exists()) file.inputStream().use { store.load(it, password) } else store.load(null, password)
        (store.getKey(alias, password) as SecretKey?)?.let { return it }
        val key = KeyGenerator.getInstance("AES").apply { init(256) }.generateKey()
        store.setEntry(alias, KeyStore.SecretKeyEntry(key), KeyStore.PasswordProtection(password))
        file.outputStream().use { store.store(it, password) }
        return store.getKey(alias, password) as SecretKey
    }

    private fun intake() = Intake(aNumber = "A201555012", name = Name(verbatimDhs = "GARCIA LOPEZ, MARIA JOSE"),
        site = "site-houston", enrolledOn = LocalDate.of(2026, 8, 3))

    @Test
    fun aVaultOpensWithItsWrappedKeyAfterARestart() {
        val id = KeystoreVaultKey(wrappedFile, deviceKey()).createVault(vaultPath).use { vault ->
            assertEquals(listOf("keystore"), vault.envelopes().map { it.kind })
            vault.enroll(intake())
        }
        // What sits beside the vault: version, IV, sealed key and tag; never the key itself.
        assertEquals(1 + 12 + 32 + 16, wrappedFile.length().toInt())
        // The app restarts: the key store is loaded again, the key unwrapped, the vault opened.
        val keystoreKey = KeystoreVaultKey(wrappedFile, deviceKey())
        assertTrue(keystoreKey.exists())
        keystoreKey.openVault(vaultPath).use { assertEquals(id, it.findByANumber("A# 201-555-012")) }
        val raw = keystoreKey.withVaultKey { it.copyOf() }
        assertFalse(wrappedFile.readBytes().toList().windowed(32).any { it == raw.toList() })
        Vault.openWithKey(vaultPath, raw).use { assertEquals(id, it.findByANumber("A201555012")) }
        // A second createVault would overwrite the only way into this vault: refused.
        assertFailsWith<IllegalStateException> { keystoreKey.createVault(File(dir, "other.cwv").path) }
        assertFalse(File(dir, "other.cwv").exists())
    }

    @Test
    fun theRawKeyIsZeroedAfterUse() {
        val keystoreKey = KeystoreVaultKey(wrappedFile, deviceKey())
        keystoreKey.createVault(vaultPath).close()
        var seen: ByteArray? = null
        keystoreKey.withVaultKey { key ->
            seen = key
            assertTrue(key.any { it != 0.toByte() })
            Vault.openWithKey(vaultPath, key).close()
        }
        assertContentEquals(ByteArray(32), seen)
        // Also when the block throws.
        assertFailsWith<CasewardException.NotFound> {
            keystoreKey.withVaultKey { key -> seen = key; Vault.openWithKey(File(dir, "missing.cwv").path, key) }
        }
        assertContentEquals(ByteArray(32), seen)
    }

    @Test
    fun aDamagedOrForeignWrappedKeyIsATypedError() {
        KeystoreVaultKey(wrappedFile, deviceKey()).createVault(vaultPath).use { it.enroll(intake()) }
        val good = wrappedFile.readBytes()
        val keystoreKey = KeystoreVaultKey(wrappedFile, deviceKey())
        // One flipped bit in the IV, the sealed key, or the tag: the GCM tag check fails.
        for (at in listOf(1, 12, 13, 30, good.size - 1)) {
            wrappedFile.writeBytes(good.copyOf().also { it[at] = (it[at].toInt() xor 0x10).toByte() })
            val e = assertFailsWith<KeystoreVaultKey.UnwrapException> { keystoreKey.openVault(vaultPath) }
            assertIs<AEADBadTagException>(e.cause, "byte $at")
        }
        // Another version, a truncated or an empty file, no file.
        for (bad in listOf(byteArrayOf(2) + good.copyOfRange(1, good.size), good.copyOf(good.size - 1), ByteArray(0))) {
            wrappedFile.writeBytes(bad)
            assertFailsWith<KeystoreVaultKey.UnwrapException> { keystoreKey.openVault(vaultPath) }
        }
        wrappedFile.delete()
        assertFailsWith<KeystoreVaultKey.UnwrapException> { keystoreKey.openVault(vaultPath) }
        // The right file under another keystore key (another app's, another device's).
        wrappedFile.writeBytes(good)
        val foreign = KeyGenerator.getInstance("AES").apply { init(256) }.generateKey()
        val e = assertFailsWith<KeystoreVaultKey.UnwrapException> { KeystoreVaultKey(wrappedFile, foreign).openVault(vaultPath) }
        assertIs<AEADBadTagException>(e.cause)
        assertFalse(e.message!!.contains(good.joinToString("") { "%02x".format(it) }))
        // The vault was never touched: the intact file opens it.
        keystoreKey.openVault(vaultPath).use { assertEquals(1, it.listClients().size) }
    }

    @Test
    fun aLostKeystoreKeyIsRecoveredWithTheRecoveryIdentity() {
        val office = RecoveryKey.generate()
        val id = KeystoreVaultKey(wrappedFile, deviceKey()).createVault(vaultPath).use { vault ->
            vault.addRecoveryRecipient(office.recipient())
            vault.enroll(intake())
        }
        // A factory reset: the key store is gone; the app makes a new key, which opens nothing.
        File(dir, "device-keystore.p12").delete()
        val newDevice = KeystoreVaultKey(wrappedFile, deviceKey())
        assertFailsWith<KeystoreVaultKey.UnwrapException> { newDevice.openVault(vaultPath) }
        // The office's recovery identity opens the vault; rekey gives it a key the new device
        // wraps, and the lost key goes by the recipient the envelopes listed before the rekey.
        Vault.openWithRecovery(vaultPath, office.exposeIdentity()).use { vault ->
            val lost = vault.envelopes().filter { it.kind == "keystore" }.mapNotNull { it.recipient }
            assertEquals(1, lost.size)
            newDevice.rekey(vault)
            assertEquals(listOf("keystore", "keystore", "recovery"), vault.envelopes().map { it.kind }.sorted())
            lost.forEach { vault.removeKeystoreRecipient(it) }
            assertFailsWith<CasewardException.NotFound> { vault.removeKeystoreRecipient(lost.first()) }
            // The lost phone's own copy yields the old root key: a new root keeps it out.
            vault.rotateRootKey(null)
        }
        newDevice.openVault(vaultPath).use { vault ->
            assertEquals(id, vault.findByANumber("A201555012"))
            assertEquals(listOf("keystore", "recovery"), vault.envelopes().map { it.kind }.sorted())
        }
    }

    @Test
    fun aRoutineRekeyRetiresTheOldKey() {
        val keystoreKey = KeystoreVaultKey(wrappedFile, deviceKey())
        keystoreKey.createVault(vaultPath).close()
        val old = keystoreKey.withVaultKey { it.copyOf() }
        keystoreKey.openVault(vaultPath).use { vault -> keystoreKey.rekey(vault) }
        assertFailsWith<CasewardException.WrongKey> { Vault.openWithKey(vaultPath, old) }
        keystoreKey.openVault(vaultPath).use { vault -> assertEquals(listOf("keystore"), vault.envelopes().map { it.kind }) }
        assertFalse(keystoreKey.withVaultKey { it.contentEquals(old) })
    }
}
