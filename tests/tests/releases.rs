//! The release ledger, as a provider and a file-writing attacker meet it: a released period is
//! frozen (asking again sends the same signed report, whatever was entered since); corrections
//! go out only as an explicit revision that says so; a quarter's flows and a fiscal year's
//! participant-days are built on what the board already holds; and deleting or replaying the
//! ledger is an integrity error, never a quiet refreeze.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing, reason = "tests")]

use caseward::report::bundle::open_bundle;
use caseward::report::{Cell, Period, Report, ReportOptions, Revision, Table};
use caseward::synth::Synth;
use caseward::{Date, ErrorKind, Exit, ExitReason, RecoveryIdentity, Vault};
use caseward_tests::test_key;

const BIG: &str = "site-big";
const SMALL: &str = "site-small";

/// A provider that started in October 2025: `big` clients at one site and 6 at another, enrolled
/// one after the other over the year; every third big-site client leaves four months later.
fn provider(dir: &std::path::Path, big: u32) -> Vault {
    let vault = Vault::create_with_key(dir.join("p.cwv"), &test_key(41)).unwrap();
    vault.set_provider_id("test-provider").unwrap();
    let mut synth = Synth::new(41);
    let start = Date::from_ymd(2025, 10, 1).unwrap();
    let mut intakes = Vec::new();
    for i in 0..big + 6 {
        let mut intake = synth.intake();
        let enrolled = start.add_days(i64::from(i % big.max(1)) * 330 / i64::from(big.max(1)));
        intake.enrollment.site = if i < big { BIG } else { SMALL }.into();
        intake.enrollment.enrolled_on = if i < big { enrolled } else { start.add_days(i64::from(i - big) * 20) };
        intake.enrollment.exit = (i < big && i % 3 == 0)
            .then(|| Exit { date: enrolled.add_days(120), reason: ExitReason::Completed })
            .filter(|x| x.date < Date::from_ymd(2026, 10, 1).unwrap());
        intakes.push(intake);
    }
    vault.enroll_many(&intakes).unwrap();
    vault
}

fn release(vault: &Vault, board: &RecoveryIdentity, period: &str, revise: Option<&str>) -> Report {
    let mut options = ReportOptions { revise: revise.map(str::to_owned), ..ReportOptions::default() };
    options.expenditure_usd.insert(BIG.into(), 900_000);
    options.expenditure_usd.insert(SMALL.into(), 50_000);
    let bytes = vault.board_report(period.parse().unwrap(), &options, &[board.recipient()]).unwrap();
    open_bundle(&bytes, board, None).unwrap().report
}

fn table<'a>(report: &'a Report, id: &str) -> &'a Table {
    report.tables.iter().find(|t| t.id == id).unwrap_or_else(|| panic!("{}: no table {id}", report.period))
}

fn cell<'a>(t: &'a Table, row: &str, column: &str) -> &'a Cell {
    let r = t.rows.iter().position(|x| x == row).unwrap_or(t.rows.len());
    let c = t.columns.iter().position(|x| x == column).unwrap();
    &t.cells[r][c]
}

fn count(c: &Cell) -> Option<u64> {
    match c {
        Cell::Count(v) => Some(*v),
        _ => None,
    }
}

#[test]
fn a_released_period_is_frozen_and_a_correction_goes_out_as_a_revision() {
    let dir = tempfile::tempdir().unwrap();
    let vault = provider(dir.path(), 120);
    let board = RecoveryIdentity::generate();
    let first = release(&vault, &board, "2026-09", None);
    assert_eq!(first.revision, None);
    assert_eq!(vault.released_revision("2026-09".parse().unwrap()).unwrap(), Some(0));

    // A late exit dated inside the released month: the data change, the release does not.
    let late = vault
        .list_clients()
        .unwrap()
        .into_iter()
        .find(|&c| {
            let e = vault.client_record(c).unwrap().enrollment().cloned().unwrap();
            e.site == BIG && e.exit.is_none()
        })
        .unwrap();
    vault
        .update_enrollment(late, |e| {
            e.exit = Some(Exit { date: Date::from_ymd(2026, 9, 10).unwrap(), reason: ExitReason::Withdrew });
        })
        .unwrap();
    let again = release(&vault, &board, "2026-09", None);
    assert_eq!(again, first, "a released period is sent exactly as first signed");

    // A revision needs a reason, and something to revise.
    let err = vault
        .board_report(
            "2026-09".parse().unwrap(),
            &ReportOptions { revise: Some("  ".into()), ..ReportOptions::default() },
            &[board.recipient()],
        )
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::InvalidInput, "{err}");
    let err = vault
        .board_report(
            "2026-05".parse().unwrap(),
            &ReportOptions { revise: Some("typo".into()), ..ReportOptions::default() },
            &[board.recipient()],
        )
        .unwrap_err();
    assert!(err.to_string().contains("nothing to revise"), "{err}");
    assert_eq!(vault.released_revision("2026-05".parse().unwrap()).unwrap(), None, "nothing recorded");

    let revised = release(&vault, &board, "2026-09", Some("an exit entered late"));
    assert_eq!(revised.revision, Some(Revision { number: 1, reason: "an exit entered late".into() }));
    // Beside the original, a cell that moved by one would say who the late exit was (which
    // column of each table lost a person): every such table is withheld in the revision, and
    // the board keeps the original's. Tables the exit did not touch are published again.
    assert!(table(&revised, "01a").withheld, "01a moved by one at the big site");
    assert!(revised.omitted.iter().any(|o| o.contains("withheld in this revision")), "{:?}", revised.omitted);
    let unchanged = revised.tables.iter().filter(|t| !t.withheld && first.tables.contains(t)).count();
    assert!(unchanged > 0, "tables the correction did not touch are sent again");
    for t in revised.tables.iter().filter(|t| !t.withheld) {
        let before = table(&first, &t.id);
        for (a, b) in before.cells.iter().flatten().zip(t.cells.iter().flatten()) {
            if let (Cell::Count(a), Cell::Count(b)) = (a, b) {
                assert!(a == b || a.abs_diff(*b) >= 11, "{}: {a} became {b}", t.id);
            }
        }
    }
    assert_eq!(vault.released_revision("2026-09".parse().unwrap()).unwrap(), Some(1));
    // The board's merge keeps the newer bundle of a provider: the revision's log entry is later.
    let seq = |r: &Report| r.log_head.as_deref().unwrap().split(':').nth(1).unwrap().parse::<u64>().unwrap();
    assert!(seq(&revised) > seq(&first));
    // And asking once more sends the revision.
    assert_eq!(release(&vault, &board, "2026-09", None), revised);
}

/// A copy of the vault's `meta` row for the release ledger.
fn ledger_row(path: &std::path::Path) -> Option<Vec<u8>> {
    let c = rusqlite::Connection::open(path).unwrap();
    c.query_row("SELECT value FROM meta WHERE name = 'release_ledger'", [], |r| r.get(0)).ok()
}

#[test]
fn deleting_or_replaying_the_release_ledger_is_an_integrity_error() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("p.cwv");
    let board = RecoveryIdentity::generate();
    let old = {
        let vault = provider(dir.path(), 40);
        release(&vault, &board, "2026-06", None);
        let old = ledger_row(&path).expect("the ledger is stored");
        release(&vault, &board, "2026-09", None);
        vault.close().unwrap();
        old
    };
    // Replay: the ledger as it was before September was released (September could be
    // rebuilt from changed data and sent as if it were the first release).
    let c = rusqlite::Connection::open(&path).unwrap();
    c.execute("UPDATE meta SET value = ?1 WHERE name = 'release_ledger'", [&old]).unwrap();
    drop(c);
    let err = Vault::open_with_key(&path, &test_key(41)).map(|_| ()).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Integrity, "{err}");
    // Delete: every period would look unreleased.
    let c = rusqlite::Connection::open(&path).unwrap();
    c.execute("DELETE FROM meta WHERE name = 'release_ledger'", []).unwrap();
    drop(c);
    let err = Vault::open_with_key(&path, &test_key(41)).map(|_| ()).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Integrity, "{err}");
}

#[test]
fn flows_and_fiscal_year_days_rest_on_what_the_board_already_holds() {
    let dir = tempfile::tempdir().unwrap();
    let vault = provider(dir.path(), 200);
    let board = RecoveryIdentity::generate();
    let months: Vec<String> =
        (0..12).map(|i| Period::new(2026, 9).unwrap().months_before(11 - i).to_string()).collect();
    let reports: Vec<Report> = months.iter().map(|m| release(&vault, &board, m, None)).collect();
    let september = reports.last().unwrap();

    // The small site never reaches 11 active: every cell of its rows is withheld, zeros too,
    // and the site totals add up the published sites only.
    for t in &september.tables {
        // (06's expenditure is the provider's own figure, checked below.)
        if t.geography == "site" && t.id != "06" {
            let r = t.rows.iter().position(|x| x == SMALL).unwrap();
            assert!(t.cells[r].iter().all(|c| matches!(c, Cell::Suppressed)), "table {}", t.id);
        }
    }
    let t01a = table(september, "01a");
    assert_eq!(count(cell(t01a, "Total", "active")), count(cell(t01a, BIG, "active")));

    // Fiscal year 2026: the year's participant-days are the twelve published months.
    let published: u64 = reports.iter().map(|r| count(cell(table(r, "05"), BIG, "participant-days")).unwrap()).sum();
    let t06 = table(september, "06");
    assert_eq!(count(cell(t06, BIG, "participant-days")), Some(published));
    assert_eq!(count(cell(t06, BIG, "expenditure (USD)")), Some(900_000));
    assert_eq!(cell(t06, SMALL, "participant-days"), &Cell::Suppressed);
    // Expenditure is the provider's own figure, about no person.
    assert_eq!(count(cell(t06, SMALL, "expenditure (USD)")), Some(50_000));

    // The quarter's flows add up the sites published in every month of the quarter and the month
    // before it, and exits
    // are the same number in 03, 04 and 18 (or all three are withheld together).
    let t03 = table(september, "03");
    assert_eq!(t03.geography, "provider");
    let exits = count(cell(t03, "all sites", "exits"));
    let total = |id: &str| {
        let t = table(september, id);
        count(t.cells[0].last().unwrap())
    };
    for id in ["04", "18"] {
        // 18 is withheld on its own here (every exit has one reason: a group fact).
        if !table(september, id).withheld {
            assert_eq!(exits, total(id), "{id}");
        }
    }
    assert!(exits.is_some(), "200 clients, a third leaving: the quarter's flows are published");

    // A provider whose June was never released has no site the board holds in every month of the
    // third quarter and the month before: its flows cover no site, and the report says so
    // instead of sending them.
    let other = tempfile::tempdir().unwrap();
    let vault = provider(other.path(), 150);
    let september = release(&vault, &board, "2026-09", None);
    for id in ["03", "04", "18"] {
        assert!(september.tables.iter().all(|t| t.id != id), "{id}");
        assert!(september.omitted.iter().any(|o| o.starts_with(&format!("{id}: no site's active count"))), "{id}");
    }
    // And with no earlier month released, the fiscal year's days are withheld.
    assert_eq!(cell(table(&september, "06"), BIG, "participant-days"), &Cell::Suppressed);
}
