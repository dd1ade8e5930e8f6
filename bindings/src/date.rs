//! Calendar dates across the boundary: `datetime.date` in Python, `java.time.LocalDate` in
//! Kotlin, both ways. Underneath, a date crosses as `YYYY-MM-DD` text that the core's
//! [`caseward::Date`] parses and prints, so a date the core refuses is its typed error
//! (`InvalidInput`), never a different date. The foreign types and their conversions are set
//! in `bindings/uniffi.toml` (`custom_types.IsoDate`); Swift, without a configured type, sees
//! the text.

use caseward as cw;

use crate::error::{CasewardError, Result};

/// A calendar date (no time zone): `datetime.date` in Python, `java.time.LocalDate` in Kotlin.
/// Years 1 to 9999 only, the range both hold; anything else is `InvalidInput`. Its `Debug`
/// prints no date: dates of check-ins, hearings and moves are client data.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct IsoDate(cw::Date);

uniffi::custom_type!(IsoDate, String, {
    lower: |d| d.0.to_string(),
    try_lift: |text| Ok(IsoDate::parse(&text)?),
});

impl IsoDate {
    /// Parses `YYYY-MM-DD` with the core's parser; refuses years outside 1 to 9999.
    fn parse(text: &str) -> Result<Self> {
        let date = cw::Date::parse(text)?;
        if !(1..=9999).contains(&date.year()) {
            return Err(CasewardError::from(cw::Error::InvalidIdentifier {
                field: "date",
                problem: cw::InvalidIdentifier::BadDate,
            }));
        }
        Ok(Self(date))
    }
}

impl From<cw::Date> for IsoDate {
    fn from(d: cw::Date) -> Self {
        Self(d)
    }
}

impl From<IsoDate> for cw::Date {
    fn from(d: IsoDate) -> Self {
        d.0
    }
}

impl std::fmt::Debug for IsoDate {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("IsoDate([redacted])")
    }
}

/// Parses `YYYY-MM-DD` text (a spreadsheet cell, a form field) into a date with the core's
/// parser: `InvalidInput` when it is not a real date, with a text that does not repeat it.
#[uniffi::export]
pub fn parse_date(text: String) -> Result<IsoDate> {
    IsoDate::parse(&text)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn real_dates_in_years_1_to_9999_only() {
        assert_eq!(cw::Date::from(IsoDate::parse("2026-08-03").unwrap()).to_string(), "2026-08-03");
        assert_eq!(cw::Date::from(IsoDate::parse("0001-01-01").unwrap()).to_string(), "0001-01-01");
        for bad in ["2026-13-01", "2026-02-30", "03/08/2026", "0000-01-01", "", "2026-08-03T10:00:00"] {
            let e = IsoDate::parse(bad).unwrap_err();
            assert!(matches!(e, CasewardError::InvalidInput { .. }), "{bad}");
            assert!(bad.is_empty() || !e.to_string().contains(bad), "{e}");
        }
        assert_eq!(format!("{:?}", IsoDate::parse("2026-08-03").unwrap()), "IsoDate([redacted])");
    }
}
