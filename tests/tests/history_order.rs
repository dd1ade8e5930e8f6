//! Entry order never decides a disclosure. Random client histories (addresses, shelters,
//! check-ins, hearings, consents, household links, health records, protected relief, exact
//! duplicates) are entered once in a random order and once in date order, under a random policy
//! stack (the default base, named-partner rules, and overlays that narrow). Every output must
//! be the same in both vaults, and never more than the composed policy and the code's ceilings
//! allow, judged by an oracle written from the facts.
//!
//! `CW_HISTORY_CASES` sets the number of cases (default 10,000, as CI runs it).

#![allow(clippy::unwrap_used, clippy::indexing_slicing, clippy::panic, reason = "tests")]

use std::collections::BTreeSet;

use caseward::firewall::ceiling;
use caseward::{
    AddressConsent, AddressEpisode, AlienNumber, Audience, Category, CheckIn, ConsentRecord, Date, Enrollment,
    ErrorKind, Filing, Filings, HealthKind, HealthRecord, Hearing, HearingKind, HouseholdLink, IceAddress, Identity,
    Intake, LegalStatus, Modality, PartnerId, PersonName, Policy, PostalAddress, ProtectedRelief, ProtectedReliefKind,
    Record, Relationship, Treatment, Vault,
};
use caseward_tests::test_key;
use proptest::prelude::*;
use proptest::test_runner::{Config, TestRunner};

const DAY0: &str = "2026-06-01";
const TODAY: &str = "2026-11-15";

fn day(n: u16) -> Date {
    Date::parse(DAY0).unwrap().add_days(i64::from(n))
}

fn today() -> Date {
    Date::parse(TODAY).unwrap()
}

/// A fact and the date it happened: the date order sorts on it.
#[derive(Clone, Debug)]
struct Fact {
    date: Date,
    record: Record,
}

const STREETS: [&str; 3] = ["1 Shelter Row", "22 Elm St", "300 Grand Concourse"];
const OFFICES: [&str; 2] = ["Broadway ERO", "Varick ERO"];
const PARTNERS: [&str; 2] = ["casa", "legalaid"];
/// The categories consents and rules are drawn from: some any partner may get with consent, some
/// never, some on the ICE floor.
const CATS: [Category; 9] = [
    Category::HealthMental,
    Category::HealthPhysical,
    Category::ContactPhone,
    Category::ContactAddress,
    Category::HouseholdComposition,
    Category::LegalCase,
    Category::ObligationAddressOfRecord,
    Category::ObligationReportingNext,
    Category::SafetyLocationConfidential,
];

fn address() -> impl Strategy<Value = Fact> {
    (0..3usize, 0..200u16, prop::bool::weighted(0.35), prop::option::of(0..10u16), any::<[bool; 2]>()).prop_map(
        |(street, moved, confidential, reported, filed)| {
            let moved_on = day(moved);
            let filing = |b: bool| b.then(|| Filing { filed_on: moved_on.add_days(3), confirmation: None });
            Fact {
                date: moved_on,
                record: Record::Address(AddressEpisode {
                    address: PostalAddress {
                        lines: vec![STREETS[street].into()],
                        city: "Bronx".into(),
                        state: "NY".into(),
                        zip: "10451".into(),
                    },
                    moved_on,
                    until: None,
                    confidential,
                    reported_to_ice_on: reported.map(|r| moved_on.add_days(i64::from(r))),
                    filings: Filings { ar11: filing(filed[0]), eoir33: filing(filed[1]), ice_portal: None },
                }),
            }
        },
    )
}

fn check_in() -> impl Strategy<Value = Fact> {
    (140..260u16, 0..2usize, prop::option::of(Just("09:30".to_owned()))).prop_map(|(d, office, time)| Fact {
        date: day(d),
        record: Record::CheckIn(CheckIn {
            date: day(d),
            time,
            office: OFFICES[office].into(),
            modality: Modality::InPerson,
            attendance: None,
        }),
    })
}

fn hearing() -> impl Strategy<Value = Fact> {
    (140..300u16, 0..2usize).prop_map(|(d, court)| Fact {
        date: day(d),
        record: Record::Hearing(Hearing {
            date: day(d),
            time: None,
            court: ["New York Broadway", "Varick Street"][court].into(),
            kind: HearingKind::MasterCalendar,
            outcome: None,
        }),
    })
}

fn consent() -> impl Strategy<Value = Fact> {
    (0..2usize, prop::sample::subsequence(CATS.to_vec(), 1..4), 0..200u16, 1..250u16, prop::option::of(0..100u16))
        .prop_map(|(p, categories, signed, len, revoked)| Fact {
            date: day(signed),
            record: Record::Consent(ConsentRecord {
                recipient: format!("partner:{}", PARTNERS[p]),
                categories,
                purpose: "referral".into(),
                signed_on: day(signed),
                expires_on: day(signed).add_days(i64::from(len)),
                revoked_on: revoked.map(|r| day(signed).add_days(i64::from(r))),
            }),
        })
}

fn other() -> impl Strategy<Value = Fact> {
    prop_oneof![
        (0..200u16).prop_map(|d| Fact {
            date: day(d),
            record: Record::Health(HealthRecord { kind: HealthKind::Mental, date: day(d), summary: "QZXH".into() }),
        }),
        Just(Fact {
            date: day(0),
            record: Record::Household(HouseholdLink {
                household_id: "H-1".into(),
                lead_a_number: Some(AlienNumber::parse("A987654321").unwrap()),
                size: Some(3),
                minors: Some(1),
                relationship: Relationship::Spouse,
            }),
        }),
    ]
}

#[derive(Clone, Debug)]
struct Case {
    facts: Vec<Fact>,
    protected: bool,
    vawa: bool,
    /// Positions of facts entered twice.
    duplicates: Vec<prop::sample::Index>,
    /// Entry order: a permutation key per fact.
    order: Vec<u32>,
    rules: Vec<(usize, usize)>,
}

fn case() -> impl Strategy<Value = Case> {
    let facts = (
        prop::collection::vec(address(), 0..5),
        prop::collection::vec(check_in(), 0..3),
        prop::collection::vec(hearing(), 0..3),
        prop::collection::vec(consent(), 0..4),
        prop::collection::vec(other(), 0..3),
    )
        .prop_map(|(a, c, h, k, o)| a.into_iter().chain(c).chain(h).chain(k).chain(o).collect::<Vec<_>>());
    (
        facts,
        prop::bool::weighted(0.1),
        prop::bool::weighted(0.05),
        prop::collection::vec(any::<prop::sample::Index>(), 0..3),
        prop::collection::vec(any::<u32>(), 20),
        prop::collection::vec((0..6usize, 0..CATS.len() + 4), 0..4),
    )
        .prop_map(|(facts, protected, vawa, duplicates, order, rules)| Case {
            facts,
            protected,
            vawa,
            duplicates,
            order,
            rules,
        })
}

const AUDIENCES: [&str; 6] = ["partner", "partner:casa", "partner:legalaid", "ice", "client", "caseworker"];
const PATTERNS: [&str; 4] = ["health.*", "contact.*", "household.*", "obligation.*"];

/// The policy stack: the default base, then one overlay per generated rule, each a denial (so it
/// can only narrow). Rules for `partner` test that a narrowing of every partner reaches the
/// named ones; rules for `partner:<id>` that it reaches that partner alone.
fn policy(rules: &[(usize, usize)]) -> Policy {
    let overlays: Vec<(String, String)> = rules
        .iter()
        .enumerate()
        .map(|(i, &(aud, pat))| {
            let pattern = CATS.get(pat).map_or_else(|| PATTERNS[pat - CATS.len()].to_owned(), |c| c.as_str().to_owned());
            let text = format!(
                "format = 1\nkind = \"overlay\"\nname = \"o{i}\"\n[[rule]]\nid = \"o{i}\"\naudience = \"{}\"\ntreatment = \"deny\"\ncategories = [\"{pattern}\"]\nwhy = \"generated\"\n",
                AUDIENCES[aud]
            );
            (text, format!("o{i}.toml"))
        })
        .collect();
    let refs: Vec<(&str, &str)> = overlays.iter().map(|(t, n)| (t.as_str(), n.as_str())).collect();
    // The base names casa with consent cells of its own, so a narrowing of `partner` in an
    // overlay must reach a named partner that has its own rules, not only one that falls back.
    let base = format!(
        "{}\n[[rule]]\nid = \"casa-own\"\naudience = \"partner:casa\"\ntreatment = \"consent\"\ncategories = [\"health.mental\", \"health.physical\", \"contact.phone\", \"contact.address\", \"household.composition\", \"legal.case\"]\nwhy = \"casa runs the clinic\"\n",
        caseward::policy::DEFAULT_POLICY
    );
    match Policy::check_text(&base, "default.toml", &refs) {
        Ok(p) => p,
        Err(problems) => panic!("a narrowing stack was refused: {problems:?}"),
    }
}

fn intake(a: &AlienNumber, case: &Case, records: Vec<Record>) -> Intake {
    let name = PersonName { verbatim_dhs: "ROE, ANA".into(), ..PersonName::default() };
    let mut enrollment = Enrollment::new("bronx", day(0));
    enrollment.vawa_grantee = case.vawa;
    let mut records = records;
    if case.protected {
        records.push(Record::Legal(LegalStatus {
            court: None,
            disposition: None,
            represented: false,
            represented_since: None,
            relief_sought: vec![],
            protected_relief: Some(ProtectedRelief { kind: ProtectedReliefKind::TVisa, stage: "filed".into() }),
        }));
    }
    Intake { identity: Identity::new(a.as_str(), name).unwrap(), enrollment, records }
}

/// The categories an active consent names for `recipient` today, from the facts.
fn consented(facts: &[Fact], recipient: &str) -> BTreeSet<Category> {
    let mut out = BTreeSet::new();
    for f in facts {
        if let Record::Consent(c) = &f.record {
            if c.recipient == recipient && c.revoked_on.is_none() && c.signed_on <= today() && today() <= c.expires_on {
                out.extend(c.categories.iter().copied());
            }
        }
    }
    out
}

/// The oracle's address rule, from the facts: the address most recently reported to ICE (then
/// the latest move-in), unless it or any address moved into on or after it is confidential, the
/// same place is recorded as confidential anywhere, its move-in is after the day it was reported
/// or after today, or two such addresses tie on both dates with different streets.
fn oracle_address(facts: &[Fact]) -> Option<String> {
    let addresses: Vec<&AddressEpisode> = facts
        .iter()
        .filter_map(|f| match &f.record {
            Record::Address(a) => Some(a),
            _ => None,
        })
        .collect();
    let best = addresses.iter().filter_map(|a| a.reported_to_ice_on.map(|r| (r, a.moved_on))).max()?;
    let top: Vec<&&AddressEpisode> =
        addresses.iter().filter(|a| a.reported_to_ice_on.map(|r| (r, a.moved_on)) == Some(best)).collect();
    if top.iter().any(|a| a.address != top[0].address) {
        return None;
    }
    let shelter_after = addresses.iter().any(|a| a.confidential && a.moved_on >= best.1);
    let known_shelter = addresses.iter().any(|a| a.confidential && a.address == top[0].address);
    let impossible = best.1 > best.0 || best.1 > today();
    (!shelter_after && !known_shelter && !impossible).then(|| top[0].address.lines[0].clone())
}

/// A view without its record ids, records sorted: the facts it shows, whatever their entry order.
fn facts_of(view_json: &[u8]) -> Vec<String> {
    let v: serde_json::Value = serde_json::from_slice(view_json).unwrap();
    let mut out: Vec<String> =
        v["records"].as_array().unwrap().iter().map(|r| format!("{}:{}", r["kind"], r["sections"])).collect();
    out.sort();
    out
}

struct Pair {
    shuffled: Vault,
    dated: Vault,
    next: u32,
}

fn run_case(pair: &mut Pair, case: &Case) -> Result<(), TestCaseError> {
    let policy = policy(&case.rules);
    pair.shuffled.install_policy(&policy).unwrap();
    pair.dated.install_policy(&policy).unwrap();

    let mut facts = case.facts.clone();
    for ix in &case.duplicates {
        if !facts.is_empty() {
            let f = facts[ix.index(facts.len())].clone();
            facts.push(f);
        }
    }
    let mut dated = facts.clone();
    dated.sort_by_key(|f| f.date);
    let mut shuffled: Vec<(u32, Fact)> =
        facts.iter().cloned().enumerate().map(|(i, f)| (case.order[i % case.order.len()] ^ (i as u32), f)).collect();
    shuffled.sort_by_key(|(k, _)| *k);

    pair.next += 1;
    let a = AlienNumber::parse(&format!("A3{:08}", pair.next)).unwrap();
    let s = pair.shuffled.enroll(&intake(&a, case, shuffled.into_iter().map(|(_, f)| f.record).collect())).unwrap();
    let d = pair.dated.enroll(&intake(&a, case, dated.into_iter().map(|f| f.record).collect())).unwrap();

    // The ICE notice: byte for byte the same, and within the floor, the gate and the policy.
    let ice = |v: &Vault, c| v.ice_notice_on(c, AddressConsent::GivenForThisNotice, today());
    match (ice(&pair.shuffled, s), ice(&pair.dated, d)) {
        (Ok(x), Ok(y)) => {
            prop_assert_eq!(x.to_json(), y.to_json());
            prop_assert!(!case.protected && !case.vawa, "a notice for a client ICE must not hear about");
            let allowed = |c| policy.treatment(&Audience::Ice, c).min(ceiling(caseward::policy::AudienceClass::Ice, c));
            match x.address() {
                IceAddress::OnRecord { address, .. } => {
                    prop_assert!(allowed(Category::ObligationAddressOfRecord) >= Treatment::Consent);
                    prop_assert_eq!(Some(address.lines[0].clone()), oracle_address(&facts));
                }
                IceAddress::ClientReportsDirectly => {
                    let could = allowed(Category::ObligationAddressOfRecord) >= Treatment::Consent;
                    prop_assert!(!could || oracle_address(&facts).is_none(), "an allowed address was withheld");
                }
            }
            if x.next_check_in().is_some() {
                prop_assert!(allowed(Category::ObligationReportingNext) >= Treatment::Consent);
            }
        }
        (Err(x), Err(y)) => {
            prop_assert_eq!(x.kind(), y.kind());
            prop_assert_eq!(x.kind(), ErrorKind::Denied);
        }
        (x, y) => prop_assert!(false, "the two orders disagree: {:?} / {:?}", x.map(|_| ()), y.map(|_| ())),
    }

    // Partner referrals and the client's copy: the same facts, within policy and consent.
    for p in PARTNERS {
        let partner = PartnerId::new(p).unwrap();
        let audience = Audience::Partner(partner.clone());
        let r = |v: &Vault, c| v.partner_referral_on(c, &partner, today());
        match (r(&pair.shuffled, s), r(&pair.dated, d)) {
            (Ok(x), Ok(y)) => {
                prop_assert_eq!(facts_of(x.to_json()), facts_of(y.to_json()));
                let consents = consented(&facts, &audience.to_string());
                for c in x.view().categories() {
                    let t = policy.treatment(&audience, c).min(ceiling(audience.class(), c));
                    prop_assert!(
                        t == Treatment::Reveal || (t == Treatment::Consent && consents.contains(&c)),
                        "{} received {} ({})",
                        audience,
                        c,
                        t
                    );
                }
                prop_assert!(!caseward_tests::contains(x.to_json(), b"987654321"), "another person's A-number");
            }
            (Err(x), Err(y)) => prop_assert_eq!(x.kind(), y.kind()),
            (x, y) => prop_assert!(false, "the two orders disagree: {:?} / {:?}", x.map(|_| ()), y.map(|_| ())),
        }
    }
    let copy = |v: &Vault, c| v.client_copy(c).map(|x| facts_of(x.to_json()));
    prop_assert_eq!(copy(&pair.shuffled, s).unwrap(), copy(&pair.dated, d).unwrap());

    // The client's reminders.
    prop_assert_eq!(pair.shuffled.deadlines_on(s, today()).unwrap(), pair.dated.deadlines_on(d, today()).unwrap());
    Ok(())
}

#[test]
fn outputs_follow_the_facts_dates_never_the_entry_order() {
    let cases = std::env::var("CW_HISTORY_CASES").ok().and_then(|n| n.parse().ok()).unwrap_or(10_000);
    let dir = tempfile::tempdir().unwrap();
    let pair = std::cell::RefCell::new(Pair {
        shuffled: Vault::create_with_key(dir.path().join("s.cwv"), &test_key(5)).unwrap(),
        dated: Vault::create_with_key(dir.path().join("d.cwv"), &test_key(6)).unwrap(),
        next: 0,
    });
    let mut runner = TestRunner::new(Config { cases, failure_persistence: None, ..Config::default() });
    let result = runner.run(&case(), |c| run_case(&mut pair.borrow_mut(), &c));
    if let Err(e) = result {
        panic!("{e}");
    }
}
