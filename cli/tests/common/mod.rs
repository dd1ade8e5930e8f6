//! What the command-line tests share: running `caseward` in a folder with the vault passphrase
//! in its environment, reading its output, and setting up a provider vault with a signing key.
#![allow(dead_code, reason = "each test file uses a part")]
#![allow(clippy::unwrap_used, clippy::indexing_slicing, reason = "a test fails loudly on purpose")]

use std::path::Path;
use std::process::{Command, Output};

use caseward::synth::Synth;
use caseward::{Passphrase, Vault};

/// The passphrase of every vault the tests make; `run` hands it over in `CASEWARD_PASSPHRASE`.
pub const PASS: &str = "cli test passphrase";

/// Runs `caseward ARGS` in `dir`.
pub fn run(dir: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_caseward"))
        .args(args)
        .env("CASEWARD_PASSPHRASE", PASS)
        .current_dir(dir)
        .output()
        .unwrap()
}

/// Its standard output.
pub fn out(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

/// Its standard error.
pub fn err(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

/// A provider vault `file` in `dir` with `clients` synthetic clients from `seed`, given the
/// provider id `id` by `caseward provider`; returns the registry line the command prints.
pub fn provider(dir: &Path, file: &str, id: &str, seed: u64, clients: u32) -> String {
    let v = Vault::create(dir.join(file), &Passphrase::new(PASS)).unwrap();
    let mut synth = Synth::new(seed);
    let intakes: Vec<_> = (0..clients).map(|_| synth.intake()).collect();
    v.enroll_many(&intakes).unwrap();
    v.close().unwrap();
    let o = run(dir, &["provider", file, "--id", id]);
    assert_eq!(o.status.code(), Some(0), "{}", err(&o));
    let line = out(&o).lines().find(|l| l.starts_with(id)).unwrap().to_owned();
    assert!(line.contains("= \"ed25519:"), "{line}");
    line
}
