//! Criterion benchmarks of the vault against plaintext SQLite with the same schema, pragmas,
//! serialized records and transaction pattern (`common/plain.rs`). Figures and commands are in
//! BENCHMARKS.md; the full-scale comparison with SQLCipher is `baselines/run-scale.sh`.
//!
//! `cargo bench -p caseward --bench vault`

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing, reason = "a benchmark")]

use std::time::Duration;

use caseward::seal::{Aad, Algorithm, NonceSource, SealingKey};
use caseward::synth::Synth;
use caseward::{KdfParams, Passphrase, RawKey, Vault, VaultOptions};
use criterion::{criterion_group, criterion_main, BatchSize, Criterion, Throughput};

#[path = "common/plain.rs"]
#[allow(dead_code, reason = "drive_lookups times itself; criterion does its own timing here")]
mod plain;

const CLIENTS: usize = 10_000;
const BATCH: usize = 1_000; // clients per intake transaction, as in common/plain.rs

fn key() -> RawKey {
    RawKey::from_bytes(&[9u8; 32]).unwrap()
}

/// A vault and a plaintext database, each holding the same 10,000 clients.
fn fixtures(dir: &std::path::Path) -> (Vault, rusqlite::Connection, Vec<String>) {
    let vault = Vault::create_with_key(dir.join("v.cwv"), &key()).unwrap();
    let mut conn = rusqlite::Connection::open(dir.join("p.db")).unwrap();
    plain::init(&conn);
    let mut counter = 0;
    let (a_numbers, _) = plain::drive_intake(CLIENTS, |batch| {
        vault.enroll_many(batch).unwrap();
        plain::intake(&mut conn, &mut counter, batch);
    });
    (vault, conn, a_numbers)
}

fn intake(c: &mut Criterion) {
    let mut g = c.benchmark_group("intake_1000_clients_into_10000");
    g.sample_size(10).measurement_time(Duration::from_secs(20)).throughput(Throughput::Elements((BATCH * 10) as u64));
    let dir = tempfile::tempdir().unwrap();
    let (vault, mut conn, _) = fixtures(dir.path());
    let mut synth = Synth::new(99);
    synth.skip_numbers(200_000);
    let mut counter = 1_000_000;
    g.bench_function("vault", |b| {
        b.iter_batched(
            || (0..BATCH).map(|_| synth.intake()).collect::<Vec<_>>(),
            |batch| vault.enroll_many(&batch).unwrap(),
            BatchSize::PerIteration,
        )
    });
    let mut synth = Synth::new(99);
    synth.skip_numbers(200_000);
    g.bench_function("plaintext", |b| {
        b.iter_batched(
            || (0..BATCH).map(|_| synth.intake()).collect::<Vec<_>>(),
            |batch| plain::intake(&mut conn, &mut counter, &batch),
            BatchSize::PerIteration,
        )
    });
    g.finish();
}

fn lookup_and_scan(c: &mut Criterion) {
    let dir = tempfile::tempdir().unwrap();
    let (vault, conn, a_numbers) = fixtures(dir.path());
    let mut g = c.benchmark_group("lookup_identity_by_a_number");
    let mut state = 12345u64;
    g.bench_function("vault", |b| {
        b.iter(|| {
            let i = plain::next_index(&mut state, a_numbers.len());
            let id = vault.find_by_a_number(&a_numbers[i]).unwrap().unwrap();
            vault.identity(id).unwrap()
        })
    });
    g.bench_function("plaintext", |b| {
        b.iter(|| {
            let i = plain::next_index(&mut state, a_numbers.len());
            plain::lookup(&conn, &a_numbers[i]).unwrap()
        })
    });
    g.finish();

    let mut g = c.benchmark_group("scan_100000_records");
    g.sample_size(10).throughput(Throughput::Elements((CLIENTS * 10) as u64));
    g.bench_function("vault", |b| {
        b.iter(|| {
            vault
                .scan(|_, r| {
                    std::hint::black_box(r);
                    Ok(())
                })
                .unwrap()
        })
    });
    g.bench_function("plaintext", |b| b.iter(|| plain::scan(&conn)));
    g.finish();
}

fn open(c: &mut Criterion) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("o.cwv");
    Vault::create_with_key(&path, &key()).unwrap().close().unwrap();
    let pass = Passphrase::new("correct horse battery staple");
    let vault = Vault::open_with_key(&path, &key()).unwrap();
    vault.add_passphrase(&pass, KdfParams::default()).unwrap();
    vault.close().unwrap();
    let mut g = c.benchmark_group("open");
    g.bench_function("raw_key", |b| b.iter(|| Vault::open_with_key(&path, &key()).unwrap()));
    g.sample_size(10);
    g.bench_function("passphrase_log_n_16", |b| b.iter(|| Vault::open(&path, &pass).unwrap()));
    g.finish();
    let _ = VaultOptions::default();
}

fn seal(c: &mut Criterion) {
    let mut g = c.benchmark_group("seal_open_256_bytes");
    g.throughput(Throughput::Bytes(256));
    for alg in [Algorithm::Aes256Gcm, Algorithm::ChaCha20Poly1305] {
        let k = SealingKey::derive(&[1u8; 32], alg, 0).unwrap();
        let aad = Aad {
            vault: &[0; 16],
            table: "record",
            row: b"00000001",
            client: &[1; 16],
            category: "contact.phone",
            schema: 1,
        };
        let mut nonces = NonceSource::new();
        g.bench_function(alg.name(), |b| {
            b.iter(|| {
                let s = k.seal(&mut nonces, &aad, &[7u8; 256]).unwrap();
                k.open(&aad, &s).unwrap()
            })
        });
    }
    g.finish();
}

criterion_group!(benches, seal, open, lookup_and_scan, intake);
criterion_main!(benches);
