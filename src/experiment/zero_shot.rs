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
use super::{ExperimentError, read_json, write_json, write_results};
use crate::chart::{Chart, PALETTE, Series, Style};
use crate::data::{
    CollectOptions, CollectSummary, DataError, Dataset, EnvInfo, Episode, Policy, Shard, collect,
    run_episode,
};
use crate::envs::walkers::Family;
use crate::envs::walkers::params::GENERATED_DOF_RANGE;
use crate::envs::{Env, MujocoEnv, Task, make_task};
use crate::models::tdm::{LossWeights, TdmConfig, TdmModel, TrainOptions, TrainProgress, train};
use crate::models::{DynamicsModel, GroundTruth};
use crate::plan::{MeanCi, MpcAgent, NoisePolicy, Objective, PlannerConfig, mean_ci68};
use crate::tokenize::{Tokenizer, TokenizerConfig};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::AtomicBool;
use std::time::Instant;

/// Held-out walkers use seeds from here on, so they never meet a training walker's seed.
pub const HELD_OUT_SEED_OFFSET: u64 = 1_000_000;
/// Evaluation episodes use initial-state seeds from here on (collection uses 0, 1, ...).
const EVAL_SEED: u64 = 10_000;

/// Everything that defines one zero-shot experiment.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ZeroShotConfig {
    /// Walker family name (line, chain, bush, tree).
    pub family: String,
    pub dof_min: usize,
    pub dof_max: usize,
    /// M: training walkers.
    pub train_walkers: usize,
    /// Held-out walkers for evaluation.
    pub held_out_walkers: usize,
    pub seed: u64,
    /// Expert episodes per training walker.
    pub episodes_per_walker: usize,
    /// Brownian-noise episodes per training walker beside the expert's (0 in runs made before
    /// the option existed): low-reward data, so the model sees what a bad action sequence earns.
    #[serde(default)]
    pub random_episodes_per_walker: usize,
    /// Steps per episode (collection and evaluation).
    pub episode_steps: usize,
    /// K and N of the expert (collection) and of every evaluated planner.
    pub samples: usize,
    pub horizon: usize,
    /// Expert steps at the start of every evaluation episode.
    pub prompt_steps: usize,
    pub eval_episodes: usize,
    /// TDM preset (tiny, small, base, large) and its context window in tokens.
    pub preset: String,
    pub context_tokens: usize,
    pub train_steps: u64,
    pub batch: usize,
    pub lr: f64,
}

impl Default for ZeroShotConfig {
    fn default() -> Self {
        Self {
            family: "chain".into(),
            dof_min: 4,
            dof_max: 8,
            train_walkers: 100,
            held_out_walkers: 10,
            seed: 0,
            episodes_per_walker: 2,
            random_episodes_per_walker: 0,
            episode_steps: 200,
            samples: 32,
            horizon: 15,
            prompt_steps: 8,
            eval_episodes: 2,
            preset: "small".into(),
            context_tokens: 256,
            train_steps: 4000,
            batch: 16,
            lr: 1e-3,
        }
    }
}

/// One walker of the experiment: `walker:FAMILY:DOF:SEED`, a task any command can open.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct WalkerRef {
    pub name: String,
    pub dof: usize,
    pub seed: u64,
}

impl ZeroShotConfig {
    pub(super) fn check(&self, path: &Path) -> Result<Family, ExperimentError> {
        let bad = |message: String| ExperimentError::Config {
            path: path.to_path_buf(),
            message,
        };
        let family = Family::parse(&self.family)
            .ok_or_else(|| bad(format!("family '{}' is not a walker family", self.family)))?;
        if self.dof_min == 0 || self.dof_min > self.dof_max {
            return Err(bad(format!(
                "dof {}..={} is not a range",
                self.dof_min, self.dof_max
            )));
        }
        if self.train_walkers == 0 || self.held_out_walkers == 0 || self.episodes_per_walker == 0 {
            return Err(bad("walkers and episodes must be at least 1".into()));
        }
        if self.train_walkers as u64 >= HELD_OUT_SEED_OFFSET {
            return Err(bad(format!(
                "at most {} training walkers",
                HELD_OUT_SEED_OFFSET - 1
            )));
        }
        if self.samples == 0 || self.horizon == 0 || self.episode_steps <= self.prompt_steps {
            return Err(bad(
                "samples and horizon must be at least 1, and episodes longer than the prompt"
                    .into(),
            ));
        }
        let (lo, hi) = GENERATED_DOF_RANGE;
        if self.dof_min < lo || self.dof_max > hi {
            return Err(bad(format!("dof must lie within {lo}..={hi}")));
        }
        if self
            .seed
            .checked_add(HELD_OUT_SEED_OFFSET + self.held_out_walkers as u64)
            .is_none()
        {
            return Err(bad(format!("seed {} is too large", self.seed)));
        }
        if self.eval_episodes == 0 {
            return Err(bad("eval_episodes must be at least 1".into()));
        }
        self.tdm_options(1, self.lr)
            .map_err(|e| bad(e.to_string()))?;
        // A model trained on one size only is a specialist: it would refuse the others.
        let train_dofs: Vec<usize> = self.train_set().iter().map(|w| w.dof).collect();
        if train_dofs.iter().all(|&d| d == train_dofs[0])
            && let Some(w) = self.held_out_set().iter().find(|w| w.dof != train_dofs[0])
        {
            return Err(bad(format!(
                "every training walker has {} DoF but held-out {} has {}: use more walkers or one DoF",
                train_dofs[0], w.name, w.dof
            )));
        }
        Ok(family)
    }

    pub(super) fn walker(&self, seed: u64) -> WalkerRef {
        // The same rule as `morph generate`: the walker's own seed draws its size.
        let dof = StdRng::seed_from_u64(seed).random_range(self.dof_min..=self.dof_max);
        WalkerRef {
            name: format!("walker:{}:{dof}:{seed}", self.family),
            dof,
            seed,
        }
    }

    pub fn train_set(&self) -> Vec<WalkerRef> {
        (0..self.train_walkers as u64)
            .map(|i| self.walker(self.seed + i))
            .collect()
    }

    pub fn held_out_set(&self) -> Vec<WalkerRef> {
        (0..self.held_out_walkers as u64)
            .map(|j| self.walker(self.seed + HELD_OUT_SEED_OFFSET + j))
            .collect()
    }

    /// Training options for this experiment's TDM (observations, rewards and actions learned;
    /// no held-out split: held-out walkers are the test).
    pub(super) fn tdm_options(&self, steps: u64, lr: f64) -> Result<TrainOptions, ExperimentError> {
        let vocab = Tokenizer::new(TokenizerConfig::default())
            .map_err(|e| ExperimentError::NotReady(e.to_string()))?
            .vocab_size() as usize;
        let mut model = TdmConfig::preset(&self.preset, vocab).ok_or_else(|| {
            ExperimentError::NotReady(format!("unknown TDM preset '{}'", self.preset))
        })?;
        model.context_tokens = self.context_tokens;
        model
            .validate()
            .map_err(|e| ExperimentError::NotReady(e.to_string()))?;
        let longest = Tokenizer::step_len(2 * self.dof_max + 10, self.dof_max);
        if longest > model.max_step_tokens {
            return Err(ExperimentError::NotReady(format!(
                "a {}-DoF walker's step is {longest} tokens, the model takes {}",
                self.dof_max, model.max_step_tokens
            )));
        }
        Ok(TrainOptions {
            model,
            tokenizer: Default::default(),
            steps,
            batch: self.batch,
            lr,
            warmup: 100.min(steps / 10),
            clip: 1.0,
            adamw: Default::default(),
            held_out: 0.0,
            loss: LossWeights {
                observations: 1.0,
                rewards: 1.0,
                actions: 1.0,
                smoothing_bins: 0.0,
            },
            seed: self.seed,
            eval_every: 0,
            save_every: 250,
        })
    }

    pub(super) fn planner(&self) -> PlannerConfig {
        PlannerConfig {
            candidates: self.samples,
            horizon_steps: self.horizon,
            objective: Objective::Auto,
            ..PlannerConfig::default()
        }
    }
}

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
        let mut policy = Prompted {
            expert: expert(task, c.planner(), w.seed),
            agent: MpcAgent::new(config, model, Arc::clone(task)),
            prompt_steps: c.prompt_steps,
            plan_secs: Vec::new(),
        };
        run_prompted(
            &mut policy,
            task,
            w,
            agent.name(),
            0..c.eval_episodes,
            c.episode_steps,
        )
    }

    /// Stage 4: everything evaluated so far, per walker and overall; writes `results.json`,
    /// `results.csv` and `results.png`.
    pub fn report(&self) -> Result<ZeroShotReport, ExperimentError> {
        let c = &self.config;
        let mut rows = Vec::new();
        let mut missing = Vec::new();
        for (j, w) in c.held_out_set().iter().enumerate() {
            let mut mean = [f64::NAN; 3];
            for (slot, agent) in Agent::ALL.iter().enumerate() {
                let file = self.eval_file(j, *agent);
                if file.exists() {
                    let e: WalkerEval = read_json(&file)?;
                    mean[slot] = mean_ci68(&e.returns_after_prompt).mean;
                } else {
                    missing.push(format!("{} {}", w.name, agent.name()));
                }
            }
            let [gt, tdm, bc] = mean;
            rows.push(WalkerRow {
                walker: w.name.clone(),
                dof: w.dof,
                ground_truth: gt,
                tdm,
                bc,
                tdm_fraction: tdm / gt,
                bc_fraction: bc / gt,
            });
        }
        // A fraction needs a positive ground-truth return.
        let complete: Vec<&WalkerRow> = rows
            .iter()
            .filter(|r| r.ground_truth > 0.0 && r.tdm.is_finite() && r.bc.is_finite())
            .collect();
        let col =
            |f: fn(&WalkerRow) -> f64| -> Vec<f64> { complete.iter().map(|r| f(r)).collect() };
        let train_runs: Vec<TrainRun> = {
            let log = self.dir.join("train-runs.json");
            if log.exists() {
                read_json(&log)?
            } else {
                Vec::new()
            }
        };
        let report = ZeroShotReport {
            config: c.clone(),
            walkers_complete: complete.len(),
            ground_truth: mean_ci68(&col(|r| r.ground_truth)),
            tdm: mean_ci68(&col(|r| r.tdm)),
            bc: mean_ci68(&col(|r| r.bc)),
            tdm_fraction: mean_ci68(&col(|r| r.tdm_fraction)),
            bc_fraction: mean_ci68(&col(|r| r.bc_fraction)),
            train_tokens: train_runs.iter().map(|r| r.tokens_this_run).sum(),
            train_secs: train_runs.iter().map(|r| r.secs).sum(),
            train_runs,
            rows,
            missing,
        };
        let mut csv = String::from("walker,dof,ground_truth,tdm,bc,tdm_fraction,bc_fraction\n");
        for r in &report.rows {
            csv.push_str(&format!(
                "{},{},{:.3},{:.3},{:.3},{:.4},{:.4}\n",
                r.walker, r.dof, r.ground_truth, r.tdm, r.bc, r.tdm_fraction, r.bc_fraction
            ));
        }
        write_results(&self.dir, &report, &csv, &report.chart(), (1100, 560))?;
        Ok(report)
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

/// The ground-truth MPC expert on `task`: the collection policy and the evaluation prompt.
pub(super) fn expert(task: &Arc<dyn Task>, planner: PlannerConfig, seed: u64) -> MpcAgent {
    MpcAgent::new(
        PlannerConfig { seed, ..planner },
        Box::new(GroundTruth::new(Arc::clone(task), 0)),
        Arc::clone(task),
    )
}

/// `episodes` episodes of `steps` steps by `expert` (or any policy) on `task` into the
/// dataset `dir` (initial-state seeds `base_seed`, `base_seed + 1`, ...); episodes already
/// there are kept.
pub(super) fn collect_expert(
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
pub(super) fn collected(dir: &Path, episodes: usize) -> Option<usize> {
    let failed = failed_episodes(dir).map_or(0, |f| f.len());
    let held = Dataset::open(dir).ok()?.meta().episode_count;
    (held + failed >= episodes).then_some(held)
}

/// The expert for the first `prompt_steps` steps of an episode, then the agent under test.
pub(super) struct Prompted {
    pub expert: MpcAgent,
    pub agent: MpcAgent,
    pub prompt_steps: usize,
    /// Seconds per plan of the agent under test.
    pub plan_secs: Vec<f64>,
}

/// Runs the prompted episodes with these indices (initial-state seeds [`EVAL_SEED`] + index)
/// and records them. Every episode reseeds the planner, so with a deterministic model (the
/// expectation, windowed or greedy decodings) episodes 2..4 run on their own add exactly what
/// a run of 0..4 would have added to a run of 0..2.
pub(super) fn run_prompted(
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

/// One agent on one held-out walker.
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

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct WalkerRow {
    pub walker: String,
    pub dof: usize,
    /// Mean returns after the prompt.
    pub ground_truth: f64,
    pub tdm: f64,
    pub bc: f64,
    pub tdm_fraction: f64,
    pub bc_fraction: f64,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ZeroShotReport {
    pub config: ZeroShotConfig,
    /// Held-out walkers with all three agents evaluated (the means are over these).
    pub walkers_complete: usize,
    pub ground_truth: MeanCi,
    pub tdm: MeanCi,
    pub bc: MeanCi,
    /// Per-walker fraction of the ground-truth planner's return, averaged over walkers.
    pub tdm_fraction: MeanCi,
    pub bc_fraction: MeanCi,
    pub train_tokens: u64,
    pub train_secs: f64,
    pub train_runs: Vec<TrainRun>,
    pub rows: Vec<WalkerRow>,
    /// Walker-agent pairs not evaluated yet.
    pub missing: Vec<String>,
}

impl ZeroShotReport {
    /// Returns after the prompt per held-out walker: ground truth, TDM MPC and BC side by side.
    pub fn chart(&self) -> Chart {
        type Column = fn(&WalkerRow) -> f64;
        let agents: [(&str, Column); 3] = [
            ("ground-truth MPC", |r| r.ground_truth),
            ("TDM MPC (zero-shot)", |r| r.tdm),
            ("TDM as BC policy", |r| r.bc),
        ];
        let series = agents
            .iter()
            .enumerate()
            .map(|(a, (name, value))| Series {
                style: Style::Bars { width: 0.25 },
                ..Series::line(
                    name,
                    PALETTE[a],
                    self.rows
                        .iter()
                        .enumerate()
                        .map(|(j, r)| (j as f64 + (a as f64 - 1.0) * 0.27, value(r)))
                        .collect(),
                )
            })
            .collect();
        Chart {
            title: format!(
                "zero-shot on {} held-out {} walkers (trained on {}): TDM/GT {:.2}, BC/GT {:.2}",
                self.rows.len(),
                self.config.family,
                self.config.train_walkers,
                self.tdm_fraction.mean,
                self.bc_fraction.mean
            ),
            x_label: "held-out walker (DoF)".into(),
            y_label: format!("return after the {}-step prompt", self.config.prompt_steps),
            series,
            x_categories: Some(self.rows.iter().map(|r| format!("{}", r.dof)).collect()),
            log_y: false,
        }
    }
}
