//! `tdm-workbench envs`.
use crate::envs::{TASK_NAMES, make_task};

pub fn run() -> anyhow::Result<()> {
    println!(
        "{:<18} {:>4} {:>4} {:>10} {:>9} {:>12} {:>9}",
        "task", "obs", "act", "physics_dt", "substeps", "control_dt", "steps"
    );
    for name in TASK_NAMES {
        let task = make_task(name)?;
        let s = task.spec();
        println!(
            "{:<18} {:>4} {:>4} {:>9.4}s {:>9} {:>11.4}s {:>9}",
            s.name,
            s.observation_size,
            s.action_size,
            s.physics_dt_secs,
            s.substeps,
            s.control_dt_secs(),
            s.episode_steps
        );
    }
    println!(
        "\nAlso: --env walker:TREE.json (a procedural walker on the corridor run task, see `morph`),"
    );
    println!("      --env mjcf:FILE.xml (any MJCF file; observation qpos, qvel; reward 0).");
    Ok(())
}
