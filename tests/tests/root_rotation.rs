//! Root-key rotation against the attacker it is for: someone who knew an old passphrase (a
//! former staff member) and can write the file, or holds an older copy of it.
//!
//! SECURITY.md, "Root-key rotation": after a rotation (or a passphrase change, which rotates)
//! the old passphrase opens nothing in the current file, whatever old rows are put back, while
//! every current key, every record, the log and the lookups keep working unchanged.

use std::path::Path;

use caseward::report::bundle::{canonical_json, open_bundle};
use caseward::report::ReportOptions;
use caseward::{AddressConsent, Domain, Epoch, ErrorKind, KdfParams, LogStatus, Passphrase, RecoveryIdentity, Vault};
use caseward_tests::{canary_intake, test_key};
use rusqlite::Connection;

fn kdf() -> KdfParams {
    KdfParams::new(15).unwrap()
}

fn raw(path: &Path) -> Connection {
    let c = Connection::open(path).unwrap();
    c.pragma_update(None, "foreign_keys", false).unwrap();
    c
}

/// Copies `table` (all rows) from `from` into `to`, replacing what `to` has.
fn put_back(to: &Path, from: &Path, table: &str) {
    let c = raw(to);
    c.execute(&format!("ATTACH DATABASE '{}' AS old", from.display()), []).unwrap();
    c.execute(&format!("DELETE FROM main.{table}"), []).unwrap();
    c.execute(&format!("INSERT INTO main.{table} SELECT * FROM old.{table}"), []).unwrap();
}

fn put_back_meta(to: &Path, from: &Path, name: &str) {
    let c = raw(to);
    c.execute(&format!("ATTACH DATABASE '{}' AS old", from.display()), []).unwrap();
    c.execute("INSERT OR REPLACE INTO main.meta SELECT * FROM old.meta WHERE name = ?1", [name]).unwrap();
}

fn copy(vault: &Vault, path: &Path, to: &Path) {
    vault.checkpoint().unwrap();
    std::fs::copy(path, to).unwrap();
    let _ = path;
}

/// A client ICE may be sent a notice about (no protected relief).
fn no_relief(n: u32) -> caseward::Intake {
    let (mut intake, _) = canary_intake(n);
    for r in &mut intake.records {
        if let caseward::Record::Legal(l) = r {
            l.protected_relief = None;
        }
    }
    intake
}

fn open_err(path: &Path, pass: &Passphrase) -> ErrorKind {
    Vault::open(path, pass).map(|_| ()).unwrap_err().kind()
}

#[test]
fn a_passphrase_change_retires_the_old_passphrase_against_old_rows_put_back() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("v.cwv");
    let (old_pass, new_pass) =
        (Passphrase::new("the passphrase a former worker knew"), Passphrase::new("the new one, chosen after"));
    let recovery = RecoveryIdentity::generate();
    let board = RecoveryIdentity::generate();
    let vault =
        Vault::create_with_options(&path, &old_pass, caseward::VaultOptions { kdf: kdf(), ..Default::default() })
            .unwrap();
    vault.add_recovery_recipient(&recovery.recipient()).unwrap();
    vault.add_keystore_key(&test_key(3)).unwrap();
    vault.set_provider_id("rotation-test").unwrap();
    vault.generate_pseudonym_key().unwrap();
    let before = no_relief(1);
    let a = vault.enroll(&before).unwrap();
    let notice = vault.ice_notice(a, AddressConsent::Withheld).unwrap();
    let bundle =
        vault.board_report("2026-09".parse().unwrap(), &ReportOptions::default(), &[board.recipient()]).unwrap();
    let mut opened = open_bundle(&bundle, &board, None).unwrap();
    // The log keeps the digest of the report as built, before the head of the log (which
    // includes that very entry) was written into it.
    opened.report.log_head = None;
    let (signer, report_json) = (opened.signer, canonical_json(&serde_json::to_value(&opened.report).unwrap()));
    let report_seq = vault.log_head().unwrap().unwrap().seq;
    assert!(vault.confirm_output(report_seq, &report_json).unwrap(), "the report as the board opened it");
    let epoch = Epoch::new("2026").unwrap();
    let pseudonyms = vault.pseudonyms(Domain::Board, &epoch).unwrap();
    let older = dir.path().join("older.cwv");
    copy(&vault, &path, &older);
    let envelopes = vault.envelopes().unwrap();
    let version = vault.kek_version().unwrap();

    vault.change_passphrase(&old_pass, &new_pass, kdf()).unwrap();
    let (after, _) = canary_intake(2);
    let b = vault.enroll(&after).unwrap();
    let record_a = vault.client_record(a).unwrap();
    let record_b = vault.client_record(b).unwrap();
    assert_eq!(vault.kek_version().unwrap(), version + 1);
    assert_eq!(vault.envelopes().unwrap(), envelopes, "the same kinds and recipients open it");
    vault.checkpoint().unwrap();
    vault.close().unwrap();

    // The old passphrase alone, and with each old row it needs put back.
    assert_eq!(open_err(&path, &old_pass), ErrorKind::WrongKey);
    let case = dir.path().join("case.cwv");
    std::fs::copy(&path, &case).unwrap();
    put_back(&case, &older, "key_envelope");
    assert_eq!(open_err(&case, &old_pass), ErrorKind::WrongKey, "old envelope: the canary no longer opens");
    put_back_meta(&case, &older, "canary");
    let kind = open_err(&case, &old_pass);
    assert!(matches!(kind, ErrorKind::WrongKey | ErrorKind::Integrity), "old envelope and canary: {kind:?}");
    for name in ["state", "kek_version"] {
        put_back_meta(&case, &older, name);
    }
    // With the old state too, the vault may open (it is the older vault's state), but nothing
    // about the client enrolled after the change can be read: its key is wrapped under the new root.
    if let Ok(v) = Vault::open(&case, &old_pass) {
        assert!(v.client_record(b).is_err());
        assert!(v.identity(b).is_err());
        assert!(v.ice_notice(b, AddressConsent::GivenForThisNotice).is_err());
        assert_eq!(v.find_by_a_number(after.identity.a_number.as_str()).map_err(|e| e.kind()).ok().flatten(), None);
    }

    // Every current key opens the vault, with everything as it was.
    for v in [
        Vault::open(&path, &new_pass).unwrap(),
        Vault::open_with_key(&path, &test_key(3)).unwrap(),
        Vault::open_with_identity(&path, &recovery).unwrap(),
    ] {
        assert_eq!(v.client_record(a).unwrap(), record_a);
        assert_eq!(v.client_record(b).unwrap(), record_b);
        assert_eq!(v.find_by_a_number(before.identity.a_number.as_str()).unwrap(), Some(a));
        assert_eq!(v.find_by_a_number(after.identity.a_number.as_str()).unwrap(), Some(b));
        assert_eq!(v.pseudonyms(Domain::Board, &epoch).unwrap().len(), pseudonyms.len() + 1);
        assert!(matches!(v.verify_log(None).unwrap(), LogStatus::Intact { .. }));
        // Entries written under the old root still open, and outputs logged then still confirm.
        assert!(v.read_log().unwrap().iter().all(|(_, d)| d.is_some()));
        assert!(v.confirm_output(report_seq, &report_json).unwrap(), "a report logged under the old root");
        assert!(!v.confirm_output(report_seq, b"{}").unwrap());
        let seq_notice = v
            .read_log()
            .unwrap()
            .iter()
            .find(|(e, _)| e.client == Some(a) && e.audience == "ice")
            .map(|(e, _)| e.seq)
            .unwrap();
        assert!(v.confirm_output(seq_notice, notice.to_json()).unwrap());
        // The report signing key is carried over: the board's registry stays valid.
        let again =
            v.board_report("2026-09".parse().unwrap(), &ReportOptions::default(), &[board.recipient()]).unwrap();
        assert_eq!(open_bundle(&again, &board, None).unwrap().signer, signer);
        v.close().unwrap();
    }
}

#[test]
fn rotation_refuses_what_it_cannot_keep_and_changes_nothing_then() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("v.cwv");
    let pass = Passphrase::new("a long enough passphrase");
    let vault =
        Vault::create_with_options(&path, &pass, caseward::VaultOptions { kdf: kdf(), ..Default::default() }).unwrap();
    let client = vault.enroll(&canary_intake(1).0).unwrap();
    let version = vault.kek_version().unwrap();
    let err = vault.rotate_root_key(None, kdf()).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::InvalidInput, "{err}");
    assert_eq!(vault.kek_version().unwrap(), version);
    assert_eq!(
        vault.change_passphrase(&Passphrase::new("not it"), &pass, kdf()).unwrap_err().kind(),
        ErrorKind::WrongKey
    );
    vault.close().unwrap();
    Vault::open(&path, &pass).unwrap().client_record(client).unwrap();

    // A tampered row is refused, not laundered into the new state: the rotation reads every
    // row under the old state first.
    {
        let c = raw(&path);
        let body: Vec<u8> = c.query_row("SELECT body FROM record WHERE kind = 'enrollment'", [], |r| r.get(0)).unwrap();
        let mut flipped = body.clone();
        let last = flipped.len() - 1;
        flipped[last] ^= 1;
        c.execute("UPDATE record SET body = ?1 WHERE kind = 'enrollment'", [flipped]).unwrap();
    }
    let v = Vault::open(&path, &pass).unwrap();
    assert_eq!(v.rotate_root_key(Some(&pass), kdf()).unwrap_err().kind(), ErrorKind::Integrity);
    assert_eq!(v.kek_version().unwrap(), version, "nothing changed");
    assert_eq!(v.client_record(client).unwrap_err().kind(), ErrorKind::Integrity);
}

#[test]
fn another_handle_learns_of_a_rotation_as_a_typed_error_and_reopens() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("v.cwv");
    let first = Vault::create_with_key(&path, &test_key(1)).unwrap();
    let client = first.enroll(&canary_intake(1).0).unwrap();
    let second = Vault::open_with_key(&path, &test_key(1)).unwrap();
    second.rotate_root_key(None, kdf()).unwrap();
    let err = first.client_record(client).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::WrongKey, "{err}");
    assert!(err.to_string().contains("open it again"), "{err}");
    let again = Vault::open_with_key(&path, &test_key(1)).unwrap();
    assert_eq!(again.client_record(client).unwrap(), second.client_record(client).unwrap());
}

/// The attacker adds a recovery envelope for their own age key to the file (they need no key to
/// write a row, and may copy a genuine age file from anywhere). A rotation must not re-make an
/// envelope of the new root for that recipient: the envelopes are checked against the state.
#[test]
fn a_recipient_added_by_hand_never_receives_the_new_root() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("v.cwv");
    let vault = Vault::create_with_key(&path, &test_key(1)).unwrap();
    vault.enroll(&no_relief(1)).unwrap();
    vault.close().unwrap();
    let attacker = RecoveryIdentity::generate();
    raw(&path)
        .execute(
            "INSERT INTO key_envelope (kind, recipient, log_n, age_file, created) VALUES ('recovery', ?1, NULL, x'00', '2026-12')",
            [attacker.recipient().to_string()],
        )
        .unwrap();
    // The vault no longer opens: the envelope list is part of the state.
    assert_eq!(Vault::open_with_key(&path, &test_key(1)).unwrap_err().kind(), ErrorKind::Integrity);
    assert!(Vault::open_with_identity(&path, &attacker).is_err());
    // Nor when the row is changed in place (an existing recipient replaced by the attacker's).
    raw(&path).execute("DELETE FROM key_envelope WHERE recipient = ?1", [attacker.recipient().to_string()]).unwrap();
    let v = Vault::open_with_key(&path, &test_key(1)).unwrap();
    v.add_recovery_recipient(&RecoveryIdentity::generate().recipient()).unwrap();
    v.close().unwrap();
    raw(&path)
        .execute("UPDATE key_envelope SET recipient = ?1 WHERE kind = 'recovery'", [attacker.recipient().to_string()])
        .unwrap();
    assert_eq!(Vault::open_with_key(&path, &test_key(1)).unwrap_err().kind(), ErrorKind::Integrity);
    assert!(Vault::open_with_identity(&path, &attacker).is_err());
}
