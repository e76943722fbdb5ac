//! Task names and their constructors.
use super::env::{Env, MujocoEnv};
use super::error::EnvError;
use super::mjcf_task::{MjcfReward, MjcfTask};
use super::spec::Task;
use super::suite::{CartpoleSwingup, HumanoidStand, PlanarWalker, WalkerGoal};
use super::walkers::params::GENERATED_DOF_RANGE;
use super::walkers::{CorridorRun, Family, Origin, generate};
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
/// `walker:TREE.json` opens a walker morphology on the corridor run task, and
/// `walker:FAMILY:DOF:SEED` (e.g. `walker:chain:8:3`) a generated one; `mjcf:PATH`, or a
/// name ending in `.xml`, opens any MJCF file as an [`MjcfTask`] without a reward, and
/// `mjcf-pose:PATH` the same rewarded for holding its reference pose.
pub fn make_task(name: &str) -> Result<Arc<dyn Task>, EnvError> {
    if let Some(rest) = name.strip_prefix("walker:") {
        if let Some(origin) = parse_generated_walker(rest)? {
            let tree = generate(origin.family, origin.dof, origin.seed);
            return Ok(Arc::new(CorridorRun::new(
                tree,
                &generated_walker_name(origin),
            )?));
        }
        return Ok(Arc::new(CorridorRun::from_file(Path::new(rest))?));
    }
    if let Some((path, reward)) = mjcf_task_file(name) {
        return Ok(Arc::new(MjcfTask::with_reward(path, reward)?));
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
                    "{}, walker:TREE.json, mjcf:FILE.xml or mjcf-pose:FILE.xml",
                    TASK_NAMES.join(", ")
                ),
            });
        }
    })
}

/// The MJCF file a task name opens and its reward: `mjcf-pose:PATH` (holding the reference
/// pose), `mjcf:PATH` or a name ending in `.xml` (none); `None` for every other name. The
/// inverse is [`MjcfTask::task_name`].
pub fn mjcf_task_file(name: &str) -> Option<(&Path, MjcfReward)> {
    if let Some(path) = name.strip_prefix("mjcf-pose:") {
        return Some((Path::new(path), MjcfReward::HoldPose));
    }
    name.strip_prefix("mjcf:")
        .or(name.ends_with(".xml").then_some(name))
        .map(|path| (Path::new(path), MjcfReward::None))
}

/// The task name of a generated walker: `walker:FAMILY:DOF:SEED`.
pub fn generated_walker_name(origin: Origin) -> String {
    format!("{}:{}:{}", origin.family.name(), origin.dof, origin.seed)
}

/// Reads `FAMILY:DOF:SEED`; `None` when `spec` is not of that shape (then it is a file name).
fn parse_generated_walker(spec: &str) -> Result<Option<Origin>, EnvError> {
    let parts: Vec<&str> = spec.split(':').collect();
    let [family, dof, seed] = parts[..] else {
        return Ok(None);
    };
    let Some(family) = Family::parse(family) else {
        return Ok(None);
    };
    let bad = |what: &str| EnvError::UnknownTask {
        name: format!("walker:{spec}"),
        known: format!("walker:FAMILY:DOF:SEED with {what}"),
    };
    let dof: usize = dof.parse().map_err(|_| bad("DOF a whole number"))?;
    let (lo, hi) = GENERATED_DOF_RANGE;
    if !(lo..=hi).contains(&dof) {
        return Err(bad(&format!("DOF in {lo}..={hi}")));
    }
    let seed: u64 = seed.parse().map_err(|_| bad("SEED a whole number"))?;
    Ok(Some(Origin { family, dof, seed }))
}

/// An environment for the task named `name`.
pub fn make_env(name: &str) -> Result<Box<dyn Env>, EnvError> {
    Ok(Box::new(MujocoEnv::new(make_task(name)?)))
}
