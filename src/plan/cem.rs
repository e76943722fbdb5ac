//! The cross-entropy method ([`PlannerMethod::Cem`](super::PlannerMethod::Cem)): rounds of K
//! candidates from a diagonal Gaussian over action sequences, refitted to each round's elites.
//!
//! Round 1 samples the noise settings' kind around the mean (the warm start, else zeros), with
//! the warm start itself as candidate 0. Each round's `elites` best candidates give a mean and a
//! standard deviation per step and action dimension; the new mean is
//! `smoothing * old + (1 - smoothing) * elite mean` (likewise the deviation, which starts at
//! sqrt(variance)). Later rounds sample `clip(mean + std * N(0, 1))` for K - E candidates and
//! keep the E elites as the other candidates, so for a deterministic model the best score
//! never falls from round to round. The plan is the last round; its best candidate is applied.
use super::noise::NoiseConfig;
use super::planner::Plan;
use super::sampling::{Scorer, perturbed};
use crate::models::ModelError;
use rand::Rng;
use rand::rngs::StdRng;
use rand_distr::StandardNormal;

/// CEM's knobs, already checked.
#[derive(Clone, Copy, Debug)]
pub(super) struct Settings {
    pub iterations: usize,
    pub elites: usize,
    pub smoothing: f64,
}

pub(super) fn plan(
    scorer: &mut Scorer<'_, '_>,
    rng: &mut StdRng,
    noise: NoiseConfig,
    warm: Option<Vec<f64>>,
    k: usize,
    settings: Settings,
) -> Result<Plan, ModelError> {
    let per = scorer.horizon_steps * scorer.action_size;
    let mut mean = warm.clone().unwrap_or_else(|| vec![0.0; per]);
    let mut std = vec![noise.variance.max(0.0).sqrt(); per];
    let elites = settings.elites.clamp(1, k);
    // Round 1: the noise around the mean, the warm start as candidate 0.
    let kept: Vec<Vec<f64>> = warm.into_iter().take(k - 1).collect();
    let mut actions = kept.concat();
    let sampled = noise.sample(
        rng,
        k - kept.len(),
        scorer.horizon_steps,
        scorer.action_size,
    );
    actions.extend(perturbed(&mean, &sampled));
    let mut plan = scorer.score(actions)?;
    let mut round_best = vec![plan.best_score()];
    for _ in 1..settings.iterations {
        let order = elite_order(&plan.scores, elites);
        if !order.is_empty() {
            let (elite_mean, elite_std) = fit(&plan, &order);
            let a = settings.smoothing;
            for i in 0..per {
                mean[i] = a * mean[i] + (1.0 - a) * elite_mean[i];
                std[i] = a * std[i] + (1.0 - a) * elite_std[i];
            }
        }
        // The elites (at most K - 1, so every round samples something new) are candidates
        // again, then the Gaussian's samples.
        let mut actions: Vec<f64> = order
            .iter()
            .take(k - 1)
            .flat_map(|&c| plan.sequence(c).iter().copied())
            .collect();
        while actions.len() < k * per {
            for i in 0..per {
                let e: f64 = rng.sample(StandardNormal);
                actions.push((mean[i] + std[i] * e).clamp(-1.0, 1.0));
            }
        }
        plan = scorer.score(actions)?;
        round_best.push(plan.best_score());
    }
    plan.round_best_scores = round_best;
    Ok(plan)
}

/// The indices of the (at most) `elites` highest finite scores, best first.
fn elite_order(scores: &[f64], elites: usize) -> Vec<usize> {
    let mut order: Vec<usize> = (0..scores.len())
        .filter(|&c| scores[c].is_finite())
        .collect();
    order.sort_by(|&a, &b| scores[b].total_cmp(&scores[a]).then(a.cmp(&b)));
    order.truncate(elites);
    order
}

/// The mean and (population) standard deviation of the `chosen` candidates, per entry.
fn fit(plan: &Plan, chosen: &[usize]) -> (Vec<f64>, Vec<f64>) {
    let per = plan.horizon_steps() * plan.action_size;
    let count = chosen.len() as f64;
    let mut mean = vec![0.0; per];
    for &c in chosen {
        for (s, a) in mean.iter_mut().zip(plan.sequence(c)) {
            *s += a / count;
        }
    }
    let mut var = vec![0.0; per];
    for &c in chosen {
        for ((v, a), mu) in var.iter_mut().zip(plan.sequence(c)).zip(&mean) {
            *v += (a - mu).powi(2) / count;
        }
    }
    (mean, var.into_iter().map(f64::sqrt).collect())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::data::Episode;
    use crate::envs::{Env, MujocoEnv, make_task};
    use crate::models::{GroundTruth, PlanContext};
    use crate::plan::{Planner, PlannerConfig, PlannerMethod};

    #[test]
    fn elites_are_the_best_finite_scores_in_order() {
        let scores = [1.0, f64::NEG_INFINITY, 5.0, 3.0, 5.0];
        assert_eq!(elite_order(&scores, 3), vec![2, 4, 3]);
        assert_eq!(elite_order(&scores, 10), vec![2, 4, 3, 0]);
        assert!(elite_order(&[f64::NEG_INFINITY], 2).is_empty());
    }

    fn cem(iterations: usize, elites: usize, keep_best: bool) -> PlannerConfig {
        PlannerConfig {
            candidates: 16,
            horizon_steps: 25,
            seed: 4,
            keep_best,
            method: PlannerMethod::Cem {
                iterations,
                elites,
                smoothing: 0.1,
            },
            ..PlannerConfig::default()
        }
    }

    #[test]
    fn with_ground_truth_the_best_score_never_falls_and_beats_random_shooting() {
        let task = make_task("cartpole-swingup").unwrap();
        let mut env = MujocoEnv::new(task.clone());
        let obs = env.reset(2).unwrap();
        let history = Episode::new(&obs, 1);
        let state = env.state();
        let ctx = PlanContext {
            history: &history,
            state: Some(&state),
        };
        let mut model = GroundTruth::new(task.clone(), 1);
        let plan = Planner::new(cem(5, 4, true))
            .plan(&mut model, task.as_ref(), &ctx)
            .unwrap();
        assert_eq!(plan.candidates(), 16);
        assert_eq!(plan.evaluations, 5 * 16);
        let rounds = &plan.round_best_scores;
        assert_eq!(rounds.len(), 5);
        assert!(rounds.windows(2).all(|w| w[1] >= w[0]), "{rounds:?}");
        assert!(rounds[4] > rounds[0], "CEM did not improve: {rounds:?}");
        // The applied action is the last round's best candidate's, whose score is the best.
        assert_eq!(plan.scores[plan.best], rounds[4]);
        assert_eq!(plan.action, plan.candidate_action(plan.best, 0));
        assert!(plan.actions.iter().all(|a| (-1.0..=1.0).contains(a)));
        // One round without a warm start is random shooting with the same noise.
        let one = Planner::new(cem(1, 4, false))
            .plan(&mut model, task.as_ref(), &ctx)
            .unwrap();
        let shooting = Planner::new(PlannerConfig {
            method: PlannerMethod::RandomShooting,
            ..cem(1, 4, false)
        })
        .plan(&mut model, task.as_ref(), &ctx)
        .unwrap();
        assert_eq!(one.actions, shooting.actions);
        assert_eq!(one.best, shooting.best);
        // Five rounds of 16 beat one round of 16 from the same start.
        assert!(rounds[4] > shooting.best_score(), "{rounds:?}");
    }
}
