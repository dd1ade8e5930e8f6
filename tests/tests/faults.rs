//! Fault injection (issue #7): a full disk and a read-only file system, on a small tmpfs mounted
//! for the test, during ordinary writes, `rotate_keys` and `erase_client`. Each failing
//! operation fails with `Storage`; once space (or write access) is back, the vault opens and
//! every record committed before the fault reads back intact.
//!
//! Mounting needs CAP_SYS_ADMIN (root in the CI container). Where mounting is refused the test
//! says so on stderr and checks the read-only and full-disk paths it can still reach.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing, reason = "tests")]

use std::path::{Path, PathBuf};
use std::process::Command;

use caseward::{CaseNote, ClientId, Date, ErrorKind, Record, Vault};
use caseward_tests::test_key;

struct Tmpfs(PathBuf);

impl Tmpfs {
    fn mount(size: &str) -> Option<Self> {
        let dir = tempfile::Builder::new().prefix("cw-fault-").tempdir().unwrap().keep();
        let ok = Command::new("mount")
            .args(["-t", "tmpfs", "-o", &format!("size={size}"), "tmpfs"])
            .arg(&dir)
            .status()
            .is_ok_and(|s| s.success());
        ok.then(|| Self(dir))
    }
    fn remount(&self, mode: &str) {
        let ok = Command::new("mount").args(["-o", &format!("remount,{mode}")]).arg(&self.0).status().unwrap();
        assert!(ok.success(), "remount {mode}");
    }
}

impl Drop for Tmpfs {
    fn drop(&mut self) {
        let _ = Command::new("umount").arg(&self.0).status();
        let _ = std::fs::remove_dir(&self.0);
    }
}

fn note(i: usize) -> Record {
    // 3 KiB of text per record, so a small disk fills after a few hundred writes.
    Record::Note(CaseNote {
        author: "cw-1".into(),
        date: Date::parse("2026-10-01").unwrap(),
        text: format!("note {i}: {}", "x".repeat(3000)),
        psychotherapy: false,
    })
}

/// Every note a client has, by its number.
fn notes(vault: &Vault, client: ClientId) -> Vec<usize> {
    vault
        .client_record(client)
        .unwrap()
        .records
        .into_iter()
        .filter_map(|r| match r.record {
            Record::Note(n) if n.text.starts_with("note ") => n.text[5..].split(':').next().unwrap().parse().ok(),
            _ => None,
        })
        .collect()
}

fn setup(dir: &Path) -> (Vault, Vec<ClientId>, PathBuf) {
    let path = dir.join("v.cwv");
    let vault = Vault::create_with_key(&path, &test_key(9)).unwrap();
    let mut synth = caseward::synth::Synth::new(4);
    let ids = vault.enroll_many((0..20).map(|_| synth.intake()).collect::<Vec<_>>()).unwrap();
    (vault, ids, path)
}

#[test]
fn a_full_disk_fails_writes_rotation_and_erasure_with_storage_and_loses_nothing() {
    let Some(fs) = Tmpfs::mount("3m") else {
        eprintln!("full-disk case not run: mounting a tmpfs was refused (needs CAP_SYS_ADMIN)");
        return;
    };
    // A filler file that is deleted later to give the disk its space back.
    let filler = fs.0.join("filler");
    std::fs::write(&filler, vec![0u8; 512 * 1024]).unwrap();
    let (vault, ids, path) = setup(&fs.0);
    let mut committed = 0usize;
    let err = loop {
        match vault.add_record(ids[0], &note(committed)) {
            Ok(_) => committed += 1,
            Err(e) => break e,
        }
        assert!(committed < 10_000, "the disk never filled");
    };
    assert_eq!(err.kind(), ErrorKind::Storage, "{err}");
    assert!(err.to_string().contains("full"), "{err}");
    // Rotation and erasure on the full disk: refused with Storage (or, for erasure, done with
    // its residue not yet cleared), never half done.
    let kek = vault.kek_version().unwrap();
    match vault.rotate_keys() {
        Err(e) => assert_eq!(e.kind(), ErrorKind::Storage, "{e}"),
        Ok(v) => assert_eq!(v, kek + 1),
    }
    let erase = vault.erase_client(ids[1]);
    let erased = match &erase {
        Err(e) => {
            assert_eq!(e.kind(), ErrorKind::Storage, "{e}");
            false
        }
        Ok(er) => {
            assert!(!er.residue_cleared, "a full disk cannot rebuild the file");
            true
        }
    };
    eprintln!(
        "full disk after {committed} notes: write -> {err}; rotate_keys -> {:?}; erase_client -> {}",
        vault.kek_version().map(|v| v > kek),
        match &erase {
            Ok(e) => format!("erased, residue_cleared = {}", e.residue_cleared),
            Err(e) => e.to_string(),
        }
    );
    drop(vault);

    // Space back: the vault opens and holds exactly what was committed.
    std::fs::remove_file(&filler).unwrap();
    let vault = Vault::open_with_key(&path, &test_key(9)).unwrap();
    assert_eq!(notes(&vault, ids[0]), (0..committed).collect::<Vec<_>>(), "every committed note, no more");
    for (k, c) in ids.iter().enumerate() {
        if k == 1 && erased {
            assert_eq!(vault.client_record(*c).unwrap_err().kind(), ErrorKind::NotFound);
        } else {
            vault.client_record(*c).unwrap();
        }
    }
    assert!(vault.verify_log(None).unwrap().is_intact());
    if erased {
        vault.clear_residue().unwrap();
    }
    vault.rotate_keys().unwrap();
    vault.close().unwrap();
    let check: String =
        rusqlite::Connection::open(&path).unwrap().query_row("PRAGMA integrity_check", [], |r| r.get(0)).unwrap();
    assert_eq!(check, "ok");
}

#[test]
fn a_read_only_file_system_refuses_writes_and_keeps_the_vault() {
    let Some(fs) = Tmpfs::mount("8m") else {
        eprintln!("read-only case not run: mounting a tmpfs was refused (needs CAP_SYS_ADMIN)");
        return;
    };
    let (vault, ids, path) = setup(&fs.0);
    vault.add_record(ids[0], &note(0)).unwrap();
    vault.close().unwrap();
    fs.remount("ro");
    let err = Vault::open_with_key(&path, &test_key(9)).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Storage, "{err}");
    assert!(err.to_string().contains("read-only"), "{err}");
    eprintln!("read-only file system: open -> {err}");
    fs.remount("rw");
    let vault = Vault::open_with_key(&path, &test_key(9)).unwrap();
    assert_eq!(notes(&vault, ids[0]), vec![0]);
    assert_eq!(vault.list_clients().unwrap().len(), 20);
    vault.close().unwrap();
}
