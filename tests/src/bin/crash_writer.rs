//! Child process for the crash-safety test: enrolls batches of synthetic clients into a vault,
//! printing each committed batch's client ids, until it is killed.
//!
//! Usage: crash_writer VAULT TRIAL

use std::io::Write;

use caseward::{AlienNumber, Vault};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let path = args.next().ok_or("usage: crash_writer VAULT TRIAL")?;
    let trial: u32 = args.next().ok_or("usage: crash_writer VAULT TRIAL")?.parse()?;
    let vault = Vault::open_with_key(&path, &caseward_tests::test_key(42))?;
    let mut synth = caseward::synth::Synth::new(u64::from(trial));
    let mut out = std::io::stdout().lock();
    writeln!(out, "ready")?;
    out.flush()?;
    for batch in 0u32.. {
        let intakes: Vec<_> = (0..25u32)
            .map(|i| {
                let mut intake = synth.intake();
                // Unique across trials: A3 + trial (3 digits) + sequence (5 digits).
                let n = batch * 25 + i;
                let text = format!("A3{:03}{:05}", trial % 1000, n % 100_000);
                intake.identity.a_number = AlienNumber::parse(&text).expect("valid");
                intake.identity.a_number_as_entered = text;
                intake
            })
            .collect();
        let ids = vault.enroll_many(&intakes)?;
        let line: Vec<String> = ids.iter().map(ToString::to_string).collect();
        writeln!(out, "{}", line.join(" "))?;
        out.flush()?;
    }
    Ok(())
}
