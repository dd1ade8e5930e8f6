//! `caseward demo`: a synthetic provider, end to end, on an embedded SQLite file.
//!
//! Every figure printed is computed from the run itself (no canned output).

use std::path::PathBuf;
use std::time::Instant;

use caseward::synth::Synth;
use caseward::{Error, ErrorKind, KdfParams, Passphrase, Record, RecordKind, Vault, VaultOptions};

const PASSPHRASE: &str = "demo passphrase: not for real data";

fn step(title: &str) {
    println!("\n== {title}");
}

pub fn run(dir: Option<PathBuf>, clients: u32) -> Result<(), Error> {
    let started = Instant::now();
    let temp;
    let dir = match dir {
        Some(d) => {
            std::fs::create_dir_all(&d)?;
            d
        }
        None => {
            temp = tempfile::tempdir()?;
            temp.path().to_owned()
        }
    };
    let path = dir.join("provider.cwv");
    if path.exists() {
        return Err(Error::InvalidInput(format!("{} already exists; choose an empty --dir", path.display())));
    }

    step("1. Create a vault");
    let t = Instant::now();
    let vault = Vault::create_with_options(&path, &Passphrase::new(PASSPHRASE), VaultOptions::default())?;
    println!(
        "created {} protected by a passphrase (age scrypt, log_n {}) in {} ms",
        path.display(),
        KdfParams::DEFAULT_LOG_N,
        t.elapsed().as_millis()
    );
    let recovery = caseward::RecoveryIdentity::generate();
    vault.add_recovery_recipient(&recovery.recipient())?;
    println!("added a recovery recipient {} (its identity stays offline with the organisation)", recovery.recipient());

    step("2. Enroll synthetic clients");
    let mut synth = Synth::new(2026);
    let mut intakes = Vec::with_capacity(clients as usize);
    while intakes.len() + 3 <= clients as usize && intakes.len() < 6 {
        intakes.extend(synth.family(3));
    }
    while intakes.len() < clients as usize {
        intakes.push(synth.intake());
    }
    if let Some(first) = intakes.first_mut() {
        first.records.extend(synth.sensitive_records());
    }
    let t = Instant::now();
    let ids = vault.enroll_many(&intakes)?;
    let records: usize = intakes.iter().map(|i| i.records.len() + 2).sum();
    let secs = t.elapsed().as_secs_f64();
    println!(
        "enrolled {} clients ({} records, families included) in one transaction: {:.0} ms, {:.0} records/s",
        ids.len(),
        records,
        secs * 1000.0,
        records as f64 / secs.max(1e-9)
    );

    step("3. What a stolen copy of the file shows");
    vault.checkpoint()?;
    let bytes = std::fs::read(&path)?;
    let names: Vec<&str> = intakes.iter().map(|i| i.identity.name.verbatim_dhs.as_str()).collect();
    let a_numbers: Vec<&str> = intakes.iter().map(|i| i.identity.a_number.as_str()).collect();
    let found_names = count_found(&bytes, &names);
    let found_a = count_found(&bytes, &a_numbers);
    println!("file size {} KiB; searched it for every client's name and A-number:", bytes.len() / 1024);
    println!("  names found: {found_names} of {}   A-numbers found: {found_a} of {}", names.len(), a_numbers.len());
    {
        let raw = rusqlite::Connection::open_with_flags(&path, rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY)
            .map_err(Error::from)?;
        let (id, kind, month, body): (i64, String, String, Vec<u8>) = raw
            .query_row("SELECT id, kind, created_month, body FROM record ORDER BY id LIMIT 1", [], |r| {
                Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?))
            })
            .map_err(Error::from)?;
        println!("  a record row in plaintext SQL: id={id} kind={kind} month={month}");
        println!("  body: {} bytes, starting {} ...", body.len(), hex(body.get(..40).unwrap_or(&body)));
    }

    step("4. Find a client by A-number (blind index: nothing is decrypted to search)");
    let pick = intakes.get(7).or(intakes.first()).ok_or_else(|| Error::InvalidInput("no clients".into()))?;
    let canonical = pick.identity.a_number.clone();
    let written = format!("A# {}", canonical.display().trim_start_matches('A').replace('-', " "));
    let t = Instant::now();
    let found = vault.find_by_a_number(&written)?.ok_or_else(|| Error::InvalidInput("lookup failed".into()))?;
    let micros = t.elapsed().as_micros();
    println!("find_by_a_number({written:?}) -> client {found} in {micros} µs");
    let record = vault.client_record(found)?;
    println!("the caseworker's view of that client ({} records):", record.records.len());
    print_caseworker_view(&record);
    for bad in ["A0123456789", "IOE0912345678", "A000000000", "912-70-1234"] {
        match vault.find_by_a_number(bad) {
            Err(e) => println!("  find_by_a_number({bad:?}) refused: {e}"),
            Ok(r) => println!("  find_by_a_number({bad:?}) -> {r:?}"),
        }
    }

    step("5. A month of casework, and what each audience sees");
    crate::audiences::show(&vault, &ids, &intakes)?;

    step("6. Rotate the key-encryption key");
    let t = Instant::now();
    let version = vault.rotate_keys()?;
    println!(
        "rewrapped {} client keys under KEK version {version} in {} ms (records not re-encrypted)",
        ids.len(),
        t.elapsed().as_millis()
    );
    let again = vault.find_by_a_number(canonical.as_str())?;
    println!("lookup after rotation -> {}", again.map(|c| c.to_string()).unwrap_or_else(|| "none".into()));

    step("7. Erase a client (crypto-shredding)");
    let victim = ids.last().copied().ok_or_else(|| Error::InvalidInput("no clients".into()))?;
    let victim_a =
        intakes.last().map(|i| i.identity.a_number.clone()).ok_or_else(|| Error::InvalidInput("no clients".into()))?;
    let erasure = vault.erase_client(victim)?;
    println!(
        "erased client {victim}: {} records deleted with its key; file rebuilt and WAL truncated: {}",
        erasure.records_deleted, erasure.residue_cleared
    );
    println!("lookup of its A-number now -> {:?}", vault.find_by_a_number(victim_a.as_str())?);
    match vault.client_record(victim) {
        Err(e) => println!("reading it now -> {e}"),
        Ok(_) => println!("reading it now -> still readable (this is a bug)"),
    }
    vault.close()?;

    step("8. Open with a wrong passphrase, then the right one and the recovery identity");
    let t = Instant::now();
    match Vault::open(&path, &Passphrase::new("demo passphrase: not for real dat")) {
        Err(e) if e.kind() == ErrorKind::WrongKey => {
            println!("wrong passphrase -> {e} ({} ms, nothing was read)", t.elapsed().as_millis())
        }
        Err(e) => return Err(e),
        Ok(_) => println!("wrong passphrase opened the vault (this is a bug)"),
    }
    let t = Instant::now();
    let vault = Vault::open(&path, &Passphrase::new(PASSPHRASE))?;
    println!("right passphrase -> opened in {} ms, {} clients", t.elapsed().as_millis(), vault.list_clients()?.len());
    vault.close()?;
    let vault = Vault::open_with_identity(&path, &recovery)?;
    println!("recovery identity -> opened, KEK version {}", vault.kek_version()?);

    step("9. The board report: suppressed tables, signed, encrypted to a fresh board identity");
    let board = caseward::RecoveryIdentity::generate();
    vault.set_provider_id("demo-provider")?;
    let period: caseward::Period = "2026-09".parse()?;
    let bundle = vault.board_report(period, &caseward::ReportOptions::default(), &[board.recipient()])?;
    let mut registry = caseward::report::Registry::default();
    registry.providers.insert("demo-provider".into(), vault.signing_public_key()?);
    let opened = caseward::report::bundle::open_bundle(&bundle, &board, Some(&registry))?;
    let tables = &opened.report.tables;
    let cells: usize = tables.iter().map(|t| t.cells.iter().map(Vec::len).sum::<usize>()).sum();
    let hidden: usize = tables
        .iter()
        .map(|t| t.cells.iter().flatten().filter(|c| matches!(c, caseward::Cell::Suppressed)).count())
        .sum();
    println!(
        "report for {period}: {} tables, {cells} cells, {hidden} suppressed (k = 11, with complements); {} bytes of age file",
        tables.len(),
        bundle.len()
    );
    println!(
        "opened as the board would: signature verified against the registry; log head {}",
        opened.report.log_head.clone().unwrap_or_default()
    );
    println!("(a few hundred clients over five sites leave most cells under 11: they are withheld, never rounded)");
    let published =
        |t: &&caseward::Table| t.cells.iter().flatten().filter(|c| matches!(c, caseward::Cell::Count(_))).count();
    if let Some(t) = tables.iter().filter(|t| t.row_totals).max_by_key(published) {
        println!("[{}] {} ({}):", t.id, t.title, t.covers);
        let mut head = vec![String::new()];
        head.extend(t.columns.iter().cloned());
        head.push("Total".into());
        println!("  {}", head.iter().map(|h| format!("{h:>16}")).collect::<String>());
        for (i, row) in t.cells.iter().enumerate() {
            let label = t.rows.get(i).cloned().unwrap_or_else(|| "Total".into());
            let cells: String = row.iter().map(|c| format!("{:>16}", c.to_string())).collect();
            println!("  {label:>16}{cells}");
        }
    }
    step("10. Verify the disclosure log");
    let status = vault.verify_log(None)?;
    println!("every output above was logged in the transaction that built it: {status}");
    if let Some(head) = opened.report.log_head {
        let witnessed = vault.verify_log(Some(&head.parse()?))?;
        println!("checked against the head the board received: {witnessed}");
    }
    vault.close()?;

    println!("\ndemo finished in {:.1} s", started.elapsed().as_secs_f64());
    Ok(())
}

fn print_caseworker_view(record: &caseward::ClientRecord) {
    if let Some(i) = record.identity() {
        println!("  name (as on DHS paperwork): {}", i.name.verbatim_dhs);
        println!("  A-number: {} (entered as {:?})", i.a_number.display(), i.a_number_as_entered);
        println!("  languages: {}  interpreter: {}", i.languages.join(", "), i.interpreter_needed);
    }
    if let Some(e) = record.enrollment() {
        println!("  site: {}  enrolled: {}", e.site, e.enrolled_on);
    }
    for r in record.of_kind(RecordKind::CheckIn).chain(record.of_kind(RecordKind::Hearing)) {
        match &r.record {
            Record::CheckIn(c) => println!("  ICE check-in: {} at {} ({:?})", c.date, c.office, c.modality),
            Record::Hearing(h) => println!("  court hearing: {} at {}", h.date, h.court),
            _ => {}
        }
    }
}

/// How many of `needles` occur in `haystack` (one Aho-Corasick pass).
fn count_found(haystack: &[u8], needles: &[&str]) -> usize {
    let Ok(ac) = aho_corasick::AhoCorasick::new(needles) else {
        return 0;
    };
    let mut seen = vec![false; needles.len()];
    for m in ac.find_overlapping_iter(haystack) {
        if let Some(s) = seen.get_mut(m.pattern().as_usize()) {
            *s = true;
        }
    }
    seen.into_iter().filter(|s| *s).count()
}

fn hex(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02x}")).collect()
}
