//! What the planner family shares: imagining and scoring a batch of candidates ([`Scorer`],
//! several rollouts per candidate included), perturbations of a nominal sequence, and the best
//! of a batch.
use super::planner::{Objective, Plan};
use crate::envs::Task;
use crate::models::{DynamicsModel, Imagined, ModelError, PlanContext};

/// Imagines and scores batches of candidates for one plan, counting the candidate rollouts it
/// imagined (the plan's model-evaluation budget).
pub(super) struct Scorer<'a, 'c> {
    pub model: &'a mut dyn DynamicsModel,
    pub task: &'a dyn Task,
    pub ctx: &'a PlanContext<'c>,
    pub objective: Objective,
    /// Imagined rollouts per candidate (its score their mean); at least 1.
    pub rollouts: usize,
    pub horizon_steps: usize,
    pub action_size: usize,
    /// Candidate rollouts imagined so far.
    pub evaluations: usize,
}

impl Scorer<'_, '_> {
    /// `actions` (`[k][N][m]`, k = its length over N x m) imagined and scored: a plan whose
    /// best is the highest score and whose action is the best's first.
    pub fn score(&mut self, actions: Vec<f64>) -> Result<Plan, ModelError> {
        let (n, m) = (self.horizon_steps, self.action_size);
        let k = actions.len() / (n * m).max(1);
        self.evaluations += k * self.rollouts;
        if self.rollouts > 1 {
            let (imagined, scores) = imagine_repeated(
                self.model,
                self.task,
                self.objective,
                self.ctx,
                &actions,
                k,
                n,
                self.rollouts,
            )?;
            Ok(Plan::scored(
                actions,
                m,
                imagined,
                self.objective,
                0,
                scores,
            ))
        } else {
            let imagined = self.model.imagine(self.ctx, &actions, k, n)?;
            Ok(Plan::new(
                actions,
                m,
                imagined,
                self.objective,
                0,
                self.task,
            ))
        }
    }
}

/// The index of the highest score (the first of equals); 0 where every score is `-inf`.
pub(super) fn best_index(scores: &[f64]) -> usize {
    scores
        .iter()
        .enumerate()
        .fold((0, f64::NEG_INFINITY), |(bi, bs), (i, &s)| {
            if s > bs { (i, s) } else { (bi, bs) }
        })
        .0
}

/// Candidate 0 the `nominal` itself (`[N][m]`), then one candidate per sequence of `noise`
/// (`[K-1][N][m]`): `clip(nominal + noise, -1, 1)`.
pub(super) fn nominal_and_perturbations(nominal: &[f64], noise: &[f64]) -> Vec<f64> {
    let mut out = Vec::with_capacity(nominal.len() + noise.len());
    out.extend_from_slice(nominal);
    out.extend(perturbed(nominal, noise));
    out
}

/// Each sequence of `noise` (`[K][N][m]`) added to `nominal` (`[N][m]`), clipped to [-1, 1].
pub(super) fn perturbed<'a>(
    nominal: &'a [f64],
    noise: &'a [f64],
) -> impl Iterator<Item = f64> + 'a {
    noise
        .iter()
        .enumerate()
        .map(move |(i, e)| (nominal[i % nominal.len()] + e).clamp(-1.0, 1.0))
}

/// Imagines each of the `k` candidates `rollouts` times (one batch of k x rollouts) and returns
/// the first rollout of each (what is drawn) with each candidate's mean score; a candidate any
/// of whose rollouts failed scores `-inf`.
#[allow(clippy::too_many_arguments)]
pub(super) fn imagine_repeated(
    model: &mut dyn DynamicsModel,
    task: &dyn Task,
    objective: Objective,
    ctx: &PlanContext<'_>,
    actions: &[f64],
    k: usize,
    n: usize,
    rollouts: usize,
) -> Result<(Imagined, Vec<f64>), ModelError> {
    let m = actions.len() / (k * n).max(1);
    let per = n * m;
    let tiled: Vec<f64> = (0..k * rollouts)
        .flat_map(|i| {
            actions[(i / rollouts) * per..(i / rollouts + 1) * per]
                .iter()
                .copied()
        })
        .collect();
    let all = model.imagine(ctx, &tiled, k * rollouts, n)?;
    let scratch = Plan::new(tiled, m, all, objective, 0, task);
    let scores = scratch
        .scores
        .chunks(rollouts)
        .map(|c| {
            let mean = c.iter().sum::<f64>() / rollouts as f64;
            if mean.is_nan() {
                f64::NEG_INFINITY
            } else {
                mean
            }
        })
        .collect();
    let all = scratch.imagined;
    let size = all.observation_size;
    let first = |c: usize| c * rollouts;
    let imagined = Imagined {
        candidates: k,
        horizon_steps: n,
        observation_size: size,
        observations: (0..k)
            .flat_map(|c| {
                let start = first(c) * n * size;
                all.observations[start..start + n * size].iter().copied()
            })
            .collect(),
        rewards: all.rewards.as_ref().map(|r| {
            (0..k)
                .flat_map(|c| r[first(c) * n..(first(c) + 1) * n].iter().copied())
                .collect()
        }),
        failures: (0..k)
            .map(|c| {
                all.failures[first(c)..first(c) + rollouts]
                    .iter()
                    .find_map(Clone::clone)
            })
            .collect(),
    };
    Ok((imagined, scores))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_best_index_is_the_first_highest_finite_score() {
        assert_eq!(best_index(&[1.0, 3.0, 3.0, 2.0]), 1);
        assert_eq!(best_index(&[f64::NEG_INFINITY, -5.0]), 1);
        assert_eq!(best_index(&[f64::NEG_INFINITY; 3]), 0);
    }

    #[test]
    fn perturbations_keep_the_nominal_first_and_stay_in_the_box() {
        let nominal = [0.5, -0.5, 0.9];
        let noise = [0.1, 0.1, 0.3, -0.7, -0.6, 0.0];
        let out = nominal_and_perturbations(&nominal, &noise);
        assert_eq!(&out[..3], &nominal);
        let expect = [0.6, -0.4, 1.0, -0.2, -1.0, 0.9];
        for (a, b) in out[3..].iter().zip(expect) {
            assert!((a - b).abs() < 1e-12, "{out:?}");
        }
    }
}
