//! What an administrator runs when a staff member who knew the passphrase leaves:
//! `caseward key rotate`, and what it must mean afterwards.

#![allow(clippy::unwrap_used, clippy::indexing_slicing, reason = "a test fails loudly on purpose")]

mod common;

use std::path::Path;

use caseward::synth::Synth;
use caseward::{ErrorKind, Passphrase, RecoveryIdentity, Vault};
use common::{err, out, run, PASS};

/// Puts the `key_envelope` table of the file bytes `older` back into the vault at `path`.
fn put_back_envelopes(path: &Path, older: &[u8]) {
    let old = path.with_extension("older");
    std::fs::write(&old, older).unwrap();
    let c = rusqlite::Connection::open(path).unwrap();
    c.execute(&format!("ATTACH DATABASE '{}' AS old", old.display()), []).unwrap();
    c.execute("DELETE FROM main.key_envelope", []).unwrap();
    c.execute("INSERT INTO main.key_envelope SELECT * FROM old.key_envelope", []).unwrap();
}

#[test]
fn key_rotate_retires_the_old_passphrase_and_keeps_recovery() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("p.cwv");
    let recovery = RecoveryIdentity::generate();
    let v = Vault::create(&path, &Passphrase::new(PASS)).unwrap();
    v.add_recovery_recipient(&recovery.recipient()).unwrap();
    let client = v.enroll(&Synth::new(4).intake()).unwrap();
    let record = v.client_record(client).unwrap();
    v.checkpoint().unwrap();
    v.close().unwrap();
    let before = std::fs::read(&path).unwrap();
    let new_pass = "the passphrase after she left";
    std::fs::write(dir.path().join("new-pass"), format!("{new_pass}\n")).unwrap();

    let o = run(dir.path(), &["key", "rotate", "p.cwv", "--new-passphrase-file", "new-pass", "--kdf-log-n", "15"]);
    assert_eq!(o.status.code(), Some(0), "{}", err(&o));
    let text = out(&o);
    assert!(text.contains("root key rotated"), "{text}");
    assert!(text.contains("  passphrase") && text.contains(&format!("  recovery {}", recovery.recipient())), "{text}");

    // The new passphrase and the recovery identity open the same records.
    assert_eq!(Vault::open(&path, &Passphrase::new(new_pass)).unwrap().client_record(client).unwrap(), record);
    assert_eq!(Vault::open_with_identity(&path, &recovery).unwrap().client_record(client).unwrap(), record);
    // The old passphrase is refused, by the command and with the old envelopes put back.
    let o = run(dir.path(), &["ice-notice", "p.cwv", &client.to_string()]);
    assert_eq!(o.status.code(), Some(2));
    assert!(err(&o).contains("wrong key"), "{}", err(&o));
    put_back_envelopes(&path, &before);
    assert_eq!(Vault::open(&path, &Passphrase::new(PASS)).unwrap_err().kind(), ErrorKind::WrongKey);
}

#[test]
fn key_rotate_without_a_new_passphrase_keeps_the_current_one() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("p.cwv");
    let v = Vault::create(&path, &Passphrase::new(PASS)).unwrap();
    let version = v.kek_version().unwrap();
    v.close().unwrap();
    let o = run(dir.path(), &["key", "rotate", "p.cwv", "--kdf-log-n", "15"]);
    assert_eq!(o.status.code(), Some(0), "{}", err(&o));
    let v = Vault::open(&path, &Passphrase::new(PASS)).unwrap();
    assert_eq!(v.kek_version().unwrap(), version + 1, "the rotation moved the key version on");
    let o = run(dir.path(), &["key", "rotate", "missing.cwv"]);
    assert_eq!(o.status.code(), Some(2));
}

#[test]
fn init_with_a_recovery_recipient_then_recover_after_the_passphrase_is_lost() {
    let dir = tempfile::tempdir().unwrap();
    let o = run(dir.path(), &["keygen", "-o", "recovery.key"]);
    assert_eq!(o.status.code(), Some(0), "{}", err(&o));
    let recipient = out(&o).lines().find(|l| l.starts_with("age1")).unwrap().trim().to_owned();

    // A weak passphrase is refused before anything is written.
    std::fs::write(dir.path().join("weak"), "x\n").unwrap();
    let o = run(dir.path(), &["init", "w.cwv", "--passphrase-file", "weak", "--kdf-log-n", "15"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(err(&o).contains("at least 12 characters"), "{}", err(&o));
    assert!(!dir.path().join("w.cwv").exists());

    std::fs::write(dir.path().join("pass"), format!("{PASS}\n")).unwrap();
    let o =
        run(dir.path(), &["init", "p.cwv", "--passphrase-file", "pass", "--kdf-log-n", "15", "--recovery", &recipient]);
    assert_eq!(o.status.code(), Some(0), "{}", err(&o));
    assert!(out(&o).contains(&format!("  recovery {recipient}")), "{}", out(&o));
    let client = {
        let v = Vault::open(dir.path().join("p.cwv"), &Passphrase::new(PASS)).unwrap();
        let c = v.enroll(&Synth::new(6).intake()).unwrap();
        v.close().unwrap();
        c
    };

    // The passphrase is lost: the recovery identity sets a new one.
    let new_pass = "the passphrase chosen after recovery";
    std::fs::write(dir.path().join("new-pass"), format!("{new_pass}\n")).unwrap();
    let o = run(
        dir.path(),
        &["key", "recover", "p.cwv", "-i", "recovery.key", "--new-passphrase-file", "new-pass", "--kdf-log-n", "15"],
    );
    assert_eq!(o.status.code(), Some(0), "{}", err(&o));
    let v = Vault::open(dir.path().join("p.cwv"), &Passphrase::new(new_pass)).unwrap();
    assert!(v.client_record(client).is_ok());
    v.close().unwrap();
    assert_eq!(
        Vault::open(dir.path().join("p.cwv"), &Passphrase::new(PASS)).unwrap_err().kind(),
        ErrorKind::WrongKey,
        "the lost passphrase opens nothing"
    );

    // List, remove, and the last envelope is kept.
    std::fs::write(dir.path().join("new-pass"), format!("{new_pass}\n")).unwrap();
    let o = run(dir.path(), &["key", "list", "p.cwv", "--passphrase-file", "new-pass"]);
    assert!(out(&o).contains("  passphrase") && out(&o).contains(&recipient), "{}", out(&o));
    let o = run(
        dir.path(),
        &["key", "remove-recovery", "p.cwv", "--recipient", &recipient, "--passphrase-file", "new-pass"],
    );
    assert_eq!(o.status.code(), Some(0), "{}", err(&o));
    assert!(!out(&o).contains(&recipient));
    let o = run(dir.path(), &["key", "recover", "p.cwv", "-i", "recovery.key", "--new-passphrase-file", "new-pass"]);
    assert_eq!(o.status.code(), Some(2), "a removed recipient opens nothing");

    // A phone's keystore key is lost: the office removes it by the recipient `key list` shows.
    let phone = caseward::RawKey::generate().unwrap();
    let v = Vault::open(dir.path().join("p.cwv"), &Passphrase::new(new_pass)).unwrap();
    v.add_keystore_key(&phone).unwrap();
    let lost = v.envelopes().unwrap().into_iter().find_map(|e| e.recipient).unwrap();
    v.checkpoint().unwrap();
    v.close().unwrap();
    // The phone keeps its own copy of the vault, which its key opens.
    let phone_copy = std::fs::read(dir.path().join("p.cwv")).unwrap();
    let o = run(dir.path(), &["key", "list", "p.cwv", "--passphrase-file", "new-pass"]);
    assert!(out(&o).contains(&lost), "{}", out(&o));
    let o =
        run(dir.path(), &["key", "remove-keystore", "p.cwv", "--recipient", &lost, "--passphrase-file", "new-pass"]);
    assert_eq!(o.status.code(), Some(0), "{}", err(&o));
    let listed = out(&o).split("opens with:").nth(1).unwrap_or_default().to_owned();
    assert!(!listed.contains(&lost) && listed.contains("passphrase"), "{}", out(&o));
    assert_eq!(Vault::open_with_key(dir.path().join("p.cwv"), &phone).unwrap_err().kind(), ErrorKind::WrongKey);
    let o =
        run(dir.path(), &["key", "remove-keystore", "p.cwv", "--recipient", "age1x", "--passphrase-file", "new-pass"]);
    assert_eq!(o.status.code(), Some(2), "{}", err(&o));
    // The root key was rotated: the phone's envelope, put back from its copy, opens nothing.
    put_back_envelopes(&dir.path().join("p.cwv"), &phone_copy);
    assert_eq!(Vault::open_with_key(dir.path().join("p.cwv"), &phone).unwrap_err().kind(), ErrorKind::WrongKey);
}

#[test]
fn report_budget_shows_and_sets_the_months_and_the_years_rho() {
    let dir = tempfile::tempdir().unwrap();
    Vault::create(dir.path().join("p.cwv"), &Passphrase::new(PASS)).unwrap().close().unwrap();
    std::fs::write(dir.path().join("pass"), format!("{PASS}\n")).unwrap();
    let budget = |extra: &[&str]| {
        let mut args = vec!["report", "budget", "p.cwv", "--period", "2026-09", "--passphrase-file", "pass"];
        args.extend_from_slice(extra);
        run(dir.path(), &args)
    };
    let o = budget(&[]);
    assert_eq!(o.status.code(), Some(0), "{}", err(&o));
    assert!(out(&o).contains("period 2026-09: spent rho 0.000000 of 1.000000"), "{}", out(&o));
    assert!(out(&o).contains("year 2026: spent rho 0.000000 of 2.000000"), "{}", out(&o));
    let o = budget(&["--set-period-rho", "1/4", "--set-year-rho", "1.5"]);
    assert_eq!(o.status.code(), Some(0), "{}", err(&o));
    assert!(out(&o).contains("of 0.250000") && out(&o).contains("of 1.500000"), "{}", out(&o));
    for bad in [["--set-year-rho", "0"], ["--set-period-rho", "x"]] {
        let o = budget(&bad);
        assert_eq!(o.status.code(), Some(2), "{bad:?}: {}", out(&o));
    }
    let o = budget(&[]);
    assert!(out(&o).contains("of 0.250000") && out(&o).contains("of 1.500000"), "nothing changed: {}", out(&o));
}
