//! The MPC agent's side of a scene: its planner settings and model, the last plan, and what
//! this episode's plans produced (per-step records, prediction error by horizon, how well the
//! plans ranked their candidates against reality).
use super::planner_worker::{
    LoadReply, ModelInfo, PlanOutcome, PlanSettings, WorkerModel, ground_truth_info,
};
use crate::envs::Task;
use crate::models::tdm::Decoding;
use crate::plan::{PlannerConfig, TrailPoint};
use std::sync::Arc;
use std::sync::mpsc::Receiver;

/// One control step of an MPC episode, for the plots.
#[derive(Clone, Debug, PartialEq)]
pub struct StepRecord {
    /// Control step index in the episode.
    pub step: usize,
    pub action: Vec<f64>,
    pub reward: f64,
    /// What the chosen plan expected for this step's reward.
    pub predicted_reward: Option<f64>,
    pub plan_secs: Option<f64>,
    pub tokens_per_sec: Option<f64>,
    pub real_time_factor: f64,
}

/// The MPC agent's settings and what it has produced this episode.
pub struct AgentState {
    pub settings: PlanSettings,
    /// Plan at all (off: the agent sends zero actions).
    pub plan_enabled: bool,
    /// Apply the planned action to the simulation (off: plan, but act with zeros).
    pub apply_actions: bool,
    pub model: ModelInfo,
    /// A model waiting for the worker (set before the worker starts).
    pub(super) pending_model: Option<WorkerModel>,
    pub(super) loader: Option<Receiver<LoadReply>>,
    /// The model being loaded was carried over from the previous scene: if it does not fit
    /// this one, the scene's bundled model (or ground truth) takes its place without an error.
    pub(super) carried: bool,
    /// The last finished plan.
    pub last: Option<Arc<PlanOutcome>>,
    /// Per control step of this episode.
    pub records: Vec<StepRecord>,
    /// Per horizon step: sum and count of the per-plan median prediction error.
    pub error_accumulated: Vec<(f64, usize)>,
    /// This episode's plans' ranking of their candidates against reality.
    pub ranking_tally: RankingTally,
    /// Drop the reply in flight (it was planned from a state that is gone).
    pub(super) discard_reply: bool,
}

impl AgentState {
    pub(super) fn new(task: Arc<dyn Task>) -> Self {
        Self {
            settings: PlanSettings {
                config: PlannerConfig {
                    candidates: 64,
                    horizon_steps: 50,
                    ..PlannerConfig::default()
                },
                decoding: Decoding::default(),
                context_limit_tokens: None,
                replay: true,
                trail: TrailPoint::default_for(task.as_ref()),
                ghosts: 3,
            },
            plan_enabled: true,
            apply_actions: true,
            model: ground_truth_info(),
            // The worker builds the ground-truth model itself when it first starts.
            pending_model: None,
            loader: None,
            carried: false,
            last: None,
            records: Vec::new(),
            error_accumulated: Vec::new(),
            ranking_tally: RankingTally::default(),
            discard_reply: false,
        }
    }

    /// Mean over this episode's plans of the median prediction error, per horizon step.
    pub fn mean_error_by_step(&self) -> Vec<f64> {
        self.error_accumulated
            .iter()
            .map(|&(sum, n)| if n > 0 { sum / n as f64 } else { f64::NAN })
            .collect()
    }
}

/// Sums over an episode's replayed plans of how their scores ranked the candidates.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct RankingTally {
    pub plans: usize,
    pub spearman: f64,
    pub regret: f64,
    pub regret_plans: usize,
}

impl RankingTally {
    pub fn add(&mut self, r: &crate::plan::PlanRanking) {
        if r.spearman.is_finite() {
            self.plans += 1;
            self.spearman += r.spearman;
        }
        if let Some(g) = r.regret.filter(|g| g.is_finite()) {
            self.regret_plans += 1;
            self.regret += g;
        }
    }

    /// Mean rank correlation and (where any plan had one) mean regret so far.
    pub fn means(&self) -> Option<(f64, Option<f64>)> {
        (self.plans > 0).then(|| {
            (
                self.spearman / self.plans as f64,
                (self.regret_plans > 0).then(|| self.regret / self.regret_plans as f64),
            )
        })
    }
}
