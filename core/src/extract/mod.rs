//! Evaluator extracts: pseudonymized, k-anonymous microdata of an evaluation's participants, as
//! a Parquet file with a signed data dictionary, both age-encrypted to the evaluator.
//!
//! One row per randomized participant: a pseudonym of the `evaluation` domain under the
//! evaluation's own epoch (so two evaluations cannot be joined by pseudonym), the arm,
//! coarsened quasi-identifiers (age band, enrollment month, site, grouped nationality and
//! language), and outcomes while enrolled (hearings attended and missed, check-ins attended and
//! missed, services by category, exit group, 30-day periods enrolled). Never included: free
//! text, anything about protected relief (the category is not read: its clients stay rows,
//! since a participant missing from the extract would tell a reader with a list of participants
//! who has it), and clients of VAWA-grantee programs (left out whole, as the program's rules
//! require, which a reader with such a list can see: SECURITY.md says so).
//!
//! Each column needs the policy's leave for the `evaluator` audience: `coarsen` for a
//! quasi-identifier, `pseudonymize` for the pseudonym, the arm and the outcomes. A column the
//! policy does not allow is left out, and the dictionary says so; the pseudonym and the arm are
//! required. The quasi-identifiers are then generalized, and records suppressed, until every
//! class has k or more records (full-domain generalization, then suppression). The exit group
//! and the periods enrolled are quasi-identifiers too: a reader with enrollment and exit dates
//! knows who left and for how long.
//!
//! Beside the board's tables, no sensitive outcome may be pinned on anyone (`anonymize`):
//! the tables' zeros clear people of outcomes, and a reader then hands the class's rows out to
//! its members; generalization goes on until nobody is left holding only rows with a missed
//! hearing, a missed check-in, mental-health care, or a detention, departure or loss of
//! contact. Which people the tables can clear is worked out here (`Features`): by the zeros
//! the release ledger's reports published, and, for every period, released or not, by what the
//! data would let a table show (more than the board ever shows); exits only by table 18's
//! released zeros, and only up to the last quarter the board holds (later exits read `later`).
//!
//! Each person is extracted once. Two extracts of the same person differ by what happened in
//! between (a class whose one exit in between is its one new detention says who was detained),
//! so a later extract that shares anyone with an earlier one is refused; new people go out in
//! their own extract.

pub(crate) mod anonymize;
pub(crate) mod table;

use std::collections::HashSet;
use std::io::Read;

use serde::{Deserialize, Serialize};

use crate::category::Category as C;
use crate::error::{Error, Result};
use crate::identifier::Date;
use crate::keys::RecoveryIdentity;
use crate::policy::{Audience, Policy, Treatment};
use crate::pseudonym::Pseudonymizer;
use crate::record::{Arm, Attendance, ClientRecord, ExitReason, HearingOutcome, Record};
use crate::report::bundle::{hex, parse_public_key, Registry, SigningKey};
use crate::report::indicator::{in_vocabulary, LANGUAGES, NATIONALITIES, SERVICE_COLS};
use crate::ServiceKind;
use anonymize::{Detail, NoNode, Outcomes, Qi};
use table::{Column, Values};

/// The format tag of the data dictionary.
pub const EXTRACT_FORMAT: &str = "caseward-extract/1";
const SIGNED_FORMAT: &str = "caseward-extract-signed/1";
const SIGNING_CONTEXT: &[u8] = b"caseward-extract/1\0";
/// The Parquet key-value metadata entry that carries the dictionary.
pub const DICTIONARY_KEY: &str = "caseward.dictionary";

/// The k of k-anonymity unless the caller asks for more.
pub const DEFAULT_K: u32 = 11;

/// What an extract covers and how strictly it is protected.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ExtractOptions {
    /// The evaluation's id (`a-z`, `0-9`, `-`, 1 to 32 characters); also the epoch of its
    /// pseudonyms.
    pub evaluation: String,
    /// Only participants randomized by these selections (lottery ids); empty: every randomized
    /// participant.
    pub selections: Vec<String>,
    /// Every published class holds at least k records (at least 2; 11 by default).
    pub k: u32,
    /// At most this many percent of the records may be suppressed (5 by default).
    pub max_suppressed_percent: u32,
}

impl ExtractOptions {
    /// An extract of `evaluation` with the defaults: every randomized participant, k = 11, at
    /// most 5 % suppressed.
    pub fn new(evaluation: &str) -> Self {
        Self { evaluation: evaluation.to_owned(), selections: Vec::new(), k: DEFAULT_K, max_suppressed_percent: 5 }
    }
}

/// A quasi-identifier as published: the level of its hierarchy the extract uses.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Generalization {
    /// The column.
    pub column: String,
    /// 0 for the most detailed level.
    pub level: u32,
    /// What the level means.
    pub meaning: String,
    /// Every level of the hierarchy, most detailed first.
    pub hierarchy: Vec<String>,
}

/// A column of the extract.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ColumnInfo {
    /// The Parquet column name.
    pub name: String,
    /// `text` or `int32`.
    pub kind: String,
    /// What it holds.
    pub meaning: String,
}

/// The data dictionary: what the extract holds and how it was protected. Signed by the
/// provider; it names the Parquet file by its SHA-256.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Dictionary {
    /// Always [`EXTRACT_FORMAT`].
    pub format: String,
    /// The provider's id, as in the board's registry.
    pub provider: String,
    /// The evaluation's id, and the epoch of its pseudonyms.
    pub evaluation: String,
    /// The selections covered (empty: every randomized participant).
    pub selections: Vec<String>,
    /// The day the extract was made; outcomes count up to it.
    pub as_of: Date,
    /// The k of k-anonymity.
    pub k: u32,
    /// Rows published.
    pub records: u64,
    /// Records suppressed to reach k (0, or k or more).
    pub suppressed: u64,
    /// The smallest published class.
    pub smallest_class: u64,
    /// The quasi-identifiers and how far each was generalized.
    pub quasi_identifiers: Vec<Generalization>,
    /// The sensitive outcomes kept from being pinned on anyone beside the board's tables: in
    /// every published class (at every site of it, for all but exits), someone without each
    /// of them whom the tables cannot clear, and no one left holding only rows with one.
    #[serde(default)]
    pub diverse: Vec<String>,
    /// Every column, in file order.
    pub columns: Vec<ColumnInfo>,
    /// Columns left out, with why.
    pub omitted: Vec<String>,
    /// What is never in an extract.
    pub never_included: Vec<String>,
    /// The SHA-256 of the Parquet file, in lowercase hex.
    pub parquet_sha256: String,
}

/// An extract as the evaluator opens it.
#[derive(Clone, PartialEq, Eq)]
pub struct OpenedExtract {
    /// The Parquet file.
    pub parquet: Vec<u8>,
    /// The dictionary, verified.
    pub dictionary: Dictionary,
    /// Who signed it (`ed25519:<hex>`).
    pub signer: String,
}

impl std::fmt::Debug for OpenedExtract {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("OpenedExtract").field("records", &self.dictionary.records).finish_non_exhaustive()
    }
}

/// The categories an extract may read; nothing else is opened.
pub(crate) const READS: [C; 14] = [
    C::IdentifierAlienNumber,
    C::IdentifierDob,
    C::DemographicNationality,
    C::DemographicLanguage,
    C::ProgramSite,
    C::ProgramEnrollment,
    C::ProgramExit,
    C::EvaluationRandomization,
    // Read only to leave such clients out; nothing of it is published.
    C::RegimeVawaGrantee,
    C::ObligationCourtNext,
    C::LegalCase,
    C::ObligationReportingNext,
    C::ObligationReportingAttendance,
    C::ServiceEvent,
];

/// Which groups of columns the policy lets the evaluator have.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Allowed {
    pub qis: Vec<Qi>,
    pub hearings: bool,
    pub check_ins: bool,
    pub services: bool,
    pub exit: bool,
    pub omitted: Vec<String>,
}

/// What the policy allows, or `Denied` when it does not allow the pseudonym or the arm.
pub(crate) fn allowed(policy: &Policy) -> Result<Allowed> {
    let at_least = |c: C, t: Treatment| policy.treatment(&Audience::Evaluator, c) >= t;
    for c in [C::IdentifierAlienNumber, C::EvaluationRandomization] {
        if !at_least(c, Treatment::Pseudonymize) {
            return Err(Error::denied(format!(
                "the policy does not let the evaluator have {c} pseudonymized: an extract needs a rule granting \
                 `evaluator` `pseudonymize` on identifier.alien_number and evaluation.randomization"
            )));
        }
    }
    let mut omitted = Vec::new();
    let mut coarse = Vec::new();
    for qi in Qi::ALL {
        let category = match qi {
            Qi::AgeBand => C::IdentifierDob,
            Qi::Enrolled => C::ProgramEnrollment,
            Qi::Site => C::ProgramSite,
            Qi::Nationality => C::DemographicNationality,
            Qi::Language => C::DemographicLanguage,
            // Decided with the exit group below: outcomes the policy allows or not.
            Qi::Periods | Qi::Status => continue,
        };
        if at_least(category, Treatment::Coarsen) {
            coarse.push(qi);
        } else {
            omitted.push(format!("{}: the policy keeps {category} from the evaluator", qi.name()));
        }
    }
    let mut group = |name: &str, categories: &[C]| {
        let denied: Vec<String> =
            categories.iter().filter(|c| !at_least(**c, Treatment::Pseudonymize)).map(ToString::to_string).collect();
        if !denied.is_empty() {
            omitted.push(format!("{name}: the policy keeps {} from the evaluator", denied.join(", ")));
        }
        denied.is_empty()
    };
    let hearings = group("hearings_attended, hearings_missed", &[C::ObligationCourtNext, C::LegalCase]);
    let check_ins =
        group("check_ins_attended, check_ins_missed", &[C::ObligationReportingNext, C::ObligationReportingAttendance]);
    let services = group("services_*", &[C::ServiceEvent]);
    let exit = group("exit_group, periods_enrolled", &[C::ProgramExit, C::ProgramEnrollment]);
    let qis = Qi::ALL
        .into_iter()
        .filter(|q| if matches!(q, Qi::Periods | Qi::Status) { exit } else { coarse.contains(q) })
        .collect();
    Ok(Allowed { qis, hearings, check_ins, services, exit, omitted })
}

/// One participant before protection.
#[derive(Clone)]
struct Row {
    person: String,
    arm: Arm,
    detail: Detail,
    hearings: (i32, i32),
    check_ins: (i32, i32),
    services: Vec<i32>,
    exit_group: &'static str,
    /// Enrollment to exit (or the extract's date): the days the board's tables count them.
    enrolled: (Date, Date),
    /// Whether the client has exited by the extract's date (an outside list knows it).
    exited: bool,
    /// The day of that exit.
    exit_day: Option<Date>,
    /// Its outcomes as [`Features`], each with the day the board's tables count it.
    events: Vec<(u32, Date)>,
}

/// The exit groups: what an evaluation compares, without the detail of why.
fn exit_group(reason: Option<ExitReason>) -> &'static str {
    match reason {
        None => "active",
        Some(ExitReason::Completed | ExitReason::ReliefGranted | ExitReason::CaseTerminated) => "completed",
        Some(ExitReason::RemovalOrder | ExitReason::VoluntaryDeparture | ExitReason::Departed) => "departed",
        Some(ExitReason::LostContact) => "lost_contact",
        Some(ExitReason::Detained) => "detained",
        Some(_) => "left",
    }
}

/// Accumulates an evaluation's participants, one client at a time.
pub(crate) struct Builder {
    options: ExtractOptions,
    pseudonymizer: Pseudonymizer,
    today: Date,
    rows: Vec<Row>,
    /// The participants' canonical A-numbers, in `rows` order: the vault keeps a keyed index of
    /// them so that a later extract of an overlapping set of people can be refused.
    a_numbers: Vec<String>,
}

impl Builder {
    pub(crate) fn new(options: ExtractOptions, pseudonymizer: Pseudonymizer, today: Date) -> Self {
        Self { options, pseudonymizer, today, rows: Vec::new(), a_numbers: Vec::new() }
    }

    /// Adds a client when it is a participant of the evaluation; VAWA-grantee clients never.
    pub(crate) fn add(&mut self, c: &ClientRecord) {
        let (Some(identity), Some(enrollment)) = (c.identity(), c.enrollment()) else { return };
        if enrollment.vawa_grantee {
            return;
        }
        let Some(randomization) = &enrollment.randomization else { return };
        if !self.options.selections.is_empty() && !self.options.selections.contains(&randomization.selection_id) {
            return;
        }
        let today = self.today;
        let age = identity.dob.as_ref().map(|b| {
            let years = enrollment.enrolled_on.year() - i32::from(b.year);
            // Month precision or better: subtract a year when the birthday had not come yet.
            let before = b.month.is_some_and(|m| m > enrollment.enrolled_on.month());
            u16::try_from(years - i32::from(before)).unwrap_or(0)
        });
        let exit = enrollment.exit.as_ref().filter(|x| x.date <= today);
        let end = exit.map_or(today, |x| x.date);
        // Outcomes count from enrollment to exit (or today), both days counted, as the board's
        // tables count them: what happened before enrollment is no outcome of the program, and
        // only then does a zero in the tables say exactly what a row holds (see `Sensitive`).
        let during = |d: Date| enrollment.enrolled_on <= d && d <= end;
        let (mut hearings, mut check_ins) = ((0, 0), (0, 0));
        let mut services = vec![0i32; ServiceKind::ALL.len()];
        for r in &c.records {
            match &r.record {
                Record::Hearing(h) if during(h.date) => match h.outcome {
                    Some(HearingOutcome::InAbsentia) => hearings.1 += 1,
                    Some(_) => hearings.0 += 1,
                    None => {}
                },
                Record::CheckIn(x) if during(x.date) => match x.attendance {
                    Some(Attendance::Attended) => check_ins.0 += 1,
                    Some(Attendance::Missed) => check_ins.1 += 1,
                    _ => {}
                },
                Record::Service(s) if during(s.date) => {
                    if let Some(i) = ServiceKind::ALL.iter().position(|k| *k == s.kind) {
                        if let Some(slot) = services.get_mut(i) {
                            *slot += 1;
                        }
                    }
                }
                _ => {}
            }
        }
        let days = if enrollment.enrolled_on <= end { end.days_since(enrollment.enrolled_on) + 1 } else { 0 };
        let periods = i32::try_from(days / 30).unwrap_or(i32::MAX);
        let detail = Detail {
            age,
            enrolled: (enrollment.enrolled_on.year(), enrollment.enrolled_on.month()),
            site: enrollment.site.clone(),
            nationality: in_vocabulary(NATIONALITIES, identity.nationality.first()),
            language: in_vocabulary(LANGUAGES, identity.languages.first()),
            periods,
            exited: exit.is_some(),
        };
        let events = board_events(c, enrollment.enrolled_on, end, exit);
        self.rows.push(Row {
            person: self.pseudonymizer.pseudonym(&identity.a_number).to_string(),
            arm: randomization.arm,
            detail,
            hearings,
            check_ins,
            services,
            exit_group: exit_group(exit.map(|x| x.reason)),
            enrolled: (enrollment.enrolled_on, end),
            exited: exit.is_some(),
            exit_day: exit.map(|x| x.date),
            events,
        });
        self.a_numbers.push(identity.a_number.as_str().to_owned());
    }

    /// Protects the rows and writes the Parquet file; returns it and its dictionary.
    pub(crate) fn finish(
        mut self,
        provider: &str,
        allowed: &Allowed,
        released: &[crate::report::Report],
    ) -> Result<(Vec<u8>, Dictionary, Vec<String>)> {
        let k = usize::try_from(self.options.k).unwrap_or(usize::MAX);
        if self.rows.len() < k {
            return Err(Error::input(format!(
                "evaluation {} has {} participant(s) to extract, fewer than k = {}: no extract can keep every class at k",
                self.options.evaluation,
                self.rows.len(),
                self.options.k
            )));
        }
        let a_numbers = std::mem::take(&mut self.a_numbers);
        // Row order must not follow the vault's order (enrollment order would rank people).
        self.rows.sort_by(|a, b| a.person.cmp(&b.person));
        let details: Vec<Detail> = self.rows.iter().map(|r| r.detail.clone()).collect();
        let features = Features::published(allowed);
        let released = Released::read(released);
        // Exits are shown up to the end of the last quarter whose report the board holds: table
        // 18 of that quarter is frozen, so what it lets a reader clear is known exactly.
        let cutoff = released.cutoff();
        for r in &mut self.rows {
            if let Some(day) = r.exit_day {
                if cutoff.is_none_or(|c| day > c) {
                    r.exit_group = LATER_GROUP;
                    r.events.retain(|(bit, _)| !is_exit(*bit));
                    r.events.push((LATER, day));
                }
            }
        }
        let outcomes = features.outcomes(&self.rows, &released);
        let max = self.rows.len() * usize::try_from(self.options.max_suppressed_percent).unwrap_or(0) / 100;
        let with_status =
            features.mask & (((1 << (FIRST_EXIT + EXIT_GROUPS.len() as u32)) - (1 << FIRST_EXIT)) | (1 << LATER));
        let choice =
            anonymize::anonymize(&details, &outcomes, with_status, &allowed.qis, k, max).map_err(|no| match no {
                NoNode::TooFew => Error::input(format!(
                    "evaluation {}: no generalization keeps every class at k",
                    self.options.evaluation
                )),
                NoNode::NotDiverse(bits) => Error::input(format!(
                    "evaluation {}: even the most general classes leave participants at one site whom the board's \
                 tables do not clear of an outcome ({}) all having it, so the extract beside the tables would \
                 state it about each of them; no extract is made (a policy that keeps that column from the \
                 evaluator would allow one)",
                    self.options.evaluation,
                    Features::names(bits).join(", ")
                )),
            })?;
        let kept: Vec<&Row> = self.rows.iter().zip(&choice.kept).filter(|(_, k)| **k).map(|(r, _)| r).collect();
        let mut columns = vec![
            Column { name: "person", values: Values::Text(kept.iter().map(|r| r.person.clone()).collect()) },
            Column {
                name: "arm",
                values: Values::Text(
                    kept.iter()
                        .map(|r| if r.arm == Arm::Treatment { "treatment" } else { "control" }.to_owned())
                        .collect(),
                ),
            },
        ];
        let mut info = vec![
            ("person", "text", "pseudonym of the evaluation domain, under this evaluation's epoch".to_owned()),
            ("arm", "text", "treatment (offered case management) or control".to_owned()),
        ];
        let mut generalizations = Vec::new();
        let (mut periods_level, mut status_shown) = (0, true);
        for (qi, level) in allowed.qis.iter().zip(&choice.levels) {
            let names = qi.level_names();
            let meaning = names.get(*level).copied().unwrap_or("*").to_owned();
            if *qi == Qi::Periods {
                // A number, in its place beside the exit group (below).
                periods_level = *level;
            } else if *qi == Qi::Status {
                status_shown = *level == 0;
            } else {
                let values = kept.iter().map(|r| anonymize::generalize(*qi, &r.detail, *level)).collect();
                columns.push(Column { name: qi.name(), values: Values::Text(values) });
                info.push((qi.name(), "text", format!("quasi-identifier, generalized to: {meaning}")));
            }
            generalizations.push(Generalization {
                column: qi.name().into(),
                level: u32::try_from(*level).unwrap_or(u32::MAX),
                meaning,
                hierarchy: names.iter().map(|s| (*s).to_owned()).collect(),
            });
        }
        let int = |name: &'static str, f: &dyn Fn(&Row) -> i32| Column {
            name,
            values: Values::Int(kept.iter().map(|r| f(r)).collect()),
        };
        if allowed.hearings {
            columns.push(int("hearings_attended", &|r| r.hearings.0));
            columns.push(int("hearings_missed", &|r| r.hearings.1));
            info.push((
                "hearings_attended",
                "int32",
                "court hearings held while enrolled (enrollment to exit, or as_of) with the person present".into(),
            ));
            info.push(("hearings_missed", "int32", "court hearings held while enrolled in absentia".into()));
        }
        if allowed.check_ins {
            columns.push(int("check_ins_attended", &|r| r.check_ins.0));
            columns.push(int("check_ins_missed", &|r| r.check_ins.1));
            info.push(("check_ins_attended", "int32", "ICE check-ins while enrolled marked attended".into()));
            info.push(("check_ins_missed", "int32", "ICE check-ins while enrolled marked missed".into()));
        }
        if allowed.services {
            for (i, kind) in ServiceKind::ALL.iter().enumerate() {
                let name = service_column(*kind);
                columns.push(int(name, &move |r| r.services.get(i).copied().unwrap_or(0)));
                info.push((name, "int32", format!("{} services while enrolled", kind.as_str())));
            }
        }
        if allowed.exit {
            columns.push(Column {
                name: "exit_group",
                values: Values::Text(
                    kept.iter().map(|r| (if status_shown { r.exit_group } else { "*" }).to_owned()).collect(),
                ),
            });
            columns.push(int("periods_enrolled", &|r| anonymize::periods_floor(r.detail.periods, periods_level)));
            info.push((
                "exit_group",
                "text",
                if status_shown {
                    let later = cutoff.map_or_else(
                        || "every exit, since the board holds no quarter's report yet".to_owned(),
                        |c| format!("exits after {c}, the end of the last quarter whose board report is released"),
                    );
                    format!(
                        "active, completed, departed, left, lost_contact or detained (as of as_of), or later: {later}; a \
                         quasi-identifier, since an outside list's exit dates tell who left"
                    )
                } else {
                    "* for everyone: too few left, or their outcomes would be pinned, for the exit group to be shown \
                     (a quasi-identifier, since an outside list's exit dates tell who left)"
                        .to_owned()
                },
            ));
            let band = Qi::Periods.level_names().get(periods_level).copied().unwrap_or_default();
            info.push((
                "periods_enrolled",
                "int32",
                format!(
                    "30-day periods from enrollment to exit or as_of (exact days would date the enrollment); a \
                     quasi-identifier, since an outside list's dates compute it: {band}"
                ),
            ));
        }
        let mut dictionary = Dictionary {
            format: EXTRACT_FORMAT.into(),
            provider: provider.to_owned(),
            evaluation: self.options.evaluation.clone(),
            selections: self.options.selections.clone(),
            as_of: self.today,
            k: self.options.k,
            records: kept.len() as u64,
            suppressed: (self.rows.len() - kept.len()) as u64,
            smallest_class: choice.smallest_class as u64,
            quasi_identifiers: generalizations,
            diverse: Features::names(u8::try_from(features.mask & anonymize::SENSITIVE).unwrap_or(0)),
            columns: info
                .into_iter()
                .map(|(n, t, m)| ColumnInfo { name: n.into(), kind: t.into(), meaning: m })
                .collect(),
            omitted: allowed.omitted.clone(),
            never_included: vec![
                "free text (case notes, psychotherapy notes)".into(),
                "anything about protected relief (VAWA, T and U): the category is not even read; its clients \
                 stay rows, since leaving them out would tell a reader with a list of participants who they are"
                    .into(),
                "clients of VAWA-grantee programs (left out whole)".into(),
                "names, A-numbers, birth dates, addresses and contact details".into(),
            ],
            parquet_sha256: String::new(),
        };
        let text = serde_json::to_string(&dictionary)
            .map_err(|_| Error::internal("the dictionary could not be serialized"))?;
        let parquet = table::write(&columns, &[(DICTIONARY_KEY, text)])?;
        dictionary.parquet_sha256 = hex(ring::digest::digest(&ring::digest::SHA256, &parquet).as_ref());
        Ok((parquet, dictionary, a_numbers))
    }
}

/// What a reader can tell apart in a row's outcomes, a bit each (see [`anonymize`]): the six
/// sensitive outcomes first, then the others the board's tables also count by site and period,
/// with which a reader clears people and so narrows the rows a person may hold.
struct Features {
    /// The bits of the columns the extract publishes.
    mask: u32,
}

const MISSED_HEARING: u32 = 0;
const MISSED_CHECK_IN: u32 = 1;
const MENTAL_HEALTH: u32 = 2;
/// Exit groups, from this bit on, in the order of [`EXIT_GROUPS`]: the three sensitive ones,
/// then the two plain ones.
const FIRST_EXIT: u32 = 3;
const EXIT_GROUPS: [&str; 5] = ["detained", "departed", "lost_contact", "completed", "left"];
const ATTENDED_HEARING: u32 = 8;
const ATTENDED_CHECK_IN: u32 = 9;
/// Services of the kinds table 07b counts, from this bit on, in its order.
const FIRST_SERVICE: u32 = 10;
/// Left after the last quarter whose report the board holds: the exit group says only that.
const LATER: u32 = 21;
const LATER_GROUP: &str = "later";

impl Features {
    /// What each sensitive bit means, for errors and the dictionary.
    const SENSITIVE_NAMES: [&'static str; 6] = [
        "a missed hearing (hearings_missed above 0)",
        "a missed check-in (check_ins_missed above 0)",
        "mental-health care (services_mental_health above 0)",
        "exit_group detained",
        "exit_group departed",
        "exit_group lost_contact",
    ];

    /// The features of the columns `allowed` publishes.
    fn published(allowed: &Allowed) -> Self {
        let mut mask = 0u32;
        let mut on = |bit: u32, yes: bool| mask |= u32::from(yes) << bit;
        on(MISSED_HEARING, allowed.hearings);
        on(ATTENDED_HEARING, allowed.hearings);
        on(MISSED_CHECK_IN, allowed.check_ins);
        on(ATTENDED_CHECK_IN, allowed.check_ins);
        on(MENTAL_HEALTH, allowed.services);
        for i in 0..u32::try_from(SERVICE_COLS.len()).unwrap_or(0) {
            on(FIRST_SERVICE + i, allowed.services);
        }
        for i in 0..EXIT_GROUPS.len() as u32 {
            on(FIRST_EXIT + i, allowed.exit);
        }
        on(LATER, allowed.exit);
        Self { mask }
    }

    /// The feature of a service kind, when the tables count it.
    fn service(kind: ServiceKind) -> Option<u32> {
        if kind == ServiceKind::MentalHealth {
            return Some(MENTAL_HEALTH);
        }
        let i = SERVICE_COLS.iter().position(|c| *c == kind.as_str())?;
        Some(FIRST_SERVICE + u32::try_from(i).ok()?)
    }

    /// The period a table counts a feature's event in: months for services by kind (07b),
    /// half-years for mental-health care (07c), quarters for hearings, check-ins and exits
    /// (11a, 11b, 13, 18). As a number of such periods since year 0.
    fn period(bit: u32, d: Date) -> i32 {
        Self::months_index(Self::months(bit), d)
    }

    /// How many months a feature's table period spans.
    fn months(bit: u32) -> i32 {
        match bit {
            MENTAL_HEALTH => 6,
            b if b >= FIRST_SERVICE => 1,
            _ => 3,
        }
    }

    /// The index of the period of `months` months holding `d`.
    fn months_index(months: i32, d: Date) -> i32 {
        d.year() * 12 / months + (i32::from(d.month()) - 1) / months
    }

    /// Each row's outcomes, and which of them a reader of the board's tables could rule out.
    ///
    /// A row is cleared of an outcome it lacks when, in every period its enrollment touches,
    /// a released report published 0 at its site, or the count the data would give is
    /// accounted for by people enrolled only within that period (a reader holding the list can
    /// set their rows' counts against the table, so a count that is all theirs is a zero for
    /// everyone else); every site row and every period, even one not released yet, is taken
    /// as published, and only these rows' own events count, so rows are cleared at least as
    /// often as a reader could clear them. For exits: when it has not exited, left `later`, or
    /// table 18 (provider-wide) published 0 for its way out in its exit's quarter. A row with
    /// an outcome is never cleared of it.
    fn outcomes(&self, rows: &[Row], released: &Released) -> Vec<Outcomes> {
        let inside =
            |r: &Row, bit: u32, p: i32| Self::period(bit, r.enrolled.0) == p && Self::period(bit, r.enrolled.1) == p;
        let mut counted: HashSet<(&str, u32, i32)> = HashSet::new();
        for r in rows {
            for (bit, day) in &r.events {
                let p = Self::period(*bit, *day);
                if is_exit(*bit) || *bit == LATER {
                    // Exits clear by table 18's released cells only.
                } else if !inside(r, *bit, p) {
                    counted.insert((r.detail.site.as_str(), *bit, p));
                }
            }
        }
        let must = self.forced(rows);
        rows.iter()
            .map(|r| {
                let site = r.detail.site.as_str();
                let has = r.events.iter().fold(0u32, |h, (bit, _)| h | (1 << bit)) & self.mask;
                let mut cleared = 0u32;
                for bit in 0..32u32 {
                    if self.mask & (1 << bit) == 0 || has & (1 << bit) != 0 {
                        continue;
                    }
                    let clear = if is_exit(bit) {
                        // Exits shown lie in released quarters: table 18 (provider-wide) clears
                        // by its published zero.
                        let q = Self::period(bit, r.enrolled.1);
                        r.exit_group == LATER_GROUP || !r.exited || released.zeros.contains(&(String::new(), bit, q))
                    } else if bit == LATER {
                        // The list's exit dates and the dictionary's cutoff say who left later.
                        true
                    } else {
                        // A period clears by a published zero (even one later records
                        // contradict), or whenever the people enrolled only within it could
                        // account for its count (as if it were published, released or not).
                        let (from, to) = (Self::period(bit, r.enrolled.0), Self::period(bit, r.enrolled.1));
                        (from..=to).all(|p| {
                            released.zeros.contains(&(site.to_owned(), bit, p)) || !counted.contains(&(site, bit, p))
                        })
                    };
                    cleared |= u32::from(clear) << bit;
                }
                Outcomes { has, cleared, must: must(r) & has }
            })
            .collect()
    }

    /// What the tables may force on each row: a persons table whose count equals everyone at
    /// the site in the period (07b by month, 07c by half-year) says each of them had the
    /// feature, and table 09's "no" at 0 says everyone active at a quarter's end had legal
    /// orientation. Worked out from these rows alone, as if every such table were published: a
    /// period where every participant present had it is taken as forced (the board also counts
    /// people who are not participants, so it forces less).
    fn forced(&self, rows: &[Row]) -> impl Fn(&Row) -> u32 {
        let features: Vec<u32> = (MENTAL_HEALTH..=MENTAL_HEALTH)
            .chain(FIRST_SERVICE..FIRST_SERVICE + SERVICE_COLS.len() as u32)
            .filter(|b| self.mask & (1 << b) != 0)
            .collect();
        // (site, feature, period) where some participant present lacked the feature in it.
        let mut lacking: HashSet<(String, u32, i32)> = HashSet::new();
        let mut had: HashSet<(String, u32, i32)> = HashSet::new();
        for r in rows {
            for &bit in &features {
                let months = Self::months(bit);
                let with: HashSet<i32> =
                    r.events.iter().filter(|(b, _)| *b == bit).map(|(_, d)| Self::period(bit, *d)).collect();
                for p in Self::months_index(months, r.enrolled.0)..=Self::months_index(months, r.enrolled.1) {
                    let key = (r.detail.site.clone(), bit, p);
                    if with.contains(&p) {
                        had.insert(key);
                    } else {
                        lacking.insert(key);
                    }
                }
            }
        }
        // Legal orientation by each quarter's end, for everyone active then (09).
        let lo = SERVICE_COLS.iter().position(|c| *c == "legal_orientation").map(|i| FIRST_SERVICE + i as u32);
        let active_at = |r: &Row, end: Date| r.enrolled.0 <= end && (!r.exited || r.enrolled.1 > end);
        let mut lo_lacking: HashSet<(String, i32)> = HashSet::new();
        if let Some(lo) = lo.filter(|b| self.mask & (1 << b) != 0) {
            for r in rows {
                for q in Self::months_index(3, r.enrolled.0)..=Self::months_index(3, r.enrolled.1) {
                    let Some(end) = quarter_last_day(q) else { continue };
                    if active_at(r, end) && !r.events.iter().any(|(b, d)| *b == lo && *d <= end) {
                        lo_lacking.insert((r.detail.site.clone(), q));
                    }
                }
            }
        }
        move |r: &Row| {
            let mut out = 0u32;
            for &bit in &features {
                let months = Self::months(bit);
                let forced =
                    (Self::months_index(months, r.enrolled.0)..=Self::months_index(months, r.enrolled.1)).any(|p| {
                        let key = (r.detail.site.clone(), bit, p);
                        had.contains(&key) && !lacking.contains(&key)
                    });
                out |= u32::from(forced) << bit;
            }
            if let Some(lo) = lo {
                let forced = (Self::months_index(3, r.enrolled.0)..=Self::months_index(3, r.enrolled.1)).any(|q| {
                    quarter_last_day(q).is_some_and(|end| active_at(r, end))
                        && !lo_lacking.contains(&(r.detail.site.clone(), q))
                });
                out |= u32::from(forced) << lo;
            }
            out
        }
    }

    fn names(bits: u8) -> Vec<String> {
        Self::SENSITIVE_NAMES
            .iter()
            .enumerate()
            .filter(|(bit, _)| bits & (1 << bit) != 0)
            .map(|(_, n)| (*n).to_owned())
            .collect()
    }
}

/// The last day of quarter `q` (counted as in [`Features::months_index`] with 3 months).
fn quarter_last_day(q: i32) -> Option<Date> {
    let month = u8::try_from(q.rem_euclid(4) * 3 + 3).ok()?;
    crate::report::Period::new(q.div_euclid(4), month).ok().map(crate::report::Period::last_day)
}

fn is_exit(bit: u32) -> bool {
    (FIRST_EXIT..FIRST_EXIT + EXIT_GROUPS.len() as u32).contains(&bit)
}

/// What the board's released tables say of the features: the zeros a reader clears people with.
#[derive(Default)]
pub(crate) struct Released {
    /// (site, or empty for table 18's provider-wide row; feature; period) published as 0 in
    /// some release or revision: for that period and site, a reader clears everyone of the
    /// feature, even a record entered after the release says otherwise.
    zeros: HashSet<(String, u32, i32)>,
    /// The periods the board holds a report for, as (months in the period, period): the last
    /// quarter among them is where exits stop being shown.
    periods: HashSet<(i32, i32)>,
}

impl Released {
    /// The last day of the last quarter whose report the board holds.
    fn cutoff(&self) -> Option<Date> {
        quarter_last_day(self.periods.iter().filter(|(months, _)| *months == 3).map(|(_, q)| *q).max()?)
    }

    /// Reads the tables of `reports` that count a feature by site or provider.
    pub(crate) fn read(reports: &[crate::report::Report]) -> Self {
        let mut out = Self::default();
        for report in reports {
            let spans = report.period.closing_spans();
            for span in &spans {
                let months = match span.grain {
                    crate::report::Grain::Month => 1,
                    crate::report::Grain::Quarter => 3,
                    crate::report::Grain::HalfYear => 6,
                    _ => continue,
                };
                out.periods.insert((months, Features::months_index(months, span.start)));
            }
            for t in &report.tables {
                let Some(span) = spans.iter().find(|s| s.label == t.covers) else { continue };
                // For each feature the table counts: the columns that must all be 0.
                let features: Vec<(u32, Vec<&str>)> = match t.id.as_str() {
                    "11a" => vec![(ATTENDED_HEARING, vec!["appeared"]), (MISSED_HEARING, vec!["missed"])],
                    "11b" => vec![(MISSED_HEARING, vec!["one or more missed"])],
                    "13" => vec![(ATTENDED_CHECK_IN, vec!["attended"]), (MISSED_CHECK_IN, vec!["missed"])],
                    "07c" => vec![(MENTAL_HEALTH, vec!["persons"])],
                    "07b" => SERVICE_COLS.iter().zip(FIRST_SERVICE..).map(|(c, bit)| (bit, vec![*c])).collect(),
                    "18" => {
                        vec![
                            (FIRST_EXIT, vec!["detained"]),
                            (FIRST_EXIT + 1, vec!["removal order", "departed"]),
                            (FIRST_EXIT + 2, vec!["lost contact"]),
                            (FIRST_EXIT + 3, vec!["resolved", "relief"]),
                            (FIRST_EXIT + 4, vec!["moved", "withdrew", "other"]),
                        ]
                    }
                    _ => continue,
                };
                if t.withheld {
                    continue;
                }
                for (r, row) in t.rows.iter().enumerate() {
                    let site = if t.id == "18" { String::new() } else { row.clone() };
                    for (bit, columns) in &features {
                        let cells: Vec<Option<&crate::report::Cell>> = columns
                            .iter()
                            .map(|c| t.columns.iter().position(|x| x == c).and_then(|i| t.cell(r, i)))
                            .collect();
                        let key = (site.clone(), *bit, Features::period(*bit, span.start));
                        if cells.iter().all(|c| *c == Some(&crate::report::Cell::Count(0))) {
                            out.zeros.insert(key);
                        }
                    }
                }
            }
        }
        out
    }
}

/// A client's outcomes on the days the board's tables count them: during enrollment (`from`
/// to `to`, both counted), hearings by whether they were missed, check-ins by attendance,
/// services of the kinds the tables count, and the exit in its group.
fn board_events(c: &ClientRecord, from: Date, to: Date, exit: Option<&crate::record::Exit>) -> Vec<(u32, Date)> {
    let during = |d: Date| from <= d && d <= to;
    let mut out = Vec::new();
    for r in &c.records {
        match &r.record {
            Record::Hearing(h) if during(h.date) => match h.outcome {
                Some(HearingOutcome::InAbsentia) => out.push((MISSED_HEARING, h.date)),
                Some(_) => out.push((ATTENDED_HEARING, h.date)),
                None => {}
            },
            Record::CheckIn(x) if during(x.date) => match x.attendance {
                Some(Attendance::Missed) => out.push((MISSED_CHECK_IN, x.date)),
                Some(Attendance::Attended) => out.push((ATTENDED_CHECK_IN, x.date)),
                _ => {}
            },
            Record::Service(s) if during(s.date) => {
                if let Some(bit) = Features::service(s.kind) {
                    out.push((bit, s.date));
                }
            }
            _ => {}
        }
    }
    if let Some(x) = exit {
        let group = exit_group(Some(x.reason));
        if let Some(i) = EXIT_GROUPS.iter().position(|g| *g == group) {
            out.push((FIRST_EXIT + i as u32, x.date));
        }
    }
    out
}

/// The Parquet column of a service kind: `services_` and its stable name.
fn service_column(kind: ServiceKind) -> &'static str {
    match kind {
        ServiceKind::LegalOrientation => "services_legal_orientation",
        ServiceKind::LegalServices => "services_legal_services",
        ServiceKind::CulturalOrientation => "services_cultural_orientation",
        ServiceKind::MentalHealth => "services_mental_health",
        ServiceKind::HealthEnrollment => "services_health_enrollment",
        ServiceKind::Itin => "services_itin",
        ServiceKind::Food => "services_food",
        ServiceKind::Housing => "services_housing",
        ServiceKind::Language => "services_language",
        ServiceKind::School => "services_school",
        ServiceKind::Transport => "services_transport",
        ServiceKind::Employment => "services_employment",
        ServiceKind::Departure => "services_departure",
        ServiceKind::Reintegration => "services_reintegration",
    }
}

/// Checks an evaluation id: `a-z`, `0-9` and `-`, 1 to 32 characters (it is the epoch).
pub fn check_evaluation(id: &str) -> Result<()> {
    crate::pseudonym::Epoch::new(id)
        .map(|_| ())
        .map_err(|_| Error::input("an evaluation id is 1 to 32 characters of a-z, 0-9 and '-'"))
}

/// Signs a dictionary with the provider's key.
pub(crate) fn sign(dictionary: &Dictionary, key: &SigningKey) -> Result<Vec<u8>> {
    crate::signed::sign(SIGNING_CONTEXT, SIGNED_FORMAT, dictionary, key)
}

fn decrypt(bytes: &[u8], identity: &RecoveryIdentity) -> Result<Vec<u8>> {
    let decryptor = age::Decryptor::new_buffered(bytes).map_err(|_| Error::input("not an age file"))?;
    let reader = decryptor.decrypt(std::iter::once(identity.inner() as &dyn age::Identity)).map_err(|e| match e {
        age::DecryptError::NoMatchingKeys => Error::WrongKey("this identity is not a recipient of the extract"),
        _ => Error::input("the extract is not a readable age file (truncated or altered)"),
    })?;
    let mut out = Vec::new();
    reader.take(1 << 31).read_to_end(&mut out).map_err(|_| Error::input("the extract could not be read"))?;
    Ok(out)
}

/// Opens an extract as the evaluator: decrypts the Parquet file and the signed dictionary with
/// the evaluator's identity, verifies the signature (against the provider's registered key when
/// a registry is given) and that the dictionary names this very Parquet file.
pub fn open(
    parquet_age: &[u8],
    dictionary_age: &[u8],
    identity: &RecoveryIdentity,
    registry: Option<&Registry>,
) -> Result<OpenedExtract> {
    let refused = |what: &str| Error::Bundle(crate::report::bundle::BundleProblem::Malformed(what.to_owned()));
    let signed = decrypt(dictionary_age, identity)?;
    let (dictionary, signer): (Dictionary, String) = crate::signed::open(SIGNING_CONTEXT, SIGNED_FORMAT, &signed)
        .map_err(|e| match e {
            crate::signed::Problem::Malformed(what) => refused(what),
            crate::signed::Problem::BadSignature => Error::Bundle(crate::report::bundle::BundleProblem::BadSignature),
        })?;
    if dictionary.format != EXTRACT_FORMAT {
        return Err(refused("not an extract dictionary"));
    }
    if let Some(reg) = registry {
        let registered = reg.providers.get(&dictionary.provider).ok_or_else(|| {
            Error::Bundle(crate::report::bundle::BundleProblem::UnknownProvider(dictionary.provider.clone()))
        })?;
        if format!("ed25519:{}", hex(&parse_public_key(registered)?)) != signer {
            return Err(Error::Bundle(crate::report::bundle::BundleProblem::WrongSigner(dictionary.provider.clone())));
        }
    }
    let parquet = decrypt(parquet_age, identity)?;
    if hex(ring::digest::digest(&ring::digest::SHA256, &parquet).as_ref()) != dictionary.parquet_sha256 {
        return Err(refused("the Parquet file is not the one the dictionary signs"));
    }
    Ok(OpenedExtract { parquet, dictionary, signer })
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::indexing_slicing, reason = "tests")]

    use super::*;

    fn day(m: u8, d: u8) -> Date {
        Date::from_ymd(2026, m, d).unwrap()
    }

    /// A participant at `site`, enrolled `from` to `to` (exited on `to` when `exited`).
    fn row(site: &str, from: Date, to: Date, exited: bool, events: Vec<(u32, Date)>) -> Row {
        Row {
            person: String::new(),
            arm: Arm::Treatment,
            detail: Detail {
                age: Some(30),
                enrolled: (from.year(), from.month()),
                site: site.into(),
                nationality: "MX",
                language: "es",
                periods: 0,
                exited,
            },
            hearings: (0, 0),
            check_ins: (0, 0),
            services: vec![0; ServiceKind::ALL.len()],
            exit_group: if exited { "completed" } else { "active" },
            enrolled: (from, to),
            exited,
            exit_day: exited.then_some(to),
            events,
        }
    }

    const ALL: Features = Features { mask: u32::MAX };
    const MISSED: u32 = 1 << MISSED_CHECK_IN;

    #[test]
    fn a_count_only_people_inside_its_period_make_up_clears_everyone_else() {
        // Site A. X, enrolled within the third quarter only, missed a check-in in it; Y, enrolled
        // from June to December, missed none. A reader sets X's row against the quarter's count:
        // all of it is X's, so Y is cleared.
        let x = row("A", day(7, 1), day(9, 20), true, vec![(MISSED_CHECK_IN, day(8, 1))]);
        let y = row("A", day(6, 1), day(12, 1), false, vec![]);
        let out = ALL.outcomes(&[x.clone(), y.clone()], &Released::default());
        assert_eq!(out[0].has & MISSED, MISSED);
        assert_eq!(out[0].cleared & MISSED, 0, "a positive is never cleared");
        assert_eq!(out[1].cleared & MISSED, MISSED);
        // Z, enrolled beyond the quarter, missed one in it too: the count is no longer X's alone.
        let z = row("A", day(5, 1), day(12, 1), false, vec![(MISSED_CHECK_IN, day(9, 1))]);
        let out = ALL.outcomes(&[x.clone(), y.clone(), z.clone()], &Released::default());
        assert_eq!(out[1].cleared & MISSED, 0);
        // A zero the board already holds clears Y whatever the records say now.
        let mut released = Released::default();
        released.zeros.insert(("A".into(), MISSED_CHECK_IN, Features::period(MISSED_CHECK_IN, day(8, 1))));
        let out = ALL.outcomes(&[x, y, z], &released);
        assert_eq!(out[1].cleared & MISSED, MISSED);
    }

    #[test]
    fn a_table_counting_everyone_present_forces_the_outcome_on_each() {
        // Site B in August: both participants present had food (07b), so it is forced on both;
        // C, also present, had none in August, and then nothing is forced in August.
        let food = Features::service(ServiceKind::Food).unwrap();
        let a = row("B", day(8, 1), day(11, 30), false, vec![(food, day(8, 3))]);
        let b = row("B", day(7, 1), day(11, 30), false, vec![(food, day(8, 20))]);
        let forced = ALL.outcomes(&[a.clone(), b.clone()], &Released::default());
        assert!(forced.iter().all(|o| o.must & (1 << food) != 0), "{forced:?}");
        let c = row("B", day(8, 5), day(11, 30), false, vec![(food, day(9, 1))]);
        let out = ALL.outcomes(&[a, b, c], &Released::default());
        assert_eq!(out[0].must & (1 << food), 0, "{out:?}");
        assert_eq!(out[2].must & (1 << food), 0, "C had food in September, but A and B, present too, had none");
    }

    #[test]
    fn legal_orientation_by_a_quarters_end_is_forced_when_everyone_active_had_it() {
        // Table 09: everyone active at site C on 30 September had legal orientation by then.
        let lo = Features::service(ServiceKind::LegalOrientation).unwrap();
        let a = row("C", day(7, 1), day(12, 1), false, vec![(lo, day(7, 3))]);
        let b = row("C", day(8, 1), day(12, 1), false, vec![(lo, day(9, 29))]);
        let out = ALL.outcomes(&[a.clone(), b.clone()], &Released::default());
        assert!(out.iter().all(|o| o.must & (1 << lo) != 0), "{out:?}");
        // D, active at every quarter's end since September, never had it: nothing is forced.
        // (Enrolled in July with A, so 07b's July count does not force it on A either.)
        let d = row("C", day(7, 1), day(12, 1), false, vec![]);
        let out = ALL.outcomes(&[a.clone(), b.clone(), d], &Released::default());
        assert_eq!(out[0].must & (1 << lo), 0, "{out:?}");
        // E had it only in October: by 30 September not everyone had, but by the end of
        // December (a report still to come, taken as published) everyone active had.
        let e = row("C", day(7, 1), day(12, 1), false, vec![(lo, day(10, 2))]);
        let out = ALL.outcomes(&[a, b, e], &Released::default());
        assert!(out.iter().all(|o| o.must & (1 << lo) != 0), "{out:?}");
    }

    #[test]
    fn exits_after_the_last_released_quarter_read_later() {
        let mut released = Released::default();
        released.periods.insert((3, Features::months_index(3, day(9, 1))));
        assert_eq!(released.cutoff(), Some(day(9, 30)));
        assert_eq!(Released::default().cutoff(), None);
    }
}
