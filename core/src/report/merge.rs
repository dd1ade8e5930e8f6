//! Merging several providers' reports into national tables, on the board's side.
//!
//! * Site rows are kept as each provider published them, labelled `provider / site`.
//! * The `Total` row is the sum of the providers' total rows. Where any provider suppressed the
//!   cell, the merged cell is a [`Cell::Bound`]: the sum of what was published, and an upper
//!   limit from that provider's published totals. It is never printed as a number.
//! * Noisy cells add their values and variances, and carry a 95 % interval.
//! * Tables whose columns differ between providers (top-N nationality, for example) are not
//!   merged: their "other" columns hold different things.

use std::collections::BTreeMap;

use crate::report::bundle::SignedReport;
use crate::report::indicator::ALL_SITES;
use crate::report::{Cell, Table};

/// National tables from several providers' reports, and what could not be merged.
#[derive(Clone, Debug, PartialEq)]
pub struct Merged {
    /// The providers, in input order.
    pub providers: Vec<String>,
    /// The merged tables.
    pub tables: Vec<Table>,
    /// Tables left unmerged, with why.
    pub skipped: Vec<String>,
}

/// One provider's contribution to a merged cell.
enum Part {
    Exact(u64),
    Noisy(i64, f64),
    /// Suppressed; with the largest value it can have, if the provider's totals bound it.
    Hidden(Option<u64>),
}

/// Merges the tables of several reports. Reports should share a period; tables are matched by
/// id and covered period.
pub fn merge(reports: &[SignedReport]) -> Merged {
    let providers: Vec<String> = reports.iter().map(|r| r.report.provider.clone()).collect();
    let mut groups: BTreeMap<(String, String), Vec<(&str, &Table)>> = BTreeMap::new();
    for r in reports {
        for t in &r.report.tables {
            groups.entry((t.id.clone(), t.covers.clone())).or_default().push((r.report.provider.as_str(), t));
        }
    }
    let mut tables = Vec::new();
    let mut skipped = Vec::new();
    for ((id, covers), parts) in groups {
        let Some((_, first)) = parts.first() else { continue };
        if parts.iter().any(|(_, t)| t.columns != first.columns || t.row_totals != first.row_totals) {
            skipped.push(format!("{id} ({covers}): providers published different columns"));
            continue;
        }
        let width = first.columns.len() + usize::from(first.row_totals);
        let mut rows = Vec::new();
        let mut cells = Vec::new();
        for (provider, t) in &parts {
            for (ri, label) in t.rows.iter().enumerate() {
                rows.push(if label == ALL_SITES { (*provider).to_owned() } else { format!("{provider} / {label}") });
                cells.push(t.cells.get(ri).cloned().unwrap_or_default());
            }
        }
        let total_row: Vec<Cell> = (0..width)
            .map(|c| {
                let contributions: Vec<Part> = parts.iter().map(|(_, t)| part(t, t.rows.len(), c)).collect();
                combine(&contributions)
            })
            .collect();
        cells.push(total_row);
        tables.push(Table {
            id: id.clone(),
            indicator: first.indicator,
            title: first.title.clone(),
            unit: first.unit.clone(),
            covers: covers.clone(),
            grain: first.grain,
            geography: first.geography.clone(),
            rows,
            columns: first.columns.clone(),
            row_totals: first.row_totals,
            cells,
            withheld: parts.iter().all(|(_, t)| t.withheld),
        });
    }
    Merged { providers, tables, skipped }
}

/// What a provider's total-row cell contributes.
fn part(t: &Table, r: usize, c: usize) -> Part {
    match t.cell(r, c) {
        Some(Cell::Count(v)) => Part::Exact(*v),
        Some(Cell::Noisy { value, variance }) => Part::Noisy(*value, *variance),
        _ => {
            // A suppressed column total is at most the published grand total.
            let grand = t.cell(t.rows.len(), t.columns.len());
            Part::Hidden(match (t.row_totals, grand) {
                (true, Some(Cell::Count(g))) => Some(*g),
                _ => None,
            })
        }
    }
}

fn combine(parts: &[Part]) -> Cell {
    let hidden = parts.iter().any(|p| matches!(p, Part::Hidden(_)));
    let noisy = parts.iter().any(|p| matches!(p, Part::Noisy(..)));
    if hidden {
        let low: u64 = parts
            .iter()
            .map(|p| match p {
                Part::Exact(v) => *v,
                Part::Noisy(v, _) => u64::try_from(*v).unwrap_or(0),
                Part::Hidden(_) => 0,
            })
            .sum();
        // Exact parts are exact; noisy ones have no hard upper limit; hidden ones add their
        // bound.
        let mut high = if noisy { None } else { Some(low) };
        for p in parts {
            if let Part::Hidden(bound) = p {
                high = match (high, bound) {
                    (Some(h), Some(b)) => Some(h + b),
                    _ => None,
                };
            }
        }
        // Never a single number: a bound whose ends meet is widened to an open one.
        let high = high.filter(|h| *h > low);
        return Cell::Bound { low, high };
    }
    if noisy {
        let (value, variance) = parts.iter().fold((0i64, 0f64), |(v, var), p| match p {
            Part::Exact(x) => (v.saturating_add(i64::try_from(*x).unwrap_or(i64::MAX)), var),
            Part::Noisy(x, s) => (v.saturating_add(*x), var + s),
            Part::Hidden(_) => (v, var),
        });
        let half = 1.96 * variance.sqrt();
        return Cell::Estimate { value, variance, low: value as f64 - half, high: value as f64 + half };
    }
    Cell::Count(parts.iter().map(|p| if let Part::Exact(v) = p { *v } else { 0 }).sum())
}
