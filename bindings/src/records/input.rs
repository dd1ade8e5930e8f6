//! The records apps send: a new client's intake and the case events recorded for them, with the
//! one conversion to the core's record that each `enroll`, `record_*` and `update_*` uses.

use caseward as cw;

use crate::date::IsoDate;
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

// Defaults: `#[uniffi(default)]` (the type's default) shows `= None` for an option in Python's
// signatures (`default = None` showed a sentinel object); a list or map still shows uniffi's
// sentinel in 0.31, which never puts a mutable `[]` or `{}` in a signature.

/// A name: the DHS verbatim form (the only form an ICE notice carries) and the client's own.
#[derive(Clone, uniffi::Record)]
pub struct Name {
    pub verbatim_dhs: String,
    #[uniffi(default)]
    pub verbatim_self: Option<String>,
    #[uniffi(default)]
    pub given: Vec<String>,
    #[uniffi(default)]
    pub surnames: Vec<String>,
    #[uniffi(default)]
    pub preferred: Option<String>,
    #[uniffi(default)]
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
    #[uniffi(default)]
    pub birth_date: Option<BirthDate>,
    #[uniffi(default)]
    pub nationality: Vec<String>,
    #[uniffi(default)]
    pub languages: Vec<String>,
    #[uniffi(default = false)]
    pub interpreter_needed: bool,
    #[uniffi(default)]
    pub sex_gender: Option<String>,
    #[uniffi(default)]
    pub phones: Vec<String>,
    #[uniffi(default)]
    pub emails: Vec<String>,
    pub site: String,
    /// The day the client enrolled.
    pub enrolled_on: IsoDate,
    #[uniffi(default)]
    pub release_basis: Option<ReleaseBasis>,
    /// Served under a VAWA/FVPSA/VOCA grant: aggregates only, never an ICE notice.
    #[uniffi(default = false)]
    pub vawa_grantee: bool,
    /// The assigned caseworker's staff id.
    #[uniffi(default)]
    pub caseworker: Option<String>,
    /// Who referred the client to the program.
    #[uniffi(default)]
    pub referral_source: Option<ReferralSource>,
    /// Ethnicity, including Indigenous identity, as the client states it.
    #[uniffi(default)]
    pub ethnicity: Option<String>,
    /// ICE Subject ID from Form I-385.
    #[uniffi(default)]
    pub ice_subject_id: Option<String>,
    /// SSN or ITIN.
    #[uniffi(default)]
    pub tax_id: Option<String>,
    /// Passports, national or consular ids.
    #[uniffi(default)]
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
    pub moved_on: IsoDate,
    #[uniffi(default = false)]
    pub confidential: bool,
    #[uniffi(default)]
    pub reported_to_ice_on: Option<IsoDate>,
    #[uniffi(default)]
    pub ar11_filed_on: Option<IsoDate>,
    #[uniffi(default)]
    pub eoir33_filed_on: Option<IsoDate>,
    #[uniffi(default)]
    pub ice_portal_filed_on: Option<IsoDate>,
    /// The move-out date, once the client left this address.
    #[uniffi(default)]
    pub until: Option<IsoDate>,
    /// The AR-11 confirmation or receipt number (needs `ar11_filed_on`).
    #[uniffi(default)]
    pub ar11_confirmation: Option<String>,
    /// The EOIR-33 confirmation (needs `eoir33_filed_on`).
    #[uniffi(default)]
    pub eoir33_confirmation: Option<String>,
    /// The ICE portal confirmation (needs `ice_portal_filed_on`).
    #[uniffi(default)]
    pub ice_portal_confirmation: Option<String>,
}

/// An ICE check-in.
#[derive(Clone, uniffi::Record)]
pub struct CheckIn {
    pub date: IsoDate,
    #[uniffi(default)]
    pub time: Option<String>,
    pub office: String,
    pub modality: Modality,
    #[uniffi(default)]
    pub attendance: Option<Attendance>,
}

/// A court hearing.
#[derive(Clone, uniffi::Record)]
pub struct Hearing {
    pub date: IsoDate,
    #[uniffi(default)]
    pub time: Option<String>,
    pub court: String,
    pub kind: HearingKind,
    #[uniffi(default)]
    pub outcome: Option<HearingOutcome>,
}

/// A service delivered.
#[derive(Clone, uniffi::Record)]
pub struct Service {
    pub date: IsoDate,
    pub kind: ServiceKind,
    #[uniffi(default)]
    pub minutes: Option<u32>,
}

/// A screening.
#[derive(Clone, uniffi::Record)]
pub struct Screening {
    pub kind: ScreeningKind,
    pub date: IsoDate,
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
    pub date: IsoDate,
    pub status: ReferralStatus,
}

/// The client's immigration case.
#[derive(Clone, uniffi::Record)]
pub struct Legal {
    #[uniffi(default)]
    pub court: Option<String>,
    #[uniffi(default)]
    pub disposition: Option<String>,
    pub represented: bool,
    #[uniffi(default)]
    pub relief_sought: Vec<String>,
    #[uniffi(default)]
    pub protected_relief: Option<ProtectedReliefKind>,
    /// Since when an attorney represents the client.
    #[uniffi(default)]
    pub represented_since: Option<IsoDate>,
    /// The protected relief's stage (`filed`, `prima facie`, `approved` ...); `filed` when
    /// `protected_relief` is given without one.
    #[uniffi(default)]
    pub protected_relief_stage: Option<String>,
}

/// A health record.
#[derive(Clone, uniffi::Record)]
pub struct Health {
    pub kind: HealthKind,
    pub date: IsoDate,
    pub summary: String,
}

/// A departure plan.
#[derive(Clone, uniffi::Record)]
pub struct Departure {
    pub country: String,
    #[uniffi(default)]
    pub window: Option<String>,
    #[uniffi(default)]
    pub partner: Option<String>,
    /// Travel-document status.
    #[uniffi(default)]
    pub travel_documents: Option<String>,
}

/// A consent to share categories with a partner (`partner:<id>`).
#[derive(Clone, uniffi::Record)]
pub struct Consent {
    pub recipient: String,
    /// Category names, as in the policy (`service.event`, `referral.housing` ...).
    pub categories: Vec<String>,
    pub purpose: String,
    pub signed_on: IsoDate,
    pub expires_on: IsoDate,
}

/// Membership of a family case. Two clients of one family share `household_id`; a member
/// who is not the lead carries the lead's A-number (staff see it; a partner or the client's
/// own copy never does).
#[derive(Clone, uniffi::Record)]
pub struct Household {
    /// The provider's household id.
    pub household_id: String,
    /// The lead's A-number in any written form (refused if invalid); read back canonical.
    #[uniffi(default)]
    pub lead_a_number: Option<String>,
    /// Household size.
    #[uniffi(default)]
    pub size: Option<u8>,
    /// Number of minors.
    #[uniffi(default)]
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
    pub selected_on: IsoDate,
}

/// A program exit.
#[derive(Clone, uniffi::Record)]
pub struct Exit {
    /// Date of exit.
    pub date: IsoDate,
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
    let mut enrollment = cw::Enrollment::new(i.site.clone(), i.enrolled_on.into());
    enrollment.release_basis = i.release_basis.map(Into::into);
    enrollment.vawa_grantee = i.vawa_grantee;
    enrollment.caseworker = i.caseworker.clone();
    enrollment.referral_source = i.referral_source.map(Into::into);
    Ok(cw::Intake { identity, enrollment, records: Vec::new() })
}

fn filing(filed_on: Option<IsoDate>, confirmation: Option<String>, form: &str) -> Result<Option<cw::Filing>> {
    match filed_on {
        Some(filed_on) => Ok(Some(cw::Filing { filed_on: filed_on.into(), confirmation })),
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
            moved_on: a.moved_on.into(),
            until: a.until.map(Into::into),
            confidential: a.confidential,
            reported_to_ice_on: a.reported_to_ice_on.map(Into::into),
            filings: cw::Filings {
                ar11: filing(a.ar11_filed_on, a.ar11_confirmation, "AR-11")?,
                eoir33: filing(a.eoir33_filed_on, a.eoir33_confirmation, "EOIR-33")?,
                ice_portal: filing(a.ice_portal_filed_on, a.ice_portal_confirmation, "ICE portal")?,
            },
            address: cw::PostalAddress { lines: a.lines, city: a.city, state: a.state, zip: a.zip },
        })
    }
}

impl From<CheckIn> for cw::CheckIn {
    fn from(c: CheckIn) -> Self {
        Self {
            date: c.date.into(),
            time: c.time,
            office: c.office,
            modality: c.modality.into(),
            attendance: c.attendance.map(Into::into),
        }
    }
}

impl From<Hearing> for cw::Hearing {
    fn from(h: Hearing) -> Self {
        Self {
            date: h.date.into(),
            time: h.time,
            court: h.court,
            kind: h.kind.into(),
            outcome: h.outcome.map(Into::into),
        }
    }
}

impl From<Service> for cw::ServiceEvent {
    fn from(s: Service) -> Self {
        Self { date: s.date.into(), kind: s.kind.into(), minutes: s.minutes }
    }
}

impl From<Screening> for cw::Screening {
    fn from(s: Screening) -> Self {
        Self {
            kind: s.kind.into(),
            date: s.date.into(),
            instrument: s.instrument,
            result: s.result,
            positive: s.positive,
            referred: s.referred,
        }
    }
}

impl From<Referral> for cw::Referral {
    fn from(r: Referral) -> Self {
        Self { kind: r.kind.into(), partner: r.partner, date: r.date.into(), status: r.status.into() }
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
            represented_since: l.represented_since.map(Into::into),
            relief_sought: l.relief_sought,
            protected_relief,
        })
    }
}

impl From<Health> for cw::HealthRecord {
    fn from(h: Health) -> Self {
        Self { kind: h.kind.into(), date: h.date.into(), summary: h.summary }
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

impl From<Randomization> for cw::Randomization {
    fn from(r: Randomization) -> Self {
        Self { selection_id: r.selection_id, stratum: r.stratum, arm: r.arm.into(), selected_on: r.selected_on.into() }
    }
}

impl TryFrom<Consent> for cw::ConsentRecord {
    type Error = CasewardError;
    fn try_from(c: Consent) -> Result<Self> {
        Ok(Self {
            categories: c.categories.iter().map(|c| c.parse()).collect::<std::result::Result<Vec<_>, _>>()?,
            recipient: c.recipient,
            purpose: c.purpose,
            signed_on: c.signed_on.into(),
            expires_on: c.expires_on.into(),
            revoked_on: None,
        })
    }
}
