//! The 21 indicators of `docs/program.md#indicators` as tables, computed in one streaming pass.
//!
//! Each client's records are reduced to contributions `(table, row, column, amount)`; the
//! client is then forgotten. Tables are built only for the spans that close in the report's
//! month (see the release calendar in [`crate::report`]). Numerators, denominators and grains
//! are written in `docs/indicators.md`; the code and that file list the same tables (a test
//! checks the ids).
//!
//! Sensitive categories (screenings, health, protected relief, departure, exits for lost
//! contact or detention) appear only in provider-wide or half-year tables, and no table crosses
//! them with a demographic.

use std::collections::{BTreeMap, BTreeSet};

use crate::category::{Category, ServiceKind};
use crate::deadline::duties_for_move;
use crate::error::Result;
use crate::firewall::consent_active;
use crate::identifier::{Date, DatePrecision};
use crate::policy::{Audience, Policy, Treatment};
use crate::record::{
    Arm, Attendance, ClientRecord, ExitReason, HealthKind, HearingOutcome, Record, ReferralStatus, ReleaseBasis,
    ScreeningKind,
};
use crate::report::flows;
use crate::report::history::{self, History};
use crate::report::noise::{Mechanism, RandomBits};
use crate::report::suppress::{protect, Grid, K};
use crate::report::{Cell, Grain, Method, Period, ReportOptions, Span, Table};

/// Events a single person may add to one cell when noise is used (sensitivity bound).
pub const EVENT_CAP: u64 = 10;

/// The row label of provider-wide tables.
pub const ALL_SITES: &str = "all sites";

/// Under noise, the one row of site tables that holds every client at a site the provider did
/// not declare in its inputs. Noisy site tables have the declared sites and this row, always:
/// rows taken from the data would let one person at a new site change every table's shape,
/// which no noise hides.
pub const OTHER_SITES: &str = "other sites";

#[derive(Clone, Copy, PartialEq, Eq)]
enum Geo {
    Site,
    Provider,
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Unit {
    /// Each person counts once in exactly one column (the columns partition persons).
    Persons,
    /// Each person counts once in any number of columns.
    PersonsOverlapping,
    /// Events (hearings, check-ins, services, moves): a person may add several.
    Events,
    /// Table 07c: an `events` column (a person may add several) beside a `persons` column
    /// (each person once).
    EventsAndPersons,
    /// Participant-days.
    Days,
}

#[derive(Clone, Copy)]
enum Cols {
    Fixed(&'static [&'static str]),
    /// A fixed public vocabulary, then `other` for every value outside it (and for none).
    /// Never chosen from the data: a column labelled with a value only one to three people
    /// hold would name them even with its count withheld.
    Vocabulary(&'static [&'static str]),
}

/// Table 20a's columns: ISO 3166-1 alpha-2 codes, fixed in advance (`docs/indicators.md`).
pub const NATIONALITIES: &[&str] = &["MX", "GT", "HN", "SV", "NI", "CU", "HT", "VE", "CO", "EC", "BR", "AF"];

/// Table 20b's columns: ISO 639 codes, fixed in advance (`docs/indicators.md`).
pub const LANGUAGES: &[&str] = &["es", "pt", "ht", "fr", "en", "ar", "prs", "ps", "quc", "mam"];

/// The vocabulary entry a stored value falls under (codes compare without case or outer
/// spaces), or `other`.
/// A vocabulary's code for `value` (compared without case), or `other`.
pub(crate) fn in_vocabulary(vocabulary: &'static [&'static str], value: Option<&String>) -> &'static str {
    value.and_then(|v| vocabulary.iter().find(|w| w.eq_ignore_ascii_case(v.trim()))).copied().unwrap_or("other")
}

struct Spec {
    id: &'static str,
    indicator: u8,
    title: &'static str,
    unit: Unit,
    unit_name: &'static str,
    grain: Grain,
    geo: Geo,
    cols: Cols,
    /// The categories whose values decide a cell (dates only place an event in a period),
    /// beyond [`BASE_READS`]. The report is built from a reader holding exactly these keys, so
    /// the list is enforced, not only checked.
    reads: &'static [Category],
}

/// What every table reads: the site a client is counted at, and when they enrolled and left.
pub const BASE_READS: [Category; 3] = [Category::ProgramSite, Category::ProgramEnrollment, Category::ProgramExit];

const BANDS: &[&str] = &["0-90 days", "91-180 days", "181-365 days", "over 365 days"];
const MET: &[&str] = &["yes", "no"];
const EXIT_GROUPS: &[&str] =
    &["resolved", "relief", "removal order", "departed", "moved", "withdrew", "lost contact", "detained", "other"];
const AGE_BANDS: &[&str] = &["under 18", "18-24", "25-34", "35-44", "45-54", "55 and over", "unknown"];
pub(crate) const SERVICE_COLS: &[&str] = &[
    "legal_orientation",
    "legal_services",
    "cultural_orientation",
    "health_enrollment",
    "itin",
    "food",
    "housing",
    "language",
    "school",
    "transport",
    "employment",
];

const REFERRALS: &[Category] = &[
    Category::Referral(ServiceKind::LegalOrientation),
    Category::Referral(ServiceKind::LegalServices),
    Category::Referral(ServiceKind::CulturalOrientation),
    Category::Referral(ServiceKind::HealthEnrollment),
    Category::Referral(ServiceKind::Itin),
    Category::Referral(ServiceKind::Food),
    Category::Referral(ServiceKind::Housing),
    Category::Referral(ServiceKind::Language),
    Category::Referral(ServiceKind::School),
    Category::Referral(ServiceKind::Transport),
    Category::Referral(ServiceKind::Employment),
];

/// Tables whose cells equal totals published by other tables of the same report: active persons
/// per site (01a, the row total of every site table), new enrollments and exits (03; exits are
/// the row totals of 04 and 18), and participant-days (monthly cells sum to the fiscal year's).
const LOCKED: &[&str] = &["01a", "03", "05", "06"];

/// Tables of sensitive categories and demographics whose columns partition a row: no published
/// row may put all its persons in one column (a group fact about everyone at a site).
const NO_WHOLE_ROWS: &[&str] = &["11a", "11b", "15", "16", "18", "20a", "20b", "20c", "20d", "20e"];

/// Every table caseward can publish, in report order.
fn specs() -> Vec<Spec> {
    use Category as K;
    use Geo::{Provider, Site};
    use Grain::*;
    use Unit::*;
    let s = |id, indicator, title, unit, unit_name, grain, geo, cols, reads| Spec {
        id,
        indicator,
        title,
        unit,
        unit_name,
        grain,
        geo,
        cols,
        reads,
    };
    vec![
        s(
            "01a",
            1,
            "Active participants at period end",
            Persons,
            "persons",
            Month,
            Site,
            Cols::Fixed(&["active"]),
            &[K::ProgramEnrollment, K::ProgramExit],
        ),
        s(
            "01b",
            1,
            "Active households at period end",
            Persons,
            "households",
            Month,
            Site,
            Cols::Fixed(&["active households"]),
            &[K::ProgramEnrollment, K::ProgramExit, K::HouseholdComposition],
        ),
        s(
            "02",
            2,
            "Offers to randomly selected eligible people, by response",
            Persons,
            "persons",
            Quarter,
            Site,
            Cols::Fixed(&["accepted", "declined"]),
            &[K::EvaluationRandomization],
        ),
        s(
            "03",
            3,
            "New enrollments and exits",
            // One person may be a new enrollment and an exit of the same quarter: two
            // overlapping persons columns (L1 = 2 under noise), not events.
            PersonsOverlapping,
            "persons",
            Quarter,
            Provider,
            Cols::Fixed(&["new enrollments", "exits"]),
            &[K::ProgramEnrollment, K::ProgramExit],
        ),
        s(
            "04",
            4,
            "Length of completed enrollments",
            Persons,
            "persons",
            Quarter,
            Provider,
            Cols::Fixed(BANDS),
            &[K::ProgramEnrollment, K::ProgramExit],
        ),
        s(
            "05",
            5,
            "Participant-days",
            Days,
            "days",
            Month,
            Site,
            Cols::Fixed(&["participant-days"]),
            &[K::ProgramEnrollment, K::ProgramExit],
        ),
        s(
            "06",
            6,
            "Participant-days and CMPP expenditure (cost per participant-day = expenditure / days)",
            Days,
            "days; USD",
            FiscalYear,
            Site,
            Cols::Fixed(&["participant-days", "expenditure (USD)"]),
            &[K::ProgramEnrollment, K::ProgramExit],
        ),
        s(
            "07a",
            7,
            "Service events by category (non-sensitive categories)",
            Events,
            "events",
            Month,
            Site,
            Cols::Fixed(SERVICE_COLS),
            &[K::ServiceEvent],
        ),
        s(
            "07b",
            7,
            "Persons served by category (non-sensitive categories)",
            PersonsOverlapping,
            "persons",
            Month,
            Site,
            Cols::Fixed(SERVICE_COLS),
            &[K::ServiceEvent],
        ),
        s(
            "07c",
            7,
            "Mental-health services",
            EventsAndPersons,
            "events; persons",
            HalfYear,
            Site,
            Cols::Fixed(&["events", "persons"]),
            &[K::ServiceEvent, K::HealthMental],
        ),
        s(
            "08",
            8,
            "Referrals by category and status",
            Events,
            "referrals",
            Quarter,
            Site,
            Cols::Fixed(&["pending", "connected", "declined"]),
            REFERRALS,
        ),
        s(
            "09",
            9,
            "Legal orientation attended (active persons)",
            Persons,
            "persons",
            Quarter,
            Site,
            Cols::Fixed(MET),
            &[K::ServiceEvent],
        ),
        s(
            "10a",
            10,
            "Represented by an attorney at enrollment (active persons)",
            Persons,
            "persons",
            Quarter,
            Site,
            Cols::Fixed(MET),
            &[K::LegalRepresentation],
        ),
        s(
            "10b",
            10,
            "Represented by an attorney at period end (active persons)",
            Persons,
            "persons",
            Quarter,
            Site,
            Cols::Fixed(MET),
            &[K::LegalRepresentation],
        ),
        s(
            "11a",
            11,
            "Court hearings during enrollment, by appearance",
            Events,
            "hearings",
            Quarter,
            Site,
            Cols::Fixed(&["appeared", "missed"]),
            &[K::LegalCase, K::ObligationCourtNext],
        ),
        s(
            "11b",
            11,
            "Persons with hearings, by whether any was missed",
            Persons,
            "persons",
            Quarter,
            Site,
            Cols::Fixed(&["no missed hearing", "one or more missed"]),
            &[K::LegalCase, K::ObligationCourtNext],
        ),
        s(
            "12",
            12,
            "Continuances, by requester",
            Events,
            "hearings",
            Quarter,
            Provider,
            Cols::Fixed(&["respondent", "dhs", "court", "not recorded"]),
            &[K::LegalCase, K::ObligationCourtNext],
        ),
        s(
            "13",
            13,
            "ICE check-ins during enrollment, by attendance",
            Events,
            "check-ins",
            Quarter,
            Site,
            Cols::Fixed(&["attended", "missed"]),
            &[K::ObligationReportingAttendance, K::ObligationReportingNext],
        ),
        s(
            "14",
            14,
            "Moves whose filing deadlines closed in the period, by timeliness",
            Events,
            "moves",
            Quarter,
            Site,
            Cols::Fixed(&["all filed on time", "late or missing"]),
            &[K::ObligationAddressFiling, K::ContactAddress, K::LegalReleaseBasis],
        ),
        s(
            "15",
            15,
            "Trafficking screening (active persons)",
            Persons,
            "persons",
            Quarter,
            Provider,
            Cols::Fixed(&["not screened", "no indicators", "indicators, not referred", "indicators, referred"]),
            &[K::ScreeningTrafficking],
        ),
        s(
            "16",
            16,
            "Mental-health screening (active persons)",
            Persons,
            "persons",
            HalfYear,
            Site,
            Cols::Fixed(&["not screened", "negative", "positive, not connected", "positive, connected to care"]),
            &[K::ScreeningMentalHealth, K::HealthMental, K::ServiceEvent, K::Referral(ServiceKind::MentalHealth)],
        ),
        s(
            "17",
            17,
            "Relief sought (active persons; protected relief provider-wide only)",
            PersonsOverlapping,
            "persons",
            HalfYear,
            Provider,
            Cols::Fixed(&["asylum", "withholding or CAT", "TPS", "SIJS", "other", "protected (T, U, VAWA)"]),
            &[K::LegalRelief, K::LegalReliefProtected],
        ),
        s(
            "18",
            18,
            "Exits by grouped reason",
            Persons,
            "persons",
            Quarter,
            Provider,
            Cols::Fixed(EXIT_GROUPS),
            &[K::ProgramExit],
        ),
        s(
            "19",
            19,
            "Departure planning (active persons)",
            PersonsOverlapping,
            "persons",
            HalfYear,
            Provider,
            Cols::Fixed(&["with a departure plan", "departed with reintegration support"]),
            &[K::DeparturePlan, K::ProgramExit, K::ServiceEvent],
        ),
        s(
            "20a",
            20,
            "Nationality (active persons)",
            Persons,
            "persons",
            Year,
            Site,
            Cols::Vocabulary(NATIONALITIES),
            &[K::DemographicNationality],
        ),
        s(
            "20b",
            20,
            "Preferred language (active persons)",
            Persons,
            "persons",
            Year,
            Site,
            Cols::Vocabulary(LANGUAGES),
            &[K::DemographicLanguage],
        ),
        s(
            "20c",
            20,
            "Age at enrollment (active persons)",
            Persons,
            "persons",
            Year,
            Site,
            Cols::Fixed(AGE_BANDS),
            &[K::IdentifierDob],
        ),
        s(
            "20d",
            20,
            "Sex (active persons)",
            Persons,
            "persons",
            Year,
            Site,
            Cols::Fixed(&["female", "male", "another or not stated"]),
            &[K::DemographicSexGender],
        ),
        s(
            "20e",
            20,
            "Household type (active persons)",
            Persons,
            "persons",
            Year,
            Site,
            Cols::Fixed(&["single adult", "household with minors", "household without minors"]),
            &[K::HouseholdComposition],
        ),
        s(
            "21a",
            21,
            "Birth-date precision (active persons; every stored A-number is valid by construction)",
            Persons,
            "persons",
            Quarter,
            Site,
            Cols::Fixed(&["day", "month", "year or assigned 1 January", "approximate", "missing"]),
            &[K::IdentifierDob],
        ),
        s(
            "21b",
            21,
            "Consent coverage at period end (active persons)",
            Persons,
            "persons",
            Quarter,
            Site,
            Cols::Fixed(&["with an active consent", "without"]),
            &[K::Consent],
        ),
    ]
}

/// The ids of every table, in report order (for `docs/indicators.md`'s test).
pub fn table_ids() -> Vec<&'static str> {
    specs().iter().map(|s| s.id).collect()
}

/// Accumulates the tables of one report, one client at a time.
pub struct Builder {
    specs: Vec<(Spec, Span)>,
    omitted: Vec<String>,
    sites: BTreeSet<String>,
    noise: bool,
    /// Under noise, the sites of the provider's inputs ([`ReportOptions::declared_sites`]).
    declared: BTreeSet<String>,
    /// (table, row, column) -> (amount, persons)
    cells: BTreeMap<(usize, String, String), (u64, u64)>,
    options: ReportOptions,
    period: Period,
    history: History,
    /// Persons active at the end of the report's month, per site: every table's population.
    active_end: BTreeMap<String, u64>,
    /// New enrollments and exits in the quarter closing this month, per site.
    quarter_flows: BTreeMap<String, (u64, u64)>,
}

impl std::fmt::Debug for Builder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Builder").field("tables", &self.specs.len()).finish_non_exhaustive()
    }
}

impl Builder {
    /// The tables that close in `period`, less those the policy keeps from the board or that
    /// lack a provider input.
    pub fn new(period: Period, policy: &Policy, options: ReportOptions) -> Self {
        let spans: BTreeMap<Grain, Span> = period.closing_spans().into_iter().map(|s| (s.grain, s)).collect();
        let mut omitted = Vec::new();
        let mut chosen = Vec::new();
        for spec in specs() {
            let Some(span) = spans.get(&spec.grain) else { continue };
            let denied: Vec<&str> = BASE_READS
                .iter()
                .chain(spec.reads)
                .filter(|c| policy.treatment(&Audience::Board, **c) < Treatment::Aggregate)
                .map(|c| c.as_str())
                .collect();
            if !denied.is_empty() {
                omitted.push(format!("{}: the policy keeps {} from the board", spec.id, denied.join(", ")));
                continue;
            }
            if spec.id == "02" && options.declined_offers.is_empty() {
                omitted.push("02: needs the count of declined offers per site".into());
                continue;
            }
            if spec.id == "06" && options.expenditure_usd.is_empty() {
                omitted.push("06: needs the fiscal year's expenditure per site".into());
                continue;
            }
            if spec.id == "21a" && period.month() == 12 && matches!(options.method, Method::Suppress { .. }) {
                // December also closes 20c, whose `unknown` age is exactly 21a's `missing` birth
                // date (the same persons, sites and day): two tables suppressed apart would let
                // one publish what the other hid.
                omitted.push("21a: in December its missing birth dates are 20c's unknown ages".into());
                continue;
            }
            chosen.push((spec, span.clone()));
        }
        let noise = matches!(options.method, Method::Noise { .. });
        let declared = options.declared_sites();
        // Under noise the rows are fixed before any client is seen.
        let sites =
            if noise { declared.iter().cloned().chain([OTHER_SITES.to_owned()]).collect() } else { BTreeSet::new() };
        Self {
            specs: chosen,
            omitted,
            sites,
            noise,
            declared,
            cells: BTreeMap::new(),
            options,
            period,
            history: History::default(),
            active_end: BTreeMap::new(),
            quarter_flows: BTreeMap::new(),
        }
    }

    /// What this provider's earlier releases published (from the vault's release ledger).
    /// Without it, a release assumes nothing was published before: a quarter's flows and a
    /// fiscal year's participant-days are then withheld under suppression.
    pub fn with_history(mut self, history: History) -> Self {
        self.history = history;
        self
    }

    /// The categories the chosen tables declare, with [`BASE_READS`]: the only keys the report's
    /// reader holds.
    pub fn reads(&self) -> Vec<Category> {
        let mut all: BTreeSet<Category> = BASE_READS.into_iter().collect();
        for (spec, _) in &self.specs {
            all.extend(spec.reads.iter().copied());
        }
        all.into_iter().collect()
    }

    /// The raw cells before any disclosure control (to compare two builds exactly).
    #[cfg(test)]
    pub(crate) fn raw_cells(&self) -> String {
        format!("{:?}", self.cells)
    }

    /// Keeps only table `id` (to check each table's declaration on its own).
    #[cfg(test)]
    pub(crate) fn only(mut self, id: &str) -> Self {
        self.specs.retain(|(spec, _)| spec.id == id);
        self
    }

    /// Number of tables this report will carry.
    pub fn table_count(&self) -> usize {
        self.specs.len()
    }

    /// Adds one client. Clients without an enrollment are skipped.
    pub fn add(&mut self, client: &ClientRecord) {
        let Some(enrollment) = client.enrollment() else { return };
        let site = if self.noise && !self.declared.contains(&enrollment.site) {
            OTHER_SITES.to_owned()
        } else {
            enrollment.site.clone()
        };
        self.sites.insert(site.clone());
        let end = self.period.last_day();
        let exit = enrollment.exit.as_ref().map(|x| x.date);
        if enrollment.enrolled_on <= end && exit.is_none_or(|x| x > end) {
            *self.active_end.entry(site.clone()).or_insert(0) += 1;
        }
        if self.period.month() % 3 == 0 {
            let quarter = Span::of(Grain::Quarter, self.period);
            let flows = self.quarter_flows.entry(site.clone()).or_insert((0, 0));
            flows.0 += u64::from(quarter.contains(enrollment.enrolled_on));
            flows.1 += u64::from(exit.is_some_and(|x| quarter.contains(x)));
        }
        let mut mine: BTreeMap<(usize, String, String), u64> = BTreeMap::new();
        for (t, (spec, span)) in self.specs.iter().enumerate() {
            // Provider-wide rows are summed at the end, over the sites the release publishes.
            let row = site.clone();
            let mut put = |col: &str, n: u64| {
                if n > 0 {
                    *mine.entry((t, row.clone(), col.to_owned())).or_insert(0) += n;
                }
            };
            contribute(spec, span, client, &mut put);
        }
        for ((t, row, col), mut n) in mine {
            if let Some((spec, _)) = self.specs.get(t) {
                // A persons column counts a person once, however many events put them there
                // (07b counted each service); an events column is capped only under noise, where
                // the cap is the sensitivity. Suppression publishes exact counts.
                if let Some(cap) = per_person_cap(spec, &col, self.noise) {
                    n = n.min(cap);
                }
            }
            let cell = self.cells.entry((t, row, col)).or_insert((0, 0));
            cell.0 += n;
            cell.1 += 1;
        }
    }

    /// Applies disclosure control and returns the tables and what was left out.
    pub fn finish(mut self, rng: &mut impl RandomBits) -> Result<(Vec<Table>, Vec<String>)> {
        // Inputs the provider supplies are added as plain amounts.
        let extra: Vec<(usize, String, &str, u64, u64)> = self
            .specs
            .iter()
            .enumerate()
            .flat_map(|(t, (spec, _))| {
                let rows: Vec<(usize, String, &str, u64, u64)> = match spec.id {
                    "02" => {
                        self.options.declined_offers.iter().map(|(s, n)| (t, s.clone(), "declined", *n, *n)).collect()
                    }
                    "06" => self
                        .options
                        .expenditure_usd
                        .iter()
                        .map(|(s, n)| (t, s.clone(), "expenditure (USD)", *n, 0))
                        .collect(),
                    _ => Vec::new(),
                };
                rows
            })
            .collect();
        let suppress = !self.noise;
        let mut inputs_without_clients = BTreeSet::new();
        for (t, site, col, n, persons) in extra {
            if suppress && !self.sites.contains(&site) {
                // A row that exists only through an input, in the months it is given, would tell
                // the board that no client was ever enrolled there.
                inputs_without_clients.insert(site);
                continue;
            }
            self.sites.insert(site.clone());
            let cell = self.cells.entry((t, site, col.to_owned())).or_insert((0, 0));
            cell.0 += n;
            cell.1 += persons;
        }
        let mut scope = self.scope();
        let mut omitted = std::mem::take(&mut self.omitted);
        if !inputs_without_clients.is_empty() {
            omitted.push(format!(
                "02, 06: inputs given for {} site(s) with no client in the vault are left out",
                inputs_without_clients.len()
            ));
        }
        // Under suppression the flow tables are decided last, from what the others publish
        // (07b and 11b prove entries too); under noise the order of the draws stays the
        // report's order.
        let count = self.specs.len();
        let is_flow = |t: &usize| self.specs.get(*t).is_some_and(|(spec, _)| FLOW_TABLES.contains(&spec.id));
        let order: Vec<usize> = if scope.suppress {
            (0..count).filter(|t| !is_flow(t)).chain((0..count).filter(is_flow)).collect()
        } else {
            (0..count).collect()
        };
        let mut built: Vec<Option<Table>> = (0..count).map(|_| None).collect();
        let mut decided = !scope.suppress;
        for t in order {
            if !decided && is_flow(&t) {
                let (publishable, proven_new, proven_exits) = self.flows_publishable(&scope, &built);
                scope.flows_publishable = publishable;
                if !publishable && !scope.flow_sites.is_empty() {
                    // Recomputable from the published figures: it tells the board why, and no more.
                    omitted.push(format!(
                        "03, 04, 18: withheld, since new enrollments or exits over the flow sites are fewer than \
                         {} beyond the {proven_new} and {proven_exits} the published figures prove",
                        flows::FLOW_BAR
                    ));
                }
                decided = true;
            }
            let table = self.table(t, &scope, &mut omitted, rng)?;
            if let Some(slot) = built.get_mut(t) {
                *slot = table;
            }
        }
        let tables = built.into_iter().flatten().collect();
        Ok((tables, omitted))
    }

    /// Table `t` of the report, or `None` (with the reason in `omitted`) when it is left out.
    fn table(
        &self,
        t: usize,
        scope: &Scope,
        omitted: &mut Vec<String>,
        rng: &mut impl RandomBits,
    ) -> Result<Option<Table>> {
        let Some((spec, span)) = self.specs.get(t) else { return Ok(None) };
        if scope.suppress && FLOW_TABLES.contains(&spec.id) && scope.flow_sites.is_empty() {
            // A sum over no site is 0 whatever the data: say so rather than send a table
            // whose every withheld cell a reader can prove to be 0.
            omitted.push(format!(
                "{}: no site's active count was published both for {} and for the month before the \
                 quarter began (a provider's first quarter, or an unreleased month), so the \
                 quarter's flows cover no site",
                spec.id, self.period
            ));
            return Ok(None);
        }
        let rows: Vec<String> = match spec.geo {
            Geo::Site => self.sites.iter().cloned().collect(),
            Geo::Provider => vec![ALL_SITES.to_owned()],
        };
        // Site tables describe the sites with K or more active persons (the others' rows are
        // withheld whole); provider-wide tables add up those sites, and flow tables the
        // sites whose active count the board holds for every month of the quarter and the
        // month before.
        let counted = match spec.geo {
            Geo::Site => &scope.sites,
            Geo::Provider if FLOW_TABLES.contains(&spec.id) => &scope.flow_sites,
            Geo::Provider => &scope.sites,
        };
        let mine: Vec<(&String, &String, (u64, u64))> = self
            .cells
            .range((t, String::new(), String::new())..(t + 1, String::new(), String::new()))
            .filter(|((_, r, _), _)| counted.contains(r))
            .map(|((_, r, c), v)| match spec.geo {
                Geo::Site => (r, c, *v),
                Geo::Provider => (&scope.all_sites_label, c, *v),
            })
            .collect();
        let columns = columns_for(spec);
        let col_index = |label: &str| columns.iter().position(|c| c == label).unwrap_or(columns.len() - 1);
        let mut values = vec![vec![0u64; columns.len()]; rows.len()];
        let mut persons = vec![vec![0u64; columns.len()]; rows.len()];
        for (r, c, (v, p)) in mine {
            let (Some(ri), ci) = (rows.iter().position(|x| x == r), col_index(c)) else { continue };
            if let Some(slot) = values.get_mut(ri).and_then(|row| row.get_mut(ci)) {
                *slot += v;
            }
            if let Some(slot) = persons.get_mut(ri).and_then(|row| row.get_mut(ci)) {
                *slot += p;
            }
        }
        if spec.id == "06" {
            // Expenditure follows the days of its row: dollars per day would reveal days.
            for row in &mut persons {
                if let Some(&p) = row.first() {
                    if let Some(slot) = row.get_mut(1) {
                        *slot = p;
                    }
                }
            }
        }
        let row_totals =
            spec.unit == Unit::Persons && columns.len() > 1 || spec.unit == Unit::Events && columns.len() > 1;
        let cells = if !scope.suppress {
            publish(spec, &values, &persons, columns.len(), row_totals, self.options.method, rng)?
        } else if FLOW_TABLES.contains(&spec.id) && !scope.flows_publishable {
            withhold_all(rows.len(), columns.len() + usize::from(row_totals))
        } else if spec.id == "06" {
            self.fiscal_year_days(&rows, scope)
        } else if let Some(columns) = whole_population_columns(spec.id) {
            // Overlapping columns have no row total; the row's population is 01a's total.
            let population: u64 = scope.sites.iter().filter_map(|s| self.active_end.get(s)).sum();
            let grid = Grid::counts(&values).without_row_totals().no_whole_population(&[population], columns);
            cells_of(&grid, &protect(&grid), false)
        } else {
            // The grid holds the published sites only, so its totals add up those sites.
            let keep: Vec<usize> = rows
                .iter()
                .enumerate()
                .filter(|(_, r)| spec.geo == Geo::Provider || scope.sites.contains(*r))
                .map(|(i, _)| i)
                .collect();
            let pick = |m: &[Vec<u64>]| keep.iter().filter_map(|&i| m.get(i).cloned()).collect::<Vec<_>>();
            let (values, persons) = (pick(&values), pick(&persons));
            let inner = publish(spec, &values, &persons, columns.len(), row_totals, self.options.method, rng)?;
            widen(inner, &keep, rows.len(), columns.len() + usize::from(row_totals))
        };
        let withheld = cells.iter().flatten().all(|c| matches!(c, Cell::Suppressed));
        Ok(Some(Table {
            id: spec.id.to_owned(),
            indicator: spec.indicator,
            title: spec.title.to_owned(),
            unit: spec.unit_name.to_owned(),
            covers: span.label.clone(),
            grain: spec.grain,
            geography: match spec.geo {
                Geo::Site => "site".into(),
                Geo::Provider => "provider".into(),
            },
            rows,
            columns,
            row_totals,
            cells,
            withheld,
            event_cap: stated_event_cap(spec, self.options.method),
        }))
    }
}

/// Which sites a release describes, under suppression (under noise: every site).
struct Scope {
    suppress: bool,
    /// Sites with [`K`] or more persons active at the end of the month: the rows site tables
    /// publish, and the sites provider-wide tables add up.
    sites: BTreeSet<String>,
    /// Of those, the sites whose active count the board also holds for every month of the
    /// quarter and the month before it: the sites a quarter's flows add up.
    flow_sites: BTreeSet<String>,
    /// The quarter's new enrollments and exits over `flow_sites` leave enough beyond what the
    /// board can prove ([`flows::publishable`]).
    flows_publishable: bool,
    all_sites_label: String,
}

impl Builder {
    fn scope(&self) -> Scope {
        let suppress = !self.noise;
        let all_sites_label = ALL_SITES.to_owned();
        if !suppress {
            let sites = self.sites.clone();
            return Scope { suppress, flow_sites: sites.clone(), sites, flows_publishable: true, all_sites_label };
        }
        let sites: BTreeSet<String> =
            self.sites.iter().filter(|s| self.active_end.get(*s).copied().unwrap_or(0) >= K).cloned().collect();
        // Flow sites: published at the end of every month of the quarter and of the month
        // before it, so that what the board can prove about their flows is known exactly
        // (a withheld month in between would prove more than its neighbours' difference).
        let flow_sites: BTreeSet<String> =
            sites.iter().filter(|s| self.held_before_quarter(self.period, s)).cloned().collect();
        // Decided once the other tables are built (`flows_publishable`).
        Scope { suppress, sites, flow_sites, flows_publishable: false, all_sites_label }
    }

    /// Whether the quarter's flows over the flow sites may be published under suppression:
    /// both must leave [`flows::FLOW_BAR`] or more beyond what the board can prove ([`flows`]).
    /// Returns that, and the proven entries and exits summed over the flow sites.
    fn flows_publishable(&self, scope: &Scope, built: &[Option<Table>]) -> (bool, u64, u64) {
        let (mut new, mut exits, mut least) = (0u64, 0u64, Vec::new());
        for site in &scope.flow_sites {
            least.push(self.proven(self.period, site, built));
            let (n, e) = self.quarter_flows.get(site).copied().unwrap_or((0, 0));
            new = new.saturating_add(n);
            exits = exits.saturating_add(e);
        }
        let proven_new = least.iter().map(|l| l.0).sum();
        let proven_exits = least.iter().map(|l| l.1).sum();
        (flows::publishable(new, exits, &least), proven_new, proven_exits)
    }

    /// The fewest entries and exits at `site` in the quarter ending `q_end` that the board can
    /// prove from everything published: the months ([`Builder::quarter_least`]), 07c at a
    /// half-year's end, and the stock tables of [`flows::STOCK_MOVES`] that close with the
    /// quarter, less what earlier quarters of their span may hold.
    fn proven(&self, q_end: Period, site: &str, built: &[Option<Table>]) -> (u64, u64) {
        let mut least = self.quarter_least(q_end, site, built);
        let current = q_end == self.period;
        let rise = self.rise(q_end, site);
        let find = |id: &str| site_row(built, id, site);
        // What the earlier quarters of a span ending with this one may hold, at most.
        let earlier_most = |months: u32| -> Option<(u64, u64)> {
            (1..months / 3).try_fold((0u64, 0u64), |(n, e), k| {
                let q = q_end.months_before(3 * k);
                let most = self.entries_at_most(q, site)?;
                let exits = i64::try_from(most).unwrap_or(i64::MAX).saturating_sub(self.rise(q, site)).max(0);
                Some((n.saturating_add(most), e.saturating_add(u64::try_from(exits).unwrap_or(0))))
            })
        };
        // 07c: everyone with mental-health care in the half-year was active at its start (10 or
        // fewer if that count was withheld) or entered in one of its quarters.
        if q_end.month() % 6 == 0 {
            let care = if current {
                find("07c").and_then(|(t, r)| history::with_care(t, r))
            } else {
                self.history.care(q_end, site)
            };
            if let (Some(care), Some((most, _))) = (care, earlier_most(6)) {
                let start = self.history.active(q_end.months_before(6), site).unwrap_or(K - 1);
                least = flows::at_least_entries(least, care.saturating_sub(start).saturating_sub(most));
            }
        }
        for &(id, moves) in flows::STOCK_MOVES {
            let Some(spec) = specs().into_iter().find(|s| s.id == id) else { continue };
            if !q_end.closing_spans().iter().any(|s| s.grain == spec.grain) {
                continue;
            }
            let months: u32 = match spec.grain {
                Grain::Month => 1,
                Grain::Quarter => 3,
                Grain::HalfYear => 6,
                Grain::Year | Grain::FiscalYear => 12,
            };
            let end = if current {
                find(id).and_then(|(t, r)| history::stock_row(t, r))
            } else {
                self.history.stock(q_end, id, site).cloned()
            };
            let (Some(end), Some(start)) = (end, self.history.stock(q_end.months_before(months), id, site)) else {
                continue;
            };
            let Some((most_new, most_exits)) = earlier_most(months) else { continue };
            let (entries, exits) = flows::stock_flows(moves, &columns_for(&spec), start, &end);
            least = flows::at_least_entries(least, entries.saturating_sub(most_new));
            least = flows::at_least_exits(least, exits.saturating_sub(most_exits), rise);
        }
        least
    }

    /// Entries minus exits at `site` over the quarter ending `q_end`, from the active counts
    /// the board holds.
    fn rise(&self, q_end: Period, site: &str) -> i64 {
        let count = |p: Period| i64::try_from(self.held_active(p, site).unwrap_or(0)).unwrap_or(i64::MAX);
        count(q_end) - count(q_end.months_before(3))
    }

    /// The most entries the board can allow `site` in the earlier quarter ending `q_end`: its
    /// published flows less the other flow sites' proven entries, or, if they were withheld,
    /// 11 beyond its own proven entries. `None` if the site was not a flow site then.
    fn entries_at_most(&self, q_end: Period, site: &str) -> Option<u64> {
        let flow_sites: Vec<&String> = self
            .sites
            .iter()
            .filter(|s| self.history.active_published(q_end, s) && self.held_before_quarter(q_end, s))
            .collect();
        if !flow_sites.iter().any(|s| *s == site) {
            return None;
        }
        match self.history.flows(q_end)? {
            Some(new) => {
                let others: u64 = flow_sites.iter().filter(|s| **s != site).map(|s| self.proven(q_end, s, &[]).0).sum();
                Some(new.saturating_sub(others))
            }
            None => Some(self.proven(q_end, site, &[]).0.saturating_add(flows::FLOW_BAR - 1)),
        }
    }

    /// Whether the board holds the active count of `site` for the three months before the last
    /// month of the quarter ending `q_end` (with that month's, the condition of a flow site).
    fn held_before_quarter(&self, q_end: Period, site: &str) -> bool {
        (1..=3).all(|back| self.history.active_published(q_end.months_before(back), site))
    }

    /// The active count of `site` at the end of `month`, as the board holds it.
    fn held_active(&self, month: Period, site: &str) -> Option<u64> {
        if month == self.period {
            self.active_end.get(site).copied()
        } else {
            self.history.active(month, site)
        }
    }

    /// The fewest entries and exits at `site` in the quarter ending `q_end` that the board can
    /// prove: from this report's tables (`built`) for this quarter, from the ledger for an
    /// earlier one.
    fn quarter_least(&self, q_end: Period, site: &str, built: &[Option<Table>]) -> (u64, u64) {
        let current = q_end == self.period;
        let now = |id: &str| site_row(built, id, site);
        let months: Vec<Period> = (0..=3).rev().map(|back| q_end.months_before(back)).collect();
        let figures: Vec<flows::Month> = months
            .iter()
            .zip(months.iter().skip(1))
            .map(|(&before, &month)| {
                let span = Span::of(Grain::Month, month);
                let this = current && month == self.period;
                flows::Month {
                    before: self.held_active(before, site).unwrap_or(0),
                    after: self.held_active(month, site).unwrap_or(0),
                    length: u64::try_from(span.end.days_since(span.start) + 1).unwrap_or(28),
                    days: if this {
                        now("05").and_then(|(t, r)| match t.cell(r, 0) {
                            Some(Cell::Count(v)) => Some(*v),
                            _ => None,
                        })
                    } else {
                        self.history.days(month, site)
                    },
                    served: if this {
                        now("07b").and_then(|(t, r)| history::most_served(t, r))
                    } else {
                        self.history.served(month, site)
                    },
                }
            })
            .collect();
        let hearing = if current {
            now("11b").and_then(|(t, r)| history::with_hearing(t, r))
        } else {
            self.history.hearing(q_end, site)
        };
        flows::least_flows(&figures, hearing)
    }

    /// Table 06 under suppression: a site's fiscal-year participant-days are the sum of the
    /// twelve monthly values the board already holds (table 05, this month's included), and are
    /// withheld unless all twelve were published. The year then adds nothing to the months, and
    /// no withheld month is the year minus the others. Expenditure is the provider's own
    /// figure, about no person: it is published as given.
    fn fiscal_year_days(&self, rows: &[String], scope: &Scope) -> Vec<Vec<Cell>> {
        let t05 = self.specs.iter().position(|(spec, _)| spec.id == "05");
        let this_month = |site: &str| -> Option<u64> {
            let t = t05?;
            scope
                .sites
                .contains(site)
                .then(|| self.cells.get(&(t, site.to_owned(), "participant-days".to_owned())).map_or(0, |(v, _)| *v))
        };
        let months: BTreeSet<Period> = (0..12).map(|i| self.period.months_before(i)).collect();
        // (Twelve distinct months, unless the calendar's first year clamps them.)
        let whole_year = months.len() == 12;
        let (mut all_days, mut all_usd, mut every_site) = (0u64, 0u64, true);
        let mut out: Vec<Vec<Cell>> = rows
            .iter()
            .map(|site| {
                let days = months
                    .iter()
                    .try_fold(0u64, |acc, &m| {
                        let d = if m == self.period { this_month(site) } else { self.history.days(m, site) };
                        d.map(|d| acc.saturating_add(d))
                    })
                    .filter(|_| whole_year);
                every_site &= days.is_some();
                let usd = self.options.expenditure_usd.get(site).copied().unwrap_or(0);
                all_usd = all_usd.saturating_add(usd);
                match days {
                    Some(days) => {
                        all_days = all_days.saturating_add(days);
                        vec![Cell::Count(days), Cell::Count(usd)]
                    }
                    None => vec![Cell::Suppressed, Cell::Count(usd)],
                }
            })
            .collect();
        // The days total only when every site's days are published: a total over some sites
        // beside an expenditure total over all would overstate the cost per day.
        let total_days = if every_site { Cell::Count(all_days) } else { Cell::Suppressed };
        out.push(vec![total_days, Cell::Count(all_usd)]);
        out
    }
}

/// Table `id` of those built so far, and the row of `site` in it.
fn site_row<'a>(built: &'a [Option<Table>], id: &str, site: &str) -> Option<(&'a Table, usize)> {
    let table = built.iter().flatten().find(|t| t.id == id)?;
    Some((table, table.rows.iter().position(|r| r == site)?))
}

/// Flow tables: what entered and left the program in the quarter.
const FLOW_TABLES: &[&str] = &["03", "04", "18"];

/// Every cell of a table withheld (its rows and the total row).
fn withhold_all(rows: usize, width: usize) -> Vec<Vec<Cell>> {
    vec![vec![Cell::Suppressed; width]; rows + 1]
}

/// Puts the rows of the published sites (`keep`, in order, then the total row) back among all
/// the sites; the others' rows are withheld whole.
fn widen(inner: Vec<Vec<Cell>>, keep: &[usize], rows: usize, width: usize) -> Vec<Vec<Cell>> {
    let mut inner = inner.into_iter();
    let mut out = Vec::with_capacity(rows + 1);
    for i in 0..rows {
        if keep.contains(&i) {
            out.push(inner.next().unwrap_or_else(|| vec![Cell::Suppressed; width]));
        } else {
            out.push(vec![Cell::Suppressed; width]);
        }
    }
    out.push(inner.next().unwrap_or_else(|| vec![Cell::Suppressed; width]));
    out
}

/// One table's cells as published: the report's disclosure control applied to its values.
fn publish(
    spec: &Spec,
    values: &[Vec<u64>],
    persons: &[Vec<u64>],
    columns: usize,
    row_totals: bool,
    method: Method,
    rng: &mut impl RandomBits,
) -> Result<Vec<Vec<Cell>>> {
    match method {
        // No site yet: the total row alone, all zeros (the grid would take its width from rows).
        Method::Suppress { .. } if values.is_empty() => {
            Ok(vec![vec![Cell::Count(0); columns + usize::from(row_totals)]])
        }
        Method::Suppress { .. } => Ok(suppressed_cells(spec, values, persons, row_totals)),
        Method::Noise { mechanism } => {
            // Table 06's expenditure is the provider's own input, published as given.
            let exact = (spec.id == "06").then_some(1);
            noisy_cells(values, columns, row_totals, mechanism, sensitivity(spec, columns), exact, rng)
        }
    }
}

/// Noise on every interior cell; totals are sums of the noisy cells, so their noise is a sum
/// of draws, and each cell states the interval that fits its number of draws.
fn noisy_cells(
    values: &[Vec<u64>],
    columns: usize,
    row_totals: bool,
    mechanism: Mechanism,
    (l1, l2sq): (u64, u64),
    exact_column: Option<usize>,
    rng: &mut impl RandomBits,
) -> Result<Vec<Vec<Cell>>> {
    let per_draw = mechanism.variance(l1, l2sq);
    let mut widths: BTreeMap<u64, u64> = BTreeMap::new();
    let mut cell = |value: i64, draws: u64| {
        let half_width = *widths.entry(draws).or_insert_with(|| mechanism.half_width(l1, l2sq, draws));
        Cell::Noisy { value, variance: per_draw * draws as f64, half_width: Some(half_width) }
    };
    let mut cells = Vec::with_capacity(values.len() + 1);
    // (value, draws) of each column's total, and of the grand total last.
    let mut col_sum = vec![(0i64, 0u64); columns + usize::from(row_totals)];
    for row in values {
        let mut out = Vec::with_capacity(columns + 1);
        let (mut row_sum, mut row_draws) = (0i64, 0u64);
        for (ci, &v) in row.iter().enumerate() {
            let exact = i64::try_from(v).unwrap_or(i64::MAX);
            let (noisy, draws) = if exact_column == Some(ci) {
                (exact, 0)
            } else {
                (exact.saturating_add(mechanism.sample(rng, l1, l2sq)?), 1)
            };
            row_sum = row_sum.saturating_add(noisy);
            row_draws += draws;
            if let Some(cs) = col_sum.get_mut(ci) {
                cs.0 = cs.0.saturating_add(noisy);
                cs.1 += draws;
            }
            out.push(cell(noisy, draws));
        }
        if row_totals {
            out.push(cell(row_sum, row_draws));
            if let Some(cs) = col_sum.last_mut() {
                cs.0 = cs.0.saturating_add(row_sum);
                cs.1 += row_draws;
            }
        }
        cells.push(out);
    }
    cells.push(col_sum.into_iter().map(|(value, draws)| cell(value, draws)).collect());
    Ok(cells)
}

/// A persons table of `values` (interior rows), published by `method` through the same code as
/// a report's tables: whose columns partition the row (with a `Total` column) when
/// `partition`, else overlap. For the merge's property tests.
#[cfg(test)]
pub(crate) fn publish_persons(
    values: &[Vec<u64>],
    partition: bool,
    method: Method,
    rng: &mut impl RandomBits,
) -> Result<Table> {
    let columns = values.first().map_or(0, Vec::len);
    let spec = Spec {
        id: "test",
        indicator: 1,
        title: "test",
        unit: if partition { Unit::Persons } else { Unit::PersonsOverlapping },
        unit_name: "persons",
        grain: Grain::Month,
        geo: Geo::Site,
        cols: Cols::Fixed(&[]),
        reads: &[],
    };
    // As `Builder::finish` decides it for persons tables.
    let row_totals = partition && columns > 1;
    let cells = publish(&spec, values, values, columns, row_totals, method, rng)?;
    Ok(Table {
        id: spec.id.to_owned(),
        indicator: spec.indicator,
        title: spec.title.to_owned(),
        unit: spec.unit_name.to_owned(),
        covers: "2026-09".to_owned(),
        grain: spec.grain,
        geography: "site".to_owned(),
        rows: (0..values.len()).map(|r| format!("site-{r}")).collect(),
        columns: (0..columns).map(|c| format!("column-{c}")).collect(),
        row_totals,
        withheld: cells.iter().flatten().all(|c| matches!(c, Cell::Suppressed)),
        cells,
        event_cap: None,
    })
}

/// The most one person adds to one cell of a column: 1 in a persons column, [`EVENT_CAP`] in
/// an events column when noise is used (the release states it), nothing otherwise.
fn per_person_cap(spec: &Spec, column: &str, noise: bool) -> Option<u64> {
    match spec.unit {
        Unit::Persons | Unit::PersonsOverlapping => Some(1),
        Unit::EventsAndPersons if column == "persons" => Some(1),
        Unit::Events | Unit::EventsAndPersons => noise.then_some(EVENT_CAP),
        Unit::Days => None,
    }
}

/// The per-person bound on an events cell that a noisy release states with each table.
fn stated_event_cap(spec: &Spec, method: Method) -> Option<u64> {
    let events = matches!(spec.unit, Unit::Events | Unit::EventsAndPersons);
    (events && matches!(method, Method::Noise { .. })).then_some(EVENT_CAP)
}

/// L1 sensitivity and squared L2 sensitivity of a table: what one person can change.
fn sensitivity(spec: &Spec, columns: usize) -> (u64, u64) {
    let m = columns as u64;
    match spec.unit {
        Unit::Persons => (1, 1),
        Unit::PersonsOverlapping => (m, m),
        Unit::Events => (EVENT_CAP * m, EVENT_CAP * EVENT_CAP * m),
        Unit::EventsAndPersons => (EVENT_CAP + 1, EVENT_CAP * EVENT_CAP + 1),
        Unit::Days => {
            let days: u64 = match spec.grain {
                Grain::Month => 31,
                Grain::Quarter => 92,
                Grain::HalfYear => 184,
                Grain::Year | Grain::FiscalYear => 366,
            };
            (days, days * days)
        }
    }
}

/// A table's columns: always the same for a table, whatever the data (issue #15).
fn columns_for(spec: &Spec) -> Vec<String> {
    match spec.cols {
        Cols::Fixed(cols) => cols.iter().map(|c| (*c).to_owned()).collect(),
        Cols::Vocabulary(words) => words.iter().map(|c| (*c).to_owned()).chain(["other".to_owned()]).collect(),
    }
}

/// The columns of a provider-wide table over active persons whose columns overlap, where one
/// column holding the whole population would be a group fact (17: relief sought; 19: a
/// departure plan; 19's other column counts exits, not the active population).
fn whole_population_columns(id: &str) -> Option<&'static [usize]> {
    match id {
        "17" => Some(&[0, 1, 2, 3, 4, 5]),
        "19" => Some(&[0]),
        _ => None,
    }
}

fn suppressed_cells(spec: &Spec, values: &[Vec<u64>], persons: &[Vec<u64>], row_totals: bool) -> Vec<Vec<Cell>> {
    let grid = if spec.unit == Unit::Days { Grid::magnitudes(values, persons) } else { Grid::counts(values) };
    let grid = if row_totals { grid } else { grid.without_row_totals() };
    // These tables' cells are other tables' totals (or sum to them across months).
    let grid = if LOCKED.contains(&spec.id) { grid.locked() } else { grid };
    let grid = if NO_WHOLE_ROWS.contains(&spec.id) { grid.no_whole_rows() } else { grid };
    cells_of(&grid, &protect(&grid), row_totals)
}

/// A protected grid as published cells.
fn cells_of(grid: &Grid, sup: &crate::report::suppress::Suppression, row_totals: bool) -> Vec<Vec<Cell>> {
    let cols = grid.cols() + usize::from(row_totals);
    (0..=grid.rows())
        .map(|r| {
            (0..cols)
                .map(|c| if sup.is_suppressed(r, c) { Cell::Suppressed } else { Cell::Count(grid.value(r, c)) })
                .collect()
        })
        .collect()
}

/// What one client adds to one table.
fn contribute(spec: &Spec, span: &Span, c: &ClientRecord, put: &mut impl FnMut(&str, u64)) {
    let Some(e) = c.enrollment() else { return };
    let exit = e.exit.as_ref();
    let active_in = |s: &Span| e.enrolled_on <= s.end && exit.is_none_or(|x| x.date >= s.start);
    let active_at_end = e.enrolled_on <= span.end && exit.is_none_or(|x| x.date > span.end);
    let during = |d: Date| span.contains(d) && d >= e.enrolled_on && exit.is_none_or(|x| d <= x.date);
    let records = || c.records.iter().map(|r| &r.record);
    let identity = c.identity();
    match spec.id {
        "01a" if active_at_end => put("active", 1),
        "01b" if active_at_end => {
            // A client leads a household unless some household link names another person as
            // its lead: any order of entry gives the same answer.
            let lead = records().all(|r| !matches!(r, Record::Household(h) if h.lead_a_number.is_some()));
            if lead {
                put("active households", 1);
            }
        }
        "02" => {
            if let Some(r) = &e.randomization {
                if r.arm == Arm::Treatment && span.contains(r.selected_on) {
                    put("accepted", 1);
                }
            }
        }
        "03" => {
            if span.contains(e.enrolled_on) {
                put("new enrollments", 1);
            }
            if exit.is_some_and(|x| span.contains(x.date)) {
                put("exits", 1);
            }
        }
        "04" => {
            if let Some(x) = exit.filter(|x| span.contains(x.date)) {
                let days = x.date.days_since(e.enrolled_on);
                let band = match days {
                    ..=90 => 0,
                    91..=180 => 1,
                    181..=365 => 2,
                    _ => 3,
                };
                put(BANDS.get(band).copied().unwrap_or("over 365 days"), 1);
            }
        }
        "05" | "06" if active_in(span) => {
            let from = e.enrolled_on.max(span.start);
            let to = exit.map_or(span.end, |x| x.date.min(span.end));
            let days = u64::try_from(to.days_since(from) + 1).unwrap_or(0);
            put("participant-days", days);
        }
        "07a" | "07b" => {
            for r in records() {
                if let Record::Service(s) = r {
                    if during(s.date) && SERVICE_COLS.contains(&s.kind.as_str()) {
                        put(s.kind.as_str(), 1);
                    }
                }
            }
        }
        "07c" => {
            let n = records()
                .filter(|r| {
                    matches!(r, Record::Service(s) if s.kind == ServiceKind::MentalHealth && during(s.date))
                        || matches!(r, Record::Health(h) if h.kind == HealthKind::Mental && during(h.date))
                })
                .count() as u64;
            if n > 0 {
                put("events", n);
                put("persons", 1);
            }
        }
        "08" => {
            for r in records() {
                if let Record::Referral(x) = r {
                    if during(x.date) && SERVICE_COLS.contains(&x.kind.as_str()) {
                        let status = match x.status {
                            ReferralStatus::Made => "pending",
                            ReferralStatus::Accepted | ReferralStatus::Completed => "connected",
                            ReferralStatus::Declined => "declined",
                        };
                        put(status, 1);
                    }
                }
            }
        }
        "09" if active_at_end => {
            let attended = records().any(|r| {
                matches!(r, Record::Service(s) if s.kind == ServiceKind::LegalOrientation && s.date <= span.end && s.date >= e.enrolled_on)
            });
            put(if attended { "yes" } else { "no" }, 1);
        }
        "10a" if active_at_end => {
            let rep = legal(c).is_some_and(|l| l.represented && l.represented_since.is_none_or(|d| d <= e.enrolled_on));
            put(if rep { "yes" } else { "no" }, 1);
        }
        "10b" if active_at_end => {
            let rep = legal(c).is_some_and(|l| l.represented && l.represented_since.is_none_or(|d| d <= span.end));
            put(if rep { "yes" } else { "no" }, 1);
        }
        "11a" | "11b" => {
            let (mut appeared, mut missed) = (0, 0);
            for r in records() {
                if let Record::Hearing(h) = r {
                    match h.outcome {
                        Some(HearingOutcome::InAbsentia) if during(h.date) => missed += 1,
                        Some(_) if during(h.date) => appeared += 1,
                        _ => {}
                    }
                }
            }
            if spec.id == "11b" {
                if missed > 0 {
                    put("one or more missed", 1);
                } else if appeared > 0 {
                    put("no missed hearing", 1);
                }
            } else {
                put("appeared", appeared);
                put("missed", missed);
            }
        }
        "12" => {
            for r in records() {
                if let Record::Hearing(h) = r {
                    if !during(h.date) {
                        continue;
                    }
                    match h.outcome {
                        Some(HearingOutcome::ContinuedForRespondent) => put("respondent", 1),
                        Some(HearingOutcome::ContinuedForDhs) => put("dhs", 1),
                        Some(HearingOutcome::ContinuedByCourt) => put("court", 1),
                        Some(HearingOutcome::Continued) => put("not recorded", 1),
                        _ => {}
                    }
                }
            }
        }
        "13" => {
            for r in records() {
                if let Record::CheckIn(x) = r {
                    match x.attendance {
                        Some(Attendance::Attended) if during(x.date) => put("attended", 1),
                        Some(Attendance::Missed) if during(x.date) => put("missed", 1),
                        _ => {}
                    }
                }
            }
        }
        "14" => {
            let osup = e.release_basis == Some(ReleaseBasis::Osup);
            for r in records() {
                if let Record::Address(a) = r {
                    if a.moved_on <= e.enrolled_on {
                        continue; // the address at enrollment is not a move
                    }
                    let duties = duties_for_move(a.moved_on, osup, &a.filings);
                    let Some(last_due) = duties.iter().map(|d| d.due).max() else { continue };
                    if !during(last_due) {
                        continue;
                    }
                    let on_time = duties.iter().all(|d| d.met_on.is_some_and(|m| m <= d.due));
                    put(if on_time { "all filed on time" } else { "late or missing" }, 1);
                }
            }
        }
        "15" | "16" if active_at_end => {
            let kind = if spec.id == "15" { ScreeningKind::Trafficking } else { ScreeningKind::MentalHealth };
            let screens: Vec<_> = records()
                .filter_map(|r| match r {
                    Record::Screening(s) if s.kind == kind && s.date <= span.end => Some(s),
                    _ => None,
                })
                .collect();
            let positive = screens.iter().any(|s| s.positive);
            let col = if screens.is_empty() {
                "not screened"
            } else if !positive {
                if spec.id == "15" {
                    "no indicators"
                } else {
                    "negative"
                }
            } else if spec.id == "15" {
                if screens.iter().any(|s| s.positive && s.referred) {
                    "indicators, referred"
                } else {
                    "indicators, not referred"
                }
            } else {
                let connected = records().any(|r| match r {
                    Record::Service(s) => s.kind == ServiceKind::MentalHealth && s.date <= span.end,
                    Record::Health(h) => h.kind == HealthKind::Mental && h.date <= span.end,
                    Record::Referral(x) => {
                        x.kind == ServiceKind::MentalHealth
                            && matches!(x.status, ReferralStatus::Accepted | ReferralStatus::Completed)
                    }
                    _ => false,
                });
                if connected {
                    "positive, connected to care"
                } else {
                    "positive, not connected"
                }
            };
            put(col, 1);
        }
        "17" if active_at_end => {
            if let Some(l) = legal(c) {
                let mut seen = BTreeSet::new();
                for r in &l.relief_sought {
                    let r = r.to_lowercase();
                    let col = if r.contains("asylum") {
                        "asylum"
                    } else if r.contains("withholding") || r.contains("cat") {
                        "withholding or CAT"
                    } else if r.contains("tps") {
                        "TPS"
                    } else if r.contains("sijs") {
                        "SIJS"
                    } else {
                        "other"
                    };
                    seen.insert(col);
                }
                if l.protected_relief.is_some() {
                    seen.insert("protected (T, U, VAWA)");
                }
                seen.into_iter().for_each(|col| put(col, 1));
            }
        }
        "18" => {
            if let Some(x) = exit.filter(|x| span.contains(x.date)) {
                let group = match x.reason {
                    ExitReason::Completed | ExitReason::CaseTerminated => "resolved",
                    ExitReason::ReliefGranted => "relief",
                    ExitReason::RemovalOrder => "removal order",
                    ExitReason::VoluntaryDeparture | ExitReason::Departed => "departed",
                    ExitReason::MovedAway => "moved",
                    ExitReason::Withdrew => "withdrew",
                    ExitReason::LostContact => "lost contact",
                    ExitReason::Detained => "detained",
                    ExitReason::Deceased => "other",
                };
                put(group, 1);
            }
        }
        "19" => {
            let plans: Vec<_> = records()
                .filter_map(|r| match r {
                    Record::Departure(p) => Some(p),
                    _ => None,
                })
                .collect();
            if active_at_end && !plans.is_empty() {
                put("with a departure plan", 1);
            }
            let departed = exit.is_some_and(|x| {
                span.contains(x.date) && matches!(x.reason, ExitReason::Departed | ExitReason::VoluntaryDeparture)
            });
            let support = plans.iter().any(|p| p.partner.is_some())
                || records().any(|r| matches!(r, Record::Service(s) if s.kind == ServiceKind::Reintegration));
            if departed && support {
                put("departed with reintegration support", 1);
            }
        }
        "20a" if active_at_end => {
            put(in_vocabulary(NATIONALITIES, identity.and_then(|i| i.nationality.first())), 1);
        }
        "20b" if active_at_end => {
            put(in_vocabulary(LANGUAGES, identity.and_then(|i| i.languages.first())), 1);
        }
        "20c" if active_at_end => {
            let band = identity.and_then(|i| i.dob).map_or(6, |d| match e.enrolled_on.year() - i32::from(d.year) {
                ..=17 => 0,
                18..=24 => 1,
                25..=34 => 2,
                35..=44 => 3,
                45..=54 => 4,
                _ => 5,
            });
            put(AGE_BANDS.get(band).copied().unwrap_or("unknown"), 1);
        }
        "20d" if active_at_end => {
            let sex = identity.and_then(|i| i.sex_gender.as_deref()).map(str::to_lowercase);
            let col = match sex.as_deref() {
                Some("female" | "woman" | "f") => "female",
                Some("male" | "man" | "m") => "male",
                _ => "another or not stated",
            };
            put(col, 1);
        }
        "20e" if active_at_end => {
            // Over every household link, so entry order never decides: minors anywhere, then
            // anyone else anywhere.
            let links: Vec<_> = records()
                .filter_map(|r| match r {
                    Record::Household(h) => Some(h),
                    _ => None,
                })
                .collect();
            let col = if links.iter().any(|h| h.minors.unwrap_or(0) > 0) {
                "household with minors"
            } else if links.iter().any(|h| h.size.unwrap_or(1) > 1) {
                "household without minors"
            } else {
                "single adult"
            };
            put(col, 1);
        }
        "21a" if active_at_end => {
            let col = match identity.and_then(|i| i.dob) {
                None => "missing",
                Some(d) => match d.effective_precision() {
                    DatePrecision::Day => "day",
                    DatePrecision::Month => "month",
                    DatePrecision::Year => "year or assigned 1 January",
                    DatePrecision::Approximate => "approximate",
                },
            };
            put(col, 1);
        }
        "21b" if active_at_end => {
            let any = records().any(|r| matches!(r, Record::Consent(k) if consent_active(k, span.end)));
            put(if any { "with an active consent" } else { "without" }, 1);
        }
        _ => {}
    }
}

fn legal(c: &ClientRecord) -> Option<&crate::record::LegalStatus> {
    c.records.iter().find_map(|r| match &r.record {
        Record::Legal(l) => Some(l),
        _ => None,
    })
}
