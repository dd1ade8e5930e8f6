//! The client's obligations (`deadlines`): the duties a move triggered, and the next check-in
//! and hearing.

use caseward as cw;

use crate::redact::redacted_debug;

redacted_debug!(Deadline, Deadlines);

/// One duty a move triggered.
#[derive(Clone, uniffi::Record)]
pub struct Deadline {
    /// `eoir33`, `ice_portal`, `ar11` or `osup_notice`.
    pub duty: String,
    /// What to tell the client.
    pub description: String,
    pub due: String,
    pub met_on: Option<String>,
}

/// The client's obligations: duties of the latest move, and the next check-in and hearing.
#[derive(Clone, uniffi::Record)]
pub struct Deadlines {
    pub moved_on: Option<String>,
    pub duties: Vec<Deadline>,
    pub earliest_open: Option<Deadline>,
    pub next_check_in: Option<String>,
    pub next_hearing: Option<String>,
}

pub(crate) fn deadline(d: &cw::Deadline) -> Deadline {
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
