//! Merging several providers' reports into national tables, on the board's side.
//!
//! * [`one_per_provider`] comes first: one period, one bundle per provider (by signing key and
//!   by provider id), never the same bundle twice. A provider's older bundle gives way to its
//!   newer one only when the caller asks, and only when the two are signed by one key, so their
//!   log heads order them.
//! * Site rows are kept as each provider published them, labelled `provider / site`.
//! * The `Total` row sums every provider's honest bounds for its total-row cell: an exact cell,
//!   its value; a suppressed cell, 0 up to what that provider's published totals leave for it;
//!   a noisy cell, its stated interval clamped at 0 below (no count is negative). All exact
//!   gives a [`Cell::Count`]; any suppressed part gives a [`Cell::Bound`], never one number;
//!   noise and exact parts give a [`Cell::Estimate`].
//! * A noisy cell's interval holds with probability 95 %, not for certain. The merged range
//!   holds whenever every noisy part's interval does, so with probability at least 100 % less
//!   5 % per noisy part (the union bound), and the merged cell states that figure. The lowest
//!   confidence of the parts would overstate it: two discrete Laplace cells whose 95 % intervals
//!   are single points (epsilon 3.7) both hold only about 90.7 % of the time.
//! * Tables whose columns differ between providers (a report from before the fixed
//!   vocabularies, whose nationality columns were each provider's most frequent values) are
//!   not merged: their "other" columns hold different things.

use std::collections::BTreeMap;

use crate::audit::LogHead;
use crate::report::bundle::SignedReport;
use crate::report::indicator::ALL_SITES;
use crate::report::noise::NOISY_CONFIDENCE;
use crate::report::{Cell, Period, Table};

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

/// A bundle offered to a merge, under the name its user knows it by (its file).
#[derive(Clone, Debug)]
pub struct Input {
    /// The file name, as given.
    pub name: String,
    /// The opened, verified bundle.
    pub bundle: SignedReport,
}

/// The bundles a merge keeps, and those it left out for a newer one.
#[derive(Clone, Debug)]
pub struct Selection {
    /// One bundle per provider, in input order.
    pub kept: Vec<Input>,
    /// Each older bundle left out, with the newer one that replaced it.
    pub replaced: Vec<Replaced>,
}

/// An older bundle of a provider, replaced by its newer one.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Replaced {
    /// The provider id of the newer bundle.
    pub provider: String,
    /// The older bundle's name.
    pub older: String,
    /// Its log-head sequence number.
    pub older_seq: u64,
    /// The newer bundle's name.
    pub newer: String,
    /// Its log-head sequence number.
    pub newer_seq: u64,
}

impl std::fmt::Display for Replaced {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{} (log entry {}) replaced by {} (log entry {}), the newer bundle of {:?}",
            self.older, self.older_seq, self.newer, self.newer_seq, self.provider
        )
    }
}

/// Why a set of bundles cannot be merged.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum Refusal {
    /// Nothing to merge.
    #[error("no bundles to merge")]
    Empty,
    /// One bundle given twice (one file twice, or two copies of it).
    #[error("{first} and {second} are the same bundle given twice")]
    SameBundle {
        /// The first name.
        first: String,
        /// The second name.
        second: String,
    },
    /// Bundles of different periods.
    #[error("{first} is for {first_period} but {second} is for {second_period}: merge one period at a time")]
    PeriodMismatch {
        /// The first bundle.
        first: String,
        /// Its period.
        first_period: Period,
        /// A bundle of another period.
        second: String,
        /// Its period.
        second_period: Period,
    },
    /// Two bundles from one provider for the period: it would be counted twice.
    #[error(
        "{first} ({first_provider:?}) and {second} ({second_provider:?}) are from the same provider ({why}) for \
         {period}; merge one bundle per provider, or ask to replace the older (--replace-older)"
    )]
    Duplicate {
        /// The bundle kept so far.
        first: String,
        /// Its provider id.
        first_provider: String,
        /// The bundle from the same provider.
        second: String,
        /// Its provider id.
        second_provider: String,
        /// What they share: the signing key, the provider id, or both.
        why: &'static str,
        /// The period.
        period: Period,
    },
    /// Two bundles from one provider whose order cannot be told, so neither can replace the other.
    #[error(
        "{first} and {second} are from the same provider ({provider:?}), but which is newer cannot be told: {why}"
    )]
    Unordered {
        /// The bundle kept so far.
        first: String,
        /// The other.
        second: String,
        /// The provider id of the second.
        provider: String,
        /// Why not.
        why: &'static str,
    },
}

/// The log-head sequence number a report carries under its signature.
fn sequence(r: &SignedReport) -> Option<u64> {
    r.report.log_head.as_deref().and_then(|h| h.parse::<LogHead>().ok()).map(|h| h.seq)
}

/// Checks that the bundles are distinct, share one period, and hold one bundle per provider
/// (none sharing a signing key or a provider id with another). With `replace_older`, a
/// provider's older bundles give way to its newest, ordered by the disclosure-log sequence
/// number each report carries under its signature; that needs the bundles to be signed by one
/// key (one vault) and to carry distinct sequence numbers.
pub fn one_per_provider(inputs: Vec<Input>, replace_older: bool) -> Result<Selection, Refusal> {
    let first = inputs.first().ok_or(Refusal::Empty)?;
    for (i, a) in inputs.iter().enumerate() {
        for b in inputs.iter().skip(i + 1) {
            if a.bundle.signer == b.bundle.signer && a.bundle.report == b.bundle.report {
                return Err(Refusal::SameBundle { first: a.name.clone(), second: b.name.clone() });
            }
        }
    }
    let period = first.bundle.report.period;
    if let Some(other) = inputs.iter().find(|x| x.bundle.report.period != period) {
        return Err(Refusal::PeriodMismatch {
            first: first.name.clone(),
            first_period: period,
            second: other.name.clone(),
            second_period: other.bundle.report.period,
        });
    }
    let mut kept: Vec<Input> = Vec::with_capacity(inputs.len());
    let mut replaced = Vec::new();
    for x in inputs {
        let same_key = |k: &Input| k.bundle.signer == x.bundle.signer;
        let same_id = |k: &Input| k.bundle.report.provider == x.bundle.report.provider;
        let clashes: Vec<usize> =
            (0..kept.len()).filter(|&i| kept.get(i).is_some_and(|k| same_key(k) || same_id(k))).collect();
        let Some(&first_clash) = clashes.first() else {
            kept.push(x);
            continue;
        };
        let Some(k) = kept.get(first_clash) else { continue };
        if !replace_older {
            let why = match (same_key(k), same_id(k)) {
                (true, true) => "same provider id and signing key",
                (true, false) => "same signing key",
                _ => "same provider id",
            };
            return Err(Refusal::Duplicate {
                first: k.name.clone(),
                first_provider: k.bundle.report.provider.clone(),
                second: x.name.clone(),
                second_provider: x.bundle.report.provider.clone(),
                why,
                period,
            });
        }
        let unordered = |k: &Input, why| Refusal::Unordered {
            first: k.name.clone(),
            second: x.name.clone(),
            provider: x.bundle.report.provider.clone(),
            why,
        };
        let Some(new_seq) = sequence(&x.bundle) else {
            return Err(unordered(k, "a bundle carries no log head"));
        };
        let mut newer_than_all = true;
        let mut older_than_all = true;
        for &i in &clashes {
            let Some(k) = kept.get(i) else { continue };
            if !same_key(k) {
                return Err(unordered(k, "they are signed by different keys, so their log heads do not compare"));
            }
            match sequence(&k.bundle) {
                None => return Err(unordered(k, "a bundle carries no log head")),
                Some(s) if s == new_seq => {
                    return Err(unordered(k, "they carry the same log-head sequence number (a copied vault?)"))
                }
                Some(s) => {
                    newer_than_all &= new_seq > s;
                    older_than_all &= new_seq < s;
                }
            }
        }
        if newer_than_all {
            for &i in clashes.iter().rev() {
                if i < kept.len() {
                    let old = kept.remove(i);
                    replaced.push(Replaced {
                        provider: x.bundle.report.provider.clone(),
                        older_seq: sequence(&old.bundle).unwrap_or(0),
                        older: old.name,
                        newer: x.name.clone(),
                        newer_seq: new_seq,
                    });
                }
            }
            kept.insert(first_clash.min(kept.len()), x);
        } else if older_than_all {
            replaced.push(Replaced {
                provider: k.bundle.report.provider.clone(),
                older: x.name.clone(),
                older_seq: new_seq,
                newer: k.name.clone(),
                newer_seq: sequence(&k.bundle).unwrap_or(0),
            });
        } else {
            return Err(unordered(k, "it is newer than one of them and older than another"));
        }
    }
    Ok(Selection { kept, replaced })
}

/// One provider's contribution to a merged total-row cell: what it is known to lie in.
enum Part {
    Exact(u64),
    /// A noisy value, its variance, and its stated interval clamped at 0 below.
    Noisy {
        value: i64,
        variance: f64,
        low: u64,
        high: u64,
    },
    /// Suppressed: somewhere from 0 to this, if the provider's published totals bound it.
    Hidden(Option<u64>),
}

/// Merges the tables of several reports, as given: pass them through [`one_per_provider`]
/// first, or a provider given twice counts twice. Tables are matched by id and covered period.
pub fn merge(reports: &[SignedReport]) -> Merged {
    let providers: Vec<String> = reports.iter().map(|r| r.report.provider.clone()).collect();
    let mut groups: BTreeMap<(String, String), Vec<(&str, &Table)>> = BTreeMap::new();
    for r in reports {
        for t in &r.report.tables {
            groups.entry((t.id.clone(), t.covers.clone())).or_default().push((r.report.provider.as_str(), t));
        }
    }
    // Under suppression a provider's totals add up its published sites only: one with a site
    // of fewer than 11 active persons (a 01a row withheld whole) has people its totals leave
    // out, so its part of a national total is only a lower bound.
    let partial: Vec<&str> = reports
        .iter()
        .filter(|r| {
            r.report.tables.iter().any(|t| {
                t.id == "01a"
                    && t.rows.iter().enumerate().any(|(i, _)| {
                        t.cells.get(i).is_some_and(|row| row.iter().all(|c| matches!(c, Cell::Suppressed)))
                    })
            })
        })
        .map(|r| r.report.provider.as_str())
        .collect();
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
        // A provider that did not publish this table (no input for it, or its policy keeps it
        // from the board) still has people in it: its part of the total is unknown, so the
        // total is only a lower bound, and the output says whose part is missing.
        let absent: Vec<&str> =
            providers.iter().map(String::as_str).filter(|p| !parts.iter().any(|(q, _)| q == p)).collect();
        if !absent.is_empty() {
            skipped
                .push(format!("{id} ({covers}): not published by {}; its total is a lower bound", absent.join(", ")));
        }
        // 06's expenditure covers every site; everything else a partial provider counts does not.
        let short: Vec<&str> = parts.iter().map(|(p, _)| *p).filter(|p| partial.contains(p) && id != "06").collect();
        if !short.is_empty() {
            skipped.push(format!(
                "{id} ({covers}): {} leave(s) out sites under 11 active persons; the total is a lower bound",
                short.join(", ")
            ));
        }
        let total_row: Vec<Cell> = (0..width)
            .map(|c| {
                let mut contributions: Vec<Part> = parts.iter().map(|(_, t)| part(t, t.rows.len(), c)).collect();
                contributions.extend(absent.iter().map(|_| Part::Hidden(None)));
                contributions.extend(short.iter().map(|_| Part::Hidden(None)));
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
            // The largest any provider applied: each provider's cells hold under its own.
            event_cap: parts.iter().filter_map(|(_, t)| t.event_cap).max(),
        });
    }
    Merged { providers, tables, skipped }
}

/// What a provider's total-row cell contributes.
fn part(t: &Table, r: usize, c: usize) -> Part {
    match t.cell(r, c) {
        Some(Cell::Count(v)) => Part::Exact(*v),
        Some(cell @ Cell::Noisy { value, variance, .. }) => {
            let (low, high) = cell.noisy_interval().unwrap_or((*value, *value));
            // The true count is not negative: an interval reaching below 0 tells nothing more.
            let clamp = |x: i64| u64::try_from(x).unwrap_or(0);
            Part::Noisy { value: *value, variance: *variance, low: clamp(low), high: clamp(high) }
        }
        _ => Part::Hidden(hidden_upper(t, c)),
    }
}

/// The most a suppressed total-row cell can hold. When the columns partition the row and the
/// grand total is published, a column total is the grand total less the other column totals,
/// so at most the grand total less those published. Otherwise nothing bounds it.
fn hidden_upper(t: &Table, c: usize) -> Option<u64> {
    let (total_row, width) = (t.rows.len(), t.columns.len());
    if !t.row_totals || c >= width {
        return None;
    }
    let Some(Cell::Count(grand)) = t.cell(total_row, width) else { return None };
    let published: u64 = (0..width)
        .filter(|&o| o != c)
        .filter_map(|o| match t.cell(total_row, o) {
            Some(Cell::Count(v)) => Some(*v),
            _ => None,
        })
        .fold(0u64, u64::saturating_add);
    Some(grand.saturating_sub(published))
}

/// Sums the parts' bounds (see the module notes).
fn combine(parts: &[Part]) -> Cell {
    let (mut low, mut high) = (0u64, Some(0u64));
    let (mut value, mut variance) = (0i64, 0f64);
    let (mut hidden, mut misses) = (false, 0u32);
    for p in parts {
        match p {
            Part::Exact(v) => {
                low = low.saturating_add(*v);
                high = high.map(|h| h.saturating_add(*v));
                value = value.saturating_add(i64::try_from(*v).unwrap_or(i64::MAX));
            }
            Part::Noisy { value: v, variance: s, low: l, high: h } => {
                low = low.saturating_add(*l);
                high = high.map(|x| x.saturating_add(*h));
                value = value.saturating_add(*v);
                variance += s;
                misses += u32::from(100 - NOISY_CONFIDENCE);
            }
            Part::Hidden(bound) => {
                hidden = true;
                high = match (high, bound) {
                    (Some(h), Some(b)) => Some(h.saturating_add(*b)),
                    _ => None,
                };
            }
        }
    }
    // The union bound: the range fails only if some noisy part's interval does.
    let confidence = (misses > 0).then(|| 100u8.saturating_sub(u8::try_from(misses).unwrap_or(u8::MAX)));
    if hidden {
        // Never a single number: a bound whose ends meet is widened to an open one.
        return Cell::Bound { low, high: high.filter(|h| *h > low), confidence };
    }
    match confidence {
        Some(confidence) => Cell::Estimate { value, variance, low, high: high.unwrap_or(u64::MAX), confidence },
        None => Cell::Count(low),
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::indexing_slicing, clippy::unwrap_used, reason = "tests index and fail loudly")]

    use std::collections::BTreeMap;

    use proptest::prelude::*;

    use super::*;
    use crate::report::bundle::Origin;
    use crate::report::indicator::publish_persons;
    use crate::report::noise::{Mechanism, RandomBits};
    use crate::report::{Method, Report, REPORT_FORMAT};

    /// A seeded source, so every run draws the same noise.
    struct Seeded(fastrand::Rng);

    impl RandomBits for Seeded {
        fn next_u64(&mut self) -> crate::Result<u64> {
            Ok(self.0.u64(..))
        }
    }

    const METHODS: [Method; 6] = [
        Method::Suppress { k: 11 },
        Method::Noise { mechanism: Mechanism::Laplace { epsilon_num: 1, epsilon_den: 1 } },
        Method::Noise { mechanism: Mechanism::Laplace { epsilon_num: 1, epsilon_den: 2 } },
        Method::Noise { mechanism: Mechanism::Laplace { epsilon_num: 37, epsilon_den: 10 } },
        Method::Noise { mechanism: Mechanism::Gaussian { rho_num: 1, rho_den: 2 } },
        Method::Noise { mechanism: Mechanism::Gaussian { rho_num: 1, rho_den: 8 } },
    ];

    fn signed(provider: &str, period: &str, seq: Option<u64>, tables: Vec<Table>) -> SignedReport {
        SignedReport {
            report: Report {
                format: REPORT_FORMAT.into(),
                provider: provider.into(),
                period: period.parse().unwrap(),
                policy: "blake3:test".into(),
                method: Method::default(),
                rho_micros: 0,
                log_head: seq.map(|s| format!("cwlog1:{s}:{}", "ab".repeat(32))),
                capacity: BTreeMap::new(),
                tables,
                omitted: vec![],
                revision: None,
            },
            signer: format!("ed25519:{}", blake3::hash(provider.as_bytes()).to_hex()),
            origin: Origin::Unchecked,
        }
    }

    /// One provider's true table and how it publishes it.
    #[derive(Debug, Clone)]
    struct Provider {
        values: Vec<Vec<u64>>,
        method: Method,
    }

    /// The true total of column `c` (the grand total past the last column).
    fn truth(values: &[Vec<u64>], c: usize) -> u64 {
        values.iter().map(|row| row.get(c).copied().unwrap_or_else(|| row.iter().sum())).sum()
    }

    /// What one merge says about each total-row cell: (contains the truth, stated confidence
    /// or None if certain, every noisy part's own interval contains its truth).
    fn merge_once(providers: &[Provider], partition: bool, rng: &mut Seeded) -> Vec<(bool, Option<u8>, bool)> {
        let reports: Vec<SignedReport> = providers
            .iter()
            .enumerate()
            .map(|(i, p)| {
                let table = publish_persons(&p.values, partition, p.method, rng).unwrap();
                signed(&format!("provider-{i}"), "2026-09", None, vec![table])
            })
            .collect();
        let merged = merge(&reports);
        let table = &merged.tables[0];
        let total = table.cells.last().unwrap();
        let width = table.columns.len() + usize::from(table.row_totals);
        assert_eq!(total.len(), width);
        (0..width)
            .map(|c| {
                let sum: u64 = providers.iter().map(|p| truth(&p.values, c)).sum();
                let mut noisy = 0u8;
                let mut parts_hold = true;
                for (p, r) in providers.iter().zip(&reports) {
                    let t = &r.report.tables[0];
                    if let Some((lo, hi)) = t.cell(t.rows.len(), c).and_then(Cell::noisy_interval) {
                        noisy += 1;
                        let own = i64::try_from(truth(&p.values, c)).unwrap();
                        parts_hold &= lo <= own && own <= hi;
                    }
                }
                let stated = (noisy > 0).then(|| 100 - 5 * noisy);
                let (contains, confidence) = match &total[c] {
                    Cell::Count(v) => {
                        assert_eq!(noisy, 0, "a noisy part gives no exact count");
                        (*v == sum, None)
                    }
                    Cell::Bound { low, high, confidence } => {
                        (*low <= sum && high.is_none_or(|h| sum <= h), *confidence)
                    }
                    Cell::Estimate { low, high, confidence, .. } => (*low <= sum && sum <= *high, Some(*confidence)),
                    other => panic!("a merged total is {other:?}"),
                };
                assert_eq!(confidence, stated, "the merged cell states the union bound of its noisy parts");
                (contains, confidence, parts_hold)
            })
            .collect()
    }

    fn provider_strategy(rows: usize, cols: usize) -> impl Strategy<Value = Provider> {
        // Mostly small counts, so suppression has cells of 1 to 10 to hide.
        let value = prop_oneof![3 => 0u64..12, 1 => 0u64..80];
        (proptest::collection::vec(proptest::collection::vec(value, cols), rows), 0..METHODS.len())
            .prop_map(|(values, m)| Provider { values, method: METHODS[m] })
    }

    fn mix_strategy() -> impl Strategy<Value = (Vec<Provider>, bool, u64)> {
        (1usize..4, 1usize..4, 1usize..5, any::<bool>(), any::<u64>()).prop_flat_map(
            |(rows, cols, n, partition, seed)| {
                (proptest::collection::vec(provider_strategy(rows, cols), n), Just(partition), Just(seed))
            },
        )
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(400))]

        /// Whatever the mix of methods: a bound stated as certain always holds, and a bound with
        /// a confidence holds whenever every noisy part's own stated interval does.
        #[test]
        fn merged_bounds_contain_the_true_sum((providers, partition, seed) in mix_strategy()) {
            let mut rng = Seeded(fastrand::Rng::with_seed(seed));
            for (c, (contains, confidence, parts_hold)) in merge_once(&providers, partition, &mut rng).into_iter().enumerate() {
                if confidence.is_none() {
                    prop_assert!(contains, "column {c}: a certain bound excludes the true sum");
                } else if parts_hold {
                    prop_assert!(contains, "column {c}: every part's interval holds, the merged one does not");
                }
            }
        }
    }

    /// Coverage over many draws, per stated confidence: (held, total).
    fn coverage(
        runs: usize,
        seed: u64,
        mut draw: impl FnMut(&mut fastrand::Rng) -> (Vec<Provider>, bool),
    ) -> BTreeMap<u8, (u32, u32)> {
        let mut pick = fastrand::Rng::with_seed(seed);
        let mut rng = Seeded(fastrand::Rng::with_seed(seed ^ 0x5eed));
        let mut out: BTreeMap<u8, (u32, u32)> = BTreeMap::new();
        for _ in 0..runs {
            let (providers, partition) = draw(&mut pick);
            for (contains, confidence, _) in merge_once(&providers, partition, &mut rng) {
                // Certain cells (exact counts, bounds with no noisy part) count as 100 %.
                let slot = out.entry(confidence.unwrap_or(100)).or_default();
                slot.0 += u32::from(contains);
                slot.1 += 1;
            }
        }
        out
    }

    /// Each stated level is met, allowing three standard errors of sampling (the draws are
    /// seeded, so the figures are the same every run); a certain cell always holds.
    fn assert_meets(found: &BTreeMap<u8, (u32, u32)>, min_samples: u32) {
        for (&level, &(held, total)) in found {
            if level == 100 {
                eprintln!("certain: held {held} of {total}");
                assert_eq!(held, total, "a cell stated as certain excluded the true sum");
                continue;
            }
            if total < min_samples {
                continue;
            }
            let p = f64::from(level) / 100.0;
            let rate = f64::from(held) / f64::from(total);
            let slack = 3.0 * (p * (1.0 - p) / f64::from(total)).sqrt();
            eprintln!("stated {level} %: held {held} of {total} ({:.2} %)", 100.0 * rate);
            assert!(rate >= p - slack, "stated {level} %, held {:.2} % of {total}", 100.0 * rate);
        }
    }

    #[test]
    fn one_noisy_cell_meets_its_stated_confidence_for_each_mechanism() {
        // A single noisy draw with an exact provider beside it: the tightest case, where the
        // stated interval is the exact 95 % tail of one draw. Counts are large, so clamping at
        // 0 never helps.
        for (i, method) in METHODS.iter().enumerate().skip(1) {
            let found = coverage(20_000, 40 + i as u64, |r| {
                let noisy = Provider { values: vec![vec![r.u64(100..500)]], method: *method };
                let exact = Provider { values: vec![vec![r.u64(20..60)]], method: METHODS[0] };
                (vec![noisy, exact], true)
            });
            eprintln!("{method:?}");
            assert_eq!(found.keys().copied().collect::<Vec<_>>(), vec![95]);
            assert_meets(&found, 1);
        }
    }

    #[test]
    fn random_mixes_meet_their_stated_confidence() {
        let found = coverage(6_000, 7, |r| {
            let (rows, cols, n) = (r.usize(1..4), r.usize(1..4), r.usize(2..5));
            let providers = (0..n)
                .map(|_| Provider {
                    values: (0..rows).map(|_| (0..cols).map(|_| r.u64(0..40)).collect()).collect(),
                    method: METHODS[r.usize(0..METHODS.len())],
                })
                .collect();
            (providers, r.bool())
        });
        assert!(found.len() >= 4 && found[&100].1 > 100, "certain cells and several levels: {found:?}");
        assert_meets(&found, 200);
    }

    #[test]
    fn suppressed_and_exact_mixes_always_contain_the_true_sum() {
        let found = coverage(3_000, 5, |r| {
            let (rows, cols, n) = (r.usize(1..4), r.usize(1..5), r.usize(2..5));
            let providers = (0..n)
                .map(|_| Provider {
                    values: (0..rows).map(|_| (0..cols).map(|_| r.u64(0..25)).collect()).collect(),
                    method: METHODS[0],
                })
                .collect();
            (providers, r.bool())
        });
        assert_eq!(found.keys().copied().collect::<Vec<_>>(), vec![100]);
        assert_meets(&found, 1);
    }

    #[test]
    fn the_lowest_part_confidence_would_overstate_a_sum_of_intervals() {
        // Two discrete Laplace cells at epsilon 3.7: each 95 % interval is one point, and both
        // hold only about 90.7 % of the time. The merged cell says 90 %, which holds; 95 % would
        // not.
        let laplace = METHODS[3];
        let found = coverage(20_000, 11, |r| {
            let one = || Provider { values: vec![vec![0]], method: laplace };
            let (mut a, mut b) = (one(), one());
            a.values[0][0] = r.u64(100..500);
            b.values[0][0] = r.u64(100..500);
            (vec![a, b], true)
        });
        let (held, total) = found[&90];
        assert_eq!(found.len(), 1);
        let rate = f64::from(held) / f64::from(total);
        eprintln!("two epsilon-3.7 cells: merged range held {:.2} % of {total}", 100.0 * rate);
        assert!(rate < 0.95, "{rate}");
        assert_meets(&found, 1);
    }

    #[test]
    fn a_noisy_cell_from_before_intervals_were_stated_falls_back_to_chebyshev() {
        // Bundles signed before cells stated their interval still verify and parse; their
        // interval is Chebyshev's on the variance: sqrt(2 / 0.05) = 6.3, so ±6.
        let old: Cell = serde_json::from_str(r#"{"noisy":{"value":5,"variance":"2.000000"}}"#).unwrap();
        assert_eq!(old, Cell::Noisy { value: 5, variance: 2.0, half_width: None });
        assert_eq!(old.noisy_interval(), Some((-1, 11)));
        assert_eq!(old.to_string(), "5 (±6)");
        let stated = Cell::Noisy { value: 5, variance: 2.0, half_width: Some(3) };
        assert_eq!(
            serde_json::to_string(&stated).unwrap(),
            r#"{"noisy":{"value":5,"variance":"2.000000","half_width":3}}"#
        );
        assert_eq!(stated.noisy_interval(), Some((2, 8)));
    }

    fn input(name: &str, provider: &str, seq: Option<u64>) -> Input {
        let table = publish_persons(&[vec![20, 30]], true, Method::default(), &mut Seeded(fastrand::Rng::with_seed(1)));
        let mut bundle = signed(provider, "2026-09", seq, vec![table.unwrap()]);
        // Distinct bundles of one provider differ in content, as two builds do.
        bundle.report.policy = format!("blake3:{name}");
        Input { name: name.into(), bundle }
    }

    /// A provider that left a table out (no input for it, or its policy) is not silently left
    /// out of the national total: the total becomes a lower bound and the output says whose
    /// part is missing.
    #[test]
    fn a_table_one_provider_did_not_publish_has_an_open_total_and_a_note() {
        let with = input("a.age", "irc-new-york", Some(1)).bundle;
        let mut without = input("b.age", "bakerripley-houston", Some(1)).bundle;
        without.report.tables.clear();
        let merged = merge(&[with.clone(), without]);
        let table = &merged.tables[0];
        let total = table.cells.last().unwrap();
        assert!(total.iter().all(|c| matches!(c, Cell::Bound { high: None, .. })), "{total:?}");
        assert!(
            merged.skipped.iter().any(|s| s.contains("not published by bakerripley-houston")),
            "{:?}",
            merged.skipped
        );
        // Both published: the total is the exact sum, and no note.
        let both = merge(&[with, input("c.age", "bakerripley-houston", Some(1)).bundle]);
        assert!(both.tables[0].cells.last().unwrap().iter().all(|c| matches!(c, Cell::Count(_))));
        assert!(both.skipped.is_empty(), "{:?}", both.skipped);
    }

    #[test]
    fn one_bundle_per_provider_and_period() {
        let names = |s: &Selection| s.kept.iter().map(|k| k.name.clone()).collect::<Vec<_>>();
        let a = input("a.age", "irc-new-york", Some(10));
        let b = input("b.age", "bakerripley-houston", Some(3));
        assert_eq!(names(&one_per_provider(vec![a.clone(), b.clone()], false).unwrap()), ["a.age", "b.age"]);

        // The same file twice, or a copy of it: refused even when replacing is allowed.
        for replace in [false, true] {
            let mut copy = a.clone();
            copy.name = "copy.age".into();
            assert_eq!(
                one_per_provider(vec![a.clone(), copy], replace).unwrap_err(),
                Refusal::SameBundle { first: "a.age".into(), second: "copy.age".into() }
            );
            let err = one_per_provider(vec![a.clone(), a.clone()], replace).unwrap_err();
            assert_eq!(err.to_string(), "a.age and a.age are the same bundle given twice");
        }

        // A second bundle of the provider: refused, naming both files.
        let newer = input("newer.age", "irc-new-york", Some(14));
        let err = one_per_provider(vec![a.clone(), b.clone(), newer.clone()], false).unwrap_err();
        assert!(matches!(err, Refusal::Duplicate { why: "same provider id and signing key", .. }), "{err}");
        assert!(err.to_string().starts_with("a.age (\"irc-new-york\") and newer.age (\"irc-new-york\")"), "{err}");
        // Same key under another id, and another key under the same id: the same provider.
        let mut renamed = input("renamed.age", "irc-nyc", Some(20));
        renamed.bundle.signer = a.bundle.signer.clone();
        assert!(matches!(
            one_per_provider(vec![a.clone(), renamed.clone()], false),
            Err(Refusal::Duplicate { why: "same signing key", .. })
        ));
        let mut forged = input("forged.age", "irc-new-york", Some(99));
        forged.bundle.signer = "ed25519:00".into();
        assert!(matches!(
            one_per_provider(vec![a.clone(), forged.clone()], false),
            Err(Refusal::Duplicate { why: "same provider id", .. })
        ));

        // Replacing: the newer stays wherever it comes, and the output says what was replaced.
        for order in [vec![a.clone(), b.clone(), newer.clone()], vec![newer.clone(), b.clone(), a.clone()]] {
            let s = one_per_provider(order, true).unwrap();
            assert_eq!(s.kept.len(), 2);
            assert!(names(&s).contains(&"newer.age".to_owned()) && !names(&s).contains(&"a.age".to_owned()));
            assert_eq!(s.replaced.len(), 1);
            assert_eq!(
                s.replaced[0].to_string(),
                "a.age (log entry 10) replaced by newer.age (log entry 14), the newer bundle of \"irc-new-york\""
            );
        }
        assert_eq!(names(&one_per_provider(vec![a.clone(), renamed], true).unwrap()), ["renamed.age"]);
        // No order to go by: different keys, no log head, or the same sequence number.
        assert!(matches!(one_per_provider(vec![a.clone(), forged], true), Err(Refusal::Unordered { .. })));
        let unlogged = input("unlogged.age", "irc-new-york", None);
        assert!(matches!(one_per_provider(vec![a.clone(), unlogged], true), Err(Refusal::Unordered { .. })));
        let twin = input("twin.age", "irc-new-york", Some(10));
        assert!(matches!(one_per_provider(vec![a.clone(), twin], true), Err(Refusal::Unordered { .. })));

        // Another period: refused, naming both.
        let mut august = input("august.age", "bakerripley-houston", Some(2));
        august.bundle.report.period = "2026-08".parse().unwrap();
        let err = one_per_provider(vec![a.clone(), august], true).unwrap_err();
        assert_eq!(err.to_string(), "a.age is for 2026-09 but august.age is for 2026-08: merge one period at a time");
        assert_eq!(one_per_provider(vec![], false).unwrap_err(), Refusal::Empty);
    }

    #[test]
    fn the_same_provider_twice_would_count_twice() {
        // Why the check exists: merge itself sums what it is given.
        let a = input("a.age", "irc-new-york", Some(10));
        let merged = merge(&[a.bundle.clone(), a.bundle.clone()]);
        assert_eq!(merged.tables[0].cells.last().unwrap()[2], Cell::Count(100));
        let kept = one_per_provider(vec![a.clone()], false).unwrap().kept;
        let merged = merge(&kept.into_iter().map(|k| k.bundle).collect::<Vec<_>>());
        assert_eq!(merged.tables[0].cells.last().unwrap()[2], Cell::Count(50));
    }
}
