//! Candidate action sequences (appendix B of the paper).
//!
//! - Brownian (default, variance 2 as in the paper): a random walk per action dimension with
//!   drift 0 and step variance sigma^2, held in the unit box: x_0 = clip(e_0),
//!   x_{t+1} = clip(x_t + e_{t+1}), e ~ N(0, sigma^2). Clipping the walk itself (rather than only
//!   its output) keeps it able to turn back at once, and covers [-1, 1] symmetrically with some
//!   extra mass on the bounds (the paper's "slight bias for bang-bang control").
//! - White: independent clip(N(0, sigma^2)) per step.
//! - Pink (1/f): Voss-McCartney sum of 8 rows updated at rates 1, 1/2, 1/4, ..., scaled to
//!   variance sigma^2, then clipped.
use rand::Rng;
use rand::rngs::StdRng;
use rand_distr::StandardNormal;
use serde::{Deserialize, Serialize};

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum NoiseKind {
    Brownian,
    White,
    Pink,
}

impl NoiseKind {
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "brownian" => Some(Self::Brownian),
            "white" => Some(Self::White),
            "pink" => Some(Self::Pink),
            _ => None,
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NoiseConfig {
    pub kind: NoiseKind,
    /// sigma^2.
    pub variance: f64,
}

impl Default for NoiseConfig {
    fn default() -> Self {
        Self {
            kind: NoiseKind::Brownian,
            variance: 2.0,
        }
    }
}

const PINK_ROWS: usize = 8;

impl NoiseConfig {
    /// `candidates` sequences of `steps` actions of size `m`, `[K][N][m]`, in [-1, 1].
    pub fn sample(&self, rng: &mut StdRng, candidates: usize, steps: usize, m: usize) -> Vec<f64> {
        let mut out = vec![0.0; candidates * steps * m];
        let sigma = self.variance.max(0.0).sqrt();
        for k in 0..candidates {
            for d in 0..m {
                let mut series = self.series(rng, steps, sigma);
                for (t, x) in series.drain(..).enumerate() {
                    out[(k * steps + t) * m + d] = x;
                }
            }
        }
        out
    }

    /// One action dimension over `steps` steps.
    fn series(&self, rng: &mut StdRng, steps: usize, sigma: f64) -> Vec<f64> {
        let mut normal = || rng.sample::<f64, _>(StandardNormal) * sigma;
        match self.kind {
            NoiseKind::Brownian => {
                let mut x = 0.0;
                (0..steps)
                    .map(|_| {
                        x = (x + normal()).clamp(-1.0, 1.0);
                        x
                    })
                    .collect()
            }
            NoiseKind::White => (0..steps).map(|_| normal().clamp(-1.0, 1.0)).collect(),
            NoiseKind::Pink => {
                let mut rows = [0.0; PINK_ROWS];
                rows.iter_mut().for_each(|r| *r = normal());
                let scale = 1.0 / ((PINK_ROWS + 1) as f64).sqrt();
                (0..steps)
                    .map(|t| {
                        // Row r changes when t has exactly r trailing zeros (t >= 1).
                        if t > 0 {
                            let r = (t.trailing_zeros() as usize).min(PINK_ROWS - 1);
                            rows[r] = normal();
                        }
                        ((rows.iter().sum::<f64>() + normal()) * scale).clamp(-1.0, 1.0)
                    })
                    .collect()
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;

    fn lag1_correlation(x: &[f64]) -> f64 {
        let mean = x.iter().sum::<f64>() / x.len() as f64;
        let var: f64 = x.iter().map(|v| (v - mean).powi(2)).sum();
        let cov: f64 = x.windows(2).map(|w| (w[0] - mean) * (w[1] - mean)).sum();
        cov / var
    }

    #[test]
    fn shapes_bounds_and_determinism() {
        for kind in [NoiseKind::Brownian, NoiseKind::White, NoiseKind::Pink] {
            let cfg = NoiseConfig {
                kind,
                variance: 2.0,
            };
            let a = cfg.sample(&mut StdRng::seed_from_u64(3), 16, 50, 3);
            assert_eq!(a.len(), 16 * 50 * 3);
            assert!(a.iter().all(|x| (-1.0..=1.0).contains(x)));
            assert_eq!(a, cfg.sample(&mut StdRng::seed_from_u64(3), 16, 50, 3));
            assert_ne!(a, cfg.sample(&mut StdRng::seed_from_u64(4), 16, 50, 3));
        }
    }

    #[test]
    fn brownian_is_correlated_in_time_and_white_is_not() {
        let series = |kind, variance| {
            NoiseConfig { kind, variance }.sample(&mut StdRng::seed_from_u64(1), 1, 20_000, 1)
        };
        let brown = lag1_correlation(&series(NoiseKind::Brownian, 0.05));
        let white = lag1_correlation(&series(NoiseKind::White, 0.05));
        let pink = lag1_correlation(&series(NoiseKind::Pink, 0.05));
        assert!(brown > 0.8, "brownian lag-1 correlation {brown}");
        assert!(white.abs() < 0.05, "white lag-1 correlation {white}");
        assert!(pink > white + 0.2 && pink < brown, "pink {pink}");
        // Symmetric coverage of the box.
        let b = series(NoiseKind::Brownian, 2.0);
        let mean = b.iter().sum::<f64>() / b.len() as f64;
        assert!(mean.abs() < 0.1, "{mean}");
    }
}
