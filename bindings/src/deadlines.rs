//! The client's obligations (`deadlines`): the duties a move triggered, and the next check-in
//! and hearing.

use caseward as cw;

use crate::date::IsoDate;
use crate::redact::redacted_debug;

redacted_debug!(Deadline, Deadlines);

/// One duty a move triggered.
#[derive(Clone, uniffi::Record)]
pub struct Deadline {
    /// `eoir33`, `ice_portal`, `ar11` or `osup_notice`.
    pub duty: String,
    /// What to tell the client.
    pub description: String,
    /// The last day to meet it.
    pub due: IsoDate,
    /// The day it was met (the filing's date), if it was.
    pub met_on: Option<IsoDate>,
}

/// The client's obligations: duties of the latest move, and the next check-in and hearing.
#[derive(Clone, uniffi::Record)]
pub struct Deadlines {
    /// The day of the latest move, if any.
    pub moved_on: Option<IsoDate>,
    /// The duties that move triggered.
    pub duties: Vec<Deadline>,
    /// The open duty due first.
    pub earliest_open: Option<Deadline>,
    /// The next ICE check-in.
    pub next_check_in: Option<IsoDate>,
    /// The next court hearing.
    pub next_hearing: Option<IsoDate>,
}

impl From<&cw::Deadlines> for Deadlines {
    fn from(d: &cw::Deadlines) -> Self {
        Self {
            moved_on: d.moved_on.map(Into::into),
            duties: d.duties.iter().map(Into::into).collect(),
            earliest_open: d.earliest_open.as_ref().map(Into::into),
            next_check_in: d.next_check_in.map(Into::into),
            next_hearing: d.next_hearing.map(Into::into),
        }
    }
}

impl From<&cw::Deadline> for Deadline {
    fn from(d: &cw::Deadline) -> Self {
        let duty = match d.duty {
            cw::Duty::Eoir33 => "eoir33",
            cw::Duty::IcePortal => "ice_portal",
            cw::Duty::Ar11 => "ar11",
            cw::Duty::OsupNotice => "osup_notice",
        };
        Self {
            duty: duty.into(),
            description: d.duty.describe().into(),
            due: d.due.into(),
            met_on: d.met_on.map(Into::into),
        }
    }
}
