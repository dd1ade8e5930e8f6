//! Identifiers and their normal forms: A-numbers, dates, birth dates with precision, names.
//!
//! Parsing is strict where a wrong guess hurts a person: an A-number with ten digits is refused
//! rather than trimmed, a receipt number or an I-94 number is named as such, and nothing is ever
//! silently turned into a pseudonym of garbage. Every value keeps the form it was entered in
//! beside its canonical form, for audit and for reproducing what the client wrote.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};
use unicode_normalization::UnicodeNormalization;

use crate::error::{Error, Result};

/// Why an identifier was refused. Carries counts and kinds, never the input.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum InvalidIdentifier {
    /// Nothing was entered.
    #[error("it is empty")]
    Empty,
    /// A character among the digits that is neither a digit nor a space, hyphen, dot or slash.
    #[error("it contains a character that is not a digit or separator (space, hyphen, dot or slash)")]
    InvalidCharacter,
    /// Letters before the digits that are not an A-number label (`A`, `A-Number`, `Alien
    /// Number`, `Alien Registration No.`, `USCIS #`).
    #[error("it starts with a label that is not an A-number label (A, A-Number, Alien Number, USCIS)")]
    UnknownLabel,
    /// Letters or other text after the digits.
    #[error("it has text after the digits; enter the A-number alone")]
    TrailingText,
    /// Digits of a script caseward does not convert (it reads ASCII, Arabic-Indic, Persian,
    /// Devanagari, Bengali and other South and Southeast Asian decimal digits).
    #[error("it contains digits of a script caseward does not read; enter them as 0-9")]
    UnsupportedDigits,
    /// Fewer than 7 digits.
    #[error("it has {0} digits; an A-number has 7 to 9")]
    TooShort(usize),
    /// 10 or more digits: leading zeros are never dropped silently.
    #[error("it has {0} digits; an A-number has 7 to 9 (leading zeros are not dropped)")]
    AmbiguousLength(usize),
    /// Three letters and ten digits: a USCIS receipt number or a card number.
    #[error("it looks like a USCIS receipt or card number, not an A-number")]
    ReceiptOrCardNumber,
    /// Eleven characters mixing letters and digits: an I-94 number.
    #[error("it looks like an I-94 number, not an A-number")]
    I94Number,
    /// All one digit (000000000): a placeholder.
    #[error("it is a placeholder, not a real A-number")]
    Placeholder,
    /// Nine digits in the ITIN range without an `A` label: could be a tax id.
    #[error("it looks like an ITIN; write it with its A prefix if it is an A-number")]
    LooksLikeItin,
    /// Grouped like a date (1990-01-02, 01/02/1990) without an `A` label.
    #[error("it is grouped like a date; write it with its A prefix if it is an A-number")]
    LooksLikeDate,
    /// Grouped 3-4 like a phone number without an `A` label.
    #[error("it is grouped like a phone number; write it with its A prefix if it is an A-number")]
    LooksLikePhone,
    /// Grouped 3-2-4 like an SSN without an `A` label.
    #[error("it is grouped like an SSN (3-2-4); write it with its A prefix if it is an A-number")]
    LooksLikeSsn,
    /// A date that does not exist or is not `YYYY-MM-DD`.
    #[error("it is not a valid YYYY-MM-DD date")]
    BadDate,
    /// A birth date whose parts do not match its stated precision.
    #[error("its parts do not match its precision")]
    BadPrecision,
}

/// A canonical A-number: `A` followed by nine digits.
///
/// ```
/// use caseward::AlienNumber;
/// assert_eq!(AlienNumber::parse("A-123-456-789").unwrap().as_str(), "A123456789");
/// assert_eq!(AlienNumber::parse("a 12 345 678").unwrap().as_str(), "A012345678");
/// assert_eq!(AlienNumber::parse("USCIS# 123 456 789").unwrap().display(), "A123-456-789");
/// assert!(AlienNumber::parse("A0123456789").is_err()); // ten digits: never trimmed
/// ```
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct AlienNumber(String);

const LABELS: &[&str] = &[
    "ALIEN REGISTRATION NUMBER",
    "ALIEN REGISTRATION NO",
    "ALIEN NUMBER",
    "ALIEN NO",
    "USCIS NUMBER",
    "USCIS NO",
    "USCIS",
    "A NUMBER",
    "A NO",
    "A",
];

impl AlienNumber {
    /// Parses an A-number as people write it (see the module docs for what is refused).
    pub fn parse(input: &str) -> Result<Self> {
        Self::parse_inner(input).map_err(|problem| Error::InvalidIdentifier { field: "a_number", problem })
    }

    fn parse_inner(input: &str) -> Result<Self, InvalidIdentifier> {
        // NFKC folds full-width forms; other scripts' decimal digits become 0-9, so an A-number
        // written in Arabic-Indic or Devanagari digits reads the same as in ASCII.
        let text: String = input.nfkc().map(ascii_digit).collect::<String>().trim().to_uppercase();
        if text.is_empty() {
            return Err(InvalidIdentifier::Empty);
        }
        let compact: String = text.chars().filter(|c| c.is_ascii_alphanumeric()).collect();
        let letters = compact.chars().take_while(char::is_ascii_alphabetic).count();
        let digits_after = compact.len() - letters;
        if letters == 3 && digits_after == 10 && compact.chars().skip(3).all(|c| c.is_ascii_digit()) {
            return Err(InvalidIdentifier::ReceiptOrCardNumber);
        }
        if compact.len() == 11
            && compact.chars().any(|c| c.is_ascii_alphabetic())
            && compact.chars().any(|c| c.is_ascii_digit())
            && !text.starts_with('A')
        {
            return Err(InvalidIdentifier::I94Number);
        }

        // Strip one label, then the punctuation that follows labels.
        let (rest, labelled) = match strip_label(&text) {
            Some(rest) => (rest, true),
            None => (text.as_str(), false),
        };
        const PUNCT: [char; 6] = ['#', ':', '.', '-', ' ', '\u{a0}'];
        let mut rest = rest.trim_start_matches(PUNCT);
        // "A-Number: A123456789": a word label followed by the A prefix.
        if labelled {
            if let Some(r) = rest.strip_prefix('A').filter(|r| r.chars().next().is_none_or(|c| !c.is_alphabetic())) {
                rest = r.trim_start_matches(PUNCT);
            }
        }

        let mut digits = String::with_capacity(9);
        for (at, c) in rest.char_indices() {
            match c {
                '0'..='9' => digits.push(c),
                ' ' | '-' | '.' | '/' | '\u{a0}' => {}
                c if c.is_numeric() => return Err(InvalidIdentifier::UnsupportedDigits),
                // After the digits: trailing text if no digit follows, a stray character if one does.
                _ if !digits.is_empty() => {
                    let more = rest.get(at..).is_some_and(|r| r.chars().any(|d| d.is_ascii_digit()));
                    return Err(if more {
                        InvalidIdentifier::InvalidCharacter
                    } else {
                        InvalidIdentifier::TrailingText
                    });
                }
                c if c.is_alphabetic() => return Err(InvalidIdentifier::UnknownLabel),
                _ => return Err(InvalidIdentifier::InvalidCharacter),
            }
        }
        match digits.len() {
            0 => return Err(InvalidIdentifier::Empty),
            n @ 1..=6 => return Err(InvalidIdentifier::TooShort(n)),
            7..=9 => {}
            n => return Err(InvalidIdentifier::AmbiguousLength(n)),
        }
        if is_placeholder(&digits) {
            return Err(InvalidIdentifier::Placeholder);
        }
        if !labelled {
            match groups(rest).as_slice() {
                [3, 2, 4] => return Err(InvalidIdentifier::LooksLikeSsn),
                [4, 2, 2] | [1 | 2, 1 | 2, 4] => return Err(InvalidIdentifier::LooksLikeDate),
                [3, 4] => return Err(InvalidIdentifier::LooksLikePhone),
                _ => {}
            }
            if digits.len() == 9 && looks_like_itin(&digits) {
                return Err(InvalidIdentifier::LooksLikeItin);
            }
        }
        Ok(Self(format!("A{digits:0>9}")))
    }

    /// The canonical form, `A` + nine digits, as stored and pseudonymized.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The display form `A012-345-678`.
    pub fn display(&self) -> String {
        let d = self.0.get(1..).unwrap_or_default();
        format!(
            "A{}-{}-{}",
            d.get(0..3).unwrap_or_default(),
            d.get(3..6).unwrap_or_default(),
            d.get(6..9).unwrap_or_default()
        )
    }
}

fn is_placeholder(digits: &str) -> bool {
    // All one digit (000000000, 999999999). An early placeholder list also named 123456789, but the
    // same list's vectors accept "A123-456-789", so we refuse only all-same digits
    // (docs/program.md#a-number).
    let mut chars = digits.chars();
    let first = chars.next();
    chars.all(|c| Some(c) == first)
}

fn looks_like_itin(digits: &str) -> bool {
    // ITINs start with 9 and have middle (4th-5th) digits 50-65, 70-88, 90-92 or 94-99.
    let Some(middle) = digits.get(3..5).and_then(|m| m.parse::<u8>().ok()) else {
        return false;
    };
    digits.starts_with('9') && matches!(middle, 50..=65 | 70..=88 | 90..=92 | 94..=99)
}

/// The lengths of the digit groups between separators. Every separator counts: 123.45.6789
/// and 123/45/6789 are the SSN shape as much as 123-45-6789.
fn groups(rest: &str) -> Vec<usize> {
    rest.split(['-', ' ', '.', '/', '\u{a0}']).filter(|g| !g.is_empty()).map(str::len).collect()
}

/// Strips an A-number label, written with spaces, hyphens, dots or nothing between its words
/// (`A-Number`, `A.No.`, `Alien Number`, `ALIENNUMBER`). `A` alone must be followed by a
/// non-letter (`A#`, `A-`, `A 123`, `A123`).
fn strip_label(text: &str) -> Option<&str> {
    for label in LABELS {
        for sep in [" ", "-", ".", ""] {
            let written = label.replace(' ', sep);
            if let Some(rest) = text.strip_prefix(written.as_str()) {
                if rest.chars().next().is_none_or(|c| !c.is_ascii_alphabetic()) {
                    return Some(rest);
                }
            }
        }
    }
    None
}

/// The first code point (the zero) of each block of ten decimal digits caseward converts to
/// ASCII: Arabic-Indic, Extended Arabic-Indic (Persian, Urdu, Pashto, Dari), N'Ko, Devanagari,
/// Bengali, Gurmukhi, Gujarati, Oriya, Tamil, Telugu, Kannada, Malayalam, Thai, Lao, Tibetan,
/// Myanmar, Khmer, Mongolian.
const DIGIT_ZEROS: [u32; 19] = [
    0x0660, 0x06F0, 0x07C0, 0x0966, 0x09E6, 0x0A66, 0x0AE6, 0x0B66, 0x0BE6, 0x0C66, 0x0CE6, 0x0D66, 0x0E50, 0x0ED0,
    0x0F20, 0x1040, 0x17E0, 0x1810, 0x1090,
];

fn ascii_digit(c: char) -> char {
    let code = u32::from(c);
    DIGIT_ZEROS
        .iter()
        .find(|&&zero| (zero..zero + 10).contains(&code))
        .and_then(|zero| char::from_digit(code - zero, 10))
        .unwrap_or(c)
}

impl FromStr for AlienNumber {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self> {
        Self::parse(s)
    }
}

impl fmt::Debug for AlienNumber {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("AlienNumber([redacted])")
    }
}

impl Serialize for AlienNumber {
    fn serialize<S: serde::Serializer>(&self, s: S) -> std::result::Result<S::Ok, S::Error> {
        s.serialize_str(&self.0)
    }
}

impl<'de> Deserialize<'de> for AlienNumber {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> std::result::Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        Self::parse_inner(&s).map_err(serde::de::Error::custom)
    }
}

/// A calendar date (no time zone), serialized as `YYYY-MM-DD`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Date(time::Date);

const ISO_DATE: &[time::format_description::BorrowedFormatItem<'static>] =
    time::macros::format_description!("[year]-[month]-[day]");

impl Date {
    /// A date from its parts; years 1 to 9999.
    pub fn from_ymd(year: i32, month: u8, day: u8) -> Result<Self> {
        let m = time::Month::try_from(month).map_err(|_| bad_date())?;
        time::Date::from_calendar_date(year, m, day).map_err(|_| bad_date()).and_then(Self::in_range)
    }

    /// Parses `YYYY-MM-DD`; years 1 to 9999.
    pub fn parse(text: &str) -> Result<Self> {
        time::Date::parse(text.trim(), ISO_DATE).map_err(|_| bad_date()).and_then(Self::in_range)
    }

    /// Years 1 to 9999 only: every date then has one `YYYY-MM-DD` spelling, and Python's and
    /// Java's date types (what the bindings hand out) can hold it. Year 0 is no one's birthday.
    fn in_range(d: time::Date) -> Result<Self> {
        if (1..=9999).contains(&d.year()) {
            Ok(Self(d))
        } else {
            Err(bad_date())
        }
    }

    /// Today's date in UTC.
    pub fn today() -> Self {
        Self(time::OffsetDateTime::now_utc().date())
    }

    /// The year.
    pub fn year(self) -> i32 {
        self.0.year()
    }

    /// The month, 1-12.
    pub fn month(self) -> u8 {
        u8::from(self.0.month())
    }

    /// The day of the month.
    pub fn day(self) -> u8 {
        self.0.day()
    }

    /// The date `days` later (or earlier, if negative).
    pub fn add_days(self, days: i64) -> Self {
        Self(self.0.saturating_add(time::Duration::days(days)))
    }

    /// Whole days from `earlier` to this date (negative if `earlier` is later).
    pub fn days_since(self, earlier: Date) -> i64 {
        (self.0 - earlier.0).whole_days()
    }

    /// Monday = 1 ... Sunday = 7.
    pub fn weekday_number(self) -> u8 {
        self.0.weekday().number_from_monday()
    }

    /// `YYYY-MM`: the coarse month stored in plaintext columns.
    pub fn month_label(self) -> String {
        format!("{:04}-{:02}", self.year(), self.month())
    }
}

fn bad_date() -> Error {
    Error::InvalidIdentifier { field: "date", problem: InvalidIdentifier::BadDate }
}

impl fmt::Display for Date {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:04}-{:02}-{:02}", self.year(), self.month(), self.day())
    }
}

impl FromStr for Date {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self> {
        Self::parse(s)
    }
}

impl Serialize for Date {
    fn serialize<S: serde::Serializer>(&self, s: S) -> std::result::Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for Date {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> std::result::Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        Self::parse(&s).map_err(serde::de::Error::custom)
    }
}

/// How precisely a birth date is known.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DatePrecision {
    /// Year, month and day.
    Day,
    /// Year and month.
    Month,
    /// Year only.
    Year,
    /// An approximate year (self-reported age, two-digit year).
    Approximate,
}

/// Where a birth date came from.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DateProvenance {
    /// A document (passport, birth certificate).
    Document,
    /// What the client said.
    SelfReport,
    /// Assigned by DHS, DOS or UNHCR (who write 1 January when only the year is known).
    AssignedByAuthority,
    /// Not recorded.
    Unknown,
}

/// A date of birth with its precision and provenance.
///
/// ```
/// use caseward::{BirthDate, DatePrecision, DateProvenance};
/// let d = BirthDate::new(1990, Some(1), Some(1), DatePrecision::Day, DateProvenance::AssignedByAuthority).unwrap();
/// assert!(d.jan1_suspect());                        // 1 January from DHS paperwork
/// assert_eq!(d.effective_precision(), DatePrecision::Year); // so matching treats it as a year
/// ```
#[derive(Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct BirthDate {
    /// The year.
    pub year: u16,
    /// The month, when known.
    pub month: Option<u8>,
    /// The day, when known.
    pub day: Option<u8>,
    /// How precisely it is known.
    pub precision: DatePrecision,
    /// Where it came from.
    pub provenance: DateProvenance,
}

impl BirthDate {
    /// Checks that the parts agree with the precision and form a real date.
    pub fn new(
        year: u16,
        month: Option<u8>,
        day: Option<u8>,
        precision: DatePrecision,
        provenance: DateProvenance,
    ) -> Result<Self> {
        let bad = |problem| Error::InvalidIdentifier { field: "dob", problem };
        let parts_ok = match precision {
            DatePrecision::Day => month.is_some() && day.is_some(),
            DatePrecision::Month => month.is_some() && day.is_none(),
            DatePrecision::Year | DatePrecision::Approximate => month.is_none() && day.is_none(),
        };
        if !parts_ok || !(1900..=2100).contains(&year) {
            return Err(bad(InvalidIdentifier::BadPrecision));
        }
        if let Some(m) = month {
            Date::from_ymd(i32::from(year), m, day.unwrap_or(1)).map_err(|_| bad(InvalidIdentifier::BadDate))?;
        }
        Ok(Self { year, month, day, precision, provenance })
    }

    /// 1 January from an authority's document (or of unknown origin) is often assigned when
    /// only the year is known.
    pub fn jan1_suspect(&self) -> bool {
        self.month == Some(1)
            && self.day == Some(1)
            && matches!(self.provenance, DateProvenance::AssignedByAuthority | DateProvenance::Unknown)
    }

    /// The precision matching should use: a suspect 1 January counts as a year.
    pub fn effective_precision(&self) -> DatePrecision {
        if self.jan1_suspect() {
            DatePrecision::Year
        } else {
            self.precision
        }
    }
}

impl fmt::Debug for BirthDate {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("BirthDate").field("precision", &self.precision).finish_non_exhaustive()
    }
}

/// The role of a surname.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SurnameRole {
    /// The father's (first) surname in Hispanic usage.
    Paternal,
    /// The mother's surname.
    Maternal,
    /// A surname taken at marriage.
    Married,
    /// Any other, or not known.
    Other,
}

/// One surname with its role.
#[derive(Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Surname {
    /// The surname as written.
    pub text: String,
    /// Its role.
    pub role: SurnameRole,
}

/// A person's name: the verbatim forms are kept, never overwritten.
#[derive(Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct PersonName {
    /// Exactly as on ICE/EOIR paperwork (the only form an ICE notice may carry).
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub verbatim_dhs: String,
    /// As the client writes it, in its original script.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub verbatim_self: Option<String>,
    /// Given names, in order.
    #[serde(default)]
    pub given: Vec<String>,
    /// Surnames with their roles, in order. Empty for a mononym.
    #[serde(default)]
    pub surnames: Vec<Surname>,
    /// The name the client goes by.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub preferred: Option<String>,
    /// Other names used.
    #[serde(default)]
    pub aliases: Vec<String>,
}

impl PersonName {
    /// A name from its DHS verbatim form alone (parts unknown).
    pub fn verbatim(text: impl Into<String>) -> Self {
        Self { verbatim_dhs: text.into(), ..Self::default() }
    }
}

impl fmt::Debug for Surname {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Surname").field("role", &self.role).finish_non_exhaustive()
    }
}

impl fmt::Debug for PersonName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("PersonName([redacted])")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ok(input: &str) -> String {
        AlienNumber::parse(input).unwrap().as_str().to_owned()
    }

    fn err(input: &str) -> InvalidIdentifier {
        match AlienNumber::parse(input).unwrap_err() {
            Error::InvalidIdentifier { problem, .. } => problem,
            other => panic!("unexpected {other:?}"),
        }
    }

    #[test]
    fn research_vectors() {
        // The written forms in docs/program.md#a-number.
        assert_eq!(ok("A123-456-789"), "A123456789");
        assert_eq!(ok("a 12 345 678"), "A012345678");
        assert_eq!(ok("012345678"), "A012345678");
        assert_eq!(ok("USCIS# 123 456 789"), "A123456789");
        assert_eq!(ok("A1234567"), "A001234567");
        assert_eq!(err("A0123456789"), InvalidIdentifier::AmbiguousLength(10));
        assert_eq!(err("IOE0912345678"), InvalidIdentifier::ReceiptOrCardNumber);
        assert_eq!(err("000000000"), InvalidIdentifier::Placeholder);
    }

    #[test]
    fn design_forms_and_rejections() {
        assert_eq!(ok("A-123-456-789"), "A123456789");
        assert_eq!(ok("A# 123 456 789"), "A123456789");
        assert_eq!(ok("A12345678"), "A012345678");
        assert_eq!(ok("Ａ１２３４５６７８９"), "A123456789"); // fullwidth, via NFKC
        assert_eq!(ok("Alien Number: 223 456 789"), "A223456789");
        assert_eq!(err("A000000000"), InvalidIdentifier::Placeholder);
        assert_eq!(err("A111111111"), InvalidIdentifier::Placeholder);
        assert_eq!(err("A123456789012"), InvalidIdentifier::AmbiguousLength(12));
        assert_eq!(err("EAC2190012345"), InvalidIdentifier::ReceiptOrCardNumber);
        assert_eq!(err("12345678A12"), InvalidIdentifier::I94Number);
        assert_eq!(err("A12345"), InvalidIdentifier::TooShort(5));
        assert_eq!(err(""), InvalidIdentifier::Empty);
        assert_eq!(err("A12x456789"), InvalidIdentifier::InvalidCharacter);
        assert_eq!(err("912-70-1234"), InvalidIdentifier::LooksLikeSsn);
        assert_eq!(err("912701234"), InvalidIdentifier::LooksLikeItin);
        assert_eq!(ok("A912701234"), "A912701234");
    }

    #[test]
    fn errors_do_not_echo_input() {
        let e = AlienNumber::parse("A98765432101").unwrap_err().to_string();
        assert!(!e.contains("987654"), "{e}");
    }

    #[test]
    fn display_and_debug() {
        let a = AlienNumber::parse("A012345679").unwrap();
        assert_eq!(a.display(), "A012-345-679");
        assert_eq!(format!("{a:?}"), "AlienNumber([redacted])");
    }

    #[test]
    fn birth_dates() {
        assert!(BirthDate::new(1990, Some(2), Some(30), DatePrecision::Day, DateProvenance::Document).is_err());
        assert!(BirthDate::new(1990, Some(2), None, DatePrecision::Day, DateProvenance::Document).is_err());
        let y = BirthDate::new(1990, None, None, DatePrecision::Year, DateProvenance::SelfReport).unwrap();
        assert!(!y.jan1_suspect());
        let j = BirthDate::new(1990, Some(1), Some(1), DatePrecision::Day, DateProvenance::Document).unwrap();
        assert!(!j.jan1_suspect());
    }
}
