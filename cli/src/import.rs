//! `caseward import VAULT FILE.csv`: intake from a spreadsheet export.
//!
//! The column set is documented in `examples/intake-template.csv` and the README. Every row is
//! parsed and checked first; every problem is reported with its row number, column and reason
//! (never the cell's content: it is client data); nothing is stored unless every row is valid,
//! and then all rows are enrolled in one transaction.

use std::collections::{BTreeMap, HashSet};
use std::io::IsTerminal;
use std::path::Path;

use caseward::{
    AlienNumber, BirthDate, Date, DatePrecision, DateProvenance, Enrollment, Error, HouseholdLink, Identity, Intake,
    PersonName, Record, Relationship, ReleaseBasis, Surname, SurnameRole, Vault,
};

/// The columns, in the template's order. `*` marks the required ones.
pub const COLUMNS: &[(&str, bool, &str)] = &[
    ("a_number", true, "the A-number in any written form (A123-456-789, USCIS# 123 456 789 ...)"),
    ("name_dhs", true, "the name exactly as on ICE/EOIR paperwork"),
    ("given_names", false, "given names as the client writes them"),
    ("surnames", false, "surnames, separated by ';'"),
    ("birth_date", false, "YYYY, YYYY-MM or YYYY-MM-DD"),
    ("birth_date_source", false, "document, self_report or assigned_by_authority (1 January from DHS paperwork)"),
    ("nationality", false, "countries, separated by ';'"),
    ("languages", false, "languages, preferred first, separated by ';'"),
    ("interpreter_needed", false, "yes or no"),
    ("sex", false, "as the client states it"),
    ("phones", false, "separated by ';'"),
    ("emails", false, "separated by ';'"),
    ("site", true, "the provider's site id"),
    ("enrolled_on", true, "YYYY-MM-DD"),
    ("release_basis", false, "atd, parole, bond, orec, osup or nta_only"),
    ("vawa_grantee", false, "yes if served under a VAWA/FVPSA/VOCA grant (aggregates only, never an ICE notice)"),
    ("household_id", false, "the provider's household id, for families"),
    ("relationship", false, "lead, spouse, child, parent, sibling or other (to the household lead)"),
    ("lead_a_number", false, "the family case's lead A-number, for members other than the lead"),
];

/// One problem in the file: where, and what, never the cell's content.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    /// 1-based line of the file (the header is line 1).
    pub row: usize,
    /// The column, or `-` for the whole row.
    pub column: String,
    /// Why.
    pub reason: String,
}

impl std::fmt::Display for Problem {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "row {}, column {}: {}", self.row, self.column, self.reason)
    }
}

fn list(cell: &str) -> Vec<String> {
    cell.split(';').map(str::trim).filter(|s| !s.is_empty()).map(str::to_owned).collect()
}

fn yes_no(cell: &str) -> Result<bool, String> {
    match cell.trim().to_ascii_lowercase().as_str() {
        "" | "no" | "n" | "false" | "0" => Ok(false),
        "yes" | "y" | "true" | "1" => Ok(true),
        _ => Err("expected yes or no".into()),
    }
}

fn birth_date(cell: &str, source: &str) -> Result<Option<BirthDate>, String> {
    let cell = cell.trim();
    if cell.is_empty() {
        return Ok(None);
    }
    let provenance = match source.trim() {
        "" => DateProvenance::Unknown,
        "document" => DateProvenance::Document,
        "self_report" => DateProvenance::SelfReport,
        "assigned_by_authority" => DateProvenance::AssignedByAuthority,
        _ => return Err("birth_date_source must be document, self_report or assigned_by_authority".into()),
    };
    let parts: Vec<&str> = cell.split('-').collect();
    let num = |s: &str| s.parse::<u16>().map_err(|_| "a birth date is YYYY, YYYY-MM or YYYY-MM-DD".to_owned());
    let (year, month, day, precision) = match parts.as_slice() {
        [y] => (num(y)?, None, None, DatePrecision::Year),
        [y, m] => (num(y)?, Some(num(m)?), None, DatePrecision::Month),
        [y, m, d] => (num(y)?, Some(num(m)?), Some(num(d)?), DatePrecision::Day),
        _ => return Err("a birth date is YYYY, YYYY-MM or YYYY-MM-DD".into()),
    };
    let narrow = |v: Option<u16>| v.map(|x| u8::try_from(x).map_err(|_| "not a real date".to_owned())).transpose();
    BirthDate::new(year, narrow(month)?, narrow(day)?, precision, provenance).map(Some).map_err(|e| short(&e))
}

/// The core error's text without its "invalid input:" prefix.
fn short(e: &Error) -> String {
    let text = e.to_string();
    text.strip_prefix("invalid input: ").unwrap_or(&text).to_owned()
}

/// Parses and checks every row. Returns the intakes, or every problem found.
pub fn parse(text: &str) -> Result<Vec<Intake>, Vec<Problem>> {
    let mut problems = Vec::new();
    let mut reader = csv::ReaderBuilder::new().flexible(false).from_reader(text.as_bytes());
    let headers: Vec<String> = match reader.headers() {
        Ok(h) => h.iter().map(|c| c.trim().trim_start_matches('\u{feff}').to_owned()).collect(),
        Err(_) => return Err(vec![Problem { row: 1, column: "-".into(), reason: "the header row is not CSV".into() }]),
    };
    let index: BTreeMap<&str, usize> = headers.iter().enumerate().map(|(i, h)| (h.as_str(), i)).collect();
    for (name, required, _) in COLUMNS {
        if *required && !index.contains_key(name) {
            problems.push(Problem { row: 1, column: (*name).into(), reason: "required column missing".into() });
        }
    }
    for h in &headers {
        if !COLUMNS.iter().any(|(n, _, _)| n == h) {
            problems.push(Problem {
                row: 1,
                column: h.clone(),
                reason: "unknown column (see examples/intake-template.csv)".into(),
            });
        }
    }
    // Header problems are reported together with the rows' problems, so one run shows them all.
    let mut intakes = Vec::new();
    let mut seen: HashSet<String> = HashSet::new();
    for (i, record) in reader.records().enumerate() {
        let row = i + 2;
        let record = match record {
            Ok(r) => r,
            Err(_) => {
                problems.push(Problem {
                    row,
                    column: "-".into(),
                    reason: "not a CSV row with the header's columns".into(),
                });
                continue;
            }
        };
        let cell = |name: &str| index.get(name).and_then(|&i| record.get(i)).unwrap_or("").trim();
        let mut bad = |column: &str, reason: String| problems.push(Problem { row, column: column.into(), reason });
        for (name, required, _) in COLUMNS {
            if *required && index.contains_key(name) && cell(name).is_empty() {
                bad(name, "required, but empty".into());
            }
        }
        let a_number = match AlienNumber::parse(cell("a_number")) {
            Ok(a) => Some(a),
            Err(e) => {
                if !cell("a_number").is_empty() {
                    bad("a_number", short(&e));
                }
                None
            }
        };
        if let Some(a) = &a_number {
            if !seen.insert(a.as_str().to_owned()) {
                bad("a_number", "the same A-number is on an earlier row".into());
            }
        }
        let enrolled_on = match Date::parse(cell("enrolled_on")) {
            Ok(d) => Some(d),
            Err(_) => {
                if !cell("enrolled_on").is_empty() {
                    bad("enrolled_on", "not a date (YYYY-MM-DD)".into());
                }
                None
            }
        };
        let dob = birth_date(cell("birth_date"), cell("birth_date_source")).unwrap_or_else(|r| {
            bad("birth_date", r);
            None
        });
        let interpreter = yes_no(cell("interpreter_needed")).unwrap_or_else(|r| {
            bad("interpreter_needed", r);
            false
        });
        let vawa = yes_no(cell("vawa_grantee")).unwrap_or_else(|r| {
            bad("vawa_grantee", r);
            false
        });
        let release_basis = match cell("release_basis") {
            "" => None,
            "atd" => Some(ReleaseBasis::Atd),
            "parole" => Some(ReleaseBasis::Parole),
            "bond" => Some(ReleaseBasis::Bond),
            "orec" => Some(ReleaseBasis::Orec),
            "osup" => Some(ReleaseBasis::Osup),
            "nta_only" => Some(ReleaseBasis::NtaOnly),
            _ => {
                bad("release_basis", "must be atd, parole, bond, orec, osup or nta_only".into());
                None
            }
        };
        let relationship = match cell("relationship") {
            "" | "lead" => Relationship::Lead,
            "spouse" => Relationship::Spouse,
            "child" => Relationship::Child,
            "parent" => Relationship::Parent,
            "sibling" => Relationship::Sibling,
            "other" => Relationship::Other,
            _ => {
                bad("relationship", "must be lead, spouse, child, parent, sibling or other".into());
                Relationship::Other
            }
        };
        let lead_a_number = match cell("lead_a_number") {
            "" => None,
            text => AlienNumber::parse(text).map(Some).unwrap_or_else(|e| {
                bad("lead_a_number", short(&e));
                None
            }),
        };
        let (Some(a_number), Some(enrolled_on)) = (a_number, enrolled_on) else { continue };
        let name = PersonName {
            verbatim_dhs: cell("name_dhs").to_owned(),
            given: list(cell("given_names"))
                .into_iter()
                .flat_map(|g| g.split_whitespace().map(str::to_owned).collect::<Vec<_>>())
                .collect(),
            surnames: list(cell("surnames"))
                .into_iter()
                .map(|text| Surname { text, role: SurnameRole::Other })
                .collect(),
            ..PersonName::default()
        };
        let mut identity = match Identity::new(a_number.as_str(), name) {
            Ok(i) => i,
            Err(e) => {
                bad("a_number", short(&e));
                continue;
            }
        };
        cell("a_number").clone_into(&mut identity.a_number_as_entered);
        identity.dob = dob;
        identity.nationality = list(cell("nationality"));
        identity.languages = list(cell("languages"));
        identity.interpreter_needed = interpreter;
        identity.sex_gender = Some(cell("sex")).filter(|s| !s.is_empty()).map(str::to_owned);
        identity.phones = list(cell("phones"));
        identity.emails = list(cell("emails"));
        if !index.contains_key("site") {
            continue;
        }
        let mut enrollment = Enrollment::new(cell("site"), enrolled_on);
        enrollment.release_basis = release_basis;
        enrollment.vawa_grantee = vawa;
        let mut records = Vec::new();
        if !cell("household_id").is_empty() {
            records.push(Record::Household(HouseholdLink {
                household_id: cell("household_id").to_owned(),
                lead_a_number,
                size: None,
                minors: None,
                relationship,
            }));
        }
        intakes.push(Intake { identity, enrollment, records });
    }
    if problems.is_empty() {
        Ok(intakes)
    } else {
        Err(problems)
    }
}

/// Imports a file into a vault: all rows or none.
pub fn run(vault: &Path, file: &Path, passphrase_file: Option<&Path>, json: bool) -> Result<bool, Error> {
    let text = std::fs::read_to_string(file)
        .map_err(|e| Error::InvalidInput(format!("cannot read {}: {}", file.display(), e.kind())))?;
    let tty = std::io::stderr().is_terminal() && !json;
    let intakes = match parse(&text) {
        Ok(i) => i,
        Err(problems) => {
            report_problems(&problems, json);
            return Ok(false);
        }
    };
    let v = Vault::open(vault, &crate::secret::passphrase(passphrase_file, false)?)?;
    let bar = tty.then(|| {
        let bar = indicatif::ProgressBar::new_spinner();
        bar.set_message(format!("enrolling {} clients in one transaction", intakes.len()));
        bar.enable_steady_tick(std::time::Duration::from_millis(120));
        bar
    });
    let started = std::time::Instant::now();
    // One transaction: the vault refuses the whole batch if any A-number is already enrolled,
    // and only then do we look up which rows those are, to report them.
    let result = v.enroll_many(&intakes);
    if let Some(bar) = bar {
        bar.finish_and_clear();
    }
    let ids = match result {
        Ok(ids) => ids,
        Err(e) if e.kind() == caseward::ErrorKind::InvalidInput => {
            let mut problems = Vec::new();
            for (i, intake) in intakes.iter().enumerate() {
                if v.find_by_a_number(intake.identity.a_number.as_str())?.is_some() {
                    problems.push(Problem {
                        row: i + 2,
                        column: "a_number".into(),
                        reason: "already enrolled in this vault".into(),
                    });
                }
            }
            v.close()?;
            if problems.is_empty() {
                return Err(e);
            }
            report_problems(&problems, json);
            return Ok(false);
        }
        Err(e) => return Err(e),
    };
    let secs = started.elapsed().as_secs_f64();
    if json {
        println!("{}", serde_json::json!({ "imported": ids.len(), "seconds": secs }));
    } else {
        println!("imported {} clients from {} in {secs:.1} s (one transaction)", ids.len(), file.display());
    }
    v.close()?;
    Ok(true)
}

fn report_problems(problems: &[Problem], json: bool) {
    if json {
        let list: Vec<_> = problems
            .iter()
            .map(|p| serde_json::json!({ "row": p.row, "column": p.column, "reason": p.reason }))
            .collect();
        println!("{}", serde_json::json!({ "imported": 0, "problems": list }));
    }
    for p in problems {
        eprintln!("caseward: {p}");
    }
    eprintln!("caseward: nothing imported: {} problem(s); fix them and run again", problems.len());
}
