//! The MPC agent's side of a scene: its planner settings and model, the last plan, and what
//! this episode's plans produced (per-step records, prediction error by horizon, how well the
//! plans ranked their candidates against reality).
use super::live::Pacing;
use super::planner_worker::{
    LoadReply, ModelInfo, PlanOutcome, PlanSettings, WorkerModel, ground_truth_info,
};
use crate::envs::Task;
use crate::models::tdm::Decoding;
use crate::plan::{PlannerConfig, TrailPoint};
use std::collections::VecDeque;
use std::sync::Arc;
use std::sync::mpsc::Receiver;
use std::time::{Duration, Instant};

/// Plans per second are counted over this much wall clock.
const RATE_WINDOW: Duration = Duration::from_secs(2);
/// The automatic pacing looks at this many of the last plans' latencies.
const LATENCY_WINDOW: usize = 5;

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
    /// How the simulation keeps time while the agent plays.
    pub pacing: Pacing,
    /// The user picked the pacing (the automatic switch to lock-step stays away).
    pub pacing_chosen: bool,
    /// Control steps from the start state of the plan in use to the step just taken (live).
    pub plan_age: Option<usize>,
    /// When the last plans arrived and how long each took (live).
    arrivals: VecDeque<(Instant, f64)>,
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
            pacing: Pacing::default(),
            pacing_chosen: false,
            plan_age: None,
            arrivals: VecDeque::new(),
        }
    }

    /// A plan that took `plan_secs` came into use at `at`.
    pub(super) fn note_arrival(&mut self, at: Instant, plan_secs: f64) {
        self.arrivals.push_back((at, plan_secs));
        while self.arrivals.len() > LATENCY_WINDOW
            && self
                .arrivals
                .front()
                .is_some_and(|(t, _)| at.duration_since(*t) > RATE_WINDOW)
        {
            self.arrivals.pop_front();
        }
    }

    /// Plans that arrived per second of wall clock, over the last two seconds.
    pub fn plans_per_sec(&self) -> Option<f64> {
        let now = Instant::now();
        let recent = self
            .arrivals
            .iter()
            .filter(|(t, _)| now.duration_since(*t) <= RATE_WINDOW)
            .count();
        (!self.arrivals.is_empty()).then(|| recent as f64 / RATE_WINDOW.as_secs_f64())
    }

    /// The median planning time of the last few plans.
    pub fn median_latency(&self) -> Option<f64> {
        let mut last: Vec<f64> = self
            .arrivals
            .iter()
            .rev()
            .take(LATENCY_WINDOW)
            .map(|&(_, s)| s)
            .collect();
        if last.len() < LATENCY_WINDOW.min(3) {
            return None;
        }
        last.sort_by(f64::total_cmp);
        Some(last[last.len() / 2])
    }

    /// Forgets the plan rate (a new episode or model).
    pub(super) fn forget_arrivals(&mut self) {
        self.arrivals.clear();
        self.plan_age = None;
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
