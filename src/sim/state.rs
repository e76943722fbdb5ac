//! A snapshot of MuJoCo's full integration state (time, qpos, qvel, act, warm-start, controls,
//! applied forces, mocap, user data, plugin state): restoring it reproduces rollouts bit for bit.
use mujoco_rs::prelude::MjtState;
use serde::{Deserialize, Serialize};

/// The state spec this project saves: everything MuJoCo needs to continue an integration exactly.
pub(crate) const STATE_SPEC: u32 = MjtState::mjSTATE_INTEGRATION as u32;

/// A saved integration state of one model. Serialisable so tests and tools can snapshot it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct SimState {
    /// The model's compilation signature: a state only restores into a model with the same one.
    pub model_signature: u64,
    /// MuJoCo's flat state vector for `mjSTATE_INTEGRATION`.
    pub values: Vec<f64>,
}

impl SimState {
    /// Simulation time of the snapshot, in seconds (the first element of the integration state).
    pub fn time_secs(&self) -> f64 {
        self.values.first().copied().unwrap_or(0.0)
    }
}
