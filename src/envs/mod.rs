//! Environments: the [`Env`] trait the rest of the workbench drives, the per-task [`Task`]
//! definitions (MJCF, observations, rewards, initial states), and the registry of task names.
//!
//! - [`suite`]: dm_control-faithful cartpole swing-up, walker stand/walk, humanoid stand.
//! - [`walkers`]: the procedural walker universe and its corridor run task.
//! - [`MjcfTask`]: any MJCF file (observation qpos, qvel; no reward).

mod env;
mod error;
mod mjcf_task;
pub mod pose;
mod registry;
pub mod reward;
mod spec;
pub mod suite;
pub mod walkers;

pub use env::{Env, MujocoEnv, Step};
pub use error::EnvError;
pub use mjcf_task::{MjcfReward, MjcfTask};
pub use registry::{TASK_NAMES, make_env, make_task, mjcf_task_file};
pub use spec::{EnvSpec, Task};
