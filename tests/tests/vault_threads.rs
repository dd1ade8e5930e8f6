//! One `Vault` shared by several threads: every write lands, none is corrupted.

use std::sync::Arc;

use caseward::Vault;
use caseward_tests::test_key;

#[test]
fn vault_is_send_and_sync() {
    fn assert_send_sync<T: Send + Sync>() {}
    assert_send_sync::<Vault>();
}

#[test]
fn threads_share_one_vault() {
    let dir = tempfile::tempdir().unwrap();
    let vault = Arc::new(Vault::create_with_key(dir.path().join("v.cwv"), &test_key(6)).unwrap());
    let handles: Vec<_> = (0..4u32)
        .map(|t| {
            let vault = Arc::clone(&vault);
            std::thread::spawn(move || {
                let mut synth = caseward::synth::Synth::new(u64::from(t));
                synth.skip_numbers(t * 10_000);
                let mut ids = Vec::new();
                for i in 0..50 {
                    let intake = synth.intake();
                    let id = vault.enroll(&intake).unwrap();
                    if i % 10 == 0 {
                        // Reads and a rotation interleave with the other threads' writes.
                        assert_eq!(vault.identity(id).unwrap(), intake.identity);
                        if t == 0 {
                            vault.rotate_keys().unwrap();
                        }
                    }
                    ids.push((id, intake));
                }
                ids
            })
        })
        .collect();
    let all: Vec<_> = handles.into_iter().flat_map(|h| h.join().unwrap()).collect();
    assert_eq!(vault.list_clients().unwrap().len(), 200);
    assert_eq!(vault.kek_version().unwrap(), 5);
    for (id, intake) in &all {
        let record = vault.client_record(*id).unwrap();
        assert_eq!(record.identity(), Some(&intake.identity));
        assert_eq!(record.records.len(), 10);
        assert_eq!(vault.find_by_a_number(intake.identity.a_number.as_str()).unwrap(), Some(*id));
    }
    vault.close().unwrap();
    assert!(vault.identity(all[0].0).is_err(), "calls after close fail");
}
