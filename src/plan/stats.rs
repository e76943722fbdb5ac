//! Means with 68% confidence intervals (Student's t, from `statrs`), as the paper reports its
//! returns, and the quartiles that the prediction-error tables and plots show.

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

/// The p-quantile of Student's t with `df` degrees of freedom (NaN for `p` outside [0, 1] or
/// `df` not positive).
pub fn t_quantile(p: f64, df: f64) -> f64 {
    use statrs::distribution::{ContinuousCDF, StudentsT};
    match StudentsT::new(0.0, 1.0, df) {
        Ok(t) if (0.0..=1.0).contains(&p) => t.inverse_cdf(p),
        _ => f64::NAN,
    }
}

/// The 25th percentile, the median and the 75th percentile of a sample.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Quartiles {
    pub q25: f64,
    pub median: f64,
    pub q75: f64,
}

impl Quartiles {
    /// All three NaN (no finite values).
    pub const NAN: Self = Self {
        q25: f64::NAN,
        median: f64::NAN,
        q75: f64::NAN,
    };
}

/// Quartiles of the finite values among `xs` (non-finite ones are left out; NaN when none is
/// left), each the sorted value nearest to its rank: `sorted[round((n - 1) q)]`.
pub fn quartiles(xs: impl IntoIterator<Item = f64>) -> Quartiles {
    let mut v: Vec<f64> = xs.into_iter().filter(|x| x.is_finite()).collect();
    if v.is_empty() {
        return Quartiles::NAN;
    }
    v.sort_by(f64::total_cmp);
    let at = |q: f64| v[((v.len() - 1) as f64 * q).round() as usize];
    Quartiles {
        q25: at(0.25),
        median: at(0.5),
        q75: at(0.75),
    }
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

    #[test]
    fn quartiles_by_nearest_rank_without_non_finite_values() {
        let q = quartiles([3.0, f64::NAN, 1.0, 2.0, f64::INFINITY, 5.0, 4.0]);
        assert_eq!(
            q,
            Quartiles {
                q25: 2.0,
                median: 3.0,
                q75: 4.0
            }
        );
        assert!(quartiles([f64::NAN]).median.is_nan());
        assert!(quartiles([]).q25.is_nan());
    }
}
