//! caseward for Python, Kotlin and Swift: one `Vault` object and plain records (README.md, "From
//! Python and Kotlin").
//!
//! This crate holds no logic. Every call converts its arguments, forwards to [`caseward`], and
//! converts the result; every failure crosses as one [`CasewardError`] whose text is the core
//! error's, which never contains client data. Dates cross as native dates ([`IsoDate`]:
//! `datetime.date` in Python, `java.time.LocalDate` in Kotlin) and client ids as 32
//! hexadecimal digits. What the vault discloses (an ICE notice, a view, the client's copy, a
//! partner referral) comes back as an object only the vault builds, whose `to_json()` is the
//! logged output.

uniffi::setup_scaffolding!();

mod a_number;
mod convert;
mod date;
mod deadlines;
mod enums;
mod error;
mod extract;
mod keys;
mod log;
mod lottery;
mod notice;
mod records;
mod redact;
mod report;
mod vault;
mod view;

pub use a_number::normalize_a_number;
pub use date::{parse_date, IsoDate};
pub use deadlines::{Deadline, Deadlines};
pub use enums::{
    Arm, Attendance, DatePrecision, DateProvenance, ExitReason, HealthKind, HearingKind, HearingOutcome, Modality,
    ProtectedReliefKind, ReferralSource, ReferralStatus, Relationship, ReleaseBasis, ScreeningKind, ServiceKind,
};
pub use error::CasewardError;
pub use extract::{open_extract, ExtractFiles, OpenedExtract};
pub use keys::{generate_keystore_key, KeyEnvelope, RecoveryKey};
pub use log::LogStatus;
pub use lottery::{verify_lottery, LotteryFiles};
pub use notice::{IceNotice, NoticeCheckIn, NoticeCourtDate};
pub use records::input::{
    Address, BirthDate, CheckIn, Consent, Departure, Exit, ForeignDocument, Health, Hearing, Household, Intake, Legal,
    Name, Randomization, Referral, Screening, Service,
};
pub use records::stored::{ConsentRecord, EnrollmentRecord, IdentityRecord, Note, RecordValue, StoredRecord};
pub use report::ReportInputs;
pub use vault::Vault;
pub use view::{ClientView, ViewRecord};
