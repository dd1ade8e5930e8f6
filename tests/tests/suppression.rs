//! The linear-programming attacker of the issue: for every suppressed cell of random tables
//! with margins, compute the interval of values consistent with every published cell (and
//! non-negativity). Documented protection rule (core/src/report/suppress.rs): a sensitive cell's
//! interval (every withheld cell at least 1, as the published rules imply) reaches 1 and at least k = 11
//! (for magnitudes, max(k, 2v)).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing, reason = "tests")]

use caseward::report::suppress::{protect, Grid, Suppression, K};
use good_lp::{
    constraint, microlp, variable, Expression, ProblemVariables, ResolutionError, Solution, SolverModel, Variable,
};

/// The attacker's interval for cell `(tr, tc)`: (min, max); max is infinite when unbounded.
fn interval(grid: &Grid, sup: &Suppression, tr: usize, tc: usize) -> (f64, f64) {
    // The published rules: zeros are published and a small cell's complements are never zero,
    // so every withheld cell is at least 1; a whole-row cell's rectangle may hide a zero, so in
    // tables with that rule the floor is 0.
    // A table withheld whole hides its zeros too.
    let floor = if whole_row_rule(grid) || sup.withheld { 0.0 } else { 1.0 };
    let solve = |maximise: bool| -> f64 {
        let mut vars = ProblemVariables::new();
        let (rows, cols) = (grid.rows(), grid.cols());
        let width = cols + usize::from(grid.has_row_totals());
        let mut x: Vec<Vec<Option<Variable>>> = vec![vec![None; width]; rows + 1];
        for (r, row) in x.iter_mut().enumerate() {
            for (c, slot) in row.iter_mut().enumerate() {
                if sup.is_suppressed(r, c) {
                    *slot = Some(vars.add(variable().min(floor)));
                }
            }
        }
        let cell = |r: usize, c: usize| -> Expression {
            match x[r][c] {
                Some(v) => v.into(),
                None => Expression::from(grid.value(r, c) as f64),
            }
        };
        let target = x[tr][tc].expect("the target is suppressed");
        let problem = if maximise { vars.maximise(target) } else { vars.minimise(target) };
        let mut model = problem.using(microlp);
        if grid.has_row_totals() {
            for r in 0..=rows {
                let sum: Expression = (0..cols).map(|c| cell(r, c)).sum();
                model = model.with(constraint!(sum == cell(r, cols)));
            }
        }
        for c in 0..width {
            let sum: Expression = (0..rows).map(|r| cell(r, c)).sum();
            model = model.with(constraint!(sum == cell(rows, c)));
        }
        match model.solve() {
            Ok(solution) => solution.value(target),
            Err(ResolutionError::Unbounded) => f64::INFINITY,
            Err(e) => panic!("the published table must be feasible: {e}"),
        }
    };
    (solve(false), solve(true))
}

/// Checks every sensitive cell of one table; returns how many were checked.
/// Whether the grid has a whole-row cell (the rule of `Grid::no_whole_rows` applies).
fn whole_row_rule(grid: &Grid) -> bool {
    (0..=grid.rows()).any(|r| (0..grid.cols()).any(|c| grid.is_whole_row_cell(r, c)))
}

fn attack(grid: &Grid) -> usize {
    let sup = protect(grid);
    let width = grid.cols() + usize::from(grid.has_row_totals());
    let mut checked = 0;
    for r in 0..=grid.rows() {
        for c in 0..width {
            if grid.is_sensitive(r, c) {
                assert!(sup.is_suppressed(r, c), "sensitive cell ({r},{c}) published");
            }
            if !sup.is_suppressed(r, c) {
                continue;
            }
            let (lo, hi) = interval(grid, &sup, r, c);
            let v = grid.value(r, c) as f64;
            assert!(lo <= v + 1e-6 && v <= hi + 1e-6, "the true value lies in its interval");
            if grid.is_sensitive(r, c) {
                let need = grid.required_upper(r, c) as f64;
                let floor = grid.required_lower(r, c) as f64;
                // A total of several withheld cells is at least their number (each is at least
                // 1): its floor is that, and what protects it is the upper end.
                let margin = r == grid.rows() || c == grid.cols();
                assert!(
                    margin || lo <= floor + 1e-6,
                    "cell ({r},{c}) = {v}: the attacker proves it is at least {lo} > {floor}; {grid:?}"
                );
                assert!(
                    hi >= need - 1e-6,
                    "cell ({r},{c}) = {v}: the attacker proves it is at most {hi} < {need}; {grid:?}"
                );
                if floor <= 1.0 && !margin {
                    assert!(hi - lo >= (K - 1) as f64 - 1e-6, "width below k - 1");
                }
                checked += 1;
            }
        }
    }
    checked
}

fn random_table(rng: &mut fastrand::Rng, rows: usize, cols: usize) -> Vec<Vec<u64>> {
    (0..rows)
        .map(|_| {
            (0..cols)
                .map(|_| match rng.u8(..10) {
                    0 | 1 => 0,
                    2..=4 => rng.u64(1..11),
                    _ => rng.u64(11..150),
                })
                .collect()
        })
        .collect()
}

#[test]
fn no_suppressed_cell_is_pinned_in_random_tables_with_margins() {
    let mut rng = fastrand::Rng::with_seed(0x5eed);
    let (mut checked, mut withheld, mut tables) = (0, 0, 0);
    for _ in 0..400 {
        let (rows, cols) = (rng.usize(1..7), rng.usize(1..6));
        let grid = Grid::counts(&random_table(&mut rng, rows, cols));
        if protect(&grid).withheld {
            withheld += 1;
        }
        checked += attack(&grid);
        tables += 1;
    }
    assert!(checked > 500, "the attacker examined {checked} sensitive cells");
    assert!(withheld * 3 < tables, "{withheld} of {tables} tables withheld whole: suppression must stay useful");
}

/// Tables where some rows (or the whole table) put every person in one column: the group fact
/// "everyone at this site screened negative" must not be provable from the published cells.
#[test]
fn no_row_is_proven_to_sit_wholly_in_one_column() {
    let mut rng = fastrand::Rng::with_seed(0x0e1);
    let (mut whole, mut withheld, mut tables) = (0, 0, 0);
    for _ in 0..400 {
        let (rows, cols) = (rng.usize(1..7), rng.usize(2..6));
        let mut t = random_table(&mut rng, rows, cols);
        for row in &mut t {
            if rng.u8(..3) == 0 {
                let keep = rng.usize(..cols);
                let n = rng.u64(11..80);
                row.iter_mut().enumerate().for_each(|(c, v)| *v = if c == keep { n } else { 0 });
            }
        }
        let grid = Grid::counts(&t).no_whole_rows();
        let sup = protect(&grid);
        withheld += usize::from(sup.withheld);
        // The attacker's own list of group facts, not the grid's: every row (and the total row)
        // of 11 or more persons all in one column.
        for r in 0..=grid.rows() {
            let n = grid.value(r, grid.cols());
            for c in (0..grid.cols()).filter(|&c| n >= K && grid.value(r, c) == n) {
                assert!(sup.is_suppressed(r, c), "row {r} published as wholly in column {c}: {t:?}");
                let (lo, _) = interval(&grid, &sup, r, c);
                assert!(lo <= n as f64 - 1.0 + 1e-6, "row {r} is proven wholly in column {c} ({lo} of {n}): {t:?}");
                whole += 1;
            }
        }
        if grid.value(grid.rows(), grid.cols()) > 0 {
            attack(&grid);
        }
        tables += 1;
    }
    println!("whole rows protected: {whole} in {tables} tables, {withheld} withheld whole");
    assert!(whole > 100, "the attacker examined {whole} whole rows");
}

#[test]
fn exactly_one_small_cell_in_a_row() {
    let mut rng = fastrand::Rng::with_seed(7);
    for _ in 0..200 {
        let (rows, cols) = (rng.usize(2..8), rng.usize(2..7));
        let mut t: Vec<Vec<u64>> = (0..rows).map(|_| (0..cols).map(|_| rng.u64(11..300)).collect()).collect();
        let (r, c) = (rng.usize(..rows), rng.usize(..cols));
        t[r][c] = rng.u64(1..11);
        let grid = Grid::counts(&t);
        let sup = protect(&grid);
        assert!(!sup.withheld, "one small cell among large ones never withholds the table");
        assert_eq!(sup.count(), 4, "one rectangle protects it: {t:?}");
        assert_eq!(attack(&grid), 1);
    }
}

#[test]
fn columns_without_a_total_are_protected_by_pairs() {
    let mut rng = fastrand::Rng::with_seed(11);
    let mut checked = 0;
    for _ in 0..300 {
        let (rows, cols) = (rng.usize(1..8), rng.usize(1..5));
        let grid = Grid::counts(&random_table(&mut rng, rows, cols)).without_row_totals();
        checked += attack(&grid);
    }
    assert!(checked > 200, "{checked}");
}

#[test]
fn magnitudes_are_protected_by_their_contributors() {
    let mut rng = fastrand::Rng::with_seed(13);
    let mut checked = 0;
    for _ in 0..200 {
        let (rows, cols) = (rng.usize(2..6), rng.usize(1..4));
        let persons = random_table(&mut rng, rows, cols);
        let days: Vec<Vec<u64>> = persons.iter().map(|r| r.iter().map(|p| p * rng.u64(1..31)).collect()).collect();
        let grid = Grid::magnitudes(&days, &persons).without_row_totals();
        checked += attack(&grid);
    }
    assert!(checked > 100, "{checked}");
}

#[test]
fn a_small_total_is_suppressed_in_every_table_that_shows_it() {
    // Row 0's total is 9: sensitive. It is withheld, and so is each of its cells.
    let grid = Grid::counts(&[vec![4, 5], vec![40, 50], vec![60, 70]]);
    let sup = protect(&grid);
    assert!(sup.is_suppressed(0, 2));
    attack(&grid);
}
