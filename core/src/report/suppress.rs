//! Small-cell suppression with complementary suppression (the default disclosure method).
//!
//! A table is a grid of interior cells with a total for every row, every column, and the
//! whole table. A cell is *sensitive* when it describes 1 to 10 persons or events (k = 11;
//! zero may be published). Suppressing a sensitive cell alone is not enough: a reader can
//! subtract the published cells of its row from the row total. So every sensitive cell is
//! protected by a *rectangle*: three more cells, chosen so that the four can move together
//! (+t, -t, -t, +t, with signs flipped for totals) without changing any published number.
//! While the rectangle can move, a reader holding every published cell cannot tell the
//! sensitive value from 1, nor from k.
//!
//! A reader also knows the rules: zeros are published and a complement of a small cell is never
//! zero, so outside the tables with the whole-row rule every withheld cell is at least 1. The
//! rectangle of a small cell therefore keeps its corners at 1 or more as they move; one that
//! only worked by taking a corner to 0 would let that reader pin the cell between 1 and 10.
//! (A whole-row cell's rectangle may hide a zero of its row: in the tables of
//! [`Grid::no_whole_rows`] a withheld cell can be 0.)
//!
//! **Protection rule** (what the linear-programming attacker in `tests/tests/suppression.rs`
//! checks, with every withheld cell at least 1): for every sensitive cell with value v, the
//! set of values consistent with all published cells contains both 1 and at least
//! [`Grid::required_upper`] (k = 11 for counts; max(k, 2v) for magnitudes such as
//! participant-days). In the tables of sensitive categories
//! and demographics, a cell holding every person of its row (everyone at a site screened
//! negative) is sensitive too, and its set reaches one below its value ([`Grid::no_whole_rows`]).
//!
//! Suppressing more cells only widens what a reader must consider, so rectangles chosen one
//! sensitive cell at a time protect all of them together. Rectangles prefer cells already
//! suppressed, then the smallest values: the information lost is the sum of the values newly
//! hidden.
//!
//! **Linked tables.** Row totals and grand totals (persons per site, persons in all) are never
//! chosen as complements: other tables of the same report publish the same totals, which would
//! undo the protection. Tables whose every cell is published elsewhere are [`Grid::locked`].
//! A table whose sensitive cells cannot be covered under these limits, or whose grand total is
//! itself sensitive, is withheld whole.

/// The smallest count that may be published (besides zero).
pub const K: u64 = 11;

/// A table of non-negative values with all its margins, ready for suppression.
///
/// Cells are indexed `(row, column)`; row `rows()` is the column-total row and column
/// `cols()` the row-total column, so `(rows(), cols())` is the grand total.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Grid {
    row_totals: bool,
    locked: bool,
    rows: usize,
    cols: usize,
    value: Vec<u64>,
    sensitive: Vec<bool>,
    need: Vec<u64>,
    /// How far below its value a sensitive cell's range must reach: down to 1 for a small cell
    /// (a reader knows a withheld cell is not zero); 1 below for a whole-row cell
    /// ([`Grid::no_whole_rows`]).
    down: Vec<u64>,
}

impl Grid {
    /// A count table (persons or events): margins are summed; a cell is sensitive when its
    /// value is 1 to 10.
    pub fn counts(interior: &[Vec<u64>]) -> Self {
        Self::build(interior, None)
    }

    /// A magnitude table (days, for example) whose cells are sensitive when the number of
    /// persons behind them is 1 to 10. `persons` has the same shape as `interior`; a person
    /// may stand behind several cells, so margins of `persons` are given as sums (an upper
    /// bound of the distinct count, which can only make more cells sensitive).
    pub fn magnitudes(interior: &[Vec<u64>], persons: &[Vec<u64>]) -> Self {
        Self::build(interior, Some(persons))
    }

    fn build(interior: &[Vec<u64>], persons: Option<&[Vec<u64>]>) -> Self {
        let rows = interior.len();
        let cols = interior.iter().map(Vec::len).max().unwrap_or(0);
        let at = |m: &[Vec<u64>], r: usize, c: usize| m.get(r).and_then(|row| row.get(c)).copied().unwrap_or(0);
        let full = |m: &[Vec<u64>]| {
            let mut out = vec![0u64; (rows + 1) * (cols + 1)];
            for r in 0..rows {
                for c in 0..cols {
                    let v = at(m, r, c);
                    for i in
                        [r * (cols + 1) + c, r * (cols + 1) + cols, rows * (cols + 1) + c, rows * (cols + 1) + cols]
                    {
                        if let Some(slot) = out.get_mut(i) {
                            *slot = slot.saturating_add(v);
                        }
                    }
                }
            }
            out
        };
        let value = full(interior);
        let (sensitive, need) = match persons {
            None => (value.iter().map(|&v| (1..K).contains(&v)).collect(), vec![K; value.len()]),
            Some(p) => {
                let p = full(p);
                (
                    p.iter().map(|&n| (1..K).contains(&n)).collect(),
                    value.iter().map(|&v| K.max(v.saturating_mul(2))).collect(),
                )
            }
        };
        // A reader knows a withheld count is at least 1 (zeros are published, and a complement
        // is never zero), so a small cell's range must reach 1, not 0.
        let down = value.iter().map(|v| v.saturating_sub(1)).collect();
        Self { row_totals: true, locked: false, rows, cols, value, sensitive, need, down }
    }

    /// The same table published without its `Total` column, for columns that do not partition
    /// a row (a person may count in several). Each column is then protected on its own, by
    /// pairs of cells within the column.
    pub fn without_row_totals(mut self) -> Self {
        self.row_totals = false;
        for r in 0..=self.rows {
            let i = self.index(r, self.cols);
            if let Some(s) = self.sensitive.get_mut(i) {
                *s = false;
            }
        }
        self
    }

    /// Protects group facts: a row (or the total row) whose persons all fall in one column
    /// would say that everyone at a site, or at the provider, screened negative, or shares
    /// one nationality. Such a cell becomes sensitive, protected so that a reader cannot rule
    /// out that at least one person of the row is elsewhere (its range reaches one below its
    /// value). Rows of 1 to 10 persons are already small cells. For tables whose columns
    /// partition a row.
    pub fn no_whole_rows(mut self) -> Self {
        if !self.row_totals {
            return self;
        }
        for r in 0..=self.rows {
            let total = self.value(r, self.cols);
            if total < K {
                continue;
            }
            for c in 0..self.cols {
                if self.value(r, c) == total {
                    self.mark_group_fact(r, c, total);
                }
            }
        }
        self
    }

    /// [`Grid::no_whole_rows`] for tables whose columns overlap (a person may count in several,
    /// so there is no row total): a cell of `columns` that holds every person of its row's
    /// population, as published elsewhere (`population[r]`, 01a's total for a provider-wide
    /// row), would say that everyone seeks asylum, or has a departure plan. So would a withheld
    /// cell if only "everyone" and small values were ever withheld: every cell within 10 of the
    /// population is withheld too, and a withheld cell then means "10 or fewer, or within 10 of
    /// everyone", never "everyone".
    pub fn no_whole_population(mut self, population: &[u64], columns: &[usize]) -> Self {
        for (r, &total) in population.iter().enumerate().take(self.rows) {
            if total < K {
                continue;
            }
            let cols = self.cols;
            for &c in columns.iter().filter(|&&c| c < cols) {
                if self.value(r, c) >= K && self.value(r, c) + K > total {
                    self.mark_group_fact(r, c, total);
                }
            }
        }
        self
    }

    /// Makes a cell that holds (nearly) all of a row's `total` persons sensitive: its range must
    /// reach `total` and one below its value.
    fn mark_group_fact(&mut self, r: usize, c: usize, total: u64) {
        let i = self.index(r, c);
        if let (Some(s), Some(n), Some(d)) = (self.sensitive.get_mut(i), self.need.get_mut(i), self.down.get_mut(i)) {
            *s = true;
            *n = total;
            *d = 1;
        }
    }

    /// Marks every cell as published elsewhere in the same report (active persons per site,
    /// for example, are the row totals of several tables): none may be hidden as a complement,
    /// so a sensitive cell is protected only by other sensitive cells, or the table is
    /// withheld.
    pub fn locked(mut self) -> Self {
        self.locked = true;
        self
    }

    /// Whether a cell may be hidden to protect another. Row totals and the grand total never
    /// are: the same totals (persons per site, persons in all) appear in several tables, and
    /// one table hiding what another publishes would undo the protection.
    pub fn may_complement(&self, _row: usize, c: usize) -> bool {
        c != self.cols && !self.locked
    }

    /// Whether the `Total` column is published.
    pub fn has_row_totals(&self) -> bool {
        self.row_totals
    }

    /// Interior rows.
    pub fn rows(&self) -> usize {
        self.rows
    }

    /// Interior columns.
    pub fn cols(&self) -> usize {
        self.cols
    }

    fn index(&self, r: usize, c: usize) -> usize {
        r * (self.cols + 1) + c
    }

    /// The value at `(row, column)`, margins included.
    pub fn value(&self, r: usize, c: usize) -> u64 {
        self.value.get(self.index(r, c)).copied().unwrap_or(0)
    }

    /// Whether the cell is sensitive (primary suppression).
    pub fn is_sensitive(&self, r: usize, c: usize) -> bool {
        self.sensitive.get(self.index(r, c)).copied().unwrap_or(false)
    }

    /// Whether the cell is sensitive because it holds its whole row ([`Grid::no_whole_rows`],
    /// [`Grid::no_whole_population`]) rather than because it is small.
    pub fn is_whole_row_cell(&self, r: usize, c: usize) -> bool {
        let v = self.value(r, c);
        self.is_sensitive(r, c) && v >= K && self.required_lower(r, c) + 1 == v && self.required_upper(r, c) == v
    }

    /// The value a sensitive cell must be able to reach, as far as a reader can tell.
    pub fn required_upper(&self, r: usize, c: usize) -> u64 {
        self.need.get(self.index(r, c)).copied().unwrap_or(K)
    }

    /// The value a sensitive cell must be able to fall to, as far as a reader can tell: 1 for
    /// a small cell, one less than its value for a whole-row cell.
    pub fn required_lower(&self, r: usize, c: usize) -> u64 {
        let i = self.index(r, c);
        let v = self.value(r, c);
        v.saturating_sub(self.down.get(i).copied().unwrap_or(v))
    }
}

/// Which cells of a [`Grid`] are withheld.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Suppression {
    cols: usize,
    suppressed: Vec<bool>,
    /// Every cell is withheld: the table could not be protected otherwise.
    pub withheld: bool,
}

impl Suppression {
    /// Whether `(row, column)` is withheld.
    pub fn is_suppressed(&self, r: usize, c: usize) -> bool {
        self.suppressed.get(r * (self.cols + 1) + c).copied().unwrap_or(true)
    }

    /// How many cells are withheld, margins included.
    pub fn count(&self) -> usize {
        self.suppressed.iter().filter(|&&s| s).count()
    }
}

/// Chooses the cells to withhold: every sensitive cell, and complements that protect them.
pub fn protect(grid: &Grid) -> Suppression {
    let (rows, cols) = (grid.rows, grid.cols);
    let mut sup = grid.sensitive.clone();
    let withhold_all = |sup: &mut Vec<bool>| {
        sup.iter_mut().for_each(|s| *s = true);
        Suppression { cols, suppressed: std::mem::take(sup), withheld: true }
    };
    if grid.is_sensitive(rows, cols) {
        return withhold_all(&mut sup);
    }
    let primaries: Vec<(usize, usize)> =
        (0..=rows).flat_map(|r| (0..=cols).map(move |c| (r, c))).filter(|&(r, c)| grid.is_sensitive(r, c)).collect();
    for (r, c) in primaries {
        match best_rectangle(grid, &sup, r, c) {
            Some(corners) => {
                for (rr, cc) in corners {
                    let i = grid.index(rr, cc);
                    if let Some(s) = sup.get_mut(i) {
                        *s = true;
                    }
                }
            }
            None => return withhold_all(&mut sup),
        }
    }
    Suppression { cols, suppressed: sup, withheld: false }
}

/// Information lost (sum of newly hidden values), then the number of newly hidden cells.
type Cost = (u64, u32);
/// The three cells that move with a sensitive one.
type Corners = [(usize, usize); 3];

/// The cheapest rectangle through `(r, c)` that keeps the cell's feasible range wide enough,
/// as its three other corners.
fn best_rectangle(grid: &Grid, sup: &[bool], r: usize, c: usize) -> Option<[(usize, usize); 3]> {
    let (rows, cols) = (grid.rows, grid.cols);
    let v = grid.value(r, c);
    let up_need = grid.required_upper(r, c).saturating_sub(v);
    let down_need = v.saturating_sub(grid.required_lower(r, c));
    // A whole-row cell is protected by showing that someone of its row may be elsewhere: a zero
    // of its row, hidden, is the natural corner (it only has to rise). In tables with that rule
    // a withheld cell may therefore be 0, and readers are told so; everywhere else it never is.
    let whole = grid.is_whole_row_cell(r, c);
    let suppressed = |rr: usize, cc: usize| sup.get(grid.index(rr, cc)).copied().unwrap_or(false);
    let mut best: Option<(Cost, Corners)> = None;
    let mut consider = |corners: &[((usize, usize), bool)]| {
        let mut cost = (0u64, 0u32);
        for &((rr, cc), same_sign) in corners {
            let val = grid.value(rr, cc);
            let already = suppressed(rr, cc);
            // A cell moving with the sensitive one must be able to fall as far as it does; one
            // moving against it must be able to fall by the headroom above its value. Either
            // must stay at 1 or more: a reader knows no withheld cell is zero, so a corner that
            // could only fall to 0 would not move at all in the reader's eyes (and a zero is
            // never hidden, which keeps that knowledge true).
            let room_needed = if same_sign { down_need } else { up_need };
            let too_low = if whole { val < room_needed } else { val <= room_needed };
            if too_low || (!already && !grid.may_complement(rr, cc)) {
                return;
            }
            if !already {
                cost.0 = cost.0.saturating_add(val);
                cost.1 += 1;
            }
        }
        if best.as_ref().is_none_or(|(b, _)| cost < *b) {
            let mut out = [(r, c); 3];
            for (slot, (corner, _)) in out.iter_mut().zip(corners) {
                *slot = *corner;
            }
            best = Some((cost, out));
        }
    };
    for k in (0..=rows).filter(|&k| k != r) {
        // The sign of the other row: opposite when both are interior or both are totals.
        let alpha = (k == rows) != (r == rows);
        if !grid.row_totals {
            // Only the column's equation binds: a pair within the column.
            consider(&[((k, c), alpha)]);
            continue;
        }
        for l in (0..=cols).filter(|&l| l != c) {
            let beta = (l == cols) != (c == cols);
            // (corner, moves with the sensitive cell?)
            consider(&[((r, l), beta), ((k, c), alpha), ((k, l), alpha == beta)]);
        }
    }
    best.map(|(_, corners)| corners)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::indexing_slicing, reason = "test tables are indexed directly")]
    use super::*;

    #[test]
    fn one_small_cell_gets_a_rectangle() {
        let g = Grid::counts(&[vec![50, 3, 40], vec![60, 30, 20], vec![70, 80, 90]]);
        let s = protect(&g);
        assert!(!s.withheld);
        assert!(s.is_suppressed(0, 1));
        assert_eq!(s.count(), 4, "one rectangle");
        // Margins stay published.
        for r in 0..3 {
            assert!(!s.is_suppressed(r, 3));
        }
    }

    #[test]
    fn small_grand_total_withholds_the_table() {
        let s = protect(&Grid::counts(&[vec![1, 2], vec![3, 0]]));
        assert!(s.withheld);
    }

    #[test]
    fn zeros_and_large_values_publish() {
        let s = protect(&Grid::counts(&[vec![0, 20], vec![30, 0]]));
        assert_eq!(s.count(), 0);
    }
}
