//! Few-shot adaptation to a new walker (the shape of the paper's Fig. 6b), following a zero-shot
//! experiment: its generalist TDM was pre-trained on walkers that do not include the target (one
//! of its held-out walkers). For several amounts M of expert episodes on the target, three
//! models learn from the same data: the generalist fine-tuned (`--init`), a TDM of the same size
//! from scratch, and the best MLP baseline (tokenized inputs + delta outputs). Each then plans on
//! the target as in the zero-shot evaluation (same K, N, prompt, initial states).
//!
//! Besides the return, each TDM's next-token loss on held-out expert episodes of the target
//! (other initial states, never trained on) measures how much it learned from M episodes with
//! far less noise than a few planning episodes can.
//!
//! Stages (each resumable from its files in the folder): `collect` (one dataset per M, the
//! first M ground-truth MPC episodes, and the held-out episodes), `train` (the 3 x |M| models;
//! a finished one is marked `.done.json`), `eval` (one JSON per model, plus the ground-truth
//! planner and the generalist with no target data, M = 0; an evaluation with fewer episodes
//! than asked for is extended; the TDMs' held-out loss), `report` (`results.json`, `.csv`,
//! `.png`, `results-loss.png`).
mod report;

pub use report::{FewShotReport, FewShotRow};

use super::walkers::{
    Prompted, WalkerEval, WalkerRef, collect_expert, collected, expert, run_prompted,
};
use super::zero_shot::{ZeroShot, ZeroShotConfig};
use super::{ExperimentError, read_json, write_json};
use crate::envs::{Task, make_task};
use crate::models::mlp::{MlpTrainOptions, MlpVariant, train_mlp};
use crate::models::tdm::{TrainProgress, dynamics_loss, train, train_state_path};
use crate::models::{DynamicsModel, GroundTruth, LearnedModel};
use crate::plan::{MpcAgent, PlannerConfig, mean_ci68};
use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::AtomicBool;

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FewShotConfig {
    /// The zero-shot experiment whose generalist is pre-trained and whose settings (episode
    /// length, K, N, prompt, TDM size) this one shares.
    pub zero_shot_dir: PathBuf,
    /// The target: that experiment's held-out walker with this index.
    pub target: usize,
    /// The amounts M of target episodes.
    pub episodes: Vec<usize>,
    pub finetune_steps: StepsPerM,
    pub scratch_steps: StepsPerM,
    pub mlp_steps: u64,
    pub eval_episodes: usize,
    /// Expert episodes on the target, from initial states of their own, that no model trains
    /// on: each TDM's loss on them is reported (0: none).
    #[serde(default)]
    pub holdout_episodes: usize,
}

/// Training steps: the same for every M, or one count per M (more data affords more steps
/// before over-fitting).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum StepsPerM {
    Same(u64),
    /// In the order of the (ascending) episode counts.
    Each(Vec<u64>),
}

impl StepsPerM {
    /// One value for all, several for one each.
    pub fn from_list(list: &[u64]) -> Self {
        match list {
            [one] => StepsPerM::Same(*one),
            many => StepsPerM::Each(many.to_vec()),
        }
    }

    /// The steps for the `i`-th episode count.
    pub fn get(&self, i: usize) -> u64 {
        match self {
            StepsPerM::Same(n) => *n,
            StepsPerM::Each(v) => v.get(i).copied().unwrap_or(0),
        }
    }
}

/// Initial-state seeds of the held-out target episodes (the training episodes start at 0, the
/// evaluation episodes at 10,000).
const HOLDOUT_SEED: u64 = 20_000;
/// Windows of the held-out episodes each TDM is scored on.
const HOLDOUT_WINDOWS: usize = 64;

/// The models compared at every M.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Learner {
    FineTuned,
    Scratch,
    Mlp,
}

impl Learner {
    pub const ALL: [Learner; 3] = [Learner::FineTuned, Learner::Scratch, Learner::Mlp];

    pub fn name(self) -> &'static str {
        match self {
            Learner::FineTuned => "generalist-fine-tuned",
            Learner::Scratch => "tdm-from-scratch",
            Learner::Mlp => "mlp-tokenized-delta",
        }
    }
}

pub struct FewShot {
    pub dir: PathBuf,
    pub config: FewShotConfig,
    pub base: ZeroShotConfig,
    pub target: WalkerRef,
}

impl FewShot {
    /// Opens the experiment in `dir` (pinning its settings in `experiment.json`, as the
    /// zero-shot experiment does).
    pub fn open(dir: &Path, config: FewShotConfig) -> Result<Self, ExperimentError> {
        let base_path = config.zero_shot_dir.join("experiment.json");
        let base: ZeroShotConfig = read_json(&base_path)?;
        base.check(&base_path)?;
        let mut config = config;
        let path = dir.join("experiment.json");
        let bad = |message: String| ExperimentError::Config {
            path: path.clone(),
            message,
        };
        // Sort M ascending, each per-M step count with its M.
        let mut order: Vec<usize> = (0..config.episodes.len()).collect();
        order.sort_by_key(|&i| config.episodes[i]);
        for (name, steps) in [
            ("finetune_steps", &mut config.finetune_steps),
            ("scratch_steps", &mut config.scratch_steps),
        ] {
            if let StepsPerM::Each(v) = steps {
                if v.len() != config.episodes.len() {
                    return Err(bad(format!(
                        "{name} has {} values for {} episode counts; give one, or one per count",
                        v.len(),
                        config.episodes.len()
                    )));
                }
                *v = order.iter().map(|&i| v[i]).collect();
            }
        }
        config.episodes = order.iter().map(|&i| config.episodes[i]).collect();
        if config.episodes.windows(2).any(|w| w[0] == w[1]) {
            return Err(bad("an episode count M is given twice".into()));
        }
        let held = base.held_out_set();
        let target = held.get(config.target).cloned().ok_or_else(|| {
            bad(format!(
                "target {} is not one of the {} held-out walkers",
                config.target,
                held.len()
            ))
        })?;
        if config.episodes.is_empty() || config.episodes.contains(&0) {
            return Err(bad("the episode counts M must be at least 1".into()));
        }
        if config.eval_episodes == 0 {
            return Err(bad("eval_episodes must be at least 1".into()));
        }
        if path.exists() {
            let existing: FewShotConfig = read_json(&path)?;
            // The evaluation episodes and the held-out episodes change no model: more of either
            // extends the evaluations and the held-out set (fewer evaluation episodes report
            // the first ones).
            let same_models = FewShotConfig {
                eval_episodes: config.eval_episodes,
                holdout_episodes: config.holdout_episodes,
                ..existing.clone()
            };
            if same_models != config {
                return Err(bad(format!(
                    "this experiment was set up differently ({existing:?}); use another --dir or the same settings"
                )));
            }
            if config.holdout_episodes < existing.holdout_episodes {
                return Err(bad(format!(
                    "its held-out set has {} episodes; ask for at least as many (not {})",
                    existing.holdout_episodes, config.holdout_episodes
                )));
            }
            if existing != config {
                write_json(&path, &config)?;
            }
        } else {
            write_json(&path, &config)?;
        }
        Ok(Self {
            dir: dir.to_path_buf(),
            config,
            base,
            target,
        })
    }

    fn pretrained(&self) -> PathBuf {
        self.config.zero_shot_dir.join("tdm.safetensors")
    }

    fn data_dir(&self, m: usize) -> PathBuf {
        self.dir.join("data").join(format!("m{m:03}"))
    }

    fn holdout_dir(&self) -> PathBuf {
        self.dir.join("data").join("holdout")
    }

    fn loss_path(&self, name: &str) -> PathBuf {
        self.dir
            .join("eval")
            .join(format!("{name}.target-loss.json"))
    }

    pub fn model_path(&self, learner: Learner, m: usize) -> PathBuf {
        self.dir
            .join("models")
            .join(format!("{}-m{m:03}.safetensors", learner.name()))
    }

    fn done_path(&self, learner: Learner, m: usize) -> PathBuf {
        self.model_path(learner, m).with_extension("done.json")
    }

    fn eval_path(&self, name: &str) -> PathBuf {
        self.dir.join("eval").join(format!("{name}.json"))
    }

    fn task(&self) -> Result<Arc<dyn Task>, ExperimentError> {
        Ok(make_task(&self.target.name)?)
    }

    /// Stage 1: the first M expert episodes on the target, one dataset per M, and the held-out
    /// episodes.
    pub fn collect(&self, log: &mut dyn FnMut(&str)) -> Result<(), ExperimentError> {
        let task = self.task()?;
        let holdout = self.config.holdout_episodes;
        let sets = self
            .config
            .episodes
            .iter()
            .map(|&m| (format!("M = {m}"), self.data_dir(m), m, 0))
            .chain((holdout > 0).then(|| {
                (
                    "held out".to_string(),
                    self.holdout_dir(),
                    holdout,
                    HOLDOUT_SEED,
                )
            }));
        for (what, dir, m, base_seed) in sets {
            if collected(&dir, m).is_some() {
                continue;
            }
            let mut expert = expert(&task, self.base.planner(), self.target.seed);
            let summary = collect_expert(
                &task,
                &mut expert,
                &dir,
                m,
                self.base.episode_steps,
                base_seed,
            )?;
            log(&format!(
                "{what}: {} episodes on {}, return {:.1}",
                summary.collected,
                self.target.name,
                mean_ci68(&summary.returns).mean
            ));
        }
        Ok(())
    }

    /// Stage 2: the three learners at every M; finished ones are skipped, stopped ones resume.
    pub fn train(
        &self,
        stop: &AtomicBool,
        log: &mut dyn FnMut(&str),
        mut progress: impl FnMut(&TrainProgress),
    ) -> Result<(), ExperimentError> {
        let c = &self.config;
        let pretrained = ZeroShot {
            dir: c.zero_shot_dir.clone(),
            config: self.base.clone(),
        }
        .trained_checkpoint()?;
        let models = self.dir.join("models");
        std::fs::create_dir_all(&models).map_err(|e| ExperimentError::io(&models, e))?;
        for (i, &m) in c.episodes.iter().enumerate() {
            let data = self.data_dir(m);
            if collected(&data, m).is_none() {
                return Err(ExperimentError::NotReady(format!(
                    "{}: no complete data for M = {m}; run the collect stage first",
                    data.display()
                )));
            }
            for learner in Learner::ALL {
                let (out, done) = (self.model_path(learner, m), self.done_path(learner, m));
                if done.exists() {
                    continue;
                }
                let resume = train_state_path(&out).exists();
                let data = std::slice::from_ref(&data);
                let summary = match learner {
                    Learner::FineTuned | Learner::Scratch => {
                        let fine = learner == Learner::FineTuned;
                        let steps = if fine {
                            c.finetune_steps.get(i)
                        } else {
                            c.scratch_steps.get(i)
                        };
                        let lr = if fine {
                            self.base.lr / 2.0
                        } else {
                            self.base.lr
                        };
                        let opts = self.base.tdm_options(steps, lr)?;
                        let init = (fine && !resume).then_some(pretrained.as_path());
                        train(&opts, data, &out, resume, init, stop, &mut progress)?
                    }
                    Learner::Mlp => {
                        let opts = MlpTrainOptions {
                            preset: "base".into(),
                            variant: MlpVariant::TokenizedDelta,
                            steps: c.mlp_steps,
                            batch: 256,
                            lr: 1e-3,
                            warmup: 100.min(c.mlp_steps / 10),
                            clip: 1.0,
                            adamw: Default::default(),
                            held_out: 0.0,
                            seed: self.base.seed,
                            eval_every: 0,
                            save_every: 500,
                        };
                        train_mlp(&opts, data, &out, resume, None, stop, &mut progress)?
                    }
                };
                if summary.stopped_early {
                    return Ok(());
                }
                log(&format!(
                    "\n{} M = {m}: {} steps, final loss {:.4}, {:.0}s",
                    learner.name(),
                    summary.steps,
                    summary.final_loss,
                    summary.elapsed_secs
                ));
                write_json(
                    &done,
                    &serde_json::json!({
                        "steps": summary.steps,
                        "final_loss": summary.final_loss,
                        "secs": summary.elapsed_secs,
                        "tokens_or_samples": summary.tokens,
                    }),
                )?;
            }
        }
        Ok(())
    }

    /// Stage 3: every trained model plans on the target; also the ground-truth planner and the
    /// generalist with no target data (M = 0). Each TDM's loss on the held-out episodes first
    /// (seconds), then the planning episodes (minutes); an evaluation file with fewer episodes
    /// than the experiment asks for is extended.
    pub fn evaluate(&self, log: &mut dyn FnMut(&str)) -> Result<(), ExperimentError> {
        let task = self.task()?;
        // (name, checkpoint, is a TDM)
        let mut jobs: Vec<(String, Option<PathBuf>, bool)> = vec![
            ("ground-truth".into(), None, false),
            ("generalist-zero-shot".into(), Some(self.pretrained()), true),
        ];
        for &m in &self.config.episodes {
            for learner in Learner::ALL {
                if self.done_path(learner, m).exists() {
                    jobs.push((
                        format!("{}-m{m:03}", learner.name()),
                        Some(self.model_path(learner, m)),
                        learner != Learner::Mlp,
                    ));
                }
            }
        }
        let holdout = self.holdout_dir();
        if self.config.holdout_episodes > 0
            && collected(&holdout, self.config.holdout_episodes).is_some()
        {
            for (name, checkpoint, tdm) in &jobs {
                let (Some(checkpoint), true) = (checkpoint, tdm) else {
                    continue;
                };
                let file = self.loss_path(name);
                if file.exists()
                    && read_json::<TargetLoss>(&file)?.episodes == self.config.holdout_episodes
                {
                    continue;
                }
                let loss = dynamics_loss(
                    checkpoint,
                    std::slice::from_ref(&holdout),
                    HOLDOUT_WINDOWS,
                    HOLDOUT_SEED,
                )?;
                log(&format!(
                    "{name}: loss on the held-out target episodes {loss:.4}"
                ));
                write_json(
                    &file,
                    &TargetLoss {
                        loss,
                        windows: HOLDOUT_WINDOWS,
                        episodes: self.config.holdout_episodes,
                    },
                )?;
            }
        }
        for (name, checkpoint, _) in jobs {
            let file = self.eval_path(&name);
            let earlier: Option<WalkerEval> = if file.exists() {
                Some(read_json(&file)?)
            } else {
                None
            };
            let done = earlier.as_ref().map_or(0, |e| e.returns.len());
            if done >= self.config.eval_episodes {
                continue;
            }
            let model: Box<dyn DynamicsModel> = match &checkpoint {
                None => Box::new(GroundTruth::new(Arc::clone(&task), 0)),
                Some(path) => LearnedModel::load(path, task.spec())?.into_dyn(),
            };
            let config = PlannerConfig {
                seed: self.target.seed,
                ..self.base.planner()
            };
            let agent = MpcAgent::new(config, model, Arc::clone(&task));
            let mut policy = Prompted::new(
                &task,
                self.base.planner(),
                self.target.seed,
                agent,
                self.base.prompt_steps,
            );
            let mut result = run_prompted(
                &mut policy,
                &task,
                &self.target,
                &name,
                done..self.config.eval_episodes,
                self.base.episode_steps,
            )?;
            if let Some(mut earlier) = earlier {
                earlier.append(result);
                result = earlier;
            }
            log(&format!(
                "{name}: return after the prompt {:.1}, {:.0} ms/plan",
                mean_ci68(&result.returns_after_prompt).mean,
                result.mean_plan_ms
            ));
            write_json(&file, &result)?;
        }
        Ok(())
    }
}

/// A TDM's loss on the held-out target episodes (`eval/NAME.target-loss.json`).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct TargetLoss {
    pub loss: f32,
    pub windows: usize,
    pub episodes: usize,
}
