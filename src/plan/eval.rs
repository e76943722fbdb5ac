//! Evaluation: MPC returns per planner setting with 68% confidence intervals (the paper's
//! Fig. 4 format), and prediction error against horizon (its Fig. 13).
use super::latency::Latency;
use super::mpc::{MpcAgent, run_mpc_episode};
use super::noise::NoiseConfig;
use super::planner::PlannerConfig;
use super::stats::{MeanCi, Quartiles, mean_ci68, quartiles};
use crate::data::{DataError, Episode};
use crate::envs::{Env, MujocoEnv, Task};
use crate::models::tdm::Decoding;
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
    /// The planner's settings (K and N included), the first episode's seed and the TDM's
    /// decoding: with the fields above, what a resumed evaluation must match to keep these
    /// episodes. (Absent in files from before resuming existed; such files are never resumed.)
    #[serde(default)]
    pub planner: Option<PlannerConfig>,
    #[serde(default)]
    pub seed: Option<u64>,
    #[serde(default)]
    pub decoding: Option<Decoding>,
    /// The simulated planning latency (none: lock-step, as in files from before it existed).
    #[serde(default)]
    pub latency: Latency,
    /// Under latency: each plan started from the model's forecast of where it would act.
    #[serde(default)]
    pub forecast: bool,
    /// Per episode: mean planning time (ms) and whether the episode failed.
    #[serde(default)]
    pub episode_plan_ms: Vec<f64>,
    #[serde(default)]
    pub episode_failed: Vec<bool>,
}

impl EvalSummary {
    /// Whether `self` (read back from a results file) ran the same evaluation as `fresh`
    /// (whatever episodes either holds), so that its finished episodes stand for the first
    /// episodes of `fresh`.
    pub fn continues(&self, fresh: &EvalSummary) -> bool {
        self.planner.is_some()
            && self.seed.is_some()
            && (&self.env, &self.model, self.candidates, self.horizon_steps)
                == (
                    &fresh.env,
                    &fresh.model,
                    fresh.candidates,
                    fresh.horizon_steps,
                )
            && self.steps_per_episode == fresh.steps_per_episode
            && (self.planner, self.seed, self.decoding)
                == (fresh.planner, fresh.seed, fresh.decoding)
            && (self.latency, self.forecast) == (fresh.latency, fresh.forecast)
            && self.episode_plan_ms.len() == self.returns.len()
            && self.episode_failed.len() == self.returns.len()
    }

    fn push_episode(&mut self, total_reward: f64, plan_ms: f64, failed: bool) {
        self.returns.push(total_reward);
        self.episode_plan_ms.push(plan_ms);
        self.episode_failed.push(failed);
        self.failed_episodes = self.episode_failed.iter().filter(|&&f| f).count();
        self.return_ci68 = mean_ci68(&self.returns);
        self.mean_plan_ms =
            self.episode_plan_ms.iter().sum::<f64>() / self.episode_plan_ms.len() as f64;
    }
}

/// What [`evaluate`] runs.
#[derive(Clone, Copy, Debug)]
pub struct EvalRequest<'a> {
    pub settings: &'a [EvalSetting],
    /// The planner; K and N come from each setting.
    pub base: PlannerConfig,
    pub episodes: usize,
    /// Episode `e` starts from seed `seed + e` (the same initial states for every setting).
    pub seed: u64,
    pub max_steps: usize,
    /// The TDM's decoding, recorded with the results (`None` for other models).
    pub decoding: Option<Decoding>,
    /// Each plan acts this late (simulated real time); none is lock-step.
    pub latency: Latency,
    /// Under latency, plan from the model's forecast of the state where the plan will act.
    pub forecast: bool,
    /// Results of an earlier, interrupted run: the episodes of a setting it
    /// [continues](EvalSummary::continues) are kept rather than run again. Every episode reseeds
    /// the planner, so (for deterministic models and decodings) the kept episodes are exactly
    /// the ones a full run would have played.
    pub earlier: &'a [EvalSummary],
}

/// Runs `request.episodes` MPC episodes per setting; `make_model` builds a fresh model per
/// setting. `progress` sees the setting's summary after each episode (and once, with every
/// episode done, for a setting finished entirely by earlier results) with the count done.
pub fn evaluate(
    task: &Arc<dyn Task>,
    make_model: &mut dyn FnMut() -> Result<Box<dyn DynamicsModel>, ModelError>,
    request: &EvalRequest<'_>,
    progress: &mut dyn FnMut(&EvalSummary, usize),
) -> Result<Vec<EvalSummary>, DataError> {
    let mut out = Vec::new();
    let mut env = MujocoEnv::new(Arc::clone(task));
    let steps = request.max_steps.min(task.spec().episode_steps);
    let episodes = request.episodes;
    for s in request.settings {
        let model = make_model().map_err(|e| DataError::Policy(e.to_string()))?;
        let config = PlannerConfig {
            candidates: s.candidates,
            horizon_steps: s.horizon_steps,
            ..request.base
        };
        let mut summary = EvalSummary {
            env: task.spec().name.clone(),
            model: model.name(),
            candidates: s.candidates,
            horizon_steps: s.horizon_steps,
            episodes,
            steps_per_episode: steps,
            returns: Vec::new(),
            return_ci68: mean_ci68(&[]),
            mean_plan_ms: 0.0,
            failed_episodes: 0,
            planner: Some(config),
            seed: Some(request.seed),
            decoding: request.decoding,
            latency: request.latency,
            forecast: request.forecast && request.latency != Latency::None,
            episode_plan_ms: Vec::new(),
            episode_failed: Vec::new(),
        };
        if let Some(old) = request.earlier.iter().find(|o| o.continues(&summary)) {
            for e in 0..old.returns.len().min(episodes) {
                summary.push_episode(
                    old.returns[e],
                    old.episode_plan_ms[e],
                    old.episode_failed[e],
                );
            }
            if summary.returns.len() == episodes {
                progress(&summary, episodes);
            }
        }
        let mut agent = MpcAgent::new(config, model, Arc::clone(task))
            .with_latency(request.latency)
            .with_forecast(request.forecast);
        for e in summary.returns.len()..episodes {
            let r = run_mpc_episode(&mut env, &mut agent, request.seed + e as u64, steps)?;
            summary.push_episode(r.total_reward, r.mean_plan_ms, r.failure.is_some());
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
/// against MuJoCo's. Per horizon step: the quartiles over runs of the RMS error over observation
/// entries that are not velocities.
pub fn prediction_error_by_horizon(
    task: &Arc<dyn Task>,
    model: &mut dyn DynamicsModel,
    runs: usize,
    horizon_steps: usize,
    noise: NoiseConfig,
    seed: u64,
) -> Result<Vec<Quartiles>, ModelError> {
    let spec = task.spec().clone();
    let dims = spec.non_velocity_indices();
    let mut env = MujocoEnv::new(Arc::clone(task));
    let mut truth = RolloutWorkers::new(task.model().clone(), 1);
    let mut errors = vec![Vec::with_capacity(runs); horizon_steps];
    for r in 0..runs {
        let obs = env.reset(seed + r as u64)?;
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
    Ok(errors.into_iter().map(quartiles).collect())
}
