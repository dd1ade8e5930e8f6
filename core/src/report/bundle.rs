//! Report bundles: canonical JSON, signed with the provider's Ed25519 key, encrypted with age
//! to the board's recipients; and the board side that opens and verifies them.
//!
//! The plaintext inside the age file is one JSON document:
//!
//! ```json
//! {"format":"caseward-bundle/1",
//!  "report":{ ... the Report ... },
//!  "signature":{"algorithm":"ed25519","public_key":"<64 hex>","value":"<128 hex>"}}
//! ```
//!
//! The signature covers `caseward-report/1\0` followed by the report in canonical form: object
//! keys sorted, no whitespace, numbers as serde_json writes them. Any standard age tool with a
//! board identity decrypts the file; `caseward report open` also checks the signature against
//! the board's registry of provider keys (a TOML file, see [`Registry`]).

use std::collections::BTreeMap;
use std::io::{Read, Write};
use std::path::Path;

use ring::signature::{self, Ed25519KeyPair, KeyPair};
use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};
use crate::keys::{RecoveryIdentity, RecoveryRecipient};
use crate::report::{Cell, Report, REPORT_FORMAT};

/// The format tag of the bundle document.
pub const BUNDLE_FORMAT: &str = "caseward-bundle/1";

/// Domain separation for the signature: a signature over a report is never a signature over
/// anything else the key might sign.
const SIGNING_CONTEXT: &[u8] = b"caseward-report/1\0";

/// Bundles larger than this are refused before parsing.
const MAX_BUNDLE: u64 = 64 * 1024 * 1024;

/// Why a bundle was refused.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum BundleProblem {
    /// Not an age file, or truncated or altered so age cannot read it.
    #[error("not a readable age file (truncated, altered, or not a bundle)")]
    NotAge,
    /// The identity given is not one of the bundle's recipients.
    #[error("this identity is not a recipient of the bundle")]
    NotForThisIdentity,
    /// The decrypted document is not a caseward bundle.
    #[error("the decrypted content is not a caseward bundle: {0}")]
    Malformed(String),
    /// The signature does not verify: the report was altered after signing.
    #[error("the signature does not verify: the report was altered or signed by another key")]
    BadSignature,
    /// The provider named in the report is not in the registry.
    #[error("provider {0:?} is not in the registry of provider keys")]
    UnknownProvider(String),
    /// The report was signed by a key other than the one registered for its provider.
    #[error("signed by a key that is not the registered key of provider {0:?}")]
    WrongSigner(String),
    /// A report was asked for a month that has not ended yet (refused when building).
    #[error(
        "the report period {period} has not ended yet: its last day is {last_day}, so build it from {} (UTC)",
        last_day.add_days(1)
    )]
    PeriodNotEnded {
        /// The month asked for.
        period: crate::report::Period,
        /// Its last day: today or later.
        last_day: crate::identifier::Date,
    },
}

/// How far a bundle's origin was checked.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Origin {
    /// The signature verifies under the key the registry holds for the provider.
    Registered,
    /// The signature verifies under the key inside the bundle, but no registry was given:
    /// anyone could have made it.
    Unchecked,
}

/// An opened bundle: the report, verified.
#[derive(Clone, Debug)]
pub struct SignedReport {
    /// The report.
    pub report: Report,
    /// The signer's public key, `ed25519:<hex>`.
    pub signer: String,
    /// Whether the signer was checked against a registry.
    pub origin: Origin,
}

#[derive(Serialize, Deserialize)]
struct Document {
    format: String,
    report: serde_json::Value,
    signature: Signature,
}

#[derive(Serialize, Deserialize)]
struct Signature {
    algorithm: String,
    public_key: String,
    value: String,
}

/// The board's registry of provider signing keys, a TOML file of `id = "ed25519:<hex>"` lines,
/// with or without a `[providers]` header, so the line `caseward provider` prints can be
/// appended as it is:
///
/// ```toml
/// irc-new-york = "ed25519:3f1c...64 hex digits"
/// [providers]
/// bakerripley-houston = "ed25519:9a0b..."
/// ```
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Registry {
    /// Provider id to `ed25519:<hex>` public key.
    pub providers: BTreeMap<String, String>,
}

impl Registry {
    /// Parses a registry file's text: provider lines at the top level, under `[providers]`, or
    /// both. A provider listed twice is refused, even with the same key.
    pub fn from_toml(text: &str) -> Result<Self> {
        let table: toml::Table =
            toml::from_str(text).map_err(|e| Error::input(format!("provider registry: {}", e.message())))?;
        let mut reg = Self::default();
        let mut add = |id: String, key: toml::Value| -> Result<()> {
            let key = key
                .as_str()
                .filter(|k| parse_public_key(k).is_ok())
                .ok_or_else(|| {
                    Error::input(format!("provider registry: the key of {id:?} is not \"ed25519:<64 hex digits>\""))
                })?
                .to_owned();
            if reg.providers.insert(id.clone(), key).is_some() {
                return Err(Error::input(format!("provider registry: {id:?} is listed twice")));
            }
            Ok(())
        };
        for (name, value) in table {
            match value {
                toml::Value::Table(section) if name == "providers" => {
                    for (id, key) in section {
                        add(id, key)?;
                    }
                }
                toml::Value::Table(_) => {
                    return Err(Error::input(format!(
                        "provider registry: unknown table {name:?}; provider lines go at the top or under [providers]"
                    )))
                }
                key => add(name, key)?,
            }
        }
        Ok(reg)
    }

    /// Reads a registry file.
    pub fn load(path: impl AsRef<Path>) -> Result<Self> {
        Self::from_toml(&std::fs::read_to_string(path)?)
    }
}

/// The canonical form of a JSON value: object keys sorted, no whitespace.
pub fn canonical_json(value: &serde_json::Value) -> Vec<u8> {
    let mut out = Vec::with_capacity(4096);
    write_canonical(value, &mut out);
    out
}

fn write_canonical(value: &serde_json::Value, out: &mut Vec<u8>) {
    match value {
        serde_json::Value::Object(map) => {
            let mut entries: Vec<(&String, &serde_json::Value)> = map.iter().collect();
            entries.sort_by(|a, b| a.0.cmp(b.0));
            out.push(b'{');
            for (i, (k, v)) in entries.into_iter().enumerate() {
                if i > 0 {
                    out.push(b',');
                }
                // Writing a string or a scalar to a Vec cannot fail.
                let _ = serde_json::to_writer(&mut *out, k);
                out.push(b':');
                write_canonical(v, out);
            }
            out.push(b'}');
        }
        serde_json::Value::Array(items) => {
            out.push(b'[');
            for (i, v) in items.iter().enumerate() {
                if i > 0 {
                    out.push(b',');
                }
                write_canonical(v, out);
            }
            out.push(b']');
        }
        scalar => {
            let _ = serde_json::to_writer(&mut *out, scalar);
        }
    }
}

pub(crate) fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// Lowercase hex only: one spelling per byte string, so two spellings of one key can never
/// pass as two keys (`from_str_radix` alone takes uppercase digits and a leading `+`).
pub(crate) fn unhex(text: &str) -> Option<Vec<u8>> {
    if text.len() % 2 != 0 || !text.bytes().all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b)) {
        return None;
    }
    (0..text.len()).step_by(2).map(|i| text.get(i..i + 2).and_then(|p| u8::from_str_radix(p, 16).ok())).collect()
}

pub(crate) fn parse_public_key(text: &str) -> Result<[u8; 32]> {
    let hexpart =
        text.strip_prefix("ed25519:").ok_or_else(|| Error::input("a public key is ed25519:<64 hex digits>"))?;
    unhex(hexpart)
        .and_then(|b| <[u8; 32]>::try_from(b).ok())
        .ok_or_else(|| Error::input("a public key is ed25519:<64 hex digits>"))
}

/// The provider's signing key (PKCS#8 document of an Ed25519 key pair), as stored sealed.
pub(crate) struct SigningKey(Ed25519KeyPair);

impl SigningKey {
    pub(crate) fn generate_pkcs8() -> Result<zeroize::Zeroizing<Vec<u8>>> {
        let doc = Ed25519KeyPair::generate_pkcs8(&ring::rand::SystemRandom::new())
            .map_err(|_| Error::internal("could not generate a signing key"))?;
        Ok(zeroize::Zeroizing::new(doc.as_ref().to_vec()))
    }

    pub(crate) fn from_pkcs8(doc: &[u8]) -> Result<Self> {
        Ed25519KeyPair::from_pkcs8(doc)
            .map(Self)
            .map_err(|_| Error::corrupt("meta", "signing_key", "the stored signing key is not an Ed25519 key"))
    }

    pub(crate) fn public_key(&self) -> String {
        format!("ed25519:{}", hex(self.0.public_key().as_ref()))
    }

    /// Signs `message`, which the caller has prefixed with its own context.
    pub(crate) fn sign(&self, message: &[u8]) -> Vec<u8> {
        self.0.sign(message).as_ref().to_vec()
    }
}

/// The signed document of a report (what `age -d` prints from its bundle); the release ledger
/// keeps it, so a period sent again is sent byte for byte.
pub(crate) fn sign_report(report: &Report, key: &SigningKey) -> Result<Vec<u8>> {
    // The last gate before a signature: whatever built the report, no month is signed before it
    // ends.
    report.period.ensure_ended(crate::identifier::Date::today())?;
    let value = serde_json::to_value(report).map_err(|_| Error::internal("the report could not be serialized"))?;
    let mut message = SIGNING_CONTEXT.to_vec();
    message.extend_from_slice(&canonical_json(&value));
    let sig = key.0.sign(&message);
    let doc = Document {
        format: BUNDLE_FORMAT.into(),
        report: value,
        signature: Signature { algorithm: "ed25519".into(), public_key: key.public_key(), value: hex(sig.as_ref()) },
    };
    serde_json::to_vec(&doc).map_err(|_| Error::internal("the bundle could not be serialized"))
}

/// Encrypts a signed document to the board's recipients: the bytes of an age file.
pub(crate) fn encrypt_document(plain: &[u8], recipients: &[RecoveryRecipient]) -> Result<Vec<u8>> {
    if recipients.is_empty() {
        return Err(Error::input("a report needs at least one board recipient"));
    }
    let encryptor = age::Encryptor::with_recipients(recipients.iter().map(|r| r.inner() as &dyn age::Recipient))
        .map_err(|_| Error::internal("could not set up the age recipients"))?;
    let mut out = Vec::with_capacity(plain.len() + 512);
    let mut w = encryptor.wrap_output(&mut out).map_err(|_| Error::internal("could not write the bundle"))?;
    w.write_all(plain)
        .and_then(|()| w.finish().map(|_| ()))
        .map_err(|_| Error::internal("could not write the bundle"))?;
    Ok(out)
}

/// Decrypts a bundle with a board identity and verifies its signature; with a registry, the
/// signer must be the key registered for the report's provider.
pub fn open_bundle(bytes: &[u8], identity: &RecoveryIdentity, registry: Option<&Registry>) -> Result<SignedReport> {
    let decryptor = age::Decryptor::new_buffered(bytes).map_err(|_| Error::Bundle(BundleProblem::NotAge))?;
    let reader = decryptor.decrypt(std::iter::once(identity.inner() as &dyn age::Identity)).map_err(|e| match e {
        age::DecryptError::NoMatchingKeys => Error::Bundle(BundleProblem::NotForThisIdentity),
        _ => Error::Bundle(BundleProblem::NotAge),
    })?;
    let mut plain = Vec::new();
    reader.take(MAX_BUNDLE).read_to_end(&mut plain).map_err(|_| Error::Bundle(BundleProblem::NotAge))?;
    verify_document(&plain, registry)
}

/// Verifies a decrypted bundle document (what `age -d` prints).
pub fn verify_document(plain: &[u8], registry: Option<&Registry>) -> Result<SignedReport> {
    let malformed = |what: &str| Error::Bundle(BundleProblem::Malformed(what.to_owned()));
    let doc: Document = serde_json::from_slice(plain).map_err(|_| malformed("not the bundle JSON structure"))?;
    if doc.format != BUNDLE_FORMAT {
        return Err(malformed("unknown bundle format"));
    }
    if doc.signature.algorithm != "ed25519" {
        return Err(malformed("unknown signature algorithm"));
    }
    let provider =
        doc.report.get("provider").and_then(|p| p.as_str()).ok_or_else(|| malformed("no provider"))?.to_owned();
    let embedded = parse_public_key(&doc.signature.public_key).map_err(|_| malformed("bad public key"))?;
    let origin = match registry {
        Some(reg) => {
            let registered = reg
                .providers
                .get(&provider)
                .ok_or_else(|| Error::Bundle(BundleProblem::UnknownProvider(provider.clone())))?;
            if parse_public_key(registered)? != embedded {
                return Err(Error::Bundle(BundleProblem::WrongSigner(provider)));
            }
            Origin::Registered
        }
        None => Origin::Unchecked,
    };
    let sig = unhex(&doc.signature.value).ok_or_else(|| malformed("bad signature encoding"))?;
    let mut message = SIGNING_CONTEXT.to_vec();
    message.extend_from_slice(&canonical_json(&doc.report));
    signature::UnparsedPublicKey::new(&signature::ED25519, &embedded)
        .verify(&message, &sig)
        .map_err(|_| Error::Bundle(BundleProblem::BadSignature))?;
    let report: Report = serde_json::from_value(doc.report).map_err(|_| malformed("the report does not parse"))?;
    check_report(&report)?;
    // The signer as the key's one canonical spelling, whatever the document wrote.
    Ok(SignedReport { report, signer: format!("ed25519:{}", hex(&embedded)), origin })
}

/// Shape checks a signed report must pass before a board tool trusts its tables.
fn check_report(report: &Report) -> Result<()> {
    let malformed = |what: String| Error::Bundle(BundleProblem::Malformed(what));
    if report.format != REPORT_FORMAT {
        return Err(malformed("unknown report format".into()));
    }
    for t in &report.tables {
        let width = t.columns.len() + usize::from(t.row_totals);
        if t.cells.len() != t.rows.len() + 1 || t.cells.iter().any(|r| r.len() != width) {
            return Err(malformed(format!("table {:?} has the wrong shape", t.id)));
        }
        if t.cells.iter().flatten().any(|c| matches!(c, Cell::Bound { .. } | Cell::Estimate { .. })) {
            return Err(malformed(format!("table {:?} carries merged cells", t.id)));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::indexing_slicing, reason = "tests fail loudly")]

    use super::*;
    use crate::identifier::Date;
    use crate::report::{Method, Period, ReportOptions};
    use crate::{RawKey, Vault};

    const KEY: &str = "ed25519:3f1c0000000000000000000000000000000000000000000000000000000000aa";

    /// One key, one spelling: otherwise a bundle re-spelling its key in uppercase would pass a
    /// merge's "one bundle per signing key" check as a second provider.
    #[test]
    fn a_public_key_has_one_spelling() {
        assert!(parse_public_key(KEY).is_ok());
        assert!(parse_public_key(&KEY.to_uppercase().replace("ED25519", "ed25519")).is_err());
        let plus = format!("ed25519:+f{}", &KEY["ed25519:".len() + 2..]);
        assert!(parse_public_key(&plus).is_err());
        assert_eq!(unhex("0aff"), Some(vec![0x0a, 0xff]));
        assert_eq!(unhex("0AFF"), None);
    }

    #[test]
    fn the_registry_takes_the_provider_line_with_or_without_its_header() {
        let line = format!("# caseward provider\nirc-new-york = \"{KEY}\"\n");
        let bare = Registry::from_toml(&line).unwrap();
        assert_eq!(bare.providers["irc-new-york"], KEY);
        let both = Registry::from_toml(&format!("{line}[providers]\nbakerripley-houston = \"{KEY}\"\n")).unwrap();
        assert_eq!(both.providers.len(), 2);
        assert_eq!(Registry::from_toml(&format!("[providers]\n{line}")).unwrap(), bare);
        for bad in [
            format!("{line}[providers]\nirc-new-york = \"{KEY}\"\n"),
            "irc-new-york = \"ed25519:00\"\n".to_owned(),
            "irc-new-york = 3\n".to_owned(),
            format!("[elsewhere]\nirc-new-york = \"{KEY}\"\n"),
        ] {
            assert!(Registry::from_toml(&bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn a_month_is_reported_only_once_it_has_ended() {
        let sept: Period = "2026-09".parse().unwrap();
        assert_eq!(sept.last_day(), Date::from_ymd(2026, 9, 30).unwrap());
        assert!(sept.ensure_ended(Date::from_ymd(2026, 10, 1).unwrap()).is_ok());
        for today in [(2026, 9, 30), (2026, 9, 1), (2026, 8, 15)] {
            let today = Date::from_ymd(today.0, today.1, today.2).unwrap();
            let err = sept.ensure_ended(today).unwrap_err();
            assert!(matches!(err, Error::Bundle(BundleProblem::PeriodNotEnded { period, .. }) if period == sept));
        }
        let feb: Period = "2028-02".parse().unwrap();
        assert_eq!(feb.last_day(), Date::from_ymd(2028, 2, 29).unwrap());
    }

    #[test]
    fn the_vault_refuses_a_report_for_this_month_and_records_nothing() {
        let dir = tempfile::tempdir().unwrap();
        let vault = Vault::create_with_key(dir.path().join("v.cwv"), &RawKey::generate().unwrap()).unwrap();
        vault.set_provider_id("irc-new-york").unwrap();
        let mut synth = crate::synth::Synth::new(3);
        let intakes: Vec<_> = (0..30).map(|_| synth.intake()).collect();
        vault.enroll_many(&intakes).unwrap();
        let board = crate::RecoveryIdentity::generate();
        let noisy = ReportOptions {
            method: Method::Noise { mechanism: crate::report::Mechanism::Laplace { epsilon_num: 1, epsilon_den: 10 } },
            ..ReportOptions::default()
        };
        let today = Date::today();
        let this_month = Period::new(today.year(), today.month()).unwrap();
        let log = vault.read_log().unwrap().len();
        let err = vault.board_report(this_month, &noisy, &[board.recipient()]).unwrap_err();
        assert!(
            matches!(err, Error::Bundle(BundleProblem::PeriodNotEnded { period, last_day }) if period == this_month && last_day >= today),
            "{err}"
        );
        assert!(err.to_string().contains("has not ended yet"), "{err}");
        assert_eq!(vault.read_log().unwrap().len(), log, "nothing logged");
        assert_eq!(vault.privacy_budget(this_month).unwrap().0, 0, "nothing charged");
        assert!(vault.verify_log(None).unwrap().is_intact());
        let last_month = Period::new(
            today.add_days(-i64::from(today.day())).year(),
            today.add_days(-i64::from(today.day())).month(),
        )
        .unwrap();
        assert!(vault.board_report(last_month, &noisy, &[board.recipient()]).is_ok());
        assert_eq!(vault.read_log().unwrap().len(), log + 1);
    }

    #[test]
    fn a_vault_without_clients_sends_a_well_formed_report() {
        // Site tables then have no rows, only their total row, which must still be full width.
        let dir = tempfile::tempdir().unwrap();
        let vault = Vault::create_with_key(dir.path().join("v.cwv"), &RawKey::generate().unwrap()).unwrap();
        vault.set_provider_id("new-provider").unwrap();
        let board = crate::RecoveryIdentity::generate();
        for method in [
            Method::default(),
            Method::Noise { mechanism: crate::report::Mechanism::Laplace { epsilon_num: 1, epsilon_den: 10 } },
        ] {
            let options = ReportOptions { method, ..ReportOptions::default() };
            let bundle = vault.board_report("2026-09".parse().unwrap(), &options, &[board.recipient()]).unwrap();
            let opened = open_bundle(&bundle, &board, None).unwrap();
            assert!(opened.report.tables.iter().any(|t| t.rows.is_empty()));
        }
    }
}
