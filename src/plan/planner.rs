//! The planner: K candidate action sequences of N steps imagined with a dynamics model, each
//! scored by its undiscounted sum of rewards, the first action of the chosen one applied. Random
//! shooting (section 4.1 of the paper) is the default and lives here; the other members of the
//! family ([`PlannerMethod`]: CEM, MPPI, predictive sampling) refine their candidates over
//! several rounds in their own files, sharing this warm start, scoring and [`Plan`].
use super::method::PlannerMethod;
use super::noise::NoiseConfig;
use super::sampling::{Scorer, best_index};
use super::{cem, mppi, predictive};
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
    /// Start from the previous plan's chosen sequence, shifted one step (its last action
    /// repeated): the usual MPC warm start, random shooting's candidate 0 and the other
    /// methods' first mean or nominal. Off, random shooting's candidates are all fresh noise,
    /// as in the paper's planner, and the other methods start from zeros.
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
    /// Which planner of the family turns the candidates into a plan (random shooting, the
    /// paper's, when absent).
    #[serde(default)]
    pub method: PlannerMethod,
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
            method: PlannerMethod::RandomShooting,
        }
    }
}

/// One planning step's result: the action to take, and everything needed to draw it: the
/// candidates of the method's last round (MPPI: and its weighted mean after them).
#[derive(Clone, Debug)]
pub struct Plan {
    /// The chosen candidate's first action, the one applied.
    pub action: Vec<f64>,
    pub action_size: usize,
    /// `[K][N][m]`.
    pub actions: Vec<f64>,
    pub imagined: Imagined,
    /// Per candidate; `-inf` for candidates whose imagination failed.
    pub scores: Vec<f64>,
    /// The chosen candidate: the best-scoring one, except for MPPI (its weighted mean).
    pub best: usize,
    /// The last `proposed` candidates' actions came from the model's policy view.
    pub proposed: usize,
    pub objective: Objective,
    pub elapsed_secs: f64,
    /// The best score of each round (one for random shooting).
    pub round_best_scores: Vec<f64>,
    /// Candidate rollouts imagined for this plan, every round (and rollout) counted.
    pub evaluations: usize,
}

impl Plan {
    /// The candidates `actions` with what the model imagined, scored by `objective`, the best
    /// chosen.
    pub(super) fn new(
        actions: Vec<f64>,
        action_size: usize,
        imagined: Imagined,
        objective: Objective,
        proposed: usize,
        task: &dyn Task,
    ) -> Plan {
        let mut plan = Plan::scored(
            actions,
            action_size,
            imagined,
            objective,
            proposed,
            Vec::new(),
        );
        plan.scores = plan.all_scores(task);
        plan.choose(best_index(&plan.scores));
        plan
    }

    /// As [`Plan::new`] with the `scores` already known.
    pub(super) fn scored(
        actions: Vec<f64>,
        action_size: usize,
        imagined: Imagined,
        objective: Objective,
        proposed: usize,
        scores: Vec<f64>,
    ) -> Plan {
        let evaluations = imagined.candidates;
        let mut plan = Plan {
            action: Vec::new(),
            action_size,
            actions,
            imagined,
            scores,
            best: 0,
            proposed,
            objective,
            elapsed_secs: 0.0,
            round_best_scores: Vec::new(),
            evaluations,
        };
        if !plan.scores.is_empty() {
            plan.choose(best_index(&plan.scores));
        }
        plan
    }

    /// Makes candidate `k` the chosen one (its first action the plan's action).
    pub(super) fn choose(&mut self, k: usize) {
        self.best = k;
        self.action = self.candidate_action(k, 0).to_vec();
    }

    /// The best score of all candidates (`-inf` where none has one).
    pub fn best_score(&self) -> f64 {
        self.scores
            .iter()
            .copied()
            .fold(f64::NEG_INFINITY, f64::max)
    }

    /// Candidate `k`'s whole sequence, `[N][m]`.
    pub fn sequence(&self, k: usize) -> &[f64] {
        let per = self.horizon_steps() * self.action_size;
        &self.actions[k * per..(k + 1) * per]
    }

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
    /// The last plan's chosen actions `[N][m]`, for the warm start (`keep_best`).
    previous: Option<Vec<f64>>,
    /// Control steps between the last plan's start state and the next one's (1 in lock-step;
    /// more when plans arrive late): how far the warm start shifts.
    warm_shift: usize,
}

impl Planner {
    pub fn new(config: PlannerConfig) -> Self {
        Self {
            rng: StdRng::seed_from_u64(config.seed),
            config,
            previous: None,
            warm_shift: 1,
        }
    }

    /// The next plan starts `steps` control steps after the last one's start state: the warm
    /// start drops that many of the last chosen actions (and repeats its last action to fill).
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
        self.previous = None;
    }

    /// The previous plan's chosen sequence shifted by the warm shift (its last action repeated
    /// to fill), where `keep_best` is on and there is one of this size.
    fn warm_start(&self, n: usize, m: usize) -> Option<Vec<f64>> {
        let prev = self
            .previous
            .as_ref()
            .filter(|p| self.config.keep_best && p.len() == n * m)?;
        let shift = self.warm_shift.min(n);
        let mut out = prev[shift * m..].to_vec();
        for _ in n - shift..n {
            out.extend_from_slice(&prev[(n - 1) * m..]);
        }
        Some(out)
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
        let method = self.config.method;
        let proposals = self.config.proposed_candidates().min(k);
        if proposals > 0 && !method.takes_proposals() {
            return Err(ModelError::ProposalsNeedRandomShooting {
                method: method.name().into(),
            });
        }
        if proposals > 0 && !model.proposes_actions() {
            return Err(ModelError::ProposalsWithoutPolicy {
                mix: self.config.proposal_mix,
                model: model.name(),
            });
        }
        let rollouts = self.config.rollouts.max(1);
        if rollouts > 1 && proposals > 0 {
            return Err(ModelError::RolloutsWithProposals);
        }
        let warm = self.warm_start(n, m);
        let noise = self.config.noise;
        let mut scorer = Scorer {
            model,
            task,
            ctx,
            objective,
            rollouts,
            horizon_steps: n,
            action_size: m,
            evaluations: 0,
        };
        let rng = &mut self.rng;
        let mut plan = match method {
            PlannerMethod::RandomShooting => {
                random_shooting(&mut scorer, rng, noise, warm, k, proposals)?
            }
            PlannerMethod::Cem {
                iterations,
                elites,
                smoothing,
            } => cem::plan(
                &mut scorer,
                rng,
                noise,
                warm,
                k,
                cem::Settings {
                    iterations: iterations.max(1),
                    elites,
                    smoothing: smoothing.clamp(0.0, 1.0),
                },
            )?,
            PlannerMethod::Mppi {
                temperature,
                iterations,
            } => mppi::plan(
                &mut scorer,
                rng,
                noise,
                warm,
                k,
                temperature,
                iterations.max(1),
            )?,
            PlannerMethod::PredictiveSampling {
                spline_points,
                iterations,
            } => predictive::plan(
                &mut scorer,
                rng,
                noise,
                warm,
                k,
                spline_points,
                iterations.max(1),
            )?,
        };
        plan.evaluations = scorer.evaluations;
        self.previous = Some(plan.sequence(plan.best).to_vec());
        plan.elapsed_secs = start.elapsed().as_secs_f64();
        Ok(plan)
    }
}

/// Random shooting: K candidates of fresh noise, the warm start (where there is one) as
/// candidate 0 unless every candidate is a proposal, the last `proposals` candidates from the
/// model's policy view; the best wins.
fn random_shooting(
    scorer: &mut Scorer<'_, '_>,
    rng: &mut StdRng,
    noise: NoiseConfig,
    warm: Option<Vec<f64>>,
    k: usize,
    proposals: usize,
) -> Result<Plan, ModelError> {
    let (n, m) = (scorer.horizon_steps, scorer.action_size);
    let mut actions = noise.sample(rng, k, n, m);
    if let Some(warm) = warm.filter(|_| proposals < k) {
        actions[..n * m].copy_from_slice(&warm);
    }
    let mut plan = if proposals > 0 {
        let proposed: Vec<bool> = (0..k).map(|c| c >= k - proposals).collect();
        let imagined = scorer
            .model
            .imagine_proposed(scorer.ctx, &mut actions, &proposed, k, n)?;
        scorer.evaluations += k;
        Plan::new(
            actions,
            m,
            imagined,
            scorer.objective,
            proposals,
            scorer.task,
        )
    } else {
        scorer.score(actions)?
    };
    plan.round_best_scores = vec![plan.best_score()];
    Ok(plan)
}
