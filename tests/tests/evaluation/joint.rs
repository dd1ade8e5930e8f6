//! An extract beside the board's tables, attacked together (issue #17, "Differencing"). The
//! attacker holds the evaluator's extract, every board report the provider released, and an
//! outside list of every participant: site, enrollment and exit dates, birth date, nationality
//! and language. It goes after each person's sensitive outcomes: a missed hearing, a missed
//! check-in, mental-health care, and exits by detention, departure or lost contact.
//!
//! How the tables help it: they count by site and publish zeros. A person whose whole time
//! enrolled (enrollment to exit, or to the extract's date) lies in released periods whose site
//! row shows 0 for an outcome did not have it (table 11b for hearings, 13 for check-ins, 07c
//! for mental-health care). For exits the list is the lever: someone who has not left was not
//! detained, and a quarter whose table 18 shows no detention clears everyone who left in it. In the extract, a class (the records sharing their generalized
//! quasi-identifiers) states how many of its members had each outcome. When those members the
//! tables do not clear are exactly as many as the class's positives, every one of them is
//! pinned. A class that is all positive pins everyone in it without any table.
//!
//! The attacker is scored against the truth: a pin counts as a disclosure when it is right
//! (the attacker's reading of the tables is a guess about events outside enrollment, so it can
//! be wrong, and those are counted apart). The teeth: the same attacker against the same people
//! published at the most detailed node where k-anonymity alone holds pins the person the
//! scenario plants, so "no pin" on the real extract is the rule's doing.
//!
//! Run: `cargo test -p caseward-tests --test evaluation joint -- --nocapture`.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing, reason = "tests")]

use std::collections::{BTreeMap, HashMap};

use caseward::extract::{Dictionary, ExtractOptions};
use caseward::report::bundle::open_bundle;
use caseward::report::{Cell, Period, ReportOptions, Table};
use caseward::synth::Synth;
use caseward::{
    Attendance, BirthDate, CheckIn, ClientId, ClientRecord, Date, DatePrecision, DateProvenance, Exit, ExitReason,
    HearingOutcome, Modality, Policy, Record, RecoveryIdentity, ServiceKind, Vault,
};
use caseward_tests::test_key;

use super::extract::{generalize, known_class, open, provider, row_class, rows, Known, Provider, EVALUATION_RULES};

/// An outcome the attacker can tell apart in a row and clear people of: how a row shows it, how
/// the tables clear someone of it, and, for the six it goes after, the truth to score against.
struct Feature {
    name: String,
    shows: Shows,
    lever: Lever,
    truth: Option<fn(&Truth) -> bool>,
}

/// How a row shows an outcome.
enum Shows {
    /// A count column above 0.
    Count(String),
    /// The exit group.
    Exit(&'static str),
}

impl Shows {
    fn on(&self, row: &BTreeMap<String, String>) -> bool {
        match self {
            Shows::Count(c) => row.get(c).is_some_and(|v| v.parse::<i64>().unwrap_or(0) > 0),
            Shows::Exit(g) => row.get("exit_group").is_some_and(|x| x == g),
        }
    }

    fn column(&self) -> &str {
        match self {
            Shows::Count(c) => c,
            Shows::Exit(_) => "exit_group",
        }
    }
}

/// How the attacker clears a person of an outcome.
enum Lever {
    /// A site table (`table`, `column`) showing 0 over every day the person was enrolled.
    Site(&'static str, String),
    /// An exit outcome: the person has not exited, or table 18 (provider-wide) shows 0 in all
    /// of `columns` for the quarter of their exit.
    Exit(&'static [&'static str]),
    /// Exited after the last quarter whose report the board holds (the extract says only
    /// `later` of them): the list's dates say who did.
    Later(Option<Date>),
}

/// Every feature: the six sensitive ones first, then those that only tell rows apart (the
/// services are the columns of the board's table 07b, as the attacker reads them there).
fn features(board: &Board) -> Vec<Feature> {
    let count =
        |name: &str, column: &str, table: &'static str, cell: &str, truth: Option<fn(&Truth) -> bool>| Feature {
            name: name.to_owned(),
            shows: Shows::Count(column.to_owned()),
            lever: Lever::Site(table, cell.to_owned()),
            truth,
        };
    let exit =
        |name: &str, group: &'static str, columns: &'static [&'static str], truth: Option<fn(&Truth) -> bool>| {
            Feature { name: name.to_owned(), shows: Shows::Exit(group), lever: Lever::Exit(columns), truth }
        };
    let mut out = vec![
        count("missed hearing", "hearings_missed", "11b", "one or more missed", Some(|t| t.missed_hearing)),
        count("missed check-in", "check_ins_missed", "13", "missed", Some(|t| t.missed_check_in)),
        count("mental-health care", "services_mental_health", "07c", "persons", Some(|t| t.mental_health)),
        exit("detained", "detained", &["detained"], Some(|t| t.exit_group == "detained")),
        exit("departed", "departed", &["removal order", "departed"], Some(|t| t.exit_group == "departed")),
        exit("lost contact", "lost_contact", &["lost contact"], Some(|t| t.exit_group == "lost_contact")),
        count("attended hearing", "hearings_attended", "11a", "appeared", None),
        count("attended check-in", "check_ins_attended", "13", "attended", None),
        exit("completed", "completed", &["resolved", "relief"], None),
        exit("left", "left", &["moved", "withdrew", "other"], None),
    ];
    let cutoff = board
        .tables
        .iter()
        .filter(|(_, _, t)| t.grain == caseward::report::Grain::Quarter)
        .map(|(_, end, _)| *end)
        .max();
    out.push(Feature { name: "later".into(), shows: Shows::Exit("later"), lever: Lever::Later(cutoff), truth: None });
    if let Some((_, _, t)) = board.tables.iter().find(|(_, _, t)| t.id == "07b") {
        for c in &t.columns {
            out.push(count(c, &format!("services_{c}"), "07b", c, None));
        }
    }
    out
}

/// A participant's sensitive outcomes as of the extract's date, read by the test from the
/// vault (the attacker never sees them).
#[derive(Clone, Debug, Default)]
struct Truth {
    missed_hearing: bool,
    missed_check_in: bool,
    mental_health: bool,
    exit_group: &'static str,
}

/// A participant on the attacker's outside list, with the truth the score is kept against.
struct Listed {
    known: Known,
    enrolled: Date,
    exit: Option<Date>,
    truth: Truth,
}

fn listed(r: &ClientRecord, as_of: Date) -> Option<Listed> {
    let known = Known::of(r, as_of)?;
    let e = r.enrollment()?;
    let mut truth = Truth { exit_group: "active", ..Truth::default() };
    let exit = e.exit.as_ref().filter(|x| x.date <= as_of);
    // The dictionary: outcomes while enrolled, enrollment to exit or the extract's date.
    let during = |d: Date| e.enrolled_on <= d && d <= exit.map_or(as_of, |x| x.date);
    for s in &r.records {
        match &s.record {
            Record::Hearing(h) if during(h.date) => {
                truth.missed_hearing |= h.outcome == Some(HearingOutcome::InAbsentia);
            }
            Record::CheckIn(c) if during(c.date) => {
                truth.missed_check_in |= c.attendance == Some(Attendance::Missed);
            }
            Record::Service(s) if during(s.date) => truth.mental_health |= s.kind == ServiceKind::MentalHealth,
            _ => {}
        }
    }
    if let Some(x) = exit {
        truth.exit_group = match x.reason {
            ExitReason::Completed | ExitReason::ReliefGranted | ExitReason::CaseTerminated => "completed",
            ExitReason::RemovalOrder | ExitReason::VoluntaryDeparture | ExitReason::Departed => "departed",
            ExitReason::LostContact => "lost_contact",
            ExitReason::Detained => "detained",
            _ => "left",
        };
    }
    Some(Listed { known, enrolled: e.enrolled_on, exit: exit.map(|x| x.date), truth })
}

/// Every table the board holds, with the days it covers.
struct Board {
    tables: Vec<(Date, Date, Table)>,
}

impl Board {
    /// Releases every month from `first` to `last` (each ended) and opens them as the board.
    fn release(vault: &Vault, first: Period, last: Period) -> Self {
        let board = RecoveryIdentity::generate();
        let mut tables = Vec::new();
        let mut period = first;
        loop {
            let bytes = vault.board_report(period, &ReportOptions::default(), &[board.recipient()]).unwrap();
            let report = open_bundle(&bytes, &board, None).unwrap().report;
            let spans = report.period.closing_spans();
            for t in report.tables {
                let span = spans.iter().find(|s| s.label == t.covers).unwrap();
                tables.push((span.start, span.end, t));
            }
            if period == last {
                break;
            }
            let (y, m) = (period.year(), period.month());
            period = if m == 12 { Period::new(y + 1, 1) } else { Period::new(y, m + 1) }.unwrap();
        }
        Self { tables }
    }

    /// Whether the released `table`s show 0 in `column` for `site` over every day from `from`
    /// to `to`: released spans must cover the days without a gap, and each must publish 0.
    fn clears(&self, table: &str, column: &str, site: &str, from: Date, to: Date) -> bool {
        let mut spans: Vec<(Date, Date, bool)> = self
            .tables
            .iter()
            .filter(|(start, end, t)| t.id == table && !t.withheld && *start <= to && *end >= from)
            .map(|(start, end, t)| {
                let zero = match (t.rows.iter().position(|r| r == site), t.columns.iter().position(|c| c == column)) {
                    (Some(r), Some(c)) => t.cell(r, c) == Some(&Cell::Count(0)),
                    _ => false,
                };
                (*start, *end, zero)
            })
            .collect();
        spans.sort_by_key(|s| s.0);
        let mut covered_to = from.add_days(-1);
        for (start, end, zero) in spans {
            if start > covered_to.add_days(1) {
                return false;
            }
            if !zero {
                return false;
            }
            covered_to = covered_to.max(end);
        }
        covered_to >= to
    }
}

/// What the attacker achieved.
#[derive(Debug, Default)]
struct Score {
    /// Right pins: (list index, outcome).
    disclosed: Vec<(usize, String)>,
    /// Pins the truth contradicts (the attacker's reading of the tables was wrong).
    wrong: usize,
    /// Persons the tables cleared of some outcome (the attacker's lever).
    cleared: usize,
    /// Class and sensitive-outcome pairs with a positive.
    positive_classes: usize,
    /// Classes whose rows the attacker could hand out to its members in no way (its model
    /// contradicted); none is expected.
    contradicted: usize,
}

/// The attack, class by class, in two steps.
///
/// * Counts: for each sensitive outcome, the members the tables do not clear against the
///   class's positives; as many as the positives, each is pinned.
/// * Rows: a member may hold only a row without every outcome it is cleared of. A member is
///   pinned to an outcome when no way of handing the rows out, one each, gives it a row without
///   the outcome. Rows with the same outcomes are interchangeable: the member can move to a
///   row without the outcome when that row's holder can move on, and so on back to a row like
///   the member's own (a path over row kinds).
fn attack(d: &Dictionary, table: &[BTreeMap<String, String>], list: &[Listed], board: &Board, as_of: Date) -> Score {
    let features = features(board);
    let mut classes: HashMap<Vec<String>, Vec<&BTreeMap<String, String>>> = HashMap::new();
    for row in table {
        classes.entry(row_class(d, row)).or_default().push(row);
    }
    let mut members: HashMap<Vec<String>, Vec<usize>> = HashMap::new();
    for (i, l) in list.iter().enumerate() {
        members.entry(known_class(d, &l.known)).or_default().push(i);
    }
    // What the tables clear each listed person of, a bit per feature the extract shows.
    let shown: Vec<bool> =
        features.iter().map(|f| table.first().is_some_and(|r| r.contains_key(f.shows.column()))).collect();
    let cleared: Vec<u64> = list
        .iter()
        .map(|l| {
            features.iter().zip(&shown).enumerate().fold(0u64, |mask, (bit, (f, shown))| {
                let clear = *shown
                    && match &f.lever {
                        Lever::Site(t, c) => board.clears(t, c, &l.known.site, l.enrolled, l.exit.unwrap_or(as_of)),
                        Lever::Exit(columns) => l.exit.is_none_or(|x| {
                            columns.iter().all(|c| board.clears("18", c, caseward::report::indicator::ALL_SITES, x, x))
                        }),
                        Lever::Later(cutoff) => l.exit.is_none_or(|x| cutoff.is_some_and(|c| x <= c)),
                    };
                mask | (u64::from(clear) << bit)
            })
        })
        .collect();
    let mut score = Score { cleared: cleared.iter().filter(|c| **c != 0).count(), ..Score::default() };
    let claim = |score: &mut Score, i: usize, f: &Feature| {
        if f.truth.is_some_and(|t| t(&list[i].truth)) {
            if !score.disclosed.iter().any(|(j, n)| *j == i && *n == f.name) {
                score.disclosed.push((i, f.name.clone()));
            }
        } else {
            score.wrong += 1;
        }
    };
    for (key, rows) in &classes {
        let Some(people) = members.get(key) else { continue };
        let has: Vec<u64> = rows
            .iter()
            .map(|r| features.iter().enumerate().fold(0u64, |m, (bit, f)| m | (u64::from(f.shows.on(r)) << bit)))
            .collect();
        for (bit, f) in features.iter().enumerate().filter(|(_, f)| f.truth.is_some()) {
            let positives = has.iter().filter(|h| *h & (1 << bit) != 0).count();
            if positives == 0 {
                continue;
            }
            score.positive_classes += 1;
            let candidates: Vec<usize> = people.iter().copied().filter(|&i| cleared[i] & (1 << bit) == 0).collect();
            if candidates.len() == positives {
                for i in candidates {
                    claim(&mut score, i, f);
                }
            }
        }
        if people.len() != rows.len() {
            continue; // suppressed members: the attacker cannot tell which
        }
        // Rows by kind; an edge a -> b when some member who can hold a row of kind a (in the
        // handing-out the attacker starts from) may hold one of kind b.
        let mut kinds: Vec<u64> = has.clone();
        kinds.sort_unstable();
        kinds.dedup();
        let Some(start) = hand_out(people, &cleared, &has) else {
            score.contradicted += 1;
            continue;
        };
        let kind = |h: u64| kinds.iter().position(|k| *k == h).unwrap();
        let n = kinds.len();
        let mut edge = vec![vec![false; n]; n];
        for (slot, &i) in people.iter().enumerate() {
            let from = kind(has[start[slot]]);
            for (to, k) in kinds.iter().enumerate() {
                edge[from][to] |= k & cleared[i] == 0;
            }
        }
        // Backward reachability to each kind, by breadth-first search.
        let reaches = |target: usize| -> Vec<bool> {
            let mut seen = vec![false; n];
            seen[target] = true;
            let mut queue = vec![target];
            while let Some(b) = queue.pop() {
                for a in 0..n {
                    if edge[a][b] && !seen[a] {
                        seen[a] = true;
                        queue.push(a);
                    }
                }
            }
            seen
        };
        for (slot, &i) in people.iter().enumerate() {
            let home = kind(has[start[slot]]);
            let back = reaches(home);
            for (bit, f) in features.iter().enumerate().filter(|(_, f)| f.truth.is_some()) {
                if kinds[home] & (1 << bit) == 0 {
                    continue;
                }
                let escapes = (0..n).any(|r| kinds[r] & (1 << bit) == 0 && kinds[r] & cleared[i] == 0 && back[r]);
                if !escapes {
                    claim(&mut score, i, f);
                }
            }
        }
    }
    score
}

/// One way to hand the class's rows to its members (slot by slot: `people[s]` holds row
/// `out[s]`), each a row without the outcomes it is cleared of; `None` when there is none.
/// Kuhn's augmenting paths.
fn hand_out(people: &[usize], cleared: &[u64], has: &[u64]) -> Option<Vec<usize>> {
    fn augment(s: usize, ok: &dyn Fn(usize, usize) -> bool, seen: &mut [bool], owner: &mut [Option<usize>]) -> bool {
        for r in 0..owner.len() {
            if ok(s, r) && !seen[r] {
                seen[r] = true;
                if owner[r].is_none_or(|t| augment(t, ok, seen, owner)) {
                    owner[r] = Some(s);
                    return true;
                }
            }
        }
        false
    }
    let ok = |s: usize, r: usize| has[r] & cleared[people[s]] == 0;
    let mut owner: Vec<Option<usize>> = vec![None; has.len()];
    for s in 0..people.len() {
        if !augment(s, &ok, &mut vec![false; has.len()], &mut owner) {
            return None;
        }
    }
    let mut out = vec![0; people.len()];
    for (r, s) in owner.iter().enumerate() {
        out[s.unwrap()] = r;
    }
    Some(out)
}

/// The same people published at `levels` (one per quasi-identifier of `d`), with their true
/// outcomes: what an extract at another node of the lattice would have held.
fn at_node(d: &Dictionary, list: &[Listed], levels: &[u32]) -> (Dictionary, Vec<BTreeMap<String, String>>) {
    let mut node = d.clone();
    for (q, l) in node.quasi_identifiers.iter_mut().zip(levels) {
        q.level = *l;
    }
    let table = list
        .iter()
        .map(|l| {
            let mut row = generalize(&node, &l.known);
            let t = &l.truth;
            row.insert("hearings_missed".into(), u8::from(t.missed_hearing).to_string());
            row.insert("check_ins_missed".into(), u8::from(t.missed_check_in).to_string());
            row.insert("services_mental_health".into(), u8::from(t.mental_health).to_string());
            row.insert("exit_group".into(), t.exit_group.to_owned());
            row
        })
        .collect();
    (node, table)
}

fn smallest_class(d: &Dictionary, table: &[BTreeMap<String, String>]) -> usize {
    let mut sizes: HashMap<Vec<String>, usize> = HashMap::new();
    for row in table {
        *sizes.entry(row_class(d, row)).or_insert(0) += 1;
    }
    sizes.values().copied().min().unwrap_or(0)
}

/// An empty provider's vault, with its pseudonym key and `policy`.
fn planted_vault(seed: u8, policy: &Policy) -> (tempfile::TempDir, Vault) {
    let dir = tempfile::tempdir().unwrap();
    let vault = Vault::create_with_key(dir.path().join("p.cwv"), &test_key(seed)).unwrap();
    vault.set_provider_id("irc-new-york").unwrap();
    vault.generate_pseudonym_key().unwrap();
    vault.install_policy(policy).unwrap();
    (dir, vault)
}

/// A participant of the planted scenario: site, enrollment, exit, whether they missed their
/// September check-in.
fn planted_intake(synth: &mut Synth, site: &str, enrolled: Date) -> caseward::Intake {
    let mut intake = synth.intake();
    intake.identity.dob =
        Some(BirthDate::new(1990, Some(5), Some(5), DatePrecision::Day, DateProvenance::Document).unwrap());
    intake.identity.nationality = vec!["MX".into()];
    intake.identity.languages = vec!["es".into()];
    intake.enrollment = caseward::Enrollment::new(site, enrolled);
    intake.records.clear();
    intake
}

#[test]
fn a_site_the_tables_clear_does_not_pin_the_other_sites_members_of_a_class() {
    // Site B: 11 people enrolled in January who stay (so B's rows are published every month),
    // and 12 who enroll on 10 July and complete on 25 September. Site A: the target, enrolled on
    // 20 July and leaving on 25 September; 11 who enroll on 10 August and complete on 25
    // September; 29 who enroll on 10 August and stay. Everyone has one check-in on 15
    // September; the target and 11 of A's stayers missed it. The policy keeps the site from the
    // evaluator, so at the most detailed node July's leavers are a class of B's 12 and the
    // target: B's check-in row for the quarter publishes 0 missed, which clears the 12, and the
    // class's one missed check-in is the target's.
    let rules = EVALUATION_RULES.replace(", \"program.site\"", "");
    assert_ne!(rules, EVALUATION_RULES);
    let text = format!("{}{rules}", caseward::policy::DEFAULT_POLICY);
    let (dir, vault) = planted_vault(61, &Policy::from_toml(&text, "evaluation.toml").unwrap());
    let day = |m, d| Date::from_ymd(2026, m, d).unwrap();
    let mut synth = Synth::new(61);
    let mut plan: Vec<(&str, Date, Option<Date>, bool)> = Vec::new();
    plan.extend((0..11).map(|_| ("site-b", day(1, 12), None, false)));
    plan.extend((0..12).map(|_| ("site-b", day(7, 10), Some(day(9, 25)), false)));
    plan.push(("site-a", day(7, 20), Some(day(9, 25)), true));
    plan.extend((0..11).map(|_| ("site-a", day(8, 10), Some(day(9, 25)), false)));
    plan.extend((0..29).map(|i| ("site-a", day(8, 10), None, i < 11)));
    let intakes: Vec<_> =
        plan.iter().map(|(site, enrolled, _, _)| planted_intake(&mut synth, site, *enrolled)).collect();
    // Entered out of date order, as providers do.
    let mut order: Vec<usize> = (0..intakes.len()).collect();
    fastrand::Rng::with_seed(61).shuffle(&mut order);
    let mut ids: Vec<Option<ClientId>> = vec![None; intakes.len()];
    for i in order {
        ids[i] = Some(vault.enroll(&intakes[i]).unwrap());
    }
    let ids: Vec<ClientId> = ids.into_iter().flatten().collect();
    vault.lottery_commit("planted", &ids, u32::try_from(ids.len() / 2).unwrap(), "a beacon").unwrap();
    vault.lottery_draw("planted", "A1B2").unwrap();
    for (id, (_, _, exit, missed)) in ids.iter().zip(&plan) {
        let attendance = if *missed { Attendance::Missed } else { Attendance::Attended };
        let check_in = CheckIn {
            date: day(9, 15),
            time: None,
            office: "NYC".into(),
            modality: Modality::InPerson,
            attendance: Some(attendance),
        };
        vault.add_record(*id, &Record::CheckIn(check_in)).unwrap();
        if let Some(x) = exit {
            vault.update_enrollment(*id, |e| e.exit = Some(Exit { date: *x, reason: ExitReason::Completed })).unwrap();
        }
    }
    let board = Board::release(&vault, Period::new(2026, 1).unwrap(), Period::new(2026, 11).unwrap());
    let p = Provider { _dir: dir, vault, ids };
    let as_of = Date::today();
    let list: Vec<Listed> = p.ids.iter().filter_map(|c| listed(&p.vault.client_record(*c).unwrap(), as_of)).collect();
    assert_eq!(list.len(), plan.len());
    let target = list.iter().position(|l| l.known.site == "site-a" && l.enrolled == day(7, 20)).unwrap();

    let evaluator = RecoveryIdentity::generate();
    let opened = open(&p, &evaluator, &ExtractOptions::new("planted"));
    let (d, table) = (&opened.dictionary, rows(&opened.parquet));
    assert!(d.diverse.iter().any(|f| f.contains("check-in")), "{:?}", d.diverse);
    let real = attack(d, &table, &list, &board, as_of);

    // The teeth: the most detailed node, where k = 11 alone holds (stayers: 11 and 29;
    // leavers: 13 and 11).
    let (node, detailed) = at_node(d, &list, &vec![0; d.quasi_identifiers.len()]);
    assert!(smallest_class(&node, &detailed) >= 11, "k holds at the detailed node");
    let naive = attack(&node, &detailed, &list, &board, as_of);
    println!(
        "planted: {} records at {}; the tables clear {} people; pins: {} right, {} wrong (k alone at the detailed \
         node: {} right: {:?})",
        d.records,
        d.quasi_identifiers.iter().map(|q| format!("{}={}", q.column, q.meaning)).collect::<Vec<_>>().join(", "),
        real.cleared,
        real.disclosed.len(),
        real.wrong,
        naive.disclosed.len(),
        naive.disclosed
    );
    assert!(naive.disclosed.contains(&(target, "missed check-in".to_owned())), "the attack has teeth: {naive:?}");
    assert_eq!(real.contradicted + naive.contradicted, 0, "the attacker's model fits the data");
    assert!(real.disclosed.is_empty(), "pinned: {:?}", real.disclosed);
    assert!(real.cleared >= 12, "the tables still clear B's leavers: the attacker's lever is real");

    // The same people again, under another evaluation id: refused, since two extracts of one
    // person taken at different times differ by what happened in between.
    let err = p.vault.evaluator_extract(&ExtractOptions::new("planted-again"), &[evaluator.recipient()]).unwrap_err();
    assert_eq!(err.kind(), caseward::ErrorKind::InvalidInput, "{err}");
    assert!(err.to_string().contains("extracted once"), "{err}");
}

#[test]
fn synthetic_providers_extracts_beside_every_board_release_pin_nobody() {
    // Two synthetic providers of 600 clients with exits (some detained, departed or lost),
    // every month from December 2025 to November 2026 released to the board, and the extract.
    let mut totals = (0, 0, 0, 0, 0);
    for seed in [51u64, 52] {
        let p = provider(600, seed);
        let mut rng = fastrand::Rng::with_seed(seed);
        let reasons = [
            ExitReason::Completed,
            ExitReason::Detained,
            ExitReason::Departed,
            ExitReason::LostContact,
            ExitReason::RemovalOrder,
        ];
        let mut exits: Vec<(ClientId, Exit)> = Vec::new();
        for &c in &p.ids {
            let e = p.vault.client_record(c).unwrap().enrollment().unwrap().clone();
            let date = e.enrolled_on.add_days(rng.i64(30..200));
            if rng.u8(..3) == 0 && date <= Date::from_ymd(2026, 11, 20).unwrap() {
                exits.push((c, Exit { date, reason: reasons[rng.usize(..reasons.len())] }));
            }
        }
        // Exits entered in no particular order.
        rng.shuffle(&mut exits);
        for (c, x) in exits {
            p.vault.update_enrollment(c, |e| e.exit = Some(x)).unwrap();
        }
        let board = Board::release(&p.vault, Period::new(2025, 12).unwrap(), Period::new(2026, 11).unwrap());
        let as_of = Date::today();
        let list: Vec<Listed> =
            p.ids.iter().filter_map(|c| listed(&p.vault.client_record(*c).unwrap(), as_of)).collect();
        let evaluator = RecoveryIdentity::generate();
        let opened = open(&p, &evaluator, &ExtractOptions::new("synthetic"));
        let (d, table) = (&opened.dictionary, rows(&opened.parquet));
        let score = attack(d, &table, &list, &board, as_of);
        println!(
            "provider {seed}: {} participants, {} records, {} suppressed, levels {}; classes with a positive: {}; the \
             tables clear {} people; pins: {} right, {} wrong",
            list.len(),
            d.records,
            d.suppressed,
            d.quasi_identifiers.iter().map(|q| format!("{}={}", q.column, q.level)).collect::<Vec<_>>().join(","),
            score.positive_classes,
            score.cleared,
            score.disclosed.len(),
            score.wrong
        );
        assert!(score.disclosed.is_empty(), "provider {seed}: pinned {:?}", score.disclosed);
        totals.0 += list.len();
        totals.1 += score.positive_classes;
        totals.2 += score.cleared;
        totals.3 += score.disclosed.len();
        totals.4 += score.wrong;
    }
    println!(
        "both providers: {} participants, {} class-outcome pairs with a positive, {} people cleared by the tables, {} \
         right pins, {} wrong",
        totals.0, totals.1, totals.2, totals.3, totals.4
    );
    assert!(totals.1 > 0, "the extracts hold positives to attack");
}

#[test]
fn the_rows_of_people_the_list_shows_exited_do_not_single_them_out() {
    // Site A, 12 alike (enrolled 12 January), one hearing each on 10 February; two exit on 20
    // June (completed), and theirs were in absentia. A class of the 12 showing the exit group
    // would give the two leavers' rows away, both with a missed hearing, with no table needed;
    // the extract must hide the exit group or be refused. (From an independent review.)
    let (dir, vault) = planted_vault(62, &super::extract::evaluation_policy());
    let day = |m, d| Date::from_ymd(2026, m, d).unwrap();
    let mut synth = Synth::new(62);
    let ids: Vec<ClientId> =
        (0..12).map(|_| vault.enroll(&planted_intake(&mut synth, "site-a", day(1, 12))).unwrap()).collect();
    vault.lottery_commit("linkage", &ids, 6, "a beacon").unwrap();
    vault.lottery_draw("linkage", "A1B2").unwrap();
    for (i, id) in ids.iter().enumerate() {
        let outcome = if i < 2 { HearingOutcome::InAbsentia } else { HearingOutcome::Attended };
        let hearing = caseward::Hearing {
            date: day(2, 10),
            time: None,
            court: "Varick Street".into(),
            kind: caseward::HearingKind::MasterCalendar,
            outcome: Some(outcome),
        };
        vault.add_record(*id, &Record::Hearing(hearing)).unwrap();
        if i < 2 {
            vault
                .update_enrollment(*id, |e| e.exit = Some(Exit { date: day(6, 20), reason: ExitReason::Completed }))
                .unwrap();
        }
    }
    let p = Provider { _dir: dir, vault, ids };
    let as_of = Date::today();
    let list: Vec<Listed> = p.ids.iter().filter_map(|c| listed(&p.vault.client_record(*c).unwrap(), as_of)).collect();
    assert_eq!(list.iter().filter(|l| l.exit.is_some()).count(), 2);
    let board = Board { tables: Vec::new() };
    let evaluator = RecoveryIdentity::generate();
    let opened = open(&p, &evaluator, &ExtractOptions::new("linkage"));
    let (d, table) = (&opened.dictionary, rows(&opened.parquet));
    let real = attack(d, &table, &list, &board, as_of);
    // The teeth: showing the exit group (every level at its most detailed), the attacker hands
    // the two `completed` rows to the two leavers, the only members who can hold them.
    let (node, detailed) = at_node(d, &list, &vec![0; d.quasi_identifiers.len()]);
    let naive = attack(&node, &detailed, &list, &board, as_of);
    let status = d.quasi_identifiers.iter().find(|q| q.column == "exit_group").unwrap();
    println!(
        "linkage: exit group {}; pins {} (showing it: {})",
        status.meaning,
        real.disclosed.len(),
        naive.disclosed.len()
    );
    assert_eq!(naive.disclosed.len(), 2, "the attack has teeth: {naive:?}");
    assert!(real.disclosed.is_empty(), "{:?}", real.disclosed);
    assert!(table.iter().all(|r| r["exit_group"] == "*"), "the leavers' rows are not told apart");
}
