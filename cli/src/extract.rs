//! `caseward extract build|open`: the provider's command to send an evaluator extract, and the
//! evaluator's to open one (`caseward::extract`).

use std::path::Path;

use caseward::extract::{self, ExtractOptions};
use caseward::report::Registry;
use caseward::{Error, Vault};

use crate::neutral::term;
use crate::output::{ready, write_new};
use crate::report::{identity, recipients, Failure};
use crate::secret;

/// The files an extract travels as.
const PARQUET_AGE: &str = "extract.parquet.age";
const DICTIONARY_AGE: &str = "dictionary.json.age";

/// The options of `extract build`.
pub struct BuildArgs<'a> {
    pub vault: &'a Path,
    pub evaluation: &'a str,
    pub to: &'a [String],
    pub selections: &'a [String],
    pub k: u32,
    pub max_suppressed_percent: u32,
    pub out: &'a Path,
    pub passphrase_file: Option<&'a Path>,
}

/// `extract build`.
pub fn build(a: &BuildArgs<'_>) -> Result<(), Error> {
    let to = recipients(a.to)?;
    ready(a.out, &[PARQUET_AGE, DICTIONARY_AGE])?;
    let v = Vault::open(a.vault, &secret::passphrase(a.passphrase_file, false)?)?;
    let options = ExtractOptions {
        evaluation: a.evaluation.to_owned(),
        selections: a.selections.to_vec(),
        k: a.k,
        max_suppressed_percent: a.max_suppressed_percent,
    };
    let files = v.evaluator_extract(&options, &to)?;
    write_new(a.out, PARQUET_AGE, &files.parquet)?;
    write_new(a.out, DICTIONARY_AGE, &files.dictionary)?;
    if let Some(d) = v.released_extracts()?.into_iter().rev().find(|d| d.evaluation == a.evaluation) {
        println!(
            "extract of evaluation {}: {} records, {} suppressed, every class {} or more (k = {})",
            d.evaluation, d.records, d.suppressed, d.smallest_class, d.k
        );
        for q in &d.quasi_identifiers {
            println!("  {}: {}", q.column, q.meaning);
        }
        for f in &d.diverse {
            println!("  never pinned on anyone beside the board's tables: {f}");
        }
        for o in &d.omitted {
            println!("  left out: {}", term(o));
        }
    }
    println!("wrote {} and {} (age-encrypted to the evaluator); logged", PARQUET_AGE, DICTIONARY_AGE);
    v.close()
}

/// `extract open`: exit 1 when the files are refused (altered, or signed by another key).
pub fn open(dir: &Path, identity_file: &Path, providers: Option<&Path>, out: &Path) -> Result<(), Failure> {
    let read = |name: &str| {
        let p = dir.join(name);
        std::fs::read(&p).map_err(|e| Error::InvalidInput(format!("{}: {}", p.display(), e.kind())))
    };
    let (parquet_age, dictionary_age) = (read(PARQUET_AGE)?, read(DICTIONARY_AGE)?);
    let id = identity(identity_file)?;
    let registry = providers.map(Registry::load).transpose()?;
    let opened = match extract::open(&parquet_age, &dictionary_age, &id, registry.as_ref()) {
        Ok(o) => o,
        Err(e @ Error::Bundle(_)) => return Err(Failure::Refused(e.to_string())),
        Err(e) => return Err(Failure::Other(e)),
    };
    ready(out, &["extract.parquet", "dictionary.json"])?;
    write_new(out, "extract.parquet", &opened.parquet)?;
    let dictionary = serde_json::to_vec_pretty(&opened.dictionary)
        .map_err(|_| Error::Internal("the dictionary could not be serialized"))?;
    write_new(out, "dictionary.json", &dictionary)?;
    let d = &opened.dictionary;
    println!(
        "signature verified: {} ({}); evaluation {}, {} records as of {}",
        term(&d.provider),
        if registry.is_some() { "registered key" } else { "key not checked against a registry" },
        term(&d.evaluation),
        d.records,
        d.as_of
    );
    println!("wrote {} and {}", out.join("extract.parquet").display(), out.join("dictionary.json").display());
    Ok(())
}
