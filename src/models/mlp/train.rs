//! Training an MLP baseline through the shared loop ([`crate::models::training`], the TDM's
//! optimizer and schedule): transitions from datasets with a held-out split (the last episodes
//! of each dataset), mean squared error on standardised targets, a fixed held-out batch, new
//! models with their normalisation, exact resume and fine-tuning.
use super::checkpoint::{LoadedMlp, MlpFile};
use super::config::{MLP_CHECKPOINT_VERSION, MlpConfig, MlpMeta, Normalization};
use super::model::{Encoded, Mlp, encode_inputs, raw_target};
use crate::data::{Dataset, EnvInfo, held_out_count};
use crate::models::optim::AdamWConfig;
use crate::models::step_memory;
use crate::models::training::{
    self, LoopOptions, TrainError, TrainProgress, TrainSummary, Trainable,
};
use crate::tokenize::{Tokenizer, TokenizerConfig};
use candle_core::{DType, Device, Tensor};
use candle_nn::{VarBuilder, VarMap};
use rand::Rng;
use rand::rngs::StdRng;
use std::path::{Path, PathBuf};
use std::sync::atomic::AtomicBool;

/// Options of one MLP training run (the architecture is ignored with `resume` or `init`).
#[derive(Clone, Debug)]
pub struct MlpTrainOptions {
    /// Preset name for a new model (`tiny`, `small`, `base`, `large`).
    pub preset: String,
    pub variant: super::MlpVariant,
    pub steps: u64,
    /// Transitions per batch.
    pub batch: usize,
    pub lr: f64,
    pub warmup: u64,
    pub clip: f64,
    pub adamw: AdamWConfig,
    pub held_out: f64,
    pub seed: u64,
    pub eval_every: u64,
    pub save_every: u64,
}

impl MlpTrainOptions {
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

/// Transitions (o_t, a_t, r_t, o_{t+1}) of one split, flat.
#[derive(Default)]
struct Transitions {
    n: usize,
    m: usize,
    obs: Vec<f64>,
    act: Vec<f64>,
    rew: Vec<f64>,
    next: Vec<f64>,
}

impl Transitions {
    fn len(&self) -> usize {
        self.rew.len()
    }

    fn push_episode(&mut self, ep: &crate::data::Episode) {
        for t in 0..ep.len() {
            self.obs.extend(ep.observation(t).iter().map(|&x| x as f64));
            self.act.extend(ep.action(t).iter().map(|&x| x as f64));
            self.rew.push(ep.rewards[t] as f64);
            self.next
                .extend(ep.observation(t + 1).iter().map(|&x| x as f64));
        }
    }

    fn o(&self, i: usize) -> &[f64] {
        &self.obs[i * self.n..(i + 1) * self.n]
    }

    fn a(&self, i: usize) -> &[f64] {
        &self.act[i * self.m..(i + 1) * self.m]
    }

    fn o_next(&self, i: usize) -> &[f64] {
        &self.next[i * self.n..(i + 1) * self.n]
    }
}

fn load_split(
    datasets: &[PathBuf],
    held_out: f64,
) -> Result<(Transitions, Transitions, EnvInfo), TrainError> {
    let mut env: Option<EnvInfo> = None;
    let (mut train, mut held) = (Transitions::default(), Transitions::default());
    for dir in datasets {
        let ds = Dataset::open(dir)?;
        let e = ds.meta().env.clone();
        match &env {
            None => {
                train.n = e.observation_size;
                train.m = e.action_size;
                held.n = e.observation_size;
                held.m = e.action_size;
                env = Some(e);
            }
            Some(first)
                if first.observation_size != e.observation_size
                    || first.action_size != e.action_size =>
            {
                return Err(TrainError::Setup(format!(
                    "{}: '{}' has {} obs / {} act, but '{}' has {} / {}: an MLP baseline models \
                     one environment",
                    dir.display(),
                    e.name,
                    e.observation_size,
                    e.action_size,
                    first.name,
                    first.observation_size,
                    first.action_size
                )));
            }
            Some(_) => {}
        }
        let episodes = ds.episodes()?;
        let keep = episodes.len() - held_out_count(episodes.len(), held_out);
        for (i, ep) in episodes.iter().enumerate() {
            if i < keep {
                train.push_episode(ep);
            } else {
                held.push_episode(ep);
            }
        }
    }
    let env = env.ok_or_else(|| TrainError::Setup("no datasets given".into()))?;
    if train.len() == 0 {
        return Err(TrainError::Setup(
            "no training transitions in the datasets".into(),
        ));
    }
    Ok((train, held, env))
}

fn mean_std(
    rows: usize,
    width: usize,
    mut value: impl FnMut(usize, usize) -> f64,
) -> (Vec<f32>, Vec<f32>) {
    let mut mean = vec![0.0f64; width];
    let mut sq = vec![0.0f64; width];
    for r in 0..rows {
        for j in 0..width {
            let v = value(r, j);
            mean[j] += v;
            sq[j] += v * v;
        }
    }
    let count = rows.max(1) as f64;
    let mut std = vec![0f32; width];
    for j in 0..width {
        mean[j] /= count;
        let var = (sq[j] / count - mean[j] * mean[j]).max(0.0);
        std[j] = var.sqrt().max(1e-4) as f32;
    }
    (mean.into_iter().map(|x| x as f32).collect(), std)
}

fn normalization(cfg: &MlpConfig, data: &Transitions) -> Normalization {
    let n = cfg.observation_size;
    let (input_mean, input_std) = mean_std(data.len(), cfg.inputs(), |r, j| {
        if j < n {
            data.o(r)[j]
        } else {
            data.a(r)[j - n]
        }
    });
    let mut row = Vec::with_capacity(cfg.outputs());
    let (target_mean, target_std) = mean_std(data.len(), cfg.outputs(), |r, j| {
        row.clear();
        raw_target(cfg, data.o(r), data.rew[r], data.o_next(r), &mut row);
        row[j] as f64
    });
    Normalization {
        input_mean,
        input_std,
        target_mean,
        target_std,
    }
}

/// Inputs and standardised targets `[B, n + 1]` of the transitions `idx`.
fn batch(
    meta: &MlpMeta,
    tok: &Tokenizer,
    data: &Transitions,
    idx: &[usize],
) -> Result<(Encoded, Tensor), TrainError> {
    let cfg = &meta.model;
    let norm = &meta.normalization;
    let input = encode_inputs(cfg, norm, tok, idx.iter().map(|&i| (data.o(i), data.a(i))));
    let mut targets = Vec::with_capacity(idx.len() * cfg.outputs());
    let mut row = Vec::with_capacity(cfg.outputs());
    for &i in idx {
        row.clear();
        raw_target(cfg, data.o(i), data.rew[i], data.o_next(i), &mut row);
        for (j, &v) in row.iter().enumerate() {
            targets.push((v - norm.target_mean[j]) / norm.target_std[j]);
        }
    }
    let t = Tensor::from_vec(targets, (idx.len(), cfg.outputs()), &Device::Cpu)?;
    Ok((input, t))
}

fn mse(net: &Mlp, input: &Encoded, targets: &Tensor) -> candle_core::Result<Tensor> {
    (net.forward(input)? - targets)?.sqr()?.mean_all()
}

/// An MLP being trained: the network, its metadata, tokenizer and transitions.
struct MlpRun {
    varmap: VarMap,
    net: Mlp,
    meta: MlpMeta,
    tok: Tokenizer,
    train: Transitions,
    /// Inputs and targets of a fixed, evenly strided subset of the held-out transitions.
    held: Option<(Encoded, Tensor)>,
    batch: usize,
    settings: training::Settings,
}

impl Trainable for MlpRun {
    type File = MlpFile;

    fn meta(&self) -> &MlpMeta {
        &self.meta
    }

    fn varmap(&self) -> &VarMap {
        &self.varmap
    }

    fn samples_per_step(&self) -> u64 {
        self.batch as u64
    }

    fn batch_loss(&self, rng: &mut StdRng) -> Result<Tensor, TrainError> {
        let idx: Vec<usize> = (0..self.batch)
            .map(|_| rng.random_range(0..self.train.len()))
            .collect();
        let (input, targets) = batch(&self.meta, &self.tok, &self.train, &idx)?;
        Ok(mse(&self.net, &input, &targets)?)
    }

    /// Without held-out transitions the recorded loss stays as it was.
    fn evaluate(&mut self) -> Result<(), TrainError> {
        if let Some((input, targets)) = &self.held {
            self.meta.held_out_loss = Some(mse(&self.net, input, targets)?.to_scalar::<f32>()?);
        }
        Ok(())
    }

    fn count_step(&mut self) {
        self.meta.steps_trained += 1;
        self.meta.samples_trained += self.batch as u64;
    }

    fn samples_trained(&self) -> u64 {
        self.meta.samples_trained
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
pub fn mlp_settings(opts: &MlpTrainOptions, datasets: &[PathBuf]) -> training::Settings {
    [
        ("data", training::datasets_setting(datasets)),
        ("model", format!("{} {}", opts.preset, opts.variant.name())),
        ("lr", opts.lr.to_string()),
        ("seed", opts.seed.to_string()),
        ("warmup", opts.warmup.to_string()),
        ("batch", opts.batch.to_string()),
        ("clip", opts.clip.to_string()),
        ("weight_decay", opts.adamw.weight_decay.to_string()),
        ("held_out", opts.held_out.to_string()),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_string(), v))
    .collect()
}

/// A new model as `opts` describe it for `env`, normalised by the training transitions.
fn new_model(
    opts: &MlpTrainOptions,
    env: &EnvInfo,
    train: &Transitions,
) -> Result<LoadedMlp, TrainError> {
    let tokenizer = TokenizerConfig::default();
    let vocab = Tokenizer::new(tokenizer)
        .map_err(|e| TrainError::Setup(e.to_string()))?
        .vocab_size() as usize;
    let Some(cfg) = MlpConfig::preset(
        &opts.preset,
        opts.variant,
        env.observation_size,
        env.action_size,
        vocab,
    ) else {
        return Err(TrainError::Setup(format!(
            "preset '{}': expected tiny, small, base or large",
            opts.preset
        )));
    };
    cfg.validate()
        .map_err(|e| TrainError::Setup(e.to_string()))?;
    let varmap = VarMap::new();
    let model = Mlp::new(
        cfg,
        VarBuilder::from_varmap(&varmap, DType::F32, &Device::Cpu),
    )?;
    Mlp::init_weights(&varmap, opts.seed)?;
    let meta = MlpMeta {
        version: MLP_CHECKPOINT_VERSION,
        normalization: normalization(&cfg, train),
        model: cfg,
        tokenizer,
        env: env.clone(),
        steps_trained: 0,
        samples_trained: 0,
        data: Vec::new(),
        held_out_loss: None,
    };
    Ok(LoadedMlp {
        meta,
        varmap,
        model,
    })
}

/// Trains (or resumes, or fine-tunes) an MLP baseline and writes the checkpoint to `out`.
pub fn train_mlp(
    opts: &MlpTrainOptions,
    datasets: &[PathBuf],
    out: &Path,
    resume: bool,
    init: Option<&Path>,
    stop: &AtomicBool,
    progress: impl FnMut(&TrainProgress),
) -> Result<TrainSummary, TrainError> {
    let (train, held, env) = load_split(datasets, opts.held_out)?;
    let fine_tune = |meta: &mut MlpMeta| {
        meta.data.clear();
        meta.steps_trained = 0;
    };
    let loaded = training::starting_model(out, resume, init, fine_tune, || {
        new_model(opts, &env, &train)
    })?;
    let mut meta = loaded.meta;
    step_memory::check_step_bytes(
        step_memory::mlp_step_bytes(&meta.model, opts.batch),
        &format!("--batch {}", opts.batch),
    )?;
    if meta.model.observation_size != env.observation_size
        || meta.model.action_size != env.action_size
    {
        return Err(TrainError::Setup(format!(
            "the model takes {} obs / {} act; the data ('{}') has {} / {}",
            meta.model.observation_size,
            meta.model.action_size,
            env.name,
            env.observation_size,
            env.action_size
        )));
    }
    training::record_datasets(&mut meta.data, datasets);
    let tok = Tokenizer::new(meta.tokenizer).map_err(|e| TrainError::Setup(e.to_string()))?;
    let held_idx: Vec<usize> = {
        let count = held.len().min(4096);
        (0..count).map(|i| i * held.len() / count.max(1)).collect()
    };
    let held = if held_idx.is_empty() {
        None
    } else {
        Some(batch(&meta, &tok, &held, &held_idx)?)
    };
    let mut run = MlpRun {
        varmap: loaded.varmap,
        net: loaded.model,
        meta,
        tok,
        train,
        held,
        batch: opts.batch,
        settings: mlp_settings(opts, datasets),
    };
    training::run(&mut run, &opts.loop_options(), out, resume, stop, progress)
}
