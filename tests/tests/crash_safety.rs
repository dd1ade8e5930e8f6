//! A writer killed with SIGKILL at random points never leaves a vault that fails to open, fails
//! SQLite's integrity check, or has lost or damaged a committed record.

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::time::Duration;

use caseward::{ClientId, Vault};
use caseward_tests::test_key;

#[test]
fn sigkill_during_bulk_writes_loses_nothing_committed() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("crash.cwv");
    Vault::create_with_key(&path, &test_key(42)).unwrap().close().unwrap();
    let mut rng = fastrand::Rng::with_seed(2026);
    let mut committed: Vec<ClientId> = Vec::new();
    let trials = 55;
    let mut killed_mid_write = 0;

    for trial in 0..trials {
        let mut child = Command::new(env!("CARGO_BIN_EXE_crash_writer"))
            .arg(&path)
            .arg(trial.to_string())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let stdout = child.stdout.take().unwrap();
        let reader =
            std::thread::spawn(move || BufReader::new(stdout).lines().map_while(Result::ok).collect::<Vec<String>>());
        // Let it open the vault, then kill it somewhere inside its stream of transactions.
        std::thread::sleep(Duration::from_millis(rng.u64(20..250)));
        child.kill().unwrap(); // SIGKILL on Unix
        let status = child.wait().unwrap();
        let lines = reader.join().unwrap();
        if !status.success() && lines.len() > 1 {
            killed_mid_write += 1;
        }
        let mut new: Vec<ClientId> = Vec::new();
        for line in lines.iter().filter(|l| *l != "ready") {
            new.extend(line.split(' ').map(|id| id.parse::<ClientId>().unwrap()));
        }

        // The vault opens, passes SQLite's integrity check, and every committed client decrypts.
        let check = rusqlite::Connection::open(&path).unwrap();
        let verdict: String = check.query_row("PRAGMA integrity_check", [], |r| r.get(0)).unwrap();
        assert_eq!(verdict, "ok", "trial {trial}");
        // Every client present (a committed-but-unreported batch included) is whole: ten records.
        let partial: i64 = check
            .query_row(
                "SELECT count(*) FROM client c WHERE (SELECT count(*) FROM record r WHERE r.client_id = c.id) != 10",
                [],
                |r| r.get(0),
            )
            .unwrap();
        assert_eq!(partial, 0, "trial {trial}: a partially written client exists");
        drop(check);
        let vault = Vault::open_with_key(&path, &test_key(42)).unwrap();
        let present: std::collections::HashSet<_> = vault.list_clients().unwrap().into_iter().collect();
        committed.extend(new.iter().copied());
        assert!(committed.iter().all(|id| present.contains(id)), "trial {trial}: a committed client vanished");
        for id in &new {
            let record = vault.client_record(*id).unwrap_or_else(|e| panic!("trial {trial}: client {id}: {e}"));
            assert_eq!(record.records.len(), 10);
        }
        vault.close().unwrap();
    }
    // Finally every record of every client decrypts.
    let vault = Vault::open_with_key(&path, &test_key(42)).unwrap();
    let clients = vault.list_clients().unwrap().len();
    let records = vault.scan(|_, _| Ok(())).unwrap();
    assert_eq!(records, clients * 10);
    assert!(committed.len() > 500, "the writer committed {} clients", committed.len());
    assert!(killed_mid_write >= 50, "only {killed_mid_write} kills landed mid-write");
}
