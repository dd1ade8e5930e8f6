//! What a thief with the disk sees, and what erasure leaves behind.

use caseward::{ErrorKind, Vault};
use caseward_tests::{canary_intake, contains, find_any, test_key, vault_bytes};

/// 1,000 clients whose every text field is a unique canary: no canary appears anywhere in the
/// vault file, its WAL or journal. After erasure and checkpoint, the erased clients' wrapped keys
/// and record ciphertexts are gone from the files too.
#[test]
fn no_plaintext_on_disk_and_erasure_leaves_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("v.cwv");
    let vault = Vault::create_with_key(&path, &test_key(1)).unwrap();

    let mut all_canaries = Vec::new();
    let mut ids = Vec::new();
    for batch in 0..10u32 {
        let intakes: Vec<_> = (0..100u32)
            .map(|i| {
                let (intake, canaries) = canary_intake(batch * 100 + i);
                all_canaries.push(canaries);
                intake
            })
            .collect();
        ids.extend(vault.enroll_many(&intakes).unwrap());
    }
    assert_eq!(ids.len(), 1000);

    // Before any checkpoint (data still in the WAL) and after one (data in the main file).
    for stage in ["wal", "checkpointed"] {
        if stage == "checkpointed" {
            vault.checkpoint().unwrap();
        }
        let bytes = vault_bytes(&path);
        assert!(bytes.len() > 1_000_000, "the vault holds the data somewhere");
        let needles: Vec<String> = all_canaries.iter().flatten().cloned().collect();
        assert!(needles.len() == 56_000, "{} canaries", needles.len());
        let found = find_any(&bytes, &needles);
        assert!(found.is_empty(), "canaries found in plaintext ({stage}): {:?}", &found[..found.len().min(5)]);
    }

    // The records decrypt, so the scan above was looking at real data.
    let record = vault.client_record(ids[0]).unwrap();
    let json = serde_json::to_string(&record).unwrap();
    for c in &all_canaries[0][..10] {
        assert!(json.contains(c.as_str()), "canary {c} must round-trip");
    }

    // Collect what an erased client leaves: its wrapped key and record bodies.
    let erased = [ids[3], ids[500], ids[999]];
    let raw = rusqlite::Connection::open(&path).unwrap();
    let mut fragments: Vec<Vec<u8>> = Vec::new();
    for id in erased {
        let wrapped: Vec<u8> =
            raw.query_row("SELECT wrapped_key FROM client WHERE id = ?1", [id.as_bytes()], |r| r.get(0)).unwrap();
        fragments.push(wrapped);
        let digest: Vec<u8> =
            raw.query_row("SELECT digest FROM lookup WHERE client_id = ?1", [id.as_bytes()], |r| r.get(0)).unwrap();
        fragments.push(digest);
        let mut stmt = raw.prepare("SELECT body FROM record WHERE client_id = ?1").unwrap();
        for body in stmt.query_map([id.as_bytes()], |r| r.get::<_, Vec<u8>>(0)).unwrap() {
            let body = body.unwrap();
            // Sample the middle of each body: ciphertext that identifies this record alone.
            fragments.push(body[body.len() / 2..body.len() / 2 + 24].to_vec());
        }
    }
    drop(raw);
    let before = vault_bytes(&path);
    assert!(fragments.iter().all(|f| contains(&before, f)), "fragments are on disk before erasure");

    for id in erased {
        let erasure = vault.erase_client(id).unwrap();
        assert_eq!(erasure.records_deleted, 15);
        assert!(erasure.residue_cleared);
    }
    let after = vault_bytes(&path);
    for (i, f) in fragments.iter().enumerate() {
        assert!(!contains(&after, f), "an erased client's bytes survive erasure (fragment {i} of {})", fragments.len());
    }
    // A control: a client that was not erased still has its bytes on disk.
    let kept: Vec<u8> = rusqlite::Connection::open(&path)
        .unwrap()
        .query_row("SELECT wrapped_key FROM client WHERE id = ?1", [ids[4].as_bytes()], |r| r.get(0))
        .unwrap();
    assert!(contains(&after, &kept));
    for id in erased {
        assert_eq!(vault.client_record(id).unwrap_err().kind(), ErrorKind::NotFound);
        assert_eq!(vault.erase_client(id).unwrap_err().kind(), ErrorKind::NotFound);
    }
    // Everyone else is intact.
    assert_eq!(vault.list_clients().unwrap().len(), 997);
    assert!(vault.client_record(ids[4]).is_ok());
}

/// The lookup works without decrypting, in any written form, and survives rotation and reopen.
#[test]
fn blind_index_lookup_survives_rotation() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("v.cwv");
    let vault = Vault::create_with_key(&path, &test_key(2)).unwrap();
    let mut synth = caseward::synth::Synth::new(11);
    let intakes: Vec<_> = (0..50).map(|_| synth.intake()).collect();
    let ids = vault.enroll_many(&intakes).unwrap();
    let canonical = intakes[7].identity.a_number.as_str().to_owned();
    let digits = &canonical[1..];
    for form in [
        canonical.clone(),
        format!("A# {} {} {}", &digits[..3], &digits[3..6], &digits[6..]),
        format!("USCIS# {digits}"),
    ] {
        assert_eq!(vault.find_by_a_number(&form).unwrap(), Some(ids[7]), "{form}");
    }
    assert_eq!(vault.find_by_a_number("A299999998").unwrap(), None);
    assert_eq!(vault.find_by_a_number("A0123456789").unwrap_err().kind(), ErrorKind::InvalidInput);

    assert_eq!(vault.rotate_keys().unwrap(), 1);
    assert_eq!(vault.rotate_keys().unwrap(), 2);
    assert_eq!(vault.find_by_a_number(&canonical).unwrap(), Some(ids[7]));
    let before = vault.client_record(ids[7]).unwrap();
    vault.close().unwrap();

    let vault = Vault::open_with_key(&path, &test_key(2)).unwrap();
    assert_eq!(vault.kek_version().unwrap(), 2);
    assert_eq!(vault.find_by_a_number(&canonical).unwrap(), Some(ids[7]));
    assert_eq!(vault.client_record(ids[7]).unwrap(), before);
    let mut n = 0;
    vault
        .scan(|_, _| {
            n += 1;
            Ok(())
        })
        .unwrap();
    assert_eq!(n, 500);
}

/// Records read back exactly as written; updates replace them in one transaction; an enrolled
/// A-number cannot be enrolled twice.
#[test]
fn records_round_trip_and_update() {
    let dir = tempfile::tempdir().unwrap();
    let vault = Vault::create_with_key(dir.path().join("v.cwv"), &test_key(3)).unwrap();
    let (intake, _) = canary_intake(42);
    let id = vault.enroll(&intake).unwrap();
    let record = vault.client_record(id).unwrap();
    assert_eq!(record.identity(), Some(&intake.identity));
    assert_eq!(record.enrollment(), Some(&intake.enrollment));
    let rest: Vec<_> = record.records[2..].iter().map(|r| r.record.clone()).collect();
    assert_eq!(rest, intake.records);

    let dup = vault.enroll(&intake).unwrap_err();
    assert_eq!(dup.kind(), ErrorKind::InvalidInput);
    assert!(dup.to_string().contains(&id.to_string()));

    // Update the identity: new A-number, and the lookup follows.
    let mut identity = intake.identity.clone();
    identity.a_number = caseward::AlienNumber::parse("A276543210").unwrap();
    identity.a_number_as_entered = "A276543210".into();
    let identity_id = record.records[0].id;
    vault.update_record(id, identity_id, &caseward::Record::Identity(identity.clone())).unwrap();
    assert_eq!(vault.identity(id).unwrap(), identity);
    assert_eq!(vault.find_by_a_number("A276543210").unwrap(), Some(id));
    assert_eq!(vault.find_by_a_number(intake.identity.a_number.as_str()).unwrap(), None);

    // A record cannot change kind, and singular kinds cannot be added twice.
    let enrollment_id = record.records[1].id;
    let err = vault.update_record(id, enrollment_id, &caseward::Record::Identity(identity)).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::InvalidInput);
    let err = vault.add_record(id, &caseward::Record::Enrollment(intake.enrollment.clone())).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::InvalidInput);
    assert_eq!(vault.list_records(id).unwrap().len(), 15);
}

/// Debug output of every client-data type and every error is redacted.
#[test]
fn debug_and_errors_carry_no_client_data() {
    let (intake, canaries) = canary_intake(77);
    let dir = tempfile::tempdir().unwrap();
    let vault = Vault::create_with_key(dir.path().join("v.cwv"), &test_key(4)).unwrap();
    let id = vault.enroll(&intake).unwrap();
    let record = vault.client_record(id).unwrap();
    let dbg = format!("{intake:?} {record:?} {vault:?}");
    for c in &canaries {
        assert!(!dbg.contains(c.as_str()), "canary {c} in Debug output");
    }
    let err = vault.enroll(&intake).unwrap_err();
    for text in [err.to_string(), format!("{err:?}")] {
        for c in &canaries {
            assert!(!text.contains(c.as_str()), "canary {c} in error text {text}");
        }
    }
}

/// `enroll_many` is one transaction: one bad intake stores nothing, and the vault is unchanged.
#[test]
fn a_failed_batch_stores_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let vault = Vault::create_with_key(dir.path().join("v.cwv"), &test_key(5)).unwrap();
    let mut synth = caseward::synth::Synth::new(8);
    vault.enroll(&synth.intake()).unwrap();

    let good = synth.intake();
    let mut two_legal = synth.intake();
    let legal = synth.sensitive_records().remove(0);
    two_legal.records.push(legal.clone());
    two_legal.records.push(legal);
    let err = vault.enroll_many([&good, &two_legal]).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::InvalidInput, "{err}");

    let mut identity_in_records = synth.intake();
    identity_in_records.records.push(caseward::Record::Identity(identity_in_records.identity.clone()));
    assert_eq!(vault.enroll_many([&good, &identity_in_records]).unwrap_err().kind(), ErrorKind::InvalidInput);

    // A duplicate A-number later in the batch rolls back the earlier, valid intakes too.
    assert_eq!(vault.enroll_many([&good, &good]).unwrap_err().kind(), ErrorKind::InvalidInput);

    assert_eq!(vault.list_clients().unwrap().len(), 1);
    assert_eq!(vault.find_by_a_number(good.identity.a_number.as_str()).unwrap(), None);
    vault.enroll(&good).unwrap();
    assert_eq!(vault.list_clients().unwrap().len(), 2);
}
