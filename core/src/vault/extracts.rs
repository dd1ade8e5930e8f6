//! The vault's side of evaluator extracts ([`crate::extract`]): it reads only the extract's
//! categories, pseudonymizes under the evaluation's own epoch, signs the dictionary, encrypts
//! both files to the evaluator, and logs the release and keeps it in the extract ledger in one
//! transaction. The ledger refuses a second extract of the same evaluation.

use serde::{Deserialize, Serialize};

use super::log::{self, Detail, Entry, Subject};
use super::reports::{for_each_client, get_meta_sealed, load_pseudonym_key, load_signing_key, put_meta_sealed};
use super::{aad, Crypto, Vault};
use crate::audit::Event;
use crate::error::{Error, Result};
use crate::extract::{self, Builder, Dictionary, ExtractOptions};
use crate::identifier::Date;
use crate::keys::RecoveryRecipient;
use crate::policy::AudienceClass;
use crate::pseudonym::{Domain, Epoch};
use crate::report::bundle::{encrypt_document, hex};

const META_EXTRACTS: &str = aad::EXTRACT_LEDGER;
const LEDGER_FORMAT: &str = "caseward-extract-ledger/1";

#[derive(Serialize, Deserialize)]
struct Ledger {
    format: String,
    extracts: Vec<Released>,
}

#[derive(Serialize, Deserialize)]
struct Released {
    evaluation: String,
    /// The signed dictionary, as sent (it names the Parquet file by its SHA-256).
    dictionary: String,
    /// The participants, as the vault's keyed index of their A-numbers (hex), sorted: a later
    /// extract may take none of them.
    #[serde(default)]
    people: Vec<String>,
}

impl Ledger {
    fn load(conn: &rusqlite::Connection, crypto: &Crypto) -> Result<Self> {
        let Some(plain) = get_meta_sealed(conn, crypto, META_EXTRACTS)? else {
            return Ok(Self { format: LEDGER_FORMAT.into(), extracts: Vec::new() });
        };
        let out: Self = serde_json::from_slice(&plain)
            .map_err(|_| Error::corrupt("meta", META_EXTRACTS, "the extract ledger is not valid JSON"))?;
        if out.format != LEDGER_FORMAT {
            return Err(Error::corrupt("meta", META_EXTRACTS, "unknown extract-ledger format"));
        }
        Ok(out)
    }

    fn store(&self, tx: &rusqlite::Transaction<'_>, crypto: &mut Crypto) -> Result<()> {
        let plain = zeroize::Zeroizing::new(
            serde_json::to_vec(self).map_err(|_| Error::internal("the extract ledger could not be serialized"))?,
        );
        put_meta_sealed(tx, crypto, META_EXTRACTS, &plain)
    }
}

/// An extract as sent: two age files for the evaluator.
#[derive(Clone, PartialEq, Eq)]
pub struct ExtractFiles {
    /// The Parquet file, age-encrypted.
    pub parquet: Vec<u8>,
    /// The signed data dictionary (JSON), age-encrypted.
    pub dictionary: Vec<u8>,
}

impl std::fmt::Debug for ExtractFiles {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ExtractFiles").finish_non_exhaustive()
    }
}

impl Vault {
    /// The evaluator's extract of an evaluation ([`crate::extract`]), encrypted to
    /// `recipients`: k-anonymous pseudonymized microdata of its randomized participants, with a
    /// signed data dictionary. Logged, and kept in the extract ledger.
    ///
    /// Refused, with nothing recorded: no recipient; a bad evaluation id, k below 2, or more than
    /// 50 % suppression allowed; no provider id or pseudonym key; a policy that does not let the
    /// evaluator have the pseudonym and the arm (`Denied`); fewer than k participants; no
    /// generalization under which every class keeps k and no sensitive outcome can be pinned
    /// beside the board's releases (read from the release ledger); an evaluation extracted
    /// before (two extracts of the same people could be differenced); and participants of an
    /// earlier extract (each person is extracted once: two
    /// extracts of one person could be differenced).
    pub fn evaluator_extract(
        &self,
        options: &ExtractOptions,
        recipients: &[RecoveryRecipient],
    ) -> Result<ExtractFiles> {
        if recipients.is_empty() {
            return Err(Error::input("an extract needs at least one evaluator recipient"));
        }
        extract::check_evaluation(&options.evaluation)?;
        if options.k < 2 {
            return Err(Error::input("k must be at least 2"));
        }
        if options.max_suppressed_percent > 50 {
            return Err(Error::input("at most 50 % of the records may be suppressed"));
        }
        let provider = self.required_provider_id()?;
        let policy = self.read_p(|_, _, policy| Ok(policy.clone()))?;
        let allowed = extract::allowed(&policy)?;
        let exists = |ledger: &Ledger| ledger.extracts.iter().any(|e| e.evaluation == options.evaluation);
        if self.read(|conn, crypto| Ledger::load(conn, crypto).map(|l| exists(&l)))? {
            return Err(already(&options.evaluation));
        }
        let epoch = Epoch::new(&options.evaluation)?;
        let pseudonymizer =
            self.read(|conn, crypto| Ok(load_pseudonym_key(conn, crypto)?.pseudonymizer(Domain::Evaluation, &epoch)))?;
        let mut builder = Builder::new(options.clone(), pseudonymizer, Date::today());
        for_each_client(self, &extract::READS, |c| {
            builder.add(&c);
            Ok(())
        })?;
        let released = self.released_reports()?;
        let (parquet, dictionary, a_numbers) = builder.finish(&provider, &allowed, &released)?;
        self.write_p(|tx, crypto, policy| {
            let mut ledger = Ledger::load(tx, crypto)?;
            if exists(&ledger) {
                return Err(already(&options.evaluation));
            }
            let mut people: Vec<String> = a_numbers.iter().map(|a| hex(&crypto.blind.digest(a))).collect();
            people.sort_unstable();
            // A person is extracted once. Two extracts sharing people could be differenced: a
            // person in one and not the other stands alone in the difference of their classes,
            // and even the same people taken twice differ by what changed in between (a class
            // whose one exit in between is its one new detention says who was detained).
            for earlier in &ledger.extracts {
                let shared = people.iter().filter(|p| earlier.people.binary_search(p).is_ok()).count();
                if shared > 0 {
                    return Err(Error::input(format!(
                        "this extract shares {shared} of its {} participants with extract {}: two extracts of the \
                         same person could be differenced, so each person is extracted once. Extract only new \
                         people (--selection with a new lottery), or make one extract at the end of the follow-up",
                        people.len(),
                        earlier.evaluation
                    )));
                }
            }
            let key = load_signing_key(tx, crypto)?;
            let signed = extract::sign(&dictionary, &key)?;
            let text =
                String::from_utf8(signed.clone()).map_err(|_| Error::internal("a signed document is not text"))?;
            ledger.extracts.push(Released { evaluation: options.evaluation.clone(), dictionary: text, people });
            ledger.store(tx, crypto)?;
            let entry = Entry {
                event: Event::Disclosure,
                audience: Some(AudienceClass::Evaluator),
                subject: Subject::Vault,
                output: crypto.output_digest(None, &signed),
                detail: Detail::Extract {
                    evaluation: &options.evaluation,
                    records: dictionary.records,
                    suppressed: dictionary.suppressed,
                    k: dictionary.k,
                },
            };
            log::append(tx, crypto, policy.hash(), entry)?;
            // Encrypted before the transaction commits: a failure logs nothing.
            Ok(ExtractFiles {
                parquet: encrypt_document(&parquet, recipients)?,
                dictionary: encrypt_document(&signed, recipients)?,
            })
        })
    }

    /// The dictionaries of every extract released, oldest first (what the evaluator holds).
    pub fn released_extracts(&self) -> Result<Vec<Dictionary>> {
        self.read(|conn, crypto| {
            Ledger::load(conn, crypto)?
                .extracts
                .iter()
                .map(|e| {
                    serde_json::from_str::<serde_json::Value>(&e.dictionary)
                        .ok()
                        .and_then(|v| v.get("document").cloned())
                        .and_then(|d| serde_json::from_value(d).ok())
                        .ok_or_else(|| Error::corrupt("meta", META_EXTRACTS, "a stored dictionary does not parse"))
                })
                .collect()
        })
    }
}

fn already(evaluation: &str) -> Error {
    Error::input(format!(
        "evaluation {evaluation} was extracted already: a second extract of the same people could be differenced \
         against the first; new people go out under a new id (and so new pseudonyms), each person once"
    ))
}
