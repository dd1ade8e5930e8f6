//! The records apps send: a new client's intake and the case events recorded for them, with the
//! one conversion to the core's record that each `enroll`, `record_*` and `update_*` uses.

use caseward as cw;

use crate::convert::{date, opt_date};
use crate::enums::{
    Arm, Attendance, DatePrecision, DateProvenance, ExitReason, HealthKind, HearingKind, HearingOutcome, Modality,
    ProtectedReliefKind, ReferralSource, ReferralStatus, Relationship, ReleaseBasis, ScreeningKind, ServiceKind,
};
use crate::error::{invalid, CasewardError, Result};
use crate::redact::redacted_debug;

redacted_debug!(
    Name,
    BirthDate,
    Intake,
    ForeignDocument,
    Address,
    CheckIn,
    Hearing,
    Service,
    Screening,
    Referral,
    Legal,
    Health,
    Departure,
    Consent,
    Household,
    Randomization,
    Exit,
);

/// A name: the DHS verbatim form (the only form an ICE notice carries) and the client's own.
#[derive(Clone, uniffi::Record)]
pub struct Name {
    pub verbatim_dhs: String,
    #[uniffi(default = None)]
    pub verbatim_self: Option<String>,
    #[uniffi(default = [])]
    pub given: Vec<String>,
    #[uniffi(default = [])]
    pub surnames: Vec<String>,
    #[uniffi(default = None)]
    pub preferred: Option<String>,
    #[uniffi(default = [])]
    pub aliases: Vec<String>,
}

/// A birth date with its precision and provenance.
#[derive(Clone, uniffi::Record)]
pub struct BirthDate {
    pub year: u16,
    pub month: Option<u8>,
    pub day: Option<u8>,
    pub precision: DatePrecision,
    pub provenance: DateProvenance,
}

/// A new client: identity and enrollment.
#[derive(Clone, uniffi::Record)]
pub struct Intake {
    /// The A-number in any written form; refused if invalid.
    pub a_number: String,
    pub name: Name,
    #[uniffi(default = None)]
    pub birth_date: Option<BirthDate>,
    #[uniffi(default = [])]
    pub nationality: Vec<String>,
    #[uniffi(default = [])]
    pub languages: Vec<String>,
    #[uniffi(default = false)]
    pub interpreter_needed: bool,
    #[uniffi(default = None)]
    pub sex_gender: Option<String>,
    #[uniffi(default = [])]
    pub phones: Vec<String>,
    #[uniffi(default = [])]
    pub emails: Vec<String>,
    pub site: String,
    /// `YYYY-MM-DD`.
    pub enrolled_on: String,
    #[uniffi(default = None)]
    pub release_basis: Option<ReleaseBasis>,
    /// Served under a VAWA/FVPSA/VOCA grant: aggregates only, never an ICE notice.
    #[uniffi(default = false)]
    pub vawa_grantee: bool,
    /// The assigned caseworker's staff id.
    #[uniffi(default = None)]
    pub caseworker: Option<String>,
    /// Who referred the client to the program.
    #[uniffi(default = None)]
    pub referral_source: Option<ReferralSource>,
    /// Ethnicity, including Indigenous identity, as the client states it.
    #[uniffi(default = None)]
    pub ethnicity: Option<String>,
    /// ICE Subject ID from Form I-385.
    #[uniffi(default = None)]
    pub ice_subject_id: Option<String>,
    /// SSN or ITIN.
    #[uniffi(default = None)]
    pub tax_id: Option<String>,
    /// Passports, national or consular ids.
    #[uniffi(default = [])]
    pub foreign_documents: Vec<ForeignDocument>,
}

/// A foreign identity document.
#[derive(Clone, uniffi::Record)]
pub struct ForeignDocument {
    /// Passport, national id, consular id ...
    pub kind: String,
    /// The number as printed.
    pub number: String,
    /// Issuing country.
    pub country: String,
}

/// An address episode, with the filings that report it.
#[derive(Clone, uniffi::Record)]
pub struct Address {
    pub lines: Vec<String>,
    pub city: String,
    pub state: String,
    pub zip: String,
    pub moved_on: String,
    #[uniffi(default = false)]
    pub confidential: bool,
    #[uniffi(default = None)]
    pub reported_to_ice_on: Option<String>,
    #[uniffi(default = None)]
    pub ar11_filed_on: Option<String>,
    #[uniffi(default = None)]
    pub eoir33_filed_on: Option<String>,
    #[uniffi(default = None)]
    pub ice_portal_filed_on: Option<String>,
    /// The move-out date, once the client left this address.
    #[uniffi(default = None)]
    pub until: Option<String>,
    /// The AR-11 confirmation or receipt number (needs `ar11_filed_on`).
    #[uniffi(default = None)]
    pub ar11_confirmation: Option<String>,
    /// The EOIR-33 confirmation (needs `eoir33_filed_on`).
    #[uniffi(default = None)]
    pub eoir33_confirmation: Option<String>,
    /// The ICE portal confirmation (needs `ice_portal_filed_on`).
    #[uniffi(default = None)]
    pub ice_portal_confirmation: Option<String>,
}

/// An ICE check-in.
#[derive(Clone, uniffi::Record)]
pub struct CheckIn {
    pub date: String,
    #[uniffi(default = None)]
    pub time: Option<String>,
    pub office: String,
    pub modality: Modality,
    #[uniffi(default = None)]
    pub attendance: Option<Attendance>,
}

/// A court hearing.
#[derive(Clone, uniffi::Record)]
pub struct Hearing {
    pub date: String,
    #[uniffi(default = None)]
    pub time: Option<String>,
    pub court: String,
    pub kind: HearingKind,
    #[uniffi(default = None)]
    pub outcome: Option<HearingOutcome>,
}

/// A service delivered.
#[derive(Clone, uniffi::Record)]
pub struct Service {
    pub date: String,
    pub kind: ServiceKind,
    #[uniffi(default = None)]
    pub minutes: Option<u32>,
}

/// A screening.
#[derive(Clone, uniffi::Record)]
pub struct Screening {
    pub kind: ScreeningKind,
    pub date: String,
    pub instrument: String,
    pub result: String,
    pub positive: bool,
    pub referred: bool,
}

/// A referral to a partner.
#[derive(Clone, uniffi::Record)]
pub struct Referral {
    pub kind: ServiceKind,
    pub partner: String,
    pub date: String,
    pub status: ReferralStatus,
}

/// The client's immigration case.
#[derive(Clone, uniffi::Record)]
pub struct Legal {
    #[uniffi(default = None)]
    pub court: Option<String>,
    #[uniffi(default = None)]
    pub disposition: Option<String>,
    pub represented: bool,
    #[uniffi(default = [])]
    pub relief_sought: Vec<String>,
    #[uniffi(default = None)]
    pub protected_relief: Option<ProtectedReliefKind>,
    /// Since when an attorney represents the client.
    #[uniffi(default = None)]
    pub represented_since: Option<String>,
    /// The protected relief's stage (`filed`, `prima facie`, `approved` ...); `filed` when
    /// `protected_relief` is given without one.
    #[uniffi(default = None)]
    pub protected_relief_stage: Option<String>,
}

/// A health record.
#[derive(Clone, uniffi::Record)]
pub struct Health {
    pub kind: HealthKind,
    pub date: String,
    pub summary: String,
}

/// A departure plan.
#[derive(Clone, uniffi::Record)]
pub struct Departure {
    pub country: String,
    #[uniffi(default = None)]
    pub window: Option<String>,
    #[uniffi(default = None)]
    pub partner: Option<String>,
    /// Travel-document status.
    #[uniffi(default = None)]
    pub travel_documents: Option<String>,
}

/// A consent to share categories with a partner (`partner:<id>`).
#[derive(Clone, uniffi::Record)]
pub struct Consent {
    pub recipient: String,
    /// Category names, as in the policy (`service.event`, `referral.housing` ...).
    pub categories: Vec<String>,
    pub purpose: String,
    pub signed_on: String,
    pub expires_on: String,
}

/// Membership of a family case. Two clients of one family share `household_id`; a member
/// who is not the lead carries the lead's A-number (staff see it; a partner or the client's
/// own copy never does).
#[derive(Clone, uniffi::Record)]
pub struct Household {
    /// The provider's household id.
    pub household_id: String,
    /// The lead's A-number in any written form (refused if invalid); read back canonical.
    #[uniffi(default = None)]
    pub lead_a_number: Option<String>,
    /// Household size.
    #[uniffi(default = None)]
    pub size: Option<u8>,
    /// Number of minors.
    #[uniffi(default = None)]
    pub minors: Option<u8>,
    /// Relationship to the lead.
    pub relationship: Relationship,
}

/// Randomized-evaluation data.
#[derive(Clone, uniffi::Record)]
pub struct Randomization {
    /// The selection id.
    pub selection_id: String,
    /// The stratum.
    pub stratum: String,
    /// The arm.
    pub arm: Arm,
    /// When selected.
    pub selected_on: String,
}

/// A program exit.
#[derive(Clone, uniffi::Record)]
pub struct Exit {
    /// Date of exit.
    pub date: String,
    /// Why.
    pub reason: ExitReason,
}

// ---------------------------------------------------------------------------------------------
// Conversions to the core

fn birth_date(b: &BirthDate) -> Result<cw::BirthDate> {
    Ok(cw::BirthDate::new(b.year, b.month, b.day, b.precision.into(), b.provenance.into())?)
}

fn person_name(n: &Name) -> cw::PersonName {
    cw::PersonName {
        verbatim_dhs: n.verbatim_dhs.clone(),
        verbatim_self: n.verbatim_self.clone(),
        given: n.given.clone(),
        surnames: n.surnames.iter().map(|s| cw::Surname { text: s.clone(), role: cw::SurnameRole::Other }).collect(),
        preferred: n.preferred.clone(),
        aliases: n.aliases.clone(),
    }
}

pub(crate) fn intake(i: &Intake) -> Result<cw::Intake> {
    let mut identity = cw::Identity::new(&i.a_number, person_name(&i.name))?;
    identity.dob = i.birth_date.as_ref().map(birth_date).transpose()?;
    identity.nationality = i.nationality.clone();
    identity.languages = i.languages.clone();
    identity.interpreter_needed = i.interpreter_needed;
    identity.sex_gender = i.sex_gender.clone();
    identity.ethnicity = i.ethnicity.clone();
    identity.ice_subject_id = i.ice_subject_id.clone();
    identity.tax_id = i.tax_id.clone();
    identity.foreign_documents = i.foreign_documents.iter().map(Into::into).collect();
    identity.phones = i.phones.clone();
    identity.emails = i.emails.clone();
    let mut enrollment = cw::Enrollment::new(i.site.clone(), date(&i.enrolled_on)?);
    enrollment.release_basis = i.release_basis.map(Into::into);
    enrollment.vawa_grantee = i.vawa_grantee;
    enrollment.caseworker = i.caseworker.clone();
    enrollment.referral_source = i.referral_source.map(Into::into);
    Ok(cw::Intake { identity, enrollment, records: Vec::new() })
}

fn filing(filed_on: &Option<String>, confirmation: &Option<String>, form: &str) -> Result<Option<cw::Filing>> {
    match opt_date(filed_on)? {
        Some(filed_on) => Ok(Some(cw::Filing { filed_on, confirmation: confirmation.clone() })),
        None if confirmation.is_some() => Err(invalid(&format!("an {form} confirmation needs the date it was filed"))),
        None => Ok(None),
    }
}

impl From<&ForeignDocument> for cw::ForeignDocument {
    fn from(d: &ForeignDocument) -> Self {
        Self { kind: d.kind.clone(), number: d.number.clone(), country: d.country.clone() }
    }
}

// Binding records to core records: the one conversion each `record_*` and `update_*` uses.

impl TryFrom<Address> for cw::AddressEpisode {
    type Error = CasewardError;
    fn try_from(a: Address) -> Result<Self> {
        Ok(Self {
            moved_on: date(&a.moved_on)?,
            until: opt_date(&a.until)?,
            confidential: a.confidential,
            reported_to_ice_on: opt_date(&a.reported_to_ice_on)?,
            filings: cw::Filings {
                ar11: filing(&a.ar11_filed_on, &a.ar11_confirmation, "AR-11")?,
                eoir33: filing(&a.eoir33_filed_on, &a.eoir33_confirmation, "EOIR-33")?,
                ice_portal: filing(&a.ice_portal_filed_on, &a.ice_portal_confirmation, "ICE portal")?,
            },
            address: cw::PostalAddress { lines: a.lines, city: a.city, state: a.state, zip: a.zip },
        })
    }
}

impl TryFrom<CheckIn> for cw::CheckIn {
    type Error = CasewardError;
    fn try_from(c: CheckIn) -> Result<Self> {
        Ok(Self {
            date: date(&c.date)?,
            time: c.time,
            office: c.office,
            modality: c.modality.into(),
            attendance: c.attendance.map(Into::into),
        })
    }
}

impl TryFrom<Hearing> for cw::Hearing {
    type Error = CasewardError;
    fn try_from(h: Hearing) -> Result<Self> {
        Ok(Self {
            date: date(&h.date)?,
            time: h.time,
            court: h.court,
            kind: h.kind.into(),
            outcome: h.outcome.map(Into::into),
        })
    }
}

impl TryFrom<Service> for cw::ServiceEvent {
    type Error = CasewardError;
    fn try_from(s: Service) -> Result<Self> {
        Ok(Self { date: date(&s.date)?, kind: s.kind.into(), minutes: s.minutes })
    }
}

impl TryFrom<Screening> for cw::Screening {
    type Error = CasewardError;
    fn try_from(s: Screening) -> Result<Self> {
        Ok(Self {
            kind: s.kind.into(),
            date: date(&s.date)?,
            instrument: s.instrument,
            result: s.result,
            positive: s.positive,
            referred: s.referred,
        })
    }
}

impl TryFrom<Referral> for cw::Referral {
    type Error = CasewardError;
    fn try_from(r: Referral) -> Result<Self> {
        Ok(Self { kind: r.kind.into(), partner: r.partner, date: date(&r.date)?, status: r.status.into() })
    }
}

impl TryFrom<Legal> for cw::LegalStatus {
    type Error = CasewardError;
    fn try_from(l: Legal) -> Result<Self> {
        let protected_relief = match (l.protected_relief, l.protected_relief_stage) {
            (Some(kind), stage) => {
                Some(cw::ProtectedRelief { kind: kind.into(), stage: stage.unwrap_or_else(|| "filed".into()) })
            }
            (None, Some(_)) => return Err(invalid("a protected-relief stage needs the kind of relief")),
            (None, None) => None,
        };
        Ok(Self {
            court: l.court,
            disposition: l.disposition,
            represented: l.represented,
            represented_since: opt_date(&l.represented_since)?,
            relief_sought: l.relief_sought,
            protected_relief,
        })
    }
}

impl TryFrom<Health> for cw::HealthRecord {
    type Error = CasewardError;
    fn try_from(h: Health) -> Result<Self> {
        Ok(Self { kind: h.kind.into(), date: date(&h.date)?, summary: h.summary })
    }
}

impl From<Departure> for cw::DeparturePlan {
    fn from(d: Departure) -> Self {
        Self { country: d.country, window: d.window, travel_documents: d.travel_documents, partner: d.partner }
    }
}

impl TryFrom<Household> for cw::HouseholdLink {
    type Error = CasewardError;
    fn try_from(h: Household) -> Result<Self> {
        Ok(Self {
            household_id: h.household_id,
            lead_a_number: h.lead_a_number.as_deref().map(cw::AlienNumber::parse).transpose()?,
            size: h.size,
            minors: h.minors,
            relationship: h.relationship.into(),
        })
    }
}

impl TryFrom<Randomization> for cw::Randomization {
    type Error = CasewardError;
    fn try_from(r: Randomization) -> Result<Self> {
        Ok(Self {
            selection_id: r.selection_id,
            stratum: r.stratum,
            arm: r.arm.into(),
            selected_on: date(&r.selected_on)?,
        })
    }
}

impl TryFrom<Consent> for cw::ConsentRecord {
    type Error = CasewardError;
    fn try_from(c: Consent) -> Result<Self> {
        Ok(Self {
            categories: c.categories.iter().map(|c| c.parse()).collect::<std::result::Result<Vec<_>, _>>()?,
            recipient: c.recipient,
            purpose: c.purpose,
            signed_on: date(&c.signed_on)?,
            expires_on: date(&c.expires_on)?,
            revoked_on: None,
        })
    }
}
