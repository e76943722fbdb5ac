//! The MuJoCo simulation core: loading MJCF, stepping, saving and restoring the full integration
//! state, parallel batched rollouts, and scene geometry as plain data for drawing.
//!
//! Nothing here knows about tasks or rewards beyond the [`RolloutTask`] trait, and nothing here
//! knows about GPUs or windows.

mod batch;
mod error;
mod geometry;
mod log;
mod model;
mod simulation;
mod state;

pub use batch::{BatchRollout, RolloutTask, RolloutWorkers};
pub use error::SimError;
pub use geometry::{BodyInfo, GeomKind, GeomShape, MeshData, SceneGeometry, body_info};
pub use log::install_handlers;
pub use model::SimModel;
pub use simulation::{Data, Sim};
pub use state::SimState;

/// MuJoCo's own types, re-exported for the layers that read data directly (tasks, rewards).
pub use mujoco_rs::prelude::{MjData, MjModel};
