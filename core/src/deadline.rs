//! The client's own obligations after a move: every duty it triggers and the earliest of them,
//! plus the next check-in and hearing, for reminders and pre-filled forms
//! (`docs/law.md#address-duties`, `docs/law.md#earliest-deadline`). The first consumer of the
//! obligation view is the client, not ICE.
//!
//! | duty | to | due | basis |
//! |---|---|---|---|
//! | EOIR-33/IC | immigration court | 5 calendar days after the move | 8 CFR 1003.15(d)(2) |
//! | ICE portal update | ICE | 5 business days (federal holidays excluded) | release conditions (I-220A/B) |
//! | AR-11 | USCIS | 10 calendar days | INA 265(a), 8 U.S.C. 1305(a) |
//! | notify ICE (order of supervision) | ICE | 48 hours: by the end of the next day | I-220B, 8 CFR 241.5 |
//!
//! Every due date is the last day the duty can be met on. The 48-hour duty runs from the hour of
//! the move, which is not recorded, so it is reported as the end of the day after the move: never
//! later than the law allows. Some secondary sources read the EOIR-33's five days as working days;
//! we count calendar days, the earlier reading.
//!
//! ```
//! use caseward::deadline::{duties_for_move, Duty};
//! use caseward::{Date, Filings};
//! let moved = Date::parse("2026-11-20")?;             // a Friday
//! let duties = duties_for_move(moved, true, &Filings::default());
//! let due = |d| duties.iter().find(|x| x.duty == d).unwrap().due.to_string();
//! assert_eq!(due(Duty::OsupNotice), "2026-11-21");
//! assert_eq!(due(Duty::Eoir33), "2026-11-25");
//! assert_eq!(due(Duty::IcePortal), "2026-11-30");  // skips a weekend and Thanksgiving
//! assert_eq!(due(Duty::Ar11), "2026-11-30");
//! # Ok::<(), caseward::Error>(())
//! ```

use serde::Serialize;

use crate::identifier::Date;
use crate::record::{CheckIn, Filing, Filings, Hearing};

/// A duty a move triggers.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Duty {
    /// Form EOIR-33/IC to the immigration court: 5 days.
    Eoir33,
    /// ICE portal change of address: 5 business days.
    IcePortal,
    /// Form AR-11 to USCIS: 10 days.
    Ar11,
    /// Under an order of supervision (I-220B), notify ICE within 48 hours.
    OsupNotice,
}

impl Duty {
    /// What to tell the client, in one line.
    pub fn describe(self) -> &'static str {
        match self {
            Self::Eoir33 => "file form EOIR-33/IC with the immigration court (5 days)",
            Self::IcePortal => "update the address in the ICE portal (5 business days)",
            Self::Ar11 => "file form AR-11 with USCIS (10 days)",
            Self::OsupNotice => "tell ICE about the move (48 hours, order of supervision)",
        }
    }
}

/// One duty and its due date.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Deadline {
    /// The duty.
    pub duty: Duty,
    /// The last day to meet it.
    pub due: Date,
    /// When it was met, if a filing is recorded.
    pub met_on: Option<Date>,
}

/// Everything a client should be reminded of.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Deadlines {
    /// The most recent move, if any.
    pub moved_on: Option<Date>,
    /// Every duty that move triggered, in due-date order.
    pub duties: Vec<Deadline>,
    /// The earliest duty not yet met.
    pub earliest_open: Option<Deadline>,
    /// The next ICE check-in on or after today.
    pub next_check_in: Option<Date>,
    /// The next court hearing on or after today.
    pub next_hearing: Option<Date>,
}

/// The duties a move on `moved_on` triggers, with what `filings` show already done.
pub fn duties_for_move(moved_on: Date, under_supervision_order: bool, filings: &Filings) -> Vec<Deadline> {
    let met = |f: &Option<Filing>| f.as_ref().map(|f| f.filed_on);
    let mut duties = vec![
        Deadline { duty: Duty::Eoir33, due: moved_on.add_days(5), met_on: met(&filings.eoir33) },
        Deadline { duty: Duty::IcePortal, due: add_business_days(moved_on, 5), met_on: met(&filings.ice_portal) },
        Deadline { duty: Duty::Ar11, due: moved_on.add_days(10), met_on: met(&filings.ar11) },
    ];
    if under_supervision_order {
        // The ICE portal filing is the same notice to ICE, so it meets this duty too.
        duties.push(Deadline { duty: Duty::OsupNotice, due: moved_on.add_days(1), met_on: met(&filings.ice_portal) });
    }
    duties.sort_by_key(|d| d.due);
    duties
}

/// Builds the reminders from a client's records.
pub(crate) fn deadlines(
    latest_move: Option<(Date, &Filings)>,
    under_supervision_order: bool,
    check_ins: &[&CheckIn],
    hearings: &[&Hearing],
    today: Date,
) -> Deadlines {
    let duties = latest_move.map_or_else(Vec::new, |(d, f)| duties_for_move(d, under_supervision_order, f));
    let earliest_open = duties.iter().filter(|d| d.met_on.is_none()).min_by_key(|d| d.due).cloned();
    Deadlines {
        moved_on: latest_move.map(|(d, _)| d),
        duties,
        earliest_open,
        next_check_in: check_ins.iter().map(|c| c.date).filter(|d| *d >= today).min(),
        next_hearing: hearings.iter().map(|h| h.date).filter(|d| *d >= today).min(),
    }
}

/// `n` business days after `from`: weekends and US federal holidays (as observed) do not count.
pub fn add_business_days(from: Date, n: u32) -> Date {
    let mut d = from;
    let mut left = n;
    while left > 0 {
        d = d.add_days(1);
        if d.weekday_number() <= 5 && !is_federal_holiday(d) {
            left -= 1;
        }
    }
    d
}

/// Whether `d` is a US federal holiday as observed (5 U.S.C. 6103, `docs/law.md#federal-holidays`): a Saturday holiday is
/// observed the Friday before, a Sunday holiday the Monday after.
pub fn is_federal_holiday(d: Date) -> bool {
    let y = d.year();
    // (month, day, first year): Juneteenth became a federal holiday in June 2021.
    let fixed = [(1, 1, i32::MIN), (6, 19, 2021), (7, 4, i32::MIN), (11, 11, i32::MIN), (12, 25, i32::MIN)];
    for (m, day, since) in fixed {
        for year in [y - 1, y, y + 1].into_iter().filter(|&year| year >= since) {
            if let Ok(h) = Date::from_ymd(year, m, day) {
                let observed = match h.weekday_number() {
                    6 => h.add_days(-1),
                    7 => h.add_days(1),
                    _ => h,
                };
                if observed == d {
                    return true;
                }
            }
        }
    }
    let nth = |month: u8, weekday: u8, n: u8| nth_weekday(y, month, weekday, n);
    let floating = [
        nth(1, 1, 3), // Martin Luther King Jr. Day: third Monday of January
        nth(2, 1, 3), // Washington's Birthday: third Monday of February
        last_monday_of_may(y),
        nth(9, 1, 1),  // Labor Day
        nth(10, 1, 2), // Columbus Day
        nth(11, 4, 4), // Thanksgiving: fourth Thursday of November
    ];
    floating.into_iter().flatten().any(|h| h == d)
}

fn nth_weekday(year: i32, month: u8, weekday: u8, n: u8) -> Option<Date> {
    let first = Date::from_ymd(year, month, 1).ok()?;
    let offset = (i64::from(weekday) - i64::from(first.weekday_number())).rem_euclid(7);
    Some(first.add_days(offset + 7 * (i64::from(n) - 1)))
}

fn last_monday_of_may(year: i32) -> Option<Date> {
    let last = Date::from_ymd(year, 5, 31).ok()?;
    Some(last.add_days(-((i64::from(last.weekday_number()) - 1).rem_euclid(7))))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(s: &str) -> Date {
        Date::parse(s).unwrap()
    }

    #[test]
    fn federal_holidays_2026() {
        for h in [
            "2026-01-01",
            "2026-01-19",
            "2026-02-16",
            "2026-05-25",
            "2026-06-19",
            "2026-07-03",
            "2026-09-07",
            "2026-10-12",
            "2026-11-11",
            "2026-11-26",
            "2026-12-25",
        ] {
            assert!(is_federal_holiday(d(h)), "{h}");
        }
        for not in ["2026-07-04", "2026-11-27", "2026-03-02"] {
            assert!(!is_federal_holiday(d(not)), "{not}");
        }
    }

    #[test]
    fn filings_meet_duties_and_the_earliest_open_one_is_reported() {
        let filings =
            Filings { eoir33: Some(Filing { filed_on: d("2026-11-02"), confirmation: None }), ..Filings::default() };
        let out = deadlines(Some((d("2026-11-01"), &filings)), false, &[], &[], d("2026-11-03"));
        assert_eq!(out.duties.len(), 3);
        let open = out.earliest_open.unwrap();
        assert_eq!(open.duty, Duty::IcePortal);
        assert_eq!(open.due, d("2026-11-06")); // Sunday move: Monday to Friday
    }
}
