//! Tampering, moved ciphertexts, wrong keys, and key management.

use std::path::Path;

use caseward::seal::{Aad, Algorithm, NonceSource, SealingKey};
use caseward::{EnvelopeKind, ErrorKind, KdfParams, Passphrase, RecoveryIdentity, Vault};
use caseward_tests::{canary_intake, test_key};

fn raw(path: &Path) -> rusqlite::Connection {
    rusqlite::Connection::open(path).unwrap()
}

fn body(conn: &rusqlite::Connection, id: i64) -> Vec<u8> {
    conn.query_row("SELECT body FROM record WHERE id = ?1", [id], |r| r.get(0)).unwrap()
}

fn set_body(conn: &rusqlite::Connection, id: i64, body: &[u8]) {
    conn.execute("UPDATE record SET body = ?1 WHERE id = ?2", rusqlite::params![body, id]).unwrap();
}

/// Flipping any single byte of a stored record body, or of a wrapped client key, gives an
/// `Integrity` error naming the row: never wrong data.
#[test]
fn every_flipped_byte_is_an_integrity_error_naming_the_row() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("v.cwv");
    let vault = Vault::create_with_key(&path, &test_key(1)).unwrap();
    let (intake, _) = canary_intake(1);
    let client = vault.enroll(&intake).unwrap();
    let conn = raw(&path);
    let records = vault.list_records(client).unwrap();

    let mut flips = 0;
    for (id, _kind) in &records {
        let original = body(&conn, id.0);
        for pos in 0..original.len() {
            let mut tampered = original.clone();
            tampered[pos] ^= 0x01 << (pos % 8);
            set_body(&conn, id.0, &tampered);
            let err = vault.client_record(client).expect_err("a flipped byte must not open");
            assert_eq!(err.kind(), ErrorKind::Integrity, "byte {pos} of record {id}: {err}");
            assert!(err.to_string().contains(&format!("record row {id}")), "{err}");
            flips += 1;
        }
        set_body(&conn, id.0, &original);
    }
    assert!(flips > 3000, "checked {flips} positions");
    assert!(vault.client_record(client).is_ok(), "restored records open again");

    let wrapped: Vec<u8> =
        conn.query_row("SELECT wrapped_key FROM client WHERE id = ?1", [client.as_bytes()], |r| r.get(0)).unwrap();
    for pos in 0..wrapped.len() {
        let mut tampered = wrapped.clone();
        tampered[pos] ^= 0x80;
        conn.execute(
            "UPDATE client SET wrapped_key = ?1 WHERE id = ?2",
            rusqlite::params![tampered, client.as_bytes()],
        )
        .unwrap();
        let err = vault.client_record(client).unwrap_err();
        assert_eq!(err.kind(), ErrorKind::Integrity);
        assert!(err.to_string().contains(&format!("client row {client}")), "{err}");
    }
}

/// A sealed record moved to another row of the same client, or to another client, does not open.
#[test]
fn moved_ciphertexts_do_not_open() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("v.cwv");
    let vault = Vault::create_with_key(&path, &test_key(2)).unwrap();
    let a = vault.enroll(&canary_intake(1).0).unwrap();
    let b = vault.enroll(&canary_intake(2).0).unwrap();
    let conn = raw(&path);
    let ra = vault.list_records(a).unwrap();
    let rb = vault.list_records(b).unwrap();

    // Same client, same kind, other row: two services of client a? Use two notes (ids 10, 11 of
    // each intake are both notes of different categories), and the two records of kind note.
    let services_a: Vec<_> = ra.iter().filter(|(_, k)| *k == caseward::RecordKind::Service).collect();
    assert_eq!(services_a.len(), 1);
    let notes_a: Vec<_> = ra.iter().filter(|(_, k)| *k == caseward::RecordKind::Note).map(|(id, _)| id.0).collect();
    let saved = body(&conn, notes_a[0]);
    set_body(&conn, notes_a[0], &body(&conn, notes_a[1]));
    let err = vault.client_record(a).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Integrity);
    assert!(err.to_string().contains("moved"), "{err}");
    set_body(&conn, notes_a[0], &saved);

    // Another client's identity body in client a's identity row.
    let (ida, idb) = (ra[0].0 .0, rb[0].0 .0);
    let saved = body(&conn, ida);
    set_body(&conn, ida, &body(&conn, idb));
    let err = vault.client_record(a).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Integrity);
    assert!(err.to_string().contains(&format!("record row {ida}")), "{err}");
    set_body(&conn, ida, &saved);

    // Client b's wrapped key in client a's row.
    let kb: Vec<u8> =
        conn.query_row("SELECT wrapped_key FROM client WHERE id = ?1", [b.as_bytes()], |r| r.get(0)).unwrap();
    conn.execute("UPDATE client SET wrapped_key = ?1 WHERE id = ?2", rusqlite::params![kb, a.as_bytes()]).unwrap();
    assert_eq!(vault.client_record(a).unwrap_err().kind(), ErrorKind::Integrity);
}

/// A section re-made under another key of the same length, with a well-formed header, is refused
/// by the commitment check before any decryption.
#[test]
fn another_keys_ciphertext_fails_the_commitment() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("v.cwv");
    let vault = Vault::create_with_key(&path, &test_key(3)).unwrap();
    let client = vault.enroll(&canary_intake(5).0).unwrap();
    let conn = raw(&path);
    let (sid, _) =
        *vault.list_records(client).unwrap().iter().find(|(_, k)| *k == caseward::RecordKind::Service).unwrap();
    let original = body(&conn, sid.0);
    // A single-section record: version(1) count(2) len(4) sealed.
    assert_eq!(u16::from_be_bytes([original[1], original[2]]), 1);
    let sealed_len = original.len() - 7;
    let forger = SealingKey::derive(&[0x5A; 32], Algorithm::Aes256Gcm, 0).unwrap();
    let vault_id = [0u8; 16];
    let aad = Aad {
        vault: &vault_id,
        table: "record",
        row: &sid.0.to_be_bytes(),
        client: client.as_bytes(),
        category: "service.event",
        schema: 1,
    };
    let plaintext = vec![b'x'; sealed_len - caseward::seal::OVERHEAD];
    let forged = forger.seal(&mut NonceSource::new(), &aad, &plaintext).unwrap();
    assert_eq!(forged.len(), sealed_len);
    let mut tampered = original[..7].to_vec();
    tampered.extend_from_slice(&forged);
    set_body(&conn, sid.0, &tampered);
    let err = vault.client_record(client).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Integrity);
    assert!(err.to_string().contains("commitment"), "{err}");
}

/// Wrong passphrase and wrong raw key are `WrongKey`; a key envelope copied from another vault
/// is caught by the canary; passphrase change and recovery identities work.
#[test]
fn wrong_keys_rotation_passphrase_change_and_recovery() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("v.cwv");
    let kdf = KdfParams::new(KdfParams::MIN_LOG_N).unwrap();
    let pass = Passphrase::new("maple syrup in the rain");
    let vault = Vault::create_with_options(&path, &pass, caseward::VaultOptions { kdf, ..Default::default() }).unwrap();
    let client = vault.enroll(&canary_intake(9).0).unwrap();
    let record = vault.client_record(client).unwrap();
    vault.close().unwrap();
    assert_eq!(vault.list_clients().unwrap_err().kind(), ErrorKind::InvalidInput, "closed vault refuses calls");

    let err = Vault::open(&path, &Passphrase::new("maple syrup in the rain!")).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::WrongKey);
    assert_eq!(Vault::open_with_key(&path, &test_key(9)).unwrap_err().kind(), ErrorKind::WrongKey);

    let vault = Vault::open(&path, &pass).unwrap();
    assert_eq!(vault.client_record(client).unwrap(), record);

    // Keystore key and recovery identity next to the passphrase.
    vault.add_keystore_key(&test_key(7)).unwrap();
    let recovery = RecoveryIdentity::generate();
    vault.add_recovery_recipient(&recovery.recipient()).unwrap();
    assert_eq!(vault.add_recovery_recipient(&recovery.recipient()).unwrap_err().kind(), ErrorKind::InvalidInput);
    assert_eq!(vault.envelopes().unwrap().len(), 3);

    // Passphrase change: the old one stops working, the new one works.
    let new_pass = Passphrase::new("a different long passphrase");
    assert_eq!(
        vault.change_passphrase(&Passphrase::new("nope"), &new_pass, kdf).unwrap_err().kind(),
        ErrorKind::WrongKey
    );
    vault.change_passphrase(&pass, &new_pass, kdf).unwrap();
    vault.rotate_keys().unwrap();
    vault.close().unwrap();
    assert_eq!(Vault::open(&path, &pass).unwrap_err().kind(), ErrorKind::WrongKey);
    assert_eq!(Vault::open(&path, &new_pass).unwrap().client_record(client).unwrap(), record);
    assert_eq!(Vault::open_with_key(&path, &test_key(7)).unwrap().client_record(client).unwrap(), record);
    let v = Vault::open_with_identity(&path, &recovery).unwrap();
    assert_eq!(v.client_record(client).unwrap(), record);
    assert_eq!(
        Vault::open_with_identity(&path, &RecoveryIdentity::generate()).unwrap_err().kind(),
        ErrorKind::WrongKey
    );

    // Removing: the recovery recipient goes; the last envelope never does.
    v.remove_recovery_recipient(&recovery.recipient()).unwrap();
    // A keystore key lost with its phone goes by the recipient the envelopes list.
    let lost = v.envelopes().unwrap().into_iter().find(|e| e.kind == EnvelopeKind::Keystore).unwrap();
    let lost = lost.recipient.unwrap();
    assert_eq!(v.remove_keystore_recipient("age1nonsense").unwrap_err().kind(), ErrorKind::InvalidInput);
    assert_eq!(
        v.remove_keystore_recipient(&RecoveryIdentity::generate().recipient().to_string()).unwrap_err().kind(),
        ErrorKind::NotFound
    );
    v.remove_keystore_recipient(&lost).unwrap();
    assert!(v.envelopes().unwrap().iter().all(|e| e.kind != EnvelopeKind::Keystore));
    assert_eq!(Vault::open_with_key(&path, &test_key(7)).unwrap_err().kind(), ErrorKind::WrongKey);
    v.add_keystore_key(&test_key(7)).unwrap();
    v.remove_keystore_key(&test_key(7)).unwrap();
    let err = v.remove_keystore_key(&test_key(7)).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::InvalidInput, "only the passphrase is left: {err}");
    v.close().unwrap();
    assert_eq!(Vault::open_with_identity(&path, &recovery).unwrap_err().kind(), ErrorKind::WrongKey);

    // An envelope copied in from another vault opens with its key but fails this vault's canary.
    let other = dir.path().join("other.cwv");
    Vault::create_with_key(&other, &test_key(8)).unwrap().close().unwrap();
    let age_file: Vec<u8> = raw(&other).query_row("SELECT age_file FROM key_envelope", [], |r| r.get(0)).unwrap();
    let recipient: String = raw(&other).query_row("SELECT recipient FROM key_envelope", [], |r| r.get(0)).unwrap();
    raw(&path)
        .execute(
            "INSERT INTO key_envelope (kind, recipient, age_file, created) VALUES ('keystore', ?1, ?2, '2026-11')",
            rusqlite::params![recipient, age_file],
        )
        .unwrap();
    let err = Vault::open_with_key(&path, &test_key(8)).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::WrongKey);
    assert!(err.to_string().contains("canary"), "{err}");
}

/// The weakest passphrase work factor a real vault accepts is enforced.
#[test]
fn kdf_bounds_and_empty_passphrase() {
    assert!(KdfParams::new(14).is_err());
    assert!(KdfParams::new(21).is_err());
    let dir = tempfile::tempdir().unwrap();
    let err = Vault::create(dir.path().join("v.cwv"), &Passphrase::new("")).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::InvalidInput);
    assert!(!dir.path().join("v.cwv").exists(), "a failed create leaves no file");
}

/// Opening things that are not vaults.
#[test]
fn not_a_vault() {
    let dir = tempfile::tempdir().unwrap();
    let junk = dir.path().join("junk.cwv");
    std::fs::write(&junk, b"this is not a database at all, just some text, long enough").unwrap();
    assert_eq!(Vault::open_with_key(&junk, &test_key(1)).unwrap_err().kind(), ErrorKind::Storage);
    let plain = dir.path().join("plain.db");
    rusqlite::Connection::open(&plain).unwrap().execute_batch("CREATE TABLE t (x)").unwrap();
    let err = Vault::open_with_key(&plain, &test_key(1)).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Storage);
    assert!(err.to_string().contains("not a caseward vault"), "{err}");
    assert_eq!(Vault::open_with_key(dir.path().join("missing"), &test_key(1)).unwrap_err().kind(), ErrorKind::NotFound);

    // A trigger planted in a real vault is refused at open.
    let path = dir.path().join("v.cwv");
    Vault::create_with_key(&path, &test_key(1)).unwrap().close().unwrap();
    raw(&path).execute_batch("CREATE TRIGGER t AFTER INSERT ON record BEGIN DELETE FROM meta; END;").unwrap();
    let err = Vault::open_with_key(&path, &test_key(1)).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Storage);
    assert!(err.to_string().contains("trigger t"), "{err}");
    // Creating over an existing file is refused.
    assert_eq!(Vault::create_with_key(&path, &test_key(1)).unwrap_err().kind(), ErrorKind::Storage);
}

/// ChaCha20-Poly1305, selectable at creation, is recorded in the vault and used on reopen; a
/// section re-labelled as AES is refused.
#[test]
fn chacha_vault_round_trips() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("c.cwv");
    let options = caseward::VaultOptions { algorithm: Algorithm::ChaCha20Poly1305, ..Default::default() };
    let vault = Vault::create_with_key_and_options(&path, &test_key(4), options).unwrap();
    let (intake, _) = canary_intake(3);
    let client = vault.enroll(&intake).unwrap();
    vault.close().unwrap();
    let vault = Vault::open_with_key(&path, &test_key(4)).unwrap();
    assert_eq!(vault.client_record(client).unwrap().identity(), Some(&intake.identity));
    let conn = raw(&path);
    let id = vault.list_records(client).unwrap()[0].0 .0;
    let mut b = body(&conn, id);
    assert_eq!(b[3 + 4 + 3], 2, "the first section's algorithm byte is ChaCha20-Poly1305");
    b[3 + 4 + 3] = 1;
    set_body(&conn, id, &b);
    assert_eq!(vault.client_record(client).unwrap_err().kind(), ErrorKind::Integrity);
}
