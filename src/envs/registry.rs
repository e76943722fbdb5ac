//! Task names and their constructors.
use super::env::{Env, MujocoEnv};
use super::error::EnvError;
use super::mjcf_task::MjcfTask;
use super::spec::Task;
use super::suite::{CartpoleSwingup, HumanoidStand, PlanarWalker, WalkerGoal};
use super::walkers::CorridorRun;
use std::path::Path;
use std::sync::Arc;

/// The built-in tasks, in the order `tdm-workbench envs` lists them.
pub const TASK_NAMES: [&str; 4] = [
    "cartpole-swingup",
    "walker-stand",
    "walker-walk",
    "humanoid-stand",
];

/// Builds the task named `name` (compiles its model once; share the `Arc` between workers).
/// `walker:TREE.json` opens a walker morphology on the corridor run task; `mjcf:PATH`, or a
/// name ending in `.xml`, opens any MJCF file as an [`MjcfTask`].
pub fn make_task(name: &str) -> Result<Arc<dyn Task>, EnvError> {
    if let Some(path) = name.strip_prefix("walker:") {
        return Ok(Arc::new(CorridorRun::from_file(Path::new(path))?));
    }
    if let Some(path) = name
        .strip_prefix("mjcf:")
        .or(name.ends_with(".xml").then_some(name))
    {
        return Ok(Arc::new(MjcfTask::from_file(Path::new(path))?));
    }
    Ok(match name {
        "cartpole-swingup" => Arc::new(CartpoleSwingup::new()?),
        "walker-stand" => Arc::new(PlanarWalker::new(WalkerGoal::Stand)?),
        "walker-walk" => Arc::new(PlanarWalker::new(WalkerGoal::Walk)?),
        "humanoid-stand" => Arc::new(HumanoidStand::new()?),
        _ => {
            return Err(EnvError::UnknownTask {
                name: name.to_string(),
                known: format!(
                    "{}, walker:TREE.json, or mjcf:FILE.xml",
                    TASK_NAMES.join(", ")
                ),
            });
        }
    })
}

/// An environment for the task named `name`.
pub fn make_env(name: &str) -> Result<Box<dyn Env>, EnvError> {
    Ok(Box::new(MujocoEnv::new(make_task(name)?)))
}
