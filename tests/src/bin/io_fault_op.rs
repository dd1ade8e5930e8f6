//! Child process for the I/O-error test (`tests/tests/io_faults.rs`). The test runs it under
//! `strace`, which makes the Nth and every later write or sync of the process fail with EIO, as
//! a dying disk would.
//!
//! Usage:
//!   io_fault_op VAULT setup          creates VAULT: 6 synthetic clients, 3 notes each;
//!                                    prints the client ids, one per line
//!   io_fault_op VAULT write CLIENT   adds one note
//!   io_fault_op VAULT rotate         rotate_keys
//!   io_fault_op VAULT erase CLIENT   erase_client
//!
//! The outcome is the exit status, since printing is itself a write that may fail: 0 done;
//! 2 erased, but rebuilding the file to clear the residue failed; 10 the operation failed with
//! `Storage`, 11 with another kind; 20 opening failed with `Storage`, 21 with another kind.
//! Anything else (a panic) fails the test.

use caseward::{CaseNote, ClientId, Date, ErrorKind, Record, Vault};

/// The note the `write` operation adds (and `setup` adds three of, numbered).
fn note(date: Date, n: u32) -> Record {
    Record::Note(CaseNote { author: "cw-2".into(), date, text: format!("io-fault note {n}"), psychotherapy: false })
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let (path, op) = match args.as_slice() {
        [path, op, ..] => (path.as_str(), op.as_str()),
        _ => return Err("usage: io_fault_op VAULT setup|write|rotate|erase [CLIENT]".into()),
    };
    let key = caseward_tests::test_key(31);
    let date = Date::parse("2026-10-05")?;
    if op == "setup" {
        let vault = Vault::create_with_key(path, &key)?;
        let mut synth = caseward::synth::Synth::new(31);
        let ids = vault.enroll_many((0..6).map(|_| synth.intake()).collect::<Vec<_>>())?;
        for id in &ids {
            for n in 0..3 {
                vault.add_record(*id, &note(date, n))?;
            }
            println!("{id}");
        }
        vault.close()?;
        return Ok(());
    }
    let client = || -> Result<ClientId, Box<dyn std::error::Error>> {
        Ok(args.get(2).ok_or("this operation needs a CLIENT")?.parse()?)
    };
    let vault = match Vault::open_with_key(path, &key) {
        Ok(v) => v,
        Err(e) => std::process::exit(if e.kind() == ErrorKind::Storage { 20 } else { 21 }),
    };
    let mut residue_left = false;
    let result = match op {
        "write" => vault.add_record(client()?, &note(date, 99)).map(drop),
        "rotate" => vault.rotate_keys().map(drop),
        "erase" => vault.erase_client(client()?).map(|e| residue_left = !e.residue_cleared),
        other => return Err(format!("unknown operation {other}").into()),
    };
    // Closing may itself meet the injected errors (a checkpoint); its outcome is not the test's.
    let _ = vault.close();
    std::process::exit(match result {
        Ok(()) if residue_left => 2,
        Ok(()) => 0,
        Err(e) if e.kind() == ErrorKind::Storage => 10,
        Err(_) => 11,
    })
}
