//! What may go to ICE (`ice_notice`): the floor and nothing else, as an object only the vault
//! builds, whose `to_json()` is exactly the bytes the disclosure log recorded.

use caseward as cw;

use crate::date::IsoDate;
use crate::enums::Modality;
use crate::redact::redacted_debug;

redacted_debug!(NoticeCheckIn, NoticeCourtDate);

/// The next check-in, as an ICE notice carries it.
#[derive(Clone, uniffi::Record)]
pub struct NoticeCheckIn {
    /// The day.
    pub date: IsoDate,
    /// The time, if set.
    pub time: Option<String>,
    /// The ICE office.
    pub office: String,
    /// In person, app, phone or video.
    pub modality: Modality,
}

/// The next court date, as an ICE notice carries it.
#[derive(Clone, uniffi::Record)]
pub struct NoticeCourtDate {
    /// The day.
    pub date: IsoDate,
    /// The time, if set.
    pub time: Option<String>,
    /// The immigration court.
    pub court: String,
}

/// What may go to ICE: the floor and nothing else; logged when the vault built it. Apps read
/// it through its getters and cannot build or change one; `to_json()` is exactly the logged
/// output, for `confirm_output`. Printing it (`str`, `repr`, `toString()`) shows no client data.
#[derive(uniffi::Object)]
#[uniffi::export(Debug, Display)]
pub struct IceNotice {
    a_number: String,
    name: String,
    next_check_in: Option<NoticeCheckIn>,
    next_court_date: Option<NoticeCourtDate>,
    address_lines: Vec<String>,
    client_reports_address_directly: bool,
    as_of: IsoDate,
    json: Vec<u8>,
}

#[uniffi::export]
impl IceNotice {
    /// The canonical A-number (`A` and 9 digits).
    pub fn a_number(&self) -> String {
        self.a_number.clone()
    }

    /// The name exactly as DHS wrote it (the only form a notice carries).
    pub fn name(&self) -> String {
        self.name.clone()
    }

    /// The next check-in on or after `as_of`, if any.
    pub fn next_check_in(&self) -> Option<NoticeCheckIn> {
        self.next_check_in.clone()
    }

    /// The next court date on or after `as_of`, if any.
    pub fn next_court_date(&self) -> Option<NoticeCourtDate> {
        self.next_court_date.clone()
    }

    /// The address of record as lines (the last one `City, ST ZIP`), or empty when the client
    /// reports it directly.
    pub fn address_lines(&self) -> Vec<String> {
        self.address_lines.clone()
    }

    /// True when no address is disclosed (the same for every reason).
    pub fn client_reports_address_directly(&self) -> bool {
        self.client_reports_address_directly
    }

    /// The day the notice is of.
    pub fn as_of(&self) -> IsoDate {
        self.as_of
    }

    /// Exactly the bytes the disclosure log recorded (JSON), for `confirm_output`.
    pub fn to_json(&self) -> Vec<u8> {
        self.json.clone()
    }
}

impl std::fmt::Debug for IceNotice {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // As the core's records: the type's name only; every field is client data.
        f.write_str("IceNotice { [redacted] }")
    }
}

impl std::fmt::Display for IceNotice {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        std::fmt::Debug::fmt(self, f)
    }
}

impl IceNotice {
    /// The binding's notice of a core notice: the same facts, and the same logged bytes.
    pub(crate) fn new(n: &cw::IceNotice) -> Self {
        let (address_lines, direct) = match n.address() {
            cw::IceAddress::OnRecord { address, .. } => {
                let mut lines = address.lines.clone();
                lines.push(format!("{}, {} {}", address.city, address.state, address.zip));
                (lines, false)
            }
            _ => (Vec::new(), true),
        };
        Self {
            a_number: n.a_number().as_str().to_owned(),
            name: n.name().to_owned(),
            next_check_in: n.next_check_in().map(|c| NoticeCheckIn {
                date: c.date.into(),
                time: c.time.clone(),
                office: c.office.clone(),
                modality: c.modality.into(),
            }),
            next_court_date: n.next_court_date().map(|c| NoticeCourtDate {
                date: c.date.into(),
                time: c.time.clone(),
                court: c.court.clone(),
            }),
            address_lines,
            client_reports_address_directly: direct,
            as_of: n.as_of().into(),
            json: n.to_json().to_vec(),
        }
    }
}
