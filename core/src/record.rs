//! The client record: typed records whose every field carries one category label.
//!
//! A record is stored as one row whose body holds one sealed *section* per category present,
//! each under that client's key for that category. `Record::write_sections` is the map from a record's
//! fields to its sections; it is the single place that decides which label a field carries, so a
//! reviewer checks the labels here and nowhere else.
//!
//! Labelling choices worth knowing:
//! * The address of record for ICE is written twice: as history (`contact.address`) and, when
//!   the client reported it to ICE, as `obligation.address.of_record`. The ICE path can then be
//!   given the obligation key alone and still read the one address it may carry.
//! * A family's lead A-number is `household.composition`, not `identifier.alien_number`: ICE may
//!   receive a client's own A-number but never a household member's, so the key that opens one
//!   must not open the other.
//! * `safety.location_confidential` is always written (true or false) for an address, so the
//!   number of sections does not reveal which addresses are confidential.

use std::collections::BTreeMap;
use std::fmt;
use std::str::FromStr;

use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use zeroize::Zeroizing;

use crate::category::{Category, ServiceKind};
use crate::error::{Error, Result};
use crate::identifier::{AlienNumber, BirthDate, Date, PersonName};

/// A client's random internal id (16 bytes, shown as 32 hex digits). Not personal data: it is
/// what logs, errors and the disclosure log use instead of a name or A-number.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ClientId(pub(crate) [u8; 16]);

impl ClientId {
    pub(crate) fn random() -> Result<Self> {
        use ring::rand::SecureRandom;
        let mut b = [0u8; 16];
        ring::rand::SystemRandom::new().fill(&mut b).map_err(|_| Error::internal("the system random source failed"))?;
        Ok(Self(b))
    }

    /// The 16 raw bytes.
    pub fn as_bytes(&self) -> &[u8; 16] {
        &self.0
    }

    pub(crate) fn from_slice(b: &[u8]) -> Option<Self> {
        b.try_into().ok().map(Self)
    }
}

impl fmt::Display for ClientId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for b in self.0 {
            write!(f, "{b:02x}")?;
        }
        Ok(())
    }
}

impl fmt::Debug for ClientId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "ClientId({self})")
    }
}

impl FromStr for ClientId {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self> {
        let s = s.trim();
        let bad = || Error::input("a client id is 32 hexadecimal digits");
        if s.len() != 32 || !s.is_ascii() {
            return Err(bad());
        }
        let mut out = [0u8; 16];
        for (i, byte) in out.iter_mut().enumerate() {
            let pair = s.get(2 * i..2 * i + 2).ok_or_else(bad)?;
            *byte = u8::from_str_radix(pair, 16).map_err(|_| bad())?;
        }
        Ok(Self(out))
    }
}

impl Serialize for ClientId {
    fn serialize<S: serde::Serializer>(&self, s: S) -> std::result::Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for ClientId {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> std::result::Result<Self, D::Error> {
        String::deserialize(d)?.parse().map_err(serde::de::Error::custom)
    }
}

/// A record's id within the vault.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct RecordId(pub i64);

impl fmt::Display for RecordId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.0)
    }
}

// ---------------------------------------------------------------------------------------------
// Identity

/// A foreign identity document.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ForeignDocument {
    /// Passport, national id, consular id ...
    pub kind: String,
    /// The number as printed.
    pub number: String,
    /// Issuing country.
    pub country: String,
}

/// Who the client is.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Identity {
    /// Canonical A-number (`identifier.alien_number`).
    pub a_number: AlienNumber,
    /// The A-number exactly as entered (`identifier.alien_number`).
    pub a_number_as_entered: String,
    /// Name, verbatim forms and parts (`identifier.name`).
    pub name: PersonName,
    /// Date of birth (`identifier.dob`).
    pub dob: Option<BirthDate>,
    /// ICE Subject ID from Form I-385 (`identifier.ice_subject`).
    pub ice_subject_id: Option<String>,
    /// SSN or ITIN (`identifier.tax`).
    pub tax_id: Option<String>,
    /// Foreign documents (`identifier.foreign_document`).
    pub foreign_documents: Vec<ForeignDocument>,
    /// Countries of birth and citizenship (`demographic.nationality`).
    pub nationality: Vec<String>,
    /// Languages, preferred first (`demographic.language`).
    pub languages: Vec<String>,
    /// Whether an interpreter is needed (`demographic.language`).
    pub interpreter_needed: bool,
    /// Sex and gender as the client states them (`demographic.sex_gender`).
    pub sex_gender: Option<String>,
    /// Ethnicity, including Indigenous identity (`demographic.ethnicity`).
    pub ethnicity: Option<String>,
    /// Phone numbers (`contact.phone`).
    pub phones: Vec<String>,
    /// E-mail addresses (`contact.email`).
    pub emails: Vec<String>,
}

impl Identity {
    /// An identity with an A-number (kept as entered) and a DHS verbatim name; the rest empty.
    pub fn new(a_number_as_entered: &str, name: PersonName) -> Result<Self> {
        Ok(Self {
            a_number: AlienNumber::parse(a_number_as_entered)?,
            a_number_as_entered: a_number_as_entered.to_owned(),
            name,
            dob: None,
            ice_subject_id: None,
            tax_id: None,
            foreign_documents: Vec::new(),
            nationality: Vec::new(),
            languages: Vec::new(),
            interpreter_needed: false,
            sex_gender: None,
            ethnicity: None,
            phones: Vec::new(),
            emails: Vec::new(),
        })
    }
}

#[derive(Serialize, Deserialize)]
pub(crate) struct AlienNumberSection {
    pub(crate) canonical: AlienNumber,
    pub(crate) as_entered: String,
}

#[derive(Serialize, Deserialize)]
struct LanguageSection {
    languages: Vec<String>,
    interpreter_needed: bool,
}

// ---------------------------------------------------------------------------------------------
// Enrollment

/// Who referred the client to the program.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ReferralSource {
    /// ICE referred the client.
    IceReferral,
    /// Selected by the National Board's process.
    BoardSelection,
    /// The client came on their own.
    SelfReferral,
    /// A community organisation referred the client.
    CommunityOrganization,
}

/// The basis on which the client was released.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ReleaseBasis {
    /// Alternatives to Detention.
    Atd,
    /// Parole.
    Parole,
    /// Bond.
    Bond,
    /// Order of Release on Recognizance (I-220A).
    Orec,
    /// Order of Supervision (I-220B): address changes due to ICE within 48 hours.
    Osup,
    /// Notice to Appear only.
    NtaOnly,
}

/// Evaluation arm.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Arm {
    /// Offered case management.
    Treatment,
    /// Comparison group.
    Control,
}

/// Randomized-evaluation data (`evaluation.randomization`).
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Randomization {
    /// The selection id.
    pub selection_id: String,
    /// The stratum.
    pub stratum: String,
    /// The arm.
    pub arm: Arm,
    /// When selected.
    pub selected_on: Date,
}

/// Why a client left the program.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ExitReason {
    /// Completed the program.
    Completed,
    /// Relief granted.
    ReliefGranted,
    /// Case terminated or dismissed.
    CaseTerminated,
    /// Removal ordered.
    RemovalOrder,
    /// Voluntary departure granted.
    VoluntaryDeparture,
    /// Departed.
    Departed,
    /// Moved out of the service area.
    MovedAway,
    /// Withdrew.
    Withdrew,
    /// Lost contact (sensitive: never leaves for ICE).
    LostContact,
    /// Detained (sensitive: never leaves for ICE).
    Detained,
    /// Deceased.
    Deceased,
}

/// An exit (`program.exit`).
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Exit {
    /// Date of exit.
    pub date: Date,
    /// Why.
    pub reason: ExitReason,
}

/// Program enrollment.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Enrollment {
    /// Site id (`program.site`).
    pub site: String,
    /// Enrollment date (`program.enrollment`).
    pub enrolled_on: Date,
    /// Assigned caseworker (`program.enrollment`).
    pub caseworker: Option<String>,
    /// Referral source (`program.referral_source`).
    pub referral_source: Option<ReferralSource>,
    /// Release basis (`legal.release_basis`).
    pub release_basis: Option<ReleaseBasis>,
    /// Evaluation data (`evaluation.randomization`).
    pub randomization: Option<Randomization>,
    /// Exit (`program.exit`).
    pub exit: Option<Exit>,
    /// Served under a VAWA/FVPSA/VOCA grant (`regime.vawa_grantee`): aggregates only.
    pub vawa_grantee: bool,
}

impl Enrollment {
    /// An enrollment at a site on a date.
    pub fn new(site: impl Into<String>, enrolled_on: Date) -> Self {
        Self {
            site: site.into(),
            enrolled_on,
            caseworker: None,
            referral_source: None,
            release_basis: None,
            randomization: None,
            exit: None,
            vawa_grantee: false,
        }
    }
}

#[derive(Serialize, Deserialize)]
struct EnrollmentSection {
    enrolled_on: Date,
    caseworker: Option<String>,
}

// ---------------------------------------------------------------------------------------------
// Household

/// Relationship to the household lead.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Relationship {
    /// The lead (principal) of the family case.
    Lead,
    /// Spouse or partner.
    Spouse,
    /// Child.
    Child,
    /// Parent.
    Parent,
    /// Sibling.
    Sibling,
    /// Other.
    Other,
}

/// Membership of a family case (`household.composition`, `household.relationship`).
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct HouseholdLink {
    /// The provider's household id.
    pub household_id: String,
    /// The family case's lead A-number, when the client is not the lead.
    pub lead_a_number: Option<AlienNumber>,
    /// Household size.
    pub size: Option<u8>,
    /// Number of minors.
    pub minors: Option<u8>,
    /// Relationship to the lead (`household.relationship`).
    pub relationship: Relationship,
}

#[derive(Serialize, Deserialize)]
struct HouseholdSection {
    household_id: String,
    lead_a_number: Option<AlienNumber>,
    size: Option<u8>,
    minors: Option<u8>,
}

// ---------------------------------------------------------------------------------------------
// Addresses

/// A postal address.
#[derive(Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct PostalAddress {
    /// Street lines.
    pub lines: Vec<String>,
    /// City.
    pub city: String,
    /// State (USPS code).
    pub state: String,
    /// ZIP code.
    pub zip: String,
}

/// A filing that reports an address change to an agency.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Filing {
    /// When it was filed.
    pub filed_on: Date,
    /// Confirmation or receipt number, if any.
    pub confirmation: Option<String>,
}

/// The three address filings (`obligation.address.filing`).
#[derive(Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct Filings {
    /// USCIS Form AR-11 (due within 10 days).
    pub ar11: Option<Filing>,
    /// EOIR-33 to the immigration court (due within 5 days).
    pub eoir33: Option<Filing>,
    /// ICE portal update (due within 5 business days).
    pub ice_portal: Option<Filing>,
}

impl Filings {
    fn is_empty(&self) -> bool {
        self.ar11.is_none() && self.eoir33.is_none() && self.ice_portal.is_none()
    }
}

/// An address episode: where the client lived from a date.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AddressEpisode {
    /// The address (`contact.address`).
    pub address: PostalAddress,
    /// The move-in date (`contact.address`).
    pub moved_on: Date,
    /// The move-out date (`contact.address`).
    pub until: Option<Date>,
    /// Shelter, DV or otherwise confidential (`safety.location_confidential`): never sent to ICE.
    pub confidential: bool,
    /// When the client reported this address to ICE as their address of record
    /// (`obligation.address.of_record`).
    pub reported_to_ice_on: Option<Date>,
    /// Filing confirmations (`obligation.address.filing`).
    pub filings: Filings,
}

#[derive(Serialize, Deserialize)]
pub(crate) struct AddressHistorySection {
    pub(crate) address: PostalAddress,
    pub(crate) moved_on: Date,
    pub(crate) until: Option<Date>,
}

#[derive(Serialize, Deserialize)]
pub(crate) struct AddressOfRecordSection {
    pub(crate) address: PostalAddress,
    pub(crate) reported_on: Date,
}

// ---------------------------------------------------------------------------------------------
// Obligations

/// How a check-in happens.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Modality {
    /// In person at the office.
    InPerson,
    /// Through the ICE check-in app.
    App,
    /// By phone.
    Phone,
    /// By video.
    Video,
}

/// Whether the client reports having attended a check-in.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Attendance {
    /// Attended.
    Attended,
    /// Missed.
    Missed,
    /// Rescheduled by ICE or the client.
    Rescheduled,
}

/// An ICE check-in as ICE scheduled it.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CheckIn {
    /// The date (`obligation.reporting.next`).
    pub date: Date,
    /// The time, `HH:MM` (`obligation.reporting.next`).
    pub time: Option<String>,
    /// The ERO office (`obligation.reporting.next`).
    pub office: String,
    /// How (`obligation.reporting.next`).
    pub modality: Modality,
    /// What the client reports happened (`obligation.reporting.attendance`): never for ICE.
    pub attendance: Option<Attendance>,
}

#[derive(Serialize, Deserialize)]
pub(crate) struct CheckInSection {
    pub(crate) date: Date,
    pub(crate) time: Option<String>,
    pub(crate) office: String,
    pub(crate) modality: Modality,
}

/// Type of court hearing.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum HearingKind {
    /// Master calendar hearing.
    MasterCalendar,
    /// Individual (merits) hearing.
    Individual,
}

/// What happened at a hearing.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum HearingOutcome {
    /// Attended, continued to another date (requester not recorded).
    Continued,
    /// Continued at the respondent's request.
    ContinuedForRespondent,
    /// Continued at DHS's request.
    ContinuedForDhs,
    /// Continued by the court on its own motion.
    ContinuedByCourt,
    /// Attended, decided.
    Decided,
    /// Attended, nothing more recorded.
    Attended,
    /// Order entered in absentia.
    InAbsentia,
}

/// An immigration-court hearing.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Hearing {
    /// Date (`obligation.court.next`).
    pub date: Date,
    /// Time, `HH:MM` (`obligation.court.next`).
    pub time: Option<String>,
    /// Court (`obligation.court.next`).
    pub court: String,
    /// Type (`obligation.court.next`).
    pub kind: HearingKind,
    /// Outcome (`legal.case`).
    pub outcome: Option<HearingOutcome>,
}

#[derive(Serialize, Deserialize)]
pub(crate) struct HearingSection {
    pub(crate) date: Date,
    pub(crate) time: Option<String>,
    pub(crate) court: String,
    pub(crate) kind: HearingKind,
}

// ---------------------------------------------------------------------------------------------
// Services, screenings, referrals

/// A service delivered (`service.event`).
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ServiceEvent {
    /// When.
    pub date: Date,
    /// What kind.
    pub kind: ServiceKind,
    /// Minutes spent.
    pub minutes: Option<u32>,
}

/// What a screening screens for.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ScreeningKind {
    /// Human trafficking (`screening.trafficking`).
    Trafficking,
    /// Mental health (`screening.mental_health`).
    MentalHealth,
    /// Domestic violence (`screening.dv`).
    DomesticViolence,
}

impl ScreeningKind {
    fn category(self) -> Category {
        match self {
            Self::Trafficking => Category::ScreeningTrafficking,
            Self::MentalHealth => Category::ScreeningMentalHealth,
            Self::DomesticViolence => Category::ScreeningDv,
        }
    }
}

/// A screening.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Screening {
    /// What it screens for (decides the category).
    pub kind: ScreeningKind,
    /// When.
    pub date: Date,
    /// The instrument used.
    pub instrument: String,
    /// The result or score band.
    pub result: String,
    /// Whether the screen found indicators (a positive screen). Older records read as `false`.
    #[serde(default)]
    pub positive: bool,
    /// Whether it led to a referral.
    pub referred: bool,
}

/// Status of a referral.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ReferralStatus {
    /// Made.
    Made,
    /// Accepted by the partner.
    Accepted,
    /// Service completed.
    Completed,
    /// Declined by the client or partner.
    Declined,
}

/// A referral to a partner (`referral.<kind>`).
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Referral {
    /// Kind of service (decides the category).
    pub kind: ServiceKind,
    /// The partner's id.
    pub partner: String,
    /// When.
    pub date: Date,
    /// Status.
    pub status: ReferralStatus,
}

// ---------------------------------------------------------------------------------------------
// Consent, notes, legal, health, departure

/// A consent as signed (`consent`). The firewall issue gives it force; here it is stored.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ConsentRecord {
    /// Who may receive (`partner:<id>`, `ice` ...).
    pub recipient: String,
    /// Which categories.
    pub categories: Vec<Category>,
    /// For what purpose.
    pub purpose: String,
    /// When signed.
    pub signed_on: Date,
    /// When it expires.
    pub expires_on: Date,
    /// When revoked, if it was.
    pub revoked_on: Option<Date>,
}

/// A case note (`note.case`, or `health.mental.psychotherapy_note` for a clinician's notes).
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CaseNote {
    /// The author's staff id.
    pub author: String,
    /// When.
    pub date: Date,
    /// Free text.
    pub text: String,
    /// Psychotherapy notes are a category of their own (author only, never exported).
    pub psychotherapy: bool,
}

/// Protected forms of relief under 8 U.S.C. 1367.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ProtectedReliefKind {
    /// VAWA self-petition.
    Vawa,
    /// T visa (trafficking).
    TVisa,
    /// U visa (crime victim).
    UVisa,
    /// Battered-spouse waiver.
    BatteredSpouse,
}

/// Protected relief (`legal.relief.protected`): its existence alone blocks every ICE notice.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProtectedRelief {
    /// Which.
    pub kind: ProtectedReliefKind,
    /// Stage (filed, prima facie, approved ...).
    pub stage: String,
}

/// The client's immigration case.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LegalStatus {
    /// Court and case type (`legal.case`).
    pub court: Option<String>,
    /// Disposition so far (`legal.case`).
    pub disposition: Option<String>,
    /// Attorney of record (`legal.representation`).
    pub represented: bool,
    /// Since when represented (`legal.representation`).
    pub represented_since: Option<Date>,
    /// Relief sought: asylum, TPS, SIJS ... (`legal.relief`).
    pub relief_sought: Vec<String>,
    /// VAWA/T/U relief (`legal.relief.protected`).
    pub protected_relief: Option<ProtectedRelief>,
}

#[derive(Serialize, Deserialize)]
struct LegalCaseSection {
    court: Option<String>,
    disposition: Option<String>,
}

#[derive(Serialize, Deserialize)]
struct RepresentationSection {
    represented: bool,
    since: Option<Date>,
}

/// Kinds of health record.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum HealthKind {
    /// Mental health (`health.mental`).
    Mental,
    /// Substance use (`health.substance_use`, 42 CFR Part 2).
    SubstanceUse,
    /// Physical health, pregnancy, disability (`health.physical`).
    Physical,
}

impl HealthKind {
    fn category(self) -> Category {
        match self {
            Self::Mental => Category::HealthMental,
            Self::SubstanceUse => Category::HealthSubstanceUse,
            Self::Physical => Category::HealthPhysical,
        }
    }
}

/// A health record.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct HealthRecord {
    /// Kind (decides the category).
    pub kind: HealthKind,
    /// When.
    pub date: Date,
    /// The clinician's summary.
    pub summary: String,
}

/// A departure plan (`departure.plan`).
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DeparturePlan {
    /// Intended country.
    pub country: String,
    /// Intended window.
    pub window: Option<String>,
    /// Travel-document status.
    pub travel_documents: Option<String>,
    /// Reintegration partner.
    pub partner: Option<String>,
}

redacted_debug!(
    ForeignDocument,
    Identity,
    Randomization,
    Exit,
    Enrollment,
    HouseholdLink,
    PostalAddress,
    Filing,
    Filings,
    AddressEpisode,
    CheckIn,
    Hearing,
    ServiceEvent,
    Screening,
    Referral,
    ConsentRecord,
    CaseNote,
    ProtectedRelief,
    LegalStatus,
    HealthRecord,
    DeparturePlan,
);

// ---------------------------------------------------------------------------------------------
// Records and their sections

/// The kind of a record: the one plaintext label a row carries. Kinds are coarse on purpose
/// (`legal` covers protected relief) so the kind never reveals a sensitive fact.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RecordKind {
    /// [`Identity`].
    Identity,
    /// [`Enrollment`].
    Enrollment,
    /// [`HouseholdLink`].
    Household,
    /// [`AddressEpisode`].
    Address,
    /// [`CheckIn`].
    CheckIn,
    /// [`Hearing`].
    Hearing,
    /// [`ServiceEvent`].
    Service,
    /// [`Screening`].
    Screening,
    /// [`Referral`].
    Referral,
    /// [`ConsentRecord`].
    Consent,
    /// [`CaseNote`].
    Note,
    /// [`LegalStatus`].
    Legal,
    /// [`HealthRecord`].
    Health,
    /// [`DeparturePlan`].
    Departure,
}

impl RecordKind {
    /// Every kind.
    pub const ALL: [RecordKind; 14] = [
        Self::Identity,
        Self::Enrollment,
        Self::Household,
        Self::Address,
        Self::CheckIn,
        Self::Hearing,
        Self::Service,
        Self::Screening,
        Self::Referral,
        Self::Consent,
        Self::Note,
        Self::Legal,
        Self::Health,
        Self::Departure,
    ];

    /// The stable name stored in the `kind` column.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Identity => "identity",
            Self::Enrollment => "enrollment",
            Self::Household => "household",
            Self::Address => "address",
            Self::CheckIn => "check_in",
            Self::Hearing => "hearing",
            Self::Service => "service",
            Self::Screening => "screening",
            Self::Referral => "referral",
            Self::Consent => "consent",
            Self::Note => "note",
            Self::Legal => "legal",
            Self::Health => "health",
            Self::Departure => "departure",
        }
    }

    /// Parses a stored kind name.
    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|k| k.as_str() == s)
    }

    /// A client has at most one record of these kinds.
    pub fn is_singular(self) -> bool {
        matches!(self, Self::Identity | Self::Enrollment | Self::Legal)
    }
}

/// Any record.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "record", rename_all = "snake_case")]
#[non_exhaustive]
#[expect(
    clippy::large_enum_variant,
    reason = "records are built and stored one at a time; boxing Identity would burden every caller"
)]
pub enum Record {
    /// Identity.
    Identity(Identity),
    /// Enrollment.
    Enrollment(Enrollment),
    /// Household membership.
    Household(HouseholdLink),
    /// Address episode.
    Address(AddressEpisode),
    /// ICE check-in.
    CheckIn(CheckIn),
    /// Court hearing.
    Hearing(Hearing),
    /// Service event.
    Service(ServiceEvent),
    /// Screening.
    Screening(Screening),
    /// Referral.
    Referral(Referral),
    /// Consent.
    Consent(ConsentRecord),
    /// Case note.
    Note(CaseNote),
    /// Immigration case.
    Legal(LegalStatus),
    /// Health record.
    Health(HealthRecord),
    /// Departure plan.
    Departure(DeparturePlan),
}

impl Record {
    /// The record's kind.
    pub fn kind(&self) -> RecordKind {
        match self {
            Self::Identity(_) => RecordKind::Identity,
            Self::Enrollment(_) => RecordKind::Enrollment,
            Self::Household(_) => RecordKind::Household,
            Self::Address(_) => RecordKind::Address,
            Self::CheckIn(_) => RecordKind::CheckIn,
            Self::Hearing(_) => RecordKind::Hearing,
            Self::Service(_) => RecordKind::Service,
            Self::Screening(_) => RecordKind::Screening,
            Self::Referral(_) => RecordKind::Referral,
            Self::Consent(_) => RecordKind::Consent,
            Self::Note(_) => RecordKind::Note,
            Self::Legal(_) => RecordKind::Legal,
            Self::Health(_) => RecordKind::Health,
            Self::Departure(_) => RecordKind::Departure,
        }
    }

    /// Splits the record into its category sections (plaintext JSON each).
    pub(crate) fn write_sections(&self, w: &mut SectionWriter) -> Result<()> {
        use Category as C;
        match self {
            Self::Identity(i) => {
                w.put(
                    C::IdentifierAlienNumber,
                    &AlienNumberSection { canonical: i.a_number.clone(), as_entered: i.a_number_as_entered.clone() },
                )?;
                // The DHS verbatim form has its own key, so the ICE path can read it and nothing
                // else of the name.
                w.put(C::IdentifierNameDhs, &i.name.verbatim_dhs)?;
                w.put(C::IdentifierName, &PersonName { verbatim_dhs: String::new(), ..i.name.clone() })?;
                w.put_some(C::IdentifierDob, &i.dob)?;
                w.put_some(C::IdentifierIceSubject, &i.ice_subject_id)?;
                w.put_some(C::IdentifierTax, &i.tax_id)?;
                w.put_nonempty(C::IdentifierForeignDocument, &i.foreign_documents)?;
                w.put_nonempty(C::DemographicNationality, &i.nationality)?;
                if !i.languages.is_empty() || i.interpreter_needed {
                    w.put(
                        C::DemographicLanguage,
                        &LanguageSection { languages: i.languages.clone(), interpreter_needed: i.interpreter_needed },
                    )?;
                }
                w.put_some(C::DemographicSexGender, &i.sex_gender)?;
                w.put_some(C::DemographicEthnicity, &i.ethnicity)?;
                w.put_nonempty(C::ContactPhone, &i.phones)?;
                w.put_nonempty(C::ContactEmail, &i.emails)?;
            }
            Self::Enrollment(e) => {
                w.put(C::ProgramSite, &e.site)?;
                w.put(
                    C::ProgramEnrollment,
                    &EnrollmentSection { enrolled_on: e.enrolled_on, caseworker: e.caseworker.clone() },
                )?;
                w.put_some(C::ProgramReferralSource, &e.referral_source)?;
                w.put_some(C::LegalReleaseBasis, &e.release_basis)?;
                w.put_some(C::EvaluationRandomization, &e.randomization)?;
                w.put_some(C::ProgramExit, &e.exit)?;
                if e.vawa_grantee {
                    w.put(C::RegimeVawaGrantee, &true)?;
                }
            }
            Self::Household(h) => {
                w.put(
                    C::HouseholdComposition,
                    &HouseholdSection {
                        household_id: h.household_id.clone(),
                        lead_a_number: h.lead_a_number.clone(),
                        size: h.size,
                        minors: h.minors,
                    },
                )?;
                w.put(C::HouseholdRelationship, &h.relationship)?;
            }
            Self::Address(a) => {
                w.put(
                    C::ContactAddress,
                    &AddressHistorySection { address: a.address.clone(), moved_on: a.moved_on, until: a.until },
                )?;
                w.put(C::SafetyLocationConfidential, &a.confidential)?;
                if let Some(reported_on) = a.reported_to_ice_on {
                    w.put(
                        C::ObligationAddressOfRecord,
                        &AddressOfRecordSection { address: a.address.clone(), reported_on },
                    )?;
                }
                if !a.filings.is_empty() {
                    w.put(C::ObligationAddressFiling, &a.filings)?;
                }
            }
            Self::CheckIn(c) => {
                w.put(
                    C::ObligationReportingNext,
                    &CheckInSection {
                        date: c.date,
                        time: c.time.clone(),
                        office: c.office.clone(),
                        modality: c.modality,
                    },
                )?;
                w.put_some(C::ObligationReportingAttendance, &c.attendance)?;
            }
            Self::Hearing(h) => {
                w.put(
                    C::ObligationCourtNext,
                    &HearingSection { date: h.date, time: h.time.clone(), court: h.court.clone(), kind: h.kind },
                )?;
                w.put_some(C::LegalCase, &h.outcome)?;
            }
            Self::Service(s) => w.put(C::ServiceEvent, s)?,
            Self::Screening(s) => w.put(s.kind.category(), s)?,
            Self::Referral(r) => w.put(C::Referral(r.kind), r)?,
            Self::Consent(c) => w.put(C::Consent, c)?,
            Self::Note(n) => w.put(if n.psychotherapy { C::HealthMentalPsychotherapyNote } else { C::NoteCase }, n)?,
            Self::Legal(l) => {
                w.put(C::LegalCase, &LegalCaseSection { court: l.court.clone(), disposition: l.disposition.clone() })?;
                w.put(
                    C::LegalRepresentation,
                    &RepresentationSection { represented: l.represented, since: l.represented_since },
                )?;
                w.put_nonempty(C::LegalRelief, &l.relief_sought)?;
                w.put_some(C::LegalReliefProtected, &l.protected_relief)?;
            }
            Self::Health(h) => w.put(h.kind.category(), h)?,
            Self::Departure(d) => w.put(C::DeparturePlan, d)?,
        }
        Ok(())
    }

    /// Rebuilds a whole record from all its opened sections.
    pub(crate) fn read_sections(kind: RecordKind, r: &SectionReader<'_>) -> Result<Self> {
        use Category as C;
        Ok(match kind {
            RecordKind::Identity => {
                let a: AlienNumberSection = r.get(C::IdentifierAlienNumber)?;
                let lang: Option<LanguageSection> = r.opt(C::DemographicLanguage)?;
                let (languages, interpreter_needed) =
                    lang.map_or((Vec::new(), false), |l| (l.languages, l.interpreter_needed));
                let mut name: PersonName = r.get(C::IdentifierName)?;
                // Records written before the DHS form had its own section (schema 1) keep it
                // inside the name section; the open-time upgrade rewrites them.
                if let Some(dhs) = r.opt(C::IdentifierNameDhs)? {
                    name.verbatim_dhs = dhs;
                }
                Self::Identity(Identity {
                    a_number: a.canonical,
                    a_number_as_entered: a.as_entered,
                    name,
                    dob: r.opt(C::IdentifierDob)?,
                    ice_subject_id: r.opt(C::IdentifierIceSubject)?,
                    tax_id: r.opt(C::IdentifierTax)?,
                    foreign_documents: r.vec(C::IdentifierForeignDocument)?,
                    nationality: r.vec(C::DemographicNationality)?,
                    languages,
                    interpreter_needed,
                    sex_gender: r.opt(C::DemographicSexGender)?,
                    ethnicity: r.opt(C::DemographicEthnicity)?,
                    phones: r.vec(C::ContactPhone)?,
                    emails: r.vec(C::ContactEmail)?,
                })
            }
            RecordKind::Enrollment => {
                let e: EnrollmentSection = r.get(C::ProgramEnrollment)?;
                Self::Enrollment(Enrollment {
                    site: r.get(C::ProgramSite)?,
                    enrolled_on: e.enrolled_on,
                    caseworker: e.caseworker,
                    referral_source: r.opt(C::ProgramReferralSource)?,
                    release_basis: r.opt(C::LegalReleaseBasis)?,
                    randomization: r.opt(C::EvaluationRandomization)?,
                    exit: r.opt(C::ProgramExit)?,
                    vawa_grantee: r.opt(C::RegimeVawaGrantee)?.unwrap_or(false),
                })
            }
            RecordKind::Household => {
                let h: HouseholdSection = r.get(C::HouseholdComposition)?;
                Self::Household(HouseholdLink {
                    household_id: h.household_id,
                    lead_a_number: h.lead_a_number,
                    size: h.size,
                    minors: h.minors,
                    relationship: r.get(C::HouseholdRelationship)?,
                })
            }
            RecordKind::Address => {
                let h: AddressHistorySection = r.get(C::ContactAddress)?;
                let of_record: Option<AddressOfRecordSection> = r.opt(C::ObligationAddressOfRecord)?;
                Self::Address(AddressEpisode {
                    address: h.address,
                    moved_on: h.moved_on,
                    until: h.until,
                    confidential: r.get(C::SafetyLocationConfidential)?,
                    reported_to_ice_on: of_record.map(|o| o.reported_on),
                    filings: r.opt(C::ObligationAddressFiling)?.unwrap_or_default(),
                })
            }
            RecordKind::CheckIn => {
                let c: CheckInSection = r.get(C::ObligationReportingNext)?;
                Self::CheckIn(CheckIn {
                    date: c.date,
                    time: c.time,
                    office: c.office,
                    modality: c.modality,
                    attendance: r.opt(C::ObligationReportingAttendance)?,
                })
            }
            RecordKind::Hearing => {
                let h: HearingSection = r.get(C::ObligationCourtNext)?;
                Self::Hearing(Hearing {
                    date: h.date,
                    time: h.time,
                    court: h.court,
                    kind: h.kind,
                    outcome: r.opt(C::LegalCase)?,
                })
            }
            RecordKind::Service => Self::Service(r.get(C::ServiceEvent)?),
            RecordKind::Screening => Self::Screening(r.only()?),
            RecordKind::Referral => Self::Referral(r.only()?),
            RecordKind::Consent => Self::Consent(r.get(C::Consent)?),
            RecordKind::Note => Self::Note(r.only()?),
            RecordKind::Legal => {
                let c: LegalCaseSection = r.get(C::LegalCase)?;
                let rep: RepresentationSection = r.get(C::LegalRepresentation)?;
                Self::Legal(LegalStatus {
                    court: c.court,
                    disposition: c.disposition,
                    represented: rep.represented,
                    represented_since: rep.since,
                    relief_sought: r.vec(C::LegalRelief)?,
                    protected_relief: r.opt(C::LegalReliefProtected)?,
                })
            }
            RecordKind::Health => Self::Health(r.only()?),
            RecordKind::Departure => Self::Departure(r.get(C::DeparturePlan)?),
        })
    }

    /// Rebuilds a record from a partial read (the board's declared categories). A section the
    /// record's shape requires but the reader did not open is filled with a neutral stand-in
    /// that no table reads (an empty name, `false`, no court); when the missing section carries
    /// the record's date, the record cannot be placed in time and is left out (`None`).
    pub(crate) fn read_partial(kind: RecordKind, mut r: SectionReader<'_>) -> Result<Option<Self>> {
        use Category as C;
        // The stand-in A-number is a syntactically valid constant: the record type needs one,
        // and no table reads an identity's A-number.
        let stand_ins: &[(Category, Option<&'static [u8]>)] = match kind {
            RecordKind::Identity => &[
                (C::IdentifierAlienNumber, Some(br#"{"canonical":"A000000001","as_entered":""}"#)),
                (C::IdentifierName, Some(b"{}")),
            ],
            RecordKind::Enrollment => &[(C::ProgramEnrollment, None), (C::ProgramSite, Some(br#""""#))],
            RecordKind::Household => &[
                (
                    C::HouseholdComposition,
                    Some(br#"{"household_id":"","lead_a_number":null,"size":null,"minors":null}"#),
                ),
                (C::HouseholdRelationship, Some(br#""other""#)),
            ],
            RecordKind::Address => &[(C::ContactAddress, None), (C::SafetyLocationConfidential, Some(b"false"))],
            RecordKind::CheckIn => &[(C::ObligationReportingNext, None)],
            RecordKind::Hearing => &[(C::ObligationCourtNext, None)],
            RecordKind::Service => &[(C::ServiceEvent, None)],
            RecordKind::Consent => &[(C::Consent, None)],
            RecordKind::Legal => &[
                (C::LegalCase, Some(br#"{"court":null,"disposition":null}"#)),
                (C::LegalRepresentation, Some(br#"{"represented":false,"since":null}"#)),
            ],
            RecordKind::Departure => &[(C::DeparturePlan, None)],
            RecordKind::Screening | RecordKind::Referral | RecordKind::Note | RecordKind::Health => &[],
        };
        // Nothing opened: no record, rather than one made of stand-ins alone.
        if r.sections.is_empty() {
            return Ok(None);
        }
        for &(category, stand_in) in stand_ins {
            if r.sections.contains_key(&category) {
                continue;
            }
            match stand_in {
                Some(bytes) => {
                    r.sections.insert(category, bytes);
                }
                None => return Ok(None),
            }
        }
        Self::read_sections(kind, &r).map(Some)
    }

    /// The categories a record of this kind may contain: the keys a full read needs.
    pub(crate) fn possible_categories(kind: RecordKind) -> &'static [Category] {
        use Category as C;
        use ServiceKind as S;
        match kind {
            RecordKind::Identity => &[
                C::IdentifierAlienNumber,
                C::IdentifierNameDhs,
                C::IdentifierName,
                C::IdentifierDob,
                C::IdentifierIceSubject,
                C::IdentifierTax,
                C::IdentifierForeignDocument,
                C::DemographicNationality,
                C::DemographicLanguage,
                C::DemographicSexGender,
                C::DemographicEthnicity,
                C::ContactPhone,
                C::ContactEmail,
            ],
            RecordKind::Enrollment => &[
                C::ProgramSite,
                C::ProgramEnrollment,
                C::ProgramReferralSource,
                C::LegalReleaseBasis,
                C::EvaluationRandomization,
                C::ProgramExit,
                C::RegimeVawaGrantee,
            ],
            RecordKind::Household => &[C::HouseholdComposition, C::HouseholdRelationship],
            RecordKind::Address => &[
                C::ContactAddress,
                C::SafetyLocationConfidential,
                C::ObligationAddressOfRecord,
                C::ObligationAddressFiling,
            ],
            RecordKind::CheckIn => &[C::ObligationReportingNext, C::ObligationReportingAttendance],
            RecordKind::Hearing => &[C::ObligationCourtNext, C::LegalCase],
            RecordKind::Service => &[C::ServiceEvent],
            RecordKind::Screening => &[C::ScreeningTrafficking, C::ScreeningMentalHealth, C::ScreeningDv],
            RecordKind::Referral => &[
                C::Referral(S::LegalOrientation),
                C::Referral(S::LegalServices),
                C::Referral(S::CulturalOrientation),
                C::Referral(S::MentalHealth),
                C::Referral(S::HealthEnrollment),
                C::Referral(S::Itin),
                C::Referral(S::Food),
                C::Referral(S::Housing),
                C::Referral(S::Language),
                C::Referral(S::School),
                C::Referral(S::Transport),
                C::Referral(S::Employment),
                C::Referral(S::Departure),
                C::Referral(S::Reintegration),
            ],
            RecordKind::Consent => &[C::Consent],
            RecordKind::Note => &[C::NoteCase, C::HealthMentalPsychotherapyNote],
            RecordKind::Legal => &[C::LegalCase, C::LegalRepresentation, C::LegalRelief, C::LegalReliefProtected],
            RecordKind::Health => &[C::HealthMental, C::HealthSubstanceUse, C::HealthPhysical],
            RecordKind::Departure => &[C::DeparturePlan],
        }
    }
}

/// A record read back from the vault, with its id.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct StoredRecord {
    /// The record's id (use it to update the record).
    pub id: RecordId,
    /// The record.
    pub record: Record,
}

/// Everything stored for one client, as the caseworker sees it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ClientRecord {
    /// The client's internal id.
    pub id: ClientId,
    /// Every record, oldest first.
    pub records: Vec<StoredRecord>,
}

impl ClientRecord {
    /// The identity record.
    pub fn identity(&self) -> Option<&Identity> {
        self.records.iter().find_map(|r| match &r.record {
            Record::Identity(i) => Some(i),
            _ => None,
        })
    }

    /// The enrollment record.
    pub fn enrollment(&self) -> Option<&Enrollment> {
        self.records.iter().find_map(|r| match &r.record {
            Record::Enrollment(e) => Some(e),
            _ => None,
        })
    }

    /// Records of one kind.
    pub fn of_kind(&self, kind: RecordKind) -> impl Iterator<Item = &StoredRecord> {
        self.records.iter().filter(move |r| r.record.kind() == kind)
    }
}

/// What a new client is enrolled with: identity, enrollment and any further records.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Intake {
    /// Who.
    pub identity: Identity,
    /// Where and when.
    pub enrollment: Enrollment,
    /// Anything else known at intake (household, address, hearings ...).
    pub records: Vec<Record>,
}

/// Receives a record's sections one by one as (category, plaintext JSON). The JSON is written
/// into one scratch buffer that is reused and zeroized, so no copy of a plaintext section is
/// left behind in freed memory.
pub(crate) struct SectionWriter<'a> {
    scratch: Zeroizing<Vec<u8>>,
    sink: &'a mut dyn FnMut(Category, &[u8]) -> Result<()>,
}

impl<'a> SectionWriter<'a> {
    pub(crate) fn new(sink: &'a mut dyn FnMut(Category, &[u8]) -> Result<()>) -> Self {
        Self { scratch: Zeroizing::new(Vec::with_capacity(512)), sink }
    }

    fn put<T: Serialize + ?Sized>(&mut self, category: Category, value: &T) -> Result<()> {
        // Each section overwrites the buffer from the start; the whole capacity is zeroized once,
        // when the writer is dropped (zeroizing per section is byte-wise and costs more than the
        // encryption).
        self.scratch.clear();
        serde_json::to_writer(&mut *self.scratch, value)
            .map_err(|_| Error::internal("a record field could not be serialized"))?;
        (self.sink)(category, &self.scratch)
    }

    fn put_some<T: Serialize>(&mut self, category: Category, value: &Option<T>) -> Result<()> {
        match value {
            Some(v) => self.put(category, v),
            None => Ok(()),
        }
    }

    fn put_nonempty<T: Serialize>(&mut self, category: Category, value: &[T]) -> Result<()> {
        if value.is_empty() {
            Ok(())
        } else {
            self.put(category, value)
        }
    }
}

/// The opened sections of one record: plaintext slices of a buffer the caller zeroizes.
pub(crate) struct SectionReader<'b> {
    pub(crate) sections: BTreeMap<Category, &'b [u8]>,
    pub(crate) record: RecordId,
}

impl SectionReader<'_> {
    fn parse<T: DeserializeOwned>(&self, bytes: &[u8]) -> Result<T> {
        serde_json::from_slice(bytes)
            .map_err(|_| Error::corrupt("record", self.record, "a section does not hold the expected fields"))
    }

    fn get<T: DeserializeOwned>(&self, category: Category) -> Result<T> {
        match self.sections.get(&category) {
            Some(b) => self.parse(b),
            None => Err(Error::corrupt("record", self.record, "a required section is missing")),
        }
    }

    fn opt<T: DeserializeOwned>(&self, category: Category) -> Result<Option<T>> {
        self.sections.get(&category).map(|b| self.parse(b)).transpose()
    }

    fn vec<T: DeserializeOwned>(&self, category: Category) -> Result<Vec<T>> {
        Ok(self.opt(category)?.unwrap_or_default())
    }

    /// The one section of a single-category record.
    fn only<T: DeserializeOwned>(&self) -> Result<T> {
        let mut it = self.sections.values();
        match (it.next(), it.next()) {
            (Some(b), None) => self.parse(b),
            _ => Err(Error::corrupt("record", self.record, "expected exactly one section")),
        }
    }
}
