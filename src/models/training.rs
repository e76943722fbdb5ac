//! The one training loop every learned model runs ([`run`]): AdamW with warm-up + cosine
//! schedule and global-norm gradient clipping, batches seeded by (seed, step) so a resumed run
//! draws exactly the batches an uninterrupted one would, held-out evaluation and checkpoints
//! at their cadence, progress reported through a callback, a stop flag (Ctrl-C) that ends the
//! run after the current step with a checkpoint, and resume from a checkpoint plus its
//! optimizer sidecar. Options that are not finite (or not positive where they must be) are
//! refused before the first step; a non-finite loss stops the run with an error and leaves the
//! last good checkpoint on disk. Every checkpoint records the run's [`Settings`], so a resume
//! can be compared with the run it continues ([`changed_settings`]).
//!
//! A model family takes part through [`Trainable`]: it draws the batch of a step and returns
//! its loss, computes and records its held-out loss, and counts what it learned from; its data
//! and loss stay in its own module (`tdm::train`, `mlp::train`).
use crate::models::checkpoint_file::{self, CheckpointError, Family, Loaded, train_state_path};
use crate::models::optim::{AdamW, AdamWConfig, learning_rate};
use crate::models::train_state::{self, load as load_train_state};
use candle_core::{Tensor, Var};
use candle_nn::VarMap;
use rand::SeedableRng;
use rand::rngs::StdRng;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Instant;

#[derive(Debug, thiserror::Error)]
pub enum TrainError {
    #[error(transparent)]
    Data(#[from] crate::data::DataError),
    #[error(transparent)]
    Checkpoint(#[from] CheckpointError),
    #[error("{0}")]
    Setup(String),
    /// An option that cannot train (not finite, or not positive where it must be).
    #[error("{0}")]
    Options(String),
    /// The loss (or the gradient norm, or the held-out loss) became NaN or infinite: nothing of
    /// this step was saved.
    #[error("step {step}: the {what} is {value}; training stopped ({kept})")]
    NonFinite {
        step: u64,
        what: &'static str,
        value: f64,
        kept: String,
    },
    #[error("tensor error: {0}")]
    Tensor(#[from] candle_core::Error),
}

/// Reported after every step.
#[derive(Clone, Debug)]
pub struct TrainProgress {
    pub step: u64,
    /// The step this run started from (above 0 when resumed).
    pub first_step: u64,
    pub total_steps: u64,
    pub loss: f32,
    pub held_out_loss: Option<f32>,
    pub lr: f64,
    /// Samples (tokens for a TDM, transitions for an MLP) per second in this run.
    pub tokens_per_sec: f64,
    pub elapsed_secs: f64,
}

#[derive(Clone, Debug)]
pub struct TrainSummary {
    pub steps: u64,
    /// Samples (tokens, transitions) the model has learned from, over all its runs.
    pub tokens: u64,
    pub final_loss: f32,
    pub held_out_loss: Option<f32>,
    pub elapsed_secs: f64,
    pub tokens_per_sec: f64,
    pub stopped_early: bool,
    pub parameters: usize,
}

/// The settings of the loop every family shares.
#[derive(Clone, Copy, Debug)]
pub struct LoopOptions {
    /// The step to stop at (counted over all runs of a resumed model).
    pub steps: u64,
    /// Peak learning rate.
    pub lr: f64,
    pub warmup: u64,
    /// Global gradient norm to clip to (0: off).
    pub clip: f64,
    pub adamw: AdamWConfig,
    pub seed: u64,
    /// Held-out loss every this many steps and at the last (0: never).
    pub eval_every: u64,
    /// A checkpoint every this many steps (0: only at the end).
    pub save_every: u64,
}

impl LoopOptions {
    /// Refuses options no training can run with, naming the option.
    pub fn validate(&self) -> Result<(), TrainError> {
        let positive = [
            ("lr", self.lr),
            ("beta1", self.adamw.beta1),
            ("beta2", self.adamw.beta2),
            ("eps", self.adamw.eps),
        ];
        for (name, value) in positive {
            if !(value.is_finite() && value > 0.0) {
                return Err(TrainError::Options(format!(
                    "{name} {value}: must be a finite number > 0"
                )));
            }
        }
        for (name, value) in [
            ("clip", self.clip),
            ("weight_decay", self.adamw.weight_decay),
        ] {
            if !(value.is_finite() && value >= 0.0) {
                return Err(TrainError::Options(format!(
                    "{name} {value}: must be a finite number >= 0"
                )));
            }
        }
        if self.adamw.beta1 >= 1.0 || self.adamw.beta2 >= 1.0 {
            return Err(TrainError::Options(format!(
                "beta1 {} / beta2 {}: must be below 1",
                self.adamw.beta1, self.adamw.beta2
            )));
        }
        Ok(())
    }
}

/// The settings a run was started with, by name (values as text), recorded in every
/// checkpoint it writes (metadata key `training`).
pub type Settings = BTreeMap<String, String>;

/// The metadata key of the recorded [`Settings`].
const SETTINGS_KEY: &str = "training";

/// The datasets of a run as one setting.
pub fn datasets_setting(datasets: &[PathBuf]) -> String {
    datasets
        .iter()
        .map(|d| d.display().to_string())
        .collect::<Vec<_>>()
        .join(",")
}

/// How `now` differs from the settings the checkpoint at `path` records, one line per
/// setting (`name: checkpoint A, now B`); None when it records none (written before settings
/// were recorded; the next save records them).
pub fn changed_settings(
    path: &Path,
    now: &Settings,
) -> Result<Option<Vec<String>>, CheckpointError> {
    let metadata = checkpoint_file::read_metadata(path)?;
    let Some(json) = metadata.get(SETTINGS_KEY) else {
        return Ok(None);
    };
    let recorded: Settings = serde_json::from_str(json).map_err(|e| {
        checkpoint_file::bad(
            path,
            format!("recorded training settings are not valid ({e})"),
        )
    })?;
    let names: std::collections::BTreeSet<&String> = recorded.keys().chain(now.keys()).collect();
    let show = |v: Option<&String>| v.map_or("(not recorded)".to_string(), Clone::clone);
    Ok(Some(
        names
            .into_iter()
            .filter(|name| recorded.get(*name) != now.get(*name))
            .map(|name| {
                format!(
                    "{name}: checkpoint {}, now {}",
                    show(recorded.get(name)),
                    show(now.get(name))
                )
            })
            .collect(),
    ))
}

/// What a model family supplies to [`run`].
pub trait Trainable {
    /// The family's checkpoint format.
    type File: Family;
    /// The metadata written with every checkpoint.
    fn meta(&self) -> &<Self::File as Family>::Meta;
    /// The variables being trained.
    fn varmap(&self) -> &VarMap;
    /// Samples (tokens, transitions) one step learns from.
    fn samples_per_step(&self) -> u64;
    /// The training loss on the batch drawn from `rng` (seeded by the step).
    fn batch_loss(&self, rng: &mut StdRng) -> Result<Tensor, TrainError>;
    /// Computes the held-out loss and records it in the metadata.
    fn evaluate(&mut self) -> Result<(), TrainError>;
    /// Counts one finished step (and its samples) in the metadata.
    fn count_step(&mut self);
    /// Samples learned from over all runs, as recorded.
    fn samples_trained(&self) -> u64;
    /// The held-out loss as recorded.
    fn held_out_loss(&self) -> Option<f32>;
    fn parameters(&self) -> usize;
    /// The settings of this run, recorded with every checkpoint.
    fn settings(&self) -> Settings;
}

/// The generator for the batch of `step`: it depends only on (seed, step).
pub fn batch_rng(seed: u64, step: u64) -> StdRng {
    StdRng::seed_from_u64(seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) ^ step)
}

/// The model a run starts from: with `resume` the checkpoint at `out` (whose sidecar [`run`]
/// reads), with `init` another checkpoint's weights, its metadata prepared by `fine_tune`,
/// otherwise `new()`.
pub fn starting_model<F: Family>(
    out: &Path,
    resume: bool,
    init: Option<&Path>,
    fine_tune: impl FnOnce(&mut F::Meta),
    new: impl FnOnce() -> Result<Loaded<F>, TrainError>,
) -> Result<Loaded<F>, TrainError> {
    if resume {
        Ok(checkpoint_file::load::<F>(out)?)
    } else if let Some(init) = init {
        let mut loaded = checkpoint_file::load::<F>(init)?;
        fine_tune(&mut loaded.meta);
        Ok(loaded)
    } else {
        new()
    }
}

/// Adds the datasets not yet in a checkpoint's list of training data.
pub fn record_datasets(data: &mut Vec<String>, datasets: &[PathBuf]) {
    for d in datasets {
        let d = d.display().to_string();
        if !data.contains(&d) {
            data.push(d);
        }
    }
}

/// The variables of `varmap` sorted by name.
fn sorted_vars(varmap: &VarMap) -> Result<Vec<(String, Var)>, TrainError> {
    let mut vars: Vec<(String, Var)> = varmap
        .data()
        .lock()
        .map_err(|_| TrainError::Setup("variable map is poisoned".into()))?
        .iter()
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect();
    vars.sort_by(|a, b| a.0.cmp(&b.0));
    Ok(vars)
}

/// The error of a run stopped at `step` by a non-finite `what`, saying what `out` keeps.
fn non_finite(
    out: &Path,
    step: u64,
    what: &'static str,
    value: f64,
    saved: Option<u64>,
) -> TrainError {
    TrainError::NonFinite {
        step,
        what,
        value,
        kept: match saved {
            Some(s) => format!("{} keeps the checkpoint of step {s}", out.display()),
            None => format!("nothing was written to {}", out.display()),
        },
    }
}

/// Trains `model` up to `opts.steps`, writing checkpoints to `out`; with `resume`, continues
/// from the step and optimizer moments in `out`'s sidecar (the model itself comes loaded).
pub fn run<T: Trainable>(
    model: &mut T,
    opts: &LoopOptions,
    out: &Path,
    resume: bool,
    stop: &AtomicBool,
    mut progress: impl FnMut(&TrainProgress),
) -> Result<TrainSummary, TrainError> {
    opts.validate()?;
    train_state::remove_orphans(out);
    let mut optim = AdamW::new(sorted_vars(model.varmap())?, opts.adamw)?;
    let mut step = 0;
    if resume {
        let (state, taken) = load_train_state(out)?;
        optim
            .load_state(&state, taken)
            .map_err(|source| CheckpointError::OptimizerState {
                path: train_state_path(out),
                source,
            })?;
        step = taken;
    }
    let first_step = step;
    let settings = serde_json::to_string(&model.settings())
        .map_err(|e| TrainError::Setup(format!("training settings: {e}")))?;
    let save = |model: &T, optim: &AdamW| {
        checkpoint_file::save_with::<T::File>(
            out,
            model.varmap(),
            model.meta(),
            Some((&optim.state(), optim.steps_taken())),
            &[(SETTINGS_KEY, settings.clone())],
        )
    };
    let mut saved = resume.then_some(first_step);
    let start = Instant::now();
    let mut samples_this_run = 0u64;
    let mut last_loss = f32::NAN;
    let mut stopped = false;
    while step < opts.steps {
        if stop.load(Ordering::Relaxed) {
            stopped = true;
            break;
        }
        let loss = model.batch_loss(&mut batch_rng(opts.seed, step))?;
        let value = loss.to_scalar::<f32>()?;
        if !value.is_finite() {
            return Err(non_finite(
                out,
                step + 1,
                "training loss",
                value.into(),
                saved,
            ));
        }
        let grads = loss.backward()?;
        let lr = learning_rate(step, opts.lr, opts.warmup, opts.steps);
        let norm = optim.step(&grads, lr, opts.clip)?;
        if !norm.is_finite() {
            return Err(non_finite(out, step + 1, "gradient norm", norm, saved));
        }
        last_loss = value;
        step += 1;
        samples_this_run += model.samples_per_step();
        model.count_step();
        if opts.eval_every > 0 && (step % opts.eval_every == 0 || step == opts.steps) {
            model.evaluate()?;
            if let Some(held) = model.held_out_loss().filter(|h| !h.is_finite()) {
                return Err(non_finite(out, step, "held-out loss", held.into(), saved));
            }
        }
        let elapsed = start.elapsed().as_secs_f64();
        progress(&TrainProgress {
            step,
            first_step,
            total_steps: opts.steps,
            loss: last_loss,
            held_out_loss: model.held_out_loss(),
            lr,
            tokens_per_sec: samples_this_run as f64 / elapsed.max(1e-9),
            elapsed_secs: elapsed,
        });
        if opts.save_every > 0 && step % opts.save_every == 0 {
            save(model, &optim)?;
            saved = Some(step);
        }
    }
    save(model, &optim)?;
    let elapsed = start.elapsed().as_secs_f64();
    Ok(TrainSummary {
        steps: step,
        tokens: model.samples_trained(),
        final_loss: last_loss,
        held_out_loss: model.held_out_loss(),
        elapsed_secs: elapsed,
        tokens_per_sec: samples_this_run as f64 / elapsed.max(1e-9),
        stopped_early: stopped,
        parameters: model.parameters(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::models::checkpoint_file::load;
    use candle_core::{DType, Device};
    use candle_nn::VarBuilder;
    use std::cell::Cell;

    /// One variable `w` of two values; metadata is plain JSON.
    struct Toy;
    impl Family for Toy {
        const KEY: &'static str = "tdm";
        const VERSION: u32 = 1;
        type Meta = serde_json::Value;
        type Model = ();
        fn check(_: &serde_json::Value) -> Result<(), impl std::fmt::Display> {
            Ok::<(), String>(())
        }
        fn tensor_shapes(_: &serde_json::Value) -> Vec<(String, Vec<usize>)> {
            vec![("w".into(), vec![2])]
        }
        fn build(_: &serde_json::Value, vb: VarBuilder) -> candle_core::Result<()> {
            vb.get_with_hints(2, "w", candle_nn::Init::Const(1.0))
                .map(|_| ())
        }
    }

    /// A model whose loss turns NaN from step `nan_from` on (with `infinite_gradient`: whose
    /// loss stays 0 while its gradient is infinite).
    struct NanAt {
        varmap: VarMap,
        meta: serde_json::Value,
        calls: Cell<u64>,
        nan_from: u64,
        infinite_gradient: bool,
    }

    impl Trainable for NanAt {
        type File = Toy;
        fn meta(&self) -> &serde_json::Value {
            &self.meta
        }
        fn varmap(&self) -> &VarMap {
            &self.varmap
        }
        fn samples_per_step(&self) -> u64 {
            1
        }
        fn batch_loss(&self, _: &mut StdRng) -> Result<Tensor, TrainError> {
            self.calls.set(self.calls.get() + 1);
            let w = self.varmap.all_vars()[0].as_tensor().clone();
            if self.infinite_gradient {
                return Ok((w - 1.0)?.sqrt()?.sum_all()?);
            }
            let loss = w.sqr()?.sum_all()?;
            Ok(if self.calls.get() >= self.nan_from {
                (loss * f64::NAN)?
            } else {
                loss
            })
        }
        fn evaluate(&mut self) -> Result<(), TrainError> {
            Ok(())
        }
        fn count_step(&mut self) {}
        fn samples_trained(&self) -> u64 {
            0
        }
        fn held_out_loss(&self) -> Option<f32> {
            None
        }
        fn parameters(&self) -> usize {
            2
        }
        fn settings(&self) -> Settings {
            Settings::from([("lr".to_string(), "0.1".to_string())])
        }
    }

    fn options() -> LoopOptions {
        LoopOptions {
            steps: 10,
            lr: 0.1,
            warmup: 0,
            clip: 0.0,
            adamw: AdamWConfig::default(),
            seed: 0,
            eval_every: 0,
            save_every: 2,
        }
    }

    fn toy(nan_from: u64) -> NanAt {
        let varmap = VarMap::new();
        Toy::build(
            &serde_json::Value::Null,
            VarBuilder::from_varmap(&varmap, DType::F32, &Device::Cpu),
        )
        .unwrap();
        NanAt {
            varmap,
            meta: serde_json::json!({ "version": 1 }),
            calls: Cell::new(0),
            nan_from,
            infinite_gradient: false,
        }
    }

    fn out(name: &str) -> PathBuf {
        let d = std::env::temp_dir().join(format!("training-{}-{name}", std::process::id()));
        let _ = std::fs::remove_dir_all(&d);
        std::fs::create_dir_all(&d).unwrap();
        d.join("m.safetensors")
    }

    #[test]
    fn a_non_finite_loss_stops_training_and_keeps_the_last_good_checkpoint() {
        let path = out("nan");
        let stop = AtomicBool::new(false);
        let err = run(&mut toy(5), &options(), &path, false, &stop, |_| {})
            .err()
            .unwrap()
            .to_string();
        assert_eq!(
            err,
            format!(
                "step 5: the training loss is NaN; training stopped ({} keeps the checkpoint of \
                 step 4)",
                path.display()
            )
        );
        assert!(load::<Toy>(&path).is_ok());
        assert_eq!(load_train_state(&path).unwrap().1, 4);
        let path = out("nan-first");
        let err = run(&mut toy(1), &options(), &path, false, &stop, |_| {})
            .err()
            .unwrap()
            .to_string();
        assert!(err.contains("nothing was written"), "{err}");
        assert!(!path.exists());
        let mut steep = NanAt {
            infinite_gradient: true,
            ..toy(99)
        };
        let err = run(&mut steep, &options(), &path, false, &stop, |_| {})
            .err()
            .unwrap()
            .to_string();
        assert!(
            err.starts_with("step 1: the gradient norm is inf; training stopped"),
            "{err}"
        );
        let w = steep.varmap.all_vars()[0]
            .as_tensor()
            .to_vec1::<f32>()
            .unwrap();
        assert_eq!(w, [1.0, 1.0], "the update was not applied");
    }

    #[test]
    fn options_that_cannot_train_are_refused_by_name() {
        let path = out("options");
        let stop = AtomicBool::new(false);
        for (opts, want) in [
            (
                LoopOptions {
                    lr: f64::NAN,
                    ..options()
                },
                "lr NaN: must be a finite number > 0",
            ),
            (
                LoopOptions {
                    clip: f64::INFINITY,
                    ..options()
                },
                "clip inf: must be a finite number >= 0",
            ),
        ] {
            let err = run(&mut toy(99), &opts, &path, false, &stop, |_| {})
                .err()
                .unwrap()
                .to_string();
            assert_eq!(err, want);
        }
        assert!(!path.exists());
    }

    #[test]
    fn a_resume_names_each_changed_setting() {
        let path = out("settings");
        run(
            &mut toy(99),
            &options(),
            &path,
            false,
            &AtomicBool::new(false),
            |_| {},
        )
        .unwrap();
        let same = Settings::from([("lr".to_string(), "0.1".to_string())]);
        assert_eq!(changed_settings(&path, &same).unwrap(), Some(vec![]));
        let now = Settings::from([
            ("lr".to_string(), "0.2".to_string()),
            ("seed".to_string(), "3".to_string()),
        ]);
        assert_eq!(
            changed_settings(&path, &now).unwrap().unwrap(),
            vec![
                "lr: checkpoint 0.1, now 0.2".to_string(),
                "seed: checkpoint (not recorded), now 3".to_string()
            ]
        );
    }
}
