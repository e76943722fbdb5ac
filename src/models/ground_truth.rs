//! The ground-truth model: MuJoCo itself, rolling the candidates out from the real state on all
//! cores.
use super::describe::ModelDescription;
use super::dynamics::{DynamicsModel, Imagined, ModelError, PlanContext};
use crate::envs::Task;
use crate::sim::RolloutWorkers;
use std::sync::Arc;

pub struct GroundTruth {
    task: Arc<dyn Task>,
    workers: RolloutWorkers,
}

impl GroundTruth {
    /// `threads` rollout workers; 0 means one per core.
    pub fn new(task: Arc<dyn Task>, threads: usize) -> Self {
        let workers = RolloutWorkers::new(task.model().clone(), threads);
        Self { task, workers }
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
