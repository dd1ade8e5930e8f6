//! Evaluator extracts: pseudonymized, k-anonymous microdata of an evaluation's participants, as
//! a Parquet file with a signed data dictionary, both age-encrypted to the evaluator.
//!
//! One row per randomized participant: a pseudonym of the `evaluation` domain under the
//! evaluation's own epoch (so two evaluations cannot be joined by pseudonym), the arm,
//! coarsened quasi-identifiers (age band, enrollment month, site, grouped nationality and
//! language), and outcomes (hearings attended and missed, check-ins attended and missed,
//! services by category, exit group, 30-day periods enrolled). Never included: free text,
//! anything about protected relief, clients of VAWA-grantee programs (left out whole), and,
//! unless the policy lets the evaluator count protected relief, clients with it (left out whole;
//! the category is read only to leave them out).
//!
//! Each column needs the policy's leave for the `evaluator` audience: `coarsen` for a
//! quasi-identifier, `pseudonymize` for the pseudonym, the arm and the outcomes. A column the
//! policy does not allow is left out, and the dictionary says so; the pseudonym and the arm are
//! required. The quasi-identifiers are then generalized, and records suppressed, until every
//! class has k or more records (full-domain generalization, then suppression).
//!
//! An evaluation is extracted once. Two extracts of the same people taken at different times
//! could be differenced (a person who joined in between stands alone in the difference), so a
//! second extract of an evaluation is refused; new data go out as a new evaluation, under a new
//! epoch.

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
use crate::report::indicator::{in_vocabulary, LANGUAGES, NATIONALITIES};
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
    /// The sensitive outcomes kept diverse: in every published class, at every site of it,
    /// some participant does not have each of them.
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
pub(crate) const READS: [C; 15] = [
    C::IdentifierAlienNumber,
    C::IdentifierDob,
    C::DemographicNationality,
    C::DemographicLanguage,
    C::ProgramSite,
    C::ProgramEnrollment,
    C::ProgramExit,
    C::EvaluationRandomization,
    C::RegimeVawaGrantee,
    // Read only to leave such clients out; nothing of it is published.
    C::LegalReliefProtected,
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
    /// Clients with protected relief may be rows (the policy lets the evaluator count it).
    pub relief_counted: bool,
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
    let mut qis = Vec::new();
    for qi in Qi::ALL {
        let category = match qi {
            Qi::AgeBand => C::IdentifierDob,
            Qi::Enrolled => C::ProgramEnrollment,
            Qi::Site => C::ProgramSite,
            Qi::Nationality => C::DemographicNationality,
            Qi::Language => C::DemographicLanguage,
        };
        if at_least(category, Treatment::Coarsen) {
            qis.push(qi);
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
    let relief_counted = at_least(C::LegalReliefProtected, Treatment::Aggregate);
    Ok(Allowed { qis, hearings, check_ins, services, exit, relief_counted, omitted })
}

/// One participant before protection.
struct Row {
    person: String,
    arm: Arm,
    detail: Detail,
    hearings: (i32, i32),
    check_ins: (i32, i32),
    services: Vec<i32>,
    exit_group: &'static str,
    /// Whole 30-day periods enrolled: exact days beside `as_of` would give the enrollment date.
    periods: i32,
    /// Whether the client has protected relief (never published; decides inclusion).
    relief: bool,
    /// Enrollment to exit (or the extract's date): the days the board's tables count them.
    enrolled: (Date, Date),
    /// Whether the client has exited by the extract's date (an outside list knows it).
    exited: bool,
    /// The sensitive outcomes, each with the day the board's tables would count it (a bit of
    /// [`Sensitive`] and a date during enrollment).
    events: Vec<(u8, Date)>,
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
        let Some(randomization) = &enrollment.randomization else { return };
        if enrollment.vawa_grantee {
            return;
        }
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
        let detail = Detail {
            age,
            enrolled: (enrollment.enrolled_on.year(), enrollment.enrolled_on.month()),
            site: enrollment.site.clone(),
            nationality: in_vocabulary(NATIONALITIES, identity.nationality.first()),
            language: in_vocabulary(LANGUAGES, identity.languages.first()),
        };
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
        let relief = c.records.iter().any(|r| matches!(&r.record, Record::Legal(l) if l.protected_relief.is_some()));
        let events = board_events(c, enrollment.enrolled_on, end, exit);
        self.rows.push(Row {
            person: self.pseudonymizer.pseudonym(&identity.a_number).to_string(),
            arm: randomization.arm,
            detail,
            hearings,
            check_ins,
            services,
            exit_group: exit_group(exit.map(|x| x.reason)),
            periods: i32::try_from(days / 30).unwrap_or(i32::MAX),
            relief,
            enrolled: (enrollment.enrolled_on, end),
            exited: exit.is_some(),
            events,
        });
        self.a_numbers.push(identity.a_number.as_str().to_owned());
    }

    /// Protects the rows and writes the Parquet file; returns it and its dictionary.
    pub(crate) fn finish(mut self, provider: &str, allowed: &Allowed) -> Result<(Vec<u8>, Dictionary, Vec<String>)> {
        if !allowed.relief_counted {
            let keep: Vec<bool> = self.rows.iter().map(|r| !r.relief).collect();
            let mut flags = keep.iter();
            self.rows.retain(|_| flags.next().copied().unwrap_or(false));
            let mut flags = keep.iter();
            self.a_numbers.retain(|_| flags.next().copied().unwrap_or(false));
        }
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
        let sensitive = Sensitive::published(allowed);
        let outcomes = sensitive.outcomes(&self.rows);
        let max = self.rows.len() * usize::try_from(self.options.max_suppressed_percent).unwrap_or(0) / 100;
        let choice = anonymize::anonymize(&details, &outcomes, &allowed.qis, k, max).map_err(|no| match no {
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
                Sensitive::names(bits).join(", ")
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
        for (qi, level) in allowed.qis.iter().zip(&choice.levels) {
            let values = kept.iter().map(|r| anonymize::generalize(*qi, &r.detail, *level)).collect();
            columns.push(Column { name: qi.name(), values: Values::Text(values) });
            let names = qi.level_names();
            let meaning = names.get(*level).copied().unwrap_or("*").to_owned();
            info.push((qi.name(), "text", format!("quasi-identifier, generalized to: {meaning}")));
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
                values: Values::Text(kept.iter().map(|r| r.exit_group.to_owned()).collect()),
            });
            columns.push(int("periods_enrolled", &|r| r.periods));
            info.push((
                "exit_group",
                "text",
                "active, completed, departed, left, lost_contact or detained (as of as_of)".into(),
            ));
            info.push((
                "periods_enrolled",
                "int32",
                "whole 30-day periods from enrollment to exit or as_of (exact days would date the enrollment)".into(),
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
            diverse: Sensitive::names(sensitive.mask),
            columns: info
                .into_iter()
                .map(|(n, t, m)| ColumnInfo { name: n.into(), kind: t.into(), meaning: m })
                .collect(),
            omitted: allowed.omitted.clone(),
            never_included: vec![
                "free text (case notes, psychotherapy notes)".into(),
                "anything about protected relief (VAWA, T and U); its clients too, unless the policy lets the \
                 evaluator count it"
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

/// The sensitive outcomes an extract keeps a reader from pinning, beside the board's tables (see
/// [`anonymize`]): a bit each.
struct Sensitive {
    /// The bits whose columns the extract publishes.
    mask: u8,
}

const MISSED_HEARING: u8 = 0;
const MISSED_CHECK_IN: u8 = 1;
const MENTAL_HEALTH: u8 = 2;
/// Exit groups, from this bit on, in the order of [`EXIT_GROUPS`].
const FIRST_EXIT: u8 = 3;
const EXIT_GROUPS: [&str; 3] = ["detained", "departed", "lost_contact"];

impl Sensitive {
    /// What each bit means, for errors and the dictionary.
    const NAMES: [&'static str; 6] = [
        "a missed hearing (hearings_missed above 0)",
        "a missed check-in (check_ins_missed above 0)",
        "mental-health care (services_mental_health above 0)",
        "exit_group detained",
        "exit_group departed",
        "exit_group lost_contact",
    ];

    /// The outcomes of the columns `allowed` publishes.
    fn published(allowed: &Allowed) -> Self {
        let on = [allowed.hearings, allowed.check_ins, allowed.services, allowed.exit, allowed.exit, allowed.exit];
        Self { mask: on.iter().enumerate().fold(0, |m, (bit, on)| m | (u8::from(*on) << bit)) }
    }

    /// Each row's outcomes, and which of them a reader of the board's tables could rule out.
    ///
    /// The tables count by site and period (quarters for hearings, check-ins and exits,
    /// half-years for mental-health care) and publish zeros. A row is cleared of an outcome
    /// when no row at its site had that outcome in any period its enrollment touches (for
    /// exits: when it has not exited, or no row at its site left that way in its exit's
    /// quarter). Only these rows' own events count, and every site row and every period, even
    /// one not released yet, is taken as published: so rows without the outcome are cleared at
    /// least as often as a reader could clear them. A row with the outcome is never cleared:
    /// the extract counts outcomes on the days the tables do, so its own event makes its
    /// period non-empty (and the rule must protect it whatever a reader can clear).
    fn outcomes(&self, rows: &[Row]) -> Vec<Outcomes> {
        let period = |bit: u8, d: Date| {
            let months = if bit == MENTAL_HEALTH { 6 } else { 3 };
            d.year() * 12 / months + (i32::from(d.month()) - 1) / months
        };
        let mut seen: HashSet<(&str, u8, i32)> = HashSet::new();
        for r in rows {
            for (bit, day) in &r.events {
                seen.insert((r.detail.site.as_str(), *bit, period(*bit, *day)));
            }
        }
        rows.iter()
            .map(|r| {
                let site = r.detail.site.as_str();
                let mut cleared = 0u8;
                for bit in [MISSED_HEARING, MISSED_CHECK_IN, MENTAL_HEALTH] {
                    let (from, to) = (period(bit, r.enrolled.0), period(bit, r.enrolled.1));
                    if (from..=to).all(|p| !seen.contains(&(site, bit, p))) {
                        cleared |= 1 << bit;
                    }
                }
                for (i, _) in EXIT_GROUPS.iter().enumerate() {
                    let bit = FIRST_EXIT + i as u8;
                    if !r.exited || !seen.contains(&(site, bit, period(bit, r.enrolled.1))) {
                        cleared |= 1 << bit;
                    }
                }
                let has = self.flags(r);
                Outcomes { has, cleared: cleared & self.mask & !has }
            })
            .collect()
    }

    /// The outcomes a row's published columns show.
    fn flags(&self, r: &Row) -> u8 {
        let mental_health = ServiceKind::ALL.iter().position(|k| *k == ServiceKind::MentalHealth);
        let mut facts = vec![
            r.hearings.1 > 0,
            r.check_ins.1 > 0,
            mental_health.and_then(|i| r.services.get(i)).is_some_and(|n| *n > 0),
        ];
        facts.extend(EXIT_GROUPS.iter().map(|g| r.exit_group == *g));
        facts.iter().enumerate().fold(0, |f, (bit, on)| f | (u8::from(*on) << bit)) & self.mask
    }

    fn names(bits: u8) -> Vec<String> {
        Self::NAMES.iter().enumerate().filter(|(bit, _)| bits & (1 << bit) != 0).map(|(_, n)| (*n).to_owned()).collect()
    }
}

/// A client's sensitive outcomes on the days the board's tables count them: during enrollment
/// (`from` to `to`, both counted), hearings in absentia, missed check-ins and mental-health
/// services, and the exit in its group.
fn board_events(c: &ClientRecord, from: Date, to: Date, exit: Option<&crate::record::Exit>) -> Vec<(u8, Date)> {
    let during = |d: Date| from <= d && d <= to;
    let mut out = Vec::new();
    for r in &c.records {
        match &r.record {
            Record::Hearing(h) if h.outcome == Some(HearingOutcome::InAbsentia) && during(h.date) => {
                out.push((MISSED_HEARING, h.date));
            }
            Record::CheckIn(x) if x.attendance == Some(Attendance::Missed) && during(x.date) => {
                out.push((MISSED_CHECK_IN, x.date));
            }
            Record::Service(s) if s.kind == ServiceKind::MentalHealth && during(s.date) => {
                out.push((MENTAL_HEALTH, s.date));
            }
            _ => {}
        }
    }
    if let Some(x) = exit {
        let group = exit_group(Some(x.reason));
        if let Some(i) = EXIT_GROUPS.iter().position(|g| *g == group) {
            out.push((FIRST_EXIT + i as u8, x.date));
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
