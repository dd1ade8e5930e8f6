//! I/O errors (issue #7): a disk that starts failing in the middle of a write, a key rotation or
//! an erasure. `strace` makes the Nth and every later write, sync and truncate of a child
//! process fail with EIO, for every N from the first such call to past the operation's last.
//!
//! Each trial: the child's operation either completes or fails with `Storage` (never another
//! kind, never a panic). Then the vault, reopened on a healthy disk, passes `integrity_check`,
//! its log chain is intact, every record committed before reads back the same, and the
//! operation's own change is there whole or not at all. A commit whose last sync failed may
//! still be there: the disk took the frame before it failed, as with any database, so "failed"
//! means "not known to be durable", never "half done".
//!
//! Needs `strace` with ptrace permitted (the CI container allows it; `.ci/run` installs strace).
//! Where it cannot run, the test says so on stderr and passes without trials.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing, reason = "tests")]

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;

use caseward::{ClientId, ErrorKind, Record, Vault};
use caseward_tests::test_key;

/// The system calls through which SQLite changes a file on Linux (it writes with `pwrite64`,
/// grows the shared-memory file with `ftruncate`/`pwrite64`, and syncs with `fsync`/`fdatasync`).
const FAILING: &str = "pwrite64,pwritev,write,fsync,fdatasync,ftruncate";
const MAX_TRIALS: u32 = 600;

/// Whether `strace` is installed and may trace here. (Only that: a wrong injection argument
/// must fail the test, not skip it.)
fn strace_works() -> bool {
    Command::new("strace").args(["-f", "-o", "/dev/null", "true"]).status().is_ok_and(|s| s.success())
}

/// How the disk fails: from the Nth write or sync on (a dying disk), or only at the Nth (a
/// transient error; the process goes on, closes, and checkpoints on a healthy disk).
#[derive(Clone, Copy, Debug, PartialEq)]
enum Fault {
    From(u32),
    Only(u32),
}

/// Runs the child under `strace` with the fault injected as EIO; returns its exit status.
fn run_with(fault: Fault, vault: &Path, op: &[&str]) -> i32 {
    let when = match fault {
        Fault::From(n) => format!("{n}+"),
        Fault::Only(n) => n.to_string(),
    };
    let output = Command::new("strace")
        .args(["-f", "-o", "/dev/null", "-e", &format!("inject={FAILING}:error=EIO:when={when}")])
        .arg(env!("CARGO_BIN_EXE_io_fault_op"))
        .arg(vault)
        .args(op)
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(!stderr.contains("strace:"), "strace refused the injection: {stderr}");
    output.status.code().unwrap_or_else(|| panic!("the child was killed by a signal: {}", output.status))
}

/// What a client holds: its note texts (in order) and how many records of each kind.
type Contents = (Vec<String>, BTreeMap<String, usize>);

fn contents(vault: &Vault, client: ClientId) -> caseward::Result<Contents> {
    let record = vault.client_record(client)?;
    let mut notes = Vec::new();
    let mut kinds = BTreeMap::new();
    for r in record.records {
        *kinds.entry(format!("{:?}", r.record.kind())).or_insert(0) += 1;
        if let Record::Note(n) = r.record {
            notes.push(n.text);
        }
    }
    Ok((notes, kinds))
}

fn copy_vault(from: &Path, to: &Path) {
    for suffix in ["-wal", "-shm"] {
        let _ = std::fs::remove_file(format!("{}{suffix}", to.display()));
    }
    std::fs::copy(from, to).unwrap();
}

#[derive(Default, Debug)]
struct Tally {
    trials: u32,
    open_failed: u32,
    op_failed: u32,
    failed_but_durable: u32,
    done: u32,
    residue_left: u32,
}

/// What the trials share: the pristine vault, its clients and what they held.
struct Setup {
    pristine: PathBuf,
    trial: PathBuf,
    ids: Vec<ClientId>,
    before: Vec<Contents>,
}

impl Setup {
    /// One trial: a fresh copy, the operation under the fault, then the checks on a healthy
    /// disk. Returns the child's exit status.
    fn trial(&self, name: &str, args: &[&str], fault: Fault, tally: &mut Tally) -> i32 {
        let what = format!("{name}, {fault:?}");
        copy_vault(&self.pristine, &self.trial);
        let code = run_with(fault, &self.trial, args);
        tally.trials += 1;
        match code {
            0 => tally.done += 1,
            2 => tally.residue_left += 1,
            10 => tally.op_failed += 1,
            20 => tally.open_failed += 1,
            11 | 21 => panic!("{what}: an error of another kind than Storage (exit {code})"),
            other => panic!("{what}: the child failed (exit {other})"),
        }

        // A healthy disk again: everything committed before is there and whole.
        let vault = Vault::open_with_key(&self.trial, &test_key(31))
            .unwrap_or_else(|e| panic!("{what}: the vault does not open: {e}"));
        let check: String = rusqlite::Connection::open(&self.trial)
            .unwrap()
            .query_row("PRAGMA integrity_check", [], |r| r.get(0))
            .unwrap();
        assert_eq!(check, "ok", "{what}");
        assert!(vault.verify_log(None).unwrap().is_intact(), "{what}: log chain");
        let (written, erased) = (self.ids[0], self.ids[1]);
        let mut applied = false;
        for (k, client) in self.ids.iter().enumerate() {
            let before = &self.before[k];
            match (name, *client) {
                ("write", c) if c == written => {
                    let (notes, _) = contents(&vault, c).unwrap();
                    assert!(notes.len() >= before.0.len(), "{what}: notes lost");
                    assert_eq!(&notes[..before.0.len()], &before.0[..], "{what}: earlier notes");
                    applied = notes.len() == before.0.len() + 1;
                    if applied {
                        assert_eq!(notes.last().unwrap(), "io-fault note 99", "{what}");
                    } else {
                        assert_eq!(notes.len(), before.0.len(), "{what}");
                    }
                }
                ("erase_client", c) if c == erased => match contents(&vault, c) {
                    Err(e) => {
                        assert_eq!(e.kind(), ErrorKind::NotFound, "{what}: {e}");
                        applied = true;
                    }
                    Ok(now) => assert_eq!(&now, before, "{what}: not erased, so whole"),
                },
                (_, c) => assert_eq!(&contents(&vault, c).unwrap(), before, "{what}: client {k} unchanged"),
            }
        }
        if name == "rotate_keys" {
            let kek = vault.kek_version().unwrap();
            assert!(kek <= 1, "{what}: key version {kek}");
            applied = kek == 1;
        }
        if code == 0 || code == 2 {
            assert!(applied, "{what}: reported done but not there");
        } else if applied {
            tally.failed_but_durable += 1;
        }
        vault.close().unwrap();
        code
    }
}

#[test]
fn eio_during_write_rotation_and_erasure_fails_with_storage_and_keeps_every_committed_record() {
    if !strace_works() {
        eprintln!("I/O-error cases not run: strace is missing or ptrace is not permitted here");
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let pristine = dir.path().join("pristine.cwv");
    let out = Command::new(env!("CARGO_BIN_EXE_io_fault_op")).arg(&pristine).arg("setup").output().unwrap();
    assert!(out.status.success(), "setup: {}", String::from_utf8_lossy(&out.stderr));
    let ids: Vec<ClientId> = String::from_utf8(out.stdout).unwrap().lines().map(|l| l.parse().unwrap()).collect();
    let before: Vec<Contents> = {
        let vault = Vault::open_with_key(&pristine, &test_key(31)).unwrap();
        ids.iter().map(|c| contents(&vault, *c).unwrap()).collect()
    };
    let (written_s, erased_s) = (ids[0].to_string(), ids[1].to_string());
    let setup = Setup { pristine, trial: dir.path().join("trial.cwv"), ids, before };
    let ops: [(&str, Vec<&str>); 3] = [
        ("write", vec!["write", &written_s]),
        ("rotate_keys", vec!["rotate"]),
        ("erase_client", vec!["erase", &erased_s]),
    ];

    for (name, args) in ops {
        // A dying disk: every call from the Nth on fails, for N = 1, 2, ... until the
        // operation completes before the first failing call. (An erasure whose deletion
        // committed but whose file rebuild failed reports that, and the sweep goes on.)
        let mut dying = Tally::default();
        let mut n = 1;
        while setup.trial(name, &args, Fault::From(n), &mut dying) != 0 {
            n += 1;
            assert!(n <= MAX_TRIALS, "{name}: still failing after {MAX_TRIALS} injected errors");
        }
        // A transient error: only the Nth call fails, for every N the operation reached.
        let mut transient = Tally::default();
        for k in 1..n {
            setup.trial(name, &args, Fault::Only(k), &mut transient);
        }
        for (mode, t) in [("from the Nth call on", &dying), ("at the Nth call only", &transient)] {
            eprintln!(
                "{name}, EIO {mode}: {} trials; {} failed while opening, {} failed with Storage during the \
                 operation ({} of those durable anyway), {} erased with the residue left, {} done",
                t.trials, t.open_failed, t.op_failed, t.failed_but_durable, t.residue_left, t.done
            );
        }
        assert!(dying.op_failed > 0, "{name}: no trial failed inside the operation");
    }
}
