//! The one error type every call fails with, and how a core error becomes it: by kind, with the
//! core's text, which never contains client data.

use caseward as cw;

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

pub(crate) type Result<T> = std::result::Result<T, CasewardError>;

pub(crate) fn invalid(reason: &str) -> CasewardError {
    CasewardError::InvalidInput { reason: reason.to_owned() }
}
