//! The ground-truth model: MuJoCo itself, rolling the candidates out from the real state on all
//! cores.
use super::describe::ModelDescription;
use super::dynamics::{DynamicsModel, Forecast, Imagined, ModelError, PlanContext};
use crate::envs::{Env, MujocoEnv, Task};
use crate::sim::RolloutWorkers;
use std::sync::Arc;

pub struct GroundTruth {
    task: Arc<dyn Task>,
    workers: RolloutWorkers,
    /// Steps the forecast of committed actions (made on first use).
    scratch: Option<MujocoEnv>,
}

impl GroundTruth {
    /// `threads` rollout workers; 0 means one per core.
    pub fn new(task: Arc<dyn Task>, threads: usize) -> Self {
        let workers = RolloutWorkers::new(task.model().clone(), threads);
        Self {
            task,
            workers,
            scratch: None,
        }
    }

    pub fn task(&self) -> &Arc<dyn Task> {
        &self.task
    }
}

impl DynamicsModel for GroundTruth {
    fn name(&self) -> String {
        ModelDescription::ground_truth().name
    }

    fn describe(&self) -> ModelDescription {
        ModelDescription::ground_truth()
    }

    fn predicts_rewards(&self) -> bool {
        true
    }

    /// The committed actions stepped in MuJoCo from the real state: exact, with the state.
    fn forecast(
        &mut self,
        ctx: &PlanContext<'_>,
        actions: &[f64],
        steps: usize,
    ) -> Result<Forecast, ModelError> {
        let state = ctx
            .state
            .ok_or_else(|| ModelError::NeedsState(self.name()))?;
        let task = Arc::clone(&self.task);
        let env = self.scratch.get_or_insert_with(|| MujocoEnv::new(task));
        env.set_state(state, 0)?;
        let mut history = ctx.history.clone();
        let m = self.task.spec().action_size;
        let mut done = 0;
        for t in 0..steps {
            let action = &actions[t * m..(t + 1) * m];
            match env.step(action) {
                Ok(step) => history.push(action, step.reward, &step.observation),
                Err(_) => break,
            }
            done += 1;
        }
        Ok(Forecast {
            history,
            state: Some(env.state()),
            steps: done,
        })
    }

    fn imagine(
        &mut self,
        ctx: &PlanContext<'_>,
        actions: &[f64],
        candidates: usize,
        horizon_steps: usize,
    ) -> Result<Imagined, ModelError> {
        let state = ctx
            .state
            .ok_or_else(|| ModelError::NeedsState(self.name()))?;
        Ok(self
            .workers
            .run(
                state,
                self.task.as_ref(),
                actions,
                candidates,
                horizon_steps,
            )?
            .into())
    }
}
