//! SQLCipher 4 on the vault's benchmark scenario: bulk intake, indexed lookup of an identity,
//! full scan, and opening. Prints one JSON line per measurement, like `core/examples/bench_scale.rs`
//! does for the vault and plaintext SQLite, so BENCHMARKS.md can put them side by side.
//!
//! Usage: cargo run --release -- [CLIENTS] [DIR]

use std::time::Instant;

use rusqlite::Connection;

#[path = "../../../core/benches/common/plain.rs"]
mod plain;

const LOOKUPS: usize = 20_000;

fn keyed(path: &std::path::Path, cache: bool) -> Connection {
    let conn = Connection::open(path).unwrap();
    // A raw key skips the KDF, to compare storage cost; the passphrase open is measured apart.
    conn.execute_batch("PRAGMA key = \"x'2DD29CA851E7B56E4697B0E1F08507293D761A05CE4D1B628663F411A8086D99'\";").unwrap();
    if cache {
        conn.execute_batch("PRAGMA cache_size = -65536;").unwrap();
    }
    conn
}

fn main() {
    let mut args = std::env::args().skip(1);
    let clients: usize = args.next().map_or(100_000, |s| s.parse().unwrap());
    let dir = args.next().map_or_else(std::env::temp_dir, std::path::PathBuf::from);
    let version: String = Connection::open_in_memory().unwrap().query_row("PRAGMA cipher_version", [], |r| r.get(0)).unwrap();
    for (label, cache) in [("sqlcipher", false), ("sqlcipher_cache64m", true)] {
        let path = dir.join(format!("baseline-{label}.db"));
        for suffix in ["", "-wal", "-shm"] {
            let _ = std::fs::remove_file(format!("{}{suffix}", path.display()));
        }
        let mut conn = keyed(&path, cache);
        plain::init(&conn);
        let mut counter = 0u64;
        let (a_numbers, intake_secs) = plain::drive_intake(clients, |batch| plain::intake(&mut conn, &mut counter, batch));
        drop(conn);
        let conn = keyed(&path, cache);
        let lookup_secs = plain::drive_lookups(&a_numbers, LOOKUPS, |a| {
            std::hint::black_box(plain::lookup(&conn, a).unwrap());
        });
        let t = Instant::now();
        let n = plain::scan(&conn);
        let scan_secs = t.elapsed().as_secs_f64();
        println!(
            "{{\"store\":\"{label}\",\"sqlcipher\":\"{version}\",\"clients\":{clients},\"records\":{n},\"intake_records_per_s\":{:.0},\"lookups_per_s\":{:.0},\"scan_records_per_s\":{:.0}}}",
            n as f64 / intake_secs,
            LOOKUPS as f64 / lookup_secs,
            n as f64 / scan_secs
        );
    }
    // The cost of opening with SQLCipher's default passphrase KDF (PBKDF2-HMAC-SHA512, 256,000
    // iterations), measured on a small keyed database.
    let path = dir.join("baseline-passphrase.db");
    let _ = std::fs::remove_file(&path);
    {
        let c = Connection::open(&path).unwrap();
        c.execute_batch("PRAGMA key = 'correct horse battery staple'; CREATE TABLE t (x);").unwrap();
    }
    let mut total = 0.0;
    for _ in 0..5 {
        let t = Instant::now();
        let c = Connection::open(&path).unwrap();
        c.execute_batch("PRAGMA key = 'correct horse battery staple';").unwrap();
        let _: i64 = c.query_row("SELECT count(*) FROM t", [], |r| r.get(0)).unwrap();
        total += t.elapsed().as_secs_f64();
    }
    println!("{{\"store\":\"sqlcipher\",\"passphrase_open_ms\":{:.1}}}", total / 5.0 * 1000.0);
}
