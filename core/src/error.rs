//! The one public error type, and the rule that keeps client data out of it.
//!
//! Every module has its own precise error (a sealed value that fails to open, an A-number that is
//! not one, a SQLite failure); they are all converted here into [`Error`], whose [`Error::kind`] is
//! one of the nine kinds the bindings expose. An error message names *what* went wrong and
//! *where* (a table and a random internal row id), never the data involved: a rejected A-number
//! says "has 10 digits", not which digits, because error text ends up in logs, crash reports and
//! support tickets.

use std::fmt;

use crate::identifier::InvalidIdentifier;
use crate::seal::SealError;

/// The nine kinds of failure, as the bindings expose them.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ErrorKind {
    /// The passphrase, key or identity does not open this vault.
    WrongKey,
    /// A stored value failed authentication: tampered, truncated, or moved to another row.
    Integrity,
    /// No such client, record or key envelope.
    NotFound,
    /// The disclosure policy does not allow this output for this audience.
    Denied,
    /// The caller's input is malformed (an invalid A-number, a bad date, an unusable option).
    InvalidInput,
    /// A disclosure policy file is malformed or would widen what the floor allows.
    Policy,
    /// The database or file system failed, or the file is not a caseward vault.
    Storage,
    /// A report would overspend the period's privacy budget.
    Budget,
    /// A failure inside caseward that no input explains (the system's random source failed, a
    /// value could not be serialized): a bug or a broken platform, never the caller's input.
    Internal,
}

/// Where a stored value lives: a table and a random internal row id. Never personal data.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Location {
    /// The SQLite table.
    pub table: &'static str,
    /// The row's internal id (random, or a sequence number), as text.
    pub row: String,
}

impl fmt::Display for Location {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} row {}", self.table, self.row)
    }
}

/// Why storage failed.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum StorageProblem {
    /// The file is not a SQLite database, or not a caseward vault.
    NotAVault,
    /// The vault was written by a newer caseward (its schema version is higher than ours).
    TooNew {
        /// The schema version found in the file.
        found: u32,
    },
    /// The vault has an older schema and must be opened with its key once to be upgraded.
    Outdated {
        /// The schema version found in the file.
        found: u32,
    },
    /// The vault's schema holds objects caseward never creates (a trigger, a view, a table).
    UnexpectedSchema {
        /// The kind and name of the first unexpected object.
        object: String,
    },
    /// A file at that path already exists; caseward never overwrites one.
    AlreadyExists,
    /// The database is locked by another writer and stayed locked past the busy timeout.
    Busy,
    /// The disk is full.
    Full,
    /// The file or directory is read-only.
    ReadOnly,
    /// A WAL checkpoint could not complete, because another connection is still reading.
    CheckpointBlocked,
    /// Any other SQLite failure, with SQLite's own (data-free) description.
    Sqlite {
        /// SQLite's extended result code.
        code: i32,
        /// SQLite's description of the code.
        description: String,
    },
    /// A file-system error outside SQLite.
    Io(std::io::ErrorKind),
}

impl fmt::Display for StorageProblem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::NotAVault => f.write_str("the file is not a caseward vault"),
            Self::TooNew { found } => write!(
                f,
                "the vault has schema version {found}, newer than this caseward understands ({})",
                crate::store::SCHEMA_VERSION
            ),
            Self::Outdated { found } => write!(
                f,
                "the vault has schema version {found}; open it once with its key to upgrade it to {}",
                crate::store::SCHEMA_VERSION
            ),
            Self::UnexpectedSchema { object } => {
                write!(f, "the vault contains an object caseward never creates: {object}")
            }
            Self::AlreadyExists => f.write_str("a file already exists at that path"),
            Self::Busy => f.write_str("the vault is locked by another writer"),
            Self::Full => f.write_str("the disk is full"),
            Self::ReadOnly => f.write_str("the vault file is read-only"),
            Self::CheckpointBlocked => {
                f.write_str("the write-ahead log could not be checkpointed: another connection is reading")
            }
            Self::Sqlite { code, description } => write!(f, "SQLite error {code}: {description}"),
            Self::Io(kind) => write!(f, "I/O error: {kind}"),
        }
    }
}

/// Everything that can go wrong in caseward.
///
/// Messages never contain client data: they name the problem and, for stored values, the table
/// and internal row id.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The passphrase, key or identity does not open this vault.
    #[error("wrong key: {0}")]
    WrongKey(&'static str),
    /// A stored value failed to authenticate.
    #[error("integrity failure in {location}: {problem}")]
    Integrity {
        /// Where the value is stored.
        location: Location,
        /// What failed.
        problem: SealError,
    },
    /// A stored structure is inconsistent (not a cryptographic failure).
    #[error("integrity failure in {location}: {problem}")]
    Corrupt {
        /// Where the problem is.
        location: Location,
        /// What is wrong.
        problem: &'static str,
    },
    /// No such client, record or key envelope.
    #[error("not found: {what}")]
    NotFound {
        /// What was looked for (an internal id, never personal data).
        what: String,
    },
    /// The caller's input is malformed.
    #[error("invalid input: {0}")]
    InvalidInput(String),
    /// An identifier failed validation.
    #[error("invalid {field}: {problem}")]
    InvalidIdentifier {
        /// Which field (for example `a_number`).
        field: &'static str,
        /// Why it was rejected.
        problem: InvalidIdentifier,
    },
    /// The database or file system failed.
    #[error("storage: {0}")]
    Storage(StorageProblem),
    /// The disclosure policy does not allow this output. The reason never names a fact about
    /// the client that the audience may not learn.
    #[error("denied: {0}")]
    Denied(String),
    /// A policy file failed validation.
    #[error("policy: {0}")]
    Policy(crate::policy::PolicyError),
    /// A report bundle was refused.
    #[error("report bundle refused: {0}")]
    Bundle(crate::report::bundle::BundleProblem),
    /// A lottery step was refused, or a lottery's documents failed verification.
    #[error("lottery: {0}")]
    Lottery(crate::lottery::LotteryProblem),
    /// A noisy report would spend more of the period's, or the year's, privacy budget than is
    /// left. Budgets are zCDP rho; the error also states the cost in the unit the report asked
    /// for.
    #[error("privacy budget: {0}")]
    Budget(Box<Overspend>),
    /// A failure inside caseward that no input explains.
    #[error("internal error: {0}")]
    Internal(&'static str),
}

/// What a refused noisy report would have overspent (boxed in [`Error::Budget`], so every
/// `Result` stays small).
#[derive(Debug, thiserror::Error)]
#[error("the report for {period} needs rho {needed} ({cost}), but only {left} of {scope}'s {limit} is left")]
pub struct Overspend {
    /// The report period.
    pub period: String,
    /// What the report would spend (rho).
    pub needed: String,
    /// How that cost arises, in the mechanism's own parameter.
    pub cost: String,
    /// The budget that would be overspent: `period 2026-09` or `year 2026`.
    pub scope: String,
    /// What is left of it (rho).
    pub left: String,
    /// That budget (rho).
    pub limit: String,
}

impl Error {
    /// The kind of failure, as exposed across the bindings.
    pub fn kind(&self) -> ErrorKind {
        match self {
            Self::WrongKey(_) => ErrorKind::WrongKey,
            Self::Integrity { .. } | Self::Corrupt { .. } => ErrorKind::Integrity,
            Self::NotFound { .. } => ErrorKind::NotFound,
            Self::InvalidInput(_) | Self::InvalidIdentifier { .. } => ErrorKind::InvalidInput,
            Self::Storage(_) => ErrorKind::Storage,
            Self::Denied(_) => ErrorKind::Denied,
            Self::Policy(_) => ErrorKind::Policy,
            Self::Bundle(crate::report::bundle::BundleProblem::NotForThisIdentity) => ErrorKind::WrongKey,
            // Asking too early is the caller's mistake, not a damaged bundle.
            Self::Bundle(crate::report::bundle::BundleProblem::PeriodNotEnded { .. }) => ErrorKind::InvalidInput,
            Self::Bundle(_) => ErrorKind::Integrity,
            Self::Lottery(p) if p.is_integrity() => ErrorKind::Integrity,
            Self::Lottery(_) => ErrorKind::InvalidInput,
            Self::Budget(_) => ErrorKind::Budget,
            Self::Internal(_) => ErrorKind::Internal,
        }
    }

    pub(crate) fn integrity(table: &'static str, row: impl fmt::Display, problem: SealError) -> Self {
        Self::Integrity { location: Location { table, row: row.to_string() }, problem }
    }

    pub(crate) fn corrupt(table: &'static str, row: impl fmt::Display, problem: &'static str) -> Self {
        Self::Corrupt { location: Location { table, row: row.to_string() }, problem }
    }

    pub(crate) fn not_found(what: impl Into<String>) -> Self {
        Self::NotFound { what: what.into() }
    }

    pub(crate) fn denied(msg: impl Into<String>) -> Self {
        Self::Denied(msg.into())
    }

    pub(crate) fn internal(what: &'static str) -> Self {
        Self::Internal(what)
    }

    pub(crate) fn input(msg: impl Into<String>) -> Self {
        Self::InvalidInput(msg.into())
    }
}

impl From<rusqlite::Error> for Error {
    fn from(e: rusqlite::Error) -> Self {
        use rusqlite::ffi::ErrorCode;
        // A column of the wrong type or range was not written by caseward: the file was edited.
        if matches!(
            e,
            rusqlite::Error::FromSqlConversionFailure(..)
                | rusqlite::Error::InvalidColumnType(..)
                | rusqlite::Error::IntegralValueOutOfRange(..)
                | rusqlite::Error::Utf8Error(..)
        ) {
            return Self::corrupt("vault", "-", rusqlite_kind(&e));
        }
        // SQLite found damaged pages, or a row the vault wrote is gone: the file was edited or
        // damaged, which is the integrity promise's business, not a storage fault.
        match &e {
            rusqlite::Error::SqliteFailure(f, _) if f.code == ErrorCode::DatabaseCorrupt => {
                return Self::corrupt("vault", "-", "SQLite finds the file's pages damaged (SQLITE_CORRUPT)");
            }
            rusqlite::Error::QueryReturnedNoRows => {
                return Self::corrupt("vault", "-", "a row the vault requires is missing");
            }
            _ => {}
        }
        // Only SQLite's result code and its fixed description cross this line: rusqlite's own
        // messages can quote column values (for example in a conversion failure).
        let problem = match &e {
            rusqlite::Error::SqliteFailure(f, _) => match f.code {
                ErrorCode::NotADatabase => StorageProblem::NotAVault,
                ErrorCode::DatabaseBusy | ErrorCode::DatabaseLocked => StorageProblem::Busy,
                ErrorCode::DiskFull => StorageProblem::Full,
                ErrorCode::ReadOnly => StorageProblem::ReadOnly,
                _ => StorageProblem::Sqlite {
                    code: f.extended_code,
                    description: rusqlite::ffi::code_to_str(f.extended_code).to_owned(),
                },
            },
            other => StorageProblem::Sqlite { code: -1, description: rusqlite_kind(other).into() },
        };
        Self::Storage(problem)
    }
}

fn rusqlite_kind(e: &rusqlite::Error) -> &'static str {
    match e {
        rusqlite::Error::FromSqlConversionFailure(..) | rusqlite::Error::InvalidColumnType(..) => {
            "a stored column has an unexpected type"
        }
        rusqlite::Error::IntegralValueOutOfRange(..) => "a stored integer is out of range",
        rusqlite::Error::Utf8Error(..) => "a stored text column is not UTF-8",
        rusqlite::Error::InvalidPath(..) => "the path cannot be used as a database path",
        _ => "unexpected database error",
    }
}

impl From<std::io::Error> for Error {
    fn from(e: std::io::Error) -> Self {
        Self::Storage(StorageProblem::Io(e.kind()))
    }
}

/// The result type of this crate.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// A caller-supplied value, quoted for an error message when it has the shape of the token that
/// was expected (a category, an audience, a period: lowercase ASCII, digits and `._:-*/+`, at
/// most 40 characters, no run of 7 digits), and otherwise only its length. A message therefore
/// never repeats a name, an A-number or free text typed into the wrong field.
pub fn echo(s: &str) -> String {
    let mut digits = 0usize;
    let mut longest = 0usize;
    for b in s.bytes() {
        digits = if b.is_ascii_digit() { digits + 1 } else { 0 };
        longest = longest.max(digits);
    }
    let token = s.len() <= 40
        && longest < 7
        && s.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b"._:-*/+".contains(&b));
    if token {
        format!("{s:?}")
    } else {
        format!("a value of {} characters (not shown)", s.chars().count())
    }
}
