//! The SQLite file: connection settings, schema, migrations, and the check that an opened file
//! holds nothing caseward did not put there.
//!
//! Plaintext columns hold no personal data: random ids, a coarse record kind, a coarse month,
//! blind-index digests, and sealed blobs. The settings are chosen for records that must not be
//! lost or leak:
//! * `journal_mode=WAL`, `synchronous=FULL`: a committed write survives a crash or power loss.
//! * `secure_delete=ON`: deleted rows are overwritten with zeros. This alone does not erase:
//!   b-tree balancing leaves stale copies of moved cells in free space, so erasure also rebuilds
//!   the file (see `Vault::erase_client`).
//! * `foreign_keys=ON`: erasing a client cascades to its records and lookups.
//! * `cache_size=-16384` (16 MiB): random ids and blind-index digests spread inserts over whole
//!   indexes; SQLite's default 2 MiB cache turned that into page reads and writes on every
//!   insert. 16 MiB keeps a bulk intake of 100,000 clients well under 64 MiB of memory.
//! * `trusted_schema=OFF` and the schema check on open: a vault file crafted with a
//!   trigger or view cannot run SQL in the application's context.

use std::path::Path;
use std::time::Duration;

use rusqlite::{Connection, OpenFlags};

use crate::error::{Error, Result, StorageProblem};

/// The schema version this crate writes (`PRAGMA user_version`).
pub const SCHEMA_VERSION: u32 = 4;

/// SQLite's application id for caseward files ("CWV1"), so `file` and SQLite tools can tell a
/// vault from another database.
const APPLICATION_ID: i32 = 0x4357_5631;

const SCHEMA_V1: &str = "
CREATE TABLE meta (
    name  TEXT PRIMARY KEY,
    value BLOB NOT NULL
) STRICT;
CREATE TABLE key_envelope (
    id         INTEGER PRIMARY KEY,
    kind       TEXT NOT NULL CHECK (kind IN ('passphrase', 'recovery', 'keystore')),
    recipient  TEXT,
    log_n      INTEGER,
    age_file   BLOB NOT NULL,
    created    TEXT NOT NULL
) STRICT;
CREATE UNIQUE INDEX key_envelope_one_passphrase ON key_envelope (kind) WHERE kind = 'passphrase';
CREATE UNIQUE INDEX key_envelope_by_recipient ON key_envelope (recipient) WHERE recipient IS NOT NULL;
CREATE TABLE client (
    id            BLOB PRIMARY KEY CHECK (length(id) = 16),
    kek_version   INTEGER NOT NULL,
    wrapped_key   BLOB NOT NULL,
    created_month TEXT NOT NULL
) STRICT, WITHOUT ROWID;
CREATE TABLE lookup (
    digest    BLOB NOT NULL CHECK (length(digest) = 32),
    client_id BLOB NOT NULL REFERENCES client (id) ON DELETE CASCADE,
    PRIMARY KEY (digest, client_id)
) STRICT, WITHOUT ROWID;
CREATE INDEX lookup_by_client ON lookup (client_id);
CREATE TABLE record (
    id            INTEGER PRIMARY KEY,
    client_id     BLOB NOT NULL REFERENCES client (id) ON DELETE CASCADE,
    kind          TEXT NOT NULL,
    created_month TEXT NOT NULL,
    body          BLOB NOT NULL
) STRICT;
CREATE INDEX record_by_client ON record (client_id, kind);
";

/// Schema 2 adds the disclosure log (see `audit`). Hashes and ids are checked for length, so a
/// malformed row is refused at write time and reported, not misparsed, at verify time.
const SCHEMA_V2_STEP: &str = "
CREATE TABLE disclosure_log (
    seq       INTEGER PRIMARY KEY CHECK (seq > 0),
    at        INTEGER NOT NULL,
    event     TEXT NOT NULL,
    audience  TEXT NOT NULL,
    client_id BLOB CHECK (client_id IS NULL OR length(client_id) = 16),
    policy    BLOB NOT NULL CHECK (length(policy) = 32),
    output    BLOB NOT NULL CHECK (length(output) = 32),
    detail    BLOB NOT NULL,
    prev      BLOB NOT NULL CHECK (length(prev) = 32),
    hash      BLOB NOT NULL CHECK (length(hash) = 32)
) STRICT;
";

/// Every object the v1 schema has, as (type, name). Anything else in a file is refused.
// Version 3: the privacy-budget ledger of noisy reports, and duplicate-review decisions. Neither
// holds personal data: periods, amounts, random client ids and a verdict.
const SCHEMA_V3_STEP: &str = "
CREATE TABLE privacy_ledger (
    id          INTEGER PRIMARY KEY,
    period      TEXT NOT NULL,
    rho_micros  INTEGER NOT NULL CHECK (rho_micros > 0),
    at          INTEGER NOT NULL
) STRICT;
CREATE INDEX privacy_ledger_by_period ON privacy_ledger (period);
CREATE TABLE match_decision (
    a         BLOB NOT NULL REFERENCES client (id) ON DELETE CASCADE CHECK (length(a) = 16),
    b         BLOB NOT NULL REFERENCES client (id) ON DELETE CASCADE CHECK (length(b) = 16),
    decision  TEXT NOT NULL CHECK (decision IN ('same', 'distinct')),
    at        INTEGER NOT NULL,
    PRIMARY KEY (a, b),
    CHECK (a < b)
) STRICT, WITHOUT ROWID;
";

/// Version 4 (format 2): the authenticated vault state. `client_state` holds each client's MAC
/// over its rows; `state_chunk` holds bucket digests, 256 to a row (64 before root version 2). Neither holds personal data:
/// random ids and keyed digests. The root that ties them together is sealed in `meta.state`.
const SCHEMA_V4_STEP: &str = "
CREATE TABLE client_state (
    client_id BLOB PRIMARY KEY REFERENCES client (id) ON DELETE CASCADE CHECK (length(client_id) = 16),
    mac       BLOB NOT NULL CHECK (length(mac) = 48)
) STRICT, WITHOUT ROWID;
CREATE TABLE state_chunk (
    id   INTEGER PRIMARY KEY CHECK (id >= 0),
    body BLOB NOT NULL
) STRICT;
";

/// How long a write waits for another writer before it fails with `Busy`, unless the app sets
/// another with [`crate::Vault::set_busy_timeout`].
pub(crate) const DEFAULT_BUSY_TIMEOUT: Duration = Duration::from_secs(10);

/// Waits for another connection's write lock, polling about every millisecond, until `timeout`.
///
/// SQLite's own `busy_timeout` backs off to 100 ms between attempts. Against writers that commit
/// back to back (another process's loop, or an app's threads taking turns on one connection) the
/// lock is free only for the microseconds between their transactions, so a waiter that looks
/// ten times a second can starve for the whole timeout: the concurrency test saw a write fail
/// after 10 s while two other writers never waited. Looking every millisecond finds those gaps.
pub(crate) fn set_busy_timeout(conn: &mut Connection, timeout: Duration) -> Result<()> {
    let mut since = std::time::Instant::now();
    conn.busy_handler(Some(move |count: i32| {
        if count == 0 {
            since = std::time::Instant::now();
        }
        if since.elapsed() >= timeout {
            return false;
        }
        // A little spread so that several waiters do not wake in step.
        let spread = u64::from(count.unsigned_abs() % 5) * 100;
        std::thread::sleep(Duration::from_micros(800 + spread));
        true
    }))?;
    Ok(())
}

fn configure(conn: &mut Connection) -> Result<()> {
    set_busy_timeout(conn, DEFAULT_BUSY_TIMEOUT)?;
    // trusted_schema first: nothing in the file's schema may run before it is off.
    conn.execute_batch(
        "PRAGMA trusted_schema = OFF;
         PRAGMA foreign_keys = ON;
         PRAGMA secure_delete = ON;
         PRAGMA synchronous = FULL;
         PRAGMA cache_size = -16384;",
    )?;
    let mode: String = conn.query_row("PRAGMA journal_mode = WAL", [], |r| r.get(0))?;
    if !mode.eq_ignore_ascii_case("wal") {
        return Err(Error::Storage(StorageProblem::Sqlite {
            code: -1,
            description: "the database refused write-ahead logging".into(),
        }));
    }
    Ok(())
}

/// Creates a new vault file. Refuses to touch an existing file.
pub(crate) fn create(path: &Path) -> Result<Connection> {
    if path.exists() {
        return Err(Error::Storage(StorageProblem::AlreadyExists));
    }
    let mut conn = Connection::open_with_flags(
        path,
        OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_CREATE | OpenFlags::SQLITE_OPEN_NO_MUTEX,
    )?;
    configure(&mut conn)?;
    let tx = conn.unchecked_transaction()?;
    tx.execute_batch(SCHEMA_V1)?;
    tx.execute_batch(SCHEMA_V2_STEP)?;
    tx.execute_batch(SCHEMA_V3_STEP)?;
    tx.execute_batch(SCHEMA_V4_STEP)?;
    tx.pragma_update(None, "application_id", APPLICATION_ID)?;
    tx.pragma_update(None, "user_version", SCHEMA_VERSION)?;
    tx.commit()?;
    Ok(conn)
}

/// Opens an existing file and checks that it is a caseward vault (by its application id) before
/// anything else reads it.
fn open_vault_file(path: &Path, mode: OpenFlags) -> Result<Connection> {
    if !path.exists() {
        return Err(Error::not_found("no vault file at that path"));
    }
    let conn = Connection::open_with_flags(path, mode | OpenFlags::SQLITE_OPEN_NO_MUTEX)?;
    // Reading any page first tells "not a database" apart from everything else.
    let app_id: i32 = conn.query_row("PRAGMA application_id", [], |r| r.get(0)).map_err(|e| {
        // A file SQLite cannot read as a database is "not a vault"; a file it cannot open for
        // want of write access (a read-only disk, with a WAL to recover) says so.
        let cant_open = matches!(&e, rusqlite::Error::SqliteFailure(f, _)
            if matches!(f.code, rusqlite::ffi::ErrorCode::CannotOpen | rusqlite::ffi::ErrorCode::ReadOnly));
        match Error::from(e) {
            _ if cant_open => Error::Storage(StorageProblem::ReadOnly),
            Error::Storage(StorageProblem::Sqlite { .. }) => Error::Storage(StorageProblem::NotAVault),
            other => other,
        }
    })?;
    if app_id != APPLICATION_ID {
        return Err(Error::Storage(StorageProblem::NotAVault));
    }
    Ok(conn)
}

/// Opens an existing vault file, migrates it if it is older, and checks its schema.
pub(crate) fn open(path: &Path) -> Result<Connection> {
    let mut conn = open_vault_file(path, OpenFlags::SQLITE_OPEN_READ_WRITE)?;
    configure(&mut conn)?;
    let version: u32 = conn.query_row("PRAGMA user_version", [], |r| r.get(0))?;
    match version {
        0 => return Err(Error::Storage(StorageProblem::NotAVault)),
        v if v > SCHEMA_VERSION => return Err(Error::Storage(StorageProblem::TooNew { found: v })),
        v if v < SCHEMA_VERSION => migrate(&conn)?,
        _ => {}
    }
    check_schema(&conn)?;
    Ok(conn)
}

/// Upgrades an older schema, in one transaction, one step per version. The steps that need keys
/// (re-sealing records into a new layout) run when the vault is unlocked: see `Vault::open`.
fn migrate(conn: &Connection) -> Result<()> {
    // IMMEDIATE, and the version read again under the write lock: two processes opening the same
    // old vault at once must not both run the steps (the second would find the tables there).
    let tx = rusqlite::Transaction::new_unchecked(conn, rusqlite::TransactionBehavior::Immediate)?;
    let from: u32 = tx.query_row("PRAGMA user_version", [], |r| r.get(0))?;
    if from >= SCHEMA_VERSION {
        return Ok(());
    }
    if from < 1 {
        return Err(Error::Storage(StorageProblem::NotAVault));
    }
    if from < 2 {
        tx.execute_batch(SCHEMA_V2_STEP)?;
    }
    if from < 3 {
        tx.execute_batch(SCHEMA_V3_STEP)?;
    }
    if from < 4 {
        tx.execute_batch(SCHEMA_V4_STEP)?;
    }
    tx.pragma_update(None, "user_version", SCHEMA_VERSION)?;
    tx.commit()?;
    Ok(())
}

/// Opens a vault file read-only, for keyless checks (`caseward audit verify`). The schema is
/// checked as on a normal open; an older schema is refused rather than migrated, since nothing
/// may be written.
pub(crate) fn open_read_only(path: &Path) -> Result<Connection> {
    let conn = open_vault_file(path, OpenFlags::SQLITE_OPEN_READ_ONLY)?;
    conn.execute_batch("PRAGMA trusted_schema = OFF;")?;
    let version: u32 = conn.query_row("PRAGMA user_version", [], |r| r.get(0))?;
    if version != SCHEMA_VERSION {
        return Err(Error::Storage(if version > SCHEMA_VERSION {
            StorageProblem::TooNew { found: version }
        } else {
            StorageProblem::Outdated { found: version }
        }));
    }
    check_schema(&conn)?;
    Ok(conn)
}

/// Refuses a file whose schema holds any object caseward does not create: triggers and views
/// could run attacker SQL on our writes, and extra tables are a sign of tampering.
/// The schema a vault must have, exactly: every object's type, name and SQL text, as a fresh
/// in-memory database built from the same statements holds them.
fn expected_schema() -> Result<Vec<(String, String, Option<String>)>> {
    let mem = Connection::open_in_memory()?;
    mem.execute_batch(SCHEMA_V1)?;
    mem.execute_batch(SCHEMA_V2_STEP)?;
    mem.execute_batch(SCHEMA_V3_STEP)?;
    mem.execute_batch(SCHEMA_V4_STEP)?;
    schema_of(&mem)
}

fn schema_of(conn: &Connection) -> Result<Vec<(String, String, Option<String>)>> {
    let mut stmt = conn.prepare("SELECT type, name, sql FROM sqlite_schema ORDER BY type, name")?;
    let rows =
        stmt.query_map([], |r| Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?, r.get::<_, Option<String>>(2)?)))?;
    rows.collect::<rusqlite::Result<Vec<_>>>().map_err(Error::from)
}

/// Refuses a vault whose schema differs in any way from the one caseward creates: an extra
/// trigger, view, table or index, or a table whose definition was altered (a new column with a
/// default expression, a dropped constraint). Nothing the file defines runs before this check,
/// and `trusted_schema = OFF` keeps functions out of schema expressions besides.
pub(crate) fn check_schema(conn: &Connection) -> Result<()> {
    let found = schema_of(conn)?;
    let expected = expected_schema()?;
    for (kind, name, sql) in &found {
        match expected.iter().find(|(k, n, _)| k == kind && n == name) {
            None => {
                return Err(Error::Storage(StorageProblem::UnexpectedSchema { object: format!("{kind} {name}") }));
            }
            Some((_, _, want)) if want != sql => {
                return Err(Error::Storage(StorageProblem::UnexpectedSchema {
                    object: format!("{kind} {name} (its definition was changed)"),
                }));
            }
            Some(_) => {}
        }
    }
    if found.len() != expected.len() {
        return Err(Error::Storage(StorageProblem::UnexpectedSchema {
            object: "a required table or index is missing".into(),
        }));
    }
    Ok(())
}

pub(crate) fn checkpoint_truncate(conn: &Connection) -> Result<()> {
    let (busy, _log, _done): (i64, i64, i64) =
        conn.query_row("PRAGMA wal_checkpoint(TRUNCATE)", [], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))?;
    if busy != 0 {
        return Err(Error::Storage(StorageProblem::CheckpointBlocked));
    }
    Ok(())
}
