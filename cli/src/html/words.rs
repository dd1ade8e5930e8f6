//! Readable words for what a table carries as identifiers: column codes, geography, units, the
//! period a table covers, and the disclosure method. Only caseward's own fixed vocabulary is
//! translated; any other label (a site, a provider id, anything a crafted bundle says) is shown
//! as written, escaped by the caller.

use caseward::report::noise::NOISY_CONFIDENCE;
use caseward::report::{Grain, Mechanism, Method, Period};

/// Table 20a's ISO 3166-1 codes (`caseward::report::indicator::NATIONALITIES`), in words.
const NATIONALITIES: &[(&str, &str)] = &[
    ("MX", "Mexico"),
    ("GT", "Guatemala"),
    ("HN", "Honduras"),
    ("SV", "El Salvador"),
    ("NI", "Nicaragua"),
    ("CU", "Cuba"),
    ("HT", "Haiti"),
    ("VE", "Venezuela"),
    ("CO", "Colombia"),
    ("EC", "Ecuador"),
    ("BR", "Brazil"),
    ("AF", "Afghanistan"),
    ("other", "Other or not recorded"),
];

/// Table 20b's ISO 639 codes (`caseward::report::indicator::LANGUAGES`), in words.
const LANGUAGES: &[(&str, &str)] = &[
    ("es", "Spanish"),
    ("pt", "Portuguese"),
    ("ht", "Haitian Creole"),
    ("fr", "French"),
    ("en", "English"),
    ("ar", "Arabic"),
    ("prs", "Dari"),
    ("ps", "Pashto"),
    ("quc", "K'iche'"),
    ("mam", "Mam"),
    ("other", "Other or not recorded"),
];

/// Every other column label caseward publishes (`core/src/report/indicator.rs`), in words.
const COLUMNS: &[(&str, &str)] = &[
    // 07a, 07b: service categories.
    ("legal_orientation", "Legal orientation"),
    ("legal_services", "Legal services"),
    ("cultural_orientation", "Cultural orientation"),
    ("health_enrollment", "Health-care enrollment"),
    ("itin", "ITIN"),
    ("food", "Food"),
    ("housing", "Housing"),
    ("language", "Language"),
    ("school", "School"),
    ("transport", "Transport"),
    ("employment", "Employment"),
    // 01 to 06.
    ("active", "Active"),
    ("active households", "Active households"),
    ("accepted", "Accepted"),
    ("declined", "Declined"),
    ("new enrollments", "New enrollments"),
    ("exits", "Exits"),
    ("0-90 days", "0 to 90 days"),
    ("91-180 days", "91 to 180 days"),
    ("181-365 days", "181 to 365 days"),
    ("over 365 days", "Over 365 days"),
    ("participant-days", "Participant-days"),
    ("expenditure (USD)", "Expenditure (US dollars)"),
    // 07c, 08.
    ("events", "Events"),
    ("persons", "People"),
    ("pending", "Pending"),
    ("connected", "Connected"),
    // 09, 10.
    ("yes", "Yes"),
    ("no", "No"),
    // 11 to 14.
    ("appeared", "Appeared"),
    ("missed", "Missed"),
    ("no missed hearing", "No missed hearing"),
    ("one or more missed", "One or more missed"),
    ("respondent", "Respondent"),
    ("dhs", "DHS"),
    ("court", "Court"),
    ("not recorded", "Not recorded"),
    ("attended", "Attended"),
    ("all filed on time", "All filed on time"),
    ("late or missing", "Late or missing"),
    // 15, 16.
    ("not screened", "Not screened"),
    ("no indicators", "No indicators"),
    ("indicators, not referred", "Indicators, not referred"),
    ("indicators, referred", "Indicators, referred"),
    ("negative", "Negative"),
    ("positive, not connected", "Positive, not connected"),
    ("positive, connected to care", "Positive, connected to care"),
    // 17 to 19.
    ("asylum", "Asylum"),
    ("withholding or CAT", "Withholding or CAT"),
    ("other", "Other"),
    ("resolved", "Resolved"),
    ("relief", "Relief"),
    ("removal order", "Removal order"),
    ("departed", "Departed"),
    ("moved", "Moved"),
    ("withdrew", "Withdrew"),
    ("lost contact", "Lost contact"),
    ("detained", "Detained"),
    ("with a departure plan", "With a departure plan"),
    ("departed with reintegration support", "Departed with reintegration support"),
    // 20c to 20e.
    ("under 18", "Under 18"),
    ("18-24", "18 to 24"),
    ("25-34", "25 to 34"),
    ("35-44", "35 to 44"),
    ("45-54", "45 to 54"),
    ("55 and over", "55 and over"),
    ("unknown", "Unknown"),
    ("female", "Female"),
    ("male", "Male"),
    ("another or not stated", "Another or not stated"),
    ("single adult", "Single adult"),
    ("household with minors", "Household with minors"),
    ("household without minors", "Household without minors"),
    // 21a, 21b.
    ("day", "Exact day"),
    ("month", "Month and year"),
    ("year or assigned 1 January", "Year only, or assigned 1 January"),
    ("approximate", "Approximate"),
    ("missing", "Missing"),
    ("with an active consent", "With an active consent"),
    ("without", "Without an active consent"),
];

fn lookup(words: &[(&str, &'static str)], raw: &str) -> Option<&'static str> {
    words.iter().find(|(code, _)| *code == raw).map(|(_, word)| *word)
}

/// A column label of table `id` in words, when it is one of caseward's own.
pub(super) fn column(id: &str, raw: &str) -> Option<&'static str> {
    match id {
        "20a" => lookup(NATIONALITIES, raw),
        "20b" => lookup(LANGUAGES, raw),
        _ => lookup(COLUMNS, raw),
    }
}

/// A row label in words: only caseward's own `all sites` (a site or provider is shown as written).
pub(super) fn row(raw: &str) -> Option<&'static str> {
    use caseward::report::indicator::{ALL_SITES, OTHER_SITES};
    match raw {
        ALL_SITES => Some("All sites"),
        OTHER_SITES => Some("Sites the provider did not declare"),
        _ => None,
    }
}

/// What a cell counts, for "each cell counts ...".
pub(super) fn unit(raw: &str) -> Option<&'static str> {
    Some(match raw {
        "persons" => "people",
        "households" => "households",
        "events" => "events",
        "days" => "participant-days",
        "days; USD" => "participant-days, and US dollars spent",
        "events; persons" => "events, and people",
        "referrals" => "referrals",
        "hearings" => "hearings",
        "check-ins" => "check-ins",
        "moves" => "moves",
        _ => return None,
    })
}

/// The rows a table has, from its geography; `merged` tables carry each provider's rows.
pub(super) fn geography(raw: &str, merged: bool) -> Option<&'static str> {
    Some(match (raw, merged) {
        ("site", false) => "one row per site",
        ("site", true) => "one row per provider and site",
        ("provider", false) => "one row for all the provider's sites",
        ("provider", true) => "one row per provider (all its sites)",
        _ => return None,
    })
}

const MONTHS: [&str; 12] = [
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
];

fn month_name(m: u8) -> &'static str {
    MONTHS.get(usize::from(m).wrapping_sub(1)).copied().unwrap_or("?")
}

/// A report period in words: `December 2025`.
pub(super) fn period(p: Period) -> String {
    format!("{} {}", month_name(p.month()), p.year())
}

/// How often a table of this grain is published.
pub(super) fn grain(g: Grain) -> &'static str {
    match g {
        Grain::Month => "monthly",
        Grain::Quarter => "quarterly",
        Grain::HalfYear => "half-yearly",
        Grain::Year => "yearly",
        Grain::FiscalYear => "fiscal-year",
    }
}

/// The span a table covers in words (`October to December 2025`), when its label has the form
/// its grain gives (`2025-Q4`); `None` for anything else.
pub(super) fn covers(g: Grain, raw: &str) -> Option<String> {
    let year = |y: &str| (y.len() == 4).then(|| y.parse::<i32>().ok()).flatten().filter(|y| (2000..=2200).contains(y));
    let part = |rest: &str, letter: char, max: u8| {
        rest.strip_prefix(letter).and_then(|n| n.parse::<u8>().ok()).filter(|n| (1..=max).contains(n))
    };
    match g {
        Grain::Month => raw.parse::<Period>().ok().filter(|p| p.to_string() == raw).map(period),
        Grain::Quarter => {
            let (y, q) = raw.split_once('-')?;
            let (y, q) = (year(y)?, part(q, 'Q', 4)?);
            Some(format!("{} to {} {y}", month_name(q * 3 - 2), month_name(q * 3)))
        }
        Grain::HalfYear => {
            let (y, h) = raw.split_once('-')?;
            let (y, h) = (year(y)?, part(h, 'H', 2)?);
            Some(format!("{} to {} {y}", month_name(h * 6 - 5), month_name(h * 6)))
        }
        Grain::Year => year(raw).map(|y| format!("January to December {y}")),
        Grain::FiscalYear => {
            let y = year(raw.strip_prefix("FY")?)?;
            Some(format!("federal fiscal year {y}: October {} to September {y}", y - 1))
        }
    }
}

fn fraction(num: u32, den: u32) -> String {
    if den == 1 {
        num.to_string()
    } else {
        format!("{num}/{den}")
    }
}

/// Millionths as a short decimal: 125000 is `0.125`.
pub(super) fn micros(m: u64) -> String {
    let text = format!("{}.{:06}", m / 1_000_000, m % 1_000_000);
    text.trim_end_matches('0').trim_end_matches('.').to_owned()
}

/// The disclosure method in words (numbers only: nothing a provider wrote).
pub(super) fn method(m: &Method) -> String {
    match m {
        Method::Suppress { k } if *k >= 2 => format!(
            "Small-cell suppression: counts of 1 to {} are withheld (k = {k}), with complementary cells \
             withheld too so they cannot be worked out from the totals. A cell that would show everyone in a \
             row in one sensitive or demographic column is withheld the same way, and may then hide any count, \
             0 included. A site with fewer than {k} persons \
             active at the end of the month is withheld whole and left out of every total; a quarter's \
             entries and exits count only the sites published in every month of the quarter and the month \
             before it, and are withheld unless both are 12 or more beyond what the published figures \
             prove; a released period never changes except by a stated revision",
            k - 1
        ),
        Method::Suppress { k } => format!("Small-cell suppression with k = {k}: no count is small enough to withhold"),
        Method::Noise { mechanism } => {
            let kind = match mechanism {
                Mechanism::Laplace { epsilon_num, epsilon_den } => {
                    format!("discrete Laplace noise, ε = {} per table", fraction(*epsilon_num, *epsilon_den))
                }
                Mechanism::Gaussian { rho_num, rho_den } => format!(
                    "discrete Gaussian noise, ρ = {} per table (zero-concentrated differential privacy)",
                    fraction(*rho_num, *rho_den)
                ),
            };
            format!(
                "Differential privacy: {kind}; each noisy cell shows a value, never below 0, and an interval \
                 [low, high] that holds the true count with probability {NOISY_CONFIDENCE} %"
            )
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_vocabularies_match_the_indicator_code() {
        fn codes(words: &[(&'static str, &'static str)]) -> Vec<&'static str> {
            words.iter().map(|(c, _)| *c).filter(|c| *c != "other").collect()
        }
        assert_eq!(codes(NATIONALITIES), caseward::report::indicator::NATIONALITIES);
        assert_eq!(codes(LANGUAGES), caseward::report::indicator::LANGUAGES);
    }

    #[test]
    fn periods_read_as_words() {
        assert_eq!(covers(Grain::Quarter, "2025-Q4").as_deref(), Some("October to December 2025"));
        assert_eq!(covers(Grain::HalfYear, "2026-H1").as_deref(), Some("January to June 2026"));
        assert_eq!(covers(Grain::Month, "2026-09").as_deref(), Some("September 2026"));
        assert_eq!(covers(Grain::Year, "2025").as_deref(), Some("January to December 2025"));
        assert_eq!(
            covers(Grain::FiscalYear, "FY2026").as_deref(),
            Some("federal fiscal year 2026: October 2025 to September 2026")
        );
        assert_eq!(covers(Grain::Quarter, "2025-Q5"), None);
        assert_eq!(covers(Grain::Month, "<b>"), None);
        assert_eq!(micros(125_000), "0.125");
        assert_eq!(micros(2_000_000), "2");
    }
}
