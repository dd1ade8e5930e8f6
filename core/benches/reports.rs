//! The costs of issue #4's building blocks, each beside its baseline where the issue names one:
//! pseudonyms (against a bare keyed BLAKE3 of the 9 digits), name tokens, discrete Laplace
//! samples, complementary suppression of a 5,000-cell table with margins, and what the release
//! ledger (issue #15) adds to a report: a new release with fourteen earlier ones in the ledger
//! against one with none, and a frozen period sent again; and the evaluation (issue #17): an
//! evaluator extract and a lottery, beside a board report of the same vault as the baseline.
//!
//! `cargo bench -p caseward --bench reports`

#![allow(clippy::unwrap_used, clippy::indexing_slicing, reason = "benchmarks fail loudly")]

use caseward::pseudonym::NameTokens;
use caseward::report::noise::{discrete_laplace, SystemBits};
use caseward::report::suppress::{protect, Grid};
use caseward::synth::Synth;
use caseward::{AlienNumber, Domain, Epoch, PseudonymKey};
use criterion::{criterion_group, criterion_main, Criterion, Throughput};

const N: usize = 10_000;

fn pseudonyms(c: &mut Criterion) {
    let mut synth = Synth::new(4);
    let intakes: Vec<_> = (0..N).map(|_| synth.intake()).collect();
    let numbers: Vec<AlienNumber> = intakes.iter().map(|i| i.identity.a_number.clone()).collect();
    let names: Vec<String> = intakes.iter().map(|i| i.identity.name.verbatim_dhs.clone()).collect();
    let p = PseudonymKey::generate().unwrap().pseudonymizer(Domain::Board, &Epoch::new("2026").unwrap());
    let bare_key = [7u8; 32];
    let mut g = c.benchmark_group("pseudonym");
    g.throughput(Throughput::Elements(N as u64));
    g.bench_function("bare_keyed_blake3_9_digits", |b| {
        b.iter(|| {
            for a in &numbers {
                std::hint::black_box(blake3::keyed_hash(&bare_key, &a.as_str().as_bytes()[1..]));
            }
        })
    });
    g.bench_function("a_number", |b| {
        b.iter(|| {
            for a in &numbers {
                std::hint::black_box(p.pseudonym(a));
            }
        })
    });
    g.bench_function("a_number_text", |b| {
        b.iter(|| {
            for a in &numbers {
                std::hint::black_box(p.pseudonym(a).to_string());
            }
        })
    });
    g.bench_function("name_tokens", |b| {
        b.iter(|| {
            for n in &names {
                std::hint::black_box(NameTokens::new(n));
            }
        })
    });
    g.finish();
}

fn noise(c: &mut Criterion) {
    let mut rng = SystemBits::new();
    let mut g = c.benchmark_group("noise");
    g.throughput(Throughput::Elements(N as u64));
    // epsilon = 1/2 on a count (scale 2), the per-table setting of a typical noisy report.
    g.bench_function("discrete_laplace_scale_2", |b| {
        b.iter(|| {
            for _ in 0..N {
                std::hint::black_box(discrete_laplace(&mut rng, 2, 1).unwrap());
            }
        })
    });
    g.finish();
}

fn suppression(c: &mut Criterion) {
    // 100 x 50 interior cells (5,000), a fifth of them small, with all margins.
    let mut rng = fastrand::Rng::with_seed(9);
    let table: Vec<Vec<u64>> = (0..100)
        .map(|_| (0..50).map(|_| if rng.u8(..5) == 0 { rng.u64(1..11) } else { rng.u64(11..400) }).collect())
        .collect();
    let grid = Grid::counts(&table);
    let sup = protect(&grid);
    assert!(!sup.withheld);
    let mut g = c.benchmark_group("suppress");
    g.sample_size(20);
    g.bench_function("complementary_5000_cells", |b| b.iter(|| protect(std::hint::black_box(&grid))));
    g.finish();
}

/// A vault of 600 clients at three sites; with `history`, the fourteen months before September
/// 2026 released, so the ledger holds fourteen signed reports.
fn release_vault(dir: &std::path::Path, history: bool) -> std::path::PathBuf {
    let path = dir.join(if history { "history.cwv" } else { "fresh.cwv" });
    let vault = caseward::Vault::create_with_key(&path, &caseward::RawKey::from_bytes(&[3; 32]).unwrap()).unwrap();
    vault.set_provider_id("bench").unwrap();
    let mut synth = Synth::new(15);
    let intakes: Vec<_> = (0..600).map(|_| synth.intake()).collect();
    vault.enroll_many(&intakes).unwrap();
    if history {
        let board = caseward::RecoveryIdentity::generate();
        let september = caseward::Period::new(2026, 9).unwrap();
        for back in (1..=14).rev() {
            let options = caseward::ReportOptions::default();
            vault.board_report(september.months_before(back), &options, &[board.recipient()]).unwrap();
        }
    }
    vault.close().unwrap();
    path
}

fn release(c: &mut Criterion) {
    let dir = tempfile::tempdir().unwrap();
    let board = caseward::RecoveryIdentity::generate();
    let september = caseward::Period::new(2026, 9).unwrap();
    let options = caseward::ReportOptions::default();
    let mut g = c.benchmark_group("release");
    g.sample_size(20);
    let sources = [release_vault(dir.path(), false), release_vault(dir.path(), true)];
    for (history, source) in [false, true].into_iter().zip(&sources) {
        let name = if history { "new_release_14_in_ledger" } else { "new_release_empty_ledger" };
        g.bench_function(name, |b| {
            b.iter_batched(
                || {
                    // A fresh copy each time: a release is recorded, and September must be new.
                    let copy = dir.path().join("copy.cwv");
                    std::fs::copy(source, &copy).unwrap();
                    caseward::Vault::open_with_key(&copy, &caseward::RawKey::from_bytes(&[3; 32]).unwrap()).unwrap()
                },
                |vault| vault.board_report(september, &options, &[board.recipient()]).unwrap(),
                criterion::BatchSize::PerIteration,
            )
        });
    }
    let vault = caseward::Vault::open_with_key(&sources[1], &caseward::RawKey::from_bytes(&[3; 32]).unwrap()).unwrap();
    let sent = vault.board_report(september.months_before(1), &options, &[board.recipient()]).unwrap();
    assert!(!sent.is_empty());
    g.bench_function("frozen_period_sent_again", |b| {
        b.iter(|| vault.board_report(september.months_before(1), &options, &[board.recipient()]).unwrap())
    });
    g.finish();
}

/// A vault of `clients` clients with a pseudonym key, a policy that gives the evaluator what an
/// extract reads, and (with `drawn`) a lottery drawn over everyone who may join one.
fn evaluation_vault(dir: &std::path::Path, clients: usize, drawn: bool) -> std::path::PathBuf {
    let path = dir.join(format!("evaluation-{clients}-{drawn}.cwv"));
    let vault = caseward::Vault::create_with_key(&path, &caseward::RawKey::from_bytes(&[4; 32]).unwrap()).unwrap();
    vault.set_provider_id("bench").unwrap();
    vault.generate_pseudonym_key().unwrap();
    let rules = r#"
[[rule]]
id = "evaluator-microdata"
audience = "evaluator"
treatment = "pseudonymize"
categories = ["identifier.alien_number", "evaluation.randomization", "obligation.court.next", "legal.case",
              "obligation.reporting.next", "obligation.reporting.attendance", "service.event", "program.exit",
              "program.enrollment"]
why = "bench"

[[rule]]
id = "evaluator-quasi-identifiers"
audience = "evaluator"
treatment = "coarsen"
categories = ["identifier.dob", "demographic.nationality", "demographic.language", "program.site"]
why = "bench"
"#;
    let policy = caseward::Policy::from_toml(&format!("{}{rules}", caseward::policy::DEFAULT_POLICY), "bench.toml");
    vault.install_policy(&policy.unwrap()).unwrap();
    let mut synth = Synth::new(17);
    let intakes: Vec<_> = (0..clients)
        .map(|_| {
            let mut i = synth.intake();
            i.enrollment.randomization = None;
            i.enrollment.vawa_grantee = false;
            i.records.retain(|r| !matches!(r, caseward::Record::Legal(_)));
            i
        })
        .collect();
    let ids = vault.enroll_many(&intakes).unwrap();
    if drawn {
        let slots = u32::try_from(ids.len() / 2).unwrap();
        vault.lottery_commit("bench", &ids, slots, "bench beacon").unwrap();
        vault.lottery_draw("bench", "AB").unwrap();
    }
    vault.close().unwrap();
    path
}

fn evaluation(c: &mut Criterion) {
    const CLIENTS: usize = 2_000;
    let dir = tempfile::tempdir().unwrap();
    let key = || caseward::RawKey::from_bytes(&[4; 32]).unwrap();
    let recipient = caseward::RecoveryIdentity::generate().recipient();
    let (fresh, drawn) = (evaluation_vault(dir.path(), CLIENTS, false), evaluation_vault(dir.path(), CLIENTS, true));
    let ids = {
        let v = caseward::Vault::open_with_key(&fresh, &key()).unwrap();
        v.list_clients().unwrap()
    };
    let copy = |source: &std::path::Path| {
        let path = dir.path().join("copy.cwv");
        std::fs::copy(source, &path).unwrap();
        caseward::Vault::open_with_key(&path, &key()).unwrap()
    };
    let mut g = c.benchmark_group("evaluation");
    g.sample_size(10);
    g.bench_function("board_report_2000_clients", |b| {
        b.iter_batched(
            || copy(&drawn),
            |v| {
                let options = caseward::ReportOptions::default();
                v.board_report(caseward::Period::new(2026, 9).unwrap(), &options, std::slice::from_ref(&recipient))
                    .unwrap()
            },
            criterion::BatchSize::PerIteration,
        )
    });
    g.bench_function("extract_2000_clients", |b| {
        b.iter_batched(
            || copy(&drawn),
            |v| {
                let options = caseward::extract::ExtractOptions::new("bench");
                v.evaluator_extract(&options, std::slice::from_ref(&recipient)).unwrap()
            },
            criterion::BatchSize::PerIteration,
        )
    });
    g.bench_function("lottery_commit_and_draw_2000_clients", |b| {
        b.iter_batched(
            || copy(&fresh),
            |v| {
                v.lottery_commit("l1", &ids, 1_000, "bench beacon").unwrap();
                v.lottery_draw("l1", "AB").unwrap()
            },
            criterion::BatchSize::PerIteration,
        )
    });
    g.finish();
}

criterion_group!(benches, pseudonyms, noise, suppression, release, evaluation);
criterion_main!(benches);
