//! Data categories: the closed vocabulary every stored field is labelled with, and the only
//! words a disclosure policy may use.
//!
//! Each label has a stable dotted name (`obligation.reporting.next`). The names are part of the
//! policy file format and of the key derivation (a category key is derived from the client key
//! and the name), so they never change; new labels may be added.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

use crate::error::Error;

/// Kinds of service, as CMPP lists them; used by service events and referrals.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ServiceKind {
    /// Legal orientation program.
    LegalOrientation,
    /// Referral to, or help from, legal services (representation).
    LegalServices,
    /// Cultural orientation.
    CulturalOrientation,
    /// Mental-health services.
    MentalHealth,
    /// Health-care enrollment.
    HealthEnrollment,
    /// ITIN application assistance.
    Itin,
    /// Food assistance.
    Food,
    /// Housing assistance.
    Housing,
    /// Language classes or interpretation.
    Language,
    /// School enrollment of children.
    School,
    /// Transportation.
    Transport,
    /// Employment and job training.
    Employment,
    /// Departure planning.
    Departure,
    /// Reintegration services.
    Reintegration,
}

impl ServiceKind {
    /// Every kind, in a stable order.
    pub const ALL: [ServiceKind; 14] = [
        Self::LegalOrientation,
        Self::LegalServices,
        Self::CulturalOrientation,
        Self::MentalHealth,
        Self::HealthEnrollment,
        Self::Itin,
        Self::Food,
        Self::Housing,
        Self::Language,
        Self::School,
        Self::Transport,
        Self::Employment,
        Self::Departure,
        Self::Reintegration,
    ];

    /// The stable snake_case name.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::LegalOrientation => "legal_orientation",
            Self::LegalServices => "legal_services",
            Self::CulturalOrientation => "cultural_orientation",
            Self::MentalHealth => "mental_health",
            Self::HealthEnrollment => "health_enrollment",
            Self::Itin => "itin",
            Self::Food => "food",
            Self::Housing => "housing",
            Self::Language => "language",
            Self::School => "school",
            Self::Transport => "transport",
            Self::Employment => "employment",
            Self::Departure => "departure",
            Self::Reintegration => "reintegration",
        }
    }

    fn referral_label(self) -> &'static str {
        match self {
            Self::LegalOrientation => "referral.legal_orientation",
            Self::LegalServices => "referral.legal_services",
            Self::CulturalOrientation => "referral.cultural_orientation",
            Self::MentalHealth => "referral.mental_health",
            Self::HealthEnrollment => "referral.health_enrollment",
            Self::Itin => "referral.itin",
            Self::Food => "referral.food",
            Self::Housing => "referral.housing",
            Self::Language => "referral.language",
            Self::School => "referral.school",
            Self::Transport => "referral.transport",
            Self::Employment => "referral.employment",
            Self::Departure => "referral.departure",
            Self::Reintegration => "referral.reintegration",
        }
    }
}

impl FromStr for ServiceKind {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self, Error> {
        Self::ALL
            .into_iter()
            .find(|k| k.as_str() == s)
            .ok_or_else(|| Error::input(format!("unknown service kind {}", crate::error::echo(s))))
    }
}

macro_rules! categories {
    ($( $(#[$doc:meta])* $variant:ident => $name:literal, )*) => {
        /// A data category label. See the module docs.
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub enum Category {
            $( $(#[$doc])* $variant, )*
            /// A referral to a service of that kind (`referral.<kind>`).
            Referral(ServiceKind),
        }

        const FIXED: &[Category] = &[ $( Category::$variant, )* ];

        impl Category {
            /// The stable dotted name.
            pub fn as_str(self) -> &'static str {
                match self {
                    $( Self::$variant => $name, )*
                    Self::Referral(kind) => kind.referral_label(),
                }
            }
        }
    };
}

categories! {
    /// Canonical A-number and the form it was entered in.
    IdentifierAlienNumber => "identifier.alien_number",
    /// Name: parts, the client's own verbatim form, aliases, preferred name.
    IdentifierName => "identifier.name",
    /// The name exactly as on ICE/EOIR paperwork: the only name form an ICE notice may carry,
    /// so it has its own key (see ARCHITECTURE.md).
    IdentifierNameDhs => "identifier.name.dhs",
    /// Date of birth with its precision and provenance.
    IdentifierDob => "identifier.dob",
    /// ICE Subject ID (Form I-385) and other DHS ids.
    IdentifierIceSubject => "identifier.ice_subject",
    /// SSN or ITIN.
    IdentifierTax => "identifier.tax",
    /// Passport, national id, consular id numbers.
    IdentifierForeignDocument => "identifier.foreign_document",
    /// Country of birth and citizenship.
    DemographicNationality => "demographic.nationality",
    /// Languages, interpreter need.
    DemographicLanguage => "demographic.language",
    /// Sex and gender.
    DemographicSexGender => "demographic.sex_gender",
    /// Ethnicity, including Indigenous identity.
    DemographicEthnicity => "demographic.ethnicity",
    /// Phone numbers.
    ContactPhone => "contact.phone",
    /// E-mail addresses.
    ContactEmail => "contact.email",
    /// Postal addresses (history).
    ContactAddress => "contact.address",
    /// Shelter, DV or otherwise confidential location flag.
    SafetyLocationConfidential => "safety.location_confidential",
    /// Household membership, lead A-number, size.
    HouseholdComposition => "household.composition",
    /// Relationship to the household lead.
    HouseholdRelationship => "household.relationship",
    /// Program site.
    ProgramSite => "program.site",
    /// Enrollment dates and caseworker.
    ProgramEnrollment => "program.enrollment",
    /// Who referred the client to the program.
    ProgramReferralSource => "program.referral_source",
    /// Exit date and reason.
    ProgramExit => "program.exit",
    /// Randomized-evaluation selection and arm.
    EvaluationRandomization => "evaluation.randomization",
    /// Release basis (ATD, parole, bond, OREC, OSUP, NTA only).
    LegalReleaseBasis => "legal.release_basis",
    /// Immigration case: court, hearings, outcomes, disposition.
    LegalCase => "legal.case",
    /// Attorney of record.
    LegalRepresentation => "legal.representation",
    /// Relief sought (asylum, TPS, SIJS, ...).
    LegalRelief => "legal.relief",
    /// VAWA, T or U relief (8 U.S.C. 1367).
    LegalReliefProtected => "legal.relief.protected",
    /// The address of record as reported to ICE, and when.
    ObligationAddressOfRecord => "obligation.address.of_record",
    /// AR-11, EOIR-33 and ICE-portal filing confirmations.
    ObligationAddressFiling => "obligation.address.filing",
    /// The next ICE check-in as ICE set it.
    ObligationReportingNext => "obligation.reporting.next",
    /// Whether a check-in was attended (never leaves for ICE).
    ObligationReportingAttendance => "obligation.reporting.attendance",
    /// The next court hearing.
    ObligationCourtNext => "obligation.court.next",
    /// A service delivered.
    ServiceEvent => "service.event",
    /// Trafficking screening.
    ScreeningTrafficking => "screening.trafficking",
    /// Mental-health screening.
    ScreeningMentalHealth => "screening.mental_health",
    /// Domestic-violence screening.
    ScreeningDv => "screening.dv",
    /// Mental-health care.
    HealthMental => "health.mental",
    /// Psychotherapy notes (author only).
    HealthMentalPsychotherapyNote => "health.mental.psychotherapy_note",
    /// Substance-use records (42 CFR Part 2).
    HealthSubstanceUse => "health.substance_use",
    /// Physical health, pregnancy, disability.
    HealthPhysical => "health.physical",
    /// Departure plan.
    DeparturePlan => "departure.plan",
    /// Consents given and revoked.
    Consent => "consent",
    /// Free-text case notes.
    NoteCase => "note.case",
    /// Audit metadata.
    SystemAudit => "system.audit",
    /// The client is served under a VAWA/FVPSA/VOCA grant: aggregates only, never pseudonymized.
    RegimeVawaGrantee => "regime.vawa_grantee",
}

impl Category {
    /// Every label, fixed ones first, then `referral.<kind>` for each service kind.
    pub fn all() -> impl Iterator<Item = Category> {
        FIXED.iter().copied().chain(ServiceKind::ALL.into_iter().map(Category::Referral))
    }
}

impl fmt::Display for Category {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Category {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self, Error> {
        Self::all()
            .find(|c| c.as_str() == s)
            .ok_or_else(|| Error::input(format!("unknown category {}", crate::error::echo(s))))
    }
}

impl Serialize for Category {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

impl<'de> Deserialize<'de> for Category {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        s.parse().map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_unique_and_round_trip() {
        let all: Vec<_> = Category::all().collect();
        let mut names: Vec<_> = all.iter().map(|c| c.as_str()).collect();
        names.sort_unstable();
        names.dedup();
        assert_eq!(names.len(), all.len());
        for c in all {
            assert_eq!(c.as_str().parse::<Category>().unwrap(), c);
        }
        assert!("referral.housing".parse::<Category>().is_ok());
        assert!("health.everything".parse::<Category>().is_err());
    }
}
