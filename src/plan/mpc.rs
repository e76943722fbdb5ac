//! The MPC loop: plan, act on the real environment, repeat.
use super::latency::{Latency, PlanSchedule, TimedPlan};
use super::planner::{Plan, Planner, PlannerConfig};
use crate::data::{DataError, Episode, Policy, run_episode};
use crate::envs::{Env, Task};
use crate::models::{DynamicsModel, ModelError, PlanContext};
use crate::sim::{BatchRollout, RolloutWorkers, SimError, SimState};
use std::sync::Arc;
use std::time::Instant;

/// A planner and a model acting in one task.
pub struct MpcAgent {
    planner: Planner,
    model: Box<dyn DynamicsModel>,
    task: Arc<dyn Task>,
    last_plan: Option<Plan>,
    /// The real state the last plan started from, for the imagined-vs-real comparison.
    last_state: Option<SimState>,
    plan_secs: Vec<f64>,
    /// Lock-step by default; otherwise plans act late, see [`crate::plan::latency`].
    latency: Latency,
    schedule: PlanSchedule,
    /// Plan late plans from the model's forecast of where the committed actions lead.
    forecast: bool,
    /// How late the last plan came: how far the next one forecasts.
    last_late: usize,
}

impl MpcAgent {
    pub fn new(config: PlannerConfig, model: Box<dyn DynamicsModel>, task: Arc<dyn Task>) -> Self {
        Self {
            planner: Planner::new(config),
            model,
            task,
            last_plan: None,
            last_state: None,
            plan_secs: Vec::new(),
            latency: Latency::None,
            schedule: PlanSchedule::default(),
            forecast: true,
            last_late: 0,
        }
    }

    /// Under latency, whether a plan starts from the model's forecast of the state where it
    /// will act (the actions committed meanwhile imagined forward; on by default) or from the
    /// state where planning began.
    pub fn with_forecast(mut self, forecast: bool) -> Self {
        self.forecast = forecast;
        self
    }

    /// Acts as if each plan took `latency` to arrive (simulated real time): the plan started
    /// at step t acts from step t + its lateness on, shifted by its age, and the next plan
    /// starts from the state where it arrived.
    pub fn with_latency(mut self, latency: Latency) -> Self {
        self.latency = latency;
        self
    }

    /// The action under latency: promote the plan that has arrived, start the next one when
    /// none is on its way (from the forecast of where the actions committed meanwhile lead, as
    /// late as the last plan came), act with the plan in use at its age.
    fn act_late(&mut self, env: &dyn Env, history: &Episode) -> Result<Vec<f64>, ModelError> {
        let step = env.steps_taken();
        let m = self.task.spec().action_size;
        self.schedule.arrive(step);
        if self.schedule.pending.is_none() {
            let ahead = if self.forecast { self.last_late } else { 0 };
            let committed: Vec<f64> = (0..ahead)
                .flat_map(|i| self.schedule.action(step + i, m))
                .collect();
            let state = env.state();
            let ctx = PlanContext {
                history,
                state: Some(&state),
            };
            let started = Instant::now();
            let forecast = self.model.forecast(&ctx, &committed, ahead)?;
            let forecast_secs = started.elapsed().as_secs_f64();
            let start_step = step + forecast.steps;
            let shift = self
                .schedule
                .newest_start()
                .map_or(1, |s| start_step.saturating_sub(s).max(1));
            self.planner.set_warm_shift(shift);
            let from = forecast.state.unwrap_or(state);
            let ctx = PlanContext {
                history: &forecast.history,
                state: Some(&from),
            };
            let mut plan = self
                .planner
                .plan(self.model.as_mut(), self.task.as_ref(), &ctx)?;
            plan.elapsed_secs += forecast_secs;
            self.plan_secs.push(plan.elapsed_secs);
            self.last_state = Some(from);
            let late = self
                .latency
                .steps_late(plan.elapsed_secs, self.task.spec().control_dt_secs());
            self.last_late = late;
            self.last_plan = Some(plan.clone());
            self.schedule.pending = Some(TimedPlan {
                plan,
                start_step,
                ready_step: step + late,
            });
            self.schedule.arrive(step);
        }
        Ok(self.schedule.action(step, m))
    }

    pub fn planner(&mut self) -> &mut Planner {
        &mut self.planner
    }

    pub fn model(&mut self) -> &mut dyn DynamicsModel {
        self.model.as_mut()
    }

    /// The most recent plan (all candidates, scores, the winner).
    pub fn last_plan(&self) -> Option<&Plan> {
        self.last_plan.as_ref()
    }

    /// Seconds spent in each planning step so far.
    pub fn plan_secs(&self) -> &[f64] {
        &self.plan_secs
    }

    /// Plans from the current state of `env` with `history` as the episode so far.
    pub fn plan(&mut self, env: &dyn Env, history: &Episode) -> Result<&Plan, ModelError> {
        let state = env.state();
        let ctx = PlanContext {
            history,
            state: Some(&state),
        };
        let plan = self
            .planner
            .plan(self.model.as_mut(), self.task.as_ref(), &ctx)?;
        self.plan_secs.push(plan.elapsed_secs);
        self.last_state = Some(state);
        Ok(self.last_plan.insert(plan))
    }

    /// What really happens to every candidate of the last plan: their actions replayed in
    /// MuJoCo from the state the plan started from (the "imagined vs real" view).
    pub fn replay_last_plan(
        &self,
        workers: &mut RolloutWorkers,
    ) -> Result<Option<BatchRollout>, SimError> {
        let (Some(plan), Some(state)) = (&self.last_plan, &self.last_state) else {
            return Ok(None);
        };
        Ok(Some(replay_plan(workers, self.task.as_ref(), state, plan)?))
    }
}

impl Policy for MpcAgent {
    fn describe(&self) -> serde_json::Value {
        let c = self.planner.config();
        let mut d = serde_json::json!({
            "kind": "mpc",
            "model": self.model.name(),
            "samples": c.candidates,
            "horizon": c.horizon_steps,
            "noise": c.noise.kind,
            "variance": c.noise.variance,
            "objective": c.objective,
        });
        if c.proposal_mix > 0.0 {
            d["proposal_mix"] = c.proposal_mix.into();
        }
        if c.rollouts > 1 {
            d["rollouts"] = c.rollouts.into();
        }
        if self.latency != Latency::None {
            d["latency"] = self.latency.to_string().into();
        }
        d
    }

    fn begin_episode(&mut self, seed: u64) {
        self.planner
            .reseed(seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) ^ self.planner.config().seed);
        self.last_plan = None;
        self.schedule = PlanSchedule::default();
        self.planner.set_warm_shift(1);
        self.last_late = 0;
    }

    fn act(&mut self, env: &dyn Env, episode: &Episode) -> Result<Vec<f64>, DataError> {
        let action = match self.latency {
            Latency::None => self.plan(env, episode).map(|p| p.action.clone()),
            _ => self.act_late(env, episode),
        };
        action.map_err(|e| DataError::Policy(e.to_string()))
    }
}

/// Replays every candidate of `plan` in MuJoCo from `state`.
pub fn replay_plan(
    workers: &mut RolloutWorkers,
    task: &dyn Task,
    state: &SimState,
    plan: &Plan,
) -> Result<BatchRollout, SimError> {
    workers.run(
        state,
        task,
        &plan.actions,
        plan.candidates(),
        plan.horizon_steps(),
    )
}

/// One MPC episode's outcome.
#[derive(Clone, Debug)]
pub struct EpisodeResult {
    pub total_reward: f64,
    pub episode: Episode,
    /// Set if the episode ended early because the simulation diverged.
    pub failure: Option<String>,
    pub mean_plan_ms: f64,
}

/// Runs one episode of at most `max_steps` with `agent` from `env.reset(seed)`.
pub fn run_mpc_episode(
    env: &mut dyn Env,
    agent: &mut MpcAgent,
    seed: u64,
    max_steps: usize,
) -> Result<EpisodeResult, DataError> {
    let first_plan = agent.plan_secs.len();
    let (episode, failure) = run_episode(env, agent, seed, max_steps)?;
    let times = &agent.plan_secs[first_plan..];
    Ok(EpisodeResult {
        total_reward: episode.total_reward(),
        mean_plan_ms: 1e3 * times.iter().sum::<f64>() / times.len().max(1) as f64,
        episode,
        failure,
    })
}
