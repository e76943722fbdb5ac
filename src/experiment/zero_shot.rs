//! Zero-shot generalisation across walker morphologies (section 5.2.1 of the paper), at the
//! scale two CPU cores allow.
//!
//! Stages, each resumable from its files under one folder and each (but `train`) shardable:
//! 1. `collect`: expert-ish data (ground-truth MPC) on M seeded training walkers, one dataset
//!    per walker in `data/`.
//! 2. `train`: one TDM on all of them, predicting rewards (walker rewards are not a function of
//!    observations) and actions (its BC view), `tdm.safetensors`.
//! 3. `eval`: on H held-out walkers never seen in training, three agents from the same initial
//!    states: the ground-truth planner, MPC with the TDM, and the TDM's BC view as a policy. Each
//!    episode starts with `prompt_steps` steps of the ground-truth expert, so both TDM agents see
//!    a history of expert behaviour on the new walker (the paper prompts its BC policy the same
//!    way). One JSON per walker and agent in `eval/`.
//! 4. `report`: per-walker returns and the TDM's and BC's fractions of the ground-truth return,
//!    as `results.json`, `results.csv` and `results.png`.
//!
//! `experiment.json` fixes the settings: a later run with different ones is refused, so shards
//! and resumed runs always belong to the same experiment.
mod config;
mod report;

pub use config::{HELD_OUT_SEED_OFFSET, ZeroShotConfig};
pub use report::{WalkerRow, ZeroShotReport};

use super::walkers::{
    Prompted, WalkerEval, WalkerRef, collect_expert, collected, expert, run_prompted,
};
use super::{ExperimentError, read_json, write_json};
use crate::data::Shard;
use crate::envs::{Task, make_task};
use crate::models::tdm::{TdmModel, TrainProgress, train};
use crate::models::{DynamicsModel, GroundTruth};
use crate::plan::{MpcAgent, NoisePolicy, PlannerConfig, mean_ci68};
use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::AtomicBool;
use std::time::Instant;

/// The experiment's folder and settings.
pub struct ZeroShot {
    pub dir: PathBuf,
    pub config: ZeroShotConfig,
}

impl ZeroShot {
    /// Opens the experiment in `dir`: writes `experiment.json` the first time, and refuses
    /// settings that differ from the ones already there (naming each difference).
    pub fn open(dir: &Path, config: ZeroShotConfig) -> Result<Self, ExperimentError> {
        let path = dir.join("experiment.json");
        config.check(&path)?;
        if path.exists() {
            let existing: ZeroShotConfig = read_json(&path)?;
            if existing != config {
                let (a, b) = (
                    serde_json::to_value(&existing).unwrap_or_default(),
                    serde_json::to_value(&config).unwrap_or_default(),
                );
                let diffs: Vec<String> = a
                    .as_object()
                    .map(|o| {
                        o.iter()
                            .filter(|(k, v)| b.get(k.as_str()) != Some(*v))
                            .map(|(k, v)| {
                                format!(
                                    "{k} is {v} there, {} here",
                                    b.get(k.as_str()).unwrap_or(&serde_json::Value::Null)
                                )
                            })
                            .collect()
                    })
                    .unwrap_or_default();
                return Err(ExperimentError::Config {
                    path,
                    message: format!(
                        "this experiment was set up differently: {} (use another --dir, or the same settings)",
                        diffs.join("; ")
                    ),
                });
            }
        } else {
            write_json(&path, &config)?;
        }
        Ok(Self {
            dir: dir.to_path_buf(),
            config,
        })
    }

    pub fn dataset_dir(&self, i: usize, w: &WalkerRef) -> PathBuf {
        self.dir
            .join("data")
            .join(format!("{i:04}-{}dof-seed{}", w.dof, w.seed))
    }

    /// Where walker `i`'s Brownian-noise episodes go (when the setup asks for them).
    pub fn random_dataset_dir(&self, i: usize, w: &WalkerRef) -> PathBuf {
        self.dir
            .join("data")
            .join(format!("{i:04}-{}dof-seed{}-brownian", w.dof, w.seed))
    }

    pub fn checkpoint(&self) -> PathBuf {
        self.dir.join("tdm.safetensors")
    }

    fn eval_file(&self, j: usize, agent: Agent) -> PathBuf {
        self.dir
            .join("eval")
            .join(format!("{j:02}-{}.json", agent.name()))
    }

    /// Stage 1: ground-truth MPC data on this shard's training walkers (walker `i` belongs to
    /// shard `i % n`). Finished episodes are kept; a rerun continues.
    pub fn collect(&self, shard: Shard, log: &mut dyn FnMut(&str)) -> Result<(), ExperimentError> {
        let c = &self.config;
        let walkers = c.train_set();
        for (i, w) in walkers.iter().enumerate() {
            if !shard.owns(i) {
                continue;
            }
            let random_dir = self.random_dataset_dir(i, w);
            if c.random_episodes_per_walker > 0
                && collected(&random_dir, c.random_episodes_per_walker).is_none()
            {
                let task = make_task(&w.name)?;
                let mut policy =
                    NoisePolicy::new(c.planner().noise, task.spec().action_size, c.episode_steps);
                let summary = collect_expert(
                    &task,
                    &mut policy,
                    &random_dir,
                    c.random_episodes_per_walker,
                    c.episode_steps,
                    0,
                )?;
                log(&format!(
                    "walker {}/{} {}: {} Brownian episodes, return {:.1}",
                    i + 1,
                    walkers.len(),
                    w.name,
                    summary.collected,
                    mean_ci68(&summary.returns).mean
                ));
            }
            let dir = self.dataset_dir(i, w);
            if collected(&dir, c.episodes_per_walker).is_some() {
                continue;
            }
            let task = make_task(&w.name)?;
            let mut expert = expert(&task, c.planner(), w.seed);
            let summary = collect_expert(
                &task,
                &mut expert,
                &dir,
                c.episodes_per_walker,
                c.episode_steps,
                0,
            )?;
            for (e, why) in &summary.failed {
                log(&format!("  {} episode {e} diverged: {why}", w.name));
            }
            let mean = mean_ci68(&summary.returns).mean;
            log(&format!(
                "walker {}/{} {} ({} dof): {} episodes, return {mean:.1}, {:.1}s",
                i + 1,
                walkers.len(),
                w.name,
                w.dof,
                summary.collected,
                summary.elapsed_secs
            ));
        }
        Ok(())
    }

    /// The training datasets, once every walker's data is complete.
    pub fn datasets(&self) -> Result<Vec<PathBuf>, ExperimentError> {
        let c = &self.config;
        let mut dirs = Vec::new();
        let mut missing = Vec::new();
        for (i, w) in c.train_set().iter().enumerate() {
            let mut sets = vec![(self.dataset_dir(i, w), c.episodes_per_walker)];
            if c.random_episodes_per_walker > 0 {
                sets.push((self.random_dataset_dir(i, w), c.random_episodes_per_walker));
            }
            for (dir, episodes) in sets {
                match collected(&dir, episodes) {
                    None => missing.push(w.name.clone()),
                    // Every episode diverged: nothing to train on.
                    Some(0) => {}
                    Some(_) => dirs.push(dir),
                }
            }
        }
        missing.dedup();
        if !missing.is_empty() {
            return Err(ExperimentError::NotReady(format!(
                "{}: {} of {} training walkers have no complete data yet ({}{}); run the collect stage (every shard) first",
                self.dir.display(),
                missing.len(),
                c.train_walkers,
                missing[..missing.len().min(3)].join(", "),
                if missing.len() > 3 { ", ..." } else { "" }
            )));
        }
        Ok(dirs)
    }

    /// Stage 2: one TDM on every training walker's data; continues a stopped run.
    pub fn train(
        &self,
        stop: &AtomicBool,
        progress: impl FnMut(&TrainProgress),
    ) -> Result<Option<TrainRun>, ExperimentError> {
        let c = &self.config;
        let datasets = self.datasets()?;
        let opts = c.tdm_options(c.train_steps, c.lr)?;
        let out = self.checkpoint();
        let before = self.trained()?;
        if before.is_some_and(|(steps, _)| steps >= c.train_steps) {
            return Ok(None);
        }
        let resume = crate::models::tdm::train_state_path(&out).exists();
        let started = Instant::now();
        let summary = train(&opts, &datasets, &out, resume, None, stop, progress)?;
        let run = TrainRun {
            steps_total: summary.steps,
            tokens_this_run: summary.tokens - before.map_or(0, |(_, tokens)| tokens),
            secs: started.elapsed().as_secs_f64(),
            tokens_per_sec: summary.tokens_per_sec,
            final_loss: summary.final_loss.is_finite().then_some(summary.final_loss),
            parameters: summary.parameters,
            threads: std::thread::available_parallelism().map_or(1, |x| x.get()),
            stopped_early: summary.stopped_early,
        };
        let log = self.dir.join("train-runs.json");
        let mut runs: Vec<TrainRun> = if log.exists() {
            read_json(&log)?
        } else {
            Vec::new()
        };
        runs.push(run.clone());
        write_json(&log, &runs)?;
        Ok(Some(run))
    }

    /// Steps and tokens the experiment's TDM has been trained so far (None: not started).
    pub fn trained(&self) -> Result<Option<(u64, u64)>, ExperimentError> {
        let path = self.checkpoint();
        if !path.exists() {
            return Ok(None);
        }
        let meta = crate::models::tdm::load_meta(&path)
            .map_err(|e| ExperimentError::NotReady(e.to_string()))?;
        Ok(Some((meta.steps_trained, meta.tokens_trained)))
    }

    /// The checkpoint, once training has finished.
    pub fn trained_checkpoint(&self) -> Result<PathBuf, ExperimentError> {
        let path = self.checkpoint();
        match self.trained()? {
            Some((steps, _)) if steps >= self.config.train_steps => Ok(path),
            Some((steps, _)) => Err(ExperimentError::NotReady(format!(
                "{}: trained {steps} of {} steps; finish the train stage first",
                path.display(),
                self.config.train_steps
            ))),
            None => Err(ExperimentError::NotReady(format!(
                "{}: no trained TDM yet; run the train stage first",
                path.display()
            ))),
        }
    }

    /// Stage 3: the three agents on this shard's held-out walkers (walker `j` belongs to shard
    /// `j % n`). A finished walker-agent pair is kept; a rerun continues.
    pub fn evaluate(&self, shard: Shard, log: &mut dyn FnMut(&str)) -> Result<(), ExperimentError> {
        let c = &self.config;
        let checkpoint = self.trained_checkpoint()?;
        let held = c.held_out_set();
        for (j, w) in held.iter().enumerate() {
            if !shard.owns(j) {
                continue;
            }
            let task = make_task(&w.name)?;
            for agent in Agent::ALL {
                let file = self.eval_file(j, agent);
                if file.exists() {
                    continue;
                }
                let result = self.evaluate_one(&task, w, agent, &checkpoint)?;
                log(&format!(
                    "held-out {}/{} {} ({} dof) {}: return {:.1} (after the prompt {:.1}), {:.0} ms/plan",
                    j + 1,
                    held.len(),
                    w.name,
                    w.dof,
                    agent.name(),
                    mean_ci68(&result.returns).mean,
                    mean_ci68(&result.returns_after_prompt).mean,
                    result.mean_plan_ms
                ));
                write_json(&file, &result)?;
            }
        }
        Ok(())
    }

    fn evaluate_one(
        &self,
        task: &Arc<dyn Task>,
        w: &WalkerRef,
        agent: Agent,
        checkpoint: &Path,
    ) -> Result<WalkerEval, ExperimentError> {
        let c = &self.config;
        let expert_config = PlannerConfig {
            seed: w.seed,
            ..c.planner()
        };
        let (model, config): (Box<dyn DynamicsModel>, PlannerConfig) = match agent {
            Agent::GroundTruth => (
                Box::new(GroundTruth::new(Arc::clone(task), 0)),
                expert_config,
            ),
            Agent::Tdm => (
                Box::new(TdmModel::load(checkpoint, task.spec())?),
                expert_config,
            ),
            Agent::Bc => (
                Box::new(TdmModel::load(checkpoint, task.spec())?),
                PlannerConfig {
                    candidates: 1,
                    horizon_steps: 1,
                    proposal_mix: 1.0,
                    keep_best: false,
                    noise: crate::plan::NoiseConfig {
                        variance: 0.0,
                        ..expert_config.noise
                    },
                    ..expert_config
                },
            ),
        };
        let under_test = MpcAgent::new(config, model, Arc::clone(task));
        let mut policy = Prompted::new(task, c.planner(), w.seed, under_test, c.prompt_steps);
        run_prompted(
            &mut policy,
            task,
            w,
            agent.name(),
            0..c.eval_episodes,
            c.episode_steps,
        )
    }
}

/// The agents compared on every held-out walker.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Agent {
    GroundTruth,
    Tdm,
    Bc,
}

impl Agent {
    pub const ALL: [Agent; 3] = [Agent::GroundTruth, Agent::Tdm, Agent::Bc];

    pub fn name(self) -> &'static str {
        match self {
            Agent::GroundTruth => "gt",
            Agent::Tdm => "tdm",
            Agent::Bc => "bc",
        }
    }
}

/// One training run (a resumed training adds another).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct TrainRun {
    pub steps_total: u64,
    pub tokens_this_run: u64,
    pub secs: f64,
    pub tokens_per_sec: f64,
    /// None when the run ended before a finite loss (e.g. stopped at once).
    pub final_loss: Option<f32>,
    pub parameters: usize,
    pub threads: usize,
    pub stopped_early: bool,
}
