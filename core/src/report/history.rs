//! What a provider's earlier releases published, read back from the release ledger.
//!
//! A release must be consistent with what the board already holds, not only with the data:
//! the flows of a quarter are published only for sites whose active count was published for
//! every month of the quarter and the month before (so the flows add nothing the counts do
//! not already imply about a hidden site), and only with room beyond what the published
//! monthly figures prove ([`crate::report::flows`]); a fiscal year's participant-days are the
//! sum of the monthly values already published (so no withheld month can be recovered by
//! subtraction). These questions are answered here, from the frozen releases, never from
//! today's data, which may have been corrected since.

use std::collections::BTreeMap;

use crate::report::flows::{self, StockRow};
use crate::report::suppress::K;
use crate::report::{Cell, Period, Report, Table};

/// The published facts later releases build on, per month.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct History {
    /// Active counts (table 01a) as published, per month and site.
    active_published: BTreeMap<Period, BTreeMap<String, u64>>,
    /// Participant-days (table 05) as published, per month and site.
    days: BTreeMap<Period, BTreeMap<String, u64>>,
    /// Persons served (table 07b), the largest published column, per month and site.
    served: BTreeMap<Period, BTreeMap<String, u64>>,
    /// Persons with a hearing in the quarter (table 11b), per quarter's last month and site.
    hearing: BTreeMap<Period, BTreeMap<String, u64>>,
    /// A quarter's flows (table 03) over its flow sites: the published new enrollments, or
    /// `None` when the quarter's flows were withheld.
    flows: BTreeMap<Period, Option<u64>>,
    /// Persons with mental-health care in the half-year (table 07c), per half-year's last
    /// month and site.
    care: BTreeMap<Period, BTreeMap<String, u64>>,
    /// The site rows of the stock tables of [`flows::STOCK_MOVES`], per month and table.
    stock: BTreeMap<(Period, String), BTreeMap<String, StockRow>>,
}

impl History {
    /// Reads the releases of one provider, oldest first: a later release of a period (its
    /// revision) replaces what an earlier one published.
    pub fn from_reports<'a>(reports: impl IntoIterator<Item = &'a Report>) -> Self {
        let mut out = Self::default();
        for report in reports {
            // Flows withheld whole (unless an earlier release of the quarter published them).
            if report.tables.iter().any(|t| t.id == "03" && t.geography == "provider" && t.withheld) {
                out.flows.entry(report.period).or_insert(None);
            }
            // A table a revision withheld whole leaves the board holding the earlier one.
            for table in report.tables.iter().filter(|t| !t.withheld) {
                let first_column = |i: usize| table.cells.get(i).and_then(|row| row.first());
                match table.id.as_str() {
                    "01a" => {
                        out.active_published.remove(&report.period);
                        let sites = out.active_published.entry(report.period).or_default();
                        for (i, site) in table.rows.iter().enumerate() {
                            if let Some(Cell::Count(v)) = first_column(i) {
                                sites.insert(site.clone(), *v);
                            }
                        }
                    }
                    "05" => {
                        out.days.remove(&report.period);
                        let days = out.days.entry(report.period).or_default();
                        for (i, site) in table.rows.iter().enumerate() {
                            if let Some(Cell::Count(v)) = first_column(i) {
                                days.insert(site.clone(), *v);
                            }
                        }
                    }
                    "07b" => keep_most(&mut out.served, report.period, table, most_served),
                    "11b" => keep_most(&mut out.hearing, report.period, table, with_hearing),
                    "07c" => keep_most(&mut out.care, report.period, table, with_care),
                    id if flows::STOCK_MOVES.iter().any(|(t, _)| *t == id) => {
                        let rows = out.stock.entry((report.period, id.to_owned())).or_default();
                        rows.clear();
                        for i in 0..table.rows.len() {
                            if let (Some(site), Some(row)) = (table.rows.get(i), stock_row(table, i)) {
                                rows.insert(site.clone(), row);
                            }
                        }
                    }
                    "03" if table.geography == "provider" => {
                        let new = table.columns.iter().position(|c| c == "new enrollments");
                        if let Some(Cell::Count(v)) = new.and_then(|c| table.cell(0, c)) {
                            out.flows.insert(report.period, Some(*v));
                        }
                    }
                    _ => {}
                }
            }
        }
        out
    }

    /// Whether the active count of `site` at the end of `month` was published.
    pub fn active_published(&self, month: Period, site: &str) -> bool {
        self.active(month, site).is_some()
    }

    /// The active count of `site` at the end of `month`, if it was published.
    pub fn active(&self, month: Period, site: &str) -> Option<u64> {
        self.active_published.get(&month).and_then(|s| s.get(site)).copied()
    }

    /// The participant-days of `site` in `month`, if they were published.
    pub fn days(&self, month: Period, site: &str) -> Option<u64> {
        self.days.get(&month).and_then(|d| d.get(site)).copied()
    }

    /// The most persons any published column of 07b counts at `site` in `month`.
    pub fn served(&self, month: Period, site: &str) -> Option<u64> {
        self.served.get(&month).and_then(|d| d.get(site)).copied()
    }

    /// The persons with a hearing at `site` in the quarter ending `month`, as 11b published.
    pub fn hearing(&self, month: Period, site: &str) -> Option<u64> {
        self.hearing.get(&month).and_then(|d| d.get(site)).copied()
    }

    /// The persons with mental-health care at `site` in the half-year ending `month` (07c).
    pub fn care(&self, month: Period, site: &str) -> Option<u64> {
        self.care.get(&month).and_then(|d| d.get(site)).copied()
    }

    /// The row of `site` in stock table `id` released for `month`.
    pub fn stock(&self, month: Period, id: &str, site: &str) -> Option<&StockRow> {
        self.stock.get(&(month, id.to_owned())).and_then(|rows| rows.get(site))
    }

    /// The quarter ending `month`'s flows: `Some(Some(new))` when published, `Some(None)` when
    /// withheld, `None` when no flow table was released for it.
    pub fn flows(&self, month: Period) -> Option<Option<u64>> {
        self.flows.get(&month).copied()
    }
}

/// Keeps, per site, the most `value_of` gives over every release of `period`: the board keeps
/// them all, so the largest lower bound any of them proves stands.
fn keep_most(
    into: &mut BTreeMap<Period, BTreeMap<String, u64>>,
    period: Period,
    table: &Table,
    value_of: fn(&Table, usize) -> Option<u64>,
) {
    let sites = into.entry(period).or_default();
    for (i, site) in table.rows.iter().enumerate() {
        if let Some(v) = value_of(table, i) {
            let slot = sites.entry(site.clone()).or_insert(0);
            *slot = (*slot).max(v);
        }
    }
}

/// Persons with mental-health care at row `row` of table 07c, if published.
pub fn with_care(table: &Table, row: usize) -> Option<u64> {
    let c = table.columns.iter().position(|c| c == "persons")?;
    match table.cell(row, c) {
        Some(Cell::Count(v)) => Some(*v),
        _ => None,
    }
}

/// Row `row` of a stock table as published, if its total (the site's 01a) is.
pub fn stock_row(table: &Table, row: usize) -> Option<StockRow> {
    let count = |c: usize| match table.cell(row, c) {
        Some(Cell::Count(v)) => Some(*v),
        _ => None,
    };
    let total = count(table.columns.len())?;
    Some(StockRow { cells: (0..table.columns.len()).map(count).collect(), total })
}

/// Persons with a hearing at row `row` of table 11b: its row total, or the sum of its
/// published parts (its columns partition the row).
pub fn with_hearing(table: &Table, row: usize) -> Option<u64> {
    let count = |c: usize| match table.cell(row, c) {
        Some(Cell::Count(v)) => Some(*v),
        _ => None,
    };
    count(table.columns.len()).or_else(|| {
        let parts: Vec<u64> = (0..table.columns.len()).filter_map(count).collect();
        (!parts.is_empty()).then(|| parts.iter().sum())
    })
}

/// The largest published interior cell of row `row` of table 07b: persons present at the site
/// in the month (its columns overlap, so their row total counts services, not persons).
pub fn most_served(table: &Table, row: usize) -> Option<u64> {
    let cells = table.cells.get(row)?;
    cells
        .iter()
        .take(table.columns.len())
        .filter_map(|c| match c {
            Cell::Count(v) => Some(*v),
            _ => None,
        })
        .max()
}

/// What a revision may publish beside the release it replaces, under suppression. The board
/// holds both, so their difference is a table of its own: a cell that moved by 1 to 10 counts
/// the corrected persons ("the one late exit was a woman, screened positive"), and a cell
/// withheld in one and published in the other is the published value give or take that
/// difference. Such a table is withheld whole in the revision (the board keeps the original's),
/// and its id is returned. Cells that moved by 0 or by 11 or more, and tables or rows the
/// original lacked, publish.
pub fn withhold_small_changes(original: &Report, revised: &mut Report) -> Vec<String> {
    let mut withheld = Vec::new();
    for table in &mut revised.tables {
        let Some(before) = original.tables.iter().find(|t| t.id == table.id) else { continue };
        if table.withheld || !moved_a_little(before, table) {
            continue;
        }
        for cell in table.cells.iter_mut().flatten() {
            *cell = Cell::Suppressed;
        }
        table.withheld = true;
        withheld.push(table.id.clone());
    }
    withheld
}

/// The cell at `(r, c)`, if both exist.
fn at(t: &Table, r: Option<usize>, c: Option<usize>) -> Option<&Cell> {
    t.cells.get(r?)?.get(c?)
}

/// Whether some cell, matched by row and column label, moved by 1 to 10 or changed between
/// published and withheld; or the withheld part of a row or column (its published total less
/// its published cells) moved by 1 to 10. The `Total` row and column are matched by position,
/// so a site named "Total" cannot stand in for them.
fn moved_a_little(before: &Table, after: &Table) -> bool {
    let row_of = |t: &Table, key: Option<&String>| match key {
        Some(site) => t.rows.iter().position(|x| x == site),
        None => Some(t.rows.len()),
    };
    let col_of = |t: &Table, key: Option<&String>| match key {
        Some(name) => t.columns.iter().position(|x| x == name),
        None => t.row_totals.then_some(t.columns.len()),
    };
    let small = |a: &Cell, b: &Cell| match (a, b) {
        (Cell::Count(a), Cell::Count(b)) => (1..K).contains(&a.abs_diff(*b)),
        (Cell::Count(_), Cell::Suppressed) | (Cell::Suppressed, Cell::Count(_)) => true,
        _ => false,
    };
    let row_keys: Vec<Option<&String>> = after.rows.iter().map(Some).chain([None]).collect();
    let col_keys: Vec<Option<&String>> =
        after.columns.iter().map(Some).chain(after.row_totals.then_some(None)).collect();
    for rk in &row_keys {
        for ck in &col_keys {
            let (Some(new), Some(old)) = (
                at(after, row_of(after, *rk), col_of(after, *ck)),
                at(before, row_of(before, *rk), col_of(before, *ck)),
            ) else {
                continue;
            };
            if small(old, new) {
                return true;
            }
        }
    }
    // The withheld part of a line: its total less its published cells.
    let hidden = |cells: Vec<Option<&Cell>>, total: Option<&Cell>| -> Option<u64> {
        let Some(Cell::Count(total)) = total else { return None };
        let published: u64 = cells.iter().map(|c| if let Some(Cell::Count(v)) = c { *v } else { 0 }).sum();
        Some(total.saturating_sub(published))
    };
    let moved =
        |a: Option<u64>, b: Option<u64>| matches!((a, b), (Some(a), Some(b)) if (1..K).contains(&a.abs_diff(b)));
    if after.row_totals && before.row_totals {
        for rk in &row_keys {
            let line = |t: &Table| {
                let r = row_of(t, *rk);
                let cells = (0..t.columns.len()).map(|c| at(t, r, Some(c))).collect();
                hidden(cells, at(t, r, Some(t.columns.len())))
            };
            if moved(line(before), line(after)) {
                return true;
            }
        }
    }
    for ck in &col_keys {
        let line = |t: &Table| {
            let c = col_of(t, *ck);
            let cells = (0..t.rows.len()).map(|r| at(t, Some(r), c)).collect();
            hidden(cells, at(t, Some(t.rows.len()), c))
        };
        if moved(line(before), line(after)) {
            return true;
        }
    }
    false
}
