//! # caseward
//!
//! Encrypted client records for organisations that case-manage people in immigration
//! proceedings (the DHS Case Management Pilot Program), built so that the safe thing is the
//! only easy thing.
//!
//! * [`Vault`]: one SQLite file of client records, every field sealed under a key for its
//!   client and its [`Category`]. A stolen disk or backup shows random ids, coarse months and
//!   ciphertext. Erasing a client deletes its key: its records become noise.
//! * Keys: a random root key stored only inside [age](https://age-encryption.org) envelopes
//!   (passphrase, recovery identity, or a raw key from the platform keystore); key-encryption
//!   keys that rotate without re-encrypting records; per-client and per-category keys.
//! * [`AlienNumber`]: strict A-number normalization; a receipt number or a ten-digit typo is
//!   refused, never trimmed into somebody else's number.
//!
//! ```
//! use caseward::{Vault, RawKey, Intake, Identity, Enrollment, PersonName, Date};
//! # let dir = tempfile::tempdir().unwrap();
//! # let path = dir.path().join("provider.cwv");
//! let key = RawKey::generate()?;                 // kept by the platform keystore
//! let vault = Vault::create_with_key(&path, &key)?;
//! let client = vault.enroll(&Intake {
//!     identity: Identity::new("A# 201-555-012", PersonName::verbatim("GARCIA LOPEZ, Maria Jose"))?,
//!     enrollment: Enrollment::new("site-houston", Date::parse("2026-10-01")?),
//!     records: vec![],
//! })?;
//! assert_eq!(vault.find_by_a_number("A201555012")?, Some(client));
//! vault.rotate_keys()?;                            // rewraps client keys; lookups still work
//! assert_eq!(vault.find_by_a_number("201-555-012")?, Some(client));
//! # Ok::<(), caseward::Error>(())
//! ```
//!
//! See `ARCHITECTURE.md` for the data flow and `SECURITY.md` for the threat model.

#![forbid(unsafe_code)]
#![warn(missing_docs)]

/// Implements a `Debug` that names the type and nothing else: these types hold client data.
/// Defined before the modules so every one of them can use it.
macro_rules! redacted_debug {
    ($($t:ty),* $(,)?) => {$(
        impl ::std::fmt::Debug for $t {
            fn fmt(&self, f: &mut ::std::fmt::Formatter<'_>) -> ::std::fmt::Result {
                f.write_str(concat!(stringify!($t), " { [redacted] }"))
            }
        }
    )*};
}

pub mod audit;
pub mod category;
pub mod deadline;
pub mod error;
pub mod extract;
pub mod firewall;
pub mod identifier;
pub mod keys;
pub mod lottery;
pub mod policy;
pub mod pseudonym;
pub mod record;
pub mod report;
pub mod seal;
mod sealed_record;
mod signed;
pub mod store;
pub mod synth;
pub mod vault;

/// Entry points for the fuzz targets in `fuzz/`: internals no embedding app should call.
#[cfg(feature = "fuzzing")]
#[doc(hidden)]
pub mod fuzzing {
    use crate::seal::{Aad, Algorithm, Header, SealingKey};

    /// The sealed-value decoder and the record-body framing, on arbitrary bytes: they may
    /// refuse, never panic, and never open a value the fixed key did not seal.
    #[allow(clippy::panic, reason = "a fuzz finding must crash the target")]
    pub fn sealed_value(data: &[u8]) {
        let _ = Header::parse(data);
        let _ = crate::sealed_record::split_sections(data, 1);
        for algorithm in [Algorithm::Aes256Gcm, Algorithm::ChaCha20Poly1305] {
            if let Ok(key) = SealingKey::derive(&[7u8; 32], algorithm, 0) {
                let aad = Aad {
                    vault: &[0x10; 16],
                    table: "record",
                    row: b"fuzz",
                    client: &[0x20; 16],
                    category: "contact.phone",
                    schema: 1,
                };
                if key.open(&aad, data).is_ok() {
                    // Only a value sealed under this key and AAD may open: the fuzzer cannot
                    // forge one, so an opening here is a finding.
                    panic!("forged sealed value opened");
                }
            }
        }
    }
}

pub use audit::{LogHead, LogProblem, LogStatus};
pub use category::{Category, ServiceKind};
pub use deadline::{Deadline, Deadlines, Duty};
pub use error::{Error, ErrorKind, Location, Overspend, Result, StorageProblem};
pub use firewall::{ClientCopy, ClientView, IceAddress, IceNotice, PartnerReferral};
pub use identifier::{
    AlienNumber, BirthDate, Date, DatePrecision, DateProvenance, InvalidIdentifier, PersonName, Surname, SurnameRole,
};
pub use keys::{EnvelopeKind, KdfParams, Passphrase, RawKey, RecoveryIdentity, RecoveryRecipient};
pub use lottery::LotteryProblem;
pub use policy::{Audience, PartnerId, Policy, PolicyError, PolicyHash, Treatment};
pub use pseudonym::{Domain, Epoch, Pseudonym, PseudonymKey};
pub use record::{
    AddressEpisode, Arm, Attendance, CaseNote, CheckIn, ClientId, ClientRecord, ConsentRecord, DeparturePlan,
    Enrollment, Exit, ExitReason, Filing, Filings, ForeignDocument, HealthKind, HealthRecord, Hearing, HearingKind,
    HearingOutcome, HouseholdLink, Identity, Intake, LegalStatus, Modality, PostalAddress, ProtectedRelief,
    ProtectedReliefKind, Randomization, Record, RecordId, RecordKind, Referral, ReferralSource, ReferralStatus,
    Relationship, ReleaseBasis, Screening, ScreeningKind, ServiceEvent, StoredRecord,
};
pub use report::{Cell, Method, Period, Report, ReportOptions, Table};
pub use vault::{AddressConsent, EnvelopeInfo, Erasure, ExtractFiles, LotteryFiles, Vault, VaultOptions};

/// The README's examples, compiled and run as doc tests so they cannot drift from the code.
#[cfg(doctest)]
#[doc = include_str!("../../README.md")]
pub struct ReadmeDoctests;
