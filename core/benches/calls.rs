//! The Rust side of the binding-overhead comparison (issue #5): one small call,
//! `find_by_a_number`, on a 1,000-client vault, exactly as `bindings/python/bench_call.py` and
//! `bindings/kotlin/.../BenchCall.kt` make it through the bindings.
//!
//! `cargo bench -p caseward --bench calls`

#![allow(clippy::unwrap_used, clippy::indexing_slicing, reason = "benchmarks fail loudly")]

use caseward::{Date, Enrollment, Identity, Intake, PersonName, RawKey, Vault};
use criterion::{criterion_group, criterion_main, Criterion};

/// The same 1,000 A-numbers the Python and Kotlin benchmarks enroll: A300000001 ... A300001000.
pub fn a_number(i: u32) -> String {
    format!("A3{i:08}")
}

fn find(c: &mut Criterion) {
    let dir = tempfile::tempdir().unwrap();
    let vault = Vault::create_with_key(dir.path().join("v.cwv"), &RawKey::from_bytes(&[1; 32]).unwrap()).unwrap();
    let intakes: Vec<Intake> = (1..=1000)
        .map(|i| Intake {
            identity: Identity::new(&a_number(i), PersonName::verbatim("TEST, PERSON")).unwrap(),
            enrollment: Enrollment::new("site-a", Date::parse("2026-08-01").unwrap()),
            records: vec![],
        })
        .collect();
    vault.enroll_many(&intakes).unwrap();
    let mut i = 0u32;
    c.bench_function("call/find_by_a_number", |b| {
        b.iter(|| {
            i = i % 1000 + 1;
            vault.find_by_a_number(&a_number(i)).unwrap().unwrap()
        })
    });
}

criterion_group!(benches, find);
criterion_main!(benches);
