//! Seeded, deterministic synthetic clients for tests, the demo and benchmarks.
//!
//! Names follow the naming customs of the people CMPP serves: Spanish and K'iche'-origin names
//! with two surnames and diacritics, Portuguese (last surname primary), Haitian Creole, Arabic
//! and Dari names with several romanizations, mononyms. A-numbers come in every written form
//! people use, 8 and 9 digits; [`Synth::invalid_a_number`] gives the inputs the parser must
//! refuse. Birth dates are often partial, and some are the 1 January an authority assigned.
//! Nothing here is real: every person is invented from the seed.
//!
//! ```
//! let mut a = caseward::synth::Synth::new(7);
//! let mut b = caseward::synth::Synth::new(7);
//! assert_eq!(a.intake(), b.intake()); // same seed, same client
//! ```

use crate::category::ServiceKind;
use crate::identifier::{
    AlienNumber, BirthDate, Date, DatePrecision, DateProvenance, PersonName, Surname, SurnameRole,
};
use crate::record::{
    AddressEpisode, Arm, Attendance, CaseNote, CheckIn, ConsentRecord, Enrollment, Exit, ExitReason, Filing, Filings,
    HealthKind, HealthRecord, Hearing, HearingKind, HearingOutcome, HouseholdLink, Identity, Intake, LegalStatus,
    Modality, PostalAddress, ProtectedRelief, ProtectedReliefKind, Randomization, Record, Referral, ReferralSource,
    ReferralStatus, Relationship, ReleaseBasis, Screening, ScreeningKind, ServiceEvent,
};

struct Culture {
    given: &'static [&'static str],
    surnames: &'static [&'static str],
    two_surnames: bool,
    nationality: &'static str,
    languages: &'static [&'static str],
    ethnicity: Option<&'static str>,
}

const MEXICO: Culture = Culture {
    given: &["Guadalupe"],
    surnames: &["García"],
    two_surnames: true,
    nationality: "MX",
    languages: &["es"],
    ethnicity: None,
};

const CULTURES: &[Culture] = &[
    Culture {
        given: &[
            "María José",
            "José Luis",
            "Juan Carlos",
            "Guadalupe",
            "Jesús",
            "Ana Sofía",
            "Luis Ángel",
            "Ximena",
            "Iñaki",
            "Begoña",
        ],
        surnames: &[
            "García",
            "López",
            "Martínez",
            "Hernández",
            "Peña",
            "Núñez",
            "de la Cruz",
            "Ramírez",
            "Sánchez",
            "Muñoz",
        ],
        two_surnames: true,
        nationality: "MX",
        languages: &["es"],
        ethnicity: None,
    },
    Culture {
        given: &["Santos", "Dolores", "Tomás", "Micaela", "Sebastián", "Juana"],
        surnames: &["Tzoc", "Ixcoy", "Tum", "Chávez", "Us", "Xiloj", "Cux", "Batz"],
        two_surnames: true,
        nationality: "GT",
        languages: &["quc", "es"],
        ethnicity: Some("K'iche'"),
    },
    Culture {
        given: &["João", "Ana Luísa", "Conceição", "Gonçalo", "Thiago", "Luíza"],
        surnames: &["Gonçalves", "da Silva", "Araújo", "Conceição", "Magalhães", "dos Santos"],
        two_surnames: true,
        nationality: "BR",
        languages: &["pt"],
        ethnicity: None,
    },
    Culture {
        given: &["Jean-Baptiste", "Marie-Ange", "Wideline", "Fritznel", "Nadège", "Wilner"],
        surnames: &["Jean-Louis", "Pierre", "Désir", "Saint-Fleur", "Joseph", "Exantus"],
        two_surnames: false,
        nationality: "HT",
        languages: &["ht", "fr"],
        ethnicity: None,
    },
    Culture {
        given: &["Mohammed", "Muhammad", "Fatima", "Ahmad", "Layla", "Omar", "Noor"],
        surnames: &["al-Hassan", "Abdelrahman", "El-Sayed", "Haddad", "bin Saleh", "Khalil"],
        two_surnames: false,
        nationality: "SY",
        languages: &["ar"],
        ethnicity: None,
    },
    Culture {
        given: &["Zahra", "Farid", "Mursal", "Abdul Rahim", "Shabnam", "Najib"],
        surnames: &["Ahmadzai", "Hakimi", "Noori", "Rahimi", "Sultani", "Wardak"],
        two_surnames: false,
        nationality: "AF",
        languages: &["prs", "ps"],
        ethnicity: Some("Tajik"),
    },
];

const STREETS: &[&str] = &["Harrisburg Blvd", "Westheimer Rd", "Fulton St", "Eastern Ave", "Broadway", "Bissonnet St"];
const CITIES: &[(&str, &str, &str)] = &[
    ("Houston", "TX", "77036"),
    ("New York", "NY", "10032"),
    ("Baltimore", "MD", "21224"),
    ("Los Angeles", "CA", "90057"),
    ("Washington", "DC", "20010"),
];
const OFFICES: &[&str] = &["Houston ERO", "New York ERO", "Baltimore ERO", "Los Angeles ERO", "Washington ERO"];
const COURTS: &[&str] =
    &["Houston Immigration Court", "New York Broadway Court", "Baltimore Immigration Court", "Los Angeles Olive Court"];
const SITES: &[&str] = &["site-houston", "site-nyc", "site-baltimore", "site-la", "site-dc"];
const PARTNERS: &[&str] = &["legal-aid-1", "clinic-2", "foodbank-3", "housing-4"];

/// Kinds of invalid A-number input the generator can produce.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum InvalidKind {
    /// Ten or more digits.
    TooLong,
    /// A USCIS receipt number.
    Receipt,
    /// A placeholder such as A000000000.
    Placeholder,
    /// Fewer than seven digits.
    TooShort,
    /// An I-94 number.
    I94,
}

/// A deterministic generator of synthetic clients.
#[derive(Debug)]
pub struct Synth {
    rng: fastrand::Rng,
    counter: u32,
    offset: u64,
    today: Date,
}

impl Synth {
    /// A generator whose output depends only on `seed`; "today" is fixed at 2026-10-15 so dates
    /// are reproducible too.
    pub fn new(seed: u64) -> Self {
        let mut rng = fastrand::Rng::with_seed(seed);
        let offset = rng.u64(..90_000_000);
        Self { rng, counter: 0, offset, today: Date::from_ymd(2026, 10, 15).unwrap_or_else(|_| Date::today()) }
    }

    /// Skips `clients` A-numbers. A-numbers are unique within one generator and drawn from
    /// ranges that depend on the count so far, so two generators enrolling into one vault must
    /// not overlap: start the second past the first's count.
    pub fn skip_numbers(&mut self, clients: u32) {
        self.counter = self.counter.saturating_add(clients);
    }

    /// The fixed "today" the generator dates records against.
    pub fn today(&self) -> Date {
        self.today
    }

    fn pick<T: Copy>(&mut self, items: &[T]) -> Option<T> {
        if items.is_empty() {
            None
        } else {
            items.get(self.rng.usize(..items.len())).copied()
        }
    }

    fn pick_str(&mut self, items: &[&'static str]) -> String {
        self.pick(items).unwrap_or("x").to_owned()
    }

    /// A valid A-number in one of the forms people write, unique within this generator.
    pub fn a_number_text(&mut self) -> String {
        self.counter += 1;
        let n = u64::from(self.counter);
        // Multiplying the count by a constant coprime to the range's size is a bijection on the
        // range: every number is unique, and successive clients get unrelated numbers, as at a
        // real provider (a monotone sequence would flatter a plaintext index in benchmarks).
        // One in five is an older 8-digit number.
        const SPREAD: u64 = 2_654_435_761;
        let eight = self.rng.u8(..5) == 0;
        let value = if eight {
            10_000_000 + (n * SPREAD + self.offset) % 90_000_000
        } else {
            200_000_000 + (n * SPREAD + self.offset) % 700_000_000
        };
        let digits = if eight { format!("{value:08}") } else { format!("{value:09}") };
        let grouped = |d: &str| {
            let cut = if d.len() == 9 { 3 } else { 2 };
            let (a, rest) = d.split_at(cut);
            let (b, c) = rest.split_at(3);
            format!("{a}-{b}-{c}")
        };
        match self.rng.u8(..6) {
            0 => format!("A{digits}"),
            1 => format!("A-{}", grouped(&digits)),
            2 => format!("A# {}", grouped(&digits).replace('-', " ")),
            3 => format!("USCIS# {}", grouped(&digits)),
            4 => format!("a {}", grouped(&digits).replace('-', " ")),
            _ => format!("A{}", grouped(&digits)),
        }
    }

    /// An input that is not an A-number, and what is wrong with it.
    pub fn invalid_a_number(&mut self) -> (String, InvalidKind) {
        match self.rng.u8(..5) {
            0 => (format!("A{}", self.rng.u64(1_000_000_000..10_000_000_000)), InvalidKind::TooLong),
            1 => {
                let prefix = self.pick(&["IOE", "EAC", "WAC", "SRC", "LIN", "MSC", "NBC"]).unwrap_or("IOE");
                (format!("{prefix}{:010}", self.rng.u64(..10_000_000_000)), InvalidKind::Receipt)
            }
            2 => {
                let d = self.rng.u8(..10);
                (format!("A{}", d.to_string().repeat(9)), InvalidKind::Placeholder)
            }
            3 => (format!("A{}", self.rng.u32(1000..999_999)), InvalidKind::TooShort),
            _ => (format!("{:09}A{}", self.rng.u64(..1_000_000_000), self.rng.u8(..10)), InvalidKind::I94),
        }
    }

    fn name(&mut self, culture: &Culture) -> PersonName {
        let given = self.pick_str(culture.given);
        let s1 = self.pick_str(culture.surnames);
        let mut surnames = vec![Surname {
            text: s1.clone(),
            role: if culture.two_surnames { SurnameRole::Paternal } else { SurnameRole::Other },
        }];
        if culture.two_surnames && self.rng.u8(..10) < 8 {
            surnames.push(Surname { text: self.pick_str(culture.surnames), role: SurnameRole::Maternal });
        }
        let family: Vec<&str> = surnames.iter().map(|s| s.text.as_str()).collect();
        // DHS paperwork writes FAMILY NAMES, Given Names, often without diacritics.
        let verbatim_dhs = format!("{}, {}", family.join(" ").to_uppercase(), given);
        let aliases = if self.rng.u8(..6) == 0 { vec![format!("{} {}", given, s1)] } else { Vec::new() };
        PersonName {
            verbatim_dhs,
            verbatim_self: Some(format!("{} {}", given, family.join(" "))),
            given: given.split(' ').map(str::to_owned).collect(),
            surnames,
            preferred: None,
            aliases,
        }
    }

    fn dob(&mut self) -> Option<BirthDate> {
        let year = self.rng.u16(1960..2008);
        let (month, day, precision, provenance) = match self.rng.u8(..10) {
            0 => return None,
            1 | 2 => (Some(1), Some(1), DatePrecision::Day, DateProvenance::AssignedByAuthority),
            3 => (None, None, DatePrecision::Year, DateProvenance::SelfReport),
            4 => (Some(self.rng.u8(1..13)), None, DatePrecision::Month, DateProvenance::SelfReport),
            _ => (Some(self.rng.u8(1..13)), Some(self.rng.u8(1..29)), DatePrecision::Day, DateProvenance::Document),
        };
        BirthDate::new(year, month, day, precision, provenance).ok()
    }

    fn date_between(&mut self, from_days_ago: i64, to_days_ago: i64) -> Date {
        let lo = to_days_ago.min(from_days_ago);
        let hi = to_days_ago.max(from_days_ago);
        self.today.add_days(-self.rng.i64(lo..=hi))
    }

    fn address(&mut self) -> PostalAddress {
        let (city, state, zip) = self.pick(CITIES).unwrap_or(("Houston", "TX", "77036"));
        PostalAddress {
            lines: vec![format!("{} {}", self.rng.u16(100..9999), self.pick_str(STREETS))],
            city: city.to_owned(),
            state: state.to_owned(),
            zip: zip.to_owned(),
        }
    }

    fn identity(&mut self, culture: &Culture) -> Identity {
        // a_number_text only writes valid forms, so this loop runs once.
        let (text, a_number) = loop {
            let text = self.a_number_text();
            if let Ok(a) = AlienNumber::parse(&text) {
                break (text, a);
            }
        };
        Identity {
            a_number,
            a_number_as_entered: text,
            name: self.name(culture),
            dob: self.dob(),
            ice_subject_id: (self.rng.u8(..3) == 0).then(|| format!("{:010}", self.rng.u64(..10_000_000_000))),
            tax_id: None,
            foreign_documents: Vec::new(),
            nationality: vec![culture.nationality.to_owned()],
            languages: culture.languages.iter().map(|l| (*l).to_owned()).collect(),
            interpreter_needed: self.rng.bool(),
            sex_gender: Some(self.pick_str(&["female", "male", "nonbinary"])),
            ethnicity: culture.ethnicity.map(str::to_owned),
            phones: vec![format!("+1 713 555 {:04}", self.rng.u16(..10000))],
            emails: Vec::new(),
        }
    }

    fn enrollment(&mut self) -> Enrollment {
        let enrolled_on = self.date_between(300, 20);
        let exited = self.rng.u8(..8) == 0;
        Enrollment {
            site: self.pick_str(SITES),
            enrolled_on,
            caseworker: Some(format!("cw-{}", self.rng.u8(1..20))),
            referral_source: self.pick(&[
                ReferralSource::IceReferral,
                ReferralSource::BoardSelection,
                ReferralSource::SelfReferral,
                ReferralSource::CommunityOrganization,
            ]),
            release_basis: self.pick(&[
                ReleaseBasis::Atd,
                ReleaseBasis::Parole,
                ReleaseBasis::Bond,
                ReleaseBasis::Orec,
                ReleaseBasis::Osup,
                ReleaseBasis::NtaOnly,
            ]),
            randomization: (self.rng.u8(..3) == 0).then(|| Randomization {
                selection_id: format!("sel-{}", self.rng.u32(..1_000_000)),
                stratum: self.pick_str(&["adult", "family"]),
                arm: if self.rng.bool() { Arm::Treatment } else { Arm::Control },
                selected_on: enrolled_on.add_days(-7),
            }),
            exit: exited.then(|| Exit {
                date: self.date_between(15, 1),
                reason: self
                    .pick(&[
                        ExitReason::Completed,
                        ExitReason::ReliefGranted,
                        ExitReason::MovedAway,
                        ExitReason::LostContact,
                        ExitReason::Detained,
                        ExitReason::Withdrew,
                    ])
                    .unwrap_or(ExitReason::Completed),
            }),
            vawa_grantee: self.rng.u8(..40) == 0,
        }
    }

    /// One client with an identity, an enrollment and eight further records (address,
    /// check-ins, a hearing, services, a screening, a referral, a note): ten in all.
    pub fn intake(&mut self) -> Intake {
        let culture = self.pick_culture();
        let identity = self.identity(culture);
        let enrollment = self.enrollment();
        let records = self.records(&enrollment);
        Intake { identity, enrollment, records }
    }

    fn pick_culture(&mut self) -> &'static Culture {
        let i = self.rng.usize(..CULTURES.len());
        CULTURES.get(i).or(CULTURES.first()).unwrap_or(&MEXICO)
    }

    fn records(&mut self, enrollment: &Enrollment) -> Vec<Record> {
        let since = enrollment.enrolled_on;
        let moved_on = since.add_days(self.rng.i64(0..30));
        let reported = self.rng.u8(..3) != 0;
        let mut out = vec![
            Record::Address(AddressEpisode {
                address: self.address(),
                moved_on,
                until: None,
                confidential: self.rng.u8(..15) == 0,
                reported_to_ice_on: reported.then(|| moved_on.add_days(3)),
                filings: Filings {
                    ar11: reported.then(|| Filing {
                        filed_on: moved_on.add_days(6),
                        confirmation: Some(format!("AR11-{}", self.rng.u32(..1_000_000))),
                    }),
                    eoir33: reported.then(|| Filing { filed_on: moved_on.add_days(4), confirmation: None }),
                    ice_portal: reported.then(|| Filing { filed_on: moved_on.add_days(3), confirmation: None }),
                },
            }),
            Record::CheckIn(CheckIn {
                date: self.date_between(60, 5),
                time: Some("09:30".into()),
                office: self.pick_str(OFFICES),
                modality: Modality::InPerson,
                attendance: Some(if self.rng.u8(..10) == 0 { Attendance::Missed } else { Attendance::Attended }),
            }),
            Record::CheckIn(CheckIn {
                date: self.today.add_days(self.rng.i64(5..60)),
                time: Some(format!("{:02}:00", self.rng.u8(8..16))),
                office: self.pick_str(OFFICES),
                modality: self.pick(&[Modality::InPerson, Modality::App, Modality::Phone]).unwrap_or(Modality::App),
                attendance: None,
            }),
            Record::Hearing(Hearing {
                date: self.today.add_days(self.rng.i64(10..200)),
                time: Some("08:30".into()),
                court: self.pick_str(COURTS),
                kind: if self.rng.bool() { HearingKind::MasterCalendar } else { HearingKind::Individual },
                outcome: None,
            }),
            Record::Service(ServiceEvent {
                date: since.add_days(2),
                kind: ServiceKind::LegalOrientation,
                minutes: Some(60),
            }),
            Record::Service(ServiceEvent {
                date: since.add_days(self.rng.i64(3..40)),
                kind: self.pick(&ServiceKind::ALL).unwrap_or(ServiceKind::Food),
                minutes: Some(self.rng.u32(15..120)),
            }),
            {
                let positive = self.rng.u8(..20) == 0;
                Record::Screening(Screening {
                    kind: ScreeningKind::Trafficking,
                    date: since.add_days(1),
                    instrument: "TVIT".into(),
                    result: if positive { "indicators present" } else { "no indicators" }.into(),
                    positive,
                    referred: positive,
                })
            },
        ];
        let eighth = match self.rng.u8(..4) {
            0 => Record::Referral(Referral {
                kind: self
                    .pick(&[ServiceKind::LegalServices, ServiceKind::Housing, ServiceKind::Food])
                    .unwrap_or(ServiceKind::Food),
                partner: self.pick_str(PARTNERS),
                date: since.add_days(5),
                status: ReferralStatus::Made,
            }),
            1 => Record::Hearing(Hearing {
                date: self.date_between(120, 30),
                time: Some("08:30".into()),
                court: self.pick_str(COURTS),
                kind: HearingKind::MasterCalendar,
                outcome: Some(if self.rng.u8(..25) == 0 {
                    HearingOutcome::InAbsentia
                } else {
                    HearingOutcome::Continued
                }),
            }),
            2 => {
                let result = self.pick_str(&["low", "moderate", "high"]);
                Record::Screening(Screening {
                    kind: ScreeningKind::MentalHealth,
                    date: since.add_days(3),
                    instrument: "RHS-15".into(),
                    positive: result == "high",
                    result,
                    referred: self.rng.bool(),
                })
            }
            _ => Record::Note(CaseNote {
                author: format!("cw-{}", self.rng.u8(1..20)),
                date: since.add_days(4),
                text: "Client attended orientation; discussed upcoming check-in and transport.".into(),
                psychotherapy: false,
            }),
        };
        out.push(eighth);
        out
    }

    /// A family case: a lead and `size - 1` members sharing a household id and the lead's
    /// A-number.
    pub fn family(&mut self, size: u8) -> Vec<Intake> {
        let household_id = format!("hh-{}", self.rng.u32(..1_000_000));
        let lead = self.intake();
        let lead_a = lead.identity.a_number.clone();
        let mut out = Vec::with_capacity(usize::from(size));
        let culture = self.pick_culture();
        for i in 0..size {
            let mut member = if i == 0 { lead.clone() } else { self.intake() };
            if i > 0 {
                member.identity.nationality = vec![culture.nationality.to_owned()];
                member.enrollment.site = lead.enrollment.site.clone();
            }
            member.records.push(Record::Household(HouseholdLink {
                household_id: household_id.clone(),
                lead_a_number: (i > 0).then(|| lead_a.clone()),
                size: Some(size),
                minors: Some(size.saturating_sub(2)),
                relationship: match i {
                    0 => Relationship::Lead,
                    1 => Relationship::Spouse,
                    _ => Relationship::Child,
                },
            }));
            out.push(member);
        }
        out
    }

    /// Records that only a few clients have, and that must never reach ICE: protected relief, a
    /// mental-health record, a departure plan, a consent.
    pub fn sensitive_records(&mut self) -> Vec<Record> {
        vec![
            Record::Legal(LegalStatus {
                court: Some(self.pick_str(COURTS)),
                disposition: Some("pending".into()),
                represented: true,
                represented_since: Some(self.date_between(200, 100)),
                relief_sought: vec!["asylum".into()],
                protected_relief: Some(ProtectedRelief {
                    kind: self
                        .pick(&[ProtectedReliefKind::Vawa, ProtectedReliefKind::TVisa, ProtectedReliefKind::UVisa])
                        .unwrap_or(ProtectedReliefKind::UVisa),
                    stage: "filed".into(),
                }),
            }),
            Record::Health(HealthRecord {
                kind: HealthKind::Mental,
                date: self.date_between(90, 10),
                summary: "Sleep disturbance; weekly counselling agreed.".into(),
            }),
            Record::Consent(ConsentRecord {
                recipient: "partner:legal-aid-1".into(),
                categories: vec![crate::Category::LegalCase, crate::Category::ObligationCourtNext],
                purpose: "legal representation".into(),
                signed_on: self.date_between(60, 30),
                expires_on: self.today.add_days(180),
                revoked_on: None,
            }),
        ]
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn deterministic_and_unique() {
        let mut a = Synth::new(1);
        let mut b = Synth::new(1);
        let xs: Vec<_> = (0..200).map(|_| a.intake()).collect();
        let ys: Vec<_> = (0..200).map(|_| b.intake()).collect();
        assert_eq!(xs, ys);
        let mut nums: Vec<_> = xs.iter().map(|i| i.identity.a_number.as_str().to_owned()).collect();
        nums.sort();
        nums.dedup();
        assert_eq!(nums.len(), 200);
        assert!(xs.iter().all(|i| i.records.len() == 8));
    }

    #[test]
    fn invalid_numbers_are_refused() {
        let mut s = Synth::new(3);
        for _ in 0..500 {
            let (text, kind) = s.invalid_a_number();
            assert!(AlienNumber::parse(&text).is_err(), "{kind:?} accepted");
        }
    }

    #[test]
    fn families_share_the_lead_a_number() {
        let fam = Synth::new(5).family(4);
        let lead = fam[0].identity.a_number.clone();
        for m in &fam[1..] {
            let link = m
                .records
                .iter()
                .find_map(|r| match r {
                    Record::Household(h) => Some(h),
                    _ => None,
                })
                .unwrap();
            assert_eq!(link.lead_a_number.as_ref(), Some(&lead));
        }
    }
}
