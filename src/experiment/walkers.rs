//! What both walker experiments are built from: a walker by name and seed ([`WalkerRef`]), the
//! ground-truth MPC expert and its resumable data collection ([`expert`], [`collect_expert`],
//! [`collected`]), and the prompted evaluation ([`Prompted`], [`run_prompted`]): the expert for
//! the first steps of every episode, then the agent under test, its returns in a [`WalkerEval`].
use super::{ExperimentError, read_json, write_json};
use crate::data::{
    CollectOptions, CollectSummary, DataError, Dataset, EnvInfo, Episode, Policy, Shard, collect,
    run_episode,
};
use crate::envs::{Env, MujocoEnv, Task};
use crate::models::GroundTruth;
use crate::plan::{MpcAgent, PlannerConfig};
use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// Evaluation episodes use initial-state seeds from here on (collection uses 0, 1, ...).
pub const EVAL_SEED: u64 = 10_000;

/// One walker of an experiment: `walker:FAMILY:DOF:SEED`, a task any command can open.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct WalkerRef {
    pub name: String,
    pub dof: usize,
    pub seed: u64,
}

/// The ground-truth MPC expert on `task`: the collection policy and the evaluation prompt.
pub fn expert(task: &Arc<dyn Task>, planner: PlannerConfig, seed: u64) -> MpcAgent {
    MpcAgent::new(
        PlannerConfig { seed, ..planner },
        Box::new(GroundTruth::new(Arc::clone(task), 0)),
        Arc::clone(task),
    )
}

/// `episodes` episodes of `steps` steps by `expert` (or any policy) on `task` into the
/// dataset `dir` (initial-state seeds `base_seed`, `base_seed + 1`, ...); episodes already
/// there are kept.
pub fn collect_expert(
    task: &Arc<dyn Task>,
    expert: &mut dyn Policy,
    dir: &Path,
    episodes: usize,
    steps: usize,
    base_seed: u64,
) -> Result<CollectSummary, ExperimentError> {
    let mut description = expert.describe();
    description["max_steps"] = steps.into();
    let mut ds = Dataset::create_or_resume(
        dir,
        EnvInfo::from_spec(task.spec()),
        description,
        base_seed,
        None,
    )?;
    let opts = CollectOptions {
        episodes,
        shard: Shard::WHOLE,
        max_steps: steps,
    };
    let mut env = MujocoEnv::new(Arc::clone(task));
    let summary = collect(&mut env, expert, &mut ds, &opts, |_| {})?;
    if !summary.failed.is_empty() {
        // The expert is deterministic per episode: a diverged episode would diverge again, so
        // it is recorded as done rather than retried for ever.
        let mut failed = failed_episodes(dir)?;
        failed.extend(summary.failed.iter().map(|(e, _)| *e));
        failed.sort_unstable();
        failed.dedup();
        write_json(&failed_path(dir), &failed)?;
    }
    Ok(summary)
}

fn failed_path(dir: &Path) -> PathBuf {
    let name = dir
        .file_name()
        .map_or_else(String::new, |n| n.to_string_lossy().into_owned());
    dir.with_file_name(format!("{name}.diverged.json"))
}

fn failed_episodes(dir: &Path) -> Result<Vec<usize>, ExperimentError> {
    let path = failed_path(dir);
    if path.exists() {
        read_json(&path)
    } else {
        Ok(Vec::new())
    }
}

/// The episodes the dataset `dir` holds once it is complete (`episodes` of them, counting
/// recorded divergences); None while it is not.
pub fn collected(dir: &Path, episodes: usize) -> Option<usize> {
    let failed = failed_episodes(dir).map_or(0, |f| f.len());
    let held = Dataset::open(dir).ok()?.meta().episode_count;
    (held + failed >= episodes).then_some(held)
}

/// The expert for the first `prompt_steps` steps of an episode, then the agent under test.
pub struct Prompted {
    pub expert: MpcAgent,
    pub agent: MpcAgent,
    pub prompt_steps: usize,
    /// Seconds per plan of the agent under test.
    pub plan_secs: Vec<f64>,
}

impl Prompted {
    /// `agent` on `task` after `prompt_steps` steps of the ground-truth expert planning with
    /// `planner` (reseeded with the walker's `seed`).
    pub fn new(
        task: &Arc<dyn Task>,
        planner: PlannerConfig,
        seed: u64,
        agent: MpcAgent,
        prompt_steps: usize,
    ) -> Self {
        Self {
            expert: expert(task, planner, seed),
            agent,
            prompt_steps,
            plan_secs: Vec::new(),
        }
    }
}

/// Runs the prompted episodes with these indices (initial-state seeds [`EVAL_SEED`] + index)
/// and records them. Every episode reseeds the planner, so with a deterministic model (the
/// expectation, windowed or greedy decodings) episodes 2..4 run on their own add exactly what
/// a run of 0..4 would have added to a run of 0..2.
pub fn run_prompted(
    policy: &mut Prompted,
    task: &Arc<dyn Task>,
    walker: &WalkerRef,
    agent: &str,
    episodes: std::ops::Range<usize>,
    steps: usize,
) -> Result<WalkerEval, ExperimentError> {
    let mut env = MujocoEnv::new(Arc::clone(task));
    let mut out = WalkerEval {
        walker: walker.clone(),
        agent: agent.into(),
        prompt_steps: policy.prompt_steps,
        returns: Vec::new(),
        returns_after_prompt: Vec::new(),
        failed_episodes: 0,
        mean_plan_ms: 0.0,
    };
    for e in episodes {
        let (episode, failure) = run_episode(&mut env, policy, EVAL_SEED + e as u64, steps)?;
        out.failed_episodes += usize::from(failure.is_some());
        out.returns.push(episode.total_reward());
        out.returns_after_prompt.push(
            episode
                .rewards
                .iter()
                .skip(policy.prompt_steps)
                .map(|&r| r as f64)
                .sum(),
        );
    }
    out.mean_plan_ms =
        1e3 * policy.plan_secs.iter().sum::<f64>() / policy.plan_secs.len().max(1) as f64;
    Ok(out)
}

impl Policy for Prompted {
    fn describe(&self) -> serde_json::Value {
        self.agent.describe()
    }

    fn begin_episode(&mut self, seed: u64) {
        self.expert.begin_episode(seed);
        self.agent.begin_episode(seed);
    }

    fn act(&mut self, env: &dyn Env, episode: &Episode) -> Result<Vec<f64>, DataError> {
        if episode.len() < self.prompt_steps {
            return self.expert.act(env, episode);
        }
        let action = self.agent.act(env, episode)?;
        if let Some(&secs) = self.agent.plan_secs().last() {
            self.plan_secs.push(secs);
        }
        Ok(action)
    }
}

/// One agent on one walker: its returns over the evaluation episodes.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct WalkerEval {
    pub walker: WalkerRef,
    pub agent: String,
    pub prompt_steps: usize,
    /// Whole-episode returns, the expert's prompt included.
    pub returns: Vec<f64>,
    /// Returns after the prompt: what the agent under test earned.
    pub returns_after_prompt: Vec<f64>,
    pub failed_episodes: usize,
    pub mean_plan_ms: f64,
}

impl WalkerEval {
    /// Appends the episodes of `more`, a later run of the same agent on the same walker.
    pub fn append(&mut self, more: WalkerEval) {
        let (a, b) = (self.returns.len() as f64, more.returns.len() as f64);
        if a + b > 0.0 {
            self.mean_plan_ms = (self.mean_plan_ms * a + more.mean_plan_ms * b) / (a + b);
        }
        self.returns.extend(more.returns);
        self.returns_after_prompt.extend(more.returns_after_prompt);
        self.failed_episodes += more.failed_episodes;
    }
}
