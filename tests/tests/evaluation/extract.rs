//! Evaluator extracts as an evaluator receives them and as a linkage attacker attacks them: a
//! provider runs its lottery, releases one extract to the evaluator's age key, and the
//! evaluator opens it (signature, hash, Parquet). The attacker holds an external list of every
//! participant's nationality, birth year and month, site, enrollment month, exit date (so
//! whether they left, and their periods enrolled) and language, and counts the extract's
//! records each could be. Messy data: out-of-vocabulary and lowercase codes, missing
//! birth dates, several nationalities, records entered out of order.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing, reason = "tests")]

use std::collections::{BTreeMap, HashMap};

use caseward::extract::{self, Dictionary, ExtractOptions};
use caseward::report::Registry;
use caseward::synth::Synth;
use caseward::{ClientId, Epoch, ErrorKind, Policy, RecoveryIdentity, Vault};
use caseward_tests::test_key;
use parquet::file::reader::{FileReader, SerializedFileReader};
use parquet::record::Field;

/// What a data-use agreement with the evaluator adds to the default policy.
pub(super) const EVALUATION_RULES: &str = r#"
[[rule]]
id = "evaluator-microdata"
audience = "evaluator"
treatment = "pseudonymize"
categories = ["identifier.alien_number", "evaluation.randomization", "obligation.court.next", "legal.case",
              "obligation.reporting.next", "obligation.reporting.attendance", "service.event", "program.exit",
              "program.enrollment"]
why = "The evaluation's outcomes, under a pseudonym."

[[rule]]
id = "evaluator-quasi-identifiers"
audience = "evaluator"
treatment = "coarsen"
categories = ["identifier.dob", "demographic.nationality", "demographic.language", "program.site"]
why = "Coarsened, for k-anonymity."
"#;

/// The default policy and what a data-use agreement with the evaluator adds.
pub(super) fn evaluation_policy() -> Policy {
    let text = format!("{}{EVALUATION_RULES}", caseward::policy::DEFAULT_POLICY);
    Policy::from_toml(&text, "evaluation.toml").unwrap()
}

/// A U visa filed, at `stage`: protected relief the extract must never show.
pub(super) fn u_visa(stage: &str) -> caseward::LegalStatus {
    caseward::LegalStatus {
        court: None,
        disposition: None,
        represented: false,
        represented_since: None,
        relief_sought: vec![],
        protected_relief: Some(caseward::ProtectedRelief {
            kind: caseward::ProtectedReliefKind::UVisa,
            stage: stage.into(),
        }),
    }
}

pub(super) struct Provider {
    pub(super) _dir: tempfile::TempDir,
    pub(super) vault: Vault,
    pub(super) ids: Vec<ClientId>,
}

/// A provider of `clients` synthetic clients, some made messy, and a lottery over those who may
/// join one (everyone not randomized at intake, not VAWA, without protected relief).
pub(super) fn provider(clients: usize, seed: u64) -> Provider {
    let dir = tempfile::tempdir().unwrap();
    let vault = Vault::create_with_key(dir.path().join("p.cwv"), &test_key(seed as u8)).unwrap();
    vault.set_provider_id("irc-new-york").unwrap();
    vault.generate_pseudonym_key().unwrap();
    vault.install_policy(&evaluation_policy()).unwrap();
    let mut synth = Synth::new(seed);
    let intakes: Vec<_> = (0..clients)
        .map(|i| {
            let mut intake = synth.intake();
            intake.enrollment.randomization = None;
            match i % 7 {
                0 => intake.identity.nationality = vec!["er".into(), "MX".into()],
                1 => intake.identity.nationality = vec!["hn".into()],
                2 => intake.identity.dob = None,
                3 => intake.identity.languages = vec!["TI".into()],
                _ => {}
            }
            // Records entered out of date order.
            intake.records.reverse();
            intake
        })
        .collect();
    let ids = vault.enroll_many(&intakes).unwrap();
    let pool: Vec<ClientId> = ids
        .iter()
        .copied()
        .filter(|&c| {
            let r = vault.client_record(c).unwrap();
            let relief = r
                .records
                .iter()
                .any(|s| matches!(&s.record, caseward::Record::Legal(l) if l.protected_relief.is_some()));
            !r.enrollment().unwrap().vawa_grantee && !relief
        })
        .collect();
    let slots = u32::try_from(pool.len() / 2).unwrap();
    vault.lottery_commit("nyc-2026", &pool, slots, "NIST beacon v2, next pulse").unwrap();
    vault.lottery_draw("nyc-2026", "D41F00").unwrap();
    Provider { _dir: dir, vault, ids }
}

/// Every row of a Parquet file as column name -> text.
pub(super) fn rows(parquet: &[u8]) -> Vec<BTreeMap<String, String>> {
    let reader = SerializedFileReader::new(bytes::Bytes::copy_from_slice(parquet)).unwrap();
    reader
        .get_row_iter(None)
        .unwrap()
        .map(|row| {
            row.unwrap()
                .get_column_iter()
                .map(|(name, field)| {
                    let value = match field {
                        Field::Str(s) => s.clone(),
                        Field::Int(i) => i.to_string(),
                        other => format!("{other}"),
                    };
                    (name.clone(), value)
                })
                .collect()
        })
        .collect()
}

pub(super) fn open(p: &Provider, evaluator: &RecoveryIdentity, options: &ExtractOptions) -> extract::OpenedExtract {
    let files = p.vault.evaluator_extract(options, &[evaluator.recipient()]).unwrap();
    let mut registry = Registry::default();
    registry.providers.insert("irc-new-york".into(), p.vault.signing_public_key().unwrap());
    extract::open(&files.parquet, &files.dictionary, evaluator, Some(&registry)).unwrap()
}

/// What the attacker knows of a participant from an outside list.
#[derive(Clone, Debug)]
pub(super) struct Known {
    pub(super) age: Option<u16>,
    pub(super) enrolled: (i32, u8),
    pub(super) site: String,
    pub(super) nationality: String,
    pub(super) language: String,
    /// Whole 30-day periods from enrollment to exit or the extract's date: the list's dates
    /// give it.
    pub(super) periods: i32,
    pub(super) exited: bool,
}

impl Known {
    /// What the list says of a participant, as of `as_of`.
    pub(super) fn of(r: &caseward::ClientRecord, as_of: caseward::Date) -> Option<Self> {
        let (i, e) = (r.identity()?, r.enrollment()?);
        e.randomization.as_ref()?;
        let age = i.dob.as_ref().map(|b| {
            let before = b.month.is_some_and(|m| m > e.enrolled_on.month());
            (e.enrolled_on.year() - i32::from(b.year) - i32::from(before)) as u16
        });
        let exit = e.exit.as_ref().filter(|x| x.date <= as_of).map(|x| x.date);
        let end = exit.unwrap_or(as_of);
        let days = if e.enrolled_on <= end { end.days_since(e.enrolled_on) + 1 } else { 0 };
        Some(Known {
            age,
            enrolled: (e.enrolled_on.year(), e.enrolled_on.month()),
            site: e.site.clone(),
            nationality: vocabulary(caseward::report::indicator::NATIONALITIES, i.nationality.first()),
            language: vocabulary(caseward::report::indicator::LANGUAGES, i.languages.first()),
            periods: i32::try_from(days / 30).unwrap(),
            exited: exit.is_some(),
        })
    }
}

/// The class of a row as the attacker reads it: its quasi-identifiers, the exit group read as
/// whether the person had left (what the list knows).
pub(super) fn row_class(d: &Dictionary, row: &BTreeMap<String, String>) -> Vec<String> {
    d.quasi_identifiers
        .iter()
        .map(|q| match (q.column.as_str(), row[&q.column].as_str()) {
            ("exit_group", "*") => "*".to_owned(),
            ("exit_group", "active") => "active".to_owned(),
            ("exit_group", _) => "exited".to_owned(),
            (_, v) => v.to_owned(),
        })
        .collect()
}

/// The class the attacker puts a listed participant in.
pub(super) fn known_class(d: &Dictionary, k: &Known) -> Vec<String> {
    let g = generalize(d, k);
    d.quasi_identifiers.iter().map(|q| g[&q.column].clone()).collect()
}

pub(super) fn vocabulary(list: &[&str], value: Option<&String>) -> String {
    value.and_then(|v| list.iter().find(|w| w.eq_ignore_ascii_case(v.trim()))).map_or("other", |w| *w).to_owned()
}

/// The attacker generalizes what it knows exactly as the dictionary says the extract did.
pub(super) fn generalize(d: &Dictionary, k: &Known) -> BTreeMap<String, String> {
    let mut out = BTreeMap::new();
    for q in &d.quasi_identifiers {
        let level = q.level as usize;
        let top = q.hierarchy.len() - 1;
        // Every hierarchy ends in `*` but the periods', which ends in bands of 12.
        let v = if level == top && q.column != "periods_enrolled" {
            "*".to_owned()
        } else {
            match q.column.as_str() {
                "enrolled" => {
                    let (y, m) = k.enrolled;
                    [
                        format!("{y}-{m:02}"),
                        format!("{y}-Q{}", m.div_ceil(3)),
                        format!("{y}-H{}", if m <= 6 { 1 } else { 2 }),
                        format!("{y}"),
                    ][level]
                        .clone()
                }
                "site" => k.site.clone(),
                "exit_group" => (if k.exited { "exited" } else { "active" }).to_owned(),
                "periods_enrolled" => {
                    let width = [1, 3, 12][level];
                    (k.periods / width * width).to_string()
                }
                "nationality" if level == 0 => k.nationality.clone(),
                "nationality" => match k.nationality.as_str() {
                    "MX" | "GT" | "HN" | "SV" | "NI" => "Mexico and Central America",
                    "CU" | "HT" => "Caribbean",
                    "VE" | "CO" | "EC" | "BR" => "South America",
                    "AF" => "Asia",
                    _ => "other",
                }
                .to_owned(),
                "language" if level == 0 => k.language.clone(),
                "language" => (if k.language == "es" { "Spanish" } else { "not Spanish" }).to_owned(),
                "age_band" => age_band(k.age, level),
                other => panic!("unknown quasi-identifier {other}"),
            }
        };
        out.insert(q.column.clone(), v);
    }
    out
}

fn age_band(age: Option<u16>, level: usize) -> String {
    let Some(a) = age else { return "unknown".into() };
    if a < 18 {
        return "under 18".into();
    }
    let tops: &[(u16, &str)] = match level {
        0 => &[
            (24, "18-24"),
            (29, "25-29"),
            (34, "30-34"),
            (39, "35-39"),
            (44, "40-44"),
            (49, "45-49"),
            (54, "50-54"),
            (59, "55-59"),
            (64, "60-64"),
            (u16::MAX, "65 and over"),
        ],
        1 => &[(24, "18-24"), (34, "25-34"), (44, "35-44"), (54, "45-54"), (u16::MAX, "55 and over")],
        2 => &[(34, "18-34"), (54, "35-54"), (u16::MAX, "55 and over")],
        _ => &[(u16::MAX, "18 and over")],
    };
    tops.iter().find(|(t, _)| a <= *t).unwrap().1.to_owned()
}

#[test]
fn a_linkage_attacker_with_an_outside_list_finds_no_record_with_fewer_than_k_matches() {
    let p = provider(600, 41);
    let evaluator = RecoveryIdentity::generate();
    let opened = open(&p, &evaluator, &ExtractOptions::new("nyc-2026"));
    let d = &opened.dictionary;
    let table = rows(&opened.parquet);
    assert_eq!(table.len() as u64, d.records);
    assert!(d.records >= 200, "{} records", d.records);
    // The outside list: every randomized participant, with what a data broker or a court
    // calendar might hold.
    let as_of = caseward::Date::today();
    let known: Vec<Known> =
        p.ids.iter().filter_map(|&c| Known::of(&p.vault.client_record(c).unwrap(), as_of)).collect();
    let mut classes: HashMap<Vec<String>, usize> = HashMap::new();
    for row in &table {
        *classes.entry(row_class(d, row)).or_insert(0) += 1;
    }
    let smallest = classes.values().copied().min().unwrap();
    let matches: Vec<usize> = known.iter().map(|k| classes.get(&known_class(d, k)).copied().unwrap_or(0)).collect();
    let found = matches.iter().filter(|&&m| m > 0).count();
    let fewest = matches.iter().copied().filter(|&m| m > 0).min().unwrap();
    let levels: Vec<String> = d.quasi_identifiers.iter().map(|q| format!("{}={}", q.column, q.meaning)).collect();
    println!(
        "extract: {} records, {} suppressed, smallest class {smallest}; outside list of {} participants: {found} \
         found, fewest matches {fewest}; levels: {}",
        d.records,
        d.suppressed,
        known.len(),
        levels.join("; ")
    );
    assert_eq!(smallest as u64, d.smallest_class);
    assert!(smallest >= 11, "a class of {smallest}");
    assert!(fewest >= 11, "a participant matches only {fewest} records");
    assert_eq!(found as u64 + d.suppressed, known.len() as u64, "every participant is in, or suppressed");
    assert!(d.suppressed == 0 || d.suppressed >= 11);
    // The attack has teeth: the same outside list against the most detailed level of every
    // quasi-identifier singles people out.
    let mut raw: HashMap<String, usize> = HashMap::new();
    for k in &known {
        let detail = (k.age, k.enrolled, &k.site, &k.nationality, &k.language, k.periods, k.exited);
        *raw.entry(format!("{detail:?}")).or_insert(0) += 1;
    }
    assert!(raw.values().any(|&n| n < 11), "the ungeneralized data would have small classes");
}

#[test]
fn an_extract_holds_no_free_text_no_relief_and_no_vawa_client() {
    let p = provider(300, 42);
    // Canaries in a case note and in protected relief of a participant, and one participant
    // moved to a VAWA-grantee program after the draw.
    let participants: Vec<ClientId> = p
        .ids
        .iter()
        .copied()
        .filter(|&c| p.vault.client_record(c).unwrap().enrollment().unwrap().randomization.is_some())
        .collect();
    let canary = "QZXCANARY-note-7731";
    p.vault
        .add_record(
            participants[0],
            &caseward::Record::Note(caseward::CaseNote {
                date: caseward::Date::from_ymd(2026, 3, 2).unwrap(),
                author: "cw-1".into(),
                text: canary.into(),
                psychotherapy: false,
            }),
        )
        .unwrap();
    // A U visa filed after the draw, with a canary in its stage: the client stays a row (a
    // participant missing from the extract would tell a reader with a list who has it), and
    // nothing of the relief is in the file.
    let relief_canary = "QZXCANARY-relief-5521";
    p.vault.add_record(participants[2], &caseward::Record::Legal(u_visa(relief_canary))).unwrap();
    p.vault.update_enrollment(participants[1], |e| e.vawa_grantee = true).unwrap();
    let a = p.vault.identity(participants[1]).unwrap().a_number;
    let vawa_pseudonym = p.vault.pseudonym(caseward::Domain::Evaluation, &Epoch::new("eval-1").unwrap(), a.as_str());
    assert_eq!(vawa_pseudonym.unwrap_err().kind(), ErrorKind::Denied, "never pseudonymized");
    let evaluator = RecoveryIdentity::generate();
    let opened = open(&p, &evaluator, &ExtractOptions::new("eval-1"));
    let text = String::from_utf8_lossy(&opened.parquet).into_owned();
    assert!(!text.contains(canary) && !text.contains("cw-1"), "free text in the Parquet file");
    assert!(!text.contains(relief_canary) && !text.contains("UVisa") && !text.contains("u_visa"), "relief in the file");
    assert!(!text.contains(a.as_str()), "an A-number in the Parquet file");
    let table = rows(&opened.parquet);
    let participants_left = participants.len() - 1;
    assert_eq!(
        table.len() as u64 + opened.dictionary.suppressed,
        participants_left as u64,
        "the VAWA client is left out, the U-visa holder is not"
    );
    for column in table[0].keys() {
        assert!(!column.contains("relief") && !column.contains("note"), "{column}");
    }
}

#[test]
fn an_evaluation_is_extracted_once_and_every_misuse_is_refused() {
    let p = provider(200, 43);
    let evaluator = RecoveryIdentity::generate();
    let logged = p.vault.read_log().unwrap().len();
    let opened = open(&p, &evaluator, &ExtractOptions::new("eval-a"));
    assert_eq!(p.vault.read_log().unwrap().len(), logged + 1, "the extract is logged");
    assert_eq!(p.vault.released_extracts().unwrap(), vec![opened.dictionary.clone()]);
    let logged = logged + 1;
    // A second extract of the same evaluation is refused.
    let err = p.vault.evaluator_extract(&ExtractOptions::new("eval-a"), &[evaluator.recipient()]).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::InvalidInput);
    assert!(err.to_string().contains("extracted already"), "{err}");
    // Bad options.
    for options in [
        ExtractOptions { k: 1, ..ExtractOptions::new("eval-b") },
        ExtractOptions { max_suppressed_percent: 60, ..ExtractOptions::new("eval-b") },
        ExtractOptions::new("Eval B"),
        ExtractOptions { k: 5_000, ..ExtractOptions::new("eval-b") },
    ] {
        let err = p.vault.evaluator_extract(&options, &[evaluator.recipient()]).unwrap_err();
        assert_eq!(err.kind(), ErrorKind::InvalidInput, "{options:?}: {err}");
    }
    assert!(p.vault.evaluator_extract(&ExtractOptions::new("eval-b"), &[]).is_err(), "no recipient");
    // The default policy gives the evaluator nothing.
    p.vault.install_policy(&Policy::default_policy().unwrap()).unwrap();
    let logged = logged + 1; // the policy change
    let err = p.vault.evaluator_extract(&ExtractOptions::new("eval-b"), &[evaluator.recipient()]).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Denied, "{err}");
    assert_eq!(p.vault.read_log().unwrap().len(), logged, "refusals log nothing");
    assert_eq!(p.vault.released_extracts().unwrap().len(), 1);

    // The same people under another id: refused, each person is extracted once (two extracts
    // of one person differ by what happened in between).
    p.vault.install_policy(&evaluation_policy()).unwrap();
    let err = p.vault.evaluator_extract(&ExtractOptions::new("eval-c"), &[evaluator.recipient()]).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::InvalidInput, "{err}");
    assert!(err.to_string().contains("extracted once"), "{err}");
    assert_eq!(p.vault.released_extracts().unwrap().len(), 1);

    // The evaluator's side: another identity cannot open it, and a Parquet file swapped for
    // another provider's (encrypted to the same evaluator) fails the signed hash.
    let (q, r) = (provider(600, 44), provider(600, 45));
    let files = q.vault.evaluator_extract(&ExtractOptions::new("eval-c"), &[evaluator.recipient()]).unwrap();
    let stranger = RecoveryIdentity::generate();
    let err = extract::open(&files.parquet, &files.dictionary, &stranger, None).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::WrongKey, "{err}");
    let other = r.vault.evaluator_extract(&ExtractOptions::new("eval-c"), &[evaluator.recipient()]).unwrap();
    let err = extract::open(&other.parquet, &files.dictionary, &evaluator, None).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Integrity, "{err}");
    assert!(extract::open(&files.parquet, &files.dictionary, &evaluator, None).is_ok());
}
