//! The README's first command works and shows what it promises.

#![allow(clippy::unwrap_used, clippy::expect_used, reason = "a test fails loudly on purpose")]

use std::process::Command;

#[test]
fn demo_runs_and_shows_each_step() {
    let dir = tempfile::tempdir().unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_caseward"))
        .args(["demo", "--clients", "120", "--dir"])
        .arg(dir.path())
        .output()
        .unwrap();
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(out.status.success(), "{text}\n{}", String::from_utf8_lossy(&out.stderr));
    for needle in [
        "enrolled 120 clients",
        "names found: 0 of 120   A-numbers found: 0 of 120",
        "refused: invalid a_number: it has 10 digits",
        "under KEK version 1",
        "file rebuilt and WAL truncated: true",
        "lookup of its A-number now -> None",
        "wrong passphrase -> wrong key",
        "recovery identity -> opened",
    ] {
        assert!(text.contains(needle), "missing {needle:?} in:\n{text}");
    }
    // The vault stays in --dir, and a second demo there refuses to overwrite it.
    assert!(dir.path().join("provider.cwv").exists());
    let again = Command::new(env!("CARGO_BIN_EXE_caseward")).args(["demo", "--dir"]).arg(dir.path()).output().unwrap();
    assert_eq!(again.status.code(), Some(2));
}

#[test]
fn init_takes_the_passphrase_from_a_file_and_never_overwrites() {
    let dir = tempfile::tempdir().unwrap();
    let pass = dir.path().join("pass");
    std::fs::write(&pass, "a long enough passphrase\n").unwrap();
    let vault = dir.path().join("v.cwv");
    let run = || {
        Command::new(env!("CARGO_BIN_EXE_caseward"))
            .args(["init", "--kdf-log-n", "15", "--passphrase-file"])
            .arg(&pass)
            .arg(&vault)
            .output()
            .unwrap()
    };
    let first = run();
    assert!(first.status.success(), "{}", String::from_utf8_lossy(&first.stderr));
    let vault_api = caseward::Vault::open(&vault, &caseward::Passphrase::new("a long enough passphrase")).unwrap();
    assert_eq!(vault_api.envelopes().unwrap()[0].log_n, Some(15));
    vault_api.close().unwrap();
    let second = run();
    assert_eq!(second.status.code(), Some(2));
    let err = String::from_utf8(second.stderr).unwrap();
    assert!(err.starts_with("caseward: ") && err.contains("already exists"), "{err}");
}
