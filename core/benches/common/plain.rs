//! The plaintext baseline: the same schema, the same serialized records and the same
//! transaction pattern as the vault, with nothing sealed. Shared (by `#[path]`) between the
//! criterion benchmark in the workspace and the SQLCipher baseline crate in `baselines/`, so
//! both compare against exactly this code.

use caseward::synth::Synth;
use caseward::{Intake, Record};
use rusqlite::{params, Connection, OptionalExtension};

pub const SCHEMA: &str = "
CREATE TABLE client (id BLOB PRIMARY KEY, kek_version INTEGER NOT NULL, wrapped_key BLOB NOT NULL,
                     created_month TEXT NOT NULL) STRICT, WITHOUT ROWID;
CREATE TABLE lookup (digest BLOB NOT NULL, client_id BLOB NOT NULL REFERENCES client (id) ON DELETE CASCADE,
                     PRIMARY KEY (digest, client_id)) STRICT, WITHOUT ROWID;
CREATE INDEX lookup_by_client ON lookup (client_id);
CREATE TABLE record (id INTEGER PRIMARY KEY, client_id BLOB NOT NULL REFERENCES client (id) ON DELETE CASCADE,
                     kind TEXT NOT NULL, created_month TEXT NOT NULL, body BLOB NOT NULL) STRICT;
CREATE INDEX record_by_client ON record (client_id, kind);
";

/// Applies the vault's connection settings and schema to `conn`.
pub fn init(conn: &Connection) {
    conn.execute_batch(
        "PRAGMA foreign_keys = ON; PRAGMA secure_delete = ON; PRAGMA synchronous = FULL; PRAGMA journal_mode = WAL;
         PRAGMA cache_size = -16384;",
    )
    .unwrap();
    conn.execute_batch(SCHEMA).unwrap();
}

/// Inserts `intakes` in one transaction, as `Vault::enroll_many` does: a client row, a lookup
/// row keyed by the plaintext A-number, and one row per record holding its JSON.
pub fn intake(conn: &mut Connection, counter: &mut u64, intakes: &[Intake]) {
    let tx = conn.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate).unwrap();
    for intake in intakes {
        // Random 16-byte ids, as the vault uses (a sequential id would make the baseline's
        // index inserts cheaper for a reason that has nothing to do with encryption).
        *counter += 1;
        let mut id = [0u8; 16];
        id[..8].copy_from_slice(&splitmix(*counter).to_le_bytes());
        id[8..].copy_from_slice(&splitmix(!*counter).to_le_bytes());
        tx.prepare_cached("SELECT client_id FROM lookup WHERE digest = ?1")
            .unwrap()
            .query_row([intake.identity.a_number.as_str().as_bytes()], |r| r.get::<_, Vec<u8>>(0))
            .optional()
            .unwrap();
        tx.prepare_cached("INSERT INTO client (id, kek_version, wrapped_key, created_month) VALUES (?1, 0, ?2, ?3)")
            .unwrap()
            .execute(params![&id[..], &[0u8; 0][..], intake.enrollment.enrolled_on.month_label()])
            .unwrap();
        tx.prepare_cached("INSERT INTO lookup (digest, client_id) VALUES (?1, ?2)")
            .unwrap()
            .execute(params![intake.identity.a_number.as_str().as_bytes(), &id[..]])
            .unwrap();
        let records = [Record::Identity(intake.identity.clone()), Record::Enrollment(intake.enrollment.clone())]
            .into_iter()
            .chain(intake.records.iter().cloned());
        for record in records {
            let next: i64 = tx
                .prepare_cached("SELECT coalesce(max(id), 0) + 1 FROM record")
                .unwrap()
                .query_row([], |r| r.get(0))
                .unwrap();
            let body = serde_json::to_vec(&record).unwrap();
            tx.prepare_cached(
                "INSERT INTO record (id, client_id, kind, created_month, body) VALUES (?1, ?2, ?3, ?4, ?5)",
            )
            .unwrap()
            .execute(params![next, &id[..], record.kind().as_str(), "2026-11", body])
            .unwrap();
        }
    }
    tx.commit().unwrap();
}

/// The benchmarks' lookup order: a fixed linear congruential sequence of indexes below `n`, so
/// every store is asked for the same clients in the same order.
pub fn next_index(state: &mut u64, n: usize) -> usize {
    *state = state.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
    (*state >> 33) as usize % n
}

fn splitmix(x: u64) -> u64 {
    let mut z = x.wrapping_add(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// Finds a client by A-number through the index and parses its identity record.
pub fn lookup(conn: &Connection, a_number: &str) -> Option<Record> {
    let id: Vec<u8> = conn
        .prepare_cached("SELECT client_id FROM lookup WHERE digest = ?1")
        .unwrap()
        .query_row([a_number.as_bytes()], |r| r.get(0))
        .optional()
        .unwrap()?;
    let body: Vec<u8> = conn
        .prepare_cached("SELECT body FROM record WHERE client_id = ?1 AND kind = 'identity'")
        .unwrap()
        .query_row([&id], |r| r.get(0))
        .unwrap();
    Some(serde_json::from_slice(&body).unwrap())
}

/// Reads and parses every record, in the vault's scan order.
pub fn scan(conn: &Connection) -> usize {
    let mut stmt = conn
        .prepare("SELECT r.client_id, r.id, r.kind, r.body FROM record r JOIN client c ON c.id = r.client_id ORDER BY r.client_id, r.id")
        .unwrap();
    let mut rows = stmt.query([]).unwrap();
    let mut n = 0;
    while let Some(row) = rows.next().unwrap() {
        let body: Vec<u8> = row.get(3).unwrap();
        let record: Record = serde_json::from_slice(&body).unwrap();
        std::hint::black_box(record);
        n += 1;
    }
    n
}

/// Feeds `clients` synthetic clients (`Synth::new(1)`) to `intake` in batches of 1,000, timing
/// only `intake`. Returns the clients' A-numbers and the seconds spent inside `intake`.
pub fn drive_intake(clients: usize, mut intake: impl FnMut(&[Intake])) -> (Vec<String>, f64) {
    let mut synth = Synth::new(1);
    let mut a_numbers = Vec::with_capacity(clients);
    let mut secs = 0.0;
    for _ in 0..clients / 1000 {
        let batch: Vec<_> = (0..1000).map(|_| synth.intake()).collect();
        a_numbers.extend(batch.iter().map(|i| i.identity.a_number.as_str().to_owned()));
        let t = std::time::Instant::now();
        intake(&batch);
        secs += t.elapsed().as_secs_f64();
    }
    (a_numbers, secs)
}

/// Times `n` lookups of `a_numbers` in the shared order; returns seconds.
pub fn drive_lookups(a_numbers: &[String], n: usize, mut lookup: impl FnMut(&str)) -> f64 {
    let mut state = 12345u64;
    let t = std::time::Instant::now();
    for _ in 0..n {
        lookup(&a_numbers[next_index(&mut state, a_numbers.len())]);
    }
    t.elapsed().as_secs_f64()
}
