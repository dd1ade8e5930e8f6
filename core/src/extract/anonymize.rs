//! k-anonymity by full-domain generalization, then suppression, as ARX does: each
//! quasi-identifier has a fixed hierarchy of coarser levels; every combination of levels (the
//! lattice) is tried from the least generalized up, and the first level of the lattice where
//! some node leaves every published class with k or more records, after suppressing at most a
//! set share of records, wins. Among nodes of one height, the one that suppresses fewest wins,
//! then the one that coarsens the earlier quasi-identifiers least.
//!
//! Two rules beyond ARX's k-anonymity:
//!
//! * The number suppressed is 0 or at least k. A handful of suppressed records beside the
//!   board's tables (which count everyone) would let a reader subtract the extract from a table
//!   and read the handful's outcomes.
//! * **No class says who had a sensitive outcome, even beside the board's tables.** A class of
//!   eleven who all missed a hearing tells anyone who can place a person in it that the person
//!   missed one. The board's tables widen that: they count by site and period and publish
//!   zeros, so a reader holding them and an outside list (site, enrollment and exit dates) can
//!   clear some members of a class (everyone enrolled only in periods whose site row shows no
//!   missed hearing; everyone who has not exited, for exit outcomes); if the members left all
//!   had the outcome, each is pinned. So, for every sensitive outcome and every site's part of
//!   every class (for exits, which table 18 counts provider-wide, the whole class) that has a
//!   member with the outcome, some member without it cannot be cleared (per site, since a
//!   reader who clears the other sites learns the part's count); and, handing the class's
//!   rows out to its members, no one may be left holding only rows with the outcome
//!   (`pinnable`). Which members can be cleared, and what the tables force on whom, the
//!   extract works out from the released zeros and from the data, as if every site row of
//!   every period were published: more than the board ever shows, so the rule errs safe. It
//!   is reached by generalizing only, never by
//!   suppressing: suppression chosen for an outcome would itself say the outcome (the missing
//!   records would be the positive ones). When no node reaches it, there is no extract, and the
//!   provider is told which outcome failed.

use std::collections::HashMap;

/// A quasi-identifier: its name and its values at each level, most detailed first. The last
/// level of every hierarchy is `*` (everything in one class).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Qi {
    AgeBand,
    Enrolled,
    /// Whether the person had exited by the extract's date, and so the exit group: an outside
    /// list with exit dates knows the first, so a class mixing the two would show which rows
    /// are the leavers'. At `*` the exit group is not shown.
    Status,
    Site,
    /// Whole 30-day periods enrolled: an outside list with enrollment and exit dates computes
    /// it, so it picks a row out of its class unless it is generalized with the others.
    Periods,
    Nationality,
    Language,
}

impl Qi {
    /// Every quasi-identifier, in the order the search prefers to keep detailed.
    pub(crate) const ALL: [Qi; 7] =
        [Qi::Enrolled, Qi::Status, Qi::Site, Qi::AgeBand, Qi::Periods, Qi::Nationality, Qi::Language];

    /// The column name.
    pub(crate) fn name(self) -> &'static str {
        match self {
            Qi::AgeBand => "age_band",
            Qi::Enrolled => "enrolled",
            Qi::Status => "exit_group",
            Qi::Site => "site",
            Qi::Periods => "periods_enrolled",
            Qi::Nationality => "nationality",
            Qi::Language => "language",
        }
    }

    /// How many levels the hierarchy has (the last is `*`).
    pub(crate) fn levels(self) -> usize {
        match self {
            Qi::AgeBand | Qi::Enrolled => 5,
            Qi::Site | Qi::Status => 2,
            Qi::Periods | Qi::Nationality | Qi::Language => 3,
        }
    }

    /// What each level means, for the data dictionary.
    pub(crate) fn level_names(self) -> &'static [&'static str] {
        match self {
            Qi::AgeBand => &[
                "5-year bands at enrollment (under 18, 18-24, 25-29, ..., 60-64, 65 and over)",
                "10-year bands (under 18, 18-24, 25-34, 35-44, 45-54, 55 and over)",
                "wide bands (under 18, 18-34, 35-54, 55 and over)",
                "minor or adult",
                "*",
            ],
            Qi::Enrolled => &["month", "quarter", "half-year", "year", "*"],
            Qi::Status => &["shown: active, completed, departed, left, lost_contact, detained or later", "*"],
            Qi::Site => &["site", "*"],
            // No `*`: the column is a number evaluators add up, so its coarsest level is a band.
            Qi::Periods => &[
                "whole 30-day periods",
                "bands of 3 periods, given as the band's lower bound",
                "bands of 12 periods, given as the band's lower bound",
            ],
            Qi::Nationality => &["fixed vocabulary of 12, else other", "region", "*"],
            Qi::Language => &["fixed vocabulary of 10, else other", "Spanish or not", "*"],
        }
    }
}

/// A record's quasi-identifiers at their most detailed, as the extract computes them.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub(crate) struct Detail {
    /// Age in whole years at enrollment, `None` when unknown.
    pub age: Option<u16>,
    /// Enrollment year and month.
    pub enrolled: (i32, u8),
    pub site: String,
    /// A code of the nationality vocabulary, or `other`.
    pub nationality: &'static str,
    /// A code of the language vocabulary, or `other`.
    pub language: &'static str,
    /// Whole 30-day periods enrolled.
    pub periods: i32,
    /// Whether the person had exited by the extract's date.
    pub exited: bool,
}

/// A record's outcomes a reader can tell apart, a bit each: which it has, and which a reader of
/// the board's tables with an outside list could prove it lacks (`cleared`). The bits in
/// [`SENSITIVE`] are the outcomes no reader may pin; the others (attended a hearing, a kind of
/// service, a plain exit) matter because they tell rows apart.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(crate) struct Outcomes {
    pub has: u32,
    pub cleared: u32,
    /// Outcomes the tables force on the record (everyone at the site had them), so a reader
    /// lets it hold only rows that have them.
    pub must: u32,
}

/// The sensitive outcomes: the low six bits.
pub(crate) const SENSITIVE: u32 = 0x3f;
/// The sensitive outcomes the board's tables count by site (hearings, check-ins, mental-health
/// care); the others, exits, it counts provider-wide.
pub(crate) const BY_SITE: u32 = 0x7;

/// The value of `qi` for `d` at `level`.
pub(crate) fn generalize(qi: Qi, d: &Detail, level: usize) -> String {
    if qi == Qi::Periods {
        return periods_floor(d.periods, level).to_string();
    }
    if level + 1 >= qi.levels() {
        return "*".into();
    }
    match qi {
        Qi::AgeBand => age_band(d.age, level),
        Qi::Enrolled => {
            let (y, m) = d.enrolled;
            match level {
                0 => format!("{y}-{m:02}"),
                1 => format!("{y}-Q{}", m.div_ceil(3)),
                2 => format!("{y}-H{}", if m <= 6 { 1 } else { 2 }),
                _ => format!("{y}"),
            }
        }
        Qi::Site => d.site.clone(),
        Qi::Status => (if d.exited { "exited" } else { "active" }).into(),
        Qi::Periods => periods_floor(d.periods, level).to_string(),
        Qi::Nationality => match level {
            0 => d.nationality.into(),
            _ => nationality_region(d.nationality).into(),
        },
        Qi::Language => match level {
            0 => d.language.into(),
            _ => (if d.language == "es" { "Spanish" } else { "not Spanish" }).into(),
        },
    }
}

/// The lower bound of `periods`' band at `level` (bands of 1, 3 and 12).
pub(crate) fn periods_floor(periods: i32, level: usize) -> i32 {
    let width = [1, 3, 12].get(level).copied().unwrap_or(12);
    periods.div_euclid(width) * width
}

/// A record's class: its quasi-identifiers at `levels`.
fn class_key(d: &Detail, qis: &[Qi], levels: &[usize]) -> Vec<String> {
    qis.iter().zip(levels).map(|(q, l)| generalize(*q, d, *l)).collect()
}

fn age_band(age: Option<u16>, level: usize) -> String {
    let Some(a) = age else { return "unknown".into() };
    if a < 18 {
        return "under 18".into();
    }
    let bands: &[(u16, &str)] = match level {
        0 => &[
            (24, "18-24"),
            (29, "25-29"),
            (34, "30-34"),
            (39, "35-39"),
            (44, "40-44"),
            (49, "45-49"),
            (54, "50-54"),
            (59, "55-59"),
            (64, "60-64"),
            (u16::MAX, "65 and over"),
        ],
        1 => &[(24, "18-24"), (34, "25-34"), (44, "35-44"), (54, "45-54"), (u16::MAX, "55 and over")],
        2 => &[(34, "18-34"), (54, "35-54"), (u16::MAX, "55 and over")],
        _ => &[(u16::MAX, "18 and over")],
    };
    bands.iter().find(|(top, _)| a <= *top).map_or("18 and over", |(_, name)| name).into()
}

/// The region of a nationality code of the vocabulary.
fn nationality_region(code: &str) -> &'static str {
    match code {
        "MX" | "GT" | "HN" | "SV" | "NI" => "Mexico and Central America",
        "CU" | "HT" => "Caribbean",
        "VE" | "CO" | "EC" | "BR" => "South America",
        "AF" => "Asia",
        _ => "other",
    }
}

/// The chosen generalization: a level per quasi-identifier, and which records are suppressed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Choice {
    /// The level of each of `qis`, in the same order.
    pub levels: Vec<usize>,
    /// Per record: kept (`true`) or suppressed.
    pub kept: Vec<bool>,
    /// The smallest published class.
    pub smallest_class: usize,
}

/// Why no node of the lattice would do.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum NoNode {
    /// Fewer than k records, or none of the nodes keeps every class at k within the share.
    TooFew,
    /// Some node keeps every class at k, but in every one of them some sensitive outcome could
    /// be pinned (`pinnable`): these outcome bits still failed in the last such node tried
    /// (the most general).
    NotDiverse(u8),
}

/// The least generalized node of the lattice over `qis` that leaves every published class with
/// `k` or more records, suppressing at most `max_suppressed` records, and either none or `k` or
/// more, and in which no sensitive outcome can be pinned on anyone (`pinnable`: each site's
/// part of a class with it keeps someone without it who cannot be cleared, and handing the
/// class's rows out never leaves anyone holding only rows with it).
///
/// `with_status` are the outcome bits the exit group shows: where the node hides it
/// ([`Qi::Status`] at `*`), they are not in the rows, and a reader can neither see nor use them.
pub(crate) fn anonymize(
    records: &[Detail],
    outcomes: &[Outcomes],
    with_status: u32,
    qis: &[Qi],
    k: usize,
    max_suppressed: usize,
) -> Result<Choice, NoNode> {
    let heights: Vec<usize> = qis.iter().map(|q| q.levels() - 1).collect();
    let top: usize = heights.iter().sum();
    let mut refused = NoNode::TooFew;
    for height in 0..=top {
        let mut best: Option<(usize, Vec<usize>, Vec<bool>, usize)> = None;
        for levels in nodes(&heights, height) {
            let keys: Vec<Vec<String>> = records.iter().map(|r| class_key(r, qis, &levels)).collect();
            let mut sizes: HashMap<&[String], usize> = HashMap::new();
            for key in &keys {
                *sizes.entry(key.as_slice()).or_insert(0) += 1;
            }
            let kept: Vec<bool> = keys.iter().map(|key| sizes.get(key.as_slice()).copied().unwrap_or(0) >= k).collect();
            let suppressed = kept.iter().filter(|k| !**k).count();
            if suppressed > max_suppressed || (suppressed > 0 && suppressed < k) || suppressed == records.len() {
                continue;
            }
            let hidden = qis.iter().zip(&levels).any(|(q, l)| *q == Qi::Status && l + 1 >= q.levels());
            let shown: Vec<Outcomes>;
            let outcomes_here = if hidden {
                let mask = !with_status;
                shown = outcomes
                    .iter()
                    .map(|o| Outcomes { has: o.has & mask, cleared: o.cleared & mask, must: o.must & mask })
                    .collect();
                &shown
            } else {
                outcomes
            };
            let homogeneous = pinnable(records, outcomes_here, &keys, &kept);
            if homogeneous != 0 {
                refused = NoNode::NotDiverse(homogeneous);
                continue;
            }
            let smallest = sizes.values().copied().filter(|&s| s >= k).min().unwrap_or(0);
            // Fewest suppressed wins; `nodes` yields the earlier quasi-identifiers' low levels first.
            if best.as_ref().is_none_or(|b| suppressed < b.0) {
                best = Some((suppressed, levels, kept, smallest));
            }
        }
        if let Some((_, levels, kept, smallest_class)) = best {
            return Ok(Choice { levels, kept, smallest_class });
        }
    }
    Err(refused)
}

/// The sensitive outcome bits some published class lets a reader pin (0 when none). Two
/// checks, both against a reader who clears members with the tables' zeros:
///
/// * per site's part of a class (for exits, which table 18 counts provider-wide, per class): a
///   member with the outcome, and no member without it that cannot be cleared (a reader who
///   clears the other sites learns the part's count);
/// * per class, rows against people: a reader knows which outcomes each person was cleared
///   of, so a person may hold only a row with none of them. A person is pinned to an outcome
///   when every way of handing the class's rows out to its members, one each, gives that
///   person a row with the outcome (`handed_out`).
fn pinnable(records: &[Detail], outcomes: &[Outcomes], keys: &[Vec<String>], kept: &[bool]) -> u8 {
    // Per part: the bits some member has, and the bits some member not cleared lacks. Exits
    // are counted provider-wide (table 18), so their part is the whole class.
    let mut parts: HashMap<(&[String], &str), (u32, u32)> = HashMap::new();
    let mut classes: HashMap<&[String], Vec<Outcomes>> = HashMap::new();
    for ((record, key), (o, &kept)) in records.iter().zip(keys).zip(outcomes.iter().zip(kept)) {
        if kept {
            for (site, bits) in [(record.site.as_str(), BY_SITE), ("", SENSITIVE & !BY_SITE)] {
                let (with, open_without) = parts.entry((key.as_slice(), site)).or_insert((0, 0));
                *with |= o.has & bits;
                *open_without |= !o.has & !o.cleared & bits;
            }
            classes.entry(key.as_slice()).or_default().push(*o);
        }
    }
    let mut failed = parts.values().fold(0, |failed, (with, without)| failed | (with & !without));
    for members in classes.values() {
        failed |= handed_out(members);
    }
    u8::try_from(failed & SENSITIVE).unwrap_or(u8::MAX)
}

/// The sensitive bits some member of a class holds in every assignment of the class's rows to
/// its members (each member its own row in truth; a member may take a row that has none of the
/// outcomes it is cleared of).
///
/// Rows with the same outcomes are interchangeable, so the search runs over row types. A member
/// of type `h` can move to a row of type `r` lacking the bit if the row's holder can move on,
/// and so on, back to a row of type `h`: a path from `r` to `h` in the graph where `a -> b`
/// whenever some member holding a row of type `a` may take one of type `b`.
fn handed_out(members: &[Outcomes]) -> u32 {
    // A member may hold a row with none of the outcomes it is cleared of and all it is forced to.
    let fits = |h: u32, m: &Outcomes| h & m.cleared == 0 && h & m.must == m.must;
    if members.iter().all(|m| m.cleared == 0 && m.must == 0) {
        // Anyone may take any row: a bit is held in every assignment only if every row has it,
        // which the per-part check already finds.
        return 0;
    }
    let mut types: Vec<u32> = members.iter().map(|m| m.has).collect();
    types.sort_unstable();
    types.dedup();
    let at = |h: u32| types.binary_search(&h).unwrap_or(0);
    let n = types.len();
    let mut reach = vec![false; n * n];
    for m in members {
        let from = at(m.has);
        for (to, &h) in types.iter().enumerate() {
            if fits(h, m) {
                if let Some(cell) = reach.get_mut(from * n + to) {
                    *cell = true;
                }
            }
        }
    }
    for via in 0..n {
        for from in 0..n {
            if reach.get(from * n + via).copied().unwrap_or(false) {
                for to in 0..n {
                    if reach.get(via * n + to).copied().unwrap_or(false) {
                        if let Some(cell) = reach.get_mut(from * n + to) {
                            *cell = true;
                        }
                    }
                }
            }
        }
    }
    let mut failed = 0;
    for m in members {
        let home = at(m.has);
        let mut bits = m.has & SENSITIVE;
        while bits != 0 {
            let bit = bits & bits.wrapping_neg();
            bits &= !bit;
            let escapes = types
                .iter()
                .enumerate()
                .any(|(r, &h)| h & bit == 0 && fits(h, m) && reach.get(r * n + home).copied().unwrap_or(false));
            if !escapes {
                failed |= bit;
            }
        }
    }
    failed
}

/// Every vector of levels under `heights` whose sum is `height`, the earlier positions' lower
/// levels first.
fn nodes(heights: &[usize], height: usize) -> Vec<Vec<usize>> {
    let Some((&first, rest)) = heights.split_first() else {
        return if height == 0 { vec![Vec::new()] } else { Vec::new() };
    };
    let mut out = Vec::new();
    for l in 0..=first.min(height) {
        for mut tail in nodes(rest, height - l) {
            tail.insert(0, l);
            out.push(tail);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::indexing_slicing, reason = "tests")]

    use super::*;

    fn detail(i: usize) -> Detail {
        Detail {
            age: Some(18 + (i % 50) as u16),
            enrolled: (2026, 1 + (i % 12) as u8),
            site: format!("site-{}", i % 3),
            nationality: ["MX", "HN", "VE", "other"][i % 4],
            language: ["es", "ht", "other"][i % 3],
            periods: (i % 7) as i32,
            exited: false,
        }
    }

    #[test]
    fn every_published_class_has_k_or_more_and_suppression_is_zero_or_k() {
        for n in [11, 30, 200, 1000] {
            let records: Vec<Detail> = (0..n).map(detail).collect();
            let max = n / 20;
            let c = anonymize(&records, &vec![Outcomes::default(); n], 0, &Qi::ALL, 11, max).unwrap();
            let mut sizes: HashMap<Vec<String>, usize> = HashMap::new();
            for (r, kept) in records.iter().zip(&c.kept) {
                if *kept {
                    let key = Qi::ALL.iter().zip(&c.levels).map(|(q, l)| generalize(*q, r, *l)).collect();
                    *sizes.entry(key).or_insert(0) += 1;
                }
            }
            assert!(sizes.values().all(|&s| s >= 11), "{n}: {sizes:?}");
            let suppressed = c.kept.iter().filter(|k| !**k).count();
            assert!(suppressed == 0 || (11..=max).contains(&suppressed), "{n}: {suppressed}");
        }
        assert_eq!(
            anonymize(&(0..10).map(detail).collect::<Vec<_>>(), &[Outcomes::default(); 10], 0, &Qi::ALL, 11, 0),
            Err(NoNode::TooFew),
            "fewer than k"
        );
    }

    #[test]
    fn a_handful_is_never_suppressed_even_when_the_share_allows_it() {
        // 30 alike and 3 outliers: the detailed node would suppress exactly the 3, within the
        // 5 allowed, so only the 0-or-at-least-k rule makes the search generalize instead.
        let mut records: Vec<Detail> = (0..30).map(|_| detail(0)).collect();
        records.extend([detail(1), detail(2), detail(3)]);
        let c = anonymize(&records, &[Outcomes::default(); 33], 0, &Qi::ALL, 11, 5).unwrap();
        let suppressed = c.kept.iter().filter(|k| !**k).count();
        assert_eq!(suppressed, 0, "{c:?}");
        assert_ne!(c.levels, vec![0; 7], "the detailed node was refused");
    }

    #[test]
    fn the_lattice_is_searched_from_the_least_generalized_node() {
        // 22 identical records need no generalization at all.
        let same: Vec<Detail> = (0..22).map(|_| detail(0)).collect();
        assert_eq!(anonymize(&same, &[Outcomes::default(); 22], 0, &Qi::ALL, 11, 0).unwrap().levels, vec![0; 7]);
        assert_eq!(nodes(&[1, 2], 2), vec![vec![0, 2], vec![1, 1]]);
    }

    /// The sensitive bits a reader could pin in the published classes, worked out apart from
    /// `pinnable`: per site part, a member with the bit and no member without it left
    /// uncleared; per class, a member with the bit that no perfect matching of members to rows
    /// (a member may take a row with none of its cleared bits) moves to a row without it
    /// (Kuhn's augmenting paths, row by row rather than by type).
    fn pinned(records: &[Detail], outcomes: &[Outcomes], c: &Choice) -> u32 {
        let mut parts: HashMap<(Vec<String>, String), Vec<Outcomes>> = HashMap::new();
        let mut classes: HashMap<Vec<String>, Vec<Outcomes>> = HashMap::new();
        for ((r, o), kept) in records.iter().zip(outcomes).zip(&c.kept) {
            if *kept {
                let key = class_key(r, &Qi::ALL, &c.levels);
                parts.entry((key.clone(), r.site.clone())).or_default().push(*o);
                if r.site != "all" {
                    parts.entry((key.clone(), "all".into())).or_default().push(*o);
                }
                classes.entry(key).or_default().push(*o);
            }
        }
        let mut out = 0;
        for ((_, site), members) in &parts {
            // Hearings, check-ins and mental-health care by site; exits over all sites.
            let bits = if site == "all" { 3..6 } else { 0..3 };
            for bit in bits.map(|b| 1u32 << b) {
                let with = members.iter().any(|o| o.has & bit != 0);
                let cover = members.iter().any(|o| o.has & bit == 0 && o.cleared & bit == 0);
                if with && !cover {
                    out |= bit;
                }
            }
        }
        for members in classes.values() {
            for (i, m) in members.iter().enumerate() {
                for bit in (0..6).map(|b| 1u32 << b).filter(|b| m.has & b != 0) {
                    let allowed = |person: usize, row: usize| {
                        let h = members[row].has;
                        let p = &members[person];
                        h & p.cleared == 0 && h & p.must == p.must && (person != i || h & bit == 0)
                    };
                    if !perfect(members.len(), &allowed) {
                        out |= bit;
                    }
                }
            }
        }
        out
    }

    /// Whether `n` people can take `n` rows, one each, where `allowed(person, row)`.
    fn perfect(n: usize, allowed: &dyn Fn(usize, usize) -> bool) -> bool {
        fn augment(
            p: usize,
            n: usize,
            allowed: &dyn Fn(usize, usize) -> bool,
            seen: &mut [bool],
            owner: &mut [Option<usize>],
        ) -> bool {
            for r in 0..n {
                if allowed(p, r) && !seen[r] {
                    seen[r] = true;
                    if owner[r].is_none_or(|q| augment(q, n, allowed, seen, owner)) {
                        owner[r] = Some(p);
                        return true;
                    }
                }
            }
            false
        }
        let mut owner = vec![None; n];
        (0..n).all(|p| augment(p, n, allowed, &mut vec![false; n], &mut owner))
    }

    fn has(bits: u32) -> Outcomes {
        Outcomes { has: bits, ..Outcomes::default() }
    }

    #[test]
    fn no_site_part_of_a_class_is_all_one_sensitive_outcome() {
        // 33 records in three classes of 11 at the detailed node, two of them at site-0; in the
        // first, everyone missed a hearing (bit 0), so that node would pin them, and the search
        // must generalize until the first two classes merge.
        let records: Vec<Detail> = [0, 3, 1].iter().flat_map(|&i| vec![detail(i); 11]).collect();
        let outcomes: Vec<Outcomes> = (0..33).map(|i| has(u32::from(i < 11))).collect();
        let k_only = anonymize(&records, &[Outcomes::default(); 33], 0, &Qi::ALL, 11, 0).unwrap();
        assert_eq!(pinned(&records, &outcomes, &k_only), 1, "k alone pins them");
        let c = anonymize(&records, &outcomes, 0, &Qi::ALL, 11, 0).unwrap();
        assert_eq!(pinned(&records, &outcomes, &c), 0, "{c:?}");
        assert!(c.kept.iter().all(|k| *k), "never bought by suppressing");
        // A site whose every record holds the outcome can never be mixed: no extract, and the
        // provider is told which outcome.
        let outcomes: Vec<Outcomes> = records.iter().map(|r| has(if r.site == "site-0" { 0b100 } else { 0 })).collect();
        assert_eq!(anonymize(&records, &outcomes, 0, &Qi::ALL, 11, 0), Err(NoNode::NotDiverse(0b100)));
    }

    #[test]
    fn members_the_tables_clear_do_not_count_as_cover() {
        // One site, 22 records in two detailed classes of 11. Class one: a single positive,
        // and 10 negatives the board's zeros clear; class two: 11 negatives nobody can clear.
        // The detailed node leaves the positive alone among the members not cleared, so the
        // search must merge the classes.
        let records: Vec<Detail> = [0, 3].iter().flat_map(|&i| vec![detail(i); 11]).collect();
        let outcomes: Vec<Outcomes> = (0..22)
            .map(|i| match i {
                0 => has(1),
                1..=10 => Outcomes { cleared: 1, ..Outcomes::default() },
                _ => Outcomes::default(),
            })
            .collect();
        let plain: Vec<Outcomes> = outcomes.iter().map(|o| has(o.has)).collect();
        let ignoring_the_tables = anonymize(&records, &plain, 0, &Qi::ALL, 11, 0).unwrap();
        assert_eq!(ignoring_the_tables.levels, vec![0; 7], "mixed, if nobody could be cleared");
        assert_eq!(pinned(&records, &outcomes, &ignoring_the_tables), 1, "but the tables clear the 10");
        let c = anonymize(&records, &outcomes, 0, &Qi::ALL, 11, 0).unwrap();
        assert_ne!(c.levels, vec![0; 7]);
        assert_eq!(pinned(&records, &outcomes, &c), 0, "{c:?}");
    }

    #[test]
    fn an_outcome_a_person_is_cleared_of_narrows_the_rows_it_can_hold() {
        // One class of 11 at one site. X missed a check-in (bit 1) and is cleared of a missed
        // hearing (bit 0); V missed a check-in; W and 8 others missed a hearing. Outcome by
        // outcome the class is mixed, but the only rows without a missed hearing are X's and
        // V's, and both show a missed check-in: X is pinned to it.
        let records: Vec<Detail> = vec![detail(0); 11];
        let mut outcomes = vec![Outcomes { has: 0b10, cleared: 0b01, must: 0 }, has(0b10)];
        outcomes.extend(vec![has(0b01); 9]);
        let c = anonymize(&records, &outcomes, 0, &Qi::ALL, 11, 0);
        assert_eq!(c, Err(NoNode::NotDiverse(0b10)), "no node can mix one class");
        // With one more row that has neither, X could hold it: published.
        let records: Vec<Detail> = vec![detail(0); 12];
        outcomes.push(Outcomes::default());
        let c = anonymize(&records, &outcomes, 0, &Qi::ALL, 11, 0).unwrap();
        assert_eq!(pinned(&records, &outcomes, &c), 0);
    }

    #[test]
    fn an_outcome_the_tables_force_singles_out_the_only_row_with_it() {
        // One class of 11 at one site. P had some service (bit 8 here), which the tables force
        // on P (everyone present had it), and missed a hearing (bit 0); the others had
        // neither. P's row is the only one P may hold: pinned, so no node publishes.
        let records: Vec<Detail> = vec![detail(0); 11];
        let mut outcomes = vec![Outcomes { has: 0b1_0000_0001, cleared: 0, must: 0b1_0000_0000 }];
        outcomes.extend(vec![Outcomes::default(); 10]);
        assert_eq!(anonymize(&records, &outcomes, 0, &Qi::ALL, 11, 0), Err(NoNode::NotDiverse(1)));
        // Not forced, P could hold any row: published.
        outcomes[0].must = 0;
        let c = anonymize(&records, &outcomes, 0, &Qi::ALL, 11, 0).unwrap();
        assert_eq!(pinned(&records, &outcomes, &c), 0);
    }

    #[test]
    fn classes_never_mix_people_who_left_with_people_who_stayed() {
        // 12 alike: 2 left, both detained (bit 3, shown by the exit group). A class of 12
        // showing the exit group would show two exited rows, theirs; apart, the two are under
        // k. So the exit group is not shown: its bits leave the rows, and nothing pins them.
        let mut records: Vec<Detail> = vec![detail(0); 12];
        records[0].exited = true;
        records[1].exited = true;
        let outcomes: Vec<Outcomes> = (0..12).map(|i| has(if i < 2 { 1 << 3 } else { 0 })).collect();
        let status = Qi::ALL.iter().position(|q| *q == Qi::Status).unwrap();
        let c = anonymize(&records, &outcomes, 0xf8, &Qi::ALL, 11, 0).unwrap();
        assert_eq!(c.levels[status], 1, "the exit group is hidden: {c:?}");
        assert!(c.kept.iter().all(|k| *k));
        // With 11 leavers and 11 stayers, it is shown, in classes that do not mix them.
        let mut records: Vec<Detail> = vec![detail(0); 22];
        for r in &mut records[..11] {
            r.exited = true;
        }
        let c = anonymize(&records, &[Outcomes::default(); 22], 0xf8, &Qi::ALL, 11, 0).unwrap();
        assert_eq!(c.levels[status], 0, "{c:?}");
    }

    #[test]
    fn random_records_and_outcomes_always_publish_safe_classes_or_nothing() {
        let mut rng = fastrand::Rng::with_seed(7);
        let (mut published, mut refused) = (0, 0);
        for round in 0..60 {
            let n = rng.usize(11..250);
            let records: Vec<Detail> = (0..n).map(|_| detail(rng.usize(0..1000))).collect();
            let (rate, clear) = (rng.u8(1..101), rng.u8(0..60));
            let outcomes: Vec<Outcomes> = (0..n)
                .map(|_| {
                    let has = (0..9).fold(0u32, |f, bit| f | (u32::from(rng.u8(0..100) < rate) << bit));
                    let cleared = (0..9).fold(0u32, |f, bit| f | (u32::from(rng.u8(0..100) < clear) << bit)) & !has;
                    // Forced: a few non-sensitive bits (6 to 8), now and then mental-health care (2).
                    let must =
                        [2, 6, 7, 8].iter().fold(0u32, |f, bit| f | (u32::from(rng.u8(0..100) < clear / 8) << bit))
                            & has;
                    Outcomes { has, cleared, must }
                })
                .collect();
            match anonymize(&records, &outcomes, 0, &Qi::ALL, 11, n / 20) {
                Ok(c) => {
                    assert_eq!(pinned(&records, &outcomes, &c), 0, "round {round}");
                    let suppressed = c.kept.iter().filter(|k| !**k).count();
                    assert!(suppressed == 0 || suppressed >= 11, "round {round}");
                    published += 1;
                }
                Err(NoNode::NotDiverse(bits)) => {
                    assert_ne!(bits, 0);
                    refused += 1;
                }
                Err(NoNode::TooFew) => panic!("round {round}: {n} records found no node"),
            }
        }
        assert!(published > 10 && refused > 0, "{published} published, {refused} refused: both paths run");
    }
}
