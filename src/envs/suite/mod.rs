//! The DeepMind control-suite tasks the paper evaluates, faithful to dm_control (Tassa et al.,
//! 2018): the same physical parameters (our own MJCF in `assets/mjcf/`), observations, rewards,
//! initial-state distributions and time limits.

mod cartpole;
mod humanoid;
mod randomize;
mod walker;

pub use cartpole::CartpoleSwingup;
pub use humanoid::HumanoidStand;
pub use randomize::randomize_limited_and_rotational_joints;
pub use walker::{PlanarWalker, WalkerGoal};

/// Text labels for `n` consecutive entries (`prefix:name`).
pub(crate) fn labels<'a>(prefix: &str, names: impl IntoIterator<Item = &'a str>) -> Vec<String> {
    names.into_iter().map(|n| format!("{prefix}:{n}")).collect()
}

/// Names of MuJoCo objects of one kind, in id order.
pub(crate) fn object_names(
    model: &crate::sim::SimModel,
    kind: mujoco_rs::prelude::MjtObjBase,
    count: usize,
) -> Vec<String> {
    (0..count)
        .map(|i| {
            model
                .mj()
                .id_to_name(kind, i)
                .map_or_else(|| format!("#{i}"), str::to_string)
        })
        .collect()
}

/// Looks up a required body id, or reports the model as unusable for the task.
pub(crate) fn require_body(
    model: &crate::sim::SimModel,
    name: &str,
) -> Result<usize, crate::envs::EnvError> {
    model.body_id(name).ok_or_else(|| {
        crate::envs::EnvError::Init(format!(
            "{}: no body named '{name}'",
            model.source_name().display()
        ))
    })
}

/// Looks up a required sensor address, or reports the model as unusable for the task.
pub(crate) fn require_sensor(
    model: &crate::sim::SimModel,
    name: &str,
) -> Result<usize, crate::envs::EnvError> {
    model.sensor_adr(name).ok_or_else(|| {
        crate::envs::EnvError::Init(format!(
            "{}: no sensor named '{name}'",
            model.source_name().display()
        ))
    })
}
