//! The key hierarchy, the secret types that carry it, and the age envelopes that store the root.
//!
//! ```text
//! root key R (32 random bytes)            stored only inside age files (key envelopes):
//!   |                                       passphrase (scrypt), recovery (X25519), keystore (raw key)
//!   +- canary key      = derive(R, "canary")              proves an unlock is right before any data is read
//!   +- KEK_v           = derive(R, "key-encryption key", v)  wraps client keys; rotation rewraps, never re-encrypts
//!   |    +- client key K_c (32 random bytes per client, sealed under KEK_v)
//!   |         +- category key K_c,cat = derive(K_c, category)  one AEAD key (and commitment) per client per category
//!   +- blind-index key = derive(R, "blind index")         keyed BLAKE3 of the canonical A-number
//! ```
//! `derive` is `blake3::derive_key` with the fixed, versioned context strings below. Erasing a
//! client deletes its `K_c`: every value sealed under its category keys is then noise.
//!
//! Secret types here zeroize on drop, implement neither `Display` nor a revealing `Debug`, and
//! have no `==`; where a secret must be compared, [`subtle`] does it in constant time.

use std::fmt;
use std::io::{Read, Write};
use std::str::FromStr;

use age::secrecy::{ExposeSecret, SecretString};
use ring::rand::{SecureRandom, SystemRandom};
use zeroize::{Zeroize, ZeroizeOnDrop, Zeroizing};

use crate::category::Category;
use crate::error::{Error, Result};
use crate::seal::{Algorithm, SealingKey};

const CTX_CANARY: &str = "caseward v1 canary key";
/// Format 1's key-encryption key: read only by the one-time upgrade to format 2.
const CTX_KEK_FORMAT1: &str = "caseward v1 key-encryption key";
/// Format 2's. A new context on purpose: a format-2 file whose format-1 canary was put back
/// has client keys that no longer open under the format-1 KEK, so the upgrade refuses it.
const CTX_KEK: &str = "caseward v2 key-encryption key";
const CTX_BLIND_INDEX: &str = "caseward v1 blind index key";
const CTX_CATEGORY: &str = "caseward v1 category key";
const CTX_VAULT_META: &str = "caseward v1 vault metadata key";
const CTX_KEYSTORE_IDENTITY: &str = "caseward v1 keystore age identity";
const CTX_STATE: &str = "caseward v2 vault state key";
const CTX_OUTPUT_DIGEST: &str = "caseward v2 log output digest key";

/// 32 bytes of key material that zeroize on drop and cannot be printed or compared with `==`.
///
/// The bytes live in one heap allocation: moving a `Secret32` (or a key type wrapping it) moves
/// a pointer, so no stale copy of the key is left in a stack frame the move came from. The
/// memory-hygiene test (`tests/tests/memory.rs`) measures what remains.
#[derive(Clone, Zeroize, ZeroizeOnDrop)]
pub(crate) struct Secret32(Box<[u8; 32]>);

impl Secret32 {
    pub(crate) fn random() -> Result<Self> {
        let mut s = Self(Box::new([0u8; 32]));
        SystemRandom::new().fill(&mut s.0[..]).map_err(|_| Error::internal("the system random source failed"))?;
        Ok(s)
    }

    /// Takes the bytes and wipes the caller's array.
    pub(crate) fn from_array(mut bytes: [u8; 32]) -> Self {
        let s = Self(Box::new(bytes));
        bytes.zeroize();
        s
    }

    pub(crate) fn from_slice(bytes: &[u8]) -> Option<Self> {
        if bytes.len() != 32 {
            return None;
        }
        let mut s = Self(Box::new([0u8; 32]));
        s.0.copy_from_slice(bytes);
        Some(s)
    }

    pub(crate) fn expose(&self) -> &[u8; 32] {
        &self.0
    }
}

impl fmt::Debug for Secret32 {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Secret32([redacted])")
    }
}

/// The vault's root key. Never stored in plaintext; only inside key envelopes.
#[derive(Zeroize, ZeroizeOnDrop)]
pub(crate) struct RootKey(Secret32);

impl fmt::Debug for RootKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("RootKey([redacted])")
    }
}

impl RootKey {
    pub(crate) fn generate() -> Result<Self> {
        Ok(Self(Secret32::random()?))
    }

    pub(crate) fn from_bytes(bytes: &[u8]) -> Option<Self> {
        Secret32::from_slice(bytes).map(Self)
    }

    pub(crate) fn expose(&self) -> &[u8; 32] {
        self.0.expose()
    }

    fn derive(&self, context: &str, extra: &[u8]) -> Secret32 {
        let mut h = blake3::Hasher::new_derive_key(context);
        h.update(self.expose()).update(extra);
        Secret32::from_array(*h.finalize().as_bytes())
    }

    pub(crate) fn canary_key(&self, alg: Algorithm) -> Result<SealingKey> {
        SealingKey::derive(self.derive(CTX_CANARY, &[]).expose(), alg, 0).map_err(seal_err)
    }

    pub(crate) fn kek(&self, version: u32, alg: Algorithm) -> Result<SealingKey> {
        SealingKey::derive(self.derive(CTX_KEK, &version.to_be_bytes()).expose(), alg, version).map_err(seal_err)
    }

    /// The key-encryption key a format-1 (0.1) vault wrapped its client keys under.
    pub(crate) fn kek_format1(&self, version: u32, alg: Algorithm) -> Result<SealingKey> {
        SealingKey::derive(self.derive(CTX_KEK_FORMAT1, &version.to_be_bytes()).expose(), alg, version)
            .map_err(seal_err)
    }

    /// Seals vault-level metadata that must not be altered: the log head, the installed policy,
    /// and the details of log entries that concern no client.
    pub(crate) fn meta_key(&self, alg: Algorithm) -> Result<SealingKey> {
        SealingKey::derive(self.derive(CTX_VAULT_META, &[]).expose(), alg, 0).map_err(seal_err)
    }

    pub(crate) fn blind_index_key(&self) -> BlindIndexKey {
        BlindIndexKey(self.derive(CTX_BLIND_INDEX, &[]))
    }

    /// Keys the MACs of the authenticated vault state (format 2): client MACs, bucket and chunk
    /// digests, meta digests.
    pub(crate) fn state_key(&self) -> Secret32 {
        self.derive(CTX_STATE, &[])
    }

    /// Keys the output digests of log entries that concern no client (board reports).
    pub(crate) fn output_digest_key(&self) -> Secret32 {
        self.derive(CTX_OUTPUT_DIGEST, &[])
    }
}

fn seal_err(e: crate::seal::SealError) -> Error {
    Error::input(format!("key setup failed: {e}"))
}

/// A client's own key. Deleting its wrapped form is the client's crypto-shredding.
#[derive(Zeroize, ZeroizeOnDrop)]
pub(crate) struct ClientKey(Secret32);

impl fmt::Debug for ClientKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("ClientKey([redacted])")
    }
}

impl ClientKey {
    pub(crate) fn generate() -> Result<Self> {
        Ok(Self(Secret32::random()?))
    }

    pub(crate) fn from_bytes(bytes: &[u8]) -> Option<Self> {
        Secret32::from_slice(bytes).map(Self)
    }

    pub(crate) fn expose(&self) -> &[u8; 32] {
        self.0.expose()
    }

    /// Keys the digest a log entry keeps of an output about this client. Derived from the client
    /// key, so once the client is erased nobody can confirm a guessed output against the log.
    pub(crate) fn output_digest_key(&self) -> Secret32 {
        let mut h = blake3::Hasher::new_derive_key(CTX_OUTPUT_DIGEST);
        h.update(self.expose());
        Secret32::from_array(*h.finalize().as_bytes())
    }

    /// The AEAD key (with its commitment) for one category of this client's data.
    pub(crate) fn category_key(&self, category: Category, alg: Algorithm) -> Result<SealingKey> {
        // Hashing the context string is half the cost of a derivation; do it once per process.
        static CATEGORY_HASHER: std::sync::LazyLock<blake3::Hasher> =
            std::sync::LazyLock::new(|| blake3::Hasher::new_derive_key(CTX_CATEGORY));
        let mut okm = Zeroizing::new([0u8; 64]);
        let mut hasher = CATEGORY_HASHER.clone();
        hasher.update(self.expose()).update(category.as_str().as_bytes()).finalize_xof().fill(&mut okm[..]);
        SealingKey::from_okm(&okm, alg, 0).map_err(seal_err)
    }
}

/// The key of the blind index: keyed BLAKE3 over canonical A-numbers.
#[derive(Zeroize, ZeroizeOnDrop)]
pub(crate) struct BlindIndexKey(Secret32);

impl fmt::Debug for BlindIndexKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("BlindIndexKey([redacted])")
    }
}

impl BlindIndexKey {
    pub(crate) fn digest(&self, canonical: &str) -> [u8; 32] {
        *blake3::keyed_hash(self.0.expose(), canonical.as_bytes()).as_bytes()
    }
}

/// A passphrase typed by a person. Zeroized on drop; never printed.
pub struct Passphrase(SecretString);

impl Passphrase {
    /// Wraps a passphrase. An empty passphrase is refused when a vault is created or its
    /// passphrase changed, not here, so a wrong empty entry still reports `WrongKey`.
    pub fn new(passphrase: impl Into<String>) -> Self {
        Self(SecretString::from(passphrase.into()))
    }

    fn expose(&self) -> &str {
        self.0.expose_secret()
    }

    /// Whether this passphrase may protect a vault: at least [`MIN_PASSPHRASE_CHARS`] characters
    /// and at least four different ones. Checked when a vault is created and whenever a
    /// passphrase envelope is written (added, changed, kept through a root-key rotation), never
    /// when opening, so an older vault still opens. The message never says anything about the
    /// passphrase itself, not even its length.
    pub fn check_strength(&self) -> Result<()> {
        let text = self.expose();
        let chars = text.chars().count();
        let mut distinct: Vec<char> = text.chars().collect();
        distinct.sort_unstable();
        distinct.dedup();
        if chars < MIN_PASSPHRASE_CHARS || distinct.len() < 4 {
            return Err(Error::input(format!(
                "a vault passphrase needs at least {MIN_PASSPHRASE_CHARS} characters and four different ones: \
                 anyone with a copy of the file can guess offline (a few unrelated words are easy to remember)"
            )));
        }
        Ok(())
    }
}

/// The fewest characters a new vault passphrase may have. Whoever copies the file can guess
/// offline, one scrypt run per guess; twelve characters put a passphrase of random words or
/// characters far out of reach (`SECURITY.md`, key hierarchy).
pub const MIN_PASSPHRASE_CHARS: usize = 12;

impl fmt::Debug for Passphrase {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Passphrase([redacted])")
    }
}

/// A 32-byte key held by the app's platform keystore (Android Keystore, iOS Keychain) and
/// handed in raw. Opening with it costs one X25519 operation instead of a scrypt run.
#[derive(Zeroize, ZeroizeOnDrop)]
pub struct RawKey(Secret32);

impl RawKey {
    /// Wraps exactly 32 bytes.
    ///
    /// ```
    /// let key = caseward::RawKey::from_bytes(&[7u8; 32]).unwrap();
    /// assert_eq!(format!("{key:?}"), "RawKey([redacted])");
    /// assert!(caseward::RawKey::from_bytes(&[7u8; 31]).is_err());
    /// ```
    pub fn from_bytes(bytes: &[u8]) -> Result<Self> {
        Secret32::from_slice(bytes)
            .map(Self)
            .ok_or_else(|| Error::input(format!("a raw key must be 32 bytes, not {}", bytes.len())))
    }

    /// A fresh random key, for an app creating its keystore entry.
    pub fn generate() -> Result<Self> {
        Ok(Self(Secret32::random()?))
    }

    /// The key bytes, to hand to the platform keystore.
    pub fn expose_bytes(&self) -> &[u8; 32] {
        self.0.expose()
    }

    /// The age identity the key stands for. The raw bytes are not used as an X25519 scalar
    /// directly: a derived scalar keeps the two uses of the key apart.
    fn identity(&self) -> Result<age::x25519::Identity> {
        let scalar = Secret32::from_array(blake3::derive_key(CTX_KEYSTORE_IDENTITY, self.0.expose()));
        identity_from_scalar(&scalar)
    }
}

impl fmt::Debug for RawKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("RawKey([redacted])")
    }
}

fn identity_from_scalar(scalar: &Secret32) -> Result<age::x25519::Identity> {
    use bech32::ToBase32;
    let mut encoded = bech32::encode("age-secret-key-", scalar.expose().to_base32(), bech32::Variant::Bech32)
        .map_err(|_| Error::internal("could not encode the keystore identity"))?;
    encoded.make_ascii_uppercase();
    let identity = age::x25519::Identity::from_str(&encoded);
    encoded.zeroize();
    identity.map_err(|_| Error::input("could not build the keystore identity"))
}

/// An age X25519 identity (`AGE-SECRET-KEY-1...`) that opens a vault through a recovery
/// envelope: the organisation's escrow key, kept offline.
pub struct RecoveryIdentity(age::x25519::Identity);

impl RecoveryIdentity {
    /// Generates a new identity.
    pub fn generate() -> Self {
        Self(age::x25519::Identity::generate())
    }

    /// Parses an identity string or an age identity file's contents (comment lines are
    /// skipped).
    pub fn parse(text: &str) -> Result<Self> {
        let line = text
            .lines()
            .map(str::trim)
            .find(|l| !l.is_empty() && !l.starts_with('#'))
            .ok_or_else(|| Error::input("no age identity found"))?;
        age::x25519::Identity::from_str(line)
            .map(Self)
            .map_err(|_| Error::input("not an age X25519 identity (AGE-SECRET-KEY-1...)"))
    }

    /// The identity as an `AGE-SECRET-KEY-1...` string, to write to a protected file.
    pub fn to_secret_string(&self) -> Zeroizing<String> {
        Zeroizing::new(self.0.to_string().expose_secret().to_owned())
    }

    pub(crate) fn inner(&self) -> &age::x25519::Identity {
        &self.0
    }

    /// The public recipient (`age1...`) that wraps for this identity.
    pub fn recipient(&self) -> RecoveryRecipient {
        RecoveryRecipient(self.0.to_public())
    }
}

impl fmt::Debug for RecoveryIdentity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("RecoveryIdentity([redacted])")
    }
}

/// A public age X25519 recipient (`age1...`).
#[derive(Clone)]
pub struct RecoveryRecipient(age::x25519::Recipient);

impl RecoveryRecipient {
    /// Parses an `age1...` string.
    pub fn parse(text: &str) -> Result<Self> {
        age::x25519::Recipient::from_str(text.trim())
            .map(Self)
            .map_err(|_| Error::input("not an age X25519 recipient (age1...)"))
    }

    pub(crate) fn inner(&self) -> &age::x25519::Recipient {
        &self.0
    }
}

impl fmt::Display for RecoveryRecipient {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.0)
    }
}

impl fmt::Debug for RecoveryRecipient {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "RecoveryRecipient({})", self.0)
    }
}

/// The scrypt work factor for passphrase envelopes: N = 2^log_n, r = 8, p = 1 (age's fixed r
/// and p). Memory is 128 * r * N bytes: log_n 16 is 64 MiB, 17 is 128 MiB.
///
/// age would calibrate this at run time for "about a second", which chose log_n 20 (1 GiB,
/// 3 s) on our build machine and would choose less on a phone: an unpredictable cost, and an
/// unpredictable strength. caseward records an explicit factor in the vault instead.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct KdfParams {
    log_n: u8,
}

impl KdfParams {
    /// The default: 2^16 (64 MiB; about 0.2 s on our 2-core build machine, see BENCHMARKS.md).
    pub const DEFAULT_LOG_N: u8 = 16;
    /// The smallest factor a real vault accepts: 2^15 (32 MiB).
    pub const MIN_LOG_N: u8 = 15;
    /// The largest: 2^20 (1 GiB).
    pub const MAX_LOG_N: u8 = 20;

    /// A work factor within [`Self::MIN_LOG_N`]..=[`Self::MAX_LOG_N`].
    pub fn new(log_n: u8) -> Result<Self> {
        if (Self::MIN_LOG_N..=Self::MAX_LOG_N).contains(&log_n) {
            Ok(Self { log_n })
        } else {
            Err(Error::input(format!(
                "scrypt log_n must be between {} and {}, not {log_n}",
                Self::MIN_LOG_N,
                Self::MAX_LOG_N
            )))
        }
    }

    /// log2 of the scrypt work factor N.
    pub fn log_n(self) -> u8 {
        self.log_n
    }
}

impl Default for KdfParams {
    fn default() -> Self {
        Self { log_n: Self::DEFAULT_LOG_N }
    }
}

/// How a key envelope is opened.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum EnvelopeKind {
    /// A passphrase (age scrypt recipient). At most one per vault.
    Passphrase,
    /// An age X25519 recovery recipient.
    Recovery,
    /// A raw key from the app's platform keystore (age X25519 from a derived scalar).
    Keystore,
}

impl EnvelopeKind {
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            Self::Passphrase => "passphrase",
            Self::Recovery => "recovery",
            Self::Keystore => "keystore",
        }
    }

    pub(crate) fn parse(s: &str) -> Option<Self> {
        match s {
            "passphrase" => Some(Self::Passphrase),
            "recovery" => Some(Self::Recovery),
            "keystore" => Some(Self::Keystore),
            _ => None,
        }
    }
}

impl fmt::Display for EnvelopeKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A new envelope, ready to store: its kind, the public recipient (for X25519 kinds), the
/// work factor (for passphrases) and the age file.
pub(crate) struct NewEnvelope {
    pub kind: EnvelopeKind,
    pub recipient: Option<String>,
    pub log_n: Option<u8>,
    pub age_file: Vec<u8>,
}

pub(crate) fn wrap_for_passphrase(root: &RootKey, passphrase: &Passphrase, kdf: KdfParams) -> Result<NewEnvelope> {
    if passphrase.expose().is_empty() {
        return Err(Error::input("the passphrase is empty"));
    }
    passphrase.check_strength()?;
    let mut recipient = age::scrypt::Recipient::new(passphrase.0.clone());
    recipient.set_work_factor(kdf.log_n());
    let age_file = encrypt_root(root, &recipient)?;
    Ok(NewEnvelope { kind: EnvelopeKind::Passphrase, recipient: None, log_n: Some(kdf.log_n()), age_file })
}

pub(crate) fn wrap_for_recipient(root: &RootKey, recipient: &RecoveryRecipient) -> Result<NewEnvelope> {
    Ok(NewEnvelope {
        kind: EnvelopeKind::Recovery,
        recipient: Some(recipient.to_string()),
        log_n: None,
        age_file: encrypt_root(root, &recipient.0)?,
    })
}

pub(crate) fn wrap_for_keystore(root: &RootKey, key: &RawKey) -> Result<NewEnvelope> {
    let recipient = key.identity()?.to_public();
    Ok(NewEnvelope {
        kind: EnvelopeKind::Keystore,
        recipient: Some(recipient.to_string()),
        log_n: None,
        age_file: encrypt_root(root, &recipient)?,
    })
}

/// Wraps `root` again for an envelope already in the vault, from the public recipient it is
/// stored under: recovery and keystore envelopes survive a root-key rotation without their
/// secrets being at hand. Passphrase envelopes have no public recipient and cannot be re-made.
pub(crate) fn rewrap_for_stored(root: &RootKey, kind: EnvelopeKind, recipient: &str) -> Result<NewEnvelope> {
    if kind == EnvelopeKind::Passphrase {
        return Err(Error::input("a passphrase envelope cannot be re-made without its passphrase"));
    }
    let parsed: age::x25519::Recipient = recipient
        .parse()
        .map_err(|_| Error::corrupt("key_envelope", "-", "a stored recipient is not an age X25519 recipient"))?;
    Ok(NewEnvelope { kind, recipient: Some(recipient.to_owned()), log_n: None, age_file: encrypt_root(root, &parsed)? })
}

/// The recipient string a raw key's envelope is stored under (to find it without trying all).
pub(crate) fn keystore_recipient(key: &RawKey) -> Result<String> {
    Ok(key.identity()?.to_public().to_string())
}

pub(crate) fn recovery_recipient(identity: &RecoveryIdentity) -> String {
    identity.0.to_public().to_string()
}

fn encrypt_root(root: &RootKey, recipient: &dyn age::Recipient) -> Result<Vec<u8>> {
    let encryptor = age::Encryptor::with_recipients(std::iter::once(recipient))
        .map_err(|_| Error::internal("could not set up the age recipient"))?;
    let mut out = Vec::with_capacity(256);
    let mut w = encryptor.wrap_output(&mut out).map_err(|_| Error::internal("could not write the age envelope"))?;
    w.write_all(root.expose())
        .and_then(|()| w.finish().map(|_| ()))
        .map_err(|_| Error::internal("could not write the age envelope"))?;
    Ok(out)
}

/// An unlock secret offered by the caller.
pub(crate) enum Unlock<'a> {
    Passphrase(&'a Passphrase),
    Keystore(&'a RawKey),
    Recovery(&'a RecoveryIdentity),
}

/// Opens an envelope's age file. Any failure to decrypt is `WrongKey`; a file that decrypts to
/// something other than 32 bytes is a corrupt envelope.
pub(crate) fn unwrap_root(age_file: &[u8], unlock: &Unlock<'_>, max_log_n: u8) -> Result<RootKey> {
    let decryptor = age::Decryptor::new_buffered(age_file)
        .map_err(|_| Error::corrupt("key_envelope", "-", "the key envelope is not an age file"))?;
    let reader = match unlock {
        Unlock::Passphrase(p) => {
            let mut id = age::scrypt::Identity::new(p.0.clone());
            id.set_max_work_factor(max_log_n);
            decryptor.decrypt(std::iter::once(&id as &dyn age::Identity))
        }
        Unlock::Keystore(k) => {
            let id = k.identity()?;
            decryptor.decrypt(std::iter::once(&id as &dyn age::Identity))
        }
        Unlock::Recovery(r) => decryptor.decrypt(std::iter::once(&r.0 as &dyn age::Identity)),
    };
    let mut reader = reader.map_err(|e| match e {
        age::DecryptError::ExcessiveWork { .. } => {
            Error::corrupt("key_envelope", "-", "the envelope's scrypt work factor exceeds the recorded one")
        }
        _ => Error::WrongKey("the passphrase or key does not open this vault"),
    })?;
    let mut buf = Zeroizing::new(Vec::with_capacity(32));
    reader.read_to_end(&mut buf).map_err(|_| Error::WrongKey("the passphrase or key does not open this vault"))?;
    RootKey::from_bytes(&buf)
        .ok_or_else(|| Error::corrupt("key_envelope", "-", "the envelope does not hold a 32-byte key"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secrets_do_not_print() {
        let root = RootKey::generate().unwrap();
        let raw = RawKey::from_bytes(&[0xAB; 32]).unwrap();
        let pass = Passphrase::new("correct horse battery staple");
        let id = RecoveryIdentity::generate();
        for text in [format!("{root:?}"), format!("{raw:?}"), format!("{pass:?}"), format!("{id:?}")] {
            assert!(text.contains("redacted"), "{text}");
            assert!(!text.contains("horse"));
            assert!(!text.to_lowercase().contains("abab"));
            assert!(!text.contains("AGE-SECRET-KEY"));
        }
    }

    #[test]
    fn envelopes_round_trip_and_refuse_wrong_keys() {
        let root = RootKey::generate().unwrap();
        let raw = RawKey::generate().unwrap();
        let env = wrap_for_keystore(&root, &raw).unwrap();
        let back = unwrap_root(&env.age_file, &Unlock::Keystore(&raw), 20).unwrap();
        assert_eq!(back.expose(), root.expose());
        let other = RawKey::generate().unwrap();
        let err = unwrap_root(&env.age_file, &Unlock::Keystore(&other), 20).unwrap_err();
        assert_eq!(err.kind(), crate::ErrorKind::WrongKey);

        let id = RecoveryIdentity::generate();
        let env = wrap_for_recipient(&root, &id.recipient()).unwrap();
        let back = unwrap_root(&env.age_file, &Unlock::Recovery(&id), 20).unwrap();
        assert_eq!(back.expose(), root.expose());
    }

    #[test]
    fn category_keys_differ_per_category_and_client() {
        let a = ClientKey::generate().unwrap();
        let b = ClientKey::generate().unwrap();
        let alg = Algorithm::Aes256Gcm;
        let k1 = a.category_key(Category::ContactPhone, alg).unwrap();
        let k2 = a.category_key(Category::ContactEmail, alg).unwrap();
        let k3 = b.category_key(Category::ContactPhone, alg).unwrap();
        assert_ne!(k1.commitment(), k2.commitment());
        assert_ne!(k1.commitment(), k3.commitment());
    }
}
