//! The exact samplers against their probability mass functions: a chi-square goodness-of-fit
//! test over 10^6 samples each. The seeded source exists only here; reports use the operating
//! system's generator through ring.
#![allow(clippy::unwrap_used, clippy::indexing_slicing, reason = "tests")]

use caseward::report::noise::{discrete_gaussian, discrete_laplace, gaussian_variance, laplace_variance, RandomBits};
use caseward::Result;

/// A seeded source for reproducible tests.
struct Seeded(fastrand::Rng);

impl RandomBits for Seeded {
    fn next_u64(&mut self) -> Result<u64> {
        Ok(self.0.u64(..))
    }
}

const N: usize = 1_000_000;

/// Chi-square statistic of `samples` against `pmf` over [-range, range], with the two tails
/// pooled into one bin each; returns (statistic, degrees of freedom).
fn chi_square(samples: &[i64], pmf: impl Fn(i64) -> f64, range: i64) -> (f64, usize) {
    let mut observed = vec![0u64; (2 * range + 3) as usize];
    for &x in samples {
        let bin = if x < -range {
            0
        } else if x > range {
            observed.len() - 1
        } else {
            (x + range + 1) as usize
        };
        observed[bin] += 1;
    }
    let inner: f64 = (-range..=range).map(&pmf).sum();
    let tail = (1.0 - inner) / 2.0;
    let expected: Vec<f64> = std::iter::once(tail)
        .chain((-range..=range).map(&pmf))
        .chain(std::iter::once(tail))
        .map(|p| p * samples.len() as f64)
        .collect();
    let mut stat = 0.0;
    let mut bins = 0;
    for (o, e) in observed.iter().zip(&expected) {
        if *e >= 5.0 {
            stat += (*o as f64 - e).powi(2) / e;
            bins += 1;
        }
    }
    (stat, bins - 1)
}

/// The chi-square critical value at p = 0.001 (Wilson-Hilferty approximation).
fn critical(df: usize) -> f64 {
    let k = df as f64;
    let z = 3.090_232;
    k * (1.0 - 2.0 / (9.0 * k) + z * (2.0 / (9.0 * k)).sqrt()).powi(3)
}

fn laplace_pmf(scale: f64) -> impl Fn(i64) -> f64 {
    let q = (-1.0 / scale).exp();
    move |x| (1.0 - q) / (1.0 + q) * q.powi(x.unsigned_abs() as i32)
}

fn gaussian_pmf(sigma2: f64) -> impl Fn(i64) -> f64 {
    let norm: f64 = (-200..=200).map(|x: i64| (-((x * x) as f64) / (2.0 * sigma2)).exp()).sum();
    move |x| (-((x * x) as f64) / (2.0 * sigma2)).exp() / norm
}

#[test]
fn discrete_laplace_matches_its_pmf() {
    let mut rng = Seeded(fastrand::Rng::with_seed(1));
    // scale 3/2: P(x) proportional to exp(-2|x|/3)
    let samples: Vec<i64> = (0..N).map(|_| discrete_laplace(&mut rng, 3, 2).unwrap()).collect();
    let (stat, df) = chi_square(&samples, laplace_pmf(1.5), 12);
    assert!(stat < critical(df), "chi-square {stat:.1} over {df} df exceeds {:.1}", critical(df));
    let mean = samples.iter().sum::<i64>() as f64 / N as f64;
    let var = samples.iter().map(|&x| (x as f64 - mean).powi(2)).sum::<f64>() / N as f64;
    assert!((var - laplace_variance(1.5)).abs() / laplace_variance(1.5) < 0.02, "variance {var}");
    // The test can fail: the same samples against a wrong scale are rejected.
    let (wrong, df) = chi_square(&samples, laplace_pmf(1.6), 12);
    assert!(wrong > critical(df), "a wrong scale must be detected ({wrong:.1})");
}

#[test]
fn discrete_gaussian_matches_its_pmf() {
    let mut rng = Seeded(fastrand::Rng::with_seed(2));
    // sigma^2 = 5/2, a non-integer variance exercises the rational arithmetic.
    let samples: Vec<i64> = (0..N).map(|_| discrete_gaussian(&mut rng, 5, 2).unwrap()).collect();
    let (stat, df) = chi_square(&samples, gaussian_pmf(2.5), 8);
    assert!(stat < critical(df), "chi-square {stat:.1} over {df} df exceeds {:.1}", critical(df));
    let var = samples.iter().map(|&x| (x * x) as f64).sum::<f64>() / N as f64;
    assert!((var - gaussian_variance(2.5)).abs() / gaussian_variance(2.5) < 0.02, "variance {var}");
    let (wrong, df) = chi_square(&samples, laplace_pmf(1.2), 8);
    assert!(wrong > critical(df), "a Laplace pmf must not fit Gaussian samples ({wrong:.1})");
}

#[test]
fn a_large_gaussian_stays_exact() {
    let mut rng = Seeded(fastrand::Rng::with_seed(3));
    let samples: Vec<i64> = (0..200_000).map(|_| discrete_gaussian(&mut rng, 400, 1).unwrap()).collect();
    let (stat, df) = chi_square(&samples, gaussian_pmf(400.0), 50);
    assert!(stat < critical(df), "chi-square {stat:.1} over {df} df exceeds {:.1}", critical(df));
}
