//! Evaluation: MPC returns per planner setting with 68% confidence intervals (the paper's
//! Fig. 4 format), and prediction error against horizon (its Fig. 13).
use super::mpc::{MpcAgent, run_mpc_episode};
use super::noise::NoiseConfig;
use super::planner::PlannerConfig;
use super::stats::{MeanCi, mean_ci68};
use crate::data::{DataError, Episode};
use crate::envs::{Env, MujocoEnv, Task};
use crate::models::{DynamicsModel, ModelError, PlanContext};
use crate::sim::RolloutWorkers;
use rand::SeedableRng;
use rand::rngs::StdRng;
use serde::{Deserialize, Serialize};
use std::sync::Arc;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct EvalSetting {
    pub candidates: usize,
    pub horizon_steps: usize,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct EvalSummary {
    pub env: String,
    pub model: String,
    pub candidates: usize,
    pub horizon_steps: usize,
    pub episodes: usize,
    pub steps_per_episode: usize,
    pub returns: Vec<f64>,
    pub return_ci68: MeanCi,
    pub mean_plan_ms: f64,
    pub failed_episodes: usize,
}

/// Runs `episodes` MPC episodes (seeds `seed`, `seed + 1`, ...; the same initial states for
/// every setting) per setting. `make_model` builds a fresh model per setting.
#[allow(clippy::too_many_arguments)]
pub fn evaluate(
    task: &Arc<dyn Task>,
    make_model: &mut dyn FnMut() -> Result<Box<dyn DynamicsModel>, ModelError>,
    settings: &[EvalSetting],
    base: PlannerConfig,
    episodes: usize,
    seed: u64,
    max_steps: usize,
    progress: &mut dyn FnMut(&EvalSummary, usize),
) -> Result<Vec<EvalSummary>, DataError> {
    let mut out = Vec::new();
    let mut env = MujocoEnv::new(Arc::clone(task));
    let steps = max_steps.min(task.spec().episode_steps);
    for s in settings {
        let model = make_model().map_err(|e| DataError::Policy(e.to_string()))?;
        let name = model.name();
        let config = PlannerConfig {
            candidates: s.candidates,
            horizon_steps: s.horizon_steps,
            ..base
        };
        let mut agent = MpcAgent::new(config, model, Arc::clone(task));
        let mut summary = EvalSummary {
            env: task.spec().name.clone(),
            model: name,
            candidates: s.candidates,
            horizon_steps: s.horizon_steps,
            episodes,
            steps_per_episode: steps,
            returns: Vec::new(),
            return_ci68: mean_ci68(&[]),
            mean_plan_ms: 0.0,
            failed_episodes: 0,
        };
        let mut plan_ms = Vec::new();
        for e in 0..episodes {
            let r = run_mpc_episode(&mut env, &mut agent, seed + e as u64, steps)?;
            if r.failure.is_some() {
                summary.failed_episodes += 1;
            }
            summary.returns.push(r.total_reward);
            plan_ms.push(r.mean_plan_ms);
            summary.return_ci68 = mean_ci68(&summary.returns);
            summary.mean_plan_ms = plan_ms.iter().sum::<f64>() / plan_ms.len() as f64;
            progress(&summary, e + 1);
        }
        out.push(summary);
    }
    Ok(out)
}

/// Root-mean-square difference of `p` and `q` over the entries `dims`.
pub fn rms_over(p: &[f64], q: &[f64], dims: &[usize]) -> f64 {
    let sum: f64 = dims.iter().map(|&i| (p[i] - q[i]).powi(2)).sum();
    (sum / dims.len().max(1) as f64).sqrt()
}

/// Prediction error against horizon: from `runs` random initial states (seeds `seed + r`), one
/// action sequence of `horizon_steps` from `noise` each; the model's imagined observations
/// against MuJoCo's. Per horizon step: (median, 25th, 75th percentile) over runs of the RMS error
/// over observation entries that are not velocities.
pub fn prediction_error_by_horizon(
    task: &Arc<dyn Task>,
    model: &mut dyn DynamicsModel,
    runs: usize,
    horizon_steps: usize,
    noise: NoiseConfig,
    seed: u64,
) -> Result<Vec<[f64; 3]>, ModelError> {
    let spec = task.spec().clone();
    let dims = spec.non_velocity_indices();
    let mut env = MujocoEnv::new(Arc::clone(task));
    let mut truth = RolloutWorkers::new(task.model().clone(), 1);
    let mut errors = vec![Vec::with_capacity(runs); horizon_steps];
    for r in 0..runs {
        let obs = env
            .reset(seed + r as u64)
            .map_err(|e| ModelError::Other(e.to_string()))?;
        let state = env.state();
        let actions = noise.sample(
            &mut StdRng::seed_from_u64(seed ^ (r as u64) << 20),
            1,
            horizon_steps,
            spec.action_size,
        );
        let real = truth.run(&state, task.as_ref(), &actions, 1, horizon_steps)?;
        if real.failures[0].is_some() {
            continue;
        }
        let history = Episode::new(&obs, spec.action_size);
        let ctx = PlanContext {
            history: &history,
            state: Some(&state),
        };
        let imagined = model.imagine(&ctx, &actions, 1, horizon_steps)?;
        for (t, errs) in errors.iter_mut().enumerate() {
            let (p, q) = (imagined.observation(0, t), real.observation(0, t));
            errs.push(rms_over(p, q, &dims));
        }
    }
    Ok(errors
        .into_iter()
        .map(|mut e| {
            e.sort_by(f64::total_cmp);
            let q = |p: f64| {
                if e.is_empty() {
                    f64::NAN
                } else {
                    e[((e.len() - 1) as f64 * p).round() as usize]
                }
            };
            [q(0.5), q(0.25), q(0.75)]
        })
        .collect())
}
