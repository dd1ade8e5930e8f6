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
//!   every class that has a member with the outcome, some member without it cannot be cleared
//!   (per site, since a reader who clears the other sites learns the part's count). The
//!   members left then always outnumber the part's positives. Which members can be cleared is
//!   worked out from the data themselves, for every period whether released yet or not, as if
//!   every site row were published: more than the board ever shows, so the rule errs safe. It
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
    Site,
    Nationality,
    Language,
}

impl Qi {
    /// Every quasi-identifier, in the order the search prefers to keep detailed.
    pub(crate) const ALL: [Qi; 5] = [Qi::Enrolled, Qi::Site, Qi::AgeBand, Qi::Nationality, Qi::Language];

    /// The column name.
    pub(crate) fn name(self) -> &'static str {
        match self {
            Qi::AgeBand => "age_band",
            Qi::Enrolled => "enrolled",
            Qi::Site => "site",
            Qi::Nationality => "nationality",
            Qi::Language => "language",
        }
    }

    /// How many levels the hierarchy has (the last is `*`).
    pub(crate) fn levels(self) -> usize {
        match self {
            Qi::AgeBand | Qi::Enrolled => 5,
            Qi::Site => 2,
            Qi::Nationality | Qi::Language => 3,
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
            Qi::Site => &["site", "*"],
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
}

/// A record's sensitive outcomes, a bit each: which it has, and which a reader of the board's
/// tables with an outside list could prove it lacks (`cleared`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(crate) struct Outcomes {
    pub has: u8,
    pub cleared: u8,
}

/// The value of `qi` for `d` at `level`.
pub(crate) fn generalize(qi: Qi, d: &Detail, level: usize) -> String {
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
    /// Some node keeps every class at k, but in none does every site's part of every class
    /// that has a member with an outcome also have one without it that cannot be cleared:
    /// these outcome bits still failed in the last such node tried (the most general).
    NotDiverse(u8),
}

/// The least generalized node of the lattice over `qis` that leaves every published class with
/// `k` or more records, suppressing at most `max_suppressed` records, and either none or `k` or
/// more, and in which, for every sensitive outcome, every site's part of a published class that
/// has a member with the outcome also has a member without it that cannot be cleared.
pub(crate) fn anonymize(
    records: &[Detail],
    outcomes: &[Outcomes],
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
            let keys: Vec<Vec<String>> =
                records.iter().map(|r| qis.iter().zip(&levels).map(|(q, l)| generalize(*q, r, *l)).collect()).collect();
            let mut sizes: HashMap<&[String], usize> = HashMap::new();
            for key in &keys {
                *sizes.entry(key.as_slice()).or_insert(0) += 1;
            }
            let kept: Vec<bool> = keys.iter().map(|key| sizes.get(key.as_slice()).copied().unwrap_or(0) >= k).collect();
            let suppressed = kept.iter().filter(|k| !**k).count();
            if suppressed > max_suppressed || (suppressed > 0 && suppressed < k) || suppressed == records.len() {
                continue;
            }
            let homogeneous = pinnable(records, outcomes, &keys, &kept);
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

/// The outcome bits for which some site's part of some class has a member with the outcome and
/// no member without it that cannot be cleared (0 when none).
fn pinnable(records: &[Detail], outcomes: &[Outcomes], keys: &[Vec<String>], kept: &[bool]) -> u8 {
    // Per part: the bits some member has, and the bits some member not cleared lacks.
    let mut parts: HashMap<(&[String], &str), (u8, u8)> = HashMap::new();
    for ((record, key), (o, &kept)) in records.iter().zip(keys).zip(outcomes.iter().zip(kept)) {
        if kept {
            let (with, open_without) = parts.entry((key.as_slice(), record.site.as_str())).or_insert((0, 0));
            *with |= o.has;
            *open_without |= !o.has & !o.cleared;
        }
    }
    parts.values().fold(0, |failed, (with, without)| failed | (with & !without))
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
        }
    }

    #[test]
    fn every_published_class_has_k_or_more_and_suppression_is_zero_or_k() {
        for n in [11, 30, 200, 1000] {
            let records: Vec<Detail> = (0..n).map(detail).collect();
            let max = n / 20;
            let c = anonymize(&records, &vec![Outcomes::default(); n], &Qi::ALL, 11, max).unwrap();
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
            anonymize(&(0..10).map(detail).collect::<Vec<_>>(), &[Outcomes::default(); 10], &Qi::ALL, 11, 0),
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
        let c = anonymize(&records, &[Outcomes::default(); 33], &Qi::ALL, 11, 5).unwrap();
        let suppressed = c.kept.iter().filter(|k| !**k).count();
        assert_eq!(suppressed, 0, "{c:?}");
        assert_ne!(c.levels, vec![0; 5], "the detailed node was refused");
    }

    #[test]
    fn the_lattice_is_searched_from_the_least_generalized_node() {
        // 22 identical records need no generalization at all.
        let same: Vec<Detail> = (0..22).map(|_| detail(0)).collect();
        assert_eq!(anonymize(&same, &[Outcomes::default(); 22], &Qi::ALL, 11, 0).unwrap().levels, vec![0; 5]);
        assert_eq!(nodes(&[1, 2], 2), vec![vec![0, 2], vec![1, 1]]);
    }

    /// The outcome bits some site's part of a published class would let a reader pin: some
    /// member has the outcome, and every member without it can be cleared. Written apart from
    /// `pinnable`.
    fn pinned(records: &[Detail], outcomes: &[Outcomes], c: &Choice) -> u8 {
        let mut parts: HashMap<(Vec<String>, String), Vec<Outcomes>> = HashMap::new();
        for ((r, o), kept) in records.iter().zip(outcomes).zip(&c.kept) {
            if *kept {
                let key = Qi::ALL.iter().zip(&c.levels).map(|(q, l)| generalize(*q, r, *l)).collect();
                parts.entry((key, r.site.clone())).or_default().push(*o);
            }
        }
        let mut out = 0;
        for members in parts.values() {
            for bit in 0..8 {
                let with = members.iter().any(|o| o.has & (1 << bit) != 0);
                let cover = members.iter().any(|o| o.has & (1 << bit) == 0 && o.cleared & (1 << bit) == 0);
                if with && !cover {
                    out |= 1 << bit;
                }
            }
        }
        out
    }

    fn has(bits: u8) -> Outcomes {
        Outcomes { has: bits, cleared: 0 }
    }

    #[test]
    fn no_site_part_of_a_class_is_all_one_sensitive_outcome() {
        // 33 records in three classes of 11 at the detailed node, two of them at site-0; in the
        // first, everyone missed a hearing (bit 0), so that node would pin them, and the search
        // must generalize until the first two classes merge.
        let records: Vec<Detail> = [0, 3, 1].iter().flat_map(|&i| vec![detail(i); 11]).collect();
        let outcomes: Vec<Outcomes> = (0..33).map(|i| has(u8::from(i < 11))).collect();
        let k_only = anonymize(&records, &[Outcomes::default(); 33], &Qi::ALL, 11, 0).unwrap();
        assert_eq!(pinned(&records, &outcomes, &k_only), 1, "k alone pins them");
        let c = anonymize(&records, &outcomes, &Qi::ALL, 11, 0).unwrap();
        assert_eq!(pinned(&records, &outcomes, &c), 0, "{c:?}");
        assert!(c.kept.iter().all(|k| *k), "never bought by suppressing");
        // A site whose every record holds the outcome can never be mixed: no extract, and the
        // provider is told which outcome.
        let outcomes: Vec<Outcomes> = records.iter().map(|r| has(if r.site == "site-0" { 0b100 } else { 0 })).collect();
        assert_eq!(anonymize(&records, &outcomes, &Qi::ALL, 11, 0), Err(NoNode::NotDiverse(0b100)));
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
                1..=10 => Outcomes { has: 0, cleared: 1 },
                _ => Outcomes::default(),
            })
            .collect();
        let plain: Vec<Outcomes> = outcomes.iter().map(|o| has(o.has)).collect();
        let ignoring_the_tables = anonymize(&records, &plain, &Qi::ALL, 11, 0).unwrap();
        assert_eq!(ignoring_the_tables.levels, vec![0; 5], "mixed, if nobody could be cleared");
        assert_eq!(pinned(&records, &outcomes, &ignoring_the_tables), 1, "but the tables clear the 10");
        let c = anonymize(&records, &outcomes, &Qi::ALL, 11, 0).unwrap();
        assert_ne!(c.levels, vec![0; 5]);
        assert_eq!(pinned(&records, &outcomes, &c), 0, "{c:?}");
    }

    #[test]
    fn random_records_and_outcomes_always_publish_safe_parts_or_nothing() {
        let mut rng = fastrand::Rng::with_seed(7);
        let (mut published, mut refused) = (0, 0);
        for round in 0..40 {
            let n = rng.usize(11..300);
            let records: Vec<Detail> = (0..n).map(|_| detail(rng.usize(0..1000))).collect();
            let (rate, clear) = (rng.u8(1..101), rng.u8(0..60));
            let outcomes: Vec<Outcomes> = (0..n)
                .map(|_| {
                    let has = (0..5).fold(0u8, |f, bit| f | (u8::from(rng.u8(0..100) < rate) << bit));
                    let cleared = (0..5).fold(0u8, |f, bit| f | (u8::from(rng.u8(0..100) < clear) << bit)) & !has;
                    Outcomes { has, cleared }
                })
                .collect();
            match anonymize(&records, &outcomes, &Qi::ALL, 11, n / 20) {
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
