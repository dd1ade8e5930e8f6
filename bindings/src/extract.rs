//! Evaluator extracts across the bindings: the provider's call is `Vault::evaluator_extract`;
//! the evaluator opens the two files with [`open_extract`].

use caseward as cw;

use crate::error::Result;

/// An extract as sent: two age files for the evaluator.
#[derive(Debug, Clone, uniffi::Record)]
pub struct ExtractFiles {
    /// The Parquet file, age-encrypted.
    pub parquet: Vec<u8>,
    /// The signed data dictionary (JSON), age-encrypted.
    pub dictionary: Vec<u8>,
}

impl From<cw::ExtractFiles> for ExtractFiles {
    fn from(f: cw::ExtractFiles) -> Self {
        Self { parquet: f.parquet, dictionary: f.dictionary }
    }
}

/// An extract as the evaluator reads it.
#[derive(Debug, Clone, uniffi::Record)]
pub struct OpenedExtract {
    /// The Parquet file (for DuckDB, pandas, Spark).
    pub parquet: Vec<u8>,
    /// The verified data dictionary, as JSON.
    pub dictionary_json: String,
    /// The key that signed it (`ed25519:...`).
    pub signer: String,
}

/// Opens an extract with the evaluator's age identity (`AGE-SECRET-KEY-1...`): decrypts both
/// files, verifies the dictionary's signature (against the board's registry, a TOML text, when
/// given) and that it names this Parquet file. `WrongKey` for another identity, `Integrity`
/// for altered files.
#[uniffi::export(default(registry_toml = None))]
pub fn open_extract(
    parquet: Vec<u8>,
    dictionary: Vec<u8>,
    identity: String,
    registry_toml: Option<String>,
) -> Result<OpenedExtract> {
    let identity = cw::RecoveryIdentity::parse(&zeroize::Zeroizing::new(identity))?;
    let registry = registry_toml.as_deref().map(cw::report::Registry::from_toml).transpose()?;
    let opened = cw::extract::open(&parquet, &dictionary, &identity, registry.as_ref())?;
    let dictionary_json = serde_json::to_string(&opened.dictionary)
        .map_err(|_| cw::Error::Internal("the dictionary could not be serialized"))?;
    Ok(OpenedExtract { parquet: opened.parquet, dictionary_json, signer: opened.signer })
}
