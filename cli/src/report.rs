//! `caseward keygen`, `caseward provider` and `caseward report build|open|merge`: the board's
//! side of reports, and the provider's command to send one.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use caseward::report::bundle::{open_bundle, Origin, SignedReport};
use caseward::report::merge::{merge, one_per_provider, Input};
use caseward::report::noise::NOISY_CONFIDENCE;
use caseward::report::{readable, Cell, Mechanism, Method, Period, Registry, ReportOptions, Table};
use caseward::{Date, Error, RecoveryIdentity, RecoveryRecipient, Vault};

use crate::neutral::{csv_field, term};
use crate::secret;

/// Why `report open` or `report merge` stopped: a refused bundle is a finding (exit 1); anything
/// else is bad usage or input (exit 2), as everywhere in `caseward`.
#[derive(Debug)]
pub enum Failure {
    /// A bundle or a set of bundles was refused; the reason, on one line.
    Refused(String),
    /// Any other error.
    Other(Error),
}

impl From<Error> for Failure {
    fn from(e: Error) -> Self {
        Self::Other(e)
    }
}

/// The exit status and the one line on standard error that a failure gets.
pub fn exit(result: Result<(), Failure>) -> std::process::ExitCode {
    let (code, text) = match result {
        Ok(()) => return std::process::ExitCode::SUCCESS,
        Err(Failure::Refused(why)) => (1, why),
        Err(Failure::Other(e)) => (2, e.to_string()),
    };
    // A reason may quote a provider's own text: one line, with no live control characters.
    eprintln!("caseward: {}", term(&text));
    std::process::ExitCode::from(code)
}

/// Writes a new board identity (an age X25519 identity file) and prints its recipient.
pub fn keygen(out: &Path) -> Result<(), Error> {
    let identity = RecoveryIdentity::generate();
    let recipient = identity.recipient();
    let text = zeroize::Zeroizing::new(format!(
        "# caseward board identity (age X25519); keep it offline and private\n# public key: {recipient}\n{}\n",
        identity.to_secret_string().as_str()
    ));
    write_new_private(out, text.as_bytes())?;
    println!("{recipient}");
    Ok(())
}

fn write_new_private(path: &Path, bytes: &[u8]) -> Result<(), Error> {
    crate::output::write_file(path, bytes, true)
}

/// Sets (optionally) and prints the provider's id and signing key as a registry line.
pub fn provider(vault: &Path, id: Option<&str>, passphrase_file: Option<&Path>) -> Result<(), Error> {
    let v = Vault::open(vault, &secret::passphrase(passphrase_file, false)?)?;
    if let Some(id) = id {
        v.set_provider_id(id)?;
    }
    let id = v.provider_id()?.ok_or_else(|| Error::InvalidInput("no provider id yet: pass --id".into()))?;
    // Valid TOML as it stands: the board appends it to its registry, or starts one with it.
    println!("# caseward provider key: append to the board's registry file\n{id} = \"{}\"", v.signing_public_key()?);
    v.close()
}

pub fn recipients(args: &[String]) -> Result<Vec<RecoveryRecipient>, Error> {
    let mut out = Vec::new();
    for a in args {
        if a.starts_with("age1") {
            out.push(RecoveryRecipient::parse(a)?);
        } else {
            let text = std::fs::read_to_string(a).map_err(|e| {
                Error::InvalidInput(format!("{a}: not an age1... recipient, and not a readable file ({})", e.kind()))
            })?;
            for line in text.lines().map(str::trim).filter(|l| !l.is_empty() && !l.starts_with('#')) {
                out.push(RecoveryRecipient::parse(line)?);
            }
        }
    }
    if out.is_empty() {
        return Err(Error::InvalidInput("give at least one board recipient with --to".into()));
    }
    Ok(out)
}

fn site_numbers(args: &[String], what: &str) -> Result<BTreeMap<String, u64>, Error> {
    args.iter()
        .map(|a| {
            // The number is last: a site label may itself hold '='.
            let (site, n) = a
                .rsplit_once('=')
                .ok_or_else(|| Error::InvalidInput(format!("--{what} takes SITE=NUMBER, not {a:?}")))?;
            let n = n
                .trim()
                .parse::<u64>()
                .map_err(|_| Error::InvalidInput(format!("--{what}: {n:?} is not a whole number")))?;
            Ok((site.trim().to_owned(), n))
        })
        .collect()
}

/// The options of `report build`.
pub struct BuildArgs<'a> {
    pub vault: &'a Path,
    pub period: &'a str,
    pub to: &'a [String],
    pub out: &'a Path,
    pub method: &'a str,
    pub capacity: &'a [String],
    pub declined: &'a [String],
    pub expenditure: &'a [String],
    pub revise: Option<&'a str>,
    pub passphrase_file: Option<&'a Path>,
}

/// Builds, signs and encrypts a report.
pub fn build(a: &BuildArgs<'_>) -> Result<(), Error> {
    let period: Period = a.period.parse()?;
    // Before the passphrase is asked for; the library refuses it again before signing.
    period.ensure_ended(Date::today())?;
    let method = match a.method {
        "suppress" => Method::default(),
        other => Method::Noise { mechanism: Mechanism::parse(other)? },
    };
    let options = ReportOptions {
        method,
        capacity: site_numbers(a.capacity, "capacity")?,
        declined_offers: site_numbers(a.declined, "declined")?,
        expenditure_usd: site_numbers(a.expenditure, "expenditure")?,
        revise: a.revise.map(str::to_owned),
    };
    let to = recipients(a.to)?;
    if a.out.exists() {
        return Err(Error::InvalidInput(format!("{} exists; caseward never overwrites it", a.out.display())));
    }
    let v = Vault::open(a.vault, &secret::passphrase(a.passphrase_file, false)?)?;
    let released = v.released_revision(period)?;
    let bytes = v.board_report(period, &options, &to)?;
    match (released, a.revise) {
        (Some(n), None) => println!(
            "{period} was released before (revision {n}); the same signed report is written again. \
             To publish corrected numbers: --revise REASON"
        ),
        (Some(n), Some(_)) => println!("{period}: revision {} of the release", n + 1),
        _ => {}
    }
    write_new_private(a.out, &bytes)?;
    let head = v.log_head()?.map(|h| h.to_string()).unwrap_or_default();
    println!(
        "wrote {} ({} bytes, age-encrypted to {} recipient(s)); log head {head}",
        a.out.display(),
        bytes.len(),
        to.len()
    );
    v.close()
}

pub fn identity(path: &Path) -> Result<RecoveryIdentity, Error> {
    let text = zeroize::Zeroizing::new(
        std::fs::read_to_string(path)
            .map_err(|e| Error::InvalidInput(format!("cannot read the identity file: {}", e.kind())))?,
    );
    RecoveryIdentity::parse(&text)
}

fn open_all(files: &[PathBuf], id: &Path, providers: Option<&Path>) -> Result<Vec<Input>, Failure> {
    let identity = identity(id)?;
    let registry = providers.map(Registry::load).transpose()?;
    files
        .iter()
        .map(|f| {
            let bytes = std::fs::read(f).map_err(|e| Error::InvalidInput(format!("{}: {}", f.display(), e.kind())))?;
            let bundle = open_bundle(&bytes, &identity, registry.as_ref()).map_err(|e| match e {
                Error::Bundle(p) => Failure::Refused(format!("{}: report bundle refused: {p}", f.display())),
                other => Failure::Other(other),
            })?;
            Ok(Input { name: f.display().to_string(), bundle })
        })
        .collect()
}

fn origin_line(r: &SignedReport) -> String {
    let (provider, signer) = (term(&r.report.provider), term(&r.signer));
    match r.origin {
        Origin::Registered => format!("signature verified: {provider} ({signer})"),
        Origin::Unchecked => format!(
            "WARNING: signature valid but NOT checked against a registry (pass --providers): claims to be {provider} ({signer})"
        ),
    }
}

/// JSON for standard output, with the characters serde_json leaves raw escaped.
fn print_json(v: &serde_json::Value) {
    println!("{}", crate::neutral::json(&serde_json::to_string_pretty(v).unwrap_or_default()));
}

/// Where `report open` and `report merge` put their results besides the terminal.
pub struct Outputs<'a> {
    pub csv: Option<&'a Path>,
    pub html: Option<&'a Path>,
    pub json: bool,
}

/// Opens one bundle: verifies it and prints its tables (and writes CSV files).
pub fn open(file: &Path, id: &Path, providers: Option<&Path>, out: &Outputs<'_>) -> Result<(), Failure> {
    let (csv, html) = (out.csv, out.html);
    let reports: Vec<SignedReport> =
        open_all(&[file.to_path_buf()], id, providers)?.into_iter().map(|i| i.bundle).collect();
    if out.json {
        for r in &reports {
            print_json(&serde_json::json!({
                "signature": { "signer": r.signer, "checked_against_registry": r.origin == Origin::Registered },
                "report": r.report,
            }));
        }
        return Ok(());
    }
    for r in &reports {
        let rep = &r.report;
        println!("{}", origin_line(r));
        println!(
            "provider {} · period {} · policy {} · method {}",
            term(&rep.provider),
            rep.period,
            term(&rep.policy),
            method_text(&rep.method)
        );
        if let Some(h) = &rep.log_head {
            let h = term(h);
            println!("disclosure-log head {h} (check with: caseward audit verify VAULT --witness {h})");
        }
        if let Some(rev) = &rep.revision {
            println!("REVISION {} of {}: {}", rev.number, rep.period, term(&rev.reason));
        }
        if rep.rho_micros > 0 {
            println!("privacy budget spent: rho {:.6}", rep.rho_micros as f64 / 1e6);
        }
        for (site, slots) in &rep.capacity {
            println!("capacity {}: {slots} funded slots", term(site));
        }
        if matches!(rep.method, Method::Noise { .. }) {
            println!(
                "noisy cells show value [low, high]: never below 0, totals the sum of their parts, and the \
                 true value in [low, high] with probability {NOISY_CONFIDENCE} % (--json keeps the signed raw values)"
            );
        }
        let tables: Vec<Table> = rep.tables.iter().map(readable).collect();
        print_tables(&tables);
        for o in &rep.omitted {
            println!("left out: {}", term(o));
        }
        if let Some(dir) = csv {
            write_csv(dir, &tables)?;
        }
        if let Some(path) = html {
            let title = format!("{} · board report for {}", rep.provider, rep.period);
            write_html(path, &crate::html::page(&title, std::slice::from_ref(r), &tables, &rep.omitted))?;
        }
    }
    Ok(())
}

fn write_html(path: &Path, page: &str) -> Result<(), Error> {
    std::fs::write(path, page)
        .map_err(|e| Error::InvalidInput(format!("cannot write {}: {}", path.display(), e.kind())))?;
    println!("\nwrote {}", path.display());
    Ok(())
}

/// Merges several bundles into national tables: one period, one bundle per provider; with
/// `replace_older`, a provider's newer bundle replaces its older one, and the output says so.
pub fn merge_files(
    files: &[PathBuf],
    id: &Path,
    providers: Option<&Path>,
    replace_older: bool,
    out: &Outputs<'_>,
) -> Result<(), Failure> {
    let (csv, html) = (out.csv, out.html);
    let selection = one_per_provider(open_all(files, id, providers)?, replace_older)
        .map_err(|e| Failure::Refused(e.to_string()))?;
    let reports: Vec<SignedReport> = selection.kept.into_iter().map(|i| i.bundle).collect();
    let merged = merge(&reports);
    if out.json {
        let signers: Vec<_> = reports
            .iter()
            .map(|r| serde_json::json!({ "provider": r.report.provider, "signer": r.signer, "checked_against_registry": r.origin == Origin::Registered, "log_head": r.report.log_head, "policy": r.report.policy }))
            .collect();
        let replaced: Vec<_> = selection
            .replaced
            .iter()
            .map(|r| serde_json::json!({ "provider": r.provider, "older": r.older, "older_log_seq": r.older_seq, "newer": r.newer, "newer_log_seq": r.newer_seq }))
            .collect();
        print_json(
            &serde_json::json!({ "providers": signers, "replaced": replaced, "tables": merged.tables, "not_merged": merged.skipped }),
        );
        return Ok(());
    }
    for r in &reports {
        println!("{}", origin_line(r));
    }
    for r in &selection.replaced {
        println!("replaced: {}", term(&r.to_string()));
    }
    let names: Vec<String> = merged.providers.iter().map(|p| term(p)).collect();
    println!("merged {} providers: {}", names.len(), names.join(", "));
    println!("cells any provider suppressed show as a range lo..hi (or >=lo), never as a number");
    if reports.iter().any(|r| matches!(r.report.method, Method::Noise { .. })) {
        println!(
            "noisy cells show value [low, high] (NN%), never below 0: a sum of providers' raw noisy values, and the \
             sum of their intervals, which holds with probability NN: {} % less per noisy part",
            100 - NOISY_CONFIDENCE
        );
    }
    let tables: Vec<Table> = merged.tables.iter().map(readable).collect();
    print_tables(&tables);
    for s in &merged.skipped {
        println!("not merged: {}", term(s));
    }
    if let Some(dir) = csv {
        write_csv(dir, &tables)?;
    }
    if let Some(path) = html {
        let period = periods_label(&reports);
        let title = format!("National tables for {period} from {} providers", merged.providers.len());
        let mut notes: Vec<String> = selection.replaced.iter().map(|r| format!("replaced: {r}")).collect();
        notes.extend(merged.skipped.iter().map(|s| format!("not merged: {s}")));
        write_html(path, &crate::html::page(&title, &reports, &tables, &notes))?;
    }
    Ok(())
}

fn periods_label(reports: &[SignedReport]) -> String {
    reports.first().map(|r| r.report.period.to_string()).unwrap_or_default()
}

fn method_text(m: &Method) -> String {
    match m {
        Method::Suppress { k } => format!("suppression (k = {k})"),
        Method::Noise { mechanism: Mechanism::Laplace { epsilon_num, epsilon_den } } => {
            format!("discrete Laplace, epsilon {epsilon_num}/{epsilon_den} per table")
        }
        Method::Noise { mechanism: Mechanism::Gaussian { rho_num, rho_den } } => {
            format!("discrete Gaussian, rho {rho_num}/{rho_den} per table")
        }
    }
}

fn cell_text(c: &Cell) -> String {
    match c {
        Cell::Suppressed => "suppressed".into(),
        other => other.to_string(),
    }
}

/// The header row, labels as the provider wrote them (each output neutralises its own way).
fn header(t: &Table) -> Vec<String> {
    let mut h: Vec<String> = std::iter::once(String::new()).chain(t.columns.iter().cloned()).collect();
    if t.row_totals {
        h.push("Total".into());
    }
    h
}

fn body(t: &Table) -> Vec<Vec<String>> {
    t.cells
        .iter()
        .enumerate()
        .map(|(i, row)| {
            let label = t.rows.get(i).cloned().unwrap_or_else(|| "Total".into());
            std::iter::once(label).chain(row.iter().map(cell_text)).collect()
        })
        .collect()
}

fn print_tables(tables: &[Table]) {
    for t in tables {
        println!();
        println!(
            "[{}] {} · {} · {} · {}{}{}",
            term(&t.id),
            term(&t.title),
            term(&t.covers),
            term(&t.geography),
            term(&t.unit),
            event_cap_text(t),
            if t.withheld { " · WITHHELD to protect small counts (see the notes)" } else { "" }
        );
        let head: Vec<String> = header(t).iter().map(|h| term(h)).collect();
        let rows: Vec<Vec<String>> = body(t).iter().map(|r| r.iter().map(|c| term(c)).collect()).collect();
        let mut widths: Vec<usize> = head.iter().map(|h| h.chars().count()).collect();
        for r in &rows {
            for (w, c) in widths.iter_mut().zip(r) {
                *w = (*w).max(c.chars().count());
            }
        }
        let line = |cells: &[String]| {
            cells.iter().zip(&widths).map(|(c, w)| format!("{c:>w$}", w = *w)).collect::<Vec<_>>().join("  ")
        };
        println!("{}", line(&head));
        for r in &rows {
            println!("{}", line(r));
        }
    }
}

/// `caseward report budget`: shows (and sets) the month's and the year's privacy budgets.
pub fn budget(v: &Vault, period: &str, set_period: Option<&str>, set_year: Option<&str>) -> Result<(), Error> {
    let period: Period = period.parse()?;
    // Rho in the form gaussian:RHO takes: a decimal or a fraction.
    let micros = |text: &str| -> Result<u64, Error> { Ok(Mechanism::parse(&format!("gaussian:{text}"))?.rho_micros()) };
    // Both parsed before either is set: a typo changes nothing.
    let (set_period, set_year) = (set_period.map(micros).transpose()?, set_year.map(micros).transpose()?);
    if set_period == Some(0) || set_year == Some(0) {
        return Err(Error::InvalidInput("a privacy budget must be positive".into()));
    }
    if let Some(r) = set_period {
        v.set_privacy_budget(r)?;
    }
    if let Some(r) = set_year {
        v.set_yearly_privacy_budget(r)?;
    }
    let rho = |m: u64| format!("{}.{:06}", m / 1_000_000, m % 1_000_000);
    let (spent, limit) = v.privacy_budget(period)?;
    let (year_spent, year_limit) = v.yearly_privacy_budget(period)?;
    println!("period {period}: spent rho {} of {}", rho(spent), rho(limit));
    println!("year {}: spent rho {} of {}", period.year(), rho(year_spent), rho(year_limit));
    Ok(())
}

/// The per-person bound a noisy events table states, in words.
pub(crate) fn event_cap_text(t: &Table) -> String {
    t.event_cap.map(|n| format!(" · at most {n} events per person per cell")).unwrap_or_default()
}

/// A file name from a provider's table id and period: letters, digits and `-` only, so no
/// label can reach outside the folder or hide a file.
fn file_part(label: &str) -> String {
    let safe: String =
        label.chars().take(40).map(|c| if c.is_ascii_alphanumeric() || c == '-' { c } else { '_' }).collect();
    if safe.is_empty() {
        "_".into()
    } else {
        safe
    }
}

fn write_csv(dir: &Path, tables: &[Table]) -> Result<(), Error> {
    std::fs::create_dir_all(dir)?;
    let mut used = std::collections::BTreeSet::new();
    for t in tables {
        let stem = format!("{}_{}", file_part(&t.id), file_part(&t.covers));
        // Two labels may fold to one name; never let one table overwrite another.
        let name = (1..)
            .map(|n| if n == 1 { format!("{stem}.csv") } else { format!("{stem}-{n}.csv") })
            .find(|n| !used.contains(n))
            .unwrap_or_default();
        used.insert(name.clone());
        let path = dir.join(name);
        let mut w = csv::Writer::from_path(&path)
            .map_err(|_| Error::InvalidInput(format!("cannot write {}", path.display())))?;
        let mut head = header(t);
        if let Some(first) = head.first_mut() {
            first.clone_from(&t.geography);
        }
        let result = std::iter::once(head)
            .chain(body(t))
            .try_for_each(|r| w.write_record(r.iter().map(|f| csv_field(f))))
            .and_then(|()| w.flush().map_err(csv::Error::from));
        result.map_err(|_| Error::InvalidInput(format!("cannot write {}", path.display())))?;
    }
    write_cells_csv(&dir.join(CELLS_CSV), tables)?;
    println!(
        "\nwrote {} table CSV files and {CELLS_CSV} (one numeric row per cell) to {}",
        tables.len(),
        dir.display()
    );
    Ok(())
}

/// The long, numeric form of every table, for R, pandas or a spreadsheet's pivot: the per-table
/// files are for reading, this one for computing. Its name cannot clash with a table's file,
/// which always has an `_` between id and period.
const CELLS_CSV: &str = "cells.csv";

/// The columns of [`CELLS_CSV`].
const CELLS_HEADER: [&str; 12] =
    ["table", "covers", "geography", "unit", "row", "column", "status", "value", "low", "high", "confidence", "title"];

/// One cell as numbers: `status`, then `value`, `low` and `high` (integers, or empty where the
/// cell states none) and the interval's `confidence` in percent (empty where the range is
/// certain). `low` and `high` are what the cell itself states; counts are never negative, so a
/// noisy interval's low end is clamped at 0 (its `value` is not).
fn cell_numbers(c: &Cell) -> [String; 5] {
    let n = |v: u64| v.to_string();
    let none = String::new;
    match c {
        Cell::Count(v) => ["exact".into(), n(*v), n(*v), n(*v), none()],
        Cell::Suppressed => ["suppressed".into(), none(), none(), none(), none()],
        Cell::Noisy { value, .. } => {
            let (low, high) = c.noisy_interval().unwrap_or((*value, *value));
            let clamp = |x: i64| u64::try_from(x).unwrap_or(0);
            ["noisy".into(), value.to_string(), n(clamp(low)), n(clamp(high)), NOISY_CONFIDENCE.to_string()]
        }
        Cell::Bound { low, high, confidence } => [
            "bound".into(),
            none(),
            n(*low),
            high.map(n).unwrap_or_default(),
            confidence.map(|c| c.to_string()).unwrap_or_default(),
        ],
        Cell::Estimate { value, low, high, confidence, .. } => {
            ["estimate".into(), value.to_string(), n(*low), n(*high), confidence.to_string()]
        }
    }
}

fn write_cells_csv(path: &Path, tables: &[Table]) -> Result<(), Error> {
    let cannot = |_| Error::InvalidInput(format!("cannot write {}", path.display()));
    let mut w = csv::Writer::from_path(path).map_err(cannot)?;
    w.write_record(CELLS_HEADER).map_err(cannot)?;
    for t in tables {
        let columns: Vec<String> = header(t).into_iter().skip(1).collect();
        for (ri, row) in t.cells.iter().enumerate() {
            let label = t.rows.get(ri).cloned().unwrap_or_else(|| "Total".into());
            for (cell, column) in row.iter().zip(&columns) {
                let [status, value, low, high, confidence] = cell_numbers(cell);
                // Text a provider controls is neutralised; the numbers are ours, and a negative
                // noisy value must stay a number (csv_field would quote its leading '-').
                let text = |f: &str| csv_field(f);
                let record = [
                    text(&t.id),
                    text(&t.covers),
                    text(&t.geography),
                    text(&t.unit),
                    text(&label),
                    text(column),
                    status,
                    value,
                    low,
                    high,
                    confidence,
                    text(&t.title),
                ];
                w.write_record(&record).map_err(cannot)?;
            }
        }
    }
    w.flush().map_err(|e| cannot(csv::Error::from(e)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cells_are_numbers_and_a_negative_noisy_value_stays_one() {
        let row = |c: Cell| cell_numbers(&c).to_vec();
        assert_eq!(row(Cell::Count(12)), ["exact", "12", "12", "12", ""]);
        assert_eq!(row(Cell::Suppressed), ["suppressed", "", "", "", ""]);
        // The value is as published (noise may take it below 0); the interval's low end is not.
        let noisy = Cell::Noisy { value: -3, variance: 8.0, half_width: Some(5) };
        assert_eq!(row(noisy), ["noisy", "-3", "0", "2", "95"]);
        assert_eq!(row(Cell::Bound { low: 4, high: None, confidence: None }), ["bound", "", "4", "", ""]);
        assert_eq!(row(Cell::Bound { low: 4, high: Some(9), confidence: Some(90) }), ["bound", "", "4", "9", "90"]);
        let estimate = Cell::Estimate { value: 40, variance: 3.0, low: 30, high: 50, confidence: 90 };
        assert_eq!(row(estimate), ["estimate", "40", "30", "50", "90"]);
    }
}
