//! Few-shot adaptation to a new walker (the shape of the paper's Fig. 6b), following a zero-shot
//! experiment: its generalist TDM was pre-trained on walkers that do not include the target (one
//! of its held-out walkers). For several amounts M of expert episodes on the target, three
//! models learn from the same data: the generalist fine-tuned (`--init`), a TDM of the same size
//! from scratch, and the best MLP baseline (tokenized inputs + delta outputs). Each then plans on
//! the target as in the zero-shot evaluation (same K, N, prompt, initial states).
//!
//! Stages (each resumable from its files in the folder): `collect` (one dataset per M, the
//! first M ground-truth MPC episodes), `train` (the 3 x |M| models; a finished one is marked
//! `.done.json`), `eval` (one JSON per model, plus the ground-truth planner and the generalist
//! with no target data, M = 0), `report` (`results.json`, `.csv`, `.png`).
use super::zero_shot::{
    Prompted, WalkerEval, WalkerRef, ZeroShot, ZeroShotConfig, collect_expert, collected, expert,
    run_prompted,
};
use super::{ExperimentError, read_json, write_json, write_results};
use crate::chart::{Chart, PALETTE, Series};
use crate::envs::{Task, make_task};
use crate::models::mlp::{MlpTrainOptions, MlpVariant, train_mlp};
use crate::models::tdm::{TrainProgress, train, train_state_path};
use crate::models::{DynamicsModel, GroundTruth, LearnedModel};
use crate::plan::{MeanCi, MpcAgent, PlannerConfig, mean_ci68};
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
    pub finetune_steps: u64,
    pub scratch_steps: u64,
    pub mlp_steps: u64,
    pub eval_episodes: usize,
}

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
        config.episodes.sort_unstable();
        config.episodes.dedup();
        let path = dir.join("experiment.json");
        let bad = |message: String| ExperimentError::Config {
            path: path.clone(),
            message,
        };
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
            if existing != config {
                return Err(bad(format!(
                    "this experiment was set up differently ({existing:?}); use another --dir or the same settings"
                )));
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

    /// Stage 1: the first M expert episodes on the target, one dataset per M.
    pub fn collect(&self, log: &mut dyn FnMut(&str)) -> Result<(), ExperimentError> {
        let task = self.task()?;
        for &m in &self.config.episodes {
            let dir = self.data_dir(m);
            if collected(&dir, m).is_some() {
                continue;
            }
            let mut expert = expert(&task, self.base.planner(), self.target.seed);
            let summary = collect_expert(&task, &mut expert, &dir, m, self.base.episode_steps)?;
            log(&format!(
                "M = {m}: {} episodes on {}, return {:.1}",
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
        for &m in &c.episodes {
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
                            c.finetune_steps
                        } else {
                            c.scratch_steps
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
    /// generalist with no target data (M = 0).
    pub fn evaluate(&self, log: &mut dyn FnMut(&str)) -> Result<(), ExperimentError> {
        let task = self.task()?;
        let mut jobs: Vec<(String, Option<PathBuf>)> = vec![
            ("ground-truth".into(), None),
            ("generalist-zero-shot".into(), Some(self.pretrained())),
        ];
        for &m in &self.config.episodes {
            for learner in Learner::ALL {
                if self.done_path(learner, m).exists() {
                    jobs.push((
                        format!("{}-m{m:03}", learner.name()),
                        Some(self.model_path(learner, m)),
                    ));
                }
            }
        }
        for (name, checkpoint) in jobs {
            let file = self.eval_path(&name);
            if file.exists() {
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
            let mut policy = Prompted {
                expert: expert(&task, self.base.planner(), self.target.seed),
                agent: MpcAgent::new(config, model, Arc::clone(&task)),
                prompt_steps: self.base.prompt_steps,
                plan_secs: Vec::new(),
            };
            let result = run_prompted(
                &mut policy,
                &task,
                &self.target,
                &name,
                self.config.eval_episodes,
                self.base.episode_steps,
            )?;
            log(&format!(
                "{name}: return after the prompt {:.1}, {:.0} ms/plan",
                mean_ci68(&result.returns_after_prompt).mean,
                result.mean_plan_ms
            ));
            write_json(&file, &result)?;
        }
        Ok(())
    }

    /// Stage 4: returns after the prompt against M per learner, with the references.
    pub fn report(&self) -> Result<FewShotReport, ExperimentError> {
        let read = |name: &str| -> Result<Option<MeanCi>, ExperimentError> {
            let path = self.eval_path(name);
            Ok(if path.exists() {
                let e: WalkerEval = read_json(&path)?;
                Some(mean_ci68(&e.returns_after_prompt))
            } else {
                None
            })
        };
        let mut rows = Vec::new();
        for &m in &self.config.episodes {
            for learner in Learner::ALL {
                if let Some(r) = read(&format!("{}-m{m:03}", learner.name()))? {
                    rows.push(FewShotRow {
                        learner: learner.name().into(),
                        episodes: m,
                        return_ci68: r,
                    });
                }
            }
        }
        let report = FewShotReport {
            target: self.target.clone(),
            ground_truth: read("ground-truth")?,
            zero_shot: read("generalist-zero-shot")?,
            rows,
        };
        let mut csv = String::from("learner,episodes,return,low,high\n");
        for (name, r) in [
            ("ground-truth", report.ground_truth),
            ("generalist-zero-shot", report.zero_shot),
        ] {
            if let Some(r) = r {
                csv.push_str(&format!(
                    "{name},0,{:.3},{:.3},{:.3}\n",
                    r.mean, r.low, r.high
                ));
            }
        }
        for row in &report.rows {
            let r = row.return_ci68;
            csv.push_str(&format!(
                "{},{},{:.3},{:.3},{:.3}\n",
                row.learner, row.episodes, r.mean, r.low, r.high
            ));
        }
        let chart = report.chart(&self.config.episodes);
        write_results(&self.dir, &report, &csv, &chart, (1000, 560))?;
        Ok(report)
    }
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct FewShotRow {
    pub learner: String,
    pub episodes: usize,
    /// Return after the prompt, mean and 68% CI over the evaluation episodes.
    pub return_ci68: MeanCi,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct FewShotReport {
    pub target: WalkerRef,
    pub ground_truth: Option<MeanCi>,
    /// The generalist with no target data.
    pub zero_shot: Option<MeanCi>,
    pub rows: Vec<FewShotRow>,
}

impl FewShotReport {
    /// Return against M per learner; the references as flat lines.
    pub fn chart(&self, episodes: &[usize]) -> Chart {
        let (lo, hi) = (
            *episodes.iter().min().unwrap_or(&1) as f64,
            *episodes.iter().max().unwrap_or(&1) as f64,
        );
        let mut series: Vec<Series> = Learner::ALL
            .iter()
            .enumerate()
            .map(|(i, l)| {
                let rows: Vec<&FewShotRow> =
                    self.rows.iter().filter(|r| r.learner == l.name()).collect();
                Series {
                    errors: Some(
                        rows.iter()
                            .map(|r| (r.return_ci68.low, r.return_ci68.high))
                            .collect(),
                    ),
                    ..Series::line(
                        l.name(),
                        PALETTE[i],
                        rows.iter()
                            .map(|r| (r.episodes as f64, r.return_ci68.mean))
                            .collect(),
                    )
                }
            })
            .collect();
        for (i, (name, r)) in [
            ("ground-truth planner", self.ground_truth),
            ("generalist, no target data", self.zero_shot),
        ]
        .into_iter()
        .enumerate()
        {
            if let Some(r) = r {
                series.push(Series::line(
                    name,
                    PALETTE[3 + i],
                    vec![(lo, r.mean), (hi, r.mean)],
                ));
            }
        }
        Chart {
            title: format!("few-shot on {} ({} DoF)", self.target.name, self.target.dof),
            x_label: "target episodes M".into(),
            y_label: "return after the prompt".into(),
            series,
            x_categories: None,
            log_y: false,
        }
    }
}
