//! Training a TDM on one or many datasets through the shared loop
//! ([`crate::models::training`]): episodes as token sequences with a held-out split (the last
//! episodes of each dataset), windows drawn per step, the next-token loss on observation and
//! reward tokens (and action tokens where BC is wanted; soft targets when
//! `LossWeights::smoothing_bins` > 0), new models, exact resume and fine-tuning from another
//! checkpoint.
use super::checkpoint::{self, TdmFile};
use super::config::{CHECKPOINT_VERSION, CheckpointMeta, LossWeights, TdmConfig};
use super::model::{TargetGroup, Tdm};
use super::sequence::{TokenSeq, Window, episode_tokens, sample_window};
use crate::data::{Dataset, EnvInfo, held_out_count};
use crate::models::optim::AdamWConfig;
use crate::models::step_memory;
use crate::models::training::{self, LoopOptions, Trainable};
use crate::tokenize::{TokenKind, Tokenizer, TokenizerConfig};
use candle_core::{DType, Device, Tensor};
use candle_nn::{VarBuilder, VarMap};
use rand::SeedableRng;
use rand::rngs::StdRng;
use std::path::{Path, PathBuf};
use std::sync::atomic::AtomicBool;

pub use crate::models::training::{TrainError, TrainProgress, TrainSummary};

#[derive(Clone, Debug)]
pub struct TrainOptions {
    /// The architecture for a new model (ignored with `resume` or `init`).
    pub model: TdmConfig,
    /// The tokenizer of a new model (ignored with `resume` or `init`, which keep theirs); its
    /// vocabulary must be the model's.
    pub tokenizer: TokenizerConfig,
    pub steps: u64,
    pub batch: usize,
    pub lr: f64,
    pub warmup: u64,
    pub clip: f64,
    pub adamw: AdamWConfig,
    /// Fraction of each dataset's episodes held out (the last ones).
    pub held_out: f64,
    pub loss: LossWeights,
    pub seed: u64,
    pub eval_every: u64,
    pub save_every: u64,
}

impl TrainOptions {
    /// The settings of the shared loop.
    pub fn loop_options(&self) -> LoopOptions {
        LoopOptions {
            steps: self.steps,
            lr: self.lr,
            warmup: self.warmup,
            clip: self.clip,
            adamw: self.adamw,
            seed: self.seed,
            eval_every: self.eval_every,
            save_every: self.save_every,
        }
    }
}

struct Split {
    train: Vec<TokenSeq>,
    train_steps: Vec<usize>,
    held: Vec<TokenSeq>,
    held_steps: Vec<usize>,
    envs: Vec<EnvInfo>,
}

fn load_data(tok: &Tokenizer, datasets: &[PathBuf], held_out: f64) -> Result<Split, TrainError> {
    let mut s = Split {
        train: vec![],
        train_steps: vec![],
        held: vec![],
        held_steps: vec![],
        envs: vec![],
    };
    for dir in datasets {
        let ds = Dataset::open(dir)?;
        let env = ds.meta().env.clone();
        let step = Tokenizer::step_len(env.observation_size, env.action_size);
        let episodes = ds.episodes()?;
        let held = held_out_count(episodes.len(), held_out);
        for (i, ep) in episodes.iter().enumerate() {
            let seq = episode_tokens(tok, ep)
                .map_err(|e| TrainError::Setup(format!("{}: {e}", dir.display())))?;
            if i >= episodes.len() - held {
                s.held.push(seq);
                s.held_steps.push(step);
            } else {
                s.train.push(seq);
                s.train_steps.push(step);
            }
        }
        if !s.envs.contains(&env) {
            s.envs.push(env);
        }
    }
    if s.train.is_empty() {
        return Err(TrainError::Setup(
            "no training episodes in the datasets".into(),
        ));
    }
    Ok(s)
}

/// `n` windows of `ctx` tokens from the episodes (with their step lengths).
fn draw_windows(
    tok: &Tokenizer,
    (episodes, steps): (&[TokenSeq], &[usize]),
    n: usize,
    ctx: usize,
    weights: &LossWeights,
    rng: &mut StdRng,
) -> Vec<Window> {
    (0..n)
        .map(|_| sample_window(tok, episodes, steps, ctx, weights, rng))
        .collect()
}

/// `[targets.len(), bins]`: for each target bin a Gaussian of `sigma` bins around it, cut at
/// 3 sigma (and at the range's ends) and renormalised.
fn soft_targets(targets: &[u32], bins: usize, sigma: f32) -> Vec<f32> {
    let reach = (3.0 * sigma).ceil() as usize;
    let mut out = vec![0f32; targets.len() * bins];
    for (row, &t) in out.chunks_exact_mut(bins).zip(targets) {
        let t = (t as usize).min(bins - 1);
        let (lo, hi) = (t.saturating_sub(reach), (t + reach + 1).min(bins));
        let mut sum = 0f32;
        for (j, slot) in row.iter_mut().enumerate().take(hi).skip(lo) {
            let z = (j as f32 - t as f32) / sigma;
            *slot = (-0.5 * z * z).exp();
            sum += *slot;
        }
        row[lo..hi].iter_mut().for_each(|x| *x /= sum);
    }
    out
}

/// Inputs `[B, T]`, positions `[B, T]`, and the learned positions grouped by target kind (with
/// soft targets where `smoothing` is above 0).
fn batch_tensors(
    tok: &Tokenizer,
    windows: &[Window],
    smoothing: f32,
) -> Result<(Tensor, Tensor, Vec<TargetGroup>), candle_core::Error> {
    let (b, t) = (windows.len(), windows[0].tokens.len());
    let cat = |f: &dyn Fn(&Window) -> &Vec<u32>| {
        windows
            .iter()
            .flat_map(|w| f(w).iter().copied())
            .collect::<Vec<u32>>()
    };
    let dev = &Device::Cpu;
    let bins = tok.bins() as usize;
    let kinds = [
        (TokenKind::Observation, 0usize),
        (TokenKind::Reward, tok.reward_offset() as usize),
        (TokenKind::Action, tok.action_offset() as usize),
    ];
    let mut groups = Vec::new();
    for (kind, offset) in kinds {
        let (mut idx, mut tgt, mut weight) = (Vec::new(), Vec::new(), 0f32);
        for (wi, w) in windows.iter().enumerate() {
            for (i, (&target, &wt)) in w.targets.iter().zip(&w.weights).enumerate() {
                if wt > 0.0 && tok.kind(target) == Some(kind) {
                    idx.push((wi * t + i) as u32);
                    tgt.push(target - offset as u32);
                    weight = wt;
                }
            }
        }
        let count = idx.len();
        let soft = if smoothing > 0.0 && count > 0 {
            Some(Tensor::from_vec(
                soft_targets(&tgt, bins, smoothing),
                (count, bins),
                dev,
            )?)
        } else {
            None
        };
        groups.push(TargetGroup {
            indices: Tensor::from_vec(idx, count, dev)?,
            targets: Tensor::from_vec(tgt, count, dev)?,
            count,
            range: offset..offset + bins,
            weight,
            soft,
        });
    }
    Ok((
        Tensor::from_vec(cat(&|w| &w.tokens), (b, t), dev)?,
        Tensor::from_vec(cat(&|w| &w.positions), (b, t), dev)?,
        groups,
    ))
}

/// A TDM being trained: the model, its metadata, tokenizer and data.
struct TdmRun<'a> {
    varmap: VarMap,
    model: Tdm,
    meta: CheckpointMeta,
    tok: Tokenizer,
    split: Split,
    opts: &'a TrainOptions,
    settings: training::Settings,
}

impl Trainable for TdmRun<'_> {
    type File = TdmFile;

    fn meta(&self) -> &CheckpointMeta {
        &self.meta
    }

    fn varmap(&self) -> &VarMap {
        &self.varmap
    }

    fn samples_per_step(&self) -> u64 {
        (self.opts.batch * self.meta.model.context_tokens) as u64
    }

    fn batch_loss(&self, rng: &mut StdRng) -> Result<Tensor, TrainError> {
        let windows = draw_windows(
            &self.tok,
            (&self.split.train, &self.split.train_steps),
            self.opts.batch,
            self.meta.model.context_tokens,
            &self.opts.loss,
            rng,
        );
        let (x, p, groups) = batch_tensors(&self.tok, &windows, self.opts.loss.smoothing_bins)?;
        Ok(self.model.range_loss(&x, &p, &groups)?)
    }

    /// The loss on a fixed draw of held-out windows (none without held-out episodes).
    fn evaluate(&mut self) -> Result<(), TrainError> {
        self.meta.held_out_loss = if self.split.held.is_empty() {
            None
        } else {
            let mut rng = StdRng::seed_from_u64(self.opts.seed ^ 0x0004_E1D0_u64);
            let windows = draw_windows(
                &self.tok,
                (&self.split.held, &self.split.held_steps),
                self.opts.batch.max(8),
                self.meta.model.context_tokens,
                &self.opts.loss,
                &mut rng,
            );
            // Always the one-bin negative log-likelihood, comparable across runs.
            let (x, p, groups) = batch_tensors(&self.tok, &windows, 0.0)?;
            Some(self.model.range_loss(&x, &p, &groups)?.to_scalar::<f32>()?)
        };
        Ok(())
    }

    fn count_step(&mut self) {
        self.meta.steps_trained += 1;
        self.meta.tokens_trained += self.samples_per_step();
    }

    fn samples_trained(&self) -> u64 {
        self.meta.tokens_trained
    }

    fn held_out_loss(&self) -> Option<f32> {
        self.meta.held_out_loss
    }

    fn parameters(&self) -> usize {
        self.meta.model.parameter_count()
    }

    fn settings(&self) -> training::Settings {
        self.settings.clone()
    }
}

/// The settings of a run with `opts` on `datasets`, as its checkpoints record them (a resume
/// compares them with [`training::changed_settings`]).
pub fn settings(opts: &TrainOptions, datasets: &[PathBuf]) -> training::Settings {
    let m = &opts.model;
    let t = &opts.tokenizer;
    [
        ("data", training::datasets_setting(datasets)),
        (
            "model",
            format!(
                "layers {}, width {}, heads {}, mlp_width {}, context {}",
                m.layers, m.width, m.heads, m.mlp_width, m.context_tokens
            ),
        ),
        (
            "tokenizer",
            format!("bins {}, mu {}, M {}", t.bins, t.mu, t.m),
        ),
        ("lr", opts.lr.to_string()),
        ("seed", opts.seed.to_string()),
        ("warmup", opts.warmup.to_string()),
        ("batch", opts.batch.to_string()),
        ("clip", opts.clip.to_string()),
        ("weight_decay", opts.adamw.weight_decay.to_string()),
        ("held_out", opts.held_out.to_string()),
        ("bc_weight", opts.loss.actions.to_string()),
        ("smoothing_bins", opts.loss.smoothing_bins.to_string()),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_string(), v))
    .collect()
}

/// Refuses a step of `batch` windows of `cfg`'s context that would not fit in memory.
fn check_step(cfg: &TdmConfig, batch: usize) -> Result<(), TrainError> {
    step_memory::check_step_bytes(
        step_memory::tdm_step_bytes(cfg, batch),
        &format!("--batch {batch} x --context {}", cfg.context_tokens),
    )
}

/// A new model as `opts` describe it, with seeded initial weights.
fn new_model(opts: &TrainOptions) -> Result<checkpoint::Loaded, TrainError> {
    opts.model
        .validate()
        .map_err(|e| TrainError::Setup(e.to_string()))?;
    let vocab = Tokenizer::new(opts.tokenizer)
        .map_err(|e| TrainError::Setup(e.to_string()))?
        .vocab_size() as usize;
    if vocab != opts.model.vocab_size {
        return Err(TrainError::Setup(format!(
            "the tokenizer has {vocab} tokens, the model's vocabulary {}",
            opts.model.vocab_size
        )));
    }
    let varmap = VarMap::new();
    let model = Tdm::new(
        opts.model,
        VarBuilder::from_varmap(&varmap, DType::F32, &Device::Cpu),
    )?;
    Tdm::init_weights(&opts.model, &varmap, opts.seed)?;
    let meta = CheckpointMeta {
        version: CHECKPOINT_VERSION,
        kind: "tdm".into(),
        model: opts.model,
        tokenizer: opts.tokenizer,
        envs: Vec::new(),
        loss: opts.loss,
        steps_trained: 0,
        tokens_trained: 0,
        data: Vec::new(),
        held_out_loss: None,
    };
    Ok(checkpoint::Loaded {
        meta,
        varmap,
        model,
    })
}

/// Trains (or resumes, or fine-tunes) and writes the checkpoint to `out`.
#[allow(clippy::too_many_arguments)]
pub fn train(
    opts: &TrainOptions,
    datasets: &[PathBuf],
    out: &Path,
    resume: bool,
    init: Option<&Path>,
    stop: &AtomicBool,
    progress: impl FnMut(&TrainProgress),
) -> Result<TrainSummary, TrainError> {
    let fine_tune = |meta: &mut CheckpointMeta| {
        meta.data.clear();
        meta.steps_trained = 0;
    };
    if !resume && init.is_none() {
        // Before the new model is built: what its first step would hold.
        check_step(&opts.model, opts.batch)?;
    }
    let loaded = training::starting_model(out, resume, init, fine_tune, || new_model(opts))?;
    let mut meta = loaded.meta;
    check_step(&meta.model, opts.batch)?;
    let tok = Tokenizer::new(meta.tokenizer).map_err(|e| TrainError::Setup(e.to_string()))?;
    let split = load_data(&tok, datasets, opts.held_out)?;
    for env in &split.envs {
        let step = Tokenizer::step_len(env.observation_size, env.action_size);
        if step > meta.model.max_step_tokens {
            return Err(TrainError::Setup(format!(
                "'{}' has {step} tokens per step; the model takes {}",
                env.name, meta.model.max_step_tokens
            )));
        }
        if !meta.envs.contains(env) {
            meta.envs.push(env.clone());
        }
    }
    training::record_datasets(&mut meta.data, datasets);
    meta.loss = opts.loss;
    let mut run = TdmRun {
        varmap: loaded.varmap,
        model: loaded.model,
        meta,
        tok,
        split,
        opts,
        settings: settings(opts, datasets),
    };
    training::run(&mut run, &opts.loop_options(), out, resume, stop, progress)
}

/// The mean next-token loss of the checkpoint at `path` on the observation and reward tokens of
/// `datasets` (every episode, none held out): `windows` context-long windows drawn with `seed`,
/// so two checkpoints with the same context length are scored on the same windows. Used to
/// compare models on data none of them trained on (the few-shot experiment's held-out target
/// episodes).
pub fn dynamics_loss(
    path: &Path,
    datasets: &[PathBuf],
    windows: usize,
    seed: u64,
) -> Result<f32, TrainError> {
    let loaded = checkpoint::load(path)?;
    let tok =
        Tokenizer::new(loaded.meta.tokenizer).map_err(|e| TrainError::Setup(e.to_string()))?;
    let split = load_data(&tok, datasets, 0.0)?;
    let ctx = loaded.meta.model.context_tokens;
    let weights = LossWeights::default();
    let mut rng = StdRng::seed_from_u64(seed);
    let (mut sum, mut count) = (0f64, 0usize);
    let all = draw_windows(
        &tok,
        (&split.train, &split.train_steps),
        windows.max(1),
        ctx,
        &weights,
        &mut rng,
    );
    for chunk in all.chunks(16) {
        let (x, p, groups) = batch_tensors(&tok, chunk, 0.0)?;
        let loss = loaded
            .model
            .range_loss(&x, &p, &groups)?
            .to_scalar::<f32>()?;
        sum += f64::from(loss) * chunk.len() as f64;
        count += chunk.len();
    }
    Ok((sum / count as f64) as f32)
}

#[cfg(test)]
mod tests {
    use super::soft_targets;

    #[test]
    fn soft_targets_are_gaussians_around_the_target_cut_at_the_range() {
        let bins = 32;
        let rows = soft_targets(&[10, 0, 31], bins, 1.0);
        for row in rows.chunks(bins) {
            assert!((row.iter().sum::<f32>() - 1.0).abs() < 1e-6);
        }
        let mid = &rows[..bins];
        // Peak at the target, symmetric, e^(-1/2) of the peak one bin away, nothing past 3 sigma.
        assert!(mid[10] > mid[9] && (mid[9] - mid[11]).abs() < 1e-7);
        assert!((mid[9] / mid[10] - (-0.5f32).exp()).abs() < 1e-6);
        assert_eq!((mid[6], mid[14]), (0.0, 0.0));
        assert!(mid[7] > 0.0 && mid[13] > 0.0);
        // At the range's start the Gaussian is cut, not wrapped: the mass stays on 0..=3.
        let first = &rows[bins..2 * bins];
        assert!(first[4..].iter().all(|&x| x == 0.0) && first[0] > first[1]);
        let last = &rows[2 * bins..];
        assert!(last[..28].iter().all(|&x| x == 0.0) && last[31] > last[30]);
    }
}
