//! The joint attacker: a statistician holding *every* release of one provider at once (all the
//! tables of all its fifteen monthly reports, 2025-07 to 2026-09), with
//! every identity the indicator definitions imply and the published suppression rules.
//!
//! `tests/tests/suppression.rs` attacks one table at a time. Tables are not alone: a site's
//! active count (01a) is the row total of every site stock table, it moves from month to month
//! by that month's enrollments and exits, the quarter's flows (03, 04, 18) add those up over
//! sites, and participant-days (05) bound them. A cell that no single table gives away could
//! still be pinned by linear programming over all of them together. This file builds three
//! providers' releases the way a real provider makes them (records entered late, out of date
//! order, some twice) and asks, for every withheld count and every per-site quarterly flow, what
//! interval of values is consistent with everything the board holds.
//!
//! What counts as a leak: a target recovered exactly, or pinned inside 1..=10 (after rounding the
//! lower end up and the upper end down, counts being integers). Both must be zero; the figures
//! are printed (run with `--nocapture`) so they can be copied into `SECURITY.md`.
//!
//! The attacker is checked two ways. Every withheld active count must lie inside the interval it
//! computes (the ground truth is known here), or an identity is wrong and its "nothing pinned"
//! would mean nothing. And a second test appends a deliberately leaky table to the same releases
//! and checks the attacker finds it: a test that cannot fail proves nothing.
//!
//! The attacker also knows identities that `docs/indicators.md` does not list (read from
//! `contribute`; see [`Attacker::unlisted_identities`]), and the coverage line says which tables
//! the three providers actually exercise: a table withheld whole in every release tests nothing.
//! The `targeted_*` tests build small providers where one such identity, a revision beside its
//! original, or a provider input bites, and state the design's promise for each.
//!
//! Run: `cargo test -p caseward-tests --test joint_attack -- --nocapture` (about a minute in a
//! debug build).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing, reason = "tests")]

use std::collections::{BTreeMap, BTreeSet};
use std::ops::{Add, Mul, Sub};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

use caseward::report::bundle::open_bundle;
use caseward::report::{Cell, Grain, Period, Registry, ReportOptions, Table};
use caseward::synth::Synth;
use caseward::{
    BirthDate, ClientId, Date, DatePrecision, DateProvenance, Exit, ExitReason, Hearing, HearingKind, HearingOutcome,
    Intake, Record, RecoveryIdentity, ServiceEvent, ServiceKind, Vault,
};
use caseward_tests::test_key;
use good_lp::{
    constraint, microlp, variable, Expression, ProblemVariables, ResolutionError, Solution, SolutionStatus,
    SolverModel, Variable, WithTimeLimit,
};

/// Tables where a cell holding its whole row (or, for 17 and 19, the whole published
/// population) is withheld, protected by hiding a zero of its row: a withheld cell there may
/// be 0 (`docs/indicators.md`).
const WHOLE_ROW_RULE: &[&str] = &["11a", "11b", "15", "16", "17", "18", "19", "20a", "20b", "20c", "20d", "20e"];

// =============================================================================================
// Calendar
// =============================================================================================

/// Months of the three providers' study: fifteen, 2025-07 (index 0) to 2026-09 (index 14), so
/// that every one of them has ended and is released. The providers start in their first month
/// and the attacker knows it: nobody was active before.
const MONTHS: usize = 15;

/// Month index 0 as months since year 0: 2025-07 for the three providers.
const STUDY_START: usize = 2025 * 12 + 6;

/// Month index 0 of the targeted scenarios, whose months are written for it: 2025-10 (their
/// 2026-Q1 is indexes 3 to 5, their June index 8).
const SCENARIO_START: usize = 2025 * 12 + 9;

thread_local! {
    /// The calendar of the test running on this thread (each test has its own thread).
    static START: std::cell::Cell<usize> = const { std::cell::Cell::new(SCENARIO_START) };
}

/// Puts this test's thread on the three providers' calendar.
fn use_study_calendar() {
    START.with(|s| s.set(STUDY_START));
}

/// The month of index `m`.
fn period(m: usize) -> Period {
    let i = START.with(std::cell::Cell::get) + m;
    Period::new(i32::try_from(i / 12).unwrap(), u8::try_from(i % 12 + 1).unwrap()).unwrap()
}

fn first_day(m: usize) -> Date {
    let p = period(m);
    Date::from_ymd(p.year(), p.month(), 1).unwrap()
}

fn last_day(m: usize) -> Date {
    period(m).last_day()
}

fn days_in(m: usize) -> i64 {
    last_day(m).days_since(first_day(m)) + 1
}

/// A month is released on the 5th of the next month, after that day's data entry.
fn release_day(m: usize) -> Date {
    last_day(m).add_days(5)
}

/// The release of the quarter a month belongs to (quarters start in October, index 0).
fn quarter_release_day(m: usize) -> Date {
    release_day(m - m % 3 + 2)
}

fn random_day(rng: &mut fastrand::Rng, m: usize) -> Date {
    first_day(m).add_days(rng.i64(0..days_in(m)))
}

/// Months a table's span covers, ending at the month it is released in.
fn span_months(grain: Grain) -> usize {
    match grain {
        Grain::Month => 1,
        Grain::Quarter => 3,
        Grain::HalfYear => 6,
        Grain::Year | Grain::FiscalYear => 12,
    }
}

// =============================================================================================
// The providers' data, entered and released as time passes
// =============================================================================================

/// Three providers, each with a big site, a medium one, and a small one whose active count
/// hovers around the threshold of 11 and crosses it both ways.
const PROVIDERS: [(&str, [&str; 3]); 3] = [
    ("irc-new-york", ["queens", "bronx", "yonkers"]),
    ("bakerripley-houston", ["gulfton", "alief", "pasadena"]),
    ("global-refuge-baltimore", ["highlandtown", "towson", "dundalk"]),
];

/// The small site's active count at each month's end, before per-provider jitter: hidden
/// (1..=10) and published (11 or more) in turn, published at both ends of 2026-Q1 and hidden in
/// its middle month, so it is sometimes among the sites a quarter's flows add up.
const SMALL_PATH: [i64; MONTHS] = [6, 9, 11, 13, 10, 12, 9, 7, 8, 10, 12, 14, 12, 10, 8];

/// One client as planned: who, where, when they enroll and leave, the services they get, and
/// when each of those facts is typed into the vault.
struct Person {
    site: usize,
    intake: Intake,
    enrolled_on: Date,
    enroll_entered: Date,
    exit: Option<(Exit, Date)>,
    services: Vec<(ServiceEvent, Date)>,
}

/// What the board holds from one provider after one monthly release, and the ground truth the
/// vault held when it was built (for the leaky test).
#[derive(Clone)]
struct Release {
    month: usize,
    tables: Vec<Table>,
    /// What the report left out, and why (the withheld flows' note states what is proven).
    omitted: Vec<String>,
    /// Every client entered by then: (site, enrolled on, exit date if the exit was entered).
    truth: Vec<(usize, Date, Option<Date>)>,
}

#[derive(Clone)]
struct ProviderReleases {
    name: String,
    sites: Vec<String>,
    releases: Vec<Release>,
    /// Months not released because they have not ended yet (a report is signed only after).
    not_ended: Vec<Period>,
    /// Clients entered by the last release, and how messy their entry was.
    clients: usize,
    messy: String,
}

/// The active count path of a big or medium site: a bounded random walk.
fn walk(rng: &mut fastrand::Rng, start: std::ops::RangeInclusive<i64>, step: i64, lo: i64, hi: i64) -> Vec<i64> {
    let mut path = vec![rng.i64(start)];
    while path.len() < MONTHS {
        let last = *path.last().unwrap();
        path.push((last + rng.i64(-step..=step)).clamp(lo, hi));
    }
    path
}

fn small_path(rng: &mut fastrand::Rng, provider: usize) -> Vec<i64> {
    let mut path: Vec<i64> = SMALL_PATH.iter().map(|v| (v + rng.i64(-1..=1)).clamp(4, 15)).collect();
    if provider < 2 {
        // Published at both ends of 2026-Q1 (indices 2 and 5), hidden in its middle (index 4).
        path[2] = path[2].max(11);
        path[5] = path[5].max(11);
        path[4] = path[4].min(10);
    }
    path
}

const EXIT_REASONS: [ExitReason; 10] = [
    ExitReason::Completed,
    ExitReason::ReliefGranted,
    ExitReason::CaseTerminated,
    ExitReason::RemovalOrder,
    ExitReason::VoluntaryDeparture,
    ExitReason::Departed,
    ExitReason::MovedAway,
    ExitReason::Withdrew,
    ExitReason::LostContact,
    ExitReason::Detained,
];

/// Plans every client of provider `p`: enrollments and exits that follow each site's active
/// path exactly, services during enrollment, and when each fact is entered.
///
/// Messy on purpose, as providers enter data:
/// * records arrive in entry order, not date order (lags differ per fact);
/// * a few enrollments and about one exit in seven are back-filled after their month was
///   released, but before their quarter's release;
/// * for provider 0, one exit at the medium site is back-filled after its quarter was released:
///   the frozen releases then contradict each other (the next quarter's flows cannot match the
///   active counts), and the attacker must say so rather than hide it;
/// * one service in ten is back-filled (up to two months late), one in thirty entered twice.
fn plan(p: usize) -> Vec<Person> {
    let mut rng = fastrand::Rng::with_seed(0x0a77_ac4e + p as u64);
    let mut synth = Synth::new(4_000 + p as u64);
    let paths = [walk(&mut rng, 125..=140, 8, 120, 200), walk(&mut rng, 26..=32, 4, 25, 40), small_path(&mut rng, p)];
    let churn = [8..16, 2..6, 0..3];
    let mut persons: Vec<Person> = Vec::new();
    let mut active: [Vec<usize>; 3] = [Vec::new(), Vec::new(), Vec::new()];
    for m in 0..MONTHS {
        for s in 0..3 {
            let prev = if m == 0 { 0 } else { paths[s][m - 1] };
            let delta = paths[s][m] - prev;
            let exits = if m == 0 { 0 } else { (rng.i64(churn[s].clone()) + (-delta).max(0)).min(prev) };
            let news = exits + delta;
            assert!(news >= 0 && exits <= active[s].len() as i64);
            for _ in 0..exits {
                let who = active[s].swap_remove(rng.usize(..active[s].len()));
                let reason = EXIT_REASONS[rng.usize(..EXIT_REASONS.len())];
                let exit = Exit { date: random_day(&mut rng, m), reason };
                persons[who].exit = Some((exit, Date::from_ymd(2000, 1, 1).unwrap()));
            }
            for _ in 0..news {
                let enrolled_on = random_day(&mut rng, m);
                let mut intake = synth.intake();
                let shift = enrolled_on.days_since(intake.enrollment.enrolled_on);
                intake.enrollment.site = PROVIDERS[p].1[s].to_owned();
                intake.enrollment.enrolled_on = enrolled_on;
                intake.enrollment.exit = None;
                // Dates Synth sets relative to its own enrollment date follow the new one; the
                // second service is entered later, as a separate fact.
                let mut later = Vec::new();
                intake.records.retain_mut(|r| match r {
                    Record::Service(x) => {
                        x.date = x.date.add_days(shift);
                        if x.kind == ServiceKind::LegalOrientation {
                            true
                        } else {
                            later.push(x.clone());
                            false
                        }
                    }
                    Record::Screening(x) => {
                        x.date = x.date.add_days(shift);
                        true
                    }
                    Record::Referral(x) => {
                        x.date = x.date.add_days(shift);
                        true
                    }
                    _ => true,
                });
                if rng.u8(..6) == 0 {
                    intake.records.extend(synth.sensitive_records());
                }
                let late = rng.u8(..25) == 0;
                let lag = if late { rng.i64(8..=20) } else { rng.i64(0..=3) };
                let enroll_entered = enrolled_on.add_days(lag).min(quarter_release_day(m).add_days(-1));
                let services = later.into_iter().map(|x| (x, enroll_entered)).collect();
                active[s].push(persons.len());
                persons.push(Person { site: s, intake, enrolled_on, enroll_entered, exit: None, services });
            }
        }
    }
    let mut crossed_quarter = p != 0;
    for person in &mut persons {
        let end = person.exit.as_ref().map_or(last_day(MONTHS - 1), |(x, _)| x.date);
        // Exits: mostly within days; one in seven back-filled after its month's release but
        // before its quarter's; provider 0's first medium-site exit closing a quarter (up to
        // 2026-06) after that quarter's release.
        if let Some((exit, entered)) = person.exit.as_mut() {
            let m = month_of(exit.date);
            let at = if !crossed_quarter && person.site == 1 && m % 3 == 2 && m <= 8 {
                crossed_quarter = true;
                release_day(m).add_days(20)
            } else if rng.u8(..7) == 0 {
                exit.date.add_days(rng.i64(10..=45)).min(quarter_release_day(m).add_days(-1))
            } else {
                exit.date.add_days(rng.i64(0..=4))
            };
            *entered = at.max(person.enroll_entered.add_days(1));
        }
        // Services: the Synth one if it falls within enrollment, then about one a month in
        // three; all kinds, mental health and reintegration included.
        person.services.retain(|(x, _)| x.date >= person.enrolled_on && x.date <= end);
        let (from, to) = (month_of(person.enrolled_on), month_of(end));
        for m in from..=to {
            if rng.u8(..10) < 3 {
                let date = random_day(&mut rng, m).max(person.enrolled_on).min(end);
                let kind = ServiceKind::ALL[rng.usize(..ServiceKind::ALL.len())];
                person.services.push((ServiceEvent { date, kind, minutes: Some(rng.u32(15..120)) }, date));
            }
        }
        let mut duplicates = Vec::new();
        for (x, entered) in &mut person.services {
            let lag = if rng.u8(..10) == 0 { rng.i64(15..=60) } else { rng.i64(0..=5) };
            *entered = x.date.add_days(lag).max(person.enroll_entered.add_days(1));
            if rng.u8(..30) == 0 {
                duplicates.push((x.clone(), entered.add_days(rng.i64(0..=20))));
            }
        }
        person.services.extend(duplicates);
    }
    persons
}

/// The month index of a date within the study.
fn month_of(d: Date) -> usize {
    let start = i32::try_from(START.with(std::cell::Cell::get)).unwrap();
    let i = (d.year() * 12 + i32::from(d.month()) - 1) - start;
    usize::try_from(i).unwrap().min(MONTHS - 1)
}

/// One fact typed into the vault.
enum Op {
    Enroll(usize),
    Exit(usize),
    Service(usize, usize),
    Release(usize),
}

/// Creates provider `p`'s vault, enters its data day by day, and releases each month on the
/// 5th of the next as a provider would, keeping what the board opens.
fn build_provider(p: usize) -> ProviderReleases {
    let (name, site_names) = PROVIDERS[p];
    let persons = plan(p);
    let mut rng = fastrand::Rng::with_seed(0x0e47 + p as u64);
    // (when, data before releases on the same day, a random tiebreak: same-day facts arrive in
    // any order, op)
    let mut ops: Vec<(Date, u8, u64, Op)> = Vec::new();
    for (i, person) in persons.iter().enumerate() {
        ops.push((person.enroll_entered, 0, rng.u64(..), Op::Enroll(i)));
        if let Some((_, entered)) = &person.exit {
            ops.push((*entered, 0, rng.u64(..), Op::Exit(i)));
        }
        for (k, (_, entered)) in person.services.iter().enumerate() {
            ops.push((*entered, 0, rng.u64(..), Op::Service(i, k)));
        }
    }
    for m in 0..MONTHS {
        ops.push((release_day(m), 1, 0, Op::Release(m)));
    }
    ops.sort_by_key(|(at, class, tiebreak, _)| (*at, *class, *tiebreak));

    let dir = tempfile::tempdir().unwrap();
    let vault = Vault::create_with_key(dir.path().join(format!("{name}.cwv")), &test_key(40 + p as u8)).unwrap();
    vault.set_provider_id(name).unwrap();
    let board = RecoveryIdentity::generate();
    let mut registry = Registry::default();
    registry.providers.insert(name.to_owned(), vault.signing_public_key().unwrap());

    let mut ids: Vec<Option<ClientId>> = vec![None; persons.len()];
    let mut exited = vec![false; persons.len()];
    let mut batch: Vec<usize> = Vec::new();
    let flush = |batch: &mut Vec<usize>, ids: &mut Vec<Option<ClientId>>| {
        if batch.is_empty() {
            return;
        }
        let got = vault.enroll_many(batch.iter().map(|&i| &persons[i].intake)).unwrap();
        for (&i, id) in batch.iter().zip(got) {
            ids[i] = Some(id);
        }
        batch.clear();
    };
    let mut releases = Vec::new();
    let mut not_ended = Vec::new();
    // Facts entered after the release of the month they belong to: enrollments, exits (and of
    // those, after their quarter's release), services; services entered twice.
    let (mut late_enrollments, mut late_exits, mut very_late_exits, mut late_services, mut twice) = (0, 0, 0, 0, 0);
    let mut seen_services: BTreeSet<(usize, i64, &str, Option<u32>)> = BTreeSet::new();
    for (at, _, _, op) in ops {
        if !matches!(op, Op::Enroll(_)) {
            flush(&mut batch, &mut ids);
        }
        match op {
            Op::Enroll(i) => {
                late_enrollments += usize::from(at > release_day(month_of(persons[i].enrolled_on)));
                batch.push(i);
            }
            Op::Exit(i) => {
                let (exit, _) = persons[i].exit.clone().unwrap();
                late_exits += usize::from(at > release_day(month_of(exit.date)));
                very_late_exits += usize::from(at > quarter_release_day(month_of(exit.date)));
                vault.update_enrollment(ids[i].unwrap(), |e| e.exit = Some(exit)).unwrap();
                exited[i] = true;
            }
            Op::Service(i, k) => {
                let service = &persons[i].services[k].0;
                late_services += usize::from(at > release_day(month_of(service.date)));
                let key = (i, service.date.days_since(first_day(0)), service.kind.as_str(), service.minutes);
                twice += usize::from(!seen_services.insert(key));
                vault.add_record(ids[i].unwrap(), &Record::Service(service.clone())).unwrap();
            }
            Op::Release(m) => {
                if period(m).ensure_ended(Date::today()).is_err() {
                    // Later months have not ended either: nothing more can be released.
                    not_ended.extend((m..MONTHS).map(period));
                    break;
                }
                let bytes = vault.board_report(period(m), &ReportOptions::default(), &[board.recipient()]).unwrap();
                let report = open_bundle(&bytes, &board, Some(&registry)).unwrap().report;
                assert_eq!(report.period, period(m));
                let truth = persons
                    .iter()
                    .enumerate()
                    .filter(|(i, _)| ids[*i].is_some())
                    .map(|(i, x)| (x.site, x.enrolled_on, x.exit.as_ref().filter(|_| exited[i]).map(|(e, _)| e.date)))
                    .collect();
                releases.push(Release { month: m, tables: report.tables, omitted: report.omitted, truth });
            }
        }
    }
    let messy = format!(
        "entered after their month's release: {late_enrollments} enrollments, {late_exits} exits ({very_late_exits} \
         after their quarter's), {late_services} services; {twice} services entered twice"
    );
    ProviderReleases {
        name: name.to_owned(),
        sites: site_names.iter().map(|s| (*s).to_owned()).collect(),
        releases,
        not_ended,
        clients: ids.iter().flatten().count(),
        messy,
    }
}

/// The three providers' releases, built once (in parallel) for both tests.
fn providers() -> &'static (Vec<ProviderReleases>, Duration) {
    static DATA: OnceLock<(Vec<ProviderReleases>, Duration)> = OnceLock::new();
    use_study_calendar();
    DATA.get_or_init(|| {
        let start = Instant::now();
        let out = std::thread::scope(|s| {
            let handles: Vec<_> = (0..PROVIDERS.len())
                .map(|p| {
                    s.spawn(move || {
                        use_study_calendar();
                        build_provider(p)
                    })
                })
                .collect();
            handles.into_iter().map(|h| h.join().unwrap()).collect()
        });
        (out, start.elapsed())
    })
}

// =============================================================================================
// A small linear model: variables, linear expressions, constraints with their reasons
// =============================================================================================

/// `Σ coefficient · variable + constant`.
#[derive(Clone, Debug, Default)]
struct Lin {
    terms: Vec<(usize, f64)>,
    constant: f64,
}

impl Lin {
    fn var(v: usize) -> Self {
        Self { terms: vec![(v, 1.0)], constant: 0.0 }
    }

    fn constant(c: f64) -> Self {
        Self { terms: Vec::new(), constant: c }
    }

    fn sum(items: impl IntoIterator<Item = Lin>) -> Self {
        items.into_iter().fold(Lin::default(), |a, b| a + b)
    }
}

impl Add for Lin {
    type Output = Lin;
    fn add(mut self, other: Lin) -> Lin {
        self.terms.extend(other.terms);
        self.constant += other.constant;
        self
    }
}

impl Sub for Lin {
    type Output = Lin;
    fn sub(self, other: Lin) -> Lin {
        self + other * -1.0
    }
}

impl Mul<f64> for Lin {
    type Output = Lin;
    fn mul(mut self, k: f64) -> Lin {
        self.terms.iter_mut().for_each(|(_, a)| *a *= k);
        self.constant *= k;
        self
    }
}

struct VarDef {
    name: String,
    lo: f64,
    hi: f64,
}

/// `lin == 0` or `lin <= 0`, with the identity it encodes: `kind` names the family (for
/// summaries), `why` the instance (table, period, site).
struct Con {
    lin: Lin,
    eq: bool,
    kind: &'static str,
    why: String,
}

#[derive(Default)]
struct Model {
    vars: Vec<VarDef>,
    cons: Vec<Con>,
}

impl Model {
    fn var(&mut self, name: String, lo: f64, hi: f64) -> usize {
        self.vars.push(VarDef { name, lo, hi });
        self.vars.len() - 1
    }

    fn eq(&mut self, a: Lin, b: Lin, kind: &'static str, why: String) {
        self.cons.push(Con { lin: a - b, eq: true, kind, why });
    }

    fn le(&mut self, a: Lin, b: Lin, kind: &'static str, why: String) {
        self.cons.push(Con { lin: a - b, eq: false, kind, why });
    }
}

/// A constraint's free terms (duplicates merged) and its constant once fixed variables are
/// substituted.
fn reduce(con: &Con, fixed: &[Option<f64>]) -> (Vec<(usize, f64)>, f64) {
    let mut free: BTreeMap<usize, f64> = BTreeMap::new();
    let mut constant = con.lin.constant;
    for &(v, a) in &con.lin.terms {
        match fixed[v] {
            Some(x) => constant += a * x,
            None => *free.entry(v).or_insert(0.0) += a,
        }
    }
    (free.into_iter().filter(|(_, a)| a.abs() > 1e-12).collect(), constant)
}

// =============================================================================================
// The attacker's model of one provider's releases
// =============================================================================================

/// Site stock tables: each site row counts the persons active at the span's end at that site,
/// so its row total (or its single cell) is A(site, last month).
const SITE_STOCK: &[&str] = &["01a", "09", "10a", "10b", "16", "20a", "20b", "20c", "20d", "20e", "21a", "21b"];

/// What the attacker is after.
#[derive(Clone, Debug)]
struct TargetInfo {
    /// The release (month index) that published it.
    month: usize,
    table: String,
    covers: String,
    row: String,
    column: String,
}

struct Target {
    var: usize,
    info: TargetInfo,
}

struct Attacker<'a> {
    provider: &'a ProviderReleases,
    model: Model,
    /// Latent A (active at month end), n (new enrollments), e (exits) per site and month.
    a: Vec<Vec<usize>>,
    n: Vec<Vec<usize>>,
    e: Vec<Vec<usize>>,
    /// The variable of each withheld cell: (release, table, row, column).
    hidden: BTreeMap<(usize, usize, usize, usize), usize>,
    /// Sites whose 01a is published, per released month.
    published: Vec<BTreeSet<usize>>,
    targets: Vec<Target>,
    /// The late-correction variables of the stock-flow chain (see [`Attacker::stock_flow_chain`]).
    corrections: BTreeSet<usize>,
}

fn is_count_table(t: &Table) -> bool {
    t.unit != "days" && !t.unit.contains("USD")
}

fn row_label(t: &Table, r: usize) -> String {
    t.rows.get(r).cloned().unwrap_or_else(|| "Total".to_owned())
}

fn column_label(t: &Table, c: usize) -> String {
    t.columns.get(c).cloned().unwrap_or_else(|| "Total".to_owned())
}

impl<'a> Attacker<'a> {
    /// Encodes everything the board holds from `provider` and every identity of the definitions.
    fn new(provider: &'a ProviderReleases, unlisted: bool) -> Self {
        let months = provider.releases.len();
        for (i, r) in provider.releases.iter().enumerate() {
            assert_eq!(r.month, i, "releases are every month from the first, in order");
        }
        let mut model = Model::default();
        let sites = provider.sites.len();
        let latent = |model: &mut Model, what: &str| -> Vec<Vec<usize>> {
            (0..sites)
                .map(|x| {
                    (0..months)
                        .map(|m| model.var(format!("{what}({}, {})", provider.sites[x], period(m)), 0.0, f64::INFINITY))
                        .collect()
                })
                .collect()
        };
        let a = latent(&mut model, "A");
        let n = latent(&mut model, "n");
        let e = latent(&mut model, "e");
        let mut me = Self {
            provider,
            model,
            a,
            n,
            e,
            hidden: BTreeMap::new(),
            published: Vec::new(),
            targets: Vec::new(),
            corrections: BTreeSet::new(),
        };
        me.hidden_cells();
        me.published = (0..months)
            .map(|m| {
                let mut out = BTreeSet::new();
                if let Some(t) = me.table(m, "01a") {
                    for (r, label) in t.rows.iter().enumerate() {
                        if let (Some(x), Some(Cell::Count(_))) = (me.site(label), t.cell(r, 0)) {
                            out.insert(x);
                        }
                    }
                }
                out
            })
            .collect();
        me.stock_flow_chain();
        for m in 0..months {
            for t in 0..provider.releases[m].tables.len() {
                me.table_identities(m, t);
            }
            if unlisted {
                me.unlisted_identities(m);
            }
        }
        me.flow_targets();
        me
    }

    fn site(&self, label: &str) -> Option<usize> {
        self.provider.sites.iter().position(|s| s == label)
    }

    fn table(&self, m: usize, id: &str) -> Option<&'a Table> {
        self.provider.releases.get(m)?.tables.iter().find(|t| t.id == id)
    }

    /// A(x, m) as an expression; before the first month nobody was active.
    fn active(&self, x: usize, m: Option<usize>) -> Lin {
        m.map_or(Lin::constant(0.0), |m| Lin::var(self.a[x][m]))
    }

    /// Σ over sites `xs` and the months `months` of n (or e).
    fn flows(
        &self,
        of: &[Vec<usize>],
        xs: impl IntoIterator<Item = usize>,
        months: std::ops::RangeInclusive<usize>,
    ) -> Lin {
        Lin::sum(xs.into_iter().flat_map(|x| months.clone().map(move |m| Lin::var(of[x][m]))))
    }

    /// One variable per withheld cell. The published rules bound it: zeros are published and a
    /// small cell's complement is never zero, so in a row with a published interior cell every
    /// withheld interior cell is at least 1 (except in the tables of [`WHOLE_ROW_RULE`]); in a wholly withheld row, or a withheld table, zeros may hide
    /// (at least 0). A withheld 01a cell is a site with fewer than 11 active persons: at most 10.
    fn hidden_cells(&mut self) {
        for (m, release) in self.provider.releases.iter().enumerate() {
            for (t, table) in release.tables.iter().enumerate() {
                let interior = table.columns.len();
                for (r, row) in table.cells.iter().enumerate() {
                    let some_published =
                        !table.withheld && row.iter().take(interior).any(|c| matches!(c, Cell::Count(_)));
                    for (c, cell) in row.iter().enumerate() {
                        if matches!(cell, Cell::Count(_)) {
                            continue;
                        }
                        // A whole-row cell's rectangle may hide a zero of its row: in the tables
                        // with that rule a withheld cell may be 0.
                        let lo = if some_published && c < interior && !WHOLE_ROW_RULE.contains(&table.id.as_str()) {
                            1.0
                        } else {
                            0.0
                        };
                        let hi = if table.id == "01a" && r < table.rows.len() { 10.0 } else { f64::INFINITY };
                        let name = format!(
                            "{} {} [{}, {}]",
                            table.id,
                            table.covers,
                            row_label(table, r),
                            column_label(table, c)
                        );
                        let v = self.model.var(name, lo, hi);
                        self.hidden.insert((m, t, r, c), v);
                        if is_count_table(table) {
                            let info = TargetInfo {
                                month: m,
                                table: table.id.clone(),
                                covers: table.covers.clone(),
                                row: row_label(table, r),
                                column: column_label(table, c),
                            };
                            self.targets.push(Target { var: v, info });
                        }
                    }
                }
            }
        }
    }

    /// A cell of table `t` of release `m`: its published value, or its variable.
    fn cell(&self, m: usize, t: usize, r: usize, c: usize) -> Lin {
        match self.provider.releases[m].tables[t].cell(r, c) {
            Some(Cell::Count(v)) => Lin::constant(*v as f64),
            Some(_) => Lin::var(self.hidden[&(m, t, r, c)]),
            None => panic!("table {} has no cell ({r}, {c})", self.provider.releases[m].tables[t].id),
        }
    }

    /// The stock moves by the flows: A(x, m) = A(x, m-1) + n(x, m) - e(x, m), from A = 0 before
    /// the first month, give or take late corrections: each published count is frozen as of its
    /// release, so a record entered after it (an exit dated last quarter) moves a later count
    /// without being a flow of that later period. The attacker allows per-site, per-month
    /// corrections up and down, and then assumes the fewest that explain the releases
    /// (`attack_with`): late records are rare, and the board sees that some happened.
    fn stock_flow_chain(&mut self) {
        for x in 0..self.provider.sites.len() {
            for m in 0..self.provider.releases.len() {
                let site = self.provider.sites[x].clone();
                let up = self.model.var(format!("late+({site}, {})", period(m)), 0.0, f64::INFINITY);
                let down = self.model.var(format!("late-({site}, {})", period(m)), 0.0, f64::INFINITY);
                self.corrections.extend([up, down]);
                let rhs = self.active(x, m.checked_sub(1)) + Lin::var(self.n[x][m]) - Lin::var(self.e[x][m])
                    + Lin::var(up)
                    - Lin::var(down);
                let why = format!("A({0}, {1}) = A({0}, before) + n - e", self.provider.sites[x], period(m));
                self.model.eq(Lin::var(self.a[x][m]), rhs, "stock-flow chain", why);
            }
        }
    }

    /// Every identity table `t` of release `m` takes part in.
    fn table_identities(&mut self, m: usize, t: usize) {
        let table: &Table = &self.provider.releases[m].tables[t];
        let (rows, cols) = (table.rows.len(), table.columns.len());
        let width = cols + usize::from(table.row_totals);
        let name = format!("{} {}", table.id, table.covers);
        let site_rows: Vec<(usize, usize)> =
            table.rows.iter().enumerate().filter_map(|(r, l)| self.site(l).map(|x| (r, x))).collect();
        let provider_wide = table.geography == "provider";
        let months = span_months(table.grain);
        let col = |label: &str| table.columns.iter().position(|c| c == label);
        // The single number a row states about its population: its row total, or its only cell.
        let row_total = |me: &Self, r: usize| -> Option<Lin> {
            if table.row_totals {
                Some(me.cell(m, t, r, cols))
            } else if cols == 1 {
                Some(me.cell(m, t, r, 0))
            } else {
                None
            }
        };

        // 1. Within the table. Row sums always; column totals add up the rows of the sites the
        //    release publishes (01a a Count at the span's last month): the other sites' rows
        //    are withheld whole and left out of the totals. A provider-wide table's one row
        //    equals its total row.
        if table.row_totals {
            for r in 0..=rows {
                let sum = Lin::sum((0..cols).map(|c| self.cell(m, t, r, c)));
                let total = self.cell(m, t, r, cols);
                self.model.eq(sum, total, "row sums", format!("{name}: row {} adds up", row_label(table, r)));
            }
        }
        let counted: Vec<usize> = if provider_wide {
            (0..rows).collect()
        } else {
            site_rows.iter().filter(|(_, x)| self.published[m].contains(x)).map(|(r, _)| *r).collect()
        };
        for c in 0..width {
            let sum = Lin::sum(counted.iter().map(|&r| self.cell(m, t, r, c)));
            let total = self.cell(m, t, rows, c);
            let why = format!("{name}: column {} total = its published sites", column_label(table, c));
            self.model.eq(sum, total, "column totals", why);
        }

        // 2. and 3. Stock tables: a site row is the site's active persons at the span's end; a
        //    provider-wide one adds up the sites published that month.
        let published_stock = Lin::sum(self.published[m].iter().map(|&x| Lin::var(self.a[x][m])));
        let id = table.id.as_str();
        let stock = SITE_STOCK.contains(&id) || id == "15";
        if stock || matches!(id, "01b" | "17" | "19") {
            let mut targets: Vec<(usize, Lin, String)> = Vec::new();
            if provider_wide {
                targets.push((0, published_stock.clone(), "the sites published that month".to_owned()));
            } else {
                for &(r, x) in &site_rows {
                    targets.push((r, Lin::var(self.a[x][m]), format!("A({}, {})", self.provider.sites[x], period(m))));
                }
            }
            for (r, population, whom) in targets {
                let row = row_label(table, r);
                if stock {
                    if let Some(total) = row_total(self, r) {
                        self.model.eq(
                            total,
                            population,
                            "stock = active at span end",
                            format!("{name} {row} = {whom}"),
                        );
                        continue;
                    }
                }
                // 01b (households), 17 (overlapping columns) and 19's plan column: at most the
                // active persons.
                let capped: Vec<usize> = match id {
                    "19" => col("with a departure plan").into_iter().collect(),
                    _ => (0..cols).collect(),
                };
                for c in capped {
                    let why = format!("{name} {row} {} <= {whom}", column_label(table, c));
                    self.model.le(self.cell(m, t, r, c), population.clone(), "at most the active persons", why);
                }
            }
        }

        // 4. Flows of the quarter: the sites whose 01a is published at the end of every month of
        //    the quarter and of the month before it (B2); site-level tables give each site's
        //    own flows.
        if matches!(id, "03" | "04" | "18") && months == 3 && m >= 2 {
            let q = m - 2..=m;
            let b2 = self.flow_sites(m);
            let provider_03 =
                self.provider.releases[m].tables.iter().any(|x| x.id == "03" && x.geography == "provider");
            let mut eqs: Vec<(Lin, Lin, String)> = Vec::new();
            if provider_wide {
                let over: Vec<usize> =
                    if id == "18" && !provider_03 { (0..self.provider.sites.len()).collect() } else { b2 };
                let exits = self.flows(&self.e, over.iter().copied(), q.clone());
                if id == "03" {
                    if let (Some(cn), Some(ce)) = (col("new enrollments"), col("exits")) {
                        let new = self.flows(&self.n, over.iter().copied(), q.clone());
                        eqs.push((self.cell(m, t, 0, cn), new, format!("{name} new enrollments = Σ n over B2")));
                        eqs.push((self.cell(m, t, 0, ce), exits, format!("{name} exits = Σ e over B2")));
                    }
                } else if let Some(total) = row_total(self, 0) {
                    eqs.push((total, exits, format!("{name} total = Σ e over {} sites", over.len())));
                }
            } else {
                for &(r, x) in &site_rows {
                    let site = &self.provider.sites[x];
                    let exits = self.flows(&self.e, [x], q.clone());
                    if id == "03" {
                        if let (Some(cn), Some(ce)) = (col("new enrollments"), col("exits")) {
                            let new = self.flows(&self.n, [x], q.clone());
                            eqs.push((self.cell(m, t, r, cn), new, format!("{name} {site} new = n({site}, q)")));
                            eqs.push((self.cell(m, t, r, ce), exits, format!("{name} {site} exits = e({site}, q)")));
                        }
                    } else if let Some(total) = row_total(self, r) {
                        eqs.push((total, exits, format!("{name} {site} total = e({site}, q)")));
                    }
                }
            }
            for (a, b, why) in eqs {
                self.model.eq(a, b, "quarter flows", why);
            }
        }

        // 5. Participant-days bound the stock and the flows; the fiscal year adds up the months.
        if id == "05" && months == 1 {
            let days = days_in(m) as f64;
            for &(r, x) in &site_rows {
                let site = &self.provider.sites[x];
                let d = self.cell(m, t, r, 0);
                let now = Lin::var(self.a[x][m]);
                let present = (self.active(x, m.checked_sub(1)) + Lin::var(self.n[x][m])) * days;
                self.model.le(now, d.clone(), "participant-days", format!("{name} {site} >= A"));
                self.model.le(d, present, "participant-days", format!("{name} {site} <= days x (A before + n)"));
            }
        }
        if id == "06" {
            if let Some(cd) = col("participant-days") {
                for &(r, x) in &site_rows {
                    let mut parts = Vec::new();
                    let mut complete = true;
                    for k in (m + 1).saturating_sub(months)..=m {
                        let found = self.provider.releases[k].tables.iter().position(|x| x.id == "05");
                        let row = found.and_then(|t5| {
                            let label = &self.provider.sites[x];
                            self.provider.releases[k].tables[t5].rows.iter().position(|l| l == label).map(|r5| (t5, r5))
                        });
                        match row {
                            Some((t5, r5)) => parts.push(self.cell(k, t5, r5, 0)),
                            None => complete = false,
                        }
                    }
                    if complete {
                        let why = format!("{name} {} = Σ of the year's 05", self.provider.sites[x]);
                        self.model.eq(self.cell(m, t, r, cd), Lin::sum(parts), "fiscal year = months", why);
                    }
                }
            }
        }

        // 6. Persons never outnumber the events that put them in a cell.
        let pairs: &[(&str, &str, &str)] = match id {
            "07b" => &[("07a", "", "")],
            "11b" => &[("11a", "one or more missed", "missed")],
            _ => &[],
        };
        for &(other_id, mine, theirs) in pairs {
            let Some(to) = self.provider.releases[m].tables.iter().position(|x| x.id == other_id) else { continue };
            let other = &self.provider.releases[m].tables[to];
            let column_pairs: Vec<(usize, usize)> = if mine.is_empty() {
                (0..cols)
                    .filter_map(|c| other.columns.iter().position(|o| *o == table.columns[c]).map(|o| (c, o)))
                    .collect()
            } else {
                let mut v: Vec<(usize, usize)> =
                    col(mine).zip(other.columns.iter().position(|o| o == theirs)).into_iter().collect();
                if table.row_totals && other.row_totals {
                    v.push((cols, other.columns.len()));
                }
                v
            };
            for r in 0..=rows {
                let label = row_label(table, r);
                let ro = if r == rows { Some(other.rows.len()) } else { other.rows.iter().position(|l| *l == label) };
                let Some(ro) = ro else { continue };
                for &(c, co) in &column_pairs {
                    let why = format!("{name} {label} {} <= {other_id}", column_label(table, c));
                    self.model.le(self.cell(m, t, r, c), self.cell(m, to, ro, co), "persons <= events", why);
                }
            }
        }
        if id == "07c" {
            if let (Some(cp), Some(ce)) = (col("persons"), col("events")) {
                for r in 0..=rows {
                    let why = format!("{name} {} persons <= events", row_label(table, r));
                    self.model.le(self.cell(m, t, r, cp), self.cell(m, t, r, ce), "persons <= events", why);
                }
            }
        }
    }

    /// Identities and inequalities between tables that `docs/indicators.md` ("Joint
    /// protection") does not list, found by reading `contribute`:
    ///
    /// * 20c's `unknown` age and 21a's `missing` birth date are the same persons (no stored
    ///   birth date), at the same sites, at the same period end, in every December report;
    /// * represented at enrollment (10a) implies represented at period end (10b);
    /// * a person with no missed hearing (11b) had an appearance (11a), and a continuance (12)
    ///   is an appearance in 11a, over the same published sites;
    /// * 19's departures are exits of the half-year at the sites published that month;
    /// * participant-days count every person present in the month at least once, and each
    ///   person active all month `days` times;
    /// * a withheld set of flow tables (03, 04, 18) says the entries are within 11 of what the
    ///   releases prove (the report states that number);
    /// * persons counted by 07b, 11b or 07c were present in the span, and stock tables whose
    ///   persons move one way or not at all move only by entries and exits
    ///   ([`Attacker::stock_identities`]).
    fn unlisted_identities(&mut self, m: usize) {
        let release = &self.provider.releases[m];
        let find = |id: &str| release.tables.iter().position(|t| t.id == id);
        let label_row = |t: usize, label: &str| -> Option<usize> {
            let table = &release.tables[t];
            if label == "Total" {
                Some(table.rows.len())
            } else {
                table.rows.iter().position(|l| l == label)
            }
        };
        let col_of = |t: usize, label: &str| -> Option<usize> {
            let table = &release.tables[t];
            if label == "Total" && table.row_totals {
                Some(table.columns.len())
            } else {
                table.columns.iter().position(|c| c == label)
            }
        };
        // Same-row pairs: (table a, column a, relation, table b, column b).
        let pairs: &[(&str, &str, bool, &str, &str, &'static str)] = &[
            ("20c", "unknown", true, "21a", "missing", "20c unknown = 21a missing"),
            ("10a", "yes", false, "10b", "yes", "10a yes <= 10b yes"),
            ("10b", "no", false, "10a", "no", "10b no <= 10a no"),
            ("11b", "no missed hearing", false, "11a", "appeared", "11b no missed <= 11a appeared"),
        ];
        for &(ia, ca, equal, ib, cb, kind) in pairs {
            let (Some(ta), Some(tb)) = (find(ia), find(ib)) else { continue };
            let (Some(ca), Some(cb)) = (col_of(ta, ca), col_of(tb, cb)) else { continue };
            let labels: Vec<String> =
                release.tables[ta].rows.iter().cloned().chain(std::iter::once("Total".to_owned())).collect();
            for label in labels {
                let (Some(ra), Some(rb)) = (label_row(ta, &label), label_row(tb, &label)) else { continue };
                let (a, b) = (self.cell(m, ta, ra, ca), self.cell(m, tb, rb, cb));
                let why = format!("{kind}, {} {label}", period(m));
                if equal {
                    self.model.eq(a, b, kind, why);
                } else {
                    self.model.le(a, b, kind, why);
                }
            }
        }
        // Continuances (12, provider-wide over the published sites) are 11a appearances.
        if let (Some(t12), Some(t11)) = (find("12"), find("11a")) {
            let (t12t, t11t) = (&release.tables[t12], &release.tables[t11]);
            if let (true, Some(ca)) = (t12t.row_totals, col_of(t11, "appeared")) {
                let total = self.cell(m, t12, 0, t12t.columns.len());
                let appeared = self.cell(m, t11, t11t.rows.len(), ca);
                self.model.le(total, appeared, "12 <= 11a appeared", format!("12 <= 11a appeared, {}", period(m)));
            }
        }
        // 19's departures are exits of the half-year at the sites published that month.
        if let Some(t19) = find("19") {
            if let Some(c) = col_of(t19, "departed with reintegration support") {
                let from = (m + 1).saturating_sub(6);
                let exits = self.flows(&self.e, self.published[m].iter().copied(), from..=m);
                let departed = self.cell(m, t19, 0, c);
                self.model.le(departed, exits, "19 departed <= exits", format!("19 departed <= exits, {}", period(m)));
            }
        }
        // Participant-days: every person present in the month counts at least one day, and
        // each one active from its first day to its last (A before minus exits, at least) all
        // of them.
        if let Some(t5) = find("05") {
            let days = days_in(m) as f64;
            let rows: Vec<(usize, usize)> =
                release.tables[t5].rows.iter().enumerate().filter_map(|(r, l)| self.site(l).map(|x| (r, x))).collect();
            for (r, x) in rows {
                let d = self.cell(m, t5, r, 0);
                let before = self.active(x, m.checked_sub(1));
                let (n, e) = (Lin::var(self.n[x][m]), Lin::var(self.e[x][m]));
                let site = &self.provider.sites[x];
                self.model.le(
                    before.clone() + n.clone(),
                    d.clone(),
                    "days >= persons present",
                    format!("05 {} {site} >= A before + n", period(m)),
                );
                self.model.le(
                    (before - e.clone()) * days + n + e,
                    d,
                    "days >= days x stayers",
                    format!("05 {} {site} >= D (A before - e) + n + e", period(m)),
                );
            }
        }
        // Persons present: a person counted by 07b (served in the month), 11b (a hearing in the
        // quarter) or 07c (mental-health care in the half-year) was active at the span's start
        // or entered during it.
        for (id, span) in [("07b", 1usize), ("07c", 6)] {
            let Some(t) = find(id) else { continue };
            if m + 1 < span {
                continue;
            }
            let table = &release.tables[t];
            let from = m + 1 - span;
            let columns: Vec<usize> = match id {
                "07b" => (0..table.columns.len()).collect(),
                "11b" => vec![table.columns.len()],
                _ => table.columns.iter().position(|c| c == "persons").into_iter().collect(),
            };
            for (r, label) in table.rows.iter().enumerate() {
                let Some(x) = self.site(label) else { continue };
                let present = self.active(x, from.checked_sub(1)) + self.flows(&self.n, [x], from..=m);
                for &c in &columns {
                    let why = format!("{id} {} {label} {} <= present", period(m), column_label(table, c));
                    self.model.le(self.cell(m, t, r, c), present.clone(), "persons present", why);
                }
            }
        }
        // Withheld flows: the tables are withheld unless new enrollments and exits over the
        // flow sites both leave 12 or more beyond what the published figures prove; the report
        // states those proven numbers (recomputable, `docs/indicators.md` rule 8). A withheld
        // quarter says Σ n <= 11 + the proven entries. The test's own search over the figures
        // it knows must not prove more than the release says it counted.
        if m % 3 == 2 && m >= 3 {
            let t03 = release.tables.iter().position(|t| t.id == "03" && t.geography == "provider" && t.withheld);
            let stated = release.omitted.iter().find_map(|line| {
                let rest = line.strip_prefix("03, 04, 18: withheld")?;
                let numbers: Vec<f64> = rest
                    .split(|c: char| !c.is_ascii_digit())
                    .filter(|w| !w.is_empty())
                    .filter_map(|w| w.parse().ok())
                    .collect();
                // "... fewer than 12 beyond the N and E the published figures prove"
                numbers.get(1).copied()
            });
            if let (Some(t3), Some(proven)) = (t03, stated) {
                let sites = self.flow_sites(m);
                let own: f64 = sites.iter().map(|&x| self.least_entries(m, x)).sum();
                assert!(
                    own <= proven + 1e-6,
                    "{}: the test proves {own} entries, the release says it counted {proven}",
                    period(m)
                );
                let new = self.flows(&self.n, sites.iter().copied(), m - 2..=m);
                let why = format!("03 {} withheld: new <= 11 + {proven} proven", release.tables[t3].covers);
                self.model.le(new, Lin::constant(11.0 + proven), "withheld flows", why);
            }
        }
        self.stock_identities(m);
    }

    /// Stock tables whose columns follow a person move between two of their releases only by
    /// entries and exits (and the moves the column allows): nationality, language, sex,
    /// representation at enrollment and birth-date precision are fixed; legal orientation goes
    /// only from "no" to "yes", mental-health screening only out of "not screened". For each
    /// site row published in release `m` and in the table's previous release: each column's
    /// rise (fixed) or the leaving set's rise (one-way) is entrants of the span, each fall
    /// leavers, give or take the span's late corrections.
    fn stock_identities(&mut self, m: usize) {
        const FIXED: &[&str] = &["10a", "20a", "20b", "20d", "21a"];
        const ONE_WAY: &[(&str, &str)] = &[("09", "no"), ("16", "not screened")];
        let release = &self.provider.releases[m];
        for t1 in 0..release.tables.len() {
            let table = &release.tables[t1];
            let id = table.id.clone();
            let one_way = ONE_WAY.iter().find(|(t, _)| *t == id).map(|(_, c)| *c);
            if !FIXED.contains(&id.as_str()) && one_way.is_none() {
                continue;
            }
            let span = span_months(table.grain);
            let Some(k) = m.checked_sub(span) else { continue };
            let Some(t0) = self.provider.releases[k].tables.iter().position(|t| t.id == id) else { continue };
            let cols = table.columns.len();
            for (r1, label) in table.rows.iter().enumerate() {
                let Some(x) = self.site(label) else { continue };
                let Some(r0) = self.provider.releases[k].tables[t0].rows.iter().position(|l| l == label) else {
                    continue;
                };
                // Both row totals published (the site's 01a both times).
                let published = |mm: usize, t: usize, r: usize| {
                    matches!(self.provider.releases[mm].tables[t].cell(r, cols), Some(Cell::Count(_)))
                };
                if !published(m, t1, r1) || !published(k, t0, r0) {
                    continue;
                }
                let site = self.provider.sites[x].clone();
                let late = |me: &Self, sign: &str| -> Lin {
                    Lin::sum(me.corrections.iter().filter_map(|&v| {
                        let name = &me.model.vars[v].name;
                        let hit = (k + 1..=m).any(|mm| *name == format!("late{sign}({site}, {})", period(mm)));
                        hit.then(|| Lin::var(v))
                    }))
                };
                let entries = self.flows(&self.n, [x], k + 1..=m) + late(self, "+");
                let exits = self.flows(&self.e, [x], k + 1..=m) + late(self, "-");
                let why = format!("{id} {site} {} to {}", period(k), period(m));
                match one_way {
                    Some(from) => {
                        let Some(c) = table.columns.iter().position(|l| l == from) else { continue };
                        let rise = self.cell(m, t1, r1, c) - self.cell(k, t0, r0, c);
                        self.model.le(rise.clone(), entries, "stock columns prove entries", why.clone());
                        // The rest (total less `from`) only gains from those who stay.
                        let rest =
                            |me: &Self, mm: usize, t: usize, r: usize| me.cell(mm, t, r, cols) - me.cell(mm, t, r, c);
                        let fall = rest(self, k, t0, r0) - rest(self, m, t1, r1);
                        self.model.le(fall, exits, "stock columns prove exits", why);
                    }
                    None => {
                        let (mut ins, mut outs) = (Vec::new(), Vec::new());
                        for c in 0..cols {
                            let i = self.model.var(format!("in {id} {site} {} [{c}]", period(m)), 0.0, f64::INFINITY);
                            let o = self.model.var(format!("out {id} {site} {} [{c}]", period(m)), 0.0, f64::INFINITY);
                            let change = self.cell(m, t1, r1, c) - self.cell(k, t0, r0, c);
                            self.model.eq(change, Lin::var(i) - Lin::var(o), "stock columns move", why.clone());
                            ins.push(Lin::var(i));
                            outs.push(Lin::var(o));
                        }
                        self.model.le(Lin::sum(ins), entries, "stock columns prove entries", why.clone());
                        self.model.le(Lin::sum(outs), exits, "stock columns prove exits", why);
                    }
                }
            }
        }
    }

    /// The sites a quarter's flows (released in `m`) add up: 01a published at the end of each
    /// of its months and of the month before.
    fn flow_sites(&self, m: usize) -> Vec<usize> {
        if m < 3 {
            return Vec::new();
        }
        self.published[m].iter().copied().filter(|x| (m - 3..m).all(|k| self.published[k].contains(x))).collect()
    }

    /// A published count of table `id` in release `k`: (site row, column), or the row total.
    fn published_count(&self, k: usize, id: &str, x: usize, column: Option<usize>) -> Option<f64> {
        let t = self.provider.releases[k].tables.iter().find(|t| t.id == id)?;
        let r = t.rows.iter().position(|l| *l == self.provider.sites[x])?;
        match t.cell(r, column.unwrap_or(t.columns.len())) {
            Some(Cell::Count(v)) => Some(*v as f64),
            _ => None,
        }
    }

    /// The fewest entries at flow site `x` in the quarter released in `m` that the published
    /// monthly counts, participant-days, 07b and 11b prove: a search over each month's exits of
    /// those active at its start (e0) and persons who entered and left within it (w).
    fn least_entries(&self, m: usize, x: usize) -> f64 {
        let a = |k: usize| self.published_count(k, "01a", x, Some(0)).unwrap();
        let mut exits = 0.0;
        for k in m - 2..=m {
            let (before, after, length) = (a(k - 1), a(k), days_in(k) as f64);
            let days = self.published_count(k, "05", x, Some(0));
            let served = self.provider.releases[k]
                .tables
                .iter()
                .find(|t| t.id == "07b")
                .and_then(|t| {
                    let r = t.rows.iter().position(|l| *l == self.provider.sites[x])?;
                    (0..t.columns.len())
                        .filter_map(|c| match t.cell(r, c) {
                            Some(Cell::Count(v)) => Some(*v as f64),
                            _ => None,
                        })
                        .reduce(f64::max)
                })
                .unwrap_or(0.0);
            let mut best = f64::INFINITY;
            for e0 in 0..=before as i64 {
                let e0 = e0 as f64;
                let n1 = after - before + e0;
                if n1 < 0.0 {
                    continue;
                }
                for w in 0..=(after + before + 400.0) as i64 {
                    let w = w as f64;
                    if e0 + w >= best {
                        break;
                    }
                    let present = before + n1 + w;
                    let fits = present >= served
                        && days.is_none_or(|d| d <= length * present && d >= length * (before - e0) + e0 + n1 + w);
                    if fits {
                        best = e0 + w;
                        break;
                    }
                }
            }
            assert!(best.is_finite(), "the releases of {} are consistent", self.provider.sites[x]);
            exits += best;
        }
        let (start, end) = (a(m - 3), a(m));
        // 11b's persons with a hearing: its row total, or its published parts.
        let hearing = self
            .published_count(m, "11b", x, None)
            .unwrap_or_else(|| (0..2).filter_map(|c| self.published_count(m, "11b", x, Some(c))).sum());
        let exits = f64::max(exits, hearing - end);
        let entries = end - start + exits;
        // At a half-year's end, 07c's persons were active at its start or entered in one of its
        // quarters; the first quarter's flows cap what it had.
        let Some(persons) = self.published_count_named(m, "07c", x, "persons") else { return entries };
        if !period(m).month().is_multiple_of(6) || m < 6 {
            return entries;
        }
        let first = m - 3;
        let first_sites = self.flow_sites(first);
        if !first_sites.contains(&x) {
            return entries;
        }
        let t03 = self.provider.releases[first].tables.iter().find(|t| t.id == "03" && t.geography == "provider");
        let first_most = match t03.map(|t| (t.withheld, t.cell(0, 0))) {
            Some((false, Some(Cell::Count(new)))) => {
                *new as f64
                    - first_sites.iter().filter(|&&y| y != x).map(|&y| self.least_entries(first, y)).sum::<f64>()
            }
            Some((true, _)) => self.least_entries(first, x) + 11.0,
            _ => return entries,
        };
        let start_of_half = self.published_count(m - 6, "01a", x, Some(0)).unwrap_or(10.0);
        f64::max(entries, persons - start_of_half - first_most)
    }

    /// A published count of table `id` in release `k`: site `x`'s row, the column named `column`.
    fn published_count_named(&self, k: usize, id: &str, x: usize, column: &str) -> Option<f64> {
        let t = self.provider.releases[k].tables.iter().find(|t| t.id == id)?;
        let c = t.columns.iter().position(|c| c == column)?;
        self.published_count(k, id, x, Some(c))
    }

    /// The latent per-site quarterly flows n(x, q) and e(x, q) of every released quarter, as
    /// targets (one variable each, defined as the sum of its months). A flow a site-level table
    /// publishes outright is not a target.
    fn flow_targets(&mut self) {
        for m in (2..self.provider.releases.len()).filter(|m| m % 3 == 2) {
            let covers = self.provider.releases[m]
                .tables
                .iter()
                .find(|t| t.grain == Grain::Quarter)
                .map_or_else(|| format!("quarter ending {}", period(m)), |t| t.covers.clone());
            for x in 0..self.provider.sites.len() {
                let site = self.provider.sites[x].clone();
                for (what, column) in [("n", "new enrollments"), ("e", "exits")] {
                    if self.flow_published(m, &site, column) {
                        continue;
                    }
                    let of = if what == "n" { &self.n } else { &self.e };
                    let sum = self.flows(of, [x], m - 2..=m);
                    let v = self.model.var(format!("{what}({site}, {covers})"), 0.0, f64::INFINITY);
                    self.model.eq(
                        Lin::var(v),
                        sum,
                        "target definition",
                        format!("{what}({site}, {covers}) = Σ months"),
                    );
                    let info = TargetInfo {
                        month: m,
                        table: format!("latent {what}"),
                        covers: covers.clone(),
                        row: site.clone(),
                        column: column.to_owned(),
                    };
                    self.targets.push(Target { var: v, info });
                }
            }
        }
    }

    /// Whether a site-level 03 (or, for exits, 04's row total) of release `m` publishes the flow.
    fn flow_published(&self, m: usize, site: &str, column: &str) -> bool {
        self.provider.releases[m].tables.iter().filter(|t| t.geography == "site").any(|t| {
            let Some(r) = t.rows.iter().position(|l| l == site) else { return false };
            let c = match t.id.as_str() {
                "03" => t.columns.iter().position(|c| c == column),
                "04" if column == "exits" && t.row_totals => Some(t.columns.len()),
                _ => None,
            };
            c.is_some_and(|c| matches!(t.cell(r, c), Some(Cell::Count(_))))
        })
    }
}

// =============================================================================================
// Solving: substitute what is fixed, split into components, bound every target
// =============================================================================================

/// A MILP that takes longer than this keeps its LP bounds (still valid, only weaker).
const MILP_SECONDS: f64 = 10.0;

/// A target whose LP maximum is below this is maximised again as an integer program. Each
/// month's participant-days prove a fraction of an entry to the LP and a whole one to the
/// integer program, so over a quarter of three sites the two can differ by several.
const REFINE_BELOW: f64 = 24.0;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Class {
    /// The maximum is 11 or more, or unbounded: not pinned.
    Wide,
    Exact,
    Pinned,
    Narrowed,
}

#[derive(Clone, Debug)]
struct Finding {
    provider: String,
    info: TargetInfo,
    class: Class,
    lo: f64,
    hi: f64,
    /// The identities that produced it.
    identities: String,
}

#[derive(Default)]
struct Figures {
    targets: usize,
    examined: usize,
    exact: usize,
    pinned: usize,
    narrowed: usize,
    wide: usize,
    components: usize,
    infeasible_components: usize,
    skipped_targets: usize,
    contradictions: usize,
    milp_runs: usize,
    milp_timeouts: usize,
    /// The fewest late corrections that explain the releases, summed over components.
    late_corrections: f64,
    /// Withheld cells of whole-row tables checked for holding their whole row, and those
    /// proven to (a group fact).
    group_facts_checked: usize,
    group_facts: usize,
    /// Every examined target's interval; the identities are kept for leaks only.
    results: Vec<Finding>,
    problems: Vec<String>,
    attack_time: Duration,
}

impl Figures {
    fn absorb(&mut self, other: Figures) {
        self.targets += other.targets;
        self.examined += other.examined;
        self.exact += other.exact;
        self.pinned += other.pinned;
        self.narrowed += other.narrowed;
        self.wide += other.wide;
        self.components += other.components;
        self.infeasible_components += other.infeasible_components;
        self.skipped_targets += other.skipped_targets;
        self.contradictions += other.contradictions;
        self.milp_runs += other.milp_runs;
        self.milp_timeouts += other.milp_timeouts;
        self.late_corrections += other.late_corrections;
        self.group_facts_checked += other.group_facts_checked;
        self.group_facts += other.group_facts;
        self.results.extend(other.results);
        self.problems.extend(other.problems);
        self.attack_time += other.attack_time;
    }

    /// The targets recovered exactly or pinned inside 1..=10.
    fn leaks(&self) -> Vec<&Finding> {
        self.results.iter().filter(|f| matches!(f.class, Class::Exact | Class::Pinned)).collect()
    }

    /// How many of each class per table (exact split by whether the value is 0), for
    /// SECURITY.md.
    fn breakdown(&self) -> String {
        let mut by: BTreeMap<(String, String), usize> = BTreeMap::new();
        for f in self.results.iter().filter(|f| f.class != Class::Wide) {
            let class = match f.class {
                Class::Exact if f.hi.abs() < 0.5 => "exact (0)".to_owned(),
                Class::Exact => "exact (1 or more)".to_owned(),
                other => format!("{other:?}").to_lowercase(),
            };
            *by.entry((class, f.info.table.clone())).or_insert(0) += 1;
        }
        let mut lines: BTreeMap<String, Vec<String>> = BTreeMap::new();
        for ((class, table), count) in by {
            lines.entry(class).or_default().push(format!("{table} x{count}"));
        }
        lines
            .into_iter()
            .map(|(class, tables)| format!("    {class}: {}", tables.join(", ")))
            .collect::<Vec<_>>()
            .join("\n")
    }

    /// Exact recoveries of the value 0 (a withheld table the definitions make empty, say).
    fn exact_zeros(&self) -> usize {
        self.results.iter().filter(|f| f.class == Class::Exact && f.hi.abs() < 0.5).count()
    }

    /// Withheld values of 11 or more that one chain of equations determines (a complement, or
    /// a cell withheld with its whole table): not counted as leaks, since the value is not
    /// small, but each one is a withheld count recovered exactly. Only those the presolve fixes
    /// are counted (the LP bounds a wide target from above only), and not the row totals of
    /// stock and flow tables, which are 01a's and 03's numbers by definition.
    fn exact_large(&self) -> Vec<&Finding> {
        let by_definition = |f: &Finding| {
            let t = f.info.table.as_str();
            f.info.column == "Total" && (SITE_STOCK.contains(&t) || matches!(t, "15" | "04" | "18"))
        };
        self.results
            .iter()
            .filter(|f| f.class == Class::Wide && f.lo == f.hi && f.hi >= 11.0 && !by_definition(f))
            .collect()
    }

    fn line(&self) -> String {
        format!(
            "targets {} (examined {}, skipped {} in {} infeasible components), exact {} ({} of them 0), pinned {}, \
             narrowed {}, not pinned {} ({} of them withheld values of 11 or more recovered exactly); {} components, {} contradictions among published constants, {} MILP refinements ({} \
             timed out); {} late corrections assumed; {} group facts proven of {} checked; attack {:.1} s",
            self.targets,
            self.examined,
            self.skipped_targets,
            self.infeasible_components,
            self.exact,
            self.exact_zeros(),
            self.pinned,
            self.narrowed,
            self.wide,
            self.exact_large().len(),
            self.components,
            self.contradictions,
            self.milp_runs,
            self.milp_timeouts,
            self.late_corrections.round(),
            self.group_facts,
            self.group_facts_checked,
            self.attack_time.as_secs_f64(),
        )
    }
}

enum Outcome {
    Value(f64),
    Unbounded,
    Infeasible,
    TimedOut,
    Failed(String),
}

struct Component {
    vars: Vec<usize>,
    cons: Vec<usize>,
    /// Σ of these variables at most the bound: the fewest late corrections (set in
    /// `attack_with`).
    budget: Option<(Vec<usize>, f64)>,
}

struct Solver<'m> {
    model: &'m Model,
    fixed: Vec<Option<f64>>,
    /// The constraint that fixed each fixed variable.
    fixed_by: Vec<Option<usize>>,
}

impl<'m> Solver<'m> {
    /// Substitutes every variable a single equation determines (a published 01a is a site's
    /// active count; a row with one withheld cell and a published total gives it away), until
    /// nothing more is determined. A determined value that breaks a bound or is not an integer
    /// is left free, so that its component's LP reports the contradiction.
    fn presolve(model: &'m Model) -> Self {
        // A variable whose bounds meet is fixed from the start (a late correction ruled out).
        let mut fixed: Vec<Option<f64>> = model.vars.iter().map(|d| (d.lo == d.hi).then_some(d.lo)).collect();
        let mut fixed_by = vec![None; model.vars.len()];
        loop {
            let mut changed = false;
            for (ci, con) in model.cons.iter().enumerate().filter(|(_, c)| c.eq) {
                let (free, constant) = reduce(con, &fixed);
                let [(v, a)] = free[..] else { continue };
                let value = -constant / a;
                let def = &model.vars[v];
                let integral = (value - value.round()).abs() < 1e-6;
                if integral && value >= def.lo - 1e-6 && value <= def.hi + 1e-6 {
                    fixed[v] = Some(value.round());
                    fixed_by[v] = Some(ci);
                    changed = true;
                }
            }
            if !changed {
                break;
            }
        }
        Self { model, fixed, fixed_by }
    }

    /// Connected components of the free variables (union-find over variables sharing a
    /// constraint), and the constraints left with no free variable that published constants
    /// break.
    fn components(&self) -> (Vec<Component>, Vec<usize>) {
        let n = self.model.vars.len();
        let mut parent: Vec<usize> = (0..n).collect();
        fn find(parent: &mut [usize], mut v: usize) -> usize {
            while parent[v] != v {
                parent[v] = parent[parent[v]];
                v = parent[v];
            }
            v
        }
        let mut contradictions = Vec::new();
        let mut first_free: Vec<Option<usize>> = Vec::with_capacity(self.model.cons.len());
        for (ci, con) in self.model.cons.iter().enumerate() {
            let (free, constant) = reduce(con, &self.fixed);
            if free.is_empty() {
                let broken = if con.eq { constant.abs() > 1e-6 } else { constant > 1e-6 };
                if broken {
                    contradictions.push(ci);
                }
                first_free.push(None);
                continue;
            }
            let root = find(&mut parent, free[0].0);
            for &(v, _) in &free[1..] {
                let other = find(&mut parent, v);
                parent[other] = root;
            }
            first_free.push(Some(free[0].0));
        }
        let mut by_root: BTreeMap<usize, Component> = BTreeMap::new();
        for v in (0..n).filter(|&v| self.fixed[v].is_none()) {
            let root = find(&mut parent, v);
            by_root
                .entry(root)
                .or_insert_with(|| Component { vars: Vec::new(), cons: Vec::new(), budget: None })
                .vars
                .push(v);
        }
        for (ci, v) in first_free.into_iter().enumerate() {
            if let Some(v) = v {
                let root = find(&mut parent, v);
                by_root.get_mut(&root).unwrap().cons.push(ci);
            }
        }
        (by_root.into_values().collect(), contradictions)
    }

    /// Optimises `objective` over one component: the LP, or the integer program.
    fn optimise(&self, comp: &Component, objective: usize, maximise: bool, integer: bool) -> Outcome {
        self.optimise_sum(comp, &[objective], maximise, integer)
    }

    /// Optimises the sum of `objective` over one component.
    fn optimise_sum(&self, comp: &Component, objective: &[usize], maximise: bool, integer: bool) -> Outcome {
        let mut pv = ProblemVariables::new();
        let mut local: BTreeMap<usize, Variable> = BTreeMap::new();
        for &v in &comp.vars {
            let d = &self.model.vars[v];
            let mut def = variable().min(d.lo);
            if d.hi.is_finite() {
                def = def.max(d.hi);
            }
            if integer {
                def = def.integer();
            }
            local.insert(v, pv.add(def));
        }
        let mut target = Expression::from(0.0);
        for v in objective {
            target.add_mul(1.0, local[v]);
        }
        let problem = if maximise { pv.maximise(target.clone()) } else { pv.minimise(target.clone()) };
        let mut lp = problem.using(microlp);
        if integer {
            lp = lp.with_time_limit(MILP_SECONDS);
        }
        for &ci in &comp.cons {
            let con = &self.model.cons[ci];
            let (free, constant) = reduce(con, &self.fixed);
            let mut expr = Expression::from(constant);
            for (v, a) in free {
                expr.add_mul(a, local[&v]);
            }
            lp.add_constraint(if con.eq { constraint::eq(expr, 0.0) } else { constraint::leq(expr, 0.0) });
        }
        if let Some((vars, bound)) = &comp.budget {
            let mut expr = Expression::from(0.0);
            for v in vars {
                expr.add_mul(1.0, local[v]);
            }
            lp.add_constraint(constraint::leq(expr, *bound));
        }
        match lp.solve() {
            Ok(s) if integer && !matches!(s.status(), SolutionStatus::Optimal) => Outcome::TimedOut,
            Ok(s) => Outcome::Value(s.eval(&target)),
            Err(ResolutionError::Unbounded) => Outcome::Unbounded,
            Err(ResolutionError::Infeasible) => Outcome::Infeasible,
            Err(e) => Outcome::Failed(e.to_string()),
        }
    }

    /// How a fixed variable was derived: the chain of equations, newest first (at most `limit`).
    fn derivation(&self, v: usize, limit: usize) -> Vec<String> {
        let mut out = Vec::new();
        let mut stack = vec![v];
        let mut seen = BTreeSet::new();
        while let Some(v) = stack.pop() {
            let Some(ci) = self.fixed_by[v] else { continue };
            if !seen.insert(ci) || out.len() >= limit {
                continue;
            }
            let con = &self.model.cons[ci];
            out.push(format!("{} [{}]", con.why, con.kind));
            stack.extend(con.lin.terms.iter().map(|(w, _)| *w).filter(|w| *w != v));
        }
        out
    }

    /// The identities of a component, for a finding: every one if few, else their families.
    fn describe(&self, comp: &Component) -> String {
        if comp.cons.len() <= 12 {
            let mut whys: Vec<String> = comp
                .cons
                .iter()
                .map(|&ci| format!("{} [{}]", self.model.cons[ci].why, self.model.cons[ci].kind))
                .collect();
            // Published values substituted into them came from these equations.
            let mut fixed_from = Vec::new();
            for &ci in &comp.cons {
                for (v, _) in &self.model.cons[ci].lin.terms {
                    if self.fixed[*v].is_some() {
                        fixed_from.extend(self.derivation(*v, 3));
                    }
                }
            }
            fixed_from.sort();
            fixed_from.dedup();
            whys.extend(fixed_from.into_iter().take(6).map(|w| format!("(fixed by) {w}")));
            whys.join("; ")
        } else {
            let mut kinds: BTreeMap<&str, usize> = BTreeMap::new();
            for &ci in &comp.cons {
                *kinds.entry(self.model.cons[ci].kind).or_insert(0) += 1;
            }
            let kinds: Vec<String> = kinds.into_iter().map(|(k, n)| format!("{k} x{n}")).collect();
            let mut out =
                format!("{} constraints over {} variables: {}", comp.cons.len(), comp.vars.len(), kinds.join(", "));
            if comp.vars.len() <= 16 {
                let names: Vec<&str> = comp.vars.iter().map(|&v| self.model.vars[v].name.as_str()).collect();
                out.push_str(&format!("; variables {}", names.join(", ")));
            }
            out
        }
    }
}

/// Classifies a target's interval the way the brief defines it: maximise first; 11 or more (or
/// unbounded) is not pinned. Otherwise exact when the rounded ends meet, pinned when they lie
/// within 1..=10, narrowed otherwise.
fn classify(lo: f64, hi: f64) -> Class {
    let (lo, hi) = ((lo - 1e-6).ceil(), (hi + 1e-6).floor());
    if hi >= 11.0 {
        Class::Wide
    } else if lo == hi {
        Class::Exact
    } else if lo >= 1.0 && hi <= 10.0 {
        Class::Pinned
    } else {
        Class::Narrowed
    }
}

/// Runs the joint attack on one provider's releases, with every identity this file knows.
fn attack(provider: &ProviderReleases) -> Figures {
    attack_with(provider, true)
}

/// Runs the joint attack on one provider's releases; `unlisted` adds the identities that
/// `docs/indicators.md` does not list ([`Attacker::unlisted_identities`]).
fn attack_with(provider: &ProviderReleases, unlisted: bool) -> Figures {
    let start = Instant::now();
    let mut attacker = Attacker::new(provider, unlisted);
    // The fewest late corrections that explain each component's releases, then assumed. Where
    // none is needed the corrections are fixed at 0 and the model solved again without them
    // (they would only keep the presolve from following the chain).
    let fewest = |solver: &Solver, comp: &Component| -> Option<(Vec<usize>, f64)> {
        let late: Vec<usize> = comp.vars.iter().copied().filter(|v| attacker.corrections.contains(v)).collect();
        if late.is_empty() {
            return None;
        }
        match solver.optimise_sum(comp, &late, false, false) {
            Outcome::Value(v) => Some((late, v)),
            _ => None,
        }
    };
    let unneeded: Vec<usize> = {
        let solver = Solver::presolve(&attacker.model);
        let (components, _) = solver.components();
        components
            .iter()
            .filter_map(|comp| fewest(&solver, comp))
            .filter(|(_, v)| *v < 0.5)
            .flat_map(|(late, _)| late)
            .collect()
    };
    for v in unneeded {
        attacker.model.vars[v].hi = 0.0;
    }
    let solver = Solver::presolve(&attacker.model);
    let (mut components, contradictions) = solver.components();
    let mut corrections_assumed = 0.0;
    for comp in &mut components {
        if let Some((late, v)) = fewest(&solver, comp) {
            corrections_assumed += v;
            comp.budget = Some((late, v + 1e-6));
        }
    }
    let mut figures = Figures {
        targets: attacker.targets.len(),
        components: components.len(),
        contradictions: contradictions.len(),
        late_corrections: corrections_assumed,
        ..Figures::default()
    };
    for &ci in &contradictions {
        let con = &attacker.model.cons[ci];
        figures.problems.push(format!("{}: published constants contradict: {} [{}]", provider.name, con.why, con.kind));
    }
    let record = |figures: &mut Figures, target: &Target, class: Class, lo: f64, hi: f64, identities: String| {
        figures.examined += 1;
        match class {
            Class::Wide => figures.wide += 1,
            Class::Exact => figures.exact += 1,
            Class::Pinned => figures.pinned += 1,
            Class::Narrowed => figures.narrowed += 1,
        }
        let finding = Finding { provider: provider.name.clone(), info: target.info.clone(), class, lo, hi, identities };
        figures.results.push(finding);
    };

    // Targets a single equation (or a chain of them) determines outright.
    for target in attacker.targets.iter().filter(|t| solver.fixed[t.var].is_some()) {
        let v = solver.fixed[target.var].unwrap();
        let identities = solver.derivation(target.var, 8).join("; ");
        record(&mut figures, target, classify(v, v), v, v, identities);
    }

    // The others, component by component.
    let mut component_of: BTreeMap<usize, usize> = BTreeMap::new();
    for (k, comp) in components.iter().enumerate() {
        for &v in &comp.vars {
            component_of.insert(v, k);
        }
    }
    let mut by_component: BTreeMap<usize, Vec<&Target>> = BTreeMap::new();
    for target in attacker.targets.iter().filter(|t| solver.fixed[t.var].is_none()) {
        by_component.entry(component_of[&target.var]).or_default().push(target);
    }
    for (k, comp) in components.iter().enumerate() {
        let targets = by_component.remove(&k).unwrap_or_default();
        if comp.cons.is_empty() && targets.is_empty() {
            continue;
        }
        let mut broken: Option<String> = match solver.optimise(comp, comp.vars[0], false, false) {
            Outcome::Infeasible => Some("LP infeasible".to_owned()),
            Outcome::Failed(e) => Some(format!("LP failed: {e}")),
            _ => None,
        };
        let mut results: Vec<(&Target, Class, f64, f64)> = Vec::new();
        for target in &targets {
            if broken.is_some() {
                break;
            }
            // Maximise; refine by the integer program when the LP leaves the target below
            // REFINE_BELOW (rounding each of several months' bounds up can take more than one
            // off the LP's figure).
            // An LP that fails to solve is reported with the infeasible ones, never read as
            // "not pinned".
            let failed = |o: Outcome| match o {
                Outcome::Infeasible => "LP infeasible".to_owned(),
                Outcome::Failed(e) => format!("LP failed: {e}"),
                _ => "LP did not finish".to_owned(),
            };
            let mut hi = match solver.optimise(comp, target.var, true, false) {
                Outcome::Value(v) => v,
                Outcome::Unbounded => f64::INFINITY,
                other => {
                    broken = Some(failed(other));
                    break;
                }
            };
            let refine = hi < REFINE_BELOW - 1e-6;
            if refine {
                figures.milp_runs += 1;
                match solver.optimise(comp, target.var, true, true) {
                    Outcome::Value(v) => hi = hi.min(v),
                    Outcome::Infeasible => {
                        broken = Some("integer program infeasible".to_owned());
                        break;
                    }
                    _ => figures.milp_timeouts += 1,
                }
            }
            if (hi + 1e-6).floor() >= 11.0 {
                results.push((target, Class::Wide, f64::NAN, hi));
                continue;
            }
            let mut lo = match solver.optimise(comp, target.var, false, false) {
                Outcome::Value(v) => v,
                other => {
                    broken = Some(failed(other));
                    break;
                }
            };
            figures.milp_runs += 1;
            match solver.optimise(comp, target.var, false, true) {
                Outcome::Value(v) => lo = lo.max(v),
                _ => figures.milp_timeouts += 1,
            }
            results.push((target, classify(lo, hi), lo, hi));
        }
        if let Some(why) = broken {
            figures.infeasible_components += 1;
            figures.skipped_targets += targets.len();
            figures.problems.push(format!(
                "{}: component skipped ({why}; {} targets): {}",
                provider.name,
                targets.len(),
                solver.describe(comp)
            ));
            continue;
        }
        for (target, class, lo, hi) in results {
            let identities =
                if matches!(class, Class::Exact | Class::Pinned) { solver.describe(comp) } else { String::new() };
            record(&mut figures, target, class, lo, hi, identities);
        }
    }
    // Group facts, jointly: in the tables with the whole-row rule, a withheld cell of a row of
    // 11 or more persons that everything together proves to hold the whole row states a fact
    // about everyone at the site ("all screened negative").
    for (&(m, t, r, c), &var) in &attacker.hidden {
        let table = &provider.releases[m].tables[t];
        let interior = table.columns.len();
        if !WHOLE_ROW_RULE.contains(&table.id.as_str()) || !table.row_totals || c >= interior {
            continue;
        }
        let Some(Cell::Count(total)) = table.cell(r, interior) else { continue };
        if *total < 11 {
            continue;
        }
        let least = match solver.fixed[var] {
            Some(v) => v,
            None => {
                let comp = &components[component_of[&var]];
                match solver.optimise(comp, var, false, false) {
                    Outcome::Value(v) if v > *total as f64 - 1.0 + 1e-6 => v,
                    Outcome::Value(v) => {
                        // The LP leaves room; the integer program may not.
                        figures.milp_runs += 1;
                        match solver.optimise(comp, var, false, true) {
                            Outcome::Value(w) => w.max(v),
                            _ => {
                                figures.milp_timeouts += 1;
                                v
                            }
                        }
                    }
                    _ => continue,
                }
            }
        };
        figures.group_facts_checked += 1;
        if least > *total as f64 - 1e-6 {
            figures.problems.push(format!(
                "{}: group fact: {} {} row {} column {} holds all {total} of its row",
                provider.name,
                table.id,
                table.covers,
                row_label(table, r),
                column_label(table, c)
            ));
            figures.group_facts += 1;
        }
    }
    figures.attack_time = start.elapsed();
    figures
}

/// Attacks every provider, prints the figures, and returns the totals.
/// Attacks every provider; returns the totals and the printed report (one block, so that two
/// tests running at once do not interleave their lines).
fn attack_all(providers: &[ProviderReleases], heading: &str) -> (Figures, String) {
    let mut total = Figures::default();
    let mut out = String::new();
    let (first, last) = providers
        .first()
        .map(|p| (p.releases.first().map(|r| period(r.month)), p.releases.last().map(|r| period(r.month))))
        .unwrap_or((None, None));
    let not_ended = providers.first().filter(|p| !p.not_ended.is_empty()).map_or(String::new(), |p| {
        let months: Vec<String> = p.not_ended.iter().map(ToString::to_string).collect();
        format!(" ({} not yet ended, so not released)", months.join(", "))
    });
    out.push_str(&format!(
        "{heading}: {} providers, releases {} .. {}{not_ended}\n",
        providers.len(),
        first.map_or("-".into(), |p| p.to_string()),
        last.map_or("-".into(), |p| p.to_string()),
    ));
    for provider in providers {
        let figures = attack(provider);
        out.push_str(&format!(
            "  {} ({} clients, {} releases; {}):\n    {}\n",
            provider.name,
            provider.clients,
            provider.releases.len(),
            provider.messy,
            figures.line()
        ));
        total.absorb(figures);
    }
    out.push_str(&format!("  total: {}\n{}\n", total.line(), total.breakdown()));
    for problem in &total.problems {
        out.push_str(&format!("  ! {problem}\n"));
    }
    (total, out)
}

/// A bound as the attacker states it (two decimals at most; no "-0").
fn bound(v: f64) -> String {
    if v.is_nan() {
        "?".to_owned()
    } else if v.is_infinite() {
        "inf".to_owned()
    } else {
        let r = (v * 100.0).round() / 100.0 + 0.0;
        format!("{r}")
    }
}

/// Up to `per_kind` leaks of each (class, table), so a long run of one kind does not hide the
/// others.
fn show(leaks: &[&Finding], per_kind: usize) -> String {
    let mut seen: BTreeMap<(String, String), usize> = BTreeMap::new();
    leaks
        .iter()
        .filter(|f| {
            let n = seen.entry((format!("{:?}", f.class), f.info.table.clone())).or_insert(0);
            *n += 1;
            *n <= per_kind
        })
        .map(|f| {
            format!(
                "  {:?} {}: table {} {} row {:?} column {:?} in [{}, {}]\n      from: {}",
                f.class,
                f.provider,
                f.info.table,
                f.info.covers,
                f.info.row,
                f.info.column,
                bound(f.lo),
                bound(f.hi),
                f.identities
            )
        })
        .collect::<Vec<_>>()
        .join("\n")
}

/// Per table: how many of the releases' tables are withheld whole, published with withheld
/// cells (what the attacker has to work on), or published in full. A table withheld whole in
/// every release tests nothing: its cells are variables with no upper bound.
fn coverage(providers: &[ProviderReleases]) -> String {
    let mut by: BTreeMap<String, [usize; 3]> = BTreeMap::new();
    for t in providers.iter().flat_map(|p| &p.releases).flat_map(|r| &r.tables) {
        let e = by.entry(t.id.clone()).or_insert([0; 3]);
        let some_withheld = t.cells.iter().flatten().any(|c| !matches!(c, Cell::Count(_)));
        e[if t.withheld {
            0
        } else if some_withheld {
            1
        } else {
            2
        }] += 1;
    }
    let parts: Vec<String> = by.iter().map(|(id, [w, s, f])| format!("{id} {w}/{s}/{f}")).collect();
    format!("  coverage (tables withheld whole / with withheld cells / in full): {}\n", parts.join(", "))
}

/// Up to `n` withheld values of 11 or more recovered exactly ([`Figures::exact_large`]).
fn show_large(figures: &Figures, n: usize) -> String {
    figures
        .exact_large()
        .iter()
        .take(n)
        .map(|f| {
            format!(
                "  exactly (11 or more) {}: table {} {} row {:?} column {:?} = {}",
                f.provider,
                f.info.table,
                f.info.covers,
                f.info.row,
                f.info.column,
                bound(f.hi)
            )
        })
        .collect::<Vec<_>>()
        .join("\n")
}

// =============================================================================================
// The tests
// =============================================================================================

/// Every release of three providers, attacked jointly: no withheld count and no per-site
/// quarterly flow is recovered exactly or pinned inside 1..=10.
#[test]
fn the_joint_attacker_recovers_and_pins_nothing_across_all_releases() {
    let (providers, build_time) = providers();
    let start = Instant::now();
    let (total, mut report) = attack_all(providers, "joint attack");
    let checked = check_against_truth(providers, &total);
    report.push_str(&format!(
        "  soundness: {checked} withheld active counts lie inside the attacker's intervals\n  wall time: data and \
         releases {:.1} s (shared with the leaky test), attack {:.1} s\n",
        build_time.as_secs_f64(),
        start.elapsed().as_secs_f64()
    ));
    let leaks = total.leaks();
    report.push_str(&coverage(providers));
    report.push_str(&show(&leaks, 3));
    report.push_str(&show_large(&total, 5));
    eprintln!("{report}");
    assert!(total.targets > 100, "the attacker examined too little: {}", total.line());
    assert!(providers.iter().all(|p| p.releases.len() == MONTHS), "every one of the {MONTHS} months is released");
    assert!(
        total.skipped_targets == 0 && total.milp_timeouts == 0,
        "targets skipped as infeasible ({}) or integer programs timed out ({}): a leak there would go unseen\n{}",
        total.skipped_targets,
        total.milp_timeouts,
        total.problems.join("\n")
    );
    assert!(total.group_facts == 0, "whole rows proven jointly:\n{}", total.problems.join("\n"));
    assert!(
        total.exact == 0 && total.pinned == 0,
        "the joint attacker recovers {} withheld values exactly ({} of them 0) and pins {} inside 1..=10:\n{}",
        total.exact,
        total.exact_zeros(),
        total.pinned,
        show(&leaks, 2)
    );
}

/// The attacker's intervals must hold the truth, or its "safe" verdicts mean nothing: every
/// withheld active count (01a, and the row total of a site stock table) as the vault held it
/// when that month was released. Returns how many were checked.
fn check_against_truth(providers: &[ProviderReleases], figures: &Figures) -> usize {
    let mut checked = 0;
    for f in &figures.results {
        let table = f.info.table.as_str();
        if !(table == "01a" || SITE_STOCK.contains(&table) && f.info.column == "Total") {
            continue;
        }
        let p = providers.iter().find(|p| p.name == f.provider).unwrap();
        let Some(x) = p.sites.iter().position(|s| *s == f.info.row) else { continue };
        let end = last_day(f.info.month);
        let truth = p.releases[f.info.month]
            .truth
            .iter()
            .filter(|(s, on, out)| *s == x && *on <= end && out.is_none_or(|d| d > end))
            .count() as f64;
        let lo = if f.lo.is_nan() { 0.0 } else { f.lo };
        assert!(
            lo - 1e-6 <= truth && truth <= f.hi + 1e-6,
            "{} table {} {} row {}: the true {truth} lies outside the attacker's [{}, {}]: an identity is wrong",
            f.provider,
            table,
            f.info.covers,
            f.info.row,
            bound(f.lo),
            bound(f.hi)
        );
        checked += 1;
    }
    assert!(checked > 0, "no withheld active count to check the attacker against");
    checked
}

/// Appends to each quarter's release a table the definitions forbid: every site's new
/// enrollments and exits for the quarter, as counts (its total row adds up the published sites,
/// as every site table's does). For a site whose 01a is withheld at one end of the quarter and
/// published at the other, the withheld count is then the published one plus or minus the
/// flows. The attacker must find that: a withheld 01a recovered or pinned that it could not
/// recover without the extra table.
#[test]
fn the_joint_attacker_finds_a_leaky_site_level_flow_table() {
    let (providers, _) = providers();
    let baseline: usize = providers.iter().map(|p| attack(p).leaks().len()).sum();
    let leaky: Vec<ProviderReleases> = providers
        .iter()
        .map(|p| {
            let mut p = p.clone();
            let sites = p.sites.clone();
            for release in p.releases.iter_mut().filter(|r| r.month % 3 == 2) {
                let m = release.month;
                let published: BTreeSet<String> = release
                    .tables
                    .iter()
                    .filter(|t| t.id == "01a")
                    .flat_map(|t| {
                        t.rows.iter().enumerate().filter(|(r, _)| matches!(t.cell(*r, 0), Some(Cell::Count(_))))
                    })
                    .map(|(_, label)| label.clone())
                    .collect();
                let quarter = first_day(m - 2)..=last_day(m);
                let mut cells: Vec<Vec<Cell>> = Vec::new();
                let (mut all_new, mut all_exits) = (0, 0);
                for (x, site) in sites.iter().enumerate() {
                    let mine = || release.truth.iter().filter(move |(s, _, _)| *s == x);
                    let new = mine().filter(|(_, on, _)| quarter.contains(on)).count() as u64;
                    let exits = mine().filter(|(_, _, out)| out.is_some_and(|d| quarter.contains(&d))).count() as u64;
                    cells.push(vec![Cell::Count(new), Cell::Count(exits)]);
                    if published.contains(site) {
                        all_new += new;
                        all_exits += exits;
                    }
                }
                cells.push(vec![Cell::Count(all_new), Cell::Count(all_exits)]);
                release.tables.push(Table {
                    id: "03".into(),
                    indicator: 3,
                    title: "Leaky: new enrollments and exits per site".into(),
                    unit: "persons".into(),
                    covers: format!("{}-Q{}", period(m).year(), period(m).month().div_ceil(3)),
                    grain: Grain::Quarter,
                    geography: "site".into(),
                    rows: sites.clone(),
                    columns: vec!["new enrollments".into(), "exits".into()],
                    row_totals: false,
                    cells,
                    withheld: false,
                    event_cap: None,
                });
            }
            p
        })
        .collect();
    let (total, report) = attack_all(&leaky, "joint attack with a leaky site-level flow table");
    let checked = check_against_truth(&leaky, &total);
    let leaks = total.leaks();
    let planted: Vec<&Finding> = leaks.iter().copied().filter(|f| f.info.table == "01a").collect();
    eprintln!("{report}  soundness: {checked} withheld active counts checked\n{}", show(&planted, 3));
    assert!(
        !planted.is_empty() && leaks.len() > baseline,
        "the attacker missed the leak of a site-level flow table ({} leaks, {baseline} without the table): {}",
        leaks.len(),
        total.line()
    );
}

// =============================================================================================
// Targeted attacks: small providers built so that one identity the design does not list bites
// =============================================================================================
//
// The three providers above never exercise some tables (their hearings fall outside most
// quarters, their December 20c and 21a are withheld whole, their flows are always 11 or more).
// Each scenario below is a provider a real one could be, released through the vault as usual;
// each test states the design's promise and fails, with the figures, where it does not hold.

/// One client of a targeted scenario. Synth's own records are dropped: only `records` count.
struct Who {
    site: usize,
    enrolled: Date,
    exit: Option<(Date, ExitReason)>,
    dob: Option<BirthDate>,
    records: Vec<Record>,
}

impl Who {
    fn at(site: usize, enrolled: Date) -> Self {
        let dob = BirthDate::new(1990, Some(5), Some(5), DatePrecision::Day, DateProvenance::Document).ok();
        Self { site, enrolled, exit: None, dob, records: Vec::new() }
    }

    fn leaving(mut self, date: Date, reason: ExitReason) -> Self {
        self.exit = Some((date, reason));
        self
    }
}

/// A provider's vault holding planned clients, released month by month like any provider's.
struct Scenario {
    _dir: tempfile::TempDir,
    vault: Vault,
    board: RecoveryIdentity,
    registry: Registry,
    name: String,
    sites: Vec<String>,
    people: Vec<Who>,
    ids: Vec<ClientId>,
}

impl Scenario {
    fn new(name: &str, sites: &[&str], people: Vec<Who>, seed: u8) -> Self {
        let dir = tempfile::tempdir().unwrap();
        let vault = Vault::create_with_key(dir.path().join("t.cwv"), &test_key(100 + seed)).unwrap();
        vault.set_provider_id(name).unwrap();
        let board = RecoveryIdentity::generate();
        let mut registry = Registry::default();
        registry.providers.insert(name.to_owned(), vault.signing_public_key().unwrap());
        let mut synth = Synth::new(9_000 + u64::from(seed));
        let intakes: Vec<Intake> = people
            .iter()
            .map(|w| {
                let mut intake = synth.intake();
                intake.identity.dob = w.dob;
                intake.enrollment.site = sites[w.site].to_owned();
                intake.enrollment.enrolled_on = w.enrolled;
                intake.enrollment.exit = w.exit.map(|(date, reason)| Exit { date, reason });
                intake.enrollment.randomization = None;
                intake.records = w.records.clone();
                intake
            })
            .collect();
        let ids = vault.enroll_many(intakes.iter()).unwrap();
        Self {
            _dir: dir,
            vault,
            board,
            registry,
            name: name.to_owned(),
            sites: sites.iter().map(|s| (*s).to_owned()).collect(),
            people,
            ids,
        }
    }

    /// Enters an exit after the fact (a back-filled record).
    fn late_exit(&mut self, i: usize, date: Date, reason: ExitReason) {
        self.vault.update_enrollment(self.ids[i], |e| e.exit = Some(Exit { date, reason })).unwrap();
        self.people[i].exit = Some((date, reason));
    }

    /// Releases month `m` (or revises it, when `options.revise` says why) and opens it as the
    /// board does.
    fn release(&self, m: usize, options: &ReportOptions) -> Release {
        let bytes = self.vault.board_report(period(m), options, &[self.board.recipient()]).unwrap();
        let report = open_bundle(&bytes, &self.board, Some(&self.registry)).unwrap().report;
        assert_eq!(report.period, period(m));
        let truth = self.people.iter().map(|w| (w.site, w.enrolled, w.exit.map(|(d, _)| d))).collect();
        Release { month: m, tables: report.tables, omitted: report.omitted, truth }
    }

    fn provider(&self, releases: Vec<Release>) -> ProviderReleases {
        ProviderReleases {
            name: self.name.clone(),
            sites: self.sites.clone(),
            releases,
            not_ended: Vec::new(),
            clients: self.people.len(),
            messy: "targeted scenario, every record entered before the first release".to_owned(),
        }
    }

    /// The active count of site `x` at the end of month `m`, as the vault holds it now.
    fn active(&self, x: usize, m: usize) -> usize {
        let end = last_day(m);
        self.people.iter().filter(|w| w.site == x && w.enrolled <= end && w.exit.is_none_or(|(d, _)| d > end)).count()
    }
}

fn day(m: usize, d: i64) -> Date {
    first_day(m).add_days(d - 1)
}

/// Attacks one targeted provider with and without the identities the design does not list,
/// and returns the leaks found with them, printed with the figures.
fn targeted_attack(provider: &ProviderReleases, heading: &str) -> (Vec<Finding>, String) {
    let listed = attack_with(provider, false);
    let all = attack_with(provider, true);
    for figures in [&listed, &all] {
        assert!(
            figures.skipped_targets == 0 && figures.milp_timeouts == 0,
            "{heading}: targets skipped as infeasible or integer programs timed out: {}\n{}",
            figures.line(),
            figures.problems.join("\n")
        );
        assert!(figures.group_facts == 0, "{heading}: whole rows proven jointly:\n{}", figures.problems.join("\n"));
    }
    let leaks: Vec<Finding> = all.leaks().into_iter().cloned().collect();
    let shown: Vec<&Finding> = leaks.iter().collect();
    let report = format!(
        "{heading} ({}, {} clients, {} releases)\n  identities the design lists: {}\n  with the unlisted ones:      {}\n{}\n{}\n{}\n",
        provider.name,
        provider.clients,
        provider.releases.len(),
        listed.line(),
        all.line(),
        all.breakdown(),
        show(&shown, 4),
        show_large(&all, 3)
    );
    (leaks, report)
}

/// 20c's `unknown` age band and 21a's `missing` birth date both count the active persons with
/// no stored birth date, at the same sites, at the same 31 December. The two tables are
/// suppressed each on its own, so a rectangle through one column can be undone by the other
/// table's published cells.
///
/// Three sites of 30 to 75 persons. A column whose total over the sites is 1 to 10 cannot be
/// protected and withholds its whole table, so each draw keeps every column total at 0 or 11
/// and more: ages 18-24, 25-34 and 35-44; birth dates to the day or to the month; and 1 to 9
/// persons per site with no birth date (11 or more in all).
#[test]
fn targeted_20c_unknown_age_is_21a_missing_birth_date() {
    let mut leaks = Vec::new();
    let mut out = String::new();
    let mut published_both = 0;
    let draws: u8 = std::env::var("DRAWS").ok().and_then(|v| v.parse().ok()).unwrap_or(24);
    for seed in 0..=draws {
        let mut rng = fastrand::Rng::with_seed(0x20c + u64::from(seed));
        let people = if seed == draws { designed_20c_21a() } else { drawn_20c_21a(&mut rng) };
        let name = format!("dob-{seed}");
        let scenario = Scenario::new(&name, &["north", "south", "east"], people, seed);
        let releases: Vec<Release> = (0..3).map(|m| scenario.release(m, &ReportOptions::default())).collect();
        let mut shown = 0;
        for t in releases[2].tables.iter().filter(|t| t.id == "20c" || t.id == "21a") {
            shown += usize::from(!t.withheld);
            out.push_str(&format!("  {} {} withheld whole: {}\n", t.id, t.covers, t.withheld));
            for (r, row) in t.cells.iter().enumerate() {
                let cells: Vec<String> =
                    row.iter().map(|c| if let Cell::Count(v) = c { v.to_string() } else { "x".into() }).collect();
                out.push_str(&format!("    {:>6}: {}\n", row_label(t, r), cells.join(" ")));
            }
        }
        published_both += usize::from(shown == 2);
        let provider = scenario.provider(releases);
        let (found, report) = targeted_attack(&provider, "20c unknown = 21a missing");
        out.push_str(&report);
        leaks.extend(found.into_iter().filter(|f| f.info.table == "20c" || f.info.table == "21a"));
    }
    eprintln!("{out}  draws with both tables published: {published_both} of {}", draws + 1);
    let shown: Vec<&Finding> = leaks.iter().collect();
    assert!(
        leaks.is_empty(),
        "20c and 21a publish the same column under two independent suppressions: {} withheld counts recovered or \
         pinned\n{}",
        leaks.len(),
        show(&shown, 3)
    );
}

/// Three sites of 30 to 75 persons, small cells drawn (see the test).
fn drawn_20c_21a(rng: &mut fastrand::Rng) -> Vec<Who> {
    let sizes = [30 + rng.usize(0..15), 45 + rng.usize(0..15), 60 + rng.usize(0..15)];
    // Per site: persons with no birth date, born to the month only, aged 18-24.
    // Some sites hold 11 or more of a kind, so that a rectangle may take a large partner.
    let mut small: Vec<[usize; 3]> = (0..3).map(|_| [0; 3].map(|_| rng.usize(0..16))).collect();
    for k in 0..3 {
        while small.iter().map(|s| s[k]).sum::<usize>() < 11 {
            let x = rng.usize(0..3);
            small[x][k] += 1;
        }
    }
    let mut people = Vec::new();
    for (x, &size) in sizes.iter().enumerate() {
        for i in 0..size {
            let mut who = Who::at(x, day(0, rng.i64(1..=28)));
            let j = i.checked_sub(small[x][0]);
            let age = match j {
                Some(j) if j < small[x][2] => rng.u16(18..25),
                _ if rng.bool() => rng.u16(25..35),
                _ => rng.u16(35..45),
            };
            let year = 2025 - age;
            let (month, d) = (rng.u8(1..13), rng.u8(2..29));
            who.dob = match j {
                None => None,
                // The month-only ones are taken from the other end of the site's list.
                Some(_) if i >= size - small[x][1] => {
                    BirthDate::new(year, Some(month), None, DatePrecision::Month, DateProvenance::SelfReport).ok()
                }
                Some(_) => {
                    BirthDate::new(year, Some(month), Some(d), DatePrecision::Day, DateProvenance::Document).ok()
                }
            };
            people.push(who);
        }
    }
    people
}

/// Rectangles chosen so that the two tables protect the same small cell with different rows:
/// `north` has 3 persons with no birth date, 9 aged 18-24 and 9 born to the month; 20c pairs
/// it with `south` (11 aged 18-24, 12 with no birth date), 21a with `east` (11 born to the
/// month, 12 with no birth date). 21a then publishes south's 12, which 20c withheld.
fn designed_20c_21a() -> Vec<Who> {
    // (site, persons, no birth date, aged 18-24, born to the month)
    let plan = [(0, 30, 3, 9, 9), (1, 40, 12, 11, 0), (2, 45, 12, 0, 11)];
    let mut people = Vec::new();
    for (x, size, missing, young, by_month) in plan {
        for i in 0..size {
            let mut who = Who::at(x, day(0, 1 + (i % 27) as i64));
            let age = if i >= missing && i < missing + young { 20 } else { 30 };
            let year = 2025 - age;
            who.dob = if i < missing {
                None
            } else if i >= size - by_month {
                BirthDate::new(year, Some(3), None, DatePrecision::Month, DateProvenance::SelfReport).ok()
            } else {
                BirthDate::new(year, Some(3), Some(9), DatePrecision::Day, DateProvenance::Document).ok()
            };
            people.push(who);
        }
    }
    people
}

/// The growing provider of the two flow scenarios below: 30 at the main site and 20 at the
/// annex through 2025; in 2026-Q1 exits in January and March at the main site, ten and then five
/// enrollments there, one at the annex. With `february_exits`, eight more main-site exits in
/// February.
fn growing_provider(february_exits: bool) -> Vec<Who> {
    let mut people = Vec::new();
    for i in 0..30 {
        let who = Who::at(0, day(0, 1 + i % 20));
        people.push(match i {
            0 => who.leaving(day(3, 10), ExitReason::Completed),
            1 => who.leaving(day(3, 20), ExitReason::MovedAway),
            2 => who.leaving(day(5, 12), ExitReason::Withdrew),
            3..=10 if february_exits => who.leaving(day(4, 3 + i), ExitReason::Completed),
            _ => who,
        });
    }
    people.extend((0..20).map(|i| Who::at(1, day(0, 3 + i % 20))));
    people.extend((0..10).map(|i| Who::at(0, day(4, 2 + i))));
    people.extend((0..5).map(|i| Who::at(0, day(5, 3 + i))));
    people.push(Who::at(1, day(4, 9)));
    people
}

/// 03, 04 and 18 are withheld together unless both flows leave 12 or more beyond what the
/// board can prove; a withheld quarter then tells it Σ new <= 11 + what is proven. A growing
/// provider: 30 and 20 active through 2025, then in 2026-Q1 two exits in January, ten
/// enrollments in February, five and one exit in March at the main site, one enrollment at the
/// annex. The January drop already shows two exits and the annex's rise its one entry: with
/// the rule "the smaller flow is under 12" instead, the annex's entries were pinned in 1..9.
#[test]
fn targeted_withheld_flows_pin_nothing() {
    let scenario = Scenario::new("growing", &["main", "annex"], growing_provider(false), 20);
    let releases: Vec<Release> = (0..6).map(|m| scenario.release(m, &ReportOptions::default())).collect();
    let flows_withheld = releases[5].tables.iter().any(|t| t.id == "03" && t.withheld);
    assert!(flows_withheld, "3 exits in the quarter: the flows are withheld");
    let provider = scenario.provider(releases);
    let (leaks, report) = targeted_attack(&provider, "withheld flows");
    eprintln!("{report}  2026-Q1 flows withheld: {flows_withheld}");
    assert_no_flow_leaks(leaks);
}

/// The same growing provider with eight more exits at the main site in February (offset by
/// its February enrollments): 16 enrollments and 11 exits in 2026-Q1. The rule before this one
/// published them (both 11 or more beyond the monthly 01a rises and falls), and the annex's
/// share was then pinned: the February participant-days prove exits the counts hide. Those
/// days are now part of what is proven, and the flows are withheld.
#[test]
fn targeted_flows_near_the_bar_are_withheld() {
    let scenario = Scenario::new("growing-published", &["main", "annex"], growing_provider(true), 21);
    let releases: Vec<Release> = (0..6).map(|m| scenario.release(m, &ReportOptions::default())).collect();
    let withheld = releases[5].tables.iter().any(|t| t.id == "03" && t.withheld);
    assert!(withheld, "11 exits, some proven by the days: the flows are withheld");
    let provider = scenario.provider(releases);
    let (leaks, report) = targeted_attack(&provider, "flows near the bar");
    eprintln!("{report}");
    assert_no_flow_leaks(leaks);
}

/// The churning provider: 40 at the main site and 20 at the annex through 2025; in 2026-Q1, at
/// the main site, `pairs` persons who enrolled in 2025 leave on the 27th of a month and as many
/// arrive that day (its count and its participant-days barely move), and one person arrives at
/// the annex.
fn churning_provider(pairs: usize) -> Vec<Who> {
    let mut people = Vec::new();
    for i in 0..40usize {
        let who = Who::at(0, day(0, 1 + (i % 20) as i64));
        people.push(if i < pairs { who.leaving(day(3 + i % 3, 27), ExitReason::Completed) } else { who });
    }
    people.extend((0..20).map(|i| Who::at(1, day(0, 3 + i % 20))));
    people.extend((0..pairs).map(|i| Who::at(0, day(3 + i % 3, 27))));
    people.push(Who::at(1, day(4, 9)));
    people
}

/// Flows published with the least slack the rule allows: the test finds the smallest number of
/// churning pairs ([`churning_provider`]) whose flows are published and attacks it: the annex's
/// one entry, and the main site's share, must not be pinned.
#[test]
fn targeted_published_flows_at_the_bar_pin_nothing() {
    for pairs in 12..30 {
        let scenario = Scenario::new("churning", &["main", "annex"], churning_provider(pairs), 22);
        let releases: Vec<Release> = (0..6).map(|m| scenario.release(m, &ReportOptions::default())).collect();
        let flows = releases[5].tables.iter().find(|t| t.id == "03").expect("03 in March");
        if flows.withheld {
            continue;
        }
        let cells = format!("{:?}", flows.cells);
        let provider = scenario.provider(releases);
        let (leaks, report) = targeted_attack(&provider, "published flows at the bar");
        eprintln!("{report}  {pairs} pairs: 03 2026-Q1 published: {cells}");
        assert_no_flow_leaks(leaks);
        return;
    }
    panic!("no churn of 12 to 29 pairs published the quarter's flows: the scenario tests nothing");
}

/// The provider of [`targeted_half_year_mental_health_care_proves_entries`].
fn half_year_care_people() -> Vec<Who> {
    let care = |date: Date| Record::Service(ServiceEvent { date, kind: ServiceKind::MentalHealth, minutes: Some(50) });
    let mut people = Vec::new();
    people.extend((0..40).map(|i| Who::at(0, day(0, 1 + i % 20))));
    for i in 0..30usize {
        let mut who = Who::at(1, day(0, 1 + (i % 20) as i64));
        who.records.push(care(day(3, 10)));
        let month = match i {
            0..=13 => Some(3 + i % 3),
            14..=28 => Some(6 + i % 3),
            _ => None,
        };
        if let Some(month) = month {
            who = who.leaving(day(month, 27), ExitReason::Completed);
        }
        people.push(who);
    }
    people.extend((0..15).map(|i| Who::at(0, day(3, 2 + i))));
    for i in 0..29usize {
        let month = if i < 14 { 3 + i % 3 } else { 6 + i % 3 };
        let mut who = Who::at(1, day(month, 27));
        who.records.push(care(day(month, 27)));
        people.push(who);
    }
    people.push(Who::at(0, day(6, 2)));
    people
}

/// 07c counts the persons with mental-health care in the half-year, among everyone present in
/// it: those active at its start and its entries. Beside the first quarter's flows, which cap
/// that quarter's entries, it proves the second quarter's. A provider built for it: 40 at the
/// main site and 30 at the annex through 2025, everyone at the annex in mental-health care.
/// 2026-Q1: 15 arrive at the main site in January; at the annex 14 leave and 14 arrive, all on
/// the 27th (the counts and the days barely move). The flows are withheld, which caps the
/// annex's entries at 11 beyond the 3 its days prove: 14, the truth. 2026-Q2: the main site
/// gets one more; the annex 15 more same-day pairs. The days prove 4 entries in all, so
/// without 07c the flows (16 and 15) were published, and 07c's 59 persons less 30 active and 14
/// proven gave the annex 15 entries and the main site exactly 1.
#[test]
fn targeted_half_year_mental_health_care_proves_entries() {
    let people = half_year_care_people();
    let scenario = Scenario::new("half-year-care", &["main", "annex"], people, 23);
    let releases: Vec<Release> = (0..9).map(|m| scenario.release(m, &ReportOptions::default())).collect();
    let state = |m: usize| {
        let t = releases[m].tables.iter().find(|t| t.id == "03").expect("03 at a quarter's end");
        if t.withheld {
            "withheld".to_owned()
        } else {
            format!("{:?}", t.cells[0])
        }
    };
    let persons = releases[8].tables.iter().find(|t| t.id == "07c").map(|t| format!("{:?}", t.cells));
    let (q1, q2) = (state(5), state(8));
    let provider = scenario.provider(releases);
    let (leaks, report) = targeted_attack(&provider, "half-year care");
    eprintln!("{report}  03 2026-Q1: {q1}; 2026-Q2: {q2}; 07c 2026-H1: {persons:?}");
    assert_no_flow_leaks(leaks);
}

/// The same providers with the flows of quarter `m` published as they truly are, as a rule
/// with a lower bar would have published them: the attacker must then find the leak, or the
/// targeted tests above could not fail.
fn with_flows_published(scenario: &Scenario, mut releases: Vec<Release>, m: usize) -> ProviderReleases {
    let quarter = first_day(m - 2)..=last_day(m);
    let new = scenario.people.iter().filter(|w| quarter.contains(&w.enrolled)).count() as u64;
    let exits = scenario.people.iter().filter(|w| w.exit.is_some_and(|(d, _)| quarter.contains(&d))).count() as u64;
    let release = &mut releases[m];
    let t = release.tables.iter_mut().find(|t| t.id == "03").expect("03 at a quarter's end");
    t.cells = vec![vec![Cell::Count(new), Cell::Count(exits)]; t.cells.len()];
    t.withheld = false;
    release.omitted.retain(|line| !line.starts_with("03, 04, 18: withheld"));
    scenario.provider(releases)
}

/// The teeth of the flow tests: each scenario, with its quarter's flows published (below the
/// bar, or without the identity the rule now counts), leaks a site's share.
#[test]
fn flows_published_below_the_bar_are_found() {
    let flow_leaks = |provider: &ProviderReleases, heading: &str| -> usize {
        let (leaks, report) = targeted_attack(provider, heading);
        eprintln!("{report}");
        let flow_tables = ["03", "04", "18", "latent n", "latent e"];
        leaks.iter().filter(|f| flow_tables.contains(&f.info.table.as_str())).count()
    };
    // Churning: 12 same-day pairs give 13 entries and 12 exits, 2 of them proven by the days
    // and 1 by the annex's rise: withheld by the rule (slack 10).
    let churning = Scenario::new("churning-below", &["main", "annex"], churning_provider(12), 24);
    let releases: Vec<Release> = (0..6).map(|m| churning.release(m, &ReportOptions::default())).collect();
    assert!(releases[5].tables.iter().any(|t| t.id == "03" && t.withheld), "12 pairs are below the bar");
    let found = flow_leaks(&with_flows_published(&churning, releases, 5), "churning, published below the bar");
    assert!(found > 0, "flows published with 10 of slack pin nothing: the attacker has no teeth");

    // 09: the main site's orientation swap.
    let scenario = Scenario::new("orientation-below", &["main", "annex"], redteam_orientation_swap(12), 25);
    let releases: Vec<Release> = (0..6).map(|m| scenario.release(m, &ReportOptions::default())).collect();
    let found = flow_leaks(&with_flows_published(&scenario, releases, 5), "09 swap, flows published");
    assert!(found > 0, "09's proven entries beside published flows pin nothing: the attacker has no teeth");

    // 07c: the half-year's care beside the first quarter's withheld flows.
    let scenario = Scenario::new("half-year-care-below", &["main", "annex"], half_year_care_people(), 26);
    let releases: Vec<Release> = (0..9).map(|m| scenario.release(m, &ReportOptions::default())).collect();
    let found = flow_leaks(&with_flows_published(&scenario, releases, 8), "07c, flows published");
    assert!(found > 0, "07c's proven entries beside published flows pin nothing: the attacker has no teeth");
}

/// The teeth of the joint group-fact check: a 20d row (sex, December) whose other columns are
/// published as 0 beside its published total gives the withheld one away as the whole row.
#[test]
fn a_whole_row_given_away_jointly_is_found() {
    let scenario = Scenario::new("whole-row", &["main", "annex"], growing_provider(false), 27);
    let mut releases: Vec<Release> = (0..3).map(|m| scenario.release(m, &ReportOptions::default())).collect();
    let t = releases[2].tables.iter_mut().find(|t| t.id == "20d").expect("20d in December");
    let cols = t.columns.len();
    let total = t.cell(0, cols).cloned();
    assert!(matches!(total, Some(Cell::Count(v)) if v >= 11), "the main site's row is published: {total:?}");
    t.withheld = false;
    for c in 0..cols {
        t.cells[0][c] = if c == 0 { Cell::Suppressed } else { Cell::Count(0) };
    }
    let figures = attack_with(&scenario.provider(releases), true);
    eprintln!("{}\n{}", figures.line(), figures.problems.join("\n"));
    assert!(figures.group_facts > 0, "a whole row given away by its zeros is not found: the check has no teeth");
}

/// Fails on any leak of a flow table or of a site's latent quarterly flows.
fn assert_no_flow_leaks(leaks: Vec<Finding>) {
    let flow_tables = ["03", "04", "18", "latent n", "latent e"];
    let leaks: Vec<Finding> = leaks.into_iter().filter(|f| flow_tables.contains(&f.info.table.as_str())).collect();
    let shown: Vec<&Finding> = leaks.iter().collect();
    assert!(
        leaks.is_empty(),
        "a site's share of the quarter's flows is pinned: {} leaks\n{}",
        leaks.len(),
        show(&shown, 3)
    );
}

/// 11b keeps "nobody at this site missed a hearing" from being published (no row wholly one
/// column), but 11a publishes the same fact as a 0 in `missed`: 11b's withheld "one or more
/// missed" is then recovered exactly. Two sites in 2026-Q1: 16 persons with hearings at
/// `west`, none missed; 20 at `east`, three missed.
#[test]
fn targeted_11a_zero_missed_gives_away_the_11b_whole_row() {
    let hearing = |date: Date, outcome: HearingOutcome| {
        Record::Hearing(Hearing {
            date,
            time: None,
            court: "court".into(),
            kind: HearingKind::MasterCalendar,
            outcome: Some(outcome),
        })
    };
    let mut people = Vec::new();
    for i in 0..16 {
        let mut who = Who::at(0, day(0, 1 + i));
        who.records.push(hearing(day(4, 2 + i), HearingOutcome::Attended));
        people.push(who);
    }
    for i in 0..20 {
        let mut who = Who::at(1, day(0, 1 + i));
        let outcome = if i < 3 { HearingOutcome::InAbsentia } else { HearingOutcome::Continued };
        who.records.push(hearing(day(4, 2 + i), outcome));
        people.push(who);
    }
    let scenario = Scenario::new("hearings", &["west", "east"], people, 30);
    let releases: Vec<Release> = (0..6).map(|m| scenario.release(m, &ReportOptions::default())).collect();
    let dump: Vec<String> = releases[5]
        .tables
        .iter()
        .filter(|t| t.id == "11a" || t.id == "11b")
        .map(|t| format!("  {} {} withheld whole: {}; cells {:?}", t.id, t.covers, t.withheld, t.cells))
        .collect();
    let provider = scenario.provider(releases);
    let (leaks, report) = targeted_attack(&provider, "11a vs 11b");
    eprintln!("{report}{}", dump.join("\n"));
    let leaks: Vec<Finding> = leaks.into_iter().filter(|f| f.info.table.starts_with("11")).collect();
    let shown: Vec<&Finding> = leaks.iter().collect();
    assert!(leaks.is_empty(), "11a gives 11b away: {} leaks\n{}", leaks.len(), show(&shown, 3));
}

/// The board holds a period's original and its revision. Revising the month before a quarter
/// began changes which sites the quarter's flows add up; revising the quarter's end then
/// publishes the flows over fewer sites, and the two 03 tables differ by exactly the dropped
/// site's flows (the correction touched no flow of the quarter). With that site's 01a at the
/// quarter's end, its withheld 01a at the start follows.
///
/// `big` has 60 active persons and 12 enrollments and 12 exits in 2026-Q1; `edge` has 11 in
/// 2025 and 6 enrollments and 2 exits in 2026-Q1. One of edge's 2025 clients left on
/// 2025-12-15, entered only after 2026-03 was released; the provider then revises 2025-12 and
/// 2026-03, as the release ledger allows.
#[test]
fn targeted_revision_beside_its_original_recovers_a_site() {
    let mut people = Vec::new();
    for i in 0..60 {
        let who = Who::at(0, day(0, 1 + i % 25));
        people.push(if i < 12 {
            who.leaving(day(3 + i as usize / 4, 5 + i % 4 * 5), ExitReason::Completed)
        } else {
            who
        });
    }
    people.extend((0..12).map(|i| Who::at(0, day(3 + i / 4, 3 + (i % 4) as i64 * 6))));
    let late = people.len();
    for i in 0..11 {
        let who = Who::at(1, day(0, 2 + i));
        people.push(match i {
            1 => who.leaving(day(4, 11), ExitReason::LostContact),
            2 => who.leaving(day(5, 7), ExitReason::Detained),
            _ => who,
        });
    }
    people.extend((0..6).map(|i| Who::at(1, day(3 + i / 2, 4 + (i % 2) as i64 * 10))));
    let mut scenario = Scenario::new("revised", &["big", "edge"], people, 40);
    let mut releases: Vec<Release> = (0..6).map(|m| scenario.release(m, &ReportOptions::default())).collect();
    // The first of edge's clients left in December; it is entered now.
    scenario.late_exit(late, day(2, 15), ExitReason::Departed);
    let revise = ReportOptions { revise: Some("an exit entered late".into()), ..ReportOptions::default() };
    let dec = scenario.release(2, &revise);
    let mar = scenario.release(5, &revise);

    // What the board reads from the four documents.
    let count = |r: &Release, id: &str, row: &str, col: &str| -> Option<u64> {
        let t = r.tables.iter().find(|t| t.id == id)?;
        let ri = if row == "Total" { t.rows.len() } else { t.rows.iter().position(|l| l == row)? };
        let ci = t.columns.iter().position(|c| c == col)?;
        match t.cell(ri, ci)? {
            Cell::Count(v) => Some(*v),
            _ => None,
        }
    };
    let mut lines = Vec::new();
    let mut recovered = Vec::new();
    let (orig_mar, orig_dec) = (&releases[5], &releases[2]);
    for site in ["big", "edge"] {
        lines.push(format!(
            "  01a {site}: 2025-12 original {:?}, revision {:?}; 2026-03 original {:?}, revision {:?}",
            count(orig_dec, "01a", site, "active"),
            count(&dec, "01a", site, "active"),
            count(orig_mar, "01a", site, "active"),
            count(&mar, "01a", site, "active"),
        ));
    }
    let flows = |r: &Release| (count(r, "03", ALL, "new enrollments"), count(r, "03", ALL, "exits"));
    lines.push(format!("  03 2026-Q1: original {:?}, revision {:?}", flows(orig_mar), flows(&mar)));
    for col in EXIT_COLUMNS {
        let (a, b) = (count(orig_mar, "18", ALL, col), count(&mar, "18", ALL, col));
        if a != b {
            lines.push(format!("  18 2026-Q1 {col}: original {a:?}, revision {b:?}"));
        }
    }
    if let ((Some(n0), Some(e0)), (Some(n1), Some(e1))) = (flows(orig_mar), flows(&mar)) {
        let site = "edge";
        let hidden = count(&dec, "01a", site, "active").is_none();
        if let (true, Some(end)) = (hidden, count(&mar, "01a", site, "active")) {
            // The site dropped from the flow sites: its flows are the difference.
            let (n, e) = (n0 as i64 - n1 as i64, e0 as i64 - e1 as i64);
            let start = end as i64 - n + e;
            let truth = scenario.active(1, 2) as i64;
            lines.push(format!(
                "  {site}: n = {n0} - {n1} = {n}, e = {e0} - {e1} = {e}; withheld 01a 2025-12 (revision) = {end} - {n} + \
                 {e} = {start}; the vault holds {truth}"
            ));
            if start == truth && (1..=10).contains(&start) {
                recovered.push(format!("01a 2025-12 {site} = {start}"));
            }
        }
    }
    // Cells both versions of 2026-03 publish and that differ: the corrected person's columns.
    for t in &mar.tables {
        let Some(o) = orig_mar.tables.iter().find(|o| o.id == t.id) else { continue };
        for (r, row) in t.cells.iter().enumerate() {
            for (c, cell) in row.iter().enumerate() {
                if let (Cell::Count(b), Some(Cell::Count(a))) = (cell, o.cell(r, c)) {
                    if a != b && t.geography == "site" && r < t.rows.len() && c < t.columns.len() {
                        lines.push(format!(
                            "  {} {} {} {}: original {a}, revision {b}",
                            t.id,
                            t.covers,
                            row_label(t, r),
                            column_label(t, c)
                        ));
                    }
                }
            }
        }
    }
    releases.push(dec);
    eprintln!("revision beside its original:\n{}", lines.join("\n"));
    assert!(
        recovered.is_empty(),
        "an original and its revision together recover withheld counts: {}\n{}",
        recovered.join(", "),
        lines.join("\n")
    );
}

const ALL: &str = "all sites";
const EXIT_COLUMNS: [&str; 9] =
    ["resolved", "relief", "removal order", "departed", "moved", "withdrew", "lost contact", "detained", "other"];

/// A site that only a provider input names (declined offers for 02, expenditure for 06) gets a
/// row in every site table of the reports that use the input, withheld whole like a small site.
/// It has no row in the months between, because no client was ever enrolled there: the board
/// reads its withheld 01a as 0.
#[test]
fn targeted_a_site_named_only_by_a_provider_input_is_a_provable_zero() {
    let mut people: Vec<Who> = (0..40).map(|i| Who::at(0, day(0, 1 + i % 25))).collect();
    people.extend((0..25).map(|i| Who::at(1, day(0, 2 + i % 25))));
    let scenario = Scenario::new("inputs", &["main", "second", "outreach"], people, 50);
    let mut releases = Vec::new();
    for m in 0..6 {
        let mut options = ReportOptions::default();
        if period(m).month().is_multiple_of(3) {
            // Offers the provider made at an outreach point where nobody has enrolled yet.
            options.declined_offers = [("main".to_owned(), 12), ("outreach".to_owned(), 4)].into_iter().collect();
        }
        releases.push(scenario.release(m, &options));
    }
    let rows = |r: &Release| -> Vec<(String, bool)> {
        let t = r.tables.iter().find(|t| t.id == "01a").unwrap();
        t.rows.iter().enumerate().map(|(i, l)| (l.clone(), matches!(t.cell(i, 0), Some(Cell::Count(_))))).collect()
    };
    let mut zeros = Vec::new();
    let mut lines = Vec::new();
    for m in 0..releases.len() {
        lines.push(format!("  01a {}: {:?}", period(m), rows(&releases[m])));
        for (site, published) in rows(&releases[m]) {
            // Absent from the releases before and after (built 5 and 35 days later): no client
            // was enrolled at the site then, so none was active at this month's end.
            let absent = |k: usize| releases.get(k).is_some_and(|r| rows(r).iter().all(|(s, _)| *s != site));
            if !published && m > 0 && absent(m - 1) && absent(m + 1) {
                zeros.push(format!("01a {} {site} = 0", period(m)));
            }
        }
    }
    eprintln!("rows of 01a:\n{}", lines.join("\n"));
    assert!(zeros.is_empty(), "withheld 01a counts the board reads as 0: {}", zeros.join(", "));
}

// =============================================================================================
// Red-team review: stock tables whose columns follow a person (09's orientation only goes from
// "no" to "yes"; 21a's birth-date precision is fixed) move between quarter ends only by
// entries and exits. Before the flow rule counted them, each scenario below gave the annex's
// entries as exactly 1.
// =============================================================================================

/// The joint attacker on a red-team scenario: its flow leaks and a printed report, after
/// checking that the truth lies in every latent-flow interval it computes (else an identity is
/// wrong).
fn redteam_attack(
    provider: &ProviderReleases,
    heading: &str,
    truth: &[((String, String, String), f64)],
) -> (Vec<Finding>, String) {
    let all = attack_with(provider, true);
    let leaks: Vec<Finding> = all.leaks().into_iter().cloned().collect();
    let shown: Vec<&Finding> = leaks.iter().collect();
    let mut latent = String::new();
    for f in all.results.iter().filter(|f| f.info.table.starts_with("latent")) {
        latent.push_str(&format!(
            "    {} {} {} : [{}, {}] {:?}\n",
            f.info.table,
            f.info.row,
            f.info.covers,
            bound(f.lo),
            bound(f.hi),
            f.class
        ));
        if let Some((_, v)) =
            truth.iter().find(|((t, r, c), _)| *t == f.info.table && *r == f.info.row && *c == f.info.covers)
        {
            let (lo, hi) = if f.class == Class::Wide { (f64::NEG_INFINITY, f.hi) } else { (f.lo, f.hi) };
            assert!(
                lo - 1e-6 <= *v && *v <= hi + 1e-6,
                "{} {} truth {v} outside [{lo}, {hi}]: an identity is wrong",
                f.info.table,
                f.info.row
            );
        }
    }
    let report = format!(
        "{heading} ({}, {} clients, {} releases)\n  {}\n{}\n  latent flows:\n{}{}\n",
        provider.name,
        provider.clients,
        provider.releases.len(),
        all.line(),
        all.breakdown(),
        latent,
        show(&shown, 4),
    );
    (leaks, report)
}

fn redteam_orientation(date: Date) -> Record {
    Record::Service(ServiceEvent { date, kind: ServiceKind::LegalOrientation, minutes: Some(60) })
}

/// Main site: 30 enrolled in 2025-10, all with legal orientation; in February 2026 `swaps` of
/// them leave on the 14th and as many arrive on the 15th without orientation (01a and 05 do
/// not move: 19 x 28 + swaps x (14 + 14) = 30 x 28). Annex: 20 enrolled in 2025-10 with
/// orientation, and one arrival on 9 February, oriented the next day (01a 20 -> 21).
fn redteam_orientation_swap(swaps: usize) -> Vec<Who> {
    let mut people = Vec::new();
    for i in 0..30usize {
        let mut who = Who::at(0, day(0, 1 + (i % 20) as i64));
        who.records.push(redteam_orientation(day(0, 25)));
        if i < swaps {
            who = who.leaving(day(4, 14), ExitReason::Completed);
        }
        people.push(who);
    }
    for i in 0..20usize {
        let mut who = Who::at(1, day(0, 3 + (i % 20) as i64));
        who.records.push(redteam_orientation(day(0, 25)));
        people.push(who);
    }
    people.extend((0..swaps).map(|_| Who::at(0, day(4, 15))));
    let mut arrival = Who::at(1, day(4, 9));
    arrival.records.push(redteam_orientation(day(4, 10)));
    people.push(arrival);
    people
}

fn redteam_table(releases: &[Release], m: usize, id: &str) -> String {
    let Some(t) = releases[m].tables.iter().find(|t| t.id == id) else {
        return format!("  {id}: not in release {m}\n");
    };
    let mut out = format!("  {} {} (withheld whole: {})\n", t.id, t.covers, t.withheld);
    for (r, row) in t.cells.iter().enumerate() {
        let cells: Vec<String> =
            row.iter().map(|c| if let Cell::Count(v) = c { v.to_string() } else { "x".into() }).collect();
        out.push_str(&format!("    {:>10}: {}\n", row_label(t, r), cells.join(" ")));
    }
    out
}

fn redteam_run(name: &str, swaps: usize, seed: u8) -> (bool, Vec<Finding>, String) {
    let scenario = Scenario::new(name, &["main", "annex"], redteam_orientation_swap(swaps), seed);
    let releases: Vec<Release> = (0..6).map(|m| scenario.release(m, &ReportOptions::default())).collect();
    let withheld = releases[5].tables.iter().any(|t| t.id == "03" && t.withheld);
    let mut shown = String::new();
    for (m, id) in [(2, "09"), (5, "09"), (5, "03"), (4, "05"), (4, "01a"), (5, "01a")] {
        shown.push_str(&redteam_table(&releases, m, id));
    }
    let covers = releases[5].tables.iter().find(|t| t.grain == Grain::Quarter).map(|t| t.covers.clone()).unwrap();
    let truth = vec![
        (("latent n".to_owned(), "main".to_owned(), covers.clone()), swaps as f64),
        (("latent e".to_owned(), "main".to_owned(), covers.clone()), swaps as f64),
        (("latent n".to_owned(), "annex".to_owned(), covers.clone()), 1.0),
        (("latent e".to_owned(), "annex".to_owned(), covers.clone()), 0.0),
    ];
    let provider = scenario.provider(releases);
    let (leaks, report) = redteam_attack(&provider, name, &truth);
    (withheld, leaks, format!("{shown}{report}"))
}

/// 11 swaps at the main site: 12 entries and 11 exits over the flow sites, of which the rule
/// proves 1 entry (the annex's rise): slack 11, withheld. A withheld quarter tells the board
/// Σ n <= 11 + 1; 09's "no" at the main site rising from 0 to 11 proves n(main) >= 11, so
/// n(annex) <= 1, and its rise proves >= 1: the annex's entries are exactly 1.
#[test]
fn targeted_withheld_flows_and_09_pin_nothing() {
    let (withheld, leaks, report) = redteam_run("orientation-withheld", 11, 40);
    eprintln!("{report}  2026-Q1 flows withheld: {withheld}");
    assert!(withheld, "the scenario expects the quarter withheld");
    assert_no_flow_leaks(leaks);
}

/// 12 swaps: 13 entries and 12 exits, the rule proves 1 entry and 0 exits: slack 12 and 12,
/// published. 09 proves n(main) >= 12 = 13 - 1, so n(annex) = 1 exactly.
#[test]
fn targeted_flows_09_proves_are_withheld() {
    let (withheld, leaks, report) = redteam_run("orientation-published", 12, 41);
    eprintln!("{report}  2026-Q1 flows withheld: {withheld}");
    assert!(withheld, "09 proves the main site's 12 entries: the quarter is withheld");
    assert_no_flow_leaks(leaks);
}

/// The same gap through 21a (birth-date precision, a fixed attribute of a person) in 2026-Q2,
/// with no service at all. Main site: 30 enrolled in 2025-10, born to the day; on 14 May 2026
/// twelve of them leave and on the 15th twelve arrive whose birth dates are known to the month
/// only (01a and 05 do not move: 14 + 17 = 31 days a pair). Annex: 20, and one arrival on
/// 9 May. 2026-Q2: 13 entries and 12 exits, the rule proves the annex's 1 entry: slack 12 and
/// 12, published. 21a's "month" column at the main site, 0 in March and 12 in June, proves
/// n(main) >= 12, so n(annex) = 13 - 12 = 1.
#[test]
fn targeted_flows_21a_proves_are_withheld() {
    let month_only = || BirthDate::new(1991, Some(7), None, DatePrecision::Month, DateProvenance::SelfReport).ok();
    let mut people = Vec::new();
    for i in 0..30usize {
        let who = Who::at(0, day(0, 1 + (i % 20) as i64));
        people.push(if i < 12 { who.leaving(day(7, 14), ExitReason::Completed) } else { who });
    }
    people.extend((0..20usize).map(|i| Who::at(1, day(0, 3 + (i % 20) as i64))));
    for _ in 0..12 {
        let mut who = Who::at(0, day(7, 15));
        who.dob = month_only();
        people.push(who);
    }
    people.push(Who::at(1, day(7, 9)));
    let scenario = Scenario::new("precision-published", &["main", "annex"], people, 42);
    let releases: Vec<Release> = (0..9).map(|m| scenario.release(m, &ReportOptions::default())).collect();
    let withheld = releases[8].tables.iter().any(|t| t.id == "03" && t.withheld);
    let mut shown = String::new();
    for (m, id) in [(5, "21a"), (8, "21a"), (5, "03"), (8, "03"), (7, "05")] {
        shown.push_str(&redteam_table(&releases, m, id));
    }
    let covers = releases[8].tables.iter().find(|t| t.grain == Grain::Quarter).map(|t| t.covers.clone()).unwrap();
    let truth = vec![
        (("latent n".to_owned(), "main".to_owned(), covers.clone()), 12.0),
        (("latent e".to_owned(), "main".to_owned(), covers.clone()), 12.0),
        (("latent n".to_owned(), "annex".to_owned(), covers.clone()), 1.0),
        (("latent e".to_owned(), "annex".to_owned(), covers.clone()), 0.0),
    ];
    let provider = scenario.provider(releases);
    let (leaks, report) = redteam_attack(&provider, "precision-published", &truth);
    eprintln!("{shown}{report}  2026-Q2 flows withheld: {withheld}");
    assert!(withheld, "21a proves the main site's 12 entries: 2026-Q2 is withheld");
    assert_no_flow_leaks(leaks);
}
