//! The enrollment lottery as a provider runs it and as an advocate checks it: commit a pool,
//! draw it once with a beacon value, publish three files, and let anyone re-run the draw. Each
//! bad input is refused with a typed error and nothing recorded; a changed pool, seed or
//! selection fails verification; a restored register cannot buy a second draw; and selection
//! frequencies over many pools are uniform.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::cast_precision_loss,
    reason = "tests"
)]

use std::collections::BTreeMap;

use caseward::lottery::{self, Commitment, Draw, LotteryProblem, Pool};
use caseward::synth::Synth;
use caseward::{Arm, ClientId, Epoch, Error, ErrorKind, Policy, Randomization, Vault};
use caseward_tests::test_key;

/// The default policy and the one rule a lottery needs: the evaluator may have pseudonyms.
fn evaluation_policy(relief: bool) -> Policy {
    let mut text = caseward::policy::DEFAULT_POLICY.to_owned();
    text.push_str(
        "\n[[rule]]\nid = \"evaluator-pseudonyms\"\naudience = \"evaluator\"\ntreatment = \"pseudonymize\"\n\
         categories = [\"identifier.alien_number\"]\nwhy = \"The evaluation's lottery pools and extracts.\"\n",
    );
    if relief {
        text.push_str(
            "\n[[rule]]\nid = \"evaluator-relief-counts\"\naudience = \"evaluator\"\ntreatment = \"aggregate\"\n\
             categories = [\"legal.relief.protected\"]\nwhy = \"Counted, never listed.\"\n",
        );
    }
    Policy::from_toml(&text, "evaluation.toml").unwrap()
}

/// A provider vault with `clients` enrolled, none randomized, none VAWA, none with protected
/// relief, a pseudonym key and the evaluation policy.
fn provider(dir: &std::path::Path, clients: usize) -> (Vault, Vec<ClientId>) {
    let vault = Vault::create_with_key(dir.join("p.cwv"), &test_key(21)).unwrap();
    vault.set_provider_id("global-refuge-baltimore").unwrap();
    vault.generate_pseudonym_key().unwrap();
    vault.install_policy(&evaluation_policy(false)).unwrap();
    let mut synth = Synth::new(21);
    let intakes: Vec<_> = (0..clients)
        .map(|_| {
            let mut i = synth.intake();
            i.enrollment.randomization = None;
            i.enrollment.vawa_grantee = false;
            i.records.retain(|r| !matches!(r, caseward::Record::Legal(_)));
            i
        })
        .collect();
    let ids = vault.enroll_many(&intakes).unwrap();
    (vault, ids)
}

/// Where the seeds come from, named at the commitment.
const SOURCE: &str = "NIST beacon v2, chain 2, first pulse after the commitment";

fn arms(vault: &Vault, ids: &[ClientId]) -> BTreeMap<ClientId, Option<(Arm, String)>> {
    ids.iter()
        .map(|&c| {
            let r = vault.client_record(c).unwrap();
            let rand = r.enrollment().unwrap().randomization.clone();
            (c, rand.map(|r| (r.arm, r.selection_id)))
        })
        .collect()
}

fn problem(e: &Error) -> &LotteryProblem {
    match e {
        Error::Lottery(p) => p,
        other => panic!("not a lottery problem: {other}"),
    }
}

#[test]
fn a_provider_commits_draws_once_and_anyone_verifies() {
    let dir = tempfile::tempdir().unwrap();
    let (vault, ids) = provider(dir.path(), 30);
    let key = vault.signing_public_key().unwrap();
    let files = vault.lottery_commit("baltimore-2026-q1", &ids, 12, SOURCE).unwrap();
    // The commitment is signed, and the pool file is what it commits to.
    let (c, signer): (Commitment, String) = lottery::open(&files.commitment).unwrap();
    assert_eq!(signer, key);
    assert_eq!((c.slots, c.pool_size, c.lottery.as_str()), (12, 30, "baltimore-2026-q1"));
    let pool = Pool::parse(&files.pool).unwrap();
    assert_eq!(pool.sha256(), c.pool_sha256);
    // Nothing about anyone: one-time tokens only, no A-number, no client id.
    let pool_text = String::from_utf8(files.pool.clone()).unwrap();
    for &id in &ids {
        assert!(!pool_text.contains(&id.to_string()));
        let a = vault.identity(id).unwrap().a_number;
        assert!(!pool_text.contains(a.as_str()));
    }
    assert!(arms(&vault, &ids).values().all(Option::is_none), "the commitment records no arm");
    let logged = vault.read_log().unwrap().len();

    let beacon = "8a3f0c51e2b94d77a1c06f3e5d2b9a4c7e1f08d36b5a2c9e4f7d1b0a3c6e9f2d";
    let draw = vault.lottery_draw("baltimore-2026-q1", beacon).unwrap();
    let verified = lottery::verify(&files.commitment, &files.pool, &draw, Some(&key)).unwrap();
    assert_eq!(verified.draw.selected.len(), 12);
    assert_eq!(verified.draw.seed, beacon);
    assert_eq!(vault.read_log().unwrap().len(), logged + 1, "the draw is logged");
    // The vault records each member's arm, and the arms are the published selection.
    let recorded = arms(&vault, &ids);
    let treated = recorded.values().filter(|a| matches!(a, Some((Arm::Treatment, _)))).count();
    let controls = recorded.values().filter(|a| matches!(a, Some((Arm::Control, _)))).count();
    assert_eq!((treated, controls), (12, 18));
    assert!(recorded.values().all(|a| a.as_ref().is_some_and(|(_, s)| s == "baltimore-2026-q1")));
    // The published files can be fetched again, byte for byte.
    let again = vault.lottery_files("baltimore-2026-q1").unwrap();
    assert_eq!(
        (again.commitment, again.pool, again.draw),
        (files.commitment.clone(), files.pool.clone(), Some(draw.clone()))
    );

    // A root-key rotation re-seals the register with everything else: the files are unchanged.
    vault.rotate_root_key(None, caseward::KdfParams::new(15).unwrap()).unwrap();
    assert_eq!(vault.lottery_files("baltimore-2026-q1").unwrap().draw, Some(draw.clone()));
    let logged = vault.read_log().unwrap().len();

    // No re-draws: a second draw, with any seed, is refused and changes nothing.
    let err = vault.lottery_draw("baltimore-2026-q1", "another-seed").unwrap_err();
    assert_eq!(problem(&err), &LotteryProblem::AlreadyDrawn("baltimore-2026-q1".into()));
    assert_eq!(err.kind(), ErrorKind::InvalidInput);
    assert_eq!(arms(&vault, &ids), recorded);
    assert_eq!(vault.read_log().unwrap().len(), logged, "a refused draw logs nothing");
    // Late additions go into a new pool; the people already drawn cannot join it.
    let err = vault.lottery_commit("baltimore-2026-q2", &ids[..3], 1, SOURCE).unwrap_err();
    assert!(matches!(problem(&err), LotteryProblem::AlreadyRandomized { .. }), "{err}");
}

#[test]
fn a_changed_pool_seed_selection_or_signer_fails_verification() {
    let dir = tempfile::tempdir().unwrap();
    let (vault, ids) = provider(dir.path(), 20);
    let key = vault.signing_public_key().unwrap();
    let files = vault.lottery_commit("pool-a", &ids, 8, SOURCE).unwrap();
    let draw = vault.lottery_draw("pool-a", "beacon-pulse-1").unwrap();
    assert!(lottery::verify(&files.commitment, &files.pool, &draw, Some(&key)).is_ok());
    let kind = |r: caseward::Result<lottery::Verified>| r.unwrap_err().kind();

    // The pool changed after the commitment: a member dropped, added or replaced.
    let text = String::from_utf8(files.pool.clone()).unwrap();
    let lines: Vec<&str> = text.lines().collect();
    let dropped = format!("{}\n", lines[1..].join("\n"));
    let added = format!("{text}cwl1:ffffffffffffffffffffffffffffffff\n");
    let replaced = text.replacen(lines[0], "cwl1:00000000000000000000000000000000", 1);
    for changed in [dropped, added, replaced] {
        let err = lottery::verify(&files.commitment, changed.as_bytes(), &draw, Some(&key)).unwrap_err();
        assert!(matches!(problem(&err), LotteryProblem::PoolChanged { .. }), "{err}");
        assert_eq!(err.kind(), ErrorKind::Integrity);
    }
    // The seed or the selection edited in the signed draw: the signature fails.
    let draw_text = String::from_utf8(draw.clone()).unwrap();
    let reseeded = draw_text.replace("beacon-pulse-1", "beacon-pulse-2");
    assert_eq!(
        kind(lottery::verify(&files.commitment, &files.pool, reseeded.as_bytes(), Some(&key))),
        ErrorKind::Integrity
    );
    let (d, _): (Draw, String) = lottery::open(&draw).unwrap();
    let outsider = lines.iter().find(|p| !d.selected.iter().any(|s| s == *p)).unwrap();
    let swapped = draw_text.replace(&d.selected[0], outsider);
    assert_eq!(
        kind(lottery::verify(&files.commitment, &files.pool, swapped.as_bytes(), Some(&key))),
        ErrorKind::Integrity
    );

    // Another vault (an operator shopping for a better draw with a key of its own) re-signs a
    // draw of the same pool with another seed: refused against the provider's key, and as a
    // pair signed by two keys without it.
    let other_dir = tempfile::tempdir().unwrap();
    let (other, other_ids) = provider(other_dir.path(), 20);
    let other_files = other.lottery_commit("pool-a", &other_ids, 8, SOURCE).unwrap();
    let other_draw = other.lottery_draw("pool-a", "a-better-seed").unwrap();
    let err = lottery::verify(&files.commitment, &files.pool, &other_draw, Some(&key)).unwrap_err();
    assert!(matches!(problem(&err), LotteryProblem::WrongSigner { .. }), "{err}");
    let err = lottery::verify(&files.commitment, &files.pool, &other_draw, None).unwrap_err();
    assert!(matches!(problem(&err), LotteryProblem::Mismatch(_)), "{err}");
    // Its own three files verify under its own key only.
    assert!(lottery::verify(&other_files.commitment, &other_files.pool, &other_draw, None).is_ok());
    assert!(lottery::verify(&other_files.commitment, &other_files.pool, &other_draw, Some(&key)).is_err());
}

#[test]
fn every_bad_input_is_refused_with_a_typed_error_and_nothing_recorded() {
    let dir = tempfile::tempdir().unwrap();
    let (vault, ids) = provider(dir.path(), 12);
    let before = (vault.read_log().unwrap().len(), vault.lotteries().unwrap(), arms(&vault, &ids));
    let unchanged = |what: &str| {
        let now = (vault.read_log().unwrap().len(), vault.lotteries().unwrap(), arms(&vault, &ids));
        assert_eq!(now, before, "{what} recorded something");
    };
    // An empty pool.
    let err = vault.lottery_commit("l1", &[], 1, SOURCE).unwrap_err();
    assert_eq!(problem(&err), &LotteryProblem::EmptyPool);
    unchanged("an empty pool");
    // A duplicate person.
    let twice = [ids[0], ids[1], ids[0]];
    let err = vault.lottery_commit("l1", &twice, 1, SOURCE).unwrap_err();
    assert!(matches!(problem(&err), LotteryProblem::DuplicatePerson { .. }), "{err}");
    assert!(err.to_string().contains(&ids[0].to_string()), "names the client: {err}");
    unchanged("a duplicate person");
    // Slots that leave nothing to draw.
    for slots in [0, 12, 13] {
        let err = vault.lottery_commit("l1", &ids, slots, SOURCE).unwrap_err();
        assert!(matches!(problem(&err), LotteryProblem::Slots { .. }), "{slots}: {err}");
    }
    unchanged("bad slots");
    // A bad id.
    let err = vault.lottery_commit("Pilot 1", &ids, 3, SOURCE).unwrap_err();
    assert_eq!(problem(&err), &LotteryProblem::BadId);
    // No seed source named: the seed could then be chosen among many later values.
    for source in ["", "   ", "caf\u{e9} beacon"] {
        let err = vault.lottery_commit("l1", &ids, 3, source).unwrap_err();
        assert_eq!(problem(&err), &LotteryProblem::BadSeedSource, "{source:?}");
    }
    unchanged("a bad id or seed source");
    // A seed given before the commitment: there is nothing to draw.
    let err = vault.lottery_draw("l1", "early-seed").unwrap_err();
    assert_eq!(problem(&err), &LotteryProblem::NotCommitted("l1".into()));
    assert_eq!(err.kind(), ErrorKind::InvalidInput);
    unchanged("a seed before the commitment");
    // A client the vault does not hold.
    let stranger: ClientId = "00112233445566778899aabbccddeeff".parse().unwrap();
    let err = vault.lottery_commit("l1", &[ids[0], stranger], 1, SOURCE).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::NotFound, "{err}");
    unchanged("an unknown client");
    // A bad seed, once committed; then the id is taken.
    vault.lottery_commit("l1", &ids, 3, SOURCE).unwrap();
    let logged = vault.read_log().unwrap().len();
    for seed in ["", "has space", "é"] {
        let err = vault.lottery_draw("l1", seed).unwrap_err();
        assert_eq!(problem(&err), &LotteryProblem::BadSeed, "{seed:?}");
    }
    let err = vault.lottery_commit("l1", &ids[..4], 1, SOURCE).unwrap_err();
    assert_eq!(problem(&err), &LotteryProblem::Exists("l1".into()));
    assert_eq!(vault.read_log().unwrap().len(), logged, "refusals log nothing");
    assert!(arms(&vault, &ids).values().all(Option::is_none));
}

#[test]
fn the_policy_decides_who_may_join_a_pool() {
    let dir = tempfile::tempdir().unwrap();
    let (vault, ids) = provider(dir.path(), 6);
    // A VAWA-grantee client: never pseudonymized, so never in a pool.
    vault.update_enrollment(ids[0], |e| e.vawa_grantee = true).unwrap();
    let err = vault.lottery_commit("l1", &ids, 2, SOURCE).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Denied, "{err}");
    // A client with protected relief: kept out while the policy keeps relief from the
    // evaluator, and the refusal does not say which rule applied.
    vault.add_record(ids[1], &caseward::Record::Legal(super::extract::u_visa("filed"))).unwrap();
    let err_relief = vault.lottery_commit("l1", &ids[1..], 2, SOURCE).unwrap_err();
    assert_eq!(err_relief.kind(), ErrorKind::Denied);
    let strip = |e: &Error, id: ClientId| e.to_string().replace(&id.to_string(), "ID");
    assert_eq!(strip(&err, ids[0]), strip(&err_relief, ids[1]), "the same words for both");
    // A policy that lets the evaluator count protected relief admits that client.
    vault.install_policy(&evaluation_policy(true)).unwrap();
    assert!(vault.lottery_commit("l1", &ids[1..], 2, SOURCE).is_ok());
    // Without the evaluator's pseudonym rule there is no lottery at all.
    let dir2 = tempfile::tempdir().unwrap();
    let (plain, plain_ids) = provider(dir2.path(), 4);
    plain.install_policy(&Policy::default_policy().unwrap()).unwrap();
    let err = plain.lottery_commit("l1", &plain_ids, 1, SOURCE).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Denied);
    assert!(err.to_string().contains("evaluator"), "{err}");
}

/// A file-writing attacker without the key puts back the lottery register from before the
/// draw, hoping to draw again with a better seed: the vault state refuses the register.
#[test]
fn a_restored_register_cannot_buy_a_second_draw() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("p.cwv");
    let (vault, ids) = provider(dir.path(), 10);
    vault.lottery_commit("l1", &ids, 4, SOURCE).unwrap();
    vault.checkpoint().unwrap();
    let read_register = || -> Vec<u8> {
        let db = rusqlite::Connection::open(&path).unwrap();
        db.query_row("SELECT value FROM meta WHERE name = 'lotteries'", [], |r| r.get(0)).unwrap()
    };
    let before_draw = read_register();
    vault.lottery_draw("l1", "first-seed").unwrap();
    vault.close().unwrap();
    let db = rusqlite::Connection::open(&path).unwrap();
    db.execute("UPDATE meta SET value = ?1 WHERE name = 'lotteries'", [&before_draw]).unwrap();
    drop(db);
    let err = Vault::open_with_key(&path, &test_key(21)).map(|_| ()).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Integrity, "{err}");
    // Deleting the register is refused the same way.
    let db = rusqlite::Connection::open(&path).unwrap();
    db.execute("DELETE FROM meta WHERE name = 'lotteries'", []).unwrap();
    drop(db);
    let err = Vault::open_with_key(&path, &test_key(21)).map(|_| ()).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Integrity, "{err}");
}

/// Chi-square critical value at p = 0.001 (Wilson-Hilferty).
fn critical(df: usize) -> f64 {
    let k = df as f64;
    let z = 3.090_232;
    k * (1.0 - 2.0 / (9.0 * k) + z * (2.0 / (9.0 * k)).sqrt()).powi(3)
}

/// Over 20,000 draws of 5 from a pool of 20 (a new pool each time, seeds from a counter),
/// every position of the sorted pool is selected with the same frequency, and so is every
/// number of selected members among the first five (the hypergeometric law): no member and no
/// part of the pool is favoured.
#[test]
fn selection_frequencies_are_uniform() {
    let (draws, size, slots) = (20_000usize, 20usize, 5u32);
    let mut by_position = vec![0u64; size];
    let mut first_five = [0u64; 6];
    for n in 0..draws {
        let members: Vec<String> =
            (0..size).map(|i| format!("cwp1:evaluation:chi:{:032x}", (n * size + i) as u128 * 0x9e37_79b9)).collect();
        let pool = Pool::new(members).unwrap();
        let selected = lottery::select("chi", &pool, slots, &format!("seed-{n}"));
        let mut among_first = 0;
        for (i, m) in pool.members().iter().enumerate() {
            if selected.binary_search(m).is_ok() {
                by_position[i] += 1;
                among_first += usize::from(i < 5);
            }
        }
        first_five[among_first] += 1;
    }
    let expected = draws as f64 * f64::from(slots) / size as f64;
    let stat: f64 = by_position.iter().map(|&o| (o as f64 - expected).powi(2) / expected).sum();
    println!("lottery positions: chi-square {stat:.1} on {} df (critical {:.1})", size - 1, critical(size - 1));
    assert!(stat < critical(size - 1), "positions not uniform: {stat:.1}");
    // P[k of the first five selected] = C(5,k) C(15,5-k) / C(20,5).
    let choose = |n: u64, k: u64| (0..k).fold(1.0, |acc, i| acc * (n - i) as f64 / (i + 1) as f64);
    let total = choose(20, 5);
    let mut stat = 0.0;
    let mut bins = 0;
    for (k, &o) in first_five.iter().enumerate() {
        let e = draws as f64 * choose(5, k as u64) * choose(15, 5 - k as u64) / total;
        if e >= 5.0 {
            stat += (o as f64 - e).powi(2) / e;
            bins += 1;
        }
    }
    println!(
        "lottery overlap with the first five: chi-square {stat:.1} on {} df (critical {:.1})",
        bins - 1,
        critical(bins - 1)
    );
    assert!(stat < critical(bins - 1), "overlap not hypergeometric: {stat:.1}");
}

/// A member erased between the commitment and the draw keeps their place (the pool is fixed,
/// so the draw still verifies) and leaves no record behind; the others get their arms. The
/// draw succeeds only because the erasure removed the register's link to the client: a link
/// left behind would make the draw fail to record an arm for a client who no longer exists.
#[test]
fn a_member_erased_before_the_draw_keeps_the_draw_verifiable() {
    let dir = tempfile::tempdir().unwrap();
    let (vault, ids) = provider(dir.path(), 10);
    let files = vault.lottery_commit("l1", &ids, 4, SOURCE).unwrap();
    let _erased = vault.erase_client(ids[3]).unwrap();
    let draw = vault.lottery_draw("l1", "pulse-77").unwrap();
    let verified = lottery::verify(&files.commitment, &files.pool, &draw, None).unwrap();
    assert_eq!(verified.draw.selected.len(), 4);
    let recorded = arms(&vault, &[&ids[..3], &ids[4..]].concat());
    assert!(recorded.values().all(Option::is_some), "every remaining member has an arm");
    assert!(vault.client_record(ids[3]).is_err(), "the erased client stays erased");
}

/// An operator who dislikes a draw's result cannot change it afterwards, or block a draw whose
/// result anyone can already compute: every write path that would touch a lottery's arm, or
/// randomize a pool member by hand, is refused with nothing changed.
#[test]
fn arms_a_lottery_decided_cannot_be_rewritten_or_preempted() {
    let dir = tempfile::tempdir().unwrap();
    let (vault, ids) = provider(dir.path(), 12);
    vault.lottery_commit("l1", &ids[..6], 2, SOURCE).unwrap();
    // Before the draw: randomizing a member by hand would block it.
    let by_hand = Randomization {
        selection_id: "paper-list".into(),
        stratum: "x".into(),
        arm: Arm::Treatment,
        selected_on: caseward::Date::from_ymd(2026, 1, 2).unwrap(),
    };
    let err = vault.update_enrollment(ids[0], |e| e.randomization = Some(by_hand.clone())).unwrap_err();
    assert!(matches!(problem(&err), LotteryProblem::ArmOfADraw(l) if l == "l1"), "{err}");
    vault.lottery_draw("l1", "AB12").unwrap();
    let recorded = arms(&vault, &ids);
    let control = *ids[..6].iter().find(|c| matches!(recorded[c], Some((Arm::Control, _)))).unwrap();
    // After it: the enrollment update, a whole-record update and a new intake claiming the id.
    let err = vault
        .update_enrollment(control, |e| {
            if let Some(r) = e.randomization.as_mut() {
                r.arm = Arm::Treatment;
            }
        })
        .unwrap_err();
    assert!(matches!(problem(&err), LotteryProblem::ArmOfADraw(_)), "{err}");
    let record = vault.client_record(control).unwrap();
    let stored = record.records.iter().find(|r| matches!(r.record, caseward::Record::Enrollment(_))).unwrap();
    let mut changed = record.enrollment().unwrap().clone();
    changed.randomization = None;
    let err = vault.update_record(control, stored.id, &caseward::Record::Enrollment(changed)).unwrap_err();
    assert!(matches!(problem(&err), LotteryProblem::ArmOfADraw(_)), "{err}");
    let mut synth = Synth::new(99);
    let mut intake = synth.intake();
    intake.enrollment.randomization = Some(Randomization { selection_id: "l1".into(), ..by_hand.clone() });
    let err = vault.enroll(&intake).unwrap_err();
    assert!(matches!(problem(&err), LotteryProblem::ArmOfADraw(_)), "{err}");
    assert_eq!(arms(&vault, &ids), recorded, "no arm changed");
    // A client outside every pool is still randomized by hand (an external lottery's result).
    vault.update_enrollment(ids[9], |e| e.randomization = Some(by_hand.clone())).unwrap();
}

/// One person cannot be in two pools, even as a second client: moving the first client's
/// A-number aside and enrolling the person again is caught by the register, which remembers
/// each member's A-number by the vault's keyed index. (Erasing the first client makes the vault
/// forget the person, as erasure must; the log shows that erasure.)
#[test]
fn a_person_enrolled_again_as_a_new_client_cannot_join_a_second_pool() {
    let dir = tempfile::tempdir().unwrap();
    let (vault, ids) = provider(dir.path(), 8);
    vault.lottery_commit("l1", &ids[..4], 2, SOURCE).unwrap();
    vault.lottery_draw("l1", "C0FFEE").unwrap();
    let loser = ids[..4].iter().copied().find(|&c| matches!(arms(&vault, &[c])[&c], Some((Arm::Control, _)))).unwrap();
    let record = vault.client_record(loser).unwrap();
    let mut identity = record.identity().unwrap().clone();
    let original = identity.a_number.clone();
    identity.a_number = caseward::AlienNumber::parse("A099999999").unwrap();
    let stored = record.records.iter().find(|r| matches!(r.record, caseward::Record::Identity(_))).unwrap();
    vault.update_record(loser, stored.id, &caseward::Record::Identity(identity)).unwrap();
    let mut intake = Synth::new(5).intake();
    intake.identity.a_number = original;
    intake.enrollment.randomization = None;
    intake.enrollment.vawa_grantee = false;
    intake.records.retain(|r| !matches!(r, caseward::Record::Legal(_)));
    let again = vault.enroll(&intake).unwrap();
    let err = vault.lottery_commit("l2", &[again, ids[5], ids[6]], 1, SOURCE).unwrap_err();
    assert!(matches!(problem(&err), LotteryProblem::AlreadyRandomized { selection, .. } if selection == "l1"), "{err}");
}

/// Two providers with the same consortium key put the same person in their pools: the public
/// pool files share no line, so nobody can link or test them.
#[test]
fn two_pools_share_no_token_for_one_person() {
    let (d1, d2) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    // Both providers hold the same consortium key, as a real consortium's do: the tokens must
    // still differ, since they do not depend on it.
    let key = caseward::PseudonymKey::generate().unwrap();
    let holder = caseward::RecoveryIdentity::generate();
    let recipient: age::x25519::Recipient = holder.recipient().to_string().parse().unwrap();
    let encryptor = age::Encryptor::with_recipients(std::iter::once(&recipient as &dyn age::Recipient)).unwrap();
    let mut file = Vec::new();
    let mut w = encryptor.wrap_output(&mut file).unwrap();
    std::io::Write::write_all(&mut w, key.to_hex().as_bytes()).unwrap();
    w.finish().unwrap();
    let fresh = |dir: &std::path::Path| {
        let v = Vault::create_with_key(dir.join("p.cwv"), &test_key(22)).unwrap();
        v.set_provider_id("global-refuge-baltimore").unwrap();
        v.import_pseudonym_key(&file, &holder).unwrap();
        v.install_policy(&evaluation_policy(false)).unwrap();
        v
    };
    let (v1, v2) = (fresh(d1.path()), fresh(d2.path()));
    let mut synth = Synth::new(23);
    let intakes: Vec<_> = (0..6)
        .map(|_| {
            let mut i = synth.intake();
            i.enrollment.randomization = None;
            i.enrollment.vawa_grantee = false;
            i.records.retain(|r| !matches!(r, caseward::Record::Legal(_)));
            i
        })
        .collect();
    let (ids1, ids2) = (v1.enroll_many(&intakes).unwrap(), v2.enroll_many(&intakes).unwrap());
    let e = Epoch::new("pilot-2026").unwrap();
    let a = v1.identity(ids1[0]).unwrap().a_number;
    assert_eq!(
        v1.pseudonym(caseward::Domain::Evaluation, &e, a.as_str()).unwrap(),
        v2.pseudonym(caseward::Domain::Evaluation, &e, a.as_str()).unwrap(),
        "one consortium key"
    );
    assert_eq!(v1.identity(ids1[0]).unwrap().a_number, v2.identity(ids2[0]).unwrap().a_number, "the same people");
    let f1 = v1.lottery_commit("l1", &ids1, 2, SOURCE).unwrap();
    let f2 = v2.lottery_commit("l1", &ids2, 2, SOURCE).unwrap();
    let lines = |f: &caseward::LotteryFiles| -> std::collections::BTreeSet<String> {
        String::from_utf8(f.pool.clone()).unwrap().lines().map(str::to_owned).collect()
    };
    assert!(lines(&f1).is_disjoint(&lines(&f2)));
}

/// A verifier reads exactly what was signed: a repeated field (serde would keep the last, and a
/// reader's eye the first) or an unknown one is refused, not verified.
#[test]
fn repeated_or_unknown_fields_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    let (vault, ids) = provider(dir.path(), 6);
    let files = vault.lottery_commit("l1", &ids, 2, SOURCE).unwrap();
    let draw = vault.lottery_draw("l1", "5EED").unwrap();
    assert!(lottery::verify(&files.commitment, &files.pool, &draw, None).is_ok());
    let text = String::from_utf8(files.commitment.clone()).unwrap();
    let repeated = text.replacen("\"document\": {", "\"document\": {\n    \"committed_at\": 1,", 1);
    let unknown = text.replacen("\"document\": {", "\"document\": {\n    \"note\": \"x\",", 1);
    let top = text.replacen("\"format\"", "\"seed\": \"decoy\",\n  \"format\"", 1);
    for bad in [repeated, unknown, top] {
        assert_ne!(bad, text);
        let err = lottery::verify(bad.as_bytes(), &files.pool, &draw, None).unwrap_err();
        assert!(matches!(problem(&err), LotteryProblem::Malformed(_)), "{err}");
    }
}
