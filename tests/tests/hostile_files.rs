//! Vault files crafted by an attacker (issue #7): each is refused with a clear error before any
//! of its SQL can run in the application, or, where refusing is not needed, neutralized.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing, reason = "tests")]

use std::path::{Path, PathBuf};

use caseward::{ErrorKind, Vault};
use caseward_tests::test_key;

fn raw(path: &Path) -> rusqlite::Connection {
    rusqlite::Connection::open(path).unwrap()
}

/// A vault with three clients, closed, and a copy path for each case.
fn pristine(dir: &Path) -> PathBuf {
    let path = dir.join("pristine.cwv");
    let v = Vault::create_with_key(&path, &test_key(5)).unwrap();
    let mut synth = caseward::synth::Synth::new(8);
    let intakes: Vec<_> = (0..3).map(|_| synth.intake()).collect();
    v.enroll_many(&intakes).unwrap();
    v.close().unwrap();
    path
}

fn copy(dir: &Path, from: &Path, name: &str) -> PathBuf {
    let to = dir.join(format!("{name}.cwv"));
    std::fs::copy(from, &to).unwrap();
    to
}

/// Whether the attacker's SQL ran: every payload below writes to `meta` under this name.
fn payload_ran(path: &Path) -> bool {
    raw(path).query_row("SELECT count(*) FROM meta WHERE name = 'pwned'", [], |r| r.get::<_, i64>(0)).unwrap_or(0) > 0
}

const PAYLOAD: &str = "INSERT OR REPLACE INTO meta (name, value) VALUES ('pwned', x'00')";

#[test]
fn crafted_schemas_are_refused_before_their_sql_runs() {
    let dir = tempfile::tempdir().unwrap();
    let base = pristine(dir.path());
    let cases: Vec<(&str, String, &str)> = vec![
        ("trigger on insert", format!("CREATE TRIGGER t1 AFTER INSERT ON record BEGIN {PAYLOAD}; END;"), "trigger t1"),
        ("trigger on update", format!("CREATE TRIGGER t2 BEFORE UPDATE ON client BEGIN {PAYLOAD}; END;"), "trigger t2"),
        ("trigger on delete", format!("CREATE TRIGGER t3 AFTER DELETE ON lookup BEGIN {PAYLOAD}; END;"), "trigger t3"),
        ("view", "CREATE VIEW v AS SELECT * FROM record".into(), "view v"),
        ("extra table", "CREATE TABLE exfil (x BLOB)".into(), "table exfil"),
        ("extra index", "CREATE INDEX record_by_month ON record (created_month)".into(), "index record_by_month"),
        (
            "altered table",
            "ALTER TABLE record ADD COLUMN note TEXT DEFAULT 'x'".into(),
            "table record (its definition was changed)",
        ),
        ("dropped index", "DROP INDEX lookup_by_client".into(), "missing"),
    ];
    for (what, sql, expect) in cases {
        let path = copy(dir.path(), &base, what.replace(' ', "-").as_str());
        raw(&path).execute_batch(&sql).unwrap();
        let err = Vault::open_with_key(&path, &test_key(5)).unwrap_err();
        assert_eq!(err.kind(), ErrorKind::Storage, "{what}: {err}");
        assert!(err.to_string().contains(expect), "{what}: {err}");
        // Read-only opening (the keyless log verifier) refuses it too.
        let err = caseward::audit::verify_file(&path, None).unwrap_err();
        assert_eq!(err.kind(), ErrorKind::Storage, "{what}: {err}");
        assert!(!payload_ran(&path), "{what}: the attacker's SQL ran");
    }
}

#[test]
fn versions_ids_envelopes_and_broken_files() {
    let dir = tempfile::tempdir().unwrap();
    let base = pristine(dir.path());
    let open = |p: &Path| Vault::open_with_key(p, &test_key(5));

    let newer = copy(dir.path(), &base, "newer");
    raw(&newer).pragma_update(None, "user_version", 99).unwrap();
    let err = open(&newer).unwrap_err();
    assert!(err.kind() == ErrorKind::Storage && err.to_string().contains("newer"), "{err}");

    let zero = copy(dir.path(), &base, "zero");
    raw(&zero).pragma_update(None, "user_version", 0).unwrap();
    assert!(open(&zero).unwrap_err().to_string().contains("not a caseward vault"));

    let app = copy(dir.path(), &base, "app-id");
    raw(&app).pragma_update(None, "application_id", 7).unwrap();
    assert!(open(&app).unwrap_err().to_string().contains("not a caseward vault"));

    // A key envelope from another vault made with the same key: its root key is another
    // vault's, so the sealed canary refuses it before any record is read.
    let other = dir.path().join("other.cwv");
    Vault::create_with_key(&other, &test_key(5)).unwrap().close().unwrap();
    let swapped = copy(dir.path(), &base, "swapped");
    let envelope: Vec<u8> = raw(&other).query_row("SELECT age_file FROM key_envelope", [], |r| r.get(0)).unwrap();
    raw(&swapped).execute("UPDATE key_envelope SET age_file = ?1", [envelope]).unwrap();
    assert_eq!(open(&swapped).unwrap_err().kind(), ErrorKind::WrongKey);

    // Truncated at several points, and bytes that are not SQLite.
    let bytes = std::fs::read(&base).unwrap();
    for cut in [0, 50, 100, 4096, bytes.len() / 2, bytes.len() - 1] {
        let path = dir.path().join(format!("cut-{cut}.cwv"));
        std::fs::write(&path, &bytes[..cut]).unwrap();
        match open(&path) {
            Err(e) => assert!(
                matches!(e.kind(), ErrorKind::Storage | ErrorKind::Integrity | ErrorKind::WrongKey),
                "cut {cut}: {e}"
            ),
            Ok(v) => {
                // SQLite may accept a file cut inside free pages; then every read must still be
                // typed: records come back whole or as an error.
                for c in v.list_clients().unwrap_or_default() {
                    let _ = v.client_record(c);
                }
            }
        }
    }
    let noise = dir.path().join("noise.cwv");
    std::fs::write(&noise, (0..10_000u32).map(|i| (i.wrapping_mul(2_654_435_761) >> 24) as u8).collect::<Vec<_>>())
        .unwrap();
    assert_eq!(open(&noise).unwrap_err().kind(), ErrorKind::Storage);
    // The untouched original still opens: the cases above never wrote to it.
    assert_eq!(open(&base).unwrap().list_clients().unwrap().len(), 3);
}
