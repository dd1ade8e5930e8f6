//! The enums mirrored from the core: same names, same variants, converted both ways (the
//! compiler checks both directions, so a variant added on one side fails the build).

use caseward as cw;

macro_rules! mirror_enum {
    ($(#[$m:meta])* $name:ident => $core:ty { $($v:ident),* $(,)? }) => {
        $(#[$m])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, uniffi::Enum)]
        #[allow(missing_docs, reason = "the variants are documented on the core type")]
        pub enum $name { $($v),* }
        impl From<$name> for $core {
            fn from(x: $name) -> Self { match x { $($name::$v => <$core>::$v),* } }
        }
        impl From<$core> for $name {
            fn from(x: $core) -> Self { match x { $(<$core>::$v => $name::$v),* } }
        }
    };
}

mirror_enum!(/// How precisely a birth date is known.
    DatePrecision => cw::DatePrecision { Day, Month, Year, Approximate });
mirror_enum!(/// Where a birth date came from.
    DateProvenance => cw::DateProvenance { Document, SelfReport, AssignedByAuthority, Unknown });
mirror_enum!(/// The basis of release.
    ReleaseBasis => cw::ReleaseBasis { Atd, Parole, Bond, Orec, Osup, NtaOnly });
mirror_enum!(/// How a check-in happens.
    Modality => cw::Modality { InPerson, App, Phone, Video });
mirror_enum!(/// Whether the client attended a check-in.
    Attendance => cw::Attendance { Attended, Missed, Rescheduled });
mirror_enum!(/// Type of court hearing.
    HearingKind => cw::HearingKind { MasterCalendar, Individual });
mirror_enum!(/// What happened at a hearing.
    HearingOutcome => cw::HearingOutcome { Continued, ContinuedForRespondent, ContinuedForDhs, ContinuedByCourt, Decided, Attended, InAbsentia });
mirror_enum!(/// Kinds of service (CMPP list).
    ServiceKind => cw::ServiceKind { LegalOrientation, LegalServices, CulturalOrientation, MentalHealth, HealthEnrollment, Itin, Food, Housing, Language, School, Transport, Employment, Departure, Reintegration });
mirror_enum!(/// What a screening screens for.
    ScreeningKind => cw::ScreeningKind { Trafficking, MentalHealth, DomesticViolence });
mirror_enum!(/// Status of a referral.
    ReferralStatus => cw::ReferralStatus { Made, Accepted, Completed, Declined });
mirror_enum!(/// Kinds of health record.
    HealthKind => cw::HealthKind { Mental, SubstanceUse, Physical });
mirror_enum!(/// Protected forms of relief (8 U.S.C. 1367).
    ProtectedReliefKind => cw::ProtectedReliefKind { Vawa, TVisa, UVisa, BatteredSpouse });
mirror_enum!(/// Relationship to the household lead.
    Relationship => cw::Relationship { Lead, Spouse, Child, Parent, Sibling, Other });
mirror_enum!(/// Why a client left the program.
    ExitReason => cw::ExitReason { Completed, ReliefGranted, CaseTerminated, RemovalOrder, VoluntaryDeparture, Departed, MovedAway, Withdrew, LostContact, Detained, Deceased });
mirror_enum!(/// Evaluation arm.
    Arm => cw::Arm { Treatment, Control });
mirror_enum!(/// Who referred the client to the program.
    ReferralSource => cw::ReferralSource { IceReferral, BoardSelection, SelfReferral, CommunityOrganization });
