//! A client's record as one audience may see it (`client_view`): only the categories that
//! audience may receive, and the exact bytes the disclosure log recorded.

use std::collections::HashMap;

use caseward as cw;

use crate::date::IsoDate;
use crate::redact::redacted_debug;

redacted_debug!(ViewRecord);

/// One record as an audience may see it: only the categories it may receive.
#[derive(Clone, uniffi::Record)]
pub struct ViewRecord {
    /// The record's id.
    pub id: i64,
    /// Its kind (`identity`, `address`, `check_in` ...).
    pub kind: String,
    /// Each visible category (`contact.address` ...) to its value as JSON text.
    pub sections: HashMap<String, String>,
}

/// A client's record as one audience may see it: a staff view (`client_view`), the client's own
/// copy (`client_copy`) or a partner referral (`partner_referral`). It was logged when the vault
/// built it, and only the vault builds one. Printing it shows the client id and audience only.
#[derive(uniffi::Object)]
#[uniffi::export(Debug, Display)]
pub struct ClientView {
    client_id: String,
    audience: String,
    as_of: IsoDate,
    records: Vec<ViewRecord>,
    json: Vec<u8>,
}

#[uniffi::export]
impl ClientView {
    /// The client id.
    pub fn client_id(&self) -> String {
        self.client_id.clone()
    }

    /// Who the view is for.
    pub fn audience(&self) -> String {
        self.audience.clone()
    }

    /// The day consents were judged as of.
    pub fn as_of(&self) -> IsoDate {
        self.as_of
    }

    /// The visible records; a record with nothing visible is left out.
    pub fn records(&self) -> Vec<ViewRecord> {
        self.records.clone()
    }

    /// Exactly the bytes the disclosure log recorded (JSON), for `confirm_output`.
    pub fn to_json(&self) -> Vec<u8> {
        self.json.clone()
    }
}

impl std::fmt::Debug for ClientView {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // The same as the core's: ids are not client data, the records are.
        write!(f, "ClientView {{ client: {}, audience: {}, [redacted] }}", self.client_id, self.audience)
    }
}

impl std::fmt::Display for ClientView {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        std::fmt::Debug::fmt(self, f)
    }
}

impl ClientView {
    /// `as_of` is the day the core judged consents by; its view keeps that date private.
    pub(crate) fn new(v: &cw::ClientView, as_of: cw::Date) -> Self {
        Self {
            client_id: v.client().to_string(),
            audience: v.audience().to_owned(),
            as_of: as_of.into(),
            records: v
                .records()
                .iter()
                .map(|r| ViewRecord {
                    id: r.id.0,
                    kind: r.kind.as_str().to_owned(),
                    sections: r.sections.iter().map(|(c, value)| (c.as_str().to_owned(), value.to_string())).collect(),
                })
                .collect(),
            json: v.to_json().to_vec(),
        }
    }
}
