//! The text forms that cross the boundary: dates as `YYYY-MM-DD` and client ids as 32
//! hexadecimal digits, parsed on the way in and printed on the way out.

use std::str::FromStr;

use caseward as cw;

use crate::error::Result;

pub(crate) fn date(text: &str) -> Result<cw::Date> {
    Ok(cw::Date::parse(text)?)
}

pub(crate) fn opt_date(text: &Option<String>) -> Result<Option<cw::Date>> {
    text.as_deref().map(date).transpose()
}

pub(crate) fn client(id: &str) -> Result<cw::ClientId> {
    Ok(cw::ClientId::from_str(id)?)
}

pub(crate) fn text(d: cw::Date) -> String {
    d.to_string()
}

pub(crate) fn opt_text(d: Option<cw::Date>) -> Option<String> {
    d.map(text)
}
