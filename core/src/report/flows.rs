//! What the board can already prove about one site's entries and exits in a quarter, and so
//! whether a quarter's provider-wide flows (tables 03, 04 and 18) may be published.
//!
//! The flow tables add up the sites whose active count (01a) the board holds for every month
//! of the quarter and the month before it. For such a site the board can bound the latent
//! flows it never sees published:
//!
//! * entries minus exits, month by month, is the change of its active count;
//! * participant-days (05) put each person present in the month at one to `days` days, and
//!   each person active all month at exactly `days`, so a month's days below `days` times the
//!   persons at its start prove exits, and days above `days` times those at its end prove
//!   entries;
//! * persons served in the month (any published column of 07b) and persons with a hearing in
//!   the quarter (11b) were present, so more of them than were active at the start proves
//!   entries;
//! * at a half-year's end, persons with mental-health care in the half-year (07c) were active
//!   at its start or entered in one of its quarters, and the first quarter's flows cap that
//!   quarter's entries (the caller adds this, [`at_least_entries`]);
//! * a site stock table's row moves between two of its releases only by entries, exits, and
//!   the moves its columns allow persons who stay ([`STOCK_MOVES`], [`stock_flows`]): a fixed
//!   attribute (nationality, birth-date precision) never moves, so each column's rise is
//!   entries and its fall exits; legal orientation only goes from "no" to "yes", so a rise of
//!   "no" is entries. Over a span longer than the quarter the earlier quarters' flows cap
//!   their share (the caller adds this).
//!
//! [`least_flows`] gives the fewest entries and exits those facts allow. If the published
//! provider-wide totals left fewer than [`FLOW_BAR`] beyond the sum of those least values,
//! one site's share would be capped by the others' proven flows and pinned under 11. So the
//! flows are published only when that slack is at least [`FLOW_BAR`]; then every site's
//! entries may be 11 or more beyond what it proves. A withheld quarter tells the board that
//! the slack is at most `FLOW_BAR - 1`, which still lets every site's entries reach 11.
//!
//! Only published figures go in, so a reader can recompute the rule and it says nothing
//! beyond them.

use crate::report::suppress::K;

/// The least slack, beyond what the monthly figures prove, that published flows must leave.
/// One above [`K`]: a withheld quarter says the slack is at most `FLOW_BAR - 1` = 11, which
/// still lets a site's flow be 11.
pub const FLOW_BAR: u64 = K + 1;

/// What the board holds about one site in one month.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Month {
    /// Persons active at the end of the month before (published 01a).
    pub before: u64,
    /// Persons active at the end of the month (published 01a).
    pub after: u64,
    /// Days in the month.
    pub length: u64,
    /// Participant-days (05), if published.
    pub days: Option<u64>,
    /// The most persons any published column of 07b counts at the site in the month: persons
    /// present during the month.
    pub served: Option<u64>,
}

/// The fewest exits in `month` consistent with its published figures (the fewest entries are
/// that plus `after - before`). Exact for the definitions of 01a and 05: a stayer counts
/// `length` days; anyone who entered, left, or both, one to `length`.
pub fn least_exits(month: &Month) -> u64 {
    let Month { before, after, length, days, served } = *month;
    let fell = before.saturating_sub(after);
    // Exits t = e0 (of those active at the start) + w (entered and left within the month).
    // Entries are then after - before + t, and the persons present after + t.
    let mut t = fell;
    if let Some(p) = served {
        t = t.max(p.saturating_sub(after));
    }
    let Some(d) = days else { return t };
    let length = length.max(3);
    // Days at most `length` per person present: d <= length * (after + t).
    t = t.max(d.div_ceil(length).saturating_sub(after));
    // Days at least `length` per stayer and 1 per other person present:
    // d >= length * (before - e0) + (after - before + e0) + e0 + w, with w = t - e0, that is
    // (length - 1) * e0 >= length * before + after - before + t - d.
    let limit = before.saturating_add(after).saturating_add(d).saturating_add(served.unwrap_or(0));
    while t <= limit {
        let need = (length * before + after + t).saturating_sub(before + d);
        let e0_low = need.div_ceil(length - 1).max(fell);
        if e0_low <= t.min(before) {
            return t;
        }
        t += 1;
    }
    // Inconsistent figures (not from one genuine dataset): nothing more is proven.
    fell
}

/// The fewest entries and exits of a site over a quarter: `months` are its three months, in
/// order; `with_hearing` is 11b's count of its persons with a hearing in the quarter, if
/// published (they were active at the quarter's start or entered during it).
pub fn least_flows(months: &[Month], with_hearing: Option<u64>) -> (u64, u64) {
    let (Some(first), Some(last)) = (months.first(), months.last()) else { return (0, 0) };
    // Persons with a hearing are at most first before + entries = last after + exits.
    let exits =
        months.iter().map(least_exits).sum::<u64>().max(with_hearing.map_or(0, |h| h.saturating_sub(last.after)));
    // Entries = exits + (last after - first before) over the quarter.
    ((last.after + exits).saturating_sub(first.before), exits)
}

/// How the persons of a site stock table's columns may move while they stay enrolled.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Moves {
    /// Never: each person stays in one column (nationality, language, sex, representation at
    /// enrollment, birth-date precision).
    Fixed,
    /// Only out of these columns, into the others (legal orientation: "no" to "yes"; screening:
    /// out of "not screened").
    OutOf(&'static [&'static str]),
}

/// The site stock tables whose row changes prove flows, with how their persons move. Each is
/// compared with its own previous release (a quarter, a half-year or a year earlier). Tables
/// whose persons move both ways (10b, 21b, 20c, 20e) prove nothing and are not listed.
pub const STOCK_MOVES: &[(&str, Moves)] = &[
    ("09", Moves::OutOf(&["no"])),
    ("10a", Moves::Fixed),
    ("16", Moves::OutOf(&["not screened"])),
    ("20a", Moves::Fixed),
    ("20b", Moves::Fixed),
    ("20d", Moves::Fixed),
    ("21a", Moves::Fixed),
];

/// A site's row of a stock table as published: its interior cells (`None` when withheld) and
/// its row total (the site's 01a).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StockRow {
    /// Interior cells, in the table's column order.
    pub cells: Vec<Option<u64>>,
    /// The row total.
    pub total: u64,
}

/// The entries and exits that the change of a site's row between two releases of a stock
/// table proves, for the persons who entered or left in between and are counted at one end.
/// Withheld cells are merged: a fixed table's withheld columns (at either end) count as one
/// column whose value is the row total less the published ones.
pub fn stock_flows(moves: Moves, columns: &[String], start: &StockRow, end: &StockRow) -> (u64, u64) {
    let n = columns.len().min(start.cells.len()).min(end.cells.len());
    let known = |j: usize| match (start.cells.get(j).copied().flatten(), end.cells.get(j).copied().flatten()) {
        (Some(a), Some(b)) => Some((a, b)),
        _ => None,
    };
    match moves {
        Moves::Fixed => {
            let (mut entries, mut exits, mut start_known, mut end_known) = (0u64, 0u64, 0u64, 0u64);
            for (a, b) in (0..n).filter_map(known) {
                entries += b.saturating_sub(a);
                exits += a.saturating_sub(b);
                start_known += a;
                end_known += b;
            }
            // The merged withheld columns.
            let (a, b) = (start.total.saturating_sub(start_known), end.total.saturating_sub(end_known));
            (entries + b.saturating_sub(a), exits + a.saturating_sub(b))
        }
        Moves::OutOf(from) => {
            let inside: Vec<bool> =
                (0..n).map(|j| columns.get(j).is_some_and(|c| from.contains(&c.as_str()))).collect();
            // The persons in `from`: its cells if all are published, or the total less the
            // others if those are.
            let sum_from = |row: &StockRow| -> Option<u64> {
                let part = |want: bool| -> Option<u64> {
                    (0..n).filter(|&j| inside.get(j) == Some(&want)).map(|j| row.cells.get(j).copied().flatten()).sum()
                };
                part(true).or_else(|| part(false).map(|rest| row.total.saturating_sub(rest)))
            };
            let (Some(a), Some(b)) = (sum_from(start), sum_from(end)) else { return (0, 0) };
            let (rest_a, rest_b) = (start.total.saturating_sub(a), end.total.saturating_sub(b));
            // Nobody who stays enters `from`, nor leaves the rest.
            (b.saturating_sub(a), rest_a.saturating_sub(rest_b))
        }
    }
}

/// Raises a site's proven exits to `exits`, given its entries minus exits over the quarter
/// (`rise`, which may be negative).
pub fn at_least_exits(least: (u64, u64), exits: u64, rise: i64) -> (u64, u64) {
    let entries = i64::try_from(exits).unwrap_or(i64::MAX).saturating_add(rise).max(0);
    at_least_entries(least, u64::try_from(entries).unwrap_or(0))
}

/// Raises a site's proven entries to `entries` (its exits rise with them: the counts fix
/// entries minus exits).
pub fn at_least_entries(least: (u64, u64), entries: u64) -> (u64, u64) {
    let more = entries.saturating_sub(least.0);
    (least.0 + more, least.1 + more)
}

/// Whether a quarter's flows may be published: `new` and `exits` over the flow sites, and each
/// site's [`least_flows`].
pub fn publishable(new: u64, exits: u64, least: &[(u64, u64)]) -> bool {
    let proven_new: u64 = least.iter().map(|l| l.0).sum();
    let proven_exits: u64 = least.iter().map(|l| l.1).sum();
    new.saturating_sub(proven_new) >= FLOW_BAR && exits.saturating_sub(proven_exits) >= FLOW_BAR
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// One person's stay at a site: enrolled on day `from`, exited on day `to` (if any), in
    /// days counted from the first day of the quarter's month before.
    #[derive(Clone, Debug)]
    struct Stay {
        from: i64,
        to: Option<i64>,
    }

    /// Builds the published figures of three months from stays (month lengths 31, 30, 31; the
    /// month before is days 0..31), and the true entries and exits of the three months.
    fn figures(stays: &[Stay], served_all: bool) -> (Vec<Month>, Option<u64>, (u64, u64)) {
        let bounds = [(0i64, 30i64), (31, 61), (62, 91), (92, 122)];
        let active_at = |end: i64| stays.iter().filter(|s| s.from <= end && s.to.is_none_or(|t| t > end)).count();
        let mut months = Vec::new();
        for w in bounds.windows(2) {
            let ((_, prev_end), (start, end)) = (w[0], w[1]);
            let days: i64 = stays
                .iter()
                .filter(|s| s.from <= end && s.to.is_none_or(|t| t >= start))
                .map(|s| s.to.map_or(end, |t| t.min(end)) - s.from.max(start) + 1)
                .sum();
            let present = stays.iter().filter(|s| s.from <= end && s.to.is_none_or(|t| t >= start)).count();
            months.push(Month {
                before: active_at(prev_end) as u64,
                after: active_at(end) as u64,
                length: (end - start + 1) as u64,
                days: Some(days as u64),
                served: served_all.then_some(present as u64),
            });
        }
        let (start, end) = (31, 122);
        let hearing = stays.iter().filter(|s| s.from <= end && s.to.is_none_or(|t| t >= start)).count();
        let new = stays.iter().filter(|s| (start..=end).contains(&s.from)).count() as u64;
        let exits = stays.iter().filter(|s| s.to.is_some_and(|t| (start..=end).contains(&t))).count() as u64;
        (months, served_all.then_some(hearing as u64), (new, exits))
    }

    fn stays() -> impl Strategy<Value = Vec<Stay>> {
        prop::collection::vec(
            (-200i64..123, prop::option::of(0i64..160))
                .prop_map(|(from, len)| Stay { from, to: len.map(|l| from + l) }),
            0..60,
        )
    }

    proptest! {
        /// What the figures prove is never more than what happened, whatever the stays.
        #[test]
        fn least_flows_never_exceed_the_truth(stays in stays(), served in any::<bool>()) {
            let (months, hearing, (new, exits)) = figures(&stays, served);
            let (least_new, least_exits) = least_flows(&months, hearing);
            prop_assert!(least_new <= new, "proved {least_new} entries, {new} happened");
            prop_assert!(least_exits <= exits, "proved {least_exits} exits, {exits} happened");
        }
    }

    proptest! {
        /// A fixed attribute's row changes prove no more entries or exits than happened,
        /// whichever cells are withheld; so do one-way moves ("no" to "yes" only).
        #[test]
        fn stock_rows_never_prove_more_than_happened(
            stays in stays(),
            attributes in prop::collection::vec(0usize..3, 60),
            oriented_on in prop::collection::vec(prop::option::of(0i64..160), 60),
            mask in prop::collection::vec(any::<bool>(), 6),
        ) {
            let (start_day, end_day) = (30i64, 122i64);
            let active = |s: &Stay, d: i64| s.from <= d && s.to.is_none_or(|t| t > d);
            let columns: Vec<String> = ["a", "b", "c"].iter().map(|c| (*c).to_owned()).collect();
            let row = |d: i64, of: &dyn Fn(usize) -> usize, withheld: &[bool]| {
                let mut cells = [0u64; 3];
                for (i, _) in stays.iter().enumerate().filter(|(_, s)| active(s, d)) {
                    cells[of(i)] += 1;
                }
                let total = cells.iter().sum();
                StockRow {
                    cells: cells.iter().zip(withheld).map(|(&v, &w)| (!w).then_some(v)).collect(),
                    total,
                }
            };
            let new = stays.iter().filter(|s| s.from > start_day && s.from <= end_day).count() as u64;
            let exits = stays.iter().filter(|s| s.to.is_some_and(|t| t > start_day && t <= end_day)).count() as u64;
            let fixed = |i: usize| attributes.get(i).copied().unwrap_or(0);
            let (a, b) = (row(start_day, &fixed, &mask[..3]), row(end_day, &fixed, &mask[3..]));
            let (n, e) = stock_flows(Moves::Fixed, &columns, &a, &b);
            prop_assert!(n <= new && e <= exits, "fixed: proved {n}/{e}, {new}/{exits} happened");
            // One way: column "a" is "not yet", "b" is "done" from the day it happened.
            let oriented = &oriented_on;
            let at = |d: i64| move |i: usize| usize::from(oriented.get(i).copied().flatten().is_some_and(|o| o <= d));
            let (a, b) = (row(start_day, &at(start_day), &mask[..3]), row(end_day, &at(end_day), &mask[3..]));
            let (n, e) = stock_flows(Moves::OutOf(&["a"]), &columns, &a, &b);
            prop_assert!(n <= new && e <= exits, "one way: proved {n}/{e}, {new}/{exits} happened");
        }
    }

    #[test]
    fn days_prove_exits_the_counts_hide() {
        // 30 active all along; in the month 5 left early and 5 others arrived late: the count
        // never moves, the days fall short.
        let mut stays: Vec<Stay> = (0..25).map(|_| Stay { from: 0, to: None }).collect();
        stays.extend((0..5).map(|_| Stay { from: 0, to: Some(33) }));
        stays.extend((0..5).map(|_| Stay { from: 58, to: None }));
        let (months, _, truth) = figures(&stays, false);
        assert_eq!(months[0].before, months[0].after);
        let proven = least_flows(&months, None);
        assert!(proven.1 >= 4 && proven.1 <= truth.1, "{proven:?} of {truth:?}");
    }

    #[test]
    fn persons_served_prove_entries() {
        // 20 active; 6 arrive on the last day of the first month and are served: the days
        // rise by 6, too little to prove 6 entries, but 26 persons served do.
        let mut stays: Vec<Stay> = (0..20).map(|_| Stay { from: 0, to: None }).collect();
        stays.extend((0..6).map(|_| Stay { from: 61, to: Some(61) }));
        let (months, hearing, _) = figures(&stays, true);
        assert_eq!(least_flows(&months, hearing), (6, 6));
        let (months, _, _) = figures(&stays, false);
        assert!(least_flows(&months, None).0 < 6);
    }

    #[test]
    fn the_bar_is_slack_beyond_what_is_proven() {
        assert!(publishable(40, 30, &[(10, 5), (10, 6)]));
        assert!(!publishable(40, 30, &[(10, 5), (19, 14)]));
        assert!(!publishable(11, 20, &[]));
    }
}
