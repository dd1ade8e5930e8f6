//! What may go to ICE (`ice_notice`): the floor and nothing else.

use crate::enums::Modality;
use crate::redact::redacted_debug;

redacted_debug!(NoticeCheckIn, NoticeCourtDate, IceNotice);

/// The next check-in, as an ICE notice carries it.
#[derive(Clone, uniffi::Record)]
pub struct NoticeCheckIn {
    pub date: String,
    pub time: Option<String>,
    pub office: String,
    pub modality: Modality,
}

/// The next court date, as an ICE notice carries it.
#[derive(Clone, uniffi::Record)]
pub struct NoticeCourtDate {
    pub date: String,
    pub time: Option<String>,
    pub court: String,
}

/// What may go to ICE: the floor and nothing else. `json` is the exact logged output.
#[derive(Clone, uniffi::Record)]
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
