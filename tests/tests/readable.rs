//! The board's readable view of noisy tables (`caseward::report::readable`), held to what it
//! promises over random tables with known true counts: nothing negative, every total the sum of
//! its displayed parts, and every interval at least as trustworthy as the raw one (whenever the
//! raw interval of a cell or total holds the truth, the displayed one does too). A test at the
//! end drives it through a real noisy report of a small population, where most raw cells near
//! zero come out negative.
#![allow(
    clippy::unwrap_used,
    clippy::indexing_slicing,
    clippy::cast_possible_wrap,
    clippy::needless_range_loop,
    reason = "tests: tables are indexed directly"
)]

use caseward::report::indicator::Builder;
use caseward::report::noise::RandomBits;
use caseward::report::{readable, Cell, Grain, Mechanism, Method, Period, Table};
use caseward::{Policy, ReportOptions, Result};
use proptest::prelude::*;

fn table(cells: Vec<Vec<Cell>>, columns: usize, row_totals: bool) -> Table {
    Table {
        id: "test".into(),
        indicator: 1,
        title: "test".into(),
        unit: "persons".into(),
        covers: "2026-09".into(),
        grain: Grain::Month,
        geography: "site".into(),
        rows: (0..cells.len() - 1).map(|i| format!("site-{i}")).collect(),
        columns: (0..columns).map(|c| format!("c{c}")).collect(),
        row_totals,
        cells,
        withheld: false,
        event_cap: None,
    }
}

fn number(c: &Cell) -> (i64, u64, u64) {
    match c {
        Cell::Estimate { value, low, high, .. } => (*value, *low, *high),
        Cell::Count(v) => (*v as i64, *v, *v),
        other => panic!("not a number: {other:?}"),
    }
}

/// A noisy table like the report's: interior cells `truth + noise`, totals the sums of the
/// noisy cells, half-widths growing with the number of draws. Returns the table and the truth,
/// margins included.
fn noisy(truth: &[Vec<u64>], noise: &[Vec<i64>], h: u64, row_totals: bool) -> (Table, Vec<Vec<i64>>) {
    let columns = truth[0].len();
    let width = columns + usize::from(row_totals);
    let mut raw = vec![vec![0i64; width]; truth.len() + 1];
    let mut real = vec![vec![0i64; width]; truth.len() + 1];
    for (r, row) in truth.iter().enumerate() {
        for c in 0..columns {
            let (t, v) = (row[c] as i64, row[c] as i64 + noise[r][c]);
            for (rr, cc) in [(r, c), (truth.len(), c)] {
                raw[rr][cc] += v;
                real[rr][cc] += t;
            }
            if row_totals {
                for rr in [r, truth.len()] {
                    raw[rr][columns] += v;
                    real[rr][columns] += t;
                }
            }
        }
    }
    let cells = raw
        .iter()
        .enumerate()
        .map(|(r, row)| {
            row.iter()
                .enumerate()
                .map(|(c, &value)| {
                    let draws = match (r == truth.len(), c == columns) {
                        (false, false) => 1,
                        (true, false) => truth.len() as u64,
                        (false, true) => columns as u64,
                        (true, true) => (truth.len() * columns) as u64,
                    };
                    Cell::Noisy { value, variance: 4.0 * draws as f64, half_width: Some(h * draws) }
                })
                .collect()
        })
        .collect();
    (table(cells, columns, row_totals), real)
}

proptest! {
    #[test]
    fn readable_tables_are_non_negative_consistent_and_no_less_right(
        (truth, noise) in (1usize..5, 1usize..5).prop_flat_map(|(rows, cols)| (
            prop::collection::vec(prop::collection::vec(0u64..6, cols), rows),
            prop::collection::vec(prop::collection::vec(-12i64..12, cols), rows),
        )),
        h in 0u64..10,
        row_totals: bool,
    ) {
        let (raw, real) = noisy(&truth, &noise, h, row_totals);
        let shown = readable(&raw);
        let columns = truth[0].len();
        let width = columns + usize::from(row_totals);
        for r in 0..=truth.len() {
            for c in 0..width {
                let (value, low, high) = number(&shown.cells[r][c]);
                prop_assert!(value >= 0, "a negative count is shown");
                prop_assert!(low as i64 <= value && value <= high as i64, "the value lies in its interval");
                let (raw_low, raw_high) = raw.cells[r][c].noisy_interval().unwrap();
                let t = real[r][c];
                if raw_low <= t && t <= raw_high {
                    prop_assert!(low as i64 <= t && t <= high as i64, "the raw interval held, the shown one did not");
                }
            }
            if row_totals {
                let sum: i64 = (0..columns).map(|c| number(&shown.cells[r][c]).0).sum();
                prop_assert_eq!(sum, number(&shown.cells[r][columns]).0, "a row total is the sum of its parts");
            }
        }
        for c in 0..width {
            let sum: i64 = (0..truth.len()).map(|r| number(&shown.cells[r][c]).0).sum();
            prop_assert_eq!(sum, number(&shown.cells[truth.len()][c]).0, "a column total is the sum of its parts");
        }
    }
}

struct Seeded(fastrand::Rng);

impl RandomBits for Seeded {
    fn next_u64(&mut self) -> Result<u64> {
        Ok(self.0.u64(..))
    }
}

#[test]
fn a_noisy_report_of_a_small_provider_reads_without_negative_counts() {
    let dir = tempfile::tempdir().unwrap();
    let vault = caseward::Vault::create_with_key(dir.path().join("v.cwv"), &caseward_tests::test_key(5)).unwrap();
    let mut synth = caseward::synth::Synth::new(5);
    let intakes: Vec<_> = (0..12).map(|_| synth.intake()).collect();
    let ids = vault.enroll_many(&intakes).unwrap();
    let clients: Vec<_> = ids.iter().map(|&id| vault.client_record(id).unwrap()).collect();
    let options = ReportOptions {
        method: Method::Noise { mechanism: Mechanism::parse("laplace:1/4").unwrap() },
        ..ReportOptions::default()
    };
    let (mut negatives, mut cells) = (0, 0);
    let mut rng = Seeded(fastrand::Rng::with_seed(9));
    for _ in 0..20 {
        let mut builder =
            Builder::new("2026-12".parse::<Period>().unwrap(), &Policy::default_policy().unwrap(), options.clone());
        for c in &clients {
            builder.add(c);
        }
        for t in builder.finish(&mut rng).unwrap().0 {
            negatives +=
                t.cells.iter().flatten().filter(|c| matches!(c, Cell::Noisy { value, .. } if *value < 0)).count();
            for cell in readable(&t).cells.iter().flatten() {
                cells += 1;
                if let Cell::Estimate { value, low, high, .. } = cell {
                    assert!(*value >= 0 && *low as i64 <= *value && *value <= *high as i64, "{cell:?}");
                }
            }
        }
    }
    eprintln!("{negatives} raw noisy cells were negative; {cells} cells read, none negative");
    assert!(negatives > 100, "the raw report has negative cells to fix: {negatives} of {cells}");
}
