//! Means with 68% confidence intervals (Student's t), as the paper reports its returns.

/// A mean and its 68% confidence interval.
#[derive(Clone, Copy, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct MeanCi {
    pub mean: f64,
    pub low: f64,
    pub high: f64,
    pub n: usize,
}

/// Mean and 68% CI of `xs`: mean +- t_{0.84, n-1} * s / sqrt(n). With one sample the interval
/// is the point itself.
pub fn mean_ci68(xs: &[f64]) -> MeanCi {
    let n = xs.len();
    if n == 0 {
        return MeanCi {
            mean: f64::NAN,
            low: f64::NAN,
            high: f64::NAN,
            n,
        };
    }
    let mean = xs.iter().sum::<f64>() / n as f64;
    if n == 1 {
        return MeanCi {
            mean,
            low: mean,
            high: mean,
            n,
        };
    }
    let var = xs.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / (n - 1) as f64;
    let half = t_quantile(0.84, (n - 1) as f64) * (var / n as f64).sqrt();
    MeanCi {
        mean,
        low: mean - half,
        high: mean + half,
        n,
    }
}

/// The p-quantile of Student's t with `df` degrees of freedom, by bisection on the CDF.
pub fn t_quantile(p: f64, df: f64) -> f64 {
    let (mut lo, mut hi) = (-50.0, 50.0);
    for _ in 0..200 {
        let mid = 0.5 * (lo + hi);
        if t_cdf(mid, df) < p {
            lo = mid
        } else {
            hi = mid
        }
    }
    0.5 * (lo + hi)
}

fn t_cdf(t: f64, df: f64) -> f64 {
    let x = df / (df + t * t);
    let tail = 0.5 * inc_beta(df / 2.0, 0.5, x);
    if t > 0.0 { 1.0 - tail } else { tail }
}

/// Regularised incomplete beta I_x(a, b) by its continued fraction (Lentz).
fn inc_beta(a: f64, b: f64, x: f64) -> f64 {
    if x <= 0.0 {
        return 0.0;
    }
    if x >= 1.0 {
        return 1.0;
    }
    let ln_front = ln_gamma(a + b) - ln_gamma(a) - ln_gamma(b) + a * x.ln() + b * (1.0 - x).ln();
    if x > (a + 1.0) / (a + b + 2.0) {
        return 1.0 - inc_beta(b, a, 1.0 - x);
    }
    let tiny = 1e-300;
    let (mut c, mut d) = (1.0, 1.0 - (a + b) * x / (a + 1.0));
    if d.abs() < tiny {
        d = tiny;
    }
    d = 1.0 / d;
    let mut f = d;
    for m in 1..300 {
        let m = m as f64;
        for num in [
            m * (b - m) * x / ((a + 2.0 * m - 1.0) * (a + 2.0 * m)),
            -(a + m) * (a + b + m) * x / ((a + 2.0 * m) * (a + 2.0 * m + 1.0)),
        ] {
            d = 1.0 + num * d;
            if d.abs() < tiny {
                d = tiny;
            }
            c = 1.0 + num / c;
            if c.abs() < tiny {
                c = tiny;
            }
            d = 1.0 / d;
            f *= c * d;
        }
        if (c * d - 1.0).abs() < 1e-15 {
            break;
        }
    }
    ln_front.exp() * f / a
}

/// ln Gamma(x) (Lanczos, g = 7).
fn ln_gamma(x: f64) -> f64 {
    const C: [f64; 9] = [
        0.999_999_999_999_809_9,
        676.520_368_121_885_1,
        -1_259.139_216_722_402_8,
        771.323_428_777_653_1,
        -176.615_029_162_140_6,
        12.507_343_278_686_905,
        -0.138_571_095_265_720_12,
        9.984_369_578_019_572e-6,
        1.505_632_735_149_311_6e-7,
    ];
    if x < 0.5 {
        return (std::f64::consts::PI / (std::f64::consts::PI * x).sin()).ln() - ln_gamma(1.0 - x);
    }
    let x = x - 1.0;
    let t = x + 7.5;
    let s: f64 = C[0] + (1..9).map(|i| C[i] / (x + i as f64)).sum::<f64>();
    0.5 * (2.0 * std::f64::consts::PI).ln() + (x + 0.5) * t.ln() - t + s.ln()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn t_quantiles_match_tables() {
        // Known values: t_{0.975, 1} = 12.706, t_{0.975, 3} = 3.182, t_{0.975, 30} = 2.042,
        // t_{0.84, large} -> 0.994 (normal).
        assert!((t_quantile(0.975, 1.0) - 12.706).abs() < 2e-3);
        assert!((t_quantile(0.975, 3.0) - 3.182).abs() < 2e-3);
        assert!((t_quantile(0.975, 30.0) - 2.042).abs() < 2e-3);
        assert!((t_quantile(0.84, 1e6) - 0.9945).abs() < 1e-3);
        // The median is 0; the incomplete-beta evaluation is good to ~1e-8 there.
        assert!(
            (t_quantile(0.5, 4.0)).abs() < 1e-6,
            "{}",
            t_quantile(0.5, 4.0)
        );
    }

    #[test]
    fn ci_of_known_samples() {
        let ci = mean_ci68(&[1.0, 2.0, 3.0, 4.0]);
        assert_eq!(ci.mean, 2.5);
        let half = t_quantile(0.84, 3.0) * (5.0f64 / 3.0 / 4.0).sqrt();
        assert!((ci.high - 2.5 - half).abs() < 1e-12);
        assert!(ci.low < 2.5 && ci.high > 2.5);
        assert_eq!(mean_ci68(&[7.0]).low, 7.0);
        assert!(mean_ci68(&[]).mean.is_nan());
    }
}
