//! What the vault gives back: the records read back whole (`client_record`), and the
//! conversions from every core record, so every field comes back.

use caseward as cw;

use crate::date::IsoDate;
use crate::enums::{ReferralSource, ReleaseBasis};
use crate::records::input::{
    Address, BirthDate, CheckIn, Departure, Exit, ForeignDocument, Health, Hearing, Household, Legal, Name,
    Randomization, Referral, Screening, Service,
};
use crate::redact::redacted_debug;

redacted_debug!(IdentityRecord, EnrollmentRecord, ConsentRecord, Note, RecordValue, StoredRecord);

/// The identity record, read back whole.
#[derive(Clone, uniffi::Record)]
pub struct IdentityRecord {
    /// The canonical A-number (`A` and 9 digits).
    pub a_number: String,
    /// The A-number exactly as entered.
    pub a_number_as_entered: String,
    /// The name (surnames as text).
    pub name: Name,
    /// Date of birth.
    pub birth_date: Option<BirthDate>,
    /// ICE Subject ID.
    pub ice_subject_id: Option<String>,
    /// SSN or ITIN.
    pub tax_id: Option<String>,
    /// Foreign documents.
    pub foreign_documents: Vec<ForeignDocument>,
    /// Countries of birth and citizenship.
    pub nationality: Vec<String>,
    /// Languages, preferred first.
    pub languages: Vec<String>,
    /// Whether an interpreter is needed.
    pub interpreter_needed: bool,
    /// Sex and gender as the client states them.
    pub sex_gender: Option<String>,
    /// Ethnicity.
    pub ethnicity: Option<String>,
    /// Phone numbers.
    pub phones: Vec<String>,
    /// E-mail addresses.
    pub emails: Vec<String>,
}

/// The enrollment record, read back whole, with its randomization and exit.
#[derive(Clone, uniffi::Record)]
pub struct EnrollmentRecord {
    /// Site id.
    pub site: String,
    /// Enrollment date.
    pub enrolled_on: IsoDate,
    /// Assigned caseworker.
    pub caseworker: Option<String>,
    /// Referral source.
    pub referral_source: Option<ReferralSource>,
    /// Release basis.
    pub release_basis: Option<ReleaseBasis>,
    /// Evaluation data.
    pub randomization: Option<Randomization>,
    /// The exit, once recorded.
    pub exit: Option<Exit>,
    /// Served under a VAWA/FVPSA/VOCA grant.
    pub vawa_grantee: bool,
}

/// A consent as stored, with its revocation.
#[derive(Clone, uniffi::Record)]
pub struct ConsentRecord {
    /// Who may receive (`partner:<id>`).
    pub recipient: String,
    /// Category names.
    pub categories: Vec<String>,
    /// For what purpose.
    pub purpose: String,
    /// When signed.
    pub signed_on: IsoDate,
    /// When it expires.
    pub expires_on: IsoDate,
    /// When revoked, if it was.
    pub revoked_on: Option<IsoDate>,
}

/// A case note, read back.
#[derive(Clone, uniffi::Record)]
pub struct Note {
    /// The author's staff id.
    pub author: String,
    /// When.
    pub date: IsoDate,
    /// Free text.
    pub text: String,
    /// A clinician's psychotherapy note (a category of its own).
    pub psychotherapy: bool,
}

/// One stored record, by kind, as the caseworker sees it.
#[derive(Clone, uniffi::Enum)]
#[allow(
    clippy::large_enum_variant,
    reason = "a value lowered across the FFI once per record read back; the identity is the one large variant"
)]
pub enum RecordValue {
    /// Identity.
    Identity { identity: IdentityRecord },
    /// Enrollment, with randomization and exit.
    Enrollment { enrollment: EnrollmentRecord },
    /// Household membership.
    Household { household: Household },
    /// An address episode.
    Address { address: Address },
    /// An ICE check-in.
    CheckIn { check_in: CheckIn },
    /// A court hearing.
    Hearing { hearing: Hearing },
    /// A service.
    Service { service: Service },
    /// A screening.
    Screening { screening: Screening },
    /// A referral.
    Referral { referral: Referral },
    /// A consent.
    Consent { consent: ConsentRecord },
    /// A case note.
    Note { note: Note },
    /// The immigration case.
    Legal { legal: Legal },
    /// A health record.
    Health { health: Health },
    /// A departure plan.
    Departure { departure: Departure },
    /// A kind this binding does not know (written by a newer caseward): its id and kind
    /// come back so the app can tell the record exists.
    Other { kind: String },
}

/// A record read back with its id (the id `update_*` takes).
#[derive(Clone, uniffi::Record)]
pub struct StoredRecord {
    /// The record's id.
    pub id: i64,
    /// The record.
    pub value: RecordValue,
}

// Core records to binding records, for `client_record`: every field comes back.

impl From<&cw::PersonName> for Name {
    fn from(n: &cw::PersonName) -> Self {
        Self {
            verbatim_dhs: n.verbatim_dhs.clone(),
            verbatim_self: n.verbatim_self.clone(),
            given: n.given.clone(),
            surnames: n.surnames.iter().map(|s| s.text.clone()).collect(),
            preferred: n.preferred.clone(),
            aliases: n.aliases.clone(),
        }
    }
}

impl From<&cw::BirthDate> for BirthDate {
    fn from(b: &cw::BirthDate) -> Self {
        Self {
            year: b.year,
            month: b.month,
            day: b.day,
            precision: b.precision.into(),
            provenance: b.provenance.into(),
        }
    }
}

impl From<&cw::ForeignDocument> for ForeignDocument {
    fn from(d: &cw::ForeignDocument) -> Self {
        Self { kind: d.kind.clone(), number: d.number.clone(), country: d.country.clone() }
    }
}

impl From<&cw::Identity> for IdentityRecord {
    fn from(i: &cw::Identity) -> Self {
        Self {
            a_number: i.a_number.as_str().to_owned(),
            a_number_as_entered: i.a_number_as_entered.clone(),
            name: (&i.name).into(),
            birth_date: i.dob.as_ref().map(Into::into),
            ice_subject_id: i.ice_subject_id.clone(),
            tax_id: i.tax_id.clone(),
            foreign_documents: i.foreign_documents.iter().map(Into::into).collect(),
            nationality: i.nationality.clone(),
            languages: i.languages.clone(),
            interpreter_needed: i.interpreter_needed,
            sex_gender: i.sex_gender.clone(),
            ethnicity: i.ethnicity.clone(),
            phones: i.phones.clone(),
            emails: i.emails.clone(),
        }
    }
}

impl From<&cw::Enrollment> for EnrollmentRecord {
    fn from(e: &cw::Enrollment) -> Self {
        Self {
            site: e.site.clone(),
            enrolled_on: e.enrolled_on.into(),
            caseworker: e.caseworker.clone(),
            referral_source: e.referral_source.map(Into::into),
            release_basis: e.release_basis.map(Into::into),
            randomization: e.randomization.as_ref().map(|r| Randomization {
                selection_id: r.selection_id.clone(),
                stratum: r.stratum.clone(),
                arm: r.arm.into(),
                selected_on: r.selected_on.into(),
            }),
            exit: e.exit.as_ref().map(|x| Exit { date: x.date.into(), reason: x.reason.into() }),
            vawa_grantee: e.vawa_grantee,
        }
    }
}

impl From<&cw::HouseholdLink> for Household {
    fn from(h: &cw::HouseholdLink) -> Self {
        Self {
            household_id: h.household_id.clone(),
            lead_a_number: h.lead_a_number.as_ref().map(|a| a.as_str().to_owned()),
            size: h.size,
            minors: h.minors,
            relationship: h.relationship.into(),
        }
    }
}

impl From<&cw::AddressEpisode> for Address {
    fn from(a: &cw::AddressEpisode) -> Self {
        let f = &a.filings;
        let filed = |x: &Option<cw::Filing>| x.as_ref().map(|x| x.filed_on.into());
        let confirmation = |x: &Option<cw::Filing>| x.as_ref().and_then(|x| x.confirmation.clone());
        Self {
            lines: a.address.lines.clone(),
            city: a.address.city.clone(),
            state: a.address.state.clone(),
            zip: a.address.zip.clone(),
            moved_on: a.moved_on.into(),
            confidential: a.confidential,
            reported_to_ice_on: a.reported_to_ice_on.map(Into::into),
            ar11_filed_on: filed(&f.ar11),
            eoir33_filed_on: filed(&f.eoir33),
            ice_portal_filed_on: filed(&f.ice_portal),
            until: a.until.map(Into::into),
            ar11_confirmation: confirmation(&f.ar11),
            eoir33_confirmation: confirmation(&f.eoir33),
            ice_portal_confirmation: confirmation(&f.ice_portal),
        }
    }
}

impl From<&cw::CheckIn> for CheckIn {
    fn from(c: &cw::CheckIn) -> Self {
        Self {
            date: c.date.into(),
            time: c.time.clone(),
            office: c.office.clone(),
            modality: c.modality.into(),
            attendance: c.attendance.map(Into::into),
        }
    }
}

impl From<&cw::Hearing> for Hearing {
    fn from(h: &cw::Hearing) -> Self {
        Self {
            date: h.date.into(),
            time: h.time.clone(),
            court: h.court.clone(),
            kind: h.kind.into(),
            outcome: h.outcome.map(Into::into),
        }
    }
}

impl From<&cw::ServiceEvent> for Service {
    fn from(s: &cw::ServiceEvent) -> Self {
        Self { date: s.date.into(), kind: s.kind.into(), minutes: s.minutes }
    }
}

impl From<&cw::Screening> for Screening {
    fn from(s: &cw::Screening) -> Self {
        Self {
            kind: s.kind.into(),
            date: s.date.into(),
            instrument: s.instrument.clone(),
            result: s.result.clone(),
            positive: s.positive,
            referred: s.referred,
        }
    }
}

impl From<&cw::Referral> for Referral {
    fn from(r: &cw::Referral) -> Self {
        Self { kind: r.kind.into(), partner: r.partner.clone(), date: r.date.into(), status: r.status.into() }
    }
}

impl From<&cw::ConsentRecord> for ConsentRecord {
    fn from(c: &cw::ConsentRecord) -> Self {
        Self {
            recipient: c.recipient.clone(),
            categories: c.categories.iter().map(|c| c.as_str().to_owned()).collect(),
            purpose: c.purpose.clone(),
            signed_on: c.signed_on.into(),
            expires_on: c.expires_on.into(),
            revoked_on: c.revoked_on.map(Into::into),
        }
    }
}

impl From<&cw::CaseNote> for Note {
    fn from(n: &cw::CaseNote) -> Self {
        Self { author: n.author.clone(), date: n.date.into(), text: n.text.clone(), psychotherapy: n.psychotherapy }
    }
}

impl From<&cw::LegalStatus> for Legal {
    fn from(l: &cw::LegalStatus) -> Self {
        Self {
            court: l.court.clone(),
            disposition: l.disposition.clone(),
            represented: l.represented,
            relief_sought: l.relief_sought.clone(),
            protected_relief: l.protected_relief.as_ref().map(|p| p.kind.into()),
            represented_since: l.represented_since.map(Into::into),
            protected_relief_stage: l.protected_relief.as_ref().map(|p| p.stage.clone()),
        }
    }
}

impl From<&cw::HealthRecord> for Health {
    fn from(h: &cw::HealthRecord) -> Self {
        Self { kind: h.kind.into(), date: h.date.into(), summary: h.summary.clone() }
    }
}

impl From<&cw::DeparturePlan> for Departure {
    fn from(d: &cw::DeparturePlan) -> Self {
        Self {
            country: d.country.clone(),
            window: d.window.clone(),
            partner: d.partner.clone(),
            travel_documents: d.travel_documents.clone(),
        }
    }
}

impl From<&cw::Record> for RecordValue {
    fn from(r: &cw::Record) -> Self {
        match r {
            cw::Record::Identity(x) => Self::Identity { identity: x.into() },
            cw::Record::Enrollment(x) => Self::Enrollment { enrollment: x.into() },
            cw::Record::Household(x) => Self::Household { household: x.into() },
            cw::Record::Address(x) => Self::Address { address: x.into() },
            cw::Record::CheckIn(x) => Self::CheckIn { check_in: x.into() },
            cw::Record::Hearing(x) => Self::Hearing { hearing: x.into() },
            cw::Record::Service(x) => Self::Service { service: x.into() },
            cw::Record::Screening(x) => Self::Screening { screening: x.into() },
            cw::Record::Referral(x) => Self::Referral { referral: x.into() },
            cw::Record::Consent(x) => Self::Consent { consent: x.into() },
            cw::Record::Note(x) => Self::Note { note: x.into() },
            cw::Record::Legal(x) => Self::Legal { legal: x.into() },
            cw::Record::Health(x) => Self::Health { health: x.into() },
            cw::Record::Departure(x) => Self::Departure { departure: x.into() },
            // `Record` is non-exhaustive: a kind added to the core later still comes back by name.
            other => Self::Other { kind: other.kind().as_str().to_owned() },
        }
    }
}
