//! The firewall's costs (issue #3): a disclosure decision plus building and logging an
//! `IceNotice` (one transaction, `synchronous=FULL` commit included), and loading and
//! validating the default policy.
//!
//! `cargo bench -p caseward --bench firewall`

#![allow(clippy::unwrap_used, clippy::indexing_slicing, reason = "benchmarks fail loudly")]

use caseward::synth::Synth;
use caseward::{AddressConsent, Policy, RawKey, Record, Vault};
use criterion::{criterion_group, criterion_main, Criterion};

fn ice_notice(c: &mut Criterion) {
    let dir = tempfile::tempdir().unwrap();
    let vault = Vault::create_with_key(dir.path().join("v.cwv"), &RawKey::from_bytes(&[5; 32]).unwrap()).unwrap();
    let mut synth = Synth::new(3);
    let intakes: Vec<_> = (0..1000)
        .map(|_| {
            let mut i = synth.intake();
            i.records.retain(|r| !matches!(r, Record::Legal(_)));
            i.enrollment.vawa_grantee = false;
            i
        })
        .collect();
    let clients = vault.enroll_many(&intakes).unwrap();
    let mut n = 0usize;
    c.bench_function("ice_notice_decide_build_log", |b| {
        b.iter(|| {
            n = (n + 1) % clients.len();
            vault.ice_notice(clients[n], AddressConsent::GivenForThisNotice).unwrap()
        })
    });
}

fn policy(c: &mut Criterion) {
    c.bench_function("policy_load_validate_default", |b| b.iter(|| Policy::default_policy().unwrap()));
}

criterion_group!(benches, ice_notice, policy);
criterion_main!(benches);
