//! The disclosure firewall as an embedding app, a reviewer and an attacker with the file see it:
//! the ICE floor under random clients, the cryptographic reader, consents, the confidential-
//! address and protected-relief rules, and the policy hash on every disclosure.

#![allow(clippy::unwrap_used, clippy::indexing_slicing, clippy::panic, reason = "tests")]

use std::collections::BTreeSet;

use caseward::firewall::ICE_FLOOR;
use caseward::{
    AddressConsent, Audience, Category, ConsentRecord, Date, ErrorKind, IceAddress, Intake, PartnerId, Policy, Record,
    Vault,
};
use caseward_tests::{canary_intake, contains, test_key};
use proptest::prelude::*;
use proptest::test_runner::{Config, TestRunner};

const TODAY: &str = "2026-11-15";

fn today() -> Date {
    Date::parse(TODAY).unwrap()
}

/// The shipped default policy with one of the shipped overlays.
fn default_with(overlay: &str, name: &str) -> Policy {
    Policy::with_overlays_text(caseward::policy::DEFAULT_POLICY, "policies/default.toml", &[(overlay, name)]).unwrap()
}

fn vault(dir: &tempfile::TempDir, name: &str) -> Vault {
    Vault::create_with_key(dir.path().join(name), &test_key(1)).unwrap()
}

/// The canaries an ICE notice may legitimately carry for this intake: the DHS name, the check-in
/// and hearing details, and the address of record with its filings. Read from the intake's
/// structure, not from the library, so the oracle does not share the code under test.
fn floor_canaries(intake: &Intake) -> (BTreeSet<String>, BTreeSet<String>) {
    let a = intake.identity.a_number.as_str();
    // The canonical A-number, and its bare digits (a substring of it).
    let mut schedule = BTreeSet::from([intake.identity.name.verbatim_dhs.clone(), a.to_owned(), a[1..].to_owned()]);
    let mut address = BTreeSet::new();
    for r in &intake.records {
        match r {
            Record::CheckIn(c) => {
                schedule.insert(c.office.clone());
                schedule.extend(c.time.clone());
            }
            Record::Hearing(h) => {
                schedule.insert(h.court.clone());
                schedule.extend(h.time.clone());
            }
            Record::Address(a) if a.reported_to_ice_on.is_some() => {
                address.extend(a.address.lines.iter().cloned());
                address.extend([a.address.city.clone(), a.address.state.clone(), a.address.zip.clone()]);
                for f in [&a.filings.ar11, &a.filings.eoir33, &a.filings.ice_portal].into_iter().flatten() {
                    address.extend(f.confirmation.clone());
                }
            }
            _ => {}
        }
    }
    (schedule, address)
}

#[derive(Debug, Clone)]
struct Case {
    protected: bool,
    vawa: bool,
    confidential: bool,
    later_confidential: bool,
    consent: bool,
    overlay: bool,
    consented: Vec<Category>,
    expired: bool,
}

fn case() -> impl Strategy<Value = Case> {
    let cats: Vec<Category> = Category::all().collect();
    (any::<[bool; 8]>(), proptest::sample::subsequence(cats.clone(), 0..cats.len())).prop_map(|(b, consented)| Case {
        protected: b[0] && b[1],
        vawa: b[2] && b[3] && !b[1],
        confidential: b[4] && b[5],
        later_confidential: b[6] && !b[5],
        consent: b[7] || b[0],
        overlay: b[3] && b[6],
        consented,
        expired: b[1] && b[4],
    })
}

#[test]
fn no_canary_outside_the_floor_ever_reaches_ice_or_an_unconsented_partner() {
    let dir = tempfile::tempdir().unwrap();
    let plain = vault(&dir, "default.cwv");
    let sanctuary = vault(&dir, "overlay.cwv");
    let overlay = default_with(include_str!("../../policies/overlays/no-ice-address.toml"), "no-ice-address.toml");
    sanctuary.install_policy(&overlay).unwrap();
    let partner = PartnerId::new("legal-aid-nyc").unwrap();
    let counter = std::cell::Cell::new(0u32);
    let mut runner = TestRunner::new(Config { cases: 10_000, failure_persistence: None, ..Config::default() });
    runner
        .run(&case(), |c| {
            counter.set(counter.get() + 1);
            let n = counter.get();
            let (mut intake, canaries) = canary_intake(n);
            let vault = if c.overlay { &sanctuary } else { &plain };
            // Shape the client for this case.
            intake.enrollment.vawa_grantee = c.vawa;
            for r in &mut intake.records {
                match r {
                    Record::Legal(l) if !c.protected => l.protected_relief = None,
                    Record::Address(a) => a.confidential = c.confidential,
                    _ => {}
                }
            }
            if c.later_confidential {
                if let Some(Record::Address(a)) =
                    intake.records.iter().find(|r| matches!(r, Record::Address(_))).cloned()
                {
                    let mut later = a.clone();
                    later.moved_on = later.moved_on.add_days(30);
                    later.reported_to_ice_on = None;
                    later.confidential = true;
                    intake.records.push(Record::Address(later));
                }
            }
            let (schedule, address) = floor_canaries(&intake);
            let client = vault.enroll(&intake).unwrap();

            // ICE: the notice, or a refusal that says nothing about why.
            let consent = if c.consent { AddressConsent::GivenForThisNotice } else { AddressConsent::Withheld };
            match vault.ice_notice_on(client, consent, today()) {
                Ok(notice) => {
                    prop_assert!(!c.protected && !c.vawa);
                    let bytes = notice.to_json();
                    for canary in &canaries {
                        if contains(bytes, canary.as_bytes()) {
                            let allowed = schedule.contains(canary)
                                || (address.contains(canary)
                                    && c.consent
                                    && !c.confidential
                                    && !c.later_confidential
                                    && !c.overlay);
                            prop_assert!(allowed, "canary {canary} reached ICE in case {c:?}");
                        }
                    }
                    let address_sent = matches!(notice.address(), IceAddress::OnRecord { .. });
                    prop_assert_eq!(address_sent, c.consent && !c.confidential && !c.later_confidential && !c.overlay);
                }
                Err(e) => {
                    prop_assert!(c.protected || c.vawa, "unexpected refusal {e}");
                    prop_assert_eq!(e.kind(), ErrorKind::Denied);
                    let text = e.to_string();
                    prop_assert!(!text.contains("VAWA") && !text.contains("relief") && !text.contains("grantee"));
                    prop_assert!(canaries.iter().all(|k| !text.contains(k.as_str())));
                }
            }
            // ICE never gets a client view, whatever the policy.
            prop_assert_eq!(vault.client_view(client, &Audience::Ice).unwrap_err().kind(), ErrorKind::Denied);

            // A partner sees only what an active consent names, and nothing once it is revoked or
            // expired. The oracle for "which canary is in which category" is the supervisor's
            // view (every category but psychotherapy notes) plus the intake's psychotherapy note.
            if !c.consented.is_empty() && n.is_multiple_of(4) {
                let signed =
                    if c.expired { Date::parse("2025-01-01").unwrap() } else { Date::parse("2026-11-01").unwrap() };
                let expires =
                    if c.expired { Date::parse("2025-12-31").unwrap() } else { Date::parse("2027-05-01").unwrap() };
                let consent = ConsentRecord {
                    recipient: format!("partner:{partner}"),
                    categories: c.consented.clone(),
                    purpose: "referral".into(),
                    signed_on: signed,
                    expires_on: expires,
                    revoked_on: None,
                };
                let id = vault.grant_consent(client, &consent).unwrap();
                let sup = vault.client_view_on(client, &Audience::Supervisor, today()).unwrap();
                let referral = vault.partner_referral_on(client, &partner, today());
                if c.expired {
                    prop_assert_eq!(referral.unwrap_err().kind(), ErrorKind::Denied);
                } else {
                    let referral = referral.unwrap();
                    // A value may live in more than one category (the address of record is
                    // also address history): it may reach the partner if any of them is granted.
                    let mut homes: std::collections::BTreeMap<&str, Vec<Category>> = Default::default();
                    for rec in sup.records() {
                        for (cat, value) in &rec.sections {
                            let text = value.to_string();
                            for canary in canaries.iter().filter(|k| text.contains(k.as_str())) {
                                homes.entry(canary.as_str()).or_default().push(*cat);
                            }
                        }
                    }
                    for (canary, cats) in &homes {
                        if contains(referral.to_json(), canary.as_bytes()) {
                            let granted =
                                cats.iter().any(|cat| c.consented.contains(cat) || *cat == Category::ProgramSite);
                            prop_assert!(granted, "{canary} of {cats:?} reached the partner");
                        }
                    }
                    // Canaries no audience view shows (psychotherapy notes) never reach a partner.
                    for canary in canaries.iter().filter(|k| !homes.contains_key(k.as_str())) {
                        prop_assert!(!contains(referral.to_json(), canary.as_bytes()), "{canary}");
                    }
                    for cat in referral.view().categories() {
                        prop_assert!(c.consented.contains(&cat) || cat == Category::ProgramSite, "{cat}");
                    }
                    vault.revoke_consent(client, id).unwrap();
                    let after = vault.partner_referral_on(client, &partner, today()).unwrap_err();
                    prop_assert_eq!(after.kind(), ErrorKind::Denied);
                }
            }
            Ok(())
        })
        .unwrap();
    assert!(plain.verify_log(None).unwrap().is_intact());
    assert!(sanctuary.verify_log(None).unwrap().is_intact());
}

#[test]
fn the_ice_reader_cannot_open_any_other_category_even_when_asked_directly() {
    let dir = tempfile::tempdir().unwrap();
    let vault = vault(&dir, "v.cwv");
    let (intake, canaries) = canary_intake(1);
    let client = vault.enroll(&intake).unwrap();
    let reader = vault.ice_reader(client).unwrap();
    let floor: BTreeSet<Category> = ICE_FLOOR.iter().map(|(c, _)| *c).collect();
    assert_eq!(reader.categories().into_iter().collect::<BTreeSet<_>>(), floor);
    let records = vault.sealed_records(client).unwrap();
    let mut opened = 0;
    for record in &records {
        for category in Category::all() {
            let result = reader.open(record, category);
            if floor.contains(&category) {
                opened += usize::from(result.unwrap().is_some());
            } else {
                assert_eq!(result.unwrap_err().kind(), ErrorKind::Denied, "{category}");
            }
        }
        // Everything the reader can open from this record holds only floor data.
        for (category, plain) in reader.open_all(record).unwrap() {
            assert!(floor.contains(&category));
            let (schedule, address) = floor_canaries(&intake);
            for canary in &canaries {
                if contains(&plain, canary.as_bytes()) {
                    // The A-number's section also keeps the form it was entered in.
                    let entered = *canary == intake.identity.a_number_as_entered;
                    assert!(schedule.contains(canary) || address.contains(canary) || entered, "{canary} in {category}");
                }
            }
        }
    }
    // A-number, DHS name, address of record, filings, check-in, hearing.
    assert_eq!(opened, 6);
}

#[test]
fn protected_relief_blocks_every_path_to_ice() {
    let dir = tempfile::tempdir().unwrap();
    let vault = vault(&dir, "v.cwv");
    let (intake, _) = canary_intake(3); // carries a U-visa record
    let client = vault.enroll(&intake).unwrap();
    for consent in [AddressConsent::Withheld, AddressConsent::GivenForThisNotice] {
        let e = vault.ice_notice(client, consent).unwrap_err();
        assert_eq!(e.kind(), ErrorKind::Denied);
        assert_eq!(e.to_string(), "denied: no ICE notice may be produced for this client");
    }
    assert_eq!(vault.client_view(client, &Audience::Ice).unwrap_err().kind(), ErrorKind::Denied);
    // Refusals are not logged (a log entry would itself mark the client), only disclosures.
    let log = vault.read_log().unwrap();
    assert!(log.iter().all(|(e, _)| e.audience != "ice"));
}

#[test]
fn a_policy_that_denies_ice_everything_yields_no_notice() {
    let dir = tempfile::tempdir().unwrap();
    let vault = vault(&dir, "v.cwv");
    let (mut intake, _) = canary_intake(2);
    intake.records.retain(|r| !matches!(r, Record::Legal(_)));
    let client = vault.enroll(&intake).unwrap();
    assert!(vault.ice_notice(client, AddressConsent::Withheld).is_ok());
    let none = default_with(include_str!("../../policies/overlays/no-ice-notices.toml"), "no-ice-notices.toml");
    vault.install_policy(&none).unwrap();
    let e = vault.ice_notice(client, AddressConsent::GivenForThisNotice).unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Denied);
}

#[test]
fn each_disclosure_records_the_policy_in_force_and_a_change_records_both() {
    let dir = tempfile::tempdir().unwrap();
    let vault = vault(&dir, "v.cwv");
    let (mut intake, _) = canary_intake(4);
    intake.records.retain(|r| !matches!(r, Record::Legal(_)));
    let client = vault.enroll(&intake).unwrap();
    let first = vault.policy_hash().unwrap();
    assert_eq!(first, Policy::default_policy().unwrap().hash());
    let notice1 = vault.ice_notice(client, AddressConsent::GivenForThisNotice).unwrap();
    let overlay = default_with(include_str!("../../policies/overlays/no-ice-address.toml"), "no-ice-address.toml");
    vault.install_policy(&overlay).unwrap();
    let second = vault.policy_hash().unwrap();
    assert_ne!(first, second);
    let notice2 = vault.ice_notice(client, AddressConsent::GivenForThisNotice).unwrap();
    assert!(matches!(notice2.address(), IceAddress::ClientReportsDirectly));

    let log = vault.read_log().unwrap();
    let disclosures: Vec<_> = log.iter().filter(|(e, _)| e.audience == "ice").collect();
    assert_eq!(disclosures.len(), 2);
    assert_eq!(disclosures[0].0.policy, first);
    // The log keeps keyed digests: the vault confirms each notice, a plain hash confirms none.
    assert!(vault.confirm_output(disclosures[0].0.seq, notice1.to_json()).unwrap());
    assert!(!vault.confirm_output(disclosures[0].0.seq, notice2.to_json()).unwrap());
    assert_ne!(disclosures[0].0.output, *blake3_hash(notice1.to_json()));
    assert_eq!(disclosures[1].0.policy, second);
    assert!(vault.confirm_output(disclosures[1].0.seq, notice2.to_json()).unwrap());
    let change = log.iter().find(|(e, _)| e.event == caseward::audit::Event::PolicyChange).unwrap();
    let detail = change.1.as_ref().unwrap();
    assert_eq!(detail["from"], first.to_string());
    assert_eq!(detail["to"], second.to_string());
    assert_eq!(change.0.policy, second);
    // The installed policy survives a reopen.
    let path = vault.path().unwrap();
    vault.close().unwrap();
    let reopened = Vault::open_with_key(&path, &test_key(1)).unwrap();
    assert_eq!(reopened.policy_hash().unwrap(), second);
    assert!(reopened.verify_log(None).unwrap().is_intact());
}

/// The attacker of issue #13, class 6: with the file and a guessed A-number and name they
/// rebuild a notice byte for byte. The log must not let them confirm it, before or after the
/// client is erased; and after erasure not even the vault can.
#[test]
fn an_erased_clients_notice_cannot_be_confirmed_from_the_log() {
    let dir = tempfile::tempdir().unwrap();
    let vault = vault(&dir, "v.cwv");
    let (mut intake, _) = canary_intake(5);
    intake.records.retain(|r| !matches!(r, Record::Legal(_)));
    let client = vault.enroll(&intake).unwrap();
    let notice = vault.ice_notice(client, AddressConsent::GivenForThisNotice).unwrap();
    let seq = vault.log_head().unwrap().unwrap().seq;
    assert!(vault.confirm_output(seq, notice.to_json()).unwrap());
    let path = vault.path().unwrap();
    let keyless = caseward::audit::read_file(&path).unwrap();
    let entry = keyless.iter().find(|e| e.seq == seq).unwrap();
    // The exact bytes, hashed every way a keyless reader could: none is the logged digest.
    assert_ne!(entry.output, *blake3_hash(notice.to_json()));
    assert_ne!(entry.output, *blake3::keyed_hash(&[0; 32], notice.to_json()).as_bytes());
    assert!(vault.erase_client(client).unwrap().residue_cleared);
    assert_eq!(vault.confirm_output(seq, notice.to_json()).unwrap_err().kind(), ErrorKind::NotFound);
    assert!(vault.verify_log(None).unwrap().is_intact());
}

fn blake3_hash(bytes: &[u8]) -> Box<[u8; 32]> {
    Box::new(caseward_tests::blake3(bytes))
}

#[test]
fn the_client_copy_has_everything_the_client_may_see_and_the_log_says_what_went() {
    let dir = tempfile::tempdir().unwrap();
    let vault = vault(&dir, "v.cwv");
    let (intake, _) = canary_intake(5);
    let client = vault.enroll(&intake).unwrap();
    let copy = vault.client_copy(client).unwrap();
    let cats = copy.view().categories();
    assert!(cats.contains(&Category::IdentifierName));
    assert!(cats.contains(&Category::LegalReliefProtected));
    assert!(!cats.contains(&Category::HealthMentalPsychotherapyNote));
    assert!(!cats.contains(&Category::NoteCase));
    let json: serde_json::Value = serde_json::from_slice(copy.to_json()).unwrap();
    assert_eq!(json["audience"], "client");
    let (entry, detail) = vault.read_log().unwrap().pop().unwrap();
    assert_eq!(entry.audience, "client");
    assert_eq!(entry.client, Some(client));
    let logged: BTreeSet<Category> = serde_json::from_value(detail.unwrap()["categories"].clone()).unwrap();
    assert_eq!(logged, cats);
}

#[test]
fn deadlines_follow_the_latest_move() {
    let dir = tempfile::tempdir().unwrap();
    let vault = vault(&dir, "v.cwv");
    let (mut intake, _) = canary_intake(6);
    intake.enrollment.release_basis = Some(caseward::ReleaseBasis::Osup);
    let client = vault.enroll(&intake).unwrap();
    let mut moved = match intake.records.iter().find(|r| matches!(r, Record::Address(_))).unwrap() {
        Record::Address(a) => a.clone(),
        _ => unreachable!(),
    };
    moved.moved_on = Date::parse("2026-11-20").unwrap();
    moved.filings = caseward::Filings::default();
    vault.add_record(client, &Record::Address(moved)).unwrap();
    let d = vault.deadlines_on(client, Date::parse("2026-11-20").unwrap()).unwrap();
    assert_eq!(d.moved_on, Some(Date::parse("2026-11-20").unwrap()));
    assert_eq!(d.duties.len(), 4);
    let earliest = d.earliest_open.unwrap();
    assert_eq!(earliest.duty, caseward::Duty::OsupNotice);
    assert_eq!(earliest.due, Date::parse("2026-11-21").unwrap());
    assert_eq!(d.next_check_in, Some(Date::parse("2026-11-20").unwrap()));
    assert_eq!(d.next_hearing, Some(Date::parse("2027-01-12").unwrap()));
}
