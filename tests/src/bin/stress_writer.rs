//! Child process for the concurrency test: N one-record transactions on one client of a shared
//! vault (a service event whose minutes field is the write's number), and a logged client copy
//! every 100 writes. Prints the longest single write it saw, for the figures in SECURITY.md.
//!
//! Usage: stress_writer VAULT CLIENT_ID N

use std::time::{Duration, Instant};

use caseward::{Date, Record, ServiceEvent, ServiceKind, Vault};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let path = args.next().ok_or("usage: stress_writer VAULT CLIENT_ID N")?;
    let client: caseward::ClientId = args.next().ok_or("client id")?.parse()?;
    let n: u32 = args.next().ok_or("N")?.parse()?;
    let vault = Vault::open_with_key(&path, &caseward_tests::test_key(77)).map_err(|e| format!("open: {e}"))?;
    let date = Date::parse("2026-10-01")?;
    let mut longest = Duration::ZERO;
    for i in 0..n {
        let started = Instant::now();
        vault
            .add_record(client, &Record::Service(ServiceEvent { date, kind: ServiceKind::Food, minutes: Some(i) }))
            .map_err(|e| format!("write {i}: {e} after {:?}", started.elapsed()))?;
        longest = longest.max(started.elapsed());
        if i % 100 == 99 {
            vault.client_copy(client).map_err(|e| format!("logged copy after write {i}: {e}"))?;
        }
    }
    vault.close()?;
    println!("{n} writes, longest {} ms", longest.as_millis());
    Ok(())
}
