//! What a provider's earlier releases published, read back from the release ledger.
//!
//! A release must be consistent with what the board already holds, not only with the data:
//! the flows of a quarter are published only for sites whose active count was published at
//! both ends of the quarter (so the flows add nothing the two counts do not already imply
//! about a hidden site), and a fiscal year's participant-days are the sum of the monthly
//! values already published (so no withheld month can be recovered by subtraction). Both
//! questions are answered here, from the frozen releases, never from today's data, which may
//! have been corrected since.

use std::collections::{BTreeMap, BTreeSet};

use crate::report::{Cell, Period, Report};

/// The published facts later releases build on, per month.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct History {
    /// Sites whose active count (table 01a) was published, per month.
    active_published: BTreeMap<Period, BTreeSet<String>>,
    /// Participant-days (table 05) as published, per month and site.
    days: BTreeMap<Period, BTreeMap<String, u64>>,
}

impl History {
    /// Reads the releases of one provider, oldest first: a later release of a period (its
    /// revision) replaces what an earlier one published.
    pub fn from_reports<'a>(reports: impl IntoIterator<Item = &'a Report>) -> Self {
        let mut out = Self::default();
        for report in reports {
            out.active_published.remove(&report.period);
            out.days.remove(&report.period);
            for table in &report.tables {
                let first_column = |i: usize| table.cells.get(i).and_then(|row| row.first());
                match table.id.as_str() {
                    "01a" => {
                        let sites = out.active_published.entry(report.period).or_default();
                        for (i, site) in table.rows.iter().enumerate() {
                            if matches!(first_column(i), Some(Cell::Count(_))) {
                                sites.insert(site.clone());
                            }
                        }
                    }
                    "05" => {
                        let days = out.days.entry(report.period).or_default();
                        for (i, site) in table.rows.iter().enumerate() {
                            if let Some(Cell::Count(v)) = first_column(i) {
                                days.insert(site.clone(), *v);
                            }
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
        self.active_published.get(&month).is_some_and(|s| s.contains(site))
    }

    /// The participant-days of `site` in `month`, if they were published.
    pub fn days(&self, month: Period, site: &str) -> Option<u64> {
        self.days.get(&month).and_then(|d| d.get(site)).copied()
    }
}
