//! A reviewer's and an attacker's view of the disclosure log: any edit, deletion, reorder or
//! truncation made with a plain SQLite connection is detected, by `audit::verify_file` (no key),
//! by a witness head, and by the vault's own sealed head.

#![allow(clippy::unwrap_used, clippy::indexing_slicing, reason = "tests")]

use std::path::{Path, PathBuf};

use caseward::audit::verify_file;
use caseward::{AddressConsent, Audience, LogHead, LogProblem, LogStatus, Record, Vault};
use caseward_tests::{canary_intake, test_key};

/// A vault with a few disclosures, closed; returns its path and the head after entry 4.
fn logged_vault(dir: &Path) -> (PathBuf, LogHead) {
    let path = dir.join("v.cwv");
    let vault = Vault::create_with_key(&path, &test_key(7)).unwrap();
    let mut witness = None;
    for n in 1..=3 {
        let (mut intake, _) = canary_intake(n);
        intake.records.retain(|r| !matches!(r, Record::Legal(_)));
        let client = vault.enroll(&intake).unwrap(); // one consent_granted entry each
        vault.ice_notice(client, AddressConsent::GivenForThisNotice).unwrap();
        vault.client_view(client, &Audience::Caseworker).unwrap();
        if n == 2 {
            witness = vault.log_head().unwrap();
        }
    }
    vault.rotate_keys().unwrap();
    assert_eq!(vault.verify_log(None).unwrap(), LogStatus::Intact { entries: 10, head: vault.log_head().unwrap() });
    vault.checkpoint().unwrap();
    vault.close().unwrap();
    (path, witness.unwrap())
}

fn tamper(path: &Path, sql: &str) {
    let conn = rusqlite::Connection::open(path).unwrap();
    conn.execute_batch(sql).unwrap();
}

fn broken(path: &Path, witness: Option<&LogHead>) -> (u64, LogProblem) {
    match verify_file(path, witness).unwrap() {
        LogStatus::Broken { seq, problem } => (seq, problem),
        intact => panic!("tampering went unnoticed: {intact}"),
    }
}

#[test]
fn edits_deletions_and_reorders_break_the_chain() {
    let dir = tempfile::tempdir().unwrap();
    let (original, _) = logged_vault(dir.path());
    assert!(verify_file(&original, None).unwrap().is_intact());
    let cases: &[(&str, (u64, LogProblem))] = &[
        ("UPDATE disclosure_log SET audience = 'board' WHERE seq = 3", (3, LogProblem::EditedEntry)),
        ("UPDATE disclosure_log SET at = at - 86400 WHERE seq = 5", (5, LogProblem::EditedEntry)),
        ("UPDATE disclosure_log SET output = zeroblob(32) WHERE seq = 2", (2, LogProblem::EditedEntry)),
        ("UPDATE disclosure_log SET detail = x'00' WHERE seq = 4", (4, LogProblem::EditedEntry)),
        ("DELETE FROM disclosure_log WHERE seq = 4", (4, LogProblem::SequenceGap)),
        (
            // Swap entries 2 and 3 and renumber them: the links no longer fit.
            "UPDATE disclosure_log SET seq = 100 WHERE seq = 2;
             UPDATE disclosure_log SET seq = 2 WHERE seq = 3;
             UPDATE disclosure_log SET seq = 3 WHERE seq = 100;",
            (2, LogProblem::EditedEntry),
        ),
        ("UPDATE disclosure_log SET event = 'erasure' WHERE seq = 6", (6, LogProblem::EditedEntry)),
        ("UPDATE disclosure_log SET prev = zeroblob(32) WHERE seq = 7", (7, LogProblem::EditedEntry)),
    ];
    for (i, (sql, want)) in cases.iter().enumerate() {
        let copy = dir.path().join(format!("case{i}.cwv"));
        std::fs::copy(&original, &copy).unwrap();
        tamper(&copy, sql);
        assert_eq!(&broken(&copy, None), want, "{sql}");
    }
}

#[test]
fn an_attacker_who_rehashes_an_edited_entry_still_breaks_the_next_link() {
    let dir = tempfile::tempdir().unwrap();
    let (path, _) = logged_vault(dir.path());
    // Rewrite entry 3 as a board disclosure and give it a correct hash of its new contents.
    let conn = rusqlite::Connection::open(&path).unwrap();
    conn.execute("UPDATE disclosure_log SET audience = 'board' WHERE seq = 3", []).unwrap();
    let entries = caseward::audit::read_file(&path).unwrap();
    let rehashed = entries[2].compute_hash();
    conn.execute("UPDATE disclosure_log SET hash = ?1 WHERE seq = 3", [&rehashed[..]]).unwrap();
    drop(conn);
    assert_eq!(broken(&path, None), (4, LogProblem::BrokenLink));
}

#[test]
fn truncation_is_caught_by_a_witness_and_by_the_vaults_sealed_head() {
    let dir = tempfile::tempdir().unwrap();
    let (path, witness) = logged_vault(dir.path());
    assert!(verify_file(&path, Some(&witness)).unwrap().is_intact());
    // Cut the tail from the witnessed entry on: the rest of the chain is still consistent.
    tamper(&path, &format!("DELETE FROM disclosure_log WHERE seq >= {}", witness.seq));
    assert!(verify_file(&path, None).unwrap().is_intact(), "a bare chain cannot see a cut tail");
    assert_eq!(broken(&path, Some(&witness)), (witness.seq, LogProblem::WitnessMissing));
    // The vault keeps its head sealed under its own key, so its owner sees the cut too.
    let vault = Vault::open_with_key(&path, &test_key(7)).unwrap();
    assert!(matches!(vault.verify_log(None).unwrap(), LogStatus::Broken { problem: LogProblem::HeadMismatch, .. }));
}

#[test]
fn a_rewrite_after_the_witness_is_caught() {
    let dir = tempfile::tempdir().unwrap();
    let (path, witness) = logged_vault(dir.path());
    // Rebuild the whole chain from entry 1 with one entry dropped, hashes recomputed: a
    // consistent forgery, except against the witness.
    let mut entries = caseward::audit::read_file(&path).unwrap();
    entries.remove(1);
    let conn = rusqlite::Connection::open(&path).unwrap();
    conn.execute("DELETE FROM disclosure_log", []).unwrap();
    let mut prev = caseward::audit::GENESIS;
    for (i, mut e) in entries.into_iter().enumerate() {
        e.seq = i as u64 + 1;
        e.prev = prev;
        e.hash = e.compute_hash();
        prev = e.hash;
        conn.execute(
            "INSERT INTO disclosure_log VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)",
            rusqlite::params![
                e.seq as i64,
                e.at,
                e.event.as_str(),
                e.audience,
                e.client.map(|c| c.as_bytes().to_vec()),
                &e.policy.0[..],
                &e.output[..],
                e.detail,
                &e.prev[..],
                &e.hash[..]
            ],
        )
        .unwrap();
    }
    drop(conn);
    assert!(verify_file(&path, None).unwrap().is_intact(), "the forgery is self-consistent");
    assert_eq!(broken(&path, Some(&witness)), (witness.seq, LogProblem::WitnessMismatch));
}

/// The vault's own reading of its log checks the whole chain, not only that it ends at the
/// state's head: an entry edited or deleted in the middle is an error, never a shorter or
/// different list of what was disclosed.
#[test]
fn read_log_refuses_an_edited_or_missing_entry_in_the_middle() {
    let dir = tempfile::tempdir().unwrap();
    let (original, _) = logged_vault(dir.path());
    let intact = Vault::open_with_key(&original, &test_key(7)).unwrap().read_log().unwrap().len();
    assert!(intact >= 4);
    for (i, sql) in [
        "UPDATE disclosure_log SET audience = 'board' WHERE seq = 2",
        "UPDATE disclosure_log SET at = at + 1 WHERE seq = 2",
        "DELETE FROM disclosure_log WHERE seq = 2",
    ]
    .into_iter()
    .enumerate()
    {
        let copy = dir.path().join(format!("copy-{i}.cwv"));
        std::fs::copy(&original, &copy).unwrap();
        tamper(&copy, sql);
        let vault = Vault::open_with_key(&copy, &test_key(7)).unwrap();
        let err = vault.read_log().unwrap_err();
        assert_eq!(err.kind(), caseward::ErrorKind::Integrity, "{sql}: {err}");
        vault.close().unwrap();
    }
}
