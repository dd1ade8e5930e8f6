//! The ways to open a vault: key envelopes, recovery keys and platform keystore keys.

use std::sync::Arc;

use caseward as cw;

use crate::error::Result;

/// One key envelope: a way to open the vault.
#[derive(Debug, Clone, uniffi::Record)]
pub struct KeyEnvelope {
    /// `passphrase`, `recovery` or `keystore`.
    pub kind: String,
    /// The recovery recipient (`age1...`) or the keystore key's public recipient; none for a
    /// passphrase.
    pub recipient: Option<String>,
}

/// A recovery key: an age X25519 identity the organisation keeps offline. A vault whose key
/// envelopes list its recipient opens with it after the passphrase, or the phone holding the
/// keystore key, is lost. An object, not a record, so printing it shows no secret.
#[derive(uniffi::Object)]
pub struct RecoveryKey {
    identity: cw::RecoveryIdentity,
}

#[uniffi::export]
impl RecoveryKey {
    /// Generates a new recovery key.
    #[uniffi::constructor]
    pub fn generate() -> Arc<Self> {
        Arc::new(Self { identity: cw::RecoveryIdentity::generate() })
    }

    /// The public recipient (`age1...`), for `add_recovery_recipient`.
    pub fn recipient(&self) -> String {
        self.identity.recipient().to_string()
    }

    /// The secret identity (`AGE-SECRET-KEY-1...`), to write once to offline storage.
    pub fn expose_identity(&self) -> String {
        self.identity.to_secret_string().as_str().to_owned()
    }
}

impl std::fmt::Debug for RecoveryKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("RecoveryKey([redacted])")
    }
}

/// A fresh random 32-byte key for a platform keystore entry (`create_with_key`).
#[uniffi::export]
pub fn generate_keystore_key() -> Result<Vec<u8>> {
    Ok(cw::RawKey::generate()?.expose_bytes().to_vec())
}

pub(crate) fn raw_key(mut key: Vec<u8>) -> Result<cw::RawKey> {
    let k = cw::RawKey::from_bytes(&key);
    zeroize::Zeroize::zeroize(&mut key);
    Ok(k?)
}
