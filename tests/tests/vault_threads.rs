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

/// Exit and randomization are written into the enrollment after intake, by read-change-write.
/// Two handles (as two processes would) change different fields at once, many times: each
/// field must end at its writer's last value. A read in one transaction and a write in another
/// would let a writer put back the other's older value.
#[test]
fn enrollment_updates_from_two_handles_lose_nothing() {
    use caseward::{Arm, Date, Exit, ExitReason, Randomization};
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("v.cwv");
    let vault = Vault::create_with_key(&path, &test_key(7)).unwrap();
    let client = vault.enroll(&caseward::synth::Synth::new(3).intake()).unwrap();
    let other = Vault::open_with_key(&path, &test_key(7)).unwrap();
    let rounds = 40u32;
    let exits = std::thread::spawn(move || {
        for i in 0..rounds {
            let date = Date::parse(&format!("2027-01-{:02}", i % 28 + 1)).unwrap();
            other.update_enrollment(client, |e| e.exit = Some(Exit { date, reason: ExitReason::Completed })).unwrap();
        }
    });
    for i in 0..rounds {
        let randomization = Randomization {
            selection_id: format!("sel-{i}"),
            stratum: "s".into(),
            arm: Arm::Treatment,
            selected_on: Date::parse("2026-12-01").unwrap(),
        };
        vault.update_enrollment(client, |e| e.randomization = Some(randomization)).unwrap();
    }
    exits.join().unwrap();
    let enrollment = vault.client_record(client).unwrap().enrollment().cloned().unwrap();
    let last_exit = Date::parse(&format!("2027-01-{:02}", (rounds - 1) % 28 + 1)).unwrap();
    assert_eq!(enrollment.exit.map(|e| e.date), Some(last_exit));
    assert_eq!(enrollment.randomization.map(|r| r.selection_id), Some(format!("sel-{}", rounds - 1)));
    // A client with no enrollment cannot be given one this way.
    let unknown: caseward::ClientId = "07070707070707070707070707070707".parse().unwrap();
    assert!(matches!(vault.update_enrollment(unknown, |_| {}), Err(caseward::Error::NotFound { .. })));
}
