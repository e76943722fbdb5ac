//! Model-predictive path integral control ([`PlannerMethod::Mppi`](super::PlannerMethod::Mppi)).
//!
//! Each round imagines the nominal sequence (the warm start, else zeros) as candidate 0 and
//! K - 1 perturbations `clip(nominal + noise)` drawn from the noise settings, and replaces the
//! nominal by the candidates' mean weighted by `exp((score - best) / temperature)` (candidates
//! whose imagination failed weigh nothing; where all failed the nominal stays). After the last
//! round the weighted mean is imagined once more and appended to the round's K candidates as
//! the plan's chosen one (index K), so what is drawn, replayed and warm-started is what is
//! applied.
use super::noise::NoiseConfig;
use super::planner::Plan;
use super::sampling::{Scorer, nominal_and_perturbations};
use crate::models::ModelError;
use rand::rngs::StdRng;

pub(super) fn plan(
    scorer: &mut Scorer<'_, '_>,
    rng: &mut StdRng,
    noise: NoiseConfig,
    warm: Option<Vec<f64>>,
    k: usize,
    temperature: f64,
    iterations: usize,
) -> Result<Plan, ModelError> {
    let (n, m) = (scorer.horizon_steps, scorer.action_size);
    let mut nominal = warm.unwrap_or_else(|| vec![0.0; n * m]);
    let mut round_best = Vec::with_capacity(iterations);
    let mut plan = None;
    for _ in 0..iterations {
        let sampled = noise.sample(rng, k - 1, n, m);
        let round = scorer.score(nominal_and_perturbations(&nominal, &sampled))?;
        round_best.push(round.best_score());
        if let Some(mean) = weighted_mean(&round, temperature) {
            nominal = mean;
        }
        plan = Some(round);
    }
    let mean = scorer.score(nominal)?;
    let Some(mut plan) = plan else {
        // No round ran (never: iterations is at least 1); the mean alone is the plan.
        return Ok(mean);
    };
    append(&mut plan, mean);
    plan.choose(plan.candidates() - 1);
    plan.round_best_scores = round_best;
    Ok(plan)
}

/// The candidates' actions weighted by `exp((score - best) / temperature)`; `None` where no
/// candidate has a finite score.
fn weighted_mean(plan: &Plan, temperature: f64) -> Option<Vec<f64>> {
    let best = plan.best_score();
    if !best.is_finite() {
        return None;
    }
    let t = temperature.max(f64::MIN_POSITIVE);
    let weights: Vec<f64> = plan
        .scores
        .iter()
        .map(|&s| {
            if s.is_finite() {
                ((s - best) / t).exp()
            } else {
                0.0
            }
        })
        .collect();
    // The best weighs 1, so the total is at least 1.
    let total: f64 = weights.iter().sum();
    let mut mean = vec![0.0; plan.horizon_steps() * plan.action_size];
    for (c, w) in weights.iter().enumerate().filter(|(_, w)| **w > 0.0) {
        for (s, a) in mean.iter_mut().zip(plan.sequence(c)) {
            *s += w / total * a;
        }
    }
    Some(mean.into_iter().map(|a| a.clamp(-1.0, 1.0)).collect())
}

/// `extra`'s candidates after `plan`'s (the same model, so the same reward layout).
fn append(plan: &mut Plan, extra: Plan) {
    let (into, from) = (&mut plan.imagined, extra.imagined);
    into.candidates += from.candidates;
    into.observations.extend(from.observations);
    into.rewards = match (into.rewards.take(), from.rewards) {
        (Some(mut a), Some(b)) => {
            a.extend(b);
            Some(a)
        }
        _ => None,
    };
    into.failures.extend(from.failures);
    plan.actions.extend(extra.actions);
    plan.scores.extend(extra.scores);
}

#[cfg(test)]
mod tests {
    use crate::data::Episode;
    use crate::envs::{Env, MujocoEnv, make_task};
    use crate::models::{GroundTruth, PlanContext};
    use crate::plan::{Planner, PlannerConfig, PlannerMethod};

    fn mppi(temperature: f64, iterations: usize) -> PlannerConfig {
        PlannerConfig {
            candidates: 12,
            horizon_steps: 20,
            seed: 9,
            method: PlannerMethod::Mppi {
                temperature,
                iterations,
            },
            ..PlannerConfig::default()
        }
    }

    #[test]
    fn a_cold_temperature_picks_the_best_candidate_and_a_hot_one_averages() {
        let task = make_task("cartpole-swingup").unwrap();
        let mut env = MujocoEnv::new(task.clone());
        let obs = env.reset(1).unwrap();
        let history = Episode::new(&obs, 1);
        let state = env.state();
        let ctx = PlanContext {
            history: &history,
            state: Some(&state),
        };
        let mut model = GroundTruth::new(task.clone(), 1);
        let cold = Planner::new(mppi(1e-9, 1))
            .plan(&mut model, task.as_ref(), &ctx)
            .unwrap();
        // K candidates and the weighted mean after them, which is chosen.
        assert_eq!(cold.candidates(), 13);
        assert_eq!(cold.evaluations, 13);
        assert_eq!(cold.best, 12);
        let sampled_best = super::super::sampling::best_index(&cold.scores[..12]);
        assert_eq!(cold.sequence(12), cold.sequence(sampled_best));
        assert_eq!(cold.action, cold.candidate_action(sampled_best, 0));
        // Ground truth: the same actions score the same.
        assert_eq!(cold.scores[12], cold.scores[sampled_best]);
        assert_eq!(cold.round_best_scores, vec![cold.scores[sampled_best]]);
        // A hot temperature: the plain mean of the candidates, not any one of them.
        let hot = Planner::new(mppi(1e9, 1))
            .plan(&mut model, task.as_ref(), &ctx)
            .unwrap();
        let (n, k) = (20, 12);
        for t in 0..n {
            let mean: f64 = (0..k).map(|c| hot.candidate_action(c, t)[0]).sum::<f64>() / k as f64;
            assert!(
                (hot.candidate_action(k, t)[0] - mean).abs() < 1e-6,
                "step {t}"
            );
        }
        assert!((0..k).all(|c| hot.sequence(c) != hot.sequence(k)));
    }

    #[test]
    fn later_rounds_start_from_the_weighted_mean_and_the_warm_start_shifts_it() {
        let task = make_task("cartpole-swingup").unwrap();
        let mut env = MujocoEnv::new(task.clone());
        let obs = env.reset(4).unwrap();
        let history = Episode::new(&obs, 1);
        let state = env.state();
        let ctx = PlanContext {
            history: &history,
            state: Some(&state),
        };
        let mut model = GroundTruth::new(task.clone(), 1);
        let mut planner = Planner::new(mppi(1e-9, 3));
        let first = planner.plan(&mut model, task.as_ref(), &ctx).unwrap();
        assert_eq!(first.evaluations, 3 * 12 + 1);
        // With a cold temperature each round's nominal is the previous round's best, so the
        // best score never falls; the mean (the last round's best) is chosen.
        let rounds = &first.round_best_scores;
        assert!(rounds.windows(2).all(|w| w[1] >= w[0]), "{rounds:?}");
        assert_eq!(first.scores[12], rounds[2]);
        // The next plan's first nominal (candidate 0 of its only round) is this plan's chosen
        // sequence, shifted.
        planner.set_config(mppi(1e-9, 1));
        planner.set_warm_shift(2);
        let next = planner.plan(&mut model, task.as_ref(), &ctx).unwrap();
        let chosen = first.sequence(first.best);
        assert_eq!(&next.sequence(0)[..18], &chosen[2..]);
        assert_eq!(next.sequence(0)[18..], [chosen[19], chosen[19]]);
    }
}
