package org.caseward

import java.io.File
import java.io.FileOutputStream
import java.io.IOException
import java.nio.channels.FileChannel
import java.nio.file.FileAlreadyExistsException
import java.nio.file.Files
import java.nio.file.StandardCopyOption
import java.nio.file.StandardOpenOption
import java.security.GeneralSecurityException
import java.security.InvalidKeyException
import javax.crypto.AEADBadTagException
import javax.crypto.Cipher
import javax.crypto.SecretKey
import javax.crypto.spec.GCMParameterSpec

/**
 * A vault opened by a random 32-byte key that a platform keystore key wraps. Android Keystore
 * keys cannot be exported as raw bytes, and `Vault.createWithKey` needs raw bytes; so the vault
 * key is random, and what the app keeps beside the vault is only that key sealed with
 * AES-256-GCM under the keystore key (the "wrapped key file"). Without the device's keystore
 * key the file is useless; with it, the app unwraps the vault key for the moment it opens the
 * vault and zeroes its copy.
 *
 * The only platform-specific part is where [keystoreKey] comes from. On Android, a
 * non-exportable AES key in the "AndroidKeyStore" provider:
 * ```
 * val ks = KeyStore.getInstance("AndroidKeyStore").apply { load(null) }
 * val keystoreKey = ks.getKey("caseward-vault", null) as SecretKey?
 *     ?: KeyGenerator.getInstance(KeyProperties.KEY_ALGORITHM_AES, "AndroidKeyStore").run {
 *         init(KeyGenParameterSpec.Builder("caseward-vault",
 *                 KeyProperties.PURPOSE_ENCRYPT or KeyProperties.PURPOSE_DECRYPT)
 *             .setBlockModes(KeyProperties.BLOCK_MODE_GCM)
 *             .setEncryptionPaddings(KeyProperties.ENCRYPTION_PADDING_NONE)
 *             .setKeySize(256)
 *             .build())
 *         generateKey()
 *     }
 * ```
 * (The Keystore chooses the IV of every encryption itself, which is what [wrap] lets it do.)
 * On a JVM, any AES [SecretKey] works: the tests keep one in a PKCS12 key store.
 *
 * A device's keystore key is lost with the device, after a factory reset, or when the app's
 * data is cleared: give every such vault a recovery recipient (`addRecoveryRecipient`), open it
 * with `Vault.openWithRecovery` after [UnwrapException], and call [rekey] on the new device.
 */
class KeystoreVaultKey(private val wrappedKeyFile: File, private val keystoreKey: SecretKey) {

    /** The wrapped key file cannot be unwrapped with this keystore key: a different or lost
     * keystore key, or a damaged or altered file. The message names which; it holds no key. */
    class UnwrapException(message: String, cause: Throwable? = null) : GeneralSecurityException(message, cause)

    /** Whether the wrapped key file exists (whether [createVault] has run for it). */
    fun exists(): Boolean = wrappedKeyFile.exists()

    /**
     * Creates a vault at [path] under a fresh random key, and writes that key, wrapped, to the
     * wrapped key file. Refuses (IllegalStateException) if the wrapped key file exists: it may
     * be the only way into another vault.
     */
    fun createVault(path: String): Vault {
        check(!wrappedKeyFile.exists()) { "the wrapped key file ${wrappedKeyFile.path} exists already" }
        val key = generateKeystoreKey()
        try {
            // Exclusive: of two creators racing for one file, the second fails here, before it
            // can replace (or, failing later, delete) the first one's only key.
            writeWrapped(wrap(key), replace = false)
            return try {
                Vault.createWithKey(path, key)
            } catch (e: Exception) {
                wrappedKeyFile.delete() // it opens nothing: no vault was made
                throw e
            }
        } finally {
            key.fill(0)
        }
    }

    /** Opens the vault at [path]: unwraps its key, opens, and zeroes the key. */
    fun openVault(path: String): Vault = withVaultKey { Vault.openWithKey(path, it) }

    /**
     * Gives [vault] a new random key wrapped under this keystore key, and replaces the wrapped
     * key file. If the old file still unwraps (a routine rotation), its key is removed from the
     * vault; if not (the keystore key was lost and the vault was opened with its recovery
     * identity), the old key's envelope stays: note the keystore recipients `vault.envelopes()`
     * lists before calling this, remove them after with `vault.removeKeystoreRecipient`, then
     * call `vault.rotateRootKey(null)`: the lost device keeps a copy of the vault that its
     * keystore opens, and with it the old root key, which only a rotation retires.
     */
    fun rekey(vault: Vault) {
        val old = if (wrappedKeyFile.exists()) {
            try { unwrap(wrappedKeyFile.readBytes()) } catch (e: UnwrapException) { null }
        } else {
            null
        }
        val key = generateKeystoreKey()
        try {
            vault.addKeystoreKey(key)
            writeWrapped(wrap(key), replace = true)
            if (old != null) vault.removeKeystoreKey(old)
        } finally {
            key.fill(0)
            old?.fill(0)
        }
    }

    /** Runs [block] with the unwrapped vault key, then zeroes it. Do not keep the array. */
    fun <T> withVaultKey(block: (ByteArray) -> T): T {
        val key = unwrap(readWrapped())
        try {
            return block(key)
        } finally {
            key.fill(0)
        }
    }

    /** `version || iv || AES-GCM(vault key)`, the IV chosen by the cipher (the Keystore requires it). */
    internal fun wrap(vaultKey: ByteArray): ByteArray {
        require(vaultKey.size == KEY_BYTES) { "a vault key is $KEY_BYTES bytes" }
        val cipher = Cipher.getInstance(TRANSFORMATION)
        cipher.init(Cipher.ENCRYPT_MODE, keystoreKey)
        cipher.updateAAD(AAD)
        val iv = cipher.iv
        check(iv != null && iv.size == IV_BYTES) { "the cipher chose an IV of ${iv?.size} bytes, not $IV_BYTES" }
        val sealed = cipher.doFinal(vaultKey)
        return byteArrayOf(VERSION) + iv + sealed
    }

    internal fun unwrap(blob: ByteArray): ByteArray {
        if (blob.size != WRAPPED_BYTES || blob[0] != VERSION) {
            throw UnwrapException("the wrapped key file is not a caseward wrapped key (${blob.size} bytes, version ${blob.firstOrNull()})")
        }
        val cipher = Cipher.getInstance(TRANSFORMATION)
        try {
            cipher.init(Cipher.DECRYPT_MODE, keystoreKey, GCMParameterSpec(TAG_BITS, blob, 1, IV_BYTES))
            cipher.updateAAD(AAD)
            return cipher.doFinal(blob, 1 + IV_BYTES, blob.size - 1 - IV_BYTES)
        } catch (e: AEADBadTagException) {
            throw UnwrapException("the wrapped key file does not open with this keystore key (another or a lost key, or an altered file)", e)
        } catch (e: InvalidKeyException) {
            // On Android, KeyPermanentlyInvalidatedException: e.g. the key required a lock screen that was removed.
            throw UnwrapException("the keystore key cannot decrypt: ${e.javaClass.simpleName}", e)
        }
    }

    private fun readWrapped(): ByteArray {
        if (!wrappedKeyFile.exists()) throw UnwrapException("no wrapped key file at ${wrappedKeyFile.path}")
        return wrappedKeyFile.readBytes()
    }

    /** Writes the file whole or not at all: a temporary file (owner-only, synced), then one
     * rename(2) that replaces the old file, or, when [replace] is false, one link(2) that fails
     * if the file exists. Then the folder is synced, so the new name survives a power loss.
     * (java.nio.file needs Android API 26, the AAR's minimum.) */
    private fun writeWrapped(blob: ByteArray, replace: Boolean) {
        val target = wrappedKeyFile.absoluteFile.toPath()
        val dir = target.parent
        val tmp = Files.createTempFile(dir, ".caseward-key", ".tmp")
        try {
            FileOutputStream(tmp.toFile()).use { out ->
                out.write(blob)
                out.fd.sync()
            }
            if (replace) {
                Files.move(tmp, target, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE)
            } else {
                try {
                    Files.createLink(target, tmp)
                } catch (e: FileAlreadyExistsException) {
                    throw IllegalStateException("the wrapped key file ${wrappedKeyFile.path} exists already")
                }
            }
            try {
                FileChannel.open(dir, StandardOpenOption.READ).use { it.force(true) }
            } catch (e: IOException) {
                // Some file systems cannot sync a folder; the rename itself is still atomic.
            }
        } finally {
            Files.deleteIfExists(tmp)
        }
    }

    private companion object {
        const val TRANSFORMATION = "AES/GCM/NoPadding"
        const val VERSION: Byte = 1
        const val KEY_BYTES = 32
        const val IV_BYTES = 12
        const val TAG_BITS = 128
        const val WRAPPED_BYTES = 1 + IV_BYTES + KEY_BYTES + TAG_BITS / 8
        /** Binds the sealed bytes to their use, so no other blob sealed under the same keystore key passes. */
        val AAD = "caseward wrapped vault key v1".toByteArray()
    }
}
