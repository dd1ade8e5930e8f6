//! What a board analyst reads from noisy tables: non-negative estimates whose margins add up,
//! each with an interval that still holds.
//!
//! The signed report keeps the raw noisy values. They are unbiased, so sums across providers
//! (the merge) stay unbiased, and a negative value is what the mechanism drew. A reader of one
//! table wants something else: no negative counts, and totals that equal the sum of their
//! parts. This view is post-processing of the published values only, so it costs no privacy:
//! - an interior cell becomes `max(0, value)`, with its interval `[v - h, v + h]` clamped at 0;
//!   the true count is never negative, so whenever the raw interval held, the clamped one
//!   holds too;
//! - a total becomes the sum of its displayed parts (consistent margins), and keeps its own
//!   raw interval, clamped at 0 and widened if needed to contain the displayed sum (widening
//!   never lowers coverage).
//!
//! The price: clamping biases small cells upward (a true 0 shows about 0.4 standard deviations
//! on average), which is why the merge sums the raw values instead.

use crate::report::noise::NOISY_CONFIDENCE;
use crate::report::{Cell, Table};

/// The table as a board analyst reads it: every noisy (or summed noisy) cell as a
/// non-negative [`Cell::Estimate`], totals equal to the sum of their displayed parts. Exact,
/// suppressed and bounded cells are unchanged; a total with such a part keeps its own value,
/// clamped.
pub fn readable(table: &Table) -> Table {
    let mut out = table.clone();
    let columns = table.columns.len();
    let interior_rows = table.cells.len().saturating_sub(1);
    for row in out.cells.iter_mut().take(interior_rows) {
        for cell in row.iter_mut().take(columns) {
            *cell = clamped(cell);
        }
    }
    if table.row_totals {
        for row in out.cells.iter_mut().take(interior_rows) {
            let parts: Vec<Cell> = row.iter().take(columns).cloned().collect();
            if let Some(total) = row.get_mut(columns) {
                *total = summed(&parts, total);
            }
        }
    }
    let width = columns + usize::from(table.row_totals);
    for c in 0..width {
        let parts: Vec<Cell> = out.cells.iter().take(interior_rows).filter_map(|row| row.get(c).cloned()).collect();
        if let Some(total) = out.cells.get_mut(interior_rows).and_then(|row| row.get_mut(c)) {
            *total = summed(&parts, total);
        }
    }
    out
}

/// A noisy cell or estimate as a non-negative estimate with its interval clamped at 0.
fn clamped(cell: &Cell) -> Cell {
    match cell {
        Cell::Noisy { value, variance, .. } => {
            let (low, high) = cell.noisy_interval().unwrap_or((*value, *value));
            Cell::Estimate {
                value: (*value).max(0),
                variance: *variance,
                low: non_negative(low),
                high: non_negative(high),
                confidence: NOISY_CONFIDENCE,
            }
        }
        Cell::Estimate { value, variance, low, high, confidence } => Cell::Estimate {
            value: (*value).max(0),
            variance: *variance,
            low: *low,
            high: (*high).max(*low),
            confidence: *confidence,
        },
        other => other.clone(),
    }
}

/// A total as the sum of its displayed parts, when every part is a number; its own interval,
/// clamped, widened to contain that sum.
fn summed(parts: &[Cell], own: &Cell) -> Cell {
    let own = clamped(own);
    let Cell::Estimate { variance, low, high, confidence, .. } = own else { return own };
    let mut sum: i64 = 0;
    for part in parts {
        let v = match part {
            Cell::Count(v) => i64::try_from(*v).unwrap_or(i64::MAX),
            Cell::Estimate { value, .. } => *value,
            _ => return own,
        };
        sum = sum.saturating_add(v);
    }
    let at = non_negative(sum);
    Cell::Estimate { value: sum, variance, low: low.min(at), high: high.max(at), confidence }
}

fn non_negative(v: i64) -> u64 {
    u64::try_from(v).unwrap_or(0)
}
