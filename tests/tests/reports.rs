//! Board reports as a provider builds them and a board analyst opens them: tables from a
//! synthetic vault, bundles that stock `age` decrypts, signature and registry checks, tamper
//! refusals, the privacy-budget ledger, and merging.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing, reason = "tests")]

use std::io::Write;
use std::process::{Command, Stdio};

use caseward::report::bundle::{open_bundle, verify_document, BundleProblem, Origin};
use caseward::report::merge::merge;
use caseward::report::{Cell, Mechanism, Method, Period, Registry, ReportOptions};
use caseward::synth::Synth;
use caseward::{Error, ErrorKind, RecoveryIdentity, Vault};
use caseward_tests::test_key;

fn provider_vault(dir: &std::path::Path, name: &str, seed: u64, clients: u32) -> Vault {
    let vault = Vault::create_with_key(dir.join(format!("{name}.cwv")), &test_key(seed as u8)).unwrap();
    vault.set_provider_id(name).unwrap();
    let mut synth = Synth::new(seed);
    let intakes: Vec<_> = (0..clients).map(|_| synth.intake()).collect();
    vault.enroll_many(&intakes).unwrap();
    vault
}

fn registry(vaults: &[&Vault]) -> Registry {
    let mut reg = Registry::default();
    for v in vaults {
        reg.providers.insert(v.provider_id().unwrap().unwrap(), v.signing_public_key().unwrap());
    }
    reg
}

const SEPTEMBER: &str = "2026-09";

#[test]
fn a_board_analyst_opens_a_verified_report_with_no_small_cells() {
    let dir = tempfile::tempdir().unwrap();
    let vault = provider_vault(dir.path(), "irc-new-york", 7, 800);
    let board = RecoveryIdentity::generate();
    let mut options = ReportOptions::default();
    options.expenditure_usd.insert("site-queens".into(), 1_250_000);
    let bytes = vault.board_report(SEPTEMBER.parse().unwrap(), &options, &[board.recipient()]).unwrap();
    let opened = open_bundle(&bytes, &board, Some(&registry(&[&vault]))).unwrap();
    assert_eq!(opened.origin, Origin::Registered);
    let report = opened.report;
    assert_eq!(report.provider, "irc-new-york");
    assert_eq!(report.period, Period::new(2026, 9).unwrap());
    // September closes a month, a quarter and the fiscal year.
    let ids: Vec<&str> = report.tables.iter().map(|t| t.id.as_str()).collect();
    for id in ["01a", "05", "06", "07a", "11a", "13", "15", "21a"] {
        assert!(ids.contains(&id), "table {id} missing from {ids:?}");
    }
    // The vault's first release: the board holds no count for June, so the quarter's flows
    // (03, 04, 18) cover no site, and the report says so.
    assert!(report.omitted.iter().any(|o| o.starts_with("03: no site's active count")), "{:?}", report.omitted);
    assert!(!ids.contains(&"20a"), "yearly tables close in December only");
    assert!(report.omitted.iter().any(|o| o.starts_with("02:")), "{:?}", report.omitted);
    // The report is logged and carries the log head.
    let head = vault.log_head().unwrap().unwrap();
    assert_eq!(report.log_head.as_deref(), Some(head.to_string().as_str()));
    let mut published = 0;
    for t in &report.tables {
        for row in &t.cells {
            for cell in row {
                if let Cell::Count(v) = cell {
                    published += 1;
                    if t.unit != "days" && !t.unit.contains("USD") {
                        assert!(*v == 0 || *v >= 11, "table {} publishes a small cell {v}", t.id);
                    }
                }
            }
        }
        // Published margins add up with the published cells (or involve a suppressed one).
        if t.row_totals {
            for row in &t.cells {
                let (cells, total) = row.split_at(t.columns.len());
                if let (Some(Cell::Count(total)), true) =
                    (total.first(), cells.iter().all(|c| matches!(c, Cell::Count(_))))
                {
                    let sum: u64 = cells.iter().map(|c| if let Cell::Count(v) = c { *v } else { 0 }).sum();
                    assert_eq!(sum, *total, "table {} row total", t.id);
                }
            }
        }
    }
    assert!(published > 50, "the report publishes something: {published}");
}

#[test]
fn stock_age_decrypts_the_bundle_and_the_signature_verifies() {
    let dir = tempfile::tempdir().unwrap();
    let vault = provider_vault(dir.path(), "global-refuge-baltimore", 9, 300);
    let board = RecoveryIdentity::generate();
    let bytes =
        vault.board_report(SEPTEMBER.parse().unwrap(), &ReportOptions::default(), &[board.recipient()]).unwrap();
    let bundle = dir.path().join("report.age");
    std::fs::write(&bundle, &bytes).unwrap();
    let identity = dir.path().join("board.key");
    std::fs::write(&identity, format!("{}\n", board.to_secret_string().as_str())).unwrap();
    let out = Command::new("age")
        .args(["-d", "-i"])
        .arg(&identity)
        .arg(&bundle)
        .output()
        .expect("the stock age tool is installed (.ci/run installs Debian's age)");
    assert!(out.status.success(), "age -d failed: {}", String::from_utf8_lossy(&out.stderr));
    let verified = verify_document(&out.stdout, Some(&registry(&[&vault]))).unwrap();
    assert_eq!(verified.report.provider, "global-refuge-baltimore");

    // And a bundle that stock age encrypted from caseward's plaintext still verifies: the
    // signature covers the report, not the encryption.
    let mut child = Command::new("age")
        .args(["-r", &board.recipient().to_string()])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    child.stdin.take().unwrap().write_all(&out.stdout).unwrap();
    let reencrypted = child.wait_with_output().unwrap().stdout;
    assert!(open_bundle(&reencrypted, &board, Some(&registry(&[&vault]))).is_ok());
}

#[test]
fn tampered_wrongly_signed_and_unregistered_bundles_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    let vault = provider_vault(dir.path(), "bakerripley-houston", 11, 200);
    let other = provider_vault(dir.path(), "impostor", 12, 20);
    let board = RecoveryIdentity::generate();
    let period: Period = SEPTEMBER.parse().unwrap();
    let bytes = vault.board_report(period, &ReportOptions::default(), &[board.recipient()]).unwrap();
    let reg = registry(&[&vault]);

    // One flipped byte anywhere: refused, never a report with different numbers.
    for i in (0..bytes.len()).step_by(bytes.len() / 97 + 1) {
        let mut bad = bytes.clone();
        bad[i] ^= 0x01;
        let err = open_bundle(&bad, &board, Some(&reg)).unwrap_err();
        assert!(matches!(err.kind(), ErrorKind::Integrity | ErrorKind::WrongKey), "byte {i}: {err}");
    }
    // Another board identity.
    let stranger = RecoveryIdentity::generate();
    let err = open_bundle(&bytes, &stranger, Some(&reg)).unwrap_err();
    assert!(matches!(err, Error::Bundle(BundleProblem::NotForThisIdentity)), "{err}");
    // A signer missing from the registry.
    let err = open_bundle(&bytes, &board, Some(&Registry::default())).unwrap_err();
    assert!(matches!(err, Error::Bundle(BundleProblem::UnknownProvider(ref p)) if p == "bakerripley-houston"), "{err}");
    assert!(err.to_string().contains("not in the registry"), "{err}");
    // The registry names another key for that provider (an impostor signed it).
    let mut wrong = Registry::default();
    wrong.providers.insert("bakerripley-houston".into(), other.signing_public_key().unwrap());
    let err = open_bundle(&bytes, &board, Some(&wrong)).unwrap_err();
    assert!(matches!(err, Error::Bundle(BundleProblem::WrongSigner(_))), "{err}");
    // An altered report inside a re-encrypted bundle: the signature fails.
    let plain = {
        let mut out = Vec::new();
        let d = age::Decryptor::new_buffered(&bytes[..]).unwrap();
        let identity: &dyn age::Identity = &board_identity(&board);
        std::io::Read::read_to_end(&mut d.decrypt(std::iter::once(identity)).unwrap(), &mut out).unwrap();
        out
    };
    let text = String::from_utf8(plain).unwrap();
    let altered = text.replacen("\"count\":", "\"count\":1", 1);
    assert_ne!(altered, text);
    let err = verify_document(altered.as_bytes(), Some(&reg)).unwrap_err();
    assert!(matches!(err, Error::Bundle(BundleProblem::BadSignature)), "{err}");
}

fn board_identity(board: &RecoveryIdentity) -> age::x25519::Identity {
    board.to_secret_string().parse().unwrap()
}

#[test]
fn the_ledger_refuses_an_overspending_noisy_report_and_records_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let vault = provider_vault(dir.path(), "irc-new-york", 13, 150);
    let board = RecoveryIdentity::generate();
    let period: Period = "2026-10".parse().unwrap();
    // October carries only monthly tables; at rho 1/64 per table one report fits in rho = 1.
    let options = ReportOptions {
        method: Method::Noise { mechanism: Mechanism::parse("gaussian:1/64").unwrap() },
        ..ReportOptions::default()
    };
    let first = vault.board_report(period, &options, &[board.recipient()]).unwrap();
    let report = open_bundle(&first, &board, None).unwrap().report;
    assert!(report.rho_micros > 0);
    assert!(report.tables.iter().all(|t| t
        .cells
        .iter()
        .flatten()
        .all(|c| matches!(c, Cell::Noisy { variance, .. } if *variance > 0.0))));
    let (spent, limit) = vault.privacy_budget(period).unwrap();
    assert_eq!(spent, report.rho_micros);
    assert_eq!(limit, 1_000_000);
    // Asking again sends the same release: nothing new is published, so nothing is charged.
    let again = vault.board_report(period, &options, &[board.recipient()]).unwrap();
    assert_eq!(open_bundle(&again, &board, None).unwrap().report, report);
    assert_eq!(vault.privacy_budget(period).unwrap().0, spent);
    // A greedy revision (epsilon = 1 per table, rho 1/2 each) would overspend.
    let greedy = ReportOptions {
        method: Method::Noise { mechanism: Mechanism::parse("laplace:1").unwrap() },
        revise: Some("late service records".into()),
        ..ReportOptions::default()
    };
    let log_before = vault.read_log().unwrap().len();
    let err = vault.board_report(period, &greedy, &[board.recipient()]).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Budget, "{err}");
    assert!(err.to_string().contains("2026-10"), "{err}");
    // The error speaks the unit the report asked for, and the rho the ledger counts.
    assert!(
        err.to_string().contains("laplace epsilon 1/1 each")
            && err.to_string().contains("rho = epsilon^2/2 = 0.500000"),
        "{err}"
    );
    assert_eq!(vault.privacy_budget(period).unwrap().0, spent, "nothing charged");
    assert_eq!(vault.read_log().unwrap().len(), log_before, "nothing logged");
    // Another period has its own budget.
    assert!(vault.board_report("2026-08".parse().unwrap(), &options, &[board.recipient()]).is_ok());

    // And every period of a year shares the year's budget (rho 2 by default): with roomy
    // monthly budgets, months of 2026 run out of the year's, while 2025 has its own.
    vault.set_privacy_budget(10_000_000).unwrap();
    let (year_spent, year_limit) = vault.yearly_privacy_budget(period).unwrap();
    assert_eq!(year_limit, 2_000_000);
    assert_eq!(year_spent, spent + vault.privacy_budget("2026-08".parse().unwrap()).unwrap().0);
    let mut months = 0;
    let err = loop {
        let month: Period = format!("2026-{:02}", 1 + months).parse().unwrap();
        match vault.board_report(month, &options, &[board.recipient()]) {
            Ok(_) => months += 1,
            Err(e) => break e,
        }
        assert!(months < 12, "the year's budget never ran out");
    };
    assert_eq!(err.kind(), ErrorKind::Budget, "{err}");
    assert!(err.to_string().contains("year 2026"), "{err}");
    let (year_spent, _) = vault.yearly_privacy_budget(period).unwrap();
    assert!(year_spent <= 2_000_000, "{year_spent}");
    assert!(vault.board_report("2025-11".parse().unwrap(), &options, &[board.recipient()]).is_ok());
}

#[test]
fn merging_never_prints_a_number_for_a_cell_any_provider_suppressed() {
    let dir = tempfile::tempdir().unwrap();
    let a = provider_vault(dir.path(), "irc-new-york", 21, 400);
    let b = provider_vault(dir.path(), "bakerripley-houston", 22, 60);
    let board = RecoveryIdentity::generate();
    let reg = registry(&[&a, &b]);
    let period: Period = SEPTEMBER.parse().unwrap();
    let ra = open_bundle(
        &a.board_report(period, &ReportOptions::default(), &[board.recipient()]).unwrap(),
        &board,
        Some(&reg),
    )
    .unwrap();
    let rb = open_bundle(
        &b.board_report(period, &ReportOptions::default(), &[board.recipient()]).unwrap(),
        &board,
        Some(&reg),
    )
    .unwrap();
    let merged = merge(&[ra.clone(), rb.clone()]);
    assert_eq!(merged.providers, vec!["irc-new-york", "bakerripley-houston"]);
    // A provider with a site under 11 active persons leaves that site out of its totals, so its
    // part of a national total is only a lower bound (and the merge says so).
    let partial = |r: &caseward::report::SignedReport| {
        let t = r.report.tables.iter().find(|t| t.id == "01a").unwrap();
        (0..t.rows.len()).any(|i| t.cells[i].iter().all(|c| matches!(c, Cell::Suppressed)))
    };
    let some_partial = partial(&ra) || partial(&rb);
    if some_partial {
        assert!(merged.skipped.iter().any(|s| s.contains("leave(s) out sites under 11")), "{:?}", merged.skipped);
    }
    let mut bounds = 0;
    for t in &merged.tables {
        let ta = ra.report.tables.iter().find(|x| x.id == t.id && x.covers == t.covers).unwrap();
        let tb = rb.report.tables.iter().find(|x| x.id == t.id && x.covers == t.covers).unwrap();
        let total = t.cells.last().unwrap();
        for (c, cell) in total.iter().enumerate() {
            let hidden = |x: &caseward::Table| matches!(x.cell(x.rows.len(), c), Some(Cell::Suppressed));
            if hidden(ta) || hidden(tb) {
                assert!(matches!(cell, Cell::Bound { .. }), "table {} column {c} prints {cell}", t.id);
                bounds += 1;
            } else {
                let v = |x: &caseward::Table| match x.cell(x.rows.len(), c) {
                    Some(Cell::Count(v)) => *v,
                    other => panic!("{other:?}"),
                };
                let sum = v(ta) + v(tb);
                if some_partial && t.id != "06" {
                    assert_eq!(cell, &Cell::Bound { low: sum, high: None, confidence: None }, "table {}", t.id);
                } else {
                    assert_eq!(cell, &Cell::Count(sum), "table {} column {c}", t.id);
                }
            }
        }
    }
    assert!(bounds > 0, "the small provider's suppressed totals show as bounds");
}

/// Under noise the rows of site tables are the sites the provider declares (here, its
/// capacity) and one `other sites` row, never a site read from the records; a declared label
/// the report reserves for its own rows is refused before anything is charged or logged.
#[test]
fn noisy_site_rows_are_the_declared_sites_and_one_other_row() {
    let dir = tempfile::tempdir().unwrap();
    let vault = provider_vault(dir.path(), "bakerripley-houston", 14, 120);
    let board = RecoveryIdentity::generate();
    let period: Period = "2026-10".parse().unwrap();
    let mut options = ReportOptions {
        method: Method::Noise { mechanism: Mechanism::parse("gaussian:1/64").unwrap() },
        ..ReportOptions::default()
    };
    options.capacity.insert("declared-annex".into(), 40);
    let log_before = vault.read_log().unwrap().len();
    for reserved in ["other sites", "all sites", " "] {
        let mut bad = options.clone();
        bad.capacity.insert(reserved.into(), 5);
        let err = vault.board_report(period, &bad, &[board.recipient()]).unwrap_err();
        assert_eq!(err.kind(), ErrorKind::InvalidInput, "{err}");
        assert!(err.to_string().contains("cannot name a site"), "{err}");
    }
    assert_eq!(vault.read_log().unwrap().len(), log_before, "nothing logged");
    assert_eq!(vault.privacy_budget(period).unwrap().0, 0, "nothing charged");
    let report =
        open_bundle(&vault.board_report(period, &options, &[board.recipient()]).unwrap(), &board, None).unwrap().report;
    let site_tables: Vec<_> = report.tables.iter().filter(|t| t.geography == "site").collect();
    assert!(!site_tables.is_empty());
    for t in site_tables {
        assert_eq!(t.rows, ["declared-annex", "other sites"], "{}", t.id);
    }
}
