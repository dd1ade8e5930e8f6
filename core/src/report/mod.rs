//! De-identified aggregate reports for the board: indicator tables, disclosure control
//! (small-cell suppression by default, or differentially private noise), and signed,
//! age-encrypted bundles that the board verifies and merges.
//!
//! * [`indicator`]: the 21 indicators of `docs/program.md#indicators`, computed in one streaming pass
//!   over the vault; definitions in `docs/indicators.md`.
//! * [`suppress`]: primary and complementary suppression (k = 11).
//! * [`noise`]: exact discrete Laplace and Gaussian samplers.
//! * [`bundle`]: canonical JSON, Ed25519 signature, age encryption; the board side opens and
//!   verifies against a registry of provider keys.
//! * [`merge`]: sums several providers' bundles without ever printing a suppressed cell.
//! * [`readable`](mod@readable): what a board analyst reads of noisy tables (non-negative, totals that add up).
//! * [`history`]: what earlier releases published, from the vault's release ledger, so a new
//!   release stays consistent with what the board already holds.
//! * [`flows`]: what the published monthly figures prove about a site's entries and exits, and
//!   so whether a quarter's flows may be published.
//!
//! **Release calendar.** A report is built for one month. Every table covers exactly one
//! period of its own fixed grain (month, quarter, half-year, year, fiscal year), and appears
//! only in the report of that period's last month. Nothing is cumulative, so no two published
//! tables can be subtracted to recover a suppressed cell.

pub mod bundle;
pub mod flows;
pub mod history;
pub mod indicator;
pub mod merge;
pub mod noise;
pub mod readable;
pub mod suppress;

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};
use crate::identifier::Date;

pub use bundle::{Registry, SignedReport};
pub use history::History;
pub use noise::Mechanism;
pub use readable::readable;

/// The month a report is built for (`YYYY-MM`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Period {
    year: i32,
    month: u8,
}

impl Period {
    /// A month.
    pub fn new(year: i32, month: u8) -> Result<Self> {
        if (1..=12).contains(&month) && (2000..=2200).contains(&year) {
            Ok(Self { year, month })
        } else {
            Err(Error::input("a report period is a month, written YYYY-MM"))
        }
    }

    /// The year.
    pub fn year(self) -> i32 {
        self.year
    }

    /// The month, 1-12.
    pub fn month(self) -> u8 {
        self.month
    }

    /// The last day of the month.
    pub fn last_day(self) -> Date {
        Span::of(Grain::Month, self).end
    }

    /// Refuses a month that has not ended by `today`: its last day is today or later (a month
    /// ends when its last day does). A report for an unfinished month would count part of it,
    /// and the report built once it ends would publish a second, overlapping table that could
    /// be subtracted from the first.
    pub fn ensure_ended(self, today: Date) -> Result<()> {
        let last_day = self.last_day();
        if last_day >= today {
            return Err(Error::Bundle(bundle::BundleProblem::PeriodNotEnded { period: self, last_day }));
        }
        Ok(())
    }

    /// The month `n` months before this one, or January 2000 (the earliest period there is)
    /// if that is earlier.
    pub fn months_before(self, n: u32) -> Self {
        let index = i64::from(self.year) * 12 + i64::from(self.month) - 1 - i64::from(n);
        if index < 2000 * 12 {
            return Self { year: 2000, month: 1 };
        }
        let year = i32::try_from(index.div_euclid(12)).unwrap_or(2000);
        let month = u8::try_from(index.rem_euclid(12) + 1).unwrap_or(1);
        Self::new(year, month).unwrap_or(Self { year: 2000, month: 1 })
    }

    /// The spans whose last month this is, one per grain (the tables this report carries).
    pub fn closing_spans(self) -> Vec<Span> {
        let mut out = vec![Span::of(Grain::Month, self)];
        if self.month % 3 == 0 {
            out.push(Span::of(Grain::Quarter, self));
        }
        if self.month % 6 == 0 {
            out.push(Span::of(Grain::HalfYear, self));
        }
        if self.month == 12 {
            out.push(Span::of(Grain::Year, self));
        }
        if self.month == 9 {
            out.push(Span::of(Grain::FiscalYear, self));
        }
        out
    }
}

impl fmt::Display for Period {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:04}-{:02}", self.year, self.month)
    }
}

impl FromStr for Period {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self> {
        let bad =
            || Error::input(format!("{} is not a report period: write a month as YYYY-MM", crate::error::echo(s)));
        let (y, m) = s.trim().split_once('-').ok_or_else(bad)?;
        if y.len() != 4 || m.len() != 2 {
            return Err(bad());
        }
        Self::new(y.parse().map_err(|_| bad())?, m.parse().map_err(|_| bad())?).map_err(|_| bad())
    }
}

impl Serialize for Period {
    fn serialize<S: serde::Serializer>(&self, s: S) -> std::result::Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for Period {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> std::result::Result<Self, D::Error> {
        String::deserialize(d)?.parse().map_err(serde::de::Error::custom)
    }
}

/// The fixed time grain of a table.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Grain {
    /// A calendar month.
    Month,
    /// A calendar quarter.
    Quarter,
    /// A calendar half-year.
    HalfYear,
    /// A calendar year.
    Year,
    /// A federal fiscal year (October to September).
    FiscalYear,
}

/// A closed range of days covered by a table, with its label (`2026-10`, `2026-Q4`,
/// `2026-H2`, `2026`, `FY2026`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Span {
    /// The grain.
    pub grain: Grain,
    /// The label.
    pub label: String,
    /// First day.
    pub start: Date,
    /// Last day.
    pub end: Date,
}

impl Span {
    fn of(grain: Grain, last: Period) -> Self {
        let (y, m) = (last.year, last.month);
        let (label, first_year, first_month) = match grain {
            Grain::Month => (format!("{y:04}-{m:02}"), y, m),
            Grain::Quarter => (format!("{y:04}-Q{}", m.div_ceil(3)), y, m - 2),
            Grain::HalfYear => (format!("{y:04}-H{}", m.div_ceil(6)), y, m - 5),
            Grain::Year => (format!("{y:04}"), y, 1),
            Grain::FiscalYear => (format!("FY{y:04}"), y - 1, 10),
        };
        let start = Date::from_ymd(first_year, first_month, 1).unwrap_or_else(|_| Date::today());
        let next = if m == 12 { Date::from_ymd(y + 1, 1, 1) } else { Date::from_ymd(y, m + 1, 1) };
        let end = next.map(|d| d.add_days(-1)).unwrap_or(start);
        Self { grain, label, start, end }
    }

    /// Whether `d` lies in the span.
    pub fn contains(&self, d: Date) -> bool {
        self.start <= d && d <= self.end
    }
}

/// One published value.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Cell {
    /// An exact count (or magnitude) that passed disclosure control.
    Count(u64),
    /// Withheld by suppression. Never carries a number.
    Suppressed,
    /// A noisy value, the variance of its noise, and the interval it states.
    Noisy {
        /// The value with noise added (may be negative).
        value: i64,
        /// The variance of the noise. Written as a decimal string with six places, so the
        /// signed bytes never depend on how a JSON library prints floating point.
        #[serde(with = "fixed6")]
        variance: f64,
        /// The stated interval is `value ± half_width`: it holds the true value with
        /// probability at least [`noise::NOISY_CONFIDENCE`] percent, computed from the
        /// mechanism's own distribution. Bundles made before caseward stated it lack it; readers
        /// then use Chebyshev's bound on the variance ([`noise::chebyshev_half_width`]).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        half_width: Option<u64>,
    },
    /// Merged tables only: a cell some provider suppressed, known only to lie in a range.
    Bound {
        /// The sum of every provider's lowest possible value.
        low: u64,
        /// The sum of every provider's highest possible value, if every one is bounded.
        high: Option<u64>,
        /// `None` when the range is certain (every part exact or suppressed). Otherwise some
        /// part is a noisy interval, and the range holds with at least this probability in
        /// percent.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        confidence: Option<u8>,
    },
    /// Merged tables only: a sum of noisy (and exact) values, with the interval that sums
    /// every part's.
    Estimate {
        /// The summed value.
        value: i64,
        /// The summed variance.
        variance: f64,
        /// Lower end of the interval (each part's clamped at 0: no count is negative).
        low: u64,
        /// Upper end of the interval.
        high: u64,
        /// The interval holds with at least this probability, in percent.
        confidence: u8,
    },
}

impl Cell {
    /// A noisy cell's stated interval `(low, high)`, before any clamping; `None` for other
    /// cells.
    pub fn noisy_interval(&self) -> Option<(i64, i64)> {
        match self {
            Self::Noisy { value, variance, half_width } => {
                let h = i64::try_from(noisy_half_width(*variance, *half_width)).unwrap_or(i64::MAX);
                Some((value.saturating_sub(h), value.saturating_add(h)))
            }
            _ => None,
        }
    }
}

/// The half-width of a noisy cell's interval: the one it states, else Chebyshev's bound on its
/// variance (which holds for any noise distribution, at the same confidence).
pub fn noisy_half_width(variance: f64, stated: Option<u64>) -> u64 {
    stated.unwrap_or_else(|| noise::chebyshev_half_width(variance))
}

impl fmt::Display for Cell {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let sure = |f: &mut fmt::Formatter<'_>, confidence: Option<u8>| match confidence {
            Some(c) => write!(f, " ({c}%)"),
            None => Ok(()),
        };
        match self {
            Self::Count(v) => write!(f, "{v}"),
            Self::Suppressed => f.write_str("<11"),
            Self::Noisy { value, variance, half_width } => {
                write!(f, "{value} (±{})", noisy_half_width(*variance, *half_width))
            }
            Self::Bound { low, high: Some(h), confidence } => {
                write!(f, "{low}..{h}")?;
                sure(f, *confidence)
            }
            Self::Bound { low, high: None, confidence } => {
                write!(f, ">={low}")?;
                sure(f, *confidence)
            }
            Self::Estimate { value, low, high, confidence, .. } => {
                write!(f, "{value} [{low}, {high}]")?;
                sure(f, Some(*confidence))
            }
        }
    }
}

/// One indicator table as published.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Table {
    /// Stable id, `NN` + letter (`11a`), prefixed by the indicator number.
    pub id: String,
    /// Indicator number in `docs/program.md#indicators` (1 to 21).
    pub indicator: u8,
    /// Title.
    pub title: String,
    /// What a cell counts (`persons`, `events`, `hearings`, `days` ...).
    pub unit: String,
    /// The period the table covers (`2026-Q4`).
    pub covers: String,
    /// The grain of that period.
    pub grain: Grain,
    /// `site` (one row per site) or `provider` (one row for all sites).
    pub geography: String,
    /// Row labels.
    pub rows: Vec<String>,
    /// Column labels.
    pub columns: Vec<String>,
    /// Whether the columns partition the row, so a `Total` column is published.
    pub row_totals: bool,
    /// `rows.len() + 1` rows (the last is the column totals) of `columns.len()` cells, plus one
    /// more when `row_totals`.
    pub cells: Vec<Vec<Cell>>,
    /// The whole table was withheld: it could not be protected cell by cell.
    pub withheld: bool,
    /// Noisy releases of events tables: the most events one person adds to a cell. A person
    /// with more counts this many, so the noise's scale covers everyone (the sensitivity).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub event_cap: Option<u64>,
}

impl Table {
    /// The cell at `(row, column)`; the index `rows.len()` is the total row and
    /// `columns.len()` the total column.
    pub fn cell(&self, r: usize, c: usize) -> Option<&Cell> {
        self.cells.get(r).and_then(|row| row.get(c))
    }
}

/// How the tables of a report are protected.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "name")]
pub enum Method {
    /// Small-cell and complementary suppression with k = 11 (the default).
    Suppress {
        /// The threshold: cells of 1 to k - 1 are withheld.
        k: u64,
    },
    /// Differentially private noise on every cell; the period's budget is charged.
    Noise {
        /// The mechanism and its per-table parameter.
        #[serde(flatten)]
        mechanism: Mechanism,
    },
}

impl Default for Method {
    fn default() -> Self {
        Self::Suppress { k: suppress::K }
    }
}

/// What the provider adds to a report beyond its records.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReportOptions {
    /// Disclosure control.
    pub method: Method,
    /// Funded slots per site (indicator 1's denominator).
    #[serde(default)]
    pub capacity: BTreeMap<String, u64>,
    /// Randomly selected people who declined the offer, per site, for the quarter closing in
    /// this period (indicator 2); the table is left out without it.
    #[serde(default)]
    pub declined_offers: BTreeMap<String, u64>,
    /// CMPP expenditure per site in whole dollars for the fiscal year closing in this period
    /// (indicator 6); the table is left out without it.
    #[serde(default)]
    pub expenditure_usd: BTreeMap<String, u64>,
    /// Publishes new numbers for a period already released, for this reason. Without it, a
    /// released period is sent again exactly as it was first signed.
    #[serde(default)]
    pub revise: Option<String>,
}

impl ReportOptions {
    /// The sites the provider names in its inputs (capacity, declined offers, expenditure).
    /// Under noise these, and one row for every other site ([`indicator::OTHER_SITES`]), are the
    /// rows of every site table, whatever the records say.
    pub fn declared_sites(&self) -> BTreeSet<String> {
        self.capacity.keys().chain(self.declined_offers.keys()).chain(self.expenditure_usd.keys()).cloned().collect()
    }

    /// Refuses a site label a report reserves for its own rows.
    pub fn check(&self) -> Result<()> {
        for site in self.declared_sites() {
            if site == indicator::ALL_SITES || site == indicator::OTHER_SITES || site.trim().is_empty() {
                return Err(Error::input(format!("{site:?} cannot name a site: reports use it for their own rows")));
            }
        }
        Ok(())
    }
}

/// The content of a bundle, before signing: what the board receives.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Report {
    /// Always `caseward-report/1`.
    pub format: String,
    /// The provider's id, as in the board's registry.
    pub provider: String,
    /// The month the report closes.
    pub period: Period,
    /// The disclosure policy in force (`blake3:<hex>`).
    pub policy: String,
    /// Disclosure control used.
    pub method: Method,
    /// The zCDP budget spent by this report, in millionths of rho (noise only).
    #[serde(default)]
    pub rho_micros: u64,
    /// The vault's disclosure-log head after this report was logged (`cwlog1:<seq>:<hex>`).
    pub log_head: Option<String>,
    /// Funded slots per site.
    pub capacity: BTreeMap<String, u64>,
    /// The tables.
    pub tables: Vec<Table>,
    /// Indicators left out, with why (for example a missing input, or the policy).
    pub omitted: Vec<String>,
    /// Set when this report replaces an earlier release of the same period. A released period
    /// is frozen: building it again sends the same signed report, and only an explicit
    /// revision, with its reason, publishes new numbers for it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub revision: Option<Revision>,
}

/// An explicit correction of a released period.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Revision {
    /// 1 for the first revision of the period, 2 for the next, and so on.
    pub number: u32,
    /// Why the period is published again, in the provider's words.
    pub reason: String,
}

/// Floating-point figures inside signed content travel as fixed six-place decimal strings.
mod fixed6 {
    use serde::{Deserialize, Deserializer, Serializer};

    pub(super) fn serialize<S: Serializer>(v: &f64, s: S) -> std::result::Result<S::Ok, S::Error> {
        s.collect_str(&format_args!("{v:.6}"))
    }

    pub(super) fn deserialize<'de, D: Deserializer<'de>>(d: D) -> std::result::Result<f64, D::Error> {
        let text = String::deserialize(d)?;
        text.parse::<f64>()
            .ok()
            .filter(|v| v.is_finite() && *v >= 0.0)
            .ok_or_else(|| serde::de::Error::custom("a variance is a non-negative decimal"))
    }
}

/// The format tag of [`Report`].
pub const REPORT_FORMAT: &str = "caseward-report/1";
