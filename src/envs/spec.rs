//! What a task is: its sizes and timing ([`EnvSpec`]) and its behaviour ([`Task`]).
use super::error::EnvError;
use crate::sim::{RolloutTask, Sim, SimModel};
use rand::rngs::StdRng;
use serde::{Deserialize, Serialize};

/// Sizes, names and timing of a task.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct EnvSpec {
    pub name: String,
    pub observation_size: usize,
    pub action_size: usize,
    /// One label per observation entry, e.g. `cart_x`, `qvel:rootx`.
    pub observation_labels: Vec<String>,
    /// One label per action entry: the actuator names.
    pub action_labels: Vec<String>,
    pub physics_dt_secs: f64,
    /// Physics steps per control step (action repeat).
    pub substeps: usize,
    /// Control steps per episode (the time limit).
    pub episode_steps: usize,
}

impl EnvSpec {
    /// Seconds of simulated time per control step.
    pub fn control_dt_secs(&self) -> f64 {
        self.physics_dt_secs * self.substeps as f64
    }

    /// Indices of observation entries that are velocities (label starts with `qvel` or ends with
    /// `_vel`); prediction-error plots leave them out, as the paper's Fig. 13 does.
    pub fn velocity_indices(&self) -> Vec<usize> {
        self.observation_labels
            .iter()
            .enumerate()
            .filter(|(_, l)| l.contains("vel"))
            .map(|(i, _)| i)
            .collect()
    }

    /// The other indices: what prediction error is measured over.
    pub fn non_velocity_indices(&self) -> Vec<usize> {
        let velocities = self.velocity_indices();
        (0..self.observation_size)
            .filter(|i| !velocities.contains(i))
            .collect()
    }
}

/// One task: a compiled model plus how to start an episode, observe, score and draw.
/// Stateless: the episode lives in a [`Sim`], so one task serves many environments and workers.
pub trait Task: RolloutTask {
    fn spec(&self) -> &EnvSpec;
    fn model(&self) -> &SimModel;
    /// Puts `sim` (already reset to the reference configuration) at a random initial state.
    fn initialize_episode(&self, sim: &mut Sim, rng: &mut StdRng) -> Result<(), EnvError>;
    /// The reward computed from an observation and the action that led to it, where the
    /// observation determines it (the planner's R(o') objective); `None` where it does not.
    fn reward_from_observation(&self, observation: &[f64], action: &[f64]) -> Option<f64>;
    /// A `qpos` that draws `observation`. Parts the observation determines are exact; the rest
    /// (documented per task) comes from `previous_qpos`, e.g. the root's x integrated from the
    /// predicted velocity over one control step.
    fn pose_from_obs(&self, observation: &[f64], previous_qpos: &[f64]) -> Vec<f64>;
    /// Whether the task rewards anything: `false` for an MJCF file opened without a goal,
    /// where every candidate scores 0 and a planner has nothing to choose by.
    fn has_reward(&self) -> bool {
        true
    }
}
