//! The random-shooting planner (section 4.1 of the paper): sample K candidate action sequences
//! of N steps, imagine them with a dynamics model, score each by its undiscounted sum of rewards,
//! act on the first action of the best.
use super::noise::NoiseConfig;
use crate::envs::Task;
use crate::models::{DynamicsModel, Imagined, ModelError, PlanContext};
use rand::SeedableRng;
use rand::rngs::StdRng;
use serde::{Deserialize, Serialize};
use std::time::Instant;

/// How a candidate is scored.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Objective {
    /// R(o') from predicted observations where the task allows it, else predicted rewards.
    Auto,
    /// Sum over the horizon of R(o_{t+k}) computed from the predicted observations (eq. 5).
    FromObservations,
    /// Sum over the horizon of the model's predicted rewards (eq. 6).
    PredictedRewards,
}

impl Objective {
    /// The objective actually used for `task`: `Auto` becomes `FromObservations` where the
    /// task computes rewards from observations, `PredictedRewards` otherwise.
    pub fn resolve(self, task: &dyn Task) -> Objective {
        match self {
            Objective::Auto => {
                let spec = task.spec();
                let probe = task.reward_from_observation(
                    &vec![0.0; spec.observation_size],
                    &vec![0.0; spec.action_size],
                );
                if probe.is_some() {
                    Objective::FromObservations
                } else {
                    Objective::PredictedRewards
                }
            }
            other => other,
        }
    }
}

impl Objective {
    /// Every choice with its command-line name.
    pub const NAMES: [(&'static str, Objective); 3] = [
        ("auto", Objective::Auto),
        ("observations", Objective::FromObservations),
        ("rewards", Objective::PredictedRewards),
    ];
}

/// An objective name that is none of [`Objective::NAMES`].
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown objective '{0}': expected auto, observations or rewards")]
pub struct UnknownObjective(pub String);

impl std::str::FromStr for Objective {
    type Err = UnknownObjective;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::NAMES
            .iter()
            .find(|(name, _)| *name == s)
            .map(|&(_, o)| o)
            .ok_or_else(|| UnknownObjective(s.to_string()))
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PlannerConfig {
    /// K.
    pub candidates: usize,
    /// N.
    pub horizon_steps: usize,
    pub noise: NoiseConfig,
    pub objective: Objective,
    pub seed: u64,
    /// Keep the previous plan's winner, shifted one step (its last action repeated), as
    /// candidate 0: the usual MPC warm start. Off, every candidate is fresh noise, as in the
    /// paper's planner.
    #[serde(default)]
    pub keep_best: bool,
    /// The fraction of the K candidates whose actions come from the model's policy view
    /// (section 5.1.1): its mean action for each imagined situation plus the noise above. Needs
    /// a model that [proposes actions](DynamicsModel::proposes_actions); 0 is pure random
    /// shooting, 1 with variance 0 and K = 1 is the plain BC policy.
    #[serde(default)]
    pub proposal_mix: f64,
    /// Imagined rollouts per candidate, its score their mean: with a model that samples its
    /// predictions (a TDM with sampled decoding), the candidate's expected return under the
    /// model's own uncertainty rather than the return of one rollout, so a lucky imagined
    /// future wins less often. Costs this many times the imagination; 1 (or 0) is one rollout.
    #[serde(default = "one")]
    pub rollouts: usize,
}

fn one() -> usize {
    1
}

impl PlannerConfig {
    /// How many candidates (the last ones) are proposed by the model's policy.
    pub fn proposed_candidates(&self) -> usize {
        let k = self.candidates.max(1);
        ((self.proposal_mix.clamp(0.0, 1.0) * k as f64).round() as usize).min(k)
    }
}

impl Default for PlannerConfig {
    fn default() -> Self {
        Self {
            candidates: 128,
            horizon_steps: 50,
            noise: NoiseConfig::default(),
            objective: Objective::Auto,
            seed: 0,
            keep_best: true,
            proposal_mix: 0.0,
            rollouts: 1,
        }
    }
}

/// One planning step's result: the action to take, and everything needed to draw it.
#[derive(Clone, Debug)]
pub struct Plan {
    pub action: Vec<f64>,
    pub action_size: usize,
    /// `[K][N][m]`.
    pub actions: Vec<f64>,
    pub imagined: Imagined,
    /// Per candidate; `-inf` for candidates whose imagination failed.
    pub scores: Vec<f64>,
    pub best: usize,
    /// The last `proposed` candidates' actions came from the model's policy view.
    pub proposed: usize,
    pub objective: Objective,
    pub elapsed_secs: f64,
}

impl Plan {
    pub fn candidates(&self) -> usize {
        self.imagined.candidates
    }

    pub fn horizon_steps(&self) -> usize {
        self.imagined.horizon_steps
    }

    /// Candidate `k`'s action at step `t`.
    pub fn candidate_action(&self, k: usize, t: usize) -> &[f64] {
        let start = (k * self.horizon_steps() + t) * self.action_size;
        &self.actions[start..start + self.action_size]
    }

    /// Every candidate's summed reward; `-inf` where its imagination failed or gave NaN.
    fn all_scores(&self, task: &dyn Task) -> Vec<f64> {
        (0..self.candidates())
            .map(|c| {
                if self.imagined.failures[c].is_some() {
                    f64::NEG_INFINITY
                } else {
                    let s: f64 = self.step_rewards(task, c).iter().sum();
                    if s.is_nan() { f64::NEG_INFINITY } else { s }
                }
            })
            .collect()
    }

    /// The per-step rewards the objective summed for candidate `k`.
    pub fn step_rewards(&self, task: &dyn Task, k: usize) -> Vec<f64> {
        let n = self.horizon_steps();
        (0..n)
            .map(|t| match self.objective {
                Objective::PredictedRewards => self
                    .imagined
                    .rewards
                    .as_ref()
                    .map_or(f64::NAN, |r| r[k * n + t]),
                _ => task
                    .reward_from_observation(
                        self.imagined.observation(k, t),
                        self.candidate_action(k, t),
                    )
                    .unwrap_or(f64::NAN),
            })
            .collect()
    }
}

pub struct Planner {
    config: PlannerConfig,
    rng: StdRng,
    /// The last winner's actions `[N][m]`, for `keep_best`.
    previous_best: Option<Vec<f64>>,
    /// Control steps between the last plan's start state and the next one's (1 in lock-step;
    /// more when plans arrive late, see [`crate::plan::latency`]): how far the warm start shifts.
    warm_shift: usize,
}

impl Planner {
    pub fn new(config: PlannerConfig) -> Self {
        Self {
            rng: StdRng::seed_from_u64(config.seed),
            config,
            previous_best: None,
            warm_shift: 1,
        }
    }

    /// The next plan starts `steps` control steps after the last one's start state: the warm
    /// start drops that many of the last winner's actions (and repeats its last action to fill).
    pub fn set_warm_shift(&mut self, steps: usize) {
        self.warm_shift = steps;
    }

    pub fn config(&self) -> &PlannerConfig {
        &self.config
    }

    /// Changes the settings (live tuning); the random stream continues.
    pub fn set_config(&mut self, config: PlannerConfig) {
        if config.seed != self.config.seed {
            self.rng = StdRng::seed_from_u64(config.seed);
        }
        self.config = config;
    }

    /// Restarts the random stream (e.g. at the start of an episode).
    pub fn reseed(&mut self, seed: u64) {
        self.rng = StdRng::seed_from_u64(seed);
        self.previous_best = None;
    }

    /// Plans one step.
    pub fn plan(
        &mut self,
        model: &mut dyn DynamicsModel,
        task: &dyn Task,
        ctx: &PlanContext<'_>,
    ) -> Result<Plan, ModelError> {
        let start = Instant::now();
        let (k, n) = (
            self.config.candidates.max(1),
            self.config.horizon_steps.max(1),
        );
        let m = task.spec().action_size;
        let objective = self.config.objective.resolve(task);
        if objective == Objective::PredictedRewards && !model.predicts_rewards() {
            return Err(ModelError::NoRewards {
                model: model.name(),
                task: task.spec().name.clone(),
            });
        }
        let proposals = self.config.proposed_candidates().min(k);
        if proposals > 0 && !model.proposes_actions() {
            return Err(ModelError::ProposalsWithoutPolicy {
                mix: self.config.proposal_mix,
                model: model.name(),
            });
        }
        let mut actions = self.config.noise.sample(&mut self.rng, k, n, m);
        // The warm start takes candidate 0 unless every candidate is a proposal.
        if self.config.keep_best
            && proposals < k
            && let Some(prev) = self.previous_best.as_ref().filter(|p| p.len() == n * m)
        {
            let shift = self.warm_shift.min(n);
            actions[..(n - shift) * m].copy_from_slice(&prev[shift * m..]);
            for t in n - shift..n {
                actions[t * m..(t + 1) * m].copy_from_slice(&prev[(n - 1) * m..]);
            }
        }
        let rollouts = self.config.rollouts.max(1);
        if rollouts > 1 && proposals > 0 {
            return Err(ModelError::RolloutsWithProposals);
        }
        let (imagined, averaged) = if proposals > 0 {
            let proposed: Vec<bool> = (0..k).map(|c| c >= k - proposals).collect();
            (
                model.imagine_proposed(ctx, &mut actions, &proposed, k, n)?,
                None,
            )
        } else if rollouts > 1 {
            let (first, scores) =
                imagine_repeated(model, task, objective, ctx, &actions, k, n, rollouts)?;
            (first, Some(scores))
        } else {
            (model.imagine(ctx, &actions, k, n)?, None)
        };
        let mut plan = Plan {
            action: Vec::new(),
            action_size: m,
            actions,
            imagined,
            scores: Vec::new(),
            best: 0,
            proposed: proposals,
            objective,
            elapsed_secs: 0.0,
        };
        plan.scores = match averaged {
            Some(scores) => scores,
            None => plan.all_scores(task),
        };
        plan.best = plan
            .scores
            .iter()
            .enumerate()
            .fold((0, f64::NEG_INFINITY), |(bi, bs), (i, &s)| {
                if s > bs { (i, s) } else { (bi, bs) }
            })
            .0;
        plan.action = plan.candidate_action(plan.best, 0).to_vec();
        let b = plan.best * n * m;
        self.previous_best = Some(plan.actions[b..b + n * m].to_vec());
        plan.elapsed_secs = start.elapsed().as_secs_f64();
        Ok(plan)
    }
}

/// Imagines each of the `k` candidates `rollouts` times (one batch of k x rollouts) and returns
/// the first rollout of each (what is drawn) with each candidate's mean score; a candidate any
/// of whose rollouts failed scores `-inf`.
#[allow(clippy::too_many_arguments)]
fn imagine_repeated(
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
    let scratch = Plan {
        action: Vec::new(),
        action_size: m,
        actions: tiled,
        imagined: all,
        scores: Vec::new(),
        best: 0,
        proposed: 0,
        objective,
        elapsed_secs: 0.0,
    };
    let each = scratch.all_scores(task);
    let scores = each
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
