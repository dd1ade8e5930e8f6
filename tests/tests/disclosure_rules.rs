//! The disclosure rules on messy data and against a policy author who tries to widen access:
//! history entered out of date order, overlays that must reach named partners, partner names
//! that are enforcement agencies, the two partner doors, another person's identifier in a
//! household link, and identifiers written the ways people write them.

#![allow(clippy::unwrap_used, clippy::indexing_slicing, clippy::panic, reason = "tests")]

use caseward::policy::{PolicyProblem, MAX_RULES};
use caseward::{
    AddressConsent, AddressEpisode, AlienNumber, Audience, Category, CheckIn, ConsentRecord, Date, Enrollment, Error,
    ErrorKind, Filing, Filings, HealthKind, HealthRecord, HouseholdLink, IceAddress, Identity, Intake, Modality,
    PartnerId, PersonName, Policy, PostalAddress, Record, Relationship, Treatment, Vault,
};
use caseward_tests::{contains, test_key};

fn d(s: &str) -> Date {
    Date::parse(s).unwrap()
}

fn intake(a: &str, records: Vec<Record>) -> Intake {
    let name = PersonName { verbatim_dhs: "DOE, JANE".into(), ..PersonName::default() };
    Intake { identity: Identity::new(a, name).unwrap(), enrollment: Enrollment::new("bronx", d("2026-01-05")), records }
}

fn address(street: &str, moved: &str, confidential: bool, reported: Option<&str>) -> Record {
    Record::Address(AddressEpisode {
        address: PostalAddress {
            lines: vec![street.into()],
            city: "Bronx".into(),
            state: "NY".into(),
            zip: "10451".into(),
        },
        moved_on: d(moved),
        until: None,
        confidential,
        reported_to_ice_on: reported.map(d),
        filings: Filings::default(),
    })
}

fn check_in(date: &str, office: &str) -> Record {
    Record::CheckIn(CheckIn {
        date: d(date),
        time: None,
        office: office.into(),
        modality: Modality::InPerson,
        attendance: None,
    })
}

fn vault(dir: &tempfile::TempDir, name: &str) -> Vault {
    Vault::create_with_key(dir.path().join(name), &test_key(3)).unwrap()
}

fn notice(v: &Vault, a: &str, records: Vec<Record>) -> Vec<u8> {
    let c = v.enroll(&intake(a, records)).unwrap();
    v.ice_notice_on(c, AddressConsent::GivenForThisNotice, d("2026-12-01")).unwrap().to_json().to_vec()
}

// ---------------------------------------------------------------------------------------------
// 1. History entered out of order

#[test]
fn a_shelter_entered_before_the_address_it_follows_still_keeps_that_address_from_ice() {
    let dir = tempfile::tempdir().unwrap();
    let v = vault(&dir, "v.cwv");
    let shelter = address("1 Safe House Way", "2026-11-21", true, None);
    let old = address("77 Old Street", "2026-06-01", false, Some("2026-06-03"));
    let backfilled = notice(&v, "A100000001", vec![shelter.clone(), old.clone()]);
    let in_order = notice(&v, "A100000002", vec![old.clone(), shelter.clone()]);
    assert!(!contains(&backfilled, b"Old Street"), "the address the client left went to ICE");
    let strip = |b: &[u8]| String::from_utf8(b.to_vec()).unwrap().replace("A100000001", "").replace("A100000002", "");
    assert_eq!(strip(&backfilled), strip(&in_order));

    // Added later, one record at a time, through add_record: the same answer.
    let c = v.enroll(&intake("A100000003", vec![])).unwrap();
    v.add_record(c, &shelter).unwrap();
    v.add_record(c, &old).unwrap();
    let n = v.ice_notice_on(c, AddressConsent::GivenForThisNotice, d("2026-12-01")).unwrap();
    assert!(matches!(n.address(), IceAddress::ClientReportsDirectly));

    // A shelter the client left before moving to the reported address does not hide it.
    let left = address("1 Safe House Way", "2026-03-01", true, None);
    let later = notice(&v, "A100000004", vec![old.clone(), left]);
    assert!(contains(&later, b"77 Old Street"));
}

#[test]
fn a_shelter_entered_again_without_its_flag_or_outranked_by_a_mistyped_date_stays_from_ice() {
    let dir = tempfile::tempdir().unwrap();
    let v = vault(&dir, "v.cwv");
    // The same shelter twice: once flagged, once (later, reported to ICE) without the flag.
    let flagged = address("1 Shelter Row", "2026-03-01", true, None);
    let unflagged = address("1 shelter row.", "2026-03-10", false, Some("2026-03-11"));
    let n = notice(&v, "A110000001", vec![flagged, unflagged]);
    assert!(!contains(&n.to_ascii_lowercase(), b"shelter row"), "a known shelter went to ICE");
    // A move-in date typed two centuries late (after the day it was reported, and after today)
    // does not outrank the real move to a shelter.
    let mistyped = address("8 Typo Street", "2205-01-05", false, Some("2025-01-10"));
    let shelter = address("2 Safe Place", "2025-03-01", true, None);
    let n = notice(&v, "A110000002", vec![mistyped, shelter]);
    assert!(!contains(&n, b"Typo Street"));
}

#[test]
fn two_records_for_one_day_give_the_same_notice_and_deadlines_in_either_order() {
    let dir = tempfile::tempdir().unwrap();
    let v = vault(&dir, "v.cwv");
    let a = check_in("2026-12-10", "Broadway ERO");
    let b = check_in("2026-12-10", "Varick ERO");
    let home1 = address("5 First Ave", "2026-07-01", false, Some("2026-07-02"));
    let home2 = address("9 Second Ave", "2026-07-01", false, Some("2026-07-02"));
    let one = notice(&v, "A200000001", vec![a.clone(), b.clone(), home1.clone(), home2.clone()]);
    let two = notice(&v, "A200000002", vec![b, a, home2, home1]);
    let strip = |b: &[u8]| String::from_utf8(b.to_vec()).unwrap().replace("A200000001", "").replace("A200000002", "");
    assert_eq!(strip(&one), strip(&two));
    // Two addresses of record reported the same day for the same move are conflicting facts:
    // neither is guessed.
    assert!(!contains(&one, b"First Ave") && !contains(&one, b"Second Ave"));

    let filed = |street: &str, ar11: bool| {
        let mut r = address(street, "2026-11-20", false, None);
        if let Record::Address(a) = &mut r {
            a.filings.ar11 = ar11.then(|| Filing { filed_on: d("2026-11-21"), confirmation: None });
        }
        r
    };
    let c1 = v.enroll(&intake("A200000003", vec![filed("1 A St", true), filed("2 B St", false)])).unwrap();
    let c2 = v.enroll(&intake("A200000004", vec![filed("2 B St", false), filed("1 A St", true)])).unwrap();
    let today = d("2026-11-22");
    assert_eq!(v.deadlines_on(c1, today).unwrap(), v.deadlines_on(c2, today).unwrap());
}

// ---------------------------------------------------------------------------------------------
// 2. Overlays reach named partners; 3. enforcement agencies are never partners

const BASE: &str = r#"
format = 1
kind = "base"
name = "partners"
[[rule]]
id = "partners-health"
audience = "partner"
treatment = "consent"
categories = ["health.mental", "health.physical"]
why = "a partner may receive health records the client consents to"
[[rule]]
id = "casa-mental"
audience = "partner:casa"
treatment = "consent"
categories = ["health.mental"]
why = "casa runs the clinic"
[[rule]]
id = "caseworker-all"
audience = "caseworker"
treatment = "reveal"
categories = ["*"]
why = "the assigned caseworker"
"#;

const NO_HEALTH: &str = r#"
format = 1
kind = "overlay"
name = "no partner health"
[[rule]]
id = "no-partner-health"
audience = "partner"
treatment = "deny"
categories = ["health.*"]
why = "this site sends no health records to any partner"
"#;

#[test]
fn an_overlay_that_denies_every_partner_also_binds_named_partners() {
    let casa = Audience::Partner(PartnerId::new("casa").unwrap());
    let base = Policy::from_toml(BASE, "base.toml").unwrap();
    assert_eq!(base.treatment(&casa, Category::HealthMental), Treatment::Consent);
    let composed = Policy::with_overlays_text(BASE, "base.toml", &[(NO_HEALTH, "site.toml")]).unwrap();
    assert_eq!(composed.treatment(&casa, Category::HealthMental), Treatment::Deny);
    let cell =
        composed.explain_audience(&casa).rows.into_iter().find(|r| r.category == Category::HealthMental).unwrap();
    assert!(cell.cell.provenance.to_string().contains("no-partner-health"), "{}", cell.cell.provenance);

    // End to end: a consent for health.mental to casa, and the referral carries no health record.
    let dir = tempfile::tempdir().unwrap();
    let v = vault(&dir, "v.cwv");
    v.install_policy(&composed).unwrap();
    let health =
        Record::Health(HealthRecord { kind: HealthKind::Mental, date: d("2026-06-01"), summary: "QZXHEALTHQ".into() });
    let c = v.enroll(&intake("A300000001", vec![health])).unwrap();
    v.grant_consent(
        c,
        &ConsentRecord {
            recipient: "partner:casa".into(),
            categories: vec![Category::HealthMental],
            purpose: "care".into(),
            signed_on: d("2026-06-01"),
            expires_on: d("2027-06-01"),
            revoked_on: None,
        },
    )
    .unwrap();
    let referral = v.partner_referral_on(c, &PartnerId::new("casa").unwrap(), d("2026-07-01")).unwrap();
    assert!(!contains(referral.to_json(), b"QZXHEALTHQ"));
    assert!(!referral.view().categories().contains(&Category::HealthMental));

    // An overlay cannot give the named partner back what the composed policy took away.
    let rewiden = r#"
format = 1
kind = "overlay"
name = "casa again"
[[rule]]
id = "casa-again"
audience = "partner:casa"
treatment = "consent"
categories = ["health.mental"]
why = "trying to widen"
"#;
    let err = Policy::check_text(BASE, "base.toml", &[(NO_HEALTH, "site.toml"), (rewiden, "again.toml")]).unwrap_err();
    assert!(err.iter().any(|e| e.file == "again.toml" && matches!(e.problem, PolicyProblem::Widens { .. })), "{err:?}");
}

#[test]
fn enforcement_agencies_cannot_be_named_as_partners_by_any_door() {
    for name in [
        "ice",
        "ice-ero",
        "dhs.ice",
        "ice2",
        "iceero",
        "dhsice",
        "cbp",
        "uscis",
        "hsi",
        "ero",
        "ny-ice-office",
        "police",
        "usice",
        "i-c-e",
        "i.c.e",
        "icegov",
        "icehq",
        "dhsiceero",
        "us-dhs",
        "isap",
        "geo-group",
        "detention-center",
        "county-jail",
        "us-marshals",
    ] {
        assert!(PartnerId::new(name).is_err(), "{name}");
        assert!(format!("partner:{name}").parse::<Audience>().is_err(), "{name}");
        let text = format!(
            "format = 1\nkind = \"base\"\nname = \"x\"\n[[rule]]\nid = \"r\"\naudience = \"partner:{name}\"\ntreatment = \"consent\"\ncategories = [\"health.mental\"]\nwhy = \"x\"\n"
        );
        let errs = Policy::check_text(&text, "p.toml", &[]).unwrap_err();
        assert!(matches!(errs[0].problem, PolicyProblem::ReservedPartner(_)), "{name}: {errs:?}");
    }
    for fine in ["casa", "justice-center", "hero-house", "iceland-aid", "servicios", "rice-food-bank", "office-depot"] {
        assert!(PartnerId::new(fine).is_ok(), "{fine}");
    }
    let dir = tempfile::tempdir().unwrap();
    let v = vault(&dir, "v.cwv");
    let c = v.enroll(&intake("A300000002", vec![])).unwrap();
    let consent = ConsentRecord {
        recipient: "partner:ice".into(),
        categories: vec![Category::ContactPhone],
        purpose: "x".into(),
        signed_on: d("2026-06-01"),
        expires_on: d("2027-06-01"),
        revoked_on: None,
    };
    assert_eq!(v.grant_consent(c, &consent).unwrap_err().kind(), ErrorKind::InvalidInput);
}

// ---------------------------------------------------------------------------------------------
// 5. The partner doors agree; another person's identifier stays with staff

#[test]
fn a_partner_without_consent_is_refused_by_both_doors_and_nothing_is_logged() {
    let dir = tempfile::tempdir().unwrap();
    let v = vault(&dir, "v.cwv");
    let c = v.enroll(&intake("A400000001", vec![])).unwrap();
    let before = v.read_log().unwrap().len();
    let x = PartnerId::new("x").unwrap();
    assert_eq!(v.client_view(c, &Audience::Partner(x.clone())).unwrap_err().kind(), ErrorKind::Denied);
    assert_eq!(v.partner_referral(c, &x).unwrap_err().kind(), ErrorKind::Denied);
    assert_eq!(v.read_log().unwrap().len(), before);
}

#[test]
fn a_household_members_consent_never_gives_a_partner_the_leads_a_number() {
    let dir = tempfile::tempdir().unwrap();
    let v = vault(&dir, "v.cwv");
    let link = Record::Household(HouseholdLink {
        household_id: "H-17".into(),
        lead_a_number: Some(AlienNumber::parse("A987654321").unwrap()),
        size: Some(3),
        minors: Some(1),
        relationship: Relationship::Child,
    });
    let c = v.enroll(&intake("A400000002", vec![link])).unwrap();
    let policy = caseward::policy::DEFAULT_POLICY;
    let p = Policy::from_toml(policy, "default.toml").unwrap();
    let casa = Audience::Partner(PartnerId::new("casa").unwrap());
    assert_eq!(
        p.treatment(&casa, Category::HouseholdComposition),
        Treatment::Consent,
        "the default lets partners have it"
    );
    v.grant_consent(
        c,
        &ConsentRecord {
            recipient: "partner:casa".into(),
            categories: vec![Category::HouseholdComposition, Category::HouseholdRelationship],
            purpose: "housing".into(),
            signed_on: d("2026-06-01"),
            expires_on: d("2027-06-01"),
            revoked_on: None,
        },
    )
    .unwrap();
    let r = v.partner_referral_on(c, &PartnerId::new("casa").unwrap(), d("2026-07-01")).unwrap();
    assert!(r.view().categories().contains(&Category::HouseholdComposition));
    assert!(!contains(r.to_json(), b"987654321"), "the lead's A-number went to a partner");
    assert!(!contains(r.to_json(), b"H-17"), "the household id (often the lead's case number) went to a partner");
    assert!(!contains(v.client_copy(c).unwrap().to_json(), b"987654321"), "another person's A-number in a copy");
    assert!(contains(v.client_view(c, &Audience::Caseworker).unwrap().to_json(), b"A987654321"));
}

// ---------------------------------------------------------------------------------------------
// 6. Identifiers and dates as people write them

fn problem(input: &str) -> String {
    match AlienNumber::parse(input) {
        Err(Error::InvalidIdentifier { problem, .. }) => format!("{problem:?}"),
        other => panic!("{input:?} gave {other:?}"),
    }
}

#[test]
fn a_numbers_in_every_written_shape_are_read_or_refused_with_the_right_reason() {
    for ssn in ["123.45.6789", "123/45/6789", "123-45-6789", "123 45 6789"] {
        assert_eq!(problem(ssn), "LooksLikeSsn", "{ssn}");
    }
    for ok in [
        "A-Number: 123456789",
        "A-Number: A123456789",
        "A-No. 123-456-789",
        "Alien Number: 123456789",
        "A.Number 123456789",
        "A١٢٣٤٥٦٧٨٩",
        "A۱۲۳۴۵۶۷۸۹",
        "A १२३ ४५६ ७८९",
        "A 123.45.6789",
    ] {
        assert_eq!(AlienNumber::parse(ok).unwrap().as_str(), "A123456789", "{ok}");
    }
    for date in ["1990-01-02", "01/02/1990", "1/12/1990", "1990.01.02"] {
        assert_eq!(problem(date), "LooksLikeDate", "{date}");
    }
    assert_eq!(problem("555-1234"), "LooksLikePhone");
    assert_eq!(AlienNumber::parse("A 555-1234").unwrap().as_str(), "A005551234", "labelled, it is an A-number");
    assert_eq!(problem("Case 123456789"), "UnknownLabel");
    assert_eq!(problem("A123456789 (old)"), "TrailingText");
    assert_eq!(problem("A12345678x"), "TrailingText");
    assert_eq!(problem("A ፩፪፫፬፭፮፯፰፱"), "UnsupportedDigits");
    assert_eq!(problem("A #!123456789"), "InvalidCharacter");
    assert_eq!(problem("IOE0912345678"), "ReceiptOrCardNumber");
    // Every reason reads differently, and none repeats the input.
    let texts: std::collections::BTreeSet<String> =
        ["Case 123456789", "A123456789 (old)", "A ፩፪፫", "A #!1234567", "IOE0912345678"]
            .iter()
            .map(|i| AlienNumber::parse(i).unwrap_err().to_string())
            .collect();
    assert_eq!(texts.len(), 5, "{texts:?}");
    assert!(texts.iter().all(|t| !t.contains("123456789") && !t.contains("Case")), "{texts:?}");
}

#[test]
fn juneteenth_counts_as_a_holiday_only_from_2021() {
    use caseward::deadline::is_federal_holiday;
    assert!(!is_federal_holiday(d("2020-06-19")));
    assert!(is_federal_holiday(d("2021-06-18")), "2021-06-19 was a Saturday, observed the Friday");
    assert!(is_federal_holiday(d("2026-06-19")));
    // A move on 2020-06-15: five business days run to 2020-06-22 (no holiday that week).
    assert_eq!(caseward::deadline::add_business_days(d("2020-06-15"), 5), d("2020-06-22"));
    assert_eq!(caseward::deadline::add_business_days(d("2022-06-15"), 5), d("2022-06-23"));
}

// ---------------------------------------------------------------------------------------------
// 7. Bounded policies; 8. every problem at once

fn many_rules(n: usize) -> String {
    let mut t = String::from("format = 1\nkind = \"base\"\nname = \"big\"\n");
    for i in 0..n {
        t.push_str(&format!(
            "[[rule]]\nid = \"r{i}\"\naudience = \"partner:p{i}\"\ntreatment = \"deny\"\ncategories = [\"health.mental\"]\nwhy = \"x\"\n"
        ));
    }
    t
}

#[test]
fn a_policy_past_the_bounds_is_refused_and_one_inside_them_loads() {
    assert!(Policy::from_toml(&many_rules(MAX_RULES), "ok.toml").is_ok());
    let errs = Policy::check_text(&many_rules(MAX_RULES + 1), "big.toml", &[]).unwrap_err();
    assert!(matches!(errs[0].problem, PolicyProblem::TooLarge(_)), "{errs:?}");
    let huge = format!("{}#{}\n", many_rules(1), "x".repeat(caseward::policy::MAX_POLICY_BYTES));
    assert!(matches!(Policy::check_text(&huge, "huge.toml", &[]).unwrap_err()[0].problem, PolicyProblem::TooLarge(_)));
}

#[test]
fn check_reports_every_problem_with_its_file_and_line() {
    let text = r#"format = 1
kind = "base"
name = "broken"
[[rule]]
id = "a"
audience = "ice"
treatment = "reveal"
categories = ["health.mental"]
why = "beyond the floor"
[[rule]]
id = "b"
audience = "nobody"
treatment = "reveal"
categories = ["contact.phone"]
why = "unknown audience"
[[rule]]
id = "c"
audience = "partner"
treatment = "sometimes"
categories = ["no.such.category"]
why = "two problems"
"#;
    let errs = Policy::check_text(text, "broken.toml", &[]).unwrap_err();
    let found: Vec<(usize, &str)> = errs.iter().map(|e| (e.line, e.rule.as_deref().unwrap_or(""))).collect();
    assert_eq!(errs.len(), 4, "{errs:?}");
    assert!(found.contains(&(12, "b")) && found.contains(&(19, "c")) && found.contains(&(20, "c")), "{found:?}");
    assert!(errs
        .iter()
        .any(|e| e.rule.as_deref() == Some("a") && matches!(e.problem, PolicyProblem::BeyondCeiling { .. })));
}

#[test]
fn errors_quote_a_mistyped_token_but_never_what_could_be_client_data() {
    let typo = "health.mentl".parse::<Category>().unwrap_err().to_string();
    assert!(typo.contains("\"health.mentl\""), "{typo}");
    for secret in ["Maria Lopez", "A123456789", "123456789", "calle 8 #12, apt 3"] {
        let m = secret.parse::<Category>().unwrap_err().to_string();
        assert!(!m.contains(secret) && m.contains("not shown"), "{m}");
        let m = secret.parse::<Audience>().unwrap_err().to_string();
        assert!(!m.contains(secret), "{m}");
        let m = secret.parse::<caseward::Period>().unwrap_err().to_string();
        assert!(!m.contains(secret), "{m}");
    }
}
