//! The vault's benchmark scenario at full scale, for BENCHMARKS.md: bulk intake of N synthetic
//! clients with 10 records each (in transactions of 1,000 clients), 20,000 random A-number
//! lookups that decrypt the identity, and a full decrypt-scan; then opening. Prints one JSON line.
//!
//! `cargo run --release -p caseward --example bench_scale -- vault 100000 DIR`
//! `cargo run --release -p caseward --example bench_scale -- plain 100000 DIR`
//! `cargo run --release -p caseward --example bench_scale -- passphrase-open 0 DIR`
//! Each store runs in its own process, so the peak memory (VmHWM) is that store's alone.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    reason = "a benchmark tool"
)]

use std::time::Instant;

use caseward::{KdfParams, Passphrase, RawKey, Vault, VaultOptions};

#[path = "../benches/common/plain.rs"]
mod plain;

const LOOKUPS: usize = 20_000;

fn peak_rss_mib() -> f64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<f64>().ok())
        .map_or(-1.0, |kb| kb / 1024.0)
}

fn main() {
    let mut args = std::env::args().skip(1);
    let store = args.next().unwrap_or_else(|| "vault".into());
    let clients: usize = args.next().map_or(100_000, |s| s.parse().expect("CLIENTS"));
    let dir = args.next().map_or_else(std::env::temp_dir, std::path::PathBuf::from);
    let path = dir.join(format!("bench-{store}.db"));
    for suffix in ["", "-wal", "-shm"] {
        let _ = std::fs::remove_file(format!("{}{suffix}", path.display()));
    }
    let (records, intake_secs, lookup_secs, scan_secs, open_ms);
    match store.as_str() {
        "vault" => {
            let key = RawKey::from_bytes(&[9u8; 32]).unwrap();
            // CW_BENCH_ALG=chacha20-poly1305 measures the other AEAD.
            let algorithm = std::env::var("CW_BENCH_ALG")
                .ok()
                .and_then(|a| caseward::seal::Algorithm::from_name(&a))
                .unwrap_or_default();
            let options = VaultOptions { algorithm, ..Default::default() };
            let vault = Vault::create_with_key_and_options(&path, &key, options).unwrap();
            let (a_numbers, secs) = plain::drive_intake(clients, |batch| {
                vault.enroll_many(batch).unwrap();
            });
            intake_secs = secs;
            vault.close().unwrap();
            let t = Instant::now();
            let vault = Vault::open_with_key(&path, &key).unwrap();
            open_ms = t.elapsed().as_secs_f64() * 1000.0;
            lookup_secs = plain::drive_lookups(&a_numbers, LOOKUPS, |a| {
                let id = vault.find_by_a_number(a).unwrap().unwrap();
                std::hint::black_box(vault.identity(id).unwrap());
            });
            let t = Instant::now();
            records = vault
                .scan(|_, r| {
                    std::hint::black_box(r);
                    Ok(())
                })
                .unwrap();
            scan_secs = t.elapsed().as_secs_f64();
        }
        "plain" => {
            let mut conn = rusqlite::Connection::open(&path).unwrap();
            plain::init(&conn);
            let mut counter = 0;
            let (a_numbers, secs) = plain::drive_intake(clients, |batch| plain::intake(&mut conn, &mut counter, batch));
            intake_secs = secs;
            drop(conn);
            let t = Instant::now();
            let conn = rusqlite::Connection::open(&path).unwrap();
            conn.execute_batch("PRAGMA foreign_keys = ON; PRAGMA cache_size = -16384;").unwrap();
            open_ms = t.elapsed().as_secs_f64() * 1000.0;
            lookup_secs = plain::drive_lookups(&a_numbers, LOOKUPS, |a| {
                std::hint::black_box(plain::lookup(&conn, a).unwrap());
            });
            let t = Instant::now();
            records = plain::scan(&conn);
            scan_secs = t.elapsed().as_secs_f64();
        }
        "passphrase-open" => {
            // Opening cost at the default scrypt work factor, and its peak memory.
            let pass = Passphrase::new("correct horse battery staple");
            let options = VaultOptions { kdf: KdfParams::default(), ..Default::default() };
            Vault::create_with_options(&path, &pass, options).unwrap().close().unwrap();
            let mut total = 0.0;
            for _ in 0..5 {
                let t = Instant::now();
                Vault::open(&path, &pass).unwrap().close().unwrap();
                total += t.elapsed().as_secs_f64();
            }
            println!(
                "{{\"store\":\"vault\",\"log_n\":{},\"passphrase_open_ms\":{:.1},\"peak_rss_mib\":{:.1}}}",
                KdfParams::DEFAULT_LOG_N,
                total / 5.0 * 1000.0,
                peak_rss_mib()
            );
            return;
        }
        other => panic!("unknown store {other}: use vault, plain or passphrase-open"),
    }
    let size = std::fs::metadata(&path).map(|m| m.len()).unwrap_or(0) as f64 / 1_048_576.0;
    let store = match std::env::var("CW_BENCH_ALG") {
        Ok(a) if store == "vault" => format!("vault/{a}"),
        _ => store,
    };
    println!(
        "{{\"store\":\"{store}\",\"clients\":{clients},\"records\":{records},\"intake_records_per_s\":{:.0},\"lookups_per_s\":{:.0},\"scan_records_per_s\":{:.0},\"open_ms\":{:.2},\"file_mib\":{size:.0},\"peak_rss_mib\":{:.1}}}",
        records as f64 / intake_secs,
        LOOKUPS as f64 / lookup_secs,
        records as f64 / scan_secs,
        open_ms,
        peak_rss_mib()
    );
}
