//! What one person can do to a release, tested the way a statistician would: build the same
//! tables from neighbouring populations (with and without one person) many times, and check
//! that no test on the published cell tells them apart better than the stated epsilon allows
//! (for every threshold t: P[x >= t | with] <= e^epsilon * P[x >= t | without]). Also: a persons
//! table counts persons, not the events that put them there.
#![allow(clippy::unwrap_used, clippy::indexing_slicing, clippy::cast_precision_loss, reason = "tests")]

use caseward::report::indicator::{Builder, EVENT_CAP};
use caseward::report::noise::{Mechanism, RandomBits};
use caseward::{
    Cell, ClientRecord, Date, Method, Period, Policy, Record, ReportOptions, Result, ServiceEvent, ServiceKind, Table,
    Vault,
};
use caseward_tests::test_key;

struct Seeded(fastrand::Rng);

impl RandomBits for Seeded {
    fn next_u64(&mut self) -> Result<u64> {
        Ok(self.0.u64(..))
    }
}

fn day(m: u8, d: u8) -> Date {
    Date::from_ymd(2026, m, d).unwrap()
}

/// A client enrolled at `site-a` on 5 January 2026, still active, with no records yet.
fn enroll_at_site_a(vault: &Vault, synth: &mut caseward::synth::Synth) -> caseward::ClientId {
    let mut intake = synth.intake();
    intake.enrollment.site = "site-a".into();
    intake.enrollment.enrolled_on = day(1, 5);
    intake.enrollment.exit = None;
    intake.records.clear();
    vault.enroll(&intake).unwrap()
}

/// `people` clients at `site-a`, enrolled in January 2026, each with `events` services of `kind`
/// spread over the first half of 2026, read back the way the report reads them.
fn population(vault: &Vault, people: usize, events: usize, kind: ServiceKind) -> Vec<ClientRecord> {
    let mut synth = caseward::synth::Synth::new(people as u64 * 31 + events as u64);
    (0..people)
        .map(|_| {
            let id = enroll_at_site_a(vault, &mut synth);
            for e in 0..events {
                let date = day(1 + (e % 6) as u8, 1 + (e / 6 % 28) as u8);
                vault.add_record(id, &Record::Service(ServiceEvent { date, kind, minutes: None })).unwrap();
            }
            vault.client_record(id).unwrap()
        })
        .collect()
}

fn tables(period: &str, clients: &[ClientRecord], method: Method, rng: &mut Seeded) -> Vec<Table> {
    let options = ReportOptions { method, ..ReportOptions::default() };
    let mut builder = Builder::new(period.parse::<Period>().unwrap(), &Policy::default_policy().unwrap(), options);
    for c in clients {
        builder.add(c);
    }
    builder.finish(rng).unwrap().0
}

fn cell<'a>(tables: &'a [Table], id: &str, row: &str, column: &str) -> &'a Cell {
    let t = tables.iter().find(|t| t.id == id).unwrap_or_else(|| panic!("no table {id}"));
    let r = t.rows.iter().position(|x| x == row).unwrap_or(t.rows.len());
    let c = t.columns.iter().position(|x| x == column).unwrap();
    t.cell(r, c).unwrap()
}

#[test]
fn a_persons_table_counts_each_person_once() {
    let dir = tempfile::tempdir().unwrap();
    let vault = Vault::create_with_key(dir.path().join("v.cwv"), &test_key(5)).unwrap();
    // 15 people with 18 food services each, 3 in each month from January to June.
    let clients = population(&vault, 15, 18, ServiceKind::Food);
    let t = tables("2026-06", &clients, Method::Suppress { k: 11 }, &mut Seeded(fastrand::Rng::with_seed(1)));
    assert_eq!(cell(&t, "07a", "site-a", "food"), &Cell::Count(45), "07a counts events");
    assert_eq!(cell(&t, "07b", "site-a", "food"), &Cell::Count(15), "07b counts persons, once each");
    // Suppression publishes exact counts: no cap, and none stated.
    assert!(t.iter().all(|t| t.event_cap.is_none()));
}

/// Under noise too, 07b counts each person once: 15 people with 3 food services in June give
/// noisy 07b cells that average 15 and 07a cells that average 45 over many builds (each within
/// four standard errors, from the variance the cell states).
#[test]
fn a_noisy_persons_table_counts_each_person_once() {
    let dir = tempfile::tempdir().unwrap();
    let vault = Vault::create_with_key(dir.path().join("v.cwv"), &test_key(11)).unwrap();
    let clients = population(&vault, 15, 18, ServiceKind::Food);
    // A large epsilon, so that 400 builds tell 15 from 45 (07a's sensitivity is 10 x 11 columns).
    let method = Method::Noise { mechanism: Mechanism::Laplace { epsilon_num: 2, epsilon_den: 1 } };
    let mut rng = Seeded(fastrand::Rng::with_seed(12));
    let runs = 400;
    let (mut sum07a, mut sum07b, mut var07a, mut var07b) = (0i64, 0i64, 0.0, 0.0);
    for _ in 0..runs {
        let t = tables("2026-06", &clients, method, &mut rng);
        for (id, sum, var) in [("07a", &mut sum07a, &mut var07a), ("07b", &mut sum07b, &mut var07b)] {
            match cell(&t, id, "other sites", "food") {
                Cell::Noisy { value, variance, .. } => {
                    *sum += value;
                    *var = *variance;
                }
                other => panic!("{id} not noisy: {other:?}"),
            }
        }
    }
    let runs_f = f64::from(runs);
    let (mean07a, mean07b) = (sum07a as f64 / runs_f, sum07b as f64 / runs_f);
    let (se07a, se07b) = ((var07a / runs_f).sqrt(), (var07b / runs_f).sqrt());
    println!("noisy 07b food, {runs} builds: mean {mean07b:.2} (true 15, se {se07b:.2}); 07a {mean07a:.2} (true 45, se {se07a:.2})");
    assert!((mean07b - 15.0).abs() <= 4.0 * se07b, "07b averages {mean07b:.2}, not 15 persons");
    assert!((mean07a - 45.0).abs() <= 4.0 * se07a, "07a averages {mean07a:.2}, not 45 events");
    // The test has power: 15 and 45 are far more than four standard errors apart.
    assert!(30.0 > 4.0 * (se07a + se07b));
}

/// The one-person test over `runs` noisy builds: returns the largest observed
/// `P[x >= t | with] - e^eps * P[x >= t | without]` over thresholds, less its sampling margin
/// (so a value above 0 is a violation beyond chance), and the rates at the worst threshold.
fn distinguish(without: &[i64], with: &[i64], epsilon: f64) -> (f64, f64, f64) {
    let runs = without.len() as f64;
    let lo = *without.iter().chain(with).min().unwrap();
    let hi = *without.iter().chain(with).max().unwrap();
    let mut worst = (f64::NEG_INFINITY, 0.0, 0.0);
    for t in lo..=hi {
        let p = without.iter().filter(|&&x| x >= t).count() as f64 / runs;
        let q = with.iter().filter(|&&x| x >= t).count() as f64 / runs;
        // Four standard errors of the difference: the test fails by chance about once in 10^4
        // per threshold, and the thresholds are strongly correlated.
        let margin = 4.0 * ((q * (1.0 - q) + epsilon.exp().powi(2) * p * (1.0 - p)) / runs).sqrt() + 1.0 / runs;
        let excess = q - epsilon.exp() * p;
        if excess - margin > worst.0 {
            worst = (excess - margin, q, p);
        }
    }
    worst
}

#[test]
fn one_person_with_sixty_mental_health_events_stays_within_epsilon() {
    let dir = tempfile::tempdir().unwrap();
    let vault = Vault::create_with_key(dir.path().join("v.cwv"), &test_key(6)).unwrap();
    let base = population(&vault, 30, 2, ServiceKind::MentalHealth);
    let heavy = population(&vault, 1, 60, ServiceKind::MentalHealth);
    let neighbour: Vec<ClientRecord> = base.iter().chain(&heavy).cloned().collect();
    let method = Method::Noise { mechanism: Mechanism::Laplace { epsilon_num: 1, epsilon_den: 4 } };
    let mut rng = Seeded(fastrand::Rng::with_seed(7));
    let runs = 5_000;
    let mut sample = |clients: &[ClientRecord]| -> Vec<i64> {
        (0..runs)
            .map(|_| {
                let t = tables("2026-06", clients, method, &mut rng);
                let c07 = t.iter().find(|t| t.id == "07c").unwrap();
                assert_eq!(c07.event_cap, Some(EVENT_CAP), "a noisy events table states its cap");
                match cell(&t, "07c", "site-a", "events") {
                    Cell::Noisy { value, .. } => *value,
                    other => panic!("not noisy: {other:?}"),
                }
            })
            .collect()
    };
    let (without, with) = (sample(&base), sample(&neighbour));
    let (excess, tpr, fpr) = distinguish(&without, &with, 0.25);
    println!(
        "07c events, one person with 60 events, {runs} builds each: worst threshold TPR {tpr:.4} at FPR {fpr:.4}, \
         excess over e^eps x FPR beyond sampling error {excess:.4} (<= 0 holds)"
    );
    assert!(excess <= 0.0, "TPR {tpr:.3} exceeds e^0.25 x FPR {fpr:.3} beyond sampling error");
    // The test has power: the same samples against a claimed epsilon of 1/40 fail it.
    assert!(distinguish(&without, &with, 0.025).0 > 0.0, "the test cannot tell a tenfold smaller epsilon");
}

/// Column sets never depend on the data: two unlike populations, one with a nationality and a
/// language outside the vocabulary held by two people, give every table the same columns, and
/// no label names the rare value.
#[test]
fn every_table_has_the_same_columns_whatever_the_data() {
    let dir = tempfile::tempdir().unwrap();
    let vault = Vault::create_with_key(dir.path().join("v.cwv"), &test_key(8)).unwrap();
    let mut a = population(&vault, 40, 3, ServiceKind::Food);
    let b = population(&vault, 12, 1, ServiceKind::LegalOrientation);
    let mut rare = 0;
    for c in a.iter_mut().take(2) {
        for r in &mut c.records {
            if let Record::Identity(i) = &mut r.record {
                i.nationality = vec!["ER".into()];
                i.languages = vec!["ti".into()];
                rare += 1;
            }
        }
    }
    assert_eq!(rare, 2);
    let method = Method::Noise { mechanism: Mechanism::Laplace { epsilon_num: 1, epsilon_den: 2 } };
    for m in [Method::Suppress { k: 11 }, method] {
        let mut rng = Seeded(fastrand::Rng::with_seed(3));
        let (ta, tb) = (tables("2026-12", &a, m, &mut rng), tables("2026-12", &b, m, &mut rng));
        assert_eq!(ta.len(), tb.len());
        for (x, y) in ta.iter().zip(&tb) {
            assert_eq!((&x.id, &x.columns), (&y.id, &y.columns), "columns of {} depend on the data", x.id);
            assert!(!x.columns.iter().any(|c| c == "ER" || c == "ti"), "{} names a rare value", x.id);
        }
        let t20a = ta.iter().find(|t| t.id == "20a").unwrap();
        assert_eq!(t20a.columns.last().map(String::as_str), Some("other"));
    }
}

/// A provider-wide table whose columns overlap (17, relief sought) has no row total, but its
/// population is published: 01a's total. A column holding all of it ("everyone at the provider
/// seeks asylum") is a group fact, withheld like a whole row. So is every count within 10 of
/// it, or a withheld cell would mean "small, or everyone"; 11 fewer than everyone publishes.
#[test]
fn everyone_seeking_one_relief_is_not_published_as_a_group_fact() {
    let asylum = |others: usize| {
        let dir = tempfile::tempdir().unwrap();
        let vault = Vault::create_with_key(dir.path().join("v.cwv"), &test_key(9)).unwrap();
        let mut synth = caseward::synth::Synth::new(9);
        let clients: Vec<ClientRecord> = (0..30)
            .map(|i| {
                let id = enroll_at_site_a(&vault, &mut synth);
                let relief = if i < others { "TPS" } else { "asylum" };
                let legal = caseward::LegalStatus {
                    court: None,
                    disposition: None,
                    represented: false,
                    represented_since: None,
                    relief_sought: vec![relief.into()],
                    protected_relief: None,
                };
                vault.add_record(id, &Record::Legal(legal)).unwrap();
                vault.client_record(id).unwrap()
            })
            .collect();
        let mut rng = Seeded(fastrand::Rng::with_seed(4));
        let t = tables("2026-12", &clients, Method::Suppress { k: 11 }, &mut rng);
        (cell(&t, "17", "all sites", "asylum").clone(), cell(&t, "01a", "Total", "active").clone())
    };
    // 19 of 30 seek asylum: published.
    assert_eq!(asylum(11), (Cell::Count(19), Cell::Count(30)));
    // All 30, or 29: withheld, although far above 11.
    assert_eq!(asylum(0), (Cell::Suppressed, Cell::Count(30)));
    assert_eq!(asylum(1), (Cell::Suppressed, Cell::Count(30)));
}

/// Every table's shape (its rows, columns and totals) for `clients` at `period`, with `site-a`
/// declared through its capacity.
fn shapes(period: &str, clients: &[ClientRecord], method: Method) -> Vec<(String, Vec<String>, Vec<String>, bool)> {
    let mut options = ReportOptions { method, ..ReportOptions::default() };
    options.capacity.insert("site-a".into(), 50);
    let mut builder = Builder::new(period.parse::<Period>().unwrap(), &Policy::default_policy().unwrap(), options);
    for c in clients {
        builder.add(c);
    }
    let (tables, _) = builder.finish(&mut Seeded(fastrand::Rng::with_seed(5))).unwrap();
    tables.into_iter().map(|t| (t.id, t.rows, t.columns, t.row_totals)).collect()
}

/// Under noise, one person at a site the provider never declared changes no table's shape: the
/// rows are the declared sites and one `other sites` row, fixed before any client is read. Each
/// month of a year is built, so every table is seen at its closing month.
#[test]
fn one_person_at_a_new_site_changes_no_noisy_table_shape() {
    let dir = tempfile::tempdir().unwrap();
    let vault = Vault::create_with_key(dir.path().join("v.cwv"), &test_key(10)).unwrap();
    let base = population(&vault, 20, 3, ServiceKind::Food);
    let mut synth = caseward::synth::Synth::new(77);
    let mut intake = synth.intake();
    intake.enrollment.site = "site-z".into();
    intake.enrollment.enrolled_on = day(2, 3);
    intake.enrollment.exit = None;
    let lone = vault.enroll(&intake).unwrap();
    let neighbour: Vec<ClientRecord> = base.iter().cloned().chain([vault.client_record(lone).unwrap()]).collect();
    let noise = Method::Noise { mechanism: Mechanism::Laplace { epsilon_num: 1, epsilon_den: 2 } };
    let mut site_tables = 0;
    for month in 1..=12 {
        let period = format!("2026-{month:02}");
        let (without, with) = (shapes(&period, &base, noise), shapes(&period, &neighbour, noise));
        assert_eq!(without, with, "{period}: one person at a new site changed a noisy table's shape");
        for (id, rows, _, _) in &with {
            assert!(!rows.iter().any(|r| r == "site-z"), "{period} {id} names the undeclared site");
            if rows.iter().any(|r| r == "site-a") {
                assert_eq!(rows, &["other sites", "site-a"], "{period} {id}");
                site_tables += 1;
            }
        }
    }
    println!("noisy site tables compared with and without one person at a new site: {site_tables}");
    assert!(site_tables >= 12, "every month has site tables");
    // The comparison has power: suppression takes its rows from the data (a small site's row
    // is withheld whole), so the same person adds a row there.
    let suppress = Method::Suppress { k: 11 };
    assert_ne!(shapes("2026-06", &base, suppress), shapes("2026-06", &neighbour, suppress));
}
