//! Exact discrete Laplace and discrete Gaussian samplers (the optional disclosure method).
//!
//! The samplers follow Canonne, Kamath and Steinke, "The Discrete Gaussian for Differential
//! Privacy" (NeurIPS 2020), Algorithms 1-3: every step is a Bernoulli trial with a rational
//! parameter decided by comparing uniform integers, so no floating-point number is ever sampled
//! and the output distribution is exactly the one the privacy proof assumes. (Floating-point
//! Laplace samplers leak through the gaps in the floats they can produce; Mironov 2012.)
//!
//! Randomness comes from [`SystemBits`] (`ring::rand::SystemRandom`, buffered). Tests may plug
//! in a seeded source through [`RandomBits`] to check the distributions.

use ring::rand::{SecureRandom, SystemRandom};

use crate::error::{Error, Result};

/// A source of uniformly random 64-bit words.
pub trait RandomBits {
    /// The next uniformly random word.
    fn next_u64(&mut self) -> Result<u64>;
}

/// The operating system's CSPRNG, through ring, read 4 KiB at a time.
pub struct SystemBits {
    rng: SystemRandom,
    buf: [u8; 4096],
    pos: usize,
}

impl SystemBits {
    /// A new buffered source.
    pub fn new() -> Self {
        Self { rng: SystemRandom::new(), buf: [0; 4096], pos: 4096 }
    }
}

impl Default for SystemBits {
    fn default() -> Self {
        Self::new()
    }
}

impl std::fmt::Debug for SystemBits {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("SystemBits")
    }
}

impl RandomBits for SystemBits {
    fn next_u64(&mut self) -> Result<u64> {
        if self.pos + 8 > self.buf.len() {
            self.rng.fill(&mut self.buf).map_err(|_| Error::input("the system random number generator failed"))?;
            self.pos = 0;
        }
        let mut word = [0u8; 8];
        if let Some(bytes) = self.buf.get(self.pos..self.pos + 8) {
            word.copy_from_slice(bytes);
        }
        // Used bytes are not reused; clearing them is cheap insurance for a noise source.
        if let Some(bytes) = self.buf.get_mut(self.pos..self.pos + 8) {
            bytes.fill(0);
        }
        self.pos += 8;
        Ok(u64::from_le_bytes(word))
    }
}

/// A uniform integer in `0..n` (`n > 0`), by rejection so there is no modulo bias.
fn uniform(rng: &mut impl RandomBits, n: u64) -> Result<u64> {
    if n <= 1 {
        return Ok(0);
    }
    // Reject the top partial block of 2^64 values.
    let zone = u64::MAX - (u64::MAX % n) - 1;
    loop {
        let x = rng.next_u64()?;
        if x <= zone {
            return Ok(x % n);
        }
    }
}

/// Bernoulli(num / den), `num <= den`, `den > 0`.
fn bernoulli(rng: &mut impl RandomBits, num: u64, den: u64) -> Result<bool> {
    Ok(uniform(rng, den)? < num)
}

/// Bernoulli(exp(-num/den)) for `0 <= num/den <= 1` (CKS Algorithm 1, first part).
fn bernoulli_exp_small(rng: &mut impl RandomBits, num: u64, den: u64) -> Result<bool> {
    let mut k: u64 = 1;
    loop {
        // A_k ~ Bernoulli(gamma / k); den * k cannot overflow for the parameters used here.
        let d = den.checked_mul(k).ok_or_else(|| Error::input("noise parameter too large"))?;
        if !bernoulli(rng, num, d)? {
            return Ok(k % 2 == 1);
        }
        k += 1;
    }
}

/// Bernoulli(exp(-num/den)) for any `num/den >= 0` (CKS Algorithm 1).
fn bernoulli_exp(rng: &mut impl RandomBits, num: u128, den: u128) -> Result<bool> {
    if den == 0 {
        return Err(Error::input("noise parameter has a zero denominator"));
    }
    // Reduce so both fit in u64 for the small case; keep exactness by dividing out the gcd.
    let g = gcd(num, den);
    let (num, den) = (num / g, den / g);
    let whole = num / den;
    for _ in 0..whole {
        if !bernoulli_exp_small(rng, 1, 1)? {
            return Ok(false);
        }
    }
    let rem = num % den;
    let (rem, den) = shrink(rem, den);
    bernoulli_exp_small(rng, rem, den)
}

/// Brings a fraction in [0, 1) into u64 range. Exact when it already fits; otherwise rounds
/// the *denominator* up and the numerator down by the same shift, which can only change the
/// probability by under 2^-60 (documented in ARCHITECTURE.md; never reached by report sizes).
fn shrink(num: u128, den: u128) -> (u64, u64) {
    if let (Ok(n), Ok(d)) = (u64::try_from(num), u64::try_from(den)) {
        return (n, d);
    }
    let shift = 128 - den.leading_zeros() - 63;
    (u64::try_from(num >> shift).unwrap_or(u64::MAX), u64::try_from((den >> shift) + 1).unwrap_or(u64::MAX))
}

fn gcd(mut a: u128, mut b: u128) -> u128 {
    while b != 0 {
        (a, b) = (b, a % b);
    }
    a.max(1)
}

/// A sample of the discrete Laplace distribution with scale `num/den`:
/// P(x) proportional to exp(-|x| den / num) (CKS Algorithm 2, where the scale is t/s).
pub fn discrete_laplace(rng: &mut impl RandomBits, num: u64, den: u64) -> Result<i64> {
    if num == 0 || den == 0 {
        return Err(Error::input("the Laplace scale must be a positive fraction"));
    }
    let (t, s) = (num, den);
    loop {
        let u = uniform(rng, t)?;
        if !bernoulli_exp(rng, u128::from(u), u128::from(t))? {
            continue;
        }
        let mut v: u64 = 0;
        while bernoulli_exp_small(rng, 1, 1)? {
            v += 1;
        }
        let x = u128::from(u) + u128::from(t) * u128::from(v);
        let y = i64::try_from(x / u128::from(s)).map_err(|_| Error::input("noise sample out of range"))?;
        let negative = bernoulli(rng, 1, 2)?;
        if negative && y == 0 {
            continue;
        }
        return Ok(if negative { -y } else { y });
    }
}

/// A sample of the discrete Gaussian with variance parameter `sigma2 = num/den`:
/// P(x) proportional to exp(-x^2 / (2 sigma2)) (CKS Algorithm 3).
pub fn discrete_gaussian(rng: &mut impl RandomBits, num: u64, den: u64) -> Result<i64> {
    if num == 0 || den == 0 {
        return Err(Error::input("the Gaussian variance must be a positive fraction"));
    }
    // t = floor(sigma) + 1, with floor(sqrt(n/d)) = isqrt(floor(n/d)).
    let t = (num / den).isqrt() + 1;
    let (n, d, t128) = (u128::from(num), u128::from(den), u128::from(t));
    loop {
        let y = discrete_laplace(rng, t, 1)?;
        // gamma = (|y| - sigma2/t)^2 / (2 sigma2) = (|y| t d - n)^2 / (2 n d t^2)
        let a = u128::from(y.unsigned_abs()) * t128 * d;
        let diff = a.abs_diff(n);
        let num_g = diff.checked_mul(diff);
        let den_g = 2u128.checked_mul(n).and_then(|x| x.checked_mul(d)).and_then(|x| x.checked_mul(t128 * t128));
        let (Some(num_g), Some(den_g)) = (num_g, den_g) else {
            // Far in the tail: the acceptance probability underflows anything we can represent.
            continue;
        };
        if bernoulli_exp(rng, num_g, den_g)? {
            return Ok(y);
        }
    }
}

/// How noise is added to one table: a mechanism calibrated to the table's sensitivity.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case", tag = "mechanism")]
pub enum Mechanism {
    /// Discrete Laplace with privacy loss epsilon = `epsilon_num / epsilon_den` per table
    /// (pure epsilon-DP, charged to the ledger as rho = epsilon^2 / 2).
    Laplace {
        /// Numerator of epsilon.
        epsilon_num: u32,
        /// Denominator of epsilon.
        epsilon_den: u32,
    },
    /// Discrete Gaussian with rho-zCDP `rho_num / rho_den` per table.
    Gaussian {
        /// Numerator of rho.
        rho_num: u32,
        /// Denominator of rho.
        rho_den: u32,
    },
}

impl Mechanism {
    /// Parses `laplace:EPS` or `gaussian:RHO`, where the parameter is a decimal or a fraction
    /// (`laplace:0.5`, `gaussian:1/8`).
    pub fn parse(text: &str) -> Result<Self> {
        let (kind, param) = text
            .split_once(':')
            .ok_or_else(|| Error::input("a noise mechanism is written laplace:EPS or gaussian:RHO"))?;
        let (num, den) = parse_fraction(param)?;
        match kind {
            "laplace" => Ok(Self::Laplace { epsilon_num: num, epsilon_den: den }),
            "gaussian" => Ok(Self::Gaussian { rho_num: num, rho_den: den }),
            _ => Err(Error::input(format!(
                "unknown noise mechanism {}: use laplace or gaussian",
                crate::error::echo(kind)
            ))),
        }
    }

    /// The zCDP cost of one table, in millionths of rho, rounded up (the ledger's unit).
    pub fn rho_micros(self) -> u64 {
        let (n, d) = match self {
            Self::Laplace { epsilon_num, epsilon_den } => (
                u128::from(epsilon_num) * u128::from(epsilon_num),
                2 * u128::from(epsilon_den) * u128::from(epsilon_den),
            ),
            Self::Gaussian { rho_num, rho_den } => (u128::from(rho_num), u128::from(rho_den)),
        };
        u64::try_from((n * 1_000_000).div_ceil(d.max(1))).unwrap_or(u64::MAX)
    }

    /// Draws the noise for one cell of a table with L1 sensitivity `l1` and squared L2
    /// sensitivity `l2sq` (what adding or removing one person can change in the whole table).
    pub fn sample(self, rng: &mut impl RandomBits, l1: u64, l2sq: u64) -> Result<i64> {
        match self {
            // scale = l1 / epsilon = l1 * den / num
            Self::Laplace { epsilon_num, epsilon_den } => {
                discrete_laplace(rng, l1.saturating_mul(u64::from(epsilon_den)), u64::from(epsilon_num))
            }
            // sigma^2 = l2^2 / (2 rho) = l2sq * den / (2 num)
            Self::Gaussian { rho_num, rho_den } => {
                discrete_gaussian(rng, l2sq.saturating_mul(u64::from(rho_den)), 2 * u64::from(rho_num))
            }
        }
    }

    /// The half-width `h` of the interval a cell states when its noise is the sum of `draws`
    /// independent draws for a table with sensitivities `l1` and `l2sq`: the noise lies outside
    /// `[-h, h]` with probability at most `100 - NOISY_CONFIDENCE` percent. The smallest of three
    /// valid bounds: the exact tail of one draw, a Chernoff bound on a sum, and Chebyshev's. (A
    /// reported figure, computed in floating point like the variance.)
    pub fn half_width(self, l1: u64, l2sq: u64, draws: u64) -> u64 {
        if draws == 0 {
            return 0;
        }
        let (alpha, n) = (miss_probability(), draws as f64);
        let chebyshev = chebyshev_half_width(n * self.variance(l1, l2sq));
        let tail = match self {
            Self::Laplace { epsilon_num, epsilon_den } => {
                let b = l1 as f64 * f64::from(epsilon_den) / f64::from(epsilon_num);
                if draws == 1 {
                    laplace_exact_half_width(b, alpha)
                } else {
                    laplace_sum_half_width(b, n, alpha)
                }
            }
            Self::Gaussian { rho_num, rho_den } => {
                let sigma2 = l2sq as f64 * f64::from(rho_den) / (2.0 * f64::from(rho_num));
                if draws == 1 {
                    gaussian_exact_half_width(sigma2, alpha)
                } else {
                    gaussian_sum_half_width(sigma2, n, alpha)
                }
            }
        };
        tail.min(chebyshev)
    }

    /// The variance of one cell's noise (a reported figure, computed in floating point, never
    /// sampled from it).
    pub fn variance(self, l1: u64, l2sq: u64) -> f64 {
        match self {
            Self::Laplace { epsilon_num, epsilon_den } => {
                laplace_variance(l1 as f64 * f64::from(epsilon_den) / f64::from(epsilon_num))
            }
            Self::Gaussian { rho_num, rho_den } => {
                gaussian_variance(l2sq as f64 * f64::from(rho_den) / (2.0 * f64::from(rho_num)))
            }
        }
    }
}

/// The confidence, in percent, of the interval every noisy cell states.
pub const NOISY_CONFIDENCE: u8 = 95;

/// The probability that a stated interval misses the true value (at most).
fn miss_probability() -> f64 {
    f64::from(100 - NOISY_CONFIDENCE) / 100.0
}

/// The smallest whole `h` with `h + 1 >= t`: integer noise beyond `h` is at least `t` away.
fn whole_below(t: f64) -> u64 {
    if t.is_nan() {
        return u64::MAX;
    }
    // `as` saturates; a tiny margin keeps a float rounding down from narrowing the interval.
    ((t * (1.0 + 1e-12)).ceil() as u64).saturating_sub(1)
}

/// The half-width `h` outside which integer noise of this variance lies with probability at
/// most 5 %, whatever its distribution: Chebyshev, P(|X| >= t) <= variance / t^2.
pub fn chebyshev_half_width(variance: f64) -> u64 {
    whole_below((variance.max(0.0) / miss_probability()).sqrt())
}

/// The smallest value `f` takes on `[lo, hi]`, found by golden-section search. Every value it
/// returns is one `f` takes, so a bound built from it is valid even if `f` is not unimodal.
fn minimum(f: impl Fn(f64) -> f64, mut lo: f64, mut hi: f64) -> f64 {
    let r = (5f64.sqrt() - 1.0) / 2.0;
    let (mut a, mut b) = (hi - r * (hi - lo), lo + r * (hi - lo));
    let (mut fa, mut fb) = (f(a), f(b));
    let mut best = fa.min(fb);
    for _ in 0..200 {
        if fa <= fb {
            hi = b;
            (b, fb) = (a, fa);
            a = hi - r * (hi - lo);
            fa = f(a);
        } else {
            lo = a;
            (a, fa) = (b, fb);
            b = lo + r * (hi - lo);
            fb = f(b);
        }
        best = best.min(fa).min(fb);
    }
    best
}

/// One discrete Laplace draw of scale `b`: P(|X| >= t) = 2 q^t / (1 + q), q = e^{-1/b}, exactly.
fn laplace_exact_half_width(b: f64, alpha: f64) -> u64 {
    let q = (-1.0 / b).exp();
    let tail = |t: u64| (2.0f64).ln() - t as f64 / b - q.ln_1p();
    let mut t = whole_below(b * (2.0 / (alpha * (1.0 + q))).ln()).saturating_add(1).max(1);
    // Settle the float estimate on the exact integer boundary.
    while tail(t) > alpha.ln() {
        t += 1;
    }
    while t > 1 && tail(t - 1) <= alpha.ln() {
        t -= 1;
    }
    t - 1
}

/// A sum of `n` discrete Laplace draws of scale `b`: Chernoff's bound with the exact moment
/// generating function, K(l) = 2 ln(1 - q) - ln(1 - q e^l) - ln(1 - q e^-l) for 0 < l < 1/b.
/// P(|S| >= t) <= 2 exp(n K(l) - l t) for every such l, which is alpha at
/// t(l) = (n K(l) + ln(2 / alpha)) / l.
fn laplace_sum_half_width(b: f64, n: f64, alpha: f64) -> u64 {
    let ln_one_minus = |x: f64| (-(x.exp_m1())).ln(); // ln(1 - e^x), accurate for x near 0
    let k = |l: f64| 2.0 * ln_one_minus(-1.0 / b) - ln_one_minus(l - 1.0 / b) - ln_one_minus(-l - 1.0 / b);
    let t = |l: f64| (n * k(l) + (2.0 / alpha).ln()) / l;
    let top = 1.0 / b;
    whole_below(minimum(t, top * 1e-9, top * (1.0 - 1e-9)))
}

/// One discrete Gaussian draw with parameter `sigma2`: its tail summed exactly.
fn gaussian_exact_half_width(sigma2: f64, alpha: f64) -> u64 {
    // Beyond 40 sigma the weights are below e^-800: nothing a probability can notice.
    let reach = (40.0 * sigma2.sqrt()).ceil() as u64 + 2;
    let w = |x: u64| (-((x as f64) * (x as f64)) / (2.0 * sigma2)).exp();
    let mut suffix = vec![0.0f64; usize::try_from(reach).unwrap_or(usize::MAX).saturating_add(2)];
    for x in (1..=reach).rev() {
        let i = usize::try_from(x).unwrap_or(usize::MAX);
        let next = suffix.get(i + 1).copied().unwrap_or(0.0);
        if let Some(slot) = suffix.get_mut(i) {
            *slot = next + w(x);
        }
    }
    let z = 1.0 + 2.0 * suffix.get(1).copied().unwrap_or(0.0);
    let first = (1..=reach)
        .find(|&t| 2.0 * suffix.get(usize::try_from(t).unwrap_or(usize::MAX)).copied().unwrap_or(0.0) / z <= alpha);
    first.map_or(reach, |t| t - 1)
}

/// A sum of `n` discrete Gaussian draws with parameter `sigma2`: each is sigma2-subgaussian
/// (its moment generating function is at most the continuous Gaussian's; Canonne, Kamath and
/// Steinke 2020), so P(|S| >= t) <= 2 exp(-t^2 / (2 n sigma2)).
fn gaussian_sum_half_width(sigma2: f64, n: f64, alpha: f64) -> u64 {
    whole_below((2.0 * n * sigma2 * (2.0 / alpha).ln()).sqrt())
}

/// Variance of the discrete Laplace with scale `b`: 2 e^{-1/b} / (1 - e^{-1/b})^2.
pub fn laplace_variance(b: f64) -> f64 {
    let q = (-1.0 / b).exp();
    2.0 * q / ((1.0 - q) * (1.0 - q))
}

/// Variance of the discrete Gaussian with parameter `sigma2` (summed; it is below sigma2).
pub fn gaussian_variance(sigma2: f64) -> f64 {
    let bound = (sigma2.sqrt() * 12.0).ceil().max(10.0) as i64;
    let (mut z, mut m2) = (0.0, 0.0);
    for x in -bound..=bound {
        let w = (-((x * x) as f64) / (2.0 * sigma2)).exp();
        z += w;
        m2 += w * (x * x) as f64;
    }
    m2 / z
}

fn parse_fraction(text: &str) -> Result<(u32, u32)> {
    let bad = || Error::input(format!("{} is not a positive number or fraction", crate::error::echo(text)));
    let (num, den) = if let Some((n, d)) = text.split_once('/') {
        (n.trim().parse::<u32>().map_err(|_| bad())?, d.trim().parse::<u32>().map_err(|_| bad())?)
    } else if let Some((whole, frac)) = text.split_once('.') {
        if frac.len() > 6 || !frac.bytes().all(|b| b.is_ascii_digit()) {
            return Err(bad());
        }
        let den = 10u32.pow(u32::try_from(frac.len()).map_err(|_| bad())?);
        let whole: u32 = if whole.is_empty() { 0 } else { whole.parse().map_err(|_| bad())? };
        let frac: u32 = if frac.is_empty() { 0 } else { frac.parse().map_err(|_| bad())? };
        (whole.checked_mul(den).and_then(|w| w.checked_add(frac)).ok_or_else(bad)?, den)
    } else {
        (text.trim().parse::<u32>().map_err(|_| bad())?, 1)
    };
    if num == 0 || den == 0 {
        return Err(bad());
    }
    let g = u32::try_from(gcd(u128::from(num), u128::from(den))).unwrap_or(1);
    Ok((num / g, den / g))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fractions_parse_exactly() {
        assert_eq!(parse_fraction("0.5").ok(), Some((1, 2)));
        assert_eq!(parse_fraction("1/8").ok(), Some((1, 8)));
        assert_eq!(parse_fraction("2").ok(), Some((2, 1)));
        assert!(parse_fraction("0").is_err());
        assert!(parse_fraction("-1").is_err());
        assert!(parse_fraction("1e3").is_err());
    }

    #[test]
    fn ledger_units() {
        assert_eq!(Mechanism::Laplace { epsilon_num: 1, epsilon_den: 1 }.rho_micros(), 500_000);
        assert_eq!(Mechanism::Gaussian { rho_num: 1, rho_den: 8 }.rho_micros(), 125_000);
    }

    #[test]
    fn stated_half_widths_are_exact_for_one_draw_and_bounded_for_sums() {
        let laplace = Mechanism::Laplace { epsilon_num: 1, epsilon_den: 1 };
        let gaussian = Mechanism::Gaussian { rho_num: 1, rho_den: 2 };
        // One draw, exactly: scale 1 leaves P(|X| >= 4) = 0.027 and P(|X| >= 3) = 0.073; sigma^2 = 1
        // leaves P(|X| >= 3) = 0.009 and P(|X| >= 2) = 0.117.
        assert_eq!(laplace.half_width(1, 1, 1), 3);
        assert_eq!(gaussian.half_width(1, 1, 1), 2);
        assert_eq!(laplace.half_width(1, 1, 0), 0, "no draw, no noise");
        // Chebyshev: sqrt(1 / 0.05) = 4.47, so beyond 4 with probability at most 5 %.
        assert_eq!(chebyshev_half_width(1.0), 4);
        assert_eq!(chebyshev_half_width(0.0), 0);
        for m in [laplace, gaussian] {
            let mut last = m.half_width(1, 1, 1);
            for n in [2u64, 5, 40, 400] {
                let h = m.half_width(1, 1, n);
                assert!(h >= last && h <= chebyshev_half_width(n as f64 * m.variance(1, 1)), "{m:?} {n}: {h}");
                last = h;
            }
        }
        // A participant-days table at a small epsilon: large scales stay cheap and finite.
        let wide = Mechanism::Laplace { epsilon_num: 1, epsilon_den: 10 }.half_width(366, 366 * 366, 12);
        assert!(wide > 3660 && wide < 200_000, "{wide}");
    }

    /// A seeded source for coverage checks.
    struct Seeded(u64);

    impl RandomBits for Seeded {
        fn next_u64(&mut self) -> Result<u64> {
            // splitmix64
            self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
            let mut z = self.0;
            z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
            z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
            Ok(z ^ (z >> 31))
        }
    }

    #[test]
    fn sums_of_draws_stay_inside_their_stated_interval_at_least_95_percent_of_the_time() {
        let mut rng = Seeded(3);
        for m in [
            Mechanism::Laplace { epsilon_num: 1, epsilon_den: 2 },
            Mechanism::Laplace { epsilon_num: 37, epsilon_den: 10 },
            Mechanism::Gaussian { rho_num: 1, rho_den: 8 },
            Mechanism::Gaussian { rho_num: 4, rho_den: 1 },
        ] {
            for n in [2u64, 3, 12] {
                let h = i64::try_from(m.half_width(1, 1, n)).unwrap_or(i64::MAX);
                let runs = 4000;
                let mut held = 0;
                for _ in 0..runs {
                    let mut sum = 0i64;
                    for _ in 0..n {
                        sum += m.sample(&mut rng, 1, 1).unwrap_or(i64::MAX);
                    }
                    held += u32::from(sum.abs() <= h);
                }
                let rate = f64::from(held) / f64::from(runs);
                assert!(rate >= 0.95, "{m:?}, {n} draws, ±{h}: held {rate}");
            }
        }
    }

    #[test]
    fn system_bits_sample() {
        let mut rng = SystemBits::new();
        for _ in 0..1000 {
            let x = discrete_laplace(&mut rng, 2, 1).unwrap_or(i64::MAX);
            assert!(x.abs() < 1000);
        }
    }
}
