//! Issue #4's report speed goal at full scale: a full board report over N synthetic clients
//! (10 records each) against a bare decrypt-and-scan of the same rows, in one process,
//! alternating (scan, report, scan, report, scan, report); then the peak memory of a report
//! alone in a fresh process. Prints JSON lines.
//!
//! `cargo run --release -p caseward --example report_scale -- build 100000 DIR`
//! `cargo run --release -p caseward --example report_scale -- compare 0 DIR`
//! `cargo run --release -p caseward --example report_scale -- report-only 0 DIR`

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    reason = "a benchmark tool"
)]

use std::time::Instant;

use caseward::report::{Period, ReportOptions};
use caseward::{RawKey, RecoveryIdentity, Vault};

#[path = "../benches/common/plain.rs"]
#[allow(dead_code, reason = "shared with the vault benchmarks; only intake is used here")]
mod plain;

fn peak_rss_mib() -> f64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<f64>().ok())
        .map_or(-1.0, |kb| kb / 1024.0)
}

fn scan(vault: &Vault) -> (usize, f64) {
    let t = Instant::now();
    let n = vault
        .scan(|_, r| {
            std::hint::black_box(r);
            Ok(())
        })
        .unwrap();
    (n, t.elapsed().as_secs_f64())
}

fn report(vault: &Vault, board: &RecoveryIdentity) -> (usize, f64) {
    let t = Instant::now();
    let bytes =
        vault.board_report(Period::new(2026, 9).unwrap(), &ReportOptions::default(), &[board.recipient()]).unwrap();
    (bytes.len(), t.elapsed().as_secs_f64())
}

fn main() {
    let mut args = std::env::args().skip(1);
    let mode = args.next().unwrap_or_else(|| "compare".into());
    let clients: usize = args.next().map_or(100_000, |s| s.parse().expect("CLIENTS"));
    let dir = args.next().map_or_else(std::env::temp_dir, std::path::PathBuf::from);
    let path = dir.join("report-scale.cwv");
    let key = RawKey::from_bytes(&[7u8; 32]).unwrap();
    match mode.as_str() {
        "build" => {
            for suffix in ["", "-wal", "-shm"] {
                let _ = std::fs::remove_file(format!("{}{suffix}", path.display()));
            }
            let vault = Vault::create_with_key(&path, &key).unwrap();
            vault.set_provider_id("bench-provider").unwrap();
            let (_, secs) = plain::drive_intake(clients, |batch| {
                vault.enroll_many(batch).unwrap();
            });
            vault.checkpoint().unwrap();
            println!("{{\"built\":{clients},\"intake_s\":{secs:.2}}}");
        }
        "compare" => {
            let vault = Vault::open_with_key(&path, &key).unwrap();
            let board = RecoveryIdentity::generate();
            let (mut scans, mut reports) = (Vec::new(), Vec::new());
            let mut records = 0;
            for _ in 0..3 {
                let (n, s) = scan(&vault);
                records = n;
                scans.push(s);
                reports.push(report(&vault, &board).1);
            }
            let best = |v: &[f64]| v.iter().copied().fold(f64::INFINITY, f64::min);
            println!(
                "{{\"records\":{records},\"scan_s\":{scans:?},\"report_s\":{reports:?},\"ratio_best\":{:.3}}}",
                best(&reports) / best(&scans)
            );
        }
        "report-only" => {
            let vault = Vault::open_with_key(&path, &key).unwrap();
            let board = RecoveryIdentity::generate();
            let (bytes, secs) = report(&vault, &board);
            println!("{{\"report_s\":{secs:.2},\"bundle_bytes\":{bytes},\"peak_rss_mib\":{:.1}}}", peak_rss_mib());
        }
        other => panic!("unknown mode {other}"),
    }
}
