//! The settings of a zero-shot experiment ([`ZeroShotConfig`], pinned in `experiment.json`):
//! their checks, the training and held-out walkers they name, the TDM's training options and
//! the planner every agent uses.
use crate::envs::walkers::Family;
use crate::envs::walkers::params::GENERATED_DOF_RANGE;
use crate::experiment::ExperimentError;
use crate::experiment::walkers::WalkerRef;
use crate::models::tdm::{LossWeights, TdmConfig, TrainOptions};
use crate::plan::{Objective, PlannerConfig};
use crate::tokenize::{Tokenizer, TokenizerConfig};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use serde::{Deserialize, Serialize};
use std::path::Path;

/// Held-out walkers use seeds from here on, so they never meet a training walker's seed.
pub const HELD_OUT_SEED_OFFSET: u64 = 1_000_000;

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

impl ZeroShotConfig {
    pub(in crate::experiment) fn check(&self, path: &Path) -> Result<Family, ExperimentError> {
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

    pub(in crate::experiment) fn walker(&self, seed: u64) -> WalkerRef {
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
    pub(in crate::experiment) fn tdm_options(
        &self,
        steps: u64,
        lr: f64,
    ) -> Result<TrainOptions, ExperimentError> {
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

    pub(in crate::experiment) fn planner(&self) -> PlannerConfig {
        PlannerConfig {
            candidates: self.samples,
            horizon_steps: self.horizon,
            objective: Objective::Auto,
            ..PlannerConfig::default()
        }
    }
}
