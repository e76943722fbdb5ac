//! Predictive sampling ([`PlannerMethod::PredictiveSampling`](super::PlannerMethod::PredictiveSampling)),
//! MuJoCo MPC's default planner.
//!
//! Candidate 0 is the nominal sequence (the warm start, else zeros), the other K - 1 are
//! `clip(nominal + perturbation)`; the best candidate, the nominal included, becomes the nominal
//! of the next round (and, through the warm start, of the next plan), so for a deterministic
//! model the best score never falls. Perturbations are the noise settings' kind, or with
//! `spline_points` P > 0 piecewise-linear splines through P knots spread evenly over the
//! horizon, each knot an independent N(0, variance) per action dimension (P = 1: a constant
//! offset).
use super::noise::NoiseConfig;
use super::planner::Plan;
use super::sampling::{Scorer, nominal_and_perturbations};
use crate::models::ModelError;
use rand::Rng;
use rand::rngs::StdRng;
use rand_distr::StandardNormal;

pub(super) fn plan(
    scorer: &mut Scorer<'_, '_>,
    rng: &mut StdRng,
    noise: NoiseConfig,
    warm: Option<Vec<f64>>,
    k: usize,
    spline_points: usize,
    iterations: usize,
) -> Result<Plan, ModelError> {
    let (n, m) = (scorer.horizon_steps, scorer.action_size);
    let mut nominal = warm.unwrap_or_else(|| vec![0.0; n * m]);
    let mut round_best = Vec::with_capacity(iterations);
    loop {
        let sampled = if spline_points == 0 {
            noise.sample(rng, k - 1, n, m)
        } else {
            splines(rng, noise.variance, spline_points, k - 1, n, m)
        };
        let mut plan = scorer.score(nominal_and_perturbations(&nominal, &sampled))?;
        round_best.push(plan.best_score());
        if round_best.len() >= iterations {
            plan.round_best_scores = round_best;
            return Ok(plan);
        }
        nominal = plan.sequence(plan.best).to_vec();
    }
}

/// `candidates` perturbations `[K][N][m]`: per candidate and action dimension, `points` knots
/// of N(0, variance) at evenly spread steps (the first at step 0, the last at step N - 1),
/// linearly interpolated in between; one knot is a constant.
fn splines(
    rng: &mut StdRng,
    variance: f64,
    points: usize,
    candidates: usize,
    n: usize,
    m: usize,
) -> Vec<f64> {
    let sigma = variance.max(0.0).sqrt();
    let mut out = vec![0.0; candidates * n * m];
    let mut knots = vec![0.0; points];
    for c in 0..candidates {
        for d in 0..m {
            for v in knots.iter_mut() {
                *v = sigma * rng.sample::<f64, _>(StandardNormal);
            }
            for t in 0..n {
                out[(c * n + t) * m + d] = interpolate(&knots, t, n);
            }
        }
    }
    out
}

/// The piecewise-linear curve through `knots` spread evenly over steps 0..n-1, at step `t`.
fn interpolate(knots: &[f64], t: usize, n: usize) -> f64 {
    if knots.len() == 1 || n == 1 {
        return knots[0];
    }
    let x = t as f64 * (knots.len() - 1) as f64 / (n - 1) as f64;
    let j = (x.floor() as usize).min(knots.len() - 2);
    let f = x - j as f64;
    knots[j] * (1.0 - f) + knots[j + 1] * f
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::data::Episode;
    use crate::envs::{Env, MujocoEnv, make_task};
    use crate::models::{GroundTruth, PlanContext};
    use crate::plan::{Planner, PlannerConfig, PlannerMethod};
    use rand::SeedableRng;

    #[test]
    fn splines_pass_through_their_knots_and_are_straight_between() {
        assert_eq!(interpolate(&[0.0, 1.0, -1.0], 0, 11), 0.0);
        assert!((interpolate(&[0.0, 1.0, -1.0], 5, 11) - 1.0).abs() < 1e-12);
        assert!((interpolate(&[0.0, 1.0, -1.0], 10, 11) + 1.0).abs() < 1e-12);
        assert!((interpolate(&[0.0, 1.0, -1.0], 2, 11) - 0.4).abs() < 1e-12);
        assert_eq!(interpolate(&[0.3], 7, 11), 0.3);
        // One knot: a constant offset per candidate and dimension.
        let s = splines(&mut StdRng::seed_from_u64(1), 0.5, 1, 3, 10, 2);
        for c in 0..3 {
            for d in 0..2 {
                let first = s[c * 20 + d];
                assert!((0..10).all(|t| s[(c * 10 + t) * 2 + d] == first));
            }
        }
        // Two knots: straight lines, equal second differences of zero.
        let s = splines(&mut StdRng::seed_from_u64(2), 0.5, 2, 1, 10, 1);
        assert!(
            s.windows(3)
                .all(|w| (w[0] - 2.0 * w[1] + w[2]).abs() < 1e-12)
        );
        assert!(s[0] != s[9]);
    }

    #[test]
    fn the_best_becomes_the_nominal_and_never_scores_lower() {
        let task = make_task("cartpole-swingup").unwrap();
        let mut env = MujocoEnv::new(task.clone());
        let obs = env.reset(5).unwrap();
        let history = Episode::new(&obs, 1);
        let state = env.state();
        let ctx = PlanContext {
            history: &history,
            state: Some(&state),
        };
        let mut model = GroundTruth::new(task.clone(), 1);
        let config = |spline_points, iterations| PlannerConfig {
            candidates: 10,
            horizon_steps: 20,
            seed: 3,
            noise: NoiseConfig {
                variance: 0.1,
                ..NoiseConfig::default()
            },
            method: PlannerMethod::PredictiveSampling {
                spline_points,
                iterations,
            },
            ..PlannerConfig::default()
        };
        for points in [0, 3] {
            let mut planner = Planner::new(config(points, 4));
            let first = planner.plan(&mut model, task.as_ref(), &ctx).unwrap();
            assert_eq!(first.candidates(), 10);
            assert_eq!(first.evaluations, 40);
            let rounds = &first.round_best_scores;
            assert!(rounds.windows(2).all(|w| w[1] >= w[0]), "{rounds:?}");
            assert!(rounds[3] > rounds[0], "{points} knots: no gain {rounds:?}");
            assert_eq!(first.scores[first.best], rounds[3]);
            assert_eq!(first.action, first.candidate_action(first.best, 0));
            // The next plan's nominal (candidate 0) is this plan's best, shifted one step.
            let chosen = first.sequence(first.best).to_vec();
            planner.set_config(config(points, 1));
            let next = planner.plan(&mut model, task.as_ref(), &ctx).unwrap();
            assert_eq!(&next.sequence(0)[..19], &chosen[1..]);
            assert!(next.best_score() >= next.scores[0]);
        }
    }
}
