//! The file-writing attacker who holds no key.
//!
//! The attacker can edit the vault file with any SQLite tool: delete or relabel rows, move or
//! swap values between rows and clients, put back rows from an older genuine copy of the same
//! vault, drop a section from a record, flip any bit of any cell, or flip raw bytes of the file.
//! After each edit this harness opens the vault with its key and runs every disclosure path: the
//! ICE notice (with and without address consent), a partner referral, views, the client's copy,
//! deadlines, the decrypted record, lookups (found and not found), listings, pseudonyms, the
//! privacy budget, duplicate review, the board report, and log verification.
//!
//! The promise (SECURITY.md, "Integrity"): each result is exactly what the untampered vault
//! gives, or a typed error (`Integrity`; `WrongKey` or `Storage` only when the vault cannot be
//! opened at all). An output that differs without an error fails the test, even if nothing
//! crashed. The counts are printed for SECURITY.md.

use std::collections::BTreeMap;
use std::path::Path;

use caseward::report::bundle::open_bundle;
use caseward::report::{Mechanism, Method, Period, ReportOptions};
use caseward::vault::MatchDecision;
use caseward::{
    AddressConsent, AddressEpisode, Audience, Category, ClientId, ConsentRecord, Date, Domain, Epoch, ErrorKind,
    PartnerId, Policy, RawKey, Record, RecordId, RecoveryIdentity, Vault,
};
use caseward_tests::{canary_intake, test_key};
use rusqlite::types::Value;
use rusqlite::Connection;

const TODAY: &str = "2026-10-15";
const TABLES: [&str; 10] = [
    "meta",
    "key_envelope",
    "client",
    "client_state",
    "lookup",
    "record",
    "disclosure_log",
    "privacy_ledger",
    "match_decision",
    "state_chunk",
];

fn today() -> Date {
    Date::parse(TODAY).unwrap()
}

/// A vault as the attacker finds it, and an older genuine copy of it.
struct Scenario {
    name: &'static str,
    key: RawKey,
    board: RecoveryIdentity,
    pristine: Vec<u8>,
    older: Vec<u8>,
    clients: Vec<ClientId>,
    a_numbers: Vec<String>,
    /// A logged ICE notice (log sequence number and bytes), to confirm against the log.
    notice: Option<(u64, Vec<u8>)>,
    /// An active consent, for a revocation (a write) after the edit.
    consent: Option<(ClientId, RecordId)>,
}

fn file_bytes(vault: Vault, path: &Path) -> Vec<u8> {
    vault.checkpoint().unwrap();
    vault.close().unwrap();
    std::fs::read(path).unwrap()
}

fn no_relief(n: u32) -> caseward::Intake {
    let (mut intake, _) = canary_intake(n);
    for r in &mut intake.records {
        if let Record::Legal(l) = r {
            l.protected_relief = None;
        }
        if let Record::Address(a) = r {
            a.confidential = false;
        }
    }
    intake
}

fn note() -> Record {
    Record::Note(caseward::CaseNote {
        author: "cw-1".into(),
        date: Date::parse("2026-10-14").unwrap(),
        text: "called about the hearing".into(),
        psychotherapy: false,
    })
}

fn casa() -> PartnerId {
    PartnerId::new("casa").unwrap()
}

fn consent_for_casa() -> ConsentRecord {
    ConsentRecord {
        recipient: "partner:casa".into(),
        categories: vec![Category::LegalCase, Category::ObligationCourtNext],
        purpose: "legal referral".into(),
        signed_on: Date::parse("2026-05-06").unwrap(),
        expires_on: Date::parse("2027-12-31").unwrap(),
        revoked_on: None,
    }
}

/// Six clients, one for each gate and path: protected relief (U visa), a VAWA-grantee client,
/// a client who later moved to a confidential shelter, a consent later revoked, an active
/// consent, and a plain client. The older copy predates the shelter move, the revocation, a
/// board report (a ledger row), a duplicate decision and more log entries.
fn main_scenario(dir: &Path) -> Scenario {
    let path = dir.join("main.cwv");
    let key = test_key(41);
    let board = RecoveryIdentity::generate();
    let vault = Vault::create_with_key(&path, &key).unwrap();
    vault.set_provider_id("tamper-test").unwrap();
    vault.generate_pseudonym_key().unwrap();
    let (protected, _) = canary_intake(1);
    let mut vawa = no_relief(2);
    vawa.enrollment.vawa_grantee = true;
    let intakes = vec![protected, vawa, no_relief(3), no_relief(4), no_relief(5), no_relief(6)];
    let a_numbers: Vec<String> = intakes.iter().map(|i| i.identity.a_number.as_str().to_owned()).collect();
    let clients = vault.enroll_many(&intakes).unwrap();
    let revoked = vault.grant_consent(clients[3], &consent_for_casa()).unwrap();
    let active = vault.grant_consent(clients[4], &consent_for_casa()).unwrap();
    let notice = vault.ice_notice_on(clients[4], AddressConsent::GivenForThisNotice, today()).unwrap();
    let notice = Some((vault.log_head().unwrap().unwrap().seq, notice.to_json().to_vec()));
    let noisy = ReportOptions {
        method: Method::Noise { mechanism: Mechanism::parse("gaussian:1/64").unwrap() },
        ..ReportOptions::default()
    };
    vault.board_report("2026-09".parse().unwrap(), &noisy, &[board.recipient()]).unwrap();
    vault.decide_duplicate(clients[0], clients[1], MatchDecision::Distinct).unwrap();
    let older = {
        vault.checkpoint().unwrap();
        std::fs::read(&path).unwrap()
    };
    // After the older copy: a move to a confidential shelter, a revocation, more of everything.
    let Some(Record::Address(first)) = intakes[2].records.iter().find(|r| matches!(r, Record::Address(_))).cloned()
    else {
        panic!("the intake has an address")
    };
    let shelter =
        AddressEpisode { moved_on: first.moved_on.add_days(30), reported_to_ice_on: None, confidential: true, ..first };
    vault.add_record(clients[2], &Record::Address(shelter)).unwrap();
    vault.revoke_consent(clients[3], revoked).unwrap();
    vault.ice_notice_on(clients[5], AddressConsent::Withheld, today()).unwrap();
    vault.board_report("2026-10".parse().unwrap(), &noisy, &[board.recipient()]).unwrap();
    vault.decide_duplicate(clients[2], clients[5], MatchDecision::Distinct).unwrap();
    vault.client_copy(clients[4]).unwrap();
    let consent = Some((clients[4], active));
    Scenario {
        name: "main",
        key,
        board,
        pristine: file_bytes(vault, &path),
        older,
        clients,
        a_numbers,
        notice,
        consent,
    }
}

/// A site whose policy sends ICE no addresses: deleting or replaying the policy row must not
/// bring the default policy (and addresses) back.
fn sanctuary_scenario(dir: &Path) -> Scenario {
    let path = dir.join("sanctuary.cwv");
    let key = test_key(42);
    let board = RecoveryIdentity::generate();
    let vault = Vault::create_with_key(&path, &key).unwrap();
    vault.set_provider_id("tamper-sanctuary").unwrap();
    let intakes = vec![no_relief(11), no_relief(12)];
    let a_numbers: Vec<String> = intakes.iter().map(|i| i.identity.a_number.as_str().to_owned()).collect();
    let clients = vault.enroll_many(&intakes).unwrap();
    vault.ice_notice_on(clients[0], AddressConsent::GivenForThisNotice, today()).unwrap();
    let older = {
        vault.checkpoint().unwrap();
        std::fs::read(&path).unwrap()
    };
    let overlay = Policy::with_overlays_text(
        caseward::policy::DEFAULT_POLICY,
        "policies/default.toml",
        &[(include_str!("../../policies/overlays/no-ice-address.toml"), "no-ice-address.toml")],
    )
    .unwrap();
    vault.install_policy(&overlay).unwrap();
    vault.ice_notice_on(clients[1], AddressConsent::GivenForThisNotice, today()).unwrap();
    Scenario {
        name: "sanctuary",
        key,
        board,
        pristine: file_bytes(vault, &path),
        older,
        clients,
        a_numbers,
        notice: None,
        consent: None,
    }
}

type Observation = Result<String, ErrorKind>;

fn text<T: serde::Serialize>(r: caseward::Result<T>) -> Observation {
    r.map(|v| serde_json::to_string(&v).unwrap()).map_err(|e| e.kind())
}

fn debug<T: std::fmt::Debug>(r: caseward::Result<T>) -> Observation {
    r.map(|v| format!("{v:?}")).map_err(|e| e.kind())
}

fn bytes(r: caseward::Result<Vec<u8>>) -> Observation {
    r.map(|v| String::from_utf8_lossy(&v).into_owned()).map_err(|e| e.kind())
}

/// Every disclosure path, in a fixed order. `Err` when the vault does not open.
fn observe(path: &Path, sc: &Scenario) -> Result<BTreeMap<String, Observation>, ErrorKind> {
    let vault = Vault::open_with_key(path, &sc.key).map_err(|e| e.kind())?;
    let mut out = BTreeMap::new();
    let mut put = |name: String, o: Observation| {
        out.insert(name, o);
    };
    // The log first: every later disclosure appends to it.
    put(
        "verify_log".into(),
        vault.verify_log(None).map_err(|e| e.kind()).map(|s| match s {
            caseward::LogStatus::Intact { entries, .. } => format!("intact {entries}"),
            caseward::LogStatus::Broken { .. } => "broken".into(),
        }),
    );
    put("list_clients".into(), debug(vault.list_clients()));
    put("find_unknown".into(), debug(vault.find_by_a_number("A099-888-777")));
    put("policy".into(), debug(vault.policy_hash()));
    put("provider".into(), debug(vault.provider_id()));
    put("envelopes".into(), debug(vault.envelopes()));
    put("budget".into(), debug(vault.privacy_budget("2026-10".parse::<Period>().unwrap())));
    put("decisions".into(), debug(vault.match_decisions()));
    put("candidates".into(), debug(vault.duplicate_candidates()));
    put("pseudonyms".into(), debug(vault.pseudonyms(Domain::Board, &Epoch::new("2026").unwrap())));
    for (i, (client, a)) in sc.clients.iter().zip(&sc.a_numbers).enumerate() {
        let c = *client;
        put(format!("{i} find"), debug(vault.find_by_a_number(a)));
        put(format!("{i} pseudonym"), debug(vault.pseudonym(Domain::Board, &Epoch::new("2026").unwrap(), a)));
        put(format!("{i} records"), debug(vault.list_records(c)));
        put(format!("{i} record"), text(vault.client_record(c)));
        put(format!("{i} identity"), text(vault.identity(c)));
        put(format!("{i} deadlines"), text(vault.deadlines_on(c, today())));
        for (tag, consent) in [("ice+", AddressConsent::GivenForThisNotice), ("ice-", AddressConsent::Withheld)] {
            put(format!("{i} {tag}"), bytes(vault.ice_notice_on(c, consent, today()).map(|n| n.to_json().to_vec())));
        }
        put(
            format!("{i} referral"),
            bytes(vault.partner_referral_on(c, &casa(), today()).map(|r| r.to_json().to_vec())),
        );
        put(
            format!("{i} view caseworker"),
            bytes(vault.client_view_on(c, &Audience::Caseworker, today()).map(|v| v.to_json().to_vec())),
        );
        put(format!("{i} copy"), bytes(vault.client_copy(c).map(|v| v.to_json().to_vec())));
        put(format!("{i} sealed"), debug(vault.sealed_records(c).map(|r| r.len())));
    }
    let report = vault
        .board_report("2026-09".parse().unwrap(), &ReportOptions::default(), &[sc.board.recipient()])
        .map(|b| {
            let r = open_bundle(&b, &sc.board, None).unwrap().report;
            serde_json::to_string(&(r.tables, r.omitted)).unwrap()
        })
        .map_err(|e| e.kind());
    put("board report".into(), report);
    if let Some((seq, bytes)) = &sc.notice {
        put("confirm notice".into(), debug(vault.confirm_output(*seq, bytes)));
    }
    // Writes last (each run starts from a fresh copy): a write on an edited file must fail the
    // same way a read does, never fold the edit into the state.
    put("add note".into(), debug(vault.add_record(sc.clients[0], &note())));
    if let Some((client, consent)) = sc.consent {
        put("revoke".into(), debug(vault.revoke_consent(client, consent)));
        put(
            "referral after revoke".into(),
            bytes(vault.partner_referral_on(client, &casa(), today()).map(|r| r.to_json().to_vec())),
        );
    }
    put("after writes".into(), text(vault.client_record(sc.clients[0])));
    Ok(out)
}

/// What an edit does to the file.
type Apply = Box<dyn Fn(&Connection) -> rusqlite::Result<()>>;

/// One edit of the file, made with plain SQLite and no key.
struct Edit {
    label: String,
    apply: Apply,
}

fn edit<T>(label: impl Into<String>, apply: impl Fn(&Connection) -> rusqlite::Result<T> + 'static) -> Edit {
    Edit { label: label.into(), apply: Box::new(move |c| apply(c).map(|_| ())) }
}

#[derive(Clone)]
struct Row {
    table: &'static str,
    columns: Vec<String>,
    values: Vec<Value>,
}

impl Row {
    fn filter(&self) -> String {
        self.columns.iter().enumerate().map(|(i, c)| format!("{c} IS ?{}", i + 1)).collect::<Vec<_>>().join(" AND ")
    }
    fn delete(&self, conn: &Connection) -> rusqlite::Result<usize> {
        conn.execute(
            &format!("DELETE FROM {} WHERE {}", self.table, self.filter()),
            rusqlite::params_from_iter(&self.values),
        )
    }
    fn set(&self, conn: &Connection, column: usize, value: Value) -> rusqlite::Result<usize> {
        let n = self.values.len() + 1;
        let mut params = self.values.clone();
        params.push(value);
        let sql = format!("UPDATE {} SET {} = ?{n} WHERE {}", self.table, self.columns[column], self.filter());
        conn.execute(&sql, rusqlite::params_from_iter(&params))
    }
    fn insert_or_replace(&self, conn: &Connection) -> rusqlite::Result<usize> {
        let marks: Vec<String> = (1..=self.values.len()).map(|i| format!("?{i}")).collect();
        let sql = format!(
            "INSERT OR REPLACE INTO {} ({}) VALUES ({})",
            self.table,
            self.columns.join(", "),
            marks.join(", ")
        );
        conn.execute(&sql, rusqlite::params_from_iter(&self.values))
    }
    fn get(&self, column: &str) -> &Value {
        &self.values[self.columns.iter().position(|c| c == column).unwrap()]
    }
}

fn rows(conn: &Connection, table: &'static str) -> Vec<Row> {
    let mut stmt = conn.prepare(&format!("SELECT * FROM {table}")).unwrap();
    let columns: Vec<String> = stmt.column_names().map(String::from).collect();
    let n = columns.len();
    stmt.query_map([], |r| (0..n).map(|i| r.get::<_, Value>(i)).collect::<rusqlite::Result<Vec<_>>>())
        .unwrap()
        .map(|v| Row { table, columns: columns.clone(), values: v.unwrap() })
        .collect()
}

/// Byte positions to flip in a value of `len` bytes. `CW_TAMPER_FULL=1` flips every byte (the
/// figures in SECURITY.md; about 20 minutes); the default, for CI, flips a seeded sample of
/// about one byte in sixteen, always including the first and last bytes, where the headers,
/// lengths and tags lie. Past the first 4 KiB of a value (in this vault, only the sealed
/// release ledger, which holds whole signed reports) the sample thins to one byte in 256: every
/// byte there lies under the same AEAD tag and the same state digest, and a dense sample would
/// add minutes to CI, which must stay under 40.
fn positions(len: usize, rng: &mut fastrand::Rng) -> Vec<usize> {
    if std::env::var_os("CW_TAMPER_FULL").is_some() {
        return (0..len).collect();
    }
    (0..len).filter(|&p| p < 2 || p + 2 >= len || rng.usize(0..if p < 4096 { 16 } else { 256 }) == 0).collect()
}

/// Byte positions to flip in a state chunk: 256 bucket digests of 32 bytes in 8 KiB. A one-in-
/// twelve sample would be 680 edits a chunk, most of them in empty buckets' digests; instead CI
/// flips one seeded byte of every digest, so every bucket's digest is hit, and the first and
/// last bytes. `CW_TAMPER_FULL=1` flips every byte, as for any other value.
fn chunk_positions(len: usize, rng: &mut fastrand::Rng) -> Vec<usize> {
    if std::env::var_os("CW_TAMPER_FULL").is_some() {
        return (0..len).collect();
    }
    let mut out: Vec<usize> = (0..len).step_by(32).map(|d| d + rng.usize(0..32.min(len - d))).collect();
    out.extend([0, len.saturating_sub(1)]);
    out.sort_unstable();
    out.dedup();
    out
}

/// Every edit the attacker makes, from the pristine file and its older genuine copy.
fn edits(pristine: &Path, older: &Path) -> Vec<Edit> {
    let conn = Connection::open(pristine).unwrap();
    let old = Connection::open(older).unwrap();
    let mut out = Vec::new();
    let all: Vec<Row> = TABLES.iter().flat_map(|t| rows(&conn, t)).collect();
    let mut rng = fastrand::Rng::with_seed(7);

    for row in &all {
        let r = row.clone();
        out.push(edit(format!("delete a {} row", row.table), move |c| r.delete(c)));
        for (i, v) in row.values.iter().enumerate() {
            let col = row.columns[i].clone();
            match v {
                Value::Blob(b) => {
                    let picks = if row.table == "state_chunk" {
                        chunk_positions(b.len(), &mut rng)
                    } else {
                        positions(b.len(), &mut rng)
                    };
                    for p in picks {
                        let (r, mut flipped) = (row.clone(), b.clone());
                        flipped[p] ^= 1 << (p % 8);
                        out.push(edit(format!("flip {}.{col} byte {p}", row.table), move |c| {
                            r.set(c, i, Value::Blob(flipped.clone()))
                        }));
                    }
                }
                Value::Text(t) => {
                    for p in positions(t.len(), &mut rng) {
                        let (r, mut flipped) = (row.clone(), t.clone().into_bytes());
                        flipped[p] ^= 1;
                        let flipped = String::from_utf8(flipped).unwrap();
                        out.push(edit(format!("flip {}.{col} char {p}", row.table), move |c| {
                            r.set(c, i, Value::Text(flipped.clone()))
                        }));
                    }
                }
                Value::Integer(n) => {
                    for d in [-1i64, 1] {
                        let r = row.clone();
                        let changed = n + d;
                        out.push(edit(format!("{}.{col} {d:+}", row.table), move |c| {
                            r.set(c, i, Value::Integer(changed))
                        }));
                    }
                }
                _ => {}
            }
        }
    }

    let records: Vec<Row> = all.iter().filter(|r| r.table == "record").cloned().collect();
    let kinds = ["identity", "enrollment", "legal", "note", "address", "consent", "service", "check_in"];
    for (n, row) in records.iter().enumerate() {
        let Value::Text(kind) = row.get("kind").clone() else { panic!("kind is text") };
        for other in kinds.iter().filter(|k| **k != kind).take(3) {
            let r = row.clone();
            let other = (*other).to_owned();
            out.push(edit(format!("relabel a {kind} record as {other}"), move |c| {
                r.set(c, r.columns.iter().position(|x| x == "kind").unwrap(), Value::Text(other.clone()))
            }));
        }
        // Moved to the next record's client, and bodies swapped with the next record.
        let next = &records[(n + 1) % records.len()];
        if next.get("client_id") != row.get("client_id") {
            let (r, to) = (row.clone(), next.get("client_id").clone());
            out.push(edit("move a record to another client", move |c| {
                r.set(c, r.columns.iter().position(|x| x == "client_id").unwrap(), to.clone())
            }));
        }
        let (a, b) = (row.clone(), next.clone());
        out.push(edit("swap two records' bodies", move |c| {
            let body = |r: &Row| r.get("body").clone();
            c.execute("UPDATE record SET body = ?1 WHERE id = ?2", rusqlite::params![body(&b), a.get("id")])?;
            c.execute("UPDATE record SET body = ?1 WHERE id = ?2", rusqlite::params![body(&a), b.get("id")])
        }));
        // Each section dropped in turn, with the count fixed.
        let Value::Blob(body) = row.get("body").clone() else { panic!("body is a blob") };
        let sections = split(&body);
        for drop in 0..sections.len() {
            let mut rebuilt = vec![body[0]];
            rebuilt.extend_from_slice(&((sections.len() - 1) as u16).to_be_bytes());
            for (i, s) in sections.iter().enumerate().filter(|(i, _)| *i != drop) {
                let _ = i;
                rebuilt.extend_from_slice(&(s.len() as u32).to_be_bytes());
                rebuilt.extend_from_slice(s);
            }
            let r = row.clone();
            out.push(edit(format!("drop section {drop} of a record"), move |c| {
                r.set(c, r.columns.iter().position(|x| x == "body").unwrap(), Value::Blob(rebuilt.clone()))
            }));
        }
    }
    // Lookup rows: client ids swapped between two rows.
    let lookups: Vec<Row> = all.iter().filter(|r| r.table == "lookup").cloned().collect();
    for pair in lookups.windows(2) {
        let (a, b) = (pair[0].clone(), pair[1].clone());
        out.push(edit("swap two lookup rows' clients", move |c| {
            c.execute(
                "DELETE FROM lookup WHERE digest IN (?1, ?2)",
                rusqlite::params![a.get("digest"), b.get("digest")],
            )?;
            c.execute(
                "INSERT INTO lookup (digest, client_id) VALUES (?1, ?2), (?3, ?4)",
                rusqlite::params![a.get("digest"), b.get("client_id"), b.get("digest"), a.get("client_id")],
            )
        }));
    }
    // Client rows: wrapped keys and state MACs swapped between two clients.
    let clients: Vec<Row> = all.iter().filter(|r| r.table == "client").cloned().collect();
    for pair in clients.windows(2) {
        for (table, column, key) in [("client", "wrapped_key", "id"), ("client_state", "mac", "client_id")] {
            let (a, b) = (pair[0].get("id").clone(), pair[1].get("id").clone());
            out.push(edit(format!("swap two clients' {table}.{column}"), move |c| {
                let get = |id: &Value| -> rusqlite::Result<Value> {
                    c.query_row(&format!("SELECT {column} FROM {table} WHERE {key} = ?1"), [id], |r| r.get(0))
                };
                let (va, vb) = (get(&a)?, get(&b)?);
                let sql = format!("UPDATE {table} SET {column} = ?1 WHERE {key} = ?2");
                c.execute(&sql, rusqlite::params![vb, a])?;
                c.execute(&sql, rusqlite::params![va, b])
            }));
        }
    }
    // Deleting a whole client with every row that names it.
    for row in &clients {
        let id = row.get("id").clone();
        out.push(edit("delete a client and all its rows", move |c| {
            for (t, k) in
                [("record", "client_id"), ("lookup", "client_id"), ("client_state", "client_id"), ("client", "id")]
            {
                c.execute(&format!("DELETE FROM {t} WHERE {k} = ?1"), [&id])?;
            }
            Ok(())
        }));
    }
    // Replays from the older genuine copy: each row that differs, and each whole table.
    for table in TABLES {
        let now = rows(&conn, table);
        let then = rows(&old, table);
        for r in then.iter().filter(|r| !now.iter().any(|n| n.values == r.values)) {
            let r = r.clone();
            out.push(edit(format!("replay an older {table} row"), move |c| r.insert_or_replace(c)));
        }
        let then2 = then.clone();
        out.push(edit(format!("replay the older {table} table"), move |c| {
            c.execute(&format!("DELETE FROM {table}"), [])?;
            for r in &then2 {
                r.insert_or_replace(c)?;
            }
            Ok(())
        }));
    }
    // Missing state is never replaced by a default: delete every row of each table.
    for table in TABLES {
        out.push(edit(format!("empty the {table} table"), move |c| c.execute(&format!("DELETE FROM {table}"), [])));
    }
    out
}

fn split(body: &[u8]) -> Vec<Vec<u8>> {
    let count = u16::from_be_bytes([body[1], body[2]]) as usize;
    let mut at = 3;
    let mut out = Vec::new();
    for _ in 0..count {
        let len = u32::from_be_bytes(body[at..at + 4].try_into().unwrap()) as usize;
        out.push(body[at + 4..at + 4 + len].to_vec());
        at += 4 + len;
    }
    out
}

fn write_case(path: &Path, bytes: &[u8]) {
    for suffix in ["-wal", "-shm"] {
        let _ = std::fs::remove_file(format!("{}{suffix}", path.display()));
    }
    std::fs::write(path, bytes).unwrap();
}

#[derive(Default, Debug)]
struct Tally {
    cases: usize,
    refused_by_sqlite: usize,
    refused_at_open: usize,
    outputs_same: usize,
    outputs_error: usize,
    failures: Vec<String>,
}

/// Compares one tampered run with the untampered one. `open_ok` are the error kinds accepted
/// when the vault does not open at all.
fn judge(
    tally: &mut Tally,
    label: &str,
    base: &BTreeMap<String, Observation>,
    got: Result<BTreeMap<String, Observation>, ErrorKind>,
    open_ok: &[ErrorKind],
) {
    tally.cases += 1;
    let got = match got {
        Err(kind) if open_ok.contains(&kind) => {
            tally.refused_at_open += 1;
            return;
        }
        Err(kind) => {
            tally.failures.push(format!("{label}: open failed with {kind:?}"));
            return;
        }
        Ok(g) => g,
    };
    for (name, want) in base {
        let have = got.get(name).unwrap();
        if have == want {
            tally.outputs_same += 1;
            continue;
        }
        // A read after a write that failed with an error must show the vault as before the
        // write: the same as the read of the same thing before it, in this run.
        let before = match name.as_str() {
            "after writes" if got.get("add note").is_some_and(Result::is_err) => got.get("0 record"),
            "referral after revoke" if got.get("revoke").is_some_and(Result::is_err) => got.get("4 referral"),
            _ => None,
        };
        if before == Some(have) {
            tally.outputs_same += 1;
            continue;
        }
        match (name.as_str(), have) {
            (_, Err(ErrorKind::Integrity)) => tally.outputs_error += 1,
            // Verification reports a broken log as its answer.
            ("verify_log", Ok(s)) if s == "broken" => tally.outputs_error += 1,
            _ => {
                let short = |o: &Observation| match o {
                    Ok(v) => format!("Ok({} bytes)", v.len()),
                    Err(k) => format!("Err({k:?})"),
                };
                tally.failures.push(format!("{label}: {name} gave {}, untampered {}", short(have), short(want)));
                if std::env::var_os("CW_TAMPER_ONLY").is_some() {
                    eprintln!("{label}: {name}\n  gave {have:?}\n  want {want:?}");
                }
            }
        }
    }
}

/// Judges the edits whose index is `shard.0` modulo `shard.1` (the list is the same in every
/// run: seeded), so that one scenario's edits can run as two tests on two cores.
fn run(sc: &Scenario, dir: &Path, shard: (usize, usize)) -> Tally {
    let pristine = dir.join(format!("{}-pristine.cwv", sc.name));
    let older = dir.join(format!("{}-older.cwv", sc.name));
    write_case(&pristine, &sc.pristine);
    write_case(&older, &sc.older);
    let case = dir.join(format!("{}-case.cwv", sc.name));
    write_case(&case, &sc.pristine);
    let base = observe(&case, sc).unwrap();
    // The untampered answers themselves: the gates hold before any tampering.
    if sc.name == "main" {
        assert_eq!(base["0 ice+"], Err(ErrorKind::Denied), "protected relief: no notice");
        assert_eq!(base["1 ice+"], Err(ErrorKind::Denied), "VAWA grantee: no notice");
        assert!(base["2 ice+"].as_ref().unwrap().contains("client_reports_directly"), "shelter: no address");
        assert_eq!(base["3 referral"], Err(ErrorKind::Denied), "revoked consent: no referral");
        assert!(base["4 referral"].is_ok() && base["4 ice+"].as_ref().unwrap().contains("on_record"));
    } else {
        assert!(base["1 ice+"].as_ref().unwrap().contains("client_reports_directly"), "overlay: no address");
    }
    let mut tally = Tally::default();
    // `CW_TAMPER_ONLY=<text>` runs only the edits whose label contains it (to study one).
    let only = std::env::var("CW_TAMPER_ONLY").ok();
    let wanted = |label: &str| only.as_deref().is_none_or(|o| label.contains(o));
    let mine = |i: usize| i % shard.1 == shard.0;
    for (_, e) in edits(&pristine, &older).into_iter().enumerate().filter(|(i, e)| mine(*i) && wanted(&e.label)) {
        write_case(&case, &sc.pristine);
        {
            let conn = Connection::open(&case).unwrap();
            // The attacker writes whatever they like: constraints are SQLite's, not a lock.
            conn.pragma_update(None, "ignore_check_constraints", true).unwrap();
            conn.pragma_update(None, "foreign_keys", false).unwrap();
            let applied = (e.apply)(&conn);
            conn.close().unwrap();
            if applied.is_err() {
                // SQLite refused this edit (a duplicate key): nothing to judge.
                tally.refused_by_sqlite += 1;
                continue;
            }
        }
        // Opening refuses an edit of the key envelope or canary as a wrong key.
        judge(&mut tally, &e.label, &base, observe(&case, sc), &[ErrorKind::Integrity, ErrorKind::WrongKey]);
    }
    // Raw bytes of the file, anywhere: SQLite may find the file corrupt (Storage).
    let mut rng = fastrand::Rng::with_seed(13);
    let raw = if std::env::var_os("CW_TAMPER_FULL").is_some() { 2000 } else { 150 };
    for n in 0..raw {
        let mut bytes = sc.pristine.clone();
        let p = rng.usize(100..bytes.len());
        bytes[p] ^= 1 << rng.u8(0..8);
        let label = format!("raw file flip {n} at byte {p}");
        if !mine(n) || !wanted(&label) {
            continue;
        }
        write_case(&case, &bytes);
        judge(
            &mut tally,
            &label,
            &base,
            observe(&case, sc),
            &[ErrorKind::Integrity, ErrorKind::WrongKey, ErrorKind::Storage],
        );
    }
    tally
}

/// Runs the harness over one scenario (the edits of `shard`) and fails with every output that
/// differed silently.
fn attack(make: fn(&Path) -> Scenario, shard: (usize, usize)) {
    let dir = tempfile::tempdir().unwrap();
    let sc = make(dir.path());
    let started = std::time::Instant::now();
    let tally = run(&sc, dir.path(), shard);
    eprintln!(
        "tamper {} (edits {} of every {}): {} edits judged ({} refused by SQLite itself); {} refused at open; {} outputs identical, {} typed errors; {} failures; {:.1} s",
        sc.name,
        shard.0,
        shard.1,
        tally.cases,
        tally.refused_by_sqlite,
        tally.refused_at_open,
        tally.outputs_same,
        tally.outputs_error,
        tally.failures.len(),
        started.elapsed().as_secs_f64()
    );
    let shown: Vec<&String> = tally.failures.iter().take(60).collect();
    assert!(tally.failures.is_empty(), "{} outputs differed without an error:\n{shown:#?}", tally.failures.len());
}

/// The main scenario's edits in two halves, one test each, so that the two run on two cores.
#[test]
fn a_file_edited_without_the_key_gives_the_same_outputs_or_a_typed_error() {
    attack(main_scenario, (0, 2));
}

/// The other half of the main scenario's edits.
#[test]
fn a_file_edited_without_the_key_gives_the_same_outputs_or_a_typed_error_second_half() {
    attack(main_scenario, (1, 2));
}

#[test]
fn a_site_policy_cannot_be_edited_away_without_the_key() {
    attack(sanctuary_scenario, (0, 1));
}
