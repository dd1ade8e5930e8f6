//! Two processes and several threads writing one vault (issue #7): 10,000 one-record
//! transactions from each process and 2,000 from four threads, all at once. No write is lost or
//! corrupted, SQLite's integrity check passes, and the disclosure log's chain is intact.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing, reason = "tests")]

use std::collections::BTreeSet;
use std::process::Command;
use std::sync::Arc;

use caseward::{Date, Record, ServiceEvent, ServiceKind, Vault};
use caseward_tests::test_key;

const PER_PROCESS: u32 = 10_000;
const THREADS: u32 = 4;
const PER_THREAD: u32 = 500;

#[test]
fn two_processes_and_four_threads_lose_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("shared.cwv");
    let vault = Vault::create_with_key(&path, &test_key(77)).unwrap();
    let mut synth = caseward::synth::Synth::new(3);
    let ids = vault.enroll_many((0..3).map(|_| synth.intake()).collect::<Vec<_>>()).unwrap();
    let before: Vec<usize> = ids.iter().map(|c| vault.list_records(*c).unwrap().len()).collect();

    let children: Vec<_> = ids[..2]
        .iter()
        .map(|c| {
            Command::new(env!("CARGO_BIN_EXE_stress_writer"))
                .arg(&path)
                .arg(c.to_string())
                .arg(PER_PROCESS.to_string())
                .spawn()
                .unwrap()
        })
        .collect();
    let vault = Arc::new(vault);
    let threads: Vec<_> = (0..THREADS)
        .map(|t| {
            let vault = Arc::clone(&vault);
            let client = ids[2];
            std::thread::spawn(move || {
                let date = Date::parse("2026-10-02").unwrap();
                for i in 0..PER_THREAD {
                    let minutes = t * PER_THREAD + i;
                    vault
                        .add_record(
                            client,
                            &Record::Service(ServiceEvent { date, kind: ServiceKind::Food, minutes: Some(minutes) }),
                        )
                        .unwrap();
                }
            })
        })
        .collect();
    for t in threads {
        t.join().unwrap();
    }
    for mut child in children {
        assert!(child.wait().unwrap().success(), "a writer process failed");
    }

    // Every write is there exactly once, and decrypts.
    let expect = [PER_PROCESS, PER_PROCESS, THREADS * PER_THREAD];
    for (k, client) in ids.iter().enumerate() {
        let record = vault.client_record(*client).unwrap();
        // Records come oldest first: the writes follow the intake's own records.
        let minutes: Vec<u32> = record
            .records
            .iter()
            .skip(before[k])
            .map(|r| match &r.record {
                Record::Service(s) => s.minutes.unwrap(),
                other => panic!("client {k}: unexpected {:?}", other.kind()),
            })
            .collect();
        let distinct: BTreeSet<u32> = minutes.iter().copied().collect();
        assert_eq!(minutes.len(), expect[k] as usize, "client {k}: no write lost or duplicated");
        assert_eq!(distinct, (0..expect[k]).collect(), "client {k}: every write once");
    }
    let status = vault.verify_log(None).unwrap();
    assert!(status.is_intact(), "{status}");
    assert_eq!(
        vault.read_log().unwrap().iter().filter(|(e, _)| e.event.as_str() == "disclosure").count(),
        2 * (PER_PROCESS / 100) as usize,
        "every logged copy is in the chain"
    );
    let check: String =
        rusqlite::Connection::open(&path).unwrap().query_row("PRAGMA integrity_check", [], |r| r.get(0)).unwrap();
    assert_eq!(check, "ok");
}
