//! caseward for Python, Kotlin and Swift: one `Vault` object and plain records (README.md, "From
//! Python and Kotlin").
//!
//! This crate holds no logic. Every call converts its arguments, forwards to [`caseward`], and
//! converts the result; every failure crosses as one [`CasewardError`] whose text is the core
//! error's, which never contains client data. Dates cross as `YYYY-MM-DD` text and client ids as
//! 32 hexadecimal digits.

use std::str::FromStr;
use std::sync::Arc;

use caseward as cw;

uniffi::setup_scaffolding!();

// ---------------------------------------------------------------------------------------------
// Errors

/// Every failure, by kind. It crosses as a flat error: the foreign exception's message
/// (`str(e)` in Python, `e.message` in Kotlin) is exactly the text below, which says what is
/// wrong and never contains client data.
#[derive(Debug, thiserror::Error, uniffi::Error)]
#[uniffi(flat_error)]
pub enum CasewardError {
    /// The passphrase, key or identity does not open the vault.
    #[error("{reason}")]
    WrongKey { reason: String },
    /// A stored value failed authentication (tampered, truncated, moved), or a bundle was refused.
    #[error("{reason}")]
    Integrity { reason: String },
    /// No such client, record or key.
    #[error("{reason}")]
    NotFound { reason: String },
    /// The disclosure policy does not allow this output.
    #[error("{reason}")]
    Denied { reason: String },
    /// Malformed input (an invalid A-number, a bad date), or a call after `close()`.
    #[error("{reason}")]
    InvalidInput { reason: String },
    /// A policy file is malformed or would widen what the floor allows.
    #[error("{reason}")]
    Policy { reason: String },
    /// The database or file system failed, or the file is not a vault.
    #[error("{reason}")]
    Storage { reason: String },
    /// A noisy report would overspend the period's privacy budget.
    #[error("{reason}")]
    Budget { reason: String },
    /// A failure inside caseward that no input explains (a bug, or the system's random source).
    #[error("{reason}")]
    Internal { reason: String },
}

impl From<cw::Error> for CasewardError {
    fn from(e: cw::Error) -> Self {
        let reason = e.to_string();
        match e.kind() {
            cw::ErrorKind::WrongKey => Self::WrongKey { reason },
            cw::ErrorKind::Integrity => Self::Integrity { reason },
            cw::ErrorKind::NotFound => Self::NotFound { reason },
            cw::ErrorKind::Denied => Self::Denied { reason },
            cw::ErrorKind::InvalidInput => Self::InvalidInput { reason },
            cw::ErrorKind::Policy => Self::Policy { reason },
            cw::ErrorKind::Storage => Self::Storage { reason },
            cw::ErrorKind::Budget => Self::Budget { reason },
            cw::ErrorKind::Internal => Self::Internal { reason },
            // A kind added to the core later crosses as the most cautious existing one.
            _ => Self::Integrity { reason },
        }
    }
}

type Result<T> = std::result::Result<T, CasewardError>;

fn date(text: &str) -> Result<cw::Date> {
    Ok(cw::Date::parse(text)?)
}

fn opt_date(text: &Option<String>) -> Result<Option<cw::Date>> {
    text.as_deref().map(date).transpose()
}

fn client(id: &str) -> Result<cw::ClientId> {
    Ok(cw::ClientId::from_str(id)?)
}

// ---------------------------------------------------------------------------------------------
// Enums mirrored from the core (same variants; the compiler checks both directions)

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

// ---------------------------------------------------------------------------------------------
// Plain records

/// A name: the DHS verbatim form (the only form an ICE notice carries) and the client's own.
#[derive(Debug, Clone, uniffi::Record)]
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
#[derive(Debug, Clone, uniffi::Record)]
pub struct BirthDate {
    pub year: u16,
    pub month: Option<u8>,
    pub day: Option<u8>,
    pub precision: DatePrecision,
    pub provenance: DateProvenance,
}

/// A new client: identity and enrollment.
#[derive(Debug, Clone, uniffi::Record)]
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
}

/// An address episode, with the filings that report it.
#[derive(Debug, Clone, uniffi::Record)]
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
}

/// An ICE check-in.
#[derive(Debug, Clone, uniffi::Record)]
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
#[derive(Debug, Clone, uniffi::Record)]
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
#[derive(Debug, Clone, uniffi::Record)]
pub struct Service {
    pub date: String,
    pub kind: ServiceKind,
    #[uniffi(default = None)]
    pub minutes: Option<u32>,
}

/// A screening.
#[derive(Debug, Clone, uniffi::Record)]
pub struct Screening {
    pub kind: ScreeningKind,
    pub date: String,
    pub instrument: String,
    pub result: String,
    pub positive: bool,
    pub referred: bool,
}

/// A referral to a partner.
#[derive(Debug, Clone, uniffi::Record)]
pub struct Referral {
    pub kind: ServiceKind,
    pub partner: String,
    pub date: String,
    pub status: ReferralStatus,
}

/// The client's immigration case.
#[derive(Debug, Clone, uniffi::Record)]
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
}

/// A health record.
#[derive(Debug, Clone, uniffi::Record)]
pub struct Health {
    pub kind: HealthKind,
    pub date: String,
    pub summary: String,
}

/// A departure plan.
#[derive(Debug, Clone, uniffi::Record)]
pub struct Departure {
    pub country: String,
    #[uniffi(default = None)]
    pub window: Option<String>,
    #[uniffi(default = None)]
    pub partner: Option<String>,
}

/// A consent to share categories with a partner (`partner:<id>`).
#[derive(Debug, Clone, uniffi::Record)]
pub struct Consent {
    pub recipient: String,
    /// Category names, as in the policy (`service.event`, `referral.housing` ...).
    pub categories: Vec<String>,
    pub purpose: String,
    pub signed_on: String,
    pub expires_on: String,
}

/// One duty a move triggered.
#[derive(Debug, Clone, uniffi::Record)]
pub struct Deadline {
    /// `eoir33`, `ice_portal`, `ar11` or `osup_notice`.
    pub duty: String,
    /// What to tell the client.
    pub description: String,
    pub due: String,
    pub met_on: Option<String>,
}

/// The client's obligations: duties of the latest move, and the next check-in and hearing.
#[derive(Debug, Clone, uniffi::Record)]
pub struct Deadlines {
    pub moved_on: Option<String>,
    pub duties: Vec<Deadline>,
    pub earliest_open: Option<Deadline>,
    pub next_check_in: Option<String>,
    pub next_hearing: Option<String>,
}

/// The next check-in, as an ICE notice carries it.
#[derive(Debug, Clone, uniffi::Record)]
pub struct NoticeCheckIn {
    pub date: String,
    pub time: Option<String>,
    pub office: String,
    pub modality: Modality,
}

/// The next court date, as an ICE notice carries it.
#[derive(Debug, Clone, uniffi::Record)]
pub struct NoticeCourtDate {
    pub date: String,
    pub time: Option<String>,
    pub court: String,
}

/// What may go to ICE: the floor and nothing else. `json` is the exact logged output.
#[derive(Debug, Clone, uniffi::Record)]
pub struct IceNotice {
    pub a_number: String,
    pub name: String,
    pub next_check_in: Option<NoticeCheckIn>,
    pub next_court_date: Option<NoticeCourtDate>,
    /// The address of record as lines, or empty when the client reports it directly.
    pub address_lines: Vec<String>,
    /// True when no address is disclosed (the same for every reason).
    pub client_reports_address_directly: bool,
    pub as_of: String,
    pub json: Vec<u8>,
}

/// The result of verifying the disclosure log.
#[derive(Debug, Clone, uniffi::Record)]
pub struct LogStatus {
    pub intact: bool,
    pub entries: u64,
    /// `cwlog1:<seq>:<hash>` when intact and not empty.
    pub head: Option<String>,
    /// What is wrong, when broken.
    pub problem: Option<String>,
}

/// One key envelope: a way to open the vault.
#[derive(Debug, Clone, uniffi::Record)]
pub struct KeyEnvelope {
    /// `passphrase`, `recovery` or `keystore`.
    pub kind: String,
    /// The recovery recipient (`age1...`) or the keystore key's public recipient; none for a
    /// passphrase.
    pub recipient: Option<String>,
}

/// A recovery key: an age X25519 identity the organisation keeps offline. A vault whose key
/// envelopes list its recipient opens with it after the passphrase, or the phone holding the
/// keystore key, is lost. An object, not a record, so printing it shows no secret.
#[derive(uniffi::Object)]
pub struct RecoveryKey {
    identity: cw::RecoveryIdentity,
}

#[uniffi::export]
impl RecoveryKey {
    /// Generates a new recovery key.
    #[uniffi::constructor]
    pub fn generate() -> Arc<Self> {
        Arc::new(Self { identity: cw::RecoveryIdentity::generate() })
    }

    /// The public recipient (`age1...`), for `add_recovery_recipient`.
    pub fn recipient(&self) -> String {
        self.identity.recipient().to_string()
    }

    /// The secret identity (`AGE-SECRET-KEY-1...`), to write once to offline storage.
    pub fn expose_identity(&self) -> String {
        self.identity.to_secret_string().as_str().to_owned()
    }
}

impl std::fmt::Debug for RecoveryKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("RecoveryKey([redacted])")
    }
}

/// A fresh random 32-byte key for a platform keystore entry (`create_with_key`).
#[uniffi::export]
pub fn generate_keystore_key() -> Result<Vec<u8>> {
    Ok(cw::RawKey::generate()?.expose_bytes().to_vec())
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

fn intake(i: &Intake) -> Result<cw::Intake> {
    let mut identity = cw::Identity::new(&i.a_number, person_name(&i.name))?;
    identity.dob = i.birth_date.as_ref().map(birth_date).transpose()?;
    identity.nationality = i.nationality.clone();
    identity.languages = i.languages.clone();
    identity.interpreter_needed = i.interpreter_needed;
    identity.sex_gender = i.sex_gender.clone();
    identity.phones = i.phones.clone();
    identity.emails = i.emails.clone();
    let mut enrollment = cw::Enrollment::new(i.site.clone(), date(&i.enrolled_on)?);
    enrollment.release_basis = i.release_basis.map(Into::into);
    enrollment.vawa_grantee = i.vawa_grantee;
    Ok(cw::Intake { identity, enrollment, records: Vec::new() })
}

fn filing(d: &Option<String>) -> Result<Option<cw::Filing>> {
    Ok(opt_date(d)?.map(|filed_on| cw::Filing { filed_on, confirmation: None }))
}

fn deadline(d: &cw::Deadline) -> Deadline {
    let duty = match d.duty {
        cw::Duty::Eoir33 => "eoir33",
        cw::Duty::IcePortal => "ice_portal",
        cw::Duty::Ar11 => "ar11",
        cw::Duty::OsupNotice => "osup_notice",
    };
    Deadline {
        duty: duty.into(),
        description: d.duty.describe().into(),
        due: d.due.to_string(),
        met_on: d.met_on.map(|m| m.to_string()),
    }
}

// ---------------------------------------------------------------------------------------------
// The vault

/// An open vault. Safe to share between threads; calls are serialized inside. Call `close()`
/// when done (in Kotlin, or use `.use {}`): later calls fail with `InvalidInput`.
#[derive(Debug, uniffi::Object)]
pub struct Vault {
    inner: cw::Vault,
}

fn raw_key(mut key: Vec<u8>) -> Result<cw::RawKey> {
    let k = cw::RawKey::from_bytes(&key);
    zeroize::Zeroize::zeroize(&mut key);
    Ok(k?)
}

#[uniffi::export]
impl Vault {
    /// Creates a vault protected by a passphrase (scrypt 2^16). Never overwrites a file.
    #[uniffi::constructor]
    pub fn create(path: String, passphrase: String) -> Result<Arc<Self>> {
        Ok(Arc::new(Self { inner: cw::Vault::create(path, &cw::Passphrase::new(passphrase))? }))
    }

    /// Creates a vault opened by a raw 32-byte key from the platform keystore.
    #[uniffi::constructor]
    pub fn create_with_key(path: String, key: Vec<u8>) -> Result<Arc<Self>> {
        Ok(Arc::new(Self { inner: cw::Vault::create_with_key(path, &raw_key(key)?)? }))
    }

    /// Opens a vault with its passphrase. A wrong one is `WrongKey`, before any data is read.
    #[uniffi::constructor]
    pub fn open(path: String, passphrase: String) -> Result<Arc<Self>> {
        Ok(Arc::new(Self { inner: cw::Vault::open(path, &cw::Passphrase::new(passphrase))? }))
    }

    /// Opens a vault with a raw 32-byte key.
    #[uniffi::constructor]
    pub fn open_with_key(path: String, key: Vec<u8>) -> Result<Arc<Self>> {
        Ok(Arc::new(Self { inner: cw::Vault::open_with_key(path, &raw_key(key)?)? }))
    }

    /// Opens a vault with a recovery identity (`AGE-SECRET-KEY-1...`, or an age identity
    /// file's contents): the way back in after the passphrase or the keystore key is lost.
    #[uniffi::constructor]
    pub fn open_with_recovery(path: String, identity: String) -> Result<Arc<Self>> {
        let identity = cw::RecoveryIdentity::parse(&zeroize::Zeroizing::new(identity))?;
        Ok(Arc::new(Self { inner: cw::Vault::open_with_identity(path, &identity)? }))
    }

    /// Adds a recovery recipient (`age1...`): its identity can then open the vault.
    pub fn add_recovery_recipient(&self, recipient: String) -> Result<()> {
        Ok(self.inner.add_recovery_recipient(&cw::RecoveryRecipient::parse(&recipient)?)?)
    }

    /// Removes a recovery recipient. The last way to open a vault cannot be removed.
    pub fn remove_recovery_recipient(&self, recipient: String) -> Result<()> {
        Ok(self.inner.remove_recovery_recipient(&cw::RecoveryRecipient::parse(&recipient)?)?)
    }

    /// Adds a passphrase (scrypt 2^16; at least 12 characters) to a vault that has none.
    pub fn add_passphrase(&self, passphrase: String) -> Result<()> {
        Ok(self.inner.add_passphrase(&cw::Passphrase::new(passphrase), cw::KdfParams::default())?)
    }

    /// Removes the passphrase, so only keystore keys and recovery identities open the vault.
    pub fn remove_passphrase(&self) -> Result<()> {
        Ok(self.inner.remove_passphrase()?)
    }

    /// Adds a raw 32-byte keystore key that can open the vault.
    pub fn add_keystore_key(&self, key: Vec<u8>) -> Result<()> {
        Ok(self.inner.add_keystore_key(&raw_key(key)?)?)
    }

    /// Removes a keystore key. The last way to open a vault cannot be removed.
    pub fn remove_keystore_key(&self, key: Vec<u8>) -> Result<()> {
        Ok(self.inner.remove_keystore_key(&raw_key(key)?)?)
    }

    /// The key envelopes that open this vault.
    pub fn envelopes(&self) -> Result<Vec<KeyEnvelope>> {
        Ok(self
            .inner
            .envelopes()?
            .into_iter()
            .map(|e| KeyEnvelope { kind: e.kind.to_string(), recipient: e.recipient })
            .collect())
    }

    /// Enrolls a client; returns the client id.
    pub fn enroll(&self, intake: Intake) -> Result<String> {
        Ok(self.inner.enroll(&self::intake(&intake)?)?.to_string())
    }

    /// The client with this A-number (any written form), if any. Nothing is decrypted.
    pub fn find_by_a_number(&self, a_number: String) -> Result<Option<String>> {
        Ok(self.inner.find_by_a_number(&a_number)?.map(|c| c.to_string()))
    }

    /// Every client id.
    pub fn list_clients(&self) -> Result<Vec<String>> {
        Ok(self.inner.list_clients()?.into_iter().map(|c| c.to_string()).collect())
    }

    /// Records an address episode; returns the record id.
    pub fn record_address(&self, client_id: String, address: Address) -> Result<i64> {
        let record = cw::Record::Address(cw::AddressEpisode {
            address: cw::PostalAddress {
                lines: address.lines.clone(),
                city: address.city.clone(),
                state: address.state.clone(),
                zip: address.zip.clone(),
            },
            moved_on: date(&address.moved_on)?,
            until: None,
            confidential: address.confidential,
            reported_to_ice_on: opt_date(&address.reported_to_ice_on)?,
            filings: cw::Filings {
                ar11: filing(&address.ar11_filed_on)?,
                eoir33: filing(&address.eoir33_filed_on)?,
                ice_portal: filing(&address.ice_portal_filed_on)?,
            },
        });
        self.add(&client_id, &record)
    }

    /// Records an ICE check-in.
    pub fn record_check_in(&self, client_id: String, check_in: CheckIn) -> Result<i64> {
        let record = cw::Record::CheckIn(cw::CheckIn {
            date: date(&check_in.date)?,
            time: check_in.time,
            office: check_in.office,
            modality: check_in.modality.into(),
            attendance: check_in.attendance.map(Into::into),
        });
        self.add(&client_id, &record)
    }

    /// Records a court hearing.
    pub fn record_hearing(&self, client_id: String, hearing: Hearing) -> Result<i64> {
        let record = cw::Record::Hearing(cw::Hearing {
            date: date(&hearing.date)?,
            time: hearing.time,
            court: hearing.court,
            kind: hearing.kind.into(),
            outcome: hearing.outcome.map(Into::into),
        });
        self.add(&client_id, &record)
    }

    /// Records a service.
    pub fn record_service(&self, client_id: String, service: Service) -> Result<i64> {
        let record = cw::Record::Service(cw::ServiceEvent {
            date: date(&service.date)?,
            kind: service.kind.into(),
            minutes: service.minutes,
        });
        self.add(&client_id, &record)
    }

    /// Records a screening.
    pub fn record_screening(&self, client_id: String, screening: Screening) -> Result<i64> {
        let record = cw::Record::Screening(cw::Screening {
            kind: screening.kind.into(),
            date: date(&screening.date)?,
            instrument: screening.instrument,
            result: screening.result,
            positive: screening.positive,
            referred: screening.referred,
        });
        self.add(&client_id, &record)
    }

    /// Records a referral.
    pub fn record_referral(&self, client_id: String, referral: Referral) -> Result<i64> {
        let record = cw::Record::Referral(cw::Referral {
            kind: referral.kind.into(),
            partner: referral.partner,
            date: date(&referral.date)?,
            status: referral.status.into(),
        });
        self.add(&client_id, &record)
    }

    /// Records the client's immigration case (protected relief blocks every ICE notice).
    pub fn record_legal(&self, client_id: String, legal: Legal) -> Result<i64> {
        let record = cw::Record::Legal(cw::LegalStatus {
            court: legal.court,
            disposition: legal.disposition,
            represented: legal.represented,
            represented_since: None,
            relief_sought: legal.relief_sought,
            protected_relief: legal
                .protected_relief
                .map(|k| cw::ProtectedRelief { kind: k.into(), stage: "filed".into() }),
        });
        self.add(&client_id, &record)
    }

    /// Records a health record.
    pub fn record_health(&self, client_id: String, health: Health) -> Result<i64> {
        let record = cw::Record::Health(cw::HealthRecord {
            kind: health.kind.into(),
            date: date(&health.date)?,
            summary: health.summary,
        });
        self.add(&client_id, &record)
    }

    /// Records a departure plan.
    pub fn record_departure(&self, client_id: String, departure: Departure) -> Result<i64> {
        let record = cw::Record::Departure(cw::DeparturePlan {
            country: departure.country,
            window: departure.window,
            travel_documents: None,
            partner: departure.partner,
        });
        self.add(&client_id, &record)
    }

    /// Adds a case note, dated today.
    pub fn add_note(&self, client_id: String, author: String, text: String) -> Result<i64> {
        let record = cw::Record::Note(cw::CaseNote { author, date: cw::Date::today(), text, psychotherapy: false });
        self.add(&client_id, &record)
    }

    /// Records a consent to share categories with a partner; logged. Returns its record id.
    pub fn grant_consent(&self, client_id: String, consent: Consent) -> Result<i64> {
        let categories =
            consent.categories.iter().map(|c| c.parse::<cw::Category>()).collect::<std::result::Result<Vec<_>, _>>()?;
        let record = cw::ConsentRecord {
            recipient: consent.recipient,
            categories,
            purpose: consent.purpose,
            signed_on: date(&consent.signed_on)?,
            expires_on: date(&consent.expires_on)?,
            revoked_on: None,
        };
        Ok(self.inner.grant_consent(client(&client_id)?, &record)?.0)
    }

    /// Revokes a consent at once; logged.
    pub fn revoke_consent(&self, client_id: String, consent_id: i64) -> Result<()> {
        Ok(self.inner.revoke_consent(client(&client_id)?, cw::RecordId(consent_id))?)
    }

    /// The client's record as an audience may see it (`caseworker`, `supervisor`, `client`,
    /// `partner:<id>`, ...), as JSON; logged.
    pub fn client_view(&self, client_id: String, audience: String) -> Result<String> {
        let audience: cw::Audience = audience.parse()?;
        let view = self.inner.client_view(client(&client_id)?, &audience)?;
        Ok(String::from_utf8_lossy(view.to_json()).into_owned())
    }

    /// The client's own obligations and deadlines.
    pub fn deadlines(&self, client_id: String) -> Result<Deadlines> {
        let d = self.inner.deadlines(client(&client_id)?)?;
        Ok(Deadlines {
            moved_on: d.moved_on.map(|m| m.to_string()),
            duties: d.duties.iter().map(deadline).collect(),
            earliest_open: d.earliest_open.as_ref().map(deadline),
            next_check_in: d.next_check_in.map(|x| x.to_string()),
            next_hearing: d.next_hearing.map(|x| x.to_string()),
        })
    }

    /// What may go to ICE: the floor and nothing more; logged. `address_consent`: the client
    /// consented, for this notice, to sending the address of record.
    pub fn ice_notice(&self, client_id: String, address_consent: bool) -> Result<IceNotice> {
        let consent =
            if address_consent { cw::AddressConsent::GivenForThisNotice } else { cw::AddressConsent::Withheld };
        let n = self.inner.ice_notice(client(&client_id)?, consent)?;
        let (address_lines, direct) = match n.address() {
            cw::IceAddress::OnRecord { address, .. } => {
                let mut lines = address.lines.clone();
                lines.push(format!("{}, {} {}", address.city, address.state, address.zip));
                (lines, false)
            }
            _ => (Vec::new(), true),
        };
        Ok(IceNotice {
            a_number: n.a_number().as_str().to_owned(),
            name: n.name().to_owned(),
            next_check_in: n.next_check_in().map(|c| NoticeCheckIn {
                date: c.date.to_string(),
                time: c.time.clone(),
                office: c.office.clone(),
                modality: c.modality.into(),
            }),
            next_court_date: n.next_court_date().map(|c| NoticeCourtDate {
                date: c.date.to_string(),
                time: c.time.clone(),
                court: c.court.clone(),
            }),
            address_lines,
            client_reports_address_directly: direct,
            as_of: n.as_of().to_string(),
            json: n.to_json().to_vec(),
        })
    }

    /// The client's own copy of their record (JSON bytes); logged.
    pub fn client_copy(&self, client_id: String) -> Result<Vec<u8>> {
        Ok(self.inner.client_copy(client(&client_id)?)?.to_json().to_vec())
    }

    /// What a partner may receive under the client's active consent (JSON bytes); logged.
    pub fn partner_referral(&self, client_id: String, partner: String) -> Result<Vec<u8>> {
        let partner = cw::PartnerId::new(&partner)?;
        Ok(self.inner.partner_referral(client(&client_id)?, &partner)?.to_json().to_vec())
    }

    /// Sets the provider id the board knows this vault by.
    pub fn set_provider_id(&self, provider_id: String) -> Result<()> {
        Ok(self.inner.set_provider_id(&provider_id)?)
    }

    /// The provider's report-signing public key, for the board's registry.
    pub fn signing_public_key(&self) -> Result<String> {
        Ok(self.inner.signing_public_key()?)
    }

    /// The board report for a month (`YYYY-MM`), signed and encrypted to the board's age
    /// recipients: an age file's bytes. Logged. `method`: `None` for suppression (k = 11), or
    /// `laplace:EPSILON` / `gaussian:RHO` per table, charged to the period's privacy budget
    /// (`Budget` when it would overspend).
    #[uniffi::method(default(method = None))]
    pub fn board_report(&self, period: String, recipients: Vec<String>, method: Option<String>) -> Result<Vec<u8>> {
        let period: cw::Period = period.parse()?;
        let recipients =
            recipients.iter().map(|r| cw::RecoveryRecipient::parse(r)).collect::<std::result::Result<Vec<_>, _>>()?;
        let method = match method.as_deref() {
            None | Some("suppress") => cw::Method::default(),
            Some(m) => cw::Method::Noise { mechanism: cw::report::Mechanism::parse(m)? },
        };
        let options = cw::ReportOptions { method, ..Default::default() };
        Ok(self.inner.board_report(period, &options, &recipients)?)
    }

    /// Installs a disclosure policy (TOML text) with site overlays that may only tighten it;
    /// returns its hash. A malformed or widening policy is `Policy`, naming line and rule.
    pub fn install_policy(&self, policy_toml: String, overlays: Vec<String>) -> Result<String> {
        let named: Vec<(String, &str)> =
            overlays.iter().enumerate().map(|(i, o)| (format!("overlay-{}.toml", i + 1), o.as_str())).collect();
        let refs: Vec<(&str, &str)> = named.iter().map(|(n, o)| (*o, n.as_str())).collect();
        let policy = cw::Policy::with_overlays_text(&policy_toml, "policy.toml", &refs)?;
        self.inner.install_policy(&policy)?;
        Ok(policy.hash().to_string())
    }

    /// The hash of the policy in force (`blake3:<hex>`).
    pub fn policy_hash(&self) -> Result<String> {
        Ok(self.inner.policy_hash()?.to_string())
    }

    /// Erases a client (crypto-shredding). Returns whether no residue remains in the file.
    pub fn erase_client(&self, client_id: String) -> Result<bool> {
        Ok(self.inner.erase_client(client(&client_id)?)?.residue_cleared)
    }

    /// Rotates the key-encryption key; returns the new version.
    pub fn rotate_keys(&self) -> Result<u32> {
        Ok(self.inner.rotate_keys()?)
    }

    /// Rotates the root key: every old key envelope is retired, so an old passphrase or an
    /// envelope put back from a copy of the file opens nothing. Recovery recipients and keystore
    /// keys carry over; `passphrase` is the one to keep (the same or a new one), required when
    /// the vault opens with a passphrase. After this, other open handles must open again.
    pub fn rotate_root_key(&self, passphrase: Option<String>) -> Result<()> {
        let kept = passphrase.map(cw::Passphrase::new);
        Ok(self.inner.rotate_root_key(kept.as_ref(), cw::KdfParams::default())?)
    }

    /// Changes the passphrase (scrypt 2^16), rotating the root key so the old passphrase's
    /// envelope, if put back from a copy of the file, opens nothing.
    pub fn change_passphrase(&self, old: String, new: String) -> Result<()> {
        Ok(self.inner.change_passphrase(
            &cw::Passphrase::new(old),
            &cw::Passphrase::new(new),
            cw::KdfParams::default(),
        )?)
    }

    /// Whether `output` is exactly the output log entry `seq` recorded (the `json` bytes of a
    /// notice, view, copy or referral). The log keeps a keyed digest, so only the vault can
    /// confirm an output, and nobody can once the client is erased (`NotFound`).
    pub fn confirm_output(&self, seq: u64, output: Vec<u8>) -> Result<bool> {
        Ok(self.inner.confirm_output(seq, &output)?)
    }

    /// Verifies the disclosure log's hash chain and the vault's sealed head.
    pub fn verify_log(&self) -> Result<LogStatus> {
        Ok(match self.inner.verify_log(None)? {
            cw::LogStatus::Intact { entries, head } => {
                LogStatus { intact: true, entries, head: head.map(|h| h.to_string()), problem: None }
            }
            cw::LogStatus::Broken { seq, problem } => {
                LogStatus { intact: false, entries: seq, head: None, problem: Some(format!("entry {seq}: {problem}")) }
            }
        })
    }

    /// Generates the consortium pseudonym key (first provider only; never replaced).
    pub fn generate_pseudonym_key(&self) -> Result<()> {
        Ok(self.inner.generate_pseudonym_key()?)
    }

    /// Imports the consortium pseudonym key from its age file, with this provider's identity.
    pub fn import_pseudonym_key(&self, age_file: Vec<u8>, identity: String) -> Result<()> {
        let identity = cw::RecoveryIdentity::parse(&zeroize::Zeroizing::new(identity))?;
        Ok(self.inner.import_pseudonym_key(&age_file, &identity)?)
    }

    /// The keyed pseudonym of an A-number in a domain (`board`, `linkage`) and epoch.
    /// `Denied` for a VAWA-grantee client.
    pub fn pseudonym(&self, domain: String, epoch: String, a_number: String) -> Result<String> {
        let domain: cw::Domain = domain.parse()?;
        let epoch = cw::Epoch::new(&epoch)?;
        Ok(self.inner.pseudonym(domain, &epoch, &a_number)?.to_string())
    }

    /// How long a write waits for another process's write before it fails with `Storage`
    /// ("locked by another writer"); 10 000 ms by default. Raise it when worker processes share
    /// a vault with a bulk import.
    pub fn set_busy_timeout_ms(&self, millis: u32) -> Result<()> {
        Ok(self.inner.set_busy_timeout(std::time::Duration::from_millis(millis.into()))?)
    }

    /// Closes the vault and zeroizes its keys. Later calls fail with `InvalidInput`.
    pub fn close(&self) -> Result<()> {
        Ok(self.inner.close()?)
    }
}

impl Vault {
    fn add(&self, client_id: &str, record: &cw::Record) -> Result<i64> {
        Ok(self.inner.add_record(client(client_id)?, record)?.0)
    }
}

/// Normalizes an A-number to its canonical form (`A` and 9 digits), or says why it is invalid.
#[uniffi::export]
pub fn normalize_a_number(text: String) -> Result<String> {
    Ok(cw::AlienNumber::parse(&text)?.as_str().to_owned())
}
