//! Pseudonyms and duplicate review as a provider's data manager uses them: name and birth-date
//! normalization vectors (the A-number vectors are in `core/tests/properties.rs`), keyed
//! pseudonyms per domain and epoch, the consortium key imported from an age file, VAWA-grantee
//! records never pseudonymized, and candidate pairs that are proposed, never merged, and
//! remembered once decided.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing, reason = "tests")]

use std::io::Write;

use caseward::pseudonym::{birth_dates_agree, DateAgreement, NameTokens};
use caseward::synth::Synth;
use caseward::vault::{MatchDecision, MatchReason};
use caseward::{
    AlienNumber, BirthDate, DatePrecision as P, DateProvenance as S, Domain, Epoch, ErrorKind, Identity, Intake,
    PersonName, PseudonymKey, RecoveryIdentity, Vault,
};
use caseward_tests::test_key;

#[test]
fn name_vectors() {
    let same = [
        ("María José García López", "GARCIA LOPEZ, Maria Jose"),
        ("José Ángel Peña-Nieto", "Jose Angel PENA NIETO"),
        ("Gonçalves da Silva, João", "JOAO GONCALVES DA SILVA"),
        ("Jean-Baptiste Pierre-Louis", "Pierre Louis, Jean Baptiste"),
        ("Ｍａｒｉａ Ｇａｒｃｉａ", "maria garcia"),
        ("FNU Ahmadzai", "Ahmadzai"),
    ];
    for (a, b) in same {
        assert_eq!(NameTokens::new(a), NameTokens::new(b), "{a} / {b}");
    }
    let agree = [
        ("María José García López", "Maria Garcia"),
        ("Juan de la Cruz Tzul", "Juan Cruz Tzul"),
        ("Mohammed Karimi", "Muhammad Karimi"),
    ];
    for (a, b) in agree {
        assert!(NameTokens::new(a).agrees_with(&NameTokens::new(b)), "{a} / {b}");
    }
    let differ = [
        ("María José García López", "Mario Gonzalez"),
        ("Ana", "Ana Lucia Perez"),
        ("LNU FNU", "LNU FNU"),
        ("Wilner Joseph", "Wilson Josephs Alcide"),
    ];
    for (a, b) in differ {
        assert!(!NameTokens::new(a).agrees_with(&NameTokens::new(b)), "{a} / {b}");
    }
    assert!(NameTokens::new("FNU LNU").is_empty(), "placeholders are missing, not names");
    assert_eq!(format!("{:?}", NameTokens::new("Maria Garcia")), "NameTokens([redacted])");
}

#[test]
fn birth_date_vectors() {
    let d = |y, m, day, p, s| BirthDate::new(y, m, day, p, s).unwrap();
    let doc = d(1990, Some(7), Some(10), P::Day, S::Document);
    assert_eq!(birth_dates_agree(&doc, &doc), DateAgreement::Compatible);
    assert_eq!(birth_dates_agree(&doc, &d(1990, Some(10), Some(7), P::Day, S::Document)), DateAgreement::Swapped);
    assert_eq!(birth_dates_agree(&doc, &d(1990, Some(7), None, P::Month, S::SelfReport)), DateAgreement::Compatible);
    assert_eq!(birth_dates_agree(&doc, &d(1990, None, None, P::Year, S::SelfReport)), DateAgreement::Compatible);
    // 1 January from DHS paperwork counts as a year only.
    let jan1 = d(1990, Some(1), Some(1), P::Day, S::AssignedByAuthority);
    assert_eq!(birth_dates_agree(&jan1, &doc), DateAgreement::Compatible);
    // ... but a documented 1 January is a real date.
    let real_jan1 = d(1990, Some(1), Some(1), P::Day, S::Document);
    assert_eq!(birth_dates_agree(&real_jan1, &doc), DateAgreement::Conflict);
    // A self-reported year may be off by one; documents may not.
    assert_eq!(birth_dates_agree(&doc, &d(1991, None, None, P::Approximate, S::SelfReport)), DateAgreement::Near);
    assert_eq!(birth_dates_agree(&doc, &d(1991, Some(7), Some(10), P::Day, S::Document)), DateAgreement::Conflict);
    // Rejections: parts that do not fit the precision, impossible dates.
    assert!(BirthDate::new(1990, Some(2), Some(30), P::Day, S::Document).is_err());
    assert!(BirthDate::new(1990, Some(2), None, P::Day, S::Document).is_err());
    assert!(BirthDate::new(1990, Some(2), Some(3), P::Year, S::Document).is_err());
    assert!(BirthDate::new(1850, None, None, P::Year, S::Document).is_err());
}

fn vault_with(dir: &std::path::Path, clients: u32) -> (Vault, Vec<Intake>, Vec<caseward::ClientId>) {
    let vault = Vault::create_with_key(dir.join("v.cwv"), &test_key(3)).unwrap();
    let mut synth = Synth::new(77);
    let intakes: Vec<Intake> = (0..clients).map(|_| synth.intake()).collect();
    let ids = vault.enroll_many(&intakes).unwrap();
    (vault, intakes, ids)
}

#[test]
fn pseudonyms_need_the_consortium_key_and_skip_vawa_records() {
    let dir = tempfile::tempdir().unwrap();
    let (vault, intakes, _) = vault_with(dir.path(), 120);
    let epoch = Epoch::new("phase-1").unwrap();
    let normal = intakes.iter().find(|i| !i.enrollment.vawa_grantee).unwrap();
    let a = normal.identity.a_number_as_entered.clone();
    let err = vault.pseudonym(Domain::Board, &epoch, &a).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::NotFound, "no key yet: {err}");

    // The consortium distributes P as an age file to each provider's identity.
    let consortium = PseudonymKey::generate().unwrap();
    let provider_identity = RecoveryIdentity::generate();
    let file = {
        let recipient = provider_identity.recipient().to_string();
        let mut child = std::process::Command::new("age")
            .args(["-r", &recipient])
            .stdin(std::process::Stdio::piped())
            .stdout(std::process::Stdio::piped())
            .spawn()
            .expect("stock age");
        child.stdin.take().unwrap().write_all(consortium.to_hex().as_bytes()).unwrap();
        child.wait_with_output().unwrap().stdout
    };
    let stranger = RecoveryIdentity::generate();
    assert_eq!(vault.import_pseudonym_key(&file, &stranger).unwrap_err().kind(), ErrorKind::WrongKey);
    vault.import_pseudonym_key(&file, &provider_identity).unwrap();
    assert_eq!(vault.generate_pseudonym_key().unwrap_err().kind(), ErrorKind::InvalidInput, "never replaced");

    // The vault's pseudonym equals the consortium's for the canonical number, in any written form.
    let canonical = AlienNumber::parse(&a).unwrap();
    let expected = consortium.pseudonymizer(Domain::Board, &epoch).pseudonym(&canonical);
    assert_eq!(vault.pseudonym(Domain::Board, &epoch, &a).unwrap(), expected);
    assert_eq!(vault.pseudonym(Domain::Board, &epoch, &canonical.display()).unwrap(), expected);
    assert_ne!(vault.pseudonym(Domain::Linkage, &epoch, &a).unwrap(), expected);
    assert!(vault.pseudonym(Domain::Board, &epoch, "IOE0912345678").is_err(), "garbage is refused, not hashed");

    // VAWA-grantee records: never pseudonymized, one by one or in bulk.
    let vawa = intakes.iter().find(|i| i.enrollment.vawa_grantee).expect("the generator makes some");
    let err = vault.pseudonym(Domain::Board, &epoch, &vawa.identity.a_number_as_entered).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Denied);
    let all = vault.pseudonyms(Domain::Board, &epoch).unwrap();
    let vawa_count = intakes.iter().filter(|i| i.enrollment.vawa_grantee).count();
    assert_eq!(all.len(), intakes.len() - vawa_count);
    let vawa_pseudonym = consortium.pseudonymizer(Domain::Board, &epoch).pseudonym(&vawa.identity.a_number);
    assert!(all.iter().all(|(_, p)| *p != vawa_pseudonym));
    // The key is logged as installed, and never appears in the vault file in plaintext.
    assert!(vault.read_log().unwrap().iter().any(|(e, _)| e.event.as_str() == "pseudonym_key"));
    vault.checkpoint().unwrap();
    let bytes = caseward_tests::vault_bytes(&dir.path().join("v.cwv"));
    assert!(!caseward_tests::contains(&bytes, consortium.to_hex().as_bytes()));
    // Nor in what the board receives: neither the key nor any pseudonym.
    vault.set_provider_id("p1").unwrap();
    let board = RecoveryIdentity::generate();
    let bundle = vault
        .board_report("2026-09".parse().unwrap(), &caseward::ReportOptions::default(), &[board.recipient()])
        .unwrap();
    let identity: age::x25519::Identity = board.to_secret_string().parse().unwrap();
    let mut plain = Vec::new();
    std::io::Read::read_to_end(
        &mut age::Decryptor::new_buffered(&bundle[..])
            .unwrap()
            .decrypt(std::iter::once(&identity as &dyn age::Identity))
            .unwrap(),
        &mut plain,
    )
    .unwrap();
    assert!(!caseward_tests::contains(&plain, consortium.to_hex().as_bytes()));
    assert!(!caseward_tests::contains(&plain, b"cwp1:"));
    assert!(
        !caseward_tests::contains(&plain, a.as_bytes())
            && !caseward_tests::contains(&plain, canonical.as_str().as_bytes())
    );
}

#[test]
fn duplicates_are_proposed_never_merged_and_decisions_are_remembered() {
    let dir = tempfile::tempdir().unwrap();
    let (vault, intakes, ids) = vault_with(dir.path(), 40);
    let original = &intakes[0];
    // The vault refuses a second enrollment under the same A-number outright ...
    let err = vault.enroll(original).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::InvalidInput);
    // ... so the duplicates left to find are the same person under a mistyped A-number, with
    // the name written in another order.
    let mut again = original.clone();
    again.identity = Identity::new("A076-543-219", PersonName::verbatim("placeholder")).unwrap();
    let tokens: Vec<&str> = original.identity.name.verbatim_dhs.split([',', ' ']).filter(|t| !t.is_empty()).collect();
    again.identity.name =
        PersonName::verbatim(tokens.iter().rev().copied().collect::<Vec<_>>().join(" ").to_uppercase());
    again.identity.dob = original.identity.dob;
    let second = vault.enroll(&again).unwrap();
    // A different person who shares the name and birth date but not the A-number.
    let mut namesake = synth_other();
    namesake.identity.name = original.identity.name.clone();
    namesake.identity.dob = Some(BirthDate::new(1988, Some(3), Some(4), P::Day, S::Document).unwrap());
    let mut twin = namesake.clone();
    twin.identity = Identity::new("A087-654-321", original.identity.name.clone()).unwrap();
    twin.identity.dob = Some(BirthDate::new(1988, Some(4), Some(3), P::Day, S::Document).unwrap());
    let n1 = vault.enroll(&namesake).unwrap();
    let n2 = vault.enroll(&twin).unwrap();

    let first = ids[0];
    let candidates = vault.duplicate_candidates().unwrap();
    let pair = |x, y| candidates.iter().find(|c| (c.a, c.b) == (x, y) || (c.a, c.b) == (y, x));
    let retyped = pair(first, second).expect("the re-enrollment is proposed");
    assert!(
        matches!(retyped.reason, MatchReason::NameAndBirthDate { dates: DateAgreement::Compatible }),
        "{retyped:?}"
    );
    let by_name = pair(n1, n2).expect("name and swapped birth date are proposed");
    assert_eq!(by_name.reason, MatchReason::NameAndBirthDate { dates: DateAgreement::Swapped });
    // Proposed only: both records are still there.
    assert!(vault.client_record(first).is_ok() && vault.client_record(second).is_ok());

    vault.decide_duplicate(n1, n2, MatchDecision::Distinct).unwrap();
    vault.decide_duplicate(first, second, MatchDecision::Same).unwrap();
    let after = vault.duplicate_candidates().unwrap();
    assert!(after.iter().all(|c| ![(n1, n2), (n2, n1), (first, second), (second, first)].contains(&(c.a, c.b))));
    assert_eq!(vault.match_decisions().unwrap().len(), 2);
    assert_eq!(vault.read_log().unwrap().iter().filter(|(e, _)| e.event.as_str() == "match_decision").count(), 2);
    assert!(vault.decide_duplicate(n1, n1, MatchDecision::Same).is_err());
}

fn synth_other() -> Intake {
    let mut s = Synth::new(999);
    s.skip_numbers(10_000);
    s.intake()
}

/// Erasing a client also deletes its duplicate decisions (a foreign key): the vault's own
/// state must follow, so the decisions and the review still read afterwards, and a root-key
/// rotation (which checks every decision) still goes through.
#[test]
fn erasing_a_client_with_a_duplicate_decision_leaves_a_consistent_vault() {
    let dir = tempfile::tempdir().unwrap();
    let vault = Vault::create_with_key(dir.path().join("v.cwv"), &test_key(3)).unwrap();
    let mut synth = Synth::new(31);
    let ids = vault.enroll_many(&[synth.intake(), synth.intake(), synth.intake()]).unwrap();
    vault.decide_duplicate(ids[0], ids[1], MatchDecision::Distinct).unwrap();
    vault.decide_duplicate(ids[1], ids[2], MatchDecision::Same).unwrap();
    assert!(vault.erase_client(ids[0]).unwrap().residue_cleared);
    assert_eq!(vault.match_decisions().unwrap().len(), 1);
    vault.duplicate_candidates().unwrap();
    vault.rotate_root_key(None, caseward::KdfParams::new(15).unwrap()).unwrap();
    assert_eq!(vault.erase_client(ids[0]).unwrap_err().kind(), caseward::ErrorKind::NotFound);
}
