//! Helpers shared by the end-to-end tests: clients whose every text field carries a unique
//! canary string, and a byte scanner over a vault's files.

use std::path::Path;

use caseward::{
    AddressEpisode, AlienNumber, BirthDate, CaseNote, Category, CheckIn, ConsentRecord, Date, DatePrecision,
    DateProvenance, DeparturePlan, Enrollment, Filing, Filings, ForeignDocument, HealthKind, HealthRecord, Hearing,
    HearingKind, HouseholdLink, Identity, Intake, LegalStatus, Modality, PersonName, PostalAddress, ProtectedRelief,
    ProtectedReliefKind, Randomization, Record, Referral, ReferralStatus, Relationship, Screening, ScreeningKind,
    ServiceEvent, ServiceKind, Surname, SurnameRole,
};

/// Hands out unique canary strings and remembers them.
pub struct Canaries {
    prefix: String,
    next: u32,
    /// Every canary handed out, in order.
    pub all: Vec<String>,
}

impl Canaries {
    /// Canaries for client number `client`.
    pub fn new(client: u32) -> Self {
        Self { prefix: format!("QZX{client:05}"), next: 0, all: Vec::new() }
    }

    /// A new canary in lowercase (for fields that only take lowercase, like a partner id).
    pub fn fresh_lowercase(&mut self) -> String {
        self.next += 1;
        let c = format!("{}k{:03}w", self.prefix.to_lowercase(), self.next);
        self.all.push(c.clone());
        c
    }

    /// A new canary.
    pub fn fresh(&mut self) -> String {
        self.next += 1;
        let c = format!("{}K{:03}W", self.prefix, self.next);
        self.all.push(c.clone());
        c
    }
}

/// A client whose every text field holds a unique canary, with records of every kind. Returns
/// the intake and the canaries, the canonical A-number and its entered form among them.
pub fn canary_intake(client: u32) -> (Intake, Vec<String>) {
    let mut c = Canaries::new(client);
    let a_entered = format!("A-2{:02}-{:03}-{:03}", client / 1_000_000 % 100, client / 1000 % 1000, client % 1000);
    let a_number = AlienNumber::parse(&a_entered).expect("valid A-number");
    let d = |s: &str| Date::parse(s).unwrap();
    let mut identity = Identity::new(&a_entered, PersonName::default()).unwrap();
    identity.name = PersonName {
        verbatim_dhs: c.fresh(),
        verbatim_self: Some(c.fresh()),
        given: vec![c.fresh(), c.fresh()],
        surnames: vec![
            Surname { text: c.fresh(), role: SurnameRole::Paternal },
            Surname { text: c.fresh(), role: SurnameRole::Maternal },
        ],
        preferred: Some(c.fresh()),
        aliases: vec![c.fresh()],
    };
    identity.dob = Some(BirthDate::new(1988, Some(3), Some(9), DatePrecision::Day, DateProvenance::Document).unwrap());
    identity.ice_subject_id = Some(c.fresh());
    identity.tax_id = Some(c.fresh());
    identity.foreign_documents = vec![ForeignDocument { kind: c.fresh(), number: c.fresh(), country: c.fresh() }];
    identity.nationality = vec![c.fresh()];
    identity.languages = vec![c.fresh()];
    identity.sex_gender = Some(c.fresh());
    identity.ethnicity = Some(c.fresh());
    identity.phones = vec![c.fresh()];
    identity.emails = vec![c.fresh()];

    let mut enrollment = Enrollment::new(c.fresh(), d("2026-05-01"));
    enrollment.caseworker = Some(c.fresh());
    enrollment.randomization = Some(Randomization {
        selection_id: c.fresh(),
        stratum: c.fresh(),
        arm: caseward::Arm::Treatment,
        selected_on: d("2026-04-20"),
    });

    let address =
        PostalAddress { lines: vec![c.fresh(), c.fresh()], city: c.fresh(), state: c.fresh(), zip: c.fresh() };
    let records = vec![
        Record::Household(HouseholdLink {
            household_id: c.fresh(),
            lead_a_number: None,
            size: Some(3),
            minors: Some(1),
            relationship: Relationship::Lead,
        }),
        Record::Address(AddressEpisode {
            address,
            moved_on: d("2026-05-02"),
            until: None,
            confidential: client.is_multiple_of(7),
            reported_to_ice_on: Some(d("2026-05-04")),
            filings: Filings {
                ar11: Some(Filing { filed_on: d("2026-05-05"), confirmation: Some(c.fresh()) }),
                eoir33: Some(Filing { filed_on: d("2026-05-05"), confirmation: Some(c.fresh()) }),
                ice_portal: None,
            },
        }),
        Record::CheckIn(CheckIn {
            date: d("2026-11-20"),
            time: Some(c.fresh()),
            office: c.fresh(),
            modality: Modality::InPerson,
            attendance: None,
        }),
        Record::Hearing(Hearing {
            date: d("2027-01-12"),
            time: Some(c.fresh()),
            court: c.fresh(),
            kind: HearingKind::Individual,
            outcome: None,
        }),
        Record::Service(ServiceEvent { date: d("2026-05-03"), kind: ServiceKind::MentalHealth, minutes: Some(50) }),
        Record::Screening(Screening {
            kind: ScreeningKind::Trafficking,
            date: d("2026-05-03"),
            instrument: c.fresh(),
            result: c.fresh(),
            positive: true,
            referred: true,
        }),
        Record::Referral(Referral {
            kind: ServiceKind::LegalServices,
            partner: c.fresh(),
            date: d("2026-05-06"),
            status: ReferralStatus::Made,
        }),
        Record::Consent(ConsentRecord {
            // A partner id is lowercase; the lowercase canary is searched for too.
            recipient: format!("partner:{}", c.fresh_lowercase()),
            categories: vec![Category::LegalCase],
            purpose: c.fresh(),
            signed_on: d("2026-05-06"),
            expires_on: d("2026-12-31"),
            revoked_on: None,
        }),
        Record::Note(CaseNote { author: c.fresh(), date: d("2026-05-07"), text: c.fresh(), psychotherapy: false }),
        Record::Note(CaseNote { author: c.fresh(), date: d("2026-05-08"), text: c.fresh(), psychotherapy: true }),
        Record::Legal(LegalStatus {
            court: Some(c.fresh()),
            disposition: Some(c.fresh()),
            represented: true,
            represented_since: Some(d("2026-06-01")),
            relief_sought: vec![c.fresh()],
            protected_relief: Some(ProtectedRelief { kind: ProtectedReliefKind::UVisa, stage: c.fresh() }),
        }),
        Record::Health(HealthRecord { kind: HealthKind::SubstanceUse, date: d("2026-06-02"), summary: c.fresh() }),
        Record::Departure(DeparturePlan {
            country: c.fresh(),
            window: Some(c.fresh()),
            travel_documents: Some(c.fresh()),
            partner: Some(c.fresh()),
        }),
    ];
    let mut canaries = c.all;
    canaries.push(a_number.as_str().to_owned());
    canaries.push(a_entered.clone());
    canaries.push(a_number.as_str()[1..].to_owned()); // the bare nine digits
    (Intake { identity, enrollment, records }, canaries)
}

/// The bytes of the vault file and its WAL and rollback journal (those that exist).
pub fn vault_bytes(path: &Path) -> Vec<u8> {
    let mut all = Vec::new();
    for suffix in ["", "-wal", "-journal", "-shm"] {
        let mut p = path.as_os_str().to_owned();
        p.push(suffix);
        if let Ok(b) = std::fs::read(&p) {
            all.extend_from_slice(&b);
        }
    }
    all
}

/// Whether `needle` occurs in `haystack`.
pub fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    !needle.is_empty() && aho_corasick::AhoCorasick::new([needle]).is_ok_and(|ac| ac.is_match(haystack))
}

/// The needles that occur in `haystack`, found in one pass (Aho-Corasick).
pub fn find_any<'a>(haystack: &[u8], needles: &'a [String]) -> Vec<&'a str> {
    let ac = aho_corasick::AhoCorasick::new(needles).expect("needles build an automaton");
    let mut found: Vec<&str> = ac
        .find_overlapping_iter(haystack)
        .filter_map(|m| needles.get(m.pattern().as_usize()))
        .map(String::as_str)
        .collect();
    found.sort_unstable();
    found.dedup();
    found
}

/// A fast raw key for tests that do not exercise passphrases.
pub fn test_key(n: u8) -> caseward::RawKey {
    caseward::RawKey::from_bytes(&[n; 32]).unwrap()
}

/// BLAKE3 of some bytes: what the disclosure log records for an output.
pub fn blake3(bytes: &[u8]) -> [u8; 32] {
    *::blake3::hash(bytes).as_bytes()
}
